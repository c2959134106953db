/* fuzz-shard.c: the files of a shard work directory on arbitrary bytes.
 *
 * This target builds core/galley-shard.c in. The first byte picks the
 * file: a stored shard-N.docs file (read document by document as the
 * filter and merge steps do), the work.json of the work directory, or a
 * step's .done marker. What must hold: no crash, no leak, no GLib
 * critical, every failure sets an error, and every document read has a
 * valid UTF-8 text with its spans inside it.
 */
#include "galley-shard.c"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static char *work_dir;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_autoptr(GError) error = NULL;
  work_dir = g_dir_make_tmp ("fuzz-shard-XXXXXX", &error);
  if (work_dir == NULL)
    abort ();
  g_autofree char *markers = g_build_filename (work_dir, "markers", NULL);
  g_mkdir_with_parents (markers, 0755);
  return 0;
}

static void
read_docs (const guint8 *data, gsize size)
{
  /* fmemopen wants a writable buffer of at least one byte */
  g_autofree char *copy = g_malloc (size + 1);
  memcpy (copy, data, size);
  Load self = { .path = (char *) "shard-0.docs" };
  self.in = fmemopen (copy, size ? size : 1, "r");
  if (self.in == NULL)
    abort ();
  if (size == 0)
    fgetc (self.in);
  for (;;)
    {
      GalleyDocument *doc = NULL;
      g_autoptr(GError) error = NULL;
      if (!load_record (&self, &doc, &error))
        {
          if (doc != NULL)
            abort ();
          break;
        }
      gsize len;
      const char *text = galley_document_get_text (doc, &len);
      if (!g_utf8_validate (text, len, NULL) || strlen (text) != len)
        {
          fprintf (stderr, "document %" G_GINT64_FORMAT ": text is not valid UTF-8 without NUL\n", self.n);
          abort ();
        }
      gint64 n_chars = galley_document_get_length (doc);
      for (guint i = 0; i < galley_document_get_n_annotations (doc); i++)
        {
          const GalleyAnnotation *a = galley_document_get_annotation (doc, i);
          if (a->start < 0 || a->end > n_chars || a->start >= a->end)
            abort ();
        }
      g_autoptr(GString) out = g_string_new (NULL);
      galley_document_write_json (doc, out);
      galley_document_free (doc);
    }
  fclose (self.in);
  free (self.line);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size == 0)
    return 0;
  guint8 what = data[0] % 3;
  data++, size--;
  if (what == 0)
    {
      read_docs (data, size);
      return 0;
    }
  GalleyShardStep step = {
    .work_dir = work_dir, .step = (char *) "filter", .pipeline_file = (char *) "fuzz.pipeline",
    .hash = (char *) "0123456789abcdef", .lock_fd = -1,
  };
  g_autofree char *path = what == 1 ? g_build_filename (work_dir, "work.json", NULL)
                                    : g_build_filename (work_dir, "markers", "map.done", NULL);
  if (!g_file_set_contents (path, (const char *) data, size, NULL))
    abort ();
  g_autoptr(GError) error = NULL;
  gboolean ok = what == 1 ? check_work_json (&step, 0, &error) : galley_shard_step_need (&step, "map", &error);
  if (!ok && error == NULL)
    abort ();
  if (ok && what == 1 && step.count == 0)
    abort ();
  g_unlink (path);
  return 0;
}
