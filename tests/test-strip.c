/* test-strip.c: the strip stage: boilerplate of each kind removed, body
 * kept, meta filled, options, bad input, HTML dispatch, and the seed
 * articles against tests/data/strip-seeds.gold when ../shared is present.
 * The sample articles in tests/data/strip/ and the sentences below were
 * written for these tests. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

static GalleyHarness *
harness_v (const char *const *opts)
{
  g_autoptr(GError) error = NULL;
  GalleyHarness *h = galley_harness_new ("strip", opts, &error);
  g_assert_no_error (error);
  return h;
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
  return harness_v ((const char *const *) opts->pdata);
}

static GalleyDocument *
make_doc (const char *text, gssize len, GalleyContentType type)
{
  GalleyDocument *doc = galley_document_new ("t", NULL);
  galley_document_set_text (doc, text, len);
  galley_document_set_content_type (doc, type);
  return doc;
}

/* Runs @text through @h; returns the document, which must be kept. */
static GalleyDocument *
strip_keep (GalleyHarness *h, const char *text)
{
  GalleyDocument *doc = make_doc (text, -1, GALLEY_CONTENT_TEXT);
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_no_error (error);
  return doc;
}

static const char *
body (GalleyDocument *doc)
{
  return galley_document_get_text (doc, NULL);
}

static guint
count_occurrences (const char *hay, const char *needle)
{
  guint n = 0;
  for (const char *p = strstr (hay, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static guint
count_paragraphs (const char *text)
{
  return *text ? count_occurrences (text, "\n\n") + 1 : 0;
}

#define assert_in(hay, needle) \
  G_STMT_START { if (strstr ((hay), (needle)) == NULL) \
    g_error ("expected \"%s\" in:\n%s", (needle), (hay)); } G_STMT_END
#define assert_not_in(hay, needle) \
  G_STMT_START { if (strstr ((hay), (needle)) != NULL) \
    g_error ("did not expect \"%s\" in:\n%s", (needle), (hay)); } G_STMT_END

/* Three body paragraphs used around the boilerplate of each case. */
static const char body_a[] =
  "The ferry between Arnholm and the island of Vessel resumed service on Monday after a six-week "
  "break for repairs to its engines and car deck.";
static const char body_b[] =
  "The operator said the crossing would run every ninety minutes until the end of the month, and "
  "every hour once the summer timetable begins in June.";
static const char body_c[] =
  "Islanders had relied on a smaller passenger boat during the repairs, which could not carry "
  "vehicles, so deliveries to the island shop came only twice a week.";

typedef struct {
  const char *name;
  const char *head;       /* lines before the body, or NULL */
  const char *middle;     /* between the first and second paragraph, or NULL */
  const char *tail;       /* after the body, or NULL */
  const char *gone;       /* must not be in the body */
  const char *meta_key;   /* and meta[meta_key] == meta_value */
  const char *meta_value;
} KindCase;

static const KindCase kind_cases[] = {
  { "navigation", "Island News\n\nFerry returns to the Vessel crossing", NULL, NULL, "Island News", "section", "Island News" },
  { "breadcrumb", "Home > Regions > Islands\n\nFerry returns to the Vessel crossing", NULL, NULL, "Regions", NULL, NULL },
  { "section-label", "Islands\n\nFerry returns to the Vessel crossing", NULL, NULL, "Islands\n", "section", "Islands" },
  { "title-heading", "# Ferry returns to the Vessel crossing", NULL, NULL, "Ferry returns", "title", "Ferry returns to the Vessel crossing" },
  { "title-plain", "Ferry returns to the Vessel crossing after repairs", NULL, NULL, "after repairs", "title",
    "Ferry returns to the Vessel crossing after repairs" },
  { "dateline-dotted", "23.07.2025", NULL, NULL, "23.07", "date", "2025-07-23" },
  { "dateline-dotted-time", "22.07.2025 12:00", NULL, NULL, "12:00", "date", "2025-07-22T12:00" },
  { "dateline-english", "July 23, 2025", NULL, NULL, "July 23", "date", "2025-07-23" },
  { "dateline-iso", "2025-07-21 10:00", NULL, NULL, "2025-07-21", "date", "2025-07-21T10:00" },
  { "dateline-published", "Published: 3 May 2024, 08:15", NULL, NULL, "Published", "date", "2024-05-03T08:15" },
  { "dateline-updated", "Published: 3 May 2024 | Updated: 4 May 2024, 09:00", NULL, NULL, "Updated", "updated",
    "2024-05-04T09:00" },
  { "dateline-place", "ARNHOLM, 02.06.2024", NULL, NULL, "ARNHOLM", "date", "2024-06-02" },
  { "dateline-german", "Veröffentlicht am 4. März 2026", NULL, NULL, "März", "date", "2026-03-04" },
  { "dateline-french", "Publié le 4 mars 2026 à 10:05", NULL, NULL, "mars", "date", "2026-03-04T10:05" },
  { "dateline-spanish", "4 de marzo de 2026", NULL, NULL, "marzo", "date", "2026-03-04" },
  { "dateline-portuguese", "Atualizado em 4 de março de 2026", NULL, NULL, "março", "date", "2026-03-04" },
  { "dateline-russian", "Арнхольм, 12 февраля 2026 года", NULL, NULL, "февраля", "date", "2026-02-12" },
  { "dateline-ukrainian", "12 лютого 2026", NULL, NULL, "лютого", "date", "2026-02-12" },
  { "byline", "By Anna Whitfield", NULL, NULL, "Whitfield", "author", "Anna Whitfield" },
  { "byline-agency-date", "By Anna Whitfield — 05.02.2026", NULL, NULL, "Whitfield", "date", "2026-02-05" },
  { "byline-tail", NULL, NULL, "By Anna Whitfield", "Whitfield", "author", "Anna Whitfield" },
  { "byline-german", "Von Jana Kroll", NULL, NULL, "Kroll", "author", "Jana Kroll" },
  { "caption", NULL, "The ferry at its berth in Arnholm. Photo: Jonas Ek", NULL, "berth", NULL, NULL },
  { "caption-credit", NULL, "The ferry at its berth in Arnholm on Monday. Jonas Ek / Island Press", NULL, "berth", NULL, NULL },
  { "caption-alt-text", NULL, "The ferry Vessel Star.\nThe ferry Vessel Star.Photo: Island Press", NULL, "Vessel Star", NULL, NULL },
  { "note", "Updated to add a comment from the operator.", NULL, NULL, "Updated to add", NULL, NULL },
  { "note-editor", "Editor's note: an earlier version gave the wrong date.", NULL, NULL, "earlier version", NULL, NULL },
  { "related", NULL, "**Related article**: Ferry fares to rise in spring", NULL, "fares to rise", NULL, NULL },
  { "related-read-also", NULL, "Read also: Island shop looks for a new owner", NULL, "new owner", NULL, NULL },
  { "related-german", NULL, "Lesen Sie auch: Fähre fährt wieder", NULL, "Fähre", NULL, NULL },
  { "share", NULL, NULL, "Share this article", "Share", NULL, NULL },
  { "subscribe", NULL, NULL, "Subscribe to our newsletter", "newsletter", NULL, NULL },
  { "cookies", NULL, NULL, "We use cookies to improve your experience.", "cookies", NULL, NULL },
  { "follow", NULL, NULL, "Follow us on social media", "Follow", NULL, NULL },
  { "share-russian", NULL, NULL, "Поделиться", "Поделиться", NULL, NULL },
  { "advert", NULL, "Advertisement", NULL, "Advertisement", NULL, NULL },
  { "signoff-initials", NULL, NULL, "(ab/cd)", "(ab", NULL, NULL },
  { "signoff-agency", NULL, NULL, "(IPA)", "IPA", "sources", "IPA" },
  { "source-line", NULL, NULL, "Source: Island Radio, Coast Wire", "Source", "sources", "Coast Wire" },
  { "signoff-glued", NULL, NULL, NULL, "Harbour TV", "sources", "Harbour TV" },
  { "url-footer", NULL, NULL, "## Original url: https://news.example.net/ferry/2024/return", "example.net",
    "url", "https://news.example.net/ferry/2024/return" },
  { "url-footer-split", NULL, NULL, "## Original url:\n\nhttps://news.example.net/ferry/2", "example.net",
    "url", "https://news.example.net/ferry/2" },
  { "markup-line", NULL, "<div>\n\n---", NULL, "<div>", NULL, NULL },
  { "newsletter-call", NULL, "Get the best of the Island News in your inbox every morning: sign up for our free newsletter.",
    NULL, "inbox", NULL, NULL },
  { "newsletter-call-dutch", NULL, "Elke ochtend het belangrijkste nieuws in je mailbox: meld je aan voor de gratis nieuwsbrief.",
    NULL, "nieuwsbrief", NULL, NULL },
  { "follow-call", NULL, NULL, "Síguenos en Instagram y TikTok para más historias como esta.", "Instagram", NULL, NULL },
  { "follow-call-russian", NULL, NULL, "Подписывайтесь на наш канал в Telegram, чтобы читать больше таких историй.",
    "Telegram", NULL, NULL },
  { "donate-call", NULL, NULL, "Wesprzyj niezależne dziennikarstwo: przekaż darowiznę na Wieści Wyspy.", "darowizn",
    NULL, NULL },
  { "contact-line", NULL, NULL, "Questions or corrections? Write to the newsroom at news@island.example.", "newsroom",
    NULL, NULL },
  { "byline-middle-dot", "Di Marco Bianchi \xc2\xb7 12 marzo 2026", NULL, NULL, "Bianchi", "author", "Marco Bianchi" },
  { "caption-italian", NULL, "Foto di Luca Esposito", NULL, "Esposito", NULL, NULL },
  { "caption-french", NULL, "Le bac à quai. Photo : Claire Martin", NULL, "Claire", NULL, NULL },
};

static void
check_meta (GalleyDocument *doc, const char *key, const char *value)
{
  if (key == NULL)
    return;
  json_object *meta = galley_document_get_meta (doc), *v = NULL;
  if (!json_object_object_get_ex (meta, key, &v))
    g_error ("meta has no %s: %s", key, json_object_to_json_string (meta));
  if (json_object_is_type (v, json_type_array))
    {
      for (size_t i = 0; i < json_object_array_length (v); i++)
        if (g_strcmp0 (json_object_get_string (json_object_array_get_idx (v, i)), value) == 0)
          return;
      g_error ("meta %s lacks %s: %s", key, value, json_object_to_json_string (meta));
    }
  g_assert_cmpstr (json_object_get_string (v), ==, value);
}

static void
test_kind (gconstpointer data)
{
  const KindCase *kc = data;
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  if (kc->head)
    g_string_append_printf (text, "%s\n\n", kc->head);
  g_string_append_printf (text, "%s\n\n", body_a);
  if (kc->middle)
    g_string_append_printf (text, "%s\n\n", kc->middle);
  g_string_append_printf (text, "%s\n\n%s", body_b, body_c);
  if (g_str_equal (kc->name, "signoff-glued"))
    g_string_append (text, "/ HTV (Harbour TV)");
  if (kc->tail)
    g_string_append_printf (text, "\n\n%s", kc->tail);
  g_autoptr(GalleyDocument) doc = strip_keep (h, text->str);
  const char *b = body (doc);
  g_autofree char *expected = g_strjoin ("\n\n", body_a, body_b, body_c, NULL);
  g_assert_cmpstr (b, ==, expected);
  assert_not_in (b, kc->gone);
  check_meta (doc, kc->meta_key, kc->meta_value);
}

/* Datelines are read by galley_date_scan(): a day that does not exist
 * is no date, an ordinal day is one. */
static void
test_dateline_dates (void)
{
  static const struct { const char *line, *date; } cases[] = {
    { "Published: 31.02.2025", NULL },
    { "2026/02/30", NULL },
    { "Updated: 2025-13-01", NULL },
    { "Published on 23rd July 2025", "2025-07-23" },
    { "Posted on 29.02.2024", "2024-02-29" },
    { "Posted on 29.02.2025", NULL },
  };
  g_autoptr(GalleyHarness) h = harness (NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("%s\n\n%s\n\n%s\n\n%s", cases[i].line, body_a, body_b, body_c);
      g_autoptr(GalleyDocument) doc = strip_keep (h, text);
      json_object *v = NULL;
      json_object_object_get_ex (galley_document_get_meta (doc), "date", &v);
      const char *date = v ? json_object_get_string (v) : NULL;
      if (g_strcmp0 (date, cases[i].date) != 0)
        g_error ("dateline \"%s\": meta date %s, expected %s", cases[i].line, date ? date : "none",
                 cases[i].date ? cases[i].date : "none");
    }
}

/* The full sample article: every kind at once. */
static void
test_lighthouse (void)
{
  g_autofree char *path = galley_test_srcpath ("tests", "data", "strip", "lighthouse.txt", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autoptr(GalleyDocument) doc = strip_keep (h, text);
  const char *b = body (doc);
  g_assert_cmpuint (count_paragraphs (b), ==, 4);
  g_assert_true (g_str_has_prefix (b, "A group of volunteers"));
  assert_in (b, "town council agreed last autumn");
  assert_in (b, "after the tower was closed to the public.");
  assert_in (b, "small beacon on the breakwater.");
  static const char *const gone[] = { "Home", "Coast Section", "##", "Published", "Nora", "Updated to add",
                                      "Photo", "Related", "Share", "Subscribe", "(nf)", "Source", "Original",
                                      "<u>", "**", NULL };
  for (const char *const *g = gone; *g; g++)
    assert_not_in (b, *g);
  check_meta (doc, "title", "Volunteers reopen the old Brisk Point lighthouse after ten years");
  check_meta (doc, "date", "2024-05-03T08:15");
  check_meta (doc, "updated", "2024-05-03T11:40");
  check_meta (doc, "author", "Nora Feldt");
  check_meta (doc, "sources", "Shoreline Wire Service");
  check_meta (doc, "sources", "Coast Radio");
  check_meta (doc, "url", "https://news.example.net/coast/2024/05/03/brisk-point-lighthouse");
  check_meta (doc, "section", "Coast");
  g_assert_cmpint (galley_document_get_repair (doc, "markup-unwrapped"), >=, 1);
  g_assert_cmpint (galley_document_get_repair (doc, "paragraph-rejoined"), ==, 1);

  /* stripping the result again changes nothing */
  g_autofree char *once = g_strdup (b);
  g_autoptr(GalleyDocument) again = strip_keep (h, once);
  g_assert_cmpstr (body (again), ==, once);
}

static void
test_hard_wrapped (void)
{
  g_autofree char *path = galley_test_srcpath ("tests", "data", "strip", "hardwrap.txt", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autoptr(GalleyDocument) doc = strip_keep (h, text);
  const char *b = body (doc);
  g_assert_cmpuint (count_paragraphs (b), ==, 3);
  assert_in (b, "apple trees on Sunday night");
  assert_in (b, "half of the harvest");
  assert_not_in (b, "Follow us");
  assert_not_in (b, "Weather");
  check_meta (doc, "title", "Frost returns to the valley orchards");
  check_meta (doc, "date", "2024-04-14");
  g_assert_cmpint (galley_document_get_repair (doc, "hard-wrap-joined"), >, 0);
}

/* One line per paragraph, no blank lines (as in text converted from some
 * pages): every line stays its own paragraph. */
static void
test_line_per_paragraph (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *text = g_strjoin ("\n", body_a, body_b, body_c, NULL);
  g_autoptr(GalleyDocument) doc = strip_keep (h, text);
  g_autofree char *expected = g_strjoin ("\n\n", body_a, body_b, body_c, NULL);
  g_assert_cmpstr (body (doc), ==, expected);
}

static void
test_repeated_lede (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  /* a reworded teaser before the body, and an exact repeat */
  g_autofree char *teaser = g_strdup (body_a);
  char *at = strstr (teaser, "six-week break");
  memcpy (at, "long", 4);
  memmove (at + 4, at + 8, strlen (at + 8) + 1);
  g_autofree char *text = g_strjoin ("\n\n", "Ferry returns to the Vessel crossing", teaser, body_a, body_b,
                                     body_b, body_c, NULL);
  g_autoptr(GalleyDocument) doc = strip_keep (h, text);
  g_autofree char *expected = g_strjoin ("\n\n", body_a, body_b, body_c, NULL);
  g_assert_cmpstr (body (doc), ==, expected);
}

static void
test_inline_markup (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *text = g_strconcat ("The harbour master <u>told</u> reporters that the <b>new</b> ferry was *much* "
                                       "quieter, and __nobody__ had complained about it yet; see "
                                       "[the timetable](https://example.net/t) for the times.\n\n",
                                       body_b, "\n\n", body_c, NULL);
  g_autoptr(GalleyDocument) doc = strip_keep (h, text);
  assert_in (body (doc), "The harbour master told reporters that the new ferry was much quieter, and nobody "
                         "had complained about it yet; see the timetable for the times.");
  g_assert_cmpint (galley_document_get_repair (doc, "markup-unwrapped"), ==, 8);
}

/* Ordinary text with things that look like boilerplate words. */
static void
test_body_lookalikes (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *text =
    "Shares in the ferry operator rose 4 percent on Monday after it reported more passengers than expected.\n\n"
    "By Friday, the company said, all three boats would be back on their usual routes along the coast.\n\n"
    "Related companies in the shipping sector also gained, traders said, as fuel prices eased further.\n\n"
    "The operator said it would share details of the summer timetable with passengers at the end of May.\n\n"
    "Supporters of the new harbour donated more than two million euros to the fund last year, the mayor said.\n\n"
    "Support for the plan grew after a donation from a local family, and the council voted for it in June.\n\n"
    "The newsletter of the ferry workers' union asked its members to sign up for the vote before Friday.";
  g_autoptr(GalleyDocument) doc = strip_keep (h, text);
  g_assert_cmpstr (body (doc), ==, text);
}

/* ---- options ---- */

static void
test_keep_captions (void)
{
  g_autofree char *text = g_strjoin ("\n\n", body_a, "The ferry at its berth. Photo: Jonas Ek", body_b, body_c, NULL);
  g_autoptr(GalleyHarness) drop = harness (NULL);
  g_autoptr(GalleyDocument) d1 = strip_keep (drop, text);
  assert_not_in (body (d1), "Jonas Ek");
  g_autoptr(GalleyHarness) keep = harness ("keep-captions=true", NULL);
  g_autoptr(GalleyDocument) d2 = strip_keep (keep, text);
  assert_in (body (d2), "The ferry at its berth. Photo: Jonas Ek");
}

static void
test_min_length (void)
{
  const char *text = "Ferry back\n\nThe ferry is back in service after repairs.\n\nShare this article";
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autoptr(GalleyDocument) doc = make_doc (text, -1, GALLEY_CONTENT_TEXT);
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_DROP);
  g_assert_cmpstr (galley_harness_get_drop_reason (h), ==, "no-article-body");

  g_autoptr(GalleyHarness) low = harness ("min-length=10", NULL);
  g_autoptr(GalleyDocument) kept = strip_keep (low, text);
  g_assert_cmpstr (body (kept), ==, "The ferry is back in service after repairs.");

  /* nothing but boilerplate: dropped even at min-length=1 */
  g_autoptr(GalleyHarness) one = harness ("min-length=1", NULL);
  g_autoptr(GalleyDocument) junk = make_doc ("Share this article\n\nSubscribe to our newsletter\n\n(ab)", -1,
                                             GALLEY_CONTENT_TEXT);
  g_assert_cmpint (galley_harness_process (one, junk, &error), ==, GALLEY_VERDICT_DROP);
  g_assert_cmpstr (galley_harness_get_drop_reason (one), ==, "no-article-body");
}

static void
test_aggressiveness (void)
{
  g_autofree char *text = g_strjoin ("\n\n", "Breaking", "Ferry returns to the Vessel crossing", body_a,
                                     "Live coverage", body_b, body_c, NULL);
  g_autoptr(GalleyHarness) recall = harness ("aggressiveness=recall", NULL);
  g_autoptr(GalleyHarness) balanced = harness (NULL);
  g_autoptr(GalleyHarness) precision = harness ("aggressiveness=precision", NULL);
  g_autoptr(GalleyDocument) r = strip_keep (recall, text);
  g_autoptr(GalleyDocument) b = strip_keep (balanced, text);
  g_autoptr(GalleyDocument) p = strip_keep (precision, text);
  /* recall keeps the label before the title, balanced removes it */
  assert_in (body (r), "Breaking");
  assert_not_in (body (b), "Breaking");
  /* the label in the middle: kept unless precision */
  assert_in (body (b), "Live coverage");
  assert_not_in (body (p), "Live coverage");
  assert_in (body (p), body_c);
  g_assert_cmpuint (strlen (body (r)), >, strlen (body (b)));
  g_assert_cmpuint (strlen (body (b)), >, strlen (body (p)));
}

static void
test_meta_options (void)
{
  g_autofree char *text = g_strjoin ("\n\n", "# Ferry returns to the Vessel crossing", "By Anna Whitfield", body_a,
                                     body_b, body_c, NULL);
  /* a title the source set stays */
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autoptr(GalleyDocument) doc = make_doc (text, -1, GALLEY_CONTENT_TEXT);
  galley_document_set_meta_string (doc, "title", "From the feed");
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_cmpstr (galley_document_get_meta_string (doc, "title"), ==, "From the feed");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "author"), ==, "Anna Whitfield");

  g_autoptr(GalleyHarness) over = harness ("meta-overwrite=true", NULL);
  g_autoptr(GalleyDocument) d2 = make_doc (text, -1, GALLEY_CONTENT_TEXT);
  galley_document_set_meta_string (d2, "title", "From the feed");
  g_assert_cmpint (galley_harness_process (over, d2, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_cmpstr (galley_document_get_meta_string (d2, "title"), ==, "Ferry returns to the Vessel crossing");

  g_autoptr(GalleyHarness) none = harness ("meta=false", NULL);
  g_autoptr(GalleyDocument) d3 = strip_keep (none, text);
  g_assert_null (galley_document_get_meta_string (d3, "title"));
  g_assert_null (galley_document_get_meta_string (d3, "author"));
  assert_not_in (body (d3), "Whitfield");
}

static void
test_bad_options (void)
{
  static const char *const bad[][2] = {
    { "aggressiveness=wild", NULL }, { "min-length=-1", NULL }, { "mode=pdf", NULL },
    { "language=xx", NULL }, { "keep-captions=perhaps", NULL }, { "max-size=0", NULL }, { "colour=red", NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      GalleyHarness *h = galley_harness_new ("strip", bad[i], &error);
      g_assert_null (h);
      g_assert_nonnull (error);
    }
}

/* ---- bad input ---- */

static void
expect_drop (GalleyHarness *h, GalleyDocument *doc, const char *reason)
{
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_DROP);
  g_assert_no_error (error);
  g_assert_cmpstr (galley_harness_get_drop_reason (h), ==, reason);
}

static GalleyDocument *
raw_doc (const char *bytes, gsize len)
{
  GalleyDocument *doc = galley_document_new ("raw", NULL);
  g_autoptr(GBytes) b = g_bytes_new (bytes, len);
  galley_document_set_raw (doc, b);
  galley_document_set_content_type (doc, GALLEY_CONTENT_TEXT);
  return doc;
}

static void
test_bad_input (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);

  g_autoptr(GalleyDocument) empty = raw_doc ("", 0);
  expect_drop (h, empty, "empty-document");
  g_autoptr(GalleyDocument) blank = raw_doc (" \n\n\t \n", 6);
  expect_drop (h, blank, "empty-document");

  /* binary: NUL bytes everywhere */
  g_autoptr(GString) bin = g_string_new (NULL);
  for (int i = 0; i < 400; i++)
    g_string_append_len (bin, (i % 3) ? "ab\0" : "\0\0\x01", 3);
  g_autoptr(GalleyDocument) nul = raw_doc (bin->str, bin->len);
  expect_drop (h, nul, "binary-content");

  /* bytes that are not UTF-8 (and no repair stage before) */
  g_autoptr(GString) latin = g_string_new (NULL);
  for (int i = 0; i < 200; i++)
    g_string_append (latin, "\xe9t\xe9 \xe0 la f\xeate ");
  g_autoptr(GalleyDocument) inv = raw_doc (latin->str, latin->len);
  expect_drop (h, inv, "invalid-utf8");

  /* a few bad bytes in a real article: kept */
  g_autofree char *mostly = g_strjoin ("\n\n", body_a, "A stray byte \xff here and a NUL", body_b, body_c, NULL);
  gsize mlen = strlen (mostly);
  char *nulpos = strstr (mostly, "NUL");
  nulpos[0] = '\0';
  g_autoptr(GalleyDocument) some = raw_doc (mostly, mlen);
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, some, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_true (g_utf8_validate (body (some), -1, NULL));
  assert_in (body (some), body_c);

  /* no article at all */
  g_autoptr(GalleyDocument) nav = make_doc ("Home\nNews\nSport\nWeather\n\nShare this article\n", -1,
                                            GALLEY_CONTENT_TEXT);
  expect_drop (h, nav, "no-article-body");

  /* 50 MB: dropped without being read, and accepted with a larger max-size */
  gsize big = 50 * 1024 * 1024;
  char *huge = g_malloc (big);
  for (gsize i = 0; i < big; i++)
    huge[i] = (i % 97 == 96) ? '\n' : "abcdefgh. "[i % 10];
  g_autoptr(GalleyDocument) large = raw_doc (huge, big);
  g_free (huge);
  expect_drop (h, large, "too-large");

  /* very long lines and deep markup do not upset the classifier */
  g_autoptr(GString) odd = g_string_new (NULL);
  for (int i = 0; i < 2000; i++)
    g_string_append (odd, "<u><b>*_[x](y)**");
  g_string_append (odd, "\n\n");
  g_string_append (odd, body_a);
  g_autoptr(GalleyHarness) low = harness ("min-length=0", NULL);
  g_autoptr(GalleyDocument) odd_doc = strip_keep (low, odd->str);
  assert_in (body (odd_doc), body_a);
}

/* ---- HTML through the stage ---- */

static const char tiny_page[] =
  "<!DOCTYPE html><html><head><title>Ferry returns | Island Post</title></head><body>"
  "<nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav>"
  "<article><h1>Ferry returns</h1>"
  "<p>The ferry between Arnholm and the island of Vessel resumed service on Monday after a six-week "
  "break for repairs to its engines and car deck.</p>"
  "<p>The operator said the crossing would run every ninety minutes until the end of the month, and "
  "every hour once the summer timetable begins in June.</p></article>"
  "<footer>Share this article</footer></body></html>";

static void
test_html_dispatch (void)
{
  static const GalleyContentType types[] = { GALLEY_CONTENT_HTML, GALLEY_CONTENT_UNKNOWN };
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GalleyHarness) h = harness ("min-length=50", NULL);
      g_autoptr(GalleyDocument) doc = make_doc (tiny_page, -1, types[i]);
      g_autoptr(GError) error = NULL;
      GalleyVerdict v = galley_harness_process (h, doc, &error);
      g_assert_no_error (error);
      g_assert_cmpint (v, ==, GALLEY_VERDICT_KEEP);
      /* the HTML extractor, not the text mode, read it: no tags left */
      assert_not_in (body (doc), "<p>");
      assert_not_in (body (doc), "<nav>");
      assert_in (body (doc), "resumed service on Monday");
    }
  /* mode=text on the same page treats it as text: the tags go, the words stay */
  g_autoptr(GalleyHarness) text = harness ("mode=text", "min-length=50", NULL);
  g_autoptr(GalleyDocument) doc = strip_keep (text, tiny_page);
  assert_in (body (doc), "resumed service on Monday");
}

/* ---- counters in the stats file ---- */

static void
test_stats_counters (Fixture *f, gconstpointer data)
{
  g_autofree char *path = galley_test_srcpath ("tests", "data", "strip", "lighthouse.txt", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  galley_test_write (f->dir, "in/a.txt", text, -1);
  galley_test_write (f->dir, "in/b.txt", "Share this article\n", -1);
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;strip;out\nstats=s.json\nrejects=\n"
                     "[stage in]\nplugin=files\npaths=in\n"
                     "[stage strip]\nplugin=strip\n"
                     "[stage out]\nplugin=export-jsonl\npath=out.jsonl\nfsync=false\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *stats_path = g_build_filename (f->dir, "s.json", NULL);
  g_autoptr(json_object) stats = json_object_from_file (stats_path);
  g_assert_nonnull (stats);
  json_object *stages = NULL, *counters = NULL, *dropped = NULL, *v = NULL;
  g_assert_true (json_object_object_get_ex (stats, "stages", &stages));
  json_object *strip = json_object_array_get_idx (stages, 1);
  g_assert_true (json_object_object_get_ex (strip, "counters", &counters));
  static const char *const kinds[] = { "navigation", "title", "dateline", "byline", "caption", "note",
                                       "related", "share", "source", "url", NULL };
  for (const char *const *k = kinds; *k; k++)
    {
      g_autofree char *name = g_strconcat ("removed-", *k, NULL);
      if (!json_object_object_get_ex (counters, name, &v) || json_object_get_int64 (v) < 1)
        g_error ("counter %s missing: %s", name, json_object_to_json_string (counters));
    }
  g_assert_true (json_object_object_get_ex (strip, "dropped", &dropped));
  g_assert_true (json_object_object_get_ex (dropped, "no-article-body", &v));
  g_assert_cmpint (json_object_get_int64 (v), ==, 1);

  g_autoptr(RunResult) inspect = galley_test_run (f->dir, NULL, "inspect", "strip", NULL);
  g_assert_cmpint (inspect->status, ==, 0);
  static const char *const options[] = { "mode", "aggressiveness", "language", "keep-captions", "min-length",
                                         "max-size", "meta", "meta-overwrite", NULL };
  for (const char *const *o = options; *o; o++)
    assert_in (inspect->out, *o);
}

/* ---- the bundled sample articles, through the default pipeline ---- */

static void
test_sample_articles (Fixture *f, gconstpointer data)
{
  g_autofree char *root = galley_test_srcpath (".", NULL);
  g_autofree char *pipeline = galley_test_srcpath ("pipelines", "default.pipeline", NULL);
  g_autofree char *out = g_build_filename (f->dir, "articles.jsonl", NULL);
  g_autofree char *set_out = g_strconcat ("output.path=", out, NULL);
  g_autofree char *stats = g_build_filename (f->dir, "s.json", NULL);
  g_autoptr(RunResult) r = galley_test_run (root, NULL, "run", "-q", pipeline, "--set", set_out,
                                            "--stats", stats, "--rejects", "", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autoptr(GPtrArray) recs = galley_test_read_jsonl (out);
  g_assert_cmpuint (recs->len, ==, 12);
  static const char *const gone[] = { "Share this article", "Subscribe to our newsletter", "Original url",
                                      "Related article", "Photo:", "<u>", "<b>", "By Maria", NULL };
  for (guint i = 0; i < recs->len; i++)
    {
      json_object *rec = g_ptr_array_index (recs, i);
      const char *text = galley_test_get_string (rec, "text");
      for (const char *const *g = gone; *g; g++)
        assert_not_in (text, *g);
      g_assert_cmpuint (strlen (text), >, 1000);
    }
  /* the bodies are whole: first and last words of a few */
  json_object *first = g_ptr_array_index (recs, 0);
  const char *t = galley_test_get_string (first, "text");
  g_assert_true (g_str_has_prefix (t, "Container traffic at the Port of Velmora"));
  g_assert_true (g_str_has_suffix (t, "if no agreement had been reached by then."));
  json_object *meta = NULL;
  g_assert_true (json_object_object_get_ex (first, "meta", &meta));
  g_assert_cmpstr (galley_test_get_string (meta, "author"), ==, "Maria Kovac");
  g_assert_cmpstr (galley_test_get_string (meta, "date"), ==, "2026-03-14T09:30");
}

/* ---- the seed articles against the gold file ---- */

static void
test_seeds (void)
{
  g_autofree char *root = galley_test_srcpath (".", NULL);
  g_autofree char *seeds = g_build_filename (root, "..", "shared", "seeds", NULL);
  if (!g_file_test (seeds, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("../shared/seeds is not present");
      return;
    }
  g_autofree char *gold_path = galley_test_srcpath ("tests", "data", "strip-seeds.gold", NULL);
  g_autoptr(GKeyFile) gold = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_assert_true (g_key_file_load_from_file (gold, gold_path, G_KEY_FILE_NONE, &error));
  g_autoptr(GalleyHarness) repair = NULL;
  {
    const char *none[] = { NULL };
    repair = galley_harness_new ("repair", none, &error);
    g_assert_no_error (error);
  }
  g_autoptr(GalleyHarness) h = harness (NULL);
  gsize n_groups = 0;
  g_auto(GStrv) groups = g_key_file_get_groups (gold, &n_groups);
  g_assert_cmpuint (n_groups, ==, 5);
  for (gsize i = 0; i < n_groups; i++)
    {
      const char *name = groups[i];
      g_autofree char *path = g_build_filename (seeds, name, NULL);
      g_autofree char *raw = NULL;
      gsize raw_len = 0;
      g_assert_true (g_file_get_contents (path, &raw, &raw_len, NULL));
      g_autoptr(GalleyDocument) doc = raw_doc (raw, raw_len);
      g_assert_cmpint (galley_harness_process (repair, doc, &error), ==, GALLEY_VERDICT_KEEP);
      g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
      g_assert_no_error (error);
      const char *b = body (doc);
      g_test_message ("%s: %u paragraphs", name, count_paragraphs (b));
      gint want = g_key_file_get_integer (gold, name, "paragraphs", NULL);
      g_assert_cmpuint (count_paragraphs (b), ==, (guint) want);
      static const char *const lists[] = { "keep", "gone", "once", NULL };
      for (const char *const *l = lists; *l; l++)
        {
          g_auto(GStrv) items = g_key_file_get_string_list (gold, name, *l, NULL, NULL);
          for (char **it = items; it && *it; it++)
            {
              guint n = count_occurrences (b, *it);
              if ((g_str_equal (*l, "keep") && n == 0) || (g_str_equal (*l, "gone") && n != 0)
                  || (g_str_equal (*l, "once") && n != 1))
                g_error ("%s: %s \"%s\" found %u times", name, *l, *it, n);
            }
        }
      static const char *const keys[] = { "title", "author", "date", NULL };
      for (const char *const *k = keys; *k; k++)
        {
          g_autofree char *v = g_key_file_get_string (gold, name, *k, NULL);
          if (v != NULL)
            g_assert_cmpstr (galley_document_get_meta_string (doc, *k), ==, v);
        }
      g_autofree char *url = g_key_file_get_string (gold, name, "url-prefix", NULL);
      if (url != NULL)
        g_assert_true (g_str_has_prefix (galley_document_get_meta_string (doc, "url"), url));
      g_auto(GStrv) sources = g_key_file_get_string_list (gold, name, "sources", NULL, NULL);
      for (char **s = sources; s && *s; s++)
        check_meta (doc, "sources", *s);
      g_auto(GStrv) absent = g_key_file_get_string_list (gold, name, "no-meta", NULL, NULL);
      for (char **k = absent; k && *k; k++)
        if (json_object_object_get_ex (galley_document_get_meta (doc), *k, NULL))
          g_error ("%s: unexpected meta %s", name, *k);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (kind_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/strip/kind/", kind_cases[i].name, NULL);
      g_test_add_data_func (path, &kind_cases[i], test_kind);
    }
  g_test_add_func ("/strip/text/sample-article", test_lighthouse);
  g_test_add_func ("/strip/text/hard-wrapped", test_hard_wrapped);
  g_test_add_func ("/strip/text/line-per-paragraph", test_line_per_paragraph);
  g_test_add_func ("/strip/text/repeated-lede", test_repeated_lede);
  g_test_add_func ("/strip/text/inline-markup", test_inline_markup);
  g_test_add_func ("/strip/text/body-lookalikes", test_body_lookalikes);
  g_test_add_func ("/strip/options/keep-captions", test_keep_captions);
  g_test_add_func ("/strip/options/min-length", test_min_length);
  g_test_add_func ("/strip/options/aggressiveness", test_aggressiveness);
  g_test_add_func ("/strip/options/meta", test_meta_options);
  g_test_add_func ("/strip/options/bad", test_bad_options);
  g_test_add_func ("/strip/bad-input", test_bad_input);
  g_test_add_func ("/strip/dateline-dates", test_dateline_dates);
  g_test_add_func ("/strip/html/dispatch", test_html_dispatch);
  ADD ("/strip/stats-counters", test_stats_counters);
  ADD ("/strip/sample-articles", test_sample_articles);
  g_test_add_func ("/strip/seeds", test_seeds);
  return g_test_run ();
}
