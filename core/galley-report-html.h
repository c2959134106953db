/* galley-report-html.h: the stats file read back, the HTML run report
 * and `galley explain`. Not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "galley-private.h"

G_BEGIN_DECLS

/* ---- galley-stats-file.c: a stats file, checked ------------------------- */

typedef struct {
  char  *name;
  gint64 count;
} GalleyStatsCount;

typedef struct {
  const char  *id;
  const char  *plugin;
  const char  *kind;
  gint64       in, kept, failed, dropped_total;
  double       seconds;
  GArray      *dropped;   /* GalleyStatsCount, sorted by name */
  GArray      *counters;  /* GalleyStatsCount */
  json_object *samples;   /* (transfer none) array of traced steps, or NULL */
} GalleyStatsStage;

typedef struct {
  json_object *root;
  char        *path;
  const char  *pipeline;
  const char  *file;
  const char  *finished;
  const char  *error;
  gint64       exit_code, run_id, threads, docs_in, docs_out, bytes_in, rejects;
  double       seconds;
  gboolean     dry_run;
  GPtrArray   *stages;    /* GalleyStatsStage* */
} GalleyStats;

/* Parses a stats file's text. Errors (GALLEY_DOCUMENT_ERROR_INVALID) name
 * @path, the line for JSON syntax errors, the member (stages[2].kept) and
 * what was expected. */
GalleyStats *galley_stats_parse (const char *text, gsize len, const char *path, GError **error);
GalleyStats *galley_stats_load  (const char *path, GError **error);
/* Checks a stats object; takes @root (also when it fails). */
GalleyStats *galley_stats_from_json (json_object *root, const char *path, GError **error);
void         galley_stats_free  (GalleyStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyStats, galley_stats_free)

/* The runs in STATE/runs, oldest first, at most @max (the newest). A file
 * that does not read is skipped with a warning. */
GPtrArray   *galley_stats_load_history (const char *state_dir, guint max);

/* ---- galley-report-html.c: the report ------------------------------------ */

/* Appends @text with & < > " ' escaped. */
void galley_html_escape_append (GString *out, const char *text, gssize len);
/* The whole report page. @history: GalleyStats*, oldest first, or NULL. */
void galley_report_html (GString *out, const GalleyStats *stats, GPtrArray *history);
/* The report's style sheet and one traced step, for `galley explain --html`. */
void galley_report_html_head (GString *out, const char *title);
void galley_report_html_step (GString *out, const char *stage_id, json_object *step);
/* Reads the history of @state_dir (may be NULL) and writes the report. */
gboolean galley_report_write (const char *path, const GalleyStats *stats, const char *state_dir, GError **error);

/* `galley report STATS.json [--state-dir DIR] -o FILE` */
int galley_report_command  (int argc, char **argv);
/* `galley explain PIPELINE (--doc ID | --input FILE) [--json | --html]` */
int galley_explain_command (int argc, char **argv);

G_END_DECLS
