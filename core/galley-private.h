/* galley-private.h: core internals shared by libgalley-1, the runner and
 * the tests. Not installed; nothing here is part of the plugin ABI.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley.h>
#include <galley/galley-runner.h>

G_BEGIN_DECLS

/* The exit codes (GalleyExitCode) and galley_error_to_exit_code() are
 * public: <galley/galley-exit.h>. */
#include <galley/galley-exit.h>

/* ---- options ---------------------------------------------------------- */

GalleyOptions *galley_options_new  (const GalleyOptionSpec *specs);
void           galley_options_free (GalleyOptions *opts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyOptions, galley_options_free)
/* Parses @value for option @name; errors name the option but not the file. */
gboolean galley_options_set (GalleyOptions *opts, const char *name, const char *value, GError **error);
/* Applies defaults; fails on a missing required option. */
gboolean galley_options_finalize (GalleyOptions *opts, GError **error);
/* Checks every min and max of a table and parses every default, in range;
 * the loader refuses a plugin whose table fails this. */
gboolean galley_option_specs_check_defaults (const GalleyOptionSpec *specs, GError **error);
const GalleyOptionSpec *galley_option_spec_find (const GalleyOptionSpec *specs, const char *name);
const char *galley_opt_type_to_string (GalleyOptType type);
/* Comma-separated list of the option names, for error messages. */
char *galley_option_specs_list_names (const GalleyOptionSpec *specs, const char *const *extra);
/* galley_suggest_hint() over the option names and @extra. */
char *galley_option_specs_suggest (const GalleyOptionSpec *specs, const char *const *extra, const char *word);

/* ---- suggestions (galley-suggest.c) -------------------------------------- */

/* The candidate nearest to @word by edit distance (ASCII case ignored), if
 * near enough to be a misspelling of it, else NULL. */
const char *galley_suggest      (const char *word, const char *const *candidates);
/* "; did you mean 'NAME'?" or "" (free it). */
char       *galley_suggest_hint (const char *word, const char *const *candidates);

/* ---- plugins ---------------------------------------------------------- */

typedef struct {
  char                  *name;
  char                  *path;      /* the module file */
  const GalleyStageInfo *info;
  GalleyCommandFunc      command;   /* optional `galley NAME ...` command */
} GalleyPlugin;

/* Search path, in order: --plugin-dir entries, GALLEY_PLUGIN_PATH, the
 * build tree when the runner runs uninstalled, then the install dir
 * (replaced by GALLEY_PLUGIN_SYSTEM_PATH when that is set, even empty). */
void                galley_plugin_add_search_dir (const char *dir);
char              **galley_plugin_get_search_path (void);
/* Loads (once) and checks galley-NAME. The result lives until exit. */
const GalleyPlugin *galley_plugin_load (const char *name, GError **error);
/* Loads the module at @path and checks it (used by inspect and tests). */
const GalleyPlugin *galley_plugin_load_file (const char *path, const char *expected_name, GError **error);
/* Names of all galley-*.so modules found in the search path, sorted. */
char              **galley_plugin_list_available (void);
const char         *galley_stage_kind_to_string (GalleyStageKind kind);
/* galley-plugin-compat.c: @info as the current ABI lays it out: @info itself
 * for ABI 1.3 and later, else a copy with its option table in the current
 * row layout (and the members its minor lacks NULL). Call only after the
 * major and minor were checked. */
const GalleyStageInfo *galley_stage_info_upgrade      (const GalleyStageInfo *info);
/* Frees what galley_stage_info_upgrade() made from @original, if anything. */
void                   galley_stage_info_upgrade_free (const GalleyStageInfo *upgraded,
                                                       const GalleyStageInfo *original);

/* ---- pipeline --------------------------------------------------------- */

typedef enum {
  GALLEY_ON_ERROR_FAIL,
  GALLEY_ON_ERROR_SKIP,
} GalleyOnError;

typedef struct {
  char               *id;
  const GalleyPlugin *plugin;
  GalleyOptions      *options;
  GalleyOnError       on_error;
} GalleyStageConfig;

typedef struct {
  char       *path;           /* the pipeline file */
  char       *name;           /* its basename without .pipeline */
  char       *description;
  GPtrArray  *stages;         /* GalleyStageConfig*, in order */
  guint       threads;        /* 0 = number of cores */
  guint64     batch_size;     /* documents per batch */
  char       *stats_path;     /* "" to disable */
  char       *rejects_path;
  char       *state_dir;      /* NULL: no incremental state */
  char       *metrics_path;   /* NULL: no Prometheus textfile */
  char       *dropped_path;   /* NULL: dropped documents are not kept */
  char       *report_path;    /* NULL: no HTML report */
  guint       report_samples; /* documents per stage in the report */
} GalleyPipeline;

/* What galley_pipeline_load() calls the pipeline read from standard
 * input (@path "-") in messages; its name is "stdin". */
#define GALLEY_PIPELINE_STDIN_PATH "(standard input)"
GalleyPipeline *galley_pipeline_load (const char *path, const char *const *overrides, GError **error);
void            galley_pipeline_free (GalleyPipeline *pipeline);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyPipeline, galley_pipeline_free)

/* ---- runner ----------------------------------------------------------- */

typedef struct {
  gboolean    dry_run;        /* run stages but no sinks */
  gboolean    check_only;     /* init and free every stage, read nothing */
  gboolean    progress;       /* live progress on stderr */
  gboolean    quiet;          /* no summary line */
  gboolean    verbose;        /* per-stage lines after the summary */
  guint       threads;        /* overrides the pipeline when > 0 */
  const char *stats_path;     /* overrides the pipeline when non-NULL */
  const char *rejects_path;   /* overrides the pipeline when non-NULL */
  gboolean    full;           /* ignore what the state directory remembers */
  double      wait_seconds;   /* wait this long for the state lock */
  gint64      limit;          /* read at most this many documents; 0: all */
  /* shard mode (galley-shard.c): NULL work_dir outside it */
  const char *work_dir;
  const char *shard_step;     /* "map" or "filter" */
  GPtrArray  *shard_outputs;  /* map: files the stages wrote for later steps (relative paths) */
  guint       shard_index;
  guint       shard_count;
} GalleyRunOptions;

/* The stage's shard capabilities, or NULL: read only from plugins built for
 * ABI 1.3 or later (older ones have a reserved slot there). */
static inline const GalleyShardInfo *
galley_stage_info_get_shard (const GalleyStageInfo *info)
{
  return info->abi_minor >= 3 ? info->shard : NULL;
}

/* Makes SIGTERM and SIGINT stop a run cleanly (read no more, commit what
 * is in flight) from now on; galley_pipeline_run() does it too. */
void galley_runner_catch_stop_signals (void);

/* Runs the pipeline. Returns a sysexits code; *error is set when it is not 0. */
int galley_pipeline_run (GalleyPipeline *pipeline, const GalleyRunOptions *options, GError **error);


/* galley-shard.c: the shard protocol (docs/scale-out.md). @step is "map"
 * (galley run --shard) or "filter" (galley dedup filter). */
int galley_shard_run   (const char *pipeline_file, const char *step, guint index, guint count,
                                   const char *work_dir, GalleyRunOptions *opts, GError **error);
int galley_shard_merge (const char *pipeline_file, const char *work_dir, GError **error);
int galley_shard_init  (const char *pipeline_file, const char *work_dir, guint count, GError **error);
/* Whether the stage declares barrier steps (ABI 1.3), and the first such
 * stage of @p, or -1. */
gboolean galley_stage_config_has_barrier (const GalleyStageConfig *sc);
gint     galley_pipeline_find_barrier    (const GalleyPipeline *p);
/* Moves a sink's finished file to its part file in shard mode. */
gboolean galley_shard_commit_part (const char *work_dir, const char *stage_id, guint index, const char *tmp_path,
                                   const char *path, GError **error);

/* ---- documents -------------------------------------------------------- */
/* Repairs recorded on the document, as a JSON array, or NULL. */
json_object *galley_document_repairs_to_json (const GalleyDocument *doc);

G_END_DECLS
