/* strip-html.c: the article body and metadata of a raw HTML page.
 *
 * The page is parsed with libxml2's HTML parser (error-recovering, fast;
 * see docs/strip.md for why not an HTML5 parser). One walk over the tree
 * then
 *   - reads the metadata (<title>, <meta>, <link rel=canonical>, JSON-LD,
 *     <time datetime>, <html lang>);
 *   - skips markup that never holds article text (scripts, styles, forms,
 *     navigation, asides, hidden elements, captions unless kept) and
 *     elements whose class or id names a comment section, a share bar, a
 *     related-links list, an advertisement...;
 *   - cuts the remaining text into blocks: the text between two block-level
 *     boundaries, with its length, link text and owner element.
 * Blocks are scored for prose (length, commas, stopword share, link share)
 * and each block's score is credited to its containers, more to the near
 * ones. The best container, corrected by its link density and class hints,
 * is the article; its siblings that score well enough, or that go on with
 * it (laid out alike, no boilerplate between), join it, and so does a
 * standfirst in a header or lead box before it. Inside it, blocks that are
 * mostly links, bylines, captions, share lines (the text mode's line
 * patterns) or headings with nothing after them are dropped. When the
 * result is short, the JSON-LD articleBody or the prose blocks of the
 * whole page are used instead, and a second pass in which class hints and
 * boilerplate tags only lower scores can replace a nearly empty result.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip.h"
#include "strip-text-private.h"   /* the byline words and name connectors */

#include <libxml/HTMLparser.h>
#include <string.h>

/* Pages above this are cut (at a tag boundary) before parsing, so memory
 * stays bounded; no article in practice starts that far into a page. */
#define HTML_MAX_INPUT (16 * 1024 * 1024)

/* ------------------------------------------------------------------ tags */

typedef enum {
  TAG_INLINE = 0,  /* a, span, b, unknown elements: text flows through */
  TAG_DROP,        /* never article text: script, style, form controls... */
  TAG_BOILER,      /* nav, aside, footer: dropped and counted */
  TAG_CAPTION,     /* figure, figcaption: dropped unless captions are kept */
  TAG_BLOCK,       /* generic block boundary (dl, dt, dd, address, ...) */
  TAG_CONTAINER,   /* div, section, article, main, body */
  TAG_P,
  TAG_H1,
  TAG_HEADING,     /* h2 .. h6 */
  TAG_LI,
  TAG_LIST,        /* ul, ol */
  TAG_TABLE,       /* table, tbody, tr */
  TAG_TD,          /* td, th */
  TAG_PRE,
  TAG_QUOTE,       /* blockquote */
  TAG_HEADER,
  TAG_BR,
  TAG_A,
  TAG_TITLE,
  TAG_META,
  TAG_LINK,
  TAG_SCRIPT,
  TAG_TIME,
  TAG_HTML,
  TAG_HEAD,
} TagKind;

typedef struct { const char *name; TagKind kind; } TagDef;

static const TagDef tag_defs[] = {
  { "a", TAG_A }, { "br", TAG_BR }, { "wbr", TAG_INLINE },
  { "p", TAG_P }, { "h1", TAG_H1 }, { "h2", TAG_HEADING }, { "h3", TAG_HEADING },
  { "h4", TAG_HEADING }, { "h5", TAG_HEADING }, { "h6", TAG_HEADING },
  { "div", TAG_CONTAINER }, { "section", TAG_CONTAINER }, { "article", TAG_CONTAINER },
  { "main", TAG_CONTAINER }, { "body", TAG_CONTAINER }, { "center", TAG_CONTAINER },
  { "li", TAG_LI }, { "ul", TAG_LIST }, { "ol", TAG_LIST },
  { "dl", TAG_BLOCK }, { "dt", TAG_BLOCK }, { "dd", TAG_BLOCK }, { "address", TAG_BLOCK },
  { "hr", TAG_BLOCK }, { "details", TAG_BLOCK }, { "summary", TAG_BLOCK },
  { "fieldset", TAG_BLOCK }, { "hgroup", TAG_BLOCK }, { "form", TAG_CONTAINER },
  { "table", TAG_TABLE }, { "tbody", TAG_TABLE }, { "thead", TAG_TABLE }, { "tfoot", TAG_TABLE },
  { "tr", TAG_TABLE }, { "td", TAG_TD }, { "th", TAG_TD },
  { "pre", TAG_PRE }, { "blockquote", TAG_QUOTE }, { "header", TAG_HEADER },
  { "nav", TAG_BOILER }, { "aside", TAG_BOILER }, { "footer", TAG_BOILER }, { "menu", TAG_BOILER },
  { "figure", TAG_CAPTION }, { "figcaption", TAG_CAPTION }, { "caption", TAG_CAPTION },
  { "script", TAG_SCRIPT }, { "style", TAG_DROP }, { "noscript", TAG_DROP },
  { "template", TAG_DROP }, { "svg", TAG_DROP }, { "math", TAG_DROP }, { "iframe", TAG_DROP },
  { "object", TAG_DROP }, { "embed", TAG_DROP }, { "canvas", TAG_DROP }, { "video", TAG_DROP },
  { "audio", TAG_DROP }, { "select", TAG_DROP }, { "button", TAG_DROP },
  { "textarea", TAG_DROP }, { "input", TAG_DROP }, { "label", TAG_DROP }, { "option", TAG_DROP },
  { "map", TAG_DROP }, { "dialog", TAG_DROP }, { "picture", TAG_DROP }, { "source", TAG_DROP },
  { "img", TAG_DROP }, { "frameset", TAG_DROP }, { "frame", TAG_DROP },
  { "title", TAG_TITLE }, { "meta", TAG_META }, { "link", TAG_LINK }, { "time", TAG_TIME },
  { "html", TAG_HTML }, { "head", TAG_HEAD },
};

static gpointer
tag_table_build (gpointer data)
{
  GHashTable *table = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < G_N_ELEMENTS (tag_defs); i++)
    g_hash_table_insert (table, (gpointer) tag_defs[i].name, GINT_TO_POINTER (tag_defs[i].kind + 1));
  return table;
}

static TagKind
tag_kind (const xmlNode *node)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, tag_table_build, NULL);
  gpointer v = g_hash_table_lookup (once.retval, node->name);
  return v ? (TagKind) (GPOINTER_TO_INT (v) - 1) : TAG_INLINE;
}

static gboolean
tag_is_block (TagKind kind)
{
  return kind >= TAG_CAPTION && kind <= TAG_HEADER;
}

/* ----------------------------------------------------------- class hints */

typedef enum {
  HINT_NONE = 0,
  HINT_POSITIVE = 1 << 0,   /* article, content, story, body, ... */
  HINT_MAYBE = 1 << 1,      /* keeps an element that also has a strong negative hint */
  HINT_NEGATIVE = 1 << 2,   /* lowers the score, dropped inside the article */
  HINT_STRONG = 1 << 3,     /* skipped at once unless HINT_MAYBE */
  HINT_COMMENT = 1 << 4,    /* names a comment section (with HINT_STRONG) */
} HintFlags;

typedef struct { const char *word; guint flags; StripKind kind; } HintDef;

/* Matched against whole tokens of class and id ("article-body" gives
 * "article" and "body"). */
static const HintDef hint_tokens[] = {
  { "article", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER },
  { "articlebody", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER },
  { "content", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER },
  { "story", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER },
  { "body", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER },
  { "text", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER },
  { "main", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER },
  { "entry", HINT_POSITIVE, STRIP_KIND_OTHER },
  { "post", HINT_POSITIVE, STRIP_KIND_OTHER },
  { "blog", HINT_POSITIVE, STRIP_KIND_OTHER },
  { "prose", HINT_POSITIVE, STRIP_KIND_OTHER },
  { "column", HINT_MAYBE, STRIP_KIND_OTHER },
  { "ad", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "ads", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "nav", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_NAVIGATION },
  { "navbar", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_NAVIGATION },
  { "menu", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_NAVIGATION },
  { "masthead", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_NAVIGATION },
  { "toolbar", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_NAVIGATION },
  { "modal", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "popup", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "widget", HINT_NEGATIVE, STRIP_KIND_RELATED },
  { "signup", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "skip", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_NAVIGATION },
  { "byline", HINT_NEGATIVE, STRIP_KIND_BYLINE },
  { "author", HINT_NEGATIVE, STRIP_KIND_BYLINE },
  { "authors", HINT_NEGATIVE, STRIP_KIND_BYLINE },
  { "bio", HINT_NEGATIVE, STRIP_KIND_BYLINE },
  { "dateline", HINT_NEGATIVE, STRIP_KIND_DATELINE },
  { "date", HINT_NEGATIVE, STRIP_KIND_DATELINE },
  { "time", HINT_NEGATIVE, STRIP_KIND_DATELINE },
  { "timestamp", HINT_NEGATIVE, STRIP_KIND_DATELINE },
  { "published", HINT_NEGATIVE, STRIP_KIND_DATELINE },
  { "meta", HINT_NEGATIVE, STRIP_KIND_BYLINE },
  { "caption", HINT_NEGATIVE, STRIP_KIND_CAPTION },
  { "credit", HINT_NEGATIVE, STRIP_KIND_CAPTION },
  { "credits", HINT_NEGATIVE, STRIP_KIND_CAPTION },
  { "tags", HINT_NEGATIVE, STRIP_KIND_RELATED },
  { "tag", HINT_NEGATIVE, STRIP_KIND_RELATED },
  { "topics", HINT_NEGATIVE, STRIP_KIND_RELATED },
  { "more", HINT_NEGATIVE, STRIP_KIND_RELATED },
  { "header", HINT_NEGATIVE, STRIP_KIND_OTHER },
  { "hidden", HINT_NEGATIVE, STRIP_KIND_OTHER },
  { "print", HINT_NEGATIVE, STRIP_KIND_OTHER },
  { "pagination", HINT_NEGATIVE, STRIP_KIND_NAVIGATION },
  { "pager", HINT_NEGATIVE, STRIP_KIND_NAVIGATION },
  { "login", HINT_NEGATIVE, STRIP_KIND_OTHER },
  { "follow", HINT_NEGATIVE, STRIP_KIND_SHARE },
  { "rating", HINT_NEGATIVE, STRIP_KIND_OTHER },
  { "footnote", HINT_NEGATIVE, STRIP_KIND_NOTE },
  { "disclaimer", HINT_NEGATIVE, STRIP_KIND_NOTE },
  { "times", HINT_NEGATIVE, STRIP_KIND_DATELINE },      /* a recipe's preparation and cooking times */
  { "faq", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
};

/* Matched anywhere in class and id ("sharebar", "relatedLinks"). */
static const HintDef hint_stems[] = {
  { "comment", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER },
  { "disqus", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER },
  { "reviews", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER },   /* a shop's customer reviews */
  { "related", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED },
  { "recommend", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED },
  { "trending", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED },
  { "popular", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED },
  { "outbrain", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED },
  { "taboola", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED },
  { "share", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_SHARE },
  { "social", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_SHARE },
  { "newsletter", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "subscri", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "sidebar", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED },
  { "footer", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_NAVIGATION },
  { "breadcrumb", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_NAVIGATION },
  { "sponsor", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "promo", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "advert", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "cookie", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "testimonial", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "carousel", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "slider", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER },
  { "nutrition", HINT_NEGATIVE, STRIP_KIND_OTHER },
  { "signature", HINT_NEGATIVE, STRIP_KIND_BYLINE },    /* a forum user's signature, profile and rank */
  { "postprofile", HINT_NEGATIVE, STRIP_KIND_BYLINE },
  { "usertitle", HINT_NEGATIVE, STRIP_KIND_BYLINE },
  { "userinfo", HINT_NEGATIVE, STRIP_KIND_BYLINE },
  { "username", HINT_NEGATIVE, STRIP_KIND_BYLINE },
  { "names", HINT_NEGATIVE, STRIP_KIND_BYLINE },
};

/* Class and id words of other languages, matched anywhere like the stems
 * above, for the page's language (all of them when it is unknown). Words
 * shorter than six letters are left out: as parts of other words they
 * would match too much. */
typedef struct { const char *lang; HintDef hint; } LangHintDef;

static const LangHintDef hint_lang_stems[] = {
  { "de", { "artikel", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "de", { "inhalt", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "de", { "beitrag", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "de", { "kommentar", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER } },
  { "de", { "bewertungen", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER } },
  { "de", { "werbung", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "de", { "anzeige", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "de", { "teilen", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_SHARE } },
  { "de", { "seitenleiste", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED } },
  { "de", { "fusszeile", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_NAVIGATION } },
  { "de", { "verwandt", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED } },
  { "de", { "autor", HINT_NEGATIVE, STRIP_KIND_BYLINE } },
  { "de", { "bildunterschrift", HINT_NEGATIVE, STRIP_KIND_CAPTION } },
  { "fr", { "contenu", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "fr", { "commentaire", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "fr", { "publicite", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "fr", { "partage", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_SHARE } },
  { "fr", { "auteur", HINT_NEGATIVE, STRIP_KIND_BYLINE } },
  { "fr", { "legende", HINT_NEGATIVE, STRIP_KIND_CAPTION } },
  { "es", { "contenido", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "es", { "noticia", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "es", { "cuerpo", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "es", { "comentario", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER } },
  { "es", { "publicidad", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "es", { "compartir", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_SHARE } },
  { "es", { "relacionad", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED } },
  { "es", { "testimonio", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "it", { "contenuto", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "it", { "articolo", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "it", { "notizia", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "it", { "commenti", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "it", { "pubblicita", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "it", { "condividi", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_SHARE } },
  { "it", { "correlat", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED } },
  { "pt", { "conteudo", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "pt", { "materia", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "pt", { "noticia", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "pt", { "comentario", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER } },
  { "pt", { "publicidade", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "pt", { "compartilh", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_SHARE } },
  { "pt", { "partilhar", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_SHARE } },
  { "pt", { "depoiment", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "pl", { "artykul", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "pl", { "tresc", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "pl", { "komentarz", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER } },
  { "pl", { "reklama", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "pl", { "udostepnij", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_SHARE } },
  { "pl", { "powiazane", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED } },
  { "nl", { "artikel", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "nl", { "inhoud", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "nl", { "bericht", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "nl", { "reactie", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER } },
  { "nl", { "advertentie", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "nl", { "gerelateerd", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED } },
  { "ru", { "statya", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "ru", { "novost", HINT_POSITIVE | HINT_MAYBE, STRIP_KIND_OTHER } },
  { "ru", { "kommentari", HINT_NEGATIVE | HINT_STRONG | HINT_COMMENT, STRIP_KIND_OTHER } },
  { "ru", { "reklama", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_OTHER } },
  { "ru", { "pohozhie", HINT_NEGATIVE | HINT_STRONG, STRIP_KIND_RELATED } },
};

/* TRUE when every "comment" in @lower is a status word of the post it is
 * on ("comments-open", "comment-status-closed"), not a comment box. */
static gboolean
comment_is_status (const char *lower)
{
  static const char *const status[] = { "comments-open", "comments-closed", "comment-status", "comments-status" };
  for (const char *at = strstr (lower, "comment"); at != NULL; at = strstr (at + 1, "comment"))
    {
      gboolean is_status = FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (status); i++)
        if (strncmp (at, status[i], strlen (status[i])) == 0)
          is_status = TRUE;
      if (!is_status)
        return FALSE;
    }
  return TRUE;
}

/* The hints of @value (a class or id): flags, and the kind of boilerplate
 * the first negative hint names. On a @heading, "header" is no hint: a
 * heading is a header by its nature ("recipe-header" on the "Ingredients"
 * heading). */
static guint
hint_scan (const char *value, const char *lang, gboolean heading, StripKind *kind)
{
  guint flags = 0;
  char lower[256];
  gsize n = 0;
  for (const char *p = value; *p != '\0' && n < sizeof lower - 1; p++)
    lower[n++] = g_ascii_tolower (*p);
  lower[n] = '\0';
  if (n == 0)
    return 0;

  for (guint i = 0; i < G_N_ELEMENTS (hint_stems); i++)
    if (strstr (lower, hint_stems[i].word) != NULL && !(i == 0 && comment_is_status (lower)))
      {
        if (!(flags & HINT_NEGATIVE))
          *kind = hint_stems[i].kind;
        flags |= hint_stems[i].flags;
      }
  for (guint i = 0; i < G_N_ELEMENTS (hint_lang_stems); i++)
    if ((lang == NULL || strcmp (lang, hint_lang_stems[i].lang) == 0)
        && strstr (lower, hint_lang_stems[i].hint.word) != NULL)
      {
        if ((hint_lang_stems[i].hint.flags & HINT_NEGATIVE) && !(flags & HINT_NEGATIVE))
          *kind = hint_lang_stems[i].hint.kind;
        flags |= hint_lang_stems[i].hint.flags;
      }
  const char *p = lower;
  while (*p != '\0')
    {
      while (*p != '\0' && !g_ascii_isalnum (*p))
        p++;
      const char *start = p;
      while (g_ascii_isalnum (*p))
        p++;
      gsize len = p - start;
      if (len == 0)
        continue;
      for (guint i = 0; i < G_N_ELEMENTS (hint_tokens); i++)
        if (strlen (hint_tokens[i].word) == len && memcmp (hint_tokens[i].word, start, len) == 0)
          {
            if (heading && strcmp (hint_tokens[i].word, "header") == 0)
              break;
            if ((hint_tokens[i].flags & HINT_NEGATIVE) && !(flags & HINT_NEGATIVE))
              *kind = hint_tokens[i].kind;
            flags |= hint_tokens[i].flags;
            break;
          }
    }
  return flags;
}

/* ------------------------------------------------------------ the walk */

enum {
  NODE_CHOSEN = 1 << 0,     /* a root of the extracted article */
  NODE_IN_ARTICLE = 1 << 1,
  NODE_NEG_IN_ARTICLE = 1 << 2,
  NODE_CANDIDATE = 1 << 3,
  NODE_SKIPPED = 1 << 4,    /* boilerplate left out by its tag or class: kept as a mark only */
  NODE_TEASERS = 1 << 5,    /* a sibling of the article that lists other articles */
};

typedef struct {
  xmlNode *node;
  gint32   parent;    /* index, -1 for the root */
  guint8   tag;       /* TagKind */
  guint8   hints;     /* HintFlags */
  guint8   hint_kind; /* StripKind of the negative hint */
  guint8   flags;
  guint32  text;      /* characters of kept text in the subtree */
  guint32  link;      /* of which inside links */
  guint32  skipped;   /* NODE_SKIPPED: the bytes of text it held */
  double   score;
} Node;

typedef struct {
  gint32  owner;      /* node index of the block-level element holding the text */
  guint32 start, len; /* bytes in the arena */
  guint32 chars, link;
  guint32 time;       /* characters inside <time> */
  guint32 words, stops, commas;
  guint32 cjk;        /* CJK characters (prose without spaces) */
  guint8  tag;        /* TagKind of the owner */
  gboolean end_punct;
} Block;

typedef struct {
  const StripConfig *cfg;
  StripResult *res;
  GArray  *nodes;        /* Node */
  GArray  *blocks;       /* Block */
  GString *arena;        /* block texts */
  GString *cur;          /* text of the block being built */
  guint32  cur_chars, cur_link, cur_time;
  gint32   cur_owner;
  gint32   current;      /* innermost open element */
  gsize    page_text;    /* bytes of text in the page */
  gsize    page_prose;   /* of which running text (see text_prose()) */
  gboolean rescue;       /* second pass: class hints and boilerplate tags only lower scores */
  const char *hint_lang; /* language of the class-word lists, NULL: all of them */
  gboolean in_comments;  /* second pass: a part of the article is (in) a comment section */
  int      in_link;
  int      in_time;
  gboolean in_head;
  const char *lang;
  /* metadata, strongest source first */
  char *title_tag, *html_lang;
  GHashTable *meta;      /* lower-case meta name/property -> content (first wins) */
  char *canonical, *time_datetime;
  json_object *ld;       /* the JSON-LD article object (borrowed from ld_docs) */
  json_object *line_meta;  /* what the article's dropped lines say (a byline's author) */
  char *byline_box;        /* the text of the first short element named as the author */
  GPtrArray *ld_docs;    /* parsed JSON-LD scripts */
} Walk;

static const char *
node_attr (const xmlNode *node, const char *name)
{
  for (const xmlAttr *a = node->properties; a != NULL; a = a->next)
    if (g_ascii_strcasecmp ((const char *) a->name, name) == 0)
      {
        if (a->children != NULL && a->children->type == XML_TEXT_NODE && a->children->next == NULL)
          return (const char *) a->children->content;
        return a->children == NULL ? "" : NULL;
      }
  return NULL;
}

/* Appends text with runs of white space collapsed to one space. */
static void
walk_add_text (Walk *w, const char *text)
{
  GString *cur = w->cur;
  guint32 chars = 0;
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      guchar c = *p;
      if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f')
        {
          if (cur->len > 0 && cur->str[cur->len - 1] != ' ')
            {
              g_string_append_c (cur, ' ');
              chars++;
            }
          continue;
        }
      /* U+00AD soft hyphen: a hyphenation point, not a character */
      if (c == 0xC2 && p[1] == 0xAD)
        {
          p++;
          continue;
        }
      /* U+00A0 no-break space counts as a space */
      if (c == 0xC2 && p[1] == 0xA0)
        {
          p++;
          if (cur->len > 0 && cur->str[cur->len - 1] != ' ')
            {
              g_string_append_c (cur, ' ');
              chars++;
            }
          continue;
        }
      g_string_append_c (cur, (char) c);
      if ((c & 0xC0) != 0x80)
        chars++;
    }
  w->cur_chars += chars;
  Node *n = &g_array_index (w->nodes, Node, w->current);
  n->text += chars;
  if (w->in_link > 0)
    {
      w->cur_link += chars;
      n->link += chars;
    }
  if (w->in_time > 0)
    w->cur_time += chars;
}

static gboolean
is_cjk (gunichar c)
{
  return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF)
         || (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xF900 && c <= 0xFAFF);
}

/* Ends the current block: its text goes to the arena with its counts. */
static void
walk_flush (Walk *w)
{
  GString *cur = w->cur;
  gsize start = 0, end = cur->len;
  while (start < end && cur->str[start] == ' ')
    start++;
  while (end > start && cur->str[end - 1] == ' ')
    end--;
  if (end > start && w->cur_owner >= 0)
    {
      Block b = { 0 };
      b.owner = w->cur_owner;
      b.start = w->arena->len;
      b.len = end - start;
      b.chars = w->cur_chars;
      b.link = MIN (w->cur_link, w->cur_chars);
      b.time = MIN (w->cur_time, w->cur_chars);
      b.tag = g_array_index (w->nodes, Node, w->cur_owner).tag;
      g_string_append_len (w->arena, cur->str + start, end - start);
      g_array_append_val (w->blocks, b);
    }
  g_string_truncate (cur, 0);
  w->cur_chars = 0;
  w->cur_link = 0;
  w->cur_time = 0;
}

static void
walk_meta_tag (Walk *w, const xmlNode *node)
{
  const char *content = node_attr (node, "content");
  if (content == NULL || *content == '\0')
    return;
  const char *keys[] = { node_attr (node, "property"), node_attr (node, "name"),
                         node_attr (node, "itemprop"), node_attr (node, "http-equiv") };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      if (keys[i] == NULL || *keys[i] == '\0')
        continue;
      char *key = g_ascii_strdown (keys[i], -1);
      if (!g_hash_table_contains (w->meta, key))
        g_hash_table_insert (w->meta, key, g_strdup (content));
      else
        g_free (key);
    }
}

static gboolean
ld_type_is_article (json_object *obj)
{
  json_object *type;
  if (!json_object_object_get_ex (obj, "@type", &type))
    return FALSE;
  if (json_object_is_type (type, json_type_array))
    {
      for (size_t i = 0; i < json_object_array_length (type); i++)
        {
          const char *t = json_object_get_string (json_object_array_get_idx (type, i));
          if (t != NULL && (strstr (t, "Article") || strstr (t, "Posting") || strstr (t, "Report")))
            return TRUE;
        }
      return FALSE;
    }
  const char *t = json_object_get_string (type);
  return t != NULL && (strstr (t, "Article") || strstr (t, "Posting") || strstr (t, "Report"));
}

/* The first article object in a JSON-LD value (arrays and @graph searched). */
static json_object *
ld_find_article (json_object *obj, int depth)
{
  if (obj == NULL || depth > 8)
    return NULL;
  if (json_object_is_type (obj, json_type_array))
    {
      for (size_t i = 0; i < json_object_array_length (obj); i++)
        {
          json_object *found = ld_find_article (json_object_array_get_idx (obj, i), depth + 1);
          if (found != NULL)
            return found;
        }
      return NULL;
    }
  if (!json_object_is_type (obj, json_type_object))
    return NULL;
  if (ld_type_is_article (obj))
    return obj;
  json_object *graph;
  if (json_object_object_get_ex (obj, "@graph", &graph))
    return ld_find_article (graph, depth + 1);
  json_object *main;
  if (json_object_object_get_ex (obj, "mainEntity", &main))
    return ld_find_article (main, depth + 1);
  return NULL;
}

static void
walk_json_ld (Walk *w, xmlNode *node)
{
  if (w->ld != NULL)
    return;
  xmlChar *content = xmlNodeGetContent (node);
  if (content == NULL)
    return;
  g_autoptr(json_tokener) tok = json_tokener_new_ex (32);
  json_object *obj = json_tokener_parse_ex (tok, (const char *) content, (int) strlen ((const char *) content));
  xmlFree (content);
  if (obj == NULL)
    return;
  g_ptr_array_add (w->ld_docs, obj);
  w->ld = ld_find_article (obj, 0);
}

static void
walk_title (Walk *w, xmlNode *node)
{
  if (w->title_tag != NULL)
    return;
  xmlChar *content = xmlNodeGetContent (node);
  if (content == NULL)
    return;
  w->title_tag = g_strstrip (g_strdup ((const char *) content));
  xmlFree (content);
}

/* <noscript> and <template>: copies of content, or the rest of a page
 * whose closing tag is missing. */
static gboolean
tag_is_copy (const xmlNode *node)
{
  const char *name = (const char *) node->name;
  return strcmp (name, "noscript") == 0 || strcmp (name, "template") == 0;
}

static gsize text_prose (const xmlNode *text);

/* The running text under @node (see text_prose()), or with @all every
 * non-space byte of its text. */
static gsize
node_prose (const xmlNode *node, gboolean all)
{
  gsize total = 0;
  const xmlNode *n = node->children;
  while (n != NULL && n != node)
    {
      if (n->type == XML_TEXT_NODE && n->content != NULL && all)
        for (const guchar *p = n->content; *p != '\0'; p++)
          total += *p > ' ';
      else if (n->type == XML_TEXT_NODE && n->content != NULL)
        total += text_prose (n);
      if (n->type == XML_ELEMENT_NODE && n->children != NULL && tag_kind (n) != TAG_SCRIPT
          && (tag_kind (n) != TAG_DROP || tag_is_copy (n)))
        {
          n = n->children;
          continue;
        }
      while (n != node && n->next == NULL)
        n = n->parent;
      if (n != node)
        n = n->next;
    }
  return total;
}

/* Does the subtree of @node hold a <main> or an <h1>? */
static gboolean
holds_main (const xmlNode *node)
{
  const xmlNode *n = node->children;
  while (n != NULL && n != node)
    {
      if (n->type == XML_ELEMENT_NODE
          && (strcmp ((const char *) n->name, "main") == 0 || strcmp ((const char *) n->name, "h1") == 0))
        return TRUE;
      if (n->type == XML_ELEMENT_NODE && n->children != NULL)
        {
          n = n->children;
          continue;
        }
      while (n != node && n->next == NULL)
        n = n->parent;
      if (n != node)
        n = n->next;
    }
  return FALSE;
}

/* The text under @node, from size_tree(), before walk_tree() reuses _private. */
static gsize
node_text (const xmlNode *node)
{
  return GPOINTER_TO_SIZE (node->_private);
}

/* Leaves a mark where boilerplate was left out, so that the article's
 * siblings can tell what lies between them (join_continuations()). */
static void
walk_mark_skipped (Walk *w, xmlNode *node, gint32 parent)
{
  Node n = { 0 };
  n.node = node;
  n.parent = parent;
  n.tag = TAG_INLINE;
  n.flags = NODE_SKIPPED;
  n.skipped = (guint32) MIN (node_prose (node, TRUE), (gsize) G_MAXUINT32);
  g_array_append_val (w->nodes, n);
}

/* Counts an element left out with its subtree; a traced document keeps
 * its text too. */
static void
removed_node (Walk *w, StripKind kind, xmlNode *node)
{
  w->res->removed[kind]++;
  if (G_LIKELY (w->res->removed_units == NULL))
    return;
  xmlChar *text = xmlNodeGetContent (node);
  if (text != NULL)
    strip_result_note_removed (w->res, kind, (const char *) text, strlen ((const char *) text));
  xmlFree (text);
}

/* Decides what to do with an element on the way in: FALSE skips its subtree. */
/* A name as bylines give it: one to five words, each capitalised or a
 * connector ("van", "and"), no digits, no address or separator. */
static gboolean
looks_like_name (const char *text)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  guint n = 0;
  for (char **wd = words; *wd != NULL; wd++)
    {
      if (**wd == '\0')
        continue;
      if (++n > 5 || strpbrk (*wd, "0123456789@:|/") != NULL)
        return FALSE;
      if (!g_unichar_isupper (g_utf8_get_char (*wd)) && !g_strv_contains (strip_name_connectors, *wd))
        return FALSE;
    }
  return n >= 1 && strlen (text) <= 60;
}

/* A short element named as the author (rel or itemprop "author", or a
 * class or id the hints read as a byline): its name, for the metadata
 * when no meta tag gives one. "By Ann Lee, 3 March" gives "Ann Lee": the
 * byline word goes, and what follows a comma or a dash. */
static void
walk_author_box (Walk *w, xmlNode *node, guint hints, StripKind hint_kind, const char *itemprop)
{
  if (w->byline_box != NULL || w->rescue || node_text (node) == 0 || node_text (node) > 160)
    return;
  /* rel="author" is a link's: the attribute is looked for on links only */
  if (!((itemprop != NULL && g_ascii_strcasecmp (itemprop, "author") == 0)
        || ((hints & HINT_NEGATIVE) && hint_kind == STRIP_KIND_BYLINE)
        || (g_ascii_strcasecmp ((const char *) node->name, "a") == 0 && node_attr (node, "rel") != NULL
            && g_ascii_strcasecmp (node_attr (node, "rel"), "author") == 0)))
    return;
  xmlChar *content = xmlNodeGetContent (node);
  if (content == NULL)
    return;
  /* white space runs to one space, none at the ends */
  g_autoptr(GString) text = g_string_sized_new (strlen ((const char *) content));
  for (const char *c = (const char *) content; *c != '\0'; c++)
    {
      if (!g_ascii_isspace (*c))
        g_string_append_c (text, *c);
      else if (text->len > 0 && text->str[text->len - 1] != ' ')
        g_string_append_c (text, ' ');
    }
  xmlFree (content);
  if (text->len > 0 && text->str[text->len - 1] == ' ')
    g_string_truncate (text, text->len - 1);
  if (text->len == 0 || !g_utf8_validate (text->str, text->len, NULL))
    return;
  g_autofree char *lower = g_utf8_strdown (text->str, text->len);
  gsize skip = 0;
  for (const char *const *p = strip_byline_prefixes; *p != NULL; p++)
    if (g_str_has_prefix (lower, *p) && strlen (lower) == text->len)
      {
        skip = strlen (*p);
        break;
      }
  g_autofree char *name = g_strdup (text->str + skip);
  static const char *const cuts[] = { ",", " - ", " \xe2\x80\x93 ", " \xe2\x80\x94 ", " | ", " \xc2\xb7 ",
                                      " \xe2\x80\xa2 ", NULL };
  for (const char *const *c = cuts; *c != NULL; c++)
    {
      char *at = strstr (name, *c);
      if (at != NULL)
        *at = '\0';
    }
  g_strstrip (name);
  if (looks_like_name (name))
    w->byline_box = g_steal_pointer (&name);
}

static gboolean
walk_enter (Walk *w, xmlNode *node, gint32 parent)
{
  TagKind kind = tag_kind (node);
  StripResult *res = w->res;

  switch (kind)
    {
    case TAG_HTML:
      {
        const char *lang = node_attr (node, "lang");
        if (lang != NULL && w->html_lang == NULL && *lang != '\0')
          {
            w->html_lang = g_strdup (lang);
            if (w->hint_lang == NULL)
              {
                w->hint_lang = "en";   /* a language without lists: the English words only */
                for (guint i = 0; strip_lang_codes[i] != NULL; i++)
                  if (g_ascii_strncasecmp (lang, strip_lang_codes[i], 2) == 0 && !g_ascii_isalpha (lang[2]))
                    w->hint_lang = strip_lang_codes[i];
              }
          }
      }
      break;
    case TAG_HEAD:
      w->in_head = TRUE;
      break;
    case TAG_TITLE:
      if (parent >= 0 && g_array_index (w->nodes, Node, parent).tag == TAG_HEAD)
        walk_title (w, node);
      else if (w->title_tag == NULL && w->in_head)
        walk_title (w, node);
      return FALSE;
    case TAG_META:
      walk_meta_tag (w, node);
      return FALSE;
    case TAG_LINK:
      {
        const char *rel = node_attr (node, "rel");
        const char *href = node_attr (node, "href");
        if (rel != NULL && href != NULL && g_ascii_strcasecmp (rel, "canonical") == 0 && w->canonical == NULL)
          w->canonical = g_strdup (href);
      }
      return FALSE;
    case TAG_SCRIPT:
      {
        const char *type = node_attr (node, "type");
        if (type != NULL && g_ascii_strcasecmp (type, "application/ld+json") == 0)
          walk_json_ld (w, node);
        else
          res->removed[STRIP_KIND_MARKUP]++;
      }
      return FALSE;
    case TAG_TIME:
      {
        const char *dt = node_attr (node, "datetime");
        if (dt != NULL && w->time_datetime == NULL && *dt != '\0')
          w->time_datetime = g_strdup (dt);
      }
      break;
    case TAG_DROP:
      /* <noscript> and <template> hold a copy of the page or the rest of
       * an unclosed page; enter them when they hold more running text
       * than all the rest, or in the second pass */
      if (!w->in_head && tag_is_copy (node)
          && (w->rescue || node_prose (node, FALSE) > 2 * w->page_prose))
        {
          kind = TAG_CONTAINER;
          break;
        }
      if (!w->in_head)
        res->removed[STRIP_KIND_MARKUP]++;
      return FALSE;
    default:
      break;
    }
  guint hints = 0;
  StripKind hint_kind = STRIP_KIND_OTHER;
  if (w->in_head)
    goto add;

  /* A <nav>, <aside> or <footer> whose end tag is missing holds the rest
   * of the page: keep it as a plain block with a negative hint. In the
   * first pass only when it holds most of the running text and the page's
   * <main> or <h1> (a prose share alone does not tell it from a footer
   * that holds the comments), in the second pass always. */
  if (kind == TAG_BOILER
      && (w->rescue || (node_prose (node, FALSE) * 2 > w->page_prose && holds_main (node))))
    {
      kind = TAG_BLOCK;
      hints = HINT_NEGATIVE;
      hint_kind = STRIP_KIND_NAVIGATION;
    }
  else if (kind == TAG_BOILER)
    {
      removed_node (w, g_ascii_strcasecmp ((const char *) node->name, "nav") == 0 ? STRIP_KIND_NAVIGATION
                                                                                : STRIP_KIND_RELATED, node);
      walk_mark_skipped (w, node, parent);
      return FALSE;
    }
  if (kind == TAG_CAPTION && !w->cfg->keep_captions)
    {
      removed_node (w, STRIP_KIND_CAPTION, node);
      return FALSE;
    }
  if (node_attr (node, "hidden") != NULL)
    {
      res->removed[STRIP_KIND_MARKUP]++;
      return FALSE;
    }
  const char *style = node_attr (node, "style");
  if (style != NULL && (strstr (style, "display:none") || strstr (style, "display: none")
                        || strstr (style, "visibility:hidden") || strstr (style, "visibility: hidden")))
    {
      res->removed[STRIP_KIND_MARKUP]++;
      return FALSE;
    }
  const char *role = node_attr (node, "role");
  if (role != NULL && (g_ascii_strcasecmp (role, "navigation") == 0 || g_ascii_strcasecmp (role, "complementary") == 0
                       || g_ascii_strcasecmp (role, "contentinfo") == 0 || g_ascii_strcasecmp (role, "banner") == 0
                       || g_ascii_strcasecmp (role, "menu") == 0 || g_ascii_strcasecmp (role, "dialog") == 0))
    {
      removed_node (w, STRIP_KIND_NAVIGATION, node);
      return FALSE;
    }

  const char *cls = node_attr (node, "class");
  const char *id = node_attr (node, "id");
  gboolean heading = kind == TAG_H1 || kind == TAG_HEADING;
  if (cls != NULL)
    hints |= hint_scan (cls, w->hint_lang, heading, &hint_kind);
  if (id != NULL)
    {
      StripKind k = STRIP_KIND_OTHER;
      guint h = hint_scan (id, w->hint_lang, heading, &k);
      if ((h & HINT_NEGATIVE) && !(hints & HINT_NEGATIVE))
        hint_kind = k;
      hints |= h;
    }
  const char *itemprop = node_attr (node, "itemprop");
  walk_author_box (w, node, hints, hint_kind, itemprop);
  if (itemprop != NULL && g_ascii_strcasecmp (itemprop, "articleBody") == 0)
    hints = (hints & ~(HINT_NEGATIVE | HINT_STRONG)) | HINT_POSITIVE | HINT_MAYBE;
  if (role != NULL && (g_ascii_strcasecmp (role, "main") == 0 || g_ascii_strcasecmp (role, "article") == 0))
    hints |= HINT_POSITIVE | HINT_MAYBE;

  /* A strong hint on a container of most of the page's text is a layout
   * class ("has-sidebar", "social-wrapper"), not a box to remove, unless
   * it names a comment section: under a short post that is often most of
   * the page. In the second pass no hint removes anything. */
  if ((hints & HINT_STRONG) && !(hints & HINT_MAYBE) && !w->rescue && kind != TAG_A && kind != TAG_HTML
      && strcmp ((const char *) node->name, "body") != 0 && strcmp ((const char *) node->name, "article") != 0
      && strcmp ((const char *) node->name, "main") != 0
      && (node_text (node) * 2 < w->page_text || (hints & HINT_COMMENT)))
    {
      removed_node (w, hint_kind, node);
      walk_mark_skipped (w, node, parent);
      return FALSE;
    }

add:;
  Node n = { 0 };
  n.node = node;
  n.parent = parent;
  n.tag = kind;
  n.hints = hints;
  n.hint_kind = hint_kind;
  g_array_append_val (w->nodes, n);
  return TRUE;
}

/* Bytes of running text in a text node: its non-space bytes, unless it is
 * short (a label, a menu entry) or inside a link. */
static gsize
text_prose (const xmlNode *text)
{
  for (const xmlNode *up = text->parent; up != NULL && up != text->parent->parent->parent; up = up->parent)
    if (up->type == XML_ELEMENT_NODE && up->name[0] == 'a' && up->name[1] == '\0')
      return 0;
  gsize n = 0;
  for (const guchar *p = text->content; *p != '\0'; p++)
    n += *p > ' ';
  return n >= 20 ? n : 0;
}

/* First pass: the bytes of text under each element, in node->_private,
 * so that the second pass can tell a big container from a small box, and
 * in *@prose the running text of the page (text_prose()). The text of
 * <noscript> and <template> is counted for them but not for the page. */
static gsize
size_tree (xmlNode *root, gsize *prose)
{
  xmlNode *node = root;
  gsize total = 0;
  while (node != NULL)
    {
      gboolean descend = FALSE;
      if (node->type == XML_ELEMENT_NODE)
        {
          node->_private = NULL;
          TagKind kind = tag_kind (node);
          descend = kind != TAG_SCRIPT && kind != TAG_DROP && node->children != NULL;
        }
      else if (node->type == XML_TEXT_NODE && node->content != NULL && node->parent != NULL
               && node->parent->parent != NULL)
        {
          gsize n = strlen ((const char *) node->content);
          *prose += text_prose (node);
          node->parent->_private = GSIZE_TO_POINTER (GPOINTER_TO_SIZE (node->parent->_private) + n);
        }
      if (descend)
        {
          node = node->children;
          continue;
        }
      for (;;)
        {
          if (node == root)
            {
              total = GPOINTER_TO_SIZE (root->_private);
              node = NULL;
              break;
            }
          if (node->next != NULL)
            {
              node = node->next;
              break;
            }
          node = node->parent;
          if (node != root && node->parent != NULL)
            node->parent->_private = GSIZE_TO_POINTER (GPOINTER_TO_SIZE (node->parent->_private)
                                                       + GPOINTER_TO_SIZE (node->_private));
        }
    }
  return total;
}

static void
walk_leave (Walk *w, xmlNode *node)
{
  gint32 idx = GPOINTER_TO_INT (node->_private) - 1;
  Node *n = &g_array_index (w->nodes, Node, idx);
  if (n->tag == TAG_A && w->in_link > 0)
    w->in_link--;
  if (n->tag == TAG_TIME && w->in_time > 0)
    w->in_time--;
  if (n->tag == TAG_HEAD)
    w->in_head = FALSE;
  if (tag_is_block (n->tag) || n->tag == TAG_BR)
    {
      walk_flush (w);
      /* text after this element belongs to the enclosing block */
      gint32 up = n->parent;
      while (up >= 0 && !tag_is_block (g_array_index (w->nodes, Node, up).tag))
        up = g_array_index (w->nodes, Node, up).parent;
      w->cur_owner = up;
    }
  if (n->parent >= 0)
    {
      Node *p = &g_array_index (w->nodes, Node, n->parent);
      p->text += n->text;
      p->link += MIN (n->link, n->text);
    }
  w->current = n->parent;
}

/* Walks the tree without recursion, filling w->nodes and w->blocks. */
static void
walk_tree (Walk *w, xmlNode *root)
{
  xmlNode *node = root;
  while (node != NULL)
    {
      gboolean entered = FALSE;
      if (node->type == XML_ELEMENT_NODE)
        {
          guint before = w->nodes->len;
          if (walk_enter (w, node, w->current) && w->nodes->len > before)
            {
              gint32 idx = before;
              Node *n = &g_array_index (w->nodes, Node, idx);
              node->_private = GINT_TO_POINTER (idx + 1);
              if (tag_is_block (n->tag) || n->tag == TAG_BR)
                {
                  walk_flush (w);
                  if (n->tag != TAG_BR)
                    w->cur_owner = idx;
                }
              if (n->tag == TAG_A)
                w->in_link++;
              if (n->tag == TAG_TIME)
                w->in_time++;
              w->current = idx;
              entered = TRUE;
            }
        }
      else if ((node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) && !w->in_head
               && node->content != NULL && w->current >= 0)
        walk_add_text (w, (const char *) node->content);

      if (entered && node->children != NULL)
        {
          node = node->children;
          continue;
        }
      if (entered)
        walk_leave (w, node);
      for (;;)
        {
          if (node == root)
            {
              node = NULL;
              break;
            }
          if (node->next != NULL)
            {
              node = node->next;
              break;
            }
          node = node->parent;
          walk_leave (w, node);
        }
    }
  walk_flush (w);
}

/* ------------------------------------------------------------ scoring */

/* Word, stopword, comma and CJK counts of a block in language @lang
 * (NULL: no stopword list applies). */
static void
block_measure (Block *b, const char *text, const char *lang)
{
  const char *p = text, *end = text + b->len;
  char word[64];
  gsize wlen = 0;
  gboolean in_word = FALSE, word_ok = TRUE;
  gunichar last = 0;

  while (p <= end)
    {
      gunichar c;
      gboolean letter;
      if (p == end)
        {
          c = ' ';
          letter = FALSE;
          p++;
        }
      else if ((guchar) *p < 0x80)
        {
          c = (guchar) *p++;
          letter = g_ascii_isalnum (c) || c == '\'';
        }
      else
        {
          c = g_utf8_get_char_validated (p, end - p);
          if (c >= (gunichar) -2)
            {
              c = 0xFFFD;
              p++;
            }
          else
            p = g_utf8_next_char (p);
          if (is_cjk (c))
            {
              b->cjk++;
              letter = FALSE;
            }
          else
            letter = g_unichar_isalnum (c);
        }
      if (letter)
        {
          if (!in_word)
            {
              in_word = TRUE;
              wlen = 0;
              word_ok = TRUE;
            }
          if (word_ok)
            {
              if (wlen + 6 >= sizeof word)
                word_ok = FALSE;
              else
                wlen += g_unichar_to_utf8 (c < 0x80 ? (gunichar) g_ascii_tolower ((char) c) : g_unichar_tolower (c),
                                           word + wlen);
            }
          continue;
        }
      if (in_word)
        {
          in_word = FALSE;
          b->words++;
          if (lang != NULL && word_ok && strip_lang_is_stopword (lang, word, wlen))
            b->stops++;
        }
      if (c == ',' || c == ';' || c == 0xFF0C || c == 0x3001 || c == 0x3002 || c == 0xFF1B)
        b->commas++;
      if (c != ' ' && p <= end)
        last = c;
    }
  b->end_punct = last == '.' || last == '!' || last == '?' || last == ':' || last == 0x3002 || last == 0xFF01
                 || last == 0xFF1F || last == '"' || last == 0x201D || last == 0xBB || last == 0x2026 || last == ')';
}

static gboolean
block_is_cjk (const Block *b)
{
  return b->cjk * 3 > b->chars;
}

static double
block_link_density (const Block *b)
{
  return b->chars > 0 ? (double) b->link / b->chars : 0.0;
}

/* How much a block looks like article prose; 0 for too little text. */
static double
block_score (const Block *b, gboolean use_stops)
{
  gboolean cjk = block_is_cjk (b);
  if (b->chars < (cjk ? 10u : 25u))
    return 0.0;
  double s = 1.0 + MIN (b->commas, 20u) + MIN (b->chars / (cjk ? 40.0 : 100.0), 3.0);
  if (use_stops && !cjk && b->words >= 6)
    {
      double ratio = (double) b->stops / b->words;
      if (ratio >= 0.3)
        s += 1.5;
      else if (ratio < 0.12)
        s *= 0.4;
    }
  return s * (1.0 - block_link_density (b));
}

static double
tag_bonus (TagKind tag)
{
  switch (tag)
    {
    case TAG_CONTAINER: return 5.0;
    case TAG_PRE: case TAG_TD: case TAG_QUOTE: return 3.0;
    case TAG_LIST: case TAG_LI: case TAG_BLOCK: case TAG_HEADER: return -3.0;
    case TAG_H1: case TAG_HEADING: return -5.0;
    default: return 0.0;
    }
}

static double
hint_weight (guint hints)
{
  double wgt = 0.0;
  if (hints & HINT_POSITIVE)
    wgt += 25.0;
  if (hints & HINT_NEGATIVE)
    wgt -= 25.0;
  return wgt;
}

static double
node_link_density (const Node *n)
{
  return n->text > 0 ? (double) MIN (n->link, n->text) / n->text : 0.0;
}

static double
node_final (const Node *n)
{
  return n->score * (1.0 - node_link_density (n));
}

/* Credits each block's score to its containers; returns the best one. */
static gint32
score_candidates (Walk *w, gboolean use_stops)
{
  Node *nodes = (Node *) w->nodes->data;
  for (guint i = 0; i < w->blocks->len; i++)
    {
      Block *b = &g_array_index (w->blocks, Block, i);
      double s = block_score (b, use_stops);
      if (s <= 0.0)
        continue;
      gint32 c = nodes[b->owner].parent;
      for (int level = 0; c >= 0 && level < 5; level++, c = nodes[c].parent)
        {
          Node *n = &nodes[c];
          if (n->tag == TAG_HTML)
            break;
          if (!(n->flags & NODE_CANDIDATE))
            {
              n->flags |= NODE_CANDIDATE;
              n->score = tag_bonus (n->tag) + hint_weight (n->hints);
            }
          n->score += level == 0 ? s : level == 1 ? s / 2.0 : s / (level * 3.0);
        }
    }
  gint32 best = -1;
  double best_score = 0.0;
  for (guint i = 0; i < w->nodes->len; i++)
    if ((nodes[i].flags & NODE_CANDIDATE) && (best < 0 || node_final (&nodes[i]) > best_score))
      {
        best = i;
        best_score = node_final (&nodes[i]);
      }
  return best;
}

/* @node without the wrappers around its content: while it holds one
 * element and no text of its own, that element. */
static const xmlNode *
unwrap (const xmlNode *node)
{
  for (int depth = 0; depth < 8; depth++)
    {
      const xmlNode *only = NULL;
      for (const xmlNode *c = node->children; c != NULL; c = c->next)
        {
          if (c->type == XML_ELEMENT_NODE)
            {
              if (only != NULL)
                return node;
              only = c;
            }
          else if (c->type == XML_TEXT_NODE && c->content != NULL)
            for (const xmlChar *t = c->content; *t != '\0'; t++)
              if (!g_ascii_isspace (*t))
                return node;
        }
      if (only == NULL)
        return node;
      node = only;
    }
  return node;
}

static gboolean
same_tag_and_class (const xmlNode *a, const xmlNode *b)
{
  gboolean same_tag = strcmp ((const char *) a->name, (const char *) b->name) == 0;
  const char *ca = node_attr (a, "class"), *cb = node_attr (b, "class");
  if (ca == NULL || cb == NULL)
    return same_tag && ca == cb;
  while (g_ascii_isspace (*ca))
    ca++;
  while (g_ascii_isspace (*cb))
    cb++;
  gsize la = strcspn (ca, " \t\n\r\f"), lb = strcspn (cb, " \t\n\r\f");
  if (la == lb && memcmp (ca, cb, la) == 0)
    return same_tag;
  /* the same block of a BEM name or the same two-word prefix of a plugin,
   * then a word each ("recipe__intro", "recipe__steps";
   * "tasty-recipes-description", "tasty-recipes-instructions"); not one
   * common word ("post-author", "post-entry") nor grid columns ("col-md-8",
   * "col-md-4") */
  gsize common = 0;
  while (common < la && common < lb && ca[common] == cb[common])
    common++;
  while (common > 0 && ca[common - 1] != '-' && ca[common - 1] != '_')
    common--;
  if (common < 5 || common >= la || common >= lb || !g_ascii_isalpha (ca[common]) || !g_ascii_isalpha (cb[common]))
    return FALSE;
  /* two elements of one BEM block may differ in tag ("product__text" a
   * div, "product__details" a <details>) */
  if (g_strstr_len (ca, common, "__") != NULL)
    return TRUE;
  guint parts = 0;
  for (gsize i = 0; i + 1 < common; i++)
    if ((ca[i] == '-' || ca[i] == '_') && g_ascii_isalnum (ca[i + 1]))
      parts++;
  return same_tag && parts >= 1;
}

/* TRUE when @a and @b are laid out alike: the same tag and the same first
 * class word (or neither has a class), or first class words of one BEM
 * block or one plugin prefix (same_tag_and_class()), as the repeated
 * boxes of a page builder, the parts of a recipe or the posts of a forum
 * thread; also when that holds inside their wrappers (unwrap()). */
static gboolean
same_style (const Node *a, const Node *b)
{
  return same_tag_and_class (a->node, b->node) || same_tag_and_class (unwrap (a->node), unwrap (b->node));
}

/* Is @n a header area (<header>, or a class or id with "header" or its
 * German, French, Spanish, Italian, Portuguese or Polish word)? */
static gboolean
is_header_area (const Node *n)
{
  static const char *const words[] = { "header", "kopf", "entete", "en-tete", "cabecera", "testata",
                                       "cabecalho", "naglowek" };
  if (n->tag == TAG_HEADER)
    return TRUE;
  const char *attrs[] = { node_attr (n->node, "class"), node_attr (n->node, "id") };
  for (guint a = 0; a < G_N_ELEMENTS (attrs); a++)
    {
      if (attrs[a] == NULL)
        continue;
      g_autofree char *lower = g_ascii_strdown (attrs[a], -1);
      for (guint i = 0; i < G_N_ELEMENTS (words); i++)
        if (strstr (lower, words[i]) != NULL)
          return TRUE;
    }
  return FALSE;
}

/* What kinds of blocks a subtree holds, counted over its blocks: table
 * cells and list items, h2-h6 headings, h1, and all others. */
typedef struct {
  guint32 data, heading, title, other;
} BlockKinds;

/* Does the subtree hold text only in table cells, list items and
 * headings, with at least one cell or item (a specification table, an
 * ingredient list)? */
static gboolean
only_data (const BlockKinds *k)
{
  return k->data > 0 && k->title == 0 && k->other == 0;
}

/* Does the subtree hold text only in h2-h6 headings? */
static gboolean
only_subheadings (const BlockKinds *k)
{
  return k->heading > 0 && k->data == 0 && k->title == 0 && k->other == 0;
}

/* The siblings of the chosen @top (children of @parent) that go on with
 * its text: in one run from @top outwards, laid out like it (same_style())
 * or holding much prose in more than one block, with little link text and no negative hint that
 * @top does not share; a sibling with more than 200 characters that does
 * not go on ends the run. Short siblings between two kept ones (a
 * heading box, an image box) are kept too, to keep their headings.
 * Returns the number of siblings the run spans besides @top. */
static guint
join_continuations (Walk *w, gint32 top, gint32 parent, const double *prose, const guint32 *blocks,
                    const BlockKinds *kinds)
{
  Node *nodes = (Node *) w->nodes->data;
  g_autoptr(GArray) sibs = g_array_new (FALSE, FALSE, sizeof (gint32));
  guint pos = 0;
  for (guint i = parent + 1; i < w->nodes->len; i++)
    if (nodes[i].parent == parent)
      {
        if ((gint32) i == top)
          pos = sibs->len;
        gint32 idx = i;
        g_array_append_val (sibs, idx);
      }
  const gint32 *sib = (const gint32 *) sibs->data;
  double min = MAX (2.0, prose[top] * 0.05);
  guint first = pos, last = pos;
  for (int dir = -1; dir <= 1; dir += 2)
    for (gint64 j = (gint64) pos + dir; j >= 0 && j < (gint64) sibs->len; j += dir)
      {
        Node *s = &nodes[sib[j]];
        gboolean alike = same_style (s, &nodes[top]);
        gboolean neg = (s->hints & HINT_NEGATIVE) && !(alike && (nodes[top].hints & HINT_NEGATIVE));
        /* a tab or box of the same kind holding only a short table or
         * list (specifications, ingredients) goes on without prose */
        gboolean goes_on = !neg && !(s->flags & NODE_TEASERS) && node_link_density (s) < 0.3
                           && ((alike && prose[sib[j]] >= min)
                               || (alike && s->text <= 300 && only_data (&kinds[sib[j]]))
                               || (prose[sib[j]] >= MAX (10.0, prose[top] * 0.3) && blocks[sib[j]] >= 2));
        if (goes_on || (s->flags & NODE_CHOSEN))
          {
            s->flags |= NODE_CHOSEN;
            first = MIN (first, (guint) j);
            last = MAX (last, (guint) j);
          }
        else if (s->text + s->skipped > 200 || (s->flags & NODE_TEASERS))
          {
            /* boilerplate between: what lies beyond is not the article */
            for (j += dir; j >= 0 && j < (gint64) sibs->len; j += dir)
              nodes[sib[j]].flags &= ~NODE_CHOSEN;
            break;
          }
      }
  for (guint j = first + 1; j < last; j++)
    {
      Node *s = &nodes[sib[j]];
      gboolean neg = (s->hints & HINT_NEGATIVE)
                     && !(same_style (s, &nodes[top]) && (nodes[top].hints & HINT_NEGATIVE));
      if (!(s->flags & (NODE_CHOSEN | NODE_SKIPPED | NODE_TEASERS)) && s->text <= 200 && node_link_density (s) < 0.5 && !neg)
        s->flags |= NODE_CHOSEN;
    }
  /* a box holding nothing but a subheading just before the run (the
   * heading box of a page builder) */
  for (gint64 j = (gint64) first - 1; j >= 0; j--)
    {
      Node *s = &nodes[sib[j]];
      if (s->text == 0)
        continue;
      gboolean neg = (s->hints & HINT_NEGATIVE)
                     && !(same_style (s, &nodes[top]) && (nodes[top].hints & HINT_NEGATIVE));
      if (s->text <= 120 && !neg && node_link_density (s) < 0.5 && only_subheadings (&kinds[sib[j]]))
        s->flags |= NODE_CHOSEN;
      break;
    }
  return last - first;
}

/* Does the class or id of @n name a lead paragraph ("intro-text",
 * "article-lead", "standfirst", "teaser", German "vorspann", French
 * "chapo", ...)? "lead" and "dek" count only as whole words
 * ("leaderboard" is an advertisement). */
static gboolean
is_lead_box (const Node *n)
{
  static const char *const stems[] = { "standfirst", "intro", "teaser", "summary", "abstract", "excerpt",
                                       "subline", "vorspann", "chapo", "entradilla", "sommario", "lede" };
  static const char *const words[] = { "lead", "dek" };
  const char *attrs[] = { node_attr (n->node, "class"), node_attr (n->node, "id") };
  for (guint a = 0; a < G_N_ELEMENTS (attrs); a++)
    {
      if (attrs[a] == NULL)
        continue;
      g_autofree char *lower = g_ascii_strdown (attrs[a], -1);
      for (guint i = 0; i < G_N_ELEMENTS (stems); i++)
        if (strstr (lower, stems[i]) != NULL)
          return TRUE;
      for (guint i = 0; i < G_N_ELEMENTS (words); i++)
        for (const char *at = strstr (lower, words[i]); at != NULL; at = strstr (at + 1, words[i]))
          {
            gsize len = strlen (words[i]);
            if ((at == lower || !g_ascii_isalnum (at[-1])) && !g_ascii_isalnum (at[len]))
              return TRUE;
          }
    }
  return FALSE;
}

/* The standfirst of an article whose header area (title, lead paragraph,
 * byline) or lead box (is_lead_box(), up to 800 characters, little link
 * text, no negative hint) is the sibling before @top (the nearest one with
 * text): the prose blocks in it. */
static void
join_lead (Walk *w, gint32 top, const guint32 *last_desc)
{
  Node *nodes = (Node *) w->nodes->data;
  gint32 parent = nodes[top].parent;
  gint32 header = -1;
  for (gint32 i = top - 1; i > parent; i--)
    if (nodes[i].parent == parent && nodes[i].text > 0)
      {
        if (is_header_area (&nodes[i])
            || (is_lead_box (&nodes[i]) && nodes[i].text <= 800 && node_link_density (&nodes[i]) < 0.2
                && !(nodes[i].hints & HINT_NEGATIVE)))
          header = i;
        break;
      }
  if (header < 0 || (nodes[header].flags & NODE_CHOSEN))
    return;
  for (guint i = 0; i < w->blocks->len; i++)
    {
      Block *b = &g_array_index (w->blocks, Block, i);
      if (b->owner < header || (guint32) b->owner > last_desc[header])
        continue;
      /* a negative hint is the header's own word ("article-header__chapo")
       * when the block's box is named a lead */
      if (b->chars >= 60 && b->words >= 8 && b->end_punct && block_link_density (b) < 0.2
          && b->tag != TAG_H1 && b->tag != TAG_HEADING
          && (!(nodes[b->owner].hints & HINT_NEGATIVE) || is_lead_box (&nodes[b->owner])))
        nodes[b->owner].flags |= NODE_CHOSEN;
    }
}

/* Marks the best container and the siblings that belong with it. */
static void
choose_article (Walk *w, gint32 top, gboolean use_stops)
{
  Node *nodes = (Node *) w->nodes->data;
  /* a container that only wraps the best one says the same */
  while (nodes[top].parent >= 0)
    {
      Node *parent = &nodes[nodes[top].parent];
      if (parent->tag == TAG_HTML || parent->tag == TAG_HEAD
          || strcmp ((const char *) parent->node->name, "body") == 0)
        break;
      if ((double) parent->text > nodes[top].text * 1.05 + 10)
        break;
      top = nodes[top].parent;
    }
  double top_score = node_final (&nodes[top]);
  nodes[top].flags |= NODE_CHOSEN;
  g_debug ("article: <%s class=\"%s\" id=\"%s\">, score %.1f, %u characters", (const char *) nodes[top].node->name,
           node_attr (nodes[top].node, "class") ? node_attr (nodes[top].node, "class") : "",
           node_attr (nodes[top].node, "id") ? node_attr (nodes[top].node, "id") : "", top_score, nodes[top].text);
  gint32 parent = nodes[top].parent;
  if (parent < 0)
    return;
  double threshold = MAX (10.0, top_score * 0.2);
  /* prose score and last descendant of every subtree (nodes are in
   * document order, parents first) */
  guint n = w->nodes->len;
  double *prose = g_new0 (double, n);
  guint32 *last_desc = g_new (guint32, n);
  guint32 *teasers = g_new0 (guint32, n);   /* headings that are links */
  guint32 *blocks = g_new0 (guint32, n);    /* blocks that score */
  BlockKinds *kinds = g_new0 (BlockKinds, n);
  for (guint i = 0; i < w->blocks->len; i++)
    {
      Block *b = &g_array_index (w->blocks, Block, i);
      double bs = block_score (b, use_stops);
      prose[b->owner] += bs;
      blocks[b->owner] += bs > 0.0;
      BlockKinds *k = &kinds[b->owner];
      if (b->tag == TAG_TD || b->tag == TAG_LI)
        k->data++;
      else if (b->tag == TAG_HEADING)
        k->heading++;
      else if (b->tag == TAG_H1)
        k->title++;
      else
        k->other++;
      if ((b->tag == TAG_HEADING || b->tag == TAG_H1) && b->chars >= 10 && b->link * 10 >= b->chars * 8)
        teasers[b->owner]++;
    }
  for (guint i = 0; i < n; i++)
    last_desc[i] = i;
  for (guint i = n; i-- > 1;)
    if (nodes[i].parent >= 0)
      {
        prose[nodes[i].parent] += prose[i];
        teasers[nodes[i].parent] += teasers[i];
        blocks[nodes[i].parent] += blocks[i];
        kinds[nodes[i].parent].data += kinds[i].data;
        kinds[nodes[i].parent].heading += kinds[i].heading;
        kinds[nodes[i].parent].title += kinds[i].title;
        kinds[nodes[i].parent].other += kinds[i].other;
        last_desc[nodes[i].parent] = MAX (last_desc[nodes[i].parent], last_desc[i]);
      }
  const char *top_class = node_attr (nodes[top].node, "class");
  for (guint i = parent + 1; i < w->nodes->len; i++)
    {
      Node *s = &nodes[i];
      if (s->parent != parent || (gint32) i == top)
        continue;
      double bonus = 0.0;
      const char *cls = node_attr (s->node, "class");
      if (top_class != NULL && cls != NULL && *cls != '\0' && strcmp (cls, top_class) == 0)
        bonus = top_score * 0.2;
      gboolean keep = FALSE;
      /* one paragraph in a box of its own beside the article (a site's
       * welcome text, an author's note) needs to be laid out like the
       * article or to score like half of it */
      if ((s->flags & NODE_CANDIDATE) && node_final (s) + bonus >= threshold
          && (bonus > 0.0 || blocks[i] >= 2 || same_style (s, &nodes[top]) || is_lead_box (s)))
        keep = TRUE;
      else if (s->tag == TAG_CAPTION && w->cfg->keep_captions)
        keep = TRUE;
      else if ((s->tag == TAG_P || s->tag == TAG_QUOTE || s->tag == TAG_PRE || s->tag == TAG_LIST)
               && s->text > 80 && node_link_density (s) < 0.25)
        keep = TRUE;
      if (keep)
        s->flags |= NODE_CHOSEN;
    }


  /* a box of teasers (a linked title and a line or two, twice or more) is
   * a list of other articles, however prose-like its lines */
  for (guint i = parent + 1; i <= last_desc[parent]; i++)
    if (nodes[i].parent == parent && (gint32) i != top && teasers[i] >= 2
        && nodes[i].text - MIN (nodes[i].link, nodes[i].text) < 250 * teasers[i])
      {
        nodes[i].flags &= ~NODE_CHOSEN;
        nodes[i].flags |= NODE_TEASERS;
      }
  if (join_continuations (w, top, parent, prose, blocks, kinds) == 0)
    {
      /* the text box of a forum post inside the post's box (with the
       * user's name and signature): the posts around are laid out like
       * that box; not an article with its title (the next one of an
       * endless page is laid out like it) */
      gint32 up = top;
      for (int level = 0; level < 2; level++)
        {
          gint32 a = nodes[up].parent, ap = a >= 0 ? nodes[a].parent : -1;
          if (ap < 0 || nodes[ap].tag == TAG_HTML || strcmp ((const char *) nodes[ap].node->name, "body") == 0
              || nodes[a].text > nodes[top].text * 2 + 200 || kinds[a].heading + kinds[a].title > 0)
            break;
          if (join_continuations (w, a, ap, prose, blocks, kinds) > 0)
            {
              nodes[a].flags |= NODE_CHOSEN;
              break;
            }
          up = a;
        }
    }
  join_lead (w, top, last_desc);
  if (nodes[parent].parent >= 0 && nodes[parent].tag != TAG_HTML
      && strcmp ((const char *) nodes[parent].node->name, "body") != 0)
    join_lead (w, parent, last_desc);
  g_free (prose);
  g_free (last_desc);
  g_free (teasers);
  g_free (blocks);
  g_free (kinds);
}

/* ------------------------------------------------------------ output */

static void
body_append (GString *body, const char *text, gsize len)
{
  if (body->len > 0)
    g_string_append (body, "\n\n");
  g_string_append_len (body, text, len);
}

static gboolean
text_equal_title (const char *text, gsize len, const char *title)
{
  return title != NULL && strlen (title) == len && memcmp (title, text, len) == 0;
}

/* The level of the heading block @i (2 to 6). */
static int
heading_level (Walk *w, guint i)
{
  const Block *b = &g_array_index (w->blocks, Block, i);
  const char *name = (const char *) g_array_index (w->nodes, Node, b->owner).node->name;
  return (name[0] == 'h' || name[0] == 'H') && name[1] >= '1' && name[1] <= '6' ? name[1] - '0' : 6;
}

/* A heading with no paragraph after it, left out. */
static void
note_heading (StripResult *res, Walk *w, guint pending)
{
  Block *h = &g_array_index (w->blocks, Block, pending);
  res->removed[STRIP_KIND_OTHER]++;
  strip_result_note_removed (res, STRIP_KIND_OTHER, w->arena->str + h->start, h->len);
}

/* Appends the article's blocks to @body; returns the characters added. */
static gsize
emit_article (Walk *w, GString *body, const char *const *titles, gboolean count)
{
  Node *nodes = (Node *) w->nodes->data;
  StripResult *res = w->res;
  guint8 *state = g_new0 (guint8, w->nodes->len);   /* 1 in article, 2 dropped inside it */
  guint8 *kind = g_new0 (guint8, w->nodes->len);
  guint32 root_text = 0;
  guint root_kinds = 0;   /* negative hints the article itself carries: layout words on this page */
  for (guint i = 0; i < w->nodes->len; i++)
    if (nodes[i].flags & NODE_CHOSEN)
      {
        root_text += nodes[i].text;
        if ((nodes[i].hints & HINT_NEGATIVE) && nodes[i].text > 0)
          root_kinds |= 1u << nodes[i].hint_kind;
      }
  for (guint i = 0; i < w->nodes->len; i++)
    {
      Node *n = &nodes[i];
      guint8 up = n->parent >= 0 ? state[n->parent] : 0;
      if (up == 2)
        {
          state[i] = 2;
          kind[i] = kind[n->parent];
        }
      else if (up == 1 || (n->flags & NODE_CHOSEN))
        {
          state[i] = 1;
          if ((n->hints & HINT_NEGATIVE) && !(n->flags & NODE_CHOSEN) && n->text * 2 < root_text
              && !(root_kinds & (1u << n->hint_kind)))
            {
              state[i] = 2;
              kind[i] = n->hint_kind;
            }
        }
    }

  double max_ld = w->cfg->aggressiveness <= 0 ? 0.7 : w->cfg->aggressiveness == 1 ? 0.5 : 0.35;
  /* prose_after[i]: a paragraph of the article follows block @i, so a
   * list of links there lies inside the text (the sources or the
   * programme an article lists), not after it */
  gboolean *prose_after = g_new0 (gboolean, w->blocks->len + 1);
  for (guint i = w->blocks->len; i-- > 0;)
    {
      const Block *b = &g_array_index (w->blocks, Block, i);
      prose_after[i] = prose_after[i + 1]
                       || (state[b->owner] == 1 && b->tag != TAG_LI && b->tag != TAG_HEADING && b->tag != TAG_H1
                           && b->chars >= 40 && block_link_density (b) < 0.3 && b->end_punct);
    }
  gsize added = 0;
  guint pending[3];
  guint n_pending = 0;
  for (guint i = 0; i < w->blocks->len; i++)
    {
      Block *b = &g_array_index (w->blocks, Block, i);
      const char *text = w->arena->str + b->start;
      StripKind drop = STRIP_N_KINDS;
      if (state[b->owner] == 0)
        drop = block_link_density (b) > 0.5 ? STRIP_KIND_NAVIGATION : STRIP_KIND_OTHER;
      else if (state[b->owner] == 2)
        drop = kind[b->owner];
      else if (b->tag == TAG_H1)
        drop = STRIP_KIND_TITLE;
      else if (b->time * 10 >= b->chars * 8)
        drop = STRIP_KIND_DATELINE;
      else if (text_equal_title (text, b->len, titles[0]) || text_equal_title (text, b->len, titles[1])
               || text_equal_title (text, b->len, titles[2]))
        drop = STRIP_KIND_TITLE;
      else if (block_link_density (b) > max_ld
               && !(b->tag == TAG_LI && added > 0 && prose_after[i + 1] && w->cfg->aggressiveness <= 1))
        drop = b->tag == TAG_LI ? STRIP_KIND_RELATED : STRIP_KIND_NAVIGATION;
      else if (b->tag != TAG_HEADING && b->tag != TAG_PRE && b->tag != TAG_TD)
        {
          /* bylines, datelines, share lines, credits... as in the text mode */
          drop = strip_text_line_kind_meta (text, b->len, w->cfg, count ? w->line_meta : NULL);
          if (drop == STRIP_KIND_CAPTION && w->cfg->keep_captions)
            drop = STRIP_N_KINDS;
          /* before the first paragraph, a label of up to three words
           * without a full stop is a section name or a kicker */
          if (drop == STRIP_N_KINDS && added == 0 && w->cfg->aggressiveness >= 1 && b->words <= 3
              && !b->end_punct && b->tag != TAG_LI && !block_is_cjk (b))
            drop = STRIP_KIND_NAVIGATION;
        }
      if (drop != STRIP_N_KINDS)
        {
          if (count)
            {
              res->removed[drop]++;
              strip_result_note_removed (res, drop, text, b->len);
            }
          continue;
        }
      /* a heading waits for body text; a heading followed by a smaller
       * one ("Questions", then the first question) waits with it */
      if (b->tag == TAG_HEADING)
        {
          if (n_pending > 0 && heading_level (w, pending[n_pending - 1]) >= heading_level (w, i))
            {
              if (count)
                for (guint k = 0; k < n_pending; k++)
                  note_heading (res, w, pending[k]);
              n_pending = 0;
            }
          if (n_pending == G_N_ELEMENTS (pending))
            {
              if (count)
                note_heading (res, w, pending[0]);
              memmove (pending, pending + 1, sizeof pending[0] * (n_pending - 1));
              n_pending--;
            }
          pending[n_pending++] = i;
          continue;
        }
      for (guint k = 0; k < n_pending; k++)
        {
          Block *h = &g_array_index (w->blocks, Block, pending[k]);
          body_append (body, w->arena->str + h->start, h->len);
          added += h->chars;
        }
      n_pending = 0;
      body_append (body, text, b->len);
      added += b->chars;
    }
  if (count)
    for (guint k = 0; k < n_pending; k++)
      note_heading (res, w, pending[k]);
  g_free (state);
  g_free (kind);
  g_free (prose_after);
  return added;
}

/* The prose blocks of the whole page, for pages where no container wins. */
static gsize
emit_prose (Walk *w, GString *body, gboolean use_stops)
{
  gsize added = 0;
  for (guint i = 0; i < w->blocks->len; i++)
    {
      Block *b = &g_array_index (w->blocks, Block, i);
      gboolean cjk = block_is_cjk (b);
      if (b->chars < (cjk ? 30u : 80u) || block_link_density (b) > 0.3 || b->tag == TAG_H1)
        continue;
      if (use_stops && !cjk && b->words > 0 && (double) b->stops / b->words < 0.15)
        continue;
      body_append (body, w->arena->str + b->start, b->len);
      added += b->chars;
    }
  return added;
}

/* ------------------------------------------------------------ metadata */

/* @value as ISO 8601 ("2019-10-08", or with a time "2019-10-08T14:03:00+02:00"),
 * NULL when it is not a date. */
static char *
iso_date (const char *value)
{
  if (value == NULL)
    return NULL;
  while (g_ascii_isspace (*value))
    value++;
  if (!(g_ascii_isdigit (value[0]) && g_ascii_isdigit (value[1]) && g_ascii_isdigit (value[2])
        && g_ascii_isdigit (value[3]) && value[4] == '-' && g_ascii_isdigit (value[5]) && g_ascii_isdigit (value[6])
        && value[7] == '-' && g_ascii_isdigit (value[8]) && g_ascii_isdigit (value[9])))
    return NULL;
  int year = atoi (value), month = atoi (value + 5), day = atoi (value + 8);
  if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1900 || year > 2200)
    return NULL;
  if (value[10] == 'T' || value[10] == ' ')
    {
      g_autofree char *copy = g_strstrip (g_strdup (value));
      copy[10] = 'T';
      g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (copy, utc);
      if (dt == NULL && strlen (copy) >= 19)
        {
          copy[19] = '\0';   /* drop a zone we cannot read, keep the local time */
          dt = g_date_time_new_from_iso8601 (copy, utc);
        }
      if (dt != NULL)
        {
          if (g_date_time_get_utc_offset (dt) == 0)
            return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
          return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S%:z");
        }
    }
  return g_strdup_printf ("%04d-%02d-%02d", year, month, day);
}

static const char *
ld_string (json_object *obj, const char *key)
{
  json_object *v;
  if (obj == NULL || !json_object_object_get_ex (obj, key, &v))
    return NULL;
  if (json_object_is_type (v, json_type_string))
    return json_object_get_string (v);
  return NULL;
}

/* Names of a JSON-LD author value: a string, {"name": ...} or an array of them. */
static char *
ld_author (json_object *obj)
{
  json_object *v;
  if (obj == NULL || !json_object_object_get_ex (obj, "author", &v))
    return NULL;
  g_autoptr(GString) names = g_string_new (NULL);
  size_t n = json_object_is_type (v, json_type_array) ? json_object_array_length (v) : 1;
  for (size_t i = 0; i < n && i < 10; i++)
    {
      json_object *item = json_object_is_type (v, json_type_array) ? json_object_array_get_idx (v, i) : v;
      const char *name = NULL;
      if (json_object_is_type (item, json_type_string))
        name = json_object_get_string (item);
      else if (json_object_is_type (item, json_type_object))
        name = ld_string (item, "name");
      if (name == NULL || *name == '\0')
        continue;
      if (names->len > 0)
        g_string_append (names, ", ");
      g_string_append (names, name);
    }
  return names->len > 0 ? g_string_free (g_steal_pointer (&names), FALSE) : NULL;
}

static void
meta_set (json_object *meta, const char *key, const char *value)
{
  if (value == NULL || json_object_object_get_ex (meta, key, NULL))
    return;
  g_autofree char *clean = g_strstrip (g_strdup (value));
  if (*clean == '\0' || !g_utf8_validate (clean, -1, NULL))
    return;
  json_object_object_add (meta, key, json_object_new_string (clean));
}

static const char *
walk_meta (Walk *w, const char *key)
{
  return g_hash_table_lookup (w->meta, key);
}

static void
fill_meta (Walk *w, json_object *meta)
{
  json_object *publisher = NULL;
  if (w->ld != NULL)
    json_object_object_get_ex (w->ld, "publisher", &publisher);

  meta_set (meta, "title", ld_string (w->ld, "headline"));
  meta_set (meta, "title", walk_meta (w, "og:title"));
  meta_set (meta, "title", walk_meta (w, "twitter:title"));
  meta_set (meta, "title", w->title_tag);

  g_autofree char *author = ld_author (w->ld);
  meta_set (meta, "author", author);
  meta_set (meta, "author", walk_meta (w, "author"));
  const char *article_author = walk_meta (w, "article:author");
  if (article_author != NULL && !g_str_has_prefix (article_author, "http"))
    meta_set (meta, "author", article_author);
  meta_set (meta, "author", walk_meta (w, "dc.creator"));
  /* no metadata names one: the element named as the author, or the
   * byline dropped from the article */
  meta_set (meta, "author", w->byline_box);
  json_object *byline = NULL;
  if (json_object_object_get_ex (w->line_meta, "author", &byline))
    meta_set (meta, "author", json_object_get_string (byline));

  const char *date_sources[] = {
    ld_string (w->ld, "datePublished"), walk_meta (w, "article:published_time"),
    walk_meta (w, "datepublished"), walk_meta (w, "date"), walk_meta (w, "pubdate"),
    walk_meta (w, "publishdate"), walk_meta (w, "dc.date"), walk_meta (w, "dc.date.issued"),
    walk_meta (w, "og:published_time"), w->time_datetime,
  };
  for (guint i = 0; i < G_N_ELEMENTS (date_sources); i++)
    {
      g_autofree char *date = iso_date (date_sources[i]);
      meta_set (meta, "date", date);
    }

  meta_set (meta, "url", walk_meta (w, "og:url"));
  meta_set (meta, "url", ld_string (w->ld, "url"));
  meta_set (meta, "url", w->canonical);

  meta_set (meta, "description", walk_meta (w, "description"));
  meta_set (meta, "description", walk_meta (w, "og:description"));
  meta_set (meta, "description", ld_string (w->ld, "description"));

  meta_set (meta, "site_name", walk_meta (w, "og:site_name"));
  if (publisher != NULL && json_object_is_type (publisher, json_type_object))
    meta_set (meta, "site_name", ld_string (publisher, "name"));

  const char *lang = w->html_lang;
  if (lang == NULL)
    lang = ld_string (w->ld, "inLanguage");
  if (lang == NULL)
    lang = walk_meta (w, "og:locale");
  if (lang == NULL)
    lang = walk_meta (w, "content-language");
  if (lang != NULL)
    {
      char code[16];
      gsize n = 0;
      while (g_ascii_isalpha (lang[n]) && n < 8)
        {
          code[n] = g_ascii_tolower (lang[n]);
          n++;
        }
      code[n] = '\0';
      if (n >= 2 && n <= 3)
        meta_set (meta, "language", code);
    }
}

/* ------------------------------------------------------------ entry point */

static void
json_free (gpointer obj)
{
  json_object_put (obj);
}

/* TRUE when @data looks like binary data rather than markup or text. */
static gboolean
looks_binary (const char *data, gsize len)
{
  gsize n = MIN (len, 65536), bad = 0;
  for (gsize i = 0; i < n; i++)
    {
      guchar c = data[i];
      if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f')
        bad++;
    }
  return n > 0 && bad * 20 > n;
}

static const char *
doc_language (Walk *w)
{
  const char *want = w->cfg->language;
  if (want != NULL && strcmp (want, "auto") != 0)
    return want;
  if (w->html_lang != NULL)
    for (guint i = 0; strip_lang_codes[i] != NULL; i++)
      if (g_ascii_strncasecmp (w->html_lang, strip_lang_codes[i], 2) == 0
          && !g_ascii_isalpha (w->html_lang[2]))
        return strip_lang_codes[i];
  return strip_lang_guess (w->arena->str, MIN (w->arena->len, 60000));
}

static void
walk_init (Walk *w, const StripConfig *cfg, StripResult *res, gsize len)
{
  w->cfg = cfg;
  w->res = res;
  w->nodes = g_array_sized_new (FALSE, FALSE, sizeof (Node), 1024);
  w->blocks = g_array_sized_new (FALSE, FALSE, sizeof (Block), 256);
  w->arena = g_string_sized_new (len / 4 + 64);
  w->cur = g_string_sized_new (1024);
  w->cur_owner = -1;
  w->current = -1;
  w->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  w->ld_docs = g_ptr_array_new_with_free_func (json_free);
  w->line_meta = json_object_new_object ();
  if (cfg->language != NULL && strcmp (cfg->language, "auto") != 0)
    w->hint_lang = cfg->language;
}

static void
walk_clear (Walk *w)
{
  g_array_unref (w->nodes);
  g_array_unref (w->blocks);
  g_string_free (w->arena, TRUE);
  g_string_free (w->cur, TRUE);
  g_free (w->title_tag);
  g_free (w->html_lang);
  g_free (w->canonical);
  g_free (w->time_datetime);
  g_hash_table_unref (w->meta);
  g_ptr_array_unref (w->ld_docs);
  json_object_put (w->line_meta);
  g_free (w->byline_box);
}

/* Is @i or one of its containers a comment section (by its class or id)?
 * <body> and <html> do not count ("has-comments" on <body>). */
static gboolean
in_comment_box (Walk *w, gint32 i)
{
  static const char *const stems[] = { "comment", "kommentar", "komentarz", "reactie", "disqus", "reply", "replies",
                                       "reviews", "bewertungen" };
  for (; i >= 0; i = g_array_index (w->nodes, Node, i).parent)
    {
      const xmlNode *node = g_array_index (w->nodes, Node, i).node;
      if (g_array_index (w->nodes, Node, i).tag == TAG_HTML || strcmp ((const char *) node->name, "body") == 0)
        break;
      const char *attrs[] = { node_attr (node, "class"), node_attr (node, "id") };
      for (guint a = 0; a < G_N_ELEMENTS (attrs); a++)
        {
          if (attrs[a] == NULL)
            continue;
          g_autofree char *lower = g_ascii_strdown (attrs[a], -1);
          for (guint k = 0; k < G_N_ELEMENTS (stems); k++)
            if (strstr (lower, stems[k]) != NULL && !comment_is_status (lower))
              return TRUE;
        }
    }
  return FALSE;
}

/* Walks the page, scores it and appends the article to @body, with the
 * fallbacks for a short result; returns the characters of the body.
 * @count: count what was removed in the result's stats. */
static gsize
extract (Walk *w, xmlNode *root, GString *body, gboolean count)
{
  w->page_prose = 0;
  w->page_text = size_tree (root, &w->page_prose);
  walk_tree (w, root);

  /* Prose signals in the page's language; off when its stopwords barely
   * occur (a language without a list). */
  w->lang = doc_language (w);
  guint64 words = 0, stops = 0;
  for (guint i = 0; i < w->blocks->len; i++)
    {
      Block *b = &g_array_index (w->blocks, Block, i);
      block_measure (b, w->arena->str + b->start, w->lang);
      words += b->words;
      stops += b->stops;
    }
  gboolean use_stops = words > 0 && stops * 20 > words;

  const char *titles[3] = { ld_string (w->ld, "headline"), walk_meta (w, "og:title"), w->title_tag };
  gint32 top = score_candidates (w, use_stops);
  gsize body_chars = 0;
  gsize start = body->len;
  if (top >= 0)
    {
      choose_article (w, top, use_stops);
      if (w->rescue)
        for (guint i = 0; i < w->nodes->len && !w->in_comments; i++)
          if (g_array_index (w->nodes, Node, i).flags & NODE_CHOSEN)
            w->in_comments = in_comment_box (w, i);
      body_chars = emit_article (w, body, titles, count);
    }

  /* Fallbacks when the chosen container holds little. */
  const char *ld_body = ld_string (w->ld, "articleBody");
  gsize ld_chars = ld_body != NULL ? g_utf8_strlen (ld_body, -1) : 0;
  if (ld_chars > 200 && body_chars * 2 < ld_chars)
    {
      g_string_truncate (body, start);
      g_auto(GStrv) paras = g_strsplit (ld_body, "\n", -1);
      for (guint i = 0; paras[i] != NULL; i++)
        {
          g_strstrip (paras[i]);
          if (paras[i][0] != '\0')
            body_append (body, paras[i], strlen (paras[i]));
        }
      body_chars = ld_chars;
    }
  else if (body_chars < 500 && !w->rescue)   /* the second pass reads every box: no comment sections here */
    {
      g_autoptr(GString) prose = g_string_new (NULL);
      gsize prose_chars = emit_prose (w, prose, use_stops);
      if (prose_chars > body_chars * 2)
        {
          g_string_truncate (body, start);
          g_string_append_len (body, prose->str, prose->len);
          body_chars = prose_chars;
        }
    }
  return body_chars;
}

gboolean
strip_html (const char *html, gsize len, const StripConfig *cfg, StripResult *res, GError **error)
{
  g_return_val_if_fail (html != NULL || len == 0, FALSE);
  g_return_val_if_fail (cfg != NULL && res != NULL, FALSE);

  /* libxml2 wants its global state set up once before threads parse */
  static gsize parser_ready = 0;
  if (g_once_init_enter (&parser_ready))
    {
      xmlInitParser ();
      g_once_init_leave (&parser_ready, 1);
    }

  if (res->meta == NULL)
    res->meta = json_object_new_object ();
  if (len == 0 || looks_binary (html, len))
    return TRUE;

  /* Cut huge pages at a tag boundary, repair invalid UTF-8 and NUL bytes. */
  g_autofree char *copy = NULL;
  if (len > HTML_MAX_INPUT)
    {
      gsize cut = HTML_MAX_INPUT;
      while (cut > HTML_MAX_INPUT / 2 && html[cut] != '<')
        cut--;
      len = cut;
    }
  if (!g_utf8_validate_len (html, len, NULL))
    {
      copy = g_utf8_make_valid (html, len);
      len = strlen (copy);
      html = copy;
    }

  /* Script and style bodies are half of a news page's bytes and the
   * slowest part of it to parse; the parser builds the same tree without
   * them. */
  g_autoptr(GString) pruned = g_string_sized_new (len + 1);   /* never grown: the copy is shorter */
  if (strip_html_prune (html, len, pruned))
    {
      html = pruned->str;
      len = pruned->len;
    }

  StripHtmlTree *tree = strip_html_tree_parse (html, len);
  xmlNode *root = tree != NULL ? strip_html_tree_root (tree) : NULL;
  if (root == NULL)
    {
      strip_html_tree_free (tree);
      return TRUE;
    }

  Walk w = { 0 };
  walk_init (&w, cfg, res, len);
  gsize body_chars = extract (&w, root, res->body, TRUE);

  /* A short result: a second pass where class hints and boilerplate tags
   * only lower scores and <noscript> copies are read, for pages whose
   * article sits in a box named like boilerplate ("sidebar-layout",
   * "social-article"), inside an unclosed <nav>, or only in a <noscript>
   * or <template>. Short articles (a few hundred characters) are common,
   * and on their pages the second pass often finds a longer comment
   * section: its result is taken from a comment section only when the
   * first one is empty (a thread of posts classed as comments), otherwise
   * when the first one is next to empty or it is four times as long. */
  if (body_chars < 500)
    {
      StripResult scratch = { 0 };
      Walk again = { 0 };
      walk_init (&again, cfg, &scratch, len);
      again.rescue = TRUE;
      g_autoptr(GString) body = g_string_new (NULL);
      gsize chars = extract (&again, root, body, FALSE);
      gboolean take = again.in_comments ? body_chars < 100
                                        : (body_chars < 250 && chars > body_chars * 2) || chars > body_chars * 4;
      if (take && chars > body_chars + 200)
        {
          g_string_truncate (res->body, 0);
          g_string_append_len (res->body, body->str, body->len);
        }
      walk_clear (&again);
    }

  fill_meta (&w, res->meta);
  walk_clear (&w);
  strip_html_tree_free (tree);
  return TRUE;
}
