/* strip-markup.c: inline markup in text: HTML tags, markdown emphasis and links.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip-text-private.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- markup ------------------------------------------------------------ */

static const char *const inline_tags[] = {
  "u", "b", "i", "em", "strong", "span", "a", "font", "mark", "small", "big", "sup", "sub", "s", "del",
  "ins", "cite", "q", "abbr", "code", "tt", "time", "strike", NULL
};
static const char *const block_tags[] = {
  "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section",
  "article", "figure", "figcaption", "img", "hr", "table", "tr", "td", "th", "tbody", "thead",
  "header", "footer", "nav", "aside", "main", "center", "dl", "dt", "dd", "pre", "iframe", "picture",
  "source", "video", "audio", NULL
};

/* Length of an HTML tag of a known name at @p ('<'), or 0. *block: a tag
 * that separates words. */
static gsize
tag_len (const char *p, const char *end, gboolean *block)
{
  const char *q = p + 1;
  if (q < end && *q == '/')
    q++;
  const char *name = q;
  while (q < end && g_ascii_isalnum (*q))
    q++;
  gsize n = q - name;
  if (n == 0 || n > 10 || q >= end || !(*q == '>' || *q == ' ' || *q == '/' || *q == '\t'))
    return 0;
  char lname[12];
  for (gsize i = 0; i < n; i++)
    lname[i] = g_ascii_tolower (name[i]);
  lname[n] = '\0';
  if (strip_match_equal (lname, inline_tags))
    *block = FALSE;
  else if (strip_match_equal (lname, block_tags))
    *block = TRUE;
  else
    return 0;
  const char *limit = MIN (end, p + 600);
  const char *close = memchr (q, '>', limit - q);
  if (close == NULL)
    return 0;
  return close + 1 - p;
}

/* Bytes where strip_unwrap_append() looks closer. */
static const guint8 unwrap_special[256] = {
  ['<'] = 1, ['*'] = 1, ['_'] = 1, ['['] = 1, ['!'] = 1,
};

/* The first byte in [@q, @end) that strip_unwrap_append() looks closer at. */
static const char *
find_special (const char *q, const char *end)
{
#ifdef __SSE2__
  const __m128i lt = _mm_set1_epi8 ('<'), star = _mm_set1_epi8 ('*'), under = _mm_set1_epi8 ('_');
  const __m128i bracket = _mm_set1_epi8 ('['), bang = _mm_set1_epi8 ('!');
  while (q + 16 <= end)
    {
      __m128i v = _mm_loadu_si128 ((const __m128i *) q);
      __m128i hit = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (v, lt), _mm_cmpeq_epi8 (v, star)),
                                  _mm_or_si128 (_mm_cmpeq_epi8 (v, under), _mm_cmpeq_epi8 (v, bracket)));
      int mask = _mm_movemask_epi8 (_mm_or_si128 (hit, _mm_cmpeq_epi8 (v, bang)));
      if (mask != 0)
        return q + __builtin_ctz ((unsigned) mask);
      q += 16;
    }
#endif
  while (q < end && !unwrap_special[(guchar) *q])
    q++;
  return q;
}

/* Appends @s to @out with inline tags, markdown emphasis and markdown
 * links unwrapped (their words kept), images dropped and runs of spaces
 * collapsed. Returns the number of remnants unwrapped. */
gint64
strip_unwrap_append (GString *out, const char *s, gsize len)
{
  gint64 n = 0;
  const char *p = s, *end = s + len;
  const char *pending_close = NULL;   /* the closing '*' of a single-star emphasis */
  gsize start_len = out->len;
  while (p < end)
    {
      /* copy the run without anything special in one go */
      if (*p == ' ' && (out->len == start_len || out->str[out->len - 1] == ' '))
        {
          p++;
          continue;
        }
      const char *q = find_special (p, end);
      if (q > p)
        {
          g_string_append_len (out, p, q - p);
          p = q;
          if (p >= end)
            break;
        }
      char c = *p;
      if (c == ' ')
        {
          if (out->len > start_len && out->str[out->len - 1] != ' ')
            g_string_append_c (out, ' ');
          p++;
          continue;
        }
      if (c == '<')
        {
          gboolean block = FALSE;
          gsize tl = tag_len (p, end, &block);
          if (tl > 0)
            {
              if (block && out->len > start_len && out->str[out->len - 1] != ' ')
                g_string_append_c (out, ' ');
              p += tl;
              n++;
              continue;
            }
        }
      else if ((c == '*' || c == '_') && p + 1 < end && p[1] == c)
        {
          /* ** and __ : drop when they touch a word on one side */
          gboolean before = p > s && !is_space ((guchar) p[-1]);
          gboolean after = p + 2 < end && !is_space ((guchar) p[2]);
          if (before || after || p + 2 == end || p == s)
            {
              p += 2;
              n++;
              continue;
            }
        }
      else if (c == '*')
        {
          if (p == pending_close)
            {
              pending_close = NULL;
              p++;
              continue;
            }
          gboolean open = (p == s || !is_word_byte ((guchar) p[-1])) && p + 1 < end && !is_space ((guchar) p[1])
                          && p[1] != '*';
          if (open)
            {
              const char *limit = MIN (end, p + 300);
              for (const char *k = p + 2; k < limit; k++)
                if (*k == '*' && !is_space ((guchar) k[-1]) && (k + 1 == end || !is_word_byte ((guchar) k[1])))
                  {
                    pending_close = k;
                    break;
                  }
              if (pending_close != NULL)
                {
                  p++;
                  n++;
                  continue;
                }
            }
        }
      else if (c == '!' && p + 1 < end && p[1] == '[')
        {
          /* ![alt](url): an image, dropped */
          const char *rb = memchr (p + 2, ']', MIN ((gsize) (end - p - 2), (gsize) 400));
          if (rb != NULL && rb + 1 < end && rb[1] == '(')
            {
              const char *rp = memchr (rb + 2, ')', MIN ((gsize) (end - rb - 2), (gsize) 800));
              if (rp != NULL)
                {
                  p = rp + 1;
                  n++;
                  continue;
                }
            }
        }
      else if (c == '[')
        {
          /* [text](url) -> text */
          const char *rb = memchr (p + 1, ']', MIN ((gsize) (end - p - 1), (gsize) 400));
          if (rb != NULL && rb + 1 < end && rb[1] == '(')
            {
              const char *rp = memchr (rb + 2, ')', MIN ((gsize) (end - rb - 2), (gsize) 800));
              if (rp != NULL && memchr (rb + 2, ' ', rp - rb - 2) == NULL)
                {
                  gint64 inner = strip_unwrap_append (out, p + 1, rb - p - 1);
                  n += inner + 1;
                  p = rp + 1;
                  continue;
                }
            }
        }
      g_string_append_c (out, c);
      p++;
    }
  /* no trailing space */
  while (out->len > start_len && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  return n;
}

/* The unit's text without markup (for meta values and matching); @n gets
 * the number of remnants, if not NULL. */
char *
strip_plain_text (const char *s, gsize len, gint64 *n)
{
  GString *out = g_string_sized_new (len + 1);
  gint64 k = strip_unwrap_append (out, s, len);
  if (n)
    *n = k;
  /* leading heading marks, quote marks and list bullets */
  gsize skip = 0;
  while (skip < out->len && (out->str[skip] == '#' || out->str[skip] == '>' || out->str[skip] == ' '))
    skip++;
  g_string_erase (out, 0, skip);
  return g_string_free (out, FALSE);
}

gboolean
strip_has_letters (const char *s, gsize len)
{
  return strip_first_letter (s, len, NULL) != 0;
}

