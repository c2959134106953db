/* ner-dates.c: dates (absolute and relative, resolved against a reference
 * day), amounts of money and percentages, found by rules over tokens.
 *
 * ner_find_dates() tries a table of rules at each token; the first that
 * matches adds a mention and the search goes on after it. Written dates
 * ("July 23, 2025", "23 July", "22.07.2025") are read by the date parser
 * of libgalley-1 (galley_date_scan()); the rules here add what needs the
 * tokens around them and the reference day: years after a preposition,
 * bare months, weekdays, "yesterday", "last week", "two days ago".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ner-private.h"

#include <galley/galley.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const weekdays[] = {
  "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};
static const char *const small_numbers[] = {
  "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
  "eleven", "twelve",
};

typedef struct {
  const char     *text;
  const NerToken *toks;
  guint           n;
  const GDate    *ref;    /* the reference day, NULL when there is none */
  GArray         *out;    /* NerMention */
} Ctx;

/* How the entities stage reads written dates: English month names,
 * "07/08/2025" month first, dates without a year or a day. */
#define NER_DATE_FLAGS (GALLEY_DATE_ENGLISH | GALLEY_DATE_MONTH_FIRST | GALLEY_DATE_PARTIAL)

static inline gboolean
is (const Ctx *c, guint i, const char *word)
{
  if (i >= c->n)
    return FALSE;
  gsize len = c->toks[i].bend - c->toks[i].bstart;
  const char *t = c->text + c->toks[i].bstart;
  /* called for every token against the month and weekday lists: the
   * first byte rejects most pairs (bytes that differ in more than the
   * ASCII case bit cannot match); strncasecmp stops at the end of a
   * shorter @word, and word[len] checks that it is not longer */
  if (len == 0 || ((*t ^ *word) & ~0x20) != 0)
    return len == 0 && *word == '\0';
  return g_ascii_strncasecmp (t, word, len) == 0 && word[len] == '\0';
}

static int
word_index (const Ctx *c, guint i, const char *const *list, int n)
{
  for (int k = 0; k < n; k++)
    if (is (c, i, list[k]))
      return k;
  return -1;
}

/* Unsigned integer of token i (digits, with an ordinal suffix when
 * @ordinal), or -1. */
static gint64
int_of (const Ctx *c, guint i, gboolean ordinal, guint *n_digits)
{
  if (i >= c->n)
    return -1;
  const char *p = c->text + c->toks[i].bstart, *end = c->text + c->toks[i].bend;
  gint64 v = 0;
  guint nd = 0;
  while (p < end && g_ascii_isdigit (*p) && nd < 12)
    v = v * 10 + (*p++ - '0'), nd++;
  if (nd == 0)
    return -1;
  if (p < end)
    {
      if (!ordinal || end - p != 2)
        return -1;
      if (g_ascii_strncasecmp (p, "st", 2) && g_ascii_strncasecmp (p, "nd", 2)
          && g_ascii_strncasecmp (p, "rd", 2) && g_ascii_strncasecmp (p, "th", 2))
        return -1;
    }
  if (n_digits)
    *n_digits = nd;
  return v;
}

static char *
iso_day (const GDate *d)
{
  return g_strdup_printf ("%04u-%02u-%02u", g_date_get_year (d), g_date_get_month (d), g_date_get_day (d));
}

static char *
iso_week (const GDate *d)
{
  /* the ISO year is the year of the week's Thursday */
  GDate th = *d;
  int wd = g_date_get_weekday (&th);      /* 1 = Monday */
  if (wd < 4)
    g_date_add_days (&th, 4 - wd);
  else if (wd > 4)
    g_date_subtract_days (&th, wd - 4);
  return g_strdup_printf ("%04u-W%02u", g_date_get_year (&th), g_date_get_iso8601_week_of_year (d));
}

/* A future marker shortly before token i in the same sentence. */
static gboolean
future_context (const Ctx *c, guint i)
{
  static const char *const markers[] = {
    "will", "would", "'ll", "shall", "scheduled", "set", "due", "expected", "planned", "slated",
    "upcoming", "to", "until", "till", "by",
  };
  for (guint k = 1; k <= 12 && k <= i; k++)
    {
      guint j = i - k;
      if (word_index (c, j, markers, G_N_ELEMENTS (markers)) >= 0)
        {
          /* "to" and "by" only right before the day ("to Friday") */
          if ((is (c, j, "to") || is (c, j, "by") || is (c, j, "until") || is (c, j, "till")) && k > 2)
            continue;
          return TRUE;
        }
      if (c->toks[j].flags & NER_TOK_SENT)
        break;
    }
  return FALSE;
}

static void
add (GArray *out, const Ctx *c, NerType type, guint first, guint last, char *canonical)
{
  NerMention m = { 0 };
  m.type = type;
  m.start = c->toks[first].cstart;
  m.end = c->toks[last].cend;
  m.bstart = c->toks[first].bstart;
  m.bend = c->toks[last].bend;
  m.canonical = canonical;
  g_array_append_val (out, m);
}

/* Number value of token i: "5", "1,200", "2.5", or -1. */
static double
number_of (const Ctx *c, guint i)
{
  if (i >= c->n || !(c->toks[i].flags & NER_TOK_DIGIT) || (c->toks[i].flags & NER_TOK_LETTER))
    return -1;
  const char *p = c->text + c->toks[i].bstart, *end = c->text + c->toks[i].bend;
  char buf[40];
  gsize k = 0;
  for (; p < end && k + 1 < sizeof buf; p++)
    {
      if (g_ascii_isdigit (*p) || *p == '.')
        buf[k++] = *p;
      else if (*p != ',')
        return -1;
    }
  buf[k] = '\0';
  return g_ascii_strtod (buf, NULL);
}

static double
scale_word (const Ctx *c, guint i)
{
  if (is (c, i, "thousand"))
    return 1e3;
  if (is (c, i, "million") || is (c, i, "mln") || is (c, i, "m"))
    return 1e6;
  if (is (c, i, "billion") || is (c, i, "bn") || is (c, i, "b"))
    return 1e9;
  if (is (c, i, "trillion") || is (c, i, "tn"))
    return 1e12;
  return 0;
}

static const char *
currency_symbol (const Ctx *c, guint i)
{
  if (i >= c->n || !(c->toks[i].flags & NER_TOK_PUNCT))
    return NULL;
  const char *p = c->text + c->toks[i].bstart;
  gsize len = c->toks[i].bend - c->toks[i].bstart;
  if (len == 1 && *p == '$')
    return "USD";
  if (len == 3 && memcmp (p, "\xe2\x82\xac", 3) == 0)
    return "EUR";
  if (len == 2 && memcmp (p, "\xc2\xa3", 2) == 0)
    return "GBP";
  if (len == 2 && memcmp (p, "\xc2\xa5", 2) == 0)
    return "JPY";
  if (len == 3 && memcmp (p, "\xe2\x82\xb4", 3) == 0)
    return "UAH";
  if (len == 3 && memcmp (p, "\xe2\x82\xbd", 3) == 0)
    return "RUB";
  return NULL;
}

static const char *
currency_word (const Ctx *c, guint i)
{
  static const struct { const char *w, *code; } words[] = {
    { "dollars", "USD" }, { "dollar", "USD" }, { "euros", "EUR" }, { "euro", "EUR" },
    { "pounds", "GBP" }, { "sterling", "GBP" }, { "yen", "JPY" }, { "yuan", "CNY" },
    { "rubles", "RUB" }, { "roubles", "RUB" }, { "hryvnias", "UAH" }, { "hryvnia", "UAH" },
    { "francs", "CHF" }, { "rupees", "INR" }, { "lira", "TRY" }, { "usd", "USD" }, { "eur", "EUR" },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (words); k++)
    if (is (c, i, words[k].w))
      return words[k].code;
  return NULL;
}

static char *
money_canon (double v, const char *code)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.15g", v);
  return g_strdup_printf ("%s %s", buf, code);
}


/* ---- written dates, read by galley_date_scan() ---------------------------- */

/* The month of token i ("July", "Jul", "Sept"), or 0. */
static int
month_of (const Ctx *c, guint i)
{
  /* the tokenizer looked it up (ner_tokenize ()) */
  return i < c->n ? c->toks[i].month : 0;
}

/* Do tokens first..last touch a "/" on either side (a URL's path)? */
static gboolean
glued_to_slash (const Ctx *c, guint first, guint last)
{
  if (first > 0 && c->toks[first - 1].bend == c->toks[first].bstart && is (c, first - 1, "/"))
    return TRUE;
  return last + 1 < c->n && c->toks[last + 1].bstart == c->toks[last].bend && is (c, last + 1, "/");
}

/* A written date starting at token i; *last gets its last token. When
 * the date ends inside a token ("13 December, 1998-30 June"), what ends
 * before that token is read again. FALSE when there is no date, when it is
 * part of a path (/2025/07/21/) or when a numeric date is cut into several
 * tokens. */
static gboolean
scan_date (const Ctx *c, guint i, GalleyDate *d, guint *last)
{
  guint32 from = c->toks[i].bstart, limit = c->toks[c->n - 1].bend;
  for (int tries = 0; tries < 3; tries++)
    {
      gsize used = galley_date_scan (c->text + from, limit - from, NER_DATE_FLAGS, d);
      if (used == 0)
        return FALSE;
      guint32 end = from + (guint32) used;
      guint k = i;
      gboolean named = FALSE;
      for (; c->toks[k].bend < end; k++)
        named = named || month_of (c, k) > 0;
      if (c->toks[k].bend == end)
        {
          *last = k;
          return !glued_to_slash (c, i, k) && (k == i || named || month_of (c, k) > 0);
        }
      if (k == i)
        return FALSE;
      limit = c->toks[k - 1].bend;
    }
  return FALSE;
}

/* The canonical form: a date without a year takes the reference day's
 * year when the day exists in it. */
static char *
written_canon (const Ctx *c, GalleyDate *d)
{
  gboolean no_year = (d->fields & (GALLEY_DATE_YEAR | GALLEY_DATE_DAY)) == GALLEY_DATE_DAY;
  if (no_year && c->ref != NULL && galley_date_valid_ymd (g_date_get_year (c->ref), d->month, d->day))
    {
      d->year = g_date_get_year (c->ref);
      d->fields |= GALLEY_DATE_YEAR;
    }
  return galley_date_to_iso (d);
}

/* 22.07.2025, 2025-07-21, 07/21/2025, 23 July [2025], 23rd July */
static guint
rule_day_first (const Ctx *c, guint i)
{
  GalleyDate d;
  guint last;
  if (!(c->toks[i].flags & NER_TOK_DIGIT) || !scan_date (c, i, &d, &last))
    return 0;
  add (c->out, c, NER_DATE, i, last, written_canon (c, &d));
  return last - i + 1;
}

/* July 23, July 23, 2025, Jul. 23rd, July 2025 (the month capitalised) */
static guint
rule_month_first (const Ctx *c, guint i)
{
  GalleyDate d;
  guint last;
  guint32 f = c->toks[i].flags;
  if (!(f & (NER_TOK_UPPER1 | NER_TOK_CAPSLINE)) || month_of (c, i) == 0 || !scan_date (c, i, &d, &last))
    return 0;
  add (c->out, c, NER_DATE, i, last, written_canon (c, &d));
  return last - i + 1;
}

/* ---- rules that need the tokens around them ------------------------------- */

/* Years after a preposition: in 2022, since 2014. */
static guint
rule_year (const Ctx *c, guint i)
{
  static const char *const preps[] = {
    "in", "since", "by", "until", "of", "from", "before", "after", "during", "early", "late", "mid",
    "to", "and", "year",
  };
  guint nd = 0;
  gint64 y = int_of (c, i, FALSE, &nd);
  if (nd != 4 || y < 1800 || y > 2100 || i == 0 || word_index (c, i - 1, preps, G_N_ELEMENTS (preps)) < 0)
    return 0;
  add (c->out, c, NER_DATE, i, i, g_strdup_printf ("%04d", (int) y));
  return 1;
}

/* A bare month needs a preposition ("in June") or a list ("June and
 * July"), or, but for "May", not to open a sentence. */
static gboolean
bare_month_context (const Ctx *c, guint i, int mo)
{
  static const char *const preps[] = {
    "in", "since", "by", "until", "from", "early", "late", "mid", "of", "through", "last", "next", "this",
    "during", "before", "after", "and", "or", "till",
  };
  guint32 f = c->toks[i].flags;
  if (i > 0 && word_index (c, i - 1, preps, G_N_ELEMENTS (preps)) >= 0)
    return TRUE;
  if (i + 2 < c->n && (is (c, i + 1, "and") || is (c, i + 1, "or")) && month_of (c, i + 2) > 0)
    return TRUE;
  return mo != 5 && !(f & NER_TOK_SENT);
}

/* in June, last March, early July: the month of the reference year (the
 * one before after "last", the one after after "next"). */
static guint
rule_bare_month (const Ctx *c, guint i)
{
  /* the length of each month's full name: "Jul" and "Sept" are no bare months */
  static const guint8 full_len[12] = { 7, 8, 5, 5, 3, 4, 4, 6, 9, 7, 8, 8 };
  int mo = month_of (c, i);
  gsize len = c->toks[i].bend - c->toks[i].bstart;
  if (mo == 0 || len != full_len[mo - 1] || !(c->toks[i].flags & NER_TOK_UPPER1) || !bare_month_context (c, i, mo))
    return 0;
  char *canon = NULL;
  if (c->ref != NULL)
    {
      int y = g_date_get_year (c->ref), rm = g_date_get_month (c->ref);
      if (is (c, i - 1, "last") && mo >= rm)
        y--;
      else if (is (c, i - 1, "next") && mo <= rm)
        y++;
      canon = g_strdup_printf ("%04d-%02d", y, mo);
    }
  static const char *const modifiers[] = { "last", "next", "this", "early", "late", "mid" };
  guint first = i > 0 && word_index (c, i - 1, modifiers, G_N_ELEMENTS (modifiers)) >= 0 ? i - 1 : i;
  add (c->out, c, NER_DATE, first, i, canon);
  return 1;
}

/* Days from the reference day to weekday @wd: @mode -1 last, 1 next,
 * 0 the nearest (earlier on a tie) or the next one when @future. */
static int
weekday_delta (const GDate *ref, int wd, int mode, gboolean future)
{
  int rw = g_date_get_weekday (ref) - 1;
  int fwd = (wd - rw + 7) % 7;
  int back = fwd == 0 ? 0 : fwd - 7;
  if (mode == -1)
    return back == 0 ? -7 : back;
  if (mode == 1)
    return fwd == 0 ? 7 : fwd;
  if (mode == 0 && future)
    return fwd;
  return fwd < -back ? fwd : back;
}

static char *
iso_day_after (const GDate *ref, int delta)
{
  GDate d = *ref;
  if (delta > 0)
    g_date_add_days (&d, delta);
  else if (delta < 0)
    g_date_subtract_days (&d, -delta);
  return iso_day (&d);
}

/* Monday, last Friday, next Tuesday, this Sunday */
static guint
rule_weekday (const Ctx *c, guint i)
{
  /* every weekday ends in "day" and has 6 to 9 letters */
  guint len = c->toks[i].bend - c->toks[i].bstart;
  const char *end = c->text + c->toks[i].bend;
  if (len < 6 || len > 9 || g_ascii_strncasecmp (end - 3, "day", 3) != 0)
    return 0;
  int wd = word_index (c, i, weekdays, 7);
  if (wd < 0)
    return 0;
  int mode = 0;   /* 0 nearest/tense, -1 last, 1 next, 2 this */
  if (i > 0 && is (c, i - 1, "last"))
    mode = -1;
  else if (i > 0 && is (c, i - 1, "next"))
    mode = 1;
  else if (i > 0 && is (c, i - 1, "this"))
    mode = 2;
  guint first = mode != 0 ? i - 1 : i;
  char *canon = NULL;
  if (c->ref != NULL)
    canon = iso_day_after (c->ref, weekday_delta (c->ref, wd, mode, mode == 0 && future_context (c, first)));
  /* "Monday, July 21": the date that follows is a mention of its own */
  add (c->out, c, NER_DATE, first, i, canon);
  return 1;
}

/* today, yesterday, tomorrow */
static guint
rule_relative_day (const Ctx *c, guint i)
{
  int delta = is (c, i, "today") ? 0 : is (c, i, "yesterday") ? -1 : is (c, i, "tomorrow") ? 1 : 99;
  if (delta == 99)
    return 0;
  add (c->out, c, NER_DATE, i, i, c->ref != NULL ? iso_day_after (c->ref, delta) : NULL);
  return 1;
}

enum { UNIT_NONE, UNIT_DAY, UNIT_WEEK, UNIT_MONTH, UNIT_YEAR, UNIT_WEEKEND };

/* The week, month or year @n of them from the reference day. */
static char *
unit_canon (const GDate *ref, int unit, int n)
{
  GDate d = *ref;
  if (unit == UNIT_DAY)
    return iso_day_after (ref, n);
  if (unit == UNIT_WEEK || unit == UNIT_WEEKEND)
    {
      if (n > 0)
        g_date_add_days (&d, 7 * n);
      else if (n < 0)
        g_date_subtract_days (&d, -7 * n);
      g_autofree char *week = iso_week (&d);
      return unit == UNIT_WEEKEND ? g_strdup_printf ("%s-WE", week) : g_steal_pointer (&week);
    }
  if (unit == UNIT_MONTH)
    {
      g_date_set_day (&d, 1);
      if (n > 0)
        g_date_add_months (&d, n);
      else if (n < 0)
        g_date_subtract_months (&d, -n);
      return g_strdup_printf ("%04u-%02u", g_date_get_year (&d), g_date_get_month (&d));
    }
  return g_strdup_printf ("%04d", (int) g_date_get_year (&d) + n);
}

/* last/next/this/past week|month|year|weekend, earlier this month */
static guint
rule_relative_unit (const Ctx *c, guint i)
{
  int dir = is (c, i, "last") || is (c, i, "past") || is (c, i, "previous") ? -1
            : is (c, i, "next") || is (c, i, "coming") ? 1 : is (c, i, "this") ? 0 : 99;
  if (dir == 99 || i + 1 >= c->n)
    return 0;
  int unit = is (c, i + 1, "week") || is (c, i + 1, "week's") ? UNIT_WEEK : is (c, i + 1, "month") ? UNIT_MONTH
             : is (c, i + 1, "year") ? UNIT_YEAR : is (c, i + 1, "weekend") ? UNIT_WEEKEND : UNIT_NONE;
  if (unit == UNIT_NONE)
    return 0;
  guint first = i;
  if (i > 0 && (is (c, i - 1, "earlier") || is (c, i - 1, "later")) && dir == 0)
    first = i - 1;
  add (c->out, c, NER_DATE, first, i + 1, c->ref != NULL ? unit_canon (c->ref, unit, dir) : NULL);
  return 2;
}

/* two days ago, 3 weeks ago */
static guint
rule_ago (const Ctx *c, guint i)
{
  if (i + 2 >= c->n || !is (c, i + 2, "ago"))
    return 0;   /* tested first: it rules out almost every token */
  int num = word_index (c, i, small_numbers, G_N_ELEMENTS (small_numbers));
  if (num <= 0)
    return 0;
  int unit = (is (c, i + 1, "days") || is (c, i + 1, "day")) ? UNIT_DAY
             : (is (c, i + 1, "weeks") || is (c, i + 1, "week")) ? UNIT_WEEK
             : (is (c, i + 1, "months") || is (c, i + 1, "month")) ? UNIT_MONTH
             : (is (c, i + 1, "years") || is (c, i + 1, "year")) ? UNIT_YEAR : UNIT_NONE;
  if (unit == UNIT_NONE)
    return 0;
  add (c->out, c, NER_DATE, i, i + 2, c->ref != NULL ? unit_canon (c->ref, unit, -num) : NULL);
  return 3;
}

/* ---- money and percentages -------------------------------------------------- */

/* $5, $5.2 million */
static guint
rule_money_symbol (const Ctx *c, guint i)
{
  const char *code = currency_symbol (c, i);
  double v;
  if (code == NULL || (v = number_of (c, i + 1)) < 0)
    return 0;
  guint last = i + 1;
  double sc = scale_word (c, i + 2);
  if (sc > 0)
    v *= sc, last = i + 2;
  add (c->out, c, NER_MONEY, i, last, money_canon (v, code));
  return last - i + 1;
}

/* 300 euros, 5 million dollars */
static guint
rule_money_word (const Ctx *c, guint i)
{
  double v = number_of (c, i);
  if (v < 0)
    return 0;
  guint j = i + 1;
  double sc = scale_word (c, j);
  if (sc > 0 && !is (c, j, "m") && !is (c, j, "b"))
    v *= sc, j++;
  const char *code = currency_word (c, j);
  if (code == NULL)
    return 0;
  add (c->out, c, NER_MONEY, i, j, money_canon (v, code));
  return j - i + 1;
}

/* 15%, 15 percent, 15 per cent */
static guint
rule_percent (const Ctx *c, guint i)
{
  double v = number_of (c, i);
  if (v < 0 || i + 1 >= c->n)
    return 0;
  guint last = 0;
  if (is (c, i + 1, "%") || is (c, i + 1, "percent"))
    last = i + 1;
  else if (is (c, i + 1, "per") && is (c, i + 2, "cent"))
    last = i + 2;
  if (last == 0)
    return 0;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.15g", v);
  add (c->out, c, NER_PERCENT, i, last, g_strdup_printf ("%s%%", buf));
  return last - i + 1;
}

/* ---- the table -------------------------------------------------------------- */

/* A rule looks at token i: it adds a mention and returns how many tokens
 * the mention covers, or returns 0. */
typedef guint (*NerRule) (const Ctx *c, guint i);

static const struct {
  NerType type;
  guint32 token_flags;   /* token i must have one of these (0: any) */
  NerRule rule;
} rules[] = {
  { NER_DATE,    NER_TOK_DIGIT,  rule_day_first },
  { NER_DATE,    NER_TOK_DIGIT,  rule_year },
  { NER_DATE,    NER_TOK_LETTER, rule_month_first },
  { NER_DATE,    NER_TOK_LETTER, rule_bare_month },
  { NER_DATE,    NER_TOK_LETTER, rule_weekday },
  { NER_DATE,    NER_TOK_LETTER, rule_relative_day },
  { NER_DATE,    NER_TOK_LETTER, rule_relative_unit },
  { NER_DATE,    NER_TOK_LETTER, rule_ago },
  { NER_MONEY,   0,              rule_money_symbol },
  { NER_MONEY,   0,              rule_money_word },
  { NER_PERCENT, 0,              rule_percent },
};

/* Whether any rule of the table can match at token i: what each needs
 * first (a digit; a currency sign; a month, a weekday, "ago" two tokens
 * on, or one of "today", "yesterday", "tomorrow", "last", "past",
 * "previous", "next", "coming", "this", by first letter and length), in
 * a few tests, so that most tokens try no rule. */
static inline gboolean
may_match (const Ctx *c, guint i)
{
  const NerToken *t = &c->toks[i];
  if (t->flags & NER_TOK_DIGIT)
    return TRUE;
  guchar b = (guchar) c->text[t->bstart];
  if (t->flags & NER_TOK_PUNCT)
    return b == '$' || b >= 0x80;
  if (!(t->flags & NER_TOK_LETTER))
    return FALSE;
  if (t->month != 0)
    return TRUE;
  guint len = t->bend - t->bstart;
  guint lengths = 0;   /* bit n: a relative word of n letters starts with this letter */
  switch (b | 0x20)
    {
    case 't': lengths = 1u << 4 | 1u << 5 | 1u << 8; break;   /* this, today, tomorrow */
    case 'y': lengths = 1u << 9; break;                       /* yesterday */
    case 'l': lengths = 1u << 4; break;                       /* last */
    case 'p': lengths = 1u << 4 | 1u << 8; break;             /* past, previous */
    case 'n': lengths = 1u << 4; break;                       /* next */
    case 'c': lengths = 1u << 6; break;                       /* coming */
    default: break;
    }
  if (len < 32 && ((lengths >> len) & 1u))
    return TRUE;
  if (len >= 6 && len <= 9 && g_ascii_strncasecmp (c->text + t->bend - 3, "day", 3) == 0)
    return TRUE;
  return is (c, i + 2, "ago");
}

/* The first rule that matches at token i: the tokens it covers, or 0. */
static guint
apply_rules (const Ctx *c, guint i, guint types)
{
  guint32 f = c->toks[i].flags;
  for (gsize r = 0; r < G_N_ELEMENTS (rules); r++)
    {
      if (!(types & (1u << rules[r].type)) || (rules[r].token_flags && !(f & rules[r].token_flags)))
        continue;
      guint used = rules[r].rule (c, i);
      if (used > 0)
        return used;
    }
  return 0;
}

void
ner_find_dates (const NerModel *model, const char *text, const NerToken *toks, guint n,
                const NerOptions *opts, const GDate *ref, GArray *out, GArray *matched)
{
  Ctx c = { text, toks, n, ref != NULL && g_date_valid (ref) ? ref : NULL, out };
  for (guint i = 0; i < n; i++)
    {
      if ((toks[i].flags & NER_TOK_LONG) || !may_match (&c, i))
        continue;
      guint used = apply_rules (&c, i, opts->types);
      if (used > 0 && matched != NULL)
        g_array_append_val (matched, i);
      if (used > 1)
        i += used - 1;
    }
  (void) model;
}

void
ner_find_dates_at (const NerModel *model, const char *text, const NerToken *toks, guint n,
                   const NerOptions *opts, const GDate *ref, const GArray *at, GArray *out)
{
  Ctx c = { text, toks, n, ref != NULL && g_date_valid (ref) ? ref : NULL, out };
  for (guint k = 0; k < at->len; k++)
    apply_rules (&c, g_array_index (at, guint, k), opts->types);
  (void) model;
}

gboolean
ner_parse_date (const char *s, GDate *out)
{
  GalleyDate d;
  g_date_clear (out, 1);
  if (s == NULL || !galley_date_find (s, 200, GALLEY_DATE_ENGLISH | GALLEY_DATE_MONTH_FIRST, &d))
    return FALSE;
  g_date_set_dmy (out, (GDateDay) d.day, (GDateMonth) d.month, (GDateYear) d.year);
  return TRUE;
}
