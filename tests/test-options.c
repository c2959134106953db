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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/options/defaults", test_defaults_apply);
  g_test_add_func ("/options/required-missing", test_required_missing);
  g_test_add_func ("/options/unknown-key", test_unknown_key_lists_allowed);
  g_test_add_func ("/options/units", test_units);
  g_test_add_func ("/options/wrong-getter", test_wrong_getter_is_critical);
  for (guint i = 0; i < G_N_ELEMENTS (bad_values); i++)
    {
      g_autofree char *path = g_strdup_printf ("/options/bad-value/%s/%u", bad_values[i].key, i);
      g_test_add_data_func (path, &bad_values[i], test_bad_value);
    }
  return g_test_run ();
}
