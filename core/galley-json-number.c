/* galley-json-number.c: integers beyond 64 bits keep their text.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-json-number.h"

#include <stdlib.h>
#include <string.h>

/* Text already accepted by json-c, walked next to the tree built from it. */
typedef struct {
  const char *p;
  const char *end;
} Scan;

/* TRUE if the text holds a run of @n digits (a big integer has at least 19). */
static gboolean
has_digit_run (const char *text, gsize len, guint n)
{
  guint run = 0;
  for (gsize i = 0; i < len; i++)
    {
      if (text[i] >= '0' && text[i] <= '9')
        {
          if (++run >= n)
            return TRUE;
        }
      else
        run = 0;
    }
  return FALSE;
}

/* TRUE if the integer literal @s (of @len bytes: -?[0-9]+) is outside
 * [INT64_MIN, UINT64_MAX]. */
static gboolean
is_big_integer (const char *s, gsize len)
{
  gboolean negative = *s == '-';
  if (negative)
    s++, len--;
  while (len > 1 && *s == '0')
    s++, len--;
  const char *limit = negative ? "9223372036854775808" : "18446744073709551615";
  gsize limit_len = strlen (limit);
  return len > limit_len || (len == limit_len && memcmp (s, limit, len) > 0);
}

static void
skip_ws (Scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

/* Skips a quoted string; FALSE if the text ends first. */
static gboolean
skip_string (Scan *s)
{
  char quote = *s->p++;
  while (s->p < s->end && *s->p != quote)
    s->p += *s->p == '\\' ? 2 : 1;
  if (s->p >= s->end)
    return FALSE;
  s->p++;
  return TRUE;
}

/* The member name of the quoted string at s->p, decoded. */
static char *
read_key (Scan *s)
{
  const char *start = s->p;
  if (!skip_string (s))
    return NULL;
  if (*start == '"' && memchr (start, '\\', s->p - start) == NULL)
    return g_strndup (start + 1, s->p - start - 2);
  g_autofree char *quoted = g_strndup (start, s->p - start);
  json_object *decoded = json_tokener_parse (quoted);
  char *key = json_object_is_type (decoded, json_type_string) ? g_strdup (json_object_get_string (decoded)) : NULL;
  json_object_put (decoded);
  return key;
}

static gboolean walk (Scan *s, json_object *node);

static gboolean
walk_scalar (Scan *s, json_object *node)
{
  const char *start = s->p;
  while (s->p < s->end && !strchr (",:]} \t\r\n", *s->p))
    s->p++;
  gsize len = s->p - start;
  if (len == 0)
    return FALSE;
  gsize i = *start == '-' ? 1 : 0;
  if (i == len)
    return TRUE;
  for (; i < len; i++)
    if (start[i] < '0' || start[i] > '9')
      return TRUE;   /* not an integer literal */
  if (node == NULL || !json_object_is_type (node, json_type_int))
    return TRUE;
  if (is_big_integer (start, len))
    {
      /* the same allocator and serializer json-c uses for the text of a
       * double, so json_object_deep_copy() copies it */
      char *copy = malloc (len + 1);
      memcpy (copy, start, len);
      copy[len] = '\0';
      json_object_set_serializer (node, json_object_userdata_to_json_string, copy, json_object_free_userdata);
    }
  else
    {
      /* a later member of the same name replaced an earlier big one */
      json_object_set_serializer (node, NULL, NULL, NULL);
    }
  return TRUE;
}

static gboolean
walk (Scan *s, json_object *node)
{
  skip_ws (s);
  if (s->p >= s->end)
    return FALSE;
  char c = *s->p;
  if (c == '"' || c == '\'')
    return skip_string (s);
  if (c != '{' && c != '[')
    return walk_scalar (s, node);
  gboolean object = c == '{';
  char close = object ? '}' : ']';
  if (node != NULL && !json_object_is_type (node, object ? json_type_object : json_type_array))
    node = NULL;
  s->p++;
  for (size_t index = 0;; index++)
    {
      skip_ws (s);
      if (s->p >= s->end)
        return FALSE;
      if (*s->p == close)
        {
          s->p++;
          return TRUE;
        }
      json_object *child = NULL;
      if (object)
        {
          if (*s->p != '"' && *s->p != '\'')
            return FALSE;
          g_autofree char *key = read_key (s);
          skip_ws (s);
          if (key == NULL || s->p >= s->end || *s->p != ':')
            return FALSE;
          s->p++;
          if (node != NULL)
            json_object_object_get_ex (node, key, &child);
        }
      else if (node != NULL && index < json_object_array_length (node))
        child = json_object_array_get_idx (node, index);
      if (!walk (s, child))
        return FALSE;
      skip_ws (s);
      if (s->p < s->end && *s->p == ',')
        s->p++;
      else if (s->p >= s->end || *s->p != close)
        return FALSE;
    }
}

void
galley_json_keep_big_integers (json_object *root, const char *text, gsize len)
{
  if (root == NULL || !has_digit_run (text, len, 19))
    return;
  Scan s = { text, text + len };
  walk (&s, root);
}
