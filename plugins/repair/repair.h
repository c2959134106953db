/* repair.h: internals of the repair stage, split by concern.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-stage.h>
#include <string.h>

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

/* ---- UTF-8 sequences rebuilt from code-page bytes ---- */

/* The length of the UTF-8 sequence lead byte @b opens, or 0. */
static inline int
repair_utf8_length (guint b)
{
  return b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
}

/* Decodes the @n bytes at @b (lead and continuations); 0 for an overlong
 * form or a value beyond U+10FFFF. A surrogate is returned, with
 * *@surrogate set (CESU-8 pairs are rebuilt from two of them). */
static inline gunichar
repair_utf8_decode (const guint8 *b, int n, gboolean *surrogate)
{
  gunichar c;
  if (n == 2)
    c = ((b[0] & 0x1F) << 6) | (b[1] & 0x3F);
  else if (n == 3)
    c = ((b[0] & 0x0F) << 12) | ((b[1] & 0x3F) << 6) | (b[2] & 0x3F);
  else
    c = ((b[0] & 0x07) << 18) | ((b[1] & 0x3F) << 12) | ((b[2] & 0x3F) << 6) | (b[3] & 0x3F);
  *surrogate = c >= 0xD800 && c <= 0xDFFF;
  if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)))
    return 0;
  return c;
}

/* ---- code pages (repair-pages.c) ---- */

#define REPAIR_MAX_PAGES 16

typedef struct {
  const char *name;          /* kind suffix: mojibake:utf8-as-NAME */
  gboolean    sloppy_c1;     /* undefined bytes 80-9F were read as C1 controls */
  gboolean    nbsp_a0;       /* byte A0 is the no-break space */
  gunichar    dec[256];      /* 0: undefined */
  guint8      undefined[128];
  guint       n_undefined;
  guint8      lossy[64];     /* continuation bytes a decoder through this page may lose */
  guint       n_lossy;
  gboolean    tis620;        /* the Thai page, read as TIS-620 by decoders that then
                              * strip C1 controls: bytes 80-A0 are lost */
} RepairPage;

/* One character in every page: its byte (0: none) and the pages in which
 * that byte is a UTF-8 lead (C2-F4) or a continuation (80-BF). */
typedef struct {
  guint16 in_mask;     /* the pages that have the character */
  guint16 lead_mask;
  guint16 cont_mask;
  guint8  byte[REPAIR_MAX_PAGES];
} RepairPageRow;

typedef struct {
  RepairPage     page[REPAIR_MAX_PAGES];
  guint          n_pages;
  guint16        block_of[0x10000 >> 7];   /* 1-based block of rows, 0: none */
  RepairPageRow *rows;
  guint          n_blocks;
} RepairPages;

RepairPages      *repair_pages_new  (void);
void              repair_pages_free (RepairPages *pages);
const RepairPage *repair_pages_find (const RepairPages *pages, const char *name);

/* Functions that only score characters: in a fuzzing build (-Dfuzzing)
 * they leave out the coverage hooks, which trace every comparison and
 * took half of fuzz-repair's time there; the address and
 * undefined-behaviour checks stay. */
#if defined(GALLEY_FUZZING) && defined(__clang__)
#define REPAIR_SCORING __attribute__ ((no_sanitize ("coverage")))
#else
#define REPAIR_SCORING
#endif

/* The row of a non-ASCII BMP character, or NULL when no page has it. */
REPAIR_SCORING static inline const RepairPageRow *
repair_pages_row (const RepairPages *pages, gunichar c)
{
  if (c >= 0x10000)
    return NULL;
  guint block = pages->block_of[c >> 7];
  return block != 0 ? &pages->rows[(gsize) (block - 1) * 128 + (c & 127)] : NULL;
}

/* The byte of @c in page @p, or -1. */
REPAIR_SCORING static inline int
repair_pages_byte (const RepairPages *pages, guint p, gunichar c)
{
  if (c < 0x80)
    return (int) c;
  const RepairPageRow *row = repair_pages_row (pages, c);
  return row != NULL && row->byte[p] != 0 ? row->byte[p] : -1;
}

/* ---- character properties, cached for the scripts mojibake touches
 * (repair-pages.c) ---- */

#define REPAIR_CHAR_CACHE 0x3000

extern guint8 repair_char_type_cache[REPAIR_CHAR_CACHE];
extern guint8 repair_char_script_cache[REPAIR_CHAR_CACHE];

/* Fills the caches; call once before the functions below (repair_pages_new does). */
void repair_char_cache_init (void);

static inline GUnicodeType
repair_type (gunichar c)
{
  return c < REPAIR_CHAR_CACHE ? (GUnicodeType) repair_char_type_cache[c] : g_unichar_type (c);
}

static inline GUnicodeScript
repair_script (gunichar c)
{
  return c < REPAIR_CHAR_CACHE ? (GUnicodeScript) repair_char_script_cache[c] : g_unichar_get_script (c);
}

/* g_unichar_isalpha(), g_unichar_islower() and g_unichar_isupper() from
 * the cached type: GLib defines them by the general category (a letter;
 * Ll; Lu) */
static inline gboolean
repair_isalpha (gunichar c)
{
  GUnicodeType t = repair_type (c);
  return t == G_UNICODE_LOWERCASE_LETTER || t == G_UNICODE_UPPERCASE_LETTER || t == G_UNICODE_TITLECASE_LETTER
         || t == G_UNICODE_MODIFIER_LETTER || t == G_UNICODE_OTHER_LETTER;
}

static inline gboolean
repair_islower (gunichar c)
{
  return repair_type (c) == G_UNICODE_LOWERCASE_LETTER;
}

static inline gboolean
repair_isupper (gunichar c)
{
  return repair_type (c) == G_UNICODE_UPPERCASE_LETTER;
}

/* ---- whole lines read back (repair-reread.c) ---- */

typedef enum {
  REPAIR_EVIDENCE_NONE,     /* no two neighbours could be one garbled character */
  REPAIR_EVIDENCE_DOUBTFUL, /* only letters of one script that spell another */
  REPAIR_EVIDENCE_WEAK,     /* only sequences that lost a byte */
  REPAIR_EVIDENCE_STRONG,   /* a complete garbled character, a C1 control or U+FFFD */
} RepairEvidence;

RepairEvidence repair_reread_scan (const RepairPages *pages, const char *line, gsize len);
/* The pages that have every character of @line (U+FFFD: those that lose bytes). */
guint32        repair_reread_pages (const RepairPages *pages, const char *line, gsize len);

#define REPAIR_MAX_CANDIDATES 96

/* A character whose bytes were partly lost: what it may have been. */
typedef struct {
  guint    at;                 /* index in RepairReading.text */
  gboolean dropped;            /* the sequence came short, not marked by U+FFFD or '?' */
  gboolean lone_lead;          /* ... and only its lead is left */
  gunichar orig[4];            /* the characters the slot was read from */
  guint    n_orig;
  guint    n_candidates;
  gunichar candidates[REPAIR_MAX_CANDIDATES];
} RepairSlot;

typedef struct {
  GArray *bytes;     /* guint16 scratch */
  GArray *text;      /* gunichar: the reading, U+FFFD at each slot */
  GArray *slots;     /* RepairSlot */
  guint   clusters;  /* characters rebuilt from two or more */
  guint   page;
} RepairReading;

void     repair_reading_init  (RepairReading *reading);
void     repair_reading_clear (RepairReading *reading);
/* Reads @line back through page @p; FALSE unless every non-ASCII byte
 * forms a UTF-8 sequence (complete, or short of bytes the page loses) and
 * at least one character changes. */
gboolean repair_reread_line   (const RepairPages *pages, guint p, const char *line, gsize len, RepairReading *reading);
/* TRUE when @line as bytes of page @p (U+FFFD as a lost byte) is @bytes,
 * the bytes of an earlier reading (RepairReading.bytes): the page would
 * read the line as that one did. */
gboolean repair_reread_same_bytes (const RepairPages *pages, guint p, const char *line, gsize len,
                                   const GArray *bytes);

/* ---- lost bytes chosen from context (repair-lossy.c) ---- */

/* Fills each slot of @reading with its most plausible candidate; a slot
 * whose best candidates tie keeps U+FFFD. Returns the number of slots
 * left undecided; with @all_or_none, stops at the first (the reading is
 * then of no use). */
guint repair_lossy_choose (RepairReading *reading, gboolean all_or_none);
/* How many non-ASCII letters of @text belong to the alphabet of the
 * language that best explains them. */
guint repair_language_fit (const gunichar *text, guint n);

/* ---- never worse (repair-plausible.c) ---- */

/* FALSE when @text (a repaired line) holds a character no repair may
 * produce: a C1 or other control, an invisible format character, a
 * private-use or unassigned code point, or a letter glued to a letter
 * of another script; for a line read back whole (@whole_line), also a
 * character of a script that occurs nowhere else in the line. C1
 * controls pass with @allow_c1, for a reading that is one layer of text
 * garbled twice (a Windows-1252 undefined byte kept as its control). */
gboolean repair_plausible (const gunichar *text, guint n, gboolean whole_line, gboolean allow_c1);

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
MojibakeTables *mojibake_tables_new  (const RepairPages *pages);
void            mojibake_tables_free (MojibakeTables *t);
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

/* The first byte from @p on that is not ASCII, eight bytes at a time (or
 * the last few bytes of the run, fewer than eight: the caller goes on byte
 * by byte). */
static inline const guchar *
repair_skip_ascii8 (const guchar *p, const guchar *end)
{
  while (end - p >= 8)
    {
      guint64 w;
      memcpy (&w, p, 8);
      if (w & 0x8080808080808080ull)
        break;
      p += 8;
    }
  return p;
}

G_END_DECLS
