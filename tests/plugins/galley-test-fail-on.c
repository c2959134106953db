/* galley-test-fail-on.c: test stage that fails, drops, slows down or
 * holds documents whose text contains given markers. Thread-safe, so it runs in
 * the parallel segment and scrambles completion order.
 */
#include <galley/galley-stage.h>

#include <string.h>

static const GalleyOptionSpec fail_on_options[] = {
  { "fail-on", GALLEY_OPT_STRING, "", "Fail documents whose text contains this marker", NULL },
  { "drop-on", GALLEY_OPT_STRING, "", "Drop documents whose text contains this marker (reason marked)", NULL },
  { "jitter", GALLEY_OPT_BOOL, "false", "Sleep a pseudo-random time per document", NULL },
  { "wait-on", GALLEY_OPT_STRING, "", "Hold a document whose text contains this marker until wait-for exists", NULL },
  { "wait-for", GALLEY_OPT_STRING, "", "File whose creation releases the held document (PATH.reached is written first)", NULL },
  { "misuse-reject", GALLEY_OPT_BOOL, "false", "Call galley_stage_reject(), which is for sources only", NULL },
  { NULL }
};

typedef struct {
  char     *fail_on;
  char     *drop_on;
  gboolean  jitter;
  gboolean  misuse_reject;
  char     *wait_on;
  char     *wait_for;
} FailOn;

static void
fail_on_free (gpointer data)
{
  FailOn *self = data;
  g_free (self->fail_on);
  g_free (self->drop_on);
  g_free (self->wait_on);
  g_free (self->wait_for);
  g_free (self);
}

static gpointer
fail_on_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  FailOn *self = g_new0 (FailOn, 1);
  self->fail_on = g_strdup (galley_options_get_string (opts, "fail-on"));
  self->drop_on = g_strdup (galley_options_get_string (opts, "drop-on"));
  self->jitter = galley_options_get_bool (opts, "jitter");
  self->misuse_reject = galley_options_get_bool (opts, "misuse-reject");
  self->wait_on = g_strdup (galley_options_get_string (opts, "wait-on"));
  self->wait_for = g_strdup (galley_options_get_string (opts, "wait-for"));
  return self;
}

static GalleyVerdict
fail_on_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  FailOn *self = state;
  const char *text = galley_document_get_text (doc, NULL);
  if (self->jitter)
    g_usleep (g_str_hash (galley_document_get_id (doc)) % 2000);
  galley_stage_count (ctx, "seen", 1);
  if (*self->wait_on && *self->wait_for && strstr (text, self->wait_on))
    {
      g_autofree char *reached = g_strconcat (self->wait_for, ".reached", NULL);
      g_file_set_contents (reached, "", 0, NULL);
      /* a minute at most: a test that never releases it still ends */
      for (guint i = 0; i < 6000 && !g_file_test (self->wait_for, G_FILE_TEST_EXISTS); i++)
        g_usleep (10 * G_TIME_SPAN_MILLISECOND);
    }
  if (self->misuse_reject)
    {
      g_autoptr(GError) misuse = g_error_new_literal (GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_FAILED, "x");
      if (galley_stage_reject (ctx, "somewhere", 0, NULL, 0, misuse))
        return galley_stage_drop (ctx, "reject-accepted");
    }
  if (*self->fail_on && strstr (text, self->fail_on))
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "found marker %s", self->fail_on);
      return GALLEY_VERDICT_ERROR;
    }
  if (*self->drop_on && strstr (text, self->drop_on))
    return galley_stage_drop (ctx, "marked");
  return GALLEY_VERDICT_KEEP;
}

/* `galley test-fail-on ARGS...` echoes its arguments and exits 3. */
static int
fail_on_command (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    g_print ("%s%s", i > 1 ? " " : "", argv[i]);
  g_print ("\n");
  return 3;
}

static const GalleyStageInfo fail_on_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "test-fail-on", "Test stage: fail or drop documents with a marker", "0.0.1",
  GALLEY_KIND_STAGE, GALLEY_STAGE_THREAD_SAFE,
  fail_on_options, fail_on_init, fail_on_process, NULL, NULL, fail_on_free,
  .command = fail_on_command,
};
GALLEY_STAGE_DEFINE (fail_on_info)

