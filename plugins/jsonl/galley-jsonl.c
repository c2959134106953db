/* galley-jsonl.c: source that reads one JSON object per line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>
#include <galley/galley-input.h>

#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sys/stat.h>
#include <unistd.h>

static const GalleyOptionSpec jsonl_options[] = {
  { "path", GALLEY_OPT_STRING, NULL, "JSONL file to read (gzip aware); - reads standard input", NULL },
  GALLEY_RECORD_MAPPING_OPTIONS,
  /* json-c takes int lengths: 2GiB - 2 bytes at most */
  { "max-line", GALLEY_OPT_SIZE, "256MiB", "Longer lines are rejected whole", NULL, .max = "2147483646" },
  { NULL }
};

typedef struct {
  char          *path;
  gboolean       sized;     /* progress: the input size was told */
  guint64        reported;  /* where the input counted as read ends */
  guint64        max_line;
  GalleyRecordMapping *mapping;
  GalleyRecordReader  *reader;     /* created on the first next() */
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
  g_clear_pointer (&self->mapping, galley_record_mapping_free);
  g_clear_pointer (&self->reader, galley_record_reader_free);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Jsonl, jsonl_free)

static gpointer
jsonl_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Jsonl) self = g_new0 (Jsonl, 1);
  self->path = g_strdup (galley_options_get_string (opts, "path"));
  self->max_line = galley_options_get_size (opts, "max-line");
  self->mapping = galley_record_mapping_new (opts, error);
  if (self->mapping == NULL)
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
file_is_gzip (const char *path)
{
  guint8 magic[2];
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return FALSE;
  gboolean gz = pread (fd, magic, 2, 0) == 2 && galley_input_is_gzip (magic, 2);
  close (fd);
  return gz;
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
      galley_record_reader_set_incremental (self->reader, TRUE);
      return TRUE;
    }
  /* A record made before the end of the file (a run stopped by a signal,
   * or after every document so far) has a negative size: -1 - size. */
  gboolean complete = seen.size >= 0;
  gint64 seen_size = complete ? seen.size : -1 - seen.size;
  if (complete && seen_size == self->now.size && seen.mtime == self->now.mtime)
    {
      galley_stage_count (ctx, "unchanged-inputs", 1);
      return FALSE;
    }
  gboolean same_file = seen_size == self->now.size && seen.mtime == self->now.mtime;
  /* the offset counts bytes after gunzipping: compare it with the size
   * only for a plain file */
  if (seen.offset > 0 && (same_file || file_is_gzip (self->path) || self->now.size >= seen.offset))
    {
      /* check that the part read before is still the same */
      guint64 fp = 0;
      if (galley_input_fingerprint (self->path, (guint64) seen.offset, &fp, NULL) && fp == seen.hash)
        {
          galley_record_reader_set_incremental (self->reader, TRUE);
          galley_record_reader_set_start (self->reader, seen.offset, seen.lines);
          galley_stage_count (ctx, "resumed-inputs", 1);
          return TRUE;
        }
    }
  g_warning ("stage '%s': %s changed since the last run (not only appended to); reading it again from the start",
             galley_stage_context_get_id (ctx), self->path);
  galley_stage_count (ctx, "rewritten-inputs", 1);
  galley_record_reader_set_incremental (self->reader, TRUE);
  return TRUE;
}

/* Records how far the file was read; @complete when to its end, else the
 * size is stored as -1 - size so that the next run resumes even when the
 * file did not change. */
static void
jsonl_record (Jsonl *self, GalleyStageContext *ctx, gboolean complete)
{
  GalleyInputState done = self->now;
  guint64 offset, lines, fp;
  if (!complete)
    done.size = -1 - done.size;
  galley_record_reader_get_position (self->reader, &offset, &lines, &fp);
  done.offset = offset;
  done.lines = lines;
  done.hash = fp;
  galley_stage_input_done (ctx, self->path, &done);
}

/* Reads @fd from its start a mebibyte at a time: *@lines gets the number
 * of lines (a last one without a newline counts), or, with @stop >= 0,
 * stops after @stop lines and *@offset gets where the next one starts.
 * (Read, not mapped: a map step over a big file would otherwise hold all
 * of it in its resident memory.) */
static gboolean
scan_lines (int fd, gint64 stop, gint64 *lines, gint64 *offset, GError **error)
{
  g_autofree char *buf = g_malloc (1 << 20);
  gint64 n = 0, pos = 0;
  char last = '\n';
  for (;;)
    {
      ssize_t got = pread (fd, buf, 1 << 20, pos);
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "read failed: %s", g_strerror (e));
          return FALSE;
        }
      if (got == 0)
        break;
      for (const char *p = buf, *end = buf + got; p < end;)
        {
          const char *nl = memchr (p, '\n', end - p);
          if (nl == NULL)
            break;
          n++;
          p = nl + 1;
          if (n == stop)
            {
              *offset = pos + (p - buf);
              *lines = n;
              return TRUE;
            }
        }
      last = buf[got - 1];
      pos += got;
    }
  *lines = n + (last != '\n');
  *offset = pos;
  return TRUE;
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
  int fd = open (self->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "path: cannot open %s: %s",
                   self->path, g_strerror (e));
      return FALSE;
    }
  guint8 magic[2];
  if (pread (fd, magic, 2, 0) == 2 && galley_input_is_gzip (magic, 2))
    {
      close (fd);
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "path: %s is gzip-compressed; shard mode needs the plain file", self->path);
      return FALSE;
    }
  gint64 total = 0, first, end, offset = 0, skipped = 0;
  gboolean ok = scan_lines (fd, -1, &total, &offset, error);
  if (ok)
    {
      galley_stage_shard_range (ctx, total, &first, &end);
      offset = 0;
      ok = first == 0 || scan_lines (fd, first, &skipped, &offset, error);
    }
  close (fd);
  if (!ok)
    {
      g_prefix_error (error, "path: %s: ", self->path);
      return FALSE;
    }
  galley_record_reader_set_start (self->reader, offset, first);
  galley_record_reader_set_end (self->reader, end);
  if (first == end)
    self->finished = TRUE;
  return TRUE;
}

/* Progress: a plain file read whole, or from where an earlier run
 * stopped, has a known size; a gzip file (offsets count gunzipped bytes),
 * standard input and a shard's range have none. */
static void
jsonl_tell_size (Jsonl *self, GalleyStageContext *ctx)
{
  struct stat st;
  if (g_str_equal (self->path, "-") || galley_stage_context_get_shard (ctx, NULL, NULL)
      || stat (self->path, &st) != 0 || !S_ISREG (st.st_mode) || file_is_gzip (self->path))
    return;
  guint64 offset, lines, fp;
  galley_record_reader_get_position (self->reader, &offset, &lines, &fp);
  if ((guint64) st.st_size <= offset)
    return;
  galley_stage_context_set_input_size (ctx, (guint64) st.st_size - offset);
  self->sized = TRUE;
  self->reported = offset;
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
      self->reader = galley_record_reader_new (self->path, self->max_line);
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
      jsonl_tell_size (self, ctx);
    }
  gboolean more = galley_record_reader_next (self->reader, self->mapping, ctx, out, error);
  if (self->sized)
    {
      guint64 offset, lines, fp;
      galley_record_reader_get_position (self->reader, &offset, &lines, &fp);
      if (offset > self->reported)
        galley_stage_context_add_input_read (ctx, offset - self->reported);
      self->reported = MAX (self->reported, offset);
    }
  if (self->incremental && (more || (error == NULL || *error == NULL)))
    jsonl_record (self, ctx, !more && galley_record_reader_is_at_end (self->reader));
  if (!more)
    self->finished = TRUE;
  return more;
}

/* Shard mode: each shard reads its range of the file's lines. */
static const GalleyShardInfo jsonl_shard = { .caps = GALLEY_SHARD_SPLITS_INPUT };

static const GalleyStageInfo jsonl_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "jsonl", "Read articles from a JSON Lines file (one object per line, gzip aware)", "1.0.0",
  GALLEY_KIND_SOURCE, GALLEY_STAGE_FLAGS_NONE,
  jsonl_options, jsonl_init, NULL, jsonl_next, NULL, jsonl_free,
  .shard = &jsonl_shard,
};
GALLEY_STAGE_DEFINE (jsonl_info)
