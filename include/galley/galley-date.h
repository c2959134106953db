/* galley-date.h: dates written in text ("July 23, 2025", "22.07.2025",
 * "4 de março de 2026", "2025-07-21 10:00") read into their parts.
 *
 * One parser for every stage that reads dates: the strip stage's
 * datelines and the entities stage's DATE mentions use it. It reads
 * absolute dates only; what a relative date ("last Friday") means
 * depends on a reference day and is the caller's business.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-macros.h>

G_BEGIN_DECLS

/**
 * GalleyDateFields:
 * @GALLEY_DATE_YEAR: the year was written
 * @GALLEY_DATE_MONTH: the month was written
 * @GALLEY_DATE_DAY: the day of the month was written
 * @GALLEY_DATE_TIME: a time of day (hours and minutes) was written
 *
 * Which parts of a #GalleyDate the text held.
 */
typedef enum {
  GALLEY_DATE_YEAR  = 1 << 0,
  GALLEY_DATE_MONTH = 1 << 1,
  GALLEY_DATE_DAY   = 1 << 2,
  GALLEY_DATE_TIME  = 1 << 3,
} GalleyDateFields;

/* A full date has a year, a month and a day. */
#define GALLEY_DATE_YMD (GALLEY_DATE_YEAR | GALLEY_DATE_MONTH | GALLEY_DATE_DAY)

/**
 * GalleyDate:
 * @year: 1000..9999, 0 when absent
 * @month: 1..12, 0 when absent
 * @day: 1..31 (a day the month has), 0 when absent
 * @hour: 0..23, -1 when absent
 * @minute: 0..59, -1 when absent
 * @fields: which of the above the text held
 *
 * A date read from text. Whatever it holds is a real calendar day:
 * 31 February is never read, and 29 February only in a leap year (or
 * without a year).
 */
typedef struct {
  int              year, month, day;
  int              hour, minute;
  GalleyDateFields fields;
} GalleyDate;

/**
 * GalleyDateFlags:
 * @GALLEY_DATE_DEFAULT: full dates, month names in all languages, numeric
 *   dates day first
 * @GALLEY_DATE_MONTH_FIRST: "07/08/2025" (with slashes) is 8 July, the US
 *   order; without it, 7 August. Either way, when only the other order is
 *   a date ("07/21/2025", "21/07/2025"), that order is read. Dates with
 *   dots or hyphens are always read day first.
 * @GALLEY_DATE_ENGLISH: month names in English only ("July", "Jul",
 *   "Sept"); without it also German, French, Spanish, Portuguese, Russian
 *   and Ukrainian ones ("März", "juillet", "de março de", "февраля")
 * @GALLEY_DATE_PARTIAL: also dates without a year ("July 23", "23rd July")
 *   or without a day ("July 2025")
 * @GALLEY_DATE_WITH_TIME: also a time after the date ("2025-07-21T10:00",
 *   "July 23, 2025, 3:30 pm", "22.07.2025 um 12:00")
 * @GALLEY_DATE_SHORT_YEAR: numeric dates with a two-digit year
 *   ("22.07.25" is 2025-07-22)
 *
 * How galley_date_scan() reads.
 */
typedef enum {
  GALLEY_DATE_DEFAULT     = 0,
  GALLEY_DATE_MONTH_FIRST = 1 << 0,
  GALLEY_DATE_ENGLISH     = 1 << 1,
  GALLEY_DATE_PARTIAL     = 1 << 2,
  GALLEY_DATE_WITH_TIME   = 1 << 3,
  GALLEY_DATE_SHORT_YEAR  = 1 << 4,
} GalleyDateFlags;

/**
 * galley_date_scan:
 * @text: UTF-8 text (need not be NUL-terminated)
 * @len: length of @text in bytes
 * @flags: #GalleyDateFlags
 * @out: (out): the date read
 *
 * Reads one date at the very start of @text. The forms, tried in this
 * order: `2025-07-21` (also with `/` or `.`); `22.07.2025`, `07/21/2025`
 * (also with `-`; see @GALLEY_DATE_MONTH_FIRST); `23 July 2025`,
 * `4. März 2026`, `4 de março de 2026`, `23rd July, 2025`; `July 23, 2025`,
 * `Jul. 23rd 2025`; and with @GALLEY_DATE_PARTIAL `July 2025`. Case does
 * not matter. Years have four digits (1000 to 9999) unless
 * @GALLEY_DATE_SHORT_YEAR allows two in numeric dates.
 *
 * Returns: the number of bytes read (up to the end of the last part read,
 *   spaces after it not included), 0 when @text does not start with a date
 */
GALLEY_API gsize galley_date_scan (const char *text, gsize len, GalleyDateFlags flags,
                                   GalleyDate *out);

/**
 * galley_date_find:
 * @text: UTF-8 text, NUL-terminated
 * @max_len: how many bytes of @text to search
 * @flags: #GalleyDateFlags
 * @out: (out): the date read
 *
 * Finds the first full date (year, month and day) that starts a word in
 * the first @max_len bytes of @text: "Monday, July 21, 2025" gives
 * 2025-07-21, and so does "2025-07-21T10:00:00Z".
 *
 * Returns: %TRUE when a date was found
 */
GALLEY_API gboolean galley_date_find (const char *text, gsize max_len, GalleyDateFlags flags,
                                      GalleyDate *out);

/**
 * galley_date_month_from_name:
 * @word: a word (need not be NUL-terminated), any case
 * @len: its length in bytes
 * @flags: only @GALLEY_DATE_ENGLISH is looked at
 *
 * Returns: the month 1..12 that @word names ("July", "jul", "Sept",
 *   "März", "février", "мая"), 0 when it names none
 */
GALLEY_API int galley_date_month_from_name (const char *word, gsize len, GalleyDateFlags flags);

/**
 * galley_date_valid_ymd:
 * @year: any year (1000 to 9999 pass), or 0 for "any year"
 * @month: 1..12
 * @day: 1..31
 *
 * Returns: %TRUE when the day exists: 31 April does not, 29 February only
 *   in a leap year or when @year is 0
 */
GALLEY_API gboolean galley_date_valid_ymd (int year, int month, int day);

/**
 * galley_date_to_iso:
 * @date: a date galley_date_scan() read
 *
 * Writes @date in ISO 8601: `2025-07-21`, `2025-07-21T10:00` with a time,
 * `2025-07` without a day, `XXXX-07-23` without a year, `2025` for a year
 * alone.
 *
 * Returns: (transfer full): the text, or %NULL when @date holds no month
 *   and no year
 */
GALLEY_API char *galley_date_to_iso (const GalleyDate *date);

G_END_DECLS
