/* galley-dedup.c: stage that finds exact and near-duplicate articles,
 * within a run and against every earlier run, and removes repeated
 * paragraphs inside an article.
 *
 * Per document, in prepare() on the worker threads (a pure function of
 * the text): tokenize (dedup-sig.c), drop repeated paragraphs, compute the
 * exact hash, the MinHash signature and the LSH band keys. Then in
 * process(): look the exact hash up, then the band keys (this run: hash
 * tables in memory; earlier runs: the segment files of the index,
 * dedup-index.c), verify candidates by estimated Jaccard similarity or
 * containment, and join clusters with union-find. The run's documents go
 * to the index at the end: a new segment file plus one SQLite transaction
 * (see "Crash safety" in docs/dedup.md).
 *
 * process() is not thread-safe: the runner calls it from one thread, in
 * input order, which is what makes "first seen" well defined.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>

#include "dedup-index.h"
#include "dedup-segment.h"
#include "dedup-sig.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#define NONE G_MAXUINT32
#define SIGS_PER_BLOCK 4096
#define MAX_BANDS 32

static const GalleyOptionSpec dedup_options[] = {
  { "mode", GALLEY_OPT_ENUM, "drop", "drop: remove duplicates (reasons duplicate, near-duplicate); annotate: keep and mark them", "drop|annotate" },
  { "policy", GALLEY_OPT_ENUM, "first", "Member of a cluster that is kept: the first seen, or the longest (a longer later copy is kept and takes over)", "first|longest" },
  { "threshold", GALLEY_OPT_DOUBLE, "0.45", "Near duplicate from this estimated Jaccard similarity of the shingle sets on (0 < t <= 1)", NULL, .max = "1" },
  { "containment", GALLEY_OPT_DOUBLE, "0.9", "Also a near duplicate when this share of the smaller text's shingles is in the larger (teasers); 0: off", NULL,
    .min = "0", .max = "1" },
  { "shingle", GALLEY_OPT_ENUM, "word", "Shingles: word n-grams or character n-grams of the normalised text", "word|char" },
  { "ngram", GALLEY_OPT_INT, "2", "Words (or characters) per shingle", NULL, .min = "1", .max = "16" },
  { "hashes", GALLEY_OPT_INT, "128", "MinHash values per document (one-permutation hashing)", NULL,
    .min = "16", .max = "1024" },
  { "bands", GALLEY_OPT_INT, "0", "LSH bands, at most hashes; 0 derives bands and rows from threshold", NULL,
    .min = "0", .max = G_STRINGIFY (MAX_BANDS) },
  { "stopwords", GALLEY_OPT_BOOL, "true", "Leave out word shingles made only of common English words (fewer chance matches)", NULL },
  { "lede-words", GALLEY_OPT_INT, "24", "Texts that start with the same N words are compared too (truncated teasers); 0: off", NULL,
    .min = "0", .max = "10000" },
  { "min-words", GALLEY_OPT_INT, "8", "Texts with fewer words are only compared exactly", NULL, .min = "0" },
  { "paragraphs", GALLEY_OPT_BOOL, "true", "Remove repeated paragraphs inside a document, keeping the first (repair repeated-paragraph)", NULL },
  { "paragraph-threshold", GALLEY_OPT_DOUBLE, "0.9", "Word-bigram similarity from which a later paragraph counts as a repeat; 1: exact repeats only", NULL,
    .max = "1" },
  { "state-dir", GALLEY_OPT_STRING, "", "Directory of the persistent index (SQLite in WAL mode and segment files); empty: only within this run", NULL },
  { "mkdir", GALLEY_OPT_BOOL, "true", "Create a missing state-dir (with parents) when the run finishes", NULL },
  { "window", GALLEY_OPT_DURATION, "0", "Only compare with documents indexed within this span (e.g. 30d); 0: all", NULL },
  { "lock-timeout", GALLEY_OPT_DURATION, "0", "Wait this long for another run holding the state-dir lock; 0: fail at once", NULL },
  { NULL }
};

typedef struct {
  const char *id;         /* in ids */
  gint64      rowid;      /* index row: earlier runs from the start, this run's from finish() */
  guint32     parent;     /* union-find */
  guint32     rep;        /* at roots: the representative */
  guint32     length;     /* words */
  guint32     n_shingles;
  guint32     sig;        /* slot in the signature store, or NONE */
  guint32     stamp;      /* candidate de-duplication */
  guint64     exact;
  guint64     lede_key;
  guint8      external;   /* from an earlier run */
  guint8      exact_dup;  /* identical to an earlier document: no bands of its own */
} Entry;

/* One hash table per band (and one for the lede key) of this run's
 * documents. A slot is 4 bytes: the top 8 bits of the key's hash and the
 * entry index; keys are not kept (a fingerprint match is a candidate, and
 * every candidate is verified), and growing recomputes them from the
 * stored signatures, in entry order. */
#define SLOT_EMPTY G_MAXUINT32
#define SLOT_IDX_BITS 24
#define MAX_RUN_ENTRIES ((1u << SLOT_IDX_BITS) - 1)
typedef struct { guint32 *slots; gsize size, used; } BandTable;
typedef struct { guint64 key; guint32 idx, pad; } ExactSlot;

typedef struct {
  /* options */
  gboolean        annotate;
  gboolean        longest;
  double          threshold;
  double          containment;
  gint64          min_words;
  gboolean        paragraphs;
  double          para_threshold;
  char           *state_dir;
  gboolean        mkdir;
  GTimeSpan       window;
  GTimeSpan       lock_timeout;
  DedupSigParams  params;
  gboolean        dry_run;

  /* per-run state */
  DedupScratch   *scratch;      /* process() without an earlier prepare() */
  GAsyncQueue    *pool;         /* DedupScratch for prepare() on the workers */
  GArray         *entries;      /* Entry */
  GStringChunk   *ids;
  GPtrArray      *sig_blocks;   /* guint16[SIGS_PER_BLOCK * k] */
  guint32         n_sigs;
  BandTable       tables[MAX_BANDS + 1];
  ExactSlot      *exact;
  gsize           exact_size, exact_used;
  GHashTable     *external;     /* rowid -> idx + 1 (0 marks "not usable") */
  GArray         *cand;         /* guint32 */
  GArray         *rowids;       /* gint64 */
  guint32         stamp;
  guint           n_rejected;   /* index candidates this document failed to match */
  gint64          started;      /* unix seconds */
  gint64          min_seen;
  gint64          n_in_run;
  gint64          n_duplicates;

  /* persistence */
  DedupIndex     *index;
  int             lock_fd;
  gboolean        commit_pending;
  char           *stage_id;
  GalleyStageContext *ctx;      /* valid until after free() */

  /* shard mode (docs/scale-out.md) */
  int             shard_mode;   /* SHARD_NONE, SHARD_MAP, SHARD_FILTER */
  guint           shard_index;
  char           *work_dir;
  guint32         local_seq;    /* documents this stage saw, in order */
  struct ShardWriter *sig_out;  /* map: signatures */
  GArray         *brecs[MAX_BANDS + 2]; /* map: DedupRecord of each band, the lede, the exact hash */
  GMappedFile    *decisions;    /* filter */
  const guint8   *dnext, *dend;
} Dedup;

enum { SHARD_NONE, SHARD_MAP, SHARD_FILTER };
static void shard_writer_abort (struct ShardWriter *w);

static void
dedup_free (gpointer data)
{
  Dedup *self = data;
  if (self == NULL)
    return;
  if (self->index != NULL && self->commit_pending && self->ctx != NULL && galley_stage_is_cancelled (self->ctx))
    g_warning ("stage '%s': the run failed; state-dir %s keeps the index it had before the run",
               self->stage_id, self->state_dir);
  else if (self->index != NULL && self->commit_pending)
    {
      /* after every finish(), so after the sinks have committed their output */
      g_autoptr(GError) error = NULL;
      gint64 t0 = g_get_monotonic_time ();
      if (!dedup_index_commit (self->index, &error) || !dedup_index_checkpoint (self->index, &error))
        g_warning ("stage '%s': state-dir %s: the index was NOT updated: %s; later runs will not know "
                   "this run's documents", self->stage_id, self->state_dir, error->message);
      else
        g_info ("stage '%s': indexed %" G_GINT64_FORMAT " documents in %s (commit %.2f s)", self->stage_id,
                self->n_in_run, self->state_dir, (g_get_monotonic_time () - t0) / 1e6);
    }
  g_clear_pointer (&self->index, dedup_index_close);
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  g_clear_pointer (&self->scratch, dedup_scratch_free);
  g_clear_pointer (&self->pool, g_async_queue_unref);
  g_clear_pointer (&self->entries, g_array_unref);
  g_clear_pointer (&self->ids, g_string_chunk_free);
  g_clear_pointer (&self->sig_blocks, g_ptr_array_unref);
  g_clear_pointer (&self->external, g_hash_table_unref);
  g_clear_pointer (&self->cand, g_array_unref);
  g_clear_pointer (&self->rowids, g_array_unref);
  for (guint b = 0; b <= MAX_BANDS; b++)
    g_free (self->tables[b].slots);
  g_free (self->exact);
  g_free (self->state_dir);
  g_free (self->stage_id);
  if (self->sig_out != NULL)
    shard_writer_abort (self->sig_out);
  for (guint b = 0; b < MAX_BANDS + 2; b++)
    g_clear_pointer (&self->brecs[b], g_array_unref);
  g_clear_pointer (&self->decisions, g_mapped_file_unref);
  g_free (self->work_dir);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Dedup, dedup_free)

/* ---- in-memory tables ---------------------------------------------------------- */

static inline guint64
mix (guint64 h)
{
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  h ^= h >> 33;
  return h;
}

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
  guint64 h = mix (key);
  gsize j = h & (t->size - 1);
  while (t->slots[j] != SLOT_EMPTY)
    j = (j + 1) & (t->size - 1);
  t->slots[j] = slot_of (h, idx);
  t->used++;
}

static guint16 *sig_at (Dedup *self, guint32 slot);

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
            table_put (t, dedup_band_key (&self->params, sig_at (self, e->sig), b), i);
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
static void
bands_add (Dedup *self, const guint64 *keys, guint n, guint32 idx)
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
      gsize j = mix (s.key) & (size - 1);
      while (slots[j].idx != NONE)
        j = (j + 1) & (size - 1);
      slots[j] = s;
    }
  g_free (self->exact);
  self->exact = slots;
  self->exact_size = size;
}

static guint32
exact_find (Dedup *self, guint64 key)
{
  if (self->exact_size == 0)
    return NONE;
  for (gsize j = mix (key) & (self->exact_size - 1);; j = (j + 1) & (self->exact_size - 1))
    {
      if (self->exact[j].idx == NONE)
        return NONE;
      if (self->exact[j].key == key)
        return self->exact[j].idx;
    }
}

static void
exact_add (Dedup *self, guint64 key, guint32 idx)
{
  if ((self->exact_used + 1) * 10 > self->exact_size * 7)
    exact_grow (self);
  gsize j = mix (key) & (self->exact_size - 1);
  while (self->exact[j].idx != NONE)
    j = (j + 1) & (self->exact_size - 1);
  self->exact[j] = (ExactSlot) { key, idx, 0 };
  self->exact_used++;
}

static inline Entry *
entry (Dedup *self, guint32 idx)
{
  return &g_array_index (self->entries, Entry, idx);
}

static guint16 *
sig_at (Dedup *self, guint32 slot)
{
  guint16 *block = g_ptr_array_index (self->sig_blocks, slot / SIGS_PER_BLOCK);
  return block + (gsize) (slot % SIGS_PER_BLOCK) * self->params.k;
}

static guint32
sig_store (Dedup *self, const guint16 *sig)
{
  guint32 slot = self->n_sigs++;
  if (slot / SIGS_PER_BLOCK >= self->sig_blocks->len)
    g_ptr_array_add (self->sig_blocks, g_new (guint16, (gsize) SIGS_PER_BLOCK * self->params.k));
  memcpy (sig_at (self, slot), sig, self->params.k * sizeof (guint16));
  return slot;
}

/* ---- clusters --------------------------------------------------------------------- */

static guint32
find_root (Dedup *self, guint32 i)
{
  Entry *e = entry (self, i);
  while (e->parent != i)
    {
      Entry *p = entry (self, e->parent);
      e->parent = p->parent;      /* path halving */
      i = e->parent;
      e = entry (self, i);
    }
  return i;
}

/* Earlier runs come first, then this run in input order. */
static inline gint64
order_of (Dedup *self, guint32 i)
{
  Entry *e = entry (self, i);
  return e->external ? e->rowid : G_MAXINT64 / 2 + i;
}

static guint32
better_rep (Dedup *self, guint32 a, guint32 b)
{
  if (self->longest && entry (self, a)->length != entry (self, b)->length)
    return entry (self, a)->length > entry (self, b)->length ? a : b;
  return order_of (self, a) <= order_of (self, b) ? a : b;
}

static void
join (Dedup *self, guint32 a, guint32 b)
{
  guint32 ra = find_root (self, a), rb = find_root (self, b);
  if (ra == rb)
    return;
  guint32 rep = better_rep (self, entry (self, ra)->rep, entry (self, rb)->rep);
  entry (self, rb)->parent = ra;
  entry (self, ra)->rep = rep;
}

static guint32
add_entry (Dedup *self, const char *id, gint64 rowid, gboolean external)
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

/* The entry of index row @rowid, loading it (and its cluster's
 * representative) on first use. NONE when it is gone or outside the window. */
static guint32
external_entry (Dedup *self, gint64 rowid, gboolean with_rep, GError **error)
{
  gpointer v = g_hash_table_lookup (self->external, GSIZE_TO_POINTER (rowid));
  if (v != NULL)
    return GPOINTER_TO_UINT (v) - 1;
  g_auto(DedupStored) d = { 0 };
  gboolean found = FALSE;
  if (!dedup_index_get (self->index, rowid, TRUE, &d, &found, error))
    return NONE;
  if (!found || d.seen < self->min_seen)
    {
      g_hash_table_insert (self->external, GSIZE_TO_POINTER (rowid), GUINT_TO_POINTER (NONE + 1u));
      return NONE;
    }
  guint32 idx = add_entry (self, d.doc_id, rowid, TRUE);
  Entry *e = entry (self, idx);
  e->length = d.length;
  e->n_shingles = d.n_shingles;
  if (d.sig != NULL)
    entry (self, idx)->sig = sig_store (self, d.sig);
  g_hash_table_insert (self->external, GSIZE_TO_POINTER (rowid), GUINT_TO_POINTER (idx + 1));
  if (with_rep && d.cluster != rowid)
    {
      guint32 rep = external_entry (self, d.cluster, FALSE, error);
      if (rep == NONE && error != NULL && *error != NULL)
        return NONE;
      if (rep != NONE)
        {
          guint32 root = find_root (self, rep);
          join (self, root, idx);
          entry (self, find_root (self, idx))->rep = entry (self, root)->rep;
        }
    }
  return idx;
}

/* ---- init ------------------------------------------------------------------------------ */

static gboolean shard_setup (Dedup *self, GalleyStageContext *ctx, const char *step, GError **error);

static gboolean
invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, msg);
  return FALSE;
}

static gboolean
check_options (Dedup *self, const GalleyOptions *opts, GError **error)
{
  gint64 ngram = galley_options_get_int (opts, "ngram");
  gint64 hashes = galley_options_get_int (opts, "hashes");
  gint64 bands = galley_options_get_int (opts, "bands");
  gint64 lede = galley_options_get_int (opts, "lede-words");
  /* the option table holds the ranges; what it cannot say is here */
  if (self->threshold <= 0.0)
    return invalid (error, "threshold must be more than 0, got %g", self->threshold);
  if (self->para_threshold <= 0.0)
    return invalid (error, "paragraph-threshold must be more than 0, got %g", self->para_threshold);
  if (bands > hashes)
    return invalid (error, "bands must be at most hashes (%" G_GINT64_FORMAT "), got %" G_GINT64_FORMAT,
                    hashes, bands);
  self->params.ngram = ngram;
  self->params.k = hashes;
  self->params.lede_words = lede;
  if (bands == 0)
    dedup_derive_bands (self->threshold, self->params.k, MAX_BANDS, &self->params.bands, &self->params.rows);
  else
    {
      self->params.bands = bands;
      self->params.rows = MAX (1, hashes / bands);
    }
  return TRUE;
}

/* Checks the state directory without creating anything; opens the index
 * when there is one, and takes the lock for a real run. */
static gboolean
open_state (Dedup *self, GError **error)
{
  const char *dir = self->state_dir;
  if (!g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      if (!self->mkdir)
        {
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                       "state-dir: %s does not exist (set mkdir=true to create it)", dir);
          return FALSE;
        }
      /* the nearest existing parent must take a new directory */
      g_autofree char *probe = g_strdup (dir);
      while (!g_file_test (probe, G_FILE_TEST_EXISTS))
        {
          char *parent = g_path_get_dirname (probe);
          gboolean top = g_str_equal (parent, probe);
          g_free (probe);
          probe = parent;
          if (top)
            break;
        }
      if (!g_file_test (probe, G_FILE_TEST_IS_DIR) || access (probe, W_OK | X_OK) != 0)
        {
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                       "state-dir: cannot create %s: %s is not a writable directory", dir, probe);
          return FALSE;
        }
      g_info ("state-dir %s does not exist yet; a new index is created there at the end of the run", dir);
      return TRUE;
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "state-dir: %s is not a directory", dir);
      return FALSE;
    }
  if (!self->dry_run && access (dir, W_OK | X_OK) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                   "state-dir: %s is not writable (%s); the index could not be updated", dir, g_strerror (e));
      return FALSE;
    }
  if (!self->dry_run)
    {
      self->lock_fd = dedup_lock_state_dir (dir, self->lock_timeout, error);
      if (self->lock_fd < 0)
        {
          g_prefix_error (error, "state-dir: ");
          return FALSE;
        }
    }
  g_autofree char *path = g_build_filename (dir, DEDUP_INDEX_FILE, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  GError *local = NULL;
  self->index = dedup_index_open (dir, !self->dry_run, FALSE, &self->params, &local);
  /* a dry run meets an index file that a first run killed at its start
   * left empty: as if there were none */
  if (self->index == NULL && self->dry_run && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      g_clear_error (&local);
      return TRUE;
    }
  if (self->index == NULL)
    {
      g_propagate_error (error, local);
      g_prefix_error (error, "state-dir: ");
      return FALSE;
    }
  return TRUE;
}

/* The options of @opts into @self, checked. */
static gboolean
read_options (Dedup *self, const GalleyOptions *opts, GError **error)
{
  self->annotate = g_str_equal (galley_options_get_enum (opts, "mode"), "annotate");
  self->longest = g_str_equal (galley_options_get_enum (opts, "policy"), "longest");
  self->threshold = galley_options_get_double (opts, "threshold");
  self->containment = galley_options_get_double (opts, "containment");
  self->min_words = galley_options_get_int (opts, "min-words");
  self->paragraphs = galley_options_get_bool (opts, "paragraphs");
  self->para_threshold = galley_options_get_double (opts, "paragraph-threshold");
  self->state_dir = g_strdup (galley_options_get_string (opts, "state-dir"));
  self->mkdir = galley_options_get_bool (opts, "mkdir");
  self->window = galley_options_get_duration (opts, "window");
  self->lock_timeout = galley_options_get_duration (opts, "lock-timeout");
  self->params.kind = g_str_equal (galley_options_get_enum (opts, "shingle"), "char")
                      ? DEDUP_SHINGLE_CHAR : DEDUP_SHINGLE_WORD;
  self->params.skip_stopwords = galley_options_get_bool (opts, "stopwords");
  return check_options (self, opts, error);
}

static gpointer
dedup_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Dedup) self = g_new0 (Dedup, 1);
  self->ctx = ctx;
  self->lock_fd = -1;
  self->stage_id = g_strdup (galley_stage_context_get_id (ctx));
  self->dry_run = galley_stage_context_is_dry_run (ctx);
  if (!read_options (self, opts, error))
    return NULL;

  const char *step = galley_stage_context_get_shard_step (ctx);
  if (step != NULL && !shard_setup (self, ctx, step, error))
    return NULL;

  self->started = g_get_real_time () / G_USEC_PER_SEC;
  self->min_seen = self->window > 0 ? self->started - self->window / G_USEC_PER_SEC : G_MININT64;
  if (*self->state_dir == '\0')
    g_clear_pointer (&self->state_dir, g_free);
  else if (!open_state (self, error))
    return NULL;

  self->scratch = dedup_scratch_new (&self->params);
  self->pool = g_async_queue_new_full ((GDestroyNotify) dedup_scratch_free);
  self->entries = g_array_sized_new (FALSE, FALSE, sizeof (Entry), 4096);
  self->ids = g_string_chunk_new (64 * 1024);
  self->sig_blocks = g_ptr_array_new_with_free_func (g_free);
  self->external = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->cand = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->rowids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *desc = dedup_params_describe (&self->params);
  g_debug ("stage '%s': %s, threshold %g, containment %g, index %s (%s documents)",
           self->stage_id, desc, self->threshold, self->containment, self->state_dir ? self->state_dir : "none",
           self->index && dedup_index_has_docs (self->index) ? "some" : "no");
  return g_steal_pointer (&self);
}

/* ---- process ------------------------------------------------------------------------------ */

/* Removes later copies of a paragraph; returns how many went. */
static guint
remove_repeated_paragraphs (const Dedup *self, DedupScratch *s, GalleyDocument *doc, const char *text, gsize len)
{
  guint n = dedup_n_paragraphs (s);
  if (n < 2)
    return 0;
  /* most texts have a few dozen paragraphs: scan the earlier ones, and
   * only allocate for long texts */
  gboolean gone_small[64] = { FALSE };
  g_autofree gboolean *gone_big = n > G_N_ELEMENTS (gone_small) ? g_new0 (gboolean, n) : NULL;
  gboolean *gone = gone_big ? gone_big : gone_small;
  g_autoptr(GHashTable) seen = n > 256 ? g_hash_table_new (g_int64_hash, g_int64_equal) : NULL;
  gboolean near = self->para_threshold < 1.0 && n <= 256;
  guint removed = 0;
  for (guint i = 0; i < n; i++)
    {
      const DedupParagraph *p = dedup_paragraph (s, i);
      if (p->hash == 0)
        continue;
      gboolean repeat = FALSE;
      if (seen != NULL)
        repeat = g_hash_table_contains (seen, &p->hash);
      else
        for (guint j = 0; j < i && !repeat; j++)
          repeat = !gone[j] && dedup_paragraph (s, j)->hash == p->hash;
      if (repeat)
        gone[i] = TRUE;
      else if (near && p->n_tokens >= 8)
        for (guint j = 0; j < i && !gone[i]; j++)
          {
            const DedupParagraph *q = dedup_paragraph (s, j);
            if (gone[j] || q->n_tokens < 8
                || MIN (p->n_tokens, q->n_tokens) < self->para_threshold * MAX (p->n_tokens, q->n_tokens))
              continue;
            gone[i] = dedup_paragraph_similarity (s, i, j, self->para_threshold) >= self->para_threshold;
          }
      if (gone[i])
        removed++;
      else if (seen != NULL)
        g_hash_table_add (seen, (gpointer) &p->hash);
    }
  if (removed == 0)
    return 0;
  GString *out = g_string_sized_new (len);
  for (guint i = 0; i < n; i++)
    {
      const DedupParagraph *p = dedup_paragraph (s, i);
      if (!gone[i])
        g_string_append_len (out, text + p->start, p->next - p->start);
    }
  if (gone[n - 1])
    while (out->len > 0 && g_ascii_isspace (out->str[out->len - 1]))
      g_string_truncate (out, out->len - 1);
  dedup_remove_paragraphs (s, gone);
  if (galley_document_get_n_annotations (doc) > 0)
    galley_document_clear_annotations (doc, NULL);   /* their offsets no longer hold */
  gsize out_len = out->len;
  galley_document_take_text (doc, g_string_free (out, FALSE), out_len);
  galley_document_add_repair (doc, "repeated-paragraph", removed);
  return removed;
}

/* Adds @idx to the candidates unless it is there already. */
static inline void
add_candidate (Dedup *self, guint32 idx)
{
  Entry *e = entry (self, idx);
  if (e->stamp == self->stamp || e->sig == NONE)
    return;
  e->stamp = self->stamp;
  g_array_append_val (self->cand, idx);
  /* the signature is read when the candidate is verified: start loading it */
  const char *sig = (const char *) sig_at (self, e->sig);
  for (guint off = 0; off < self->params.k * sizeof (guint16); off += 64)
    __builtin_prefetch (sig + off);
}

/* Whether a signature passes the similarity or the containment test. */
static inline gboolean
verified (const Dedup *self, const DedupSignature *sig, const guint16 *other, guint32 other_shingles)
{
  double j = dedup_jaccard (sig->sig, other, self->params.k);
  return j >= self->threshold
         || (self->containment > 0 && dedup_containment (j, sig->n_shingles, other_shingles) >= self->containment);
}

static int
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* Whether entry @idx has key @key in keyspace @b: a fingerprint match is
 * only a candidate when the key itself is shared, so the candidates do not
 * depend on the tables' sizes and a sharded run finds the same ones. */
static inline gboolean
has_key (Dedup *self, guint32 idx, guint b, guint n_keys, guint64 key)
{
  Entry *e = entry (self, idx);
  if (e->sig == NONE)
    return FALSE;
  if (b < self->params.bands)
    return dedup_band_key (&self->params, sig_at (self, e->sig), b) == key;
  return e->lede_key == key;
}

static gint
cmp_order (gconstpointer a, gconstpointer b, gpointer data)
{
  gint64 x = order_of (data, *(const guint32 *) a), y = order_of (data, *(const guint32 *) b);
  return x < y ? -1 : x > y;
}

static gboolean
gather_candidates (Dedup *self, const DedupSignature *sig, const guint64 *keys, guint n_keys, GError **error)
{
  g_array_set_size (self->cand, 0);
  self->stamp++;
  guint64 h[MAX_BANDS + 1];
  for (guint b = 0; b < n_keys; b++)
    {
      h[b] = mix (keys[b]);
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
            add_candidate (self, slot & MAX_RUN_ENTRIES);
        }
    }
  if (n_keys > 0 && self->index != NULL && dedup_index_has_docs (self->index))
    {
      g_array_set_size (self->rowids, 0);
      dedup_index_bands_lookup (self->index, keys, n_keys, self->rowids);
      g_array_sort (self->rowids, cmp_i64);
      for (guint i = 0; i < self->rowids->len; i++)
        {
          gint64 rowid = g_array_index (self->rowids, gint64, i);
          if (i > 0 && rowid == g_array_index (self->rowids, gint64, i - 1))
            continue;
          /* loaded already, or checked against its signature in the
           * segment first: SQLite only for the ones that match */
          gpointer known = g_hash_table_lookup (self->external, GSIZE_TO_POINTER (rowid));
          if (known == NULL)
            {
              const guint16 *other;
              guint32 other_shingles;
              if (!dedup_index_peek (self->index, rowid, &other, &other_shingles))
                continue;
              if (!verified (self, sig, other, other_shingles))
                {
                  self->n_rejected++;
                  continue;
                }
            }
          guint32 idx = external_entry (self, rowid, TRUE, error);
          if (idx == NONE && error != NULL && *error != NULL)
            return FALSE;
          if (idx != NONE)
            add_candidate (self, idx);
        }
    }
  /* verified in document order: the most similar, then the earliest, is the match */
  g_array_sort_with_data (self->cand, cmp_order, self);
  return TRUE;
}

/* What prepare() computes for one document: a pure function of its text
 * and the options, so it runs on any thread. */
typedef struct {
  DedupSignature sig;         /* sig.sig points at values */
  guint          n_keys;      /* band keys, then the lede key; 0: not compared by similarity */
  guint          removed;     /* repeated paragraphs taken out of the text */
  guint64        keys[MAX_BANDS + 1];
  guint16        values[];    /* k MinHash values */
} Prepared;

/* Tokenizes the text, removes repeated paragraphs (changing the document)
 * and computes the signature and keys, with a scratch of the caller's. */
static Prepared *
prepare_document (const Dedup *self, DedupScratch *s, GalleyDocument *doc)
{
  gsize len;
  const char *text = galley_document_get_text (doc, &len);
  Prepared *p = g_malloc (sizeof (Prepared) + self->params.k * sizeof (guint16));
  dedup_tokenize (s, text, len);
  p->removed = self->paragraphs ? remove_repeated_paragraphs (self, s, doc, text, len) : 0;
  dedup_signature (s, &p->sig);
  memcpy (p->values, p->sig.sig, self->params.k * sizeof (guint16));
  p->sig.sig = p->values;
  p->n_keys = 0;
  if (p->sig.n_tokens >= (guint64) self->min_words && p->sig.n_shingles > 0)
    {
      dedup_band_keys (&self->params, p->values, p->keys);
      p->n_keys = self->params.bands;
      if (p->sig.lede_key != 0)
        p->keys[p->n_keys++] = p->sig.lede_key;
    }
  return p;
}

/* On the worker threads, ahead of process(): only reads the options; the
 * scratch buffers come from a thread-safe pool. */
static GalleyVerdict
dedup_prepare (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  Dedup *self = state;
  if (self->shard_mode == SHARD_FILTER)
    return GALLEY_VERDICT_KEEP;
  DedupScratch *s = g_async_queue_try_pop (self->pool);
  if (s == NULL)
    s = dedup_scratch_new (&self->params);
  Prepared *p = prepare_document (self, s, doc);
  g_async_queue_push (self->pool, s);
  galley_document_set_stage_data (doc, ctx, p, g_free);
  return GALLEY_VERDICT_KEEP;
}

/* What the stage decides for one document; a sharded run's cluster step
 * computes the same (see "Shard mode" in docs/dedup.md). */
typedef enum { DECISION_NONE, DECISION_REPLACES, DECISION_EXACT, DECISION_NEAR } DecisionKind;
typedef struct {
  DecisionKind kind;
  double       similarity;
  double       containment;
  const char  *rep_id;     /* DECISION_EXACT, DECISION_NEAR */
  const char  *best_id;    /* the closest match, when it is not rep_id; or the replaced one */
} Decision;

static guint32
new_entry (Dedup *self, const char *id, const DedupSignature *sig, gboolean exact)
{
  guint32 idx = add_entry (self, id, 0, FALSE);
  Entry *e = entry (self, idx);
  e->length = sig->n_tokens;
  e->n_shingles = sig->n_shingles;
  e->exact = sig->exact_lo;
  e->exact_dup = exact;
  e->lede_key = sig->lede_key;
  return idx;
}

/* Joins entry @idx with its exact @match (or NONE) and every candidate in
 * self->cand (in document order) that passes the tests, and says what
 * becomes of it. */
static void
decide (Dedup *self, guint32 idx, guint32 match, const guint16 *values, guint32 n_shingles, Decision *out)
{
  gboolean exact = match != NONE;
  double similarity = exact ? 1.0 : 0.0, best_containment = 0.0;
  if (exact)
    join (self, match, idx);
  guint32 best = match;
  for (guint i = 0; i < self->cand->len; i++)
    {
      guint32 c = g_array_index (self->cand, guint32, i);
      Entry *ce = entry (self, c);
      double j = dedup_jaccard (values, sig_at (self, ce->sig), self->params.k);
      double cont = self->containment > 0 ? dedup_containment (j, n_shingles, ce->n_shingles) : 0.0;
      if (j >= self->threshold || (self->containment > 0 && cont >= self->containment))
        {
          if (best == NONE || j > similarity)
            {
              best = c;
              similarity = j;
              best_containment = cont;
            }
          join (self, c, idx);
        }
    }
  guint32 rep = entry (self, find_root (self, idx))->rep;
  memset (out, 0, sizeof *out);
  out->similarity = similarity;
  out->containment = best_containment;
  if (rep == idx)
    {
      out->kind = best != NONE ? DECISION_REPLACES : DECISION_NONE;
      out->best_id = best != NONE ? entry (self, best)->id : NULL;
      return;
    }
  out->kind = exact ? DECISION_EXACT : DECISION_NEAR;
  out->rep_id = entry (self, rep)->id;
  out->best_id = best != rep ? entry (self, best)->id : NULL;
}

/* Sets the document's dedup field, or drops it, as @d says. */
static GalleyVerdict
apply_decision (Dedup *self, GalleyDocument *doc, GalleyStageContext *ctx, const Decision *d)
{
  json_object *field = json_object_new_object ();
  if (d->kind == DECISION_NONE || d->kind == DECISION_REPLACES)
    {
      json_object_object_add (field, "cluster", json_object_new_string (galley_document_get_id (doc)));
      if (d->kind == DECISION_REPLACES)
        {
          /* policy=longest: this longer copy takes over the cluster */
          json_object_object_add (field, "replaces", json_object_new_string (d->best_id));
          galley_stage_count (ctx, "replaced", 1);
        }
      galley_document_set_field (doc, "dedup", field);
      return GALLEY_VERDICT_KEEP;
    }
  gboolean exact = d->kind == DECISION_EXACT;
  galley_stage_count (ctx, exact ? "exact-duplicates" : "near-duplicates", 1);
  g_debug ("document '%s': %s of '%s' (similarity %.3f, containment %.3f, matched '%s')",
           galley_document_get_id (doc), exact ? "duplicate" : "near duplicate", d->rep_id, d->similarity,
           d->containment, d->best_id ? d->best_id : d->rep_id);
  if (!self->annotate)
    {
      json_object_put (field);
      return galley_stage_drop (ctx, exact ? "duplicate" : "near-duplicate");
    }
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.3f", d->similarity);
  json_object_object_add (field, "cluster", json_object_new_string (d->rep_id));
  json_object_object_add (field, "duplicate_of", json_object_new_string (d->rep_id));
  json_object_object_add (field, "similarity", json_object_new_double_s (d->similarity, buf));
  if (!exact && d->similarity < self->threshold)
    {
      g_ascii_formatd (buf, sizeof buf, "%.3f", d->containment);
      json_object_object_add (field, "containment", json_object_new_double_s (d->containment, buf));
    }
  if (d->best_id != NULL)
    json_object_object_add (field, "match", json_object_new_string (d->best_id));
  galley_document_set_field (doc, "dedup", field);
  return GALLEY_VERDICT_KEEP;
}

/* ---- shard mode: files in the work directory ----------------------------------------------- */

/* Every file starts with a header (magic, kind, payload length) and ends
 * with an XXH3 of the payload, so a truncated or damaged file is found
 * before it is used. */
#define SHARD_MAGIC "GLYDDSH1"
enum { KIND_SIGS = 1, KIND_BAND = 2, KIND_GROUPS = 3, KIND_DECISIONS = 4, KIND_CLUSTERS = 5 };

struct ShardWriter {
  int           fd;
  char         *path;
  char         *tmp;
  XXH3_state_t *hash;
  guint64       len;
  GString      *buf;
};
typedef struct ShardWriter ShardWriter;

static void
shard_writer_abort (ShardWriter *w)
{
  if (w == NULL)
    return;
  if (w->fd >= 0)
    {
      close (w->fd);
      g_unlink (w->tmp);
    }
  XXH3_freeState (w->hash);
  g_string_free (w->buf, TRUE);
  g_free (w->path);
  g_free (w->tmp);
  g_free (w);
}

static gboolean
write_all (int fd, const void *data, gsize len, const char *path, GError **error)
{
  for (gsize done = 0; done < len;)
    {
      ssize_t n = write (fd, (const char *) data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", path, g_strerror (e));
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

static ShardWriter *
shard_writer_new (const char *path, guint32 kind, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_mkdir_with_parents (dir, 0755);
  ShardWriter *w = g_new0 (ShardWriter, 1);
  w->path = g_strdup (path);
  w->tmp = g_strdup_printf ("%s.tmp-%d", path, (int) getpid ());
  w->hash = XXH3_createState ();
  XXH3_64bits_reset (w->hash);
  w->buf = g_string_sized_new (1 << 20);
  w->fd = open (w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd < 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot create %s: %s", w->tmp, g_strerror (e));
      shard_writer_abort (w);
      return NULL;
    }
  guint8 header[24] = { 0 };
  memcpy (header, SHARD_MAGIC, 8);
  memcpy (header + 8, &kind, 4);
  g_string_append_len (w->buf, (const char *) header, sizeof header);
  return w;
}

static gboolean
shard_writer_flush (ShardWriter *w, GError **error)
{
  if (!write_all (w->fd, w->buf->str, w->buf->len, w->tmp, error))
    return FALSE;
  g_string_truncate (w->buf, 0);
  return TRUE;
}

static gboolean
shard_writer_add (ShardWriter *w, const void *data, gsize len, GError **error)
{
  XXH3_64bits_update (w->hash, data, len);
  w->len += len;
  g_string_append_len (w->buf, data, len);
  return w->buf->len < (1 << 20) || shard_writer_flush (w, error);
}

/* Writes the trailer and the length, syncs and renames; frees @w. */
static gboolean
shard_writer_commit (ShardWriter *w, GError **error)
{
  guint64 h = XXH3_64bits_digest (w->hash);
  g_string_append_len (w->buf, (const char *) &h, 8);
  gboolean ok = shard_writer_flush (w, error);
  if (ok && (pwrite (w->fd, &w->len, 8, 16) != 8 || fsync (w->fd) != 0 || close (w->fd) != 0
             || rename (w->tmp, w->path) != 0))
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s", w->path, g_strerror (e));
      ok = FALSE;
      g_unlink (w->tmp);
      w->fd = -1;
    }
  else if (ok)
    w->fd = -1;
  shard_writer_abort (w);
  return ok;
}

/* Maps @path and checks it; *payload and *len describe its content. */
static GMappedFile *
shard_file_open (const char *path, guint32 kind, const guint8 **payload, gsize *len, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GMappedFile) m = g_mapped_file_new (path, FALSE, &local);
  if (m == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s", local->message);
      return NULL;
    }
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (m);
  gsize size = g_mapped_file_get_length (m);
  guint32 k = 0;
  guint64 n = 0, h = 0;
  if (size >= 32)
    {
      memcpy (&k, data + 8, 4);
      memcpy (&n, data + 16, 8);
      memcpy (&h, data + size - 8, 8);
    }
  if (size < 32 || memcmp (data, SHARD_MAGIC, 8) != 0 || k != kind || n != size - 32
      || XXH3_64bits (data + 24, n) != h)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is truncated or damaged (bad header, length or checksum): run the step that wrote it again",
                   path);
      return NULL;
    }
  *payload = data + 24;
  *len = n;
  return g_steal_pointer (&m);
}

static char *
band_path (const char *work, guint b, guint shard)
{
  g_autofree char *dir = g_strdup_printf ("band-%u", b);
  g_autofree char *name = g_strdup_printf ("shard-%u", shard);
  return g_build_filename (work, "dedup", dir, name, NULL);
}

/* DIR/dedup/PREFIX-N */
static char *
work_file (const char *work, const char *prefix, guint n)
{
  g_autofree char *name = g_strdup_printf ("%s-%u", prefix, n);
  return g_build_filename (work, "dedup", name, NULL);
}

static gboolean
shard_setup (Dedup *self, GalleyStageContext *ctx, const char *step, GError **error)
{
  self->work_dir = g_strdup (galley_stage_context_get_work_dir (ctx));
  galley_stage_context_get_shard (ctx, &self->shard_index, NULL);
  if (g_str_equal (step, "filter"))
    {
      self->shard_mode = SHARD_FILTER;
      g_autofree char *path = work_file (self->work_dir, "decisions", self->shard_index);
      gsize len;
      self->decisions = shard_file_open (path, KIND_DECISIONS, &self->dnext, &len, error);
      if (self->decisions == NULL)
        return FALSE;
      self->dend = self->dnext + len;
      return TRUE;
    }
  self->shard_mode = SHARD_MAP;
  g_autofree char *path = work_file (self->work_dir, "sigs", self->shard_index);
  self->sig_out = shard_writer_new (path, KIND_SIGS, error);
  if (self->sig_out == NULL)
    return FALSE;
  for (guint b = 0; b < self->params.bands + 2; b++)
    self->brecs[b] = g_array_new (FALSE, FALSE, sizeof (DedupRecord));
  return TRUE;
}

/* One signature record: seq, length, shingles, near flag, exact hash, id
 * length, id bytes, then k values when near. */
typedef struct {
  guint32 seq, length, n_shingles, near;
  guint64 exact;
  guint32 id_len, pad;
} SigHead;

static GalleyVerdict
shard_map_process (Dedup *self, GalleyDocument *doc, const Prepared *p, GError **error)
{
  guint32 seq = self->local_seq++;
  const DedupSignature *sig = &p->sig;
  if (sig->n_tokens == 0)
    return GALLEY_VERDICT_KEEP;
  const char *id = galley_document_get_id (doc);
  SigHead h = { seq, sig->n_tokens, sig->n_shingles, p->n_keys > 0, sig->exact_lo, strlen (id), 0 };
  if (!shard_writer_add (self->sig_out, &h, sizeof h, error) || !shard_writer_add (self->sig_out, id, h.id_len, error)
      || (h.near && !shard_writer_add (self->sig_out, p->values, self->params.k * sizeof (guint16), error)))
    return GALLEY_VERDICT_ERROR;
  for (guint b = 0; b < p->n_keys; b++)
    {
      DedupRecord r = { p->keys[b], seq, 0 };
      g_array_append_val (self->brecs[b], r);
    }
  DedupRecord r = { sig->exact_lo, seq, 0 };
  g_array_append_val (self->brecs[self->params.bands + 1], r);
  return GALLEY_VERDICT_KEEP;
}

/* Sorts 16-byte records that start with a 64-bit key by key, stably:
 * least significant digit first, 16 bits a pass, leaving out the passes in
 * which every key has the same digit (band keys are 41 bits). Records with
 * the same key keep their order, so records appended in document order come
 * out as (key, document). */
typedef struct { guint64 key, rest; } KeyRec;
G_STATIC_ASSERT (sizeof (KeyRec) == 16);

typedef struct {
  KeyRec *tmp;
  gsize   cap;
  gsize  *count;
} SortScratch;

static void
sort_scratch_clear (SortScratch *s)
{
  g_clear_pointer (&s->tmp, g_free);
  g_clear_pointer (&s->count, g_free);
  s->cap = 0;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SortScratch, sort_scratch_clear)

/* @s: buffers kept from one call to the next */
static void
sort_by_key (KeyRec *recs, gsize n, SortScratch *s)
{
  if (n < 2)
    return;
  if (s->cap < n)
    {
      g_free (s->tmp);
      s->tmp = g_new (KeyRec, n);
      s->cap = n;
    }
  if (s->count == NULL)
    s->count = g_new (gsize, 1 << 16);
  gsize *count = s->count;
  KeyRec *from = recs, *to = s->tmp;
  for (guint shift = 0; shift < 64; shift += 16)
    {
      memset (count, 0, sizeof (gsize) << 16);
      for (gsize i = 0; i < n; i++)
        count[(from[i].key >> shift) & 0xffff]++;
      if (count[(from[0].key >> shift) & 0xffff] == n)
        continue;
      gsize sum = 0;
      for (guint b = 0; b < (1 << 16); b++)
        {
          gsize c = count[b];
          count[b] = sum;
          sum += c;
        }
      for (gsize i = 0; i < n; i++)
        to[count[(from[i].key >> shift) & 0xffff]++] = from[i];
      KeyRec *t = from;
      from = to;
      to = t;
    }
  if (from != recs)
    memcpy (recs, from, n * sizeof (KeyRec));
}

static gboolean
shard_map_finish (Dedup *self, GError **error)
{
  ShardWriter *w = g_steal_pointer (&self->sig_out);
  if (!shard_writer_commit (w, error))
    return FALSE;
  g_autoptr(GString) list = g_string_new (NULL);
  g_auto(SortScratch) scratch = { 0 };
  g_string_append_printf (list, "dedup/sigs-%u\n", self->shard_index);
  for (guint b = 0; b < self->params.bands + 2; b++)
    {
      GArray *recs = self->brecs[b];
      /* appended in document order: sorted by (key, document) */
      G_STATIC_ASSERT (sizeof (DedupRecord) == sizeof (KeyRec) && G_STRUCT_OFFSET (DedupRecord, key) == 0);
      sort_by_key ((KeyRec *) recs->data, recs->len, &scratch);
      g_autofree char *path = band_path (self->work_dir, b, self->shard_index);
      ShardWriter *bw = shard_writer_new (path, KIND_BAND, error);
      if (bw == NULL || !shard_writer_add (bw, recs->data, (gsize) recs->len * sizeof (DedupRecord), error)
          || !shard_writer_commit (bw, error))
        return FALSE;
      g_string_append_printf (list, "dedup/band-%u/shard-%u\n", b, self->shard_index);
      g_clear_pointer (&self->brecs[b], g_array_unref);
    }
  g_autofree char *path = work_file (self->work_dir, "outputs", self->shard_index);
  return galley_shard_write_file (path, list->str, list->len, error);
}

/* One decision record: seq, kind, similarity, containment, then the
 * lengths and bytes of the representative's and the match's ids. */
typedef struct {
  guint32 seq, kind;
  double  similarity, containment;
  guint32 rep_len, best_len;
} DecisionHead;

static GalleyVerdict
shard_filter_process (Dedup *self, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  guint32 seq = self->local_seq++;
  Decision d = { DECISION_NONE, 0, 0, NULL, NULL };
  g_autofree char *rep = NULL, *best = NULL;
  DecisionHead h;
  if (self->dend - self->dnext >= (gssize) sizeof h)
    {
      memcpy (&h, self->dnext, sizeof h);
      if (h.seq == seq)
        {
          const guint8 *q = self->dnext + sizeof h;
          if (q + h.rep_len + h.best_len > self->dend)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "decisions of shard %u: bad record",
                           self->shard_index);
              return GALLEY_VERDICT_ERROR;
            }
          rep = h.rep_len ? g_strndup ((const char *) q, h.rep_len) : NULL;
          best = h.best_len ? g_strndup ((const char *) q + h.rep_len, h.best_len) : NULL;
          self->dnext = q + h.rep_len + h.best_len;
          d.kind = h.kind;
          d.similarity = h.similarity;
          d.containment = h.containment;
          d.rep_id = rep;
          d.best_id = best;
        }
    }
  return apply_decision (self, doc, ctx, &d);
}

static GalleyVerdict
dedup_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  Dedup *self = state;
  if (self->shard_mode == SHARD_FILTER)
    return shard_filter_process (self, doc, ctx, error);
  g_autofree Prepared *p = galley_document_steal_stage_data (doc, ctx);

  if (p == NULL)
    p = prepare_document (self, self->scratch, doc);
  if (p->removed > 0)
    galley_stage_count (ctx, "repeated-paragraphs", p->removed);
  const DedupSignature *sig = &p->sig;
  if (self->shard_mode == SHARD_MAP)
    return shard_map_process (self, doc, p, error);
  if (sig->n_tokens == 0)
    {
      /* no words: nothing to compare; dropping empty texts is another stage's job */
      json_object *field = json_object_new_object ();
      json_object_object_add (field, "cluster", json_object_new_string (galley_document_get_id (doc)));
      galley_document_set_field (doc, "dedup", field);
      galley_stage_count (ctx, "no-words", 1);
      return GALLEY_VERDICT_KEEP;
    }

  /* exact: this run, then earlier runs */
  guint32 match = exact_find (self, sig->exact_lo);
  if (match == NONE && self->index != NULL && dedup_index_has_docs (self->index))
    {
      gint64 rowid;
      gboolean found;
      if (!dedup_index_find_exact (self->index, dedup_exact_key (&self->params, sig->exact_lo), sig->exact_lo,
                                   self->min_seen, &rowid, &found, error))
        return GALLEY_VERDICT_ERROR;
      if (found && (match = external_entry (self, rowid, TRUE, error)) == NONE && *error != NULL)
        return GALLEY_VERDICT_ERROR;
    }
  gboolean exact = match != NONE;
  gboolean near_ok = !exact && p->n_keys > 0;
  g_array_set_size (self->cand, 0);
  if (near_ok && !gather_candidates (self, sig, p->keys, p->n_keys, error))
    return GALLEY_VERDICT_ERROR;

  if (G_UNLIKELY (self->entries->len >= MAX_RUN_ENTRIES))
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE,
                   "more than %u documents in one run (counting those of the index it matched); "
                   "split the input into several runs", MAX_RUN_ENTRIES);
      return GALLEY_VERDICT_ERROR;
    }
  /* the new entry, joined with every verified candidate */
  Entry *e;
  guint32 idx = new_entry (self, galley_document_get_id (doc), sig, exact);
  Decision d;
  decide (self, idx, match, sig->sig, sig->n_shingles, &d);
  galley_stage_count (ctx, "candidates", self->cand->len + self->n_rejected);
  self->n_rejected = 0;
  e = entry (self, idx);
  if (near_ok)
    {
      e->sig = sig_store (self, sig->sig);
      bands_add (self, p->keys, p->n_keys, idx);
    }
  if (!exact)
    exact_add (self, sig->exact_lo, idx);
  self->n_in_run++;
  if (d.kind != DECISION_NONE && d.kind != DECISION_REPLACES)
    self->n_duplicates++;
  return apply_decision (self, doc, ctx, &d);
}

/* ---- finish: write this run's documents --------------------------------------------------- */

/* The keys of keyspace @b (a band, the lede, or the exact hash) of this
 * run's entries, sorted. */
static void
collect_keys (Dedup *self, guint b, GArray *recs)
{
  g_array_set_size (recs, 0);
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *e = entry (self, i);
      if (e->external)
        continue;
      DedupRecord r = { 0, (guint32) e->rowid, 0 };
      if (b < self->params.bands)
        {
          if (e->sig == NONE)
            continue;
          r.key = dedup_band_key (&self->params, sig_at (self, e->sig), b);
        }
      else if (b == self->params.bands)
        {
          if (e->sig == NONE || e->lede_key == 0)
            continue;
          r.key = e->lede_key;
        }
      else
        {
          if (e->exact_dup)
            continue;
          r.key = dedup_exact_key (&self->params, e->exact);
        }
      g_array_append_val (recs, r);
    }
  dedup_sort_records ((DedupRecord *) recs->data, recs->len);
}

/* Writes this run's signatures and keys as a new segment file (synced and
 * renamed into place, not yet part of the index), then its documents and
 * the segment into the open transaction. */
static gboolean
write_index (Dedup *self, GError **error)
{
  DedupIndex *ix = self->index;
  if (!dedup_index_begin (ix, error))
    return FALSE;
  gint64 base = dedup_index_max_rowid (ix, error);
  if (base < 0)
    return FALSE;
  guint n = self->entries->len;
  gint64 next = base;
  guint64 n_sigs = 0, n_recs = 0;
  for (guint i = 0; i < n; i++)
    {
      Entry *e = entry (self, i);
      if (e->external)
        continue;
      e->rowid = ++next;
      n_sigs += e->sig != NONE;
      n_recs += (e->sig != NONE ? self->params.bands + (e->lede_key != 0) : 0) + !e->exact_dup;
    }
  if (next > G_MAXUINT32)
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE,
                   "the index is full (%" G_GINT64_FORMAT " documents numbered); forget old ones and compact", next);
      return FALSE;
    }

  g_autoptr(DedupSegmentWriter) w = dedup_segment_writer_new (dedup_index_dir (ix), self->params.k, n_sigs,
                                                              n_recs, error);
  if (w == NULL)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      Entry *e = entry (self, i);
      if (!e->external && e->sig != NONE
          && !dedup_segment_writer_add_doc (w, (guint32) e->rowid, sig_at (self, e->sig), e->n_shingles, error))
        return FALSE;
    }
  g_autoptr(GArray) recs = g_array_new (FALSE, FALSE, sizeof (DedupRecord));
  for (guint b = 0; b <= self->params.bands + 1; b++)
    {
      collect_keys (self, b, recs);
      for (guint i = 0; i < recs->len; i++)
        {
          const DedupRecord *r = &g_array_index (recs, DedupRecord, i);
          if (!dedup_segment_writer_add_record (w, r->key, r->doc, error))
            return FALSE;
        }
    }
  g_array_set_size (recs, 0);
  g_autofree char *name = g_strdup_printf ("seg-%010" G_GINT64_FORMAT "-%08x.dd", next, g_random_int ());
  if (!dedup_segment_writer_commit (w, name, error))
    return FALSE;
  g_clear_pointer (&w, dedup_segment_writer_free);

  for (guint i = 0; i < n; i++)
    {
      Entry *e = entry (self, i);
      if (e->external)
        continue;
      guint32 rep = entry (self, find_root (self, i))->rep;
      DedupStored d = { .rowid = e->rowid, .doc_id = (char *) e->id, .cluster = entry (self, rep)->rowid,
                        .seen = self->started, .length = e->length, .n_shingles = e->n_shingles };
      if (!dedup_index_add_doc (ix, &d, e->exact, error))
        return FALSE;
    }
  return dedup_index_add_segment (ix, name, base + 1, next, n_sigs, n_recs, error)
         && dedup_index_add_run (ix, self->started, self->n_in_run, self->n_duplicates, error);
}

static gboolean
dedup_finish (gpointer state, GalleyStageContext *ctx, GError **error)
{
  Dedup *self = state;
  if (self->shard_mode == SHARD_MAP)
    return galley_stage_is_cancelled (ctx) || shard_map_finish (self, error);
  if (self->state_dir == NULL || self->dry_run || self->n_in_run == 0)
    return TRUE;
  if (galley_stage_is_cancelled (ctx))
    {
      g_warning ("stage '%s': the run stopped early; the index in %s is left as it was", self->stage_id,
                 self->state_dir);
      return TRUE;
    }
  if (self->index == NULL)
    {
      if (g_mkdir_with_parents (self->state_dir, 0777) != 0)
        {
          int e = errno;
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "state-dir: cannot create %s: %s",
                       self->state_dir, g_strerror (e));
          return FALSE;
        }
      if (self->lock_fd < 0 && (self->lock_fd = dedup_lock_state_dir (self->state_dir, self->lock_timeout, error)) < 0)
        return FALSE;
      self->index = dedup_index_open (self->state_dir, TRUE, TRUE, &self->params, error);
      if (self->index == NULL)
        return FALSE;
    }
  gint64 t0 = g_get_monotonic_time ();
  if (!write_index (self, error))
    {
      dedup_index_rollback (self->index);
      g_prefix_error (error, "state-dir %s: index not updated: ", self->state_dir);
      return FALSE;
    }
  g_debug ("stage '%s': wrote %" G_GINT64_FORMAT " documents to the index in %.2f s (commit follows)",
           self->stage_id, self->n_in_run, (g_get_monotonic_time () - t0) / 1e6);
  galley_stage_count (ctx, "indexed", self->n_in_run);
  self->commit_pending = TRUE;    /* COMMIT in free(), after the sinks' finish() */
  return TRUE;
}

/* ---- galley dedup COMMAND ----------------------------------------------------------------- */

static const char command_help[] =
  "Usage:\n"
  "  galley dedup stats [--json] STATE_DIR\n"
  "  galley dedup forget --older-than DURATION STATE_DIR\n"
  "  galley dedup compact STATE_DIR\n"
  "  galley dedup bands|bucket|cluster|filter FILE ... (sharded runs: galley dedup bands --help)\n"
  "  galley dedup index merge FILE --work DIR --state-dir STATE (galley dedup index --help)\n"
  "\n"
  "Maintain the index a dedup stage keeps in its state-dir.\n"
  "\n"
  "Commands:\n"
  "  stats      documents, clusters, band keys, runs, time span and size on disk\n"
  "  forget     remove documents indexed more than DURATION ago (30d, 12h, 1w):\n"
  "             later runs no longer treat their copies as duplicates\n"
  "  compact    merge the segment files into one, leaving out forgotten documents,\n"
  "             and rebuild the database file to give freed space back (VACUUM)\n"
  "\n"
  "Options:\n"
  "  --json             stats: print one JSON object\n"
  "  --older-than DUR   forget: the age limit\n"
  "  --wait DUR         forget, compact: wait this long for a running pipeline's lock (default 0)\n"
  "  -h, --help         show this help\n"
  "\n"
  "Exit status: 0 done, 64 usage, 66 no index in STATE_DIR, 65 damaged index,\n"
  "74 I/O error, 75 a pipeline holds the lock (try again later), 78 newer index format.\n";

static int
exit_code_for (const GError *error)
{
  if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_BUSY)
    return 75;
  if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_NOT_FOUND)
    return 66;
  if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_INVALID_DATA)
    return 65;
  if (error->domain == GALLEY_CONFIG_ERROR)
    return 78;
  if (error->domain == GALLEY_OUTPUT_ERROR && error->code == GALLEY_OUTPUT_ERROR_CREATE)
    return 73;
  return 74;
}

static int
command_fail (const char *prog, GError *error)
{
  fprintf (stderr, "%s: %s\n", prog, error->message);
  int code = exit_code_for (error);
  g_error_free (error);
  return code;
}

static int
usage_error (const char *prog, const char *msg)
{
  fprintf (stderr, "%s: %s\nRun '%s --help' for usage.\n", prog, msg, prog);
  return 64;
}

/* ---- galley dedup bands|bucket|cluster: steps of a sharded run ------------------------------- */

/* A document that shares a key with another, in the cluster step. They
 * are kept in an array sorted by gseq, and a document's position in it (its
 * rank) is also its entry in the replay. */
typedef struct {
  guint64  gseq;        /* shard << 32 | position in the shard */
  guint32  exact_first; /* rank of the first document with the same exact hash, or NONE */
  guint32  sig;         /* slot in the signature store, or NONE */
  guint32  kind;        /* its decision (DecisionKind) */
  guint8   have;        /* its signature record was read */
  guint8   near;
} Involved;

/* One record of dedup/clusters, for `galley dedup index merge`: a document
 * that shares a key with another, its cluster's final representative and
 * its decision; exact: it is an exact copy (no bands of its own). */
typedef struct {
  guint64 gseq, rep;
  guint32 kind, exact;
} ClusterRec;

/* One shard's band file in the bucket step's merge. */
typedef struct {
  const guint8 *data;
  gsize         n, next;   /* records, the next one */
  guint         shard;
  GMappedFile  *m;
} BandRun;

static inline guint64
band_run_key (const BandRun *r)
{
  guint64 key;
  memcpy (&key, r->data + r->next * sizeof (DedupRecord), 8);
  return key;
}

/* Whether run @a's next record comes before run @b's: by key, then shard. */
static inline gboolean
band_run_before (const BandRun *a, const BandRun *b)
{
  guint64 ka = band_run_key (a), kb = band_run_key (b);
  return ka < kb || (ka == kb && a->shard < b->shard);
}

static void
band_heap_down (BandRun **heap, guint n, guint i)
{
  for (;;)
    {
      guint l = 2 * i + 1, best = i;
      if (l < n && band_run_before (heap[l], heap[best]))
        best = l;
      if (l + 1 < n && band_run_before (heap[l + 1], heap[best]))
        best = l + 1;
      if (best == i)
        return;
      BandRun *t = heap[i];
      heap[i] = heap[best];
      heap[best] = t;
      i = best;
    }
}

/* Band @band of every shard: groups of two or more documents that share a
 * key, written as count, then the documents in gseq order. Each shard's
 * band file is sorted by (key, document); they are merged as they are
 * read (a heap of the shards, the earlier shard first on equal keys). */
static gboolean
shard_bucket (GalleyShardStep *step, Dedup *self, guint band, GError **error)
{
  const char *work = galley_shard_step_get_work_dir (step);
  guint n = galley_shard_step_get_shards (step);
  g_autofree BandRun *runs = g_new0 (BandRun, MAX (n, 1));
  g_autofree BandRun **heap = g_new (BandRun *, MAX (n, 1));
  guint nh = 0;
  gboolean ok = TRUE;
  guint64 total = 0;
  for (guint i = 0; i < n && ok; i++)
    {
      g_autofree char *path = band_path (work, band, i);
      gsize len;
      runs[i].shard = i;
      runs[i].m = shard_file_open (path, KIND_BAND, &runs[i].data, &len, error);
      if (runs[i].m == NULL)
        {
          ok = FALSE;
          break;
        }
      runs[i].n = len / sizeof (DedupRecord);
      total += runs[i].n;
      /* the merge needs each file sorted */
      for (gsize j = 1; j < runs[i].n; j++)
        {
          DedupRecord x, y;
          memcpy (&x, runs[i].data + (j - 1) * sizeof (DedupRecord), sizeof x);
          memcpy (&y, runs[i].data + j * sizeof (DedupRecord), sizeof y);
          if (y.key < x.key || (y.key == x.key && y.doc <= x.doc))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s is not sorted: run the map step of shard %u again", path, i);
              ok = FALSE;
              break;
            }
        }
      if (runs[i].n > 0)
        heap[nh++] = &runs[i];
    }
  ShardWriter *w = NULL;
  g_autofree char *out = work_file (work, "groups", band);
  if (ok)
    ok = (w = shard_writer_new (out, KIND_GROUPS, error)) != NULL;
  for (guint i = nh; ok && i-- > 0;)
    band_heap_down (heap, nh, i);
  g_autoptr(GArray) group = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 groups = 0, key = 0;
  while (ok && (nh > 0 || group->len > 0))
    {
      gboolean more = nh > 0;
      guint64 k = more ? band_run_key (heap[0]) : 0;
      if (group->len > 0 && (!more || k != key))
        {
          /* the group of @key is complete */
          if (group->len >= 2)
            {
              guint64 count = group->len;
              ok = shard_writer_add (w, &count, 8, error)
                   && shard_writer_add (w, group->data, (gsize) group->len * 8, error);
              groups++;
            }
          g_array_set_size (group, 0);
        }
      if (!more)
        break;
      BandRun *r = heap[0];
      DedupRecord rec;
      memcpy (&rec, r->data + r->next * sizeof (DedupRecord), sizeof rec);
      guint64 gseq = (guint64) r->shard << 32 | rec.doc;
      g_array_append_val (group, gseq);
      key = k;
      if (++r->next == r->n)
        heap[0] = heap[--nh];
      band_heap_down (heap, nh, 0);
    }
  for (guint i = 0; i < n; i++)
    g_clear_pointer (&runs[i].m, g_mapped_file_unref);
  if (!ok)
    {
      shard_writer_abort (w);
      return FALSE;
    }
  if (!shard_writer_commit (w, error))
    return FALSE;
  g_autofree char *rel = g_strdup_printf ("dedup/groups-%u", band);
  const char *outputs[] = { rel, NULL };
  g_info ("band %u: %" G_GUINT64_FORMAT " keys, %" G_GUINT64_FORMAT " groups", band, total, groups);
  return galley_shard_step_done (step, outputs, error);
}

/* gseq -> rank of the documents the cluster step holds: open addressing
 * on a mix of the whole key (shard and position). */
#define GSEQ_EMPTY G_MAXUINT64
typedef struct {
  guint64 *keys;
  guint32 *vals;
  gsize    size, used;
} GseqMap;

static void
gseq_map_clear (GseqMap *m)
{
  g_clear_pointer (&m->keys, g_free);
  g_clear_pointer (&m->vals, g_free);
  m->size = m->used = 0;
}

static gsize
gseq_map_slot (const GseqMap *m, guint64 gseq)
{
  gsize j = mix (gseq) & (m->size - 1);
  while (m->keys[j] != GSEQ_EMPTY && m->keys[j] != gseq)
    j = (j + 1) & (m->size - 1);
  return j;
}

static void
gseq_map_add (GseqMap *m, guint64 gseq)
{
  if ((m->used + 1) * 2 > m->size)
    {
      GseqMap old = *m;
      m->size = MAX (old.size * 2, 1024);
      m->keys = g_new (guint64, m->size);
      m->vals = g_new0 (guint32, m->size);
      memset (m->keys, 0xff, m->size * sizeof (guint64));
      for (gsize i = 0; i < old.size; i++)
        if (old.keys[i] != GSEQ_EMPTY)
          m->keys[gseq_map_slot (m, old.keys[i])] = old.keys[i];
      gseq_map_clear (&old);
    }
  gsize j = gseq_map_slot (m, gseq);
  if (m->keys[j] == GSEQ_EMPTY)
    {
      m->keys[j] = gseq;
      m->used++;
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GseqMap, gseq_map_clear)

static int
cmp_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* The one global step: replays the stage's decisions for the documents
 * that share a key with another, in document order. */
static gboolean
shard_cluster (GalleyShardStep *step, Dedup *self, GError **error)
{
  const char *work = galley_shard_step_get_work_dir (step);
  guint n = galley_shard_step_get_shards (step);
  guint nb = self->params.bands + 2;
  g_auto(GseqMap) map = { 0 };
  /* the band and lede groups: group g's members are
   * members[starts[g]..starts[g + 1]), in gseq order */
  g_autoptr(GArray) members = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (guint32));
  /* the exact groups: (document, first document of its group) */
  g_autoptr(GArray) exacts = g_array_new (FALSE, FALSE, sizeof (guint64));
  for (guint b = 0; b < nb; b++)
    {
      g_autofree char *path = work_file (work, "groups", b);
      const guint8 *data;
      gsize len;
      g_autoptr(GMappedFile) m = shard_file_open (path, KIND_GROUPS, &data, &len, error);
      if (m == NULL)
        return FALSE;
      for (gsize off = 0; off + 8 <= len;)
        {
          guint64 count;
          memcpy (&count, data + off, 8);
          off += 8;
          if (count < 2 || count > (len - off) / 8)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: bad group", path);
              return FALSE;
            }
          const guint8 *g = data + off;
          off += count * 8;
          guint64 first;
          memcpy (&first, g, 8);
          if (b == nb - 1)
            {
              gseq_map_add (&map, first);
              for (guint64 k = 1; k < count; k++)
                {
                  guint64 gs;
                  memcpy (&gs, g + k * 8, 8);
                  gseq_map_add (&map, gs);
                  g_array_append_val (exacts, gs);
                  g_array_append_val (exacts, first);
                }
              continue;
            }
          if (members->len + count >= G_MAXUINT32)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: more than 2^32 group members", path);
              return FALSE;
            }
          guint32 start = members->len;
          g_array_append_val (starts, start);
          for (guint64 k = 0; k < count; k++)
            {
              guint64 gs;
              memcpy (&gs, g + k * 8, 8);
              g_array_append_val (members, gs);
              gseq_map_add (&map, gs);
            }
        }
    }
  guint32 n_groups = starts->len;
  guint32 end = members->len;
  g_array_append_val (starts, end);

  /* the documents in gseq order: their ranks */
  guint32 n_inv = map.used;
  g_autofree Involved *inv = g_new0 (Involved, MAX (n_inv, 1));
  {
    g_autofree guint64 *sorted = g_new (guint64, MAX (n_inv, 1));
    guint32 k = 0;
    for (gsize j = 0; j < map.size; j++)
      if (map.keys[j] != GSEQ_EMPTY)
        sorted[k++] = map.keys[j];
    qsort (sorted, n_inv, sizeof (guint64), cmp_u64);
    for (guint32 r = 0; r < n_inv; r++)
      {
        inv[r] = (Involved) { .gseq = sorted[r], .exact_first = NONE, .sig = NONE };
        map.vals[gseq_map_slot (&map, sorted[r])] = r;
      }
  }
#define RANK(gs) (map.vals[gseq_map_slot (&map, (gs))])
  for (guint i = 0; i < exacts->len; i += 2)
    inv[RANK (g_array_index (exacts, guint64, i))].exact_first = RANK (g_array_index (exacts, guint64, i + 1));
  /* members as ranks, in place (a rank takes half a gseq's room), and
   * each document's groups (CSR: gof[gstart[r]..gstart[r + 1])) */
  guint32 *m32 = (guint32 *) members->data;
  for (guint32 k = 0; k < end; k++)
    m32[k] = RANK (g_array_index (members, guint64, k));
#undef RANK
  gseq_map_clear (&map);
  /* the half of the room the gseqs took back */
  g_autofree guint32 *mrank = g_realloc (g_array_free (g_steal_pointer (&members), FALSE),
                                         MAX (end, 1) * sizeof (guint32));
  g_autofree guint32 *gstart = g_new0 (guint32, (gsize) n_inv + 1);
  for (guint32 k = 0; k < end; k++)
    gstart[mrank[k] + 1]++;
  for (guint32 r = 0; r < n_inv; r++)
    gstart[r + 1] += gstart[r];
  g_autofree guint32 *gof = g_new (guint32, MAX (end, 1));
  {
    g_autofree guint32 *fill = g_memdup2 (gstart, ((gsize) n_inv + 1) * sizeof (guint32));
    for (guint32 g = 0; g < n_groups; g++)
      for (guint32 k = g_array_index (starts, guint32, g); k < g_array_index (starts, guint32, g + 1); k++)
        gof[fill[mrank[k]]++] = g;
  }

  /* the signatures of the documents involved, in gseq order (shard by
   * shard, each file in document order): they become the replay's entries */
  g_autofree guint16 *values = g_new (guint16, self->params.k);
  guint32 next = 0;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = work_file (work, "sigs", i);
      const guint8 *data;
      gsize len;
      g_autoptr(GMappedFile) m = shard_file_open (path, KIND_SIGS, &data, &len, error);
      if (m == NULL)
        return FALSE;
      /* the file is read once, front to back: its pages are let go behind
       * the reader (the checksum read them all), so that the step's memory
       * is the documents with a candidate, not a shard's signatures */
      guint8 *base = (guint8 *) g_mapped_file_get_contents (m);
      gsize page = sysconf (_SC_PAGESIZE), kept = 0;
      madvise (base, len + 32, MADV_DONTNEED);
      for (gsize off = 0; off < len;)
        {
          SigHead h;
          if (off - kept >= (8u << 20))
            {
              gsize upto = (gsize) (data + off - base) / page * page;
              madvise (base, upto, MADV_DONTNEED);
              kept = off;
            }
          if (len - off < sizeof h)
            goto bad;
          memcpy (&h, data + off, sizeof h);
          off += sizeof h;
          gsize vlen = h.near ? self->params.k * sizeof (guint16) : 0;
          if (len - off < (gsize) h.id_len + vlen)
            goto bad;
          guint64 gs = (guint64) i << 32 | h.seq;
          if (next < n_inv && inv[next].gseq < gs)
            goto missing;
          if (next < n_inv && inv[next].gseq == gs)
            {
              Involved *v = &inv[next];
              v->have = TRUE;
              v->near = h.near;
              g_autofree char *id = g_strndup ((const char *) data + off, h.id_len);
              guint32 idx = add_entry (self, id, 0, FALSE);
              g_assert (idx == next);
              Entry *e = entry (self, idx);
              e->length = h.length;
              e->n_shingles = h.n_shingles;
              if (h.near)
                {
                  memcpy (values, data + off + h.id_len, vlen);
                  v->sig = sig_store (self, values);
                }
              next++;
            }
          off += h.id_len + vlen;
          continue;
        bad:
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: bad record", path);
          return FALSE;
        }
      if (next < n_inv && inv[next].gseq >> 32 == i)
        goto missing;
    }
  if (next < n_inv)
    {
    missing:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "document %u of shard %u is in a band file but not in its signature file",
                   (guint) (inv[next].gseq & G_MAXUINT32), (guint) (inv[next].gseq >> 32));
      return FALSE;
    }

  /* replay in document order */
  g_autoptr(GPtrArray) outs = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = work_file (work, "decisions", i);
      ShardWriter *w = shard_writer_new (path, KIND_DECISIONS, error);
      if (w == NULL)
        {
          for (guint j = 0; j < outs->len; j++)
            shard_writer_abort (g_ptr_array_index (outs, j));
          return FALSE;
        }
      g_ptr_array_add (outs, w);
    }
  gboolean ok = TRUE;
  guint64 decided = 0;
  for (guint32 r = 0; r < n_inv && ok; r++)
    {
      Involved *v = &inv[r];
      guint32 match = v->exact_first;
      gboolean exact = match != NONE;
      g_array_set_size (self->cand, 0);
      self->stamp++;
      if (!exact && v->near)
        {
          for (guint32 gi = gstart[r]; gi < gstart[r + 1]; gi++)
            {
              guint32 g = gof[gi];
              /* members in document order: the earlier ones */
              for (guint32 k = g_array_index (starts, guint32, g); k < g_array_index (starts, guint32, g + 1); k++)
                {
                  guint32 other = mrank[k];
                  if (other >= r)
                    break;
                  add_candidate (self, other);
                }
            }
          g_array_sort_with_data (self->cand, cmp_order, self);
        }
      Entry *e = entry (self, r);
      e->exact_dup = exact;
      Decision d;
      if (v->sig != NONE)
        memcpy (values, sig_at (self, v->sig), self->params.k * sizeof (guint16));
      decide (self, r, match, values, e->n_shingles, &d);
      if (v->near && !exact)
        entry (self, r)->sig = v->sig;
      v->kind = d.kind;
      if (d.kind == DECISION_NONE)
        continue;
      DecisionHead h = { (guint32) (v->gseq & G_MAXUINT32), d.kind, d.similarity, d.containment,
                         d.rep_id ? strlen (d.rep_id) : 0, d.best_id ? strlen (d.best_id) : 0 };
      ShardWriter *w = g_ptr_array_index (outs, v->gseq >> 32);
      ok = shard_writer_add (w, &h, sizeof h, error) && shard_writer_add (w, d.rep_id, h.rep_len, error)
           && shard_writer_add (w, d.best_id, h.best_len, error);
      decided++;
    }
  g_autoptr(GPtrArray) rels = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      ShardWriter *w = g_ptr_array_index (outs, i);
      if (!ok)
        shard_writer_abort (w);
      else
        ok = shard_writer_commit (w, error);
      g_ptr_array_add (rels, g_strdup_printf ("dedup/decisions-%u", i));
    }
  if (!ok)
    return FALSE;
  /* the final clusters (entry r is the document of rank r) */
  g_autofree char *cpath = g_build_filename (work, "dedup", "clusters", NULL);
  ShardWriter *cw = shard_writer_new (cpath, KIND_CLUSTERS, error);
  if (cw == NULL)
    return FALSE;
  for (guint32 r = 0; r < n_inv && ok; r++)
    {
      const Involved *v = &inv[r];
      ClusterRec c = { v->gseq, inv[entry (self, find_root (self, r))->rep].gseq, v->kind, v->exact_first != NONE };
      ok = shard_writer_add (cw, &c, sizeof c, error);
    }
  if (!ok)
    {
      shard_writer_abort (cw);
      return FALSE;
    }
  if (!shard_writer_commit (cw, error))
    return FALSE;
  g_ptr_array_add (rels, g_strdup ("dedup/clusters"));
  g_ptr_array_add (rels, NULL);
  g_info ("cluster: %u documents share a key with another, %" G_GUINT64_FORMAT " decisions", n_inv, decided);
  return galley_shard_step_done (step, (const char *const *) rels->pdata, error);
}

/* ---- galley dedup index merge: a sharded run's documents into a state-dir ------------------ */

/* What identifies a backfill: the pipeline and the signature files of its
 * map steps (their checksums), so merging the same one twice adds nothing. */
static char *
backfill_key (const char *work, guint n, GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *wpath = g_build_filename (work, "work.json", NULL);
  g_autofree char *wdata = NULL;
  if (!g_file_get_contents (wpath, &wdata, NULL, error))
    return NULL;
  g_checksum_update (sum, (const guchar *) wdata, -1);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = work_file (work, "sigs", i);
      const guint8 *data;
      gsize len;
      g_autoptr(GMappedFile) m = shard_file_open (path, KIND_SIGS, &data, &len, error);
      if (m == NULL)
        return NULL;
      g_checksum_update (sum, data - 24, 24);                          /* header */
      g_checksum_update (sum, data + len, 8);                          /* XXH3 of the payload */
    }
  return g_strconcat ("backfill:", g_checksum_get_string (sum), NULL);
}

typedef struct {
  GArray *seqs;        /* guint32: the documents of the shard with a signature record, in order */
  gint64  base;        /* rowid of the first, minus one */
} ShardDocs;

/* The rowid the merge gives document @gseq, or 0 when it has none. */
static gint64
rowid_of (const ShardDocs *sd, guint n, guint64 gseq)
{
  guint shard = gseq >> 32;
  guint32 seq = gseq & G_MAXUINT32;
  if (shard >= n)
    return 0;
  const GArray *a = sd[shard].seqs;
  guint lo = 0, hi = a->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (a, guint32, mid) < seq)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < a->len && g_array_index (a, guint32, lo) == seq ? sd[shard].base + 1 + lo : 0;
}

static gboolean
bad_sigs (const char *path, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: bad record", path);
  return FALSE;
}

/* Adds every document of the sharded run to the index in @state_dir, as
 * the dedup stage of a plain run with that state-dir would at its end:
 * one segment file with the signatures and keys, and the documents with
 * their final clusters in one transaction. */
static gboolean
shard_index_merge (GalleyShardStep *step, Dedup *self, const char *state_dir, GError **error)
{
  const char *work = galley_shard_step_get_work_dir (step);
  guint n = galley_shard_step_get_shards (step);
  guint k = self->params.k, nb = self->params.bands + 2;
  g_autofree char *key = backfill_key (work, n, error);
  if (key == NULL)
    return FALSE;

  /* the clusters the cluster step decided */
  g_autofree char *cpath = g_build_filename (work, "dedup", "clusters", NULL);
  const guint8 *cdata;
  gsize clen;
  g_autoptr(GMappedFile) cm = shard_file_open (cpath, KIND_CLUSTERS, &cdata, &clen, error);
  if (cm == NULL)
    return FALSE;
  if (clen % sizeof (ClusterRec) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: bad length", cpath);
      return FALSE;
    }
  const ClusterRec *crecs = (const ClusterRec *) cdata;
  gsize n_crecs = clen / sizeof (ClusterRec);
  g_autoptr(GHashTable) clusters = g_hash_table_new (g_int64_hash, g_int64_equal);
  gint64 duplicates = 0;
  for (gsize i = 0; i < n_crecs; i++)
    {
      g_hash_table_insert (clusters, (gpointer) &crecs[i].gseq, (gpointer) &crecs[i]);
      duplicates += crecs[i].kind == DECISION_EXACT || crecs[i].kind == DECISION_NEAR;
    }

  /* the documents: rowids in shard order */
  if (g_mkdir_with_parents (state_dir, 0777) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "state-dir: cannot create %s: %s",
                   state_dir, g_strerror (e));
      return FALSE;
    }
  self->lock_fd = dedup_lock_state_dir (state_dir, self->lock_timeout, error);
  if (self->lock_fd < 0)
    return FALSE;
  self->index = dedup_index_open (state_dir, TRUE, TRUE, &self->params, error);
  if (self->index == NULL)
    return FALSE;
  DedupIndex *ix = self->index;
  g_autofree char *done = dedup_index_get_meta (ix, key, error);
  if (done != NULL)
    {
      g_print ("%s: this backfill was added on %s; nothing to do\n", state_dir, done);
      return TRUE;
    }
  if (error != NULL && *error != NULL)
    return FALSE;
  if (!dedup_index_begin (ix, error))
    return FALSE;
  gint64 base = dedup_index_max_rowid (ix, error);
  if (base < 0)
    return FALSE;
  g_autofree ShardDocs *sd = g_new0 (ShardDocs, n);
  g_autoptr(GPtrArray) maps = g_ptr_array_new_with_free_func ((GDestroyNotify) g_mapped_file_unref);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  gint64 next = base;
  guint64 n_sigs = 0;
  gboolean ok = TRUE;
  for (guint i = 0; i < n && ok; i++)
    {
      char *path = work_file (work, "sigs", i);
      g_ptr_array_add (paths, path);
      const guint8 *data;
      gsize len;
      GMappedFile *m = shard_file_open (path, KIND_SIGS, &data, &len, error);
      if (m == NULL)
        {
          ok = FALSE;
          break;
        }
      g_ptr_array_add (maps, m);
      sd[i].seqs = g_array_new (FALSE, FALSE, sizeof (guint32));
      sd[i].base = next;
      for (gsize off = 0; off < len;)
        {
          SigHead h;
          if (len - off < sizeof h)
            {
              ok = bad_sigs (path, error);
              break;
            }
          memcpy (&h, data + off, sizeof h);
          gsize vlen = h.near ? k * sizeof (guint16) : 0;
          if (len - off - sizeof h < (gsize) h.id_len + vlen
              || (sd[i].seqs->len > 0 && g_array_index (sd[i].seqs, guint32, sd[i].seqs->len - 1) >= h.seq))
            {
              ok = bad_sigs (path, error);
              break;
            }
          off += sizeof h + h.id_len + vlen;
          g_array_append_val (sd[i].seqs, h.seq);
          guint64 gs = (guint64) i << 32 | h.seq;
          const ClusterRec *c = g_hash_table_lookup (clusters, &gs);
          n_sigs += h.near && !(c != NULL && c->exact);
        }
      next += sd[i].seqs->len;
    }
  if (ok && next > G_MAXUINT32)
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE,
                   "the index would hold more than %u document numbers; merge fewer documents", G_MAXUINT32);
      ok = FALSE;
    }

  /* the keys of each keyspace, from every shard's band file, without
   * exact copies (as a plain run leaves them out) */
  g_autoptr(GArray) recs = g_array_new (FALSE, FALSE, sizeof (DedupRecord));
  guint64 n_recs = 0;
  for (guint pass = 0; pass < 2 && ok; pass++)
    {
      g_autoptr(DedupSegmentWriter) w = NULL;
      if (pass == 1)
        {
          w = dedup_segment_writer_new (dedup_index_dir (ix), k, n_sigs, n_recs, error);
          if (w == NULL)
            {
              ok = FALSE;
              break;
            }
          for (guint i = 0; i < n && ok; i++)
            {
              const guint8 *data = (const guint8 *) g_mapped_file_get_contents (g_ptr_array_index (maps, i)) + 24;
              gsize len = g_mapped_file_get_length (g_ptr_array_index (maps, i)) - 32;
              for (gsize off = 0, j = 0; off < len && ok; j++)
                {
                  SigHead h;
                  memcpy (&h, data + off, sizeof h);
                  gsize vlen = h.near ? k * sizeof (guint16) : 0;
                  guint64 gs = (guint64) i << 32 | h.seq;
                  const ClusterRec *c = g_hash_table_lookup (clusters, &gs);
                  if (h.near && !(c != NULL && c->exact))
                    {
                      g_autofree guint16 *sig = g_memdup2 (data + off + sizeof h + h.id_len, vlen);
                      ok = dedup_segment_writer_add_doc (w, (guint32) (sd[i].base + 1 + j), sig, h.n_shingles, error);
                    }
                  off += sizeof h + h.id_len + vlen;
                }
            }
        }
      for (guint b = 0; b < nb && ok; b++)
        {
          g_array_set_size (recs, 0);
          for (guint i = 0; i < n && ok; i++)
            {
              g_autofree char *path = band_path (work, b, i);
              const guint8 *data;
              gsize len;
              g_autoptr(GMappedFile) m = shard_file_open (path, KIND_BAND, &data, &len, error);
              if (m == NULL)
                {
                  ok = FALSE;
                  break;
                }
              for (gsize off = 0; off + sizeof (DedupRecord) <= len; off += sizeof (DedupRecord))
                {
                  DedupRecord r;
                  memcpy (&r, data + off, sizeof r);
                  guint64 gs = (guint64) i << 32 | r.doc;
                  const ClusterRec *c = g_hash_table_lookup (clusters, &gs);
                  if (c != NULL && c->exact)
                    continue;
                  gint64 rowid = rowid_of (sd, n, gs);
                  if (rowid == 0)
                    {
                      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   "%s: document %u is not in the signature file of shard %u", path, r.doc, i);
                      ok = FALSE;
                      break;
                    }
                  DedupRecord out = { b == nb - 1 ? dedup_exact_key (&self->params, r.key) : r.key, (guint32) rowid, 0 };
                  g_array_append_val (recs, out);
                }
            }
          if (!ok)
            break;
          if (pass == 0)
            {
              n_recs += recs->len;
              continue;
            }
          dedup_sort_records ((DedupRecord *) recs->data, recs->len);
          for (guint j = 0; j < recs->len && ok; j++)
            {
              const DedupRecord *r = &g_array_index (recs, DedupRecord, j);
              ok = dedup_segment_writer_add_record (w, r->key, r->doc, error);
            }
        }
      if (pass == 1 && ok)
        {
          g_autofree char *name = g_strdup_printf ("seg-%010" G_GINT64_FORMAT "-%08x.dd", next, g_random_int ());
          ok = dedup_segment_writer_commit (w, name, error)
               && dedup_index_add_segment (ix, name, base + 1, next, n_sigs, n_recs, error);
        }
    }

  /* the documents, with their clusters */
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  for (guint i = 0; i < n && ok; i++)
    {
      const guint8 *data = (const guint8 *) g_mapped_file_get_contents (g_ptr_array_index (maps, i)) + 24;
      gsize len = g_mapped_file_get_length (g_ptr_array_index (maps, i)) - 32;
      for (gsize off = 0, j = 0; off < len && ok; j++)
        {
          SigHead h;
          memcpy (&h, data + off, sizeof h);
          gsize vlen = h.near ? k * sizeof (guint16) : 0;
          g_autofree char *id = g_strndup ((const char *) data + off + sizeof h, h.id_len);
          guint64 gs = (guint64) i << 32 | h.seq;
          const ClusterRec *c = g_hash_table_lookup (clusters, &gs);
          gint64 rowid = sd[i].base + 1 + j;
          gint64 cluster = c != NULL ? rowid_of (sd, n, c->rep) : rowid;
          DedupStored d = { .rowid = rowid, .doc_id = id, .cluster = cluster ? cluster : rowid, .seen = now,
                            .length = h.length, .n_shingles = h.n_shingles };
          ok = dedup_index_add_doc (ix, &d, h.exact, error);
          off += sizeof h + h.id_len + vlen;
        }
    }
  g_autoptr(GDateTime) t = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format_iso8601 (t);
  ok = ok && dedup_index_add_run (ix, now, next - base, duplicates, error) && dedup_index_set_meta (ix, key, when, error)
       && dedup_index_commit (ix, error);
  for (guint i = 0; i < n; i++)
    if (sd[i].seqs != NULL)
      g_array_unref (sd[i].seqs);
  if (!ok)
    {
      dedup_index_rollback (ix);
      g_prefix_error (error, "state-dir %s: index not updated: ", state_dir);
      return FALSE;
    }
  g_print ("added %" G_GINT64_FORMAT " documents (%" G_GINT64_FORMAT " duplicates) to the index in %s\n", next - base,
           duplicates, state_dir);
  return TRUE;
}

static const char index_help[] =
  "Usage:\n"
  "  galley dedup index merge FILE --work DIR --state-dir STATE\n"
  "\n"
  "Adds the documents of a finished sharded run (after 'galley dedup cluster') to\n"
  "the persistent index in STATE, as a plain run of FILE with state-dir=STATE would:\n"
  "later runs with that state-dir find duplicates of them. Merging the same run\n"
  "twice adds nothing. The signature options of FILE's dedup stage must match the\n"
  "index's.\n";

static int
index_command (const char *prog, int argc, char **argv)
{
  const char *file = NULL, *work = NULL, *state = NULL;
  gboolean merge = FALSE;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if ((g_str_equal (a, "--plugin-dir") || g_str_equal (a, "-P")) && i + 1 < argc)
        i++;
      else if ((g_str_equal (a, "--work") || g_str_equal (a, "--state-dir")) && i + 1 < argc)
        *(g_str_equal (a, "--work") ? &work : &state) = argv[++i];
      else if (g_str_has_prefix (a, "--work="))
        work = a + strlen ("--work=");
      else if (g_str_has_prefix (a, "--state-dir="))
        state = a + strlen ("--state-dir=");
      else if (g_str_equal (a, "-h") || g_str_equal (a, "--help"))
        {
          fputs (index_help, stdout);
          return 0;
        }
      else if (a[0] == '-')
        return usage_error (prog, "unknown option");
      else if (g_str_equal (a, "index"))
        continue;
      else if (!merge && g_str_equal (a, "merge"))
        merge = TRUE;
      else if (merge && file == NULL)
        file = a;
      else
        return usage_error (prog, merge ? "too many arguments" : "unknown index command (merge)");
    }
  if (!merge)
    return usage_error (prog, "missing the index command (merge)");
  if (file == NULL)
    return usage_error (prog, "missing the pipeline FILE");
  if (work == NULL || state == NULL || *state == '\0')
    return usage_error (prog, "index merge needs --work DIR and --state-dir STATE");
  GError *error = NULL;
  g_autoptr(GalleyShardStep) step = galley_shard_step_begin (file, work, "index-merge", "dedup", &error);
  if (step == NULL)
    return command_fail (prog, error);
  g_autoptr(Dedup) self = g_new0 (Dedup, 1);
  self->lock_fd = -1;
  if (!read_options (self, galley_shard_step_get_options (step), &error))
    return command_fail (prog, error);
  gboolean ok = TRUE;
  for (guint i = 0; i < galley_shard_step_get_shards (step) && ok; i++)
    {
      g_autofree char *need = g_strdup_printf ("map-%u", i);
      ok = galley_shard_step_need (step, need, &error);
    }
  for (guint b = 0; b < self->params.bands + 2 && ok; b++)
    {
      g_autofree char *need = g_strdup_printf ("bucket-%u", b);
      ok = galley_shard_step_need (step, need, &error);
    }
  ok = ok && galley_shard_step_need (step, "cluster", &error) && shard_index_merge (step, self, state, &error)
       && galley_shard_step_done (step, NULL, &error);
  if (!ok)
    return command_fail (prog, error);
  return 0;
}

static const char shard_help[] =
  "Usage:\n"
  "  galley dedup bands FILE\n"
  "  galley dedup bucket FILE --band B --work DIR\n"
  "  galley dedup cluster FILE --work DIR\n"
  "  galley dedup filter FILE --shard I/N --work DIR\n"
  "\n"
  "Steps of a sharded run (docs/scale-out.md): bands prints how many bucket steps\n"
  "there are (B from 0 to that number - 1); bucket finds the documents of all\n"
  "shards that share key B; cluster decides, for the whole corpus, what the dedup\n"
  "stage of a single run would; filter applies it to shard I and runs the rest.\n";

static int
shard_command (const char *prog, const char *sub, int argc, char **argv)
{
  const char *file = NULL, *work = NULL, *band_text = NULL;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if ((g_str_equal (a, "--plugin-dir") || g_str_equal (a, "-P")) && i + 1 < argc)
        i++;
      else if ((g_str_equal (a, "--work") || g_str_equal (a, "--band")) && i + 1 < argc)
        *(g_str_equal (a, "--work") ? &work : &band_text) = argv[++i];
      else if (g_str_has_prefix (a, "--work="))
        work = a + strlen ("--work=");
      else if (g_str_has_prefix (a, "--band="))
        band_text = a + strlen ("--band=");
      else if (g_str_equal (a, "-h") || g_str_equal (a, "--help"))
        {
          fputs (shard_help, stdout);
          return 0;
        }
      else if (a[0] == '-')
        return usage_error (prog, "unknown option");
      else if (g_str_equal (a, sub))
        continue;
      else if (file == NULL)
        file = a;
      else
        return usage_error (prog, "too many arguments");
    }
  gboolean bands = g_str_equal (sub, "bands"), bucket = g_str_equal (sub, "bucket");
  if (file == NULL)
    return usage_error (prog, "missing the pipeline FILE");
  if (!bands && work == NULL)
    return usage_error (prog, "missing --work DIR");
  if (bucket && band_text == NULL)
    return usage_error (prog, "missing --band B");
  guint64 band = 0;
  if (band_text != NULL && !g_ascii_string_to_unsigned (band_text, 10, 0, MAX_BANDS + 1, &band, NULL))
    return usage_error (prog, "--band takes a number from 0 to the count 'galley dedup bands FILE' prints, minus 1");
  g_autofree char *step_name = bucket ? g_strdup_printf ("bucket-%u", (guint) band) : g_strdup (sub);
  GError *error = NULL;
  g_autoptr(GalleyShardStep) step = galley_shard_step_begin (file, bands ? NULL : work, step_name, "dedup", &error);
  if (step == NULL)
    return command_fail (prog, error);
  g_autoptr(Dedup) self = g_new0 (Dedup, 1);
  self->lock_fd = -1;
  if (!read_options (self, galley_shard_step_get_options (step), &error))
    return command_fail (prog, error);
  guint nb = self->params.bands + 2;
  if (bands)
    {
      printf ("%u\n", nb);
      return 0;
    }
  if (bucket && band >= nb)
    return usage_error (prog, "--band is past the last band (see 'galley dedup bands FILE')");
  gboolean ok = TRUE;
  if (bucket)
    {
      for (guint i = 0; i < galley_shard_step_get_shards (step) && ok; i++)
        {
          g_autofree char *need = g_strdup_printf ("map-%u", i);
          ok = galley_shard_step_need (step, need, &error);
        }
      ok = ok && shard_bucket (step, self, band, &error);
    }
  else
    {
      for (guint i = 0; i < galley_shard_step_get_shards (step) && ok; i++)
        {
          g_autofree char *need = g_strdup_printf ("map-%u", i);
          ok = galley_shard_step_need (step, need, &error);
        }
      for (guint b = 0; b < nb && ok; b++)
        {
          g_autofree char *need = g_strdup_printf ("bucket-%u", b);
          ok = galley_shard_step_need (step, need, &error);
        }
      if (ok)
        {
          self->entries = g_array_sized_new (FALSE, FALSE, sizeof (Entry), 4096);
          self->ids = g_string_chunk_new (64 * 1024);
          self->sig_blocks = g_ptr_array_new_with_free_func (g_free);
          self->cand = g_array_new (FALSE, FALSE, sizeof (guint32));
          ok = shard_cluster (step, self, &error);
        }
    }
  if (!ok)
    return command_fail (prog, error);
  return 0;
}

static int
dedup_command (int argc, char **argv)
{
  const char *prog = argc > 0 ? argv[0] : "galley dedup";
  for (int i = 1; i < argc; i++)
    {
      if ((g_str_equal (argv[i], "--plugin-dir") || g_str_equal (argv[i], "-P")) && i + 1 < argc)
        {
          i++;
          continue;
        }
      if (argv[i][0] == '-')
        continue;
      if (g_str_equal (argv[i], "bands") || g_str_equal (argv[i], "bucket") || g_str_equal (argv[i], "cluster"))
        return shard_command (prog, argv[i], argc, argv);
      if (g_str_equal (argv[i], "index"))
        return index_command (prog, argc, argv);
      break;
    }
  const char *sub = NULL, *dir = NULL, *older = NULL, *wait = "0";
  gboolean json = FALSE;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (g_str_equal (a, "-h") || g_str_equal (a, "--help") || g_str_equal (a, "help"))
        {
          fputs (command_help, stdout);
          return 0;
        }
      if ((g_str_equal (a, "--plugin-dir") || g_str_equal (a, "-P")) && i + 1 < argc)
        i++;                                  /* the core's option */
      else if (g_str_equal (a, "--json"))
        json = TRUE;
      else if (g_str_equal (a, "--older-than") || g_str_equal (a, "--wait"))
        {
          if (i + 1 >= argc)
            return usage_error (prog, "missing value after option");
          *(g_str_equal (a, "--wait") ? &wait : &older) = argv[++i];
        }
      else if (g_str_has_prefix (a, "--older-than="))
        older = a + strlen ("--older-than=");
      else if (g_str_has_prefix (a, "--wait="))
        wait = a + strlen ("--wait=");
      else if (a[0] == '-')
        return usage_error (prog, "unknown option");
      else if (sub == NULL)
        sub = a;
      else if (dir == NULL)
        dir = a;
      else
        return usage_error (prog, "too many arguments");
    }
  if (sub == NULL)
    {
      fputs (command_help, stderr);
      return 64;
    }
  gboolean is_stats = g_str_equal (sub, "stats"), is_forget = g_str_equal (sub, "forget");
  gboolean is_compact = g_str_equal (sub, "compact");
  if (!is_stats && !is_forget && !is_compact)
    return usage_error (prog, "unknown command (stats, forget or compact)");
  if (dir == NULL)
    return usage_error (prog, "missing STATE_DIR");
  GError *error = NULL;
  GTimeSpan older_than = 0, wait_us = 0;
  if (is_forget && older == NULL)
    return usage_error (prog, "forget needs --older-than DURATION (e.g. 30d)");
  if (older != NULL && !galley_parse_duration (older, &older_than, &error))
    {
      g_prefix_error (&error, "--older-than: ");
      fprintf (stderr, "%s: %s\n", prog, error->message);
      g_error_free (error);
      return 64;
    }
  if (!galley_parse_duration (wait, &wait_us, &error))
    {
      fprintf (stderr, "%s: --wait: %s\n", prog, error->message);
      g_error_free (error);
      return 64;
    }
  g_autofree char *path = g_build_filename (dir, DEDUP_INDEX_FILE, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "%s: %s: no dedup index in this directory\n", prog, dir);
      return 66;
    }
  int lock_fd = -1;
  if (!is_stats && (lock_fd = dedup_lock_state_dir (dir, wait_us, &error)) < 0)
    return command_fail (prog, error);
  g_autoptr(DedupIndex) ix = dedup_index_open (dir, !is_stats, FALSE, NULL, &error);
  int code = 0;
  if (ix == NULL)
    code = command_fail (prog, error);
  else if (is_stats)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      if (dedup_index_stats (ix, out, json, &error))
        fputs (out->str, stdout);
      else
        code = command_fail (prog, error);
    }
  else if (is_forget)
    {
      gint64 docs = 0;
      gint64 before = g_get_real_time () / G_USEC_PER_SEC - older_than / G_USEC_PER_SEC;
      if (dedup_index_forget (ix, before, &docs, &error))
        printf ("forgot %" G_GINT64_FORMAT " documents seen before %s ago; run 'galley dedup compact %s' "
                "to give the space back\n", docs, older, dir);
      else
        code = command_fail (prog, error);
    }
  else
    {
      if (dedup_index_compact (ix, &error))
        printf ("compacted %s\n", path);
      else
        code = command_fail (prog, error);
    }
  g_clear_pointer (&ix, dedup_index_close);
  if (lock_fd >= 0)
    close (lock_fd);
  return code;
}

static const GalleyStageInfo dedup_info = {
  .abi_major   = GALLEY_STAGE_ABI_MAJOR,
  .abi_minor   = GALLEY_STAGE_ABI_MINOR,
  .name        = "dedup",
  .description = "Drop or mark exact and near-duplicate articles (MinHash LSH, persistent index) and repeated paragraphs",
  .version     = "1.0.0",
  .kind        = GALLEY_KIND_STAGE,
  .flags       = GALLEY_STAGE_FLAGS_NONE,
  .options     = dedup_options,
  .init        = dedup_init,
  .process     = dedup_process,
  .prepare     = dedup_prepare,
  .finish      = dedup_finish,
  .free        = dedup_free,
};
GALLEY_STAGE_DEFINE (dedup_info)
GALLEY_COMMAND_DEFINE (dedup_command)
