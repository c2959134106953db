/* test-run-options.c: options of `galley run` a new user reaches for:
 * --limit, a pipeline on standard input, --set pipeline.stages leaving
 * stages out, short options with attached values, --wait durations, and
 * usage errors of one line plus a hint. */
#include "galley-test-util.h"

#include <string.h>

static void
make_files (Fixture *f, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/%03u.txt", i);
      g_autofree char *text = g_strdup_printf ("Article %u about the harbour.", i);
      galley_test_write (f->dir, name, text, -1);
    }
}

static void
make_feed (Fixture *f, guint n)
{
  GString *feed = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (feed, "{\"id\":\"a%03u\",\"text\":\"Article %u about the harbour.\"}\n", i, i);
  galley_test_write (f->dir, "feed.jsonl", feed->str, feed->len);
  g_string_free (feed, TRUE);
}

/* A source -> export-jsonl pipeline; @extra goes into [pipeline]. */
static void
write_pipeline (Fixture *f, const char *source, const char *extra)
{
  g_autofree char *p = g_strdup_printf (
      "[pipeline]\nstages=in;out\nstats=run.stats.json\n%s\n[stage in]\n%s\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out/batch-{run}.jsonl\n", extra, source);
  galley_test_write (f->dir, "test.pipeline", p, -1);
}

static json_object *
read_stats (Fixture *f)
{
  return galley_test_read_json (f->dir, "run.stats.json");
}

static guint
count_lines (const char *text)
{
  guint n = 0;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

/* A usage error: exit 64, the message on one line and the hint on the next. */
static void
assert_usage_error (RunResult *r, const char *message, const char *command)
{
  g_assert_cmpint (r->status, ==, 64);
  g_assert_cmpuint (count_lines (r->err), ==, 2);
  g_assert_true (g_str_has_prefix (r->err, "galley: "));
  g_assert_nonnull (strstr (r->err, message));
  g_autofree char *hint = g_strdup_printf ("\nTry '%s --help' for more information.\n", command);
  g_assert_true (g_str_has_suffix (r->err, hint));
}

/* Without a state directory: the first N documents, in order, and the
 * stats say why the run stopped. */
static void
test_limit (Fixture *f, gconstpointer data)
{
  make_files (f, 10);
  write_pipeline (f, "plugin=files\npaths=in", "");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--limit", "3", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "galley: test: stopped by --limit after 3 documents; the rest was not read"));
  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  g_autoptr(GHashTable) ids = galley_test_exported_ids (out, "batch-");
  g_assert_cmpuint (g_hash_table_size (ids), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *id = g_strdup_printf ("in/%03u.txt", i);
      g_assert_true (g_hash_table_contains (ids, id));
    }
  g_autoptr(json_object) stats = read_stats (f);
  g_assert_cmpstr (galley_test_get_string (stats, "stopped_by"), ==, "limit");
  json_object *v = NULL;
  g_assert_true (json_object_object_get_ex (stats, "documents_in", &v));
  g_assert_cmpint (json_object_get_int64 (v), ==, 3);

  /* a limit above the input reads everything */
  g_autoptr(RunResult) all = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--limit", "1000", NULL);
  g_assert_cmpint (all->status, ==, 0);
  g_assert_null (strstr (all->err, "stopped by"));
}

/* With a state directory, runs with --limit read on where the last one
 * stopped: every input exported exactly once, nothing lost. */
static void
test_limit_with_state (Fixture *f, gconstpointer data)
{
  gboolean jsonl = GPOINTER_TO_INT (data);
  const guint n = 11;
  if (jsonl)
    make_feed (f, n);
  else
    make_files (f, n);
  write_pipeline (f, jsonl ? "plugin=jsonl\npath=feed.jsonl" : "plugin=files\npaths=in", "state-dir=state");
  g_autoptr(RunResult) first = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--limit", "4", NULL);
  g_assert_cmpint (first->status, ==, 0);
  g_assert_nonnull (strstr (first->err, "stopped by --limit after 4 documents; the rest is left for the next run"));
  g_autoptr(RunResult) second = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--limit", "4", NULL);
  g_assert_cmpint (second->status, ==, 0);
  g_autoptr(RunResult) rest = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (rest->status, ==, 0);
  g_autoptr(json_object) stats = read_stats (f);
  json_object *v = NULL;
  g_assert_true (json_object_object_get_ex (stats, "documents_in", &v));
  g_assert_cmpint (json_object_get_int64 (v), ==, n - 8);

  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  g_autoptr(GHashTable) ids = galley_test_exported_ids (out, "batch-");
  g_assert_cmpuint (g_hash_table_size (ids), ==, n);
  GHashTableIter it;
  gpointer key, times;
  g_hash_table_iter_init (&it, ids);
  while (g_hash_table_iter_next (&it, &key, &times))
    if (GPOINTER_TO_UINT (times) != 1)
      g_error ("%s exported %u times", (const char *) key, GPOINTER_TO_UINT (times));
}

static void
test_limit_bad_values (Fixture *f, gconstpointer data)
{
  make_files (f, 2);
  write_pipeline (f, "plugin=files\npaths=in", "");
  const char *bad[] = { "0", "x", "-1", "3x", "", "99999999999999999999" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--limit", bad[i], NULL);
      g_autofree char *want = g_strdup_printf ("--limit takes a number of documents from 1, got '%s'", bad[i]);
      assert_usage_error (r, want, "galley run");
    }
  g_autoptr(RunResult) shard = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--limit", "2", "--shard",
                                                "0/2", "--work", "w", NULL);
  assert_usage_error (shard, "cannot be used with --shard", "galley run");
}

/* `galley run -` and `galley check -` read the pipeline from standard
 * input; its name is "stdin" and messages call it "(standard input)". */
static void
test_pipeline_from_stdin (Fixture *f, gconstpointer data)
{
  make_files (f, 3);
  const char *p = "[pipeline]\nstages=in;out\n\n[stage in]\nplugin=files\npaths=in\n\n"
                  "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n";
  g_autoptr(RunResult) r = galley_test_run (f->dir, p, "run", "-", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "galley: stdin: 3 in, 3 out"));
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, ==, 3);
  g_autofree char *stats = g_build_filename (f->dir, "stdin.stats.json", NULL);
  g_assert_true (g_file_test (stats, G_FILE_TEST_IS_REGULAR));

  g_autoptr(RunResult) c = galley_test_run (f->dir, p, "check", "-", NULL);
  g_assert_cmpint (c->status, ==, 0);
  g_assert_true (g_str_has_prefix (c->out, "(standard input): OK: in (source files) -> out (sink export-jsonl)"));

  g_autoptr(RunResult) bad = galley_test_run (f->dir, "[pipeline]\nstages=in\n[stage in]\nplugin=files\ncolour=red\n",
                                              "check", "-", NULL);
  g_assert_cmpint (bad->status, ==, 78);
  g_assert_nonnull (strstr (bad->err, "(standard input):5: [stage in] colour: unknown key"));

  g_autoptr(RunResult) empty = galley_test_run (f->dir, "", "run", "-", NULL);
  g_assert_cmpint (empty->status, ==, 78);
  g_assert_nonnull (strstr (empty->err, "(standard input): no [pipeline] group"));
}

/* --set pipeline.stages may leave out stages the file defines: a warning
 * for each, and --set on one of them is ignored with a warning. */
static void
test_set_stages_leaves_out (Fixture *f, gconstpointer data)
{
  make_files (f, 4);
  galley_test_write (f->dir, "test.pipeline",
                     "[pipeline]\nstages=in;mid;out\nstats=run.stats.json\n\n[stage in]\nplugin=files\npaths=in\n\n"
                     "[stage mid]\nplugin=test-fail-on\ndrop-on=Article\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--set", "pipeline.stages=in;out",
                                            "--set", "mid.drop-on=x", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "galley: warning: test.pipeline: stage 'mid' is left out by --set pipeline.stages"));
  g_assert_nonnull (strstr (r->err, "--set mid.drop-on: stage 'mid' is left out by --set pipeline.stages; ignored"));
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, ==, 4);   /* mid, which drops them all, did not run */

  /* a stage neither in the file nor in stages= is still an error */
  g_autoptr(RunResult) bad = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--set", "pipeline.stages=in;out",
                                              "--set", "nosuch.key=1", NULL);
  g_assert_cmpint (bad->status, ==, 78);
  g_assert_nonnull (strstr (bad->err, "--set nosuch.key: no stage 'nosuch'"));
  /* without --set pipeline.stages, a group missing from stages= is an error */
  galley_test_write (f->dir, "test.pipeline",
                     "[pipeline]\nstages=in;out\n\n[stage in]\nplugin=files\npaths=in\n\n"
                     "[stage mid]\nplugin=test-fail-on\n\n[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(RunResult) listed = galley_test_run (f->dir, NULL, "check", "test.pipeline", NULL);
  g_assert_cmpint (listed->status, ==, 78);
  g_assert_nonnull (strstr (listed->err, "stage 'mid' is not in [pipeline] stages=in;out"));
}

/* -j1, -P DIR attached, --wait=4m, as other tools take them. */
static void
test_option_forms (Fixture *f, gconstpointer data)
{
  make_files (f, 2);
  write_pipeline (f, "plugin=files\npaths=in", "state-dir=state");
  g_autoptr(RunResult) j = galley_test_run (f->dir, NULL, "run", "-j1", "test.pipeline", NULL);
  g_assert_cmpint (j->status, ==, 0);
  g_autoptr(json_object) stats = read_stats (f);
  json_object *v = NULL;
  g_assert_true (json_object_object_get_ex (stats, "threads", &v));
  g_assert_cmpint (json_object_get_int (v), ==, 1);
  g_autoptr(RunResult) j3 = galley_test_run (f->dir, NULL, "run", "-j3", "-q", "--full", "test.pipeline", NULL);
  g_assert_cmpint (j3->status, ==, 0);
  g_autoptr(json_object) stats3 = read_stats (f);
  g_assert_true (json_object_object_get_ex (stats3, "threads", &v));
  g_assert_cmpint (json_object_get_int (v), ==, 3);
  const char *waits[] = { "--wait=4m", "--wait=90", "--wait=1.5", "--wait=2h", "--wait" };
  for (guint i = 0; i < G_N_ELEMENTS (waits); i++)
    {
      g_autoptr(RunResult) w = galley_test_run (f->dir, NULL, "run", waits[i], "test.pipeline", NULL);
      g_assert_cmpint (w->status, ==, 0);
    }
  const char *bad_waits[] = { "--wait=nan", "--wait=-1", "--wait=8d", "--wait=4parsecs" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_waits); i++)
    {
      g_autoptr(RunResult) w = galley_test_run (f->dir, NULL, "run", bad_waits[i], "test.pipeline", NULL);
      assert_usage_error (w, "--wait takes seconds or a duration (90, 4m, 1h) up to 7 days", "galley run");
    }
  g_autoptr(RunResult) jx = galley_test_run (f->dir, NULL, "run", "-jx", "test.pipeline", NULL);
  assert_usage_error (jx, "-j", "galley run");
}

/* Usage errors of every command: one line, then where the help is. */
static void
test_usage_error_lines (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) none = galley_test_run (f->dir, NULL, "run", NULL);
  assert_usage_error (none, "missing pipeline FILE", "galley run");
  g_autoptr(RunResult) two = galley_test_run (f->dir, NULL, "check", "a", "b", NULL);
  assert_usage_error (two, "expected one pipeline FILE, got 2", "galley check");
  g_autoptr(RunResult) opt = galley_test_run (f->dir, NULL, "run", "--no-such-option", "x", NULL);
  assert_usage_error (opt, "--no-such-option", "galley run");
  g_autoptr(RunResult) insp = galley_test_run (f->dir, NULL, "inspect", "a", "b", NULL);
  assert_usage_error (insp, "expected at most one PLUGIN", "galley inspect");
}

/* A misspelt key, plugin or command gets "did you mean" with the name
 * that is there. */
static void
test_did_you_mean (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "An article.", -1);
  static const struct { const char *file, *message; int status; } cases[] = {
    { "[pipeline]\nstages=in;out\nrejcts=r.jsonl\n[stage in]\nplugin=files\npaths=in\n[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
      "t.pipeline:3: [pipeline] rejcts: unknown key (allowed: stages, description, threads, batch-size, stats, "
      "rejects, state-dir, metrics-file, dropped, report, report-samples); did you mean 'rejects'?", 78 },
    { "[pipeline]\nstages=in;out\n[stage in]\nplugin=files\npath=in\n[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
      "t.pipeline:5: [stage in] path: unknown key (allowed: plugin, on-error, paths, ", 78 },
    { "[pipeline]\nstages=in;out\n[stage in]\nplugin=files\npath=in\n[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
      "did you mean 'paths'?", 78 },
    { "[pipeline]\nstages=in;out\n[stage in]\nplugin=file\npaths=in\n[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
      "t.pipeline:4: [stage in] plugin: unknown plugin 'file' (did you mean 'files'?): no galley-file.so in ", 78 },
    { "[pipeline]\nstages=in;dedupe;out\n[stage in]\nplugin=files\npaths=in\n[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
      "no [stage dedupe] group, so plugin=dedupe was assumed: unknown plugin 'dedupe' (did you mean 'dedup'?)", 78 },
    { "[pipeline]\nstages=in;out\n[stage in]\nplugin=files\npaths=in\ncolour=red\n[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
      "colour: unknown key (allowed: plugin, on-error, paths, recursive, include, exclude, ", 78 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      galley_test_write (f->dir, "t.pipeline", cases[i].file, -1);
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", "t.pipeline", NULL);
      g_assert_cmpint (r->status, ==, cases[i].status);
      if (strstr (r->err, cases[i].message) == NULL)
        g_error ("case %u: expected '%s' in: %s", i, cases[i].message, r->err);
      /* colour: nothing near, no guess */
      if (strstr (r->err, "colour") != NULL && strstr (r->err, "did you mean") != NULL)
        g_error ("a guess for colour: %s", r->err);
    }
  galley_test_write (f->dir, "t.pipeline", "[pipeline]\nstages=in;out\n[stage in]\nplugin=files\npaths=in\n"
                     "[stage out]\nplugin=export-jsonl\npath=o.jsonl\n", -1);
  g_autoptr(RunResult) set = galley_test_run (f->dir, NULL, "check", "t.pipeline", "--set", "in.exclud=x", NULL);
  g_assert_cmpint (set->status, ==, 78);
  g_assert_nonnull (strstr (set->err, "--set in.exclud: unknown key 'exclud' (allowed: "));
  g_assert_nonnull (strstr (set->err, "; did you mean 'exclude'?"));

  g_autoptr(RunResult) cmd = galley_test_run (f->dir, NULL, "chek", "t.pipeline", NULL);
  g_assert_cmpint (cmd->status, ==, 64);
  g_assert_cmpstr (cmd->err, ==, "galley: unknown command 'chek'; did you mean 'check'?\n"
                                 "Try 'galley --help' for more information.\n");
  g_autoptr(RunResult) plugin = galley_test_run (f->dir, NULL, "dedupe", "stats", NULL);
  g_assert_cmpint (plugin->status, ==, 64);
  g_assert_true (g_str_has_prefix (plugin->err, "galley: unknown command 'dedupe'; did you mean 'dedup'?\n"));
  g_autoptr(RunResult) none = galley_test_run (f->dir, NULL, "frobnicate", NULL);
  g_assert_cmpstr (none->err, ==, "galley: unknown command 'frobnicate'\nTry 'galley --help' for more information.\n");
  g_autoptr(RunResult) nocmd = galley_test_run (f->dir, NULL, "strip", NULL);
  g_assert_cmpint (nocmd->status, ==, 64);
  g_assert_true (g_str_has_prefix (nocmd->err, "galley: unknown command 'strip': plugin strip has no command of its own\n"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/run/limit", test_limit);
  g_test_add ("/run/limit-with-state-files", Fixture, GINT_TO_POINTER (FALSE), galley_test_fixture_setup,
              test_limit_with_state, galley_test_fixture_teardown);
  g_test_add ("/run/limit-with-state-jsonl", Fixture, GINT_TO_POINTER (TRUE), galley_test_fixture_setup,
              test_limit_with_state, galley_test_fixture_teardown);
  ADD ("/run/limit-bad-values", test_limit_bad_values);
  ADD ("/run/pipeline-from-stdin", test_pipeline_from_stdin);
  ADD ("/run/set-stages-leaves-out", test_set_stages_leaves_out);
  ADD ("/run/option-forms", test_option_forms);
  ADD ("/run/usage-error-lines", test_usage_error_lines);
  ADD ("/run/did-you-mean", test_did_you_mean);
  return g_test_run ();
}
