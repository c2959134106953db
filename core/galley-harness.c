/* galley-harness.c: one stage run in-process, outside any pipeline
 * (<galley/galley-harness.h>), through the same galley_runner_run_document()
 * as a run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-runner-private.h"

#include <string.h>

struct _GalleyHarness {
  GalleyPipeline     *pipeline;
  GalleyRunOptions    opts;
  Runner              runner;
  GalleyStageContext *ctx;
  const char         *drop_reason;
};

GalleyHarness *
galley_harness_new (const char *plugin_name, const char *const *options, GError **error)
{
  g_return_val_if_fail (plugin_name != NULL, NULL);
  const GalleyPlugin *plugin;
  if (strchr (plugin_name, '/') != NULL)
    {
      /* a module file: galley-NAME.so must declare NAME */
      g_autofree char *base = g_path_get_basename (plugin_name);
      g_autofree char *name = NULL;
      if (g_str_has_prefix (base, "galley-") && g_str_has_suffix (base, ".so"))
        name = g_strndup (base + 7, strlen (base) - 7 - 3);
      if (name == NULL || *name == '\0')
        {
          g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_NOT_FOUND,
                       "%s: a plugin module is named galley-NAME.so", plugin_name);
          return NULL;
        }
      plugin = galley_plugin_load_file (plugin_name, name, error);
      plugin_name = plugin ? plugin->name : plugin_name;
    }
  else
    plugin = galley_plugin_load (plugin_name, error);
  if (plugin == NULL)
    return NULL;
  g_autoptr(GalleyOptions) opts = galley_options_new (plugin->info->options);
  for (guint i = 0; options != NULL && options[i] != NULL; i++)
    {
      const char *eq = strchr (options[i], '=');
      if (eq == NULL)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_PARSE, "'%s' is not key=value", options[i]);
          return NULL;
        }
      g_autofree char *key = g_strndup (options[i], eq - options[i]);
      if (!galley_options_set (opts, key, eq + 1, error))
        return NULL;
    }
  if (!galley_options_finalize (opts, error))
    return NULL;

  GalleyHarness *h = g_new0 (GalleyHarness, 1);
  h->pipeline = g_new0 (GalleyPipeline, 1);
  h->pipeline->path = g_strdup ("(harness)");
  h->pipeline->name = g_strdup ("harness");
  h->pipeline->stages = g_ptr_array_new ();
  GalleyStageConfig *sc = g_new0 (GalleyStageConfig, 1);
  sc->id = g_strdup (plugin_name);
  sc->plugin = plugin;
  sc->options = g_steal_pointer (&opts);
  sc->on_error = GALLEY_ON_ERROR_SKIP;
  g_ptr_array_add (h->pipeline->stages, sc);
  h->opts.quiet = TRUE;
  h->runner.pipeline = h->pipeline;
  h->runner.opts = &h->opts;
  h->runner.n_threads = 1;
  h->runner.abort_pos = G_MAXUINT64;
  h->runner.stop = g_cancellable_new ();
  g_mutex_init (&h->runner.fail_lock);
  g_mutex_init (&h->runner.rejects_lock);
  h->ctx = g_new0 (GalleyStageContext, 1);
  h->ctx->runner = &h->runner;
  h->ctx->config = sc;
  h->ctx->info = plugin->info;
  g_mutex_init (&h->ctx->lock);
  h->ctx->state = plugin->info->init (h->ctx, sc->options, error);
  if (h->ctx->state == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, galley_runner_quark (), 0, "init() failed without an error");
      galley_harness_free (h);
      return NULL;
    }
  h->ctx->initialized = TRUE;
  return h;
}

GalleyVerdict
galley_harness_process (GalleyHarness *h, GalleyDocument *doc, GError **error)
{
  g_return_val_if_fail (h != NULL && doc != NULL, GALLEY_VERDICT_ERROR);
  g_return_val_if_fail (h->ctx->info->process != NULL, GALLEY_VERDICT_ERROR);
  const char *reason = NULL;
  galley_runner_current_stage = h->ctx;
  GalleyVerdict v = galley_runner_run_document (h->ctx, doc, STEP_BOTH, &reason, error);
  galley_runner_current_stage = NULL;
  h->drop_reason = v == GALLEY_VERDICT_DROP ? reason : NULL;
  return v;
}

gboolean
galley_harness_next (GalleyHarness *h, GalleyDocument **out, GError **error)
{
  g_return_val_if_fail (h != NULL && out != NULL, FALSE);
  g_return_val_if_fail (h->ctx->info->next != NULL, FALSE);
  *out = NULL;
  for (;;)
    {
      GalleyDocument *doc = NULL;
      if (!h->ctx->info->next (h->ctx->state, &doc, h->ctx, error))
        {
          g_clear_pointer (&doc, galley_document_free);
          return FALSE;
        }
      /* as in a run: a source may report progress without a document */
      if (doc != NULL)
        {
          *out = doc;
          return TRUE;
        }
    }
}

static gint64
harness_lookup (GalleyHarness *h, GHashTable *table, const char *name)
{
  g_mutex_lock (&h->ctx->lock);
  const gint64 *n = table != NULL ? g_hash_table_lookup (table, g_intern_string (name)) : NULL;
  gint64 value = n != NULL ? *n : 0;
  g_mutex_unlock (&h->ctx->lock);
  return value;
}

gint64
galley_harness_get_skipped (GalleyHarness *h, const char *reason)
{
  g_return_val_if_fail (h != NULL && reason != NULL, 0);
  return harness_lookup (h, h->ctx->dropped, reason);
}

gint64
galley_harness_get_counter (GalleyHarness *h, const char *name)
{
  g_return_val_if_fail (h != NULL && name != NULL, 0);
  return harness_lookup (h, h->ctx->counters, name);
}

gint64
galley_harness_get_rejected (GalleyHarness *h)
{
  g_return_val_if_fail (h != NULL, 0);
  g_mutex_lock (&h->ctx->lock);
  gint64 n = h->ctx->failed;
  g_mutex_unlock (&h->ctx->lock);
  return n;
}

const char *
galley_harness_get_drop_reason (GalleyHarness *h)
{
  g_return_val_if_fail (h != NULL, NULL);
  return h->drop_reason;
}

gboolean
galley_harness_finish (GalleyHarness *h, GError **error)
{
  g_return_val_if_fail (h != NULL, FALSE);
  if (h->ctx->info->finish == NULL)
    return TRUE;
  return h->ctx->info->finish (h->ctx->state, h->ctx, error);
}

void
galley_harness_free (GalleyHarness *h)
{
  if (h == NULL)
    return;
  if (h->ctx != NULL)
    {
      if (h->ctx->initialized && h->ctx->info->free != NULL)
        h->ctx->info->free (h->ctx->state);
      galley_runner_context_free (h->ctx);
    }
  GalleyStageConfig *sc = h->pipeline->stages->len ? g_ptr_array_index (h->pipeline->stages, 0) : NULL;
  if (sc != NULL)
    {
      g_free (sc->id);
      galley_options_free (sc->options);
      g_free (sc);
    }
  g_ptr_array_unref (h->pipeline->stages);
  h->pipeline->stages = NULL;
  galley_pipeline_free (h->pipeline);
  if (h->runner.rejects != NULL)
    fclose (h->runner.rejects);
  g_clear_object (&h->runner.stop);
  g_mutex_clear (&h->runner.fail_lock);
  g_mutex_clear (&h->runner.rejects_lock);
  g_free (h);
}
