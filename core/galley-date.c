/* galley-date.c: dates written in text, read by a table of matchers.
 *
 * Each matcher reads one form at the cursor and either fills the date
 * and moves the cursor past it or leaves both alone. galley_date_scan()
 * tries them in table order; the first that reads a date wins.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-date.h>

#include <string.h>

typedef struct {
  const char     *p;
  const char     *end;
  GalleyDateFlags flags;
} Scan;

/* Month names, lower case; the English ones first. */
static const struct { const char *word; int month; } month_names[] = {
  { "january", 1 }, { "february", 2 }, { "march", 3 }, { "april", 4 }, { "may", 5 }, { "june", 6 },
  { "july", 7 }, { "august", 8 }, { "september", 9 }, { "october", 10 }, { "november", 11 },
  { "december", 12 }, { "jan", 1 }, { "feb", 2 }, { "mar", 3 }, { "apr", 4 }, { "jun", 6 },
  { "jul", 7 }, { "aug", 8 }, { "sep", 9 }, { "sept", 9 }, { "oct", 10 }, { "nov", 11 }, { "dec", 12 },
#define N_ENGLISH_MONTHS 24
  /* de */
  { "januar", 1 }, { "jänner", 1 }, { "februar", 2 }, { "märz", 3 }, { "mai", 5 }, { "juni", 6 },
  { "juli", 7 }, { "oktober", 10 }, { "dezember", 12 },
  /* fr */
  { "janvier", 1 }, { "février", 2 }, { "mars", 3 }, { "avril", 4 }, { "juin", 6 }, { "juillet", 7 },
  { "août", 8 }, { "septembre", 9 }, { "octobre", 10 }, { "novembre", 11 }, { "décembre", 12 },
  /* es */
  { "enero", 1 }, { "febrero", 2 }, { "marzo", 3 }, { "abril", 4 }, { "mayo", 5 }, { "junio", 6 },
  { "julio", 7 }, { "agosto", 8 }, { "septiembre", 9 }, { "setiembre", 9 }, { "octubre", 10 },
  { "noviembre", 11 }, { "diciembre", 12 },
  /* pt */
  { "janeiro", 1 }, { "fevereiro", 2 }, { "março", 3 }, { "maio", 5 }, { "junho", 6 }, { "julho", 7 },
  { "setembro", 9 }, { "outubro", 10 }, { "novembro", 11 }, { "dezembro", 12 },
  /* ru, genitive and nominative */
  { "января", 1 }, { "февраля", 2 }, { "марта", 3 }, { "апреля", 4 }, { "мая", 5 }, { "июня", 6 },
  { "июля", 7 }, { "августа", 8 }, { "сентября", 9 }, { "октября", 10 }, { "ноября", 11 },
  { "декабря", 12 }, { "январь", 1 }, { "февраль", 2 }, { "март", 3 }, { "апрель", 4 }, { "май", 5 },
  { "июнь", 6 }, { "июль", 7 }, { "август", 8 }, { "сентябрь", 9 }, { "октябрь", 10 },
  { "ноябрь", 11 }, { "декабрь", 12 },
  /* uk, genitive */
  { "січня", 1 }, { "лютого", 2 }, { "березня", 3 }, { "квітня", 4 }, { "травня", 5 }, { "червня", 6 },
  { "липня", 7 }, { "серпня", 8 }, { "вересня", 9 }, { "жовтня", 10 }, { "листопада", 11 },
  { "грудня", 12 },
};
G_STATIC_ASSERT (N_ENGLISH_MONTHS == 24);

/* Words that may stand between a date and its time (lower case). */
static const char *const time_words[] = { "at", "um", "à", "a", "às", "в", "о", "kl", NULL };

/* ---- reading words and numbers ------------------------------------------ */

static inline gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static void
skip_blanks (Scan *s)
{
  while (s->p < s->end && is_blank (*s->p))
    s->p++;
}

static gboolean
skip_char (Scan *s, char c)
{
  if (s->p >= s->end || *s->p != c)
    return FALSE;
  s->p++;
  return TRUE;
}

/* Up to five digits; *@n gets how many there were. */
static int
read_digits (Scan *s, int *n)
{
  int v = 0, k = 0;
  while (s->p < s->end && g_ascii_isdigit (*s->p) && k < 5)
    v = v * 10 + (*s->p++ - '0'), k++;
  *n = k;
  return v;
}

/* The length in bytes of the word (letters, and '.' '-' '\'' inside) at @p. */
static gsize
word_len (const char *p, const char *end)
{
  const char *q = p;
  while (q < end)
    {
      gunichar ch = g_utf8_get_char_validated (q, end - q);
      if (ch == (gunichar) -1 || ch == (gunichar) -2)
        break;
      if (!(g_unichar_isalpha (ch) || ch == 0x02BC || ((ch == '-' || ch == '\'') && q > p)))
        break;
      q = g_utf8_next_char (q);
    }
  return q - p;
}

/* Is the word @w (@len bytes, any case) the lower-case @lower? */
static gboolean
word_equal (const char *w, gsize len, const char *lower)
{
  /* ASCII bytes compare directly (the common case, and where most words
   * differ from a month name: at the first letter) */
  gsize i = 0;
  for (; i < len && lower[i] != '\0'; i++)
    {
      guchar a = (guchar) w[i], b = (guchar) lower[i];
      if (a >= 0x80 || b >= 0x80)
        break;
      if ((a >= 'A' && a <= 'Z' ? a | 0x20 : a) != b)
        return FALSE;
    }
  if (i == len || lower[i] == '\0')
    return i == len && lower[i] == '\0';
  /* from the first non-ASCII character on, character by character */
  const char *p = w + i, *end = w + len;
  lower += i;
  while (p < end && *lower != '\0')
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2 || g_unichar_tolower (c) != g_utf8_get_char (lower))
        return FALSE;
      p = g_utf8_next_char (p);
      lower = g_utf8_next_char (lower);
    }
  return p == end && *lower == '\0';
}

/* Skips the word @lower and the blanks after it, if the cursor is on it. */
static void
skip_word (Scan *s, const char *lower)
{
  gsize wl = word_len (s->p, s->end);
  if (wl > 0 && word_equal (s->p, wl, lower))
    {
      s->p += wl;
      skip_blanks (s);
    }
}

/* "de" in "4 de março de 2026", when other languages than English are read. */
static void
skip_de (Scan *s)
{
  if (!(s->flags & GALLEY_DATE_ENGLISH))
    skip_word (s, "de");
}

/* 1st, 2nd, 3rd, 23rd, 4th. */
static void
skip_ordinal (Scan *s)
{
  static const char *const suffixes[] = { "st", "nd", "rd", "th" };
  if (word_len (s->p, s->end) != 2)
    return;
  for (gsize k = 0; k < G_N_ELEMENTS (suffixes); k++)
    if (word_equal (s->p, 2, suffixes[k]))
      {
        s->p += 2;
        return;
      }
}

/* A month name, or 0. */
static int
read_month (Scan *s)
{
  gsize wl = word_len (s->p, s->end);
  int m = galley_date_month_from_name (s->p, wl, s->flags);
  if (m == 0)
    return 0;
  s->p += wl;
  return m;
}

/* The dot after a month name of up to four letters ("Sept.", "Jul.",
 * "June."), when a day or a year follows. */
static void
skip_month_dot (Scan *s, const char *month_start)
{
  if (month_start != NULL && s->p - month_start <= 4 && s->p + 1 < s->end && *s->p == '.'
      && (g_ascii_isdigit (s->p[1]) || is_blank (s->p[1])))
    s->p++;
}

/* A day of the month: one or two digits, maybe with an ordinal suffix. */
static int
read_day (Scan *s)
{
  Scan t = *s;
  int n, d = read_digits (&t, &n);
  if (n < 1 || n > 2 || d < 1 || d > 31)
    return 0;
  skip_ordinal (&t);
  *s = t;
  return d;
}

/* Four digits, 1000 to 9999, or 0. */
static int
read_year (Scan *s)
{
  Scan t = *s;
  int n, y = read_digits (&t, &n);
  if (n != 4 || y < 1000)
    return 0;
  *s = t;
  return y;
}

/* [.] [,] [de] year after a day and a month. */
static int
read_year_after (Scan *s, const char *month_start)
{
  Scan t = *s;
  skip_month_dot (&t, month_start);
  skip_blanks (&t);
  skip_de (&t);
  skip_char (&t, ',');
  skip_blanks (&t);
  int y = read_year (&t);
  if (y != 0)
    *s = t;
  return y;
}

static void
set_date (GalleyDate *d, int y, int m, int day)
{
  *d = (GalleyDate) { y, m, day, -1, -1, 0 };
  d->fields = (y ? GALLEY_DATE_YEAR : 0) | (m ? GALLEY_DATE_MONTH : 0) | (day ? GALLEY_DATE_DAY : 0);
}

/* ---- the matchers ---------------------------------------------------------- */

/* A matcher read y-m-day up to @t: the date is taken and @s moves there. */
static gboolean
accept (Scan *s, const Scan *t, GalleyDate *d, int y, int m, int day)
{
  set_date (d, y, m, day);
  s->p = t->p;
  return TRUE;
}

/* The same for a date with a month name: a missing year is taken only
 * with GALLEY_DATE_PARTIAL, and the day must exist. */
static gboolean
accept_named (Scan *s, const Scan *t, GalleyDate *d, int y, int m, int day)
{
  if (y == 0 && !(s->flags & GALLEY_DATE_PARTIAL))
    return FALSE;
  if (!galley_date_valid_ymd (y, m, day))
    return FALSE;
  return accept (s, t, d, y, m, day);
}

/* 2025-07-21, 2025/07/21, 2025.7.21 */
static gboolean
match_iso (Scan *s, GalleyDate *d)
{
  Scan t = *s;
  int n1, n2, n3;
  int y = read_digits (&t, &n1);
  if (n1 != 4 || t.p >= t.end || !strchr ("-/.", *t.p))
    return FALSE;
  char sep = *t.p++;
  int m = read_digits (&t, &n2);
  if (n2 < 1 || n2 > 2 || !skip_char (&t, sep))
    return FALSE;
  int day = read_digits (&t, &n3);
  if (n3 < 1 || n3 > 2 || y < 1000 || !galley_date_valid_ymd (y, m, day))
    return FALSE;
  if (s->flags & GALLEY_DATE_WITH_TIME)
    skip_char (&t, 'T');
  return accept (s, &t, d, y, m, day);
}

/* 22.07.2025, 07/21/2025, 21-07-2025, 22.07.25: day first unless
 * GALLEY_DATE_MONTH_FIRST and slashes; the other order when only it is
 * a date. */
static gboolean
match_numeric (Scan *s, GalleyDate *d)
{
  Scan t = *s;
  int n1, n2, n3;
  int a = read_digits (&t, &n1);
  if (n1 < 1 || n1 > 2 || t.p + 1 >= t.end || !strchr ("./-", *t.p) || !g_ascii_isdigit (t.p[1]))
    return FALSE;
  char sep = *t.p++;
  int b = read_digits (&t, &n2);
  if (n2 < 1 || n2 > 2 || !skip_char (&t, sep))
    return FALSE;
  int y = read_digits (&t, &n3);
  if (n3 == 2 && (s->flags & GALLEY_DATE_SHORT_YEAR))
    y += 2000;
  else if (n3 != 4 || y < 1000)
    return FALSE;
  gboolean month_first = sep == '/' && (s->flags & GALLEY_DATE_MONTH_FIRST);
  int m = month_first ? a : b, day = month_first ? b : a;
  if (!galley_date_valid_ymd (y, m, day))
    {
      int swap = m;
      m = day, day = swap;
    }
  if (!galley_date_valid_ymd (y, m, day))
    return FALSE;
  return accept (s, &t, d, y, m, day);
}

/* 23 July 2025, 23rd July, 2025, 4. März 2026, 4 de março de 2026,
 * 12 февраля 2026; 23 July with GALLEY_DATE_PARTIAL. */
static gboolean
match_day_month (Scan *s, GalleyDate *d)
{
  Scan t = *s;
  int day = read_day (&t);
  if (day == 0)
    return FALSE;
  if (!(s->flags & GALLEY_DATE_ENGLISH))
    skip_char (&t, '.');   /* 4. März */
  skip_blanks (&t);
  skip_de (&t);
  const char *month_start = t.p;
  int m = read_month (&t);
  if (m == 0)
    return FALSE;
  int y = read_year_after (&t, month_start);
  return accept_named (s, &t, d, y, m, day);
}

/* July 23, 2025, Jul. 23rd 2025; July 23 with GALLEY_DATE_PARTIAL. */
static gboolean
match_month_day (Scan *s, GalleyDate *d)
{
  Scan t = *s;
  int m = read_month (&t);
  if (m == 0)
    return FALSE;
  skip_month_dot (&t, s->p);
  skip_blanks (&t);
  int day = read_day (&t);
  if (day == 0)
    return FALSE;
  int y = read_year_after (&t, NULL);
  return accept_named (s, &t, d, y, m, day);
}

/* July 2025, with GALLEY_DATE_PARTIAL. */
static gboolean
match_month_year (Scan *s, GalleyDate *d)
{
  if (!(s->flags & GALLEY_DATE_PARTIAL))
    return FALSE;
  Scan t = *s;
  int m = read_month (&t);
  if (m == 0)
    return FALSE;
  skip_month_dot (&t, s->p);
  skip_blanks (&t);
  int y = read_year (&t);
  if (y == 0)
    return FALSE;
  return accept (s, &t, d, y, m, 0);
}

typedef gboolean (*DateMatcher) (Scan *s, GalleyDate *d);

/* The forms, in the order they are tried. */
static const struct {
  const char *form;   /* what the matcher reads, for the reader of this table */
  DateMatcher match;
} date_matchers[] = {
  { "YYYY-MM-DD",      match_iso },
  { "DD.MM.YYYY",      match_numeric },
  { "DAY MONTH YEAR",  match_day_month },
  { "MONTH DAY, YEAR", match_month_day },
  { "MONTH YEAR",      match_month_year },
};

/* ---- the time after a date ---------------------------------------------- */

/* "am"/"pm" after the time (not read: the caller may treat it as a word). */
static int
apply_am_pm (const Scan *s, int hh)
{
  Scan ap = *s;
  skip_blanks (&ap);
  if (ap.p + 1 >= ap.end || hh > 12)
    return hh;
  char c0 = g_ascii_tolower (ap.p[0]), c1 = g_ascii_tolower (ap.p[1]);
  if ((c0 != 'p' && c0 != 'a') || (c1 != 'm' && c1 != '.'))
    return hh;
  if (c0 == 'p' && hh < 12)
    return hh + 12;
  if (c0 == 'a' && hh == 12)
    return 0;
  return hh;
}

/* [,] [at|um|à|в ...] HH:MM[:SS] [am|pm] */
static void
read_time (Scan *s, GalleyDate *d)
{
  Scan t = *s;
  while (t.p < t.end && (is_blank (*t.p) || *t.p == ',' || *t.p == '-' || *t.p == '|'))
    t.p++;
  gsize wl = word_len (t.p, t.end);
  for (const char *const *w = time_words; wl > 0 && wl <= 8 && *w; w++)
    if (word_equal (t.p, wl, *w))
      {
        t.p += wl;
        skip_blanks (&t);
        break;
      }
  int nh, nm, ns;
  int hh = read_digits (&t, &nh);
  if (nh < 1 || nh > 2 || t.p >= t.end || !strchr (":.h", *t.p))
    return;
  t.p++;
  int mm = read_digits (&t, &nm);
  if (nm != 2 || hh > 23 || mm > 59)
    return;
  Scan sec = t;
  if (skip_char (&sec, ':') && (read_digits (&sec, &ns), ns == 2))
    t = sec;
  d->hour = apply_am_pm (&t, hh);
  d->minute = mm;
  d->fields |= GALLEY_DATE_TIME;
  s->p = t.p;
}

/* ---- public ---------------------------------------------------------------- */

/* Month names -> month, with MONTH_ENGLISH set for the English ones: the
 * entities stage asks for every word of every text. */
#define MONTH_ENGLISH 0x100

static gpointer
build_month_table (gpointer data)
{
  GHashTable *table = g_hash_table_new (g_str_hash, g_str_equal);
  for (gsize i = 0; i < G_N_ELEMENTS (month_names); i++)
    if (!g_hash_table_contains (table, month_names[i].word))
      g_hash_table_insert (table, (gpointer) month_names[i].word,
                           GINT_TO_POINTER (month_names[i].month | (i < N_ENGLISH_MONTHS ? MONTH_ENGLISH : 0)));
  return table;
}

int
galley_date_month_from_name (const char *word, gsize len, GalleyDateFlags flags)
{
  static GOnce once = G_ONCE_INIT;
  if (len == 0 || len > 40)
    return 0;
  /* the word in lower case: ASCII in place, anything else through GLib */
  char buf[41];
  g_autofree char *folded = NULL;
  const char *key = buf;
  gsize i = 0;
  for (; i < len && (guchar) word[i] < 0x80; i++)
    buf[i] = word[i] >= 'A' && word[i] <= 'Z' ? word[i] | 0x20 : word[i];
  if (i < len)
    {
      if (!g_utf8_validate_len (word, len, NULL))
        return 0;
      key = folded = g_utf8_strdown (word, len);
    }
  else
    buf[len] = '\0';
  GHashTable *table = g_once (&once, build_month_table, NULL);
  int v = GPOINTER_TO_INT (g_hash_table_lookup (table, key));
  if ((flags & GALLEY_DATE_ENGLISH) && !(v & MONTH_ENGLISH))
    return 0;
  return v & 0xff;
}

gboolean
galley_date_valid_ymd (int year, int month, int day)
{
  if (month < 1 || month > 12 || day < 1 || day > 31)
    return FALSE;
  if (year == 0)
    return day <= g_date_get_days_in_month ((GDateMonth) month, 2000);
  return year >= 1000 && year <= 9999 && g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year);
}

gsize
galley_date_scan (const char *text, gsize len, GalleyDateFlags flags, GalleyDate *out)
{
  g_return_val_if_fail (text != NULL || len == 0, 0);
  g_return_val_if_fail (out != NULL, 0);
  Scan s = { text, text + len, flags };
  for (gsize i = 0; i < G_N_ELEMENTS (date_matchers); i++)
    {
      if (!date_matchers[i].match (&s, out))
        continue;
      if ((flags & GALLEY_DATE_WITH_TIME) && (out->fields & GALLEY_DATE_YMD) == GALLEY_DATE_YMD)
        read_time (&s, out);
      return s.p - text;
    }
  set_date (out, 0, 0, 0);
  return 0;
}

gboolean
galley_date_find (const char *text, gsize max_len, GalleyDateFlags flags, GalleyDate *out)
{
  g_return_val_if_fail (text != NULL && out != NULL, FALSE);
  gsize len = strnlen (text, max_len);
  for (gsize i = 0; i < len; i++)
    {
      guchar prev = i > 0 ? (guchar) text[i - 1] : ' ';
      if (prev >= 0x80 || g_ascii_isalnum (prev) || !((guchar) text[i] >= 0x80 || g_ascii_isalnum (text[i])))
        continue;
      if (galley_date_scan (text + i, len - i, flags, out) > 0
          && (out->fields & GALLEY_DATE_YMD) == GALLEY_DATE_YMD)
        return TRUE;
    }
  set_date (out, 0, 0, 0);
  return FALSE;
}

char *
galley_date_to_iso (const GalleyDate *d)
{
  g_return_val_if_fail (d != NULL, NULL);
  GalleyDateFields f = d->fields;
  if ((f & GALLEY_DATE_YMD) == GALLEY_DATE_YMD && (f & GALLEY_DATE_TIME))
    return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d", d->year, d->month, d->day, d->hour, d->minute);
  if ((f & GALLEY_DATE_YMD) == GALLEY_DATE_YMD)
    return g_strdup_printf ("%04d-%02d-%02d", d->year, d->month, d->day);
  if ((f & GALLEY_DATE_MONTH) && (f & GALLEY_DATE_DAY))
    return g_strdup_printf ("XXXX-%02d-%02d", d->month, d->day);
  if ((f & GALLEY_DATE_MONTH) && (f & GALLEY_DATE_YEAR))
    return g_strdup_printf ("%04d-%02d", d->year, d->month);
  if (f & GALLEY_DATE_YEAR)
    return g_strdup_printf ("%04d", d->year);
  return NULL;
}
