/* export-common.c: target path checks shared by the export sinks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "export-common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *
export_expand_path (const char *pattern, gint64 run_id, GError **error)
{
  g_autofree char *run = g_strdup_printf ("%06" G_GINT64_FORMAT, run_id);
  g_auto(GStrv) parts = g_strsplit (pattern, "{run}", -1);
  g_autofree char *with_run = g_strjoinv (run, parts);
  pattern = with_run;
  if (strchr (pattern, '%') == NULL)
    return g_strdup (pattern);
  time_t now = time (NULL);
  struct tm tm;
  localtime_r (&now, &tm);
  char buf[4096];
  /* the pattern is the user's on purpose */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  size_t n = strftime (buf, sizeof buf, pattern, &tm);
#pragma GCC diagnostic pop
  if (n == 0)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "path: '%s' expands to nothing", pattern);
      return NULL;
    }
  return g_strndup (buf, n);
}

gboolean
export_check_target (GalleyStageContext *ctx, const char *path, gboolean do_mkdir, ExportStreams streams,
                     GalleyOutputKind *kind, GError **error)
{
  GalleyOutputKind k;
  if (!galley_output_check (path, do_mkdir ? GALLEY_OUTPUT_MKDIR : GALLEY_OUTPUT_FLAGS_NONE, &k, NULL, error))
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
      if (streams == EXPORT_STREAMS_NEVER)
        why = "a database must be a regular file";
      else if (streams == EXPORT_STREAMS_NO_APPEND)
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
export_io_error (GError **error, int e, const char *what, const char *path)
{
  gboolean create = g_str_has_prefix (what, "cannot create");
  g_set_error (error, GALLEY_OUTPUT_ERROR, create ? GALLEY_OUTPUT_ERROR_CREATE : GALLEY_OUTPUT_ERROR_WRITE,
               "%s %s: %s", what, path, g_strerror (e));
  return FALSE;
}

gboolean
export_make_parent (const char *path, gboolean do_mkdir, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  if (do_mkdir && g_mkdir_with_parents (dir, 0777) != 0)
    return export_io_error (error, errno, "cannot create directory", dir);
  return TRUE;
}

void
export_fsync_parent (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
}
