/* dedup-index.h: the persistent index of the dedup stage in the state
 * directory: an SQLite database in WAL mode for documents, runs and
 * settings, and immutable segment files (dedup-segment.h) for signatures
 * and band keys.
 *
 * Tables: docs (one row per indexed document: id, cluster, time seen,
 * length, exact hash), segments (the segment files that belong to the
 * index, registered in the same transaction as their documents), runs and
 * meta. Opening maps the registered segments and reads nothing else, so
 * it costs the same for 10^3 or 10^8 documents.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include "dedup-sig.h"

G_BEGIN_DECLS

#define DEDUP_INDEX_FORMAT 2
#define DEDUP_INDEX_FILE "index.sqlite"
#define DEDUP_LOCK_FILE "lock"

typedef struct _DedupIndex DedupIndex;

typedef struct {
  gint64   rowid;
  char    *doc_id;      /* owned */
  gint64   cluster;     /* rowid of the cluster's representative */
  gint64   seen;        /* unix seconds */
  guint32  length;      /* words */
  guint32  n_shingles;
  guint16 *sig;         /* k values, owned; NULL when not asked for */
} DedupStored;

void         dedup_stored_clear (DedupStored *d);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DedupStored, dedup_stored_clear)

/* Describes the signature parameters as stored in meta ("word:2 k=128 ..."). */
char        *dedup_params_describe (const DedupSigParams *p);

/* Opens DIR/index.sqlite. @create: make it (and the schema) if missing.
 * Fails with a clear message when the file is not an index, is corrupt,
 * is from a newer format or was built with other signature parameters. */
DedupIndex  *dedup_index_open   (const char *dir, gboolean writable, gboolean create,
                                 const DedupSigParams *params, GError **error);
void         dedup_index_close  (DedupIndex *ix);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DedupIndex, dedup_index_close)

/* FALSE when the index has no document (nothing to look up). */
gboolean     dedup_index_has_docs (DedupIndex *ix);
gint64       dedup_index_max_rowid (DedupIndex *ix, GError **error);

/* Lookups. Return FALSE only on error; *found tells whether a row matched.
 * @exact_key is the exact hash's key (dedup_exact_key()), @exact the full
 * hash it is checked against. */
gboolean     dedup_index_find_exact (DedupIndex *ix, guint64 exact_key, guint64 exact, gint64 min_seen,
                                     gint64 *rowid, gboolean *found, GError **error);
/* Appends the rowids stored under @n keys to @out (gint64). Rows that
 * were forgotten may still be listed: dedup_index_get() tells. */
void         dedup_index_bands_lookup (DedupIndex *ix, const guint64 *keys, guint n, GArray *out);
/* The signature (in the mapping) and shingle count of @rowid from the
 * segments, without SQLite; FALSE when it has none. The row itself may be
 * forgotten: dedup_index_get() tells. */
gboolean     dedup_index_peek (DedupIndex *ix, gint64 rowid, const guint16 **sig, guint32 *n_shingles);
gboolean     dedup_index_get (DedupIndex *ix, gint64 rowid, gboolean with_sig, DedupStored *out,
                              gboolean *found, GError **error);

/* Writing: begin, add, then commit or rollback. */
gboolean     dedup_index_begin    (DedupIndex *ix, GError **error);
gboolean     dedup_index_add_doc  (DedupIndex *ix, const DedupStored *d, guint64 exact, GError **error);
/* Registers segment file DIR/@name (already written and synced) holding
 * documents @first..@last. */
gboolean     dedup_index_add_segment (DedupIndex *ix, const char *name, gint64 first, gint64 last,
                                      gint64 docs, gint64 records, GError **error);
const char  *dedup_index_dir      (DedupIndex *ix);
gboolean     dedup_index_add_run  (DedupIndex *ix, gint64 started, gint64 docs, gint64 duplicates, GError **error);
/* A value of the meta table (NULL when absent), and setting one inside
 * the open transaction: `galley dedup index merge` records there which
 * backfills it added. */
char        *dedup_index_get_meta (DedupIndex *ix, const char *key, GError **error);
gboolean     dedup_index_set_meta (DedupIndex *ix, const char *key, const char *value, GError **error);
gboolean     dedup_index_commit   (DedupIndex *ix, GError **error);
void         dedup_index_rollback (DedupIndex *ix);
gboolean     dedup_index_in_transaction (DedupIndex *ix);

/* Maintenance. */
gboolean     dedup_index_stats   (DedupIndex *ix, GString *out, gboolean json, GError **error);
gboolean     dedup_index_forget  (DedupIndex *ix, gint64 before, gint64 *docs, GError **error);
/* Merges the segments into one (dropping forgotten documents), then VACUUM. */
gboolean     dedup_index_compact (DedupIndex *ix, GError **error);
gboolean     dedup_index_checkpoint (DedupIndex *ix, GError **error);

/* Takes the exclusive lock of DIR (DIR/lock, flock). Waits up to @wait_us
 * (0: not at all). Returns the file descriptor, or -1 with @error set
 * (G_IO_ERROR_BUSY when another process holds it). */
int          dedup_lock_state_dir (const char *dir, gint64 wait_us, GError **error);

G_END_DECLS
