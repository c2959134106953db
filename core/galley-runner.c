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
#include "galley-private.h"
#include "galley-state.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_BATCH 4096
#define ATOMIC_ADD(p, v) __atomic_fetch_add ((p), (v), __ATOMIC_RELAXED)
#define ATOMIC_GET(p)    __atomic_load_n ((p), __ATOMIC_RELAXED)

typedef struct _Runner Runner;

struct _GalleyStageContext {
  Runner                  *runner;
  const GalleyStageConfig *config;
  const GalleyStageInfo   *info;
  guint                    index;
  gpointer                 state;
  gboolean                 initialized;
  gboolean                 prepared_ahead; /* prepare() runs in the segment before */
  char                    *crash_message;  /* preformatted for the signal handler */

  GMutex                   lock;           /* protects what follows */
  gint64                   in;
  gint64                   kept;
  gint64                   failed;
  gint64                   busy_us;
  GHashTable              *dropped;        /* interned reason -> count */
  GHashTable              *counters;       /* interned name -> count */
};

enum { DOC_ALIVE, DOC_DROPPED, DOC_FAILED, DOC_ABORTED };

typedef struct _Batch Batch;
struct _Batch {
  guint64    seq;
  Batch     *retired_next;  /* on Runner.retired */
  guint      n;
  GalleyDocument *docs[MAX_BATCH];
  guint8     status[MAX_BATCH];
};

typedef struct _Segment Segment;
struct _Segment {
  Runner      *runner;
  guint        first;       /* stage indexes [first, last) */
  guint        last;
  gboolean     parallel;
  GAsyncQueue *in;
  Segment     *next;
  GPtrArray   *threads;
  gint         active;      /* workers still running (parallel) */
  GMutex       reorder_lock;
  GHashTable  *pending;     /* seq -> Batch*, finished out of order */
  gint         prepare;     /* stage whose prepare() runs here, or -1 */
  guint64      next_seq;
};

struct _Runner {
  GalleyPipeline         *pipeline;
  const GalleyRunOptions *opts;
  guint                   n_threads;
  GPtrArray              *stages;           /* GalleyStageContext* */
  GPtrArray              *segments;         /* Segment* */
  Batch                   end_marker;

  GMutex                  flow_lock;
  GCond                   flow_cond;
  guint                   in_flight;
  guint                   max_in_flight;
  Batch                  *retired;          /* done, to be freed by the source thread */

  GMutex                  fail_lock;
  guint64                 abort_pos;        /* G_MAXUINT64: no failure */
  GError                 *fatal;
  gint                    cancelled;

  GMutex                  rejects_lock;
  char                   *rejects_path;
  FILE                   *rejects;
  gboolean                rejects_failed;   /* could not open: stderr instead */
  gint64                  n_rejects;

  guint64                 next_pos;         /* source thread only */
  gint64                  docs_in;          /* atomics */
  gint64                  bytes_in;
  gint64                  docs_out;
  gint64                  start_us;

  GMutex                  monitor_lock;
  GCond                   monitor_cond;
  gboolean                monitor_stop;
  GThread                *monitor;

  GalleyState            *state;            /* NULL without state-dir */
  gint64                  run_id;
  int                     stopped_by;       /* signal that stopped the sources, or 0 */
  GCancellable           *stop;             /* cancelled on SIGTERM/SIGINT or a failure */
};

static _Thread_local const char *tls_drop_reason;
static _Thread_local GalleyStageContext *tls_current_stage;
static volatile sig_atomic_t snapshot_requested;
static volatile sig_atomic_t stop_requested;

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

static void
count_in_table (GalleyStageContext *ctx, GHashTable **table, const char *name, gint64 n)
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

GalleyVerdict
galley_stage_drop (GalleyStageContext *ctx, const char *reason)
{
  g_return_val_if_fail (ctx != NULL, GALLEY_VERDICT_DROP);
  g_return_val_if_fail (is_kebab (reason), GALLEY_VERDICT_DROP);
  tls_drop_reason = g_intern_string (reason);
  return GALLEY_VERDICT_DROP;
}

void
galley_stage_count (GalleyStageContext *ctx, const char *name, gint64 n)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (is_kebab (name));
  count_in_table (ctx, &ctx->counters, name, n);
}

void
galley_stage_skip (GalleyStageContext *ctx, const char *source, const char *reason)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (is_kebab (reason));
  g_debug ("stage '%s': skipped %s: %s", ctx->config->id, source ? source : "(unknown)", reason);
  count_in_table (ctx, &ctx->dropped, reason, 1);
}

static char *
now_iso8601 (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format_iso8601 (now);
}

/* Appends one record to the rejects file. @doc or @raw carries the input. */
static void
write_reject (Runner *r, GalleyStageContext *ctx, const char *source, gint64 line, const char *doc_id,
              GalleyDocument *doc, const char *raw, gssize raw_len, const char *message)
{
  if (r->opts->check_only)
    return;
  g_autoptr(GString) out = g_string_new ("{\"time\":");
  g_autofree char *now = now_iso8601 ();
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

/* Stops the run after position @pos: every document before it is finished,
 * none after it reaches a later stage. The earliest failure wins. */
static void
set_abort (Runner *r, guint64 pos, GError *error)
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

static guint64
get_abort_pos (Runner *r)
{
  g_mutex_lock (&r->fail_lock);
  guint64 pos = r->abort_pos;
  g_mutex_unlock (&r->fail_lock);
  return pos;
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
  write_reject (r, ctx, source, line, NULL, NULL, raw, raw_len, error->message);
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
  set_abort (r, r->next_pos, fatal);
  return FALSE;
}

/* ---- crash reporting ----------------------------------------------------- */

static void
crash_handler (int sig)
{
  GalleyStageContext *ctx = tls_current_stage;
  static const char generic[] = "galley: crashed outside any stage\n";
  if (ctx != NULL && ctx->crash_message != NULL)
    {
      ssize_t ignored = write (STDERR_FILENO, ctx->crash_message, strlen (ctx->crash_message));
      (void) ignored;
    }
  else
    {
      ssize_t ignored = write (STDERR_FILENO, generic, sizeof generic - 1);
      (void) ignored;
    }
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
snapshot_handler (int sig)
{
  (void) sig;
  snapshot_requested = 1;
}

static void
stop_handler (int sig)
{
  stop_requested = sig;
}

static void
install_signal_handlers (void)
{
  struct sigaction sa = { 0 };
  sa.sa_handler = crash_handler;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGSEGV, &sa, NULL);
  sigaction (SIGBUS, &sa, NULL);
  sigaction (SIGFPE, &sa, NULL);
  sigaction (SIGILL, &sa, NULL);
  sigaction (SIGABRT, &sa, NULL);
  struct sigaction su = { 0 };
  su.sa_handler = snapshot_handler;
  su.sa_flags = SA_RESTART;
  sigemptyset (&su.sa_mask);
  sigaction (SIGUSR1, &su, NULL);
  galley_runner_catch_stop_signals ();
}

/* SIGTERM/SIGINT: read no more input, finish and commit what is in
 * flight; a second one ends the process at once. The runner's main()
 * calls this first thing, so that a stop during start-up (loading the
 * plugins, waiting for the lock) is a clean stop too; installing it again
 * keeps a signal already received. */
void
galley_runner_catch_stop_signals (void)
{
  struct sigaction old;
  if (stop_requested || (sigaction (SIGTERM, NULL, &old) == 0 && old.sa_handler == stop_handler))
    return;   /* a second signal must still end the process */
  struct sigaction st = { 0 };
  st.sa_handler = stop_handler;
  st.sa_flags = SA_RESTART | SA_RESETHAND;
  sigemptyset (&st.sa_mask);
  sigaction (SIGTERM, &st, NULL);
  sigaction (SIGINT, &st, NULL);
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

static GQuark
runner_quark (void)
{
  return g_quark_from_static_string ("galley-runner");
}

/* prepare() exists since ABI 1.1; older plugins never set the slot, but
 * only a plugin that says it knows the member is asked for it. */
static GalleyVerdict (*stage_prepare (const GalleyStageInfo *info)) (gpointer, GalleyDocument *, GalleyStageContext *, GError **)
{
  return info->abi_minor >= 1 ? info->prepare : NULL;
}

/* What run_stage() calls for each live document. */
typedef enum {
  STEP_PROCESS,   /* process() only (prepare() ran in an earlier segment) */
  STEP_PREPARE,   /* prepare() only, ahead of a serial segment */
  STEP_BOTH,      /* prepare() when the stage has one, then process() */
} Step;

/* Runs one stage over the live documents of a batch. */
static void
run_stage (Runner *r, GalleyStageContext *ctx, Batch *b, Step step)
{
  const GalleyStageInfo *info = ctx->info;
  guint64 abort_pos = get_abort_pos (r);
  gint64 in = 0, kept = 0, failed = 0;
  gint64 t0 = g_get_monotonic_time ();

  if (stage_prepare (info) == NULL)
    {
      if (step == STEP_PREPARE)
        return;
      step = STEP_PROCESS;
    }
  tls_current_stage = ctx;
  for (guint i = 0; i < b->n; i++)
    {
      if (b->status[i] != DOC_ALIVE)
        continue;
      guint64 pos = b->seq * MAX_BATCH + i;
      if (pos > abort_pos || (abort_pos != G_MAXUINT64 && (abort_pos = get_abort_pos (r)) < pos))
        {
          b->status[i] = DOC_ABORTED;
          continue;
        }
      GalleyDocument *doc = b->docs[i];
      g_autoptr(GError) error = NULL;
      tls_drop_reason = NULL;
      GalleyVerdict verdict = GALLEY_VERDICT_KEEP;
      if (step != STEP_PROCESS)
        verdict = info->prepare (ctx->state, doc, ctx, &error);
      if (verdict == GALLEY_VERDICT_KEEP)
        {
          if (step == STEP_PREPARE)
            continue;   /* counted when process() sees it */
          verdict = info->process (ctx->state, doc, ctx, &error);
        }
      in++;
      switch (verdict)
        {
        case GALLEY_VERDICT_KEEP:
          kept++;
          break;
        case GALLEY_VERDICT_DROP:
          b->status[i] = DOC_DROPPED;
          count_in_table (ctx, &ctx->dropped, tls_drop_reason ? tls_drop_reason : "unspecified", 1);
          break;
        case GALLEY_VERDICT_ERROR:
        default:
          if (error == NULL)
            g_set_error (&error, runner_quark (), 0, "%s() failed without setting an error (a bug in plugin %s)",
                         step == STEP_PREPARE ? "prepare" : "process", info->name);
          failed++;
          b->status[i] = DOC_FAILED;
          const char *source = galley_document_get_source (doc);
          g_warning ("stage '%s': document '%s'%s%s%s: %s", ctx->config->id, galley_document_get_id (doc),
                     source ? " (" : "", source ? source : "", source ? ")" : "", error->message);
          write_reject (r, ctx, source, 0, galley_document_get_id (doc), doc, NULL, 0, error->message);
          if (ctx->config->on_error == GALLEY_ON_ERROR_FAIL)
            {
              GError *fatal = g_error_copy (error);
              g_prefix_error (&fatal, "stage '%s': document '%s': ", ctx->config->id, galley_document_get_id (doc));
              set_abort (r, pos, fatal);
              abort_pos = pos;
            }
          break;
        }
    }
  tls_current_stage = NULL;

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
      if (!parallel && stage_prepare (ctx->info) != NULL && r->n_threads > 1)
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
      if (ctx->info->kind != GALLEY_KIND_SOURCE || r->stopped_by)
        break;
      for (;;)
        {
          if (g_atomic_int_get (&r->cancelled))
            break;
          if (stop_requested)
            {
              r->stopped_by = stop_requested;
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
          tls_current_stage = ctx;
          gboolean more = ctx->info->next (ctx->state, &doc, ctx, &error);
          tls_current_stage = NULL;
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
              if (stop_requested && (error == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
                {
                  g_clear_error (&error);
                  r->stopped_by = stop_requested;
                }
              if (error != NULL)
                {
                  g_prefix_error (&error, "stage '%s': ", ctx->config->id);
                  set_abort (r, r->next_pos, g_steal_pointer (&error));
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

/* ---- monitor: live progress and SIGUSR1 snapshots ---------------------------- */

static void
format_progress (Runner *r, GString *out)
{
  double secs = MAX ((g_get_monotonic_time () - r->start_us) / 1e6, 1e-6);
  gint64 docs = ATOMIC_GET (&r->docs_in);
  gint64 bytes = ATOMIC_GET (&r->bytes_in);
  g_string_append_printf (out, "%" G_GINT64_FORMAT " docs in, %" G_GINT64_FORMAT " out, %.0f docs/s, %.1f MB/s |",
                          docs, ATOMIC_GET (&r->docs_out), docs / secs, bytes / secs / 1e6);
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

static gpointer
monitor_thread (gpointer data)
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
      if (stop_requested && !g_cancellable_is_cancelled (r->stop))
        g_cancellable_cancel (r->stop);
      gint64 now = g_get_monotonic_time ();
      if (snapshot_requested)
        {
          snapshot_requested = 0;
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
table_sum (GHashTable *table)
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

static json_object *
stats_to_json (Runner *r, double seconds, int exit_code, const GError *error)
{
  json_object *root = json_object_new_object ();
  g_autofree char *now = now_iso8601 ();
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

static gboolean
write_stats (Runner *r, const char *path, json_object *stats, GError **error)
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

static void
write_metrics (Runner *r, json_object *stats, int code)
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
                              sl->str, ctx->in, sl->str, ctx->kept, sl->str, table_sum (ctx->dropped),
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
static void
write_history_and_metrics (Runner *r, json_object *stats, int code)
{
  if (r->pipeline->metrics_path != NULL)
    write_metrics (r, stats, code);
  if (r->state == NULL)
    return;
  g_autofree char *dir = g_build_filename (galley_state_get_dir (r->state), "runs", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");
  g_autofree char *name = g_strdup_printf ("run-%08" G_GINT64_FORMAT "-%s-%d.json", r->run_id, stamp, (int) getpid ());
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) local = NULL;
  if (g_mkdir_with_parents (dir, 0755) != 0 || !write_stats (r, path, stats, &local))
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

static void
print_summary (Runner *r, double seconds, gboolean verbose)
{
  gint64 docs_in = ATOMIC_GET (&r->docs_in);
  gint64 bytes_in = ATOMIC_GET (&r->bytes_in);
  gint64 dropped = 0, failed = 0;
  g_autoptr(GString) reasons = g_string_new (NULL);
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      dropped += table_sum (ctx->dropped);
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
                 ctx->config->id, ctx->info->name, ctx->in, ctx->kept, table_sum (ctx->dropped),
                 ctx->failed, ctx->busy_us / 1e6);
      }
}

/* ---- the run --------------------------------------------------------------- */

static void
context_free (gpointer data)
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
          tls_current_stage = ctx;
          ctx->info->free (ctx->state);
          tls_current_stage = NULL;
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
  r.stages = g_ptr_array_new_with_free_func (context_free);
  g_mutex_init (&r.flow_lock);
  g_cond_init (&r.flow_cond);
  g_mutex_init (&r.fail_lock);
  g_mutex_init (&r.rejects_lock);
  g_mutex_init (&r.monitor_lock);
  g_cond_init (&r.monitor_cond);
  r.stop = g_cancellable_new ();
  install_signal_handlers ();

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

  /* init every stage, in order */
  for (guint i = 0; i < r.stages->len && code == GALLEY_EXIT_OK; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r.stages, i);
      g_autoptr(GError) local = NULL;
      tls_current_stage = ctx;
      ctx->state = ctx->info->init (ctx, ctx->config->options, &local);
      tls_current_stage = NULL;
      if (ctx->state == NULL)
        {
          if (local == NULL)
            g_set_error (&local, runner_quark (), 0, "init() returned NULL without an error (a bug in plugin %s)",
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
  r.monitor = g_thread_new ("galley-monitor", monitor_thread, &r);
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
      tls_current_stage = ctx;
      gboolean ok = ctx->info->finish (ctx->state, ctx, &local);
      tls_current_stage = NULL;
      ctx->busy_us += g_get_monotonic_time () - t0;
      if (!ok)
        {
          if (local == NULL)
            g_set_error (&local, runner_quark (), 0, "finish() failed without an error (a bug in plugin %s)",
                         ctx->info->name);
          g_prefix_error (&local, "stage '%s': finish: ", ctx->config->id);
          g_warning ("%s", local->message);
          g_mutex_lock (&r.fail_lock);
          if (r.fatal == NULL)
            r.fatal = g_steal_pointer (&local);
          g_mutex_unlock (&r.fail_lock);
          /* free() callbacks see the run as failed */
          g_atomic_int_set (&r.cancelled, 1);
        }
    }
  /* outputs and what the sources read become visible together */
  if (r.state != NULL && r.fatal == NULL && get_abort_pos (&r) == G_MAXUINT64)
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
  if (stats_path != NULL && *stats_path != '\0')
    {
      g_autoptr(json_object) stats = stats_to_json (&r, seconds, code, r.fatal);
      g_autoptr(GError) local = NULL;
      if (!write_stats (&r, stats_path, stats, &local))
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
      g_autoptr(json_object) stats = stats_to_json (&r, seconds, code, r.fatal);
      write_history_and_metrics (&r, stats, code);
    }
  if (!opts->quiet)
    print_summary (&r, seconds, opts->verbose);
  if (r.stopped_by && !opts->quiet)
    fprintf (stderr, "galley: %s: stopped by %s after %" G_GINT64_FORMAT " document%s;%s\n", pipeline->name,
             g_strsignal (r.stopped_by), r.docs_in, r.docs_in == 1 ? "" : "s",
             r.state != NULL ? " the rest is left for the next run" : " the rest was not read");
  if (r.n_rejects > 0 && !opts->quiet)
    fprintf (stderr, "galley: %s: %" G_GINT64_FORMAT " rejected input%s written to %s\n", pipeline->name,
             r.n_rejects, r.n_rejects == 1 ? "" : "s",
             !r.rejects_failed && r.rejects_path && *r.rejects_path ? r.rejects_path : "stderr");
  if (r.fatal != NULL)
    g_propagate_error (error, g_steal_pointer (&r.fatal));
  /* free() callbacks see a failed run, whatever failed */
  if (code != GALLEY_EXIT_OK)
    g_atomic_int_set (&r.cancelled, 1);

out:
  free_states (&r);
  g_clear_pointer (&r.state, galley_state_free);
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

/* ---- test harness ---------------------------------------------------------- */

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
  const GalleyPlugin *plugin = galley_plugin_load (plugin_name, error);
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
        g_set_error (error, runner_quark (), 0, "init() failed without an error");
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
  tls_drop_reason = NULL;
  GalleyVerdict v = GALLEY_VERDICT_KEEP;
  if (stage_prepare (h->ctx->info) != NULL)
    v = h->ctx->info->prepare (h->ctx->state, doc, h->ctx, error);
  if (v == GALLEY_VERDICT_KEEP)
    v = h->ctx->info->process (h->ctx->state, doc, h->ctx, error);
  h->drop_reason = v == GALLEY_VERDICT_DROP ? (tls_drop_reason ? tls_drop_reason : "unspecified") : NULL;
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
      context_free (h->ctx);
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
