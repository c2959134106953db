/* galley-shard.h: shard mode (docs/scale-out.md): what a stage
 * declares it can do (since ABI 1.3), what a stage sees in a shard step,
 * and the work-directory functions of plugin commands that are steps.
 * Included by <galley/galley-stage.h>; not to be included on its own.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(GALLEY_INSIDE) && !defined(GALLEY_COMPILATION)
# error "Only <galley/galley.h> or <galley/galley-stage.h> can be included directly."
#endif

G_BEGIN_DECLS

/* ---- shard mode capabilities (since ABI 1.3) ----------------------------------
 *
 * In shard mode (docs/scale-out.md) the core asks each stage what it can do
 * instead of knowing plugins by name. A pipeline is shardable when its one
 * source splits its input and every sink merges parts. */
typedef enum {
  GALLEY_SHARD_CAPS_NONE = 0,
  /* Sources: in shard mode, reads only the items [first, end) that
   * galley_stage_shard_range() gives, so the N shards read every item once. */
  GALLEY_SHARD_SPLITS_INPUT = 1 << 0,
  /* Sinks: in shard mode, hands its finished output to
   * galley_stage_commit_file() (the core keeps it as the shard's part
   * file); the parts concatenated in shard order, less each later part's
   * header (part_header below), are byte for byte a plain run's output. */
  GALLEY_SHARD_MERGES_PARTS = 1 << 1,
} GalleyShardCaps;

/* How many tasks a barrier step has in a sharded run. */
typedef enum {
  GALLEY_SHARD_STEP_ONCE,        /* one task */
  GALLEY_SHARD_STEP_PER_SHARD,   /* one per shard: `--shard I/N` */
  GALLEY_SHARD_STEP_PER_PART,    /* one per part, parts from count_parts(): `PART_OPTION K` */
} GalleyShardStepKind;

/* A step that a stage comparing documents with each other (dedup) runs
 * between the map steps and the filter steps. The core runs it as the
 * plugin's command, `galley PLUGIN COMMAND FILE --work DIR` plus the
 * task's argument, and its completion marker is COMMAND, COMMAND-I or
 * COMMAND-K in the work directory (galley_shard_step_begin()). */
typedef struct {
  const char          *command;       /* "bucket" */
  GalleyShardStepKind  kind;
  const char          *part_option;   /* PER_PART: the option taking the part ("--band") */
  /*< private >*/
  gpointer             reserved[4];
} GalleyShardBarrierStep;

typedef struct {
  GalleyShardCaps caps;
  /* Optional: refuses options shard mode cannot honour (a sink writing
   * standard output, a file appended to), before anything is read, with
   * GALLEY_CONFIG_ERROR. @opts are the stage's parsed options. */
  gboolean (*check)       (const GalleyOptions *opts, GError **error);
  /* Sinks, optional: the number of bytes at the start of @part (a byte
   * order mark, a header row) that only the first part keeps; the merge
   * leaves them out of the later parts. NULL: none. -1 with *error set
   * when @part cannot be read. */
  gssize   (*part_header) (const GalleyOptions *opts, const char *part, GError **error);
  /* Sinks, optional: whether the merged target is synced to disk before it
   * replaces the old one (a sink's own `fsync` option); NULL: it is. */
  gboolean (*merge_syncs) (const GalleyOptions *opts);
  /* Stages that compare documents with each other: the steps run between
   * the map steps (the pipeline up to and including this stage, whose
   * process() sees the shard's documents) and the filter steps (the
   * pipeline from this stage on, `galley PLUGIN filter FILE --shard I/N
   * --work DIR`, run by the core), in order, ending with { NULL }. A
   * pipeline may have one such stage. */
  const GalleyShardBarrierStep *steps;
  /* With PER_PART steps: how many parts the stage's options give (dedup:
   * its bands plus two), or -1 with *error set. */
  gint64   (*count_parts) (const GalleyOptions *opts, GError **error);
  /*< private >*/
  gpointer reserved[6];
} GalleyShardInfo;

/* ---- shard mode (since ABI 1.2) ----------------------------------------------
 *
 * `galley run FILE --shard I/N --work DIR` and the steps after it run one
 * part of a pipeline on one part of the input; see docs/scale-out.md. */

/* TRUE in shard mode, with the shard's number (0..N-1) and N. Outside shard
 * mode FALSE, with 0 and 1. */
GALLEY_API gboolean    galley_stage_context_get_shard      (GalleyStageContext *ctx, guint *index, guint *count);
/* The shard step running ("map" or "filter"), or NULL outside shard mode. */
GALLEY_API const char *galley_stage_context_get_shard_step (GalleyStageContext *ctx);
/* The shared work directory, or NULL outside shard mode. */
GALLEY_API const char *galley_stage_context_get_work_dir   (GalleyStageContext *ctx);
/* Sources: the items [*first, *end) of @total (files, records, in their
 * sorted order) that this shard reads: the I-th of N contiguous ranges,
 * [floor(I*T/N), floor((I+1)*T/N)). Outside shard mode [0, @total). */
GALLEY_API void        galley_stage_shard_range            (GalleyStageContext *ctx, gint64 total,
                                                            gint64 *first, gint64 *end);
/* Since ABI 1.3. A stage with barrier steps, in a map step: @relpath (under
 * the work directory) is a file it wrote for the later steps; the map
 * step's completion marker lists it with its size, so that a later step
 * finds a missing or truncated file before it reads it. */
GALLEY_API void        galley_stage_shard_add_output       (GalleyStageContext *ctx, const char *relpath);

/* Plugin commands that are steps of the shard protocol (`galley dedup
 * bucket`): the core checks the work directory and takes the step's lock
 * in begin(), checks the markers the step needs with need(), and writes
 * the step's completion marker in done(). */
typedef struct _GalleyShardStep GalleyShardStep;
/* @step: the marker name ("bucket-3"); @plugin: the stage whose options
 * are returned by get_options() (the first of that plugin in the file).
 * Errors: GALLEY_CONFIG_ERROR for a foreign or uninitialised work
 * directory (exit 78), G_IO_ERROR_BUSY when another instance runs (75). */
GALLEY_API GalleyShardStep     *galley_shard_step_begin       (const char *pipeline_file, const char *work_dir,
                                                               const char *step, const char *plugin,
                                                               GError **error);
GALLEY_API const GalleyOptions *galley_shard_step_get_options (GalleyShardStep *step);
GALLEY_API const char          *galley_shard_step_get_stage_id (GalleyShardStep *step);
GALLEY_API guint                galley_shard_step_get_shards  (GalleyShardStep *step);
GALLEY_API const char          *galley_shard_step_get_work_dir (GalleyShardStep *step);
/* Fails (G_IO_ERROR_NOT_FOUND, exit 66) when marker @name is missing or a
 * file it lists is missing or has another size. */
GALLEY_API gboolean             galley_shard_step_need        (GalleyShardStep *step, const char *name, GError **error);
/* Writes the marker, listing @outputs (paths relative to the work dir,
 * NULL-terminated, may be NULL) with their sizes. */
GALLEY_API gboolean             galley_shard_step_done        (GalleyShardStep *step, const char *const *outputs,
                                                               GError **error);
/* Releases the lock. */
GALLEY_API void                 galley_shard_step_free        (GalleyShardStep *step);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyShardStep, galley_shard_step_free)
/* Writes @len bytes to @path atomically (temp file, fsync, rename). */
GALLEY_API gboolean             galley_shard_write_file       (const char *path, const char *data, gsize len,
                                                               GError **error);

G_END_DECLS
