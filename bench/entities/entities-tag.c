/* entities-tag: runs the entity engine over JSON Lines records
 * {"id", "text"} on stdin and writes {"id", "text", "entities": [{start,
 * end, type, canonical}]} to stdout: the input format of
 * ../shared/bench/ner/score.py. With --speed it reads the records, then
 * times the extraction alone and prints tokens/s and the load time.
 *
 *   entities-tag DATA_DIR [--speed [REPEAT]] < in.jsonl > out.jsonl
 *
 * --speed prints the best of REPEAT runs, wall clock and CPU time of the
 * thread, of the tokenizer alone, the tokenizer and the tagger, and the
 * whole extraction.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ner-private.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of the calling thread, in microseconds. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;
  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return g_get_monotonic_time ();
  return (gint64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: entities-tag DATA_DIR [--speed [REPEAT]] < in.jsonl\n");
      return 64;
    }
  gboolean speed = argc > 2 && strcmp (argv[2], "--speed") == 0;
  int repeat = speed && argc > 3 ? atoi (argv[3]) : 5;
  gint64 t0 = g_get_monotonic_time ();
  GError *error = NULL;
  NerModel *model = ner_model_load (argv[1], NULL, TRUE, &error);
  if (model == NULL)
    {
      fprintf (stderr, "entities-tag: %s\n", error->message);
      return 66;
    }
  gint64 t_load = g_get_monotonic_time () - t0;
  NerScratch *s = ner_scratch_new ();
  NerOptions o = { 0 };
  o.types = (1u << NER_N_TYPES) - 1;
  o.roles = TRUE;
  g_date_clear (&o.ref, 1);
  g_date_clear (&o.fallback, 1);
  GPtrArray *docs = g_ptr_array_new ();
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline (&line, &cap, stdin)) > 0)
    {
      json_object *obj = json_tokener_parse (line);
      if (obj != NULL)
        g_ptr_array_add (docs, obj);
    }
  free (line);
  if (speed)
    {
      gsize tokens = 0, bytes = 0;
      for (guint i = 0; i < docs->len; i++)
        {
          json_object *t;
          json_object_object_get_ex (docs->pdata[i], "text", &t);
          const char *text = json_object_get_string (t);
          guint n;
          ner_tokenize (model, s, text, strlen (text), &n);
          tokens += n;
          bytes += strlen (text);
        }
      /* best of REPEAT, wall clock and the thread's CPU time (steadier
       * on a shared machine), of the tokenizer alone, the tokenizer and
       * the tagger, and the whole extraction */
      gint64 best[3] = { G_MAXINT64, G_MAXINT64, G_MAXINT64 }, best_cpu[3] = { G_MAXINT64, G_MAXINT64, G_MAXINT64 };
      for (int r = 0; r < repeat; r++)
        for (int what = 0; what < 3; what++)
          {
            gint64 a = g_get_monotonic_time (), ac = thread_cpu_us ();
            for (guint i = 0; i < docs->len; i++)
              {
                json_object *t;
                json_object_object_get_ex (docs->pdata[i], "text", &t);
                const char *text = json_object_get_string (t);
                gsize tlen = strlen (text);
                if (what == 2)
                  {
                    ner_extract (model, s, text, tlen, &o);
                    continue;
                  }
                /* in chunks of about 64 KB cut at a line end, near what
                 * ner_extract () does (the BBC articles are one chunk) */
                for (gsize from = 0; from < tlen;)
                  {
                    gsize to = MIN (tlen, from + 65536);
                    const char *nl = to < tlen ? memchr (text + to, '\n', tlen - to) : NULL;
                    to = nl != NULL ? (gsize) (nl - text) + 1 : tlen;
                    guint n;
                    NerToken *toks = ner_tokenize (model, s, text + from, to - from, &n);
                    if (what == 1)
                      ner_tag (model, s, text + from, toks, n);
                    from = to;
                  }
              }
            best[what] = MIN (best[what], g_get_monotonic_time () - a);
            best_cpu[what] = MIN (best_cpu[what], thread_cpu_us () - ac);
          }
      printf ("load: %.1f ms\n", t_load / 1000.0);
      printf ("documents: %u, tokens: %zu, bytes: %zu\n", docs->len, tokens, bytes);
      printf ("tokenize (best of %d): %.1f ms wall, %.1f ms CPU\n", repeat, best[0] / 1000.0, best_cpu[0] / 1000.0);
      printf ("tokenize + tag (best of %d): %.1f ms wall, %.1f ms CPU\n", repeat, best[1] / 1000.0,
              best_cpu[1] / 1000.0);
      printf ("extract (best of %d): %.1f ms, %.0f tokens/s, %.1f MB/s (one thread); CPU %.1f ms, %.0f tokens/s\n",
              repeat, best[2] / 1000.0, tokens / (best[2] / 1e6), bytes / (best[2] / 1e6) / 1e6,
              best_cpu[2] / 1000.0, tokens / (best_cpu[2] / 1e6));
    }
  else
    for (guint i = 0; i < docs->len; i++)
      {
        json_object *doc = docs->pdata[i], *t, *id;
        json_object_object_get_ex (doc, "text", &t);
        const char *text = json_object_get_string (t);
        GArray *m = ner_extract (model, s, text, strlen (text), &o);
        json_object *out = json_object_new_object ();
        if (json_object_object_get_ex (doc, "id", &id))
          json_object_object_add (out, "id", json_object_get (id));
        json_object_object_add (out, "text", json_object_get (t));
        json_object *arr = json_object_new_array ();
        for (guint k = 0; k < m->len; k++)
          {
            const NerMention *x = &g_array_index (m, NerMention, k);
            json_object *e = json_object_new_object ();
            json_object_object_add (e, "start", json_object_new_int64 (x->start));
            json_object_object_add (e, "end", json_object_new_int64 (x->end));
            json_object_object_add (e, "type", json_object_new_string (ner_type_names[x->type]));
            if (x->canonical)
              json_object_object_add (e, "canonical", json_object_new_string (x->canonical));
            if (x->role)
              json_object_object_add (e, "role", json_object_new_string (x->role));
            json_object_array_add (arr, e);
          }
        json_object_object_add (out, "entities", arr);
        puts (json_object_to_json_string_ext (out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put (out);
      }
  for (guint i = 0; i < docs->len; i++)
    json_object_put (docs->pdata[i]);
  g_ptr_array_unref (docs);
  ner_scratch_free (s);
  ner_model_free (model);
  return 0;
}
