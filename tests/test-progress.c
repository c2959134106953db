/* test-progress.c: the live progress line's percent and time left, the
 * sources that tell their input size, and no progress off a terminal. */
#include "galley-test-util.h"
#include "galley-progress.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

static char *
eta (guint64 done, guint64 total, double elapsed)
{
  GString *out = g_string_new (NULL);
  galley_progress_format_eta (out, done, total, elapsed);
  return g_string_free (out, FALSE);
}

#define ASSERT_ETA(done, total, elapsed, expected) \
  G_STMT_START { \
    g_autofree char *got_ = eta ((done), (total), (elapsed)); \
    g_assert_cmpstr (got_, ==, (expected)); \
  } G_STMT_END

static void
test_format (void)
{
  /* unknown size: nothing, the line stays as it was */
  ASSERT_ETA (500, 0, 10.0, "");
  /* a quarter in 20 s: 60 s to go */
  ASSERT_ETA (250, 1000, 20.0, ", 25%, eta 1m00s");
  /* a fifth in 20 s: 80 s to go */
  ASSERT_ETA (200, 1000, 20.0, ", 20%, eta 1m20s");
  ASSERT_ETA (900, 1000, 9.0, ", 90%, eta 1s");
  ASSERT_ETA (999, 1000, 45.0, ", 99%, eta 1s");
  /* rounded down, and below 100 until all is read */
  ASSERT_ETA (9999, 10000, 1.0, ", 99%, eta 1s");
  ASSERT_ETA (1000, 1000, 12.0, ", 100%, eta 0s");
  /* a file that grew while read */
  ASSERT_ETA (1500, 1000, 12.0, ", 100%, eta 0s");
  /* nothing read yet: no rate to go by */
  ASSERT_ETA (0, 1000, 3.0, ", 0%, eta ?");
  /* hours and minutes */
  ASSERT_ETA (1, 100, 100.0, ", 1%, eta 2h45m");
  ASSERT_ETA (10, 100, 100.0, ", 10%, eta 15m00s");
  ASSERT_ETA (1, 3, 30.0, ", 33%, eta 1m00s");
}

/* Off a terminal (stderr is a pipe here) a run prints its summary and no
 * live progress, with or without a known input size. */
static void
test_no_progress_off_terminal (Fixture *f, gconstpointer data)
{
  GString *feed = g_string_new (NULL);
  for (guint i = 0; i < 2000; i++)
    g_string_append_printf (feed, "{\"id\":\"d%u\",\"text\":\"Article %u about the harbour.\"}\n", i, i);
  galley_test_write (f->dir, "feed.jsonl", feed->str, feed->len);
  g_string_free (feed, TRUE);
  galley_test_write (f->dir, "p.pipeline",
                     "[pipeline]\nstages=in;out\n[stage in]\nplugin=jsonl\npath=feed.jsonl\n"
                     "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "2000 in, 2000 out"));
  g_assert_null (strchr (r->err, '\r'));
  g_assert_null (strstr (r->err, "\033[K"));
  g_assert_null (strstr (r->err, "eta"));
  g_assert_null (strstr (r->err, "docs/s |"));
}

/* The snapshot (SIGUSR1) is the progress line: with a source that knows
 * its size it shows the percent and the time left, with one that does not
 * (standard input) it does not. */
static char *
snapshot_of (Fixture *f, const char *source, gboolean from_stdin)
{
  g_autofree char *release = g_build_filename (f->dir, "release", NULL);
  g_autofree char *reached = g_strconcat (release, ".reached", NULL);
  g_remove (release);
  g_remove (reached);
  g_autofree char *pipeline = g_strdup_printf ("[pipeline]\nstages=in;hold;out\n%s"
                                               "[stage hold]\nplugin=test-fail-on\nwait-on=HOLD\nwait-for=%s\n"
                                               "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n",
                                               source, release);
  galley_test_write (f->dir, "p.pipeline", pipeline, -1);
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_autofree char *feed = g_build_filename (f->dir, "feed.jsonl", NULL);
  if (from_stdin)
    g_subprocess_launcher_set_stdin_file_path (launcher, feed);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
    g_subprocess_launcher_spawn (launcher, &error, g_getenv ("GALLEY_EXE"), "run", "p.pipeline", NULL);
  g_assert_no_error (error);
  for (guint i = 0; i < 3000 && !g_file_test (reached, G_FILE_TEST_EXISTS); i++)
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  g_assert_true (g_file_test (reached, G_FILE_TEST_EXISTS));
  g_subprocess_send_signal (proc, SIGUSR1);
  /* the monitor looks for a snapshot request every 100 ms */
  g_usleep (400 * G_TIME_SPAN_MILLISECOND);
  g_file_set_contents (release, "", 0, NULL);
  g_autofree char *err = NULL;
  g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  const char *line = strstr (err, "galley: snapshot: ");
  if (line == NULL)
    g_error ("no snapshot line in:\n%s", err);
  return g_strndup (line, strcspn (line, "\n"));
}

static void
test_snapshot_percent (Fixture *f, gconstpointer data)
{
  GString *feed = g_string_new (NULL);
  for (guint i = 0; i < 5000; i++)
    g_string_append_printf (feed, "{\"id\":\"d%u\",\"text\":\"Article %u%s\"}\n", i, i, i == 100 ? " HOLD" : "");
  galley_test_write (f->dir, "feed.jsonl", feed->str, feed->len);
  g_string_free (feed, TRUE);

  g_autofree char *sized = snapshot_of (f, "[stage in]\nplugin=jsonl\npath=feed.jsonl\n", FALSE);
  g_autoptr(GRegex) re = g_regex_new (" docs/s, [0-9.]+ MB/s, [0-9]+%, eta ([0-9]+[hms]|\\?)", 0, 0, NULL);
  if (!g_regex_match (re, sized, 0, NULL))
    g_error ("jsonl knows its size, the snapshot shows no percent and eta: %s", sized);

  g_autofree char *unsized = snapshot_of (f, "[stage in]\nplugin=stdin\nformat=jsonl\n", TRUE);
  g_assert_nonnull (strstr (unsized, " docs/s, "));
  if (strstr (unsized, "%") != NULL || strstr (unsized, "eta") != NULL)
    g_error ("standard input has no size, yet the snapshot shows a percent: %s", unsized);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/progress/format", test_format);
  ADD ("/progress/off-terminal", test_no_progress_off_terminal);
  ADD ("/progress/snapshot", test_snapshot_percent);
  return g_test_run ();
}
