/* galley-tsv.c: an out-of-tree sink that writes one tab-separated line per
 * document (id, words, title), under a header line. It shows a sink that
 * runs in shard mode: it declares GALLEY_SHARD_MERGES_PARTS and the length
 * of its header, and galley's merge step concatenates the shards' parts
 * into the same bytes a plain run writes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/* fsync(), O_CLOEXEC: the build is strict C11 */
#define _POSIX_C_SOURCE 200809L

#include <galley/galley.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define TSV_HEADER "id\twords\ttitle\n"

static const GalleyOptionSpec tsv_options[] = {
  { .name = "path", .type = GALLEY_OPT_STRING,
    .help = "Output file, replaced when the run ends (its directory is created)" },
  { .name = "header", .type = GALLEY_OPT_BOOL, .default_value = "true",
    .help = "Start the file with a line naming the columns" },
  { NULL }
};

typedef struct {
  char    *path;
  gboolean header;
  GString *out;     /* the file's bytes, written at the end */
} Tsv;

static void
tsv_free (gpointer data)
{
  Tsv *self = data;
  g_free (self->path);
  if (self->out != NULL)
    g_string_free (self->out, TRUE);
  g_free (self);
}

static gpointer
tsv_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  const char *path = galley_options_get_string (opts, "path");
  if (*path == '\0' || g_str_equal (path, "-"))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "path: give a file name");
      return NULL;
    }
  Tsv *self = g_new0 (Tsv, 1);
  self->path = g_strdup (path);
  self->header = galley_options_get_bool (opts, "header");
  self->out = g_string_new (self->header ? TSV_HEADER : "");
  return self;
}

/* Tabs and line breaks inside a value become spaces. */
static void
append_cell (GString *out, const char *value)
{
  for (const char *p = value; p != NULL && *p != '\0'; p++)
    g_string_append_c (out, *p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p);
}

static GalleyVerdict
tsv_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  Tsv *self = state;
  append_cell (self->out, galley_document_get_id (doc));
  g_string_append_printf (self->out, "\t%" G_GINT64_FORMAT "\t", galley_document_count_words (doc));
  append_cell (self->out, galley_document_get_meta_string (doc, "title"));
  g_string_append_c (self->out, '\n');
  return GALLEY_VERDICT_KEEP;
}

/* Writes a temporary file beside the target (named .NAME.tmp-XXXXXX, as
 * galley expects) and hands it to the core, which puts it in place, or
 * keeps it as this shard's part in shard mode. */
static gboolean
tsv_finish (gpointer state, GalleyStageContext *ctx, GError **error)
{
  Tsv *self = state;
  g_autofree char *dir = g_path_get_dirname (self->path);
  g_autofree char *base = g_path_get_basename (self->path);
  g_autofree char *name = g_strdup_printf (".%s.tmp-XXXXXX", base);
  g_autofree char *tmp = g_build_filename (dir, name, NULL);
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot create %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot create %s: %s", tmp,
                   g_strerror (e));
      return FALSE;
    }
  gboolean ok = write (fd, self->out->str, self->out->len) == (gssize) self->out->len && fsync (fd) == 0;
  int e = errno;
  if (close (fd) != 0 && ok)
    {
      ok = FALSE;
      e = errno;
    }
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "cannot write %s: %s", tmp, g_strerror (e));
      return FALSE;
    }
  return galley_stage_commit_file (ctx, tmp, self->path, error);
}

/* ---- shard mode ---- */

/* Each shard's part starts with the header line; only the first keeps it. */
static gssize
tsv_part_header (const GalleyOptions *opts, const char *part, GError **error)
{
  return galley_options_get_bool (opts, "header") ? (gssize) strlen (TSV_HEADER) : 0;
}

static const GalleyShardInfo tsv_shard = {
  .caps = GALLEY_SHARD_MERGES_PARTS,
  .part_header = tsv_part_header,
};

static const GalleyStageInfo tsv_info = {
  .abi_major = GALLEY_STAGE_ABI_MAJOR,
  .abi_minor = GALLEY_STAGE_ABI_MINOR,
  .name = "tsv",
  .description = "Write id, word count and title of each document as tab-separated lines",
  .version = "1.0.0",
  .kind = GALLEY_KIND_SINK,
  .flags = GALLEY_STAGE_FLAGS_NONE,
  .options = tsv_options,
  .init = tsv_init,
  .process = tsv_process,
  .finish = tsv_finish,
  .free = tsv_free,
  .shard = &tsv_shard,
};
GALLEY_STAGE_DEFINE (tsv_info)
