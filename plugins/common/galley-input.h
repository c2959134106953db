/* galley-input.h: input helpers shared by the source plugins (compiled
 * into each module; not part of the plugin ABI).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-stage.h>
#include <galley/galley-input.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* ---- content sniffing ---- */

typedef enum {
  INPUT_KIND_TEXT,
  INPUT_KIND_HTML,
  INPUT_KIND_BINARY,
} InputKind;

/* Looks at the start of @data (and the file name, may be NULL) and decides
 * whether it is text, HTML or binary. *bom_charset is set to the charset a
 * byte order mark declares, or NULL. */
InputKind galley_input_sniff (const guint8 *data, gsize len, const char *name, const char **bom_charset);

/* TRUE if @data starts with the gzip magic. */
gboolean  galley_input_is_gzip (const guint8 *data, gsize len);

/* Decompresses a whole gzip buffer. */
GBytes   *galley_input_gunzip (const guint8 *data, gsize len, guint64 max_size, GError **error);

/* Reads a whole stream (gunzipping when it starts with the gzip magic). */
GBytes   *galley_input_read_stream (GInputStream *in, guint64 max_size, GCancellable *cancellable, GError **error);

/* ---- line reader ---- */

typedef struct _LineReader LineReader;

/* Opens @path ("-" for stdin), gunzipping when the data starts with the
 * gzip magic. A FIFO is opened without waiting for its writer. Reads that
 * wait (a pipe, a FIFO) end with G_IO_ERROR_CANCELLED when @cancellable
 * (may be NULL) is cancelled. */
LineReader *line_reader_open  (const char *path, guint64 max_line, GCancellable *cancellable, GError **error);
/* Returns TRUE with the next line (without \n or \r\n) in *line and *len, or
 * FALSE at the end (error unset) or on a read error (error set). A line
 * longer than max_line sets *too_long and is skipped whole. */
gboolean    line_reader_next  (LineReader *reader, const char **line, gsize *len, gboolean *too_long, GError **error);
guint64     line_reader_lineno (const LineReader *reader);
/* Incremental reading: bytes of the stream up to the end of the last line
 * returned; whether that line lacked its newline (maybe still being
 * written); a fingerprint of the first min(@upto, LINE_READER_PREFIX)
 * bytes; and skipping to @offset (a line boundary of an earlier read),
 * numbering the next line @lines + 1. */
#define LINE_READER_PREFIX 4096
guint64     line_reader_consumed (const LineReader *reader);
gboolean    line_reader_last_unterminated (const LineReader *reader);
guint64     line_reader_fingerprint (LineReader *reader, guint64 upto);
gboolean    line_reader_skip (LineReader *reader, guint64 offset, guint64 lines, GError **error);
void        line_reader_free  (LineReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LineReader, line_reader_free)

/* ---- JSON records ---- */

typedef struct {
  char   *id_field;
  char   *text_field;
  char   *encoding_field;   /* "" = none */
  char  **meta_keys;        /* meta key for each mapped field */
  char  **meta_paths;       /* dotted JSON path of each mapped field */
  gboolean keep_other;      /* unmapped fields go to meta */
  GalleyContentType content_type;  /* UNKNOWN = sniff */
  gboolean galley_records;  /* records=galley: lines are galley output records */
} RecordMapping;

/* Options shared by the jsonl and stdin sources. */
#define RECORD_MAPPING_OPTIONS                                                                          \
  { "id-field", GALLEY_OPT_STRING, "id", "Field holding the document id (else SOURCE:LINE)", NULL },  \
  { "text-field", GALLEY_OPT_STRING, "text", "Field holding the article text (required in each record)", NULL }, \
  { "encoding-field", GALLEY_OPT_STRING, "encoding", "Field declaring the text's charset, if present", NULL }, \
  { "meta-fields", GALLEY_OPT_STRV, "title;author;date;url;lang;sources",                              \
    "Fields copied to meta; KEY=PATH maps a dotted path to another meta key", NULL },                 \
  { "keep-other-fields", GALLEY_OPT_BOOL, "true", "Copy fields not mapped above into meta too", NULL }, \
  { "content-type", GALLEY_OPT_ENUM, "auto", "How to treat the text: sniff it, or force text or html", "auto|text|html" }, \
  { "records", GALLEY_OPT_ENUM, "plain", "plain: any JSON objects, read through the field options above; galley: "  \
    "output records of export-jsonl, read back whole (source, meta, entities and other spans, plugin fields, "     \
    "repairs, encoding, content type), the field options unused", "plain|galley" }

gboolean record_mapping_init  (RecordMapping *m, const GalleyOptions *opts, GError **error);
void     record_mapping_clear (RecordMapping *m);

/* Turns one JSON line into a document. On failure returns NULL with a
 * message naming what was expected. */
GalleyDocument *record_to_document (const RecordMapping *m, json_tokener *tok, const char *line, gsize len,
                                    const char *source, guint64 lineno, GError **error);

/* ---- JSON Lines reading, shared by the jsonl and stdin sources ---- */

typedef struct _RecordReader RecordReader;

/* A reader for @path ("-" for stdin); the file is opened on the first next(). */
RecordReader *record_reader_new  (const char *path, guint64 max_line);
/* Returns TRUE with the next document in *out. Bad lines are handed to
 * galley_stage_reject() (with their line number and text) and skipped.
 * Returns FALSE at the end, when the run stops, or with *error set when the
 * input cannot be opened or read. */
gboolean      record_reader_next (RecordReader *rr, const RecordMapping *m, GalleyStageContext *ctx,
                                  GalleyDocument **out, GError **error);
void          record_reader_free (RecordReader *rr);
/* Before the first next(): start at @offset (line @lines), and with
 * @incremental leave an unterminated, unparsable last line for a later run. */
void          record_reader_resume   (RecordReader *rr, gboolean incremental, guint64 offset, guint64 lines);
/* The option a line over the limit is named after in the message
 * ("max-line" unless set). */
void          record_reader_set_limit_name (RecordReader *rr, const char *option);
/* Shard mode: read no line after line @lines (1-based); 0: no limit. */
void          record_reader_set_end  (RecordReader *rr, guint64 lines);
/* The end of the last line fully handled, its line number, and a
 * fingerprint of the stream's first bytes up to there. */
/* Opens the file again and fingerprints its first bytes up to @upto. */
guint64       record_reader_fingerprint_of (RecordReader *rr, guint64 upto, GError **error);
void          record_reader_position (const RecordReader *rr, guint64 *offset, guint64 *lines, guint64 *fingerprint);
/* TRUE when the input was read to its end and every line was handled (none
 * left for a later run, no stop before the end). */
gboolean      record_reader_at_end   (const RecordReader *rr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecordReader, record_reader_free)

/* Applies the content-type option or sniffing to @doc. */
void set_content_type (GalleyDocument *doc, GalleyContentType forced, const char *name);

G_END_DECLS
