/* galley-trace.h: what a stage did to a few documents, for the run report
 * and `galley explain`. Not installed; stages reach it through
 * galley_stage_is_tracing() and galley_stage_note() (galley-context.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "galley-private.h"

G_BEGIN_DECLS

/* The layout of a traced step in the stats file ("trace_format"). */
#define GALLEY_TRACE_FORMAT 1

typedef struct _GalleyTrace     GalleyTrace;
typedef struct _GalleyTraceStep GalleyTraceStep;

/* @n_stages stages, each keeping @samples documents: those with the
 * smallest hash of their id among the ones the stage dropped, failed or
 * noted, then among the ones it changed; the same documents whatever the
 * thread count. With @all, every step is kept
 * (one document, `galley explain`). */
GalleyTrace     *galley_trace_new   (guint n_stages, guint samples, gboolean all);
void             galley_trace_free  (GalleyTrace *trace);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyTrace, galley_trace_free)

/* Before a stage runs on @doc: a snapshot when the document may enter the
 * stage's sample, else NULL (the common case, a hash and a compare). */
GalleyTraceStep *galley_trace_begin (GalleyTrace *trace, guint stage, GalleyStageContext *ctx, GalleyDocument *doc);
/* After it ran: keeps the step if the stage did something, frees it. */
void             galley_trace_end   (GalleyTrace *trace, GalleyTraceStep *step, GalleyDocument *doc,
                                     GalleyVerdict verdict, const char *reason, const GError *error);

/* (transfer full) the kept steps of @stage, best first, as a JSON array. */
json_object     *galley_trace_stage_to_json (GalleyTrace *trace, guint stage);

/* The step the stage running on this thread is traced in, or NULL. */
extern _Thread_local GalleyTraceStep *galley_trace_current;
/* Whether @step records @doc; a light step takes its snapshot now. */
gboolean         galley_trace_step_wants (GalleyTraceStep *step, GalleyDocument *doc);
/* Adds a note to @step (@detail stolen, may be NULL). */
void             galley_trace_step_note (GalleyTraceStep *step, const char *kind, json_object *detail);
/* The document @step records. */
GalleyDocument  *galley_trace_step_get_document (GalleyTraceStep *step);

G_END_DECLS
