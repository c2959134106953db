/* test-galley-records.c: one reader of galley output records, for
 * records=galley in the jsonl and stdin sources and for stored documents
 * (galley_document_read_json(), read back by sharded runs): the same
 * checks and the same messages in both.
 */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

static void
write_pipeline (Fixture *f, const char *stages, const char *extra)
{
  g_autofree char *content = g_strdup_printf (
      "[pipeline]\nstages=%s\nstats=\nrejects=run.rejects.jsonl\n"
      "[stage in]\nplugin=jsonl\npath=in.jsonl\nrecords=galley\non-error=skip\n"
      "%s"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", stages, extra ? extra : "");
  galley_test_write (f->dir, "p.pipeline", content, -1);
}

static GPtrArray *
read_output (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return g_ptr_array_new ();
  return galley_test_read_jsonl (path);
}

/* A line with bytes that are not UTF-8 is not a galley record (export-jsonl
 * writes UTF-8 only): it is a reject naming its line, as a stored
 * document with such bytes is an error, and the lines around it are
 * read. */
static void
test_not_utf8_rejected (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "{\"id\":\"a\",\"text\":\"Kyiv\"}\n"
      "{\"id\":\"b\",\"text\":\"caf\xe9\"}\n"
      "{\"id\":\"c\",\"text\":\"Lviv\"}\n", -1);
  write_pipeline (f, "in;out", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, 2);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "id"), ==, "a");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 1), "id"), ==, "c");
  g_autoptr(GPtrArray) rejects = read_output (f, "run.rejects.jsonl");
  g_assert_cmpuint (rejects->len, ==, 1);
  const char *msg = galley_test_get_string (g_ptr_array_index (rejects, 0), "error");
  if (strstr (msg, "not valid UTF-8 at byte 21") == NULL)
    g_error ("reject says '%s'", msg);
  g_assert_nonnull (strstr (r->err, "in.jsonl:2: not a galley record: not valid UTF-8 at byte 21"));
}

/* A record's text is the text it was written with, decided: a repair
 * stage after records=galley leaves the record's encoding as it was (it
 * does not decode the text again and call it utf-8). */
static void
test_encoding_kept (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "{\"id\":\"a\",\"text\":\"Caf\xc3\xa9 in Kyiv\",\"encoding\":\"windows-1252\"}\n"
      "{\"id\":\"b\",\"text\":\"No encoding\"}\n", -1);
  write_pipeline (f, "in;repair;out", "[stage repair]\nplugin=repair\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, 2);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "encoding"), ==, "windows-1252");
  g_assert_false (json_object_object_get_ex (g_ptr_array_index (recs, 1), "encoding", NULL));
}

/* A stored document is checked as records=galley checks a record: meta
 * must be an object, spans need integer offsets, an id must be a
 * non-empty string without NUL, and the messages say what was expected. */
static void
test_read_json_checks (void)
{
  static const struct { const char *line; const char *message; } cases[] = {
    { "{\"id\":\"a\",\"text\":\"x\",\"meta\":[1]}", "meta: expected an object" },
    { "{\"id\":\"a\",\"text\":\"Kyiv\",\"entities\":[{\"type\":\"LOC\",\"start\":\"0\",\"end\":4}]}",
      "entities[0]: expected an object with type (a string), start and end (integers)" },
    { "{\"id\":\"a\",\"text\":\"Kyiv\",\"entities\":[{\"type\":\"LOC\",\"start\":0,\"end\":9}]}",
      "entities[0]: span 0..9 is not inside the text (4 code points)" },
    { "{\"id\":\"a\",\"text\":\"Kyiv\",\"annotations\":{\"s\":{}}}",
      "annotations.s: expected an array of spans, got object" },
    { "{\"id\":\"\",\"text\":\"x\"}", "not a galley record: no id (a non-empty string)" },
    { "{\"id\":\"a\\u0000b\",\"text\":\"x\"}", "id contains a NUL character" },
    { "{\"id\":\"a\"}", "not a galley record: no text (a string)" },
    { "{\"id\":\"a\",\"text\":\"x\"} {}", "unexpected data after the JSON value at byte 22" },
    { "[1]", "expected a JSON object, got array" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GalleyDocument) doc = galley_document_read_json (cases[i].line, strlen (cases[i].line), &error);
      if (doc != NULL)
        g_error ("accepted: %s", cases[i].line);
      g_assert_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID);
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("%s: '%s' does not say '%s'", cases[i].line, error->message, cases[i].message);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/galley-records/not-utf8-rejected", test_not_utf8_rejected);
  ADD ("/galley-records/encoding-kept", test_encoding_kept);
  g_test_add_func ("/galley-records/read-json-checks", test_read_json_checks);
  return g_test_run ();
}
