/* ner-model.c: loading the entities model from its data directory:
 * gazetteers, WordNet classes, aliases, the vocabulary and dictionary, and
 * the tagger's weights; saving weights for the trainer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ner-private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* Notes in @more the first 1 to @n - 1 words of the name of @n words
 * that ner_name_key () has just read into s->toks. */
static void
note_prefixes (NerTable *more, const NerScratch *s, guint n)
{
  guint64 h = NER_SEQ_SEED;
  for (guint i = 0; i + 1 < n; i++)
    {
      h = ner_seq_step (h, s->toks[i].lower);
      ner_table_insert (more, h)->bits = 1;
    }
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

/* Whether @name has letters, all of them ASCII capitals. */
static gboolean
is_capitals (const char *name)
{
  gboolean letters = FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if ((guchar) *p >= 0x80 || g_ascii_islower (*p))
        return FALSE;
      letters |= g_ascii_isupper (*p);
    }
  return letters;
}

/* What one data line of a list file adds to the model; FALSE with
 * @error ("PATH:LINE: expected ...") for a bad line. */
typedef gboolean (*NerLineFunc) (NerModel *model, NerScratch *s, char *line, const char *path, guint lineno,
                                 GError **error);

/* Reads @path and hands each data line (blank and '#' lines skipped) to
 * @func. */
static gboolean
load_lines (NerModel *model, NerScratch *s, const char *path, NerLineFunc func, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  if (!read_file (path, &data, &len, error))
    return FALSE;
  guint lineno = 0;
  char *cursor = data;
  for (char *line; (line = next_data_line (&cursor, &lineno)) != NULL;)
    if (!func (model, s, line, path, lineno, error))
      return FALSE;
  return TRUE;
}

/* Lines "TYPE<TAB>name[<TAB>canonical]"; '#' starts a comment line. */
static gboolean
gazetteer_line (NerModel *model, NerScratch *s, char *line, const char *path, guint lineno, GError **error)
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
      NerEntry *e = ner_table_insert (&model->gaz, key);
      /* a one-word name in capitals ("WHO"): marked until the same
       * word is listed in another case ("Turkey", "Once") */
      gboolean fresh = e->bits == 0;
      gboolean caps = nt == 1 && is_capitals (f[1]);
      if (caps && (fresh || (e->bits & NER_GZ_CAPS)))
        e->bits |= NER_GZ_CAPS;
      else
        e->bits &= ~(guint32) NER_GZ_CAPS;
      e->bits |= bit;
      if (f[2] != NULL && *f[2] != '\0')
        e->canon = ner_intern (model, f[2], -1);
      else if (e->canon == NER_NO_STRING && (bit & (NER_GZ_PER | NER_GZ_ORG | NER_GZ_LOC)))
        e->canon = ner_intern (model, f[1], -1);
      if (model->loading_countries && (bit & NER_GZ_LOC))
        ner_table_insert (&model->countries, key);
      model->gaz_maxlen = MAX (model->gaz_maxlen, nt);
      note_prefixes (&model->gaz_more, s, nt);
    }
  g_strfreev (f);
  return TRUE;
}

/* wordnet.tsv: lines "TYPE<TAB>name" with TYPE one of PER, ORG, LOC, MISC,
 * PEOPLE; geonames.tsv: CITY, REGION, STATE. A table of their own, read by
 * the features (no canonical names) and by two rules on places. */
static gboolean
wordnet_line (NerModel *model, NerScratch *s, char *line, const char *path, guint lineno, GError **error)
{
  static const struct { const char *name; guint32 bit; } types[] = {
    { "PER", NER_WN_PER }, { "ORG", NER_WN_ORG }, { "LOC", NER_WN_LOC }, { "MISC", NER_WN_MISC },
    { "PEOPLE", NER_WN_PEOPLE }, { "CITY", NER_WN_CITY }, { "REGION", NER_WN_REGION },
    { "STATE", NER_WN_STATE | NER_WN_REGION },
  };
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
                   "%s:%u: expected TYPE<TAB>name with TYPE one of PER, ORG, LOC, MISC, PEOPLE, CITY, REGION, STATE",
                   path, lineno);
      return FALSE;
    }
  guint nt;
  guint64 key = ner_name_key (s, tab + 1, strlen (tab + 1), &nt);
  if (key != 0 && nt <= 8)
    {
      ner_table_insert (&model->wn, key)->bits |= bit;
      model->wn_maxlen = MAX (model->wn_maxlen, nt);
      note_prefixes (&model->wn_more, s, nt);
    }
  return TRUE;
}

/* Lines "variant<TAB>canonical". */
static gboolean
alias_line (NerModel *model, NerScratch *s, char *line, const char *path, guint lineno, GError **error)
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
    return TRUE;
  NerEntry *e = ner_table_insert (&model->aliases, key);
  e->canon = ner_intern (model, tab + 1, -1);
  e->bits = 1;
  return TRUE;
}

static gboolean
vocab_line (NerModel *model, NerScratch *s, char *line, const char *path, guint lineno, GError **error)
{
  guint n = ner_tokenize_raw (s, line, strlen (line), 0);
  if (n == 1)
    ner_table_insert (&model->vocab, s->toks[0].lower)->bits = 1;
  return TRUE;
}

static inline void
dict_insert (NerModel *model, guint64 h)
{
  guint32 key = ner_dict_key (h);
  guint i = ner_dict_slot (h, model->dict_mask);
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
      guint64 h = (ner_word_hash (line, e) & ~(guint64) 3) | (cap ? NER_DICT_CAP : NER_DICT_LOWER);
#if defined(__GNUC__)
      __builtin_prefetch (&model->dict[ner_dict_slot (h, model->dict_mask)], 1);
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
#define MODEL_ROW (4 + 2 * NER_TAG_STRIDE)

static inline guint32
row_bucket (const char *row)
{
  guint32 b;
  memcpy (&b, row, 4);
  return GUINT32_FROM_LE (b);
}

static inline gint16
row_weight (const char *row, int tag)
{
  gint16 v;
  memcpy (&v, row + 4 + 2 * tag, 2);
  return GINT16_FROM_LE (v);
}

/* Reads the model file @path into *@data; *@rows_at is its first row,
 * *@rows their number and *@scale the factor the weights were stored
 * with. The header, the length and every row's bucket are checked. */
static gboolean
read_model_file (const char *path, char **data, const char **rows_at, guint32 *rows, float *scale, GError **error)
{
  gsize len;
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents (path, data, &len, &local))
    {
      g_set_error (error, G_FILE_ERROR, local->code, "%s: %s", path, local->message);
      return FALSE;
    }
  guint32 hdr[5];
  if (len < 10 + sizeof hdr || memcmp (*data, MODEL_MAGIC, 10) != 0)
    goto corrupt;
  memcpy (hdr, *data + 10, sizeof hdr);
  if (GUINT32_FROM_LE (hdr[0]) != MODEL_VERSION || GUINT32_FROM_LE (hdr[1]) != NER_HASH_BITS
      || GUINT32_FROM_LE (hdr[2]) != NER_TAG_STRIDE)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s: model of another version or geometry (retrain it)", path);
      return FALSE;
    }
  memcpy (scale, &hdr[3], 4);
  *rows = GUINT32_FROM_LE (hdr[4]);
  *rows_at = *data + 10 + sizeof hdr;
  if (!(*scale > 0) || (len - 10 - sizeof hdr) != (gsize) *rows * MODEL_ROW)
    goto corrupt;
  for (guint32 r = 0; r < *rows; r++)
    if (row_bucket (*rows_at + (gsize) r * MODEL_ROW) >= NER_N_BUCKETS)
      goto corrupt;
  return TRUE;
corrupt:
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: corrupt or truncated model file", path);
  return FALSE;
}

static gboolean
load_weights (NerModel *model, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  const char *rows_at;
  guint32 rows;
  float scale;
  if (!read_model_file (path, &data, &rows_at, &rows, &scale, error))
    return FALSE;
  /* first which buckets have a row, then the rows in bucket order (a
   * bucket given twice keeps its last row, as a dense table would) */
  model->wblocks = g_new0 (NerWeightBlock, NER_N_BUCKETS / 64);
  for (guint32 r = 0; r < rows; r++)
    {
      guint32 b = row_bucket (rows_at + (gsize) r * MODEL_ROW);
      model->wblocks[b >> 6].bits |= 1ULL << (b & 63);
    }
  guint32 total = 0;
  for (guint32 k = 0; k < NER_N_BUCKETS / 64; k++)
    {
      model->wblocks[k].rank = total;
      total += ner_popcount64 (model->wblocks[k].bits);
    }
  model->wrows = g_new0 (gint16, (gsize) MAX (total, 1) * NER_TAG_STRIDE);
  for (guint32 r = 0; r < rows; r++)
    {
      const char *row = rows_at + (gsize) r * MODEL_ROW;
      gint16 *dst = (gint16 *) ner_weight_row (model, row_bucket (row));
      for (int c = 0; c < NER_TAG_STRIDE; c++)
        dst[c] = row_weight (row, c);
    }
  return TRUE;
}

gboolean
ner_model_add_weights (const char *path, float *w, GError **error)
{
  g_autofree char *data = NULL;
  const char *rows_at;
  guint32 rows;
  float scale;
  if (!read_model_file (path, &data, &rows_at, &rows, &scale, error))
    return FALSE;
  for (guint32 r = 0; r < rows; r++)
    {
      const char *row = rows_at + (gsize) r * MODEL_ROW;
      float *dst = w + (gsize) row_bucket (row) * NER_TAG_STRIDE;
      for (int c = 0; c < NER_TAG_STRIDE; c++)
        dst[c] += row_weight (row, c) / scale;
    }
  return TRUE;
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
  ner_table_init (&model->gaz, 14);
  ner_table_init (&model->aliases, 10);
  ner_table_init (&model->vocab, 14);
  ner_table_init (&model->wn, 19);   /* WordNet and GeoNames: about 145,000 names, no growth */
  ner_table_init (&model->gaz_more, 10);
  ner_table_init (&model->wn_more, 12);
  ner_table_init (&model->countries, 9);

  g_autofree char *gazdir = g_build_filename (dir, "gazetteer", NULL);
  g_autofree char *aliases = g_build_filename (dir, "aliases.tsv", NULL);
  g_autofree char *vocab = g_build_filename (dir, "lowercase.txt", NULL);
  g_autofree char *dict = g_build_filename (dir, "dictionary.txt", NULL);
  g_autofree char *wordnet = g_build_filename (dir, "wordnet.tsv", NULL);
  g_autofree char *geonames = g_build_filename (dir, "geonames.tsv", NULL);
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
      model->loading_countries = strcmp (names->pdata[i], "countries.tsv") == 0;
      gboolean ok = load_lines (model, s, path, gazetteer_line, error);
      model->loading_countries = FALSE;
      if (!ok)
        goto fail;
    }
  if (!load_lines (model, s, aliases, alias_line, error))
    goto fail;
  if (extra_aliases != NULL && *extra_aliases != '\0' && !load_lines (model, s, extra_aliases, alias_line, error))
    goto fail;
  if (!load_lines (model, s, vocab, vocab_line, error))
    goto fail;
  if (!load_dict (model, dict, error))
    goto fail;
  if (!load_lines (model, s, wordnet, wordnet_line, error))
    goto fail;
  if (!load_lines (model, s, geonames, wordnet_line, error))
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
  ner_table_clear (&model->gaz);
  ner_table_clear (&model->aliases);
  ner_table_clear (&model->vocab);
  ner_table_clear (&model->wn);
  ner_table_clear (&model->gaz_more);
  ner_table_clear (&model->wn_more);
  ner_table_clear (&model->countries);
  g_free (model->dict);
  if (model->strings)
    g_string_free (model->strings, TRUE);
  g_free (model->wblocks);
  g_free (model->wrows);
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
  g_free (s->isc);
  g_free (s->rows);
  g_free (s->nrows);
  g_free (s->keys);
  g_free (s->shape);
  g_free (s->cls);
  g_free (s->wcache);
  g_free (s->pcache);
  g_free (s->ccache);
  g_free (s->ncache);
  g_free (s->lcache);
  g_free (s->lex);
  ner_table_clear (&s->seen);
  ner_table_clear (&s->index);
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

