/* fuzz-repair.c: the repair stage on arbitrary bytes.
 *
 * Checks what must hold for any input: no crash, no leak, the text is
 * valid UTF-8 without NUL, it does not grow without bound, and repairing
 * the result again changes nothing.
 */
#include "galley-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static GalleyHarness *harness;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_setenv ("GALLEY_PLUGIN_SYSTEM_PATH", "", TRUE);
  galley_plugin_add_search_dir (GALLEY_BUILD_PLUGINDIR);
  g_autoptr(GError) error = NULL;
  harness = galley_harness_new ("repair", NULL, &error);
  if (harness == NULL)
    {
      fprintf (stderr, "fuzz-repair: %s\n", error->message);
      abort ();
    }
  return 0;
}

static char *
run (const guint8 *bytes, gsize len, GalleyContentType type, const char *declared)
{
  g_autoptr(GalleyDocument) doc = galley_document_new ("fuzz", NULL);
  g_autoptr(GBytes) raw = g_bytes_new (bytes, len);
  galley_document_set_raw (doc, raw);
  galley_document_set_content_type (doc, type);
  galley_document_set_declared_encoding (doc, declared);
  g_autoptr(GError) error = NULL;
  if (galley_harness_process (harness, doc, &error) != GALLEY_VERDICT_KEEP)
    abort ();
  gsize out_len;
  const char *text = galley_document_get_text (doc, &out_len);
  if (!g_utf8_validate (text, out_len, NULL) || strlen (text) != out_len)
    abort ();
  return g_strndup (text, out_len);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const char *const declared[] = { NULL, "windows-1251", "utf-8", "iso-8859-1", "no-such-charset" };
  GalleyContentType type = size > 0 && (data[0] & 1) ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_TEXT;
  const char *cs = declared[size > 1 ? data[1] % G_N_ELEMENTS (declared) : 0];
  g_autofree char *once = run (data, size, type, cs);
  /* every input byte becomes at most one character of four bytes, and a
   * restored quote is three bytes for two */
  if (strlen (once) > 4 * size + 16)
    abort ();
  g_autofree char *twice = run ((const guint8 *) once, strlen (once), type, NULL);
  if (strcmp (once, twice) != 0)
    {
      fprintf (stderr, "not idempotent:\n once: %s\ntwice: %s\n", once, twice);
      abort ();
    }
  return 0;
}
