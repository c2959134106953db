/* galley-record.c: an output record read back into the document it was
 * written from. The one reader of records: records=galley in the jsonl
 * and stdin sources, and galley_document_read_json() (stored documents of
 * sharded runs).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-input-private.h"

#include <string.h>

/* The spans of @layer in @arr (an "entities" array or an "annotations"
 * member of an output record). */
static gboolean
read_spans (GalleyDocument *doc, const char *layer, json_object *arr, const char *where, GError **error)
{
  if (!json_object_is_type (arr, json_type_array))
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID, "%s: expected an array of spans, got %s",
                   where, json_type_to_name (json_object_get_type (arr)));
      return FALSE;
    }
  for (size_t i = 0; i < json_object_array_length (arr); i++)
    {
      json_object *o = json_object_array_get_idx (arr, i), *type = NULL, *start = NULL, *end = NULL, *canonical = NULL;
      if (!json_object_is_type (o, json_type_object) || !json_object_object_get_ex (o, "type", &type)
          || !json_object_is_type (type, json_type_string) || !json_object_object_get_ex (o, "start", &start)
          || !json_object_is_type (start, json_type_int) || !json_object_object_get_ex (o, "end", &end)
          || !json_object_is_type (end, json_type_int))
        {
          g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                       "%s[%zu]: expected an object with type (a string), start and end (integers)", where, i);
          return FALSE;
        }
      if (json_object_object_get_ex (o, "canonical", &canonical) && !json_object_is_type (canonical, json_type_string))
        canonical = NULL;
      g_autoptr(json_object) type_c = galley_json_make_valid (type);
      g_autoptr(json_object) canonical_c = canonical ? galley_json_make_valid (canonical) : NULL;
      GalleyAnnotation *a = galley_document_add_annotation (doc, layer, json_object_get_string (type_c),
                                                            json_object_get_int64 (start), json_object_get_int64 (end),
                                                            canonical_c ? json_object_get_string (canonical_c) : NULL);
      if (a == NULL)
        {
          g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                       "%s[%zu]: span %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT " is not inside the text (%" G_GINT64_FORMAT
                       " code points)", where, i, json_object_get_int64 (start), json_object_get_int64 (end),
                       galley_document_get_length (doc));
          return FALSE;
        }
      json_object_object_foreach (o, key, value)
        {
          if (g_str_equal (key, "type") || g_str_equal (key, "text") || g_str_equal (key, "canonical")
              || g_str_equal (key, "start") || g_str_equal (key, "end"))
            continue;
          if (a->attrs == NULL)
            a->attrs = json_object_new_object ();
          g_autofree char *k = galley_json_key_make_valid (key);
          json_object_object_add (a->attrs, k, value ? galley_json_make_valid (value) : NULL);
        }
    }
  return TRUE;
}

GalleyDocument *
galley_record_read (json_tokener *tok, const char *line, gsize len, const char *source, GError **error)
{
  /* export-jsonl writes valid UTF-8 only: other bytes are damage */
  const char *bad = NULL;
  if (!galley_utf8_validate (line, len, &bad))
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "not a galley record: not valid UTF-8 at byte %zu", (gsize) (bad - line));
      return NULL;
    }
  g_autoptr(json_object) obj = galley_json_parse_object (tok, line, len, error);
  if (obj == NULL)
    return NULL;
  json_object *id = NULL, *text = NULL, *src = NULL;
  if (!json_object_object_get_ex (obj, "id", &id) || !json_object_is_type (id, json_type_string)
      || json_object_get_string_len (id) == 0)
    {
      g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                           "not a galley record: no id (a non-empty string)");
      return NULL;
    }
  if (galley_json_string_has_nul (id))
    {
      g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                           "id contains a NUL character (\\u0000); ids must not");
      return NULL;
    }
  if (!json_object_object_get_ex (obj, "text", &text) || !json_object_is_type (text, json_type_string))
    {
      g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                           "not a galley record: no text (a string)");
      return NULL;
    }
  g_autoptr(json_object) id_c = galley_json_make_valid (id);
  g_autoptr(json_object) src_c = json_object_object_get_ex (obj, "source", &src) && json_object_is_type (src, json_type_string)
                                 ? galley_json_make_valid (src) : NULL;
  g_autoptr(GalleyDocument) doc = galley_document_new (json_object_get_string (id_c),
                                                       src_c ? json_object_get_string (src_c) : source);
  /* the text as it was decided, not raw bytes to decode again (a \u0000
   * in it becomes U+FFFD, counted, as in any text set) */
  galley_document_set_text (doc, json_object_get_string (text), json_object_get_string_len (text));
  GalleyContentType ct = GALLEY_CONTENT_UNKNOWN;
  json_object_object_foreach (obj, key, value)
    {
      if (g_str_equal (key, "id") || g_str_equal (key, "text") || g_str_equal (key, "source"))
        continue;
      if (g_str_equal (key, "meta"))
        {
          if (!json_object_is_type (value, json_type_object))
            {
              g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID, "meta: expected an object");
              return NULL;
            }
          json_object *meta = galley_document_get_meta (doc);
          json_object_object_foreach (value, mk, mv)
            {
              g_autofree char *k = galley_json_key_make_valid (mk);
              json_object_object_add (meta, k, mv ? galley_json_make_valid (mv) : NULL);
            }
        }
      else if (g_str_equal (key, "entities"))
        {
          if (!read_spans (doc, "entities", value, "entities", error))
            return NULL;
        }
      else if (g_str_equal (key, "annotations"))
        {
          if (!json_object_is_type (value, json_type_object))
            {
              g_set_error_literal (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                                   "annotations: expected an object of span arrays");
              return NULL;
            }
          json_object_object_foreach (value, layer, spans)
            {
              g_autofree char *l = galley_json_key_make_valid (layer);
              g_autofree char *at = g_strdup_printf ("annotations.%s", l);
              if (!read_spans (doc, l, spans, at, error))
                return NULL;
            }
        }
      else if (g_str_equal (key, "repairs"))
        {
          for (size_t i = 0; json_object_is_type (value, json_type_array) && i < json_object_array_length (value); i++)
            {
              json_object *r = json_object_array_get_idx (value, i), *kind = NULL, *count = NULL;
              if (json_object_object_get_ex (r, "kind", &kind) && json_object_is_type (kind, json_type_string)
                  && json_object_object_get_ex (r, "count", &count) && json_object_is_type (count, json_type_int)
                  && galley_utf8_validate (json_object_get_string (kind), json_object_get_string_len (kind), NULL))
                galley_document_add_repair (doc, json_object_get_string (kind), json_object_get_int64 (count));
            }
        }
      else if (g_str_equal (key, "encoding"))
        {
          if (json_object_is_type (value, json_type_string)
              && galley_utf8_validate (json_object_get_string (value), json_object_get_string_len (value), NULL))
            galley_document_set_encoding (doc, json_object_get_string (value));
        }
      else if (g_str_equal (key, "content_type"))
        {
          const char *v = json_object_is_type (value, json_type_string) ? json_object_get_string (value) : "";
          ct = g_str_equal (v, "html") ? GALLEY_CONTENT_HTML : g_str_equal (v, "text") ? GALLEY_CONTENT_TEXT : ct;
        }
      else
        {
          g_autofree char *k = galley_json_key_make_valid (key);
          galley_document_set_field (doc, k, value ? galley_json_make_valid (value) : NULL);
        }
    }
  if (ct != GALLEY_CONTENT_UNKNOWN)
    galley_document_set_content_type (doc, ct);
  return g_steal_pointer (&doc);
}

GalleyDocument *
galley_document_read_json (const char *line, gsize len, GError **error)
{
  g_return_val_if_fail (line != NULL, NULL);
  g_autoptr(json_tokener) tok = json_tokener_new ();
  return galley_record_read (tok, line, len, NULL, error);
}
