/* galley-stats-file.c: a stats file read back and checked, for `galley
 * report` and the run history.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-report-html.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static void
count_clear (gpointer data)
{
  g_free (((GalleyStatsCount *) data)->name);
}

static void
stage_free (gpointer data)
{
  GalleyStatsStage *s = data;
  g_clear_pointer (&s->dropped, g_array_unref);
  g_clear_pointer (&s->counters, g_array_unref);
  g_free (s);
}

void
galley_stats_free (GalleyStats *stats)
{
  if (stats == NULL)
    return;
  g_clear_pointer (&stats->stages, g_ptr_array_unref);
  g_clear_pointer (&stats->root, json_object_put);
  g_free (stats->path);
  g_free (stats);
}

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError **error, const char *path, const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID, "%s: not a galley stats file: %s", path, msg);
  return FALSE;
}

/* @obj[@key] as a string; NULL when it is absent and not @required. */
static gboolean
get_string (json_object *obj, const char *where, const char *key, gboolean required, const char **out,
            const char *path, GError **error)
{
  json_object *v = NULL;
  *out = NULL;
  if (!json_object_object_get_ex (obj, key, &v) || v == NULL)
    return required ? fail (error, path, "%s%s: missing, expected a string", where, key) : TRUE;
  if (!json_object_is_type (v, json_type_string))
    return fail (error, path, "%s%s: expected a string", where, key);
  *out = json_object_get_string (v);
  return TRUE;
}

static gboolean
get_count (json_object *obj, const char *where, const char *key, gboolean required, gint64 *out, const char *path,
           GError **error)
{
  json_object *v = NULL;
  *out = 0;
  if (!json_object_object_get_ex (obj, key, &v) || v == NULL)
    return required ? fail (error, path, "%s%s: missing, expected an integer >= 0", where, key) : TRUE;
  if (!json_object_is_type (v, json_type_int))
    return fail (error, path, "%s%s: expected an integer >= 0", where, key);
  errno = 0;
  *out = json_object_get_int64 (v);
  if (*out < 0 || errno == ERANGE)
    return fail (error, path, "%s%s: expected an integer >= 0, got %s", where, key, json_object_to_json_string (v));
  return TRUE;
}

static gboolean
get_seconds (json_object *obj, const char *where, const char *key, double *out, const char *path, GError **error)
{
  json_object *v = NULL;
  *out = 0;
  if (!json_object_object_get_ex (obj, key, &v) || v == NULL)
    return TRUE;
  if (!json_object_is_type (v, json_type_double) && !json_object_is_type (v, json_type_int))
    return fail (error, path, "%s%s: expected a number of seconds", where, key);
  *out = json_object_get_double (v);
  if (!isfinite (*out) || *out < 0)
    return fail (error, path, "%s%s: expected a number of seconds >= 0", where, key);
  return TRUE;
}

static gint
compare_counts (gconstpointer a, gconstpointer b)
{
  return strcmp (((const GalleyStatsCount *) a)->name, ((const GalleyStatsCount *) b)->name);
}

static GArray *
get_counts (json_object *obj, const char *where, const char *key, gint64 *total, const char *path, GError **error)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (GalleyStatsCount));
  g_array_set_clear_func (a, count_clear);
  json_object *v = NULL;
  if (total != NULL)
    *total = 0;
  if (!json_object_object_get_ex (obj, key, &v) || v == NULL)
    return a;
  if (!json_object_is_type (v, json_type_object))
    {
      fail (error, path, "%s%s: expected an object of counts", where, key);
      g_array_unref (a);
      return NULL;
    }
  json_object_object_foreach (v, name, count)
    {
      (void) count;
      g_autofree char *w = g_strdup_printf ("%s%s.", where, key);
      gint64 n = 0;
      if (!get_count (v, w, name, TRUE, &n, path, error))
        {
          g_array_unref (a);
          return NULL;
        }
      GalleyStatsCount c = { g_strdup (name), n };
      g_array_append_val (a, c);
      if (total != NULL)
        *total = n > G_MAXINT64 - *total ? G_MAXINT64 : *total + n;
    }
  g_array_sort (a, compare_counts);
  return a;
}

/* The line of byte @offset in @text (1-based). */
static guint
line_of (const char *text, gsize len, gsize offset)
{
  guint line = 1;
  for (gsize i = 0; i < offset && i < len; i++)
    if (text[i] == '\n')
      line++;
  return line;
}

static gboolean
parse_stage (GalleyStats *stats, json_object *o, guint i, GError **error)
{
  g_autofree char *where = g_strdup_printf ("stages[%u].", i);
  const char *path = stats->path;
  if (!json_object_is_type (o, json_type_object))
    return fail (error, path, "stages[%u]: expected an object", i);
  GalleyStatsStage *s = g_new0 (GalleyStatsStage, 1);
  g_ptr_array_add (stats->stages, s);
  if (!get_string (o, where, "id", TRUE, &s->id, path, error)
      || !get_string (o, where, "plugin", FALSE, &s->plugin, path, error)
      || !get_string (o, where, "kind", FALSE, &s->kind, path, error)
      || !get_count (o, where, "in", TRUE, &s->in, path, error)
      || !get_count (o, where, "kept", TRUE, &s->kept, path, error)
      || !get_count (o, where, "failed", FALSE, &s->failed, path, error)
      || !get_seconds (o, where, "seconds", &s->seconds, path, error))
    return FALSE;
  if ((s->dropped = get_counts (o, where, "dropped", &s->dropped_total, path, error)) == NULL
      || (s->counters = get_counts (o, where, "counters", NULL, path, error)) == NULL)
    return FALSE;
  json_object *samples = NULL;
  if (json_object_object_get_ex (o, "samples", &samples) && samples != NULL)
    {
      if (!json_object_is_type (samples, json_type_array))
        return fail (error, path, "%ssamples: expected an array of traced documents", where);
      for (gsize j = 0; j < json_object_array_length (samples); j++)
        {
          json_object *step = json_object_array_get_idx (samples, j), *v = NULL;
          g_autofree char *w = g_strdup_printf ("%ssamples[%zu].", where, j);
          const char *str;
          if (!json_object_is_type (step, json_type_object))
            return fail (error, path, "%ssamples[%zu]: expected an object", where, j);
          if (!get_string (step, w, "id", TRUE, &str, path, error)
              || !get_string (step, w, "verdict", TRUE, &str, path, error)
              || !get_string (step, w, "before", TRUE, &str, path, error)
              || !get_string (step, w, "after", FALSE, &str, path, error)
              || !get_string (step, w, "reason", FALSE, &str, path, error))
            return FALSE;
          const char *arrays[] = { "annotations", "notes", "meta_removed" };
          for (guint k = 0; k < G_N_ELEMENTS (arrays); k++)
            if (json_object_object_get_ex (step, arrays[k], &v) && !json_object_is_type (v, json_type_array))
              return fail (error, path, "%s%s: expected an array", w, arrays[k]);
          const char *objects[] = { "meta", "fields", "repairs" };
          for (guint k = 0; k < G_N_ELEMENTS (objects); k++)
            if (json_object_object_get_ex (step, objects[k], &v) && !json_object_is_type (v, json_type_object))
              return fail (error, path, "%s%s: expected an object", w, objects[k]);
        }
      s->samples = samples;
    }
  return TRUE;
}

GalleyStats *
galley_stats_parse (const char *text, gsize len, const char *path, GError **error)
{
  g_return_val_if_fail (text != NULL && path != NULL, NULL);
  g_autoptr(GalleyStats) stats = g_new0 (GalleyStats, 1);
  stats->path = g_strdup (path);
  stats->stages = g_ptr_array_new_with_free_func (stage_free);
  if (len > G_MAXINT32)
    {
      fail (error, path, "larger than 2 GiB");
      return NULL;
    }
  if (!g_utf8_validate_len (text, len, NULL))
    {
      fail (error, path, "expected UTF-8 text");
      return NULL;
    }
  gsize first = 0;
  while (first < len && g_ascii_isspace (text[first]))
    first++;
  if (first == len)
    {
      fail (error, path, "empty, expected a JSON object");
      return NULL;
    }
  g_autoptr(json_tokener) tok = json_tokener_new_ex (64);
  stats->root = json_tokener_parse_ex (tok, text, (int) len);
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  if (jerr == json_tokener_continue)
    {
      g_clear_pointer (&stats->root, json_object_put);
      fail (error, path, "line %u: the JSON ends early", line_of (text, len, len));
      return NULL;
    }
  if (jerr != json_tokener_success)
    {
      fail (error, path, "line %u: expected JSON: %s", line_of (text, len, json_tokener_get_parse_end (tok)),
            json_tokener_error_desc (jerr));
      return NULL;
    }
  for (gsize i = json_tokener_get_parse_end (tok); i < len; i++)
    if (!g_ascii_isspace (text[i]))
      {
        fail (error, path, "line %u: expected the end of the file after the stats object", line_of (text, len, i));
        return NULL;
      }
  if (stats->root == NULL)
    {
      fail (error, path, "expected a JSON object at the top");
      return NULL;
    }
  return galley_stats_from_json (g_steal_pointer (&stats->root), path, error);
}

GalleyStats *
galley_stats_from_json (json_object *root, const char *path, GError **error)
{
  g_return_val_if_fail (root != NULL && path != NULL, NULL);
  g_autoptr(GalleyStats) stats = g_new0 (GalleyStats, 1);
  stats->path = g_strdup (path);
  stats->stages = g_ptr_array_new_with_free_func (stage_free);
  stats->root = root;
  if (!json_object_is_type (root, json_type_object))
    {
      fail (error, path, "expected a JSON object at the top");
      return NULL;
    }
  json_object *v = NULL;
  if (!get_string (root, "", "pipeline", TRUE, &stats->pipeline, path, error)
      || !get_string (root, "", "file", FALSE, &stats->file, path, error)
      || !get_string (root, "", "finished", FALSE, &stats->finished, path, error)
      || !get_string (root, "", "error", FALSE, &stats->error, path, error)
      || !get_count (root, "", "exit_code", FALSE, &stats->exit_code, path, error)
      || !get_count (root, "", "run_id", FALSE, &stats->run_id, path, error)
      || !get_count (root, "", "threads", FALSE, &stats->threads, path, error)
      || !get_count (root, "", "documents_in", TRUE, &stats->docs_in, path, error)
      || !get_count (root, "", "documents_out", TRUE, &stats->docs_out, path, error)
      || !get_count (root, "", "bytes_in", FALSE, &stats->bytes_in, path, error)
      || !get_count (root, "", "rejects", FALSE, &stats->rejects, path, error)
      || !get_seconds (root, "", "seconds", &stats->seconds, path, error))
    return NULL;
  if (json_object_object_get_ex (root, "dry_run", &v) && v != NULL)
    {
      if (!json_object_is_type (v, json_type_boolean))
        {
          fail (error, path, "dry_run: expected true or false");
          return NULL;
        }
      stats->dry_run = json_object_get_boolean (v);
    }
  if (!json_object_object_get_ex (root, "stages", &v) || v == NULL)
    {
      fail (error, path, "stages: missing, expected an array of stages");
      return NULL;
    }
  if (!json_object_is_type (v, json_type_array))
    {
      fail (error, path, "stages: expected an array of stages");
      return NULL;
    }
  for (gsize i = 0; i < json_object_array_length (v); i++)
    if (!parse_stage (stats, json_object_array_get_idx (v, i), (guint) i, error))
      return NULL;
  return g_steal_pointer (&stats);
}

GalleyStats *
galley_stats_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  return galley_stats_parse (text, len, path, error);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
galley_stats_load_history (const char *state_dir, guint max)
{
  GPtrArray *runs = g_ptr_array_new_with_free_func ((GDestroyNotify) galley_stats_free);
  if (state_dir == NULL)
    return runs;
  g_autofree char *dir = g_build_filename (state_dir, "runs", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return runs;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  while ((entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (entry, "run-") && g_str_has_suffix (entry, ".json"))
      g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_names);
  guint first = names->len > max ? names->len - max : 0;
  for (guint i = first; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      g_autoptr(GError) local = NULL;
      GalleyStats *s = galley_stats_load (path, &local);
      if (s == NULL)
        g_warning ("run history: %s", local->message);
      else
        g_ptr_array_add (runs, s);
    }
  return runs;
}
