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
 * This file is the stage: its options, init/prepare/process/finish/free
 * and the descriptor. This run's documents and their LSH tables are in
 * dedup-lsh.c, the work files of a sharded run in dedup-shardfile.c, the
 * global steps of a sharded run in dedup-steps.c and the `galley dedup`
 * command in dedup-commands.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dedup-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

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

void
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
  g_clear_pointer (&self->fp_store, g_array_unref);
  g_clear_pointer (&self->fp_spans, g_array_unref);
  for (guint b = 0; b <= MAX_BANDS; b++)
    g_free (self->tables[b].slots);
  g_free (self->exact);
  g_free (self->state_dir);
  g_free (self->stage_id);
  if (self->sig_out != NULL)
    dedup_shard_writer_abort (self->sig_out);
  for (guint b = 0; b < MAX_BANDS + 2; b++)
    g_clear_pointer (&self->brecs[b], g_array_unref);
  g_clear_pointer (&self->decisions, g_mapped_file_unref);
  g_free (self->work_dir);
  g_free (self);
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
  guint32 idx = dedup_add_entry (self, d.doc_id, rowid, TRUE);
  Entry *e = dedup_entry (self, idx);
  e->length = d.length;
  e->n_shingles = d.n_shingles;
  if (d.sig != NULL)
    dedup_entry (self, idx)->sig = dedup_sig_store (self, d.sig);
  g_hash_table_insert (self->external, GSIZE_TO_POINTER (rowid), GUINT_TO_POINTER (idx + 1));
  if (with_rep && d.cluster != rowid)
    {
      guint32 rep = external_entry (self, d.cluster, FALSE, error);
      if (rep == NONE && error != NULL && *error != NULL)
        return NONE;
      if (rep != NONE)
        {
          guint32 root = dedup_find_root (self, rep);
          dedup_join (self, root, idx);
          dedup_entry (self, dedup_find_root (self, idx))->rep = dedup_entry (self, root)->rep;
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

gboolean
dedup_read_options (Dedup *self, const GalleyOptions *opts, GError **error)
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
  if (!dedup_read_options (self, opts, error))
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
  self->passages = galley_stage_is_tracing (ctx, NULL);
  if (self->passages)
    {
      self->fp_store = g_array_new (FALSE, FALSE, sizeof (guint32));
      self->fp_spans = g_array_new (FALSE, TRUE, sizeof (PassageSpan));
    }
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

static gboolean
gather_candidates (Dedup *self, const DedupSignature *sig, const guint64 *keys, guint n_keys, GError **error)
{
  dedup_bands_lookup (self, keys, n_keys);
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
            dedup_add_candidate (self, idx);
        }
    }
  /* verified in document order: the most similar, then the earliest, is the match */
  g_array_sort_with_data (self->cand, dedup_cmp_order, self);
  return TRUE;
}

/* What prepare() computes for one document: a pure function of its text
 * and the options, so it runs on any thread. */
typedef struct {
  DedupSignature sig;         /* sig.sig points at values */
  guint          n_keys;      /* band keys, then the lede key; 0: not compared by similarity */
  guint          removed;     /* repeated paragraphs taken out of the text */
  guint64        keys[MAX_BANDS + 1];
  guint32       *fps;         /* while traced: sentence fingerprints, after the values */
  guint          n_fps;
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
  p->fps = NULL;
  p->n_fps = 0;
  if (self->passages)
    {
      /* after the values, in the same block: g_free() frees both */
      g_autoptr(GArray) fps = g_array_sized_new (FALSE, FALSE, sizeof (guint32), 64);
      text = galley_document_get_text (doc, &len);   /* repeated paragraphs may be gone */
      dedup_passage_fingerprints (text, len, fps);
      gsize at = (sizeof (Prepared) + self->params.k * sizeof (guint16) + 3) & ~(gsize) 3;
      p = g_realloc (p, at + fps->len * sizeof (guint32));
      p->sig.sig = p->values;
      p->fps = (guint32 *) ((char *) p + at);
      p->n_fps = fps->len;
      memcpy (p->fps, fps->data, fps->len * sizeof (guint32));
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

static guint32
new_entry (Dedup *self, const char *id, const DedupSignature *sig, gboolean exact)
{
  guint32 idx = dedup_add_entry (self, id, 0, FALSE);
  Entry *e = dedup_entry (self, idx);
  e->length = sig->n_tokens;
  e->n_shingles = sig->n_shingles;
  e->exact = sig->exact_lo;
  e->exact_dup = exact;
  e->lede_key = sig->lede_key;
  return idx;
}

/* ---- the shared passage, for the run report ---------------------------------------------- */

/* The most of a passage a note carries. */
#define MAX_PASSAGE 2000

static void
keep_fingerprints (Dedup *self, guint32 idx, const guint32 *fps, guint n_fps)
{
  PassageSpan span = { self->fp_store->len, n_fps };
  g_array_append_vals (self->fp_store, fps, n_fps);
  if (self->fp_spans->len <= idx)
    g_array_set_size (self->fp_spans, idx + 1);
  g_array_index (self->fp_spans, PassageSpan, idx) = span;
}

/* Adds to a pair note what @doc shares with the document it matched,
 * sentence by sentence: "sentences", "shared" and "passage" (the longest
 * run of shared sentences), or "passage_unknown" when the other document
 * is from an earlier run (the index keeps no texts). */
static void
note_passage (Dedup *self, GalleyDocument *doc, const Decision *d, json_object *note)
{
  gsize len;
  const char *text = galley_document_get_text (doc, &len);
  const guint32 *other = NULL;
  guint n_other = 0;
  g_autoptr(GArray) own = NULL;
  gboolean known = d->other != NONE && !dedup_entry (self, d->other)->external;
  if (known && d->other < self->fp_spans->len)
    {
      PassageSpan span = g_array_index (self->fp_spans, PassageSpan, d->other);
      other = &g_array_index (self->fp_store, guint32, span.off);
      n_other = span.n;
    }
  if (!known)
    {
      if (d->kind != DECISION_EXACT)
        {
          json_object_object_add (note, "passage_unknown",
                                  json_object_new_string ("the matched document is from an earlier run"));
          return;
        }
      /* the same text, whatever run it came from */
      own = g_array_new (FALSE, FALSE, sizeof (guint32));
      dedup_passage_fingerprints (text, len, own);
      other = (const guint32 *) own->data;
      n_other = own->len;
    }
  DedupPassage p;
  dedup_passage_find (text, len, other, n_other, &p);
  json_object_object_add (note, "sentences", json_object_new_int ((int) p.sentences));
  json_object_object_add (note, "shared", json_object_new_int ((int) p.shared));
  if (p.end > p.start)
    {
      gsize n = p.end - p.start;
      gboolean cut = n > MAX_PASSAGE;
      if (cut)
        n = g_utf8_find_prev_char (text + p.start, text + p.start + MAX_PASSAGE + 1) - (text + p.start);
      g_autofree char *passage = g_strdup_printf ("%.*s%s", (int) n, text + p.start, cut ? " …" : "");
      json_object_object_add (note, "passage", json_object_new_string (passage));
    }
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
  if (galley_stage_is_tracing (ctx, doc))
    {
      json_object *note = json_object_new_object ();
      json_object_object_add (note, "other", json_object_new_string (d->best_id ? d->best_id : d->rep_id));
      json_object_object_add (note, "similarity", json_object_new_double (d->similarity));
      if (!exact && d->similarity < self->threshold)
        json_object_object_add (note, "containment", json_object_new_double (d->containment));
      if (self->passages)
        note_passage (self, doc, d, note);
      galley_stage_note (ctx, doc, "pair", note);
    }
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

/* ---- shard mode: the map and filter steps (docs/scale-out.md) ------------------------------ */

static gboolean
shard_setup (Dedup *self, GalleyStageContext *ctx, const char *step, GError **error)
{
  self->work_dir = g_strdup (galley_stage_context_get_work_dir (ctx));
  galley_stage_context_get_shard (ctx, &self->shard_index, NULL);
  if (g_str_equal (step, "filter"))
    {
      self->shard_mode = SHARD_FILTER;
      g_autofree char *path = dedup_shard_work_file (self->work_dir, "decisions", self->shard_index);
      gsize len;
      self->decisions = dedup_shard_file_open (path, DEDUP_SHARD_DECISIONS, &self->dnext, &len, error);
      if (self->decisions == NULL)
        return FALSE;
      self->dend = self->dnext + len;
      return TRUE;
    }
  self->shard_mode = SHARD_MAP;
  g_autofree char *path = dedup_shard_work_file (self->work_dir, "sigs", self->shard_index);
  self->sig_out = dedup_shard_writer_new (path, DEDUP_SHARD_SIGS, error);
  if (self->sig_out == NULL)
    return FALSE;
  for (guint b = 0; b < self->params.bands + 2; b++)
    self->brecs[b] = g_array_new (FALSE, FALSE, sizeof (DedupRecord));
  return TRUE;
}

static GalleyVerdict
shard_map_process (Dedup *self, GalleyDocument *doc, const Prepared *p, GError **error)
{
  guint32 seq = self->local_seq++;
  const DedupSignature *sig = &p->sig;
  if (sig->n_tokens == 0)
    return GALLEY_VERDICT_KEEP;
  const char *id = galley_document_get_id (doc);
  DedupSigHead h = { seq, sig->n_tokens, sig->n_shingles, p->n_keys > 0, sig->exact_lo, strlen (id), 0 };
  if (!dedup_shard_writer_add (self->sig_out, &h, sizeof h, error) || !dedup_shard_writer_add (self->sig_out, id, h.id_len, error)
      || (h.near && !dedup_shard_writer_add (self->sig_out, p->values, self->params.k * sizeof (guint16), error)))
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

static gboolean
shard_map_finish (Dedup *self, GalleyStageContext *ctx, GError **error)
{
  DedupShardWriter *w = g_steal_pointer (&self->sig_out);
  if (!dedup_shard_writer_commit (w, error))
    return FALSE;
  g_auto(DedupSortScratch) scratch = { 0 };
  g_autofree char *sigs = g_strdup_printf ("dedup/sigs-%u", self->shard_index);
  galley_stage_shard_add_output (ctx, sigs);
  for (guint b = 0; b < self->params.bands + 2; b++)
    {
      GArray *recs = self->brecs[b];
      /* appended in document order: sorted by (key, document) */
      G_STATIC_ASSERT (sizeof (DedupRecord) == sizeof (DedupKeyRec) && G_STRUCT_OFFSET (DedupRecord, key) == 0);
      dedup_shard_sort_by_key ((DedupKeyRec *) recs->data, recs->len, &scratch);
      g_autofree char *path = dedup_shard_band_path (self->work_dir, b, self->shard_index);
      DedupShardWriter *bw = dedup_shard_writer_new (path, DEDUP_SHARD_BAND, error);
      if (bw == NULL || !dedup_shard_writer_add (bw, recs->data, (gsize) recs->len * sizeof (DedupRecord), error)
          || !dedup_shard_writer_commit (bw, error))
        return FALSE;
      g_autofree char *band = g_strdup_printf ("dedup/band-%u/shard-%u", b, self->shard_index);
      galley_stage_shard_add_output (ctx, band);
      g_clear_pointer (&self->brecs[b], g_array_unref);
    }
  return TRUE;
}

static GalleyVerdict
shard_filter_process (Dedup *self, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  guint32 seq = self->local_seq++;
  Decision d = { DECISION_NONE, 0, 0, NULL, NULL, NONE };
  g_autofree char *rep = NULL, *best = NULL;
  DedupDecisionHead h;
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
  guint32 match = dedup_exact_find (self, sig->exact_lo);
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
  dedup_decide (self, idx, match, sig->sig, sig->n_shingles, &d);
  galley_stage_count (ctx, "candidates", self->cand->len + self->n_rejected);
  self->n_rejected = 0;
  if (self->passages)
    keep_fingerprints (self, idx, p->fps, p->n_fps);
  e = dedup_entry (self, idx);
  if (near_ok)
    {
      e->sig = dedup_sig_store (self, sig->sig);
      dedup_bands_add (self, p->keys, p->n_keys, idx);
    }
  if (!exact)
    dedup_exact_add (self, sig->exact_lo, idx);
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
      Entry *e = dedup_entry (self, i);
      if (e->external)
        continue;
      DedupRecord r = { 0, (guint32) e->rowid, 0 };
      if (b < self->params.bands)
        {
          if (e->sig == NONE)
            continue;
          r.key = dedup_band_key (&self->params, dedup_sig_at (self, e->sig), b);
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
      Entry *e = dedup_entry (self, i);
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
      Entry *e = dedup_entry (self, i);
      if (!e->external && e->sig != NONE
          && !dedup_segment_writer_add_doc (w, (guint32) e->rowid, dedup_sig_at (self, e->sig), e->n_shingles, error))
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
      Entry *e = dedup_entry (self, i);
      if (e->external)
        continue;
      guint32 rep = dedup_entry (self, dedup_find_root (self, i))->rep;
      DedupStored d = { .rowid = e->rowid, .doc_id = (char *) e->id, .cluster = dedup_entry (self, rep)->rowid,
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
    return galley_stage_is_cancelled (ctx) || shard_map_finish (self, ctx, error);
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

/* ---- shard mode: the steps between map and filter ---- */

static const GalleyShardBarrierStep dedup_shard_steps[] = {
  { .command = "bucket", .kind = GALLEY_SHARD_STEP_PER_PART, .part_option = "--band" },
  { .command = "cluster", .kind = GALLEY_SHARD_STEP_ONCE },
  { NULL }
};

/* One bucket step per band, plus the lede key and the exact hash. */
static gint64
dedup_shard_parts (const GalleyOptions *opts, GError **error)
{
  Dedup probe = { 0 };
  probe.threshold = galley_options_get_double (opts, "threshold");
  probe.para_threshold = galley_options_get_double (opts, "paragraph-threshold");
  if (!check_options (&probe, opts, error))
    return -1;
  return probe.params.bands + 2;
}

static gboolean
dedup_shard_check (const GalleyOptions *opts, GError **error)
{
  if (*galley_options_get_string (opts, "state-dir") != '\0')
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "state-dir is not read in shard mode; remove it and add the documents with "
                   "'galley dedup index merge FILE --work DIR --state-dir DIR'");
      return FALSE;
    }
  return TRUE;
}

static const GalleyShardInfo dedup_shard = {
  .check = dedup_shard_check,
  .steps = dedup_shard_steps,
  .count_parts = dedup_shard_parts,
};

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
  .shard       = &dedup_shard,
  .command     = dedup_command,
};
GALLEY_STAGE_DEFINE (dedup_info)
