/* dedup-sig.h: text normalisation, exact hashes, MinHash signatures and
 * LSH band keys for the dedup stage.
 *
 * Pure computation: nothing here knows about documents, the index or
 * SQLite, so signatures and band keys can be computed anywhere (one shard
 * per machine) and written as sorted (key, document) files to be merged.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum { DEDUP_SHINGLE_WORD, DEDUP_SHINGLE_CHAR } DedupShingleKind;

/* The parameters a signature depends on; an index only accepts signatures
 * made with the same ones. */
typedef struct {
  DedupShingleKind kind;
  guint    ngram;           /* words or characters per shingle */
  guint    k;               /* MinHash bins (one-permutation hashing) */
  guint    bands;           /* LSH bands ... */
  guint    rows;            /* ... of this many bins each; bands * rows <= k */
  guint    lede_words;      /* extra key: the first N words (0: none) */
  gboolean skip_stopwords;  /* word shingles made only of stop words are left out */
} DedupSigParams;

/* Key of band @band (or of the lede, band == bands) in the shared key
 * space: the band number sits in the top bits so each band is one sorted
 * range. 47 bits, so SQLite stores it in 6 bytes. */
#define DEDUP_KEY_BITS 47
#define DEDUP_BAND_SHIFT 41

typedef struct {
  guint64  exact_lo, exact_hi;  /* XXH3-128 of the normalised word sequence */
  guint32  n_tokens;
  guint32  n_shingles;          /* distinct shingles (estimated when large) */
  guint64  lede_key;            /* 0 when the text is too short */
  guint16 *sig;                 /* k values, owned by the scratch */
} DedupSignature;

/* Paragraph of the input text, as found by the tokenizer. */
typedef struct {
  gsize    start, end;          /* byte span in the text, separator excluded */
  gsize    next;                /* where the next paragraph starts */
  guint    first_token, n_tokens;
  guint64  hash;                /* of its normalised words; 0 when it has none */
  guint64  bloom[4];            /* 256-bit set of its words, a cheap similarity filter */
} DedupParagraph;

typedef struct _DedupScratch DedupScratch;

DedupScratch *dedup_scratch_new  (const DedupSigParams *params);
void          dedup_scratch_free (DedupScratch *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DedupScratch, dedup_scratch_free)

/* Splits @text into words and paragraphs (normalising case, accents,
 * typography, punctuation and cp1252 mojibake). Results stay in @s. */
void     dedup_tokenize          (DedupScratch *s, const char *text, gsize len);
guint    dedup_n_paragraphs      (DedupScratch *s);
const DedupParagraph *dedup_paragraph (DedupScratch *s, guint i);
/* Jaccard similarity of the word-bigram sets of two paragraphs; 0 when
 * their word sets are clearly too different to reach @at_least. */
double   dedup_paragraph_similarity (DedupScratch *s, guint a, guint b, double at_least);
/* Forgets the words of the paragraphs whose @remove flag is set. */
void     dedup_remove_paragraphs (DedupScratch *s, const gboolean *remove);
/* Computes the signature of the tokenized text; @out->sig points into @s. */
void     dedup_signature         (DedupScratch *s, DedupSignature *out);

/* Key of an exact hash in the shared key space (band number bands + 1). */
guint64  dedup_exact_key         (const DedupSigParams *p, guint64 exact);
/* Key of band @b of a signature. */
guint64  dedup_band_key          (const DedupSigParams *p, const guint16 *sig, guint b);
/* Band keys of a signature: @keys receives params->bands values. */
void     dedup_band_keys         (const DedupSigParams *p, const guint16 *sig, guint64 *keys);
/* Estimated Jaccard similarity of two signatures. */
double   dedup_jaccard           (const guint16 *a, const guint16 *b, guint k);
/* Estimated containment of the smaller set in the larger from their
 * Jaccard similarity and sizes. */
double   dedup_containment       (double jaccard, guint32 n_a, guint32 n_b);

/* Picks rows and bands for @threshold: P(candidate | J = threshold) >= 0.95
 * with the most rows (most selective) that fit @k and @max_bands. */
void     dedup_derive_bands      (double threshold, guint k, guint max_bands, guint *bands, guint *rows);

G_END_DECLS
