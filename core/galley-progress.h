/* galley-progress.h: the share of the input read and the time left, as
 * the live progress line shows them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends ", NN%, eta 1m20s" to @out for @done of @total bytes read in
 * @elapsed seconds: the percent rounded down and below 100 until the input
 * is all read (a file may grow while it is read), the time left at the
 * rate so far ("eta ?" before anything is read). Appends nothing when
 * @total is 0 (not known). */
void galley_progress_format_eta (GString *out, guint64 done, guint64 total, double elapsed);

G_END_DECLS
