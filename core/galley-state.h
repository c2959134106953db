/* galley-state.h: the run state directory (core internal).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "galley-private.h"

G_BEGIN_DECLS

typedef struct _GalleyState GalleyState;

/* Creates @dir if needed, takes its lock (waiting up to @wait_seconds),
 * opens the ledger and finishes an interrupted commit. G_IO_ERROR_BUSY when
 * another run holds the lock. */
GalleyState *galley_state_open            (const char *dir, gboolean full, double wait_seconds, GError **error);
void         galley_state_free            (GalleyState *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyState, galley_state_free)

gint64       galley_state_get_run_id      (GalleyState *st);
const char  *galley_state_get_dir         (GalleyState *st);
gboolean     galley_state_lookup_input    (GalleyState *st, const char *stage, const char *key, GalleyInputState *out);
void         galley_state_record_input    (GalleyState *st, const char *stage, const char *key,
                                           const GalleyInputState *state);
void         galley_state_defer_rename    (GalleyState *st, const char *tmp, const char *final);
gint64       galley_state_get_file_length (GalleyState *st, const char *path);
void         galley_state_set_file_length (GalleyState *st, const char *path, gint64 length);
/* Renames now when @st is NULL, else at the commit. */
gboolean     galley_state_commit_file     (GalleyState *st, const char *tmp, const char *final, GError **error);
/* Makes @path (a file appended to, or a family of numbered files with
 * {run} in it) this state directory's, with an owner mark beside it;
 * GALLEY_OUTPUT_ERROR_CREATE when another state directory owns it. */
gboolean     galley_state_claim_file      (GalleyState *st, const char *path, GError **error);
/* One transaction with the inputs, file lengths and renames, then the renames. */
gboolean     galley_state_commit          (GalleyState *st, gint64 docs_in, gint64 docs_out, GError **error);

void         galley_fault_point           (const char *name);

G_END_DECLS
