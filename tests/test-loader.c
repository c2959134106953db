/* test-loader.c: broken plugins are refused with a message naming the
 * file and the fix. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

typedef struct {
  const char *name;
  int         code;
  const char *expect[3];
} BrokenPlugin;

static const BrokenPlugin broken[] = {
  { "test-wrong-abi", GALLEY_PLUGIN_ERROR_ABI,
    { "galley-test-wrong-abi.so: built for stage ABI 2.0", "provides 1.4", "rebuild the plugin" } },
  { "test-newer-minor", GALLEY_PLUGIN_ERROR_ABI,
    { "galley-test-newer-minor.so: needs stage ABI 1.99", "upgrade galley", NULL } },
  { "test-wrong-name", GALLEY_PLUGIN_ERROR_NAME,
    { "galley-test-wrong-name.so: declares the name 'test-other-name'",
      "rename the file to galley-test-other-name.so", NULL } },
  { "test-no-symbol", GALLEY_PLUGIN_ERROR_SYMBOL,
    { "galley-test-no-symbol.so: no symbol galley_stage_query", "GALLEY_STAGE_DEFINE", NULL } },
  { "test-no-process", GALLEY_PLUGIN_ERROR_INVALID,
    { "galley-test-no-process.so: a stage must set the process() callback", NULL } },
  { "test-steps-no-command", GALLEY_PLUGIN_ERROR_INVALID,
    { "galley-test-steps-no-command.so: barrier steps run as the plugin's command", NULL } },
  { "test-steps-filter", GALLEY_PLUGIN_ERROR_INVALID,
    { "galley-test-steps-filter.so: a barrier step's command is a word other than 'filter'", NULL } },
  { "test-steps-no-part-option", GALLEY_PLUGIN_ERROR_INVALID,
    { "galley-test-steps-no-part-option.so: a step run per part needs its part_option", NULL } },
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

/* The harness takes a module file as well as a name; a file not named
 * galley-NAME.so is refused with the rule. */
static void
test_harness_module_path (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) bad = galley_harness_new ("build/wordcount.so", NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "build/wordcount.so: a plugin module is named galley-NAME.so"));
  g_autofree char *path = g_build_filename (g_getenv ("G_TEST_BUILDDIR"), "plugins", "galley-test-fail-on.so", NULL);
  g_autoptr(GError) none = NULL;
  g_autoptr(GalleyHarness) good = galley_harness_new (path, NULL, &none);
  g_assert_no_error (none);
  g_assert_nonnull (good);
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

/* A plugin built for an older minor (galley-test-old-abi.c) has option rows
 * without min, max and reserved slots: `galley run` must read its table in
 * that layout, give it its defaults and the values of the file, and run it. */
static void
test_old_abi (Fixture *f, gconstpointer data)
{
  const char *plugin = data;
  gboolean has_prepare = g_str_equal (plugin, "test-abi-1-2");
  galley_test_write (f->dir, "in/a.txt", "first article", -1);
  galley_test_write (f->dir, "in/b.txt", "second article", -1);
  g_autofree char *pipeline = g_strdup_printf (
      "[pipeline]\nstages=in;old;out\nstats=\nrejects=\n\n"
      "[stage in]\nplugin=files\npaths=in\n\n"
      "[stage old]\nplugin=%s\nratio=0.75\ncase=lower\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", plugin);
  galley_test_write (f->dir, "old.pipeline", pipeline, -1);
  /* its command, exported as a symbol of its own as before 1.3 */
  g_autoptr(RunResult) cmd = galley_test_run (f->dir, NULL, plugin, "a", "b", NULL);
  g_assert_cmpint (cmd->status, ==, 4);
  g_assert_cmpstr (cmd->out, ==, "old command 3\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "old.pipeline", "--set", "old.count=7", "-q", NULL);
  if (r->status != 0)
    g_test_message ("stderr: %s", r->err);
  g_assert_cmpint (r->status, ==, 0);

  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, ==, 2);
  for (guint i = 0; i < recs->len; i++)
    {
      json_object *values = NULL, *v = NULL;
      g_assert_true (json_object_object_get_ex (g_ptr_array_index (recs, i), "old_abi", &values));
      g_assert_cmpstr (galley_test_get_string (values, "label"), ==, "old");        /* default */
      g_assert_true (json_object_object_get_ex (values, "count", &v));
      g_assert_cmpint (json_object_get_int64 (v), ==, 7);                         /* --set */
      g_assert_true (json_object_object_get_ex (values, "ratio", &v));
      g_assert_cmpfloat (json_object_get_double (v), ==, 0.75);                   /* the file */
      g_assert_cmpstr (galley_test_get_string (values, "case"), ==, "lower");
      g_assert_true (json_object_object_get_ex (values, "limit", &v));
      g_assert_cmpint (json_object_get_int64 (v), ==, 4096);
      g_assert_true (json_object_object_get_ex (values, "tags", &v));
      g_assert_cmpuint (json_object_array_length (v), ==, 2);
      g_assert_cmpstr (json_object_get_string (json_object_array_get_idx (v, 1)), ==, "b");
      g_assert_cmpint (json_object_object_get_ex (values, "prepared", &v), ==, has_prepare);
      if (has_prepare)
        g_assert_true (json_object_get_boolean (v));
    }

  /* an option the table does not have is refused, naming the ones it has */
  g_autoptr(RunResult) bad = galley_test_run (f->dir, NULL, "check", "old.pipeline", "--set", "old.colour=red", NULL);
  g_assert_cmpint (bad->status, ==, 78);
  g_assert_nonnull (strstr (bad->err, "label, count, ratio, case, limit, tags"));

  g_autoptr(RunResult) inspect = galley_test_run (f->dir, NULL, "inspect", plugin, NULL);
  g_assert_cmpint (inspect->status, ==, 0);
  g_autofree char *abi = g_strdup_printf ("stage ABI: 1.%c,", plugin[strlen (plugin) - 1]);
  g_assert_nonnull (strstr (inspect->out, abi));
  g_assert_nonnull (strstr (inspect->out, "upper|lower: An enum with a default (default: upper)"));
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
  g_test_add ("/loader/old-abi/1.0", Fixture, "test-abi-1-0", galley_test_fixture_setup, test_old_abi,
              galley_test_fixture_teardown);
  g_test_add ("/loader/old-abi/1.2", Fixture, "test-abi-1-2", galley_test_fixture_setup, test_old_abi,
              galley_test_fixture_teardown);
  g_test_add_func ("/loader/harness-module-path", test_harness_module_path);
  return g_test_run ();
}
