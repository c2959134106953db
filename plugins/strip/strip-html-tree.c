/* strip-html-tree.c: the page's tree, built from libxml2's HTML parser
 * events in one block of memory.
 *
 * libxml2's own tree builder allocates every element, attribute, name
 * and text on its own, then frees them one by one: on news pages that
 * took a fifth of the HTML mode's time. This builder takes the parser's
 * events (start and end of elements, text, comments) and lays the same
 * tree out in an arena freed at once, with element and attribute names
 * left in the parser's dictionary. The nodes are libxml2's own structs,
 * linked as its builder links them, so the extractor and libxml2's
 * read-only functions (xmlNodeGetContent) work on them unchanged; they
 * must never be handed to a libxml2 function that frees or relinks.
 *
 * The parser reads the tree while it builds it (whether blanks are text
 * depends on the node's last child and on the DOCTYPE), so the builder
 * keeps the context's current node and document in step as libxml2's
 * builder does. strip_html_prune_check() compares the two trees.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip.h"

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/parserInternals.h>
#include <string.h>

/* ----------------------------------------------------------------- arena */

#define ARENA_BLOCK (64 * 1024)

typedef struct ArenaBlock ArenaBlock;
struct ArenaBlock {
  ArenaBlock *next;
  gsize       size;
  gsize       used;
  /* the memory follows, aligned for pointers */
  guint64     data[];
};

typedef struct {
  ArenaBlock *head;
} Arena;

static gpointer
arena_alloc (Arena *arena, gsize size)
{
  size = (size + 7) & ~(gsize) 7;
  ArenaBlock *b = arena->head;
  if (b == NULL || b->size - b->used < size)
    {
      gsize want = MAX (size, ARENA_BLOCK - sizeof (ArenaBlock));
      b = g_malloc (sizeof (ArenaBlock) + want);
      b->size = want;
      b->used = 0;
      b->next = arena->head;
      arena->head = b;
    }
  gpointer p = (char *) b->data + b->used;
  b->used += size;
  return p;
}

static gpointer
arena_zero (Arena *arena, gsize size)
{
  return memset (arena_alloc (arena, size), 0, size);
}

static xmlChar *
arena_strndup (Arena *arena, const char *s, gsize len)
{
  char *d = arena_alloc (arena, len + 1);
  memcpy (d, s, len);
  d[len] = '\0';
  return (xmlChar *) d;
}

static void
arena_clear (Arena *arena)
{
  while (arena->head != NULL)
    {
      ArenaBlock *next = arena->head->next;
      g_free (arena->head);
      arena->head = next;
    }
}

/* ------------------------------------------------------------- the tree */

struct _StripHtmlTree {
  htmlParserCtxtPtr ctxt;
  Arena     arena;
  xmlDoc   *doc;
  GPtrArray *stack;       /* open elements, as libxml2's builder keeps them */
  xmlNode  *text;         /* the text node still growing, if any */
  GString  *text_buf;     /* its content until it is done */
  xmlNode  *root;
};

static void
link_child (xmlNode *parent, xmlNode *node)
{
  node->parent = parent;
  node->prev = parent->last;
  if (parent->last != NULL)
    parent->last->next = node;
  else
    parent->children = node;
  parent->last = node;
}

/* Appends @node after the last sibling of @sibling (xmlAddSibling). A
 * page can put thousands of nodes at the document's level (each element
 * after "</html>" starts a new <html> there): the parent's last child is
 * the end of the list, not a walk along it. */
static void
link_sibling (xmlNode *sibling, xmlNode *node)
{
  xmlNode *last = sibling->parent != NULL ? sibling->parent->last : sibling;
  while (last->next != NULL)
    last = last->next;
  node->parent = sibling->parent;
  node->prev = last;
  last->next = node;
  if (sibling->parent != NULL)
    sibling->parent->last = node;
}

/* The text node being built is finished: its content moves to the arena. */
static void
text_done (StripHtmlTree *t)
{
  if (t->text == NULL)
    return;
  t->text->content = arena_strndup (&t->arena, t->text_buf->str, t->text_buf->len);
  t->text = NULL;
}

/* A new node of the document; the text node still growing is done. */
static xmlNode *
node_new (StripHtmlTree *t, xmlElementType type, const xmlChar *name)
{
  text_done (t);
  xmlNode *node = arena_zero (&t->arena, sizeof (xmlNode));
  node->type = type;
  node->name = name;
  node->doc = t->doc;
  return node;
}

static xmlNode *
current (StripHtmlTree *t)
{
  return t->stack->len > 0 ? g_ptr_array_index (t->stack, t->stack->len - 1) : NULL;
}

static void
set_current (StripHtmlTree *t)
{
  t->ctxt->node = current (t);
}

/* Links a node that is not an element where libxml2's builder would put
 * a comment or processing instruction. */
static void
link_other (StripHtmlTree *t, xmlNode *node)
{
  xmlNode *parent = current (t);
  if (parent == NULL)
    link_child ((xmlNode *) t->doc, node);
  else if (parent->type == XML_ELEMENT_NODE)
    link_child (parent, node);
  else
    link_sibling (parent, node);
}

static void
on_start_document (void *data)
{
  htmlParserCtxtPtr ctxt = data;
  StripHtmlTree *t = ctxt->_private;
  t->doc = arena_zero (&t->arena, sizeof (xmlDoc));
  t->doc->type = XML_HTML_DOCUMENT_NODE;
  ctxt->myDoc = t->doc;
}

static void
on_internal_subset (void *data, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
  htmlParserCtxtPtr ctxt = data;
  StripHtmlTree *t = ctxt->_private;
  if (t->doc == NULL || t->doc->intSubset != NULL)
    return;   /* a second DOCTYPE is ignored */
  text_done (t);
  xmlDtd *dtd = arena_zero (&t->arena, sizeof (xmlDtd));
  dtd->type = XML_DTD_NODE;
  dtd->doc = t->doc;
  if (name != NULL)
    dtd->name = arena_strndup (&t->arena, (const char *) name, strlen ((const char *) name));
  if (external_id != NULL)
    dtd->ExternalID = arena_strndup (&t->arena, (const char *) external_id, strlen ((const char *) external_id));
  if (system_id != NULL)
    dtd->SystemID = arena_strndup (&t->arena, (const char *) system_id, strlen ((const char *) system_id));
  /* first among the document's children, as for any HTML document */
  xmlNode *node = (xmlNode *) dtd;
  node->parent = (xmlNode *) t->doc;
  node->next = t->doc->children;
  if (t->doc->children != NULL)
    t->doc->children->prev = node;
  else
    t->doc->last = node;
  t->doc->children = node;
  t->doc->intSubset = dtd;
}

/* The element's name as libxml2's builder stores it: the part after a
 * namespace prefix ("fb:like" is "like"). */
static const xmlChar *
element_name (StripHtmlTree *t, const xmlChar *full)
{
  if (strchr ((const char *) full, ':') == NULL)
    return full;   /* in the parser's dictionary, alive as long as the tree */
  xmlChar *prefix = NULL;
  xmlChar *local = xmlSplitQName (t->ctxt, full, &prefix);
  const xmlChar *name = full;
  if (local != NULL)
    name = arena_strndup (&t->arena, (const char *) local, strlen ((const char *) local));
  xmlFree (local);
  xmlFree (prefix);
  return name;
}

static void
on_start_element (void *data, const xmlChar *name, const xmlChar **atts)
{
  htmlParserCtxtPtr ctxt = data;
  StripHtmlTree *t = ctxt->_private;
  if (t->doc == NULL)
    return;
  xmlNode *node = node_new (t, XML_ELEMENT_NODE, element_name (t, name));

  xmlNode *parent = current (t);
  if (t->doc->children == NULL)
    link_child ((xmlNode *) t->doc, node);
  else if (parent == NULL)
    parent = t->doc->children;

  xmlAttr *last = NULL;
  for (gsize i = 0; atts != NULL && atts[i] != NULL; i += 2)
    {
      xmlAttr *attr = arena_zero (&t->arena, sizeof (xmlAttr));
      attr->type = XML_ATTRIBUTE_NODE;
      attr->name = atts[i];   /* dictionary */
      attr->parent = node;
      attr->doc = t->doc;
      const xmlChar *value = atts[i + 1];
      if (value == NULL && htmlIsBooleanAttr (atts[i]))
        value = atts[i];
      if (value != NULL)
        {
          xmlNode *text = arena_zero (&t->arena, sizeof (xmlNode));
          text->type = XML_TEXT_NODE;
          text->name = xmlStringText;
          text->content = arena_strndup (&t->arena, (const char *) value, strlen ((const char *) value));
          text->parent = (xmlNode *) attr;
          text->doc = t->doc;
          attr->children = attr->last = text;
        }
      attr->prev = last;
      if (last != NULL)
        last->next = attr;
      else
        node->properties = attr;
      last = attr;
    }

  g_ptr_array_add (t->stack, node);
  if (parent != NULL)
    {
      if (parent->type == XML_ELEMENT_NODE)
        link_child (parent, node);
      else
        link_sibling (parent, node);
    }
  set_current (t);
}

static void
on_end_element (void *data, const xmlChar *name G_GNUC_UNUSED)
{
  htmlParserCtxtPtr ctxt = data;
  StripHtmlTree *t = ctxt->_private;
  if (t->stack->len > 0)
    g_ptr_array_set_size (t->stack, t->stack->len - 1);
  set_current (t);
}

static void
add_text (StripHtmlTree *t, xmlElementType type, const xmlChar *ch, int len)
{
  xmlNode *parent = current (t);
  if (parent == NULL || len < 0)
    return;
  xmlNode *last = parent->last;
  if (last != NULL && last->type == type)
    {
      /* adjacent text joins the last text node */
      if (t->text != last)
        {
          text_done (t);
          g_string_assign (t->text_buf, last->content != NULL ? (const char *) last->content : "");
          t->text = last;
        }
      g_string_append_len (t->text_buf, (const char *) ch, len);
      return;
    }
  xmlNode *node = node_new (t, type, type == XML_TEXT_NODE ? xmlStringText : NULL);
  link_child (parent, node);
  g_string_truncate (t->text_buf, 0);
  g_string_append_len (t->text_buf, (const char *) ch, len);
  t->text = node;
  /* the parser asks whether the last child is text before the content is done */
  node->content = (xmlChar *) "";
}

static void
on_characters (void *data, const xmlChar *ch, int len)
{
  htmlParserCtxtPtr ctxt = data;
  add_text (ctxt->_private, XML_TEXT_NODE, ch, len);
}

static void
on_cdata (void *data, const xmlChar *ch, int len)
{
  htmlParserCtxtPtr ctxt = data;
  add_text (ctxt->_private, XML_CDATA_SECTION_NODE, ch, len);
}

static void
on_blanks (void *data G_GNUC_UNUSED, const xmlChar *ch G_GNUC_UNUSED, int len G_GNUC_UNUSED)
{
}

static void
on_comment (void *data, const xmlChar *value)
{
  htmlParserCtxtPtr ctxt = data;
  StripHtmlTree *t = ctxt->_private;
  if (t->doc == NULL)
    return;
  xmlNode *node = node_new (t, XML_COMMENT_NODE, xmlStringComment);
  node->content = arena_strndup (&t->arena, (const char *) value, strlen ((const char *) value));
  link_other (t, node);
}

static void
on_pi (void *data, const xmlChar *target, const xmlChar *value)
{
  htmlParserCtxtPtr ctxt = data;
  StripHtmlTree *t = ctxt->_private;
  if (t->doc == NULL)
    return;
  xmlNode *node = node_new (t, XML_PI_NODE, arena_strndup (&t->arena, (const char *) target, strlen ((const char *) target)));
  if (value != NULL)
    node->content = arena_strndup (&t->arena, (const char *) value, strlen ((const char *) value));
  link_other (t, node);
}

StripHtmlTree *
strip_html_tree_parse (const char *html, gsize len)
{
  g_return_val_if_fail (len <= G_MAXINT, NULL);
  htmlParserCtxtPtr ctxt = htmlNewParserCtxt ();
  if (ctxt == NULL)
    return NULL;
  StripHtmlTree *t = g_new0 (StripHtmlTree, 1);
  t->ctxt = ctxt;
  t->stack = g_ptr_array_sized_new (64);
  t->text_buf = g_string_sized_new (256);

  htmlSAXHandler *sax = ctxt->sax;
  memset (sax, 0, sizeof *sax);
  sax->startDocument = on_start_document;
  sax->internalSubset = on_internal_subset;
  sax->startElement = on_start_element;
  sax->endElement = on_end_element;
  sax->characters = on_characters;
  sax->cdataBlock = on_cdata;
  sax->ignorableWhitespace = on_blanks;
  sax->comment = on_comment;
  sax->processingInstruction = on_pi;
  sax->initialized = 1;
  ctxt->_private = t;

  /* without the default DTD libxml2 would add to the document at the end */
  htmlCtxtReadMemory (ctxt, html, (int) len, NULL, "UTF-8", STRIP_HTML_PARSE_OPTIONS | HTML_PARSE_NODEFDTD);
  text_done (t);
  ctxt->node = NULL;
  ctxt->myDoc = NULL;
  if (t->doc != NULL)
    for (xmlNode *n = t->doc->children; n != NULL && t->root == NULL; n = n->next)
      if (n->type == XML_ELEMENT_NODE)
        t->root = n;
  return t;
}

xmlNode *
strip_html_tree_root (StripHtmlTree *t)
{
  return t->root;
}

void
strip_html_tree_free (StripHtmlTree *t)
{
  if (t == NULL)
    return;
  htmlFreeParserCtxt (t->ctxt);
  arena_clear (&t->arena);
  g_ptr_array_free (t->stack, TRUE);
  g_string_free (t->text_buf, TRUE);
  g_free (t);
}

/* -------------------------------------------- the check against libxml2 */

static gboolean
only_text (const xmlNode *node)
{
  for (; node != NULL; node = node->next)
    if (node->type != XML_TEXT_NODE && node->type != XML_CDATA_SECTION_NODE)
      return FALSE;
  return TRUE;
}

static gboolean
same_string (const xmlChar *a, const xmlChar *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp ((const char *) a, (const char *) b) == 0;
}

static gboolean
same_node (const xmlNode *a, const xmlNode *b)
{
  if (a->type != b->type || !same_string (a->name, b->name))
    return FALSE;
  if (a->type != XML_ELEMENT_NODE)
    return same_string (a->content, b->content);
  const xmlAttr *x = a->properties, *y = b->properties;
  for (; x != NULL && y != NULL; x = x->next, y = y->next)
    {
      if (!same_string (x->name, y->name))
        return FALSE;
      const xmlNode *xv = x->children, *yv = y->children;
      if ((xv == NULL) != (yv == NULL) || (xv != NULL && !same_string (xv->content, yv->content)))
        return FALSE;
    }
  return x == NULL && y == NULL;
}

/* The path of @node, as "html/body/div[3]" (1-based element positions). */
static char *
node_path (const xmlNode *node)
{
  GString *path = g_string_new (NULL);
  for (; node != NULL && node->type != XML_HTML_DOCUMENT_NODE; node = node->parent)
    {
      guint pos = 1;
      for (const xmlNode *s = node->prev; s != NULL; s = s->prev)
        pos++;
      g_autofree char *step = g_strdup_printf ("%s[%u]%s", node->name != NULL ? (const char *) node->name : "?",
                                               pos, path->len > 0 ? "/" : "");
      g_string_prepend (path, step);
    }
  return g_string_free (path, FALSE);
}

/* Compares the trees under the root elements @ra and @rb (their later
 * siblings at the document level are never read). */
static gboolean
same_tree (xmlNode *ra, xmlNode *rb, char **where)
{
  if (ra == NULL || rb == NULL)
    {
      if (ra != rb)
        *where = g_strdup ("(root)");
      return ra == rb;
    }
  xmlNode *a = ra, *b = rb;
  while (a != NULL || b != NULL)
    {
      if (a == NULL || b == NULL || !same_node (a, b))
        {
          *where = node_path (a != NULL ? a : b);
          return FALSE;
        }
      /* a script or style whose body was left out */
      gboolean pruned = a->type == XML_ELEMENT_NODE && b->children == NULL && a->children != NULL
                        && (xmlStrEqual (a->name, BAD_CAST "script") || xmlStrEqual (a->name, BAD_CAST "style"))
                        && only_text (a->children);
      if (!pruned && (a->children != NULL || b->children != NULL))
        {
          if (a->children == NULL || b->children == NULL)
            {
              *where = node_path (a);
              return FALSE;
            }
          a = a->children;
          b = b->children;
          continue;
        }
      while (a != ra && a->next == NULL)
        {
          if (b->next != NULL)
            {
              *where = node_path (b->next);
              return FALSE;
            }
          a = a->parent;
          b = b->parent;
        }
      if (a == ra)
        break;
      if (b->next == NULL)
        {
          *where = node_path (a->next);
          return FALSE;
        }
      a = a->next;
      b = b->next;
    }
  return TRUE;
}

gboolean
strip_html_tree_check (const char *html, gsize len, char **where)
{
  g_return_val_if_fail (where != NULL, FALSE);
  *where = NULL;
  g_autoptr(GString) pruned = g_string_new (NULL);
  const char *fast = html;
  gsize fast_len = len;
  if (strip_html_prune (html, len, pruned))
    {
      fast = pruned->str;
      fast_len = pruned->len;
    }
  xmlDoc *da = htmlReadMemory (html, (int) len, NULL, "UTF-8", STRIP_HTML_PARSE_OPTIONS);
  StripHtmlTree *tb = strip_html_tree_parse (fast, fast_len);
  gboolean same = same_tree (da != NULL ? xmlDocGetRootElement (da) : NULL, strip_html_tree_root (tb), where);
  xmlFreeDoc (da);
  strip_html_tree_free (tb);
  return same;
}
