/* test-example.c: the example plugins of examples/, built out of tree
 * against the installed headers and galley-1.pc (by `make test`; a plain
 * `meson test` uses the same sources built in the tree), load with
 * --plugin-dir and work. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

static const char *
example_plugin_dir (void)
{
  const char *dir = g_getenv ("GALLEY_EXAMPLE_PLUGIN_DIR");
  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    dir = g_getenv ("GALLEY_EXAMPLE_INTREE_DIR");
  g_assert_nonnull (dir);
  return dir;
}

static void
test_wordcount_plugin (void)
{
  const char *plugin_dir = example_plugin_dir ();
  g_autofree char *dir = galley_test_mkdtemp ();
  galley_test_write (dir, "in/a.txt", "one two three four", -1);
  galley_test_write (dir, "in/b.txt", "too short", -1);
  galley_test_write (dir, "w.pipeline",
      "[pipeline]\nstages=in;count;out\nstats=w.stats.json\n"
      "[stage in]\nplugin=files\npaths=in\n"
      "[stage count]\nplugin=wordcount\nmin-words=3\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(RunResult) r = galley_test_run (dir, NULL, "run", "w.pipeline", "--plugin-dir", plugin_dir, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *out = g_build_filename (dir, "out.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, ==, 1);
  json_object *count = NULL;
  g_assert_true (json_object_object_get_ex (g_ptr_array_index (recs, 0), "wordcount", &count));
  g_assert_cmpint (json_object_get_int (count), ==, 4);
  g_assert_nonnull (strstr (r->err, "count:too-short 1"));

  g_autoptr(RunResult) bad = galley_test_run (dir, NULL, "check", "w.pipeline", "--plugin-dir", plugin_dir,
                                              "--set", "count.min-words=-1", NULL);
  g_assert_cmpint (bad->status, ==, 78);
  g_assert_nonnull (strstr (bad->err, "min-words"));

  g_autoptr(RunResult) inspect = galley_test_run (dir, NULL, "inspect", "wordcount", "--plugin-dir", plugin_dir, NULL);
  g_assert_cmpint (inspect->status, ==, 0);
  g_assert_nonnull (strstr (inspect->out, "min-words"));
  galley_test_rmdir (dir);
}

/* The tsv sink: a header line, then one line per document in input order. */
static void
test_tsv_plugin (void)
{
  const char *plugin_dir = example_plugin_dir ();
  g_autofree char *dir = galley_test_mkdtemp ();
  galley_test_write (dir, "in/a.txt", "one two three four", -1);
  galley_test_write (dir, "in/b.txt", "five\tsix", -1);
  galley_test_write (dir, "t.pipeline",
      "[pipeline]\nstages=in;out\n"
      "[stage in]\nplugin=files\npaths=in\n"
      "[stage out]\nplugin=tsv\npath=out.tsv\n", -1);
  g_autoptr(RunResult) r = galley_test_run (dir, NULL, "run", "t.pipeline", "--plugin-dir", plugin_dir, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *out = g_build_filename (dir, "out.tsv", NULL);
  g_autofree char *data = NULL;
  g_assert_true (g_file_get_contents (out, &data, NULL, NULL));
  g_assert_cmpstr (data, ==, "id\twords\ttitle\nin/a.txt\t4\t\nin/b.txt\t2\t\n");
  g_autoptr(RunResult) bad = galley_test_run (dir, NULL, "check", "t.pipeline", "--plugin-dir", plugin_dir,
                                              "--set", "out.path=-", NULL);
  g_assert_cmpint (bad->status, ==, 78);
  g_assert_nonnull (strstr (bad->err, "path: give a file name"));
  galley_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/example/wordcount", test_wordcount_plugin);
  g_test_add_func ("/example/tsv", test_tsv_plugin);
  return g_test_run ();
}
