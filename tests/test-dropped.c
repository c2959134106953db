/* test-dropped.c: [pipeline] dropped=, the file of documents the stages
 * dropped: what a record holds, input order, a failed or stopped run, the
 * state directory's exactly-once commit, and the location checks. */
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define ARTICLE "The harbour authority opened the new pier on Monday after two years of work, " \
                "and the first ferry docked there in the afternoon with four hundred passengers."

/* Inputs in/NNNN.txt: every third is a copy of ARTICLE (the first of them
 * is kept, the others are duplicates), the rest distinct; input @poison
 * (if < n) carries the marker POISON. */
static void
make_inputs (Fixture *f, guint n, guint poison)
{
  static const char *const words[] = {
    "river", "council", "budget", "school", "railway", "festival", "harvest", "storm", "museum", "bridge",
    "election", "market", "hospital", "library", "airport", "factory", "garden", "theatre", "court", "stadium",
    "orchestra", "vaccine", "drought", "tunnel", "forest", "senate", "island", "glacier", "canal", "mayor",
  };
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/%04u.txt", i);
      GString *text = g_string_new (NULL);
      if (i % 3 == 0)
        g_string_append (text, ARTICLE);
      else
        {
          /* words drawn by a generator seeded with i: no two alike */
          GRand *rand = g_rand_new_with_seed (i);
          g_string_append_printf (text, "Report %u:", i);
          for (guint w = 0; w < 40; w++)
            g_string_append_printf (text, " %s", words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
          g_rand_free (rand);
          if (i == poison)
            g_string_append (text, " POISON");
        }
      galley_test_write (f->dir, name, text->str, text->len);
      g_string_free (text, TRUE);
    }
}

static void
write_pipeline_full (Fixture *f, const char *extra_pipeline_keys, const char *mid_options, const char *dedup_options)
{
  g_autofree char *p = g_strdup_printf (
      "[pipeline]\nstages=in;mid;dedup;out\nstats=run.stats.json\nrejects=\nbatch-size=4\n%s\n"
      "[stage in]\nplugin=files\npaths=in\n\n"
      "[stage mid]\nplugin=test-fail-on\ndrop-on=SPAM\njitter=true\n%s\n"
      "[stage dedup]\nmode=drop\n%s\n"
      "[stage out]\nplugin=export-jsonl\npath=out/kept-{run}.jsonl\n",
      extra_pipeline_keys, mid_options, dedup_options);
  galley_test_write (f->dir, "test.pipeline", p, -1);
}

static void
write_pipeline (Fixture *f, const char *extra_pipeline_keys, const char *mid_options)
{
  write_pipeline_full (f, extra_pipeline_keys, mid_options, "");
}

/* Names in @dir starting with '.' and holding ".tmp-": temporary files. */
static guint
count_temp_files (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (name[0] == '.' && strstr (name, ".tmp-") != NULL)
      n++;
  return n;
}

static gboolean
exists (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* Dedup duplicates and a stage's drops land in the file, in input order,
 * each with its stage, plugin, reason, id and the document as it was. */
static void
test_records (Fixture *f, gconstpointer data)
{
  make_inputs (f, 60, G_MAXUINT);
  galley_test_write (f->dir, "in/0061.txt", "A short SPAM note that the middle stage drops.", -1);
  write_pipeline (f, "dropped=%n.dropped.jsonl", "");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--threads", "4", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "galley: test: 20 dropped documents written to test.dropped.jsonl"));
  g_autofree char *path = g_build_filename (f->dir, "test.dropped.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (path);
  g_assert_cmpuint (recs->len, ==, 20);   /* 19 duplicates (inputs 3, 6, ... 57) and the SPAM note */
  for (guint i = 0; i < 19; i++)
    {
      json_object *rec = g_ptr_array_index (recs, i), *doc = NULL;
      g_autofree char *id = g_strdup_printf ("in/%04u.txt", 3 * (i + 1));
      g_assert_cmpstr (galley_test_get_string (rec, "id"), ==, id);
      g_assert_cmpstr (galley_test_get_string (rec, "pipeline"), ==, "test");
      g_assert_cmpstr (galley_test_get_string (rec, "stage"), ==, "dedup");
      g_assert_cmpstr (galley_test_get_string (rec, "plugin"), ==, "dedup");
      g_assert_cmpstr (galley_test_get_string (rec, "reason"), ==, "duplicate");
      g_assert_true (json_object_object_get_ex (rec, "document", &doc));
      g_assert_cmpstr (galley_test_get_string (doc, "id"), ==, id);
      g_assert_cmpstr (galley_test_get_string (doc, "text"), ==, ARTICLE);
    }
  json_object *spam = g_ptr_array_index (recs, 19);
  g_assert_cmpstr (galley_test_get_string (spam, "id"), ==, "in/0061.txt");
  g_assert_cmpstr (galley_test_get_string (spam, "stage"), ==, "mid");
  g_assert_cmpstr (galley_test_get_string (spam, "plugin"), ==, "test-fail-on");
  g_assert_cmpstr (galley_test_get_string (spam, "reason"), ==, "marked");
  g_assert_cmpuint (count_temp_files (f->dir), ==, 0);

  /* without dropped= nothing is written and nothing is said */
  write_pipeline (f, "", "");
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_autoptr(RunResult) plain = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (plain->status, ==, 0);
  g_assert_false (exists (f, "test.dropped.jsonl"));
  g_assert_null (strstr (plain->err, "dropped documents written"));
}

/* A run that fails on a document: without a state directory the sinks
 * commit what came before the failure, and so does the dropped file,
 * whole; with one, nothing is committed and no dropped file appears. */
static void
test_failed_run (Fixture *f, gconstpointer data)
{
  make_inputs (f, 40, 20);
  write_pipeline (f, "dropped=dropped.jsonl", "fail-on=POISON\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--threads", "3", NULL);
  g_assert_cmpint (r->status, ==, 65);
  g_autofree char *path = g_build_filename (f->dir, "dropped.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (path);
  /* duplicates before input 20: 3, 6, ..., 18 */
  g_assert_cmpuint (recs->len, ==, 6);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 5), "id"), ==, "in/0018.txt");
  g_assert_cmpuint (count_temp_files (f->dir), ==, 0);

  g_assert_cmpint (g_unlink (path), ==, 0);
  write_pipeline (f, "dropped=dropped.jsonl\nstate-dir=state", "fail-on=POISON\n");
  g_autoptr(RunResult) s = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--threads", "3", NULL);
  g_assert_cmpint (s->status, ==, 65);
  g_assert_false (exists (f, "dropped.jsonl"));
  g_assert_cmpuint (count_temp_files (f->dir), ==, 0);
}

/* Stopped by SIGTERM at several moments, then run again: with a state
 * directory and a file per run, every duplicate is in the dropped files
 * exactly once, and no temporary file is left behind. */
static void
test_stopped_runs_exactly_once (Fixture *f, gconstpointer data)
{
  const guint n = 900;
  const guint delays[] = { 5, 80, 250 };
  guint stopped = 0;
  for (guint d = 0; d < G_N_ELEMENTS (delays); d++)
    {
      g_autofree char *state = g_build_filename (f->dir, "state", NULL);
      g_autofree char *out = g_build_filename (f->dir, "out", NULL);
      galley_test_rmdir (state);
      galley_test_rmdir (out);
      make_inputs (f, n, G_MAXUINT);
      g_assert_cmpint (g_mkdir (out, 0755), ==, 0);
      /* the index remembers the first copy in the next run too */
      write_pipeline_full (f, "state-dir=state\ndropped=out/dropped-{run}.jsonl", "", "state-dir=state/dedup\n");

      g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
      g_subprocess_launcher_set_cwd (launcher, f->dir);
      g_autoptr(GError) error = NULL;
      g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("GALLEY_EXE"), "run",
                                                                  "test.pipeline", "--threads", "2", NULL);
      g_assert_no_error (error);
      g_usleep (delays[d] * 1000);
      g_subprocess_send_signal (proc, SIGTERM);
      g_autofree char *err = NULL;
      g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error));
      if (strstr (err, "stopped by") != NULL)
        stopped++;
      /* a signal before main() ends the process like a kill: also fine */
      if (g_subprocess_get_if_exited (proc))
        g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
      g_assert_cmpuint (count_temp_files (out), ==, 0);

      g_autoptr(RunResult) rest = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
      g_assert_cmpint (rest->status, ==, 0);
      g_autoptr(GHashTable) dropped = galley_test_exported_ids (out, "dropped-");
      g_autoptr(GHashTable) kept = galley_test_exported_ids (out, "kept-");
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *id = g_strdup_printf ("in/%04u.txt", i);
          guint want_dropped = i % 3 == 0 && i > 0;
          g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (dropped, id)), ==, want_dropped);
          g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (kept, id)), ==, !want_dropped);
        }
      g_assert_cmpuint (count_temp_files (out), ==, 0);
    }
  g_test_message ("%u of %u runs stopped before their end", stopped, (guint) G_N_ELEMENTS (delays));
  if (stopped == 0)
    g_test_incomplete ("no run was slow enough to be stopped");
}

/* A file per run ({run}) only for a run that dropped something. */
static void
test_no_file_per_run_without_drops (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "One article about the pier and the ferry that docked there.", -1);
  galley_test_write (f->dir, "out/README", "outputs", -1);
  write_pipeline (f, "state-dir=state\ndropped=out/dropped-{run}.jsonl", "");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  g_autoptr(GHashTable) dropped = galley_test_exported_ids (out, "dropped-");
  g_assert_cmpuint (g_hash_table_size (dropped), ==, 0);
  g_autoptr(GDir) d = g_dir_open (out, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_assert_false (g_str_has_prefix (name, "dropped-"));
}

/* The location is checked by `galley check` and before a run reads
 * anything, like stats= and rejects=; a stream cannot take the commit of a
 * state directory. */
static void
test_location_checked (Fixture *f, gconstpointer data)
{
  make_inputs (f, 6, G_MAXUINT);
  write_pipeline (f, "dropped=nodir/d.jsonl", "");
  g_autoptr(RunResult) c = galley_test_run (f->dir, NULL, "check", "test.pipeline", NULL);
  g_assert_cmpint (c->status, ==, 73);
  g_assert_nonnull (strstr (c->err, "test.pipeline: dropped: nodir/d.jsonl: directory nodir does not exist"));
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 73);
  g_assert_nonnull (strstr (r->err, "dropped: nodir/d.jsonl: directory nodir does not exist"));
  g_assert_false (exists (f, "run.stats.json"));   /* failed before reading */

  write_pipeline (f, "dropped=in", "");
  g_autoptr(RunResult) dir = galley_test_run (f->dir, NULL, "check", "test.pipeline", NULL);
  g_assert_cmpint (dir->status, ==, 73);
  g_assert_nonnull (strstr (dir->err, "dropped: in: is a directory"));

  write_pipeline (f, "dropped=/dev/null\nstate-dir=state", "");
  g_autoptr(RunResult) stream = galley_test_run (f->dir, NULL, "check", "test.pipeline", NULL);
  g_assert_cmpint (stream->status, ==, 73);
  g_assert_nonnull (strstr (stream->err, "dropped: /dev/null is not a regular file"));

  /* a stream without a state directory is written through */
  write_pipeline (f, "dropped=/dev/stdout", "");
  g_autoptr(RunResult) out = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (out->status, ==, 0);
  g_assert_nonnull (strstr (out->out, "\"reason\":\"duplicate\""));

  /* --dry-run writes no outputs, the dropped file neither */
  write_pipeline (f, "dropped=d.jsonl", "");
  g_autoptr(RunResult) dry = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--dry-run", NULL);
  g_assert_cmpint (dry->status, ==, 0);
  g_assert_false (exists (f, "d.jsonl"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/dropped/records", test_records);
  ADD ("/dropped/failed-run", test_failed_run);
  ADD ("/dropped/stopped-runs-exactly-once", test_stopped_runs_exactly_once);
  ADD ("/dropped/no-file-per-run-without-drops", test_no_file_per_run_without_drops);
  ADD ("/dropped/location-checked", test_location_checked);
  return g_test_run ();
}
