/* strip-html-prune.c: the raw text of scripts and styles left out before
 * parsing.
 *
 * On news pages about half of the bytes are the bodies of <script> and
 * <style> elements, which the HTML parser reads character by character
 * and keeps as text nodes that the extractor never reads (only JSON-LD
 * scripts are). This pass copies a page without those bodies, so the
 * parser builds the same tree with empty script and style elements.
 *
 * The same tree, and not merely a similar one, is the point: the pass
 * follows the parser's reading of comments, start tags and the end of
 * raw text, and wherever a page is written in a way it does not read the
 * way the parser does (an attribute with an odd quote, a "/>" on a
 * script tag, a comment or raw text that never ends) it copies the rest
 * of the page unchanged. strip_html_tree_check() compares the trees.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip.h"

#include <libxml/xmlversion.h>
#include <string.h>

/* Characters of an element or attribute name after the first, as the
 * HTML parser reads them. */
static gboolean
is_name_char (guchar c)
{
  return g_ascii_isalnum (c) || c == ':' || c == '-' || c == '_' || c == '.';
}

static gboolean
is_blank (guchar c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The first @needle (lower case, ASCII) in [@p, @end), ignoring case. */
static const char *
find_ci (const char *p, const char *end, const char *needle, gsize n)
{
  if (g_ascii_isalpha (needle[0]))
    {
      /* a letter first: either case (short spans, the attributes of a tag) */
      for (; p + n <= end; p++)
        if (g_ascii_tolower (*p) == needle[0] && g_ascii_strncasecmp (p, needle, n) == 0)
          return p;
      return NULL;
    }
  while (p + n <= end)
    {
      const char *lt = memchr (p, needle[0], (gsize) (end - p) - n + 1);
      if (lt == NULL)
        return NULL;
      if (g_ascii_strncasecmp (lt, needle, n) == 0)
        return lt;
      p = lt + 1;
    }
  return NULL;
}

/* Reads the attributes of a start tag from @p (just after its name) to
 * its '>'. Returns the position of the '>', or NULL when the tag is not
 * written the plain way (name, optional blanks, '=', a quoted or an
 * unquoted value without quotes), so that the caller stops pruning.
 * *@self_closed is set when the tag ends in "/>". */
static const char *
tag_end (const char *p, const char *end, gboolean *self_closed)
{
  *self_closed = FALSE;
  while (p < end)
    {
      guchar c = (guchar) *p;
      if (c == '>')
        return p;
      if (c == '/' && p + 1 < end && p[1] == '>')
        {
          *self_closed = TRUE;
          return p + 1;
        }
      if (is_blank (c))
        {
          p++;
          continue;
        }
      /* an attribute name, read as the parser reads names */
      if (!g_ascii_isalpha (c) && c != '_' && c != ':' && c != '.')
        return NULL;
      while (p < end && is_name_char ((guchar) *p))
        p++;
      if (p < end && !is_blank ((guchar) *p) && *p != '=' && *p != '>'
          && !(*p == '/' && p + 1 < end && p[1] == '>'))
        return NULL;
      const char *after = p;
      while (after < end && is_blank ((guchar) *after))
        after++;
      if (after >= end || *after != '=')
        continue;
      p = after + 1;
      while (p < end && is_blank ((guchar) *p))
        p++;
      if (p >= end)
        return NULL;
      if (*p == '"' || *p == '\'')
        {
          const char *close = memchr (p + 1, *p, (gsize) (end - p - 1));
          if (close == NULL)
            return NULL;
          p = close + 1;
          continue;
        }
      /* an unquoted value: up to a blank or '>' */
      while (p < end && !is_blank ((guchar) *p) && *p != '>')
        {
          if (*p == '"' || *p == '\'' || *p == '<' || *p == '=' || *p == '`')
            return NULL;
          p++;
        }
      if (p > after && p[-1] == '/')
        return NULL;   /* "src=/x/>": whether that closes the tag is not ours to guess */
    }
  return NULL;
}

gboolean
strip_html_prune (const char *html, gsize len, GString *out)
{
#if LIBXML_VERSION >= 21400
  /* libxml2 2.14 tokenizes as HTML5 does, where a script's body can hold
   * "</script>" inside an escaped comment: this pass does not follow that. */
  return FALSE;
#endif
  const char *p = html;
  const char *end = html + len;
  const char *copied = html;   /* bytes before this are in @out */
  gboolean pruned = FALSE;

  for (;;)
    {
      const char *lt = memchr (p, '<', (gsize) (end - p));
      if (lt == NULL || lt + 1 >= end)
        break;
      const char *q = lt + 1;
      if (*q == '!')
        {
          if (q + 2 < end && q[1] == '-' && q[2] == '-')
            {
              const char *close = find_ci (q + 3, end, "-->", 3);
              if (close == NULL)
                break;
              p = close + 3;
            }
          else if ((gsize) (end - q) > 8 && g_ascii_strncasecmp (q + 1, "doctype", 7) == 0)
            {
              const char *gt = memchr (q, '>', (gsize) (end - q));
              if (gt == NULL || memchr (q, '<', (gsize) (gt - q)) != NULL)
                break;
              p = gt + 1;
            }
          else
            break;   /* CDATA sections and other declarations */
          continue;
        }
      if (*q == '?')
        {
          /* a processing instruction or XML declaration ends at its '>' */
          const char *gt = memchr (q, '>', (gsize) (end - q));
          if (gt == NULL || memchr (q, '<', (gsize) (gt - q)) != NULL)
            break;
          p = gt + 1;
          continue;
        }
      if (*q == '/')
        {
          /* an end tag: a name, blanks, '>' */
          const char *n = q + 1;
          if (n < end && g_ascii_isalpha (*n))
            {
              while (n < end && is_name_char ((guchar) *n))
                n++;
              while (n < end && is_blank ((guchar) *n))
                n++;
              if (n >= end || *n != '>')
                break;
            }
          p = n;
          continue;
        }
      if (!g_ascii_isalpha (*q))
        {
          p = q;   /* a '<' of text */
          continue;
        }
      const char *name = q;
      while (q < end && is_name_char ((guchar) *q))
        q++;
      gsize name_len = (gsize) (q - name);
      const char *raw_end = NULL;
      gsize raw_end_len = 0;
      if (name_len == 6 && g_ascii_strncasecmp (name, "script", 6) == 0)
        raw_end = "</script", raw_end_len = 8;
      else if (name_len == 5 && g_ascii_strncasecmp (name, "style", 5) == 0)
        raw_end = "</style", raw_end_len = 7;
      gboolean self_closed;
      const char *gt = tag_end (q, end, &self_closed);
      if (gt == NULL)
        break;
      p = gt + 1;
      if (raw_end == NULL)
        continue;
      if (self_closed)
        break;
      /* The parser ends raw text at the first "</script" (or "</style")
       * whatever follows; a longer name ("</stylesheet>") is an end tag
       * it drops before reading on as raw text: not followed here. */
      const char *close = find_ci (p, end, raw_end, raw_end_len);
      if (close == NULL || (close + raw_end_len < end && is_name_char ((guchar) close[raw_end_len])))
        break;
      /* JSON-LD is read; any other script or style body is not */
      if (close > p && find_ci (name, gt, "ld+json", 7) == NULL)
        {
          g_string_append_len (out, copied, p - copied);
          copied = close;
          pruned = TRUE;
        }
      p = close + raw_end_len;
    }
  if (pruned)
    g_string_append_len (out, copied, end - copied);
  return pruned;
}
