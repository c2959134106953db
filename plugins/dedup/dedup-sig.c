/* dedup-sig.c: normalisation, exact hashes, one-permutation MinHash with
 * densification, LSH band keys.
 *
 * Words are runs of letters and digits after folding: lower case, accents
 * stripped, every other character (punctuation, curly quotes, dashes,
 * U+FFFD, spaces of any kind) a separator, and UTF-8 read as cp1252
 * ("donâ€™t") decoded back on the fly. Two texts that differ only in
 * those ways have the same word sequence, hence the same exact hash.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dedup-sig.h"

#include <math.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define STOP_SLOTS 128     /* stop words by their bytes (at most 5), packed in a guint64 */

struct _DedupScratch {
  DedupSigParams p;
  char     *norm;        /* normalised words, each followed by a space */
  gsize     norm_len, norm_cap;
  guint64  *thash;       /* per word */
  guint32  *toff;        /* offset of each word in norm */
  guint8   *tstop;       /* the word is a stop word */
  gsize     n_tok, tok_cap;
  GArray   *paras;       /* DedupParagraph */
  GPtrArray *bigrams;    /* per paragraph: sorted guint64 bigram hashes, or NULL */
  GArray   *bigram_n;    /* guint */
  guint64  *mins;        /* k */
  guint8   *filled;      /* k */
  guint16  *sig;         /* k */
  GString  *joined;      /* char shingles: the words joined by spaces */
  guint64   stop[STOP_SLOTS];
};

static const char *const stop_words[] = {
  "a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "but", "is", "are", "was", "were",
  "be", "been", "has", "have", "had", "it", "its", "this", "that", "with", "by", "from", "as", "he",
  "she", "they", "we", "i", "you", "his", "her", "their", "our", "not", "said", "will", "would", "can",
  "could", "also", "than", "then", "there", "which", "who", "what", "when", NULL
};

/* ASCII letters and digits folded to lower case; 0 for everything else
 * (including every byte >= 0x80, so the word loop needs no range test). */
static const guchar ascii_fold[256] = {
  ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6', ['7'] = '7',
  ['8'] = '8', ['9'] = '9',
  ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h',
  ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p',
  ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x',
  ['y'] = 'y', ['z'] = 'z',
  ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h',
  ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p',
  ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
  ['Y'] = 'y', ['Z'] = 'z',
};

#ifdef __SSE2__
/* Bit i set when byte i of @v is an ASCII letter or digit. */
static inline guint32
ascii_word_mask (__m128i v)
{
  /* unsigned range tests as signed compares after moving the range to -128 */
  __m128i letter = _mm_add_epi8 (_mm_or_si128 (v, _mm_set1_epi8 (0x20)), _mm_set1_epi8 ((char) (0x80 - 'a')));
  __m128i digit = _mm_add_epi8 (v, _mm_set1_epi8 ((char) (0x80 - '0')));
  __m128i is_letter = _mm_cmplt_epi8 (letter, _mm_set1_epi8 ((char) (-128 + 26)));
  __m128i is_digit = _mm_cmplt_epi8 (digit, _mm_set1_epi8 ((char) (-128 + 10)));
  return (guint32) _mm_movemask_epi8 (_mm_or_si128 (is_letter, is_digit));
}
#endif

static inline guint64
fmix64 (guint64 h)
{
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
  h ^= h >> 33;
  return h;
}

/* Hash of a normalised word. The defaults were measured with this hash;
 * with other hash functions of equal quality pair F1 on neardup-5k moves
 * between 0.990 and 0.993 (MinHash estimates are random). */
static inline guint64
word_hash (const char *w, gsize len)
{
  return XXH3_64bits (w, len) | 1;   /* never 0, the empty-slot marker */
}

/* The first @len (<= 8) bytes at @w as a number; reads 8 bytes. */
static inline guint64
packed (const char *w, gsize len)
{
  guint64 v;
  memcpy (&v, w, 8);
  return len >= 8 ? v : v & ((G_GUINT64_CONSTANT (1) << (8 * len)) - 1);
}

static inline guint
stop_slot (guint64 v)
{
  return (guint) ((v * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15)) >> 57);
}

/* Whether the word (at most 5 bytes, packed) is a stop word: no hash to
 * wait for, so it overlaps with the word's hash. */
static gboolean
stop_contains (const DedupScratch *s, guint64 v)
{
  for (guint i = stop_slot (v);; i = (i + 1) & (STOP_SLOTS - 1))
    {
      if (s->stop[i] == 0)
        return FALSE;
      if (s->stop[i] == v)
        return TRUE;
    }
}

DedupScratch *
dedup_scratch_new (const DedupSigParams *params)
{
  DedupScratch *s = g_new0 (DedupScratch, 1);
  s->p = *params;
  s->joined = g_string_sized_new (4096);
  s->paras = g_array_sized_new (FALSE, FALSE, sizeof (DedupParagraph), 64);
  s->bigrams = g_ptr_array_new_with_free_func (g_free);
  s->bigram_n = g_array_new (FALSE, FALSE, sizeof (guint));
  s->mins = g_new (guint64, params->k);
  s->filled = g_new (guint8, params->k);
  s->sig = g_new (guint16, params->k);
  for (guint i = 0; stop_words[i] != NULL; i++)
    {
      char buf[16] = { 0 };
      strncpy (buf, stop_words[i], sizeof buf - 1);
      guint64 v = packed (buf, strlen (buf));
      guint j = stop_slot (v);
      while (s->stop[j] != 0)
        j = (j + 1) & (STOP_SLOTS - 1);
      s->stop[j] = v;
    }
  return s;
}

void
dedup_scratch_free (DedupScratch *s)
{
  if (s == NULL)
    return;
  g_free (s->norm);
  g_string_free (s->joined, TRUE);
  g_free (s->thash);
  g_free (s->toff);
  g_free (s->tstop);
  g_array_unref (s->paras);
  g_ptr_array_unref (s->bigrams);
  g_array_unref (s->bigram_n);
  g_free (s->mins);
  g_free (s->filled);
  g_free (s->sig);
  g_free (s);
}

/* ---- tokenizer ------------------------------------------------------------ */

/* The byte cp1252 maps to @c, or -1; only 0x80..0xBF matter here (the
 * continuation bytes of UTF-8). The five bytes cp1252 leaves undefined
 * come back as the C1 controls of the same value. */
static int
cp1252_continuation (gunichar c)
{
  if (c >= 0x80 && c <= 0xBF)
    return (int) c;
  switch (c)
    {
    case 0x20AC: return 0x80; case 0x201A: return 0x82; case 0x0192: return 0x83;
    case 0x201E: return 0x84; case 0x2026: return 0x85; case 0x2020: return 0x86;
    case 0x2021: return 0x87; case 0x02C6: return 0x88; case 0x2030: return 0x89;
    case 0x0160: return 0x8A; case 0x2039: return 0x8B; case 0x0152: return 0x8C;
    case 0x017D: return 0x8E; case 0x2018: return 0x91; case 0x2019: return 0x92;
    case 0x201C: return 0x93; case 0x201D: return 0x94; case 0x2022: return 0x95;
    case 0x2013: return 0x96; case 0x2014: return 0x97; case 0x02DC: return 0x98;
    case 0x2122: return 0x99; case 0x0161: return 0x9A; case 0x203A: return 0x9B;
    case 0x0153: return 0x9C; case 0x017E: return 0x9E; case 0x0178: return 0x9F;
    default: return -1;
    }
}

static inline gunichar
decode_at (const char *p, const char *end, gsize *n)
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
      return 0xFFFD;
    }
  *n = g_utf8_next_char (p) - p;
  return u;
}

/* At @p is a character in U+00C2..U+00F4; if it and the next ones are the
 * cp1252 reading of one UTF-8 sequence, returns the original character and
 * sets *n to the bytes consumed. Otherwise returns 0. */
static gunichar
undo_mojibake (gunichar lead, const char *p, const char *end, gsize lead_len, gsize *n)
{
  guint need = lead <= 0xDF ? 1 : lead <= 0xEF ? 2 : 3;
  char bytes[4] = { (char) lead };
  const char *q = p + lead_len;
  for (guint i = 0; i < need; i++)
    {
      if (q >= end)
        return 0;
      gsize m;
      int b = cp1252_continuation (decode_at (q, end, &m));
      if (b < 0)
        return 0;
      bytes[1 + i] = (char) b;
      q += m;
    }
  gunichar u = g_utf8_get_char_validated (bytes, need + 1);
  if (u == (gunichar) -1 || u == (gunichar) -2 || u < 0x80)
    return 0;
  *n = q - p;
  return u;
}

static void
grow_norm (DedupScratch *s, gsize need)
{
  while (s->norm_len + need > s->norm_cap)
    s->norm_cap = MAX (4096, s->norm_cap * 2);
  s->norm = g_realloc (s->norm, s->norm_cap);
}

static void
grow_tokens (DedupScratch *s)
{
  s->tok_cap = MAX (1024, s->tok_cap * 2);
  s->thash = g_renew (guint64, s->thash, s->tok_cap);
  s->toff = g_renew (guint32, s->toff, s->tok_cap);
  s->tstop = g_renew (guint8, s->tstop, s->tok_cap);
}

/* Ends the word that started at norm offset @start (G_MAXSIZE: none). */
static inline void
end_word (DedupScratch *s, gsize *start)
{
  if (*start == G_MAXSIZE)
    return;
  gsize len = s->norm_len - *start;
  guint64 h = word_hash (s->norm + *start, len);
  if (G_UNLIKELY (s->n_tok == s->tok_cap))
    grow_tokens (s);
  s->thash[s->n_tok] = h;
  s->toff[s->n_tok] = (guint32) *start;
  s->tstop[s->n_tok] = len <= 5 && stop_contains (s, packed (s->norm + *start, len));
  s->n_tok++;
  s->norm[s->norm_len++] = ' ';
  *start = G_MAXSIZE;
}

static void
close_paragraph (DedupScratch *s, DedupParagraph *para, gsize next)
{
  para->next = next;
  para->n_tokens = s->n_tok - para->first_token;
  para->hash = para->n_tokens == 0 ? 0 :
    XXH3_64bits (s->thash + para->first_token, para->n_tokens * sizeof (guint64)) | 1;
  memset (para->bloom, 0, sizeof para->bloom);
  for (guint i = 0; i < para->n_tokens; i++)
    {
      guint64 h = s->thash[para->first_token + i] >> 32;
      para->bloom[(h >> 6) & 3] |= G_GUINT64_CONSTANT (1) << (h & 63);
    }
  g_array_append_val (s->paras, *para);
}

/* A word character at @pos after a blank line starts a new paragraph. */
#define MAYBE_NEW_PARAGRAPH(pos)                                                   \
  do {                                                                             \
    if (in_space && newlines >= 2 && s->n_tok > para.first_token)                  \
      {                                                                            \
        close_paragraph (s, &para, (pos));                                         \
        para = (DedupParagraph) { .start = (pos), .first_token = s->n_tok };       \
      }                                                                            \
    in_space = FALSE;                                                              \
    newlines = 0;                                                                  \
  } while (0)

void
dedup_tokenize (DedupScratch *s, const char *text, gsize len)
{
  s->norm_len = 0;
  s->n_tok = 0;
  g_array_set_size (s->paras, 0);
  g_ptr_array_set_size (s->bigrams, 0);
  /* the ASCII path writes at most one byte per byte read, plus a space per
   * word; + slack: word_hash reads whole 8-byte words */
  grow_norm (s, 2 * len + 16);

  const char *p = text, *end = text + len;
  gsize word_start = G_MAXSIZE;
  guint newlines = 0;           /* in the current run of white space */
  gboolean in_space = FALSE;
  DedupParagraph para = { 0 };

  while (p < end)
    {
      guchar c = (guchar) *p;
      if (c < 0x80)
        {
          guchar f = ascii_fold[c];
          if (f != 0)
            {
              if (word_start == G_MAXSIZE)
                {
                  MAYBE_NEW_PARAGRAPH (p - text);
                  word_start = s->norm_len;
                }
              for (;;)
                {
                  /* the rest of an ASCII run: 16 bytes at a time, then a tight loop */
                  char *out = s->norm + s->norm_len;
#ifdef __SSE2__
                  const char *limit = s->norm + s->norm_cap - 16;
                  while (end - p >= 16 && out <= limit)
                    {
                      __m128i v = _mm_loadu_si128 ((const __m128i *) p);
                      guint run = __builtin_ctz (~ascii_word_mask (v));
                      /* lower case: letters and digits all have bit 0x20 set */
                      _mm_storeu_si128 ((__m128i *) out, _mm_or_si128 (v, _mm_set1_epi8 (0x20)));
                      out += run;
                      p += run;
                      if (run < 16)
                        goto word_copied;
                    }
#endif
                  while (p < end && (f = ascii_fold[(guchar) *p]) != 0)
                    {
                      *out++ = f;
                      p++;
                    }
#ifdef __SSE2__
                word_copied:
#endif
                  s->norm_len = out - s->norm;
                  if (end - p < 2 || p[0] != ' ' || ascii_fold[(guchar) p[1]] == 0)
                    break;
                  /* one space, then the next word (the common case): straight
                   * on; a single space never starts a paragraph */
                  end_word (s, &word_start);
                  p++;
                  word_start = s->norm_len;
                }
              continue;
            }
          end_word (s, &word_start);
          if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v')
            {
              in_space = TRUE;
              newlines += c == '\n';
            }
          else
            MAYBE_NEW_PARAGRAPH (p - text);
          p++;
          continue;
        }
      if (G_UNLIKELY (s->norm_len + 16 > s->norm_cap))
        grow_norm (s, 8 + 2 * (end - p));
      gsize n;
      gunichar u = decode_at (p, end, &n);
      if (u >= 0xC2 && u <= 0xF4)
        {
          gsize m;
          gunichar fixed = undo_mojibake (u, p, end, n, &m);
          if (fixed != 0)
            {
              u = fixed;
              n = m;
            }
        }
      if (g_unichar_isalnum (u))
        {
          if (word_start == G_MAXSIZE)
            {
              MAYBE_NEW_PARAGRAPH (p - text);
              word_start = s->norm_len;
            }
          u = g_unichar_tolower (u);
          gunichar d[4];
          gsize nd = g_unichar_fully_decompose (u, FALSE, d, G_N_ELEMENTS (d));
          if (nd > 0 && d[0] < 0x80 && g_ascii_isalnum (d[0]))
            u = d[0];
          s->norm_len += g_unichar_to_utf8 (u, s->norm + s->norm_len);
        }
      else
        {
          end_word (s, &word_start);
          if (g_unichar_isspace (u))
            in_space = TRUE;
          else
            MAYBE_NEW_PARAGRAPH (p - text);
        }
      p += n;
    }
  end_word (s, &word_start);
  close_paragraph (s, &para, len);
}

guint
dedup_n_paragraphs (DedupScratch *s)
{
  return s->paras->len;
}

const DedupParagraph *
dedup_paragraph (DedupScratch *s, guint i)
{
  return &g_array_index (s->paras, DedupParagraph, i);
}

static int
cmp_u64 (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* The sorted distinct word bigrams of paragraph @i, computed once per text. */
static const guint64 *
paragraph_bigrams (DedupScratch *s, guint i, guint *n)
{
  if (s->bigrams->len < s->paras->len)
    {
      g_ptr_array_set_size (s->bigrams, s->paras->len);
      g_array_set_size (s->bigram_n, s->paras->len);
    }
  guint64 *out = g_ptr_array_index (s->bigrams, i);
  if (out == NULL)
    {
      const DedupParagraph *para = dedup_paragraph (s, i);
      const guint64 *t = s->thash + para->first_token;
      guint m = para->n_tokens > 1 ? para->n_tokens - 1 : para->n_tokens;
      out = g_new (guint64, MAX (m, 1));
      for (guint j = 0; j < m; j++)
        out[j] = para->n_tokens > 1 ? fmix64 (t[j] * 31 + t[j + 1]) : t[j];
      qsort (out, m, sizeof (guint64), cmp_u64);
      guint w = 0;
      for (guint j = 0; j < m; j++)
        if (w == 0 || out[w - 1] != out[j])
          out[w++] = out[j];
      g_ptr_array_index (s->bigrams, i) = out;
      g_array_index (s->bigram_n, guint, i) = w;
    }
  *n = g_array_index (s->bigram_n, guint, i);
  return out;
}

double
dedup_paragraph_similarity (DedupScratch *s, guint a, guint b, double at_least)
{
  const DedupParagraph *pa = dedup_paragraph (s, a), *pb = dedup_paragraph (s, b);
  guint inter = 0, uni = 0;
  for (guint i = 0; i < 4; i++)
    {
      inter += __builtin_popcountll (pa->bloom[i] & pb->bloom[i]);
      uni += __builtin_popcountll (pa->bloom[i] | pb->bloom[i]);
    }
  /* bigram similarity t needs a word overlap of about 2t/(1+t) or more;
   * the bloom overlap only overestimates it */
  if (uni > 0 && inter < (2 * at_least / (1 + at_least)) * uni * 0.9)
    return 0.0;
  guint na, nb;
  const guint64 *x = paragraph_bigrams (s, a, &na);
  const guint64 *y = paragraph_bigrams (s, b, &nb);
  guint i = 0, j = 0, both = 0;
  while (i < na && j < nb)
    {
      if (x[i] == y[j])
        both++, i++, j++;
      else if (x[i] < y[j])
        i++;
      else
        j++;
    }
  guint all = na + nb - both;
  return all == 0 ? 0.0 : (double) both / all;
}

void
dedup_remove_paragraphs (DedupScratch *s, const gboolean *remove)
{
  gsize w = 0;
  for (guint i = 0; i < s->paras->len; i++)
    {
      const DedupParagraph *para = dedup_paragraph (s, i);
      if (remove[i])
        continue;
      for (guint t = 0; t < para->n_tokens; t++, w++)
        {
          s->thash[w] = s->thash[para->first_token + t];
          s->toff[w] = s->toff[para->first_token + t];
          s->tstop[w] = s->tstop[para->first_token + t];
        }
    }
  s->n_tok = w;
}

/* ---- signatures ----------------------------------------------------------- */

/* Adds shingle hash @h when @keep; branch-free, as both tests are coin flips. */
static inline void
oph_add_if (DedupScratch *s, guint64 h, gboolean keep)
{
  h = fmix64 (h);
  guint bin = (guint) (((h >> 32) * (guint64) s->p.k) >> 32);
  guint64 m = s->mins[bin];
  gboolean take = keep & ((guint32) h < (guint32) m);
  s->mins[bin] = take ? h : m;
}

static inline void
oph_add (DedupScratch *s, guint64 h)
{
  h = fmix64 (h);
  guint bin = (guint) (((h >> 32) * (guint64) s->p.k) >> 32);
  if ((guint32) h < (guint32) s->mins[bin])
    s->mins[bin] = h;      /* never back to G_MAXUINT64: that marks an empty bin */
}

void
dedup_signature (DedupScratch *s, DedupSignature *out)
{
  const DedupSigParams *p = &s->p;
  const guint64 *t = s->thash;
  const guint8 *stop = s->tstop;
  guint n = s->n_tok;

  XXH128_hash_t exact = XXH3_128bits (t, n * sizeof (guint64));
  out->exact_lo = exact.low64;
  out->exact_hi = exact.high64;
  out->n_tokens = n;
  out->lede_key = 0;
  if (p->lede_words > 0 && n >= 2 * p->lede_words)
    out->lede_key = ((guint64) p->bands << DEDUP_BAND_SHIFT)
                    | (XXH3_64bits_withSeed (t, p->lede_words * sizeof (guint64), 0x1ede) >> (64 - DEDUP_BAND_SHIFT));

  for (guint i = 0; i < p->k; i++)
    s->mins[i] = G_MAXUINT64;
  memset (s->filled, 0, p->k);

  gsize n_sh = 0;
  if (p->kind == DEDUP_SHINGLE_WORD && p->ngram == 2 && n > 2)
    {
      /* the default, unrolled: the same values as the general loop */
      guint8 skip = p->skip_stopwords ? 1 : 0;
      for (guint i = 0; i + 1 < n; i++)
        {
          gboolean keep = !(skip & stop[i] & stop[i + 1]);
          guint64 h = (G_GUINT64_CONSTANT (0x9e3779b97f4a7c15) ^ t[i]) * G_GUINT64_CONSTANT (0x100000001b3);
          h = (h << 29) | (h >> 35);
          h = (h ^ t[i + 1]) * G_GUINT64_CONSTANT (0x100000001b3);
          h = (h << 29) | (h >> 35);
          oph_add_if (s, h, keep);
          n_sh += keep;
        }
    }
  else if (p->kind == DEDUP_SHINGLE_WORD)
    {
      guint g = MAX (p->ngram, 1);
      guint m = n >= g ? n - g + 1 : (n > 0 ? 1 : 0);
      for (guint i = 0; i < m; i++)
        {
          guint len = MIN (g, n - i);
          gboolean all_stop = p->skip_stopwords;
          guint64 h = G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
          for (guint j = 0; j < len; j++)
            {
              h = (h ^ t[i + j]) * G_GUINT64_CONSTANT (0x100000001b3);
              h = (h << 29) | (h >> 35);
              all_stop = all_stop && stop[i + j];
            }
          if (all_stop && n > len)
            continue;
          oph_add (s, h);
          n_sh++;
        }
    }
  else
    {
      g_string_truncate (s->joined, 0);
      for (guint i = 0; i < n; i++)
        {
          const char *w = s->norm + s->toff[i];
          const char *e = memchr (w, ' ', s->norm_len - s->toff[i]);
          if (i > 0)
            g_string_append_c (s->joined, ' ');
          g_string_append_len (s->joined, w, e - w);
        }
      guint g = MAX (p->ngram, 1);
      gsize len = s->joined->len;
      if (len > 0)
        for (gsize i = 0; i + g <= len || i == 0; i++)
          {
            oph_add (s, XXH3_64bits (s->joined->str + i, MIN (g, len - i)));
            n_sh++;
            if (i + g >= len)
              break;
          }
    }
  /* occurrences, not distinct shingles: repeats are rare in prose after
   * repeated paragraphs are gone, and counting them exactly costs more than
   * the MinHash itself */
  out->n_shingles = n_sh;

  guint filled = 0;
  for (guint i = 0; i < p->k; i++)
    s->filled[i] = s->mins[i] != G_MAXUINT64;
  for (guint i = 0; i < p->k; i++)
    if (s->filled[i])
      {
        s->sig[i] = (guint16) (s->mins[i] >> 32);
        filled++;
      }
  /* densification: an empty bin borrows the value of a bin chosen by a
   * fixed sequence of probes, the same for every document */
  for (guint i = 0; i < p->k; i++)
    {
      if (s->filled[i])
        continue;
      s->sig[i] = 0;
      if (filled == 0)
        continue;
      for (guint64 a = 0; a < 1024; a++)
        {
          guint j = (guint) (((fmix64 (((guint64) i << 32) + a + 1) >> 32) * (guint64) p->k) >> 32);
          if (s->filled[j])
            {
              s->sig[i] = (guint16) (s->mins[j] >> 32);
              break;
            }
        }
    }
  out->sig = s->sig;
}

guint64
dedup_exact_key (const DedupSigParams *p, guint64 exact)
{
  return ((guint64) (p->bands + 1) << DEDUP_BAND_SHIFT) | (fmix64 (exact) >> (64 - DEDUP_BAND_SHIFT));
}

guint64
dedup_band_key (const DedupSigParams *p, const guint16 *sig, guint b)
{
  const guint16 *v = sig + b * p->rows;
  guint64 h = G_GUINT64_CONSTANT (0x243f6a8885a308d3) * (b + 1);
  for (guint i = 0; i < p->rows; i++)
    {
      h = (h ^ v[i]) * G_GUINT64_CONSTANT (0x9fb21c651e98df25);
      h = (h << 23) | (h >> 41);
    }
  return ((guint64) b << DEDUP_BAND_SHIFT) | (fmix64 (h) >> (64 - DEDUP_BAND_SHIFT));
}

void
dedup_band_keys (const DedupSigParams *p, const guint16 *sig, guint64 *keys)
{
  for (guint b = 0; b < p->bands; b++)
    keys[b] = dedup_band_key (p, sig, b);
}

double
dedup_jaccard (const guint16 *a, const guint16 *b, guint k)
{
  guint same = 0, i = 0;
#ifdef __SSE2__
  /* equal lanes are -1: subtracting counts them, 8 lanes at a time (k <=
   * 1024, so a lane never passes 128) */
  __m128i acc = _mm_setzero_si128 ();
  for (; i + 8 <= k; i += 8)
    acc = _mm_sub_epi16 (acc, _mm_cmpeq_epi16 (_mm_loadu_si128 ((const __m128i *) (a + i)),
                                               _mm_loadu_si128 ((const __m128i *) (b + i))));
  guint16 lanes[8];
  _mm_storeu_si128 ((__m128i *) lanes, acc);
  for (guint l = 0; l < 8; l++)
    same += lanes[l];
#endif
  for (; i < k; i++)
    same += a[i] == b[i];
  return (double) same / k;
}

double
dedup_containment (double jaccard, guint32 n_a, guint32 n_b)
{
  guint32 small = MIN (n_a, n_b);
  if (small == 0)
    return 0.0;
  double both = jaccard / (1.0 + jaccard) * ((double) n_a + n_b);
  return MIN (1.0, both / small);
}

void
dedup_derive_bands (double threshold, guint k, guint max_bands, guint *bands, guint *rows)
{
  for (guint r = 8; r >= 1; r--)
    {
      double per_band = pow (threshold, r);
      if (per_band >= 1.0)
        continue;
      double b = ceil (log (0.05) / log (1.0 - per_band));
      if (b >= 1 && b <= max_bands && b * r <= k)
        {
          *bands = (guint) b;
          *rows = r;
          return;
        }
    }
  *rows = 1;
  *bands = MIN (max_bands, k);
}
