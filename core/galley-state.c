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
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1: a row per input (read and converted to 2 when opened); 2: a row per
 * directory of inputs */
#define LEDGER_FORMAT 2

typedef struct _LedgerGroup LedgerGroup;
#define GROUP_CACHE 4
static void group_free (LedgerGroup *g);

/* What a run read, per stage and directory, in the order it was recorded. */
typedef struct {
  const char       *name;   /* in DoneSet.names */
  GalleyInputState  state;
} NewInput;

/* A growing list of them (a million appends at a first run over a big
 * spool: no call per append, unlike GArray). */
typedef struct {
  NewInput *v;
  guint     len, cap;
} InputList;

static InputList *
input_list_new (void)
{
  return g_new0 (InputList, 1);
}

static void
input_list_free (InputList *l)
{
  g_free (l->v);
  g_free (l);
}

static inline void
input_list_append (InputList *l, const char *name, const GalleyInputState *state)
{
  if (l->len == l->cap)
    {
      l->cap = MAX (64, l->cap * 2);
      l->v = g_renew (NewInput, l->v, l->cap);
    }
  l->v[l->len].name = name;
  l->v[l->len++].state = *state;
}

typedef struct {
  GHashTable   *groups;     /* "stage\x1fdir" -> InputList */
  const char   *last_key;   /* the group recorded into last */
  const char   *last_stage; /* the stage name given with it */
  gsize         last_stage_len, last_dir_len; /* of last_key's two parts */
  InputList    *last;
  GStringChunk *names;
  char         *left_key;   /* a group recording just left with enough */
  InputList    *left;       /* inputs, taken out for writing */
  GHashTable   *written;    /* group key (of groups) -> inputs taken out before */
} DoneSet;

/* A group that recording has left with this many inputs is written into
 * the ledger's open transaction by a thread of its own while the run goes
 * on, so the commit has little left to do. A group recorded into again
 * later (a directory whose files alternate with its subdirectories') is
 * merged again, once it has as many new inputs as were written before:
 * each write at least doubles the group, so a group is written about
 * twice its size in all, not once per switch. */
#define EARLY_ENTRIES 256

typedef struct {
  char      *key;
  InputList *news;
} EarlyGroup;

static DoneSet *done_set_new (void);
static void done_set_free (DoneSet *set);
static void done_set_add (DoneSet *set, const char *stage, const char *key, const GalleyInputState *state);
static gboolean write_inputs (GalleyState *st, DoneSet *done, gint64 *n_inputs, GError **error);
static gboolean write_group (GalleyState *st, const char *group, InputList *news, gint64 *n_inputs, GError **error);
static void stop_early_writer (GalleyState *st);
static void cut_back_appends (GalleyState *st);

struct _GalleyState {
  char       *dir;
  char       *real_dir;      /* canonical, for owner marks */
  char       *id;            /* the ledger's, for owner marks */
  char       *lock_path;
  int         lock_fd;
  sqlite3    *db;
  gboolean    full;
  gint64      run_id;
  char       *started;       /* ISO 8601 */
  gboolean    committed;

  GMutex      db_lock;       /* protects db and what follows */
  LedgerGroup *groups[GROUP_CACHE]; /* recently read input groups, most recent first */
  sqlite3_stmt *group_stmt;
  gboolean    in_transaction; /* begun by the early writer */
  gint64      n_early;       /* inputs it wrote */
  GError     *early_error;   /* its first error, reported by the commit */

  GThread    *early_thread;  /* writes groups while the run goes on */
  GAsyncQueue *early_queue;  /* of EarlyGroup; early_end stops the thread */

  GMutex      lock;          /* protects what follows */
  DoneSet    *done;          /* inputs this run read */
  GPtrArray  *renames;       /* char*: tmp, final, tmp, final, ... */
  GHashTable *lengths;       /* path -> gint64* committed by this run */
  GHashTable *starts;        /* path -> gint64*: where this run began to append */
  GPtrArray *marks;          /* first-length marks to remove after the commit */
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

/* TRUE when @tmp is named as the sinks name their temporary files,
 * ".NAME.tmp-XXXXXX" (six letters or digits, as g_mkstemp makes them) in
 * the directory of @final, NAME being @final's base name. */
static gboolean
is_temp_name_of (const char *tmp, const char *final)
{
  g_autofree char *tmp_dir = g_path_get_dirname (tmp);
  g_autofree char *final_dir = g_path_get_dirname (final);
  g_autofree char *tmp_base = g_path_get_basename (tmp);
  g_autofree char *final_base = g_path_get_basename (final);
  if (strcmp (tmp_dir, final_dir) != 0 || strcmp (final_base, ".") == 0 || strcmp (final_base, "..") == 0
      || strchr (final_base, '/') != NULL)
    return FALSE;
  g_autofree char *prefix = g_strdup_printf (".%s.tmp-", final_base);
  if (!g_str_has_prefix (tmp_base, prefix) || strlen (tmp_base) != strlen (prefix) + 6)
    return FALSE;
  for (const char *p = tmp_base + strlen (prefix); *p != '\0'; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}

/* Why the pending rename of @tmp to @final is not one a run of this ledger
 * asked for, or NULL when it may be done: a temporary file named as the
 * sinks name theirs, beside its target, a regular file (not a link), and
 * the target a regular file or absent. A row added by hand must not
 * move an arbitrary file. */
static const char *
pending_rename_refused (const char *tmp, const char *final)
{
  if (!is_temp_name_of (tmp, final))
    return "not a temporary file of a sink beside its target";
  struct stat sb;
  if (lstat (tmp, &sb) == 0 && !S_ISREG (sb.st_mode))
    return "the temporary file is not a regular file";
  if (lstat (final, &sb) == 0 && !S_ISREG (sb.st_mode))
    return "the target is not a regular file";
  return NULL;
}

static gboolean
recover (GalleyState *st, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  /* pending renames belong to a run that committed and had not yet put
   * its files in place */
  if (sqlite3_prepare_v2 (st->db,
                          "SELECT tmp, final, run IN (SELECT id FROM runs WHERE state = 'committed') FROM pending"
                          " ORDER BY rowid", -1, &stmt, NULL) != SQLITE_OK)
    return db_error (st, error, "cannot read pending renames");
  guint n = 0;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *tmp = (const char *) sqlite3_column_text (stmt, 0);
      const char *final = (const char *) sqlite3_column_text (stmt, 1);
      const char *why = tmp == NULL || final == NULL ? "a row without its paths"
                        : !sqlite3_column_int (stmt, 2) ? "no committed run of this ledger asked for it"
                        : pending_rename_refused (tmp, final);
      if (why != NULL)
        {
          g_warning ("%s/ledger.sqlite: dropping the pending rename of %s to %s: %s", st->dir,
                     tmp != NULL ? tmp : "(null)", final != NULL ? final : "(null)", why);
          continue;
        }
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

/* Format 1 kept a row per input; its rows become groups, in one
 * transaction (a run killed meanwhile leaves format 1 as it was). */
static gboolean
convert_format_1 (GalleyState *st, GError **error)
{
  if (!db_exec (st, "BEGIN IMMEDIATE", error))
    return FALSE;
  DoneSet *done = done_set_new ();
  gint64 n_inputs = 0;
  sqlite3_stmt *stmt = NULL;
  gboolean ok = sqlite3_prepare_v2 (st->db, "SELECT stage, key, size, mtime, offset, lines, hash FROM inputs", -1,
                                    &stmt, NULL) == SQLITE_OK;
  int rc = SQLITE_DONE;
  while (ok && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GalleyInputState s = { sqlite3_column_int64 (stmt, 2), sqlite3_column_int64 (stmt, 3),
                             sqlite3_column_int64 (stmt, 4), sqlite3_column_int64 (stmt, 5),
                             (guint64) sqlite3_column_int64 (stmt, 6) };
      done_set_add (done, (const char *) sqlite3_column_text (stmt, 0), (const char *) sqlite3_column_text (stmt, 1),
                    &s);
    }
  ok = ok && rc == SQLITE_DONE;
  sqlite3_finalize (stmt);
  if (!ok)
    db_error (st, error, "cannot read the inputs of format 1");
  ok = ok && write_inputs (st, done, &n_inputs, error)
       && db_exec (st, "DROP TABLE inputs; UPDATE meta SET value = '2' WHERE key = 'format'; COMMIT;", error);
  if (!ok)
    sqlite3_exec (st->db, "ROLLBACK", NULL, NULL, NULL);
  else
    g_message ("%s/ledger.sqlite: converted to format %d (%" G_GINT64_FORMAT " inputs)", st->dir, LEDGER_FORMAT,
               n_inputs);
  done_set_free (done);
  return ok;
}

GalleyState *
galley_state_open (const char *dir, gboolean full, double wait_seconds, GError **error)
{
  g_autoptr(GalleyState) st = g_new0 (GalleyState, 1);
  st->dir = g_strdup (dir);
  st->lock_fd = -1;
  st->full = full;
  g_mutex_init (&st->lock);
  g_mutex_init (&st->db_lock);
  st->done = done_set_new ();
  st->renames = g_ptr_array_new_with_free_func (g_free);
  st->lengths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->starts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->marks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  st->started = g_date_time_format_iso8601 (now);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "state directory %s: %s", dir, g_strerror (e));
      return NULL;
    }
  st->lock_path = g_build_filename (dir, "galley.lock", NULL);
  char *real = realpath (dir, NULL);
  st->real_dir = real != NULL ? g_strdup (real) : g_canonicalize_filename (dir, NULL);
  free (real);
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
  /* 8 KB pages: a directory's record (about 35 KB for a thousand files)
   * fills its overflow pages, where with 64 KB pages each took one whole
   * (a ledger made by an older galley keeps its size); exclusive locking:
   * galley.lock already keeps everyone else out, so no lock syscalls per
   * statement */
  if (!db_exec (st, "PRAGMA page_size = 8192; PRAGMA locking_mode = EXCLUSIVE; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;", error))
    {
      g_prefix_error (error, "not a galley ledger? ");
      return NULL;
    }
  /* a ledger of another format is refused before anything is written to it */
  sqlite3_stmt *stmt = NULL;
  gint64 format = 0;
  gboolean fresh = TRUE;
  /* a meta table without a format row is a creation killed before its
   * end (earlier builds created the tables one statement at a time):
   * nothing was recorded in it, so it is completed as a new ledger */
  if (sqlite3_prepare_v2 (st->db, "SELECT value FROM meta WHERE key = 'format'", -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    {
      fresh = FALSE;
      format = sqlite3_column_int64 (stmt, 0);
    }
  sqlite3_finalize (stmt);
  if (!fresh && format != LEDGER_FORMAT && format != 1)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "%s: ledger format %" G_GINT64_FORMAT " %s; this galley reads format %d", path, format,
                   format > LEDGER_FORMAT ? "was written by a newer galley" : "is unknown", LEDGER_FORMAT);
      return NULL;
    }
  /* A rollback journal, not WAL: a first run over a big spool writes
   * tens of megabytes of new pages, which a rollback journal writes once
   * (new pages need no journal), and WAL twice (the log, then the copy
   * into the database at the checkpoint: 0.3 s per million files). No
   * other process reads the ledger while galley.lock is held, so WAL's
   * concurrent readers bring nothing. Set after the format check, as it
   * rewrites the header of a ledger kept in WAL mode by an earlier
   * version. */
  if (!db_exec (st, "PRAGMA journal_mode = TRUNCATE", error))
    return NULL;
  /* one transaction: a run killed while it creates the ledger leaves
   * either no tables or all of them, with the format row */
  /* the ledger's identity, which owner marks name (a ledger made by an
   * older galley gets one now) */
  g_autofree char *new_id = g_uuid_string_random ();
  g_autofree char *create = g_strdup_printf (
                "BEGIN IMMEDIATE;"
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                "CREATE TABLE IF NOT EXISTS input_groups (stage TEXT NOT NULL, dir TEXT NOT NULL, part INTEGER NOT NULL,"
                "  count INTEGER NOT NULL, entries BLOB NOT NULL, run INTEGER, PRIMARY KEY (stage, dir, part));"
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, length INTEGER NOT NULL, run INTEGER);"
                "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started TEXT, finished TEXT,"
                "  state TEXT, docs_in INTEGER, docs_out INTEGER, inputs INTEGER);"
                "CREATE TABLE IF NOT EXISTS pending (run INTEGER, tmp TEXT, final TEXT);"
                "INSERT OR IGNORE INTO meta VALUES ('format', '2');"
                "INSERT OR IGNORE INTO meta VALUES ('id', '%s');"
                "COMMIT;", new_id);
  if (!db_exec (st, create, error))
    {
      sqlite3_exec (st->db, "ROLLBACK", NULL, NULL, NULL);
      return NULL;
    }
  if (format == 1 && !convert_format_1 (st, error))
    {
      g_prefix_error (error, "%s: converting the ledger to format %d: ", path, LEDGER_FORMAT);
      return NULL;
    }
  if (sqlite3_prepare_v2 (st->db, "SELECT value FROM meta WHERE key = 'id'", -1, &stmt, NULL) != SQLITE_OK
      || sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      db_error (st, error, "cannot read the ledger's id");
      return NULL;
    }
  st->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
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
  stop_early_writer (st);
  g_clear_error (&st->early_error);
  /* a run that did not commit: its finished temporary files go (closing
   * the database rolls back what the early writer wrote) */
  for (guint i = 0; !st->committed && i + 1 < st->renames->len; i += 2)
    g_unlink (g_ptr_array_index (st->renames, i));
  if (!st->committed)
    cut_back_appends (st);
  for (guint i = 0; i < GROUP_CACHE; i++)
    group_free (st->groups[i]);
  if (st->group_stmt != NULL)
    sqlite3_finalize (st->group_stmt);
  if (st->db != NULL)
    sqlite3_close (st->db);
  if (st->lock_fd >= 0)
    close (st->lock_fd);   /* releases the flock */
  done_set_free (st->done);
  g_ptr_array_unref (st->renames);
  g_hash_table_unref (st->lengths);
  g_hash_table_unref (st->starts);
  g_ptr_array_unref (st->marks);
  g_mutex_clear (&st->lock);
  g_mutex_clear (&st->db_lock);
  g_free (st->dir);
  g_free (st->real_dir);
  g_free (st->id);
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

/* The inputs are kept per directory: one row of `input_groups` holds, for a
 * stage and a key prefix up to its last '/', the sorted entries of up to
 * GROUP_PART_ENTRIES inputs packed in a blob. A run that finds nothing new
 * in a directory of a thousand files reads one row instead of a thousand,
 * and a run that reads a thousand new files writes one. Entry layout: the
 * name's length (a LEB128 varint), the name and a NUL, then size, mtime,
 * offset and lines as zigzag LEB128 varints and the hash as a 64-bit
 * little-endian integer: about 35 bytes for a spool file. */
#define GROUP_PART_ENTRIES 65536

struct _LedgerGroup {
  char     *stage;
  char     *dir;
  gsize     dir_len;
  guint8   *data;
  gsize     len;
  guint32  *offsets;   /* of each entry's name in data, in name order */
  GalleyInputState *states; /* each entry's numbers, parsed */
  guint     n;
  guint     next;      /* the entry after the one found last (lookups come in name order) */
};

static void
group_free (LedgerGroup *g)
{
  if (g == NULL)
    return;
  g_free (g->stage);
  g_free (g->dir);
  g_free (g->data);
  g_free (g->offsets);
  g_free (g->states);
  g_free (g);
}

/* The part of @key up to and with its last '/' ("" without one); a
 * trailing '/' (a directory's own record, quick-dirs) does not count, so
 * the records of sibling directories share their parent's group instead
 * of each sitting with the files it holds. */
static gsize
key_dir_len (const char *key)
{
  gsize len = strlen (key);
  if (len > 0 && key[len - 1] == '/')
    len--;
  const char *slash = memrchr (key, '/', len);
  return slash != NULL ? (gsize) (slash - key) + 1 : 0;
}

/* TRUE when key_dir_len (@key) would be @dir_len with @dir as that part:
 * the usual case of a key in the same directory as the one before it,
 * found without measuring the whole key. */
static inline gboolean
key_in_dir (const char *key, const char *dir, gsize dir_len)
{
  return strncmp (key, dir, dir_len) == 0 && key[dir_len] != '\0' && strchr (key + dir_len, '/') == NULL;
}

/* Reads a varint at *p (before @end); FALSE if it is cut or too long. */
static gboolean
get_varint (const guint8 **p, const guint8 *end, guint64 *v)
{
  *v = 0;
  for (guint shift = 0; *p < end && shift < 64; shift += 7)
    {
      guint8 b = *(*p)++;
      *v |= (guint64) (b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return TRUE;
    }
  return FALSE;
}

static gint64
unzigzag (guint64 v)
{
  return (gint64) (v >> 1) ^ -(gint64) (v & 1);
}

/* Parses the numbers after an entry's name at @p; FALSE if they are cut. */
static gboolean
entry_numbers (const guint8 *p, const guint8 *end, GalleyInputState *out, const guint8 **next)
{
  guint64 v[4];
  for (guint i = 0; i < 4; i++)
    if (!get_varint (&p, end, &v[i]))
      return FALSE;
  if (end - p < 8)
    return FALSE;
  guint64 hash;
  memcpy (&hash, p, 8);
  out->size = unzigzag (v[0]);
  out->mtime = unzigzag (v[1]);
  out->offset = unzigzag (v[2]);
  out->lines = unzigzag (v[3]);
  out->hash = GUINT64_FROM_LE (hash);
  *next = p + 8;
  return TRUE;
}

static const char *
entry_name (const LedgerGroup *g, guint i)
{
  return (const char *) g->data + g->offsets[i];
}

static void
entry_state (const LedgerGroup *g, guint i, GalleyInputState *out)
{
  *out = g->states[i];
}

/* Parses the entries of @g's data into its offsets and states. FALSE when
 * the data is damaged (a cut or unordered entry, or too large). */
static gboolean
group_parse (LedgerGroup *g)
{
  /* an entry takes 14 bytes at least (name length, the name's NUL, four
   * one-byte numbers, the 8-byte hash); the arrays are cut to size after */
  gsize most = g->len <= G_MAXUINT32 ? g->len / 14 + 1 : 1;   /* larger: damaged, below */
  g->offsets = g_new (guint32, most);
  g->states = g_new (GalleyInputState, most);
  /* an empty group has no data at all (no offset on NULL) */
  const guint8 *p = g->data, *end = g->data != NULL ? g->data + g->len : g->data;
  const char *prev = NULL;
  while (p < end && g->len <= G_MAXUINT32)
    {
      const guint8 *q = p;
      guint64 name_len;
      GalleyInputState s;
      if (!get_varint (&q, end, &name_len) || name_len >= (guint64) (end - q) || q[name_len] != '\0'
          || memchr (q, '\0', name_len) != NULL)
        break;
      const char *name = (const char *) q;
      if ((prev != NULL && strcmp (prev, name) >= 0) || !entry_numbers (q + name_len + 1, end, &s, &q))
        break;
      prev = name;
      g->offsets[g->n] = (guint32) ((const guint8 *) name - g->data);
      g->states[g->n++] = s;
      p = q;
    }
  if (g->n + 64 < most)
    {
      g->offsets = g_renew (guint32, g->offsets, g->n + 1);
      g->states = g_renew (GalleyInputState, g->states, g->n + 1);
    }
  return p == end;
}

/* Reads the group of @stage and @dir (all its parts). Returns NULL on a
 * database error or a damaged entry, with @error set; a group nobody
 * recorded is an empty group. */
static LedgerGroup *
group_load (GalleyState *st, const char *stage, const char *dir, gsize dir_len, GError **error)
{
  if (st->group_stmt == NULL
      && sqlite3_prepare_v2 (st->db, "SELECT entries FROM input_groups WHERE stage = ? AND dir = ? ORDER BY part", -1,
                             &st->group_stmt, NULL) != SQLITE_OK)
    {
      db_error (st, error, "cannot read inputs");
      return NULL;
    }
  LedgerGroup *g = g_new0 (LedgerGroup, 1);
  g->stage = g_strdup (stage);
  g->dir = g_strndup (dir, dir_len);
  g->dir_len = dir_len;
  GByteArray *data = g_byte_array_new ();
  sqlite3_bind_text (st->group_stmt, 1, stage, -1, SQLITE_STATIC);
  sqlite3_bind_text (st->group_stmt, 2, dir, (int) dir_len, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step (st->group_stmt)) == SQLITE_ROW)
    g_byte_array_append (data, sqlite3_column_blob (st->group_stmt, 0),
                         (guint) sqlite3_column_bytes (st->group_stmt, 0));
  sqlite3_reset (st->group_stmt);
  g->len = data->len;
  g->data = g_byte_array_free (data, FALSE);
  if (rc != SQLITE_DONE)
    {
      db_error (st, error, "cannot read inputs");
      group_free (g);
      return NULL;
    }
  if (!group_parse (g))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s/ledger.sqlite: the inputs recorded for stage '%s' under '%s' are damaged", st->dir, stage,
                   g->dir);
      group_free (g);
      return NULL;
    }
  return g;
}

static gboolean
group_find (LedgerGroup *g, const char *name, guint *index)
{
  /* a directory's files are looked up in name order: try the entry after
   * the last one found before searching */
  if (g->next < g->n && strcmp (entry_name (g, g->next), name) == 0)
    {
      *index = g->next++;
      return TRUE;
    }
  guint lo = 0, hi = g->n;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int c = strcmp (entry_name (g, mid), name);
      if (c == 0)
        {
          *index = mid;
          g->next = mid + 1;
          return TRUE;
        }
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  *index = lo;
  return FALSE;
}

gboolean
galley_state_lookup_input (GalleyState *st, const char *stage, const char *key, GalleyInputState *out)
{
  if (st->full)
    return FALSE;
  g_mutex_lock (&st->db_lock);
  LedgerGroup *g = st->groups[0];
  guint slot = 0;
  if (g != NULL && strcmp (g->stage, stage) == 0 && key_in_dir (key, g->dir, g->dir_len))
    goto have_group;   /* the directory of the key before */
  g = NULL;
  gsize dir_len = key_dir_len (key);
  for (slot = 0; slot < GROUP_CACHE && st->groups[slot] != NULL; slot++)
    {
      LedgerGroup *c = st->groups[slot];
      if (strncmp (c->dir, key, dir_len) == 0 && c->dir[dir_len] == '\0' && strcmp (c->stage, stage) == 0)
        {
          g = c;
          break;
        }
    }
  if (g == NULL)
    {
      g_autoptr(GError) local = NULL;
      g = group_load (st, stage, key, dir_len, &local);
      if (g == NULL)
        {
          /* read as new: a damaged ledger must not hide inputs */
          g_warning ("%s", local->message);
          g_mutex_unlock (&st->db_lock);
          return FALSE;
        }
      slot = MIN (slot, GROUP_CACHE - 1);
      group_free (st->groups[slot]);
    }
  /* most recently used first */
  memmove (st->groups + 1, st->groups, slot * sizeof st->groups[0]);
  st->groups[0] = g;
have_group:;
  guint i;
  gboolean found = group_find (g, key + g->dir_len, &i);
  if (found && out != NULL)
    entry_state (g, i, out);
  g_mutex_unlock (&st->db_lock);
  return found;
}

static DoneSet *
done_set_new (void)
{
  DoneSet *set = g_new0 (DoneSet, 1);
  set->groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) input_list_free);
  set->names = g_string_chunk_new (64 * 1024);
  set->written = g_hash_table_new (g_str_hash, g_str_equal);
  return set;
}

static void
done_set_free (DoneSet *set)
{
  g_hash_table_unref (set->written);
  g_hash_table_unref (set->groups);
  g_string_chunk_free (set->names);
  g_free (set->left_key);
  if (set->left != NULL)
    input_list_free (set->left);
  g_free (set);
}

static void
done_set_add (DoneSet *set, const char *stage, const char *key, const GalleyInputState *state)
{
  const char *k = set->last_key;
  gsize dir_len;
  if (k != NULL
      && (stage == set->last_stage
          || (strncmp (k, stage, set->last_stage_len) == 0 && stage[set->last_stage_len] == '\0'))
      && key_in_dir (key, k + set->last_stage_len + 1, set->last_dir_len))
    dir_len = set->last_dir_len;
  else
    {
      dir_len = key_dir_len (key);
      g_autofree char *group = g_strdup_printf ("%s\x1f%.*s", stage, (int) dir_len, key);
      gpointer orig = NULL, news = NULL;
      if (!g_hash_table_lookup_extended (set->groups, group, &orig, &news))
        {
          news = input_list_new ();
          orig = group;
          g_hash_table_insert (set->groups, g_steal_pointer (&group), news);
        }
      /* leaving a group with many inputs: it can be written now */
      guint before = set->last != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (set->written, set->last_key)) : 0;
      if (set->last != NULL && set->last->len >= MAX (EARLY_ENTRIES, before) && set->left == NULL)
        {
          gpointer left_key = NULL, left = NULL;
          if (g_hash_table_steal_extended (set->groups, set->last_key, &left_key, &left))
            {
              set->left_key = g_strdup (left_key);
              set->left = left;
              g_hash_table_insert (set->groups, left_key, input_list_new ());
              g_hash_table_insert (set->written, left_key, GUINT_TO_POINTER (before + set->left->len));
            }
        }
      set->last_key = orig;
      set->last_stage = stage;
      set->last_stage_len = strlen (stage);
      set->last_dir_len = dir_len;
      set->last = news;
    }
  /* a source that records its progress on one input (a JSONL file after
   * each line) replaces its own last record */
  if (set->last->len > 0)
    {
      NewInput *prev = &set->last->v[set->last->len - 1];
      if (strcmp (prev->name, key + dir_len) == 0)
        {
          prev->state = *state;
          return;
        }
    }
  input_list_append (set->last, g_string_chunk_insert (set->names, key + dir_len), state);
}

static EarlyGroup early_end;

/* The early writer's thread: each group it is handed goes into the
 * ledger's transaction, begun at the first. */
static gpointer
early_writer (gpointer data)
{
  GalleyState *st = data;
  EarlyGroup *e;
  while ((e = g_async_queue_pop (st->early_queue)) != &early_end)
    {
      g_mutex_lock (&st->db_lock);
      if (st->early_error == NULL && !st->in_transaction)
        st->in_transaction = db_exec (st, "BEGIN IMMEDIATE", &st->early_error);
      if (st->early_error == NULL)
        write_group (st, e->key, e->news, &st->n_early, &st->early_error);
      g_mutex_unlock (&st->db_lock);
      galley_fault_point ("ledger-early");
      g_free (e->key);
      input_list_free (e->news);
      g_free (e);
    }
  return NULL;
}

static void
stop_early_writer (GalleyState *st)
{
  if (st->early_thread == NULL)
    return;
  g_async_queue_push (st->early_queue, &early_end);
  g_thread_join (g_steal_pointer (&st->early_thread));
  g_async_queue_unref (g_steal_pointer (&st->early_queue));
}

void
galley_state_record_input (GalleyState *st, const char *stage, const char *key, const GalleyInputState *state)
{
  g_mutex_lock (&st->lock);
  done_set_add (st->done, stage, key, state);
  EarlyGroup *e = NULL;
  if (st->done->left != NULL)
    {
      e = g_new (EarlyGroup, 1);
      e->key = g_steal_pointer (&st->done->left_key);
      e->news = g_steal_pointer (&st->done->left);
      if (st->early_thread == NULL)
        {
          st->early_queue = g_async_queue_new ();
          st->early_thread = g_thread_new ("galley-ledger", early_writer, st);
        }
      g_async_queue_push (st->early_queue, e);
    }
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

/* A file a sink appends to that the ledger does not know yet (the first
 * run that writes it): the length it had when this run first met it is
 * kept in a small file of the state directory, synced before the sink
 * writes anything. A run killed before its commit leaves the mark and the
 * next run cuts the file back to it; the commit records the length in the
 * ledger and removes the mark. */
static char *
mark_path (GalleyState *st, const char *path)
{
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, path, -1);
  return g_strdup_printf ("%s/appending-%.16s", st->dir, sum);
}

/* "LENGTH\tPATH\n", or -1 when @mark is missing, unreadable or of
 * another path */
static gint64
read_mark (const char *mark, const char *path)
{
  g_autofree char *content = NULL;
  gsize n = 0;
  if (!g_file_get_contents (mark, &content, &n, NULL))
    return -1;
  char *end = NULL;
  gint64 v = g_ascii_strtoll (content, &end, 10);
  gsize plen = strlen (path);
  if (end == content || v < 0 || *end != '\t' || n != (gsize) (end - content) + plen + 2
      || memcmp (end + 1, path, plen) != 0 || end[1 + plen] != '\n')
    return -1;
  return v;
}

static gboolean
write_mark (const char *mark, const char *path, gint64 length)
{
  g_autofree char *content = g_strdup_printf ("%" G_GINT64_FORMAT "\t%s\n", length, path);
  g_autofree char *tmp = g_strconcat (mark, ".tmp", NULL);
  gsize len = strlen (content);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return FALSE;
  gboolean ok = write (fd, content, len) == (ssize_t) len && fsync (fd) == 0;
  ok = close (fd) == 0 && ok;
  if (!ok || g_rename (tmp, mark) != 0)
    {
      g_unlink (tmp);
      return FALSE;
    }
  fsync_dir_of (mark);
  return TRUE;
}

/* Where a sink given @committed for @path begins to append: there, or at
 * the end of a file shorter than that (changed by hand). Kept for
 * cut_back_appends(). */
static void
remember_start (GalleyState *st, const char *path, gint64 committed)
{
  struct stat sb;
  gint64 *start = g_new (gint64, 1);
  *start = stat (path, &sb) == 0 ? MIN (committed, (gint64) sb.st_size) : committed;
  g_mutex_lock (&st->lock);
  if (!g_hash_table_contains (st->starts, path))
    g_hash_table_insert (st->starts, g_strdup (path), g_steal_pointer (&start));
  g_mutex_unlock (&st->lock);
  g_free (start);
}

/* A run that does not commit: what its sinks appended is cut off now, so
 * that its rows are not seen until the next run would cut them. */
static void
cut_back_appends (GalleyState *st)
{
  GHashTableIter iter;
  gpointer path, start;
  g_hash_table_iter_init (&iter, st->starts);
  while (g_hash_table_iter_next (&iter, &path, &start))
    {
      gint64 len = *(gint64 *) start;
      int fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
      struct stat sb;
      if (fd < 0 || fstat (fd, &sb) != 0 || !S_ISREG (sb.st_mode) || sb.st_size <= len)
        {
          if (fd >= 0)
            close (fd);
          continue;
        }
      if (ftruncate (fd, len) != 0 || fsync (fd) != 0)
        g_warning ("%s: cannot cut off the %" G_GINT64_FORMAT " bytes of this failed run: %s; the next run will",
                   (const char *) path, (gint64) sb.st_size - len, g_strerror (errno));
      else
        g_message ("%s: removed the %" G_GINT64_FORMAT " bytes this run appended, as it did not commit",
                   (const char *) path, (gint64) sb.st_size - len);
      close (fd);
    }
}

gint64
galley_state_get_file_length (GalleyState *st, const char *path)
{
  gint64 len = -1;
  g_mutex_lock (&st->db_lock);
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2 (st->db, "SELECT length FROM files WHERE path = ?", -1, &stmt, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, path, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        len = sqlite3_column_int64 (stmt, 0);
      sqlite3_finalize (stmt);
    }
  g_mutex_unlock (&st->db_lock);
  g_autofree char *mark = mark_path (st, path);
  if (len >= 0)
    {
      g_unlink (mark);   /* left by a run killed after its commit */
      remember_start (st, path, len);
      return len;
    }
  len = read_mark (mark, path);
  if (len < 0)
    {
      struct stat sb;
      if (stat (path, &sb) != 0)
        return -1;
      if (!write_mark (mark, path, sb.st_size))
        {
          g_warning ("%s: cannot write %s: %s; a run killed before its end may leave rows in it twice", path, mark,
                     g_strerror (errno));
          return -1;
        }
      len = sb.st_size;
    }
  remember_start (st, path, len);
  g_mutex_lock (&st->lock);
  g_ptr_array_add (st->marks, g_steal_pointer (&mark));
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

/* ---- writing inputs -------------------------------------------------------------- */

static gint
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}


static gint
compare_new_inputs (gconstpointer a, gconstpointer b, gpointer user_data G_GNUC_UNUSED)
{
  return strcmp (((const NewInput *) a)->name, ((const NewInput *) b)->name);
}

static guint8 *
varint_to (guint8 *p, guint64 v)
{
  while (v >= 0x80)
    {
      *p++ = (guint8) (v | 0x80);
      v >>= 7;
    }
  *p++ = (guint8) v;
  return p;
}

static guint64
zigzag (gint64 v)
{
  return ((guint64) v << 1) ^ (guint64) (v >> 63);
}

/* The bytes of a part being written. */
typedef struct {
  guint8 *data;
  gsize   len, cap;
} PartBuffer;

/* One entry, encoded in place at the end of @out (a million of them at a
 * first run over a big spool: no call per field). */
static void
append_entry (PartBuffer *out, const char *name, const GalleyInputState *s)
{
  gsize len = strlen (name), need = out->len + 10 + len + 1 + 4 * 10 + 8;
  if (need > out->cap)
    {
      out->cap = MAX (need, out->cap * 2);
      out->data = g_realloc (out->data, out->cap);
    }
  guint8 *p = varint_to (out->data + out->len, len);
  memcpy (p, name, len + 1);
  p += len + 1;
  p = varint_to (p, zigzag (s->size));
  p = varint_to (p, zigzag (s->mtime));
  p = varint_to (p, zigzag (s->offset));
  p = varint_to (p, zigzag (s->lines));
  guint64 le = GUINT64_TO_LE (s->hash);
  memcpy (p, &le, 8);
  out->len = (gsize) (p + 8 - out->data);
}

typedef struct {
  GalleyState  *st;
  sqlite3_stmt *del, *ins;
  const char   *stage, *dir;
  PartBuffer    part;
  guint         in_part, part_no;
} GroupWriter;

static gboolean
flush_part (GroupWriter *w, GError **error)
{
  if (w->in_part == 0)
    return TRUE;
  sqlite3_bind_text (w->ins, 1, w->stage, -1, SQLITE_STATIC);
  sqlite3_bind_text (w->ins, 2, w->dir, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (w->ins, 3, w->part_no++);
  sqlite3_bind_int64 (w->ins, 4, w->in_part);
  sqlite3_bind_blob (w->ins, 5, w->part.data, (int) w->part.len, SQLITE_STATIC);
  sqlite3_bind_int64 (w->ins, 6, w->st->run_id);
  gboolean ok = sqlite3_step (w->ins) == SQLITE_DONE;
  sqlite3_reset (w->ins);
  w->part.len = 0;
  w->in_part = 0;
  return ok || db_error (w->st, error, "cannot record inputs");
}

static gboolean
emit (GroupWriter *w, const char *name, const GalleyInputState *s, GError **error)
{
  append_entry (&w->part, name, s);
  return ++w->in_part < GROUP_PART_ENTRIES || flush_part (w, error);
}

/* Merges @news (sorted by name; they replace recorded entries of the same
 * name) into the recorded group of @stage and @dir and writes it back. */
static gboolean
group_write (GroupWriter *w, InputList *news, GError **error)
{
  g_autoptr(GError) local = NULL;
  LedgerGroup *old = group_load (w->st, w->stage, w->dir, strlen (w->dir), &local);
  if (old == NULL && !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (old == NULL)
    g_warning ("%s; replaced by what this run read", local->message);
  sqlite3_bind_text (w->del, 1, w->stage, -1, SQLITE_STATIC);
  sqlite3_bind_text (w->del, 2, w->dir, -1, SQLITE_STATIC);
  gboolean ok = sqlite3_step (w->del) == SQLITE_DONE;
  sqlite3_reset (w->del);
  if (!ok)
    {
      group_free (old);
      return db_error (w->st, error, "cannot record inputs");
    }
  w->in_part = w->part_no = 0;
  guint i = 0, j = 0, n_old = old != NULL ? old->n : 0;
  while (ok && (i < n_old || j < news->len))
    {
      const NewInput *nw = j < news->len ? &news->v[j] : NULL;
      int c = i == n_old ? 1 : nw == NULL ? -1 : strcmp (entry_name (old, i), nw->name);
      if (c < 0)
        {
          GalleyInputState s;
          entry_state (old, i, &s);
          ok = emit (w, entry_name (old, i), &s, error);
          i++;
        }
      else
        {
          ok = emit (w, nw->name, &nw->state, error);
          i += c == 0;
          j++;
        }
    }
  group_free (old);
  return ok && flush_part (w, error);
}

/* Writes the inputs of @group ("stage\x1fdir") that a run read, @news,
 * into the ledger, merged with what it holds, inside the caller's
 * transaction; adds their number to *@n_inputs. Sorts @news. */
static gboolean
write_group (GalleyState *st, const char *group, InputList *news, gint64 *n_inputs, GError **error)
{
  GroupWriter w = { .st = st };
  if (sqlite3_prepare_v2 (st->db, "DELETE FROM input_groups WHERE stage = ? AND dir = ?", -1, &w.del, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (st->db, "INSERT INTO input_groups VALUES (?, ?, ?, ?, ?, ?)", -1, &w.ins, NULL)
           != SQLITE_OK)
    {
      sqlite3_finalize (w.del);
      return db_error (st, error, "cannot prepare the commit");
    }
  const char *sep = strchr (group, '\x1f');
  g_autofree char *stage = g_strndup (group, sep - group);
  w.stage = stage;
  w.dir = sep + 1;
  /* stable: of an input recorded twice, the later record wins; a
   * directory's files usually come in name order already */
  gboolean increasing = TRUE;
  for (guint i = 1; increasing && i < news->len; i++)
    increasing = strcmp (news->v[i - 1].name, news->v[i].name) < 0;
  guint kept = news->len;
  if (!increasing)
    {
      g_qsort_with_data (news->v, (gint) news->len, sizeof (NewInput), compare_new_inputs, NULL);   /* stable */
      kept = 0;
      for (guint i = 0; i < news->len; i++)
        {
          if (kept > 0 && strcmp (news->v[kept - 1].name, news->v[i].name) == 0)
            kept--;
          news->v[kept++] = news->v[i];
        }
      news->len = kept;
    }
  *n_inputs += kept;
  gboolean ok = group_write (&w, news, error);
  sqlite3_finalize (w.del);
  sqlite3_finalize (w.ins);
  g_free (w.part.data);
  /* a cached copy of the group is out of date now */
  for (guint i = 0; i < GROUP_CACHE && st->groups[i] != NULL; i++)
    if (strcmp (st->groups[i]->stage, stage) == 0 && strcmp (st->groups[i]->dir, w.dir) == 0)
      {
        group_free (st->groups[i]);
        memmove (st->groups + i, st->groups + i + 1, (GROUP_CACHE - i - 1) * sizeof st->groups[0]);
        st->groups[GROUP_CACHE - 1] = NULL;
        break;
      }
  return ok;
}

/* Writes what @done holds into the ledger, inside the caller's transaction;
 * *@n_inputs: how many inputs that was. */
static gboolean
write_inputs (GalleyState *st, DoneSet *done, gint64 *n_inputs, GError **error)
{
  GHashTable *groups = done->groups;
  /* in order: the table grows at its end */
  g_autofree gpointer *names = g_hash_table_get_keys_as_array (groups, NULL);
  guint n_groups = g_hash_table_size (groups);
  qsort (names, n_groups, sizeof (gpointer), compare_keys);
  gboolean ok = TRUE;
  for (guint g = 0; ok && g < n_groups; g++)
    {
      InputList *news = g_hash_table_lookup (groups, names[g]);
      if (news->len > 0)   /* not all written early */
        ok = write_group (st, names[g], news, n_inputs, error);
    }
  return ok;
}

/* ---- commit -------------------------------------------------------------------- */


gboolean
galley_state_commit (GalleyState *st, gint64 docs_in, gint64 docs_out, GError **error)
{
  sqlite3_stmt *ren = NULL, *len = NULL, *run = NULL;
  gboolean ok = FALSE;

  stop_early_writer (st);
  if (st->early_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&st->early_error));
      sqlite3_exec (st->db, "ROLLBACK", NULL, NULL, NULL);
      st->in_transaction = FALSE;
      return FALSE;
    }
  galley_fault_point ("commit-begin");
  if (!st->in_transaction && !db_exec (st, "BEGIN IMMEDIATE", error))
    return FALSE;
  st->in_transaction = TRUE;
  if (sqlite3_prepare_v2 (st->db, "INSERT INTO pending VALUES (?, ?, ?)", -1, &ren, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (st->db, "INSERT OR REPLACE INTO files VALUES (?, ?, ?)", -1, &len, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (st->db, "INSERT INTO runs VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
                                     " 'committed', ?, ?, ?)", -1, &run, NULL) != SQLITE_OK)
    {
      db_error (st, error, "cannot prepare the commit");
      goto out;
    }
  gint64 n_inputs = st->n_early;
  if (!write_inputs (st, st->done, &n_inputs, error))
    goto out;
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
  sqlite3_bind_int64 (run, 5, n_inputs);
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
  sqlite3_finalize (ren);
  sqlite3_finalize (len);
  sqlite3_finalize (run);
  st->in_transaction = FALSE;
  if (!ok)
    {
      sqlite3_exec (st->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }

  /* Committed: from here on a crash is finished by the next run. */
  st->committed = TRUE;
  galley_fault_point ("commit-after-sql");
  for (guint i = 0; i < st->marks->len; i++)
    g_unlink (g_ptr_array_index (st->marks, i));
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
      /* the next run renames only files named so, if this one dies after
       * its commit */
      if (!is_temp_name_of (tmp, final))
        {
          g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID,
                       "cannot commit %s as %s: a temporary file must be named .NAME.tmp-XXXXXX (g_mkstemp) "
                       "beside its target NAME (a bug in the plugin)", tmp, final);
          return FALSE;
        }
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

/* ---- owner marks ---------------------------------------------------------------- */

/* A file that a sink appends to, or a family of files numbered by run
 * (out/news-{run}.jsonl), belongs to one state directory: the ledger of
 * another would take what the first wrote for the tail of an unfinished
 * run and cut it off, or number its files over the first's. The owner is
 * named in .NAME.galley-owner beside it:
 *
 *   galley-owner 1
 *   ledger ID
 *   state-dir /canonical/path/of/the/state/directory
 *
 * A mark of the same ledger, or of the same state directory (removed and
 * made again: a new ledger), is this state directory's; another one's is
 * refused. Removing the mark hands the file over to the next state
 * directory that claims it. */
#define OWNER_MAGIC "galley-owner 1\n"

static char *
owner_mark_path (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_strdup_printf (".%s.galley-owner", base);
  return g_build_filename (dir, name, NULL);
}

/* Parses @content into the ledger id and state directory (owned by the
 * content); FALSE when it is not an owner mark. */
static gboolean
parse_owner_mark (char *content, char **id, char **dir)
{
  if (!g_str_has_prefix (content, OWNER_MAGIC))
    return FALSE;
  *id = *dir = NULL;
  g_auto(GStrv) lines = g_strsplit (content + strlen (OWNER_MAGIC), "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "ledger ") && *id == NULL)
        *id = g_strdup (lines[i] + strlen ("ledger "));
      else if (g_str_has_prefix (lines[i], "state-dir ") && *dir == NULL)
        *dir = g_strdup (lines[i] + strlen ("state-dir "));
    }
  if (*id != NULL && *dir != NULL && **id != '\0' && **dir != '\0')
    return TRUE;
  g_clear_pointer (id, g_free);
  g_clear_pointer (dir, g_free);
  return FALSE;
}

/* Writes this state directory's mark to @mark: in place of an old one
 * when @replace, else only if there is none (FALSE with errno EEXIST
 * then). */
static gboolean
write_owner_mark (GalleyState *st, const char *mark, gboolean replace)
{
  g_autofree char *content = g_strdup_printf (OWNER_MAGIC "ledger %s\nstate-dir %s\n", st->id, st->real_dir);
  g_autofree char *tmpl = g_strconcat (mark, ".tmp-XXXXXX", NULL);
  int fd = g_mkstemp_full (tmpl, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    return FALSE;
  gsize len = strlen (content);
  int e = 0;
  if (write (fd, content, len) != (ssize_t) len || fchmod (fd, 0644) != 0 || fsync (fd) != 0)
    e = errno != 0 ? errno : EIO;
  if (close (fd) != 0 && e == 0)
    e = errno;
  /* link() fails when another run made a mark meanwhile */
  if (e == 0 && (replace ? g_rename (tmpl, mark) : link (tmpl, mark)) != 0)
    e = errno;
  g_unlink (tmpl);
  if (e != 0)
    {
      errno = e;
      return FALSE;
    }
  fsync_dir_of (mark);
  return TRUE;
}

gboolean
galley_state_claim_file (GalleyState *st, const char *path, GError **error)
{
  g_autofree char *mark = owner_mark_path (path);
  g_autofree char *dir = g_path_get_dirname (mark);
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "path: cannot create directory %s: %s",
                   dir, g_strerror (e));
      return FALSE;
    }
  for (guint attempt = 0; attempt < 3; attempt++)
    {
      g_autofree char *content = NULL;
      g_autoptr(GError) local = NULL;
      if (!g_file_get_contents (mark, &content, NULL, &local))
        {
          if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            {
              g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "path: cannot read %s: %s", mark,
                           local->message);
              return FALSE;
            }
          if (write_owner_mark (st, mark, FALSE))
            return TRUE;
          if (errno == EEXIST)
            continue;   /* another run claimed it first: read its mark */
          int e = errno;
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "path: cannot write %s: %s", mark,
                       g_strerror (e));
          return FALSE;
        }
      g_autofree char *id = NULL, *owner = NULL;
      if (!parse_owner_mark (content, &id, &owner))
        {
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                       "path: %s is not a galley owner mark; remove it to let the state directory %s own %s", mark,
                       st->real_dir, path);
          return FALSE;
        }
      gboolean same_ledger = strcmp (id, st->id) == 0, same_dir = strcmp (owner, st->real_dir) == 0;
      if (same_ledger && same_dir)
        return TRUE;
      /* the same ledger in two places: a copy of the state directory,
       * not a move, while the first is still there */
      g_autofree char *owner_ledger = g_build_filename (owner, "ledger.sqlite", NULL);
      if (!same_dir && (!same_ledger || g_file_test (owner_ledger, G_FILE_TEST_EXISTS)))
        {
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                       "path: %s belongs to the state directory %s, and this pipeline's is %s: the runs of one would "
                       "cut off or replace what the other wrote. Give each pipeline its own file, or hand this one "
                       "over by removing %s", path, owner, st->real_dir, mark);
          return FALSE;
        }
      /* the state directory was moved, or removed and made again (the
       * new ledger takes over) */
      if (!write_owner_mark (st, mark, TRUE))
        {
          int e = errno;
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "path: cannot write %s: %s", mark,
                       g_strerror (e));
          return FALSE;
        }
      if (!same_ledger)
        g_message ("%s: now owned by the new ledger of %s", path, st->real_dir);
      return TRUE;
    }
  g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "path: cannot claim %s: %s keeps changing",
               path, mark);
  return FALSE;
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
