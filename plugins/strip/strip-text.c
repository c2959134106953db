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
 * The word lists are in strip-words.c, datelines in strip-dateline.c,
 * the unwrapping of markup in strip-markup.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip-text-private.h"

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
  u->words = strip_count_words (s, u->len);
  u->terminal = strip_ends_terminal (s, u->len);
  u->kind = KIND_BODY;
}

/* Lines of one block (no blank line between them) become units; a block
 * whose lines mostly do not end a sentence is a hard-wrapped paragraph. */
static void
add_block (Work *w, const Span *lines, guint n, gboolean blank_before)
{
  guint open = 0;
  for (guint i = 0; i + 1 < n; i++)
    if (!strip_ends_terminal (lines[i].p, lines[i].len) && lines[i].len >= 30)
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
          if (!strip_ends_terminal (prev, cur.len) && cur.len >= 30 && l->p[0] != '#'
              && !(l->len >= 2 && l->p[0] == '*' && l->p[1] == '*'))
            join = wrapped || strip_starts_lower (l->p, l->len) || (n == 2 && cur.len >= 60 && l->len >= 20);
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
  if (t.len == 0 || t.len > 80 || !strip_has_letters (t.p, t.len))
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
    return strip_count_words (plain, len) <= 6 && !strip_ends_terminal (plain, len - (plain[len - 1] == ')'));
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
  if (after.len == 0 || strip_count_words (after.p, after.len) > 4 || !strip_word_is_capitalised (after.p, after.len))
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
  if (name.len == 0 || strip_count_words (name.p, name.len) > 4)
    return FALSE;
  for (const char *p = name.p; p < name.p + name.len;)
    {
      if (!strip_word_is_capitalised (p, name.p + name.len - p))
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
  for (const char *const *p = strip_byline_prefixes; *p; p++)
    if (strncmp (lower, *p, strlen (*p)) == 0)
      {
        /* the lower-cased prefix has the same byte length for these words */
        rest = plain + strlen (*p);
        break;
      }
  if (rest == NULL)
    return FALSE;
  Span r = trim (rest, strlen (rest));
  if (r.len == 0 || r.len > 160 || strip_count_words (r.p, r.len) > 12)
    return FALSE;
  /* cut at a dash, a bar or a dot: what follows may be a date */
  gsize name_end = r.len;
  const char *tail = NULL;
  static const char *const seps[] = { " \xe2\x80\x94 ", " \xe2\x80\x93 ", " - ", " | ", " \xc2\xb7 ", " \xe2\x80\xa2 ", NULL };
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
  if (author.len == 0 || strip_count_words (author.p, author.len) > 6)
    return FALSE;
  g_autofree char *author_copy = g_strndup (author.p, author.len);
  g_auto(GStrv) words = g_strsplit (author_copy, " ", -1);
  gboolean ok = TRUE;
  for (char **wd = words; *wd; wd++)
    {
      if (**wd == '\0')
        continue;
      g_autofree char *lw = strip_lower_dup (*wd, -1);
      if (!strip_word_is_capitalised (*wd, strlen (*wd)) && !strip_match_equal (lw, strip_name_connectors))
        ok = FALSE;
    }
  if (!ok || (strip_ends_terminal (author.p, author.len) && author.p[author.len - 1] != '.'))
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
          if (strip_parse_dateline (o.p, o.len, &pub, &upd))
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
      if (strip_parse_dateline (tail, r.p + r.len - tail, &pub, &upd))
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
          cur = strip_count_words (p, stop - p);
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

/* Pass 1: kinds that need no context. */
/* Does @s hold an e-mail address (a word, "@", a word with a dot)? */
static gboolean
has_email (const char *s)
{
  for (const char *at = strchr (s, '@'); at != NULL; at = strchr (at + 1, '@'))
    {
      if (at == s || !g_ascii_isalnum (at[-1]) || !g_ascii_isalnum (at[1]))
        continue;
      const char *p = at + 1;
      while (g_ascii_isalnum (*p) || *p == '-' || *p == '.')
        p++;
      const char *dot = memchr (at + 1, '.', p - at - 1);
      if (dot != NULL && dot + 1 < p && g_ascii_isalpha (dot[1]))
        return TRUE;
    }
  return FALSE;
}

/* Does the sentence @s name a newsletter (see strip_is_call_to_action())? */
static gboolean
may_be_newsletter_call (const char *s, gsize len)
{
  return g_strstr_len (s, len, "ewsletter") != NULL || g_strstr_len (s, len, "ieuwsbrief") != NULL
         || g_strstr_len (s, len, "\xd0\xb0\xd1\x81\xd1\x81\xd1\x8b\xd0\xbb\xd0\xba") != NULL;   /* "ассылк" */
}

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
      if (!strip_starts_like_label (s, u->len))
        {
          *expect_url = FALSE;
          /* a newsletter's sign-up call can be a sentence of some length */
          if (u->words <= 24 && may_be_newsletter_call (s, u->len))
            {
              g_autofree char *plain = strip_plain_text (s, u->len, NULL);
              g_autofree char *lower = strip_lower_dup (plain, -1);
              if (strip_is_call_to_action (lower))
                u->kind = STRIP_KIND_SHARE;
            }
          return;
        }
      gsize n = MIN (u->len, (gsize) 96);
      while (n > 0 && n < u->len && ((guchar) s[n] & 0xC0) == 0x80)
        n--;
      g_autofree char *head = strip_plain_text (s, n, NULL);
      g_autofree char *lower = strip_lower_dup (head, -1);
      if (u->words <= 40 && strip_match_prefixes (lower, PFX_NOTE) && !strip_has_prefix_word (lower, "note"))
        u->kind = STRIP_KIND_NOTE;
      else if (u->words <= 30 && strip_match_prefixes (lower, PFX_RELATED) && strchr (head, ':') != NULL)
        u->kind = STRIP_KIND_RELATED;
      else if (u->words <= 24 && strip_match_prefixes (lower, PFX_SOURCE))
        {
          g_autofree char *plain = strip_plain_text (s, u->len, NULL);
          const char *colon = strchr (plain, ':');
          if (colon != NULL)
            meta_add_sources (w, colon + 1);
          u->kind = STRIP_KIND_SOURCE;
        }
      *expect_url = FALSE;
      return;
    }
  gint64 nmarks = 0;
  g_autofree char *plain = strip_plain_text (s, u->len, &nmarks);
  gsize plen = strlen (plain);
  if (!strip_has_letters (plain, plen))
    {
      u->kind = STRIP_KIND_MARKUP;
      return;
    }
  g_autofree char *lower = strip_lower_dup (plain, plen);
  guint32 words = strip_count_words (plain, plen);
  gboolean terminal = strip_ends_terminal (plain, plen);
  gboolean pfx = strip_first_word_is_prefix (lower);

  if (*expect_url && is_bare_url (plain))
    {
      meta_set_url (w, plain);
      u->kind = STRIP_KIND_URL;
      *expect_url = FALSE;
      return;
    }
  *expect_url = FALSE;
  if (words <= 16 && pfx && strip_match_prefixes (lower, PFX_URL))
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
      if (g_ascii_isupper (*q) || ((guchar) *q >= 0x80 && strip_word_is_capitalised (q, strlen (q))))
        {
          g_autofree char *inner = g_strdup (q);
          g_strdelimit (inner, "()", ',');
          meta_add_sources (w, inner);
        }
      u->kind = STRIP_KIND_SOURCE;
      return;
    }
  if (words <= 24 && pfx && strip_match_prefixes (lower, PFX_SOURCE))
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
      if (strip_parse_dateline (plain, plen, &pub, &upd))
        {
          meta_set (w, "date", pub);
          meta_set (w, "updated", upd);
          g_free (pub);
          g_free (upd);
          u->kind = STRIP_KIND_DATELINE;
          return;
        }
    }
  if (words <= 40 && pfx && strip_match_prefixes (lower, PFX_NOTE) && !strip_has_prefix_word (lower, "note"))
    {
      u->kind = STRIP_KIND_NOTE;
      return;
    }
  if (words <= 30 && pfx && strip_match_prefixes (lower, PFX_RELATED)
      && (!terminal || strchr (plain, ':') != NULL || words <= 4)
      && !(strip_has_prefix_word (lower, "related") && words > 3 && strchr (plain, ':') == NULL))
    {
      u->kind = STRIP_KIND_RELATED;
      return;
    }
  if ((words <= 10 && ((pfx && strip_match_prefixes (lower, PFX_SHARE)) || strip_match_contains (lower, IN_SHARE_LABEL))
       && (!terminal || words <= 6))
      || (words <= 14 && strip_match_contains (lower, IN_SHARE)))
    {
      u->kind = STRIP_KIND_SHARE;
      return;
    }
  if (words <= 24 && strip_is_call_to_action (lower))
    {
      u->kind = STRIP_KIND_SHARE;
      return;
    }
  /* a short line with an e-mail address is a contact line ("Questions?
   * Write to news@...", "Contact presse : ..., presse@...") */
  if (words <= 24 && has_email (plain))
    {
      u->kind = STRIP_KIND_NOTE;
      return;
    }
  if (words <= 16 && pfx && try_byline (w, plain, lower))
    {
      u->kind = STRIP_KIND_BYLINE;
      return;
    }
  if (words <= 50)
    {
      if (strip_match_contains (plain, IN_CAPTION))
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
      if (strip_match_equal (lower, strip_nav_equal) || (pfx && strip_match_prefixes (lower, PFX_NAV)))
        {
          u->kind = STRIP_KIND_NAVIGATION;
          return;
        }
      for (const char *const *sfx = strip_nav_suffixes; *sfx; sfx++)
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
  if (words > 5 || strip_ends_terminal (plain, strlen (plain)))
    return FALSE;
  for (const char *p = plain; *p;)
    {
      if (!strip_word_is_capitalised (p, strlen (p)))
        return FALSE;
      const char *sp = strchr (p, ' ');
      p = sp ? sp + 1 : p + strlen (p);
    }
  for (const char *const *a = strip_agency_words; *a; a++)
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
  return strip_plain_text (w->arena->str + u->off, u->len, NULL);
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
          if (strip_count_words (label, strlen (label)) <= 3)
            meta_set (w, "section", label);
        }
      if (u->kind != KIND_BODY || u->len > SHORT_UNIT)
        continue;
      g_autofree char *plain = unit_plain (w, u);
      g_autofree char *lower = strip_lower_dup (plain, -1);
      gsize plen = strlen (plain);
      gboolean terminal = strip_ends_terminal (plain, plen);
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
          g_autofree char *lw = strip_lower_dup (p, q - p);
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
      if (before == s || !strip_ends_terminal (s, before - s) || before - s < 20)
        continue;
      Span tail = trim (p, s + len - p);
      if (!is_signoff (tail.p, tail.len))
        continue;
      g_autofree char *t = g_strndup (tail.p, tail.len);
      const char *q = t;
      while (*q == '/' || *q == ' ' || *q == '(')
        q++;
      if (g_ascii_isupper (*q) || strip_word_is_capitalised (q, strlen (q)))
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
          if (G_UNLIKELY (w->res->removed_units != NULL))
            strip_result_add_removed (w->res, u->kind, g_strndup (w->arena->str + u->off, u->len));
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
      if (prev >= 0 && units[prev].kind == KIND_BODY && u->kind == KIND_BODY && strip_starts_lower (s, len)
          && body->len >= 30 && !strip_ends_terminal (body->str, body->len) && units[prev].words >= 5)
        rejoin = TRUE;
      if (body->len > 0)
        g_string_append (body, rejoin ? " " : "\n\n");
      gsize text_at = body->len;
      gint64 k = strip_unwrap_append (body, s, len);
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

StripKind
strip_text_line_kind (const char *line, gsize len, const StripConfig *cfg)
{
  return strip_text_line_kind_meta (line, len, cfg, NULL);
}

StripKind
strip_text_line_kind_meta (const char *line, gsize len, const StripConfig *cfg, json_object *meta)
{
  g_return_val_if_fail (line != NULL && cfg != NULL, STRIP_N_KINDS);
  if (len == 0 || len > SHORT_UNIT)
    return STRIP_N_KINDS;
  /* most body lines are sentences that cannot start like a label: decide
   * those before setting anything up (classify_patterns() does the same) */
  guint32 words = strip_count_words (line, len);
  if (words > 16 && strip_ends_terminal (line, len) && !strip_starts_like_label (line, len)
      && !(words <= 24 && may_be_newsletter_call (line, len)))
    return STRIP_N_KINDS;
  StripResult scratch = { NULL, meta != NULL ? json_object_get (meta) : json_object_new_object (), { 0 } };
  Work w = { cfg, &scratch, NULL, g_string_new_len (line, len), NULL, "en" };
  Unit u = { 0 };
  u.len = len;
  unit_finish (&w, &u);
  gboolean expect_url = FALSE;
  classify_patterns (&w, &u, &expect_url);
  g_string_free (w.arena, TRUE);
  json_object_put (scratch.meta);
  return u.kind == KIND_BODY || u.kind == STRIP_KIND_MARKUP ? STRIP_N_KINDS : (StripKind) u.kind;
}

gboolean
strip_text (const char *text, gsize len, const StripConfig *cfg, StripResult *res, GError **error)
{
  return strip_text_ex (text, len, cfg, res, NULL, error);
}
