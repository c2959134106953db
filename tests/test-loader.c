/* test-loader.c: broken plugins are refused with a message naming the
 * file and the fix. */
#include "galley-private.h"

#include <string.h>

typedef struct {
  const char *name;
  int         code;
  const char *expect[3];
} BrokenPlugin;

static const BrokenPlugin broken[] = {
  { "test-wrong-abi", GALLEY_PLUGIN_ERROR_ABI,
    { "galley-test-wrong-abi.so: built for stage ABI 2.0", "provides 1.3", "rebuild the plugin" } },
  { "test-newer-minor", GALLEY_PLUGIN_ERROR_ABI,
    { "galley-test-newer-minor.so: needs stage ABI 1.99", "upgrade galley", NULL } },
  { "test-wrong-name", GALLEY_PLUGIN_ERROR_NAME,
    { "galley-test-wrong-name.so: declares the name 'test-other-name'",
      "rename the file to galley-test-other-name.so", NULL } },
  { "test-no-symbol", GALLEY_PLUGIN_ERROR_SYMBOL,
    { "galley-test-no-symbol.so: no symbol galley_stage_query", "GALLEY_STAGE_DEFINE", NULL } },
  { "test-no-process", GALLEY_PLUGIN_ERROR_INVALID,
    { "galley-test-no-process.so: a stage must set the process() callback", NULL } },
  { "no-such-plugin", GALLEY_PLUGIN_ERROR_NOT_FOUND,
    { "unknown plugin 'no-such-plugin'", "GALLEY_PLUGIN_PATH", NULL } },
  { "Bad Name!", GALLEY_PLUGIN_ERROR_NOT_FOUND,
    { "'Bad Name!' is not a plugin name", NULL } },
};

static void
test_broken (gconstpointer data)
{
  const BrokenPlugin *bp = data;
  g_autoptr(GError) error = NULL;
  const GalleyPlugin *plugin = galley_plugin_load (bp->name, &error);
  g_assert_null (plugin);
  g_assert_error (error, GALLEY_PLUGIN_ERROR, bp->code);
  g_assert_cmpint (galley_error_to_exit_code (error), ==, 78);
  for (guint i = 0; i < G_N_ELEMENTS (bp->expect) && bp->expect[i] != NULL; i++)
    if (strstr (error->message, bp->expect[i]) == NULL)
      g_test_fail_printf ("message «%s» lacks «%s»", error->message, bp->expect[i]);
}

static void
test_good_plugins_load (void)
{
  const char *names[] = { "files", "jsonl", "stdin", "export-jsonl", "test-fail-on" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GError) error = NULL;
      const GalleyPlugin *p = galley_plugin_load (names[i], &error);
      g_assert_no_error (error);
      g_assert_cmpstr (p->info->name, ==, names[i]);
      /* loading twice gives the same module */
      g_assert_true (galley_plugin_load (names[i], NULL) == p);
    }
}

static void
test_list_available (void)
{
  g_auto(GStrv) names = galley_plugin_list_available ();
  g_assert_true (g_strv_contains ((const char *const *) names, "files"));
  g_assert_true (g_strv_contains ((const char *const *) names, "export-jsonl"));
  g_assert_true (g_strv_contains ((const char *const *) names, "test-segv"));
  for (guint i = 1; names[i] != NULL; i++)
    g_assert_cmpint (strcmp (names[i - 1], names[i]), <, 0);
}

static void
test_search_dir_first (void)
{
  /* --plugin-dir entries come before GALLEY_PLUGIN_PATH */
  galley_plugin_add_search_dir ("/tmp/galley-first-dir");
  g_auto(GStrv) dirs = galley_plugin_get_search_path ();
  g_assert_cmpstr (dirs[0], ==, "/tmp/galley-first-dir");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autofree char *path = g_strdup_printf ("/loader/refuses/%u-%s", i, broken[i].name);
      g_test_add_data_func (path, &broken[i], test_broken);
    }
  g_test_add_func ("/loader/good-plugins", test_good_plugins_load);
  g_test_add_func ("/loader/list-available", test_list_available);
  g_test_add_func ("/loader/search-dir-first", test_search_dir_first);
  return g_test_run ();
}
