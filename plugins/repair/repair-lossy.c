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
#include "repair-letters.h"

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
  { "pl", "ąćęłńóśźż",
    "i w z na się nie że do to jest przez od dla po jak ale czy są już może być był była będzie "
    "także przed między" },
  { "cs", "áčďéěíňóřšťúůýž",
    "a v je se na že to s z do jak ale by pro od jsou být byl také při už jeho její který které" },
  { "sk", "áäčďéíĺľňóôŕšťúýž", "a v je sa na že to s z do ako ale pre od sú" },
  { "hu", "áéíóöőúüű", "a az és hogy nem is egy meg van de ez volt" },
  { "ro", "ăâîșşțţ", "și si în in de la cu pe nu că ca este un din pentru" },
  { "hr", "čćđšž", "i u je na se da za su od ali kao što" },
  { "sl", "čšž", "in je na se da za so od ki pa" },
  { "tr", "çğıöşüâî", "ve bir bu da de için ile ne çok olarak daha değil gibi kadar sonra göre olan her şu ama" },
  { "de", "äöüß", "der die das und ist nicht mit den von zu auf für ein eine dem des im sich auch" },
  { "fr", "àâæçéèêëîïôœùûüÿ", "le la les et des est une un du dans pour que qui pas sur au avec à été" },
  { "es", "áéíñóúü", "el la los las y que de del en un una por con para es se al" },
  { "pt", "áâãàçéêíóôõú", "o a os as e que de do da em um uma para com não por ao à é às" },
  { "it", "àèéìíîòóùú", "il la le e che di del della un una per con non sono gli nel è" },
  { "nl", "éëïóöü", "de het een en van is dat niet op te met voor zijn" },
  { "da", "æøå", "og i at det er en til på som med af den" },
  { "sv", "åäö", "och i att det är en som på med för av den till" },
  { "no", "æøå", "og i å det er en til på som med av den" },
  { "fi", "äö", "ja on ei se että oli hän mutta ovat kun" },
  { "is", "áðéíóúýþæö", "og að í er á sem það til með" },
  { "lt", "ąčęėįšųūž", "ir yra kad su į ne tai bet iš" },
  { "lv", "āčēģīķļņšūž", "un ir ka ar uz no par bet vai" },
  { "et", "äõöüšž", "ja on et ei see ka oli kui ta" },
  { "ru", "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "и в не на что с по это как он но из к за я его был была было были уже при также после года "
    "который которые они мы вы их все только если" },
  { "uk", "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "і в не на що з та це як до за від у я його було був вже після також року які який вони ми ви "
    "їх при під про" },
  { "be", "абвгдеёжзійклмнопрстуўфхцчшыьэюя", "і ў не на што з гэта як да" },
  { "bg", "абвгдежзийклмнопрстуфхцчшщъьюя", "и в на не се да от за че с е" },
  { "sr", "абвгдђежзијклљмнњопрстћуфхцчџш", "и у је на се да за су од" },
  { "el", "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώϊϋΐΰς",
    "και το η να του της με για που στο είναι τα τον την των στην στις από θα δεν ότι σε οι τις "
    "τους" },
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

/* a bit per (first, last) letter pair of the frequent words: a word
 * whose pair has no bit is none of them */
#define WORD_FILTER_BITS 4096
static guint64 word_filter[WORD_FILTER_BITS / 64];

static inline guint
word_filter_bit (gunichar first, gunichar last)
{
  return (first * 131u + last) % WORD_FILTER_BITS;
}

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
          if (key[0] != '\0')
            {
              const char *last = g_utf8_find_prev_char (key, key + strlen (key));
              guint bit = word_filter_bit (g_utf8_get_char (key), g_utf8_get_char (last));
              word_filter[bit / 64] |= 1ull << (bit % 64);
            }
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
      if (!repair_isalpha (text[i]))
        {
          i++;
          continue;
        }
      guint s = i;
      while (i < n && repair_isalpha (text[i]))
        i++;
      /* most words fail on their first and last letters (known_word) */
      guint bit = word_filter_bit (g_unichar_tolower (text[s]), g_unichar_tolower (text[i - 1]));
      if (!(word_filter[bit / 64] & (1ull << (bit % 64))))
        continue;
      char word[32];
      guint len = 0;
      gboolean fits = TRUE;
      for (i = s; i < n && repair_isalpha (text[i]); i++)
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
  return c != 0 && repair_islower (c);
}

/* U+0E42 in a reading stands for punctuation a TIS-620 decoder lost
 * (repair-reread.c), not for a letter. */
static gboolean
is_letter (gunichar c)
{
  return c != 0 && c != 0xFFFD && c != 0x0E42 && repair_isalpha (c);
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

/* ---- the letter model (repair-letters-data.c) ---- */

#define LETTER_END 0x530   /* Latin, Greek, Cyrillic */
#define NO_SYMBOL 0xFF
#define BOUNDARY 0
/* a letter the model does not know, in bits */
#define UNKNOWN_LETTER_BITS (-14.0)
#define AFTER_UNKNOWN_BITS (-5.0)
/* how much a bit of the model weighs against the points of score() */
#define LETTER_WEIGHT 0.6

static guint8 letter_symbol_of[LETTER_END];
/* no letter weighs more than this many bits (letter_bits) */
static double most_letter_bits;
/* letter_symbol() of every character below LETTER_END */
static guint8 char_symbol[LETTER_END];

static guint letter_symbol_uncached (gunichar c);

/* the trigrams and four-letter sequences, hashed: (key + 1) << 8 | the
 * value's byte in one word (0: empty), so that a lookup touches one
 * cache line, not one in the keys and one in the values */
#define TRIGRAM_BITS 17
#define QUADGRAM_BITS 19
static guint64 trigram_slot[1u << TRIGRAM_BITS];
static guint64 quadgram_slot[1u << QUADGRAM_BITS];

static inline guint32
hash_slot (guint32 key, guint bits)
{
  return (key * 2654435761u) >> (32 - bits);
}

static void
hash_fill (guint64 *slots, guint bits, const guint32 *from_keys, const gint8 *from_values, guint n)
{
  g_assert (n < (1u << bits) / 2);
  for (guint i = 0; i < n; i++)
    {
      guint32 h = hash_slot (from_keys[i], bits);
      while (slots[h] != 0)
        h = (h + 1) & ((1u << bits) - 1);
      slots[h] = ((guint64) from_keys[i] + 1) << 8 | (guint8) from_values[i];
    }
}

/* The value of @key, or FALSE. */
static inline gboolean
hash_find (const guint64 *slots, guint bits, guint32 key, int *value)
{
  for (guint32 h = hash_slot (key, bits);; h = (h + 1) & ((1u << bits) - 1))
    {
      guint64 entry = slots[h];
      if (entry >> 8 == (guint64) key + 1)
        {
          *value = (gint8) (guint8) entry;
          return TRUE;
        }
      if (entry == 0)
        return FALSE;
    }
}

static gpointer
build_letter_symbols (gpointer data)
{
  hash_fill (trigram_slot, TRIGRAM_BITS, repair_letters_trigram_keys, repair_letters_trigram_values,
             repair_letters_n_trigrams);
  hash_fill (quadgram_slot, QUADGRAM_BITS, repair_letters_quadgram_keys, repair_letters_quadgram_values,
             repair_letters_n_quadgrams);
  memset (letter_symbol_of, NO_SYMBOL, sizeof letter_symbol_of);
  for (guint i = 1; i < repair_letters_n_symbols; i++)
    if (repair_letters_symbols[i] < LETTER_END)
      letter_symbol_of[repair_letters_symbols[i]] = (guint8) i;
  for (gunichar c = 0; c < LETTER_END; c++)
    char_symbol[c] = (guint8) letter_symbol_uncached (c);
  /* the most bits letter_bits_uncached() can give */
  int most = MAX (UNKNOWN_LETTER_BITS, AFTER_UNKNOWN_BITS) * repair_letters_scale;
  int back4 = MAX (repair_letters_backoff4, 0);
  guint n = repair_letters_n_symbols;
  for (guint i = 0; i < n * n; i++)
    most = MAX (most, repair_letters_bigram[i] + repair_letters_backoff + back4);
  for (guint i = 0; i < repair_letters_n_trigrams; i++)
    most = MAX (most, repair_letters_trigram_values[i] + back4);
  for (guint i = 0; i < repair_letters_n_quadgrams; i++)
    most = MAX (most, repair_letters_quadgram_values[i]);
  most_letter_bits = (double) most / repair_letters_scale;
  return NULL;
}

/* The model's symbol of @c: BOUNDARY for what is not a letter, NO_SYMBOL
 * for a letter it does not know. */
static guint
letter_symbol_uncached (gunichar c)
{
  if (c == 0xFFFD || !repair_isalpha (c))
    return BOUNDARY;
  gunichar l = g_unichar_tolower (c);
  return l < LETTER_END ? letter_symbol_of[l] : NO_SYMBOL;
}

/* letter_symbol_uncached(), from a table below LETTER_END */
static inline guint
letter_symbol (gunichar c)
{
  return c < LETTER_END ? char_symbol[c] : letter_symbol_uncached (c);
}

static double letter_bits_uncached (guint z, guint a, guint b, guint c);

/* the last answers of letter_bits, per thread: a line asks for the same
 * few contexts again and again (key + 1 from bit 16 up, as 33 bits, so
 * that no key reads as an empty entry, and the value times the scale, a
 * small integer, in the low 16 bits); 16,384 of them, 128 KB, since a
 * miss is a lookup in the four-letter table, which no cache holds */
#define BITS_CACHE_BITS 14
#define BITS_CACHE (1u << BITS_CACHE_BITS)
static _Thread_local guint64 bits_cache[BITS_CACHE];

/* log2 P(c | z a b), in bits; @cache is this thread's bits_cache (found
 * once per word: a thread-local variable of a loaded module costs a call
 * each time it is named). */
static inline double
letter_bits (guint64 *cache, guint z, guint a, guint b, guint c)
{
  G_STATIC_ASSERT (NO_SYMBOL <= 0xFF);
  guint32 key = (z << 24) | (a << 16) | (b << 8) | c;
  guint32 slot = hash_slot (key, BITS_CACHE_BITS);
  guint64 entry = cache[slot];
  if (entry >> 16 == (guint64) key + 1)
    return (double) (gint16) (guint16) entry / repair_letters_scale;
  double bits = letter_bits_uncached (z, a, b, c);
  cache[slot] = ((guint64) key + 1) << 16 | (guint16) (gint16) (bits * repair_letters_scale);
  return bits;
}

/* log2 P(c | z a b), in bits: the four letters when the model has
 * them, else the three, else the two. */
static double
letter_bits_uncached (guint z, guint a, guint b, guint c)
{
  guint n = repair_letters_n_symbols;
  /* a letter the model does not know costs a rare letter's bits, and so
   * does the next one, whose context it is */
  if (c == NO_SYMBOL || b == NO_SYMBOL)
    return c == NO_SYMBOL ? UNKNOWN_LETTER_BITS : AFTER_UNKNOWN_BITS;
  if (a == NO_SYMBOL)
    return (double) (repair_letters_bigram[b * n + c] + repair_letters_backoff) / repair_letters_scale;
  int v;
  if (z != NO_SYMBOL
      && hash_find (quadgram_slot, QUADGRAM_BITS, (((guint32) z * n + a) * n + b) * n + c, &v))
    return (double) v / repair_letters_scale;
  int back4 = z != NO_SYMBOL ? repair_letters_backoff4 : 0;
  if (hash_find (trigram_slot, TRIGRAM_BITS, ((guint32) a * n + b) * n + c, &v))
    return (double) (v + back4) / repair_letters_scale;
  return (double) (repair_letters_bigram[b * n + c] + repair_letters_backoff + back4) / repair_letters_scale;
}

static gboolean
greek_accented (gunichar c)
{
  /* a switch, which the compiler turns into a range check and a bit test */
  switch (c)
    {
    case 0x386: case 0x388: case 0x389: case 0x38A: case 0x38C: case 0x38E: case 0x38F: case 0x390:
    case 0x3AC: case 0x3AD: case 0x3AE: case 0x3AF: case 0x3B0: case 0x3CC: case 0x3CD: case 0x3CE:
      return TRUE;
    default:
      return FALSE;
    }
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

/* The letters of the word around text[@at] (slots counted), when the
 * word around it is Greek; 0 otherwise. */
static guint
greek_word_length (const gunichar *text, guint n, guint at)
{
  guint s = at, e = at + 1;
  while (s > 0 && (is_letter (text[s - 1]) || text[s - 1] == 0xFFFD))
    s--;
  while (e < n && (is_letter (text[e]) || text[e] == 0xFFFD))
    e++;
  for (guint i = s; i < e; i++)
    if (i != at && is_letter (text[i]) && repair_script (text[i]) != G_UNICODE_SCRIPT_GREEK)
      return 0;
  return e - s;
}

static double
score (gunichar c, const gunichar *text, guint n, guint at, const LineLanguages *ll)
{
  gunichar prev = at > 0 ? text[at - 1] : 0;
  gunichar next = at + 1 < n ? text[at + 1] : 0;
  double s = 0;
  if (greek_accented (c) && word_has_greek_accent (text, n, at))
    s -= 3;
  else if (greek_accented (c) && greek_word_length (text, n, at) >= 4)
    s += 1.5;   /* a Greek word of more than one syllable has an accent */
  if (repair_isalpha (c))
    {
      /* the best-attested language that writes this letter: the
       * evidence of one language, not a count of languages */
      gboolean known = FALSE;
      double evidence = 0;
      guint32 users = users_of (c);
      for (guint32 rest = users; rest != 0; rest &= rest - 1)
        {
          guint l = (guint) __builtin_ctz (rest);
          known = TRUE;
          evidence = MAX (evidence, MIN (2 * ll->weight[l], 4.0) + alphabet_prior[l]);
        }
      s += evidence + (known ? 2 : -2);
      /* case: a word goes on in the case it started in */
      if (is_lower_letter (prev))
        s += repair_islower (c) ? 3 : -3;
      else if (is_letter (prev) && repair_isupper (prev) && is_lower_letter (next))
        s += repair_islower (c) ? 2 : -2;   /* "Wąsik": a capital, then small letters */
      else if (is_letter (prev) && repair_isupper (prev) && is_letter (next) && repair_isupper (next))
        s += repair_isupper (c) ? 3 : -3;
      else if (!is_letter (prev) && is_lower_letter (next) && repair_isupper (c))
        s += at == 0 ? 1.5 : 0.5;   /* a capital opens a word as often as a small letter, a line more often */
      /* script: one word, one script */
      GUnicodeScript sc = repair_script (c);
      GUnicodeScript sp = letter_script (prev), sn = letter_script (next);
      if (sp != G_UNICODE_SCRIPT_INVALID_CODE)
        s += sp == sc ? 2 : -4;
      if (sn != G_UNICODE_SCRIPT_INVALID_CODE)
        s += sn == sc ? 2 : -4;
      if (!is_letter (prev) && !is_letter (next))
        {
          /* a letter standing alone: a small one (à, y), unless it opens
           * the line or a sentence (À Paris) */
          gboolean opens = TRUE;
          for (guint i = at; i > 0 && opens; i--)
            if (!g_unichar_isspace (text[i - 1]))
              opens = text[i - 1] == '.' || text[i - 1] == '!' || text[i - 1] == '?';
          s -= (repair_islower (c) != 0) != opens ? 2 : 3;
        }
      return s;
    }
  if (g_unichar_ismark (c))
    {
      /* a vowel sign or virama goes with a letter of its own script */
      GUnicodeScript sp = letter_script (prev);
      return sp != G_UNICODE_SCRIPT_INVALID_CODE && sp == repair_script (c) ? 3 : -4;
    }
  if (c == 0x202F || c == 0xA0)
    {
      /* a no-break space keeps a number or a title with its word */
      if ((g_unichar_isdigit (prev) || is_letter (prev)) && is_letter (next))
        return 2;
      if (!is_space_or_edge (prev) && (is_letter (next) || g_unichar_isdigit (next)))
        return 1;
      return -4;
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
      if (repair_type (c) == G_UNICODE_CURRENCY_SYMBOL
          && ((g_unichar_isdigit (next) && !is_letter (prev)) || (g_unichar_isdigit (prev) && !is_letter (next))))
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

/* ---- choosing, a word at a time ---- */

#define BEAM 8
#define WORD_SLOTS 16
#define WORD_LETTERS 64   /* longer runs of letters are no words for the letter model */
/* two readings closer than this are a tie */
#define TIE 0.5
/* points behind the best candidate of a slot that rule a candidate out */
#define PRUNE 4.0
/* points for a word that is a frequent word of a language of the line */
#define KNOWN_WORD 2.0

typedef struct {
  double score;              /* points of score() + LETTER_WEIGHT * bits */
  guint  z, a, b;            /* the last three symbols */
  guint8 pick[WORD_SLOTS];   /* candidate chosen per slot of the word */
} Hypothesis;

static int
by_score (gconstpointer x, gconstpointer y)
{
  double a = ((const Hypothesis *) x)->score, b = ((const Hypothesis *) y)->score;
  return a < b ? 1 : a > b ? -1 : 0;
}

/* Adds the letter with symbol @sym to every hypothesis. */
static void
advance (guint64 *cache, Hypothesis *h, guint n, guint sym)
{
  /* hypotheses mostly share their context: the last bits are reused */
  guint cz = G_MAXUINT, ca = G_MAXUINT, cb = G_MAXUINT;
  double bits = 0;
  for (guint i = 0; i < n; i++)
    {
      if (h[i].z != cz || h[i].a != ca || h[i].b != cb)
        {
          cz = h[i].z, ca = h[i].a, cb = h[i].b;
          bits = LETTER_WEIGHT * letter_bits (cache, cz, ca, cb, sym);
        }
      h[i].score += bits;
      if (sym == BOUNDARY)
        h[i].z = h[i].a = h[i].b = BOUNDARY;
      else
        h[i].z = h[i].a, h[i].a = h[i].b, h[i].b = sym;
    }
}

/* TRUE when the word text[@s .. @e), with the candidates @pick in its
 * slots @first .. @last - 1, is a frequent word of a language that has
 * some evidence in the line (or a prior). */
static gboolean
known_word (const RepairReading *reading, guint first, guint last, guint s, guint e, const guint8 *pick,
            const LineLanguages *ll)
{
  const gunichar *text = (const gunichar *) reading->text->data;
  char word[8 * 6 + 1];   /* eight characters of UTF-8 at most */
  guint len = 0;
  guint k = first;
  if (e - s > 8)
    return FALSE;
  /* the word's characters, the candidates in their slots */
  gunichar chars[8];
  for (guint i = s; i < e; i++)
    {
      gunichar c = text[i];
      if (k < last && g_array_index (reading->slots, RepairSlot, k).at == i)
        c = g_array_index (reading->slots, RepairSlot, k).candidates[pick[k - first]], k++;
      chars[i - s] = c;
    }
  /* its first and last letters first: most words fail on them */
  if (e > s)
    {
      guint bit = word_filter_bit (g_unichar_tolower (chars[0]), g_unichar_tolower (chars[e - s - 1]));
      if (!(word_filter[bit / 64] & (1ull << (bit % 64))))
        return FALSE;
    }
  for (guint i = 0; i < e - s; i++)
    {
      if (!repair_isalpha (chars[i]))
        return FALSE;
      len += (guint) g_unichar_to_utf8 (g_unichar_tolower (chars[i]), word + len);
    }
  word[len] = '\0';
  guint32 mask = GPOINTER_TO_UINT (g_hash_table_lookup (word_users, word));
  for (guint l = 0; l < G_N_ELEMENTS (alphabets) && mask != 0; l++)
    if ((mask & (1u << l)) && ll->weight[l] + alphabet_prior[l] >= 1.0)
      return TRUE;
  return FALSE;
}

/* The bits of the letters sym[@at .. @at + 3] (and of the word's end)
 * of the word sym[0 .. @len) + a boundary: those whose context holds
 * sym[@at]. */
static double
window_bits (guint64 *cache, const guint *sym, guint len, guint at)
{
  double bits = 0;
  for (guint p = at; p <= len && p <= at + 3; p++)
    {
      /* the three symbols before p, back to the last boundary */
      guint ctx[3] = { BOUNDARY, BOUNDARY, BOUNDARY };
      for (guint d = 1; d <= 3 && d <= p; d++)
        {
          if (sym[p - d] == BOUNDARY)
            break;
          ctx[3 - d] = sym[p - d];
        }
      if (p == len && ctx[2] == BOUNDARY)
        break;   /* no end after a boundary */
      bits += letter_bits (cache, ctx[0], ctx[1], ctx[2], sym[p]);
    }
  return bits;
}

/* Chooses the slots @first .. @last - 1, which lie in the word
 * text[@s .. @e), together: their points (@points, per slot and
 * candidate) plus the letter model over the whole word. Returns the
 * number left undecided. */
static guint
choose_word (RepairReading *reading, guint first, guint last, guint s, guint e, const double *points,
             const LineLanguages *ll, Hypothesis *beam, Hypothesis *next)
{
  gunichar *text = (gunichar *) reading->text->data;
  guint64 *cache = bits_cache;
  guint n_beam = 1;
  beam[0] = (Hypothesis) { 0, BOUNDARY, BOUNDARY, BOUNDARY, { 0 } };
  /* a word of one letter: word lists say nothing about those; nor about
   * a "word" of more than WORD_LETTERS */
  gboolean model = e - s > 1 && e - s <= WORD_LETTERS;
  /* with one candidate left in every slot, the word has nothing to weigh */
  gboolean single = TRUE;
  for (guint q = first; q < last && single; q++)
    {
      const RepairSlot *slot = &g_array_index (reading->slots, RepairSlot, q);
      double top = -G_MAXDOUBLE;
      guint alive = 0;
      for (guint j = 0; j < slot->n_candidates; j++)
        top = MAX (top, points[q * REPAIR_MAX_CANDIDATES + j]);
      for (guint j = 0; j < slot->n_candidates; j++)
        alive += points[q * REPAIR_MAX_CANDIDATES + j] >= top - PRUNE;
      single = alive == 1;
    }
  if (single)
    model = FALSE;
  guint k = first;
  for (guint i = s; i < e; i++)
    {
      const RepairSlot *slot = k < last ? &g_array_index (reading->slots, RepairSlot, k) : NULL;
      if (slot == NULL || slot->at != i)
        {
          if (model)
            advance (cache, beam, n_beam, letter_symbol (text[i]));
          continue;
        }
      /* candidates far behind the best on their points alone do not
       * take part */
      double top = -G_MAXDOUBLE;
      for (guint j = 0; j < slot->n_candidates; j++)
        top = MAX (top, points[k * REPAIR_MAX_CANDIDATES + j]);
      /* the BEAM best extensions, the worst of them at next[worst] */
      guint n_next = 0, worst = 0;
      for (guint h = 0; h < n_beam; h++)
        for (guint j = 0; j < slot->n_candidates; j++)
          {
            if (points[k * REPAIR_MAX_CANDIDATES + j] < top - PRUNE)
              continue;
            Hypothesis x = beam[h];
            x.score += points[k * REPAIR_MAX_CANDIDATES + j];
            /* a full beam takes no extension that cannot beat its worst
             * even with the most bits a letter has and a known word */
            if (n_next == BEAM
                && (x.score + (model ? LETTER_WEIGHT * most_letter_bits : 0)) + (k + 1 == last ? KNOWN_WORD : 0)
                     <= next[worst].score)
              continue;
            x.pick[k - first] = (guint8) j;
            if (model)
              advance (cache, &x, 1, letter_symbol (slot->candidates[j]));
            /* the last slot completes the word: a frequent word of a
             * language the line shows (się, są, что) gains, before the
             * beam keeps the best */
            if (k + 1 == last && known_word (reading, first, last, s, e, x.pick, ll))
              x.score += KNOWN_WORD;
            if (n_next < BEAM)
              next[n_next++] = x;
            else if (x.score > next[worst].score)
              next[worst] = x;
            else
              continue;
            if (n_next == BEAM)
              for (guint q = 0; q < n_next; q++)
                if (next[q].score < next[worst].score)
                  worst = q;
          }
      n_beam = n_next;
      memcpy (beam, next, n_beam * sizeof *beam);
      k++;
    }
  for (guint h = 0; h < n_beam; h++)
    if (model && beam[h].b != BOUNDARY)
      advance (cache, &beam[h], 1, BOUNDARY);
  qsort (beam, n_beam, sizeof *beam, by_score);
  /* the margin of each slot: the best reading against the best one with
   * another candidate in that slot and the others as chosen; only the
   * letters whose context the slot is change */
  Hypothesis best = beam[0];
  guint len = e - s;
  guint sym[WORD_LETTERS + 1];
  if (model)
    {
      guint q = first;
      for (guint i = s; i < e; i++)
        {
          gunichar c = text[i];
          if (q < last && g_array_index (reading->slots, RepairSlot, q).at == i)
            c = g_array_index (reading->slots, RepairSlot, q).candidates[best.pick[q - first]], q++;
          sym[i - s] = letter_symbol (c);
        }
      sym[len] = BOUNDARY;
    }
  gboolean best_known = known_word (reading, first, last, s, e, best.pick, ll);
  guint undecided = 0;
  for (k = first; k < last; k++)
    {
      RepairSlot *slot = &g_array_index (reading->slots, RepairSlot, k);
      guint j = best.pick[k - first];
      guint at = slot->at - s;
      double top = -G_MAXDOUBLE, margin = G_MAXDOUBLE;
      for (guint q = 0; q < slot->n_candidates; q++)
        top = MAX (top, points[k * REPAIR_MAX_CANDIDATES + q]);
      double base = model ? window_bits (cache, sym, len, at) : 0;
      /* only whether the margin falls below TIE counts: the first
       * candidate that brings it there decides */
      for (guint q = 0; q < slot->n_candidates && margin >= TIE; q++)
        {
          if (q == j || points[k * REPAIR_MAX_CANDIDATES + q] < top - PRUNE)
            continue;
          guint8 alt[WORD_SLOTS];
          memcpy (alt, best.pick, sizeof alt);
          alt[k - first] = (guint8) q;
          double diff = points[k * REPAIR_MAX_CANDIDATES + j] - points[k * REPAIR_MAX_CANDIDATES + q];
          diff += KNOWN_WORD * ((int) best_known - (int) known_word (reading, first, last, s, e, alt, ll));
          if (model)
            {
              guint keep = sym[at];
              sym[at] = letter_symbol (slot->candidates[q]);
              diff += LETTER_WEIGHT * (base - window_bits (cache, sym, len, at));
              sym[at] = keep;
            }
          margin = MIN (margin, diff);
        }
      if (margin < TIE || points[k * REPAIR_MAX_CANDIDATES + j] < 0)
        {
          text[slot->at] = 0xFFFD;
          undecided++;
        }
      else
        text[slot->at] = slot->candidates[j];
    }
  return undecided;
}

/* TRUE when text[@a] and text[@b] (@a < @b) are in one run of letters,
 * or next to each other. */
static gboolean
same_word (const gunichar *text, guint a, guint b)
{
  for (guint i = a + 1; i < b; i++)
    if (!is_letter (text[i]))
      return FALSE;
  return TRUE;
}

guint
repair_lossy_choose (RepairReading *reading, gboolean all_or_none)
{
  if (reading->slots->len == 0)
    return 0;
  gunichar *text = (gunichar *) reading->text->data;
  guint n = reading->text->len;
  guint n_slots = reading->slots->len;
  LineLanguages ll;
  line_languages (text, n, &ll);
  static GOnce once = G_ONCE_INIT;
  g_once (&once, build_letter_symbols, NULL);
  /* first each slot on its own, for neighbours to judge the others by */
  g_autofree double *points = g_new (double, (gsize) n_slots * REPAIR_MAX_CANDIDATES);
  for (guint k = 0; k < n_slots; k++)
    {
      RepairSlot *slot = &g_array_index (reading->slots, RepairSlot, k);
      double best = -1e9;
      gunichar choice = 0xFFFD;
      for (guint i = 0; i < slot->n_candidates; i++)
        {
          double s = score (slot->candidates[i], text, n, slot->at, &ll);
          points[k * REPAIR_MAX_CANDIDATES + i] = s;
          if (s > best)
            best = s, choice = slot->candidates[i];
        }
      text[slot->at] = choice;
    }
  /* then the points of every candidate of a word with other slots among
   * those neighbours (the others saw them already) */
  for (guint k = 0; k < n_slots; k++)
    {
      RepairSlot *slot = &g_array_index (reading->slots, RepairSlot, k);
      if (!(k + 1 < n_slots && same_word (text, slot->at, g_array_index (reading->slots, RepairSlot, k + 1).at))
          && !(k > 0 && same_word (text, g_array_index (reading->slots, RepairSlot, k - 1).at, slot->at)))
        continue;
      for (guint i = 0; i < slot->n_candidates; i++)
        points[k * REPAIR_MAX_CANDIDATES + i] = score (slot->candidates[i], text, n, slot->at, &ll);
    }
  /* then the slots of each word together, with the letter model */
  g_autofree Hypothesis *beam = g_new (Hypothesis, BEAM);
  g_autofree Hypothesis *next = g_new (Hypothesis, BEAM);
  guint undecided = 0;
  for (guint k = 0; k < n_slots;)
    {
      const RepairSlot *slot = &g_array_index (reading->slots, RepairSlot, k);
      guint s = slot->at, e = slot->at + 1;
      while (s > 0 && is_letter (text[s - 1]))
        s--;
      while (e < n && is_letter (text[e]))
        e++;
      /* the slots of the word: those its letters or it holds */
      guint last = k + 1;
      while (last < n_slots && g_array_index (reading->slots, RepairSlot, last).at < e && last - k < WORD_SLOTS)
        last++;
      undecided += choose_word (reading, k, last, s, e, points, &ll, beam, next);
      if (all_or_none && undecided > 0)
        return undecided;
      k = last;
    }
  return undecided;
}
