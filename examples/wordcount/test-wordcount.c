/* test-wordcount.c: unit tests of the wordcount stage, run in-process with
 * galley's test harness (<galley/galley-harness.h>): no pipeline file, no
 * galley process. `meson test` runs it; WORDCOUNT_MODULE names the module.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley.h>

static GalleyHarness *
harness (const char *const *options, GError **error)
{
  return galley_harness_new (g_getenv ("WORDCOUNT_MODULE"), options, error);
}

static GalleyDocument *
document (const char *text)
{
  GalleyDocument *doc = galley_document_new ("doc-1", "test");
  galley_document_set_text (doc, text, -1);
  return doc;
}

/* The count lands in the "wordcount" field. */
static void
test_counts_words (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (NULL, &error);
  g_assert_no_error (error);
  GalleyDocument *doc = document ("Floods closed the bridge, the council said.");
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
  json_object *count = NULL;
  g_assert_true (json_object_object_get_ex (galley_document_get_fields (doc), "wordcount", &count));
  g_assert_cmpint (json_object_get_int64 (count), ==, 7);
  g_assert_true (galley_harness_finish (h, &error));
  galley_document_free (doc);
}

/* Shorter than min-words: dropped as too-short; a renamed field. */
static void
test_min_words_and_field (void)
{
  const char *const options[] = { "min-words=3", "field=words", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (options, &error);
  g_assert_no_error (error);
  GalleyDocument *short_doc = document ("Two words");
  g_assert_cmpint (galley_harness_process (h, short_doc, &error), ==, GALLEY_VERDICT_DROP);
  g_assert_cmpstr (galley_harness_get_drop_reason (h), ==, "too-short");
  GalleyDocument *doc = document ("été à Paris, 2026");
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_true (json_object_object_get_ex (galley_document_get_fields (doc), "words", NULL));
  galley_document_free (short_doc);
  galley_document_free (doc);
}

/* Bad options fail as they would in a pipeline file. */
static void
test_bad_options (void)
{
  const char *const negative[] = { "min-words=-1", NULL };
  const char *const core_key[] = { "field=text", NULL };
  const char *const unknown[] = { "min-word=3", NULL };
  const char *const *cases[] = { negative, core_key, unknown };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GalleyHarness) h = harness (cases[i], &error);
      g_assert_null (h);
      g_assert_true (error != NULL && error->domain == GALLEY_CONFIG_ERROR);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wordcount/counts-words", test_counts_words);
  g_test_add_func ("/wordcount/min-words-and-field", test_min_words_and_field);
  g_test_add_func ("/wordcount/bad-options", test_bad_options);
  return g_test_run ();
}
