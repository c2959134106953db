/* galley-stdin.c: source that reads standard input, as one article or as
 * JSON Lines.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>

#include <galley/galley-input.h>

#include <gio/gunixinputstream.h>
#include <unistd.h>

static const GalleyOptionSpec stdin_options[] = {
  { "format", GALLEY_OPT_ENUM, "text", "text: all of stdin is one article; jsonl: one JSON object per line", "text|jsonl" },
  { "id", GALLEY_OPT_STRING, "stdin", "Document id in text format", NULL },
  { "max-size", GALLEY_OPT_SIZE, "256MiB", "Largest article (text) or line (jsonl) accepted", NULL },
  GALLEY_RECORD_MAPPING_OPTIONS,
  { NULL }
};

typedef struct {
  gboolean          jsonl;
  char             *id;
  guint64           max_size;
  GalleyContentType content_type;
  GalleyRecordMapping *mapping;
  GalleyRecordReader  *reader;   /* jsonl format */
  gboolean          done;     /* text format */
} Stdin;

static void
stdin_free (gpointer data)
{
  Stdin *self = data;
  if (self == NULL)
    return;
  g_free (self->id);
  g_clear_pointer (&self->mapping, galley_record_mapping_free);
  g_clear_pointer (&self->reader, galley_record_reader_free);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Stdin, stdin_free)

static gpointer
stdin_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Stdin) self = g_new0 (Stdin, 1);
  self->jsonl = g_str_equal (galley_options_get_enum (opts, "format"), "jsonl");
  self->id = g_strdup (galley_options_get_string (opts, "id"));
  self->max_size = galley_options_get_size (opts, "max-size");
  if (self->jsonl && self->max_size > G_MAXINT - 1)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "max-size: at most 2GiB - 2 bytes for format=jsonl, got %" G_GUINT64_FORMAT, self->max_size);
      return NULL;
    }
  self->mapping = galley_record_mapping_new (opts, error);
  if (self->mapping == NULL)
    return NULL;
  self->content_type = galley_record_mapping_get_content_type (self->mapping);
  if (*self->id == '\0')
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "id: empty");
      return NULL;
    }
  return g_steal_pointer (&self);
}

static gboolean
stdin_next (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error)
{
  Stdin *self = state;
  *out = NULL;
  if (!self->jsonl)
    {
      if (self->done)
        return FALSE;
      self->done = TRUE;
      g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
      g_autoptr(GError) local = NULL;
      g_autoptr(GBytes) bytes = galley_input_read_stream (in, self->max_size,
                                                          galley_stage_context_get_cancellable (ctx), &local);
      if (bytes == NULL && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return FALSE;   /* stopped before the end: a part is no article */
      if (bytes == NULL)
        {
          galley_stage_reject (ctx, "stdin", 0, NULL, 0, local);
          return FALSE;
        }
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      const char *bom = NULL;
      if (galley_input_sniff (data, len, NULL, &bom) == GALLEY_INPUT_KIND_BINARY)
        {
          galley_stage_skip (ctx, "stdin", "binary-file");
          return FALSE;
        }
      GalleyDocument *doc = galley_document_new (self->id, "stdin");
      galley_document_set_raw (doc, bytes);
      galley_input_set_content_type (doc, self->content_type, NULL);
      *out = doc;
      return TRUE;
    }
  if (self->reader == NULL)
    {
      self->reader = galley_record_reader_new ("-", self->max_size);
      galley_record_reader_set_limit_name (self->reader, "max-size");
    }
  return galley_record_reader_next (self->reader, self->mapping, ctx, out, error);
}

static const GalleyStageInfo stdin_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "stdin", "Read one article, or JSON Lines, from standard input", "1.0.0",
  GALLEY_KIND_SOURCE, GALLEY_STAGE_FLAGS_NONE,
  stdin_options, stdin_init, NULL, stdin_next, NULL, stdin_free,
};
GALLEY_STAGE_DEFINE (stdin_info)
