/* test-strip-parse.c: how the HTML mode of the strip stage parses a page.
 * It leaves the bodies of scripts and styles out before parsing and
 * builds the tree from the parser's events in one arena; both must give
 * the tree libxml2's own builder gives for the whole page (or the
 * pruning must leave the page alone).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip.h"

#include <libxml/tree.h>

#include <string.h>

/* Prunes @html, checks the trees agree, and returns the copy (or
 * NULL when the pass left the page alone). */
static char *
prune (const char *html)
{
  g_autofree char *where = NULL;
  if (!strip_html_tree_check (html, strlen (html), &where))
    g_error ("the trees of %s differ at %s", html, where);
  GString *out = g_string_new (NULL);
  if (!strip_html_prune (html, strlen (html), out))
    {
      g_assert_cmpuint (out->len, ==, 0);
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* A page's scripts and styles lose their bodies, the JSON-LD keeps its
 * own, and the text of the page stays where it was. */
static void
test_plain_page (void)
{
  const char *page =
    "<!DOCTYPE html><html><head><title>Storm</title>"
    "<style>body { color: red } p > a { x: y }</style>"
    "<script type=\"application/ld+json\">{\"articleBody\": \"Rain fell.\"}</script>"
    "<script>if (a < b && c > d) document.write('<p>no</p>');</script>"
    "</head><body><p>Rain fell all night.</p>"
    "<SCRIPT async src='x.js'>var s = \"</div>\";</SCRIPT >"
    "<p>Rivers rose.</p></body></html>";
  g_autofree char *copy = prune (page);
  g_assert_nonnull (copy);
  g_assert_null (strstr (copy, "color: red"));
  g_assert_null (strstr (copy, "document.write"));
  g_assert_null (strstr (copy, "var s"));
  g_assert_nonnull (strstr (copy, "{\"articleBody\": \"Rain fell.\"}"));
  g_assert_nonnull (strstr (copy, "<p>Rain fell all night.</p><SCRIPT async src='x.js'></SCRIPT >"));
  g_assert_nonnull (strstr (copy, "<p>Rivers rose.</p>"));

  /* the JSON-LD type in capitals is still JSON-LD */
  const char *upper = "<html><head><script type=\"APPLICATION/LD+JSON\">{\"author\": \"Ann Lee\"}</script>"
                      "<script>x()</script></head><body><p>text</p></body></html>";
  g_autofree char *upper_copy = prune (upper);
  g_assert_nonnull (upper_copy);
  g_assert_nonnull (strstr (upper_copy, "{\"author\": \"Ann Lee\"}"));
  g_assert_null (strstr (upper_copy, "x()"));
}

/* Pages written in ways the pass cannot read as the parser does: each
 * is left alone or pruned without changing the tree. */
static void
test_odd_pages (void)
{
  static const char *const pages[] = {
    /* a script tag that closes itself is not a raw text element */
    "<body><script src=\"a.js\"/><p>kept</p><script>x()</script></body>",
    "<body><script src=/a.js/><p>kept</p></script><p>after</p></body>",
    /* tags inside comments, attribute values and processing instructions */
    "<body><!-- <script> --><p>one</p><script>y()</script><p>two</p></body>",
    "<body><div title=\"<script>\">text</div><script>z()</script><p>two</p></body>",
    "<body><?php echo \"<script>\"; ?><p>one</p></script><p>two</p></body>",
    "<body><div @click=\"a > b\"><script>q()</script>text</div></body>",
    "<body></div junk <script>s()</script><p>after</p></body>",
    "<body><![CDATA[ <script> ]]><p>one</p></script></body>",
    "<body><div a=\"x\"b='y'c=z><style>p{}</style>text</div></body>",
    /* raw text that holds tags, or never ends */
    "<body><script>document.write(\"<script>x<\\/script>\")</script><p>after</p></body>",
    "<body><p>one</p><script>never closed <p>two</p></body>",
    "<body><p>one</p><style>p { x: y }</stylesheet><p>two</p></style><p>three</p></body>",
    "<body><!-- never closed <script>x()</script><p>two</p></body>",
    "<body><scripts>kept</scripts><script>x()</script></body>",
    /* text with '<' that starts no tag */
    "<body><p>a < b and c <= d</p><script>if (a<b) f()</script><p>3 <4</p></body>",
  };
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *copy = prune (pages[i]);
      g_test_message ("%s -> %s", pages[i], copy != NULL ? copy : "(left alone)");
    }
  /* the comment's <script> is not a tag: the real script after it is
   * pruned; an unclosed comment stops the pass */
  g_autofree char *c = prune (pages[2]);
  g_assert_nonnull (c);
  g_assert_nonnull (strstr (c, "<!-- <script> -->"));
  g_assert_null (strstr (c, "y()"));
  g_autofree char *unclosed = prune (pages[12]);
  g_assert_null (unclosed);
  /* a self-closed script stops the pass before anything is left out */
  g_autofree char *self_closed = prune (pages[0]);
  g_assert_null (self_closed);
}

/* Pages whose tree depends on how the builder links nodes: the arena
 * tree must be libxml2's. */
static void
test_tree_builder (void)
{
  static const char *const pages[] = {
    /* text after the end of the document joins the root */
    "<html><body><p>one</p></body></html><p>after</p>tail",
    "<!DOCTYPE html><html><body><p>one</p></body></html><div>after</div>",
    "<!-- first --><html><body>x</body></html><p>after</p>",
    /* blanks are text or not by the DOCTYPE and the last child */
    "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><html><body> <p>a</p> <b>b</b> </body></html>",
    "<html><head> <title>t</title> </head><body> <div> <p>a</p> <!-- c --> </div> x <i> y </i> </body></html>",
    /* doubled html and body tags, namespaced names, boolean attributes */
    "<html lang=en><body class=a><html lang=de><body class=b id=c><p>text</p></body></html>",
    "<html><body><fb:like href=x></fb:like><og:x>y</og:x><a:b:c>z</a:b:c><:n>m</:n></body></html>",
    "<body><input type=checkbox checked><option selected>o</option><div hidden data-x>h</div></body>",
    /* text pieces the parser hands over separately */
    "<body><p>a &amp; b &lt; c &#169; &copy &nbsp;d</p><p>x<!-- c -->y<?pi z?>w</p></body>",
    "<body><textarea>a<b>b</b></textarea><title>in body</title><p>x</body>",
    "<p>no html</p>",
    "plain text only",
    "",
    "<table><tr><td>1<td>2<tr><td>3</table><ul><li>a<li>b</ul><dl><dt>t<dd>d</dl>",
    "<body><p>one<p>two<div>three</p>four</div><p><p></body>",
    "<?xml version=\"1.0\"?><!DOCTYPE html><html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>x</p></body></html>",
    "<head><meta charset=\"iso-8859-1\"></head><body><p>caf\xc3\xa9 na\xc3\xafve</p></body>",
  };
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *copy = prune (pages[i]);
      g_test_message ("checked: %s", pages[i]);
    }
  /* the tree is there to read: the root and its text */
  const char *page = "<html><body><p>caf\xc3\xa9 &amp; more</p></body></html><p>after</p>";
  StripHtmlTree *tree = strip_html_tree_parse (page, strlen (page));
  struct _xmlNode *root = strip_html_tree_root (tree);
  g_assert_nonnull (root);
  g_assert_cmpstr ((const char *) root->name, ==, "html");
  g_assert_cmpstr ((const char *) root->children->name, ==, "body");
  g_assert_cmpstr ((const char *) root->children->children->children->content, ==, "caf\xc3\xa9 & more");
  /* what follows </html> is inside the root, as libxml2 puts it, and
   * libxml2's read-only functions work on the arena's nodes */
  xmlChar *all = xmlNodeGetContent (root);
  g_assert_cmpstr ((const char *) all, ==, "caf\xc3\xa9 & moreafter");
  xmlFree (all);
  strip_html_tree_free (tree);

  /* thousands of documents' worth of nodes at the top level (after a
   * DOCTYPE each element after </html> starts a new <html> there) */
  GString *many = g_string_new ("<!DOCTYPE html><html><body><p>first</p></body></html>");
  for (int i = 0; i < 3000; i++)
    g_string_append_printf (many, "</html><p>item %d</p>", i);
  g_autofree char *where = NULL;
  g_assert_true (strip_html_tree_check (many->str, many->len, &where));
  for (int i = 3000; i < 200000; i++)
    g_string_append_printf (many, "</html><p>item %d</p>", i);
  tree = strip_html_tree_parse (many->str, many->len);
  guint top = 0;
  for (struct _xmlNode *n = strip_html_tree_root (tree); n != NULL; n = n->next)
    top++;
  g_assert_cmpuint (top, ==, 200001);
  strip_html_tree_free (tree);
  g_string_free (many, TRUE);

  tree = strip_html_tree_parse ("", 0);
  g_assert_null (strip_html_tree_root (tree));
  strip_html_tree_free (tree);
}

/* The extractor gives the same body and metadata from the page as from
 * its pruned copy. */
static void
test_same_result (void)
{
  const char *page =
    "<html lang=\"en\"><head><title>Floods in the valley</title>"
    "<script type=\"application/ld+json\">{\"@type\": \"NewsArticle\", \"headline\": \"Floods\", "
    "\"author\": {\"name\": \"Ann Lee\"}, \"datePublished\": \"2026-03-02\"}</script>"
    "<style>.nav { display: flex }</style><script>window.x = '<article>fake</article>';</script></head>"
    "<body><nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav><article>"
    "<p>The river rose two metres overnight, and the town council opened the school as a shelter "
    "for the families who had to leave their homes near the bank.</p>"
    "<script>track('read')</script>"
    "<p>Volunteers filled sandbags until the early morning, when the rain finally stopped and "
    "the water began to fall again, slowly, along the whole valley.</p></article></body></html>";
  StripConfig cfg = { 1, "auto", FALSE };
  StripResult a = { 0 }, b = { 0 };
  a.body = g_string_new (NULL);
  b.body = g_string_new (NULL);
  g_assert_true (strip_html (page, strlen (page), &cfg, &a, NULL));
  g_autofree char *copy = prune (page);
  g_assert_nonnull (copy);
  g_assert_null (strstr (copy, "fake"));
  g_assert_true (strip_html (copy, strlen (copy), &cfg, &b, NULL));
  g_assert_nonnull (strstr (a.body->str, "The river rose"));
  g_assert_nonnull (strstr (a.body->str, "Volunteers filled"));
  g_assert_cmpstr (a.body->str, ==, b.body->str);
  g_assert_cmpstr (json_object_to_json_string (a.meta), ==, json_object_to_json_string (b.meta));
  g_assert_nonnull (strstr (json_object_to_json_string (a.meta), "Ann Lee"));
  g_string_free (a.body, TRUE);
  g_string_free (b.body, TRUE);
  json_object_put (a.meta);
  json_object_put (b.meta);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/strip-parse/prune-plain-page", test_plain_page);
  g_test_add_func ("/strip-parse/prune-odd-pages", test_odd_pages);
  g_test_add_func ("/strip-parse/prune-same-result", test_same_result);
  g_test_add_func ("/strip-parse/tree-builder", test_tree_builder);
  return g_test_run ();
}
