/* galley-shard.c: the shard protocol.
 *
 * A pipeline runs as retryable steps that share one work directory:
 * `galley run --shard I/N` (map), the barrier steps of a stage such as dedup, `galley PLUGIN filter
 * --shard I/N` and `galley shard merge`. Each step checks DIR/work.json
 * (pipeline hash, N, galley version), holds DIR/markers/STEP.lock while it
 * runs, writes its files atomically and ends with DIR/markers/STEP.done,
 * which lists its outputs with their sizes so the next step notices a
 * missing or truncated file. See docs/scale-out.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define WORK_FORMAT 1

struct _GalleyShardStep {
  char           *work_dir;
  char           *step;
  char           *pipeline_file;
  char           *hash;
  guint           count;
  int             lock_fd;
  GalleyPipeline *pipeline;
  GalleyStageConfig *stage;   /* of the plugin asked for, or NULL */
};

static char *
hash_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

gboolean
galley_shard_write_file (const char *path, const char *data, gsize len, GError **error)
{
  g_autofree char *tmp = g_strdup_printf ("%s.tmp-%d", path, (int) getpid ());
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  gsize done = 0;
  while (fd >= 0 && done < len)
    {
      ssize_t n = write (fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += n;
    }
  int e = errno;
  if (fd < 0 || done < len || fsync (fd) != 0 || close (fd) != 0 || rename (tmp, path) != 0)
    {
      e = errno ? errno : e;
      g_unlink (tmp);
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "cannot write %s: %s", path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

/* Exit codes of the steps: as a run's, except that a damaged or truncated
 * file of the work directory is bad data (65), as in the dedup steps. */
static int
step_exit_code (const GError *error)
{
  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
    return GALLEY_EXIT_DATAERR;
  return galley_error_to_exit_code (error);
}

static int
lock_file (const char *path, const char *what, GError **error)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot open %s: %s", path, g_strerror (e));
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "another instance of step '%s' runs on this work directory (%s is locked); try again later",
                   what, path);
      return -1;
    }
  return fd;
}

/* Reads work.json, or writes it when @count > 0 and it is absent. */
static gboolean
check_work_json (GalleyShardStep *s, guint count, GError **error)
{
  g_autofree char *path = g_build_filename (s->work_dir, "work.json", NULL);
  g_autofree char *lock_path = g_build_filename (s->work_dir, "markers", "work.lock", NULL);
  int lock = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock >= 0)
    flock (lock, LOCK_EX);
  gboolean ok = FALSE;
  g_autofree char *data = NULL;
  g_autoptr(json_object) o = NULL;
  json_object *version, *hash, *shards, *format, *file;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    {
      if (count == 0)
        g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                     "work directory %s is not initialised (no work.json): run the map steps "
                     "(galley run FILE --shard I/N --work DIR) or 'galley shard init' first", s->work_dir);
      else
        {
          o = json_object_new_object ();
          json_object_object_add (o, "format", json_object_new_int (WORK_FORMAT));
          json_object_object_add (o, "galley_version", json_object_new_string (GALLEY_VERSION));
          json_object_object_add (o, "pipeline", json_object_new_string (s->pipeline_file));
          json_object_object_add (o, "pipeline_hash", json_object_new_string (s->hash));
          json_object_object_add (o, "shards", json_object_new_int64 (count));
          const char *text = json_object_to_json_string_ext (o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
          g_autofree char *line = g_strconcat (text, "\n", NULL);
          ok = galley_shard_write_file (path, line, strlen (line), error);
          s->count = count;
        }
      goto out;
    }
  o = json_tokener_parse (data);
  if (o == NULL || !json_object_object_get_ex (o, "galley_version", &version)
      || !json_object_object_get_ex (o, "pipeline_hash", &hash) || !json_object_object_get_ex (o, "shards", &shards)
      || !json_object_object_get_ex (o, "format", &format) || !json_object_object_get_ex (o, "pipeline", &file))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "%s is not a galley work file; use another work directory", path);
      goto out;
    }
  if (json_object_get_int (format) != WORK_FORMAT || !g_str_equal (json_object_get_string (version), GALLEY_VERSION))
    g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                 "work directory %s was made by galley %s, this is galley %s: finish the chain with that "
                 "version or start again in an empty work directory", s->work_dir, json_object_get_string (version),
                 GALLEY_VERSION);
  else if (!g_str_equal (json_object_get_string (hash), s->hash))
    g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                 "work directory %s belongs to another pipeline (%s, or an earlier version of %s): "
                 "use an empty work directory", s->work_dir, json_object_get_string (file), s->pipeline_file);
  else if (count > 0 && json_object_get_int64 (shards) != count)
    g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                 "work directory %s was set up for %" G_GINT64_FORMAT " shards, this step asks for %u: "
                 "N must stay the same across the steps of a chain", s->work_dir, json_object_get_int64 (shards), count);
  else
    {
      s->count = json_object_get_int64 (shards);
      ok = s->count > 0;
      if (!ok)
        g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "%s: bad shard count", path);
    }
out:
  if (lock >= 0)
    close (lock);
  return ok;
}

static gboolean check_shardable (GalleyPipeline *p, GError **error);

/* Loads the pipeline, checks the work directory and takes the step's lock.
 * @count > 0 (map, filter, init): the pipeline is checked for what shard
 * mode cannot do first, so a refused pipeline leaves no work directory. */
static GalleyShardStep *
shard_begin (const char *pipeline_file, const char *work_dir, const char *step, guint count, GError **error)
{
  g_autoptr(GalleyShardStep) s = g_new0 (GalleyShardStep, 1);
  s->lock_fd = -1;
  s->work_dir = g_strdup (work_dir);
  s->step = g_strdup (step);
  s->pipeline_file = g_strdup (pipeline_file);
  s->pipeline = galley_pipeline_load (pipeline_file, NULL, error);
  if (s->pipeline == NULL)
    return NULL;
  if (count > 0 && !check_shardable (s->pipeline, error))
    return NULL;
  s->hash = hash_file (pipeline_file, error);
  if (s->hash == NULL)
    return NULL;
  if (work_dir == NULL)
    return g_steal_pointer (&s);   /* the pipeline only (galley dedup bands) */
  g_autofree char *markers = g_build_filename (work_dir, "markers", NULL);
  if (g_mkdir_with_parents (markers, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot create %s: %s", markers,
                   g_strerror (e));
      return NULL;
    }
  g_autofree char *lock_name = g_strconcat (step, ".lock", NULL);
  g_autofree char *lock_path = g_build_filename (markers, lock_name, NULL);
  s->lock_fd = lock_file (lock_path, step, error);
  if (s->lock_fd < 0 || !check_work_json (s, count, error))
    return NULL;
  /* a re-run replaces its outputs: until it ends, the step is not done */
  g_autofree char *done_name = g_strconcat (step, ".done", NULL);
  g_autofree char *done_path = g_build_filename (markers, done_name, NULL);
  g_unlink (done_path);
  return g_steal_pointer (&s);
}

GalleyShardStep *
galley_shard_step_begin (const char *pipeline_file, const char *work_dir, const char *step, const char *plugin,
                         GError **error)
{
  g_return_val_if_fail (pipeline_file != NULL && step != NULL, NULL);
  g_autoptr(GalleyShardStep) s = shard_begin (pipeline_file, work_dir, step, 0, error);
  if (s == NULL)
    return NULL;
  for (guint i = 0; plugin != NULL && i < s->pipeline->stages->len && s->stage == NULL; i++)
    {
      GalleyStageConfig *sc = g_ptr_array_index (s->pipeline->stages, i);
      if (g_str_equal (sc->plugin->name, plugin))
        s->stage = sc;
    }
  if (plugin != NULL && s->stage == NULL)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "%s has no %s stage",
                   pipeline_file, plugin);
      return NULL;
    }
  return g_steal_pointer (&s);
}

const GalleyOptions *
galley_shard_step_get_options (GalleyShardStep *step)
{
  g_return_val_if_fail (step != NULL, NULL);
  return step->stage ? step->stage->options : NULL;
}

const char *
galley_shard_step_get_stage_id (GalleyShardStep *step)
{
  g_return_val_if_fail (step != NULL, NULL);
  return step->stage ? step->stage->id : NULL;
}

guint
galley_shard_step_get_shards (GalleyShardStep *step)
{
  g_return_val_if_fail (step != NULL, 0);
  return step->count;
}

const char *
galley_shard_step_get_work_dir (GalleyShardStep *step)
{
  g_return_val_if_fail (step != NULL, NULL);
  return step->work_dir;
}

gboolean
galley_shard_step_need (GalleyShardStep *step, const char *name, GError **error)
{
  g_return_val_if_fail (step != NULL && name != NULL, FALSE);
  g_autofree char *file = g_strconcat (name, ".done", NULL);
  g_autofree char *path = g_build_filename (step->work_dir, "markers", file, NULL);
  g_autofree char *data = NULL;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "step '%s' needs step '%s', which has not completed (no %s): run it first", step->step, name, path);
      return FALSE;
    }
  g_autoptr(json_object) o = json_tokener_parse (data);
  json_object *outputs = NULL;
  if (o == NULL || !json_object_object_get_ex (o, "outputs", &outputs) || !json_object_is_type (outputs, json_type_object))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is damaged: run step '%s' again", path, name);
      return FALSE;
    }
  json_object_object_foreach (outputs, rel, size)
    {
      g_autofree char *out = g_build_filename (step->work_dir, rel, NULL);
      GStatBuf st;
      if (g_stat (out, &st) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s, written by step '%s', is missing: run '%s' again",
                       out, name, name);
          return FALSE;
        }
      if ((gint64) st.st_size != json_object_get_int64 (size))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s has %" G_GINT64_FORMAT " bytes, step '%s' wrote %" G_GINT64_FORMAT
                       " (truncated or changed): run '%s' again", out, (gint64) st.st_size, name,
                       json_object_get_int64 (size), name);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
galley_shard_step_done (GalleyShardStep *step, const char *const *outputs, GError **error)
{
  g_return_val_if_fail (step != NULL, FALSE);
  g_autoptr(json_object) o = json_object_new_object ();
  json_object_object_add (o, "step", json_object_new_string (step->step));
  json_object_object_add (o, "galley_version", json_object_new_string (GALLEY_VERSION));
  json_object_object_add (o, "pipeline", json_object_new_string (step->pipeline_file));
  json_object_object_add (o, "pipeline_hash", json_object_new_string (step->hash));
  json_object_object_add (o, "shards", json_object_new_int64 (step->count));
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format_iso8601 (now);
  json_object_object_add (o, "time", json_object_new_string (time));
  json_object *outs = json_object_new_object ();
  for (guint i = 0; outputs != NULL && outputs[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (step->work_dir, outputs[i], NULL);
      GStatBuf st;
      if (g_stat (path, &st) != 0)
        {
          int e = errno;
          json_object_put (outs);
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", path, g_strerror (e));
          return FALSE;
        }
      json_object_object_add (outs, outputs[i], json_object_new_int64 (st.st_size));
    }
  json_object_object_add (o, "outputs", outs);
  const char *text = json_object_to_json_string_ext (o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
  g_autofree char *line = g_strconcat (text, "\n", NULL);
  g_autofree char *file = g_strconcat (step->step, ".done", NULL);
  g_autofree char *path = g_build_filename (step->work_dir, "markers", file, NULL);
  return galley_shard_write_file (path, line, strlen (line), error);
}

void
galley_shard_step_free (GalleyShardStep *step)
{
  if (step == NULL)
    return;
  if (step->lock_fd >= 0)
    close (step->lock_fd);
  g_clear_pointer (&step->pipeline, galley_pipeline_free);
  g_free (step->work_dir);
  g_free (step->step);
  g_free (step->pipeline_file);
  g_free (step->hash);
  g_free (step);
}

/* ---- part files ---------------------------------------------------------------- */

gboolean
galley_shard_commit_part (const char *work_dir, const char *stage_id, guint index, const char *tmp_path,
                          const char *path, GError **error)
{
  g_autofree char *dir = g_build_filename (work_dir, "parts", stage_id, NULL);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot create %s: %s", dir, g_strerror (e));
      return FALSE;
    }
  g_autofree char *target_name = g_strdup_printf ("target-%u", index);
  g_autofree char *target = g_build_filename (dir, target_name, NULL);
  if (!galley_shard_write_file (target, path, strlen (path), error))
    return FALSE;
  g_autofree char *part_name = g_strdup_printf ("part-%u", index);
  g_autofree char *part = g_build_filename (dir, part_name, NULL);
  if (rename (tmp_path, part) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE,
                   "cannot move %s to %s: %s (keep the work directory and the targets on one file system)",
                   tmp_path, part, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

/* ---- internal stages: the stored documents ------------------------------------- */

typedef struct {
  char    *path;
  char    *tmp;
  int      fd;
  GString *buf;
  gint64   docs;
} Store;

static gboolean
store_flush (Store *self, GError **error)
{
  gsize done = 0;
  while (done < self->buf->len)
    {
      ssize_t n = write (self->fd, self->buf->str + done, self->buf->len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", self->tmp, g_strerror (e));
          return FALSE;
        }
      done += n;
    }
  g_string_truncate (self->buf, 0);
  return TRUE;
}

static gpointer
store_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  guint index = 0;
  galley_stage_context_get_shard (ctx, &index, NULL);
  Store *self = g_new0 (Store, 1);
  self->fd = -1;
  self->buf = g_string_sized_new (1 << 20);
  g_autofree char *dir = g_build_filename (galley_stage_context_get_work_dir (ctx), "docs", NULL);
  g_mkdir_with_parents (dir, 0755);
  g_autofree char *name = g_strdup_printf ("shard-%u.docs", index);
  self->path = g_build_filename (dir, name, NULL);
  self->tmp = g_strdup_printf ("%s.tmp-%d", self->path, (int) getpid ());
  self->fd = open (self->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (self->fd < 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot create %s: %s", self->tmp,
                   g_strerror (e));
      g_string_free (self->buf, TRUE);
      g_free (self->path);
      g_free (self->tmp);
      g_free (self);
      return NULL;
    }
  return self;
}

/* A stored document is its text's length in bytes, a line break, the text
 * as it is (valid UTF-8, so nothing is lost), a line break, then the rest
 * of the document as JSON (galley_document_write_json() with an empty
 * text) on one line: the filter step reads the text without parsing it as
 * a JSON string. A document with annotations (their offsets are checked
 * against the text when it is read) is "-", a line break and the whole
 * document as JSON. The store is the map step's last stage, so the
 * document may be emptied. */
static GalleyVerdict
store_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  Store *self = state;
  if (galley_document_get_n_annotations (doc) == 0)
    {
      gsize len;
      const char *text = galley_document_get_text (doc, &len);
      g_string_append_printf (self->buf, "%" G_GSIZE_FORMAT "\n", len);
      g_string_append_len (self->buf, text, len);
      g_string_append_c (self->buf, '\n');
      galley_document_take_text (doc, g_strdup (""), 0);
    }
  else
    g_string_append (self->buf, "-\n");
  galley_document_write_json (doc, self->buf);
  g_string_append_c (self->buf, '\n');
  self->docs++;
  if (self->buf->len >= (1 << 20) && !store_flush (self, error))
    return GALLEY_VERDICT_ERROR;
  return GALLEY_VERDICT_KEEP;
}

static gboolean
store_finish (gpointer state, GalleyStageContext *ctx, GError **error)
{
  Store *self = state;
  if (galley_stage_is_cancelled (ctx))
    return TRUE;
  if (!store_flush (self, error))
    return FALSE;
  if (fsync (self->fd) != 0 || close (self->fd) != 0 || rename (self->tmp, self->path) != 0)
    {
      int e = errno;
      self->fd = -1;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", self->path, g_strerror (e));
      return FALSE;
    }
  self->fd = -1;
  galley_stage_count (ctx, "stored", self->docs);
  return TRUE;
}

static void
store_free (gpointer state)
{
  Store *self = state;
  if (self->fd >= 0)
    {
      close (self->fd);
      g_unlink (self->tmp);
    }
  g_string_free (self->buf, TRUE);
  g_free (self->path);
  g_free (self->tmp);
  g_free (self);
}

static const GalleyStageInfo store_info = {
  .abi_major = GALLEY_STAGE_ABI_MAJOR, .abi_minor = GALLEY_STAGE_ABI_MINOR,
  .name = "shard-store", .description = "Stores a shard's documents in the work directory", .version = GALLEY_VERSION,
  .kind = GALLEY_KIND_SINK, .init = store_init, .process = store_process, .finish = store_finish, .free = store_free,
};

typedef struct {
  char   *path;
  FILE   *in;
  char   *line;
  size_t  cap;
  gint64  n;
} Load;

static gpointer
load_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  guint index = 0;
  galley_stage_context_get_shard (ctx, &index, NULL);
  Load *self = g_new0 (Load, 1);
  g_autofree char *name = g_strdup_printf ("shard-%u.docs", index);
  self->path = g_build_filename (galley_stage_context_get_work_dir (ctx), "docs", name, NULL);
  self->in = fopen (self->path, "re");
  if (self->in == NULL)
    {
      int e = errno;
      g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_NO_INPUT, "%s: %s", self->path, g_strerror (e));
      g_free (self->path);
      g_free (self);
      return NULL;
    }
  return self;
}

static gboolean
load_truncated (Load *self, GError **error)
{
  g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ,
               "%s: document %" G_GINT64_FORMAT ": truncated record: run the map step of this shard again", self->path,
               self->n);
  return FALSE;
}

/* Reads one document in the store's format (see store_process()). */
static gboolean
load_record (Load *self, GalleyDocument **out, GError **error)
{
  *out = NULL;
  ssize_t n = getline (&self->line, &self->cap, self->in);
  if (n < 0)
    return FALSE;
  self->n++;
  if (self->line[n - 1] != '\n')
    return load_truncated (self, error);
  char *text = NULL;
  guint64 text_len = 0;
  if (!(n == 2 && self->line[0] == '-'))
    {
      self->line[n - 1] = '\0';
      if (!g_ascii_string_to_unsigned (self->line, 10, 0, G_MAXSIZE - 1, &text_len, NULL))
        {
          g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ,
                       "%s: document %" G_GINT64_FORMAT ": not a stored document", self->path, self->n);
          return FALSE;
        }
      /* the buffer grows with what is read: a damaged length must not
       * allocate more than the file holds */
      gsize want = text_len + 1, got = 0, cap = MIN (want, (gsize) 1 << 20);
      text = g_malloc (cap);
      while (got < want)
        {
          if (got == cap)
            {
              cap = cap > want / 2 ? want : cap * 2;
              text = g_realloc (text, cap);
            }
          gsize r = fread (text + got, 1, cap - got, self->in);
          if (r == 0)
            break;
          got += r;
        }
      if (got != want || text[text_len] != '\n')
        {
          g_free (text);
          return load_truncated (self, error);
        }
    }
  n = getline (&self->line, &self->cap, self->in);
  if (n <= 0 || self->line[n - 1] != '\n')
    {
      g_free (text);
      return load_truncated (self, error);
    }
  *out = galley_document_read_json (self->line, n - 1, error);
  if (*out == NULL)
    {
      g_free (text);
      g_prefix_error (error, "%s: document %" G_GINT64_FORMAT ": ", self->path, self->n);
      return FALSE;
    }
  if (text != NULL)
    galley_document_take_text (*out, text, text_len);
  return TRUE;
}

static gboolean
load_next (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error)
{
  *out = NULL;
  if (galley_stage_is_cancelled (ctx))
    return FALSE;
  return load_record (state, out, error);
}

static void
load_free (gpointer state)
{
  Load *self = state;
  if (self->in != NULL)
    fclose (self->in);
  free (self->line);
  g_free (self->path);
  g_free (self);
}

static const GalleyStageInfo load_info = {
  .abi_major = GALLEY_STAGE_ABI_MAJOR, .abi_minor = GALLEY_STAGE_ABI_MINOR,
  .name = "shard-load", .description = "Reads a shard's stored documents from the work directory",
  .version = GALLEY_VERSION, .kind = GALLEY_KIND_SOURCE, .init = load_init, .next = load_next, .free = load_free,
};

static const GalleyPlugin store_plugin = { "shard-store", "(core)", &store_info, NULL };
static const GalleyPlugin load_plugin = { "shard-load", "(core)", &load_info, NULL };

static GalleyStageConfig *
internal_stage (const GalleyPlugin *plugin)
{
  GalleyStageConfig *sc = g_new0 (GalleyStageConfig, 1);
  sc->id = g_strdup (plugin->name);
  sc->plugin = plugin;
  sc->options = galley_options_new (NULL);
  galley_options_finalize (sc->options, NULL);
  sc->on_error = GALLEY_ON_ERROR_FAIL;
  return sc;
}

static void
internal_stage_free (GalleyStageConfig *sc)
{
  g_free (sc->id);
  galley_options_free (sc->options);
  g_free (sc);
}

/* ---- steps ------------------------------------------------------------------------ */

gboolean
galley_stage_config_has_barrier (const GalleyStageConfig *sc)
{
  const GalleyShardInfo *shard = galley_stage_info_get_shard (sc->plugin->info);
  return shard != NULL && shard->steps != NULL && shard->steps[0].command != NULL;
}

gint
galley_pipeline_find_barrier (const GalleyPipeline *p)
{
  for (guint i = 0; i < p->stages->len; i++)
    if (galley_stage_config_has_barrier (g_ptr_array_index (p->stages, i)))
      return i;
  return -1;
}

static gboolean
refuse (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
refuse (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "shard mode: %s", msg);
  return FALSE;
}

/* Names the sources that split their input and the sinks that merge
 * parts, for the messages below. */
static char *
capable_plugins (GalleyShardCaps cap)
{
  GString *out = g_string_new (NULL);
  g_auto(GStrv) names = galley_plugin_list_available ();
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      const GalleyPlugin *plugin = galley_plugin_load (names[i], NULL);
      const GalleyShardInfo *shard = plugin ? galley_stage_info_get_shard (plugin->info) : NULL;
      if (shard != NULL && (shard->caps & cap) != 0)
        g_string_append_printf (out, "%s%s", out->len ? ", " : "", plugin->name);
    }
  if (out->len == 0)
    g_string_append (out, "none is installed");
  return g_string_free (out, FALSE);
}

/* What shard mode cannot do, refused before anything is read. */
static gboolean
check_shardable (GalleyPipeline *p, GError **error)
{
  guint sources = 0, barriers = 0;
  for (guint i = 0; i < p->stages->len; i++)
    {
      GalleyStageConfig *sc = g_ptr_array_index (p->stages, i);
      const char *name = sc->plugin->name;
      GalleyStageKind kind = sc->plugin->info->kind;
      const GalleyShardInfo *shard = galley_stage_info_get_shard (sc->plugin->info);
      if (kind == GALLEY_KIND_SOURCE)
        {
          sources++;
          if (shard == NULL || (shard->caps & GALLEY_SHARD_SPLITS_INPUT) == 0)
            {
              g_autofree char *able = capable_plugins (GALLEY_SHARD_SPLITS_INPUT);
              return refuse (error, "source '%s' (plugin %s) cannot read a shard's range; use one that can (%s)",
                             sc->id, name, able);
            }
        }
      else if (kind == GALLEY_KIND_SINK)
        {
          if (shard == NULL || (shard->caps & GALLEY_SHARD_MERGES_PARTS) == 0)
            {
              g_autofree char *able = capable_plugins (GALLEY_SHARD_MERGES_PARTS);
              return refuse (error, "sink '%s' (plugin %s) cannot merge per-shard part files; "
                             "use one that can (%s) and load the merged file afterwards", sc->id, name, able);
            }
        }
      else if (galley_stage_config_has_barrier (sc))
        barriers++;
    }
  for (guint i = 0; i < p->stages->len; i++)
    {
      GalleyStageConfig *sc = g_ptr_array_index (p->stages, i);
      const GalleyShardInfo *shard = galley_stage_info_get_shard (sc->plugin->info);
      g_autoptr(GError) local = NULL;
      if (shard != NULL && shard->check != NULL && !shard->check (sc->options, &local))
        return refuse (error, "%s '%s' (plugin %s): %s", sc->plugin->info->kind == GALLEY_KIND_SINK ? "sink" : "stage",
                       sc->id, sc->plugin->name, local ? local->message : "refused without a message");
    }
  if (sources > 1)
    return refuse (error, "%u sources; shard mode splits one source (put the inputs in one files or jsonl source)",
                   sources);
  if (barriers > 1)
    return refuse (error, "%u stages with barrier steps (such as dedup); shard mode handles one", barriers);
  return TRUE;
}

/* The filter step of shard @index needs the markers of the barrier
 * stage's last step (the earlier ones are what that step needed). */
static gboolean
need_barrier_steps (GalleyShardStep *s, const GalleyStageConfig *sc, guint index, GError **error)
{
  const GalleyShardBarrierStep *steps = galley_stage_info_get_shard (sc->plugin->info)->steps;
  guint last = 0;
  while (steps[last + 1].command != NULL)
    last++;
  const GalleyShardBarrierStep *step = &steps[last];
  switch (step->kind)
    {
    case GALLEY_SHARD_STEP_ONCE:
      return galley_shard_step_need (s, step->command, error);
    case GALLEY_SHARD_STEP_PER_SHARD:
      {
        g_autofree char *name = g_strdup_printf ("%s-%u", step->command, index);
        return galley_shard_step_need (s, name, error);
      }
    case GALLEY_SHARD_STEP_PER_PART:
    default:
      {
        gint64 parts = galley_stage_info_get_shard (sc->plugin->info)->count_parts (sc->options, error);
        for (gint64 k = 0; k < parts; k++)
          {
            g_autofree char *name = g_strdup_printf ("%s-%" G_GINT64_FORMAT, step->command, k);
            if (!galley_shard_step_need (s, name, error))
              return FALSE;
          }
        return parts >= 0;
      }
    }
}

int
galley_shard_run (const char *pipeline_file, const char *step, guint index, guint count, const char *work_dir,
                  GalleyRunOptions *opts, GError **error)
{
  gboolean map = g_str_equal (step, "map");
  g_autofree char *name = g_strdup_printf ("%s-%u", step, index);
  if (count == 0 || index >= count)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "--shard %u/%u: I must be 0..N-1 and N at least 1", index, count);
      return GALLEY_EXIT_USAGE;
    }
  g_autoptr(GalleyShardStep) s = shard_begin (pipeline_file, work_dir, name, count, error);
  if (s == NULL)
    return step_exit_code (*error);
  GalleyPipeline *p = s->pipeline;
  gint barrier = galley_pipeline_find_barrier (p);
  if (!map && barrier < 0)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "%s has no stage with barrier steps (such as dedup): the map steps ran the whole pipeline; "
                   "go on with 'galley shard merge'", pipeline_file);
      return GALLEY_EXIT_CONFIG;
    }
  g_autofree char *map_name = g_strdup_printf ("map-%u", index);
  if (!map && (!need_barrier_steps (s, g_ptr_array_index (p->stages, barrier), index, error)
               || !galley_shard_step_need (s, map_name, error)))
    return step_exit_code (*error);
  g_autoptr(GPtrArray) stage_outputs = g_ptr_array_new_with_free_func (g_free);

  /* the stages this step runs */
  GPtrArray *all = p->stages;
  g_autoptr(GPtrArray) stages = g_ptr_array_new ();
  GalleyStageConfig *extra = NULL;
  if (map)
    {
      guint last = barrier < 0 ? all->len : (guint) barrier + 1;
      for (guint i = 0; i < last; i++)
        g_ptr_array_add (stages, g_ptr_array_index (all, i));
      if (barrier >= 0)
        g_ptr_array_add (stages, extra = internal_stage (&store_plugin));
    }
  else
    {
      g_ptr_array_add (stages, extra = internal_stage (&load_plugin));
      for (guint i = barrier; i < all->len; i++)
        g_ptr_array_add (stages, g_ptr_array_index (all, i));
    }
  p->stages = stages;
  opts->work_dir = work_dir;
  opts->shard_step = step;
  opts->shard_index = index;
  opts->shard_count = count;
  opts->shard_outputs = stage_outputs;
  int code = galley_pipeline_run (p, opts, error);
  opts->shard_outputs = NULL;
  p->stages = all;
  if (extra != NULL)
    internal_stage_free (extra);
  if (code != GALLEY_EXIT_OK)
    return code;

  /* the marker lists what the next steps read */
  g_autoptr(GPtrArray) outputs = g_ptr_array_new_with_free_func (g_free);
  if (map && barrier >= 0)
    g_ptr_array_add (outputs, g_strdup_printf ("docs/shard-%u.docs", index));
  if (!map || barrier < 0)
    for (guint i = 0; i < p->stages->len; i++)
      {
        GalleyStageConfig *sc = g_ptr_array_index (p->stages, i);
        if (sc->plugin->info->kind == GALLEY_KIND_SINK)
          g_ptr_array_add (outputs, g_strdup_printf ("parts/%s/part-%u", sc->id, index));
      }
  /* the files the stages wrote for the later steps */
  for (guint i = 0; i < stage_outputs->len; i++)
    g_ptr_array_add (outputs, g_strdup (g_ptr_array_index (stage_outputs, i)));
  g_ptr_array_add (outputs, NULL);
  if (!galley_shard_step_done (s, (const char *const *) outputs->pdata, error))
    return step_exit_code (*error);
  return GALLEY_EXIT_OK;
}

int
galley_shard_init (const char *pipeline_file, const char *work_dir, guint count, GError **error)
{
  if (count == 0)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "--shards must be at least 1");
      return GALLEY_EXIT_USAGE;
    }
  g_autoptr(GalleyShardStep) s = shard_begin (pipeline_file, work_dir, "init", count, error);
  if (s == NULL)
    return step_exit_code (*error);
  if (!galley_shard_step_done (s, NULL, error))
    return step_exit_code (*error);
  return GALLEY_EXIT_OK;
}

/* Appends @path's bytes from @skip on to @fd: copy_file_range() (the
 * kernel copies, or shares the blocks where the file system can), else
 * read() and write(). */
static gboolean
append_file (int fd, const char *path, gsize skip, GError **error)
{
  int in = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (in < 0 || fstat (in, &st) != 0)
    {
      int e = errno;
      if (in >= 0)
        close (in);
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", path, g_strerror (e));
      return FALSE;
    }
  off_t off = MIN ((off_t) skip, st.st_size);
  gboolean kernel = TRUE;
  g_autofree char *buf = NULL;
  while (off < st.st_size)
    {
      ssize_t n;
      if (kernel)
        {
          n = copy_file_range (in, &off, fd, NULL, st.st_size - off, 0);
          if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
            {
              kernel = FALSE;
              continue;
            }
        }
      else
        {
          if (buf == NULL)
            buf = g_malloc (1 << 20);
          n = pread (in, buf, MIN ((off_t) (1 << 20), st.st_size - off), off);
          for (ssize_t done = 0; n > 0 && done < n;)
            {
              ssize_t w = write (fd, buf + done, n - done);
              if (w < 0 && errno == EINTR)
                continue;
              if (w < 0)
                {
                  n = -1;
                  break;
                }
              done += w;
            }
          if (n > 0)
            off += n;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int e = n < 0 ? errno : EIO;
          close (in);
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", path,
                       n < 0 ? g_strerror (e) : "shorter than it was");
          return FALSE;
        }
    }
  close (in);
  return TRUE;
}

static gboolean
merge_sink (GalleyShardStep *s, GalleyStageConfig *sc, GError **error)
{
  g_autofree char *dir = g_build_filename (s->work_dir, "parts", sc->id, NULL);
  g_autofree char *target = NULL;
  for (guint i = 0; i < s->count; i++)
    {
      g_autofree char *tname = g_strdup_printf ("target-%u", i);
      g_autofree char *tpath = g_build_filename (dir, tname, NULL);
      g_autofree char *t = NULL;
      if (!g_file_get_contents (tpath, &t, NULL, error))
        return FALSE;
      if (target != NULL && !g_str_equal (target, t))
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                       "sink '%s': shard %u wrote for %s, shard 0 for %s", sc->id, i, t, target);
          return FALSE;
        }
      if (target == NULL)
        target = g_steal_pointer (&t);
    }
  const GalleyShardInfo *shard = galley_stage_info_get_shard (sc->plugin->info);
  g_autofree char *tmp = g_strdup_printf ("%s.merge-%d", target, (int) getpid ());
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot create %s: %s", tmp, g_strerror (e));
      return FALSE;
    }
  gboolean ok = TRUE;
  for (guint i = 0; i < s->count && ok; i++)
    {
      g_autofree char *pname = g_strdup_printf ("part-%u", i);
      g_autofree char *ppath = g_build_filename (dir, pname, NULL);
      /* a later part's header (the sink says how long it is) is the
       * first part's again */
      gssize skip = 0;
      if (i > 0 && shard != NULL && shard->part_header != NULL)
        {
          skip = shard->part_header (sc->options, ppath, error);
          if (skip < 0)
            {
              if (error != NULL && *error == NULL)
                g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "sink '%s': %s: cannot read "
                             "its header (plugin %s gave no reason)", sc->id, ppath, sc->plugin->name);
              ok = FALSE;
              break;
            }
        }
      ok = append_file (fd, ppath, skip, error);
    }
  /* synced as a plain run's sink would (its answer, else always) */
  gboolean sync = shard == NULL || shard->merge_syncs == NULL || shard->merge_syncs (sc->options);
  if (ok && ((sync && fsync (fd) != 0) || close (fd) != 0 || rename (tmp, target) != 0))
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", target, g_strerror (e));
      ok = FALSE;
      fd = -1;
    }
  else if (!ok)
    close (fd);
  if (!ok)
    g_unlink (tmp);
  else
    g_info ("sink '%s': merged %u parts into %s", sc->id, s->count, target);
  return ok;
}

int
galley_shard_merge (const char *pipeline_file, const char *work_dir, GError **error)
{
  g_autoptr(GalleyShardStep) s = shard_begin (pipeline_file, work_dir, "merge", 0, error);
  if (s == NULL)
    return step_exit_code (*error);
  const char *before = galley_pipeline_find_barrier (s->pipeline) >= 0 ? "filter" : "map";
  for (guint i = 0; i < s->count; i++)
    {
      g_autofree char *need = g_strdup_printf ("%s-%u", before, i);
      if (!galley_shard_step_need (s, need, error))
        return step_exit_code (*error);
    }
  for (guint i = 0; i < s->pipeline->stages->len; i++)
    {
      GalleyStageConfig *sc = g_ptr_array_index (s->pipeline->stages, i);
      if (sc->plugin->info->kind == GALLEY_KIND_SINK && !merge_sink (s, sc, error))
        return step_exit_code (*error);
    }
  if (!galley_shard_step_done (s, NULL, error))
    return step_exit_code (*error);
  return GALLEY_EXIT_OK;
}
