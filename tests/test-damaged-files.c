/* test-damaged-files.c: files galley reads back (stored documents, shard
 * markers), damaged: an error that names the file, never a crash.
 *
 * Each case here was found by a fuzz target (tests/fuzz/).
 */
#include "galley-private.h"
#include "galley-test-util.h"

#include <stdlib.h>
#include <string.h>

/* A stored record with bytes that are not UTF-8 is refused, a \u0000 in
 * its text is replaced, and a span without a string type is refused. */
static void
test_record_json (void)
{
  static const char bad_utf8[] = "{\"id\":\"a\",\"text\":\"two \xa4wo\"}";
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyDocument) doc = galley_document_read_json (bad_utf8, strlen (bad_utf8), &error);
  g_assert_null (doc);
  g_assert_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "UTF-8"));

  static const char nul[] = "{\"id\":\"b\",\"text\":\"a\\u0000b\"}";
  g_autoptr(GalleyDocument) doc2 = galley_document_read_json (nul, strlen (nul), NULL);
  g_assert_nonnull (doc2);
  gsize len;
  const char *text = galley_document_get_text (doc2, &len);
  g_assert_cmpstr (text, ==, "a\xef\xbf\xbd" "b");
  g_assert_cmpuint (len, ==, strlen (text));

  static const char null_type[] = "{\"id\":\"c\",\"text\":\"abc\",\"entities\":[{\"type\":null,\"start\":0,\"end\":1}]}";
  g_autoptr(GError) error3 = NULL;
  g_autoptr(GalleyDocument) doc3 = galley_document_read_json (null_type, strlen (null_type), &error3);
  g_assert_null (doc3);
  g_assert_error (error3, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID);
}

static RunResult *
run_expect (const char *dir, int status, const char *const *args)
{
  RunResult *r = galley_test_runv (dir, NULL, args);
  if (r->status != status)
    g_printerr ("exit %d, expected %d\nstdout: %s\nstderr: %s\n", r->status, status, r->out, r->err);
  g_assert_cmpint (r->status, ==, status);
  return r;
}

#define RUN(dir, status, ...) run_expect ((dir), (status), (const char *const[]) { __VA_ARGS__, NULL })

/* A shard's stored documents whose length line is damaged, and a step
 * marker whose outputs are not an object. */
static void
test_shard_files (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;dedup;out\nstats=\nrejects=\n\n"
                     "[stage in]\nplugin=files\npaths=in\n\n"
                     "[stage dedup]\nplugin=dedup\nbands=2\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=out/all.jsonl\nfsync=false\n", -1);
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("in/doc-%u.txt", i);
      g_autofree char *text = g_strdup_printf ("Document number %u of the harbour report, with a few words more "
                                               "so that it is compared.\n", i % 3);
      galley_test_write (f->dir, name, text, -1);
    }
  run_result_free (RUN (f->dir, 0, "run", "t.pipeline", "--shard", "0/2", "--work", "work", "-q"));
  run_result_free (RUN (f->dir, 0, "run", "t.pipeline", "--shard", "1/2", "--work", "work", "-q"));
  g_autoptr(RunResult) bands = RUN (f->dir, 0, "dedup", "bands", "t.pipeline");
  for (int b = 0; b < atoi (bands->out); b++)
    {
      g_autofree char *band = g_strdup_printf ("%d", b);
      run_result_free (RUN (f->dir, 0, "dedup", "bucket", "t.pipeline", "--band", band, "--work", "work"));
    }
  run_result_free (RUN (f->dir, 0, "dedup", "cluster", "t.pipeline", "--work", "work"));

  /* a length of nearly 2^64 bytes: not allocated, the record is cut */
  galley_test_write (f->dir, "work/docs/shard-1.docs", "18446744073709551000\nshort\n{\"id\":\"a\",\"text\":\"\"}\n", -1);
  g_autoptr(RunResult) docs = RUN (f->dir, 65, "dedup", "filter", "t.pipeline", "--shard", "1/2", "--work", "work", "-q");
  g_assert_nonnull (strstr (docs->err, "shard-1.docs"));
  g_assert_nonnull (strstr (docs->err, "truncated"));

  /* a marker whose outputs are a list */
  galley_test_write (f->dir, "work/markers/map-0.done", "{\"outputs\":[1,2]}\n", -1);
  g_autoptr(RunResult) marker = RUN (f->dir, 65, "dedup", "bucket", "t.pipeline", "--band", "0", "--work", "work");
  g_assert_nonnull (strstr (marker->err, "map-0.done is damaged"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/damaged/record-json", test_record_json);
  ADD ("/damaged/shard-files", test_shard_files);
  return g_test_run ();
}
