/* test-pipeline.c: every kind of pipeline file mistake is caught before a
 * document is read, with the file, line, group and key named. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

typedef struct {
  const char *name;
  const char *content;
  const char *set;        /* one --set override, or NULL */
  GQuark    (*domain) (void);
  int         code;
  const char *expect[3];  /* substrings of the message (FILE is replaced) */
} BadConfig;

#define VALID_HEAD "[pipeline]\nstages=in;out\n\n[stage in]\nplugin=files\npaths=.\n\n[stage out]\nplugin=export-jsonl\npath=out.jsonl\n"

static const BadConfig bad_configs[] = {
  { "unknown-plugin", "[pipeline]\nstages=in\n[stage in]\nplugin=nope\n", NULL,
    galley_plugin_error_quark, GALLEY_PLUGIN_ERROR_NOT_FOUND,
    { "FILE:4: [stage in] plugin: ", "unknown plugin 'nope'", "available: " } },
  { "unknown-key", VALID_HEAD "colour=red\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
    { "FILE:11: [stage out] colour: ", "unknown key", "allowed: plugin, on-error, path, mkdir, fsync" } },
  { "repeated-key", "[pipeline]\nstages=in\n[stage in]\nplugin=files\npaths=a\npaths=b\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_DUPLICATE,
    { "FILE:6: [stage in] paths: key given twice (first at line 5)", NULL } },
  { "repeated-group", "[pipeline]\nstages=in\n[stage in]\nplugin=files\n[stage in]\npaths=.\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_DUPLICATE,
    { "FILE:5: group [stage in] repeated (first at line 3)", NULL } },
  { "wrong-type", "[pipeline]\nstages=in\n[stage in]\nplugin=files\npaths=.\nrecursive=perhaps\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "FILE:6: [stage in] recursive: expected a boolean", NULL } },
  { "wrong-size", "[pipeline]\nstages=in\n[stage in]\nplugin=files\npaths=.\nmax-size=lots\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "[stage in] max-size: expected a size", NULL } },
  { "missing-required", "[pipeline]\nstages=in\n[stage in]\nplugin=jsonl\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_MISSING,
    { "FILE:3: [stage in]: ", "path: required option is missing", NULL } },
  { "group-not-listed", VALID_HEAD "[stage extra]\nplugin=files\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
    { "FILE:11: [stage extra]: ", "not in [pipeline] stages=in;out", NULL } },
  { "unknown-group", VALID_HEAD "[output]\npath=x\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
    { "[output]", "unknown group", NULL } },
  { "no-pipeline-group", "[stage in]\nplugin=files\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_MISSING,
    { "no [pipeline] group", NULL } },
  { "empty-stages", "[pipeline]\nstages=\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_MISSING,
    { "[pipeline] stages: empty", NULL } },
  { "missing-stages", "[pipeline]\nthreads=2\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_MISSING,
    { "stages: required option is missing", NULL } },
  { "stage-listed-twice", "[pipeline]\nstages=in;in\n[stage in]\nplugin=files\npaths=.\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_DUPLICATE,
    { "stage 'in' listed twice", NULL } },
  { "source-after-sink", "[pipeline]\nstages=out;in\n[stage in]\nplugin=files\npaths=.\n[stage out]\nplugin=export-jsonl\npath=x\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "source 'in' comes after a stage or sink", NULL } },
  { "no-source", "[pipeline]\nstages=out\n[stage out]\nplugin=export-jsonl\npath=x\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_MISSING,
    { "a pipeline starts with a source", NULL } },
  { "bad-on-error", VALID_HEAD "on-error=maybe\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "FILE:11: [stage out] on-error: expected fail or skip, got 'maybe'", NULL } },
  { "bad-threads", "[pipeline]\nstages=in\nthreads=-2\n[stage in]\nplugin=files\npaths=.\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "FILE:3: [pipeline] threads: must be between 0 and 1024", NULL } },
  { "key-outside-group", "stages=in\n[pipeline]\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_PARSE,
    { "FILE:1: key outside any group", NULL } },
  { "garbage-line", "[pipeline]\nstages=in\nthis is not a key\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_PARSE,
    { "FILE:3: expected 'key=value'", NULL } },
  { "invalid-utf8", "[pipeline]\nstages=in\xff\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_PARSE,
    { "not valid UTF-8", NULL } },
  { "set-unknown-stage", VALID_HEAD, "nope.path=x",
    galley_config_error_quark, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
    { "--set nope.path: no stage 'nope'", "stages: in, out", NULL } },
  { "set-malformed", VALID_HEAD, "just-a-word",
    galley_config_error_quark, GALLEY_CONFIG_ERROR_PARSE,
    { "--set just-a-word: expected ID.KEY=VALUE", NULL } },
  { "set-wrong-type", VALID_HEAD, "in.recursive=sometimes",
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "--set in.recursive: expected a boolean", NULL } },
  { "set-bad-on-error", VALID_HEAD, "in.on-error=ignore",
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "--set in.on-error: expected fail or skip, got 'ignore'", NULL } },
  { "semicolon-comment", "[pipeline]\n; not a comment in pipeline files\nstages=in\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_PARSE,
    { "FILE:2: expected 'key=value', '[group]' or a '#' comment", NULL } },
  { "localized-key", VALID_HEAD "path[de]=aus.jsonl\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_PARSE,
    { "FILE:11: [stage out] 'path[de]' is not a key name", NULL } },
  { "bad-escape", VALID_HEAD "mkdir=tr\\que\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "FILE:11: [stage out] mkdir: ", NULL } },
  { "bad-escape-on-error", VALID_HEAD "on-error=skip\\\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "[stage out] on-error: expected fail or skip", NULL } },
  { "assumed-plugin", "[pipeline]\nstages=in;dedupe\n[stage in]\nplugin=files\npaths=.\n", NULL,
    galley_plugin_error_quark, GALLEY_PLUGIN_ERROR_NOT_FOUND,
    { "FILE:2: [pipeline] stages: no [stage dedupe] group, so plugin=dedupe was assumed: unknown plugin 'dedupe'", NULL } },
  { "set-unknown-key", VALID_HEAD, "out.compression=zstd",
    galley_config_error_quark, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
    { "--set out.compression: unknown key 'compression'", NULL } },
  { "wrong-abi-plugin", "[pipeline]\nstages=in;x\n[stage in]\nplugin=files\npaths=.\n[stage x]\nplugin=test-wrong-abi\n", NULL,
    galley_plugin_error_quark, GALLEY_PLUGIN_ERROR_ABI,
    { "galley-test-wrong-abi.so: built for stage ABI 2.0", "rebuild the plugin", NULL } },
};

static void
test_bad_config (gconstpointer data)
{
  const BadConfig *bc = data;
  g_autofree char *dir = galley_test_mkdtemp ();
  g_autofree char *file = g_strconcat (bc->name, ".pipeline", NULL);
  g_autofree char *path = galley_test_write_path (dir, file, bc->content, -1);
  const char *sets[] = { bc->set, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyPipeline) p = galley_pipeline_load (path, sets, &error);
  g_assert_null (p);
  g_assert_nonnull (error);
  if (error->domain != bc->domain () || error->code != bc->code)
    {
      g_test_fail_printf ("%s: got %s/%d: %s", bc->name, g_quark_to_string (error->domain), error->code, error->message);
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (bc->expect) && bc->expect[i] != NULL; i++)
    {
      g_autoptr(GString) want = g_string_new (bc->expect[i]);
      g_string_replace (want, "FILE", path, 0);
      if (strstr (error->message, want->str) == NULL)
        g_test_fail_printf ("%s: message «%s» lacks «%s»", bc->name, error->message, want->str);
    }
  galley_test_rmdir (dir);
}

/* Values outside an option's range (ABI 1.3) are refused where they are
 * read: the file and line of the key, or the --set override. */
#define RANGES_HEAD "[pipeline]\nstages=in;r\n\n[stage in]\nplugin=files\npaths=.\n\n[stage r]\nplugin=test-ranges\n"

static const BadConfig range_configs[] = {
  { "below-min", RANGES_HEAD "count=0\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "FILE:10: [stage r] count: at least 1, got 0", NULL } },
  { "above-max", RANGES_HEAD "flag=no\nratio = 1.25\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "FILE:11: [stage r] ratio: at most 1, got 1.25", NULL } },
  { "size-above-max", RANGES_HEAD "limit=2MiB\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "FILE:10: [stage r] limit: at most 1MiB, got 2MiB", NULL } },
  { "duration-below-min", RANGES_HEAD "wait=50ms\n", NULL,
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "FILE:10: [stage r] wait: at least 100ms, got 50ms", NULL } },
  { "set-above-max", RANGES_HEAD, "r.count=11",
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "--set r.count: at most 10, got 11", NULL } },
  { "set-over-good-file-value", RANGES_HEAD "count=3\n", "r.wait=0",
    galley_config_error_quark, GALLEY_CONFIG_ERROR_INVALID_VALUE,
    { "--set r.wait: at least 100ms, got 0", NULL } },
  { "bad-default-plugin", "[pipeline]\nstages=in;r\n[stage in]\nplugin=files\npaths=.\n[stage r]\nplugin=test-range-bad-default\n", NULL,
    galley_plugin_error_quark, GALLEY_PLUGIN_ERROR_INVALID,
    { "FILE:7: [stage r] plugin: ", "galley-test-range-bad-default.so: option 'count' has an invalid default '0': "
      "at least 1, got 0; fix the option table", NULL } },
};

static void
test_values_in_range (void)
{
  g_autofree char *dir = galley_test_mkdtemp ();
  g_autofree char *path = galley_test_write_path (dir, "ok.pipeline", RANGES_HEAD "count=10\nratio=0\n", -1);
  const char *sets[] = { "r.limit=1MiB", "r.wait=100ms", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyPipeline) p = galley_pipeline_load (path, sets, &error);
  g_assert_no_error (error);
  GalleyStageConfig *r = g_ptr_array_index (p->stages, 1);
  g_assert_cmpint (galley_options_get_int (r->options, "count"), ==, 10);
  g_assert_cmpfloat (galley_options_get_double (r->options, "ratio"), ==, 0.0);
  g_assert_cmpuint (galley_options_get_size (r->options, "limit"), ==, 1 << 20);
  g_assert_cmpint (galley_options_get_duration (r->options, "wait"), ==, 100 * G_TIME_SPAN_MILLISECOND);
  galley_test_rmdir (dir);
}

static void
test_valid_config_and_overrides (void)
{
  g_autofree char *dir = galley_test_mkdtemp ();
  g_autofree char *path = galley_test_write_path (dir, "ok.pipeline",
      "# comment\n[pipeline]\nstages=in;export-jsonl\nthreads=3\n\n[stage in]\nplugin=files\npaths=a;b\n"
      "on-error=skip\n\n[stage export-jsonl]\npath=x.jsonl\n", -1);
  const char *sets[] = { "in.recursive=false", "export-jsonl.path=y.jsonl", "pipeline.threads=2", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyPipeline) p = galley_pipeline_load (path, sets, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->name, ==, "ok");
  g_assert_cmpuint (p->threads, ==, 2);
  g_assert_cmpuint (p->stages->len, ==, 2);
  GalleyStageConfig *in = g_ptr_array_index (p->stages, 0);
  GalleyStageConfig *out = g_ptr_array_index (p->stages, 1);
  g_assert_cmpstr (in->plugin->name, ==, "files");
  g_assert_cmpint (in->on_error, ==, GALLEY_ON_ERROR_SKIP);
  g_assert_false (galley_options_get_bool (in->options, "recursive"));
  g_assert_cmpuint (g_strv_length ((char **) galley_options_get_strv (in->options, "paths")), ==, 2);
  g_assert_cmpstr (out->plugin->name, ==, "export-jsonl");
  g_assert_cmpstr (galley_options_get_string (out->options, "path"), ==, "y.jsonl");
  g_assert_cmpint (out->on_error, ==, GALLEY_ON_ERROR_FAIL);
  g_assert_cmpstr (p->stats_path, ==, "ok.stats.json");
  galley_test_rmdir (dir);
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyPipeline) p = galley_pipeline_load ("/nonexistent/x.pipeline", NULL, &error);
  g_assert_null (p);
  g_assert_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_NO_INPUT);
  g_assert_cmpint (galley_error_to_exit_code (error), ==, 66);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_configs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/pipeline/bad/%s", bad_configs[i].name);
      g_test_add_data_func (path, &bad_configs[i], test_bad_config);
    }
  for (guint i = 0; i < G_N_ELEMENTS (range_configs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/pipeline/range/%s", range_configs[i].name);
      g_test_add_data_func (path, &range_configs[i], test_bad_config);
    }
  g_test_add_func ("/pipeline/range/in-range", test_values_in_range);
  g_test_add_func ("/pipeline/valid-with-overrides", test_valid_config_and_overrides);
  g_test_add_func ("/pipeline/missing-file", test_missing_file);
  return g_test_run ();
}
