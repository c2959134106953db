/* fuzz-records.c: JSON Lines records on arbitrary bytes.
 *
 * Each line goes through the sources' record mapping
 * (galley_record_mapping_to_document in core/galley-record-mapping.c,
 * with a mapping chosen by the first byte: plain or records=galley) and
 * through galley_document_read_json (core/galley-record.c, the reader of
 * stored shard documents and of records=galley). What
 * must hold: no crash, no leak, no GLib critical, a document's text is
 * valid UTF-8, and a document written as a record and read back is
 * written the same again.
 */
#include "galley-private.h"
#include "galley-input-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static json_tokener *tok;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  tok = json_tokener_new ();
  return 0;
}

static void
check_text (GalleyDocument *doc)
{
  gsize len;
  const char *text = galley_document_get_text (doc, &len);
  if (!g_utf8_validate (text, len, NULL) || strlen (text) != len)
    {
      fprintf (stderr, "text of %s is not valid UTF-8 without NUL (%zu bytes, strlen %zu): %s\n",
               galley_document_get_id (doc), len, strlen (text), text);
      abort ();
    }
  (void) galley_document_get_length (doc);
}

/* Writes @doc as a record, reads it back and writes that again: the two
 * records must be the same. */
static void
check_round_trip (GalleyDocument *doc)
{
  check_text (doc);
  g_autoptr(GString) once = g_string_new (NULL);
  galley_document_write_json (doc, once);
  if (!g_utf8_validate (once->str, once->len, NULL))
    {
      fprintf (stderr, "record is not valid UTF-8: %s\n", once->str);
      abort ();
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyDocument) back = galley_document_read_json (once->str, once->len, &error);
  if (back == NULL)
    {
      fprintf (stderr, "record written does not read back: %s\n%s\n", error->message, once->str);
      abort ();
    }
  check_text (back);
  g_autoptr(GString) twice = g_string_new (NULL);
  galley_document_write_json (back, twice);
  if (!g_string_equal (once, twice))
    {
      fprintf (stderr, "record changed when read back:\n once: %s\ntwice: %s\n", once->str, twice->str);
      abort ();
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size == 0)
    return 0;
  guint8 mode = data[0];
  static char *meta_keys[] = { "title", "author", "date", "url", "pub", "deep", NULL };
  static char *meta_paths[] = { "title", "author", "date", "url", "meta.date", "a.b.c", NULL };
  GalleyRecordMapping m = {
    .id_field = (char *) ((mode & 0x30) == 0x10 ? "meta.id" : (mode & 0x30) == 0x20 ? "" : "id"),
    .text_field = (char *) ((mode & 0x40) ? "body.text" : "text"),
    .encoding_field = (char *) ((mode & 0x80) ? "" : "encoding"),
    .meta_keys = meta_keys,
    .meta_paths = meta_paths,
    .keep_other = (mode & 2) != 0,
    .content_type = (mode >> 2) % 3 == 1 ? GALLEY_CONTENT_TEXT
                    : (mode >> 2) % 3 == 2 ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_UNKNOWN,
    .galley_records = (mode & 1) != 0,
    .tok = tok,
  };
  const char *p = (const char *) data + 1, *end = (const char *) data + size;
  for (guint64 lineno = 1; p < end; lineno++)
    {
      const char *nl = memchr (p, '\n', end - p);
      gsize len = (nl ? nl : end) - p;
      /* the line reader hands over lines with a NUL after them */
      g_autofree char *line = g_malloc (len + 1);
      memcpy (line, p, len);
      line[len] = '\0';
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GalleyDocument) doc = galley_record_mapping_to_document (&m, line, len, "fuzz.jsonl", lineno, &error);
        if (doc == NULL && (error == NULL || *error->message == '\0'))
          abort ();
        if (doc != NULL)
          check_round_trip (doc);
      }
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GalleyDocument) doc = galley_document_read_json (line, len, &error);
        if (doc == NULL && (error == NULL || *error->message == '\0'))
          abort ();
        if (doc != NULL)
          check_round_trip (doc);
      }
      p += len + 1;
    }
  return 0;
}
