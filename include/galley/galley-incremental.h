/* galley-incremental.h: incremental runs and exactly-once output:
 * what sources record of their inputs and how sinks commit their files
 * (since ABI 1.1; see docs/plugin-guide.md).
 * Included by <galley/galley-stage.h>; not to be included on its own.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(GALLEY_INSIDE) && !defined(GALLEY_COMPILATION)
# error "Only <galley/galley.h> or <galley/galley-stage.h> can be included directly."
#endif

G_BEGIN_DECLS

/* ---- incremental runs and exactly-once output (since ABI 1.1) ----
 *
 * With `state-dir` in [pipeline], what sources record with
 * galley_stage_input_done() and the files sinks hand over with
 * galley_stage_commit_file() are committed together at the end of a
 * successful run; see the plugin guide. Without it, lookups find nothing,
 * records are ignored and commit_file() renames at once. */
typedef struct {
  gint64  size;     /* bytes of the input when it was read */
  gint64  mtime;    /* its modification time, microseconds since the epoch */
  gint64  offset;   /* bytes consumed (a growing file resumes here), or -1 */
  gint64  lines;    /* lines consumed up to offset, or -1 */
  guint64 hash;     /* a fingerprint chosen by the source, or 0 */
} GalleyInputState;

/* TRUE when the run has a state directory: sources should then record what
 * they read (also under --full, which only makes lookups find nothing).
 * Under `galley check`, which opens no state, TRUE when the pipeline names
 * one, so that init() judges its options as in the run. */
GALLEY_API gboolean galley_stage_is_incremental (GalleyStageContext *ctx);
/* Sources: what an earlier committed run recorded for @key (a path, a URL),
 * or FALSE when it is new (always FALSE without a state directory or with
 * --full). */
GALLEY_API gboolean galley_stage_input_lookup   (GalleyStageContext *ctx, const char *key, GalleyInputState *out);
/* Sources: @key was read completely (or up to state->offset); committed
 * with the run's outputs. Calling it again for the same key replaces the
 * record, so a source reading a long file can record after each document. */
GALLEY_API void     galley_stage_input_done     (GalleyStageContext *ctx, const char *key,
                                                 const GalleyInputState *state);
/* Sinks, from finish(): puts the finished, fsynced @tmp_path in place as
 * @path: at once without a state directory, else after the run commits
 * (and, if the process dies in between, at the start of the next run). The
 * sink must no longer touch or remove @tmp_path after a TRUE return. */
GALLEY_API gboolean galley_stage_commit_file    (GalleyStageContext *ctx, const char *tmp_path, const char *path,
                                                 GError **error);
/* Sinks that append, after creating and locking @path: the length of @path
 * that the last committed run left, or -1 when unknown (no state
 * directory); a sink truncates a longer file to it before appending (the
 * tail is from a run that never committed). For a file the ledger does not
 * know yet, the length it has now, kept durably until the run commits, so
 * that a first run killed before its commit is cut back too. */
GALLEY_API gint64   galley_stage_committed_length (GalleyStageContext *ctx, const char *path);
/* Sinks that append: records @path's length after this run's writes (fsync
 * them first); committed with the run. A run that does not commit cuts
 * @path back to where it began to append before it exits. */
GALLEY_API void     galley_stage_set_committed_length (GalleyStageContext *ctx, const char *path, gint64 length);
/* Since ABI 1.3. Sinks that append to @path, or write a file per run
 * (@path with {run} left in it: out/news-{run}.jsonl), from init(): with a
 * state directory, makes @path that state directory's with a mark
 * .NAME.galley-owner beside it (creating missing parent directories), and
 * fails with GALLEY_OUTPUT_ERROR_CREATE (exit 73) when the mark names
 * another state directory, whose committed output this run would cut off
 * or replace. TRUE without a state directory, under `galley check` and
 * --dry-run. */
GALLEY_API gboolean galley_stage_claim_file     (GalleyStageContext *ctx, const char *path, GError **error);
/* A number unique to this run: the run's number in the state directory, else
 * the start time in seconds. Sinks use it in file names ({run}). */
GALLEY_API gint64   galley_stage_context_get_run_id (GalleyStageContext *ctx);

G_END_DECLS
