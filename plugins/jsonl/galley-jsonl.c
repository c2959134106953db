/* galley-jsonl.c: source that reads one JSON object per line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>

#include <string.h>

#include "../common/galley-input.h"

#include <sys/stat.h>

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
  gboolean       incremental;
  GalleyInputState now;      /* size and time when the run started reading */
  gboolean       finished;
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

/* With a state directory: read only what was appended since the last
 * committed run. Returns FALSE when there is nothing new. */
static gboolean
jsonl_start (Jsonl *self, GalleyStageContext *ctx)
{
  struct stat st;
  if (stat (self->path, &st) != 0)
    return TRUE;   /* the reader reports it */
  self->now.size = st.st_size;
  self->now.mtime = (gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
  GalleyInputState seen;
  if (!galley_stage_input_lookup (ctx, self->path, &seen))
    {
      record_reader_resume (self->reader, TRUE, 0, 0);
      return TRUE;
    }
  if (seen.size == self->now.size && seen.mtime == self->now.mtime)
    {
      galley_stage_count (ctx, "unchanged-inputs", 1);
      return FALSE;
    }
  if (seen.offset > 0 && self->now.size >= seen.offset)
    {
      /* check that the part read before is still the same */
      g_autoptr(RecordReader) probe = record_reader_new (self->path, self->max_line);
      g_autoptr(GError) local = NULL;
      guint64 fp = record_reader_fingerprint_of (probe, (guint64) seen.offset, &local);
      if (local == NULL && fp == seen.hash)
        {
          record_reader_resume (self->reader, TRUE, seen.offset, seen.lines);
          galley_stage_count (ctx, "resumed-inputs", 1);
          return TRUE;
        }
    }
  g_warning ("stage '%s': %s changed since the last run (not only appended to); reading it again from the start",
             galley_stage_context_get_id (ctx), self->path);
  galley_stage_count (ctx, "rewritten-inputs", 1);
  record_reader_resume (self->reader, TRUE, 0, 0);
  return TRUE;
}

static void
jsonl_record (Jsonl *self, GalleyStageContext *ctx)
{
  GalleyInputState done = self->now;
  guint64 offset, lines, fp;
  record_reader_position (self->reader, &offset, &lines, &fp);
  done.offset = offset;
  done.lines = lines;
  done.hash = fp;
  galley_stage_input_done (ctx, self->path, &done);
}

/* Shard mode: reads only this shard's range of the file's lines. */
static gboolean
jsonl_shard_start (Jsonl *self, GalleyStageContext *ctx, GError **error)
{
  if (g_str_equal (self->path, "-"))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "path: standard input cannot be split into shards; give a file");
      return FALSE;
    }
  g_autoptr(GMappedFile) m = g_mapped_file_new (self->path, FALSE, error);
  if (m == NULL)
    return FALSE;
  const char *data = g_mapped_file_get_contents (m);
  gsize len = g_mapped_file_get_length (m);
  if (len >= 2 && (guchar) data[0] == 0x1f && (guchar) data[1] == 0x8b)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "path: %s is gzip-compressed; shard mode needs the plain file", self->path);
      return FALSE;
    }
  gint64 total = 0;
  for (const char *p = data; p != NULL && p < data + len; total++)
    {
      p = memchr (p, '\n', data + len - p);
      if (p != NULL)
        p++;
    }
  gint64 first, end;
  galley_stage_shard_range (ctx, total, &first, &end);
  gint64 offset = 0;
  for (gint64 line = 0; line < first; line++)
    offset = (const char *) memchr (data + offset, '\n', len - offset) - data + 1;
  record_reader_resume (self->reader, FALSE, offset, first);
  record_reader_set_end (self->reader, end);
  if (first == end)
    self->finished = TRUE;
  return TRUE;
}

static gboolean
jsonl_next (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error)
{
  Jsonl *self = state;
  *out = NULL;
  if (self->finished)
    return FALSE;
  if (self->reader == NULL)
    {
      self->reader = record_reader_new (self->path, self->max_line);
      self->incremental = galley_stage_is_incremental (ctx) && !g_str_equal (self->path, "-");
      if (galley_stage_context_get_shard (ctx, NULL, NULL))
        {
          self->incremental = FALSE;
          if (!jsonl_shard_start (self, ctx, error))
            {
              self->finished = TRUE;
              return FALSE;
            }
          if (self->finished)
            return FALSE;
        }
      if (self->incremental && !jsonl_start (self, ctx))
        {
          self->finished = TRUE;
          return FALSE;
        }
    }
  gboolean more = record_reader_next (self->reader, &self->mapping, ctx, out, error);
  if (self->incremental && (more || (error == NULL || *error == NULL)))
    jsonl_record (self, ctx);
  if (!more)
    self->finished = TRUE;
  return more;
}

static const GalleyStageInfo jsonl_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "jsonl", "Read articles from a JSON Lines file (one object per line, gzip aware)", "1.0.0",
  GALLEY_KIND_SOURCE, GALLEY_STAGE_FLAGS_NONE,
  jsonl_options, jsonl_init, NULL, jsonl_next, NULL, jsonl_free,
};
GALLEY_STAGE_DEFINE (jsonl_info)
