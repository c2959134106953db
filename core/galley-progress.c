/* galley-progress.c: percent and time left for the live progress line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-progress.h"

/* "45s", "1m20s", "2h05m" */
static void
append_duration (GString *out, double seconds)
{
  seconds = CLAMP (seconds, 0.0, 9999.0 * 3600);
  guint64 s = (guint64) seconds;
  if ((double) s < seconds)
    s++;
  if (s < 60)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT "s", s);
  else if (s < 3600)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT "m%02" G_GUINT64_FORMAT "s", s / 60, s % 60);
  else
    g_string_append_printf (out, "%" G_GUINT64_FORMAT "h%02" G_GUINT64_FORMAT "m", s / 3600, s / 60 % 60);
}

void
galley_progress_format_eta (GString *out, guint64 done, guint64 total, double elapsed)
{
  g_return_if_fail (out != NULL);
  if (total == 0)
    return;
  guint64 percent = done >= total ? 100 : (guint64) ((double) done * 100.0 / (double) total);
  if (done < total)
    percent = MIN (percent, 99);
  g_string_append_printf (out, ", %" G_GUINT64_FORMAT "%%", percent);
  if (done >= total)
    g_string_append (out, ", eta 0s");
  else if (done == 0 || elapsed <= 0)
    g_string_append (out, ", eta ?");
  else
    {
      g_string_append (out, ", eta ");
      append_duration (out, elapsed * (double) (total - done) / (double) done);
    }
}
