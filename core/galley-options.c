/* galley-options.c: typed option values parsed from pipeline files.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const GalleyOptionSpec *spec;
  gboolean                is_set;     /* given by the user */
  gboolean                has_value;
  char                   *string;     /* STRING, ENUM */
  char                  **strv;       /* STRV */
  gint64                  i;          /* INT, DURATION */
  guint64                 u;          /* SIZE */
  double                  d;          /* DOUBLE */
  gboolean                b;          /* BOOL */
} OptionValue;

struct _GalleyOptions {
  const GalleyOptionSpec *specs;
  guint                   n;
  OptionValue            *values;
};

static const char *const type_names[] = {
  [GALLEY_OPT_STRING] = "string", [GALLEY_OPT_INT] = "int", [GALLEY_OPT_DOUBLE] = "double",
  [GALLEY_OPT_BOOL] = "bool", [GALLEY_OPT_STRV] = "list", [GALLEY_OPT_SIZE] = "size",
  [GALLEY_OPT_DURATION] = "duration", [GALLEY_OPT_ENUM] = "enum",
};

const char *
galley_opt_type_to_string (GalleyOptType type)
{
  if ((guint) type < G_N_ELEMENTS (type_names))
    return type_names[type];
  return "unknown";
}

const GalleyOptionSpec *
galley_option_spec_find (const GalleyOptionSpec *specs, const char *name)
{
  for (const GalleyOptionSpec *s = specs; s != NULL && s->name != NULL; s++)
    if (g_str_equal (s->name, name))
      return s;
  return NULL;
}

char *
galley_option_specs_list_names (const GalleyOptionSpec *specs, const char *const *extra)
{
  GString *out = g_string_new (NULL);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_string_append_printf (out, "%s%s", out->len ? ", " : "", extra[i]);
  for (const GalleyOptionSpec *s = specs; s != NULL && s->name != NULL; s++)
    g_string_append_printf (out, "%s%s", out->len ? ", " : "", s->name);
  return g_string_free (out, FALSE);
}

char *
galley_option_specs_suggest (const GalleyOptionSpec *specs, const char *const *extra, const char *word)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (names, (gpointer) extra[i]);
  for (const GalleyOptionSpec *s = specs; s != NULL && s->name != NULL; s++)
    g_ptr_array_add (names, (gpointer) s->name);
  g_ptr_array_add (names, NULL);
  return galley_suggest_hint (word, (const char *const *) names->pdata);
}

GalleyOptions *
galley_options_new (const GalleyOptionSpec *specs)
{
  GalleyOptions *opts = g_new0 (GalleyOptions, 1);
  opts->specs = specs;
  for (const GalleyOptionSpec *s = specs; s != NULL && s->name != NULL; s++)
    opts->n++;
  opts->values = g_new0 (OptionValue, opts->n ? opts->n : 1);
  for (guint i = 0; i < opts->n; i++)
    opts->values[i].spec = &specs[i];
  return opts;
}

static void
option_value_clear (OptionValue *v)
{
  g_clear_pointer (&v->string, g_free);
  g_clear_pointer (&v->strv, g_strfreev);
  v->has_value = FALSE;
}

void
galley_options_free (GalleyOptions *opts)
{
  if (opts == NULL)
    return;
  for (guint i = 0; i < opts->n; i++)
    option_value_clear (&opts->values[i]);
  g_free (opts->values);
  g_free (opts);
}

gboolean
galley_parse_bool (const char *text, gboolean *out, GError **error)
{
  static const char *const yes[] = { "true", "yes", "on", "1", NULL };
  static const char *const no[] = { "false", "no", "off", "0", NULL };
  g_autofree char *copy = g_strstrip (g_strdup (text));
  g_autofree char *t = g_ascii_strdown (copy, -1);
  if (g_strv_contains (yes, t))
    return (*out = TRUE), TRUE;
  if (g_strv_contains (no, t))
    return (*out = FALSE), TRUE;
  g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
               "expected a boolean (true/false, yes/no, on/off, 1/0), got '%s'", text);
  return FALSE;
}

static gboolean
parse_int (const char *text, gint64 *out, GError **error)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  char *end = NULL;
  errno = 0;
  gint64 v = g_ascii_strtoll (t, &end, 10);
  if (*t == '\0' || *end != '\0' || errno == ERANGE)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "expected an integer, got '%s'", text);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
parse_double (const char *text, double *out, GError **error)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  char *end = NULL;
  errno = 0;
  double v = g_ascii_strtod (t, &end);
  if (*t == '\0' || *end != '\0' || errno == ERANGE || !isfinite (v))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "expected a number, got '%s'", text);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* Splits "12.5MiB" into a number and a lower-case unit. */
static gboolean
split_number_unit (const char *text, double *number, char **unit)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  char *end = NULL;
  if (!g_ascii_isdigit (*t) || strpbrk (t, "xX") != NULL)
    return FALSE;
  errno = 0;
  double v = g_ascii_strtod (t, &end);
  if (end == t || errno == ERANGE || !isfinite (v) || v < 0)
    return FALSE;
  while (*end == ' ')
    end++;
  *number = v;
  *unit = g_ascii_strdown (end, -1);
  return TRUE;
}

gboolean
galley_parse_size (const char *text, guint64 *out, GError **error)
{
  static const struct { const char *unit; guint64 mult; } units[] = {
    { "", 1 }, { "b", 1 },
    { "k", 1ULL << 10 }, { "kb", 1ULL << 10 }, { "kib", 1ULL << 10 },
    { "m", 1ULL << 20 }, { "mb", 1ULL << 20 }, { "mib", 1ULL << 20 },
    { "g", 1ULL << 30 }, { "gb", 1ULL << 30 }, { "gib", 1ULL << 30 },
    { "t", 1ULL << 40 }, { "tb", 1ULL << 40 }, { "tib", 1ULL << 40 },
  };
  double number;
  g_autofree char *unit = NULL;
  if (split_number_unit (text, &number, &unit))
    for (guint i = 0; i < G_N_ELEMENTS (units); i++)
      if (g_str_equal (unit, units[i].unit) && number * units[i].mult < 1.8e19)
        {
          *out = (guint64) (number * (double) units[i].mult + 0.5);
          return TRUE;
        }
  g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
               "expected a size such as 512, 64k, 16MiB or 2G, got '%s'", text);
  return FALSE;
}

gboolean
galley_parse_duration (const char *text, GTimeSpan *out, GError **error)
{
  static const struct { const char *unit; GTimeSpan mult; } units[] = {
    { "", G_TIME_SPAN_SECOND }, { "ms", G_TIME_SPAN_MILLISECOND },
    { "s", G_TIME_SPAN_SECOND }, { "sec", G_TIME_SPAN_SECOND },
    { "m", G_TIME_SPAN_MINUTE }, { "min", G_TIME_SPAN_MINUTE },
    { "h", G_TIME_SPAN_HOUR }, { "d", G_TIME_SPAN_DAY }, { "w", 7 * G_TIME_SPAN_DAY },
  };
  double number;
  g_autofree char *unit = NULL;
  if (split_number_unit (text, &number, &unit))
    for (guint i = 0; i < G_N_ELEMENTS (units); i++)
      if (g_str_equal (unit, units[i].unit) && number * units[i].mult < 9.2e18)
        {
          *out = (GTimeSpan) (number * (double) units[i].mult + 0.5);
          return TRUE;
        }
  g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
               "expected a duration such as 90s, 15m, 12h, 30d or 1w, got '%s'", text);
  return FALSE;
}

static char **
parse_strv (const char *text)
{
  g_auto(GStrv) parts = g_strsplit (text, ";", -1);
  GPtrArray *out = g_ptr_array_new ();
  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *item = g_strstrip (parts[i]);
      if (*item != '\0')
        g_ptr_array_add (out, g_strdup (item));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

static gboolean
parse_enum (const GalleyOptionSpec *spec, const char *text, char **out, GError **error)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  g_auto(GStrv) choices = g_strsplit (spec->choices ? spec->choices : "", "|", -1);
  if (g_strv_contains ((const char *const *) choices, t))
    {
      *out = g_steal_pointer (&t);
      return TRUE;
    }
  g_autofree char *allowed = g_strjoinv (", ", choices);
  g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
               "expected one of %s, got '%s'", allowed, text);
  return FALSE;
}

/* Parses @text as a value of @spec's type into @parsed; no range check. */
static gboolean
parse_typed (const GalleyOptionSpec *spec, const char *text, OptionValue *parsed, GError **error)
{
  gboolean ok = TRUE;
  switch (spec->type)
    {
    case GALLEY_OPT_STRING:
      parsed->string = g_strstrip (g_strdup (text));
      break;
    case GALLEY_OPT_INT:
      ok = parse_int (text, &parsed->i, error);
      break;
    case GALLEY_OPT_DOUBLE:
      ok = parse_double (text, &parsed->d, error);
      break;
    case GALLEY_OPT_BOOL:
      ok = galley_parse_bool (text, &parsed->b, error);
      break;
    case GALLEY_OPT_STRV:
      parsed->strv = parse_strv (text);
      break;
    case GALLEY_OPT_SIZE:
      ok = galley_parse_size (text, &parsed->u, error);
      break;
    case GALLEY_OPT_DURATION:
      ok = galley_parse_duration (text, &parsed->i, error);
      break;
    case GALLEY_OPT_ENUM:
      ok = parse_enum (spec, text, &parsed->string, error);
      break;
    default:
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_FAILED,
                   "option has unknown type %d", spec->type);
      ok = FALSE;
    }
  return ok;
}

/* TRUE for the types whose values have an order, so a range. */
static gboolean
type_has_range (GalleyOptType type)
{
  return type == GALLEY_OPT_INT || type == GALLEY_OPT_DOUBLE || type == GALLEY_OPT_SIZE
         || type == GALLEY_OPT_DURATION;
}

/* <0, 0 or >0 as @a is below, equal to or above @b (both of @type). */
static int
compare_values (GalleyOptType type, const OptionValue *a, const OptionValue *b)
{
  switch (type)
    {
    case GALLEY_OPT_INT:
    case GALLEY_OPT_DURATION:
      return (a->i > b->i) - (a->i < b->i);
    case GALLEY_OPT_SIZE:
      return (a->u > b->u) - (a->u < b->u);
    case GALLEY_OPT_DOUBLE:
      return (a->d > b->d) - (a->d < b->d);
    default:
      return 0;
    }
}

/* Checks @parsed, read from @text, against the spec's min and max. The
 * bounds were checked when the plugin was loaded. */
static gboolean
check_range (const GalleyOptionSpec *spec, const OptionValue *parsed, const char *text, GError **error)
{
  if (!type_has_range (spec->type))
    return TRUE;
  const char *bounds[] = { spec->min, spec->max };
  for (guint i = 0; i < G_N_ELEMENTS (bounds); i++)
    {
      OptionValue bound = { .spec = spec };
      if (bounds[i] == NULL || !parse_typed (spec, bounds[i], &bound, NULL))
        continue;
      int cmp = compare_values (spec->type, parsed, &bound);
      if (i == 0 ? cmp >= 0 : cmp <= 0)
        continue;
      g_autofree char *limit = g_strstrip (g_strdup (bounds[i]));
      g_autofree char *got = g_strstrip (g_strdup (text));
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "%s %s, got %s", i == 0 ? "at least" : "at most", limit, got);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_value (OptionValue *v, const char *text, GError **error)
{
  OptionValue parsed = { .spec = v->spec };
  if (!parse_typed (v->spec, text, &parsed, error) || !check_range (v->spec, &parsed, text, error))
    {
      option_value_clear (&parsed);
      return FALSE;
    }
  option_value_clear (v);
  parsed.is_set = v->is_set;
  parsed.has_value = TRUE;
  *v = parsed;
  return TRUE;
}

static OptionValue *
find_value (const GalleyOptions *opts, const char *name)
{
  for (guint i = 0; i < opts->n; i++)
    if (g_str_equal (opts->values[i].spec->name, name))
      return &opts->values[i];
  return NULL;
}

gboolean
galley_options_set (GalleyOptions *opts, const char *name, const char *value, GError **error)
{
  g_return_val_if_fail (opts != NULL && name != NULL && value != NULL, FALSE);
  OptionValue *v = find_value (opts, name);
  if (v == NULL)
    {
      g_autofree char *names = galley_option_specs_list_names (opts->specs, NULL);
      g_autofree char *hint = galley_option_specs_suggest (opts->specs, NULL, name);
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
                   "unknown key '%s' (allowed: %s)%s", name, names, hint);
      return FALSE;
    }
  if (!parse_value (v, value, error))
    {
      g_prefix_error (error, "%s: ", name);
      return FALSE;
    }
  v->is_set = TRUE;
  return TRUE;
}

/* The min and max of @s parse as values of its type, and min <= max. */
static gboolean
check_bounds (const GalleyOptionSpec *s, GError **error)
{
  if (s->min == NULL && s->max == NULL)
    return TRUE;
  if (!type_has_range (s->type))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "option '%s' has a min or max, but a %s has no range (only int, double, size and duration)",
                   s->name, galley_opt_type_to_string (s->type));
      return FALSE;
    }
  OptionValue min = { .spec = s }, max = { .spec = s };
  if (s->min != NULL && !parse_typed (s, s->min, &min, error))
    {
      g_prefix_error (error, "option '%s' has an invalid min '%s': ", s->name, s->min);
      return FALSE;
    }
  if (s->max != NULL && !parse_typed (s, s->max, &max, error))
    {
      g_prefix_error (error, "option '%s' has an invalid max '%s': ", s->name, s->max);
      return FALSE;
    }
  if (s->min != NULL && s->max != NULL && compare_values (s->type, &min, &max) > 0)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "option '%s' has a min '%s' above its max '%s'", s->name, s->min, s->max);
      return FALSE;
    }
  return TRUE;
}

gboolean
galley_option_specs_check_defaults (const GalleyOptionSpec *specs, GError **error)
{
  for (const GalleyOptionSpec *s = specs; s != NULL && s->name != NULL; s++)
    {
      if (!check_bounds (s, error))
        return FALSE;
      if (s->default_value == NULL)
        continue;
      OptionValue v = { .spec = s };
      if (!parse_value (&v, s->default_value, error))
        {
          g_prefix_error (error, "option '%s' has an invalid default '%s': ", s->name, s->default_value);
          return FALSE;
        }
      option_value_clear (&v);
    }
  return TRUE;
}

gboolean
galley_options_finalize (GalleyOptions *opts, GError **error)
{
  for (guint i = 0; i < opts->n; i++)
    {
      OptionValue *v = &opts->values[i];
      if (v->has_value)
        continue;
      if (v->spec->default_value == NULL)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_MISSING,
                       "%s: required option is missing (%s: %s)", v->spec->name,
                       galley_opt_type_to_string (v->spec->type), v->spec->help ? v->spec->help : "");
          return FALSE;
        }
      if (!parse_value (v, v->spec->default_value, error))
        {
          g_prefix_error (error, "%s: invalid default in the plugin's option table: ", v->spec->name);
          return FALSE;
        }
    }
  return TRUE;
}

static const OptionValue *
lookup (const GalleyOptions *opts, const char *name, GalleyOptType type)
{
  g_return_val_if_fail (opts != NULL && name != NULL, NULL);
  const OptionValue *v = find_value (opts, name);
  if (v == NULL)
    {
      g_critical ("option '%s' is not in the option table", name);
      return NULL;
    }
  if (v->spec->type != type)
    {
      g_critical ("option '%s' is a %s, not a %s", name,
                  galley_opt_type_to_string (v->spec->type), galley_opt_type_to_string (type));
      return NULL;
    }
  return v->has_value ? v : NULL;
}

const char *
galley_options_get_string (const GalleyOptions *opts, const char *name)
{
  const OptionValue *v = lookup (opts, name, GALLEY_OPT_STRING);
  return v ? v->string : NULL;
}

const char *
galley_options_get_enum (const GalleyOptions *opts, const char *name)
{
  const OptionValue *v = lookup (opts, name, GALLEY_OPT_ENUM);
  return v ? v->string : NULL;
}

gint64
galley_options_get_int (const GalleyOptions *opts, const char *name)
{
  const OptionValue *v = lookup (opts, name, GALLEY_OPT_INT);
  return v ? v->i : 0;
}

double
galley_options_get_double (const GalleyOptions *opts, const char *name)
{
  const OptionValue *v = lookup (opts, name, GALLEY_OPT_DOUBLE);
  return v ? v->d : 0.0;
}

gboolean
galley_options_get_bool (const GalleyOptions *opts, const char *name)
{
  const OptionValue *v = lookup (opts, name, GALLEY_OPT_BOOL);
  return v ? v->b : FALSE;
}

const char *const *
galley_options_get_strv (const GalleyOptions *opts, const char *name)
{
  static const char *const empty[] = { NULL };
  const OptionValue *v = lookup (opts, name, GALLEY_OPT_STRV);
  return v ? (const char *const *) v->strv : empty;
}

guint64
galley_options_get_size (const GalleyOptions *opts, const char *name)
{
  const OptionValue *v = lookup (opts, name, GALLEY_OPT_SIZE);
  return v ? v->u : 0;
}

GTimeSpan
galley_options_get_duration (const GalleyOptions *opts, const char *name)
{
  const OptionValue *v = lookup (opts, name, GALLEY_OPT_DURATION);
  return v ? v->i : 0;
}

gboolean
galley_options_is_set (const GalleyOptions *opts, const char *name)
{
  g_return_val_if_fail (opts != NULL && name != NULL, FALSE);
  const OptionValue *v = find_value (opts, name);
  return v != NULL && v->is_set;
}
