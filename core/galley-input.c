/* galley-input.c: what a source's bytes are: content sniffing (text, HTML
 * or binary), gzip detection and whole-input reading.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-input-private.h"

#include <libdeflate.h>
#include <string.h>

#define SNIFF_BYTES 8192

gboolean
galley_input_is_gzip (const guint8 *data, gsize len)
{
  return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

static gboolean
has_prefix (const guint8 *data, gsize len, const char *magic, gsize mlen)
{
  return len >= mlen && memcmp (data, magic, mlen) == 0;
}

static gboolean
ascii_prefix_ci (const guint8 *p, gsize len, const char *word)
{
  gsize n = strlen (word);
  return len >= n && g_ascii_strncasecmp ((const char *) p, word, n) == 0;
}

/* TRUE if @name (of @len bytes) ends with @suffix, ignoring ASCII case. */
static gboolean
ascii_suffix_ci (const char *name, gsize len, const char *suffix)
{
  gsize n = strlen (suffix);
  return len >= n && g_ascii_strncasecmp (name + len - n, suffix, n) == 0;
}

/* TRUE if one of the tags starts within the first @len bytes of @p. */
static gboolean
contains_html_tag (const guint8 *p, gsize len)
{
  static const char *const tags[] = { "<html", "<head>", "<body" };
  const guint8 *end = p + len;
  for (const guint8 *lt = memchr (p, '<', len); lt != NULL; lt = memchr (lt + 1, '<', end - lt - 1))
    for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
      {
        gsize n = strlen (tags[i]);
        if ((gsize) (end - lt) >= n && g_ascii_strncasecmp ((const char *) lt, tags[i], n) == 0)
          return TRUE;
      }
  return FALSE;
}

GalleyInputKind
galley_input_sniff (const guint8 *data, gsize len, const char *name, const char **bom_charset)
{
  static const struct { const char *magic; gsize len; } binary_magic[] = {
    { "%PDF-", 5 }, { "\x89PNG", 4 }, { "GIF8", 4 }, { "\xFF\xD8\xFF", 3 }, { "PK\x03\x04", 4 },
    { "\x7F" "ELF", 4 }, { "BZh", 3 }, { "\xFD" "7zXZ", 5 }, { "OggS", 4 }, { "RIFF", 4 },
    { "SQLite format 3", 15 }, { "\x00\x00\x01\x00", 4 }, { "7z\xBC\xAF", 4 }, { "\x1f\x8b", 2 },
    { "Rar!", 4 }, { "\xD0\xCF\x11\xE0", 4 }, { "wOFF", 4 }, { "\x00" "asm", 4 },
  };
  static const struct { const char *bom; gsize len; const char *charset; } boms[] = {
    { "\xEF\xBB\xBF", 3, "utf-8" }, { "\xFF\xFE\x00\x00", 4, "utf-32le" }, { "\x00\x00\xFE\xFF", 4, "utf-32be" },
    { "\xFF\xFE", 2, "utf-16le" }, { "\xFE\xFF", 2, "utf-16be" },
  };
  *bom_charset = NULL;
  gsize unit = 1, ascii_at = 0, skip = 0;   /* code unit size of UTF-16/32 text, and where its ASCII byte is */
  for (guint i = 0; i < G_N_ELEMENTS (boms); i++)
    if (has_prefix (data, len, boms[i].bom, boms[i].len))
      {
        *bom_charset = boms[i].charset;
        break;
      }
  gsize n = MIN (len, SNIFF_BYTES);
  if (*bom_charset == NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (binary_magic); i++)
        if (has_prefix (data, n, binary_magic[i].magic, binary_magic[i].len))
          return GALLEY_INPUT_KIND_BINARY;
      /* 1: control character that text does not contain; NUL counted apart */
      static const guint8 is_ctrl[256] = {
        0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1,
      };
      gsize nul_even = 0, nul_odd = 0, ctrl = 0;
      gsize i = 0;
      /* eight bytes at a time; look closer only at words with a byte < 0x20
       * (text has one every line or so: \n, \t, \r) */
      for (; i + 8 <= n; i += 8)
        {
          guint64 w;
          memcpy (&w, data + i, 8);
          if (((w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull) == 0)
            continue;
          for (gsize j = i; j < i + 8; j++)
            {
              if (data[j] == 0)
                (j & 1) ? nul_odd++ : nul_even++;
              ctrl += is_ctrl[data[j]];
            }
        }
      for (; i < n; i++)
        {
          if (data[i] == 0)
            (i & 1) ? nul_odd++ : nul_even++;
          ctrl += is_ctrl[data[i]];
        }
      gsize half = MAX (n / 2, 1);
      /* at most one NUL in twenty in the other half; in text shorter
       * than 80 bytes that is none (not fewer than none) */
      gsize stray = MAX (half / 20, 1);
      gboolean utf16 = (nul_odd > half * 3 / 10 && nul_even < stray)
                       || (nul_even > half * 3 / 10 && nul_odd < stray);
      /* a few stray NULs do not make a text file binary */
      if (!utf16 && (ctrl * 20 > n || (nul_even + nul_odd) > n / 100 + 2))
        return GALLEY_INPUT_KIND_BINARY;
      if (utf16)
        {
          /* the ASCII byte of a code unit is the one the NULs are not on */
          unit = 2;
          ascii_at = nul_odd > nul_even ? 0 : 1;
        }
    }
  else if (!g_str_equal (*bom_charset, "utf-8"))
    {
      gboolean le = g_str_has_suffix (*bom_charset, "le");
      unit = g_str_has_prefix (*bom_charset, "utf-16") ? 2 : 4;
      skip = unit == 2 ? 2 : 4;
      ascii_at = le ? 0 : unit - 1;
    }
  if (name != NULL)
    {
      /* no copy of the name (a path) per file */
      gsize name_len = strlen (name);
      if (ascii_suffix_ci (name, name_len, ".gz"))
        name_len -= 3;
      if (ascii_suffix_ci (name, name_len, ".html") || ascii_suffix_ci (name, name_len, ".htm")
          || ascii_suffix_ci (name, name_len, ".xhtml"))
        return GALLEY_INPUT_KIND_HTML;
    }
  const guint8 *p = data;
  gsize rest = n;
  guint8 narrow[SNIFF_BYTES / 2];
  if (unit > 1)
    {
      /* UTF-16 or UTF-32: the markup is looked for in its ASCII */
      rest = 0;
      for (gsize i = skip; i + unit <= n; i += unit)
        {
          guint8 c = data[i + ascii_at];
          gboolean ascii = c < 0x80;
          for (gsize b = 0; b < unit; b++)
            if (b != ascii_at && data[i + b] != 0)
              ascii = FALSE;
          narrow[rest++] = ascii ? c : '?';
        }
      p = narrow;
    }
  else if (*bom_charset != NULL)
    p += 3, rest -= MIN (rest, 3);
  while (rest > 0 && g_ascii_isspace (*p))
    p++, rest--;
  if (ascii_prefix_ci (p, rest, "<!doctype html") || ascii_prefix_ci (p, rest, "<html"))
    return GALLEY_INPUT_KIND_HTML;
  gsize head = MIN (rest, 2048);
  if (contains_html_tag (p, head))
    return GALLEY_INPUT_KIND_HTML;
  return GALLEY_INPUT_KIND_TEXT;
}

void
galley_input_set_content_type (GalleyDocument *doc, GalleyContentType forced, const char *name)
{
  if (forced != GALLEY_CONTENT_UNKNOWN)
    {
      galley_document_set_content_type (doc, forced);
      return;
    }
  GBytes *raw = galley_document_get_raw (doc);
  gsize len = 0;
  const guint8 *data = raw ? g_bytes_get_data (raw, &len) : NULL;
  const char *bom = NULL;
  GalleyInputKind kind = galley_input_sniff (data ? data : (const guint8 *) "", len, name, &bom);
  galley_document_set_content_type (doc, kind == GALLEY_INPUT_KIND_HTML ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_TEXT);
  if (bom != NULL && galley_document_get_declared_encoding (doc) == NULL)
    galley_document_set_declared_encoding (doc, bom);
}

/* Reads @in to the end into a buffer with a NUL after the data. */
static GBytes *
read_all (GInputStream *in, guint64 max_size, GCancellable *cancellable, GError **error)
{
  /* the buffer never grows past max_size + 1: one byte over is enough to know */
  gsize cap = MIN ((guint64) 64 * 1024, max_size + 1), len = 0;
  g_autofree guint8 *buf = g_malloc (cap + 1);
  for (;;)
    {
      if (len == cap)
        {
          if (len > max_size)
            {
              g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ,
                           "larger than max-size (%" G_GUINT64_FORMAT " bytes)", max_size);
              return NULL;
            }
          cap = MIN ((guint64) cap * 2, max_size + 1);
          buf = g_realloc (buf, cap + 1);
        }
      gssize n = g_input_stream_read (in, buf + len, cap - len, cancellable, error);
      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      len += n;
    }
  buf[len] = 0;
  return g_bytes_new_take (g_steal_pointer (&buf), len);
}

/* The whole of @data inflated with libdeflate, every member, or NULL when
 * anything is wrong with it (the caller then reads it with zlib, which
 * says what). libdeflate inflates a buffer about twice as fast as zlib's
 * streaming inflate, which was a sixth of the CPU time of a run over
 * gzipped HTML pages. The output starts at the size the last member's
 * trailer gives and doubles while a member does not fit, up to
 * @max_size. */
static GBytes *
gunzip_whole (const guint8 *data, gsize len, guint64 max_size)
{
  if (len < 18)
    return NULL;
  guint32 isize = (guint32) data[len - 4] | (guint32) data[len - 3] << 8 | (guint32) data[len - 2] << 16
                  | (guint32) data[len - 1] << 24;
  gsize cap = (gsize) MIN (MAX ((guint64) isize, (guint64) 4096), max_size);
  guint8 *buf = g_malloc (cap + 1);
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor ();
  gsize in_done = 0, out_done = 0;
  gboolean ok = d != NULL;
  while (ok && in_done < len)
    {
      size_t in_used = 0, out_used = 0;
      enum libdeflate_result rc = libdeflate_gzip_decompress_ex (d, data + in_done, len - in_done, buf + out_done,
                                                                 cap - out_done, &in_used, &out_used);
      if (rc == LIBDEFLATE_SUCCESS)
        {
          in_done += in_used;
          out_done += out_used;
        }
      else if (rc == LIBDEFLATE_INSUFFICIENT_SPACE && cap < max_size)
        {
          cap = (gsize) MIN ((guint64) cap * 2, max_size);
          buf = g_realloc (buf, cap + 1);
        }
      else
        ok = FALSE;
    }
  libdeflate_free_decompressor (d);
  if (!ok)
    {
      g_free (buf);
      return NULL;
    }
  buf[out_done] = 0;
  return g_bytes_new_take (buf, out_done);
}

GBytes *
galley_input_gunzip (const guint8 *data, gsize len, guint64 max_size, GError **error)
{
  GBytes *whole = gunzip_whole (data, len, max_size);
  if (whole != NULL)
    return whole;
  g_autoptr(GInputStream) mem = g_memory_input_stream_new_from_data (data, len, NULL);
  g_autoptr(GInputStream) in = galley_gzip_input_stream_new (mem);
  GBytes *out = read_all (in, max_size, NULL, error);
  if (out == NULL)
    g_prefix_error (error, "gzip: ");
  return out;
}

GBytes *
galley_input_read_stream (GInputStream *in, guint64 max_size, GCancellable *cancellable, GError **error)
{
  g_autoptr(GInputStream) buffered = g_buffered_input_stream_new (in);
  if (g_buffered_input_stream_fill (G_BUFFERED_INPUT_STREAM (buffered), 2, cancellable, error) < 0)
    return NULL;
  gsize avail = 0;
  const guint8 *peek = g_buffered_input_stream_peek_buffer (G_BUFFERED_INPUT_STREAM (buffered), &avail);
  if (galley_input_is_gzip (peek, avail))
    {
      g_autoptr(GInputStream) conv = galley_gzip_input_stream_new (buffered);
      return read_all (conv, max_size, cancellable, error);
    }
  return read_all (buffered, max_size, cancellable, error);
}
