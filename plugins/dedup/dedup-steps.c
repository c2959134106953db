/* dedup-steps.c: the global steps of a sharded run of the dedup stage
 * (docs/scale-out.md, "Shard mode" in docs/dedup.md). After the map step
 * of every shard: bucket (one per band) finds the documents of all shards
 * that share a key, cluster replays the stage's decisions for them in
 * document order, and index merge adds the run's documents to a
 * persistent index. The files they read and write are in
 * dedup-shardfile.c; the command line that runs them in dedup-commands.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dedup-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A document that shares a key with another, in the cluster step. They
 * are kept in an array sorted by gseq, and a document's position in it (its
 * rank) is also its entry in the replay. */
typedef struct {
  guint64  gseq;        /* shard << 32 | position in the shard */
  guint32  exact_first; /* rank of the first document with the same exact hash, or NONE */
  guint32  sig;         /* slot in the signature store, or NONE */
  guint32  kind;        /* its decision (DecisionKind) */
  guint8   have;        /* its signature record was read */
  guint8   near;
} Involved;

/* One shard's band file in the bucket step's merge. */
typedef struct {
  const guint8 *data;
  gsize         n, next;   /* records, the next one */
  guint         shard;
  GMappedFile  *m;
} BandRun;

static inline guint64
band_run_key (const BandRun *r)
{
  guint64 key;
  memcpy (&key, r->data + r->next * sizeof (DedupRecord), 8);
  return key;
}

/* Whether run @a's next record comes before run @b's: by key, then shard. */
static inline gboolean
band_run_before (const BandRun *a, const BandRun *b)
{
  guint64 ka = band_run_key (a), kb = band_run_key (b);
  return ka < kb || (ka == kb && a->shard < b->shard);
}

static void
band_heap_down (BandRun **heap, guint n, guint i)
{
  for (;;)
    {
      guint l = 2 * i + 1, best = i;
      if (l < n && band_run_before (heap[l], heap[best]))
        best = l;
      if (l + 1 < n && band_run_before (heap[l + 1], heap[best]))
        best = l + 1;
      if (best == i)
        return;
      BandRun *t = heap[i];
      heap[i] = heap[best];
      heap[best] = t;
      i = best;
    }
}

/* Band @band of every shard: groups of two or more documents that share a
 * key, written as count, then the documents in gseq order. Each shard's
 * band file is sorted by (key, document); they are merged as they are
 * read (a heap of the shards, the earlier shard first on equal keys). */
gboolean
dedup_step_bucket (GalleyShardStep *step, Dedup *self, guint band, GError **error)
{
  const char *work = galley_shard_step_get_work_dir (step);
  guint n = galley_shard_step_get_shards (step);
  g_autofree BandRun *runs = g_new0 (BandRun, MAX (n, 1));
  g_autofree BandRun **heap = g_new (BandRun *, MAX (n, 1));
  guint nh = 0;
  gboolean ok = TRUE;
  guint64 total = 0;
  for (guint i = 0; i < n && ok; i++)
    {
      g_autofree char *path = dedup_shard_band_path (work, band, i);
      gsize len;
      runs[i].shard = i;
      runs[i].m = dedup_shard_file_open (path, DEDUP_SHARD_BAND, &runs[i].data, &len, error);
      if (runs[i].m == NULL)
        {
          ok = FALSE;
          break;
        }
      runs[i].n = len / sizeof (DedupRecord);
      total += runs[i].n;
      /* the merge needs each file sorted */
      for (gsize j = 1; j < runs[i].n; j++)
        {
          DedupRecord x, y;
          memcpy (&x, runs[i].data + (j - 1) * sizeof (DedupRecord), sizeof x);
          memcpy (&y, runs[i].data + j * sizeof (DedupRecord), sizeof y);
          if (y.key < x.key || (y.key == x.key && y.doc <= x.doc))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s is not sorted: run the map step of shard %u again", path, i);
              ok = FALSE;
              break;
            }
        }
      if (runs[i].n > 0)
        heap[nh++] = &runs[i];
    }
  DedupShardWriter *w = NULL;
  g_autofree char *out = dedup_shard_work_file (work, "groups", band);
  if (ok)
    ok = (w = dedup_shard_writer_new (out, DEDUP_SHARD_GROUPS, error)) != NULL;
  for (guint i = nh; ok && i-- > 0;)
    band_heap_down (heap, nh, i);
  g_autoptr(GArray) group = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 groups = 0, key = 0;
  while (ok && (nh > 0 || group->len > 0))
    {
      gboolean more = nh > 0;
      guint64 k = more ? band_run_key (heap[0]) : 0;
      if (group->len > 0 && (!more || k != key))
        {
          /* the group of @key is complete */
          if (group->len >= 2)
            {
              guint64 count = group->len;
              ok = dedup_shard_writer_add (w, &count, 8, error)
                   && dedup_shard_writer_add (w, group->data, (gsize) group->len * 8, error);
              groups++;
            }
          g_array_set_size (group, 0);
        }
      if (!more)
        break;
      BandRun *r = heap[0];
      DedupRecord rec;
      memcpy (&rec, r->data + r->next * sizeof (DedupRecord), sizeof rec);
      guint64 gseq = (guint64) r->shard << 32 | rec.doc;
      g_array_append_val (group, gseq);
      key = k;
      if (++r->next == r->n)
        heap[0] = heap[--nh];
      band_heap_down (heap, nh, 0);
    }
  for (guint i = 0; i < n; i++)
    g_clear_pointer (&runs[i].m, g_mapped_file_unref);
  if (!ok)
    {
      dedup_shard_writer_abort (w);
      return FALSE;
    }
  if (!dedup_shard_writer_commit (w, error))
    return FALSE;
  g_autofree char *rel = g_strdup_printf ("dedup/groups-%u", band);
  const char *outputs[] = { rel, NULL };
  g_info ("band %u: %" G_GUINT64_FORMAT " keys, %" G_GUINT64_FORMAT " groups", band, total, groups);
  return galley_shard_step_done (step, outputs, error);
}

/* gseq -> rank of the documents the cluster step holds: open addressing
 * on a mix of the whole key (shard and position). */
#define GSEQ_EMPTY G_MAXUINT64
typedef struct {
  guint64 *keys;
  guint32 *vals;
  gsize    size, used;
} GseqMap;

static void
gseq_map_clear (GseqMap *m)
{
  g_clear_pointer (&m->keys, g_free);
  g_clear_pointer (&m->vals, g_free);
  m->size = m->used = 0;
}

static gsize
gseq_map_slot (const GseqMap *m, guint64 gseq)
{
  gsize j = dedup_mix (gseq) & (m->size - 1);
  while (m->keys[j] != GSEQ_EMPTY && m->keys[j] != gseq)
    j = (j + 1) & (m->size - 1);
  return j;
}

static void
gseq_map_add (GseqMap *m, guint64 gseq)
{
  if ((m->used + 1) * 2 > m->size)
    {
      GseqMap old = *m;
      m->size = MAX (old.size * 2, 1024);
      m->keys = g_new (guint64, m->size);
      m->vals = g_new0 (guint32, m->size);
      memset (m->keys, 0xff, m->size * sizeof (guint64));
      for (gsize i = 0; i < old.size; i++)
        if (old.keys[i] != GSEQ_EMPTY)
          m->keys[gseq_map_slot (m, old.keys[i])] = old.keys[i];
      gseq_map_clear (&old);
    }
  gsize j = gseq_map_slot (m, gseq);
  if (m->keys[j] == GSEQ_EMPTY)
    {
      m->keys[j] = gseq;
      m->used++;
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GseqMap, gseq_map_clear)

static int
cmp_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* What the cluster step holds between its phases. */
typedef struct {
  GseqMap   map;        /* gseq -> rank, until the groups are ranks */
  /* the band and lede groups: group g's members are
   * members[starts[g]..starts[g + 1]), in gseq order */
  GArray   *members;    /* guint64 gseqs */
  GArray   *starts;     /* guint32 */
  /* the exact groups: (document, first document of its group) */
  GArray   *exacts;     /* guint64 pairs */
  guint32   n_inv;      /* documents that share a key with another */
  Involved *inv;        /* by rank */
  guint32  *mrank;      /* the members as ranks */
  guint32  *gstart;     /* each document's groups: gof[gstart[r]..gstart[r + 1]) */
  guint32  *gof;
  guint16  *values;     /* a signature */
} ClusterWork;

static void
cluster_work_clear (ClusterWork *cw)
{
  gseq_map_clear (&cw->map);
  g_clear_pointer (&cw->members, g_array_unref);
  g_clear_pointer (&cw->starts, g_array_unref);
  g_clear_pointer (&cw->exacts, g_array_unref);
  g_clear_pointer (&cw->inv, g_free);
  g_clear_pointer (&cw->mrank, g_free);
  g_clear_pointer (&cw->gstart, g_free);
  g_clear_pointer (&cw->gof, g_free);
  g_clear_pointer (&cw->values, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ClusterWork, cluster_work_clear)

/* Reads the groups of the @nb bucket steps: the last band is the exact hash. */
static gboolean
read_groups (const char *work, guint nb, ClusterWork *cw, GError **error)
{
  cw->members = g_array_new (FALSE, FALSE, sizeof (guint64));
  cw->starts = g_array_new (FALSE, FALSE, sizeof (guint32));
  cw->exacts = g_array_new (FALSE, FALSE, sizeof (guint64));
  for (guint b = 0; b < nb; b++)
    {
      g_autofree char *path = dedup_shard_work_file (work, "groups", b);
      const guint8 *data;
      gsize len;
      g_autoptr(GMappedFile) m = dedup_shard_file_open (path, DEDUP_SHARD_GROUPS, &data, &len, error);
      if (m == NULL)
        return FALSE;
      for (gsize off = 0; off + 8 <= len;)
        {
          guint64 count;
          memcpy (&count, data + off, 8);
          off += 8;
          if (count < 2 || count > (len - off) / 8)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: bad group", path);
              return FALSE;
            }
          const guint8 *g = data + off;
          off += count * 8;
          guint64 first;
          memcpy (&first, g, 8);
          if (b == nb - 1)
            {
              gseq_map_add (&cw->map, first);
              for (guint64 k = 1; k < count; k++)
                {
                  guint64 gs;
                  memcpy (&gs, g + k * 8, 8);
                  gseq_map_add (&cw->map, gs);
                  g_array_append_val (cw->exacts, gs);
                  g_array_append_val (cw->exacts, first);
                }
              continue;
            }
          if (cw->members->len + count >= G_MAXUINT32)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: more than 2^32 group members", path);
              return FALSE;
            }
          guint32 start = cw->members->len;
          g_array_append_val (cw->starts, start);
          for (guint64 k = 0; k < count; k++)
            {
              guint64 gs;
              memcpy (&gs, g + k * 8, 8);
              g_array_append_val (cw->members, gs);
              gseq_map_add (&cw->map, gs);
            }
        }
    }
  guint32 end = cw->members->len;
  g_array_append_val (cw->starts, end);
  return TRUE;
}

/* Ranks the documents in gseq order, and turns the groups into ranks. */
static void
rank_documents (ClusterWork *cw)
{
  GseqMap *map = &cw->map;
  guint32 n_groups = cw->starts->len - 1;
  guint32 end = cw->members->len;
  guint32 n_inv = cw->n_inv = map->used;
  Involved *inv = cw->inv = g_new0 (Involved, MAX (n_inv, 1));
  {
    g_autofree guint64 *sorted = g_new (guint64, MAX (n_inv, 1));
    guint32 k = 0;
    for (gsize j = 0; j < map->size; j++)
      if (map->keys[j] != GSEQ_EMPTY)
        sorted[k++] = map->keys[j];
    qsort (sorted, n_inv, sizeof (guint64), cmp_u64);
    for (guint32 r = 0; r < n_inv; r++)
      {
        inv[r] = (Involved) { .gseq = sorted[r], .exact_first = NONE, .sig = NONE };
        map->vals[gseq_map_slot (map, sorted[r])] = r;
      }
  }
#define RANK(gs) (map->vals[gseq_map_slot (map, (gs))])
  for (guint i = 0; i < cw->exacts->len; i += 2)
    inv[RANK (g_array_index (cw->exacts, guint64, i))].exact_first = RANK (g_array_index (cw->exacts, guint64, i + 1));
  /* members as ranks, in place (a rank takes half a gseq's room), and
   * each document's groups (CSR: gof[gstart[r]..gstart[r + 1])) */
  guint32 *m32 = (guint32 *) cw->members->data;
  for (guint32 k = 0; k < end; k++)
    m32[k] = RANK (g_array_index (cw->members, guint64, k));
#undef RANK
  gseq_map_clear (map);
  /* the half of the room the gseqs took back */
  guint32 *mrank = cw->mrank = g_realloc (g_array_free (g_steal_pointer (&cw->members), FALSE),
                                          MAX (end, 1) * sizeof (guint32));
  guint32 *gstart = cw->gstart = g_new0 (guint32, (gsize) n_inv + 1);
  for (guint32 k = 0; k < end; k++)
    gstart[mrank[k] + 1]++;
  for (guint32 r = 0; r < n_inv; r++)
    gstart[r + 1] += gstart[r];
  cw->gof = g_new (guint32, MAX (end, 1));
  g_autofree guint32 *fill = g_memdup2 (gstart, ((gsize) n_inv + 1) * sizeof (guint32));
  for (guint32 g = 0; g < n_groups; g++)
    for (guint32 k = g_array_index (cw->starts, guint32, g); k < g_array_index (cw->starts, guint32, g + 1); k++)
      cw->gof[fill[mrank[k]]++] = g;
}

/* Reads the signatures of the documents involved, in gseq order (shard by
 * shard, each file in document order): they become the replay's entries. */
static gboolean
read_signatures (Dedup *self, const char *work, guint n, ClusterWork *cw, GError **error)
{
  Involved *inv = cw->inv;
  guint32 n_inv = cw->n_inv;
  guint16 *values = cw->values;
  guint32 next = 0;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = dedup_shard_work_file (work, "sigs", i);
      const guint8 *data;
      gsize len;
      g_autoptr(GMappedFile) m = dedup_shard_file_open (path, DEDUP_SHARD_SIGS, &data, &len, error);
      if (m == NULL)
        return FALSE;
      /* the file is read once, front to back: its pages are let go behind
       * the reader (the checksum read them all), so that the step's memory
       * is the documents with a candidate, not a shard's signatures */
      guint8 *base = (guint8 *) g_mapped_file_get_contents (m);
      gsize page = sysconf (_SC_PAGESIZE), kept = 0;
      madvise (base, len + 32, MADV_DONTNEED);
      for (gsize off = 0; off < len;)
        {
          DedupSigHead h;
          if (off - kept >= (8u << 20))
            {
              gsize upto = (gsize) (data + off - base) / page * page;
              madvise (base, upto, MADV_DONTNEED);
              kept = off;
            }
          if (len - off < sizeof h)
            goto bad;
          memcpy (&h, data + off, sizeof h);
          off += sizeof h;
          gsize vlen = h.near ? self->params.k * sizeof (guint16) : 0;
          if (len - off < (gsize) h.id_len + vlen)
            goto bad;
          guint64 gs = (guint64) i << 32 | h.seq;
          if (next < n_inv && inv[next].gseq < gs)
            goto missing;
          if (next < n_inv && inv[next].gseq == gs)
            {
              Involved *v = &inv[next];
              v->have = TRUE;
              v->near = h.near;
              g_autofree char *id = g_strndup ((const char *) data + off, h.id_len);
              guint32 idx = dedup_add_entry (self, id, 0, FALSE);
              g_assert (idx == next);
              Entry *e = dedup_entry (self, idx);
              e->length = h.length;
              e->n_shingles = h.n_shingles;
              if (h.near)
                {
                  memcpy (values, data + off + h.id_len, vlen);
                  v->sig = dedup_sig_store (self, values);
                }
              next++;
            }
          off += h.id_len + vlen;
          continue;
        bad:
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: bad record", path);
          return FALSE;
        }
      if (next < n_inv && inv[next].gseq >> 32 == i)
        goto missing;
    }
  if (next < n_inv)
    {
    missing:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "document %u of shard %u is in a band file but not in its signature file",
                   (guint) (inv[next].gseq & G_MAXUINT32), (guint) (inv[next].gseq >> 32));
      return FALSE;
    }
  return TRUE;
}

/* Replays the stage's decision for each document involved, in document
 * order, and writes the decisions of each of the @n shards. */
static gboolean
replay (Dedup *self, const char *work, guint n, ClusterWork *cw, guint64 *decided, GError **error)
{
  Involved *inv = cw->inv;
  guint16 *values = cw->values;
  g_autoptr(GPtrArray) outs = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = dedup_shard_work_file (work, "decisions", i);
      DedupShardWriter *w = dedup_shard_writer_new (path, DEDUP_SHARD_DECISIONS, error);
      if (w == NULL)
        {
          for (guint j = 0; j < outs->len; j++)
            dedup_shard_writer_abort (g_ptr_array_index (outs, j));
          return FALSE;
        }
      g_ptr_array_add (outs, w);
    }
  gboolean ok = TRUE;
  for (guint32 r = 0; r < cw->n_inv && ok; r++)
    {
      Involved *v = &inv[r];
      guint32 match = v->exact_first;
      gboolean exact = match != NONE;
      g_array_set_size (self->cand, 0);
      self->stamp++;
      if (!exact && v->near)
        {
          for (guint32 gi = cw->gstart[r]; gi < cw->gstart[r + 1]; gi++)
            {
              guint32 g = cw->gof[gi];
              /* members in document order: the earlier ones */
              for (guint32 k = g_array_index (cw->starts, guint32, g); k < g_array_index (cw->starts, guint32, g + 1);
                   k++)
                {
                  guint32 other = cw->mrank[k];
                  if (other >= r)
                    break;
                  dedup_add_candidate (self, other);
                }
            }
          g_array_sort_with_data (self->cand, dedup_cmp_order, self);
        }
      Entry *e = dedup_entry (self, r);
      e->exact_dup = exact;
      Decision d;
      if (v->sig != NONE)
        memcpy (values, dedup_sig_at (self, v->sig), self->params.k * sizeof (guint16));
      dedup_decide (self, r, match, values, e->n_shingles, &d);
      if (v->near && !exact)
        dedup_entry (self, r)->sig = v->sig;
      v->kind = d.kind;
      if (d.kind == DECISION_NONE)
        continue;
      DedupDecisionHead h = { (guint32) (v->gseq & G_MAXUINT32), d.kind, d.similarity, d.containment,
                         d.rep_id ? strlen (d.rep_id) : 0, d.best_id ? strlen (d.best_id) : 0 };
      DedupShardWriter *w = g_ptr_array_index (outs, v->gseq >> 32);
      ok = dedup_shard_writer_add (w, &h, sizeof h, error) && dedup_shard_writer_add (w, d.rep_id, h.rep_len, error)
           && dedup_shard_writer_add (w, d.best_id, h.best_len, error);
      (*decided)++;
    }
  for (guint i = 0; i < n; i++)
    {
      DedupShardWriter *w = g_ptr_array_index (outs, i);
      if (!ok)
        dedup_shard_writer_abort (w);
      else
        ok = dedup_shard_writer_commit (w, error);
    }
  return ok;
}

/* Writes dedup/clusters: the final cluster of each document involved
 * (entry r is the document of rank r). */
static gboolean
write_clusters (Dedup *self, const char *work, const ClusterWork *cw, GError **error)
{
  const Involved *inv = cw->inv;
  g_autofree char *cpath = g_build_filename (work, "dedup", "clusters", NULL);
  DedupShardWriter *w = dedup_shard_writer_new (cpath, DEDUP_SHARD_CLUSTERS, error);
  if (w == NULL)
    return FALSE;
  gboolean ok = TRUE;
  for (guint32 r = 0; r < cw->n_inv && ok; r++)
    {
      const Involved *v = &inv[r];
      DedupClusterRec c = { v->gseq, inv[dedup_entry (self, dedup_find_root (self, r))->rep].gseq, v->kind,
                            v->exact_first != NONE };
      ok = dedup_shard_writer_add (w, &c, sizeof c, error);
    }
  if (!ok)
    {
      dedup_shard_writer_abort (w);
      return FALSE;
    }
  return dedup_shard_writer_commit (w, error);
}

/* The one global step: replays the stage's decisions for the documents
 * that share a key with another, in document order. */
gboolean
dedup_step_cluster (GalleyShardStep *step, Dedup *self, GError **error)
{
  const char *work = galley_shard_step_get_work_dir (step);
  guint n = galley_shard_step_get_shards (step);
  g_auto(ClusterWork) cw = { 0 };
  guint64 decided = 0;
  if (!read_groups (work, self->params.bands + 2, &cw, error))
    return FALSE;
  rank_documents (&cw);
  cw.values = g_new (guint16, self->params.k);
  if (!read_signatures (self, work, n, &cw, error) || !replay (self, work, n, &cw, &decided, error)
      || !write_clusters (self, work, &cw, error))
    return FALSE;
  g_autoptr(GPtrArray) rels = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (rels, g_strdup_printf ("dedup/decisions-%u", i));
  g_ptr_array_add (rels, g_strdup ("dedup/clusters"));
  g_ptr_array_add (rels, NULL);
  g_info ("cluster: %u documents share a key with another, %" G_GUINT64_FORMAT " decisions", cw.n_inv, decided);
  return galley_shard_step_done (step, (const char *const *) rels->pdata, error);
}

/* ---- galley dedup index merge: a sharded run's documents into a state-dir ------------------ */

/* What identifies a backfill: the pipeline and the signature files of its
 * map steps (their checksums), so merging the same one twice adds nothing. */
static char *
backfill_key (const char *work, guint n, GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *wpath = g_build_filename (work, "work.json", NULL);
  g_autofree char *wdata = NULL;
  if (!g_file_get_contents (wpath, &wdata, NULL, error))
    return NULL;
  g_checksum_update (sum, (const guchar *) wdata, -1);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = dedup_shard_work_file (work, "sigs", i);
      const guint8 *data;
      gsize len;
      g_autoptr(GMappedFile) m = dedup_shard_file_open (path, DEDUP_SHARD_SIGS, &data, &len, error);
      if (m == NULL)
        return NULL;
      g_checksum_update (sum, data - 24, 24);                          /* header */
      g_checksum_update (sum, data + len, 8);                          /* XXH3 of the payload */
    }
  return g_strconcat ("backfill:", g_checksum_get_string (sum), NULL);
}

typedef struct {
  GArray *seqs;        /* guint32: the documents of the shard with a signature record, in order */
  gint64  base;        /* rowid of the first, minus one */
} ShardDocs;

/* The rowid the merge gives document @gseq, or 0 when it has none. */
static gint64
rowid_of (const ShardDocs *sd, guint n, guint64 gseq)
{
  guint shard = gseq >> 32;
  guint32 seq = gseq & G_MAXUINT32;
  if (shard >= n)
    return 0;
  const GArray *a = sd[shard].seqs;
  guint lo = 0, hi = a->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (a, guint32, mid) < seq)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < a->len && g_array_index (a, guint32, lo) == seq ? sd[shard].base + 1 + lo : 0;
}

static gboolean
bad_sigs (const char *path, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: bad record", path);
  return FALSE;
}

/* What index merge holds between its phases. */
typedef struct {
  guint         n, k, nb;     /* shards, MinHash values, keyspaces */
  GMappedFile  *cm;           /* dedup/clusters */
  GHashTable   *clusters;     /* gseq -> its DedupClusterRec in cm */
  gint64        duplicates;
  ShardDocs    *sd;           /* [n] */
  GPtrArray    *maps;         /* GMappedFile: the signature file of each shard */
  GPtrArray    *paths;        /* their paths */
  gint64        base, next;   /* rowids: the last before the merge, the last of it */
  guint64       n_sigs;
} MergeWork;

static void
merge_work_clear (MergeWork *mw)
{
  for (guint i = 0; mw->sd != NULL && i < mw->n; i++)
    if (mw->sd[i].seqs != NULL)
      g_array_unref (mw->sd[i].seqs);
  g_clear_pointer (&mw->sd, g_free);
  g_clear_pointer (&mw->clusters, g_hash_table_unref);
  g_clear_pointer (&mw->cm, g_mapped_file_unref);
  g_clear_pointer (&mw->maps, g_ptr_array_unref);
  g_clear_pointer (&mw->paths, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MergeWork, merge_work_clear)

/* Reads the clusters the cluster step decided. */
static gboolean
read_clusters (const char *work, MergeWork *mw, GError **error)
{
  g_autofree char *cpath = g_build_filename (work, "dedup", "clusters", NULL);
  const guint8 *cdata;
  gsize clen;
  mw->cm = dedup_shard_file_open (cpath, DEDUP_SHARD_CLUSTERS, &cdata, &clen, error);
  if (mw->cm == NULL)
    return FALSE;
  if (clen % sizeof (DedupClusterRec) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: bad length", cpath);
      return FALSE;
    }
  const DedupClusterRec *crecs = (const DedupClusterRec *) cdata;
  gsize n_crecs = clen / sizeof (DedupClusterRec);
  mw->clusters = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (gsize i = 0; i < n_crecs; i++)
    {
      g_hash_table_insert (mw->clusters, (gpointer) &crecs[i].gseq, (gpointer) &crecs[i]);
      mw->duplicates += crecs[i].kind == DECISION_EXACT || crecs[i].kind == DECISION_NEAR;
    }
  return TRUE;
}

/* Numbers the documents of every shard's signature file, in shard order,
 * after mw->base, and counts the signatures the segment takes. */
static gboolean
number_documents (const char *work, MergeWork *mw, GError **error)
{
  guint n = mw->n, k = mw->k;
  GHashTable *clusters = mw->clusters;
  ShardDocs *sd = mw->sd = g_new0 (ShardDocs, n);
  GPtrArray *maps = mw->maps = g_ptr_array_new_with_free_func ((GDestroyNotify) g_mapped_file_unref);
  GPtrArray *paths = mw->paths = g_ptr_array_new_with_free_func (g_free);
  gint64 next = mw->base;
  guint64 n_sigs = 0;
  gboolean ok = TRUE;
  for (guint i = 0; i < n && ok; i++)
    {
      char *path = dedup_shard_work_file (work, "sigs", i);
      g_ptr_array_add (paths, path);
      const guint8 *data;
      gsize len;
      GMappedFile *m = dedup_shard_file_open (path, DEDUP_SHARD_SIGS, &data, &len, error);
      if (m == NULL)
        {
          ok = FALSE;
          break;
        }
      g_ptr_array_add (maps, m);
      sd[i].seqs = g_array_new (FALSE, FALSE, sizeof (guint32));
      sd[i].base = next;
      for (gsize off = 0; off < len;)
        {
          DedupSigHead h;
          if (len - off < sizeof h)
            {
              ok = bad_sigs (path, error);
              break;
            }
          memcpy (&h, data + off, sizeof h);
          gsize vlen = h.near ? k * sizeof (guint16) : 0;
          if (len - off - sizeof h < (gsize) h.id_len + vlen
              || (sd[i].seqs->len > 0 && g_array_index (sd[i].seqs, guint32, sd[i].seqs->len - 1) >= h.seq))
            {
              ok = bad_sigs (path, error);
              break;
            }
          off += sizeof h + h.id_len + vlen;
          g_array_append_val (sd[i].seqs, h.seq);
          guint64 gs = (guint64) i << 32 | h.seq;
          const DedupClusterRec *c = g_hash_table_lookup (clusters, &gs);
          n_sigs += h.near && !(c != NULL && c->exact);
        }
      next += sd[i].seqs->len;
    }
  if (ok && next > G_MAXUINT32)
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE,
                   "the index would hold more than %u document numbers; merge fewer documents", G_MAXUINT32);
      ok = FALSE;
    }
  mw->next = next;
  mw->n_sigs = n_sigs;
  return ok;
}

/* Writes one segment file with the signatures and the keys of each
 * keyspace, from every shard's band file, without exact copies (as a plain
 * run leaves them out), and adds it to the index. */
static gboolean
write_segment (Dedup *self, DedupIndex *ix, const char *work, MergeWork *mw, GError **error)
{
  guint n = mw->n, k = mw->k, nb = mw->nb;
  GHashTable *clusters = mw->clusters;
  const ShardDocs *sd = mw->sd;
  GPtrArray *maps = mw->maps;
  gint64 base = mw->base, next = mw->next;
  guint64 n_sigs = mw->n_sigs;
  gboolean ok = TRUE;
  g_autoptr(GArray) recs = g_array_new (FALSE, FALSE, sizeof (DedupRecord));
  guint64 n_recs = 0;
  for (guint pass = 0; pass < 2 && ok; pass++)
    {
      g_autoptr(DedupSegmentWriter) w = NULL;
      if (pass == 1)
        {
          w = dedup_segment_writer_new (dedup_index_dir (ix), k, n_sigs, n_recs, error);
          if (w == NULL)
            {
              ok = FALSE;
              break;
            }
          for (guint i = 0; i < n && ok; i++)
            {
              const guint8 *data = (const guint8 *) g_mapped_file_get_contents (g_ptr_array_index (maps, i)) + 24;
              gsize len = g_mapped_file_get_length (g_ptr_array_index (maps, i)) - 32;
              for (gsize off = 0, j = 0; off < len && ok; j++)
                {
                  DedupSigHead h;
                  memcpy (&h, data + off, sizeof h);
                  gsize vlen = h.near ? k * sizeof (guint16) : 0;
                  guint64 gs = (guint64) i << 32 | h.seq;
                  const DedupClusterRec *c = g_hash_table_lookup (clusters, &gs);
                  if (h.near && !(c != NULL && c->exact))
                    {
                      g_autofree guint16 *sig = g_memdup2 (data + off + sizeof h + h.id_len, vlen);
                      ok = dedup_segment_writer_add_doc (w, (guint32) (sd[i].base + 1 + j), sig, h.n_shingles, error);
                    }
                  off += sizeof h + h.id_len + vlen;
                }
            }
        }
      for (guint b = 0; b < nb && ok; b++)
        {
          g_array_set_size (recs, 0);
          for (guint i = 0; i < n && ok; i++)
            {
              g_autofree char *path = dedup_shard_band_path (work, b, i);
              const guint8 *data;
              gsize len;
              g_autoptr(GMappedFile) m = dedup_shard_file_open (path, DEDUP_SHARD_BAND, &data, &len, error);
              if (m == NULL)
                {
                  ok = FALSE;
                  break;
                }
              for (gsize off = 0; off + sizeof (DedupRecord) <= len; off += sizeof (DedupRecord))
                {
                  DedupRecord r;
                  memcpy (&r, data + off, sizeof r);
                  guint64 gs = (guint64) i << 32 | r.doc;
                  const DedupClusterRec *c = g_hash_table_lookup (clusters, &gs);
                  if (c != NULL && c->exact)
                    continue;
                  gint64 rowid = rowid_of (sd, n, gs);
                  if (rowid == 0)
                    {
                      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   "%s: document %u is not in the signature file of shard %u", path, r.doc, i);
                      ok = FALSE;
                      break;
                    }
                  DedupRecord out = { b == nb - 1 ? dedup_exact_key (&self->params, r.key) : r.key, (guint32) rowid, 0 };
                  g_array_append_val (recs, out);
                }
            }
          if (!ok)
            break;
          if (pass == 0)
            {
              n_recs += recs->len;
              continue;
            }
          dedup_sort_records ((DedupRecord *) recs->data, recs->len);
          for (guint j = 0; j < recs->len && ok; j++)
            {
              const DedupRecord *r = &g_array_index (recs, DedupRecord, j);
              ok = dedup_segment_writer_add_record (w, r->key, r->doc, error);
            }
        }
      if (pass == 1 && ok)
        {
          g_autofree char *name = g_strdup_printf ("seg-%010" G_GINT64_FORMAT "-%08x.dd", next, g_random_int ());
          ok = dedup_segment_writer_commit (w, name, error)
               && dedup_index_add_segment (ix, name, base + 1, next, n_sigs, n_recs, error);
        }
    }
  return ok;
}

/* Adds the documents, with their clusters, seen at @now. */
static gboolean
add_documents (DedupIndex *ix, const MergeWork *mw, gint64 now, GError **error)
{
  guint n = mw->n, k = mw->k;
  GHashTable *clusters = mw->clusters;
  const ShardDocs *sd = mw->sd;
  GPtrArray *maps = mw->maps;
  gboolean ok = TRUE;
  for (guint i = 0; i < n && ok; i++)
    {
      const guint8 *data = (const guint8 *) g_mapped_file_get_contents (g_ptr_array_index (maps, i)) + 24;
      gsize len = g_mapped_file_get_length (g_ptr_array_index (maps, i)) - 32;
      for (gsize off = 0, j = 0; off < len && ok; j++)
        {
          DedupSigHead h;
          memcpy (&h, data + off, sizeof h);
          gsize vlen = h.near ? k * sizeof (guint16) : 0;
          g_autofree char *id = g_strndup ((const char *) data + off + sizeof h, h.id_len);
          guint64 gs = (guint64) i << 32 | h.seq;
          const DedupClusterRec *c = g_hash_table_lookup (clusters, &gs);
          gint64 rowid = sd[i].base + 1 + j;
          gint64 cluster = c != NULL ? rowid_of (sd, n, c->rep) : rowid;
          DedupStored d = { .rowid = rowid, .doc_id = id, .cluster = cluster ? cluster : rowid, .seen = now,
                            .length = h.length, .n_shingles = h.n_shingles };
          ok = dedup_index_add_doc (ix, &d, h.exact, error);
          off += sizeof h + h.id_len + vlen;
        }
    }
  return ok;
}

/* Adds every document of the sharded run to the index in @state_dir, as
 * the dedup stage of a plain run with that state-dir would at its end:
 * one segment file with the signatures and keys, and the documents with
 * their final clusters in one transaction. */
gboolean
dedup_step_index_merge (GalleyShardStep *step, Dedup *self, const char *state_dir, GError **error)
{
  const char *work = galley_shard_step_get_work_dir (step);
  g_auto(MergeWork) mw = { 0 };
  mw.n = galley_shard_step_get_shards (step);
  mw.k = self->params.k;
  mw.nb = self->params.bands + 2;
  g_autofree char *key = backfill_key (work, mw.n, error);
  if (key == NULL || !read_clusters (work, &mw, error))
    return FALSE;

  /* the index in the state-dir, locked, in a transaction */
  if (g_mkdir_with_parents (state_dir, 0777) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "state-dir: cannot create %s: %s",
                   state_dir, g_strerror (e));
      return FALSE;
    }
  self->lock_fd = dedup_lock_state_dir (state_dir, self->lock_timeout, error);
  if (self->lock_fd < 0)
    return FALSE;
  self->index = dedup_index_open (state_dir, TRUE, TRUE, &self->params, error);
  if (self->index == NULL)
    return FALSE;
  DedupIndex *ix = self->index;
  g_autofree char *done = dedup_index_get_meta (ix, key, error);
  if (done != NULL)
    {
      g_print ("%s: this backfill was added on %s; nothing to do\n", state_dir, done);
      return TRUE;
    }
  if (error != NULL && *error != NULL)
    return FALSE;
  if (!dedup_index_begin (ix, error))
    return FALSE;
  mw.base = dedup_index_max_rowid (ix, error);
  if (mw.base < 0)
    return FALSE;
  gboolean ok = number_documents (work, &mw, error) && write_segment (self, ix, work, &mw, error);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  ok = ok && add_documents (ix, &mw, now, error);
  g_autoptr(GDateTime) t = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format_iso8601 (t);
  ok = ok && dedup_index_add_run (ix, now, mw.next - mw.base, mw.duplicates, error)
       && dedup_index_set_meta (ix, key, when, error) && dedup_index_commit (ix, error);
  if (!ok)
    {
      dedup_index_rollback (ix);
      g_prefix_error (error, "state-dir %s: index not updated: ", state_dir);
      return FALSE;
    }
  g_print ("added %" G_GINT64_FORMAT " documents (%" G_GINT64_FORMAT " duplicates) to the index in %s\n",
           mw.next - mw.base, mw.duplicates, state_dir);
  return TRUE;
}

