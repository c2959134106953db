/* repair-thai.c: the lossy TIS-620 case.
 *
 * UTF-8 punctuation is E2 80 xx. Read as TIS-620 / Windows-874, E2 is the
 * Thai vowel sign O (U+0E42, "โ") and 80 xx are C1 or undefined bytes,
 * which lossy decoders drop. What is left is a lone "โ" where a quote,
 * apostrophe, dash or ellipsis was. U+0E42 is a leading vowel: in Thai it
 * is always followed by a consonant, so a "โ" followed by anything else is
 * this damage, and the context tells which character it was.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

#include <string.h>

#define THAI_O "\xE0\xB9\x82"   /* U+0E42 */

/* memmem for U+0E42; memchr finds the rare E0 byte fast */
static const char *
find_thai_o (const char *p, const char *end)
{
  while (p < end && (p = memchr (p, 0xE0, end - p)) != NULL)
    {
      if (end - p >= 3 && (guchar) p[1] == 0xB9 && (guchar) p[2] == 0x82)
        return p;
      p++;
    }
  return NULL;
}

/* The character E2 xx @last whose middle byte xx (80 to A0) a TIS-620
 * decoder lost: the first that is text (a space included, not a control,
 * a separator of lines or an invisible format character). E2 80 AC is an invisible
 * bidi control, so "โฌ" is the euro sign E2 82 AC. 0 if none. */
static gunichar
lost_middle_byte (guint last)
{
  for (guint middle = 0x80; middle <= 0xA0; middle++)
    {
      gunichar c = 0x2000 + ((middle & 0x3F) << 6) + (last & 0x3F);
      GUnicodeType t = g_unichar_type (c);
      if (t != G_UNICODE_FORMAT && t != G_UNICODE_CONTROL && t != G_UNICODE_UNASSIGNED
          && t != G_UNICODE_LINE_SEPARATOR && t != G_UNICODE_PARAGRAPH_SEPARATOR)
        return c;
    }
  return 0;
}

static gboolean
is_thai_consonant (gunichar c)
{
  return c >= 0x0E01 && c <= 0x0E2E;
}

static gboolean
is_thai (gunichar c)
{
  return c >= 0x0E00 && c <= 0x0E7F;
}

static gboolean
is_word (gunichar c)
{
  return c != 0 && g_unichar_isalnum (c) && c != 0x0E42;
}

static gboolean
is_opening_context (gunichar c)
{
  return c == 0 || g_unichar_isspace (c) || c == '(' || c == '[' || c == '{' || c == 0x2014 || c == 0x2013;
}

static gboolean
is_closing_context (gunichar c)
{
  return c == 0 || g_unichar_isspace (c) || c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?'
         || c == ')' || c == ']' || c == '}';
}

/* The letters of the word that ends just before @p (at most 8). */
static char *
word_before (const char *start, const char *p)
{
  const char *q = p;
  int n = 0;
  while (q > start && n < 9)
    {
      const char *prev = g_utf8_prev_char (q);
      gunichar c = g_utf8_get_char (prev);
      if (!g_unichar_isalpha (c) || c == 0x0E42)
        break;
      q = prev;
      n++;
    }
  if (n >= 9)
    return g_strdup ("");   /* longer than we care about */
  return g_utf8_strdown (q, p - q);
}

/* The letters of the word that starts at @p (at most 8). */
static char *
word_after (const char *p, const char *end)
{
  const char *q = p;
  int n = 0;
  while (q < end && n < 9 && g_unichar_isalpha (g_utf8_get_char (q)) && g_utf8_get_char (q) != 0x0E42)
    {
      q = g_utf8_next_char (q);
      n++;
    }
  if (n >= 9)
    return g_strdup ("");
  return g_utf8_strdown (p, q - p);
}

static gboolean
in_list (const char *word, const char *const *list)
{
  return g_strv_contains (list, word);
}

/* TRUE when the word ending at @p starts with a capital letter. */
static gboolean
proper_noun_before (const char *start, const char *p)
{
  const char *q = p;
  while (q > start && is_word (g_utf8_get_char (g_utf8_prev_char (q))))
    q = g_utf8_prev_char (q);
  return q < p && g_unichar_isupper (g_utf8_get_char (q));
}

/* TRUE when the lone U+0E42 at @at joins short words into a chain of at
 * least three (30โyearโold, stateโofโtheโart): the word after it, or the
 * word before it, is joined to a further one the same way. */
static gboolean
in_compound (const char *start, const char *at, const char *after, const char *end)
{
  /* forward: letters of a short word, then U+0E42 and a word character */
  const char *q = after;
  int n = 0;
  while (q < end && is_word (g_utf8_get_char (q)) && n < 8)
    q = g_utf8_next_char (q), n++;
  if (n > 0 && n < 8 && end - q >= 4 && (guchar) q[0] == 0xE0 && (guchar) q[1] == 0xB9 && (guchar) q[2] == 0x82
      && is_word (g_utf8_get_char (q + 3)))
    return TRUE;
  /* backward: a short word, preceded by U+0E42 after a word character */
  q = at;
  n = 0;
  while (q > start && is_word (g_utf8_get_char (g_utf8_prev_char (q))) && n < 8)
    q = g_utf8_prev_char (q), n++;
  if (n > 0 && n < 8 && q - start >= 4 && (guchar) q[-3] == 0xE0 && (guchar) q[-2] == 0xB9 && (guchar) q[-1] == 0x82
      && is_word (g_utf8_get_char (g_utf8_prev_char (q - 3))))
    return TRUE;
  return FALSE;
}

/* Words that make the first or the second half of a hyphenated English
 * compound far more often than they follow or precede a dash. */
static const char *const compound_firsts[] = {
  "full", "well", "long", "short", "high", "low", "self", "non", "anti", "pro", "pre", "post", "co", "ex", "half",
  "all", "cross", "multi", "semi", "so", "far", "near", "mid", "one", "two", "three", "four", "five", "six", "ten",
  "first", "second", "third", "top", "left", "right", "hard", "record", "year", "state", "war", "cease", "open",
  "close", "large", "small", "hand", "man", "wide", "middle", "old", "new", "much", "up", "re", NULL
};
static const char *const compound_seconds[] = {
  "up", "down", "off", "out", "in", "on", "over", "back", "based", "scale", "term", "year", "years", "old",
  "long", "time", "like", "free", "style", "level", "run", "known", "made", "owned", "led", "backed", "funded",
  "linked", "related", "range", "fire", "line", "party", "wide", "day", "week", "month", "hour", "minute",
  "point", "page", "member", "way", "sided", "ranking", "class", "standing", "looking", "making", "speaking",
  "elect", "general", "ups", "offs", "outs", NULL
};

/* TRUE when a lone U+0E42 between two words (@prev_word, @next_word)
 * reads better as the hyphen of a compound than as a dash: a number
 * before a word that makes compounds (30โyear), two names (ZelenskyโPutin), or a word that
 * makes compounds on either side (fullโscale, steppedโup). A dash goes
 * before the words that open a clause (concessionsโnot, 2014โwould). */
static gboolean
two_word_compound (const char *text, const char *at, gunichar prev, gunichar next, const char *prev_word,
                   const char *next_word)
{
  if (g_unichar_isdigit (prev) && g_unichar_isalpha (next))
    return *next_word != '\0' && in_list (next_word, compound_seconds);
  if (!g_unichar_isalpha (prev) || !g_unichar_isalpha (next))
    return FALSE;
  if (g_unichar_isupper (next) && proper_noun_before (text, at) && *next_word != '\0')
    return TRUE;
  return (*prev_word != '\0' && in_list (prev_word, compound_firsts))
         || (*next_word != '\0' && in_list (next_word, compound_seconds));
}

/* TRUE when the text keeps words together with narrow no-break spaces
 * (U+202F, or the "โฏ" it becomes when its middle byte is lost): text
 * typeset that way joins compounds with the non-breaking hyphen U+2011. */
static gboolean
nonbreaking_text (const char *text, const char *end)
{
  /* both begin with a lead byte: found from each lead on, in one pass
   * (the text holds no NUL) */
  for (const char *p = text; (p = memchr (p, 0xE2, end - p)) != NULL; p++)
    if (end - p >= 3 && memcmp (p, "\xE2\x80\xAF", 3) == 0)
      return TRUE;
  for (const char *p = text; (p = memchr (p, 0xE0, end - p)) != NULL; p++)
    if (end - p >= 6 && memcmp (p, "\xE0\xB9\x82\xE0\xB8\x8F", 6) == 0)
      return TRUE;
  return FALSE;
}

static const char *
infer (const char *text, const char *at, const char *after, const char *end, gunichar prev, gunichar next,
       gboolean *open_double, gboolean nonbreaking, const char **kind)
{
  static const char *const suffixes[] = { "s", "t", "re", "ve", "ll", "d", "m", NULL };
  static const char *const elisions[] = { "l", "d", "j", "m", "n", "s", "t", "c", "qu", "lorsqu", "jusqu", "puisqu", NULL };

  /* Turkish case endings after a proper noun: İstanbul’da, Ankara’nın */
  static const char *const endings[] = { "da", "de", "ta", "te", "dan", "den", "tan", "ten", "ya", "ye", "yı", "yi",
                                         "yu", "yü", "ın", "in", "un", "ün", "nın", "nin", "nun", "nün", "la", "le",
                                         "yla", "yle", "daki", "deki", "taki", "teki", "dır", "dir", "tır", "tir", NULL };

  if (is_word (prev) && is_word (next))
    {
      g_autofree char *next_word = word_after (after, end);
      g_autofree char *prev_word = word_before (text, at);
      if (in_list (next_word, suffixes) || in_list (prev_word, elisions))
        {
          *kind = "lossy-apostrophe-restored";
          return "\xE2\x80\x99";
        }
      if (in_list (next_word, endings) && proper_noun_before (text, at))
        {
          *kind = "lossy-apostrophe-restored";
          return "\xE2\x80\x99";
        }
      if (in_compound (text, at, after, end) || two_word_compound (text, at, prev, next, prev_word, next_word))
        {
          /* 30โyearโold, fullโscale: a hyphenated compound, not a dash */
          *kind = "lossy-dash-restored";
          return nonbreaking ? "\xE2\x80\x91" : "\xE2\x80\x90";
        }
      if (g_unichar_isdigit (prev) && g_unichar_isdigit (next))
        {
          *kind = "lossy-dash-restored";
          return "\xE2\x80\x93";
        }
      *kind = "lossy-dash-restored";
      return "\xE2\x80\x94";
    }
  if (is_opening_context (prev) && (is_word (next) || next == 0x0E42) && !(g_unichar_isspace (prev) && next == 0))
    {
      *open_double = TRUE;
      *kind = "lossy-quote-restored";
      return "\xE2\x80\x9C";
    }
  if (g_unichar_isspace (prev) && g_unichar_isspace (next))
    {
      *kind = "lossy-dash-restored";
      return "\xE2\x80\x94";
    }
  if ((is_word (prev) || prev == '.' || prev == ',' || prev == '!' || prev == '?' || prev == 0x2026)
      && is_closing_context (next))
    {
      *kind = "lossy-quote-restored";
      if (*open_double)
        {
          *open_double = FALSE;
          return "\xE2\x80\x9D";
        }
      if (prev == 's')
        {
          *kind = "lossy-apostrophe-restored";
          return "\xE2\x80\x99";   /* plural possessive: the leaders' */
        }
      return "\xE2\x80\x9D";
    }
  if (!is_word (prev) && is_word (next))
    {
      *open_double = TRUE;
      *kind = "lossy-quote-restored";
      return "\xE2\x80\x9C";
    }
  *kind = "lossy-dash-restored";
  return "\xE2\x80\x94";
}

char *
thai_lossy_repair (const char *text, gsize len, RepairLog *log)
{
  const char *end = text + len;
  const char *hit = find_thai_o (text, end);
  if (hit == NULL)
    return NULL;

  GString *out = g_string_sized_new (len + 32);
  gboolean open_double = FALSE;
  gboolean nonbreaking = nonbreaking_text (text, end);
  gboolean changed = FALSE;
  const char *copied = text;
  const char *line_start = text;
  for (; hit != NULL; hit = find_thai_o (hit + 3, end))
    {
      /* quotes do not stay open across paragraphs */
      const char *nl = memchr (line_start, '\n', hit - line_start);
      if (nl != NULL)
        {
          open_double = FALSE;
          const char *last_nl = nl;
          while ((nl = memchr (last_nl + 1, '\n', hit - last_nl - 1)) != NULL)
            last_nl = nl;
          line_start = last_nl + 1;
        }
      const char *after = hit + 3;
      gunichar next = after < end ? g_utf8_get_char (after) : 0;
      gunichar prev0 = hit > text ? g_utf8_get_char (g_utf8_prev_char (hit)) : 0;
      if (next >= 0x0E01 && next <= 0x0E1F && !is_thai (prev0))
        {
          /* E2 80 A1..BF: the last byte survived as a Thai letter, as in
           * "โฆ" for an ellipsis or "โข" for a bullet; real Thai has Thai
           * around it */
          const char *after2 = g_utf8_next_char (after);
          gunichar next2 = after2 < end ? g_utf8_get_char (after2) : 0;
          /* the nearest non-space characters around it must not be Thai:
           * a short Thai word between spaces (โต) stays */
          const char *l = hit;
          gunichar left = 0;
          while (l > text)
            {
              l = g_utf8_prev_char (l);
              left = g_utf8_get_char (l);
              if (left != ' ')
                break;
            }
          const char *r = after2;
          gunichar right = 0;
          while (r < end && (right = g_utf8_get_char (r)) == ' ')
            r = g_utf8_next_char (r);
          gunichar restored = lost_middle_byte (0xA1 + (next - 0x0E01));
          if (restored != 0 && !is_thai (next2) && !is_thai (left) && !(r < end && is_thai (right)))
            {
              g_string_append_len (out, copied, hit - copied);
              g_string_append_unichar (out, restored);
              copied = after2;
              changed = TRUE;
              repair_log_add (log, next == 0x0E06 ? "lossy-ellipsis-restored" : "lossy-punctuation-restored", 1);
              hit = after2 - 3;
              continue;
            }
        }
      if (is_thai_consonant (next))
        continue;   /* real Thai */
      gunichar prev = hit > text ? g_utf8_get_char (g_utf8_prev_char (hit)) : 0;
      /* a run like "โโ": the first of two after a word is an ellipsis (…”) */
      const char *replacement;
      const char *kind;
      if (next == 0x0E42 && is_word (prev) && !(after + 3 < end && is_thai_consonant (g_utf8_get_char (after + 3))))
        {
          replacement = "\xE2\x80\xA6";
          kind = "lossy-ellipsis-restored";
        }
      else
        {
          /* the character before may itself have been restored just now */
          if (prev == 0x0E42 && out->len > 0)
            prev = g_utf8_get_char (g_utf8_prev_char (out->str + out->len));
          replacement = infer (text, hit, after, end, prev, next, &open_double, nonbreaking, &kind);
        }
      g_string_append_len (out, copied, hit - copied);
      g_string_append (out, replacement);
      copied = after;
      changed = TRUE;
      repair_log_add (log, kind, 1);
    }
  if (!changed)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  g_string_append_len (out, copied, end - copied);
  return g_string_free (out, FALSE);
}
