/* galley-input.h: input helpers of libgalley-1 for source plugins (the
 * gzip stream; since ABI 1.3 content sniffing, the line reader and the
 * JSON Lines record reader that the jsonl and stdin sources use).
 *
 * The types live in the library so that they are registered once per
 * process, however many plugin modules use them. See "Input and output
 * helpers" in docs/plugin-guide.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#ifndef GALLEY_INSIDE
# define GALLEY_INSIDE
# define GALLEY_INPUT_H_DEFINED_INSIDE
#endif

#include <galley/galley-macros.h>
#include <galley/galley-stage.h>

#ifdef GALLEY_INPUT_H_DEFINED_INSIDE
# undef GALLEY_INSIDE
# undef GALLEY_INPUT_H_DEFINED_INSIDE
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

/* A GInputStream that inflates gzip data read from its base stream, every
 * member of it (a file made by `cat a.gz b.gz`, pigz or bgzip is read
 * whole). Data that ends inside a member fails with
 * G_IO_ERROR_PARTIAL_INPUT, corrupt data with G_IO_ERROR_INVALID_DATA. */
#define GALLEY_TYPE_GZIP_INPUT_STREAM (galley_gzip_input_stream_get_type ())
GALLEY_API
G_DECLARE_FINAL_TYPE (GalleyGzipInputStream, galley_gzip_input_stream, GALLEY, GZIP_INPUT_STREAM, GInputStream)

/* A new stream reading gzip data from @base (which it references). */
GALLEY_API GInputStream *galley_gzip_input_stream_new (GInputStream *base);

/* ---- content (since ABI 1.3) ------------------------------------------- */

typedef enum {
  GALLEY_INPUT_KIND_TEXT,
  GALLEY_INPUT_KIND_HTML,
  GALLEY_INPUT_KIND_BINARY,
} GalleyInputKind;

/**
 * galley_input_sniff:
 * @data: the start of the content (8 KiB are looked at)
 * @name: (nullable): the file name, whose .html/.htm/.xhtml ending (also
 *   before .gz) says HTML
 * @bom_charset: (out) (transfer none): the charset a byte order mark
 *   declares ("utf-8", "utf-16le", ...), or %NULL
 *
 * Decides whether @data is text, HTML or binary (magic numbers of common
 * binary formats, control characters, NULs that are not UTF-16). In
 * UTF-16 and UTF-32 (by their byte order mark, or UTF-16 by where its NULs
 * are) the markup is looked for in the ASCII characters.
 */
GALLEY_API GalleyInputKind galley_input_sniff (const guint8 *data, gsize len, const char *name,
                                               const char **bom_charset);

/* TRUE if @data starts with the gzip magic. */
GALLEY_API gboolean galley_input_is_gzip (const guint8 *data, gsize len);

/**
 * galley_input_gunzip:
 *
 * Inflates a whole gzip buffer (every member).
 *
 * Returns: (transfer full): the data, with a NUL after it that the length
 * does not count, or %NULL with @error set ("gzip: ..."; past @max_size
 * bytes GALLEY_SOURCE_ERROR_READ).
 */
GALLEY_API GBytes *galley_input_gunzip (const guint8 *data, gsize len, guint64 max_size, GError **error);

/**
 * galley_input_read_stream:
 *
 * Reads @in to its end, inflating it when it starts with the gzip magic.
 *
 * Returns: (transfer full): the data, with a NUL after it that the length
 * does not count, or %NULL with @error set: GALLEY_SOURCE_ERROR_READ past
 * @max_size bytes, G_IO_ERROR_CANCELLED when @cancellable was cancelled.
 */
GALLEY_API GBytes *galley_input_read_stream (GInputStream *in, guint64 max_size, GCancellable *cancellable,
                                             GError **error);

/* Sets the content type of @doc: @forced unless it is
 * GALLEY_CONTENT_UNKNOWN, else sniffed from the raw bytes (and @name, may
 * be NULL) as galley_input_sniff() does; a byte order mark becomes the
 * declared encoding when none is set. */
GALLEY_API void galley_input_set_content_type (GalleyDocument *doc, GalleyContentType forced, const char *name);

/* ---- lines (since ABI 1.3) ---------------------------------------------- */

typedef struct _GalleyLineReader GalleyLineReader;

/**
 * galley_line_reader_open:
 * @path: a file, or "-" for standard input
 * @max_line: longer lines are skipped whole (see galley_line_reader_next())
 * @cancellable: (nullable): wakes a read that waits on a pipe or a FIFO;
 *   the reader keeps a reference
 *
 * Opens @path for reading line by line, inflating it when the data starts
 * with the gzip magic. A FIFO is opened without waiting for its writer.
 *
 * Returns: (transfer full): the reader, or %NULL with a G_IO_ERROR set.
 */
GALLEY_API GalleyLineReader *galley_line_reader_open (const char *path, guint64 max_line,
                                                      GCancellable *cancellable, GError **error);
/**
 * galley_line_reader_next:
 * @line: (out) (transfer none): the line, without its \n or \r\n and
 *   with a NUL after it; valid until the next call
 * @too_long: (out): set when the line was longer than max_line: it was
 *   skipped whole and @line is %NULL
 *
 * Returns: %TRUE with the next line, %FALSE at the end (@error unset) or on
 * a read error (@error set; G_IO_ERROR_CANCELLED when stopped).
 */
GALLEY_API gboolean galley_line_reader_next (GalleyLineReader *reader, const char **line, gsize *len,
                                             gboolean *too_long, GError **error);
/* The number of the line galley_line_reader_next() returned last (1-based). */
GALLEY_API guint64  galley_line_reader_get_line_number (const GalleyLineReader *reader);
GALLEY_API void     galley_line_reader_free (GalleyLineReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyLineReader, galley_line_reader_free)

/**
 * galley_input_fingerprint:
 * @fingerprint: (out): a hash of the first min(@upto, 4096) bytes of the
 *   content of @path (inflated when gzip)
 *
 * With galley_record_reader_get_position() this tells whether the part of
 * a file read by an earlier run is still the same (the file was only
 * appended to).
 *
 * Returns: %FALSE with @error set when @path cannot be read or is shorter
 * than min(@upto, 4096) bytes (G_IO_ERROR_PARTIAL_INPUT).
 */
GALLEY_API gboolean galley_input_fingerprint (const char *path, guint64 upto, guint64 *fingerprint,
                                              GError **error);

/* ---- JSON records (since ABI 1.3) --------------------------------------- */

/**
 * GALLEY_RECORD_MAPPING_OPTIONS:
 *
 * The option rows that galley_record_mapping_new() reads (id-field,
 * text-field, encoding-field, meta-fields, keep-other-fields, content-type,
 * records), for a source's option table:
 * |[<!-- language="C" -->
 * static const GalleyOptionSpec my_options[] = {
 *   { "url", GALLEY_OPT_STRING, NULL, "Where to read from", NULL },
 *   GALLEY_RECORD_MAPPING_OPTIONS,
 *   { NULL }
 * };
 * ]|
 * A macro, not a function, because a descriptor's table is a constant.
 * The rows use the ABI 1.3 layout (designated fields).
 */
#define GALLEY_RECORD_MAPPING_OPTIONS                                                                    \
  { .name = "id-field", .type = GALLEY_OPT_STRING, .default_value = "id",                                \
    .help = "Field holding the document id (else SOURCE:LINE)" },                                         \
  { .name = "text-field", .type = GALLEY_OPT_STRING, .default_value = "text",                            \
    .help = "Field holding the article text (required in each record)" },                                 \
  { .name = "encoding-field", .type = GALLEY_OPT_STRING, .default_value = "encoding",                    \
    .help = "Field declaring the text's charset, if present" },                                           \
  { .name = "meta-fields", .type = GALLEY_OPT_STRV, .default_value = "title;author;date;url;lang;sources", \
    .help = "Fields copied to meta; KEY=PATH maps a dotted path to another meta key" },                   \
  { .name = "keep-other-fields", .type = GALLEY_OPT_BOOL, .default_value = "true",                       \
    .help = "Copy fields not mapped above into meta too" },                                               \
  { .name = "content-type", .type = GALLEY_OPT_ENUM, .default_value = "auto",                            \
    .help = "How to treat the text: sniff it, or force text or html", .choices = "auto|text|html" },     \
  { .name = "records", .type = GALLEY_OPT_ENUM, .default_value = "plain",                                \
    .help = "plain: any JSON objects, read through the field options above; galley: "                    \
            "output records of export-jsonl, read back whole (source, meta, entities and other spans, "  \
            "plugin fields, repairs, encoding, content type), the field options unused",                 \
    .choices = "plain|galley" }

/* How a JSON object becomes a document: which fields hold the id, the
 * text and its charset, which go to meta, or records=galley. */
typedef struct _GalleyRecordMapping GalleyRecordMapping;

/**
 * galley_record_mapping_new:
 * @opts: options of a table with GALLEY_RECORD_MAPPING_OPTIONS
 *
 * Returns: (transfer full): the mapping, or %NULL with @error set
 * (GALLEY_CONFIG_ERROR_INVALID_VALUE, naming the option).
 */
GALLEY_API GalleyRecordMapping *galley_record_mapping_new (const GalleyOptions *opts, GError **error);
GALLEY_API void                 galley_record_mapping_free (GalleyRecordMapping *mapping);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyRecordMapping, galley_record_mapping_free)
/* The content-type option: GALLEY_CONTENT_UNKNOWN for auto (sniff). */
GALLEY_API GalleyContentType    galley_record_mapping_get_content_type (const GalleyRecordMapping *mapping);

/**
 * galley_record_mapping_to_document:
 * @line: one JSON object (not NUL-terminated, need not be valid UTF-8)
 * @source: the input's name, for the document's source (SOURCE:LINENO) and
 *   its id when the record has none
 *
 * Turns one line into a document through @mapping. With records=galley
 * the line must be an output record (as galley_document_read_json()).
 * The mapping keeps a parser: use it from one thread at a time.
 *
 * Returns: (transfer full): the document, or %NULL with @error set
 * (GALLEY_DOCUMENT_ERROR_INVALID, saying what was expected).
 */
GALLEY_API GalleyDocument *galley_record_mapping_to_document (GalleyRecordMapping *mapping, const char *line,
                                                              gsize len, const char *source, guint64 lineno,
                                                              GError **error);

/* Reads JSON Lines from a file or standard input into documents. */
typedef struct _GalleyRecordReader GalleyRecordReader;

/* A reader of @path ("-": standard input), opened on the first next();
 * lines longer than @max_line bytes are rejected. */
GALLEY_API GalleyRecordReader *galley_record_reader_new (const char *path, guint64 max_line);
GALLEY_API void                galley_record_reader_free (GalleyRecordReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyRecordReader, galley_record_reader_free)

/**
 * galley_record_reader_next:
 * @out: (out) (transfer full): the next document
 *
 * Reads lines until one makes a document through @mapping. A byte order
 * mark before the first line and blank lines are skipped; a line that is
 * too long or makes no document is handed to galley_stage_reject() (with
 * its number and text) and skipped, unless the stage's on-error policy
 * stops the run.
 *
 * Returns: %TRUE with a document in @out; %FALSE at the end, when the run
 * stops, or with @error set (GALLEY_SOURCE_ERROR, "PATH: ...") when the
 * input cannot be opened or read.
 */
GALLEY_API gboolean galley_record_reader_next (GalleyRecordReader *reader, GalleyRecordMapping *mapping,
                                               GalleyStageContext *ctx, GalleyDocument **out, GError **error);

/* Names the option max_line comes from in the message for a line over the
 * limit ("max-line" unless set). @option must outlive the reader. */
GALLEY_API void galley_record_reader_set_limit_name (GalleyRecordReader *reader, const char *option);

/* Before the first next(): start reading at byte @offset of the content
 * (a line boundary that galley_record_reader_get_position() gave), the
 * next line being numbered @lines + 1. */
GALLEY_API void galley_record_reader_set_start (GalleyRecordReader *reader, guint64 offset, guint64 lines);
/* With @incremental, a last line without its newline that makes no
 * document is left for a later run (it may still be being written)
 * rather than rejected. */
GALLEY_API void galley_record_reader_set_incremental (GalleyRecordReader *reader, gboolean incremental);
/* Reads no line after line @lines (1-based); 0: no limit. */
GALLEY_API void galley_record_reader_set_end (GalleyRecordReader *reader, guint64 lines);

/* Where a later run resumes: the end of the last line fully handled (in
 * bytes of the content), its number, and a fingerprint of the content's
 * first bytes up to there (see galley_input_fingerprint()). */
GALLEY_API void     galley_record_reader_get_position (GalleyRecordReader *reader, guint64 *offset,
                                                       guint64 *lines, guint64 *fingerprint);
/* TRUE when the input was read to its end and every line was handled
 * (none left for a later run, no stop before the end). */
GALLEY_API gboolean galley_record_reader_is_at_end (const GalleyRecordReader *reader);

G_END_DECLS
