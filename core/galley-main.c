/* galley-main.c: the galley command.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"
#include "galley-plan.h"
#include "galley-report-html.h"

#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define MAX_WARNINGS 50

static gboolean opt_verbose;
static gboolean opt_quiet;
static char   **opt_plugin_dirs;
static gint     warnings_shown;

static const char *const summary_text =
  "Commands:\n"
  "  run FILE        run the pipeline in FILE\n"
  "  check FILE      validate FILE and initialise every stage, read nothing\n"
  "  inspect [NAME]  list plugins, or show one plugin's options\n"
  "  shard merge|init FILE --work DIR\n"
  "                  steps of a sharded run (docs/scale-out.md)\n"
  "  plan slurm FILE --shards N  print a Slurm job chain for the shard steps\n"
  "  report STATS.json -o FILE    the HTML report of a past run\n"
  "  explain FILE (--doc ID | --input PATH)  what each stage does to one document\n"
  "  PLUGIN ...      a plugin's own command, e.g. 'galley dedup stats DIR'\n"
  "\n"
  "Run 'galley COMMAND --help' for the options of a command.\n"
  "\n"
  "Exit status: 0 success, 64 usage, 65 bad input data, 66 input not found,\n"
  "70 internal or plugin error, 73 cannot create output, 74 I/O error,\n"
  "75 temporary failure (lock held), 78 configuration error.";

static void
log_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  (void) data;
  const char *dom = domain ? domain : "galley";
  if (level & (G_LOG_LEVEL_DEBUG))
    {
      const char *debug = g_getenv ("G_MESSAGES_DEBUG");
      if (debug == NULL)
        return;
      g_auto(GStrv) domains = g_strsplit_set (debug, " ,:", -1);
      if (!g_strv_contains ((const char *const *) domains, dom) && !g_strv_contains ((const char *const *) domains, "all"))
        return;
      fprintf (stderr, "%s: debug: %s\n", dom, message);
      return;
    }
  if (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE))
    {
      if (opt_verbose)
        fprintf (stderr, "%s: %s\n", dom, message);
      return;
    }
  if (level & G_LOG_LEVEL_WARNING)
    {
      if (opt_quiet)
        return;
      gint n = g_atomic_int_add (&warnings_shown, 1);
      if (n < MAX_WARNINGS || opt_verbose)
        fprintf (stderr, "%s: warning: %s\n", dom, message);
      else if (n == MAX_WARNINGS)
        fprintf (stderr, "galley: warning: more than %d warnings; the rest are in the rejects file "
                 "and stats (use -v to see all)\n", MAX_WARNINGS);
      return;
    }
  fprintf (stderr, "%s: %s: %s\n", dom, (level & G_LOG_LEVEL_CRITICAL) ? "critical" : "error", message);
}

static void
add_plugin_dirs (void)
{
  for (guint i = 0; opt_plugin_dirs != NULL && opt_plugin_dirs[i] != NULL; i++)
    galley_plugin_add_search_dir (opt_plugin_dirs[i]);
}

/* The command being run ("galley run"), for the hint of a usage error. */
static const char *current_command = "galley";

static int
usage_error (GOptionContext *context, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* One line saying what is wrong, one saying where the options are. */
static int
usage_error (GOptionContext *context, const char *fmt, ...)
{
  (void) context;
  va_list args;
  va_start (args, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  fprintf (stderr, "galley: %s\nTry '%s --help' for more information.\n", msg, current_command);
  return GALLEY_EXIT_USAGE;
}

/* Before GLib parses @argv:
 * - GLib takes the value of a short option only as the next argument:
 *   "-j1" and "-Pdir" become "-j" "1" and "-P" "dir", as other tools
 *   accept them (@with_value lists the short options that take one);
 * - GLib gives an option with an optional value (--wait) the next argument
 *   whatever it is: "--wait FILE" becomes "--wait=1h FILE", while
 *   "--wait 4m" keeps its value.
 * Returns a new vector. */
static char **
split_short_options (int *argc, char **argv, const char *with_value)
{
  char **out = g_new0 (char *, 2 * *argc + 1);
  int n = 0;
  gboolean only_args = FALSE;
  for (int i = 0; i < *argc; i++)
    {
      const char *a = argv[i];
      if (i > 0 && !only_args && a[0] == '-' && a[1] != '-' && a[1] != '\0' && a[2] != '\0'
          && strchr (with_value, a[1]) != NULL)
        {
          out[n++] = g_strndup (a, 2);
          out[n++] = g_strdup (a + 2);
          continue;
        }
      GTimeSpan span;
      if (i > 0 && !only_args && g_str_equal (a, "--wait")
          && (i + 1 >= *argc || !galley_parse_duration (argv[i + 1], &span, NULL)))
        {
          out[n++] = g_strdup ("--wait=1h");
          continue;
        }
      if (g_str_equal (a, "--"))
        only_args = TRUE;
      out[n++] = g_strdup (a);
    }
  *argc = n;
  return out;
}

static double opt_wait;
static gboolean syslog_on;

static gboolean
parse_wait (const char *name, const char *value, gpointer data, GError **error)
{
  if (value == NULL)
    {
      opt_wait = 3600;
      return TRUE;
    }
  /* seconds (fractions allowed), or a duration: 90s, 4m, 1h */
  GTimeSpan span = 0;
  if (!galley_parse_duration (value, &span, NULL) || span < 0 || span > 7 * G_TIME_SPAN_DAY)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--wait takes seconds or a duration (90, 4m, 1h) up to 7 days, got '%s'", value);
      return FALSE;
    }
  opt_wait = (double) span / G_TIME_SPAN_SECOND;
  return TRUE;
}

/* --log=syslog: GLib messages go to syslog (journald reads it too) with
 * their priority; the summary line still goes to stderr and is logged. */
static GLogWriterOutput
syslog_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const char *message = NULL, *domain = NULL;
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE"))
      message = fields[i].value;
    else if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
  if (message == NULL)
    return G_LOG_WRITER_UNHANDLED;
  if (g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;
  int priority = (level & G_LOG_LEVEL_ERROR) ? LOG_ERR
               : (level & G_LOG_LEVEL_CRITICAL) ? LOG_CRIT
               : (level & G_LOG_LEVEL_WARNING) ? LOG_WARNING
               : (level & G_LOG_LEVEL_MESSAGE) ? LOG_NOTICE
               : (level & G_LOG_LEVEL_INFO) ? LOG_INFO : LOG_DEBUG;
  syslog (priority, "%s", message);
  return G_LOG_WRITER_HANDLED;
}

static void
use_syslog (void)
{
  openlog ("galley", LOG_PID, LOG_USER);
  g_log_set_writer_func (syslog_writer, NULL, NULL);
  syslog_on = TRUE;
}

static int
report (GError *error, int code)
{
  fprintf (stderr, "galley: %s\n", error->message);
  return code;
}

/* ---- run / check ------------------------------------------------------- */

static gboolean
parse_shard (const char *text, guint *index, guint *count)
{
  guint64 i, n;
  char *end = NULL;
  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;
  i = g_ascii_strtoull (text, &end, 10);
  if (*end != '/' || !g_ascii_isdigit (end[1]))
    return FALSE;
  n = g_ascii_strtoull (end + 1, &end, 10);
  if (*end != '\0' || n == 0 || n > 1000000 || i >= n)
    return FALSE;
  *index = i;
  *count = n;
  return TRUE;
}

static int
cmd_run (int argc, char **argv, gboolean check, const char *shard_step)
{
  /* first thing: a stop during start-up (loading plugins, waiting for the
   * lock) is then a clean stop too */
  if (!check)
    galley_runner_catch_stop_signals ();
  g_auto(GStrv) sets = NULL;
  g_autofree char *shard = NULL, *work = NULL;
  gboolean dry_run = FALSE, no_progress = FALSE, full = FALSE;
  gint threads = 0;
  g_autofree char *stats = NULL, *rejects = NULL, *log_to = NULL, *limit_s = NULL;
  opt_wait = 0;
  GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override an option (repeatable), e.g. --set output.path=out.jsonl", "ID.KEY=VALUE" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Read and process documents but run no sink", NULL },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &threads, "Worker threads (default: [pipeline] threads, else cores)", "N" },
    { "stats", 0, 0, G_OPTION_ARG_FILENAME, &stats, "Write the stats JSON here ('' for none)", "FILE" },
    { "rejects", 0, 0, G_OPTION_ARG_FILENAME, &rejects, "Append failed inputs here", "FILE" },
    { "no-progress", 0, 0, G_OPTION_ARG_NONE, &no_progress, "No live progress even on a terminal", NULL },
    { "plugin-dir", 'P', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_plugin_dirs, "Look for plugins in DIR first (repeatable)", "DIR" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Per-stage figures and info messages", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "No summary and no warnings; errors only", NULL },
    { "full", 0, 0, G_OPTION_ARG_NONE, &full, "Read every input again, even those the state directory has seen", NULL },
    { "wait", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_wait,
      "If another run holds the state directory, wait for it (at most SECONDS or a duration such as 4m; default 1 hour) instead of exiting 75", "SECONDS" },
    { "log", 0, 0, G_OPTION_ARG_STRING, &log_to, "Where messages go: stderr (default) or syslog (also journald)", "stderr|syslog" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard, "Run the map step of shard I of N (needs --work; docs/scale-out.md)", "I/N" },
    { "work", 0, 0, G_OPTION_ARG_FILENAME, &work, "Shared work directory of a sharded run", "DIR" },
    { "limit", 0, 0, G_OPTION_ARG_STRING, &limit_s, "Read only the first N documents, then stop the sources as SIGTERM does (with state-dir the rest is left for the next run)", "N" },
    { NULL }
  };
  GOptionEntry check_entries[] = {
    entries[0], entries[6], entries[7], entries[8], { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (check ? "FILE - validate a pipeline (- reads it from standard input)"
                                                                   : "FILE - run a pipeline (- reads it from standard input)");
  g_option_context_add_main_entries (context, check ? check_entries : entries, NULL);
  g_option_context_set_summary (context, check
    ? "Loads FILE, checks every group, key and value, loads each plugin and runs its\n"
      "init() with the given options, then frees everything. Reads no input and\n"
      "writes no output."
    : "Streams the documents of FILE's sources through its stages and sinks.\n"
      "Prints a summary line on stderr (unless -q) and writes the stats JSON file\n"
      "(unless stats= is empty); failed inputs are appended to the rejects file.\n"
      "stdout carries data only (export-jsonl path=-).");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) args = split_short_options (&argc, argv, "sjP");
  if (!g_option_context_parse_strv (context, &args, &error))
    return usage_error (context, "%s", error->message);
  argc = g_strv_length (args);
  argv = args;
  if (argc != 2)
    return usage_error (context, argc < 2 ? "missing pipeline FILE" : "expected one pipeline FILE, got %d", argc - 1);
  guint64 limit = 0;
  if (limit_s != NULL && !g_ascii_string_to_unsigned (limit_s, 10, 1, G_MAXINT64, &limit, NULL))
    return usage_error (context, "--limit takes a number of documents from 1, got '%s'", limit_s);
  if (opt_verbose && opt_quiet)
    return usage_error (context, "-v and -q exclude each other");
  if (threads < 0 || threads > 1024)
    return usage_error (context, "--threads must be between 0 and 1024");
  if (log_to != NULL && !g_str_equal (log_to, "stderr") && !g_str_equal (log_to, "syslog"))
    return usage_error (context, "--log must be stderr or syslog, got '%s'", log_to);
  if (log_to != NULL && g_str_equal (log_to, "syslog"))
    use_syslog ();
  add_plugin_dirs ();

  guint shard_index = 0, shard_count = 0;
  if (shard_step != NULL && (shard == NULL || work == NULL))
    return usage_error (context, "needs --shard I/N and --work DIR");
  if ((shard != NULL) != (work != NULL))
    return usage_error (context, "--shard and --work go together");
  if (shard != NULL && !parse_shard (shard, &shard_index, &shard_count))
    return usage_error (context, "--shard takes I/N with 0 <= I < N, got '%s'", shard);
  if (shard != NULL && (sets != NULL || dry_run || limit_s != NULL))
    return usage_error (context, "--set, --dry-run and --limit cannot be used with --shard (every step reads the same file)");
  if (shard != NULL && g_str_equal (argv[1], "-"))
    return usage_error (context, "a sharded run reads its pipeline from a file (every step reads the same file), not from -");
  if (shard != NULL)
    {
      GalleyRunOptions sopts = {
        .quiet = opt_quiet, .verbose = opt_verbose, .threads = threads, .stats_path = stats,
        .rejects_path = rejects, .progress = !opt_quiet && !no_progress && isatty (STDERR_FILENO),
      };
      int code = galley_shard_run (argv[1], shard_step ? shard_step : "map", shard_index, shard_count, work,
                                   &sopts, &error);
      if (code != GALLEY_EXIT_OK)
        return report (error, code);
      return GALLEY_EXIT_OK;
    }

  g_autoptr(GalleyPipeline) pipeline = galley_pipeline_load (argv[1], (const char *const *) sets, &error);
  if (pipeline == NULL)
    return report (error, galley_error_to_exit_code (error));

  GalleyRunOptions opts = {
    .dry_run = dry_run,
    .check_only = check,
    .progress = !check && !opt_quiet && !no_progress && isatty (STDERR_FILENO),
    .quiet = opt_quiet,
    .verbose = opt_verbose,
    .threads = threads,
    .stats_path = stats,
    .rejects_path = rejects,
    .full = full,
    .wait_seconds = opt_wait,
    .limit = (gint64) limit,
  };
  int code = galley_pipeline_run (pipeline, &opts, &error);
  if (code != GALLEY_EXIT_OK)
    {
      if (syslog_on)
        syslog (LOG_ERR, "%s: failed with exit status %d: %s", argv[1], code, error->message);
      return report (error, code);
    }
  if (syslog_on && !check)
    syslog (LOG_INFO, "%s: run finished", argv[1]);
  if (check && !opt_quiet)
    {
      g_autoptr(GString) chain = g_string_new (NULL);
      for (guint i = 0; i < pipeline->stages->len; i++)
        {
          GalleyStageConfig *sc = g_ptr_array_index (pipeline->stages, i);
          g_string_append_printf (chain, "%s%s (%s %s)", i ? " -> " : "", sc->id,
                                  galley_stage_kind_to_string (sc->plugin->info->kind), sc->plugin->name);
        }
      printf ("%s: OK: %s\n", pipeline->path, chain->str);
      if (pipeline->description != NULL && *pipeline->description != '\0')
        printf ("  %s\n", pipeline->description);
    }
  return GALLEY_EXIT_OK;
}

/* ---- inspect -------------------------------------------------------------- */

static json_object *
plugin_to_json (const GalleyPlugin *plugin)
{
  const GalleyStageInfo *info = plugin->info;
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "name", json_object_new_string (info->name));
  json_object_object_add (o, "kind", json_object_new_string (galley_stage_kind_to_string (info->kind)));
  json_object_object_add (o, "description", json_object_new_string (info->description));
  json_object_object_add (o, "version", json_object_new_string (info->version));
  g_autofree char *abi = g_strdup_printf ("%u.%u", info->abi_major, info->abi_minor);
  json_object_object_add (o, "abi", json_object_new_string (abi));
  json_object_object_add (o, "thread_safe", json_object_new_boolean ((info->flags & GALLEY_STAGE_THREAD_SAFE) != 0));
  json_object_object_add (o, "file", json_object_new_string (plugin->path));
  json_object_object_add (o, "command", json_object_new_boolean (plugin->command != NULL));
  json_object *options = json_object_new_array ();
  for (const GalleyOptionSpec *s = info->options; s != NULL && s->name != NULL; s++)
    {
      json_object *opt = json_object_new_object ();
      json_object_object_add (opt, "name", json_object_new_string (s->name));
      json_object_object_add (opt, "type", json_object_new_string (galley_opt_type_to_string (s->type)));
      json_object_object_add (opt, "default", s->default_value ? json_object_new_string (s->default_value) : NULL);
      json_object_object_add (opt, "required", json_object_new_boolean (s->default_value == NULL));
      if (s->choices != NULL)
        json_object_object_add (opt, "choices", json_object_new_string (s->choices));
      if (s->min != NULL)
        json_object_object_add (opt, "min", json_object_new_string (s->min));
      if (s->max != NULL)
        json_object_object_add (opt, "max", json_object_new_string (s->max));
      json_object_object_add (opt, "help", json_object_new_string (s->help ? s->help : ""));
      json_object_array_add (options, opt);
    }
  json_object_object_add (o, "options", options);
  return o;
}

/* "; 1..16", "; at least 0", "; at most 2G", or "" without bounds. */
static char *
describe_range (const GalleyOptionSpec *s)
{
  if (s->min != NULL && s->max != NULL)
    return g_strdup_printf ("; %s..%s", s->min, s->max);
  if (s->min != NULL)
    return g_strdup_printf ("; at least %s", s->min);
  if (s->max != NULL)
    return g_strdup_printf ("; at most %s", s->max);
  return g_strdup ("");
}

static void
print_plugin (const GalleyPlugin *plugin)
{
  const GalleyStageInfo *info = plugin->info;
  printf ("%s (%s) %s - %s\n", info->name, galley_stage_kind_to_string (info->kind), info->version, info->description);
  printf ("  file: %s\n  stage ABI: %u.%u, %s\n", plugin->path, info->abi_major, info->abi_minor,
          (info->flags & GALLEY_STAGE_THREAD_SAFE) ? "thread-safe (runs in parallel)" : "serialized");
  if (plugin->command != NULL)
    printf ("  command: galley %s ... (run 'galley %s --help')\n", info->name, info->name);
  printf ("  options:\n");
  printf ("    %-18s %-8s %s\n", "plugin", "string", "plugin name (default: the stage id)");
  printf ("    %-18s %-8s %s\n", "on-error", "enum", "fail|skip: stop the run, or reject the document and go on (default: fail)");
  for (const GalleyOptionSpec *s = info->options; s != NULL && s->name != NULL; s++)
    {
      g_autofree char *def = s->default_value == NULL ? g_strdup ("required")
                             : *s->default_value == '\0' ? g_strdup ("default: empty")
                             : g_strdup_printf ("default: %s", s->default_value);
      g_autofree char *range = describe_range (s);
      printf ("    %-18s %-8s %s%s%s (%s%s)\n", s->name, galley_opt_type_to_string (s->type),
              s->choices ? s->choices : "", s->choices ? ": " : "", s->help ? s->help : "", def, range);
    }
}

static int
cmd_inspect (int argc, char **argv)
{
  gboolean as_json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print JSON instead of text", NULL },
    { "plugin-dir", 'P', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_plugin_dirs, "Look for plugins in DIR first (repeatable)", "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("[PLUGIN] - describe plugins");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, "Without PLUGIN, lists every plugin in the search path.\n"
                                "With PLUGIN, shows its kind, version and options (type, default, help).");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) args = split_short_options (&argc, argv, "P");
  if (!g_option_context_parse_strv (context, &args, &error))
    return usage_error (context, "%s", error->message);
  argc = g_strv_length (args);
  argv = args;
  if (argc > 2)
    return usage_error (context, "expected at most one PLUGIN");
  add_plugin_dirs ();

  g_autoptr(GPtrArray) plugins = g_ptr_array_new ();
  g_auto(GStrv) names = argc == 2 ? g_strdupv ((char *[]) { argv[1], NULL }) : galley_plugin_list_available ();
  int code = GALLEY_EXIT_OK;
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GError) local = NULL;
      const GalleyPlugin *plugin = galley_plugin_load (names[i], &local);
      if (plugin == NULL)
        {
          fprintf (stderr, "galley: %s\n", local->message);
          code = GALLEY_EXIT_CONFIG;
          continue;
        }
      g_ptr_array_add (plugins, (gpointer) plugin);
    }
  if (as_json)
    {
      g_autoptr(json_object) out = json_object_new_array ();
      for (guint i = 0; i < plugins->len; i++)
        json_object_array_add (out, plugin_to_json (g_ptr_array_index (plugins, i)));
      json_object *printed = argc == 2 && plugins->len == 1 ? json_object_array_get_idx (out, 0) : out;
      printf ("%s\n", json_object_to_json_string_ext (printed, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
  else if (argc == 2)
    {
      if (plugins->len == 1)
        print_plugin (g_ptr_array_index (plugins, 0));
    }
  else
    {
      for (guint i = 0; i < plugins->len; i++)
        {
          const GalleyPlugin *p = g_ptr_array_index (plugins, i);
          printf ("%-16s %-7s %s\n", p->name, galley_stage_kind_to_string (p->info->kind), p->info->description);
        }
      if (plugins->len == 0)
        {
          g_auto(GStrv) dirs = galley_plugin_get_search_path ();
          g_autofree char *joined = g_strjoinv (":", dirs);
          fprintf (stderr, "galley: no plugins found in %s\n", joined);
        }
    }
  return code;
}

/* ---- shard steps ------------------------------------------------------------- */

static int
cmd_shard (int argc, char **argv)
{
  g_autofree char *work = NULL;
  gint shards = 0;
  GOptionEntry entries[] = {
    { "work", 0, 0, G_OPTION_ARG_FILENAME, &work, "Shared work directory", "DIR" },
    { "shards", 0, 0, G_OPTION_ARG_INT, &shards, "init: the number of shards N", "N" },
    { "plugin-dir", 'P', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_plugin_dirs, "Look for plugins in DIR first (repeatable)", "DIR" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Info messages", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("merge|init FILE --work DIR - steps of a sharded run");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "merge: after every filter step (or every map step without dedup), puts each\n"
    "sink's part files together, in shard order, into its target.\n"
    "init: writes DIR/work.json for N shards (the first map step does it too).");
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, "%s", error->message);
  if (argc != 3 || (!g_str_equal (argv[1], "merge") && !g_str_equal (argv[1], "init")))
    return usage_error (context, "expected merge or init, then the pipeline FILE");
  if (work == NULL)
    return usage_error (context, "missing --work DIR");
  add_plugin_dirs ();
  int code = g_str_equal (argv[1], "merge") ? galley_shard_merge (argv[2], work, &error)
             : galley_shard_init (argv[2], work, shards < 0 ? 0 : shards, &error);
  if (code != GALLEY_EXIT_OK)
    return report (error, code);
  return GALLEY_EXIT_OK;
}

/* ---- plugin commands ------------------------------------------------------- */

/* `galley NAME ...` runs the command a plugin exports, e.g. `galley dedup stats`. */
static int
cmd_plugin (const char *name, int argc, char **argv)
{
  const GalleyPlugin *plugin = NULL;
  /* --plugin-dir DIR may come first: galley dedup --plugin-dir DIR stats ... */
  for (int i = 1; i + 1 < argc; i++)
    if (g_str_equal (argv[i], "--plugin-dir") || g_str_equal (argv[i], "-P"))
      galley_plugin_add_search_dir (argv[i + 1]);
  g_auto(GStrv) available = galley_plugin_list_available ();
  if (g_strv_contains ((const char *const *) available, name))
    {
      g_autoptr(GError) error = NULL;
      plugin = galley_plugin_load (name, &error);
      if (plugin == NULL)
        return report (error, galley_error_to_exit_code (error));
    }
  if (plugin != NULL && argc >= 2 && g_str_equal (argv[1], "filter")
      && galley_stage_info_get_shard (plugin->info) != NULL && galley_stage_info_get_shard (plugin->info)->steps != NULL)
    {
      /* `galley PLUGIN filter`: the filter step of a stage with barrier
       * steps is a run of the stages from that stage on */
      g_autofree char *prog = g_strdup_printf ("%s filter", argv[0]);
      argv[1] = prog;
      return cmd_run (argc - 1, argv + 1, FALSE, "filter");
    }
  if (plugin == NULL || plugin->command == NULL)
    {
      /* the commands there are: ours, and every plugin name (a plugin
       * without a command says so when asked) */
      g_autoptr(GPtrArray) commands = g_ptr_array_new ();
      static const char *const own[] = { "run", "check", "inspect", "shard", "plan", "help" };
      for (guint i = 0; i < G_N_ELEMENTS (own); i++)
        g_ptr_array_add (commands, (gpointer) own[i]);
      for (guint i = 0; available[i] != NULL; i++)
        g_ptr_array_add (commands, available[i]);
      g_ptr_array_add (commands, NULL);
      g_autofree char *hint = galley_suggest_hint (name, (const char *const *) commands->pdata);
      if (plugin != NULL)
        fprintf (stderr, "galley: unknown command '%s': plugin %s has no command of its own\n"
                 "Try 'galley --help' for more information.\n", name, name);
      else
        fprintf (stderr, "galley: unknown command '%s'%s\nTry 'galley --help' for more information.\n", name, hint);
      return GALLEY_EXIT_USAGE;
    }
  return plugin->command (argc, argv);
}

/* ---- main ------------------------------------------------------------------ */

int
galley_runner_main (int argc, char **argv)
{
#ifdef __GLIBC__
  /* Documents are made on one thread (a source, the read-ahead helper)
   * and freed a batch at a time on another. With glibc's defaults each
   * batch freed gave the helper's heap back to the kernel (madvise) and
   * the next batch faulted it in again: files -> jsonl ran 1.35 s instead
   * of 1.11 s (median of 6) on the 256 MiB benchmark corpus. Keep up to
   * 64 MiB of free heap, and serve blocks under 4 MiB (any article) from
   * the heap rather than from mmap(). */
  mallopt (M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  mallopt (M_MMAP_THRESHOLD, 4 * 1024 * 1024);
#endif
  setlocale (LC_ALL, "");
  g_log_set_default_handler (log_handler, NULL);

  if (argc >= 2 && (g_str_equal (argv[1], "--version") || g_str_equal (argv[1], "-V")))
    {
      printf ("galley %s (stage ABI %d.%d)\n", GALLEY_VERSION, GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR);
      return GALLEY_EXIT_OK;
    }
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf (out, "Usage:\n  galley COMMAND [OPTION...]\n  galley --version\n\n"
               "galley streams news articles through a pipeline of plugins.\n\n%s\n", summary_text);
      return argc < 2 ? GALLEY_EXIT_USAGE : GALLEY_EXIT_OK;
    }
  const char *cmd = argv[1];
  /* drop the command word so each command parses its own options */
  argv[1] = g_strdup_printf ("galley %s", cmd);
  current_command = argv[1];
  char **sub_argv = argv + 1;
  int sub_argc = argc - 1;
  int code;
  if (g_str_equal (cmd, "run"))
    code = cmd_run (sub_argc, sub_argv, FALSE, NULL);
  else if (g_str_equal (cmd, "check"))
    code = cmd_run (sub_argc, sub_argv, TRUE, NULL);
  else if (g_str_equal (cmd, "shard"))
    code = cmd_shard (sub_argc, sub_argv);
  else if (g_str_equal (cmd, "inspect"))
    code = cmd_inspect (sub_argc, sub_argv);
  else if (g_str_equal (cmd, "plan"))
    code = galley_plan_command (sub_argc, sub_argv);
  else if (g_str_equal (cmd, "report"))
    code = galley_report_command (sub_argc, sub_argv);
  else if (g_str_equal (cmd, "explain"))
    code = galley_explain_command (sub_argc, sub_argv);
  else
    code = cmd_plugin (cmd, sub_argc, sub_argv);
  g_free (sub_argv[0]);
  g_strfreev (opt_plugin_dirs);
  return code;
}
