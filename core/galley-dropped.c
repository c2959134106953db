/* galley-dropped.c: the dropped file ([pipeline] dropped=): every document
 * a stage dropped, one JSON object per line, in input order.
 *
 * The last segment writes the records as it retires each batch (batches
 * reach it in order), into a temporary file beside the target. The file is
 * committed with the sinks' outputs: renamed when the sinks have finished,
 * or, with a state directory, by the run's commit, so that a run that does
 * not commit leaves no file and a committed run's file appears once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-runner-private.h"

#include <galley/galley-output.h>

#include <string.h>

#define DROPPED_FLUSH_AT (1 << 20)

/* TRUE when this run writes a dropped file: not under --dry-run (no
 * outputs) nor in a step of a sharded run. */
static gboolean
dropped_wanted (Runner *r)
{
  return r->pipeline->dropped_path != NULL && !r->opts->dry_run && r->opts->work_dir == NULL;
}

gboolean
galley_runner_dropped_open (Runner *r, gboolean in_state_dir, GError **error)
{
  if (!dropped_wanted (r))
    return TRUE;
  const char *pattern = r->pipeline->dropped_path;
  g_autofree char *path = galley_output_expand_path (pattern, r->run_id, error);
  if (path == NULL)
    {
      g_prefix_error (error, "dropped: ");
      return FALSE;
    }
  GalleyOutputKind kind;
  GalleyOutputFlags flags = in_state_dir ? GALLEY_OUTPUT_MKDIR : GALLEY_OUTPUT_FLAGS_NONE;
  if (!galley_output_check (path, flags, &kind, NULL, error))
    {
      g_prefix_error (error, "dropped: ");
      return FALSE;
    }
  gboolean committed = r->state != NULL || (r->opts->check_only && r->pipeline->state_dir != NULL);
  if (kind == GALLEY_OUTPUT_KIND_STREAM && committed)
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                   "dropped: %s is not a regular file; with state-dir the file is committed exactly once "
                   "by a rename, which a stream cannot take", path);
      return FALSE;
    }
  if (strstr (pattern, "{run}") != NULL && r->state != NULL)
    {
      g_autofree char *family = galley_output_expand_family (pattern, error);
      if (family == NULL || !galley_state_claim_file (r->state, family, error))
        {
          g_prefix_error (error, "dropped: ");
          return FALSE;
        }
    }
  if (r->opts->check_only)
    return TRUE;
  r->dropped_path = g_steal_pointer (&path);
  r->dropped_flags = flags;
  r->dropped_buf = g_string_sized_new (DROPPED_FLUSH_AT + 64 * 1024);
  return TRUE;
}

static gboolean
dropped_flush (Runner *r, GError **error)
{
  if (r->dropped == NULL)
    {
      r->dropped = galley_output_file_open (r->dropped_path, r->dropped_flags, error);
      if (r->dropped == NULL)
        return FALSE;
    }
  if (!galley_output_file_write (r->dropped, r->dropped_buf->str, r->dropped_buf->len, error))
    return FALSE;
  g_string_truncate (r->dropped_buf, 0);
  return TRUE;
}

void
galley_runner_dropped_write_batch (Runner *r, Batch *b)
{
  if (r->dropped_buf == NULL || r->dropped_error != NULL)
    return;
  guint64 abort_pos = galley_runner_get_abort_pos (r);
  for (guint i = 0; i < b->n; i++)
    {
      /* after a failure, only what came before it, as the sinks commit */
      if (b->status[i] != DOC_DROPPED || b->seq * MAX_BATCH + i >= abort_pos)
        continue;
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, b->dropped_by[i]);
      GString *out = r->dropped_buf;
      const char *id = galley_document_get_id (b->docs[i]);
      g_string_append (out, "{\"pipeline\":");
      galley_json_escape_append (out, r->pipeline->name, strlen (r->pipeline->name));
      g_string_append (out, ",\"stage\":");
      galley_json_escape_append (out, ctx->config->id, strlen (ctx->config->id));
      g_string_append (out, ",\"plugin\":");
      galley_json_escape_append (out, ctx->info->name, strlen (ctx->info->name));
      g_string_append (out, ",\"reason\":");
      galley_json_escape_append (out, b->drop_reason[i], strlen (b->drop_reason[i]));
      g_string_append (out, ",\"id\":");
      galley_json_escape_append (out, id, strlen (id));
      g_string_append (out, ",\"document\":");
      galley_document_write_json (b->docs[i], out);
      g_string_append (out, "}\n");
      r->n_dropped_written++;
    }
  if (r->dropped_buf->len >= DROPPED_FLUSH_AT && !dropped_flush (r, &r->dropped_error))
    g_prefix_error (&r->dropped_error, "dropped: ");
}

gboolean
galley_runner_dropped_commit (Runner *r, GError **error)
{
  if (r->dropped_buf == NULL)
    return TRUE;
  if (r->dropped_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&r->dropped_error));
      return FALSE;
    }
  /* a file per run ({run}) only when something was dropped */
  if (r->n_dropped_written == 0 && r->dropped == NULL && strstr (r->pipeline->dropped_path, "{run}") != NULL)
    return TRUE;
  if (!dropped_flush (r, error) || !galley_output_file_close (r->dropped, TRUE, error))
    {
      g_prefix_error (error, "dropped: ");
      return FALSE;
    }
  const char *tmp = galley_output_file_get_tmp_path (r->dropped);
  if (tmp == NULL)
    return TRUE;   /* a stream: written through */
  if (!galley_state_commit_file (r->state, tmp, galley_output_file_get_target (r->dropped), error))
    {
      g_prefix_error (error, "dropped: ");
      return FALSE;
    }
  galley_output_file_release_tmp (r->dropped);
  return TRUE;
}

void
galley_runner_dropped_clear (Runner *r)
{
  g_clear_pointer (&r->dropped, galley_output_file_free);
  g_clear_pointer (&r->dropped_path, g_free);
  if (r->dropped_buf != NULL)
    g_string_free (g_steal_pointer (&r->dropped_buf), TRUE);
  g_clear_error (&r->dropped_error);
}
