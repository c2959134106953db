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

/* ASCII bytes by what they do to a sentence; other bytes start a
 * multi-byte character, classed by GLib. */
enum { C_OTHER, C_ALNUM, C_SPACE, C_NEWLINE, C_STOP, C_CLOSER, C_APOS };

static const guint8 ascii_class[128] = {
  ['\t'] = C_SPACE, ['\n'] = C_NEWLINE, ['\v'] = C_SPACE, ['\f'] = C_SPACE, ['\r'] = C_SPACE, [' '] = C_SPACE,
  ['.'] = C_STOP, ['!'] = C_STOP, ['?'] = C_STOP,
  ['"'] = C_CLOSER, [')'] = C_CLOSER, [']'] = C_CLOSER, ['\''] = C_APOS,
  ['0'] = C_ALNUM, ['1'] = C_ALNUM, ['2'] = C_ALNUM, ['3'] = C_ALNUM, ['4'] = C_ALNUM,
  ['5'] = C_ALNUM, ['6'] = C_ALNUM, ['7'] = C_ALNUM, ['8'] = C_ALNUM, ['9'] = C_ALNUM,
#define L(c) [c] = C_ALNUM, [c - 32] = C_ALNUM
  L ('a'), L ('b'), L ('c'), L ('d'), L ('e'), L ('f'), L ('g'), L ('h'), L ('i'), L ('j'), L ('k'), L ('l'),
  L ('m'), L ('n'), L ('o'), L ('p'), L ('q'), L ('r'), L ('s'), L ('t'), L ('u'), L ('v'), L ('w'), L ('x'),
  L ('y'), L ('z'),
#undef L
};

/* The class of the character at *pos, moving past it; *c is the character
 * (lower case when it is a letter). */
static inline guint
next_class (const char *text, gsize len, gsize *pos, gunichar *c)
{
  guchar b = (guchar) text[*pos];
  if (b < 0x80)
    {
      (*pos)++;
      *c = b | (ascii_class[b] == C_ALNUM ? 0x20 : 0);
      return ascii_class[b];
    }
  const char *p = text + *pos;
  gunichar u = g_utf8_get_char_validated (p, (gssize) (len - *pos));
  if (u == (gunichar) -1 || u == (gunichar) -2)
    {
      (*pos)++;
      *c = 0xFFFD;
      return C_OTHER;
    }
  *pos = g_utf8_next_char (p) - text;
  *c = u;
  if (u == 0x2019)
    return C_APOS;
  if (u == 0x201D || u == 0xBB)
    return C_CLOSER;
  if (g_unichar_isalnum (u))
    {
      *c = g_unichar_tolower (u);
      return C_ALNUM;
    }
  return g_unichar_isspace (u) ? C_SPACE : C_OTHER;
}

#define FNV_PRIME 0x100000001B3u

/* Reads the sentence at *pos_out (skipping spaces before it); FALSE at
 * the end. Its hash is FNV-1a over its letters and digits in lower case,
 * a character at a time, the first of a word marking the word break. */
static gboolean
next_sentence (const char *text, gsize len, gsize *pos_out, Sentence *s)
{
  /* locals, not *pos_out and *s: a byte read through char * could be
   * either, so the compiler would store them at every byte */
  gsize i = *pos_out;
  gunichar c;
  for (;;)
    {
      if (i >= len)
        {
          *pos_out = i;
          return FALSE;
        }
      gsize q = i;
      guint k = next_class (text, len, &q, &c);
      if (k != C_SPACE && k != C_NEWLINE)
        break;
      i = q;
    }
  gsize start = i, end = i;
  guint64 h = 0xCBF29CE484222325u;
  guint words = 0;
  gboolean in_word = FALSE;
  while (i < len)
    {
      /* ASCII letters, digits, spaces and other marks: no branch on the
       * class (word lengths are random, a branch on them mispredicts) */
      guchar b = (guchar) text[i];
      guint k = b < 0x80 ? ascii_class[b] : C_NEWLINE + 8;
      if (k <= C_SPACE)
        {
          guint64 alnum = k == C_ALNUM, starts = alnum & !in_word;
          /* a word after the first carries the space before it in its
           * first byte's value */
          guint64 v = (b | 0x20) | ((starts & (words > 0)) << 8);
          guint64 m = -alnum;
          h = (h & ~m) | (((h ^ v) * FNV_PRIME) & m);
          words += (guint) starts;
          in_word = (gboolean) alnum;
          i++;
          end = k == C_SPACE ? end : i;
          continue;
        }
      if (k == C_NEWLINE)
        break;
      /* the rest, a character at a time */
      k = next_class (text, len, &i, &c);
      end = i;
      if (k == C_ALNUM)
        {
          guint64 v = c | ((guint64) (!in_word && words > 0) << 32);
          words += !in_word;
          in_word = TRUE;
          h = (h ^ v) * FNV_PRIME;
          continue;
        }
      if (k == C_SPACE)
        {
          in_word = FALSE;
          continue;
        }
      /* an apostrophe inside a word keeps it one word */
      if (k == C_APOS && in_word && i < len && g_ascii_isalnum (text[i]))
        continue;
      in_word = FALSE;
      if (k == C_STOP)
        {
          /* the end of a sentence when a space (after closing quotes or
           * brackets) or the end of the text follows */
          gsize after = i;
          guint next = C_SPACE;
          while (after < len)
            {
              gsize q = after;
              next = next_class (text, len, &q, &c);
              if (next != C_CLOSER && next != C_APOS)
                break;
              after = q;
            }
          if (after >= len || next == C_SPACE || next == C_NEWLINE)
            {
              i = after;
              end = after;
              break;
            }
        }
    }
  s->start = start;
  s->end = end;
  s->hash = (guint32) (h ^ (h >> 32));
  s->words = words;
  *pos_out = i;
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
