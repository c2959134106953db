/* galley-line-reader.c: reading a file, a FIFO or standard input line by
 * line (gzip aware), with what an incremental reader needs: how far it
 * got, and a fingerprint of the first bytes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-input-private.h"

#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

struct _GalleyLineReader {
  GInputStream *in;
  guint8       *buf;
  gsize         cap;
  gsize         start;
  gsize         end;
  gboolean      eof;
  guint64       lineno;
  guint64       max_line;
  guint64       consumed;        /* stream bytes up to the end of the last line returned */
  gboolean      unterminated;    /* the last line returned had no newline */
  guint8        prefix[GALLEY_LINE_READER_PREFIX];
  gsize         prefix_len;      /* first bytes of the stream, for fingerprints */
  guint64       read_total;
  gsize         fp_len;          /* the last fingerprint: of this many bytes, */
  guint64       fp;              /* this value (a source asks after every line) */
  GCancellable *cancellable;     /* wakes a read that waits on a pipe or a FIFO */
};

/* A FIFO is opened without waiting for a writer (open() would block
 * where no stop can wake it); the reads then wait, cancellably. */
static GInputStream *
open_fifo (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s", g_strerror (e));
      return NULL;
    }
  return g_unix_input_stream_new (fd, TRUE);
}

GalleyLineReader *
galley_line_reader_open (const char *path, guint64 max_line, GCancellable *cancellable, GError **error)
{
  g_autoptr(GInputStream) raw = NULL;
  struct stat st;
  if (g_str_equal (path, "-"))
    raw = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  else if (stat (path, &st) == 0 && S_ISFIFO (st.st_mode))
    {
      raw = open_fifo (path, error);
      if (raw == NULL)
        return NULL;
    }
  else
    {
      g_autoptr(GFile) file = g_file_new_for_path (path);
      raw = G_INPUT_STREAM (g_file_read (file, NULL, error));
      if (raw == NULL)
        return NULL;
    }
  g_autoptr(GInputStream) buffered = g_buffered_input_stream_new (raw);
  if (g_buffered_input_stream_fill (G_BUFFERED_INPUT_STREAM (buffered), 2, cancellable, error) < 0)
    return NULL;
  gsize avail = 0;
  const guint8 *peek = g_buffered_input_stream_peek_buffer (G_BUFFERED_INPUT_STREAM (buffered), &avail);
  GalleyLineReader *r = g_new0 (GalleyLineReader, 1);
  r->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  if (galley_input_is_gzip (peek, avail))
    {
      r->in = galley_gzip_input_stream_new (buffered);
    }
  else
    r->in = g_object_ref (buffered);
  r->cap = 1 << 20;
  r->buf = g_malloc (r->cap + 1);
  r->max_line = max_line;
  return r;
}

void
galley_line_reader_free (GalleyLineReader *r)
{
  if (r == NULL)
    return;
  g_clear_object (&r->in);
  g_clear_object (&r->cancellable);
  g_free (r->buf);
  g_free (r);
}

guint64
galley_line_reader_get_line_number (const GalleyLineReader *r)
{
  return r->lineno;
}

static gssize fill (GalleyLineReader *r, GError **error);

guint64
galley_line_reader_get_consumed (const GalleyLineReader *r)
{
  return r->consumed;
}

gboolean
galley_line_reader_last_unterminated (const GalleyLineReader *r)
{
  return r->unterminated;
}

guint64
galley_line_reader_fingerprint (GalleyLineReader *r, guint64 upto)
{
  gsize len = (gsize) MIN ((guint64) r->prefix_len, upto);
  if (len != r->fp_len || len == 0)
    {
      r->fp = XXH3_64bits (r->prefix, len);
      r->fp_len = len;
    }
  return r->fp;
}

gboolean
galley_line_reader_skip (GalleyLineReader *r, guint64 offset, guint64 lines, GError **error)
{
  while (r->consumed < offset)
    {
      if (r->end == r->start)
        {
          gssize n = fill (r, error);
          if (n < 0)
            return FALSE;
          if (n == 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "shorter than the %" G_GUINT64_FORMAT
                           " bytes read before", offset);
              return FALSE;
            }
        }
      gsize take = MIN ((guint64) (r->end - r->start), offset - r->consumed);
      r->start += take;
      r->consumed += take;
    }
  r->lineno = lines;
  return TRUE;
}

/* Reads more data; returns bytes read, 0 at EOF, -1 on error. */
static gssize
fill (GalleyLineReader *r, GError **error)
{
  if (r->start > 0)
    {
      memmove (r->buf, r->buf + r->start, r->end - r->start);
      r->end -= r->start;
      r->start = 0;
    }
  if (r->end == r->cap)
    {
      r->cap *= 2;
      r->buf = g_realloc (r->buf, r->cap + 1);
    }
  gssize n = g_input_stream_read (r->in, r->buf + r->end, r->cap - r->end, r->cancellable, error);
  if (n > 0)
    {
      if (r->prefix_len < GALLEY_LINE_READER_PREFIX && r->read_total == r->prefix_len)
        {
          gsize take = MIN ((gsize) n, GALLEY_LINE_READER_PREFIX - r->prefix_len);
          memcpy (r->prefix + r->prefix_len, r->buf + r->end, take);
          r->prefix_len += take;
        }
      r->read_total += n;
      r->end += n;
    }
  return n;
}

gboolean
galley_line_reader_next (GalleyLineReader *r, const char **line, gsize *len, gboolean *too_long, GError **error)
{
  gsize scanned = 0;
  gboolean skipping = FALSE;
  *too_long = FALSE;
  for (;;)
    {
      guint8 *nl = memchr (r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
      if (nl != NULL || (r->eof && r->end > r->start))
        {
          gsize l = nl ? (gsize) (nl - (r->buf + r->start)) : r->end - r->start;
          const char *p = (const char *) r->buf + r->start;
          r->start += l + (nl ? 1 : 0);
          r->consumed += l + (nl ? 1 : 0);
          r->unterminated = nl == NULL;
          r->lineno++;
          if (skipping)
            {
              *too_long = TRUE;
              *line = NULL;
              *len = 0;
              return TRUE;
            }
          if (l > 0 && p[l - 1] == '\r')
            l--;
          if (l > r->max_line)
            {
              *too_long = TRUE;
              *line = NULL;
              *len = 0;
              return TRUE;
            }
          ((char *) p)[l] = '\0';
          *line = p;
          *len = l;
          return TRUE;
        }
      if (r->eof)
        return FALSE;
      scanned = r->end - r->start;
      if (scanned > r->max_line + 1)   /* + 1: a '\r' not yet stripped */
        {
          /* drop what we have of an over-long line and keep scanning for its end */
          skipping = TRUE;
          r->start = r->end;
          scanned = 0;
        }
      gssize n = fill (r, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          r->eof = TRUE;
          if (skipping && r->end == r->start)
            {
              r->lineno++;
              *too_long = TRUE;
              *line = NULL;
              *len = 0;
              return TRUE;
            }
        }
    }
}

gboolean
galley_line_reader_is_drained (const GalleyLineReader *r)
{
  return r->eof && r->start == r->end;
}

gboolean
galley_input_fingerprint (const char *path, guint64 upto, guint64 *fingerprint, GError **error)
{
  g_return_val_if_fail (path != NULL && fingerprint != NULL, FALSE);
  *fingerprint = 0;
  g_autoptr(GalleyLineReader) r = galley_line_reader_open (path, G_MAXUINT64, NULL, error);
  if (r == NULL)
    return FALSE;
  guint64 want = MIN (upto, (guint64) GALLEY_LINE_READER_PREFIX);
  while (r->prefix_len < want)
    {
      gssize n = fill (r, error);
      if (n <= 0)
        {
          if (n == 0)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "shorter than before");
          return FALSE;
        }
      r->start = r->end;   /* only the prefix matters */
    }
  *fingerprint = galley_line_reader_fingerprint (r, upto);
  return TRUE;
}
