/* test-plugin-stdin.c: the stdin source on its own, in one-stage runs of
 * the galley command (it reads the process's standard input): both
 * formats, the size limit at its boundary, empty, binary and gzipped
 * input, and the exit codes. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

/* Runs stdin -> export-jsonl (standard output) with @options (lines of
 * "key=value\n") on @len bytes of @input (-1: a string). */
static RunResult *
run_stdin (Fixture *f, const char *options, const char *input, gssize len)
{
  g_autofree char *pipeline = g_strdup_printf (
      "[pipeline]\nstages=in;out\nstats=run.stats.json\nrejects=run.rejects.jsonl\n"
      "[stage in]\nplugin=stdin\n%s\n[stage out]\nplugin=export-jsonl\npath=-\n", options);
  galley_test_write (f->dir, "s.pipeline", pipeline, -1);
  g_autofree char *rejects = g_build_filename (f->dir, "run.rejects.jsonl", NULL);
  g_remove (rejects);
  g_autofree char *in = galley_test_write_path (f->dir, "stdin.data", input, len);
  return galley_test_run_stdin_file (f->dir, in, "run", "s.pipeline", NULL);
}

/* The records written to standard output. */
static GPtrArray *
records (Fixture *f, RunResult *r)
{
  g_autofree char *path = galley_test_write_path (f->dir, "stdout.jsonl", r->out ? r->out : "", -1);
  return galley_test_read_jsonl (path);
}

static GPtrArray *
rejects (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, "run.rejects.jsonl", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return g_ptr_array_new ();
  return galley_test_read_jsonl (path);
}

static gint64
stats_dropped (Fixture *f, const char *reason)
{
  g_autofree char *path = g_build_filename (f->dir, "run.stats.json", NULL);
  g_autoptr(json_object) stats = json_object_from_file (path);
  g_assert_nonnull (stats);
  json_object *stages = NULL, *dropped = NULL, *v = NULL;
  json_object_object_get_ex (stats, "stages", &stages);
  json_object_object_get_ex (json_object_array_get_idx (stages, 0), "dropped", &dropped);
  return json_object_object_get_ex (dropped, reason, &v) ? json_object_get_int64 (v) : 0;
}

/* text: all of the input, line ends and all, is one document named by
 * id=; the source is "stdin". */
static void
test_text (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) r = run_stdin (f, "id=wire-7", "First line.\r\nSecond line.\n\n", -1);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = records (f, r);
  g_assert_cmpuint (recs->len, ==, 1);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "id"), ==, "wire-7");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "source"), ==, "stdin");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "text"), ==, "First line.\r\nSecond line.\n\n");

  /* an empty id is refused before reading */
  g_autoptr(RunResult) bad = run_stdin (f, "id=", "x", -1);
  g_assert_cmpint (bad->status, ==, 78);
  g_assert_nonnull (strstr (bad->err, "id: empty"));
}

/* max-size is exact: max-size bytes are one document, one byte more is
 * a reject (exit 74 by default, a reject record with on-error=skip). */
static void
test_text_max_size (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) ok = run_stdin (f, "max-size=10", "0123456789", -1);
  g_assert_cmpint (ok->status, ==, 0);
  g_autoptr(GPtrArray) recs = records (f, ok);
  g_assert_cmpuint (recs->len, ==, 1);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "text"), ==, "0123456789");

  g_autoptr(RunResult) over = run_stdin (f, "max-size=10", "0123456789A", -1);
  g_assert_cmpint (over->status, ==, 74);
  g_assert_cmpstr (over->out ? over->out : "", ==, "");
  g_assert_nonnull (strstr (over->err, "stage 'in': stdin: larger than max-size (10 bytes)"));

  g_autoptr(RunResult) skip = run_stdin (f, "max-size=10\non-error=skip", "0123456789A", -1);
  g_assert_cmpint (skip->status, ==, 0);
  g_assert_cmpstr (skip->out ? skip->out : "", ==, "");
  g_autoptr(GPtrArray) rej = rejects (f);
  g_assert_cmpuint (rej->len, ==, 1);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (rej, 0), "source"), ==, "stdin");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (rej, 0), "error"), ==, "larger than max-size (10 bytes)");
}

/* Empty input: in text format one empty document (as an empty file), in
 * jsonl format none; both succeed. */
static void
test_empty_input (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) text = run_stdin (f, "", "", 0);
  g_assert_cmpint (text->status, ==, 0);
  g_autoptr(GPtrArray) recs = records (f, text);
  g_assert_cmpuint (recs->len, ==, 1);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "text"), ==, "");

  g_autoptr(RunResult) jsonl = run_stdin (f, "format=jsonl", "", 0);
  g_assert_cmpint (jsonl->status, ==, 0);
  g_assert_cmpstr (jsonl->out ? jsonl->out : "", ==, "");
  g_assert_nonnull (strstr (jsonl->err, "0 in, 0 out"));
}

/* Binary input is skipped (reason binary-file), not exported; in jsonl
 * format it is a line that is not JSON. */
static void
test_binary_input (Fixture *f, gconstpointer data)
{
  static const char elf[] = "\x7f" "ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0";
  g_autoptr(RunResult) r = run_stdin (f, "", elf, sizeof elf - 1);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_cmpstr (r->out ? r->out : "", ==, "");
  g_assert_cmpint (stats_dropped (f, "binary-file"), ==, 1);
  g_assert_nonnull (strstr (r->err, "in:binary-file 1"));

  g_autoptr(RunResult) j = run_stdin (f, "format=jsonl\non-error=skip", elf, sizeof elf - 1);
  g_assert_cmpint (j->status, ==, 0);
  g_assert_cmpstr (j->out ? j->out : "", ==, "");
  g_autoptr(GPtrArray) rej = rejects (f);
  g_assert_cmpuint (rej->len, ==, 1);
  g_assert_nonnull (strstr (galley_test_get_string (g_ptr_array_index (rej, 0), "error"), "not valid JSON"));
}

/* Gzipped input is read decompressed in both formats. */
static void
test_gzip_input (Fixture *f, gconstpointer data)
{
  static const char plain[] = "{\"id\":\"a\",\"text\":\"one\"}\r\n\n{\"text\":\"three\"}";
  g_autoptr(GZlibCompressor) zc = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  guint8 buf[256];
  gsize read = 0, written = 0;
  g_assert_cmpint (g_converter_convert (G_CONVERTER (zc), plain, sizeof plain - 1, buf, sizeof buf,
                                        G_CONVERTER_INPUT_AT_END, &read, &written, NULL), ==, G_CONVERTER_FINISHED);
  g_autoptr(RunResult) j = run_stdin (f, "format=jsonl", (const char *) buf, written);
  g_assert_cmpint (j->status, ==, 0);
  g_autoptr(GPtrArray) recs = records (f, j);
  g_assert_cmpuint (recs->len, ==, 2);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "id"), ==, "a");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 1), "id"), ==, "stdin:3");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 1), "source"), ==, "stdin:3");

  g_autoptr(RunResult) t = run_stdin (f, "", (const char *) buf, written);
  g_assert_cmpint (t->status, ==, 0);
  g_autoptr(GPtrArray) trecs = records (f, t);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (trecs, 0), "text"), ==, plain);
}

/* jsonl: max-size is the exact line limit, and the message names that
 * option (the stdin source has no max-line). */
static void
test_jsonl_max_size (Fixture *f, gconstpointer data)
{
  /* {"text":"abcd"} is 15 bytes */
  g_autoptr(RunResult) r = run_stdin (f, "format=jsonl\nmax-size=15\non-error=skip",
                                      "{\"text\":\"abcd\"}\n{\"text\":\"abcde\"}\n{\"text\":\"wxyz\"}\r\n", -1);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = records (f, r);
  g_assert_cmpuint (recs->len, ==, 2);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 1), "id"), ==, "stdin:3");
  g_autoptr(GPtrArray) rej = rejects (f);
  g_assert_cmpuint (rej->len, ==, 1);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (rej, 0), "error"), ==,
                   "line longer than max-size (15 bytes)");
  g_assert_nonnull (strstr (r->err, "stdin:2: line longer than max-size (15 bytes)"));

  /* json-c takes int lengths: past 2 GiB is refused up front */
  g_autoptr(RunResult) big = run_stdin (f, "format=jsonl\nmax-size=3G", "", 0);
  g_assert_cmpint (big->status, ==, 78);
  g_assert_nonnull (strstr (big->err, "max-size: at most 2GiB - 2 bytes for format=jsonl"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/plugin/stdin/text", test_text);
  ADD ("/plugin/stdin/text-max-size", test_text_max_size);
  ADD ("/plugin/stdin/empty-input", test_empty_input);
  ADD ("/plugin/stdin/binary-input", test_binary_input);
  ADD ("/plugin/stdin/gzip-input", test_gzip_input);
  ADD ("/plugin/stdin/jsonl-max-size", test_jsonl_max_size);
  return g_test_run ();
}
