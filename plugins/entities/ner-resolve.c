/* ner-resolve.c: one document from text to mentions: chunking, tagging,
 * gazetteer fallback, dates, roles and canonical names.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ner-private.h"

#include <string.h>

#define CHUNK_BYTES 65536

/* Where the chunk starting at @from ends: a line break, else a sentence
 * end, else a space, else a character boundary. */
static gsize
chunk_end (const char *text, gsize len, gsize from)
{
  if (len - from <= CHUNK_BYTES)
    return len;
  gsize lim = from + CHUNK_BYTES;
  for (gsize k = lim; k > from + CHUNK_BYTES / 2; k--)
    if (text[k] == '\n')
      return k + 1;
  for (gsize k = lim; k > from + CHUNK_BYTES / 2; k--)
    if (text[k] == ' ' && (text[k - 1] == '.' || text[k - 1] == '!' || text[k - 1] == '?'))
      return k + 1;
  for (gsize k = lim; k > from + CHUNK_BYTES / 2; k--)
    if (text[k] == ' ')
      return k + 1;
  gsize k = lim;
  while (k > from + 1 && ((guchar) text[k] & 0xc0) == 0x80)
    k--;
  return k;
}

static gboolean
tok_is (const char *text, const NerToken *t, const char *word)
{
  gsize len = t->bend - t->bstart;
  return strlen (word) == len && g_ascii_strncasecmp (text + t->bstart, word, len) == 0;
}

static gboolean
is_quote (const char *text, const NerToken *t)
{
  const char *p = text + t->bstart;
  gsize len = t->bend - t->bstart;
  /* " “ ” « » */
  return (len == 1 && *p == '"') || (len == 3 && (memcmp (p, "\xe2\x80\x9c", 3) == 0 || memcmp (p, "\xe2\x80\x9d", 3) == 0))
         || (len == 2 && (memcmp (p, "\xc2\xab", 2) == 0 || memcmp (p, "\xc2\xbb", 2) == 0));
}

/* Role words right before token @first, or after ", a" following @last. */
static char *
find_role (const char *text, const NerToken *toks, guint n, guint first, guint last)
{
  guint j = first;
  if (j > 0 && tok_is (text, &toks[j - 1], "]"))
    j--;
  if (j > 0 && (toks[j - 1].gaz & NER_GZ_TITLE))
    {
      guint end = j - 1, start = j - 1;
      while (start > 0 && end - start < 5)
        {
          const NerToken *t = &toks[start - 1];
          if (t->gaz & NER_GZ_DEMONYM || (toks[start].flags & NER_TOK_NL_BEFORE))
            break;
          if ((t->gaz & (NER_GZ_TITLE | NER_GZ_ORGWORD)) || ((t->flags & NER_TOK_UPPER1) && (t->flags & NER_TOK_LETTER) && !(t->flags & NER_TOK_SENT && t->flags & NER_TOK_COMMON)))
            start--;
          else
            break;
          if (toks[start].flags & NER_TOK_SENT)
            break;
        }
      /* never start a role with a function word */
      while (start < end && ((!(toks[start].flags & NER_TOK_UPPER1) && !(toks[start].gaz & (NER_GZ_TITLE | NER_GZ_ORGWORD)))
                             || tok_is (text, &toks[start], "the") || tok_is (text, &toks[start], "a")))
        start++;
      return g_strndup (text + toks[start].bstart, toks[end].bend - toks[start].bstart);
    }
  /* apposition: "Dmitry Peskov, a spokesperson for ..." */
  guint k = last + 1;
  if (k < n && tok_is (text, &toks[k], ","))
    {
      k++;
      if (k < n && (tok_is (text, &toks[k], "a") || tok_is (text, &toks[k], "an") || tok_is (text, &toks[k], "the")))
        k++;
      guint start = k, end = k;
      gboolean found = FALSE;
      for (; end < n && end < start + 4; end++)
        {
          const NerToken *t = &toks[end];
          if (t->gaz & NER_GZ_TITLE)
            {
              found = TRUE;
              if (end + 1 < n && (toks[end + 1].gaz & NER_GZ_TITLE))
                continue;
              break;
            }
          if (!((t->flags & NER_TOK_UPPER1) || (t->gaz & NER_GZ_ORGWORD) || tok_is (text, t, "deputy") || tok_is (text, t, "former")))
            break;
        }
      if (found && end < n)
        return g_strndup (text + toks[start].bstart, toks[end].bend - toks[start].bstart);
    }
  return NULL;
}

/* Canonical of a name: the alias of the whole name, else each token's
 * one-word alias, else its gazetteer display form, else the text. In a
 * headline a capitalised word is title-cased. */
static char *
canonical_name (const NerModel *model, NerScratch *s, const char *name, gsize len, NerType type,
                gboolean headline)
{
  if (s->sub == NULL)
    s->sub = ner_scratch_new ();
  NerScratch *sub = s->sub;
  guint n = ner_tokenize_raw (sub, name, len, 0);
  guint first = 0;
  if (n > 1 && type != NER_PER && tok_is (name, &sub->toks[0], "the"))
    first = 1;
  guint64 h = NER_SEQ_SEED;
  for (guint i = first; i < n; i++)
    h = ner_seq_step (h, sub->toks[i].lower);
  const NerEntry *e = ner_table_get (&model->aliases, h);
  if (e != NULL)
    {
      /* one more hop: Zelenskyy -> Zelensky -> Volodymyr Zelensky */
      const char *c1 = ner_string (model, e->canon);
      guint64 h2 = ner_name_key (sub, c1, strlen (c1), NULL);
      const NerEntry *e2 = h2 != h ? ner_table_get (&model->aliases, h2) : NULL;
      return g_strdup (e2 != NULL ? ner_string (model, e2->canon) : c1);
    }
  e = ner_table_get (&model->gaz, h);
  if (e != NULL && e->canon != NER_NO_STRING && (e->bits & (NER_GZ_PER | NER_GZ_ORG | NER_GZ_LOC)))
    return g_strdup (ner_string (model, e->canon));
  GString *out = g_string_new (NULL);
  for (guint i = first; i < n; i++)
    {
      const NerToken *t = &sub->toks[i];
      if (out->len > 0 && !(t->flags & NER_TOK_PUNCT && i > first && sub->toks[i - 1].bend == t->bstart)
          && !(i > first && sub->toks[i - 1].bend == t->bstart))
        g_string_append_c (out, ' ');
      const NerEntry *a = ner_table_get (&model->aliases, ner_seq_step (NER_SEQ_SEED, t->lower));
      const char *canon = a != NULL ? ner_string (model, a->canon) : NULL;
      if (canon != NULL && strchr (canon, ' ') == NULL)
        {
          g_string_append (out, canon);
          continue;
        }
      if (headline && (t->flags & NER_TOK_ALLUPPER) && t->bend - t->bstart > 4)
        {
          g_autofree char *lower = g_utf8_strdown (name + t->bstart, t->bend - t->bstart);
          gunichar c0 = g_utf8_get_char (lower);
          g_string_append_unichar (out, g_unichar_totitle (c0));
          g_string_append (out, g_utf8_next_char (lower));
          continue;
        }
      /* "Zelensky’s" never reaches here (the tokenizer splits 's) */
      g_string_append_len (out, name + t->bstart, t->bend - t->bstart);
    }
  return g_string_free (out, FALSE);
}

static int
mention_cmp (gconstpointer a, gconstpointer b)
{
  const NerMention *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x->end > y->end ? -1 : x->end < y->end;
}

/* A contraction of a common word: "I'm", "We've", "You'll", "Don't"
 * (the tokenizer keeps them one word; a possessive 's it splits off). */
static gboolean
is_contraction (const NerModel *model, const char *text, const NerToken *t)
{
  static const char *const clitics[] = { "m", "ve", "ll", "d", "re", "t" };
  const char *p = text + t->bstart, *end = text + t->bend;
  const char *apo = NULL;
  guint alen = 0;
  for (const char *q = p; q < end; q++)
    if (*q == '\'')
      {
        apo = q, alen = 1;
        break;
      }
    else if (end - q >= 3 && memcmp (q, "\xe2\x80\x99", 3) == 0)
      {
        apo = q, alen = 3;
        break;
      }
  if (apo == NULL || apo == p || t->bend - t->bstart > 12)
    return FALSE;
  const char *c = apo + alen;
  gsize clen = end - c;
  gboolean clitic = FALSE;
  for (gsize k = 0; k < G_N_ELEMENTS (clitics) && !clitic; k++)
    clitic = strlen (clitics[k]) == clen && g_ascii_strncasecmp (c, clitics[k], clen) == 0;
  if (!clitic)
    return FALSE;
  if (apo - p == 1 && (*p == 'I' || *p == 'i'))
    return TRUE;
  /* "Don't": the word before n't */
  const char *stem_end = apo;
  if (clen == 1 && (c[0] == 't' || c[0] == 'T') && stem_end - p > 1 && (stem_end[-1] == 'n' || stem_end[-1] == 'N'))
    stem_end--;
  return ner_table_get (&model->vocab, ner_word_hash (p, stem_end)) != NULL;
}

/* Whether the one-word name @w (ASCII letters, @len bytes) is the form
 * of a known place with a demonym ending: "Liberian" (Liberia), "Corsican"
 * (Corsica), "Zairean" (Zaire), "Mexicans" (Mexico), "Italian" (Italy),
 * "Pakistani" (Pakistan), "Taiwanese" (Taiwan). */
static gboolean
place_demonym (const NerModel *model, const char *w, gsize len)
{
  /* ending, bytes of it to cut, what may stand in its place */
  static const struct { const char *end; guint8 cut; const char *add[5]; } rules[] = {
    { "ian", 3, { "", "y", "ia", "a", "e" } },
    { "an", 2, { "", "o", "a", "e", NULL } },
    { "n", 1, { "", NULL, NULL, NULL, NULL } },
    { "ese", 3, { "", "a", "o", NULL, NULL } },
    { "i", 1, { "", NULL, NULL, NULL, NULL } },
  };
  char buf[NER_MAX_TOKEN + 4];
  if (len > 0 && (w[len - 1] == 's' || w[len - 1] == 'S'))
    len--;
  if (len < 5 || len > NER_MAX_TOKEN)
    return FALSE;
  for (gsize k = 0; k < len; k++)
    buf[k] = g_ascii_tolower (w[k]);
  for (gsize r = 0; r < G_N_ELEMENTS (rules); r++)
    {
      gsize elen = strlen (rules[r].end);
      if (len <= elen + 2 || memcmp (buf + len - elen, rules[r].end, elen) != 0)
        continue;
      gsize stem = len - rules[r].cut;
      /* "-n" after "-a" only: Corsica-n, not Hesse-n */
      if (rules[r].cut == 1 && rules[r].end[0] == 'n' && buf[stem - 1] != 'a')
        continue;
      for (gsize k = 0; k < G_N_ELEMENTS (rules[r].add) && rules[r].add[k] != NULL; k++)
        {
          gsize alen = strlen (rules[r].add[k]);
          if (stem + alen < 4)
            continue;
          memcpy (buf + stem, rules[r].add[k], alen);
          const NerEntry *g = ner_table_get (&model->gaz, ner_seq_step (NER_SEQ_SEED, ner_word_hash (buf, buf + stem + alen)));
          if (g != NULL && (g->bits & NER_GZ_LOC))
            return TRUE;
        }
      for (gsize k = stem; k < len; k++)
        buf[k] = g_ascii_tolower (w[k]);
    }
  return FALSE;
}

/* A one-word name in no list but a place's demonym ("a Liberian
 * official", "the Corsicans"): no name. */
static gboolean
unlisted_demonym (const NerModel *model, const char *text, const NerToken *t)
{
  if ((t->flags & (NER_TOK_NONASCII | NER_TOK_DIGIT | NER_TOK_PUNCT)) || t->gaz != 0 || t->gaz_span != 0
      || (t->wn & (NER_WN_PER | NER_WN_ORG | NER_WN_LOC)))
    return FALSE;
  for (guint32 k = t->bstart; k < t->bend; k++)
    if (!g_ascii_isalpha (text[k]))
      return FALSE;
  return place_demonym (model, text + t->bstart, t->bend - t->bstart);
}

/* Whether toks[a..b] are three or more words of one or two capital
 * letters without dots: the column heads of a table ("W L T GF GA"),
 * no name. */
static gboolean
table_heading (const NerToken *toks, guint a, guint b)
{
  if (b < a + 2)
    return FALSE;
  for (guint k = a; k <= b; k++)
    if ((toks[k].flags & (NER_TOK_ALLUPPER | NER_TOK_DIGIT | NER_TOK_PUNCT | NER_TOK_NONASCII)) != NER_TOK_ALLUPPER
        || toks[k].cend - toks[k].cstart > 2)
      return FALSE;
  return TRUE;
}

/* A news desk or bureau named by its place: "Moscow Newsroom", "New
 * York Commodities Desk", "Chicago Newsdesk". With @last the place's last
 * token, returns the head word's token, or 0 (it is never the first). */
static guint
desk_after (const char *text, const NerToken *toks, guint n, guint last)
{
  static const char *const heads[] = { "Newsroom", "Newsdesk", "Desk", "Bureau" };
  for (guint k = last + 1; k < n && k <= last + 3; k++)
    {
      if (!(toks[k].flags & NER_TOK_UPPER1) || (toks[k].flags & (NER_TOK_NL_BEFORE | NER_TOK_DIGIT)))
        return 0;
      for (gsize h = 0; h < G_N_ELEMENTS (heads); h++)
        if (tok_is (text, &toks[k], heads[h]))
          return k;
    }
  return 0;
}

/* A Roman numeral after a place that numbers a team or crew ("Canada I
 * (Lueders, MacEachern) 3:47.59", "Austria III"): the token after it is
 * a bracket, a number or the end of the line, so "in Canada I met ..."
 * is no team. */
static gboolean
team_numeral (const char *text, const NerToken *toks, guint n, guint k)
{
  if (k >= n || (toks[k].flags & NER_TOK_NL_BEFORE)
      || !(tok_is (text, &toks[k], "I") || tok_is (text, &toks[k], "II") || tok_is (text, &toks[k], "III")
           || tok_is (text, &toks[k], "IV"))
      || !(toks[k].flags & NER_TOK_ALLUPPER))
    return FALSE;
  return k + 1 >= n || (toks[k + 1].flags & (NER_TOK_NL_BEFORE | NER_TOK_DIGIT)) || tok_is (text, &toks[k + 1], "(");
}

/* Whether the token is the plural of an acronym ("PCs", "MEPs",
 * "B-29s"): a common noun, no name. */
static gboolean
acronym_plural (const char *text, const NerToken *t)
{
  const char *p = text + t->bstart;
  gsize len = t->bend - t->bstart;
  if (len < 3 || p[len - 1] != 's' || !g_ascii_isupper (p[0]) || !(g_ascii_isupper (p[len - 2]) || g_ascii_isdigit (p[len - 2])))
    return FALSE;
  for (gsize k = 1; k + 1 < len; k++)
    if (!g_ascii_isupper (p[k]) && !g_ascii_isdigit (p[k]) && p[k] != '-')
      return FALSE;
  return TRUE;
}

/* A place in brackets after a person, "Luis Figo (Barcelona)", "Rui
 * Barros (Porto, Portugal)", is the person's club, unless it is a country
 * (national sides are places, as in results lines). @out holds the
 * mentions before it. */
static gboolean
club_in_brackets (const NerModel *model, const char *text, const NerToken *toks, guint n, guint a, guint b,
                  const GArray *out)
{
  if (a < 2 || b + 1 >= n || !tok_is (text, &toks[a - 1], "(") || out->len == 0)
    return FALSE;
  /* in a list: "(Porto, Portugal)", or ")" before ",", ";", ":" or the
   * end of the line (not "the river Nestus (Mesta).") */
  if (tok_is (text, &toks[b + 1], ")"))
    {
      const NerToken *z = b + 2 < n ? &toks[b + 2] : NULL;
      if (z != NULL && !(z->flags & NER_TOK_NL_BEFORE) && !tok_is (text, z, ",") && !tok_is (text, z, ";")
          && !tok_is (text, z, ":"))
        return FALSE;
    }
  else if (!tok_is (text, &toks[b + 1], ","))
    return FALSE;
  const NerMention *p = &g_array_index (out, NerMention, out->len - 1);
  if (p->type != NER_PER || p->end != toks[a - 2].cend)
    return FALSE;
  guint64 h = NER_SEQ_SEED;
  for (guint k = a; k <= b; k++)
    h = ner_seq_step (h, toks[k].lower);
  return ner_table_get (&model->countries, h) == NULL;
}

/* Whether token @t is a possessive "'s" (or "’s"). */
static gboolean
is_possessive (const char *text, const NerToken *t)
{
  return tok_is (text, t, "'s") || tok_is (text, t, "\xe2\x80\x99s");
}

/* Whether the lower-case words before toks[a] name a kind of place: "the
 * river Nestus", "the town of Hanau", "returned to the village of ...". */
static gboolean
place_noun_before (const char *text, const NerToken *toks, guint a)
{
  static const char *const nouns[] = { "river", "city", "town", "village", "island", "province", "region",
                                       "county", "district", "kingdom", "port", "cities", "towns", "villages",
                                       "islands", "provinces", "regions" };
  if (a > 1 && tok_is (text, &toks[a - 1], "of"))
    a--;
  if (a == 0 || (toks[a - 1].flags & (NER_TOK_UPPER1 | NER_TOK_CAPSLINE)))
    return FALSE;
  for (gsize k = 0; k < G_N_ELEMENTS (nouns); k++)
    if (tok_is (text, &toks[a - 1], nouns[k]))
      return TRUE;
  return FALSE;
}

/* A person's title before a name ("Mr Jackson": a person, though a
 * gazetteer lists Jackson as a city). */
static gboolean
person_title (const NerToken *t)
{
  return (t->gaz & NER_GZ_TITLE) && (t->flags & NER_TOK_UPPER1) && !(t->gaz & (NER_GZ_ORG | NER_GZ_LOC));
}

/* Whether token @t is one of the @n @words, as written. */
static gboolean
word_in (const char *text, const NerToken *t, const char *const *words, gsize n)
{
  gsize len = t->bend - t->bstart;
  for (gsize k = 0; k < n; k++)
    if (strlen (words[k]) == len && memcmp (text + t->bstart, words[k], len) == 0)
      return TRUE;
  return FALSE;
}

/* A regnal number: "I" to "XX", a dot after it allowed ("Franz Joseph I.") */
static gboolean
regnal_number (const char *text, const NerToken *t)
{
  const char *p = text + t->bstart;
  gsize len = t->bend - t->bstart;
  if (len > 0 && p[len - 1] == '.')
    len--;
  if (len == 0 || len > 5)
    return FALSE;
  for (gsize k = 0; k < len; k++)
    if (p[k] != 'I' && p[k] != 'V' && p[k] != 'X')
      return FALSE;
  static const char *const ok[] = { "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
                                    "XIII", "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX" };
  for (gsize k = 0; k < G_N_ELEMENTS (ok); k++)
    if (strlen (ok[k]) == len && memcmp (ok[k], p, len) == 0)
      return TRUE;
  return FALSE;
}

/* The words a person's name may end in after "the": "Louis the Pious",
 * "Lucas Cranach the Elder", "Alexander the Great"; a demonym too
 * ("Louis the German"). */
static gboolean
epithet (const char *text, const NerToken *t)
{
  static const char *const words[] = { "Elder", "Younger", "Great", "Good", "Bold", "Pious", "Wise", "Fair",
                                       "Conqueror", "Confessor", "Magnificent", "Terrible", "Lionheart", "Bald",
                                       "Fat", "Just", "Simple", "Unready", "Lame", "Red", "Black", "Brave",
                                       "Martyr", "Apostle", "Baptist", "Evangelist", "Venerable", "Navigator",
                                       "Cruel", "Blessed", "Peaceful", "Victorious", "Fowler", "Short", "Tall",
                                       "Wicked", "Mad", "Hunchback", "Impaler", "Strong", "Handsome", "Silent" };
  if (!(t->flags & NER_TOK_UPPER1))
    return FALSE;
  if ((t->gaz & NER_GZ_DEMONYM) && !(t->gaz & (NER_GZ_LOC | NER_GZ_ORG)))
    return TRUE;
  return word_in (text, t, words, G_N_ELEMENTS (words));
}

/* The particle of a surname written in lower case before it: "de Meza",
 * "van Gogh", "von Beust", "bin Laden". */
static gboolean
name_particle (const char *text, const NerToken *t)
{
  static const char *const words[] = { "de", "da", "di", "del", "della", "van", "von", "der", "den", "du",
                                       "le", "la", "ter", "ten", "bin", "ibn", "dos", "das", "do" };
  gsize len = t->bend - t->bstart;
  /* capitalised only where it opens the sentence: "Von Beust said" */
  gboolean sent = (t->flags & NER_TOK_SENT) != 0;
  for (gsize k = 0; k < G_N_ELEMENTS (words); k++)
    if (strlen (words[k]) == len && (memcmp (text + t->bstart, words[k], len) == 0
                                     || (sent && g_ascii_strncasecmp (text + t->bstart, words[k], len) == 0)))
      return TRUE;
  return FALSE;
}

/* A surname with a lower-case Arabic article: "al-Jadaan", "el-Sisi". */
static gboolean
arabic_article (const char *text, const NerToken *t)
{
  static const char *const words[] = { "al-", "el-", "ad-", "ar-", "as-", "ash-", "at-", "az-", "an-" };
  const char *p = text + t->bstart;
  gsize len = t->bend - t->bstart;
  for (gsize k = 0; k < G_N_ELEMENTS (words); k++)
    {
      gsize l = strlen (words[k]);
      if (len > l + 1 && memcmp (p, words[k], l) == 0 && g_ascii_isupper (p[l]))
        return TRUE;
    }
  return FALSE;
}

/* A place that names a treaty, a law or an accord: "the Paris Agreement",
 * "the Kigali Amendment", "the Treaty of London", "the Convention of
 * Peking" (the name is the document's, not the place's). */
static gboolean
names_a_treaty (const char *text, const NerToken *toks, guint n, guint a, guint b)
{
  static const char *const after[] = { "Agreement", "Accord", "Accords", "Amendment", "Protocol", "Treaty",
                                       "Convention", "Declaration", "Charter", "Pact", "Compact", "Edict" };
  static const char *const after_lower[] = { "agreement", "accord", "accords", "protocol", "treaty", "pact" };
  static const char *const before[] = { "Treaty", "Convention", "Peace", "Protocol", "Congress", "Pact", "Edict",
                                        "Declaration", "Accords", "Agreement" };
  if (b + 1 < n && (word_in (text, &toks[b + 1], after, G_N_ELEMENTS (after))
                    || word_in (text, &toks[b + 1], after_lower, G_N_ELEMENTS (after_lower))))
    return TRUE;
  return a >= 2 && tok_is (text, &toks[a - 1], "of") && (toks[a - 2].flags & NER_TOK_UPPER1)
         && word_in (text, &toks[a - 2], before, G_N_ELEMENTS (before));
}

/* A preposition of place: "in", "at", "near" ... */
static gboolean
place_preposition (const char *text, const NerToken *t)
{
  static const char *const words[] = { "in", "at", "near", "from", "to", "into", "across", "outside", "around",
                                       "towards", "toward", "via", "past", "inside", "throughout" };
  return word_in (text, t, words, G_N_ELEMENTS (words));
}

/* "Denver, Colorado", "Poole, Dorset": a town and the state or county
 * it lies in, written after it, are one place. @a..@b is a place about
 * to be added; when it is a division GeoNames lists (and no country) and
 * the mention before it is a place that ends just before ", " and is no
 * state itself, that mention grows to hold both and TRUE is returned.
 * Lists stay apart: "Texas, Colorado and Utah", "Dallas, Texas, Ohio". */
static gboolean
merge_town_region (const NerModel *model, const char *text, const NerToken *toks, guint n, guint a, guint b,
                   GArray *out)
{
  if (a < 2 || out->len == 0 || !tok_is (text, &toks[a - 1], ",") || (toks[a].flags & NER_TOK_CAPSLINE))
    return FALSE;
  gboolean region = a == b ? (toks[a].wn & NER_WN_REGION) != 0
                           : (toks[a].wn_span & NER_WN_REGION) && toks[a].wn_pos == 1 && toks[b].wn_pos == 2
                             && (b + 1 >= n || toks[b + 1].wn_pos != 2);
  if (!region)
    return FALSE;
  /* no list after it */
  if (b + 1 < n && (tok_is (text, &toks[b + 1], "and") || tok_is (text, &toks[b + 1], "or")
                    || (tok_is (text, &toks[b + 1], ",") && b + 2 < n && (toks[b + 2].flags & NER_TOK_UPPER1))))
    return FALSE;
  NerMention *p = &g_array_index (out, NerMention, out->len - 1);
  if (p->type != NER_LOC || p->end != toks[a - 2].cend || p->role != NULL)
    return FALSE;
  guint x = a - 2;
  while (x > 0 && toks[x].cstart > p->start)
    x--;
  if (toks[x].cstart != p->start || (toks[x].wn & NER_WN_STATE) || (toks[x].flags & NER_TOK_CAPSLINE))
    return FALSE;
  /* nor one before it */
  if (x >= 2 && tok_is (text, &toks[x - 1], ",") && (toks[x - 2].flags & NER_TOK_UPPER1))
    return FALSE;
  guint64 h = NER_SEQ_SEED;
  for (guint k = x; k <= a - 2; k++)
    h = ner_seq_step (h, toks[k].lower);
  if (ner_table_get (&model->countries, h) != NULL)
    return FALSE;
  h = NER_SEQ_SEED;
  for (guint k = a; k <= b; k++)
    h = ner_seq_step (h, toks[k].lower);
  if (ner_table_get (&model->countries, h) != NULL)
    return FALSE;
  p->end = toks[b].cend;
  p->bend = p->bstart + (toks[b].bend - toks[x].bstart);
  return TRUE;
}

/* "Radio Romania": a capitalised "Radio" right before the place at @a,
 * part of no other name (untagged, or cut from the front of the tagger's
 * span that began at @first), makes a broadcaster of it. */
static gboolean
radio_before (const char *text, const NerToken *toks, guint a, guint first)
{
  return a > 0 && (toks[a - 1].flags & NER_TOK_UPPER1) && tok_is (text, &toks[a - 1], "Radio")
         && (toks[a - 1].tag == NER_O || a > first);
}

/* Entity spans of one tagged chunk. */
static void
collect_spans (const NerModel *model, NerScratch *s, const char *text, const NerToken *toks, guint n,
               gsize boff, const NerOptions *opts, GArray *out)
{
  for (guint i = 0; i < n;)
    {
      int tag = toks[i].tag;
      /* a name goes on over no figure: after one, an I- tag opens a
       * new name ("Mijatovic 7-1 Luis Figo") */
      if ((tag == NER_I_PER || tag == NER_I_ORG || tag == NER_I_LOC) && i > 0 && (toks[i - 1].flags & NER_TOK_FIGURE)
          && (toks[i].flags & NER_TOK_LETTER) && !(toks[i].flags & NER_TOK_FIGURE))
        tag--;
      if (tag == NER_O || (tag != NER_B_PER && tag != NER_B_ORG && tag != NER_B_LOC))
        {
          /* gazetteer fallback: a known place or organisation the tagger
           * left out (not a common word that a list has in capitals only:
           * "Us", "Who") */
          const NerToken *t = &toks[i];
          guint32 kind = t->gaz_span & (NER_GZ_LOC | NER_GZ_ORG | NER_GZ_PER);
          if (tag == NER_O && t->gaz_pos == 1 && kind != 0 && (kind & (kind - 1)) == 0
              && !(t->gaz_span & (NER_GZ_DEMONYM | NER_GZ_TITLE)) && !(t->flags & NER_TOK_CAPSLINE && t->flags & NER_TOK_COMMON)
              && !((t->flags & (NER_TOK_GAZ_CAPS | NER_TOK_COMMON)) == (NER_TOK_GAZ_CAPS | NER_TOK_COMMON)
                   && !(t->flags & (NER_TOK_ALLUPPER | NER_TOK_CAPSLINE)) && (i + 1 >= n || toks[i + 1].gaz_pos != 2)))
            {
              guint j = i + 1;
              gboolean clear = TRUE;
              while (j < n && toks[j].gaz_pos == 2)
                clear &= toks[j++].tag == NER_O;
              if (clear && ((t->flags & NER_TOK_UPPER1) || (t->flags & NER_TOK_CAPSLINE)))
                {
                  NerType type = kind == NER_GZ_LOC ? NER_LOC : kind == NER_GZ_ORG ? NER_ORG : NER_PER;
                  if (type == NER_PER && j < n && arabic_article (text, &toks[j]))
                    j++;
                  if (type == NER_LOC && names_a_treaty (text, toks, n, i, j - 1))
                    {
                      i = j;
                      continue;
                    }
                  if (type == NER_LOC && club_in_brackets (model, text, toks, n, i, j - 1, out))
                    type = NER_ORG;
                  guint d = type == NER_PER ? 0 : desk_after (text, toks, n, j - 1);
                  if (d != 0 || (type == NER_LOC && team_numeral (text, toks, n, j)))
                    {
                      type = NER_ORG;
                      j = d != 0 ? d + 1 : j + 1;
                    }
                  guint from = i;
                  if (type == NER_LOC && radio_before (text, toks, i, i))
                    {
                      type = NER_ORG;
                      from = i - 1;
                    }
                  NerMention m = { type, toks[from].cstart, toks[j - 1].cend, (guint32) (boff + toks[from].bstart),
                                   (guint32) (boff + toks[j - 1].bend), NULL, NULL };
                  if ((opts->types & (1u << type))
                      && !(type == NER_LOC && merge_town_region (model, text, toks, n, i, j - 1, out)))
                    g_array_append_val (out, m);
                  i = j;
                  continue;
                }
            }
          i++;
          continue;
        }
      guint j = i + 1;
      while (j < n && toks[j].tag == tag + 1 && !(toks[j].flags & (NER_TOK_NL_BEFORE | NER_TOK_FIGURE)))
        j++;
      NerType type = tag == NER_B_PER ? NER_PER : tag == NER_B_ORG ? NER_ORG : NER_LOC;
      guint a = i, b = j - 1;
      /* "Sony's PlayStation", "France's Snecma", "Iraq's Ministry of
       * Communications": a name the gazetteers know, its possessive and
       * a capitalised name after it are two names ("Lloyd's of London",
       * "Queen's Park" stay whole: nothing is listed before, or no
       * capital follows) */
      for (guint k = a + 1; k + 1 <= b; k++)
        {
          if (!is_possessive (text, &toks[k]))
            continue;
          guint32 kind = toks[a].gaz_span & (NER_GZ_LOC | NER_GZ_ORG | NER_GZ_PER);
          if (toks[a].gaz_pos == 1 && kind != 0 && (a + 1 == k || toks[k - 1].gaz_pos == 2) && toks[k].gaz_pos != 2
              && (toks[k + 1].flags & NER_TOK_UPPER1) && !(toks[a].flags & NER_TOK_PUNCT))
            {
              NerType first = (kind & (kind - 1)) != 0 ? type
                              : kind == NER_GZ_LOC ? NER_LOC : kind == NER_GZ_ORG ? NER_ORG : NER_PER;
              if (opts->types & (1u << first))
                {
                  NerMention m = { first, toks[a].cstart, toks[k - 1].cend, (guint32) (boff + toks[a].bstart),
                                   (guint32) (boff + toks[k - 1].bend), NULL, NULL };
                  if (toks[a].flags & NER_TOK_CAPSLINE)
                    m.canonical = g_strdup ("\x01");
                  g_array_append_val (out, m);
                }
              a = k + 1;
              /* "Oxfam's Barbara Stocking": a given name opens a person */
              if ((toks[a].gaz & NER_GZ_GIVEN) && a < b && !(toks[a].gaz_span & (NER_GZ_LOC | NER_GZ_ORG)))
                type = NER_PER;
            }
          break;
        }
      /* "Security Council Secretary Umerov": the title ends the
       * organisation, and the capitalised words after it are a person */
      if (type == NER_ORG && b > a && (toks[b].gaz & NER_GZ_TITLE) && !(toks[b].gaz & NER_GZ_ORGWORD))
        {
          while (b > a && (toks[b].gaz & NER_GZ_TITLE))
            b--;
          guint k = j;
          while (k < n && k < j + 3 && toks[k].tag == NER_O && (toks[k].flags & NER_TOK_UPPER1)
                 && !(toks[k].flags & (NER_TOK_NL_BEFORE | NER_TOK_COMMON)) && !(toks[k].gaz & NER_GZ_TITLE))
            k++;
          if (k > j && (opts->types & (1u << NER_PER)))
            {
              NerMention p = { NER_PER, toks[j].cstart, toks[k - 1].cend, (guint32) (boff + toks[j].bstart),
                               (guint32) (boff + toks[k - 1].bend), NULL, NULL };
              if (opts->roles)
                p.role = find_role (text, toks, n, j, k - 1);
              NerMention o = { NER_ORG, toks[a].cstart, toks[b].cend, (guint32) (boff + toks[a].bstart),
                               (guint32) (boff + toks[b].bend), NULL, NULL };
              if (opts->types & (1u << NER_ORG))
                g_array_append_val (out, o);
              g_array_append_val (out, p);
              i = k;
              continue;
            }
        }
      /* "I'm", "We've" ... are no part of a name */
      if (is_contraction (model, text, &toks[a]))
        {
          if (a == b)
            {
              i = j;
              continue;
            }
          a++;
        }
      /* a name starts with a capital (in a headline in capitals too: a
       * word in lower case in a title-case line is none, "(capt)"); a lone
       * sentence-initial common word is not a name, nor one that the
       * gazetteers list in capitals only ("Who is ...": not WHO) */
      if (!(toks[a].flags & NER_TOK_UPPER1)
          || (a == b && (toks[a].flags & NER_TOK_SENT) && (toks[a].flags & NER_TOK_COMMON)
              && (!(toks[a].gaz_span & (NER_GZ_LOC | NER_GZ_ORG | NER_GZ_PER))
                  || ((toks[a].flags & NER_TOK_GAZ_CAPS) && !(toks[a].flags & (NER_TOK_ALLUPPER | NER_TOK_CAPSLINE))))))
        {
          i = j;
          continue;
        }
      /* a word that is no name on its own and the lower-case words after
       * it are not part of the name that follows ("Tory co-chairman Liam
       * Fox"; "Oscar Wilde", "PC Pro", "Olympic Stadium" stay whole) */
      if (a < b && (toks[a].flags & NER_TOK_NONAME) && (toks[a + 1].flags & NER_TOK_LETTER)
          && !(toks[a + 1].flags & NER_TOK_UPPER1))
        {
          guint k = a + 1;
          while (k < b && (toks[k].flags & NER_TOK_LETTER) && !(toks[k].flags & NER_TOK_UPPER1))
            k++;
          if (toks[k].flags & NER_TOK_UPPER1)
            a = k;
        }
      /* "US President Donald Trump": a country the gazetteers list before
       * a title is a place of its own, and the title the person's role */
      if (type == NER_PER && a + 1 < b && toks[a].gaz_pos == 1 && toks[a + 1].gaz_pos != 2
          && (toks[a].gaz_span & (NER_GZ_LOC | NER_GZ_ORG | NER_GZ_PER)) == NER_GZ_LOC
          && (toks[a + 1].gaz & NER_GZ_TITLE) && (toks[a + 1].flags & NER_TOK_UPPER1) && (opts->types & (1u << NER_LOC)))
        {
          NerMention c = { NER_LOC, toks[a].cstart, toks[a].cend, (guint32) (boff + toks[a].bstart),
                           (guint32) (boff + toks[a].bend), NULL, NULL };
          g_array_append_val (out, c);
          a++;
        }
      /* titles in front of a person are its role, not its name */
      /* (a title that is also a surname only in front: "King Abdullah",
       * not "Stephen King") */
      while (type == NER_PER && a < b && (toks[a].gaz & NER_GZ_TITLE)
             && (!(toks[a].gaz & (NER_GZ_GIVEN | NER_GZ_SURNAME)) || (a == i && !(toks[a].gaz & NER_GZ_GIVEN))))
        a++;
      /* a nationality before a person is no part of the name
       * ("Scotsman James Watt") */
      while (type == NER_PER && a < b && (toks[a].gaz & NER_GZ_DEMONYM)
             && !(toks[a].gaz & (NER_GZ_GIVEN | NER_GZ_SURNAME | NER_GZ_LOC | NER_GZ_ORG)))
        a++;
      /* "While Zelenskyy ...": a common word opening the sentence is not
       * part of the name after it (but "The Hague", "The Times" are) */
      while (a < b && (toks[a].flags & NER_TOK_SENT) && (toks[a].flags & NER_TOK_COMMON) && toks[a].gaz_span == 0
             && !(toks[a].gaz & (NER_GZ_GIVEN | NER_GZ_SURNAME | NER_GZ_TITLE)) && !tok_is (text, &toks[a], "the"))
        a++;
      /* a name does not end in a lower-case word ("the West increases") */
      while (b > a && ((toks[b].flags & NER_TOK_PUNCT)
                       || ((toks[b].flags & NER_TOK_LETTER) && !(toks[b].flags & (NER_TOK_UPPER1 | NER_TOK_CAPSLINE | NER_TOK_DIGIT))
                           && !(type == NER_PER && arabic_article (text, &toks[b])))))
        b--;
      /* a person's regnal number, epithet or "Jr." ends the name: "Henry
       * I", "Franz Joseph I.", "Louis the German", "Lucas Cranach the
       * Elder", "Martin Luther King, Jr." ("I" only where no lower-case
       * word follows it, a verb after a pronoun: "when Henry I met") */
      if (type == NER_PER && b + 1 < n && !(toks[b + 1].flags & NER_TOK_NL_BEFORE))
        {
          const NerToken *x = &toks[b + 1];
          if (regnal_number (text, x) && x->tag == NER_O
              && (x->bend - x->bstart > 1 || b + 2 >= n || !(toks[b + 2].flags & NER_TOK_LETTER)
                  || (toks[b + 2].flags & NER_TOK_UPPER1) || tok_is (text, &toks[b + 2], "and")
                  || tok_is (text, &toks[b + 2], "of") || tok_is (text, &toks[b + 2], "who")))
            b++;
          else if (b + 2 < n && tok_is (text, x, "the") && !(x->flags & NER_TOK_UPPER1) && epithet (text, &toks[b + 2])
                   && !(toks[b + 2].flags & NER_TOK_NL_BEFORE)
                   && !(b + 3 < n && (toks[b + 3].flags & NER_TOK_UPPER1) && !(toks[b + 3].flags & NER_TOK_PUNCT)))
            b += 2;
          else
            {
              guint k = b + 1;
              if (tok_is (text, x, ",") && k + 1 < n && !(toks[k + 1].flags & NER_TOK_NL_BEFORE))
                k++;
              if (tok_is (text, &toks[k], "Jr.") || tok_is (text, &toks[k], "Sr."))
                b = k;
              else if ((tok_is (text, &toks[k], "Jr") || tok_is (text, &toks[k], "Sr")) && (toks[k].flags & NER_TOK_UPPER1))
                b = k + 1 < n && tok_is (text, &toks[k + 1], ".") && toks[k + 1].bstart == toks[k].bend ? k + 1 : k;
            }
          /* "Mohammed al-Jadaan": an Arabic article joined to the surname */
          if (b + 1 < n && b + 1 >= j && arabic_article (text, &toks[b + 1]) && !(toks[b + 1].flags & NER_TOK_NL_BEFORE))
            b++;
          /* "Joel Adebayo-Lund": a double-barrelled surname stays whole
           * (the three tokens touch: no space, no line break) */
          while (b + 2 < n && tok_is (text, &toks[b + 1], "-") && toks[b + 1].bstart == toks[b].bend
                 && toks[b + 2].bstart == toks[b + 1].bend && (toks[b + 2].flags & NER_TOK_UPPER1)
                 && !(toks[b + 2].flags & NER_TOK_PUNCT))
            b += 2;
          j = MAX (j, b + 1);
        }
      /* a lower-case particle opens a surname after a title or where
       * no capitalised word precedes it: "General de Meza", "with van Gogh" */
      if (type == NER_PER && a > 0 && a == i && name_particle (text, &toks[a - 1])
          && (a == 1 || !(toks[a - 2].flags & NER_TOK_UPPER1) || person_title (&toks[a - 2])))
        a--;
      /* "the Romanov monarchy", "the Yazidi women": after "the", a
       * capitalised word that opens with no given name and comes before
       * a lower-case word is a modifier, no person (a dynasty is
       * read below) */
      if (type == NER_PER && a > 0 && a == i && tok_is (text, &toks[a - 1], "the")
          && !(toks[a - 1].flags & NER_TOK_CAPSLINE) && !(toks[a].gaz & (NER_GZ_GIVEN | NER_GZ_TITLE))
          && !(toks[a].gaz_span & NER_GZ_PER) && b + 1 < n
          && (toks[b + 1].flags & (NER_TOK_LETTER | NER_TOK_UPPER1)) == NER_TOK_LETTER
          && !tok_is (text, &toks[b + 1], "dynasty") && !tok_is (text, &toks[b + 1], "dynasties")
          && !tok_is (text, &toks[b + 1], "said") && !tok_is (text, &toks[b + 1], "says"))
        {
          /* a town GeoNames lists is a place: "the Abbotsford area" */
          if (a == b && (toks[a].wn & (NER_WN_CITY | NER_WN_REGION)) && !(toks[a].gaz & NER_GZ_SURNAME))
            type = NER_LOC;
          else
            {
              i = j;
              continue;
            }
        }
      /* a one-word "person" GeoNames lists as a town or region, after a
       * preposition of place, is that place: "returned to Kirriemuir",
       * "a village near Husum" (not a listed given name or surname) */
      if (type == NER_PER && a == b && a > 0 && (toks[a].wn & (NER_WN_CITY | NER_WN_REGION))
          && !(toks[a].wn & NER_WN_PER) && !(toks[a].gaz & (NER_GZ_GIVEN | NER_GZ_SURNAME | NER_GZ_PER))
          && !(toks[a - 1].flags & NER_TOK_UPPER1) && place_preposition (text, &toks[a - 1]))
        type = NER_LOC;
      /* a place that names a treaty ("the Paris Agreement") is no name
       * of its own */
      if (type == NER_LOC && names_a_treaty (text, toks, n, a, b))
        {
          i = j;
          continue;
        }
      /* a quoted title: "Shaky Ground", “Zettel’s Traum” (not a known name) */
      if (a > 0 && b + 1 < n && is_quote (text, &toks[a - 1]) && toks[a].gaz_span == 0
          && (is_quote (text, &toks[b + 1])
              || (b + 2 < n && (toks[b + 1].flags & NER_TOK_PUNCT) && is_quote (text, &toks[b + 2]))))
        {
          i = j;
          continue;
        }
      /* "the West", "the East": not a name of its own */
      if (a == b && a > 0 && tok_is (text, &toks[a - 1], "the")
          && (tok_is (text, &toks[a], "West") || tok_is (text, &toks[a], "East") || tok_is (text, &toks[a], "North")
              || tok_is (text, &toks[a], "South")))
        {
          i = j;
          continue;
        }
      /* an award alone is no name ("an Oscar nomination") */
      if (a == b && (toks[a].flags & NER_TOK_NONAME) && !(toks[a].gaz_span & (NER_GZ_LOC | NER_GZ_ORG | NER_GZ_PER)))
        {
          i = j;
          continue;
        }
      /* the column heads of a table and the plural of an acronym ("PCs")
       * are no names */
      if (table_heading (toks, a, b) || (a == b && acronym_plural (text, &toks[a])))
        {
          i = j;
          continue;
        }
      /* the demonym of a known place that no list has ("Liberian") */
      if (a == b && unlisted_demonym (model, text, &toks[a]))
        {
          i = j;
          continue;
        }
      /* a nationality or religion before a lower-case word is an
       * adjective ("the Conservative party", "European inventors"),
       * unless a list knows the word as a name of its own (Celtic) */
      if (a == b && (toks[a].gaz & NER_GZ_DEMONYM) && !(toks[a].gaz_span & (NER_GZ_LOC | NER_GZ_ORG | NER_GZ_PER))
          && !(toks[a].gaz & (NER_GZ_LOC | NER_GZ_ORG | NER_GZ_PER)) && b + 1 < n
          && (toks[b + 1].flags & (NER_TOK_LETTER | NER_TOK_UPPER1 | NER_TOK_CAPSLINE | NER_TOK_NL_BEFORE)) == NER_TOK_LETTER)
        {
          i = j;
          continue;
        }
      /* a name the gazetteers know as exactly one kind keeps that kind,
       * unless numbers around it make it a team in a results line, or the
       * tagger read a person after a title ("Mr Jackson") */
      guint32 kind = toks[a].gaz_span & (NER_GZ_LOC | NER_GZ_ORG | NER_GZ_PER);
      if (toks[a].gaz_pos == 1 && (b + 1 >= n || toks[b + 1].gaz_pos != 2) && kind != 0 && (kind & (kind - 1)) == 0
          && (a + 1 > b || toks[a + 1].gaz_pos == 2) && (b == a || toks[b].gaz_pos == 2)
          && !(b + 1 < n && (toks[b + 1].flags & NER_TOK_DIGIT)) && !(a > 0 && (toks[a - 1].flags & NER_TOK_DIGIT))
          && !(type == NER_PER && a > 0 && person_title (&toks[a - 1])))
        type = kind == NER_GZ_LOC ? NER_LOC : kind == NER_GZ_ORG ? NER_ORG : NER_PER;
      /* a place names a news desk, a broadcaster or a numbered team:
       * "Riga Newsroom", "Radio Romania", "Canada I" are organisations */
      if (type == NER_LOC || type == NER_ORG)
        {
          guint d = desk_after (text, toks, n, b);
          if (d == 0 && b > a && desk_after (text, toks, n, b - 1) == b)
            d = b;
          if (d != 0)
            {
              type = NER_ORG;
              b = d;
              j = MAX (j, d + 1);
            }
        }
      if (type == NER_LOC && radio_before (text, toks, a, i))
        {
          type = NER_ORG;
          a--;
        }
      /* a person after a kind of place in lower case is that place ("the
       * river Nestus"); a name before "dynasty" is the ruling house, an
       * organisation ("the Qing dynasty") */
      if (type == NER_PER && !(a > 0 && person_title (&toks[a - 1])) && place_noun_before (text, toks, a))
        type = NER_LOC;
      if (b + 1 < n && !(toks[b + 1].flags & NER_TOK_UPPER1)
          && (tok_is (text, &toks[b + 1], "dynasty") || tok_is (text, &toks[b + 1], "dynasties")))
        type = NER_ORG;
      if (type == NER_LOC && club_in_brackets (model, text, toks, n, a, b, out))
        type = NER_ORG;
      if (type == NER_LOC && team_numeral (text, toks, n, b + 1))
        {
          type = NER_ORG;
          b++;
          j = MAX (j, b + 1);
        }
      if (opts->types & (1u << type) && !(toks[a].flags & NER_TOK_PUNCT))
        {
          NerMention m = { type, toks[a].cstart, toks[b].cend, (guint32) (boff + toks[a].bstart),
                           (guint32) (boff + toks[b].bend), NULL, NULL };
          if (type == NER_PER && opts->roles)
            m.role = find_role (text, toks, n, a, b);
          /* remember headline-ness in the canonical slot until resolution */
          if (toks[a].flags & NER_TOK_CAPSLINE)
            m.canonical = g_strdup ("\x01");
          /* "Minister Sofia Marangoni", "Paris Hilton": a given name read
           * as a place or organisation right before a person opens it */
          if (type == NER_PER && a > 0 && out->len > 0 && (toks[a - 1].gaz & NER_GZ_GIVEN)
              && (toks[a - 1].flags & NER_TOK_UPPER1) && !(toks[a - 1].flags & NER_TOK_CAPSLINE))
            {
              NerMention *p = &g_array_index (out, NerMention, out->len - 1);
              if ((p->type == NER_LOC || p->type == NER_ORG) && p->start == toks[a - 1].cstart
                  && p->end == toks[a - 1].cend && p->role == NULL && p->canonical == NULL)
                {
                  m.start = p->start;
                  m.bstart = p->bstart;
                  if (opts->roles)
                    {
                      g_free (m.role);
                      m.role = find_role (text, toks, n, a - 1, b);
                    }
                  g_array_set_size (out, out->len - 1);
                }
            }
          if (!(type == NER_LOC && merge_town_region (model, text, toks, n, a, b, out)))
            g_array_append_val (out, m);
          else
            g_free (m.role);
          /* "the International Organization for Renewable Energies
           * (IRENA)": an acronym in brackets after an organisation that
           * the tagger left out is its short name */
          if (type == NER_ORG && b + 3 < n && tok_is (text, &toks[b + 1], "(") && tok_is (text, &toks[b + 3], ")")
              && toks[b + 2].tag == NER_O
              && (toks[b + 2].flags & (NER_TOK_ALLUPPER | NER_TOK_LETTER | NER_TOK_DIGIT)) == (NER_TOK_ALLUPPER | NER_TOK_LETTER)
              && toks[b + 2].bend - toks[b + 2].bstart >= 2 && toks[b + 2].bend - toks[b + 2].bstart <= 8
              && !(toks[b + 2].flags & NER_TOK_CAPSLINE))
            {
              NerMention acr = { NER_ORG, toks[b + 2].cstart, toks[b + 2].cend, (guint32) (boff + toks[b + 2].bstart),
                                 (guint32) (boff + toks[b + 2].bend), NULL, NULL };
              g_array_append_val (out, acr);
              j = MAX (j, b + 4);
            }
        }
      i = j;
    }
  (void) model;
  (void) s;
}

/* g_utf8_casefold (), with ASCII text (most names) folded directly. */
static char *
fold (const char *s, gssize len)
{
  if (len < 0)
    len = strlen (s);
  for (gssize i = 0; i < len; i++)
    if ((guchar) s[i] >= 0x80)
      return g_utf8_casefold (s, len);
  return g_ascii_strdown (s, len);
}

static char *
last_word_key (const char *canon)
{
  const char *sp = strrchr (canon, ' ');
  return fold (sp ? sp + 1 : canon, -1);
}

/* Token-sequence key of text[b..e) (case-insensitive), 0 if none. */
static guint64
span_key (NerScratch *s, const char *text, guint32 b, guint32 e, guint *n_tokens)
{
  if (s->sub == NULL)
    s->sub = ner_scratch_new ();
  return ner_name_key (s->sub, text + b, e - b, n_tokens);
}

#define DOC_MAX_LEN 4

/* The document's own evidence on a capitalised word (bits per
 * lower-case form): written in lower case in running text ("worries"),
 * or capitalised inside a sentence outside headlines ("... said Apple");
 * the canon field of the entry counts its capitalised sentence starts. */
enum { SEEN_LOWER = 1, SEEN_CAP_INSIDE = 2 };

static void
note_words (NerTable *seen, const NerToken *toks, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      const NerToken *t = &toks[i];
      if ((t->flags & (NER_TOK_LETTER | NER_TOK_LONG | NER_TOK_CAPSLINE)) != NER_TOK_LETTER)
        continue;
      if (!(t->flags & NER_TOK_UPPER1))
        ner_table_insert (seen, t->lower)->bits |= SEEN_LOWER;
      else if (!(t->flags & NER_TOK_SENT) && !(t->flags & NER_TOK_ALLUPPER))
        ner_table_insert (seen, t->lower)->bits |= SEEN_CAP_INSIDE;
      else
        ner_table_insert (seen, t->lower)->canon++;   /* capitalised at sentence starts */
    }
}

/* Whether the one-word name @t, at the start of a sentence or in a
 * headline, is an ordinary word that only the position capitalises: the
 * document writes it in lower case elsewhere, or the dictionary lists it
 * only in lower case ("Worries about the deficit ..."), and the document
 * never capitalises it inside a sentence; a word the gazetteers or WordNet
 * know as a name is kept, and so is a word in capitals ("US", "us"). */
static gboolean
capitalised_common_word (const NerTable *seen, const NerToken *t)
{
  if (!(t->flags & (NER_TOK_SENT | NER_TOK_CAPSLINE)) || (t->flags & NER_TOK_ALLUPPER)
      || (t->gaz_span & (NER_GZ_PER | NER_GZ_ORG | NER_GZ_LOC)) || (t->gaz & (NER_GZ_GIVEN | NER_GZ_SURNAME))
      || (t->wn & (NER_WN_PER | NER_WN_ORG | NER_WN_LOC)))
    return FALSE;
  const NerEntry *e = ner_table_get (seen, t->lower);
  guint bits = e != NULL ? e->bits : 0;
  if (bits & SEEN_CAP_INSIDE)
    return FALSE;
  if (bits & SEEN_LOWER)
    return TRUE;
  return (t->flags & (NER_TOK_DICT_LOWER | NER_TOK_DICT_CAP)) == NER_TOK_DICT_LOWER && e != NULL && e->canon <= 1;
}

/* Drops the one-word PER/ORG/LOC mentions of @out (in text order) that
 * are capitalised common words (above). */
static void
drop_capitalised_words (const NerModel *model, NerScratch *s, const char *text, gsize len, NerToken *whole,
                        guint n_whole, GArray *out)
{
  /* room for each word once (a text of one chunk: its tokens; the table
   * grows if need be) */
  guint bits = 6;
  while ((1u << bits) < (whole != NULL ? (gsize) n_whole * 2 : len / 2) && bits < 20)
    bits++;
  NerTable *seen = &s->seen;
  ner_table_reset (seen, bits);
  if (whole != NULL)
    note_words (seen, whole, n_whole);
  else
    for (gsize from = 0; from < len;)
      {
        gsize to = chunk_end (text, len, from);
        guint n;
        const NerToken *toks = ner_tokenize (model, s, text + from, to - from, &n);
        note_words (seen, toks, n);
        from = to;
      }
  guint w = 0, next = 0;
  gsize from = 0, to = 0;
  const NerToken *toks = whole;
  guint n = n_whole;
  for (guint k = 0; k < out->len; k++)
    {
      NerMention *m = &g_array_index (out, NerMention, k);
      gboolean drop = FALSE;
      if (m->type <= NER_LOC)
        {
          if (whole == NULL && m->bstart >= to)
            {
              /* the chunk of this mention, tokenized again */
              while (m->bstart >= to)
                from = to, to = chunk_end (text, len, from);
              toks = ner_tokenize (model, s, text + from, to - from, &n);
              next = 0;
            }
          while (next < n && from + toks[next].bend <= m->bstart)
            next++;
          drop = next < n && from + toks[next].bstart == m->bstart && from + toks[next].bend == m->bend
                 && capitalised_common_word (seen, &toks[next]);
        }
      if (drop)
        {
          g_free (m->canonical);
          g_free (m->role);
          continue;
        }
      g_array_index (out, NerMention, w++) = *m;
    }
  g_array_set_size (out, w);
}


/* An organisation whose words after the first are all head words
 * ("Cairn Energy", "Yukos Oil Company") votes for its first word as an
 * organisation too, so that the word alone is found where the tagger
 * left it out ("Cairn said ..."). */
static void
note_partial (const NerModel *model, NerScratch *s, const char *text, const NerMention *m, NerTable *index,
              GArray *votes)
{
  NerScratch *sub = s->sub;
  guint n = ner_tokenize_raw (sub, text + m->bstart, m->bend - m->bstart, 0);
  if (n < 2 || !(sub->toks[0].flags & NER_TOK_UPPER1))
    return;
  for (guint i = 1; i < n; i++)
    {
      const NerEntry *g = ner_table_get (&model->gaz, ner_seq_step (NER_SEQ_SEED, sub->toks[i].lower));
      if (g == NULL || !(g->bits & NER_GZ_ORGWORD) || (g->bits & (NER_GZ_LOC | NER_GZ_ORG)))
        return;
    }
  const NerEntry *g0 = ner_table_get (&model->gaz, ner_seq_step (NER_SEQ_SEED, sub->toks[0].lower));
  if (g0 != NULL && (g0->bits & (NER_GZ_LOC | NER_GZ_DEMONYM | NER_GZ_GIVEN | NER_GZ_SURNAME | NER_GZ_TITLE | NER_GZ_NONAME)))
    return;
  guint64 key = ner_seq_step (NER_SEQ_SEED, sub->toks[0].lower);
  NerEntry *e = ner_table_insert (index, key);
  if (e->bits == 0)
    {
      guint v[5] = { 0, 1, 0, 1, NER_ORG };
      g_array_append_vals (votes, v, 1);
      e->bits = votes->len;
    }
}

/* The votes of name @key (see document_consistency ()), or NULL. */
static const guint *
votes_of (const NerTable *index, const GArray *votes, guint64 key)
{
  const NerEntry *e = ner_table_get (index, key);
  return e != NULL ? (const guint *) votes->data + (gsize) (e->bits - 1) * 5 : NULL;
}

/* Document-level consistency of PER/ORG/LOC mentions: a name keeps the
 * type it has most often in the document, and a later (or earlier)
 * capitalised occurrence of a name tagged elsewhere in the document is
 * tagged too. */
static void
document_consistency (const NerModel *model, NerScratch *s, const char *text, gsize len, const NerOptions *opts,
                      NerToken *whole, guint n_whole, GArray *out)
{
  if (out->len == 0)
    return;
  g_array_sort (out, mention_cmp);
  drop_capitalised_words (model, s, text, len, whole, n_whole, out);
  /* key -> index of its votes: per type, then the number of tokens,
   * then the type of the first mention */
  NerTable *index = &s->index;
  ner_table_reset (index, 6);
  g_autoptr(GArray) votes = g_array_new (FALSE, TRUE, sizeof (guint) * 5);
  g_autofree guint64 *keys = g_new0 (guint64, out->len);
  for (guint k = 0; k < out->len; k++)
    {
      NerMention *m = &g_array_index (out, NerMention, k);
      guint nt;
      guint64 key = span_key (s, text, m->bstart, m->bend, &nt);
      if (key == 0 || nt > DOC_MAX_LEN || m->type > NER_LOC)
        continue;
      keys[k] = key;
      if (m->type == NER_ORG && nt >= 2)
        note_partial (model, s, text, m, index, votes);
      NerEntry *e = ner_table_insert (index, key);
      if (e->bits == 0)
        {
          guint v[5] = { 0, 0, 0, nt, m->type };   /* the first seen breaks ties */
          g_array_append_vals (votes, v, 1);
          e->bits = votes->len;
        }
      ((guint *) votes->data)[(gsize) (e->bits - 1) * 5 + m->type]++;
    }
  /* the majority type wins; on a tie, the type of the first mention */
  for (guint k = 0; k < out->len; k++)
    {
      NerMention *m = &g_array_index (out, NerMention, k);
      if (keys[k] == 0)
        continue;
      const guint *v = votes_of (index, votes, keys[k]);
      NerType best = (NerType) v[4];
      for (int t = NER_PER; t <= NER_LOC; t++)
        if (v[t] > v[best])
          best = (NerType) t;
      if (best != m->type)
        {
          m->type = best;
          g_clear_pointer (&m->role, g_free);
        }
    }
  /* untagged repeats */
  g_autoptr(GArray) added = g_array_new (FALSE, FALSE, sizeof (NerMention));
  guint next = 0;
  gint64 cbase = 0;
  g_array_sort (out, mention_cmp);
  for (gsize from = 0; from < len;)
    {
      gsize to = chunk_end (text, len, from);
      guint n = n_whole;
      NerToken *toks = whole != NULL ? whole : ner_tokenize (model, s, text + from, to - from, &n);
      for (guint i = 0; i < n; i++)
        {
          const NerToken *t = &toks[i];
          guint32 bs = (guint32) (from + t->bstart);
          while (next < out->len && g_array_index (out, NerMention, next).bend <= bs)
            next++;
          if (next < out->len && g_array_index (out, NerMention, next).bstart <= bs)
            continue;   /* inside a mention */
          if (!(t->flags & NER_TOK_UPPER1) || (t->flags & NER_TOK_LONG))
            continue;
          guint64 h = NER_SEQ_SEED;
          guint best = 0;
          const guint *bv = NULL;
          for (guint l = 1; l <= DOC_MAX_LEN && i + l <= n; l++)
            {
              const NerToken *u = &toks[i + l - 1];
              if (l > 1 && (u->flags & NER_TOK_NL_BEFORE))
                break;
              h = ner_seq_step (h, u->lower);
              const guint *v = votes_of (index, votes, h);
              if (v != NULL && v[3] == l)
                best = l, bv = v;
            }
          if (best == 0)
            continue;
          const NerToken *last = &toks[i + best - 1];
          guint32 be = (guint32) (from + last->bend);
          if (next < out->len && g_array_index (out, NerMention, next).bstart < be)
            continue;   /* would overlap the next mention */
          if (best == 1 && (t->flags & (NER_TOK_SENT | NER_TOK_CAPSLINE)) && (t->flags & NER_TOK_COMMON))
            continue;   /* "May" opening a sentence */
          if (best == 1 && (t->flags & NER_TOK_NONAME))
            continue;   /* "Tory" after "Tory Party" */
          if (i + best < n && (toks[i + best].flags & NER_TOK_UPPER1) && !(toks[i + best].flags & NER_TOK_NL_BEFORE))
            continue;   /* part of a longer capitalised name */
          if (i > 0 && (toks[i - 1].flags & NER_TOK_UPPER1) && !(t->flags & (NER_TOK_NL_BEFORE | NER_TOK_SENT)))
            continue;
          int type = (int) bv[4];
          for (int c = NER_PER; c <= NER_LOC; c++)
            if (bv[c] > bv[type])
              type = c;
          if (!(opts->types & (1u << type)))
            continue;
          NerMention m = { (NerType) type, cbase + t->cstart, cbase + last->cend, bs, be, NULL, NULL };
          if (t->flags & NER_TOK_CAPSLINE)
            m.canonical = g_strdup ("\x01");
          g_array_append_val (added, m);
          i += best - 1;
        }
      if (to < len)   /* the last chunk needs no count */
        cbase += g_utf8_strlen (text + from, to - from);
      from = to;
    }
  if (added->len > 0)
    {
      g_array_append_vals (out, added->data, added->len);
      g_array_sort (out, mention_cmp);
    }
}

/* What the longer names of an article tell about its one-word names:
 * per case-folded word, whether it is part of a person's name (bit 0),
 * and how often it reads as part of an organisation (bits 1 to 15) and
 * of a place (bits 16 to 30). */
enum { EV_PER = 1, EV_ORG = 1 << 1, EV_LOC = 1 << 16 };

static void
note_evidence (GHashTable *ev, const char *name, const NerToken *t, guint what)
{
  g_autofree char *w = fold (name + t->bstart, t->bend - t->bstart);
  guint old = GPOINTER_TO_UINT (g_hash_table_lookup (ev, w));
  guint v = what == EV_PER ? old | EV_PER : old + what;
  if (((v >> 1) & 0x7fff) < ((old >> 1) & 0x7fff) || ((v >> 16) & 0x7fff) < ((old >> 16) & 0x7fff))
    return;   /* counts saturate */
  g_hash_table_replace (ev, g_steal_pointer (&w), GUINT_TO_POINTER (v));
}

static guint32
gaz_bits (const NerModel *model, const NerToken *t)
{
  const NerEntry *g = ner_table_get (&model->gaz, ner_seq_step (NER_SEQ_SEED, t->lower));
  return g != NULL ? g->bits : 0;
}

/* Partial mentions of the organisations and places of the article, and
 * one-word "persons" that its longer names show to be places or
 * organisations:
 * - an acronym that spells the capitalised words of a longer
 *   organisation ("IMF" after "International Monetary Fund") and the
 *   first word of an organisation whose other words are all head words
 *   ("Yukos" after "Yukos Oil Company") take its type and canonical form;
 * - a one-word person that is part of no longer person but part of
 *   longer organisations or places becomes what these names show most
 *   often: a place when it sits in a place, follows "of" after a head
 *   word ("Port of Velmora", "University of ...") or comes before a
 *   place's head word ("Velmora Port Authority", "Villa Park"), else an
 *   organisation ("Aston Villa", "House of Lords"). */
static void
resolve_partial (const NerModel *model, NerScratch *s, const char *text, GArray *out)
{
  if (s->sub == NULL)
    s->sub = ner_scratch_new ();
  NerScratch *sub = s->sub;
  g_autoptr(GHashTable) full = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) ev = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint k = 0; k < out->len; k++)
    {
      NerMention *m = &g_array_index (out, NerMention, k);
      const char *name = text + m->bstart;
      if (m->type > NER_LOC || memchr (name, ' ', m->bend - m->bstart) == NULL)
        continue;
      guint n = ner_tokenize_raw (sub, name, m->bend - m->bstart, 0);
      const NerToken *toks = sub->toks;
      if (n < 2)
        continue;
      GString *initials = g_string_new (NULL);
      gboolean heads = TRUE;
      for (guint i = 0; i < n; i++)
        {
          const NerToken *t = &toks[i];
          if (!(t->flags & NER_TOK_UPPER1))
            continue;
          g_string_append_c (initials, name[t->bstart]);
          if (i > 0)
            {
              guint32 g = gaz_bits (model, t);
              heads &= (g & NER_GZ_ORGWORD) && !(g & (NER_GZ_LOC | NER_GZ_ORG));
            }
          gboolean place = m->type == NER_LOC
                           || (i >= 2 && tok_is (name, &toks[i - 1], "of")
                               && (gaz_bits (model, &toks[i - 2]) & (NER_GZ_LOCWORD | NER_GZ_ORGWORD)))
                           || (i + 1 < n && (gaz_bits (model, &toks[i + 1]) & NER_GZ_LOCWORD));
          note_evidence (ev, name, t, m->type == NER_PER ? EV_PER : place ? EV_LOC : EV_ORG);
        }
      if (m->type == NER_ORG && initials->len >= 2 && initials->len == (gsize) g_utf8_strlen (initials->str, -1))
        {
          char *key = g_strconcat ("\x02", initials->str, NULL);
          if (!g_hash_table_contains (full, key))
            g_hash_table_insert (full, key, m);
          else
            g_free (key);
        }
      if (m->type == NER_ORG && heads && (toks[0].flags & NER_TOK_UPPER1) && !(toks[0].flags & NER_TOK_COMMON)
          && !(gaz_bits (model, &toks[0]) & (NER_GZ_LOC | NER_GZ_DEMONYM | NER_GZ_GIVEN | NER_GZ_SURNAME | NER_GZ_TITLE | NER_GZ_NONAME)))
        {
          char *key = fold (name + toks[0].bstart, toks[0].bend - toks[0].bstart);
          if (!g_hash_table_contains (full, key))
            g_hash_table_insert (full, key, m);
          else
            g_free (key);
        }
      g_string_free (initials, TRUE);
    }
  if (g_hash_table_size (ev) == 0)
    return;
  for (guint k = 0; k < out->len; k++)
    {
      NerMention *m = &g_array_index (out, NerMention, k);
      const char *name = text + m->bstart;
      gsize len = m->bend - m->bstart;
      if (m->type > NER_LOC || memchr (name, ' ', len) != NULL || strchr (m->canonical, ' ') != NULL)
        continue;
      gboolean upper = len >= 2;
      for (gsize i = 0; i < len && upper; i++)
        upper = g_ascii_isupper (name[i]);
      g_autofree char *folded = NULL;
      const NerMention *f;
      if (upper)
        {
          g_autofree char *acr = g_malloc (len + 2);
          acr[0] = '\x02';
          memcpy (acr + 1, name, len);
          acr[len + 1] = '\0';
          f = g_hash_table_lookup (full, acr);
        }
      else
        {
          folded = fold (name, len);
          f = g_hash_table_lookup (full, folded);
        }
      if (f != NULL && f != m && (m->type != NER_PER || !upper))
        {
          if (strlen (m->canonical) == len && memcmp (m->canonical, name, len) == 0)
            {
              g_free (m->canonical);
              m->canonical = g_strdup (f->canonical);
            }
          if (m->type != f->type)
            g_clear_pointer (&m->role, g_free);
          m->type = f->type;
          continue;
        }
      if (folded == NULL)
        folded = fold (name, len);
      guint bits = GPOINTER_TO_UINT (g_hash_table_lookup (ev, folded));
      guint orgs = (bits >> 1) & 0x7fff, places = (bits >> 16) & 0x7fff;
      if (m->type == NER_PER && !(bits & EV_PER) && orgs + places > 0)
        {
          m->type = places > orgs ? NER_LOC : NER_ORG;
          g_clear_pointer (&m->role, g_free);
        }
    }
}

static gboolean
has_unresolved (const GArray *dates)
{
  for (guint k = 0; k < dates->len; k++)
    {
      const NerMention *m = &g_array_index (dates, NerMention, k);
      if (m->type == NER_DATE && m->canonical == NULL)
        return TRUE;
    }
  return FALSE;
}

/* The DATE, MONEY and PERCENT spans of a text of several chunks against
 * @ref, the text tokenized again. */
static void
find_dates_again (const NerModel *model, NerScratch *s, const char *text, gsize len, const NerOptions *opts,
                  const GDate *ref, GArray *dates)
{
  gint64 cbase = 0;
  for (gsize from = 0; from < len;)
    {
      gsize to = chunk_end (text, len, from);
      guint n;
      NerToken *toks = ner_tokenize (model, s, text + from, to - from, &n);
      for (guint k = 0; k < n && cbase != 0; k++)
        toks[k].cstart += cbase, toks[k].cend += cbase;
      guint before = dates->len;
      ner_find_dates (model, text + from, toks, n, opts, ref, dates, NULL);
      for (guint k = before; k < dates->len; k++)
        {
          NerMention *m = &g_array_index (dates, NerMention, k);
          m->bstart += (guint32) from;
          m->bend += (guint32) from;
        }
      if (to < len)   /* the last chunk needs no count */
        cbase += g_utf8_strlen (text + from, to - from);
      from = to;
    }
}

GArray *
ner_extract (const NerModel *model, NerScratch *s, const char *text, gsize len, const NerOptions *opts)
{
  GArray *out = s->mentions;
  ner_mentions_clear (out);
  g_autoptr(GArray) dates = g_array_new (FALSE, FALSE, sizeof (NerMention));
  /* where the date rules matched in a one-chunk text */
  g_autoptr(GArray) matched = g_array_new (FALSE, FALSE, sizeof (guint));
  GDate ref = opts->ref;
  gboolean ref_ok = g_date_valid (&ref);
  gint64 cbase = 0;
  guint n_first = 0;
  for (gsize from = 0; from < len;)
    {
      gsize to = chunk_end (text, len, from);
      const char *chunk = text + from;
      guint n;
      NerToken *toks = ner_tokenize (model, s, chunk, to - from, &n);
      if (from == 0)
        n_first = n;
      if (cbase != 0)
        for (guint k = 0; k < n; k++)
          toks[k].cstart += cbase, toks[k].cend += cbase;
      if (from == 0 && !ref_ok && opts->date_from_text)
        {
          /* the dateline: the first full date among the first tokens */
          g_autoptr(GArray) first = g_array_new (FALSE, FALSE, sizeof (NerMention));
          NerOptions o = *opts;
          o.types = 1u << NER_DATE;
          ner_find_dates (model, chunk, toks, MIN (n, 80u), &o, NULL, first, NULL);
          for (guint k = 0; k < first->len; k++)
            {
              NerMention *m = &g_array_index (first, NerMention, k);
              if (!ref_ok && m->canonical && strlen (m->canonical) == 10 && m->canonical[0] != 'X')
                ref_ok = ner_parse_date (m->canonical, &ref);
            }
          ner_mentions_clear (first);
        }
      ner_tag (model, s, chunk, toks, n);
      guint before = dates->len;
      ner_find_dates (model, chunk, toks, n, opts, ref_ok ? &ref : NULL, dates, from == 0 && to == len ? matched : NULL);
      for (guint k = before; k < dates->len; k++)
        {
          NerMention *m = &g_array_index (dates, NerMention, k);
          m->bstart += (guint32) from;
          m->bend += (guint32) from;
        }
      collect_spans (model, s, chunk, toks, n, from, opts, out);
      if (to < len)   /* the last chunk needs no count */
        cbase += g_utf8_strlen (chunk, to - from);
      from = to;
    }

  /* no reference day in meta or text, and a relative date that needs one:
   * the dates again, against the fallback day (the names do not depend
   * on it) */
  if (!ref_ok && g_date_valid (&opts->fallback) && has_unresolved (dates))
    {
      ner_mentions_clear (dates);
      gboolean single = len > 0 && chunk_end (text, len, 0) == len;
      if (single)
        ner_find_dates_at (model, text, s->toks, n_first, opts, &opts->fallback, matched, dates);
      else
        find_dates_again (model, s, text, len, opts, &opts->fallback, dates);
    }

  /* a document of one chunk (most are) keeps its tokens for the
   * document rules; a longer one is tokenized again chunk by chunk */
  document_consistency (model, s, text, len, opts, len > 0 && chunk_end (text, len, 0) == len ? s->toks : NULL,
                        n_first, out);

  /* dates win over overlapping names ("May") */
  if (dates->len > 0)
    {
      guint w = 0, d = 0;
      for (guint k = 0; k < out->len; k++)
        {
          NerMention *m = &g_array_index (out, NerMention, k);
          while (d < dates->len && g_array_index (dates, NerMention, d).end <= m->start)
            d++;
          gboolean overlap = d < dates->len && g_array_index (dates, NerMention, d).start < m->end;
          if (overlap)
            {
              g_free (m->canonical);
              g_free (m->role);
              continue;
            }
          g_array_index (out, NerMention, w++) = *m;
        }
      g_array_set_size (out, w);
    }

  /* canonical names; persons: full names first, then short ones */
  g_autoptr(GHashTable) surnames = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (int pass = 0; pass < 2; pass++)
    for (guint k = 0; k < out->len; k++)
      {
        NerMention *m = &g_array_index (out, NerMention, k);
        gboolean headline = m->canonical != NULL && m->canonical[0] == '\x01';
        if (pass == 0)
          {
            g_clear_pointer (&m->canonical, g_free);
            m->canonical = canonical_name (model, s, text + m->bstart, m->bend - m->bstart, m->type, headline);
            if (m->type == NER_PER && strchr (m->canonical, ' ') != NULL)
              {
                char *key = last_word_key (m->canonical);
                if (!g_hash_table_contains (surnames, key))
                  g_hash_table_insert (surnames, key, m->canonical);
                else
                  g_free (key);
              }
          }
        else if (strchr (m->canonical, ' ') == NULL)
          {
            g_autofree char *key = fold (m->canonical, -1);
            const char *full = g_hash_table_lookup (surnames, key);
            if (full != NULL && m->type == NER_ORG)
              m->type = NER_PER;   /* "Zelenskyy" read as an organisation */
            if (full != NULL && m->type == NER_PER)
              {
                char *c = g_strdup (full);
                g_free (m->canonical);
                m->canonical = c;
              }
          }
      }

  /* one word read as an organisation that names a person of the article */
  {
    g_autoptr(GHashTable) people = g_hash_table_new (g_str_hash, g_str_equal);
    for (guint k = 0; k < out->len; k++)
      {
        NerMention *m = &g_array_index (out, NerMention, k);
        if (m->type == NER_PER && strchr (m->canonical, ' ') != NULL)
          g_hash_table_add (people, m->canonical);
      }
    for (guint k = 0; k < out->len; k++)
      {
        NerMention *m = &g_array_index (out, NerMention, k);
        if (m->type == NER_ORG && memchr (text + m->bstart, ' ', m->bend - m->bstart) == NULL
            && g_hash_table_contains (people, m->canonical))
          m->type = NER_PER;
      }
  }

  resolve_partial (model, s, text, out);

  /* merge the dates in, in text order */
  for (guint k = 0; k < dates->len; k++)
    {
      NerMention *m = &g_array_index (dates, NerMention, k);
      if (opts->types & (1u << m->type))
        g_array_append_val (out, *m);
      else
        {
          g_free (m->canonical);
          g_free (m->role);
        }
    }
  g_array_set_size (dates, 0);
  g_array_sort (out, mention_cmp);
  return out;
}
