/* strip-dateline.c: datelines and timestamps of the text mode.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip-text-private.h"

#include <string.h>

/* ---- datelines ---------------------------------------------------------- */

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

/* One date at c->p (see galley_date_scan()), ISO 8601, or NULL: years
 * before 1900 and after 2100 are no dateline's. */
static char *
read_date (Cursor *c)
{
  GalleyDate d;
  gsize n = galley_date_scan (c->p, c->end - c->p, GALLEY_DATE_WITH_TIME | GALLEY_DATE_SHORT_YEAR, &d);
  if (n == 0 || d.year < 1900 || d.year > 2100)
    return NULL;
  c->p += n;
  return galley_date_to_iso (&d);
}

/* Skips one separator between the parts of a dateline: spaces and
 * , | : - / ( ) * _ # . – — • · and the no-break space. */
static gboolean
skip_separator (Cursor *c)
{
  guchar ch = (guchar) *c->p;
  if (is_space (ch) || (ch != '\0' && strchr (",|:-/()*_#.", ch) != NULL))
    {
      c->p++;
      return TRUE;
    }
  if (ch == 0xE2 && c->p + 2 < c->end && (guchar) c->p[1] == 0x80
      && ((guchar) c->p[2] == 0x93 || (guchar) c->p[2] == 0x94 || (guchar) c->p[2] == 0xA2))
    {
      c->p += 3;   /* – — • */
      return TRUE;
    }
  if (ch == 0xC2 && c->p + 1 < c->end && ((guchar) c->p[1] == 0xB7 || (guchar) c->p[1] == 0xA0))
    {
      c->p += 2;   /* · and no-break space */
      return TRUE;
    }
  return FALSE;
}

/* The first date is the published one, the next the updated one, unless
 * an "Updated" label came first. */
static void
keep_date (char *iso, gboolean next_updated, char **pub, char **upd)
{
  if (next_updated && *upd == NULL)
    *upd = iso;
  else if (*pub == NULL)
    *pub = iso;
  else if (*upd == NULL)
    *upd = iso;
  else
    g_free (iso);
}

/* Skips a label word (published, updated, am, um, года, ...); sets
 * *@next_updated after an "updated" one. */
static gboolean
skip_label (Cursor *c, gsize wl, gboolean *next_updated)
{
  g_autofree char *word = strip_lower_dup (c->p, wl);
  if (!strip_word_index_has (date_label_words (), word))
    return FALSE;
  c->p += wl;
  if (strip_match_equal (word, updated_labels))
    *next_updated = TRUE;
  return TRUE;
}

/* Skips a place name before the first comma: up to three capitalised words. */
static gboolean
skip_place (Cursor *c, gsize wl)
{
  const char *comma = memchr (c->p, ',', c->end - c->p);
  if (comma == NULL || strip_count_words (c->p, comma - c->p) > 3 || !strip_word_is_capitalised (c->p, wl))
    return FALSE;
  c->p = comma + 1;
  return TRUE;
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
      if (skip_separator (&c))
        continue;
      char *iso = read_date (&c);
      if (iso != NULL)
        {
          keep_date (iso, next_updated, &pub, &upd);
          any = TRUE;
          next_updated = FALSE;
          place_ok = FALSE;
          continue;
        }
      gsize wl = word_len (c.p, c.end);
      if (wl == 0)
        return FALSE;
      if (skip_label (&c, wl, &next_updated))
        continue;
      if (!place_ok || any || !skip_place (&c, wl))
        return FALSE;
      place_ok = FALSE;
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
