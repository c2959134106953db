/* repair-lossy.c: choosing what a character that lost a byte was.
 *
 * A decoder that did not define a byte wrote U+FFFD for it, or dropped
 * it: "â€�" is the closing quote U+201D (E2 80 9D) or one of four other
 * characters whose last byte cp1252 leaves undefined. The candidates are
 * judged on the text around them: case (a lower-case letter continues a
 * lower-case word), script (a Cyrillic word goes on in Cyrillic), the
 * alphabets of the languages whose intact letters the line shows, and
 * for punctuation where it stands (a closing quote follows a word and
 * precedes a space, a hyphen joins two letters). When the best two stay
 * level, the slot keeps U+FFFD and is counted as undecided.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

#include <string.h>

/* The non-ASCII letters of the languages news text is written in (lower
 * case; upper case is derived). */
static const struct { const char *code; const char *letters; } alphabets[] = {
  { "pl", "ąćęłńóśźż" },
  { "cs", "áčďéěíňóřšťúůýž" },
  { "sk", "áäčďéíĺľňóôŕšťúýž" },
  { "hu", "áéíóöőúüű" },
  { "ro", "ăâîșşțţ" },
  { "hr", "čćđšž" },
  { "sl", "čšž" },
  { "tr", "çğıöşüâî" },
  { "de", "äöüß" },
  { "fr", "àâæçéèêëîïôœùûüÿ" },
  { "es", "áéíñóúü" },
  { "pt", "áâãàçéêíóôõú" },
  { "it", "àèéìíîòóùú" },
  { "nl", "éëïóöü" },
  { "da", "æøå" },
  { "sv", "åäö" },
  { "no", "æøå" },
  { "fi", "äö" },
  { "is", "áðéíóúýþæö" },
  { "lt", "ąčęėįšųūž" },
  { "lv", "āčēģīķļņšūž" },
  { "et", "äõöüšž" },
  { "ru", "абвгдеёжзийклмнопрстуфхцчшщъыьэюя" },
  { "uk", "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя" },
  { "be", "абвгдеёжзійклмнопрстуўфхцчшыьэюя" },
  { "bg", "абвгдежзийклмнопрстуфхцчшщъьюя" },
  { "sr", "абвгдђежзијклљмнњопрстћуфхцчџш" },
  { "el", "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώϊϋΐΰς" },
};

typedef struct {
  double weight[G_N_ELEMENTS (alphabets)];   /* evidence for each language */
} LineLanguages;

G_STATIC_ASSERT (G_N_ELEMENTS (alphabets) <= 32);

#define ALPHABET_END 0x500   /* Latin, Greek and Cyrillic */

/* languages (bit per alphabet) using each character below ALPHABET_END,
 * either case */
static guint32 alphabet_users[ALPHABET_END];

static gpointer
build_alphabet_users (gpointer data)
{
  for (guint l = 0; l < G_N_ELEMENTS (alphabets); l++)
    for (const char *p = alphabets[l].letters; *p; p = g_utf8_next_char (p))
      {
        gunichar c = g_utf8_get_char (p);
        gunichar up = g_unichar_toupper (c);
        if (c < ALPHABET_END)
          alphabet_users[c] |= 1u << l;
        if (up < ALPHABET_END)
          alphabet_users[up] |= 1u << l;
      }
  return NULL;
}

static inline guint32
users_of (gunichar c)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, build_alphabet_users, NULL);
  return c < ALPHABET_END ? alphabet_users[c] : 0;
}

static inline gboolean
in_alphabet (guint lang, gunichar c)
{
  return (users_of (c) & (1u << lang)) != 0;
}

/* Each intact non-ASCII letter of the line counts for the languages that
 * use it, the less the more languages share it. */
static void
line_languages (const gunichar *text, guint n, LineLanguages *ll)
{
  memset (ll, 0, sizeof *ll);
  for (guint i = 0; i < n; i++)
    {
      gunichar c = text[i];
      guint32 mask = c >= 0xC0 ? users_of (c) : 0;
      if (mask == 0)
        continue;
      guint users = (guint) __builtin_popcount (mask);
      for (guint l = 0; l < G_N_ELEMENTS (alphabets); l++)
        if (mask & (1u << l))
          ll->weight[l] += 1.0 / users;
    }
}

static gboolean
is_lower_letter (gunichar c)
{
  return c != 0 && g_unichar_islower (c);
}

static gboolean
is_letter (gunichar c)
{
  return c != 0 && c != 0xFFFD && g_unichar_isalpha (c);
}

static gboolean
is_space_or_edge (gunichar c)
{
  return c == 0 || g_unichar_isspace (c) || c == 0xA0;
}

static GUnicodeScript
letter_script (gunichar c)
{
  return is_letter (c) ? g_unichar_get_script (c) : G_UNICODE_SCRIPT_INVALID_CODE;
}

static double
score (gunichar c, gunichar prev, gunichar next, const LineLanguages *ll)
{
  double s = 0;
  if (g_unichar_isalpha (c))
    {
      /* the best-attested language that writes this letter: the
       * evidence of one language, not a count of languages */
      gboolean known = FALSE;
      double evidence = 0;
      for (guint l = 0; l < G_N_ELEMENTS (alphabets); l++)
        if (in_alphabet (l, c))
          {
            known = TRUE;
            evidence = MAX (evidence, MIN (ll->weight[l], 3.0));
          }
      s += evidence + (known ? 2 : -2);
      /* case: a word goes on in the case it started in */
      if (is_lower_letter (prev))
        s += g_unichar_islower (c) ? 3 : -3;
      else if (is_letter (prev) && g_unichar_isupper (prev) && is_letter (next) && g_unichar_isupper (next))
        s += g_unichar_isupper (c) ? 3 : -3;
      else if (!is_letter (prev) && is_lower_letter (next) && g_unichar_isupper (c))
        s += 0.5;   /* a capital opens a word as often as a small letter */
      /* script: one word, one script */
      GUnicodeScript sc = g_unichar_get_script (c);
      GUnicodeScript sp = letter_script (prev), sn = letter_script (next);
      if (sp != G_UNICODE_SCRIPT_INVALID_CODE)
        s += sp == sc ? 2 : -4;
      if (sn != G_UNICODE_SCRIPT_INVALID_CODE)
        s += sn == sc ? 2 : -4;
      if (!is_letter (prev) && !is_letter (next))
        s -= 2;   /* a letter standing alone */
      return s;
    }
  if (g_unichar_ismark (c))
    {
      /* a vowel sign or virama goes with a letter of its own script */
      GUnicodeScript sp = letter_script (prev);
      return sp != G_UNICODE_SCRIPT_INVALID_CODE && sp == g_unichar_get_script (c) ? 3 : -4;
    }
  if (g_unichar_isspace (c))
    return -4;
  switch (c)
    {
    case 0x201D: /* ” */
    case 0x2019: /* ’ */
      if (!is_space_or_edge (prev) && (is_space_or_edge (next) || g_unichar_ispunct (next)))
        s += 3;
      if (c == 0x2019 && is_letter (prev) && is_letter (next))
        s += 3;   /* it’s, l’homme */
      if (is_space_or_edge (prev))
        s -= 3;
      return s;
    case 0x201C: /* “ */
    case 0x2018: /* ‘ */
    case 0x201E: /* „ */
      if ((is_space_or_edge (prev) || prev == '(' || prev == '[') && !is_space_or_edge (next))
        s += 3;
      else
        s -= 3;
      return s - (c == 0x201E ? 1 : 0);
    case 0x2010: /* ‐ */
    case 0x2011: /* ‑ */
      if (is_lower_letter (prev) && is_lower_letter (next) && letter_script (prev) == letter_script (next))
        s += 3;
      else
        s -= 2;
      return s - (c == 0x2011 ? 1 : 0);
    case 0x2013: /* – */
    case 0x2014: /* — */
      if (is_space_or_edge (prev) && is_space_or_edge (next))
        s += 2;
      return s;
    case 0x2026: /* … */
    case 0x2022: /* • */
      return s;
    default:
      /* other symbols and punctuation: possible, not likely */
      return g_unichar_ispunct (c) ? -1 : -2;
    }
}

guint
repair_language_fit (const gunichar *text, guint n)
{
  LineLanguages ll;
  line_languages (text, n, &ll);
  guint best = 0;
  for (guint l = 0; l < G_N_ELEMENTS (alphabets); l++)
    if (ll.weight[l] > ll.weight[best])
      best = l;
  guint fit = 0;
  for (guint i = 0; i < n; i++)
    if (text[i] >= 0xC0 && in_alphabet (best, text[i]))
      fit++;
  return fit;
}

guint
repair_lossy_choose (RepairReading *reading)
{
  if (reading->slots->len == 0)
    return 0;
  gunichar *text = (gunichar *) reading->text->data;
  guint n = reading->text->len;
  LineLanguages ll;
  line_languages (text, n, &ll);
  guint undecided = 0;
  for (guint k = 0; k < reading->slots->len; k++)
    {
      RepairSlot *slot = &g_array_index (reading->slots, RepairSlot, k);
      gunichar prev = slot->at > 0 ? text[slot->at - 1] : 0;
      gunichar next = slot->at + 1 < n ? text[slot->at + 1] : 0;
      double best = -1e9, second = -1e9;
      gunichar choice = 0xFFFD;
      for (guint i = 0; i < slot->n_candidates; i++)
        {
          double s = score (slot->candidates[i], prev, next, &ll);
          if (s > best)
            {
              second = best;
              best = s;
              choice = slot->candidates[i];
            }
          else if (s > second)
            second = s;
        }
      if ((slot->n_candidates > 1 && best - second < 0.25) || best < 0)
        {
          choice = 0xFFFD;
          undecided++;
        }
      text[slot->at] = choice;
    }
  return undecided;
}
