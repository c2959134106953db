/* dedup-private.h: what the files of the dedup plugin share: the stage's
 * state, the in-memory tables of a run's documents (dedup-lsh.c), the
 * steps of a sharded run (dedup-steps.c) and the `galley dedup` command
 * (dedup-commands.c). Not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-stage.h>

#include "dedup-index.h"
#include "dedup-passage.h"
#include "dedup-segment.h"
#include "dedup-shardfile.h"
#include "dedup-sig.h"

G_BEGIN_DECLS

#define NONE G_MAXUINT32
#define SIGS_PER_BLOCK 4096
#define MAX_BANDS 32

typedef struct {
  const char *id;         /* in ids */
  gint64      rowid;      /* index row: earlier runs from the start, this run's from finish() */
  guint32     parent;     /* union-find */
  guint32     rep;        /* at roots: the representative */
  guint32     length;     /* words */
  guint32     n_shingles;
  guint32     sig;        /* slot in the signature store, or NONE */
  guint32     stamp;      /* candidate de-duplication */
  guint64     exact;
  guint64     lede_key;
  guint8      external;   /* from an earlier run */
  guint8      exact_dup;  /* identical to an earlier document: no bands of its own */
} Entry;

/* One hash table per band (and one for the lede key) of this run's
 * documents. A slot is 4 bytes: the top 8 bits of the key's hash and the
 * entry index; keys are not kept (a fingerprint match is a candidate, and
 * every candidate is verified), and growing recomputes them from the
 * stored signatures, in entry order. */
#define SLOT_EMPTY G_MAXUINT32
#define SLOT_IDX_BITS 24
#define MAX_RUN_ENTRIES ((1u << SLOT_IDX_BITS) - 1)
typedef struct { guint32 *slots; gsize size, used; } BandTable;
typedef struct { guint64 key; guint32 idx, pad; } ExactSlot;

typedef struct { guint32 off, n; } PassageSpan;

typedef struct {
  /* options */
  gboolean        annotate;
  gboolean        longest;
  double          threshold;
  double          containment;
  gint64          min_words;
  gboolean        paragraphs;
  double          para_threshold;
  char           *state_dir;
  gboolean        mkdir;
  GTimeSpan       window;
  GTimeSpan       lock_timeout;
  DedupSigParams  params;
  gboolean        dry_run;

  /* per-run state */
  DedupScratch   *scratch;      /* process() without an earlier prepare() */
  GAsyncQueue    *pool;         /* DedupScratch for prepare() on the workers */
  GArray         *entries;      /* Entry */
  GStringChunk   *ids;
  GPtrArray      *sig_blocks;   /* guint16[SIGS_PER_BLOCK * k] */
  guint32         n_sigs;
  BandTable       tables[MAX_BANDS + 1];
  ExactSlot      *exact;
  gsize           exact_size, exact_used;
  GHashTable     *external;     /* rowid -> idx + 1 (0 marks "not usable") */
  GArray         *cand;         /* guint32 */
  GArray         *rowids;       /* gint64 */
  guint32         stamp;
  guint           n_rejected;   /* index candidates this document failed to match */
  gint64          started;      /* unix seconds */
  gint64          min_seen;
  gint64          n_in_run;
  gint64          n_duplicates;

  /* persistence */
  DedupIndex     *index;
  int             lock_fd;
  gboolean        commit_pending;
  char           *stage_id;
  GalleyStageContext *ctx;      /* valid until after free() */

  /* shard mode (docs/scale-out.md) */
  int             shard_mode;   /* SHARD_NONE, SHARD_MAP, SHARD_FILTER */
  guint           shard_index;
  char           *work_dir;
  guint32         local_seq;    /* documents this stage saw, in order */
  DedupShardWriter *sig_out;  /* map: signatures */
  GArray         *brecs[MAX_BANDS + 2]; /* map: DedupRecord of each band, the lede, the exact hash */
  GMappedFile    *decisions;    /* filter */
  /* while the run is traced (report=, galley explain): each entry's
   * sentence fingerprints, to show the passage a duplicate shares */
  gboolean        passages;
  GArray         *fp_store;     /* guint32 */
  GArray         *fp_spans;     /* PassageSpan, by entry; n 0: none kept */
  const guint8   *dnext, *dend;
} Dedup;

enum { SHARD_NONE, SHARD_MAP, SHARD_FILTER };

/* What the stage decides for one document; a sharded run's cluster step
 * computes the same (see "Shard mode" in docs/dedup.md). */
typedef enum { DECISION_NONE, DECISION_REPLACES, DECISION_EXACT, DECISION_NEAR } DecisionKind;
typedef struct {
  DecisionKind kind;
  double       similarity;
  double       containment;
  const char  *rep_id;     /* DECISION_EXACT, DECISION_NEAR */
  const char  *best_id;    /* the closest match, when it is not rep_id; or the replaced one */
  guint32      other;      /* DECISION_EXACT, DECISION_NEAR: the entry of best_id, or else rep_id; or NONE */
} Decision;

/* ---- the stage (galley-dedup.c) ------------------------------------------------------------ */

/* The options of @opts into @self, checked (GALLEY_CONFIG_ERROR). */
gboolean dedup_read_options (Dedup *self, const GalleyOptions *opts, GError **error);
void     dedup_free         (gpointer data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Dedup, dedup_free)

/* ---- this run's documents: entries, LSH tables, clusters (dedup-lsh.c) ----------------------- */

static inline guint64
dedup_mix (guint64 h)
{
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  h ^= h >> 33;
  return h;
}

static inline Entry *
dedup_entry (Dedup *self, guint32 idx)
{
  return &g_array_index (self->entries, Entry, idx);
}

/* The signature in slot @slot of the signature store. */
guint16 *dedup_sig_at    (Dedup *self, guint32 slot);
/* Copies @sig into the signature store; returns its slot. */
guint32  dedup_sig_store (Dedup *self, const guint16 *sig);

/* Adds the @n keys of entry @idx (the newest) to the band tables (the last
 * one is the lede key when there are more keys than bands). */
void     dedup_bands_add    (Dedup *self, const guint64 *keys, guint n, guint32 idx);
/* Starts a new candidate list in self->cand with the entries of this run
 * that share one of the @n_keys keys. */
void     dedup_bands_lookup (Dedup *self, const guint64 *keys, guint n_keys);

/* The entry of this run with exact hash @key, or NONE. */
guint32  dedup_exact_find (Dedup *self, guint64 key);
void     dedup_exact_add  (Dedup *self, guint64 key, guint32 idx);

/* A new entry (its own cluster); returns its index. */
guint32  dedup_add_entry     (Dedup *self, const char *id, gint64 rowid, gboolean external);
/* Adds @idx to the candidates in self->cand unless it is there already. */
void     dedup_add_candidate (Dedup *self, guint32 idx);
/* For g_array_sort_with_data() on entry indexes (data: the Dedup): earlier
 * runs first, then this run in input order. */
gint     dedup_cmp_order     (gconstpointer a, gconstpointer b, gpointer data);

/* Union-find of the clusters; the root holds the representative. */
guint32  dedup_find_root (Dedup *self, guint32 i);
void     dedup_join      (Dedup *self, guint32 a, guint32 b);

/* Joins entry @idx with its exact @match (or NONE) and every candidate in
 * self->cand (in document order) that passes the tests, and says what
 * becomes of it. */
void     dedup_decide (Dedup *self, guint32 idx, guint32 match, const guint16 *values, guint32 n_shingles,
                       Decision *out);

/* ---- the steps of a sharded run (dedup-steps.c) --------------------------------------------- */

/* galley dedup bucket: the groups of documents sharing a key of band @band. */
gboolean dedup_step_bucket      (GalleyShardStep *step, Dedup *self, guint band, GError **error);
/* galley dedup cluster: the decisions for the whole corpus. */
gboolean dedup_step_cluster     (GalleyShardStep *step, Dedup *self, GError **error);
/* galley dedup index merge: the run's documents into the index in @state_dir. */
gboolean dedup_step_index_merge (GalleyShardStep *step, Dedup *self, const char *state_dir, GError **error);

/* ---- galley dedup COMMAND (dedup-commands.c) ------------------------------------------------ */

int dedup_command (int argc, char **argv);

G_END_DECLS
