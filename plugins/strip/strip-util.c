/* strip-util.c: small UTF-8 and text helpers of the text mode.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip-text-private.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- small UTF-8 and text helpers ------------------------------------- */

/* The code point ending just before @end (after @start), and its start. */
static gunichar
prev_char (const char *start, const char *end, const char **at)
{
  const char *p = end;
  if (p <= start)
    {
      *at = start;
      return 0;
    }
  p--;
  while (p > start && ((guchar) *p & 0xC0) == 0x80)
    p--;
  *at = p;
  gunichar c = g_utf8_get_char_validated (p, end - p);
  return (c == (gunichar) -1 || c == (gunichar) -2) ? 0xFFFD : c;
}

static gboolean
is_closing (gunichar c)
{
  switch (c)
    {
    case '"': case '\'': case ')': case ']': case '*': case '_':
    case 0x2019: case 0x201D: case 0x00BB: case 0x203A: case 0x201C:
    case 0x0E42:   /* a quote lost to TIS-620, when repair did not run */
      return TRUE;
    default:
      return FALSE;
    }
}

/* TRUE when @s ends like a sentence: . ! ? … : ; before closing quotes. */
gboolean
strip_ends_terminal (const char *s, gsize len)
{
  const char *end = s + len;
  for (int guard = 0; guard < 8; guard++)
    {
      const char *at;
      gunichar c = prev_char (s, end, &at);
      if (c == 0)
        return FALSE;
      if (is_closing (c) || c == ' ')
        {
          end = at;
          continue;
        }
      return c == '.' || c == '!' || c == '?' || c == 0x2026 || c == ':' || c == ';'
             || c == 0x3002 || c == 0xFF01 || c == 0xFF1F;
    }
  return FALSE;
}

gunichar
strip_first_letter (const char *s, gsize len, gsize *at)
{
  const char *p = s, *end = s + len;
  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        return 0;
      if (g_unichar_isalnum (c))
        {
          if (at)
            *at = p - s;
          return c;
        }
      p = g_utf8_next_char (p);
    }
  return 0;
}

gboolean
strip_starts_lower (const char *s, gsize len)
{
  gunichar c = strip_first_letter (s, len, NULL);
  return c != 0 && g_unichar_islower (c);
}

gboolean
strip_word_is_capitalised (const char *w, gsize len)
{
  gunichar c = g_utf8_get_char_validated (w, len);
  return c != (gunichar) -1 && c != (gunichar) -2 && (g_unichar_isupper (c) || g_unichar_istitle (c));
}

/* g_utf8_strdown(), without its per-character work for plain ASCII (the
 * usual case). ASCII with an 'I' still goes through GLib: a Turkish or
 * Azerbaijani locale lowers it to a dotless i. Documents reach the stage
 * as valid UTF-8; a direct caller's broken sequence becomes U+FFFD first,
 * as g_utf8_strdown() may read past the end of one. */
char *
strip_lower_dup (const char *s, gssize len)
{
  gsize n = 0;
  while ((len < 0 || (gsize) len > n) && s[n] != '\0')
    {
      guchar c = (guchar) s[n];
      if (c >= 0x80 || c == 'I')
        {
          gsize all = len < 0 ? strlen (s) : strnlen (s, (gsize) len);
          if (g_utf8_validate_len (s, all, NULL))
            return g_utf8_strdown (s, (gssize) all);
          g_autofree char *valid = g_utf8_make_valid (s, (gssize) all);
          return g_utf8_strdown (valid, -1);
        }
      n++;
    }
  char *out = g_malloc (n + 1);
  for (gsize i = 0; i < n; i++)
    out[i] = (char) ascii_lower ((guchar) s[i]);
  out[n] = '\0';
  return out;
}

/* Words (runs of non-spaces), counted up to 255: every threshold is lower.
 * A word starts at a non-space that is first or follows a space. */
guint32
strip_count_words (const char *s, gsize len)
{
  if (len == 0)
    return 0;
  guint32 n = s[0] != ' ';
  gsize i = 1;
#ifdef __SSE2__
  const __m128i space = _mm_set1_epi8 (' '), zero = _mm_setzero_si128 ();
  while (i + 16 <= len && n < 255)
    {
      /* up to 8 blocks of 16 bytes: each byte lane counts at most 8 starts */
      __m128i acc = zero;
      for (int k = 0; k < 8 && i + 16 <= len; k++, i += 16)
        {
          __m128i sp = _mm_cmpeq_epi8 (_mm_loadu_si128 ((const __m128i *) (s + i)), space);
          __m128i prev = _mm_cmpeq_epi8 (_mm_loadu_si128 ((const __m128i *) (s + i - 1)), space);
          acc = _mm_sub_epi8 (acc, _mm_andnot_si128 (sp, prev));   /* +1 per word start */
        }
      __m128i sums = _mm_sad_epu8 (acc, zero);
      n += (guint32) (_mm_cvtsi128_si32 (sums) + _mm_cvtsi128_si32 (_mm_unpackhi_epi64 (sums, sums)));
    }
#endif
  for (; i < len && n < 255; i++)
    n += s[i] != ' ' && s[i - 1] == ' ';
  return MIN (n, 255);
}

/* Does @lower (lower-case) start with @prefix followed by a non-letter? */
gboolean
strip_has_prefix_word (const char *lower, const char *prefix)
{
  gsize n = strlen (prefix);
  if (strncmp (lower, prefix, n) != 0)
    return FALSE;
  guchar next = (guchar) lower[n];
  if (next == '\0')
    return TRUE;
  gunichar c = g_utf8_get_char_validated (lower + n, -1);
  gunichar last = g_utf8_get_char (g_utf8_prev_char (lower + n));
  /* a prefix that ends in punctuation or space is complete by itself */
  if (!g_unichar_isalnum (last))
    return TRUE;
  return !(c != (gunichar) -1 && c != (gunichar) -2 && g_unichar_isalnum (c));
}

gboolean
strip_match_equal (const char *lower, const char *const *list)
{
  for (const char *const *p = list; *p; p++)
    if (strcmp (lower, *p) == 0)
      return TRUE;
  return FALSE;
}

void
strip_result_note_removed (StripResult *res, StripKind kind, const char *text, gsize len)
{
  if (G_LIKELY (res->removed_units == NULL))
    return;
  GString *t = g_string_sized_new (MIN (len, 420));
  gboolean space = FALSE;
  for (gsize i = 0; i < len && t->len < 400; i++)
    {
      if (g_ascii_isspace (text[i]))
        {
          space = t->len > 0;
          continue;
        }
      if (space)
        g_string_append_c (t, ' ');
      space = FALSE;
      g_string_append_c (t, text[i]);
    }
  if (t->len >= 400)
    {
      /* cut at a character boundary */
      while (t->len > 0 && ((guchar) t->str[t->len - 1] & 0xC0) == 0x80)
        g_string_truncate (t, t->len - 1);
      if (t->len > 0 && (guchar) t->str[t->len - 1] >= 0xC0)
        g_string_truncate (t, t->len - 1);
      g_string_append (t, " …");
    }
  if (t->len == 0)
    {
      g_string_free (t, TRUE);
      return;
    }
  strip_result_add_removed (res, kind, g_string_free (t, FALSE));
}

void
strip_result_add_removed (StripResult *res, StripKind kind, char *text)
{
  StripRemoved *r = g_new (StripRemoved, 1);
  r->text = text;
  r->kind = kind;
  g_ptr_array_add (res->removed_units, r);
}
