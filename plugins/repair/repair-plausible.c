/* repair-plausible.c: the checks a repaired line must pass, so that a
 * repair never makes text worse than it came.
 *
 * A wrong code page still yields valid UTF-8 more often than one would
 * think, but of a telling kind: C1 controls, invisible format characters,
 * private-use and unassigned code points, and letters of one script glued
 * to letters of another (CJK ideographs inside Cyrillic words, which is
 * what Mac Roman read as cp1252 makes of Russian). A repair that produces
 * any of these is not applied.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

static gboolean
forbidden (gunichar c, gunichar prev, gunichar next, gboolean allow_c1)
{
  if (c < 0x20)
    return c != '\t' && c != '\n' && c != '\r';
  if (c < 0xA0)
    return c == 0x7F || (c >= 0x80 && !allow_c1);
  switch (repair_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_SURROGATE:
      return TRUE;
    case G_UNICODE_FORMAT:
      /* the soft hyphen is text; a joiner only inside emoji sequences */
      if (c == 0xAD)
        return FALSE;
      if (c == 0x200D)
        return prev < 0x2000 || next < 0x2000;
      return TRUE;
    default:
      return c == 0xFFFE || c == 0xFFFF;
    }
}

static gboolean
japanese (GUnicodeScript s)
{
  return s == G_UNICODE_SCRIPT_HAN || s == G_UNICODE_SCRIPT_HIRAGANA || s == G_UNICODE_SCRIPT_KATAKANA;
}

static gboolean
is_script_letter (gunichar c, GUnicodeScript *script)
{
  if (c < 0x80 || !repair_isalpha (c))
    return FALSE;
  GUnicodeScript s = repair_script (c);
  if (s == G_UNICODE_SCRIPT_COMMON || s == G_UNICODE_SCRIPT_INHERITED)
    return FALSE;
  *script = s;
  return TRUE;
}

/* TRUE when each character of a script other than Latin occurs with at
 * least one other of its script: a lone Ethiopic mark or CJK ideograph
 * in a Latin line is a wrong reading. The characters of each script are
 * counted in one pass (a line has few scripts; with more than eight,
 * each character looks for another). */
static gboolean
scripts_repeat (const gunichar *text, guint n)
{
  GUnicodeScript script[8];
  guint count[8];
  guint n_scripts = 0;
  for (guint i = 0; i < n; i++)
    {
      if (text[i] < 0x250)
        continue;
      GUnicodeScript s = repair_script (text[i]);
      guint k = 0;
      while (k < n_scripts && script[k] != s)
        k++;
      if (k == n_scripts)
        {
          if (n_scripts == G_N_ELEMENTS (script))
            goto many;
          script[n_scripts] = s;
          count[n_scripts++] = 0;
        }
      count[k]++;
    }
  for (guint k = 0; k < n_scripts; k++)
    if (count[k] == 1 && script[k] != G_UNICODE_SCRIPT_COMMON && script[k] != G_UNICODE_SCRIPT_INHERITED
        && script[k] != G_UNICODE_SCRIPT_LATIN)
      return FALSE;
  return TRUE;

many:
  for (guint i = 0; i < n; i++)
    {
      if (text[i] < 0x250)
        continue;
      GUnicodeScript s = repair_script (text[i]);
      if (s == G_UNICODE_SCRIPT_COMMON || s == G_UNICODE_SCRIPT_INHERITED || s == G_UNICODE_SCRIPT_LATIN)
        continue;
      gboolean again = FALSE;
      for (guint k = 0; k < n && !again; k++)
        again = k != i && text[k] >= 0x250 && repair_script (text[k]) == s;
      if (!again)
        return FALSE;
    }
  return TRUE;
}

gboolean
repair_plausible (const gunichar *text, guint n, gboolean whole_line, gboolean allow_c1)
{
  if (whole_line && !scripts_repeat (text, n))
    return FALSE;
  GUnicodeScript prev_script = G_UNICODE_SCRIPT_INVALID_CODE;
  for (guint i = 0; i < n; i++)
    {
      gunichar c = text[i];
      if (c < 0x80 && c >= 0x20)
        {
          prev_script = g_ascii_isalpha (c) ? G_UNICODE_SCRIPT_LATIN : G_UNICODE_SCRIPT_INVALID_CODE;
          continue;
        }
      if (forbidden (c, i > 0 ? text[i - 1] : 0, i + 1 < n ? text[i + 1] : 0, allow_c1))
        return FALSE;
      GUnicodeScript s;
      if (!is_script_letter (c, &s))
        {
          prev_script = G_UNICODE_SCRIPT_INVALID_CODE;
          continue;
        }
      /* two non-ASCII letters of different scripts side by side; an ASCII
       * Latin letter next to another script is left alone (mixed-script
       * names and abbreviations exist) */
      if (prev_script != G_UNICODE_SCRIPT_INVALID_CODE && prev_script != s && i > 0 && text[i - 1] >= 0x80
          && !(japanese (prev_script) && japanese (s)))
        return FALSE;
      prev_script = s;
    }
  return TRUE;
}
