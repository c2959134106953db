/* dedup-commands.c: `galley dedup COMMAND`: the maintenance of the index a
 * dedup stage keeps in its state-dir (stats, forget, compact), and the
 * command line of the steps of a sharded run (dedup-steps.c). Each command
 * parses its options with a GOptionContext of its own, so that
 * `galley dedup COMMAND --help` describes them; a bad command line exits
 * GALLEY_EXIT_USAGE, an error the exit status galley gives it in a run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dedup-private.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char command_help[] =
  "Usage:\n"
  "  galley dedup stats [--json] STATE_DIR\n"
  "  galley dedup forget --older-than DURATION [--wait DURATION] STATE_DIR\n"
  "  galley dedup compact [--wait DURATION] STATE_DIR\n"
  "  galley dedup bands FILE\n"
  "  galley dedup bucket FILE --band B --work DIR\n"
  "  galley dedup cluster FILE --work DIR\n"
  "  galley dedup filter FILE --shard I/N --work DIR\n"
  "  galley dedup index merge FILE --work DIR --state-dir STATE\n"
  "\n"
  "Maintain the index a dedup stage keeps in its state-dir, and run the steps\n"
  "of a sharded run (docs/scale-out.md).\n"
  "\n"
  "Commands:\n"
  "  stats        documents, clusters, band keys, runs, time span and size on disk\n"
  "  forget       remove documents indexed more than DURATION ago (30d, 12h, 1w):\n"
  "               later runs no longer treat their copies as duplicates\n"
  "  compact      merge the segment files into one, leaving out forgotten documents,\n"
  "               and rebuild the database file to give freed space back (VACUUM)\n"
  "  bands        print how many bucket steps a sharded run of FILE has\n"
  "  bucket       find the documents of all shards that share a key of band B\n"
  "  cluster      decide, for the whole corpus, what the dedup stage of a single\n"
  "               run would\n"
  "  filter       apply those decisions to shard I and run the rest of the\n"
  "               pipeline (the options of 'galley run')\n"
  "  index merge  add the documents of a finished sharded run to the index in STATE\n"
  "\n"
  "Run 'galley dedup COMMAND --help' for the options of a command.\n"
  "\n"
  "Exit status: 0 done, 64 usage, 65 damaged index or work file, 66 no index in\n"
  "STATE_DIR or a missing work file, 73 cannot create, 74 I/O error, 75 a pipeline\n"
  "or another step holds the lock (try again later), 78 configuration or newer\n"
  "index format.\n";

static int
usage_error (const char *prog, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static int
usage_error (const char *prog, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "%s: %s\nRun '%s --help' for usage.\n", prog, msg, prog);
  return GALLEY_EXIT_USAGE;
}

/* Prints @error and frees it; returns the exit status galley gives it,
 * except that a damaged index or work file is bad data (65), as in the
 * core's shard steps. */
static int
command_fail (const char *prog, GError *error)
{
  fprintf (stderr, "%s: %s\n", prog, error->message);
  int code = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA) ? GALLEY_EXIT_DATAERR
             : galley_error_to_exit_code (error);
  g_error_free (error);
  return code;
}

/* A context for command @prog ("galley dedup stats") with @entries. */
static GOptionContext *
command_context (const char *params, const char *summary, const char *status, const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (params);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, status);
  return context;
}

/* Parses the options of @args (args[0] is @prog) with @context, leaving the
 * other arguments in @args. Prints a usage error and returns FALSE when
 * they are bad. */
static gboolean
parse_options (const char *prog, GOptionContext *context, GStrv *args)
{
  /* galley reads --plugin-dir itself, before it loads this plugin */
  g_auto(GStrv) plugin_dirs = NULL;
  GOptionEntry common[] = {
    { "plugin-dir", 'P', 0, G_OPTION_ARG_FILENAME_ARRAY, &plugin_dirs, "Look for plugins in DIR first (repeatable)",
      "DIR" },
    G_OPTION_ENTRY_NULL
  };
  g_option_context_add_main_entries (context, common, NULL);
  g_autoptr(GError) error = NULL;
  if (g_option_context_parse_strv (context, args, &error))
    return TRUE;
  usage_error (prog, "%s", error->message);
  return FALSE;
}

/* ---- stats, forget, compact: the index in a state-dir ------------------------------------- */

static const char index_status[] =
  "Exit status: 0 done, 64 usage, 65 damaged index, 66 no index in STATE_DIR,\n"
  "74 I/O error, 75 a pipeline holds the lock (try again later), 78 newer index\n"
  "format.";

/* Parses the one STATE_DIR argument and the durations; opens the index
 * (locked unless @read_only). On failure nothing is left open or locked. */
static int
open_index (const char *prog, GStrv args, const char *wait, gboolean read_only, int *lock_fd, DedupIndex **ix)
{
  if (g_strv_length (args) < 2)
    return usage_error (prog, "missing STATE_DIR");
  if (g_strv_length (args) > 2)
    return usage_error (prog, "unexpected argument '%s' (one STATE_DIR)", args[2]);
  const char *dir = args[1];
  GTimeSpan wait_us = 0;
  g_autoptr(GError) local = NULL;
  if (wait != NULL && !galley_parse_duration (wait, &wait_us, &local))
    return usage_error (prog, "--wait: %s", local->message);
  g_autofree char *path = g_build_filename (dir, DEDUP_INDEX_FILE, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "%s: %s: no dedup index in this directory\n", prog, dir);
      return GALLEY_EXIT_NOINPUT;
    }
  GError *error = NULL;
  if (!read_only && (*lock_fd = dedup_lock_state_dir (dir, wait_us, &error)) < 0)
    return command_fail (prog, error);
  *ix = dedup_index_open (dir, !read_only, FALSE, NULL, &error);
  if (*ix == NULL)
    {
      if (*lock_fd >= 0)
        close (*lock_fd);
      *lock_fd = -1;
      return command_fail (prog, error);
    }
  return GALLEY_EXIT_OK;
}

static void
close_index (DedupIndex *ix, int lock_fd)
{
  g_clear_pointer (&ix, dedup_index_close);
  if (lock_fd >= 0)
    close (lock_fd);
}

static int
stats_command (const char *prog, GStrv *args)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object instead of the table", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = command_context (
    "STATE_DIR - what the index in STATE_DIR holds",
    "Prints the documents, clusters, band keys, runs, time span and size on disk of\n"
    "the index a dedup stage keeps in its state-dir.",
    index_status, entries);
  if (!parse_options (prog, context, args))
    return GALLEY_EXIT_USAGE;
  DedupIndex *ix = NULL;
  int lock_fd = -1;
  int code = open_index (prog, *args, NULL, TRUE, &lock_fd, &ix);
  if (code != GALLEY_EXIT_OK)
    return code;
  g_autoptr(GString) out = g_string_new (NULL);
  GError *error = NULL;
  if (dedup_index_stats (ix, out, json, &error))
    fputs (out->str, stdout);
  else
    code = command_fail (prog, error);
  close_index (ix, lock_fd);
  return code;
}

static int
forget_command (const char *prog, GStrv *args)
{
  g_autofree char *older = NULL, *wait = NULL;
  const GOptionEntry entries[] = {
    { "older-than", 0, 0, G_OPTION_ARG_STRING, &older,
      "Remove the documents indexed more than DURATION ago (30d, 12h, 1w); required", "DURATION" },
    { "wait", 0, 0, G_OPTION_ARG_STRING, &wait,
      "If a pipeline holds the state-dir's lock, wait this long for it (default 0: exit 75)", "DURATION" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = command_context (
    "--older-than DURATION STATE_DIR - remove old documents from the index",
    "Removes from the index in STATE_DIR the documents indexed more than DURATION\n"
    "ago: later runs no longer treat their copies as duplicates. Run 'galley dedup\n"
    "compact' afterwards to give the space back.",
    index_status, entries);
  if (!parse_options (prog, context, args))
    return GALLEY_EXIT_USAGE;
  if (older == NULL)
    return usage_error (prog, "missing --older-than DURATION (e.g. 30d)");
  GTimeSpan older_than = 0;
  g_autoptr(GError) local = NULL;
  if (!galley_parse_duration (older, &older_than, &local))
    return usage_error (prog, "--older-than: %s", local->message);
  DedupIndex *ix = NULL;
  int lock_fd = -1;
  int code = open_index (prog, *args, wait, FALSE, &lock_fd, &ix);
  if (code != GALLEY_EXIT_OK)
    return code;
  gint64 docs = 0;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC - older_than / G_USEC_PER_SEC;
  GError *error = NULL;
  if (dedup_index_forget (ix, before, &docs, &error))
    printf ("forgot %" G_GINT64_FORMAT " documents seen before %s ago; run 'galley dedup compact %s' "
            "to give the space back\n", docs, older, (*args)[1]);
  else
    code = command_fail (prog, error);
  close_index (ix, lock_fd);
  return code;
}

static int
compact_command (const char *prog, GStrv *args)
{
  g_autofree char *wait = NULL;
  const GOptionEntry entries[] = {
    { "wait", 0, 0, G_OPTION_ARG_STRING, &wait,
      "If a pipeline holds the state-dir's lock, wait this long for it (default 0: exit 75)", "DURATION" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = command_context (
    "STATE_DIR - merge the index's segment files and give freed space back",
    "Merges the segment files of the index in STATE_DIR into one, leaving out\n"
    "forgotten documents, and rebuilds the database file to give freed space back\n"
    "(VACUUM).",
    index_status, entries);
  if (!parse_options (prog, context, args))
    return GALLEY_EXIT_USAGE;
  DedupIndex *ix = NULL;
  int lock_fd = -1;
  int code = open_index (prog, *args, wait, FALSE, &lock_fd, &ix);
  if (code != GALLEY_EXIT_OK)
    return code;
  GError *error = NULL;
  if (dedup_index_compact (ix, &error))
    {
      g_autofree char *path = g_build_filename ((*args)[1], DEDUP_INDEX_FILE, NULL);
      printf ("compacted %s\n", path);
    }
  else
    code = command_fail (prog, error);
  close_index (ix, lock_fd);
  return code;
}

/* ---- bands, bucket, cluster, index merge: steps of a sharded run -------------------------- */

static const char step_status[] =
  "Exit status: 0 done, 64 usage, 65 a damaged work file (run the step that wrote\n"
  "it again), 66 a step this one needs has not finished, 73 cannot create, 74 I/O\n"
  "error, 75 another step holds the work directory's lock, 78 configuration\n"
  "(FILE changed since the map steps, for one).";

/* The one pipeline FILE among @args. */
static const char *
pipeline_file (const char *prog, GStrv args, guint first)
{
  guint n = g_strv_length (args);
  if (n <= first)
    {
      usage_error (prog, "missing the pipeline FILE");
      return NULL;
    }
  if (n > first + 1)
    {
      usage_error (prog, "unexpected argument '%s' (one pipeline FILE)", args[first + 1]);
      return NULL;
    }
  return args[first];
}

/* A Dedup with the options of the step's dedup stage. */
static Dedup *
step_dedup (GalleyShardStep *step, GError **error)
{
  g_autoptr(Dedup) self = g_new0 (Dedup, 1);
  self->lock_fd = -1;
  if (!dedup_read_options (self, galley_shard_step_get_options (step), error))
    return NULL;
  return g_steal_pointer (&self);
}

/* Checks that the map step of every shard has finished, and the bucket
 * step of every band when @buckets. */
static gboolean
need_steps (GalleyShardStep *step, guint buckets, GError **error)
{
  for (guint i = 0; i < galley_shard_step_get_shards (step); i++)
    {
      g_autofree char *need = g_strdup_printf ("map-%u", i);
      if (!galley_shard_step_need (step, need, error))
        return FALSE;
    }
  for (guint b = 0; b < buckets; b++)
    {
      g_autofree char *need = g_strdup_printf ("bucket-%u", b);
      if (!galley_shard_step_need (step, need, error))
        return FALSE;
    }
  return TRUE;
}

static int
bands_command (const char *prog, GStrv *args)
{
  const GOptionEntry entries[] = { G_OPTION_ENTRY_NULL };
  g_autoptr(GOptionContext) context = command_context (
    "FILE - how many bucket steps a sharded run of FILE has",
    "Prints the number B of bucket steps of a sharded run of FILE: its dedup stage's\n"
    "bands, the lede key and the exact hash. Run 'galley dedup bucket FILE --band b'\n"
    "for b from 0 to B - 1.",
    step_status, entries);
  if (!parse_options (prog, context, args))
    return GALLEY_EXIT_USAGE;
  const char *file = pipeline_file (prog, *args, 1);
  if (file == NULL)
    return GALLEY_EXIT_USAGE;
  GError *error = NULL;
  g_autoptr(GalleyShardStep) step = galley_shard_step_begin (file, NULL, "bands", "dedup", &error);
  if (step == NULL)
    return command_fail (prog, error);
  g_autoptr(Dedup) self = step_dedup (step, &error);
  if (self == NULL)
    return command_fail (prog, error);
  printf ("%u\n", self->params.bands + 2);
  return GALLEY_EXIT_OK;
}

static int
bucket_command (const char *prog, GStrv *args)
{
  g_autofree char *work = NULL, *band_text = NULL;
  const GOptionEntry entries[] = {
    { "band", 0, 0, G_OPTION_ARG_STRING, &band_text,
      "The band, from 0 to the count 'galley dedup bands FILE' prints, minus 1; required", "B" },
    { "work", 0, 0, G_OPTION_ARG_FILENAME, &work, "Shared work directory of the sharded run; required", "DIR" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = command_context (
    "FILE --band B --work DIR - the documents that share a key of band B",
    "After the map step of every shard: finds the documents of all shards that share\n"
    "a key of band B, and writes them to DIR/dedup/groups-B for the cluster step.",
    step_status, entries);
  if (!parse_options (prog, context, args))
    return GALLEY_EXIT_USAGE;
  const char *file = pipeline_file (prog, *args, 1);
  if (file == NULL)
    return GALLEY_EXIT_USAGE;
  if (work == NULL)
    return usage_error (prog, "missing --work DIR");
  if (band_text == NULL)
    return usage_error (prog, "missing --band B");
  guint64 band = 0;
  if (!g_ascii_string_to_unsigned (band_text, 10, 0, MAX_BANDS + 1, &band, NULL))
    return usage_error (prog, "--band takes a number from 0 to the count 'galley dedup bands FILE' prints, minus 1");
  g_autofree char *step_name = g_strdup_printf ("bucket-%u", (guint) band);
  GError *error = NULL;
  g_autoptr(GalleyShardStep) step = galley_shard_step_begin (file, work, step_name, "dedup", &error);
  if (step == NULL)
    return command_fail (prog, error);
  g_autoptr(Dedup) self = step_dedup (step, &error);
  if (self == NULL)
    return command_fail (prog, error);
  if (band >= self->params.bands + 2)
    return usage_error (prog, "--band is past the last band (see 'galley dedup bands FILE')");
  if (!need_steps (step, 0, &error) || !dedup_step_bucket (step, self, band, &error))
    return command_fail (prog, error);
  return GALLEY_EXIT_OK;
}

static int
cluster_command (const char *prog, GStrv *args)
{
  g_autofree char *work = NULL;
  const GOptionEntry entries[] = {
    { "work", 0, 0, G_OPTION_ARG_FILENAME, &work, "Shared work directory of the sharded run; required", "DIR" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = command_context (
    "FILE --work DIR - the dedup decisions for the whole corpus",
    "After every bucket step: decides, for the documents of all shards, what the\n"
    "dedup stage of a single run of FILE would, and writes the decisions of each\n"
    "shard for its filter step ('galley dedup filter FILE --shard I/N --work DIR').",
    step_status, entries);
  if (!parse_options (prog, context, args))
    return GALLEY_EXIT_USAGE;
  const char *file = pipeline_file (prog, *args, 1);
  if (file == NULL)
    return GALLEY_EXIT_USAGE;
  if (work == NULL)
    return usage_error (prog, "missing --work DIR");
  GError *error = NULL;
  g_autoptr(GalleyShardStep) step = galley_shard_step_begin (file, work, "cluster", "dedup", &error);
  if (step == NULL)
    return command_fail (prog, error);
  g_autoptr(Dedup) self = step_dedup (step, &error);
  if (self == NULL)
    return command_fail (prog, error);
  if (!need_steps (step, self->params.bands + 2, &error))
    return command_fail (prog, error);
  self->entries = g_array_sized_new (FALSE, FALSE, sizeof (Entry), 4096);
  self->ids = g_string_chunk_new (64 * 1024);
  self->sig_blocks = g_ptr_array_new_with_free_func (g_free);
  self->cand = g_array_new (FALSE, FALSE, sizeof (guint32));
  if (!dedup_step_cluster (step, self, &error))
    return command_fail (prog, error);
  return GALLEY_EXIT_OK;
}

static int
index_command (const char *prog, GStrv *args)
{
  g_autofree char *work = NULL, *state = NULL;
  const GOptionEntry entries[] = {
    { "work", 0, 0, G_OPTION_ARG_FILENAME, &work, "Shared work directory of the sharded run; required", "DIR" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state,
      "The state-dir whose index takes the documents (created when missing); required", "STATE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = command_context (
    "merge FILE --work DIR --state-dir STATE - add a sharded run's documents to an index",
    "Adds the documents of a finished sharded run (after 'galley dedup cluster') to\n"
    "the persistent index in STATE, as a plain run of FILE with state-dir=STATE would:\n"
    "later runs with that state-dir find duplicates of them. Merging the same run\n"
    "twice adds nothing. The signature options of FILE's dedup stage must match the\n"
    "index's.",
    step_status, entries);
  if (!parse_options (prog, context, args))
    return GALLEY_EXIT_USAGE;
  if ((*args)[1] == NULL)
    return usage_error (prog, "missing the index command (merge)");
  if (!g_str_equal ((*args)[1], "merge"))
    return usage_error (prog, "unknown index command '%s' (merge)", (*args)[1]);
  const char *file = pipeline_file (prog, *args, 2);
  if (file == NULL)
    return GALLEY_EXIT_USAGE;
  if (work == NULL || state == NULL || *state == '\0')
    return usage_error (prog, "index merge needs --work DIR and --state-dir STATE");
  GError *error = NULL;
  g_autoptr(GalleyShardStep) step = galley_shard_step_begin (file, work, "index-merge", "dedup", &error);
  if (step == NULL)
    return command_fail (prog, error);
  g_autoptr(Dedup) self = step_dedup (step, &error);
  if (self == NULL)
    return command_fail (prog, error);
  if (!need_steps (step, self->params.bands + 2, &error) || !galley_shard_step_need (step, "cluster", &error)
      || !dedup_step_index_merge (step, self, state, &error) || !galley_shard_step_done (step, NULL, &error))
    return command_fail (prog, error);
  return GALLEY_EXIT_OK;
}

/* ---- galley dedup COMMAND ----------------------------------------------------------------- */

typedef struct {
  const char *name;
  int       (*run) (const char *prog, GStrv *args);
} DedupCommand;

static const DedupCommand commands[] = {
  { "stats", stats_command },
  { "forget", forget_command },
  { "compact", compact_command },
  { "bands", bands_command },
  { "bucket", bucket_command },
  { "cluster", cluster_command },
  { "index", index_command },
};

/* Options of any command that take a value as the next argument: the
 * command word is the first argument that is neither an option nor such
 * a value. */
static gboolean
takes_value (const char *arg)
{
  static const char *const with_value[] = {
    "--plugin-dir", "-P", "--older-than", "--wait", "--band", "--work", "--state-dir", NULL
  };
  return g_strv_contains (with_value, arg);
}

int
dedup_command (int argc, char **argv)
{
  const char *prog = argc > 0 ? argv[0] : "galley dedup";
  int at = -1;
  gboolean help = FALSE;
  for (int i = 1; i < argc && at < 0; i++)
    {
      if (takes_value (argv[i]))
        i++;
      else if (g_str_equal (argv[i], "-h") || g_str_equal (argv[i], "--help"))
        help = TRUE;
      else if (argv[i][0] != '-')
        at = i;
    }
  if (at < 0 || g_str_equal (argv[at], "help"))
    {
      if (help || at >= 0)
        {
          fputs (command_help, stdout);
          return GALLEY_EXIT_OK;
        }
      fprintf (stderr, "%s: missing the command\n\n%s", prog, command_help);
      return GALLEY_EXIT_USAGE;
    }
  const char *name = argv[at];
  const DedupCommand *cmd = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (commands) && cmd == NULL; i++)
    if (g_str_equal (commands[i].name, name))
      cmd = &commands[i];
  if (cmd == NULL && g_str_equal (name, "filter"))
    return usage_error (prog, "filter must come right after 'galley dedup': galley dedup filter FILE --shard I/N "
                        "--work DIR");
  if (cmd == NULL)
    return usage_error (prog, "unknown command '%s' (stats, forget, compact, bands, bucket, cluster, filter or index)",
                        name);
  /* "galley dedup", ..., "stats", ... -> "galley dedup stats", ... */
  g_autofree char *cmd_prog = g_strdup_printf ("%s %s", prog, name);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_strv_builder_add (builder, cmd_prog);
  for (int i = 1; i < argc; i++)
    if (i != at)
      g_strv_builder_add (builder, argv[i]);
  g_auto(GStrv) args = g_strv_builder_end (builder);
  return cmd->run (cmd_prog, &args);
}
