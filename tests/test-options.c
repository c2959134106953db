/* test-options.c: option values as users write them. */
#include "galley-private.h"

static const GalleyOptionSpec specs[] = {
  { "name", GALLEY_OPT_STRING, NULL, "required string", NULL },
  { "count", GALLEY_OPT_INT, "3", "an int", NULL },
  { "ratio", GALLEY_OPT_DOUBLE, "0.5", "a double", NULL },
  { "enabled", GALLEY_OPT_BOOL, "yes", "a bool", NULL },
  { "items", GALLEY_OPT_STRV, "a; b ;;c", "a list", NULL },
  { "limit", GALLEY_OPT_SIZE, "16MiB", "a size", NULL },
  { "window", GALLEY_OPT_DURATION, "30d", "a duration", NULL },
  { "mode", GALLEY_OPT_ENUM, "drop", "an enum", "drop|annotate" },
  { NULL }
};

static void
test_defaults_apply (void)
{
  g_autoptr(GalleyOptions) opts = galley_options_new (specs);
  g_autoptr(GError) error = NULL;
  g_assert_true (galley_options_set (opts, "name", "x", &error));
  g_assert_true (galley_options_finalize (opts, &error));
  g_assert_no_error (error);
  g_assert_cmpint (galley_options_get_int (opts, "count"), ==, 3);
  g_assert_cmpfloat (galley_options_get_double (opts, "ratio"), ==, 0.5);
  g_assert_true (galley_options_get_bool (opts, "enabled"));
  const char *const *items = galley_options_get_strv (opts, "items");
  g_assert_cmpuint (g_strv_length ((char **) items), ==, 3);
  g_assert_cmpstr (items[1], ==, "b");
  g_assert_cmpuint (galley_options_get_size (opts, "limit"), ==, 16u << 20);
  g_assert_cmpint (galley_options_get_duration (opts, "window"), ==, 30 * G_TIME_SPAN_DAY);
  g_assert_cmpstr (galley_options_get_enum (opts, "mode"), ==, "drop");
  g_assert_true (galley_options_is_set (opts, "name"));
  g_assert_false (galley_options_is_set (opts, "count"));
}

static void
test_required_missing (void)
{
  g_autoptr(GalleyOptions) opts = galley_options_new (specs);
  g_autoptr(GError) error = NULL;
  g_assert_false (galley_options_finalize (opts, &error));
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "name"));
}

typedef struct {
  const char *key;
  const char *value;
  const char *expect;   /* substring of the message */
} BadValue;

static const BadValue bad_values[] = {
  { "count", "12abc", "expected an integer" },
  { "count", "", "expected an integer" },
  { "count", "99999999999999999999", "expected an integer" },
  { "ratio", "half", "expected a number" },
  { "ratio", "nan", "expected a number" },
  { "enabled", "maybe", "expected a boolean" },
  { "limit", "12 parsecs", "expected a size" },
  { "limit", "-5M", "expected a size" },
  { "window", "3 fortnights", "expected a duration" },
  { "mode", "delete", "expected one of drop, annotate" },
};

static void
test_bad_value (gconstpointer data)
{
  const BadValue *bv = data;
  g_autoptr(GalleyOptions) opts = galley_options_new (specs);
  g_autoptr(GError) error = NULL;
  g_assert_false (galley_options_set (opts, bv->key, bv->value, &error));
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  g_assert_true (g_str_has_prefix (error->message, bv->key));
  g_assert_nonnull (strstr (error->message, bv->expect));
}

static void
test_unknown_key_lists_allowed (void)
{
  g_autoptr(GalleyOptions) opts = galley_options_new (specs);
  g_autoptr(GError) error = NULL;
  g_assert_false (galley_options_set (opts, "cuont", "1", &error));
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_UNKNOWN_KEY);
  g_assert_nonnull (strstr (error->message, "name, count, ratio, enabled, items, limit, window, mode"));
}

static void
test_units (void)
{
  guint64 size = 0;
  GTimeSpan span = 0;
  g_assert_true (galley_parse_size ("512", &size, NULL));
  g_assert_cmpuint (size, ==, 512);
  g_assert_true (galley_parse_size ("64k", &size, NULL));
  g_assert_cmpuint (size, ==, 65536);
  g_assert_true (galley_parse_size ("1.5 GiB", &size, NULL));
  g_assert_cmpuint (size, ==, 3ull << 29);
  g_assert_true (galley_parse_duration ("90", &span, NULL));
  g_assert_cmpint (span, ==, 90 * G_TIME_SPAN_SECOND);
  g_assert_true (galley_parse_duration ("15m", &span, NULL));
  g_assert_cmpint (span, ==, 15 * G_TIME_SPAN_MINUTE);
  g_assert_true (galley_parse_duration ("1w", &span, NULL));
  g_assert_cmpint (span, ==, 7 * G_TIME_SPAN_DAY);
  g_assert_true (galley_parse_duration ("250ms", &span, NULL));
  g_assert_cmpint (span, ==, 250 * G_TIME_SPAN_MILLISECOND);
}

static void
test_wrong_getter_is_critical (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GalleyOptions) opts = galley_options_new (specs);
      galley_options_set (opts, "name", "x", NULL);
      galley_options_finalize (opts, NULL);
      galley_options_get_int (opts, "name");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*option 'name' is a string, not a int*");
}

/* Ranges (ABI 1.3): inclusive bounds written like values of the type. */
static const GalleyOptionSpec ranged[] = {
  { "count", GALLEY_OPT_INT, "5", "an int", NULL, .min = "1", .max = "10" },
  { "ratio", GALLEY_OPT_DOUBLE, "0.5", "a double", NULL, .min = "0", .max = "1" },
  { "limit", GALLEY_OPT_SIZE, "1k", "a size", NULL, .max = "1MiB" },
  { "wait", GALLEY_OPT_DURATION, "1s", "a duration", NULL, .min = "100ms" },
  { NULL }
};

typedef struct {
  const char *key;
  const char *value;
  const char *expect;   /* the whole message, or NULL when the value is taken */
} RangedValue;

static const RangedValue ranged_values[] = {
  { "count", "1", NULL },
  { "count", "10", NULL },
  { "count", "0", "count: at least 1, got 0" },
  { "count", " 11 ", "count: at most 10, got 11" },
  { "count", "-3", "count: at least 1, got -3" },
  { "ratio", "0", NULL },
  { "ratio", "1.0", NULL },
  { "ratio", "1.5", "ratio: at most 1, got 1.5" },
  { "ratio", "-0.01", "ratio: at least 0, got -0.01" },
  { "limit", "1MiB", NULL },
  { "limit", "1048577", "limit: at most 1MiB, got 1048577" },
  { "limit", "2G", "limit: at most 1MiB, got 2G" },
  { "wait", "0.1s", NULL },
  { "wait", "99ms", "wait: at least 100ms, got 99ms" },
  { "wait", "0", "wait: at least 100ms, got 0" },
  /* a value that does not parse says so, not that it is out of range */
  { "count", "many", "count: expected an integer, got 'many'" },
};

static void
test_ranged_value (gconstpointer data)
{
  const RangedValue *rv = data;
  g_autoptr(GalleyOptions) opts = galley_options_new (ranged);
  g_autoptr(GError) error = NULL;
  gboolean ok = galley_options_set (opts, rv->key, rv->value, &error);
  if (rv->expect == NULL)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      return;
    }
  g_assert_false (ok);
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  g_assert_cmpstr (error->message, ==, rv->expect);
}

static void
test_ranged_value_kept_on_error (void)
{
  /* a refused value leaves the earlier one */
  g_autoptr(GalleyOptions) opts = galley_options_new (ranged);
  g_assert_true (galley_options_set (opts, "count", "7", NULL));
  g_assert_false (galley_options_set (opts, "count", "70", NULL));
  g_assert_true (galley_options_finalize (opts, NULL));
  g_assert_cmpint (galley_options_get_int (opts, "count"), ==, 7);
}

typedef struct {
  const char             *name;
  const GalleyOptionSpec  spec[2];
  const char             *expect;
} BadTable;

static const BadTable bad_tables[] = {
  { "default-below-min", { { "count", GALLEY_OPT_INT, "0", "h", NULL, .min = "1" } },
    "option 'count' has an invalid default '0': at least 1, got 0" },
  { "default-above-max", { { "wait", GALLEY_OPT_DURATION, "2d", "h", NULL, .max = "1d" } },
    "option 'wait' has an invalid default '2d': at most 1d, got 2d" },
  { "min-does-not-parse", { { "limit", GALLEY_OPT_SIZE, "1k", "h", NULL, .min = "small" } },
    "option 'limit' has an invalid min 'small': expected a size" },
  { "max-does-not-parse", { { "count", GALLEY_OPT_INT, "1", "h", NULL, .max = "1e3" } },
    "option 'count' has an invalid max '1e3': expected an integer" },
  { "min-above-max", { { "ratio", GALLEY_OPT_DOUBLE, "0.5", "h", NULL, .min = "0.9", .max = "0.1" } },
    "option 'ratio' has a min '0.9' above its max '0.1'" },
  { "range-on-string", { { "name", GALLEY_OPT_STRING, "x", "h", NULL, .max = "z" } },
    "option 'name' has a min or max, but a string has no range" },
  { "required-with-bad-min", { { "count", GALLEY_OPT_INT, NULL, "h", NULL, .min = "one" } },
    "option 'count' has an invalid min 'one'" },
};

static void
test_bad_table (gconstpointer data)
{
  const BadTable *bt = data;
  g_autoptr(GError) error = NULL;
  g_assert_false (galley_option_specs_check_defaults (bt->spec, &error));
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  if (strstr (error->message, bt->expect) == NULL)
    g_test_fail_printf ("message «%s» lacks «%s»", error->message, bt->expect);
}

static void
test_good_table (void)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (galley_option_specs_check_defaults (ranged, &error));
  g_assert_no_error (error);
}

/* "did you mean": the nearest name by edit distance, a part of a longer
 * name, or nothing when no name is near. */
static void
test_suggest (void)
{
  const char *const keys[] = { "mode", "threshold", "state-dir", "stats", "metrics-file", "rejects", "paths", NULL };
  static const struct { const char *word, *want; } cases[] = {
    { "treshold", "threshold" },      /* a letter missing */
    { "thresold", "threshold" },
    { "threshhold", "threshold" },    /* one too many */
    { "rejcets", "rejects" },         /* two swapped */
    { "path", "paths" },
    { "Mode", "mode" },               /* case */
    { "state_dir", "state-dir" },
    { "stats-file", "stats" },        /* a longer spelling */
    { "metrics", "metrics-file" },    /* a shorter one */
    { "zzz", NULL },
    { "colour", NULL },
    { "mode", NULL },                 /* the word itself is no suggestion */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *got = galley_suggest (cases[i].word, keys);
      if (g_strcmp0 (got, cases[i].want) != 0)
        g_error ("%s: expected %s, got %s", cases[i].word, cases[i].want ? cases[i].want : "(none)",
                 got ? got : "(none)");
    }
  g_autofree char *hint = galley_suggest_hint ("treshold", keys);
  g_assert_cmpstr (hint, ==, "; did you mean 'threshold'?");
  g_autofree char *none = galley_suggest_hint ("zzz", keys);
  g_assert_cmpstr (none, ==, "");
  g_assert_null (galley_suggest ("x", NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/options/defaults", test_defaults_apply);
  g_test_add_func ("/options/required-missing", test_required_missing);
  g_test_add_func ("/options/unknown-key", test_unknown_key_lists_allowed);
  g_test_add_func ("/options/suggest", test_suggest);
  g_test_add_func ("/options/units", test_units);
  g_test_add_func ("/options/wrong-getter", test_wrong_getter_is_critical);
  for (guint i = 0; i < G_N_ELEMENTS (bad_values); i++)
    {
      g_autofree char *path = g_strdup_printf ("/options/bad-value/%s/%u", bad_values[i].key, i);
      g_test_add_data_func (path, &bad_values[i], test_bad_value);
    }
  for (guint i = 0; i < G_N_ELEMENTS (ranged_values); i++)
    {
      g_autofree char *path = g_strdup_printf ("/options/range/%s/%u", ranged_values[i].key, i);
      g_test_add_data_func (path, &ranged_values[i], test_ranged_value);
    }
  g_test_add_func ("/options/range/kept-on-error", test_ranged_value_kept_on_error);
  for (guint i = 0; i < G_N_ELEMENTS (bad_tables); i++)
    {
      g_autofree char *path = g_strdup_printf ("/options/range/bad-table/%s", bad_tables[i].name);
      g_test_add_data_func (path, &bad_tables[i], test_bad_table);
    }
  g_test_add_func ("/options/range/good-table", test_good_table);
  return g_test_run ();
}
