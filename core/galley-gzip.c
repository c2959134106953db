/* galley-gzip.c: a GInputStream that inflates gzip data, all members of it.
 *
 * GIO's GZlibDecompressor stops at the end of the first gzip member, so a
 * file made by `cat a.gz b.gz` or by pigz/bgzip would be cut short without
 * an error. This stream starts over after each member while input remains,
 * as gzip(1) does, and reports truncated or corrupt data as an error.
 *
 * It is part of libgalley-1, not of each source plugin: a GType can be
 * registered once per process, and several modules read gzip.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-input.h>

#include <zlib.h>

#define BUF_SIZE (64 * 1024)

struct _GalleyGzipInputStream {
  GInputStream  parent;
  GInputStream *base;
  z_stream      z;
  guint8       *buf;         /* BUF_SIZE bytes (GObject instances must stay small) */
  gboolean      base_eof;
  gboolean      in_member;   /* inside a member that has not ended yet */
  gboolean      done;
};

G_DEFINE_TYPE (GalleyGzipInputStream, galley_gzip_input_stream, G_TYPE_INPUT_STREAM)

static gssize
gzip_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable, GError **error)
{
  GalleyGzipInputStream *self = (GalleyGzipInputStream *) stream;
  if (self->done || count == 0)
    return 0;
  self->z.next_out = buffer;
  self->z.avail_out = (uInt) MIN (count, G_MAXUINT32);
  while (self->z.avail_out == MIN (count, G_MAXUINT32))
    {
      if (self->z.avail_in == 0 && !self->base_eof)
        {
          gssize n = g_input_stream_read (self->base, self->buf, BUF_SIZE, cancellable, error);
          if (n < 0)
            return -1;
          if (n == 0)
            self->base_eof = TRUE;
          self->z.next_in = self->buf;
          self->z.avail_in = (uInt) n;
        }
      if (self->z.avail_in == 0 && self->base_eof)
        {
          if (self->in_member)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "gzip data ends in the middle of a member");
              return -1;
            }
          self->done = TRUE;
          break;
        }
      if (!self->in_member)
        {
          inflateReset (&self->z);
          self->in_member = TRUE;
        }
      int rc = inflate (&self->z, Z_NO_FLUSH);
      if (rc == Z_STREAM_END)
        self->in_member = FALSE;   /* the next member, if any, starts fresh */
      else if (rc != Z_OK && rc != Z_BUF_ERROR)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "corrupt gzip data: %s",
                       self->z.msg ? self->z.msg : "inflate failed");
          return -1;
        }
    }
  return (gssize) (MIN (count, G_MAXUINT32) - self->z.avail_out);
}

static void
gzip_finalize (GObject *object)
{
  GalleyGzipInputStream *self = (GalleyGzipInputStream *) object;
  inflateEnd (&self->z);
  g_clear_object (&self->base);
  g_free (self->buf);
  G_OBJECT_CLASS (galley_gzip_input_stream_parent_class)->finalize (object);
}

static void
galley_gzip_input_stream_class_init (GalleyGzipInputStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gzip_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = gzip_read;
}

static void
galley_gzip_input_stream_init (GalleyGzipInputStream *self)
{
  /* 16 + MAX_WBITS: gzip header and trailer */
  inflateInit2 (&self->z, 16 + MAX_WBITS);
  self->buf = g_malloc (BUF_SIZE);
}

GInputStream *
galley_gzip_input_stream_new (GInputStream *base)
{
  GalleyGzipInputStream *self = g_object_new (GALLEY_TYPE_GZIP_INPUT_STREAM, NULL);
  self->base = g_object_ref (base);
  return G_INPUT_STREAM (self);
}
