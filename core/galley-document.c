/* galley-document.c: the document model and its JSON output record.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"

#include <string.h>

typedef struct {
  const char *kind;    /* interned */
  gint64      count;
} Repair;

struct _GalleyDocument {
  char              *id;
  char              *source;
  GBytes            *raw;
  char              *text;          /* NULL until decided */
  gsize              text_len;
  gint64             n_chars;       /* -1 = not computed */
  gint64             mark_chars;    /* a known point of the text: code point offset */
  gsize              mark_bytes;    /* and byte offset (0, 0 when the text changes) */
  char              *declared_encoding;
  char              *encoding;
  GalleyContentType  content_type;
  json_object       *meta;          /* lazily created */
  json_object       *fields;        /* lazily created */
  GPtrArray         *annotations;   /* GalleyAnnotation*, lazily created */
  GArray            *repairs;       /* Repair, lazily created */
  GArray            *stage_data;    /* StageData, lazily created */
};

typedef struct {
  gconstpointer  key;
  gpointer       data;
  GDestroyNotify destroy;
} StageData;

static const char *const reserved_keys[] = {
  "id", "source", "text", "meta", GALLEY_LAYER_ENTITIES, "annotations", "repairs",
  "encoding", "content_type", NULL
};

GalleyDocument *
galley_document_new (const char *id, const char *source)
{
  g_return_val_if_fail (id != NULL, NULL);
  GalleyDocument *doc = g_new0 (GalleyDocument, 1);
  doc->id = g_strdup (id);
  doc->source = g_strdup (source);
  doc->n_chars = -1;
  return doc;
}

static void
annotation_free (gpointer data)
{
  GalleyAnnotation *a = data;
  g_free (a->layer);
  g_free (a->type);
  g_free (a->text);
  g_free (a->canonical);
  g_clear_pointer (&a->attrs, json_object_put);
  g_free (a);
}

void
galley_document_free (GalleyDocument *doc)
{
  if (doc == NULL)
    return;
  g_free (doc->id);
  g_free (doc->source);
  g_clear_pointer (&doc->raw, g_bytes_unref);
  g_free (doc->text);
  g_free (doc->declared_encoding);
  g_free (doc->encoding);
  g_clear_pointer (&doc->meta, json_object_put);
  g_clear_pointer (&doc->fields, json_object_put);
  g_clear_pointer (&doc->annotations, g_ptr_array_unref);
  g_clear_pointer (&doc->repairs, g_array_unref);
  if (doc->stage_data != NULL)
    {
      for (guint i = 0; i < doc->stage_data->len; i++)
        {
          StageData *sd = &g_array_index (doc->stage_data, StageData, i);
          if (sd->destroy != NULL && sd->data != NULL)
            sd->destroy (sd->data);
        }
      g_array_unref (doc->stage_data);
    }
  g_free (doc);
}

static StageData *
find_stage_data (GalleyDocument *doc, gconstpointer key)
{
  if (doc->stage_data == NULL)
    return NULL;
  for (guint i = 0; i < doc->stage_data->len; i++)
    {
      StageData *sd = &g_array_index (doc->stage_data, StageData, i);
      if (sd->key == key)
        return sd;
    }
  return NULL;
}

void
galley_document_set_stage_data (GalleyDocument *doc, GalleyStageContext *ctx, gpointer data, GDestroyNotify destroy)
{
  g_return_if_fail (doc != NULL && ctx != NULL);
  StageData *sd = find_stage_data (doc, ctx);
  if (sd != NULL)
    {
      gpointer old = sd->data;
      GDestroyNotify old_destroy = sd->destroy;
      sd->data = data;
      sd->destroy = destroy;
      if (old_destroy != NULL && old != NULL && old != data)
        old_destroy (old);
      return;
    }
  if (doc->stage_data == NULL)
    doc->stage_data = g_array_sized_new (FALSE, FALSE, sizeof (StageData), 1);
  StageData add = { ctx, data, destroy };
  g_array_append_val (doc->stage_data, add);
}

gpointer
galley_document_get_stage_data (GalleyDocument *doc, GalleyStageContext *ctx)
{
  g_return_val_if_fail (doc != NULL && ctx != NULL, NULL);
  StageData *sd = find_stage_data (doc, ctx);
  return sd != NULL ? sd->data : NULL;
}

gpointer
galley_document_steal_stage_data (GalleyDocument *doc, GalleyStageContext *ctx)
{
  g_return_val_if_fail (doc != NULL && ctx != NULL, NULL);
  StageData *sd = find_stage_data (doc, ctx);
  if (sd == NULL)
    return NULL;
  gpointer data = sd->data;
  sd->data = NULL;
  sd->destroy = NULL;
  return data;
}

const char *
galley_document_get_id (const GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  return doc->id;
}

void
galley_document_set_id (GalleyDocument *doc, const char *id)
{
  g_return_if_fail (doc != NULL && id != NULL);
  g_free (doc->id);
  doc->id = g_strdup (id);
}

const char *
galley_document_get_source (const GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  return doc->source;
}

void
galley_document_set_source (GalleyDocument *doc, const char *source)
{
  g_return_if_fail (doc != NULL);
  g_free (doc->source);
  doc->source = g_strdup (source);
}

void
galley_document_set_raw (GalleyDocument *doc, GBytes *bytes)
{
  g_return_if_fail (doc != NULL);
  if (bytes != NULL)
    g_bytes_ref (bytes);
  g_clear_pointer (&doc->raw, g_bytes_unref);
  doc->raw = bytes;
  g_clear_pointer (&doc->text, g_free);
  doc->text_len = 0;
  doc->n_chars = -1;
  doc->mark_chars = 0;
  doc->mark_bytes = 0;
}

GBytes *
galley_document_get_raw (const GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  return doc->raw;
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* nonzero if a byte of @w is zero / less than @n (n <= 128) */
#define HAS_ZERO(w)    (((w) - ONES) & ~(w) & HIGHS)
#define HAS_LESS(w, n) (((w) - ONES * (n)) & ~(w) & HIGHS)

/* Length of the valid UTF-8 sequence at @p (not NUL), 0 if invalid. The
 * same rules as g_utf8_validate(): no overlongs, surrogates or code points
 * past U+10FFFF. */
static inline gsize
utf8_sequence (const guchar *p, const guchar *end)
{
  guchar c = p[0];
  gsize left = end - p;
  if (c < 0x80)
    return c != 0;
  if (c < 0xC2)
    return 0;
  if (c < 0xE0)
    return left >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c < 0xF0)
    {
      if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
        return 0;
      if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
        return 0;
      return 3;
    }
  if (c < 0xF5)
    {
      if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
        return 0;
      if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
        return 0;
      return 4;
    }
  return 0;
}

/* g_utf8_validate_len() with a fast path for runs of ASCII, eight bytes at
 * a time. */
static gboolean
utf8_validate_len (const char *text, gsize len, const char **end_out)
{
  if (len == 0)
    {
      if (end_out != NULL)
        *end_out = text;
      return TRUE;
    }
  const guchar *p = (const guchar *) text;
  const guchar *end = p + len;
  while (p < end)
    {
      while (end - p >= 8)
        {
          guint64 w;
          memcpy (&w, p, 8);
          if ((w & HIGHS) | HAS_ZERO (w))
            break;
          p += 8;
        }
      if (p == end)
        break;
      gsize n = utf8_sequence (p, end);
      if (n == 0)
        {
          if (end_out != NULL)
            *end_out = (const char *) p;
          return FALSE;
        }
      p += n;
    }
  if (end_out != NULL)
    *end_out = (const char *) p;
  return TRUE;
}

gboolean
galley_utf8_validate (const char *text, gsize len, const char **end)
{
  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  return utf8_validate_len (text, len, end);
}

/* Copies @len bytes of @in into a new buffer that is valid UTF-8 without
 * NUL, replacing each invalid byte and each NUL with U+FFFD. */
static char *
sanitize_utf8 (const char *in, gsize len, gsize *out_len, gint64 *n_invalid, gint64 *n_nul)
{
  const char *end = NULL;
  *n_invalid = 0;
  *n_nul = 0;
  if (utf8_validate_len (in, len, &end))
    {
      *out_len = len;
      return g_strndup (in, len);
    }
  GString *out = g_string_sized_new (len + 16);
  const char *p = in;
  gsize remaining = len;
  while (remaining > 0)
    {
      if (utf8_validate_len (p, remaining, &end))
        {
          g_string_append_len (out, p, remaining);
          break;
        }
      g_string_append_len (out, p, end - p);
      remaining -= end - p;
      p = end;
      if (*p == '\0')
        (*n_nul)++;
      else
        (*n_invalid)++;
      g_string_append (out, "\357\277\275");
      p++;
      remaining--;
    }
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

static void
store_text (GalleyDocument *doc, char *text, gsize len, gint64 n_invalid, gint64 n_nul)
{
  g_free (doc->text);
  doc->text = text;
  doc->text_len = len;
  doc->n_chars = -1;
  doc->mark_chars = 0;
  doc->mark_bytes = 0;
  if (n_invalid > 0)
    galley_document_add_repair (doc, "invalid-utf8", n_invalid);
  if (n_nul > 0)
    galley_document_add_repair (doc, "nul-byte", n_nul);
}

const char *
galley_document_get_text (GalleyDocument *doc, gsize *len)
{
  g_return_val_if_fail (doc != NULL, NULL);
  if (doc->text == NULL)
    {
      gsize raw_len = 0;
      const char *raw = doc->raw ? g_bytes_get_data (doc->raw, &raw_len) : NULL;
      gint64 n_invalid = 0, n_nul = 0;
      gsize out_len = 0;
      if (raw_len >= 3 && memcmp (raw, "\xEF\xBB\xBF", 3) == 0)
        {
          raw += 3;
          raw_len -= 3;
        }
      char *text = raw_len ? sanitize_utf8 (raw, raw_len, &out_len, &n_invalid, &n_nul) : g_strdup ("");
      store_text (doc, text, out_len, n_invalid, n_nul);
    }
  if (len != NULL)
    *len = doc->text_len;
  return doc->text;
}

gboolean
galley_document_has_text (const GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, FALSE);
  return doc->text != NULL;
}

void
galley_document_set_text (GalleyDocument *doc, const char *text, gssize len)
{
  g_return_if_fail (doc != NULL && text != NULL);
  gsize n = len < 0 ? strlen (text) : (gsize) len;
  gint64 n_invalid, n_nul;
  gsize out_len;
  char *copy = sanitize_utf8 (text, n, &out_len, &n_invalid, &n_nul);
  store_text (doc, copy, out_len, n_invalid, n_nul);
}

void
galley_document_take_text (GalleyDocument *doc, char *text, gsize len)
{
  g_return_if_fail (doc != NULL && text != NULL);
  if (utf8_validate_len (text, len, NULL))
    {
      text[len] = '\0';
      store_text (doc, text, len, 0, 0);
      return;
    }
  galley_document_set_text (doc, text, len);
  g_free (text);
}

gint64
galley_document_get_length (GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, 0);
  gsize len;
  const char *text = galley_document_get_text (doc, &len);
  if (doc->n_chars < 0)
    doc->n_chars = g_utf8_strlen (text, len);
  return doc->n_chars;
}

gint64
galley_document_count_words (GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, 0);
  const char *p = galley_document_get_text (doc, NULL);
  gint64 words = 0;
  gboolean in_word = FALSE;
  for (; *p != '\0'; p = g_utf8_next_char (p))
    {
      gboolean alnum = (guchar) *p < 0x80 ? g_ascii_isalnum (*p) : g_unichar_isalnum (g_utf8_get_char (p));
      if (alnum && !in_word)
        words++;
      in_word = alnum;
    }
  return words;
}

gsize
galley_document_get_size (const GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, 0);
  if (doc->raw != NULL)
    return g_bytes_get_size (doc->raw);
  return doc->text_len;
}

const char *
galley_document_get_declared_encoding (const GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  return doc->declared_encoding;
}

void
galley_document_set_declared_encoding (GalleyDocument *doc, const char *charset)
{
  g_return_if_fail (doc != NULL);
  g_free (doc->declared_encoding);
  doc->declared_encoding = g_strdup (charset);
}

const char *
galley_document_get_encoding (const GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  return doc->encoding;
}

void
galley_document_set_encoding (GalleyDocument *doc, const char *charset)
{
  g_return_if_fail (doc != NULL);
  g_free (doc->encoding);
  doc->encoding = g_strdup (charset);
}

GalleyContentType
galley_document_get_content_type (const GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, GALLEY_CONTENT_UNKNOWN);
  return doc->content_type;
}

void
galley_document_set_content_type (GalleyDocument *doc, GalleyContentType type)
{
  g_return_if_fail (doc != NULL);
  doc->content_type = type;
}

const char *
galley_content_type_to_string (GalleyContentType type)
{
  switch (type)
    {
    case GALLEY_CONTENT_TEXT:
      return "text";
    case GALLEY_CONTENT_HTML:
      return "html";
    case GALLEY_CONTENT_UNKNOWN:
    default:
      return "unknown";
    }
}

json_object *
galley_document_get_meta (GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  if (doc->meta == NULL)
    doc->meta = json_object_new_object ();
  return doc->meta;
}

void
galley_document_set_meta_string (GalleyDocument *doc, const char *key, const char *value)
{
  g_return_if_fail (doc != NULL && key != NULL);
  json_object *meta = galley_document_get_meta (doc);
  if (value == NULL)
    json_object_object_del (meta, key);
  else
    json_object_object_add (meta, key, json_object_new_string (value));
}

const char *
galley_document_get_meta_string (GalleyDocument *doc, const char *key)
{
  g_return_val_if_fail (doc != NULL && key != NULL, NULL);
  json_object *value = NULL;
  if (doc->meta == NULL || !json_object_object_get_ex (doc->meta, key, &value))
    return NULL;
  return json_object_is_type (value, json_type_string) ? json_object_get_string (value) : NULL;
}

json_object *
galley_document_get_fields (GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  if (doc->fields == NULL)
    doc->fields = json_object_new_object ();
  return doc->fields;
}

void
galley_document_set_field (GalleyDocument *doc, const char *key, json_object *value)
{
  g_return_if_fail (doc != NULL && key != NULL);
  json_object *fields = galley_document_get_fields (doc);
  if (value == NULL)
    json_object_object_del (fields, key);
  else
    json_object_object_add (fields, key, value);
}

GalleyAnnotation *
galley_document_add_annotation (GalleyDocument *doc, const char *layer, const char *type,
                                gint64 start, gint64 end, const char *canonical)
{
  g_return_val_if_fail (doc != NULL && type != NULL, NULL);
  gint64 n = galley_document_get_length (doc);
  if (start < 0 || end <= start || end > n)
    return NULL;
  /* Stages add spans mostly in text order: walk from the end of the
   * last one (or back from it) instead of from the start of the text
   * each time, which made a long article's spans quadratic. */
  const char *p = start >= doc->mark_chars / 2
                  ? g_utf8_offset_to_pointer (doc->text + doc->mark_bytes, start - doc->mark_chars)
                  : g_utf8_offset_to_pointer (doc->text, start);
  const char *q = g_utf8_offset_to_pointer (p, end - start);
  doc->mark_chars = end;
  doc->mark_bytes = q - doc->text;
  GalleyAnnotation *a = g_new0 (GalleyAnnotation, 1);
  a->layer = g_strdup (layer ? layer : GALLEY_LAYER_ENTITIES);
  a->type = g_strdup (type);
  a->start = start;
  a->end = end;
  a->text = g_strndup (p, q - p);
  a->canonical = g_strdup (canonical);
  if (doc->annotations == NULL)
    doc->annotations = g_ptr_array_new_with_free_func (annotation_free);
  g_ptr_array_add (doc->annotations, a);
  return a;
}

guint
galley_document_get_n_annotations (const GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, 0);
  return doc->annotations ? doc->annotations->len : 0;
}

GalleyAnnotation *
galley_document_get_annotation (const GalleyDocument *doc, guint index)
{
  g_return_val_if_fail (doc != NULL, NULL);
  g_return_val_if_fail (doc->annotations != NULL && index < doc->annotations->len, NULL);
  return g_ptr_array_index (doc->annotations, index);
}

void
galley_document_clear_annotations (GalleyDocument *doc, const char *layer)
{
  g_return_if_fail (doc != NULL);
  if (doc->annotations == NULL)
    return;
  for (guint i = doc->annotations->len; i > 0; i--)
    {
      GalleyAnnotation *a = g_ptr_array_index (doc->annotations, i - 1);
      if (layer == NULL || g_str_equal (a->layer, layer))
        g_ptr_array_remove_index (doc->annotations, i - 1);
    }
}

void
galley_document_add_repair (GalleyDocument *doc, const char *kind, gint64 count)
{
  g_return_if_fail (doc != NULL && kind != NULL);
  if (doc->repairs == NULL)
    doc->repairs = g_array_new (FALSE, FALSE, sizeof (Repair));
  for (guint i = 0; i < doc->repairs->len; i++)
    {
      Repair *r = &g_array_index (doc->repairs, Repair, i);
      if (g_str_equal (r->kind, kind))
        {
          r->count += count;
          return;
        }
    }
  Repair r = { g_intern_string (kind), count };
  g_array_append_val (doc->repairs, r);
}

gint64
galley_document_get_repair (const GalleyDocument *doc, const char *kind)
{
  g_return_val_if_fail (doc != NULL && kind != NULL, 0);
  for (guint i = 0; doc->repairs != NULL && i < doc->repairs->len; i++)
    {
      const Repair *r = &g_array_index (doc->repairs, Repair, i);
      if (g_str_equal (r->kind, kind))
        return r->count;
    }
  return 0;
}

json_object *
galley_document_repairs_to_json (const GalleyDocument *doc)
{
  if (doc->repairs == NULL || doc->repairs->len == 0)
    return NULL;
  json_object *arr = json_object_new_array ();
  for (guint i = 0; i < doc->repairs->len; i++)
    {
      const Repair *r = &g_array_index (doc->repairs, Repair, i);
      json_object *o = json_object_new_object ();
      json_object_object_add (o, "kind", json_object_new_string (r->kind));
      json_object_object_add (o, "count", json_object_new_int64 (r->count));
      json_object_array_add (arr, o);
    }
  return arr;
}

/* ---- JSON output -------------------------------------------------------- */

/* 0: copy as is; 1: two-character escape; 2: \u00XX */
static const guint8 escape_class[256] = {
  2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 1, 1, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  ['\\'] = 1,
};

/* Appends valid UTF-8 as a quoted JSON string. */
static void
escape_valid (GString *out, const char *text, gsize len)
{
  static const char hex[] = "0123456789abcdef";
  const guchar *p = (const guchar *) text;
  const guchar *end = p + len;
  const guchar *run = p;

  g_string_append_c (out, '"');
  while (p < end)
    {
      /* skip eight bytes at a time while none is < 0x20, '"' or '\\' */
      while (end - p >= 8)
        {
          guint64 w;
          memcpy (&w, p, 8);
          if (HAS_LESS (w, 0x20) | HAS_ZERO (w ^ (ONES * '"')) | HAS_ZERO (w ^ (ONES * '\\')))
            break;
          p += 8;
        }
      if (p == end)
        break;
      guint8 cls = escape_class[*p];
      if (G_LIKELY (cls == 0))
        {
          p++;
          continue;
        }
      if (p > run)
        g_string_append_len (out, (const char *) run, p - run);
      if (cls == 1)
        {
          char esc[2] = { '\\', 0 };
          switch (*p)
            {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\b': esc[1] = 'b'; break;
            case '\t': esc[1] = 't'; break;
            case '\n': esc[1] = 'n'; break;
            case '\f': esc[1] = 'f'; break;
            case '\r': esc[1] = 'r'; break;
            default: g_assert_not_reached ();
            }
          g_string_append_len (out, esc, 2);
        }
      else
        {
          char esc[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
          g_string_append_len (out, esc, 6);
        }
      p++;
      run = p;
    }
  if (p > run)
    g_string_append_len (out, (const char *) run, p - run);
  g_string_append_c (out, '"');
}

gsize
galley_json_escape_append (GString *out, const char *text, gsize len)
{
  g_return_val_if_fail (out != NULL && (text != NULL || len == 0), 0);
  if (utf8_validate_len (text, len, NULL))
    {
      escape_valid (out, text, len);
      return 0;
    }
  gint64 n_invalid, n_nul;
  gsize clean_len;
  g_autofree char *clean = sanitize_utf8 (text, len, &clean_len, &n_invalid, &n_nul);
  escape_valid (out, clean, clean_len);
  return n_invalid + n_nul;
}

static void
append_key (GString *out, const char *key, gboolean *first)
{
  if (!*first)
    g_string_append_c (out, ',');
  *first = FALSE;
  escape_valid (out, key, strlen (key));
  g_string_append_c (out, ':');
}

static void
append_json_value (GString *out, json_object *value)
{
  gsize len = 0;
  const char *s = json_object_to_json_string_length (value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  g_string_append_len (out, s, len);
}

static json_object *
annotation_to_json (const GalleyAnnotation *a)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "type", json_object_new_string (a->type));
  json_object_object_add (o, "text", json_object_new_string (a->text));
  if (a->canonical != NULL)
    json_object_object_add (o, "canonical", json_object_new_string (a->canonical));
  json_object_object_add (o, "start", json_object_new_int64 (a->start));
  json_object_object_add (o, "end", json_object_new_int64 (a->end));
  if (a->attrs != NULL && json_object_is_type (a->attrs, json_type_object))
    {
      json_object_object_foreach (a->attrs, key, value)
        if (!json_object_object_get_ex (o, key, NULL))
          json_object_object_add (o, key, json_object_get (value));
    }
  return o;
}

/* Builds the entities layer and "annotations" (other layers) as json-c values. */
static void
annotations_to_json (const GalleyDocument *doc, json_object **entities, json_object **others)
{
  *entities = NULL;
  *others = NULL;
  for (guint i = 0; doc->annotations != NULL && i < doc->annotations->len; i++)
    {
      const GalleyAnnotation *a = g_ptr_array_index (doc->annotations, i);
      json_object *arr;
      if (g_str_equal (a->layer, GALLEY_LAYER_ENTITIES))
        {
          if (*entities == NULL)
            *entities = json_object_new_array ();
          arr = *entities;
        }
      else
        {
          if (*others == NULL)
            *others = json_object_new_object ();
          if (!json_object_object_get_ex (*others, a->layer, &arr))
            {
              arr = json_object_new_array ();
              json_object_object_add (*others, a->layer, arr);
            }
        }
      json_object_array_add (arr, annotation_to_json (a));
    }
}

void
galley_document_write_json (GalleyDocument *doc, GString *out)
{
  g_return_if_fail (doc != NULL && out != NULL);
  gsize text_len;
  const char *text = galley_document_get_text (doc, &text_len);
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  append_key (out, "id", &first);
  galley_json_escape_append (out, doc->id, strlen (doc->id));
  if (doc->source != NULL)
    {
      append_key (out, "source", &first);
      galley_json_escape_append (out, doc->source, strlen (doc->source));
    }
  append_key (out, "text", &first);
  escape_valid (out, text, text_len);
  if (doc->meta != NULL && json_object_object_length (doc->meta) > 0)
    {
      append_key (out, "meta", &first);
      append_json_value (out, doc->meta);
    }
  if (doc->annotations != NULL && doc->annotations->len > 0)
    {
      g_autoptr(json_object) entities = NULL;
      g_autoptr(json_object) others = NULL;
      annotations_to_json (doc, &entities, &others);
      if (entities != NULL)
        {
          append_key (out, GALLEY_LAYER_ENTITIES, &first);
          append_json_value (out, entities);
        }
      if (others != NULL)
        {
          append_key (out, "annotations", &first);
          append_json_value (out, others);
        }
    }
  if (doc->fields != NULL)
    {
      json_object_object_foreach (doc->fields, key, value)
        {
          if (g_strv_contains (reserved_keys, key))
            continue;
          append_key (out, key, &first);
          if (value == NULL)
            g_string_append (out, "null");
          else
            append_json_value (out, value);
        }
    }
  g_autoptr(json_object) repairs = galley_document_repairs_to_json (doc);
  if (repairs != NULL)
    {
      append_key (out, "repairs", &first);
      append_json_value (out, repairs);
    }
  if (doc->encoding != NULL)
    {
      append_key (out, "encoding", &first);
      galley_json_escape_append (out, doc->encoding, strlen (doc->encoding));
    }
  if (doc->content_type != GALLEY_CONTENT_UNKNOWN)
    {
      append_key (out, "content_type", &first);
      g_string_append_printf (out, "\"%s\"", galley_content_type_to_string (doc->content_type));
    }
  g_string_append_c (out, '}');
}

json_object *
galley_document_to_json (GalleyDocument *doc)
{
  g_return_val_if_fail (doc != NULL, NULL);
  g_autoptr(GString) out = g_string_new (NULL);
  galley_document_write_json (doc, out);
  return json_tokener_parse (out->str);
}
