/* galley-test-note.c: a stage built like an out-of-tree plugin that
 * writes notes for the run report (ABI 1.4): it cuts the lines starting
 * with "AD:" (note "removed", reason advert), writes a note of its own
 * kind ("line-count") and drops documents containing "DROPME".
 */
#include <galley/galley-stage.h>

#include <string.h>

static gpointer
note_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  return GINT_TO_POINTER (1);
}

static GalleyVerdict
note_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  const char *text = galley_document_get_text (doc, NULL);
  if (strstr (text, "DROPME") != NULL)
    return galley_stage_drop (ctx, "asked-to");
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GString) kept = g_string_new (NULL);
  gint64 n = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "AD:"))
        {
          if (galley_stage_is_tracing (ctx, doc))
            {
              json_object *note = json_object_new_object ();
              json_object_object_add (note, "text", json_object_new_string (lines[i]));
              json_object_object_add (note, "reason", json_object_new_string ("advert"));
              galley_stage_note (ctx, doc, "removed", note);
            }
          continue;
        }
      g_string_append_printf (kept, "%s%s", kept->len ? "\n" : "", lines[i]);
      n++;
    }
  /* notes cost nothing outside a trace: this one is not even guarded */
  json_object *count = json_object_new_object ();
  json_object_object_add (count, "lines", json_object_new_int64 (n));
  galley_stage_note (ctx, doc, "line-count", count);
  if (!g_str_equal (kept->str, text))
    galley_document_set_text (doc, kept->str, kept->len);
  return GALLEY_VERDICT_KEEP;
}

static const GalleyStageInfo note_info = {
  .abi_major = GALLEY_STAGE_ABI_MAJOR,
  .abi_minor = GALLEY_STAGE_ABI_MINOR,
  .name = "test-note",
  .description = "Test stage: cuts AD: lines and writes notes for the run report",
  .version = "1.0.0",
  .kind = GALLEY_KIND_STAGE,
  .flags = GALLEY_STAGE_THREAD_SAFE,
  .init = note_init,
  .process = note_process,
};
GALLEY_STAGE_DEFINE (note_info)
