/* galley-macros.h: export and version macros shared by all public headers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(GALLEY_INSIDE) && !defined(GALLEY_COMPILATION)
# error "Only <galley/galley.h> or <galley/galley-stage.h> can be included directly."
#endif

#include <glib.h>

#if defined(_WIN32)
# define GALLEY_EXPORT __declspec(dllexport)
#else
# define GALLEY_EXPORT __attribute__((visibility ("default")))
#endif

/* Public functions of libgalley-1 are marked with GALLEY_API. */
#define GALLEY_API GALLEY_EXPORT extern
