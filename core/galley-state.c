/* galley-state.c: the run state directory of a pipeline.
 *
 * With `state-dir=DIR` in [pipeline], a run
 *  - holds an exclusive flock on DIR/galley.lock (PID and start time inside,
 *    for the message a second run prints; the kernel drops the lock when the
 *    holder dies, so a stale file never blocks);
 *  - reads DIR/ledger.sqlite (SQLite, WAL): which inputs earlier runs read
 *    completely (sources ask before reading), the committed length of files
 *    that sinks append to, and the runs;
 *  - commits at the end, in one transaction, what the sources read and the
 *    renames the sinks asked for, and only then renames the sinks' temporary
 *    files into place. A run killed before the COMMIT leaves nothing (its
 *    temporary files are never renamed, the ledger does not know its
 *    inputs); killed after it, the next run performs the renames still
 *    pending before it reads anything. So every input document ends up
 *    exported exactly once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"
#include "galley-state.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define LEDGER_FORMAT 1

typedef struct {
  guint64           key;       /* xxh64 of stage id + NUL + input key */
  GalleyInputState  state;
} KnownInput;


struct _GalleyState {
  char       *dir;
  char       *lock_path;
  int         lock_fd;
  sqlite3    *db;
  gboolean    full;
  gint64      run_id;
  char       *started;       /* ISO 8601 */
  gboolean    committed;

  GMutex      lock;          /* protects what follows */
  GHashTable *known;         /* stage id -> GHashTable (guint64* -> KnownInput*) */
  guint       point_lookups; /* answered by single queries before loading all */
  sqlite3_stmt *lookup;
  GHashTable *done;          /* "stage\x1fkey" -> GalleyInputState* */
  GPtrArray  *renames;       /* char*: tmp, final, tmp, final, ... */
  GHashTable *lengths;       /* path -> gint64* committed by this run */
};

static gboolean
db_error (GalleyState *st, GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s/ledger.sqlite: %s: %s", st->dir, what,
               sqlite3_errmsg (st->db));
  return FALSE;
}

static gboolean
db_exec (GalleyState *st, const char *sql, GError **error)
{
  char *msg = NULL;
  if (sqlite3_exec (st->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s/ledger.sqlite: %s", st->dir, msg ? msg : "error");
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static void
fsync_dir_of (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

/* ---- lock ---------------------------------------------------------------- */

static gboolean
take_lock (GalleyState *st, double wait_seconds, GError **error)
{
  st->lock_fd = open (st->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (st->lock_fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", st->lock_path, g_strerror (e));
      return FALSE;
    }
  gint64 deadline = g_get_monotonic_time () + (gint64) (wait_seconds * G_USEC_PER_SEC);
  while (flock (st->lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      if (errno != EWOULDBLOCK && errno != EINTR)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: cannot lock: %s", st->lock_path,
                       g_strerror (e));
          return FALSE;
        }
      if (wait_seconds > 0 && g_get_monotonic_time () < deadline)
        {
          g_usleep (50 * 1000);
          continue;
        }
      char holder[256] = "";
      ssize_t n = pread (st->lock_fd, holder, sizeof holder - 1, 0);
      holder[n > 0 ? n : 0] = '\0';
      g_strstrip (holder);
      g_strdelimit (holder, "\n", ' ');
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "state directory %s is in use by another run (%s)%s; try again later%s", st->dir,
                   *holder ? holder : "holder unknown", wait_seconds > 0 ? " after waiting" : "",
                   wait_seconds > 0 ? "" : " or use --wait");
      return FALSE;
    }
  g_autofree char *line = g_strdup_printf ("pid %d, started %s\n", (int) getpid (), st->started);
  if (ftruncate (st->lock_fd, 0) == 0 && pwrite (st->lock_fd, line, strlen (line), 0) < 0)
    g_debug ("%s: cannot record the holder", st->lock_path);
  return TRUE;
}

/* ---- opening and recovery -------------------------------------------------- */

static gboolean
recover (GalleyState *st, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2 (st->db, "SELECT tmp, final FROM pending ORDER BY rowid", -1, &stmt, NULL) != SQLITE_OK)
    return db_error (st, error, "cannot read pending renames");
  guint n = 0;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *tmp = (const char *) sqlite3_column_text (stmt, 0);
      const char *final = (const char *) sqlite3_column_text (stmt, 1);
      if (g_file_test (tmp, G_FILE_TEST_EXISTS))
        {
          if (g_rename (tmp, final) != 0)
            {
              int e = errno;
              sqlite3_finalize (stmt);
              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                           "cannot finish the commit of an earlier run: rename %s to %s: %s", tmp, final,
                           g_strerror (e));
              return FALSE;
            }
          fsync_dir_of (final);
          n++;
        }
    }
  sqlite3_finalize (stmt);
  if (n > 0)
    g_message ("%s: finished the commit of an interrupted run (%u file%s put in place)", st->dir, n,
               n == 1 ? "" : "s");
  return db_exec (st, "DELETE FROM pending; UPDATE runs SET state = 'published' WHERE state = 'committed';", error);
}

GalleyState *
galley_state_open (const char *dir, gboolean full, double wait_seconds, GError **error)
{
  g_autoptr(GalleyState) st = g_new0 (GalleyState, 1);
  st->dir = g_strdup (dir);
  st->lock_fd = -1;
  st->full = full;
  g_mutex_init (&st->lock);
  st->known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  st->done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->renames = g_ptr_array_new_with_free_func (g_free);
  st->lengths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  st->started = g_date_time_format_iso8601 (now);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "state directory %s: %s", dir, g_strerror (e));
      return NULL;
    }
  st->lock_path = g_build_filename (dir, "galley.lock", NULL);
  if (!take_lock (st, wait_seconds, error))
    return NULL;

  g_autofree char *path = g_build_filename (dir, "ledger.sqlite", NULL);
  if (sqlite3_open_v2 (path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                   st->db ? sqlite3_errmsg (st->db) : "cannot open");
      return NULL;
    }
  sqlite3_busy_timeout (st->db, 10000);
  /* big pages: a commit of a million inputs is a few hundred writes, not
   * tens of thousands; exclusive locking: galley.lock already keeps
   * everyone else out, so no lock syscalls per statement */
  if (!db_exec (st, "PRAGMA page_size = 65536; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;", error))
    {
      g_prefix_error (error, "not a galley ledger? ");
      return NULL;
    }
  /* a ledger of another format is refused before anything is written to it */
  sqlite3_stmt *stmt = NULL;
  gint64 format = 0;
  gboolean fresh = TRUE;
  if (sqlite3_prepare_v2 (st->db, "SELECT value FROM meta WHERE key = 'format'", -1, &stmt, NULL) == SQLITE_OK)
    {
      fresh = FALSE;
      format = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
    }
  sqlite3_finalize (stmt);
  if (!fresh && format != LEDGER_FORMAT)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "%s: ledger format %" G_GINT64_FORMAT " %s; this galley reads format %d", path, format,
                   format > LEDGER_FORMAT ? "was written by a newer galley" : "is unknown", LEDGER_FORMAT);
      return NULL;
    }
  if (!db_exec (st,
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                "CREATE TABLE IF NOT EXISTS inputs (stage TEXT NOT NULL, key TEXT NOT NULL, size INTEGER,"
                "  mtime INTEGER, offset INTEGER, lines INTEGER, hash INTEGER, run INTEGER, PRIMARY KEY (stage, key)) WITHOUT ROWID;"
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, length INTEGER NOT NULL, run INTEGER);"
                "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started TEXT, finished TEXT,"
                "  state TEXT, docs_in INTEGER, docs_out INTEGER, inputs INTEGER);"
                "CREATE TABLE IF NOT EXISTS pending (run INTEGER, tmp TEXT, final TEXT);"
                "INSERT OR IGNORE INTO meta VALUES ('format', '1');",
                error))
    return NULL;
  if (!recover (st, error))
    return NULL;
  if (sqlite3_prepare_v2 (st->db, "SELECT COALESCE(MAX(id), 0) + 1 FROM runs", -1, &stmt, NULL) != SQLITE_OK)
    {
      db_error (st, error, "cannot read runs");
      return NULL;
    }
  st->run_id = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 1;
  sqlite3_finalize (stmt);
  return g_steal_pointer (&st);
}

void
galley_state_free (GalleyState *st)
{
  if (st == NULL)
    return;
  /* a run that did not commit: its finished temporary files go */
  for (guint i = 0; !st->committed && i + 1 < st->renames->len; i += 2)
    g_unlink (g_ptr_array_index (st->renames, i));
  if (st->lookup != NULL)
    sqlite3_finalize (st->lookup);
  if (st->db != NULL)
    sqlite3_close (st->db);
  if (st->lock_fd >= 0)
    close (st->lock_fd);   /* releases the flock */
  g_hash_table_unref (st->done);
  g_ptr_array_unref (st->renames);
  g_hash_table_unref (st->known);
  g_hash_table_unref (st->lengths);
  g_mutex_clear (&st->lock);
  g_free (st->dir);
  g_free (st->lock_path);
  g_free (st->started);
  g_free (st);
}

gint64
galley_state_get_run_id (GalleyState *st)
{
  return st->run_id;
}

const char *
galley_state_get_dir (GalleyState *st)
{
  return st->dir;
}

/* ---- inputs ------------------------------------------------------------------ */

static guint64
input_hash (const char *key)
{
  return XXH3_64bits (key, strlen (key));
}

static guint
u64_hash (gconstpointer p)
{
  guint64 v = *(const guint64 *) p;
  return (guint) (v ^ (v >> 32));
}

static gboolean
u64_equal (gconstpointer a, gconstpointer b)
{
  return *(const guint64 *) a == *(const guint64 *) b;
}

/* Loads what earlier runs recorded for @stage: one pass over its rows, so a
 * spool of a million inputs costs one scan, not a million queries. */
static GHashTable *
load_known (GalleyState *st, const char *stage)
{
  GHashTable *table = g_hash_table_lookup (st->known, stage);
  if (table != NULL)
    return table;
  table = g_hash_table_new_full (u64_hash, u64_equal, NULL, g_free);
  g_hash_table_insert (st->known, g_strdup (stage), table);
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2 (st->db, "SELECT key, size, mtime, offset, lines, hash FROM inputs WHERE stage = ?", -1, &stmt,
                          NULL) != SQLITE_OK)
    {
      g_warning ("%s/ledger.sqlite: %s", st->dir, sqlite3_errmsg (st->db));
      return table;
    }
  sqlite3_bind_text (stmt, 1, stage, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      KnownInput *k = g_new (KnownInput, 1);
      k->key = input_hash ((const char *) sqlite3_column_text (stmt, 0));
      k->state.size = sqlite3_column_int64 (stmt, 1);
      k->state.mtime = sqlite3_column_int64 (stmt, 2);
      k->state.offset = sqlite3_column_int64 (stmt, 3);
      k->state.lines = sqlite3_column_int64 (stmt, 4);
      k->state.hash = (guint64) sqlite3_column_int64 (stmt, 5);
      g_hash_table_replace (table, &k->key, k);
    }
  sqlite3_finalize (stmt);
  return table;
}

/* A few lookups (quick-dirs, one JSONL file) are single queries; past
 * POINT_LOOKUPS the stage's whole record is loaded once instead. */
#define POINT_LOOKUPS 4096

static gboolean
point_lookup (GalleyState *st, const char *stage, const char *key, GalleyInputState *out)
{
  if (st->lookup == NULL
      && sqlite3_prepare_v2 (st->db, "SELECT size, mtime, offset, lines, hash FROM inputs WHERE stage = ? AND key = ?",
                             -1, &st->lookup, NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_bind_text (st->lookup, 1, stage, -1, SQLITE_STATIC);
  sqlite3_bind_text (st->lookup, 2, key, -1, SQLITE_STATIC);
  gboolean found = sqlite3_step (st->lookup) == SQLITE_ROW;
  if (found && out != NULL)
    {
      out->size = sqlite3_column_int64 (st->lookup, 0);
      out->mtime = sqlite3_column_int64 (st->lookup, 1);
      out->offset = sqlite3_column_int64 (st->lookup, 2);
      out->lines = sqlite3_column_int64 (st->lookup, 3);
      out->hash = (guint64) sqlite3_column_int64 (st->lookup, 4);
    }
  sqlite3_reset (st->lookup);
  return found;
}

gboolean
galley_state_lookup_input (GalleyState *st, const char *stage, const char *key, GalleyInputState *out)
{
  if (st->full)
    return FALSE;
  g_mutex_lock (&st->lock);
  if (st->point_lookups < POINT_LOOKUPS && !g_hash_table_contains (st->known, stage))
    {
      st->point_lookups++;
      gboolean found = point_lookup (st, stage, key, out);
      g_mutex_unlock (&st->lock);
      return found;
    }
  GHashTable *table = load_known (st, stage);
  guint64 h = input_hash (key);
  KnownInput *k = g_hash_table_lookup (table, &h);
  if (k != NULL && out != NULL)
    *out = k->state;
  g_mutex_unlock (&st->lock);
  return k != NULL;
}

void
galley_state_record_input (GalleyState *st, const char *stage, const char *key, const GalleyInputState *state)
{
  g_autofree char *both = g_strconcat (stage, "\x1f", key, NULL);
  g_mutex_lock (&st->lock);
  GalleyInputState *s = g_hash_table_lookup (st->done, both);
  if (s == NULL)
    {
      s = g_new (GalleyInputState, 1);
      g_hash_table_insert (st->done, g_steal_pointer (&both), s);
    }
  *s = *state;
  g_mutex_unlock (&st->lock);
}

/* ---- sinks ------------------------------------------------------------------- */

void
galley_state_defer_rename (GalleyState *st, const char *tmp, const char *final)
{
  g_mutex_lock (&st->lock);
  g_ptr_array_add (st->renames, g_strdup (tmp));
  g_ptr_array_add (st->renames, g_strdup (final));
  g_mutex_unlock (&st->lock);
}

gint64
galley_state_get_file_length (GalleyState *st, const char *path)
{
  gint64 len = -1;
  g_mutex_lock (&st->lock);
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2 (st->db, "SELECT length FROM files WHERE path = ?", -1, &stmt, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, path, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        len = sqlite3_column_int64 (stmt, 0);
      sqlite3_finalize (stmt);
    }
  g_mutex_unlock (&st->lock);
  return len;
}

void
galley_state_set_file_length (GalleyState *st, const char *path, gint64 length)
{
  gint64 *v = g_new (gint64, 1);
  *v = length;
  g_mutex_lock (&st->lock);
  g_hash_table_replace (st->lengths, g_strdup (path), v);
  g_mutex_unlock (&st->lock);
}

/* ---- commit -------------------------------------------------------------------- */

static gint
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

gboolean
galley_state_commit (GalleyState *st, gint64 docs_in, gint64 docs_out, GError **error)
{
  sqlite3_stmt *ins = NULL, *ren = NULL, *len = NULL, *run = NULL;
  g_autoptr(GPtrArray) keys = NULL;   /* before any goto */
  gboolean ok = FALSE;

  galley_fault_point ("commit-begin");
  if (!db_exec (st, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (sqlite3_prepare_v2 (st->db, "INSERT OR REPLACE INTO inputs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", -1, &ins, NULL)
        != SQLITE_OK
      || sqlite3_prepare_v2 (st->db, "INSERT INTO pending VALUES (?, ?, ?)", -1, &ren, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (st->db, "INSERT OR REPLACE INTO files VALUES (?, ?, ?)", -1, &len, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (st->db, "INSERT INTO runs VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
                                     " 'committed', ?, ?, ?)", -1, &run, NULL) != SQLITE_OK)
    {
      db_error (st, error, "cannot prepare the commit");
      goto out;
    }
  /* in key order: the B-tree then grows at its end instead of all over */
  keys = g_ptr_array_sized_new (g_hash_table_size (st->done));
  GHashTableIter done_iter;
  gpointer done_key;
  g_hash_table_iter_init (&done_iter, st->done);
  while (g_hash_table_iter_next (&done_iter, &done_key, NULL))
    g_ptr_array_add (keys, done_key);
  g_ptr_array_sort (keys, compare_keys);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *both = g_ptr_array_index (keys, i), *sep = strchr (both, '\x1f');
      const GalleyInputState *d = g_hash_table_lookup (st->done, both);
      sqlite3_bind_text (ins, 1, both, sep - both, SQLITE_STATIC);
      sqlite3_bind_text (ins, 2, sep + 1, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (ins, 3, d->size);
      sqlite3_bind_int64 (ins, 4, d->mtime);
      sqlite3_bind_int64 (ins, 5, d->offset);
      sqlite3_bind_int64 (ins, 6, d->lines);
      sqlite3_bind_int64 (ins, 7, (sqlite3_int64) d->hash);
      sqlite3_bind_int64 (ins, 8, st->run_id);
      if (sqlite3_step (ins) != SQLITE_DONE)
        {
          db_error (st, error, "cannot record an input");
          goto out;
        }
      sqlite3_reset (ins);
    }
  for (guint i = 0; i + 1 < st->renames->len; i += 2)
    {
      sqlite3_bind_int64 (ren, 1, st->run_id);
      sqlite3_bind_text (ren, 2, g_ptr_array_index (st->renames, i), -1, SQLITE_STATIC);
      sqlite3_bind_text (ren, 3, g_ptr_array_index (st->renames, i + 1), -1, SQLITE_STATIC);
      if (sqlite3_step (ren) != SQLITE_DONE)
        {
          db_error (st, error, "cannot record a rename");
          goto out;
        }
      sqlite3_reset (ren);
    }
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, st->lengths);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      sqlite3_bind_text (len, 1, key, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (len, 2, *(gint64 *) value);
      sqlite3_bind_int64 (len, 3, st->run_id);
      if (sqlite3_step (len) != SQLITE_DONE)
        {
          db_error (st, error, "cannot record a file length");
          goto out;
        }
      sqlite3_reset (len);
    }
  sqlite3_bind_int64 (run, 1, st->run_id);
  sqlite3_bind_text (run, 2, st->started, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (run, 3, docs_in);
  sqlite3_bind_int64 (run, 4, docs_out);
  sqlite3_bind_int64 (run, 5, g_hash_table_size (st->done));
  if (sqlite3_step (run) != SQLITE_DONE)
    {
      db_error (st, error, "cannot record the run");
      goto out;
    }
  galley_fault_point ("commit-before-sql");
  if (!db_exec (st, "COMMIT", error))
    goto out;
  ok = TRUE;

out:
  sqlite3_finalize (ins);
  sqlite3_finalize (ren);
  sqlite3_finalize (len);
  sqlite3_finalize (run);
  if (!ok)
    {
      sqlite3_exec (st->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }

  /* Committed: from here on a crash is finished by the next run. */
  st->committed = TRUE;
  galley_fault_point ("commit-after-sql");
  for (guint i = 0; i + 1 < st->renames->len; i += 2)
    {
      const char *tmp = g_ptr_array_index (st->renames, i), *final = g_ptr_array_index (st->renames, i + 1);
      if (g_rename (tmp, final) != 0)
        {
          int e = errno;
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE,
                       "cannot rename %s to %s: %s (the next run retries)", tmp, final, g_strerror (e));
          return FALSE;
        }
      fsync_dir_of (final);
      galley_fault_point ("commit-rename");
    }
  return db_exec (st, "DELETE FROM pending; UPDATE runs SET state = 'published' WHERE state = 'committed';", error);
}

gboolean
galley_state_commit_file (GalleyState *st, const char *tmp, const char *final, GError **error)
{
  if (st != NULL)
    {
      galley_state_defer_rename (st, tmp, final);
      return TRUE;
    }
  if (g_rename (tmp, final) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "cannot rename %s to %s: %s", tmp, final,
                   g_strerror (e));
      return FALSE;
    }
  fsync_dir_of (final);
  return TRUE;
}

/* ---- fault injection ------------------------------------------------------------ */

/* GALLEY_FAULT=NAME:N kills the process (SIGKILL, as a power cut would stop
 * it) the Nth time it passes the point NAME. For the crash tests only. */
void
galley_fault_point (const char *name)
{
  static gsize initialized;
  static char *point;
  static gint countdown;
  if (g_once_init_enter (&initialized))
    {
      const char *spec = g_getenv ("GALLEY_FAULT");
      if (spec != NULL && strchr (spec, ':') != NULL)
        {
          point = g_strndup (spec, strchr (spec, ':') - spec);
          countdown = atoi (strchr (spec, ':') + 1);
        }
      g_once_init_leave (&initialized, 1);
    }
  if (point == NULL || strcmp (point, name) != 0)
    return;
  if (g_atomic_int_dec_and_test (&countdown))
    kill (getpid (), SIGKILL);
}
