/* galley-output-target.c: what a sink checks and does around its target
 * file: that it can be written in this run, its directory made and
 * synced, errors named after the path.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
galley_output_check_target (GalleyStageContext *ctx, const char *path, GalleyOutputFlags flags,
                            GalleyOutputStreams streams, GalleyOutputKind *kind, GError **error)
{
  g_return_val_if_fail (ctx != NULL && path != NULL, FALSE);
  gboolean do_mkdir = (flags & GALLEY_OUTPUT_MKDIR) != 0;
  GalleyOutputKind k;
  if (!galley_output_check (path, flags, &k, NULL, error))
    {
      g_prefix_error (error, "path: ");
      if (!do_mkdir && strstr ((*error)->message, "does not exist") != NULL)
        {
          char *m = g_strconcat ((*error)->message, " (set mkdir=true to create it)", NULL);
          g_free ((*error)->message);
          (*error)->message = m;
        }
      return FALSE;
    }
  if (k == GALLEY_OUTPUT_KIND_STREAM)
    {
      struct stat st;
      guint mode = stat (path, &st) == 0 ? st.st_mode : 0;
      const char *why = NULL;
      if (streams == GALLEY_OUTPUT_STREAMS_NEVER)
        why = "a database must be a regular file";
      else if (streams == GALLEY_OUTPUT_STREAMS_NO_APPEND)
        why = "append=true needs a regular file (a run that fails is cut back to the last committed length)";
      else if (galley_stage_is_incremental (ctx))
        why = "with a state directory the output is committed exactly once, by renaming a finished file, "
              "which a stream cannot be";
      else if (galley_stage_context_get_work_dir (ctx) != NULL)
        why = "a sharded run merges its parts into a regular file";
      if (why != NULL)
        {
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                       "path: %s is %s, not a regular file; %s", path, galley_output_describe_mode (mode), why);
          return FALSE;
        }
    }
  if (kind != NULL)
    *kind = k;
  return TRUE;
}

gboolean
galley_output_set_io_error (GError **error, int e, const char *what, const char *path)
{
  g_return_val_if_fail (what != NULL && path != NULL, FALSE);
  gboolean create = g_str_has_prefix (what, "cannot create");
  g_set_error (error, GALLEY_OUTPUT_ERROR, create ? GALLEY_OUTPUT_ERROR_CREATE : GALLEY_OUTPUT_ERROR_WRITE,
               "%s %s: %s", what, path, g_strerror (e));
  return FALSE;
}

gboolean
galley_output_make_parent (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0777) != 0)
    return galley_output_set_io_error (error, errno, "cannot create directory", dir);
  return TRUE;
}

void
galley_output_fsync_parent (const char *path)
{
  g_return_if_fail (path != NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
}
