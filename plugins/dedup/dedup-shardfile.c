/* dedup-shardfile.c: writing and reading the files of a sharded run's
 * work directory (see dedup-shardfile.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>

#include "dedup-shardfile.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define SHARD_MAGIC "GLYDDSH1"

struct _DedupShardWriter {
  int           fd;
  char         *path;
  char         *tmp;
  XXH3_state_t *hash;
  guint64       len;
  GString      *buf;
};

void
dedup_shard_writer_abort (DedupShardWriter *w)
{
  if (w == NULL)
    return;
  if (w->fd >= 0)
    {
      close (w->fd);
      g_unlink (w->tmp);
    }
  XXH3_freeState (w->hash);
  g_string_free (w->buf, TRUE);
  g_free (w->path);
  g_free (w->tmp);
  g_free (w);
}

static gboolean
write_all (int fd, const void *data, gsize len, const char *path, GError **error)
{
  for (gsize done = 0; done < len;)
    {
      ssize_t n = write (fd, (const char *) data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", path, g_strerror (e));
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

DedupShardWriter *
dedup_shard_writer_new (const char *path, DedupShardKind kind, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_mkdir_with_parents (dir, 0755);
  DedupShardWriter *w = g_new0 (DedupShardWriter, 1);
  w->path = g_strdup (path);
  w->tmp = g_strdup_printf ("%s.tmp-%d", path, (int) getpid ());
  w->hash = XXH3_createState ();
  XXH3_64bits_reset (w->hash);
  w->buf = g_string_sized_new (1 << 20);
  w->fd = open (w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd < 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot create %s: %s", w->tmp, g_strerror (e));
      dedup_shard_writer_abort (w);
      return NULL;
    }
  guint8 header[24] = { 0 };
  memcpy (header, SHARD_MAGIC, 8);
  guint32 k = kind;
  memcpy (header + 8, &k, 4);
  g_string_append_len (w->buf, (const char *) header, sizeof header);
  return w;
}

static gboolean
shard_writer_flush (DedupShardWriter *w, GError **error)
{
  if (!write_all (w->fd, w->buf->str, w->buf->len, w->tmp, error))
    return FALSE;
  g_string_truncate (w->buf, 0);
  return TRUE;
}

gboolean
dedup_shard_writer_add (DedupShardWriter *w, const void *data, gsize len, GError **error)
{
  XXH3_64bits_update (w->hash, data, len);
  w->len += len;
  g_string_append_len (w->buf, data, len);
  return w->buf->len < (1 << 20) || shard_writer_flush (w, error);
}

gboolean
dedup_shard_writer_commit (DedupShardWriter *w, GError **error)
{
  guint64 h = XXH3_64bits_digest (w->hash);
  g_string_append_len (w->buf, (const char *) &h, 8);
  gboolean ok = shard_writer_flush (w, error);
  if (ok && (pwrite (w->fd, &w->len, 8, 16) != 8 || fsync (w->fd) != 0 || close (w->fd) != 0
             || rename (w->tmp, w->path) != 0))
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", w->path, g_strerror (e));
      ok = FALSE;
      g_unlink (w->tmp);
      w->fd = -1;
    }
  else if (ok)
    w->fd = -1;
  dedup_shard_writer_abort (w);
  return ok;
}

GMappedFile *
dedup_shard_file_open (const char *path, DedupShardKind kind, const guint8 **payload, gsize *len, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GMappedFile) m = g_mapped_file_new (path, FALSE, &local);
  if (m == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s", local->message);
      return NULL;
    }
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (m);
  gsize size = g_mapped_file_get_length (m);
  guint32 k = 0;
  guint64 n = 0, h = 0;
  if (size >= 32)
    {
      memcpy (&k, data + 8, 4);
      memcpy (&n, data + 16, 8);
      memcpy (&h, data + size - 8, 8);
    }
  if (size < 32 || memcmp (data, SHARD_MAGIC, 8) != 0 || k != (guint32) kind || n != size - 32
      || XXH3_64bits (data + 24, n) != h)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is truncated or damaged (bad header, length or checksum): run the step that wrote it again",
                   path);
      return NULL;
    }
  *payload = data + 24;
  *len = n;
  return g_steal_pointer (&m);
}

char *
dedup_shard_band_path (const char *work, guint b, guint shard)
{
  g_autofree char *dir = g_strdup_printf ("band-%u", b);
  g_autofree char *name = g_strdup_printf ("shard-%u", shard);
  return g_build_filename (work, "dedup", dir, name, NULL);
}

char *
dedup_shard_work_file (const char *work, const char *prefix, guint n)
{
  g_autofree char *name = g_strdup_printf ("%s-%u", prefix, n);
  return g_build_filename (work, "dedup", name, NULL);
}

void
dedup_sort_scratch_clear (DedupSortScratch *s)
{
  g_clear_pointer (&s->tmp, g_free);
  g_clear_pointer (&s->count, g_free);
  s->cap = 0;
}

void
dedup_shard_sort_by_key (DedupKeyRec *recs, gsize n, DedupSortScratch *s)
{
  if (n < 2)
    return;
  if (s->cap < n)
    {
      g_free (s->tmp);
      s->tmp = g_new (DedupKeyRec, n);
      s->cap = n;
    }
  if (s->count == NULL)
    s->count = g_new (gsize, 1 << 16);
  gsize *count = s->count;
  DedupKeyRec *from = recs, *to = s->tmp;
  for (guint shift = 0; shift < 64; shift += 16)
    {
      memset (count, 0, sizeof (gsize) << 16);
      for (gsize i = 0; i < n; i++)
        count[(from[i].key >> shift) & 0xffff]++;
      if (count[(from[0].key >> shift) & 0xffff] == n)
        continue;
      gsize sum = 0;
      for (guint b = 0; b < (1 << 16); b++)
        {
          gsize c = count[b];
          count[b] = sum;
          sum += c;
        }
      for (gsize i = 0; i < n; i++)
        to[count[(from[i].key >> shift) & 0xffff]++] = from[i];
      DedupKeyRec *t = from;
      from = to;
      to = t;
    }
  if (from != recs)
    memcpy (recs, from, n * sizeof (DedupKeyRec));
}
