/* ner.c: the perceptron tagger of the entities stage: hashing, features
 * and Viterbi decoding. The tokenizer and the dictionary marks are in
 * ner-tokenize.c, loading the model (gazetteers, aliases, weights) in
 * ner-model.c, dates, money and percentages in ner-dates.c, the mention
 * assembly and canonical names in ner-resolve.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ner-private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
# include <emmintrin.h>
#endif

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

void
ner_table_init (NerTable *t, guint bits)
{
  t->mask = (1u << bits) - 1;
  t->keys = g_new0 (guint64, t->mask + 1);
  t->vals = g_new0 (NerEntry, t->mask + 1);
  t->used = 0;
}

void
ner_table_clear (NerTable *t)
{
  g_clear_pointer (&t->keys, g_free);
  g_clear_pointer (&t->vals, g_free);
}

void
ner_table_reset (NerTable *t, guint bits)
{
  if (t->keys != NULL && t->mask + 1 == (1u << bits))
    {
      /* a new key's value is set when it is inserted */
      memset (t->keys, 0, (gsize) (t->mask + 1) * sizeof *t->keys);
      t->used = 0;
      return;
    }
  ner_table_clear (t);
  ner_table_init (t, bits);
}


static void
table_grow (NerTable *t)
{
  NerTable n;
  guint bits = 1;
  while ((1u << bits) <= (t->mask + 1) * 2)
    bits++;
  ner_table_init (&n, bits);
  for (guint i = 0; i <= t->mask; i++)
    if (t->keys[i] != 0)
      *ner_table_insert (&n, t->keys[i]) = t->vals[i];
  ner_table_clear (t);
  *t = n;
}

NerEntry *
ner_table_insert (NerTable *t, guint64 key)
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
#define W(s) { s, sizeof s - 1 }
  static const struct { const char *w; guint len; } words[] = {
    W ("of"), W ("de"), W ("del"), W ("della"), W ("di"), W ("da"), W ("du"), W ("la"), W ("le"), W ("von"),
    W ("van"), W ("der"), W ("den"), W ("and"), W ("&"), W ("for"), W ("the"), W ("on"), W ("upon"),
  };
#undef W
  guint len = t->bend - t->bstart;
  const char *p = text + t->bstart;
  if (len > 5 || !(g_ascii_islower (*p) || *p == '&'))
    return FALSE;
  for (gsize k = 0; k < G_N_ELEMENTS (words); k++)
    if (words[k].len == len && words[k].w[0] == *p && memcmp (p, words[k].w, len) == 0)
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
      if (i == 0 || i + 1 >= n || !run_cap (&toks[i - 1]) || !run_cap (&toks[i + 1])
          || (toks[i + 1].flags & NER_TOK_NL_BEFORE) || !run_connector (text, &toks[i]))
        return FALSE;
    }
  guint x = i, y = i;
  for (int steps = 0; steps < 8 && x > 0 && !(toks[x].flags & NER_TOK_NL_BEFORE); steps++)
    {
      if (run_cap (&toks[x - 1]))
        x--;
      else if (x >= 2 && run_cap (&toks[x - 2]) && !(toks[x - 1].flags & NER_TOK_NL_BEFORE)
               && run_connector (text, &toks[x - 1]))
        x -= 2;
      else
        break;
    }
  for (int steps = 0; steps < 8 && y + 1 < n && !(toks[y + 1].flags & NER_TOK_NL_BEFORE); steps++)
    {
      if (run_cap (&toks[y + 1]))
        y++;
      else if (y + 2 < n && run_cap (&toks[y + 2]) && !(toks[y + 2].flags & NER_TOK_NL_BEFORE)
               && run_connector (text, &toks[y + 1]))
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

/* The CONTEXT features of token @i (see features_of ()): the words
 * around it, and the run of capitalised words it is in: its first and
 * last word (the head: "... Park", "University of ..."), the words
 * around the run. */
static guint
context_features (const NerToken *toks, guint n, guint i, const char *text, guint32 *out)
{
  const NerToken *t = &toks[i];
  const NerToken *p1 = i > 0 ? &toks[i - 1] : NULL;
  const NerToken *n1 = i + 1 < n ? &toks[i + 1] : NULL;
  const NerToken *n2 = i + 2 < n ? &toks[i + 2] : NULL;
  guint64 w0 = (t->flags & NER_TOK_LONG) ? 1 : t->lower;
  guint64 wp1 = p1 ? p1->lower : BOS;
  guint64 wn1 = n1 ? n1->lower : EOS;
  guint32 s0 = eff_shape (t);
  guint cap = eff_cap (t);
  guint dig = (n1 && (n1->flags & NER_TOK_DIGIT) ? 1 : 0) | (p1 && (p1->flags & NER_TOK_DIGIT) ? 2 : 0)
              | (n2 && (n2->flags & NER_TOK_DIGIT) ? 4 : 0);
  guint k = 0;
  out[k++] = feat (20, wp1 * 31 + s0);
  out[k++] = feat (23, w0 * 17 + wn1);
  out[k++] = feat (24, wp1 * 13 + w0);
  out[k++] = feat (27, wn1 * 31 + cap);
  out[k++] = feat (38, w0 * 8 + dig);
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
  return k;
}

/* The features of token @i of @parts: WORD, those that depend on the
 * token alone (its text, flags, gazetteer and WordNet classes), SELF,
 * those that depend on the token and the longest gazetteer and WordNet
 * names covering it (the tagger keeps the sum of both per word),
 * NEIGHBOUR, those that depend on one neighbour alone (the tagger keeps
 * their sums per word and position: neighbour_features ()), LOCAL, those
 * that read no word of the context, only shapes and classes of the token
 * and its neighbours (the tagger keeps their sum per local_key ()),
 * CONTEXT, the others. */
enum { WORD = 1, CONTEXT = 2, SELF = 4, NEIGHBOUR = 8, LOCAL = 16 };
#define EMIT(part, f) do { if (parts & (part)) out[k++] = (f); } while (0)

static guint
features_of (const NerToken *toks, guint n, guint i, const char *text, guint parts, guint32 *out)
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
  EMIT (WORD, feat (1, 0));
  EMIT (WORD, feat (2, w0));
  EMIT (NEIGHBOUR, feat (3, wp1));
  EMIT (NEIGHBOUR, feat (4, wn1));
  EMIT (NEIGHBOUR, feat (5, wp2));
  EMIT (NEIGHBOUR, feat (6, wn2));
  EMIT (WORD, feat (7, s0));
  EMIT (NEIGHBOUR, feat (8, sp1));
  EMIT (NEIGHBOUR, feat (9, sn1));
  EMIT (WORD, feat (10, affix (text, t, 3, TRUE)));
  EMIT (WORD, feat (11, affix (text, t, 2, TRUE)));
  EMIT (WORD, feat (12, affix (text, t, 3, FALSE)));
  EMIT (WORD, feat (13, t->gaz));
  EMIT (SELF, feat (14, g0));
  EMIT (NEIGHBOUR, feat (15, p1 ? p1->gaz : 0xffff));
  EMIT (NEIGHBOUR, feat (16, n1 ? n1->gaz : 0xffff));
  EMIT (NEIGHBOUR, feat (17, gp));
  EMIT (NEIGHBOUR, feat (18, gn));
  EMIT (WORD, feat (19, ((t->flags & NER_TOK_SENT) ? 8 : 0) | cap | ((t->flags & NER_TOK_COMMON) ? 4 : 0)));
  EMIT (LOCAL, feat (21, ((guint64) sp1 << 32 | s0) * 7 + sn1));
  EMIT (WORD, feat (22, (guint64) s0 << 1 | ((t->flags & NER_TOK_CAPSLINE) ? 1 : 0)));
  EMIT (LOCAL, feat (25, g0 * 64 + gp * 8 + cap));
  EMIT (LOCAL, feat (26, (guint64) sn1 << 8 | cap | ((t->flags & NER_TOK_SENT) ? 16 : 0)));
  EMIT (LOCAL, feat (28, t->gaz * 64ULL + (p1 ? eff_cap (p1) : 7) * 8 + (n1 ? eff_cap (n1) : 7)));
  EMIT (WORD, feat (29, affix (text, t, 4, TRUE)));
  EMIT (WORD, feat (30, affix (text, t, 2, FALSE)));
  EMIT (WORD, feat (31, affix (text, t, 4, FALSE)));
  /* neighbours: capitalised or not, common word or not */
  EMIT (LOCAL, feat (32, (p1 ? (eff_cap (p1) * 2 + !!(p1->flags & NER_TOK_COMMON)) : 15) * 16
                           + (n1 ? (eff_cap (n1) * 2 + !!(n1->flags & NER_TOK_COMMON)) : 15)));
  EMIT (WORD, feat (33, (guint64) MIN (t->cend - t->cstart, 12) * 4 + cap));
  EMIT (NEIGHBOUR, feat (34, n2 ? eff_shape (n2) : 3));
  EMIT (NEIGHBOUR, feat (35, p2 ? eff_shape (p2) : 3));
  /* results lines: "Barcelona 3 Valencia 1" (clubs) against "Germany 2 Italy 1" */
  guint dig = (n1 && (n1->flags & NER_TOK_DIGIT) ? 1 : 0) | (p1 && (p1->flags & NER_TOK_DIGIT) ? 2 : 0)
              | (n2 && (n2->flags & NER_TOK_DIGIT) ? 4 : 0);
  EMIT (LOCAL, feat (36, g0 * 8 + dig));
  EMIT (LOCAL, feat (37, (guint64) t->gaz * 8 + dig));
  /* the words around it and the run of capitalised words the token is in */
  if (parts & CONTEXT)
    k += context_features (toks, n, i, text, out + k);
  /* a capitalised word that no list knows (apart at the start of a
   * sentence, where common words are capitalised too); entities-train adds
   * to the weights of the other a prior measured on held-out text */
  if ((parts & SELF) && (t->flags & NER_TOK_UPPER1) && !(t->flags & (NER_TOK_ALLUPPER | NER_TOK_COMMON))
      && t->gaz == 0 && t->gaz_span == 0 && !wn_other (t))
    out[k++] = (t->flags & NER_TOK_SENT) ? feat (60, 1)
               : (t->wn_span & (NER_WN_CITY | NER_WN_REGION)) && !(t->wn_span & NER_WN_PER) ? feat (60, 2)
               : ner_unknown_word_feature (FALSE);
  /* the same for an acronym in no list, outside headlines */
  if ((parts & SELF) && (t->flags & (NER_TOK_ALLUPPER | NER_TOK_LETTER)) == (NER_TOK_ALLUPPER | NER_TOK_LETTER)
      && !(t->flags & (NER_TOK_COMMON | NER_TOK_CAPSLINE)) && t->gaz == 0 && t->gaz_span == 0
      && t->bend - t->bstart >= 2 && t->bend - t->bstart <= 6)
    out[k++] = ner_unknown_word_feature (TRUE);
  /* the English dictionary: an ordinary word, a word only written
   * capitalised (a proper noun), both or neither; for the neighbours too */
  EMIT (WORD, feat (62, (guint64) dict_class (t) << 8 | cap << 4 | (t->flags & NER_TOK_SENT ? 2 : 0)
                        | (t->flags & NER_TOK_COMMON ? 1 : 0)));
  EMIT (LOCAL, feat (63, (guint64) (p1 ? dict_class (p1) * 4 + eff_cap (p1) : 31) << 8
                           | (n1 ? dict_class (n1) * 4 + eff_cap (n1) : 31)));
  /* WordNet: the kinds of the longest name covering the token (person,
   * organisation, place, another capitalised noun), of the token alone
   * with its case, and of its two neighbours alone */
  EMIT (SELF, feat (64, ((guint64) t->wn_span << 2 | t->wn_pos) * 4 + cap));
  EMIT (WORD, feat (65, ((guint64) t->wn << 4) | cap << 1 | (t->flags & NER_TOK_SENT ? 1 : 0)));
  EMIT (LOCAL, feat (66, (guint64) (p1 ? p1->wn : 0x1ff) << 9 | (n1 ? n1->wn : 0x1ff)));
  return k;
}

guint
ner_features (const NerModel *model, const NerToken *toks, guint n, guint i, const char *text, guint32 *out)
{
  (void) model;
  return features_of (toks, n, i, text, WORD | SELF | NEIGHBOUR | LOCAL | CONTEXT, out);
}

/* The NEIGHBOUR features that token @u (NULL: the line's edge) gives
 * the token at @role from it: the word after it sees it as its previous
 * word (NB_P1), the word before as its next (NB_N1), and so on; the
 * same buckets as features_of () gives them. */
enum { NB_P1, NB_N1, NB_P2, NB_N2, NB_ROLES };

static guint
neighbour_features (const NerToken *u, int role, guint32 *out)
{
  guint64 g = u ? (((guint64) u->gaz_span << 2) | u->gaz_pos) : 3;
  switch (role)
    {
    case NB_P1:
      out[0] = feat (3, u ? u->lower : BOS);
      out[1] = feat (8, u ? eff_shape (u) : 1);
      out[2] = feat (15, u ? u->gaz : 0xffff);
      out[3] = feat (17, g);
      return 4;
    case NB_N1:
      out[0] = feat (4, u ? u->lower : EOS);
      out[1] = feat (9, u ? eff_shape (u) : 2);
      out[2] = feat (16, u ? u->gaz : 0xffff);
      out[3] = feat (18, g);
      return 4;
    case NB_P2:
      out[0] = feat (5, u ? u->lower : BOS);
      out[1] = feat (35, u ? eff_shape (u) : 3);
      return 2;
    default:
      out[0] = feat (6, u ? u->lower : EOS);
      out[1] = feat (34, u ? eff_shape (u) : 3);
      return 2;
    }
}

/* The tagger (pair_sums ()) keeps the sum of the third, the word's, apart
 * from the others: keep it third. */
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
    return (prev == tag || prev == tag - 1) && !(t->flags & (NER_TOK_NL_BEFORE | NER_TOK_NOJOIN | NER_TOK_STOP));
  return (t->flags & NER_TOK_LETTER) != 0;
}

/* Which previous tags may precede each tag at token @t (bit p of
 * out[c]; out[NER_N_TAGS], the padding, none): ner_tag_allowed () over
 * all pairs, in few tests. */
static inline void
allowed_prev (const NerToken *t, guint8 out[NER_TAG_STRIDE])
{
  const guint8 all = (1u << NER_N_TAGS) - 1;
  gboolean no_b = (t->flags & NER_TOK_LONG) || !(t->flags & NER_TOK_LETTER);
  gboolean no_i = (t->flags & (NER_TOK_LONG | NER_TOK_NL_BEFORE | NER_TOK_NOJOIN | NER_TOK_STOP)) != 0;
  out[NER_O] = all;
  for (int c = NER_B_PER; c < NER_N_TAGS; c += 2)
    {
      out[c] = no_b ? 0 : all;
      out[c + 1] = no_i ? 0 : (guint8) ((1u << c) | (1u << (c + 1)));
    }
  for (int c = NER_N_TAGS; c < NER_TAG_STRIDE; c++)
    out[c] = 0;
}

void
ner_viterbi (const NerToken *toks, guint n, const float *emit, const float *pair, float *score, guint8 *back,
             guint8 *out)
{
  if (n == 0)
    return;
  guint8 allow[NER_TAG_STRIDE];
  allowed_prev (&toks[0], allow);
  for (int c = 0; c < NER_N_TAGS; c++)
    score[c] = (allow[c] & 1u) ? emit[c] + pair[NER_O * NER_TAG_STRIDE + c] : -INFINITY;
  for (guint i = 1; i < n; i++)
    {
      const float *prev_sc = score + (gsize) (i - 1) * NER_TAG_STRIDE;
      float *cur = score + (gsize) i * NER_TAG_STRIDE;
      const float *pi = pair + (gsize) i * NER_N_TAGS * NER_TAG_STRIDE;
      const float *em = emit + (gsize) i * NER_TAG_STRIDE;
      allowed_prev (&toks[i], allow);
      /* for each tag the best previous one, in order: a later previous
       * tag wins only with a higher score */
#if defined(__SSE2__)
      /* all the tags at once, four to a register */
      __m128i al0 = _mm_setr_epi32 (allow[0], allow[1], allow[2], allow[3]);
      __m128i al1 = _mm_setr_epi32 (allow[4], allow[5], allow[6], allow[7]);
      __m128 best0 = _mm_set1_ps (-INFINITY), best1 = best0;
      __m128i arg0 = _mm_setzero_si128 (), arg1 = arg0;
      for (int p = 0; p < NER_N_TAGS; p++)
        {
          if (prev_sc[p] == -INFINITY)
            continue;   /* it would win nowhere */
          __m128 ps = _mm_set1_ps (prev_sc[p]);
          __m128i bit = _mm_set1_epi32 (1 << p), pv = _mm_set1_epi32 (p);
          const float *row = pi + p * NER_TAG_STRIDE;
          __m128 v0 = _mm_add_ps (ps, _mm_loadu_ps (row)), v1 = _mm_add_ps (ps, _mm_loadu_ps (row + 4));
          __m128i t0 = _mm_and_si128 (_mm_castps_si128 (_mm_cmpgt_ps (v0, best0)),
                                      _mm_cmpeq_epi32 (_mm_and_si128 (al0, bit), bit));
          __m128i t1 = _mm_and_si128 (_mm_castps_si128 (_mm_cmpgt_ps (v1, best1)),
                                      _mm_cmpeq_epi32 (_mm_and_si128 (al1, bit), bit));
          best0 = _mm_or_ps (_mm_and_ps (_mm_castsi128_ps (t0), v0), _mm_andnot_ps (_mm_castsi128_ps (t0), best0));
          best1 = _mm_or_ps (_mm_and_ps (_mm_castsi128_ps (t1), v1), _mm_andnot_ps (_mm_castsi128_ps (t1), best1));
          arg0 = _mm_or_si128 (_mm_and_si128 (t0, pv), _mm_andnot_si128 (t0, arg0));
          arg1 = _mm_or_si128 (_mm_and_si128 (t1, pv), _mm_andnot_si128 (t1, arg1));
        }
      __m128 ninf = _mm_set1_ps (-INFINITY);
      __m128 none0 = _mm_cmpeq_ps (best0, ninf), none1 = _mm_cmpeq_ps (best1, ninf);
      __m128 s0 = _mm_add_ps (best0, _mm_loadu_ps (em)), s1 = _mm_add_ps (best1, _mm_loadu_ps (em + 4));
      _mm_storeu_ps (cur, _mm_or_ps (_mm_and_ps (none0, best0), _mm_andnot_ps (none0, s0)));
      _mm_storeu_ps (cur + 4, _mm_or_ps (_mm_and_ps (none1, best1), _mm_andnot_ps (none1, s1)));
      __m128i packed = _mm_packus_epi16 (_mm_packs_epi32 (arg0, arg1), _mm_setzero_si128 ());
      _mm_storel_epi64 ((__m128i *) (back + (gsize) i * NER_TAG_STRIDE), packed);
#else
      for (int c = 0; c < NER_N_TAGS; c++)
        {
          float best = -INFINITY;
          int arg = NER_O;
          for (int p = 0; p < NER_N_TAGS; p++)
            {
              if (prev_sc[p] == -INFINITY || !(allow[c] & (1u << p)))
                continue;
              float v = prev_sc[p] + pi[p * NER_TAG_STRIDE + c];
              if (v > best)
                best = v, arg = p;
            }
          cur[c] = best == -INFINITY ? best : best + em[c];
          back[(gsize) i * NER_TAG_STRIDE + c] = (guint8) arg;
        }
#endif
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
  s->isc = g_renew (gint32, s->isc, (gsize) s->vit_size * NER_TAG_STRIDE);
  s->rows = g_renew (guint32, s->rows, (gsize) s->vit_size * NER_MAX_FEATS);
  s->nrows = g_renew (guint8, s->nrows, s->vit_size);
  s->keys = g_renew (guint64, s->keys, (gsize) s->vit_size * NER_KEYS);
  s->shape = g_renew (guint32, s->shape, s->vit_size);
  s->cls = g_renew (guint32, s->cls, s->vit_size);
}

/* Adds the weight rows of the @k (at most NER_MAX_FEATS) features @f to
 * @sc: first all the rows are found and fetched, then added. */
G_ALWAYS_INLINE static inline void
add_rows (const NerModel *m, const guint32 *f, guint k, gint32 *sc)
{
  const gint16 *rows[NER_MAX_FEATS];
  guint nr = 0;
  for (guint j = 0; j < k; j++)
    {
      const gint16 *r = ner_weight_row (m, f[j]);
      if (r == NULL)
        continue;
#if defined(__GNUC__)
      __builtin_prefetch (r);
#endif
      rows[nr++] = r;
    }
  for (guint j = 0; j < nr; j++)
    for (int c = 0; c < NER_TAG_STRIDE; c++)
      sc[c] += rows[j][c];
}

/* Key of everything the token's own features read: its bytes, flags,
 * gazetteer and WordNet classes (of the token alone and of the names
 * covering it) and length; never 0. */
static guint64
word_key (const char *text, const NerToken *t)
{
  guint64 h = mix64 (((guint64) t->flags << 32 | t->gaz) ^ ((guint64) t->wn << 24)
                     ^ ((guint64) MIN (t->cend - t->cstart, 0xffff) << 48) ^ 0x2b7e151628aed2a6ULL);
  h = mix64 (h ^ ((guint64) t->gaz_span << 32 | (guint64) t->gaz_pos << 24 | (guint64) t->wn_span << 8 | t->wn_pos));
  const char *p = text + t->bstart, *end = text + t->bend;
  for (; end - p >= 8; p += 8)
    {
      guint64 v;
      memcpy (&v, p, 8);
      h = mix64 (h ^ v);
    }
  guint64 v = 0;
  memcpy (&v, p, end - p);
  h = mix64 (h ^ v ^ ((guint64) (end - p) << 60));
  return h != 0 ? h : 1;
}

/* The sum of the rows of token @i's features of the kinds @mask, from
 * @cache (@size entries, a power of two) under @key: its own features
 * (WORD and SELF; a word seen before costs one lookup instead of 18) or
 * its LOCAL ones. */
G_ALWAYS_INLINE static inline const gint32 *
cached_sum (const NerModel *model, NerWordSum *cache, guint size, guint mask, const char *text,
            const NerToken *toks, guint n, guint i, guint64 key)
{
  NerWordSum *e = &cache[key & (size - 1)];
  if (e->key != key)
    {
      guint32 f[NER_MAX_FEATS];
      guint k = features_of (toks, n, i, text, mask, f);
      memset (e->sc, 0, sizeof e->sc);
      add_rows (model, f, k, e->sc);
      e->key = key;
    }
  return e->sc;
}

/* The keys of the transition sums of @t: by shape and gazetteer class,
 * and by word; never 0. */
static inline guint64
class_key (const NerToken *t, guint32 shape)
{
  guint64 k = mix64 (((guint64) shape << 32) ^ ((guint64) t->gaz_span << 2 | t->gaz_pos) ^ 0x3c6ef372fe94f82bULL);
  return k != 0 ? k : 1;
}

static inline guint64
lower_key (const NerToken *t)
{
  guint64 k = mix64 (t->lower ^ 0xa54ff53a5f1d36f1ULL);
  return k != 0 ? k : 1;
}

/* The key of what neighbour_features () reads of @t (its word, shape
 * and gazetteer classes), from its lower_key (); never 0. */
static inline guint64
neighbour_key (const NerToken *t, guint32 shape, guint64 lkey)
{
  guint64 k = mix64 (lkey ^ ((guint64) shape << 32 | (guint64) t->gaz << 16
                             | (guint64) t->gaz_span << 2 | t->gaz_pos));
  return k != 0 ? k : 1;
}

/* What local_key () reads of a token besides its shape (eff_shape ()):
 * its gazetteer match (13 bits), case (2), common-word flag, dictionary
 * class (2) and WordNet bits (5). */
static inline guint32
local_class (const NerToken *t)
{
  return ((t->gaz_span << 2 | t->gaz_pos) << 10) | eff_cap (t) << 8 | ((t->flags & NER_TOK_COMMON) ? 1u : 0u) << 7
         | (guint32) dict_class (t) << 5 | (t->wn & 0x1fu);
}

/* The key of everything the LOCAL features of token @i read: the
 * shapes of the token and its neighbours, their case, common-word,
 * dictionary and WordNet classes, the gazetteer classes of the token and
 * of the previous one, digits around; never 0. @shape and @cls hold
 * eff_shape () and local_class () of the tokens. */
static guint64
local_key (const NerToken *toks, guint n, guint i, const guint32 *shape, const guint32 *cls)
{
  const NerToken *t = &toks[i];
  gboolean p1 = i > 0, n1 = i + 1 < n;
  guint64 dig = (n1 && (toks[i + 1].flags & NER_TOK_DIGIT) ? 1 : 0) | (p1 && (toks[i - 1].flags & NER_TOK_DIGIT) ? 2 : 0)
                | (i + 2 < n && (toks[i + 2].flags & NER_TOK_DIGIT) ? 4 : 0);
  /* 13 + 11 bits of the token's classes, 24 of the previous token's, 11
   * of the next one's */
  guint64 c = ((guint64) t->gaz_span << 2 | t->gaz_pos) | (guint64) t->gaz << 13;
  if (p1)
    c |= (1ULL << 23 | cls[i - 1]) << 24;
  if (n1)
    c |= (1ULL << 10 | (cls[i + 1] & 0x3ff)) << 48;
  /* the shapes, with the token's case, sentence start and the digits */
  guint64 k = mix64 (((guint64) (p1 ? shape[i - 1] : 1) << 32 | shape[i]) ^ 0x6a09e667f3bcc908ULL);
  k = mix64 (k ^ (n1 ? shape[i + 1] : 2) ^ ((guint64) ((cls[i] >> 8) & 3) << 32)
             ^ ((guint64) ((t->flags & NER_TOK_SENT) ? 1 : 0) << 34) ^ (dig << 35));
  k = mix64 (k ^ c);
  /* the GeoNames bits, which local_class () leaves out */
  guint64 geo = (t->wn >> 5) | (p1 ? (guint64) (toks[i - 1].wn >> 5) << 3 : 0) | (n1 ? (guint64) (toks[i + 1].wn >> 5) << 6 : 0);
  if (geo != 0)
    k = mix64 (k ^ geo);
  return k != 0 ? k : 1;
}

/* The sums of the NEIGHBOUR features that token @u gives the tokens
 * around it, by role (NB_*), from the cache of the scratch. */
G_ALWAYS_INLINE static inline const NerNeighbourSum *
neighbour_sum (const NerModel *model, NerScratch *s, const NerToken *u, guint64 key)
{
  NerNeighbourSum *e = &s->ncache[key & (NER_NEIGHBOUR_CACHE - 1)];
  if (e->key != key)
    {
      memset (e->sc, 0, sizeof e->sc);
      for (int r = 0; r < NB_ROLES; r++)
        {
          guint32 f[4];
          guint k = neighbour_features (u, r, f);
          add_rows (model, f, k, e->sc[r]);
        }
      e->key = key;
    }
  return e;
}

/* The transition scores of token @i for each previous tag, in two
 * parts kept apart: those of its shape and gazetteer class (features 40,
 * 42 and 44 of ner_pair_features (): few values, nearly always cached)
 * and those of its word (feature 43, its third). */
G_ALWAYS_INLINE static inline void
pair_sums (const NerModel *model, NerScratch *s, const NerToken *toks, guint i, guint64 ckey, guint64 wkey,
           float out[NER_N_TAGS * NER_TAG_STRIDE])
{
  NerPairSum *ce = &s->ccache[ckey & (NER_CLASS_CACHE - 1)];
  NerPairWord *we = &s->pcache[wkey & (NER_PAIR_CACHE - 1)];
  if (ce->key != ckey || we->key != wkey)
    {
      /* the word's rows found and fetched for all previous tags first */
      const gint16 *wrow[NER_N_TAGS];
      guint32 cf[NER_N_TAGS][3];
      for (int p = 0; p < NER_N_TAGS; p++)
        {
          guint32 f[NER_MAX_PAIR_FEATS];
          guint k = ner_pair_features (toks, i, p, f);
          g_assert (k == 4);
          cf[p][0] = f[0], cf[p][1] = f[1], cf[p][2] = f[3];
          wrow[p] = we->key != wkey ? ner_weight_row (model, f[2]) : NULL;
#if defined(__GNUC__)
          if (wrow[p] != NULL)
            __builtin_prefetch (wrow[p]);
#endif
        }
      if (ce->key != ckey)
        {
          memset (ce->sc, 0, sizeof ce->sc);
          for (int p = 0; p < NER_N_TAGS; p++)
            add_rows (model, cf[p], 3, ce->sc[p]);
          ce->key = ckey;
        }
      if (we->key != wkey)
        {
          for (int p = 0; p < NER_N_TAGS; p++)
            {
              if (wrow[p] != NULL)
                memcpy (we->sc[p], wrow[p], sizeof we->sc[p]);
              else
                memset (we->sc[p], 0, sizeof we->sc[p]);
            }
          we->key = wkey;
        }
    }
#if defined(__SSE2__)
  for (int p = 0; p < NER_N_TAGS; p++)
    {
      /* the int16 row widened, added to the int32 sums, made floats */
      __m128i w = _mm_loadu_si128 ((const __m128i *) we->sc[p]);
      __m128i lo = _mm_srai_epi32 (_mm_unpacklo_epi16 (w, w), 16), hi = _mm_srai_epi32 (_mm_unpackhi_epi16 (w, w), 16);
      __m128i a0 = _mm_add_epi32 (_mm_loadu_si128 ((const __m128i *) ce->sc[p]), lo);
      __m128i a1 = _mm_add_epi32 (_mm_loadu_si128 ((const __m128i *) (ce->sc[p] + 4)), hi);
      _mm_storeu_ps (out + p * NER_TAG_STRIDE, _mm_cvtepi32_ps (a0));
      _mm_storeu_ps (out + p * NER_TAG_STRIDE + 4, _mm_cvtepi32_ps (a1));
    }
#else
  for (int p = 0; p < NER_N_TAGS; p++)
    for (int c = 0; c < NER_TAG_STRIDE; c++)
      out[p * NER_TAG_STRIDE + c] = (float) (ce->sc[p][c] + we->sc[p][c]);
#endif
}

static inline void
add_sum (gint32 *restrict sc, const gint32 *restrict v)
{
  for (int c = 0; c < NER_TAG_STRIDE; c++)
    sc[c] += v[c];
}

/* The per-thread caches, and the NEIGHBOUR sums of the line's edges. */
static void
tagger_caches (const NerModel *model, NerScratch *s)
{
  if (s->wcache != NULL)
    return;
  s->wcache = g_new0 (NerWordSum, NER_WORD_CACHE);
  s->pcache = g_new0 (NerPairWord, NER_PAIR_CACHE);
  s->ccache = g_new0 (NerPairSum, NER_CLASS_CACHE);
  s->ncache = g_new0 (NerNeighbourSum, NER_NEIGHBOUR_CACHE);
  s->lcache = g_new0 (NerWordSum, NER_LOCAL_CACHE);
  memset (s->edge, 0, sizeof s->edge);
  for (int r = 0; r < NB_ROLES; r++)
    {
      guint32 f[4];
      guint k = neighbour_features (NULL, r, f);
      add_rows (model, f, k, s->edge[r]);
    }
}

/* The tagger spends a good part of its time finding weight rows, which
 * counts bits (ner_popcount64 ()): on x86-64 with GCC and glibc it comes
 * in two versions, one for processors with the popcnt instruction (GCC
 * turns the bit count into it) and one for the others, chosen when the
 * library is loaded. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
# define NER_CLONES __attribute__ ((target_clones ("popcnt", "default")))
#else
# define NER_CLONES
#endif

/* Viterbi decoding of the whole chunk: a line break ends every name, so
 * each line is decoded on its own. */
NER_CLONES void
ner_tag (const NerModel *model, NerScratch *s, const char *text, NerToken *toks, guint n)
{
  guint32 f[NER_MAX_FEATS + 8];
  tagger_caches (model, s);
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
      /* the keys of the line's cached sums, their entries fetched ahead;
       * then the features of the whole line, fetching their rows while
       * the next tokens' features are computed; then the sums */
      guint64 *keys = s->keys;
      for (guint i = 0; i < len; i++)
        {
          s->shape[i] = eff_shape (&lt[i]);
          s->cls[i] = local_class (&lt[i]);
        }
      for (guint i = 0; i < len; i++)
        {
          guint64 *ki = keys + (gsize) NER_KEYS * i;
          ki[0] = word_key (text, &lt[i]);
          ki[1] = class_key (&lt[i], s->shape[i]);
          ki[2] = lower_key (&lt[i]);
          ki[3] = neighbour_key (&lt[i], s->shape[i], ki[2]);
          ki[4] = local_key (lt, len, i, s->shape, s->cls);
#if defined(__GNUC__)
          __builtin_prefetch (&s->lcache[ki[4] & (NER_LOCAL_CACHE - 1)]);
          __builtin_prefetch (&s->wcache[ki[0] & (NER_WORD_CACHE - 1)]);
          const char *pe = (const char *) &s->pcache[ki[2] & (NER_PAIR_CACHE - 1)];
          for (gsize off = 0; off < sizeof (NerPairWord); off += 64)
            __builtin_prefetch (pe + off);
          __builtin_prefetch (pe + sizeof (NerPairWord) - 1);
          const char *ne = (const char *) &s->ncache[ki[3] & (NER_NEIGHBOUR_CACHE - 1)];
          for (gsize off = 0; off < sizeof (NerNeighbourSum); off += 64)
            __builtin_prefetch (ne + off);
          __builtin_prefetch (ne + sizeof (NerNeighbourSum) - 1);
#endif
        }
      for (guint i = 0; i < len; i++)
        {
          const guint64 *ki = keys + (gsize) NER_KEYS * i;
          gint32 *sc = s->isc + (gsize) i * NER_TAG_STRIDE;
          memcpy (sc, cached_sum (model, s->wcache, NER_WORD_CACHE, WORD | SELF, text, lt, len, i, ki[0]),
                  NER_TAG_STRIDE * sizeof (gint32));
          if (i == 0)
            add_sum (sc, s->edge[NB_P1]);
          if (i < 2)
            add_sum (sc, s->edge[NB_P2]);
          if (i + 1 == len)
            add_sum (sc, s->edge[NB_N1]);
          if (i + 2 >= len)
            add_sum (sc, s->edge[NB_N2]);
          add_sum (sc, cached_sum (model, s->lcache, NER_LOCAL_CACHE, LOCAL, text, lt, len, i, ki[4]));
          guint k = context_features (lt, len, i, text, f), m = 0;
          guint32 *rows = s->rows + (gsize) i * NER_MAX_FEATS;
          for (guint j = 0; j < k; j++)
            {
              guint32 r = ner_weight_index (model, f[j]);
              if (r == G_MAXUINT32)
                continue;
#if defined(__GNUC__)
              __builtin_prefetch (model->wrows + (gsize) r * NER_TAG_STRIDE);
#endif
              rows[m++] = r;
            }
          s->nrows[i] = (guint8) m;
          pair_sums (model, s, lt, i, ki[1], ki[2], s->pair + (gsize) i * NER_N_TAGS * NER_TAG_STRIDE);
        }
      /* what each token gives its neighbours */
      for (guint j = 0; j < len; j++)
        {
          const NerNeighbourSum *e = neighbour_sum (model, s, &lt[j], keys[(gsize) NER_KEYS * j + 3]);
          if (j + 1 < len)
            add_sum (s->isc + (gsize) (j + 1) * NER_TAG_STRIDE, e->sc[NB_P1]);
          if (j + 2 < len)
            add_sum (s->isc + (gsize) (j + 2) * NER_TAG_STRIDE, e->sc[NB_P2]);
          if (j >= 1)
            add_sum (s->isc + (gsize) (j - 1) * NER_TAG_STRIDE, e->sc[NB_N1]);
          if (j >= 2)
            add_sum (s->isc + (gsize) (j - 2) * NER_TAG_STRIDE, e->sc[NB_N2]);
        }
      for (guint i = 0; i < len; i++)
        {
          gint32 *sc = s->isc + (gsize) i * NER_TAG_STRIDE;
          const guint32 *rows = s->rows + (gsize) i * NER_MAX_FEATS;
          for (guint j = 0; j < s->nrows[i]; j++)
            {
              const gint16 *r = model->wrows + (gsize) rows[j] * NER_TAG_STRIDE;
              for (int c = 0; c < NER_TAG_STRIDE; c++)
                sc[c] += r[c];
            }
          for (int c = 0; c < NER_TAG_STRIDE; c++)
            s->emit[(gsize) i * NER_TAG_STRIDE + c] = (float) sc[c];
        }
      ner_viterbi (lt, len, s->emit, s->pair, s->score, s->back, s->tags);
      for (guint i = 0; i < len; i++)
        toks[a + i].tag = s->tags[i];
      a = b;
    }
}
