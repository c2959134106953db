/* repair-letters.h: the letter model of the repair stage (its data is
 * generated into repair-letters-data.c by letters/make-letter-model.py).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

G_GNUC_INTERNAL extern const guint   repair_letters_n_symbols;
G_GNUC_INTERNAL extern const int     repair_letters_scale;
G_GNUC_INTERNAL extern const int     repair_letters_backoff;
G_GNUC_INTERNAL extern const guint16 repair_letters_symbols[];
G_GNUC_INTERNAL extern const gint8   repair_letters_bigram[];
G_GNUC_INTERNAL extern const guint   repair_letters_n_trigrams;
G_GNUC_INTERNAL extern const guint32 repair_letters_trigram_keys[];
G_GNUC_INTERNAL extern const gint8   repair_letters_trigram_values[];
G_GNUC_INTERNAL extern const int     repair_letters_backoff4;
G_GNUC_INTERNAL extern const guint   repair_letters_n_quadgrams;
G_GNUC_INTERNAL extern const guint32 repair_letters_quadgram_keys[];
G_GNUC_INTERNAL extern const gint8   repair_letters_quadgram_values[];

G_END_DECLS
