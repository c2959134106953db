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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/outputs/gzip-two-sources", test_gzip_two_sources);
  return g_test_run ();
}
