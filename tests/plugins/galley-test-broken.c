/* galley-test-broken.c: one source, compiled into several broken plugins
 * selected by BROKEN_KIND, for the loader and crash tests.
 */
#include <galley/galley-stage.h>

#include <signal.h>
#include <string.h>

#define WRONG_ABI   1
#define WRONG_NAME  2
#define NO_SYMBOL   3
#define INIT_FAILS  4
#define SEGV        5
#define NO_PROCESS  6
#define NEWER_MINOR 7
/* barrier steps the loader refuses */
#define STEPS_NO_COMMAND   8
#define STEPS_FILTER       9
#define STEPS_NO_PART_OPT 10

static gpointer
broken_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
#if BROKEN_KIND == INIT_FAILS
  g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
               "model file /nonexistent/model.bin is missing");
  return NULL;
#else
  return GINT_TO_POINTER (1);
#endif
}

G_GNUC_UNUSED static GalleyVerdict
broken_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
#if BROKEN_KIND == SEGV
  if (strstr (galley_document_get_text (doc, NULL), "CRASH") != NULL)
    raise (SIGSEGV);
#endif
  return GALLEY_VERDICT_KEEP;
}

#if BROKEN_KIND == WRONG_ABI
# define ABI_MAJOR (GALLEY_STAGE_ABI_MAJOR + 1)
#else
# define ABI_MAJOR GALLEY_STAGE_ABI_MAJOR
#endif
#if BROKEN_KIND == NEWER_MINOR
# define ABI_MINOR 99
#elif BROKEN_KIND == WRONG_ABI
# define ABI_MINOR 0
#else
# define ABI_MINOR GALLEY_STAGE_ABI_MINOR
#endif

#if BROKEN_KIND >= STEPS_NO_COMMAND
static const GalleyShardBarrierStep broken_steps[] = {
# if BROKEN_KIND == STEPS_FILTER
  { .command = "filter", .kind = GALLEY_SHARD_STEP_ONCE },
# elif BROKEN_KIND == STEPS_NO_PART_OPT
  { .command = "bucket", .kind = GALLEY_SHARD_STEP_PER_PART },
# else
  { .command = "cluster", .kind = GALLEY_SHARD_STEP_ONCE },
# endif
  { NULL }
};
static const GalleyShardInfo broken_shard = { .steps = broken_steps };

G_GNUC_UNUSED static int
broken_command (int argc, char **argv)
{
  return 0;
}
#endif

static const GalleyStageInfo broken_info = {
  ABI_MAJOR, ABI_MINOR,
  BROKEN_NAME, "Test plugin with a deliberate defect", "0.0.1",
  GALLEY_KIND_STAGE, GALLEY_STAGE_THREAD_SAFE,
  NULL, broken_init,
#if BROKEN_KIND == NO_PROCESS
  NULL,
#else
  broken_process,
#endif
  NULL, NULL, NULL,
#if BROKEN_KIND >= STEPS_NO_COMMAND
  .shard = &broken_shard,
# if BROKEN_KIND != STEPS_NO_COMMAND
  .command = broken_command,
# endif
#endif
};

#if BROKEN_KIND == NO_SYMBOL
GALLEY_EXPORT const GalleyStageInfo *galley_stage_query_misspelt (void);
GALLEY_EXPORT const GalleyStageInfo *galley_stage_query_misspelt (void) { return &broken_info; }
#else
GALLEY_STAGE_DEFINE (broken_info)
#endif
