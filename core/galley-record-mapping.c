/* galley-record-mapping.c: a JSON object made a document through the
 * field options of a source (id-field, text-field, meta-fields, ...), or
 * read as an output record with records=galley.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-input-private.h"

#include <string.h>

GalleyRecordMapping *
galley_record_mapping_new (const GalleyOptions *opts, GError **error)
{
  g_return_val_if_fail (opts != NULL, NULL);
  g_autoptr(GalleyRecordMapping) m = g_new0 (GalleyRecordMapping, 1);
  m->tok = json_tokener_new ();
  m->id_field = g_strdup (galley_options_get_string (opts, "id-field"));
  m->text_field = g_strdup (galley_options_get_string (opts, "text-field"));
  m->encoding_field = g_strdup (galley_options_get_string (opts, "encoding-field"));
  m->keep_other = galley_options_get_bool (opts, "keep-other-fields");
  m->galley_records = g_str_equal (galley_options_get_enum (opts, "records"), "galley");
  const char *ct = galley_options_get_enum (opts, "content-type");
  m->content_type = g_str_equal (ct, "text") ? GALLEY_CONTENT_TEXT
                  : g_str_equal (ct, "html") ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_UNKNOWN;
  if (*m->text_field == '\0')
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "text-field: must name a field");
      return NULL;
    }
  const char *const *fields = galley_options_get_strv (opts, "meta-fields");
  guint n = g_strv_length ((char **) fields);
  m->meta_keys = g_new0 (char *, n + 1);
  m->meta_paths = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      const char *eq = strchr (fields[i], '=');
      m->meta_keys[i] = eq ? g_strstrip (g_strndup (fields[i], eq - fields[i])) : g_strdup (fields[i]);
      m->meta_paths[i] = g_strstrip (g_strdup (eq ? eq + 1 : fields[i]));
      if (*m->meta_keys[i] == '\0' || *m->meta_paths[i] == '\0')
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                       "meta-fields: '%s' is not FIELD or KEY=PATH", fields[i]);
          return NULL;
        }
    }
  return g_steal_pointer (&m);
}

void
galley_record_mapping_free (GalleyRecordMapping *m)
{
  if (m == NULL)
    return;
  g_clear_pointer (&m->tok, json_tokener_free);
  g_free (m->id_field);
  g_free (m->text_field);
  g_free (m->encoding_field);
  g_strfreev (m->meta_keys);
  g_strfreev (m->meta_paths);
  g_free (m);
}

GalleyContentType
galley_record_mapping_get_content_type (const GalleyRecordMapping *m)
{
  g_return_val_if_fail (m != NULL, GALLEY_CONTENT_UNKNOWN);
  return m->content_type;
}

/* The value at the dotted @path of @obj in *out (NULL for a JSON null);
 * FALSE if there is none. */
static gboolean
find_path (json_object *obj, const char *path, json_object **out)
{
  *out = NULL;
  if (json_object_object_get_ex (obj, path, out))
    return TRUE;
  if (strchr (path, '.') == NULL)
    return FALSE;
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  json_object *cur = obj;
  for (guint i = 0; parts[i] != NULL; i++)
    if (!json_object_is_type (cur, json_type_object) || !json_object_object_get_ex (cur, parts[i], &cur))
      return FALSE;
  *out = cur;
  return TRUE;
}

static json_object *
get_path (json_object *obj, const char *path)
{
  json_object *v;
  return find_path (obj, path, &v) ? v : NULL;
}

/* TRUE if @key is a mapped field or the first part of a mapped dotted path. */
static gboolean
is_mapped_root (const GalleyRecordMapping *m, const char *key)
{
  gsize klen = strlen (key);
  for (guint i = 0; m->meta_paths[i] != NULL; i++)
    {
      const char *p = m->meta_paths[i];
      if (strncmp (p, key, klen) == 0 && (p[klen] == '\0' || p[klen] == '.'))
        return TRUE;
    }
  for (const char *f = m->text_field; f != NULL; f = f == m->text_field ? m->id_field : NULL)
    if (strncmp (f, key, klen) == 0 && f[klen] == '.')
      return TRUE;
  return FALSE;
}

/* The raw bytes of @doc: a copy of the JSON string @text (JSON escapes
 * already decoded; a NUL in it is replaced when the text is made). */
static void
set_raw_from_json (GalleyDocument *doc, json_object *text)
{
  int len = json_object_get_string_len (text);
  guint8 *copy = g_malloc (len + 1);
  memcpy (copy, json_object_get_string (text), len);
  copy[len] = 0;
  g_autoptr(GBytes) bytes = g_bytes_new_take (copy, len);
  galley_document_set_raw (doc, bytes);
}

GalleyDocument *
galley_record_mapping_to_document (GalleyRecordMapping *m, const char *line, gsize len, const char *source,
                                   guint64 lineno, GError **error)
{
  g_return_val_if_fail (m != NULL && line != NULL && source != NULL, NULL);
  if (m->galley_records)
    {
      g_autofree char *where = g_strdup_printf ("%s:%" G_GUINT64_FORMAT, source, lineno);
      return galley_record_read (m->tok, line, len, where, error);
    }
  g_autoptr(json_object) obj = galley_json_parse_object (m->tok, line, len, error);
  if (obj == NULL)
    return NULL;
  json_object *text = NULL;
  gboolean has_text = find_path (obj, m->text_field, &text);
  if (text == NULL || !json_object_is_type (text, json_type_string))
    {
      g_autoptr(GString) present = g_string_new (NULL);
      json_object_object_foreach (obj, key, value)
        {
          (void) value;
          g_string_append_printf (present, "%s%s", present->len ? ", " : "", key);
        }
      if (!has_text)
        g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                     "no text field '%s' (fields: %s); set text-field", m->text_field,
                     present->len ? present->str : "none");
      else
        g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                     "text field '%s' is %s, expected a string", m->text_field,
                     json_type_to_name (json_object_get_type (text)));
      return NULL;
    }

  g_autofree char *id = NULL;
  json_object *idv = *m->id_field ? get_path (obj, m->id_field) : NULL;
  if (galley_json_string_has_nul (idv))
    {
      /* cut at the NUL, "a\u0000b" and "a" would be one document */
      g_set_error (error, GALLEY_DOCUMENT_ERROR, GALLEY_DOCUMENT_ERROR_INVALID,
                   "id field '%s' contains a NUL character (\\u0000); ids must not", m->id_field);
      return NULL;
    }
  if (idv != NULL && !json_object_is_type (idv, json_type_null) && !json_object_is_type (idv, json_type_object)
      && !json_object_is_type (idv, json_type_array))
    id = g_strdup (json_object_get_string (idv));
  if (id == NULL || *id == '\0')
    {
      g_free (id);
      id = g_strdup_printf ("%s:%" G_GUINT64_FORMAT, source, lineno);
    }
  else if (!galley_utf8_validate (id, strlen (id), NULL))
    {
      char *fixed = g_utf8_make_valid (id, -1);
      g_free (id);
      id = fixed;
    }
  g_autofree char *where = g_strdup_printf ("%s:%" G_GUINT64_FORMAT, source, lineno);
  GalleyDocument *doc = galley_document_new (id, where);
  set_raw_from_json (doc, text);

  json_object *enc = *m->encoding_field ? get_path (obj, m->encoding_field) : NULL;
  if (enc != NULL && json_object_is_type (enc, json_type_string)
      && !galley_utf8_validate (json_object_get_string (enc), json_object_get_string_len (enc), NULL))
    enc = NULL;
  if (enc != NULL && json_object_is_type (enc, json_type_string))
    galley_document_set_declared_encoding (doc, json_object_get_string (enc));

  json_object *meta = galley_document_get_meta (doc);
  for (guint i = 0; m->meta_keys[i] != NULL; i++)
    {
      json_object *v = get_path (obj, m->meta_paths[i]);
      if (v != NULL && !json_object_is_type (v, json_type_null))
        json_object_object_add (meta, m->meta_keys[i], galley_json_make_valid (v));
    }
  if (m->keep_other)
    {
      json_object_object_foreach (obj, key, value)
        {
          if (g_str_equal (key, m->text_field) || g_str_equal (key, m->id_field)
              || (*m->encoding_field && g_str_equal (key, m->encoding_field))
              || is_mapped_root (m, key)
              || json_object_object_get_ex (meta, key, NULL))
            continue;
          g_autofree char *k = galley_json_key_make_valid (key);
          json_object_object_add (meta, k, value ? galley_json_make_valid (value) : NULL);
        }
    }
  galley_input_set_content_type (doc, m->content_type, NULL);
  return doc;
}
