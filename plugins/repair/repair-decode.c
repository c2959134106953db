/* repair-decode.c: raw bytes to UTF-8.
 *
 * Order of evidence: a byte order mark, then bytes that are valid UTF-8,
 * then a charset the source declared (JSONL field, <meta charset>, XML
 * declaration) when the bytes decode cleanly with it, then libuchardet's
 * guess, then the fallback. Conversion uses iconv; a byte that does not
 * convert becomes U+FFFD and is counted, never dropped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <uchardet.h>

#define REPLACEMENT "\xEF\xBF\xBD"

/* Maps the spellings found in the wild to names glibc's iconv knows. */
static const char *
canonical_charset (const char *name)
{
  static const struct { const char *alias; const char *name; } aliases[] = {
    { "utf8", "UTF-8" }, { "utf-8", "UTF-8" }, { "unicode-1-1-utf-8", "UTF-8" },
    { "latin1", "ISO-8859-1" }, { "latin-1", "ISO-8859-1" }, { "iso-8859-1", "ISO-8859-1" },
    { "iso8859-1", "ISO-8859-1" }, { "l1", "ISO-8859-1" }, { "us-ascii", "WINDOWS-1252" }, { "ascii", "WINDOWS-1252" },
    { "cp1252", "WINDOWS-1252" }, { "windows-1252", "WINDOWS-1252" }, { "x-cp1252", "WINDOWS-1252" },
    { "cp1250", "WINDOWS-1250" }, { "cp1251", "WINDOWS-1251" }, { "cp1253", "WINDOWS-1253" },
    { "cp1254", "WINDOWS-1254" }, { "cp1257", "WINDOWS-1257" }, { "cp874", "WINDOWS-874" },
    { "tis-620", "WINDOWS-874" }, { "tis620", "WINDOWS-874" }, { "iso-8859-11", "WINDOWS-874" },
    { "mac-roman", "MACINTOSH" }, { "macroman", "MACINTOSH" }, { "x-mac-roman", "MACINTOSH" },
    { "macintosh", "MACINTOSH" }, { "cp437", "IBM437" }, { "ibm437", "IBM437" },
    { "sjis", "SHIFT_JIS" }, { "shift-jis", "SHIFT_JIS" }, { "x-sjis", "SHIFT_JIS" },
    { "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "x-gbk", "GB18030" }, { "euc-cn", "GB18030" },
    { "big5-hkscs", "BIG5-HKSCS" }, { "ks_c_5601-1987", "EUC-KR" }, { "windows-949", "CP949" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (g_ascii_strcasecmp (name, aliases[i].alias) == 0)
      return aliases[i].name;
  return NULL;
}

/* TRUE if iconv can convert from @name. */
static gboolean
charset_known (const char *name)
{
  iconv_t cd = iconv_open ("UTF-8", name);
  if (cd == (iconv_t) -1)
    return FALSE;
  iconv_close (cd);
  return TRUE;
}

/* Converts with iconv; bytes that do not convert become U+FFFD. Returns
 * NULL if @charset is unknown. *n_bad counts replaced bytes. */
static char *
convert_lossy (const guint8 *in, gsize len, const char *charset, gsize *out_len, gint64 *n_bad)
{
  iconv_t cd = iconv_open ("UTF-8", charset);
  if (cd == (iconv_t) -1)
    return NULL;
  GString *out = g_string_sized_new (len + len / 2 + 16);
  char buf[16384];
  char *ip = (char *) in;
  gsize ileft = len;
  *n_bad = 0;
  while (ileft > 0)
    {
      char *op = buf;
      gsize oleft = sizeof buf;
      gsize rc = iconv (cd, &ip, &ileft, &op, &oleft);
      g_string_append_len (out, buf, op - buf);
      if (rc != (gsize) -1)
        continue;
      if (errno == E2BIG)
        continue;
      /* EILSEQ or EINVAL (truncated at the end): one byte becomes U+FFFD */
      g_string_append (out, REPLACEMENT);
      (*n_bad)++;
      ip++;
      ileft--;
      iconv (cd, NULL, NULL, NULL, NULL);
    }
  char *op = buf;
  gsize oleft = sizeof buf;
  iconv (cd, NULL, NULL, &op, &oleft);
  g_string_append_len (out, buf, op - buf);
  iconv_close (cd);
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

/* Reads a charset name at @q: optional spaces, '=', optional quotes. */
static char *
read_charset_value (const char *q)
{
  while (*q == ' ' || *q == '\t')
    q++;
  if (*q != '=')
    return NULL;
  q++;
  while (*q == ' ' || *q == '\t' || *q == '"' || *q == '\'')
    q++;
  const char *start = q;
  while (g_ascii_isalnum (*q) || *q == '-' || *q == '_' || *q == ':' || *q == '.')
    q++;
  if (q > start && q - start < 40)
    return g_strndup (start, q - start);
  return NULL;
}

/* Finds the XML declaration's encoding= or charset=... in <meta> near the start. */
static char *
sniff_declared_charset (const guint8 *raw, gsize len)
{
  gsize n = MIN (len, 8192);
  g_autofree char *head = g_ascii_strdown ((const char *) raw, n);
  if (g_str_has_prefix (head, "<?xml"))
    {
      const char *end = strstr (head, "?>");
      const char *enc = strstr (head, "encoding");
      if (enc != NULL && (end == NULL || enc < end))
        {
          char *value = read_charset_value (enc + strlen ("encoding"));
          if (value != NULL)
            return value;
        }
    }
  for (const char *p = head; (p = strstr (p, "charset")) != NULL; p += strlen ("charset"))
    {
      char *value = read_charset_value (p + strlen ("charset"));
      if (value != NULL)
        return value;
    }
  return NULL;
}

/* Mostly UTF-8 with a few stray bytes: at least as many valid multi-byte
 * sequences as bad bytes. Legacy text rarely forms valid sequences (its
 * accented letters are lone bytes among ASCII). NUL counts as ASCII here. */
static gboolean
mostly_utf8 (const guint8 *raw, gsize len)
{
  gsize good = 0, bad = 0;
  const char *p = (const char *) raw, *end = p + len;
  while (p < end)
    {
      const char *stop = NULL;
      if (galley_utf8_validate (p, end - p, &stop))
        stop = end;
      for (const char *q = p; q < stop; q++)
        good += ((guchar) *q & 0xC0) == 0xC0;
      if (stop >= end)
        break;
      if (*stop != '\0')
        bad++;
      p = stop + 1;
    }
  return good > 0 && bad <= good;
}

/* UTF-16 without a BOM: every other byte NUL in ASCII-heavy text. */
static const char *
sniff_utf16 (const guint8 *raw, gsize len)
{
  gsize n = MIN (len, 4096) & ~(gsize) 1;
  gsize even = 0, odd = 0;
  for (gsize i = 0; i < n; i += 2)
    {
      even += raw[i] == 0;
      odd += raw[i + 1] == 0;
    }
  if (n >= 4 && odd > n / 2 * 4 / 10 && even * 20 < n / 2 + 1)
    return "UTF-16LE";
  if (n >= 4 && even > n / 2 * 4 / 10 && odd * 20 < n / 2 + 1)
    return "UTF-16BE";
  return NULL;
}

static const char *
detect (const guint8 *raw, gsize len)
{
  uchardet_t ud = uchardet_new ();
  if (uchardet_handle_data (ud, (const char *) raw, MIN (len, 256 * 1024)) != 0)
    {
      uchardet_delete (ud);
      return NULL;
    }
  uchardet_data_end (ud);
  const char *cs = uchardet_get_charset (ud);
  const char *result = NULL;
  if (cs != NULL && *cs != '\0')
    {
      const char *alias = canonical_charset (cs);
      /* uchardet names are iconv names, except a few */
      result = g_intern_string (alias ? alias : cs);
    }
  uchardet_delete (ud);
  return result;
}

char *
repair_decode (const guint8 *raw, gsize len, const char *declared, gboolean is_html,
               const DecodeOptions *opts, const char **charset, gsize *out_len, RepairLog *log)
{
  static const struct { const char *bom; gsize len; const char *charset; } boms[] = {
    { "\xEF\xBB\xBF", 3, "UTF-8" }, { "\xFF\xFE\x00\x00", 4, "UTF-32LE" }, { "\x00\x00\xFE\xFF", 4, "UTF-32BE" },
    { "\xFF\xFE", 2, "UTF-16LE" }, { "\xFE\xFF", 2, "UTF-16BE" },
  };
  gint64 bad = 0;
  char *out = NULL;
  g_autofree char *sniffed = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (boms); i++)
    if (len >= boms[i].len && memcmp (raw, boms[i].bom, boms[i].len) == 0)
      {
        *charset = boms[i].charset;
        out = convert_lossy (raw + boms[i].len, len - boms[i].len, boms[i].charset, out_len, &bad);
        repair_log_add (log, "bom-removed", 1);
        goto done;
      }

  if (galley_utf8_validate ((const char *) raw, len, NULL) || mostly_utf8 (raw, len))
    {
      /* valid, or UTF-8 with a few stray bytes that become U+FFFD */
      *charset = "UTF-8";
      GString *clean = g_string_sized_new (len + 16);
      const char *p = (const char *) raw, *end = p + len;
      while (p < end)
        {
          const char *stop = NULL;
          if (galley_utf8_validate (p, end - p, &stop))
            stop = end;
          g_string_append_len (clean, p, stop - p);
          if (stop >= end)
            break;
          if (*stop == '\0')
            g_string_append_c (clean, '\0');   /* NULs are handled below */
          else
            {
              g_string_append (clean, REPLACEMENT);
              bad++;
            }
          p = stop + 1;
        }
      *out_len = clean->len;
      out = g_string_free (clean, FALSE);
      goto done;
    }

  const char *utf16 = sniff_utf16 (raw, len);
  if (utf16 != NULL)
    {
      *charset = utf16;
      out = convert_lossy (raw, len, utf16, out_len, &bad);
      repair_log_add (log, "decoded:utf-16-without-bom", 1);
      goto done;
    }

  if (declared == NULL && (is_html || (len >= 5 && memcmp (raw, "<?xml", 5) == 0)))
    declared = sniffed = sniff_declared_charset (raw, len);
  if (declared != NULL && opts->use_declared)
    {
      const char *name = canonical_charset (declared);
      if (name == NULL && charset_known (declared))
        name = g_intern_string (declared);
      if (name == NULL)
        repair_log_add (log, "unknown-charset", 1);
      else if (g_ascii_strcasecmp (name, "UTF-8") == 0)
        repair_log_add (log, "declared-charset-wrong", 1);  /* the bytes are not UTF-8 */
      else
        {
          gsize n;
          char *text = convert_lossy (raw, len, name, &n, &bad);
          if (bad == 0)
            {
              *charset = name;
              *out_len = n;
              out = text;
              goto done;
            }
          g_free (text);
          repair_log_add (log, "declared-charset-wrong", 1);
        }
    }

  const char *guess = opts->detect ? detect (raw, len) : NULL;
  if (guess != NULL && g_ascii_strcasecmp (guess, "ASCII") != 0 && g_ascii_strcasecmp (guess, "UTF-8") != 0)
    {
      out = convert_lossy (raw, len, guess, out_len, &bad);
      if (out != NULL)
        {
          *charset = guess;
          goto done;
        }
    }
  *charset = opts->fallback;
  out = convert_lossy (raw, len, opts->fallback, out_len, &bad);
  if (out == NULL)
    {
      *charset = "WINDOWS-1252";
      out = convert_lossy (raw, len, "WINDOWS-1252", out_len, &bad);
    }

done:
  if (bad > 0)
    repair_log_add (log, "invalid-bytes", bad);
  if (out != NULL && !galley_utf8_validate (out, *out_len, NULL))
    {
      /* NUL characters (UTF-16 text, binary junk) and whatever a converter
       * let through that is not UTF-8 (a lead byte past U+10FFFF) become
       * U+FFFD now, so the later steps see the text as it will be stored */
      GString *clean = g_string_sized_new (*out_len + 16);
      gint64 nul = 0, invalid = 0;
      const char *p = out, *end = out + *out_len, *stop = NULL;
      while (p < end)
        {
          if (galley_utf8_validate (p, end - p, &stop))
            stop = end;
          g_string_append_len (clean, p, stop - p);
          if (stop == end)
            break;
          if (*stop == '\0')
            nul++;
          else
            invalid++;
          g_string_append (clean, REPLACEMENT);
          p = stop + 1;
        }
      g_free (out);
      *out_len = clean->len;
      out = g_string_free (clean, FALSE);
      repair_log_add (log, "nul-byte", nul);
      repair_log_add (log, "invalid-bytes", invalid);
    }
  {
    /* report charsets in lower case, as IANA spells them */
    g_autofree char *lower = g_ascii_strdown (*charset, -1);
    *charset = g_intern_string (lower);
    if (out != NULL && !g_str_equal (*charset, "utf-8"))
      {
        g_autofree char *kind = g_strconcat ("decoded:", lower, NULL);
        repair_log_add (log, kind, 1);
      }
  }
  return out;
}
