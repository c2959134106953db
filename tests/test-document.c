/* test-document.c: the document model and its output record. */
#include "galley-private.h"

#include <string.h>

static GalleyDocument *
doc_from_bytes (const char *data, gsize len)
{
  GalleyDocument *doc = galley_document_new ("d1", "mem");
  g_autoptr(GBytes) bytes = g_bytes_new (data, len);
  galley_document_set_raw (doc, bytes);
  return doc;
}

static void
test_valid_utf8_passes_through (void)
{
  const char text[] = "Zürich — “quoted” 東京";
  g_autoptr(GalleyDocument) doc = doc_from_bytes (text, strlen (text));
  gsize len;
  g_assert_cmpstr (galley_document_get_text (doc, &len), ==, text);
  g_assert_cmpuint (len, ==, strlen (text));
  g_assert_cmpint (galley_document_get_repair (doc, "invalid-utf8"), ==, 0);
  g_assert_cmpint (galley_document_get_length (doc), ==, g_utf8_strlen (text, -1));
}

static void
test_invalid_utf8_becomes_replacement (void)
{
  /* latin-1 "café" and a stray continuation byte */
  const char raw[] = "caf\xe9 ok \x80!";
  g_autoptr(GalleyDocument) doc = doc_from_bytes (raw, strlen (raw));
  const char *text = galley_document_get_text (doc, NULL);
  g_assert_cmpstr (text, ==, "caf\xef\xbf\xbd ok \xef\xbf\xbd!");
  g_assert_cmpint (galley_document_get_repair (doc, "invalid-utf8"), ==, 2);
  g_assert_true (g_utf8_validate (text, -1, NULL));
}

static void
test_nul_bytes_are_kept_visible (void)
{
  const char raw[] = "one\0two\0three";
  g_autoptr(GalleyDocument) doc = doc_from_bytes (raw, sizeof raw - 1);
  gsize len;
  const char *text = galley_document_get_text (doc, &len);
  g_assert_cmpstr (text, ==, "one\xef\xbf\xbdtwo\xef\xbf\xbdthree");
  g_assert_cmpuint (len, ==, strlen (text));
  g_assert_cmpint (galley_document_get_repair (doc, "nul-byte"), ==, 2);
  /* the raw bytes are untouched for later stages */
  g_assert_cmpuint (g_bytes_get_size (galley_document_get_raw (doc)), ==, sizeof raw - 1);
}

static void
test_bom_removed (void)
{
  const char raw[] = "\xEF\xBB\xBFHello";
  g_autoptr(GalleyDocument) doc = doc_from_bytes (raw, strlen (raw));
  g_assert_cmpstr (galley_document_get_text (doc, NULL), ==, "Hello");
}

static void
test_empty_document (void)
{
  g_autoptr(GalleyDocument) doc = doc_from_bytes ("", 0);
  g_assert_cmpstr (galley_document_get_text (doc, NULL), ==, "");
  g_assert_cmpint (galley_document_count_words (doc), ==, 0);
  g_autoptr(json_object) rec = galley_document_to_json (doc);
  g_assert_nonnull (rec);
  json_object *text = NULL;
  g_assert_true (json_object_object_get_ex (rec, "text", &text));
  g_assert_cmpstr (json_object_get_string (text), ==, "");
}

static void
test_set_text_sanitizes (void)
{
  g_autoptr(GalleyDocument) doc = galley_document_new ("d", NULL);
  galley_document_set_text (doc, "a\xff" "b", 3);
  g_assert_cmpstr (galley_document_get_text (doc, NULL), ==, "a\xef\xbf\xbd" "b");
  g_assert_cmpint (galley_document_get_repair (doc, "invalid-utf8"), ==, 1);
  g_assert_true (galley_document_has_text (doc));
}

static void
test_count_words (void)
{
  g_autoptr(GalleyDocument) doc = galley_document_new ("d", NULL);
  galley_document_set_text (doc, "Zelensky's talks — in Istanbul, 2025! Привет мир", -1);
  g_assert_cmpint (galley_document_count_words (doc), ==, 8);
}

/* Spans added in any order (forwards, backwards, shuffled, overlapping)
 * cover the right text, also after the text was replaced. */
static void
test_annotations_any_order (void)
{
  g_autoptr(GalleyDocument) doc = galley_document_new ("d", NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  for (guint i = 0; i < 40; i++)
    g_string_append_printf (text, "K\xc3\xa4se%u \xe2\x82\xac \xf0\x9d\x84\x9e x ", i);
  galley_document_set_text (doc, text->str, -1);
  glong n = g_utf8_strlen (text->str, -1);
  g_assert_cmpint (galley_document_get_length (doc), ==, n);
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  for (guint round = 0; round < 3; round++)
    for (guint k = 0; k < 300; k++)
      {
        glong start = round == 0 ? (glong) k % (n - 5) : round == 1 ? n - 5 - (glong) k % (n - 5)
                                                       : g_rand_int_range (rand, 0, n - 5);
        glong end = start + 1 + g_rand_int_range (rand, 0, 5);
        GalleyAnnotation *a = galley_document_add_annotation (doc, "test", "X", start, end, NULL);
        g_assert_nonnull (a);
        g_autofree char *want = g_utf8_substring (text->str, start, end);
        g_assert_cmpstr (a->text, ==, want);
      }
  /* a new text: spans are counted in it, not from where the last span
   * of the old one ended (3 code points, 4 bytes into the old text) */
  g_assert_nonnull (galley_document_add_annotation (doc, "test", "X", 2, 3, NULL));
  galley_document_set_text (doc, "\xe2\x82\xac\xe2\x82\xac ab", -1);
  GalleyAnnotation *a = galley_document_add_annotation (doc, "test", "X", 3, 5, NULL);
  g_assert_nonnull (a);
  g_assert_cmpstr (a->text, ==, "ab");
  g_assert_null (galley_document_add_annotation (doc, "test", "X", 4, 7, NULL));
}

static void
test_annotations_use_code_points (void)
{
  g_autoptr(GalleyDocument) doc = galley_document_new ("d", NULL);
  galley_document_set_text (doc, "Über Kyiv — Zelenskyy said", -1);
  GalleyAnnotation *a = galley_document_add_annotation (doc, NULL, "LOC", 5, 9, "Kyiv");
  g_assert_nonnull (a);
  g_assert_cmpstr (a->text, ==, "Kyiv");
  a = galley_document_add_annotation (doc, NULL, "PER", 12, 21, "Volodymyr Zelensky");
  g_assert_cmpstr (a->text, ==, "Zelenskyy");
  a->attrs = json_object_new_object ();
  json_object_object_add (a->attrs, "role", json_object_new_string ("President"));
  g_assert_null (galley_document_add_annotation (doc, NULL, "PER", 20, 99, NULL));
  g_assert_null (galley_document_add_annotation (doc, NULL, "PER", 5, 5, NULL));
  g_assert_nonnull (galley_document_add_annotation (doc, "sentences", "S", 0, 26, NULL));

  g_autoptr(json_object) rec = galley_document_to_json (doc);
  json_object *entities = NULL, *others = NULL;
  g_assert_true (json_object_object_get_ex (rec, "entities", &entities));
  g_assert_cmpuint (json_object_array_length (entities), ==, 2);
  json_object *per = json_object_array_get_idx (entities, 1);
  json_object *v = NULL;
  g_assert_true (json_object_object_get_ex (per, "start", &v));
  g_assert_cmpint (json_object_get_int (v), ==, 12);
  g_assert_true (json_object_object_get_ex (per, "role", &v));
  g_assert_cmpstr (json_object_get_string (v), ==, "President");
  g_assert_true (json_object_object_get_ex (rec, "annotations", &others));
  g_assert_true (json_object_object_get_ex (others, "sentences", &v));

  galley_document_clear_annotations (doc, "entities");
  g_assert_cmpuint (galley_document_get_n_annotations (doc), ==, 1);
}

static void
test_record_shape (void)
{
  g_autoptr(GalleyDocument) doc = galley_document_new ("id-\"1\"", "/in/a.txt");
  galley_document_set_text (doc, "line one\nline \"two\"\t\\ \x01", -1);
  galley_document_set_meta_string (doc, "title", "A title");
  galley_document_set_meta_string (doc, "author", NULL);
  json_object *dedup = json_object_new_object ();
  json_object_object_add (dedup, "cluster", json_object_new_int (7));
  galley_document_set_field (doc, "dedup", dedup);
  galley_document_set_field (doc, "text", json_object_new_string ("must not override"));
  galley_document_add_repair (doc, "mojibake", 2);
  galley_document_add_repair (doc, "mojibake", 3);

  g_autoptr(GString) line = g_string_new (NULL);
  galley_document_write_json (doc, line);
  g_assert_null (strchr (line->str, '\n'));
  g_autoptr(json_object) rec = json_tokener_parse (line->str);
  g_assert_nonnull (rec);
  json_object *v = NULL;
  g_assert_true (json_object_object_get_ex (rec, "id", &v));
  g_assert_cmpstr (json_object_get_string (v), ==, "id-\"1\"");
  g_assert_true (json_object_object_get_ex (rec, "text", &v));
  g_assert_cmpstr (json_object_get_string (v), ==, "line one\nline \"two\"\t\\ \x01");
  g_assert_true (json_object_object_get_ex (rec, "meta", &v));
  g_assert_cmpint (json_object_object_length (v), ==, 1);
  g_assert_true (json_object_object_get_ex (rec, "dedup", &v));
  g_assert_true (json_object_object_get_ex (rec, "repairs", &v));
  g_assert_cmpuint (json_object_array_length (v), ==, 1);
  json_object *count = NULL;
  json_object_object_get_ex (json_object_array_get_idx (v, 0), "count", &count);
  g_assert_cmpint (json_object_get_int (count), ==, 5);
  g_assert_false (json_object_object_get_ex (rec, "entities", NULL));
}

static void
test_escape_invalid_input (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  gsize bad = galley_json_escape_append (out, "a\xc3(b\0c", 6);
  g_assert_cmpuint (bad, ==, 2);
  g_assert_true (g_utf8_validate (out->str, -1, NULL));
  g_autoptr(json_object) v = json_tokener_parse (out->str);
  g_assert_nonnull (v);
}

/* The fast UTF-8 check agrees with GLib's on random, mostly-UTF-8 input. */
static void
test_validator_agrees_with_glib (void)
{
  static const char *const pieces[] = {
    "a", "Zürich", "—", "\xe2\x80", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
    "\xf0\x9f\x98\x80", "\x80", "\0", "longer ascii run here ", "\xe0\x9f\xbf", "\xef\xbf\xbd",
  };
  GRand *rand = g_rand_new_with_seed (42);
  for (guint round = 0; round < 20000; round++)
    {
      g_autoptr(GString) in = g_string_new (NULL);
      guint n = g_rand_int_range (rand, 0, 12);
      for (guint i = 0; i < n; i++)
        {
          const char *p = pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))];
          g_string_append_len (in, p, *p ? (gssize) strlen (p) : 1);
        }
      g_autoptr(GString) out = g_string_new (NULL);
      gsize bad = galley_json_escape_append (out, in->str, in->len);
      g_assert_cmpint (bad == 0, ==, g_utf8_validate_len (in->str, in->len, NULL));
      g_assert_true (g_utf8_validate (out->str, out->len, NULL));
    }
  g_rand_free (rand);
}

static void
count_destroy (gpointer data)
{
  (*(int *) data)++;
}

/* Stage data: one slot per stage, replaced values and the document's own
 * end destroy it, stealing hands it back untouched; it never shows in the
 * exported record. */
static void
test_stage_data (void)
{
  int a = 0, b = 0, c = 0;
  GalleyStageContext *one = (GalleyStageContext *) &a, *two = (GalleyStageContext *) &b;
  GalleyDocument *doc = galley_document_new ("d", NULL);
  galley_document_set_text (doc, "hello", -1);
  g_assert_null (galley_document_get_stage_data (doc, one));
  galley_document_set_stage_data (doc, one, &a, count_destroy);
  galley_document_set_stage_data (doc, two, &b, count_destroy);
  g_assert_true (galley_document_get_stage_data (doc, one) == &a);
  g_assert_true (galley_document_get_stage_data (doc, two) == &b);
  galley_document_set_stage_data (doc, one, &c, count_destroy);   /* replaces: destroys a */
  g_assert_cmpint (a, ==, 1);
  g_assert_true (galley_document_get_stage_data (doc, one) == &c);
  g_assert_true (galley_document_steal_stage_data (doc, two) == &b);
  g_assert_null (galley_document_get_stage_data (doc, two));
  g_autoptr(json_object) rec = galley_document_to_json (doc);
  g_assert_cmpint (json_object_object_length (rec), ==, 2);     /* id, text (no source) */
  galley_document_free (doc);
  g_assert_cmpint (a, ==, 1);
  g_assert_cmpint (b, ==, 0);   /* stolen */
  g_assert_cmpint (c, ==, 1);
}

/* galley_document_read_json() builds back what write_json() wrote: the
 * record written again is the same bytes (the shard steps store documents
 * this way between steps). */
static void
test_read_json_round_trip (void)
{
  const char raw[] = "Caf\xe9 \xc3\x9c" "ber Kyiv\0 \"quoted\" \\ tab\tand \xf0\x9f\x93\xb0 news\r\nline \x80" " end";
  g_autoptr(GalleyDocument) doc = doc_from_bytes (raw, sizeof raw - 1);
  galley_document_set_id (doc, "id/with \"quotes\" and \xc3\xa9");
  const char *text = galley_document_get_text (doc, NULL);
  g_assert_nonnull (text);
  g_assert_cmpint (galley_document_get_repair (doc, "nul-byte"), ==, 1);
  galley_document_add_repair (doc, "mojibake", 3);
  galley_document_set_meta_string (doc, "title", "T\xc3\xadtulo \"x\"");
  galley_document_set_meta_string (doc, "empty", "");
  galley_document_set_encoding (doc, "windows-1252");
  galley_document_set_content_type (doc, GALLEY_CONTENT_HTML);
  json_object *field = json_object_new_object ();
  json_object_object_add (field, "cluster", json_object_new_string ("c1"));
  json_object_object_add (field, "similarity", json_object_new_double_s (0.875, "0.875"));
  json_object_object_add (field, "n", json_object_new_int64 (-12));
  json_object_object_add (field, "ok", json_object_new_boolean (TRUE));
  json_object_object_add (field, "none", NULL);
  json_object *list = json_object_new_array ();
  json_object_array_add (list, json_object_new_string ("a"));
  json_object_array_add (list, json_object_new_int (2));
  json_object_object_add (field, "list", list);
  galley_document_set_field (doc, "dedup", field);
  /* code point offsets after multi-byte characters */
  gint64 n = galley_document_get_length (doc);
  GalleyAnnotation *a = galley_document_add_annotation (doc, NULL, "LOC", 10, 14, "Kyiv");
  g_assert_nonnull (a);
  g_assert_cmpstr (a->text, ==, "Kyiv");
  a->attrs = json_object_new_object ();
  json_object_object_add (a->attrs, "country", json_object_new_string ("UA"));
  g_assert_nonnull (galley_document_add_annotation (doc, "sentences", "S", 0, n, NULL));

  g_autoptr(GString) first = g_string_new (NULL);
  galley_document_write_json (doc, first);
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyDocument) back = galley_document_read_json (first->str, first->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_autoptr(GString) second = g_string_new (NULL);
  galley_document_write_json (back, second);
  g_assert_cmpstr (second->str, ==, first->str);

  g_assert_cmpstr (galley_document_get_id (back), ==, galley_document_get_id (doc));
  g_assert_cmpstr (galley_document_get_text (back, NULL), ==, text);
  g_assert_cmpint (galley_document_get_length (back), ==, n);
  g_assert_cmpint (galley_document_get_repair (back, "mojibake"), ==, 3);
  g_assert_cmpint (galley_document_get_repair (back, "nul-byte"), ==, 1);
  g_assert_cmpstr (galley_document_get_meta_string (back, "title"), ==, "T\xc3\xadtulo \"x\"");
  g_assert_cmpint (galley_document_get_content_type (back), ==, GALLEY_CONTENT_HTML);
  g_assert_cmpstr (galley_document_get_encoding (back), ==, "windows-1252");
  g_assert_cmpuint (galley_document_get_n_annotations (back), ==, 2);
  GalleyAnnotation *b = galley_document_get_annotation (back, 0);
  g_assert_cmpint (b->start, ==, 10);
  g_assert_cmpint (b->end, ==, 14);
  g_assert_cmpstr (b->text, ==, "Kyiv");
  /* not kept: the raw bytes */
  g_assert_null (galley_document_get_raw (back));

  /* an empty document */
  g_autoptr(GalleyDocument) empty = galley_document_new ("e", NULL);
  galley_document_set_text (empty, "", 0);
  g_autoptr(GString) e1 = g_string_new (NULL);
  galley_document_write_json (empty, e1);
  g_autoptr(GalleyDocument) eback = galley_document_read_json (e1->str, e1->len, &error);
  g_assert_no_error (error);
  g_autoptr(GString) e2 = g_string_new (NULL);
  galley_document_write_json (eback, e2);
  g_assert_cmpstr (e2->str, ==, e1->str);
}

static void
test_read_json_rejects (void)
{
  static const char *const bad[] = {
    "", "{", "[]", "null", "{\"text\":\"no id\"}", "{\"id\":5,\"text\":\"x\"}", "{\"id\":\"a\",\"text\":7}",
    "{\"id\":\"a\",\"text\":\"x\"} trailing", "{\"id\":\"a\",\"text\":\"x\",\"entities\":\"no\"}",
    "{\"id\":\"a\",\"text\":\"x\",\"entities\":[{\"type\":\"PER\",\"start\":0,\"end\":99}]}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GalleyDocument) doc = galley_document_read_json (bad[i], strlen (bad[i]), &error);
      if (doc != NULL)
        g_printerr ("accepted: %s\n", bad[i]);
      g_assert_null (doc);
      g_assert_error (error, GALLEY_DOCUMENT_ERROR, error->code);
    }
  /* a NUL inside the line is not a record */
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyDocument) doc = galley_document_read_json ("{\"id\":\"a\",\0\"text\":\"x\"}", 19, &error);
  g_assert_null (doc);
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/document/utf8-passes", test_valid_utf8_passes_through);
  g_test_add_func ("/document/invalid-utf8", test_invalid_utf8_becomes_replacement);
  g_test_add_func ("/document/nul-bytes", test_nul_bytes_are_kept_visible);
  g_test_add_func ("/document/bom", test_bom_removed);
  g_test_add_func ("/document/empty", test_empty_document);
  g_test_add_func ("/document/set-text-sanitizes", test_set_text_sanitizes);
  g_test_add_func ("/document/count-words", test_count_words);
  g_test_add_func ("/document/annotations", test_annotations_use_code_points);
  g_test_add_func ("/document/annotations-any-order", test_annotations_any_order);
  g_test_add_func ("/document/record", test_record_shape);
  g_test_add_func ("/document/escape-invalid", test_escape_invalid_input);
  g_test_add_func ("/document/validator-agrees", test_validator_agrees_with_glib);
  g_test_add_func ("/document/stage-data", test_stage_data);
  g_test_add_func ("/document/read-json-round-trip", test_read_json_round_trip);
  g_test_add_func ("/document/read-json-rejects", test_read_json_rejects);
  return g_test_run ();
}
