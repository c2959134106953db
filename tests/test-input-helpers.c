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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/input-helpers/sniff", test_sniff);
  ADD ("/input-helpers/line-reader", test_line_reader);
  g_test_add_func ("/input-helpers/record-mapping", test_record_mapping);
  ADD ("/input-helpers/output", test_output_helpers);
  return g_test_run ();
}
