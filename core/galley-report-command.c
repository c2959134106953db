/* galley-report-command.c: `galley report STATS.json [--state-dir DIR]
 * -o FILE`, the HTML report of a past run from its stats file.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-report-html.h"

#include <stdio.h>

int
galley_report_command (int argc, char **argv)
{
  g_autofree char *output = NULL, *state_dir = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the report to FILE ('-': stdout)", "FILE" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      "Add the history of the last runs from this state directory", "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("STATS.json -o FILE - the HTML report of a run");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Writes one self-contained HTML file (no script, no external file) from the\n"
    "stats file of a run: summary, stages with counts and time, and what each\n"
    "stage did to a few documents when the run kept samples (report= in the\n"
    "pipeline). With --state-dir, the history of the last 30 runs.");
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "galley: %s\n", error->message);
      return GALLEY_EXIT_USAGE;
    }
  if (argc != 2 || output == NULL)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      fprintf (stderr, "galley: report: %s\n\n%s", argc != 2 ? "expected one STATS.json file" : "missing -o FILE", help);
      return GALLEY_EXIT_USAGE;
    }
  g_autoptr(GalleyStats) stats = galley_stats_load (argv[1], &error);
  if (stats == NULL)
    {
      fprintf (stderr, "galley: %s\n", error->message);
      return galley_error_to_exit_code (error);
    }
  if (state_dir != NULL && !g_file_test (state_dir, G_FILE_TEST_IS_DIR))
    {
      fprintf (stderr, "galley: --state-dir %s: not a directory\n", state_dir);
      return GALLEY_EXIT_NOINPUT;
    }
  if (!galley_report_write (output, stats, state_dir, &error))
    {
      fprintf (stderr, "galley: %s\n", error->message);
      return galley_error_to_exit_code (error);
    }
  return GALLEY_EXIT_OK;
}
