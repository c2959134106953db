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

#define STOP_SLOTS 512

struct _DedupScratch {
  DedupSigParams p;
  GString  *norm;        /* normalised words, each followed by a space */
  GArray   *thash;       /* guint64 per word */
  GArray   *toff;        /* guint32 offset of each word in norm */
  GArray   *tstop;       /* guint8: the word is a stop word */
  GArray   *paras;       /* DedupParagraph */
  guint64  *mins;        /* k */
  guint8   *filled;      /* k */
  guint16  *sig;         /* k */
  guint64  *set;         /* distinct shingle counting */
  gsize     set_size;
  GString  *joined;      /* char shingles: the words joined by spaces */
  guint64   stop[STOP_SLOTS];
};

static const char *const stop_words[] = {
  "a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "but", "is", "are", "was", "were",
  "be", "been", "has", "have", "had", "it", "its", "this", "that", "with", "by", "from", "as", "he",
  "she", "they", "we", "i", "you", "his", "her", "their", "our", "not", "said", "will", "would", "can",
  "could", "also", "than", "then", "there", "which", "who", "what", "when", NULL
};

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

static inline guint64
word_hash (const char *w, gsize len)
{
  return XXH3_64bits (w, len) | 1;   /* never 0, the empty-slot marker */
}

static gboolean
stop_contains (const DedupScratch *s, guint64 h)
{
  for (guint i = h & (STOP_SLOTS - 1);; i = (i + 1) & (STOP_SLOTS - 1))
    {
      if (s->stop[i] == 0)
        return FALSE;
      if (s->stop[i] == h)
        return TRUE;
    }
}

DedupScratch *
dedup_scratch_new (const DedupSigParams *params)
{
  DedupScratch *s = g_new0 (DedupScratch, 1);
  s->p = *params;
  s->norm = g_string_sized_new (4096);
  s->joined = g_string_sized_new (4096);
  s->thash = g_array_sized_new (FALSE, FALSE, sizeof (guint64), 1024);
  s->toff = g_array_sized_new (FALSE, FALSE, sizeof (guint32), 1024);
  s->tstop = g_array_sized_new (FALSE, FALSE, sizeof (guint8), 1024);
  s->paras = g_array_sized_new (FALSE, FALSE, sizeof (DedupParagraph), 64);
  s->mins = g_new (guint64, params->k);
  s->filled = g_new (guint8, params->k);
  s->sig = g_new (guint16, params->k);
  for (guint i = 0; stop_words[i] != NULL; i++)
    {
      guint64 h = word_hash (stop_words[i], strlen (stop_words[i]));
      guint j = h & (STOP_SLOTS - 1);
      while (s->stop[j] != 0)
        j = (j + 1) & (STOP_SLOTS - 1);
      s->stop[j] = h;
    }
  return s;
}

void
dedup_scratch_free (DedupScratch *s)
{
  if (s == NULL)
    return;
  g_string_free (s->norm, TRUE);
  g_string_free (s->joined, TRUE);
  g_array_unref (s->thash);
  g_array_unref (s->toff);
  g_array_unref (s->tstop);
  g_array_unref (s->paras);
  g_free (s->mins);
  g_free (s->filled);
  g_free (s->sig);
  g_free (s->set);
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

static inline void
end_word (DedupScratch *s, gsize *word_start)
{
  if (*word_start == G_MAXSIZE)
    return;
  gsize len = s->norm->len - *word_start;
  guint64 h = word_hash (s->norm->str + *word_start, len);
  guint32 off = *word_start;
  guint8 stop = len <= 5 && stop_contains (s, h);
  g_array_append_val (s->thash, h);
  g_array_append_val (s->toff, off);
  g_array_append_val (s->tstop, stop);
  g_string_append_c (s->norm, ' ');
  *word_start = G_MAXSIZE;
}

static void
close_paragraph (DedupScratch *s, DedupParagraph *para, gsize next)
{
  para->next = next;
  para->n_tokens = s->thash->len - para->first_token;
  para->hash = para->n_tokens == 0 ? 0 :
    XXH3_64bits (&g_array_index (s->thash, guint64, para->first_token), para->n_tokens * sizeof (guint64)) | 1;
  g_array_append_val (s->paras, *para);
}

void
dedup_tokenize (DedupScratch *s, const char *text, gsize len)
{
  g_string_truncate (s->norm, 0);
  g_array_set_size (s->thash, 0);
  g_array_set_size (s->toff, 0);
  g_array_set_size (s->tstop, 0);
  g_array_set_size (s->paras, 0);

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
          if (g_ascii_isalnum (c))
            {
              if (in_space && newlines >= 2 && s->thash->len + (word_start != G_MAXSIZE) > para.first_token)
                {
                  close_paragraph (s, &para, p - text);
                  para = (DedupParagraph) { .start = p - text, .first_token = s->thash->len };
                }
              in_space = FALSE;
              newlines = 0;
              if (word_start == G_MAXSIZE)
                word_start = s->norm->len;
              g_string_append_c (s->norm, g_ascii_tolower (c));
            }
          else
            {
              end_word (s, &word_start);
              if (c == '\n')
                newlines++;
              if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v')
                in_space = TRUE;
              else
                {
                  if (in_space && newlines >= 2 && s->thash->len > para.first_token)
                    {
                      close_paragraph (s, &para, p - text);
                      para = (DedupParagraph) { .start = p - text, .first_token = s->thash->len };
                    }
                  in_space = FALSE;
                  newlines = 0;
                }
            }
          p++;
          continue;
        }
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
          if (in_space && newlines >= 2 && s->thash->len > para.first_token)
            {
              close_paragraph (s, &para, p - text);
              para = (DedupParagraph) { .start = p - text, .first_token = s->thash->len };
            }
          in_space = FALSE;
          newlines = 0;
          u = g_unichar_tolower (u);
          gunichar d[4];
          gsize nd = g_unichar_fully_decompose (u, FALSE, d, G_N_ELEMENTS (d));
          if (nd > 0 && d[0] < 0x80 && g_ascii_isalnum (d[0]))
            u = d[0];
          if (word_start == G_MAXSIZE)
            word_start = s->norm->len;
          g_string_append_unichar (s->norm, u);
        }
      else
        {
          end_word (s, &word_start);
          if (g_unichar_isspace (u))
            in_space = TRUE;
          else
            {
              in_space = FALSE;
              newlines = 0;
            }
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

static guint64 *
paragraph_bigrams (DedupScratch *s, const DedupParagraph *para, guint *n)
{
  const guint64 *t = &g_array_index (s->thash, guint64, para->first_token);
  guint m = para->n_tokens > 1 ? para->n_tokens - 1 : para->n_tokens;
  guint64 *out = g_new (guint64, MAX (m, 1));
  for (guint i = 0; i < m; i++)
    out[i] = para->n_tokens > 1 ? fmix64 (t[i] * 31 + t[i + 1]) : t[i];
  qsort (out, m, sizeof (guint64), cmp_u64);
  guint w = 0;
  for (guint i = 0; i < m; i++)
    if (w == 0 || out[w - 1] != out[i])
      out[w++] = out[i];
  *n = w;
  return out;
}

double
dedup_paragraph_similarity (DedupScratch *s, guint a, guint b)
{
  guint na, nb;
  g_autofree guint64 *x = paragraph_bigrams (s, dedup_paragraph (s, a), &na);
  g_autofree guint64 *y = paragraph_bigrams (s, dedup_paragraph (s, b), &nb);
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
  guint w = 0;
  for (guint i = 0; i < s->paras->len; i++)
    {
      DedupParagraph *para = &g_array_index (s->paras, DedupParagraph, i);
      if (remove[i])
        continue;
      for (guint t = 0; t < para->n_tokens; t++, w++)
        {
          g_array_index (s->thash, guint64, w) = g_array_index (s->thash, guint64, para->first_token + t);
          g_array_index (s->toff, guint32, w) = g_array_index (s->toff, guint32, para->first_token + t);
          g_array_index (s->tstop, guint8, w) = g_array_index (s->tstop, guint8, para->first_token + t);
        }
    }
  g_array_set_size (s->thash, w);
  g_array_set_size (s->toff, w);
  g_array_set_size (s->tstop, w);
}

/* ---- signatures ----------------------------------------------------------- */

static inline void
oph_add (DedupScratch *s, guint64 h)
{
  h = fmix64 (h);
  guint bin = (guint) (((h >> 32) * (guint64) s->p.k) >> 32);
  if ((guint32) h < (guint32) s->mins[bin])
    {
      s->mins[bin] = h;
      s->filled[bin] = 1;
    }
}

/* Counts distinct shingle hashes with a small open-addressing set. */
static guint32
count_distinct (DedupScratch *s, const guint64 *h, gsize n)
{
  gsize size = 64;
  while (size < 2 * n)
    size <<= 1;
  if (size > s->set_size)
    {
      g_free (s->set);
      s->set = g_new (guint64, size);
      s->set_size = size;
    }
  memset (s->set, 0, size * sizeof (guint64));
  guint32 distinct = 0;
  for (gsize i = 0; i < n; i++)
    {
      guint64 v = h[i] | 1;
      for (gsize j = fmix64 (v) & (size - 1);; j = (j + 1) & (size - 1))
        {
          if (s->set[j] == v)
            break;
          if (s->set[j] == 0)
            {
              s->set[j] = v;
              distinct++;
              break;
            }
        }
    }
  return distinct;
}

void
dedup_signature (DedupScratch *s, DedupSignature *out)
{
  const DedupSigParams *p = &s->p;
  const guint64 *t = (const guint64 *) s->thash->data;
  const guint8 *stop = (const guint8 *) s->tstop->data;
  guint n = s->thash->len;

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

  /* shingle hashes go into a scratch array first to count distinct ones */
  g_autoptr(GArray) hs = g_array_sized_new (FALSE, FALSE, sizeof (guint64), n + 8);
  if (p->kind == DEDUP_SHINGLE_WORD)
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
          g_array_append_val (hs, h);
        }
    }
  else
    {
      g_string_truncate (s->joined, 0);
      for (guint i = 0; i < n; i++)
        {
          const char *w = s->norm->str + g_array_index (s->toff, guint32, i);
          const char *e = strchr (w, ' ');
          if (i > 0)
            g_string_append_c (s->joined, ' ');
          g_string_append_len (s->joined, w, e - w);
        }
      guint g = MAX (p->ngram, 1);
      gsize len = s->joined->len;
      if (len > 0)
        for (gsize i = 0; i + g <= len || i == 0; i++)
          {
            guint64 h = XXH3_64bits (s->joined->str + i, MIN (g, len - i));
            g_array_append_val (hs, h);
            if (i + g >= len)
              break;
          }
    }
  const guint64 *sh = (const guint64 *) hs->data;
  for (guint i = 0; i < hs->len; i++)
    oph_add (s, sh[i]);
  out->n_shingles = count_distinct (s, sh, hs->len);

  guint filled = 0;
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

void
dedup_band_keys (const DedupSigParams *p, const guint16 *sig, guint64 *keys)
{
  for (guint b = 0; b < p->bands; b++)
    keys[b] = ((guint64) b << DEDUP_BAND_SHIFT)
              | (XXH3_64bits_withSeed (sig + b * p->rows, p->rows * sizeof (guint16), b) >> (64 - DEDUP_BAND_SHIFT));
}

double
dedup_jaccard (const guint16 *a, const guint16 *b, guint k)
{
  guint same = 0;
  for (guint i = 0; i < k; i++)
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
