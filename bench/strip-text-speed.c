/* strip-text-speed: throughput of the strip stage's text mode on one thread.
 *
 *   strip-text-speed [SIZE_MB] [SEED] [ROUNDS]
 *   strip-text-speed --check [FILE...]
 *
 * Generates SIZE_MB (default 64) MiB of synthetic articles in memory, each
 * with the boilerplate strip-text removes (section label, title, dateline,
 * byline, caption, related teaser, share lines, sign-off, URL footer) around
 * 6 to 14 body paragraphs, some hard-wrapped, some with inline tags. Then
 * runs strip_text() over every article once to warm up and ROUNDS (default
 * 5) times timed, and prints the best MB/s (input bytes per second) both
 * by the wall clock and by the thread's CPU time; only strip_text() and
 * the result it fills are inside the timed loop, not the generation. The
 * target is 100 MB/s per core.
 *
 * --check runs the text mode over 8 MiB of these articles and 8 MiB of
 * articles built from a pool of odd lines (every kind of boilerplate in
 * several languages, markup, broken UTF-8, NUL bytes), with every
 * aggressiveness, with and without captions, and prints a digest of all
 * outputs (body, meta, removed counts, repairs). It fails when the digest
 * differs from the one recorded below: a change meant to make the text
 * mode faster must not change what it produces. Files given after --check
 * are digested too (printed, not compared).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip.h"

#include <stdio.h>
#include <time.h>
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

/* Lines for the --check articles: one of each kind the text mode tells
 * apart, in several languages and spellings, plus markup and bad bytes. */
static const char *const pool[] = {
  "Home", "Main menu", "Skip to content", "News > World > Europe", "Startseite » Politik » Ausland",
  "Business Section", "Sport", "World News", "Tags: council, budget, harbour", "Themen: Hafen, Streik",
  "You are here: Home / News", "Главная", "Back to top", "Sport | Football | Transfers",
  "## Council approves the harbour plan", "# Die Stadt plant einen neuen Hafen", "### A short heading",
  "Published: 21 July 2025", "Updated: 2025-07-22 10:15", "July 23, 2025 at 4:05 pm",
  "BANGKOK, 21.01.2026", "Veröffentlicht am 4. März 2026 um 12:00 Uhr", "Publié le 3 avril 2026 à 09h30",
  "4 de março de 2026", "12 февраля 2026 года, 14:20", "Опубліковано 5 травня 2026", "22.07.25 12:00",
  "Monday, Jan. 5th, 2026", "2026/02/30", "Posted on 31.12.1899",
  "By Anna Whitfield", "By Anna Whitfield, Reuters", "By Jean de la Tour and Maria Silva - 3 May 2026",
  "Von Hans Müller, dpa", "Par Claire Martin | 12 janvier 2026", "Автор: Иван Петров", "by the way this is prose",
  "Written by Tom O'Neil, Valley Press, AFP", "By JANE DOE", "By Jane Doe.",
  "The square on Monday morning. Photo: Jonas Ek / Valley Press", "Foto: dpa", "Getty Images",
  "Residents watch the water rise. Reuters / Max Power", "(Photo by Lee Chan)", "Фото: ТАСС",
  "Pictured: the old bridge", "Image credit: NASA",
  "**Related article**: Council elections set for the autumn", "Read more: the budget in detail",
  "Lesen Sie auch: Streik im Hafen", "Lire aussi : la grève continue", "Читайте также: новости",
  "Related", "Related coverage of the floods in the north of the country this week.",
  "Share this article", "Subscribe to our newsletter", "Follow us on social media", "Teilen",
  "Partager", "Поделиться", "We use cookies to improve your experience.", "© 2026 Valley Press",
  "All rights reserved.", "Advertisement", "Comments (12)", "Click here to download our app",
  "(ab)", "(jh/dpa)", "(MPA)", "/ REL (A2 Televizion)", "— Reuters", "(lf/mk)",
  "Source: Reuters, AFP and BBC", "Quelle: dpa", "Fuente: EFE / Europa Press", "Sources : AFP et Reuters",
  "With reporting by Maria Silva in Lisbon.", "Источник: РИА Новости",
  "Associated Press", "Valley Press Agency", "DPA Wire",
  "Editor's note: this story has been updated.", "Correction: an earlier version misnamed the bridge.",
  "This story has been updated with a statement from the council.", "Note: the vote was close.",
  "Anmerkung der Redaktion: Der Text wurde ergänzt.", "Mise à jour : le maire a réagi.",
  "## Original url: https://news.example.com/2026/1/council-plan", "Original URL:",
  "https://news.example.com/a/b?c=d", "www.example.org/news", "Link: http://x.example.com/1",
  "Read the original at https://example.com/story.", "See https://example.com for details.",
  "<p>", "</div>", "<br/>", "***", "---", "![photo](https://img.example.com/1.jpg)", "> > >",
  "The report <u>said</u> so, and <b>nobody</b> <span class=\"x\">objected</span>.",
  "She **strongly** disagreed with *the* plan and with __all__ of its _details_.",
  "More in [our coverage](https://example.com/coverage) and [here](x y).",
  "A <unknown>tag</unknown> stays, <a href=\"x\">a link</a> goes, < not a tag.",
  "and the talks went on until late in the evening without any agreement",
  "but the council said nothing more about it.",
  "More to follow", "Next article", "Previous", "Latest news", "Top stories",
  "Die Stadt hat am Dienstag angekündigt, dass der Hafen bis zum Sommer geschlossen bleibt.",
  "Le conseil municipal a voté mardi soir un budget en hausse de trois pour cent.",
  "El ayuntamiento aprobó el martes un presupuesto que incluye nuevas escuelas.",
  "Городской совет во вторник одобрил план реконструкции старого моста через реку.",
  "Міська рада у вівторок схвалила план ремонту старого мосту через річку.",
  "港口官员周二表示，新的时间表将在夏季之前生效。",
  "Invalid \xff\xfe bytes \xc3 in a line that is otherwise plain prose and ends well.",
  "\xe2\x80\x9cWe are not going to wait another decade for this road,\xe2\x80\x9d she said.",
  "\xc2\xa0\xc2\xa0Spaces\t\tand   tabs    everywhere\xc2\xa0",
  "A line\rwith a carriage return in the middle of it, which is odd.",
  "Short.", "?", "...", "1.", "12345", "Q&A", "A | B | C | D",
};

static void
odd_article (GString *out, GRand *r)
{
  int lines = g_rand_int_range (r, 4, 40);
  for (int l = 0; l < lines; l++)
    {
      int pick = g_rand_int_range (r, 0, 4);
      if (pick == 0)
        {
          /* a body paragraph, sometimes wrapped, sometimes broken in two */
          int sentences = g_rand_int_range (r, 1, 6);
          gsize line_start = out->len;
          for (int k = 0; k < sentences; k++)
            {
              if (k > 0)
                g_string_append_c (out, ' ');
              sentence (out, r);
            }
          if (g_rand_int_range (r, 0, 4) == 0)
            for (gsize k = line_start + g_rand_int_range (r, 20, 80); k < out->len; k += 72)
              {
                while (k < out->len && out->str[k] != ' ')
                  k++;
                if (k < out->len)
                  out->str[k] = '\n';
              }
          if (g_rand_int_range (r, 0, 10) == 0)
            g_string_append (out, " (jh)");
        }
      else
        g_string_append (out, pool[g_rand_int_range (r, 0, G_N_ELEMENTS (pool))]);
      if (g_rand_int_range (r, 0, 50) == 0)
        g_string_append_len (out, "\0x", 2);
      int gap = g_rand_int_range (r, 0, 6);
      g_string_append (out, gap == 0 ? "\n" : gap == 1 ? "\n  \n\n" : "\n\n");
    }
}

typedef void (*ArticleFunc) (GString *out, GRand *r, guint i);

static void
odd_article_i (GString *out, GRand *r, guint i)
{
  odd_article (out, r);
}

static GString *
make_corpus (gsize bytes, guint seed, ArticleFunc func, GArray *offsets)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (seed);
  GString *corpus = g_string_sized_new (bytes + 8192);
  for (guint i = 0; corpus->len < bytes; i++)
    {
      g_array_append_val (offsets, corpus->len);
      func (corpus, r, i);
    }
  g_array_append_val (offsets, corpus->len);
  return corpus;
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

/* Feeds everything strip_text_ex() produced for one input into @sum. */
static void
digest_one (GChecksum *sum, const char *text, gsize len, const StripConfig *cfg)
{
  StripResult res;
  StripTextRepairs rep;
  result_init (&res);
  strip_text_ex (text, len, cfg, &res, &rep, NULL);
  g_checksum_update (sum, (const guchar *) res.body->str, res.body->len + 1);
  const char *meta = json_object_to_json_string_ext (res.meta, JSON_C_TO_STRING_PLAIN);
  g_checksum_update (sum, (const guchar *) meta, strlen (meta) + 1);
  g_checksum_update (sum, (const guchar *) res.removed, sizeof res.removed);
  g_checksum_update (sum, (const guchar *) &rep, sizeof rep);
  result_clear (&res);
}

static void
digest_config (GChecksum *sum, const char *text, gsize len, int aggr, gboolean captions, const char *lang)
{
  StripConfig cfg = { aggr, lang, captions };
  digest_one (sum, text, len, &cfg);
}

static void
digest_all_configs (GChecksum *sum, const char *text, gsize len)
{
  for (int aggr = 0; aggr <= 2; aggr++)
    for (int captions = 0; captions <= 1; captions++)
      digest_config (sum, text, len, aggr, captions, aggr == 2 && captions ? "auto" : "en");
}

/* The digest of the --check corpus as the text mode produced it when this
 * check was added; update it only with a change meant to alter output
 * (last: calls to action of up to 24 words, so a unit that joins "Subscribe
 * to our newsletter" with a lower-case line after it goes as a share line). */
#define CHECK_DIGEST "2af39a7178f8d1275b380aae0159dc33090835441f5eec2f4fdb0c3c5ed1fc3b"

static int
run_check (int nfiles, char **files)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  ArticleFunc funcs[] = { article, odd_article_i };
  guint docs = 0;
  for (gsize f = 0; f < G_N_ELEMENTS (funcs); f++)
    {
      g_autoptr(GArray) offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
      GString *corpus = make_corpus (8u << 20, 7, funcs[f], offsets);
      for (guint i = 0; i + 1 < offsets->len; i++)
        {
          gsize a = g_array_index (offsets, gsize, i), b = g_array_index (offsets, gsize, i + 1);
          digest_all_configs (sum, corpus->str + a, b - a);
          docs++;
        }
      g_string_free (corpus, TRUE);
    }
  const char *got = g_checksum_get_string (sum);
  int status = 0;
  if (strcmp (got, CHECK_DIGEST) == 0)
    printf ("strip text mode output digest: %s over %u generated articles, 6 configurations: as recorded\n", got, docs);
  else
    {
      printf ("strip text mode output digest: %s over %u generated articles, 6 configurations: "
              "DIFFERS from the recorded %s\n", got, docs, CHECK_DIGEST);
      status = 1;
    }
  for (int i = 0; i < nfiles; i++)
    {
      g_autofree char *text = NULL;
      gsize len = 0;
      g_autoptr(GError) error = NULL;
      if (!g_file_get_contents (files[i], &text, &len, &error))
        {
          fprintf (stderr, "strip-text-speed: %s\n", error->message);
          return 2;
        }
      g_autoptr(GChecksum) fsum = g_checksum_new (G_CHECKSUM_SHA256);
      digest_all_configs (fsum, text, len);
      printf ("%s  %s\n", g_checksum_get_string (fsum), files[i]);
    }
  return status;
}

static double
thread_cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "--check") == 0)
    return run_check (argc - 2, argv + 2);
  guint size_mb = argc > 1 ? (guint) atoi (argv[1]) : 64;
  guint seed = argc > 2 ? (guint) atoi (argv[2]) : 1;
  int rounds = argc > 3 ? atoi (argv[3]) : 5;
  if (size_mb == 0)
    size_mb = 64;
  if (rounds < 1)
    rounds = 5;
  g_autoptr(GArray) offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  GString *corpus = make_corpus ((gsize) size_mb * 1024 * 1024, seed, article, offsets);
  guint n = offsets->len - 1;

  StripConfig cfg = { 1, "en", FALSE };
  double best = 0, best_cpu = 0;
  gint64 body_bytes = 0;
  for (int round = 0; round <= rounds; round++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double c0 = thread_cpu_seconds ();
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
      double cpu = thread_cpu_seconds () - c0;
      double mbs = corpus->len / 1048576.0 / secs, mbs_cpu = corpus->len / 1048576.0 / cpu;
      if (round > 0 && mbs > best)
        best = mbs;
      if (round > 0 && mbs_cpu > best_cpu)
        best_cpu = mbs_cpu;
    }
  printf ("strip text mode, 1 thread: %u articles, %.1f MiB in, %.1f MiB body, best of %d: %.0f MB/s wall, "
          "%.0f MB/s per CPU second (target >= 100)\n",
          n, corpus->len / 1048576.0, body_bytes / 1048576.0, rounds, best, best_cpu);
  g_string_free (corpus, TRUE);
  return 0;
}
