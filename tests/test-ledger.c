/* test-ledger.c: the state directory and the files sinks append to or
 * number by run: a file owned by another state directory, the rows of a
 * failed run, numbering after a reset state directory, and the ledger's
 * pending renames checked before they are done. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

/* A pipeline @name.pipeline: files from @in_dir, then @sinks (stage
 * groups, listed in @stages after "in"), with state directory @state. */
static void
write_pipeline (Fixture *f, const char *name, const char *state, const char *in_dir, const char *stages,
                const char *sinks)
{
  g_autofree char *file = g_strdup_printf ("%s.pipeline", name);
  g_autofree char *content = g_strdup_printf ("[pipeline]\nstages=in;%s\nstate-dir=%s\n\n"
                                              "[stage in]\nplugin=files\npaths=%s\n\n%s",
                                              stages, state, in_dir, sinks);
  galley_test_write (f->dir, file, content, -1);
}

#define CSV_SINK "[stage csv]\nplugin=export-csv\npath=out.csv\nappend=true\ncolumns=id\nnewline=lf\n\n"
#define JSONL_SINK "[stage jsonl]\nplugin=export-jsonl\npath=out/news-{run}.jsonl\n\n"

static void
make_input (Fixture *f, const char *name)
{
  g_autofree char *text = g_strdup_printf ("Article %s about the harbour, with enough words to be real.", name);
  galley_test_write (f->dir, name, text, -1);
}

static char *
read_file (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  char *content = NULL;
  if (!g_file_get_contents (path, &content, NULL, NULL))
    return NULL;
  return content;
}

static RunResult *
run (Fixture *f, const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s.pipeline", name);
  return galley_test_run (f->dir, NULL, "run", file, NULL);
}

static gboolean
exists (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* Two pipelines with their own state directories append to one CSV file:
 * the second is refused (exit 73) instead of having its rows cut off
 * later by the first as the tail of an unfinished run; the owner mark,
 * removed by hand, hands the file over. */
static void
test_csv_owned_by_another_state_dir (Fixture *f, gconstpointer data)
{
  make_input (f, "inA/a0.txt");
  make_input (f, "inA/a1.txt");
  make_input (f, "inB/b0.txt");
  make_input (f, "inB/b1.txt");
  write_pipeline (f, "a", "stateA", "inA", "csv", CSV_SINK);
  write_pipeline (f, "b", "stateB", "inB", "csv", CSV_SINK);

  g_autoptr(RunResult) a1 = run (f, "a");
  g_assert_cmpint (a1->status, ==, 0);
  g_autoptr(RunResult) b1 = run (f, "b");
  g_assert_cmpint (b1->status, ==, 73);
  g_assert_nonnull (strstr (b1->err, "out.csv"));
  g_assert_nonnull (strstr (b1->err, "stateA"));
  g_assert_nonnull (strstr (b1->err, ".out.csv.galley-owner"));
  g_autofree char *after_b = read_file (f, "out.csv");
  g_assert_cmpstr (after_b, ==, "id\ninA/a0.txt\ninA/a1.txt\n");

  make_input (f, "inA/a2.txt");
  g_autoptr(RunResult) a2 = run (f, "a");
  g_assert_cmpint (a2->status, ==, 0);
  g_assert_null (strstr (a2->err, "removing"));
  g_autofree char *after_a2 = read_file (f, "out.csv");
  g_assert_cmpstr (after_a2, ==, "id\ninA/a0.txt\ninA/a1.txt\ninA/a2.txt\n");

  /* handed over: B appends, and now A is the one refused */
  g_autofree char *mark = g_build_filename (f->dir, ".out.csv.galley-owner", NULL);
  g_assert_cmpint (g_unlink (mark), ==, 0);
  g_autoptr(RunResult) b2 = run (f, "b");
  g_assert_cmpint (b2->status, ==, 0);
  make_input (f, "inA/a3.txt");
  g_autoptr(RunResult) a3 = run (f, "a");
  g_assert_cmpint (a3->status, ==, 73);
  g_autofree char *after_a3 = read_file (f, "out.csv");
  g_assert_cmpstr (after_a3, ==, "id\ninA/a0.txt\ninA/a1.txt\ninA/a2.txt\ninB/b0.txt\ninB/b1.txt\n");
}

/* The same for files numbered by run in one directory. */
static void
test_jsonl_owned_by_another_state_dir (Fixture *f, gconstpointer data)
{
  make_input (f, "inA/a0.txt");
  make_input (f, "inB/b0.txt");
  write_pipeline (f, "a", "stateA", "inA", "jsonl", JSONL_SINK);
  write_pipeline (f, "b", "stateB", "inB", "jsonl", JSONL_SINK);
  g_autoptr(RunResult) a1 = run (f, "a");
  g_assert_cmpint (a1->status, ==, 0);
  g_autoptr(RunResult) b1 = run (f, "b");
  g_assert_cmpint (b1->status, ==, 73);
  g_assert_nonnull (strstr (b1->err, "stateA"));
  g_autofree char *news1 = g_build_filename (f->dir, "out/news-000001.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (news1);
  g_assert_cmpuint (recs->len, ==, 1);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "id"), ==, "inA/a0.txt");
  g_assert_false (exists (f, "out/news-000002.jsonl"));
}

/* A sink after the CSV fails in finish() (a full disk): the run exits 74
 * and the rows it appended are gone at once, not only when the next run
 * cuts them off. */
static void
test_failed_run_leaves_no_rows (Fixture *f, gconstpointer data)
{
  make_input (f, "in/0.txt");
  make_input (f, "in/1.txt");
  write_pipeline (f, "good", "state", "in", "csv", CSV_SINK);
  write_pipeline (f, "bad", "state", "in", "csv;full", CSV_SINK "[stage full]\nplugin=test-fail-finish\n\n");
  /* a first run that fails leaves no rows either */
  g_autoptr(RunResult) r0 = run (f, "bad");
  g_assert_cmpint (r0->status, ==, 74);
  g_autofree char *after_r0 = read_file (f, "out.csv");
  g_assert_true (after_r0 == NULL || *after_r0 == '\0');

  g_autoptr(RunResult) r1 = run (f, "good");
  g_assert_cmpint (r1->status, ==, 0);
  make_input (f, "in/2.txt");
  make_input (f, "in/3.txt");
  g_autoptr(RunResult) r2 = run (f, "bad");
  g_assert_cmpint (r2->status, ==, 74);
  g_assert_nonnull (strstr (r2->err, "No space left on device"));
  g_autofree char *after_r2 = read_file (f, "out.csv");
  g_assert_cmpstr (after_r2, ==, "id\nin/0.txt\nin/1.txt\n");

  g_autoptr(RunResult) r3 = run (f, "good");
  g_assert_cmpint (r3->status, ==, 0);
  g_assert_null (strstr (r3->err, "removing"));
  g_autofree char *after_r3 = read_file (f, "out.csv");
  g_assert_cmpstr (after_r3, ==, "id\nin/0.txt\nin/1.txt\nin/2.txt\nin/3.txt\n");
}

/* The state directory removed, as cron.md allows: the next run exports
 * everything again into a new file numbered after the existing ones,
 * replacing none of them. */
static void
test_reset_state_dir_keeps_numbered_files (Fixture *f, gconstpointer data)
{
  make_input (f, "in/0.txt");
  write_pipeline (f, "p", "state", "in", "jsonl", JSONL_SINK);
  g_autoptr(RunResult) r1 = run (f, "p");
  g_assert_cmpint (r1->status, ==, 0);
  make_input (f, "in/1.txt");
  g_autoptr(RunResult) r2 = run (f, "p");
  g_assert_cmpint (r2->status, ==, 0);
  g_autofree char *first = read_file (f, "out/news-000001.jsonl");
  g_autofree char *second = read_file (f, "out/news-000002.jsonl");
  g_assert_nonnull (first);
  g_assert_nonnull (second);

  g_autofree char *state = g_build_filename (f->dir, "state", NULL);
  galley_test_rmdir (state);
  g_autoptr(RunResult) r3 = run (f, "p");
  g_assert_cmpint (r3->status, ==, 0);
  g_autofree char *first_after = read_file (f, "out/news-000001.jsonl");
  g_autofree char *second_after = read_file (f, "out/news-000002.jsonl");
  g_assert_cmpstr (first_after, ==, first);
  g_assert_cmpstr (second_after, ==, second);
  g_autofree char *news3 = g_build_filename (f->dir, "out/news-000003.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (news3);
  g_assert_cmpuint (recs->len, ==, 2);

  /* and the numbering goes on from there */
  make_input (f, "in/2.txt");
  g_autoptr(RunResult) r4 = run (f, "p");
  g_assert_cmpint (r4->status, ==, 0);
  g_assert_true (exists (f, "out/news-000004.jsonl"));
  g_autofree char *third_after = read_file (f, "out/news-000003.jsonl");
  g_assert_nonnull (strstr (third_after, "in/0.txt"));
}

static void
ledger_exec (Fixture *f, const char *sql)
{
  g_autofree char *path = g_build_filename (f->dir, "state", "ledger.sqlite", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  char *msg = NULL;
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s: %s", path, sql, msg);
  sqlite3_close (db);
}

/* Rows added by hand to the ledger's pending renames: only a temporary
 * file named as the sinks name theirs, beside its target, a regular file
 * over a regular file or nothing, is renamed; the others are dropped with
 * a warning and their files stay where they are. */
static void
test_forged_pending_renames (Fixture *f, gconstpointer data)
{
  make_input (f, "in/0.txt");
  write_pipeline (f, "p", "state", "in", "jsonl", JSONL_SINK);
  g_autoptr(RunResult) r1 = run (f, "p");
  g_assert_cmpint (r1->status, ==, 0);

  galley_test_write (f->dir, "secret.txt", "keep me here", -1);
  galley_test_write (f->dir, "out/.x.jsonl.tmp-ABCDEF", "{}\n", -1);
  galley_test_write (f->dir, "out/.link.jsonl.tmp-ABC123", "{}\n", -1);
  galley_test_write (f->dir, "out/.good.jsonl.tmp-Abc123", "{\"id\":\"good\"}\n", -1);
  g_autofree char *secret = g_build_filename (f->dir, "secret.txt", NULL);
  g_autofree char *link = g_build_filename (f->dir, "out/link.jsonl", NULL);
  g_assert_cmpint (symlink (secret, link), ==, 0);
  g_autofree char *tmp_link = g_build_filename (f->dir, "out/.s.jsonl.tmp-QWERTY", NULL);
  g_assert_cmpint (symlink (secret, tmp_link), ==, 0);
  g_autofree char *moved = g_build_filename (f->dir, "moved.txt", NULL);
  g_autofree char *sql = g_strdup_printf (
      "UPDATE runs SET state = 'committed';"
      "INSERT INTO pending VALUES (1, '%s', '%s');"            /* any file, any name */
      "INSERT INTO pending VALUES (1, 'out/.x.jsonl.tmp-ABCDEF', 'x.jsonl');"   /* another directory */
      "INSERT INTO pending VALUES (1, 'out/.link.jsonl.tmp-ABC123', 'out/link.jsonl');"   /* over a symlink */
      "INSERT INTO pending VALUES (1, 'out/.s.jsonl.tmp-QWERTY', 'out/s.jsonl');"   /* a symlink */
      "INSERT INTO pending VALUES (1, 'out/.good.jsonl.tmp-Abc123', 'out/good.jsonl');",
      secret, moved);
  ledger_exec (f, sql);

  g_autoptr(RunResult) r2 = run (f, "p");
  g_assert_cmpint (r2->status, ==, 0);
  g_autofree char *content = read_file (f, "secret.txt");
  g_assert_cmpstr (content, ==, "keep me here");
  g_assert_nonnull (strstr (r2->err, secret));
  g_assert_false (exists (f, "moved.txt"));
  g_assert_false (exists (f, "x.jsonl"));
  g_assert_true (exists (f, "out/.x.jsonl.tmp-ABCDEF"));
  g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  g_assert_false (exists (f, "out/s.jsonl"));
  /* the one a sink could have made is put in place */
  g_autofree char *good = read_file (f, "out/good.jsonl");
  g_assert_cmpstr (good, ==, "{\"id\":\"good\"}\n");
  /* and the rows are gone: the run after warns no more */
  g_autoptr(RunResult) r3 = run (f, "p");
  g_assert_cmpint (r3->status, ==, 0);
  g_assert_null (strstr (r3->err, secret));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/ledger/csv-owned-by-another-state-dir", test_csv_owned_by_another_state_dir);
  ADD ("/ledger/jsonl-owned-by-another-state-dir", test_jsonl_owned_by_another_state_dir);
  ADD ("/ledger/failed-run-leaves-no-rows", test_failed_run_leaves_no_rows);
  ADD ("/ledger/reset-state-dir-keeps-numbered-files", test_reset_state_dir_keeps_numbered_files);
  ADD ("/ledger/forged-pending-renames", test_forged_pending_renames);
  return g_test_run ();
}
