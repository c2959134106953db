/* dedup-segment.c: immutable sorted segment files (see dedup-segment.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dedup-segment.h"
#include "dedup-sig.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_SIZE 64
#define N_BANDS (1u << (DEDUP_KEY_BITS - DEDUP_BAND_SHIFT))
#define BUF_SIZE (256 * 1024)

static const char magic[8] = { 'G', 'L', 'Y', 'D', 'D', 'S', 'E', 'G' };

typedef struct {
  char     magic[8];
  guint32  version, k;
  guint64  n_docs, n_recs;
  guint32  first, last;
  guint8   reserved[HEADER_SIZE - 40];
} Header;
G_STATIC_ASSERT (sizeof (Header) == HEADER_SIZE);

static inline gsize
align8 (gsize n)
{
  return (n + 7) & ~(gsize) 7;
}

/* Section offsets of a segment with these counts. */
typedef struct { gsize docs, shingles, sigs, keys, recdocs, end; } Layout;

static Layout
layout_of (guint k, guint64 n_docs, guint64 n_recs)
{
  Layout l;
  l.docs = HEADER_SIZE;
  l.shingles = l.docs + align8 (n_docs * sizeof (guint32));
  l.sigs = l.shingles + align8 (n_docs * sizeof (guint32));
  l.keys = l.sigs + align8 (n_docs * k * sizeof (guint16));
  l.recdocs = l.keys + n_recs * sizeof (guint64);
  l.end = l.recdocs + align8 (n_recs * sizeof (guint32));
  return l;
}

/* ---- writer -------------------------------------------------------------- */

/* A buffered append stream at a fixed offset of the file. */
typedef struct {
  gsize   offset;     /* where the buffer goes */
  guint8 *buf;
  gsize   used;
} Stream;

struct _DedupSegmentWriter {
  int      fd;
  char    *dir, *tmp;
  guint    k;
  guint64  n_docs, n_recs, docs_added, recs_added;
  guint32  first, last;
  guint64  last_key;
  Stream   s_docs, s_shingles, s_sigs, s_keys, s_recdocs;
  gboolean failed;
};

static gboolean
write_error (DedupSegmentWriter *w, int e, GError **error)
{
  w->failed = TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", w->tmp, g_strerror (e));
  return FALSE;
}

static gboolean
stream_flush (DedupSegmentWriter *w, Stream *s, GError **error)
{
  gsize done = 0;
  while (done < s->used)
    {
      ssize_t n = pwrite (w->fd, s->buf + done, s->used - done, s->offset + done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return write_error (w, n < 0 ? errno : ENOSPC, error);
      done += n;
    }
  s->offset += s->used;
  s->used = 0;
  return TRUE;
}

static inline gboolean
stream_put (DedupSegmentWriter *w, Stream *s, const void *data, gsize len, GError **error)
{
  if (s->used + len > BUF_SIZE && !stream_flush (w, s, error))
    return FALSE;
  if (len > BUF_SIZE)
    {
      s->used = len;
      guint8 *keep = s->buf;
      s->buf = (guint8 *) data;
      gboolean ok = stream_flush (w, s, error);
      s->buf = keep;
      return ok;
    }
  memcpy (s->buf + s->used, data, len);
  s->used += len;
  return TRUE;
}

DedupSegmentWriter *
dedup_segment_writer_new (const char *dir, guint k, guint64 n_docs, guint64 n_recs, GError **error)
{
  g_return_val_if_fail (n_docs <= G_MAXUINT32 && k > 0, NULL);
  g_autoptr(DedupSegmentWriter) w = g_new0 (DedupSegmentWriter, 1);
  w->fd = -1;
  w->dir = g_strdup (dir);
  w->tmp = g_build_filename (dir, ".segment-XXXXXX", NULL);
  w->fd = g_mkstemp_full (w->tmp, O_RDWR | O_CLOEXEC, 0644);
  if (w->fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot create %s: %s", w->tmp, g_strerror (e));
      g_clear_pointer (&w->tmp, g_free);
      return NULL;
    }
  w->k = k;
  w->n_docs = n_docs;
  w->n_recs = n_recs;
  Layout l = layout_of (k, n_docs, n_recs);
  Stream *streams[] = { &w->s_docs, &w->s_shingles, &w->s_sigs, &w->s_keys, &w->s_recdocs };
  gsize offsets[] = { l.docs, l.shingles, l.sigs, l.keys, l.recdocs };
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    {
      streams[i]->offset = offsets[i];
      streams[i]->buf = g_malloc (BUF_SIZE);
    }
  if (ftruncate (w->fd, l.end) != 0)
    {
      write_error (w, errno, error);
      return NULL;
    }
  return g_steal_pointer (&w);
}

gboolean
dedup_segment_writer_add_doc (DedupSegmentWriter *w, guint32 doc, const guint16 *sig, guint32 n_shingles,
                              GError **error)
{
  g_return_val_if_fail (w->docs_added < w->n_docs, FALSE);
  g_return_val_if_fail (w->docs_added == 0 || doc > w->last, FALSE);
  if (w->docs_added == 0)
    w->first = doc;
  w->last = doc;
  w->docs_added++;
  return stream_put (w, &w->s_docs, &doc, sizeof doc, error)
         && stream_put (w, &w->s_shingles, &n_shingles, sizeof n_shingles, error)
         && stream_put (w, &w->s_sigs, sig, w->k * sizeof (guint16), error);
}

gboolean
dedup_segment_writer_add_record (DedupSegmentWriter *w, guint64 key, guint32 doc, GError **error)
{
  g_return_val_if_fail (w->recs_added < w->n_recs, FALSE);
  g_return_val_if_fail (w->recs_added == 0 || key >= w->last_key, FALSE);
  w->last_key = key;
  w->recs_added++;
  return stream_put (w, &w->s_keys, &key, sizeof key, error)
         && stream_put (w, &w->s_recdocs, &doc, sizeof doc, error);
}

static gboolean
fsync_dir (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync (fd) != 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot sync %s: %s", dir, g_strerror (e));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

gboolean
dedup_segment_writer_commit (DedupSegmentWriter *w, const char *name, GError **error)
{
  g_return_val_if_fail (!w->failed && w->docs_added == w->n_docs && w->recs_added == w->n_recs, FALSE);
  if (!stream_flush (w, &w->s_docs, error) || !stream_flush (w, &w->s_shingles, error)
      || !stream_flush (w, &w->s_sigs, error)
      || !stream_flush (w, &w->s_keys, error) || !stream_flush (w, &w->s_recdocs, error))
    return FALSE;
  Header h = { 0 };
  memcpy (h.magic, magic, sizeof magic);
  h.version = DEDUP_SEGMENT_VERSION;
  h.k = w->k;
  h.n_docs = w->n_docs;
  h.n_recs = w->n_recs;
  h.first = w->first;
  h.last = w->last;
  if (pwrite (w->fd, &h, sizeof h, 0) != sizeof h)
    return write_error (w, errno ? errno : ENOSPC, error);
  if (fsync (w->fd) != 0)
    return write_error (w, errno, error);
  g_autofree char *path = g_build_filename (w->dir, name, NULL);
  if (g_rename (w->tmp, path) != 0)
    return write_error (w, errno, error);
  g_clear_pointer (&w->tmp, g_free);
  return fsync_dir (w->dir, error);
}

void
dedup_segment_writer_free (DedupSegmentWriter *w)
{
  if (w == NULL)
    return;
  if (w->fd >= 0)
    close (w->fd);
  if (w->tmp != NULL)
    g_unlink (w->tmp);
  g_free (w->tmp);
  g_free (w->dir);
  g_free (w->s_docs.buf);
  g_free (w->s_shingles.buf);
  g_free (w->s_sigs.buf);
  g_free (w->s_keys.buf);
  g_free (w->s_recdocs.buf);
  g_free (w);
}

/* ---- reader -------------------------------------------------------------- */

struct _DedupSegment {
  char           *path;
  const guint8   *map;
  gsize           size;
  const Header   *h;
  const guint32  *docs;
  const guint32  *shingles;
  const guint16  *sigs;
  const guint64  *keys;
  const guint32  *recdocs;
  guint64         band_start[N_BANDS + 1];
};

static gboolean
damaged (const char *path, const char *why, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "%s is damaged (%s); nothing was changed. Restore the state directory from a backup, or "
               "move it away to start a new index", path, why);
  return FALSE;
}

static guint64
lower_bound_plain (const guint64 *keys, guint64 lo, guint64 hi, guint64 key)
{
  while (lo < hi)
    {
      guint64 mid = lo + (hi - lo) / 2;
      if (keys[mid] < key)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

DedupSegment *
dedup_segment_open (const char *path, guint k, GError **error)
{
  g_autoptr(DedupSegment) seg = g_new0 (DedupSegment, 1);
  seg->path = g_strdup (path);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      if (e == ENOENT)
        damaged (path, "a registered segment file is missing", error);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot open %s: %s", path, g_strerror (e));
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || st.st_size < HEADER_SIZE)
    {
      close (fd);
      damaged (path, "too short", error);
      return NULL;
    }
  seg->size = st.st_size;
  void *map = mmap (NULL, seg->size, PROT_READ, MAP_SHARED, fd, 0);
  close (fd);
  if (map == MAP_FAILED)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot map %s: %s", path, g_strerror (e));
      return NULL;
    }
  seg->map = map;
  seg->h = (const Header *) seg->map;
  if (memcmp (seg->h->magic, magic, sizeof magic) != 0)
    return damaged (path, "not a segment file", error), NULL;
  if (seg->h->version != DEDUP_SEGMENT_VERSION || seg->h->k != k)
    return damaged (path, "another segment version or signature size", error), NULL;
  if (seg->h->n_docs > G_MAXUINT32 || seg->h->n_recs > (G_MAXSIZE >> 4))
    return damaged (path, "impossible counts", error), NULL;
  Layout l = layout_of (k, seg->h->n_docs, seg->h->n_recs);
  if (l.end != seg->size)
    return damaged (path, "wrong size", error), NULL;
  seg->docs = (const guint32 *) (seg->map + l.docs);
  seg->shingles = (const guint32 *) (seg->map + l.shingles);
  seg->sigs = (const guint16 *) (seg->map + l.sigs);
  seg->keys = (const guint64 *) (seg->map + l.keys);
  seg->recdocs = (const guint32 *) (seg->map + l.recdocs);
  madvise ((void *) seg->map, seg->size, MADV_RANDOM);
  for (guint b = 0; b <= N_BANDS; b++)
    {
      seg->band_start[b] = lower_bound_plain (seg->keys, 0, seg->h->n_recs, (guint64) b << DEDUP_BAND_SHIFT);
      /* keys out of order put a band before the one below it */
      if (b > 0 && seg->band_start[b] < seg->band_start[b - 1])
        return damaged (path, "keys out of order", error), NULL;
    }
  return g_steal_pointer (&seg);
}

void
dedup_segment_close (DedupSegment *seg)
{
  if (seg == NULL)
    return;
  if (seg->map != NULL)
    munmap ((void *) seg->map, seg->size);
  g_free (seg->path);
  g_free (seg);
}

guint64 dedup_segment_n_docs (const DedupSegment *seg) { return seg->h->n_docs; }
guint64 dedup_segment_n_recs (const DedupSegment *seg) { return seg->h->n_recs; }
guint32 dedup_segment_first (const DedupSegment *seg) { return seg->h->first; }
guint32 dedup_segment_last (const DedupSegment *seg) { return seg->h->last; }
gsize   dedup_segment_bytes (const DedupSegment *seg) { return seg->size; }

/* First record with a key >= @key. The keys of a band are uniform hashes,
 * so the position is guessed from the key and the guess widened until it
 * brackets the key: one or two pages touched instead of ~20 for bisection. */
static guint64
lower_bound (const DedupSegment *seg, guint64 key)
{
  guint band = (guint) (key >> DEDUP_BAND_SHIFT) & (N_BANDS - 1);
  guint64 lo = seg->band_start[band], hi = seg->band_start[band + 1];
  if (hi - lo < 64)
    return lower_bound_plain (seg->keys, lo, hi, key);
  guint64 low_bits = key & ((G_GUINT64_CONSTANT (1) << DEDUP_BAND_SHIFT) - 1);
  guint64 guess = lo + (guint64) ((double) low_bits / (double) (G_GUINT64_CONSTANT (1) << DEDUP_BAND_SHIFT)
                                  * (double) (hi - lo));
  guess = MIN (guess, hi - 1);
  guint64 step = 32;
  if (seg->keys[guess] < key)
    {
      guint64 a = guess + 1;
      while (a + step < hi && seg->keys[a + step] < key)
        a += step, step *= 2;
      return lower_bound_plain (seg->keys, a, MIN (a + step + 1, hi), key);
    }
  guint64 b = guess;
  while (b > lo + step && seg->keys[b - step] >= key)
    b -= step, step *= 2;
  return lower_bound_plain (seg->keys, b > lo + step ? b - step : lo, b + 1, key);
}

void
dedup_segment_lookup (const DedupSegment *seg, guint64 key, GArray *out)
{
  for (guint64 i = lower_bound (seg, key); i < seg->h->n_recs && seg->keys[i] == key; i++)
    {
      gint64 doc = seg->recdocs[i];
      g_array_append_val (out, doc);
    }
}

gboolean
dedup_segment_doc (const DedupSegment *seg, guint32 doc, const guint16 **sig, guint32 *n_shingles)
{
  guint64 n = seg->h->n_docs;
  if (n == 0 || doc < seg->h->first || doc > seg->h->last)
    return FALSE;
  /* documents are mostly consecutive: try the direct position first */
  guint64 i = doc - seg->h->first;
  if (i >= n || seg->docs[i] != doc)
    {
      guint64 lo = 0, hi = n;
      while (lo < hi)
        {
          guint64 mid = lo + (hi - lo) / 2;
          if (seg->docs[mid] < doc)
            lo = mid + 1;
          else
            hi = mid;
        }
      if (lo >= n || seg->docs[lo] != doc)
        return FALSE;
      i = lo;
    }
  *sig = seg->sigs + i * seg->h->k;
  *n_shingles = seg->shingles[i];
  return TRUE;
}

/* ---- sorting and merging ------------------------------------------------- */

void
dedup_sort_records (DedupRecord *recs, gsize n)
{
  if (n < 2)
    return;
  g_autofree DedupRecord *tmp = g_new (DedupRecord, n);
  g_autofree gsize *count = g_new (gsize, 1 << 14);
  DedupRecord *from = recs, *to = tmp;
  /* 41 low bits in three passes of 14 bits */
  for (guint shift = 0; shift < DEDUP_BAND_SHIFT; shift += 14)
    {
      memset (count, 0, sizeof (gsize) << 14);
      for (gsize i = 0; i < n; i++)
        count[(from[i].key >> shift) & 0x3fff]++;
      gsize sum = 0;
      for (guint b = 0; b < (1 << 14); b++)
        {
          gsize c = count[b];
          count[b] = sum;
          sum += c;
        }
      for (gsize i = 0; i < n; i++)
        to[count[(from[i].key >> shift) & 0x3fff]++] = from[i];
      DedupRecord *t = from;
      from = to;
      to = t;
    }
  if (from != recs)
    memcpy (recs, from, n * sizeof (DedupRecord));
}

gboolean
dedup_segment_merge (DedupSegment **segs, guint n, guint k, const char *dir, const char *name,
                     DedupKeepFunc keep, gpointer data, guint64 *n_docs, guint64 *n_recs, GError **error)
{
  /* count first: the writer needs the sizes */
  guint64 docs = 0, recs = 0;
  for (guint s = 0; s < n; s++)
    {
      for (guint64 i = 0; i < segs[s]->h->n_docs; i++)
        docs += keep (segs[s]->docs[i], data);
      for (guint64 i = 0; i < segs[s]->h->n_recs; i++)
        recs += keep (segs[s]->recdocs[i], data);
    }
  g_autoptr(DedupSegmentWriter) w = dedup_segment_writer_new (dir, k, docs, recs, error);
  if (w == NULL)
    return FALSE;
  /* documents: the segments in order of their first document, which do
   * not overlap */
  g_autofree DedupSegment **order = g_memdup2 (segs, n * sizeof *segs);
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && order[j]->h->first < order[j - 1]->h->first; j--)
      {
        DedupSegment *t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
  gint64 prev_doc = -1;
  for (guint s = 0; s < n; s++)
    for (guint64 i = 0; i < order[s]->h->n_docs; i++)
      if (keep (order[s]->docs[i], data))
        {
          /* documents ascend in a segment and do not overlap across them */
          if ((gint64) order[s]->docs[i] <= prev_doc)
            return damaged (order[s]->path, "documents out of order", error);
          prev_doc = order[s]->docs[i];
          if (!dedup_segment_writer_add_doc (w, order[s]->docs[i], order[s]->sigs + i * k, order[s]->shingles[i],
                                             error))
            return FALSE;
        }
  /* records: an n-way merge by key */
  g_autofree guint64 *pos = g_new0 (guint64, n);
  guint64 prev_key = 0;
  gboolean have_key = FALSE;
  for (;;)
    {
      guint best = G_MAXUINT;
      for (guint s = 0; s < n; s++)
        if (pos[s] < segs[s]->h->n_recs
            && (best == G_MAXUINT || segs[s]->keys[pos[s]] < segs[best]->keys[pos[best]]))
          best = s;
      if (best == G_MAXUINT)
        break;
      guint64 i = pos[best]++;
      if (!keep (segs[best]->recdocs[i], data))
        continue;
      /* the keys of each segment ascend, so the merged ones do */
      if (have_key && segs[best]->keys[i] < prev_key)
        return damaged (segs[best]->path, "keys out of order", error);
      prev_key = segs[best]->keys[i];
      have_key = TRUE;
      if (!dedup_segment_writer_add_record (w, segs[best]->keys[i], segs[best]->recdocs[i], error))
        return FALSE;
    }
  if (!dedup_segment_writer_commit (w, name, error))
    return FALSE;
  *n_docs = docs;
  *n_recs = recs;
  return TRUE;
}
