/* galley-test-prepare.c: serial test stage with a prepare() callback.
 *
 * prepare() records the text's length and the thread it ran on as stage
 * data, drops or fails documents with markers; process() (serial, in input
 * order) checks the data is there, writes it to the field `prepared` and
 * counts documents whose prepare() ran on another thread.
 */
#include <galley/galley-stage.h>

#include <string.h>

static const GalleyOptionSpec prepare_options[] = {
  { "fail-on", GALLEY_OPT_STRING, "", "prepare() fails documents whose text contains this marker", NULL },
  { "drop-on", GALLEY_OPT_STRING, "", "prepare() drops documents whose text contains this marker (reason early)", NULL },
  { NULL }
};

typedef struct {
  char   *fail_on;
  char   *drop_on;
  gint64  last_seq;   /* process() only: checks input order */
} Prepare;

typedef struct {
  gint64   length;
  GThread *thread;
} Prepared;

static void
prepare_free (gpointer data)
{
  Prepare *self = data;
  g_free (self->fail_on);
  g_free (self->drop_on);
  g_free (self);
}

static gpointer
prepare_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  Prepare *self = g_new0 (Prepare, 1);
  self->fail_on = g_strdup (galley_options_get_string (opts, "fail-on"));
  self->drop_on = g_strdup (galley_options_get_string (opts, "drop-on"));
  self->last_seq = -1;
  return self;
}

static GalleyVerdict
prepare_prepare (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  const Prepare *self = state;
  gsize len = 0;
  const char *text = galley_document_get_text (doc, &len);
  if (*self->fail_on && strstr (text, self->fail_on))
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID, "prepare found %s", self->fail_on);
      return GALLEY_VERDICT_ERROR;
    }
  if (*self->drop_on && strstr (text, self->drop_on))
    return galley_stage_drop (ctx, "early");
  Prepared *p = g_new (Prepared, 1);
  p->length = (gint64) len;
  p->thread = g_thread_self ();
  galley_document_set_stage_data (doc, ctx, p, g_free);
  return GALLEY_VERDICT_KEEP;
}

static GalleyVerdict
prepare_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  Prepare *self = state;
  const Prepared *p = galley_document_get_stage_data (doc, ctx);
  if (p == NULL)
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_FAILED, "process() without prepare()");
      return GALLEY_VERDICT_ERROR;
    }
  /* The test inputs are numbered: in/0042.txt. */
  const char *id = galley_document_get_id (doc);
  const char *digits = id + strcspn (id, "0123456789");
  gint64 seq = *digits ? g_ascii_strtoll (digits, NULL, 10) : -1;
  if (seq >= 0 && seq < self->last_seq)
    galley_stage_count (ctx, "out-of-order", 1);
  self->last_seq = seq;
  if (p->thread != g_thread_self ())
    galley_stage_count (ctx, "prepared-elsewhere", 1);
  galley_document_set_field (doc, "prepared", json_object_new_int64 (p->length));
  return GALLEY_VERDICT_KEEP;
}

static const GalleyStageInfo prepare_info = {
  .abi_major = GALLEY_STAGE_ABI_MAJOR,
  .abi_minor = GALLEY_STAGE_ABI_MINOR,
  .name = "test-prepare",
  .description = "Test stage: serial process() after a prepare() on the workers",
  .version = "0.0.1",
  .kind = GALLEY_KIND_STAGE,
  .options = prepare_options,
  .init = prepare_init,
  .process = prepare_process,
  .prepare = prepare_prepare,
  .free = prepare_free,
};
GALLEY_STAGE_DEFINE (prepare_info)
