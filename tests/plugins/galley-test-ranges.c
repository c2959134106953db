/* galley-test-ranges.c: a stage whose options have ranges (ABI 1.3), and,
 * selected by RANGES_DEFECT, option tables whose ranges are wrong.
 */
#include <galley/galley-stage.h>

#define DEFECT_NONE          0
#define DEFECT_BAD_DEFAULT   1   /* a default outside its own range */
#define DEFECT_BAD_BOUND     2   /* a max that does not parse */
#define DEFECT_MIN_ABOVE_MAX 3
#define DEFECT_BOOL_RANGE    4   /* a range on a type without order */

#if RANGES_DEFECT == DEFECT_BAD_DEFAULT
# define COUNT_DEFAULT "0"
#else
# define COUNT_DEFAULT "5"
#endif
#if RANGES_DEFECT == DEFECT_BAD_BOUND
# define LIMIT_MAX "lots"
#else
# define LIMIT_MAX "1MiB"
#endif
#if RANGES_DEFECT == DEFECT_MIN_ABOVE_MAX
# define RATIO_MIN "2"
#else
# define RATIO_MIN "0"
#endif

static const GalleyOptionSpec ranges_options[] = {
  { "count", GALLEY_OPT_INT, COUNT_DEFAULT, "An int", NULL, .min = "1", .max = "10" },
  { "ratio", GALLEY_OPT_DOUBLE, "0.5", "A double", NULL, .min = RATIO_MIN, .max = "1" },
  { "limit", GALLEY_OPT_SIZE, "1k", "A size", NULL, .max = LIMIT_MAX },
  { "wait", GALLEY_OPT_DURATION, "1s", "A duration", NULL, .min = "100ms" },
#if RANGES_DEFECT == DEFECT_BOOL_RANGE
  { "flag", GALLEY_OPT_BOOL, "true", "A bool", NULL, .min = "0" },
#else
  { "flag", GALLEY_OPT_BOOL, "true", "A bool", NULL },
#endif
  { NULL }
};

/* Writes the values it got to the field `ranges`. */
static gpointer
ranges_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  json_object *values = json_object_new_object ();
  json_object_object_add (values, "count", json_object_new_int64 (galley_options_get_int (opts, "count")));
  json_object_object_add (values, "ratio", json_object_new_double (galley_options_get_double (opts, "ratio")));
  json_object_object_add (values, "limit", json_object_new_int64 ((gint64) galley_options_get_size (opts, "limit")));
  json_object_object_add (values, "wait", json_object_new_int64 (galley_options_get_duration (opts, "wait")));
  return values;
}

static GalleyVerdict
ranges_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  galley_document_set_field (doc, "ranges", json_object_get (state));
  return GALLEY_VERDICT_KEEP;
}

static void
ranges_free (gpointer state)
{
  json_object_put (state);
}

static const GalleyStageInfo ranges_info = {
  .abi_major = GALLEY_STAGE_ABI_MAJOR,
  .abi_minor = GALLEY_STAGE_ABI_MINOR,
  .name = RANGES_NAME,
  .description = "Test stage with option ranges",
  .version = "0.0.1",
  .kind = GALLEY_KIND_STAGE,
  .options = ranges_options,
  .init = ranges_init,
  .process = ranges_process,
  .free = ranges_free,
};
GALLEY_STAGE_DEFINE (ranges_info)
