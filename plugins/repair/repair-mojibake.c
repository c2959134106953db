/* repair-mojibake.c: undo UTF-8 that was decoded with a single-byte code
 * page.
 *
 * A UTF-8 character of n bytes, decoded with code page C, becomes n
 * characters: a "lead" (byte C2..F4 in C) and continuations (bytes 80..BF
 * in C). The repair looks at each place where the text could be such a
 * cluster in one of the supported code pages, rebuilds the bytes, decodes
 * them as UTF-8, and replaces the cluster only when the result is more
 * plausible than what is there, judged on the cluster and its neighbours.
 * So a foreign name or a trademark sign elsewhere in the article never
 * flips the whole text. Double encoding is undone by running the passes
 * again on the result until nothing changes.
 *
 * Plausibility is a small penalty model over character classes (letters
 * by script and case, punctuation, Latin-1 symbols, controls, rare blocks)
 * and adjacent pairs, plus a prior per code page and lead character: "Ã"
 * followed by a symbol is almost always cp1252 mojibake, "Å" followed by
 * "™" is more often a brand name.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

#include <string.h>

/* Each pass replaces clusters of two or more characters by one, so the
 * passes stop by themselves (usually after one to three); the cap only
 * bounds pathological input such as long chains of leads. */
#define MAX_PASSES 4096

typedef struct {
  const char        *name;       /* kind suffix: mojibake:utf8-as-NAME */
  gboolean           sloppy_c1;  /* undefined bytes 80-9F were read as C1 controls */
  gboolean           nbsp_a0;    /* byte A0 is the no-break space */
  const gunichar    *dec;
  guint              index;
  const RepairPages *pages;
} CodePage;

struct _MojibakeTables {
  CodePage pages[REPAIR_MAX_PAGES];
  guint    n_pages;
};

static gpointer fill_klass_cache (gpointer data);

static void ascii_pairs_init (void);

MojibakeTables *
mojibake_tables_new (const RepairPages *pages)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, fill_klass_cache, NULL);
  ascii_pairs_init ();
  MojibakeTables *t = g_new0 (MojibakeTables, 1);
  for (guint p = 0; p < pages->n_pages; p++)
    {
      CodePage *cp = &t->pages[t->n_pages++];
      cp->name = pages->page[p].name;
      cp->sloppy_c1 = pages->page[p].sloppy_c1;
      cp->nbsp_a0 = pages->page[p].nbsp_a0;
      cp->dec = pages->page[p].dec;
      cp->index = p;
      cp->pages = pages;
    }
  return t;
}

void
mojibake_tables_free (MojibakeTables *t)
{
  g_free (t);
}

/* byte + 1 of @c in @cp, or 0 */
REPAIR_SCORING static inline guint
enc_byte (const CodePage *cp, gunichar c)
{
  return (guint) (repair_pages_byte (cp->pages, cp->index, c) + 1);
}

/* ---- character classes -------------------------------------------------- */

typedef enum {
  K_OTHER, K_SPACE, K_LOWER, K_UPPER, K_LETTER, K_DIGIT, K_PUNCT, K_QUOTE, K_SYMBOL,
  K_LATIN1_SYM, K_C1, K_RARE, K_MARK, K_FFFD,
} Klass;

REPAIR_SCORING static Klass
klass_compute (gunichar c)
{
  if (c == 0)
    return K_SPACE;   /* text boundary */
  if (c < 0x80)
    {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        return K_SPACE;
      if (g_ascii_islower (c))
        return K_LOWER;
      if (g_ascii_isupper (c))
        return K_UPPER;
      if (g_ascii_isdigit (c))
        return K_DIGIT;
      if (c < 0x20 || c == 0x7F)
        return K_RARE;
      if (c == '"' || c == '\'')
        return K_QUOTE;
      return K_PUNCT;
    }
  if (c <= 0x9F)
    return K_C1;
  if (c == 0xA0)
    return K_SPACE;
  if (c < 0xC0 || c == 0xD7 || c == 0xF7)
    return K_LATIN1_SYM;
  if (c == 0xFFFD)
    return K_FFFD;
  if (c == 0x2018 || c == 0x2019 || c == 0x201C || c == 0x201D || c == 0x201E || c == 0x201A)
    return K_QUOTE;
  if (c == 0x2013 || c == 0x2014 || c == 0x2026 || c == 0x2022)
    return K_PUNCT;
  if ((c >= 0x0250 && c <= 0x02FF) || (c >= 0x1100 && c <= 0x11FF) || (c >= 0xE000 && c <= 0xF8FF)
      || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF || (c >= 0x0180 && c <= 0x01CC)
      || (c >= 0x2500 && c <= 0x259F) || (c >= 0x1D00 && c <= 0x1DBF) || c == 0x017F)
    return K_RARE;
  switch (repair_type (c))
    {
    case G_UNICODE_LOWERCASE_LETTER:
      return K_LOWER;
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
      return K_UPPER;
    case G_UNICODE_OTHER_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
      return K_LETTER;
    case G_UNICODE_DECIMAL_NUMBER:
      return K_DIGIT;
    case G_UNICODE_NON_SPACING_MARK:
    case G_UNICODE_SPACING_MARK:
    case G_UNICODE_ENCLOSING_MARK:
      return K_MARK;
    case G_UNICODE_SPACE_SEPARATOR:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
      return K_SPACE;
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
      return K_RARE;
    case G_UNICODE_CONNECT_PUNCTUATION:
    case G_UNICODE_DASH_PUNCTUATION:
    case G_UNICODE_OPEN_PUNCTUATION:
    case G_UNICODE_CLOSE_PUNCTUATION:
    case G_UNICODE_INITIAL_PUNCTUATION:
    case G_UNICODE_FINAL_PUNCTUATION:
    case G_UNICODE_OTHER_PUNCTUATION:
      return K_PUNCT;
    default:
      return K_SYMBOL;
    }
}

static guint8 klass_cache[REPAIR_CHAR_CACHE];

static gpointer
fill_klass_cache (gpointer data)
{
  for (gunichar c = 0; c < REPAIR_CHAR_CACHE; c++)
    klass_cache[c] = (guint8) klass_compute (c);
  return NULL;
}

static inline Klass
klass (gunichar c)
{
  return c < REPAIR_CHAR_CACHE ? (Klass) klass_cache[c] : klass_compute (c);
}

static gboolean
is_letter_k (Klass k)
{
  return k == K_LOWER || k == K_UPPER || k == K_LETTER;
}

/* symbols that stand for continuation bytes in the common code pages */
REPAIR_SCORING static gboolean
is_symbolish (gunichar c, Klass k)
{
  /* cp1252 80-9F punctuation and modifier letters */
  if (c == 0x201A || c == 0x201E || c == 0x2020 || c == 0x2021 || c == 0x2030 || c == 0x2039 || c == 0x203A
      || c == 0x02C6 || c == 0x02DC || c == 0x0192 || c == 0x2122 || c == 0x20AC || c == 0x25CA)
    return TRUE;
  if (k == K_LATIN1_SYM || k == K_C1)
    return TRUE;
  if (k == K_SYMBOL)
    {
      /* math and currency signs stand for bytes in mac-roman and cp1252;
       * pictographs (♫ ✔ ❤) are ordinary next to words */
      GUnicodeType type = repair_type (c);
      return type == G_UNICODE_MATH_SYMBOL || type == G_UNICODE_CURRENCY_SYMBOL || type == G_UNICODE_MODIFIER_SYMBOL;
    }
  return FALSE;
}

REPAIR_SCORING static int
char_penalty (gunichar c)
{
  /* Latin letters of small orthographies (Esperanto, Welsh, Maltese...) */
  static const gunichar uncommon[] = { 0x108, 0x109, 0x11C, 0x11D, 0x124, 0x125, 0x126, 0x127, 0x134, 0x135,
                                       0x138, 0x13F, 0x140, 0x149, 0x14A, 0x14B, 0x15C, 0x15D, 0x166, 0x167,
                                       0x16C, 0x16D, 0x174, 0x175, 0x176, 0x177, 0x132, 0x133 };
  if (c >= 0x100 && c < 0x180)
    for (guint i = 0; i < G_N_ELEMENTS (uncommon); i++)
      if (uncommon[i] == c)
        return 1;
  Klass k = klass (c);
  switch (k)
    {
    case K_C1:
      return 6;
    case K_RARE:
      return (c >= 0x2500 && c <= 0x259F) ? 1 : 4;
    default:
      return 0;
    }
}

REPAIR_SCORING static int
pair_penalty_of (gunichar a, gunichar b)
{
  Klass ka = klass (a), kb = klass (b);
  int p = 0;
  if (is_letter_k (ka) && is_symbolish (b, kb))
    p += 2;
  /* Spanish ¿ and ¡ open a sentence: before a letter they are punctuation */
  if (is_symbolish (a, ka) && is_letter_k (kb) && a != 0xBF && a != 0xA1
      && (ka != K_SYMBOL || b < 0x80 || repair_script (b) == G_UNICODE_SCRIPT_LATIN))
    p += 2;
  if (is_symbolish (a, ka) && is_symbolish (b, kb))
    p += 1;
  if (ka == K_LOWER && kb == K_UPPER && b > 0x7F)
    p += 3;   /* "rÃ©gime", "pagrÄŻstai" */
  else if (ka == K_LOWER && kb == K_UPPER && a > 0x7F)
    p += 2;
  if (is_letter_k (ka) && is_letter_k (kb) && a > 0x7F && b > 0x7F)
    {
      GUnicodeScript sa = repair_script (a), sb = repair_script (b);
      if (sa != sb && sa != G_UNICODE_SCRIPT_COMMON && sb != G_UNICODE_SCRIPT_COMMON
          && sa != G_UNICODE_SCRIPT_INHERITED && sb != G_UNICODE_SCRIPT_INHERITED)
        p += 4;
    }
  else if (is_letter_k (ka) && is_letter_k (kb) && (a > 0x7F) != (b > 0x7F))
    {
      /* ASCII Latin next to a letter of another script (Greek is common in
       * science: IL2Rγc) */
      GUnicodeScript s = repair_script (a > 0x7F ? a : b);
      if (s == G_UNICODE_SCRIPT_GREEK)
        p += 1;
      else if (s != G_UNICODE_SCRIPT_LATIN && s != G_UNICODE_SCRIPT_COMMON && s != G_UNICODE_SCRIPT_INHERITED)
        p += 3;
    }
  if (kb == K_MARK && (ka == K_SPACE || ka == K_C1))
    p += 3;
  if (kb == K_MARK && is_letter_k (ka))
    {
      /* a combining mark of another script than its base letter */
      GUnicodeScript sm = repair_script (b), sl = repair_script (a);
      if (sm != G_UNICODE_SCRIPT_INHERITED && sm != G_UNICODE_SCRIPT_COMMON && sm != sl)
        p += 4;
    }
  if (kb == K_FFFD && is_letter_k (ka) && a > 0x7F)
    p += 2;   /* "SlovenÄ�ina": a lead whose continuation was lost */
  if (kb == K_QUOTE && b > 0x7F && is_letter_k (ka) && b != 0x2019 && b != 0x201D)
    p += 1;   /* a letter followed by an opening quote */
  return p;
}

/* The penalty of two ASCII characters side by side, from a table: most
 * pairs a window holds are ASCII. */
static gint8 ascii_pairs[128][128];

static void
ascii_pairs_init (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      for (gunichar a = 0; a < 128; a++)
        for (gunichar b = 0; b < 128; b++)
          ascii_pairs[a][b] = (gint8) pair_penalty_of (a, b);
      g_once_init_leave (&done, 1);
    }
}

static inline int
pair_penalty (gunichar a, gunichar b)
{
  return (a | b) < 0x80 ? ascii_pairs[a][b] : pair_penalty_of (a, b);
}

/* How much more likely @lead opens a mojibake cluster in @cp than a word. */
static int
lead_prior (const CodePage *cp, gunichar lead, gunichar second)
{
  if (g_str_equal (cp->name, "cp1252"))
    {
      switch (lead)
        {
        case 0xC3:   /* Ã */
        case 0xC2:   /* Â */
          return is_symbolish (second, klass (second)) || klass (second) == K_SPACE
                 || (klass (second) == K_QUOTE && second != 0x2019) ? 3 : 1;
        case 0xE2:   /* â followed by €/‚/„ etc. */
          return second == 0x20AC || second == 0x201A || second == 0x201E || second == 0x0153 ? 4 : 1;
        case 0xD0: case 0xD1: case 0xD7: case 0xD8: case 0xD9: case 0xCE: case 0xCF:
        case 0xC4: case 0xC5: case 0xE0: case 0xE5: case 0xE6: case 0xE7: case 0xE8: case 0xE9:
        case 0xEA: case 0xEB: case 0xEC: case 0xED: case 0xEF: case 0xF0:
          return 1;
        default:
          return 0;
        }
    }
  if (g_str_equal (cp->name, "mac-roman") && (lead == 0x221A || lead == 0x0192 || lead == 0x2248))
    return 1;   /* √ ƒ ≈: C3, C4, C5 */
  if (g_str_equal (cp->name, "mac-roman") && lead == 0x25CA)
    return 2;   /* ◊: D7, Hebrew */
  /* a raw C1 control is what ISO-8859-2 (not cp1250) leaves behind */
  if (g_str_equal (cp->name, "iso-8859-2") && second >= 0x80 && second <= 0x9F)
    return 1;
  if (g_str_equal (cp->name, "cp1251") && (lead == 0x0420 || lead == 0x0421 || lead == 0x0413 || lead == 0x0432))
    return 2;   /* Р С: D0 D1 */
  if (g_str_equal (cp->name, "cp437") && (lead == 0x2500 || lead == 0x251C || lead == 0x2524 || lead == 0x252C
                                          || lead == 0x2534 || lead == 0x253C || lead == 0x00DF || lead == 0x2229))
    return 2;
  return 0;
}

/* ---- clusters -------------------------------------------------------------- */

static gboolean
is_token_space (gunichar c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of the token that starts at u[@s]; *@ascii tells whether it is
 * all ASCII (nothing to repair in it). */
static guint
token_end (const gunichar *u, guint n, guint s, gboolean *ascii)
{
  guint e = s;
  *ascii = TRUE;
  while (e < n && !is_token_space (u[e]))
    *ascii &= u[e] < 0x80, e++;
  return e;
}

typedef struct {
  guint    len;        /* characters replaced */
  gunichar out[2];     /* the replacement (2 for a lone lead restored with a space) */
  guint    n_out;
  int      gain;
  const CodePage *cp;
} Candidate;

REPAIR_SCORING static int
window_penalty (gunichar prev, const gunichar *mid, guint n, gunichar next)
{
  int p = 0;
  gunichar a = prev;
  for (guint i = 0; i < n; i++)
    {
      p += char_penalty (mid[i]) + pair_penalty (a, mid[i]);
      a = mid[i];
    }
  return p + pair_penalty (a, next);
}

/* Looks for a cluster of @cp at u[i]; fills @cand on success. */
static gboolean
try_cluster (const CodePage *cp, const gunichar *u, guint n, guint i, gunichar prev, Candidate *cand)
{
  guint b0 = enc_byte (cp, u[i]);
  if (b0 == 0)
    return FALSE;
  b0--;
  int need = repair_utf8_length (b0);
  if (need == 0)
    return FALSE;
  guint8 bytes[8] = { (guint8) b0 };
  int got = 1;
  gboolean lost = FALSE;   /* a continuation became U+FFFD or '?' */
  for (; got < need && i + got < n; got++)
    {
      gunichar c = u[i + got];
      guint b = enc_byte (cp, c);
      if (b != 0 && b - 1 >= 0x80 && b - 1 <= 0xBF)
        bytes[got] = b - 1;
      else if (c == ' ' && cp->nbsp_a0 && got == need - 1 && i + got + 1 < n && u[i + got + 1] != ' '
               && (bytes[0] == 0xC2 ? (i > 0 && !is_token_space (u[i - 1])) : (i == 0 || is_token_space (u[i - 1])))
               && !(need == 2 && bytes[0] == 0xC3))
        /* a no-break space that became a space: "Å veices" (Š), "namedÂ „" (no-break
         * space); not "Ã " (à), which the lone-à rule handles */
        bytes[got] = 0xA0;
      else if (c == ' ' && cp->nbsp_a0 && need == 3 && got == 1 && i + 2 < n
               && (i == 0 || is_token_space (u[i - 1])))
        {
          /* the middle byte of a three-byte character was the no-break
           * space: "â € " for U+2800, a lead alone between spaces and a
           * continuation after it */
          guint b2 = enc_byte (cp, u[i + 2]);
          if (b2 == 0 || b2 - 1 < 0x80 || b2 - 1 > 0xBF)
            break;
          bytes[got] = 0xA0;
        }
      else if ((c == 0xFFFD || c == '?') && got >= 1)
        {
          lost = TRUE;
          bytes[got] = 0x80;
        }
      else
        break;
    }
  if (got < need)
    return FALSE;
  gboolean surrogate;
  gunichar d = repair_utf8_decode (bytes, need, &surrogate);
  if (d == 0 && !lost)
    return FALSE;
  guint len = need;
  if (surrogate && !lost)
    {
      /* CESU-8: a surrogate pair encoded as two 3-byte sequences */
      if (d > 0xDBFF || i + 6 > n)
        return FALSE;
      guint8 low[3];
      for (int k = 0; k < 3; k++)
        {
          guint b = enc_byte (cp, u[i + 3 + k]);
          if (b == 0)
            return FALSE;
          low[k] = b - 1;
        }
      gboolean s2;
      gunichar d2 = low[0] == 0xED ? repair_utf8_decode (low, 3, &s2) : 0;
      if (d2 < 0xDC00 || d2 > 0xDFFF)
        return FALSE;
      d = 0x10000 + ((d - 0xD800) << 10) + (d2 - 0xDC00);
      len = 6;
    }
  if (lost)
    {
      /* the byte is gone: the character cannot be known */
      /* "Ã?": a two-byte character whose continuation became '?'; only
       * for the leads that are almost never followed by '?' in real text */
      if (need == 2 && u[i + 1] == '?' && !(g_str_equal (cp->name, "cp1252") && (u[i] == 0xC3 || u[i] == 0xC2)))
        return FALSE;
      d = 0xFFFD;
    }
  gunichar next = i + len < n ? u[i + len] : 0;
  int before = window_penalty (prev, u + i, len, next);
  int after = window_penalty (prev, &d, 1, next);
  int gain = before - after + lead_prior (cp, u[i], u[i + 1]);
  if (lost)
    gain -= 2;
  cand->len = len;
  cand->out[0] = d;
  cand->n_out = 1;
  cand->gain = gain;
  cand->cp = cp;
  return TRUE;
}

/* Penalty of a token: its characters, adjacent pairs with the neighbours
 * outside it, and lower-case non-ASCII letters inside an upper-case word. */
static int
token_penalty (gunichar before, const gunichar *t, guint n, gunichar after)
{
  int p = window_penalty (before, t, n, after);
  guint upper = 0, lower_ascii = 0;
  for (guint i = 0; i < n; i++)
    {
      Klass k = klass (t[i]);
      upper += k == K_UPPER;
      lower_ascii += k == K_LOWER && t[i] < 0x80;
    }
  if (upper >= 2 && lower_ascii == 0)
    for (guint i = 0; i < n; i++)
      if (klass (t[i]) == K_LOWER)
        p += 4;
  /* one word, one script: a reading that mixes three scripts is noise */
  GUnicodeScript scripts[4];
  guint n_scripts = 0;
  for (guint i = 0; i < n && n_scripts < 4; i++)
    {
      if (t[i] < 0x80 || !is_letter_k (klass (t[i])))
        continue;
      GUnicodeScript sc = repair_script (t[i]);
      if (sc == G_UNICODE_SCRIPT_COMMON || sc == G_UNICODE_SCRIPT_INHERITED)
        continue;
      gboolean seen = FALSE;
      for (guint k = 0; k < n_scripts; k++)
        seen |= scripts[k] == sc;
      if (!seen)
        scripts[n_scripts++] = sc;
    }
  if (n_scripts >= 3)
    p += 10 * (n_scripts - 2);
  /* a lone non-ASCII capital as a word ("Å veices") */
  if (n == 1 && t[0] > 0x7F && klass (t[0]) == K_UPPER && repair_script (t[0]) == G_UNICODE_SCRIPT_LATIN
      && (before == 0 || klass (before) == K_SPACE)
      && (after == 0 || klass (after) == K_SPACE))
    p += 1;
  /* "MĂĄm": an upper-case non-ASCII letter between an upper and a lower case one */
  for (guint i = 1; i + 1 < n; i++)
    if (t[i] > 0x7F && klass (t[i]) == K_UPPER && klass (t[i - 1]) == K_UPPER && klass (t[i + 1]) == K_LOWER)
      p += 2;
  return p;
}


/* The pages in which some character of @u is a UTF-8 lead: the only
 * pages in which a cluster can start there. */
static guint32
lead_pages (const MojibakeTables *t, const gunichar *u, guint n)
{
  const RepairPages *pages = t->pages[0].pages;
  guint32 mask = 0;
  for (guint i = 0; i < n; i++)
    if (u[i] >= 0x80)
      {
        const RepairPageRow *row = repair_pages_row (pages, u[i]);
        if (row != NULL)
          mask |= row->lead_mask;
      }
  return mask;
}

/* The lowest penalty of @t read once more in any code page: a first
 * reading may itself be mojibake of another layer ("prÐ“Â©sent" reads as
 * "prГ©sent" in cp1252, which reads as "présent" in cp1251). */
static int
second_layer_penalty (const MojibakeTables *t, const gunichar *w, guint n, gunichar before, gunichar after)
{
  int best = G_MAXINT;
  guint32 leads = lead_pages (t, w, n);
  if (leads == 0)
    return best;
  g_autoptr(GArray) trial = g_array_sized_new (FALSE, FALSE, sizeof (gunichar), n);
  for (guint p = 0; p < t->n_pages; p++)
    {
      if (!(leads & (1u << p)))
        continue;
      g_array_set_size (trial, 0);
      guint clusters = 0;
      for (guint i = 0; i < n;)
        {
          Candidate cand;
          gunichar prev = trial->len > 0 ? g_array_index (trial, gunichar, trial->len - 1) : before;
          if (w[i] >= 0x80 && try_cluster (&t->pages[p], w, n, i, prev, &cand) && cand.out[0] != 0xFFFD)
            {
              g_array_append_vals (trial, cand.out, cand.n_out);
              i += cand.len;
              clusters++;
            }
          else
            {
              g_array_append_val (trial, w[i]);
              i++;
            }
        }
      if (clusters == 0)
        continue;
      best = MIN (best, token_penalty (before, (const gunichar *) trial->data, trial->len, after));
    }
  return best;
}

/* TRUE when the line holds a punctuation mark or symbol of three or more
 * UTF-8 bytes, between ASCII characters, whose bytes @cp all defines: had
 * the line been decoded with @cp, it would be a cluster. */
static gboolean
has_witness (const CodePage *cp, const gunichar *u, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      if (u[i] < 0x800 || (i > 0 && u[i - 1] >= 0x80) || (i + 1 < n && u[i + 1] >= 0x80))
        continue;
      Klass kc = klass (u[i]);
      if (kc != K_PUNCT && kc != K_QUOTE && kc != K_SYMBOL)
        continue;
      char buf[6];
      int len = g_unichar_to_utf8 (u[i], buf);
      gboolean all = TRUE;
      for (int k = 0; k < len && all; k++)
        all = cp->dec[(guchar) buf[k]] > 0x9F;   /* defined, not a C1 control passed through */
      if (all)
        return TRUE;
    }
  return FALSE;
}

/* Code pages whose readings of the line are not to be trusted. A broken
 * cluster is a lead followed by fewer continuations than it needs, then
 * something else ("ã†â" in cp1252: E3 86 E2). Text damaged by a code
 * page consists of complete clusters (or clusters that lost a byte to
 * U+FFFD or '?'); when most of them are broken, the text was changed after
 * the damage (lower-cased, cut, retyped), or the characters were never
 * mojibake in that code page, and rebuilding bytes from it only makes new
 * noise. That page is left out for the line; and when its broken clusters
 * outnumber the complete ones of every other page, the other pages only
 * explain the same characters by chance, and the whole line is left. */
static guint32
broken_pages (const MojibakeTables *t, const gunichar *u, guint n)
{
  guint32 veto = 0;
  guint most_broken = 0, most_complete = 0;
  /* a page in which no character of the line is a lead has neither
   * complete nor broken clusters: nothing to count */
  guint32 leads = lead_pages (t, u, n);
  for (guint p = 0; p < t->n_pages; p++)
    {
      if (!(leads & (1u << p)))
        continue;
      const CodePage *cp = &t->pages[p];
      guint complete = 0, broken = 0;
      for (guint i = 0; i < n; i++)
        {
          if (u[i] < 0x80)
            continue;
          guint b0 = enc_byte (cp, u[i]);
          int need = b0 != 0 ? repair_utf8_length (b0 - 1) : 0;
          if (need == 0)
            continue;
          guint8 bytes[4] = { (guint8) (b0 - 1) };
          gboolean lost = FALSE;
          int k = 1;
          while (k < need && i + k < n)
            {
              gunichar c = u[i + k];
              guint b = enc_byte (cp, c);
              if (b != 0 && b - 1 >= 0x80 && b - 1 <= 0xBF)
                bytes[k] = (guint8) (b - 1);
              else if (c == 0xFFFD || (c == '?' && need > 2 && k > 1))
                lost = TRUE;
              else
                break;
              k++;
            }
          if (k == need)
            {
              /* complete, and decodes to a character text has: C1
               * controls and rare letters are chance */
              gboolean surrogate = FALSE;
              gunichar d = lost ? 0xFFFD : repair_utf8_decode (bytes, need, &surrogate);
              if (d != 0 && (surrogate || char_penalty (d) == 0))
                complete++;
              i += k - 1;
            }
          else if (k > 1)
            broken++, i += k - 1;
        }
      /* an intact character that this page would have turned into three
       * or four characters ("–" for "â€“"), and a single cluster: the
       * line is not damaged text, the cluster is a real word */
      if (complete == 1 && broken == 0 && has_witness (cp, u, n))
        veto |= 1u << p;
      if (broken >= 3 && broken > complete)
        {
          veto |= 1u << p;
          most_broken = MAX (most_broken, broken);
        }
      else
        most_complete = MAX (most_complete, complete);
    }
  if (most_broken > most_complete)
    veto = ~0u;
  return veto;
}

/* One pass over a line: each whitespace-separated token is decoded as a
 * whole in each code page, and the best reading replaces it when it is
 * clearly more plausible. */
static gboolean
repair_pass (const MojibakeTables *t, const gunichar *u, guint n, GArray *out, GHashTable *kinds,
             guint32 *confident, guint32 bonus, guint32 veto)
{
  gboolean changed = FALSE;
  /* raw C1 controls in the line: the decoder was ISO-8859-x, not Windows */
  gboolean has_c1 = FALSE;
  for (guint i = 0; i < n && !has_c1; i++)
    has_c1 = u[i] >= 0x80 && u[i] <= 0x9F;
  g_autoptr(GArray) best = g_array_new (FALSE, FALSE, sizeof (gunichar));
  g_autoptr(GArray) trial = g_array_new (FALSE, FALSE, sizeof (gunichar));
  /* what is kept as it came (spaces, ASCII tokens, tokens no page
   * repairs) is copied in runs, from u[copied] on */
  guint copied = 0;
  for (guint s = 0; s < n;)
    {
      if (is_token_space (u[s]))
        {
          s++;
          continue;
        }
      gboolean ascii;
      guint e = token_end (u, n, s, &ascii);
      if (ascii)
        {
          s = e;
          continue;
        }
      g_array_append_vals (out, u + copied, s - copied);
      copied = s;
      gunichar before = out->len > 0 ? g_array_index (out, gunichar, out->len - 1) : 0;
      gunichar after = e < n ? u[e] : 0;
      int base = G_MININT;   /* token_penalty of the token, once a page reads some of it */
      int best_gain = 0;
      guint best_end = e;
      guint best_clusters = 0;
      const CodePage *best_cp = NULL;
      guint32 leads = lead_pages (t, u + s, e - s);
      for (guint p = 0; p < t->n_pages; p++)
        {
          const CodePage *cp = &t->pages[p];
          if ((veto & (1u << p)) || !(leads & (1u << p)))
            continue;
          g_array_set_size (trial, 0);
          guint clusters = 0;
          int prior = 0;
          guint end_cp = e;   /* grows when a space turns out to be a lost no-break space */
          for (guint i = s; i < end_cp;)
            {
              Candidate cand;
              gunichar prev = trial->len > 0 ? g_array_index (trial, gunichar, trial->len - 1) : before;
              if (u[i] >= 0x80 && try_cluster (cp, u, i + 4 < n ? MIN (n, end_cp + 4) : n, i, prev, &cand))
                {
                  g_array_append_vals (trial, cand.out, cand.n_out);
                  gboolean lost_byte = cand.out[0] == 0xFFFD && cand.len > 1 && (u[i + 1] == 0xFFFD || u[i + 1] == '?'
                                                                                 || (cand.len > 2 && (u[i + 2] == 0xFFFD || u[i + 2] == '?')));
                  prior += lead_prior (cp, u[i], i + 1 < e ? u[i + 1] : 0) - (lost_byte ? 1 : 0);
                  /* "Â" + no-break space after a capital: "Â" ends upper-case
                   * words (Portuguese, Romanian); mojibake there needs the
                   * evidence of the rest of the line */
                  if (u[i] == 0xC2 && cand.len == 2 && klass (u[i + 1]) == K_SPACE && i > 0 && klass (u[i - 1]) == K_UPPER)
                    prior -= 2;
                  i += cand.len;
                  clusters++;
                  if (i > end_cp)
                    {
                      end_cp = i;
                      while (end_cp < n && !is_token_space (u[end_cp]))
                        end_cp++;
                    }
                }
              else
                {
                  g_array_append_val (trial, u[i]);
                  i++;
                }
            }
          if (clusters == 0)
            continue;
          gunichar after_cp = end_cp < n ? u[end_cp] : 0;
          if (end_cp == e && base == G_MININT)
            base = token_penalty (before, u + s, e - s, after);
          int base_cp = end_cp == e ? base : token_penalty (before, u + s, end_cp - s, after_cp);
          int pen = token_penalty (before, (const gunichar *) trial->data, trial->len, after_cp);
          if (pen > 0)
            {
              /* judge a reading by what a second layer would make of it */
              int pen2 = second_layer_penalty (t, (const gunichar *) trial->data, trial->len, before, after_cp);
              if (pen2 != G_MAXINT && pen2 + 2 < pen)
                pen = pen2 + 2;
            }
          int gain = base_cp - pen + MIN (prior, 4);
          /* the same code page already fixed another word of this line */
          if (bonus & (1u << p))
            gain += 3;
          if (has_c1 && !cp->sloppy_c1)
            gain += 1;
          if (gain >= 4 && confident != NULL)
            *confident |= 1u << p;
          if (gain > best_gain)
            {
              best_gain = gain;
              best_end = end_cp;
              best_cp = cp;
              best_clusters = clusters;
              g_array_set_size (best, 0);
              g_array_append_vals (best, trial->data, trial->len);
            }
        }
      if (best_cp != NULL && best_gain >= 3)
        {
          g_array_append_vals (out, best->data, best->len);
          changed = TRUE;
          gint64 *count = g_hash_table_lookup (kinds, best_cp->name);
          if (count == NULL)
            {
              count = g_new0 (gint64, 1);
              g_hash_table_insert (kinds, (gpointer) best_cp->name, count);
            }
          *count += best_clusters;
          e = best_end;
          copied = e;
        }
      /* else the token stays as it came: "voilÃ le" is an à whose
       * no-break space became a space */
      s = e;
    }
  g_array_append_vals (out, u + copied, n - copied);
  return changed;
}

/* "voilÃ le", "Ã s'éloigner": an à whose no-break space byte became a
 * space or was lost. */
static gboolean
repair_lone_a_grave (GArray *text)
{
  gboolean changed = FALSE;
  gunichar *u = (gunichar *) text->data;
  for (guint i = 0; i < text->len; i++)
    {
      /* Ã in cp1252, Г in cp1251: byte C3 */
      if ((u[i] != 0xC3 && u[i] != 0x0413) || i + 2 >= text->len || u[i + 1] != ' ')
        continue;
      if (u[i] == 0x0413 && (i == 0 || klass (u[i - 1]) != K_SPACE || u[i + 2] >= 0x80))
        continue;
      gunichar prev = i > 0 ? u[i - 1] : 0;
      Klass kp = klass (prev);
      if (!(kp == K_LOWER || kp == K_SPACE || prev == '\'' || prev == 0x2019))
        continue;
      if (u[i + 2] == ' ')
        {
          /* "voilÃ  le": the first space was the no-break space */
          u[i] = 0xE0;
          g_array_remove_index (text, i + 1);
          u = (gunichar *) text->data;
          changed = TRUE;
          continue;
        }
      if (klass (u[i + 2]) != K_LOWER)
        continue;
      u[i] = 0xE0;
      changed = TRUE;
      /* Portuguese contractions "às", "àquele": there the space was the lost byte */
      static const char *const contractions[] = { "s", "quele", "quela", "queles", "quelas", "quilo", NULL };
      guint w = i + 2;
      while (w < text->len && klass (u[w]) == K_LOWER && u[w] < 0x80)
        w++;
      g_autofree gunichar *word = g_memdup2 (u + i + 2, (w - i - 2) * sizeof (gunichar));
      g_autofree char *word8 = g_ucs4_to_utf8 (word, w - i - 2, NULL, NULL, NULL);
      if (kp == K_SPACE && word8 != NULL && g_strv_contains (contractions, word8)
          && (w >= text->len || klass (u[w]) == K_SPACE || u[w] == ',' || u[w] == '.'))
        {
          g_array_remove_index (text, i + 1);
          u = (gunichar *) text->data;
        }
    }
  return changed;
}

/* TRUE when the ASCII letters from u[at] going back (@dir -1) or forward
 * (+1), lower-cased, form one of the words of @list and are not followed
 * by a non-ASCII letter. */
static gboolean
word_is (const gunichar *u, guint n, guint at, int dir, const char *const *list)
{
  char w[8];
  guint len = 0;
  gint64 i = at;
  for (; i >= 0 && i < n && g_ascii_isalpha (u[i]); i += dir)
    {
      if (len + 1 >= sizeof w)
        return FALSE;
      w[len++] = (char) g_ascii_tolower (u[i]);
    }
  if (len == 0 || (i >= 0 && i < n && repair_isalpha (u[i])))
    return FALSE;
  if (dir < 0)
    for (guint k = 0; k < len / 2; k++)
      {
        char c = w[k];
        w[k] = w[len - 1 - k];
        w[len - 1 - k] = c;
      }
  w[len] = '\0';
  for (guint k = 0; list[k] != NULL; k++)
    if (strcmp (list[k], w) == 0)
      return TRUE;
  return FALSE;
}

/* TRUE when an apostrophe between u[i - 1] and u[i + 1] is plausible: an
 * English contraction or a French or Italian elision. */
static gboolean
apostrophe_context (const gunichar *u, guint n, guint i)
{
  static const char *const suffixes[] = { "s", "t", "re", "ve", "ll", "d", "m", NULL };
  static const char *const elisions[] = { "l", "d", "j", "m", "n", "s", "t", "c", "qu", "lorsqu", "jusqu",
                                          "puisqu", "quoiqu", "dell", "nell", "all", "sull", "dall", "coll",
                                          "quell", "bell", "un", "po", "tutt", "sant", "anch", NULL };
  return word_is (u, n, i + 1, 1, suffixes) || word_is (u, n, i - 1, -1, elisions);
}

/* C1 controls left over: text that was Windows-1252 read as Latin-1, or
 * (between two lower-case letters, where the Windows-1252 character is a
 * symbol or an apostrophe no contraction explains) Mac Roman read as
 * Latin-1, whose bytes 80-9F are all accented letters: "tur\x92stico" is
 * "turístico". */
static gint64
fix_c1 (const MojibakeTables *t, GArray *text, gint64 *as_mac)
{
  const CodePage *mac = NULL;
  for (guint p = 0; p < t->n_pages; p++)
    if (g_str_equal (t->pages[p].name, "mac-roman"))
      mac = &t->pages[p];
  gint64 n = 0;
  gunichar *u = (gunichar *) text->data;
  for (guint i = 0; i < text->len; i++)
    {
      gunichar c = u[i];
      if (c < 0x80 || c > 0x9F)
        continue;
      gunichar fixed = repair_cp1252_c1 (c);
      if (mac != NULL && i > 0 && i + 1 < text->len && klass (u[i - 1]) == K_LOWER && klass (u[i + 1]) == K_LOWER
          && repair_script (u[i - 1]) == G_UNICODE_SCRIPT_LATIN
          && repair_script (u[i + 1]) == G_UNICODE_SCRIPT_LATIN
          && !is_letter_k (klass (fixed)) && fixed != 0x2013 && fixed != 0x2014
          && (fixed != 0x2019 || !apostrophe_context (u, text->len, i)))
        {
          u[i] = mac->dec[c];
          (*as_mac)++;
          continue;
        }
      if (fixed != c)
        {
          u[i] = fixed;
          n++;
        }
    }
  return n;
}

/* g_ucs4_to_utf8() of @u (@n characters) in one pass: what it writes for
 * characters below U+200000, which are all a reading holds (it falls
 * back to GLib for others). The result is NUL-terminated, its length in
 * *@written. */
static char *
ucs4_to_utf8 (const gunichar *u, guint n, gsize *written)
{
  char *out = g_malloc ((gsize) n * 4 + 1);
  guchar *o = (guchar *) out;
  for (guint i = 0; i < n; i++)
    {
      gunichar c = u[i];
      if (c < 0x80)
        *o++ = (guchar) c;
      else if (c < 0x800)
        {
          o[0] = (guchar) (0xC0 | (c >> 6));
          o[1] = (guchar) (0x80 | (c & 0x3F));
          o += 2;
        }
      else if (c < 0x10000)
        {
          o[0] = (guchar) (0xE0 | (c >> 12));
          o[1] = (guchar) (0x80 | ((c >> 6) & 0x3F));
          o[2] = (guchar) (0x80 | (c & 0x3F));
          o += 3;
        }
      else if (c < 0x200000)
        {
          o[0] = (guchar) (0xF0 | (c >> 18));
          o[1] = (guchar) (0x80 | ((c >> 12) & 0x3F));
          o[2] = (guchar) (0x80 | ((c >> 6) & 0x3F));
          o[3] = (guchar) (0x80 | (c & 0x3F));
          o += 4;
        }
      else
        {
          g_free (out);
          glong len = 0;
          out = g_ucs4_to_utf8 (u, n, NULL, &len, NULL);
          *written = out != NULL ? (gsize) len : 0;
          return out;
        }
    }
  *o = '\0';
  *written = (gsize) (o - (guchar *) out);
  return out;
}

static void
append_ucs4 (GString *out, const gunichar *u, guint n)
{
  for (guint i = 0; i < n; i++)
    g_string_append_unichar (out, u[i]);
}

static void
count_kind (GHashTable *kinds, const char *name, gint64 n)
{
  gint64 *count = g_hash_table_lookup (kinds, name);
  if (count == NULL)
    {
      count = g_new0 (gint64, 1);
      g_hash_table_insert (kinds, (gpointer) name, count);
    }
  *count += n;
}

/* What the lines of one document add up to. */
typedef struct {
  GHashTable   *kinds;      /* page name -> gint64* characters repaired */
  gint64        c1_total;
  gint64        c1_mac;
  gint64        lossy_restored;
  gint64        lossy_undecided;
  RepairReading reading;
  GArray       *best;       /* gunichar */
  GArray       *tried;      /* guint16: the bytes of the last page read */
  gint64        votes[REPAIR_MAX_PAGES];   /* characters read back per page */
  int           hint_page;  /* the page that garbled the document; -1 not known yet, -2 none */
  gboolean      deferred;   /* the last line read is one character short of sure */
} DocWork;

/* The word-by-word repair of one line (@u, @n characters); TRUE when it
 * changed, the result in @cur. */
static gboolean
repair_words (const MojibakeTables *t, const gunichar *u, glong n, GArray *cur, DocWork *w)
{
  g_array_set_size (cur, 0);
  g_array_append_vals (cur, u, n);
  gboolean line_changed = FALSE;
  /* judged on the line as it came: later passes see half-repaired text */
  guint32 veto = broken_pages (t, u, n);
  /* the passes' scratch, emptied for each */
  g_autoptr(GArray) next = g_array_sized_new (FALSE, FALSE, sizeof (gunichar), n);
  g_autoptr(GArray) probe = g_array_sized_new (FALSE, FALSE, sizeof (gunichar), n);
  g_autoptr(GHashTable) scratch = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  /* passes until nothing changes; the lone-à and C1 rules can expose
   * new clusters, so they are part of the loop */
  for (int round = 0; round < MAX_PASSES; round++)
    {
      gboolean round_changed = FALSE;
      for (int pass = 0; pass < MAX_PASSES; pass++)
        {
          g_array_set_size (next, 0);
          g_array_set_size (probe, 0);
          g_hash_table_remove_all (scratch);
          /* first look at the whole line to learn which code pages it
           * surely went through, then decide with that knowledge */
          guint32 confident = 0;
          /* a page is confident only where the probe changed a word, and
           * with no page confident the second pass is the probe again:
           * its result and counts are taken as they are */
          if (!repair_pass (t, (const gunichar *) cur->data, cur->len, probe, scratch, &confident, 0, veto))
            break;
          if (confident == 0)
            {
              GHashTableIter it;
              gpointer key, value;
              g_hash_table_iter_init (&it, scratch);
              while (g_hash_table_iter_next (&it, &key, &value))
                count_kind (w->kinds, key, *(gint64 *) value);
              g_array_append_vals (next, probe->data, probe->len);
            }
          else if (!repair_pass (t, (const gunichar *) cur->data, cur->len, next, w->kinds, NULL, confident, veto))
            break;
          round_changed = TRUE;
          g_array_set_size (cur, 0);
          g_array_append_vals (cur, next->data, next->len);
        }
      gboolean extra = FALSE;
      if (repair_lone_a_grave (cur))
        {
          extra = TRUE;
          count_kind (w->kinds, "cp1252", 1);
        }
      gint64 mac_before = w->c1_mac;
      gint64 c1 = fix_c1 (t, cur, &w->c1_mac);
      if (c1 > 0 || w->c1_mac > mac_before)
        extra = TRUE, w->c1_total += c1;
      line_changed |= round_changed || extra;
      if (!extra)
        break;
    }
  return line_changed;
}

/* Puts back the characters of every dropped-byte slot left undecided,
 * in place of its U+FFFD. */
static void
restore_undecided (RepairReading *rd)
{
  g_autoptr(GArray) text = g_array_sized_new (FALSE, FALSE, sizeof (gunichar), rd->text->len + 8);
  guint from = 0;
  for (guint k = 0; k < rd->slots->len; k++)
    {
      RepairSlot *slot = &g_array_index (rd->slots, RepairSlot, k);
      g_array_append_vals (text, (const gunichar *) rd->text->data + from, slot->at - from);
      from = slot->at + 1;
      guint at = text->len;
      if (slot->dropped && g_array_index (rd->text, gunichar, slot->at) == 0xFFFD)
        g_array_append_vals (text, slot->orig, slot->n_orig);
      else
        g_array_append_val (text, g_array_index (rd->text, gunichar, slot->at));
      slot->at = at;
    }
  g_array_append_vals (text, (const gunichar *) rd->text->data + from, rd->text->len - from);
  g_array_set_size (rd->text, 0);
  g_array_append_vals (rd->text, text->data, text->len);
}

/* The reading @rd as it is judged: for the Thai page, a U+0E42 left for
 * the punctuation step stands for a quote or a dash, not for a Thai
 * letter glued to the words (a copy in *@copy, to free). */
static const gunichar *
judged_text (RepairReading *rd, gboolean tis620, gunichar **copy)
{
  if (!tis620)
    return (const gunichar *) rd->text->data;
  *copy = g_memdup2 (rd->text->data, rd->text->len * sizeof (gunichar));
  for (guint i = 0; i < rd->text->len; i++)
    if ((*copy)[i] == 0x0E42)
      (*copy)[i] = 0x2019;
  return *copy;
}

/* The penalties of a line's tokens (token_penalty), summed. Tokens of
 * ASCII only weigh nothing: the scan goes from one non-ASCII character
 * to the next, and weighs the token around each. */
static int
line_penalty (const gunichar *u, guint n)
{
  int p = 0;
  for (guint i = 0; i < n;)
    {
      if (u[i] < 0x80)
        {
          i++;
          continue;
        }
      guint s = i;
      while (s > 0 && !is_token_space (u[s - 1]))
        s--;
      guint e = i + 1;
      while (e < n && !is_token_space (u[e]))
        e++;
      p += token_penalty (s > 0 ? u[s - 1] : 0, u + s, e - s, e < n ? u[e] : 0);
      i = e;
    }
  return p;
}

/* line_penalty() of the UTF-8 @line (valid, @len bytes), without turning
 * it into characters first: only its tokens with a non-ASCII byte are
 * found (eight bytes at a time) and decoded. */
static int
line_penalty_utf8 (const char *line, gsize len)
{
  const guchar *start = (const guchar *) line, *p = start, *end = p + len;
  gunichar small[256];
  int pen = 0;
  while (p < end)
    {
      p = repair_skip_ascii8 (p, end);
      if (p >= end)
        break;
      if (*p < 0x80)
        {
          p++;
          continue;
        }
      /* the token around the non-ASCII byte at p (the previous token, if
       * any, ended before p) */
      const guchar *s = p;
      while (s > start && !is_token_space (s[-1]))
        s--;
      while (p < end && !is_token_space (*p))
        p++;
      gsize bytes = (gsize) (p - s);
      gunichar *u = bytes <= G_N_ELEMENTS (small) ? small : g_new (gunichar, bytes);
      guint n = 0;
      for (const guchar *q = s; q < p;)
        {
          gunichar c = *q;
          int k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
          if (k == 2)
            c = ((c & 0x1F) << 6) | (q[1] & 0x3F);
          else if (k == 3)
            c = ((c & 0x0F) << 12) | ((q[1] & 0x3F) << 6) | (q[2] & 0x3F);
          else if (k == 4)
            c = ((c & 0x07) << 18) | ((q[1] & 0x3F) << 12) | ((q[2] & 0x3F) << 6) | (q[3] & 0x3F);
          u[n++] = c;
          q += k;
        }
      pen += token_penalty (s > start ? s[-1] : 0, u, n, p < end ? *p : 0);
      if (u != small)
        g_free (u);
    }
  return pen;
}

/* TRUE when @line has a Thai character glued to an ASCII letter or digit. */
static gboolean
thai_glued (const char *line, gsize len)
{
  const char *end = line + len;
  for (const char *p = line; p + 2 < end; p++)
    {
      if ((guchar) p[0] != 0xE0 || ((guchar) p[1] != 0xB8 && (guchar) p[1] != 0xB9))
        continue;
      if ((p > line && g_ascii_isalnum (p[-1])) || (p + 3 < end && g_ascii_isalnum (p[3])))
        return TRUE;
    }
  return FALSE;
}

/* TRUE when pages @a and @b lose the same bytes. */
static gboolean
same_losses (const RepairPage *a, const RepairPage *b)
{
  return a->n_lossy == b->n_lossy && memcmp (a->lossy, b->lossy, a->n_lossy) == 0 && a->tis620 == b->tis620;
}

/* Reads the line back whole through the one code page that explains all
 * of it (repair-reread.c); TRUE with the result in w->best. The reading
 * must be clearly more plausible than the line, on the same penalties the
 * word-by-word repair uses. */
static gboolean
reread_whole (const MojibakeTables *t, const char *line, gsize len, DocWork *w)
{
  const RepairPages *pages = t->pages[0].pages;
  RepairReading *rd = &w->reading;
  int pen_before = -1;   /* worked out when first needed */
  int best_score = G_MININT, best_fit = -1;
  guint best_page = 0, best_undecided = 0, best_restored = 0;
  GArray *tried = w->tried;
  guint tried_page = 0, tried_undecided = 0;
  g_array_set_size (tried, 0);
  guint32 candidates = repair_reread_pages (pages, line, len);
  for (guint p = 0; p < pages->n_pages && candidates != 0; p++)
    {
      if (!(candidates & (1u << p)))
        continue;
      /* pages that agree on every byte of the line read it alike,
       * unless the first left a U+FFFD undecided and the other loses
       * different bytes (cp1252 and cp1254: „ is E2 80 9E, and only
       * cp1254 leaves 9E undefined); a dropped byte is no such sign.
       * The bytes are compared before the line is read again. */
      if (tried->len > 0 && (tried_undecided == 0 || same_losses (&pages->page[tried_page], &pages->page[p]))
          && repair_reread_same_bytes (pages, p, line, len, tried))
        continue;
      if (!repair_reread_line (pages, p, line, len, rd))
        continue;
      tried_page = p;
      tried_undecided = 0;
      g_array_set_size (tried, 0);
      g_array_append_vals (tried, rd->bytes->data, rd->bytes->len);
      /* on the Thai page, a line of Thai letters only whose penalty is
       * nil is read back only if every lost letter is decided (below):
       * the choice stops at the first that is not */
      gboolean thai_letters = pages->page[p].tis620 && thai_glued (line, len);
      gboolean all_or_none = FALSE;
      if (pages->page[p].tis620 && !thai_letters)
        {
          if (pen_before < 0)
            pen_before = line_penalty_utf8 (line, len);
          all_or_none = pen_before == 0;
        }
      guint undecided = repair_lossy_choose (rd, all_or_none);
      /* a U+FFFD the decoder wrote names a byte its page left undefined */
      tried_undecided = 0;
      for (guint k = 0; k < rd->slots->len; k++)
        {
          const RepairSlot *slot = &g_array_index (rd->slots, RepairSlot, k);
          tried_undecided += !slot->dropped && g_array_index (rd->text, gunichar, slot->at) == 0xFFFD;
        }
      if (all_or_none && undecided > 0)
        continue;
      g_autofree gunichar *placeholders = NULL;
      const gunichar *judged = judged_text (rd, pages->page[p].tis620, &placeholders);
      if (!repair_plausible (judged, rd->text->len, !pages->page[p].tis620, TRUE))
        continue;
      /* never a U+FFFD where the text had none: a dropped byte must be
       * decided, and a lead left alone needs a whole character elsewhere
       * in the line to show that this page garbled it */
      gboolean refused = FALSE;
      guint dropped_undecided = 0;
      /* ... or, for the Thai page, Thai letters glued to Latin ones */
      for (guint k = 0; k < rd->slots->len && !refused; k++)
        {
          const RepairSlot *slot = &g_array_index (rd->slots, RepairSlot, k);
          dropped_undecided += slot->dropped && g_array_index (rd->text, gunichar, slot->at) == 0xFFFD;
          refused = slot->dropped && slot->lone_lead && rd->clusters == 0 && !thai_letters;
        }
      /* ... unless the line is so plainly garbled that a U+FFFD for the
       * one character nothing decides is the better text; for the Thai
       * page, whose decoders lose most continuation bytes, the rest of
       * the line is repaired around such a character: where Thai letters
       * are glued to Latin ones (surely no Thai) it is marked with U+FFFD,
       * elsewhere it keeps the letters it came as */
      gboolean keep_undecided = FALSE;
      if (!refused && dropped_undecided > 0 && rd->clusters < 3 * dropped_undecided + 3)
        {
          if (!pages->page[p].tis620 || (rd->clusters == 0 && !thai_letters))
            continue;
          keep_undecided = !thai_letters;
        }
      if (refused)
        continue;
      if (keep_undecided)
        {
          /* the reading grows by the characters put back: judged anew */
          restore_undecided (rd);
          g_clear_pointer (&placeholders, g_free);
          judged = judged_text (rd, pages->page[p].tis620, &placeholders);
        }
      /* a single garbled character must gain more: "NICIODATĂ™" is a
       * Romanian word before a trademark sign, "monthâ€™s" is mojibake */
      gboolean single = rd->clusters + rd->slots->len < 2 && rd->slots->len == 0;
      int margin = single ? ((int) p == w->hint_page ? 1 : 3) : 2;
      /* Thai glued to a digit or a Latin letter ("ยฃ0.87" for "£0.87")
       * is no Thai word: a reading no worse than the line will do */
      if (thai_letters)
        margin = 0;
      /* four whole characters read back through the Thai page and every
       * lost letter decided: no Thai text reads back like that (its
       * letters are not UTF-8 leads and continuations in turn) */
      if (pages->page[p].tis620 && rd->clusters >= 4 && undecided == 0)
        margin = G_MININT;
      /* four whole characters and nothing lost: no clean text reads back
       * like that, and the checks above hold; fewer are weighed, and so
       * is cp437, whose box-drawing characters people draw with */
      if (rd->clusters >= 4 && rd->slots->len == 0 && !g_str_equal (pages->page[p].name, "cp437"))
        margin = G_MININT;
      int pen_after = margin == G_MININT ? 0 : line_penalty (judged, rd->text->len);
      if (margin != G_MININT && pen_before < 0)
        pen_before = line_penalty_utf8 (line, len);
      if (margin != G_MININT && pen_after + margin > pen_before)
        {
          /* the rest of the document may show that this page garbled it */
          if (single && w->hint_page == -1 && pen_after + 1 <= pen_before)
            w->deferred = TRUE;
          continue;
        }
      /* the page that explains the most characters; a slot counts less
       * than a clean character, an undecided one less still */
      int score = 4 * (int) rd->clusters + 2 * (int) (rd->slots->len - undecided) + (int) undecided;
      /* pages that explain the same bytes (cp1250 and ISO-8859-2) differ
       * in a few letters: the reading whose letters belong to one
       * language wins (worked out only for such a tie) */
      if (score == best_score)
        {
          if (best_fit < 0)
            best_fit = (int) repair_language_fit ((const gunichar *) w->best->data, w->best->len);
          int fit = (int) repair_language_fit ((const gunichar *) rd->text->data, rd->text->len);
          if (fit <= best_fit)
            continue;
          best_fit = fit;
        }
      else if (score > best_score)
        best_fit = -1;
      if (score >= best_score)
        {
          best_score = score;
          best_page = p;
          best_undecided = undecided;
          best_restored = rd->slots->len - undecided;
          g_array_set_size (w->best, 0);
          g_array_append_vals (w->best, rd->text->data, rd->text->len);
        }
    }
  if (best_score == G_MININT)
    return FALSE;
  w->deferred = FALSE;
  w->votes[best_page] += best_score / 4;
  count_kind (w->kinds, pages->page[best_page].name, MAX (best_score / 4, 1));
  w->lossy_restored += best_restored;
  w->lossy_undecided += best_undecided;
  return TRUE;
}

static gboolean
has_c1 (const char *text, gsize len)
{
  for (gsize i = 0; i + 1 < len; i++)
    if ((guchar) text[i] == 0xC2 && (guchar) text[i + 1] >= 0x80 && (guchar) text[i + 1] <= 0x9F)
      return TRUE;
  return FALSE;
}

typedef enum { LINE_KEPT, LINE_CHANGED, LINE_DEFERRED } LineOutcome;

/* Appends the repaired @line, whose scan gave @ev, to @out.
 * LINE_DEFERRED (nothing appended) when the line is one garbled character
 * that the document's other lines may vouch for; @w->hint_page set, it is
 * decided. */
static LineOutcome
repair_line (const MojibakeTables *t, const char *line, gsize len, RepairEvidence ev, GString *out, DocWork *w)
{
  const RepairPages *pages = t->pages[0].pages;
  if (ev == REPAIR_EVIDENCE_NONE)
    {
      g_string_append_len (out, line, len);
      return LINE_KEPT;
    }
  /* layer by layer while a whole reading exists (text garbled twice
   * reads back twice) */
  g_autofree char *cur = NULL;
  gsize cur_len = len;
  const char *text = line;
  for (int layer = 0; layer < 4 && ev != REPAIR_EVIDENCE_NONE; layer++)
    {
      w->deferred = FALSE;
      if (!reread_whole (t, text, cur_len, w))
        {
          if (layer == 0 && w->deferred)
            return LINE_DEFERRED;
          break;
        }
      gsize written = 0;
      char *next = ucs4_to_utf8 ((const gunichar *) w->best->data, w->best->len, &written);
      if (next == NULL)
        break;
      g_free (cur);
      cur = next;
      text = cur;
      cur_len = written;
      ev = repair_reread_scan (pages, text, cur_len);
    }
  if (cur != NULL && has_c1 (text, cur_len))
    {
      /* a C1 control is only right as one layer of two; with no second
       * layer read back, the word-by-word repair takes the line as it came */
      g_clear_pointer (&cur, g_free);
      text = line;
      cur_len = len;
      ev = REPAIR_EVIDENCE_STRONG;
    }
  if (ev <= REPAIR_EVIDENCE_DOUBTFUL)
    {
      g_string_append_len (out, text, cur_len);
      return cur != NULL ? LINE_CHANGED : LINE_KEPT;
    }
  /* what is left is word by word: mixed lines, stray clusters */
  glong n = 0;
  g_autofree gunichar *u = g_utf8_to_ucs4_fast (text, cur_len, &n);
  g_autoptr(GArray) words = g_array_sized_new (FALSE, FALSE, sizeof (gunichar), n);
  if (repair_words (t, u, n, words, w) && repair_plausible ((const gunichar *) words->data, words->len, FALSE, FALSE))
    {
      append_ucs4 (out, (const gunichar *) words->data, words->len);
      return LINE_CHANGED;
    }
  g_string_append_len (out, text, cur_len);
  return cur != NULL ? LINE_CHANGED : LINE_KEPT;
}

/* A line whose output waits for the rest of the document. */
typedef struct {
  gsize       at;     /* where its output goes in the result */
  const char *line;
  gsize       len;
} Deferred;

char *
mojibake_repair (const MojibakeTables *t, const char *text, gsize len, RepairLog *log)
{
  /* most documents have no line that can hold mojibake: find the first
   * one before setting anything up */
  const RepairPages *pages = t->pages[0].pages;
  const char *end = text + len;
  const char *first = NULL;
  RepairEvidence ev = REPAIR_EVIDENCE_NONE;
  for (const char *l = text; l < end && first == NULL;)
    {
      const char *nl = memchr (l, '\n', end - l);
      const char *l_end = nl ? nl + 1 : end;
      ev = repair_reread_scan (pages, l, l_end - l);
      if (ev != REPAIR_EVIDENCE_NONE)
        first = l;
      l = l_end;
    }
  if (first == NULL)
    return NULL;
  GString *result = g_string_sized_new (len);
  g_string_append_len (result, text, first - text);
  DocWork w = { 0 };
  w.kinds = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  repair_reading_init (&w.reading);
  w.best = g_array_new (FALSE, FALSE, sizeof (gunichar));
  w.tried = g_array_new (FALSE, FALSE, sizeof (guint16));
  w.hint_page = -1;
  gboolean any = FALSE;
  g_autoptr(GArray) deferred = g_array_new (FALSE, FALSE, sizeof (Deferred));
  const char *line = first;
  while (line < end)
    {
      const char *nl = memchr (line, '\n', end - line);
      const char *line_end = nl ? nl + 1 : end;
      /* the first line's scan is the one that found it */
      if (line != first)
        ev = repair_reread_scan (pages, line, line_end - line);
      LineOutcome o = repair_line (t, line, line_end - line, ev, result, &w);
      if (o == LINE_DEFERRED)
        {
          Deferred d = { result->len, line, line_end - line };
          g_array_append_val (deferred, d);
        }
      any |= o == LINE_CHANGED;
      line = line_end;
    }
  if (deferred->len > 0)
    {
      /* the page that read most of the document back vouches for its
       * single garbled characters */
      w.hint_page = -2;   /* decided: no more deferring */
      for (guint p = 0; p < t->n_pages; p++)
        if (w.votes[p] >= 2 && (w.hint_page < 0 || w.votes[p] > w.votes[w.hint_page]))
          w.hint_page = (int) p;
      GString *joined = g_string_sized_new (result->len + len / 8);
      gsize copied = 0;
      for (guint i = 0; i < deferred->len; i++)
        {
          const Deferred *d = &g_array_index (deferred, Deferred, i);
          g_string_append_len (joined, result->str + copied, d->at - copied);
          copied = d->at;
          any |= repair_line (t, d->line, d->len, repair_reread_scan (pages, d->line, d->len), joined, &w)
                 == LINE_CHANGED;
        }
      g_string_append_len (joined, result->str + copied, result->len - copied);
      g_string_free (result, TRUE);
      result = joined;
    }
  repair_reading_clear (&w.reading);
  g_array_unref (w.best);
  g_array_unref (w.tried);
  if (!any)
    {
      g_hash_table_unref (w.kinds);
      g_string_free (result, TRUE);
      return NULL;
    }
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, w.kinds);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      g_autofree char *kind = g_strconcat ("mojibake:utf8-as-", (const char *) key, NULL);
      repair_log_add (log, kind, *(gint64 *) value);
    }
  g_hash_table_unref (w.kinds);
  /* zero counts are not logged */
  repair_log_add (log, "c1-as-cp1252", w.c1_total);
  repair_log_add (log, "c1-as-mac-roman", w.c1_mac);
  repair_log_add (log, "lost-bytes-restored", w.lossy_restored);
  repair_log_add (log, "lost-bytes-undecided", w.lossy_undecided);
  return g_string_free (result, FALSE);
}
