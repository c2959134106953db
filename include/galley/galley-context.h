/* galley-context.h: what a stage asks the core through its context:
 * its identity, drops, counters, skips and rejects, cancellation, and the
 * data it keeps on a document.
 * Included by <galley/galley-stage.h>; not to be included on its own.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(GALLEY_INSIDE) && !defined(GALLEY_COMPILATION)
# error "Only <galley/galley.h> or <galley/galley-stage.h> can be included directly."
#endif

G_BEGIN_DECLS

/* The stage id from the pipeline file ("dedup" in [stage dedup]). */
GALLEY_API const char *galley_stage_context_get_id       (GalleyStageContext *ctx);
/* The plugin name ("dedup"). */
GALLEY_API const char *galley_stage_context_get_plugin   (GalleyStageContext *ctx);
/* Number of worker threads of the run. */
GALLEY_API guint       galley_stage_context_get_threads  (GalleyStageContext *ctx);
/* TRUE under `galley run --dry-run` and `galley check`: write nothing. */
GALLEY_API gboolean    galley_stage_context_is_dry_run   (GalleyStageContext *ctx);
/* Since ABI 1.3: (transfer full) the ids and plugin names of the stages
 * before this one in the pipeline, in order, each once (free with
 * g_strfreev()); NULL when they are not known (the test harness, a step of
 * a sharded run, which runs a part of the pipeline). A sink can check with
 * it that a field it is told to read is one an earlier stage writes. */
GALLEY_API char      **galley_stage_context_list_upstream (GalleyStageContext *ctx);

/* Since ABI 1.4, sources: how many bytes of input this run will read
 * (the sum of the files' sizes), if known; 0 (the default) when not. With
 * every source's size known, the live progress on a terminal shows the
 * percent read and the time left. */
GALLEY_API void        galley_stage_context_set_input_size (GalleyStageContext *ctx, guint64 bytes);
/* Since ABI 1.4, sources: adds @bytes to the input read so far (of the
 * size set above; a file skipped or rejected counts as read too). Cheap;
 * call it per file or per buffer. */
GALLEY_API void        galley_stage_context_add_input_read (GalleyStageContext *ctx, guint64 bytes);

/**
 * galley_stage_drop:
 * @reason: kebab-case reason, e.g. "too-short"; counted per stage
 *
 * Records why process() drops the current document.
 *
 * Returns: %GALLEY_VERDICT_DROP, so `return galley_stage_drop (ctx, "x");`
 */
GALLEY_API GalleyVerdict galley_stage_drop (GalleyStageContext *ctx, const char *reason);

/* Adds @n to a custom counter @name (kebab-case) shown in the stats file. */
GALLEY_API void galley_stage_count (GalleyStageContext *ctx, const char *name, gint64 n);

/**
 * galley_stage_reject:
 * @source: where the input came from (path, "path:line")
 * @line: line number, or 0
 * @raw: (nullable): the offending input, kept so nothing is lost
 * @raw_len: its length, -1 if NUL-terminated
 * @error: why
 *
 * Sources: writes an input that could not become a document to the
 * rejects file and counts it as failed. If the stage's on-error is `fail`
 * the run stops after the documents already produced.
 *
 * Returns: %TRUE if the source should go on, %FALSE if the run is stopping.
 */
GALLEY_API gboolean galley_stage_reject (GalleyStageContext *ctx, const char *source, gint64 line,
                                         const char *raw, gssize raw_len, const GError *error);

/* Sources: counts an input deliberately skipped (e.g. "binary-file") as
 * dropped with @reason; @source is logged at debug level. */
GALLEY_API void galley_stage_skip (GalleyStageContext *ctx, const char *source, const char *reason);

/* TRUE once the run is stopping because something failed: sources should
 * return. Still valid in free(), where it tells a stage whether the run as
 * a whole failed (a stage, a sink's finish()), so state can be committed
 * only after a successful run. Report a held lock with G_IO_ERROR_BUSY
 * (exit 75). */
GALLEY_API gboolean galley_stage_is_cancelled (GalleyStageContext *ctx);
/* Since ABI 1.3: (transfer none) cancelled when the run is asked to stop
 * (SIGTERM, SIGINT) or fails. Sources pass it to reads that can block (a
 * pipe, a FIFO, a socket) so that a stop wakes them; a read cancelled by
 * a stop may end the source without an error (or with
 * G_IO_ERROR_CANCELLED, which the core then treats as the stop). */
GALLEY_API GCancellable *galley_stage_context_get_cancellable (GalleyStageContext *ctx);

/* Since ABI 1.1: data a stage keeps on a document, typically from prepare()
 * for process(). One slot per stage; setting it again destroys the old
 * value; the value is destroyed with the document. */
GALLEY_API void     galley_document_set_stage_data   (GalleyDocument *doc, GalleyStageContext *ctx,
                                                      gpointer data, GDestroyNotify destroy);
/* (transfer none) the stage's data, or NULL. */
GALLEY_API gpointer galley_document_get_stage_data   (GalleyDocument *doc, GalleyStageContext *ctx);
/* (transfer full) removes the stage's data without destroying it. */
GALLEY_API gpointer galley_document_steal_stage_data (GalleyDocument *doc, GalleyStageContext *ctx);

/**
 * galley_stage_is_tracing:
 * @doc: (nullable): the document, or NULL to ask about the run
 *
 * Since ABI 1.4: TRUE while the core records what this stage does to @doc
 * (a document of the run report's sample, or `galley explain`). A stage
 * builds notes only then; the call itself is cheap. Ask before changing
 * the document: the core may take its snapshot of it at this call.
 *
 * With @doc NULL (from init() on): TRUE when this run records samples at
 * all (`report=` or `galley explain`), so a stage can keep, for every
 * document, what a later note needs (dedup keeps sentence fingerprints
 * to show the passage a duplicate shares). Earlier 1.4 cores warn about
 * NULL and return FALSE.
 */
GALLEY_API gboolean galley_stage_is_tracing (GalleyStageContext *ctx, GalleyDocument *doc);

/**
 * galley_stage_note:
 * @kind: kebab-case; the report knows "removed" (members "text", "reason":
 *   a part of the text before the stage that it took out, and why) and
 *   "pair" ("other": an id, "similarity": a number, optional "text": the
 *   other document's text); any other kind is shown as its members
 * @detail: (transfer full) (nullable): a JSON object, or any value (then
 *   shown as "value")
 *
 * Since ABI 1.4: writes down, for the run report and `galley explain`,
 * something the stage did to @doc that its text, meta, fields and
 * annotations do not show. Does nothing (and frees @detail) unless
 * galley_stage_is_tracing() is TRUE. See docs/plugin-guide.md.
 */
GALLEY_API void galley_stage_note (GalleyStageContext *ctx, GalleyDocument *doc, const char *kind,
                                   json_object *detail);

G_END_DECLS
