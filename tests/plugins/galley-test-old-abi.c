/* galley-test-old-abi.c: a stage laid out as a plugin built against the
 * headers of stage ABI 1.OLD_ABI_MINOR (0 or 2), before option rows grew
 * min, max and reserved slots in 1.3.
 *
 * The 1.0 and 1.2 descriptor and option row are written out here by hand,
 * since the installed headers describe the current ABI. process() writes
 * the option values it got to the field `old_abi`, so that a test sees
 * whether the core read the table in the old layout.
 */
#include <galley/galley-stage.h>

#ifndef OLD_ABI_MINOR
# error "OLD_ABI_MINOR must be defined by the build"
#endif
#if OLD_ABI_MINOR != 0 && OLD_ABI_MINOR != 2
# error "OLD_ABI_MINOR must be 0 or 2"
#endif

/* GalleyOptionSpec of ABI 1.0 to 1.2. */
typedef struct {
  const char    *name;
  GalleyOptType  type;
  const char    *default_value;
  const char    *help;
  const char    *choices;
} OldOptionSpec;

/* GalleyStageInfo of ABI 1.0 (1.1 and 1.2: prepare, then reserved[7]). */
typedef struct {
  guint16              abi_major;
  guint16              abi_minor;
  const char          *name;
  const char          *description;
  const char          *version;
  GalleyStageKind      kind;
  GalleyStageFlags     flags;
  const OldOptionSpec *options;
  gpointer      (*init)    (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error);
  GalleyVerdict (*process) (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error);
  gboolean      (*next)    (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error);
  gboolean      (*finish)  (gpointer state, GalleyStageContext *ctx, GError **error);
  void          (*free)    (gpointer state);
#if OLD_ABI_MINOR >= 1
  GalleyVerdict (*prepare) (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error);
  gpointer      reserved[7];
#else
  gpointer      reserved[8];
#endif
} OldStageInfo;

G_STATIC_ASSERT (sizeof (OldOptionSpec) < sizeof (GalleyOptionSpec));
G_STATIC_ASSERT (sizeof (OldStageInfo) == sizeof (GalleyStageInfo));

static const OldOptionSpec old_abi_options[] = {
  { "label", GALLEY_OPT_STRING, "old", "A string with a default", NULL },
  { "count", GALLEY_OPT_INT, "3", "An int with a default", NULL },
  { "ratio", GALLEY_OPT_DOUBLE, "0.25", "A double with a default", NULL },
  { "case", GALLEY_OPT_ENUM, "upper", "An enum with a default", "upper|lower" },
  { "limit", GALLEY_OPT_SIZE, "4k", "A size with a default", NULL },
  { "tags", GALLEY_OPT_STRV, "a;b", "A list with a default", NULL },
  { NULL }
};

typedef struct {
  json_object *values;
} OldAbi;

static void
old_abi_free (gpointer data)
{
  OldAbi *self = data;
  json_object_put (self->values);
  g_free (self);
}

static gpointer
old_abi_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  OldAbi *self = g_new0 (OldAbi, 1);
  self->values = json_object_new_object ();
  json_object_object_add (self->values, "label", json_object_new_string (galley_options_get_string (opts, "label")));
  json_object_object_add (self->values, "count", json_object_new_int64 (galley_options_get_int (opts, "count")));
  json_object_object_add (self->values, "ratio", json_object_new_double (galley_options_get_double (opts, "ratio")));
  json_object_object_add (self->values, "case", json_object_new_string (galley_options_get_enum (opts, "case")));
  json_object_object_add (self->values, "limit", json_object_new_int64 ((gint64) galley_options_get_size (opts, "limit")));
  json_object *tags = json_object_new_array ();
  for (const char *const *t = galley_options_get_strv (opts, "tags"); *t != NULL; t++)
    json_object_array_add (tags, json_object_new_string (*t));
  json_object_object_add (self->values, "tags", tags);
  return self;
}

#if OLD_ABI_MINOR >= 1
/* Keeps the text's length for process(), so a test sees prepare() ran. */
static GalleyVerdict
old_abi_prepare (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  gsize len = 0;
  galley_document_get_text (doc, &len);
  galley_document_set_stage_data (doc, ctx, GSIZE_TO_POINTER (len + 1), NULL);
  return GALLEY_VERDICT_KEEP;
}
#endif

static GalleyVerdict
old_abi_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  OldAbi *self = state;
  json_object *values = NULL;
  json_object_deep_copy (self->values, &values, NULL);
#if OLD_ABI_MINOR >= 1
  gsize prepared = GPOINTER_TO_SIZE (galley_document_get_stage_data (doc, ctx));
  json_object_object_add (values, "prepared", json_object_new_boolean (prepared != 0));
#endif
  galley_document_set_field (doc, "old_abi", values);
  return GALLEY_VERDICT_KEEP;
}

static const OldStageInfo old_abi_info = {
  .abi_major = 1,
  .abi_minor = OLD_ABI_MINOR,
  .name = OLD_ABI_NAME,
  .description = "Test stage laid out for an older stage ABI",
  .version = "0.0.1",
  .kind = GALLEY_KIND_STAGE,
  .flags = GALLEY_STAGE_THREAD_SAFE,
  .options = old_abi_options,
  .init = old_abi_init,
  .process = old_abi_process,
  .free = old_abi_free,
#if OLD_ABI_MINOR >= 1
  .prepare = old_abi_prepare,
#endif
};

GALLEY_EXPORT const OldStageInfo *galley_stage_query (void);
GALLEY_EXPORT const OldStageInfo *
galley_stage_query (void)
{
  return &old_abi_info;
}

/* Before ABI 1.3 a command was a symbol of its own. */
static int
old_abi_command (int argc, char **argv)
{
  g_print ("old command %d\n", argc);
  return 4;
}
GALLEY_COMMAND_DEFINE (old_abi_command)
