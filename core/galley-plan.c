/* galley-plan.c: `galley plan slurm`: prints, never submits, a bash script
 * that submits the steps of the shard protocol to Slurm as a chain of
 * dependent jobs (see docs/scale-out.md).
 *
 *   map array (N) -> bucket array (min(B, N), each task some of the B
 *   bands) -> cluster -> filter array (N) -> merge
 *
 * or map array -> merge for a pipeline without a dedup stage. Every job is
 * submitted with --kill-on-invalid-dep=yes: without it, a job whose
 * dependency failed stays pending forever.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"
#include "galley-plan.h"

#include <stdio.h>
#include <string.h>

#define PLAN_MAX_SHARDS 1000000
#define PLAN_MAX_BANDS  1024

typedef struct {
  gint   shards;
  gint   bands;        /* parts of the per-part steps; 0: from the stage's options */
  char  *work;
  char  *partition;
  char  *time_limit;
  char  *mem;
  char  *cluster_mem;  /* the single-task steps', when they need more */
  char  *galley;
  char **plugin_dirs;
} PlanOptions;

static void
plan_options_clear (PlanOptions *o)
{
  g_free (o->work);
  g_free (o->partition);
  g_free (o->time_limit);
  g_free (o->mem);
  g_free (o->cluster_mem);
  g_free (o->galley);
  g_strfreev (o->plugin_dirs);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlanOptions, plan_options_clear)

static int
plan_usage (GOptionContext *context, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static int
plan_usage (GOptionContext *context, const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  fprintf (stderr, "galley: plan slurm: %s\n", msg);
  if (context != NULL)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      fprintf (stderr, "\n%s", help);
    }
  return GALLEY_EXIT_USAGE;
}

static gboolean
matches (const char *pattern, const char *value)
{
  return g_regex_match_simple (pattern, value, 0, 0);
}

/* An absolute version of @path (not resolved through symlinks: the compute
 * nodes see the same shared file system under the same names). */
static char *
absolute (const char *path)
{
  if (g_path_is_absolute (path))
    return g_canonicalize_filename (path, NULL);
  g_autofree char *cwd = g_get_current_dir ();
  return g_canonicalize_filename (path, cwd);
}

/* One job script, submitted through a quoted here-document: the values are
 * quoted here, once, and nothing in it is expanded at submission time.
 * @count: the shell expression of the array's task count, or "0" for a
 * single job; @body: the script after its first line. */
static void
append_job (GString *s, const char *step, const char *count, const char *extra, const char *body)
{
  g_string_append_printf (s, "submit %s %s%s%s <<'GALLEY_JOB'\n", step, count,
                          extra != NULL ? " " : "", extra != NULL ? extra : "");
  g_string_append (s, "#!/bin/bash\n");
  g_string_append (s, body);
  g_string_append (s, "GALLEY_JOB\n");
}

/* Tasks of a per-part step: one per shard, at most one per part. */
static gint
part_tasks (const PlanOptions *o)
{
  return MIN (o->bands, o->shards);
}

/* The word a per-part step's parts are called by, from its option
 * ("--band" -> "band"); also the loop variable of its job. */
static char *
part_word (const GalleyShardBarrierStep *step)
{
  GString *w = g_string_new (NULL);
  for (const char *p = step->part_option; *p != '\0'; p++)
    if (g_ascii_isalnum (*p))
      g_string_append_c (w, g_ascii_tolower (*p));
    else if (w->len > 0)
      g_string_append_c (w, '_');
  if (w->len == 0)
    g_string_append (w, "part");
  return g_string_free (w, FALSE);
}

/* The barrier steps of @barrier's plugin (none without one). */
static const GalleyShardBarrierStep *
barrier_steps (const GalleyStageConfig *barrier)
{
  static const GalleyShardBarrierStep none[] = { { NULL } };
  return barrier != NULL ? galley_stage_info_get_shard (barrier->plugin->info)->steps : none;
}

static void
append_chain_comment (GString *s, const PlanOptions *o, const GalleyStageConfig *barrier)
{
  g_string_append_printf (s, "# Chain: map (%d tasks)", o->shards);
  const GalleyShardBarrierStep *steps = barrier_steps (barrier);
  for (guint i = 0; steps[i].command != NULL; i++)
    {
      if (steps[i].kind == GALLEY_SHARD_STEP_PER_PART)
        {
          g_autofree char *word = part_word (&steps[i]);
          g_string_append_printf (s, " -> %s (%d %ss in %d tasks)", steps[i].command, o->bands, word, part_tasks (o));
        }
      else if (steps[i].kind == GALLEY_SHARD_STEP_PER_SHARD)
        g_string_append_printf (s, " -> %s (%d tasks)", steps[i].command, o->shards);
      else
        g_string_append_printf (s, " -> %s", steps[i].command);
    }
  if (barrier != NULL)
    g_string_append_printf (s, " -> filter (%d tasks) -> merge.\n", o->shards);
  else
    g_string_append (s, " -> merge (the pipeline has no stage with barrier steps, such as dedup).\n");
}

/* done_task STEP I: whether task I of STEP has its completion marker (a
 * task of a per-part step: one for each of its parts). */
static void
append_done_task (GString *s, const GalleyStageConfig *barrier)
{
  g_string_append (s,
    "# done_task STEP I: whether task I of STEP has its completion marker (a\n"
    "# task of a per-part step, one for each of its parts)\n"
    "done_task() {\n"
    "  local k\n"
    "  case \"$1\" in\n");
  const GalleyShardBarrierStep *steps = barrier_steps (barrier);
  for (guint i = 0; steps[i].command != NULL; i++)
    if (steps[i].kind == GALLEY_SHARD_STEP_PER_PART)
      {
        g_autofree char *word = part_word (&steps[i]);
        g_string_append_printf (s,
          "    %s)\n"
          "      for ((k = $2; k < %ss; k += %s_tasks)); do\n"
          "        [ -e \"$work/markers/%s-$k.done\" ] || return 1\n"
          "      done ;;\n", steps[i].command, word, steps[i].command, steps[i].command);
      }
  g_string_append (s,
    "    *) [ -e \"$work/markers/$1-$2.done\" ] ;;\n"
    "  esac\n"
    "}\n");
}

/* The jobs of the barrier steps, then the filter step. */
static void
append_barrier_jobs (GString *s, const PlanOptions *o, const GalleyStageConfig *barrier, const char *q_galley,
                     const char *q_pipeline, const char *q_work)
{
  const char *plugin = barrier->plugin->name;
  const GalleyShardBarrierStep *steps = barrier_steps (barrier);
  g_autofree char *once_mem = o->cluster_mem != NULL ? g_strconcat ("--mem=", o->cluster_mem, NULL) : NULL;
  g_autofree char *q_once_mem = once_mem != NULL ? g_shell_quote (once_mem) : NULL;
  for (guint i = 0; steps[i].command != NULL; i++)
    {
      const char *cmd = steps[i].command;
      g_autofree char *body = NULL;
      g_autofree char *count = NULL;
      if (steps[i].kind == GALLEY_SHARD_STEP_PER_PART)
        {
          /* task T runs parts T, T + tasks, T + 2 tasks...: a few jobs
           * rather than one per part (each part's run is short, and each
           * job costs the scheduler seconds) */
          g_autofree char *word = part_word (&steps[i]);
          body = g_strdup_printf ("for ((%s = SLURM_ARRAY_TASK_ID; %s < %d; %s += %d)); do\n"
                                  "  %s %s %s %s %s \"$%s\" --work %s || exit\n"
                                  "done\n",
                                  word, word, o->bands, word, part_tasks (o),
                                  q_galley, plugin, cmd, q_pipeline, steps[i].part_option, word, q_work);
          count = g_strdup_printf ("\"$%s_tasks\"", cmd);
        }
      else if (steps[i].kind == GALLEY_SHARD_STEP_PER_SHARD)
        {
          body = g_strdup_printf ("exec %s %s %s %s --shard \"$SLURM_ARRAY_TASK_ID/%d\" --work %s\n",
                                  q_galley, plugin, cmd, q_pipeline, o->shards, q_work);
          count = g_strdup ("\"$shards\"");
        }
      else
        {
          body = g_strdup_printf ("exec %s %s %s %s --work %s\n", q_galley, plugin, cmd, q_pipeline, q_work);
          count = g_strdup ("0");
        }
      append_job (s, cmd, count, steps[i].kind == GALLEY_SHARD_STEP_ONCE ? q_once_mem : NULL, body);
    }
  g_autofree char *filter = g_strdup_printf ("exec %s %s filter %s --shard \"$SLURM_ARRAY_TASK_ID/%d\" --work %s\n",
                                             q_galley, plugin, q_pipeline, o->shards, q_work);
  append_job (s, "filter", "\"$shards\"", NULL, filter);
}

static char *
plan_slurm_script (const PlanOptions *o, const char *pipeline, const GalleyStageConfig *barrier)
{
  g_autofree char *q_galley = g_shell_quote (o->galley);
  g_autofree char *q_pipeline = g_shell_quote (pipeline);
  g_autofree char *q_work = g_shell_quote (o->work);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *chdir_arg = g_strconcat ("--chdir=", cwd, NULL);
  g_autofree char *q_chdir = g_shell_quote (chdir_arg);
  GString *s = g_string_new (NULL);

  g_string_append (s, "#!/bin/bash\n");
  g_string_append_printf (s, "# Slurm jobs for the galley pipeline %s, printed by 'galley plan slurm'.\n", pipeline);
  append_chain_comment (s, o, barrier);
  g_string_append (s,
    "# Each step waits for the previous one (afterok) and is cancelled if that\n"
    "# one fails (--kill-on-invalid-dep=yes). Prints the id of the last job.\n"
    "# Usage: bash SCRIPT [--resume]   (--resume: only the tasks without a\n"
    "# completion marker in the work directory, after a failed chain)\n"
    "set -euo pipefail\n\n");
  g_string_append_printf (s, "work=%s\n", q_work);
  g_string_append_printf (s, "shards=%d\n", o->shards);
  const GalleyShardBarrierStep *steps = barrier_steps (barrier);
  for (guint i = 0; steps[i].command != NULL; i++)
    if (steps[i].kind == GALLEY_SHARD_STEP_PER_PART)
      {
        g_autofree char *word = part_word (&steps[i]);
        g_string_append_printf (s, "%ss=%d\n%s_tasks=%d\n", word, o->bands, steps[i].command, part_tasks (o));
      }
  g_string_append (s, "common=(--parsable --kill-on-invalid-dep=yes ");
  g_string_append (s, q_chdir);
  if (o->partition != NULL)
    {
      g_autofree char *arg = g_strconcat ("--partition=", o->partition, NULL);
      g_autofree char *q = g_shell_quote (arg);
      g_string_append_printf (s, " %s", q);
    }
  if (o->time_limit != NULL)
    {
      g_autofree char *arg = g_strconcat ("--time=", o->time_limit, NULL);
      g_autofree char *q = g_shell_quote (arg);
      g_string_append_printf (s, " %s", q);
    }
  if (o->mem != NULL)
    {
      g_autofree char *arg = g_strconcat ("--mem=", o->mem, NULL);
      g_autofree char *q = g_shell_quote (arg);
      g_string_append_printf (s, " %s", q);
    }
  g_string_append (s, ")\n\n");

  g_string_append (s,
    "resume=0\n"
    "case \"${1:-}\" in\n"
    "  '') ;;\n"
    "  --resume) resume=1 ;;\n"
    "  *) echo \"usage: $0 [--resume]\" >&2; exit 64 ;;\n"
    "esac\n"
    "mkdir -p \"$work/logs\"\n\n"
    "# submit STEP COUNT [SBATCH-OPTION...] < JOB: submits the job script on\n"
    "# stdin as an array of COUNT tasks (0: a single job) that starts after the\n"
    "# last job submitted; the options come last and override the common ones.\n"
    "last=\n");
  append_done_task (s, barrier);
  g_string_append (s,
    "submit() {\n"
    "  local step=$1 count=$2 tasks= i id\n"
    "  local args=(\"${common[@]}\" --job-name=\"galley-$step\")\n"
    "  if [ \"$count\" -eq 0 ]; then\n"
    "    if [ \"$resume\" = 1 ] && [ -e \"$work/markers/$step.done\" ]; then cat >/dev/null; return 0; fi\n"
    "    args+=(--output=\"$work/logs/$step-%j.log\")\n"
    "  else\n"
    "    for ((i = 0; i < count; i++)); do\n"
    "      if [ \"$resume\" = 0 ] || ! done_task \"$step\" \"$i\"; then tasks+=${tasks:+,}$i; fi\n"
    "    done\n"
    "    if [ -z \"$tasks\" ]; then cat >/dev/null; return 0; fi\n"
    "    if [ \"$resume\" = 0 ]; then tasks=0-$((count - 1)); fi\n"
    "    args+=(--array=\"$tasks\" --output=\"$work/logs/$step-%A_%a.log\")\n"
    "  fi\n"
    "  if [ -n \"$last\" ]; then args+=(--dependency=\"afterok:$last\"); fi\n"
    "  args+=(\"${@:3}\")\n"
    "  id=$(sbatch \"${args[@]}\")\n"
    "  last=${id%%;*}\n"
    "  echo \"galley: $step: job $last\" >&2\n"
    "}\n\n");

  g_autofree char *map = g_strdup_printf ("exec %s run %s --shard \"$SLURM_ARRAY_TASK_ID/%d\" --work %s\n",
                                          q_galley, q_pipeline, o->shards, q_work);
  append_job (s, "map", "\"$shards\"", NULL, map);
  if (barrier != NULL)
    append_barrier_jobs (s, o, barrier, q_galley, q_pipeline, q_work);
  g_autofree char *merge = g_strdup_printf ("exec %s shard merge %s --work %s\n", q_galley, q_pipeline, q_work);
  append_job (s, "merge", "0", NULL, merge);
  g_string_append (s,
    "\nif [ -z \"$last\" ]; then\n"
    "  echo \"galley: every step has its completion marker; nothing to submit\" >&2\n"
    "  exit 0\n"
    "fi\n"
    "echo \"$last\"\n");
  return g_string_free (s, FALSE);
}

static int
plan_slurm (int argc, char **argv)
{
  g_auto(PlanOptions) o = { 0 };
  GOptionEntry entries[] = {
    { "shards", 'n', 0, G_OPTION_ARG_INT, &o.shards, "Number of shards N (map and filter tasks); required", "N" },
    { "work", 'w', 0, G_OPTION_ARG_FILENAME, &o.work, "Shared work directory (default: NAME.work in the current directory)", "DIR" },
    { "partition", 'p', 0, G_OPTION_ARG_STRING, &o.partition, "Slurm partition (default: the cluster's default)", "P" },
    { "time", 't', 0, G_OPTION_ARG_STRING, &o.time_limit, "Time limit of each job, in Slurm's format, e.g. 2:00:00 (default: the partition's)", "T" },
    { "mem", 'm', 0, G_OPTION_ARG_STRING, &o.mem, "Memory per task, e.g. 4G (default: the partition's)", "M" },
    { "cluster-mem", 0, 0, G_OPTION_ARG_STRING, &o.cluster_mem, "Memory of the single-task steps (dedup's cluster), when they need more than --mem (default: --mem)", "M" },
    { "galley", 0, 0, G_OPTION_ARG_FILENAME, &o.galley, "The galley command on the compute nodes (default: this one)", "PATH" },
    { "bands", 'b', 0, G_OPTION_ARG_INT, &o.bands, "Parts of the per-part steps (dedup: bands + 2; default: from the stage's options)", "B" },
    { "plugin-dir", 'P', 0, G_OPTION_ARG_FILENAME_ARRAY, &o.plugin_dirs, "Look for plugins in DIR first (repeatable)", "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE - print a Slurm job chain for FILE");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Prints on stdout a bash script that, run on a Slurm login node, submits the\n"
    "steps of the shard protocol for FILE as job arrays chained with\n"
    "--dependency=afterok and --kill-on-invalid-dep=yes, and prints the id of the\n"
    "last job. Nothing is submitted by this command. See docs/scale-out.md.");
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return plan_usage (context, "%s", error->message);
  if (argc != 2)
    return plan_usage (context, argc < 2 ? "missing pipeline FILE" : "expected one pipeline FILE, got %d", argc - 1);
  if (o.shards < 1 || o.shards > PLAN_MAX_SHARDS)
    return plan_usage (NULL, o.shards == 0 ? "--shards N is required (N >= 1)" : "--shards must be between 1 and %d", PLAN_MAX_SHARDS);
  if (o.bands < 0 || o.bands > PLAN_MAX_BANDS)
    return plan_usage (NULL, "--bands must be between 1 and %d", PLAN_MAX_BANDS);
  if (o.partition != NULL && !matches ("^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$", o.partition))
    return plan_usage (NULL, "--partition: '%s' is not a partition name (or a comma-separated list of them)", o.partition);
  if (o.time_limit != NULL
      && !matches ("^(([0-9]+-)?[0-9]+(:[0-9]+){0,2}|UNLIMITED|INFINITE|unlimited|infinite)$", o.time_limit))
    return plan_usage (NULL, "--time: '%s' is not a Slurm time (MINUTES, HH:MM:SS, D-HH:MM:SS...)", o.time_limit);
  if (o.mem != NULL && !matches ("^[0-9]+[KMGT]?$", o.mem))
    return plan_usage (NULL, "--mem: '%s' is not a Slurm size (e.g. 4000, 4G)", o.mem);
  if (o.cluster_mem != NULL && !matches ("^[0-9]+[KMGT]?$", o.cluster_mem))
    return plan_usage (NULL, "--cluster-mem: '%s' is not a Slurm size (e.g. 64G)", o.cluster_mem);
  for (guint i = 0; o.plugin_dirs != NULL && o.plugin_dirs[i] != NULL; i++)
    galley_plugin_add_search_dir (o.plugin_dirs[i]);

  g_autofree char *pipeline_path = absolute (argv[1]);
  g_autoptr(GalleyPipeline) pipeline = galley_pipeline_load (pipeline_path, NULL, &error);
  if (pipeline == NULL)
    {
      fprintf (stderr, "galley: %s\n", error->message);
      return galley_error_to_exit_code (error);
    }
  gint barrier_index = galley_pipeline_find_barrier (pipeline);
  const GalleyStageConfig *barrier = barrier_index >= 0 ? g_ptr_array_index (pipeline->stages, barrier_index) : NULL;

  if (o.galley == NULL)
    {
      o.galley = g_file_read_link ("/proc/self/exe", NULL);
      if (o.galley == NULL)
        o.galley = g_strdup ("galley");
    }
  else if (strchr (o.galley, '/') != NULL)
    {
      char *abs = absolute (o.galley);
      g_free (o.galley);
      o.galley = abs;
    }
  if (o.work == NULL)
    o.work = g_strconcat (pipeline->name, ".work", NULL);
  char *work = absolute (o.work);
  g_free (o.work);
  o.work = work;
  if (strchr (o.work, '\n') != NULL || strchr (pipeline_path, '\n') != NULL || strchr (o.galley, '\n') != NULL)
    return plan_usage (NULL, "paths with a line break cannot go into a job script");

  if (barrier != NULL && o.bands == 0)
    {
      /* the part count of the per-part steps, from the stage's options */
      const GalleyShardInfo *shard = galley_stage_info_get_shard (barrier->plugin->info);
      gint64 parts = shard->count_parts != NULL ? shard->count_parts (barrier->options, &error) : 1;
      if (parts < 1 || parts > PLAN_MAX_BANDS)
        {
          fprintf (stderr, "galley: plan slurm: stage '%s': %s; pass the count with --bands\n", barrier->id,
                   error != NULL ? error->message : "no part count from its options");
          return GALLEY_EXIT_CONFIG;
        }
      o.bands = (gint) parts;
    }
  g_autofree char *script = plan_slurm_script (&o, pipeline_path, barrier);
  fputs (script, stdout);
  return fflush (stdout) == 0 ? GALLEY_EXIT_OK : GALLEY_EXIT_IOERR;
}

int
galley_plan_command (int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "slurm"))
    {
      /* "galley plan" "slurm" ... -> "galley plan slurm" ... */
      g_autofree char *name = g_strdup_printf ("%s slurm", argv[0]);
      char *saved = argv[1];
      argv[1] = name;
      int code = plan_slurm (argc - 1, argv + 1);
      argv[1] = saved;
      return code;
    }
  gboolean help = argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"));
  fprintf (help ? stdout : stderr,
           "Usage:\n  galley plan slurm FILE --shards N [OPTION...]\n\n"
           "Prints a script that runs the shard protocol for FILE on a batch system.\n"
           "Schedulers: slurm. Run 'galley plan slurm --help' for the options.\n");
  if (!help && argc >= 2)
    fprintf (stderr, "galley: plan: unknown scheduler '%s'\n", argv[1]);
  return help ? GALLEY_EXIT_OK : GALLEY_EXIT_USAGE;
}
