/* export-common.c: target path checks shared by the export sinks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "export-common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
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
export_check_target (const char *path, gboolean do_mkdir, GError **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "path: %s is a directory", path);
      return FALSE;
    }
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *probe = g_strdup (dir);
  while (!g_file_test (probe, G_FILE_TEST_EXISTS))
    {
      char *parent = g_path_get_dirname (probe);
      if (g_str_equal (parent, probe))
        {
          g_free (parent);
          break;
        }
      g_free (probe);
      probe = parent;
    }
  if (!g_str_equal (probe, dir) && !do_mkdir)
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                   "path: directory %s does not exist (set mkdir=true to create it)", dir);
      return FALSE;
    }
  if (!g_file_test (probe, G_FILE_TEST_IS_DIR) || access (probe, W_OK | X_OK) != 0)
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                   "path: cannot create files in %s: %s", probe,
                   g_file_test (probe, G_FILE_TEST_IS_DIR) ? g_strerror (errno) : "not a directory");
      return FALSE;
    }
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
