/* strip-dateline.c: datelines and timestamps of the text mode.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip-text-private.h"

#include <string.h>

/* ---- dates -------------------------------------------------------------- */

typedef struct {
  int y, m, d, hh, mm;   /* hh < 0: no time */
} DateVal;

static const struct { const char *word; int month; } month_names[] = {
  { "january", 1 }, { "february", 2 }, { "march", 3 }, { "april", 4 }, { "may", 5 }, { "june", 6 },
  { "july", 7 }, { "august", 8 }, { "september", 9 }, { "october", 10 }, { "november", 11 },
  { "december", 12 }, { "jan", 1 }, { "feb", 2 }, { "mar", 3 }, { "apr", 4 }, { "jun", 6 },
  { "jul", 7 }, { "aug", 8 }, { "sep", 9 }, { "sept", 9 }, { "oct", 10 }, { "nov", 11 }, { "dec", 12 },
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

/* Words a dateline may hold besides the date (lower case). */
static const char *const date_labels[] = {
  "published", "updated", "last updated", "posted", "first published", "modified", "date", "on", "at",
  "am", "um", "veröffentlicht", "aktualisiert", "stand", "publié", "publié le", "mis à jour", "le", "à",
  "publicado", "actualizado", "el", "a las", "atualizado", "em", "às", "опубликовано", "обновлено",
  "опубліковано", "оновлено", "в", "о", "от", "від",
  "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
  "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag",
  "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
  "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo",
  "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
  "понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье",
  "понеділок", "вівторок", "середа", "четвер", "пʼятниця", "п'ятниця", "субота", "неділя",
  "gmt", "utc", "cet", "cest", "msk", "eet", "eest", "bst", "est", "edt", "pst", "pdt", "a.m.", "p.m.", "m",
  "am", "pm", "uhr", "h", "года", "г.", "г", "року", "р.", "de", "del", "of", "the", "th", "st", "nd", "rd",
  NULL
};
static const char *const updated_labels[] = {
  "updated", "modified", "aktualisiert", "stand", "mis", "actualizado",
  "atualizado", "обновлено", "оновлено", NULL
};

/* Every word of date_labels, split at spaces and dots. */
static const WordIndex *
date_label_words (void)
{
  static gsize once = 0;
  static WordIndex ix;
  if (g_once_init_enter (&once))
    {
      for (const char *const *l = date_labels; *l; l++)
        for (const char *p = *l; *p; p++)
          if ((p == *l || p[-1] == ' ' || p[-1] == '.') && !word_end (*p))
            strip_word_index_add (&ix, p);
      g_once_init_leave (&once, 1);
    }
  return &ix;
}

/* Four digits in a row: every dateline has a year. */
static gboolean
has_year (const char *s, gsize len)
{
  int run = 0;
  for (gsize i = 0; i < len; i++)
    {
      run = g_ascii_isdigit (s[i]) ? run + 1 : 0;
      if (run == 4)
        return TRUE;
    }
  return FALSE;
}

typedef struct {
  const char *p;
  const char *end;
} Cursor;

static void
skip_spaces (Cursor *c)
{
  while (c->p < c->end && is_space ((guchar) *c->p))
    c->p++;
}

static int
read_number (Cursor *c, int *ndigits)
{
  int v = 0, n = 0;
  while (c->p < c->end && g_ascii_isdigit (*c->p) && n < 5)
    {
      v = v * 10 + (*c->p - '0');
      c->p++;
      n++;
    }
  *ndigits = n;
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

static int
month_of (const char *w, gsize len)
{
  if (len == 0 || len > 40)
    return 0;
  g_autofree char *lower = strip_lower_dup (w, len);
  for (gsize i = 0; i < G_N_ELEMENTS (month_names); i++)
    if (strcmp (lower, month_names[i].word) == 0)
      return month_names[i].month;
  return 0;
}

/* Optional time after a date: [,] [at|um|à|в ...] HH:MM [am|pm]. */
static void
read_time (Cursor *c, DateVal *dv)
{
  Cursor t = *c;
  while (t.p < t.end && (is_space ((guchar) *t.p) || *t.p == ',' || *t.p == '-' || *t.p == '|'))
    t.p++;
  gsize wl = word_len (t.p, t.end);
  if (wl > 0 && wl <= 8)
    {
      g_autofree char *w = strip_lower_dup (t.p, wl);
      static const char *const at[] = { "at", "um", "à", "a", "às", "в", "о", "kl", NULL };
      if (strip_match_equal (w, at))
        {
          t.p += wl;
          skip_spaces (&t);
        }
    }
  int nd, nm;
  int hh = read_number (&t, &nd);
  if (nd < 1 || nd > 2 || t.p >= t.end || (*t.p != ':' && *t.p != '.' && *t.p != 'h'))
    return;
  t.p++;
  int mm = read_number (&t, &nm);
  if (nm != 2 || hh > 23 || mm > 59)
    return;
  if (t.p < t.end && *t.p == ':')
    {
      Cursor s = t;
      s.p++;
      int ns;
      read_number (&s, &ns);
      if (ns == 2)
        t = s;
    }
  Cursor ap = t;
  skip_spaces (&ap);
  if (ap.p + 1 < ap.end && (g_ascii_tolower (ap.p[0]) == 'p' || g_ascii_tolower (ap.p[0]) == 'a')
      && (g_ascii_tolower (ap.p[1]) == 'm' || ap.p[1] == '.'))
    {
      gboolean pm = g_ascii_tolower (ap.p[0]) == 'p';
      if (hh <= 12)
        {
          if (pm && hh < 12)
            hh += 12;
          else if (!pm && hh == 12)
            hh = 0;
        }
    }
  dv->hh = hh;
  dv->mm = mm;
  c->p = t.p;
}

static gboolean
date_valid (const DateVal *dv)
{
  return dv->y >= 1900 && dv->y <= 2100 && dv->m >= 1 && dv->m <= 12 && dv->d >= 1 && dv->d <= 31;
}

/* Reads one date at c->p: 2025-07-21[ 10:00], 22.07.2025[ 12:00],
 * July 23, 2025, 23 July 2025, 12 февраля 2026, 4 de março de 2026. */
static gboolean
read_date (Cursor *c, DateVal *dv)
{
  Cursor t = *c;
  dv->hh = dv->mm = -1;
  int n1, n2, n3;
  if (t.p < t.end && g_ascii_isdigit (*t.p))
    {
      int a = read_number (&t, &n1);
      if (n1 == 4 && t.p < t.end && (*t.p == '-' || *t.p == '/' || *t.p == '.'))
        {
          char sep = *t.p++;
          int b = read_number (&t, &n2);
          if (n2 < 1 || n2 > 2 || t.p >= t.end || *t.p != sep)
            return FALSE;
          t.p++;
          int d = read_number (&t, &n3);
          if (n3 < 1 || n3 > 2)
            return FALSE;
          *dv = (DateVal) { a, b, d, -1, -1 };
          if (t.p < t.end && *t.p == 'T')
            t.p++;
        }
      else if (n1 <= 2 && t.p < t.end && (*t.p == '.' || *t.p == '/' || *t.p == '-')
               && t.p + 1 < t.end && g_ascii_isdigit (t.p[1]))
        {
          char sep = *t.p++;
          int b = read_number (&t, &n2);
          if (n2 < 1 || n2 > 2 || t.p >= t.end || *t.p != sep)
            return FALSE;
          t.p++;
          int y = read_number (&t, &n3);
          if (n3 == 2)
            y += 2000;
          else if (n3 != 4)
            return FALSE;
          /* day first, unless only the other order is a date */
          if (b > 12 && a <= 12)
            *dv = (DateVal) { y, a, b, -1, -1 };
          else
            *dv = (DateVal) { y, b, a, -1, -1 };
        }
      else if (n1 <= 2)
        {
          /* 23 July 2025, 4. März 2026, 4 de março de 2026, 12 февраля 2026 года */
          if (t.p < t.end && *t.p == '.')
            t.p++;
          skip_spaces (&t);
          gsize wl = word_len (t.p, t.end);
          if (wl == 2 && strncmp (t.p, "de", 2) == 0)
            {
              t.p += 2;
              skip_spaces (&t);
              wl = word_len (t.p, t.end);
            }
          int m = month_of (t.p, wl);
          if (m == 0)
            return FALSE;
          t.p += wl;
          if (t.p < t.end && *t.p == '.')
            t.p++;
          skip_spaces (&t);
          if (t.p + 2 <= t.end && strncmp (t.p, "de", 2) == 0 && word_len (t.p, t.end) == 2)
            {
              t.p += 2;
              skip_spaces (&t);
            }
          if (t.p < t.end && *t.p == ',')
            t.p++;
          skip_spaces (&t);
          int y = read_number (&t, &n3);
          if (n3 != 4)
            return FALSE;
          *dv = (DateVal) { y, m, a, -1, -1 };
        }
      else
        return FALSE;
    }
  else
    {
      /* July 23, 2025 / Jul. 23 2025 */
      gsize wl = word_len (t.p, t.end);
      int m = month_of (t.p, wl);
      if (m == 0)
        return FALSE;
      t.p += wl;
      if (t.p < t.end && *t.p == '.')
        t.p++;
      skip_spaces (&t);
      int d = read_number (&t, &n1);
      if (n1 < 1 || n1 > 2)
        return FALSE;
      gsize sl = word_len (t.p, t.end);
      if (sl == 2)
        t.p += 2;   /* 1st, 2nd, 23rd, 4th */
      if (t.p < t.end && *t.p == ',')
        t.p++;
      skip_spaces (&t);
      int y = read_number (&t, &n3);
      if (n3 != 4)
        return FALSE;
      *dv = (DateVal) { y, m, d, -1, -1 };
    }
  if (!date_valid (dv))
    return FALSE;
  read_time (&t, dv);
  c->p = t.p;
  return TRUE;
}

static char *
date_iso (const DateVal *dv)
{
  if (dv->hh >= 0)
    return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d", dv->y, dv->m, dv->d, dv->hh, dv->mm);
  return g_strdup_printf ("%04d-%02d-%02d", dv->y, dv->m, dv->d);
}

/* Is @s (a whole unit) a dateline? Allows labels (Published:, Updated:),
 * a weekday, a place before the first comma (BANGKOK, 21.01.2026) and
 * several dates separated by | or -. Sets @published and @updated. */
gboolean
strip_parse_dateline (const char *s, gsize len, char **published, char **updated)
{
  if (!has_year (s, len))
    return FALSE;
  Cursor c = { s, s + len };
  gboolean any = FALSE, next_updated = FALSE, place_ok = TRUE;
  g_autofree char *pub = NULL, *upd = NULL;
  while (c.p < c.end)
    {
      guchar ch = (guchar) *c.p;
      if (is_space (ch) || ch == ',' || ch == '|' || ch == ':' || ch == '-' || ch == '/' || ch == '(' || ch == ')'
          || ch == '*' || ch == '_' || ch == '#' || ch == '.')
        {
          c.p++;
          continue;
        }
      if (ch == 0xE2 && c.p + 2 < c.end && (guchar) c.p[1] == 0x80
          && ((guchar) c.p[2] == 0x93 || (guchar) c.p[2] == 0x94 || (guchar) c.p[2] == 0xA2))
        {
          c.p += 3;   /* – — • */
          continue;
        }
      if (ch == 0xC2 && c.p + 1 < c.end && ((guchar) c.p[1] == 0xB7 || (guchar) c.p[1] == 0xA0))
        {
          c.p += 2;   /* · and no-break space */
          continue;
        }
      DateVal dv;
      if (read_date (&c, &dv))
        {
          char *iso = date_iso (&dv);
          if (next_updated && upd == NULL)
            upd = iso;
          else if (pub == NULL)
            pub = iso;
          else if (upd == NULL)
            upd = iso;
          else
            g_free (iso);
          any = TRUE;
          next_updated = FALSE;
          place_ok = FALSE;
          continue;
        }
      gsize wl = word_len (c.p, c.end);
      if (wl == 0)
        return FALSE;
      /* a label word (published, updated, am, um, года, ...) */
      g_autofree char *word = strip_lower_dup (c.p, wl);
      gboolean label = strip_word_index_has (date_label_words (), word);
      if (label)
        {
          c.p += wl;
          if (strip_match_equal (word, updated_labels))
            next_updated = TRUE;
        }
      if (label)
        continue;
      /* a place name before the first comma: up to three capitalised words */
      if (place_ok && !any)
        {
          const char *comma = memchr (c.p, ',', c.end - c.p);
          if (comma != NULL && strip_count_words (c.p, comma - c.p) <= 3 && strip_word_is_capitalised (c.p, wl))
            {
              c.p = comma + 1;
              place_ok = FALSE;
              continue;
            }
        }
      return FALSE;
    }
  if (!any)
    return FALSE;
  *published = g_steal_pointer (&pub);
  *updated = g_steal_pointer (&upd);
  if (*published == NULL)
    {
      *published = *updated;
      *updated = NULL;
    }
  return TRUE;
}

