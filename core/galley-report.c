/* galley-report.c: what a run tells: live progress and SIGUSR1
 * snapshots, the stats file, the Prometheus textfile, the history in the
 * state directory and the summary line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-progress.h"
#include "galley-runner-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- monitor: live progress and SIGUSR1 snapshots ---------------------------- */

static void
format_progress (Runner *r, GString *out)
{
  double secs = MAX ((g_get_monotonic_time () - r->start_us) / 1e6, 1e-6);
  gint64 docs = ATOMIC_GET (&r->docs_in);
  gint64 bytes = ATOMIC_GET (&r->bytes_in);
  g_string_append_printf (out, "%" G_GINT64_FORMAT " docs in, %" G_GINT64_FORMAT " out, %.0f docs/s, %.1f MB/s",
                          docs, ATOMIC_GET (&r->docs_out), docs / secs, bytes / secs / 1e6);
  /* percent and time left when every source told its input size */
  gint64 total = 0, done = 0;
  gboolean known = TRUE;
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      if (ctx->info->kind != GALLEY_KIND_SOURCE)
        continue;
      gint64 size = ATOMIC_GET (&ctx->input_size);
      if (size <= 0)
        {
          known = FALSE;
          break;
        }
      total += size;
      done += ATOMIC_GET (&ctx->input_read);
    }
  if (known && total > 0)
    galley_progress_format_eta (out, (guint64) done, (guint64) total, secs);
  g_string_append (out, " |");
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      g_mutex_lock (&ctx->lock);
      g_string_append_printf (out, " %s %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, ctx->config->id, ctx->kept, ctx->in);
      if (ctx->failed)
        g_string_append_printf (out, " (%" G_GINT64_FORMAT " failed)", ctx->failed);
      g_mutex_unlock (&ctx->lock);
    }
}

gpointer
galley_runner_monitor_thread (gpointer data)
{
  Runner *r = data;
  gint64 last_progress = 0;
  g_mutex_lock (&r->monitor_lock);
  while (!r->monitor_stop)
    {
      g_cond_wait_until (&r->monitor_cond, &r->monitor_lock, g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND);
      if (r->monitor_stop)
        break;
      /* wakes a source blocked on input (a pipe, a FIFO) */
      if (galley_runner_stop_signal () && !g_cancellable_is_cancelled (r->stop))
        g_cancellable_cancel (r->stop);
      gint64 now = g_get_monotonic_time ();
      if (galley_runner_take_snapshot_request ())
        {
          g_autoptr(GString) line = g_string_new ("galley: snapshot: ");
          format_progress (r, line);
          fprintf (stderr, "%s%s\n", r->opts->progress ? "\r\033[K" : "", line->str);
        }
      if (r->opts->progress && now - last_progress >= 500 * G_TIME_SPAN_MILLISECOND)
        {
          last_progress = now;
          g_autoptr(GString) line = g_string_new (NULL);
          format_progress (r, line);
          fprintf (stderr, "\r\033[K%s", line->str);
          fflush (stderr);
        }
    }
  if (r->opts->progress)
    fputs ("\r\033[K", stderr);
  g_mutex_unlock (&r->monitor_lock);
  return NULL;
}

/* ---- stats ----------------------------------------------------------------- */

static json_object *
table_to_json (GHashTable *table)
{
  json_object *o = json_object_new_object ();
  if (table == NULL)
    return o;
  g_autoptr(GList) keys = g_hash_table_get_keys (table);
  keys = g_list_sort (keys, (GCompareFunc) g_strcmp0);
  for (GList *l = keys; l != NULL; l = l->next)
    json_object_object_add (o, l->data, json_object_new_int64 (*(gint64 *) g_hash_table_lookup (table, l->data)));
  return o;
}

static gint64
peak_rss_kb (void)
{
  struct rusage ru;
  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return 0;
  return ru.ru_maxrss;
}

static json_object *
new_double (double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.6g", d);
  return json_object_new_double_s (d, buf);
}

json_object *
galley_runner_stats_to_json (Runner *r, double seconds, int exit_code, const GError *error)
{
  json_object *root = json_object_new_object ();
  g_autofree char *now = galley_runner_now_iso8601 ();
  gint64 docs_in = ATOMIC_GET (&r->docs_in);
  gint64 bytes_in = ATOMIC_GET (&r->bytes_in);
  json_object_object_add (root, "pipeline", json_object_new_string (r->pipeline->name));
  json_object_object_add (root, "file", json_object_new_string (r->pipeline->path));
  json_object_object_add (root, "finished", json_object_new_string (now));
  json_object_object_add (root, "exit_code", json_object_new_int (exit_code));
  if (error != NULL)
    json_object_object_add (root, "error", json_object_new_string (error->message));
  json_object_object_add (root, "dry_run", json_object_new_boolean (r->opts->dry_run));
  json_object_object_add (root, "run_id", json_object_new_int64 (r->run_id));
  if (r->state != NULL)
    json_object_object_add (root, "state_dir", json_object_new_string (galley_state_get_dir (r->state)));
  if (r->stopped_by)
    json_object_object_add (root, "stopped_by", json_object_new_string (r->stopped_by == SIGINT ? "SIGINT" : "SIGTERM"));
  else if (r->stopped_by_limit)
    json_object_object_add (root, "stopped_by", json_object_new_string ("limit"));
  json_object_object_add (root, "threads", json_object_new_int (r->n_threads));
  json_object_object_add (root, "seconds", new_double (seconds));
  json_object_object_add (root, "documents_in", json_object_new_int64 (docs_in));
  json_object_object_add (root, "documents_out", json_object_new_int64 (ATOMIC_GET (&r->docs_out)));
  json_object_object_add (root, "bytes_in", json_object_new_int64 (bytes_in));
  json_object_object_add (root, "rejects", json_object_new_int64 (r->n_rejects));
  json_object_object_add (root, "docs_per_second", new_double (docs_in / MAX (seconds, 1e-9)));
  json_object_object_add (root, "mb_per_second", new_double (bytes_in / 1e6 / MAX (seconds, 1e-9)));
  json_object_object_add (root, "peak_rss_kb", json_object_new_int64 (peak_rss_kb ()));
  json_object *stages = json_object_new_array ();
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      json_object *s = json_object_new_object ();
      json_object_object_add (s, "id", json_object_new_string (ctx->config->id));
      json_object_object_add (s, "plugin", json_object_new_string (ctx->info->name));
      json_object_object_add (s, "kind", json_object_new_string (galley_stage_kind_to_string (ctx->info->kind)));
      json_object_object_add (s, "in", json_object_new_int64 (ctx->in));
      json_object_object_add (s, "kept", json_object_new_int64 (ctx->kept));
      json_object_object_add (s, "dropped", table_to_json (ctx->dropped));
      json_object_object_add (s, "failed", json_object_new_int64 (ctx->failed));
      json_object_object_add (s, "seconds", new_double (ctx->busy_us / 1e6));
      if (ctx->counters != NULL)
        json_object_object_add (s, "counters", table_to_json (ctx->counters));
      json_object_array_add (stages, s);
    }
  json_object_object_add (root, "stages", stages);
  return root;
}

gboolean
galley_runner_write_stats (Runner *r, const char *path, json_object *stats, GError **error)
{
  const char *text = json_object_to_json_string_ext (stats, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
  g_autofree char *content = g_strconcat (text, "\n", NULL);
  if (!galley_output_set_contents (path, content, -1, GALLEY_OUTPUT_FLAGS_NONE, error))
    {
      g_prefix_error (error, "%s: stats file %s: ", r->pipeline->path, path);
      return FALSE;
    }
  return TRUE;
}

static void
prom_label (GString *out, const char *value)
{
  g_string_append_c (out, '"');
  for (const char *p = value; *p; p++)
    {
      if (*p == '\\' || *p == '"')
        g_string_append_c (out, '\\');
      if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static double
json_double (json_object *obj, const char *key)
{
  json_object *v = NULL;
  return json_object_object_get_ex (obj, key, &v) ? json_object_get_double (v) : 0;
}

/* The last galley_last_success_timestamp_seconds of an earlier metrics file. */
static double
previous_success (const char *path)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  const char *p = strstr (text, "\ngalley_last_success_timestamp_seconds");
  if (p == NULL || (p = strchr (p, '}')) == NULL)
    return 0;
  return g_ascii_strtod (p + 1, NULL);
}

/* The galley_*_total counters of @totals (galley_runner_update_totals()). */
static void
append_totals (GString *m, const char *pl, json_object *totals)
{
  json_object *runs = NULL, *docs = NULL, *stages = NULL;
  json_object_object_get_ex (totals, "runs", &runs);
  json_object_object_get_ex (totals, "documents", &docs);
  json_object_object_get_ex (totals, "stages", &stages);
  g_string_append (m, "# HELP galley_runs_total Runs with this state directory, by result.\n"
                      "# TYPE galley_runs_total counter\n");
  json_object_object_foreach (runs, result, n)
    g_string_append_printf (m, "galley_runs_total{%s,result=\"%s\"} %" G_GINT64_FORMAT "\n", pl, result,
                            json_object_get_int64 (n));
  g_string_append (m, "# HELP galley_documents_total Documents of the committed runs with this state directory.\n"
                      "# TYPE galley_documents_total counter\n");
  json_object_object_foreach (docs, state, count)
    g_string_append_printf (m, "galley_documents_total{%s,state=\"%s\"} %" G_GINT64_FORMAT "\n", pl, state,
                            json_object_get_int64 (count));
  g_autoptr(GString) reasons = g_string_new ("# HELP galley_stage_dropped_total Documents each stage dropped in the "
                                             "committed runs, by reason.\n# TYPE galley_stage_dropped_total counter\n");
  g_string_append (m, "# HELP galley_stage_documents_total Documents per stage in the committed runs with this "
                      "state directory.\n# TYPE galley_stage_documents_total counter\n");
  json_object_object_foreach (stages, id, s)
    {
      g_autoptr(GString) sl = g_string_new (pl);
      g_string_append (sl, ",stage=");
      prom_label (sl, id);
      json_object_object_foreach (s, key, value)
        {
          if (json_object_is_type (value, json_type_int))
            g_string_append_printf (m, "galley_stage_documents_total{%s,state=\"%s\"} %" G_GINT64_FORMAT "\n",
                                    sl->str, key, json_object_get_int64 (value));
          else if (g_str_equal (key, "reasons"))
            {
              json_object_object_foreach (value, reason, dropped)
                {
                  g_string_append_printf (reasons, "galley_stage_dropped_total{%s,reason=", sl->str);
                  prom_label (reasons, reason);
                  g_string_append_printf (reasons, "} %" G_GINT64_FORMAT "\n", json_object_get_int64 (dropped));
                }
            }
        }
    }
  g_string_append_len (m, reasons->str, reasons->len);
}

static void
write_metrics (Runner *r, json_object *stats, int code, json_object *totals)
{
  const char *path = r->pipeline->metrics_path;
  g_autoptr(GString) m = g_string_new (NULL);
  g_autoptr(GString) pl = g_string_new ("pipeline=");
  prom_label (pl, r->pipeline->name);
  double now = g_get_real_time () / 1e6;
  double last_ok = code == GALLEY_EXIT_OK ? now : previous_success (path);
  g_string_append_printf (m,
    "# HELP galley_run_success 1 when the last run succeeded, else 0.\n# TYPE galley_run_success gauge\n"
    "galley_run_success{%s} %d\n"
    "# HELP galley_run_exit_code Exit status of the last run.\n# TYPE galley_run_exit_code gauge\n"
    "galley_run_exit_code{%s} %d\n"
    "# HELP galley_run_timestamp_seconds When the last run ended.\n# TYPE galley_run_timestamp_seconds gauge\n"
    "galley_run_timestamp_seconds{%s} %.3f\n"
    "# HELP galley_last_success_timestamp_seconds When a run last succeeded (0: never).\n"
    "# TYPE galley_last_success_timestamp_seconds gauge\n"
    "galley_last_success_timestamp_seconds{%s} %.3f\n"
    "# HELP galley_run_duration_seconds Wall time of the last run.\n# TYPE galley_run_duration_seconds gauge\n"
    "galley_run_duration_seconds{%s} %.3f\n"
    "# HELP galley_run_documents Documents of the last run.\n# TYPE galley_run_documents gauge\n"
    "galley_run_documents{%s,state=\"in\"} %" G_GINT64_FORMAT "\n"
    "galley_run_documents{%s,state=\"out\"} %" G_GINT64_FORMAT "\n"
    "galley_run_documents{%s,state=\"rejected\"} %" G_GINT64_FORMAT "\n",
    pl->str, code == GALLEY_EXIT_OK, pl->str, code, pl->str, now, pl->str, last_ok, pl->str,
    json_double (stats, "seconds"), pl->str, ATOMIC_GET (&r->docs_in), pl->str, ATOMIC_GET (&r->docs_out),
    pl->str, r->n_rejects);
  g_string_append (m, "# HELP galley_stage_documents Documents per stage in the last run.\n"
                      "# TYPE galley_stage_documents gauge\n");
  g_autoptr(GString) rest = g_string_new ("# HELP galley_stage_seconds Time spent in the stage in the last run.\n"
                                           "# TYPE galley_stage_seconds gauge\n");
  g_autoptr(GString) counters = g_string_new ("# HELP galley_stage_counter Counters and drop reasons of stages.\n"
                                               "# TYPE galley_stage_counter gauge\n");
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      g_autoptr(GString) sl = g_string_new (pl->str);
      g_string_append (sl, ",stage=");
      prom_label (sl, ctx->config->id);
      g_mutex_lock (&ctx->lock);
      g_string_append_printf (m, "galley_stage_documents{%s,state=\"in\"} %" G_GINT64_FORMAT "\n"
                                 "galley_stage_documents{%s,state=\"kept\"} %" G_GINT64_FORMAT "\n"
                                 "galley_stage_documents{%s,state=\"dropped\"} %" G_GINT64_FORMAT "\n"
                                 "galley_stage_documents{%s,state=\"failed\"} %" G_GINT64_FORMAT "\n",
                              sl->str, ctx->in, sl->str, ctx->kept, sl->str, galley_runner_table_total (ctx->dropped),
                              sl->str, ctx->failed);
      g_string_append_printf (rest, "galley_stage_seconds{%s} %.3f\n", sl->str, ctx->busy_us / 1e6);
      GHashTable *tables[2] = { ctx->dropped, ctx->counters };
      for (guint t = 0; t < 2; t++)
        {
          if (tables[t] == NULL)
            continue;
          GHashTableIter iter;
          gpointer key, value;
          g_hash_table_iter_init (&iter, tables[t]);
          while (g_hash_table_iter_next (&iter, &key, &value))
            {
              g_string_append_printf (counters, "galley_stage_counter{%s,name=", sl->str);
              g_autofree char *name = g_strconcat (t == 0 ? "dropped-" : "", key, NULL);
              prom_label (counters, name);
              g_string_append_printf (counters, "} %" G_GINT64_FORMAT "\n", *(gint64 *) value);
            }
        }
      g_mutex_unlock (&ctx->lock);
    }
  g_string_append_len (m, rest->str, rest->len);
  g_string_append_len (m, counters->str, counters->len);
  if (totals != NULL)
    append_totals (m, pl->str, totals);
  g_autoptr(GError) local = NULL;
  if (!galley_output_set_contents (path, m->str, m->len, GALLEY_OUTPUT_FLAGS_NONE, &local))
    g_warning ("metrics file %s: %s", path, local->message);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* A copy of the stats of every run in STATE/runs (the newest 1000 kept),
 * and the metrics file. */
void
galley_runner_write_history_and_metrics (Runner *r, json_object *stats, int code)
{
  g_autoptr(json_object) totals = galley_runner_update_totals (r, code);
  if (r->pipeline->metrics_path != NULL)
    write_metrics (r, stats, code, totals);
  if (r->state == NULL)
    return;
  g_autofree char *dir = g_build_filename (galley_state_get_dir (r->state), "runs", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");
  g_autofree char *name = g_strdup_printf ("run-%08" G_GINT64_FORMAT "-%s-%d.json", r->run_id, stamp, (int) getpid ());
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) local = NULL;
  if (g_mkdir_with_parents (dir, 0755) != 0 || !galley_runner_write_stats (r, path, stats, &local))
    {
      g_warning ("run history %s: %s", path, local ? local->message : g_strerror (errno));
      return;
    }
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  while ((entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (entry, "run-") && g_str_has_suffix (entry, ".json"))
      g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i + 1000 < names->len; i++)
    {
      g_autofree char *old = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      g_unlink (old);
    }
}

void
galley_runner_print_summary (Runner *r, double seconds, gboolean verbose)
{
  gint64 docs_in = ATOMIC_GET (&r->docs_in);
  gint64 bytes_in = ATOMIC_GET (&r->bytes_in);
  gint64 dropped = 0, failed = 0;
  g_autoptr(GString) reasons = g_string_new (NULL);
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      dropped += galley_runner_table_total (ctx->dropped);
      failed += ctx->failed;
      if (ctx->dropped != NULL)
        {
          g_autoptr(GList) keys = g_hash_table_get_keys (ctx->dropped);
          keys = g_list_sort (keys, (GCompareFunc) g_strcmp0);
          for (GList *l = keys; l != NULL; l = l->next)
            g_string_append_printf (reasons, "%s%s:%s %" G_GINT64_FORMAT, reasons->len ? ", " : "",
                                    ctx->config->id, (char *) l->data,
                                    *(gint64 *) g_hash_table_lookup (ctx->dropped, l->data));
        }
    }
  fprintf (stderr, "galley: %s: %" G_GINT64_FORMAT " in, %" G_GINT64_FORMAT " out, %" G_GINT64_FORMAT
           " dropped%s%s%s, %" G_GINT64_FORMAT " failed; %.1f MB in %.2f s (%.1f MB/s, %.0f docs/s)%s\n",
           r->pipeline->name, docs_in, ATOMIC_GET (&r->docs_out), dropped,
           reasons->len ? " (" : "", reasons->str, reasons->len ? ")" : "", failed,
           bytes_in / 1e6, seconds, bytes_in / 1e6 / MAX (seconds, 1e-9), docs_in / MAX (seconds, 1e-9),
           r->opts->dry_run ? " [dry run: sinks skipped]" : "");
  if (verbose)
    for (guint i = 0; i < r->stages->len; i++)
      {
        GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
        fprintf (stderr, "galley:   %-16s %-14s in %-8" G_GINT64_FORMAT " kept %-8" G_GINT64_FORMAT
                 " dropped %-6" G_GINT64_FORMAT " failed %-6" G_GINT64_FORMAT " %.3f s\n",
                 ctx->config->id, ctx->info->name, ctx->in, ctx->kept, galley_runner_table_total (ctx->dropped),
                 ctx->failed, ctx->busy_us / 1e6);
      }
}
