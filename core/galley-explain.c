/* galley-explain.c: `galley explain PIPELINE (--doc ID | --input FILE)`,
 * one document through the stages of a pipeline, and what each did.
 *
 * The stages are initialised as under --dry-run (sinks are left out and
 * nothing is written), the document is taken from the pipeline's sources
 * (--doc) or made from a file as a source would (--input), and every
 * stage's step is traced (galley-trace.c). The result is shown as text
 * (coloured on a terminal), JSON, or HTML like the run report.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-runner-private.h"
#include "galley-diff.h"
#include "galley-report-html.h"
#include "galley-trace.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  gboolean colour;
  GString *out;
} TextView;

#define RED    "\033[31m"
#define GREEN  "\033[32m"
#define BOLD   "\033[1m"
#define DIM    "\033[2m"
#define RESET  "\033[0m"

static const char *
on (const TextView *tv, const char *code)
{
  return tv->colour ? code : "";
}

static void
diff_to_text (GalleyDiffOp op, const char *text, gsize len, gpointer data)
{
  TextView *tv = data;
  if (op == GALLEY_DIFF_EQUAL)
    g_string_append_len (tv->out, text, len);
  else if (tv->colour)
    {
      g_string_append (tv->out, op == GALLEY_DIFF_DELETE ? RED "\033[9m" : GREEN "\033[4m");
      g_string_append_len (tv->out, text, len);
      g_string_append (tv->out, RESET);
    }
  else
    {
      g_string_append (tv->out, op == GALLEY_DIFF_DELETE ? "[-" : "{+");
      g_string_append_len (tv->out, text, len);
      g_string_append (tv->out, op == GALLEY_DIFF_DELETE ? "-]" : "+}");
    }
}

static const char *
str_member (json_object *o, const char *key)
{
  json_object *v = NULL;
  return json_object_object_get_ex (o, key, &v) && json_object_is_type (v, json_type_string)
         ? json_object_get_string (v) : NULL;
}

static const char *
plain (json_object *v)
{
  return json_object_is_type (v, json_type_string) ? json_object_get_string (v)
         : json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* The text a span covers (code point offsets). */
static char *
span_text (const char *text, json_object *span)
{
  json_object *s = NULL, *e = NULL;
  if (!json_object_object_get_ex (span, "start", &s) || !json_object_object_get_ex (span, "end", &e))
    return g_strdup ("");
  glong n = g_utf8_strlen (text, -1);
  gint64 start = json_object_get_int64 (s), end = json_object_get_int64 (e);
  if (start < 0 || end > n || start >= end)
    return g_strdup ("");
  return g_utf8_substring (text, start, end);
}

static void
step_to_text (TextView *tv, json_object *step)
{
  GString *out = tv->out;
  const char *verdict = str_member (step, "verdict");
  g_string_append_printf (out, "%s== %s (%s): %s", on (tv, BOLD), str_member (step, "stage"),
                          str_member (step, "plugin"), verdict);
  if (str_member (step, "reason"))
    g_string_append_printf (out, ", reason %s", str_member (step, "reason"));
  if (str_member (step, "error"))
    g_string_append_printf (out, ", error: %s", str_member (step, "error"));
  g_string_append_printf (out, "%s\n", on (tv, RESET));
  const char *before = str_member (step, "before"), *after = str_member (step, "after");
  json_object *v = NULL;
  json_object *spans = json_object_object_get_ex (step, "annotations", &v) ? v : NULL;
  gboolean text_changed = after != NULL && before != NULL && !g_str_equal (before, after);
  if (text_changed)
    {
      g_string_append (out, "text:\n");
      if (!galley_diff (before, after, 4000, diff_to_text, tv))
        g_string_append_printf (out, "%s--- before%s\n%s\n%s+++ after%s\n%s", on (tv, RED), on (tv, RESET), before,
                                on (tv, GREEN), on (tv, RESET), after);
      if (out->len > 0 && out->str[out->len - 1] != '\n')
        g_string_append_c (out, '\n');
    }
  const struct { const char *key, *label; } objects[] = {
    { "meta", "meta" }, { "fields", "field" }, { "repairs", "repair" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (objects); i++)
    if (json_object_object_get_ex (step, objects[i].key, &v) && json_object_is_type (v, json_type_object))
      {
        json_object_object_foreach (v, key, value)
          g_string_append_printf (out, "%s+ %s %s: %s%s\n", on (tv, GREEN), objects[i].label, key, plain (value),
                                  on (tv, RESET));
      }
  if (json_object_object_get_ex (step, "meta_removed", &v) && json_object_is_type (v, json_type_array))
    for (gsize i = 0; i < json_object_array_length (v); i++)
      g_string_append_printf (out, "%s- meta %s%s\n", on (tv, RED), plain (json_object_array_get_idx (v, i)),
                              on (tv, RESET));
  if (spans != NULL && after != NULL)
    {
      g_string_append_printf (out, "annotations (%zu):\n", json_object_array_length (spans));
      for (gsize i = 0; i < json_object_array_length (spans); i++)
        {
          json_object *s = json_object_array_get_idx (spans, i);
          g_autofree char *covered = span_text (after, s);
          const char *canonical = str_member (s, "canonical"), *layer = str_member (s, "layer");
          g_string_append_printf (out, "  %s%-5s%s %s%s%s%s\n", on (tv, BOLD), str_member (s, "type"), on (tv, RESET),
                                  covered, canonical ? " -> " : "", canonical ? canonical : "",
                                  layer && !g_str_equal (layer, GALLEY_LAYER_ENTITIES) ? " (other layer)" : "");
        }
    }
  if (json_object_object_get_ex (step, "notes", &v) && json_object_is_type (v, json_type_array))
    for (gsize i = 0; i < json_object_array_length (v); i++)
      {
        json_object *n = json_object_array_get_idx (v, i);
        const char *kind = str_member (n, "kind");
        if (kind != NULL && g_str_equal (kind, "removed"))
          {
            g_autofree char *line = g_strdup (str_member (n, "text") ? str_member (n, "text") : "");
            g_strdelimit (line, "\n", ' ');
            g_string_append_printf (out, "%s- removed (%s): %s%s\n", on (tv, RED),
                                    str_member (n, "reason") ? str_member (n, "reason") : "?", line, on (tv, RESET));
            continue;
          }
        g_string_append_printf (out, "note %s:", kind ? kind : "?");
        json_object_object_foreach (n, key, value)
          if (!g_str_equal (key, "kind"))
            g_string_append_printf (out, " %s=%s", key, plain (value));
        g_string_append_c (out, '\n');
      }
  if (!text_changed && spans == NULL && g_str_equal (verdict, "kept") && !json_object_object_get_ex (step, "meta", NULL)
      && !json_object_object_get_ex (step, "fields", NULL) && !json_object_object_get_ex (step, "notes", NULL)
      && !json_object_object_get_ex (step, "repairs", NULL))
    g_string_append_printf (out, "%s(no change)%s\n", on (tv, DIM), on (tv, RESET));
  g_string_append_c (out, '\n');
}

/* ---- the stages, one document -------------------------------------------------- */

typedef struct {
  Runner           r;
  GalleyRunOptions opts;
} Explain;

static void
explain_clear (Explain *e)
{
  Runner *r = &e->r;
  for (guint i = r->stages ? r->stages->len : 0; i > 0; i--)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i - 1);
      if (ctx->initialized && ctx->info->free != NULL)
        ctx->info->free (ctx->state);
      ctx->initialized = FALSE;
    }
  g_clear_pointer (&r->stages, g_ptr_array_unref);
  g_clear_pointer (&r->trace, galley_trace_free);
  g_clear_object (&r->stop);
  g_mutex_clear (&r->fail_lock);
  g_mutex_clear (&r->rejects_lock);
}

static gboolean
init_stage (GalleyStageContext *ctx, GError **error)
{
  galley_runner_current_stage = ctx;
  ctx->state = ctx->info->init (ctx, ctx->config->options, error);
  galley_runner_current_stage = NULL;
  if (ctx->state == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, galley_runner_quark (), 0, "init() returned NULL without an error (a bug in plugin %s)",
                     ctx->info->name);
      g_prefix_error (error, "stage '%s' (plugin %s): ", ctx->config->id, ctx->info->name);
      return FALSE;
    }
  ctx->initialized = TRUE;
  return TRUE;
}

/* The document @id from the pipeline's sources, or NULL. */
static GalleyDocument *
find_document (Explain *e, const char *id, GError **error)
{
  Runner *r = &e->r;
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      if (ctx->info->kind != GALLEY_KIND_SOURCE)
        break;
      if (!init_stage (ctx, error))
        return NULL;
      for (;;)
        {
          GalleyDocument *doc = NULL;
          galley_runner_current_stage = ctx;
          gboolean more = ctx->info->next (ctx->state, &doc, ctx, error);
          galley_runner_current_stage = NULL;
          if (!more)
            {
              g_clear_pointer (&doc, galley_document_free);
              if (error != NULL && *error != NULL)
                {
                  g_prefix_error (error, "stage '%s': ", ctx->config->id);
                  return NULL;
                }
              break;
            }
          if (doc != NULL && g_str_equal (galley_document_get_id (doc), id))
            return doc;
          g_clear_pointer (&doc, galley_document_free);
        }
    }
  g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_NO_INPUT,
               "no document with id '%s' in the pipeline's sources", id);
  return NULL;
}

/* A document made of the file at @path, as a source reads one. */
static GalleyDocument *
read_document (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  g_autoptr(GBytes) bytes = NULL;
  if (galley_input_is_gzip ((const guint8 *) data, len))
    {
      bytes = galley_input_gunzip ((const guint8 *) data, len, 1024 * 1024 * 1024, error);
      if (bytes == NULL)
        {
          g_prefix_error (error, "%s: ", path);
          return NULL;
        }
    }
  else
    bytes = g_bytes_new_take (g_steal_pointer (&data), len);
  GalleyDocument *doc = galley_document_new (path, path);
  galley_document_set_raw (doc, bytes);
  galley_input_set_content_type (doc, GALLEY_CONTENT_UNKNOWN, path);
  return doc;
}

/* Runs @doc through the stages after the sources, but not the sinks;
 * the steps as a JSON array. */
static json_object *
run_stages (Explain *e, GalleyDocument *doc, GError **error)
{
  Runner *r = &e->r;
  json_object *steps = json_object_new_array ();
  for (guint i = 0; i < r->stages->len; i++)
    {
      GalleyStageContext *ctx = g_ptr_array_index (r->stages, i);
      if (ctx->info->kind != GALLEY_KIND_STAGE)
        continue;
      if (!ctx->initialized && !init_stage (ctx, error))
        {
          json_object_put (steps);
          return NULL;
        }
      GalleyTraceStep *traced = galley_trace_begin (r->trace, i, ctx, doc);
      g_autoptr(GError) local = NULL;
      const char *reason = NULL;
      galley_runner_current_stage = ctx;
      GalleyVerdict verdict = galley_runner_run_document (ctx, doc, STEP_BOTH, &reason, &local);
      galley_runner_current_stage = NULL;
      galley_trace_end (r->trace, traced, doc, verdict, reason, local);
      g_autoptr(json_object) kept = galley_trace_stage_to_json (r->trace, i);
      json_object *step = json_object_array_length (kept) > 0 ? json_object_get (json_object_array_get_idx (kept, 0))
                                                               : json_object_new_object ();
      json_object_object_add (step, "stage", json_object_new_string (ctx->config->id));
      json_object_object_add (step, "plugin", json_object_new_string (ctx->info->name));
      json_object_array_add (steps, step);
      if (verdict != GALLEY_VERDICT_KEEP)
        break;
    }
  return steps;
}

static gboolean
write_output (const char *path, GString *out, GError **error)
{
  if (path == NULL || g_str_equal (path, "-"))
    {
      fwrite (out->str, 1, out->len, stdout);
      fflush (stdout);
      return TRUE;
    }
  return galley_output_set_contents (path, out->str, out->len, GALLEY_OUTPUT_FLAGS_NONE, error);
}

int
galley_explain_command (int argc, char **argv)
{
  g_autofree char *doc_id = NULL, *input = NULL, *output = NULL, *colour = NULL;
  g_auto(GStrv) sets = NULL;
  gboolean as_json = FALSE, as_html = FALSE;
  GOptionEntry entries[] = {
    { "doc", 'd', 0, G_OPTION_ARG_STRING, &doc_id, "The document with this id in the pipeline's sources", "ID" },
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input, "A file read as one document, as a source reads it", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, "JSON for tools", NULL },
    { "html", 0, 0, G_OPTION_ARG_NONE, &as_html, "One HTML page, as in the run report", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE instead of stdout", "FILE" },
    { "color", 0, 0, G_OPTION_ARG_STRING, &colour, "Colour the text view: auto (on a terminal), always, never", "WHEN" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override an option (repeatable)", "ID.KEY=VALUE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("PIPELINE (--doc ID | --input FILE) - what each stage "
                                                            "does to one document");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Runs one document through the stages of PIPELINE (not its sinks; nothing is\n"
    "written, as with run --dry-run) and shows, stage by stage, the text diff,\n"
    "the meta and fields added, the annotations, the notes and the drop reason.");
  g_autoptr(GError) error = NULL;
  const char *problem = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    problem = error->message;
  else if (argc != 2)
    problem = "expected one PIPELINE file";
  else if ((doc_id == NULL) == (input == NULL))
    problem = "give either --doc ID or --input FILE";
  else if (as_json && as_html)
    problem = "--json and --html exclude each other";
  else if (colour != NULL && !g_str_equal (colour, "auto") && !g_str_equal (colour, "always")
           && !g_str_equal (colour, "never"))
    problem = "--color: expected auto, always or never";
  if (problem != NULL)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      fprintf (stderr, "galley: explain: %s\n\n%s", problem, help);
      return GALLEY_EXIT_USAGE;
    }

  g_autoptr(GalleyPipeline) pipeline = galley_pipeline_load (argv[1], (const char *const *) sets, &error);
  if (pipeline == NULL)
    {
      fprintf (stderr, "galley: %s\n", error->message);
      return galley_error_to_exit_code (error);
    }
  Explain e = { 0 };
  Runner *r = &e.r;
  e.opts.dry_run = TRUE;
  e.opts.quiet = TRUE;
  r->pipeline = pipeline;
  r->opts = &e.opts;
  r->n_threads = 1;
  r->abort_pos = G_MAXUINT64;
  r->stop = g_cancellable_new ();
  g_mutex_init (&r->fail_lock);
  g_mutex_init (&r->rejects_lock);
  r->run_id = g_get_real_time () / G_USEC_PER_SEC;
  r->stages = g_ptr_array_new_with_free_func (galley_runner_context_free);
  r->trace = galley_trace_new (pipeline->stages->len, 1, TRUE);
  for (guint i = 0; i < pipeline->stages->len; i++)
    {
      GalleyStageConfig *sc = g_ptr_array_index (pipeline->stages, i);
      GalleyStageContext *ctx = g_new0 (GalleyStageContext, 1);
      ctx->runner = r;
      ctx->config = sc;
      ctx->info = sc->plugin->info;
      ctx->index = i;
      g_mutex_init (&ctx->lock);
      g_ptr_array_add (r->stages, ctx);
    }

  g_autoptr(GalleyDocument) doc = input != NULL ? read_document (input, &error) : find_document (&e, doc_id, &error);
  g_autoptr(json_object) steps = doc != NULL ? run_stages (&e, doc, &error) : NULL;
  if (steps == NULL)
    {
      int code = galley_error_to_exit_code (error);
      fprintf (stderr, "galley: %s: %s\n", pipeline->path, error->message);
      /* the document goes before the stages whose data it may hold */
      g_clear_pointer (&doc, galley_document_free);
      explain_clear (&e);
      return code;
    }
  const char *final = "kept";
  for (gsize i = 0; i < json_object_array_length (steps); i++)
    final = str_member (json_object_array_get_idx (steps, i), "verdict");

  g_autoptr(GString) out = g_string_new (NULL);
  if (as_json)
    {
      g_autoptr(json_object) root = json_object_new_object ();
      json_object_object_add (root, "pipeline", json_object_new_string (pipeline->name));
      json_object_object_add (root, "file", json_object_new_string (pipeline->path));
      json_object_object_add (root, "document", json_object_new_string (galley_document_get_id (doc)));
      json_object_object_add (root, "trace_format", json_object_new_int (GALLEY_TRACE_FORMAT));
      json_object_object_add (root, "verdict", json_object_new_string (final));
      json_object_object_add (root, "steps", json_object_get (steps));
      g_string_append (out, json_object_to_json_string_ext (root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
      g_string_append_c (out, '\n');
    }
  else if (as_html)
    {
      g_autofree char *title = g_strdup_printf ("galley explain: %s in %s", galley_document_get_id (doc), pipeline->name);
      galley_report_html_head (out, title);
      g_string_append (out, "<h1>");
      galley_html_escape_append (out, title, -1);
      g_string_append_printf (out, "</h1>\n<p>Result: <span class=\"badge %s\">%s</span> after %zu stage%s.</p>\n",
                              final, final, json_object_array_length (steps),
                              json_object_array_length (steps) == 1 ? "" : "s");
      for (gsize i = 0; i < json_object_array_length (steps); i++)
        {
          json_object *step = json_object_array_get_idx (steps, i);
          g_string_append (out, "<h2>");
          galley_html_escape_append (out, str_member (step, "stage"), -1);
          g_string_append (out, " <small>(");
          galley_html_escape_append (out, str_member (step, "plugin"), -1);
          g_string_append (out, ")</small></h2>\n");
          galley_report_html_step (out, NULL, step);
        }
      g_string_append (out, "</body>\n</html>\n");
    }
  else
    {
      TextView tv = { FALSE, out };
      if (colour == NULL || g_str_equal (colour, "auto"))
        tv.colour = output == NULL && isatty (STDOUT_FILENO) && g_getenv ("NO_COLOR") == NULL;
      else
        tv.colour = g_str_equal (colour, "always");
      g_string_append_printf (out, "%sdocument %s%s in %s\n\n", on (&tv, BOLD), galley_document_get_id (doc),
                              on (&tv, RESET), pipeline->path);
      for (gsize i = 0; i < json_object_array_length (steps); i++)
        step_to_text (&tv, json_object_array_get_idx (steps, i));
      g_string_append_printf (out, "result: %s\n", final);
    }
  g_clear_pointer (&doc, galley_document_free);
  explain_clear (&e);
  if (!write_output (output, out, &error))
    {
      fprintf (stderr, "galley: explain: %s\n", error->message);
      return galley_error_to_exit_code (error);
    }
  return GALLEY_EXIT_OK;
}
