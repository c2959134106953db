/* test-entities.c: the entities stage: mentions and offsets, canonical
 * names and roles, dates against a reference day, the document summary,
 * bad input, bad options and bad data files, and the five seed articles
 * (when ../shared/seeds is present) against the gold in
 * tests/data/entities-seeds.tsv. Sample sentences are written for these
 * tests. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static GalleyHarness *
harness_v (const char *const *opts, GError **error)
{
  return galley_harness_new ("entities", opts, error);
}

static GalleyHarness *
harness (const char *first_option, ...)
{
  g_autoptr(GPtrArray) opts = g_ptr_array_new ();
  va_list ap;
  va_start (ap, first_option);
  for (const char *o = first_option; o != NULL; o = va_arg (ap, const char *))
    g_ptr_array_add (opts, (gpointer) o);
  va_end (ap);
  g_ptr_array_add (opts, NULL);
  g_autoptr(GError) error = NULL;
  GalleyHarness *h = harness_v ((const char *const *) opts->pdata, &error);
  g_assert_no_error (error);
  return h;
}

static GalleyDocument *
run_doc (GalleyHarness *h, const char *text, const char *date)
{
  GalleyDocument *doc = galley_document_new ("t", NULL);
  galley_document_set_text (doc, text, -1);
  if (date != NULL)
    galley_document_set_meta_string (doc, "date", date);
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_no_error (error);
  return doc;
}

/* The first annotation with this text (and type, when not NULL). */
static GalleyAnnotation *
find (GalleyDocument *doc, const char *text, const char *type)
{
  for (guint i = 0; i < galley_document_get_n_annotations (doc); i++)
    {
      GalleyAnnotation *a = galley_document_get_annotation (doc, i);
      if (strcmp (a->text, text) == 0 && (type == NULL || strcmp (a->type, type) == 0))
        return a;
    }
  return NULL;
}

static void
assert_mention (GalleyDocument *doc, const char *text, const char *type, const char *canonical)
{
  GalleyAnnotation *a = find (doc, text, NULL);
  if (a == NULL)
    g_error ("no mention '%s'", text);
  g_assert_cmpstr (a->type, ==, type);
  g_assert_cmpstr (a->layer, ==, "entities");
  g_assert_cmpstr (a->canonical, ==, canonical);
}

static void
test_people_places_organisations (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *text =
    "Ukrainian President Volodymyr Zelenskyy met NATO Secretary General Mark Rutte in Kiev on Tuesday.\n"
    "Zelenskiy said the talks with the Kremlin would continue in Türkiye, and Rutte's team flew on to the U.S.\n"
    "Kremlin spokesman Dmitry Peskov said nothing had changed. Peskov spoke to Reuters in Moscow.";
  g_autoptr(GalleyDocument) doc = run_doc (h, text, "2025-07-21");
  assert_mention (doc, "Volodymyr Zelenskyy", "PER", "Volodymyr Zelensky");
  assert_mention (doc, "Zelenskiy", "PER", "Volodymyr Zelensky");
  assert_mention (doc, "Mark Rutte", "PER", "Mark Rutte");
  assert_mention (doc, "Rutte", "PER", "Mark Rutte");          /* "Rutte's": the name without 's */
  assert_mention (doc, "Kiev", "LOC", "Kyiv");
  assert_mention (doc, "Türkiye", "LOC", "Turkey");
  assert_mention (doc, "U.S.", "LOC", "United States");
  assert_mention (doc, "Kremlin", "ORG", "Kremlin");
  assert_mention (doc, "Dmitry Peskov", "PER", "Dmitry Peskov");
  assert_mention (doc, "Peskov", "PER", "Dmitry Peskov");
  assert_mention (doc, "Moscow", "LOC", "Moscow");
  assert_mention (doc, "Reuters", "ORG", "Reuters");

  /* offsets are code points of the final text */
  GalleyAnnotation *a = find (doc, "Türkiye", NULL);
  const char *p = g_utf8_offset_to_pointer (text, a->start);
  g_assert_true (g_str_has_prefix (p, "Türkiye,"));
  g_assert_cmpint (a->end - a->start, ==, 7);

  /* roles */
  a = find (doc, "Volodymyr Zelenskyy", NULL);
  json_object *role;
  g_assert_nonnull (a->attrs);
  g_assert_true (json_object_object_get_ex (a->attrs, "role", &role));
  g_assert_cmpstr (json_object_get_string (role), ==, "President");
  a = find (doc, "Dmitry Peskov", NULL);
  g_assert_true (a->attrs != NULL && json_object_object_get_ex (a->attrs, "role", &role));
  g_assert_cmpstr (json_object_get_string (role), ==, "Kremlin spokesman");

  /* the summary */
  json_object *top;
  g_assert_true (json_object_object_get_ex (galley_document_get_meta (doc), "entities_top", &top));
  g_assert_cmpint (json_object_array_length (top), >=, 3);
  json_object *first = json_object_array_get_idx (top, 0), *v;
  g_assert_true (json_object_object_get_ex (first, "count", &v));
  g_assert_cmpint (json_object_get_int (v), >=, 2);

  /* the exported record carries the spans */
  g_autoptr(json_object) rec = galley_document_to_json (doc);
  json_object *ents;
  g_assert_true (json_object_object_get_ex (rec, "entities", &ents));
  g_assert_cmpint (json_object_array_length (ents), ==, galley_document_get_n_annotations (doc));
}

/* No mention with this text (of any type). */
static void
assert_no_mention (GalleyDocument *doc, const char *text)
{
  if (find (doc, text, NULL) != NULL)
    g_error ("unexpected mention '%s'", text);
}

/* The forms of names the rules complete or reject: regnal numbers,
 * epithets, "Jr.", an Arabic article, a double-barrelled surname, a
 * given name that is also a city, a town with its state, a town
 * GeoNames knows, an acronym after its organisation; places that name
 * a treaty and family names used as modifiers are no names. */
static void
test_name_forms (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autoptr(GalleyDocument) a = run_doc (h,
    "Queen Elizabeth II visited Canada in 1959. Louis the German invaded Moravia.\n"
    "Their first king was Moj\u00edr I (ruled 830\u2013846).\n"
    "It contains a monument to Martin Luther King, Jr. near the river.\n"
    "The minister, Mohammed al-Jadaan, said the budget was balanced.\n"
    "Interior Minister Sofia Marangoni toured the worst-hit areas on Monday.\n"
    "The sale of midfielder Joel Adebayo-Lund to Castlemoor United funds it.", NULL);
  assert_mention (a, "Elizabeth II", "PER", "Elizabeth II");
  assert_mention (a, "Louis the German", "PER", "Louis the German");
  assert_mention (a, "Moj\u00edr I", "PER", "Moj\u00edr I");
  assert_mention (a, "Martin Luther King, Jr.", "PER", "Martin Luther King, Jr.");
  assert_mention (a, "Mohammed al-Jadaan", "PER", "Mohammed al-Jadaan");
  assert_mention (a, "Sofia Marangoni", "PER", "Sofia Marangoni");
  assert_mention (a, "Joel Adebayo-Lund", "PER", "Joel Adebayo-Lund");
  assert_no_mention (a, "Sofia");
  assert_no_mention (a, "Elizabeth");
  assert_no_mention (a, "Martin Luther King");

  /* a town and its state are one place; a list of states is not */
  g_autoptr(GalleyDocument) b = run_doc (h,
    "The company has its headquarters in Denver, Colorado, where it was founded.\n"
    "Farms in Texas, Colorado and Utah were hit by the drought.\n"
    "After the war he returned to Kirriemuir, where he wrote the play.", NULL);
  assert_mention (b, "Denver, Colorado", "LOC", "Denver, Colorado");
  assert_mention (b, "Texas", "LOC", "Texas");
  assert_mention (b, "Utah", "LOC", "Utah");
  assert_mention (b, "Kirriemuir", "LOC", "Kirriemuir");
  g_assert_nonnull (find (b, "Colorado", "LOC"));

  /* a treaty named after a place, a family as a modifier */
  g_autoptr(GalleyDocument) c = run_doc (h,
    "The Paris Agreement will slow climate change, as will the Kigali Amendment.\n"
    "The Treaty of London was signed on 30 May 1913.\n"
    "This idealized vision of the Romanov monarchy blinded him to the facts.", NULL);
  assert_no_mention (c, "Paris");
  assert_no_mention (c, "Kigali");
  assert_no_mention (c, "London");
  assert_no_mention (c, "Romanov");

  /* an acronym in brackets after the organisation it names */
  g_autoptr(GalleyDocument) d = run_doc (h,
    "Amin works for the International Renewable Energy Agency (IRENA) in Abu Dhabi.", NULL);
  assert_mention (d, "International Renewable Energy Agency", "ORG", "International Renewable Energy Agency");
  g_assert_nonnull (find (d, "IRENA", "ORG"));
}

static void
test_news_conventions (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  /* a wire dateline, a headline in capitals and a results line */
  g_autoptr(GalleyDocument) a = run_doc (h,
    "LONDON 1996-08-22\nSOCCER - ENGLISH LEAGUE RESULTS .\n"
    "Arsenal 2 ( Wright 34 , Bergkamp 67 ) Chelsea 1 ( Zola 12 )", NULL);
  assert_mention (a, "LONDON", "LOC", "London");
  assert_mention (a, "Arsenal", "ORG", "Arsenal");
  assert_mention (a, "Chelsea", "ORG", "Chelsea");
  assert_mention (a, "Wright", "PER", "Wright");
  assert_mention (a, "Zola", "PER", "Zola");
  assert_no_mention (a, "ENGLISH");

  /* "the West" is no organisation; a quoted title is no name */
  g_autoptr(GalleyDocument) b = run_doc (h,
    "Turkey will host the talks as the West increases pressure on the Kremlin.\n"
    "Her single \"Shaky Ground\" reached the top 50 in Canada.", NULL);
  assert_mention (b, "Turkey", "LOC", "Turkey");
  assert_mention (b, "Kremlin", "ORG", "Kremlin");
  assert_mention (b, "Canada", "LOC", "Canada");
  assert_no_mention (b, "West");
  assert_no_mention (b, "West increases");
  assert_no_mention (b, "Shaky Ground");

  /* a dash between two names separates them */
  g_autoptr(GalleyDocument) c = run_doc (h, "Officials prepared for the Zelensky\u2013Putin talks in Istanbul.", NULL);
  assert_mention (c, "Putin", "PER", "Vladimir Putin");
  assert_mention (c, "Istanbul", "LOC", "Istanbul");
  for (guint i = 0; i < galley_document_get_n_annotations (c); i++)
    g_assert_null (strstr (galley_document_get_annotation (c, i)->text, "\u2013"));

  /* one name, one type through the document, the headline included (an
   * unknown one-word name: person or place, but the same each time) */
  g_autoptr(GalleyDocument) d = run_doc (h,
    "Orvane won the vote in Kestrel County. Later that year Orvane moved to Lisbon.\n"
    "ORVANE VISITS LISBON\nVoters said Orvane had promised new roads.", NULL);
  guint n_orvane = 0;
  const char *orvane_type = NULL;
  for (guint i = 0; i < galley_document_get_n_annotations (d); i++)
    {
      GalleyAnnotation *x = galley_document_get_annotation (d, i);
      if (g_ascii_strcasecmp (x->text, "Orvane") == 0)
        {
          if (orvane_type == NULL)
            orvane_type = x->type;
          g_assert_cmpstr (x->type, ==, orvane_type);
          n_orvane++;
        }
    }
  g_assert_cmpuint (n_orvane, ==, 4);
  assert_mention (d, "Lisbon", "LOC", "Lisbon");
}

static void
test_dates (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *text =
    "The talks will take place on Wednesday, officials said on Monday.\n"
    "The first round was held on May 16 and the second on 2 June 2025.\n"
    "Meetings held last month failed; another is planned for next week.\n"
    "The report, dated 22.07.2025, cites a decree of 2025-07-01 and a war that began on February 24, 2022.\n"
    "Prices rose 15 percent to $5.2 million two days ago.";
  g_autoptr(GalleyDocument) doc = run_doc (h, text, "2025-07-21T09:30:00Z");
  assert_mention (doc, "Wednesday", "DATE", "2025-07-23");
  assert_mention (doc, "Monday", "DATE", "2025-07-21");
  assert_mention (doc, "May 16", "DATE", "2025-05-16");
  assert_mention (doc, "2 June 2025", "DATE", "2025-06-02");
  assert_mention (doc, "last month", "DATE", "2025-06");
  assert_mention (doc, "next week", "DATE", "2025-W31");
  assert_mention (doc, "22.07.2025", "DATE", "2025-07-22");
  assert_mention (doc, "2025-07-01", "DATE", "2025-07-01");
  assert_mention (doc, "February 24, 2022", "DATE", "2022-02-24");
  assert_mention (doc, "two days ago", "DATE", "2025-07-19");
  assert_mention (doc, "15 percent", "PERCENT", "15%");
  assert_mention (doc, "$5.2 million", "MONEY", "5200000 USD");
}

/* Written dates are read by galley_date_scan(): slashes month first, a
 * day that does not exist is no date, a date in a URL's path is none. */
static void
test_dates_written (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *text =
    "The letter of 07/08/2025 was answered on 07.22.2025 and again on August 11,2000.\n"
    "No meeting on 31 February 2025 or on February 30, 2025 took place.\n"
    "The story is at https://example.com/2025/07/21/talks and /2025-07-21/ too.";
  g_autoptr(GalleyDocument) doc = run_doc (h, text, "2025-07-21");
  assert_mention (doc, "07/08/2025", "DATE", "2025-07-08");
  assert_mention (doc, "07.22.2025", "DATE", "2025-07-22");
  assert_mention (doc, "August 11,2000", "DATE", "2000-08-11");
  assert_no_mention (doc, "31 February 2025");
  assert_no_mention (doc, "February 30, 2025");
  assert_no_mention (doc, "2025/07/21");
  assert_no_mention (doc, "2025-07-21");
}

static void
test_reference_date (void)
{
  const char *text = "Officials said on Friday that talks would resume tomorrow.";
  g_autoptr(GalleyHarness) fixed = harness ("reference-date=2025-07-21", NULL);
  g_autoptr(GalleyDocument) a = run_doc (fixed, text, NULL);
  assert_mention (a, "Friday", "DATE", "2025-07-18");
  assert_mention (a, "tomorrow", "DATE", "2025-07-22");
  /* meta.date wins over the option */
  g_autoptr(GalleyDocument) b = run_doc (fixed, text, "2025-01-06");
  assert_mention (b, "tomorrow", "DATE", "2025-01-07");
  /* a dateline in the text when there is no meta.date */
  g_autoptr(GalleyHarness) none = harness ("reference-date=none", NULL);
  g_autoptr(GalleyDocument) c = run_doc (none, "March 3, 2024\n\nThe minister resigned on Friday.", NULL);
  assert_mention (c, "Friday", "DATE", "2024-03-01");
  /* nothing to resolve against: a DATE without canonical */
  g_autoptr(GalleyHarness) bare = harness ("reference-date=none", "date-from-text=false", NULL);
  g_autoptr(GalleyDocument) d = run_doc (bare, text, NULL);
  assert_mention (d, "Friday", "DATE", NULL);
}

/* The day after @d, as YYYY-MM-DD. */
static char *
day_after (const GDate *d)
{
  GDate t = *d;
  g_date_add_days (&t, 1);
  return g_strdup_printf ("%04u-%02u-%02u", g_date_get_year (&t), g_date_get_month (&t), g_date_get_day (&t));
}

/* reference-date=today (the default): without meta.date or a dateline,
 * relative dates are resolved against the run's date; the other spans
 * (money, percentages, dates that need no day) come out once, as with a
 * fixed reference day. Checked on a short text and on one of several
 * chunks (over 64 KB), where the text is read again. */
/* Gazetteer names of several words: the longest that starts at a word
 * wins, also when the words before its end are no name of their own,
 * and a shorter name is found where a longer one does not go on. */
static void
test_long_names (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autoptr(GalleyDocument) doc = run_doc (h, "Officials of the Organisation for Economic Co-operation and Development "
                                              "met fans of the New York Jets in New York City on Monday. Later they flew "
                                              "from New York to Paris.", "2025-07-21");
  GalleyAnnotation *a = find (doc, "Organisation for Economic Co-operation and Development", NULL);
  g_assert_nonnull (a);
  g_assert_cmpstr (a->type, ==, "ORG");
  a = find (doc, "New York Jets", NULL);
  g_assert_nonnull (a);
  g_assert_cmpstr (a->type, ==, "ORG");
  a = find (doc, "New York City", NULL);
  g_assert_nonnull (a);
  g_assert_cmpstr (a->type, ==, "LOC");
  a = find (doc, "New York", NULL);
  g_assert_nonnull (a);
  g_assert_cmpstr (a->type, ==, "LOC");
  g_assert_null (find (doc, "New", NULL));
}

static void
test_run_date (void)
{
  const char *sentence = "Shares rose 5% to $3 million on 3 May, officials said, and talks resume tomorrow.";
  g_autoptr(GalleyHarness) h = harness (NULL);
  GString *big = g_string_new (NULL);
  while (big->len < 150000)
    g_string_append (big, "The committee met again and the members talked about the budget for a long time.\n");
  g_string_append (big, sentence);
  const char *texts[] = { sentence, big->str };
  for (gsize k = 0; k < G_N_ELEMENTS (texts); k++)
    {
      GDate before, after;
      g_date_clear (&before, 1);
      g_date_clear (&after, 1);
      g_date_set_time_t (&before, time (NULL));
      g_autoptr(GalleyDocument) doc = run_doc (h, texts[k], NULL);
      g_date_set_time_t (&after, time (NULL));
      if (g_date_compare (&before, &after) != 0)
        {
          g_test_skip ("the date changed during the run");
          break;
        }
      g_autofree char *tomorrow = day_after (&before);
      g_autofree char *may = g_strdup_printf ("%04u-05-03", g_date_get_year (&before));
      assert_mention (doc, "tomorrow", "DATE", tomorrow);
      assert_mention (doc, "3 May", "DATE", may);
      assert_mention (doc, "5%", "PERCENT", "5%");
      assert_mention (doc, "$3 million", "MONEY", "3000000 USD");
      guint dates = 0, others = 0;
      for (guint i = 0; i < galley_document_get_n_annotations (doc); i++)
        {
          GalleyAnnotation *a = galley_document_get_annotation (doc, i);
          if (strcmp (a->type, "DATE") == 0)
            dates++;
          else if (strcmp (a->type, "MONEY") == 0 || strcmp (a->type, "PERCENT") == 0)
            others++;
        }
      g_assert_cmpuint (dates, ==, 2);
      g_assert_cmpuint (others, ==, 2);
      /* the offsets are those of the text */
      GalleyAnnotation *t = find (doc, "tomorrow", NULL);
      const char *p = g_utf8_offset_to_pointer (texts[k], t->start);
      g_assert_true (strncmp (p, "tomorrow", 8) == 0);
    }
  g_string_free (big, TRUE);
}

static void
test_options (void)
{
  g_autoptr(GalleyHarness) h = harness ("types=PER", "top=0", "roles=false", NULL);
  g_autoptr(GalleyDocument) doc = run_doc (h, "President Emmanuel Macron visited Berlin on Monday.", NULL);
  g_assert_cmpuint (galley_document_get_n_annotations (doc), ==, 1);
  GalleyAnnotation *a = galley_document_get_annotation (doc, 0);
  g_assert_cmpstr (a->text, ==, "Emmanuel Macron");
  g_assert_null (a->attrs);
  g_assert_false (json_object_object_get_ex (galley_document_get_meta (doc), "entities_top", NULL));

  /* a user alias file */
  g_autofree char *dir = galley_test_mkdtemp ();
  g_autofree char *path = galley_test_write_path (dir, "mine.tsv", "# mine\nVelmora Port Authority\tPort of Velmora\n", -1);
  g_autofree char *opt = g_strdup_printf ("aliases=%s", path);
  g_autoptr(GalleyHarness) h2 = harness (opt, NULL);
  g_autoptr(GalleyDocument) d2 = run_doc (h2, "The Velmora Port Authority said on Monday it would appeal.", NULL);
  GalleyAnnotation *b = find (d2, "Velmora Port Authority", NULL);
  if (b != NULL)
    g_assert_cmpstr (b->canonical, ==, "Port of Velmora");
  galley_test_rmdir (dir);

  /* running twice does not duplicate the spans */
  GalleyDocument *again = run_doc (h, "Emmanuel Macron spoke.", NULL);
  guint n = galley_document_get_n_annotations (again);
  g_autoptr(GError) error = NULL;
  galley_harness_process (h, again, &error);
  g_assert_cmpuint (galley_document_get_n_annotations (again), ==, n);
  galley_document_free (again);
}

static void
test_bad_options (void)
{
  static const char *const bad[][2] = {
    { "types=PER;WEAPON", "WEAPON" },
    { "reference-date=yesterday", "reference-date" },
    { "reference-date=2025-13-40", "reference-date" },
    { "top=-1", "top" },
    { "max-mentions=-5", "max-mentions" },
    { "data-dir=/nonexistent/galley-data", "/nonexistent/galley-data" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      const char *opts[] = { bad[i][0], NULL };
      g_autoptr(GError) error = NULL;
      g_autoptr(GalleyHarness) h = harness_v (opts, &error);
      g_assert_null (h);
      g_assert_nonnull (error);
      if (strstr (error->message, bad[i][1]) == NULL)
        g_error ("%s: message '%s' does not name %s", bad[i][0], error->message, bad[i][1]);
    }
}

/* Copies the shipped data directory into @dir/entities. */
static char *
copy_data (const char *dir)
{
  g_autofree char *src = galley_test_srcpath ("data", "entities", NULL);
  char *dst = g_build_filename (dir, "entities", NULL);
  static const char *const files[] = {
    "model.bin", "aliases.tsv", "lowercase.txt", "dictionary.txt", "wordnet.tsv", "geonames.tsv", "gazetteer/countries.tsv",
    "gazetteer/titles.tsv",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *from = g_build_filename (src, files[i], NULL);
      g_autofree char *to = g_build_filename (dst, files[i], NULL);
      g_autofree char *content = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (from, &content, &len, NULL));
      galley_test_write (dst, files[i], content, (gssize) len);
      (void) to;
    }
  return dst;
}

static void
expect_init_error (const char *data_dir, const char *needle)
{
  g_autofree char *opt = g_strdup_printf ("data-dir=%s", data_dir);
  const char *opts[] = { opt, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness_v (opts, &error);
  g_assert_null (h);
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL)
    g_error ("message '%s' does not name %s", error->message, needle);
}

static void
test_bad_data_files (Fixture *f, gconstpointer data)
{
  g_autofree char *d = copy_data (f->dir);
  /* the copy works */
  g_autofree char *opt = g_strdup_printf ("data-dir=%s", d);
  g_autoptr(GalleyHarness) ok = harness (opt, NULL);
  g_assert_nonnull (ok);

  g_autofree char *model = g_build_filename (d, "model.bin", NULL);
  g_autofree char *content = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (model, &content, &len, NULL));
  g_assert_true (g_file_set_contents (model, content, (gssize) len / 2, NULL));
  expect_init_error (d, "model.bin");
  g_assert_true (g_file_set_contents (model, "not a model", -1, NULL));
  expect_init_error (d, "model.bin");
  /* a header whose weight scale is not a positive number */
  g_autofree char *zero = g_memdup2 (content, len);
  memset (zero + 10 + 12, 0, 4);
  g_assert_true (g_file_set_contents (model, zero, (gssize) len, NULL));
  expect_init_error (d, "model.bin: corrupt");
  g_assert_cmpint (g_unlink (model), ==, 0);
  expect_init_error (d, "model.bin");
  g_assert_true (g_file_set_contents (model, content, (gssize) len, NULL));

  g_autofree char *dict = g_build_filename (d, "dictionary.txt", NULL);
  g_autofree char *dict_off = g_build_filename (d, "dictionary.off", NULL);
  g_assert_cmpint (g_rename (dict, dict_off), ==, 0);
  expect_init_error (d, "dictionary.txt");
  g_assert_cmpint (g_rename (dict_off, dict), ==, 0);

  g_autofree char *wn = g_build_filename (d, "wordnet.tsv", NULL);
  g_autofree char *wn_content = NULL;
  g_assert_true (g_file_get_contents (wn, &wn_content, &len, NULL));
  g_assert_true (g_file_set_contents (wn, "# comment\nPER\tEinstein\nSHIP\tTitanic\n", -1, NULL));
  expect_init_error (d, "wordnet.tsv:3");
  g_assert_true (g_file_set_contents (wn, "place\n", -1, NULL));
  expect_init_error (d, "wordnet.tsv:1");
  g_assert_cmpint (g_unlink (wn), ==, 0);
  expect_init_error (d, "wordnet.tsv");
  g_assert_true (g_file_set_contents (wn, wn_content, (gssize) len, NULL));

  g_autofree char *geo = g_build_filename (d, "geonames.tsv", NULL);
  g_autofree char *geo_content = NULL;
  g_assert_true (g_file_get_contents (geo, &geo_content, &len, NULL));
  g_assert_true (g_file_set_contents (geo, "# places\nCITY\tHusum\nTOWN\tKiel\n", -1, NULL));
  expect_init_error (d, "geonames.tsv:3");
  g_assert_cmpint (g_unlink (geo), ==, 0);
  expect_init_error (d, "geonames.tsv");
  g_assert_true (g_file_set_contents (geo, geo_content, (gssize) len, NULL));

  g_autofree char *gaz = g_build_filename (d, "gazetteer", "titles.tsv", NULL);
  g_assert_true (g_file_set_contents (gaz, "TITLE\tPresident\nWEAPON\tRifle\n", -1, NULL));
  expect_init_error (d, "titles.tsv:2");
  g_assert_true (g_file_set_contents (gaz, "TITLE\tPres\xffident\n", -1, NULL));
  expect_init_error (d, "titles.tsv");
  g_assert_true (g_file_set_contents (gaz, "TITLE\tPresident\n", -1, NULL));

  g_autofree char *aliases = g_build_filename (d, "aliases.tsv", NULL);
  g_assert_true (g_file_set_contents (aliases, "Kiev Kyiv\n", -1, NULL));
  expect_init_error (d, "aliases.tsv:1");
  g_assert_cmpint (g_unlink (aliases), ==, 0);
  expect_init_error (d, "aliases.tsv");
}

static void
test_bad_input (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  /* empty */
  g_autoptr(GalleyDocument) e = run_doc (h, "", NULL);
  g_assert_cmpuint (galley_document_get_n_annotations (e), ==, 0);
  /* no capital letters: no crash, few or no names */
  g_autoptr(GalleyDocument) lc = run_doc (h, "the minister said on monday that talks in geneva would go on.", NULL);
  (void) lc;
  /* capitals only: a headline */
  g_autoptr(GalleyDocument) caps = run_doc (h, "ZELENSKY AND PUTIN TO MEET IN ISTANBUL, KREMLIN SAYS\n\nThe talks open on Monday.", NULL);
  GalleyAnnotation *a = find (caps, "ISTANBUL", NULL);
  g_assert_nonnull (a);
  g_assert_cmpstr (a->type, ==, "LOC");
  g_assert_cmpstr (a->canonical, ==, "Istanbul");
  /* Cyrillic and Thai: nothing found is fine, offsets stay valid */
  g_autoptr(GalleyDocument) cyr = run_doc (h, "Президент Владимир Зеленский встретился с Путиным в Стамбуле. "
                                              "นายกรัฐมนตรีเดินทางไปกรุงเทพฯ เมื่อวันจันทร์ Moscow", NULL);
  a = find (cyr, "Moscow", NULL);
  if (a != NULL)
    g_assert_cmpint (a->end, ==, galley_document_get_length (cyr));
  /* invalid UTF-8 and NUL bytes reach the stage as U+FFFD */
  GalleyDocument *raw = galley_document_new ("raw", NULL);
  static const char bytes[] = "Talks in Kyiv\xff\xfe on Monday\0 with Emmanuel Macron\xc3";
  g_autoptr(GBytes) b = g_bytes_new (bytes, sizeof bytes - 1);
  galley_document_set_raw (raw, b);
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, raw, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_nonnull (find (raw, "Kyiv", "LOC"));
  galley_document_free (raw);
  /* very long tokens */
  GString *s = g_string_new ("Officials in Berlin said ");
  for (int i = 0; i < 100000; i++)
    g_string_append_c (s, "Abcdefghij"[i % 10]);
  g_string_append (s, " on Monday.");
  g_autoptr(GalleyDocument) longtok = run_doc (h, s->str, NULL);
  g_assert_nonnull (find (longtok, "Berlin", "LOC"));
  g_string_free (s, TRUE);
  /* one sentence of several megabytes without punctuation or line
   * break: names near its end are found at the right offsets */
  GString *run = g_string_new (NULL);
  gsize target = g_test_slow () ? 5u << 20 : 2u << 20;
  while (run->len < target)
    g_string_append (run, "the minister said that the talks would go on and ");
  g_string_append (run, "Emmanuel Macron flew to Berlin");
  g_autoptr(GalleyDocument) sentence = run_doc (h, run->str, "2025-07-21");
  GalleyAnnotation *berlin = find (sentence, "Berlin", "LOC");
  g_assert_nonnull (berlin);
  g_assert_cmpint (berlin->end, ==, galley_document_get_length (sentence));
  g_assert_nonnull (find (sentence, "Emmanuel Macron", "PER"));
  g_string_free (run, TRUE);
  /* 200,000 capitalised words on one line: no more mentions than the
   * limit, each inside the text and on whole words */
  GString *capwords = g_string_new (NULL);
  for (guint i = 0; i < 200000; i++)
    g_string_append_printf (capwords, "%s%c%c%c", i > 0 ? " " : "", 'A' + i % 26, 'a' + (i / 26) % 26, 'a' + (i / 676) % 26);
  g_autoptr(GalleyDocument) capdoc = run_doc (h, capwords->str, "2025-07-21");
  guint n = galley_document_get_n_annotations (capdoc);
  g_assert_cmpuint (n, <=, 5000);
  gint64 length = galley_document_get_length (capdoc), prev_end = 0;
  for (guint i = 0; i < n; i++)
    {
      GalleyAnnotation *m = galley_document_get_annotation (capdoc, i);
      g_assert_cmpint (m->start, >=, prev_end);
      g_assert_cmpint (m->end, <=, length);
      g_assert_cmpint (m->start % 4, ==, 0);   /* words of 3 letters and a space */
      g_assert_cmpint (m->end % 4, ==, 3);
      prev_end = m->end;
    }
  g_string_free (capwords, TRUE);
}

/* The model is English: German or Russian articles are left alone unless
 * asked (languages=any), and meta.lang decides when a source gave it. */
static void
test_languages (void)
{
  static const char german[] =
    "Der Stadtrat von Bergheim hat am Mittwoch nach langer Debatte den neuen Haushalt beschlossen. "
    "Die Mehrheit der Fraktionen stimmte für die Pläne des Bürgermeisters Jonas Keller, der die Ausgaben "
    "für Schulen und Straßen erhöhen will. Die Opposition kritisierte, dass die Gebühren für die "
    "Bibliothek steigen sollen und die Schwimmhalle im Winter geschlossen bleibt.";
  static const char english[] =
    "The city council of Bergheim approved the new budget on Wednesday after a long debate. "
    "Most groups in the council voted for the plans of the mayor, Jonas Keller, who wants to spend "
    "more on schools and roads. The opposition said that library fees would rise and that the "
    "swimming hall would stay closed in the winter.";
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autoptr(GalleyDocument) de = run_doc (h, german, NULL);
  g_assert_cmpuint (galley_document_get_n_annotations (de), ==, 0);
  g_autoptr(GalleyDocument) ru = run_doc (h, "Вчера в Москве мэр города Сергей Собянин открыл новую станцию метро.", NULL);
  g_assert_cmpuint (galley_document_get_n_annotations (ru), ==, 0);
  g_autoptr(GalleyDocument) en = run_doc (h, english, NULL);
  g_assert_nonnull (find (en, "Jonas Keller", "PER"));
  /* meta.lang wins over the guess */
  GalleyDocument *tagged = galley_document_new ("t", NULL);
  galley_document_set_text (tagged, english, -1);
  galley_document_set_meta_string (tagged, "lang", "de");
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, tagged, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_cmpuint (galley_document_get_n_annotations (tagged), ==, 0);
  galley_document_free (tagged);
  /* languages=any tags everything */
  g_autoptr(GalleyHarness) any = harness ("languages=any", NULL);
  g_autoptr(GalleyDocument) de2 = run_doc (any, german, NULL);
  g_assert_cmpuint (galley_document_get_n_annotations (de2), >, 0);
}

static void
test_large_document (void)
{
  g_autoptr(GalleyHarness) h = harness ("max-mentions=2000", NULL);
  GString *s = g_string_new (NULL);
  const char *para = "Foreign Minister Anna Kowalska flew from Warsaw to Kyiv on Monday, the ministry said. "
                     "She met officials for talks about grain exports and energy.\n";
  gsize target = g_test_slow () ? 10u << 20 : 1u << 20;
  while (s->len < target)
    g_string_append (s, para);
  g_autoptr(GalleyDocument) doc = run_doc (h, s->str, "2025-07-21");
  g_assert_cmpuint (galley_document_get_n_annotations (doc), ==, 2000);
  GalleyAnnotation *last = galley_document_get_annotation (doc, 1999);
  const char *p = g_utf8_offset_to_pointer (s->str, last->start);
  g_assert_true (strncmp (p, last->text, strlen (last->text)) == 0);
  g_string_free (s, TRUE);
}

/* ---- the seed articles ----------------------------------------------- */

typedef struct {
  const char *prefix;
  const char *option;   /* reference date */
} Seed;

static const Seed seeds[] = {
  { "000_", "reference-date=2025-07-21" },
  { "001_", "reference-date=2025-07-21" },
  { "002_", "reference-date=2025-07-19" },
  { "003_", "reference-date=none" },     /* dateline 22.07.2025 */
  { "004_", "reference-date=none" },     /* dateline July 21, 2025 */
};

static char *
seed_path (const char *prefix)
{
  g_autofree char *dir = galley_test_srcpath ("..", "shared", "seeds", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return NULL;
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    if (g_str_has_prefix (name, prefix) && g_str_has_suffix (name, ".txt"))
      return g_build_filename (dir, name, NULL);
  return NULL;
}

static void
test_seeds (void)
{
  g_autofree char *probe = seed_path ("000_");
  if (probe == NULL)
    {
      g_test_skip ("../shared/seeds not present");
      return;
    }
  g_autofree char *gold_path = galley_test_srcpath ("tests", "data", "entities-seeds.tsv", NULL);
  g_autofree char *gold_text = NULL;
  g_assert_true (g_file_get_contents (gold_path, &gold_text, NULL, NULL));
  g_auto(GStrv) gold_lines = g_strsplit (gold_text, "\n", -1);
  gboolean dump = g_getenv ("GALLEY_ENTITIES_DUMP") != NULL;
  g_autoptr(GalleyHarness) repair = NULL;
  {
    const char *none[] = { NULL };
    g_autoptr(GError) error = NULL;
    repair = galley_harness_new ("repair", none, &error);
    g_assert_no_error (error);
  }
  gint64 tp = 0, fp = 0, fn = 0, surnames = 0, surnames_ok = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (seeds); i++)
    {
      g_autofree char *path = seed_path (seeds[i].prefix);
      g_assert_nonnull (path);
      g_autofree char *content = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (path, &content, &len, NULL));
      g_autoptr(GalleyDocument) doc = galley_document_new (seeds[i].prefix, NULL);
      g_autoptr(GBytes) b = g_bytes_new (content, len);
      galley_document_set_raw (doc, b);
      g_autoptr(GError) error = NULL;
      g_assert_cmpint (galley_harness_process (repair, doc, &error), ==, GALLEY_VERDICT_KEEP);
      const char *opts[] = { seeds[i].option, NULL };
      g_autoptr(GalleyHarness) h = harness_v (opts, &error);
      g_assert_no_error (error);
      g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);

      /* gold: prefix TAB type TAB text TAB canonical, in text order */
      g_autoptr(GPtrArray) gold = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
      for (char **l = gold_lines; *l; l++)
        if (g_str_has_prefix (*l, seeds[i].prefix))
          g_ptr_array_add (gold, g_strsplit (*l, "\t", 4));
      g_autoptr(GHashTable) used = g_hash_table_new (NULL, NULL);
      for (guint k = 0; k < galley_document_get_n_annotations (doc); k++)
        {
          GalleyAnnotation *a = galley_document_get_annotation (doc, k);
          if (strcmp (a->type, "MONEY") == 0 || strcmp (a->type, "PERCENT") == 0)
            continue;
          if (dump)
            printf ("%s\t%s\t%s\t%s\n", seeds[i].prefix, a->type, a->text, a->canonical ? a->canonical : "");
          gboolean hit = FALSE;
          for (guint g = 0; g < gold->len && !hit; g++)
            {
              char **gl = gold->pdata[g];
              if (g_hash_table_contains (used, GUINT_TO_POINTER (g + 1)) || g_strv_length (gl) < 4)
                continue;
              if (strcmp (gl[1], a->type) == 0 && strcmp (gl[2], a->text) == 0
                  && g_strcmp0 (gl[3], a->canonical ? a->canonical : "") == 0)
                {
                  hit = TRUE;
                  g_hash_table_add (used, GUINT_TO_POINTER (g + 1));
                }
            }
          if (strcmp (a->type, "PER") == 0 && strchr (a->text, ' ') == NULL)
            {
              /* a surname alone: the gold names the person it stands for */
              for (guint g = 0; g < gold->len; g++)
                {
                  char **gl = gold->pdata[g];
                  if (g_strv_length (gl) == 4 && strcmp (gl[2], a->text) == 0 && strcmp (gl[1], "PER") == 0)
                    {
                      surnames++;
                      surnames_ok += g_strcmp0 (gl[3], a->canonical) == 0;
                      break;
                    }
                }
            }
          if (hit)
            tp++;
          else
            {
              fp++;
              g_test_message ("%s: extra or wrong %s '%s' -> %s", seeds[i].prefix, a->type, a->text, a->canonical);
            }
        }
      for (guint g = 0; g < gold->len; g++)
        {
          char **gl = gold->pdata[g];
          if (g_strv_length (gl) < 4)
            continue;
          gboolean found = g_hash_table_contains (used, GUINT_TO_POINTER (g + 1));
          if (!found)
            {
              fn++;
              g_test_message ("%s: missed %s '%s' -> %s", seeds[i].prefix, gl[1], gl[2], gl[3]);
            }
        }
    }
  double p = tp + fp > 0 ? (double) tp / (tp + fp) : 0, r = tp + fn > 0 ? (double) tp / (tp + fn) : 0;
  double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
  g_test_message ("seeds: tp %" G_GINT64_FORMAT " fp %" G_GINT64_FORMAT " fn %" G_GINT64_FORMAT
                  ", F1 %.1f; surname-only mentions resolved %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                  tp, fp, fn, 100 * f1, surnames_ok, surnames);
  if (!dump)
    {
      g_assert_cmpfloat (f1, >=, 0.95);
      g_assert_cmpint (surnames_ok, ==, surnames);
    }
}

/* The document's evidence: names never run across the end of a sentence,
 * capitalised common words at sentence starts are no names, partial
 * mentions of organisations and places resolve to the full name. */
static void
test_document_evidence (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autoptr(GalleyDocument) a = run_doc (h,
    "Russia forced the sale to settle a tax claim against Yukos. Yukos' owner Menatep Group says it will "
    "ask for damages, said chief executive Steven Theede. Yukos filed for bankruptcy in Houston.", NULL);
  for (guint i = 0; i < galley_document_get_n_annotations (a); i++)
    {
      GalleyAnnotation *m = galley_document_get_annotation (a, i);
      if (strchr (m->text, '.') != NULL)
        g_error ("mention '%s' runs across the end of a sentence", m->text);
    }
  assert_mention (a, "Steven Theede", "PER", "Steven Theede");
  GalleyAnnotation *y = find (a, "Yukos", NULL);
  g_assert_nonnull (y);
  g_assert_cmpstr (y->type, !=, "PER");
  /* "Mr." and initials do not end a sentence */
  g_autoptr(GalleyDocument) b = run_doc (h, "The prize went to Mr. John K. Hartwell of Leeds.", NULL);
  assert_mention (b, "John K. Hartwell", "PER", "John K. Hartwell");

  /* "Worries" opens a sentence and is written in lower case elsewhere;
   * "Apple" is capitalised inside a sentence too, so it stays a name */
  const char *worries = "The firm said the deficit would shrink next year.\n\n"
                        "Worries about the deficit have grown, and the worries of traders have not gone away.\n\n"
                        "Apple said sales rose. Analysts at the bank expect Apple to raise prices.";
  g_autoptr(GalleyDocument) c = run_doc (h, worries, NULL);
  assert_no_mention (c, "Worries");
  GalleyAnnotation *ap = find (c, "Apple", NULL);
  g_assert_nonnull (ap);
  g_assert_cmpint (ap->start, ==, strstr (worries, "Apple said") - worries);   /* ASCII: bytes are code points */

  /* a nationality before a lower-case noun is an adjective */
  g_autoptr(GalleyDocument) d = run_doc (h, "The law had a troubled passage, and European inventors were worried. "
                                         "Tory co-chairman Liam Fox said the plans were flawed.", NULL);
  assert_no_mention (d, "European");
  assert_no_mention (d, "Tory");
  assert_mention (d, "Liam Fox", "PER", "Liam Fox");
  g_autoptr(GalleyDocument) o = run_doc (h, "The film won an Oscar last year; its star thanked the Oscars jury.", NULL);
  assert_no_mention (o, "Oscar");
  assert_no_mention (o, "Oscars");
  g_autoptr(GalleyDocument) pc = run_doc (h, "Sales of the new PC rose as DVD prices fell, and GDP grew.", NULL);
  assert_no_mention (pc, "PC");
  assert_no_mention (pc, "DVD");
  assert_no_mention (pc, "GDP");
  /* "WHO" is listed in capitals only: "Who" opening a question is none */
  g_autoptr(GalleyDocument) w = run_doc (h, "He asked: \"Who is going to pay?\" The WHO said it would help.", NULL);
  assert_no_mention (w, "Who");
  assert_mention (w, "WHO", "ORG", "World Health Organization");
  /* contractions of common words are no names */
  g_autoptr(GalleyDocument) im = run_doc (h, "\"I'm delighted,\" said Anna Berg. \"I've waited for this. We\u2019ve all waited.\"", NULL);
  assert_no_mention (im, "I'm");
  assert_no_mention (im, "I've");
  assert_no_mention (im, "We\u2019ve");
  assert_mention (im, "Anna Berg", "PER", "Anna Berg");
  /* the demonym of a listed place is no name, though no list has it
   * ("Corsicans": Corsica); names that look alike stay */
  g_autoptr(GalleyDocument) dm = run_doc (h, "Many Corsicans voted for the plan, Mr Rossi said. "
                                          "Two Corsicans joined the crew of Ana Berg in Oslo. Adrian Smith agreed.", NULL);
  assert_no_mention (dm, "Corsicans");
  assert_mention (dm, "Ana Berg", "PER", "Ana Berg");
  assert_mention (dm, "Adrian Smith", "PER", "Adrian Smith");
  /* the plural of an acronym is a common noun */
  g_autoptr(GalleyDocument) ap2 = run_doc (h, "Sales of PCs rose while MEPs and CSOs met in Brussels, Anna Berg said.", NULL);
  assert_no_mention (ap2, "PCs");
  assert_no_mention (ap2, "MEPs");
  assert_no_mention (ap2, "CSOs");
  assert_mention (ap2, "Brussels", "LOC", "Brussels");
  /* the column heads of a table are no name */
  g_autoptr(GalleyDocument) th = run_doc (h, "W L T GF GA PTS\nHarbour City 5 2 1 14 9 16", NULL);
  assert_no_mention (th, "W L T GF GA");
  assert_no_mention (th, "W L T GF GA PTS");
  /* a place names a news desk, a broadcaster or a numbered team */
  g_autoptr(GalleyDocument) dk = run_doc (h, "The report was filed by our Chicago Metals Desk on Friday.\n"
                                          "Radio Romania said the talks had failed. When I lived in Canada I met her.\n"
                                          "1. Norway II (Kari Lund, Ola Berg) 3:47.59\n"
                                          "Oslo Newsroom +47 22 00 00 00", NULL);
  const char *const desks[] = { "Chicago Metals Desk", "Radio Romania", "Norway II", "Oslo Newsroom" };
  for (gsize k = 0; k < G_N_ELEMENTS (desks); k++)
    {
      GalleyAnnotation *m = find (dk, desks[k], NULL);
      if (m == NULL)
        g_error ("no mention '%s'", desks[k]);
      g_assert_cmpstr (m->type, ==, "ORG");
    }
  assert_mention (dk, "Canada", "LOC", "Canada");
  assert_no_mention (dk, "Canada I");
  /* a city in brackets after a player in a list is the club; a country
   * is the national side, a place */
  g_autoptr(GalleyDocument) cl = run_doc (h, "Squad: Jorge Lopes (Porto), Luis Vidal (Valencia, Spain), "
                                          "Tomas Berg (Norway). The rally in Lyon (France) drew crowds.", NULL);
  const char *const clubs[] = { "Porto", "Valencia" };
  for (gsize k = 0; k < G_N_ELEMENTS (clubs); k++)
    {
      GalleyAnnotation *m = find (cl, clubs[k], NULL);
      if (m == NULL)
        g_error ("no mention '%s'", clubs[k]);
      g_assert_cmpstr (m->type, ==, "ORG");
    }
  assert_mention (cl, "Spain", "LOC", "Spain");
  assert_mention (cl, "Norway", "LOC", "Norway");
  assert_mention (cl, "France", "LOC", "France");
  assert_mention (cl, "Lyon", "LOC", "Lyon");
  /* a score, a bowling analysis or a place in a ranking ends a name; a
   * number alone may be part of one */
  g_autoptr(GalleyDocument) fg = run_doc (h, "Odds: Pedro Mijatovic 7-1 Luis Figo 9-1 Tomas Berg 12-1\n"
                                          "Bowling: Harlan Kennedy 3-0-24-0, Mark Dyson 10-0-39-2.\n"
                                          "Final standings: Anna Berg 12th, Schalke 04 won, Channel 4 reported.", NULL);
  const char *const runners[] = { "Pedro Mijatovic", "Luis Figo", "Tomas Berg", "Harlan Kennedy", "Mark Dyson", "Anna Berg" };
  for (gsize k = 0; k < G_N_ELEMENTS (runners); k++)
    {
      GalleyAnnotation *m = find (fg, runners[k], NULL);
      if (m == NULL)
        g_error ("no mention '%s'", runners[k]);
      g_assert_cmpstr (m->type, ==, "PER");
    }
  assert_mention (fg, "Schalke 04", "ORG", "Schalke 04");
  /* a listed name and its possessive end before the name after them */
  g_autoptr(GalleyDocument) ps = run_doc (h, "Sales of Sony's PlayStation rose. Iraq's Ministry of Communications "
                                          "did not comment. Lloyd's of London agreed.", NULL);
  assert_no_mention (ps, "Sony's PlayStation");
  assert_no_mention (ps, "Iraq's Ministry of Communications");
  GalleyAnnotation *sony = find (ps, "Sony", NULL);
  g_assert_nonnull (sony);
  g_assert_cmpstr (sony->type, ==, "ORG");
  GalleyAnnotation *iraq = find (ps, "Iraq", NULL);
  g_assert_nonnull (iraq);
  g_assert_cmpstr (iraq->type, ==, "LOC");
  GalleyAnnotation *ministry = find (ps, "Ministry of Communications", NULL);
  g_assert_nonnull (ministry);
  g_assert_cmpstr (ministry->type, ==, "ORG");
  g_assert_nonnull (find (ps, "Lloyd's of London", NULL));
  /* a kind of place in lower case before a name makes it that place;
   * "dynasty" after a name makes it the ruling house */
  g_autoptr(GalleyDocument) pn = run_doc (h, "The army crossed the river Alvaro and camped on its banks. "
                                          "The valley was ruled by the Tavin dynasty until the Morwen dynasty took over.", NULL);
  const char *const kinds[][2] = { { "Alvaro", "LOC" }, { "Tavin", "ORG" }, { "Morwen", "ORG" } };
  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      GalleyAnnotation *m = find (pn, kinds[k][0], NULL);
      if (m == NULL)
        g_error ("no mention '%s'", kinds[k][0]);
      g_assert_cmpstr (m->type, ==, kinds[k][1]);
    }
  /* a title that is also a surname is cut from the front of a person
   * only ("King Gorvan", not "Stephen King") */
  g_autoptr(GalleyDocument) kg = run_doc (h, "Under the late King Gorvan, the reforms stalled. "
                                          "He met the writer Stephen King in Amman.", NULL);
  assert_no_mention (kg, "King Gorvan");
  GalleyAnnotation *abd = find (kg, "Gorvan", NULL);
  g_assert_nonnull (abd);
  g_assert_cmpstr (abd->type, ==, "PER");
  GalleyAnnotation *sk = find (kg, "Stephen King", NULL);
  g_assert_nonnull (sk);
  g_assert_cmpstr (sk->type, ==, "PER");
  /* a title before a name a gazetteer lists as a place: a person */
  g_autoptr(GalleyDocument) mr = run_doc (h, "The judge will rule on Monday. Mr Jackson denies the charges.", NULL);
  assert_mention (mr, "Jackson", "PER", "Jackson");

  /* partial mentions: the first word of an organisation whose other
   * words are head words, and an acronym of a longer organisation */
  g_autoptr(GalleyDocument) e = run_doc (h,
    "Shares in Cairn Energy rose 5% on Monday. Cairn said output at its wells had doubled.\n\n"
    "Talks with the International Monetary Fund (IMF) resumed. The IMF wants cuts.", NULL);
  GalleyAnnotation *cairn = find (e, "Cairn", NULL);
  g_assert_nonnull (cairn);
  g_assert_cmpstr (cairn->type, ==, "ORG");
  g_assert_cmpstr (cairn->canonical, ==, "Cairn Energy");
  GalleyAnnotation *imf = find (e, "IMF", NULL);
  g_assert_nonnull (imf);
  g_assert_cmpstr (imf->type, ==, "ORG");

  /* the sample article: "Port of Velmora", "Velmora Port Authority" and
   * "at Velmora" make Velmora a place wherever it stands alone */
  g_autofree char *path = galley_test_srcpath ("examples", "articles", "01-port-strike.txt", NULL);
  g_autofree char *article = NULL;
  g_assert_true (g_file_get_contents (path, &article, NULL, NULL));
  g_autoptr(GalleyDocument) f = run_doc (h, article, NULL);
  guint places = 0;
  for (guint i = 0; i < galley_document_get_n_annotations (f); i++)
    {
      GalleyAnnotation *m = galley_document_get_annotation (f, i);
      if (strcmp (m->text, "Velmora") == 0)
        {
          g_assert_cmpstr (m->type, ==, "LOC");
          places++;
        }
    }
  g_assert_cmpuint (places, >=, 3);
  assert_mention (f, "Petra Alvarenga", "PER", "Petra Alvarenga");
  assert_mention (f, "Alvarenga", "PER", "Petra Alvarenga");
}

/* The tagger keeps sums per word in the scratch of a thread: a text
 * tagged after many others gets the same mentions as in a fresh one. */
static void
assert_same_mentions (GalleyDocument *a, GalleyDocument *b)
{
  g_assert_cmpuint (galley_document_get_n_annotations (a), ==, galley_document_get_n_annotations (b));
  for (guint i = 0; i < galley_document_get_n_annotations (a); i++)
    {
      GalleyAnnotation *x = galley_document_get_annotation (a, i), *y = galley_document_get_annotation (b, i);
      g_assert_cmpstr (x->type, ==, y->type);
      g_assert_cmpint (x->start, ==, y->start);
      g_assert_cmpint (x->end, ==, y->end);
      g_assert_cmpstr (x->canonical, ==, y->canonical);
    }
}

static void
test_repeatable (void)
{
  const char *text = "Kremlin spokesman Dmitry Peskov said the Bank of England and Arsenal would not comment. "
                     "Peskov later flew to Istanbul with officials of Gazprom.";
  g_autoptr(GalleyHarness) fresh = harness (NULL);
  g_autoptr(GalleyDocument) a = run_doc (fresh, text, "2025-07-21");
  g_autoptr(GalleyHarness) used = harness (NULL);
  for (int i = 0; i < 200; i++)
    {
      g_autofree char *other = g_strdup_printf ("Report %d: Mayor Anna Kowalska of Gdansk met %d bankers from "
                                                "Frankfurt and the Deutsche Bank board in Berlin.", i, i * 7);
      g_autoptr(GalleyDocument) o = run_doc (used, other, NULL);
    }
  g_autoptr(GalleyDocument) b = run_doc (used, text, "2025-07-21");
  assert_same_mentions (a, b);
  g_assert_cmpuint (galley_document_get_n_annotations (a), >, 4);
  /* the worker keeps what it looked up for words across documents: a
   * document of 60,000 different made-up words, capitalised, fills those
   * caches with others; the text comes out the same */
  GString *words = g_string_new (NULL);
  for (guint i = 0; i < 60000; i++)
    g_string_append_printf (words, "%c%c%c%c%s", 'A' + i % 26, 'a' + (i / 26) % 26, 'a' + (i / 676) % 26,
                            'a' + (i / 17576) % 26, i % 12 == 11 ? ".\n" : " ");
  g_autoptr(GalleyDocument) filler = run_doc (used, words->str, NULL);
  g_string_free (words, TRUE);
  g_autoptr(GalleyDocument) c = run_doc (used, text, "2025-07-21");
  assert_same_mentions (a, c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/entities/people-places-organisations", test_people_places_organisations);
  g_test_add_func ("/entities/news-conventions", test_news_conventions);
  g_test_add_func ("/entities/name-forms", test_name_forms);
  g_test_add_func ("/entities/document-evidence", test_document_evidence);
  g_test_add_func ("/entities/repeatable", test_repeatable);
  g_test_add_func ("/entities/dates", test_dates);
  g_test_add_func ("/entities/reference-date", test_reference_date);
  g_test_add_func ("/entities/run-date", test_run_date);
  g_test_add_func ("/entities/long-names", test_long_names);
  g_test_add_func ("/entities/options", test_options);
  g_test_add_func ("/entities/bad-options", test_bad_options);
  ADD ("/entities/bad-data-files", test_bad_data_files);
  g_test_add_func ("/entities/bad-input", test_bad_input);
  g_test_add_func ("/entities/large-document", test_large_document);
  g_test_add_func ("/entities/languages", test_languages);
  g_test_add_func ("/entities/seeds", test_seeds);
  g_test_add_func ("/entities/dates-written", test_dates_written);
  return g_test_run ();
}
