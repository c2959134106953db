/* dedup-segment.h: immutable sorted files of signatures and band keys.
 *
 * A segment holds the documents of one run (or of several, after a
 * merge): their MinHash signatures by document number, and every key that
 * finds them (LSH band keys, lede keys, exact-hash keys) as fixed-size
 * (key, document) records sorted by key. The key carries its band in the
 * top bits (see DEDUP_BAND_SHIFT), so each band is one sorted range.
 *
 * Nothing here knows SQLite or the stage: segments are written once
 * (temporary name, fsync, rename) and read through mmap, so a shard made
 * on another machine is just another file to register or merge.
 *
 * Layout, little-endian host order, every section 8-byte aligned:
 *   header (64 bytes)  magic "GLYDDSEG", version, k, n_docs, n_recs,
 *                      first and last document number
 *   docs               guint32[n_docs], ascending document numbers
 *   shingles           guint32[n_docs], shingles of each (for containment)
 *   sigs               guint16[n_docs * k], in the order of docs
 *   keys               guint64[n_recs], ascending (ties: by document)
 *   recdocs            guint32[n_recs], the document of each key
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DEDUP_SEGMENT_VERSION 1

typedef struct _DedupSegment DedupSegment;
typedef struct _DedupSegmentWriter DedupSegmentWriter;

/* Writing. The counts are fixed up front; docs come in ascending order,
 * records in ascending key order. */
DedupSegmentWriter *dedup_segment_writer_new (const char *dir, guint k, guint64 n_docs, guint64 n_recs,
                                              GError **error);
gboolean  dedup_segment_writer_add_doc    (DedupSegmentWriter *w, guint32 doc, const guint16 *sig,
                                           guint32 n_shingles, GError **error);
gboolean  dedup_segment_writer_add_record (DedupSegmentWriter *w, guint64 key, guint32 doc, GError **error);
/* Writes the header, fsyncs, renames to DIR/@name and fsyncs DIR. */
gboolean  dedup_segment_writer_commit     (DedupSegmentWriter *w, const char *name, GError **error);
/* Removes the temporary file (also done by free without commit). */
void      dedup_segment_writer_free       (DedupSegmentWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DedupSegmentWriter, dedup_segment_writer_free)

/* Reading (mmap). Fails with G_IO_ERROR_INVALID_DATA on a damaged file. */
DedupSegment *dedup_segment_open  (const char *path, guint k, GError **error);
void          dedup_segment_close (DedupSegment *seg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DedupSegment, dedup_segment_close)

guint64  dedup_segment_n_docs  (const DedupSegment *seg);
guint64  dedup_segment_n_recs  (const DedupSegment *seg);
guint32  dedup_segment_first   (const DedupSegment *seg);
guint32  dedup_segment_last    (const DedupSegment *seg);
gsize    dedup_segment_bytes   (const DedupSegment *seg);
/* Appends the documents stored under @key to @out (gint64). */
void     dedup_segment_lookup  (const DedupSegment *seg, guint64 key, GArray *out);
/* The signature of document @doc (k values in the mapping) and its number
 * of shingles; FALSE when the segment does not hold it. */
gboolean dedup_segment_doc     (const DedupSegment *seg, guint32 doc, const guint16 **sig, guint32 *n_shingles);

/* Merges @n segments into one new file DIR/@name, keeping the documents
 * (and their records) for which @keep returns TRUE. */
typedef gboolean (*DedupKeepFunc) (guint32 doc, gpointer data);
gboolean dedup_segment_merge (DedupSegment **segs, guint n, guint k, const char *dir, const char *name,
                              DedupKeepFunc keep, gpointer data, guint64 *n_docs, guint64 *n_recs,
                              GError **error);

typedef struct { guint64 key; guint32 doc, pad; } DedupRecord;

/* Sorts @n records by key, keeping the order of equal keys (radix sort on
 * the low DEDUP_BAND_SHIFT bits: all records must be of one band). */
void     dedup_sort_records    (DedupRecord *recs, gsize n);

G_END_DECLS
