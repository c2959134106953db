/* galley.h: umbrella header for libgalley-1.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define GALLEY_INSIDE
#include <galley/galley-macros.h>
#include <galley/galley-error.h>
#include <galley/galley-exit.h>
#include <galley/galley-json.h>
#include <galley/galley-date.h>
#include <galley/galley-options.h>
#include <galley/galley-output.h>
#include <galley/galley-input.h>
#include <galley/galley-document.h>
#include <galley/galley-stage.h>
#include <galley/galley-harness.h>
#include <galley/galley-version.h>
#undef GALLEY_INSIDE
