/* repair-reread.c: a whole line garbled by one code page, read back in
 * one pass.
 *
 * News feeds garble whole documents, not single words: every character
 * of the line went through the same wrong decoder. Such a line is read
 * back by turning each character into its byte in that code page and
 * decoding the bytes as UTF-8. The reading is taken only when every
 * non-ASCII byte falls into a complete UTF-8 sequence (or one whose
 * missing byte the code page is known to lose), so text that is merely
 * accented never qualifies, and when the result passes the checks of
 * repair-plausible.c. Bytes lost on the way (a decoder that wrote U+FFFD
 * for, or dropped, a byte it did not define) leave a slot with a few
 * candidates, which repair-lossy.c chooses among from the context.
 *
 * Lines that mix garbled and intact words are left to the word-by-word
 * repair of repair-mojibake.c; this pass only spares it the common case.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

#include <string.h>

#define LOST 0x100   /* a byte that was replaced by U+FFFD */

static inline gunichar
next_char (const guchar **pp, const guchar *end)
{
  const guchar *p = *pp;
  gunichar c = *p;
  if (c < 0x80)
    {
      *pp = p + 1;
      return c;
    }
  int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  if (p + n > end)
    {
      *pp = end;
      return 0xFFFD;
    }
  if (n == 2)
    c = ((c & 0x1F) << 6) | (p[1] & 0x3F);
  else if (n == 3)
    c = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  else
    c = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  *pp = p + n;
  return c;
}

RepairEvidence
repair_reread_scan (const RepairPages *pages, const char *line, gsize len)
{
  const guchar *p = (const guchar *) line, *end = p + len;
  RepairEvidence ev = REPAIR_EVIDENCE_NONE;
  const RepairPageRow *prev_row = NULL;
  gunichar prev = 0;
  while (p < end)
    {
      if (*p < 0x80)
        {
          p = repair_skip_ascii8 (p, end);
          while (p < end && *p < 0x80)
            prev = *p++;
          prev_row = NULL;
          continue;
        }
      gunichar c = next_char (&p, end);
      if (c == 0xFFFD || (c >= 0x80 && c <= 0x9F))
        return REPAIR_EVIDENCE_STRONG;
      const RepairPageRow *row = repair_pages_row (pages, c);
      if (row != NULL && prev_row != NULL && (prev_row->lead_mask & row->cont_mask) != 0)
        {
          /* a lead and a continuation in one page: complete sequence? */
          guint16 mask = prev_row->lead_mask & row->cont_mask;
          for (guint k = 0; k < pages->n_pages && ev != REPAIR_EVIDENCE_STRONG; k++)
            {
              if (!(mask & (1u << k)))
                continue;
              int need = repair_utf8_length (prev_row->byte[k]);
              int got = 2;
              const guchar *q = p;
              guint32 cp = ((prev_row->byte[k] & 0x3F) << 6) | (row->byte[k] & 0x3F);
              while (got < need && q < end)
                {
                  const guchar *q0 = q;
                  gunichar d = next_char (&q, end);
                  const RepairPageRow *r = d >= 0x80 ? repair_pages_row (pages, d) : NULL;
                  if (r == NULL || !(r->cont_mask & (1u << k)))
                    {
                      q = q0;
                      break;
                    }
                  cp = (cp << 6) | (r->byte[k] & 0x3F);
                  got++;
                }
              /* two letters of a non-Latin script that spell an ideograph
               * or a syllable ("лі»" in cp1251 is a Hangul syllable) are
               * far more often just words of that script */
              if (got == need && need >= 3 && prev >= 0x370 && repair_isalpha (prev)
                  && (cp & ((1u << (5 * need + 1)) - 1)) >= 0x2E80)
                ev = MAX (ev, REPAIR_EVIDENCE_DOUBTFUL);
              else if (got == need)
                ev = REPAIR_EVIDENCE_STRONG;
              else if (prev >= 0xC0 && prev <= 0x17F && !repair_isalpha (c))
                ev = MAX (ev, REPAIR_EVIDENCE_WEAK);   /* "â€" short of its last byte */
            }
          if (ev == REPAIR_EVIDENCE_STRONG)
            return ev;
        }
      else if (row != NULL && row->lead_mask != 0 && p < end && (*p == ' ' || *p == '?')
               && (c == 0xC3 || c == 0xC2 || c == 0xC5 || c == 0xE2))
        ev = MAX (ev, REPAIR_EVIDENCE_WEAK);   /* "Ã ", "â€ ": a lead that lost its byte */
      else if (c >= 0x0E00 && c <= 0x0E7F && (g_ascii_isalnum (prev) || (p < end && g_ascii_isalnum (*p))))
        ev = MAX (ev, REPAIR_EVIDENCE_WEAK);   /* Thai glued to Latin: TIS-620 that lost bytes */
      prev = c;
      prev_row = row;
    }
  return ev;
}

guint32
repair_reread_pages (const RepairPages *pages, const char *line, gsize len)
{
  guint32 lossy = 0;
  for (guint p = 0; p < pages->n_pages; p++)
    if (pages->page[p].n_lossy > 0)
      lossy |= 1u << p;
  guint32 mask = (1u << pages->n_pages) - 1;
  const guchar *s = (const guchar *) line, *end = s + len;
  while (s < end && mask != 0)
    {
      if (*s < 0x80)
        {
          s++;
          continue;
        }
      gunichar c = next_char (&s, end);
      if (c == 0xFFFD)
        mask &= lossy;
      else
        {
          const RepairPageRow *row = repair_pages_row (pages, c);
          mask &= row != NULL ? row->in_mask : 0;
        }
    }
  return mask;
}

/* The line as bytes of page @p, LOST for U+FFFD; the page must have
 * every character (repair_reread_pages). */
static void
to_bytes (const RepairPages *pages, guint p, const char *line, gsize len, GArray *bytes)
{
  const guchar *s = (const guchar *) line, *end = s + len;
  g_array_set_size (bytes, len);
  guint16 *out = (guint16 *) bytes->data;
  guint n = 0;
  while (s < end)
    {
      if (*s < 0x80)
        {
          out[n++] = *s++;
          continue;
        }
      gunichar c = next_char (&s, end);
      out[n++] = c == 0xFFFD ? LOST : (guint16) repair_pages_byte (pages, p, c);
    }
  g_array_set_size (bytes, n);
}

gboolean
repair_reread_same_bytes (const RepairPages *pages, guint p, const char *line, gsize len, const GArray *bytes)
{
  const guchar *s = (const guchar *) line, *end = s + len;
  const guint16 *b = (const guint16 *) bytes->data;
  guint n = 0;
  while (s < end)
    {
      guint16 v;
      if (*s < 0x80)
        v = *s++;
      else
        {
          gunichar c = next_char (&s, end);
          v = c == 0xFFFD ? LOST : (guint16) repair_pages_byte (pages, p, c);
        }
      if (n >= bytes->len || b[n] != v)
        return FALSE;
      n++;
    }
  return n == bytes->len;
}

/* A character decoded from @n bytes, surrogates refused; 0 if invalid. */
static gunichar
decode_sequence (const guint8 *b, int n)
{
  gboolean surrogate;
  gunichar c = repair_utf8_decode (b, n, &surrogate);
  return surrogate ? 0 : c;
}

/* Adds to @slot every character that @bytes (need of them, LOST where a
 * byte is unknown) could have been, the unknown bytes taken from @lossy. */
static void
fill_candidates (guint8 *bytes, int need, guint lost_mask, const guint8 *lossy, guint n_lossy, int from,
                 RepairSlot *slot)
{
  if (from == need)
    {
      gunichar c = decode_sequence (bytes, need);
      GUnicodeType type = c != 0 ? repair_type (c) : G_UNICODE_UNASSIGNED;
      if (type == G_UNICODE_CONTROL || type == G_UNICODE_FORMAT || type == G_UNICODE_UNASSIGNED
          || type == G_UNICODE_PRIVATE_USE || type == G_UNICODE_SURROGATE)
        return;
      for (guint i = 0; i < slot->n_candidates; i++)
        if (slot->candidates[i] == c)
          return;
      if (slot->n_candidates < REPAIR_MAX_CANDIDATES)
        slot->candidates[slot->n_candidates++] = c;
      return;
    }
  if (!(lost_mask & (1u << from)))
    {
      fill_candidates (bytes, need, lost_mask, lossy, n_lossy, from + 1, slot);
      return;
    }
  for (guint i = 0; i < n_lossy; i++)
    {
      bytes[from] = lossy[i];
      fill_candidates (bytes, need, lost_mask, lossy, n_lossy, from + 1, slot);
    }
}

gboolean
repair_reread_line (const RepairPages *pages, guint p, const char *line, gsize len, RepairReading *reading)
{
  const RepairPage *page = &pages->page[p];
  g_array_set_size (reading->text, 0);
  g_array_set_size (reading->slots, 0);
  reading->clusters = 0;
  reading->page = p;
  to_bytes (pages, p, line, len, reading->bytes);
  const guint16 *b = (const guint16 *) reading->bytes->data;
  guint n = reading->bytes->len;
  /* the reading is never longer than the bytes */
  g_array_set_size (reading->text, n);
  gunichar *text = (gunichar *) reading->text->data;
  guint out = 0;
  for (guint i = 0; i < n;)
    {
      guint16 lead = b[i];
      if (lead < 0x80)
        {
          text[out++] = lead;
          i++;
          continue;
        }
      int need = lead == LOST ? 0 : repair_utf8_length (lead);
      if (need == 0)
        return FALSE;   /* a continuation without its lead, or an invalid byte */
      guint8 seq[4] = { (guint8) lead };
      guint lost_mask = 0;
      int got = 1;
      while (got < need && i + got < n && (b[i + got] == LOST || (b[i + got] >= 0x80 && b[i + got] <= 0xBF)))
        {
          if (b[i + got] == LOST)
            lost_mask |= 1u << got;
          else
            seq[got] = (guint8) b[i + got];
          got++;
        }
      if (got == need && lost_mask == 0)
        {
          gunichar c = decode_sequence (seq, need);
          if (c == 0)
            return FALSE;
          text[out++] = c;
          reading->clusters++;
          i += need;
          continue;
        }
      /* bytes lost: replaced by U+FFFD (marked), or dropped (the
       * sequence is short); a dropped byte may have been any of the
       * sequence's continuations */
      if (page->n_lossy == 0)
        return FALSE;
      if (page->tis620 && seq[0] == 0xE2 && got == 1)
        {
          /* punctuation that lost both continuations to a TIS-620 decoder:
           * left as the lone U+0E42 it became, for repair-thai.c */
          text[out++] = 0x0E42;
          i++;
          continue;
        }
      RepairSlot slot = { out, FALSE, FALSE, { 0 }, 0, 0, { 0 } };
      if (got + 1 == need && i + got < n && b[i + got] == '?')
        {
          /* a decoder that wrote '?' for the byte it did not define */
          lost_mask |= 1u << got;
          got++;
        }
      if (got == need)
        fill_candidates (seq, need, lost_mask, page->lossy, page->n_lossy, 1, &slot);
      else
        {
          /* one byte lost per character: a decoder drops the bytes it
           * does not define, and few characters have two of those */
          int missing = need - got;
          /* a character both short of a byte and holding a marked one:
           * no decoder does both, and its known bytes cannot be placed */
          if (missing > 1 || lost_mask != 0)
            return FALSE;
          if (got >= 2 && page->nbsp_a0 && lost_mask == 0 && i + got < n && b[i + got] == ' ')
            {
              /* the last byte was A0, the no-break space, which became a
               * space on the way ("à¸ " for ภ, E0 B8 A0); only for a
               * letter: "â€ " is a dropped quote, not a dagger */
              seq[got] = 0xA0;
              gunichar c = decode_sequence (seq, need);
              if (c != 0 && repair_isalpha (c))
                {
                  text[out++] = c;
                  reading->clusters++;
                  i += need;
                  continue;
                }
            }
          slot.dropped = TRUE;
          slot.lone_lead = got == 1;
          /* "Ã " is more often an à whose no-break space became a space,
           * which the word-by-word repair judges (the Latin leads C2-C5,
           * whose A0 makes à, Ġ or Š; a Cyrillic or Greek word's last
           * letter is not one of those) */
          if (slot.lone_lead && (i + 1 >= n || b[i + 1] == ' ') && !page->tis620 && seq[0] <= 0xC5)
            return FALSE;
          /* the got - 1 known continuations keep their order; choose
           * where the missing ones were */
          for (guint pos = 0; pos < (1u << (need - 1)); pos++)
            {
              guint mask = pos << 1;   /* bits 1..need-1: lost positions */
              if ((guint) __builtin_popcount (mask) != (guint) missing || (mask & lost_mask) != 0)
                continue;
              guint8 trial[4] = { seq[0] };
              guint trial_lost = lost_mask;
              int k = 1;
              for (int at = 1; at < need; at++)
                {
                  if (mask & (1u << at))
                    trial_lost |= 1u << at;
                  else
                    {
                      /* the known bytes, in order, fill the other places */
                      while (k < got && (lost_mask & (1u << k)))
                        k++;
                      trial[at] = seq[k++];
                    }
                }
              fill_candidates (trial, need, trial_lost, page->lossy, page->n_lossy, 1, &slot);
            }
        }
      if (slot.n_candidates == 0)
        return FALSE;
      for (int k = 0; k < got && k < 4; k++)
        slot.orig[slot.n_orig++] = b[i + k] == LOST ? 0xFFFD : page->dec[b[i + k]];
      text[out++] = 0xFFFD;
      g_array_append_val (reading->slots, slot);
      i += got;
    }
  g_array_set_size (reading->text, out);
  return reading->clusters > 0 || reading->slots->len > 0;
}

void
repair_reading_init (RepairReading *reading)
{
  reading->bytes = g_array_new (FALSE, FALSE, sizeof (guint16));
  reading->text = g_array_new (FALSE, FALSE, sizeof (gunichar));
  reading->slots = g_array_new (FALSE, FALSE, sizeof (RepairSlot));
}

void
repair_reading_clear (RepairReading *reading)
{
  g_clear_pointer (&reading->bytes, g_array_unref);
  g_clear_pointer (&reading->text, g_array_unref);
  g_clear_pointer (&reading->slots, g_array_unref);
}
