/* test-input-helpers.c: the input and output helpers of libgalley-1 as a
 * source or sink of its own uses them (<galley/galley-input.h>,
 * <galley/galley-output.h>).
 */
#include "galley-private.h"
#include "galley-test-util.h"

#include <errno.h>
#include <string.h>

static void
test_sniff (void)
{
  const char *bom = NULL;
  g_assert_cmpint (galley_input_sniff ((const guint8 *) "%PDF-1.4", 8, NULL, &bom), ==, GALLEY_INPUT_KIND_BINARY);
  g_assert_cmpint (galley_input_sniff ((const guint8 *) "<!DOCTYPE html><p>x", 19, NULL, &bom), ==,
                   GALLEY_INPUT_KIND_HTML);
  g_assert_cmpint (galley_input_sniff ((const guint8 *) "plain", 5, "page.HTM.gz", &bom), ==, GALLEY_INPUT_KIND_HTML);
  g_assert_cmpint (galley_input_sniff ((const guint8 *) "\xEF\xBB\xBFtext", 7, NULL, &bom), ==,
                   GALLEY_INPUT_KIND_TEXT);
  g_assert_cmpstr (bom, ==, "utf-8");
  g_assert_true (galley_input_is_gzip ((const guint8 *) "\x1f\x8b", 2));
  g_assert_false (galley_input_is_gzip ((const guint8 *) "\x1f", 1));

  /* HTML and text in UTF-16 and UTF-32, with and without a BOM */
  static const struct { const char *charset; const char *bom; gsize bom_len; const char *said; } wide[] = {
    { "UTF-16LE", "\xFF\xFE", 2, "utf-16le" }, { "UTF-16BE", "\xFE\xFF", 2, "utf-16be" },
    { "UTF-32LE", "\xFF\xFE\x00\x00", 4, "utf-32le" }, { "UTF-32BE", "\x00\x00\xFE\xFF", 4, "utf-32be" },
    { "UTF-16LE", "", 0, NULL }, { "UTF-16BE", "", 0, NULL },
  };
  static const char html[] = "\n  <html lang=\"de\"><head><title>Stra\xc3\x9f" "e</title></head><body><p>\xc3\x9c</p></body></html>";
  static const char text[] = "Stra\xc3\x9f" "e und Pl\xc3\xa4" "tze: a <b>plain</b> letter, no page.\nSecond line.\n";
  for (guint i = 0; i < G_N_ELEMENTS (wide); i++)
    for (int k = 0; k < 2; k++)
      {
        gsize n = 0;
        g_autofree char *body = g_convert (k == 0 ? html : text, -1, wide[i].charset, "UTF-8", NULL, &n, NULL);
        g_assert_nonnull (body);
        g_autoptr(GString) bytes = g_string_new_len (wide[i].bom, wide[i].bom_len);
        g_string_append_len (bytes, body, n);
        GalleyInputKind kind = galley_input_sniff ((const guint8 *) bytes->str, bytes->len, NULL, &bom);
        g_assert_cmpint (kind, ==, k == 0 ? GALLEY_INPUT_KIND_HTML : GALLEY_INPUT_KIND_TEXT);
        g_assert_cmpstr (bom, ==, wide[i].said);
      }
}

/* Lines without their \r\n, numbered; a line over the limit is skipped
 * whole and said to be too long. */
static void
test_line_reader (Fixture *f, gconstpointer data)
{
  g_autofree char *path = galley_test_write_path (f->dir, "in.txt", "one\r\n0123456789\nthree", -1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyLineReader) r = galley_line_reader_open (path, 5, NULL, &error);
  g_assert_no_error (error);
  const char *line;
  gsize len;
  gboolean too_long;
  g_assert_true (galley_line_reader_next (r, &line, &len, &too_long, &error));
  g_assert_cmpstr (line, ==, "one");
  g_assert_false (too_long);
  g_assert_true (galley_line_reader_next (r, &line, &len, &too_long, &error));
  g_assert_true (too_long);
  g_assert_null (line);
  g_assert_true (galley_line_reader_next (r, &line, &len, &too_long, &error));
  g_assert_cmpstr (line, ==, "three");
  g_assert_cmpuint (galley_line_reader_get_line_number (r), ==, 3);
  g_assert_false (galley_line_reader_next (r, &line, &len, &too_long, &error));
  g_assert_no_error (error);

  g_autoptr(GError) missing = NULL;
  g_autofree char *nope = g_build_filename (f->dir, "nope", NULL);
  g_assert_null (galley_line_reader_open (nope, 5, NULL, &missing));
  g_assert_error (missing, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  guint64 fp1 = 0, fp2 = 0;
  g_assert_true (galley_input_fingerprint (path, 4, &fp1, &error));
  g_autofree char *other = galley_test_write_path (f->dir, "other.txt", "one\r\nsomething else", -1);
  g_assert_true (galley_input_fingerprint (other, 4, &fp2, &error));
  g_assert_cmpuint (fp1, ==, fp2);
  g_assert_true (galley_input_fingerprint (other, 8, &fp2, &error));
  g_assert_cmpuint (fp1, !=, fp2);
}

/* A mapping made from the GALLEY_RECORD_MAPPING_OPTIONS rows of a table. */
static void
test_record_mapping (void)
{
  static const GalleyOptionSpec specs[] = { GALLEY_RECORD_MAPPING_OPTIONS, { NULL } };
  g_autoptr(GalleyOptions) opts = galley_options_new (specs);
  g_autoptr(GError) error = NULL;
  g_assert_true (galley_options_set (opts, "text-field", "body", &error));
  g_assert_true (galley_options_set (opts, "meta-fields", "title;when=info.date", &error));
  g_assert_true (galley_options_finalize (opts, &error));
  g_autoptr(GalleyRecordMapping) m = galley_record_mapping_new (opts, &error);
  g_assert_no_error (error);
  g_assert_cmpint (galley_record_mapping_get_content_type (m), ==, GALLEY_CONTENT_UNKNOWN);
  const char *line = "{\"body\":\"Hello\",\"title\":\"T\",\"info\":{\"date\":\"2025-07-21\"}}";
  g_autoptr(GalleyDocument) doc = galley_record_mapping_to_document (m, line, strlen (line), "feed", 7, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (galley_document_get_id (doc), ==, "feed:7");
  g_assert_cmpstr (galley_document_get_text (doc, NULL), ==, "Hello");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "when"), ==, "2025-07-21");
  const char *bad = "{\"text\":\"no body\"}";
  g_assert_null (galley_record_mapping_to_document (m, bad, strlen (bad), "feed", 8, &error));
  g_assert_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "no text field 'body' (fields: text); set text-field"));

  g_autoptr(GalleyOptions) empty = galley_options_new (specs);
  g_assert_true (galley_options_set (empty, "text-field", "", NULL));
  g_assert_true (galley_options_finalize (empty, NULL));
  g_autoptr(GError) refused = NULL;
  g_assert_null (galley_record_mapping_new (empty, &refused));
  g_assert_error (refused, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
}

/* {run} never names an earlier run's file; io errors name the path. */
static void
test_output_helpers (Fixture *f, gconstpointer data)
{
  g_autofree char *pattern = g_build_filename (f->dir, "out-{run}.jsonl", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *first = galley_output_expand_path (pattern, 2, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (first, "/out-000002.jsonl"));
  galley_test_write (f->dir, "out-000009.jsonl", "", 0);
  g_autofree char *after = galley_output_expand_path (pattern, 2, &error);
  g_assert_true (g_str_has_suffix (after, "/out-000010.jsonl"));
  g_autofree char *family = galley_output_expand_family (pattern, &error);
  g_assert_cmpstr (family, ==, pattern);

  g_autoptr(GError) create = NULL;
  g_assert_false (galley_output_set_io_error (&create, ENOSPC, "cannot create", "/x/y"));
  g_assert_error (create, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE);
  g_assert_cmpstr (create->message, ==, "cannot create /x/y: No space left on device");
  g_autoptr(GError) write = NULL;
  galley_output_set_io_error (&write, EIO, "cannot write", "/x/y");
  g_assert_error (write, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE);

  g_autofree char *deep = g_build_filename (f->dir, "a", "b", "c.jsonl", NULL);
  g_assert_true (galley_output_make_parent (deep, &error));
  g_autofree char *dir = g_path_get_dirname (deep);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  galley_output_fsync_parent (deep);
}

/* @len bytes of @data as one gzip member. */
static GByteArray *
gzip_member (const void *data, gsize len)
{
  g_autoptr(GZlibCompressor) zc = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  gsize cap = len + len / 8 + 256, read = 0, written = 0;
  GByteArray *out = g_byte_array_sized_new ((guint) cap);
  g_byte_array_set_size (out, (guint) cap);
  g_assert_cmpint (g_converter_convert (G_CONVERTER (zc), data, len, out->data, cap, G_CONVERTER_INPUT_AT_END,
                                        &read, &written, NULL), ==, G_CONVERTER_FINISHED);
  g_byte_array_set_size (out, (guint) written);
  return out;
}

/* galley_input_gunzip(): every member, whatever the sizes of the members
 * (the last member's trailer is the first guess at the size), and a clear
 * error for data cut short, data after the last member, and output over
 * max-size. */
static void
test_gunzip (void)
{
  GString *big = g_string_new (NULL);
  for (int i = 0; big->len < 300000; i++)
    g_string_append_printf (big, "line %d of a long article, caf\xc3\xa9 %x\n", i, i * 7919);
  g_autoptr(GByteArray) first = gzip_member (big->str, big->len);
  g_autoptr(GByteArray) second = gzip_member ("and a short tail\n", 17);
  GByteArray *both = g_byte_array_new ();
  g_byte_array_append (both, first->data, first->len);
  g_byte_array_append (both, second->data, second->len);

  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = galley_input_gunzip (both->data, both->len, 1 << 30, &error);
  g_assert_no_error (error);
  gsize n = 0;
  const char *text = g_bytes_get_data (out, &n);
  g_assert_cmpuint (n, ==, big->len + 17);
  g_assert_true (memcmp (text, big->str, big->len) == 0);
  g_assert_cmpstr (text + big->len, ==, "and a short tail\n");   /* NUL after the data */

  /* one byte under the size: over max-size */
  g_autoptr(GBytes) over = galley_input_gunzip (both->data, both->len, big->len + 16, &error);
  g_assert_null (over);
  g_assert_nonnull (strstr (error->message, "max-size"));
  g_clear_error (&error);

  /* cut in the middle of the second member */
  g_autoptr(GBytes) cut = galley_input_gunzip (both->data, both->len - 10, 1 << 30, &error);
  g_assert_null (cut);
  g_assert_nonnull (strstr (error->message, "gzip"));
  g_clear_error (&error);

  /* bytes after the last member that are not a member */
  g_byte_array_append (both, (const guint8 *) "trailing text", 13);
  g_autoptr(GBytes) trailing = galley_input_gunzip (both->data, both->len, 1 << 30, &error);
  g_assert_null (trailing);
  g_assert_nonnull (strstr (error->message, "corrupt gzip data"));
  g_clear_error (&error);

  /* a flipped bit in the first member's data */
  both->data[first->len / 2] ^= 0x10;
  g_autoptr(GBytes) flipped = galley_input_gunzip (both->data, first->len, 1 << 30, &error);
  g_assert_null (flipped);
  g_assert_nonnull (strstr (error->message, "gzip"));
  g_byte_array_unref (both);
  g_string_free (big, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/input-helpers/sniff", test_sniff);
  g_test_add_func ("/input-helpers/gunzip", test_gunzip);
  ADD ("/input-helpers/line-reader", test_line_reader);
  g_test_add_func ("/input-helpers/record-mapping", test_record_mapping);
  ADD ("/input-helpers/output", test_output_helpers);
  return g_test_run ();
}
