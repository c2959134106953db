/* test-shard.c: the shard protocol, run through the galley binary.
 *
 * A generated corpus with planted duplicates goes through the steps of a
 * sharded run (map, bucket, cluster, filter, merge) for several N; the
 * merged targets must equal byte for byte those of a plain run. Then the
 * ways a chain goes wrong: a shard killed half way and run again, a work
 * directory of another pipeline or galley version, a held step lock, N
 * changed between steps, damaged, truncated and missing files.
 *
 * The runs for N = 1, 3, 4, 8 in both modes are slow (-m slow; the meson
 * entry shard-all runs them outside valgrind).
 */
#include "galley-test-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- corpus ------------------------------------------------------------------------ */

static const char *const syllables[] = {
  "ka", "lo", "mer", "tin", "vas", "ro", "pel", "dun", "sa", "fi", "gor", "ne", "bal", "tu", "wen", "ish",
  "cor", "da", "mi", "zel", "po", "ran", "ve", "hol",
};

static char *
make_word (GRand *r)
{
  GString *w = g_string_new (NULL);
  gint n = g_rand_int_range (r, 1, 4);
  for (gint i = 0; i < n; i++)
    g_string_append (w, syllables[g_rand_int_range (r, 0, G_N_ELEMENTS (syllables))]);
  return g_string_free (w, FALSE);
}

/* A few paragraphs of made-up words. */
static char *
make_article (GRand *r, guint paragraphs)
{
  GString *t = g_string_new (NULL);
  for (guint p = 0; p < paragraphs; p++)
    {
      if (p > 0)
        g_string_append (t, "\n\n");
      gint words = g_rand_int_range (r, 25, 60);
      for (gint i = 0; i < words; i++)
        {
          g_autofree char *w = make_word (r);
          if (i == 0)
            w[0] = g_ascii_toupper (w[0]);
          g_string_append_printf (t, "%s%s", i ? " " : "", w);
          if (i + 1 == words || g_rand_int_range (r, 0, 12) == 0)
            g_string_append_c (t, '.');
        }
    }
  g_string_append_c (t, '\n');
  return g_string_free (t, FALSE);
}

/* The first @words words of @text: a teaser. */
static char *
first_words (const char *text, guint words)
{
  const char *p = text;
  for (guint n = 0; *p && n < words; n++)
    {
      while (*p == ' ' || *p == '\n')
        p++;
      while (*p && *p != ' ' && *p != '\n')
        p++;
    }
  g_autofree char *head = g_strndup (text, p - text);
  return g_strconcat (head, "\n", NULL);
}

/* @text with a few words replaced. */
static char *
near_copy (GRand *r, const char *text)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  guint n = g_strv_length (words);
  for (guint k = 0; k < 3 && n > 4; k++)
    {
      guint i = g_rand_int_range (r, 1, n - 1);
      g_free (words[i]);
      words[i] = make_word (r);
    }
  return g_strjoinv (" ", words);
}

/* The texts of the corpus, in input order: originals with exact copies,
 * near copies, teasers, longer later copies, short, empty and odd texts. */
static GPtrArray *
make_texts (guint n, guint32 seed)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (seed);
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      guint earlier = i > 0 ? g_rand_int_range (r, 0, i) : 0;
      const char *prev = i > 0 ? g_ptr_array_index (texts, earlier) : NULL;
      char *t;
      if (prev != NULL && strlen (prev) > 200 && i % 6 == 1)
        t = g_strdup (prev);                                  /* exact copy */
      else if (prev != NULL && strlen (prev) > 200 && i % 6 == 3)
        t = near_copy (r, prev);                              /* near copy */
      else if (prev != NULL && strlen (prev) > 200 && i % 10 == 5)
        t = first_words (prev, 40);                           /* teaser */
      else if (prev != NULL && strlen (prev) > 200 && i % 10 == 7)
        {
          g_autofree char *more = make_article (r, 1);        /* longer later copy */
          t = g_strconcat (prev, "\n", more, NULL);
        }
      else if (i % 17 == 9)
        t = g_strdup (i % 2 ? "Short note.\n" : "Brief.\n");  /* short, repeated */
      else if (i % 29 == 13)
        t = g_strdup (i % 2 ? "" : " \n\n \n");               /* empty, blank */
      else if (i % 31 == 20)
        {
          g_autofree char *a = make_article (r, 2);           /* invalid UTF-8, CRLF */
          t = g_strconcat ("Caf\xe9 \xff\xfe du port.\r\n\r\n", a, NULL);
        }
      else
        t = make_article (r, g_rand_int_range (r, 1, 5));
      g_ptr_array_add (texts, t);
    }
  return texts;
}

/* The corpus as files in @dir/in (two subdirectories), with one file over
 * max-size and one binary file that the files source skips. */
static void
write_corpus (const char *dir, guint n, guint32 seed)
{
  g_autoptr(GPtrArray) texts = make_texts (n, seed);
  for (guint i = 0; i < texts->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/%s/doc-%04u.txt", i < n / 2 ? "a" : "b", i);
      galley_test_write (dir, name, g_ptr_array_index (texts, i), -1);
    }
  g_autofree char *big = g_strnfill (9000, 'x');
  galley_test_write (dir, "in/a/doc-0003-big.txt", big, -1);
  galley_test_write (dir, "in/b/doc-9999-bin.txt", "PK\x03\x04\0\0\0binary\0\0", 16);
}

/* The same texts as one JSONL file @dir/in.jsonl. */
static void
write_corpus_jsonl (const char *dir, guint n, guint32 seed)
{
  g_autoptr(GPtrArray) texts = make_texts (n, seed);
  g_autoptr(GString) out = g_string_new (NULL);
  for (guint i = 0; i < texts->len; i++)
    {
      g_autoptr(json_object) o = json_object_new_object ();
      g_autofree char *id = g_strdup_printf ("rec-%04u", i);
      g_autofree char *valid = g_utf8_make_valid (g_ptr_array_index (texts, i), -1);
      json_object_object_add (o, "id", json_object_new_string (id));
      json_object_object_add (o, "text", json_object_new_string (valid));
      g_string_append_printf (out, "%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
    }
  galley_test_write (dir, "in.jsonl", out->str, out->len);
}

/* ---- running ----------------------------------------------------------------------- */

/* Runs galley in @dir and checks the exit status; returns the result. */
static RunResult *
expect_run (const char *dir, int status, ...) G_GNUC_NULL_TERMINATED;

static RunResult *
expect_run (const char *dir, int status, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;
  va_start (ap, status);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  RunResult *r = galley_test_runv (dir, NULL, (const char *const *) args->pdata);
  if (r->status != status)
    {
      g_autofree char *cmd = g_strjoinv (" ", (char **) args->pdata);
      g_printerr ("galley %s: exit %d, expected %d\nstdout: %s\nstderr: %s\n", cmd, r->status, status, r->out, r->err);
    }
  g_assert_cmpint (r->status, ==, status);
  return r;
}

#define RUN_OK(dir, ...) run_result_free (expect_run ((dir), 0, __VA_ARGS__, NULL))

static guint
band_count (const char *dir, const char *pipeline)
{
  g_autoptr(RunResult) r = expect_run (dir, 0, "dedup", "bands", pipeline, NULL);
  guint n = atoi (r->out);
  g_assert_cmpuint (n, >=, 2);
  return n;
}

static void
map_steps (const char *dir, const char *pipeline, const char *work, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *shard = g_strdup_printf ("%u/%u", i, n);
      RUN_OK (dir, "run", pipeline, "--shard", shard, "--work", work, "-q");
    }
}

static void
bucket_steps (const char *dir, const char *pipeline, const char *work)
{
  guint bands = band_count (dir, pipeline);
  for (guint b = 0; b < bands; b++)
    {
      g_autofree char *band = g_strdup_printf ("%u", b);
      RUN_OK (dir, "dedup", "bucket", pipeline, "--band", band, "--work", work);
    }
}

static void
filter_merge_steps (const char *dir, const char *pipeline, const char *work, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *shard = g_strdup_printf ("%u/%u", i, n);
      RUN_OK (dir, "dedup", "filter", pipeline, "--shard", shard, "--work", work, "-q");
    }
  RUN_OK (dir, "shard", "merge", pipeline, "--work", work);
}

/* Every step of a sharded run, in order. */
static void
run_chain (const char *dir, const char *pipeline, const char *work, guint n)
{
  map_steps (dir, pipeline, work, n);
  bucket_steps (dir, pipeline, work);
  RUN_OK (dir, "dedup", "cluster", pipeline, "--work", work);
  filter_merge_steps (dir, pipeline, work, n);
}

static char *
read_file (const char *dir, const char *name, gsize *len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *data = NULL;
  g_autoptr(GError) error = NULL;
  g_file_get_contents (path, &data, len, &error);
  g_assert_no_error (error);
  return data;
}

static void
assert_same_file (const char *dir, const char *a, const char *b)
{
  gsize la, lb;
  g_autofree char *da = read_file (dir, a, &la);
  g_autofree char *db = read_file (dir, b, &lb);
  if (la != lb || memcmp (da, db, la) != 0)
    g_printerr ("%s (%zu bytes) differs from %s (%zu bytes)\n", a, la, b, lb);
  g_assert_true (la == lb && memcmp (da, db, la) == 0);
}

static void
rename_in (const char *dir, const char *from, const char *to)
{
  g_autofree char *a = g_build_filename (dir, from, NULL);
  g_autofree char *b = g_build_filename (dir, to, NULL);
  g_assert_cmpint (g_rename (a, b), ==, 0);
}

/* Writes @dir/NAME: files (or jsonl) source, dedup with @dedup_opts, a
 * stage after it, and the two sinks. */
static void
write_pipeline (const char *dir, const char *name, gboolean jsonl, const char *dedup_opts)
{
  g_autofree char *text = g_strdup_printf (
      "[pipeline]\nstages=in;repair;dedup;strip;out;csv\nstats=\nrejects=\nthreads=2\n\n"
      "[stage in]\n%s\n\n"
      "[stage repair]\nplugin=repair\n\n"
      "[stage dedup]\nplugin=dedup\n%s\n\n"
      "[stage strip]\nplugin=strip\n\n"
      "[stage out]\nplugin=export-jsonl\npath=out/all.jsonl\nfsync=false\n\n"
      "[stage csv]\nplugin=export-csv\npath=out/all.csv\nfsync=false\n",
      jsonl ? "plugin=jsonl\npath=in.jsonl" : "plugin=files\npaths=in\nmax-size=4KiB", dedup_opts);
  galley_test_write (dir, name, text, -1);
}

/* The plain run's targets, kept as plain.jsonl and plain.csv. */
static void
plain_run (const char *dir, const char *pipeline)
{
  RUN_OK (dir, "run", pipeline, "-q");
  rename_in (dir, "out/all.jsonl", "plain.jsonl");
  rename_in (dir, "out/all.csv", "plain.csv");
}

static void
assert_same_as_plain (const char *dir)
{
  assert_same_file (dir, "out/all.jsonl", "plain.jsonl");
  assert_same_file (dir, "out/all.csv", "plain.csv");
}

/* The corpus must have given the dedup stage something to do. */
static void
assert_has_duplicates (const char *dir, gboolean annotate)
{
  gsize len;
  g_autofree char *data = read_file (dir, "plain.jsonl", &len);
  guint docs = 0, marked = 0;
  for (const char *p = data; (p = strchr (p, '\n')) != NULL; p++)
    docs++;
  for (const char *p = data; (p = strstr (p, "\"duplicate_of\"")) != NULL; p++)
    marked++;
  if (annotate)
    g_assert_cmpuint (marked, >=, 5);
  else
    g_assert_cmpuint (marked, ==, 0);
  g_assert_cmpuint (docs, >=, 10);
}

/* ---- the invariant ------------------------------------------------------------------ */

static void
check_identical (Fixture *f, gboolean jsonl, const char *dedup_opts, const guint *ns, guint n_ns, guint docs)
{
  if (jsonl)
    write_corpus_jsonl (f->dir, docs, 7);
  else
    write_corpus (f->dir, docs, 7);
  write_pipeline (f->dir, "t.pipeline", jsonl, dedup_opts);
  plain_run (f->dir, "t.pipeline");
  assert_has_duplicates (f->dir, strstr (dedup_opts, "annotate") != NULL);
  for (guint i = 0; i < n_ns; i++)
    {
      g_autofree char *work = g_strdup_printf ("work-%u", ns[i]);
      run_chain (f->dir, "t.pipeline", work, ns[i]);
      assert_same_as_plain (f->dir);
    }
}

/* Small enough for valgrind: few bands, N = 3. */
static void
test_identical_quick (Fixture *f, gconstpointer data)
{
  static const guint ns[] = { 3 };
  check_identical (f, FALSE, "mode=annotate\nbands=4", ns, G_N_ELEMENTS (ns), 60);
}

static void
test_identical_annotate (Fixture *f, gconstpointer data)
{
  static const guint ns[] = { 1, 3, 4, 8 };
  if (!g_test_slow ())
    {
      g_test_skip ("slow (-m slow)");
      return;
    }
  check_identical (f, FALSE, "mode=annotate", ns, G_N_ELEMENTS (ns), 300);
}

static void
test_identical_drop (Fixture *f, gconstpointer data)
{
  static const guint ns[] = { 1, 3, 4, 8 };
  if (!g_test_slow ())
    {
      g_test_skip ("slow (-m slow)");
      return;
    }
  check_identical (f, FALSE, "mode=drop\npolicy=longest", ns, G_N_ELEMENTS (ns), 300);
}

static void
test_identical_jsonl (Fixture *f, gconstpointer data)
{
  static const guint ns[] = { 1, 4, 8 };
  if (!g_test_slow ())
    {
      g_test_skip ("slow (-m slow)");
      return;
    }
  check_identical (f, TRUE, "mode=annotate\npolicy=longest", ns, G_N_ELEMENTS (ns), 200);
}

/* A JSONL file of several mebibytes (its lines are counted a mebibyte at a
 * time) whose last line has no newline, split three ways. */
static void
test_identical_jsonl_big (Fixture *f, gconstpointer data)
{
  static const guint ns[] = { 3 };
  g_autoptr(GString) out = g_string_new (NULL);
  for (guint i = 0; i < 3600; i++)
    {
      g_string_append_printf (out, "{\"id\":\"r%05u\",\"text\":\"Record %u of the feed.", i, i);
      for (guint w = 0; w < 120; w++)
        g_string_append_printf (out, " w%u", (i * 7 + w * 13) % 997);
      g_string_append (out, i + 1 < 3600 ? "\"}\n" : "\"}");
    }
  g_assert_cmpuint (out->len, >, 2 << 20);
  galley_test_write (f->dir, "in.jsonl", out->str, out->len);
  write_pipeline (f->dir, "t.pipeline", TRUE, "mode=annotate\npolicy=longest");
  plain_run (f->dir, "t.pipeline");
  gsize len;
  g_autofree char *plain = read_file (f->dir, "plain.jsonl", &len);
  guint docs = 0;
  for (const char *p = plain; (p = strchr (p, '\n')) != NULL; p++)
    docs++;
  g_assert_cmpuint (docs, ==, 3600);
  for (guint i = 0; i < G_N_ELEMENTS (ns); i++)
    {
      g_autofree char *work = g_strdup_printf ("work-%u", ns[i]);
      run_chain (f->dir, "t.pipeline", work, ns[i]);
      assert_same_as_plain (f->dir);
    }
}

/* Stages before dedup that annotate: the stored documents with annotations
 * (kept whole as JSON) and without (text stored apart) both come back as
 * they were. */
static void
test_identical_annotations (Fixture *f, gconstpointer data)
{
  write_corpus (f->dir, 40, 5);
  static const char *const named[] = {
    "Angela Merkel met Emmanuel Macron in Paris on Monday to discuss the budget of the European Union.\n",
    "The Bank of England raised rates by 0.25% on Thursday, Andrew Bailey said in London.\n",
    "Angela Merkel met Emmanuel Macron in Paris on Monday to discuss the budget of the European Union.\n",
  };
  for (guint i = 0; i < G_N_ELEMENTS (named); i++)
    {
      g_autofree char *name = g_strdup_printf ("in/b/named-%u.txt", i);
      galley_test_write (f->dir, name, named[i], -1);
    }
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;entities;dedup;out;csv\nstats=\nrejects=\nthreads=2\n\n"
                     "[stage in]\nplugin=files\npaths=in\nmax-size=4KiB\n\n"
                     "[stage entities]\nplugin=entities\n\n"
                     "[stage dedup]\nplugin=dedup\nmode=annotate\nbands=4\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=out/all.jsonl\nfsync=false\n\n"
                     "[stage csv]\nplugin=export-csv\npath=out/all.csv\nfsync=false\n", -1);
  plain_run (f->dir, "t.pipeline");
  g_autofree char *plain = read_file (f->dir, "plain.jsonl", NULL);
  g_assert_nonnull (strstr (plain, "\"entities\":[{"));
  map_steps (f->dir, "t.pipeline", "work", 2);
  /* both kinds of record are in the store */
  gsize l0, l1;
  g_autofree char *s0 = read_file (f->dir, "work/docs/shard-0.docs", &l0);
  g_autofree char *s1 = read_file (f->dir, "work/docs/shard-1.docs", &l1);
  g_autofree char *all = g_strconcat ("\n", s0, s1, NULL);
  g_assert_nonnull (strstr (all, "\n-\n{"));
  g_assert_nonnull (strstr (all, "\"text\":\"\""));
  bucket_steps (f->dir, "t.pipeline", "work");
  RUN_OK (f->dir, "dedup", "cluster", "t.pipeline", "--work", "work");
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *shard = g_strdup_printf ("%u/2", i);
      RUN_OK (f->dir, "dedup", "filter", "t.pipeline", "--shard", shard, "--work", "work", "-q");
    }
  RUN_OK (f->dir, "shard", "merge", "t.pipeline", "--work", "work");
  assert_same_as_plain (f->dir);
}

/* No dedup stage: the map steps run the whole pipeline. */
static void
test_no_dedup (Fixture *f, gconstpointer data)
{
  write_corpus (f->dir, 40, 3);
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;out;csv\nstats=\nrejects=\n\n"
                     "[stage in]\nplugin=files\npaths=in\nmax-size=4KiB\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=out/all.jsonl\nfsync=false\n\n"
                     "[stage csv]\nplugin=export-csv\npath=out/all.csv\nfsync=false\nbom=true\n", -1);
  plain_run (f->dir, "t.pipeline");
  map_steps (f->dir, "t.pipeline", "work", 4);
  g_autoptr(RunResult) r = expect_run (f->dir, 78, "dedup", "filter", "t.pipeline", "--shard", "0/4", "--work", "work",
                                       NULL);
  RUN_OK (f->dir, "shard", "merge", "t.pipeline", "--work", "work");
  assert_same_as_plain (f->dir);
}

/* The example plugins' directory: the out-of-tree build of `make test`,
 * else the in-tree one. */
static const char *
example_plugin_dir (void)
{
  const char *dir = g_getenv ("GALLEY_EXAMPLE_PLUGIN_DIR");
  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    dir = g_getenv ("GALLEY_EXAMPLE_INTREE_DIR");
  return dir;
}

/* An out-of-tree sink (examples/tsv) that declares it merges parts: the
 * chain's merged file is byte for byte a plain run's, for N = 1, 3 and 4,
 * with and without a dedup stage before it. */
static void
test_out_of_tree_sink (Fixture *f, gconstpointer data)
{
  gboolean dedup = GPOINTER_TO_INT (data);
  const char *plugins = example_plugin_dir ();
  g_assert_nonnull (plugins);
  g_autofree char *path = g_strdup_printf ("%s:%s", plugins, g_getenv ("GALLEY_PLUGIN_PATH"));
  g_setenv ("GALLEY_PLUGIN_PATH", path, TRUE);
  write_corpus (f->dir, 40, 11);
  g_autofree char *text = g_strdup_printf (
      "[pipeline]\nstages=in;%sstrip;out\nstats=\nrejects=\nthreads=2\n\n"
      "[stage in]\nplugin=files\npaths=in\nmax-size=4KiB\n\n%s"
      "[stage strip]\nplugin=strip\n\n"
      "[stage out]\nplugin=tsv\npath=out/all.tsv\n",
      dedup ? "dedup;" : "", dedup ? "[stage dedup]\nplugin=dedup\nmode=drop\nbands=8\n\n" : "");
  galley_test_write (f->dir, "t.pipeline", text, -1);
  RUN_OK (f->dir, "run", "t.pipeline", "-q");
  rename_in (f->dir, "out/all.tsv", "plain.tsv");
  gsize len;
  g_autofree char *plain = read_file (f->dir, "plain.tsv", &len);
  g_assert_true (g_str_has_prefix (plain, "id\twords\ttitle\n"));
  const guint ns[] = { 1, 3, 4 };
  for (guint i = 0; i < G_N_ELEMENTS (ns); i++)
    {
      g_autofree char *work = g_strdup_printf ("work-%u", ns[i]);
      if (dedup)
        run_chain (f->dir, "t.pipeline", work, ns[i]);
      else
        {
          map_steps (f->dir, "t.pipeline", work, ns[i]);
          RUN_OK (f->dir, "shard", "merge", "t.pipeline", "--work", work);
        }
      assert_same_file (f->dir, "out/all.tsv", "plain.tsv");
      g_autofree char *merged = g_build_filename (f->dir, "out", "all.tsv", NULL);
      g_assert_cmpint (g_unlink (merged), ==, 0);
    }
  /* a source that cannot split its input is refused, naming those that can */
  galley_test_write (f->dir, "stdin.pipeline",
                     "[pipeline]\nstages=in;out\n[stage in]\nplugin=stdin\n[stage out]\nplugin=tsv\npath=o.tsv\n", -1);
  g_autoptr(RunResult) r = expect_run (f->dir, 78, "run", "stdin.pipeline", "--shard", "0/2", "--work", "w2", NULL);
  g_assert_nonnull (strstr (r->err, "cannot read a shard's range"));
  g_assert_nonnull (strstr (r->err, "files"));
  g_assert_nonnull (strstr (r->err, "jsonl"));
}

/* A skipped file (too large, binary) is counted by one map step only. */
static void
test_skip_counted_once (Fixture *f, gconstpointer data)
{
  write_corpus (f->dir, 40, 5);
  write_pipeline (f->dir, "t.pipeline", FALSE, "bands=4");
  gint64 too_large = 0;
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *shard = g_strdup_printf ("%u/3", i);
      g_autofree char *stats = g_strdup_printf ("stats-%u.json", i);
      RUN_OK (f->dir, "run", "t.pipeline", "--shard", shard, "--work", "work", "-q", "--stats", stats);
      g_autofree char *path = g_build_filename (f->dir, stats, NULL);
      g_autoptr(json_object) o = json_object_from_file (path);
      g_assert_nonnull (o);
      json_object *stages = json_object_object_get (o, "stages");
      json_object *in = json_object_array_get_idx (stages, 0);
      json_object *dropped = json_object_object_get (in, "dropped");
      json_object *n = NULL;
      if (json_object_object_get_ex (dropped, "too-large", &n))
        too_large += json_object_get_int64 (n);
    }
  g_assert_cmpint (too_large, ==, 1);
}

/* ---- bad input ---------------------------------------------------------------------- */

/* A map step killed half way leaves no marker; the later steps refuse to
 * start, and running the map step again gives the same result. */
static void
test_killed_and_rerun (Fixture *f, gconstpointer data)
{
  write_corpus (f->dir, 60, 11);
  write_pipeline (f->dir, "t.pipeline", FALSE, "mode=annotate\nbands=4");
  plain_run (f->dir, "t.pipeline");
  RUN_OK (f->dir, "run", "t.pipeline", "--shard", "0/2", "--work", "work", "-q");
  g_setenv ("GALLEY_FAULT", "document:7", TRUE);
  g_autoptr(RunResult) killed = galley_test_run (f->dir, NULL, "run", "t.pipeline", "--shard", "1/2", "--work", "work",
                                                 "-q", NULL);
  g_unsetenv ("GALLEY_FAULT");
  g_assert_cmpint (killed->status, !=, 0);
  g_autofree char *marker = g_build_filename (f->dir, "work", "markers", "map-1.done", NULL);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_autoptr(RunResult) early = expect_run (f->dir, 66, "dedup", "bucket", "t.pipeline", "--band", "0", "--work", "work",
                                           NULL);
  g_assert_nonnull (strstr (early->err, "map-1"));
  RUN_OK (f->dir, "run", "t.pipeline", "--shard", "1/2", "--work", "work", "-q");
  bucket_steps (f->dir, "t.pipeline", "work");
  RUN_OK (f->dir, "dedup", "cluster", "t.pipeline", "--work", "work");
  /* a filter step killed too, then every step of the chain run again */
  g_setenv ("GALLEY_FAULT", "document:5", TRUE);
  g_autoptr(RunResult) killed2 = galley_test_run (f->dir, NULL, "dedup", "filter", "t.pipeline", "--shard", "0/2",
                                                  "--work", "work", "-q", NULL);
  g_unsetenv ("GALLEY_FAULT");
  g_assert_cmpint (killed2->status, !=, 0);
  g_autoptr(RunResult) merge = expect_run (f->dir, 66, "shard", "merge", "t.pipeline", "--work", "work", NULL);
  run_chain (f->dir, "t.pipeline", "work", 2);
  assert_same_as_plain (f->dir);
}

/* A work directory belongs to one pipeline, one N and one galley version. */
static void
test_foreign_work_dir (Fixture *f, gconstpointer data)
{
  write_corpus (f->dir, 20, 13);
  write_pipeline (f->dir, "t.pipeline", FALSE, "bands=4");
  write_pipeline (f->dir, "other.pipeline", FALSE, "bands=4\nthreshold=0.5");
  map_steps (f->dir, "t.pipeline", "work", 2);

  g_autoptr(RunResult) other = expect_run (f->dir, 78, "run", "other.pipeline", "--shard", "0/2", "--work", "work", NULL);
  g_assert_nonnull (strstr (other->err, "another pipeline"));
  g_autoptr(RunResult) other2 = expect_run (f->dir, 78, "dedup", "bucket", "other.pipeline", "--band", "0", "--work",
                                            "work", NULL);
  /* N changed between steps */
  g_autoptr(RunResult) n3 = expect_run (f->dir, 78, "run", "t.pipeline", "--shard", "0/3", "--work", "work", NULL);
  g_assert_nonnull (strstr (n3->err, "N must stay the same"));
  g_autoptr(RunResult) n3f = expect_run (f->dir, 78, "dedup", "filter", "t.pipeline", "--shard", "2/3", "--work", "work",
                                         NULL);
  /* the pipeline file edited after the first step */
  write_pipeline (f->dir, "t.pipeline", FALSE, "bands=4\nmin-words=9");
  g_autoptr(RunResult) edited = expect_run (f->dir, 78, "dedup", "cluster", "t.pipeline", "--work", "work", NULL);
  write_pipeline (f->dir, "t.pipeline", FALSE, "bands=4");

  /* another galley version */
  g_autofree char *path = g_build_filename (f->dir, "work", "work.json", NULL);
  g_autoptr(json_object) o = json_object_from_file (path);
  g_assert_nonnull (o);
  json_object_object_add (o, "galley_version", json_object_new_string ("0.0.1"));
  g_assert_cmpint (json_object_to_file (path, o), ==, 0);
  g_autoptr(RunResult) version = expect_run (f->dir, 78, "dedup", "bucket", "t.pipeline", "--band", "1", "--work",
                                             "work", NULL);
  g_assert_nonnull (strstr (version->err, "0.0.1"));
  /* not a work file at all */
  galley_test_write (f->dir, "work/work.json", "{ not json", -1);
  g_autoptr(RunResult) garbage = expect_run (f->dir, 78, "run", "t.pipeline", "--shard", "0/2", "--work", "work", NULL);
  /* usage errors */
  g_autoptr(RunResult) u1 = expect_run (f->dir, 64, "run", "t.pipeline", "--shard", "2/2", "--work", "w2", NULL);
  g_autoptr(RunResult) u2 = expect_run (f->dir, 64, "run", "t.pipeline", "--shard", "0/2", NULL);
  g_autoptr(RunResult) u3 = expect_run (f->dir, 64, "run", "t.pipeline", "--shard", "x", "--work", "w2", NULL);
  g_autoptr(RunResult) u4 = expect_run (f->dir, 64, "run", "t.pipeline", "--shard", "0/2", "--work", "w2", "--set",
                                        "dedup.mode=drop", NULL);
  g_autoptr(RunResult) u5 = expect_run (f->dir, 64, "dedup", "bucket", "t.pipeline", "--work", "w2", NULL);
  g_autoptr(RunResult) u6 = expect_run (f->dir, 64, "dedup", "bucket", "t.pipeline", "--band", "99", "--work", "w2",
                                        NULL);
}

/* Two chains on one work directory: a step whose lock is held exits 75. */
static void
test_lock_held (Fixture *f, gconstpointer data)
{
  write_corpus (f->dir, 20, 17);
  write_pipeline (f->dir, "t.pipeline", FALSE, "bands=4");
  map_steps (f->dir, "t.pipeline", "work", 2);
  const char *steps[] = { "bucket-0", "map-1", "cluster", "merge" };
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autofree char *name = g_strconcat (steps[i], ".lock", NULL);
      g_autofree char *path = g_build_filename (f->dir, "work", "markers", name, NULL);
      int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      g_assert_cmpint (fd, >=, 0);
      g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);
      g_autoptr(RunResult) r = NULL;
      if (i == 0)
        r = expect_run (f->dir, 75, "dedup", "bucket", "t.pipeline", "--band", "0", "--work", "work", NULL);
      else if (i == 1)
        r = expect_run (f->dir, 75, "run", "t.pipeline", "--shard", "1/2", "--work", "work", NULL);
      else if (i == 2)
        r = expect_run (f->dir, 75, "dedup", "cluster", "t.pipeline", "--work", "work", NULL);
      else
        r = expect_run (f->dir, 75, "shard", "merge", "t.pipeline", "--work", "work", NULL);
      g_assert_nonnull (strstr (r->err, "another instance"));
      close (fd);
    }
  /* the held map step was not disturbed: its marker is still there */
  g_autofree char *marker = g_build_filename (f->dir, "work", "markers", "map-1.done", NULL);
  g_assert_true (g_file_test (marker, G_FILE_TEST_EXISTS));
  run_chain (f->dir, "t.pipeline", "work", 2);
}

static void
flip_byte (const char *dir, const char *name, gsize at_from_end)
{
  gsize len;
  g_autofree char *data = read_file (dir, name, &len);
  g_assert_cmpuint (len, >, at_from_end);
  data[len - 1 - at_from_end] ^= 0x5a;
  galley_test_write (dir, name, data, len);
}

static void
truncate_file (const char *dir, const char *name, gsize cut)
{
  gsize len;
  g_autofree char *data = read_file (dir, name, &len);
  g_assert_cmpuint (len, >, cut);
  galley_test_write (dir, name, data, len - cut);
}

/* Damaged, truncated and missing files and markers are found before use. */
static void
test_damaged_files (Fixture *f, gconstpointer data)
{
  write_corpus (f->dir, 40, 19);
  write_pipeline (f->dir, "t.pipeline", FALSE, "mode=annotate\nbands=4");
  plain_run (f->dir, "t.pipeline");
  map_steps (f->dir, "t.pipeline", "work", 2);

  /* bad bytes in a band file (same size: only the checksum tells) */
  flip_byte (f->dir, "work/dedup/band-2/shard-1", 20);
  g_autoptr(RunResult) bad = expect_run (f->dir, 65, "dedup", "bucket", "t.pipeline", "--band", "2", "--work", "work",
                                         NULL);
  g_assert_nonnull (strstr (bad->err, "damaged"));
  RUN_OK (f->dir, "run", "t.pipeline", "--shard", "1/2", "--work", "work", "-q");

  /* a truncated signature file: the marker's sizes tell */
  truncate_file (f->dir, "work/dedup/sigs-0", 10);
  g_autoptr(RunResult) cut = expect_run (f->dir, 65, "dedup", "bucket", "t.pipeline", "--band", "0", "--work", "work",
                                         NULL);
  g_assert_nonnull (strstr (cut->err, "truncated"));
  RUN_OK (f->dir, "run", "t.pipeline", "--shard", "0/2", "--work", "work", "-q");

  /* missing markers: each later step names the one it needs */
  g_autoptr(RunResult) no_bucket = expect_run (f->dir, 66, "dedup", "cluster", "t.pipeline", "--work", "work", NULL);
  g_assert_nonnull (strstr (no_bucket->err, "bucket-"));
  bucket_steps (f->dir, "t.pipeline", "work");
  g_autoptr(RunResult) no_cluster = expect_run (f->dir, 66, "dedup", "filter", "t.pipeline", "--shard", "0/2", "--work",
                                                "work", NULL);
  g_assert_nonnull (strstr (no_cluster->err, "cluster"));
  RUN_OK (f->dir, "dedup", "cluster", "t.pipeline", "--work", "work");
  g_autoptr(RunResult) no_filter = expect_run (f->dir, 66, "shard", "merge", "t.pipeline", "--work", "work", NULL);
  g_assert_nonnull (strstr (no_filter->err, "filter-0"));

  /* a truncated store of documents, a missing group file */
  truncate_file (f->dir, "work/docs/shard-1.docs", 30);
  g_autoptr(RunResult) docs = expect_run (f->dir, 65, "dedup", "filter", "t.pipeline", "--shard", "1/2", "--work",
                                          "work", NULL);
  RUN_OK (f->dir, "run", "t.pipeline", "--shard", "1/2", "--work", "work", "-q");
  g_autofree char *groups = g_build_filename (f->dir, "work", "dedup", "groups-1", NULL);
  g_assert_cmpint (g_unlink (groups), ==, 0);
  g_autoptr(RunResult) missing = expect_run (f->dir, 66, "dedup", "cluster", "t.pipeline", "--work", "work", NULL);
  g_assert_nonnull (strstr (missing->err, "groups-1"));
  /* a missing marker of a map step */
  g_autofree char *marker = g_build_filename (f->dir, "work", "markers", "map-0.done", NULL);
  g_assert_cmpint (g_unlink (marker), ==, 0);
  g_autoptr(RunResult) no_map = expect_run (f->dir, 66, "dedup", "bucket", "t.pipeline", "--band", "1", "--work", "work",
                                            NULL);
  g_assert_nonnull (strstr (no_map->err, "map-0"));

  /* after all that, the chain run again gives the plain result */
  run_chain (f->dir, "t.pipeline", "work", 2);
  assert_same_as_plain (f->dir);
}

/* What shard mode cannot do is refused before anything is read. */
static void
test_refusals (Fixture *f, gconstpointer data)
{
  write_corpus (f->dir, 10, 23);
  static const char *const pipelines[] = {
    "[pipeline]\nstages=in;out\n[stage in]\nplugin=stdin\n[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
    "[pipeline]\nstages=in;out\n[stage in]\nplugin=files\npaths=in\n[stage out]\nplugin=export-jsonl\npath=-\n",
    "[pipeline]\nstages=in;out\n[stage in]\nplugin=files\npaths=in\n"
    "[stage out]\nplugin=export-csv\npath=o.csv\nappend=true\n",
    "[pipeline]\nstages=in;out\n[stage in]\nplugin=files\npaths=in\n[stage out]\nplugin=export-sqlite\npath=o.db\n",
    "[pipeline]\nstages=in;d;out\n[stage in]\nplugin=files\npaths=in\n[stage d]\nplugin=dedup\nstate-dir=st\n"
    "[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
    "[pipeline]\nstages=in;in2;out\n[stage in]\nplugin=files\npaths=in/a\n[stage in2]\nplugin=files\npaths=in/b\n"
    "[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
    "[pipeline]\nstages=in;d;d2;out\n[stage in]\nplugin=files\npaths=in\n[stage d]\nplugin=dedup\n"
    "[stage d2]\nplugin=dedup\n[stage out]\nplugin=export-jsonl\npath=o.jsonl\n",
  };
  for (guint i = 0; i < G_N_ELEMENTS (pipelines); i++)
    {
      g_autofree char *name = g_strdup_printf ("p%u.pipeline", i);
      galley_test_write (f->dir, name, pipelines[i], -1);
      g_autoptr(RunResult) r = expect_run (f->dir, 78, "run", name, "--shard", "0/2", "--work", "work", NULL);
      g_assert_nonnull (strstr (r->err, "shard mode"));
      g_autofree char *work = g_strdup_printf ("work-%u", i);
      g_autoptr(RunResult) init = expect_run (f->dir, 78, "shard", "init", name, "--work", work, "--shards", "2", NULL);
      g_autofree char *o = g_build_filename (f->dir, "o.jsonl", NULL);
      g_assert_false (g_file_test (o, G_FILE_TEST_EXISTS));
    }
}

/* ---- index merge -------------------------------------------------------------------- */

/* A backfill's documents added to a state-dir: a later plain run with that
 * state-dir finds their duplicates, and a second merge adds nothing. */
static void
test_index_merge (Fixture *f, gconstpointer data)
{
  write_corpus (f->dir, 60, 29);
  write_pipeline (f->dir, "t.pipeline", FALSE, "mode=annotate\nbands=8");
  run_chain (f->dir, "t.pipeline", "work", 3);
  g_autoptr(RunResult) early = expect_run (f->dir, 64, "dedup", "index", "merge", "t.pipeline", "--work", "work", NULL);
  RUN_OK (f->dir, "dedup", "index", "merge", "t.pipeline", "--work", "work", "--state-dir", "state");
  g_autoptr(RunResult) stats = expect_run (f->dir, 0, "dedup", "stats", "--json", "state", NULL);
  g_autoptr(json_object) s = json_tokener_parse (stats->out);
  g_assert_nonnull (s);
  gint64 docs = json_object_get_int64 (json_object_object_get (s, "documents"));
  g_assert_cmpint (docs, >, 40);
  /* again: the same backfill is not added twice */
  g_autoptr(RunResult) again = expect_run (f->dir, 0, "dedup", "index", "merge", "t.pipeline", "--work", "work",
                                           "--state-dir", "state", NULL);
  g_autoptr(RunResult) stats2 = expect_run (f->dir, 0, "dedup", "stats", "--json", "state", NULL);
  g_autoptr(json_object) s2 = json_tokener_parse (stats2->out);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (s2, "documents")), ==, docs);

  /* a cron run over copies of some backfilled texts (under other names)
   * and new texts, with the state-dir */
  g_autoptr(GPtrArray) texts = make_texts (60, 29);
  g_autoptr(GString) in = g_string_new (NULL);
  guint copies = 0;
  for (guint i = 0; i < texts->len && copies < 6; i++)
    {
      const char *t = g_ptr_array_index (texts, i);
      if (strlen (t) < 300)
        continue;
      g_autofree char *name = g_strdup_printf ("cron/new-%u.txt", i);
      galley_test_write (f->dir, name, t, -1);
      copies++;
    }
  g_autoptr(GRand) r = g_rand_new_with_seed (99);
  for (guint i = texts->len; i-- > 0;)
    if (strlen (g_ptr_array_index (texts, i)) > 600)
      {
        g_autofree char *near = near_copy (r, g_ptr_array_index (texts, i));  /* a near copy */
        galley_test_write (f->dir, "cron/near.txt", near, -1);
        copies++;
        break;
      }
  g_autofree char *fresh = make_article (r, 3);
  galley_test_write (f->dir, "cron/zz-fresh.txt", fresh, -1);
  galley_test_write (f->dir, "cron.pipeline",
                     "[pipeline]\nstages=in;repair;dedup;out\nstats=\nrejects=\n\n"
                     "[stage in]\nplugin=files\npaths=cron\n\n[stage repair]\nplugin=repair\n\n"
                     "[stage dedup]\nplugin=dedup\nmode=annotate\nbands=8\nstate-dir=state\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=cron.jsonl\nfsync=false\n", -1);
  RUN_OK (f->dir, "run", "cron.pipeline", "-q");
  g_autofree char *out = g_build_filename (f->dir, "cron.jsonl", NULL);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, ==, copies + 1);
  guint found = 0;
  for (guint i = 0; i < recs->len; i++)
    {
      json_object *dedup = json_object_object_get (g_ptr_array_index (recs, i), "dedup");
      const char *of = galley_test_get_string (dedup, "duplicate_of");
      const char *id = galley_test_get_string (g_ptr_array_index (recs, i), "id");
      if (of != NULL)
        {
          g_assert_nonnull (strstr (of, "in/"));   /* a backfilled document */
          found++;
        }
      else if (strstr (id, "zz-fresh") == NULL)
        g_error ("%s was not found as a copy of a backfilled document", id);
    }
  g_assert_cmpuint (found, ==, copies);

  /* the merge needs the cluster step and refuses a damaged decisions file */
  g_autofree char *marker = g_build_filename (f->dir, "work", "markers", "cluster.done", NULL);
  g_assert_cmpint (g_unlink (marker), ==, 0);
  g_autoptr(RunResult) no_cluster = expect_run (f->dir, 66, "dedup", "index", "merge", "t.pipeline", "--work", "work",
                                                "--state-dir", "state2", NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/shard/identical/quick", test_identical_quick);
  ADD ("/shard/identical/annotate", test_identical_annotate);
  ADD ("/shard/identical/drop-longest", test_identical_drop);
  ADD ("/shard/identical/jsonl", test_identical_jsonl);
  ADD ("/shard/identical/jsonl-big", test_identical_jsonl_big);
  ADD ("/shard/identical/annotations", test_identical_annotations);
  ADD ("/shard/no-dedup", test_no_dedup);
  ADD ("/shard/skip-counted-once", test_skip_counted_once);
  ADD ("/shard/killed-and-rerun", test_killed_and_rerun);
  ADD ("/shard/foreign-work-dir", test_foreign_work_dir);
  ADD ("/shard/lock-held", test_lock_held);
  ADD ("/shard/damaged-files", test_damaged_files);
  ADD ("/shard/refusals", test_refusals);
  ADD ("/shard/index-merge", test_index_merge);
  g_test_add ("/shard/out-of-tree-sink", Fixture, GINT_TO_POINTER (FALSE), galley_test_fixture_setup,
              test_out_of_tree_sink, galley_test_fixture_teardown);
  g_test_add ("/shard/out-of-tree-sink-dedup", Fixture, GINT_TO_POINTER (TRUE), galley_test_fixture_setup,
              test_out_of_tree_sink, galley_test_fixture_teardown);
  return g_test_run ();
}
