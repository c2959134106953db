/* dedup-passage.c: sentence fingerprints and the passage two documents
 * share (see dedup-passage.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dedup-passage.h"

#include <stdlib.h>

/* Sentences shorter than this are left out: "Share this page." or a
 * dateline says nothing about two documents being the same. */
#define MIN_WORDS 4

typedef struct {
  gsize   start, end;  /* bytes of the sentence, spaces around it left out */
  guint32 hash;        /* of its letters and digits, lower case, words apart */
  guint   words;
} Sentence;

static inline gboolean
is_space (gunichar c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0xA0 || g_unichar_isspace (c);
}

/* A closing quote or bracket may follow the full stop. */
static inline gboolean
is_closer (gunichar c)
{
  return c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x2019 || c == 0x201D || c == 0xBB;
}

static inline gunichar
next_char (const char *text, gsize len, gsize *pos)
{
  guchar b = (guchar) text[*pos];
  if (b < 0x80)
    {
      (*pos)++;
      return b;
    }
  const char *p = text + *pos;
  gunichar c = g_utf8_get_char_validated (p, (gssize) (len - *pos));
  if (c == (gunichar) -1 || c == (gunichar) -2)
    {
      (*pos)++;
      return 0xFFFD;
    }
  *pos = g_utf8_next_char (p) - text;
  return c;
}

/* Reads the sentence at *pos (skipping spaces before it); FALSE at the end. */
static gboolean
next_sentence (const char *text, gsize len, gsize *pos, Sentence *s)
{
  for (;;)
    {
      if (*pos >= len)
        return FALSE;
      gsize q = *pos;
      if (!is_space (next_char (text, len, &q)))
        break;
      *pos = q;
    }
  s->start = *pos;
  s->end = *pos;
  s->hash = 2166136261u;
  s->words = 0;
  gboolean in_word = FALSE;
  while (*pos < len)
    {
      gunichar c = next_char (text, len, pos);
      if (c == '\n')
        break;
      s->end = *pos;
      if (g_unichar_isalnum (c))
        {
          if (!in_word)
            {
              if (s->words > 0)
                s->hash = (s->hash ^ ' ') * 16777619u;
              s->words++;
              in_word = TRUE;
            }
          c = c < 0x80 ? (gunichar) g_ascii_tolower ((char) c) : g_unichar_tolower (c);
          for (guint k = 0; k < 4 && c != 0; k++, c >>= 8)
            s->hash = (s->hash ^ (c & 0xFF)) * 16777619u;
          continue;
        }
      /* an apostrophe inside a word keeps it one word */
      if ((c == '\'' || c == 0x2019) && in_word && *pos < len && g_ascii_isalnum (text[*pos]))
        continue;
      in_word = FALSE;
      if (c == '.' || c == '!' || c == '?')
        {
          gsize after = *pos;
          while (after < len)
            {
              gsize q = after;
              gunichar d = next_char (text, len, &q);
              if (!is_closer (d))
                break;
              after = q;
            }
          gsize q = after;
          if (after >= len || is_space (next_char (text, len, &q)))
            {
              *pos = after;
              s->end = after;
              break;
            }
        }
    }
  return TRUE;
}

void
dedup_passage_fingerprints (const char *text, gsize len, GArray *out)
{
  gsize pos = 0;
  Sentence s;
  while (next_sentence (text, len, &pos, &s))
    if (s.words >= MIN_WORDS)
      g_array_append_val (out, s.hash);
}

static int
cmp_u32 (const void *a, const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

void
dedup_passage_find (const char *text, gsize len, const guint32 *other, guint n_other, DedupPassage *out)
{
  g_autofree guint32 *sorted = g_memdup2 (other, (gsize) n_other * sizeof (guint32));
  if (n_other > 0)
    qsort (sorted, n_other, sizeof (guint32), cmp_u32);
  *out = (DedupPassage) { 0 };
  gsize pos = 0, run_start = 0, run_end = 0;
  guint run = 0, best = 0;
  Sentence s;
  while (next_sentence (text, len, &pos, &s))
    {
      if (s.words < MIN_WORDS)
        {
          if (run > 0)
            run_end = s.end;   /* a short line inside a shared run stays in it */
          continue;
        }
      out->sentences++;
      if (n_other == 0 || bsearch (&s.hash, sorted, n_other, sizeof (guint32), cmp_u32) == NULL)
        {
          run = 0;
          continue;
        }
      out->shared++;
      if (run == 0)
        run_start = s.start;
      run++;
      run_end = s.end;
      if (run > best)
        {
          best = run;
          out->start = run_start;
        }
      if (run == best && out->start == run_start)
        out->end = run_end;
    }
}
