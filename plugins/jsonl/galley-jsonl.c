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
  RecordReader  *reader;     /* created on the first next() */
} Jsonl;

static void
jsonl_free (gpointer data)
{
  Jsonl *self = data;
  if (self == NULL)
    return;
  g_free (self->path);
  record_mapping_clear (&self->mapping);
  g_clear_pointer (&self->reader, record_reader_free);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Jsonl, jsonl_free)

static gpointer
jsonl_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Jsonl) self = g_new0 (Jsonl, 1);
  self->path = g_strdup (galley_options_get_string (opts, "path"));
  self->max_line = galley_options_get_size (opts, "max-line");
  if (self->max_line > G_MAXINT - 1)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "max-line: at most 2GiB - 2 bytes, got %" G_GUINT64_FORMAT, self->max_line);
      return NULL;
    }
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
  return g_steal_pointer (&self);
}

static gboolean
jsonl_next (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error)
{
  Jsonl *self = state;
  if (self->reader == NULL)
    self->reader = record_reader_new (self->path, self->max_line);
  return record_reader_next (self->reader, &self->mapping, ctx, out, error);
}

static const GalleyStageInfo jsonl_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "jsonl", "Read articles from a JSON Lines file (one object per line, gzip aware)", "1.0.0",
  GALLEY_KIND_SOURCE, GALLEY_STAGE_FLAGS_NONE,
  jsonl_options, jsonl_init, NULL, jsonl_next, NULL, jsonl_free,
};
GALLEY_STAGE_DEFINE (jsonl_info)
