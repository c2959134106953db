/* galley-diff.h: a character diff of two texts, for the run report and
 * `galley explain`. Not installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  GALLEY_DIFF_EQUAL,
  GALLEY_DIFF_DELETE,
  GALLEY_DIFF_INSERT,
} GalleyDiffOp;

/* Called with runs of UTF-8 text in order: equal text, text only in
 * the first, text only in the second. */
typedef void (*GalleyDiffFunc) (GalleyDiffOp op, const char *text, gsize len, gpointer data);

/* The shortest edit script of @before and @after (valid UTF-8), code point
 * by code point, as runs handed to @func. Returns FALSE, calling nothing,
 * when more than @max_edits code points were inserted or deleted. */
gboolean galley_diff (const char *before, const char *after, glong max_edits, GalleyDiffFunc func, gpointer data);

G_END_DECLS
