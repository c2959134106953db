/* strip.h: internal interface of the strip stage (not part of the ABI).
 *
 * galley-strip.c is the stage: options, dispatch on the document's content
 * type, meta fields, counters and drop reasons. strip-text.c handles text
 * already converted from web pages (with strip-words.c, strip-dateline.c,
 * strip-markup.c and strip-util.c, see strip-text-private.h), strip-html.c
 * raw HTML pages, and strip-lang.c the stopword lists both use for prose
 * signals.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-stage.h>

G_BEGIN_DECLS

/* What a removed line or block was; counted per kind in the stats. */
typedef enum {
  STRIP_KIND_NAVIGATION,
  STRIP_KIND_TITLE,
  STRIP_KIND_DATELINE,
  STRIP_KIND_BYLINE,
  STRIP_KIND_CAPTION,
  STRIP_KIND_NOTE,
  STRIP_KIND_RELATED,
  STRIP_KIND_SHARE,
  STRIP_KIND_SOURCE,
  STRIP_KIND_URL,
  STRIP_KIND_MARKUP,
  STRIP_KIND_REPEATED,
  STRIP_KIND_OTHER,
  STRIP_N_KINDS
} StripKind;

typedef struct {
  int         aggressiveness; /* 0 favours recall, 1 balanced (default), 2 favours precision */
  const char *language;       /* "auto" or one of strip_lang_codes */
  gboolean    keep_captions;
} StripConfig;

typedef struct {
  GString     *body;                   /* paragraphs separated by "\n\n" */
  json_object *meta;                   /* title, author, date (ISO 8601), url, description, sources, ... */
  gint64       removed[STRIP_N_KINDS]; /* lines/blocks removed, by kind */
  GPtrArray   *removed_units;          /* NULL, or StripRemoved* (a traced document) */
} StripResult;

/* A line or block removed, when StripResult.removed_units is set. */
typedef struct {
  char     *text;
  StripKind kind;
} StripRemoved;

/* Adds a removed unit to @res when it keeps them: @text with its runs of
 * white space made one space, cut after about 400 bytes. */
void        strip_result_note_removed (StripResult *res, StripKind kind, const char *text, gsize len);
/* Adds @text (taken, kept as it is) as a removed unit; removed_units must be set. */
void        strip_result_add_removed  (StripResult *res, StripKind kind, char *text);

void        strip_result_init  (StripResult *res);
void        strip_result_clear (StripResult *res);
const char *strip_kind_name    (StripKind kind);   /* "navigation", "byline", ... */

/* strip-text.c */
gboolean strip_text (const char *text, gsize len, const StripConfig *cfg,
                     StripResult *res, GError **error);

/* strip-text.c: what kind of boilerplate one line of body text is, by the
 * text mode's patterns without context (share and subscribe lines,
 * datelines, bylines, captions and credits, related teasers, notes,
 * sources); STRIP_N_KINDS for body text. */
StripKind strip_text_line_kind (const char *line, gsize len, const StripConfig *cfg);
/* The same, recording in @meta what the line says (a byline's author, a
 * dateline's date...; a key already set is kept). */
StripKind strip_text_line_kind_meta (const char *line, gsize len, const StripConfig *cfg, json_object *meta);

/* strip-html.c: @html is UTF-8 (the repair stage or the source decoded it). */
gboolean strip_html (const char *html, gsize len, const StripConfig *cfg,
                     StripResult *res, GError **error);

/* strip-html-prune.c: @html without the bodies of its scripts (JSON-LD
 * apart) and styles, appended to @out; FALSE (and @out untouched) when
 * there is nothing to leave out or the page is not written plainly
 * enough to be sure the parser builds the same tree from the copy. */
gboolean strip_html_prune (const char *html, gsize len, GString *out);

/* strip-html-tree.c: the tree of @html as libxml2's HTML parser builds
 * it, in one arena; the nodes are libxml2's structs and may be read with
 * its read-only functions, never freed or relinked. */
typedef struct _StripHtmlTree StripHtmlTree;
StripHtmlTree *strip_html_tree_parse (const char *html, gsize len);
struct _xmlNode *strip_html_tree_root (StripHtmlTree *tree);   /* NULL: no element */
void           strip_html_tree_free  (StripHtmlTree *tree);

/* strip-html-tree.c: parses @html with libxml2's own tree builder, and
 * its pruned copy (strip_html_prune()) with strip_html_tree_parse(), and
 * compares the trees; FALSE, with the path of the first difference in
 * *@where, when they differ other than by the left-out bodies. For the
 * tests and the fuzz target. */
gboolean strip_html_tree_check (const char *html, gsize len, char **where);

/* The HTML parser's options, the same for every parse. */
#define STRIP_HTML_PARSE_OPTIONS (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING \
                                  | HTML_PARSE_NONET | HTML_PARSE_COMPACT)

/* strip-lang.c */
extern const char *const strip_lang_codes[];   /* NULL-terminated: "en", "de", ... */
/* The language of @text among strip_lang_codes, by stopword hits; "en" when unsure. */
const char *strip_lang_guess       (const char *text, gsize len);
/* TRUE when the lower-cased UTF-8 @word (@len bytes) is a stopword of @lang. */
gboolean    strip_lang_is_stopword (const char *lang, const char *word, gsize len);

/* strip-text.c: strip_text() that also reports what it repaired in the
 * kept text (for the document's `repairs`); @repairs may be NULL. */
typedef struct {
  gint64 markup_unwrapped;     /* inline tags, emphasis and links unwrapped */
  gint64 paragraphs_rejoined;  /* paragraphs a blank line broke in mid-sentence */
  gint64 lines_joined;         /* hard-wrapped lines joined into their paragraph */
} StripTextRepairs;
gboolean strip_text_ex (const char *text, gsize len, const StripConfig *cfg, StripResult *res,
                        StripTextRepairs *repairs, GError **error);

G_END_DECLS
