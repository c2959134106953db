/* dedup-lsh.c: the documents of one run in memory: their entries, the
 * signature store, the LSH band tables and the exact-hash table that find
 * candidates among them, and the clusters (union-find) that the decisions
 * build. The stage (galley-dedup.c) and the cluster step of a sharded run
 * (dedup-steps.c) both decide through dedup_decide(), which is what makes
 * a sharded run find what a plain run finds.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dedup-private.h"

#include <string.h>

/* The table of key @b of a document's @n_keys keys: the last is the lede
 * key when there are more keys than bands. */
static inline guint
table_of (const Dedup *self, guint b, guint n_keys)
{
  return b < self->params.bands ? b : MAX_BANDS;
}

static inline guint32
slot_of (guint64 h, guint32 idx)
{
  return (guint32) (h >> 56) << SLOT_IDX_BITS | idx;
}

static void
table_put (BandTable *t, guint64 key, guint32 idx)
{
  guint64 h = dedup_mix (key);
  gsize j = h & (t->size - 1);
  while (t->slots[j] != SLOT_EMPTY)
    j = (j + 1) & (t->size - 1);
  t->slots[j] = slot_of (h, idx);
  t->used++;
}

/* Doubles the tables of @grow and puts back the keys of entries
 * 0..@limit-1, recomputed from their signatures, one table at a time: the
 * random writes then stay within one table (measured: filling all 32 in
 * one pass over the signatures is 1.6× slower). */
static void
tables_grow (Dedup *self, const gboolean *grow, guint32 limit)
{
  for (guint b = 0; b <= MAX_BANDS; b++)
    {
      if (!grow[b])
        continue;
      BandTable *t = &self->tables[b];
      g_free (t->slots);
      t->size = t->size ? t->size * 2 : 1 << 12;
      t->slots = g_new (guint32, t->size);
      memset (t->slots, 0xff, t->size * sizeof (guint32));
      t->used = 0;
      for (guint32 i = 0; i < limit; i++)
        {
          Entry *e = &g_array_index (self->entries, Entry, i);
          if (e->external || e->sig == NONE)
            continue;
          if (b < self->params.bands)
            table_put (t, dedup_band_key (&self->params, dedup_sig_at (self, e->sig), b), i);
          else if (e->lede_key != 0)
            table_put (t, e->lede_key, i);
        }
    }
}

static inline gboolean
table_full (const BandTable *t)
{
  return (t->used + 1) * 10 > t->size * 7;
}

/* Adds the @n keys of entry @idx (the newest), growing full tables first. */
void
dedup_bands_add (Dedup *self, const guint64 *keys, guint n, guint32 idx)
{
  gboolean grow[MAX_BANDS + 1] = { FALSE }, any = FALSE;
  for (guint b = 0; b < n; b++)
    {
      guint t = table_of (self, b, n);
      grow[t] = table_full (&self->tables[t]);
      any |= grow[t];
    }
  if (any)
    tables_grow (self, grow, idx);
  for (guint b = 0; b < n; b++)
    table_put (&self->tables[table_of (self, b, n)], keys[b], idx);
}

static void
exact_grow (Dedup *self)
{
  gsize size = self->exact_size ? self->exact_size * 2 : 1 << 14;
  ExactSlot *slots = g_new (ExactSlot, size);
  memset (slots, 0xff, size * sizeof (ExactSlot));
  for (gsize i = 0; i < self->exact_size; i++)
    {
      ExactSlot s = self->exact[i];
      if (s.idx == NONE)
        continue;
      gsize j = dedup_mix (s.key) & (size - 1);
      while (slots[j].idx != NONE)
        j = (j + 1) & (size - 1);
      slots[j] = s;
    }
  g_free (self->exact);
  self->exact = slots;
  self->exact_size = size;
}

guint32
dedup_exact_find (Dedup *self, guint64 key)
{
  if (self->exact_size == 0)
    return NONE;
  for (gsize j = dedup_mix (key) & (self->exact_size - 1);; j = (j + 1) & (self->exact_size - 1))
    {
      if (self->exact[j].idx == NONE)
        return NONE;
      if (self->exact[j].key == key)
        return self->exact[j].idx;
    }
}

void
dedup_exact_add (Dedup *self, guint64 key, guint32 idx)
{
  if ((self->exact_used + 1) * 10 > self->exact_size * 7)
    exact_grow (self);
  gsize j = dedup_mix (key) & (self->exact_size - 1);
  while (self->exact[j].idx != NONE)
    j = (j + 1) & (self->exact_size - 1);
  self->exact[j] = (ExactSlot) { key, idx, 0 };
  self->exact_used++;
}

guint16 *
dedup_sig_at (Dedup *self, guint32 slot)
{
  guint16 *block = g_ptr_array_index (self->sig_blocks, slot / SIGS_PER_BLOCK);
  return block + (gsize) (slot % SIGS_PER_BLOCK) * self->params.k;
}

guint32
dedup_sig_store (Dedup *self, const guint16 *sig)
{
  guint32 slot = self->n_sigs++;
  if (slot / SIGS_PER_BLOCK >= self->sig_blocks->len)
    g_ptr_array_add (self->sig_blocks, g_new (guint16, (gsize) SIGS_PER_BLOCK * self->params.k));
  memcpy (dedup_sig_at (self, slot), sig, self->params.k * sizeof (guint16));
  return slot;
}

/* ---- clusters --------------------------------------------------------------------- */

guint32
dedup_find_root (Dedup *self, guint32 i)
{
  Entry *e = dedup_entry (self, i);
  while (e->parent != i)
    {
      Entry *p = dedup_entry (self, e->parent);
      e->parent = p->parent;      /* path halving */
      i = e->parent;
      e = dedup_entry (self, i);
    }
  return i;
}

/* Earlier runs come first, then this run in input order. */
static inline gint64
order_of (Dedup *self, guint32 i)
{
  Entry *e = dedup_entry (self, i);
  return e->external ? e->rowid : G_MAXINT64 / 2 + i;
}

static guint32
better_rep (Dedup *self, guint32 a, guint32 b)
{
  if (self->longest && dedup_entry (self, a)->length != dedup_entry (self, b)->length)
    return dedup_entry (self, a)->length > dedup_entry (self, b)->length ? a : b;
  return order_of (self, a) <= order_of (self, b) ? a : b;
}

void
dedup_join (Dedup *self, guint32 a, guint32 b)
{
  guint32 ra = dedup_find_root (self, a), rb = dedup_find_root (self, b);
  if (ra == rb)
    return;
  guint32 rep = better_rep (self, dedup_entry (self, ra)->rep, dedup_entry (self, rb)->rep);
  dedup_entry (self, rb)->parent = ra;
  dedup_entry (self, ra)->rep = rep;
}

guint32
dedup_add_entry (Dedup *self, const char *id, gint64 rowid, gboolean external)
{
  guint32 idx = self->entries->len;
  Entry e = { 0 };
  e.id = g_string_chunk_insert (self->ids, id);
  e.rowid = rowid;
  e.parent = idx;
  e.rep = idx;
  e.sig = NONE;
  e.external = external;
  g_array_append_val (self->entries, e);
  return idx;
}

/* Adds @idx to the candidates unless it is there already. */
void
dedup_add_candidate (Dedup *self, guint32 idx)
{
  Entry *e = dedup_entry (self, idx);
  if (e->stamp == self->stamp || e->sig == NONE)
    return;
  e->stamp = self->stamp;
  g_array_append_val (self->cand, idx);
  /* the signature is read when the candidate is verified: start loading it */
  const char *sig = (const char *) dedup_sig_at (self, e->sig);
  for (guint off = 0; off < self->params.k * sizeof (guint16); off += 64)
    __builtin_prefetch (sig + off);
}

/* Whether entry @idx has key @key in keyspace @b: a fingerprint match is
 * only a candidate when the key itself is shared, so the candidates do not
 * depend on the tables' sizes and a sharded run finds the same ones. */
static inline gboolean
has_key (Dedup *self, guint32 idx, guint b, guint n_keys, guint64 key)
{
  Entry *e = dedup_entry (self, idx);
  if (e->sig == NONE)
    return FALSE;
  if (b < self->params.bands)
    return dedup_band_key (&self->params, dedup_sig_at (self, e->sig), b) == key;
  return e->lede_key == key;
}

gint
dedup_cmp_order (gconstpointer a, gconstpointer b, gpointer data)
{
  gint64 x = order_of (data, *(const guint32 *) a), y = order_of (data, *(const guint32 *) b);
  return x < y ? -1 : x > y;
}

void
dedup_bands_lookup (Dedup *self, const guint64 *keys, guint n_keys)
{
  g_array_set_size (self->cand, 0);
  self->stamp++;
  guint64 h[MAX_BANDS + 1];
  for (guint b = 0; b < n_keys; b++)
    {
      h[b] = dedup_mix (keys[b]);
      const BandTable *t = &self->tables[table_of (self, b, n_keys)];
      if (t->size > 0)
        __builtin_prefetch (&t->slots[h[b] & (t->size - 1)]);
    }
  for (guint b = 0; b < n_keys; b++)
    {
      const BandTable *t = &self->tables[table_of (self, b, n_keys)];
      if (t->size == 0)
        continue;
      guint32 fp = (guint32) (h[b] >> 56);
      for (gsize j = h[b] & (t->size - 1);; j = (j + 1) & (t->size - 1))
        {
          guint32 slot = t->slots[j];
          if (slot == SLOT_EMPTY)
            break;
          if (slot >> SLOT_IDX_BITS == fp && has_key (self, slot & MAX_RUN_ENTRIES, b, n_keys, keys[b]))
            dedup_add_candidate (self, slot & MAX_RUN_ENTRIES);
        }
    }
}

/* Joins entry @idx with its exact @match (or NONE) and every candidate in
 * self->cand (in document order) that passes the tests, and says what
 * becomes of it. */
void
dedup_decide (Dedup *self, guint32 idx, guint32 match, const guint16 *values, guint32 n_shingles, Decision *out)
{
  gboolean exact = match != NONE;
  double similarity = exact ? 1.0 : 0.0, best_containment = 0.0;
  if (exact)
    dedup_join (self, match, idx);
  guint32 best = match;
  for (guint i = 0; i < self->cand->len; i++)
    {
      guint32 c = g_array_index (self->cand, guint32, i);
      Entry *ce = dedup_entry (self, c);
      double j = dedup_jaccard (values, dedup_sig_at (self, ce->sig), self->params.k);
      double cont = self->containment > 0 ? dedup_containment (j, n_shingles, ce->n_shingles) : 0.0;
      if (j >= self->threshold || (self->containment > 0 && cont >= self->containment))
        {
          if (best == NONE || j > similarity)
            {
              best = c;
              similarity = j;
              best_containment = cont;
            }
          dedup_join (self, c, idx);
        }
    }
  guint32 rep = dedup_entry (self, dedup_find_root (self, idx))->rep;
  memset (out, 0, sizeof *out);
  out->other = NONE;
  out->similarity = similarity;
  out->containment = best_containment;
  if (rep == idx)
    {
      out->kind = best != NONE ? DECISION_REPLACES : DECISION_NONE;
      out->best_id = best != NONE ? dedup_entry (self, best)->id : NULL;
      return;
    }
  out->kind = exact ? DECISION_EXACT : DECISION_NEAR;
  out->rep_id = dedup_entry (self, rep)->id;
  out->best_id = best != rep ? dedup_entry (self, best)->id : NULL;
  out->other = best != rep && best != NONE ? best : rep;
}
