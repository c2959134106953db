/* dedup-passage.h: what two documents share, sentence by sentence, for the
 * run report and `galley explain`.
 *
 * A document is kept as one 32-bit fingerprint per sentence of four words
 * or more (case, punctuation and spacing folded), about 100 bytes for a
 * news article, so a run can keep them for every document it indexes. A
 * later document's sentences are then looked up among a matched one's:
 * how many it shares, and the longest run of shared sentences, the
 * passage the report shows.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends a fingerprint per sentence of @text to @out (guint32). */
void dedup_passage_fingerprints (const char *text, gsize len, GArray *out);

typedef struct {
  guint sentences;  /* of the text, four words or more */
  guint shared;     /* ... of them among the other document's */
  gsize start, end; /* the longest run of shared sentences, in bytes; start == end: none */
} DedupPassage;

/* Compares @text with a document of @n_other fingerprints @other. */
void dedup_passage_find (const char *text, gsize len, const guint32 *other, guint n_other, DedupPassage *out);

G_END_DECLS
