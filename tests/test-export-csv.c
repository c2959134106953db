/* test-export-csv.c: the export-csv sink: RFC 4180 quoting, columns
 * (meta, entities, plugin fields), bad cell content, options, atomic
 * replace, append with a cut-off tail, a full disk, locks and exit codes. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>
#include <fcntl.h>

/* A harness for export-csv writing @dir/@name, with extra "key=value"
 * options (NULL-terminated). */
static GalleyHarness *
harness (const char *dir, const char *name, GError **error, ...)
{
  g_autoptr(GPtrArray) opts = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (opts, g_strdup_printf ("path=%s/%s", dir, name));
  g_ptr_array_add (opts, g_strdup ("fsync=false"));
  va_list ap;
  va_start (ap, error);
  for (const char *s = va_arg (ap, const char *); s != NULL; s = va_arg (ap, const char *))
    g_ptr_array_add (opts, g_strdup (s));
  va_end (ap);
  g_ptr_array_add (opts, NULL);
  return galley_harness_new ("export-csv", (const char *const *) opts->pdata, error);
}

static GalleyDocument *
simple_doc (const char *id, const char *text)
{
  GalleyDocument *doc = galley_document_new (id, "test");
  galley_document_set_text (doc, text, -1);
  return doc;
}

static void
push (GalleyHarness *h, GalleyDocument *doc)
{
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_no_error (error);
}

static void
finish (GalleyHarness *h)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (galley_harness_finish (h, &error));
  g_assert_no_error (error);
}

static char *
read_file (const char *dir, const char *name, gsize *len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *content = NULL;
  g_assert_true (g_file_get_contents (path, &content, len, NULL));
  return content;
}

/* Writes three documents in one finished run. */
static void
write_three (const char *dir, const char *name, const char *first_opt, ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (dir, name, &error, "columns=id;text", first_opt, NULL);
  g_assert_no_error (error);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *id = g_strdup_printf ("d%d", i);
      g_autoptr(GalleyDocument) doc = simple_doc (id, "x");
      push (h, doc);
    }
  finish (h);
}

static void
test_quoting_and_columns (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (f->dir, "out.csv", &error,
                                        "columns=id;meta.title;meta.tags;meta.n;meta.x.y;text;entities.PER;entities.ORG;entities;dedup.cluster;dedup.similarity;missing.field",
                                        NULL);
  g_assert_no_error (error);

  /* Zoë Brandt (canonical Zoe Brandt) twice, ACME without canonical */
  g_autoptr(GalleyDocument) a = simple_doc ("a,1", "Zoë Brandt met ACME.\nZoë Brandt said \"no\".");
  galley_document_set_meta_string (a, "title", "Strike, day \"2\"");
  json_object *tags = json_object_new_array ();
  json_object_array_add (tags, json_object_new_string ("port"));
  json_object_array_add (tags, json_object_new_string ("labour"));
  json_object_object_add (galley_document_get_meta (a), "tags", tags);
  json_object_object_add (galley_document_get_meta (a), "n", json_object_new_int (42));
  json_object *x = json_object_new_object ();
  json_object_object_add (x, "y", json_object_new_string ("deep"));
  json_object_object_add (galley_document_get_meta (a), "x", x);
  g_assert_nonnull (galley_document_add_annotation (a, "entities", "PER", 0, 10, "Zoe Brandt"));
  g_assert_nonnull (galley_document_add_annotation (a, "entities", "ORG", 15, 19, NULL));
  g_assert_nonnull (galley_document_add_annotation (a, "entities", "PER", 21, 31, "Zoe Brandt"));
  g_assert_nonnull (galley_document_add_annotation (a, "sentences", "S", 0, 20, NULL));   /* other layer: ignored */
  json_object *dedup = json_object_new_object ();
  json_object_object_add (dedup, "cluster", json_object_new_string ("a,1"));
  json_object_object_add (dedup, "similarity", json_object_new_double_s (0.68, "0.680"));
  galley_document_set_field (a, "dedup", dedup);
  push (h, a);

  /* metadata with a NUL, invalid UTF-8 and a CR; an empty text */
  g_autoptr(GalleyDocument) b = simple_doc ("b", "");
  json_object_object_add (galley_document_get_meta (b), "title", json_object_new_string_len ("nul\0here", 8));
  json_object_object_add (galley_document_get_meta (b), "tags", json_object_new_string_len ("bad\xff\xfe!\r", 7));
  push (h, b);
  finish (h);

  gsize len;
  g_autofree char *out = read_file (f->dir, "out.csv", &len);
  g_assert_cmpstr (out, ==,
                   "id,meta.title,meta.tags,meta.n,meta.x.y,text,entities.PER,entities.ORG,entities,dedup.cluster,dedup.similarity,missing.field\r\n"
                   "\"a,1\",\"Strike, day \"\"2\"\"\",port;labour,42,deep,\"Zoë Brandt met ACME.\nZoë Brandt said \"\"no\"\".\","
                   "Zoe Brandt,ACME,PER:Zoe Brandt;ORG:ACME,\"a,1\",0.680,\r\n"
                   "b,nul\xEF\xBF\xBDhere,\"bad\xEF\xBF\xBD\xEF\xBF\xBD!\r\",,,,,,,,,\r\n");
  g_assert_true (g_utf8_validate (out, len, NULL));
}

static void
test_format_options (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (f->dir, "out.tsv", &error, "columns=id;text", "delimiter=tab",
                                        "newline=lf", "quote=all", "bom=true", "header=false", NULL);
  g_assert_no_error (error);
  g_autoptr(GalleyDocument) doc = simple_doc ("id\t1", "a\tb");
  push (h, doc);
  finish (h);
  g_autofree char *out = read_file (f->dir, "out.tsv", NULL);
  g_assert_cmpstr (out, ==, "\xEF\xBB\xBF\"id\t1\"\t\"a\tb\"\n");
}

static void
test_bad_options (Fixture *f, gconstpointer data)
{
  static const char *const bad[][2] = {
    { "delimiter=\"", "delimiter" }, { "delimiter=ab", "delimiter" }, { "delimiter=", "delimiter" },
    { "columns=meta", "needs a key" }, { "columns=entities.PER.x", "entities.TYPE" },
    { "columns=id;meta..x", "empty part" }, { "columns=", "columns: empty" },
    { "newline=cr", "newline" }, { "path=", "path: empty" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GalleyHarness) h = harness (f->dir, "out.csv", &error, bad[i][0], NULL);
      g_assert_null (h);
      g_assert_nonnull (error);
      if (strstr (error->message, bad[i][1]) == NULL)
        g_error ("%s: unexpected message '%s'", bad[i][0], error->message);
    }
  g_autoptr(GError) error = NULL;
  const char *opts[] = { "path=-", "append=true", NULL };
  g_assert_null (galley_harness_new ("export-csv", opts, &error));
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  /* nothing was created by any of these */
  g_autofree char *path = g_build_filename (f->dir, "out.csv", NULL);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_atomic_replace (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "out.csv", "old content\n", -1);
  {
    /* a run that fails before finish() leaves the old file and no temp file */
    g_autoptr(GError) error = NULL;
    g_autoptr(GalleyHarness) h = harness (f->dir, "out.csv", &error, "columns=id", NULL);
    g_autoptr(GalleyDocument) doc = simple_doc ("new", "x");
    push (h, doc);
  }
  g_autofree char *old = read_file (f->dir, "out.csv", NULL);
  g_assert_cmpstr (old, ==, "old content\n");
  g_autoptr(GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;
  guint n = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 1);

  write_three (f->dir, "out.csv", NULL);
  g_autofree char *out = read_file (f->dir, "out.csv", NULL);
  g_assert_cmpstr (out, ==, "id,text\r\nd0,x\r\nd1,x\r\nd2,x\r\n");
}

static void
test_append_and_cut_tail (Fixture *f, gconstpointer data)
{
  write_three (f->dir, "out.csv", "append=true", NULL);
  write_three (f->dir, "out.csv", "append=true", NULL);
  g_autofree char *two = read_file (f->dir, "out.csv", NULL);
  g_assert_cmpstr (two, ==, "id,text\r\nd0,x\r\nd1,x\r\nd2,x\r\nd0,x\r\nd1,x\r\nd2,x\r\n");

  /* a run killed while writing left half a row behind */
  g_autofree char *path = g_build_filename (f->dir, "out.csv", NULL);
  FILE *fp = fopen (path, "a");
  fputs ("d9,\"half a ro", fp);
  fclose (fp);
  g_test_expect_message ("galley-export-csv", G_LOG_LEVEL_WARNING, "*removing 13 bytes written by an unfinished earlier run*");
  write_three (f->dir, "out.csv", "append=true", NULL);
  g_test_assert_expected_messages ();
  g_autofree char *three = read_file (f->dir, "out.csv", NULL);
  g_assert_cmpstr (three, ==, "id,text\r\nd0,x\r\nd1,x\r\nd2,x\r\nd0,x\r\nd1,x\r\nd2,x\r\nd0,x\r\nd1,x\r\nd2,x\r\n");

  /* a run that fails (free without finish) takes its rows back */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GalleyHarness) h = harness (f->dir, "out.csv", &error, "columns=id;text", "append=true", NULL);
    g_autoptr(GString) big = g_string_new (NULL);
    for (int i = 0; i < 3000; i++)
      g_string_append (big, "a long line of text that is repeated until the buffer is flushed\n");
    g_autoptr(GalleyDocument) doc = simple_doc ("big", big->str);
    push (h, doc);   /* > 1 MiB: written to the file already */
  }
  g_autofree char *after = read_file (f->dir, "out.csv", NULL);
  g_assert_cmpstr (after, ==, three);
}

static void
test_append_locked (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "out.csv", NULL);
  int fd = open (path, O_WRONLY | O_CREAT, 0644);
  g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (f->dir, "out.csv", &error, "append=true", NULL);
  g_assert_no_error (error);
  g_autoptr(GalleyDocument) doc = simple_doc ("a", "x");
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_ERROR);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_cmpint (galley_error_to_exit_code (error), ==, 75);
  close (fd);
}

static void
test_missing_and_unwritable_dir (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (f->dir, "no/such/dir/out.csv", &error, "mkdir=false", NULL);
  g_assert_null (h);
  g_assert_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE);
  g_assert_nonnull (strstr (error->message, "does not exist"));
  g_clear_error (&error);

  /* mkdir=true (the default) creates it at the end */
  write_three (f->dir, "new/dir/out.csv", NULL);
  g_autofree char *out = read_file (f->dir, "new/dir/out.csv", NULL);
  g_assert_cmpstr (out, ==, "id,text\r\nd0,x\r\nd1,x\r\nd2,x\r\n");

  /* a regular file where the directory should be: exit 73 from the runner */
  galley_test_write (f->dir, "file", "", 0);
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;out\nstats=\nrejects=\n\n[stage in]\nplugin=stdin\n\n"
                     "[stage out]\nplugin=export-csv\npath=file/out.csv\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, "text", "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 73);
  g_assert_nonnull (strstr (r->err, "not a directory"));

  if (geteuid () == 0)
    return;   /* root ignores file permissions */
  g_autofree char *ro = g_build_filename (f->dir, "ro", NULL);
  g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
  g_autoptr(GalleyHarness) h2 = harness (f->dir, "ro/out.csv", &error, NULL);
  g_assert_null (h2);
  g_assert_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE);
}

/* Runs in a child with a 64 KiB file size limit: writes past it fail with
 * EFBIG, as on a full disk. */
static void
fill_disk (const char *dir, gboolean append)
{
  signal (SIGXFSZ, SIG_IGN);
  struct rlimit rl = { 64 * 1024, 64 * 1024 };
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (dir, "out.csv", &error, "columns=id;text",
                                        append ? "append=true" : "append=false", NULL);
  g_assert_no_error (error);
  g_autoptr(GString) big = g_string_new (NULL);
  for (int i = 0; i < 200; i++)
    g_string_append (big, "filler text for a document that does not fit on the disk any more\n");
  GalleyVerdict v = GALLEY_VERDICT_KEEP;
  for (int i = 0; i < 300 && v == GALLEY_VERDICT_KEEP; i++)
    {
      g_autoptr(GalleyDocument) doc = simple_doc ("big", big->str);
      v = galley_harness_process (h, doc, &error);
    }
  if (v == GALLEY_VERDICT_KEEP)
    galley_harness_finish (h, &error);
  g_assert_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE);
  g_printerr ("%s\n", error->message);
  g_clear_pointer (&h, galley_harness_free);   /* what the runner does after a failure */
  exit (galley_error_to_exit_code (error));
}

static void
test_disk_full (Fixture *f, gconstpointer data)
{
  if (g_test_subprocess ())
    {
      fill_disk (g_getenv ("EXPORT_TEST_DIR"), GPOINTER_TO_INT (data));
      return;
    }
  write_three (f->dir, "out.csv", "append=true", NULL);
  g_autofree char *before = read_file (f->dir, "out.csv", NULL);
  g_setenv ("EXPORT_TEST_DIR", f->dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*cannot write*File too large*");
  /* what was exported before is all there, nothing half-written follows */
  g_autofree char *after = read_file (f->dir, "out.csv", NULL);
  g_assert_true (g_str_equal (after, before));
  write_three (f->dir, "out.csv", "append=true", NULL);
  g_autofree char *again = read_file (f->dir, "out.csv", NULL);
  g_assert_cmpuint (strlen (again), ==, strlen (before) * 2 - strlen ("id,text\r\n"));
}

static void
test_stdout (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;out\nstats=\nrejects=\n\n[stage in]\nplugin=stdin\nid=one\n\n"
                     "[stage out]\nplugin=export-csv\npath=-\ncolumns=id;text\nnewline=lf\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, "say \"hi\"", "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_cmpstr (r->out, ==, "id,text\none,\"say \"\"hi\"\"\"\n");
}

/* With a state directory the append length is kept in the run ledger and
 * the replaced file is renamed when the run commits. */
static void
test_state_dir (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;out;all\nstats=\nrejects=\nstate-dir=state\n\n[stage in]\nplugin=stdin\nid=one\n\n"
                     "[stage out]\nplugin=export-csv\npath=out.csv\ncolumns=id;text\nappend=true\n\n"
                     "[stage all]\nplugin=export-csv\npath=all.csv\ncolumns=id\n", -1);
  g_autoptr(RunResult) r1 = galley_test_run (f->dir, "first", "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (r1->status, ==, 0);
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, "second", "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_autofree char *out = read_file (f->dir, "out.csv", NULL);
  g_assert_cmpstr (out, ==, "id,text\r\none,first\r\none,second\r\n");
  g_autofree char *all = read_file (f->dir, "all.csv", NULL);
  g_assert_cmpstr (all, ==, "id\r\none\r\n");
  g_autofree char *side = g_build_filename (f->dir, ".out.csv.committed", NULL);
  g_assert_false (g_file_test (side, G_FILE_TEST_EXISTS));
}

/* In a pipeline, a column is a known one, or a field of an earlier stage
 * (named after its id or plugin), or field.NAME: anything else is a
 * configuration error (exit 78) at `check` and at run, naming the columns
 * there are. */
static void
test_unknown_columns (Fixture *f, gconstpointer data)
{
  static const struct { const char *columns, *message; } bad[] = {
    { "id;title", "columns: 'title' is no column and names no earlier stage; columns are id, source, text, "
                  "encoding, content_type, meta.KEY, entities, entities.TYPE (PER, ORG, LOC, DATE, MONEY, PERCENT), "
                  "a field of an earlier stage named after it (dedup.cluster), or field.NAME for any other field; "
                  "did you mean 'meta.title' or 'field.title'?" },
    { "id;entities.PERSON", "columns: 'entities.PERSON' names no entity type; columns are id, source, text, "
                            "encoding, content_type, meta.KEY, entities, entities.TYPE (PER, ORG, LOC, DATE, MONEY, "
                            "PERCENT), a field of an earlier stage named after it (dedup.cluster), or field.NAME for "
                            "any other field; did you mean 'entities.PER'?" },
    { "entities.location", "did you mean 'entities.LOC'?" },
    { "id;prepared", "'prepared' is no column and names no earlier stage" },   /* the field has another name */
    { "out.x", "'out.x' is no column" },   /* the sink itself is not earlier */
    { "field", "columns: 'field' needs a key (field.url)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *p = g_strdup_printf (
          "[pipeline]\nstages=in;prep;out\nstats=\nrejects=\n\n[stage in]\nplugin=stdin\nid=one\n\n"
          "[stage prep]\nplugin=test-prepare\n\n"
          "[stage out]\nplugin=export-csv\npath=out.csv\ncolumns=%s\nnewline=lf\n", bad[i].columns);
      galley_test_write (f->dir, "t.pipeline", p, -1);
      const char *commands[] = { "check", "run" };
      for (guint c = 0; c < G_N_ELEMENTS (commands); c++)
        {
          g_autoptr(RunResult) r = galley_test_run (f->dir, "text", commands[c], "t.pipeline", NULL);
          g_assert_cmpint (r->status, ==, 78);
          g_assert_nonnull (strstr (r->err, "stage 'out' (plugin export-csv): "));
          if (strstr (r->err, bad[i].message) == NULL)
            g_error ("columns=%s: expected '%s' in: %s", bad[i].columns, bad[i].message, r->err);
        }
      g_autofree char *out = g_build_filename (f->dir, "out.csv", NULL);
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }

  /* fields by stage id, by plugin name, and field.NAME for any field */
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;prep;out\nstats=\nrejects=\n\n[stage in]\nplugin=stdin\nid=one\n\n"
                     "[stage prep]\nplugin=test-prepare\n\n"
                     "[stage out]\nplugin=export-csv\npath=-\nnewline=lf\n"
                     "columns=id;field.prepared;prep.x;test-prepare.y;meta.title;entities.LOC\n", -1);
  g_autoptr(RunResult) ok = galley_test_run (f->dir, "hello", "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (ok->status, ==, 0);
  g_assert_cmpstr (ok->out, ==, "id,field.prepared,prep.x,test-prepare.y,meta.title,entities.LOC\none,5,,,,\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/export-csv/quoting-and-columns", test_quoting_and_columns);
  ADD ("/export-csv/format-options", test_format_options);
  ADD ("/export-csv/bad-options", test_bad_options);
  ADD ("/export-csv/atomic-replace", test_atomic_replace);
  ADD ("/export-csv/append-and-cut-tail", test_append_and_cut_tail);
  ADD ("/export-csv/append-locked", test_append_locked);
  ADD ("/export-csv/missing-and-unwritable-dir", test_missing_and_unwritable_dir);
  g_test_add ("/export-csv/disk-full/replace", Fixture, GINT_TO_POINTER (FALSE), galley_test_fixture_setup,
              test_disk_full, galley_test_fixture_teardown);
  g_test_add ("/export-csv/disk-full/append", Fixture, GINT_TO_POINTER (TRUE), galley_test_fixture_setup,
              test_disk_full, galley_test_fixture_teardown);
  ADD ("/export-csv/stdout", test_stdout);
  ADD ("/export-csv/state-dir", test_state_dir);
  ADD ("/export-csv/unknown-columns", test_unknown_columns);
  return g_test_run ();
}
