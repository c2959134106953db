/* galley-output-path.c: a sink's path option expanded: strftime patterns
 * and {run}, never the name of an earlier run's output.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley.h>

#include <string.h>
#include <time.h>

/* strftime patterns in @pattern expanded with the local time now; {run}
 * is left as it is. */
static char *
expand_time (const char *pattern, GError **error)
{
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

/* The highest number N of a file named as @family (one {run} in its base
 * name) with {run} as digits, in its directory; 0 when there is none or
 * {run} is elsewhere. */
static gint64
highest_existing_run (const char *family)
{
  g_autofree char *dir = g_path_get_dirname (family);
  g_autofree char *base = g_path_get_basename (family);
  const char *at = strstr (base, "{run}");
  if (at == NULL || strstr (dir, "{run}") != NULL || strstr (at + 5, "{run}") != NULL)
    return 0;
  gsize prefix_len = at - base;
  const char *suffix = at + 5;
  gsize suffix_len = strlen (suffix);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  gint64 highest = 0;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      gsize len = strlen (name);
      if (len <= prefix_len + suffix_len || len - prefix_len - suffix_len > 18
          || strncmp (name, base, prefix_len) != 0 || strcmp (name + len - suffix_len, suffix) != 0)
        continue;
      gboolean digits = TRUE;
      for (gsize i = prefix_len; digits && i < len - suffix_len; i++)
        digits = g_ascii_isdigit (name[i]);
      if (digits)
        highest = MAX (highest, g_ascii_strtoll (name + prefix_len, NULL, 10));
    }
  return highest;
}

char *
galley_output_expand_path (const char *pattern, gint64 run_id, GError **error)
{
  g_return_val_if_fail (pattern != NULL, NULL);
  g_autofree char *family = expand_time (pattern, error);
  if (family == NULL || strstr (family, "{run}") == NULL)
    return g_steal_pointer (&family);
  /* never the number of an existing file: after the state directory was
   * reset the ledger counts from 1 again */
  gint64 highest = highest_existing_run (family);
  gint64 n = MAX (run_id, highest + 1);
  g_autofree char *run = g_strdup_printf ("%06" G_GINT64_FORMAT, n);
  g_auto(GStrv) parts = g_strsplit (family, "{run}", -1);
  char *path = g_strjoinv (run, parts);
  if (n != run_id)
    g_info ("path: %s: numbered after the existing file of number %" G_GINT64_FORMAT
            " instead of by run %" G_GINT64_FORMAT, path, highest, run_id);
  else if (highest == 0 && g_file_test (path, G_FILE_TEST_EXISTS))
    {
      /* {run} outside the base name, or more than once: not searched */
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                   "path: %s exists, the output of an earlier run (was the state directory reset?); "
                   "move it away, or put {run} once in the file name so that numbering goes on after it",
                   path);
      g_free (path);
      return NULL;
    }
  return path;
}

char *
galley_output_expand_family (const char *pattern, GError **error)
{
  g_return_val_if_fail (pattern != NULL, NULL);
  return expand_time (pattern, error);
}
