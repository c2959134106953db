/* galley-stage.h: everything a plugin author needs.
 *
 * A plugin is a shared module named galley-NAME.so that exports one
 * function, galley_stage_query(), returning a constant GalleyStageInfo.
 * Write it with GALLEY_STAGE_DEFINE(). See docs/plugin-guide.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#ifndef GALLEY_INSIDE
# define GALLEY_INSIDE
# define GALLEY_STAGE_H_DEFINED_INSIDE
#endif

#include <galley/galley-macros.h>
#include <galley/galley-error.h>
#include <galley/galley-exit.h>
#include <galley/galley-json.h>
#include <galley/galley-date.h>
#include <galley/galley-options.h>
#include <galley/galley-document.h>
#include <galley/galley-version.h>
#include <gio/gio.h>

#ifdef GALLEY_STAGE_H_DEFINED_INSIDE
# undef GALLEY_INSIDE
# undef GALLEY_STAGE_H_DEFINED_INSIDE
#endif

G_BEGIN_DECLS

/* The stage ABI. A plugin is loaded when its major equals the core's and
 * its minor is not greater than the core's. */
enum {
  GALLEY_STAGE_ABI_MAJOR = GALLEY_STAGE_ABI_MAJOR_VERSION,
  GALLEY_STAGE_ABI_MINOR = GALLEY_STAGE_ABI_MINOR_VERSION
};

/* Name of the one symbol every plugin exports. */
#define GALLEY_STAGE_QUERY_SYMBOL "galley_stage_query"

typedef enum {
  GALLEY_VERDICT_KEEP,   /* pass the document on (possibly modified) */
  GALLEY_VERDICT_DROP,   /* remove it; return galley_stage_drop() to give a reason */
  GALLEY_VERDICT_ERROR,  /* failed; *error is set; on-error decides what follows */
} GalleyVerdict;

typedef enum {
  GALLEY_KIND_SOURCE,    /* produces documents with next() */
  GALLEY_KIND_STAGE,     /* transforms documents with process() */
  GALLEY_KIND_SINK,      /* writes documents with process() and passes them on */
} GalleyStageKind;

typedef enum {
  GALLEY_STAGE_FLAGS_NONE = 0,
  /* process() may run on several threads at once with the same state.
   * Stages without it are called from one thread at a time, in input order. */
  GALLEY_STAGE_THREAD_SAFE = 1 << 0,
} GalleyStageFlags;

/**
 * GalleyStageContext:
 *
 * The core's handle for one configured stage, passed to every callback.
 * All functions taking it are thread-safe.
 */
typedef struct _GalleyStageContext GalleyStageContext;

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

typedef struct _GalleyStageInfo GalleyStageInfo;
struct _GalleyStageInfo {
  guint16                 abi_major;
  guint16                 abi_minor;
  const char             *name;          /* must match the file: galley-NAME.so */
  const char             *description;   /* one line */
  const char             *version;       /* the plugin's own version */
  GalleyStageKind         kind;
  GalleyStageFlags        flags;
  const GalleyOptionSpec *options;       /* ends with { NULL }; may be NULL */

  /* Validates options and builds the state. Must not create anything
   * irreversible: `galley check` calls init() then free(). Return NULL with
   * *error set on failure. A stateless plugin may return any non-NULL
   * pointer, e.g. GINT_TO_POINTER (1), with free NULL. */
  gpointer      (*init)    (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error);
  /* Stages and sinks: handle one borrowed document. */
  GalleyVerdict (*process) (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error);
  /* Sources: return TRUE with a new document in *out (the core takes it),
   * FALSE with *out NULL at the end, or FALSE with *error set on a fatal
   * error. Problems with a single input are reported with
   * galley_stage_reject() or galley_stage_skip() and do not end the source. */
  gboolean      (*next)    (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error);
  /* Called once after the last document (flush, commit). May be NULL. */
  gboolean      (*finish)  (gpointer state, GalleyStageContext *ctx, GError **error);
  /* Frees the state from init(); also called without finish() after a
   * failed run or by `galley check`. May be NULL. */
  void          (*free)    (gpointer state);

  /* Since ABI 1.1, optional, stages and sinks only. Work on one document
   * that may run before process() on another thread, concurrently with
   * prepare() of other documents and with process() of earlier ones, even
   * when the stage is not GALLEY_STAGE_THREAD_SAFE: it must only read the
   * state. Keep what process() needs with galley_document_set_stage_data().
   * Returns a verdict like process(); DROP and ERROR mean process() is not
   * called for this document. */
  GalleyVerdict (*prepare) (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error);

  /* Since ABI 1.3, optional: what the stage can do in shard mode; NULL:
   * a pipeline with this stage cannot be sharded (stages without barrier
   * steps are always fine). */
  const GalleyShardInfo *shard;
  /* Since ABI 1.3, optional: the plugin's command, run as `galley NAME
   * ARGS...` (e.g. `galley dedup stats STATE_DIR`); @argv[0] is "galley
   * NAME". Returns an exit status (galley-exit.h). */
  int           (*command) (int argc, char **argv);

  /*< private >*/
  gpointer      reserved[5];             /* new members land here (minor bump) */
};

/* Declares the plugin's query function. Use once per module. */
#define GALLEY_STAGE_DEFINE(info)                                              \
  GALLEY_EXPORT const GalleyStageInfo *galley_stage_query (void);              \
  GALLEY_EXPORT const GalleyStageInfo *galley_stage_query (void) { return &(info); }

typedef const GalleyStageInfo *(*GalleyStageQueryFunc) (void);

/* Before ABI 1.3 a plugin exported its command as a second symbol with
 * GALLEY_COMMAND_DEFINE (func); such modules still work, and the symbol is
 * still looked up when the descriptor has no command. Since 1.3 set the
 * descriptor's `command` member instead. */
#define GALLEY_COMMAND_SYMBOL "galley_plugin_command"
typedef int (*GalleyCommandFunc) (int argc, char **argv);
#define GALLEY_COMMAND_DEFINE(func)                                            \
  GALLEY_EXPORT int galley_plugin_command (int argc, char **argv);             \
  GALLEY_EXPORT int galley_plugin_command (int argc, char **argv) { return func (argc, argv); }

/* The stage id from the pipeline file ("dedup" in [stage dedup]). */
GALLEY_API const char *galley_stage_context_get_id       (GalleyStageContext *ctx);
/* The plugin name ("dedup"). */
GALLEY_API const char *galley_stage_context_get_plugin   (GalleyStageContext *ctx);
/* Number of worker threads of the run. */
GALLEY_API guint       galley_stage_context_get_threads  (GalleyStageContext *ctx);
/* TRUE under `galley run --dry-run` and `galley check`: write nothing. */
GALLEY_API gboolean    galley_stage_context_is_dry_run   (GalleyStageContext *ctx);

/**
 * galley_stage_drop:
 * @reason: kebab-case reason, e.g. "too-short"; counted per stage
 *
 * Records why process() drops the current document.
 *
 * Returns: %GALLEY_VERDICT_DROP, so `return galley_stage_drop (ctx, "x");`
 */
GALLEY_API GalleyVerdict galley_stage_drop (GalleyStageContext *ctx, const char *reason);

/* Adds @n to a custom counter @name (kebab-case) shown in the stats file. */
GALLEY_API void galley_stage_count (GalleyStageContext *ctx, const char *name, gint64 n);

/**
 * galley_stage_reject:
 * @source: where the input came from (path, "path:line")
 * @line: line number, or 0
 * @raw: (nullable): the offending input, kept so nothing is lost
 * @raw_len: its length, -1 if NUL-terminated
 * @error: why
 *
 * Sources: writes an input that could not become a document to the
 * rejects file and counts it as failed. If the stage's on-error is `fail`
 * the run stops after the documents already produced.
 *
 * Returns: %TRUE if the source should go on, %FALSE if the run is stopping.
 */
GALLEY_API gboolean galley_stage_reject (GalleyStageContext *ctx, const char *source, gint64 line,
                                         const char *raw, gssize raw_len, const GError *error);

/* Sources: counts an input deliberately skipped (e.g. "binary-file") as
 * dropped with @reason; @source is logged at debug level. */
GALLEY_API void galley_stage_skip (GalleyStageContext *ctx, const char *source, const char *reason);

/* TRUE once the run is stopping because something failed: sources should
 * return. Still valid in free(), where it tells a stage whether the run as
 * a whole failed (a stage, a sink's finish()), so state can be committed
 * only after a successful run. Report a held lock with G_IO_ERROR_BUSY
 * (exit 75). */
GALLEY_API gboolean galley_stage_is_cancelled (GalleyStageContext *ctx);
/* Since ABI 1.3: (transfer none) cancelled when the run is asked to stop
 * (SIGTERM, SIGINT) or fails. Sources pass it to reads that can block (a
 * pipe, a FIFO, a socket) so that a stop wakes them; a read cancelled by
 * a stop may end the source without an error (or with
 * G_IO_ERROR_CANCELLED, which the core then treats as the stop). */
GALLEY_API GCancellable *galley_stage_context_get_cancellable (GalleyStageContext *ctx);

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

/* Since ABI 1.1: data a stage keeps on a document, typically from prepare()
 * for process(). One slot per stage; setting it again destroys the old
 * value; the value is destroyed with the document. */
GALLEY_API void     galley_document_set_stage_data   (GalleyDocument *doc, GalleyStageContext *ctx,
                                                      gpointer data, GDestroyNotify destroy);
/* (transfer none) the stage's data, or NULL. */
GALLEY_API gpointer galley_document_get_stage_data   (GalleyDocument *doc, GalleyStageContext *ctx);
/* (transfer full) removes the stage's data without destroying it. */
GALLEY_API gpointer galley_document_steal_stage_data (GalleyDocument *doc, GalleyStageContext *ctx);

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
