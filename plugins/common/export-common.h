/* export-common.h: helpers shared by the export sinks (jsonl, csv, sqlite)
 * (compiled into both modules, not part of the ABI).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-stage.h>
#include <galley/galley-output.h>

G_BEGIN_DECLS

/* Expands strftime patterns (%Y-%m-%d) in @pattern with the local time
 * now, then {run} to @run_id (six digits at least), or, when a file with
 * {run} as a higher number exists in the directory ({run} once in the
 * base name), to one more than the highest: an earlier run's output is
 * never replaced, also when the state directory was reset. With {run}
 * elsewhere, an existing file is an error (GALLEY_OUTPUT_ERROR_CREATE). */
char    *export_expand_path (const char *pattern, gint64 run_id, GError **error);

/* The same without the run: {run} is left as it is (the name of the
 * family of files numbered by run). */
char    *export_expand_family (const char *pattern, GError **error);

/* Which stream targets (a character device, FIFO or socket, also behind
 * a symbolic link) a sink can write through. */
typedef enum {
  EXPORT_STREAMS_UNLESS_COMMITTED,  /* yes, unless the run has a state directory or is sharded */
  EXPORT_STREAMS_NO_APPEND,         /* never: append mode needs a file it can cut back */
  EXPORT_STREAMS_NEVER,             /* never: the sink needs a regular file (a database) */
} ExportStreams;

/* Checks, creating nothing, that @path can be written (galley_output_check()):
 * not a directory, its directory exists (or may be created when @do_mkdir)
 * and is writable, and a stream only where @streams allows it. Errors are
 * GALLEY_OUTPUT_ERROR_CREATE (exit 73), starting "path: ". */
gboolean export_check_target (GalleyStageContext *ctx, const char *path, gboolean do_mkdir, ExportStreams streams,
                              GalleyOutputKind *kind, GError **error);

/* Creates the parent directory of @path when @do_mkdir. */
gboolean export_make_parent (const char *path, gboolean do_mkdir, GError **error);

/* fsyncs the directory holding @path (best effort). */
void     export_fsync_parent (const char *path);

/* Sets an output error "WHAT PATH: strerror(E)"; CREATE when @what starts
 * with "cannot create", WRITE otherwise. Returns FALSE. */
gboolean export_io_error (GError **error, int e, const char *what, const char *path);

G_END_DECLS
