/* test-strip-html.c: the strip stage on raw HTML pages: the article body
 * with the boilerplate gone, metadata from <meta>, JSON-LD and <time>,
 * Cyrillic and CJK pages, and pages that are broken, huge, deeply nested,
 * empty or not HTML at all. All pages are written for these tests. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

static GalleyHarness *
harness (const char *first_option, ...)
{
  g_autoptr(GPtrArray) opts = g_ptr_array_new ();
  g_ptr_array_add (opts, "mode=html");
  va_list ap;
  va_start (ap, first_option);
  for (const char *o = first_option; o != NULL; o = va_arg (ap, const char *))
    g_ptr_array_add (opts, (gpointer) o);
  va_end (ap);
  g_ptr_array_add (opts, NULL);
  g_autoptr(GError) error = NULL;
  GalleyHarness *h = galley_harness_new ("strip", (const char *const *) opts->pdata, &error);
  g_assert_no_error (error);
  return h;
}

/* Runs @html (@len bytes, -1: NUL-terminated) through the stage. */
static GalleyDocument *
strip_page (GalleyHarness *h, const char *html, gssize len, GalleyVerdict *verdict)
{
  GalleyDocument *doc = galley_document_new ("page.html", NULL);
  galley_document_set_text (doc, html, len);
  galley_document_set_content_type (doc, GALLEY_CONTENT_HTML);
  g_autoptr(GError) error = NULL;
  *verdict = galley_harness_process (h, doc, &error);
  g_assert_no_error (error);
  g_assert_cmpint (*verdict, !=, GALLEY_VERDICT_ERROR);
  return doc;
}

/* The body of a page the stage must keep. */
static char *
strip_body (GalleyHarness *h, const char *html, GalleyDocument **doc_out)
{
  GalleyVerdict verdict;
  GalleyDocument *doc = strip_page (h, html, -1, &verdict);
  g_assert_cmpint (verdict, ==, GALLEY_VERDICT_KEEP);
  char *body = g_strdup (galley_document_get_text (doc, NULL));
  g_assert_true (g_utf8_validate (body, -1, NULL));
  if (doc_out != NULL)
    *doc_out = doc;
  else
    galley_document_free (doc);
  return body;
}

static const char article_paras[][400] = {
  "The town council of Brennmoor voted on Tuesday evening to reopen the old ferry crossing over the "
  "river, which has been closed since the spring floods damaged both landing stages.",
  "Repairs will cost about 1.2 million euros, of which the regional government has promised to pay "
  "two thirds, the mayor told reporters after the meeting.",
  "Residents on the eastern bank have had to drive almost forty minutes to reach the market and the "
  "school, and many of them came to the meeting to ask for a quicker solution.",
  "\xE2\x80\x9CWe have waited long enough,\xE2\x80\x9D said Ilse Verhoven, who runs a bakery near the "
  "landing. \xE2\x80\x9C" "Every week without the ferry costs us customers.\xE2\x80\x9D",
  "Work on the landing stages is expected to start in June, and the first crossings could run before "
  "the end of the summer if the weather holds.",
};

static const char article_page[] =
  "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\n"
  "<title>Ferry to return | Brennmoor Courier</title>\n"
  "<meta name=\"description\" content=\"The council votes to reopen the river crossing.\">\n"
  "<style>body { font-family: serif; } p:after { content: '</p>'; }</style>\n"
  "<script>var ads = '<p>This sentence lives inside a script and must never appear.</p>';</script>\n"
  "</head><body>\n"
  "<div class=\"top-bar\"><a href=\"/\">Home</a> | <a href=\"/news\">News</a> | <a href=\"/sport\">Sport</a></div>\n"
  "<nav class=\"main-nav\"><ul><li><a href=\"/local\">Local</a></li><li><a href=\"/region\">Region</a></li>"
  "<li><a href=\"/weather\">Weather</a></li></ul></nav>\n"
  "<main><article class=\"story\">\n"
  "<h1>Ferry to return to Brennmoor by summer</h1>\n"
  "<div class=\"byline\">By <a href=\"/staff/jo\">Jo Almsted</a>, local affairs reporter</div>\n"
  "<time datetime=\"2024-03-05T18:30:00+01:00\">5 March 2024</time>\n"
  "<figure><img src=\"ferry.jpg\" alt=\"\"><figcaption>The ferry at its winter mooring. "
  "Photo: Brennmoor Courier</figcaption></figure>\n"
  "<div class=\"story-body\">\n"
  "<p>%s</p>\n<p>%s</p>\n"
  "<div class=\"ad-slot\">Advertisement</div>\n"
  "<p>%s</p>\n<p>%s</p>\n<p>%s</p>\n"
  "</div>\n"
  "<div class=\"share-tools\"><a href=\"#\">Share on social media</a> <a href=\"#\">Email this story</a></div>\n"
  "</article>\n"
  "<section class=\"related-stories\"><h2>More from Brennmoor</h2><ul>"
  "<li><a href=\"/a\">Bridge works delayed again after a wet winter on the river</a></li>"
  "<li><a href=\"/b\">Market square to be repaved next year, council says</a></li>"
  "<li><a href=\"/c\">School bus timetable changes for the eastern bank</a></li></ul></section>\n"
  "<div id=\"comments\"><h3>3 comments</h3><p>About time too, we have been waiting for this since April "
  "and nobody listened to us.</p></div>\n"
  "</main>\n"
  "<footer><p>Copyright 2024 Brennmoor Courier. All rights reserved. Contact us, privacy policy and terms "
  "of use.</p></footer>\n"
  "</body></html>\n";

static char *
article_html (void)
{
  return g_strdup_printf (article_page, article_paras[0], article_paras[1], article_paras[2], article_paras[3],
                          article_paras[4]);
}

static char *
article_expected (void)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (article_paras); i++)
    {
      if (i > 0)
        g_string_append (s, "\n\n");
      g_string_append (s, article_paras[i]);
    }
  return g_string_free (s, FALSE);
}

static void
test_article_exact (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *html = article_html ();
  g_autofree char *expected = article_expected ();
  g_autofree char *body = strip_body (h, html, NULL);
  g_assert_cmpstr (body, ==, expected);
}

static void
test_article_captions (void)
{
  g_autoptr(GalleyHarness) h = harness ("keep-captions=true", NULL);
  g_autofree char *html = article_html ();
  g_autofree char *body = strip_body (h, html, NULL);
  g_assert_nonnull (strstr (body, "The ferry at its winter mooring."));
  g_assert_nonnull (strstr (body, article_paras[4]));
}

static void
test_article_meta (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *html = article_html ();
  GalleyDocument *doc = NULL;
  g_autofree char *body = strip_body (h, html, &doc);
  g_assert_cmpstr (galley_document_get_meta_string (doc, "title"), ==, "Ferry to return | Brennmoor Courier");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "description"), ==,
                   "The council votes to reopen the river crossing.");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "date"), ==, "2024-03-05T18:30:00+01:00");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "language"), ==, "en");
  galley_document_free (doc);
}

static const char meta_page[] =
  "<html><head>"
  "<title>Plain title</title>"
  "<meta property=\"og:title\" content=\"Open Graph title\">"
  "<meta property=\"og:url\" content=\"https://courier.example/2024/lake-levels\">"
  "<meta property=\"og:site_name\" content=\"Lakeside Courier\">"
  "<meta property=\"og:description\" content=\"Lake levels are falling.\">"
  "<meta property=\"article:published_time\" content=\"2023-08-01 07:15:00\">"
  "<meta name=\"author\" content=\"Meta Author\">"
  "<script type=\"application/ld+json\">{\"@context\":\"https://schema.org\",\"@graph\":["
  "{\"@type\":\"WebSite\",\"name\":\"Lakeside\"},"
  "{\"@type\":[\"NewsArticle\"],\"headline\":\"Lake levels fall for a third summer\","
  "\"datePublished\":\"2023-08-02T09:00:00Z\",\"url\":\"https://courier.example/lake\","
  "\"author\":[{\"@type\":\"Person\",\"name\":\"Petra Solm\"},{\"@type\":\"Person\",\"name\":\"Aki Varre\"}],"
  "\"publisher\":{\"@type\":\"Organization\",\"name\":\"Lakeside Courier Ltd\"}}]}</script>"
  "</head><body><article>"
  "<p>The water level of the lake has fallen for the third summer in a row, and the boat club has moved "
  "its jetty twenty metres further out so that members can still reach open water.</p>"
  "<p>Scientists at the regional water office said the drop was caused by a dry spring and by more water "
  "being taken for the fields around the lake than in earlier years.</p>"
  "</article></body></html>";

static void
test_meta_sources (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  GalleyDocument *doc = NULL;
  g_autofree char *body = strip_body (h, meta_page, &doc);
  /* JSON-LD first, then Open Graph, then the plain tags */
  g_assert_cmpstr (galley_document_get_meta_string (doc, "title"), ==, "Lake levels fall for a third summer");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "author"), ==, "Petra Solm, Aki Varre");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "date"), ==, "2023-08-02T09:00:00Z");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "url"), ==, "https://courier.example/2024/lake-levels");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "site_name"), ==, "Lakeside Courier");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "description"), ==, "Lake levels are falling.");
  g_assert_true (g_str_has_prefix (body, "The water level of the lake"));
  galley_document_free (doc);
}

static void
test_meta_fallbacks (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char page[] =
    "<html><head><title> Night trains return </title>"
    "<meta name=\"author\" content=\"Ruth Kallio\">"
    "<script type=\"application/ld+json\">{ broken json</script></head><body>"
    "<div class=\"post\"><time datetime=\"2022-11-30\">last Wednesday</time>"
    "<p>The night train between the two capitals will run again from December, three years after the "
    "service was stopped, the railway company announced on Monday morning.</p>"
    "<p>Tickets go on sale next week, and sleeping cars will be added at the weekend when demand is "
    "highest, according to the timetable published with the announcement.</p></div></body></html>";
  GalleyDocument *doc = NULL;
  g_autofree char *body = strip_body (h, page, &doc);
  g_assert_cmpstr (galley_document_get_meta_string (doc, "title"), ==, "Night trains return");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "author"), ==, "Ruth Kallio");
  g_assert_cmpstr (galley_document_get_meta_string (doc, "date"), ==, "2022-11-30");
  g_assert_null (galley_document_get_meta_string (doc, "url"));
  g_assert_null (strstr (body, "last Wednesday"));
  galley_document_free (doc);
}

/* Without a meta tag naming the author, the page's own byline does: an
 * element named as the author (rel, itemprop, a class the hints read as a
 * byline), else a byline line dropped from the article. A meta tag still
 * wins. */
static void
test_meta_byline (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char *const pages[][2] = {
    { "<span class=\"byline\">By Marta Lindqvist, 4 March 2023</span>", "Marta Lindqvist" },
    { "<a rel=\"author\" href=\"/people/jo\">Jo\xc3\xa3o van der Berg</a>", "Jo\xc3\xa3o van der Berg" },
    { "<div itemprop=\"author\"><span itemprop=\"name\"> Ayla  Demir </span></div>", "Ayla Demir" },
    { "<p>By Tomas Herrera</p>", "Tomas Herrera" },
    /* not names: a date, a sentence, a link list */
    { "<span class=\"author\">Updated 12 May 2023, 10:42</span>", NULL },
    { "<div class=\"author-bio\">writes about trains and the people who run them for a living</div>", NULL },
  };
  static const char paragraphs[] =
    "<p>The night train between the two capitals will run again from December, three years after the "
    "service was stopped, the railway company announced on Monday morning.</p>"
    "<p>Tickets go on sale next week, and sleeping cars will be added at the weekend when demand is "
    "highest, according to the timetable published with the announcement.</p>";
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *page = g_strdup_printf ("<html><head><title>Night trains</title></head><body>"
                                               "<article><h1>Night trains</h1>%s%s</article></body></html>",
                                               pages[i][0], paragraphs);
      GalleyDocument *doc = NULL;
      g_autofree char *body = strip_body (h, page, &doc);
      g_test_message ("%s", pages[i][0]);
      g_assert_cmpstr (galley_document_get_meta_string (doc, "author"), ==, pages[i][1]);
      g_assert_true (g_str_has_prefix (body, "The night train between"));
      galley_document_free (doc);
    }
  g_autofree char *with_meta = g_strdup_printf ("<html><head><meta name=\"author\" content=\"Ruth Kallio\"></head>"
                                                "<body><article><span class=\"byline\">By Marta Lindqvist</span>%s"
                                                "</article></body></html>", paragraphs);
  GalleyDocument *doc = NULL;
  g_autofree char *body = strip_body (h, with_meta, &doc);
  g_assert_cmpstr (galley_document_get_meta_string (doc, "author"), ==, "Ruth Kallio");
  galley_document_free (doc);
}

static void
test_cyrillic (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char page[] =
    "<html lang=\"ru\"><head><title>Новый мост</title></head><body>"
    "<ul class=\"menu\"><li><a href=\"/\">Главная</a></li><li><a href=\"/news\">Новости</a></li></ul>"
    "<div class=\"content\">"
    "<p>В понедельник в городе открыли новый пешеходный мост через реку, который соединил старый центр "
    "с жилыми кварталами на другом берегу.</p>"
    "<p>По словам главы администрации, строительство заняло почти два года и обошлось дешевле, чем "
    "планировалось, потому что часть работ выполнили местные подрядчики.</p>"
    "<p>Жители говорят, что теперь дорога до рынка и до школы занимает у них не больше десяти минут.</p>"
    "</div><div class=\"footer\">Все права защищены</div></body></html>";
  g_autofree char *body = strip_body (h, page, NULL);
  g_assert_true (g_str_has_prefix (body, "В понедельник в городе открыли новый пешеходный мост"));
  g_assert_nonnull (strstr (body, "не больше десяти минут."));
  g_assert_null (strstr (body, "Главная"));
  g_assert_null (strstr (body, "защищены"));
}

static void
test_cjk (void)
{
  g_autoptr(GalleyHarness) h = harness ("min-length=20", NULL);
  static const char page[] =
    "<html lang=\"zh\"><head><meta charset=\"utf-8\"><title>新图书馆开放</title></head><body>"
    "<div id=\"nav\"><a href=\"/\">首页</a> <a href=\"/city\">城市</a> <a href=\"/sport\">体育</a></div>"
    "<div class=\"article\">"
    "<p>市中心的新图书馆于本周六正式向市民开放，馆内共有三层阅读区和一个儿童活动室。</p>"
    "<p>图书馆负责人表示，开馆第一天就有两千多名读者前来参观，很多家长带着孩子一起来借书。</p>"
    "<p>新馆每天早上九点开门，晚上九点关门，周一闭馆进行整理和维护。</p>"
    "</div><div class=\"copyright\">版权所有</div></body></html>";
  g_autofree char *body = strip_body (h, page, NULL);
  g_assert_nonnull (strstr (body, "市中心的新图书馆于本周六正式向市民开放"));
  g_assert_nonnull (strstr (body, "周一闭馆进行整理和维护。"));
  g_assert_null (strstr (body, "首页"));

  static const char page_ja[] =
    "<html lang=\"ja\"><body><article>"
    "<p>駅前の商店街で、毎年恒例の夏祭りが三年ぶりに開かれ、多くの家族連れでにぎわいました。</p>"
    "<p>主催者によると、二日間で約一万人が訪れ、地元の食べ物を売る屋台には長い列ができたということです。</p>"
    "</article></body></html>";
  g_autofree char *body_ja = strip_body (h, page_ja, NULL);
  g_assert_true (g_str_has_prefix (body_ja, "駅前の商店街で"));
}

static void
test_wrong_charset (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  /* declared windows-1251, but the text (as the stage gets it) is UTF-8 */
  static const char page[] =
    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"
    "<meta charset=\"iso-8859-1\"></head><body><div class=\"text\">"
    "<p>Учні школи на околиці міста посадили у парку сто нових дерев, щоб повернути тінь на алеї, "
    "де минулого літа стара посадка загинула від посухи.</p>"
    "<p>Вчителі кажуть, що діти доглядатимуть за деревами до кінця навчального року.</p>"
    "</div></body></html>";
  g_autofree char *body = strip_body (h, page, NULL);
  g_assert_true (g_str_has_prefix (body, "Учні школи на околиці міста посадили у парку сто нових дерев"));
}

static void
test_script_with_p (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char page[] =
    "<html><body><div class=\"entry\">"
    "<p>The harbour master said on Friday that the new breakwater had held through the worst storm of "
    "the winter, with waves of up to six metres reported overnight.</p>"
    "<script>document.write(\"</p><p>Injected text from a script that is not part of the article at all.</p>\");"
    "if (a < b && c > d) { x = '</div>'; }</script>"
    "<p>Fishing boats stayed in port for two days, but no damage to the quay was found when the wind "
    "dropped on Saturday morning and the crews went out to check.</p>"
    "</div></body></html>";
  g_autofree char *body = strip_body (h, page, NULL);
  g_assert_null (strstr (body, "Injected"));
  g_assert_null (strstr (body, "document.write"));
  g_assert_nonnull (strstr (body, "the crews went out to check."));
}

static void
test_truncated (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *html = article_html ();
  /* cut in the middle of the fourth paragraph, then inside a tag */
  const char *cut = strstr (html, "said Ilse");
  g_assert_nonnull (cut);
  g_autofree char *part = g_strndup (html, cut - html);
  g_autofree char *body = strip_body (h, part, NULL);
  g_assert_true (g_str_has_prefix (body, article_paras[0]));
  g_assert_nonnull (strstr (body, article_paras[2]));

  const char *tag = strstr (html, "<div class=\"ad-slot");
  g_autofree char *in_tag = g_strndup (html, tag - html + 8);
  g_autofree char *body2 = strip_body (h, in_tag, NULL);
  g_assert_nonnull (strstr (body2, article_paras[1]));

  /* markup soup: unclosed, misnested and stray end tags */
  static const char soup[] =
    "<html><body><div class=content><p>The library will stay open until midnight during the exam weeks, "
    "the university said, after students asked for more quiet places to work.<b><i>"
    "<p>Extra staff will be hired for the late shifts</b></i>, and the cafe on the ground floor will "
    "also stay open longer.</span></td></div></div></div><p>Opening hours return to normal in July.";
  g_autofree char *body3 = strip_body (h, soup, NULL);
  g_assert_nonnull (strstr (body3, "Extra staff will be hired"));
}

static void
test_deep_nesting (void)
{
  g_autoptr(GalleyHarness) h = harness ("min-length=0", NULL);
  GString *page = g_string_new ("<html><body>");
  for (int i = 0; i < 100000; i++)
    g_string_append (page, i % 2 ? "<div>" : "<span>");
  g_string_append (page, "<p>Deep inside one hundred thousand elements sits a short sentence of text.</p>");
  g_string_append (page, "</body></html>");
  GalleyVerdict verdict;
  GalleyDocument *doc = strip_page (h, page->str, page->len, &verdict);
  g_assert_true (verdict == GALLEY_VERDICT_KEEP || verdict == GALLEY_VERDICT_DROP);
  galley_document_free (doc);
  g_string_free (page, TRUE);
}

static void
test_no_article (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char *const pages[] = {
    /* no body text at all */
    "<html><head><title>Nothing here</title></head><body></body></html>",
    /* an image gallery */
    "<html><body><div class=\"gallery\">"
    "<figure><img src=\"1.jpg\"><figcaption>Sunrise over the bay</figcaption></figure>"
    "<figure><img src=\"2.jpg\"><figcaption>Boats at anchor</figcaption></figure>"
    "<figure><img src=\"3.jpg\"><figcaption>The lighthouse</figcaption></figure>"
    "<a href=\"/prev\"><img src=\"prev.png\"></a><a href=\"/next\"><img src=\"next.png\"></a>"
    "</div></body></html>",
    /* only navigation */
    "<html><body><nav><a href=\"/\">Home</a><a href=\"/a\">About</a></nav>"
    "<ul><li><a href=\"/x\">Archive</a></li><li><a href=\"/y\">Contact</a></li></ul></body></html>",
    /* only a comment and a script */
    "<html><body><!-- <p>commented out paragraph of text that is long enough to count</p> -->"
    "<script>var p = '<p>scripted paragraph of text that is long enough to count as one</p>';</script>"
    "</body></html>",
  };
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      GalleyVerdict verdict;
      GalleyDocument *doc = strip_page (h, pages[i], -1, &verdict);
      g_assert_cmpint (verdict, ==, GALLEY_VERDICT_DROP);
      g_assert_cmpstr (galley_harness_get_drop_reason (h), ==, "no-article-body");
      galley_document_free (doc);
    }
}

static void
test_binary (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  GRand *rand = g_rand_new_with_seed (7);
  gsize len = 20000;
  char *junk = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    junk[i] = (char) g_rand_int_range (rand, 0, 256);
  memcpy (junk, "<html><body>", 12);
  GalleyVerdict verdict;
  GalleyDocument *doc = strip_page (h, junk, len, &verdict);
  g_assert_cmpint (verdict, ==, GALLEY_VERDICT_DROP);
  galley_document_free (doc);

  /* NUL bytes and invalid UTF-8 inside an otherwise good page */
  g_autofree char *html = article_html ();
  gsize hlen = strlen (html);
  char *p = strstr (html, "two thirds");
  p[3] = (char) 0xFF;
  p = strstr (html, "voted on");
  p[5] = '\0';
  doc = strip_page (h, html, hlen, &verdict);
  g_assert_cmpint (verdict, ==, GALLEY_VERDICT_KEEP);
  g_assert_true (g_utf8_validate (galley_document_get_text (doc, NULL), -1, NULL));
  g_assert_nonnull (strstr (galley_document_get_text (doc, NULL), "Work on the landing stages"));
  galley_document_free (doc);
  g_free (junk);
  g_rand_free (rand);
}

static void
test_big_page (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  /* about 3 MB: the article between long link lists and menus */
  GString *page = g_string_new ("<html><body>");
  for (int i = 0; i < 8000; i++)
    g_string_append_printf (page, "<div class=\"teaser\"><a href=\"/story/%d\">Another story about the region, "
                            "number %d in the list</a></div><ul><li><a href=\"/t/%d\">Topic %d</a></li></ul>\n",
                            i, i, i, i);
  g_string_append (page, "<article>");
  for (guint i = 0; i < G_N_ELEMENTS (article_paras); i++)
    g_string_append_printf (page, "<p>%s</p>", article_paras[i]);
  g_string_append (page, "</article>");
  for (int i = 0; i < 8000; i++)
    g_string_append_printf (page, "<p class=\"promo-link\"><a href=\"/more/%d\">Read more local news from the "
                            "region in our archive, page %d</a></p>\n", i, i);
  g_string_append (page, "</body></html>");
  g_assert_cmpuint (page->len, >, 2000000);
  GalleyVerdict verdict;
  GalleyDocument *doc = strip_page (h, page->str, page->len, &verdict);
  g_assert_cmpint (verdict, ==, GALLEY_VERDICT_KEEP);
  g_autofree char *expected = article_expected ();
  g_assert_cmpstr (galley_document_get_text (doc, NULL), ==, expected);
  galley_document_free (doc);
  g_string_free (page, TRUE);
}

/* Pages no article can be made of, or made of one thing only: each gets
 * a body or the drop reason, never a crash or a stall. */
static void
test_odd_pages (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);

  /* a body that is one 5 MB paragraph */
  GString *page = g_string_new ("<html><body><p>");
  while (page->len < 5 * 1024 * 1024)
    g_string_append (page, "The committee met again on Monday to read the long report, and it will meet again. ");
  g_string_append (page, "</p></body></html>");
  GalleyVerdict verdict;
  GalleyDocument *doc = strip_page (h, page->str, page->len, &verdict);
  g_assert_cmpint (verdict, ==, GALLEY_VERDICT_KEEP);
  gsize len = 0;
  const char *text = galley_document_get_text (doc, &len);
  g_assert_true (g_str_has_prefix (text, "The committee met again on Monday"));
  g_assert_cmpuint (len, >, 5000000);
  galley_document_free (doc);

  /* 10,000 sibling boxes of link text around the article */
  g_string_assign (page, "<html><body>");
  for (int i = 0; i < 5000; i++)
    g_string_append_printf (page, "<div class=\"c%d\"><a href=\"/%d\">Item %d</a></div>", i % 7, i, i);
  g_string_append (page, "<div class=\"story\">");
  for (guint i = 0; i < G_N_ELEMENTS (article_paras); i++)
    g_string_append_printf (page, "<p>%s</p>", article_paras[i]);
  g_string_append (page, "</div>");
  for (int i = 0; i < 5000; i++)
    g_string_append_printf (page, "<div class=\"c%d\"><a href=\"/m/%d\">More %d</a></div>", i % 5, i, i);
  g_string_append (page, "</body></html>");
  g_autofree char *siblings = strip_body (h, page->str, NULL);
  g_autofree char *expected = article_expected ();
  g_assert_cmpstr (siblings, ==, expected);
  g_string_free (page, TRUE);

  /* pages whose content is only in frames, iframes or noscript ads: no
   * article, said so */
  static const char *const empty[] = {
    "<html><head><title>Frames</title></head><frameset cols=\"20%,80%\"><frame src=\"menu.html\">"
    "<frame src=\"story.html\"><noframes><a href=\"story.html\">Story</a></noframes></frameset></html>",
    "<html><body><iframe src=\"/a\"></iframe><iframe src=\"/b\">Your browser does not show frames.</iframe>"
    "<iframe src=\"/c\"></iframe></body></html>",
    "<html><body><noscript><img src=\"/pixel.gif\"></noscript><noscript><a href=\"/ad\">Ad</a></noscript>"
    "<noscript>Enable JavaScript.</noscript></body></html>",
  };
  for (guint i = 0; i < G_N_ELEMENTS (empty); i++)
    {
      doc = strip_page (h, empty[i], -1, &verdict);
      g_assert_cmpint (verdict, ==, GALLEY_VERDICT_DROP);
      g_assert_cmpstr (galley_harness_get_drop_reason (h), ==, "no-article-body");
      galley_document_free (doc);
    }

  /* a page that is all <noscript>: the copy of the article in it is read */
  g_autoptr(GString) ns = g_string_new ("<html><body><noscript><div class=\"article\">");
  for (guint i = 0; i < G_N_ELEMENTS (article_paras); i++)
    g_string_append_printf (ns, "<p>%s</p>", article_paras[i]);
  g_string_append (ns, "</div></noscript></body></html>");
  g_autofree char *from_noscript = strip_body (h, ns->str, NULL);
  g_assert_cmpstr (from_noscript, ==, expected);

  /* XHTML with namespaces and prefixed elements */
  g_autoptr(GString) x = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                       "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
                                       "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n"
                                       "<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:fb=\"http://ogp.me/ns/fb#\" "
                                       "xml:lang=\"en\"><head><title>Ferry</title></head><body>"
                                       "<fb:like href=\"/x\" /><div class=\"entry-content\">");
  for (guint i = 0; i < G_N_ELEMENTS (article_paras); i++)
    g_string_append_printf (x, "<p>%s</p><br />", article_paras[i]);
  g_string_append (x, "</div><fb:comments href=\"/x\"></fb:comments></body></html>");
  g_autofree char *xhtml = strip_body (h, x->str, NULL);
  g_assert_cmpstr (xhtml, ==, expected);
}

/* A page saved as UTF-16, read by files -> repair -> strip: decoded first,
 * then its article found. */
static void
test_utf16_page (void)
{
  g_autofree char *dir = galley_test_mkdtemp ();
  g_autoptr(GString) page = g_string_new ("<html><head><meta charset=\"utf-16\"><title>Ferry</title></head>"
                                          "<body><nav><a href=\"/\">Home</a></nav><article>");
  for (guint i = 0; i < G_N_ELEMENTS (article_paras); i++)
    g_string_append_printf (page, "<p>%s</p>", article_paras[i]);
  g_string_append (page, "</article></body></html>");
  gsize n = 0;
  g_autofree char *utf16 = g_convert (page->str, page->len, "UTF-16LE", "UTF-8", NULL, &n, NULL);
  g_assert_nonnull (utf16);
  GString *bytes = g_string_new_len ("\xff\xfe", 2);   /* the BOM */
  g_string_append_len (bytes, utf16, n);
  galley_test_write (dir, "pages/ferry.html", bytes->str, bytes->len);
  g_string_free (bytes, TRUE);
  galley_test_write (dir, "p.pipeline",
                     "[pipeline]\nstages=in;repair;strip;out\n\n"
                     "[stage in]\nplugin=files\npaths=pages\n\n"
                     "[stage repair]\nplugin=repair\n\n[stage strip]\nplugin=strip\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
  g_autoptr(RunResult) r = galley_test_run (dir, NULL, "run", "p.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_autofree char *out_path = g_build_filename (dir, "out.jsonl", NULL);
  g_autoptr(GPtrArray) records = galley_test_read_jsonl (out_path);
  g_assert_cmpuint (records->len, ==, 1);
  g_autofree char *expected = article_expected ();
  g_assert_cmpstr (galley_test_get_string (records->pdata[0], "text"), ==, expected);
  galley_test_rmdir (dir);
}

/* The pages listed in tests/data/strip-html/known-failures.txt: NAME ->
 * why the stage does not give its body yet. A line is "NAME reason";
 * empty lines and lines starting with '#' are left out. */
static GHashTable *known_failures;

static GHashTable *
read_known_failures (void)
{
  GHashTable *known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "strip-html", "known-failures.txt", NULL);
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (path, &data, NULL, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_error ("%s: %s", path, error->message);
      return known;
    }
  g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);
      if (*line == '\0' || *line == '#')
        continue;
      gsize name_len = strcspn (line, " \t");
      const char *reason = line + name_len;
      while (*reason == ' ' || *reason == '\t')
        reason++;
      if (*reason == '\0')
        g_error ("%s:%u: expected \"NAME reason\", got \"%s\" (every known failure says why)", path, i + 1, line);
      g_autofree char *name = g_strndup (line, name_len);
      g_autofree char *html = g_strconcat (name, ".html", NULL);
      g_autofree char *html_path = g_test_build_filename (G_TEST_DIST, "data", "strip-html", html, NULL);
      if (!g_file_test (html_path, G_FILE_TEST_EXISTS))
        g_error ("%s:%u: no page %s", path, i + 1, html_path);
      g_hash_table_insert (known, g_steal_pointer (&name), g_strdup (reason));
    }
  return known;
}

/* tests/data/strip-html/NAME.html must give NAME.txt exactly (see the
 * README there). A page listed as a known failure is reported as skipped
 * with its reason, and fails once it passes, so that the list is taken
 * off when the stage is fixed. */
static void
test_layout (gconstpointer data)
{
  const char *name = data;
  g_autofree char *base = g_test_build_filename (G_TEST_DIST, "data", "strip-html", name, NULL);
  g_autofree char *html_path = g_strconcat (base, ".html", NULL);
  g_autofree char *txt_path = g_strconcat (base, ".txt", NULL);
  g_autofree char *html = NULL, *expected = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (html_path, &html, NULL, &error) || !g_file_get_contents (txt_path, &expected, NULL, &error))
    g_error ("%s: cannot read the page or its expected body: %s", name, error->message);
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *known = g_hash_table_lookup (known_failures, name);
  if (known != NULL)
    {
      GalleyVerdict verdict;
      GalleyDocument *doc = strip_page (h, html, -1, &verdict);
      gboolean passes = verdict == GALLEY_VERDICT_KEEP && strcmp (galley_document_get_text (doc, NULL), expected) == 0;
      galley_document_free (doc);
      if (passes)
        g_test_fail_printf ("%s passes but is listed in known-failures.txt: take it off the list", html_path);
      else
        g_test_skip_printf ("known failure: %s", known);
      return;
    }
  g_autofree char *body = strip_body (h, html, NULL);
  if (strcmp (body, expected) != 0)
    g_test_message ("%s: expected body:\n%s\n--- got:\n%s", html_path, expected, body);
  g_assert_cmpstr (body, ==, expected);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The NAME of every NAME.html in tests/data/strip-html, sorted. */
static GPtrArray *
layout_pages (void)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dir_path = g_test_build_filename (G_TEST_DIST, "data", "strip-html", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  const char *entry;
  while ((entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (entry, ".html"))
      g_ptr_array_add (names, g_strndup (entry, strlen (entry) - 5));
  g_ptr_array_sort (names, compare_names);
  return names;
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr(GPtrArray) pages = layout_pages ();
  g_assert_cmpuint (pages->len, >=, 150);
  known_failures = read_known_failures ();
  for (guint i = 0; i < pages->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/strip-html/layout/%s", (char *) pages->pdata[i]);
      g_test_add_data_func (path, pages->pdata[i], test_layout);
    }
  g_test_add_func ("/strip-html/article/exact", test_article_exact);
  g_test_add_func ("/strip-html/article/captions", test_article_captions);
  g_test_add_func ("/strip-html/article/meta", test_article_meta);
  g_test_add_func ("/strip-html/meta/sources", test_meta_sources);
  g_test_add_func ("/strip-html/meta/fallbacks", test_meta_fallbacks);
  g_test_add_func ("/strip-html/meta/byline", test_meta_byline);
  g_test_add_func ("/strip-html/script/cyrillic", test_cyrillic);
  g_test_add_func ("/strip-html/script/cjk", test_cjk);
  g_test_add_func ("/strip-html/bad/wrong-charset", test_wrong_charset);
  g_test_add_func ("/strip-html/bad/script-with-p", test_script_with_p);
  g_test_add_func ("/strip-html/bad/truncated", test_truncated);
  g_test_add_func ("/strip-html/bad/deep-nesting", test_deep_nesting);
  g_test_add_func ("/strip-html/bad/no-article", test_no_article);
  g_test_add_func ("/strip-html/bad/binary", test_binary);
  g_test_add_func ("/strip-html/bad/big-page", test_big_page);
  g_test_add_func ("/strip-html/bad/odd-pages", test_odd_pages);
  g_test_add_func ("/strip-html/bad/utf16-page", test_utf16_page);
  int status = g_test_run ();
  g_hash_table_unref (known_failures);
  return status;
}
