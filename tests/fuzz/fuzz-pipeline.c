/* fuzz-pipeline.c: pipeline files and --set overrides on arbitrary bytes.
 *
 * The input is the pipeline file up to the first NUL byte, then the
 * overrides, one per NUL-separated piece. What must hold: no crash, no
 * leak, and either a pipeline with at least one stage, a source first,
 * or an error with a message.
 */
#include "galley-private.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static char *pipeline_path;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_setenv ("GALLEY_PLUGIN_SYSTEM_PATH", "", TRUE);
  g_unsetenv ("GALLEY_PLUGIN_PATH");
  galley_plugin_add_search_dir (GALLEY_BUILD_PLUGINDIR);
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("fuzz-pipeline-XXXXXX", &error);
  if (dir == NULL)
    {
      fprintf (stderr, "fuzz-pipeline: %s\n", error->message);
      abort ();
    }
  pipeline_path = g_build_filename (dir, "fuzz.pipeline", NULL);
  g_free (dir);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  const guint8 *nul = memchr (data, '\0', size);
  gsize file_len = nul ? (gsize) (nul - data) : size;
  g_autoptr(GPtrArray) overrides = g_ptr_array_new_with_free_func (g_free);
  if (nul != NULL)
    {
      const guint8 *p = nul + 1, *end = data + size;
      while (p <= end)
        {
          const guint8 *q = memchr (p, '\0', end - p);
          if (q == NULL)
            q = end;
          g_ptr_array_add (overrides, g_strndup ((const char *) p, q - p));
          p = q + 1;
        }
    }
  g_ptr_array_add (overrides, NULL);
  if (!g_file_set_contents (pipeline_path, (const char *) data, file_len, NULL))
    abort ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyPipeline) p = galley_pipeline_load (pipeline_path, (const char *const *) overrides->pdata, &error);
  if (p == NULL)
    {
      if (error == NULL || error->message == NULL || *error->message == '\0')
        abort ();
      return 0;
    }
  if (error != NULL || p->stages->len == 0 || p->batch_size < 1 || p->batch_size > 4096 || p->threads > 1024)
    abort ();
  const GalleyStageConfig *first = g_ptr_array_index (p->stages, 0);
  if (first->plugin->info->kind != GALLEY_KIND_SOURCE)
    abort ();
  return 0;
}
