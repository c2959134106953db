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

static inline guint64
mix (guint64 h, guint64 v)
{
  h = (h ^ v) * 0xBF58476D1CE4E5B9u;
  return h ^ (h >> 31);
}

/* Reads the sentence at *pos (skipping spaces before it); FALSE at the end. */
static gboolean
next_sentence (const char *text, gsize len, gsize *pos_out, Sentence *s)
{
  /* locals, not *pos_out and *s: a byte read through char * could be
   * either, so the compiler would store them at every byte */
  gsize at = *pos_out, sent_start, sent_end;
  gsize *pos = &at;
  gunichar c;
  for (;;)
    {
      if (*pos >= len)
        {
          *pos_out = at;
          return FALSE;
        }
      gsize q = *pos;
      guint k = next_class (text, len, &q, &c);
      if (k != C_SPACE && k != C_NEWLINE)
        break;
      *pos = q;
    }
  sent_start = *pos;
  sent_end = *pos;
  /* letters and digits go into a 64-bit word, mixed in every 8 bytes */
  guint64 h = 0x9E3779B97F4A7C15u, acc = 0;
  guint n_acc = 0, words = 0;
  gboolean in_word = FALSE;
  while (*pos < len)
    {
      guint k = next_class (text, len, pos, &c);
      if (k == C_NEWLINE)
        break;
      sent_end = *pos;
      if (k == C_ALNUM)
        {
          if (!in_word)
            {
              if (words > 0)
                c = (c << 8) | ' ';
              words++;
              in_word = TRUE;
            }
          for (; c != 0; c >>= 8)
            {
              acc = (acc << 8) | (c & 0xFF);
              if (++n_acc == 8)
                {
                  h = mix (h, acc);
                  acc = 0;
                  n_acc = 0;
                }
            }
          /* the rest of an ASCII word */
          guchar b;
          while (*pos < len && (b = (guchar) text[*pos]) < 0x80 && ascii_class[b] == C_ALNUM)
            {
              acc = (acc << 8) | (b | 0x20);
              (*pos)++;
              if (++n_acc == 8)
                {
                  h = mix (h, acc);
                  acc = 0;
                  n_acc = 0;
                }
            }
          sent_end = *pos;
          continue;
        }
      /* an apostrophe inside a word keeps it one word */
      if (k == C_APOS && in_word && *pos < len && g_ascii_isalnum (text[*pos]))
        continue;
      in_word = FALSE;
      if (k == C_STOP)
        {
          /* the end of a sentence when a space (after closing quotes or
           * brackets) or the end of the text follows */
          gsize after = *pos;
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
              *pos = after;
              sent_end = after;
              break;
            }
        }
    }
  h = mix (h, acc ^ ((guint64) n_acc << 59));
  s->start = sent_start;
  s->end = sent_end;
  s->hash = (guint32) (h ^ (h >> 32));
  s->words = words;
  *pos_out = at;
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
