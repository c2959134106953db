/* test-records.c: reading records and parsing input: ids that stay
 * distinct (big numbers, NULs, file names that are not UTF-8), a byte
 * order mark, and the messages for input that is not what is expected. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

/* Writes p.pipeline: @source as stage in, export-jsonl to out.jsonl. */
static void
write_pipeline (Fixture *f, const char *source, const char *pipeline_extra)
{
  g_autofree char *content = g_strdup_printf (
      "[pipeline]\nstages=in;out\nstats=run.stats.json\nrejects=run.rejects.jsonl\n%s\n"
      "[stage in]\n%s\non-error=skip\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n",
      pipeline_extra ? pipeline_extra : "", source);
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

static char *
read_text (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* The ids of @recs, in order, joined by '|'. */
static char *
ids_of (GPtrArray *recs)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < recs->len; i++)
    g_string_append_printf (s, "%s%s", i ? "|" : "", galley_test_get_string (g_ptr_array_index (recs, i), "id"));
  return g_string_free (s, FALSE);
}

/* ---- ids ---- */

/* Integers beyond 64 bits keep their text: as ids (two documents, not
 * one) and in meta. */
static void
test_big_integers (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "{\"id\":12345678901234567890123,\"text\":\"One\",\"n\":-99999999999999999999999}\n"
      "{\"id\":98765432109876543210987,\"text\":\"Two\",\"sizes\":[1,123456789012345678901234567890]}\n"
      "{\"id\":18446744073709551615,\"text\":\"Three\",\"m\":-9223372036854775808}\n", -1);
  write_pipeline (f, "plugin=jsonl\npath=in.jsonl", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_autofree char *ids = ids_of (recs);
  g_assert_cmpstr (ids, ==, "12345678901234567890123|98765432109876543210987|18446744073709551615");
  g_autofree char *text = read_text (f, "out.jsonl");
  g_assert_nonnull (strstr (text, "\"n\":-99999999999999999999999"));
  g_assert_nonnull (strstr (text, "\"sizes\":[1,123456789012345678901234567890]"));
  g_assert_nonnull (strstr (text, "\"m\":-9223372036854775808"));
}

/* A stored document read back (sharded runs) keeps big numbers in meta. */
static void
test_big_integers_read_back (void)
{
  const char *line = "{\"id\":\"a\",\"text\":\"x\",\"meta\":{\"n\":12345678901234567890123,\"k\":{\"a\":[-99999999999999999999]}}}";
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyDocument) doc = galley_document_read_json (line, strlen (line), &error);
  g_assert_no_error (error);
  g_autoptr(GString) out = g_string_new (NULL);
  galley_document_write_json (doc, out);
  g_assert_nonnull (strstr (out->str, "\"n\":12345678901234567890123"));
  g_assert_nonnull (strstr (out->str, "\"k\":{\"a\":[-99999999999999999999]}"));
}

/* An id with a NUL is rejected, not cut at the NUL (which made three
 * different ids one). */
static void
test_nul_in_id (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "{\"id\":\"nul\\u0000one\",\"text\":\"One\"}\n"
      "{\"id\":\"nul\\u0000two\",\"text\":\"Two\"}\n"
      "{\"id\":\"nul\",\"text\":\"Three\"}\n", -1);
  write_pipeline (f, "plugin=jsonl\npath=in.jsonl", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_autofree char *ids = ids_of (recs);
  g_assert_cmpstr (ids, ==, "nul");
  g_autoptr(GPtrArray) rejects = read_output (f, "run.rejects.jsonl");
  g_assert_cmpuint (rejects->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_nonnull (strstr (galley_test_get_string (g_ptr_array_index (rejects, i), "error"),
                              "id field 'id' contains a NUL character"));
  g_assert_nonnull (strstr (r->err, "in.jsonl:1: id field 'id' contains a NUL character"));
  g_assert_nonnull (strstr (r->err, "in.jsonl:2: id field 'id' contains a NUL character"));

  /* records=galley too */
  write_pipeline (f, "plugin=jsonl\npath=in.jsonl\nrecords=galley", NULL);
  g_autoptr(RunResult) g = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (g->status, ==, 0);
  g_autoptr(GPtrArray) grecs = read_output (f, "out.jsonl");
  g_autofree char *gids = ids_of (grecs);
  g_assert_cmpstr (gids, ==, "nul");
  g_assert_nonnull (strstr (g->err, "in.jsonl:2: id contains a NUL character"));
}

/* File names that are not UTF-8 give distinct ids, escaped reversibly:
 * each invalid byte as \xHH, a backslash as \\. The state ledger still
 * knows the files on the next run. */
static void
test_file_names_not_utf8 (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/caf\xe9.txt", "Latin-1 name", -1);
  galley_test_write (f->dir, "in/caf\xe8.txt", "Another Latin-1 name", -1);
  galley_test_write (f->dir, "in/caf\\xE9.txt", "A backslash in the name", -1);
  galley_test_write (f->dir, "in/plain.txt", "A plain name", -1);
  write_pipeline (f, "plugin=files\npaths=in", "state-dir=state");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_autofree char *ids = ids_of (recs);
  g_assert_cmpstr (ids, ==, "in/caf\\\\xE9.txt|in/caf\\xE8.txt|in/caf\\xE9.txt|in/plain.txt");

  /* nothing changed: nothing read again */
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_assert_cmpint (g_unlink (out), ==, 0);
  g_autoptr(RunResult) again = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (again->status, ==, 0);
  g_autoptr(GPtrArray) none = read_output (f, "out.jsonl");
  g_assert_cmpuint (none->len, ==, 0);
}

/* ---- byte order mark ---- */

static void
test_bom (Fixture *f, gconstpointer data)
{
  const char *lines = "\xEF\xBB\xBF{\"id\":\"a\",\"text\":\"First\"}\n{\"id\":\"b\",\"text\":\"Second\"}\n";
  galley_test_write (f->dir, "in.jsonl", lines, -1);
  write_pipeline (f, "plugin=jsonl\npath=in.jsonl", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_autofree char *ids = ids_of (recs);
  g_assert_cmpstr (ids, ==, "a|b");
  g_autoptr(GPtrArray) rejects = read_output (f, "run.rejects.jsonl");
  g_assert_cmpuint (rejects->len, ==, 0);

  /* stdin */
  write_pipeline (f, "plugin=stdin\nformat=jsonl", NULL);
  g_autoptr(RunResult) s = galley_test_run (f->dir, lines, "run", "p.pipeline", NULL);
  g_assert_cmpint (s->status, ==, 0);
  g_autoptr(GPtrArray) srecs = read_output (f, "out.jsonl");
  g_autofree char *sids = ids_of (srecs);
  g_assert_cmpstr (sids, ==, "a|b");

  /* read incrementally: the next run starts after line 2, numbering right */
  write_pipeline (f, "plugin=jsonl\npath=in.jsonl", "state-dir=state");
  g_autoptr(RunResult) i1 = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (i1->status, ==, 0);
  g_autoptr(GPtrArray) first = read_output (f, "out.jsonl");
  g_autofree char *first_ids = ids_of (first);
  g_assert_cmpstr (first_ids, ==, "a|b");
  g_autofree char *more = g_strconcat (lines, "{\"text\":\"Third\"}\n", NULL);
  galley_test_write (f->dir, "in.jsonl", more, -1);
  g_autoptr(RunResult) i2 = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (i2->status, ==, 0);
  g_autoptr(GPtrArray) second = read_output (f, "out.jsonl");
  g_autofree char *second_ids = ids_of (second);
  g_assert_cmpstr (second_ids, ==, "in.jsonl:3");
}

/* ---- messages ---- */

/* A line that is JSON but not an object, and a null text, say so. */
static void
test_json_messages (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "42\n"
      "null\n"
      "{\"id\":\"x\",\"text\":null}\n"
      "{\"id\":\"y\",\"text\":\"fine\"}\n"
      "{\"id\":\"z\",\"text\":\"cut\n", -1);
  write_pipeline (f, "plugin=jsonl\npath=in.jsonl", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_autofree char *ids = ids_of (recs);
  g_assert_cmpstr (ids, ==, "y");
  g_assert_nonnull (strstr (r->err, "in.jsonl:1: expected a JSON object, got int"));
  g_assert_nonnull (strstr (r->err, "in.jsonl:2: expected a JSON object, got null"));
  g_assert_nonnull (strstr (r->err, "in.jsonl:3: text field 'text' is null, expected a string"));
  g_assert_nonnull (strstr (r->err, "in.jsonl:5: not valid JSON: unexpected end of line"));
}

/* Group headers GKeyFile does not take are reported with their line. */
static void
test_pipeline_headers (Fixture *f, gconstpointer data)
{
  const struct { const char *text; const char *expected; } cases[] = {
    { "[[pipeline]]\nstages=in\n", "bad.pipeline:1: expected a group header '[NAME]'" },
    { "# comment\n[pipeline] \\\nstages=in\n", "bad.pipeline:2: expected a group header '[NAME]'" },
    { "[pipeline]\nstages=in\n\n[]\nx=1\n", "bad.pipeline:4: expected a group header '[NAME]'" },
    { "[pipeline]\nstag]es=in\n", "bad.pipeline:2: [pipeline] 'stag]es' is not a key name" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      galley_test_write (f->dir, "bad.pipeline", cases[i].text, -1);
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", "bad.pipeline", NULL);
      g_assert_cmpint (r->status, ==, 78);
      if (strstr (r->err, cases[i].expected) == NULL)
        g_error ("case %u: expected '%s' in: %s", i, cases[i].expected, r->err);
    }
}

/* --wait takes a finite number of seconds, or a duration. */
static void
test_wait_values (Fixture *f, gconstpointer data)
{
  write_pipeline (f, "plugin=stdin", NULL);
  const char *bad[] = { "--wait=nan", "--wait=-nan", "--wait=inf", "--wait=-1", "--wait=" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(RunResult) r = galley_test_run (f->dir, "x", "run", bad[i], "p.pipeline", NULL);
      g_assert_cmpint (r->status, ==, 64);
      if (strstr (r->err, "--wait takes seconds or a duration (90, 4m, 1h) up to 7 days") == NULL)
        g_error ("%s: %s", bad[i], r->err);
    }
  g_autoptr(RunResult) ok = galley_test_run (f->dir, "x", "run", "--wait=2.5", "p.pipeline", NULL);
  g_assert_cmpint (ok->status, ==, 0);
}

/* inspect lists what the loader would load: a galley-x.so in an unrelated
 * subdirectory of a plugin directory is not a plugin x. */
static void
test_inspect_subdirectories (Fixture *f, gconstpointer data)
{
  /* the in-tree plugins only (the test plugins include broken ones) */
  g_autofree char *saved = g_strdup (g_getenv ("GALLEY_PLUGIN_PATH"));
  g_assert_nonnull (saved);
  g_auto(GStrv) dirs = g_strsplit (saved, ":", 2);
  g_setenv ("GALLEY_PLUGIN_PATH", dirs[0], TRUE);
  galley_test_write (f->dir, "plugins/other/galley-x.so", "not a module", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "inspect", "--plugin-dir", "plugins", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_false (g_str_has_prefix (r->out, "x ") || strstr (r->out, "\nx ") != NULL);
  g_assert_nonnull (strstr (r->out, "jsonl "));
  g_assert_true (r->err == NULL || *r->err == '\0');

  /* one a run would try to load is reported, with its path and the reason,
   * and the others are still listed */
  galley_test_write (f->dir, "plugins/y/galley-y.so", "not a module", -1);
  g_autoptr(RunResult) broken = galley_test_run (f->dir, NULL, "inspect", "--plugin-dir", "plugins", NULL);
  g_assert_cmpint (broken->status, ==, 78);
  g_assert_nonnull (strstr (broken->err, "plugins/y/galley-y.so: cannot load"));
  g_assert_nonnull (strstr (broken->out, "jsonl "));
  g_setenv ("GALLEY_PLUGIN_PATH", saved, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/records/big-integers", test_big_integers);
  g_test_add_func ("/records/big-integers-read-back", test_big_integers_read_back);
  ADD ("/records/nul-in-id", test_nul_in_id);
  ADD ("/records/file-names-not-utf8", test_file_names_not_utf8);
  ADD ("/records/bom", test_bom);
  ADD ("/records/json-messages", test_json_messages);
  ADD ("/records/pipeline-headers", test_pipeline_headers);
  ADD ("/records/wait-values", test_wait_values);
  ADD ("/records/inspect-subdirectories", test_inspect_subdirectories);
  return g_test_run ();
}
