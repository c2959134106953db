/* test-plugin-export-jsonl.c: the export-jsonl sink on its own, driven
 * in-process by the harness: the records it writes, where (path
 * patterns, mkdir), and that the target is replaced only when the run
 * finishes; standard output through a one-stage run of the command. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static GalleyHarness *
sink_try (const char *path, const char *more, GError **error)
{
  g_autofree char *opt = g_strconcat ("path=", path, NULL);
  g_auto(GStrv) extra = more != NULL ? g_strsplit (more, ";", -1) : g_new0 (char *, 1);
  g_autoptr(GPtrArray) opts = g_ptr_array_new ();
  g_ptr_array_add (opts, opt);
  for (guint i = 0; extra[i] != NULL; i++)
    g_ptr_array_add (opts, extra[i]);
  g_ptr_array_add (opts, NULL);
  return galley_harness_new ("export-jsonl", (const char *const *) opts->pdata, error);
}

static GalleyHarness *
sink_new (const char *path, const char *more)
{
  g_autoptr(GError) error = NULL;
  GalleyHarness *h = sink_try (path, more, &error);
  g_assert_no_error (error);
  return h;
}

static GalleyDocument *
make_doc (guint i)
{
  g_autofree char *id = g_strdup_printf ("doc-%u", i);
  GalleyDocument *doc = galley_document_new (id, "test");
  g_autofree char *text = g_strdup_printf ("Article %u: \"quoted\", a tab\t, a line\nbreak, Z\xC3\xBCrich, \xE2\x80\xA8.", i);
  galley_document_set_text (doc, text, -1);
  galley_document_set_meta_string (doc, "title", "T\xC3\xADtulo");
  return doc;
}

/* Sends documents [0, @n) through @h. */
static void
feed (GalleyHarness *h, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GalleyDocument) doc = make_doc (i);
      g_autoptr(GError) error = NULL;
      g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
      g_assert_no_error (error);
    }
}

static void
finish_ok (GalleyHarness *h)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (galley_harness_finish (h, &error));
  g_assert_no_error (error);
}

static char *
contents (const char *path)
{
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The names in @dir, sorted, '|'-separated. */
static char *
list_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv ("|", (char **) names->pdata);
}

/* One record a line, each exactly the document's JSON, in the order
 * given; an empty run writes an empty file. */
static void
test_record_format (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "out.jsonl", NULL);
  g_autoptr(GalleyHarness) h = sink_new (path, NULL);
  feed (h, 3);
  finish_ok (h);
  g_autoptr(GString) want = g_string_new (NULL);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GalleyDocument) doc = make_doc (i);
      galley_document_write_json (doc, want);
      g_string_append_c (want, '\n');
    }
  g_autofree char *got = contents (path);
  g_assert_cmpstr (got, ==, want->str);
  /* a line break in the text never breaks the line */
  g_auto(GStrv) lines = g_strsplit (got, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_cmpint (galley_harness_get_counter (h, "bytes-written"), ==, (gint64) want->len);

  g_autofree char *empty = g_build_filename (f->dir, "empty.jsonl", NULL);
  g_autoptr(GalleyHarness) e = sink_new (empty, NULL);
  finish_ok (e);
  g_autofree char *nothing = contents (empty);
  g_assert_cmpstr (nothing, ==, "");
}

/* An existing target keeps its content until the run finishes, and keeps
 * it for good when the run does not finish; the temporary file beside it
 * goes either way. */
static void
test_atomic_replace (Fixture *f, gconstpointer data)
{
  g_autofree char *path = galley_test_write_path (f->dir, "out.jsonl", "{\"id\":\"old\"}\n", -1);
  g_autoptr(GalleyHarness) h = sink_new (path, NULL);
  feed (h, 2);
  g_autofree char *during = contents (path);
  g_assert_cmpstr (during, ==, "{\"id\":\"old\"}\n");
  g_autofree char *names = list_dir (f->dir);
  g_assert_true (g_str_has_prefix (names, ".out.jsonl.tmp-"));
  finish_ok (h);
  g_autofree char *after = contents (path);
  g_assert_true (g_str_has_prefix (after, "{\"id\":\"doc-0\""));
  g_autofree char *names_after = list_dir (f->dir);
  g_assert_cmpstr (names_after, ==, "out.jsonl");

  /* a run that fails (freed without finishing) leaves the old file */
  GalleyHarness *failed = sink_new (path, NULL);
  feed (failed, 5);
  galley_harness_free (failed);
  g_autofree char *kept = contents (path);
  g_assert_cmpstr (kept, ==, after);
  g_autofree char *names_failed = list_dir (f->dir);
  g_assert_cmpstr (names_failed, ==, "out.jsonl");
}

/* strftime patterns expand when the sink starts; {run} numbers the file
 * after the highest existing one, and a run without documents leaves no
 * file of its own. */
static void
test_path_patterns (Fixture *f, gconstpointer data)
{
  g_autofree char *pattern = g_build_filename (f->dir, "%Y", "day-%m-%d.jsonl", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GalleyHarness) h = sink_new (pattern, NULL);
  feed (h, 1);
  finish_ok (h);
  g_autofree char *day = g_date_time_format (now, "%Y/day-%m-%d.jsonl");
  g_autofree char *expanded = g_build_filename (f->dir, day, NULL);
  g_assert_true (g_file_test (expanded, G_FILE_TEST_IS_REGULAR));
  g_free (galley_test_take_logs ());

  g_autofree char *runs = g_build_filename (f->dir, "runs", NULL);
  g_assert_cmpint (g_mkdir (runs, 0755), ==, 0);
  galley_test_write (runs, "part-000004.jsonl", "", 0);
  galley_test_write (runs, "part-notanumber.jsonl", "", 0);
  g_autofree char *family = g_build_filename (runs, "part-{run}.jsonl", NULL);
  g_autoptr(GalleyHarness) r = sink_new (family, NULL);
  feed (r, 1);
  finish_ok (r);
  g_autofree char *names = list_dir (runs);
  g_assert_cmpstr (names, ==, "part-000004.jsonl|part-000005.jsonl|part-notanumber.jsonl");
  g_autoptr(GalleyHarness) none = sink_new (family, NULL);
  finish_ok (none);
  g_autofree char *names2 = list_dir (runs);
  g_assert_cmpstr (names2, ==, names);

  /* an empty path is refused */
  g_autoptr(GError) empty = NULL;
  g_assert_null (sink_try ("", NULL, &empty));
  g_assert_error (empty, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (empty->message, "path: empty; give a file name or - for standard output"));
}

/* mkdir=true creates missing parents, but only once there is output:
 * starting the sink (as `galley check` does) creates nothing. With
 * mkdir=false a missing directory is refused at the start (exit 73). */
static void
test_mkdir (Fixture *f, gconstpointer data)
{
  g_autofree char *deep = g_build_filename (f->dir, "a", "b", "c", "out.jsonl", NULL);
  g_autofree char *top = g_build_filename (f->dir, "a", NULL);
  GalleyHarness *check = sink_new (deep, NULL);
  galley_harness_free (check);
  g_assert_false (g_file_test (top, G_FILE_TEST_EXISTS));
  g_autoptr(GalleyHarness) h = sink_new (deep, NULL);
  feed (h, 1);
  finish_ok (h);
  g_assert_true (g_file_test (deep, G_FILE_TEST_IS_REGULAR));

  g_autofree char *missing = g_build_filename (f->dir, "x", "out.jsonl", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_null (sink_try (missing, "mkdir=false", &error));
  g_assert_cmpint (galley_error_to_exit_code (error), ==, 73);
  g_assert_nonnull (strstr (error->message, "(set mkdir=true to create it)"));
}

/* fsync=false writes the same file (only the flush to disk differs). */
static void
test_fsync_option (Fixture *f, gconstpointer data)
{
  g_autofree char *a = g_build_filename (f->dir, "a.jsonl", NULL);
  g_autofree char *b = g_build_filename (f->dir, "b.jsonl", NULL);
  g_autoptr(GalleyHarness) ha = sink_new (a, "fsync=true");
  g_autoptr(GalleyHarness) hb = sink_new (b, "fsync=false");
  feed (ha, 4);
  feed (hb, 4);
  finish_ok (ha);
  finish_ok (hb);
  g_autofree char *ca = contents (a);
  g_autofree char *cb = contents (b);
  g_assert_cmpstr (ca, ==, cb);
  g_autoptr(GError) error = NULL;
  g_assert_null (sink_try (a, "fsync=sometimes", &error));
  g_assert_cmpint (galley_error_to_exit_code (error), ==, 78);
}

/* Makes @dir unwritable for this process, or writable again. Root
 * writes anywhere: as root the process takes the effective ids of nobody
 * instead (the fixture is root's, mode 0755). */
static void
lock_dir (Fixture *f, const char *dir, gboolean locked)
{
  static gboolean as_nobody;
  if (locked)
    as_nobody = geteuid () == 0;
  if (!as_nobody)
    {
      g_assert_cmpint (g_chmod (dir, locked ? 0555 : 0755), ==, 0);
      return;
    }
  g_chmod (f->dir, 0755);
  /* real ids too (access() checks those); the saved ones stay root's */
  if (locked)
    {
      g_assert_cmpint (setresgid (65534, 65534, 0), ==, 0);
      g_assert_cmpint (setresuid (65534, 65534, 0), ==, 0);
    }
  else
    {
      g_assert_cmpint (setresuid (0, 0, 0), ==, 0);
      g_assert_cmpint (setresgid (0, 0, 0), ==, 0);
    }
}

/* A directory the process cannot write to is refused at the start with
 * exit 73, naming it; one that becomes unwritable after the start fails
 * the first document the same way. The old file stays either way. A full
 * device fails the run with exit 74. */
static void
test_unwritable (Fixture *f, gconstpointer data)
{
  g_autofree char *ro = g_build_filename (f->dir, "ro", NULL);
  g_assert_cmpint (g_mkdir (ro, 0755), ==, 0);
  g_autofree char *target = galley_test_write_path (ro, "out.jsonl", "old\n", -1);
  g_chmod (target, 0666);

  lock_dir (f, ro, TRUE);
  g_autoptr(GError) error = NULL;
  GalleyHarness *refused = sink_try (target, NULL, &error);
  lock_dir (f, ro, FALSE);
  g_assert_null (refused);
  g_assert_cmpint (galley_error_to_exit_code (error), ==, 73);
  g_assert_nonnull (strstr (error->message, ro));

  g_autoptr(GalleyHarness) h = sink_new (target, NULL);
  g_autoptr(GalleyDocument) doc = make_doc (0);
  g_autoptr(GError) later = NULL;
  lock_dir (f, ro, TRUE);
  GalleyVerdict v = galley_harness_process (h, doc, &later);
  lock_dir (f, ro, FALSE);
  g_assert_cmpint (v, ==, GALLEY_VERDICT_ERROR);
  g_assert_cmpint (galley_error_to_exit_code (later), ==, 73);
  g_assert_nonnull (strstr (later->message, ro));
  g_autofree char *old = contents (target);
  g_assert_cmpstr (old, ==, "old\n");

  /* /dev/full is written through (a device) and fills at once */
  if (g_file_test ("/dev/full", G_FILE_TEST_EXISTS))
    {
      g_autoptr(GalleyHarness) full = sink_new ("/dev/full", NULL);
      feed (full, 1);
      g_autoptr(GError) werror = NULL;
      g_assert_false (galley_harness_finish (full, &werror));
      g_assert_cmpint (galley_error_to_exit_code (werror), ==, 74);
      g_assert_nonnull (strstr (werror->message, "cannot write /dev/full: No space left on device"));
    }
}

/* path=- writes the records to standard output and nothing else: the
 * same bytes as to a file. */
static void
test_stdout (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "First \"article\".\n", -1);
  galley_test_write (f->dir, "in/b.txt", "Second\tarticle.", -1);
  galley_test_write (f->dir, "p.pipeline",
      "[pipeline]\nstages=in;out\nstats=\nrejects=\n[stage in]\nplugin=files\npaths=in\n"
      "[stage out]\nplugin=export-jsonl\npath=-\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(RunResult) file = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", "--set", "out.path=o.jsonl", NULL);
  g_assert_cmpint (file->status, ==, 0);
  g_autofree char *o = g_build_filename (f->dir, "o.jsonl", NULL);
  g_autofree char *written = contents (o);
  g_assert_cmpstr (r->out, ==, written);
  g_assert_cmpstr (r->err, ==, NULL);
  /* no file named - appears */
  g_autofree char *dash = g_build_filename (f->dir, "-", NULL);
  g_assert_false (g_file_test (dash, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  galley_test_capture_logs ();
  ADD ("/plugin/export-jsonl/record-format", test_record_format);
  ADD ("/plugin/export-jsonl/atomic-replace", test_atomic_replace);
  ADD ("/plugin/export-jsonl/path-patterns", test_path_patterns);
  ADD ("/plugin/export-jsonl/mkdir", test_mkdir);
  ADD ("/plugin/export-jsonl/fsync-option", test_fsync_option);
  ADD ("/plugin/export-jsonl/unwritable", test_unwritable);
  ADD ("/plugin/export-jsonl/stdout", test_stdout);
  return g_test_run ();
}
