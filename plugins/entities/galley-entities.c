/* galley-entities.c: stage that finds people, organisations, places,
 * dates, amounts of money and percentages, and gives each a canonical
 * form (see docs/entities.md).
 *
 * The model and the data files are loaded once in init() and only read
 * afterwards, so process() runs on several threads; each call borrows a
 * scratch buffer from a small pool.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>

#include "ner.h"

#include <string.h>

#ifndef GALLEY_ENTITIES_DATADIR
# define GALLEY_ENTITIES_DATADIR "/usr/local/share/galley-1/entities"
#endif

static const GalleyOptionSpec entities_options[] = {
  { "data-dir", GALLEY_OPT_STRING, "", "Directory of model.bin, gazetteer/*.tsv, aliases.tsv, lowercase.txt, dictionary.txt, wordnet.tsv, geonames.tsv; empty: $GALLEY_DATA_DIR/entities, else the installed data", NULL },
  { "aliases", GALLEY_OPT_STRING, "", "Extra alias file (variant<TAB>canonical per line), read after the shipped one", NULL },
  { "types", GALLEY_OPT_STRV, "PER;ORG;LOC;DATE;MONEY;PERCENT", "Mention types to report", NULL },
  { "reference-date", GALLEY_OPT_STRING, "today", "Day relative dates are resolved against when meta.date is missing or unreadable: YYYY-MM-DD, today, or none", NULL },
  { "date-from-text", GALLEY_OPT_BOOL, "true", "Without a readable meta.date, take the first full date near the top of the text (a dateline) as the reference", NULL },
  { "roles", GALLEY_OPT_BOOL, "true", "Record a person's title or role (\"President\", \"Kremlin spokesman\") as the mention's role", NULL },
  { "top", GALLEY_OPT_INT, "10", "Write this many most mentioned people, organisations and places to meta.entities_top; 0: none", NULL,
    .min = "0", .max = "1000" },
  { "languages", GALLEY_OPT_STRV, "en", "Only tag documents in these languages (meta.lang, else a guess from the text: English function words, Latin script); 'any': every document. The model is English.", NULL },
  { "max-mentions", GALLEY_OPT_INT, "5000", "Keep at most this many mentions per document (the first ones); the rest are counted as mentions-over-limit", NULL,
    .min = "0" },
  { NULL }
};

typedef struct {
  NerModel  *model;
  guint      types;
  gboolean   roles;
  gboolean   date_from_text;
  int        ref_mode;     /* 0 fixed, 1 today, 2 none */
  GDate      ref;
  gint64     top;
  gint64     max_mentions;
  char     **languages;    /* NULL: any */
  GMutex     lock;
  GPtrArray *pool;         /* NerScratch */
} Entities;

static void
entities_free (gpointer data)
{
  Entities *self = data;
  if (self == NULL)
    return;
  ner_model_free (self->model);
  if (self->pool)
    g_ptr_array_unref (self->pool);
  g_mutex_clear (&self->lock);
  g_strfreev (self->languages);
  g_free (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Entities, entities_free)

static char *
default_data_dir (void)
{
  const char *env = g_getenv ("GALLEY_DATA_DIR");
  if (env != NULL && *env != '\0')
    return g_build_filename (env, "entities", NULL);
#ifdef GALLEY_ENTITIES_SRCDATADIR
  /* an uninstalled build (make run) reads the data from the source tree */
  g_autofree char *installed = g_build_filename (GALLEY_ENTITIES_DATADIR, "model.bin", NULL);
  if (!g_file_test (installed, G_FILE_TEST_EXISTS))
    return g_strdup (GALLEY_ENTITIES_SRCDATADIR);
#endif
  return g_strdup (GALLEY_ENTITIES_DATADIR);
}

static gpointer
entities_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Entities) self = g_new0 (Entities, 1);
  g_mutex_init (&self->lock);
  self->pool = g_ptr_array_new_with_free_func ((GDestroyNotify) ner_scratch_free);

  const char *const *types = galley_options_get_strv (opts, "types");
  for (gsize i = 0; types != NULL && types[i] != NULL; i++)
    {
      int found = -1;
      for (int k = 0; k < NER_N_TYPES; k++)
        if (g_ascii_strcasecmp (types[i], ner_type_names[k]) == 0)
          found = k;
      if (found < 0)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                       "types: unknown type '%s' (PER, ORG, LOC, DATE, MONEY, PERCENT)", types[i]);
          return NULL;
        }
      self->types |= 1u << found;
    }

  const char *ref = galley_options_get_string (opts, "reference-date");
  g_date_clear (&self->ref, 1);
  if (g_strcmp0 (ref, "today") == 0)
    self->ref_mode = 1;
  else if (g_strcmp0 (ref, "none") == 0 || ref == NULL || *ref == '\0')
    self->ref_mode = 2;
  else if (strlen (ref) == 10 && ner_parse_date (ref, &self->ref))
    self->ref_mode = 0;
  else
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "reference-date: expected YYYY-MM-DD, today or none, got '%s'", ref);
      return NULL;
    }
  self->date_from_text = galley_options_get_bool (opts, "date-from-text");
  self->roles = galley_options_get_bool (opts, "roles");
  self->top = galley_options_get_int (opts, "top");
  self->max_mentions = galley_options_get_int (opts, "max-mentions");
  const char *const *langs = galley_options_get_strv (opts, "languages");
  if (langs[0] != NULL && !g_strv_contains (langs, "any"))
    {
      self->languages = g_new0 (char *, g_strv_length ((char **) langs) + 1);
      for (guint i = 0; langs[i] != NULL; i++)
        self->languages[i] = g_ascii_strdown (langs[i], -1);
    }

  const char *dir = galley_options_get_string (opts, "data-dir");
  g_autofree char *data_dir = (dir != NULL && *dir != '\0') ? g_strdup (dir) : default_data_dir ();
  g_autoptr(GError) local = NULL;
  self->model = ner_model_load (data_dir, galley_options_get_string (opts, "aliases"), TRUE, &local);
  if (self->model == NULL)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "entities data: %s", local->message);
      return NULL;
    }
  return g_steal_pointer (&self);
}

static NerScratch *
pool_get (Entities *self)
{
  g_mutex_lock (&self->lock);
  NerScratch *s = self->pool->len > 0 ? g_ptr_array_steal_index_fast (self->pool, self->pool->len - 1) : NULL;
  g_mutex_unlock (&self->lock);
  return s != NULL ? s : ner_scratch_new ();
}

static void
pool_put (Entities *self, NerScratch *s)
{
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->pool, s);
  g_mutex_unlock (&self->lock);
}

typedef struct {
  const char *canonical;
  NerType     type;
  gint64      count;
  guint       first;
} TopEntry;

static int
top_cmp (gconstpointer a, gconstpointer b)
{
  const TopEntry *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return x->first < y->first ? -1 : x->first > y->first;
}

/* Mentions by type, canonical name and position. */
static int
mention_ref_cmp (gconstpointer a, gconstpointer b)
{
  const TopEntry *x = a, *y = b;
  if (x->type != y->type)
    return x->type < y->type ? -1 : 1;
  int c = strcmp (x->canonical, y->canonical);
  if (c != 0)
    return c;
  return x->first < y->first ? -1 : x->first > y->first;
}

static void
write_top (Entities *self, GalleyDocument *doc, GArray *mentions)
{
  json_object *meta = galley_document_get_meta (doc);
  if (self->top == 0)
    return;
  /* the mentions sorted by name, then each name once with its count
   * and its first mention */
  g_autoptr(GArray) refs = g_array_sized_new (FALSE, FALSE, sizeof (TopEntry), mentions->len);
  for (guint i = 0; i < mentions->len; i++)
    {
      const NerMention *m = &g_array_index (mentions, NerMention, i);
      if (m->type > NER_LOC || m->canonical == NULL)
        continue;
      TopEntry e = { m->canonical, m->type, 1, i };
      g_array_append_val (refs, e);
    }
  g_array_sort (refs, mention_ref_cmp);
  g_autoptr(GArray) top = g_array_new (FALSE, FALSE, sizeof (TopEntry));
  for (guint i = 0; i < refs->len; i++)
    {
      const TopEntry *e = &g_array_index (refs, TopEntry, i);
      TopEntry *last = top->len > 0 ? &g_array_index (top, TopEntry, top->len - 1) : NULL;
      if (last != NULL && last->type == e->type && strcmp (last->canonical, e->canonical) == 0)
        last->count++;
      else
        g_array_append_val (top, *e);
    }
  g_array_sort (top, top_cmp);
  json_object *arr = json_object_new_array ();
  for (guint i = 0; i < top->len && i < (guint) self->top; i++)
    {
      const TopEntry *e = &g_array_index (top, TopEntry, i);
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "canonical", json_object_new_string (e->canonical));
      json_object_object_add (o, "type", json_object_new_string (ner_type_names[e->type]));
      json_object_object_add (o, "count", json_object_new_int64 (e->count));
      json_object_array_add (arr, o);
    }
  json_object_object_add (meta, "entities_top", arr);
}

/* English function words (they make up a third or more of running
 * English text and a few percent of other Latin-script languages), in a
 * set of their lower-case letters packed into an integer. */
#define FUNCTION_SLOTS 128
static const char *const function_words[] = {
  "the", "of", "and", "to", "a", "in", "is", "that", "for", "on", "was", "with", "as", "by", "at", "it",
  "he", "she", "said", "from", "his", "her", "be", "are", "have", "has", "an", "not", "but", "they",
  "this", "were", "had", "which", "will", "their", "who", "been", "after", "its", "would", "there",
};

static inline guint
function_slot (guint64 packed)
{
  return (guint) ((packed * 0x9e3779b97f4a7c15ULL) >> 57);   /* 7 bits */
}

static gpointer
build_function_words (gpointer data)
{
  (void) data;
  guint64 *set = g_new0 (guint64, FUNCTION_SLOTS);
  for (gsize k = 0; k < G_N_ELEMENTS (function_words); k++)
    {
      const char *w = function_words[k];
      gsize len = strlen (w);
      if (len > 5)
        continue;   /* the words tested have at most 5 letters */
      guint64 v = 0;
      for (gsize i = 0; i < len; i++)
        v |= (guint64) (guchar) w[i] << (8 * i);
      guint i = function_slot (v);
      while (set[i] != 0)
        i = (i + 1) & (FUNCTION_SLOTS - 1);
      set[i] = v;
    }
  return set;
}

static gboolean
is_function_word (const guint64 *set, guint64 packed)
{
  for (guint i = function_slot (packed); set[i] != 0; i = (i + 1) & (FUNCTION_SLOTS - 1))
    if (set[i] == packed)
      return TRUE;
  return FALSE;
}

/* A cheap guess whether @text is English: mostly Latin letters, and
 * enough of its words are English function words. Too short to tell:
 * yes. */
static gboolean
looks_english (const char *text, gsize len)
{
  static GOnce once = G_ONCE_INIT;
  const guint64 *set = g_once (&once, build_function_words, NULL);
  gint64 words = 0, hits = 0, latin = 0, other = 0;
  const char *p = text, *end = text + MIN (len, (gsize) 20000);
  while (p < end)
    {
      unsigned char c = (unsigned char) *p;
      if (g_ascii_isalpha (c))
        {
          /* the word's first letters in lower case, packed as the set's */
          const char *w = p;
          guint64 v = 0;
          for (; p < end && g_ascii_isalpha (*p); p++)
            if (p - w < 6)
              v |= (guint64) ((guchar) *p | 0x20) << (8 * (p - w));
          gsize n = p - w;
          latin += n;
          words++;
          if (n <= 5)
            hits += is_function_word (set, v);
          continue;
        }
      if (c >= 0x80)
        {
          gunichar u = g_utf8_get_char_validated (p, end - p);
          if (u != (gunichar) -1 && u != (gunichar) -2 && g_unichar_isalpha (u))
            {
              if (u < 0x250)
                latin++;
              else
                other++;
            }
          const char *next = g_utf8_find_next_char (p, end);
          p = next != NULL ? next : end;
          continue;
        }
      p++;
    }
  if (latin + other == 0)
    return TRUE;
  if (other * 5 > latin + other)
    return FALSE;               /* mostly another script */
  if (words < 25)
    return TRUE;
  return hits * 100 >= words * 12;
}

static gboolean
wanted_language (Entities *self, GalleyDocument *doc, const char *text, gsize len)
{
  if (self->languages == NULL)
    return TRUE;
  const char *lang = galley_document_get_meta_string (doc, "lang");
  if (lang == NULL)
    lang = galley_document_get_meta_string (doc, "language");
  if (lang != NULL && strlen (lang) >= 2)
    {
      char code[3] = { g_ascii_tolower (lang[0]), g_ascii_tolower (lang[1]), 0 };
      return g_strv_contains ((const char *const *) self->languages, code);
    }
  return g_strv_contains ((const char *const *) self->languages, "en") && looks_english (text, len);
}

static GalleyVerdict
entities_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  Entities *self = state;
  gsize len;
  const char *text = galley_document_get_text (doc, &len);
  if (!wanted_language (self, doc, text, len))
    {
      /* the model is English: on other languages it finds noise */
      galley_stage_count (ctx, "other-language", 1);
      return GALLEY_VERDICT_KEEP;
    }
  NerOptions o = { 0 };
  o.types = self->types;
  o.roles = self->roles;
  o.date_from_text = self->date_from_text;
  g_date_clear (&o.ref, 1);
  g_date_clear (&o.fallback, 1);
  const char *meta_date = galley_document_get_meta_string (doc, "date");
  if (meta_date == NULL || !ner_parse_date (meta_date, &o.ref))
    {
      if (self->ref_mode == 0)
        o.ref = self->ref;
      else if (self->ref_mode == 1)
        {
          g_date_set_time_t (&o.ref, time (NULL));
          /* a dateline in the text beats the run date, which serves
           * when a relative date needs a day and there is none */
          if (self->date_from_text)
            {
              o.fallback = o.ref;
              g_date_clear (&o.ref, 1);
            }
        }
    }
  NerScratch *s = pool_get (self);
  GArray *mentions = ner_extract (self->model, s, text, len, &o);
  galley_document_clear_annotations (doc, "entities");
  gint64 counts[NER_N_TYPES] = { 0 }, unresolved = 0, over = 0;
  for (guint i = 0; i < mentions->len; i++)
    {
      const NerMention *m = &g_array_index (mentions, NerMention, i);
      if ((gint64) i >= self->max_mentions)
        {
          over++;
          continue;
        }
      GalleyAnnotation *a = galley_document_add_annotation (doc, "entities", ner_type_names[m->type],
                                                            m->start, m->end, m->canonical);
      if (a == NULL)
        continue;
      counts[m->type]++;
      if (m->type == NER_DATE && m->canonical == NULL)
        unresolved++;
      if (m->role != NULL)
        {
          a->attrs = json_object_new_object ();
          json_object_object_add (a->attrs, "role", json_object_new_string (m->role));
        }
    }
  static const char *const counters[NER_N_TYPES] = { "per", "org", "loc", "date", "money", "percent" };
  for (int k = 0; k < NER_N_TYPES; k++)
    if (counts[k] > 0)
      galley_stage_count (ctx, counters[k], counts[k]);
  if (unresolved > 0)
    galley_stage_count (ctx, "dates-unresolved", unresolved);
  if (over > 0)
    galley_stage_count (ctx, "mentions-over-limit", over);
  write_top (self, doc, mentions);
  pool_put (self, s);
  return GALLEY_VERDICT_KEEP;
}

static const GalleyStageInfo entities_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR, "entities",
  "People, organisations, places, dates, money and percentages, with canonical names", "1.0.0",
  GALLEY_KIND_STAGE, GALLEY_STAGE_THREAD_SAFE,
  entities_options, entities_init, entities_process, NULL, NULL, entities_free, NULL,
};

GALLEY_STAGE_DEFINE (entities_info)
