/* galley-stage.h: everything a plugin author needs. This file holds the
 * descriptor (GalleyStageInfo) and the ABI; it includes the headers of the
 * context API (galley-context.h), incremental state (galley-incremental.h)
 * and shard mode (galley-shard.h), which are not included on their own.
 *
 * A plugin is a shared module named galley-NAME.so that exports one
 * function, galley_stage_query(), returning a constant GalleyStageInfo.
 * Write it with GALLEY_STAGE_DEFINE(). See docs/plugin-guide.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#ifndef GALLEY_INSIDE
# define GALLEY_INSIDE
# define GALLEY_STAGE_H_DEFINED_INSIDE
#endif

#include <galley/galley-macros.h>
#include <galley/galley-error.h>
#include <galley/galley-exit.h>
#include <galley/galley-json.h>
#include <galley/galley-date.h>
#include <galley/galley-options.h>
#include <galley/galley-document.h>
#include <galley/galley-version.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* The stage ABI. A plugin is loaded when its major equals the core's and
 * its minor is not greater than the core's. */
enum {
  GALLEY_STAGE_ABI_MAJOR = GALLEY_STAGE_ABI_MAJOR_VERSION,
  GALLEY_STAGE_ABI_MINOR = GALLEY_STAGE_ABI_MINOR_VERSION
};

/* Name of the one symbol every plugin exports. */
#define GALLEY_STAGE_QUERY_SYMBOL "galley_stage_query"

typedef enum {
  GALLEY_VERDICT_KEEP,   /* pass the document on (possibly modified) */
  GALLEY_VERDICT_DROP,   /* remove it; return galley_stage_drop() to give a reason */
  GALLEY_VERDICT_ERROR,  /* failed; *error is set; on-error decides what follows */
} GalleyVerdict;

typedef enum {
  GALLEY_KIND_SOURCE,    /* produces documents with next() */
  GALLEY_KIND_STAGE,     /* transforms documents with process() */
  GALLEY_KIND_SINK,      /* writes documents with process() and passes them on */
} GalleyStageKind;

typedef enum {
  GALLEY_STAGE_FLAGS_NONE = 0,
  /* process() may run on several threads at once with the same state.
   * Stages without it are called from one thread at a time, in input order. */
  GALLEY_STAGE_THREAD_SAFE = 1 << 0,
} GalleyStageFlags;

/**
 * GalleyStageContext:
 *
 * The core's handle for one configured stage, passed to every callback.
 * All functions taking it are thread-safe.
 */
typedef struct _GalleyStageContext GalleyStageContext;

G_END_DECLS

/* what a stage can do in shard mode (GalleyShardInfo) and shard steps */
#include <galley/galley-shard.h>

G_BEGIN_DECLS

typedef struct _GalleyStageInfo GalleyStageInfo;
struct _GalleyStageInfo {
  guint16                 abi_major;
  guint16                 abi_minor;
  const char             *name;          /* must match the file: galley-NAME.so */
  const char             *description;   /* one line */
  const char             *version;       /* the plugin's own version */
  GalleyStageKind         kind;
  GalleyStageFlags        flags;
  const GalleyOptionSpec *options;       /* ends with { NULL }; may be NULL */

  /* Validates options and builds the state. Must not create anything
   * irreversible: `galley check` calls init() then free(). Return NULL with
   * *error set on failure. A stateless plugin may return any non-NULL
   * pointer, e.g. GINT_TO_POINTER (1), with free NULL. */
  gpointer      (*init)    (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error);
  /* Stages and sinks: handle one borrowed document. */
  GalleyVerdict (*process) (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error);
  /* Sources: return TRUE with a new document in *out (the core takes it),
   * FALSE with *out NULL at the end, or FALSE with *error set on a fatal
   * error. Problems with a single input are reported with
   * galley_stage_reject() or galley_stage_skip() and do not end the source. */
  gboolean      (*next)    (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error);
  /* Called once after the last document (flush, commit). May be NULL. */
  gboolean      (*finish)  (gpointer state, GalleyStageContext *ctx, GError **error);
  /* Frees the state from init(); also called without finish() after a
   * failed run or by `galley check`. May be NULL. */
  void          (*free)    (gpointer state);

  /* Since ABI 1.1, optional, stages and sinks only. Work on one document
   * that may run before process() on another thread, concurrently with
   * prepare() of other documents and with process() of earlier ones, even
   * when the stage is not GALLEY_STAGE_THREAD_SAFE: it must only read the
   * state. Keep what process() needs with galley_document_set_stage_data().
   * Returns a verdict like process(); DROP and ERROR mean process() is not
   * called for this document. */
  GalleyVerdict (*prepare) (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error);

  /* Since ABI 1.3, optional: what the stage can do in shard mode; NULL:
   * a pipeline with this stage cannot be sharded (stages without barrier
   * steps are always fine). */
  const GalleyShardInfo *shard;
  /* Since ABI 1.3, optional: the plugin's command, run as `galley NAME
   * ARGS...` (e.g. `galley dedup stats STATE_DIR`); @argv[0] is "galley
   * NAME". Returns an exit status (galley-exit.h). */
  int           (*command) (int argc, char **argv);

  /*< private >*/
  gpointer      reserved[5];             /* new members land here (minor bump) */
};

/* Declares the plugin's query function. Use once per module. */
#define GALLEY_STAGE_DEFINE(info)                                              \
  GALLEY_EXPORT const GalleyStageInfo *galley_stage_query (void);              \
  GALLEY_EXPORT const GalleyStageInfo *galley_stage_query (void) { return &(info); }

typedef const GalleyStageInfo *(*GalleyStageQueryFunc) (void);

/* Before ABI 1.3 a plugin exported its command as a second symbol with
 * GALLEY_COMMAND_DEFINE (func); such modules still work, and the symbol is
 * still looked up when the descriptor has no command. Since 1.3 set the
 * descriptor's `command` member instead. */
#define GALLEY_COMMAND_SYMBOL "galley_plugin_command"
typedef int (*GalleyCommandFunc) (int argc, char **argv);
#define GALLEY_COMMAND_DEFINE(func)                                            \
  GALLEY_EXPORT int galley_plugin_command (int argc, char **argv);             \
  GALLEY_EXPORT int galley_plugin_command (int argc, char **argv) { return func (argc, argv); }

G_END_DECLS

/* the context API, incremental state */
#include <galley/galley-context.h>
#include <galley/galley-incremental.h>

#ifdef GALLEY_STAGE_H_DEFINED_INSIDE
# undef GALLEY_INSIDE
# undef GALLEY_STAGE_H_DEFINED_INSIDE
#endif
