/* dedup-shardfile.h: the files a sharded run's dedup steps leave in the
 * work directory (docs/scale-out.md, "Shard mode" in docs/dedup.md).
 *
 * Every file starts with a header (magic, kind, payload length) and ends
 * with an XXH3 of the payload, so a truncated or damaged file is found
 * before it is used. The payload of each kind is a sequence of the
 * records below, in host byte order:
 *   dedup/sigs-I              DedupSigHead, id bytes, k MinHash values when near
 *   dedup/band-B/shard-I      DedupRecord (key, document), sorted by key
 *   dedup/groups-B            count, then count gseqs (shard << 32 | document)
 *   dedup/decisions-I         DedupDecisionHead, representative id, match id
 *   dedup/clusters            DedupClusterRec
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  DEDUP_SHARD_SIGS = 1,
  DEDUP_SHARD_BAND = 2,
  DEDUP_SHARD_GROUPS = 3,
  DEDUP_SHARD_DECISIONS = 4,
  DEDUP_SHARD_CLUSTERS = 5,
} DedupShardKind;

/* Bytes before the payload (magic, kind, length) and after it (XXH3). */
#define DEDUP_SHARD_HEADER_SIZE 24
#define DEDUP_SHARD_TRAILER_SIZE 8

/* One signature record: seq, length, shingles, near flag, exact hash, id
 * length, id bytes, then k values when near. */
typedef struct {
  guint32 seq, length, n_shingles, near;
  guint64 exact;
  guint32 id_len, pad;
} DedupSigHead;

/* One decision record: seq, kind, similarity, containment, then the
 * lengths and bytes of the representative's and the match's ids. */
typedef struct {
  guint32 seq, kind;
  double  similarity, containment;
  guint32 rep_len, best_len;
} DedupDecisionHead;

/* One record of dedup/clusters, for `galley dedup index merge`: a document
 * that shares a key with another, its cluster's final representative and
 * its decision; exact: it is an exact copy (no bands of its own). */
typedef struct {
  guint64 gseq, rep;
  guint32 kind, exact;
} DedupClusterRec;

/* Writes one file under a temporary name; commit() renames it into place. */
typedef struct _DedupShardWriter DedupShardWriter;

/* Creates @path's directory and a temporary file next to @path. */
DedupShardWriter *dedup_shard_writer_new    (const char *path, DedupShardKind kind, GError **error);
gboolean          dedup_shard_writer_add    (DedupShardWriter *w, const void *data, gsize len, GError **error);
/* Writes the trailer and the length, syncs and renames; frees @w. */
gboolean          dedup_shard_writer_commit (DedupShardWriter *w, GError **error);
/* Removes the temporary file and frees @w (NULL is fine). */
void              dedup_shard_writer_abort  (DedupShardWriter *w);

/* Maps @path and checks it; *payload and *len describe its content.
 * Errors: G_IO_ERROR_NOT_FOUND when it cannot be read,
 * G_IO_ERROR_INVALID_DATA when it is truncated or damaged. */
GMappedFile *dedup_shard_file_open (const char *path, DedupShardKind kind, const guint8 **payload, gsize *len,
                                    GError **error);

/* WORK/dedup/band-B/shard-I */
char *dedup_shard_band_path (const char *work, guint b, guint shard);
/* WORK/dedup/PREFIX-N */
char *dedup_shard_work_file (const char *work, const char *prefix, guint n);

/* Sorts 16-byte records that start with a 64-bit key by key, stably:
 * least significant digit first, 16 bits a pass, leaving out the passes in
 * which every key has the same digit (band keys are 41 bits). Records with
 * the same key keep their order, so records appended in document order come
 * out as (key, document). */
typedef struct { guint64 key, rest; } DedupKeyRec;
G_STATIC_ASSERT (sizeof (DedupKeyRec) == 16);

/* Buffers kept from one sort to the next. */
typedef struct {
  DedupKeyRec *tmp;
  gsize        cap;
  gsize       *count;
} DedupSortScratch;

void dedup_sort_scratch_clear (DedupSortScratch *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DedupSortScratch, dedup_sort_scratch_clear)
void dedup_shard_sort_by_key (DedupKeyRec *recs, gsize n, DedupSortScratch *s);

G_END_DECLS
