/* galley-report-html.c: the run report, one self-contained HTML file.
 *
 * Inline CSS and inline SVG only: no script, no external asset, readable
 * offline and without JavaScript. The report reads the stats of a run
 * (galley-stats-file.c) and the traced steps the stats carry; it knows
 * no plugin: what a step shows follows from what the step holds (text
 * before and after, meta, fields, repairs, annotations, notes of the
 * kinds "removed" and "pair", see docs/plugin-guide.md).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-report-html.h"
#include "galley-diff.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Edits beyond which a text diff is shown as the two texts instead. */
#define MAX_DIFF_EDITS 1000

void
galley_html_escape_append (GString *out, const char *text, gssize len)
{
  if (text == NULL)
    return;
  if (len < 0)
    len = strlen (text);
  const char *run = text;
  for (const char *p = text; p < text + len; p++)
    {
      const char *rep;
      switch (*p)
        {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
      g_string_append_len (out, run, p - run);
      g_string_append (out, rep);
      run = p + 1;
    }
  g_string_append_len (out, run, text + len - run);
}

static void
esc (GString *out, const char *text)
{
  galley_html_escape_append (out, text, -1);
}

static void G_GNUC_PRINTF (2, 3)
escf (GString *out, const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  g_autofree char *s = g_strdup_vprintf (fmt, args);
  va_end (args);
  esc (out, s);
}

static const char *
json_str (json_object *o, const char *key)
{
  json_object *v = NULL;
  if (o == NULL || !json_object_object_get_ex (o, key, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

static const char style[] =
  "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 2rem;color:#1d2430;background:#fff}"
  "h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d5dae2}"
  "h3{font-size:1.05rem;margin:1.2rem 0 .4rem}"
  "table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.2rem .6rem;border-bottom:1px solid #e3e7ee;text-align:left;vertical-align:top}"
  "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
  ".summary td:first-child{color:#5a6473}"
  ".ok{color:#19703a}.bad{color:#b3261e}"
  ".doc{border:1px solid #d5dae2;border-radius:6px;margin:.8rem 0;padding:.5rem .8rem}"
  ".doc header{font-weight:600}.doc .why{font-weight:400;color:#5a6473}"
  ".text{white-space:pre-wrap;font:13px/1.5 ui-monospace,monospace;background:#f7f8fa;padding:.5rem;max-height:28rem;overflow:auto;border-radius:4px}"
  "del{background:#fbd3d0;color:#7a1a14;text-decoration:line-through}ins{background:#cdeccf;color:#0f4d22;text-decoration:none}"
  "del.rm{text-decoration:none;background:#fde3e1;display:inline}"
  "ul.removed li{background:#fde3e1;margin:.15rem 0;list-style:none}"
  ".reason{font:11px system-ui,sans-serif;background:#b3261e;color:#fff;border-radius:3px;padding:0 .3rem;margin-right:.3rem}"
  "mark{border-radius:3px;padding:0 1px}mark .ty{font:10px system-ui,sans-serif;vertical-align:super;margin-left:1px}"
  "mark.PER{background:#ffe0b2}mark.ORG{background:#c5e1f7}mark.LOC{background:#d4f0c8}mark.DATE{background:#eadcf8}"
  "mark.other{background:#f2f2a8}"
  ".kv td:first-child{font-weight:600}.badge{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:12px;color:#fff}"
  ".kept{background:#19703a}.dropped{background:#b3261e}.failed{background:#5a1a80}"
  "svg text{font:12px system-ui,sans-serif;fill:#1d2430}.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 .8rem;vertical-align:middle}"
  "footer{margin-top:3rem;color:#5a6473;font-size:12px}";

void
galley_report_html_head (GString *out, const char *title)
{
  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
  esc (out, title);
  g_string_append_printf (out, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
}

/* ---- text views ------------------------------------------------------------ */

static void
emit_html (GalleyDiffOp op, const char *text, gsize len, gpointer data)
{
  GString *out = data;
  g_string_append (out, op == GALLEY_DIFF_DELETE ? "<del>" : op == GALLEY_DIFF_INSERT ? "<ins>" : "");
  galley_html_escape_append (out, text, len);
  g_string_append (out, op == GALLEY_DIFF_DELETE ? "</del>" : op == GALLEY_DIFF_INSERT ? "</ins>" : "");
}

/* One text with the removed parts in <del> and the added ones in <ins>;
 * FALSE when the texts differ too much for that. */
static gboolean
char_diff (GString *out, const char *before, const char *after)
{
  return galley_diff (before, after, MAX_DIFF_EDITS, emit_html, out);
}

static void
text_block (GString *out, const char *label, const char *text)
{
  g_string_append_printf (out, "<p>%s</p><div class=\"text\">", label);
  esc (out, text);
  g_string_append (out, "</div>\n");
}

static void
diff_view (GString *out, const char *before, const char *after)
{
  g_autoptr(GString) d = g_string_new (NULL);
  if (char_diff (d, before, after))
    {
      g_string_append (out, "<p>Text: <del>removed</del> <ins>added</ins></p><div class=\"text\">");
      g_string_append_len (out, d->str, d->len);
      g_string_append (out, "</div>\n");
      return;
    }
  text_block (out, "Text before:", before);
  text_block (out, "Text after:", after);
}

typedef struct { gsize start, end; const char *reason; } Mark;

/* @before with the @marks (not overlapping) struck through and labelled. */
static void
marked_text (GString *out, const char *before, gsize len, GArray *marks)
{
  /* sort by start */
  for (guint i = 1; i < marks->len; i++)
    for (guint j = i; j > 0 && g_array_index (marks, Mark, j - 1).start > g_array_index (marks, Mark, j).start; j--)
      {
        Mark t = g_array_index (marks, Mark, j);
        g_array_index (marks, Mark, j) = g_array_index (marks, Mark, j - 1);
        g_array_index (marks, Mark, j - 1) = t;
      }
  g_string_append (out, "<p>Text before the stage, what it removed marked with the reason:</p><div class=\"text\">");
  gsize pos = 0;
  for (guint i = 0; i < marks->len; i++)
    {
      Mark *m = &g_array_index (marks, Mark, i);
      galley_html_escape_append (out, before + pos, m->start - pos);
      g_string_append (out, "<del class=\"rm\" title=\"");
      esc (out, m->reason ? m->reason : "removed");
      g_string_append (out, "\"><span class=\"reason\">");
      esc (out, m->reason ? m->reason : "removed");
      g_string_append (out, "</span>");
      galley_html_escape_append (out, before + m->start, m->end - m->start);
      g_string_append (out, "</del>");
      pos = m->end;
    }
  galley_html_escape_append (out, before + pos, len - pos);
  g_string_append (out, "</div>\n");
}

/* The text before the stage with the parts the notes of kind "removed"
 * name marked, each with its reason; the parts not found in it listed. */
static gboolean
removed_view (GString *out, const char *before, const char *after, json_object *notes)
{
  g_autoptr(GArray) marks = g_array_new (FALSE, FALSE, sizeof (Mark));
  g_autoptr(GPtrArray) unfound = g_ptr_array_new ();   /* notes, e.g. of an HTML page's blocks */
  gsize len = strlen (before), at = 0;
  for (gsize i = 0; notes != NULL && i < json_object_array_length (notes); i++)
    {
      json_object *n = json_object_array_get_idx (notes, i);
      const char *kind = json_str (n, "kind"), *text = json_str (n, "text");
      if (kind == NULL || !g_str_equal (kind, "removed") || text == NULL || *text == '\0')
        continue;
      /* in order of the text; a part not found after the last is looked for from the start */
      const char *p = strstr (before + at, text);
      if (p == NULL)
        p = strstr (before, text);
      if (p == NULL)
        {
          g_ptr_array_add (unfound, n);
          continue;
        }
      Mark m = { p - before, p - before + strlen (text), json_str (n, "reason") };
      gboolean overlaps = FALSE;
      for (guint j = 0; j < marks->len && !overlaps; j++)
        {
          Mark *o = &g_array_index (marks, Mark, j);
          overlaps = m.start < o->end && o->start < m.end;
        }
      if (overlaps)
        continue;
      g_array_append_val (marks, m);
      at = m.end;
    }
  if (marks->len == 0 && unfound->len == 0)
    return FALSE;
  if (marks->len > 0)
    marked_text (out, before, len, marks);

  if (unfound->len > 0)
    {
      /* not in the text as it was (an HTML page's blocks): a list */
      g_string_append (out, "<p>Removed, with the reason:</p><ul class=\"removed\">");
      for (guint i = 0; i < unfound->len; i++)
        {
          json_object *n = g_ptr_array_index (unfound, i);
          const char *reason = json_str (n, "reason");
          g_string_append (out, "<li><span class=\"reason\">");
          esc (out, reason ? reason : "removed");
          g_string_append (out, "</span>");
          esc (out, json_str (n, "text"));
          g_string_append (out, "</li>");
        }
      g_string_append (out, "</ul>\n");
      if (after != NULL)
        text_block (out, "Text after:", after);
    }
  return TRUE;
}

static gboolean
known_type (const char *type)
{
  return g_strcmp0 (type, "PER") == 0 || g_strcmp0 (type, "ORG") == 0 || g_strcmp0 (type, "LOC") == 0
         || g_strcmp0 (type, "DATE") == 0;
}

/* @text with the spans of @spans highlighted by type, the canonical name
 * in title=. Offsets are code points; spans that overlap an earlier one or
 * fall outside the text are left out. */
static void
spans_view (GString *out, const char *text, json_object *spans)
{
  glong n = g_utf8_strlen (text, -1);
  g_autofree glong *offsets = g_new (glong, n + 1);   /* byte offset of each code point */
  glong i = 0;
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    offsets[i++] = p - text;
  offsets[n] = strlen (text);
  g_string_append (out, "<p>Mentions:</p><div class=\"text\">");
  glong pos = 0;
  for (gsize k = 0; k < json_object_array_length (spans); k++)
    {
      json_object *s = json_object_array_get_idx (spans, k), *v = NULL;
      if (!json_object_object_get_ex (s, "start", &v) || !json_object_is_type (v, json_type_int))
        continue;
      gint64 start = json_object_get_int64 (v);
      if (!json_object_object_get_ex (s, "end", &v) || !json_object_is_type (v, json_type_int))
        continue;
      gint64 end = json_object_get_int64 (v);
      if (start < pos || end <= start || end > n)
        continue;
      const char *type = json_str (s, "type"), *canonical = json_str (s, "canonical");
      galley_html_escape_append (out, text + offsets[pos], offsets[start] - offsets[pos]);
      g_string_append (out, "<mark class=\"");
      esc (out, known_type (type) ? type : "other");
      g_string_append (out, "\" title=\"");
      escf (out, "%s%s%s", type ? type : "", canonical ? ": " : "", canonical ? canonical : "");
      g_string_append (out, "\">");
      galley_html_escape_append (out, text + offsets[start], offsets[end] - offsets[start]);
      g_string_append (out, "<span class=\"ty\">");
      esc (out, type ? type : "");
      g_string_append (out, "</span></mark>");
      pos = end;
    }
  galley_html_escape_append (out, text + offsets[pos], offsets[n] - offsets[pos]);
  g_string_append (out, "</div>\n");
}

static void
kv_table (GString *out, const char *caption, json_object *obj)
{
  g_string_append (out, "<table class=\"kv\"><caption>");
  esc (out, caption);
  g_string_append (out, "</caption>");
  json_object_object_foreach (obj, key, value)
    {
      if (g_str_equal (key, "kind"))
        continue;
      g_string_append (out, "<tr><td>");
      esc (out, key);
      g_string_append (out, "</td><td>");
      esc (out, json_object_is_type (value, json_type_string) ? json_object_get_string (value)
                : json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
      g_string_append (out, "</td></tr>");
    }
  g_string_append (out, "</table>\n");
}

static void
pair_view (GString *out, const char *id, const char *before, json_object *note)
{
  json_object *v = NULL;
  double sim = json_object_object_get_ex (note, "similarity", &v) ? json_object_get_double (v) : NAN;
  g_string_append (out, "<table class=\"pair\"><tr><th>this document</th><th>similarity</th><th>matched document</th></tr><tr><td>");
  esc (out, id);
  g_string_append (out, "</td><td class=\"n\">");
  if (isfinite (sim))
    g_string_append_printf (out, "%.3f <svg width=\"80\" height=\"10\" role=\"img\" aria-label=\"similarity\">"
                                 "<rect width=\"80\" height=\"10\" fill=\"#e3e7ee\"/><rect width=\"%.1f\" height=\"10\" fill=\"#b3261e\"/></svg>",
                            sim, 80 * CLAMP (sim, 0, 1));
  g_string_append (out, "</td><td>");
  esc (out, json_str (note, "other") ? json_str (note, "other") : "?");
  g_string_append (out, "</td></tr></table>\n");
  json_object *shared = NULL, *sentences = NULL;
  const char *passage = json_str (note, "passage");
  if (json_object_object_get_ex (note, "shared", &shared) && json_object_object_get_ex (note, "sentences", &sentences))
    {
      g_autofree char *label = g_strdup_printf ("Shared passage (%d of this document's %d sentences are in the matched one):",
                                                json_object_get_int (shared), json_object_get_int (sentences));
      if (passage != NULL)
        text_block (out, label, passage);
      else
        g_string_append_printf (out, "<p>%d of this document's %d sentences are in the matched one.</p>\n",
                                json_object_get_int (shared), json_object_get_int (sentences));
    }
  else if (json_str (note, "passage_unknown") != NULL)
    {
      g_string_append (out, "<p>No shared passage: ");
      esc (out, json_str (note, "passage_unknown"));
      g_string_append (out, ".</p>\n");
    }
  const char *other = json_str (note, "text");
  if (other != NULL)
    {
      text_block (out, "This document:", before);
      text_block (out, "Matched document:", other);
    }
}

void
galley_report_html_step (GString *out, const char *stage_id, json_object *step)
{
  const char *id = json_str (step, "id"), *verdict = json_str (step, "verdict");
  const char *before = json_str (step, "before"), *after = json_str (step, "after");
  json_object *notes = NULL, *spans = NULL, *v = NULL;
  json_object_object_get_ex (step, "notes", &notes);
  if (notes != NULL && !json_object_is_type (notes, json_type_array))
    notes = NULL;
  json_object_object_get_ex (step, "annotations", &spans);
  if (spans != NULL && !json_object_is_type (spans, json_type_array))
    spans = NULL;
  if (verdict == NULL || (!g_str_equal (verdict, "kept") && !g_str_equal (verdict, "dropped")))
    verdict = "failed";
  g_string_append (out, "<section class=\"doc\"><header>");
  if (stage_id != NULL)
    {
      esc (out, stage_id);
      g_string_append (out, ": ");
    }
  esc (out, id ? id : "?");
  g_string_append_printf (out, " <span class=\"badge %s\">%s</span>", verdict, verdict);
  const char *reason = json_str (step, "reason"), *err = json_str (step, "error"), *source = json_str (step, "source");
  if (reason != NULL)
    {
      g_string_append (out, " <span class=\"why\">reason: ");
      esc (out, reason);
      g_string_append (out, "</span>");
    }
  if (err != NULL)
    {
      g_string_append (out, " <span class=\"why\">error: ");
      esc (out, err);
      g_string_append (out, "</span>");
    }
  if (source != NULL)
    {
      g_string_append (out, " <span class=\"why\">from ");
      esc (out, source);
      g_string_append (out, "</span>");
    }
  g_string_append (out, "</header>\n");
  if (before == NULL)
    before = "";

  gboolean shown_text = FALSE;
  if (after != NULL && removed_view (out, before, after, notes))
    shown_text = TRUE;
  for (gsize i = 0; notes != NULL && i < json_object_array_length (notes); i++)
    {
      json_object *n = json_object_array_get_idx (notes, i);
      const char *kind = json_str (n, "kind");
      if (kind == NULL || g_str_equal (kind, "removed"))
        continue;
      if (g_str_equal (kind, "pair"))
        {
          pair_view (out, id ? id : "?", before, n);
          continue;
        }
      kv_table (out, kind, n);
    }
  if (spans != NULL && after != NULL)
    spans_view (out, after, spans);
  else if (!shown_text && after != NULL)
    diff_view (out, before, after);
  if (spans != NULL && after != NULL && json_object_object_get_ex (step, "annotations_before", &v)
      && json_object_get_int64 (v) == 0 && g_strcmp0 (before, after) != 0)
    diff_view (out, before, after);
  const struct { const char *key, *caption; } objects[] = {
    { "meta", "meta added or changed" }, { "fields", "fields added or changed" }, { "repairs", "repairs" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (objects); i++)
    if (json_object_object_get_ex (step, objects[i].key, &v) && json_object_is_type (v, json_type_object))
      kv_table (out, objects[i].caption, v);
  if (json_object_object_get_ex (step, "meta_removed", &v) && json_object_is_type (v, json_type_array))
    {
      g_string_append (out, "<p>meta removed: ");
      esc (out, json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
      g_string_append (out, "</p>\n");
    }
  if (g_str_equal (verdict, "dropped") && !shown_text && after == NULL)
    text_block (out, "Text of the dropped document:", before);
  g_string_append (out, "</section>\n");
}

/* ---- charts ---------------------------------------------------------------- */

static const char *const colour_in = "#8c96a5", *const colour_kept = "#19703a", *const colour_dropped = "#b3261e",
                        *const colour_failed = "#5a1a80", *const colour_cpu = "#2c6fb7";

/* One group of horizontal bars per stage: in, kept, dropped, failed. */
static void
stage_bars (GString *out, const GalleyStats *stats)
{
  gint64 max = 1;
  for (guint i = 0; i < stats->stages->len; i++)
    {
      GalleyStatsStage *s = g_ptr_array_index (stats->stages, i);
      max = MAX (max, MAX (s->in, s->kept));
    }
  const int label_w = 150, bar_w = 480, row = 12, group = 4 * row + 10;
  int height = stats->stages->len * group + 10;
  g_string_append_printf (out, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"documents per stage\">\n",
                          label_w + bar_w + 90, height);
  for (guint i = 0; i < stats->stages->len; i++)
    {
      GalleyStatsStage *s = g_ptr_array_index (stats->stages, i);
      int y = 5 + i * group;
      g_string_append_printf (out, "<text x=\"0\" y=\"%d\">", y + 2 * row);
      esc (out, s->id);
      g_string_append (out, "</text>\n");
      const struct { gint64 v; const char *colour, *what; } bars[] = {
        { s->in, colour_in, "in" }, { s->kept, colour_kept, "kept" },
        { s->dropped_total, colour_dropped, "dropped" }, { s->failed, colour_failed, "failed" },
      };
      for (guint b = 0; b < G_N_ELEMENTS (bars); b++)
        {
          double w = (double) bar_w * bars[b].v / max;
          g_string_append_printf (out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
                                  label_w, y + b * row, MAX (w, bars[b].v > 0 ? 1.0 : 0.0), row - 2, bars[b].colour);
          escf (out, "%s %s %" G_GINT64_FORMAT, s->id, bars[b].what, bars[b].v);
          g_string_append_printf (out, "</title></rect><text x=\"%.1f\" y=\"%d\">%" G_GINT64_FORMAT "</text>\n",
                                  label_w + w + 4, y + b * row + row - 3, bars[b].v);
        }
    }
  g_string_append (out, "</svg>\n<p class=\"legend\">");
  g_string_append_printf (out, "<span style=\"background:%s\"></span>in<span style=\"background:%s\"></span>kept"
                               "<span style=\"background:%s\"></span>dropped<span style=\"background:%s\"></span>failed</p>\n",
                          colour_in, colour_kept, colour_dropped, colour_failed);
}

static void
cpu_bars (GString *out, const GalleyStats *stats, double total)
{
  const int label_w = 150, bar_w = 480, row = 18;
  g_string_append_printf (out, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"share of stage time\">\n",
                          label_w + bar_w + 120, (int) stats->stages->len * row + 6);
  for (guint i = 0; i < stats->stages->len; i++)
    {
      GalleyStatsStage *s = g_ptr_array_index (stats->stages, i);
      double share = total > 0 ? s->seconds / total : 0;
      int y = 3 + i * row;
      g_string_append_printf (out, "<text x=\"0\" y=\"%d\">", y + row - 6);
      esc (out, s->id);
      g_string_append_printf (out, "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
                                   "<text x=\"%.1f\" y=\"%d\">%.1f%% (%.3f s)</text>\n",
                              label_w, y, bar_w * share, row - 4, colour_cpu, label_w + bar_w * share + 4, y + row - 6,
                              100 * share, s->seconds);
    }
  g_string_append (out, "</svg>\n");
}

/* A line chart of @n_series series over the runs of @history. */
static void
line_chart (GString *out, GPtrArray *history, const char *label, guint n_series, const char *const *names,
            const char *const *colours, double (*value) (const GalleyStats *, guint series))
{
  const int w = 640, h = 200, left = 60, bottom = 24, top = 10;
  double max = 0;
  for (guint i = 0; i < history->len; i++)
    for (guint k = 0; k < n_series; k++)
      max = MAX (max, value (g_ptr_array_index (history, i), k));
  if (max <= 0)
    max = 1;
  g_string_append_printf (out, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"", w + 20, h);
  esc (out, label);
  g_string_append (out, "\">\n");
  g_string_append_printf (out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#8c96a5\"/>"
                               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#8c96a5\"/>\n",
                          left, top, left, h - bottom, left, h - bottom, w, h - bottom);
  g_string_append_printf (out, "<text x=\"0\" y=\"%d\">%.4g</text><text x=\"0\" y=\"%d\">0</text>\n", top + 10, max,
                          h - bottom);
  guint n = history->len;
  for (guint k = 0; k < n_series; k++)
    {
      /* the first series drawn wide under the others: equal values stay visible */
      g_string_append_printf (out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%d\" points=\"", colours[k],
                              k == 0 && n_series > 1 ? 7 : 2);
      for (guint i = 0; i < n; i++)
        {
          double x = left + (n > 1 ? (double) (w - left) * i / (n - 1) : (w - left) / 2.0);
          double y = h - bottom - (h - bottom - top) * value (g_ptr_array_index (history, i), k) / max;
          g_string_append_printf (out, "%.1f,%.1f ", x, y);
        }
      g_string_append (out, "\"/>\n");
      for (guint i = 0; i < n; i++)
        {
          const GalleyStats *run = g_ptr_array_index (history, i);
          double x = left + (n > 1 ? (double) (w - left) * i / (n - 1) : (w - left) / 2.0);
          double y = h - bottom - (h - bottom - top) * value (run, k) / max;
          g_string_append_printf (out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", x, y, colours[k]);
          escf (out, "run %" G_GINT64_FORMAT " (%s): %s %.4g", run->run_id, run->finished ? run->finished : "?",
                names[k], value (run, k));
          g_string_append (out, "</title></circle>\n");
        }
    }
  if (n > 0)
    {
      const GalleyStats *first = g_ptr_array_index (history, 0), *last = g_ptr_array_index (history, n - 1);
      g_string_append_printf (out, "<text x=\"%d\" y=\"%d\">", left, h - 6);
      escf (out, "run %" G_GINT64_FORMAT, first->run_id);
      g_string_append_printf (out, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", w, h - 6);
      escf (out, "run %" G_GINT64_FORMAT, last->run_id);
      g_string_append (out, "</text>\n");
    }
  g_string_append (out, "</svg>\n<p class=\"legend\">");
  for (guint k = 0; k < n_series; k++)
    {
      g_string_append_printf (out, "<span style=\"background:%s\"></span>", colours[k]);
      esc (out, names[k]);
    }
  g_string_append (out, "</p>\n");
}

static gint64
dropped_total (const GalleyStats *s)
{
  gint64 sum = 0;
  for (guint i = 0; i < s->stages->len; i++)
    sum += ((GalleyStatsStage *) g_ptr_array_index (s->stages, i))->dropped_total;
  return sum;
}

static double
history_docs (const GalleyStats *s, guint series)
{
  return series == 0 ? s->docs_in : series == 1 ? s->docs_out : dropped_total (s);
}

static double
history_seconds (const GalleyStats *s, guint series)
{
  return s->seconds;
}

/* ---- the page -------------------------------------------------------------- */

static void
summary (GString *out, const GalleyStats *stats)
{
  g_string_append (out, "<table class=\"summary\">\n");
  const struct { const char *what; char *value; } rows[] = {
    { "pipeline file", g_strdup (stats->file ? stats->file : "") },
    { "finished", g_strdup (stats->finished ? stats->finished : "") },
    { "run", g_strdup_printf ("%" G_GINT64_FORMAT "%s", stats->run_id, stats->dry_run ? " (dry run: sinks skipped)" : "") },
    { "documents in", g_strdup_printf ("%" G_GINT64_FORMAT, stats->docs_in) },
    { "documents out", g_strdup_printf ("%" G_GINT64_FORMAT, stats->docs_out) },
    { "dropped", g_strdup_printf ("%" G_GINT64_FORMAT, dropped_total (stats)) },
    { "rejected inputs", g_strdup_printf ("%" G_GINT64_FORMAT, stats->rejects) },
    { "bytes in", g_strdup_printf ("%" G_GINT64_FORMAT, stats->bytes_in) },
    { "wall time", g_strdup_printf ("%.3f s, %" G_GINT64_FORMAT " threads", stats->seconds, stats->threads) },
  };
  g_string_append_printf (out, "<tr><td>exit status</td><td class=\"%s\">%" G_GINT64_FORMAT "%s",
                          stats->exit_code == 0 ? "ok" : "bad", stats->exit_code, stats->exit_code == 0 ? " (success)" : "");
  if (stats->error != NULL)
    {
      g_string_append (out, ": ");
      esc (out, stats->error);
    }
  g_string_append (out, "</td></tr>\n");
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_string_append_printf (out, "<tr><td>%s</td><td>", rows[i].what);
      esc (out, rows[i].value);
      g_string_append (out, "</td></tr>\n");
      g_free (rows[i].value);
    }
  g_string_append (out, "</table>\n");
}

static void
stage_table (GString *out, const GalleyStats *stats, double total)
{
  g_string_append (out, "<table class=\"stages\">\n<tr><th>stage</th><th>plugin</th><th class=\"n\">in</th>"
                        "<th class=\"n\">kept</th><th class=\"n\">dropped</th><th>dropped by reason</th>"
                        "<th class=\"n\">failed</th><th class=\"n\">seconds</th><th class=\"n\">share of stage time</th></tr>\n");
  for (guint i = 0; i < stats->stages->len; i++)
    {
      GalleyStatsStage *s = g_ptr_array_index (stats->stages, i);
      g_string_append (out, "<tr><td>");
      esc (out, s->id);
      g_string_append (out, "</td><td>");
      esc (out, s->plugin ? s->plugin : "");
      if (s->kind != NULL)
        {
          g_string_append (out, " (");
          esc (out, s->kind);
          g_string_append (out, ")");
        }
      g_string_append_printf (out, "</td><td class=\"n\">%" G_GINT64_FORMAT "</td><td class=\"n\">%" G_GINT64_FORMAT
                                   "</td><td class=\"n\">%" G_GINT64_FORMAT "</td><td>", s->in, s->kept, s->dropped_total);
      for (guint k = 0; k < s->dropped->len; k++)
        {
          GalleyStatsCount *c = &g_array_index (s->dropped, GalleyStatsCount, k);
          if (k > 0)
            g_string_append (out, ", ");
          escf (out, "%s %" G_GINT64_FORMAT, c->name, c->count);
        }
      g_string_append_printf (out, "</td><td class=\"n\">%" G_GINT64_FORMAT "</td><td class=\"n\">%.3f</td>"
                                   "<td class=\"n\">%.1f%%</td></tr>\n",
                              s->failed, s->seconds, total > 0 ? 100 * s->seconds / total : 0);
    }
  g_string_append (out, "</table>\n");
}

void
galley_report_html (GString *out, const GalleyStats *stats, GPtrArray *history)
{
  g_autofree char *title = g_strdup_printf ("galley run report: %s", stats->pipeline);
  galley_report_html_head (out, title);
  g_string_append (out, "<h1>");
  esc (out, title);
  g_string_append (out, "</h1>\n<h2 id=\"summary\">Summary</h2>\n");
  summary (out, stats);

  double total = 0;
  for (guint i = 0; i < stats->stages->len; i++)
    total += ((GalleyStatsStage *) g_ptr_array_index (stats->stages, i))->seconds;
  g_string_append (out, "<h2 id=\"stages\">Stages</h2>\n");
  stage_table (out, stats, total);
  g_string_append (out, "<h3>Documents per stage</h3>\n");
  stage_bars (out, stats);
  g_string_append (out, "<h3>Share of the time spent in stages</h3>\n");
  cpu_bars (out, stats, total);

  gboolean any = FALSE;
  for (guint i = 0; i < stats->stages->len; i++)
    {
      GalleyStatsStage *s = g_ptr_array_index (stats->stages, i);
      if (s->samples == NULL || json_object_array_length (s->samples) == 0)
        continue;
      if (!any)
        g_string_append (out, "<h2 id=\"samples\">What each stage did</h2>\n"
                              "<p>A sample of the documents each stage changed, dropped or failed: those with the "
                              "smallest hash of their id, the same in every run over the same input.</p>\n");
      any = TRUE;
      g_string_append (out, "<h3>");
      esc (out, s->id);
      g_string_append (out, "</h3>\n");
      for (gsize k = 0; k < json_object_array_length (s->samples); k++)
        galley_report_html_step (out, s->id, json_object_array_get_idx (s->samples, k));
    }

  if (history != NULL && history->len > 0)
    {
      g_string_append_printf (out, "<h2 id=\"history\">History of the last %u runs</h2>\n", history->len);
      static const char *const doc_names[] = { "documents in", "documents out", "dropped" };
      static const char *const doc_colours[] = { "#8c96a5", "#19703a", "#b3261e" };
      line_chart (out, history, "documents per run", 3, doc_names, doc_colours, history_docs);
      static const char *const sec_names[] = { "duration (s)" };
      static const char *const sec_colours[] = { "#2c6fb7" };
      line_chart (out, history, "duration per run", 1, sec_names, sec_colours, history_seconds);
      g_string_append (out, "<table><tr><th>run</th><th>finished</th><th class=\"n\">in</th><th class=\"n\">out</th>"
                            "<th class=\"n\">dropped</th><th class=\"n\">seconds</th><th class=\"n\">exit</th></tr>\n");
      for (guint i = history->len; i > 0; i--)
        {
          const GalleyStats *run = g_ptr_array_index (history, i - 1);
          g_string_append_printf (out, "<tr><td>%" G_GINT64_FORMAT "</td><td>", run->run_id);
          esc (out, run->finished ? run->finished : "");
          g_string_append_printf (out, "</td><td class=\"n\">%" G_GINT64_FORMAT "</td><td class=\"n\">%" G_GINT64_FORMAT
                                       "</td><td class=\"n\">%" G_GINT64_FORMAT "</td><td class=\"n\">%.3f</td>"
                                       "<td class=\"n\">%" G_GINT64_FORMAT "</td></tr>\n",
                                  run->docs_in, run->docs_out, dropped_total (run), run->seconds, run->exit_code);
        }
      g_string_append (out, "</table>\n");
    }
  g_string_append_printf (out, "<footer>Written by galley %s.</footer>\n</body>\n</html>\n", GALLEY_VERSION);
}

gboolean
galley_report_write (const char *path, const GalleyStats *stats, const char *state_dir, GError **error)
{
  g_autoptr(GPtrArray) history = galley_stats_load_history (state_dir, 30);
  g_autoptr(GString) out = g_string_new (NULL);
  galley_report_html (out, stats, history);
  if (g_str_equal (path, "-"))
    {
      if (fwrite (out->str, 1, out->len, stdout) != out->len || fflush (stdout) != 0)
        {
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "report: stdout: %s", g_strerror (errno));
          return FALSE;
        }
      return TRUE;
    }
  if (!galley_output_set_contents (path, out->str, out->len, GALLEY_OUTPUT_FLAGS_NONE, error))
    {
      g_prefix_error (error, "report %s: ", path);
      return FALSE;
    }
  return TRUE;
}
