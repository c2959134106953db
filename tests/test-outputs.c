/* test-outputs.c: what a run reads and writes outside its stages: gzip
 * inputs read by several sources, and the files a run writes (stats,
 * rejects, metrics, sink outputs) over symlinks, FIFOs and missing
 * directories, with the modes the process umask gives. */
#include "galley-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* @text compressed as gzip (GIO's compressor). */
static GBytes *
gzip_bytes (const char *text)
{
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) conv = g_converter_output_stream_new (mem, G_CONVERTER (z));
  g_autoptr(GError) error = NULL;
  g_assert_true (g_output_stream_write_all (conv, text, strlen (text), NULL, NULL, &error));
  g_assert_true (g_output_stream_close (conv, NULL, &error));
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

static void
write_gzip (const char *dir, const char *name, const char *text)
{
  g_autoptr(GBytes) gz = gzip_bytes (text);
  gsize len = 0;
  const char *data = g_bytes_get_data (gz, &len);
  galley_test_write (dir, name, data, len);
}

/* ---- gzip read by two plugins ---- */

/* The files and jsonl sources are two modules that both read gzip: the
 * gzip stream type must exist once in the process, not once per module. */
static void
test_gzip_two_sources (Fixture *f, gconstpointer data)
{
  write_gzip (f->dir, "in/a.txt.gz", "first article\n");
  write_gzip (f->dir, "in/b.txt.gz", "second article\n");
  write_gzip (f->dir, "feed.jsonl.gz", "{\"id\":\"r1\",\"text\":\"record one\"}\n{\"id\":\"r2\",\"text\":\"record two\"}\n");
  galley_test_write (f->dir, "gz.pipeline",
                     "[pipeline]\nstages=files;feed;out\nstats=run.stats.json\nrejects=run.rejects.jsonl\n\n"
                     "[stage files]\nplugin=files\npaths=in\n\n"
                     "[stage feed]\nplugin=jsonl\npath=feed.jsonl.gz\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", "gz.pipeline", NULL);
  g_assert_cmpstr (r->err ? r->err : "", ==, "");
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, ==, 4);
  g_autoptr(GHashTable) texts = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < recs->len; i++)
    g_hash_table_add (texts, (gpointer) galley_test_get_string (g_ptr_array_index (recs, i), "text"));
  g_assert_true (g_hash_table_contains (texts, "first article\n"));
  g_assert_true (g_hash_table_contains (texts, "second article\n"));
  g_assert_true (g_hash_table_contains (texts, "record one"));
  g_assert_true (g_hash_table_contains (texts, "record two"));
}

/* ---- output files ---- */

#define FEED "{\"id\":\"a\",\"text\":\"one\"}\nnot json\n{\"id\":\"b\",\"text\":\"two\"}\n"

/* A jsonl source (two records and one bad line, a reject) to one sink:
 * @pipeline_keys go into [pipeline] (stats=, rejects=, ...), @sink is the
 * whole [stage out] group's body. */
static void
write_pipeline (Fixture *f, const char *pipeline_keys, const char *sink)
{
  galley_test_write (f->dir, "feed.jsonl", FEED, -1);
  g_autofree char *text = g_strdup_printf ("[pipeline]\nstages=feed;out\n%s\n\n"
                                           "[stage feed]\nplugin=jsonl\npath=feed.jsonl\non-error=skip\n\n"
                                           "[stage out]\n%s\n", pipeline_keys, sink);
  galley_test_write (f->dir, "p.pipeline", text, -1);
}

static char *
read_text (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
assert_symlink (const char *dir, const char *name, const char *to)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct stat st;
  g_assert_cmpint (lstat (path, &st), ==, 0);
  if (!S_ISLNK (st.st_mode))
    g_error ("%s: expected a symbolic link to %s, found %s", path, to, galley_output_describe_mode (st.st_mode));
  g_autofree char *link = g_file_read_link (path, NULL);
  g_assert_cmpstr (link, ==, to);
}

static void
make_link (const char *dir, const char *name, const char *to)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_cmpint (symlink (to, path), ==, 0);
}

static int
mode_of (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

/* Every file a run writes, given as a symbolic link (relative or
 * absolute, to an existing file or to a missing one in an existing
 * directory): the file the link points to gets the content, the link
 * stays a link. */
static void
test_symlink_targets (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "real/old.jsonl", "old\n", -1);
  galley_test_write (f->dir, "real/stats.json", "{}", -1);
  g_autofree char *abs_metrics = g_build_filename (f->dir, "real", "m.prom", NULL);
  make_link (f->dir, "out.jsonl", "real/old.jsonl");          /* to an existing file */
  make_link (f->dir, "stats.json", "real/stats.json");
  make_link (f->dir, "m.prom", abs_metrics);                   /* absolute, to a missing file */
  make_link (f->dir, "rejects.jsonl", "real/rejects.jsonl");   /* appended through */
  make_link (f->dir, "hop.jsonl", "out.jsonl");                /* a link to a link */
  write_pipeline (f, "stats=stats.json\nrejects=rejects.jsonl\nmetrics-file=m.prom",
                  "plugin=export-jsonl\npath=hop.jsonl");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_symlink (f->dir, "hop.jsonl", "out.jsonl");
  assert_symlink (f->dir, "out.jsonl", "real/old.jsonl");
  assert_symlink (f->dir, "stats.json", "real/stats.json");
  assert_symlink (f->dir, "m.prom", abs_metrics);
  assert_symlink (f->dir, "rejects.jsonl", "real/rejects.jsonl");
  g_autofree char *out = g_build_filename (f->dir, "real", "old.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, ==, 2);
  g_autofree char *stats = read_text (f->dir, "real/stats.json");
  g_assert_nonnull (strstr (stats, "\"rejects\":1"));
  g_autofree char *metrics = read_text (f->dir, "real/m.prom");
  g_assert_nonnull (strstr (metrics, "galley_run_success{pipeline=\"p\"} 1"));
  g_autofree char *rejects = read_text (f->dir, "real/rejects.jsonl");
  g_assert_nonnull (strstr (rejects, "not json"));
  /* no temporary file is left beside the link or the target */
  g_autoptr(GDir) d = g_dir_open (f->dir, 0, NULL);
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    g_assert_false (g_str_has_prefix (name, "."));

  /* export-csv in replace mode the same */
  galley_test_write (f->dir, "real/rows.csv", "old\n", -1);
  make_link (f->dir, "rows.csv", "real/rows.csv");
  write_pipeline (f, "stats=", "plugin=export-csv\npath=rows.csv\ncolumns=id;text");
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_symlink (f->dir, "rows.csv", "real/rows.csv");
  g_autofree char *csv = read_text (f->dir, "real/rows.csv");
  g_assert_cmpstr (csv, ==, "id,text\r\na,one\r\nb,two\r\n");
}

/* Opens the FIFO @name for reading without blocking: the run can open it
 * for writing, and what it writes waits in the pipe. */
static int
open_fifo (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  return fd;
}

static char *
drain_fifo (int fd)
{
  GString *s = g_string_new (NULL);
  char buf[4096];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (s, buf, n);
  close (fd);
  return g_string_free (s, FALSE);
}

static void
assert_fifo (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct stat st;
  g_assert_cmpint (lstat (path, &st), ==, 0);
  if (!S_ISFIFO (st.st_mode))
    g_error ("%s: expected the FIFO to stay, found %s", path, galley_output_describe_mode (st.st_mode));
}

/* FIFOs (as /dev/stdout or /dev/null would be) are written through, never
 * replaced by a regular file: stats, metrics, export-jsonl, export-csv,
 * also through a symbolic link. */
static void
test_fifo_targets (Fixture *f, gconstpointer data)
{
  int stats_fd = open_fifo (f->dir, "stats.fifo");
  int metrics_fd = open_fifo (f->dir, "metrics.fifo");
  int out_fd = open_fifo (f->dir, "out.fifo");
  make_link (f->dir, "out.link", "out.fifo");
  write_pipeline (f, "stats=stats.fifo\nrejects=\nmetrics-file=metrics.fifo",
                  "plugin=export-jsonl\npath=out.link");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_fifo (f->dir, "stats.fifo");
  assert_fifo (f->dir, "metrics.fifo");
  assert_fifo (f->dir, "out.fifo");
  assert_symlink (f->dir, "out.link", "out.fifo");
  g_autofree char *stats = drain_fifo (stats_fd);
  g_assert_nonnull (strstr (stats, "\"rejects\":1"));
  g_autofree char *metrics = drain_fifo (metrics_fd);
  g_assert_nonnull (strstr (metrics, "galley_run_success{pipeline=\"p\"} 1"));
  g_autofree char *out = drain_fifo (out_fd);
  g_assert_nonnull (strstr (out, "\"text\":\"one\""));
  g_assert_nonnull (strstr (out, "\"text\":\"two\""));
  /* nothing else appeared in the directory */
  g_autoptr(GDir) d = g_dir_open (f->dir, 0, NULL);
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    g_assert_false (g_str_has_prefix (name, "."));

  /* export-csv (replace mode) and the stats given with --stats */
  int csv_fd = open_fifo (f->dir, "rows.fifo");
  int stats2_fd = open_fifo (f->dir, "stats2.fifo");
  write_pipeline (f, "rejects=", "plugin=export-csv\npath=rows.fifo\ncolumns=id");
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "-q", "--stats", "stats2.fifo", "p.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_fifo (f->dir, "rows.fifo");
  assert_fifo (f->dir, "stats2.fifo");
  g_autofree char *csv = drain_fifo (csv_fd);
  g_assert_cmpstr (csv, ==, "id\r\na\r\nb\r\n");
  g_autofree char *stats2 = drain_fifo (stats2_fd);
  g_assert_nonnull (strstr (stats2, "\"pipeline\""));
}

/* Where a stream cannot be written sensibly (a sink with exactly-once
 * commits under a state directory, a database, an append with a
 * committed length), the run refuses with exit 73 before it reads
 * anything, and the FIFO stays. */
static void
test_fifo_refused (Fixture *f, gconstpointer data)
{
  const struct {
    const char *keys;
    const char *sink;
    const char *message;
  } cases[] = {
    { "stats=\nstate-dir=state", "plugin=export-jsonl\npath=out.fifo", "state directory" },
    { "stats=\nstate-dir=state", "plugin=export-csv\npath=out.fifo", "state directory" },
    { "stats=", "plugin=export-csv\npath=out.fifo\nappend=true", "append" },
    { "stats=", "plugin=export-sqlite\npath=out.fifo", "regular file" },
  };
  int fd = open_fifo (f->dir, "out.fifo");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      write_pipeline (f, cases[i].keys, cases[i].sink);
      g_autoptr(RunResult) check = galley_test_run (f->dir, NULL, "check", "p.pipeline", NULL);
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", NULL);
      if (r->status != 73 || check->status != 73)
        g_error ("case %u (%s): expected exit 73 from check and run, got %d and %d", i, cases[i].sink,
                 check->status, r->status);
      g_assert_nonnull (strstr (r->err, "out.fifo"));
      g_assert_nonnull (strstr (r->err, "FIFO"));
      g_assert_nonnull (strstr (r->err, cases[i].message));
      assert_fifo (f->dir, "out.fifo");
      g_autofree char *rejects = g_build_filename (f->dir, "p.rejects.jsonl", NULL);
      g_assert_false (g_file_test (rejects, G_FILE_TEST_EXISTS));   /* nothing was read */
    }
  g_autofree char *left = drain_fifo (fd);
  g_assert_cmpstr (left, ==, "");
}

/* Output files get mode 0666 less the process umask, as any new file. */
static void
test_umask_modes (Fixture *f, gconstpointer data)
{
  const struct { mode_t mask; int mode; } cases[] = { { 022, 0644 }, { 077, 0600 }, { 002, 0664 } };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      write_pipeline (f, "stats=stats.json\nrejects=rejects.jsonl\nmetrics-file=m.prom",
                      "plugin=export-jsonl\npath=out.jsonl");
      mode_t old = umask (cases[i].mask);
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", NULL);
      write_pipeline (f, "stats=", "plugin=export-csv\npath=rows.csv");
      g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", NULL);
      umask (old);
      g_assert_cmpint (r->status, ==, 0);
      g_assert_cmpint (r2->status, ==, 0);
      const char *files[] = { "out.jsonl", "rows.csv", "stats.json", "m.prom" };
      for (guint j = 0; j < G_N_ELEMENTS (files); j++)
        if (mode_of (f->dir, files[j]) != cases[i].mode)
          g_error ("%s with umask %03o: mode %04o, expected %04o", files[j], (unsigned) cases[i].mask,
                   mode_of (f->dir, files[j]), cases[i].mode);
      /* the rejects file is new only the first time */
      if (i == 0)
        g_assert_cmpint (mode_of (f->dir, "rejects.jsonl"), ==, 0644);
      g_autofree char *rejects = g_build_filename (f->dir, "rejects.jsonl", NULL);
      g_unlink (rejects);
    }
}

/* umask() is process-wide: changing it on a worker thread races with
 * every file another thread creates. Only main() may call it. */
static void
test_no_umask_calls (Fixture *f, gconstpointer data)
{
  const char *root = g_getenv ("GALLEY_SOURCE_ROOT");
  g_assert_nonnull (root);
  const char *dirs[] = { "core", "plugins" };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *cmd = g_strdup_printf ("grep -rn --include=*.c 'umask *(' %s/%s", root, dirs[i]);
      g_autofree char *out = NULL;
      int status = 0;
      g_assert_true (g_spawn_command_line_sync (cmd, &out, NULL, &status, NULL));
      if (out != NULL && *out != '\0')
        g_error ("umask() called outside main():\n%s", out);
    }
}

/* A missing directory for stats=, rejects= or metrics-file= fails `galley
 * check` and the run before it reads anything, naming the option, the
 * path and the problem. */
static void
test_missing_directories (Fixture *f, gconstpointer data)
{
  const struct {
    const char *keys;
    const char *option;
    const char *path;
  } cases[] = {
    { "stats=nodir/stats.json\nrejects=", "stats", "nodir/stats.json" },
    { "stats=\nrejects=nodir/rejects.jsonl", "rejects", "nodir/rejects.jsonl" },
    { "stats=\nrejects=\nmetrics-file=nodir/m.prom", "metrics-file", "nodir/m.prom" },
    { "stats=file.txt/stats.json\nrejects=", "stats", "file.txt/stats.json" },
  };
  galley_test_write (f->dir, "file.txt", "a file, not a directory\n", -1);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      write_pipeline (f, cases[i].keys, "plugin=export-jsonl\npath=out.jsonl");
      for (guint step = 0; step < 2; step++)
        {
          g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, step == 0 ? "check" : "run", "p.pipeline", NULL);
          if (r->status != 73)
            g_error ("%s with %s: exit %d, expected 73", step == 0 ? "check" : "run", cases[i].keys, r->status);
          g_autofree char *expect = g_strdup_printf ("%s: %s", cases[i].option, cases[i].path);
          if (strstr (r->err, expect) == NULL || strstr (r->err, ".tmp") != NULL)
            g_error ("expected a message naming '%s' and no temporary file, got: %s", expect, r->err);
          g_assert_true (strstr (r->err, "does not exist") != NULL || strstr (r->err, "not a directory") != NULL);
        }
      /* nothing read, nothing written */
      g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
  /* the same for the command-line overrides */
  write_pipeline (f, "stats=\nrejects=", "plugin=export-jsonl\npath=out.jsonl");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "--stats", "gone/s.json", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 73);
  g_assert_nonnull (strstr (r->err, "stats: gone/s.json: directory gone does not exist"));
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "--rejects", "gone/r.jsonl", "p.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 73);
  g_assert_nonnull (strstr (r2->err, "rejects: gone/r.jsonl: directory gone does not exist"));
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  /* a read-only directory too */
  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (f->dir, "ro", NULL);
      g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
      g_autoptr(RunResult) r3 = galley_test_run (f->dir, NULL, "check", "--set", "pipeline.stats=ro/s.json",
                                                 "p.pipeline", NULL);
      g_assert_cmpint (r3->status, ==, 73);
      g_assert_nonnull (strstr (r3->err, "stats: ro/s.json: cannot create files in ro"));
    }
}

/* Stats, rejects and metrics files directly in the state directory are
 * fine before the first run: the run creates that directory. */
static void
test_outputs_in_state_dir (Fixture *f, gconstpointer data)
{
  write_pipeline (f, "state-dir=state/p\nstats=state/p/last.stats.json\nrejects=state/p/rejects.jsonl\n"
                     "metrics-file=state/p/galley.prom", "plugin=export-jsonl\npath=out.jsonl");
  g_autoptr(RunResult) check = galley_test_run (f->dir, NULL, "check", "-q", "p.pipeline", NULL);
  g_assert_cmpint (check->status, ==, 0);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *stats = read_text (f->dir, "state/p/last.stats.json");
  g_assert_nonnull (strstr (stats, "\"rejects\":1"));
  g_autofree char *metrics = read_text (f->dir, "state/p/galley.prom");
  g_assert_nonnull (strstr (metrics, "galley_run_success{pipeline=\"p\"} 1"));
  /* a directory below it is not made */
  write_pipeline (f, "state-dir=state/q\nstats=state/q/sub/last.stats.json", "plugin=export-jsonl\npath=out.jsonl");
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, NULL, "run", "-q", "p.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 73);
  g_assert_nonnull (strstr (r2->err, "stats: state/q/sub/last.stats.json: directory state/q/sub does not exist"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/outputs/gzip-two-sources", test_gzip_two_sources);
  ADD ("/outputs/symlink-targets", test_symlink_targets);
  ADD ("/outputs/fifo-targets", test_fifo_targets);
  ADD ("/outputs/fifo-refused", test_fifo_refused);
  ADD ("/outputs/umask-modes", test_umask_modes);
  ADD ("/outputs/no-umask-calls", test_no_umask_calls);
  ADD ("/outputs/missing-directories", test_missing_directories);
  ADD ("/outputs/outputs-in-state-dir", test_outputs_in_state_dir);
  return g_test_run ();
}
