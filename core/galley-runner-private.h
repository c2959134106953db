/* galley-runner-private.h: what the files of the runner share: the run's
 * state, the stages' contexts, batches and segments. Not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "galley-private.h"
#include "galley-state.h"

#include <galley/galley-output.h>

#include <signal.h>
#include <stdio.h>

G_BEGIN_DECLS

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
  gint64                   input_size;     /* sources: bytes to read, 0: unknown (atomic) */
  gint64                   input_read;     /* sources: bytes read so far (atomic) */

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
  guint16    dropped_by[MAX_BATCH];   /* DOC_DROPPED: the stage's index */
  const char *drop_reason[MAX_BATCH]; /* DOC_DROPPED: interned */
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

  char                   *dropped_path;     /* expanded; NULL: no dropped file */
  GalleyOutputFlags       dropped_flags;
  GString                *dropped_buf;      /* records not yet written (last segment only) */
  GalleyOutputFile       *dropped;          /* opened at the first flush */
  gint64                  n_dropped_written;
  GError                 *dropped_error;    /* the first write failure */

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
  gboolean                stopped_by_limit; /* --limit stopped the sources */
  GCancellable           *stop;             /* cancelled on SIGTERM/SIGINT or a failure */
  struct _GalleyTrace    *trace;            /* samples for the run report, or NULL */
};

/* What galley_runner_run_document() runs of a stage. */
typedef enum {
  STEP_PROCESS,   /* process() only (prepare() ran in an earlier segment) */
  STEP_PREPARE,   /* prepare() only, ahead of a serial segment */
  STEP_BOTH,      /* prepare() when the stage has one, then process() */
} Step;

/* The drop reason the stage running on this thread gave, and that stage
 * (for the crash message). */
extern _Thread_local const char *galley_runner_drop_reason;
extern _Thread_local GalleyStageContext *galley_runner_current_stage;

/* galley-runner.c: the run */
GQuark        galley_runner_quark           (void);
GalleyVerdict (*galley_runner_stage_prepare (const GalleyStageInfo *info)) (gpointer, GalleyDocument *,
                                                                            GalleyStageContext *, GError **);
GalleyVerdict galley_runner_run_document    (GalleyStageContext *ctx, GalleyDocument *doc, Step step,
                                             const char **drop_reason, GError **error);
void          galley_runner_set_abort       (Runner *r, guint64 pos, GError *error);
guint64       galley_runner_get_abort_pos   (Runner *r);
void          galley_runner_context_free    (gpointer data);

/* galley-context.c: what plugins call, counters and rejects */
void          galley_runner_count_in_table  (GalleyStageContext *ctx, GHashTable **table, const char *name, gint64 n);
/* The sum of a counter table (name -> gint64*); 0 for NULL. */
gint64        galley_runner_table_total     (GHashTable *table);
void          galley_runner_write_reject    (Runner *r, GalleyStageContext *ctx, const char *source, gint64 line,
                                             const char *doc_id, GalleyDocument *doc, const char *raw, gssize raw_len,
                                             const char *message);
char         *galley_runner_now_iso8601     (void);

/* galley-dropped.c: the dropped file ([pipeline] dropped=) */
/* Expands and checks the location (also under `galley check`), claims a
 * {run} family in the state directory; then, in a run, gets ready to write. */
gboolean      galley_runner_dropped_open    (Runner *r, gboolean in_state_dir, GError **error);
/* Writes the batch's dropped documents; called in input order. */
void          galley_runner_dropped_write_batch (Runner *r, Batch *b);
/* After the sinks' finish(): commits the file as the sinks commit theirs. */
gboolean      galley_runner_dropped_commit  (Runner *r, GError **error);
void          galley_runner_dropped_clear   (Runner *r);

/* galley-totals.c: counters over every run of the state directory */
/* Adds this run to STATE/totals.json and returns the totals (free with
 * json_object_put()), or NULL without a state directory. */
json_object  *galley_runner_update_totals   (Runner *r, int code);

/* galley-signals.c: SIGTERM/SIGINT (stop), SIGUSR1 (snapshot), crashes */
void          galley_runner_install_signal_handlers (void);
/* The signal that asked the run to stop, or 0. */
int           galley_runner_stop_signal     (void);
/* TRUE once per SIGUSR1. */
gboolean      galley_runner_take_snapshot_request (void);

/* galley-report.c: progress, stats, metrics, history and summary */
gpointer      galley_runner_monitor_thread  (gpointer data);
json_object  *galley_runner_stats_to_json   (Runner *r, double seconds, int exit_code, const GError *error);
gboolean      galley_runner_write_stats     (Runner *r, const char *path, json_object *stats, GError **error);
void          galley_runner_write_history_and_metrics (Runner *r, json_object *stats, int code);
void          galley_runner_print_summary   (Runner *r, double seconds, gboolean verbose);

/* galley-run-report.c: the samples in the stats, the HTML report */
void          galley_runner_add_samples     (Runner *r, json_object *stats);
gboolean      galley_runner_write_report    (Runner *r, json_object *stats, GError **error);

G_END_DECLS
