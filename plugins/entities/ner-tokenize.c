/* ner-tokenize.c: the entities stage's tokenizer, and the marks it puts on
 * tokens from the model's dictionaries (context words, gazetteers,
 * WordNet classes).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ner-private.h"

#include <galley/galley.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- tokenizer ------------------------------------------------------ */

static inline gboolean
is_apostrophe (gunichar c)
{
  return c == '\'' || c == 0x2019;
}

static inline gboolean
is_hyphen (gunichar c)
{
  return c == '-' || c == 0x2010 || c == 0x2011;
}

static inline gboolean
is_alnum (gunichar c)
{
  if (c < 0x80)
    return g_ascii_isalnum (c);
  return g_unichar_isalnum (c) || g_unichar_ismark (c);
}

static inline gboolean
is_latin (gunichar c)
{
  if (c < 0x250)
    return TRUE;
  if (g_unichar_ismark (c))
    return TRUE;
  GUnicodeScript sc = g_unichar_get_script (c);
  return sc == G_UNICODE_SCRIPT_LATIN || sc == G_UNICODE_SCRIPT_COMMON || sc == G_UNICODE_SCRIPT_INHERITED;
}

static inline gunichar
get_char (const char *p, const char *end, int *n)
{
  guchar c = (guchar) *p;
  if (c < 0x80)
    {
      *n = 1;
      return c;
    }
  gunichar u = g_utf8_get_char_validated (p, end - p);
  if (u == (gunichar) -1 || u == (gunichar) -2)
    {
      *n = 1;
      return 0xfffd;
    }
  *n = g_utf8_skip[c];
  return u;
}

static inline gunichar
peek (const char *p, const char *end)
{
  int n;
  return p < end ? get_char (p, end, &n) : 0;
}

static inline const char *
next_char (const char *p, const char *end)
{
  int n;
  get_char (p, end, &n);
  return p + n;
}

/* Lower-case hash, shape hash and flags of text[b..e). */
static void
token_props (NerToken *t, const char *text)
{
  const char *p = text + t->bstart, *end = text + t->bend;
  guint64 h = 0xcbf29ce484222325ULL;
  guint32 sh = 2166136261u;
  int last_class = -1, shape_len = 0;
  guint n_letters = 0, n_upper = 0;
  gboolean first_letter = TRUE;
  guint32 flags = 0;
  while (p < end)
    {
      int n;
      gunichar c = get_char (p, end, &n);
      p += n;
      gunichar l;
      int cls;
      if (c < 0x80)
        {
          if (c >= 'A' && c <= 'Z')
            l = c + 32, cls = 'X';
          else if (c >= 'a' && c <= 'z')
            l = c, cls = 'x';
          else if (c >= '0' && c <= '9')
            l = c, cls = 'd';
          else
            l = c, cls = (int) c;
        }
      else if ((flags |= NER_TOK_NONASCII, g_unichar_isupper (c)) || g_unichar_istitle (c))
        l = g_unichar_tolower (c), cls = 'X';
      else if (g_unichar_isalpha (c))
        l = c, cls = 'x';
      else if (g_unichar_isdigit (c))
        l = c, cls = 'd';
      else if (c == 0x2019)
        l = '\'', cls = '\'';
      else if (c == 0x2010 || c == 0x2011)
        l = '-', cls = '-';
      else
        l = c, cls = 'o';
      if (cls == 'X' || cls == 'x')
        {
          n_letters++;
          if (cls == 'X')
            n_upper++;
          if (first_letter && cls == 'X')
            flags |= NER_TOK_UPPER1;
          first_letter = FALSE;
          if (c >= 0x250 && !is_latin (c))
            flags |= NER_TOK_NONLATIN;
        }
      else if (cls == 'd')
        flags |= NER_TOK_DIGIT;
      h = (h ^ l) * 0x100000001b3ULL;
      if (cls != last_class && shape_len < 8)
        {
          sh = (sh ^ (guint32) cls) * 16777619u;
          shape_len++;
          last_class = cls;
        }
    }
  if (n_letters > 0)
    flags |= NER_TOK_LETTER;
  if (n_letters > 0 && n_upper == n_letters)
    flags |= NER_TOK_ALLUPPER;
  if (n_letters == 0 && !(flags & NER_TOK_DIGIT))
    {
      flags |= NER_TOK_PUNCT;
      /* separators that never sit inside a name: "Zelensky–Putin talks" */
      guchar c0 = (guchar) text[t->bstart];
      if (c0 >= 0x80 || strchr (",;:()[]\"?!|", c0) != NULL)
        flags |= NER_TOK_NOJOIN;
    }
  /* a figure that is no part of a name: a score or a bowling analysis
   * ("7-1", "3-0-24-0", "0.1-0-0-0") or a place in a ranking ("12th"),
   * so "Mijatovic 7-1 Luis Figo" holds two names, not one (a number
   * alone stays: "Schalke 04", "Channel 4"). The rules cut names there
   * (ner-resolve.c); the decoder does not read it, so training is as
   * before. */
  if ((flags & NER_TOK_DIGIT) && text[t->bstart] >= '0' && text[t->bstart] <= '9' && !(flags & NER_TOK_NONASCII))
    {
      gsize len = t->bend - t->bstart;
      const char *q = text + t->bstart;
      if (n_letters == 0 ? memchr (q, '-', len) != NULL || memchr (q, '.', len) != NULL
          : n_letters == 2 && len >= 3 && g_ascii_isdigit (q[len - 3])
            && (g_ascii_strncasecmp (q + len - 2, "st", 2) == 0 || g_ascii_strncasecmp (q + len - 2, "nd", 2) == 0
                || g_ascii_strncasecmp (q + len - 2, "rd", 2) == 0 || g_ascii_strncasecmp (q + len - 2, "th", 2) == 0))
        flags |= NER_TOK_FIGURE;
    }
  if (t->bend - t->bstart > NER_MAX_TOKEN)
    flags |= NER_TOK_LONG;
  t->lower = h;
  t->shape = sh;
  t->flags |= flags;
}

static void
tokens_reserve (NerScratch *s, guint n)
{
  if (n <= s->toks_size)
    return;
  s->toks_size = MAX (n, s->toks_size * 2);
  s->toks = g_renew (NerToken, s->toks, s->toks_size);
}

/* Splits text[0..len) into tokens; offsets are relative to @text, code
 * points start at @cbase. No model needed (used for gazetteer entries). */
guint
ner_tokenize_raw (NerScratch *s, const char *text, gsize len, gint64 cbase)
{
  const char *p = text, *end = text + len;
  gint64 cp = cbase;
  guint n = 0;
  gboolean nl = TRUE;
  while (p < end)
    {
      int w;
      gunichar c = get_char (p, end, &w);
      if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || (c >= 0x80 && g_unichar_isspace (c)) || c == 0xa0)
        {
          if (c == '\n')
            nl = TRUE;
          p += w;
          cp++;
          continue;
        }
      tokens_reserve (s, n + 1);
      NerToken *t = &s->toks[n++];
      memset (t, 0, sizeof *t);
      t->bstart = (guint32) (p - text);
      t->cstart = cp;
      if (nl)
        t->flags |= NER_TOK_NL_BEFORE;
      nl = FALSE;
      if (is_alnum (c))
        {
          gboolean latin = c < 0x80 || is_latin (c);
          gboolean digits_only = c < 0x80 ? g_ascii_isdigit (c) : g_unichar_isdigit (c);
          gboolean upper_start = c < 0x80 ? g_ascii_isupper (c) : g_unichar_isupper (c);
          guint ncp = 1;
          p += w;
          cp++;
          while (p < end)
            {
              if (latin && g_ascii_isalnum (*p))
                {
                  /* a run of ASCII letters and digits, the usual case */
                  const char *q = p;
                  for (; q < end && g_ascii_isalnum (*q); q++)
                    digits_only = digits_only && g_ascii_isdigit (*q);
                  cp += q - p;
                  ncp += q - p;
                  p = q;
                  continue;
                }
              int w2;
              gunichar d = get_char (p, end, &w2);
              if (is_alnum (d))
                {
                  if ((d < 0x80 || !g_unichar_ismark (d)) && (d < 0x80 || is_latin (d)) != latin)
                    break;
                  if (digits_only && !(d < 0x80 ? g_ascii_isdigit (d) : g_unichar_isdigit (d)))
                    digits_only = FALSE;
                  p += w2;
                  cp++;
                  ncp++;
                  continue;
                }
              const char *q = p + w2;
              gunichar e = peek (q, end);
              if (is_apostrophe (d) && is_alnum (e))
                {
                  /* possessive 's stays a token of its own */
                  const char *r = next_char (q, end);
                  if ((e == 's' || e == 'S') && (r >= end || !is_alnum (peek (r, end))))
                    break;
                }
              else if (d == '.' && ncp == 1 && !digits_only && is_alnum (e) && !g_ascii_isdigit (e))
                {
                  /* U.S., U.N.: single letters with dots */
                  const char *r = next_char (q, end);
                  if (peek (r, end) != '.')
                    break;
                  while (p < end && peek (p, end) == '.' && is_alnum (peek (p + 1, end))
                         && peek (next_char (p + 1, end), end) == '.')
                    {
                      p = next_char (p + 1, end);
                      cp += 2;
                    }
                  p++;
                  cp++;
                  break;
                }
              else if ((d == '.' || d == ',' || d == ':' || d == '/') && digits_only && e < 0x80 && g_ascii_isdigit (e))
                ;
              else if (is_hyphen (d) && is_alnum (e))
                {
                  gboolean up = e < 0x80 ? g_ascii_isupper (e) : g_unichar_isupper (e);
                  if (upper_start && up)
                    break;
                }
              else
                break;
              p = q;
              cp++;
              ncp++;
            }
        }
      else if (is_apostrophe (c) && (peek (p + w, end) == 's' || peek (p + w, end) == 'S')
               && (p + w + 1 >= end || !is_alnum (peek (p + w + 1, end))))
        {
          p += w + 1;
          cp += 2;
        }
      else
        {
          p += w;
          cp++;
        }
      t->bend = (guint32) (p - text);
      t->cend = cp;
      token_props (t, text);
    }
  return n;
}

/* An ASCII word ending in "s" whose stem is a common word ("VISITS",
 * "Bananas"): same hash as token_props over the lower-cased stem. */
static gboolean
common_stem (const NerModel *model, const char *text, const NerToken *t)
{
  guint len = t->bend - t->bstart;
  const char *p = text + t->bstart;
  if (len < 4 || len > NER_MAX_TOKEN || (p[len - 1] != 's' && p[len - 1] != 'S'))
    return FALSE;
  guint64 h = 0xcbf29ce484222325ULL;
  for (guint k = 0; k + 1 < len; k++)
    {
      guchar c = (guchar) p[k];
      if (c >= 0x80 || !g_ascii_isalpha (c))
        return FALSE;
      h = (h ^ (guint64) g_ascii_tolower (c)) * 0x100000001b3ULL;
    }
  return ner_table_get (&model->vocab, h) != NULL;
}

/* Lower-case hash of the word text[p..end), the same as token_props
 * gives the token. */
guint64
ner_word_hash (const char *p, const char *end)
{
  guint64 h = 0xcbf29ce484222325ULL;
  while (p < end)
    {
      int n;
      gunichar c = get_char (p, end, &n), l;
      p += n;
      if (c < 0x80)
        l = (c >= 'A' && c <= 'Z') ? c + 32 : c;
      else if (g_unichar_isupper (c) || g_unichar_istitle (c))
        l = g_unichar_tolower (c);
      else if (c == 0x2019)
        l = '\'';
      else if (c == 0x2010 || c == 0x2011)
        l = '-';
      else
        l = c;
      h = (h ^ l) * 0x100000001b3ULL;
    }
  return h;
}

/* The dictionary is a set of 32-bit entries: a fingerprint of the
 * lower-case hash (its low 32 bits, never 0) with the NER_DICT_* bits in
 * the lowest two, at a slot taken from its high bits. */
guint
ner_dict_slot (guint64 h, guint mask)
{
  return (guint) (h >> 40) & mask;
}

guint32
ner_dict_key (guint64 h)
{
  return ((guint32) h & ~3u) | 4u;
}

/* NER_DICT_* bits of the word with lower-case hash @h (0: not listed). */
static guint
dict_lookup (const NerModel *model, guint64 h)
{
  if (model->dict == NULL)
    return 0;
  guint32 key = ner_dict_key (h);
  for (guint i = ner_dict_slot (h, model->dict_mask);; i = (i + 1) & model->dict_mask)
    {
      guint32 k = model->dict[i];
      if (k == 0)
        return 0;
      if ((k & ~3u) == key)
        return k & 3u;
    }
}

/* Whether the '.' token @i ends a sentence: not after an initial ("J."),
 * a title or a usual abbreviation ("Mr.", "St.", "Inc."). */
static gboolean
period_ends_sentence (const char *text, const NerToken *toks, guint i)
{
  static const char *const abbrev[] = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "lt", "col", "capt", "sgt", "maj", "rev", "gov", "sen",
    "rep", "pres", "mt", "ft", "no", "vs", "inc", "corp", "co", "ltd", "bros", "messrs", "hon", "adm", "cmdr",
  };
  if (i == 0 || toks[i - 1].bend != toks[i].bstart || !(toks[i - 1].flags & NER_TOK_LETTER))
    return TRUE;
  const NerToken *w = &toks[i - 1];
  guint len = w->bend - w->bstart;
  if (len <= 1 || (w->flags & NER_TOK_NONLATIN) || len > 6)
    return len > 1;
  char low[8];
  for (guint k = 0; k < len; k++)
    low[k] = g_ascii_tolower (text[w->bstart + k]);
  low[len] = '\0';
  for (gsize k = 0; k < G_N_ELEMENTS (abbrev); k++)
    if (strcmp (low, abbrev[k]) == 0)
      return FALSE;
  return TRUE;
}

/* What the model's lists say of the word @t alone (in @out). */
static void
word_lex_lookup (const NerModel *model, const char *text, const NerToken *t, NerLex *out)
{
  out->common = ner_table_get (&model->vocab, t->lower) != NULL || common_stem (model, text, t);
  out->dict = (guint8) dict_lookup (model, t->lower);
  guint64 one = ner_seq_step (NER_SEQ_SEED, t->lower);
  const NerEntry *g = ner_table_get (&model->gaz, one);
  out->gaz = g != NULL ? g->bits : 0;
  const NerEntry *wn = ner_table_get (&model->wn, one);
  out->wn = wn != NULL ? (guint8) wn->bits : 0;
  out->more = (ner_table_get (&model->gaz_more, one) != NULL ? NER_MORE_GAZ : 0)
              | (ner_table_get (&model->wn_more, one) != NULL ? NER_MORE_WN : 0);
  /* English month names and their short forms have 3 to 9 letters and
   * start with one of these: most words are ruled out here */
  guint len = t->bend - t->bstart;
  out->month = 0;
  if ((t->flags & NER_TOK_LETTER) && len >= 3 && len <= 9 && strchr ("jfmasond", g_ascii_tolower (text[t->bstart])) != NULL)
    out->month = (guint8) galley_date_month_from_name (text + t->bstart, len, GALLEY_DATE_ENGLISH);
}

/* The same through the cache of the scratch: an ASCII word is known by
 * its lower-case hash (its bytes up to case, all the lookups read); any
 * other is looked up each time. */
static const NerLex *
word_lex (const NerModel *model, NerScratch *s, const char *text, const NerToken *t, NerLex *tmp)
{
  if ((t->flags & NER_TOK_NONASCII) || t->lower == 0)
    {
      word_lex_lookup (model, text, t, tmp);
      return tmp;
    }
  NerLex *e = &s->lex[(t->lower ^ (t->lower >> 29)) & (NER_LEX_CACHE - 1)];
  if (e->key != t->lower)
    {
      word_lex_lookup (model, text, t, e);
      e->key = t->lower;
    }
  return e;
}

/* Sentence starts, headline lines and the marks from the lists. */
static void
mark_context (const NerModel *model, NerScratch *s, const char *text, NerToken *toks, guint n)
{
  gboolean sent = TRUE;
  if (s->lex == NULL)
    s->lex = g_new0 (NerLex, NER_LEX_CACHE);
  for (guint i = 0; i < n; i++)
    {
      NerToken *t = &toks[i];
      if (t->flags & NER_TOK_NL_BEFORE)
        sent = TRUE;
      if (sent)
        t->flags |= NER_TOK_SENT;
      NerLex tmp;
      const NerLex *lex = word_lex (model, s, text, t, &tmp);
      if (lex->common)
        t->flags |= NER_TOK_COMMON;
      if ((t->flags & (NER_TOK_LETTER | NER_TOK_LONG)) == NER_TOK_LETTER)
        {
          guint dc = lex->dict;
          t->flags |= ((dc & NER_DICT_LOWER) ? NER_TOK_DICT_LOWER : 0) | ((dc & NER_DICT_CAP) ? NER_TOK_DICT_CAP : 0);
        }
      t->gaz = lex->gaz;
      /* flags for the rules: the tagger was trained without them */
      if (t->gaz & NER_GZ_NONAME)
        t->flags |= NER_TOK_NONAME;
      if (t->gaz & NER_GZ_CAPS)
        t->flags |= NER_TOK_GAZ_CAPS;
      t->gaz &= ~(guint32) (NER_GZ_NONAME | NER_GZ_CAPS);
      t->wn = lex->wn;
      t->more = lex->more;
      t->month = lex->month;
      if (t->flags & NER_TOK_PUNCT)
        {
          char c = text[t->bstart];
          if ((c == '!' || c == '?' || (c == '.' && t->bend == t->bstart + 1 && period_ends_sentence (text, toks, i))))
            t->flags |= NER_TOK_STOP;
          if (c == '.' || c == '!' || c == '?' || c == ':' || c == ';')
            sent = TRUE;
          else if (sent && (c == '"' || c == '(' || c == '[' || c == '\'' || (guchar) c >= 0x80 || c == '*' || c == '#' || c == '-'))
            sent = TRUE;
          else
            sent = FALSE;
        }
      else
        sent = FALSE;
    }
  /* lines in capitals or in title case: headlines */
  guint line_start = 0;
  for (guint i = 0; i <= n; i++)
    {
      if (i < n && (i == line_start || !(toks[i].flags & NER_TOK_NL_BEFORE)))
        continue;
      guint words = 0, allup = 0, up1 = 0, smallw = 0;
      for (guint j = line_start; j < i; j++)
        {
          const NerToken *t = &toks[j];
          if (!(t->flags & NER_TOK_LETTER) || t->bend - t->bstart < 2)
            continue;
          words++;
          if (t->flags & NER_TOK_ALLUPPER)
            allup++;
          else if (t->flags & NER_TOK_UPPER1)
            up1++;
          else if (t->bend - t->bstart <= 4)
            smallw++;
        }
      gboolean caps = (words >= 2 && allup * 10 >= words * 8)
                      || (words >= 4 && (allup + up1) * 10 >= (words - smallw) * 9 && up1 + allup >= 4 && smallw * 3 <= words);
      if (caps)
        for (guint j = line_start; j < i; j++)
          toks[j].flags |= NER_TOK_CAPSLINE;
      line_start = i;
    }
}

/* The length of the longest name of @table (at most @maxlen tokens) that
 * starts at capitalised token @i and has one of the bits of @mask (0:
 * any), with its bits in *@bits; 0 if none. @one is the bits of the
 * one-word name (0: none), @more whether longer names start with the
 * word, and @more_table the first words of the longer names: the search
 * stops where no name goes on. */
static inline gboolean
may_start_name (const NerToken *t)
{
  gboolean cap = (t->flags & NER_TOK_UPPER1) || ((t->flags & NER_TOK_CAPSLINE) && (t->flags & NER_TOK_LETTER));
  return cap && !(t->flags & NER_TOK_LONG);
}

static guint
longest_name (const NerTable *table, const NerTable *more_table, guint maxlen, guint32 mask, guint32 one,
              gboolean more, const NerToken *toks, guint n, guint i, guint32 *bits)
{
  const NerToken *t = &toks[i];
  if (!may_start_name (t) || maxlen == 0)
    return 0;
  guint best = 0;
  if (one != 0 && (mask == 0 || (one & mask)))
    {
      best = 1;
      *bits = one;
    }
  if (!more)
    return best;
  guint64 h = ner_seq_step (NER_SEQ_SEED, t->lower);
  for (guint l = 2; l <= maxlen && i + l <= n; l++)
    {
      const NerToken *u = &toks[i + l - 1];
      if (u->flags & NER_TOK_NL_BEFORE)
        break;
      h = ner_seq_step (h, u->lower);
      const NerEntry *e = ner_table_get (table, h);
      if (e != NULL && (mask == 0 || (e->bits & mask)))
        {
          best = l;
          *bits = e->bits;
        }
      if (ner_table_get (more_table, h) == NULL)
        break;
    }
  return best;
}

/* Longest gazetteer match starting at each capitalised token. */
static void
mark_gazetteer (const NerModel *model, NerToken *toks, guint n)
{
  for (guint i = 0; i < n;)
    {
      if (!may_start_name (&toks[i]))
        {
          i++;
          continue;
        }
      guint32 bits = 0;
      guint best = longest_name (&model->gaz, &model->gaz_more, model->gaz_maxlen,
                                 NER_GZ_PER | NER_GZ_LOC | NER_GZ_ORG | NER_GZ_DEMONYM | NER_GZ_TITLE,
                                 toks[i].gaz, toks[i].more & NER_MORE_GAZ, toks, n, i, &bits);
      bits &= ~(guint32) (NER_GZ_CAPS | NER_GZ_NONAME);   /* marks for the rules, not features */
      for (guint l = 0; l < best; l++)
        {
          toks[i + l].gaz_span = bits;
          toks[i + l].gaz_pos = l == 0 ? 1 : 2;
        }
      i += MAX (best, 1);
    }
}

/* Longest WordNet name starting at each capitalised token. */
static void
mark_wordnet (const NerModel *model, NerToken *toks, guint n)
{
  for (guint i = 0; i < n;)
    {
      if (!may_start_name (&toks[i]))
        {
          i++;
          continue;
        }
      guint32 bits = 0;
      guint best = longest_name (&model->wn, &model->wn_more, model->wn_maxlen, 0, toks[i].wn,
                                 toks[i].more & NER_MORE_WN, toks, n, i, &bits);
      for (guint l = 0; l < best; l++)
        {
          toks[i + l].wn_span = (guint8) bits;
          toks[i + l].wn_pos = l == 0 ? 1 : 2;
        }
      i += MAX (best, 1);
    }
}

NerToken *
ner_tokenize (const NerModel *model, NerScratch *s, const char *text, gsize len, guint *n_tokens)
{
  guint n = ner_tokenize_raw (s, text, len, 0);
  mark_context (model, s, text, s->toks, n);
  mark_gazetteer (model, s->toks, n);
  mark_wordnet (model, s->toks, n);
  *n_tokens = n;
  return s->toks;
}

