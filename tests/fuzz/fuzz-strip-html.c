/* fuzz-strip-html.c: the strip stage's HTML extractor on arbitrary bytes.
 *
 * The first byte picks the configuration (aggressiveness, language,
 * captions); the rest is the page. What must hold: no crash, no leak, no
 * GLib critical, the body and every meta value are valid UTF-8 without
 * NUL, and a valid UTF-8 page parses to the same tree with and without
 * the bodies of its scripts and styles (strip_html_prune()).
 */
#include "strip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* as the stage does (its strip_result_init/clear live in the module, not
 * in strip-core) */
static void
result_init (StripResult *res)
{
  memset (res, 0, sizeof *res);
  res->body = g_string_new (NULL);
  res->meta = json_object_new_object ();
}

static void
result_clear (StripResult *res)
{
  g_string_free (res->body, TRUE);
  json_object_put (res->meta);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size == 0)
    return 0;
  static const char *const languages[] = { "auto", "en", "de", "fr" };
  StripConfig cfg = {
    .aggressiveness = data[0] % 3,
    .language = languages[(data[0] >> 2) % G_N_ELEMENTS (languages)],
    .keep_captions = (data[0] & 0x10) != 0,
  };
  StripResult res;
  result_init (&res);
  g_autoptr(GError) error = NULL;
  if (!strip_html ((const char *) data + 1, size - 1, &cfg, &res, &error))
    {
      if (error == NULL)
        abort ();
    }
  else
    {
      if (!g_utf8_validate (res.body->str, res.body->len, NULL) || strlen (res.body->str) != res.body->len)
        {
          fprintf (stderr, "body is not valid UTF-8 without NUL\n");
          abort ();
        }
      const char *meta = json_object_to_json_string_ext (res.meta, JSON_C_TO_STRING_PLAIN);
      if (!g_utf8_validate (meta, -1, NULL))
        {
          fprintf (stderr, "meta is not valid UTF-8: %s\n", meta);
          abort ();
        }
      for (int k = 0; k < STRIP_N_KINDS; k++)
        if (res.removed[k] < 0)
          abort ();
    }
  result_clear (&res);

  /* the page without its script and style bodies parses to the same tree */
  if (g_utf8_validate_len ((const char *) data + 1, size - 1, NULL))
    {
      g_autofree char *where = NULL;
      if (!strip_html_tree_check ((const char *) data + 1, size - 1, &where))
        {
          fprintf (stderr, "the pruned page parses to another tree, at %s\n", where);
          abort ();
        }
    }
  return 0;
}
