/* repair-speed.c: throughput of the repair stage on one core.
 *
 * Builds ~3 KB news-like documents from the sample articles (clean UTF-8,
 * and a variant where 5 % of the lines are cp1252 mojibake), runs the
 * stage over SIZE_MB of them in-process and prints MB/s.
 * Usage: repair-speed [SIZE_MB]
 */
#include "galley-private.h"

#include <stdio.h>
#include <string.h>

static char *
cp1252_mojibake (const char *utf8)
{
  GString *out = g_string_new (NULL);
  for (const guchar *p = (const guchar *) utf8; *p; p++)
    {
      char byte = (char) *p;
      g_autofree char *one = *p < 0x80 ? NULL : g_convert (&byte, 1, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
      if (one != NULL && *one)
        g_string_append (out, one);
      else
        g_string_append_unichar (out, *p);
    }
  return g_string_free (out, FALSE);
}

static GPtrArray *
load_lines (const char *dir)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (name, ".txt"))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      if (!g_file_get_contents (path, &contents, NULL, NULL) || !g_utf8_validate (contents, -1, NULL))
        continue;
      g_auto(GStrv) parts = g_strsplit (contents, "\n", -1);
      for (guint i = 0; parts[i]; i++)
        if (strlen (parts[i]) > 40 && strstr (parts[i], "\xC3\x83") == NULL && strstr (parts[i], "\xE0\xB9\x82") == NULL)
          g_ptr_array_add (lines, g_strdup (parts[i]));
    }
  return lines;
}

static double
run (GalleyHarness *h, GPtrArray *docs, gsize *bytes)
{
  gint64 t0 = g_get_monotonic_time ();
  *bytes = 0;
  for (guint i = 0; i < docs->len; i++)
    {
      const char *text = g_ptr_array_index (docs, i);
      g_autoptr(GalleyDocument) doc = galley_document_new ("d", NULL);
      g_autoptr(GBytes) raw = g_bytes_new_static (text, strlen (text));
      galley_document_set_raw (doc, raw);
      galley_document_set_content_type (doc, GALLEY_CONTENT_TEXT);
      galley_harness_process (h, doc, NULL);
      *bytes += strlen (text);
    }
  return (g_get_monotonic_time () - t0) / 1e6;
}

int
main (int argc, char **argv)
{
  guint size_mb = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 200;
  g_setenv ("GALLEY_PLUGIN_SYSTEM_PATH", "", TRUE);
  galley_plugin_add_search_dir (GALLEY_BUILD_PLUGINDIR);
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = galley_harness_new ("repair", NULL, &error);
  if (h == NULL)
    {
      fprintf (stderr, "repair-speed: %s\n", error->message);
      return 1;
    }
  g_autoptr(GPtrArray) lines = load_lines (GALLEY_SOURCE_ROOT "/examples/articles");
  if (lines->len == 0)
    return 1;
  g_autoptr(GPtrArray) clean = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) mixed = g_ptr_array_new_with_free_func (g_free);
  GRand *rand = g_rand_new_with_seed (7);
  gsize total = 0;
  guint k = 0;
  while (total < (gsize) size_mb << 20)
    {
      GString *c = g_string_new (NULL), *m = g_string_new (NULL);
      while (c->len < 3000)
        {
          const char *line = g_ptr_array_index (lines, k++ % lines->len);
          g_string_append (c, line);
          g_string_append_c (c, '\n');
          if (g_rand_int_range (rand, 0, 100) < 5)
            {
              g_autofree char *bad = cp1252_mojibake (line);
              g_string_append (m, bad);
            }
          else
            g_string_append (m, line);
          g_string_append_c (m, '\n');
        }
      total += c->len;
      g_ptr_array_add (clean, g_string_free (c, FALSE));
      g_ptr_array_add (mixed, g_string_free (m, FALSE));
    }
  g_rand_free (rand);
  gsize bytes;
  double s = run (h, clean, &bytes);
  printf ("repair clean UTF-8:        %6.1f MB in %.2f s = %7.1f MB/s per core (%u docs)\n",
          bytes / 1e6, s, bytes / 1e6 / s, clean->len);
  s = run (h, mixed, &bytes);
  printf ("repair 5%% mojibake lines: %6.1f MB in %.2f s = %7.1f MB/s per core\n", bytes / 1e6, s, bytes / 1e6 / s);
  return 0;
}
