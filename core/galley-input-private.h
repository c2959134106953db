/* galley-input-private.h: internals of the input helpers (line reader,
 * JSON records) shared by the core's files and the fuzz targets. Not
 * installed; nothing here is part of the plugin ABI.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley.h>

G_BEGIN_DECLS

/* ---- line reader (galley-line-reader.c) ---- */

/* Bytes at the start of the stream that fingerprints cover. */
#define GALLEY_LINE_READER_PREFIX 4096

/* Bytes of the stream up to the end of the last line returned. */
guint64  galley_line_reader_get_consumed (const GalleyLineReader *reader);
/* TRUE when the last line returned had no newline (maybe still being written). */
gboolean galley_line_reader_last_unterminated (const GalleyLineReader *reader);
/* A fingerprint of the first min(@upto, GALLEY_LINE_READER_PREFIX) bytes read. */
guint64  galley_line_reader_fingerprint (GalleyLineReader *reader, guint64 upto);
/* Skips to @offset (a line boundary of an earlier read), numbering the
 * next line @lines + 1. */
gboolean galley_line_reader_skip (GalleyLineReader *reader, guint64 offset, guint64 lines, GError **error);
/* TRUE when the stream was read to its end and every line returned. */
gboolean galley_line_reader_is_drained (const GalleyLineReader *reader);

/* ---- JSON lines (galley-json-line.c) ---- */

/* Parses the @len bytes at @line as one JSON object with @tok (reset
 * first), keeping integers beyond 64 bits. Errors (GALLEY_DOCUMENT_ERROR_INVALID)
 * say what was expected and at which byte. */
json_object *galley_json_parse_object (json_tokener *tok, const char *line, gsize len, GError **error);
/* @v itself (a new reference) when its strings and member names are valid
 * UTF-8, else a copy in which they are made valid. */
json_object *galley_json_make_valid (json_object *v);
/* A copy of @key, made valid UTF-8. */
char        *galley_json_key_make_valid (const char *key);
/* TRUE if the JSON string @v has a NUL (\u0000) in it. */
gboolean     galley_json_string_has_nul (json_object *v);

/* ---- galley output records (galley-record.c) ---- */

/* The document an output record was written from: the one reader of
 * records, for records=galley and galley_document_read_json(). @source
 * names the document's source when the record has none (may be NULL). */
GalleyDocument *galley_record_read (json_tokener *tok, const char *line, gsize len, const char *source,
                                    GError **error);

/* ---- the mapping of plain records (galley-record-mapping.c) ---- */

struct _GalleyRecordMapping {
  char              *id_field;
  char              *text_field;
  char              *encoding_field;  /* "" = none */
  char             **meta_keys;       /* meta key for each mapped field */
  char             **meta_paths;      /* dotted JSON path of each mapped field */
  gboolean           keep_other;      /* unmapped fields go to meta */
  GalleyContentType  content_type;    /* UNKNOWN = sniff */
  gboolean           galley_records;  /* records=galley: lines are galley output records */
  json_tokener      *tok;
};

G_END_DECLS
