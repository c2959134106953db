/* fuzz-stats.c: stats files on arbitrary bytes.
 *
 * The input goes through galley_stats_parse (core/galley-stats-file.c,
 * the reader of `galley report` and of the run history) and, when it is
 * accepted, through the HTML report (core/galley-report-html.c: tables,
 * charts, and each traced step: character diff, removed parts, spans,
 * notes), with the run as its own one-run history. What must hold: no
 * crash, no leak, no GLib critical, an error names the file, and the
 * page is valid UTF-8 in which nothing from the input opens a tag the
 * report does not write itself.
 */
#include "galley-private.h"
#include "galley-report-html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyStats) stats = galley_stats_parse ((const char *) data, size, "fuzz.json", &error);
  if (stats == NULL)
    {
      if (error == NULL || !g_str_has_prefix (error->message, "fuzz.json: not a galley stats file: "))
        {
          fprintf (stderr, "rejected without the file named: %s\n", error ? error->message : "(no error)");
          abort ();
        }
      return 0;
    }
  g_autoptr(GPtrArray) history = g_ptr_array_new ();
  g_ptr_array_add (history, stats);
  g_autoptr(GString) out = g_string_new (NULL);
  galley_report_html (out, stats, history);
  if (!g_utf8_validate_len (out->str, out->len, NULL))
    {
      fprintf (stderr, "the report is not valid UTF-8\n");
      abort ();
    }
  /* every tag in the page is one the report writes */
  static const char *const tags[] = {
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "table", "caption", "tr",
    "th", "td", "p", "div", "section", "header", "span", "del", "ins", "mark", "svg", "rect", "text", "line",
    "polyline", "circle", "footer", "small", "ul", "li", NULL
  };
  for (const char *p = strchr (out->str, '<'); p != NULL; p = strchr (p + 1, '<'))
    {
      const char *name = p[1] == '/' ? p + 2 : p + 1;
      gsize n = strcspn (name, " >\n");
      gboolean known = FALSE;
      for (guint i = 0; tags[i] != NULL && !known; i++)
        known = strlen (tags[i]) == n && strncmp (tags[i], name, n) == 0;
      if (!known)
        {
          fprintf (stderr, "unexpected tag in the report: %.40s\n", p);
          abort ();
        }
    }
  return 0;
}
