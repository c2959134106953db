/* galley-input.c: sniffing, gzip, line reading and JSON record mapping for
 * the source plugins.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-input.h"
#include "galley-json-number.h"

#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

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

InputKind
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
          return INPUT_KIND_BINARY;
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
        return INPUT_KIND_BINARY;
      if (utf16)
        return INPUT_KIND_TEXT;
    }
  if (*bom_charset != NULL && !g_str_equal (*bom_charset, "utf-8"))
    return INPUT_KIND_TEXT;   /* UTF-16/32 text; HTML in them is rare enough */
  if (name != NULL)
    {
      /* no copy of the name (a path) per file */
      gsize name_len = strlen (name);
      if (ascii_suffix_ci (name, name_len, ".gz"))
        name_len -= 3;
      if (ascii_suffix_ci (name, name_len, ".html") || ascii_suffix_ci (name, name_len, ".htm")
          || ascii_suffix_ci (name, name_len, ".xhtml"))
        return INPUT_KIND_HTML;
    }
  const guint8 *p = data;
  gsize rest = n;
  if (*bom_charset != NULL)
    p += 3, rest -= MIN (rest, 3);
  while (rest > 0 && g_ascii_isspace (*p))
    p++, rest--;
  if (ascii_prefix_ci (p, rest, "<!doctype html") || ascii_prefix_ci (p, rest, "<html"))
    return INPUT_KIND_HTML;
  gsize head = MIN (rest, 2048);
  if (contains_html_tag (p, head))
    return INPUT_KIND_HTML;
  return INPUT_KIND_TEXT;
}

void
set_content_type (GalleyDocument *doc, GalleyContentType forced, const char *name)
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
  InputKind kind = galley_input_sniff (data ? data : (const guint8 *) "", len, name, &bom);
  galley_document_set_content_type (doc, kind == INPUT_KIND_HTML ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_TEXT);
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

GBytes *
galley_input_gunzip (const guint8 *data, gsize len, guint64 max_size, GError **error)
{
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

/* ---- line reader ---------------------------------------------------------- */

struct _LineReader {
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
  guint8        prefix[LINE_READER_PREFIX];
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

LineReader *
line_reader_open (const char *path, guint64 max_line, GCancellable *cancellable, GError **error)
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
  LineReader *r = g_new0 (LineReader, 1);
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
line_reader_free (LineReader *r)
{
  if (r == NULL)
    return;
  g_clear_object (&r->in);
  g_clear_object (&r->cancellable);
  g_free (r->buf);
  g_free (r);
}

guint64
line_reader_lineno (const LineReader *r)
{
  return r->lineno;
}

static gssize fill (LineReader *r, GError **error);

guint64
line_reader_consumed (const LineReader *r)
{
  return r->consumed;
}

gboolean
line_reader_last_unterminated (const LineReader *r)
{
  return r->unterminated;
}

guint64
line_reader_fingerprint (LineReader *r, guint64 upto)
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
line_reader_skip (LineReader *r, guint64 offset, guint64 lines, GError **error)
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
fill (LineReader *r, GError **error)
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
      if (r->prefix_len < LINE_READER_PREFIX && r->read_total == r->prefix_len)
        {
          gsize take = MIN ((gsize) n, LINE_READER_PREFIX - r->prefix_len);
          memcpy (r->prefix + r->prefix_len, r->buf + r->end, take);
          r->prefix_len += take;
        }
      r->read_total += n;
      r->end += n;
    }
  return n;
}

gboolean
line_reader_next (LineReader *r, const char **line, gsize *len, gboolean *too_long, GError **error)
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

/* ---- JSON records ---------------------------------------------------------- */

gboolean
record_mapping_init (RecordMapping *m, const GalleyOptions *opts, GError **error)
{
  memset (m, 0, sizeof *m);
  m->id_field = g_strdup (galley_options_get_string (opts, "id-field"));
  m->text_field = g_strdup (galley_options_get_string (opts, "text-field"));
  m->encoding_field = g_strdup (galley_options_get_string (opts, "encoding-field"));
  m->keep_other = galley_options_get_bool (opts, "keep-other-fields");
  m->galley_records = g_str_equal (galley_options_get_enum (opts, "records"), "galley");
  const char *ct = galley_options_get_enum (opts, "content-type");
  m->content_type = g_str_equal (ct, "text") ? GALLEY_CONTENT_TEXT
                  : g_str_equal (ct, "html") ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_UNKNOWN;
  if (*m->text_field == '\0')
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "text-field: must name a field");
      return FALSE;
    }
  const char *const *fields = galley_options_get_strv (opts, "meta-fields");
  guint n = g_strv_length ((char **) fields);
  m->meta_keys = g_new0 (char *, n + 1);
  m->meta_paths = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      const char *eq = strchr (fields[i], '=');
      m->meta_keys[i] = eq ? g_strstrip (g_strndup (fields[i], eq - fields[i])) : g_strdup (fields[i]);
      m->meta_paths[i] = g_strstrip (g_strdup (eq ? eq + 1 : fields[i]));
      if (*m->meta_keys[i] == '\0' || *m->meta_paths[i] == '\0')
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                       "meta-fields: '%s' is not FIELD or KEY=PATH", fields[i]);
          return FALSE;
        }
    }
  return TRUE;
}

void
record_mapping_clear (RecordMapping *m)
{
  g_free (m->id_field);
  g_free (m->text_field);
  g_free (m->encoding_field);
  g_strfreev (m->meta_keys);
  g_strfreev (m->meta_paths);
  memset (m, 0, sizeof *m);
}

/* The value at the dotted @path of @obj in *out (NULL for a JSON null);
 * FALSE if there is none. */
static gboolean
find_path (json_object *obj, const char *path, json_object **out)
{
  *out = NULL;
  if (json_object_object_get_ex (obj, path, out))
    return TRUE;
  if (strchr (path, '.') == NULL)
    return FALSE;
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  json_object *cur = obj;
  for (guint i = 0; parts[i] != NULL; i++)
    if (!json_object_is_type (cur, json_type_object) || !json_object_object_get_ex (cur, parts[i], &cur))
      return FALSE;
  *out = cur;
  return TRUE;
}

static json_object *
get_path (json_object *obj, const char *path)
{
  json_object *v;
  return find_path (obj, path, &v) ? v : NULL;
}

/* TRUE if the JSON string @v has a NUL (\u0000) in it. */
static gboolean
string_has_nul (json_object *v)
{
  return json_object_is_type (v, json_type_string)
         && memchr (json_object_get_string (v), '\0', json_object_get_string_len (v)) != NULL;
}

/* TRUE if @key is a mapped field or the first part of a mapped dotted path. */
static gboolean
is_mapped_root (const RecordMapping *m, const char *key)
{
  gsize klen = strlen (key);
  for (guint i = 0; m->meta_paths[i] != NULL; i++)
    {
      const char *p = m->meta_paths[i];
      if (strncmp (p, key, klen) == 0 && (p[klen] == '\0' || p[klen] == '.'))
        return TRUE;
    }
  for (const char *f = m->text_field; f != NULL; f = f == m->text_field ? m->id_field : NULL)
    if (strncmp (f, key, klen) == 0 && f[klen] == '.')
      return TRUE;
  return FALSE;
}

/* TRUE if every string and member name in @v is valid UTF-8. */
static gboolean
json_is_clean (json_object *v)
{
  switch (json_object_get_type (v))
    {
    case json_type_string:
      return galley_utf8_validate (json_object_get_string (v), json_object_get_string_len (v), NULL);
    case json_type_array:
      for (size_t i = 0; i < json_object_array_length (v); i++)
        if (!json_is_clean (json_object_array_get_idx (v, i)))
          return FALSE;
      return TRUE;
    case json_type_object:
      {
        json_object_object_foreach (v, key, value)
          if (!galley_utf8_validate (key, strlen (key), NULL) || (value != NULL && !json_is_clean (value)))
            return FALSE;
        return TRUE;
      }
    default:
      return TRUE;
    }
}

/* @v itself (a new reference) when its strings and member names are valid
 * UTF-8, else a copy in which they are made valid: input JSON may carry
 * bytes of any charset, the output must not. Sharing instead of copying
 * matters for records that carry big nested values (a previous run's
 * entities): a copy costs a hash table per object. */
static json_object *
clean_json (json_object *v)
{
  if (json_is_clean (v))
    return json_object_get (v);
  switch (json_object_get_type (v))
    {
    case json_type_string:
      {
        g_autofree char *fixed = g_utf8_make_valid (json_object_get_string (v), json_object_get_string_len (v));
        return json_object_new_string (fixed);
      }
    case json_type_array:
      {
        json_object *out = json_object_new_array ();
        for (size_t i = 0; i < json_object_array_length (v); i++)
          json_object_array_add (out, clean_json (json_object_array_get_idx (v, i)));
        return out;
      }
    case json_type_object:
      {
        json_object *out = json_object_new_object ();
        json_object_object_foreach (v, key, value)
          {
            g_autofree char *k = galley_utf8_validate (key, strlen (key), NULL) ? g_strdup (key) : g_utf8_make_valid (key, -1);
            json_object_object_add (out, k, value ? clean_json (value) : NULL);
          }
        return out;
      }
    default:
      return json_object_get (v);
    }
}

/* The raw bytes of @doc: a copy of the JSON string @text (JSON escapes
 * already decoded; a NUL in it is replaced when the text is made). */
static void
set_raw_from_json (GalleyDocument *doc, json_object *text)
{
  int len = json_object_get_string_len (text);
  guint8 *copy = g_malloc (len + 1);
  memcpy (copy, json_object_get_string (text), len);
  copy[len] = 0;
  g_autoptr(GBytes) bytes = g_bytes_new_take (copy, len);
  galley_document_set_raw (doc, bytes);
}

/* The spans of @layer in @arr (an "entities" array or an "annotations"
 * member of an output record). */
static gboolean
read_spans (GalleyDocument *doc, const char *layer, json_object *arr, const char *where, GError **error)
{
  if (!json_object_is_type (arr, json_type_array))
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID, "%s: expected an array of spans, got %s",
                   where, json_type_to_name (json_object_get_type (arr)));
      return FALSE;
    }
  for (size_t i = 0; i < json_object_array_length (arr); i++)
    {
      json_object *o = json_object_array_get_idx (arr, i), *type = NULL, *start = NULL, *end = NULL, *canonical = NULL;
      if (!json_object_is_type (o, json_type_object) || !json_object_object_get_ex (o, "type", &type)
          || !json_object_is_type (type, json_type_string) || !json_object_object_get_ex (o, "start", &start)
          || !json_object_is_type (start, json_type_int) || !json_object_object_get_ex (o, "end", &end)
          || !json_object_is_type (end, json_type_int))
        {
          g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                       "%s[%zu]: expected an object with type (a string), start and end (integers)", where, i);
          return FALSE;
        }
      if (json_object_object_get_ex (o, "canonical", &canonical) && !json_object_is_type (canonical, json_type_string))
        canonical = NULL;
      g_autoptr(json_object) type_c = clean_json (type);
      g_autoptr(json_object) canonical_c = canonical ? clean_json (canonical) : NULL;
      GalleyAnnotation *a = galley_document_add_annotation (doc, layer, json_object_get_string (type_c),
                                                            json_object_get_int64 (start), json_object_get_int64 (end),
                                                            canonical_c ? json_object_get_string (canonical_c) : NULL);
      if (a == NULL)
        {
          g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                       "%s[%zu]: span %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT " is not inside the text (%" G_GINT64_FORMAT
                       " code points)", where, i, json_object_get_int64 (start), json_object_get_int64 (end),
                       galley_document_get_length (doc));
          return FALSE;
        }
      json_object_object_foreach (o, key, value)
        {
          if (g_str_equal (key, "type") || g_str_equal (key, "text") || g_str_equal (key, "canonical")
              || g_str_equal (key, "start") || g_str_equal (key, "end"))
            continue;
          if (a->attrs == NULL)
            a->attrs = json_object_new_object ();
          g_autofree char *k = galley_utf8_validate (key, strlen (key), NULL) ? g_strdup (key) : g_utf8_make_valid (key, -1);
          json_object_object_add (a->attrs, k, value ? clean_json (value) : NULL);
        }
    }
  return TRUE;
}

/* records=galley: a record as export-jsonl writes it (see "Output
 * records" in the user guide) becomes the document it was made from. */
static GalleyDocument *
galley_record_to_document (json_object *obj, const char *source, guint64 lineno, GError **error)
{
  json_object *id = NULL, *text = NULL, *src = NULL;
  if (!json_object_object_get_ex (obj, "id", &id) || !json_object_is_type (id, json_type_string)
      || json_object_get_string_len (id) == 0)
    {
      g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                           "not a galley record: no id (a non-empty string)");
      return NULL;
    }
  if (string_has_nul (id))
    {
      g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                           "id contains a NUL character (\\u0000); ids must not");
      return NULL;
    }
  if (!json_object_object_get_ex (obj, "text", &text) || !json_object_is_type (text, json_type_string))
    {
      g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                           "not a galley record: no text (a string)");
      return NULL;
    }
  g_autoptr(json_object) id_c = clean_json (id);
  g_autofree char *where = g_strdup_printf ("%s:%" G_GUINT64_FORMAT, source, lineno);
  g_autoptr(json_object) src_c = json_object_object_get_ex (obj, "source", &src) && json_object_is_type (src, json_type_string)
                                 ? clean_json (src) : NULL;
  g_autoptr(GalleyDocument) doc = galley_document_new (json_object_get_string (id_c),
                                                       src_c ? json_object_get_string (src_c) : where);
  set_raw_from_json (doc, text);
  GalleyContentType ct = GALLEY_CONTENT_UNKNOWN;
  json_object_object_foreach (obj, key, value)
    {
      if (g_str_equal (key, "id") || g_str_equal (key, "text") || g_str_equal (key, "source"))
        continue;
      if (g_str_equal (key, "meta"))
        {
          if (!json_object_is_type (value, json_type_object))
            {
              g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID, "meta: expected an object");
              return NULL;
            }
          json_object *meta = galley_document_get_meta (doc);
          json_object_object_foreach (value, mk, mv)
            {
              g_autofree char *k = galley_utf8_validate (mk, strlen (mk), NULL) ? g_strdup (mk) : g_utf8_make_valid (mk, -1);
              json_object_object_add (meta, k, mv ? clean_json (mv) : NULL);
            }
        }
      else if (g_str_equal (key, "entities"))
        {
          if (!read_spans (doc, "entities", value, "entities", error))
            return NULL;
        }
      else if (g_str_equal (key, "annotations"))
        {
          if (!json_object_is_type (value, json_type_object))
            {
              g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                                   "annotations: expected an object of span arrays");
              return NULL;
            }
          json_object_object_foreach (value, layer, spans)
            {
              g_autofree char *l = galley_utf8_validate (layer, strlen (layer), NULL) ? g_strdup (layer)
                                   : g_utf8_make_valid (layer, -1);
              g_autofree char *at = g_strdup_printf ("annotations.%s", l);
              if (!read_spans (doc, l, spans, at, error))
                return NULL;
            }
        }
      else if (g_str_equal (key, "repairs"))
        {
          for (size_t i = 0; json_object_is_type (value, json_type_array) && i < json_object_array_length (value); i++)
            {
              json_object *r = json_object_array_get_idx (value, i), *kind = NULL, *count = NULL;
              if (json_object_object_get_ex (r, "kind", &kind) && json_object_is_type (kind, json_type_string)
                  && json_object_object_get_ex (r, "count", &count) && json_object_is_type (count, json_type_int)
                  && galley_utf8_validate (json_object_get_string (kind), json_object_get_string_len (kind), NULL))
                galley_document_add_repair (doc, json_object_get_string (kind), json_object_get_int64 (count));
            }
        }
      else if (g_str_equal (key, "encoding"))
        {
          if (json_object_is_type (value, json_type_string)
              && galley_utf8_validate (json_object_get_string (value), json_object_get_string_len (value), NULL))
            galley_document_set_encoding (doc, json_object_get_string (value));
        }
      else if (g_str_equal (key, "content_type"))
        {
          const char *v = json_object_is_type (value, json_type_string) ? json_object_get_string (value) : "";
          ct = g_str_equal (v, "html") ? GALLEY_CONTENT_HTML : g_str_equal (v, "text") ? GALLEY_CONTENT_TEXT : ct;
        }
      else
        {
          g_autofree char *k = galley_utf8_validate (key, strlen (key), NULL) ? g_strdup (key) : g_utf8_make_valid (key, -1);
          galley_document_set_field (doc, k, value ? clean_json (value) : NULL);
        }
    }
  if (ct != GALLEY_CONTENT_UNKNOWN)
    galley_document_set_content_type (doc, ct);
  return g_steal_pointer (&doc);
}

GalleyDocument *
record_to_document (const RecordMapping *m, json_tokener *tok, const char *line, gsize len,
                    const char *source, guint64 lineno, GError **error)
{
  json_tokener_reset (tok);
  g_autoptr(json_object) obj = json_tokener_parse_ex (tok, line, (int) len);
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  gsize end = json_tokener_get_parse_end (tok);
  gboolean at_end = jerr == json_tokener_continue && end == len;
  if (at_end)
    {
      /* a number or literal at the end of the line (42, null) ends only
       * where the input ends: say so with a NUL */
      obj = json_tokener_parse_ex (tok, "", 1);
      jerr = json_tokener_get_error (tok);
    }
  if (jerr != json_tokener_success)
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "not valid JSON: %s at byte %zu",
                   jerr == json_tokener_continue || at_end ? "unexpected end of line"
                   : json_tokener_error_desc (jerr), end);
      return NULL;
    }
  while (end < len && g_ascii_isspace (line[end]))
    end++;
  if (end < len)
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "unexpected data after the JSON value at byte %zu (one object per line)", end);
      return NULL;
    }
  if (!json_object_is_type (obj, json_type_object))
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "expected a JSON object, got %s", json_type_to_name (json_object_get_type (obj)));
      return NULL;
    }
  galley_json_keep_big_integers (obj, line, len);
  if (m->galley_records)
    return galley_record_to_document (obj, source, lineno, error);
  json_object *text = NULL;
  gboolean has_text = find_path (obj, m->text_field, &text);
  if (text == NULL || !json_object_is_type (text, json_type_string))
    {
      g_autoptr(GString) present = g_string_new (NULL);
      json_object_object_foreach (obj, key, value)
        {
          (void) value;
          g_string_append_printf (present, "%s%s", present->len ? ", " : "", key);
        }
      if (!has_text)
        g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                     "no text field '%s' (fields: %s); set text-field", m->text_field,
                     present->len ? present->str : "none");
      else
        g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                     "text field '%s' is %s, expected a string", m->text_field,
                     json_type_to_name (json_object_get_type (text)));
      return NULL;
    }

  g_autofree char *id = NULL;
  json_object *idv = *m->id_field ? get_path (obj, m->id_field) : NULL;
  if (string_has_nul (idv))
    {
      /* cut at the NUL, "a\u0000b" and "a" would be one document */
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "id field '%s' contains a NUL character (\\u0000); ids must not", m->id_field);
      return NULL;
    }
  if (idv != NULL && !json_object_is_type (idv, json_type_null) && !json_object_is_type (idv, json_type_object)
      && !json_object_is_type (idv, json_type_array))
    id = g_strdup (json_object_get_string (idv));
  if (id == NULL || *id == '\0')
    {
      g_free (id);
      id = g_strdup_printf ("%s:%" G_GUINT64_FORMAT, source, lineno);
    }
  else if (!galley_utf8_validate (id, strlen (id), NULL))
    {
      char *fixed = g_utf8_make_valid (id, -1);
      g_free (id);
      id = fixed;
    }
  g_autofree char *where = g_strdup_printf ("%s:%" G_GUINT64_FORMAT, source, lineno);
  GalleyDocument *doc = galley_document_new (id, where);
  set_raw_from_json (doc, text);

  json_object *enc = *m->encoding_field ? get_path (obj, m->encoding_field) : NULL;
  if (enc != NULL && json_object_is_type (enc, json_type_string)
      && !galley_utf8_validate (json_object_get_string (enc), json_object_get_string_len (enc), NULL))
    enc = NULL;
  if (enc != NULL && json_object_is_type (enc, json_type_string))
    galley_document_set_declared_encoding (doc, json_object_get_string (enc));

  json_object *meta = galley_document_get_meta (doc);
  for (guint i = 0; m->meta_keys[i] != NULL; i++)
    {
      json_object *v = get_path (obj, m->meta_paths[i]);
      if (v != NULL && !json_object_is_type (v, json_type_null))
        json_object_object_add (meta, m->meta_keys[i], clean_json (v));
    }
  if (m->keep_other)
    {
      json_object_object_foreach (obj, key, value)
        {
          if (g_str_equal (key, m->text_field) || g_str_equal (key, m->id_field)
              || (*m->encoding_field && g_str_equal (key, m->encoding_field))
              || is_mapped_root (m, key)
              || json_object_object_get_ex (meta, key, NULL))
            continue;
          g_autofree char *k = galley_utf8_validate (key, strlen (key), NULL) ? g_strdup (key) : g_utf8_make_valid (key, -1);
          json_object_object_add (meta, k, value ? clean_json (value) : NULL);
        }
    }
  set_content_type (doc, m->content_type, NULL);
  return doc;
}

/* ---- JSON Lines reading ------------------------------------------------------- */

struct _RecordReader {
  char         *path;
  const char   *source;     /* name used in ids and messages */
  guint64       max_line;
  const char   *limit_name;    /* the option max_line comes from */
  LineReader   *reader;
  json_tokener *tok;
  gboolean      done;
  gboolean      incremental;   /* an unterminated last line that does not parse is left for later */
  guint64       start_offset;  /* resume here */
  guint64       start_lines;
  guint64       good_offset;   /* end of the last line fully handled */
  guint64       good_lines;
  guint64       end_lines;     /* stop before line end_lines + 1 (shard mode) */
};

void
record_reader_set_end (RecordReader *rr, guint64 lines)
{
  rr->end_lines = lines;
}

void
record_reader_resume (RecordReader *rr, gboolean incremental, guint64 offset, guint64 lines)
{
  rr->incremental = incremental;
  rr->start_offset = rr->good_offset = offset;
  rr->start_lines = rr->good_lines = lines;
}

guint64
record_reader_fingerprint_of (RecordReader *rr, guint64 upto, GError **error)
{
  g_autoptr(LineReader) r = line_reader_open (rr->path, rr->max_line, NULL, error);
  if (r == NULL)
    return 0;
  guint64 want = MIN (upto, (guint64) LINE_READER_PREFIX);
  while (r->prefix_len < want)
    {
      gssize n = fill (r, error);
      if (n <= 0)
        {
          if (n == 0)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "shorter than before");
          return 0;
        }
      r->start = r->end;   /* only the prefix matters */
    }
  return line_reader_fingerprint (r, upto);
}

void
record_reader_position (const RecordReader *rr, guint64 *offset, guint64 *lines, guint64 *fingerprint)
{
  *offset = rr->good_offset;
  *lines = rr->good_lines;
  *fingerprint = rr->reader ? line_reader_fingerprint (rr->reader, rr->good_offset) : 0;
}

gboolean
record_reader_at_end (const RecordReader *rr)
{
  const LineReader *r = rr->reader;
  return r != NULL && r->eof && r->start == r->end && rr->good_offset == r->consumed;
}

RecordReader *
record_reader_new (const char *path, guint64 max_line)
{
  RecordReader *rr = g_new0 (RecordReader, 1);
  rr->path = g_strdup (path);
  rr->source = g_str_equal (path, "-") ? "stdin" : rr->path;
  rr->max_line = max_line;
  rr->limit_name = "max-line";
  rr->tok = json_tokener_new ();
  return rr;
}

void
record_reader_set_limit_name (RecordReader *rr, const char *option)
{
  rr->limit_name = option;
}

void
record_reader_free (RecordReader *rr)
{
  if (rr == NULL)
    return;
  g_clear_pointer (&rr->reader, line_reader_free);
  g_clear_pointer (&rr->tok, json_tokener_free);
  g_free (rr->path);
  g_free (rr);
}

gboolean
record_reader_next (RecordReader *rr, const RecordMapping *m, GalleyStageContext *ctx,
                    GalleyDocument **out, GError **error)
{
  *out = NULL;
  if (rr->done)
    return FALSE;
  if (rr->reader == NULL)
    {
      g_autoptr(GError) local = NULL;
      rr->reader = line_reader_open (rr->path, rr->max_line, galley_stage_context_get_cancellable (ctx), &local);
      if (rr->reader == NULL && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          rr->done = TRUE;   /* stopped while waiting for the first bytes */
          return FALSE;
        }
      if (rr->reader == NULL)
        {
          gboolean no_input = local->domain == G_IO_ERROR && (local->code == G_IO_ERROR_NOT_FOUND
                                                              || local->code == G_IO_ERROR_PERMISSION_DENIED);
          g_set_error (error, GALLEY_SOURCE_ERROR, no_input ? GALLEY_SOURCE_ERROR_NO_INPUT : GALLEY_SOURCE_ERROR_READ,
                       "%s: %s", rr->source, local->message);
          rr->done = TRUE;
          return FALSE;
        }
      if (rr->start_offset > 0 && !line_reader_skip (rr->reader, rr->start_offset, rr->start_lines, &local))
        {
          g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ, "%s: cannot resume: %s", rr->source,
                       local->message);
          rr->done = TRUE;
          return FALSE;
        }
    }
  for (;;)
    {
      if (galley_stage_is_cancelled (ctx))
        return FALSE;
      if (rr->end_lines > 0 && line_reader_lineno (rr->reader) >= rr->end_lines)
        {
          rr->done = TRUE;
          return FALSE;
        }
      rr->good_offset = line_reader_consumed (rr->reader);
      rr->good_lines = line_reader_lineno (rr->reader);
      const char *line;
      gsize len;
      gboolean too_long;
      g_autoptr(GError) local = NULL;
      if (!line_reader_next (rr->reader, &line, &len, &too_long, &local))
        {
          rr->done = TRUE;
          /* stopped while waiting for more: what was handled stays handled */
          if (local != NULL && !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ, "%s:%" G_GUINT64_FORMAT ": %s",
                         rr->source, line_reader_lineno (rr->reader) + 1, local->message);
          return FALSE;
        }
      guint64 lineno = line_reader_lineno (rr->reader);
      if (too_long)
        {
          local = g_error_new (GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                               "line longer than %s (%" G_GUINT64_FORMAT " bytes)", rr->limit_name, rr->max_line);
          if (!galley_stage_reject (ctx, rr->source, lineno, NULL, 0, local))
            return FALSE;
          continue;
        }
      if (lineno == 1 && len >= 3 && memcmp (line, "\xEF\xBB\xBF", 3) == 0)
        {
          /* a UTF-8 byte order mark; offsets still count its bytes */
          line += 3;
          len -= 3;
        }
      gsize i = 0;
      while (i < len && g_ascii_isspace (line[i]))
        i++;
      if (i == len)
        continue;   /* blank lines separate nothing */
      GalleyDocument *doc = record_to_document (m, rr->tok, line, len, rr->source, lineno, &local);
      if (doc == NULL && rr->incremental && line_reader_last_unterminated (rr->reader))
        {
          /* probably still being written: the next run reads it */
          rr->done = TRUE;
          return FALSE;
        }
      if (doc == NULL)
        {
          if (!galley_stage_reject (ctx, rr->source, lineno, line, len, local))
            return FALSE;
          continue;
        }
      rr->good_offset = line_reader_consumed (rr->reader);
      rr->good_lines = lineno;
      *out = doc;
      return TRUE;
    }
}
