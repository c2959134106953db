/* strip-text-private.h: internals shared by the files of the text mode.
 *
 * strip-text.c cuts the text into units and classifies them, and writes
 * the body; strip-words.c holds the word lists and the lookups in them;
 * strip-dateline.c reads datelines and timestamps; strip-markup.c
 * unwraps inline markup; strip-util.c has the small UTF-8 and text
 * helpers they all use.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "strip.h"

G_BEGIN_DECLS

static inline gboolean
is_space (guchar c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* g_ascii_tolower() inline: it is called for every byte hashed. */
static inline guchar
ascii_lower (guchar c)
{
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static inline gboolean
is_word_byte (guchar c)
{
  return g_ascii_isalnum (c) || c >= 0x80;
}

/* ---- strip-util.c ---- */

/* TRUE when @s ends like a sentence: . ! ? … : ; before closing quotes. */
gboolean strip_ends_terminal (const char *s, gsize len);
/* The first letter or digit of @s (0 if none), at byte *@at. */
gunichar strip_first_letter (const char *s, gsize len, gsize *at);
gboolean strip_starts_lower (const char *s, gsize len);
gboolean strip_word_is_capitalised (const char *w, gsize len);
/* g_utf8_strdown() of @len bytes (-1: NUL-terminated), fast for ASCII. */
char    *strip_lower_dup (const char *s, gssize len);
/* Words (runs of non-spaces), counted up to 255. */
guint32  strip_count_words (const char *s, gsize len);
/* Does @lower (lower-case) start with @prefix followed by a non-letter? */
gboolean strip_has_prefix_word (const char *lower, const char *prefix);
/* Is @lower one of the NULL-terminated @list? */
gboolean strip_match_equal (const char *lower, const char *const *list);

/* ---- strip-words.c ---- */

/* The prefix lists (strip_match_prefixes) and the lists searched
 * anywhere in a unit (strip_match_contains). */
enum { PFX_NOTE, PFX_RELATED, PFX_SOURCE, PFX_URL, PFX_SHARE, PFX_NAV, N_PFX_LISTS };
enum { IN_SHARE_LABEL, IN_SHARE, IN_CAPTION, N_IN_LISTS };

/* Lower case, NULL-terminated. */
extern const char *const strip_nav_equal[];
extern const char *const strip_nav_suffixes[];
extern const char *const strip_agency_words[];
extern const char *const strip_byline_prefixes[];
extern const char *const strip_name_connectors[];

/* Does @lower start with a prefix of the list PFX_*, followed by a
 * non-letter (see strip_has_prefix_word())? */
gboolean strip_match_prefixes (const char *lower, guint list);
/* Does one word of the list IN_* occur in @s (NUL-terminated)? */
gboolean strip_match_contains (const char *s, guint list);
/* Is the first word of @lower the first word of a prefix list? */
gboolean strip_first_word_is_prefix (const char *lower);
/* Is @lower (a unit of up to 24 words) a call to sign up for a
 * newsletter, to follow the site on a social network or to donate to it? */
gboolean strip_is_call_to_action (const char *lower);
/* Could a long sentence @s be a note, a related teaser or a source line? */
gboolean strip_starts_like_label (const char *s, gsize len);

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

void     strip_word_index_add (WordIndex *ix, const char *w);
gboolean strip_word_index_has (const WordIndex *ix, const char *w);

/* ---- strip-dateline.c ---- */

/* Is @s (a whole unit) a dateline? Sets @published and @updated (ISO 8601). */
gboolean strip_parse_dateline (const char *s, gsize len, char **published, char **updated);

/* ---- strip-markup.c ---- */

/* Appends @s to @out with inline markup unwrapped and runs of spaces
 * collapsed; returns the number of remnants unwrapped. */
gint64   strip_unwrap_append (GString *out, const char *s, gsize len);
/* @s with markup unwrapped, newly allocated; *@n counts what was unwrapped. */
char    *strip_plain_text (const char *s, gsize len, gint64 *n);
gboolean strip_has_letters (const char *s, gsize len);

G_END_DECLS
