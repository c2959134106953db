/* repair-lossy.c: choosing what a character that lost a byte was.
 *
 * A decoder that did not define a byte wrote U+FFFD for it, or dropped
 * it: "â€�" is the closing quote U+201D (E2 80 9D) or one of four other
 * characters whose last byte cp1252 leaves undefined. The candidates are
 * judged on the text around them: case (a lower-case letter continues a
 * lower-case word), script (a Cyrillic word goes on in Cyrillic), the
 * alphabets of the languages the line shows (by its intact letters and
 * its frequent function words, with a small prior for the more widely
 * written languages), one accent per Greek word, and for punctuation
 * where it stands (a closing quote follows a word and precedes a space, a
 * hyphen joins two lower-case letters, a currency sign goes with a
 * number). When the best two stay level, the slot keeps U+FFFD and is
 * counted as undecided.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

#include <string.h>

/* The non-ASCII letters of the languages news text is written in (lower
 * case; upper case is derived) and a few of their most frequent words. */
/* How much text each language has on the web, roughly, as a last word
 * between letters of two languages the line does not tell apart: 1 for
 * the largest, 0.6 for the middle, 0.3 for the others. */
static double
language_prior (const char *code)
{
  static const char *const large[] = { "es", "pt", "fr", "de", "it", "ru", "pl", "tr", NULL };
  static const char *const middle[] = { "nl", "cs", "hu", "ro", "uk", "el", "sv", NULL };
  return g_strv_contains (large, code) ? 1.0 : g_strv_contains (middle, code) ? 0.6 : 0.3;
}

static const struct { const char *code; const char *letters; const char *words; } alphabets[] = {
  { "pl", "ąćęłńóśźż", "i w z na się nie że do to jest przez od dla po jak ale czy" },
  { "cs", "áčďéěíňóřšťúůýž", "a v je se na že to s z do jak ale by pro od jsou" },
  { "sk", "áäčďéíĺľňóôŕšťúýž", "a v je sa na že to s z do ako ale pre od sú" },
  { "hu", "áéíóöőúüű", "a az és hogy nem is egy meg van de ez volt" },
  { "ro", "ăâîșşțţ", "și si în in de la cu pe nu că ca este un din pentru" },
  { "hr", "čćđšž", "i u je na se da za su od ali kao što" },
  { "sl", "čšž", "in je na se da za so od ki pa" },
  { "tr", "çğıöşüâî", "ve bir bu da de için ile ne çok olarak daha" },
  { "de", "äöüß", "der die das und ist nicht mit den von zu auf für ein eine dem des im sich auch" },
  { "fr", "àâæçéèêëîïôœùûüÿ", "le la les et des est une un du dans pour que qui pas sur au avec" },
  { "es", "áéíñóúü", "el la los las y que de del en un una por con para es se al" },
  { "pt", "áâãàçéêíóôõú", "o a os as e que de do da em um uma para com não por ao" },
  { "it", "àèéìíîòóùú", "il la le e che di del della un una per con non sono gli nel" },
  { "nl", "éëïóöü", "de het een en van is dat niet op te met voor zijn" },
  { "da", "æøå", "og i at det er en til på som med af den" },
  { "sv", "åäö", "och i att det är en som på med för av den till" },
  { "no", "æøå", "og i å det er en til på som med av den" },
  { "fi", "äö", "ja on ei se että oli hän mutta ovat kun" },
  { "is", "áðéíóúýþæö", "og að í er á sem það til með" },
  { "lt", "ąčęėįšųūž", "ir yra kad su į ne tai bet iš" },
  { "lv", "āčēģīķļņšūž", "un ir ka ar uz no par bet vai" },
  { "et", "äõöüšž", "ja on et ei see ka oli kui ta" },
  { "ru", "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "и в не на что с по это как он но из к за" },
  { "uk", "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя", "і в не на що з та це як до за від у" },
  { "be", "абвгдеёжзійклмнопрстуўфхцчшыьэюя", "і ў не на што з гэта як да" },
  { "bg", "абвгдежзийклмнопрстуфхцчшщъьюя", "и в на не се да от за че с е" },
  { "sr", "абвгдђежзијклљмнњопрстћуфхцчџш", "и у је на се да за су од" },
  { "el", "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώϊϋΐΰς", "και το η να του της με για που στο είναι" },
};

typedef struct {
  double weight[G_N_ELEMENTS (alphabets)];   /* evidence for each language */
} LineLanguages;

G_STATIC_ASSERT (G_N_ELEMENTS (alphabets) <= 32);

#define ALPHABET_END 0x500   /* Latin, Greek and Cyrillic */

/* languages (bit per alphabet) using each character below ALPHABET_END,
 * either case */
static guint32 alphabet_users[ALPHABET_END];

/* frequent function word -> languages (bit mask) */
static GHashTable *word_users;
/* language_prior() of each alphabet */
static double alphabet_prior[G_N_ELEMENTS (alphabets)];

static gpointer
build_alphabet_users (gpointer data)
{
  word_users = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint l = 0; l < G_N_ELEMENTS (alphabets); l++)
    {
      alphabet_prior[l] = language_prior (alphabets[l].code);
      g_auto(GStrv) words = g_strsplit (alphabets[l].words, " ", -1);
      for (guint i = 0; words[i] != NULL; i++)
        {
          const char *key = g_intern_string (words[i]);
          guint32 mask = GPOINTER_TO_UINT (g_hash_table_lookup (word_users, key));
          g_hash_table_insert (word_users, (gpointer) key, GUINT_TO_POINTER (mask | (1u << l)));
        }
    }
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
add_evidence (LineLanguages *ll, guint32 mask)
{
  guint users = (guint) __builtin_popcount (mask);
  for (guint l = 0; l < G_N_ELEMENTS (alphabets); l++)
    if (mask & (1u << l))
      ll->weight[l] += 1.0 / users;
}

/* Each frequent function word of the line counts for the languages that
 * use it, the less the more languages share it. */
static void
word_languages (const gunichar *text, guint n, LineLanguages *ll)
{
  users_of (0);   /* builds the tables */
  for (guint i = 0; i < n;)
    {
      if (!g_unichar_isalpha (text[i]))
        {
          i++;
          continue;
        }
      char word[32];
      guint len = 0;
      gboolean fits = TRUE;
      for (; i < n && g_unichar_isalpha (text[i]); i++)
        {
          if (len + 6 >= sizeof word)
            fits = FALSE;
          else
            len += (guint) g_unichar_to_utf8 (g_unichar_tolower (text[i]), word + len);
        }
      if (!fits)
        continue;
      word[len] = '\0';
      guint32 mask = GPOINTER_TO_UINT (g_hash_table_lookup (word_users, word));
      if (mask != 0)
        add_evidence (ll, mask);
    }
}

static void letter_languages (const gunichar *text, guint n, LineLanguages *ll);

static void
line_languages (const gunichar *text, guint n, LineLanguages *ll)
{
  letter_languages (text, n, ll);
  word_languages (text, n, ll);
}

/* Each intact non-ASCII letter counts for the languages that write it. */
static void
letter_languages (const gunichar *text, guint n, LineLanguages *ll)
{
  memset (ll, 0, sizeof *ll);
  for (guint i = 0; i < n; i++)
    {
      gunichar c = text[i];
      guint32 mask = c >= 0xC0 ? users_of (c) : 0;
      if (mask == 0)
        continue;
      add_evidence (ll, mask);
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
  return is_letter (c) ? repair_script (c) : G_UNICODE_SCRIPT_INVALID_CODE;
}

static gboolean
greek_accented (gunichar c)
{
  static const gunichar accented[] = { 0x386, 0x388, 0x389, 0x38A, 0x38C, 0x38E, 0x38F, 0x390, 0x3AC, 0x3AD,
                                       0x3AE, 0x3AF, 0x3B0, 0x3CC, 0x3CD, 0x3CE };
  for (guint i = 0; i < G_N_ELEMENTS (accented); i++)
    if (accented[i] == c)
      return TRUE;
  return FALSE;
}

/* TRUE when the word around text[at] has another accented Greek vowel:
 * a Greek word carries one accent. */
static gboolean
word_has_greek_accent (const gunichar *text, guint n, guint at)
{
  guint s = at, e = at + 1;
  while (s > 0 && is_letter (text[s - 1]))
    s--;
  while (e < n && (is_letter (text[e]) || text[e] == 0xFFFD))
    e++;
  for (guint i = s; i < e; i++)
    if (i != at && greek_accented (text[i]))
      return TRUE;
  return FALSE;
}

static double
score (gunichar c, const gunichar *text, guint n, guint at, const LineLanguages *ll)
{
  gunichar prev = at > 0 ? text[at - 1] : 0;
  gunichar next = at + 1 < n ? text[at + 1] : 0;
  double s = 0;
  if (greek_accented (c) && word_has_greek_accent (text, n, at))
    s -= 3;
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
            evidence = MAX (evidence, MIN (ll->weight[l], 3.0) + alphabet_prior[l]);
          }
      s += evidence + (known ? 2 : -2);
      /* case: a word goes on in the case it started in */
      if (is_lower_letter (prev))
        s += g_unichar_islower (c) ? 3 : -3;
      else if (is_letter (prev) && g_unichar_isupper (prev) && is_lower_letter (next))
        s += g_unichar_islower (c) ? 2 : -2;   /* "Wąsik": a capital, then small letters */
      else if (is_letter (prev) && g_unichar_isupper (prev) && is_letter (next) && g_unichar_isupper (next))
        s += g_unichar_isupper (c) ? 3 : -3;
      else if (!is_letter (prev) && is_lower_letter (next) && g_unichar_isupper (c))
        s += 0.5;   /* a capital opens a word as often as a small letter */
      /* script: one word, one script */
      GUnicodeScript sc = repair_script (c);
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
      return sp != G_UNICODE_SCRIPT_INVALID_CODE && sp == repair_script (c) ? 3 : -4;
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
      /* a currency sign next to a number */
      if (repair_type (c) == G_UNICODE_CURRENCY_SYMBOL && (g_unichar_isdigit (next) || g_unichar_isdigit (prev)))
        return 3;
      /* other symbols and punctuation: possible, not likely */
      return g_unichar_ispunct (c) ? -1 : -2;
    }
}

guint
repair_language_fit (const gunichar *text, guint n)
{
  LineLanguages ll;
  letter_languages (text, n, &ll);
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
      double best = -1e9, second = -1e9;
      gunichar choice = 0xFFFD;
      for (guint i = 0; i < slot->n_candidates; i++)
        {
          double s = score (slot->candidates[i], text, n, slot->at, &ll);
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
