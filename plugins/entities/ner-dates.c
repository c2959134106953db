/* ner-dates.c: dates (absolute and relative, resolved against a reference
 * day), amounts of money and percentages, found by rules over tokens.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ner-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const months[] = {
  "january", "february", "march", "april", "may", "june", "july", "august",
  "september", "october", "november", "december",
};
static const char *const month_abbr[] = {
  "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};
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
} Ctx;

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

/* Month number 1..12 of token i ("July", "Jul", "Sept"), or 0. */
static int
month_of (const Ctx *c, guint i)
{
  if (i >= c->n || !(c->toks[i].flags & NER_TOK_LETTER))
    return 0;
  int k = word_index (c, i, months, 12);
  if (k < 0)
    k = word_index (c, i, month_abbr, 12);
  if (k < 0 && is (c, i, "sept"))
    k = 8;
  return k + 1;
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

static gboolean
valid_ymd (gint64 y, gint64 m, gint64 d)
{
  return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31
         && g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y);
}

/* "2025-07-21", "22.07.2025", "07/21/2025" in one token. */
static gboolean
numeric_date (const char *p, gsize len, GDate *out)
{
  int a, b, y, used = 0;
  char buf[24];
  if (len >= sizeof buf)
    return FALSE;
  memcpy (buf, p, len);
  buf[len] = '\0';
  if (sscanf (buf, "%4d-%2d-%2d%n", &y, &a, &b, &used) == 3 && used == (int) len && used == 10)
    {
      if (!valid_ymd (y, a, b))
        return FALSE;
      g_date_set_dmy (out, (GDateDay) b, (GDateMonth) a, (GDateYear) y);
      return TRUE;
    }
  if (sscanf (buf, "%2d.%2d.%4d%n", &a, &b, &y, &used) == 3 && used == (int) len && y >= 1000)
    {
      if (!valid_ymd (y, b, a))
        return FALSE;
      g_date_set_dmy (out, (GDateDay) a, (GDateMonth) b, (GDateYear) y);
      return TRUE;
    }
  if (sscanf (buf, "%2d/%2d/%4d%n", &a, &b, &y, &used) == 3 && used == (int) len && y >= 1000)
    {
      /* month first unless that cannot be */
      if (valid_ymd (y, a, b))
        g_date_set_dmy (out, (GDateDay) b, (GDateMonth) a, (GDateYear) y);
      else if (valid_ymd (y, b, a))
        g_date_set_dmy (out, (GDateDay) a, (GDateMonth) b, (GDateYear) y);
      else
        return FALSE;
      return TRUE;
    }
  return FALSE;
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

void
ner_find_dates (const NerModel *model, const char *text, const NerToken *toks, guint n,
                const NerOptions *opts, const GDate *ref, GArray *out)
{
  Ctx cc = { text, toks, n }, *c = &cc;
  gboolean have_ref = ref != NULL && g_date_valid (ref);
  gboolean want_date = (opts->types & (1u << NER_DATE)) != 0;
  for (guint i = 0; i < n; i++)
    {
      const NerToken *t = &toks[i];
      if (t->flags & NER_TOK_LONG)
        continue;
      if (want_date && (t->flags & NER_TOK_DIGIT))
        {
          GDate d;
          g_date_clear (&d, 1);
          if (!(t->flags & NER_TOK_LETTER) && numeric_date (text + t->bstart, t->bend - t->bstart, &d))
            {
              add (out, c, NER_DATE, i, i, iso_day (&d));
              continue;
            }
          /* 23 July [2025] */
          gint64 day = int_of (c, i, TRUE, NULL);
          int mo = month_of (c, i + 1);
          if (day >= 1 && day <= 31 && mo > 0)
            {
              guint nd = 0;
              gint64 y = int_of (c, i + 2, FALSE, &nd);
              guint last = i + 1;
              if (nd == 4)
                last = i + 2;
              else
                y = have_ref ? g_date_get_year (ref) : -1;
              char *canon = NULL;
              if (y > 0 && valid_ymd (y, mo, day))
                canon = g_strdup_printf ("%04d-%02d-%02d", (int) y, mo, (int) day);
              else if (y < 0)
                canon = g_strdup_printf ("XXXX-%02d-%02d", mo, (int) day);
              add (out, c, NER_DATE, i, last, canon);
              i = last;
              continue;
            }
          /* years after a preposition: in 2022, since 2014 */
          guint nd = 0;
          gint64 y = int_of (c, i, FALSE, &nd);
          if (nd == 4 && y >= 1800 && y <= 2100 && i > 0
              && (is (c, i - 1, "in") || is (c, i - 1, "since") || is (c, i - 1, "by") || is (c, i - 1, "until")
                  || is (c, i - 1, "of") || is (c, i - 1, "from") || is (c, i - 1, "before") || is (c, i - 1, "after")
                  || is (c, i - 1, "during") || is (c, i - 1, "early") || is (c, i - 1, "late") || is (c, i - 1, "mid")
                  || is (c, i - 1, "to") || is (c, i - 1, "and") || is (c, i - 1, "year")))
            {
              add (out, c, NER_DATE, i, i, g_strdup_printf ("%04d", (int) y));
              continue;
            }
        }
      if (want_date && (t->flags & NER_TOK_LETTER))
        {
          int mo = month_of (c, i);
          if (mo > 0 && ((t->flags & NER_TOK_UPPER1) || (t->flags & NER_TOK_CAPSLINE)))
            {
              guint j = i + 1;
              if (j < n && is (c, j, ".") && t->bend - t->bstart <= 4)
                j++;
              guint nd = 0;
              gint64 day = int_of (c, j, TRUE, &nd);
              gint64 y = -1;
              guint last = i;
              if (day >= 1 && day <= 31 && nd <= 2)
                {
                  last = j;
                  guint k = j + 1;
                  if (k < n && is (c, k, ","))
                    k++;
                  gint64 yy = int_of (c, k, FALSE, &nd);
                  if (nd == 4 && yy >= 1000)
                    y = yy, last = k;
                  char *canon;
                  if (y < 0 && have_ref)
                    y = g_date_get_year (ref);
                  if (y > 0 && valid_ymd (y, mo, day))
                    canon = g_strdup_printf ("%04d-%02d-%02d", (int) y, mo, (int) day);
                  else
                    canon = g_strdup_printf ("XXXX-%02d-%02d", mo, (int) day);
                  add (out, c, NER_DATE, i, last, canon);
                  i = last;
                  continue;
                }
              gint64 yy = int_of (c, j, FALSE, &nd);
              if (nd == 4 && yy >= 1000)
                {
                  add (out, c, NER_DATE, i, j, g_strdup_printf ("%04d-%02d", (int) yy, mo));
                  i = j;
                  continue;
                }
              /* a bare month needs a preposition ("in June"); "May" also a capital */
              static const char *const preps[] = {
                "in", "since", "by", "until", "from", "early", "late", "mid", "of", "through", "last", "next", "this",
                "during", "before", "after", "and", "or", "till",
              };
              gboolean full_name = word_index (c, i, months, 12) >= 0;
              gboolean listed = i + 2 < n && (is (c, i + 1, "and") || is (c, i + 1, "or")) && month_of (c, i + 2) > 0;
              if (full_name && (t->flags & NER_TOK_UPPER1)
                  && ((i > 0 && word_index (c, i - 1, preps, G_N_ELEMENTS (preps)) >= 0) || listed
                      || (mo != 5 && !(t->flags & NER_TOK_SENT))))
                {
                  char *canon = NULL;
                  guint first = i;
                  if (have_ref)
                    {
                      int y0 = g_date_get_year (ref);
                      int rm = g_date_get_month (ref);
                      if (is (c, i - 1, "last") && mo >= rm)
                        y0--;
                      else if (is (c, i - 1, "next") && mo <= rm)
                        y0++;
                      canon = g_strdup_printf ("%04d-%02d", y0, mo);
                    }
                  if (is (c, i - 1, "last") || is (c, i - 1, "next") || is (c, i - 1, "this")
                      || is (c, i - 1, "early") || is (c, i - 1, "late") || is (c, i - 1, "mid"))
                    first = i - 1;
                  add (out, c, NER_DATE, first, i, canon);
                  continue;
                }
            }
          int wd = word_index (c, i, weekdays, 7);
          if (wd >= 0)
            {
              guint first = i;
              int mode = 0;   /* 0 nearest/tense, -1 last, 1 next, 2 this */
              if (i > 0 && is (c, i - 1, "last"))
                mode = -1, first = i - 1;
              else if (i > 0 && is (c, i - 1, "next"))
                mode = 1, first = i - 1;
              else if (i > 0 && is (c, i - 1, "this"))
                mode = 2, first = i - 1;
              char *canon = NULL;
              if (have_ref)
                {
                  int rw = g_date_get_weekday (ref) - 1;
                  int fwd = (wd - rw + 7) % 7;
                  int back = fwd == 0 ? 0 : fwd - 7;
                  int delta;
                  if (mode == -1)
                    delta = back == 0 ? -7 : back;
                  else if (mode == 1)
                    delta = fwd == 0 ? 7 : fwd;
                  else if (mode == 0 && future_context (c, first))
                    delta = fwd;
                  else
                    delta = (fwd < -back) ? fwd : back;
                  GDate d = *ref;
                  if (delta > 0)
                    g_date_add_days (&d, delta);
                  else if (delta < 0)
                    g_date_subtract_days (&d, -delta);
                  canon = iso_day (&d);
                }
              guint last = i;
              /* "Monday, July 21": the date that follows says it all */
              if (i + 2 < n && is (c, i + 1, ",") && month_of (c, i + 2) > 0)
                {
                  add (out, c, NER_DATE, first, last, canon);
                  continue;
                }
              add (out, c, NER_DATE, first, last, canon);
              i = last;
              continue;
            }
          /* today, yesterday, tomorrow */
          int rel_day = is (c, i, "today") ? 0 : is (c, i, "yesterday") ? -1 : is (c, i, "tomorrow") ? 1 : 99;
          if (rel_day != 99)
            {
              char *canon = NULL;
              if (have_ref)
                {
                  GDate d = *ref;
                  if (rel_day > 0)
                    g_date_add_days (&d, 1);
                  else if (rel_day < 0)
                    g_date_subtract_days (&d, 1);
                  canon = iso_day (&d);
                }
              add (out, c, NER_DATE, i, i, canon);
              continue;
            }
          /* last/next/this/past week|month|year, earlier this month */
          int dir = is (c, i, "last") || is (c, i, "past") || is (c, i, "previous") ? -1
                    : is (c, i, "next") || is (c, i, "coming") ? 1 : is (c, i, "this") ? 0 : 99;
          if (dir != 99 && i + 1 < n)
            {
              int unit = is (c, i + 1, "week") ? 1 : is (c, i + 1, "month") ? 2 : is (c, i + 1, "year") ? 3
                         : is (c, i + 1, "weekend") ? 4 : 0;
              if (unit == 0 && is (c, i + 1, "week's"))
                unit = 1;
              if (unit > 0)
                {
                  guint first = i;
                  if (i > 0 && (is (c, i - 1, "earlier") || is (c, i - 1, "later")) && dir == 0)
                    first = i - 1;
                  char *canon = NULL;
                  if (have_ref)
                    {
                      GDate d = *ref;
                      if (unit == 1 || unit == 4)
                        {
                          if (dir > 0)
                            g_date_add_days (&d, 7);
                          else if (dir < 0)
                            g_date_subtract_days (&d, 7);
                          canon = iso_week (&d);
                          if (unit == 4)
                            {
                              char *w = canon;
                              canon = g_strdup_printf ("%s-WE", w);
                              g_free (w);
                            }
                        }
                      else if (unit == 2)
                        {
                          g_date_set_day (&d, 1);
                          if (dir > 0)
                            g_date_add_months (&d, 1);
                          else if (dir < 0)
                            g_date_subtract_months (&d, 1);
                          canon = g_strdup_printf ("%04u-%02u", g_date_get_year (&d), g_date_get_month (&d));
                        }
                      else
                        canon = g_strdup_printf ("%04d", (int) g_date_get_year (&d) + dir);
                    }
                  add (out, c, NER_DATE, first, i + 1, canon);
                  i++;
                  continue;
                }
            }
          /* two days ago, 3 weeks ago */
          int num = word_index (c, i, small_numbers, G_N_ELEMENTS (small_numbers));
          if (num > 0 && i + 2 < n && is (c, i + 2, "ago"))
            {
              int unit = (is (c, i + 1, "days") || is (c, i + 1, "day")) ? 1
                         : (is (c, i + 1, "weeks") || is (c, i + 1, "week")) ? 2
                         : (is (c, i + 1, "months") || is (c, i + 1, "month")) ? 3
                         : (is (c, i + 1, "years") || is (c, i + 1, "year")) ? 4 : 0;
              if (unit > 0)
                {
                  char *canon = NULL;
                  if (have_ref)
                    {
                      GDate d = *ref;
                      if (unit == 1)
                        canon = (g_date_subtract_days (&d, num), iso_day (&d));
                      else if (unit == 2)
                        canon = (g_date_subtract_days (&d, 7 * num), iso_week (&d));
                      else if (unit == 3)
                        {
                          g_date_set_day (&d, 1);
                          g_date_subtract_months (&d, num);
                          canon = g_strdup_printf ("%04u-%02u", g_date_get_year (&d), g_date_get_month (&d));
                        }
                      else
                        canon = g_strdup_printf ("%04d", (int) g_date_get_year (&d) - num);
                    }
                  add (out, c, NER_DATE, i, i + 2, canon);
                  i += 2;
                  continue;
                }
            }
        }
      /* money: $5, $5.2 million, 300 euros */
      if (opts->types & (1u << NER_MONEY))
        {
          const char *code = currency_symbol (c, i);
          double v;
          if (code != NULL && (v = number_of (c, i + 1)) >= 0)
            {
              guint last = i + 1;
              double sc = scale_word (c, i + 2);
              if (sc > 0)
                v *= sc, last = i + 2;
              add (out, c, NER_MONEY, i, last, money_canon (v, code));
              i = last;
              continue;
            }
          if ((v = number_of (c, i)) >= 0)
            {
              guint j = i + 1;
              double sc = scale_word (c, j);
              if (sc > 0 && !is (c, j, "m") && !is (c, j, "b"))
                v *= sc, j++;
              else
                sc = 1;
              code = currency_word (c, j);
              if (code != NULL)
                {
                  add (out, c, NER_MONEY, i, j, money_canon (v, code));
                  i = j;
                  continue;
                }
            }
        }
      if (opts->types & (1u << NER_PERCENT))
        {
          double v = number_of (c, i);
          if (v >= 0 && i + 1 < n)
            {
              guint last = 0;
              if (is (c, i + 1, "%") || is (c, i + 1, "percent"))
                last = i + 1;
              else if (is (c, i + 1, "per") && is (c, i + 2, "cent"))
                last = i + 2;
              if (last > 0)
                {
                  char buf[G_ASCII_DTOSTR_BUF_SIZE];
                  g_ascii_formatd (buf, sizeof buf, "%.15g", v);
                  add (out, c, NER_PERCENT, i, last, g_strdup_printf ("%s%%", buf));
                  i = last;
                  continue;
                }
            }
        }
    }
  (void) model;
}

gboolean
ner_parse_date (const char *s, GDate *out)
{
  g_date_clear (out, 1);
  if (s == NULL)
    return FALSE;
  while (g_ascii_isspace (*s))
    s++;
  gsize len = strlen (s);
  /* ISO 8601 date or date-time */
  if (len >= 10 && numeric_date (s, 10, out) && (len == 10 || s[10] == 'T' || s[10] == ' '))
    return TRUE;
  gsize k = 0;
  while (k < len && !g_ascii_isspace (s[k]))
    k++;
  if (numeric_date (s, k, out))
    return TRUE;
  /* "July 21, 2025", "21 July 2025", "Monday, July 21, 2025" */
  g_autoptr(NerScratch) sc = ner_scratch_new ();
  guint n = ner_tokenize_raw (sc, s, MIN (len, 200), 0);
  Ctx c = { s, sc->toks, n };
  for (guint i = 0; i < n; i++)
    {
      int mo = month_of (&c, i);
      if (mo == 0)
        continue;
      guint nd;
      gint64 d = int_of (&c, i + 1, TRUE, &nd), y;
      guint j = i + 2;
      if (j < n && is (&c, j, ","))
        j++;
      if (d >= 1 && nd <= 2 && (y = int_of (&c, j, FALSE, &nd)) > 0 && nd == 4 && valid_ymd (y, mo, d))
        {
          g_date_set_dmy (out, (GDateDay) d, (GDateMonth) mo, (GDateYear) y);
          return TRUE;
        }
      if (i > 0 && (d = int_of (&c, i - 1, TRUE, &nd)) >= 1 && nd <= 2 && (y = int_of (&c, i + 1, FALSE, &nd)) > 0
          && nd == 4 && valid_ymd (y, mo, d))
        {
          g_date_set_dmy (out, (GDateDay) d, (GDateMonth) mo, (GDateYear) y);
          return TRUE;
        }
    }
  return FALSE;
}
