/* test-cli.c: the galley command end to end: exit codes, bad input, the
 * on-error policies, ordering and the output files a user sees. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes a files -> [extra stage] -> export-jsonl pipeline into the fixture. */
static void
write_pipeline (Fixture *f, const char *input, const char *extra_stage)
{
  g_autofree char *content = g_strdup_printf (
      "[pipeline]\nstages=in;%sout\nstats=run.stats.json\nrejects=run.rejects.jsonl\n\n"
      "[stage in]\nplugin=files\npaths=%s\non-error=skip\n\n%s"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n",
      extra_stage ? "mid;" : "", input, extra_stage ? extra_stage : "");
  galley_test_write (f->dir, "test.pipeline", content, -1);
}

static GPtrArray *
read_output (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  return galley_test_read_jsonl (path);
}

static json_object *
read_stats (Fixture *f)
{
  return galley_test_read_json (f->dir, "run.stats.json");
}

static gint64
stats_stage_int (json_object *stats, guint stage, const char *key)
{
  json_object *stages = NULL, *v = NULL;
  g_assert_true (json_object_object_get_ex (stats, "stages", &stages));
  g_assert_true (json_object_object_get_ex (json_object_array_get_idx (stages, stage), key, &v));
  return json_object_get_int64 (v);
}

static gint64
stats_dropped (json_object *stats, guint stage, const char *reason)
{
  json_object *stages = NULL, *dropped = NULL, *v = NULL;
  json_object_object_get_ex (stats, "stages", &stages);
  json_object_object_get_ex (json_object_array_get_idx (stages, stage), "dropped", &dropped);
  if (!json_object_object_get_ex (dropped, reason, &v))
    return 0;
  return json_object_get_int64 (v);
}

/* ---- command line ---- */

static void
test_version_and_help (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) v = galley_test_run (f->dir, NULL, "--version", NULL);
  g_assert_cmpint (v->status, ==, 0);
  g_assert_true (g_str_has_prefix (v->out, "galley " GALLEY_VERSION));
  g_autoptr(RunResult) h = galley_test_run (f->dir, NULL, "--help", NULL);
  g_assert_cmpint (h->status, ==, 0);
  g_assert_nonnull (strstr (h->out, "run FILE"));
  g_assert_nonnull (strstr (h->out, "78 configuration error"));
  g_autoptr(RunResult) rh = galley_test_run (f->dir, NULL, "run", "--help", NULL);
  g_assert_cmpint (rh->status, ==, 0);
  g_assert_nonnull (strstr (rh->out, "--set"));
  g_assert_nonnull (strstr (rh->out, "--dry-run"));
}

static void
test_usage_errors (Fixture *f, gconstpointer data)
{
  const char *no_args[] = { NULL };
  g_autoptr(RunResult) none = galley_test_runv (f->dir, NULL, no_args);
  g_assert_cmpint (none->status, ==, 64);
  g_autoptr(RunResult) cmd = galley_test_run (f->dir, NULL, "frobnicate", NULL);
  g_assert_cmpint (cmd->status, ==, 64);
  g_assert_nonnull (strstr (cmd->err, "unknown command 'frobnicate'"));
  g_autoptr(RunResult) nofile = galley_test_run (f->dir, NULL, "run", NULL);
  g_assert_cmpint (nofile->status, ==, 64);
  g_assert_nonnull (strstr (nofile->err, "missing pipeline FILE"));
  g_autoptr(RunResult) opt = galley_test_run (f->dir, NULL, "run", "--no-such-option", "x", NULL);
  g_assert_cmpint (opt->status, ==, 64);
  g_autoptr(RunResult) vq = galley_test_run (f->dir, NULL, "run", "-v", "-q", "x", NULL);
  g_assert_cmpint (vq->status, ==, 64);
}

static void
test_missing_pipeline_file (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "nothere.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 66);
  g_assert_nonnull (strstr (r->err, "nothere.pipeline"));
}

static void
test_config_error_exit (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "bad.pipeline", "[pipeline]\nstages=in\n[stage in]\nplugin=files\npaths=.\ncolour=red\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "bad.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 78);
  g_assert_nonnull (strstr (r->err, "bad.pipeline:6: [stage in] colour: unknown key"));
  g_autoptr(RunResult) c = galley_test_run (f->dir, NULL, "check", "bad.pipeline", NULL);
  g_assert_cmpint (c->status, ==, 78);
}

static void
test_check_reads_nothing (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "An article.", -1);
  write_pipeline (f, "in", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->out, "OK: in (source files) -> out (sink export-jsonl)"));
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_autofree char *stats = g_build_filename (f->dir, "run.stats.json", NULL);
  g_assert_false (g_file_test (stats, G_FILE_TEST_EXISTS));
}

static void
test_shipped_pipelines_check (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = galley_test_srcpath ("pipelines", NULL);
  g_autofree char *examples = galley_test_srcpath ("examples", NULL);
  /* run as from the project root after `make run` made out/ (output
   * directories must exist at check), without writing into the tree */
  const char *root = f->dir;
  g_autofree char *link = g_build_filename (root, "examples", NULL);
  g_autofree char *out = g_build_filename (root, "out", NULL);
  g_assert_cmpint (symlink (examples, link), ==, 0);
  g_assert_cmpint (g_mkdir (out, 0755), ==, 0);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  guint n = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (name, ".pipeline"))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(RunResult) r = galley_test_run (root, NULL, "check", path, NULL);
      if (r->status != 0)
        g_test_fail_printf ("galley check %s: exit %d: %s", name, r->status, r->err);
      n++;
    }
  g_assert_cmpuint (n, >=, 1);
}

static void
test_plugin_command (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "test-fail-on", "stats", "some dir", NULL);
  g_assert_cmpint (r->status, ==, 3);
  g_assert_cmpstr (r->out, ==, "stats some dir\n");
  /* a plugin without a command is not a command */
  g_autoptr(RunResult) none = galley_test_run (f->dir, NULL, "files", NULL);
  g_assert_cmpint (none->status, ==, 64);
  g_assert_nonnull (strstr (none->err, "unknown command 'files'"));
}

static void
test_inspect (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) list = galley_test_run (f->dir, NULL, "inspect", NULL);
  g_assert_cmpint (list->status, !=, 64);
  g_assert_nonnull (strstr (list->out, "export-jsonl"));
  g_autoptr(RunResult) one = galley_test_run (f->dir, NULL, "inspect", "files", "--json", NULL);
  g_assert_cmpint (one->status, ==, 0);
  g_autoptr(json_object) info = json_tokener_parse (one->out);
  g_assert_nonnull (info);
  g_assert_cmpstr (galley_test_get_string (info, "kind"), ==, "source");
  json_object *options = NULL;
  g_assert_true (json_object_object_get_ex (info, "options", &options));
  gboolean found = FALSE;
  for (size_t i = 0; i < json_object_array_length (options); i++)
    {
      json_object *o = json_object_array_get_idx (options, i);
      if (g_strcmp0 (galley_test_get_string (o, "name"), "max-size") == 0)
        {
          found = TRUE;
          g_assert_cmpstr (galley_test_get_string (o, "type"), ==, "size");
          g_assert_cmpstr (galley_test_get_string (o, "default"), ==, "256MiB");
        }
    }
  g_assert_true (found);
  g_autoptr(RunResult) text = galley_test_run (f->dir, NULL, "inspect", "export-jsonl", NULL);
  g_assert_nonnull (strstr (text->out, "path"));
  g_assert_nonnull (strstr (text->out, "required"));
  g_autoptr(RunResult) missing = galley_test_run (f->dir, NULL, "inspect", "nope", NULL);
  g_assert_cmpint (missing->status, ==, 78);
}

/* ---- sources and bad input ---- */

static void
test_default_pipeline_runs (Fixture *f, gconstpointer data)
{
  g_autofree char *root = galley_test_srcpath (".", NULL);
  g_autofree char *pipeline = galley_test_srcpath ("pipelines", "default.pipeline", NULL);
  g_autofree char *out = g_build_filename (f->dir, "articles.jsonl", NULL);
  g_autofree char *set_out = g_strconcat ("output.path=", out, NULL);
  g_autofree char *stats = g_build_filename (f->dir, "s.json", NULL);
  g_autofree char *rejects = g_build_filename (f->dir, "r.jsonl", NULL);
  g_autoptr(RunResult) r = galley_test_run (root, NULL, "run", pipeline, "--set", set_out,
                                            "--stats", stats, "--rejects", rejects, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, >=, 12);
  for (guint i = 0; i < recs->len; i++)
    {
      json_object *rec = g_ptr_array_index (recs, i);
      g_assert_nonnull (galley_test_get_string (rec, "id"));
      g_assert_nonnull (galley_test_get_string (rec, "text"));
      g_assert_cmpstr (galley_test_get_string (rec, "id"), !=, "examples/articles/README.md");
    }
  /* the HTML sample is recognised as HTML */
  gboolean html = FALSE;
  for (guint i = 0; i < recs->len; i++)
    if (g_strcmp0 (galley_test_get_string (g_ptr_array_index (recs, i), "content_type"), "html") == 0)
      html = TRUE;
  g_assert_true (html);
  g_assert_nonnull (strstr (r->err, "galley: default: "));
}

static void
test_missing_input_path (Fixture *f, gconstpointer data)
{
  write_pipeline (f, "does-not-exist", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 66);
  g_assert_nonnull (strstr (r->err, "stage 'in' (plugin files): paths: does-not-exist: No such file or directory"));
}

static void
test_mixed_binary_and_text_dir (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "First article about Istanbul talks.", -1);
  galley_test_write (f->dir, "in/b.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10", 20);
  guint8 random[4096];
  for (guint i = 0; i < sizeof random; i++)
    random[i] = (guint8) (g_str_hash ("seed") * (i + 1) >> 7);
  galley_test_write (f->dir, "in/c.bin", (const char *) random, sizeof random);
  galley_test_write (f->dir, "in/sub/d.txt", "Second article, in a subdirectory.", -1);
  galley_test_write (f->dir, "in/.hidden.txt", "hidden file", -1);
  galley_test_write (f->dir, "in/e.html", "<!DOCTYPE html><html><body><p>Page</p></body></html>", -1);
  write_pipeline (f, "in", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, 3);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "id"), ==, "in/a.txt");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 1), "id"), ==, "in/e.html");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 1), "content_type"), ==, "html");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 2), "id"), ==, "in/sub/d.txt");
  g_autoptr(json_object) stats = read_stats (f);
  g_assert_cmpint (stats_dropped (stats, 0, "binary-file"), ==, 2);
  g_assert_nonnull (strstr (r->err, "in:binary-file 2"));
}

static void
test_empty_file (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/empty.txt", "", 0);
  write_pipeline (f, "in/empty.txt", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, 1);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "text"), ==, "");
}

static void
test_nul_bytes_and_invalid_utf8 (Fixture *f, gconstpointer data)
{
  /* a text file with two stray NUL bytes is still text */
  static const char nul_text[] = "Officials met on Monday to discuss the harbour plan before\0after the vote, "
                                 "which was postponed twice.\0 The mayor said the budget would follow.";
  galley_test_write (f->dir, "in/nul.txt", nul_text, sizeof nul_text - 1);
  galley_test_write (f->dir, "in/latin1.txt", "Caf\xe9 in Z\xfcrich", -1);
  write_pipeline (f, "in", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, 2);
  json_object *latin = g_ptr_array_index (recs, 0);
  json_object *nul = g_ptr_array_index (recs, 1);
  g_assert_cmpstr (galley_test_get_string (latin, "text"), ==, "Caf\xef\xbf\xbd in Z\xef\xbf\xbdrich");
  g_assert_nonnull (strstr (galley_test_get_string (nul, "text"), "before\xef\xbf\xbd" "after"));
  json_object *repairs = NULL, *kind = NULL;
  g_assert_true (json_object_object_get_ex (latin, "repairs", &repairs));
  json_object_object_get_ex (json_object_array_get_idx (repairs, 0), "kind", &kind);
  g_assert_cmpstr (json_object_get_string (kind), ==, "invalid-utf8");
  g_assert_true (json_object_object_get_ex (nul, "repairs", &repairs));
  json_object_object_get_ex (json_object_array_get_idx (repairs, 0), "kind", &kind);
  g_assert_cmpstr (json_object_get_string (kind), ==, "nul-byte");
}

/* "gzipped article\n" compressed with gzip -n */
static const guint8 gz[] = {
  0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0xaf, 0xca, 0x2c, 0x28, 0x48,
  0x4d, 0x51, 0x48, 0x2c, 0x2a, 0xc9, 0x4c, 0xce, 0x49, 0xe5, 0x02, 0x00, 0x4e, 0x2f, 0x3d, 0x7d,
  0x10, 0x00, 0x00, 0x00,
};

/* Without HTML at the top of the text, the file name decides: an .htm,
 * .html or .xhtml name in any case, also before .gz, makes an HTML
 * document; the name's other endings do not. */
static void
test_content_type_by_name (Fixture *f, gconstpointer data)
{
  const char *text = "Harbour council meets on Tuesday; the ferry timetable is on the agenda.";
  galley_test_write (f->dir, "in/a.HTM", text, -1);
  galley_test_write (f->dir, "in/b.Html.GZ", (const char *) gz, sizeof gz);
  galley_test_write (f->dir, "in/c.html.txt", text, -1);
  galley_test_write (f->dir, "in/d.xhtml", text, -1);
  galley_test_write (f->dir, "in/e.gz.html", text, -1);
  galley_test_write (f->dir, "in/f.htmx", text, -1);
  galley_test_write (f->dir, "in/html", text, -1);
  write_pipeline (f, "in", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  static const struct { const char *id, *type; } want[] = {
    { "in/a.HTM", "html" }, { "in/b.Html.GZ", "html" }, { "in/c.html.txt", "text" }, { "in/d.xhtml", "html" },
    { "in/e.gz.html", "html" }, { "in/f.htmx", "text" }, { "in/html", "text" },
  };
  g_assert_cmpuint (recs->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, i), "id"), ==, want[i].id);
      g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, i), "content_type"), ==, want[i].type);
    }
}

/* A directory of many files is read by a helper thread ahead of the
 * walk: the output, its order and the stats are those of a walk reading
 * every file itself (read-ahead=0), whatever the directory holds: empty,
 * gzip, broken gzip, binary and excluded files, a subdirectory among the
 * files (the walk goes into it and comes back), files over max-size. */
static void
test_read_ahead_same_output (Fixture *f, gconstpointer data)
{
  static const char binary[] = "\x7f" "ELF\0\0\0\1\2\3\0\0binary";
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/a/%03u.txt", i);
      g_autofree char *text = g_strdup_printf ("Article %u of the spool, about the harbour and its ferries.", i);
      switch (i % 50)
        {
        case 7: galley_test_write (f->dir, name, "", 0); break;
        case 11: galley_test_write (f->dir, name, (const char *) gz, sizeof gz); break;
        case 13: galley_test_write (f->dir, name, "\x1f\x8b\x08\0garbage", 12); break;
        case 17: galley_test_write (f->dir, name, binary, sizeof binary - 1); break;
        case 19:
          {
            g_autofree char *big = g_strnfill (3000, 'x');
            galley_test_write (f->dir, name, big, -1);
            break;
          }
        default: galley_test_write (f->dir, name, text, -1);
        }
      if (i % 60 == 5)
        {
          g_autofree char *hidden = g_strdup_printf ("in/a/.%03u.txt", i);
          galley_test_write (f->dir, hidden, "hidden: excluded", -1);
        }
    }
  /* a subdirectory whose name sorts among the files */
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/a/150-sub/%02u.txt", i);
      g_autofree char *text = g_strdup_printf ("Nested article %u.", i);
      galley_test_write (f->dir, name, text, -1);
    }
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/b/%02u.txt", i);
      galley_test_write (f->dir, name, "Small directory article.", -1);
    }
  char *outputs[2] = { NULL, NULL };
  json_object *stats[2] = { NULL, NULL };
  for (guint pass = 0; pass < 2; pass++)
    {
      g_autofree char *pipeline = g_strdup_printf (
          "[pipeline]\nstages=in;out\nstats=run.stats.json\nrejects=\n\n"
          "[stage in]\nplugin=files\npaths=in\non-error=skip\nmax-size=2KiB\nread-ahead=%s\n\n"
          "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", pass == 0 ? "0" : "8");
      galley_test_write (f->dir, "ahead.pipeline", pipeline, -1);
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "ahead.pipeline", NULL);
      g_assert_cmpint (r->status, ==, 0);
      g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
      g_assert_true (g_file_get_contents (out, &outputs[pass], NULL, NULL));
      stats[pass] = read_stats (f);
    }
  g_assert_cmpstr (outputs[1], ==, outputs[0]);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  /* 300 - 6 broken gzip - 6 binary - 6 too large (empty files are read) + 40 + 20 */
  g_assert_cmpuint (recs->len, ==, 342);
  /* the source's counts (documents, skips by reason, failures, counters)
   * and the run's rejects are the same too */
  for (guint pass = 0; pass < 2; pass++)
    json_object_object_del (json_object_array_get_idx (json_object_object_get (stats[pass], "stages"), 0), "seconds");
  json_object *in0 = json_object_array_get_idx (json_object_object_get (stats[0], "stages"), 0);
  json_object *in1 = json_object_array_get_idx (json_object_object_get (stats[1], "stages"), 0);
  json_object *dropped = json_object_object_get (in0, "dropped");
  g_assert_cmpint (json_object_get_int (json_object_object_get (dropped, "binary-file")), ==, 6);
  g_assert_cmpint (json_object_get_int (json_object_object_get (dropped, "too-large")), ==, 6);
  g_assert_cmpint (json_object_get_int (json_object_object_get (in0, "failed")), ==, 6);
  g_assert_cmpstr (json_object_to_json_string (in1), ==, json_object_to_json_string (in0));
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (stats[1], "rejects")), ==,
                   json_object_get_int64 (json_object_object_get (stats[0], "rejects")));
  for (guint pass = 0; pass < 2; pass++)
    {
      g_free (outputs[pass]);
      json_object_put (stats[pass]);
    }
  /* a value out of range is refused before anything is read */
  galley_test_write (f->dir, "bad.pipeline",
                     "[pipeline]\nstages=in\n[stage in]\nplugin=files\npaths=in\nread-ahead=-1\n", -1);
  g_autoptr(RunResult) bad = galley_test_run (f->dir, NULL, "check", "bad.pipeline", NULL);
  g_assert_cmpint (bad->status, ==, 78);
  g_assert_nonnull (strstr (bad->err, "bad.pipeline:6: [stage in] read-ahead: at least 0, got -1"));
}

static void
test_gzip_and_glob (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/one.txt.gz", (const char *) gz, sizeof gz);
  galley_test_write (f->dir, "in/two.txt", "plain", -1);
  galley_test_write (f->dir, "in/skip.md", "not matched", -1);
  galley_test_write (f->dir, "in/broken.gz", "\x1f\x8b\x08\0garbage", 12);
  write_pipeline (f, "in/*.txt*;in/*.gz", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, 3);   /* one.txt.gz is matched by both patterns */
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 0), "text"), ==, "gzipped article\n");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 1), "text"), ==, "plain");
  /* a file of two gzip members (cat a.gz b.gz) is read whole */
  static const guint8 gz2[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0xaf, 0xca, 0x2c, 0x28, 0x48,
    0x4d, 0x51, 0x48, 0x2c, 0x2a, 0xc9, 0x4c, 0xce, 0x49, 0xe5, 0x02, 0x00, 0x4e, 0x2f, 0x3d, 0x7d,
    0x10, 0x00, 0x00, 0x00,
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0xaf, 0xca, 0x2c, 0x28, 0x48,
    0x4d, 0x51, 0x48, 0x2c, 0x2a, 0xc9, 0x4c, 0xce, 0x49, 0xe5, 0x02, 0x00, 0x4e, 0x2f, 0x3d, 0x7d,
    0x10, 0x00, 0x00, 0x00,
  };
  galley_test_write (f->dir, "two/both.txt.gz", (const char *) gz2, sizeof gz2);
  galley_test_write (f->dir, "two.pipeline",
      "[pipeline]\nstages=in;out\nstats=\n[stage in]\nplugin=files\npaths=two\n"
      "[stage out]\nplugin=export-jsonl\npath=two.jsonl\n", -1);
  g_autoptr(RunResult) two = galley_test_run (f->dir, NULL, "run", "two.pipeline", NULL);
  g_assert_cmpint (two->status, ==, 0);
  g_autoptr(GPtrArray) both = read_output (f, "two.jsonl");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (both, 0), "text"), ==, "gzipped article\ngzipped article\n");
  /* the corrupt gzip file is rejected, not lost */
  g_autoptr(GPtrArray) rejects = read_output (f, "run.rejects.jsonl");
  g_assert_cmpuint (rejects->len, ==, 1);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (rejects, 0), "source"), ==, "in/broken.gz");
  g_assert_nonnull (strstr (galley_test_get_string (g_ptr_array_index (rejects, 0), "error"), "gzip"));
}

static void
test_unreadable_entry (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "readable", -1);
  g_autofree char *link = g_build_filename (f->dir, "in", "b-dangling.txt", NULL);
  g_assert_cmpint (symlink ("/nonexistent/target", link), ==, 0);
  g_autofree char *locked = galley_test_write_path (f->dir, "in/c-locked.txt", "secret", -1);
  g_chmod (locked, 0);
  gboolean can_lock = access (locked, R_OK) != 0;   /* root reads anything */
  write_pipeline (f, "in", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);   /* on-error=skip on the source */
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, can_lock ? 1 : 2);
  g_autoptr(GPtrArray) rejects = read_output (f, "run.rejects.jsonl");
  g_assert_cmpuint (rejects->len, ==, can_lock ? 2 : 1);
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (rejects, 0), "source"), ==, "in/b-dangling.txt");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (rejects, 0), "stage"), ==, "in");
  g_assert_nonnull (strstr (r->err, "1 rejected input") ? r->err : strstr (r->err, "2 rejected inputs"));

  /* with on-error=fail on the source the run stops with an I/O status */
  g_autoptr(RunResult) strict = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--set", "in.on-error=fail", NULL);
  g_assert_cmpint (strict->status, ==, 66);
  g_assert_nonnull (strstr (strict->err, "in/b-dangling.txt"));
}

static void
test_huge_file (Fixture *f, gconstpointer data)
{
  /* 200 MB of text in one file goes through whole */
  gsize size = 200u << 20;
  g_autofree char *path = g_build_filename (f->dir, "big.txt", NULL);
  FILE *fp = fopen (path, "wb");
  g_assert_nonnull (fp);
  char line[100];
  memset (line, 'x', sizeof line);
  memcpy (line, "Zürich \"q\" ", 12);
  line[sizeof line - 1] = '\n';
  for (gsize written = 0; written < size; written += sizeof line)
    g_assert_cmpuint (fwrite (line, 1, sizeof line, fp), ==, sizeof line);
  fclose (fp);
  write_pipeline (f, "big.txt", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "-q", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(json_object) stats = read_stats (f);
  json_object *v = NULL;
  json_object_object_get_ex (stats, "bytes_in", &v);
  g_assert_cmpint (json_object_get_int64 (v), ==, (gint64) size);
  json_object_object_get_ex (stats, "documents_out", &v);
  g_assert_cmpint (json_object_get_int64 (v), ==, 1);
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  struct stat st;
  g_assert_cmpint (stat (out, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, (goffset) size);   /* escaping only grows it */

  /* over max-size it is skipped with a reason, not read */
  g_autoptr(RunResult) small = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--set", "in.max-size=1M", NULL);
  g_assert_cmpint (small->status, ==, 0);
  g_autoptr(json_object) stats2 = read_stats (f);
  g_assert_cmpint (stats_dropped (stats2, 0, "too-large"), ==, 1);
}

/* ---- jsonl and stdin ---- */

static void
test_jsonl_bad_lines (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "{\"id\":\"a\",\"text\":\"First\",\"title\":\"T1\",\"section\":\"world\"}\n"
      "{\"id\":\"b\",\"text\":\"Second\"\n"
      "\n"
      "{\"id\":\"c\",\"body\":\"no text field\"}\n"
      "[1,2,3]\n"
      "{\"id\":\"d\",\"text\":42}\n"
      "{\"id\":\"e\",\"text\":\"Fifth\\u0000with NUL\",\"charset\":\"latin-1\"}\n"
      "{\"text\":\"no id\"} trailing\n"
      "{\"text\":\"last, no id, no newline\",\"title\":\"caf\xe9\",\"tags\":{\"ok\":[\"x\"],\"bad\":[1,\"caf\xe9\"]}}", -1);
  galley_test_write (f->dir, "j.pipeline",
      "[pipeline]\nstages=in;out\nstats=run.stats.json\nrejects=run.rejects.jsonl\n"
      "[stage in]\nplugin=jsonl\npath=in.jsonl\non-error=skip\nencoding-field=charset\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "j.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, 3);
  json_object *a = g_ptr_array_index (recs, 0);
  g_assert_cmpstr (galley_test_get_string (a, "id"), ==, "a");
  g_assert_cmpstr (galley_test_get_string (a, "source"), ==, "in.jsonl:1");
  json_object *meta = NULL;
  g_assert_true (json_object_object_get_ex (a, "meta", &meta));
  g_assert_cmpstr (galley_test_get_string (meta, "title"), ==, "T1");
  g_assert_cmpstr (galley_test_get_string (meta, "section"), ==, "world");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 1), "text"), ==, "Fifth\xef\xbf\xbdwith NUL");
  g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, 2), "id"), ==, "in.jsonl:9");
  /* invalid UTF-8 in meta values, nested ones too, becomes U+FFFD; valid
   * parts next to it are kept as they were */
  json_object *last_meta = NULL, *tags = NULL, *ok = NULL, *bad = NULL;
  g_assert_true (json_object_object_get_ex (g_ptr_array_index (recs, 2), "meta", &last_meta));
  g_assert_cmpstr (galley_test_get_string (last_meta, "title"), ==, "caf\xef\xbf\xbd");
  g_assert_true (json_object_object_get_ex (last_meta, "tags", &tags));
  g_assert_true (json_object_object_get_ex (tags, "ok", &ok) && json_object_object_get_ex (tags, "bad", &bad));
  g_assert_cmpstr (json_object_get_string (json_object_array_get_idx (ok, 0)), ==, "x");
  g_assert_cmpint (json_object_get_int (json_object_array_get_idx (bad, 0)), ==, 1);
  g_assert_cmpstr (json_object_get_string (json_object_array_get_idx (bad, 1)), ==, "caf\xef\xbf\xbd");

  g_autoptr(GPtrArray) rejects = read_output (f, "run.rejects.jsonl");
  g_assert_cmpuint (rejects->len, ==, 5);
  const gint64 lines[] = { 2, 4, 5, 6, 8 };
  const char *why[] = { "not valid JSON", "no text field 'text' (fields: id, body)", "expected a JSON object",
                        "text field 'text' is int", "unexpected data after the JSON value" };
  for (guint i = 0; i < 5; i++)
    {
      json_object *rej = g_ptr_array_index (rejects, i), *line = NULL;
      g_assert_true (json_object_object_get_ex (rej, "line", &line));
      g_assert_cmpint (json_object_get_int64 (line), ==, lines[i]);
      g_assert_nonnull (strstr (galley_test_get_string (rej, "error"), why[i]));
      g_assert_nonnull (galley_test_get_string (rej, "raw"));
    }
  g_assert_nonnull (strstr (r->err, "in.jsonl:4: no text field"));

  /* on-error=fail: stops at line 2 with exit 65; line 1 is exported */
  g_autoptr(RunResult) strict = galley_test_run (f->dir, NULL, "run", "j.pipeline", "--set", "in.on-error=fail", NULL);
  g_assert_cmpint (strict->status, ==, 65);
  g_assert_nonnull (strstr (strict->err, "in.jsonl:2: not valid JSON"));
  g_autoptr(GPtrArray) partial = read_output (f, "out.jsonl");
  g_assert_cmpuint (partial->len, ==, 1);
}

/* Writes pipeline @name with @content and runs it; the run must succeed. */
static void
run_pipeline_ok (Fixture *f, const char *name, const char *content)
{
  galley_test_write (f->dir, name, content, -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", name, NULL);
  if (r->status != 0)
    g_error ("%s: exit %d: %s", name, r->status, r->err);
}

/* records=galley reads export-jsonl's records back into the documents
 * they came from: writing them out again gives the same bytes, spans,
 * plugin fields, repairs and all. Records that are not galley records are
 * rejects with the reason. */
static void
test_jsonl_galley_records (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl",
      "{\"id\":\"a\",\"title\":\"Talks\",\"date\":\"2025-07-23\",\"text\":\"Zo\u00eb Brandt met President "
      "Volodymyr Zelensky in Kyiv on Wednesday. Zelensky said the talks in Istanbul would go on.\"}\n"
      "{\"id\":\"b\",\"text\":\"The ministry in Kiev said on 22.07.2025 that Zelenskyy had left \u201cearly\u201d.\"}\n"
      "{\"id\":\"c\",\"text\":\"Zo\u00eb Brandt met President Volodymyr Zelensky in Kyiv on Wednesday. "
      "Zelensky said the talks in Istanbul would go on.\"}\n", -1);
  run_pipeline_ok (f, "first.pipeline",
      "[pipeline]\nstages=in;repair;dedup;entities;out\nstats=\nrejects=\n"
      "[stage in]\nplugin=jsonl\npath=in.jsonl\n[stage repair]\nplugin=repair\n[stage dedup]\nplugin=dedup\n"
      "[stage entities]\nplugin=entities\n[stage out]\nplugin=export-jsonl\npath=out1.jsonl\n");
  run_pipeline_ok (f, "again.pipeline",
      "[pipeline]\nstages=in;out\nstats=\nrejects=\n"
      "[stage in]\nplugin=jsonl\npath=out1.jsonl\nrecords=galley\n"
      "[stage out]\nplugin=export-jsonl\npath=out2.jsonl\n");
  g_autofree char *p1 = g_build_filename (f->dir, "out1.jsonl", NULL);
  g_autofree char *p2 = g_build_filename (f->dir, "out2.jsonl", NULL);
  g_autofree char *out1 = NULL, *out2 = NULL;
  g_assert_true (g_file_get_contents (p1, &out1, NULL, NULL));
  g_assert_true (g_file_get_contents (p2, &out2, NULL, NULL));
  /* the first run's records carry what is to be kept */
  g_assert_nonnull (strstr (out1, "\"entities\":[{\"type\":\"PER\""));
  g_assert_nonnull (strstr (out1, "\"canonical\":\"Volodymyr Zelensky\""));
  g_assert_nonnull (strstr (out1, "\"dedup\":{"));
  g_assert_nonnull (strstr (out1, "\"entities_top\""));
  g_assert_cmpstr (out2, ==, out1);

  /* without records=galley the same file is plain JSON: the entities are
   * a meta member, not spans */
  run_pipeline_ok (f, "plain.pipeline",
      "[pipeline]\nstages=in;out\nstats=\nrejects=\n"
      "[stage in]\nplugin=jsonl\npath=out1.jsonl\n[stage out]\nplugin=export-jsonl\npath=out3.jsonl\n");
  g_autoptr(GPtrArray) plain = read_output (f, "out3.jsonl");
  json_object *meta = NULL, *ents = NULL;
  g_assert_true (json_object_object_get_ex (g_ptr_array_index (plain, 0), "meta", &meta));
  g_assert_true (json_object_object_get_ex (meta, "entities", &ents));
  g_assert_false (json_object_object_get_ex (g_ptr_array_index (plain, 0), "entities", NULL));

  galley_test_write (f->dir, "bad.jsonl",
      "{\"text\":\"no id\"}\n"
      "{\"id\":\"x\",\"text\":\"Kyiv\",\"entities\":{\"type\":\"LOC\"}}\n"
      "{\"id\":\"y\",\"text\":\"Kyiv\",\"entities\":[{\"type\":\"LOC\",\"start\":0,\"end\":9}]}\n"
      "{\"id\":\"z\",\"text\":\"Kyiv\",\"annotations\":{\"s\":[{\"type\":\"S\",\"start\":\"0\",\"end\":4}]}}\n"
      "{\"id\":\"ok\",\"text\":\"Kyiv\",\"entities\":[{\"type\":\"LOC\",\"start\":0,\"end\":4,\"wikidata\":\"Q1899\"}]}\n",
      -1);
  run_pipeline_ok (f, "bad.pipeline",
      "[pipeline]\nstages=in;out\nstats=\nrejects=bad.rejects.jsonl\n"
      "[stage in]\nplugin=jsonl\npath=bad.jsonl\nrecords=galley\non-error=skip\n"
      "[stage out]\nplugin=export-jsonl\npath=bad.out.jsonl\n");
  g_autoptr(GPtrArray) good = read_output (f, "bad.out.jsonl");
  g_assert_cmpuint (good->len, ==, 1);
  g_autofree char *good_json = g_strdup (json_object_to_json_string_ext (g_ptr_array_index (good, 0),
                                                                         JSON_C_TO_STRING_PLAIN));
  g_assert_nonnull (strstr (good_json, "\"entities\":[{\"type\":\"LOC\",\"text\":\"Kyiv\",\"start\":0,\"end\":4,"
                                       "\"wikidata\":\"Q1899\"}]"));
  g_autoptr(GPtrArray) rejects = read_output (f, "bad.rejects.jsonl");
  g_assert_cmpuint (rejects->len, ==, 4);
  const char *why[] = { "no id", "entities: expected an array of spans, got object",
                        "entities[0]: span 0..9 is not inside the text (4 code points)",
                        "annotations.s[0]: expected an object with type (a string), start and end (integers)" };
  for (guint i = 0; i < 4; i++)
    {
      const char *msg = galley_test_get_string (g_ptr_array_index (rejects, i), "error");
      if (strstr (msg, why[i]) == NULL)
        g_error ("reject %u: '%s' does not say '%s'", i, msg, why[i]);
    }
}

static void
test_stdin_to_stdout (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "s.pipeline",
      "[pipeline]\nstages=in;out\nstats=\n[stage in]\nplugin=stdin\nformat=jsonl\n"
      "[stage out]\nplugin=export-jsonl\npath=-\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, "{\"id\":\"x\",\"text\":\"from stdin\"}\n{\"id\":\"y\",\"text\":\"two\"}\n",
                                            "run", "s.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_auto(GStrv) lines = g_strsplit (r->out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_autoptr(json_object) first = json_tokener_parse (lines[0]);
  g_assert_cmpstr (galley_test_get_string (first, "text"), ==, "from stdin");
  /* stdout held data only: the summary went to stderr */
  g_assert_null (strstr (r->out, "galley:"));
  g_assert_nonnull (strstr (r->err, "galley: s: 2 in, 2 out"));

  galley_test_write (f->dir, "t.pipeline",
      "[pipeline]\nstages=in;out\nstats=\n[stage in]\nplugin=stdin\nid=piped\n"
      "[stage out]\nplugin=export-jsonl\npath=-\n", -1);
  g_autoptr(RunResult) t = galley_test_run (f->dir, "<html><body>x</body></html>", "run", "t.pipeline", NULL);
  g_assert_cmpint (t->status, ==, 0);
  g_autoptr(json_object) rec = json_tokener_parse (t->out);
  g_assert_cmpstr (galley_test_get_string (rec, "id"), ==, "piped");
  g_assert_cmpstr (galley_test_get_string (rec, "content_type"), ==, "html");
}

/* ---- failing plugins and on-error ---- */

static void
make_numbered_inputs (Fixture *f, guint n, guint poison)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/%04u.txt", i);
      g_autofree char *text = g_strdup_printf ("Article %u%s%s", i, i == poison ? " POISON" : "",
                                               i % 7 == 3 ? " SPAM" : "");
      galley_test_write (f->dir, name, text, -1);
    }
}

static void
test_stage_fails_one_document_skip (Fixture *f, gconstpointer data)
{
  make_numbered_inputs (f, 300, 150);
  write_pipeline (f, "in", "[stage mid]\nplugin=test-fail-on\nfail-on=POISON\ndrop-on=SPAM\njitter=true\non-error=skip\n\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--threads", "4", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  guint spam = 0;
  for (guint i = 0; i < 300; i++)
    if (i % 7 == 3 && i != 150)   /* 150 fails before it can be dropped */
      spam++;
  g_assert_cmpuint (recs->len, ==, 300 - spam - 1);
  /* output order is input order even though the stage ran on 4 threads */
  gint last = -1;
  for (guint i = 0; i < recs->len; i++)
    {
      const char *id = galley_test_get_string (g_ptr_array_index (recs, i), "id");
      gint n = atoi (id + 3);
      g_assert_cmpint (n, >, last);
      g_assert_cmpint (n, !=, 150);
      last = n;
    }
  g_autoptr(GPtrArray) rejects = read_output (f, "run.rejects.jsonl");
  g_assert_cmpuint (rejects->len, ==, 1);
  json_object *rej = g_ptr_array_index (rejects, 0), *doc = NULL;
  g_assert_cmpstr (galley_test_get_string (rej, "stage"), ==, "mid");
  g_assert_cmpstr (galley_test_get_string (rej, "source"), ==, "in/0150.txt");
  g_assert_cmpstr (galley_test_get_string (rej, "error"), ==, "found marker POISON");
  g_assert_true (json_object_object_get_ex (rej, "document", &doc));
  g_assert_cmpstr (galley_test_get_string (doc, "text"), ==, "Article 150 POISON SPAM");
  g_autoptr(json_object) stats = read_stats (f);
  g_assert_cmpint (stats_stage_int (stats, 1, "in"), ==, 300);
  g_assert_cmpint (stats_stage_int (stats, 1, "failed"), ==, 1);
  g_assert_cmpint (stats_dropped (stats, 1, "marked"), ==, spam);
  g_assert_cmpint (stats_stage_int (stats, 2, "in"), ==, 300 - spam - 1);
}

static void
test_stage_fails_one_document_fail (Fixture *f, gconstpointer data)
{
  make_numbered_inputs (f, 300, 150);
  /* an earlier run's output must survive a failed run untouched... */
  galley_test_write (f->dir, "out.jsonl", "{\"id\":\"previous\",\"text\":\"kept\"}\n", -1);
  write_pipeline (f, "in", "[stage mid]\nplugin=test-fail-on\nfail-on=POISON\njitter=true\n\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--threads", "4",
                                            "--set", "out.path=new.jsonl", NULL);
  g_assert_cmpint (r->status, ==, 65);
  g_assert_nonnull (strstr (r->err, "stage 'mid': document 'in/0150.txt': found marker POISON"));
  g_autoptr(GPtrArray) old = read_output (f, "out.jsonl");
  g_assert_cmpuint (old->len, ==, 1);
  /* ...and the new output holds exactly the documents before the failure */
  g_autoptr(GPtrArray) recs = read_output (f, "new.jsonl");
  g_assert_cmpuint (recs->len, ==, 150);
  for (guint i = 0; i < recs->len; i++)
    {
      g_autofree char *want = g_strdup_printf ("in/%04u.txt", i);
      g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (recs, i), "id"), ==, want);
    }
  g_autoptr(json_object) stats = read_stats (f);
  json_object *v = NULL;
  g_assert_true (json_object_object_get_ex (stats, "exit_code", &v));
  g_assert_cmpint (json_object_get_int (v), ==, 65);
  g_assert_true (json_object_object_get_ex (stats, "error", &v));
}

static gint64
stats_counter (json_object *stats, guint stage, const char *name)
{
  json_object *stages = NULL, *counters = NULL, *v = NULL;
  json_object_object_get_ex (stats, "stages", &stages);
  json_object_object_get_ex (json_object_array_get_idx (stages, stage), "counters", &counters);
  if (!json_object_object_get_ex (counters, name, &v))
    return 0;
  return json_object_get_int64 (v);
}

/* A serial stage's prepare() runs on the worker threads (after a parallel
 * stage, or in a segment of its own right after the source), its process()
 * still sees every document in input order with the data prepare() left,
 * and drops and failures in prepare() count like those of process(). */
static void
test_prepare_runs_ahead (Fixture *f, gconstpointer data)
{
  const char *layouts[] = {
    "stages=in;jitter;prep;out\n",   /* after a parallel segment */
    "stages=in;prep;jitter;out\n",   /* right after the source */
  };
  make_numbered_inputs (f, 300, 150);
  guint spam = 0;
  for (guint i = 0; i < 300; i++)
    if (i % 7 == 3 && i != 150)
      spam++;
  for (guint l = 0; l < G_N_ELEMENTS (layouts); l++)
    for (guint threads = 1; threads <= 4; threads += 3)
      {
        g_autofree char *pipeline = g_strdup_printf (
            "[pipeline]\n%sstats=run.stats.json\nrejects=run.rejects.jsonl\n\n"
            "[stage in]\nplugin=files\npaths=in\n\n"
            "[stage jitter]\nplugin=test-fail-on\njitter=true\n\n"
            "[stage prep]\nplugin=test-prepare\ndrop-on=SPAM\nfail-on=POISON\non-error=skip\n\n"
            "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", layouts[l]);
        galley_test_write (f->dir, "test.pipeline", pipeline, -1);
        g_autofree char *nthreads = g_strdup_printf ("%u", threads);
        g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--threads", nthreads, NULL);
        g_assert_cmpint (r->status, ==, 0);
        g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
        g_assert_cmpuint (recs->len, ==, 300 - spam - 1);
        gint last = -1;
        for (guint i = 0; i < recs->len; i++)
          {
            json_object *rec = g_ptr_array_index (recs, i), *v = NULL;
            gint n = atoi (galley_test_get_string (rec, "id") + 3);
            g_assert_cmpint (n, >, last);
            last = n;
            g_assert_true (json_object_object_get_ex (rec, "prepared", &v));
            g_assert_cmpint (json_object_get_int64 (v), ==, strlen (galley_test_get_string (rec, "text")));
          }
        g_autoptr(json_object) stats = read_stats (f);
        guint prep = l == 0 ? 2 : 1;
        g_assert_cmpint (stats_stage_int (stats, prep, "in"), ==, 300);
        g_assert_cmpint (stats_stage_int (stats, prep, "kept"), ==, 300 - spam - 1);
        g_assert_cmpint (stats_stage_int (stats, prep, "failed"), ==, 1);
        g_assert_cmpint (stats_dropped (stats, prep, "early"), ==, spam);
        g_assert_cmpint (stats_counter (stats, prep, "out-of-order"), ==, 0);
        /* one thread: prepare() runs just before process(); more: on the workers */
        g_assert_cmpint (stats_counter (stats, prep, "prepared-elsewhere"), ==, threads == 1 ? 0 : 300 - spam - 1);
        g_autoptr(GPtrArray) rejects = read_output (f, "run.rejects.jsonl");
        g_assert_cmpuint (rejects->len, ==, 1);
        g_assert_cmpstr (galley_test_get_string (g_ptr_array_index (rejects, 0), "error"), ==, "prepare found POISON");
        g_autofree char *rej = g_build_filename (f->dir, "run.rejects.jsonl", NULL);
        g_unlink (rej);
      }
}

static void
test_reject_is_for_sources (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "x", -1);
  write_pipeline (f, "in", "[stage mid]\nplugin=test-fail-on\nmisuse-reject=true\n\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  /* a programming error is reported, nothing is rejected, the run goes on */
  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->err, "GALLEY_KIND_SOURCE"));
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, 1);
}

static void
test_init_failure (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "x", -1);
  write_pipeline (f, "in", "[stage mid]\nplugin=test-init-fails\n\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 78);
  g_assert_nonnull (strstr (r->err, "stage 'mid' (plugin test-init-fails): model file /nonexistent/model.bin is missing"));
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_wrong_abi_in_pipeline (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "x", -1);
  write_pipeline (f, "in", "[stage mid]\nplugin=test-wrong-abi\n\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 78);
  g_assert_nonnull (strstr (r->err, "galley-test-wrong-abi.so: built for stage ABI 2.0"));
}

static void
test_crashing_stage_is_named (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "fine", -1);
  galley_test_write (f->dir, "in/b.txt", "CRASH here", -1);
  write_pipeline (f, "in", "[stage mid]\nplugin=test-segv\n\n");
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 128 + SIGSEGV);
  g_assert_nonnull (strstr (r->err, "crashed in stage 'mid' (plugin test-segv"));
  g_assert_nonnull (strstr (r->err, "galley-test-segv.so"));
}

static void
test_dry_run_and_overrides (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "x", -1);
  write_pipeline (f, "in", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--dry-run", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *out = g_build_filename (f->dir, "out.jsonl", NULL);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_nonnull (strstr (r->err, "dry run"));

  g_autoptr(RunResult) s = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--set", "out.path=sub/dir/%Y.jsonl", NULL);
  g_assert_cmpint (s->status, ==, 0);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *name = g_strdup_printf ("sub/dir/%d.jsonl", g_date_time_get_year (now));
  g_autoptr(GPtrArray) recs = read_output (f, name);
  g_assert_cmpuint (recs->len, ==, 1);
}

static void
test_output_dir_missing_without_mkdir (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "x", -1);
  write_pipeline (f, "in", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--set", "out.path=nodir/out.jsonl",
                                            "--set", "out.mkdir=false", NULL);
  g_assert_cmpint (r->status, ==, 73);
  g_assert_nonnull (strstr (r->err, "directory nodir does not exist (set mkdir=true to create it)"));
}

static void
test_pipeline_is_directory (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", ".", NULL);
  g_assert_cmpint (r->status, ==, 66);
}

static void
test_jsonl_max_line (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in.jsonl", "{\"text\":\"short\"}\n{\"text\":\"this line is longer than forty bytes\"}\n", -1);
  galley_test_write (f->dir, "j.pipeline",
      "[pipeline]\nstages=in;out\nstats=run.stats.json\nrejects=run.rejects.jsonl\n"
      "[stage in]\nplugin=jsonl\npath=in.jsonl\non-error=skip\nmax-line=40\n"
      "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "j.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = read_output (f, "out.jsonl");
  g_assert_cmpuint (recs->len, ==, 1);
  g_autoptr(GPtrArray) rejects = read_output (f, "run.rejects.jsonl");
  g_assert_cmpuint (rejects->len, ==, 1);
  g_assert_nonnull (strstr (galley_test_get_string (g_ptr_array_index (rejects, 0), "error"), "longer than max-line"));
  /* json-c takes int lengths: a max-line past 2 GiB is refused up front */
  g_autoptr(RunResult) big = galley_test_run (f->dir, NULL, "check", "j.pipeline", "--set", "in.max-line=3G", NULL);
  g_assert_cmpint (big->status, ==, 78);
  g_assert_nonnull (strstr (big->err, "--set in.max-line: at most 2147483646, got 3G"));
}

static void
test_unwritable_output (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "in/a.txt", "x", -1);
  galley_test_write (f->dir, "blocker", "a file where a directory should be", -1);
  write_pipeline (f, "in", NULL);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "test.pipeline", "--set", "out.path=blocker/out.jsonl", NULL);
  g_assert_cmpint (r->status, ==, 73);
  g_assert_nonnull (strstr (r->err, "stage 'out'"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/cli/version-and-help", test_version_and_help);
  ADD ("/cli/usage-errors", test_usage_errors);
  ADD ("/cli/missing-pipeline-file", test_missing_pipeline_file);
  ADD ("/cli/config-error-exit", test_config_error_exit);
  ADD ("/cli/check-reads-nothing", test_check_reads_nothing);
  ADD ("/cli/shipped-pipelines-check", test_shipped_pipelines_check);
  ADD ("/cli/inspect", test_inspect);
  ADD ("/cli/plugin-command", test_plugin_command);
  ADD ("/run/prepare-runs-ahead", test_prepare_runs_ahead);
  ADD ("/run/default-pipeline", test_default_pipeline_runs);
  ADD ("/run/dry-run-and-overrides", test_dry_run_and_overrides);
  ADD ("/run/unwritable-output", test_unwritable_output);
  ADD ("/run/output-dir-missing", test_output_dir_missing_without_mkdir);
  ADD ("/cli/pipeline-is-directory", test_pipeline_is_directory);
  ADD ("/jsonl/max-line", test_jsonl_max_line);
  ADD ("/files/missing-input-path", test_missing_input_path);
  ADD ("/files/mixed-binary-and-text", test_mixed_binary_and_text_dir);
  ADD ("/files/content-type-by-name", test_content_type_by_name);
  ADD ("/files/empty-file", test_empty_file);
  ADD ("/files/nul-and-invalid-utf8", test_nul_bytes_and_invalid_utf8);
  ADD ("/files/gzip-and-glob", test_gzip_and_glob);
  ADD ("/files/read-ahead-same-output", test_read_ahead_same_output);
  ADD ("/files/unreadable-entry", test_unreadable_entry);
  if (g_test_slow () || g_getenv ("GALLEY_TEST_HUGE") != NULL)
    ADD ("/files/huge-file", test_huge_file);
  ADD ("/jsonl/bad-lines", test_jsonl_bad_lines);
  ADD ("/jsonl/galley-records", test_jsonl_galley_records);
  ADD ("/stdin/to-stdout", test_stdin_to_stdout);
  ADD ("/stage/fails-one-document-skip", test_stage_fails_one_document_skip);
  ADD ("/stage/fails-one-document-fail", test_stage_fails_one_document_fail);
  ADD ("/stage/init-failure", test_init_failure);
  ADD ("/stage/reject-is-for-sources", test_reject_is_for_sources);
  ADD ("/stage/wrong-abi", test_wrong_abi_in_pipeline);
  ADD ("/stage/crash-is-named", test_crashing_stage_is_named);
  return g_test_run ();
}
