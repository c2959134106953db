/* galley-input.h: input helpers of libgalley-1 for source plugins.
 *
 * The types live in the library so that they are registered once per
 * process, however many plugin modules use them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#ifndef GALLEY_INSIDE
# define GALLEY_INSIDE
# define GALLEY_INPUT_H_DEFINED_INSIDE
#endif

#include <galley/galley-macros.h>

#ifdef GALLEY_INPUT_H_DEFINED_INSIDE
# undef GALLEY_INSIDE
# undef GALLEY_INPUT_H_DEFINED_INSIDE
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

/* A GInputStream that inflates gzip data read from its base stream, every
 * member of it (a file made by `cat a.gz b.gz`, pigz or bgzip is read
 * whole). Data that ends inside a member fails with
 * G_IO_ERROR_PARTIAL_INPUT, corrupt data with G_IO_ERROR_INVALID_DATA. */
#define GALLEY_TYPE_GZIP_INPUT_STREAM (galley_gzip_input_stream_get_type ())
GALLEY_API
G_DECLARE_FINAL_TYPE (GalleyGzipInputStream, galley_gzip_input_stream, GALLEY, GZIP_INPUT_STREAM, GInputStream)

/* A new stream reading gzip data from @base (which it references). */
GALLEY_API GInputStream *galley_gzip_input_stream_new (GInputStream *base);

G_END_DECLS
