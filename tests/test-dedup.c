/* test-dedup.c: the dedup stage end to end: verdicts, fields, repeated
 * paragraphs, the state directory across runs, bad input and bad state,
 * the lock, and the `galley dedup` maintenance command. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char base_text[] =
  "Port workers walk out over pay\n\n"
  "Dock workers at the Port of Velmora began an indefinite strike on Monday after talks on a new "
  "wage agreement collapsed late on Sunday night, the union said.\n\n"
  "The union wants a rise of seven percent over two years, while the port authority has offered "
  "four percent and a one-off payment to every employee on the payroll.\n\n"
  "Shipping companies said vessels were already queueing outside the harbour and warned that "
  "deliveries of fuel and grain could be delayed by a week or more if the dispute continues.\n\n"
  "A spokesman for the authority said it remained open to further talks and hoped a deal could "
  "be reached before the end of the month.";

/* Writes stdin(jsonl) -> dedup -> export-jsonl to out.jsonl; @options are
 * extra lines of the dedup group. */
static void
write_pipeline (Fixture *f, const char *options)
{
  g_autofree char *content = g_strdup_printf (
      "[pipeline]\nstages=in;dedup;out\nstats=run.stats.json\nrejects=\nthreads=2\n\n"
      "[stage in]\nplugin=stdin\nformat=jsonl\n\n"
      "[stage dedup]\nplugin=dedup\n%s\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\nfsync=false\n",
      options ? options : "");
  galley_test_write (f->dir, "t.pipeline", content, -1);
}

static void
append_record (GString *in, const char *id, const char *text)
{
  g_string_append (in, "{\"id\":");
  galley_json_escape_append (in, id, strlen (id));
  g_string_append (in, ",\"text\":");
  galley_json_escape_append (in, text, strlen (text));
  g_string_append (in, "}\n");
}

static RunResult *
run (Fixture *f, const char *input, const char *first_set, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_ptr_array_add (args, "run");
  g_ptr_array_add (args, "-q");
  g_ptr_array_add (args, "t.pipeline");
  va_list ap;
  va_start (ap, first_set);
  for (const char *s = first_set; s != NULL; s = va_arg (ap, const char *))
    {
      g_ptr_array_add (args, "--set");
      g_ptr_array_add (args, (gpointer) s);
    }
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return galley_test_runv (f->dir, input, (const char *const *) args->pdata);
}

static GPtrArray *
read_output (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, "out.jsonl", NULL);
  return galley_test_read_jsonl (path);
}

static gint64
stats_dropped (Fixture *f, const char *reason)
{
  g_autofree char *path = g_build_filename (f->dir, "run.stats.json", NULL);
  g_autoptr(json_object) stats = json_object_from_file (path);
  g_assert_nonnull (stats);
  json_object *stages = NULL, *dropped = NULL, *v = NULL;
  g_assert_true (json_object_object_get_ex (stats, "stages", &stages));
  json_object_object_get_ex (json_object_array_get_idx (stages, 1), "dropped", &dropped);
  return json_object_object_get_ex (dropped, reason, &v) ? json_object_get_int64 (v) : 0;
}

static json_object *
dedup_field (json_object *rec)
{
  json_object *d = NULL;
  g_assert_true (json_object_object_get_ex (rec, "dedup", &d));
  return d;
}

/* ---- within one run ---- */

static void
test_empty_and_one_word (Fixture *f, gconstpointer data)
{
  write_pipeline (f, NULL);
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "e1", "");
  append_record (in, "e2", "  \n\n ");
  append_record (in, "w1", "Hello");
  append_record (in, "w2", "hello!");
  append_record (in, "w3", "Goodbye");
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  /* texts without words are kept (not compared); hello! is hello */
  g_assert_cmpuint (out->len, ==, 4);
  g_assert_cmpstr (galley_test_get_string (out->pdata[0], "id"), ==, "e1");
  g_assert_cmpstr (galley_test_get_string (out->pdata[1], "id"), ==, "e2");
  g_assert_cmpstr (galley_test_get_string (out->pdata[2], "id"), ==, "w1");
  g_assert_cmpstr (galley_test_get_string (out->pdata[3], "id"), ==, "w3");
  g_assert_cmpint (stats_dropped (f, "duplicate"), ==, 1);
}

static void
test_whitespace_and_typography (Fixture *f, gconstpointer data)
{
  write_pipeline (f, "mode=annotate");
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "a", "The union said: \"We won't accept it\" - a first.\n\nSecond paragraph here.");
  append_record (in, "b", "  the UNION said:\r\n\u201cWe won\u2019t   accept it\u201d \u2013 a\tfirst.\r\n\r\n\r\nSecond\u00a0paragraph here.  ");
  append_record (in, "c", "The union said: \u00e2\u20ac\u0153We won\u00e2\u20ac\u2122t accept it\u00e2\u20ac\xc2\x9d" " - a first.\n\nSecond paragraph here.");
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 3);
  json_object *b = dedup_field (out->pdata[1]), *c = dedup_field (out->pdata[2]);
  g_assert_cmpstr (galley_test_get_string (b, "duplicate_of"), ==, "a");
  g_assert_cmpstr (galley_test_get_string (b, "cluster"), ==, "a");
  g_assert_cmpstr (galley_test_get_string (c, "duplicate_of"), ==, "a");   /* mojibake folded */
  json_object *sim = NULL;
  g_assert_true (json_object_object_get_ex (b, "similarity", &sim));
  g_assert_cmpfloat (json_object_get_double (sim), ==, 1.0);
  g_assert_cmpstr (galley_test_get_string (dedup_field (out->pdata[0]), "cluster"), ==, "a");
  g_assert_null (galley_test_get_string (dedup_field (out->pdata[0]), "duplicate_of"));
}

static char *
edit_words (const char *text, guint every)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (i % every == every - 1)
      {
        g_free (words[i]);
        words[i] = g_strdup_printf ("changed%u", i);
      }
  return g_strjoinv (" ", words);
}

static void
test_near_duplicates_and_teaser (Fixture *f, gconstpointer data)
{
  write_pipeline (f, NULL);
  g_autofree char *edited = edit_words (base_text, 25);
  g_autofree char *teaser = g_strndup (base_text, strstr (base_text, "Shipping") - base_text);
  g_autofree char *teaser_more = g_strconcat (teaser, "Read more", NULL);
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "orig", base_text);
  append_record (in, "edit", edited);
  append_record (in, "teaser", teaser_more);
  append_record (in, "other", "A completely different story about a museum theft in a small town, where "
                 "thieves took three paintings and a golden cup from the local gallery overnight.");
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 2);
  g_assert_cmpstr (galley_test_get_string (out->pdata[0], "id"), ==, "orig");
  g_assert_cmpstr (galley_test_get_string (out->pdata[1], "id"), ==, "other");
  g_assert_cmpint (stats_dropped (f, "near-duplicate"), ==, 2);
}

/* The pair note of @id in the dedup stage's report sample (the stats
 * file carries it), or NULL. */
static json_object *
pair_note (json_object *stats, const char *id)
{
  json_object *stages = NULL, *samples = NULL, *notes = NULL;
  g_assert_true (json_object_object_get_ex (stats, "stages", &stages));
  if (!json_object_object_get_ex (json_object_array_get_idx (stages, 1), "samples", &samples))
    return NULL;
  for (gsize i = 0; i < json_object_array_length (samples); i++)
    {
      json_object *s = json_object_array_get_idx (samples, i);
      if (g_strcmp0 (galley_test_get_string (s, "id"), id) != 0 || !json_object_object_get_ex (s, "notes", &notes))
        continue;
      for (gsize k = 0; k < json_object_array_length (notes); k++)
        if (g_strcmp0 (galley_test_get_string (json_object_array_get_idx (notes, k), "kind"), "pair") == 0)
          return json_object_array_get_idx (notes, k);
    }
  return NULL;
}

static gint64
note_int (json_object *note, const char *key)
{
  json_object *v = NULL;
  g_assert_true (json_object_object_get_ex (note, key, &v));
  return json_object_get_int64 (v);
}

/* With a report, a duplicate's pair shows the passage it shares with the
 * document it matched: the longest run of shared sentences, and how many
 * it shares; a match from an earlier run has no text to compare, unless
 * it is the same text. */
static void
test_report_shared_passage (Fixture *f, gconstpointer data)
{
  write_pipeline (f, "state-dir=state");
  g_autoptr(GString) text = g_string_new (base_text);
  g_string_replace (text, "fuel and grain", "coal and grain", 1);
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "orig", base_text);
  append_record (in, "edit", text->str);
  g_autoptr(RunResult) r = run (f, in->str, "pipeline.report=run.html", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(json_object) stats = galley_test_read_json (f->dir, "run.stats.json");
  json_object *note = pair_note (stats, "edit");
  g_assert_nonnull (note);
  g_assert_cmpstr (galley_test_get_string (note, "other"), ==, "orig");
  /* the title and four sentences; the third sentence differs */
  g_assert_cmpint (note_int (note, "sentences"), ==, 5);
  g_assert_cmpint (note_int (note, "shared"), ==, 4);
  const char *passage = galley_test_get_string (note, "passage");
  g_assert_true (g_str_has_prefix (passage, "Port workers walk out over pay\n\nDock workers"));
  g_assert_true (g_str_has_suffix (passage, "on the payroll."));
  g_autofree char *html = NULL;
  g_autofree char *html_path = g_build_filename (f->dir, "run.html", NULL);
  g_assert_true (g_file_get_contents (html_path, &html, NULL, NULL));
  g_assert_nonnull (strstr (html, "Shared passage (4 of this document's 5 sentences are in the matched one):"));

  /* the next run matches the index: the same text shares all of it, an
   * edited one says why there is no passage */
  g_autoptr(GString) in2 = g_string_new (NULL);
  append_record (in2, "copy", base_text);
  g_string_replace (text, "coal and grain", "oil and grain", 1);
  append_record (in2, "edit2", text->str);
  g_autoptr(RunResult) r2 = run (f, in2->str, "pipeline.report=run.html", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autoptr(json_object) stats2 = galley_test_read_json (f->dir, "run.stats.json");
  json_object *copy = pair_note (stats2, "copy"), *edit2 = pair_note (stats2, "edit2");
  g_assert_nonnull (copy);
  g_assert_cmpint (note_int (copy, "shared"), ==, 5);
  g_assert_cmpstr (galley_test_get_string (copy, "passage"), ==, base_text);
  g_assert_nonnull (edit2);
  g_assert_nonnull (galley_test_get_string (edit2, "other"));
  g_assert_nonnull (galley_test_get_string (edit2, "passage_unknown"));
  g_assert_null (galley_test_get_string (edit2, "passage"));
}

static void
test_policy_longest (Fixture *f, gconstpointer data)
{
  write_pipeline (f, "mode=annotate\npolicy=longest");
  g_autofree char *teaser = g_strndup (base_text, strstr (base_text, "A spokesman") - base_text);
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "short", teaser);
  append_record (in, "long", base_text);
  append_record (in, "copy", teaser);
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 3);
  json_object *l = dedup_field (out->pdata[1]);
  g_assert_cmpstr (galley_test_get_string (l, "cluster"), ==, "long");
  g_assert_cmpstr (galley_test_get_string (l, "replaces"), ==, "short");
  g_assert_cmpstr (galley_test_get_string (dedup_field (out->pdata[2]), "duplicate_of"), ==, "long");
}

static void
test_repeated_paragraphs (Fixture *f, gconstpointer data)
{
  write_pipeline (f, NULL);
  const char *lede = "Record flood on the Vessa river forces thousands from their homes as water levels rise again.";
  g_autofree char *text = g_strdup_printf ("Flood\n\n%s\n\n%s\n\nThe army was called in to help with sandbags "
                                           "along the banks of the river near the old town.\n\n"
                                           "%s!\n\nThe end.", lede, lede, lede);
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "p", text);
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 1);
  const char *got = galley_test_get_string (out->pdata[0], "text");
  g_assert_nonnull (strstr (got, lede));
  g_assert_null (strstr (strstr (got, lede) + 1, "Record flood"));
  g_assert_true (g_str_has_suffix (got, "The end."));
  json_object *repairs = NULL, *n = NULL;
  g_assert_true (json_object_object_get_ex (out->pdata[0], "repairs", &repairs));
  gint64 count = -1;
  for (gsize i = 0; i < json_object_array_length (repairs); i++)
    {
      json_object *item = json_object_array_get_idx (repairs, i);
      if (g_strcmp0 (galley_test_get_string (item, "kind"), "repeated-paragraph") == 0
          && json_object_object_get_ex (item, "count", &n))
        count = json_object_get_int64 (n);
    }
  g_assert_cmpint (count, ==, 2);
}

static void
test_ten_thousand_copies (Fixture *f, gconstpointer data)
{
  write_pipeline (f, NULL);
  g_autoptr(GString) in = g_string_new (NULL);
  for (guint i = 0; i < 10000; i++)
    {
      g_autofree char *id = g_strdup_printf ("copy-%05u", i);
      append_record (in, id, base_text);
    }
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 1);
  g_assert_cmpstr (galley_test_get_string (out->pdata[0], "id"), ==, "copy-00000");
  g_assert_cmpint (stats_dropped (f, "duplicate"), ==, 9999);
}

static void
test_huge_document (Fixture *f, gconstpointer data)
{
  if (g_getenv ("GALLEY_TEST_WRAPPER") != NULL)
    {
      g_test_skip ("50 MB under valgrind takes too long");
      return;
    }
  write_pipeline (f, NULL);
  g_autoptr(GString) text = g_string_sized_new (51 << 20);
  for (guint i = 0; text->len < (50u << 20); i++)
    g_string_append_printf (text, "Paragraph %u says word%u and word%u again.\n\n", i, i * 7, i * 13);
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "huge", text->str);
  append_record (in, "huge-again", text->str);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 60 * G_USEC_PER_SEC);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 1);
  g_assert_cmpint (stats_dropped (f, "duplicate"), ==, 1);
}

/* ---- across runs: the state directory ---- */

static void
test_state_dir_created_and_remembered (Fixture *f, gconstpointer data)
{
  write_pipeline (f, "state-dir=state/news");
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "a", base_text);
  g_autoptr(RunResult) r1 = run (f, in->str, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_autofree char *index = g_build_filename (f->dir, "state", "news", "index.sqlite", NULL);
  g_assert_true (g_file_test (index, G_FILE_TEST_EXISTS));

  g_autoptr(GString) in2 = g_string_new (NULL);
  g_autofree char *edited = edit_words (base_text, 30);
  append_record (in2, "b", edited);
  append_record (in2, "c", "An unrelated article about the weather, which was sunny and warm for most "
                 "of the week across the whole region according to forecasters.");
  g_autoptr(RunResult) r2 = run (f, in2->str, "dedup.mode=annotate", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 2);
  g_assert_cmpstr (galley_test_get_string (dedup_field (out->pdata[0]), "duplicate_of"), ==, "a");
  g_assert_null (galley_test_get_string (dedup_field (out->pdata[1]), "duplicate_of"));

  /* mkdir=false refuses a missing directory */
  g_autoptr(RunResult) r3 = run (f, in->str, "dedup.state-dir=elsewhere", "dedup.mkdir=false", NULL);
  g_assert_cmpint (r3->status, ==, 73);
  g_assert_nonnull (strstr (r3->err, "elsewhere does not exist"));

  /* check and dry runs write nothing */
  g_autoptr(RunResult) c = galley_test_run (f->dir, NULL, "check", "t.pipeline", "--set", "dedup.state-dir=other", NULL);
  g_assert_cmpint (c->status, ==, 0);
  g_autofree char *other = g_build_filename (f->dir, "other", NULL);
  g_assert_false (g_file_test (other, G_FILE_TEST_EXISTS));
}

/* An empty index file, as a first run killed while it opened the index
 * leaves: a dry run treats it as no index, a real run makes it one. */
static void
test_state_dir_empty_index (Fixture *f, gconstpointer data)
{
  write_pipeline (f, "state-dir=state");
  galley_test_write (f->dir, "state/index.sqlite", "", 0);
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "a", base_text);
  g_autoptr(RunResult) r0 = galley_test_run (f->dir, in->str, "run", "-q", "--dry-run", "t.pipeline", NULL);
  g_assert_cmpint (r0->status, ==, 0);
  g_assert_true (r0->err == NULL || strstr (r0->err, "index") == NULL);
  g_autoptr(RunResult) r1 = run (f, in->str, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_autoptr(GString) in2 = g_string_new (NULL);
  append_record (in2, "b", base_text);
  g_autoptr(RunResult) r2 = run (f, in2->str, "dedup.mode=annotate", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 1);
  /* the second run knows "a" from the first: the index works */
  g_assert_cmpstr (galley_test_get_string (dedup_field (out->pdata[0]), "duplicate_of"), ==, "a");
}

static void
test_state_dir_read_only (Fixture *f, gconstpointer data)
{
  if (geteuid () == 0)
    {
      g_test_skip ("root ignores file permissions");
      return;
    }
  write_pipeline (f, "state-dir=state");
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "a", base_text);
  g_autoptr(RunResult) r1 = run (f, in->str, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_autofree char *state = g_build_filename (f->dir, "state", NULL);
  g_assert_cmpint (g_chmod (state, 0555), ==, 0);
  g_autoptr(RunResult) r2 = run (f, in->str, NULL);
  g_assert_cmpint (r2->status, ==, 73);
  g_assert_nonnull (strstr (r2->err, "is not writable"));
}

/* Creates an index with one document in f->dir/state. */
static char *
make_index (Fixture *f)
{
  write_pipeline (f, "state-dir=state");
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "a", base_text);
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 0);
  return g_build_filename (f->dir, "state", "index.sqlite", NULL);
}

static void
test_state_newer_format (Fixture *f, gconstpointer data)
{
  g_autofree char *sqlite3 = g_find_program_in_path ("sqlite3");
  if (sqlite3 == NULL)
    {
      g_test_skip ("needs the sqlite3 program");
      return;
    }
  g_autofree char *index = make_index (f);
  g_autofree char *cmd = g_strdup_printf ("%s '%s' \"UPDATE meta SET value='3' WHERE key='format'\"", sqlite3, index);
  int status = 0;
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL));
  g_assert_cmpint (status, ==, 0);
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "b", base_text);
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 78);
  g_assert_nonnull (strstr (r->err, "index format 3, newer than the 2"));
  g_autoptr(RunResult) s = galley_test_run (f->dir, NULL, "dedup", "stats", "state", NULL);
  g_assert_cmpint (s->status, ==, 78);
}

static void
test_state_corrupt (Fixture *f, gconstpointer data)
{
  g_autofree char *index = make_index (f);
  /* not a database at all */
  galley_test_write (f->dir, "state/index.sqlite", "this is not a database, it is a shopping list\n", -1);
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "b", base_text);
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, !=, 0);
  g_assert_nonnull (strstr (r->err, "is not a dedup index"));
  g_autofree char *content = NULL;
  g_assert_true (g_file_get_contents (index, &content, NULL, NULL));
  g_assert_cmpstr (content, ==, "this is not a database, it is a shopping list\n");   /* never reset */
  /* an SQLite header with garbage behind it */
  g_autoptr(GString) bad = g_string_new_len ("SQLite format 3\0", 16);
  for (guint i = 0; i < 8192; i++)
    g_string_append_c (bad, (char) (i * 37));
  galley_test_write (f->dir, "state/index.sqlite", bad->str, bad->len);
  g_autoptr(RunResult) r2 = run (f, in->str, NULL);
  g_assert_cmpint (r2->status, !=, 0);
  g_assert_nonnull (strstr (r2->err, "state-dir"));
  g_assert_nonnull (strstr (r2->err, "index.sqlite"));
  gsize len = 0;
  g_autofree char *after = NULL;
  g_assert_true (g_file_get_contents (index, &after, &len, NULL));
  g_assert_cmpuint (len, ==, bad->len);
}

static void
test_two_runs_at_once (Fixture *f, gconstpointer data)
{
  g_autofree char *index = make_index (f);
  g_autofree char *lock = g_build_filename (f->dir, "state", "lock", NULL);
  int fd = open (lock, O_RDWR | O_CREAT, 0666);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);     /* another run holds it */
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "b", "Some other article about trains and timetables and the new station.");
  g_autoptr(RunResult) r = run (f, in->str, "dedup.lock-timeout=300ms", NULL);
  g_assert_cmpint (r->status, ==, 75);   /* lock held: cron retries later */
  g_assert_nonnull (strstr (r->err, "locked by another run"));
  g_autoptr(RunResult) cmd = galley_test_run (f->dir, NULL, "dedup", "compact", "state", NULL);
  g_assert_cmpint (cmd->status, ==, 75);
  close (fd);
  g_autoptr(RunResult) r2 = run (f, in->str, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autoptr(RunResult) s = galley_test_run (f->dir, NULL, "dedup", "stats", "--json", "state", NULL);
  g_assert_cmpint (s->status, ==, 0);
  g_autoptr(json_object) stats = json_tokener_parse (s->out);
  json_object *docs = NULL;
  g_assert_true (json_object_object_get_ex (stats, "documents", &docs));
  g_assert_cmpint (json_object_get_int (docs), ==, 2);
}

static void
test_failed_run_leaves_index (Fixture *f, gconstpointer data)
{
  g_autofree char *index = make_index (f);
  /* the sink cannot write: the run fails, the index keeps one document */
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "b", "Some other article about trains and timetables and the new station.");
  g_autofree char *blocker = g_build_filename (f->dir, "out.jsonl", NULL);
  g_unlink (blocker);
  g_assert_cmpint (g_mkdir (blocker, 0755), ==, 0);      /* a directory where the file should go */
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, !=, 0);
  g_autoptr(RunResult) s = galley_test_run (f->dir, NULL, "dedup", "stats", "--json", "state", NULL);
  g_autoptr(json_object) stats = json_tokener_parse (s->out);
  json_object *docs = NULL;
  g_assert_true (json_object_object_get_ex (stats, "documents", &docs));
  g_assert_cmpint (json_object_get_int (docs), ==, 1);
}

/* The segment files (seg-*.dd) in DIR/state, sorted. */
static GPtrArray *
list_segments (Fixture *f)
{
  g_autofree char *state = g_build_filename (f->dir, "state", NULL);
  g_autoptr(GDir) d = g_dir_open (state, 0, NULL);
  g_assert_nonnull (d);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "seg-") || g_str_has_prefix (name, ".segment-"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  return names;
}

static gint64
stats_number (Fixture *f, const char *key)
{
  g_autoptr(RunResult) s = galley_test_run (f->dir, NULL, "dedup", "stats", "--json", "state", NULL);
  g_assert_cmpint (s->status, ==, 0);
  g_autoptr(json_object) stats = json_tokener_parse (s->out);
  json_object *v = NULL;
  g_assert_true (json_object_object_get_ex (stats, key, &v));
  return json_object_get_int64 (v);
}

static void
test_segments (Fixture *f, gconstpointer data)
{
  g_autofree char *index = make_index (f);
  g_autoptr(GPtrArray) one = list_segments (f);
  g_assert_cmpuint (one->len, ==, 1);
  /* a segment no transaction registered (a run killed before its COMMIT)
   * is ignored, and removed by the next run */
  galley_test_write (f->dir, "state/seg-0000000002-0badf00d.dd", "left over by a killed run", -1);
  galley_test_write (f->dir, "state/.segment-Ab12Cd", "half written", -1);
  g_autoptr(GString) in = g_string_new (NULL);
  g_autofree char *edited = edit_words (base_text, 30);
  append_record (in, "b", edited);
  append_record (in, "c", "An unrelated article about the weather, which was sunny and warm for most "
                 "of the week across the whole region according to forecasters.");
  g_autoptr(RunResult) r = run (f, in->str, "dedup.mode=annotate", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 2);
  g_assert_cmpstr (galley_test_get_string (dedup_field (out->pdata[0]), "duplicate_of"), ==, "a");
  g_autoptr(GPtrArray) two = list_segments (f);
  g_assert_cmpuint (two->len, ==, 2);
  for (guint i = 0; i < two->len; i++)
    g_assert_false (g_str_equal (two->pdata[i], "seg-0000000002-0badf00d.dd"));
  g_assert_cmpint (stats_number (f, "segments"), ==, 2);
  g_assert_cmpint (stats_number (f, "documents"), ==, 3);

  /* compact merges them into one; copies are still found */
  g_autoptr(RunResult) c = galley_test_run (f->dir, NULL, "dedup", "compact", "state", NULL);
  g_assert_cmpint (c->status, ==, 0);
  g_autoptr(GPtrArray) merged = list_segments (f);
  g_assert_cmpuint (merged->len, ==, 1);
  g_assert_cmpint (stats_number (f, "segments"), ==, 1);
  g_autoptr(GString) in2 = g_string_new (NULL);
  append_record (in2, "a-again", base_text);
  append_record (in2, "b-again", edited);
  g_autoptr(RunResult) r2 = run (f, in2->str, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autoptr(GPtrArray) out2 = read_output (f);
  g_assert_cmpuint (out2->len, ==, 0);
  g_assert_cmpint (stats_dropped (f, "duplicate"), ==, 2);
}

static void
test_segment_damaged (Fixture *f, gconstpointer data)
{
  g_autofree char *index = make_index (f);
  g_autoptr(GPtrArray) segs = list_segments (f);
  g_assert_cmpuint (segs->len, ==, 1);
  g_autofree char *path = g_build_filename (f->dir, "state", segs->pdata[0], NULL);
  g_autofree char *content = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &content, &len, NULL));
  g_assert_true (g_file_set_contents (path, content, len / 2, NULL));    /* cut in half */
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "b", base_text);
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 74);
  g_assert_nonnull (strstr (r->err, "is damaged"));
  gsize after = 0;
  g_autofree char *kept = NULL;
  g_assert_true (g_file_get_contents (path, &kept, &after, NULL));
  g_assert_cmpuint (after, ==, len / 2);                                  /* never rewritten */
  /* a registered segment that is missing */
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_autoptr(RunResult) r2 = run (f, in->str, NULL);
  g_assert_cmpint (r2->status, ==, 74);
  g_assert_nonnull (strstr (r2->err, "missing"));
}

static void
test_command (Fixture *f, gconstpointer data)
{
  g_autofree char *index = make_index (f);
  g_autoptr(RunResult) h = galley_test_run (f->dir, NULL, "dedup", "--help", NULL);
  g_assert_cmpint (h->status, ==, 0);
  g_assert_nonnull (strstr (h->out, "forget --older-than"));
  g_autoptr(RunResult) none = galley_test_run (f->dir, NULL, "dedup", NULL);
  g_assert_cmpint (none->status, ==, 64);
  g_autoptr(RunResult) bad = galley_test_run (f->dir, NULL, "dedup", "frob", "state", NULL);
  g_assert_cmpint (bad->status, ==, 64);
  g_autoptr(RunResult) noarg = galley_test_run (f->dir, NULL, "dedup", "forget", "state", NULL);
  g_assert_cmpint (noarg->status, ==, 64);
  g_autoptr(RunResult) missing = galley_test_run (f->dir, NULL, "dedup", "stats", "nowhere", NULL);
  g_assert_cmpint (missing->status, ==, 66);
  g_autoptr(RunResult) st = galley_test_run (f->dir, NULL, "dedup", "stats", "state", NULL);
  g_assert_cmpint (st->status, ==, 0);
  g_assert_nonnull (strstr (st->out, "documents:    1 in 1 clusters"));
  g_autoptr(RunResult) keep = galley_test_run (f->dir, NULL, "dedup", "forget", "--older-than", "30d", "state", NULL);
  g_assert_cmpint (keep->status, ==, 0);
  g_assert_nonnull (strstr (keep->out, "forgot 0 documents"));
  g_usleep (2100 * 1000);   /* times are whole seconds */
  g_autoptr(RunResult) all = galley_test_run (f->dir, NULL, "dedup", "forget", "--older-than=1s", "state", NULL);
  g_assert_cmpint (all->status, ==, 0);
  g_assert_nonnull (strstr (all->out, "forgot 1 documents"));
  g_autoptr(RunResult) c = galley_test_run (f->dir, NULL, "dedup", "compact", "state", NULL);
  g_assert_cmpint (c->status, ==, 0);
  /* the forgotten article is new again */
  g_autoptr(GString) in = g_string_new (NULL);
  append_record (in, "again", base_text);
  g_autoptr(RunResult) r = run (f, in->str, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) out = read_output (f);
  g_assert_cmpuint (out->len, ==, 1);
}

static void
test_options_checked (Fixture *f, gconstpointer data)
{
  write_pipeline (f, NULL);
  const char *bad[] = { "dedup.threshold=0", "dedup.threshold=1.5", "dedup.ngram=0", "dedup.hashes=8",
                        "dedup.bands=99", "dedup.containment=2", "dedup.min-words=-1" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", "t.pipeline", "--set", bad[i], NULL);
      g_assert_cmpint (r->status, ==, 78);
    }
  g_autoptr(RunResult) ok = galley_test_run (f->dir, NULL, "inspect", "dedup", NULL);
  g_assert_cmpint (ok->status, ==, 0);
  g_assert_nonnull (strstr (ok->out, "state-dir"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);   /* every test works in its own galley_test_mkdtemp () */
  ADD ("/dedup/empty-and-one-word", test_empty_and_one_word);
  ADD ("/dedup/whitespace-and-typography", test_whitespace_and_typography);
  ADD ("/dedup/near-duplicates-and-teaser", test_near_duplicates_and_teaser);
  ADD ("/dedup/report-shared-passage", test_report_shared_passage);
  ADD ("/dedup/policy-longest", test_policy_longest);
  ADD ("/dedup/repeated-paragraphs", test_repeated_paragraphs);
  ADD ("/dedup/ten-thousand-copies", test_ten_thousand_copies);
  ADD ("/dedup/huge-document", test_huge_document);
  ADD ("/dedup/state/created-and-remembered", test_state_dir_created_and_remembered);
  ADD ("/dedup/state/read-only", test_state_dir_read_only);
  ADD ("/dedup/state/empty-index", test_state_dir_empty_index);
  ADD ("/dedup/state/newer-format", test_state_newer_format);
  ADD ("/dedup/state/corrupt", test_state_corrupt);
  ADD ("/dedup/state/two-runs-at-once", test_two_runs_at_once);
  ADD ("/dedup/state/failed-run", test_failed_run_leaves_index);
  ADD ("/dedup/state/segments", test_segments);
  ADD ("/dedup/state/segment-damaged", test_segment_damaged);
  ADD ("/dedup/command", test_command);
  ADD ("/dedup/options", test_options_checked);
  return g_test_run ();
}
