/* galley-repair.c: decode any input to clean UTF-8 and undo mojibake.
 *
 * Steps, each optional: decode raw bytes (BOM, declared charset, detection),
 * decode HTML character references in plain text, normalise, undo mojibake
 * word by word, restore punctuation lost in the TIS-620 case; the last
 * three repeat while something changes. Every change is recorded in the
 * document's `repairs`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

#include <string.h>

static const GalleyOptionSpec repair_options[] = {
  { "decode", GALLEY_OPT_BOOL, "true", "Decode raw bytes that are not UTF-8 (BOM, declared charset, detection)", NULL },
  { "use-declared", GALLEY_OPT_BOOL, "true", "Use a charset the source declared when the bytes decode cleanly with it", NULL },
  { "detect", GALLEY_OPT_BOOL, "true", "Detect undeclared legacy charsets with libuchardet", NULL },
  { "fallback-charset", GALLEY_OPT_STRING, "windows-1252", "Charset used when nothing else decides", NULL },
  { "mojibake", GALLEY_OPT_BOOL, "true", "Undo UTF-8 decoded with a wrong code page (any number of layers)", NULL },
  { "lossy-thai", GALLEY_OPT_BOOL, "true", "Restore quotes, apostrophes, dashes, ellipses and bullets lost as a lone Thai U+0E42", NULL },
  { "html-entities", GALLEY_OPT_ENUM, "auto", "Decode &amp; &#8220; &eacute;: auto = in plain-text documents only", "auto|yes|no" },
  { "nfc", GALLEY_OPT_BOOL, "true", "Unicode NFC normalisation", NULL },
  { "newlines", GALLEY_OPT_BOOL, "true", "CRLF, CR, U+2028 and U+2029 to \\n", NULL },
  { "controls", GALLEY_OPT_BOOL, "false", "Remove C0 controls other than tab and newline, and C1 controls that are not cp1252 punctuation", NULL },
  { "zero-width", GALLEY_OPT_BOOL, "true", "Remove zero-width spaces and stray BOMs inside the text (joiners are kept)", NULL },
  { "spaces", GALLEY_OPT_ENUM, "keep", "No-break, narrow and other Unicode spaces: keep, or make them ASCII spaces", "keep|ascii" },
  { "quotes", GALLEY_OPT_ENUM, "keep", "Curly quotes: keep, or straighten to ' and \"", "keep|straight" },
  { "ligatures", GALLEY_OPT_BOOL, "true", "Expand ligature characters (U+FB00-FB06: fi, fl, ...)", NULL },
  { "dry-run", GALLEY_OPT_BOOL, "false", "Record what would be repaired in `repairs` but leave the text unchanged", NULL },
  { NULL }
};

typedef struct {
  gboolean          decode;
  DecodeOptions     decode_opts;
  gboolean          mojibake;
  gboolean          lossy_thai;
  int               html_entities;   /* 0 auto, 1 yes, 2 no */
  NormalizeOptions  norm;
  gboolean          dry_run;
  RepairPages      *pages;
  MojibakeTables   *tables;
} Repair;

void
repair_log_init (RepairLog *log)
{
  log->counts = NULL;
}

void
repair_log_add (RepairLog *log, const char *kind, gint64 n)
{
  if (n <= 0)
    return;
  if (log->counts == NULL)
    log->counts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  const char *key = g_intern_string (kind);
  gint64 *count = g_hash_table_lookup (log->counts, key);
  if (count == NULL)
    {
      count = g_new0 (gint64, 1);
      g_hash_table_insert (log->counts, (gpointer) key, count);
    }
  *count += n;
}

void
repair_log_clear (RepairLog *log)
{
  g_clear_pointer (&log->counts, g_hash_table_unref);
}

static void
repair_free (gpointer data)
{
  Repair *self = data;
  if (self == NULL)
    return;
  g_free (self->decode_opts.fallback);
  mojibake_tables_free (self->tables);
  repair_pages_free (self->pages);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Repair, repair_free)

static gpointer
repair_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Repair) self = g_new0 (Repair, 1);
  self->decode = galley_options_get_bool (opts, "decode");
  self->decode_opts.use_declared = galley_options_get_bool (opts, "use-declared");
  self->decode_opts.detect = galley_options_get_bool (opts, "detect");
  self->decode_opts.fallback = g_strdup (galley_options_get_string (opts, "fallback-charset"));
  self->mojibake = galley_options_get_bool (opts, "mojibake");
  self->lossy_thai = galley_options_get_bool (opts, "lossy-thai");
  const char *he = galley_options_get_enum (opts, "html-entities");
  self->html_entities = g_str_equal (he, "yes") ? 1 : g_str_equal (he, "no") ? 2 : 0;
  self->norm.nfc = galley_options_get_bool (opts, "nfc");
  self->norm.newlines = galley_options_get_bool (opts, "newlines");
  self->norm.controls = galley_options_get_bool (opts, "controls");
  self->norm.zero_width = galley_options_get_bool (opts, "zero-width");
  self->norm.spaces = g_str_equal (galley_options_get_enum (opts, "spaces"), "ascii") ? 1 : 0;
  self->norm.straight_quotes = g_str_equal (galley_options_get_enum (opts, "quotes"), "straight");
  self->norm.ligatures = galley_options_get_bool (opts, "ligatures");
  self->dry_run = galley_options_get_bool (opts, "dry-run");

  GIConv cd = g_iconv_open ("UTF-8", self->decode_opts.fallback);
  if (cd == (GIConv) -1)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "fallback-charset: '%s' is not a charset iconv knows (try windows-1252 or iso-8859-1)",
                   self->decode_opts.fallback);
      return NULL;
    }
  g_iconv_close (cd);
  self->pages = repair_pages_new ();
  self->tables = mojibake_tables_new (self->pages);
  return g_steal_pointer (&self);
}

/* The text being repaired: the document's own (borrowed) until a step
 * changes it, then a string of ours. Clean documents are never copied. */
typedef struct {
  const char *text;
  gsize       len;
  char       *owned;   /* == text once a step changed it */
} Work;

/* Moves on to @next when a step changed something (NULL: unchanged). */
static void
step (Work *w, char *next)
{
  if (next == NULL)
    return;
  g_free (w->owned);
  w->owned = next;
  w->text = next;
  w->len = strlen (next);
}

static GalleyVerdict
repair_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  Repair *self = state;
  RepairLog log;
  repair_log_init (&log);
  Work w = { NULL, 0, NULL };

  GBytes *raw = galley_document_get_raw (doc);
  if (self->decode && raw != NULL && !galley_document_has_text (doc))
    {
      gsize raw_len = 0;
      const guint8 *data = g_bytes_get_data (raw, &raw_len);
      gboolean bom = raw_len >= 2 && ((data[0] == 0xFF && data[1] == 0xFE) || (data[0] == 0xFE && data[1] == 0xFF)
                                      || (raw_len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF));
      if (bom || !galley_utf8_validate ((const char *) data, raw_len, NULL))
        {
          const char *charset = NULL;
          w.owned = repair_decode (data, raw_len, galley_document_get_declared_encoding (doc),
                                   galley_document_get_content_type (doc) == GALLEY_CONTENT_HTML,
                                   &self->decode_opts, &charset, &w.len, &log);
          w.text = w.owned;
          if (!self->dry_run)
            galley_document_set_encoding (doc, charset);
        }
      else if (!self->dry_run)
        galley_document_set_encoding (doc, "utf-8");
    }
  if (w.text == NULL)
    w.text = galley_document_get_text (doc, &w.len);

  /* Order matters for idempotence: references can spell mojibake
   * (&Atilde;&copy;), NFC can compose a mojibake lead, undoing mojibake
   * can leave the lone U+0E42 that the lossy step restores. */
  gboolean plain = galley_document_get_content_type (doc) != GALLEY_CONTENT_HTML;
  gboolean entities = self->html_entities == 1 || (self->html_entities == 0 && plain);
  /* until nothing changes: a repaired character can be one that
   * normalisation removes (a zero-width space), which changes the words
   * the mojibake step judges; removing one can also join a reference
   * (&<U+FEFF>amp;), which the next round decodes */
  for (int round = 0; round < 64; round++)
    {
      if (entities)
        step (&w, repair_html_entities (w.text, w.len, &log));
      char *normalized = repair_normalize (&self->norm, w.text, w.len, &log);
      step (&w, normalized);
      gboolean again = normalized != NULL && entities && memchr (w.text, '&', w.len) != NULL;
      if (self->mojibake)
        {
          char *fixed = mojibake_repair (self->tables, w.text, w.len, &log);
          again |= fixed != NULL;
          step (&w, fixed);
        }
      if (self->lossy_thai)
        {
          char *fixed = thai_lossy_repair (w.text, w.len, &log);
          again |= fixed != NULL;
          step (&w, fixed);
        }
      if (!again)
        break;
    }

  if (log.counts != NULL)
    {
      g_autoptr(GList) kinds = g_hash_table_get_keys (log.counts);
      kinds = g_list_sort (kinds, (GCompareFunc) g_strcmp0);
      for (GList *l = kinds; l != NULL; l = l->next)
        galley_document_add_repair (doc, l->data, *(gint64 *) g_hash_table_lookup (log.counts, l->data));
    }
  if (w.owned != NULL && !self->dry_run)
    {
      galley_document_take_text (doc, g_steal_pointer (&w.owned), w.len);
      galley_stage_count (ctx, "documents-repaired", 1);
    }
  g_free (w.owned);
  repair_log_clear (&log);
  return GALLEY_VERDICT_KEEP;
}

static const GalleyStageInfo repair_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "repair", "Decode any input to clean UTF-8; undo mojibake, including lossy TIS-620 punctuation", "1.0.0",
  GALLEY_KIND_STAGE, GALLEY_STAGE_THREAD_SAFE,
  repair_options, repair_init, repair_process, NULL, NULL, repair_free,
};
GALLEY_STAGE_DEFINE (repair_info)
