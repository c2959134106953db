/* test-option-ranges.c: option ranges (stage ABI 1.3) as a user meets
 * them: `galley inspect` shows them, `galley check` and `galley run` refuse
 * values outside them naming the file and line, and a plugin whose table
 * is wrong does not load. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

/* The JSON of `galley inspect PLUGIN --json`'s option @name. */
static json_object *
inspect_option (json_object *info, const char *name)
{
  json_object *options = NULL;
  g_assert_true (json_object_object_get_ex (info, "options", &options));
  for (size_t i = 0; i < json_object_array_length (options); i++)
    {
      json_object *o = json_object_array_get_idx (options, i);
      if (g_strcmp0 (galley_test_get_string (o, "name"), name) == 0)
        return o;
    }
  g_test_fail_printf ("inspect lists no option '%s'", name);
  return NULL;
}

static void
test_inspect_shows_range (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) text = galley_test_run (f->dir, NULL, "inspect", "test-ranges", NULL);
  g_assert_cmpint (text->status, ==, 0);
  g_assert_nonnull (strstr (text->out, "An int (default: 5; 1..10)"));
  g_assert_nonnull (strstr (text->out, "A size (default: 1k; at most 1MiB)"));
  g_assert_nonnull (strstr (text->out, "A duration (default: 1s; at least 100ms)"));
  g_assert_nonnull (strstr (text->out, "A bool (default: true)\n"));

  g_autoptr(RunResult) json = galley_test_run (f->dir, NULL, "inspect", "test-ranges", "--json", NULL);
  g_assert_cmpint (json->status, ==, 0);
  g_autoptr(json_object) info = json_tokener_parse (json->out);
  g_assert_nonnull (info);
  json_object *count = inspect_option (info, "count");
  g_assert_cmpstr (galley_test_get_string (count, "min"), ==, "1");
  g_assert_cmpstr (galley_test_get_string (count, "max"), ==, "10");
  json_object *wait = inspect_option (info, "wait");
  g_assert_cmpstr (galley_test_get_string (wait, "min"), ==, "100ms");
  g_assert_false (json_object_object_get_ex (wait, "max", NULL));
  json_object *flag = inspect_option (info, "flag");
  g_assert_false (json_object_object_get_ex (flag, "min", NULL));
}

static const char ranges_pipeline[] =
  "[pipeline]\nstages=in;r;out\nstats=\nrejects=\n\n"
  "[stage in]\nplugin=files\npaths=in\n\n"
  "[stage r]\nplugin=test-ranges\ncount=%s\n\n"
  "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n";

static void
test_check_names_file_and_line (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "an article", -1);
  g_autofree char *bad = g_strdup_printf (ranges_pipeline, "11");
  galley_test_write (f->dir, "r.pipeline", bad, -1);
  const char *verbs[] = { "check", "run" };
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    {
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, verbs[i], "r.pipeline", NULL);
      g_assert_cmpint (r->status, ==, 78);
      g_assert_nonnull (strstr (r->err, "r.pipeline:12: [stage r] count: at most 10, got 11"));
    }
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));

  /* --set over a good file value */
  g_autofree char *good = g_strdup_printf (ranges_pipeline, "10");
  galley_test_write (f->dir, "r.pipeline", good, -1);
  g_autoptr(RunResult) set = galley_test_run (f->dir, NULL, "run", "r.pipeline", "--set", "r.ratio=-1", NULL);
  g_assert_cmpint (set->status, ==, 78);
  g_assert_nonnull (strstr (set->err, "--set r.ratio: at least 0, got -1"));

  /* the bounds themselves are allowed, and init() gets the values */
  g_autoptr(RunResult) ok = galley_test_run (f->dir, NULL, "run", "r.pipeline", "--set", "r.ratio=1", "-q", NULL);
  g_assert_cmpint (ok->status, ==, 0);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, ==, 1);
  json_object *values = NULL, *v = NULL;
  g_assert_true (json_object_object_get_ex (g_ptr_array_index (recs, 0), "ranges", &values));
  g_assert_true (json_object_object_get_ex (values, "count", &v));
  g_assert_cmpint (json_object_get_int64 (v), ==, 10);
  g_assert_true (json_object_object_get_ex (values, "ratio", &v));
  g_assert_cmpfloat (json_object_get_double (v), ==, 1.0);
}

typedef struct {
  const char *plugin;
  const char *expect;
} BadTable;

static const BadTable bad_tables[] = {
  { "test-range-bad-default", "option 'count' has an invalid default '0': at least 1, got 0; fix the option table" },
  { "test-range-bad-bound", "option 'limit' has an invalid max 'lots': expected a size" },
  { "test-range-min-above-max", "option 'ratio' has a min '2' above its max '1'" },
  { "test-range-on-bool", "option 'flag' has a min or max, but a bool has no range" },
};

/* A table with a wrong range is the plugin's fault: it does not load. */
static void
test_bad_table_refused (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_tables); i++)
    {
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "inspect", bad_tables[i].plugin, NULL);
      g_assert_cmpint (r->status, ==, 78);
      g_autofree char *file = g_strdup_printf ("galley-%s.so: ", bad_tables[i].plugin);
      if (strstr (r->err, file) == NULL || strstr (r->err, bad_tables[i].expect) == NULL)
        g_test_fail_printf ("%s: message «%s» lacks «%s»", bad_tables[i].plugin, r->err, bad_tables[i].expect);
    }
}

/* The in-tree plugins keep the limits their init() used to check by hand,
 * now from their option tables: the bound is taken, one past it refused
 * with the file and line. */
typedef struct {
  const char *group;    /* [stage x] lines before the key */
  const char *key;
  const char *good;     /* the bound */
  const char *bad;
  const char *expect;   /* after "FILE:LINE: [stage x] " */
} PluginRange;

#define STAGE_AFTER_FILES(plugin) "[stage in]\nplugin=files\npaths=in\n[stage x]\nplugin=" plugin "\n"

static const PluginRange plugin_ranges[] = {
  { "[stage x]\nplugin=jsonl\npath=in.jsonl\n", "max-line", "2147483646", "2GiB",
    "max-line: at most 2147483646, got 2GiB" },
  { "[stage x]\nplugin=files\npaths=in\n", "read-ahead", "65536", "65537", "read-ahead: at most 65536, got 65537" },
  { "[stage x]\nplugin=files\npaths=in\n", "read-ahead", "0", "-1", "read-ahead: at least 0, got -1" },
  { STAGE_AFTER_FILES ("strip"), "min-length", "0", "-1", "min-length: at least 0, got -1" },
  { STAGE_AFTER_FILES ("strip"), "max-size", "1", "0", "max-size: at least 1, got 0" },
  { STAGE_AFTER_FILES ("dedup"), "threshold", "1", "1.5", "threshold: at most 1, got 1.5" },
  { STAGE_AFTER_FILES ("dedup"), "containment", "0", "-0.5", "containment: at least 0, got -0.5" },
  { STAGE_AFTER_FILES ("dedup"), "containment", "1", "2", "containment: at most 1, got 2" },
  { STAGE_AFTER_FILES ("dedup"), "paragraph-threshold", "1", "1.01", "paragraph-threshold: at most 1, got 1.01" },
  { STAGE_AFTER_FILES ("dedup"), "ngram", "1", "0", "ngram: at least 1, got 0" },
  { STAGE_AFTER_FILES ("dedup"), "ngram", "16", "17", "ngram: at most 16, got 17" },
  { STAGE_AFTER_FILES ("dedup"), "hashes", "16", "8", "hashes: at least 16, got 8" },
  { STAGE_AFTER_FILES ("dedup"), "hashes", "1024", "1025", "hashes: at most 1024, got 1025" },
  { STAGE_AFTER_FILES ("dedup"), "bands", "32", "33", "bands: at most 32, got 33" },
  { STAGE_AFTER_FILES ("dedup"), "bands", "0", "-1", "bands: at least 0, got -1" },
  { STAGE_AFTER_FILES ("dedup"), "lede-words", "10000", "10001", "lede-words: at most 10000, got 10001" },
  { STAGE_AFTER_FILES ("dedup"), "min-words", "0", "-1", "min-words: at least 0, got -1" },
  { STAGE_AFTER_FILES ("entities"), "top", "1000", "1001", "top: at most 1000, got 1001" },
  { STAGE_AFTER_FILES ("entities"), "top", "0", "-1", "top: at least 0, got -1" },
  { STAGE_AFTER_FILES ("entities"), "max-mentions", "0", "-1", "max-mentions: at least 0, got -1" },
  { STAGE_AFTER_FILES ("export-sqlite") "path=out.db\n", "batch-size", "1", "0", "batch-size: at least 1, got 0" },
  { STAGE_AFTER_FILES ("export-sqlite") "path=out.db\n", "batch-size", "1000000", "1000001",
    "batch-size: at most 1000000, got 1000001" },
  { STAGE_AFTER_FILES ("export-sqlite") "path=out.db\n", "busy-timeout", "1d", "25h", "busy-timeout: at most 1d, got 25h" },
};

static void
test_plugin_range (Fixture *f, gconstpointer data)
{
  const PluginRange *pr = data;
  galley_test_write (f->dir, "in/a.txt", "an article", -1);
  galley_test_write (f->dir, "in.jsonl", "{\"text\":\"an article\"}\n", -1);
  const char *head = strstr (pr->group, "[stage in]") ? "[pipeline]\nstages=in;x\n" : "[pipeline]\nstages=x\n";
  guint line = 2;
  for (const char *p = pr->group; *p; p++)
    line += *p == '\n';
  line++;   /* the key's own line */
  for (guint pass = 0; pass < 2; pass++)
    {
      const char *value = pass == 0 ? pr->good : pr->bad;
      g_autofree char *text = g_strdup_printf ("%s%s%s=%s\n", head, pr->group, pr->key, value);
      galley_test_write (f->dir, "p.pipeline", text, -1);
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", "p.pipeline", NULL);
      if (pass == 0)
        {
          if (r->status != 0)
            g_test_fail_printf ("%s=%s refused: %s", pr->key, value, r->err);
          continue;
        }
      g_assert_cmpint (r->status, ==, 78);
      g_autofree char *want = g_strdup_printf ("p.pipeline:%u: [stage x] %s\n", line, pr->expect);
      if (strstr (r->err, want) == NULL)
        g_test_fail_printf ("message «%s» lacks «%s»", r->err, want);
    }
}

/* What an option table cannot say stays in init(). */
static void
test_dedup_checks_left_in_init (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline",
                     "[pipeline]\nstages=in;x\n" STAGE_AFTER_FILES ("dedup") "hashes=16\n", -1);
  galley_test_write (f->dir, "in/a.txt", "an article", -1);
  const char *sets[][2] = {
    { "x.threshold=0", "threshold must be more than 0, got 0" },
    { "x.paragraph-threshold=0", "paragraph-threshold must be more than 0, got 0" },
    { "x.bands=20", "bands must be at most hashes (16), got 20" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    {
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", "p.pipeline", "--set", sets[i][0], NULL);
      g_assert_cmpint (r->status, ==, 78);
      if (strstr (r->err, sets[i][1]) == NULL)
        g_test_fail_printf ("message «%s» lacks «%s»", r->err, sets[i][1]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/option-ranges/inspect", test_inspect_shows_range);
  ADD ("/option-ranges/check-file-line", test_check_names_file_and_line);
  ADD ("/option-ranges/bad-table", test_bad_table_refused);
  for (guint i = 0; i < G_N_ELEMENTS (plugin_ranges); i++)
    {
      g_autofree char *path = g_strdup_printf ("/option-ranges/plugin/%u-%s", i, plugin_ranges[i].key);
      g_test_add (path, Fixture, &plugin_ranges[i], galley_test_fixture_setup,
                  test_plugin_range, galley_test_fixture_teardown);
    }
  ADD ("/option-ranges/dedup-init-checks", test_dedup_checks_left_in_init);
  return g_test_run ();
}
