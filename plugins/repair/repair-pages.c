/* repair-pages.c: the single-byte code pages mojibake comes from, as
 * tables for both directions.
 *
 * Decoding is a 256-entry array per page. Encoding (character -> byte in
 * every page at once) is a two-level table over the BMP: 128-character
 * blocks, of which only the twenty or so that these pages use are
 * allocated. Each character's row also holds two bit masks, the pages in
 * which it is a UTF-8 lead byte and those in which it is a continuation
 * byte, so a scan can tell in one lookup whether two neighbours could be
 * one garbled character.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "repair.h"

#include <iconv.h>
#include <string.h>

static const struct { const char *name; const char *iconv_name; gboolean sloppy; } page_specs[] = {
  { "cp1252", "WINDOWS-1252", TRUE },
  { "cp1250", "WINDOWS-1250", TRUE },
  { "iso-8859-2", "ISO-8859-2", FALSE },
  { "cp1251", "WINDOWS-1251", TRUE },
  { "mac-roman", "MACINTOSH", FALSE },
  { "cp1253", "WINDOWS-1253", TRUE },
  { "cp1254", "WINDOWS-1254", TRUE },
  { "cp1257", "WINDOWS-1257", TRUE },
  { "cp437", "IBM437", FALSE },
  { "cp874", "WINDOWS-874", TRUE },
};
G_STATIC_ASSERT (G_N_ELEMENTS (page_specs) <= REPAIR_MAX_PAGES);

static void
page_init (RepairPage *page, const char *name, const char *iconv_name, gboolean sloppy)
{
  page->name = name;
  page->sloppy_c1 = sloppy;
  iconv_t cd = iconv_open ("UTF-32LE", iconv_name);
  for (guint b = 0; b < 256; b++)
    {
      page->dec[b] = b < 0x80 ? b : 0;
      if (b < 0x80 || cd == (iconv_t) -1)
        continue;
      char in = (char) b;
      guint32 outc = 0;
      char *ip = &in, *op = (char *) &outc;
      gsize il = 1, ol = 4;
      iconv (cd, NULL, NULL, NULL, NULL);
      if (iconv (cd, &ip, &il, &op, &ol) != (gsize) -1 && ol == 0)
        page->dec[b] = GUINT32_FROM_LE (outc);
      if (page->dec[b] == 0)
        {
          page->undefined[page->n_undefined++] = (guint8) b;
          if (sloppy && b <= 0x9F)
            page->dec[b] = b;   /* an undefined byte read as the C1 control */
        }
    }
  if (cd != (iconv_t) -1)
    iconv_close (cd);
  page->nbsp_a0 = page->dec[0xA0] == 0xA0;
  /* what a decoder loses: the bytes it does not define, and for the Thai
   * page, read as TIS-620 by decoders that then strip C1 controls, every
   * byte from 80 to A0 */
  page->tis620 = page->dec[0xA1] == 0x0E01;
  for (guint b = 0x80; b <= 0xBF; b++)
    if ((page->dec[b] == 0 || (page->sloppy_c1 && b <= 0x9F && page->dec[b] == b)) || (page->tis620 && b <= 0xA0))
      page->lossy[page->n_lossy++] = (guint8) b;
}

static RepairPageRow *
row_for (RepairPages *pages, gunichar c)
{
  guint block = c >> 7;
  if (pages->block_of[block] == 0)
    {
      pages->n_blocks++;
      pages->rows = g_renew (RepairPageRow, pages->rows, (gsize) pages->n_blocks * 128);
      memset (pages->rows + (gsize) (pages->n_blocks - 1) * 128, 0, 128 * sizeof (RepairPageRow));
      pages->block_of[block] = (guint16) pages->n_blocks;
    }
  return &pages->rows[(gsize) (pages->block_of[block] - 1) * 128 + (c & 127)];
}

static void
add_mapping (RepairPages *pages, guint p, gunichar c, guint b)
{
  if (c < 0x80 || c >= 0x10000)
    return;
  RepairPageRow *row = row_for (pages, c);
  if (row->byte[p] != 0)
    return;   /* the defined byte wins over a C1 pass-through */
  row->byte[p] = (guint8) b;
  row->in_mask |= 1u << p;
  if (b >= 0xC2 && b <= 0xF4)
    row->lead_mask |= 1u << p;
  else if (b >= 0x80 && b <= 0xBF)
    row->cont_mask |= 1u << p;
}

guint8 repair_char_type_cache[REPAIR_CHAR_CACHE];
guint8 repair_char_script_cache[REPAIR_CHAR_CACHE];

static gpointer
fill_char_cache (gpointer data)
{
  for (gunichar c = 0; c < REPAIR_CHAR_CACHE; c++)
    {
      repair_char_type_cache[c] = (guint8) g_unichar_type (c);
      repair_char_script_cache[c] = (guint8) g_unichar_get_script (c);
    }
  return NULL;
}

void
repair_char_cache_init (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, fill_char_cache, NULL);
}

G_STATIC_ASSERT (G_UNICODE_SCRIPT_NAG_MUNDARI < 256);

RepairPages *
repair_pages_new (void)
{
  repair_char_cache_init ();
  RepairPages *pages = g_new0 (RepairPages, 1);
  for (guint p = 0; p < G_N_ELEMENTS (page_specs); p++)
    {
      RepairPage *page = &pages->page[pages->n_pages++];
      page_init (page, page_specs[p].name, page_specs[p].iconv_name, page_specs[p].sloppy);
    }
  for (guint p = 0; p < pages->n_pages; p++)
    for (guint b = 0x80; b < 256; b++)
      {
        const RepairPage *page = &pages->page[p];
        gboolean c1_passed = page->sloppy_c1 && page->dec[b] == b && b <= 0x9F;
        if (page->dec[b] != 0 && !c1_passed)
          add_mapping (pages, p, page->dec[b], b);
      }
  /* sloppy decoders also pass C1 controls through for defined bytes */
  for (guint p = 0; p < pages->n_pages; p++)
    if (pages->page[p].sloppy_c1)
      for (guint b = 0x80; b <= 0x9F; b++)
        add_mapping (pages, p, b, b);
  return pages;
}

void
repair_pages_free (RepairPages *pages)
{
  if (pages == NULL)
    return;
  g_free (pages->rows);
  g_free (pages);
}

const RepairPage *
repair_pages_find (const RepairPages *pages, const char *name)
{
  for (guint p = 0; p < pages->n_pages; p++)
    if (g_str_equal (pages->page[p].name, name))
      return &pages->page[p];
  return NULL;
}
