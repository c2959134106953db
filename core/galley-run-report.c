/* galley-run-report.c: the samples of a run in its stats, and the HTML
 * report written at the end of the run (report= in [pipeline]).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-runner-private.h"
#include "galley-report-html.h"
#include "galley-trace.h"

void
galley_runner_add_samples (Runner *r, json_object *stats)
{
  json_object *stages = NULL;
  if (r->trace == NULL || !json_object_object_get_ex (stats, "stages", &stages))
    return;
  json_object_object_add (stats, "trace_format", json_object_new_int (GALLEY_TRACE_FORMAT));
  for (guint i = 0; i < r->stages->len && i < json_object_array_length (stages); i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      if (ctx->info->kind == GALLEY_KIND_STAGE)
        json_object_object_add (json_object_array_get_idx (stages, i), "samples",
                                galley_trace_stage_to_json (r->trace, i));
    }
}

gboolean
galley_runner_write_report (Runner *r, json_object *stats, GError **error)
{
  const char *path = r->pipeline->report_path;
  g_autoptr(GalleyStats) parsed = galley_stats_from_json (json_object_get (stats), path, error);
  if (parsed == NULL)
    return FALSE;
  /* the history holds this run already when there is a state directory */
  return galley_report_write (path, parsed, r->state != NULL ? galley_state_get_dir (r->state) : NULL, error);
}
