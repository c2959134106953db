/* galley-runner.c: streams documents through the stages of a pipeline.
 *
 * Sources run on the calling thread and cut the stream into numbered
 * batches. The remaining stages are split into segments: a run of
 * thread-safe stages is one parallel segment served by a pool of workers,
 * every other stage is a serial segment with a thread of its own. Segments
 * are connected by queues; a parallel segment puts batches back in order
 * before handing them on, so every serial stage and every sink sees the
 * documents in input order. At most max_in_flight batches exist at once,
 * which bounds memory whatever the size of the corpus.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-runner-private.h"
#include "galley-trace.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

GQuark
galley_runner_quark (void)
{
  return g_quark_from_static_string ("galley-runner");
}


/* prepare() exists since ABI 1.1; older plugins never set the slot, but
 * only a plugin that says it knows the member is asked for it. */
GalleyVerdict (*galley_runner_stage_prepare (const GalleyStageInfo *info)) (gpointer, GalleyDocument *, GalleyStageContext *, GError **)
{
  return info->abi_minor >= 1 ? info->prepare : NULL;
}


/* Stops the run after position @pos: every document before it is finished,
 * none after it reaches a later stage. The earliest failure wins. */
void
galley_runner_set_abort (Runner *r, guint64 pos, GError *error)
{
  g_mutex_lock (&r->fail_lock);
  if (pos < r->abort_pos || r->fatal == NULL)
    {
      r->abort_pos = MIN (pos, r->abort_pos);
      g_clear_error (&r->fatal);
      r->fatal = error;
      error = NULL;
    }
  g_mutex_unlock (&r->fail_lock);
  g_clear_error (&error);
  g_atomic_int_set (&r->cancelled, 1);
  g_cancellable_cancel (r->stop);
}


/* A failure after the documents went through (finish, the dropped file's
 * commit): warns, keeps the first such error as the run's, and marks the
 * run cancelled so that free() callbacks see it failed. */
static void
fail_after_documents (Runner *r, GError *error)
{
  g_warning ("%s", error->message);
  g_mutex_lock (&r->fail_lock);
  if (r->fatal == NULL)
    r->fatal = g_steal_pointer (&error);
  g_mutex_unlock (&r->fail_lock);
  g_clear_error (&error);
  g_atomic_int_set (&r->cancelled, 1);
}

guint64
galley_runner_get_abort_pos (Runner *r)
{
  g_mutex_lock (&r->fail_lock);
  guint64 pos = r->abort_pos;
  g_mutex_unlock (&r->fail_lock);
  return pos;
}


/* ---- batches and segments ------------------------------------------------ */

static Batch *
batch_new (guint64 seq)
{
  Batch *b = g_new (Batch, 1);
  b->seq = seq;
  b->n = 0;
  return b;
}

static void
batch_free (Batch *b)
{
  for (guint i = 0; i < b->n; i++)
    galley_document_free (b->docs[i]);
  g_free (b);
}

static void
flow_release (Runner *r)
{
  g_mutex_lock (&r->flow_lock);
  r->in_flight--;
  g_cond_signal (&r->flow_cond);
  g_mutex_unlock (&r->flow_lock);
}

static void
batch_free_list (Batch *b)
{
  while (b != NULL)
    {
      Batch *next = b->retired_next;
      batch_free (b);
      b = next;
    }
}

/* Waits for room for one more batch. Batches retired since the last call
 * are freed here, on the thread that made their documents: glibc's malloc
 * serves a thread from its own arena, and frees coming from another
 * thread take that arena's lock, which the sources would then contend
 * for on every allocation (a record with nested JSON makes hundreds). */
static void
flow_acquire (Runner *r)
{
  g_mutex_lock (&r->flow_lock);
  while (r->in_flight >= r->max_in_flight)
    g_cond_wait (&r->flow_cond, &r->flow_lock);
  r->in_flight++;
  Batch *retired = g_steal_pointer (&r->retired);
  g_mutex_unlock (&r->flow_lock);
  batch_free_list (retired);
}

/* Ends a batch's life: it no longer counts against max_in_flight and waits
 * on the retired list for flow_acquire() (or the end of the run). */
static void
retire (Runner *r, Batch *b)
{
  g_mutex_lock (&r->flow_lock);
  b->retired_next = r->retired;
  r->retired = b;
  r->in_flight--;
  g_cond_signal (&r->flow_cond);
  g_mutex_unlock (&r->flow_lock);
}

/* Hands a finished batch to the next segment, or retires it. */
static void
forward (Runner *r, Segment *seg, Batch *b)
{
  if (seg != NULL && seg->next != NULL)
    {
      g_async_queue_push (seg->next->in, b);
      return;
    }
  if (b == &r->end_marker)
    return;
  galley_runner_dropped_write_batch (r, b);
  gint64 out = 0;
  for (guint i = 0; i < b->n; i++)
    if (b->status[i] == DOC_ALIVE)
      {
        out++;
        galley_fault_point ("document");
      }
  ATOMIC_ADD (&r->docs_out, out);
  retire (r, b);
}




/* Runs @step of the stage on one document: the one place where a
 * stage's prepare() and process() are called, for a run and for the test
 * harness. With GALLEY_VERDICT_DROP, *drop_reason says why. */
GalleyVerdict
galley_runner_run_document (GalleyStageContext *ctx, GalleyDocument *doc, Step step, const char **drop_reason,
                            GError **error)
{
  const GalleyStageInfo *info = ctx->info;
  galley_runner_drop_reason = NULL;
  GalleyVerdict verdict = GALLEY_VERDICT_KEEP;
  if (step != STEP_PROCESS && galley_runner_stage_prepare (info) != NULL)
    verdict = info->prepare (ctx->state, doc, ctx, error);
  if (verdict == GALLEY_VERDICT_KEEP && step != STEP_PREPARE)
    verdict = info->process (ctx->state, doc, ctx, error);
  if (verdict == GALLEY_VERDICT_DROP)
    *drop_reason = galley_runner_drop_reason ? galley_runner_drop_reason : "unspecified";
  else if (verdict != GALLEY_VERDICT_KEEP && error != NULL && *error == NULL)
    g_set_error (error, galley_runner_quark (), 0, "%s() failed without setting an error (a bug in plugin %s)",
                 step == STEP_PREPARE ? "prepare" : "process", info->name);
  return verdict;
}

/* Runs one stage over the live documents of a batch. */
static void
run_stage (Runner *r, GalleyStageContext *ctx, Batch *b, Step step)
{
  const GalleyStageInfo *info = ctx->info;
  guint64 abort_pos = galley_runner_get_abort_pos (r);
  gint64 in = 0, kept = 0, failed = 0;
  gint64 t0 = g_get_monotonic_time ();

  if (galley_runner_stage_prepare (info) == NULL)
    {
      if (step == STEP_PREPARE)
        return;
      step = STEP_PROCESS;
    }
  galley_runner_current_stage = ctx;
  for (guint i = 0; i < b->n; i++)
    {
      if (b->status[i] != DOC_ALIVE)
        continue;
      guint64 pos = b->seq * MAX_BATCH + i;
      if (pos > abort_pos || (abort_pos != G_MAXUINT64 && (abort_pos = galley_runner_get_abort_pos (r)) < pos))
        {
          b->status[i] = DOC_ABORTED;
          continue;
        }
      GalleyDocument *doc = b->docs[i];
      g_autoptr(GError) error = NULL;
      const char *reason = NULL;
      GalleyTraceStep *traced = step != STEP_PREPARE ? galley_trace_begin (r->trace, ctx->index, ctx, doc) : NULL;
      GalleyVerdict verdict = galley_runner_run_document (ctx, doc, step, &reason, &error);
      galley_trace_end (r->trace, traced, doc, verdict, reason, error);
      if (verdict == GALLEY_VERDICT_KEEP && step == STEP_PREPARE)
        continue;   /* counted when process() sees it */
      in++;
      switch (verdict)
        {
        case GALLEY_VERDICT_KEEP:
          kept++;
          break;
        case GALLEY_VERDICT_DROP:
          b->status[i] = DOC_DROPPED;
          b->dropped_by[i] = ctx->index;
          b->drop_reason[i] = reason;
          galley_runner_count_in_table (ctx, &ctx->dropped, reason, 1);
          break;
        case GALLEY_VERDICT_ERROR:
        default:
          failed++;
          b->status[i] = DOC_FAILED;
          const char *source = galley_document_get_source (doc);
          g_warning ("stage '%s': document '%s'%s%s%s: %s", ctx->config->id, galley_document_get_id (doc),
                     source ? " (" : "", source ? source : "", source ? ")" : "", error->message);
          galley_runner_write_reject (r, ctx, source, 0, galley_document_get_id (doc), doc, NULL, 0, error->message);
          if (ctx->config->on_error == GALLEY_ON_ERROR_FAIL)
            {
              GError *fatal = g_error_copy (error);
              g_prefix_error (&fatal, "stage '%s': document '%s': ", ctx->config->id, galley_document_get_id (doc));
              galley_runner_set_abort (r, pos, fatal);
              abort_pos = pos;
            }
          break;
        }
    }
  galley_runner_current_stage = NULL;

  gint64 t1 = g_get_monotonic_time ();
  g_mutex_lock (&ctx->lock);
  ctx->in += in;
  ctx->kept += kept;
  ctx->failed += failed;
  ctx->busy_us += t1 - t0;
  g_mutex_unlock (&ctx->lock);
}

static void
process_batch (Segment *seg, Batch *b)
{
  Runner *r = seg->runner;
  for (guint s = seg->first; s < seg->last; s++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, s);
      run_stage (r, ctx, b, ctx->prepared_ahead ? STEP_PROCESS : STEP_BOTH);
    }
  if (seg->prepare >= 0)
    run_stage (r, g_ptr_array_index (r->stages, seg->prepare), b, STEP_PREPARE);
}

static gpointer
serial_worker (gpointer data)
{
  Segment *seg = data;
  Runner *r = seg->runner;
  for (;;)
    {
      Batch *b = g_async_queue_pop (seg->in);
      if (b == &r->end_marker)
        {
          forward (r, seg, b);
          return NULL;
        }
      process_batch (seg, b);
      forward (r, seg, b);
    }
}

static gpointer
parallel_worker (gpointer data)
{
  Segment *seg = data;
  Runner *r = seg->runner;
  for (;;)
    {
      Batch *b = g_async_queue_pop (seg->in);
      if (b == &r->end_marker)
        {
          /* Let the other workers see the end too; the last one passes it on. */
          g_async_queue_push (seg->in, b);
          if (g_atomic_int_dec_and_test (&seg->active))
            forward (r, seg, b);
          return NULL;
        }
      process_batch (seg, b);
      g_mutex_lock (&seg->reorder_lock);
      g_hash_table_insert (seg->pending, &b->seq, b);
      Batch *ready;
      while ((ready = g_hash_table_lookup (seg->pending, &seg->next_seq)) != NULL)
        {
          g_hash_table_remove (seg->pending, &seg->next_seq);
          seg->next_seq++;
          forward (r, seg, ready);
        }
      g_mutex_unlock (&seg->reorder_lock);
    }
}

static void
segment_free (gpointer data)
{
  Segment *seg = data;
  g_clear_pointer (&seg->in, g_async_queue_unref);
  g_clear_pointer (&seg->threads, g_ptr_array_unref);
  g_clear_pointer (&seg->pending, g_hash_table_unref);
  g_mutex_clear (&seg->reorder_lock);
  g_free (seg);
}

static Segment *
segment_new (Runner *r, Segment *prev, guint first, guint last, gboolean parallel)
{
  Segment *seg = g_new0 (Segment, 1);
  seg->runner = r;
  seg->first = first;
  seg->last = last;
  seg->parallel = parallel;
  seg->prepare = -1;
  seg->in = g_async_queue_new ();
  g_mutex_init (&seg->reorder_lock);
  seg->pending = g_hash_table_new (g_int64_hash, g_int64_equal);
  if (prev != NULL)
    prev->next = seg;
  g_ptr_array_add (r->segments, seg);
  return seg;
}

static void
build_segments (Runner *r)
{
  r->segments = g_ptr_array_new_with_free_func (segment_free);
  Segment *prev = NULL;
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      if (ctx->info->kind == GALLEY_KIND_SOURCE)
        continue;
      if (r->opts->dry_run && ctx->info->kind == GALLEY_KIND_SINK)
        continue;
      gboolean parallel = (ctx->info->flags & GALLEY_STAGE_THREAD_SAFE) && ctx->info->kind == GALLEY_KIND_STAGE
                          && r->n_threads > 1;
      if (prev != NULL && parallel && prev->parallel && prev->last == i && prev->prepare < 0)
        {
          prev->last = i + 1;
          continue;
        }
      /* A serial stage's prepare() runs on the workers of the parallel
       * segment before it, or of one made for it. */
      if (!parallel && galley_runner_stage_prepare (ctx->info) != NULL && r->n_threads > 1)
        {
          if (prev == NULL || !prev->parallel || prev->last != i || prev->prepare >= 0)
            prev = segment_new (r, prev, i, i, TRUE);
          prev->prepare = i;
          ctx->prepared_ahead = TRUE;
        }
      prev = segment_new (r, prev, i, i + 1, parallel);
    }
}

static void
start_segments (Runner *r)
{
  for (guint i = 0; i < r->segments->len; i++)
    {
      Segment *seg = g_ptr_array_index (r->segments, i);
      guint n = seg->parallel ? r->n_threads : 1;
      seg->threads = g_ptr_array_new ();
      seg->active = n;
      for (guint t = 0; t < n; t++)
        {
          g_autofree char *name = g_strdup_printf ("galley-seg%u-%u", i, t);
          g_ptr_array_add (seg->threads, g_thread_new (name, seg->parallel ? parallel_worker : serial_worker, seg));
        }
    }
}

static void
join_segments (Runner *r)
{
  for (guint i = 0; i < r->segments->len; i++)
    {
      Segment *seg = g_ptr_array_index (r->segments, i);
      for (guint t = 0; t < seg->threads->len; t++)
        g_thread_join (g_ptr_array_index (seg->threads, t));
      /* drain the end markers left for sibling workers */
      while (g_async_queue_try_pop (seg->in) != NULL)
        ;
    }
}

/* ---- sources --------------------------------------------------------------- */

static void
push_batch (Runner *r, Batch *b)
{
  if (r->segments->len > 0)
    {
      Segment *first = g_ptr_array_index (r->segments, 0);
      g_async_queue_push (first->in, b);
    }
  else
    forward (r, NULL, b);
}

static void
run_sources (Runner *r)
{
  guint64 seq = 0;
  guint batch_size = MIN (r->pipeline->batch_size, MAX_BATCH);
  Batch *b = NULL;

  for (guint s = 0; s < r->stages->len; s++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, s);
      if (ctx->info->kind != GALLEY_KIND_SOURCE || r->stopped_by || r->stopped_by_limit)
        break;
      for (;;)
        {
          if (g_atomic_int_get (&r->cancelled))
            break;
          /* --limit: stop before asking for one more, as a signal does */
          if (r->opts->limit > 0 && ATOMIC_GET (&r->docs_in) >= r->opts->limit)
            {
              r->stopped_by_limit = TRUE;
              break;
            }
          if (galley_runner_stop_signal ())
            {
              r->stopped_by = galley_runner_stop_signal ();
              break;
            }
          if (b == NULL)
            {
              flow_acquire (r);
              b = batch_new (seq++);
              r->next_pos = b->seq * MAX_BATCH;
              if (g_atomic_int_get (&r->cancelled))
                break;   /* a failure while we waited for room */
            }
          GalleyDocument *doc = NULL;
          g_autoptr(GError) error = NULL;
          gint64 t0 = g_get_monotonic_time ();
          galley_runner_current_stage = ctx;
          gboolean more = ctx->info->next (ctx->state, &doc, ctx, &error);
          galley_runner_current_stage = NULL;
          gint64 t1 = g_get_monotonic_time ();
          g_mutex_lock (&ctx->lock);
          ctx->busy_us += t1 - t0;
          if (more && doc != NULL)
            ctx->in++, ctx->kept++;
          g_mutex_unlock (&ctx->lock);
          if (!more)
            {
              g_clear_pointer (&doc, galley_document_free);
              /* a source woken by the stop (its read cancelled) ends
               * cleanly: the stop is not a failure */
              if (galley_runner_stop_signal () && (error == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
                {
                  g_clear_error (&error);
                  r->stopped_by = galley_runner_stop_signal ();
                }
              if (error != NULL)
                {
                  g_prefix_error (&error, "stage '%s': ", ctx->config->id);
                  galley_runner_set_abort (r, r->next_pos, g_steal_pointer (&error));
                }
              break;
            }
          if (doc == NULL)
            continue;
          ATOMIC_ADD (&r->docs_in, 1);
          ATOMIC_ADD (&r->bytes_in, (gint64) galley_document_get_size (doc));
          b->docs[b->n] = doc;
          b->status[b->n] = DOC_ALIVE;
          b->n++;
          r->next_pos = b->seq * MAX_BATCH + b->n;
          if (b->n >= batch_size)
            {
              push_batch (r, b);
              b = NULL;
            }
        }
    }
  if (b != NULL)
    {
      if (b->n > 0)
        push_batch (r, b);
      else
        {
          batch_free (b);
          flow_release (r);
        }
    }
  push_batch (r, &r->end_marker);
}

/* ---- the run --------------------------------------------------------------- */

void
galley_runner_context_free (gpointer data)
{
  GalleyStageContext *ctx = data;
  g_clear_pointer (&ctx->dropped, g_hash_table_unref);
  g_clear_pointer (&ctx->counters, g_hash_table_unref);
  g_free (ctx->crash_message);
  g_mutex_clear (&ctx->lock);
  g_free (ctx);
}

static void
free_states (Runner *r)
{
  for (guint i = r->stages->len; i > 0; i--)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i - 1);
      if (ctx->initialized && ctx->info->free != NULL)
        {
          galley_runner_current_stage = ctx;
          ctx->info->free (ctx->state);
          galley_runner_current_stage = NULL;
        }
      ctx->initialized = FALSE;
      ctx->state = NULL;
    }
}

/* TRUE if @path is a file directly in the state directory, which the run
 * creates when it opens the state (not under --dry-run). */
static gboolean
in_state_dir (Runner *r, const char *path)
{
  if (r->pipeline->state_dir == NULL || r->opts->dry_run || r->opts->work_dir != NULL)
    return FALSE;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *a = g_canonicalize_filename (dir, NULL);
  g_autofree char *b = g_canonicalize_filename (r->pipeline->state_dir, NULL);
  return g_str_equal (a, b);
}

/* Every file the run writes itself (stats, rejects, metrics) can be
 * written: checked at `galley check` and before a run reads anything, so
 * that a run does not fail at its end, after its outputs were committed. */
static gboolean
check_outputs (Runner *r, const char *stats_path, GError **error)
{
  const struct {
    const char *option;
    const char *path;
  } outputs[] = {
    { "stats", stats_path },
    { "rejects", r->rejects_path },
    { "metrics-file", r->pipeline->metrics_path },
    { "report", r->pipeline->report_path },
  };
  for (guint i = 0; i < G_N_ELEMENTS (outputs); i++)
    {
      const char *path = outputs[i].path;
      if (path == NULL || *path == '\0')
        continue;
      GalleyOutputKind kind;
      g_autofree char *target = NULL;
      GalleyOutputFlags flags = in_state_dir (r, path) ? GALLEY_OUTPUT_MKDIR : GALLEY_OUTPUT_FLAGS_NONE;
      if (!galley_output_check (path, flags, &kind, &target, error))
        {
          g_prefix_error (error, "%s: ", outputs[i].option);
          return FALSE;
        }
      /* rejects are appended to the file itself */
      if (i == 1 && kind == GALLEY_OUTPUT_KIND_REGULAR && access (target, W_OK) != 0)
        {
          int e = errno;
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "%s: %s: cannot append: %s",
                       outputs[i].option, path, g_strerror (e));
          return FALSE;
        }
    }
  return TRUE;
}

int
galley_pipeline_run (GalleyPipeline *pipeline, const GalleyRunOptions *opts, GError **error)
{
  g_return_val_if_fail (pipeline != NULL && opts != NULL, GALLEY_EXIT_SOFTWARE);
  Runner r = { 0 };
  r.pipeline = pipeline;
  r.opts = opts;
  r.abort_pos = G_MAXUINT64;
  r.n_threads = opts->threads ? opts->threads : pipeline->threads ? pipeline->threads : g_get_num_processors ();
  r.max_in_flight = 2 * r.n_threads + 4;
  r.rejects_path = g_strdup (opts->rejects_path ? opts->rejects_path : pipeline->rejects_path);
  r.stages = g_ptr_array_new_with_free_func (galley_runner_context_free);
  g_mutex_init (&r.flow_lock);
  g_cond_init (&r.flow_cond);
  g_mutex_init (&r.fail_lock);
  g_mutex_init (&r.rejects_lock);
  g_mutex_init (&r.monitor_lock);
  g_cond_init (&r.monitor_cond);
  r.stop = g_cancellable_new ();
  galley_runner_install_signal_handlers ();

  int code = GALLEY_EXIT_OK;
  r.run_id = g_get_real_time () / G_USEC_PER_SEC;
  const char *stats_path = opts->stats_path ? opts->stats_path : pipeline->stats_path;
  {
    g_autoptr(GError) local = NULL;
    if (!check_outputs (&r, stats_path, &local))
      {
        code = galley_error_to_exit_code (local);
        g_prefix_error (&local, "%s: ", pipeline->path);
        g_propagate_error (error, g_steal_pointer (&local));
      }
  }
  if (code == GALLEY_EXIT_OK && pipeline->state_dir != NULL && !opts->check_only && !opts->dry_run
      && opts->work_dir == NULL)
    {
      g_autoptr(GError) local = NULL;
      r.state = galley_state_open (pipeline->state_dir, opts->full, opts->wait_seconds, &local);
      if (r.state == NULL)
        {
          code = galley_error_to_exit_code (local);
          g_prefix_error (&local, "%s: ", pipeline->path);
          g_propagate_error (error, g_steal_pointer (&local));
        }
      else
        r.run_id = galley_state_get_run_id (r.state);
    }
  if (code == GALLEY_EXIT_OK && pipeline->dropped_path != NULL)
    {
      g_autoptr(GError) local = NULL;
      if (!galley_runner_dropped_open (&r, in_state_dir (&r, pipeline->dropped_path), &local))
        {
          code = galley_error_to_exit_code (local);
          g_prefix_error (&local, "%s: ", pipeline->path);
          g_propagate_error (error, g_steal_pointer (&local));
        }
    }
  for (guint i = 0; i < pipeline->stages->len; i++)
    {
      GalleyStageConfig *sc = g_ptr_array_index (pipeline->stages, i);
      GalleyStageContext *ctx = g_new0 (GalleyStageContext, 1);
      ctx->runner = &r;
      ctx->config = sc;
      ctx->info = sc->plugin->info;
      ctx->index = i;
      ctx->crash_message = g_strdup_printf ("galley: crashed in stage '%s' (plugin %s, %s)\n",
                                            sc->id, sc->plugin->name, sc->plugin->path);
      g_mutex_init (&ctx->lock);
      g_ptr_array_add (r.stages, ctx);
    }

  if (pipeline->report_path != NULL && opts->work_dir == NULL && !opts->check_only)
    r.trace = galley_trace_new (r.stages->len, pipeline->report_samples, FALSE);

  /* init every stage, in order */
  for (guint i = 0; i < r.stages->len && code == GALLEY_EXIT_OK; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r.stages, i);
      g_autoptr(GError) local = NULL;
      galley_runner_current_stage = ctx;
      ctx->state = ctx->info->init (ctx, ctx->config->options, &local);
      galley_runner_current_stage = NULL;
      if (ctx->state == NULL)
        {
          if (local == NULL)
            g_set_error (&local, galley_runner_quark (), 0, "init() returned NULL without an error (a bug in plugin %s)",
                         ctx->info->name);
          code = galley_error_to_exit_code (local);
          g_prefix_error (&local, "%s: stage '%s' (plugin %s): ", pipeline->path, ctx->config->id, ctx->info->name);
          g_propagate_error (error, g_steal_pointer (&local));
        }
      else
        ctx->initialized = TRUE;
    }
  if (code != GALLEY_EXIT_OK || opts->check_only)
    goto out;

  r.start_us = g_get_monotonic_time ();
  r.monitor = g_thread_new ("galley-monitor", galley_runner_monitor_thread, &r);
  build_segments (&r);
  start_segments (&r);
  run_sources (&r);
  join_segments (&r);
  batch_free_list (g_steal_pointer (&r.retired));

  /* finish every stage in order, also after a failure: sinks then commit
   * exactly the documents that came before the failing one */
  for (guint i = 0; i < r.stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r.stages, i);
      if (ctx->info->finish == NULL || (opts->dry_run && ctx->info->kind == GALLEY_KIND_SINK))
        continue;
      g_autoptr(GError) local = NULL;
      gint64 t0 = g_get_monotonic_time ();
      galley_fault_point ("finish");
      galley_runner_current_stage = ctx;
      gboolean ok = ctx->info->finish (ctx->state, ctx, &local);
      galley_runner_current_stage = NULL;
      ctx->busy_us += g_get_monotonic_time () - t0;
      if (!ok)
        {
          if (local == NULL)
            g_set_error (&local, galley_runner_quark (), 0, "finish() failed without an error (a bug in plugin %s)",
                         ctx->info->name);
          g_prefix_error (&local, "stage '%s': finish: ", ctx->config->id);
          fail_after_documents (&r, g_steal_pointer (&local));
        }
    }
  /* dropped documents are committed as the sinks' outputs are */
  {
    g_autoptr(GError) local = NULL;
    if (!galley_runner_dropped_commit (&r, &local))
      fail_after_documents (&r, g_steal_pointer (&local));
  }
  /* outputs and what the sources read become visible together */
  if (r.state != NULL && r.fatal == NULL && galley_runner_get_abort_pos (&r) == G_MAXUINT64)
    {
      g_autoptr(GError) local = NULL;
      if (!galley_state_commit (r.state, r.docs_in, r.docs_out, &local))
        {
          g_prefix_error (&local, "commit: ");
          r.fatal = g_steal_pointer (&local);
          g_atomic_int_set (&r.cancelled, 1);
        }
    }
  double seconds = (g_get_monotonic_time () - r.start_us) / 1e6;

  if (r.monitor != NULL)
    {
      g_mutex_lock (&r.monitor_lock);
      r.monitor_stop = TRUE;
      g_cond_signal (&r.monitor_cond);
      g_mutex_unlock (&r.monitor_lock);
      g_thread_join (r.monitor);
    }

  if (r.fatal != NULL)
    {
      code = galley_error_to_exit_code (r.fatal);
      g_prefix_error (&r.fatal, "%s: ", pipeline->path);
    }
  if (r.rejects != NULL)
    {
      fflush (r.rejects);
      fsync (fileno (r.rejects));
      fclose (r.rejects);
      r.rejects = NULL;
    }
  /* the stats file and the report show the same figures */
  json_object *run_stats = NULL;
  if ((stats_path != NULL && *stats_path != '\0') || r.trace != NULL)
    {
      run_stats = galley_runner_stats_to_json (&r, seconds, code, r.fatal);
      galley_runner_add_samples (&r, run_stats);
    }
  if (stats_path != NULL && *stats_path != '\0')
    {
      json_object *stats = run_stats;
      g_autoptr(GError) local = NULL;
      if (!galley_runner_write_stats (&r, stats_path, stats, &local))
        {
          g_warning ("%s", local->message);
          if (code == GALLEY_EXIT_OK)
            {
              code = GALLEY_EXIT_CANTCREAT;
              g_propagate_error (&r.fatal, g_steal_pointer (&local));
            }
        }
    }
  if (r.state != NULL || pipeline->metrics_path != NULL)
    {
      g_autoptr(json_object) stats = galley_runner_stats_to_json (&r, seconds, code, r.fatal);
      galley_runner_write_history_and_metrics (&r, stats, code);
    }
  if (r.trace != NULL)
    {
      g_autoptr(GError) local = NULL;
      if (!galley_runner_write_report (&r, run_stats, &local))
        {
          g_warning ("%s", local->message);
          if (code == GALLEY_EXIT_OK)
            {
              code = GALLEY_EXIT_CANTCREAT;
              g_propagate_error (&r.fatal, g_steal_pointer (&local));
            }
        }
    }
  g_clear_pointer (&run_stats, json_object_put);
  if (!opts->quiet)
    galley_runner_print_summary (&r, seconds, opts->verbose);
  if (r.stopped_by_limit && !opts->quiet)
    fprintf (stderr, "galley: %s: stopped by --limit after %" G_GINT64_FORMAT " document%s;%s\n", pipeline->name,
             r.docs_in, r.docs_in == 1 ? "" : "s",
             r.state != NULL ? " the rest is left for the next run" : " the rest was not read");
  if (r.stopped_by && !opts->quiet)
    fprintf (stderr, "galley: %s: stopped by %s after %" G_GINT64_FORMAT " document%s;%s\n", pipeline->name,
             g_strsignal (r.stopped_by), r.docs_in, r.docs_in == 1 ? "" : "s",
             r.state != NULL ? " the rest is left for the next run" : " the rest was not read");
  if (r.n_rejects > 0 && !opts->quiet)
    fprintf (stderr, "galley: %s: %" G_GINT64_FORMAT " rejected input%s written to %s\n", pipeline->name,
             r.n_rejects, r.n_rejects == 1 ? "" : "s",
             !r.rejects_failed && r.rejects_path && *r.rejects_path ? r.rejects_path : "stderr");
  if (r.n_dropped_written > 0 && code == GALLEY_EXIT_OK && !opts->quiet)
    fprintf (stderr, "galley: %s: %" G_GINT64_FORMAT " dropped document%s written to %s\n", pipeline->name,
             r.n_dropped_written, r.n_dropped_written == 1 ? "" : "s", r.dropped_path);
  if (r.fatal != NULL)
    g_propagate_error (error, g_steal_pointer (&r.fatal));
  /* free() callbacks see a failed run, whatever failed */
  if (code != GALLEY_EXIT_OK)
    g_atomic_int_set (&r.cancelled, 1);

out:
  free_states (&r);
  galley_runner_dropped_clear (&r);
  g_clear_pointer (&r.state, galley_state_free);
  g_clear_pointer (&r.trace, galley_trace_free);
  g_clear_pointer (&r.segments, g_ptr_array_unref);
  g_clear_pointer (&r.stages, g_ptr_array_unref);
  g_free (r.rejects_path);
  g_mutex_clear (&r.flow_lock);
  g_cond_clear (&r.flow_cond);
  g_mutex_clear (&r.fail_lock);
  g_mutex_clear (&r.rejects_lock);
  g_mutex_clear (&r.monitor_lock);
  g_cond_clear (&r.monitor_cond);
  g_clear_object (&r.stop);
  return code;
}
