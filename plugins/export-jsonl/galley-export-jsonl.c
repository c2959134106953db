/* galley-export-jsonl.c: sink that writes one output record per line.
 *
 * The file appears atomically: records go to a temporary file in the same
 * directory, which is flushed, fsynced and renamed over the target when the
 * run finishes. Readers never see a half-written file. A symbolic link is
 * followed (the file it points to is replaced, the link stays); a FIFO or
 * character device is written through, except where the run commits its
 * outputs exactly once (a state directory, a sharded run): see
 * galley-output.h and docs/export.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>

#include <galley/galley-output.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_AT (1 << 20)

static const GalleyOptionSpec export_jsonl_options[] = {
  { "path", GALLEY_OPT_STRING, NULL, "Output file; strftime patterns (%Y-%m-%d) and {run} (the run's number, after the highest existing file's) expand at start; - writes standard output", NULL },
  { "mkdir", GALLEY_OPT_BOOL, "true", "Create missing parent directories", NULL },
  { "fsync", GALLEY_OPT_BOOL, "true", "fsync the file and its directory before reporting success", NULL },
  { NULL }
};

typedef struct {
  char     *path;        /* expanded target, NULL for stdout */
  GalleyOutputFile *out; /* while writing to a file */
  int       fd;
  gboolean  do_fsync;
  gboolean  do_mkdir;
  GString  *buf;
  gint64    docs;
  gint64    bytes;
  gboolean  per_run;     /* path has {run}: no file for a run without documents */
} ExportJsonl;

static void
export_jsonl_free (gpointer data)
{
  ExportJsonl *self = data;
  if (self == NULL)
    return;
  /* not finished: the target keeps its previous content */
  g_clear_pointer (&self->out, galley_output_file_free);
  g_free (self->path);
  if (self->buf)
    g_string_free (self->buf, TRUE);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExportJsonl, export_jsonl_free)

static gpointer
export_jsonl_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(ExportJsonl) self = g_new0 (ExportJsonl, 1);
  self->fd = -1;
  self->do_fsync = galley_options_get_bool (opts, "fsync");
  self->do_mkdir = galley_options_get_bool (opts, "mkdir");
  self->buf = g_string_sized_new (FLUSH_AT + 64 * 1024);
  const char *path = galley_options_get_string (opts, "path");
  if (*path == '\0')
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "path: empty; give a file name or - for standard output");
      return NULL;
    }
  if (g_str_equal (path, "-"))
    {
      self->fd = STDOUT_FILENO;
      return g_steal_pointer (&self);
    }
  self->per_run = strstr (path, "{run}") != NULL;
  self->path = galley_output_expand_path (path, galley_stage_context_get_run_id (ctx), error);
  if (self->path == NULL
      || !galley_output_check_target (ctx, self->path, self->do_mkdir ? GALLEY_OUTPUT_MKDIR : GALLEY_OUTPUT_FLAGS_NONE,
                                      GALLEY_OUTPUT_STREAMS_UNLESS_COMMITTED, NULL, error))
    return NULL;
  /* files numbered by run are one state directory's */
  if (self->per_run)
    {
      g_autofree char *family = galley_output_expand_family (path, error);
      if (family == NULL || !galley_stage_claim_file (ctx, family, error))
        return NULL;
    }
  return g_steal_pointer (&self);
}

/* A temporary file beside the target, or the stream itself. */
static gboolean
open_output (ExportJsonl *self, GError **error)
{
  self->out = galley_output_file_open (self->path, self->do_mkdir ? GALLEY_OUTPUT_MKDIR : GALLEY_OUTPUT_FLAGS_NONE,
                                       error);
  if (self->out == NULL)
    return FALSE;
  self->fd = galley_output_file_get_fd (self->out);
  return TRUE;
}

static gboolean
flush_buffer (ExportJsonl *self, GError **error)
{
  const char *p = self->buf->str;
  gsize left = self->buf->len;
  while (left > 0)
    {
      ssize_t n = write (self->fd, p, left);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          const char *where = self->out == NULL ? "standard output"
                              : galley_output_file_get_tmp_path (self->out) ? galley_output_file_get_tmp_path (self->out)
                              : galley_output_file_get_target (self->out);
          return galley_output_set_io_error (error, errno, "cannot write", where);
        }
      p += n;
      left -= n;
    }
  self->bytes += self->buf->len;
  g_string_truncate (self->buf, 0);
  return TRUE;
}

static GalleyVerdict
export_jsonl_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  ExportJsonl *self = state;
  if (self->fd < 0 && !open_output (self, error))
    return GALLEY_VERDICT_ERROR;
  galley_document_write_json (doc, self->buf);
  g_string_append_c (self->buf, '\n');
  self->docs++;
  if (self->buf->len >= FLUSH_AT && !flush_buffer (self, error))
    return GALLEY_VERDICT_ERROR;
  return GALLEY_VERDICT_KEEP;
}

static gboolean
export_jsonl_finish (gpointer state, GalleyStageContext *ctx, GError **error)
{
  ExportJsonl *self = state;
  if (self->path == NULL)
    {
      gboolean ok = flush_buffer (self, error);
      galley_stage_count (ctx, "bytes-written", self->bytes);
      return ok;
    }
  if (self->docs == 0 && self->per_run && self->fd < 0)
    return TRUE;   /* nothing new: no empty file per run */
  if (self->fd < 0 && !open_output (self, error))
    return FALSE;
  if (!flush_buffer (self, error))
    return FALSE;
  self->fd = -1;
  if (!galley_output_file_close (self->out, self->do_fsync, error))
    return FALSE;
  /* in place now, or with a state directory once the run has committed;
   * a stream has nothing to rename */
  const char *tmp = galley_output_file_get_tmp_path (self->out);
  if (tmp != NULL)
    {
      if (!galley_stage_commit_file (ctx, tmp, galley_output_file_get_target (self->out), error))
        return FALSE;
      galley_output_file_release_tmp (self->out);
    }
  galley_stage_count (ctx, "bytes-written", self->bytes);
  g_info ("stage '%s': wrote %" G_GINT64_FORMAT " records to %s", galley_stage_context_get_id (ctx),
          self->docs, self->path);
  return TRUE;
}

/* Shard mode: the parts are plain runs of records, concatenated as they are. */
static gboolean
export_jsonl_shard_check (const GalleyOptions *opts, GError **error)
{
  if (g_str_equal (galley_options_get_string (opts, "path"), "-"))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "writes standard output; give it a file");
      return FALSE;
    }
  return TRUE;
}

static gboolean
export_jsonl_merge_syncs (const GalleyOptions *opts)
{
  return galley_options_get_bool (opts, "fsync");
}

static const GalleyShardInfo export_jsonl_shard = {
  .caps = GALLEY_SHARD_MERGES_PARTS,
  .check = export_jsonl_shard_check,
  .merge_syncs = export_jsonl_merge_syncs,
};

static const GalleyStageInfo export_jsonl_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "export-jsonl", "Write output records as JSON Lines, atomically (temp file, fsync, rename)", "1.0.0",
  GALLEY_KIND_SINK, GALLEY_STAGE_FLAGS_NONE,
  export_jsonl_options, export_jsonl_init, export_jsonl_process, NULL, export_jsonl_finish, export_jsonl_free,
  .shard = &export_jsonl_shard,
};
GALLEY_STAGE_DEFINE (export_jsonl_info)
