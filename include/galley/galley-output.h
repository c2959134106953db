/* galley-output.h: writing output files of libgalley-1 (stats, metrics and
 * sink outputs).
 *
 * The rule: a regular file is written only over a regular file or over
 * nothing, by a temporary file in the same directory renamed over it, so
 * readers never see half a file. A symbolic link is followed, and the file
 * it points to is replaced (the link stays). A character device, FIFO or
 * socket (/dev/stdout, /dev/null, a named pipe), directly or through a
 * link, is written through: opened for writing, never replaced. A
 * directory or a block device is refused.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#ifndef GALLEY_INSIDE
# define GALLEY_INSIDE
# define GALLEY_OUTPUT_H_DEFINED_INSIDE
#endif

#include <galley/galley-macros.h>
#include <galley/galley-error.h>
#include <galley/galley-stage.h>

#ifdef GALLEY_OUTPUT_H_DEFINED_INSIDE
# undef GALLEY_INSIDE
# undef GALLEY_OUTPUT_H_DEFINED_INSIDE
#endif

G_BEGIN_DECLS

typedef enum {
  GALLEY_OUTPUT_KIND_NEW,      /* nothing there yet: a new regular file is made */
  GALLEY_OUTPUT_KIND_REGULAR,  /* a regular file, replaced by temporary file and rename */
  GALLEY_OUTPUT_KIND_STREAM,   /* a character device, FIFO or socket, written through */
} GalleyOutputKind;

typedef enum {
  GALLEY_OUTPUT_FLAGS_NONE = 0,
  GALLEY_OUTPUT_MKDIR      = 1 << 0,  /* missing parent directories are (to be) created */
} GalleyOutputFlags;

/* Checks, creating nothing, that @path can be written, following symbolic
 * links. Returns its kind in @kind and in @target (may be NULL; free it)
 * the path a rename must replace: the file the last link points to, or
 * @path. Fails with GALLEY_OUTPUT_ERROR_CREATE (exit 73) and a message
 * naming the path and the problem for a directory, a block device, a link
 * loop, a stream that cannot be written, or a missing or read-only
 * directory for a new file (a missing one is allowed with
 * GALLEY_OUTPUT_MKDIR when its nearest existing ancestor is writable). */
GALLEY_API gboolean galley_output_check (const char *path, GalleyOutputFlags flags, GalleyOutputKind *kind,
                                         char **target, GError **error);

/* A short name of the kind of file @mode describes ("a FIFO", "a
 * character device", ...), for messages. */
GALLEY_API const char *galley_output_describe_mode (guint mode);

typedef struct _GalleyOutputFile GalleyOutputFile;

/* Opens @path for writing by the rule above: a new temporary file beside
 * the target (mode 0666 less the process umask, as a plain create would
 * give), or the stream itself. With GALLEY_OUTPUT_MKDIR, missing parent
 * directories are created. */
GALLEY_API GalleyOutputFile *galley_output_file_open (const char *path, GalleyOutputFlags flags, GError **error);
GALLEY_API int               galley_output_file_get_fd (GalleyOutputFile *file);
GALLEY_API GalleyOutputKind  galley_output_file_get_kind (GalleyOutputFile *file);
/* The file written in the end: the resolved target, or the stream. */
GALLEY_API const char       *galley_output_file_get_target (GalleyOutputFile *file);
/* The temporary file while writing; NULL for a stream. */
GALLEY_API const char       *galley_output_file_get_tmp_path (GalleyOutputFile *file);
/* Writes all of @data (retrying after EINTR). */
GALLEY_API gboolean          galley_output_file_write (GalleyOutputFile *file, const void *data, gsize len,
                                                       GError **error);
/* fsyncs (a regular file, when @do_fsync) and closes the descriptor. */
GALLEY_API gboolean          galley_output_file_close (GalleyOutputFile *file, gboolean do_fsync, GError **error);
/* Closes if still open, renames the temporary file over the target and,
 * when @do_fsync, fsyncs the directory. Nothing more for a stream. */
GALLEY_API gboolean          galley_output_file_commit (GalleyOutputFile *file, gboolean do_fsync, GError **error);
/* The caller has taken over the temporary file (handed it to
 * galley_stage_commit_file(), say): free() no longer removes it. */
GALLEY_API void              galley_output_file_release_tmp (GalleyOutputFile *file);
/* Closes what is open and removes a temporary file not committed. */
GALLEY_API void              galley_output_file_free (GalleyOutputFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyOutputFile, galley_output_file_free)

/* Writes @data (@len -1: NUL-terminated) to @path by the rule above,
 * fsynced. */
GALLEY_API gboolean galley_output_set_contents (const char *path, const char *data, gssize len,
                                                GalleyOutputFlags flags, GError **error);

/* ---- sink targets (since ABI 1.3) --------------------------------------- */

/**
 * galley_output_expand_path:
 * @pattern: a path option, with strftime patterns (%Y-%m-%d) and {run}
 * @run_id: galley_stage_context_get_run_id()
 *
 * Expands the strftime patterns with the local time now, then {run} to
 * @run_id (six digits at least) or, when a file with {run} as a higher
 * number exists in the directory ({run} once in the base name), to one
 * more than the highest: an earlier run's output is never replaced, also
 * when the state directory was reset. With {run} elsewhere, an existing
 * file is an error (GALLEY_OUTPUT_ERROR_CREATE).
 *
 * Returns: (transfer full): the path, or %NULL with @error set
 * (GALLEY_CONFIG_ERROR_INVALID_VALUE when the pattern expands to nothing).
 */
GALLEY_API char *galley_output_expand_path (const char *pattern, gint64 run_id, GError **error);

/* The same without the run: {run} is left as it is (the name of the
 * family of files numbered by run, for galley_stage_commit_file()). */
GALLEY_API char *galley_output_expand_family (const char *pattern, GError **error);

/* Which stream targets (a character device, FIFO or socket, also behind
 * a symbolic link) a sink can write through. */
typedef enum {
  GALLEY_OUTPUT_STREAMS_UNLESS_COMMITTED,  /* yes, unless the run has a state directory or is sharded */
  GALLEY_OUTPUT_STREAMS_NO_APPEND,         /* never: append mode needs a file it can cut back */
  GALLEY_OUTPUT_STREAMS_NEVER,             /* never: the sink needs a regular file (a database) */
} GalleyOutputStreams;

/**
 * galley_output_check_target:
 * @kind: (out) (optional): the kind of target
 *
 * What a sink's init() calls with its expanded path: checks, creating
 * nothing, that @path can be written (galley_output_check()), and that a
 * stream is one only where @streams allows it in this run. Errors are
 * GALLEY_OUTPUT_ERROR_CREATE (exit 73) starting "path: ", with a hint at
 * mkdir=true for a missing directory when @flags lacks GALLEY_OUTPUT_MKDIR.
 */
GALLEY_API gboolean galley_output_check_target (GalleyStageContext *ctx, const char *path, GalleyOutputFlags flags,
                                                GalleyOutputStreams streams, GalleyOutputKind *kind,
                                                GError **error);

/* Creates the missing directories above @path (an output error naming
 * the directory when it cannot). */
GALLEY_API gboolean galley_output_make_parent (const char *path, GError **error);

/* fsyncs the directory holding @path, so that a rename in it lasts
 * (best effort: errors are ignored). */
GALLEY_API void     galley_output_fsync_parent (const char *path);

/**
 * galley_output_set_io_error:
 * @errsv: the errno of the failure
 * @what: what failed, "cannot write" say
 *
 * Sets @error to "WHAT PATH: strerror(ERRSV)", GALLEY_OUTPUT_ERROR_CREATE
 * (exit 73) when @what starts with "cannot create", else
 * GALLEY_OUTPUT_ERROR_WRITE (exit 74).
 *
 * Returns: %FALSE, to return it.
 */
GALLEY_API gboolean galley_output_set_io_error (GError **error, int errsv, const char *what, const char *path);

G_END_DECLS
