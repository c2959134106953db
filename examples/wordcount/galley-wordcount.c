/* galley-wordcount.c: an out-of-tree stage plugin that counts words.
 *
 * For each document it stores the number of words as a plugin field
 * (a top-level key of the output record, "wordcount" unless the `field`
 * option says otherwise) and drops documents shorter than `min-words`.
 * It also adds the words and code points of the documents it keeps to two
 * custom counters, "words" and "code-points", shown in the stats file.
 *
 * Built against the installed headers only; see docs/plugin-guide.md.
 * G_LOG_DOMAIN ("galley-wordcount") comes from meson.build.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>

/* Keys the core writes itself; a plugin field with one of these names
 * would be left out of the output record. */
static const char *const core_record_keys[] = {
  "id", "source", "text", "meta", "entities", "annotations", "repairs",
  "encoding", "content_type", NULL
};

/* Rows written by field name leave the later fields zero without
 * -Wmissing-field-initializers warnings. The core refuses a min-words
 * below min (since ABI 1.3), so init() need not check it. */
static const GalleyOptionSpec wordcount_options[] = {
  { .name = "min-words", .type = GALLEY_OPT_INT, .default_value = "0",
    .help = "Drop documents with fewer words than this (reason too-short)", .min = "0" },
  { .name = "field", .type = GALLEY_OPT_STRING, .default_value = "wordcount",
    .help = "Output record key that receives the word count" },
  { NULL }
};

/* Read-only after init(), so process() may run on several threads at once. */
typedef struct {
  gint64  min_words;
  char   *field;
} Wordcount;

static void
wordcount_free (gpointer data)
{
  Wordcount *self = data;
  if (self == NULL)
    return;
  g_free (self->field);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wordcount, wordcount_free)

static gpointer
wordcount_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Wordcount) self = g_new0 (Wordcount, 1);
  self->min_words = galley_options_get_int (opts, "min-words");
  self->field = g_strdup (galley_options_get_string (opts, "field"));
  if (*self->field == '\0')
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "field must not be empty");
      return NULL;
    }
  if (g_strv_contains (core_record_keys, self->field))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "field '%s' is a key the core writes itself; choose another name", self->field);
      return NULL;
    }
  g_debug ("stage '%s': min-words=%" G_GINT64_FORMAT ", field=%s",
           galley_stage_context_get_id (ctx), self->min_words, self->field);
  return g_steal_pointer (&self);
}

static GalleyVerdict
wordcount_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  const Wordcount *self = state;
  gint64 words = galley_document_count_words (doc);
  gint64 code_points = galley_document_get_length (doc);

  g_debug ("document '%s': %" G_GINT64_FORMAT " words, %" G_GINT64_FORMAT " code points",
           galley_document_get_id (doc), words, code_points);
  if (words < self->min_words)
    return galley_stage_drop (ctx, "too-short");

  /* set_field steals the new json_object */
  galley_document_set_field (doc, self->field, json_object_new_int64 (words));
  galley_stage_count (ctx, "words", words);
  galley_stage_count (ctx, "code-points", code_points);
  return GALLEY_VERDICT_KEEP;
}

/* Designated initializers leave next, finish and the reserved slots NULL
 * without tripping -Wmissing-field-initializers. */
static const GalleyStageInfo wordcount_info = {
  .abi_major   = GALLEY_STAGE_ABI_MAJOR,
  .abi_minor   = GALLEY_STAGE_ABI_MINOR,
  .name        = "wordcount",            /* the file must be galley-wordcount.so */
  .description = "Count words, store the count in the record, drop short documents",
  .version     = "1.0.0",
  .kind        = GALLEY_KIND_STAGE,
  .flags       = GALLEY_STAGE_THREAD_SAFE,
  .options     = wordcount_options,
  .init        = wordcount_init,
  .process     = wordcount_process,
  .free        = wordcount_free,
};
GALLEY_STAGE_DEFINE (wordcount_info)
