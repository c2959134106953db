/* strip-text-speed: throughput of the strip stage's text mode on one thread.
 *
 *   strip-text-speed [SIZE_MB] [SEED]
 *
 * Generates SIZE_MB (default 64) MiB of synthetic articles in memory, each
 * with the boilerplate strip-text removes (section label, title, dateline,
 * byline, caption, related teaser, share lines, sign-off, URL footer) around
 * 6 to 14 body paragraphs, some hard-wrapped, some with inline tags. Then
 * runs strip_text() over every article once to warm up and three times
 * timed, and prints the best MB/s (input bytes per second). The target is
 * 100 MB/s per core.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const subjects[] = {
  "The council", "Harbour officials", "The regional government", "Residents of the old town",
  "The transport minister", "A spokeswoman for the operator", "Local farmers", "The union",
  "Investors", "The museum director", "Emergency services", "The mayor of Brennwil",
};
static const char *const verbs[] = {
  "said on Tuesday that", "warned that", "confirmed that", "told reporters that", "argued that",
  "announced that", "denied that", "expected that",
};
static const char *const clauses[] = {
  "the plan would cost about 40 million euros over five years",
  "the bridge would stay closed until the inspection was finished",
  "prices had risen faster than wages for the third year in a row",
  "the new timetable would add two trains an hour in the morning",
  "the flood defences along the river needed urgent repairs",
  "talks with the company would continue next week in Zürich",
  "nobody had been hurt when the roof of the hall collapsed",
  "the harvest was smaller than last year because of the dry spring",
  "the school would reopen after the summer with more teachers",
  "“we are not going to wait another decade for this road”",
};

static void
sentence (GString *out, GRand *r)
{
  g_string_append_printf (out, "%s %s %s.", subjects[g_rand_int_range (r, 0, G_N_ELEMENTS (subjects))],
                          verbs[g_rand_int_range (r, 0, G_N_ELEMENTS (verbs))],
                          clauses[g_rand_int_range (r, 0, G_N_ELEMENTS (clauses))]);
}

static void
article (GString *out, GRand *r, guint i)
{
  g_string_append (out, "World News\n\n");
  g_string_append_printf (out, "## Council approves plan number %u after long debate\n\n", i);
  g_string_append_printf (out, "%02d.%02d.2026 %02d:%02d\n\n", g_rand_int_range (r, 1, 29),
                          g_rand_int_range (r, 1, 13), g_rand_int_range (r, 0, 24), g_rand_int_range (r, 0, 60));
  g_string_append (out, "By Anna Whitfield\n\n");
  int paras = g_rand_int_range (r, 6, 15);
  for (int p = 0; p < paras; p++)
    {
      gboolean wrapped = g_rand_int_range (r, 0, 5) == 0;
      int sentences = g_rand_int_range (r, 2, 6);
      gsize line_start = out->len;
      for (int s = 0; s < sentences; s++)
        {
          if (s > 0)
            g_string_append_c (out, ' ');
          if (g_rand_int_range (r, 0, 8) == 0)
            g_string_append (out, "The report <u>said</u> so. ");
          sentence (out, r);
        }
      if (wrapped)
        for (gsize k = line_start + 70; k < out->len; k += 72)
          {
            while (k < out->len && out->str[k] != ' ')
              k++;
            if (k < out->len)
              out->str[k] = '\n';
          }
      g_string_append (out, "\n\n");
      if (p == 1)
        g_string_append (out, "The square on Monday morning. Photo: Jonas Ek / Valley Press\n\n");
      if (p == 3)
        g_string_append (out, "**Related article**: Council elections set for the autumn\n\n");
    }
  g_string_append (out, "Share this article\n\nSubscribe to our newsletter\n\n(ab)\n\n");
  g_string_append_printf (out, "## Original url: https://news.example.com/2026/%u/council-plan\n", i);
}

/* strip_result_init/clear live in the stage module, not in strip-core. */
static void
result_init (StripResult *res)
{
  memset (res, 0, sizeof *res);
  res->body = g_string_new (NULL);
  res->meta = json_object_new_object ();
}

static void
result_clear (StripResult *res)
{
  g_string_free (res->body, TRUE);
  json_object_put (res->meta);
}

int
main (int argc, char **argv)
{
  guint size_mb = argc > 1 ? (guint) atoi (argv[1]) : 64;
  guint seed = argc > 2 ? (guint) atoi (argv[2]) : 1;
  if (size_mb == 0)
    size_mb = 64;
  g_autoptr(GRand) r = g_rand_new_with_seed (seed);
  GString *corpus = g_string_sized_new ((gsize) size_mb * 1024 * 1024 + 8192);
  g_autoptr(GArray) offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  for (guint i = 0; corpus->len < (gsize) size_mb * 1024 * 1024; i++)
    {
      g_array_append_val (offsets, corpus->len);
      article (corpus, r, i);
    }
  g_array_append_val (offsets, corpus->len);
  guint n = offsets->len - 1;

  StripConfig cfg = { 1, "en", FALSE };
  double best = 0;
  gint64 body_bytes = 0;
  for (int round = 0; round < 4; round++)
    {
      gint64 t0 = g_get_monotonic_time ();
      body_bytes = 0;
      for (guint i = 0; i < n; i++)
        {
          gsize a = g_array_index (offsets, gsize, i), b = g_array_index (offsets, gsize, i + 1);
          StripResult res;
          result_init (&res);
          if (!strip_text (corpus->str + a, b - a, &cfg, &res, NULL))
            return 1;
          body_bytes += res.body->len;
          result_clear (&res);
        }
      double secs = (g_get_monotonic_time () - t0) / 1e6;
      double mbs = corpus->len / 1048576.0 / secs;
      if (round > 0 && mbs > best)
        best = mbs;
    }
  printf ("strip text mode, 1 thread: %u articles, %.1f MiB in, %.1f MiB body, best of 3: %.0f MB/s (target >= 100)\n",
          n, corpus->len / 1048576.0, body_bytes / 1048576.0, best);
  g_string_free (corpus, TRUE);
  return 0;
}
