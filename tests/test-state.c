/* test-state.c: runs with a state directory: incremental sources, the
 * lock, SIGTERM, metrics and history, and exactly-once output after a
 * process killed at many points. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <fcntl.h>
#include <utime.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static void
write_pipeline (Fixture *f, const char *source, const char *extra)
{
  g_autofree char *content = g_strdup_printf (
      "[pipeline]\nstages=in;%sout\nstate-dir=state\nstats=run.stats.json\nrejects=run.rejects.jsonl\n"
      "metrics-file=run.prom\nbatch-size=4\n\n"
      "[stage in]\n%s\n\n%s"
      "[stage out]\nplugin=export-jsonl\npath=out/batch-{run}.jsonl\n",
      extra ? "mid;" : "", source, extra ? extra : "");
  galley_test_write (f->dir, "test.pipeline", content, -1);
}

/* id -> number of times it was exported, over every output file. */
static GHashTable *
exported (Fixture *f)
{
  g_autofree char *dir = g_build_filename (f->dir, "out", NULL);
  return galley_test_exported_ids (dir, "batch-");
}

static guint
count_files (Fixture *f, const char *sub, const char *prefix)
{
  g_autofree char *dir = g_build_filename (f->dir, sub, NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, prefix))
      n++;
  return n;
}

static void
make_inputs (Fixture *f, guint from, guint to)
{
  for (guint i = from; i < to; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/%04u.txt", i);
      g_autofree char *text = g_strdup_printf ("Article %u about the harbour, with enough words to be real.", i);
      galley_test_write (f->dir, name, text, -1);
    }
}

static void
assert_exactly_once (Fixture *f, guint n)
{
  g_autoptr(GHashTable) seen = exported (f);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("in/%04u.txt", i);
      guint times = GPOINTER_TO_UINT (g_hash_table_lookup (seen, id));
      if (times != 1)
        g_error ("%s exported %u times", id, times);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, n);
}

/* @n inputs exported, whatever their names, each exactly once. */
static void
assert_all_once (Fixture *f, guint n)
{
  g_autoptr(GHashTable) seen = exported (f);
  GHashTableIter iter;
  gpointer id, times;
  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &id, &times))
    if (GPOINTER_TO_UINT (times) != 1)
      g_error ("%s exported %u times", (const char *) id, GPOINTER_TO_UINT (times));
  g_assert_cmpuint (g_hash_table_size (seen), ==, n);
}

/* New, touched, changed and forced (--full) inputs. */
static void
test_incremental_files (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 5);
  write_pipeline (f, "plugin=files\npaths=in", NULL);
  g_autoptr(RunResult) r1 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_exactly_once (f, 5);
  /* nothing new: no output file at all */
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_assert_cmpuint (count_files (f, "out", "batch-"), ==, 1);
  /* two new files, one touched with the same content */
  make_inputs (f, 5, 7);
  g_autofree char *touched = g_build_filename (f->dir, "in/0001.txt", NULL);
  g_assert_cmpint (g_utime (touched, NULL), ==, 0);
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_exactly_once (f, 7);
  /* a changed file is read again */
  galley_test_write (f->dir, "in/0002.txt", "Article 2, corrected by the desk.", -1);
  g_autoptr(RunResult) r4 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r4->status, ==, 0);
  g_autoptr(GHashTable) seen = exported (f);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (seen, "in/0002.txt")), ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (seen, "in/0003.txt")), ==, 1);
  /* --full reads everything again */
  g_autoptr(RunResult) r5 = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--full", NULL);
  g_assert_cmpint (r5->status, ==, 0);
  g_autoptr(GHashTable) again = exported (f);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (again, "in/0004.txt")), ==, 2);
  /* history: one stats file per run */
  g_assert_cmpuint (count_files (f, "state/runs", "run-"), ==, 5);
}

/* A growing JSONL file is resumed after its last complete line; a line
 * still being written waits; a rewritten file is read from the start. */
static void
test_incremental_jsonl (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "feed.jsonl", "{\"id\":\"a\",\"text\":\"one\"}\n{\"text\":\"no id\"}\n", -1);
  write_pipeline (f, "plugin=jsonl\npath=feed.jsonl", NULL);
  g_autoptr(RunResult) r1 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_autofree char *feed = g_build_filename (f->dir, "feed.jsonl", NULL);
  FILE *fp = fopen (feed, "a");
  fputs ("{\"id\":\"c\",\"text\":\"three\"}\n{\"id\":\"d\",\"te", fp);
  fclose (fp);
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autofree char *rejects = g_build_filename (f->dir, "run.rejects.jsonl", NULL);
  g_assert_false (g_file_test (rejects, G_FILE_TEST_EXISTS));   /* the half line is not an error */
  fp = fopen (feed, "a");
  fputs ("xt\":\"four\"}\n{\"text\":\"five\"}\n", fp);
  fclose (fp);
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  g_autoptr(GHashTable) seen = exported (f);
  const char *ids[] = { "a", "feed.jsonl:2", "c", "d", "feed.jsonl:5" };
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (seen, ids[i])), ==, 1);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 5);
  /* replaced by a shorter file: read again, with a warning */
  galley_test_write (f->dir, "feed.jsonl", "{\"id\":\"z\",\"text\":\"new\"}\n", -1);
  g_autoptr(RunResult) r4 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r4->status, ==, 0);
  g_assert_nonnull (strstr (r4->err, "changed since the last run"));
  g_autoptr(GHashTable) seen2 = exported (f);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (seen2, "z")), ==, 1);
}

/* A second run exits 75 naming the holder; --wait gives up after its
 * time; a lock file left by a dead process does not block. */
static void
test_lock (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 3);
  write_pipeline (f, "plugin=files\npaths=in", NULL);
  galley_test_write (f->dir, "state/galley.lock", "pid 999999, started 2020-01-01T00:00:00Z\n", -1);
  g_autoptr(RunResult) stale = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (stale->status, ==, 0);

  g_autofree char *lock = g_build_filename (f->dir, "state/galley.lock", NULL);
  int fd = open (lock, O_RDWR);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);
  g_assert_cmpint (ftruncate (fd, 0), ==, 0);
  g_assert_cmpint (pwrite (fd, "pid 4242, started now\n", 22, 0), ==, 22);
  make_inputs (f, 3, 4);
  g_autoptr(RunResult) busy = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (busy->status, ==, 75);
  g_assert_nonnull (strstr (busy->err, "pid 4242"));
  g_autoptr(RunResult) waited = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--wait=0.3", NULL);
  g_assert_cmpint (waited->status, ==, 75);
  g_assert_nonnull (strstr (waited->err, "after waiting"));
  close (fd);
  g_autoptr(RunResult) free_again = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (free_again->status, ==, 0);
  assert_exactly_once (f, 4);
  g_autoptr(RunResult) bad = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--wait=soon", NULL);
  g_assert_cmpint (bad->status, ==, 64);
  g_assert_nonnull (strstr (bad->err, "--wait takes seconds"));
  g_autoptr(RunResult) bad_log = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--log=mail", NULL);
  g_assert_cmpint (bad_log->status, ==, 64);
  g_assert_nonnull (strstr (bad_log->err, "--log must be stderr or syslog, got 'mail'"));
}

/* SIGTERM: no more input is read, what is in flight is exported and
 * committed, and the next run exports the rest. */
static void
test_sigterm_stops_at_document_boundary (Fixture *f, gconstpointer data)
{
  const guint n = 400;
  make_inputs (f, 0, n);
  write_pipeline (f, "plugin=files\npaths=in", "[stage mid]\nplugin=test-fail-on\njitter=true\n\n");
  const char *exe = g_getenv ("GALLEY_EXE");
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn (launcher, &error, exe, "run", "test.pipeline",
                                                              "--threads", "2", NULL);
  g_assert_no_error (error);
  g_usleep (150 * 1000);
  g_subprocess_send_signal (proc, SIGTERM);
  g_autofree char *err = NULL;
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error));
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_autoptr(GHashTable) first = exported (f);
  guint done = g_hash_table_size (first);
  if (done == n)
    {
      g_test_skip ("the run finished before the signal");
      return;
    }
  g_assert_nonnull (strstr (err, "stopped by"));
  /* a prefix of the input, each document whole */
  for (guint i = 0; i < done; i++)
    {
      g_autofree char *id = g_strdup_printf ("in/%04u.txt", i);
      g_assert_true (g_hash_table_contains (first, id));
    }
  g_autoptr(RunResult) rest = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (rest->status, ==, 0);
  assert_exactly_once (f, n);
}

/* Files deleted between listing and reading are skipped ("vanished"),
 * not errors: a spool is emptied by other programs too. */
static void
test_vanished_files (Fixture *f, gconstpointer data)
{
  const guint n = 600;
  make_inputs (f, 0, n);
  write_pipeline (f, "plugin=files\npaths=in", "[stage mid]\nplugin=test-fail-on\njitter=true\n\n");
  const char *exe = g_getenv ("GALLEY_EXE");
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn (launcher, &error, exe, "run", "test.pipeline",
                                                              "--threads", "2", NULL);
  g_assert_no_error (error);
  g_usleep (100 * 1000);
  for (guint i = n - 200; i < n; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/in/%04u.txt", f->dir, i);
      g_unlink (path);
    }
  g_autofree char *err = NULL;
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_autoptr(GHashTable) seen = exported (f);
  guint got = g_hash_table_size (seen);
  if (got >= n)
    {
      g_test_skip ("the run read every file before they were deleted");
      return;
    }
  g_assert_cmpuint (got, >=, n - 200);
  g_autofree char *stats_path = g_build_filename (f->dir, "run.stats.json", NULL);
  g_autofree char *stats = NULL;
  g_assert_true (g_file_get_contents (stats_path, &stats, NULL, NULL));
  g_assert_nonnull (strstr (stats, "\"vanished\""));
  g_autofree char *rejects = g_build_filename (f->dir, "run.rejects.jsonl", NULL);
  g_assert_false (g_file_test (rejects, G_FILE_TEST_EXISTS));
}

/* quick-dirs: an unchanged directory is not listed again; adding a file
 * changes its time, so the new file is found. */
static void
test_quick_dirs (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 4);
  write_pipeline (f, "plugin=files\npaths=in\nquick-dirs=true", NULL);
  g_autoptr(RunResult) r1 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autofree char *stats_path = g_build_filename (f->dir, "run.stats.json", NULL);
  g_autofree char *stats = NULL;
  g_assert_true (g_file_get_contents (stats_path, &stats, NULL, NULL));
  g_assert_nonnull (strstr (stats, "\"unchanged-directories\":1"));
  g_usleep (20 * 1000);   /* a directory time that surely differs */
  make_inputs (f, 4, 5);
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_exactly_once (f, 5);
}

/* Prometheus textfile: success, duration, per-stage figures; a failed
 * run keeps the time of the last success. */
static void
test_metrics_file (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 3);
  write_pipeline (f, "plugin=files\npaths=in", "[stage mid]\nplugin=test-fail-on\nfail-on=POISON\n\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *path = g_build_filename (f->dir, "run.prom", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "galley_run_success{pipeline=\"test\"} 1\n"));
  g_assert_nonnull (strstr (text, "galley_stage_documents{pipeline=\"test\",stage=\"mid\",state=\"in\"} 3\n"));
  g_assert_nonnull (strstr (text, "galley_stage_counter{pipeline=\"test\",stage=\"mid\",name=\"seen\"} 3\n"));
  const char *p = strstr (text, "\ngalley_last_success_timestamp_seconds{pipeline=\"test\"} ");
  g_assert_nonnull (p);
  double last_ok = g_ascii_strtod (strchr (p, '}') + 1, NULL);
  g_assert_cmpfloat (last_ok, >, 1e9);

  galley_test_write (f->dir, "in/bad.txt", "POISON", -1);
  g_autoptr(RunResult) bad = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (bad->status, ==, 65);
  g_autofree char *text2 = NULL;
  g_assert_true (g_file_get_contents (path, &text2, NULL, NULL));
  g_assert_nonnull (strstr (text2, "galley_run_success{pipeline=\"test\"} 0\n"));
  g_assert_nonnull (strstr (text2, "galley_run_exit_code{pipeline=\"test\"} 65\n"));
  p = strstr (text2, "\ngalley_last_success_timestamp_seconds{pipeline=\"test\"} ");
  g_assert_cmpfloat (g_ascii_strtod (strchr (p, '}') + 1, NULL), ==, last_ok);
  /* the failed run committed nothing and left no temporary file */
  assert_exactly_once (f, 3);
  g_assert_cmpuint (count_files (f, "out", ".batch-0"), ==, 0);   /* .batch-NNNNNN.jsonl.tmp-XXXXXX */
}

static void
test_newer_ledger_refused (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 2);
  write_pipeline (f, "plugin=files\npaths=in", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *db = g_build_filename (f->dir, "state/ledger.sqlite", NULL);
  g_autofree char *cmd = g_strdup_printf ("python3 -c \"import sqlite3; c=sqlite3.connect('%s'); "
                                          "c.execute(\\\"UPDATE meta SET value='9' WHERE key='format'\\\"); c.commit()\"", db);
  int status = system (cmd);
  if (status != 0)
    {
      g_test_skip ("python3 with sqlite3 is needed to edit the ledger");
      return;
    }
  g_autofree char *before = NULL, *after = NULL;
  gsize before_len = 0, after_len = 0;
  g_assert_true (g_file_get_contents (db, &before, &before_len, NULL));
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 78);
  g_assert_nonnull (strstr (r2->err, "written by a newer galley"));
  /* refused before anything was written to it */
  g_assert_true (g_file_get_contents (db, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
  galley_test_write (f->dir, "state/ledger.sqlite", "this is not a database, just bytes", -1);
  g_autofree char *wal = g_build_filename (f->dir, "state/ledger.sqlite-wal", NULL);
  g_unlink (wal);
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r3->status, !=, 0);
  g_assert_nonnull (strstr (r3->err, "ledger.sqlite"));
}

/* The CSV (appended) and SQLite sinks of the crash pipeline hold every
 * input exactly once too. */
static void
assert_other_sinks (Fixture *f, guint n)
{
  g_autofree char *csv_path = g_build_filename (f->dir, "out", "all.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit (csv, "\n", -1);
  g_autoptr(GHashTable) rows = g_hash_table_new (g_str_hash, g_str_equal);
  guint count = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (*lines[i] == '\0')
        continue;
      if (!g_hash_table_add (rows, lines[i]))
        g_error ("CSV: %s twice", lines[i]);
      count++;
    }
  g_assert_cmpuint (count, ==, n);

  g_autofree char *db_path = g_build_filename (f->dir, "out", "all.sqlite", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_stmt *stmt = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*), count(DISTINCT id) FROM documents", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, n);
  g_assert_cmpint (sqlite3_column_int (stmt, 1), ==, n);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* Kills the run (SIGKILL) at many points: while documents flow, before a
 * sink's finish(), around the ledger COMMIT and between the renames. After
 * each (or after the next killed run), a normal run must leave every input
 * exported exactly once in all three sinks: JSONL files per run, a CSV file
 * appended to, and SQLite. */
static void
test_killed_runs_export_exactly_once (Fixture *f, gconstpointer data)
{
  const char *points[] = { "document", "finish", "commit-begin", "commit-before-sql", "commit-after-sql",
                           "commit-rename" };
  guint kill_points = 0, total = 0;
  GRand *rand = g_rand_new_with_seed (7);
  galley_test_write (f->dir, "test.pipeline",
      "[pipeline]\nstages=in;out;csv;db\nstate-dir=state\nrejects=run.rejects.jsonl\nbatch-size=4\n\n"
      "[stage in]\nplugin=files\npaths=in\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out/batch-{run}.jsonl\n\n"
      "[stage csv]\nplugin=export-csv\npath=out/all.csv\nappend=true\nheader=false\ncolumns=id\nnewline=lf\n\n"
      "[stage db]\nplugin=export-sqlite\npath=out/all.sqlite\nbatch-size=3\n", -1);
  for (guint round = 0; round < 12; round++)
    for (guint p = 0; p < G_N_ELEMENTS (points); p++)
      {
        /* a few new inputs before each killed run */
        guint add = 1 + g_rand_int_range (rand, 0, 5);
        make_inputs (f, total, total + add);
        total += add;
        /* "document": the Nth document retired; "finish": before the Nth sink's finish() */
        guint nth = g_str_equal (points[p], "document") ? 1 + g_rand_int_range (rand, 0, add)
                  : g_str_equal (points[p], "finish") ? 1 + g_rand_int_range (rand, 0, 3) : 1;
        g_autofree char *spec = g_strdup_printf ("%s:%u", points[p], nth);
        g_setenv ("GALLEY_FAULT", spec, TRUE);
        g_autoptr(RunResult) killed = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
        g_unsetenv ("GALLEY_FAULT");
        if (killed->status == 128 + SIGKILL)
          kill_points++;
        /* every few rounds the recovery run is skipped: the next killed run recovers */
        if (round % 3 == 2)
          continue;
        g_autoptr(RunResult) again = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
        g_assert_cmpint (again->status, ==, 0);
        assert_exactly_once (f, total);
        assert_other_sinks (f, total);
      }
  g_autoptr(RunResult) last = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (last->status, ==, 0);
  assert_exactly_once (f, total);
  assert_other_sinks (f, total);
  g_test_message ("%u runs killed at an injected point", kill_points);
  g_assert_cmpuint (kill_points, >=, 50);
  g_rand_free (rand);
}

/* Starts `galley run test.pipeline` in f->dir and kills it from outside
 * after a random time below @max_us; TRUE if it was killed before it
 * ended. */
static gboolean
run_killed_at_random (Fixture *f, GRand *rand, gint32 max_us)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("GALLEY_EXE"), "run", "-q",
                                                             "test.pipeline", NULL);
  g_assert_no_error (error);
  g_usleep (g_rand_int_range (rand, 0, max_us));
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  return g_subprocess_get_if_signaled (proc);
}

/* The run after a killed one, which must succeed. */
static void
run_after_kill (Fixture *f, guint round)
{
  g_autoptr(RunResult) again = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  if (again->status != 0)
    g_test_message ("round %u, the run after the kill: %s", round, again->err);
  g_assert_cmpint (again->status, ==, 0);
}

/* The first runs that append to a CSV file, killed after the CSV was
 * written and synced but before the ledger commit: the ledger does not
 * know the file yet, and the next run must still cut it back to what it
 * held before (here a line written by someone else, which stays). */
static void
test_killed_first_append (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "test.pipeline",
      "[pipeline]\nstages=in;out;csv;db\nstate-dir=state\n\n"
      "[stage in]\nplugin=files\npaths=in\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out/batch-{run}.jsonl\n\n"
      "[stage csv]\nplugin=export-csv\npath=out/all.csv\nappend=true\nheader=false\ncolumns=id\nnewline=lf\n\n"
      "[stage db]\nplugin=export-sqlite\npath=out/all.sqlite\n", -1);
  galley_test_write (f->dir, "out/all.csv", "written before\n", -1);
  make_inputs (f, 0, 5);
  for (guint killed_runs = 0; killed_runs < 2; killed_runs++)
    {
      /* the third sink's finish(): after the CSV's */
      g_setenv ("GALLEY_FAULT", "finish:3", TRUE);
      g_autoptr(RunResult) killed = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
      g_unsetenv ("GALLEY_FAULT");
      g_assert_cmpint (killed->status, ==, 128 + SIGKILL);
      g_autofree char *path = g_build_filename (f->dir, "out", "all.csv", NULL);
      g_autofree char *csv = NULL;
      g_assert_true (g_file_get_contents (path, &csv, NULL, NULL));
      /* the killed run did write its rows */
      g_assert_nonnull (strstr (csv, "in/0004.txt\n"));
    }
  g_autoptr(RunResult) again = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (again->status, ==, 0);
  assert_exactly_once (f, 5);
  g_autofree char *path = g_build_filename (f->dir, "out", "all.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (path, &csv, NULL, NULL));
  g_assert_cmpstr (csv, ==, "written before\nin/0000.txt\nin/0001.txt\nin/0002.txt\nin/0003.txt\nin/0004.txt\n");
  /* the committed run left no mark behind */
  g_assert_cmpuint (count_files (f, "state", "appending-"), ==, 0);
}

/* The same with a JSONL feed that grows between runs, killed at random
 * moments from outside. */
static void
test_killed_jsonl_at_random_times (Fixture *f, gconstpointer data)
{
  write_pipeline (f, "plugin=jsonl\npath=feed.jsonl", "[stage mid]\nplugin=test-fail-on\njitter=true\n\n");
  g_autofree char *feed = g_build_filename (f->dir, "feed.jsonl", NULL);
  GRand *rand = g_rand_new_with_seed (11);
  guint total = 0, killed = 0;
  for (guint round = 0; round < 10; round++)
    {
      FILE *fp = fopen (feed, "a");
      for (guint i = 0; i < 40; i++, total++)
        fprintf (fp, "{\"id\":\"in/%04u.txt\",\"text\":\"Line %u of the feed.\"}\n", total, total);
      fclose (fp);
      if (run_killed_at_random (f, rand, 60000))
        killed++;
      run_after_kill (f, round);
      assert_exactly_once (f, total);
    }
  g_test_message ("%u of 10 runs killed before they ended", killed);
  g_rand_free (rand);
}

/* First runs killed from outside at a random moment of their first
 * quarter second (about the time a whole run takes), each from an empty
 * state directory and no output: while the ledger, the outputs and their
 * databases are being created, while the sinks finish, or not at all. The
 * run after each must work and export every input exactly once in all
 * three sinks. */
static void
test_killed_first_runs (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "test.pipeline",
      "[pipeline]\nstages=in;out;csv;db\nstate-dir=state\nbatch-size=4\n\n"
      "[stage in]\nplugin=files\npaths=in\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out/batch-{run}.jsonl\n\n"
      "[stage csv]\nplugin=export-csv\npath=out/all.csv\nappend=true\nheader=false\ncolumns=id\nnewline=lf\n\n"
      "[stage db]\nplugin=export-sqlite\npath=out/all.sqlite\nbatch-size=3\n", -1);
  make_inputs (f, 0, 12);
  g_autofree char *state = g_build_filename (f->dir, "state", NULL);
  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  GRand *rand = g_rand_new_with_seed (5);
  guint killed = 0;
  for (guint round = 0; round < 60; round++)
    {
      galley_test_rmdir (state);
      galley_test_rmdir (out);
      if (run_killed_at_random (f, rand, 250000))
        killed++;
      run_after_kill (f, round);
      assert_exactly_once (f, 12);
      assert_other_sinks (f, 12);
    }
  g_test_message ("%u of 60 runs killed before they ended", killed);
  g_rand_free (rand);
}

/* A directory of more files than the listing stats on one thread: the
 * files it knows are stat()ed ahead (on two threads), and changed, touched,
 * new and deleted files are still told apart. */
static void
test_incremental_large_dir (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 300);
  /* a second directory, listed after in/'s files: once they are known,
   * its files are stat()ed before they are looked up */
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/more/m%03u.txt", i);
      g_autofree char *text = g_strdup_printf ("Another article %u, in a directory of its own.", i);
      galley_test_write (f->dir, name, text, -1);
    }
  write_pipeline (f, "plugin=files\npaths=in", NULL);
  g_autoptr(RunResult) r1 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_autoptr(GHashTable) first = exported (f);
  g_assert_cmpuint (g_hash_table_size (first), ==, 400);
  /* three rewritten with other sizes, one touched with the same content,
   * one deleted, two new */
  for (guint i = 10; i < 300; i += 100)
    {
      g_autofree char *name = g_strdup_printf ("in/%04u.txt", i);
      galley_test_write (f->dir, name, "Rewritten by the desk, a little longer than before it was.", -1);
    }
  g_autofree char *touched = g_build_filename (f->dir, "in/0150.txt", NULL);
  g_assert_cmpint (g_utime (touched, NULL), ==, 0);
  g_autofree char *gone = g_build_filename (f->dir, "in/0151.txt", NULL);
  g_assert_cmpint (g_unlink (gone), ==, 0);
  make_inputs (f, 300, 302);
  galley_test_write (f->dir, "in/more/m050.txt", "Another article, rewritten at greater length by the desk.", -1);
  g_autofree char *touched2 = g_build_filename (f->dir, "in/more/m060.txt", NULL);
  g_assert_cmpint (g_utime (touched2, NULL), ==, 0);
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autoptr(GHashTable) seen = exported (f);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 402);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (seen, "in/more/m050.txt")), ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (seen, "in/more/m060.txt")), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (seen, "in/more/m099.txt")), ==, 1);
  for (guint i = 0; i < 302; i++)
    {
      g_autofree char *id = g_strdup_printf ("in/%04u.txt", i);
      guint want = i % 100 == 10 ? 2 : 1;
      g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (seen, id)), ==, want);
    }
  /* and nothing the next time */
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  g_autoptr(GHashTable) again = exported (f);
  g_assert_cmpuint (g_hash_table_size (again), ==, 402);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (again, "in/more/m050.txt")), ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (again, "in/0010.txt")), ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (again, "in/0011.txt")), ==, 1);
}

/* Makes f->dir/state/ledger.sqlite by hand with @sql; returns it open, and
 * its path in @db_path unless NULL. */
static sqlite3 *
ledger_by_hand (Fixture *f, const char *sql, char **db_path)
{
  g_autofree char *state = g_build_filename (f->dir, "state", NULL);
  g_assert_cmpint (g_mkdir_with_parents (state, 0755), ==, 0);
  g_autofree char *path = g_build_filename (state, "ledger.sqlite", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  if (db_path != NULL)
    *db_path = g_steal_pointer (&path);
  return db;
}

/* A run killed while it created the ledger, as earlier builds could leave
 * it: the meta table exists, without its format row. The next run
 * completes the ledger instead of refusing it as of an unknown format. */
static void
test_ledger_interrupted_creation (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 3);
  write_pipeline (f, "plugin=files\npaths=in", NULL);
  sqlite3_close (ledger_by_hand (f, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);", NULL));
  g_autoptr(RunResult) r1 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_assert_null (strstr (r1->err, "ledger"));
  assert_exactly_once (f, 3);
  /* and it is a working ledger: the next run finds nothing new */
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_exactly_once (f, 3);
}

/* A ledger of format 1 (a row per input) is converted when opened: the
 * inputs it knows are not read again, and a damaged group of inputs is
 * read again with a warning instead of being trusted. */
static void
test_ledger_format_1 (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 4);
  write_pipeline (f, "plugin=files\npaths=in", NULL);
  g_autofree char *db_path = NULL;
  sqlite3 *db = ledger_by_hand (f,
                     "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "CREATE TABLE inputs (stage TEXT NOT NULL, key TEXT NOT NULL, size INTEGER, mtime INTEGER,"
                     " offset INTEGER, lines INTEGER, hash INTEGER, run INTEGER, PRIMARY KEY (stage, key)) WITHOUT ROWID;"
                     "CREATE TABLE files (path TEXT PRIMARY KEY, length INTEGER NOT NULL, run INTEGER);"
                     "CREATE TABLE runs (id INTEGER PRIMARY KEY, started TEXT, finished TEXT, state TEXT,"
                     " docs_in INTEGER, docs_out INTEGER, inputs INTEGER);"
                     "CREATE TABLE pending (run INTEGER, tmp TEXT, final TEXT);"
                     "INSERT INTO meta VALUES ('format', '1');"
                     "INSERT INTO runs VALUES (1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 'published', 3, 3, 3);",
                     &db_path);
  /* format 1 knew inputs 0 to 2 as they are now (size and time) */
  sqlite3_stmt *ins = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO inputs VALUES ('in', ?, ?, ?, -1, -1, 0, 1)", -1, &ins, NULL),
                   ==, SQLITE_OK);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *key = g_strdup_printf ("in/%04u.txt", i);
      g_autofree char *path = g_build_filename (f->dir, key, NULL);
      struct stat full;
      g_assert_cmpint (stat (path, &full), ==, 0);
      sqlite3_bind_text (ins, 1, key, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (ins, 2, full.st_size);
      sqlite3_bind_int64 (ins, 3, (gint64) full.st_mtim.tv_sec * G_USEC_PER_SEC + full.st_mtim.tv_nsec / 1000);
      g_assert_cmpint (sqlite3_step (ins), ==, SQLITE_DONE);
      sqlite3_reset (ins);
    }
  /* and 70,000 files gone since: more than one row of the new format holds */
  g_assert_cmpint (sqlite3_exec (db, "BEGIN", NULL, NULL, NULL), ==, SQLITE_OK);
  for (guint i = 0; i < 70000; i++)
    {
      g_autofree char *key = g_strdup_printf ("in/old-%06u.txt", i);
      sqlite3_bind_text (ins, 1, key, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (ins, 2, 10);
      sqlite3_bind_int64 (ins, 3, 1);
      g_assert_cmpint (sqlite3_step (ins), ==, SQLITE_DONE);
      sqlite3_reset (ins);
    }
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_finalize (ins);
  sqlite3_close (db);

  g_autoptr(RunResult) r1 = galley_test_run (f->dir, NULL, "run", "-v", "test.pipeline", NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_assert_nonnull (strstr (r1->err, "converted to format 2 (70003 inputs)"));
  g_autoptr(GHashTable) seen = exported (f);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 1);   /* only the one format 1 did not know */
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (seen, "in/0003.txt")), ==, 1);
  /* 70,004 inputs of in/ now, in two rows */
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  sqlite3_stmt *q = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*), sum(count) FROM input_groups WHERE dir LIKE '%in/'", -1,
                                       &q, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (q), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int64 (q, 0), ==, 2);
  g_assert_cmpint (sqlite3_column_int64 (q, 1), ==, 70004);
  sqlite3_finalize (q);
  sqlite3_close (db);

  /* damage the group of in/: its inputs are read again, with a warning */
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE input_groups SET entries = x'0500000041' WHERE dir LIKE '%in/' AND part = 0",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_close (db);
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_assert_nonnull (strstr (r2->err, "are damaged"));
  g_autoptr(GHashTable) again = exported (f);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (again, "in/0000.txt")), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (again, "in/0003.txt")), ==, 2);
  /* the group was written anew: the run after that reads nothing */
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  g_assert_null (strstr (r3->err, "damaged"));
  g_autoptr(GHashTable) last = exported (f);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (last, "in/0003.txt")), ==, 2);
}

/* Directories of 256 files or more have their ledger records written
 * while the run goes on, into a transaction that only the commit ends: a
 * run killed after such a write, or at a document later on, leaves the
 * ledger as it was, and the next run exports those files once. */
static void
test_killed_after_early_writes (Fixture *f, gconstpointer data)
{
  const char *kills[] = { "ledger-early:1", "ledger-early:2", "document:450", "document:800" };
  guint total = 0;
  write_pipeline (f, "plugin=files\npaths=in", NULL);
  for (guint k = 0; k < G_N_ELEMENTS (kills); k++)
    {
      /* three new directories of 300 files each round */
      for (guint d = 0; d < 3; d++)
        for (guint i = 0; i < 300; i++)
          {
            g_autofree char *name = g_strdup_printf ("in/d%u-%u/%04u.txt", k, d, total + 300 * d + i);
            g_autofree char *text = g_strdup_printf ("Article %u about the harbour, with enough words to be real.",
                                                     total + 300 * d + i);
            galley_test_write (f->dir, name, text, -1);
          }
      total += 900;
      g_setenv ("GALLEY_FAULT", kills[k], TRUE);
      g_autoptr(RunResult) killed = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
      g_unsetenv ("GALLEY_FAULT");
      g_assert_cmpint (killed->status, ==, 128 + SIGKILL);
      g_autoptr(RunResult) again = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
      g_assert_cmpint (again->status, ==, 0);
      assert_all_once (f, total);
    }
  /* a directory whose 1,000 files come between its ten subdirectories
   * (walked in name order): its record is merged again several times in
   * the one transaction; killed after the twelfth early write */
  for (guint d = 0; d < 10; d++)
    {
      for (guint i = 0; i < 260; i++)
        {
          g_autofree char *name = g_strdup_printf ("in/mix/s%u/%04u.txt", d, total + i);
          g_autofree char *text = g_strdup_printf ("Article %u about the harbour, with enough words to be real.",
                                                   total + i);
          galley_test_write (f->dir, name, text, -1);
        }
      total += 260;
      for (guint i = 0; i < 100; i++)
        {
          g_autofree char *name = g_strdup_printf ("in/mix/s%u-%04u.txt", d, total + i);
          g_autofree char *text = g_strdup_printf ("Article %u about the harbour, with enough words to be real.",
                                                   total + i);
          galley_test_write (f->dir, name, text, -1);
        }
      total += 100;
    }
  g_setenv ("GALLEY_FAULT", "ledger-early:12", TRUE);
  g_autoptr(RunResult) mixed = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_unsetenv ("GALLEY_FAULT");
  g_assert_cmpint (mixed->status, ==, 128 + SIGKILL);
  g_autoptr(RunResult) recovered = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (recovered->status, ==, 0);
  assert_all_once (f, total);
  /* and all of them are known: a last run reads nothing */
  g_autoptr(RunResult) last = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (last->status, ==, 0);
  assert_all_once (f, total);
}

/* A ledger that an earlier version kept in WAL mode, with a commit still
 * in its -wal file (a run killed before SQLite copied it back): the
 * commit counts, and the ledger is switched to a rollback journal. */
static void
copy_file (const char *from, const char *to)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (from, &data, &len, NULL));
  g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
}

static void
test_ledger_from_wal (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 2);
  write_pipeline (f, "plugin=files\npaths=in", NULL);
  g_autoptr(RunResult) r1 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_autofree char *db_path = g_build_filename (f->dir, "state", "ledger.sqlite", NULL);
  g_autofree char *wal_path = g_strconcat (db_path, "-wal", NULL);
  g_autofree char *db_copy = g_strconcat (db_path, ".copy", NULL);
  g_autofree char *wal_copy = g_strconcat (wal_path, ".copy", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
                                     "INSERT INTO meta VALUES ('probe', 'in the wal');", NULL, NULL, NULL), ==, SQLITE_OK);
  /* the files as a killed process leaves them: the commit only in -wal */
  copy_file (db_path, db_copy);
  copy_file (wal_path, wal_copy);
  sqlite3_close (db);
  g_assert_cmpint (g_rename (db_copy, db_path), ==, 0);
  g_assert_cmpint (g_rename (wal_copy, wal_path), ==, 0);

  make_inputs (f, 2, 3);
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_exactly_once (f, 3);
  g_assert_false (g_file_test (wal_path, G_FILE_TEST_EXISTS));
  g_autofree char *header = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (db_path, &header, &len, NULL));
  g_assert_cmpuint (len, >, 20);
  g_assert_cmpint (header[18], ==, 1);   /* file format 1: rollback journal, 2 would be WAL */
  g_assert_cmpint (header[19], ==, 1);
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  sqlite3_stmt *q = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = 'probe'", -1, &q, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (q), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (q, 0), ==, "in the wal");
  sqlite3_finalize (q);
  sqlite3_close (db);
}

/* A run of test.pipeline in which the file whose path contains @target
 * grows at every read() (the LD_PRELOAD shim tests/plugins/grow-on-read.c). */
static RunResult *
run_with_grow_shim (Fixture *f, const char *target)
{
  const char *shim = g_getenv ("GALLEY_TEST_GROW_SHIM");
  g_assert_nonnull (shim);
  g_autofree char *asan = g_strconcat (g_getenv ("ASAN_OPTIONS") ? g_getenv ("ASAN_OPTIONS") : "",
                                       ":verify_asan_link_order=0", NULL);
  g_autofree char *old_asan = g_strdup (g_getenv ("ASAN_OPTIONS"));
  g_setenv ("ASAN_OPTIONS", asan, TRUE);
  g_setenv ("LD_PRELOAD", shim, TRUE);
  g_setenv ("GROW_ON_READ", target, TRUE);
  RunResult *r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_unsetenv ("LD_PRELOAD");
  g_unsetenv ("GROW_ON_READ");
  if (old_asan != NULL)
    g_setenv ("ASAN_OPTIONS", old_asan, TRUE);
  else
    g_unsetenv ("ASAN_OPTIONS");
  return r;
}

/* With quick-dirs, a directory is passed over while its time stays the
 * same; a file in it that grew while it was read (its directory's time
 * does not change) must not let the directory be recorded, or the next
 * run would never read that file. */
static void
test_quick_dirs_changed_while_reading (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 3);
  write_pipeline (f, "plugin=files\npaths=in\nquick-dirs=true", NULL);
  g_autoptr(RunResult) r1 = run_with_grow_shim (f, "in/0001.txt");
  g_assert_cmpint (r1->status, ==, 0);
  g_autoptr(GHashTable) first = exported (f);
  g_assert_cmpuint (g_hash_table_size (first), ==, 2);
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_exactly_once (f, 3);
  /* now the directory is recorded: passed over */
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_exactly_once (f, 3);
  g_autofree char *stats = NULL;
  g_autofree char *stats_path = g_build_filename (f->dir, "run.stats.json", NULL);
  g_assert_true (g_file_get_contents (stats_path, &stats, NULL, NULL));
  g_assert_nonnull (strstr (stats, "unchanged-directories"));
}

/* A file that grows while it is read (a writer still at work, played by
 * an LD_PRELOAD shim that appends to it at every read()) is skipped and
 * not recorded; the next run reads it whole, once. */
static void
test_changed_while_reading (Fixture *f, gconstpointer data)
{
  /* 40 files: a helper thread reads them ahead of the walk */
  make_inputs (f, 0, 40);
  write_pipeline (f, "plugin=files\npaths=in", NULL);
  g_autoptr(RunResult) r1 = run_with_grow_shim (f, "in/0021.txt");
  g_assert_cmpint (r1->status, ==, 0);
  g_autoptr(GHashTable) seen = exported (f);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 39);
  g_assert_false (g_hash_table_contains (seen, "in/0021.txt"));
  g_autofree char *stats = NULL;
  g_autofree char *stats_path = g_build_filename (f->dir, "run.stats.json", NULL);
  g_assert_true (g_file_get_contents (stats_path, &stats, NULL, NULL));
  g_assert_nonnull (strstr (stats, "changed-while-reading"));

  /* the writer is done: read whole, once */
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_exactly_once (f, 40);
  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  g_autoptr(GDir) d = g_dir_open (out, 0, NULL);
  const char *name;
  gboolean found = FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (name[0] == '.')
        continue;   /* the owner mark of out/batch-{run}.jsonl */
      g_autofree char *path = g_build_filename (out, name, NULL);
      g_autoptr(GPtrArray) recs = galley_test_read_jsonl (path);
      for (guint i = 0; i < recs->len; i++)
        if (g_str_equal (galley_test_get_string (g_ptr_array_index (recs, i), "id"), "in/0021.txt"))
          {
            found = TRUE;
            g_assert_true (g_str_has_suffix (galley_test_get_string (g_ptr_array_index (recs, i), "text"),
                                             "more words more words"));
          }
    }
  g_assert_true (found);
}

static char *
read_metrics (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, "run.prom", NULL);
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static void
assert_metric (const char *text, const char *line)
{
  g_autofree char *want = g_strdup_printf ("\n%s\n", line);
  if (strstr (text, want) == NULL)
    g_error ("no line '%s' in the metrics:\n%s", line, text);
}

/* The galley_*_total counters sum every run of the state directory: runs
 * by result, and the documents of the committed runs only (a failed run is
 * repeated by the next); they survive the metrics file, and a damaged
 * totals file starts them again from zero. */
static void
test_metrics_totals (Fixture *f, gconstpointer data)
{
  make_inputs (f, 0, 3);
  write_pipeline (f, "plugin=files\npaths=in",
                  "[stage mid]\nplugin=test-fail-on\nfail-on=POISON\ndrop-on=SPAM\n\n");
  galley_test_write (f->dir, "in/spam.txt", "SPAM", -1);
  g_autoptr(RunResult) r1 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_autofree char *m1 = read_metrics (f);
  assert_metric (m1, "# TYPE galley_runs_total counter");
  assert_metric (m1, "galley_runs_total{pipeline=\"test\",result=\"success\"} 1");
  assert_metric (m1, "galley_runs_total{pipeline=\"test\",result=\"failure\"} 0");
  assert_metric (m1, "galley_documents_total{pipeline=\"test\",state=\"in\"} 4");
  assert_metric (m1, "galley_documents_total{pipeline=\"test\",state=\"out\"} 3");
  assert_metric (m1, "galley_stage_documents_total{pipeline=\"test\",stage=\"mid\",state=\"dropped\"} 1");
  assert_metric (m1, "galley_stage_dropped_total{pipeline=\"test\",stage=\"mid\",reason=\"marked\"} 1");
  /* the last run's gauges are still there */
  assert_metric (m1, "galley_run_documents{pipeline=\"test\",state=\"in\"} 4");

  /* a failed run counts as a run, its documents do not */
  galley_test_write (f->dir, "in/bad.txt", "POISON", -1);
  make_inputs (f, 3, 5);
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 65);
  g_autofree char *m2 = read_metrics (f);
  assert_metric (m2, "galley_runs_total{pipeline=\"test\",result=\"failure\"} 1");
  assert_metric (m2, "galley_documents_total{pipeline=\"test\",state=\"in\"} 4");

  /* the next run reads what the failed one did not commit; the counters
   * live in the state directory, not in the metrics file */
  g_autofree char *bad = g_build_filename (f->dir, "in", "bad.txt", NULL);
  g_assert_cmpint (g_unlink (bad), ==, 0);
  g_autofree char *prom = g_build_filename (f->dir, "run.prom", NULL);
  g_assert_cmpint (g_unlink (prom), ==, 0);
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  g_autofree char *m3 = read_metrics (f);
  assert_metric (m3, "galley_runs_total{pipeline=\"test\",result=\"success\"} 2");
  assert_metric (m3, "galley_runs_total{pipeline=\"test\",result=\"failure\"} 1");
  assert_metric (m3, "galley_documents_total{pipeline=\"test\",state=\"in\"} 6");
  assert_metric (m3, "galley_documents_total{pipeline=\"test\",state=\"out\"} 5");
  assert_metric (m3, "galley_stage_documents_total{pipeline=\"test\",stage=\"mid\",state=\"in\"} 6");
  assert_exactly_once (f, 5);

  /* a damaged totals file: a warning, and the counters start over */
  galley_test_write (f->dir, "state/totals.json", "{\"version\":1,", -1);
  make_inputs (f, 5, 6);
  g_autoptr(RunResult) r4 = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r4->status, ==, 0);
  g_assert_nonnull (strstr (r4->err, "totals.json: not a totals file of version 1; the run counters start again from zero"));
  g_autofree char *m4 = read_metrics (f);
  assert_metric (m4, "galley_runs_total{pipeline=\"test\",result=\"success\"} 1");
  assert_metric (m4, "galley_documents_total{pipeline=\"test\",state=\"in\"} 1");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/state/incremental-files", test_incremental_files);
  ADD ("/state/incremental-jsonl", test_incremental_jsonl);
  ADD ("/state/lock", test_lock);
  ADD ("/state/sigterm", test_sigterm_stops_at_document_boundary);
  ADD ("/state/metrics-file", test_metrics_file);
  ADD ("/state/metrics-totals", test_metrics_totals);
  ADD ("/state/quick-dirs", test_quick_dirs);
  ADD ("/state/vanished-files", test_vanished_files);
  ADD ("/state/newer-ledger", test_newer_ledger_refused);
  ADD ("/state/incremental-large-dir", test_incremental_large_dir);
  ADD ("/state/ledger-format-1", test_ledger_format_1);
  ADD ("/state/ledger-interrupted-creation", test_ledger_interrupted_creation);
  ADD ("/state/ledger-from-wal", test_ledger_from_wal);
  ADD ("/state/killed-after-early-writes", test_killed_after_early_writes);
  ADD ("/state/killed-first-append", test_killed_first_append);
  ADD ("/state/changed-while-reading", test_changed_while_reading);
  ADD ("/state/quick-dirs-changed-while-reading", test_quick_dirs_changed_while_reading);
  /* hundreds of runs: in the slow suite (not under valgrind) */
  if (g_test_slow ())
    {
      ADD ("/state/killed-runs", test_killed_runs_export_exactly_once);
      ADD ("/state/killed-jsonl", test_killed_jsonl_at_random_times);
      ADD ("/state/killed-first-runs", test_killed_first_runs);
    }
  return g_test_run ();
}
