/* strip-html-speed.c: the HTML extractor of the strip stage, without the runner.
 *
 * Loads every *.html or *.html.gz page of DIR into memory, then runs
 * strip_html() over all of them on one thread and prints pages/s, MB/s and
 * the peak RSS. With --predict OUT it runs each page once and writes the
 * bodies as {"<page id>": {"articleBody": "...", "meta": {...}}}, the
 * layout of the boilerplate benchmark's scorer (bench/strip/eval.sh), with
 * the metadata the stage records.
 *
 * With --check-prune it parses each page as the stage does (without the
 * bodies of its scripts and styles, into an arena) and as libxml2's own
 * builder does (strip_html_tree_check()), and reports the pages whose two
 * trees differ, and how many bytes the pruning left out.
 *
 * Usage: strip-html-speed [--repeat N] [--predict OUT.json] [--check-prune] [--aggressiveness N] DIR
 */
#include "strip.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

typedef struct {
  char  *id;
  char  *data;
  gsize  len;
} Page;

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

static gboolean
read_gz (const char *path, GString *out)
{
  gzFile f = gzopen (path, "rb");
  if (f == NULL)
    return FALSE;
  char buf[65536];
  int n;
  while ((n = gzread (f, buf, sizeof buf)) > 0)
    g_string_append_len (out, buf, n);
  gboolean ok = n == 0;
  gzclose (f);
  return ok;
}

static GPtrArray *
load_pages (const char *dir, gsize *total)
{
  GPtrArray *pages = g_ptr_array_new ();
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".html") || g_str_has_suffix (name, ".html.gz"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  *total = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (dir, file, NULL);
      GString *data = g_string_new (NULL);
      if (!read_gz (path, data))
        {
          g_printerr ("strip-html-speed: cannot read %s\n", path);
          g_string_free (data, TRUE);
          continue;
        }
      Page *page = g_new0 (Page, 1);
      page->id = g_strndup (file, strstr (file, ".html") - file);
      page->len = data->len;
      page->data = g_string_free (data, FALSE);
      *total += page->len;
      g_ptr_array_add (pages, page);
    }
  return pages;
}

int
main (int argc, char **argv)
{
  gint repeat = 3, aggressiveness = 1;
  g_autofree char *predict = NULL;
  g_autofree char *language = NULL;
  gboolean keep_captions = FALSE, check_prune = FALSE;
  GOptionEntry entries[] = {
    { "check-prune", 0, 0, G_OPTION_ARG_NONE, &check_prune, "Compare each page's tree with and without script bodies", NULL },
    { "repeat", 'r', 0, G_OPTION_ARG_INT, &repeat, "Passes over the pages (speed mode)", "N" },
    { "predict", 'p', 0, G_OPTION_ARG_FILENAME, &predict, "Write the bodies as scorer JSON here", "OUT" },
    { "aggressiveness", 'a', 0, G_OPTION_ARG_INT, &aggressiveness, "0 recall, 1 balanced, 2 precision", "N" },
    { "language", 'l', 0, G_OPTION_ARG_STRING, &language, "Stopword language (default auto)", "CODE" },
    { "keep-captions", 0, 0, G_OPTION_ARG_NONE, &keep_captions, "Keep image captions", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) octx = g_option_context_new ("DIR");
  g_option_context_add_main_entries (octx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse (octx, &argc, &argv, &error) || argc != 2)
    {
      g_printerr ("usage: strip-html-speed [--repeat N] [--predict OUT.json] DIR\n");
      return 64;
    }
  StripConfig cfg = { aggressiveness, language ? language : "auto", keep_captions };

  gsize total = 0;
  g_autoptr(GPtrArray) pages = load_pages (argv[1], &total);
  if (pages->len == 0)
    {
      g_printerr ("strip-html-speed: no pages in %s\n", argv[1]);
      return 66;
    }

  if (check_prune)
    {
      guint differ = 0, pruned_pages = 0;
      gsize left_out = 0;
      for (guint i = 0; i < pages->len; i++)
        {
          Page *page = g_ptr_array_index (pages, i);
          g_autoptr(GString) copy = g_string_new (NULL);
          if (strip_html_prune (page->data, page->len, copy))
            {
              pruned_pages++;
              left_out += page->len - copy->len;
            }
          g_autofree char *where = NULL;
          if (!strip_html_tree_check (page->data, page->len, &where))
            {
              printf ("%s: the trees differ at %s\n", page->id, where);
              differ++;
            }
        }
      printf ("pages %u  pruned %u  bytes left out %.1f%%  trees differ %u\n", pages->len, pruned_pages,
              100.0 * (double) left_out / (double) total, differ);
      return differ == 0 ? 0 : 1;
    }

  if (predict != NULL)
    {
      g_autoptr(GString) out = g_string_new ("{");
      guint empty = 0;
      for (guint i = 0; i < pages->len; i++)
        {
          Page *page = g_ptr_array_index (pages, i);
          StripResult res;
          result_init (&res);
          if (!strip_html (page->data, page->len, &cfg, &res, &error))
            {
              g_printerr ("strip-html-speed: %s: %s\n", page->id, error->message);
              g_clear_error (&error);
            }
          if (res.body->len == 0)
            empty++;
          g_string_append (out, i == 0 ? "\n" : ",\n");
          galley_json_escape_append (out, page->id, strlen (page->id));
          g_string_append (out, ": {\"articleBody\": ");
          galley_json_escape_append (out, res.body->str, res.body->len);
          g_string_append (out, ", \"meta\": ");
          g_string_append (out, json_object_to_json_string_ext (res.meta, JSON_C_TO_STRING_PLAIN));
          g_string_append (out, "}");
          result_clear (&res);
        }
      g_string_append (out, "\n}\n");
      if (!g_file_set_contents (predict, out->str, out->len, &error))
        {
          g_printerr ("strip-html-speed: %s\n", error->message);
          return 73;
        }
      printf ("pages %u  empty %u\n", pages->len, empty);
    }
  else
    {
      struct rusage ru0;
      getrusage (RUSAGE_SELF, &ru0);
      gint64 t0 = g_get_monotonic_time ();
      for (int r = 0; r < repeat; r++)
        for (guint i = 0; i < pages->len; i++)
          {
            Page *page = g_ptr_array_index (pages, i);
            StripResult res;
            result_init (&res);
            strip_html (page->data, page->len, &cfg, &res, NULL);
            result_clear (&res);
          }
      double secs = (g_get_monotonic_time () - t0) / 1e6;
      struct rusage ru;
      getrusage (RUSAGE_SELF, &ru);
      /* CPU time too: on a shared machine it is the steadier per-core figure */
      double cpu = (ru.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru.ru_stime.tv_sec - ru0.ru_stime.tv_sec)
                   + ((ru.ru_utime.tv_usec - ru0.ru_utime.tv_usec) + (ru.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) / 1e6;
      double n = (double) pages->len * repeat;
      printf ("strip html: %u pages (%.1f MB) x %d on one thread: %.0f pages/s, %.1f MB/s wall; "
              "%.0f pages/s, %.1f MB/s per CPU second; peak RSS %.0f MB\n",
              pages->len, total / 1e6, repeat, n / secs, total * (double) repeat / 1e6 / secs,
              n / cpu, total * (double) repeat / 1e6 / cpu, ru.ru_maxrss / 1024.0);
    }

  for (guint i = 0; i < pages->len; i++)
    {
      Page *page = g_ptr_array_index (pages, i);
      g_free (page->id);
      g_free (page->data);
      g_free (page);
    }
  return 0;
}
