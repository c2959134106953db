/* galley-test-fail-finish.c: test sink that passes every document on and
 * fails in finish() as a sink on a full disk would (exit 74).
 */
#include <galley/galley-stage.h>

static gpointer
fail_finish_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  return GINT_TO_POINTER (1);
}

static GalleyVerdict
fail_finish_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  return GALLEY_VERDICT_KEEP;
}

static gboolean
fail_finish_finish (gpointer state, GalleyStageContext *ctx, GError **error)
{
  g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE,
               "cannot write out.jsonl: No space left on device");
  return FALSE;
}

static const GalleyStageInfo fail_finish_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "test-fail-finish", "Test sink: fails in finish() like a full disk", "0.0.1",
  GALLEY_KIND_SINK, GALLEY_STAGE_FLAGS_NONE,
  NULL, fail_finish_init, fail_finish_process, NULL, fail_finish_finish, NULL,
};
GALLEY_STAGE_DEFINE (fail_finish_info)
