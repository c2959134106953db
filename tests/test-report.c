/* test-report.c: the HTML run report (report= and `galley report`), the
 * samples it shows, the stats file read back, and `galley explain`. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

/* files -> repair -> strip -> dedup -> entities -> export-jsonl over the
 * sample articles, with a report. */
static void
write_articles_pipeline (Fixture *f, const char *extra)
{
  g_autofree char *articles = galley_test_srcpath ("examples", "articles", NULL);
  g_autofree char *content = g_strdup_printf (
      "[pipeline]\nstages=articles;repair;strip;dedup;entities;output\nstats=run.stats.json\n"
      "rejects=run.rejects.jsonl\nreport=run.html\n%s\n"
      "[stage articles]\nplugin=files\npaths=%s\nexclude=.*;*~;README.md\n\n"
      "[stage repair]\nplugin=repair\n\n[stage strip]\nplugin=strip\n\n"
      "[stage dedup]\nplugin=dedup\nmode=annotate\n\n[stage entities]\nplugin=entities\n\n"
      "[stage output]\nplugin=export-jsonl\npath=out.jsonl\n",
      extra ? extra : "", articles);
  galley_test_write (f->dir, "articles.pipeline", content, -1);
}

static char *
read_file (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static void
assert_contains (const char *text, const char *what)
{
  if (strstr (text, what) == NULL)
    g_error ("expected to find «%s» in the output", what);
}

/* Nothing that loads from elsewhere: no element that fetches, no
 * attribute that points out (a page's source shown in the report is
 * escaped: its "src=&quot;" is text), nothing in the style sheet. */
static void
assert_self_contained (const char *html)
{
  g_assert_true (g_str_has_prefix (html, "<!DOCTYPE html>"));
  const char *tags[] = { "<script", "<link", "<img", "<iframe", "<object", "<embed", "<video", "<audio",
                         "<source", "<base", "<form" };
  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    g_assert_null (strstr (html, tags[i]));
  const char *attrs[] = { " src=\"", " src='", " href=\"", " href='", " srcset=\"", " action=\"", " action='" };
  for (guint i = 0; i < G_N_ELEMENTS (attrs); i++)
    g_assert_null (strstr (html, attrs[i]));
  const char *style = strstr (html, "<style>"), *style_end = style ? strstr (style, "</style>") : NULL;
  g_assert_nonnull (style_end);
  g_autofree char *css = g_strndup (style, style_end - style);
  g_assert_null (strstr (css, "url("));
  g_assert_null (strstr (css, "@import"));
  g_assert_null (strstr (style_end + 1, "<style"));
}

/* The ids of the samples of every stage, as "stage:id\n" lines. */
static char *
sample_ids (Fixture *f)
{
  g_autoptr(json_object) stats = galley_test_read_json (f->dir, "run.stats.json");
  json_object *stages = NULL;
  g_assert_true (json_object_object_get_ex (stats, "stages", &stages));
  GString *ids = g_string_new (NULL);
  for (gsize i = 0; i < json_object_array_length (stages); i++)
    {
      json_object *s = json_object_array_get_idx (stages, i), *samples = NULL;
      if (!json_object_object_get_ex (s, "samples", &samples))
        continue;
      for (gsize k = 0; k < json_object_array_length (samples); k++)
        g_string_append_printf (ids, "%s:%s\n", galley_test_get_string (s, "id"),
                                galley_test_get_string (json_object_array_get_idx (samples, k), "id"));
    }
  return g_string_free (ids, FALSE);
}

static void
test_run_writes_report (Fixture *f, gconstpointer data)
{
  write_articles_pipeline (f, NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "articles.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *html = read_file (f, "run.html");
  assert_self_contained (html);
  /* the summary and every stage with its counts */
  assert_contains (html, "galley run report: articles");
  const char *stages[] = { "articles", "repair", "strip", "dedup", "entities", "output" };
  for (guint i = 0; i < G_N_ELEMENTS (stages); i++)
    {
      g_autofree char *row = g_strdup_printf ("<tr><td>%s</td>", stages[i]);
      assert_contains (html, row);
    }
  assert_contains (html, "<td class=\"n\">12</td>");
  /* charts */
  assert_contains (html, "<svg");
  assert_contains (html, "aria-label=\"documents per stage\"");
  assert_contains (html, "aria-label=\"share of stage time\"");
  /* what the stages did: a repair as a character diff, strip's removed
   * lines with their reason, dedup's pair, entities highlighted */
  assert_contains (html, "<h3>repair</h3>");
  assert_contains (html, "<ins>");
  assert_contains (html, "<del class=\"rm\" title=\"");
  assert_contains (html, "matched document");
  assert_contains (html, "Shared passage (");
  assert_contains (html, "<mark class=\"PER\" title=\"PER: ");
  assert_contains (html, "<mark class=\"LOC\"");
  /* the stats file carries the samples, the same report can be made again */
  g_autoptr(RunResult) again = galley_test_run (f->dir, NULL, "report", "run.stats.json", "-o", "again.html", NULL);
  g_assert_cmpint (again->status, ==, 0);
  g_autofree char *html2 = read_file (f, "again.html");
  g_assert_cmpstr (html, ==, html2);
}

static void
test_samples_reproducible (Fixture *f, gconstpointer data)
{
  write_articles_pipeline (f, "threads=1\nbatch-size=1\n");
  g_autoptr(RunResult) one = galley_test_run (f->dir, NULL, "run", "articles.pipeline", NULL);
  g_assert_cmpint (one->status, ==, 0);
  g_autofree char *first = sample_ids (f);
  g_assert_cmpuint (strlen (first), >, 0);
  write_articles_pipeline (f, "threads=2\nbatch-size=5\nreport-samples=5\n");
  g_autoptr(RunResult) two = galley_test_run (f->dir, NULL, "run", "articles.pipeline", NULL);
  g_assert_cmpint (two->status, ==, 0);
  g_autofree char *second = sample_ids (f);
  g_assert_cmpstr (first, ==, second);
  /* report-samples bounds each stage's sample */
  write_articles_pipeline (f, "report-samples=1\n");
  g_autoptr(RunResult) small = galley_test_run (f->dir, NULL, "run", "articles.pipeline", NULL);
  g_assert_cmpint (small->status, ==, 0);
  g_autofree char *ids = sample_ids (f);
  g_auto(GStrv) lines = g_strsplit (ids, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4 + 1);   /* repair, strip, dedup, entities */
}

/* A stage that is not part of galley writes notes; ids and texts with
 * markup are escaped. */
static void
test_out_of_tree_notes_escaped (Fixture *f, gconstpointer data)
{
  g_autofree char *in = g_build_filename (f->dir, "in", NULL);
  g_assert_cmpint (g_mkdir (in, 0755), ==, 0);
  galley_test_write (in, "a<b>&\"c'.txt", "Body <script>alert(1)</script> & more.\nAD: buy <now>\nEnd.\n", -1);
  galley_test_write (in, "dropped.txt", "Please DROPME.\n", -1);
  g_autofree char *content = g_strdup_printf (
      "[pipeline]\nstages=in;note;out\nstats=run.stats.json\nrejects=run.rejects.jsonl\nreport=run.html\n\n"
      "[stage in]\nplugin=files\npaths=%s\n\n[stage note]\nplugin=test-note\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", in);
  galley_test_write (f->dir, "note.pipeline", content, -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "note.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *html = read_file (f, "run.html");
  assert_self_contained (html);
  assert_contains (html, "a&lt;b&gt;&amp;&quot;c&#39;.txt");
  assert_contains (html, "&lt;script&gt;alert(1)&lt;/script&gt;");
  assert_contains (html, "<span class=\"reason\">advert</span>AD: buy &lt;now&gt;</del>");
  assert_contains (html, "<caption>line-count</caption><tr><td>lines</td><td>3</td></tr>");
  assert_contains (html, "reason: asked-to");
  assert_contains (html, "asked-to 1");
}

/* The sample of a stage that notes every document: with one place, the
 * same document whatever the threads and batches, shown with what the
 * stage removed from it (its text taken when the stage asked whether it
 * is traced); without a report, notes cost nothing and go nowhere. */
static void
test_noted_sample (Fixture *f, gconstpointer data)
{
  g_autofree char *in = g_build_filename (f->dir, "in", NULL);
  g_assert_cmpint (g_mkdir (in, 0755), ==, 0);
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *name = g_strdup_printf ("doc-%02u.txt", i);
      g_autofree char *text = g_strdup_printf ("Story %u.\nAD: offer %u\nThe end.\n", i, i);
      galley_test_write (in, name, text, -1);
    }
  char *ids[2] = { NULL, NULL };
  const char *settings[2][2] = { { "pipeline.threads=1", "pipeline.batch-size=64" },
                                 { "pipeline.threads=2", "pipeline.batch-size=1" } };
  for (guint run = 0; run < 2; run++)
    {
      g_autofree char *content = g_strdup_printf (
          "[pipeline]\nstages=in;note;out\nstats=run.stats.json\nrejects=run.rejects.jsonl\nreport=run.html\n"
          "report-samples=1\n\n[stage in]\nplugin=files\npaths=%s\n\n[stage note]\nplugin=test-note\n\n"
          "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", in);
      galley_test_write (f->dir, "note.pipeline", content, -1);
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "note.pipeline", "--set", settings[run][0],
                                                "--set", settings[run][1], NULL);
      g_assert_cmpint (r->status, ==, 0);
      ids[run] = sample_ids (f);
      g_auto(GStrv) lines = g_strsplit (ids[run], "\n", -1);
      g_assert_cmpuint (g_strv_length (lines), ==, 2);
      g_autofree char *html = read_file (f, "run.html");
      const char *mark = strstr (html, "<span class=\"reason\">advert</span>AD: offer ");
      g_assert_nonnull (mark);
      g_assert_null (strstr (mark + 1, "<span class=\"reason\">advert</span>"));
    }
  g_assert_cmpstr (ids[0], ==, ids[1]);
  g_free (ids[0]);
  g_free (ids[1]);
  g_autoptr(RunResult) plain = galley_test_run (f->dir, NULL, "run", "note.pipeline", "--set", "pipeline.report=",
                                                "--stats", "plain.json", NULL);
  g_assert_cmpint (plain->status, ==, 0);
  g_autofree char *stats = read_file (f, "plain.json");
  g_assert_null (strstr (stats, "\"samples\""));
}

static void
test_history (Fixture *f, gconstpointer data)
{
  write_articles_pipeline (f, "state-dir=state\n");
  for (int i = 0; i < 2; i++)
    {
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "articles.pipeline", "--full", NULL);
      g_assert_cmpint (r->status, ==, 0);
    }
  g_autofree char *html = read_file (f, "run.html");
  assert_contains (html, "History of the last 2 runs");
  assert_contains (html, "<polyline");
  assert_contains (html, "aria-label=\"duration per run\"");
  /* galley report on a past run, with and without the history */
  g_autoptr(RunResult) with = galley_test_run (f->dir, NULL, "report", "run.stats.json", "--state-dir", "state",
                                               "-o", "with.html", NULL);
  g_assert_cmpint (with->status, ==, 0);
  g_autofree char *with_html = read_file (f, "with.html");
  assert_contains (with_html, "History of the last 2 runs");
  g_autoptr(RunResult) without = galley_test_run (f->dir, NULL, "report", "run.stats.json", "-o", "-", NULL);
  g_assert_cmpint (without->status, ==, 0);
  g_assert_null (strstr (without->out, "History of the last"));
  assert_contains (without->out, "<h2 id=\"stages\">Stages</h2>");
}

static const struct {
  const char *content;
  const char *message;
} bad_stats[] = {
  { "{\n  \"pipeline\": \"x\",\n  oops\n}\n", "line 3: expected JSON" },
  { "{\"pipeline\": \"x\"", "the JSON ends early" },
  { "", "empty, expected a JSON object" },
  { "[1, 2]", "expected a JSON object at the top" },
  { "{\"pipeline\": 3}", "pipeline: expected a string" },
  { "{\"pipeline\": \"x\", \"documents_in\": 1, \"documents_out\": 1}", "stages: missing, expected an array of stages" },
  { "{\"pipeline\": \"x\", \"documents_in\": 1, \"documents_out\": 1, \"stages\": [{\"id\": \"a\", \"in\": 1, \"kept\": -1}]}",
    "stages[0].kept: expected an integer >= 0, got -1" },
  { "{\"pipeline\": \"x\", \"documents_in\": 1, \"documents_out\": 1, \"stages\": [{\"id\": \"a\", \"in\": 1, \"kept\": 1, "
    "\"dropped\": {\"r\": \"many\"}}]}", "stages[0].dropped.r: expected an integer >= 0" },
  { "{\"pipeline\": \"x\", \"documents_in\": 1, \"documents_out\": 1, \"stages\": [{\"id\": \"a\", \"in\": 1, \"kept\": 1, "
    "\"samples\": [{\"id\": \"d\", \"verdict\": \"kept\"}]}]}", "stages[0].samples[0].before: missing, expected a string" },
  { "{\"pipeline\": \"x\", \"documents_in\": 1, \"documents_out\": 1, \"seconds\": \"long\", \"stages\": []}",
    "seconds: expected a number of seconds" },
  { "{\"pipeline\": \"x\", \"documents_in\": 1, \"documents_out\": 1, \"stages\": []} trailing",
    "expected the end of the file after the stats object" },
};

static void
test_bad_stats (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_stats); i++)
    {
      g_autofree char *name = g_strdup_printf ("bad-%u.json", i);
      galley_test_write (f->dir, name, bad_stats[i].content, -1);
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "report", name, "-o", "bad.html", NULL);
      g_assert_cmpint (r->status, ==, 65);
      g_autofree char *expected = g_strdup_printf ("galley: %s: not a galley stats file: ", name);
      assert_contains (r->err, expected);
      assert_contains (r->err, bad_stats[i].message);
      g_autofree char *out = g_build_filename (f->dir, "bad.html", NULL);
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
  g_autoptr(RunResult) missing = galley_test_run (f->dir, NULL, "report", "nope.json", "-o", "x.html", NULL);
  g_assert_cmpint (missing->status, ==, 66);
  assert_contains (missing->err, "nope.json");
  g_autoptr(RunResult) usage = galley_test_run (f->dir, NULL, "report", "run.stats.json", NULL);
  g_assert_cmpint (usage->status, ==, 64);
  assert_contains (usage->err, "missing -o FILE");
}

static void
test_report_option_errors (Fixture *f, gconstpointer data)
{
  write_articles_pipeline (f, "report-samples=-2\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", "articles.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 78);
  assert_contains (r->err, "report-samples");
  /* a report that cannot be written stops the run before it reads */
  write_articles_pipeline (f, NULL);
  g_autoptr(RunResult) bad = galley_test_run (f->dir, NULL, "run", "articles.pipeline", "--set",
                                              "pipeline.report=no/such/dir/r.html", NULL);
  g_assert_cmpint (bad->status, ==, 73);
  assert_contains (bad->err, "report: no/such/dir/r.html");
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* ---- galley explain ---- */

static void
test_explain_text (Fixture *f, gconstpointer data)
{
  write_articles_pipeline (f, NULL);
  g_autofree char *article = galley_test_srcpath ("examples", "articles", "05-chip-factory-mojibake-cp1252.txt", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "explain", "articles.pipeline", "--input", article, NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_contains (r->out, "== repair (repair): kept");
  assert_contains (r->out, "== strip (strip): kept");
  assert_contains (r->out, "== dedup (dedup): kept");
  assert_contains (r->out, "== entities (entities): kept");
  assert_contains (r->out, "+ repair mojibake");
  assert_contains (r->out, "+ meta title: ");
  assert_contains (r->out, "- removed (");
  assert_contains (r->out, "{+");
  assert_contains (r->out, "PER ");
  assert_contains (r->out, "result: kept");
  /* piped: no colour; the sink is not run */
  g_assert_null (strstr (r->out, "\033["));
  g_assert_null (strstr (r->out, "== output"));
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_autoptr(RunResult) c = galley_test_run (f->dir, NULL, "explain", "articles.pipeline", "--input", article,
                                            "--color=always", NULL);
  g_assert_cmpint (c->status, ==, 0);
  assert_contains (c->out, "\033[32m");
}

static void
test_explain_json_and_doc (Fixture *f, gconstpointer data)
{
  write_articles_pipeline (f, NULL);
  g_autofree char *id = galley_test_srcpath ("examples", "articles", "01-port-strike.txt", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "explain", "articles.pipeline", "--doc", id, "--json", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(json_object) root = json_tokener_parse (r->out);
  g_assert_nonnull (root);
  g_assert_cmpstr (galley_test_get_string (root, "document"), ==, id);
  g_assert_cmpstr (galley_test_get_string (root, "verdict"), ==, "kept");
  json_object *steps = NULL, *spans = NULL, *meta = NULL;
  g_assert_true (json_object_object_get_ex (root, "steps", &steps));
  g_assert_cmpuint (json_object_array_length (steps), ==, 4);
  const char *ids[] = { "repair", "strip", "dedup", "entities" };
  for (guint i = 0; i < 4; i++)
    g_assert_cmpstr (galley_test_get_string (json_object_array_get_idx (steps, i), "stage"), ==, ids[i]);
  json_object *strip = json_object_array_get_idx (steps, 1);
  g_assert_true (json_object_object_get_ex (strip, "meta", &meta));
  g_assert_true (json_object_object_get_ex (meta, "title", NULL));
  g_assert_nonnull (galley_test_get_string (strip, "after"));
  json_object *entities = json_object_array_get_idx (steps, 3);
  g_assert_true (json_object_object_get_ex (entities, "annotations", &spans));
  g_assert_cmpuint (json_object_array_length (spans), >, 3);

  g_autoptr(RunResult) html = galley_test_run (f->dir, NULL, "explain", "articles.pipeline", "--doc", id, "--html",
                                               "-o", "explain.html", NULL);
  g_assert_cmpint (html->status, ==, 0);
  g_autofree char *page = read_file (f, "explain.html");
  assert_self_contained (page);
  assert_contains (page, "<h2>entities <small>(entities)</small></h2>");
  assert_contains (page, "<mark class=\"PER\"");
}

/* On an HTML page, strip names each block it left out with the reason;
 * the HTML view lists them (they are not in the page's source as text). */
static void
test_explain_html_page_removed (Fixture *f, gconstpointer data)
{
  write_articles_pipeline (f, NULL);
  g_autofree char *page_path = galley_test_srcpath ("examples", "articles", "09-heatwave.html", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "explain", "articles.pipeline", "--input", page_path,
                                            "--json", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(json_object) root = json_tokener_parse (r->out);
  json_object *steps = NULL, *notes = NULL;
  g_assert_true (json_object_object_get_ex (root, "steps", &steps));
  json_object *strip = json_object_array_get_idx (steps, 1);
  g_assert_cmpstr (galley_test_get_string (strip, "stage"), ==, "strip");
  g_assert_true (json_object_object_get_ex (strip, "notes", &notes));
  gboolean nav = FALSE, byline = FALSE, cookies = FALSE;
  g_auto(GStrv) paragraphs = g_strsplit (galley_test_get_string (strip, "after"), "\n\n", -1);
  for (gsize i = 0; i < json_object_array_length (notes); i++)
    {
      json_object *n = json_object_array_get_idx (notes, i);
      const char *text = galley_test_get_string (n, "text"), *reason = galley_test_get_string (n, "reason");
      g_assert_cmpstr (galley_test_get_string (n, "kind"), ==, "removed");
      /* no removed part is a paragraph of the text */
      g_assert_false (g_strv_contains ((const char *const *) paragraphs, text));
      nav |= g_str_equal (text, "Home Valley National Business Sport Weather Opinion") && g_str_equal (reason, "navigation");
      byline |= g_str_equal (text, "By Carmen Ibarra") && g_str_equal (reason, "byline");
      cookies |= g_str_has_prefix (text, "We use cookies");
    }
  g_assert_true (nav && byline && cookies);

  g_autoptr(RunResult) html = galley_test_run (f->dir, NULL, "explain", "articles.pipeline", "--input", page_path,
                                               "--html", "-o", "page.html", NULL);
  g_assert_cmpint (html->status, ==, 0);
  g_autofree char *out = read_file (f, "page.html");
  assert_contains (out, "<p>Removed, with the reason:</p><ul class=\"removed\"><li><span class=\"reason\">navigation</span>"
                        "Home Valley National Business Sport Weather Opinion</li>");
  assert_contains (out, "<li><span class=\"reason\">byline</span>By Carmen Ibarra</li>");
}

static void
test_explain_drop_and_errors (Fixture *f, gconstpointer data)
{
  g_autofree char *content = g_strdup (
      "[pipeline]\nstages=in;note;out\n\n[stage in]\nplugin=stdin\n\n[stage note]\nplugin=test-note\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n");
  galley_test_write (f->dir, "note.pipeline", content, -1);
  galley_test_write (f->dir, "doc.txt", "Please DROPME now.\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "explain", "note.pipeline", "--input", "doc.txt", NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_contains (r->out, "== note (test-note): dropped, reason asked-to");
  assert_contains (r->out, "result: dropped");

  g_autoptr(RunResult) none = galley_test_run (f->dir, NULL, "explain", "note.pipeline", NULL);
  g_assert_cmpint (none->status, ==, 64);
  assert_contains (none->err, "give either --doc ID or --input FILE");
  g_autoptr(RunResult) both = galley_test_run (f->dir, NULL, "explain", "note.pipeline", "--input", "doc.txt",
                                               "--json", "--html", NULL);
  g_assert_cmpint (both->status, ==, 64);
  g_autoptr(RunResult) missing = galley_test_run (f->dir, NULL, "explain", "note.pipeline", "--input", "nope.txt", NULL);
  g_assert_cmpint (missing->status, ==, 66);
  assert_contains (missing->err, "nope.txt");
  write_articles_pipeline (f, NULL);
  g_autoptr(RunResult) unknown = galley_test_run (f->dir, NULL, "explain", "articles.pipeline", "--doc", "no-such-id",
                                                  NULL);
  g_assert_cmpint (unknown->status, ==, 66);
  assert_contains (unknown->err, "no document with id 'no-such-id'");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/report/run-writes-report", test_run_writes_report);
  ADD ("/report/samples-reproducible", test_samples_reproducible);
  ADD ("/report/out-of-tree-notes-escaped", test_out_of_tree_notes_escaped);
  ADD ("/report/noted-sample", test_noted_sample);
  ADD ("/report/history", test_history);
  ADD ("/report/bad-stats", test_bad_stats);
  ADD ("/report/option-errors", test_report_option_errors);
  ADD ("/explain/text", test_explain_text);
  ADD ("/explain/json-and-doc", test_explain_json_and_doc);
  ADD ("/explain/html-page-removed", test_explain_html_page_removed);
  ADD ("/explain/drop-and-errors", test_explain_drop_and_errors);
  return g_test_run ();
}
