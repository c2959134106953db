/* galley-totals.c: counters summed over every run of a state directory
 * (STATE/totals.json), behind the galley_*_total metrics.
 *
 *   {"version":1,
 *    "runs":{"success":N,"failure":N},
 *    "documents":{"in":N,"out":N,"rejected":N},
 *    "stages":{"ID":{"in":N,"kept":N,"dropped":N,"failed":N,"reasons":{"REASON":N}}}}
 *
 * Every run adds one to runs; only a run whose outputs were committed
 * (exit 0) adds its documents, so a failed run, which the next one
 * repeats, is not counted twice. The file is replaced atomically after the
 * run's commit, under the state directory's lock; a file that cannot be
 * read starts the counters again from zero, which Prometheus takes for a
 * counter reset.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-runner-private.h"

#include <galley/galley-output.h>

#define TOTALS_FILE    "totals.json"
#define TOTALS_VERSION 1

/* @parent[@key], made an empty object if it is missing or not one
 * (borrowed). */
static json_object *
child (json_object *parent, const char *key)
{
  json_object *obj = NULL;
  if (!json_object_object_get_ex (parent, key, &obj) || !json_object_is_type (obj, json_type_object))
    {
      obj = json_object_new_object ();
      json_object_object_add (parent, key, obj);
    }
  return obj;
}

/* @obj[@key] += @n (a missing or bad member counts as 0). */
static void
add (json_object *obj, const char *key, gint64 n)
{
  json_object *v = NULL;
  gint64 old = json_object_object_get_ex (obj, key, &v) && json_object_is_type (v, json_type_int)
               ? json_object_get_int64 (v) : 0;
  json_object_object_add (obj, key, json_object_new_int64 (old + n));
}

static json_object *
load (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("%s: %s; the run counters start again from zero", path, error->message);
      return json_object_new_object ();
    }
  json_object *obj = json_tokener_parse (text);
  json_object *v = NULL;
  if (obj == NULL || !json_object_is_type (obj, json_type_object) || !json_object_object_get_ex (obj, "version", &v)
      || json_object_get_int (v) != TOTALS_VERSION)
    {
      g_warning ("%s: not a totals file of version %d; the run counters start again from zero", path,
                 TOTALS_VERSION);
      json_object_put (obj);
      return json_object_new_object ();
    }
  return obj;
}

json_object *
galley_runner_update_totals (Runner *r, int code)
{
  if (r->state == NULL)
    return NULL;
  g_autofree char *path = g_build_filename (galley_state_get_dir (r->state), TOTALS_FILE, NULL);
  json_object *totals = load (path);
  json_object_object_add (totals, "version", json_object_new_int (TOTALS_VERSION));
  add (child (totals, "runs"), code == GALLEY_EXIT_OK ? "success" : "failure", 1);
  add (child (totals, "runs"), code == GALLEY_EXIT_OK ? "failure" : "success", 0);
  json_object *docs = child (totals, "documents");
  /* make every member exist, also before the first success */
  add (docs, "in", code == GALLEY_EXIT_OK ? ATOMIC_GET (&r->docs_in) : 0);
  add (docs, "out", code == GALLEY_EXIT_OK ? ATOMIC_GET (&r->docs_out) : 0);
  add (docs, "rejected", code == GALLEY_EXIT_OK ? r->n_rejects : 0);
  json_object *stages = child (totals, "stages");
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      json_object *s = child (stages, ctx->config->id);
      gboolean counted = code == GALLEY_EXIT_OK;
      g_mutex_lock (&ctx->lock);
      add (s, "in", counted ? ctx->in : 0);
      add (s, "kept", counted ? ctx->kept : 0);
      add (s, "dropped", counted ? galley_runner_table_total (ctx->dropped) : 0);
      add (s, "failed", counted ? ctx->failed : 0);
      json_object *reasons = child (s, "reasons");
      if (counted && ctx->dropped != NULL)
        {
          GHashTableIter iter;
          gpointer key, value;
          g_hash_table_iter_init (&iter, ctx->dropped);
          while (g_hash_table_iter_next (&iter, &key, &value))
            add (reasons, key, *(gint64 *) value);
        }
      g_mutex_unlock (&ctx->lock);
    }
  const char *text = json_object_to_json_string_ext (totals, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
  g_autofree char *content = g_strconcat (text, "\n", NULL);
  g_autoptr(GError) error = NULL;
  if (!galley_output_set_contents (path, content, -1, GALLEY_OUTPUT_FLAGS_NONE, &error))
    g_warning ("run counters %s: %s", path, error->message);
  return totals;
}
