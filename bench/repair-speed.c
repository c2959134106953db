/* repair-speed.c: speed and quality of the repair stage on the mixed
 * mojibake corpus, one core, in process.
 *
 * Usage: repair-speed PREFIX
 *   PREFIX.bad.txt, PREFIX.clean.txt and PREFIX.docs.tsv are the files
 *   that ../shared/bench/mojibake/make_corpus.py writes (bench/repair/speed.sh
 *   makes them). Each corpus document (a row of docs.tsv) becomes one
 *   document; the stage's CPU time (thread clock) is summed per garbling
 *   path, and each output line is compared with its truth line.
 *
 * REPAIR_PLUGIN_DIR=DIR loads the stage from another build instead.
 * REPAIR_SPEED_FAILURES=FILE writes each garbled line not restored and
 * each clean line changed to FILE: its path, line number, input, truth
 * and output, one per line.
 * REPAIR_SPEED_OUT=FILE writes the stage's output of every document run
 * to FILE, one after the other, each followed by a line with the repairs
 * it counted as JSON (to compare two builds' output byte for byte).
 * REPAIR_SPEED_PATHS=KIND[,KIND...] runs only the documents of these paths
 * (e.g. w1252,tis620-drop), to profile one path.
 * REPAIR_SPEED_ROUNDS=N runs the stage N times on each document and
 * counts the least CPU time of the N (on a shared machine, the others'
 * jobs then weigh less); the output checked is the first round's.
 *
 * Printed per path: documents, MB, MB/s, garbled lines and how many came
 * out exactly restored, clean lines and how many stayed unchanged; then
 * the totals for clean documents, garbled documents and the whole mix.
 */
#include "galley-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct {
  char   *kind;
  gsize   docs;
  gsize   bytes;
  double  seconds;
  gsize   garbled;       /* lines whose input differs from the truth */
  gsize   restored;      /* ... and came out equal to it */
  gsize   clean;         /* lines whose input is the truth */
  gsize   unchanged;     /* ... and came out equal to it */
} PathStats;

static double
thread_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char **
read_lines (const char *path, guint *n)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (path, &contents, NULL, &error))
    {
      fprintf (stderr, "repair-speed: %s\n", error->message);
      exit (1);
    }
  char **lines = g_strsplit (contents, "\n", -1);
  *n = g_strv_length (lines);
  return lines;
}

static PathStats *
stats_for (GHashTable *by_kind, const char *kind)
{
  PathStats *s = g_hash_table_lookup (by_kind, kind);
  if (s == NULL)
    {
      s = g_new0 (PathStats, 1);
      s->kind = g_strdup (kind);
      g_hash_table_insert (by_kind, s->kind, s);
    }
  return s;
}

static void
add (PathStats *to, const PathStats *from)
{
  to->docs += from->docs;
  to->bytes += from->bytes;
  to->seconds += from->seconds;
  to->garbled += from->garbled;
  to->restored += from->restored;
  to->clean += from->clean;
  to->unchanged += from->unchanged;
}

static void
print_row (const PathStats *s)
{
  printf ("%-14s %6zu %7.2f %8.1f", s->kind, s->docs, s->bytes / 1e6, s->seconds > 0 ? s->bytes / 1e6 / s->seconds : 0);
  if (s->garbled > 0)
    printf ("  %7zu %7.2f%%", s->garbled, 100.0 * s->restored / s->garbled);
  else
    printf ("  %7s %8s", "-", "-");
  if (s->clean > 0)
    printf ("  %7zu %7.3f%%\n", s->clean, 100.0 * s->unchanged / s->clean);
  else
    printf ("  %7s %8s\n", "-", "-");
}

static int
by_name (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(PathStats *const *) a)->kind, (*(PathStats *const *) b)->kind);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: repair-speed PREFIX  (PREFIX.bad.txt, .clean.txt, .docs.tsv from make_corpus.py)\n");
      return 64;
    }
  const char *prefix = argv[1];
  g_setenv ("GALLEY_PLUGIN_SYSTEM_PATH", "", TRUE);
  /* REPAIR_PLUGIN_DIR: another build's plugins, to compare before and after in one run */
  const char *plugin_dir = g_getenv ("REPAIR_PLUGIN_DIR");
  galley_plugin_add_search_dir (plugin_dir != NULL ? plugin_dir : GALLEY_BUILD_PLUGINDIR);
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = galley_harness_new ("repair", NULL, &error);
  if (h == NULL)
    {
      fprintf (stderr, "repair-speed: %s\n", error->message);
      return 1;
    }
  g_autofree char *bad_path = g_strconcat (prefix, ".bad.txt", NULL);
  g_autofree char *clean_path = g_strconcat (prefix, ".clean.txt", NULL);
  g_autofree char *docs_path = g_strconcat (prefix, ".docs.tsv", NULL);
  guint n_bad, n_clean, n_docs;
  g_auto(GStrv) bad = read_lines (bad_path, &n_bad);
  g_auto(GStrv) truth = read_lines (clean_path, &n_clean);
  g_auto(GStrv) docs = read_lines (docs_path, &n_docs);
  if (n_bad != n_clean)
    {
      fprintf (stderr, "repair-speed: %s has %u lines, %s %u\n", bad_path, n_bad, clean_path, n_clean);
      return 1;
    }
  FILE *failures = NULL;
  const char *failures_path = g_getenv ("REPAIR_SPEED_FAILURES");
  if (failures_path != NULL && (failures = fopen (failures_path, "w")) == NULL)
    {
      fprintf (stderr, "repair-speed: cannot write %s\n", failures_path);
      return 1;
    }
  FILE *out_file = NULL;
  const char *out_path = g_getenv ("REPAIR_SPEED_OUT");
  if (out_path != NULL && (out_file = fopen (out_path, "w")) == NULL)
    {
      fprintf (stderr, "repair-speed: cannot write %s\n", out_path);
      return 1;
    }
  g_auto(GStrv) only = NULL;
  if (g_getenv ("REPAIR_SPEED_PATHS") != NULL)
    only = g_strsplit (g_getenv ("REPAIR_SPEED_PATHS"), ",", -1);
  guint rounds = 1;
  if (g_getenv ("REPAIR_SPEED_ROUNDS") != NULL)
    rounds = (guint) CLAMP (g_ascii_strtoull (g_getenv ("REPAIR_SPEED_ROUNDS"), NULL, 10), 1, 100);
  g_autoptr(GHashTable) by_kind = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  for (guint d = 1; d < n_docs; d++)
    {
      if (docs[d][0] == '\0')
        continue;
      g_auto(GStrv) f = g_strsplit (docs[d], "\t", 4);
      if (g_strv_length (f) != 4)
        {
          fprintf (stderr, "repair-speed: %s:%u: expected first_line, n_lines, base, kind\n", docs_path, d + 1);
          return 1;
        }
      guint first = (guint) g_ascii_strtoull (f[0], NULL, 10);
      guint count = (guint) g_ascii_strtoull (f[1], NULL, 10);
      if (first + count > n_bad)
        {
          fprintf (stderr, "repair-speed: %s:%u: lines %u-%u beyond the %u of %s\n", docs_path, d + 1, first,
                   first + count, n_bad, bad_path);
          return 1;
        }
      if (only != NULL && !g_strv_contains ((const char *const *) only, f[3]))
        continue;
      GString *doc_text = g_string_new (NULL);
      for (guint i = 0; i < count; i++)
        {
          if (i > 0)
            g_string_append_c (doc_text, '\n');
          g_string_append (doc_text, bad[first + i]);
        }
      g_autoptr(GBytes) raw = g_bytes_new_take (doc_text->str, doc_text->len);
      gsize size = doc_text->len;
      g_string_free (doc_text, FALSE);
      g_autoptr(GalleyDocument) doc = NULL;
      double least = G_MAXDOUBLE;
      for (guint r = 0; r < rounds; r++)
        {
          GalleyDocument *next = galley_document_new ("d", NULL);
          galley_document_set_raw (next, raw);
          galley_document_set_content_type (next, GALLEY_CONTENT_TEXT);
          double t0 = thread_seconds ();
          galley_harness_process (h, next, NULL);
          least = MIN (least, thread_seconds () - t0);
          if (doc == NULL)
            doc = next;
          else
            galley_document_free (next);
        }

      PathStats *s = stats_for (by_kind, f[3]);
      s->docs++;
      s->bytes += size;
      s->seconds += least;
      gsize out_len = 0;
      const char *out = galley_document_get_text (doc, &out_len);
      if (out_file != NULL)
        {
          fwrite (out != NULL ? out : "", 1, out != NULL ? out_len : 0, out_file);
          json_object *repairs = galley_document_repairs_to_json (doc);
          fprintf (out_file, "\n%s\n", repairs != NULL ? json_object_to_json_string (repairs) : "{}");
          json_object_put (repairs);
        }
      g_auto(GStrv) out_lines = g_strsplit (out != NULL ? out : "", "\n", -1);
      guint n_out = g_strv_length (out_lines);
      for (guint i = 0; i < count; i++)
        {
          gboolean same = i < n_out && n_out == count && strcmp (out_lines[i], truth[first + i]) == 0;
          if (!same && failures != NULL)
            fprintf (failures, "%s %u\n  in:   %s\n  want: %s\n  got:  %s\n", f[3], first + i + 1, bad[first + i],
                     truth[first + i], i < n_out ? out_lines[i] : "(missing)");
          if (strcmp (bad[first + i], truth[first + i]) == 0)
            s->clean++, s->unchanged += same;
          else
            s->garbled++, s->restored += same;
        }
    }
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, by_kind);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_ptr_array_add (rows, value);
  g_ptr_array_sort (rows, by_name);
  printf ("%-14s %6s %7s %8s  %7s %8s  %7s %8s\n", "path", "docs", "MB", "MB/s", "garbled", "restored", "clean",
          "unchanged");
  PathStats clean = { .kind = (char *) "= clean docs" }, garbled = { .kind = (char *) "= garbled docs" },
            all = { .kind = (char *) "= all" };
  for (guint i = 0; i < rows->len; i++)
    {
      PathStats *s = g_ptr_array_index (rows, i);
      print_row (s);
      add (g_str_equal (s->kind, "clean") ? &clean : &garbled, s);
      add (&all, s);
    }
  print_row (&clean);
  print_row (&garbled);
  print_row (&all);
  if (failures != NULL)
    fclose (failures);
  if (out_file != NULL && fclose (out_file) != 0)
    {
      fprintf (stderr, "repair-speed: cannot write %s\n", out_path);
      return 1;
    }
  return 0;
}
