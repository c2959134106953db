/* dedup-index.c: the dedup index: SQLite for documents, runs and
 * settings, segment files for signatures and band keys.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>
#include "dedup-index.h"
#include "dedup-segment.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct _DedupIndex {
  sqlite3      *db;
  char         *dir, *path;
  guint         k;
  gboolean      has_docs;
  gboolean      in_txn;
  GPtrArray    *segs;       /* DedupSegment, in order of their first document */
  sqlite3_stmt *sel_exact, *sel_doc, *ins_doc;
};

static const char schema[] =
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE docs (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, cluster INTEGER NOT NULL,"
  "  seen INTEGER NOT NULL, length INTEGER NOT NULL, shingles INTEGER NOT NULL, exact INTEGER NOT NULL);"
  "CREATE TABLE segments (name TEXT PRIMARY KEY, first INTEGER NOT NULL, last INTEGER NOT NULL,"
  "  docs INTEGER NOT NULL, records INTEGER NOT NULL);"
  "CREATE TABLE runs (id INTEGER PRIMARY KEY, started INTEGER NOT NULL, finished INTEGER NOT NULL,"
  "  docs INTEGER NOT NULL, duplicates INTEGER NOT NULL);";

#define SEGMENT_PREFIX "seg-"
#define SEGMENT_SUFFIX ".dd"

void
dedup_stored_clear (DedupStored *d)
{
  g_clear_pointer (&d->doc_id, g_free);
  g_clear_pointer (&d->sig, g_free);
}

char *
dedup_params_describe (const DedupSigParams *p)
{
  return g_strdup_printf ("shingle=%s:%u hashes=%u bands=%ux%u lede-words=%u stopwords=%s",
                          p->kind == DEDUP_SHINGLE_WORD ? "word" : "char", p->ngram, p->k, p->bands, p->rows,
                          p->lede_words, p->skip_stopwords ? "skip" : "keep");
}

static gboolean
db_error (DedupIndex *ix, int rc, const char *what, GError **error)
{
  const char *msg = ix->db ? sqlite3_errmsg (ix->db) : sqlite3_errstr (rc);
  int base = rc & 0xff;
  if (base == SQLITE_CORRUPT || base == SQLITE_NOTADB)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "%s is damaged (%s: %s); nothing was changed. Restore it from a backup, or move the "
                 "state directory away to start a new index", ix->path, what, msg);
  else if (base == SQLITE_READONLY || base == SQLITE_PERM || base == SQLITE_CANTOPEN)
    g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "%s: %s: %s", ix->path, what, msg);
  else
    g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s: %s", ix->path, what, msg);
  return FALSE;
}

static gboolean
exec (DedupIndex *ix, const char *sql, GError **error)
{
  int rc = sqlite3_exec (ix->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return db_error (ix, rc, sql, error);
  return TRUE;
}

static gboolean
prepare (DedupIndex *ix, const char *sql, sqlite3_stmt **stmt, GError **error)
{
  int rc = sqlite3_prepare_v3 (ix->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
  if (rc != SQLITE_OK)
    return db_error (ix, rc, "prepare", error);
  return TRUE;
}

static char *
meta_get (DedupIndex *ix, const char *key, int *rc_out)
{
  sqlite3_stmt *st = NULL;
  char *value = NULL;
  int rc = sqlite3_prepare_v2 (ix->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          value = g_strdup ((const char *) sqlite3_column_text (st, 0));
          rc = SQLITE_OK;
        }
      else if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  sqlite3_finalize (st);
  *rc_out = rc;
  return value;
}

/* A quick look at the file header, so that a file that is not SQLite at
 * all gets a clear message before SQLite says "file is not a database". */
static gboolean
check_header (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return TRUE;    /* let SQLite report it */
  char head[16] = { 0 };
  ssize_t n = read (fd, head, sizeof head);
  close (fd);
  if (n == 0)
    return TRUE;    /* empty: SQLite treats it as a new database */
  if (n < 16 || memcmp (head, "SQLite format 3", 16) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a dedup index (not an SQLite database); nothing was changed. Restore it "
                   "from a backup, or move the state directory away to start a new index", path);
      return FALSE;
    }
  return TRUE;
}

/* Maps the registered segments; a writable open (which holds the lock)
 * also removes segment files no transaction registered: the leftovers of
 * a run killed before its COMMIT, or of a compaction. */
static gboolean
load_segments (DedupIndex *ix, gboolean writable, GError **error)
{
  ix->segs = g_ptr_array_new_with_free_func ((GDestroyNotify) dedup_segment_close);
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (ix->db, "SELECT name FROM segments ORDER BY first", -1, &st, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (st, 0);
      g_autofree char *path = g_build_filename (ix->dir, name, NULL);
      DedupSegment *seg = dedup_segment_open (path, ix->k, error);
      if (seg == NULL)
        {
          sqlite3_finalize (st);
          return FALSE;
        }
      g_ptr_array_add (ix->segs, seg);
      g_hash_table_add (names, g_strdup (name));
      rc = SQLITE_OK;
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return db_error (ix, rc, "reading the segments table", error);
  if (!writable)
    return TRUE;
  g_autoptr(GDir) d = g_dir_open (ix->dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (((g_str_has_prefix (name, SEGMENT_PREFIX) && g_str_has_suffix (name, SEGMENT_SUFFIX))
         || g_str_has_prefix (name, ".segment-"))
        && !g_hash_table_contains (names, name))
      {
        g_autofree char *path = g_build_filename (ix->dir, name, NULL);
        g_debug ("removing %s: no run registered it", path);
        g_unlink (path);
      }
  return TRUE;
}

DedupIndex *
dedup_index_open (const char *dir, gboolean writable, gboolean create, const DedupSigParams *params,
                  GError **error)
{
  g_autoptr(DedupIndex) ix = g_new0 (DedupIndex, 1);
  ix->dir = g_strdup (dir);
  ix->path = g_build_filename (dir, DEDUP_INDEX_FILE, NULL);
  ix->k = params ? params->k : 0;
  gboolean exists = g_file_test (ix->path, G_FILE_TEST_EXISTS);
  if (!exists && !create)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no index here", ix->path);
      return NULL;
    }
  if (exists && !check_header (ix->path, error))
    return NULL;
  int flags = (writable ? SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) : SQLITE_OPEN_READONLY)
              | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2 (ix->path, &ix->db, flags, NULL);
  if (rc != SQLITE_OK)
    return db_error (ix, rc, "cannot open", error), NULL;
  sqlite3_busy_timeout (ix->db, 10000);
  sqlite3_extended_result_codes (ix->db, 1);
  if (writable && !exec (ix, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", error))
    return NULL;
  if (!exec (ix, "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;", error))
    return NULL;

  g_autofree char *format = meta_get (ix, "format", &rc);
  if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_ERROR)
    return db_error (ix, rc, "reading the format", error), NULL;
  if (format == NULL)
    {
      /* a new database, or something that is not an index */
      sqlite3_stmt *st = NULL;
      int tables = 0;
      if (sqlite3_prepare_v2 (ix->db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) == SQLITE_OK
          && sqlite3_step (st) == SQLITE_ROW)
        tables = sqlite3_column_int (st, 0);
      else
        {
          rc = sqlite3_errcode (ix->db);
          sqlite3_finalize (st);
          return db_error (ix, rc, "reading the schema", error), NULL;
        }
      sqlite3_finalize (st);
      if (tables > 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s is an SQLite database but not a dedup index (no format in meta); nothing was "
                       "changed. Move it away or choose another state-dir", ix->path);
          return NULL;
        }
      if (!writable || params == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: empty index", ix->path);
          return NULL;
        }
      g_autofree char *desc = dedup_params_describe (params);
      char *sql = sqlite3_mprintf ("BEGIN IMMEDIATE; %s"
                                              "INSERT INTO meta VALUES ('format', '%d'), ('params', %Q),"
                                              " ('created', strftime('%%s','now')); COMMIT;",
                                              schema, DEDUP_INDEX_FORMAT, desc);
      gboolean ok = exec (ix, sql, error);
      sqlite3_free (sql);
      if (!ok)
        return NULL;
    }
  else
    {
      gint64 version = g_ascii_strtoll (format, NULL, 10);
      if (version > DEDUP_INDEX_FORMAT)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                       "%s has index format %" G_GINT64_FORMAT ", newer than the %d this galley-dedup "
                       "reads; upgrade galley, or use another state-dir", ix->path, version, DEDUP_INDEX_FORMAT);
          return NULL;
        }
      if (version == 1)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                       "%s has index format 1 of an earlier galley-dedup, which this one (format %d) "
                       "does not read; move the state directory away to start a new index", ix->path,
                       DEDUP_INDEX_FORMAT);
          return NULL;
        }
      if (version < 1)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: invalid format '%s' in meta",
                       ix->path, format);
          return NULL;
        }
      g_autofree char *stored = meta_get (ix, "params", &rc);
      const char *k_str = stored ? strstr (stored, "hashes=") : NULL;
      if (params == NULL && k_str != NULL)   /* maintenance: the signature size from meta */
        ix->k = (guint) g_ascii_strtoull (k_str + strlen ("hashes="), NULL, 10);
      if (params != NULL)
        {
          g_autofree char *desc = dedup_params_describe (params);
          if (stored == NULL || !g_str_equal (stored, desc))
            {
              g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                           "%s was built with signatures '%s', the stage is set up for '%s'; signatures "
                           "of different settings cannot be compared. Use the index's settings, or "
                           "another state-dir", ix->path, stored ? stored : "(none)", desc);
              return NULL;
            }
        }
    }

  /* two B-tree descents, whatever the size */
  sqlite3_stmt *st = NULL;
  rc = sqlite3_prepare_v2 (ix->db, "SELECT coalesce(max(id), 0) > 0 FROM docs", -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    ix->has_docs = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW)
    return db_error (ix, rc, "reading the docs table", error), NULL;
  if (ix->k > 0 && !load_segments (ix, writable, error))
    return NULL;

  if (!prepare (ix, "SELECT exact, seen FROM docs WHERE id = ?1", &ix->sel_exact, error)
      || !prepare (ix, "SELECT doc_id, cluster, seen, length, shingles FROM docs WHERE id = ?1", &ix->sel_doc, error))
    return NULL;
  if (writable && !prepare (ix, "INSERT INTO docs VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &ix->ins_doc, error))
    return NULL;
  return g_steal_pointer (&ix);
}

void
dedup_index_close (DedupIndex *ix)
{
  if (ix == NULL)
    return;
  if (ix->in_txn)
    dedup_index_rollback (ix);
  sqlite3_finalize (ix->sel_exact);
  sqlite3_finalize (ix->sel_doc);
  sqlite3_finalize (ix->ins_doc);
  if (ix->db != NULL)
    sqlite3_close_v2 (ix->db);
  g_clear_pointer (&ix->segs, g_ptr_array_unref);
  g_free (ix->dir);
  g_free (ix->path);
  g_free (ix);
}

gboolean
dedup_index_has_docs (DedupIndex *ix)
{
  return ix->has_docs;
}

const char *
dedup_index_dir (DedupIndex *ix)
{
  return ix->dir;
}

/* Never reuses a number a segment may still list (forgotten documents
 * stay in segments until compact). */
gint64
dedup_index_max_rowid (DedupIndex *ix, GError **error)
{
  sqlite3_stmt *st = NULL;
  gint64 max = -1;
  int rc = sqlite3_prepare_v2 (ix->db, "SELECT max((SELECT coalesce(max(id), 0) FROM docs),"
                               " (SELECT coalesce(max(last), 0) FROM segments))", -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    max = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  if (max < 0)
    db_error (ix, rc, "reading the docs table", error);
  return max;
}

void
dedup_index_bands_lookup (DedupIndex *ix, const guint64 *keys, guint n, GArray *out)
{
  for (guint s = 0; s < ix->segs->len; s++)
    for (guint i = 0; i < n; i++)
      dedup_segment_lookup (g_ptr_array_index (ix->segs, s), keys[i], out);
}

gboolean
dedup_index_find_exact (DedupIndex *ix, guint64 exact_key, guint64 exact, gint64 min_seen, gint64 *rowid,
                        gboolean *found, GError **error)
{
  *found = FALSE;
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (gint64));
  dedup_index_bands_lookup (ix, &exact_key, 1, rows);
  sqlite3_stmt *st = ix->sel_exact;
  for (guint i = 0; i < rows->len; i++)
    {
      gint64 r = g_array_index (rows, gint64, i);
      if (*found && r >= *rowid)
        continue;
      sqlite3_bind_int64 (st, 1, r);
      int rc = sqlite3_step (st);
      if (rc == SQLITE_ROW && (guint64) sqlite3_column_int64 (st, 0) == exact
          && sqlite3_column_int64 (st, 1) >= min_seen)
        {
          *found = TRUE;
          *rowid = r;
        }
      sqlite3_reset (st);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error (ix, rc, "exact lookup", error);
    }
  return TRUE;
}

gboolean
dedup_index_peek (DedupIndex *ix, gint64 rowid, const guint16 **sig, guint32 *n_shingles)
{
  if (rowid <= 0 || rowid > G_MAXUINT32)
    return FALSE;
  for (guint s = ix->segs->len; s-- > 0;)
    if (dedup_segment_doc (g_ptr_array_index (ix->segs, s), (guint32) rowid, sig, n_shingles))
      return TRUE;
  return FALSE;
}

gboolean
dedup_index_get (DedupIndex *ix, gint64 rowid, gboolean with_sig, DedupStored *out, gboolean *found,
                 GError **error)
{
  sqlite3_stmt *st = ix->sel_doc;
  sqlite3_bind_int64 (st, 1, rowid);
  int rc = sqlite3_step (st);
  *found = rc == SQLITE_ROW;
  if (*found)
    {
      out->rowid = rowid;
      out->doc_id = g_strdup ((const char *) sqlite3_column_text (st, 0));
      out->cluster = sqlite3_column_int64 (st, 1);
      out->seen = sqlite3_column_int64 (st, 2);
      out->length = sqlite3_column_int64 (st, 3);
      out->n_shingles = sqlite3_column_int64 (st, 4);
      out->sig = NULL;
      const guint16 *sig = NULL;
      guint32 n_shingles;
      if (with_sig && dedup_index_peek (ix, rowid, &sig, &n_shingles))
        out->sig = g_memdup2 (sig, ix->k * sizeof (guint16));
    }
  sqlite3_reset (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error (ix, rc, "document lookup", error);
  return TRUE;
}

gboolean
dedup_index_begin (DedupIndex *ix, GError **error)
{
  if (!exec (ix, "BEGIN IMMEDIATE", error))
    return FALSE;
  ix->in_txn = TRUE;
  return TRUE;
}

gboolean
dedup_index_in_transaction (DedupIndex *ix)
{
  return ix->in_txn;
}

gboolean
dedup_index_add_doc (DedupIndex *ix, const DedupStored *d, guint64 exact, GError **error)
{
  sqlite3_stmt *st = ix->ins_doc;
  sqlite3_bind_int64 (st, 1, d->rowid);
  sqlite3_bind_text (st, 2, d->doc_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, d->cluster);
  sqlite3_bind_int64 (st, 4, d->seen);
  sqlite3_bind_int64 (st, 5, d->length);
  sqlite3_bind_int64 (st, 6, d->n_shingles);
  sqlite3_bind_int64 (st, 7, (sqlite3_int64) exact);
  int rc = sqlite3_step (st);
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return db_error (ix, rc, "adding a document", error);
  return TRUE;
}

gboolean
dedup_index_add_segment (DedupIndex *ix, const char *name, gint64 first, gint64 last, gint64 docs,
                         gint64 records, GError **error)
{
  char *sql = sqlite3_mprintf ("INSERT INTO segments VALUES (%Q, %lld, %lld, %lld, %lld)", name,
                               (long long) first, (long long) last, (long long) docs, (long long) records);
  gboolean ok = exec (ix, sql, error);
  sqlite3_free (sql);
  return ok;
}

gboolean
dedup_index_add_run (DedupIndex *ix, gint64 started, gint64 docs, gint64 duplicates, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("INSERT INTO runs (started, finished, docs, duplicates) VALUES (%"
                                          G_GINT64_FORMAT ", strftime('%%s','now'), %" G_GINT64_FORMAT ", %"
                                          G_GINT64_FORMAT ")", started, docs, duplicates);
  return exec (ix, sql, error);
}

char *
dedup_index_get_meta (DedupIndex *ix, const char *key, GError **error)
{
  int rc = SQLITE_OK;
  char *value = meta_get (ix, key, &rc);
  if (rc != SQLITE_OK)
    db_error (ix, rc, "reading meta", error);
  return value;
}

gboolean
dedup_index_set_meta (DedupIndex *ix, const char *key, const char *value, GError **error)
{
  char *sql = sqlite3_mprintf ("INSERT OR REPLACE INTO meta VALUES (%Q, %Q)", key, value);
  gboolean ok = exec (ix, sql, error);
  sqlite3_free (sql);
  return ok;
}

gboolean
dedup_index_commit (DedupIndex *ix, GError **error)
{
  if (!ix->in_txn)
    return TRUE;
  ix->in_txn = FALSE;
  if (!exec (ix, "COMMIT", error))
    {
      sqlite3_exec (ix->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

void
dedup_index_rollback (DedupIndex *ix)
{
  if (!ix->in_txn)
    return;
  ix->in_txn = FALSE;
  sqlite3_exec (ix->db, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
dedup_index_checkpoint (DedupIndex *ix, GError **error)
{
  int rc = sqlite3_wal_checkpoint_v2 (ix->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY)
    return db_error (ix, rc, "checkpoint", error);
  return TRUE;
}

/* ---- maintenance ------------------------------------------------------------ */

static gint64
query_int (DedupIndex *ix, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;
  gint64 v = 0;
  int rc = sqlite3_prepare_v2 (ix->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      db_error (ix, rc, sql, error);
      return -1;
    }
  return v;
}

static gint64
file_size (const char *path)
{
  GStatBuf st;
  return g_stat (path, &st) == 0 ? (gint64) st.st_size : 0;
}

static char *
format_time (gint64 t)
{
  if (t <= 0)
    return g_strdup ("-");
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (t);
  return dt ? g_date_time_format_iso8601 (dt) : g_strdup ("-");
}

gboolean
dedup_index_stats (DedupIndex *ix, GString *out, gboolean json, GError **error)
{
  GError *local = NULL;
  gint64 docs = query_int (ix, "SELECT count(*) FROM docs", &local);
  gint64 clusters = local ? 0 : query_int (ix, "SELECT count(*) FROM docs WHERE cluster = id", &local);
  gint64 bands = local ? 0 : query_int (ix, "SELECT coalesce(sum(records), 0) FROM segments", &local);
  gint64 n_segs = local ? 0 : query_int (ix, "SELECT count(*) FROM segments", &local);
  gint64 runs = local ? 0 : query_int (ix, "SELECT count(*) FROM runs", &local);
  gint64 oldest = local ? 0 : query_int (ix, "SELECT coalesce(min(seen), 0) FROM docs", &local);
  gint64 newest = local ? 0 : query_int (ix, "SELECT coalesce(max(seen), 0) FROM docs", &local);
  gint64 last_run = local ? 0 : query_int (ix, "SELECT coalesce(max(finished), 0) FROM runs", &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  int rc;
  g_autofree char *params = meta_get (ix, "params", &rc);
  g_autofree char *format = meta_get (ix, "format", &rc);
  g_autofree char *wal = g_strconcat (ix->path, "-wal", NULL);
  gint64 bytes = file_size (ix->path) + file_size (wal);
  for (guint i = 0; i < ix->segs->len; i++)
    bytes += dedup_segment_bytes (g_ptr_array_index (ix->segs, i));
  g_autofree char *t_old = format_time (oldest), *t_new = format_time (newest), *t_run = format_time (last_run);
  if (json)
    {
      g_autoptr(json_object) o = json_object_new_object ();
      json_object_object_add (o, "path", json_object_new_string (ix->path));
      json_object_object_add (o, "format", json_object_new_int (format ? atoi (format) : 0));
      json_object_object_add (o, "params", json_object_new_string (params ? params : ""));
      json_object_object_add (o, "documents", json_object_new_int64 (docs));
      json_object_object_add (o, "clusters", json_object_new_int64 (clusters));
      json_object_object_add (o, "band_keys", json_object_new_int64 (bands));
      json_object_object_add (o, "segments", json_object_new_int64 (n_segs));
      json_object_object_add (o, "runs", json_object_new_int64 (runs));
      json_object_object_add (o, "oldest", json_object_new_string (t_old));
      json_object_object_add (o, "newest", json_object_new_string (t_new));
      json_object_object_add (o, "last_run", json_object_new_string (t_run));
      json_object_object_add (o, "bytes", json_object_new_int64 (bytes));
      json_object_object_add (o, "bytes_per_document", json_object_new_int64 (docs ? bytes / docs : 0));
      g_string_append (out, json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
      g_string_append_c (out, '\n');
      return TRUE;
    }
  g_string_append_printf (out,
                          "index:        %s (format %s)\n"
                          "signatures:   %s\n"
                          "documents:    %" G_GINT64_FORMAT " in %" G_GINT64_FORMAT " clusters\n"
                          "band keys:    %" G_GINT64_FORMAT " in %" G_GINT64_FORMAT " segment files\n"
                          "runs:         %" G_GINT64_FORMAT ", last finished %s\n"
                          "seen:         %s .. %s\n"
                          "size:         %.1f MB (%" G_GINT64_FORMAT " bytes per document)\n",
                          ix->path, format ? format : "?", params ? params : "?", docs, clusters, bands, n_segs, runs,
                          t_run, t_old, t_new, bytes / 1e6, docs ? bytes / docs : 0);
  return TRUE;
}

/* Band keys of forgotten documents stay in the segments (lookups find no
 * row for them) until compact rewrites the segments. */
gboolean
dedup_index_forget (DedupIndex *ix, gint64 before, gint64 *docs, GError **error)
{
  if (!dedup_index_begin (ix, error))
    return FALSE;
  g_autofree char *sql = g_strdup_printf ("DELETE FROM docs WHERE seen < %" G_GINT64_FORMAT, before);
  if (!exec (ix, sql, error))
    {
      dedup_index_rollback (ix);
      return FALSE;
    }
  *docs = sqlite3_changes64 (ix->db);
  return dedup_index_commit (ix, error);
}

typedef struct { guint64 *bits; gint64 max; } LiveSet;

static gboolean
is_live (guint32 doc, gpointer data)
{
  const LiveSet *live = data;
  return doc <= live->max && (live->bits[doc >> 6] >> (doc & 63) & 1);
}

gboolean
dedup_index_compact (DedupIndex *ix, GError **error)
{
  if (ix->segs->len > 0)
    {
      /* the documents still in docs, as a bit set */
      LiveSet live = { NULL, dedup_index_max_rowid (ix, error) };
      if (live.max < 0)
        return FALSE;
      if (live.max > G_MAXUINT32)
        live.max = G_MAXUINT32;
      g_autofree guint64 *bits = live.bits = g_new0 (guint64, live.max / 64 + 1);
      sqlite3_stmt *st = NULL;
      int rc = sqlite3_prepare_v2 (ix->db, "SELECT id FROM docs", -1, &st, NULL);
      while (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (st, 0);
          if (id > 0 && id <= live.max)
            bits[id >> 6] |= G_GUINT64_CONSTANT (1) << (id & 63);
          rc = SQLITE_OK;
        }
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        return db_error (ix, rc, "reading the docs table", error);

      g_autofree char *name = g_strdup_printf (SEGMENT_PREFIX "%010" G_GINT64_FORMAT "-%08x" SEGMENT_SUFFIX,
                                               live.max, g_random_int ());
      guint64 n_docs = 0, n_recs = 0;
      if (!dedup_segment_merge ((DedupSegment **) ix->segs->pdata, ix->segs->len, ix->k, ix->dir, name,
                                is_live, &live, &n_docs, &n_recs, error))
        return FALSE;
      g_autofree char *path = g_build_filename (ix->dir, name, NULL);
      /* the merged file replaces the others in one transaction; whichever
       * side a crash leaves unregistered is removed at the next open */
      if (!dedup_index_begin (ix, error)
          || !exec (ix, "DELETE FROM segments", error)
          || !dedup_index_add_segment (ix, name, 1, live.max, n_docs, n_recs, error)
          || !dedup_index_commit (ix, error))
        {
          dedup_index_rollback (ix);
          g_unlink (path);
          return FALSE;
        }
      g_ptr_array_set_size (ix->segs, 0);
      DedupSegment *seg = dedup_segment_open (path, ix->k, error);
      if (seg == NULL)
        return FALSE;
      g_ptr_array_add (ix->segs, seg);
      g_autoptr(GDir) d = g_dir_open (ix->dir, 0, NULL);
      const char *entry;
      while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
        if (g_str_has_prefix (entry, SEGMENT_PREFIX) && g_str_has_suffix (entry, SEGMENT_SUFFIX)
            && !g_str_equal (entry, name))
          {
            g_autofree char *old = g_build_filename (ix->dir, entry, NULL);
            g_unlink (old);
          }
    }
  return exec (ix, "VACUUM", error) && dedup_index_checkpoint (ix, error);
}

/* ---- lock ------------------------------------------------------------------- */

int
dedup_lock_state_dir (const char *dir, gint64 wait_us, GError **error)
{
  g_autofree char *path = g_build_filename (dir, DEDUP_LOCK_FILE, NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "cannot open lock file %s: %s",
                   path, g_strerror (e));
      return -1;
    }
  gint64 deadline = g_get_monotonic_time () + wait_us;
  while (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int e = errno;
      if (e == EINTR)
        continue;
      if (e != EWOULDBLOCK || g_get_monotonic_time () >= deadline)
        {
          close (fd);
          if (e == EWOULDBLOCK)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                         "%s is locked by another run (lock file %s); try again when it has finished",
                         dir, path);
          else
            g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "cannot lock %s: %s", path,
                         g_strerror (e));
          return -1;
        }
      g_usleep (50 * 1000);
    }
  return fd;
}
