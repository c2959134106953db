/* galley-jsonl.c: source that reads one JSON object per line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>

#include "../common/galley-input.h"

static const GalleyOptionSpec jsonl_options[] = {
  { "path", GALLEY_OPT_STRING, NULL, "JSONL file to read (gzip aware); - reads standard input", NULL },
  RECORD_MAPPING_OPTIONS,
  { "max-line", GALLEY_OPT_SIZE, "256MiB", "Longer lines are rejected whole", NULL },
  { NULL }
};

typedef struct {
  char          *path;
  guint64        max_line;
  RecordMapping  mapping;
  LineReader    *reader;     /* opened on the first next() */
  json_tokener  *tok;
  gboolean       done;
} Jsonl;

static void
jsonl_free (gpointer data)
{
  Jsonl *self = data;
  if (self == NULL)
    return;
  g_free (self->path);
  record_mapping_clear (&self->mapping);
  g_clear_pointer (&self->reader, line_reader_free);
  g_clear_pointer (&self->tok, json_tokener_free);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Jsonl, jsonl_free)

static gpointer
jsonl_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Jsonl) self = g_new0 (Jsonl, 1);
  self->path = g_strdup (galley_options_get_string (opts, "path"));
  self->max_line = galley_options_get_size (opts, "max-line");
  if (!record_mapping_init (&self->mapping, opts, error))
    return NULL;
  if (*self->path == '\0')
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "path: empty");
      return NULL;
    }
  if (!g_str_equal (self->path, "-") && !g_file_test (self->path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_NO_INPUT,
                   "path: %s: No such file or directory", self->path);
      return NULL;
    }
  if (g_file_test (self->path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "path: %s is a directory; use the files source for directories", self->path);
      return NULL;
    }
  self->tok = json_tokener_new ();
  return g_steal_pointer (&self);
}

static gboolean
jsonl_next (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error)
{
  Jsonl *self = state;
  *out = NULL;
  if (self->done)
    return FALSE;
  if (self->reader == NULL)
    {
      g_autoptr(GError) local = NULL;
      self->reader = line_reader_open (self->path, self->max_line, &local);
      if (self->reader == NULL)
        {
          gboolean no_input = local->domain == G_IO_ERROR && (local->code == G_IO_ERROR_NOT_FOUND
                                                              || local->code == G_IO_ERROR_PERMISSION_DENIED);
          g_set_error (error, GALLEY_SOURCE_ERROR, no_input ? GALLEY_SOURCE_ERROR_NO_INPUT : GALLEY_SOURCE_ERROR_READ,
                       "%s: %s", self->path, local->message);
          return FALSE;
        }
    }
  const char *source = g_str_equal (self->path, "-") ? "stdin" : self->path;
  for (;;)
    {
      if (galley_stage_is_cancelled (ctx))
        return FALSE;
      const char *line;
      gsize len;
      gboolean too_long;
      if (!line_reader_next (self->reader, &line, &len, &too_long, error))
        {
          self->done = TRUE;
          if (error && *error)
            {
              g_prefix_error (error, "%s:%" G_GUINT64_FORMAT ": ", source, line_reader_lineno (self->reader) + 1);
              return FALSE;
            }
          return FALSE;
        }
      guint64 lineno = line_reader_lineno (self->reader);
      if (too_long)
        {
          g_autoptr(GError) local = g_error_new (GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                                                 "line longer than max-line (%" G_GUINT64_FORMAT " bytes)",
                                                 self->max_line);
          if (!galley_stage_reject (ctx, source, lineno, NULL, 0, local))
            return FALSE;
          continue;
        }
      gsize i = 0;
      while (i < len && g_ascii_isspace (line[i]))
        i++;
      if (i == len)
        continue;   /* blank lines separate nothing */
      g_autoptr(GError) local = NULL;
      GalleyDocument *doc = record_to_document (&self->mapping, self->tok, line, len, source, lineno, &local);
      if (doc == NULL)
        {
          if (!galley_stage_reject (ctx, source, lineno, line, len, local))
            return FALSE;
          continue;
        }
      *out = doc;
      return TRUE;
    }
}

static const GalleyStageInfo jsonl_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "jsonl", "Read articles from a JSON Lines file (one object per line, gzip aware)", "1.0.0",
  GALLEY_KIND_SOURCE, GALLEY_STAGE_FLAGS_NONE,
  jsonl_options, jsonl_init, NULL, jsonl_next, NULL, jsonl_free,
};
GALLEY_STAGE_DEFINE (jsonl_info)
