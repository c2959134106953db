/* repair-normalize.c: HTML character references and text clean-up.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

#include <stdlib.h>
#include <string.h>

gunichar
repair_cp1252_c1 (gunichar c)
{
  static const gunichar cp1252[32] = {
    0x20AC, 0x81, 0x201A, 0x192, 0x201E, 0x2026, 0x2020, 0x2021, 0x2C6, 0x2030, 0x160, 0x2039,
    0x152, 0x8D, 0x17D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x2DC, 0x2122, 0x161, 0x203A, 0x153, 0x9D, 0x17E, 0x178,
  };
  return c >= 0x80 && c <= 0x9F ? cp1252[c - 0x80] : c;
}

/* Named references that turn up in news text (the full HTML list has
 * over two thousand, mostly mathematical). */
static const struct { const char *name; gunichar c; } entities[] = {
  { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' }, { "nbsp", 0xA0 },
  { "iexcl", 0xA1 }, { "cent", 0xA2 }, { "pound", 0xA3 }, { "curren", 0xA4 }, { "yen", 0xA5 },
  { "brvbar", 0xA6 }, { "sect", 0xA7 }, { "uml", 0xA8 }, { "copy", 0xA9 }, { "ordf", 0xAA },
  { "laquo", 0xAB }, { "not", 0xAC }, { "shy", 0xAD }, { "reg", 0xAE }, { "macr", 0xAF }, { "deg", 0xB0 },
  { "plusmn", 0xB1 }, { "sup2", 0xB2 }, { "sup3", 0xB3 }, { "acute", 0xB4 }, { "micro", 0xB5 },
  { "para", 0xB6 }, { "middot", 0xB7 }, { "cedil", 0xB8 }, { "sup1", 0xB9 }, { "ordm", 0xBA },
  { "raquo", 0xBB }, { "frac14", 0xBC }, { "frac12", 0xBD }, { "frac34", 0xBE }, { "iquest", 0xBF },
  { "Agrave", 0xC0 }, { "Aacute", 0xC1 }, { "Acirc", 0xC2 }, { "Atilde", 0xC3 }, { "Auml", 0xC4 },
  { "Aring", 0xC5 }, { "AElig", 0xC6 }, { "Ccedil", 0xC7 }, { "Egrave", 0xC8 }, { "Eacute", 0xC9 },
  { "Ecirc", 0xCA }, { "Euml", 0xCB }, { "Igrave", 0xCC }, { "Iacute", 0xCD }, { "Icirc", 0xCE },
  { "Iuml", 0xCF }, { "ETH", 0xD0 }, { "Ntilde", 0xD1 }, { "Ograve", 0xD2 }, { "Oacute", 0xD3 },
  { "Ocirc", 0xD4 }, { "Otilde", 0xD5 }, { "Ouml", 0xD6 }, { "times", 0xD7 }, { "Oslash", 0xD8 },
  { "Ugrave", 0xD9 }, { "Uacute", 0xDA }, { "Ucirc", 0xDB }, { "Uuml", 0xDC }, { "Yacute", 0xDD },
  { "THORN", 0xDE }, { "szlig", 0xDF }, { "agrave", 0xE0 }, { "aacute", 0xE1 }, { "acirc", 0xE2 },
  { "atilde", 0xE3 }, { "auml", 0xE4 }, { "aring", 0xE5 }, { "aelig", 0xE6 }, { "ccedil", 0xE7 },
  { "egrave", 0xE8 }, { "eacute", 0xE9 }, { "ecirc", 0xEA }, { "euml", 0xEB }, { "igrave", 0xEC },
  { "iacute", 0xED }, { "icirc", 0xEE }, { "iuml", 0xEF }, { "eth", 0xF0 }, { "ntilde", 0xF1 },
  { "ograve", 0xF2 }, { "oacute", 0xF3 }, { "ocirc", 0xF4 }, { "otilde", 0xF5 }, { "ouml", 0xF6 },
  { "divide", 0xF7 }, { "oslash", 0xF8 }, { "ugrave", 0xF9 }, { "uacute", 0xFA }, { "ucirc", 0xFB },
  { "uuml", 0xFC }, { "yacute", 0xFD }, { "thorn", 0xFE }, { "yuml", 0xFF },
  { "OElig", 0x152 }, { "oelig", 0x153 }, { "Scaron", 0x160 }, { "scaron", 0x161 }, { "Yuml", 0x178 },
  { "Zcaron", 0x17D }, { "zcaron", 0x17E }, { "fnof", 0x192 }, { "circ", 0x2C6 }, { "tilde", 0x2DC },
  { "ensp", 0x2002 }, { "emsp", 0x2003 }, { "thinsp", 0x2009 }, { "zwnj", 0x200C }, { "zwj", 0x200D },
  { "lrm", 0x200E }, { "rlm", 0x200F }, { "ndash", 0x2013 }, { "mdash", 0x2014 }, { "lsquo", 0x2018 },
  { "rsquo", 0x2019 }, { "sbquo", 0x201A }, { "ldquo", 0x201C }, { "rdquo", 0x201D }, { "bdquo", 0x201E },
  { "dagger", 0x2020 }, { "Dagger", 0x2021 }, { "bull", 0x2022 }, { "hellip", 0x2026 }, { "permil", 0x2030 },
  { "prime", 0x2032 }, { "Prime", 0x2033 }, { "lsaquo", 0x2039 }, { "rsaquo", 0x203A }, { "euro", 0x20AC },
  { "trade", 0x2122 }, { "larr", 0x2190 }, { "rarr", 0x2192 }, { "uarr", 0x2191 }, { "darr", 0x2193 },
  { "minus", 0x2212 }, { "le", 0x2264 }, { "ge", 0x2265 }, { "ne", 0x2260 }, { "infin", 0x221E },
  /* the Greek letters and the symbols of HTML 4 */
  { "Alpha", 0x391 }, { "Beta", 0x392 }, { "Gamma", 0x393 }, { "Delta", 0x394 }, { "Epsilon", 0x395 },
  { "Zeta", 0x396 }, { "Eta", 0x397 }, { "Theta", 0x398 }, { "Iota", 0x399 }, { "Kappa", 0x39A },
  { "Lambda", 0x39B }, { "Mu", 0x39C }, { "Nu", 0x39D }, { "Xi", 0x39E }, { "Omicron", 0x39F }, { "Pi", 0x3A0 },
  { "Rho", 0x3A1 }, { "Sigma", 0x3A3 }, { "Tau", 0x3A4 }, { "Upsilon", 0x3A5 }, { "Phi", 0x3A6 }, { "Chi", 0x3A7 },
  { "Psi", 0x3A8 }, { "Omega", 0x3A9 },
  { "alpha", 0x3B1 }, { "beta", 0x3B2 }, { "gamma", 0x3B3 }, { "delta", 0x3B4 }, { "epsilon", 0x3B5 },
  { "zeta", 0x3B6 }, { "eta", 0x3B7 }, { "theta", 0x3B8 }, { "iota", 0x3B9 }, { "kappa", 0x3BA },
  { "lambda", 0x3BB }, { "mu", 0x3BC }, { "nu", 0x3BD }, { "xi", 0x3BE }, { "omicron", 0x3BF }, { "pi", 0x3C0 },
  { "rho", 0x3C1 }, { "sigmaf", 0x3C2 }, { "sigma", 0x3C3 }, { "tau", 0x3C4 }, { "upsilon", 0x3C5 },
  { "phi", 0x3C6 }, { "chi", 0x3C7 }, { "psi", 0x3C8 }, { "omega", 0x3C9 }, { "thetasym", 0x3D1 },
  { "upsih", 0x3D2 }, { "piv", 0x3D6 },
  { "oline", 0x203E }, { "frasl", 0x2044 }, { "weierp", 0x2118 }, { "image", 0x2111 }, { "real", 0x211C },
  { "alefsym", 0x2135 }, { "harr", 0x2194 }, { "crarr", 0x21B5 }, { "lArr", 0x21D0 }, { "uArr", 0x21D1 },
  { "rArr", 0x21D2 }, { "dArr", 0x21D3 }, { "hArr", 0x21D4 }, { "forall", 0x2200 }, { "part", 0x2202 },
  { "exist", 0x2203 }, { "empty", 0x2205 }, { "nabla", 0x2207 }, { "isin", 0x2208 }, { "notin", 0x2209 },
  { "ni", 0x220B }, { "prod", 0x220F }, { "sum", 0x2211 }, { "lowast", 0x2217 }, { "radic", 0x221A },
  { "prop", 0x221D }, { "ang", 0x2220 }, { "and", 0x2227 }, { "or", 0x2228 }, { "cap", 0x2229 },
  { "cup", 0x222A }, { "int", 0x222B }, { "there4", 0x2234 }, { "sim", 0x223C }, { "cong", 0x2245 },
  { "asymp", 0x2248 }, { "equiv", 0x2261 }, { "sub", 0x2282 }, { "sup", 0x2283 }, { "nsub", 0x2284 },
  { "sube", 0x2286 }, { "supe", 0x2287 }, { "oplus", 0x2295 }, { "otimes", 0x2297 }, { "perp", 0x22A5 },
  { "sdot", 0x22C5 }, { "lceil", 0x2308 }, { "rceil", 0x2309 }, { "lfloor", 0x230A }, { "rfloor", 0x230B },
  { "lang", 0x2329 }, { "rang", 0x232A }, { "loz", 0x25CA }, { "spades", 0x2660 }, { "clubs", 0x2663 },
  { "hearts", 0x2665 }, { "diams", 0x2666 },
};

static gboolean
lookup_entity (const char *name, gsize len, gunichar *c)
{
  for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
    if (strlen (entities[i].name) == len && strncmp (entities[i].name, name, len) == 0)
      {
        *c = entities[i].c;
        return TRUE;
      }
  return FALSE;
}

/* One pass; returns NULL when there was nothing to decode. */
static char *
entities_pass (const char *text, gsize len, gint64 *n)
{
  const char *end = text + len;
  const char *amp = memchr (text, '&', len);
  if (amp == NULL)
    return NULL;
  GString *out = g_string_sized_new (len);
  const char *copied = text;
  *n = 0;
  for (; amp != NULL; amp = amp + 1 < end ? memchr (amp + 1, '&', end - amp - 1) : NULL)
    {
      const char *semi = NULL;
      for (const char *q = amp + 1; q < end && q < amp + 12; q++)
        if (*q == ';')
          {
            semi = q;
            break;
          }
        else if (!g_ascii_isalnum (*q) && *q != '#')
          break;
      if (semi == NULL || semi == amp + 1)
        continue;
      gunichar c = 0;
      gboolean ok = FALSE;
      if (amp[1] == '#')
        {
          char *stop = NULL;
          gboolean hex = amp[2] == 'x' || amp[2] == 'X';
          const char *digits = amp + (hex ? 3 : 2);
          if (digits < semi)
            {
              guint64 v = g_ascii_strtoull (digits, &stop, hex ? 16 : 10);
              ok = stop == semi && v > 0 && v <= 0x10FFFF && !(v >= 0xD800 && v <= 0xDFFF);
              c = (gunichar) v;
              /* browsers read &#150; and friends as Windows-1252 */
              if (ok)
                c = repair_cp1252_c1 (c);
            }
        }
      else
        ok = lookup_entity (amp + 1, semi - amp - 1, &c);
      if (!ok)
        continue;
      g_string_append_len (out, copied, amp - copied);
      g_string_append_unichar (out, c);
      copied = semi + 1;
      (*n)++;
      amp = semi;
    }
  if (*n == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  g_string_append_len (out, copied, end - copied);
  return g_string_free (out, FALSE);
}

char *
repair_html_entities (const char *text, gsize len, RepairLog *log)
{
  gint64 n = 0;
  char *once = entities_pass (text, len, &n);
  if (once == NULL)
    return NULL;
  repair_log_add (log, "html-entities", n);
  /* escaped more than once: &amp;quot; became &quot;, decode again while
   * an &amp; was decoded (so the result no longer changes on a re-run) */
  for (int round = 0; round < 16 && strstr (text, "&amp;") != NULL; round++)
    {
      gint64 n2 = 0;
      char *again = entities_pass (once, strlen (once), &n2);
      if (again == NULL)
        break;
      repair_log_add (log, "html-entities-double", n2);
      g_free (once);
      once = again;
    }
  return once;
}

/* The position of the first character from @from on that NFC may change
 * (combining marks, jamo, the few characters NFC replaces), or @len. */
static gsize
nfc_trigger (const char *text, gsize len, gsize from)
{
  const guchar *p = (const guchar *) text;
  for (gsize i = from; i < len; i++)
    {
      /* ASCII eight bytes at a time */
      i = (gsize) (repair_skip_ascii8 (p + i, p + len) - p);
      if (i >= len)
        break;
      guchar c = p[i];
      if (c < 0xCC)
        continue;
      guchar next = i + 1 < len ? p[i + 1] : 0;
      if (c == 0xCC || c == 0xCD)                       /* U+0300-U+036F */
        return i;
      if (c == 0xE1 && next >= 0x84 && next <= 0x87)    /* Hangul jamo */
        return i;
      guchar third = i + 2 < len ? p[i + 2] : 0;
      /* Indic, Lao and Tibetan marks; in Thai only the vowel and tone
       * marks with a combining class (U+0E38-0E3A, U+0E48-0E4B) */
      if (c == 0xE0 && next >= 0xA0
          && (next == 0xB8 ? third >= 0xB8 && third <= 0xBA : next == 0xB9 ? third >= 0x88 && third <= 0x8B : TRUE))
        return i;
      if (c == 0xE3 && (next == 0x80 || next == 0x82))  /* ideographic tone and kana voicing marks */
        return i;
      if (c == 0xEF && ((next >= 0xA4 && next <= 0xAD) || next == 0xB8))   /* compatibility ideographs,
                                                                              presentation forms, half marks */
        return i;
      if (c == 0xE2 && next == 0x84 && (third == 0xA6 || third == 0xAA || third == 0xAB))
        return i;                                       /* Ohm, Kelvin and Angstrom signs */
      /* other characters NFC replaces: the Greek ano teleia, Greek with
       * oxia, two spaces, two angle brackets, CJK compatibility ideographs */
      if ((c == 0xCE && next == 0x87) || (c == 0xE1 && next >= 0xBD && next <= 0xBF)
          || (c == 0xE2 && next == 0x80 && (third == 0x80 || third == 0x81))
          || (c == 0xE2 && next == 0x8C && (third == 0xA9 || third == 0xAA)) || (c == 0xF0 && next == 0xAF))
        return i;
    }
  return len;
}

/* @text in NFC, or NULL when NFC leaves it as it is. Only the stretches
 * around characters NFC may change are normalised: an ASCII character
 * has combining class 0 and never composes with what precedes it, so
 * NFC of a text is NFC of its parts split before any ASCII character,
 * and a page with one emoji variation selector costs a word, not the
 * whole page. */
static char *
nfc_changed (const char *text, gsize len)
{
  GString *out = NULL;
  gsize copied = 0;
  for (gsize i = nfc_trigger (text, len, 0); i < len; i = nfc_trigger (text, len, i))
    {
      gsize start = i;
      while (start > copied && (guchar) text[start] >= 0x80)
        start--;
      gsize end = i + 1;
      while (end < len && (guchar) text[end] >= 0x80)
        end++;
      g_autofree char *nfc = g_utf8_normalize (text + start, end - start, G_NORMALIZE_NFC);
      if (nfc != NULL && (strlen (nfc) != end - start || memcmp (nfc, text + start, end - start) != 0))
        {
          if (out == NULL)
            out = g_string_sized_new (len + 16);
          g_string_append_len (out, text + copied, start - copied);
          g_string_append (out, nfc);
          copied = end;
        }
      i = end;
    }
  if (out == NULL)
    return NULL;
  g_string_append_len (out, text + copied, len - copied);
  return g_string_free (out, FALSE);
}

char *
repair_normalize (const NormalizeOptions *o, const char *text, gsize len, RepairLog *log)
{
  GString *out = NULL;
  gint64 n_newlines = 0, n_controls = 0, n_zw = 0, n_spaces = 0, n_quotes = 0, n_lig = 0;
  const char *end = text + len;
  const char *copied = text;

  for (const char *p = text; p < end;)
    {
      guchar b = (guchar) *p;
      /* printable ASCII never changes: skip it eight bytes at a time */
      if (b >= 0x20 && b < 0x7F)
        {
          p++;
          while (end - p >= 8)
            {
              guint64 w;
              memcpy (&w, p, 8);
              guint64 low = (w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull;
              guint64 del = ((w ^ 0x7F7F7F7F7F7F7F7Full) - 0x0101010101010101ull) & ~(w ^ 0x7F7F7F7F7F7F7F7Full)
                            & 0x8080808080808080ull;
              if ((w & 0x8080808080808080ull) | low | del)
                break;
              p += 8;
            }
          continue;
        }
      /* line feeds, and characters no option touches, by their lead byte:
       * two-byte ones (bar C1 controls), three-byte ones outside the
       * blocks of the spaces, joiners, separators and ligatures, and
       * four-byte ones */
      if (b == '\n' || (b >= 0xC3 && b <= 0xDF) || (b == 0xC2 && !o->controls && o->spaces == 0))
        {
          p += b == '\n' ? 1 : 2;
          continue;
        }
      if (b >= 0xE0 && b <= 0xEF && b != 0xE1 && b != 0xE2 && b != 0xE3 && b != 0xEF)
        {
          p += 3;
          continue;
        }
      if (b >= 0xF0)
        {
          p += 4;
          continue;
        }
      gunichar c = b < 0x80 ? b : g_utf8_get_char (p);
      const char *next = b < 0x80 ? p + 1 : g_utf8_next_char (p);
      const char *replacement = NULL;
      gboolean drop = FALSE;
      gint64 *counter = NULL;
      if (o->newlines && c == '\r')
        {
          replacement = "\n";
          if (next < end && *next == '\n')
            next++;
          counter = &n_newlines;
        }
      else if (o->newlines && (c == 0x2028 || c == 0x2029))
        replacement = "\n", counter = &n_newlines;
      /* C1 controls that are cp1252 punctuation are left for the mojibake step */
      else if (o->controls && ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F
                               || (c >= 0x80 && c <= 0x9F && repair_cp1252_c1 (c) == c)))
        drop = TRUE, counter = &n_controls;
      else if (o->zero_width && (c == 0x200B || c == 0xFEFF || c == 0x2060 || c == 0x180E))
        drop = TRUE, counter = &n_zw;
      else if (o->spaces == 1 && (c == 0xA0 || c == 0x202F || c == 0x2007 || c == 0x2009 || c == 0x200A
                                  || (c >= 0x2000 && c <= 0x2006) || c == 0x205F || c == 0x3000))
        replacement = " ", counter = &n_spaces;
      else if (o->straight_quotes && (c == 0x201C || c == 0x201D || c == 0x201E || c == 0x201F))
        replacement = "\"", counter = &n_quotes;
      else if (o->straight_quotes && (c == 0x2018 || c == 0x2019 || c == 0x201A || c == 0x201B))
        replacement = "'", counter = &n_quotes;
      else if (o->ligatures && c >= 0xFB00 && c <= 0xFB06)
        {
          static const char *const lig[] = { "ff", "fi", "fl", "ffi", "ffl", "st", "st" };
          replacement = lig[c - 0xFB00];
          counter = &n_lig;
        }
      if (replacement == NULL && !drop)
        {
          p = next;
          continue;
        }
      if (out == NULL)
        out = g_string_sized_new (len);
      g_string_append_len (out, copied, p - copied);
      if (replacement != NULL)
        g_string_append (out, replacement);
      (*counter)++;
      p = next;
      copied = next;
    }
  if (out != NULL)
    g_string_append_len (out, copied, end - copied);

  repair_log_add (log, "newlines", n_newlines);
  repair_log_add (log, "control-characters", n_controls);
  repair_log_add (log, "zero-width", n_zw);
  repair_log_add (log, "spaces", n_spaces);
  repair_log_add (log, "quotes-straightened", n_quotes);
  repair_log_add (log, "ligatures", n_lig);

  if (o->nfc)
    {
      const char *cur = out ? out->str : text;
      gsize cur_len = out ? out->len : len;
      char *nfc = nfc_changed (cur, cur_len);
      if (nfc != NULL)
        {
          repair_log_add (log, "nfc", 1);
          if (out != NULL)
            g_string_free (out, TRUE);
          return nfc;
        }
    }
  return out ? g_string_free (out, FALSE) : NULL;
}
