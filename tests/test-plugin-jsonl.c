/* test-plugin-jsonl.c: the jsonl source on its own, driven in-process by
 * the harness: field mapping, line numbering through blank lines, CRLF,
 * a byte order mark, gzip and a last line without a newline, and the
 * limits a line has to keep. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

/* A jsonl source over @name in the fixture, with more "key=value"
 * options after it; NULL with *error set if init() refuses them. */
static GalleyHarness *
jsonl_try (Fixture *f, const char *name, GError **error, const char *first_opt, va_list ap)
{
  g_autoptr(GPtrArray) opts = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (opts, g_strconcat ("path=", f->dir, "/", name, NULL));
  for (const char *o = first_opt; o != NULL; o = va_arg (ap, const char *))
    g_ptr_array_add (opts, g_strdup (o));
  g_ptr_array_add (opts, NULL);
  return galley_harness_new ("jsonl", (const char *const *) opts->pdata, error);
}

static GalleyHarness *
jsonl_new (Fixture *f, const char *name, const char *first_opt, ...)
{
  va_list ap;
  va_start (ap, first_opt);
  g_autoptr(GError) error = NULL;
  GalleyHarness *h = jsonl_try (f, name, &error, first_opt, ap);
  va_end (ap);
  g_assert_no_error (error);
  return h;
}

static GError *
jsonl_refused (Fixture *f, const char *name, const char *first_opt, ...)
{
  va_list ap;
  va_start (ap, first_opt);
  GError *error = NULL;
  GalleyHarness *h = jsonl_try (f, name, &error, first_opt, ap);
  va_end (ap);
  g_assert_null (h);
  g_assert_nonnull (error);
  return error;
}

/* Reads the source to its end. */
static GPtrArray *
read_all (GalleyHarness *h)
{
  GPtrArray *docs = g_ptr_array_new_with_free_func ((GDestroyNotify) galley_document_free);
  GalleyDocument *doc = NULL;
  g_autoptr(GError) error = NULL;
  while (galley_harness_next (h, &doc, &error))
    g_ptr_array_add (docs, doc);
  g_assert_no_error (error);
  return docs;
}

/* "id@source-line=text" of each document, '|'-separated, with the
 * fixture's directory left out of the sources. */
static char *
summary (Fixture *f, GPtrArray *docs)
{
  GString *out = g_string_new (NULL);
  gsize prefix = strlen (f->dir) + 1;
  for (guint i = 0; i < docs->len; i++)
    {
      GalleyDocument *doc = g_ptr_array_index (docs, i);
      const char *id = galley_document_get_id (doc);
      const char *source = galley_document_get_source (doc);
      if (i > 0)
        g_string_append_c (out, '|');
      g_string_append_printf (out, "%s@%s=%s", g_str_has_prefix (id, f->dir) ? id + prefix : id,
                              g_str_has_prefix (source, f->dir) ? source + prefix : source,
                              galley_document_get_text (doc, NULL));
    }
  return g_string_free (out, FALSE);
}

static const char *
meta_json (GalleyDocument *doc)
{
  return json_object_to_json_string_ext (galley_document_get_meta (doc), JSON_C_TO_STRING_PLAIN);
}

/* id-field and text-field may name nested fields; meta-fields copies
 * fields, KEY=PATH under another name; keep-other-fields decides about
 * the rest. An id that is a number becomes its digits, an empty or
 * missing one the file and line. */
static void
test_field_mapping (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "{\"doc\":{\"key\":\"k1\",\"body\":\"Body one\"},\"head\":{\"title\":\"T\"},\"lang\":\"en\",\"extra\":[1]}\n"
      "{\"doc\":{\"key\":42,\"body\":\"Body two\"},\"lang\":null}\n"
      "{\"doc\":{\"key\":\"\",\"body\":\"Body three\"}}\n", -1);
  g_autoptr(GalleyHarness) h = jsonl_new (f, "in.jsonl", "id-field=doc.key", "text-field=doc.body",
                                          "meta-fields=headline=head.title;lang", "keep-other-fields=false", NULL);
  g_autoptr(GPtrArray) docs = read_all (h);
  g_autofree char *s = summary (f, docs);
  g_assert_cmpstr (s, ==, "k1@in.jsonl:1=Body one|42@in.jsonl:2=Body two|in.jsonl:3@in.jsonl:3=Body three");
  g_assert_cmpstr (meta_json (g_ptr_array_index (docs, 0)), ==, "{\"headline\":\"T\",\"lang\":\"en\"}");
  /* a null is no value */
  g_assert_cmpstr (meta_json (g_ptr_array_index (docs, 1)), ==, "{}");

  /* keep-other-fields=true: what is not mapped goes to meta as it is;
   * the fields used for id, text and meta do not come twice */
  g_autoptr(GalleyHarness) keep = jsonl_new (f, "in.jsonl", "id-field=doc.key", "text-field=doc.body",
                                             "meta-fields=headline=head.title;lang", NULL);
  g_autoptr(GPtrArray) kept = read_all (keep);
  g_assert_cmpstr (meta_json (g_ptr_array_index (kept, 0)), ==,
                   "{\"headline\":\"T\",\"lang\":\"en\",\"extra\":[1]}");

  /* a mapping that names nothing is refused before reading */
  g_autoptr(GError) e1 = jsonl_refused (f, "in.jsonl", "meta-fields=title;=x", NULL);
  g_assert_error (e1, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (e1->message, "meta-fields: '=x' is not FIELD or KEY=PATH"));
  g_autoptr(GError) e2 = jsonl_refused (f, "in.jsonl", "text-field=", NULL);
  g_assert_nonnull (strstr (e2->message, "text-field: must name a field"));
}

/* Blank lines (also of spaces) are passed over but counted, so line
 * numbers stay those of the file; CRLF line ends and a UTF-8 byte order
 * mark are not part of the record; a last line without a newline is
 * read. */
static void
test_line_ends (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "\xEF\xBB\xBF{\"text\":\"one\"}\r\n"
      "\r\n"
      "   \t \n"
      "{\"text\":\"four\"}\r\n"
      "\n"
      "{\"text\":\"six\\r\"}\n"
      "{\"text\":\"seven\"}", -1);
  g_autoptr(GalleyHarness) h = jsonl_new (f, "in.jsonl", NULL);
  g_autoptr(GPtrArray) docs = read_all (h);
  g_autofree char *s = summary (f, docs);
  g_assert_cmpstr (s, ==, "in.jsonl:1@in.jsonl:1=one|in.jsonl:4@in.jsonl:4=four"
                          "|in.jsonl:6@in.jsonl:6=six\r|in.jsonl:7@in.jsonl:7=seven");
  g_assert_cmpint (galley_harness_get_rejected (h), ==, 0);
}

/* A bad line is rejected with its line number (counting blank lines and
 * CRLF lines) and the run goes on to the next one. */
static void
test_bad_lines_numbered (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "{\"text\":\"ok\"}\r\n"
      "\n"
      "{\"text\":\"cut\r\n"
      "{\"text\":\"ok\"}{\"text\":\"two\"}\n"
      "{\"txt\":\"typo\"}\n"
      "\"just a string\"\n"
      "{\"text\":\"last\"}\n", -1);
  g_autoptr(GalleyHarness) h = jsonl_new (f, "in.jsonl", NULL);
  g_autoptr(GPtrArray) docs = read_all (h);
  g_autofree char *logs = galley_test_take_logs ();
  g_autofree char *s = summary (f, docs);
  g_assert_cmpstr (s, ==, "in.jsonl:1@in.jsonl:1=ok|in.jsonl:7@in.jsonl:7=last");
  g_assert_cmpint (galley_harness_get_rejected (h), ==, 4);
  const char *want[] = { "in.jsonl:3: not valid JSON", "in.jsonl:4: unexpected data after the JSON value",
                         "in.jsonl:5: no text field 'text' (fields: txt)", "in.jsonl:6: expected a JSON object, got string" };
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    if (strstr (logs, want[i]) == NULL)
      g_error ("expected '%s' in:\n%s", want[i], logs);
}

/* max-line counts the bytes of a line without its line end: a line of
 * exactly max-line bytes is read, one byte more is rejected whole, and
 * the lines after it are read. */
static void
test_max_line_boundary (Fixture *f, gconstpointer data)
{
  /* {"text":"xxxx"} is 11 + 4 bytes */
  galley_test_write (f->dir, "in.jsonl",
      "{\"text\":\"abcd\"}\n"
      "{\"text\":\"abcde\"}\n"
      "{\"text\":\"wxyz\"}\r\n"
      "{\"text\":\"ok\"}\n", -1);
  g_autoptr(GalleyHarness) h = jsonl_new (f, "in.jsonl", "max-line=15", NULL);
  g_autoptr(GPtrArray) docs = read_all (h);
  g_autofree char *logs = galley_test_take_logs ();
  g_autofree char *s = summary (f, docs);
  g_assert_cmpstr (s, ==, "in.jsonl:1@in.jsonl:1=abcd|in.jsonl:3@in.jsonl:3=wxyz|in.jsonl:4@in.jsonl:4=ok");
  g_assert_cmpint (galley_harness_get_rejected (h), ==, 1);
  g_assert_nonnull (strstr (logs, "in.jsonl:2: line longer than max-line (15 bytes)"));
}

/* A gzipped file is read as the plain one, whatever its name, with the
 * same line numbers, byte order mark and CRLF handling. */
static void
test_gzip (Fixture *f, gconstpointer data)
{
  static const char plain[] = "\xEF\xBB\xBF{\"id\":\"a\",\"text\":\"one\"}\r\n\n{\"text\":\"three\"}";
  g_autoptr(GZlibCompressor) zc = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  guint8 buf[256];
  gsize read = 0, written = 0;
  g_assert_cmpint (g_converter_convert (G_CONVERTER (zc), plain, sizeof plain - 1, buf, sizeof buf,
                                        G_CONVERTER_INPUT_AT_END, &read, &written, NULL), ==, G_CONVERTER_FINISHED);
  galley_test_write (f->dir, "in.data", (const char *) buf, written);
  g_autoptr(GalleyHarness) h = jsonl_new (f, "in.data", NULL);
  g_autoptr(GPtrArray) docs = read_all (h);
  g_autofree char *s = summary (f, docs);
  g_assert_cmpstr (s, ==, "a@in.data:1=one|in.data:3@in.data:3=three");

  /* a damaged gzip stream stops the source with an error naming the file */
  buf[written / 2] ^= 0xff;
  galley_test_write (f->dir, "bad.gz", (const char *) buf, written);
  g_autoptr(GalleyHarness) bad = jsonl_new (f, "bad.gz", NULL);
  GalleyDocument *doc = NULL;
  g_autoptr(GError) error = NULL;
  while (galley_harness_next (bad, &doc, &error))
    galley_document_free (doc);
  g_assert_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ);
  g_assert_nonnull (strstr (error->message, "bad.gz"));
  g_free (galley_test_take_logs ());
}

/* records=galley reads a record export-jsonl wrote back into the same
 * document: written out again it is byte for byte the same. */
static void
test_galley_records_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr(GalleyDocument) doc = galley_document_new ("doc-1", "feed.xml:12");
  galley_document_set_text (doc, "Z\xC3\xBC" "rich \"quoted\"\ttab", -1);
  galley_document_set_meta_string (doc, "title", "T\xC3\xADtulo");
  galley_document_set_declared_encoding (doc, "latin-1");
  galley_document_set_content_type (doc, GALLEY_CONTENT_HTML);
  galley_document_add_repair (doc, "mojibake", 2);
  galley_document_set_field (doc, "score", json_object_new_double (0.5));
  galley_document_add_annotation (doc, "entities", "LOC", 0, 6, "Z\xC3\xBCrich");
  g_autoptr(GString) line = g_string_new (NULL);
  galley_document_write_json (doc, line);
  g_autofree char *content = g_strconcat (line->str, "\n", NULL);
  galley_test_write (f->dir, "out.jsonl", content, -1);

  g_autoptr(GalleyHarness) h = jsonl_new (f, "out.jsonl", "records=galley", NULL);
  g_autoptr(GPtrArray) docs = read_all (h);
  g_assert_cmpuint (docs->len, ==, 1);
  g_autoptr(GString) again = g_string_new (NULL);
  galley_document_write_json (g_ptr_array_index (docs, 0), again);
  g_assert_cmpstr (again->str, ==, line->str);

  /* read as plain records, the same line is a document with meta */
  g_autoptr(GalleyHarness) plain = jsonl_new (f, "out.jsonl", NULL);
  g_autoptr(GPtrArray) pdocs = read_all (plain);
  g_assert_cmpstr (galley_document_get_id (g_ptr_array_index (pdocs, 0)), ==, "doc-1");
  g_assert_cmpuint (galley_document_get_n_annotations (g_ptr_array_index (pdocs, 0)), ==, 0);
}

/* A missing file is "no input" (exit 66); a directory or an empty path a
 * configuration error (78), before anything is read. */
static void
test_bad_paths (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) missing = jsonl_refused (f, "nope.jsonl", NULL);
  g_assert_error (missing, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_NO_INPUT);
  g_assert_cmpint (galley_error_to_exit_code (missing), ==, 66);
  g_assert_nonnull (strstr (missing->message, "nope.jsonl: No such file or directory"));
  galley_test_write (f->dir, "dir/x.jsonl", "{}", -1);
  g_autoptr(GError) dir = jsonl_refused (f, "dir", NULL);
  g_assert_cmpint (galley_error_to_exit_code (dir), ==, 78);
  g_assert_nonnull (strstr (dir->message, "is a directory; use the files source for directories"));
  const char *opts[] = { "path=", NULL };
  g_autoptr(GError) empty = NULL;
  g_assert_null (galley_harness_new ("jsonl", opts, &empty));
  g_assert_cmpint (galley_error_to_exit_code (empty), ==, 78);

  /* an empty file gives no document and no error */
  galley_test_write (f->dir, "empty.jsonl", "", 0);
  g_autoptr(GalleyHarness) h = jsonl_new (f, "empty.jsonl", NULL);
  g_autoptr(GPtrArray) docs = read_all (h);
  g_assert_cmpuint (docs->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  galley_test_capture_logs ();
  ADD ("/plugin/jsonl/field-mapping", test_field_mapping);
  ADD ("/plugin/jsonl/line-ends", test_line_ends);
  ADD ("/plugin/jsonl/bad-lines-numbered", test_bad_lines_numbered);
  ADD ("/plugin/jsonl/max-line-boundary", test_max_line_boundary);
  ADD ("/plugin/jsonl/gzip", test_gzip);
  ADD ("/plugin/jsonl/galley-records-round-trip", test_galley_records_round_trip);
  ADD ("/plugin/jsonl/bad-paths", test_bad_paths);
  return g_test_run ();
}
