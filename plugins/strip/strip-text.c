/* strip-text.c: boilerplate out of text converted from web pages.
 *
 * The text is cut into units: a line, or several lines joined when they
 * are one hard-wrapped paragraph. Each unit is classified in passes:
 *
 *   1. patterns that need no context: URL footers, share and subscribe
 *      lines, related-content teasers, editorial notes, datelines and
 *      timestamps, bylines, captions and photo credits, source and agency
 *      sign-offs, lines that are nothing but markup;
 *   2. position: the first unit that reads like prose starts the body;
 *      short lines before it are navigation labels, the title, agency
 *      lines; short lines after the last prose unit are footer debris;
 *   3. context: a short line that the next caption repeats is the
 *      caption's alt text; a lede repeated further down is kept once;
 *   4. at aggressiveness precision, short label-like lines anywhere.
 *
 * Body units keep their words: inline tags and markdown emphasis are
 * unwrapped, runs of spaces collapsed, and a paragraph that a blank line
 * broke in mid-sentence is joined again. What is metadata (title, author,
 * date, url, sources, section) goes to res->meta.
 *
 * Only short units (the boilerplate candidates) are lower-cased and
 * matched against the word lists; long units cost one scan, which keeps
 * the text mode well above 100 MB/s.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define KIND_BODY (-1)
/* Units longer than this (bytes) are never matched against word lists. */
#define SHORT_UNIT 400

typedef struct {
  gsize    off;        /* in Work.arena */
  gsize    len;
  guint32  words;
  gint8    kind;       /* a StripKind, or KIND_BODY */
  guint8   heading;    /* markdown heading level, 0 if none */
  guint8   terminal;   /* ends like a sentence */
  guint8   prose;      /* reads like a body paragraph */
  guint8   blank_before;
} Unit;

typedef struct {
  const StripConfig *cfg;
  StripResult       *res;
  StripTextRepairs  *rep;
  GString           *arena;  /* unit texts, spaces collapsed */
  GArray            *units;
  const char        *lang;   /* resolved lazily */
} Work;

/* ---- small UTF-8 and text helpers ------------------------------------- */

static inline gboolean
is_space (guchar c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The code point ending just before @end (after @start), and its start. */
static gunichar
prev_char (const char *start, const char *end, const char **at)
{
  const char *p = end;
  if (p <= start)
    {
      *at = start;
      return 0;
    }
  p--;
  while (p > start && ((guchar) *p & 0xC0) == 0x80)
    p--;
  *at = p;
  gunichar c = g_utf8_get_char_validated (p, end - p);
  return (c == (gunichar) -1 || c == (gunichar) -2) ? 0xFFFD : c;
}

static gboolean
is_closing (gunichar c)
{
  switch (c)
    {
    case '"': case '\'': case ')': case ']': case '*': case '_':
    case 0x2019: case 0x201D: case 0x00BB: case 0x203A: case 0x201C:
    case 0x0E42:   /* a quote lost to TIS-620, when repair did not run */
      return TRUE;
    default:
      return FALSE;
    }
}

/* TRUE when @s ends like a sentence: . ! ? … : ; before closing quotes. */
static gboolean
ends_terminal (const char *s, gsize len)
{
  const char *end = s + len;
  for (int guard = 0; guard < 8; guard++)
    {
      const char *at;
      gunichar c = prev_char (s, end, &at);
      if (c == 0)
        return FALSE;
      if (is_closing (c) || c == ' ')
        {
          end = at;
          continue;
        }
      return c == '.' || c == '!' || c == '?' || c == 0x2026 || c == ':' || c == ';'
             || c == 0x3002 || c == 0xFF01 || c == 0xFF1F;
    }
  return FALSE;
}

static gunichar
first_letter (const char *s, gsize len, gsize *at)
{
  const char *p = s, *end = s + len;
  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        return 0;
      if (g_unichar_isalnum (c))
        {
          if (at)
            *at = p - s;
          return c;
        }
      p = g_utf8_next_char (p);
    }
  return 0;
}

static gboolean
starts_lower (const char *s, gsize len)
{
  gunichar c = first_letter (s, len, NULL);
  return c != 0 && g_unichar_islower (c);
}

static gboolean
word_is_capitalised (const char *w, gsize len)
{
  gunichar c = g_utf8_get_char_validated (w, len);
  return c != (gunichar) -1 && c != (gunichar) -2 && (g_unichar_isupper (c) || g_unichar_istitle (c));
}

/* g_ascii_tolower() inline: it is called for every byte hashed. */
static inline guchar
ascii_lower (guchar c)
{
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* g_utf8_strdown(), without its per-character work for plain ASCII (the
 * usual case). ASCII with an 'I' still goes through GLib: a Turkish or
 * Azerbaijani locale lowers it to a dotless i. Documents reach the stage
 * as valid UTF-8; a direct caller's broken sequence becomes U+FFFD first,
 * as g_utf8_strdown() may read past the end of one. */
static char *
lower_dup (const char *s, gssize len)
{
  gsize n = 0;
  while ((len < 0 || (gsize) len > n) && s[n] != '\0')
    {
      guchar c = (guchar) s[n];
      if (c >= 0x80 || c == 'I')
        {
          gsize all = len < 0 ? strlen (s) : strnlen (s, (gsize) len);
          if (g_utf8_validate_len (s, all, NULL))
            return g_utf8_strdown (s, (gssize) all);
          g_autofree char *valid = g_utf8_make_valid (s, (gssize) all);
          return g_utf8_strdown (valid, -1);
        }
      n++;
    }
  char *out = g_malloc (n + 1);
  for (gsize i = 0; i < n; i++)
    out[i] = (char) ascii_lower ((guchar) s[i]);
  out[n] = '\0';
  return out;
}

/* Words (runs of non-spaces), counted up to 255: every threshold is lower.
 * A word starts at a non-space that is first or follows a space. */
static guint32
count_words (const char *s, gsize len)
{
  if (len == 0)
    return 0;
  guint32 n = s[0] != ' ';
  gsize i = 1;
#ifdef __SSE2__
  const __m128i space = _mm_set1_epi8 (' '), zero = _mm_setzero_si128 ();
  while (i + 16 <= len && n < 255)
    {
      /* up to 8 blocks of 16 bytes: each byte lane counts at most 8 starts */
      __m128i acc = zero;
      for (int k = 0; k < 8 && i + 16 <= len; k++, i += 16)
        {
          __m128i sp = _mm_cmpeq_epi8 (_mm_loadu_si128 ((const __m128i *) (s + i)), space);
          __m128i prev = _mm_cmpeq_epi8 (_mm_loadu_si128 ((const __m128i *) (s + i - 1)), space);
          acc = _mm_sub_epi8 (acc, _mm_andnot_si128 (sp, prev));   /* +1 per word start */
        }
      __m128i sums = _mm_sad_epu8 (acc, zero);
      n += (guint32) (_mm_cvtsi128_si32 (sums) + _mm_cvtsi128_si32 (_mm_unpackhi_epi64 (sums, sums)));
    }
#endif
  for (; i < len && n < 255; i++)
    n += s[i] != ' ' && s[i - 1] == ' ';
  return MIN (n, 255);
}

/* Does @lower (lower-case) start with @prefix followed by a non-letter? */
static gboolean
has_prefix_word (const char *lower, const char *prefix)
{
  gsize n = strlen (prefix);
  if (strncmp (lower, prefix, n) != 0)
    return FALSE;
  guchar next = (guchar) lower[n];
  if (next == '\0')
    return TRUE;
  gunichar c = g_utf8_get_char_validated (lower + n, -1);
  gunichar last = g_utf8_get_char (g_utf8_prev_char (lower + n));
  /* a prefix that ends in punctuation or space is complete by itself */
  if (!g_unichar_isalnum (last))
    return TRUE;
  return !(c != (gunichar) -1 && c != (gunichar) -2 && g_unichar_isalnum (c));
}

static gboolean
match_equal (const char *lower, const char *const *list)
{
  for (const char *const *p = list; *p; p++)
    if (strcmp (lower, *p) == 0)
      return TRUE;
  return FALSE;
}

/* ---- word lists (lower case; English, German, French, Spanish,
 * Portuguese, Russian, Ukrainian) ---------------------------------------- */

static const char *const share_prefixes[] = {
  "share this", "share on", "share article", "share the article", "share story", "share:", "share",
  "subscribe", "sign up", "follow us", "follow on", "like us on", "join us on", "click here", "tap here",
  "print this", "print article", "email this", "send by email", "tweet", "advertisement", "advertising",
  "sponsored", "accept cookies", "accept all", "we use cookies", "this site uses cookies", "comments",
  "leave a comment", "download our app", "get the app", "copyright", "all rights reserved",
  "teilen", "artikel teilen", "jetzt teilen", "abonnieren", "jetzt abonnieren", "folgen sie uns",
  "anzeige", "werbung", "kommentare", "partager", "partagez", "s'abonner", "abonnez-vous", "suivez-nous",
  "publicité", "commentaires", "compartir", "comparte", "suscríbete", "suscribirse", "síguenos",
  "publicidad", "comentarios", "compartilhe", "compartilhar", "assine", "siga-nos", "publicidade",
  "поделиться", "подписаться", "подпишитесь", "следите за нами", "реклама", "комментарии",
  "поділитися", "підписатися", "підпишіться", "стежте за нами", "коментарі",
  NULL
};
static const char *const share_contains_label[] = {
  "newsletter", "social media", "rss feed", NULL
};
static const char *const share_contains[] = {
  "cookie", "all rights reserved", "\xc2\xa9", "alle rechte vorbehalten",
  "tous droits réservés", "todos los derechos reservados", "todos os direitos reservados",
  "все права защищены", "всі права захищені",
  NULL
};
static const char *const related_prefixes[] = {
  "related article", "related articles", "related:", "related story", "related stories",
  "related coverage", "related content", "related news", "related", "read also", "read more",
  "also read", "see also", "more on this", "more from", "recommended", "you may also like",
  "you might also like", "most read", "most popular", "further reading", "watch:", "listen:",
  "lesen sie auch", "lesen sie mehr", "mehr zum thema", "auch interessant", "das könnte sie auch interessieren",
  "lire aussi", "à lire aussi", "a lire aussi", "voir aussi", "lire la suite", "sur le même sujet",
  "lea también", "lee también", "ver también", "leer más", "te puede interesar",
  "leia também", "leia mais", "veja também", "saiba mais",
  "читайте также", "смотрите также", "читать далее", "по теме", "читайте також", "дивіться також",
  "читати далі", "по темі",
  NULL
};
static const char *const note_prefixes[] = {
  "updated to add", "updated to include", "updated with", "updated throughout", "this story has been updated",
  "this article has been updated", "this story was updated", "this article was updated",
  "this story has been corrected", "this article has been corrected", "editor's note", "editor\xe2\x80\x99s note",
  "editors' note", "editors\xe2\x80\x99 note", "note:", "correction:", "clarification:",
  "an earlier version of this", "a previous version of this", "this is a developing story",
  "this story is developing", "this article is more than",
  "aktualisiert", "anmerkung der redaktion", "korrektur:", "hinweis der redaktion",
  "mise à jour", "article mis à jour", "note de la rédaction", "rectificatif",
  "actualizado", "actualización", "nota del editor", "nota de la redacción", "fe de errores",
  "atualizado", "atualização", "nota do editor", "nota da redação", "correção:",
  "обновлено", "примечание редакции", "материал дополнен", "оновлено", "примітка редакції",
  "матеріал доповнено",
  NULL
};
static const char *const source_prefixes[] = {
  "source:", "sources:", "source :", "sources :", "with reporting by", "additional reporting by",
  "reporting by", "quelle:", "quellen:", "mit material von", "fuente:", "fuentes:", "fonte:", "fontes:",
  "avec agences", "with agencies", "источник:", "источники:", "джерело:", "джерела:",
  NULL
};
static const char *const url_prefixes[] = {
  "original url", "original link", "source url", "url:", "link:", "permalink", "originally published",
  "this article originally appeared", "this story originally appeared", "read the original",
  "ursprünglich erschienen", "article original", "artículo original", "artigo original",
  "оригинал статьи", "оригінал статті", "источник: http", "quelle: http", "source: http",
  NULL
};
static const char *const nav_equal[] = {
  "home", "menu", "main menu", "navigation", "skip to content", "skip to main content", "back to top",
  "top", "search", "log in", "login", "sign in", "register", "news", "latest news", "top stories",
  "more", "next", "previous", "next article", "previous article", "startseite", "zurück", "nach oben",
  "suche", "accueil", "retour en haut", "rechercher", "inicio", "portada", "volver arriba", "buscar",
  "início", "voltar ao topo", "pesquisar", "главная", "наверх", "поиск", "головна", "вгору", "пошук",
  NULL
};
static const char *const nav_prefixes[] = {
  "tags:", "tags", "topics:", "themen:", "schlagwörter:", "mots-clés:", "sujets:", "etiquetas:", "temas:",
  "теги:", "тэги:", "мітки:", "темы:", "теми:", "you are here", "sie sind hier", "vous êtes ici",
  NULL
};
static const char *const nav_suffixes[] = {
  " section", " news", " rubrik", " rubrique", " sección", " seção", " раздел", " розділ", NULL
};
static const char *const caption_marks[] = {
  "Photo:", "Photo by", "Photos:", "Photograph:", "Photo credit", "Photo /", "(Photo", "Picture:",
  "Pictured:", "Image:", "Image credit", "Credit:", "Illustration:", "Foto:", "Fotos:", "Bild:",
  "Фото:", "фото:", "Фото ", "Getty Images", "via Reuters", "via AFP", "via AP", "Shutterstock",
  NULL
};
static const char *const agency_words[] = {
  "agency", "press", "news service", "wire", "agentur", "agence", "agencia", "agência", "агентство",
  "агенція", "reuters", "afp", "associated press", "dpa", "ansa", "efe", "tass", "ria", "interfax",
  "ukrinform", "xinhua", "bloomberg", NULL
};
static const char *const byline_prefixes[] = {
  "by ", "written by ", "author: ", "authors: ", "von ", "par ", "por ", "автор: ", "авторы: ", "автор ",
  "авторка: ", NULL
};
static const char *const name_connectors[] = {
  "and", "und", "et", "y", "e", "и", "і", "та", "de", "da", "do", "dos", "van", "von", "der", "den",
  "di", "la", "le", "du", "del", "bin", "al", "&", NULL
};

/* ---- lookups in the word lists ------------------------------------------
 *
 * The prefix lists are grouped by first byte, so a unit is compared only
 * with the prefixes that start like it; the lists searched anywhere in a
 * unit are looked for only where one of their first bytes occurs. Both
 * are built once and read-only afterwards, inside static storage. */

enum { PFX_NOTE, PFX_RELATED, PFX_SOURCE, PFX_URL, PFX_SHARE, PFX_NAV, N_PFX_LISTS };
enum { IN_SHARE_LABEL, IN_SHARE, IN_CAPTION, N_IN_LISTS };
#define LIST_MAX 96

G_STATIC_ASSERT (G_N_ELEMENTS (note_prefixes) <= LIST_MAX && G_N_ELEMENTS (related_prefixes) <= LIST_MAX
                 && G_N_ELEMENTS (source_prefixes) <= LIST_MAX && G_N_ELEMENTS (url_prefixes) <= LIST_MAX
                 && G_N_ELEMENTS (share_prefixes) <= LIST_MAX && G_N_ELEMENTS (nav_prefixes) <= LIST_MAX
                 && G_N_ELEMENTS (share_contains_label) <= LIST_MAX
                 && G_N_ELEMENTS (share_contains) <= LIST_MAX && G_N_ELEMENTS (caption_marks) <= LIST_MAX);

typedef struct {
  const char *word;
  guint8      len;
  guint8      open_end;   /* ends in a letter or digit: the unit must not go on with one */
} ListWord;

typedef struct {
  ListWord item[LIST_MAX];   /* grouped by first byte */
  guint8   start[257];       /* the words starting with byte b: item[start[b]] to item[start[b + 1]] */
} ListIndex;

static void
list_index_build (ListIndex *ix, const char *const *list)
{
  guint count[256] = { 0 };
  guint n = 0;
  for (const char *const *p = list; *p; p++, n++)
    count[(guchar) **p]++;
  guint at = 0;
  for (guint b = 0; b < 256; b++)
    {
      ix->start[b] = (guint8) at;
      at += count[b];
    }
  ix->start[256] = (guint8) at;
  guint fill[256];
  for (guint b = 0; b < 256; b++)
    fill[b] = ix->start[b];
  for (const char *const *p = list; *p; p++)
    {
      gsize len = strlen (*p);
      gunichar last = g_utf8_get_char (g_utf8_prev_char (*p + len));
      ix->item[fill[(guchar) **p]++] = (ListWord) { *p, (guint8) len, (guint8) g_unichar_isalnum (last) };
    }
}

typedef struct {
  ListIndex prefix[N_PFX_LISTS];
  ListIndex in[N_IN_LISTS];
} ListIndexes;

static const ListIndexes *
list_indexes (void)
{
  static gsize once = 0;
  static ListIndexes ix;
  if (g_once_init_enter (&once))
    {
      const char *const *prefix[N_PFX_LISTS] = {
        [PFX_NOTE] = note_prefixes, [PFX_RELATED] = related_prefixes, [PFX_SOURCE] = source_prefixes,
        [PFX_URL] = url_prefixes, [PFX_SHARE] = share_prefixes, [PFX_NAV] = nav_prefixes,
      };
      const char *const *in[N_IN_LISTS] = {
        [IN_SHARE_LABEL] = share_contains_label, [IN_SHARE] = share_contains, [IN_CAPTION] = caption_marks,
      };
      for (guint l = 0; l < N_PFX_LISTS; l++)
        list_index_build (&ix.prefix[l], prefix[l]);
      for (guint l = 0; l < N_IN_LISTS; l++)
        list_index_build (&ix.in[l], in[l]);
      g_once_init_leave (&once, 1);
    }
  return &ix;
}

/* Does @lower start with a prefix of the list, followed by a non-letter
 * (see has_prefix_word())? */
static gboolean
match_prefixes (const char *lower, guint list)
{
  const ListIndex *ix = &list_indexes ()->prefix[list];
  guchar b = (guchar) lower[0];
  for (guint i = ix->start[b]; i < ix->start[b + 1]; i++)
    {
      const ListWord *p = &ix->item[i];
      if (strncmp (lower, p->word, p->len) != 0)
        continue;
      if (lower[p->len] == '\0' || !p->open_end)
        return TRUE;
      gunichar c = g_utf8_get_char_validated (lower + p->len, -1);
      if (!(c != (gunichar) -1 && c != (gunichar) -2 && g_unichar_isalnum (c)))
        return TRUE;
    }
  return FALSE;
}

/* Does one word of the list occur in @s (NUL-terminated)? */
static gboolean
match_contains (const char *s, guint list)
{
  const ListIndex *ix = &list_indexes ()->in[list];
  for (const char *p = s; *p; p++)
    {
      guchar b = (guchar) *p;
      for (guint i = ix->start[b]; i < ix->start[b + 1]; i++)
        if (strncmp (p, ix->item[i].word, ix->item[i].len) == 0)
          return TRUE;
    }
  return FALSE;
}

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

/* A set of words pointing into the static word lists (no copies, no heap):
 * a word ends at a space, a dot, a colon or the end of the string. Filled
 * once, read-only afterwards. */
#define WORD_SLOTS 1024
typedef struct {
  const char *slot[WORD_SLOTS];
} WordIndex;

static inline gboolean
word_end (char c)
{
  return c == '\0' || c == ' ' || c == '.' || c == ':';
}

static guint
word_key_hash (const char *w)
{
  guint h = 5381;
  for (; !word_end (*w); w++)
    h = h * 33 + (guchar) *w;
  return h;
}

static gboolean
word_key_equal (const char *a, const char *b)
{
  for (; !word_end (*a) && !word_end (*b); a++, b++)
    if (*a != *b)
      return FALSE;
  return word_end (*a) && word_end (*b);
}

static void
word_index_add (WordIndex *ix, const char *w)
{
  if (word_end (*w))
    return;
  guint h = word_key_hash (w) & (WORD_SLOTS - 1);
  for (guint probe = 0; probe < WORD_SLOTS; probe++, h = (h + 1) & (WORD_SLOTS - 1))
    {
      if (ix->slot[h] == NULL)
        {
          ix->slot[h] = w;
          return;
        }
      if (word_key_equal (ix->slot[h], w))
        return;
    }
}

static gboolean
word_index_has (const WordIndex *ix, const char *w)
{
  guint h = word_key_hash (w) & (WORD_SLOTS - 1);
  for (guint probe = 0; probe < WORD_SLOTS; probe++, h = (h + 1) & (WORD_SLOTS - 1))
    {
      if (ix->slot[h] == NULL)
        return FALSE;
      if (word_key_equal (ix->slot[h], w))
        return TRUE;
    }
  return FALSE;
}

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
            word_index_add (&ix, p);
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
  g_autofree char *lower = lower_dup (w, len);
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
      g_autofree char *w = lower_dup (t.p, wl);
      static const char *const at[] = { "at", "um", "à", "a", "às", "в", "о", "kl", NULL };
      if (match_equal (w, at))
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
static gboolean
parse_dateline (const char *s, gsize len, char **published, char **updated)
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
      g_autofree char *word = lower_dup (c.p, wl);
      gboolean label = word_index_has (date_label_words (), word);
      if (label)
        {
          c.p += wl;
          if (match_equal (word, updated_labels))
            next_updated = TRUE;
        }
      if (label)
        continue;
      /* a place name before the first comma: up to three capitalised words */
      if (place_ok && !any)
        {
          const char *comma = memchr (c.p, ',', c.end - c.p);
          if (comma != NULL && count_words (c.p, comma - c.p) <= 3 && word_is_capitalised (c.p, wl))
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

/* ---- markup ------------------------------------------------------------ */

static const char *const inline_tags[] = {
  "u", "b", "i", "em", "strong", "span", "a", "font", "mark", "small", "big", "sup", "sub", "s", "del",
  "ins", "cite", "q", "abbr", "code", "tt", "time", "strike", NULL
};
static const char *const block_tags[] = {
  "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section",
  "article", "figure", "figcaption", "img", "hr", "table", "tr", "td", "th", "tbody", "thead",
  "header", "footer", "nav", "aside", "main", "center", "dl", "dt", "dd", "pre", "iframe", "picture",
  "source", "video", "audio", NULL
};

/* Length of an HTML tag of a known name at @p ('<'), or 0. *block: a tag
 * that separates words. */
static gsize
tag_len (const char *p, const char *end, gboolean *block)
{
  const char *q = p + 1;
  if (q < end && *q == '/')
    q++;
  const char *name = q;
  while (q < end && g_ascii_isalnum (*q))
    q++;
  gsize n = q - name;
  if (n == 0 || n > 10 || q >= end || !(*q == '>' || *q == ' ' || *q == '/' || *q == '\t'))
    return 0;
  char lname[12];
  for (gsize i = 0; i < n; i++)
    lname[i] = g_ascii_tolower (name[i]);
  lname[n] = '\0';
  if (match_equal (lname, inline_tags))
    *block = FALSE;
  else if (match_equal (lname, block_tags))
    *block = TRUE;
  else
    return 0;
  const char *limit = MIN (end, p + 600);
  const char *close = memchr (q, '>', limit - q);
  if (close == NULL)
    return 0;
  return close + 1 - p;
}

/* Bytes where unwrap_append() looks closer. */
static const guint8 unwrap_special[256] = {
  ['<'] = 1, ['*'] = 1, ['_'] = 1, ['['] = 1, ['!'] = 1,
};

/* The first byte in [@q, @end) that unwrap_append() looks closer at. */
static const char *
find_special (const char *q, const char *end)
{
#ifdef __SSE2__
  const __m128i lt = _mm_set1_epi8 ('<'), star = _mm_set1_epi8 ('*'), under = _mm_set1_epi8 ('_');
  const __m128i bracket = _mm_set1_epi8 ('['), bang = _mm_set1_epi8 ('!');
  while (q + 16 <= end)
    {
      __m128i v = _mm_loadu_si128 ((const __m128i *) q);
      __m128i hit = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (v, lt), _mm_cmpeq_epi8 (v, star)),
                                  _mm_or_si128 (_mm_cmpeq_epi8 (v, under), _mm_cmpeq_epi8 (v, bracket)));
      int mask = _mm_movemask_epi8 (_mm_or_si128 (hit, _mm_cmpeq_epi8 (v, bang)));
      if (mask != 0)
        return q + __builtin_ctz ((unsigned) mask);
      q += 16;
    }
#endif
  while (q < end && !unwrap_special[(guchar) *q])
    q++;
  return q;
}

static inline gboolean
is_word_byte (guchar c)
{
  return g_ascii_isalnum (c) || c >= 0x80;
}

/* Appends @s to @out with inline tags, markdown emphasis and markdown
 * links unwrapped (their words kept), images dropped and runs of spaces
 * collapsed. Returns the number of remnants unwrapped. */
static gint64
unwrap_append (GString *out, const char *s, gsize len)
{
  gint64 n = 0;
  const char *p = s, *end = s + len;
  const char *pending_close = NULL;   /* the closing '*' of a single-star emphasis */
  gsize start_len = out->len;
  while (p < end)
    {
      /* copy the run without anything special in one go */
      if (*p == ' ' && (out->len == start_len || out->str[out->len - 1] == ' '))
        {
          p++;
          continue;
        }
      const char *q = find_special (p, end);
      if (q > p)
        {
          g_string_append_len (out, p, q - p);
          p = q;
          if (p >= end)
            break;
        }
      char c = *p;
      if (c == ' ')
        {
          if (out->len > start_len && out->str[out->len - 1] != ' ')
            g_string_append_c (out, ' ');
          p++;
          continue;
        }
      if (c == '<')
        {
          gboolean block = FALSE;
          gsize tl = tag_len (p, end, &block);
          if (tl > 0)
            {
              if (block && out->len > start_len && out->str[out->len - 1] != ' ')
                g_string_append_c (out, ' ');
              p += tl;
              n++;
              continue;
            }
        }
      else if ((c == '*' || c == '_') && p + 1 < end && p[1] == c)
        {
          /* ** and __ : drop when they touch a word on one side */
          gboolean before = p > s && !is_space ((guchar) p[-1]);
          gboolean after = p + 2 < end && !is_space ((guchar) p[2]);
          if (before || after || p + 2 == end || p == s)
            {
              p += 2;
              n++;
              continue;
            }
        }
      else if (c == '*')
        {
          if (p == pending_close)
            {
              pending_close = NULL;
              p++;
              continue;
            }
          gboolean open = (p == s || !is_word_byte ((guchar) p[-1])) && p + 1 < end && !is_space ((guchar) p[1])
                          && p[1] != '*';
          if (open)
            {
              const char *limit = MIN (end, p + 300);
              for (const char *k = p + 2; k < limit; k++)
                if (*k == '*' && !is_space ((guchar) k[-1]) && (k + 1 == end || !is_word_byte ((guchar) k[1])))
                  {
                    pending_close = k;
                    break;
                  }
              if (pending_close != NULL)
                {
                  p++;
                  n++;
                  continue;
                }
            }
        }
      else if (c == '!' && p + 1 < end && p[1] == '[')
        {
          /* ![alt](url): an image, dropped */
          const char *rb = memchr (p + 2, ']', MIN ((gsize) (end - p - 2), (gsize) 400));
          if (rb != NULL && rb + 1 < end && rb[1] == '(')
            {
              const char *rp = memchr (rb + 2, ')', MIN ((gsize) (end - rb - 2), (gsize) 800));
              if (rp != NULL)
                {
                  p = rp + 1;
                  n++;
                  continue;
                }
            }
        }
      else if (c == '[')
        {
          /* [text](url) -> text */
          const char *rb = memchr (p + 1, ']', MIN ((gsize) (end - p - 1), (gsize) 400));
          if (rb != NULL && rb + 1 < end && rb[1] == '(')
            {
              const char *rp = memchr (rb + 2, ')', MIN ((gsize) (end - rb - 2), (gsize) 800));
              if (rp != NULL && memchr (rb + 2, ' ', rp - rb - 2) == NULL)
                {
                  gint64 inner = unwrap_append (out, p + 1, rb - p - 1);
                  n += inner + 1;
                  p = rp + 1;
                  continue;
                }
            }
        }
      g_string_append_c (out, c);
      p++;
    }
  /* no trailing space */
  while (out->len > start_len && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  return n;
}

/* The unit's text without markup (for meta values and matching); @n gets
 * the number of remnants, if not NULL. */
static char *
plain_text (const char *s, gsize len, gint64 *n)
{
  GString *out = g_string_sized_new (len + 1);
  gint64 k = unwrap_append (out, s, len);
  if (n)
    *n = k;
  /* leading heading marks, quote marks and list bullets */
  gsize skip = 0;
  while (skip < out->len && (out->str[skip] == '#' || out->str[skip] == '>' || out->str[skip] == ' '))
    skip++;
  g_string_erase (out, 0, skip);
  return g_string_free (out, FALSE);
}

static gboolean
has_letters (const char *s, gsize len)
{
  return first_letter (s, len, NULL) != 0;
}

/* ---- building units ------------------------------------------------------ */

typedef struct {
  const char *p;
  gsize       len;
} Span;

static Span
trim (const char *p, gsize len)
{
  while (len > 0 && (is_space ((guchar) *p)))
    p++, len--;
  while (len > 0 && is_space ((guchar) p[len - 1]))
    len--;
  /* no-break spaces at the edges too */
  while (len >= 2 && (guchar) p[0] == 0xC2 && (guchar) p[1] == 0xA0)
    p += 2, len -= 2;
  while (len >= 2 && (guchar) p[len - 2] == 0xC2 && (guchar) p[len - 1] == 0xA0)
    len -= 2;
  return (Span) { p, len };
}

/* The first tab, CR, or space before a space or a tab in [@q, @end). */
static const char *
find_space_run (const char *q, const char *end)
{
#ifdef __SSE2__
  const __m128i tab = _mm_set1_epi8 ('\t'), cr = _mm_set1_epi8 ('\r'), space = _mm_set1_epi8 (' ');
  while (q + 17 <= end)
    {
      __m128i v = _mm_loadu_si128 ((const __m128i *) q);
      __m128i next = _mm_loadu_si128 ((const __m128i *) (q + 1));
      __m128i hit = _mm_or_si128 (_mm_cmpeq_epi8 (v, tab), _mm_cmpeq_epi8 (v, cr));
      __m128i next_blank = _mm_or_si128 (_mm_cmpeq_epi8 (next, space), _mm_cmpeq_epi8 (next, tab));
      hit = _mm_or_si128 (hit, _mm_and_si128 (_mm_cmpeq_epi8 (v, space), next_blank));
      int mask = _mm_movemask_epi8 (hit);
      if (mask != 0)
        return q + __builtin_ctz ((unsigned) mask);
      q += 16;
    }
#endif
  while (q < end && *q != '\t' && *q != '\r' && !(*q == ' ' && q + 1 < end && (q[1] == ' ' || q[1] == '\t')))
    q++;
  return q;
}

/* Appends @s to the arena with runs of spaces and tabs collapsed. */
static void
arena_append (GString *arena, const char *s, gsize len)
{
  const char *p = s, *end = s + len;
  while (p < end)
    {
      /* copy up to a tab, a CR or two spaces in one go */
      const char *q = find_space_run (p, end);
      g_string_append_len (arena, p, q - p);
      if (q >= end)
        break;
      g_string_append_c (arena, ' ');
      while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
        q++;
      p = q;
    }
}

static void
unit_finish (Work *w, Unit *u)
{
  const char *s = w->arena->str + u->off;
  gsize i = 0;
  while (i < u->len && s[i] == '#' && i < 6)
    i++;
  if (i > 0 && i < u->len && s[i] == ' ')
    u->heading = (guint8) i;
  u->words = count_words (s, u->len);
  u->terminal = ends_terminal (s, u->len);
  u->kind = KIND_BODY;
}

/* Lines of one block (no blank line between them) become units; a block
 * whose lines mostly do not end a sentence is a hard-wrapped paragraph. */
static void
add_block (Work *w, const Span *lines, guint n, gboolean blank_before)
{
  guint open = 0;
  for (guint i = 0; i + 1 < n; i++)
    if (!ends_terminal (lines[i].p, lines[i].len) && lines[i].len >= 30)
      open++;
  gboolean wrapped = n >= 3 && open * 10 >= (n - 1) * 6;
  Unit cur = { 0 };
  gboolean have = FALSE;
  for (guint i = 0; i < n; i++)
    {
      const Span *l = &lines[i];
      if (have)
        {
          const char *prev = w->arena->str + cur.off;
          gboolean join = FALSE;
          if (!ends_terminal (prev, cur.len) && cur.len >= 30 && l->p[0] != '#'
              && !(l->len >= 2 && l->p[0] == '*' && l->p[1] == '*'))
            join = wrapped || starts_lower (l->p, l->len) || (n == 2 && cur.len >= 60 && l->len >= 20);
          if (join)
            {
              g_string_append_c (w->arena, ' ');
              arena_append (w->arena, l->p, l->len);
              cur.len = w->arena->len - cur.off;
              if (w->rep)
                w->rep->lines_joined++;
              continue;
            }
          unit_finish (w, &cur);
          g_array_append_val (w->units, cur);
          blank_before = FALSE;
        }
      cur = (Unit) { 0 };
      cur.off = w->arena->len;
      cur.blank_before = blank_before;
      arena_append (w->arena, l->p, l->len);
      cur.len = w->arena->len - cur.off;
      have = TRUE;
    }
  if (have)
    {
      unit_finish (w, &cur);
      g_array_append_val (w->units, cur);
    }
}

static void
split_units (Work *w, const char *text, gsize len)
{
  g_autoptr(GArray) block = g_array_new (FALSE, FALSE, sizeof (Span));
  const char *p = text, *end = text + len;
  gboolean blank_before = FALSE;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *le = nl ? nl : end;
      Span l = trim (p, le - p);
      if (l.len == 0)
        {
          if (block->len > 0)
            add_block (w, (Span *) block->data, block->len, blank_before);
          g_array_set_size (block, 0);
          blank_before = TRUE;
        }
      else
        g_array_append_val (block, l);
      p = nl ? nl + 1 : end;
    }
  if (block->len > 0)
    add_block (w, (Span *) block->data, block->len, blank_before);
}

/* ---- meta --------------------------------------------------------------- */

static void
meta_set (Work *w, const char *key, const char *value)
{
  if (value == NULL || *value == '\0' || json_object_object_get_ex (w->res->meta, key, NULL))
    return;
  json_object_object_add (w->res->meta, key, json_object_new_string (value));
}

static void
meta_add_source (Work *w, const char *s, gsize len)
{
  Span t = trim (s, len);
  while (t.len > 0 && (t.p[t.len - 1] == '.' || t.p[t.len - 1] == ',' || t.p[t.len - 1] == ')'
                       || t.p[t.len - 1] == ';'))
    t.len--;
  while (t.len > 0 && (t.p[0] == '(' || t.p[0] == '/' || t.p[0] == ' '))
    t.p++, t.len--;
  if (t.len == 0 || t.len > 80 || !has_letters (t.p, t.len))
    return;
  json_object *arr = NULL;
  if (!json_object_object_get_ex (w->res->meta, "sources", &arr))
    {
      arr = json_object_new_array ();
      json_object_object_add (w->res->meta, "sources", arr);
    }
  for (size_t i = 0; i < json_object_array_length (arr); i++)
    {
      const char *have = json_object_get_string (json_object_array_get_idx (arr, i));
      if (strlen (have) == t.len && strncmp (have, t.p, t.len) == 0)
        return;
    }
  json_object_array_add (arr, json_object_new_string_len (t.p, (int) t.len));
}

/* "BBC, Reuters and AFP" -> three sources. */
static void
meta_add_sources (Work *w, const char *s)
{
  g_autofree char *copy = g_strdup (s);
  static const char *const joins[] = { " and ", " und ", " et ", " y ", " e ", " и ", " і ", " та ", NULL };
  for (const char *const *j = joins; *j; j++)
    {
      char *at;
      while ((at = strstr (copy, *j)) != NULL)
        {
          *at = ';';
          memmove (at + 1, at + strlen (*j), strlen (at + strlen (*j)) + 1);
        }
    }
  g_auto(GStrv) parts = g_strsplit_set (copy, ",;/", -1);
  for (char **p = parts; *p; p++)
    meta_add_source (w, *p, strlen (*p));
}

static const char *
find_url (const char *s, gsize *len)
{
  const char *u = strstr (s, "http://");
  const char *v = strstr (s, "https://");
  if (u == NULL || (v != NULL && v < u))
    u = v;
  if (u == NULL)
    u = strstr (s, "www.");
  if (u == NULL)
    return NULL;
  gsize n = 0;
  while (u[n] && !is_space ((guchar) u[n]) && u[n] != '<' && u[n] != '>' && u[n] != '"')
    n++;
  while (n > 0 && strchr (".,;:)]*_", u[n - 1]) != NULL)
    n--;
  *len = n;
  return n > 8 ? u : NULL;
}

static void
meta_set_url (Work *w, const char *plain)
{
  gsize n = 0;
  const char *u = find_url (plain, &n);
  if (u == NULL)
    return;
  g_autofree char *url = g_strndup (u, n);
  meta_set (w, "url", url);
}

/* ---- classification ------------------------------------------------------ */

static gboolean
is_bare_url (const char *plain)
{
  gsize n = 0;
  const char *u = find_url (plain, &n);
  if (u == NULL)
    return FALSE;
  Span rest = trim (u + n, strlen (u + n));
  Span before = trim (plain, u - plain);
  return rest.len <= 1 && before.len <= 1;
}

/* "(jh)", "(lf/mk)", "(MPA)", "/ REL (A2 Televizion)": a sign-off. */
static gboolean
is_signoff (const char *plain, gsize len)
{
  if (len < 3 || len > 48)
    return FALSE;
  if (plain[0] == '(' && plain[len - 1] == ')')
    {
      for (gsize i = 1; i + 1 < len; i++)
        {
          guchar c = (guchar) plain[i];
          if (!(g_ascii_isalpha (c) || c == '/' || c == ',' || c == ' ' || c == '.' || c == '-' || c >= 0x80))
            return FALSE;
        }
      return len <= 24;
    }
  if (plain[0] == '/' || (len > 3 && (guchar) plain[0] == 0xE2 && (guchar) plain[1] == 0x80
                          && ((guchar) plain[2] == 0x94 || (guchar) plain[2] == 0x93)))
    return count_words (plain, len) <= 6 && !ends_terminal (plain, len - (plain[len - 1] == ')'));
  return FALSE;
}

/* "Name Name / AGENCY" at the end of a short line without a full stop:
 * a photo credit. */
static gboolean
ends_with_credit (const char *plain, gsize len)
{
  const char *slash = NULL;
  for (const char *p = plain + len; p > plain; p--)
    if (p[-1] == '/')
      {
        slash = p - 1;
        break;
      }
  if (slash == NULL || slash == plain || slash[-1] != ' ' || slash + 1 >= plain + len || slash[1] != ' ')
    return FALSE;
  Span after = trim (slash + 1, plain + len - slash - 1);
  if (after.len == 0 || count_words (after.p, after.len) > 4 || !word_is_capitalised (after.p, after.len))
    return FALSE;
  /* the credited name: the words after the last ". " before the slash */
  const char *seg = plain;
  for (const char *p = slash; p > plain + 1; p--)
    if (p[-2] == '.' && p[-1] == ' ')
      {
        seg = p;
        break;
      }
  Span name = trim (seg, slash - seg);
  if (name.len == 0 || count_words (name.p, name.len) > 4)
    return FALSE;
  for (const char *p = name.p; p < name.p + name.len;)
    {
      if (!word_is_capitalised (p, name.p + name.len - p))
        return FALSE;
      const char *sp = memchr (p, ' ', name.p + name.len - p);
      p = sp ? sp + 1 : name.p + name.len;
    }
  return TRUE;
}

/* Byline: "By Name Name[, Agency][ — date]". Sets meta. */
static gboolean
try_byline (Work *w, const char *plain, const char *lower)
{
  const char *rest = NULL;
  for (const char *const *p = byline_prefixes; *p; p++)
    if (strncmp (lower, *p, strlen (*p)) == 0)
      {
        /* the lower-cased prefix has the same byte length for these words */
        rest = plain + strlen (*p);
        break;
      }
  if (rest == NULL)
    return FALSE;
  Span r = trim (rest, strlen (rest));
  if (r.len == 0 || r.len > 160 || count_words (r.p, r.len) > 12)
    return FALSE;
  /* cut at a dash or a bar: what follows may be a date */
  gsize name_end = r.len;
  const char *tail = NULL;
  static const char *const seps[] = { " \xe2\x80\x94 ", " \xe2\x80\x93 ", " - ", " | ", NULL };
  for (const char *const *s = seps; *s; s++)
    {
      const char *at = g_strstr_len (r.p, r.len, *s);
      if (at != NULL && (gsize) (at - r.p) < name_end)
        {
          name_end = at - r.p;
          tail = at + strlen (*s);
        }
    }
  /* the name: words up to the first comma, all capitalised or connectors */
  const char *comma = memchr (r.p, ',', name_end);
  gsize author_len = comma ? (gsize) (comma - r.p) : name_end;
  Span author = trim (r.p, author_len);
  if (author.len == 0 || count_words (author.p, author.len) > 6)
    return FALSE;
  g_autofree char *author_copy = g_strndup (author.p, author.len);
  g_auto(GStrv) words = g_strsplit (author_copy, " ", -1);
  gboolean ok = TRUE;
  for (char **wd = words; *wd; wd++)
    {
      if (**wd == '\0')
        continue;
      g_autofree char *lw = lower_dup (*wd, -1);
      if (!word_is_capitalised (*wd, strlen (*wd)) && !match_equal (lw, name_connectors))
        ok = FALSE;
    }
  if (!ok || (ends_terminal (author.p, author.len) && author.p[author.len - 1] != '.'))
    return FALSE;
  g_autofree char *name = g_strndup (author.p, author.len);
  meta_set (w, "author", name);
  if (comma != NULL)
    {
      g_autofree char *org = g_strndup (comma + 1, name_end - (comma + 1 - r.p));
      Span o = trim (org, strlen (org));
      if (o.len > 0)
        {
          char *pub = NULL, *upd = NULL;
          if (parse_dateline (o.p, o.len, &pub, &upd))
            {
              meta_set (w, "date", pub);
              meta_set (w, "updated", upd);
            }
          else
            meta_add_sources (w, org);
          g_free (pub);
          g_free (upd);
        }
    }
  if (tail != NULL)
    {
      char *pub = NULL, *upd = NULL;
      if (parse_dateline (tail, r.p + r.len - tail, &pub, &upd))
        {
          meta_set (w, "date", pub);
          meta_set (w, "updated", upd);
        }
      g_free (pub);
      g_free (upd);
    }
  return TRUE;
}

static gboolean
is_breadcrumb (const char *plain, gsize len, guint32 words)
{
  if (words > 14)
    return FALSE;
  static const char *const seps[] = { " > ", " \xc2\xbb ", " | ", " / ", " \xe2\x80\xba ", NULL };
  for (const char *const *s = seps; *s; s++)
    {
      guint parts = 1, longest = 0, cur = 0;
      const char *p = plain, *end = plain + len;
      gsize sl = strlen (*s);
      while (p < end)
        {
          const char *at = g_strstr_len (p, end - p, *s);
          const char *stop = at ? at : end;
          cur = count_words (p, stop - p);
          longest = MAX (longest, cur);
          if (at == NULL)
            break;
          parts++;
          p = at + sl;
        }
      if (parts >= 3 && longest <= 3)
        return TRUE;
    }
  return FALSE;
}

/* The first words of the note, related and source prefixes, lower case. */
static const WordIndex *
label_first_words (void)
{
  static gsize once = 0;
  static WordIndex ix;
  if (g_once_init_enter (&once))
    {
      const char *const *lists[] = { note_prefixes, related_prefixes, source_prefixes };
      for (gsize l = 0; l < G_N_ELEMENTS (lists); l++)
        for (const char *const *p = lists[l]; *p; p++)
          word_index_add (&ix, *p);
      g_once_init_leave (&once, 1);
    }
  return &ix;
}

/* The first words of every prefix list, lower case (full path). */
static const WordIndex *
prefix_first_words (void)
{
  static gsize once = 0;
  static WordIndex ix;
  if (g_once_init_enter (&once))
    {
      const char *const *lists[] = { note_prefixes, related_prefixes, source_prefixes, url_prefixes,
                                     share_prefixes, nav_prefixes, byline_prefixes };
      for (gsize l = 0; l < G_N_ELEMENTS (lists); l++)
        for (const char *const *p = lists[l]; *p; p++)
          word_index_add (&ix, *p);
      g_once_init_leave (&once, 1);
    }
  return &ix;
}

static gboolean
first_word_is_prefix (const char *lower)
{
  return word_index_has (prefix_first_words (), lower);
}

/* Could a long sentence @s be a note, a related teaser or a source line?
 * Only when its first word starts one of those prefixes (or it starts
 * with markup). */
static gboolean
starts_like_label (const char *s, gsize len)
{
  if (len == 0 || !g_ascii_isalpha (s[0]))
    return TRUE;
  char word[32];
  gsize n = 0;
  while (n < len && n < sizeof word - 1 && s[n] != ' ' && s[n] != ':')
    {
      if ((guchar) s[n] >= 0x80)
        return TRUE;   /* not ASCII: let the full check decide */
      word[n] = g_ascii_tolower (s[n]);
      n++;
    }
  word[n] = '\0';
  return word_index_has (label_first_words (), word);
}

/* Pass 1: kinds that need no context. */
static void
classify_patterns (Work *w, Unit *u, gboolean *expect_url)
{
  const char *s = w->arena->str + u->off;
  if (u->len > SHORT_UNIT)
    return;
  if (u->words > 16 && u->terminal)
    {
      /* a sentence of some length: only a note, a related teaser or a
       * source line can start like one; look at its first bytes */
      if (!starts_like_label (s, u->len))
        {
          *expect_url = FALSE;
          return;
        }
      gsize n = MIN (u->len, (gsize) 96);
      while (n > 0 && n < u->len && ((guchar) s[n] & 0xC0) == 0x80)
        n--;
      g_autofree char *head = plain_text (s, n, NULL);
      g_autofree char *lower = lower_dup (head, -1);
      if (u->words <= 40 && match_prefixes (lower, PFX_NOTE) && !has_prefix_word (lower, "note"))
        u->kind = STRIP_KIND_NOTE;
      else if (u->words <= 30 && match_prefixes (lower, PFX_RELATED) && strchr (head, ':') != NULL)
        u->kind = STRIP_KIND_RELATED;
      else if (u->words <= 24 && match_prefixes (lower, PFX_SOURCE))
        {
          g_autofree char *plain = plain_text (s, u->len, NULL);
          const char *colon = strchr (plain, ':');
          if (colon != NULL)
            meta_add_sources (w, colon + 1);
          u->kind = STRIP_KIND_SOURCE;
        }
      *expect_url = FALSE;
      return;
    }
  gint64 nmarks = 0;
  g_autofree char *plain = plain_text (s, u->len, &nmarks);
  gsize plen = strlen (plain);
  if (!has_letters (plain, plen))
    {
      u->kind = STRIP_KIND_MARKUP;
      return;
    }
  g_autofree char *lower = lower_dup (plain, plen);
  guint32 words = count_words (plain, plen);
  gboolean terminal = ends_terminal (plain, plen);
  gboolean pfx = first_word_is_prefix (lower);

  if (*expect_url && is_bare_url (plain))
    {
      meta_set_url (w, plain);
      u->kind = STRIP_KIND_URL;
      *expect_url = FALSE;
      return;
    }
  *expect_url = FALSE;
  if (words <= 16 && pfx && match_prefixes (lower, PFX_URL))
    {
      gsize n;
      if (find_url (plain, &n) != NULL)
        meta_set_url (w, plain);
      else
        *expect_url = TRUE;
      u->kind = STRIP_KIND_URL;
      return;
    }
  if (words <= 3 && is_bare_url (plain))
    {
      u->kind = STRIP_KIND_URL;
      return;
    }
  if (is_signoff (plain, plen))
    {
      /* upper-case codes are agencies, lower-case ones an editor's initials */
      const char *q = plain;
      while (*q == '(' || *q == '/' || *q == ' ' || (guchar) *q == 0xE2 || (guchar) *q == 0x80
             || (guchar) *q == 0x94 || (guchar) *q == 0x93)
        q++;
      if (g_ascii_isupper (*q) || ((guchar) *q >= 0x80 && word_is_capitalised (q, strlen (q))))
        {
          g_autofree char *inner = g_strdup (q);
          g_strdelimit (inner, "()", ',');
          meta_add_sources (w, inner);
        }
      u->kind = STRIP_KIND_SOURCE;
      return;
    }
  if (words <= 24 && pfx && match_prefixes (lower, PFX_SOURCE))
    {
      const char *colon = strchr (plain, ':');
      if (colon == NULL)
        colon = strstr (plain, " by ");
      if (colon != NULL)
        meta_add_sources (w, colon + (*colon == ':' ? 1 : 4));
      u->kind = STRIP_KIND_SOURCE;
      return;
    }
  if (words <= 14)
    {
      char *pub = NULL, *upd = NULL;
      if (parse_dateline (plain, plen, &pub, &upd))
        {
          meta_set (w, "date", pub);
          meta_set (w, "updated", upd);
          g_free (pub);
          g_free (upd);
          u->kind = STRIP_KIND_DATELINE;
          return;
        }
    }
  if (words <= 40 && pfx && match_prefixes (lower, PFX_NOTE) && !has_prefix_word (lower, "note"))
    {
      u->kind = STRIP_KIND_NOTE;
      return;
    }
  if (words <= 30 && pfx && match_prefixes (lower, PFX_RELATED)
      && (!terminal || strchr (plain, ':') != NULL || words <= 4)
      && !(has_prefix_word (lower, "related") && words > 3 && strchr (plain, ':') == NULL))
    {
      u->kind = STRIP_KIND_RELATED;
      return;
    }
  if ((words <= 10 && ((pfx && match_prefixes (lower, PFX_SHARE)) || match_contains (lower, IN_SHARE_LABEL))
       && (!terminal || words <= 6))
      || (words <= 14 && match_contains (lower, IN_SHARE)))
    {
      u->kind = STRIP_KIND_SHARE;
      return;
    }
  if (words <= 16 && pfx && try_byline (w, plain, lower))
    {
      u->kind = STRIP_KIND_BYLINE;
      return;
    }
  if (words <= 50)
    {
      if (match_contains (plain, IN_CAPTION))
        {
          u->kind = STRIP_KIND_CAPTION;
          return;
        }
      if (!terminal && words <= 45 && ends_with_credit (plain, plen))
        {
          u->kind = STRIP_KIND_CAPTION;
          return;
        }
    }
  if (words <= 6 && !terminal)
    {
      if (match_equal (lower, nav_equal) || (pfx && match_prefixes (lower, PFX_NAV)))
        {
          u->kind = STRIP_KIND_NAVIGATION;
          return;
        }
      for (const char *const *sfx = nav_suffixes; *sfx; sfx++)
        if (g_str_has_suffix (lower, *sfx) && words <= 3)
          {
            u->kind = STRIP_KIND_NAVIGATION;
            return;
          }
    }
  if (!terminal && is_breadcrumb (plain, plen, words))
    u->kind = STRIP_KIND_NAVIGATION;
}

/* Prose: a sentence of some length, or a long unit. */
static gboolean
unit_is_prose (const Unit *u)
{
  return u->kind == KIND_BODY && !u->heading && ((u->words >= 12 && u->terminal) || u->words >= 30);
}

static gboolean
is_agency_line (const char *plain, const char *lower, guint32 words)
{
  if (words > 5 || ends_terminal (plain, strlen (plain)))
    return FALSE;
  for (const char *p = plain; *p;)
    {
      if (!word_is_capitalised (p, strlen (p)))
        return FALSE;
      const char *sp = strchr (p, ' ');
      p = sp ? sp + 1 : p + strlen (p);
    }
  for (const char *const *a = agency_words; *a; a++)
    {
      const char *at = strstr (lower, *a);
      if (at != NULL && (at == lower || at[-1] == ' ')
          && (at[strlen (*a)] == '\0' || at[strlen (*a)] == ' '))
        return TRUE;
    }
  return FALSE;
}

static char *
unit_plain (Work *w, const Unit *u)
{
  return plain_text (w->arena->str + u->off, u->len, NULL);
}

/* Pass 2: position in the document. */
static void
classify_positions (Work *w)
{
  Unit *units = (Unit *) w->units->data;
  guint n = w->units->len;
  guint first = n, last = 0;
  for (guint i = 0; i < n; i++)
    {
      units[i].prose = unit_is_prose (&units[i]);
      if (units[i].prose)
        {
          if (first == n)
            first = i;
          last = i;
        }
    }
  int aggr = w->cfg->aggressiveness;
  gboolean have_title = FALSE;
  guint limit = first == n ? n : first;
  for (guint i = 0; i < limit; i++)
    {
      Unit *u = &units[i];
      if (u->kind == STRIP_KIND_NAVIGATION && !have_title)
        {
          /* "Business Section" -> section "Business" */
          g_autofree char *label = unit_plain (w, u);
          gsize ll = strlen (label);
          if (ll > 8 && g_ascii_strcasecmp (label + ll - 8, " section") == 0)
            label[ll - 8] = '\0';
          if (count_words (label, strlen (label)) <= 3)
            meta_set (w, "section", label);
        }
      if (u->kind != KIND_BODY || u->len > SHORT_UNIT)
        continue;
      g_autofree char *plain = unit_plain (w, u);
      g_autofree char *lower = lower_dup (plain, -1);
      gsize plen = strlen (plain);
      gboolean terminal = ends_terminal (plain, plen);
      gboolean full_stop = plen > 0 && plain[plen - 1] == '.';
      if (!have_title && (u->heading > 0 || (aggr >= 1 && u->words >= 3 && u->words <= 30 && !full_stop)))
        {
          /* a label in front of the title: "World News", "Sport" */
          if (u->heading == 0 && u->words <= 3 && !terminal && aggr >= 1 && i + 1 < limit)
            {
              u->kind = STRIP_KIND_NAVIGATION;
              meta_set (w, "section", plain);
              continue;
            }
          u->kind = STRIP_KIND_TITLE;
          meta_set (w, "title", plain);
          have_title = TRUE;
          continue;
        }
      if (aggr < 1)
        continue;
      if (!have_title && u->words <= 3 && !terminal)
        {
          u->kind = STRIP_KIND_NAVIGATION;
          meta_set (w, "section", plain);
          continue;
        }
      if (is_agency_line (plain, lower, u->words))
        {
          meta_add_source (w, plain, plen);
          u->kind = STRIP_KIND_SOURCE;
          continue;
        }
      if (u->words <= 15 && !terminal)
        u->kind = STRIP_KIND_OTHER;
    }
  /* footer debris after the last prose unit */
  if (aggr >= 1 && first < n)
    for (guint i = last + 1; i < n; i++)
      {
        Unit *u = &units[i];
        if (u->kind == KIND_BODY && u->words <= 6 && !u->terminal)
          u->kind = STRIP_KIND_OTHER;
      }
}

/* Pass 3: alt text in front of its caption, repeated ledes. */

static guint32
word_hash (const char *p, gsize len)
{
  guint32 h = 2166136261u;
  for (gsize i = 0; i < len; i++)
    h = (h ^ ascii_lower ((guchar) p[i])) * 16777619u;
  return h;
}

/* The distinct word hashes of a unit, sorted. */
typedef struct {
  guint32 *v;
  guint    len;
} WordSet;

static void
sort_u32 (guint32 *v, guint n)
{
  /* shell sort (Ciura's gaps): no callback, and a unit has few words */
  static const guint gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
  for (gsize g = 0; g < G_N_ELEMENTS (gaps); g++)
    {
      guint gap = gaps[g];
      for (guint i = gap; i < n; i++)
        {
          guint32 x = v[i];
          guint j = i;
          for (; j >= gap && v[j - gap] > x; j -= gap)
            v[j] = v[j - gap];
          v[j] = x;
        }
    }
}

static void
word_set (WordSet *set, const char *s, gsize len)
{
  set->v = g_new (guint32, len / 2 + 1);   /* a word and a separator per two bytes at most */
  guint n = 0;
  const char *p = s, *end = s + len;
  while (p < end)
    {
      while (p < end && !is_word_byte ((guchar) *p))
        p++;
      const char *q = p;
      while (q < end && is_word_byte ((guchar) *q))
        q++;
      if (q > p)
        set->v[n++] = word_hash (p, q - p);
      p = q;
    }
  sort_u32 (set->v, n);
  guint k = 0;
  for (guint i = 0; i < n; i++)
    if (k == 0 || set->v[i] != set->v[k - 1])
      set->v[k++] = set->v[i];
  set->len = k;
}

/* Shared words over the words of the smaller set. */
static double
overlap (const WordSet *a, const WordSet *b)
{
  guint i = 0, j = 0, common = 0;
  while (i < a->len && j < b->len)
    {
      guint32 x = a->v[i], y = b->v[j];
      if (x == y)
        common++, i++, j++;
      else if (x < y)
        i++;
      else
        j++;
    }
  guint small = MIN (a->len, b->len);
  return small == 0 ? 0.0 : (double) common / small;
}

/* A 64-bit hash of a span, eight bytes at a time. */
static guint64
span_hash (const guchar *t, gsize len)
{
  guint64 h = 0x9E3779B97F4A7C15ull ^ len;
  gsize k = 0;
  for (; k + 8 <= len; k += 8)
    {
      guint64 v;
      memcpy (&v, t + k, 8);
      h = (h ^ v) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 29;
    }
  for (; k < len; k++)
    h = (h ^ t[k]) * 0x100000001B3ull;
  return h ^ (h >> 32);
}

static void
classify_context (Work *w)
{
  Unit *units = (Unit *) w->units->data;
  guint n = w->units->len;
  int aggr = w->cfg->aggressiveness;

  /* a short line that the caption after it starts with */
  if (aggr >= 1)
    for (guint i = 0; i + 1 < n; i++)
      if (units[i].kind == KIND_BODY && units[i + 1].kind == STRIP_KIND_CAPTION && units[i].words <= 20
          && units[i].len < units[i + 1].len
          && memcmp (w->arena->str + units[i].off, w->arena->str + units[i + 1].off, units[i].len) == 0)
        units[i].kind = STRIP_KIND_CAPTION;

  /* exact repeats of a body paragraph: keep the first */
  g_autofree guint64 *hashes = g_new (guint64, n + 1);
  GHashTable *seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < n; i++)
    {
      Unit *u = &units[i];
      if (u->kind != KIND_BODY || u->words < 8)
        continue;
      const guchar *t = (const guchar *) w->arena->str + u->off;
      guint64 h = span_hash (t, u->len);
      hashes[i] = h;
      gpointer owner = NULL;
      if (g_hash_table_lookup_extended (seen, &hashes[i], NULL, &owner))
        {
          const Unit *o = &units[GPOINTER_TO_UINT (owner)];
          if (o->len == u->len && memcmp (w->arena->str + o->off, t, u->len) == 0)
            u->kind = STRIP_KIND_REPEATED;
        }
      else
        g_hash_table_insert (seen, &hashes[i], GUINT_TO_POINTER (i));
    }
  g_hash_table_unref (seen);

  /* a teaser that the article repeats (reworded) a little later: drop the
   * teaser, keep the paragraph in the body */
  if (aggr < 1)
    return;
  guint checked = 0;
  for (guint i = 0; i < n && checked < 3; i++)
    {
      Unit *a = &units[i];
      if (a->kind != KIND_BODY || a->words < 8)
        continue;
      checked++;
      WordSet sa = { NULL, 0 };   /* filled when a paragraph opens like @a */
      guint looked = 0;
      for (guint j = i + 1; j < n && looked < 6; j++)
        {
          Unit *b = &units[j];
          if (b->kind != KIND_BODY || b->words < 8)
            continue;
          looked++;
          guint ratio_ok = a->words * 10 >= b->words * 6 && b->words * 10 >= a->words * 6;
          /* a teaser and its paragraph open with the same words */
          if (!ratio_ok || a->len < 40 || b->len < 40
              || memcmp (w->arena->str + a->off, w->arena->str + b->off, 40) != 0)
            continue;
          if (sa.v == NULL)
            word_set (&sa, w->arena->str + a->off, a->len);
          WordSet sb;
          word_set (&sb, w->arena->str + b->off, b->len);
          gboolean same = overlap (&sa, &sb) >= 0.7;
          g_free (sb.v);
          if (same)
            {
              a->kind = STRIP_KIND_REPEATED;
              break;
            }
        }
      g_free (sa.v);
    }
}

/* Share of stopwords among the words of @plain, in the document's language. */
static double
stopword_share (Work *w, const char *plain)
{
  guint words = 0, stop = 0;
  const char *p = plain;
  while (*p)
    {
      while (*p && !is_word_byte ((guchar) *p))
        p++;
      const char *q = p;
      while (*q && (is_word_byte ((guchar) *q) || *q == '\''))
        q++;
      if (q > p)
        {
          words++;
          g_autofree char *lw = lower_dup (p, q - p);
          if (strip_lang_is_stopword (w->lang, lw, strlen (lw)))
            stop++;
        }
      p = q;
    }
  return words == 0 ? 0.0 : (double) stop / words;
}

/* Pass 4 (precision): short label-like lines anywhere; a short line that
 * is mostly function words ("And then the water came") is prose. */
static void
classify_precision (Work *w)
{
  Unit *units = (Unit *) w->units->data;
  for (guint i = 0; i < w->units->len; i++)
    {
      Unit *u = &units[i];
      if (u->kind != KIND_BODY || u->len > SHORT_UNIT)
        continue;
      if (u->words <= 8 && !u->terminal)
        {
          g_autofree char *plain = unit_plain (w, u);
          if (u->words < 4 || stopword_share (w, plain) < 0.4)
            u->kind = STRIP_KIND_OTHER;
        }
      else if (u->words <= 15)
        {
          gsize n;
          g_autofree char *plain = unit_plain (w, u);
          if (find_url (plain, &n) != NULL)
            u->kind = STRIP_KIND_URL;
        }
    }
}

/* A sign-off glued to the end of the last paragraph:
 * "... their homes./ REL (A2 Televizion)" or "... on Friday. (jh)". */
static void
strip_trailing_signoff (Work *w, Unit *u)
{
  const char *s = w->arena->str + u->off;
  gsize len = u->len;
  const char *window = s + (len > 64 ? len - 64 : 0);
  for (const char *p = s + len - 1; p > window; p--)
    {
      if (*p != '/' && *p != '(')
        continue;
      const char *before = p;
      while (before > s && before[-1] == ' ')
        before--;
      if (before == s || !ends_terminal (s, before - s) || before - s < 20)
        continue;
      Span tail = trim (p, s + len - p);
      if (!is_signoff (tail.p, tail.len))
        continue;
      g_autofree char *t = g_strndup (tail.p, tail.len);
      const char *q = t;
      while (*q == '/' || *q == ' ' || *q == '(')
        q++;
      if (g_ascii_isupper (*q) || word_is_capitalised (q, strlen (q)))
        {
          g_strdelimit ((char *) q, "()", ',');
          meta_add_sources (w, q);
        }
      u->len = before - s;
      w->res->removed[STRIP_KIND_SOURCE]++;
      return;
    }
}

/* ---- output ----------------------------------------------------------- */

static void
write_body (Work *w)
{
  Unit *units = (Unit *) w->units->data;
  guint n = w->units->len;
  GString *body = w->res->body;
  gboolean keep_captions = w->cfg->keep_captions;
  gssize prev = -1;   /* index of the last unit written */
  /* the kept units and their separators bound the body: grow it once */
  gsize bound = body->len;
  for (guint i = 0; i < n; i++)
    if (units[i].kind == KIND_BODY || (keep_captions && units[i].kind == STRIP_KIND_CAPTION))
      bound += units[i].len + 2;
  if (body->allocated_len <= bound)
    {
      gsize at = body->len;
      g_string_set_size (body, bound);
      g_string_truncate (body, at);
    }
  for (guint i = 0; i < n; i++)
    {
      Unit *u = &units[i];
      gboolean keep = u->kind == KIND_BODY || (keep_captions && u->kind == STRIP_KIND_CAPTION);
      if (!keep)
        {
          w->res->removed[u->kind]++;
          continue;
        }
      const char *s = w->arena->str + u->off;
      gsize len = u->len;
      /* a heading inside the body keeps its words */
      gsize h = 0;
      while (h < len && h < 6 && s[h] == '#')
        h++;
      if (h > 0 && h < len && s[h] == ' ')
        s += h + 1, len -= h + 1;
      gsize mark = body->len;
      gboolean rejoin = FALSE;
      if (prev >= 0 && units[prev].kind == KIND_BODY && u->kind == KIND_BODY && starts_lower (s, len)
          && body->len >= 30 && !ends_terminal (body->str, body->len) && units[prev].words >= 5)
        rejoin = TRUE;
      if (body->len > 0)
        g_string_append (body, rejoin ? " " : "\n\n");
      gsize text_at = body->len;
      gint64 k = unwrap_append (body, s, len);
      if (body->len == text_at)
        {
          g_string_truncate (body, mark);
          continue;
        }
      if (w->rep)
        {
          w->rep->markup_unwrapped += k;
          if (rejoin)
            w->rep->paragraphs_rejoined++;
        }
      prev = i;
    }
}

gboolean
strip_text_ex (const char *text, gsize len, const StripConfig *cfg, StripResult *res,
               StripTextRepairs *repairs, GError **error)
{
  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (cfg != NULL && res != NULL, FALSE);
  if (repairs)
    memset (repairs, 0, sizeof *repairs);
  if (res->body == NULL)
    res->body = g_string_new (NULL);
  if (res->meta == NULL)
    res->meta = json_object_new_object ();
  g_string_truncate (res->body, 0);

  Work w = { cfg, res, repairs, g_string_sized_new (len + 16), g_array_new (FALSE, FALSE, sizeof (Unit)), NULL };
  if (cfg->language == NULL || g_str_equal (cfg->language, "auto"))
    w.lang = cfg->aggressiveness >= 2 ? strip_lang_guess (text, MIN (len, (gsize) 8192)) : "en";
  else
    w.lang = cfg->language;
  split_units (&w, text, len);

  gboolean expect_url = FALSE;
  for (guint i = 0; i < w.units->len; i++)
    classify_patterns (&w, &g_array_index (w.units, Unit, i), &expect_url);
  classify_positions (&w);
  classify_context (&w);
  if (cfg->aggressiveness >= 2)
    classify_precision (&w);
  for (guint i = w.units->len; i > 0; i--)
    {
      Unit *u = &g_array_index (w.units, Unit, i - 1);
      if (u->kind == KIND_BODY)
        {
          strip_trailing_signoff (&w, u);
          break;
        }
    }
  write_body (&w);

  g_string_free (w.arena, TRUE);
  g_array_unref (w.units);
  return TRUE;
}

gboolean
strip_text (const char *text, gsize len, const StripConfig *cfg, StripResult *res, GError **error)
{
  return strip_text_ex (text, len, cfg, res, NULL, error);
}
