/* test-date.c: dates written in text, read by galley_date_scan() and
 * galley_date_find() of libgalley-1. */
#include <galley/galley.h>

#include <string.h>

/* Reads @text with @flags; @iso is the ISO 8601 form expected (NULL: no
 * date), @used the bytes read (-1: all of @text). */
static void
check_scan (const char *file, int line, const char *text, GalleyDateFlags flags,
            const char *iso, gssize used)
{
  GalleyDate d;
  gsize n = galley_date_scan (text, strlen (text), flags, &d);
  g_autofree char *got = n > 0 ? galley_date_to_iso (&d) : NULL;
  gsize want_n = iso == NULL ? 0 : used < 0 ? strlen (text) : (gsize) used;
  if (g_strcmp0 (got, iso) != 0 || n != want_n)
    g_test_fail_printf ("%s:%d: \"%s\" (flags 0x%x) read as %s (%" G_GSIZE_FORMAT " bytes), expected %s"
                        " (%" G_GSIZE_FORMAT " bytes)", file, line, text, flags, got ? got : "no date", n,
                        iso ? iso : "no date", want_n);
}
#define CHECK(text, flags, iso, used) check_scan (__FILE__, __LINE__, text, flags, iso, used)

static void
test_forms (void)
{
  CHECK ("2025-07-21", 0, "2025-07-21", -1);
  CHECK ("2025/7/1", 0, "2025-07-01", -1);
  CHECK ("22.07.2025", 0, "2025-07-22", -1);
  CHECK ("21-07-2025", 0, "2025-07-21", -1);
  CHECK ("23 July 2025", 0, "2025-07-23", -1);
  CHECK ("23rd July, 2025", 0, "2025-07-23", -1);
  CHECK ("4. März 2026", 0, "2026-03-04", -1);
  CHECK ("4 de março de 2026", 0, "2026-03-04", -1);
  CHECK ("12 февраля 2026 года", 0, "2026-02-12", strlen ("12 февраля 2026"));
  CHECK ("12 ЛЮТОГО 2026", 0, "2026-02-12", -1);
  CHECK ("July 23, 2025", 0, "2025-07-23", -1);
  CHECK ("JULY 23 2025", 0, "2025-07-23", -1);
  CHECK ("Jul. 1st 2025", 0, "2025-07-01", -1);
  CHECK ("Sept. 9, 2025", 0, "2025-09-09", -1);
  /* what follows the date is not read */
  CHECK ("July 23, 2025, in Kyiv", 0, "2025-07-23", strlen ("July 23, 2025"));
  CHECK ("2025-07-21 is a Monday", 0, "2025-07-21", 10);
  /* no date at the start */
  CHECK ("on July 23, 2025", 0, NULL, 0);
  CHECK ("Julyx 23, 2025", 0, NULL, 0);
  CHECK ("12 people", 0, NULL, 0);
  CHECK ("", 0, NULL, 0);
}

static void
test_partial (void)
{
  /* without GALLEY_DATE_PARTIAL a year is needed */
  CHECK ("July 23", 0, NULL, 0);
  CHECK ("23 July", 0, NULL, 0);
  CHECK ("July 2025", 0, NULL, 0);
  CHECK ("July 23", GALLEY_DATE_PARTIAL, "XXXX-07-23", -1);
  CHECK ("23rd July", GALLEY_DATE_PARTIAL, "XXXX-07-23", -1);
  CHECK ("July 23, 12 people", GALLEY_DATE_PARTIAL, "XXXX-07-23", strlen ("July 23"));
  CHECK ("July 2025", GALLEY_DATE_PARTIAL, "2025-07", -1);
  CHECK ("February 29", GALLEY_DATE_PARTIAL, "XXXX-02-29", -1);
  CHECK ("February 30", GALLEY_DATE_PARTIAL, NULL, 0);
}

static void
test_time (void)
{
  GalleyDateFlags t = GALLEY_DATE_WITH_TIME;
  CHECK ("2025-07-21 10:00", t, "2025-07-21T10:00", -1);
  CHECK ("2025-07-21T10:00:30Z", t, "2025-07-21T10:00", strlen ("2025-07-21T10:00:30"));
  CHECK ("22.07.2025 um 12:00", t, "2025-07-22T12:00", -1);
  CHECK ("July 23, 2025, at 3:30 pm", t, "2025-07-23T15:30", strlen ("July 23, 2025, at 3:30"));
  CHECK ("July 23, 2025 12.05 am", t, "2025-07-23T00:05", strlen ("July 23, 2025 12.05"));
  /* not a time: the date alone */
  CHECK ("2025-07-21 25:00", t, "2025-07-21", 10);
  CHECK ("2025-07-21 10:7", t, "2025-07-21", 10);
  /* without the flag the time is not read */
  CHECK ("2025-07-21 10:00", 0, "2025-07-21", 10);
}

static void
test_invalid (void)
{
  CHECK ("31 February 2025", 0, NULL, 0);
  CHECK ("February 31, 2025", 0, NULL, 0);
  CHECK ("2025-02-29", 0, NULL, 0);
  CHECK ("2024-02-29", 0, "2024-02-29", -1);
  CHECK ("31.04.2025", 0, NULL, 0);
  CHECK ("2025-13-01", 0, NULL, 0);
  CHECK ("2025-00-10", 0, NULL, 0);
  CHECK ("2025-07-00", 0, NULL, 0);
  CHECK ("13.13.2025", 0, NULL, 0);
  CHECK ("32 July 2025", 0, NULL, 0);
  CHECK ("July 32, 2025", 0, NULL, 0);
  CHECK ("July 123, 2025", 0, NULL, 0);
  g_assert_false (galley_date_valid_ymd (2025, 2, 29));
  g_assert_true (galley_date_valid_ymd (2000, 2, 29));
  g_assert_false (galley_date_valid_ymd (1900, 2, 29));
  g_assert_true (galley_date_valid_ymd (0, 2, 29));
  g_assert_false (galley_date_valid_ymd (2025, 13, 1));
  g_assert_false (galley_date_valid_ymd (2025, 4, 31));
}

static void
test_years (void)
{
  /* years have four digits, 1000 to 9999 */
  CHECK ("0999-01-01", 0, NULL, 0);
  CHECK ("10000-01-01", 0, NULL, 0);
  CHECK ("July 23, 999", GALLEY_DATE_PARTIAL, "XXXX-07-23", strlen ("July 23"));
  CHECK ("23 July 20255", GALLEY_DATE_PARTIAL, "XXXX-07-23", strlen ("23 July"));
  CHECK ("1.1.1000", 0, "1000-01-01", -1);
  CHECK ("31.12.9999", 0, "9999-12-31", -1);
  /* two-digit years only in numeric dates and only when asked for */
  CHECK ("22.07.25", 0, NULL, 0);
  CHECK ("22.07.25", GALLEY_DATE_SHORT_YEAR, "2025-07-22", -1);
  CHECK ("23 July 25", 0, NULL, 0);
  g_assert_false (galley_date_valid_ymd (999, 1, 1));
  g_assert_false (galley_date_valid_ymd (10000, 1, 1));
}

static void
test_order (void)
{
  /* day first by default, month first with slashes when asked */
  CHECK ("07/08/2025", 0, "2025-08-07", -1);
  CHECK ("07/08/2025", GALLEY_DATE_MONTH_FIRST, "2025-07-08", -1);
  CHECK ("07.08.2025", GALLEY_DATE_MONTH_FIRST, "2025-08-07", -1);
  CHECK ("07-08-2025", GALLEY_DATE_MONTH_FIRST, "2025-08-07", -1);
  /* the other order when only it is a date */
  CHECK ("07/21/2025", 0, "2025-07-21", -1);
  CHECK ("21/07/2025", GALLEY_DATE_MONTH_FIRST, "2025-07-21", -1);
  CHECK ("07.21.2025", 0, "2025-07-21", -1);
  CHECK ("21/21/2025", GALLEY_DATE_MONTH_FIRST, NULL, 0);
  /* ISO is always year, month, day */
  CHECK ("2025-08-07", GALLEY_DATE_MONTH_FIRST, "2025-08-07", -1);
}

static void
test_month_names (void)
{
  g_assert_cmpint (galley_date_month_from_name ("July", 4, 0), ==, 7);
  g_assert_cmpint (galley_date_month_from_name ("SEPT", 4, 0), ==, 9);
  g_assert_cmpint (galley_date_month_from_name ("Mär", 4, 0), ==, 0);
  g_assert_cmpint (galley_date_month_from_name ("MÄRZ", strlen ("MÄRZ"), 0), ==, 3);
  g_assert_cmpint (galley_date_month_from_name ("Mai", 3, 0), ==, 5);
  g_assert_cmpint (galley_date_month_from_name ("Mai", 3, GALLEY_DATE_ENGLISH), ==, 0);
  g_assert_cmpint (galley_date_month_from_name ("мая", strlen ("мая"), 0), ==, 5);
  g_assert_cmpint (galley_date_month_from_name ("Julys", 4, 0), ==, 7);   /* @len bytes only */
  g_assert_cmpint (galley_date_month_from_name ("Ju", 2, 0), ==, 0);
  /* English only: other languages' names are no months */
  CHECK ("4 de março de 2026", GALLEY_DATE_ENGLISH, NULL, 0);
  CHECK ("5 Mai 2026", GALLEY_DATE_ENGLISH, NULL, 0);
  CHECK ("5 May 2026", GALLEY_DATE_ENGLISH, "2026-05-05", -1);
}

static void
test_find (void)
{
  GalleyDate d;
  GalleyDateFlags f = GALLEY_DATE_MONTH_FIRST | GALLEY_DATE_ENGLISH;
  g_assert_true (galley_date_find ("Monday, July 21, 2025", 200, f, &d));
  g_assert_cmpint (d.year, ==, 2025);
  g_assert_cmpint (d.month, ==, 7);
  g_assert_cmpint (d.day, ==, 21);
  g_assert_true (galley_date_find ("2025-07-21T10:00:00Z", 200, f, &d));
  g_assert_cmpint (d.day, ==, 21);
  g_assert_true (galley_date_find ("  07/04/2025", 200, f, &d));
  g_assert_cmpint (d.month, ==, 7);
  /* only full dates, only at the start of a word, only within max_len */
  g_assert_false (galley_date_find ("in July 2025", 200, f, &d));
  g_assert_false (galley_date_find ("x2025-07-21", 200, f, &d));
  g_assert_false (galley_date_find ("published on July 21, 2025", 10, f, &d));
  g_assert_false (galley_date_find ("nothing here", 200, f, &d));
  g_assert_cmpint (d.fields, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/date/forms", test_forms);
  g_test_add_func ("/date/partial", test_partial);
  g_test_add_func ("/date/time", test_time);
  g_test_add_func ("/date/invalid", test_invalid);
  g_test_add_func ("/date/years", test_years);
  g_test_add_func ("/date/order", test_order);
  g_test_add_func ("/date/month-names", test_month_names);
  g_test_add_func ("/date/find", test_find);
  return g_test_run ();
}
