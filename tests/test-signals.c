/* test-signals.c: SIGTERM and SIGINT at several moments of a run, for
 * every source and every sink. A stopped run exits 0 with every document
 * it exported whole; with a state directory the next run exports the rest,
 * so that every input reaches every sink exactly once. A run blocked on
 * input (a pipe with no data, a FIFO with no writer) stops within a second.
 */
#include "galley-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SINKS                                                                                          \
  "[stage mid]\nplugin=test-fail-on\njitter=true\n\n"                                                 \
  "[stage out]\nplugin=export-jsonl\npath=out/batch-{run}.jsonl\n\n"                                  \
  "[stage csv]\nplugin=export-csv\npath=out/all.csv\nappend=true\nheader=false\ncolumns=id\nnewline=lf\n\n" \
  "[stage db]\nplugin=export-sqlite\npath=out/all.sqlite\nbatch-size=3\n"

typedef enum { SOURCE_FILES, SOURCE_JSONL, SOURCE_JSONL_GZ } SourceKind;

static const char *
source_name (SourceKind kind)
{
  return kind == SOURCE_FILES ? "files" : kind == SOURCE_JSONL ? "jsonl" : "jsonl.gz";
}

/* The id of input @i as the source names it. */
static char *
input_id (SourceKind kind, guint i)
{
  return kind == SOURCE_FILES ? g_strdup_printf ("in/%05u.txt", i) : g_strdup_printf ("a%05u", i);
}

static void
make_inputs (Fixture *f, SourceKind kind, guint n)
{
  const char *source;
  if (kind == SOURCE_FILES)
    {
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *name = g_strdup_printf ("in/%05u.txt", i);
          g_autofree char *text = g_strdup_printf ("Article %u about the harbour, with enough words to be real.", i);
          galley_test_write (f->dir, name, text, -1);
        }
      source = "plugin=files\npaths=in";
    }
  else
    {
      GString *feed = g_string_new (NULL);
      for (guint i = 0; i < n; i++)
        g_string_append_printf (feed, "{\"id\":\"a%05u\",\"text\":\"Article %u about the harbour, with enough "
                                "words to be real.\"}\n", i, i);
      if (kind == SOURCE_JSONL)
        galley_test_write (f->dir, "feed.jsonl", feed->str, feed->len);
      else
        {
          g_autoptr(GZlibCompressor) gz = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
          g_autoptr(GMemoryOutputStream) mem = G_MEMORY_OUTPUT_STREAM (g_memory_output_stream_new_resizable ());
          g_autoptr(GOutputStream) out = g_converter_output_stream_new (G_OUTPUT_STREAM (mem), G_CONVERTER (gz));
          g_assert_true (g_output_stream_write_all (out, feed->str, feed->len, NULL, NULL, NULL));
          g_assert_true (g_output_stream_close (out, NULL, NULL));
          galley_test_write (f->dir, "feed.jsonl.gz", g_memory_output_stream_get_data (mem),
                             g_memory_output_stream_get_data_size (mem));
        }
      g_string_free (feed, TRUE);
      source = kind == SOURCE_JSONL ? "plugin=jsonl\npath=feed.jsonl" : "plugin=jsonl\npath=feed.jsonl.gz";
    }
  g_autofree char *pipeline = g_strdup_printf (
      "[pipeline]\nstages=in;mid;out;csv;db\nstate-dir=state\nbatch-size=8\n\n[stage in]\n%s\n\n" SINKS, source);
  galley_test_write (f->dir, "test.pipeline", pipeline, -1);
}

/* id -> times exported, over the JSONL files of every run. */
static GHashTable *
exported_jsonl (Fixture *f)
{
  g_autofree char *dir = g_build_filename (f->dir, "out", NULL);
  return galley_test_exported_ids (dir, "batch-");
}

/* Every input exactly once in the JSONL files, the CSV file and SQLite. */
static void
assert_exactly_once (Fixture *f, SourceKind kind, guint n)
{
  g_autoptr(GHashTable) seen = exported_jsonl (f);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = input_id (kind, i);
      guint times = GPOINTER_TO_UINT (g_hash_table_lookup (seen, id));
      if (times != 1)
        g_error ("%s: JSONL has %s %u times", source_name (kind), id, times);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, n);

  g_autofree char *csv_path = g_build_filename (f->dir, "out", "all.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit (csv, "\n", -1);
  g_autoptr(GHashTable) rows = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0' && !g_hash_table_add (rows, lines[i]))
      g_error ("%s: CSV has %s twice", source_name (kind), lines[i]);
  g_assert_cmpuint (g_hash_table_size (rows), ==, n);

  g_autofree char *db_path = g_build_filename (f->dir, "out", "all.sqlite", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_stmt *stmt = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*), count(DISTINCT id) FROM documents", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, n);
  g_assert_cmpint (sqlite3_column_int (stmt, 1), ==, n);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* Starts `galley run test.pipeline`, sends @sig after @delay_ms and waits.
 * Returns whether the run stopped before its end (its stderr says so). */
static gboolean
run_signalled (Fixture *f, int sig, guint delay_ms)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("GALLEY_EXE"), "run",
                                                              "test.pipeline", "--threads", "2", NULL);
  g_assert_no_error (error);
  g_usleep (delay_ms * 1000);
  g_subprocess_send_signal (proc, sig);
  g_autofree char *err = NULL;
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error));
  g_assert_no_error (error);
  /* a signal that comes before main() (the process still being loaded,
   * on a busy machine) ends it like a kill: the next run must recover */
  if (g_subprocess_get_if_signaled (proc) && g_subprocess_get_term_sig (proc) == sig && *err == '\0')
    {
      g_test_message ("signal %d after %u ms came before galley could catch it", sig, delay_ms);
      return FALSE;
    }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    g_error ("a run stopped by signal %d after %u ms did not exit 0: %s", sig, delay_ms, err);
  return strstr (err, "stopped by") != NULL;
}

typedef struct {
  SourceKind kind;
  guint      n;
} SourceCase;

/* For each signal and moment (at start-up, early, in the middle): the
 * stopped run exits 0, the next one exports the rest, and every input is
 * in every sink exactly once. */
static void
test_stop_and_resume (Fixture *f, gconstpointer data)
{
  const SourceCase *c = data;
  const int sigs[] = { SIGTERM, SIGINT };
  const guint delays[] = { 5, 60, 300 };
  guint stopped = 0;
  for (guint s = 0; s < G_N_ELEMENTS (sigs); s++)
    for (guint d = 0; d < G_N_ELEMENTS (delays); d++)
      {
        g_autofree char *state = g_build_filename (f->dir, "state", NULL);
        g_autofree char *out = g_build_filename (f->dir, "out", NULL);
        galley_test_rmdir (state);
        galley_test_rmdir (out);
        make_inputs (f, c->kind, c->n);
        if (run_signalled (f, sigs[s], delays[d]))
          stopped++;
        g_autoptr(RunResult) rest = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
        if (rest->status != 0)
          g_error ("the run after a signal failed (%d): %s", rest->status, rest->err);
        assert_exactly_once (f, c->kind, c->n);
        /* and a third run finds nothing new */
        g_autoptr(RunResult) again = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
        g_assert_cmpint (again->status, ==, 0);
        assert_exactly_once (f, c->kind, c->n);
      }
  g_test_message ("%s: %u of 6 runs stopped before their end", source_name (c->kind), stopped);
  if (stopped == 0)
    g_test_incomplete ("no run was slow enough to be stopped");
}

/* The case: a long feed stopped once, then runs without a signal
 * until one finds nothing new; no line may be left behind. */
static void
test_jsonl_stopped_feed_is_finished (Fixture *f, gconstpointer data)
{
  const guint n = 4000;
  make_inputs (f, SOURCE_JSONL, n);
  gboolean stopped = run_signalled (f, SIGTERM, 400);
  g_autoptr(RunResult) next = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--stats", "next.stats.json",
                                               NULL);
  g_assert_cmpint (next->status, ==, 0);
  if (stopped)
    {
      g_autofree char *stats = NULL;
      g_autofree char *stats_path = g_build_filename (f->dir, "next.stats.json", NULL);
      g_assert_true (g_file_get_contents (stats_path, &stats, NULL, NULL));
      g_assert_null (strstr (stats, "\"unchanged-inputs\""));
    }
  assert_exactly_once (f, SOURCE_JSONL, n);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (1500 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

/* Sends @sig to a run that waits for input and checks it ends within a
 * second, exit 0, with what it had read. */
static void
assert_stops_while_blocked (Fixture *f, GSubprocess *proc, int sig)
{
  g_autoptr(GError) error = NULL;
  g_usleep (300 * 1000);
  g_autoptr(GCancellable) timeout = g_cancellable_new ();
  gint64 t0 = g_get_monotonic_time ();
  g_subprocess_send_signal (proc, sig);
  GThread *timer = g_thread_new ("timeout", cancel_later, timeout);
  gboolean ended = g_subprocess_wait (proc, timeout, &error);
  gint64 took = g_get_monotonic_time () - t0;
  if (!ended)
    g_subprocess_force_exit (proc);
  g_thread_join (timer);
  if (!ended)
    g_error ("a run blocked on input did not stop within 1.5 s of signal %d", sig);
  g_test_message ("stopped %.0f ms after the signal", took / 1000.0);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_assert_cmpint (took, <, G_USEC_PER_SEC);
}

/* `sleep 30 | galley run stdin.pipeline`: a pipe that stays open and
 * empty. */
static void
test_stdin_blocked (Fixture *f, gconstpointer data)
{
  const char *format = data;
  g_autofree char *pipeline = g_strdup_printf (
      "[pipeline]\nstages=in;out\n\n[stage in]\nplugin=stdin\nformat=%s\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", format);
  galley_test_write (f->dir, "stdin.pipeline", pipeline, -1);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                                       | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("GALLEY_EXE"), "run",
                                                              "stdin.pipeline", NULL);
  g_assert_no_error (error);
  if (g_str_equal (format, "jsonl"))
    {
      /* two whole records, then nothing more */
      const char *recs = "{\"id\":\"one\",\"text\":\"The first article.\"}\n"
                         "{\"id\":\"two\",\"text\":\"The second article.\"}\n";
      GOutputStream *in = g_subprocess_get_stdin_pipe (proc);
      g_assert_true (g_output_stream_write_all (in, recs, strlen (recs), NULL, NULL, &error));
      g_assert_true (g_output_stream_flush (in, NULL, &error));
    }
  assert_stops_while_blocked (f, proc, SIGTERM);
  if (g_str_equal (format, "jsonl"))
    {
      g_autofree char *path = g_build_filename (f->dir, "out.jsonl", NULL);
      g_autoptr(GPtrArray) recs = galley_test_read_jsonl (path);
      g_assert_cmpuint (recs->len, ==, 2);
    }
}

/* A jsonl path that is a FIFO no writer has opened yet. */
static void
test_fifo_no_writer (Fixture *f, gconstpointer data)
{
  g_autofree char *fifo = g_build_filename (f->dir, "feed.fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  galley_test_write (f->dir, "fifo.pipeline",
                     "[pipeline]\nstages=in;out\n\n[stage in]\nplugin=jsonl\npath=feed.fifo\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("GALLEY_EXE"), "run",
                                                              "fifo.pipeline", NULL);
  g_assert_no_error (error);
  assert_stops_while_blocked (f, proc, GPOINTER_TO_INT (data));
}

/* A FIFO still works as an input: a writer that comes later is read to
 * its end. */
static void
test_fifo_read (Fixture *f, gconstpointer data)
{
  g_autofree char *fifo = g_build_filename (f->dir, "feed.fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  galley_test_write (f->dir, "fifo.pipeline",
                     "[pipeline]\nstages=in;out\n\n[stage in]\nplugin=jsonl\npath=feed.fifo\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("GALLEY_EXE"), "run",
                                                              "fifo.pipeline", NULL);
  g_assert_no_error (error);
  g_usleep (200 * 1000);
  int fd = open (fifo, O_WRONLY);
  g_assert_cmpint (fd, >=, 0);
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *line = g_strdup_printf ("{\"id\":\"f%02u\",\"text\":\"Article %u from a FIFO.\"}\n", i, i);
      g_assert_cmpint (write (fd, line, strlen (line)), ==, (gssize) strlen (line));
      if (i == 20)
        g_usleep (100 * 1000);
    }
  close (fd);
  g_autofree char *err = NULL;
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_autofree char *path = g_build_filename (f->dir, "out.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (path);
  g_assert_cmpuint (recs->len, ==, 50);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  static const SourceCase files = { SOURCE_FILES, 1500 };
  static const SourceCase jsonl = { SOURCE_JSONL, 3000 };
  static const SourceCase jsonl_gz = { SOURCE_JSONL_GZ, 3000 };
  g_test_add ("/signals/files", Fixture, &files, galley_test_fixture_setup, test_stop_and_resume,
              galley_test_fixture_teardown);
  g_test_add ("/signals/jsonl", Fixture, &jsonl, galley_test_fixture_setup, test_stop_and_resume,
              galley_test_fixture_teardown);
  g_test_add ("/signals/jsonl-gzip", Fixture, &jsonl_gz, galley_test_fixture_setup, test_stop_and_resume,
              galley_test_fixture_teardown);
  ADD ("/signals/jsonl-stopped-feed-is-finished", test_jsonl_stopped_feed_is_finished);
  g_test_add ("/signals/stdin-blocked-text", Fixture, "text", galley_test_fixture_setup, test_stdin_blocked,
              galley_test_fixture_teardown);
  g_test_add ("/signals/stdin-blocked-jsonl", Fixture, "jsonl", galley_test_fixture_setup, test_stdin_blocked,
              galley_test_fixture_teardown);
  g_test_add ("/signals/fifo-no-writer-sigterm", Fixture, GINT_TO_POINTER (SIGTERM), galley_test_fixture_setup,
              test_fifo_no_writer, galley_test_fixture_teardown);
  g_test_add ("/signals/fifo-no-writer-sigint", Fixture, GINT_TO_POINTER (SIGINT), galley_test_fixture_setup,
              test_fifo_no_writer, galley_test_fixture_teardown);
  ADD ("/signals/fifo-read", test_fifo_read);
  return g_test_run ();
}
