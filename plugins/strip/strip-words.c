/* strip-words.c: the word lists of the text mode and the lookups in them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip-text-private.h"

#include <string.h>

/* ---- word lists (lower case; English, German, French, Spanish,
 * Portuguese, Italian, Polish, Dutch, Russian, Ukrainian) ----------------- */

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
  "condividi", "iscriviti", "seguici", "pubblicità", "commenti", "udostępnij", "subskrybuj",
  "obserwuj nas", "reklama", "komentarze", "deel dit", "delen", "abonneer", "volg ons", "advertentie",
  "reacties", "partilhe", "partilhar", "pin this", "pin it", "save this recipe", "jump to recipe",
  "print recipe", "listen to this article", "listen to this story", "artikel anhören", "écouter cet article",
  "escuchar este artículo", "escucha esta noticia", "ascolta l'articolo", "ascolta l\xe2\x80\x99" "articolo",
  "ouça este artigo", "ouvir este artigo", "posłuchaj artykułu", "luister naar dit artikel",
  "прослушать статью", "слушать статью",
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
  "tutti i diritti riservati", "wszelkie prawa zastrzeżone", "alle rechten voorbehouden",
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
  "leggi anche", "potrebbe interessarti", "articoli correlati", "czytaj także", "czytaj też",
  "przeczytaj także", "zobacz także", "lees ook", "lees meer", "meer over",
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
  "nota della redazione", "aggiornamento:", "nota redakcji", "aktualizacja:", "noot van de redactie",
  "correctie:", "матеріал доповнено", "материал дополняется", "новость дополняется", "материал обновляется",
  "this story will be updated", "this article will be updated", "der artikel wird aktualisiert",
  "dieser artikel wird aktualisiert", "em atualização", "en actualización", "in aggiornamento",
  NULL
};
static const char *const source_prefixes[] = {
  "source:", "sources:", "source :", "sources :", "with reporting by", "additional reporting by",
  "reporting by", "quelle:", "quellen:", "mit material von", "fuente:", "fuentes:", "fonte:", "fontes:",
  "źródło:", "bron:", "avec agences", "with agencies", "источник:", "источники:", "джерело:", "джерела:",
  NULL
};
static const char *const url_prefixes[] = {
  "original url", "original link", "source url", "url:", "link:", "permalink", "originally published",
  "this article originally appeared", "this story originally appeared", "read the original",
  "ursprünglich erschienen", "article original", "artículo original", "artigo original",
  "оригинал статьи", "оригінал статті", "источник: http", "quelle: http", "source: http",
  NULL
};
const char *const strip_nav_equal[] = {
  "home", "menu", "main menu", "navigation", "skip to content", "skip to main content", "back to top",
  "top", "search", "log in", "login", "sign in", "register", "news", "latest news", "top stories",
  "more", "next", "previous", "next article", "previous article", "startseite", "zurück", "nach oben",
  "suche", "accueil", "retour en haut", "rechercher", "inicio", "portada", "volver arriba", "buscar",
  "início", "voltar ao topo", "pesquisar", "главная", "наверх", "поиск", "головна", "вгору", "пошук",
  NULL
};
static const char *const nav_prefixes[] = {
  "tags:", "tags", "topics:", "themen:", "schlagwörter:", "mots-clés:", "sujets:", "etiquetas:", "temas:",
  "mots-clés :", "sujets :", "thèmes :",
  "теги:", "тэги:", "мітки:", "темы:", "теми:", "you are here", "sie sind hier", "vous êtes ici",
  NULL
};
const char *const strip_nav_suffixes[] = {
  " section", " news", " rubrik", " rubrique", " sección", " seção", " раздел", " розділ", NULL
};
static const char *const caption_marks[] = {
  "Photo:", "Photo by", "Photos:", "Photograph:", "Photo credit", "Photo /", "(Photo", "Picture:",
  "Pictured:", "Image:", "Image credit", "Credit:", "Illustration:", "Foto:", "Fotos:", "Bild:",
  "Фото:", "фото:", "Фото ", "Getty Images", "via Reuters", "via AFP", "via AP", "Shutterstock",
  "Photo :", "Foto di ", "Foto de ", "Fot. ",
  NULL
};
const char *const strip_agency_words[] = {
  "agency", "press", "news service", "wire", "agentur", "agence", "agencia", "agência", "агентство",
  "агенція", "reuters", "afp", "associated press", "dpa", "ansa", "efe", "tass", "ria", "interfax",
  "ukrinform", "xinhua", "bloomberg", NULL
};
const char *const strip_byline_prefixes[] = {
  "by ", "written by ", "author: ", "authors: ", "von ", "par ", "por ", "автор: ", "авторы: ", "автор ",
  "авторка: ", "di ", "door ", "autore: ", "autor: ", NULL
};
const char *const strip_name_connectors[] = {
  "and", "und", "et", "y", "e", "и", "і", "та", "de", "da", "do", "dos", "van", "von", "der", "den",
  "di", "la", "le", "du", "del", "bin", "al", "&", NULL
};

/* Calls to action: one word of both lists of a row (see
 * strip_is_call_to_action()). */
static const char *const cta_newsletter[] = {
  "newsletter", "nieuwsbrief", "рассылк", "lettre d'information", "lettre d\xe2\x80\x99information", "boletín",
  NULL
};
/* words that address the reader: a newsletter call speaks to "you" */
static const char *const cta_reader[] = {
  "our ", "your ", "you ", "unser", "ihr", "sie ", "notre", "votre", "vous", "nuestr", "suscríbase", "nostra",
  "nostro", "iscriviti", "nossa", "nosso", "receba", "nasz", "twoj", "twoi", "zapisz się", "onze", "je ",
  "наш", "ваш", "подпишитесь", NULL
};
static const char *const cta_signup[] = {
  "sign up", "subscribe", "abonnier", "anmelden", "inscri", "suscrib", "assine", "iscriviti", "zapisz",
  "meld je aan", "aanmelden", "abonneer", "подпиш", "ricevi", "receba", "recevez", "reciba", "in your inbox",
  "ins postfach", "in ihrem postfach", NULL
};
static const char *const cta_follow[] = {
  "follow us", "folgen sie uns", "folge uns", "suivez-nous", "síguenos", "siguenos", "siga-nos", "segue-nos",
  "seguici", "obserwuj nas", "volg ons", "подписывайтесь", "следите за нами", "подпишитесь на наш", NULL
};
static const char *const cta_network[] = {
  "instagram", "tiktok", "facebook", "telegram", "youtube", "twitter", "linkedin", "whatsapp", "bluesky",
  "mastodon", "threads", NULL
};
static const char *const cta_support[] = {
  "support", "unterstützen", "soutenez", "apoye", "apoya", "sostieni", "apoie", "wesprzyj", "steun",
  "поддержите", NULL
};
static const char *const cta_donate[] = {
  "donate", "donation", "donación", "donazione", "donativo", "doação", "spenden", "faites un don", "darowizn",
  "doneer", "пожертвован", NULL
};

static gboolean
contains_any (const char *lower, const char *const *list)
{
  for (guint i = 0; list[i] != NULL; i++)
    if (strstr (lower, list[i]) != NULL)
      return TRUE;
  return FALSE;
}

/* Does @lower start with a word of @list (as a whole word: "support",
 * not "supporters")? */
static gboolean
starts_with_any (const char *lower, const char *const *list)
{
  while (*lower != '\0' && !g_ascii_isalpha (*lower) && !((guchar) *lower & 0x80))
    lower++;
  for (guint i = 0; list[i] != NULL; i++)
    {
      gsize n = strlen (list[i]);
      if (strncmp (lower, list[i], n) == 0 && !g_ascii_isalpha (lower[n]) && !((guchar) lower[n] & 0x80))
        return TRUE;
    }
  return FALSE;
}

/* The calls to follow and to donate start with their verb ("Follow us on
 * ...", "Support our journalism: donate ..."), so that a report of what
 * someone supports or donates is no call. */
gboolean
strip_is_call_to_action (const char *lower)
{
  return (contains_any (lower, cta_newsletter) && contains_any (lower, cta_signup) && contains_any (lower, cta_reader))
         || (starts_with_any (lower, cta_follow) && contains_any (lower, cta_network))
         || (starts_with_any (lower, cta_support) && contains_any (lower, cta_donate));
}

/* ---- lookups in the word lists ------------------------------------------
 *
 * The prefix lists are grouped by first byte, so a unit is compared only
 * with the prefixes that start like it; the lists searched anywhere in a
 * unit are looked for only where one of their first bytes occurs. Both
 * are built once and read-only afterwards, inside static storage. */

#define LIST_MAX 128

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
 * (see strip_has_prefix_word())? */
gboolean
strip_match_prefixes (const char *lower, guint list)
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
gboolean
strip_match_contains (const char *s, guint list)
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

void
strip_word_index_add (WordIndex *ix, const char *w)
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

gboolean
strip_word_index_has (const WordIndex *ix, const char *w)
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
          strip_word_index_add (&ix, *p);
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
                                     share_prefixes, nav_prefixes, strip_byline_prefixes };
      for (gsize l = 0; l < G_N_ELEMENTS (lists); l++)
        for (const char *const *p = lists[l]; *p; p++)
          strip_word_index_add (&ix, *p);
      g_once_init_leave (&once, 1);
    }
  return &ix;
}

gboolean
strip_first_word_is_prefix (const char *lower)
{
  return strip_word_index_has (prefix_first_words (), lower);
}

/* Could a long sentence @s be a note, a related teaser or a source line?
 * Only when its first word starts one of those prefixes (or it starts
 * with markup). */
gboolean
strip_starts_like_label (const char *s, gsize len)
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
  return strip_word_index_has (label_first_words (), word);
}

