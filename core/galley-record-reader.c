/* galley-record-reader.c: JSON Lines from a file or standard input made
 * documents, line by line, for the jsonl and stdin sources: bad lines
 * rejected with their number, and where to resume in a later run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-input-private.h"

#include <string.h>

struct _GalleyRecordReader {
  char         *path;
  const char   *source;     /* name used in ids and messages */
  guint64       max_line;
  const char   *limit_name;    /* the option max_line comes from */
  GalleyLineReader *reader;
  gboolean      done;
  gboolean      incremental;   /* an unterminated last line that does not parse is left for later */
  guint64       start_offset;  /* resume here */
  guint64       start_lines;
  guint64       good_offset;   /* end of the last line fully handled */
  guint64       good_lines;
  guint64       end_lines;     /* stop before line end_lines + 1 (shard mode) */
};

void
galley_record_reader_set_end (GalleyRecordReader *rr, guint64 lines)
{
  g_return_if_fail (rr != NULL);
  rr->end_lines = lines;
}

void
galley_record_reader_set_start (GalleyRecordReader *rr, guint64 offset, guint64 lines)
{
  g_return_if_fail (rr != NULL && rr->reader == NULL);
  rr->start_offset = rr->good_offset = offset;
  rr->start_lines = rr->good_lines = lines;
}

void
galley_record_reader_set_incremental (GalleyRecordReader *rr, gboolean incremental)
{
  g_return_if_fail (rr != NULL);
  rr->incremental = incremental;
}

void
galley_record_reader_get_position (GalleyRecordReader *rr, guint64 *offset, guint64 *lines, guint64 *fingerprint)
{
  g_return_if_fail (rr != NULL && offset != NULL && lines != NULL && fingerprint != NULL);
  *offset = rr->good_offset;
  *lines = rr->good_lines;
  *fingerprint = rr->reader ? galley_line_reader_fingerprint (rr->reader, rr->good_offset) : 0;
}

gboolean
galley_record_reader_is_at_end (const GalleyRecordReader *rr)
{
  g_return_val_if_fail (rr != NULL, FALSE);
  const GalleyLineReader *r = rr->reader;
  return r != NULL && galley_line_reader_is_drained (r) && rr->good_offset == galley_line_reader_get_consumed (r);
}

GalleyRecordReader *
galley_record_reader_new (const char *path, guint64 max_line)
{
  g_return_val_if_fail (path != NULL, NULL);
  GalleyRecordReader *rr = g_new0 (GalleyRecordReader, 1);
  rr->path = g_strdup (path);
  rr->source = g_str_equal (path, "-") ? "stdin" : rr->path;
  rr->max_line = max_line;
  rr->limit_name = "max-line";
  return rr;
}

void
galley_record_reader_set_limit_name (GalleyRecordReader *rr, const char *option)
{
  g_return_if_fail (rr != NULL && option != NULL);
  rr->limit_name = option;
}

void
galley_record_reader_free (GalleyRecordReader *rr)
{
  if (rr == NULL)
    return;
  g_clear_pointer (&rr->reader, galley_line_reader_free);
  g_free (rr->path);
  g_free (rr);
}

gboolean
galley_record_reader_next (GalleyRecordReader *rr, GalleyRecordMapping *m, GalleyStageContext *ctx,
                           GalleyDocument **out, GError **error)
{
  g_return_val_if_fail (rr != NULL && m != NULL && ctx != NULL && out != NULL, FALSE);
  *out = NULL;
  if (rr->done)
    return FALSE;
  if (rr->reader == NULL)
    {
      g_autoptr(GError) local = NULL;
      rr->reader = galley_line_reader_open (rr->path, rr->max_line, galley_stage_context_get_cancellable (ctx), &local);
      if (rr->reader == NULL && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          rr->done = TRUE;   /* stopped while waiting for the first bytes */
          return FALSE;
        }
      if (rr->reader == NULL)
        {
          gboolean no_input = local->domain == G_IO_ERROR && (local->code == G_IO_ERROR_NOT_FOUND
                                                              || local->code == G_IO_ERROR_PERMISSION_DENIED);
          g_set_error (error, GALLEY_SOURCE_ERROR, no_input ? GALLEY_SOURCE_ERROR_NO_INPUT : GALLEY_SOURCE_ERROR_READ,
                       "%s: %s", rr->source, local->message);
          rr->done = TRUE;
          return FALSE;
        }
      if (rr->start_offset > 0 && !galley_line_reader_skip (rr->reader, rr->start_offset, rr->start_lines, &local))
        {
          g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ, "%s: cannot resume: %s", rr->source,
                       local->message);
          rr->done = TRUE;
          return FALSE;
        }
    }
  for (;;)
    {
      if (galley_stage_is_cancelled (ctx))
        return FALSE;
      if (rr->end_lines > 0 && galley_line_reader_get_line_number (rr->reader) >= rr->end_lines)
        {
          rr->done = TRUE;
          return FALSE;
        }
      rr->good_offset = galley_line_reader_get_consumed (rr->reader);
      rr->good_lines = galley_line_reader_get_line_number (rr->reader);
      const char *line;
      gsize len;
      gboolean too_long;
      g_autoptr(GError) local = NULL;
      if (!galley_line_reader_next (rr->reader, &line, &len, &too_long, &local))
        {
          rr->done = TRUE;
          /* stopped while waiting for more: what was handled stays handled */
          if (local != NULL && !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ, "%s:%" G_GUINT64_FORMAT ": %s",
                         rr->source, galley_line_reader_get_line_number (rr->reader) + 1, local->message);
          return FALSE;
        }
      guint64 lineno = galley_line_reader_get_line_number (rr->reader);
      if (too_long)
        {
          local = g_error_new (GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                               "line longer than %s (%" G_GUINT64_FORMAT " bytes)", rr->limit_name, rr->max_line);
          if (!galley_stage_reject (ctx, rr->source, lineno, NULL, 0, local))
            return FALSE;
          continue;
        }
      if (lineno == 1 && len >= 3 && memcmp (line, "\xEF\xBB\xBF", 3) == 0)
        {
          /* a UTF-8 byte order mark; offsets still count its bytes */
          line += 3;
          len -= 3;
        }
      gsize i = 0;
      while (i < len && g_ascii_isspace (line[i]))
        i++;
      if (i == len)
        continue;   /* blank lines separate nothing */
      GalleyDocument *doc = galley_record_mapping_to_document (m, line, len, rr->source, lineno, &local);
      if (doc == NULL && rr->incremental && galley_line_reader_last_unterminated (rr->reader))
        {
          /* probably still being written: the next run reads it */
          rr->done = TRUE;
          return FALSE;
        }
      if (doc == NULL)
        {
          if (!galley_stage_reject (ctx, rr->source, lineno, line, len, local))
            return FALSE;
          continue;
        }
      rr->good_offset = galley_line_reader_get_consumed (rr->reader);
      rr->good_lines = lineno;
      *out = doc;
      return TRUE;
    }
}
