/* repair.h: internals of the repair stage, split by concern.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-stage.h>

G_BEGIN_DECLS

/* Counts of what was done to one document; names are the `repairs` kinds. */
typedef struct {
  GHashTable *counts;   /* interned kind -> gint64* */
} RepairLog;

void repair_log_init  (RepairLog *log);
void repair_log_add   (RepairLog *log, const char *kind, gint64 n);
void repair_log_clear (RepairLog *log);

/* The character Windows-1252 gives the C1 control @c (U+0080..U+009F), or
 * @c itself for the five bytes it leaves undefined (81 8D 8F 90 9D). */
gunichar repair_cp1252_c1 (gunichar c);

/* ---- decoding bytes (repair-decode.c) ---- */

typedef struct {
  gboolean use_declared;     /* trust a declared charset when the bytes agree */
  gboolean detect;           /* run the detector for undeclared legacy bytes  */
  char    *fallback;         /* charset when nothing else decides             */
} DecodeOptions;

/* Decodes @raw to UTF-8. *charset is set to the charset used (static
 * string or from @declared). Invalid sequences become U+FFFD and are logged
 * as `invalid-bytes`. Never fails. */
char *repair_decode (const guint8 *raw, gsize len, const char *declared, gboolean is_html,
                     const DecodeOptions *opts, const char **charset, gsize *out_len, RepairLog *log);

/* ---- mojibake (repair-mojibake.c) ---- */

typedef struct _MojibakeTables MojibakeTables;
MojibakeTables *mojibake_tables_new  (void);
void            mojibake_tables_free (MojibakeTables *t);
/* TRUE when @text may hold mojibake (cheap byte scan). */
gboolean        mojibake_possible    (const char *text, gsize len);
/* Repairs mojibake in @text; returns a new string or NULL if nothing changed. */
char           *mojibake_repair      (const MojibakeTables *t, const char *text, gsize len, RepairLog *log);

/* ---- lossy TIS-620 punctuation (repair-thai.c) ---- */

/* Restores the punctuation that a lone U+0E42 stands for; NULL if none. */
char *thai_lossy_repair (const char *text, gsize len, RepairLog *log);

/* ---- text clean-up (repair-normalize.c) ---- */

typedef struct {
  gboolean html_entities;
  gboolean nfc;
  gboolean newlines;
  gboolean controls;
  gboolean zero_width;
  int      spaces;        /* 0 keep, 1 to ASCII space */
  gboolean straight_quotes;
  gboolean ligatures;
} NormalizeOptions;

/* Returns a new string or NULL when nothing changed. */
char *repair_html_entities (const char *text, gsize len, RepairLog *log);
char *repair_normalize     (const NormalizeOptions *opts, const char *text, gsize len, RepairLog *log);

G_END_DECLS
