/* test-plugin-files.c: the files source on its own, driven in-process by
 * the harness: what a walk reads, in which order, under which ids, and
 * what it skips or rejects, with the reason a user sees in the stats. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "gzipped article\n" compressed with gzip -n */
static const guint8 gz[] = {
  0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0xaf, 0xca, 0x2c, 0x28, 0x48,
  0x4d, 0x51, 0x48, 0x2c, 0x2a, 0xc9, 0x4c, 0xce, 0x49, 0xe5, 0x02, 0x00, 0x4e, 0x2f, 0x3d, 0x7d,
  0x10, 0x00, 0x00, 0x00,
};

/* A files source over @paths (';'-separated, relative to the fixture),
 * with more "key=value" options after it. */
static GalleyHarness *
files_new (Fixture *f, const char *paths, const char *first_opt, ...)
{
  g_autoptr(GPtrArray) opts = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) parts = g_strsplit (paths, ";", -1);
  g_autoptr(GString) full = g_string_new ("paths=");
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (full, ';');
      if (g_path_is_absolute (parts[i]))
        g_string_append (full, parts[i]);
      else
        g_string_append_printf (full, "%s/%s", f->dir, parts[i]);
    }
  g_ptr_array_add (opts, g_string_free (g_steal_pointer (&full), FALSE));
  va_list ap;
  va_start (ap, first_opt);
  for (const char *o = first_opt; o != NULL; o = va_arg (ap, const char *))
    g_ptr_array_add (opts, g_strdup (o));
  va_end (ap);
  g_ptr_array_add (opts, NULL);
  g_autoptr(GError) error = NULL;
  GalleyHarness *h = galley_harness_new ("files", (const char *const *) opts->pdata, &error);
  g_assert_no_error (error);
  return h;
}

/* Reads the source to its end: the ids, relative to the fixture, joined
 * by '|'; the documents go to *@docs when it is not NULL. */
static char *
read_ids (Fixture *f, GalleyHarness *h, GPtrArray **docs)
{
  g_autoptr(GString) ids = g_string_new (NULL);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) galley_document_free);
  GalleyDocument *doc = NULL;
  g_autoptr(GError) error = NULL;
  gsize prefix = strlen (f->dir) + 1;
  while (galley_harness_next (h, &doc, &error))
    {
      const char *id = galley_document_get_id (doc);
      if (ids->len > 0)
        g_string_append_c (ids, '|');
      g_string_append (ids, g_str_has_prefix (id, f->dir) ? id + prefix : id);
      g_ptr_array_add (all, doc);
    }
  g_assert_no_error (error);
  if (docs != NULL)
    *docs = g_steal_pointer (&all);
  return g_string_free (g_steal_pointer (&ids), FALSE);
}

static const char *
text_of (GPtrArray *docs, guint i)
{
  return galley_document_get_text (g_ptr_array_index (docs, i), NULL);
}

/* A walk is sorted by bytes (upper case before lower, "a10" before "a2"),
 * subdirectories are entered where their name sorts among the files, and
 * the paths are read in the order given, not sorted. */
static void
test_sorted_walk (Fixture *f, gconstpointer data)
{
  const char *names[] = { "in/b.txt", "in/a2.txt", "in/a10.txt", "in/B.txt", "in/m/z.txt", "in/m/a.txt",
                          "in/n.txt", "in/_.txt", "other/x.txt" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    galley_test_write (f->dir, names[i], names[i], -1);
  g_autoptr(GalleyHarness) h = files_new (f, "other;in", NULL);
  g_autofree char *ids = read_ids (f, h, NULL);
  g_assert_cmpstr (ids, ==, "other/x.txt|in/B.txt|in/_.txt|in/a10.txt|in/a2.txt|in/b.txt|in/m/a.txt|in/m/z.txt|in/n.txt");

  /* the same walk twice gives the same order (no dependence on readdir) */
  g_autoptr(GalleyHarness) again = files_new (f, "other;in", NULL);
  g_autofree char *ids2 = read_ids (f, again, NULL);
  g_assert_cmpstr (ids2, ==, ids);
}

/* recursive=false reads a directory's own files only; include and exclude
 * patterns apply inside directories, never to a path named in paths=;
 * hidden and backup files are skipped by default. A trailing slash does
 * not change the ids. */
static void
test_directory_options (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "a", -1);
  galley_test_write (f->dir, "in/b.md", "b", -1);
  galley_test_write (f->dir, "in/c.txt~", "backup", -1);
  galley_test_write (f->dir, "in/.d.txt", "hidden", -1);
  galley_test_write (f->dir, "in/sub/e.txt", "e", -1);
  galley_test_write (f->dir, "in/.git/f.txt", "in a hidden directory", -1);

  g_autoptr(GalleyHarness) all = files_new (f, "in", NULL);
  g_autofree char *all_ids = read_ids (f, all, NULL);
  g_assert_cmpstr (all_ids, ==, "in/a.txt|in/b.md|in/sub/e.txt");

  g_autoptr(GalleyHarness) flat = files_new (f, "in/", "recursive=false", NULL);
  g_autofree char *flat_ids = read_ids (f, flat, NULL);
  g_assert_cmpstr (flat_ids, ==, "in/a.txt|in/b.md");

  g_autoptr(GalleyHarness) inc = files_new (f, "in", "include=*.txt*", "exclude=sub;.*", NULL);
  g_autofree char *inc_ids = read_ids (f, inc, NULL);
  g_assert_cmpstr (inc_ids, ==, "in/a.txt|in/c.txt~");

  /* named directly, a hidden file and a backup file are read */
  g_autoptr(GalleyHarness) named = files_new (f, "in/.d.txt;in/c.txt~", "include=*.md", NULL);
  g_autofree char *named_ids = read_ids (f, named, NULL);
  g_assert_cmpstr (named_ids, ==, "in/.d.txt|in/c.txt~");
}

/* Globs expand sorted; a glob may match directories (walked) and files;
 * a glob that matches nothing is a warning, not an error; a file matched
 * twice is read twice. */
static void
test_globs (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "2024/02/b.txt", "feb", -1);
  galley_test_write (f->dir, "2024/01/a.txt", "jan", -1);
  galley_test_write (f->dir, "2024/01/notes.md", "md", -1);
  galley_test_write (f->dir, "2023/12/z.txt", "dec", -1);
  g_autoptr(GalleyHarness) h = files_new (f, "202[4]/*;*/12/?.txt;none/*.txt", NULL);
  g_autofree char *logs = galley_test_take_logs ();
  g_assert_nonnull (strstr (logs, "pattern "));
  g_assert_nonnull (strstr (logs, "/none/*.txt matches no file"));
  g_autofree char *ids = read_ids (f, h, NULL);
  g_assert_cmpstr (ids, ==, "2024/01/a.txt|2024/01/notes.md|2024/02/b.txt|2023/12/z.txt");
}

/* @len bytes of @data, gzipped. */
static GBytes *
gzip_bytes (const void *data, gsize len)
{
  g_autoptr(GZlibCompressor) zc = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  gsize cap = len + 128, read = 0, written = 0;
  guint8 *buf = g_malloc (cap);
  g_assert_cmpint (g_converter_convert (G_CONVERTER (zc), data, len, buf, cap, G_CONVERTER_INPUT_AT_END,
                                        &read, &written, NULL), ==, G_CONVERTER_FINISHED);
  return g_bytes_new_take (buf, written);
}

static void
write_bytes (Fixture *f, const char *name, GBytes *bytes)
{
  galley_test_write (f->dir, name, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* A gzip file is read decompressed, whatever its name; its size after
 * decompression counts against max-size; a gzip file holding binary data
 * is skipped as binary. */
static void
test_gzip (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.dat", (const char *) gz, sizeof gz);
  static const char elf[] = "\x7f" "ELF\2\1\1\0\0\0\0\0\0\0\0\0";
  g_autoptr(GBytes) elf_gz = gzip_bytes (elf, sizeof elf - 1);
  write_bytes (f, "in/b.gz", elf_gz);
  g_autoptr(GPtrArray) docs = NULL;
  g_autoptr(GalleyHarness) h = files_new (f, "in", NULL);
  g_autofree char *ids = read_ids (f, h, &docs);
  g_assert_cmpstr (ids, ==, "in/a.dat");
  g_assert_cmpstr (text_of (docs, 0), ==, "gzipped article\n");
  g_assert_cmpint (galley_harness_get_skipped (h, "binary-file"), ==, 1);

  /* 1000 bytes of text, a few dozen gzipped: under max-size on disk, over
   * it once decompressed; rejected with the reason, not cut short */
  g_autofree char *text = g_strnfill (1000, 'a');
  g_autoptr(GBytes) text_gz = gzip_bytes (text, 1000);
  g_assert_cmpuint (g_bytes_get_size (text_gz), <, 100);
  write_bytes (f, "big/c.txt.gz", text_gz);
  g_autoptr(GalleyHarness) tight = files_new (f, "big", "max-size=500", NULL);
  g_autofree char *none = read_ids (f, tight, NULL);
  g_autofree char *logs = galley_test_take_logs ();
  g_assert_cmpstr (none, ==, "");
  g_assert_cmpint (galley_harness_get_rejected (tight), ==, 1);
  g_assert_nonnull (strstr (logs, "big/c.txt.gz: "));
  g_assert_nonnull (strstr (logs, "max-size"));
  g_autoptr(GPtrArray) big = NULL;
  g_autoptr(GalleyHarness) fits = files_new (f, "big", "max-size=1000", NULL);
  g_autofree char *big_ids = read_ids (f, fits, &big);
  g_assert_cmpstr (big_ids, ==, "big/c.txt.gz");
  g_assert_cmpstr (text_of (big, 0), ==, text);
}

/* A byte order mark names the charset (the repair stage decodes by it)
 * and the bytes are kept as they are; UTF-16 text, with or without a
 * mark, is text, not binary, though it is full of NUL bytes. */
static void
test_bom_and_charsets (Fixture *f, gconstpointer data)
{
  static const struct { const char *name, *bytes; gsize len; const char *charset; } files[] = {
    { "in/a-utf8.txt", "\xEF\xBB\xBFZ\xC3\xBCrich", 9, "utf-8" },
    { "in/b-utf16le.txt", "\xFF\xFEZ\0\xFC\0r\0i\0c\0h\0", 14, "utf-16le" },
    { "in/c-utf16be.txt", "\xFE\xFF\0Z\0\xFC\0r\0i\0c\0h", 14, "utf-16be" },
    { "in/d-utf32le.txt", "\xFF\xFE\0\0Z\0\0\0", 8, "utf-32le" },
    { "in/e-utf16le-no-mark.txt", "Z\0\xFC\0r\0i\0c\0h\0 \0Z\0\xFC\0r\0i\0c\0h\0", 26, NULL },
    { "in/f-html.txt", "\xEF\xBB\xBF  <!DOCTYPE html><p>x</p>", 29, "utf-8" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    galley_test_write (f->dir, files[i].name, files[i].bytes, files[i].len);
  g_autoptr(GPtrArray) docs = NULL;
  g_autoptr(GalleyHarness) h = files_new (f, "in", NULL);
  g_autofree char *ids = read_ids (f, h, &docs);
  g_assert_cmpstr (ids, ==, "in/a-utf8.txt|in/b-utf16le.txt|in/c-utf16be.txt|in/d-utf32le.txt"
                            "|in/e-utf16le-no-mark.txt|in/f-html.txt");
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      GalleyDocument *doc = g_ptr_array_index (docs, i);
      g_assert_cmpstr (galley_document_get_declared_encoding (doc), ==, files[i].charset);
      gsize len = 0;
      const void *raw = g_bytes_get_data (galley_document_get_raw (doc), &len);
      g_assert_cmpmem (raw, len, files[i].bytes, files[i].len);
      GalleyContentType want = i == 5 ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_TEXT;
      if (galley_document_get_content_type (doc) != want)
        g_error ("%s: content type %d, expected %d", files[i].name, galley_document_get_content_type (doc), want);
    }
  g_assert_cmpint (galley_harness_get_skipped (h, "binary-file"), ==, 0);

  /* content-type= forces the type whatever the file holds */
  g_autoptr(GPtrArray) forced = NULL;
  g_autoptr(GalleyHarness) ht = files_new (f, "in/f-html.txt", "content-type=text", NULL);
  g_autofree char *fids = read_ids (f, ht, &forced);
  g_assert_cmpint (galley_document_get_content_type (g_ptr_array_index (forced, 0)), ==, GALLEY_CONTENT_TEXT);
}

/* Binary files are skipped (counted by reason) whether found in a
 * directory or named directly; a FIFO or device is not read (a FIFO
 * would block the walk) but skipped as not-a-regular-file. */
static void
test_binary_and_special_files (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.pdf", "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj", -1);
  galley_test_write (f->dir, "in/b.txt", "text", -1);
  galley_test_write (f->dir, "in/c.sqlite", "SQLite format 3\0\x10\0\1\1", 21);
  g_autofree char *fifo = g_build_filename (f->dir, "in", "d.fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_autoptr(GalleyHarness) h = files_new (f, "in;in/a.pdf;/dev/null", NULL);
  g_autofree char *ids = read_ids (f, h, NULL);
  g_assert_cmpstr (ids, ==, "in/b.txt");
  g_assert_cmpint (galley_harness_get_skipped (h, "binary-file"), ==, 3);
  g_assert_cmpint (galley_harness_get_skipped (h, "not-a-regular-file"), ==, 2);
  g_assert_cmpint (galley_harness_get_rejected (h), ==, 0);
}

/* max-size is inclusive: a file of exactly max-size bytes is read, one
 * byte more is skipped with a warning naming the file, in a directory
 * (read from its listing) and named directly (checked by stat) alike. */
static void
test_max_size (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/exact.txt", "0123456789", -1);
  galley_test_write (f->dir, "in/over.txt", "0123456789X", -1);
  g_autoptr(GalleyHarness) h = files_new (f, "in;in/exact.txt;in/over.txt", "max-size=10", "read-ahead=0", NULL);
  g_autofree char *ids = read_ids (f, h, NULL);
  g_autofree char *logs = galley_test_take_logs ();
  g_assert_cmpstr (ids, ==, "in/exact.txt|in/exact.txt");
  g_assert_cmpint (galley_harness_get_skipped (h, "too-large"), ==, 2);
  g_assert_nonnull (strstr (logs, "in/over.txt: 11 bytes is over max-size; skipped"));
  g_assert_nonnull (strstr (logs, "in/over.txt: over max-size; skipped"));

  /* a size that does not parse is refused before anything is read */
  g_autoptr(GError) error = NULL;
  const char *bad[] = { "paths=in", "max-size=ten", NULL };
  g_assert_null (galley_harness_new ("files", bad, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "max-size"));
}

/* A missing path fails the source before it reads anything, with "no
 * input" (exit 66 in a run); so does a path through a file. A glob that
 * matches nothing does not. An empty paths= is a configuration error. */
static void
test_missing_paths (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "a", -1);
  const char *cases[] = { "in;missing", "in/a.txt/below", "in;in/nope.txt" };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) parts = g_strsplit (cases[i], ";", -1);
      g_autofree char *opt = g_strconcat ("paths=", f->dir, "/", parts[g_strv_length (parts) - 1], NULL);
      const char *opts[] = { opt, NULL };
      g_assert_null (galley_harness_new ("files", opts, &error));
      g_assert_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_NO_INPUT);
      g_assert_cmpint (galley_error_to_exit_code (error), ==, 66);
      g_assert_nonnull (strstr (error->message, parts[g_strv_length (parts) - 1]));
    }
  g_autoptr(GError) error = NULL;
  const char *empty[] = { "paths=", NULL };
  g_assert_null (galley_harness_new ("files", empty, &error));
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  g_assert_cmpint (galley_error_to_exit_code (error), ==, 78);
  g_assert_nonnull (strstr (error->message, "paths: empty"));

  /* in a run: exit 66, the file named, nothing written */
  galley_test_write (f->dir, "p.pipeline",
      "[pipeline]\nstages=in;out\nstats=\nrejects=\n[stage in]\nplugin=files\npaths=in;gone/x.txt\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 66);
  g_assert_nonnull (strstr (r->err, "gone/x.txt: No such file or directory"));
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* A file or directory that cannot be opened is rejected with the reason
 * and the walk goes on. Root reads anything: as root, the walk runs with
 * the effective ids of nobody. */
static void
test_unreadable (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "a", -1);
  g_autofree char *locked = galley_test_write_path (f->dir, "in/b.txt", "b", -1);
  galley_test_write (f->dir, "in/c/d.txt", "d", -1);
  galley_test_write (f->dir, "in/e.txt", "e", -1);
  g_autofree char *locked_dir = g_build_filename (f->dir, "in", "c", NULL);
  g_chmod (locked, 0);
  g_chmod (locked_dir, 0);
  gboolean as_nobody = geteuid () == 0;
  if (as_nobody)
    {
      g_chmod (f->dir, 0755);
      g_assert_cmpint (setegid (65534), ==, 0);
      g_assert_cmpint (seteuid (65534), ==, 0);
    }
  g_autoptr(GalleyHarness) h = files_new (f, "in", "read-ahead=0", NULL);
  g_autofree char *ids = read_ids (f, h, NULL);
  if (as_nobody)
    {
      g_assert_cmpint (seteuid (0), ==, 0);
      g_assert_cmpint (setegid (0), ==, 0);
    }
  g_autofree char *logs = galley_test_take_logs ();
  g_chmod (locked_dir, 0755);
  g_assert_cmpstr (ids, ==, "in/a.txt|in/e.txt");
  g_assert_cmpint (galley_harness_get_rejected (h), ==, 2);
  g_assert_nonnull (strstr (logs, "in/b.txt: cannot open: Permission denied"));
  g_assert_nonnull (strstr (logs, "in/c: cannot open directory: Permission denied"));

  /* named directly, an unreadable file is rejected the same way */
  if (as_nobody)
    {
      g_assert_cmpint (setegid (65534), ==, 0);
      g_assert_cmpint (seteuid (65534), ==, 0);
    }
  g_autoptr(GalleyHarness) named = files_new (f, "in/b.txt;in/a.txt", NULL);
  g_autofree char *named_ids = read_ids (f, named, NULL);
  if (as_nobody)
    {
      g_assert_cmpint (seteuid (0), ==, 0);
      g_assert_cmpint (setegid (0), ==, 0);
    }
  g_free (galley_test_take_logs ());
  g_assert_cmpstr (named_ids, ==, "in/a.txt");
  g_assert_cmpint (galley_harness_get_rejected (named), ==, 1);
}

/* A link back up the tree is entered once (skipped as directory-loop the
 * second time); a link to a directory outside is walked like a
 * directory; links that point at each other are rejected, not followed
 * forever. */
static void
test_symlink_loops (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "a", -1);
  galley_test_write (f->dir, "in/sub/b.txt", "b", -1);
  galley_test_write (f->dir, "elsewhere/e.txt", "e", -1);
  g_autofree char *up = g_build_filename (f->dir, "in", "sub", "up", NULL);
  g_autofree char *out = g_build_filename (f->dir, "in", "out", NULL);
  g_autofree char *x = g_build_filename (f->dir, "in", "x", NULL);
  g_autofree char *y = g_build_filename (f->dir, "in", "y", NULL);
  g_assert_cmpint (symlink ("..", up), ==, 0);
  g_assert_cmpint (symlink ("../elsewhere", out), ==, 0);
  g_assert_cmpint (symlink ("y", x), ==, 0);
  g_assert_cmpint (symlink ("x", y), ==, 0);
  g_autoptr(GalleyHarness) h = files_new (f, "in", NULL);
  g_autofree char *ids = read_ids (f, h, NULL);
  g_autofree char *logs = galley_test_take_logs ();
  g_assert_cmpstr (ids, ==, "in/a.txt|in/out/e.txt|in/sub/b.txt");
  g_assert_cmpint (galley_harness_get_skipped (h, "directory-loop"), ==, 1);
  g_assert_cmpint (galley_harness_get_rejected (h), ==, 2);
  g_assert_nonnull (strstr (logs, "in/x: Too many levels of symbolic links"));

  /* the same directory named twice is read once */
  g_autoptr(GalleyHarness) twice = files_new (f, "in/sub;in/sub/up/sub", NULL);
  g_autofree char *twice_ids = read_ids (f, twice, NULL);
  g_free (galley_test_take_logs ());
  g_assert_cmpstr (twice_ids, ==, "in/sub/b.txt|in/sub/up/a.txt|in/sub/up/out/e.txt");
  g_assert_cmpint (galley_harness_get_skipped (twice, "directory-loop"), ==, 2);
}

/* The id of a document is its path as walked (the source is the same),
 * with bytes that are not UTF-8 written \xHH and a backslash doubled, so
 * two files never share an id. */
static void
test_ids (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/plain name.txt", "1", -1);
  galley_test_write (f->dir, "in/back\\slash.txt", "2", -1);
  galley_test_write (f->dir, "in/back\\x41.txt", "3", -1);
  galley_test_write (f->dir, "in/caf\xE9.txt", "4", -1);
  galley_test_write (f->dir, "in/caf\\xE9.txt", "5", -1);
  galley_test_write (f->dir, "in/\xC3\xA9t\xC3\xA9.txt", "6", -1);
  g_autoptr(GPtrArray) docs = NULL;
  g_autoptr(GalleyHarness) h = files_new (f, "in", NULL);
  g_autofree char *ids = read_ids (f, h, &docs);
  g_assert_cmpstr (ids, ==, "in/back\\\\slash.txt|in/back\\\\x41.txt|in/caf\\\\xE9.txt|in/caf\\xE9.txt"
                            "|in/plain name.txt|in/\xC3\xA9t\xC3\xA9.txt");
  /* the source stays the path itself, bytes as they are */
  g_autofree char *raw_name = g_build_filename (f->dir, "in", "caf\xE9.txt", NULL);
  g_assert_cmpstr (galley_document_get_source (g_ptr_array_index (docs, 3)), ==, raw_name);
  g_assert_cmpstr (text_of (docs, 3), ==, "4");
}

/* id=relative: the path below the paths= entry (the name of a file
 * named there or matched by a glob), the same wherever the spool lies;
 * id=name: the file name; the source stays the path as read. */
static void
test_id_modes (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "spool/2024/a.txt", "a", -1);
  galley_test_write (f->dir, "spool/b.txt", "b", -1);
  galley_test_write (f->dir, "single/c.txt", "c", -1);
  galley_test_write (f->dir, "globbed/d.txt", "d", -1);
  galley_test_write (f->dir, "globbed/caf\xE9.txt", "e", -1);
  g_autofree char *glob = g_build_filename (f->dir, "globbed", "*.txt", NULL);
  g_autofree char *paths = g_strdup_printf ("spool/;single/c.txt;%s", glob);
  g_autoptr(GalleyHarness) path = files_new (f, paths, NULL);
  g_autofree char *by_path = read_ids (f, path, NULL);
  g_assert_cmpstr (by_path, ==, "spool/2024/a.txt|spool/b.txt|single/c.txt|globbed/caf\\xE9.txt|globbed/d.txt");
  g_autoptr(GPtrArray) docs = NULL;
  g_autoptr(GalleyHarness) rel = files_new (f, paths, "id=relative", NULL);
  g_autofree char *by_rel = read_ids (f, rel, &docs);
  g_assert_cmpstr (by_rel, ==, "2024/a.txt|b.txt|c.txt|caf\\xE9.txt|d.txt");
  g_autofree char *source = g_build_filename (f->dir, "spool", "2024", "a.txt", NULL);
  g_assert_cmpstr (galley_document_get_source (g_ptr_array_index (docs, 0)), ==, source);
  g_autoptr(GalleyHarness) name = files_new (f, paths, "id=name", NULL);
  g_autofree char *by_name = read_ids (f, name, NULL);
  g_assert_cmpstr (by_name, ==, "a.txt|b.txt|c.txt|caf\\xE9.txt|d.txt");

  /* the spool moved: the same relative ids */
  g_autofree char *old_dir = g_build_filename (f->dir, "spool", NULL);
  g_autofree char *new_dir = g_build_filename (f->dir, "moved", "spool", NULL);
  g_autofree char *moved_parent = g_build_filename (f->dir, "moved", NULL);
  g_assert_cmpint (g_mkdir (moved_parent, 0755), ==, 0);
  g_assert_cmpint (g_rename (old_dir, new_dir), ==, 0);
  g_autoptr(GalleyHarness) moved = files_new (f, "moved/spool", "id=relative", NULL);
  g_autofree char *by_moved = read_ids (f, moved, NULL);
  g_assert_cmpstr (by_moved, ==, "2024/a.txt|b.txt");

  g_autoptr(GError) error = NULL;
  const char *const bad[] = { "paths=.", "id=basename", NULL };
  g_autoptr(GalleyHarness) h = galley_harness_new ("files", bad, &error);
  g_assert_null (h);
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "expected one of path, relative, name, got 'basename'"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  galley_test_capture_logs ();
  ADD ("/plugin/files/sorted-walk", test_sorted_walk);
  ADD ("/plugin/files/directory-options", test_directory_options);
  ADD ("/plugin/files/id-modes", test_id_modes);
  ADD ("/plugin/files/globs", test_globs);
  ADD ("/plugin/files/gzip", test_gzip);
  ADD ("/plugin/files/bom-and-charsets", test_bom_and_charsets);
  ADD ("/plugin/files/binary-and-special-files", test_binary_and_special_files);
  ADD ("/plugin/files/max-size", test_max_size);
  ADD ("/plugin/files/missing-paths", test_missing_paths);
  ADD ("/plugin/files/unreadable", test_unreadable);
  ADD ("/plugin/files/symlink-loops", test_symlink_loops);
  ADD ("/plugin/files/ids", test_ids);
  return g_test_run ();
}
