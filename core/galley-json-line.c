/* galley-json-line.c: one JSON object per line, as the record readers
 * take it: parsed with messages that say what was expected and where,
 * and its strings made valid UTF-8.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-input-private.h"
#include "galley-json-number.h"

#include <string.h>

json_object *
galley_json_parse_object (json_tokener *tok, const char *line, gsize len, GError **error)
{
  json_tokener_reset (tok);
  g_autoptr(json_object) obj = json_tokener_parse_ex (tok, line, (int) MIN (len, (gsize) G_MAXINT));
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  gsize end = json_tokener_get_parse_end (tok);
  gboolean at_end = jerr == json_tokener_continue && end == len;
  if (at_end)
    {
      /* a number or literal at the end of the line (42, null) ends only
       * where the input ends: say so with a NUL */
      obj = json_tokener_parse_ex (tok, "", 1);
      jerr = json_tokener_get_error (tok);
    }
  if (jerr != json_tokener_success)
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "not valid JSON: %s at byte %zu",
                   jerr == json_tokener_continue || at_end ? "unexpected end of line"
                   : json_tokener_error_desc (jerr), end);
      return NULL;
    }
  while (end < len && g_ascii_isspace (line[end]))
    end++;
  if (end < len)
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "unexpected data after the JSON value at byte %zu (one object per line)", end);
      return NULL;
    }
  if (!json_object_is_type (obj, json_type_object))
    {
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "expected a JSON object, got %s", json_type_to_name (json_object_get_type (obj)));
      return NULL;
    }
  galley_json_keep_big_integers (obj, line, len);
  return g_steal_pointer (&obj);
}

gboolean
galley_json_string_has_nul (json_object *v)
{
  return json_object_is_type (v, json_type_string)
         && memchr (json_object_get_string (v), '\0', json_object_get_string_len (v)) != NULL;
}

char *
galley_json_key_make_valid (const char *key)
{
  return galley_utf8_validate (key, strlen (key), NULL) ? g_strdup (key) : g_utf8_make_valid (key, -1);
}

/* TRUE if every string and member name in @v is valid UTF-8. */
static gboolean
json_is_clean (json_object *v)
{
  switch (json_object_get_type (v))
    {
    case json_type_string:
      return galley_utf8_validate (json_object_get_string (v), json_object_get_string_len (v), NULL);
    case json_type_array:
      for (size_t i = 0; i < json_object_array_length (v); i++)
        if (!json_is_clean (json_object_array_get_idx (v, i)))
          return FALSE;
      return TRUE;
    case json_type_object:
      {
        json_object_object_foreach (v, key, value)
          if (!galley_utf8_validate (key, strlen (key), NULL) || (value != NULL && !json_is_clean (value)))
            return FALSE;
        return TRUE;
      }
    default:
      return TRUE;
    }
}

/* Input JSON may carry bytes of any charset, the output must not. Sharing
 * instead of copying matters for records that carry big nested values (a
 * previous run's entities): a copy costs a hash table per object. */
json_object *
galley_json_make_valid (json_object *v)
{
  if (json_is_clean (v))
    return json_object_get (v);
  switch (json_object_get_type (v))
    {
    case json_type_string:
      {
        g_autofree char *fixed = g_utf8_make_valid (json_object_get_string (v), json_object_get_string_len (v));
        return json_object_new_string (fixed);
      }
    case json_type_array:
      {
        json_object *out = json_object_new_array ();
        for (size_t i = 0; i < json_object_array_length (v); i++)
          json_object_array_add (out, galley_json_make_valid (json_object_array_get_idx (v, i)));
        return out;
      }
    case json_type_object:
      {
        json_object *out = json_object_new_object ();
        json_object_object_foreach (v, key, value)
          {
            g_autofree char *k = galley_json_key_make_valid (key);
            json_object_object_add (out, k, value ? galley_json_make_valid (value) : NULL);
          }
        return out;
      }
    default:
      return json_object_get (v);
    }
}
