/* export-sqlite-bench.c: throughput of the export-sqlite sink, in-process.
 *
 * Generates N synthetic articles (WORDS words, about 2.4 KB of text for 400, from a made-up
 * vocabulary, title, date, a dedup field, ENTITIES entity mentions taken
 * from a pool of names), pushes them through the sink into a new database
 * in a temporary directory and prints documents/s (time spent in the sink
 * only, generation excluded) and the peak RSS of the process.
 *
 * Usage: export-sqlite-bench [N [ENTITIES [WORDS [fsync]]]] [OPTION=VALUE...]
 * (defaults: 200000 documents, 10 entities, 400 words, no fsync; options
 * such as fts=none or batch-size=10000 go to the sink)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <sys/resource.h>
#include <time.h>

/* CPU time of this thread, microseconds */
static gint64
cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * G_GINT64_CONSTANT (1000000) + ts.tv_nsec / 1000;
}

/* A word index with a Zipf-like (log-uniform) distribution, as in text. */
static guint
pick (GRand *r, guint n)
{
  return (guint) MIN (n - 1, exp (g_rand_double (r) * log (n)) - 1);
}

static char *
make_word (GRand *r)
{
  static const char *const syl[] = { "ka", "lo", "ver", "min", "tes", "ra", "port", "an", "del", "su",
                                     "mar", "ti", "on", "ber", "ga", "nis", "el", "ur", "co", "pen" };
  GString *w = g_string_new (NULL);
  guint n = 1 + g_rand_int_range (r, 0, 3);
  for (guint i = 0; i < n; i++)
    g_string_append (w, syl[g_rand_int_range (r, 0, G_N_ELEMENTS (syl))]);
  return g_string_free (w, FALSE);
}

int
main (int argc, char **argv)
{
  g_autoptr(GPtrArray) opts = g_ptr_array_new ();
  const char *pos[4] = { "200000", "10", "400", "" };
  guint n_pos = 0;
  for (int i = 1; i < argc; i++)
    if (strchr (argv[i], '=') != NULL)
      g_ptr_array_add (opts, argv[i]);
    else if (n_pos < G_N_ELEMENTS (pos))
      pos[n_pos++] = argv[i];
  gint64 n_docs = g_ascii_strtoll (pos[0], NULL, 10);
  gint64 n_ent = g_ascii_strtoll (pos[1], NULL, 10);
  gint64 n_words = g_ascii_strtoll (pos[2], NULL, 10);
  gboolean do_fsync = g_str_equal (pos[3], "fsync");
  if (n_docs <= 0 || n_ent < 0 || n_words < 2 * (n_ent + 1))
    {
      fprintf (stderr, "usage: export-sqlite-bench [N [ENTITIES [WORDS [fsync]]]] [OPTION=VALUE...]\n");
      return 64;
    }
  g_setenv ("GALLEY_PLUGIN_SYSTEM_PATH", "", TRUE);
  galley_plugin_add_search_dir (GALLEY_BUILD_PLUGINDIR);

  g_autoptr(GRand) r = g_rand_new_with_seed (7);
  g_autoptr(GPtrArray) vocab = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < 20000; i++)
    g_ptr_array_add (vocab, make_word (r));
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < 5000; i++)
    {
      g_autofree char *a = make_word (r), *b = make_word (r);
      a[0] = g_ascii_toupper (a[0]);
      b[0] = g_ascii_toupper (b[0]);
      g_ptr_array_add (names, g_strdup_printf ("%s %s", a, b));
    }
  static const char *const types[] = { "PER", "ORG", "LOC", "DATE" };

  g_autofree char *dir = g_dir_make_tmp ("galley-bench-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "bench.sqlite", NULL);
  g_autofree char *path_opt = g_strconcat ("path=", db, NULL);
  g_ptr_array_insert (opts, 0, path_opt);
  g_ptr_array_insert (opts, 1, do_fsync ? "fsync=true" : "fsync=false");
  g_ptr_array_add (opts, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = galley_harness_new ("export-sqlite", (const char *const *) opts->pdata, &error);
  if (h == NULL)
    {
      fprintf (stderr, "export-sqlite-bench: %s\n", error->message);
      return 1;
    }

  GString *text = g_string_sized_new (4096);
  gint64 *starts = g_new (gint64, n_ent + 1);
  guint *which = g_new (guint, n_ent + 1);
  gint64 spent = 0, cpu = 0, bytes = 0;
  for (gint64 d = 0; d < n_docs; d++)
    {
      g_string_truncate (text, 0);
      gint64 placed = 0;
      for (gint64 w = 0; w < n_words; w++)
        {
          if (placed < n_ent && w % (n_words / (n_ent + 1)) == 1)
            {
              which[placed] = pick (r, names->len);
              starts[placed++] = text->len;
              g_string_append (text, g_ptr_array_index (names, which[placed - 1]));
            }
          else
            g_string_append (text, g_ptr_array_index (vocab, pick (r, vocab->len)));
          g_string_append_c (text, w % 17 == 16 ? '.' : ' ');
          if (w % 17 == 16)
            g_string_append_c (text, ' ');
        }
      char id[32], date[16];
      g_snprintf (id, sizeof id, "doc-%" G_GINT64_FORMAT, d);
      g_snprintf (date, sizeof date, "2024-%02d-%02d", (int) (d % 12) + 1, (int) (d % 28) + 1);
      g_autoptr(GalleyDocument) doc = galley_document_new (id, "bench");
      galley_document_set_text (doc, text->str, text->len);
      galley_document_set_meta_string (doc, "title", g_ptr_array_index (vocab, d % vocab->len));
      galley_document_set_meta_string (doc, "date", date);
      for (gint64 e = 0; e < placed; e++)
        {
          const char *name = g_ptr_array_index (names, which[e]);
          galley_document_add_annotation (doc, "entities", types[which[e] % G_N_ELEMENTS (types)], starts[e],
                                          starts[e] + (gint64) strlen (name), name);
        }
      json_object *dedup = json_object_new_object ();
      g_snprintf (id, sizeof id, "doc-%" G_GINT64_FORMAT, d - d % 3);
      json_object_object_add (dedup, "cluster", json_object_new_string (id));
      galley_document_set_field (doc, "dedup", dedup);
      bytes += text->len;

      gint64 t0 = g_get_monotonic_time (), c0 = cpu_now ();
      if (galley_harness_process (h, doc, &error) != GALLEY_VERDICT_KEEP)
        {
          fprintf (stderr, "export-sqlite-bench: %s\n", error ? error->message : "dropped");
          return 1;
        }
      spent += g_get_monotonic_time () - t0;
      cpu += cpu_now () - c0;
    }
  gint64 t0 = g_get_monotonic_time (), c0 = cpu_now ();
  if (!galley_harness_finish (h, &error))
    {
      fprintf (stderr, "export-sqlite-bench: %s\n", error->message);
      return 1;
    }
  g_clear_pointer (&h, galley_harness_free);
  spent += g_get_monotonic_time () - t0;
  cpu += cpu_now () - c0;

  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  GStatBuf st;
  gint64 size = g_stat (db, &st) == 0 ? (gint64) st.st_size : 0;
  double secs = spent / 1e6;
  printf ("export-sqlite: %" G_GINT64_FORMAT " documents (%.0f MB text, %" G_GINT64_FORMAT " entities each%s) in %.2f s: "
          "%.0f docs/s (CPU time of the sink %.2f s: %.0f docs/s); peak RSS %ld MB; database %.0f MB\n",
          n_docs, bytes / 1e6, n_ent, do_fsync ? ", fsync" : "", secs, n_docs / secs, cpu / 1e6, n_docs / (cpu / 1e6),
          ru.ru_maxrss / 1024, size / 1e6);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL), *shm = g_strconcat (db, "-shm", NULL);
  g_unlink (db);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (dir);
  g_free (starts);
  g_free (which);
  g_string_free (text, TRUE);
  return 0;
}
