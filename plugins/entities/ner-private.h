/* ner-private.h: internals shared by the files of the entity engine.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "ner.h"

G_BEGIN_DECLS

#define NER_NO_STRING 0u
#define NER_SEQ_SEED 0x2545f4914f6cdd1dULL
#define NER_DICT_LOWER 1u   /* the dictionary lists the word in lower case */
#define NER_DICT_CAP   2u   /* ... and/or capitalised */

typedef struct {
  guint32 bits;
  guint32 canon;     /* offset into NerModel.strings, NER_NO_STRING if none */
} NerEntry;

typedef struct {
  guint64  *keys;
  NerEntry *vals;
  guint     mask;
  guint     used;
} NerTable;

typedef struct {
  guint64 bits;
  guint32 rank;
  guint32 unused;
} NerWeightBlock;

struct _NerModel {
  NerTable  gaz;       /* token-sequence hash -> gazetteer bits */
  NerTable  aliases;   /* token-sequence hash -> canonical */
  NerTable  vocab;     /* lower-case hash of common lower-case words */
  guint32  *dict;      /* English dictionary: see dict_lookup () in ner.c */
  guint     dict_mask;
  guint     gaz_maxlen;
  NerTable  wn;        /* token-sequence hash -> NER_WN_* bits (wordnet.tsv) */
  guint     wn_maxlen;
  /* the token-sequence hashes of the first words (1 to n - 1) of the
   * names of n words: a longer name goes on from there */
  NerTable  gaz_more, wn_more;
  /* the token-sequence hashes of the names in gazetteer/countries.tsv
   * (no tagger feature: a rule tells a club from a country by them) */
  NerTable  countries;
  gboolean  loading_countries;
  GString  *strings;
  /* the weights, rows of NER_TAG_STRIDE int16 for the buckets that have
   * any (about one in four): for each 64 buckets a block whose bit b % 64
   * is set when bucket b has a row, and the count of the rows of the
   * buckets before the block, so the row is wrows + (rank + the set bits
   * below b) * stride. About 2.5 MB instead of 8 for a dense table, and
   * one cache line of the index per lookup. */
  NerWeightBlock *wblocks;   /* NER_N_BUCKETS / 64 */
  gint16   *wrows;
};

/* Set bits of @x (without the popcnt instruction of newer processors,
 * which the baseline x86-64 target lacks). */
static inline guint32
ner_popcount64 (guint64 x)
{
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (guint32) ((x * 0x0101010101010101ULL) >> 56);
}

/* The row number of bucket @b, or G_MAXUINT32 when all its weights are 0. */
static inline guint32
ner_weight_index (const NerModel *m, guint32 b)
{
  const NerWeightBlock *k = &m->wblocks[b >> 6];
  guint64 bit = 1ULL << (b & 63);
  if (!(k->bits & bit))
    return G_MAXUINT32;
  return k->rank + ner_popcount64 (k->bits & (bit - 1));
}

/* The weight row of bucket @b, or NULL when all its weights are 0. */
static inline const gint16 *
ner_weight_row (const NerModel *m, guint32 b)
{
  guint32 r = ner_weight_index (m, b);
  return r == G_MAXUINT32 ? NULL : m->wrows + (gsize) r * NER_TAG_STRIDE;
}

/* Per-thread caches of the tagger's sums of weight rows (ner.c). */
#define NER_WORD_CACHE 16384
#define NER_PAIR_CACHE 16384
#define NER_CLASS_CACHE 512
#define NER_NEIGHBOUR_CACHE 8192
#define NER_LOCAL_CACHE 8192
#define NER_KEYS 5     /* keys of the cached sums per token */
typedef struct {
  guint64 key;
  gint32  sc[NER_TAG_STRIDE];
} NerWordSum;
typedef struct {
  guint64 key;
  gint32  sc[NER_N_TAGS][NER_TAG_STRIDE];
} NerPairSum;
typedef struct {
  guint64 key;
  gint16  sc[NER_N_TAGS][NER_TAG_STRIDE];   /* one weight row per previous tag */
} NerPairWord;
typedef struct {
  guint64 key;
  gint32  sc[4][NER_TAG_STRIDE];   /* by role: previous, next, second before, second after */
} NerNeighbourSum;

/* Per-thread cache of what the tokenizer looks up for a word (ASCII
 * words only, by lower-case hash): see word_lex () in ner-tokenize.c. */
#define NER_LEX_CACHE 16384
typedef struct {
  guint64 key;
  guint32 gaz;      /* gazetteer bits of the word alone, 0 if none */
  guint8  wn;       /* WordNet bits of the word alone */
  guint8  dict;     /* NER_DICT_* */
  guint8  common;   /* a common lower-case word, or one in "s" whose stem is */
  guint8  more;     /* NER_MORE_* */
  guint8  month;    /* as NerToken.month */
} NerLex;

struct _NerScratch {
  NerToken   *toks;
  guint       toks_size;
  GArray     *mentions;  /* NerMention */
  NerScratch *sub;       /* for tokenizing names during resolution */
  GString    *buf;
  /* decoder buffers (ner_tag) */
  guint       vit_size;
  float      *emit, *pair, *score;
  guint8     *back, *tags;
  gint32     *isc;       /* vit_size x NER_TAG_STRIDE: emission sums */
  guint32    *rows;      /* vit_size x NER_MAX_FEATS: rows of the context features */
  guint8     *nrows;     /* vit_size: their number */
  guint64    *keys;      /* vit_size x NER_KEYS: keys of the cached sums */
  guint32    *shape, *cls;  /* vit_size: what local_key () reads of each token */
  NerLex     *lex;       /* NER_LEX_CACHE, allocated by the first ner_tokenize () */
  NerTable    seen, index;  /* the document rules' tables (ner-resolve.c), kept for the next document */
  NerWordSum *wcache;    /* NER_WORD_CACHE, allocated by the first ner_tag () */
  NerPairWord *pcache;   /* NER_PAIR_CACHE: transitions by word */
  NerPairSum *ccache;    /* NER_CLASS_CACHE: transitions by shape and gazetteer class */
  NerNeighbourSum *ncache; /* NER_NEIGHBOUR_CACHE: what a word gives its neighbours */
  NerWordSum *lcache;    /* NER_LOCAL_CACHE: the features of shapes and classes around a token */
  gint32      edge[4][NER_TAG_STRIDE];  /* the same for the edges of a line */
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NerScratch, ner_scratch_free)

const NerEntry *ner_table_get (const NerTable *t, guint64 key);
/* ner.c: the hash sets (open addressing, 64-bit keys, 0 never a key) */
void      ner_table_init   (NerTable *t, guint bits);
void      ner_table_clear  (NerTable *t);
/* Empties @t, of 2^@bits slots: the same memory when it has that size. */
void      ner_table_reset  (NerTable *t, guint bits);
NerEntry *ner_table_insert (NerTable *t, guint64 key);
/* ner-tokenize.c: a word's hash, and its slot and key in the model's
 * dictionary (also used to build the dictionary in ner-model.c) */
guint64   ner_word_hash    (const char *p, const char *end);
guint     ner_dict_slot    (guint64 h, guint mask);
guint32   ner_dict_key     (guint64 h);
guint64  ner_seq_step (guint64 h, guint64 tok);
guint    ner_tokenize_raw (NerScratch *s, const char *text, gsize len, gint64 cbase);
guint64  ner_name_key (NerScratch *s, const char *name, gsize len, guint *n_tokens);
gboolean ner_tag_allowed (const NerToken *t, int prev, int tag);
int      ner_strcmp_indirect (const void *a, const void *b);
void     ner_mentions_clear (GArray *mentions);
guint32  ner_intern (NerModel *model, const char *s, gssize len);
guint32  ner_unknown_word_feature (gboolean acronym);

static inline const char *
ner_string (const NerModel *m, guint32 off)
{
  return off == NER_NO_STRING ? NULL : m->strings->str + off;
}

/* ner-dates.c: DATE, MONEY and PERCENT spans over the tokens of one chunk;
 * appends NerMention with canonical set (or NULL), and to @matched
 * (nullable) the index (guint) of each token where a rule matched. Which
 * rules match where does not depend on @ref, only the canonical forms do:
 * ner_find_dates_at () tries the rules again at the tokens of @at only,
 * against another reference day, and appends the same spans. */
void ner_find_dates (const NerModel *model, const char *text, const NerToken *toks, guint n,
                     const NerOptions *opts, const GDate *ref, GArray *out, GArray *matched);
void ner_find_dates_at (const NerModel *model, const char *text, const NerToken *toks, guint n,
                        const NerOptions *opts, const GDate *ref, const GArray *at, GArray *out);

G_END_DECLS
