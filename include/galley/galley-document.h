/* galley-document.h: the document that flows through a pipeline.
 *
 * A document carries an id, where it came from, the raw bytes a source
 * read, the text a stage decided on (always valid UTF-8, no NUL), the
 * encoding and content type, metadata, annotations, repairs and a bag of
 * plugin fields. The core owns documents; stages borrow them for the
 * duration of a callback and change them only through these functions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-macros.h>
#include <galley/galley-json.h>

G_BEGIN_DECLS

/* The annotation layer of named entities and dates; its annotations are
 * the output record's "entities" array, other layers go to "annotations". */
#define GALLEY_LAYER_ENTITIES "entities"

typedef struct _GalleyDocument GalleyDocument;

/**
 * GalleyContentType:
 * @GALLEY_CONTENT_UNKNOWN: not sniffed
 * @GALLEY_CONTENT_TEXT: plain text (possibly with markup remnants)
 * @GALLEY_CONTENT_HTML: an HTML page
 */
typedef enum {
  GALLEY_CONTENT_UNKNOWN,
  GALLEY_CONTENT_TEXT,
  GALLEY_CONTENT_HTML,
} GalleyContentType;

/**
 * GalleyAnnotation:
 * @layer: "entities" for named entities and dates, any other word for
 *   other span kinds
 * @type: the label, e.g. "PER", "ORG", "LOC", "DATE"
 * @start: first code point of the span in the document's text
 * @end: one past the last code point
 * @text: the covered text
 * @canonical: the canonical form, or %NULL
 * @attrs: a JSON object of extra attributes, or %NULL; owned by the annotation
 *
 * A span of the document's text. Offsets count Unicode code points, not
 * bytes. A stage that rewrites the text after spans were added must clear
 * or move them.
 */
typedef struct {
  char        *layer;
  char        *type;
  gint64       start;
  gint64       end;
  char        *text;
  char        *canonical;
  json_object *attrs;
  /*< private >*/
  gpointer     reserved[4];
} GalleyAnnotation;

/* Creates an empty document. @id and @source are copied; @source may be NULL. */
GALLEY_API GalleyDocument *galley_document_new  (const char *id, const char *source);
GALLEY_API void            galley_document_free (GalleyDocument *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyDocument, galley_document_free)

GALLEY_API const char *galley_document_get_id     (const GalleyDocument *doc);
GALLEY_API void        galley_document_set_id     (GalleyDocument *doc, const char *id);
GALLEY_API const char *galley_document_get_source (const GalleyDocument *doc);
GALLEY_API void        galley_document_set_source (GalleyDocument *doc, const char *source);

/**
 * galley_document_set_raw:
 * @bytes: (transfer none): the bytes as read, in any encoding
 *
 * Sets the raw input and forgets any decided text, so the next
 * galley_document_get_text() derives it from @bytes again.
 */
GALLEY_API void    galley_document_set_raw (GalleyDocument *doc, GBytes *bytes);
/* (transfer none) the raw bytes, or NULL when the source gave text directly. */
GALLEY_API GBytes *galley_document_get_raw (const GalleyDocument *doc);

/**
 * galley_document_get_text:
 * @len: (out) (optional): length in bytes
 *
 * Returns: (transfer none): the document text, valid UTF-8 without NUL
 * bytes, NUL-terminated. When no stage has decided the text yet it is
 * derived from the raw bytes: a UTF-8 BOM is removed, invalid sequences
 * and NUL bytes become U+FFFD and are recorded as repairs
 * (`invalid-utf8`, `nul-byte`). Never %NULL.
 */
GALLEY_API const char *galley_document_get_text  (GalleyDocument *doc, gsize *len);
/* TRUE once a stage has set the text or galley_document_get_text() derived it. */
GALLEY_API gboolean    galley_document_has_text  (const GalleyDocument *doc);
/* Copies @text (@len -1 for NUL-terminated). Invalid UTF-8 and NULs become
 * U+FFFD and are counted as repairs, so the text invariant always holds. */
GALLEY_API void        galley_document_set_text  (GalleyDocument *doc, const char *text, gssize len);
/* Like set_text but takes ownership of @text (g_malloc'd, NUL-terminated). */
GALLEY_API void        galley_document_take_text (GalleyDocument *doc, char *text, gsize len);
/* Number of code points in the text. */
GALLEY_API gint64      galley_document_get_length (GalleyDocument *doc);
/* Words in the text (runs of letters or digits). */
GALLEY_API gint64      galley_document_count_words (GalleyDocument *doc);
/* Size in bytes of the raw input, or of the text when there is no raw input. */
GALLEY_API gsize       galley_document_get_size  (const GalleyDocument *doc);

/* Charset the source declared (BOM, JSONL field, HTML meta), or NULL. */
GALLEY_API const char *galley_document_get_declared_encoding (const GalleyDocument *doc);
GALLEY_API void        galley_document_set_declared_encoding (GalleyDocument *doc, const char *charset);
/* Charset the text was decoded from ("utf-8", "windows-1252", ...), or NULL. */
GALLEY_API const char *galley_document_get_encoding (const GalleyDocument *doc);
GALLEY_API void        galley_document_set_encoding (GalleyDocument *doc, const char *charset);

GALLEY_API GalleyContentType galley_document_get_content_type (const GalleyDocument *doc);
GALLEY_API void              galley_document_set_content_type (GalleyDocument *doc, GalleyContentType type);
GALLEY_API const char       *galley_content_type_to_string (GalleyContentType type);

/**
 * galley_document_get_meta:
 *
 * Returns: (transfer none): the metadata object (title, author, date, url,
 * lang, sources, ...). Never %NULL; add members with json-c directly or
 * with the helpers below.
 */
GALLEY_API json_object *galley_document_get_meta        (GalleyDocument *doc);
/* Sets meta[@key] to a string, or removes it when @value is NULL. */
GALLEY_API void         galley_document_set_meta_string (GalleyDocument *doc, const char *key, const char *value);
/* (transfer none) meta[@key] if it is a string, else NULL. */
GALLEY_API const char  *galley_document_get_meta_string (GalleyDocument *doc, const char *key);

/**
 * galley_document_get_fields:
 *
 * Returns: (transfer none): the plugin field bag. Each member becomes a
 * top-level key of the output record (`dedup` is one). Members named like
 * a core key (id, source, text, meta, entities, annotations, repairs,
 * encoding, content_type) are not exported.
 */
GALLEY_API json_object *galley_document_get_fields (GalleyDocument *doc);
/* Sets fields[@key] = @value, stealing @value (NULL removes the key). */
GALLEY_API void         galley_document_set_field  (GalleyDocument *doc, const char *key, json_object *value);

/**
 * galley_document_add_annotation:
 * @layer: (nullable): "entities" when NULL
 * @type: the label
 * @start, @end: code point offsets into the current text, start < end
 * @canonical: (nullable): canonical form
 *
 * Adds a span; its @text is copied out of the document text.
 *
 * Returns: (transfer none): the new annotation (set @attrs on it if needed),
 * or %NULL if the offsets are outside the text.
 */
GALLEY_API GalleyAnnotation *galley_document_add_annotation (GalleyDocument *doc, const char *layer,
                                                             const char *type, gint64 start, gint64 end,
                                                             const char *canonical);
GALLEY_API guint             galley_document_get_n_annotations (const GalleyDocument *doc);
GALLEY_API GalleyAnnotation *galley_document_get_annotation    (const GalleyDocument *doc, guint index);
/* Removes the annotations of @layer, or all when @layer is NULL. */
GALLEY_API void              galley_document_clear_annotations (GalleyDocument *doc, const char *layer);

/* Adds @count to the repair counter @kind (kebab-case, e.g. "mojibake-cp1252"). */
GALLEY_API void   galley_document_add_repair (GalleyDocument *doc, const char *kind, gint64 count);
/* Current count of @kind (0 if none). */
GALLEY_API gint64 galley_document_get_repair (const GalleyDocument *doc, const char *kind);

/**
 * galley_utf8_validate:
 * @end: (out) (optional): where validation stopped
 *
 * Like g_utf8_validate_len() (NUL bytes are invalid) but several times
 * faster on mostly-ASCII text.
 */
GALLEY_API gboolean galley_utf8_validate (const char *text, gsize len, const char **end);

/**
 * galley_document_to_json:
 *
 * Returns: (transfer full): the output record (see docs/record.md).
 */
GALLEY_API json_object *galley_document_to_json    (GalleyDocument *doc);
/* Appends the output record as one line of JSON (without newline) to @out.
 * Same content as galley_document_to_json(), written without building a tree. */
GALLEY_API void         galley_document_write_json (GalleyDocument *doc, GString *out);

/**
 * galley_document_read_json:
 * @line: one record as galley_document_write_json() writes it
 *
 * Since ABI 1.2: builds the document back (id, source, text, meta, fields,
 * entities and other annotations, repairs, encoding, content type). The
 * raw bytes and the declared encoding are not part of the record. Since
 * ABI 1.3 with the checks and messages of records=galley (one reader):
 * @line must be valid UTF-8, the id a non-empty string without NUL, meta
 * an object, spans objects with a string type and integer offsets inside
 * the text.
 *
 * Returns: (transfer full): the document, or %NULL with @error set
 * (GALLEY_DOCUMENT_ERROR) when @line is not such a record.
 */
GALLEY_API GalleyDocument *galley_document_read_json (const char *line, gsize len, GError **error);

G_END_DECLS
