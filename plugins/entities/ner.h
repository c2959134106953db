/* ner.h: the entity engine behind the entities stage, shared with the
 * training tool and the benchmarks (not part of the plugin ABI).
 *
 * A NerModel holds the data files (gazetteers, aliases, lower-case
 * vocabulary, perceptron weights); it is read-only after loading and can be
 * shared by threads. A NerScratch holds the per-call buffers of one thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Tags of the statistical tagger (BIO over PER, ORG, LOC). */
enum { NER_O, NER_B_PER, NER_I_PER, NER_B_ORG, NER_I_ORG, NER_B_LOC, NER_I_LOC, NER_N_TAGS };
#define NER_TAG_STRIDE 8

typedef enum {
  NER_PER, NER_ORG, NER_LOC, NER_DATE, NER_MONEY, NER_PERCENT, NER_N_TYPES
} NerType;

extern const char *const ner_type_names[NER_N_TYPES];

/* Token flags. */
enum {
  NER_TOK_UPPER1   = 1 << 0,   /* first letter upper case */
  NER_TOK_ALLUPPER = 1 << 1,   /* every letter upper case (and >= 1 letter) */
  NER_TOK_LETTER   = 1 << 2,   /* has letters */
  NER_TOK_DIGIT    = 1 << 3,   /* has digits */
  NER_TOK_PUNCT    = 1 << 4,   /* one non-alphanumeric code point */
  NER_TOK_SENT     = 1 << 5,   /* first token of a sentence */
  NER_TOK_CAPSLINE = 1 << 6,   /* in a line written in capitals */
  NER_TOK_LONG     = 1 << 7,   /* longer than NER_MAX_TOKEN bytes */
  NER_TOK_COMMON   = 1 << 8,   /* lower-case form is a common word */
  NER_TOK_NONLATIN = 1 << 9,   /* letters outside the Latin script */
  NER_TOK_NL_BEFORE = 1 << 10, /* a line break precedes it */
  NER_TOK_NOJOIN   = 1 << 11,  /* punctuation that never sits inside a name */
  NER_TOK_DICT_LOWER = 1 << 12, /* the dictionary has its lower-case form */
  NER_TOK_DICT_CAP = 1 << 13,  /* the dictionary has it capitalised (a proper noun) */
  NER_TOK_STOP     = 1 << 14,  /* '.', '!' or '?' ending a sentence (not "Mr." or "J."): no name goes on */
  NER_TOK_NONAME   = 1 << 15,  /* listed as never a name on its own (an award); not a tagger feature */
  NER_TOK_GAZ_CAPS = 1 << 16,  /* the gazetteers list the word in capitals only ("WHO"); not a tagger feature */
  NER_TOK_NONASCII = 1 << 17,  /* has bytes outside ASCII */
  NER_TOK_FIGURE   = 1 << 18,  /* a score or a ranking ("7-1", "12th"): no name goes on over it; not a tagger feature */
};
#define NER_MAX_TOKEN 64

typedef struct {
  guint32 bstart, bend;       /* bytes */
  gint64  cstart, cend;       /* code points */
  guint64 lower;              /* hash of the lower-case form */
  guint32 shape;              /* hash of the word shape */
  guint32 flags;
  guint32 gaz;                /* gazetteer bits of the token alone */
  guint32 gaz_span;           /* type bits of the longest gazetteer match covering it */
  guint8  gaz_pos;            /* 0 none, 1 first token of that match, 2 inside */
  guint8  tag;                /* tagger output */
  guint8  wn;                 /* WordNet bits (NER_WN_*) of the token alone */
  guint8  wn_span;            /* WordNet bits of the longest WordNet match covering it */
  guint8  wn_pos;             /* 0 none, 1 first token of that match, 2 inside */
  guint8  more;               /* longer gazetteer (NER_MORE_GAZ) or WordNet (NER_MORE_WN) names start with the word */
  guint8  month;              /* 1 to 12 for an English month name or its short form ("Jul", "Sept"), else 0 */
} NerToken;
enum { NER_MORE_GAZ = 1, NER_MORE_WN = 2 };

/* Gazetteer bits. */
enum {
  NER_GZ_PER      = 1 << 0,   /* full name of a person */
  NER_GZ_GIVEN    = 1 << 1,
  NER_GZ_SURNAME  = 1 << 2,
  NER_GZ_LOC      = 1 << 3,
  NER_GZ_ORG      = 1 << 4,
  NER_GZ_DEMONYM  = 1 << 5,
  NER_GZ_TITLE    = 1 << 6,   /* role or title word: President, spokesman */
  NER_GZ_ORGWORD  = 1 << 7,   /* head word of organisation names: Ministry, Bank, Inc */
  NER_GZ_LOCWORD  = 1 << 8,   /* River, Street, Province */
  NER_GZ_MONTH    = 1 << 9,
  NER_GZ_WEEKDAY  = 1 << 10,
  NER_GZ_NONAME   = 1 << 11,  /* capitalised but never a name on its own */
  NER_GZ_CAPS     = 1 << 12,  /* a one-word name listed in capitals only ("WHO", "ONCE"): loading sets it */
};

/* WordNet bits (wordnet.tsv): the kinds of a capitalised noun. */
enum {
  NER_WN_PER    = 1 << 0,     /* an instance of a person: Einstein */
  NER_WN_ORG    = 1 << 1,     /* an organisation: Red Cross, NATO, Congress */
  NER_WN_LOC    = 1 << 2,     /* an instance of a place, a natural feature or a building: Nile */
  NER_WN_MISC   = 1 << 3,     /* another capitalised noun: events, works, periods */
  NER_WN_PEOPLE = 1 << 4,     /* a capitalised kind of person or a people: Democrat, Tajik */
  NER_WN_CITY   = 1 << 5,     /* geonames.tsv: a populated place (GeoNames): Husum, Abbotsford */
  NER_WN_REGION = 1 << 6,     /* geonames.tsv: an administrative division: Molise, Dorset */
  NER_WN_STATE  = 1 << 7,     /* geonames.tsv: a first-level one (state, province): Texas, Molise */
};

typedef struct {
  NerType  type;
  gint64   start, end;        /* code points */
  guint32  bstart, bend;      /* bytes */
  char    *canonical;         /* owned */
  char    *role;              /* owned, or NULL */
} NerMention;

typedef struct _NerModel NerModel;
typedef struct _NerScratch NerScratch;

/* Loads the data files from @dir (model.bin, gazetteer/NAME.tsv, aliases.tsv,
 * lowercase.txt, dictionary.txt, wordnet.tsv); @extra_aliases (nullable) is a further alias file. A
 * missing or corrupt file fails with a message naming it. */
NerModel *ner_model_load (const char *dir, const char *extra_aliases, gboolean need_weights, GError **error);
void      ner_model_free (NerModel *model);

NerScratch *ner_scratch_new  (void);
void        ner_scratch_free (NerScratch *s);

/* Options of one extraction. */
typedef struct {
  guint    types;              /* 1 << NerType of the types to report */
  gboolean roles;
  GDate    ref;                /* reference date; invalid: relative dates get no canonical */
  gboolean date_from_text;     /* no ref: take the first full date near the top */
  GDate    fallback;           /* neither: resolve against this day when a relative date needs
                                * one (invalid: leave them unresolved) */
} NerOptions;

/* Finds the mentions in @text (valid UTF-8, @len bytes). Returns the
 * mentions in text order, in @s (valid until the next call). */
GArray *ner_extract (const NerModel *model, NerScratch *s, const char *text, gsize len,
                     const NerOptions *opts);

/* Lower level, for training and evaluation. */
NerToken *ner_tokenize (const NerModel *model, NerScratch *s, const char *text, gsize len, guint *n_tokens);
/* Static feature buckets of token @i: writes up to NER_MAX_FEATS, returns the count. */
#define NER_MAX_FEATS 56
guint     ner_features (const NerModel *model, const NerToken *toks, guint n, guint i,
                        const char *text, guint32 *out);
/* Features that depend on the previous tag (transition features). */
#define NER_MAX_PAIR_FEATS 4
guint     ner_pair_features (const NerToken *toks, guint i, int prev, guint32 *out);
/* First-order Viterbi over NER_N_TAGS tags: @emit is n x NER_TAG_STRIDE,
 * @pair n x NER_N_TAGS (previous tag) x NER_TAG_STRIDE; @score and @back are
 * n x NER_TAG_STRIDE work space; the best allowed tag sequence goes to @out. */
void      ner_viterbi (const NerToken *toks, guint n, const float *emit, const float *pair, float *score,
                       guint8 *back, guint8 *out);
void      ner_tag (const NerModel *model, NerScratch *s, const char *text, NerToken *toks, guint n);

/* Weight table geometry and model I/O for the trainer. */
#define NER_HASH_BITS 19
#define NER_N_BUCKETS (1u << NER_HASH_BITS)
gboolean  ner_model_save_weights (const float *w, float scale, const char *path, GError **error);
/* Adds the weights of the model file @path, unscaled, to the dense table
 * @w (NER_N_BUCKETS x NER_TAG_STRIDE floats). */
gboolean  ner_model_add_weights (const char *path, float *w, GError **error);

/* Parses a date written at the top of a document or in meta: the first
 * full date in its first 200 bytes (galley_date_find ()): ISO 8601,
 * "July 21, 2025", "21 July 2025", "22.07.2025", "07/21/2025". */
gboolean  ner_parse_date (const char *s, GDate *out);

G_END_DECLS
