/* galley-context.c: the context API plugins call (what the stage is,
 * counters, drops, skips and rejects, incremental state, shard mode), and
 * the rejects file.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-runner-private.h"
#include "galley-trace.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

_Thread_local const char *galley_runner_drop_reason;
_Thread_local GalleyStageContext *galley_runner_current_stage;

/* ---- context API for plugins ------------------------------------------- */

const char *
galley_stage_context_get_id (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->config->id;
}

const char *
galley_stage_context_get_plugin (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->info->name;
}

guint
galley_stage_context_get_threads (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, 1);
  return ctx->runner->n_threads;
}

gboolean
galley_stage_context_is_dry_run (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, TRUE);
  return ctx->runner->opts->dry_run || ctx->runner->opts->check_only;
}

void
galley_stage_context_set_input_size (GalleyStageContext *ctx, guint64 bytes)
{
  g_return_if_fail (ctx != NULL);
  __atomic_store_n (&ctx->input_size, (gint64) MIN (bytes, (guint64) G_MAXINT64), __ATOMIC_RELAXED);
}

void
galley_stage_context_add_input_read (GalleyStageContext *ctx, guint64 bytes)
{
  g_return_if_fail (ctx != NULL);
  ATOMIC_ADD (&ctx->input_read, (gint64) MIN (bytes, (guint64) G_MAXINT64));
}

char **
galley_stage_context_list_upstream (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  Runner *r = ctx->runner;
  if (r->stages == NULL || r->opts->work_dir != NULL)
    return NULL;
  GPtrArray *names = g_ptr_array_new ();
  for (guint i = 0; i < ctx->index && i < r->stages->len; i++)
    {
      GalleyStageContext *c = g_ptr_array_index (r->stages, i);
      const char *both[] = { c->config->id, c->info->name };
      for (guint k = 0; k < G_N_ELEMENTS (both); k++)
        {
          gboolean seen = FALSE;
          for (guint j = 0; j < names->len && !seen; j++)
            seen = g_str_equal (g_ptr_array_index (names, j), both[k]);
          if (!seen)
            g_ptr_array_add (names, g_strdup (both[k]));
        }
    }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

gboolean
galley_stage_is_cancelled (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, TRUE);
  return g_atomic_int_get (&ctx->runner->cancelled) != 0;
}

GCancellable *
galley_stage_context_get_cancellable (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->runner->stop;
}

gboolean
galley_stage_is_incremental (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  /* `galley check` opens no state, but init() should judge as in the run */
  if (ctx->runner->opts->check_only)
    return ctx->runner->pipeline->state_dir != NULL;
  return ctx->runner->state != NULL;
}

gboolean
galley_stage_input_lookup (GalleyStageContext *ctx, const char *key, GalleyInputState *out)
{
  g_return_val_if_fail (ctx != NULL && key != NULL, FALSE);
  if (ctx->runner->state == NULL)
    return FALSE;
  return galley_state_lookup_input (ctx->runner->state, ctx->config->id, key, out);
}

void
galley_stage_input_done (GalleyStageContext *ctx, const char *key, const GalleyInputState *state)
{
  g_return_if_fail (ctx != NULL && key != NULL && state != NULL);
  if (ctx->runner->state != NULL)
    galley_state_record_input (ctx->runner->state, ctx->config->id, key, state);
}

gboolean
galley_stage_commit_file (GalleyStageContext *ctx, const char *tmp_path, const char *path, GError **error)
{
  g_return_val_if_fail (ctx != NULL && tmp_path != NULL && path != NULL, FALSE);
  if (ctx->runner->opts->work_dir != NULL && ctx->info->kind == GALLEY_KIND_SINK)
    return galley_shard_commit_part (ctx->runner->opts->work_dir, ctx->config->id, ctx->runner->opts->shard_index,
                                     tmp_path, path, error);
  return galley_state_commit_file (ctx->runner->state, tmp_path, path, error);
}

gboolean
galley_stage_claim_file (GalleyStageContext *ctx, const char *path, GError **error)
{
  g_return_val_if_fail (ctx != NULL && path != NULL, FALSE);
  if (ctx->runner->state == NULL)
    return TRUE;
  return galley_state_claim_file (ctx->runner->state, path, error);
}

gint64
galley_stage_committed_length (GalleyStageContext *ctx, const char *path)
{
  g_return_val_if_fail (ctx != NULL && path != NULL, -1);
  if (ctx->runner->state == NULL)
    return -1;
  return galley_state_get_file_length (ctx->runner->state, path);
}

void
galley_stage_set_committed_length (GalleyStageContext *ctx, const char *path, gint64 length)
{
  g_return_if_fail (ctx != NULL && path != NULL);
  if (ctx->runner->state != NULL)
    galley_state_set_file_length (ctx->runner->state, path, length);
}

gboolean
galley_stage_context_get_shard (GalleyStageContext *ctx, guint *index, guint *count)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  const GalleyRunOptions *o = ctx->runner->opts;
  gboolean on = o->work_dir != NULL;
  if (index != NULL)
    *index = on ? o->shard_index : 0;
  if (count != NULL)
    *count = on ? o->shard_count : 1;
  return on;
}

const char *
galley_stage_context_get_shard_step (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->runner->opts->work_dir != NULL ? ctx->runner->opts->shard_step : NULL;
}

const char *
galley_stage_context_get_work_dir (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->runner->opts->work_dir;
}

void
galley_stage_shard_range (GalleyStageContext *ctx, gint64 total, gint64 *first, gint64 *end)
{
  g_return_if_fail (ctx != NULL && first != NULL && end != NULL);
  guint i = 0, n = 1;
  galley_stage_context_get_shard (ctx, &i, &n);
  /* 128-bit products: floor(I*T/N) without overflow */
  *first = (gint64) ((unsigned __int128) i * (guint64) total / n);
  *end = (gint64) ((unsigned __int128) (i + 1) * (guint64) total / n);
}

void
galley_stage_shard_add_output (GalleyStageContext *ctx, const char *relpath)
{
  g_return_if_fail (ctx != NULL && relpath != NULL);
  GPtrArray *outputs = ctx->runner->opts->shard_outputs;
  g_return_if_fail (outputs != NULL && !g_path_is_absolute (relpath));
  g_mutex_lock (&ctx->runner->fail_lock);
  g_ptr_array_add (outputs, g_strdup (relpath));
  g_mutex_unlock (&ctx->runner->fail_lock);
}

gint64
galley_stage_context_get_run_id (GalleyStageContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, 0);
  return ctx->runner->run_id;
}

static gboolean
is_kebab (const char *s)
{
  if (s == NULL || !g_ascii_isalnum (*s))
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-'))
      return FALSE;
  return TRUE;
}

void
galley_runner_count_in_table (GalleyStageContext *ctx, GHashTable **table, const char *name, gint64 n)
{
  g_mutex_lock (&ctx->lock);
  if (*table == NULL)
    *table = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  const char *key = g_intern_string (name);
  gint64 *count = g_hash_table_lookup (*table, key);
  if (count == NULL)
    {
      count = g_new0 (gint64, 1);
      g_hash_table_insert (*table, (gpointer) key, count);
    }
  *count += n;
  g_mutex_unlock (&ctx->lock);
}

gint64
galley_runner_table_total (GHashTable *table)
{
  gint64 sum = 0;
  if (table == NULL)
    return 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, table);
  while (g_hash_table_iter_next (&it, NULL, &value))
    sum += *(gint64 *) value;
  return sum;
}

GalleyVerdict
galley_stage_drop (GalleyStageContext *ctx, const char *reason)
{
  g_return_val_if_fail (ctx != NULL, GALLEY_VERDICT_DROP);
  g_return_val_if_fail (is_kebab (reason), GALLEY_VERDICT_DROP);
  galley_runner_drop_reason = g_intern_string (reason);
  return GALLEY_VERDICT_DROP;
}

void
galley_stage_count (GalleyStageContext *ctx, const char *name, gint64 n)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (is_kebab (name));
  galley_runner_count_in_table (ctx, &ctx->counters, name, n);
}

void
galley_stage_skip (GalleyStageContext *ctx, const char *source, const char *reason)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (is_kebab (reason));
  g_debug ("stage '%s': skipped %s: %s", ctx->config->id, source ? source : "(unknown)", reason);
  galley_runner_count_in_table (ctx, &ctx->dropped, reason, 1);
}

char *
galley_runner_now_iso8601 (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format_iso8601 (now);
}

/* Appends one record to the rejects file. @doc or @raw carries the input. */
void
galley_runner_write_reject (Runner *r, GalleyStageContext *ctx, const char *source, gint64 line, const char *doc_id,
              GalleyDocument *doc, const char *raw, gssize raw_len, const char *message)
{
  if (r->opts->check_only)
    return;
  g_autoptr(GString) out = g_string_new ("{\"time\":");
  g_autofree char *now = galley_runner_now_iso8601 ();
  galley_json_escape_append (out, now, strlen (now));
  g_string_append (out, ",\"pipeline\":");
  galley_json_escape_append (out, r->pipeline->name, strlen (r->pipeline->name));
  g_string_append (out, ",\"stage\":");
  galley_json_escape_append (out, ctx->config->id, strlen (ctx->config->id));
  g_string_append (out, ",\"plugin\":");
  galley_json_escape_append (out, ctx->info->name, strlen (ctx->info->name));
  if (source != NULL)
    {
      g_string_append (out, ",\"source\":");
      galley_json_escape_append (out, source, strlen (source));
    }
  if (line > 0)
    g_string_append_printf (out, ",\"line\":%" G_GINT64_FORMAT, line);
  if (doc_id != NULL)
    {
      g_string_append (out, ",\"id\":");
      galley_json_escape_append (out, doc_id, strlen (doc_id));
    }
  g_string_append (out, ",\"error\":");
  galley_json_escape_append (out, message, strlen (message));
  if (raw != NULL)
    {
      g_string_append (out, ",\"raw\":");
      galley_json_escape_append (out, raw, raw_len < 0 ? strlen (raw) : (gsize) raw_len);
    }
  if (doc != NULL)
    {
      g_string_append (out, ",\"document\":");
      galley_document_write_json (doc, out);
    }
  g_string_append (out, "}\n");

  g_mutex_lock (&r->rejects_lock);
  r->n_rejects++;
  if (r->rejects == NULL && !r->rejects_failed && r->rejects_path != NULL && *r->rejects_path != '\0')
    {
      r->rejects = fopen (r->rejects_path, "ae");
      if (r->rejects == NULL)
        {
          r->rejects_failed = TRUE;
          g_warning ("cannot open rejects file %s: %s; rejected input follows on stderr",
                     r->rejects_path, g_strerror (errno));
        }
    }
  if (r->rejects != NULL)
    {
      if (fwrite (out->str, 1, out->len, r->rejects) != out->len || fflush (r->rejects) != 0)
        g_warning ("writing rejects file %s failed: %s", r->rejects_path, g_strerror (errno));
    }
  else
    fputs (out->str, stderr);
  g_mutex_unlock (&r->rejects_lock);
}



gboolean
galley_stage_reject (GalleyStageContext *ctx, const char *source, gint64 line,
                     const char *raw, gssize raw_len, const GError *error)
{
  g_return_val_if_fail (ctx != NULL && error != NULL, FALSE);
  /* stages fail a document by returning GALLEY_VERDICT_ERROR instead */
  g_return_val_if_fail (ctx->info->kind == GALLEY_KIND_SOURCE, FALSE);
  Runner *r = ctx->runner;
  g_mutex_lock (&ctx->lock);
  ctx->failed++;
  g_mutex_unlock (&ctx->lock);
  galley_runner_write_reject (r, ctx, source, line, NULL, NULL, raw, raw_len, error->message);
  if (line > 0)
    g_warning ("stage '%s': %s:%" G_GINT64_FORMAT ": %s", ctx->config->id, source, line, error->message);
  else
    g_warning ("stage '%s': %s: %s", ctx->config->id, source ? source : "", error->message);
  if (ctx->config->on_error == GALLEY_ON_ERROR_SKIP)
    return TRUE;
  GError *fatal = g_error_copy (error);
  if (line > 0)
    g_prefix_error (&fatal, "stage '%s': %s:%" G_GINT64_FORMAT ": ", ctx->config->id, source, line);
  else
    g_prefix_error (&fatal, "stage '%s': %s: ", ctx->config->id, source ? source : "");
  galley_runner_set_abort (r, r->next_pos, fatal);
  return FALSE;
}

/* ---- notes for the run report and galley explain ------------------------ */

gboolean
galley_stage_is_tracing (GalleyStageContext *ctx, GalleyDocument *doc)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  if (doc == NULL)
    return ctx->runner != NULL && ctx->runner->trace != NULL;
  return galley_trace_step_wants (galley_trace_current, doc);
}

void
galley_stage_note (GalleyStageContext *ctx, GalleyDocument *doc, const char *kind, json_object *detail)
{
  g_return_if_fail (ctx != NULL && doc != NULL && kind != NULL && *kind != '\0');
  if (galley_trace_current == NULL || galley_trace_step_get_document (galley_trace_current) != doc)
    {
      json_object_put (detail);
      return;
    }
  galley_trace_step_note (galley_trace_current, kind, detail);
}
