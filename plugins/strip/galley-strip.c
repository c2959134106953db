/* galley-strip.c: the strip stage. Boilerplate out, article and its
 * metadata in, for text converted from web pages and for raw HTML.
 *
 * The stage checks the input (size, empty, binary or undecodable text),
 * picks the extractor by content type (sniffing HTML when the type is
 * unknown), replaces the text with the article body, merges what the
 * extractor found (title, author, date, url, sources, section) into the
 * document's meta and counts what it removed, per kind. The state is
 * read-only after init(), so process() runs on any number of threads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip.h"

#include <gio/gio.h>
#include <string.h>

static const GalleyOptionSpec strip_options[] = {
  { "mode", GALLEY_OPT_ENUM, "auto",
    "Extractor: auto = by the document's content type (HTML sniffed when unknown), text, or html", "auto|text|html" },
  { "aggressiveness", GALLEY_OPT_ENUM, "balanced",
    "recall keeps doubtful lines, balanced also uses position, precision also removes short label-like lines",
    "recall|balanced|precision" },
  { "language", GALLEY_OPT_ENUM, "auto", "Stopword list for the prose signals: auto = guessed per document",
    "auto|en|de|fr|es|it|pt|nl|ru|uk|pl" },
  { "keep-captions", GALLEY_OPT_BOOL, "false", "Keep image captions and photo credits in the body", NULL },
  { "min-length", GALLEY_OPT_INT, "200",
    "Drop documents whose body has fewer characters than this (reason no-article-body)", NULL, .min = "0" },
  { "max-size", GALLEY_OPT_SIZE, "16MiB", "Drop larger documents unread (reason too-large)", NULL, .min = "1" },
  { "meta", GALLEY_OPT_BOOL, "true", "Move title, author, date, url, sources and section into meta", NULL },
  { "meta-overwrite", GALLEY_OPT_BOOL, "false", "Replace meta fields that an earlier stage or the source already set",
    NULL },
  { NULL }
};

typedef enum { MODE_AUTO, MODE_TEXT, MODE_HTML } StripMode;

typedef struct {
  StripMode   mode;
  StripConfig cfg;
  char       *language;
  gint64      min_length;
  guint64     max_size;
  gboolean    meta;
  gboolean    meta_overwrite;
} Strip;

static const char *const kind_names[STRIP_N_KINDS] = {
  [STRIP_KIND_NAVIGATION] = "navigation",
  [STRIP_KIND_TITLE] = "title",
  [STRIP_KIND_DATELINE] = "dateline",
  [STRIP_KIND_BYLINE] = "byline",
  [STRIP_KIND_CAPTION] = "caption",
  [STRIP_KIND_NOTE] = "note",
  [STRIP_KIND_RELATED] = "related",
  [STRIP_KIND_SHARE] = "share",
  [STRIP_KIND_SOURCE] = "source",
  [STRIP_KIND_URL] = "url",
  [STRIP_KIND_MARKUP] = "markup",
  [STRIP_KIND_REPEATED] = "repeated",
  [STRIP_KIND_OTHER] = "other",
};

const char *
strip_kind_name (StripKind kind)
{
  g_return_val_if_fail (kind >= 0 && kind < STRIP_N_KINDS, "other");
  return kind_names[kind];
}

void
strip_result_init (StripResult *res)
{
  memset (res, 0, sizeof *res);
  res->body = g_string_new (NULL);
  res->meta = json_object_new_object ();
}

static void
strip_removed_free (gpointer data)
{
  StripRemoved *r = data;
  g_free (r->text);
  g_free (r);
}

void
strip_result_clear (StripResult *res)
{
  if (res->body != NULL)
    g_string_free (res->body, TRUE);
  res->body = NULL;
  g_clear_pointer (&res->meta, json_object_put);
  g_clear_pointer (&res->removed_units, g_ptr_array_unref);
  memset (res->removed, 0, sizeof res->removed);
}

static void
strip_free (gpointer data)
{
  Strip *self = data;
  if (self == NULL)
    return;
  g_free (self->language);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Strip, strip_free)

static gpointer
strip_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Strip) self = g_new0 (Strip, 1);
  const char *mode = galley_options_get_enum (opts, "mode");
  self->mode = g_str_equal (mode, "text") ? MODE_TEXT : g_str_equal (mode, "html") ? MODE_HTML : MODE_AUTO;
  const char *aggr = galley_options_get_enum (opts, "aggressiveness");
  self->cfg.aggressiveness = g_str_equal (aggr, "recall") ? 0 : g_str_equal (aggr, "precision") ? 2 : 1;
  self->language = g_strdup (galley_options_get_enum (opts, "language"));
  self->cfg.language = self->language;
  self->cfg.keep_captions = galley_options_get_bool (opts, "keep-captions");
  self->min_length = galley_options_get_int (opts, "min-length");
  self->max_size = galley_options_get_size (opts, "max-size");
  self->meta = galley_options_get_bool (opts, "meta");
  self->meta_overwrite = galley_options_get_bool (opts, "meta-overwrite");
  return g_steal_pointer (&self);
}

/* An HTML page, judged by its first kilobyte (for unknown content types). */
static gboolean
looks_like_html (const char *text, gsize len)
{
  gsize n = MIN (len, (gsize) 1024);
  gsize i = 0;
  while (i < n && g_ascii_isspace (text[i]))
    i++;
  if (i >= n || text[i] != '<')
    return FALSE;
  g_autofree char *head = g_ascii_strdown (text + i, n - i);
  return g_str_has_prefix (head, "<!doctype html") || g_str_has_prefix (head, "<html")
         || strstr (head, "<head") != NULL || strstr (head, "<body") != NULL
         || g_str_has_prefix (head, "<?xml") || g_str_has_prefix (head, "<!--");
}

/* Number of U+FFFD in @text. */
static gsize
count_replacements (const char *text, gsize len)
{
  gsize n = 0;
  const char *p = text, *end = text + len;
  while (p + 2 < end && (p = memchr (p, 0xEF, end - p - 2)) != NULL)
    {
      if ((guchar) p[1] == 0xBF && (guchar) p[2] == 0xBD)
        n++;
      p++;
    }
  return n;
}

static void
merge_meta (Strip *self, GalleyDocument *doc, json_object *found)
{
  json_object *meta = galley_document_get_meta (doc);
  json_object_object_foreach (found, key, value)
    {
      if (!self->meta_overwrite && json_object_object_get_ex (meta, key, NULL))
        continue;
      json_object_object_add (meta, key, json_object_get (value));
    }
}

static GalleyVerdict
strip_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  Strip *self = state;
  if (galley_document_get_size (doc) > self->max_size)
    return galley_stage_drop (ctx, "too-large");

  gsize len = 0;
  const char *text = galley_document_get_text (doc, &len);
  if (len > self->max_size)
    return galley_stage_drop (ctx, "too-large");
  gsize i = 0;
  while (i < len && g_ascii_isspace (text[i]))
    i++;
  if (i == len)
    return galley_stage_drop (ctx, "empty-document");
  /* text that is mostly replacement characters is not text */
  gint64 nul = galley_document_get_repair (doc, "nul-byte");
  gint64 invalid = galley_document_get_repair (doc, "invalid-utf8");
  gsize bad = count_replacements (text, len);
  if (bad >= 8 && bad * 3 * 20 > len)
    return galley_stage_drop (ctx, nul * 2 >= invalid && nul > 0 ? "binary-content"
                                   : invalid > 0 ? "invalid-utf8" : "binary-content");

  gboolean html = self->mode == MODE_HTML;
  if (self->mode == MODE_AUTO)
    {
      GalleyContentType type = galley_document_get_content_type (doc);
      html = type == GALLEY_CONTENT_HTML || (type == GALLEY_CONTENT_UNKNOWN && looks_like_html (text, len));
    }

  StripResult res;
  strip_result_init (&res);
  /* the run report and galley explain show each removed line with its kind */
  if (galley_stage_is_tracing (ctx, doc))
    res.removed_units = g_ptr_array_new_with_free_func (strip_removed_free);
  StripTextRepairs rep = { 0 };
  g_autoptr(GError) local = NULL;
  gboolean ok = html ? strip_html (text, len, &self->cfg, &res, &local)
                     : strip_text_ex (text, len, &self->cfg, &res, &rep, &local);
  if (!ok)
    {
      strip_result_clear (&res);
      if (html && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
        {
          /* no HTML extractor in this build: pass the page on untouched */
          galley_stage_count (ctx, "html-not-supported", 1);
          return GALLEY_VERDICT_KEEP;
        }
      if (local == NULL)
        g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_FAILED, "strip failed");
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return GALLEY_VERDICT_ERROR;
    }

  for (guint u = 0; res.removed_units != NULL && u < res.removed_units->len; u++)
    {
      StripRemoved *r = g_ptr_array_index (res.removed_units, u);
      json_object *note = json_object_new_object ();
      json_object_object_add (note, "text", json_object_new_string (r->text));
      json_object_object_add (note, "reason", json_object_new_string (strip_kind_name (r->kind)));
      galley_stage_note (ctx, doc, "removed", note);
    }
  for (int k = 0; k < STRIP_N_KINDS; k++)
    if (res.removed[k] > 0)
      {
        char name[48];
        g_snprintf (name, sizeof name, "removed-%s", strip_kind_name ((StripKind) k));
        galley_stage_count (ctx, name, res.removed[k]);
      }

  if ((gint64) g_utf8_strlen (res.body->str, res.body->len) < self->min_length)
    {
      strip_result_clear (&res);
      return galley_stage_drop (ctx, "no-article-body");
    }

  if (self->meta)
    merge_meta (self, doc, res.meta);
  if (rep.markup_unwrapped > 0)
    galley_document_add_repair (doc, "markup-unwrapped", rep.markup_unwrapped);
  if (rep.paragraphs_rejoined > 0)
    galley_document_add_repair (doc, "paragraph-rejoined", rep.paragraphs_rejoined);
  if (rep.lines_joined > 0)
    galley_document_add_repair (doc, "hard-wrap-joined", rep.lines_joined);
  if (galley_document_get_n_annotations (doc) > 0)
    galley_document_clear_annotations (doc, NULL);
  gsize body_len = res.body->len;
  galley_document_take_text (doc, g_string_free (g_steal_pointer (&res.body), FALSE), body_len);
  galley_stage_count (ctx, html ? "documents-html" : "documents-text", 1);
  strip_result_clear (&res);
  return GALLEY_VERDICT_KEEP;
}

static const GalleyStageInfo strip_info = {
  .abi_major = GALLEY_STAGE_ABI_MAJOR,
  .abi_minor = GALLEY_STAGE_ABI_MINOR,
  .name = "strip",
  .description = "Remove web-page boilerplate from text and HTML; keep the article body, move title, author, "
                 "date, url and sources into meta",
  .version = "1.0.0",
  .kind = GALLEY_KIND_STAGE,
  .flags = GALLEY_STAGE_THREAD_SAFE,
  .options = strip_options,
  .init = strip_init,
  .process = strip_process,
  .free = strip_free,
};
GALLEY_STAGE_DEFINE (strip_info)
