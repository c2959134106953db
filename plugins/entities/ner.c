/* ner.c: tokenizer, gazetteers, aliases and the perceptron tagger of the
 * entities stage. Dates, money and percentages are in ner-dates.c, the
 * mention assembly and canonical names in ner-resolve.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ner-private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const ner_type_names[NER_N_TYPES] = { "PER", "ORG", "LOC", "DATE", "MONEY", "PERCENT" };

/* ---- hashing -------------------------------------------------------- */

static inline guint64
mix64 (guint64 x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

guint64
ner_seq_step (guint64 h, guint64 tok)
{
  return mix64 (h + tok + 0x9e3779b97f4a7c15ULL);
}

static inline guint32
feat (guint32 tmpl, guint64 value)
{
  return (guint32) (mix64 (value ^ ((guint64) tmpl << 56) ^ 0x51ed2701u) >> (64 - NER_HASH_BITS));
}

/* ---- hash sets (open addressing, 64-bit keys, 0 never a key) --------- */

static void
table_init (NerTable *t, guint bits)
{
  t->mask = (1u << bits) - 1;
  t->keys = g_new0 (guint64, t->mask + 1);
  t->vals = g_new0 (NerEntry, t->mask + 1);
  t->used = 0;
}

static void
table_clear (NerTable *t)
{
  g_clear_pointer (&t->keys, g_free);
  g_clear_pointer (&t->vals, g_free);
}

static NerEntry *table_insert (NerTable *t, guint64 key);

static void
table_grow (NerTable *t)
{
  NerTable n;
  guint bits = 1;
  while ((1u << bits) <= (t->mask + 1) * 2)
    bits++;
  table_init (&n, bits);
  for (guint i = 0; i <= t->mask; i++)
    if (t->keys[i] != 0)
      *table_insert (&n, t->keys[i]) = t->vals[i];
  table_clear (t);
  *t = n;
}

static NerEntry *
table_insert (NerTable *t, guint64 key)
{
  if (key == 0)
    key = 1;
  if ((t->used + 1) * 2 > t->mask + 1)
    table_grow (t);
  guint i = (guint) key & t->mask;
  while (t->keys[i] != 0 && t->keys[i] != key)
    i = (i + 1) & t->mask;
  if (t->keys[i] == 0)
    {
      t->keys[i] = key;
      t->vals[i].bits = 0;
      t->vals[i].canon = NER_NO_STRING;
      t->used++;
    }
  return &t->vals[i];
}

const NerEntry *
ner_table_get (const NerTable *t, guint64 key)
{
  if (t->keys == NULL)
    return NULL;
  if (key == 0)
    key = 1;
  guint i = (guint) key & t->mask;
  while (t->keys[i] != 0)
    {
      if (t->keys[i] == key)
        return &t->vals[i];
      i = (i + 1) & t->mask;
    }
  return NULL;
}

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
      else if (g_unichar_isupper (c) || g_unichar_istitle (c))
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
              int w2;
              gunichar d = get_char (p, end, &w2);
              if (is_alnum (d))
                {
                  if (!g_unichar_ismark (d) && (d < 0x80 || is_latin (d)) != latin)
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
static guint64
word_hash (const char *p, const char *end)
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
static inline guint
dict_slot (guint64 h, guint mask)
{
  return (guint) (h >> 40) & mask;
}

static inline guint32
dict_key (guint64 h)
{
  return ((guint32) h & ~3u) | 4u;
}

/* NER_DICT_* bits of the word with lower-case hash @h (0: not listed). */
static guint
dict_lookup (const NerModel *model, guint64 h)
{
  if (model->dict == NULL)
    return 0;
  guint32 key = dict_key (h);
  for (guint i = dict_slot (h, model->dict_mask);; i = (i + 1) & model->dict_mask)
    {
      guint32 k = model->dict[i];
      if (k == 0)
        return 0;
      if ((k & ~3u) == key)
        return k & 3u;
    }
}

/* Sentence starts, headline lines and the common-word flag. */
static void
mark_context (const NerModel *model, const char *text, NerToken *toks, guint n)
{
  gboolean sent = TRUE;
  for (guint i = 0; i < n; i++)
    {
      NerToken *t = &toks[i];
      if (t->flags & NER_TOK_NL_BEFORE)
        sent = TRUE;
      if (sent)
        t->flags |= NER_TOK_SENT;
      const NerEntry *e = ner_table_get (&model->vocab, t->lower);
      if (e != NULL || common_stem (model, text, t))
        t->flags |= NER_TOK_COMMON;
      if ((t->flags & (NER_TOK_LETTER | NER_TOK_LONG)) == NER_TOK_LETTER)
        {
          guint dc = dict_lookup (model, t->lower);
          t->flags |= ((dc & NER_DICT_LOWER) ? NER_TOK_DICT_LOWER : 0) | ((dc & NER_DICT_CAP) ? NER_TOK_DICT_CAP : 0);
        }
      guint64 one = ner_seq_step (NER_SEQ_SEED, t->lower);
      const NerEntry *g = ner_table_get (&model->gaz, one);
      t->gaz = g != NULL ? g->bits : 0;
      const NerEntry *wn = ner_table_get (&model->wn, one);
      t->wn = wn != NULL ? (guint8) wn->bits : 0;
      if (t->flags & NER_TOK_PUNCT)
        {
          char c = text[t->bstart];
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
 * any), with its bits in *@bits; 0 if none. */
static guint
longest_name (const NerTable *table, guint maxlen, guint32 mask, const NerToken *toks, guint n, guint i,
              guint32 *bits)
{
  const NerToken *t = &toks[i];
  gboolean cap = (t->flags & NER_TOK_UPPER1) || ((t->flags & NER_TOK_CAPSLINE) && (t->flags & NER_TOK_LETTER));
  if (!cap || (t->flags & NER_TOK_LONG))
    return 0;
  guint best = 0;
  guint64 h = NER_SEQ_SEED;
  for (guint l = 1; l <= maxlen && i + l <= n; l++)
    {
      const NerToken *u = &toks[i + l - 1];
      if (l > 1 && (u->flags & NER_TOK_NL_BEFORE))
        break;
      h = ner_seq_step (h, u->lower);
      const NerEntry *e = ner_table_get (table, h);
      if (e != NULL && (mask == 0 || (e->bits & mask)))
        {
          best = l;
          *bits = e->bits;
        }
    }
  return best;
}

/* Longest gazetteer match starting at each capitalised token. */
static void
mark_gazetteer (const NerModel *model, NerToken *toks, guint n)
{
  for (guint i = 0; i < n;)
    {
      guint32 bits = 0;
      guint best = longest_name (&model->gaz, model->gaz_maxlen,
                                 NER_GZ_PER | NER_GZ_LOC | NER_GZ_ORG | NER_GZ_DEMONYM | NER_GZ_TITLE, toks, n, i, &bits);
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
      guint32 bits = 0;
      guint best = longest_name (&model->wn, model->wn_maxlen, 0, toks, n, i, &bits);
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
  mark_context (model, text, s->toks, n);
  mark_gazetteer (model, s->toks, n);
  mark_wordnet (model, s->toks, n);
  *n_tokens = n;
  return s->toks;
}

/* ---- features ------------------------------------------------------- */

#define BOS 0x1234567ULL
#define EOS 0x7654321ULL

/* The shape used by the features: in headlines a common word looks like
 * lower case and any other word like a capitalised one. */
static inline guint32
eff_shape (const NerToken *t)
{
  if ((t->flags & (NER_TOK_CAPSLINE | NER_TOK_LETTER)) == (NER_TOK_CAPSLINE | NER_TOK_LETTER))
    return (t->flags & NER_TOK_COMMON) ? 0x11u : 0x22u;
  return t->shape;
}

static inline guint32
eff_cap (const NerToken *t)
{
  if ((t->flags & (NER_TOK_CAPSLINE | NER_TOK_LETTER)) == (NER_TOK_CAPSLINE | NER_TOK_LETTER))
    return (t->flags & NER_TOK_COMMON) ? 0 : 1;
  return (t->flags & NER_TOK_UPPER1) ? ((t->flags & NER_TOK_ALLUPPER) ? 2 : 1) : 0;
}

static guint64
affix (const char *text, const NerToken *t, int n, gboolean suffix)
{
  guint len = t->bend - t->bstart;
  if (len > NER_MAX_TOKEN)
    return 0;
  guint take = MIN ((guint) n, len);
  const char *p = text + (suffix ? t->bend - take : t->bstart);
  guint64 v = (guint64) n << 40;
  for (guint k = 0; k < take; k++)
    v = v * 131 + (guchar) g_ascii_tolower (p[k]);
  return v;
}

guint32
ner_unknown_word_feature (gboolean acronym)
{
  return acronym ? feat (61, 0) : feat (60, 0);
}

static inline gboolean
run_cap (const NerToken *t)
{
  return (t->flags & NER_TOK_LETTER) && eff_cap (t) > 0
         && (t->flags & (NER_TOK_SENT | NER_TOK_COMMON)) != (NER_TOK_SENT | NER_TOK_COMMON);
}

/* Small lower-case words inside names: "Bank of England", "Isabella of
 * France", "Ludwig van Beethoven". */
static gboolean
run_connector (const char *text, const NerToken *t)
{
  static const char *const words[] = { "of", "de", "del", "della", "di", "da", "du", "la", "le", "von", "van",
                                       "der", "den", "and", "&", "for", "the", "on", "upon" };
  guint len = t->bend - t->bstart;
  if (len > 5)
    return FALSE;
  for (gsize k = 0; k < G_N_ELEMENTS (words); k++)
    if (strlen (words[k]) == len && memcmp (text + t->bstart, words[k], len) == 0)
      return TRUE;
  return FALSE;
}

/* The run of capitalised words (with connectors) around token @i:
 * [*a, *b]; FALSE when @i is in none. */
static gboolean
cap_run (const NerToken *toks, guint n, guint i, const char *text, guint *a, guint *b)
{
  if (!run_cap (&toks[i]))
    {
      if (i == 0 || i + 1 >= n || !run_connector (text, &toks[i]) || !run_cap (&toks[i - 1]) || !run_cap (&toks[i + 1])
          || (toks[i + 1].flags & NER_TOK_NL_BEFORE))
        return FALSE;
    }
  guint x = i, y = i;
  for (int steps = 0; steps < 8 && x > 0 && !(toks[x].flags & NER_TOK_NL_BEFORE); steps++)
    {
      if (run_cap (&toks[x - 1]))
        x--;
      else if (x >= 2 && run_connector (text, &toks[x - 1]) && run_cap (&toks[x - 2])
               && !(toks[x - 1].flags & NER_TOK_NL_BEFORE))
        x -= 2;
      else
        break;
    }
  for (int steps = 0; steps < 8 && y + 1 < n && !(toks[y + 1].flags & NER_TOK_NL_BEFORE); steps++)
    {
      if (run_cap (&toks[y + 1]))
        y++;
      else if (y + 2 < n && run_connector (text, &toks[y + 1]) && run_cap (&toks[y + 2])
               && !(toks[y + 2].flags & NER_TOK_NL_BEFORE))
        y += 2;
      else
        break;
    }
  *a = x;
  *b = y;
  return TRUE;
}

static inline guint64
dict_class (const NerToken *t)
{
  return (t->flags & (NER_TOK_DICT_LOWER | NER_TOK_DICT_CAP)) >> 12;
}

/* WordNet knows the word only as a capitalised noun that is no person,
 * organisation or place: "Renaissance", "Democrat", "GDP". */
static inline gboolean
wn_other (const NerToken *t)
{
  return (t->wn_span & (NER_WN_MISC | NER_WN_PEOPLE)) && !(t->wn_span & (NER_WN_PER | NER_WN_ORG | NER_WN_LOC));
}

guint
ner_features (const NerModel *model, const NerToken *toks, guint n, guint i, const char *text, guint32 *out)
{
  const NerToken *t = &toks[i];
  const NerToken *p1 = i > 0 ? &toks[i - 1] : NULL;
  const NerToken *p2 = i > 1 ? &toks[i - 2] : NULL;
  const NerToken *n1 = i + 1 < n ? &toks[i + 1] : NULL;
  const NerToken *n2 = i + 2 < n ? &toks[i + 2] : NULL;
  guint64 w0 = (t->flags & NER_TOK_LONG) ? 1 : t->lower;
  guint64 wp1 = p1 ? p1->lower : BOS, wp2 = p2 ? p2->lower : BOS;
  guint64 wn1 = n1 ? n1->lower : EOS, wn2 = n2 ? n2->lower : EOS;
  guint32 s0 = eff_shape (t), sp1 = p1 ? eff_shape (p1) : 1, sn1 = n1 ? eff_shape (n1) : 2;
  guint64 g0 = ((guint64) t->gaz_span << 2) | t->gaz_pos;
  guint64 gp = p1 ? (((guint64) p1->gaz_span << 2) | p1->gaz_pos) : 3;
  guint64 gn = n1 ? (((guint64) n1->gaz_span << 2) | n1->gaz_pos) : 3;
  guint cap = eff_cap (t);
  guint k = 0;
  out[k++] = feat (1, 0);
  out[k++] = feat (2, w0);
  out[k++] = feat (3, wp1);
  out[k++] = feat (4, wn1);
  out[k++] = feat (5, wp2);
  out[k++] = feat (6, wn2);
  out[k++] = feat (7, s0);
  out[k++] = feat (8, sp1);
  out[k++] = feat (9, sn1);
  out[k++] = feat (10, affix (text, t, 3, TRUE));
  out[k++] = feat (11, affix (text, t, 2, TRUE));
  out[k++] = feat (12, affix (text, t, 3, FALSE));
  out[k++] = feat (13, t->gaz);
  out[k++] = feat (14, g0);
  out[k++] = feat (15, p1 ? p1->gaz : 0xffff);
  out[k++] = feat (16, n1 ? n1->gaz : 0xffff);
  out[k++] = feat (17, gp);
  out[k++] = feat (18, gn);
  out[k++] = feat (19, ((t->flags & NER_TOK_SENT) ? 8 : 0) | cap | ((t->flags & NER_TOK_COMMON) ? 4 : 0));
  out[k++] = feat (20, wp1 * 31 + s0);
  out[k++] = feat (21, ((guint64) sp1 << 32 | s0) * 7 + sn1);
  out[k++] = feat (22, (guint64) s0 << 1 | ((t->flags & NER_TOK_CAPSLINE) ? 1 : 0));
  out[k++] = feat (23, w0 * 17 + wn1);
  out[k++] = feat (24, wp1 * 13 + w0);
  out[k++] = feat (25, g0 * 64 + gp * 8 + cap);
  out[k++] = feat (26, (guint64) sn1 << 8 | cap | ((t->flags & NER_TOK_SENT) ? 16 : 0));
  out[k++] = feat (27, wn1 * 31 + cap);
  out[k++] = feat (28, t->gaz * 64ULL + (p1 ? eff_cap (p1) : 7) * 8 + (n1 ? eff_cap (n1) : 7));
  out[k++] = feat (29, affix (text, t, 4, TRUE));
  out[k++] = feat (30, affix (text, t, 2, FALSE));
  out[k++] = feat (31, affix (text, t, 4, FALSE));
  /* neighbours: capitalised or not, common word or not */
  out[k++] = feat (32, (p1 ? (eff_cap (p1) * 2 + !!(p1->flags & NER_TOK_COMMON)) : 15) * 16
                   + (n1 ? (eff_cap (n1) * 2 + !!(n1->flags & NER_TOK_COMMON)) : 15));
  out[k++] = feat (33, (guint64) MIN (t->cend - t->cstart, 12) * 4 + cap);
  out[k++] = feat (34, n2 ? eff_shape (n2) : 3);
  out[k++] = feat (35, p2 ? eff_shape (p2) : 3);
  /* results lines: "Barcelona 3 Valencia 1" (clubs) against "Germany 2 Italy 1" */
  guint dig = (n1 && (n1->flags & NER_TOK_DIGIT) ? 1 : 0) | (p1 && (p1->flags & NER_TOK_DIGIT) ? 2 : 0)
              | (n2 && (n2->flags & NER_TOK_DIGIT) ? 4 : 0);
  out[k++] = feat (36, g0 * 8 + dig);
  out[k++] = feat (37, (guint64) t->gaz * 8 + dig);
  out[k++] = feat (38, w0 * 8 + dig);
  /* the run of capitalised words the token is in: its first and last
   * word (the head: "... Park", "University of ..."), the words around it */
  guint ra, rb;
  if (cap_run (toks, n, i, text, &ra, &rb))
    {
      guint64 pos = (i == ra ? 1 : 0) | (i == rb ? 2 : 0);
      const NerToken *last = &toks[rb];
      out[k++] = feat (50, ((last->flags & NER_TOK_LONG) ? 1 : last->lower) * 4 + pos);
      out[k++] = feat (51, ((toks[ra].flags & NER_TOK_LONG) ? 1 : toks[ra].lower) * 4 + pos);
      out[k++] = feat (52, (ra > 0 ? toks[ra - 1].lower : BOS) * 4 + pos);
      out[k++] = feat (53, (rb + 1 < n ? toks[rb + 1].lower : EOS) * 4 + pos);
      out[k++] = feat (54, ((guint64) last->gaz * 8 + MIN (rb - ra + 1, 5)) * 4 + pos);
      out[k++] = feat (55, affix (text, last, 3, TRUE) * 4 + pos);
    }
  else
    out[k++] = feat (50, 0);
  /* a capitalised word that no list knows (apart at the start of a
   * sentence, where common words are capitalised too); entities-train adds
   * to the weights of the other a prior measured on held-out text */
  if ((t->flags & NER_TOK_UPPER1) && !(t->flags & (NER_TOK_ALLUPPER | NER_TOK_COMMON)) && t->gaz == 0
      && t->gaz_span == 0 && !wn_other (t))
    out[k++] = (t->flags & NER_TOK_SENT) ? feat (60, 1) : ner_unknown_word_feature (FALSE);
  /* the same for an acronym in no list, outside headlines */
  if ((t->flags & (NER_TOK_ALLUPPER | NER_TOK_LETTER)) == (NER_TOK_ALLUPPER | NER_TOK_LETTER)
      && !(t->flags & (NER_TOK_COMMON | NER_TOK_CAPSLINE)) && t->gaz == 0 && t->gaz_span == 0
      && t->bend - t->bstart >= 2 && t->bend - t->bstart <= 6)
    out[k++] = ner_unknown_word_feature (TRUE);
  /* the English dictionary: an ordinary word, a word only written
   * capitalised (a proper noun), both or neither; for the neighbours too */
  out[k++] = feat (62, (guint64) dict_class (t) << 8 | cap << 4 | (t->flags & NER_TOK_SENT ? 2 : 0)
                   | (t->flags & NER_TOK_COMMON ? 1 : 0));
  out[k++] = feat (63, (guint64) (p1 ? dict_class (p1) * 4 + eff_cap (p1) : 31) << 8
                   | (n1 ? dict_class (n1) * 4 + eff_cap (n1) : 31));
  /* WordNet: the kinds of the longest name covering the token (person,
   * organisation, place, another capitalised noun), of the token alone
   * with its case, and of its two neighbours alone */
  out[k++] = feat (64, ((guint64) t->wn_span << 2 | t->wn_pos) * 4 + cap);
  out[k++] = feat (65, ((guint64) t->wn << 4) | cap << 1 | (t->flags & NER_TOK_SENT ? 1 : 0));
  out[k++] = feat (66, (guint64) (p1 ? p1->wn : 0x1ff) << 9 | (n1 ? n1->wn : 0x1ff));
  (void) model;
  return k;
}

guint
ner_pair_features (const NerToken *toks, guint i, int prev, guint32 *out)
{
  const NerToken *t = &toks[i];
  guint k = 0;
  out[k++] = feat (40, (guint64) prev);
  out[k++] = feat (42, (guint64) eff_shape (t) * 16 + prev);
  out[k++] = feat (43, t->lower * 16 + prev);
  out[k++] = feat (44, ((guint64) t->gaz_span << 2 | t->gaz_pos) * 16 + prev);
  return k;
}

gboolean
ner_tag_allowed (const NerToken *t, int prev, int tag)
{
  if (tag == NER_O)
    return TRUE;
  if (t->flags & NER_TOK_LONG)
    return FALSE;
  gboolean inside = (tag == NER_I_PER || tag == NER_I_ORG || tag == NER_I_LOC);
  if (inside)
    return (prev == tag || prev == tag - 1) && !(t->flags & (NER_TOK_NL_BEFORE | NER_TOK_NOJOIN));
  return (t->flags & NER_TOK_LETTER) != 0;
}

void
ner_viterbi (const NerToken *toks, guint n, const float *emit, const float *pair, float *score, guint8 *back,
             guint8 *out)
{
  if (n == 0)
    return;
  for (int c = 0; c < NER_N_TAGS; c++)
    score[c] = ner_tag_allowed (&toks[0], NER_O, c) ? emit[c] + pair[NER_O * NER_TAG_STRIDE + c] : -INFINITY;
  for (guint i = 1; i < n; i++)
    {
      const float *prev_sc = score + (gsize) (i - 1) * NER_TAG_STRIDE;
      float *cur = score + (gsize) i * NER_TAG_STRIDE;
      const float *pi = pair + (gsize) i * NER_N_TAGS * NER_TAG_STRIDE;
      for (int c = 0; c < NER_N_TAGS; c++)
        {
          float best = -INFINITY;
          int arg = NER_O;
          for (int p = 0; p < NER_N_TAGS; p++)
            {
              if (prev_sc[p] == -INFINITY || !ner_tag_allowed (&toks[i], p, c))
                continue;
              float v = prev_sc[p] + pi[p * NER_TAG_STRIDE + c];
              if (v > best)
                best = v, arg = p;
            }
          cur[c] = best == -INFINITY ? best : best + emit[(gsize) i * NER_TAG_STRIDE + c];
          back[(gsize) i * NER_TAG_STRIDE + c] = (guint8) arg;
        }
    }
  const float *last = score + (gsize) (n - 1) * NER_TAG_STRIDE;
  int c = NER_O;
  for (int k = 1; k < NER_N_TAGS; k++)
    if (last[k] > last[c])
      c = k;
  for (guint i = n; i-- > 0;)
    {
      out[i] = (guint8) c;
      if (i > 0)
        c = back[(gsize) i * NER_TAG_STRIDE + c];
    }
}

/* Scratch buffers of the decoder for @n tokens. */
static void
viterbi_reserve (NerScratch *s, guint n)
{
  if (n <= s->vit_size)
    return;
  s->vit_size = MAX (n, s->vit_size * 2);
  s->emit = g_renew (float, s->emit, (gsize) s->vit_size * NER_TAG_STRIDE);
  s->pair = g_renew (float, s->pair, (gsize) s->vit_size * NER_N_TAGS * NER_TAG_STRIDE);
  s->score = g_renew (float, s->score, (gsize) s->vit_size * NER_TAG_STRIDE);
  s->back = g_renew (guint8, s->back, (gsize) s->vit_size * NER_TAG_STRIDE);
  s->tags = g_renew (guint8, s->tags, s->vit_size);
}

static inline void
add_rows (const gint16 *w, const guint32 *f, guint k, float *out)
{
  gint32 sc[NER_TAG_STRIDE] = { 0 };
  for (guint j = 0; j < k; j++)
    {
      const gint16 *r = w + (gsize) f[j] * NER_TAG_STRIDE;
      for (int c = 0; c < NER_TAG_STRIDE; c++)
        sc[c] += r[c];
    }
  for (int c = 0; c < NER_TAG_STRIDE; c++)
    out[c] = (float) sc[c];
}

/* Viterbi decoding of the whole chunk: a line break ends every name, so
 * each line is decoded on its own. */
void
ner_tag (const NerModel *model, NerScratch *s, const char *text, NerToken *toks, guint n)
{
  guint32 f[NER_MAX_FEATS + 8];
  for (guint a = 0; a < n;)
    {
      guint b = a + 1;
      while (b < n && !(toks[b].flags & NER_TOK_NL_BEFORE))
        b++;
      guint len = b - a;
      gboolean any = FALSE;
      for (guint i = a; i < b && !any; i++)
        any = (toks[i].flags & NER_TOK_LETTER) && !(toks[i].flags & NER_TOK_LONG);
      if (!any)
        {
          for (guint i = a; i < b; i++)
            toks[i].tag = NER_O;
          a = b;
          continue;
        }
      viterbi_reserve (s, len);
      const NerToken *lt = toks + a;
      for (guint i = 0; i < len; i++)
        {
          guint k = ner_features (model, toks + a, len, i, text, f);
          add_rows (model->w, f, k, s->emit + (gsize) i * NER_TAG_STRIDE);
          float *pi = s->pair + (gsize) i * NER_N_TAGS * NER_TAG_STRIDE;
          for (int p = 0; p < NER_N_TAGS; p++)
            {
              k = ner_pair_features (lt, i, p, f);
              add_rows (model->w, f, k, pi + p * NER_TAG_STRIDE);
            }
        }
      ner_viterbi (lt, len, s->emit, s->pair, s->score, s->back, s->tags);
      for (guint i = 0; i < len; i++)
        toks[a + i].tag = s->tags[i];
      a = b;
    }
}

/* ---- loading -------------------------------------------------------- */

static gboolean
read_file (const char *path, char **contents, gsize *len, GError **error)
{
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents (path, contents, len, &local))
    {
      g_set_error (error, G_FILE_ERROR, local->code, "%s: %s", path, local->message);
      return FALSE;
    }
  if (!g_utf8_validate (*contents, *len, NULL))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not valid UTF-8", path);
      g_clear_pointer (contents, g_free);
      return FALSE;
    }
  return TRUE;
}

guint32
ner_intern (NerModel *model, const char *s, gssize len)
{
  if (len < 0)
    len = strlen (s);
  guint32 off = (guint32) model->strings->len;
  g_string_append_len (model->strings, s, len);
  g_string_append_c (model->strings, '\0');
  return off;
}

/* Hash of the token sequence of @name, or 0 when it has no token. */
guint64
ner_name_key (NerScratch *s, const char *name, gsize len, guint *n_tokens)
{
  guint n = ner_tokenize_raw (s, name, len, 0);
  guint64 h = NER_SEQ_SEED;
  for (guint i = 0; i < n; i++)
    h = ner_seq_step (h, s->toks[i].lower);
  if (n_tokens)
    *n_tokens = n;
  return n > 0 ? h : 0;
}

static const struct { const char *name; guint32 bit; } gaz_types[] = {
  { "PER", NER_GZ_PER }, { "GIVEN", NER_GZ_GIVEN }, { "SURNAME", NER_GZ_SURNAME },
  { "LOC", NER_GZ_LOC }, { "ORG", NER_GZ_ORG }, { "DEMONYM", NER_GZ_DEMONYM },
  { "TITLE", NER_GZ_TITLE }, { "ORGWORD", NER_GZ_ORGWORD }, { "LOCWORD", NER_GZ_LOCWORD },
  { "MONTH", NER_GZ_MONTH }, { "WEEKDAY", NER_GZ_WEEKDAY }, { "NONAME", NER_GZ_NONAME },
};

/* The next line of a data file at *@cursor (cut off in place, trailing
 * blanks removed) that is neither empty nor a '#' comment; NULL at the
 * end. *@lineno counts the lines passed, for messages. */
static char *
next_data_line (char **cursor, guint *lineno)
{
  while (*cursor != NULL && **cursor != '\0')
    {
      char *line = *cursor, *nl = strchr (line, '\n');
      (*lineno)++;
      if (nl != NULL)
        *nl = '\0';
      *cursor = nl != NULL ? nl + 1 : NULL;
      g_strchomp (line);
      if (*line != '\0' && *line != '#')
        return line;
    }
  return NULL;
}

/* Lines "TYPE<TAB>name[<TAB>canonical]"; '#' starts a comment line. */
static gboolean
load_gazetteer (NerModel *model, NerScratch *s, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  if (!read_file (path, &data, &len, error))
    return FALSE;
  guint lineno = 0;
  char *cursor = data;
  for (char *line; (line = next_data_line (&cursor, &lineno)) != NULL;)
    {
      char **f = g_strsplit (line, "\t", 3);
      guint32 bit = 0;
      for (gsize k = 0; k < G_N_ELEMENTS (gaz_types) && f[0] != NULL; k++)
        if (strcmp (f[0], gaz_types[k].name) == 0)
          bit = gaz_types[k].bit;
      if (bit == 0 || f[1] == NULL || *f[1] == '\0')
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s:%u: expected TYPE<TAB>name with TYPE one of PER, GIVEN, SURNAME, LOC, ORG, "
                       "DEMONYM, TITLE, ORGWORD, LOCWORD, MONTH, WEEKDAY, NONAME", path, lineno);
          g_strfreev (f);
          return FALSE;
        }
      guint nt;
      guint64 key = ner_name_key (s, f[1], strlen (f[1]), &nt);
      if (key != 0)
        {
          NerEntry *e = table_insert (&model->gaz, key);
          e->bits |= bit;
          if (f[2] != NULL && *f[2] != '\0')
            e->canon = ner_intern (model, f[2], -1);
          else if (e->canon == NER_NO_STRING && (bit & (NER_GZ_PER | NER_GZ_ORG | NER_GZ_LOC)))
            e->canon = ner_intern (model, f[1], -1);
          model->gaz_maxlen = MAX (model->gaz_maxlen, nt);
        }
      g_strfreev (f);
    }
  return TRUE;
}

/* wordnet.tsv: lines "TYPE<TAB>name" with TYPE one of PER, ORG, LOC, MISC,
 * PEOPLE; a table of its own, read by the features only (no canonical
 * names, no rules). */
static gboolean
load_wordnet (NerModel *model, NerScratch *s, const char *path, GError **error)
{
  static const struct { const char *name; guint32 bit; } types[] = {
    { "PER", NER_WN_PER }, { "ORG", NER_WN_ORG }, { "LOC", NER_WN_LOC }, { "MISC", NER_WN_MISC },
    { "PEOPLE", NER_WN_PEOPLE },
  };
  g_autofree char *data = NULL;
  gsize len;
  if (!read_file (path, &data, &len, error))
    return FALSE;
  guint lineno = 0;
  char *cursor = data;
  for (char *line; (line = next_data_line (&cursor, &lineno)) != NULL;)
    {
      char *tab = strchr (line, '\t');
      guint32 bit = 0;
      if (tab != NULL)
        {
          *tab = '\0';
          for (gsize k = 0; k < G_N_ELEMENTS (types); k++)
            if (strcmp (line, types[k].name) == 0)
              bit = types[k].bit;
        }
      if (bit == 0 || tab[1] == '\0')
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s:%u: expected TYPE<TAB>name with TYPE one of PER, ORG, LOC, MISC, PEOPLE",
                       path, lineno);
          return FALSE;
        }
      guint nt;
      guint64 key = ner_name_key (s, tab + 1, strlen (tab + 1), &nt);
      if (key != 0 && nt <= 8)
        {
          table_insert (&model->wn, key)->bits |= bit;
          model->wn_maxlen = MAX (model->wn_maxlen, nt);
        }
    }
  return TRUE;
}

/* Lines "variant<TAB>canonical". */
static gboolean
load_aliases (NerModel *model, NerScratch *s, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  if (!read_file (path, &data, &len, error))
    return FALSE;
  guint lineno = 0;
  char *cursor = data;
  for (char *line; (line = next_data_line (&cursor, &lineno)) != NULL;)
    {
      char *tab = strchr (line, '\t');
      if (tab == NULL || tab == line || tab[1] == '\0')
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s:%u: expected variant<TAB>canonical", path, lineno);
          return FALSE;
        }
      *tab = '\0';
      guint64 key = ner_name_key (s, line, strlen (line), NULL);
      if (key == 0)
        continue;
      NerEntry *e = table_insert (&model->aliases, key);
      e->canon = ner_intern (model, tab + 1, -1);
      e->bits = 1;
    }
  return TRUE;
}

static gboolean
load_vocab (NerModel *model, NerScratch *s, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  if (!read_file (path, &data, &len, error))
    return FALSE;
  guint lineno = 0;
  char *cursor = data;
  for (char *line; (line = next_data_line (&cursor, &lineno)) != NULL;)
    {
      guint n = ner_tokenize_raw (s, line, strlen (line), 0);
      if (n == 1)
        table_insert (&model->vocab, s->toks[0].lower)->bits = 1;
    }
  return TRUE;
}

static inline void
dict_insert (NerModel *model, guint64 h)
{
  guint32 key = dict_key (h);
  guint i = dict_slot (h, model->dict_mask);
  while (model->dict[i] != 0 && (model->dict[i] & ~3u) != key)
    i = (i + 1) & model->dict_mask;
  model->dict[i] |= key | (guint32) (h & 3);
}

/* The English dictionary (dictionary.txt): one word a line as the
 * dictionary writes it, capitalised when it is a proper noun. The file is
 * mapped, not copied, and not checked for UTF-8: a line that is no word
 * only fills a slot that no token matches. */
static gboolean
load_dict (NerModel *model, const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GMappedFile) mf = g_mapped_file_new (path, FALSE, &local);
  if (mf == NULL)
    {
      g_set_error (error, G_FILE_ERROR, local->code, "%s: %s", path, local->message);
      return FALSE;
    }
  const char *data = g_mapped_file_get_contents (mf);
  gsize len = g_mapped_file_get_length (mf);
  if (data == NULL || len == 0)
    return TRUE;
  const char *end = data + len;
  guint lines = 1;
  for (const char *p = data; p < end && (p = memchr (p, '\n', end - p)) != NULL; p++)
    lines++;
  guint bits = 4;
  while ((1u << bits) * 5 < lines * 9)
    bits++;
  model->dict_mask = (1u << bits) - 1;
  model->dict = g_new0 (guint32, model->dict_mask + 1);
  /* the table is larger than the caches: a word's slot is fetched while
   * the next words are read, and the word is inserted AHEAD words later */
  enum { AHEAD = 16 };
  guint64 ring[AHEAD];
  guint count = 0;
  for (const char *line = data, *next; line < end; line = next)
    {
      const char *nl = memchr (line, '\n', end - line);
      next = nl != NULL ? nl + 1 : end;
      const char *e = nl != NULL ? nl : end;
      while (e > line && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
      if (e == line || *line == '#' || e - line > NER_MAX_TOKEN)
        continue;
      gunichar c0 = (guchar) *line < 0x80 ? (gunichar) (guchar) *line : g_utf8_get_char_validated (line, e - line);
      gboolean cap = c0 < 0x80 ? g_ascii_isupper ((char) c0) : (g_unichar_isupper (c0) || g_unichar_istitle (c0));
      guint64 h = (word_hash (line, e) & ~(guint64) 3) | (cap ? NER_DICT_CAP : NER_DICT_LOWER);
#if defined(__GNUC__)
      __builtin_prefetch (&model->dict[dict_slot (h, model->dict_mask)], 1);
#endif
      if (count >= AHEAD)
        dict_insert (model, ring[count % AHEAD]);
      ring[count % AHEAD] = h;
      count++;
    }
  for (guint k = count > AHEAD ? count - AHEAD : 0; k < count; k++)
    dict_insert (model, ring[k % AHEAD]);
  return TRUE;
}

#define MODEL_MAGIC "GALLEYNER"
#define MODEL_VERSION 1

/* Format: "GALLEYNER" NUL, u32 version, u32 hash bits, u32 tag stride,
 * float scale, u32 rows, then rows of (u32 bucket, i16[stride]); all
 * little-endian. */
static gboolean
load_weights (NerModel *model, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, G_FILE_ERROR, local->code, "%s: %s", path, local->message);
      return FALSE;
    }
  guint32 hdr[5];
  gsize row = 4 + 2 * NER_TAG_STRIDE;
  if (len < 10 + sizeof hdr || memcmp (data, MODEL_MAGIC, 10) != 0)
    goto corrupt;
  memcpy (hdr, data + 10, sizeof hdr);
  if (GUINT32_FROM_LE (hdr[0]) != MODEL_VERSION || GUINT32_FROM_LE (hdr[1]) != NER_HASH_BITS
      || GUINT32_FROM_LE (hdr[2]) != NER_TAG_STRIDE)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s: model of another version or geometry (retrain it)", path);
      return FALSE;
    }
  guint32 rows = GUINT32_FROM_LE (hdr[4]);
  if ((len - 10 - sizeof hdr) != (gsize) rows * row)
    goto corrupt;
  model->w = g_new0 (gint16, (gsize) NER_N_BUCKETS * NER_TAG_STRIDE);
  const char *p = data + 10 + sizeof hdr;
  for (guint32 r = 0; r < rows; r++, p += row)
    {
      guint32 b;
      memcpy (&b, p, 4);
      b = GUINT32_FROM_LE (b);
      if (b >= NER_N_BUCKETS)
        goto corrupt;
      for (int c = 0; c < NER_TAG_STRIDE; c++)
        {
          gint16 v;
          memcpy (&v, p + 4 + 2 * c, 2);
          model->w[(gsize) b * NER_TAG_STRIDE + c] = GINT16_FROM_LE (v);
        }
    }
  return TRUE;
corrupt:
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: corrupt or truncated model file", path);
  return FALSE;
}

gboolean
ner_model_save_weights (const float *w, float scale, const char *path, GError **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_string_append_len (out, MODEL_MAGIC, 10);
  guint32 hdr[5] = { GUINT32_TO_LE (MODEL_VERSION), GUINT32_TO_LE (NER_HASH_BITS),
                     GUINT32_TO_LE (NER_TAG_STRIDE), 0, 0 };
  memcpy (&hdr[3], &scale, 4);
  gsize hdr_at = out->len;
  g_string_append_len (out, (const char *) hdr, sizeof hdr);
  guint32 rows = 0;
  for (guint32 b = 0; b < NER_N_BUCKETS; b++)
    {
      gint16 q[NER_TAG_STRIDE];
      gboolean any = FALSE;
      for (int c = 0; c < NER_TAG_STRIDE; c++)
        {
          float v = w[(gsize) b * NER_TAG_STRIDE + c] * scale;
          v = CLAMP (v, -32767.0f, 32767.0f);
          q[c] = (gint16) (v < 0 ? v - 0.5f : v + 0.5f);
          any |= q[c] != 0;
        }
      if (!any)
        continue;
      guint32 le = GUINT32_TO_LE (b);
      g_string_append_len (out, (const char *) &le, 4);
      for (int c = 0; c < NER_TAG_STRIDE; c++)
        {
          gint16 v = GINT16_TO_LE (q[c]);
          g_string_append_len (out, (const char *) &v, 2);
        }
      rows++;
    }
  hdr[4] = GUINT32_TO_LE (rows);
  memcpy (out->str + hdr_at, hdr, sizeof hdr);
  return g_file_set_contents (path, out->str, out->len, error);
}

NerModel *
ner_model_load (const char *dir, const char *extra_aliases, gboolean need_weights, GError **error)
{
  NerModel *model = g_new0 (NerModel, 1);
  g_autoptr(NerScratch) s = ner_scratch_new ();
  model->strings = g_string_new (NULL);
  g_string_append_c (model->strings, '\0');
  table_init (&model->gaz, 14);
  table_init (&model->aliases, 10);
  table_init (&model->vocab, 14);
  table_init (&model->wn, 16);

  g_autofree char *gazdir = g_build_filename (dir, "gazetteer", NULL);
  g_autofree char *aliases = g_build_filename (dir, "aliases.tsv", NULL);
  g_autofree char *vocab = g_build_filename (dir, "lowercase.txt", NULL);
  g_autofree char *dict = g_build_filename (dir, "dictionary.txt", NULL);
  g_autofree char *wordnet = g_build_filename (dir, "wordnet.tsv", NULL);
  g_autofree char *weights = g_build_filename (dir, "model.bin", NULL);
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = g_dir_open (gazdir, 0, &local);
  if (d == NULL)
    {
      g_set_error (error, G_FILE_ERROR, local->code, "%s: %s", gazdir, local->message);
      goto fail;
    }
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    if (g_str_has_suffix (name, ".tsv"))
      g_ptr_array_add (names, g_strdup (name));
  if (names->len == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: no gazetteer (*.tsv) files", gazdir);
      goto fail;
    }
  g_ptr_array_sort (names, (GCompareFunc) ner_strcmp_indirect);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (gazdir, names->pdata[i], NULL);
      if (!load_gazetteer (model, s, path, error))
        goto fail;
    }
  if (!load_aliases (model, s, aliases, error))
    goto fail;
  if (extra_aliases != NULL && *extra_aliases != '\0' && !load_aliases (model, s, extra_aliases, error))
    goto fail;
  if (!load_vocab (model, s, vocab, error))
    goto fail;
  if (!load_dict (model, dict, error))
    goto fail;
  if (!load_wordnet (model, s, wordnet, error))
    goto fail;
  if (need_weights)
    {
      if (!load_weights (model, weights, error))
        goto fail;
    }
  return model;
fail:
  ner_model_free (model);
  return NULL;
}

int
ner_strcmp_indirect (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
ner_model_free (NerModel *model)
{
  if (model == NULL)
    return;
  table_clear (&model->gaz);
  table_clear (&model->aliases);
  table_clear (&model->vocab);
  table_clear (&model->wn);
  g_free (model->dict);
  if (model->strings)
    g_string_free (model->strings, TRUE);
  g_free (model->w);
  g_free (model);
}

NerScratch *
ner_scratch_new (void)
{
  NerScratch *s = g_new0 (NerScratch, 1);
  s->mentions = g_array_new (FALSE, FALSE, sizeof (NerMention));
  s->sub = NULL;
  return s;
}

void
ner_scratch_free (NerScratch *s)
{
  if (s == NULL)
    return;
  ner_mentions_clear (s->mentions);
  g_array_unref (s->mentions);
  g_free (s->toks);
  g_free (s->emit);
  g_free (s->pair);
  g_free (s->score);
  g_free (s->back);
  g_free (s->tags);
  if (s->sub)
    ner_scratch_free (s->sub);
  g_free (s);
}

void
ner_mentions_clear (GArray *mentions)
{
  for (guint i = 0; i < mentions->len; i++)
    {
      NerMention *m = &g_array_index (mentions, NerMention, i);
      g_free (m->canonical);
      g_free (m->role);
    }
  g_array_set_size (mentions, 0);
}
