/* galley-export-sqlite.c: sink that writes documents, entity mentions and
 * duplicate clusters into a SQLite database, with a full-text index.
 *
 * Documents are upserted by id, so running the same input again replaces
 * rows instead of adding copies. Writes go in one transaction per batch
 * (batch-size documents); every row carries the run that last wrote it, and
 * the `runs` table says whether that run committed. A run that dies leaves
 * its earlier batches marked by a run whose status is not `committed`; the
 * next run marks such runs `aborted` (see docs/export.md).
 *
 * One writer at a time: the run holds an flock on the database file from
 * the first write to the end. SQLite's own locks (other readers and
 * writers) are waited for up to busy-timeout; both give exit status 75.
 *
 * Speed: prepare() turns a document into bound-ready strings on the worker
 * threads; process() only runs prepared statements. Triggers are off on
 * the sink's connection and the full-text index is written directly: a
 * trigger makes SQLite open a savepoint per statement, and FTS5 flushes
 * its pending entries at every savepoint (one index segment per document).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-output.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* "GaLy": marks a database written by this sink. */
#define APPLICATION_ID 0x47614c79
#define SCHEMA_VERSION 2

static const GalleyOptionSpec export_sqlite_options[] = {
  { "path", GALLEY_OPT_STRING, NULL, "Database file; strftime patterns (%Y-%m-%d) and {run} (the run's number, after the highest existing file's) expand at start", NULL },
  { "mkdir", GALLEY_OPT_BOOL, "true", "Create missing parent directories", NULL },
  { "batch-size", GALLEY_OPT_INT, "10000", "Documents per transaction", NULL, .min = "1", .max = "1000000" },
  { "busy-timeout", GALLEY_OPT_DURATION, "5s", "Wait this long for another writer or a locking reader before failing (exit 75)",
    NULL, .max = "1d" },
  { "fsync", GALLEY_OPT_BOOL, "true", "Sync each committed batch to disk (synchronous=FULL); false: synchronous=NORMAL", NULL },
  { "fts", GALLEY_OPT_ENUM, "full", "What the full-text index keeps: full (phrase searches too), column (words per "
    "column), none (words only), off (no index)", "full|column|none|off" },
  { NULL }
};

/* Migrations: step i brings a database from version i to i + 1. */
static const char *const migrations[SCHEMA_VERSION] = {
  /* 0 -> 1 */
  "CREATE TABLE runs ("
  "  run_id INTEGER PRIMARY KEY,"
  "  started TEXT NOT NULL,"
  "  finished TEXT,"
  "  status TEXT NOT NULL CHECK (status IN ('running', 'committed', 'aborted')),"
  "  stage TEXT,"
  "  documents INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE documents ("
  "  doc_id INTEGER PRIMARY KEY,"
  "  id TEXT NOT NULL UNIQUE,"
  "  source TEXT,"
  "  title TEXT,"
  "  author TEXT,"
  "  date TEXT,"
  "  day TEXT,"
  "  url TEXT,"
  "  lang TEXT,"
  "  text TEXT NOT NULL,"
  "  meta TEXT,"
  "  fields TEXT,"
  "  encoding TEXT,"
  "  content_type TEXT,"
  "  run_id INTEGER NOT NULL REFERENCES runs (run_id));"
  "CREATE INDEX documents_day ON documents (day);"
  "CREATE INDEX documents_run ON documents (run_id);"
  "CREATE TABLE entities ("
  "  doc_id INTEGER NOT NULL REFERENCES documents (doc_id),"
  "  seq INTEGER NOT NULL,"
  "  type TEXT NOT NULL,"
  "  text TEXT NOT NULL,"
  "  canonical TEXT NOT NULL,"
  "  char_start INTEGER NOT NULL,"
  "  char_end INTEGER NOT NULL,"
  "  role TEXT,"
  "  PRIMARY KEY (doc_id, seq)) WITHOUT ROWID;"
  "CREATE INDEX entities_canonical ON entities (canonical, type);"
  "CREATE TABLE duplicates ("
  "  doc_id INTEGER PRIMARY KEY REFERENCES documents (doc_id),"
  "  cluster TEXT NOT NULL,"
  "  duplicate_of TEXT,"
  "  similarity REAL);"
  "CREATE INDEX duplicates_cluster ON duplicates (cluster);",
  /* (the full-text index and the triggers come from fts_schema () and
   * delete_trigger ()) */
  /* 1 -> 2: canonical names stored once, mentions point to them by id.
   * The index on an integer instead of the name costs about a third less
   * per mention; `entities` stays as a view with the same columns. */
  "CREATE TABLE names ("
  "  name_id INTEGER PRIMARY KEY,"
  "  type TEXT NOT NULL,"
  "  canonical TEXT NOT NULL,"
  "  UNIQUE (canonical, type));"
  "CREATE TABLE mentions ("
  "  doc_id INTEGER NOT NULL REFERENCES documents (doc_id),"
  "  seq INTEGER NOT NULL,"
  "  name_id INTEGER NOT NULL REFERENCES names (name_id),"
  "  text TEXT NOT NULL,"
  "  char_start INTEGER NOT NULL,"
  "  char_end INTEGER NOT NULL,"
  "  role TEXT,"
  "  PRIMARY KEY (doc_id, seq)) WITHOUT ROWID;"
  "INSERT INTO names (type, canonical) SELECT DISTINCT type, canonical FROM entities ORDER BY canonical, type;"
  "INSERT INTO mentions SELECT e.doc_id, e.seq, n.name_id, e.text, e.char_start, e.char_end, e.role"
  "  FROM entities e JOIN names n ON n.canonical = e.canonical AND n.type = e.type;"
  "CREATE INDEX mentions_name ON mentions (name_id);"
  "DROP TRIGGER IF EXISTS documents_ad;"
  "DROP TABLE entities;"
  "CREATE VIEW entities (doc_id, seq, type, text, canonical, char_start, char_end, role) AS"
  "  SELECT m.doc_id, m.seq, n.type, m.text, n.canonical, m.char_start, m.char_end, m.role"
  "  FROM mentions m JOIN names n ON n.name_id = m.name_id;",
};

enum { ST_FIND, ST_INSERT_DOC, ST_UPDATE_DOC, ST_FTS_INSERT, ST_FTS_DELETE, ST_DEL_ENTITIES, ST_DEL_DUP, ST_DUP,
       ST_RUN_COUNT, ST_NAME_FIND, ST_NAME_INSERT, N_STATEMENTS };

/* Parameters ?1..?13 are the columns in the order of the COL_ enum below,
 * ?14 the run, ?15 the row to update. */
static const char *const statements[N_STATEMENTS] = {
  [ST_FIND] = "SELECT doc_id, title, text FROM documents WHERE id = ?1",
  [ST_INSERT_DOC] =
    "INSERT INTO documents (id, source, title, author, date, day, url, lang, text, meta, fields,"
    " encoding, content_type, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
  [ST_UPDATE_DOC] =
    "UPDATE documents SET source = ?2, title = ?3, author = ?4, date = ?5, day = ?6, url = ?7, lang = ?8,"
    " text = ?9, meta = ?10, fields = ?11, encoding = ?12, content_type = ?13, run_id = ?14 WHERE doc_id = ?15",
  [ST_FTS_INSERT] = "INSERT INTO documents_fts (rowid, title, text) VALUES (?1, ?2, ?3)",
  [ST_FTS_DELETE] = "INSERT INTO documents_fts (documents_fts, rowid, title, text) VALUES ('delete', ?1, ?2, ?3)",
  [ST_DEL_ENTITIES] = "DELETE FROM mentions WHERE doc_id = ?1",
  [ST_DEL_DUP] = "DELETE FROM duplicates WHERE doc_id = ?1",
  [ST_DUP] = "INSERT INTO duplicates (doc_id, cluster, duplicate_of, similarity) VALUES (?1, ?2, ?3, ?4)",
  [ST_RUN_COUNT] = "UPDATE runs SET documents = ?2 WHERE run_id = ?1",
  [ST_NAME_FIND] = "SELECT name_id FROM names WHERE canonical = ?2 AND type = ?1",
  [ST_NAME_INSERT] = "INSERT INTO names (type, canonical) VALUES (?1, ?2)",
};

/* Entity rows go in with one statement per ENTITY_ROWS rows. OR IGNORE
 * keeps the statement free of a statement journal: a statement that may
 * abort halfway through several rows opens a savepoint, and FTS5 writes
 * its pending entries at every savepoint. Nothing is ignored in practice:
 * the values are never NULL and the (doc_id, seq) rows were deleted. */
#define ENTITY_ROWS 16
#define ENTITY_COLS 7

/* Name ids kept in memory (type, canonical -> names.name_id); emptied
 * when it holds this many, and after a failed write. */
#define MAX_CACHED_NAMES 500000

/* The fts option: what the full-text index keeps. */
typedef enum { FTS_FULL, FTS_COLUMN, FTS_NONE, FTS_OFF } FtsMode;
static const char *const fts_names[] = { "full", "column", "none", "off" };

typedef struct {
  char         *path;
  char         *stage_id;
  gboolean      do_mkdir;
  gboolean      do_fsync;
  gint64        batch_size;
  GTimeSpan     busy_timeout;
  int           lock_fd;
  sqlite3      *db;
  sqlite3_stmt *st[N_STATEMENTS];
  sqlite3_stmt *entity_st[ENTITY_ROWS + 1];   /* [k]: insert k entity rows, made when first needed */
  gint64        run_id;        /* 0 until the run is recorded */
  gboolean      in_txn;
  gboolean      finished;
  gint64        in_batch;
  gint64        docs;
  gint64        entities;
  gint64        batches;
  FtsMode       fts;
  GHashTable   *names;         /* see name_id (): type, canonical -> name_id (gint64 *) */
  GString      *name_key;
} ExportSqlite;

/* ---- errors ------------------------------------------------------------ */

static gboolean
db_error (ExportSqlite *self, GError **error, int rc, const char *what)
{
  const char *msg = self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc);
  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "%s is locked by another connection (waited %.1f s, see busy-timeout); try again later",
                   self->path, self->busy_timeout / 1e6);
      break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "%s: %s: %s", self->path, what, msg);
      break;
    case SQLITE_FULL:
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE,
                   "%s: %s: disk full; batches committed before are kept", self->path, what);
      break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE,
                   "%s is not a usable SQLite database (%s); it was not changed", self->path, msg);
      break;
    default:
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "%s: %s: %s", self->path, what, msg);
      break;
    }
  return FALSE;
}

static gboolean
exec (ExportSqlite *self, const char *sql, GError **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return db_error (self, error, rc, sql);
  return TRUE;
}

static gint64
pragma_int (ExportSqlite *self, const char *sql, int *rc)
{
  sqlite3_stmt *st = NULL;
  gint64 v = 0;
  *rc = sqlite3_prepare_v2 (self->db, sql, -1, &st, NULL);
  if (*rc == SQLITE_OK)
    {
      *rc = sqlite3_step (st);
      if (*rc == SQLITE_ROW)
        {
          v = sqlite3_column_int64 (st, 0);
          *rc = SQLITE_OK;
        }
    }
  sqlite3_finalize (st);
  return v;
}

static char *
now_iso8601 (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

/* ---- schema ------------------------------------------------------------ */

/* Checks the schema of an open database. With @migrate, creates or
 * upgrades it (inside the caller's write transaction). */
static gboolean
check_schema (ExportSqlite *self, gboolean migrate, GError **error)
{
  int rc;
  gint64 app = pragma_int (self, "PRAGMA application_id", &rc);
  if (rc != SQLITE_OK)
    return db_error (self, error, rc, "cannot read the schema version");
  gint64 version = pragma_int (self, "PRAGMA user_version", &rc);
  if (rc != SQLITE_OK)
    return db_error (self, error, rc, "cannot read the schema version");
  gint64 objects = pragma_int (self, "SELECT count(*) FROM sqlite_schema", &rc);
  if (rc != SQLITE_OK)
    return db_error (self, error, rc, "cannot read the schema");
  if (app != APPLICATION_ID && (objects > 0 || version != 0))
    {
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE,
                   "%s is a SQLite database of another program (application id %" G_GINT64_FORMAT "); it was not changed",
                   self->path, app);
      return FALSE;
    }
  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "%s has schema version %" G_GINT64_FORMAT ", newer than the %d this galley-export-sqlite "
                   "knows; use a newer galley or another file (it was not changed)",
                   self->path, version, SCHEMA_VERSION);
      return FALSE;
    }
  if (!migrate)
    return TRUE;
  for (gint64 v = version; v < SCHEMA_VERSION; v++)
    {
      if (!exec (self, migrations[v], error))
        {
          g_prefix_error (error, "migrating the schema from version %" G_GINT64_FORMAT ": ", v);
          return FALSE;
        }
      g_autofree char *set = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT, v + 1);
      if (!exec (self, set, error))
        return FALSE;
    }
  if (app != APPLICATION_ID)
    return exec (self, "PRAGMA application_id = " G_STRINGIFY (APPLICATION_ID), error);
  return TRUE;
}

/* The full-text index of @mode and the triggers that keep it in step for
 * programs other than this sink (which writes it itself, see
 * write_document ()). */
static char *
fts_schema (FtsMode mode)
{
  GString *sql = g_string_new ("DROP TRIGGER IF EXISTS documents_ai; DROP TRIGGER IF EXISTS documents_au;"
                               "DROP TRIGGER IF EXISTS documents_ad; DROP TABLE IF EXISTS documents_fts;");
  if (mode != FTS_OFF)
    g_string_append_printf (sql,
                            "CREATE VIRTUAL TABLE documents_fts USING fts5 (title, text, content='documents',"
                            " content_rowid='doc_id', tokenize='unicode61 remove_diacritics 2'%s);"
                            "CREATE TRIGGER documents_ai AFTER INSERT ON documents BEGIN"
                            "  INSERT INTO documents_fts (rowid, title, text) VALUES (new.doc_id, new.title, new.text);"
                            " END;"
                            "CREATE TRIGGER documents_au AFTER UPDATE OF title, text ON documents BEGIN"
                            "  INSERT INTO documents_fts (documents_fts, rowid, title, text)"
                            " VALUES ('delete', old.doc_id, old.title, old.text);"
                            "  INSERT INTO documents_fts (rowid, title, text) VALUES (new.doc_id, new.title, new.text);"
                            " END;",
                            mode == FTS_COLUMN ? ", detail=column" : mode == FTS_NONE ? ", detail=none" : "");
  if (mode != FTS_OFF)
    g_string_append (sql, "INSERT INTO documents_fts (documents_fts) VALUES ('rebuild');");
  return g_string_free (sql, FALSE);
}

/* The trigger that deletes a deleted document's index entry, mentions and
 * duplicate row, for programs other than this sink; made again at every
 * start (it depends on the fts mode and on the schema version). */
static gboolean
delete_trigger (ExportSqlite *self, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("DROP TRIGGER IF EXISTS documents_ad;"
                                          "CREATE TRIGGER documents_ad AFTER DELETE ON documents BEGIN%s"
                                          "  DELETE FROM mentions WHERE doc_id = old.doc_id;"
                                          "  DELETE FROM duplicates WHERE doc_id = old.doc_id;"
                                          " END;",
                                          self->fts == FTS_OFF ? ""
                                          : "  INSERT INTO documents_fts (documents_fts, rowid, title, text)"
                                            " VALUES ('delete', old.doc_id, old.title, old.text);");
  return exec (self, sql, error);
}

/* FTS5 settings, kept in documents_fts_config (so they hold for every
 * writer). automerge 16 instead of 4: segments are merged when 16 of a
 * size exist, so each entry is rewritten fewer times as the index grows
 * (about 20 % less time at 100,000 documents; a search reads a few more
 * segments; 'optimize' merges them all). hashsize 32 MB: a batch's pending
 * entries are written as one segment instead of one per megabyte. */
static gboolean
fts_tune (ExportSqlite *self, GError **error)
{
  if (self->fts == FTS_OFF)
    return TRUE;
  return exec (self, "INSERT INTO documents_fts (documents_fts, rank) VALUES ('automerge', 16);"
                     "INSERT INTO documents_fts (documents_fts, rank) VALUES ('hashsize', 33554432)", error);
}

/* Makes the database's full-text index the one the fts option asks for
 * (inside the caller's write transaction); a change rebuilds it from the
 * stored texts. */
static gboolean
sync_fts (ExportSqlite *self, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (self->db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'documents_fts'",
                               -1, &st, NULL);
  FtsMode have = FTS_OFF;
  if (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *sql = (const char *) sqlite3_column_text (st, 0);
      have = sql == NULL ? FTS_FULL : strstr (sql, "detail=column") ? FTS_COLUMN
             : strstr (sql, "detail=none") ? FTS_NONE : FTS_FULL;
      rc = SQLITE_DONE;
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return db_error (self, error, rc, "cannot read the schema");
  if (have == self->fts)
    return delete_trigger (self, error) && fts_tune (self, error);
  gint64 docs = pragma_int (self, "SELECT count(*) FROM documents", &rc);
  if (rc != SQLITE_OK)
    return db_error (self, error, rc, "cannot read the schema");
  if (docs > 0)
    g_message ("stage '%s': %s: changing the full-text index from fts=%s to fts=%s for %" G_GINT64_FORMAT " documents",
               self->stage_id, self->path, fts_names[have], fts_names[self->fts], docs);
  g_autofree char *sql = fts_schema (self->fts);
  if (!exec (self, sql, error))
    {
      g_prefix_error (error, "changing the full-text index: ");
      return FALSE;
    }
  return delete_trigger (self, error) && fts_tune (self, error);
}

static gboolean
open_db (ExportSqlite *self, int flags, GError **error)
{
  int rc = sqlite3_open_v2 (self->path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    return db_error (self, error, rc, "cannot open");
  sqlite3_extended_result_codes (self->db, 1);
  /* This connection writes index entries and child rows itself. */
  sqlite3_db_config (self->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
  sqlite3_busy_timeout (self->db, (int) MIN (self->busy_timeout / 1000, G_MAXINT));
  return TRUE;
}

static void
close_db (ExportSqlite *self)
{
  for (guint i = 0; i < N_STATEMENTS; i++)
    g_clear_pointer (&self->st[i], sqlite3_finalize);
  for (guint i = 0; i <= ENTITY_ROWS; i++)
    g_clear_pointer (&self->entity_st[i], sqlite3_finalize);
  if (self->db != NULL)
    {
      sqlite3_close (self->db);
      self->db = NULL;
    }
}

/* ---- lifecycle --------------------------------------------------------- */

static void
export_sqlite_free (gpointer data)
{
  ExportSqlite *self = data;
  if (self == NULL)
    return;
  if (self->db != NULL && !self->finished)
    {
      if (self->in_txn)
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      if (self->run_id > 0)
        {
          sqlite3_stmt *st = NULL;
          g_autofree char *now = now_iso8601 ();
          if (sqlite3_prepare_v2 (self->db, "UPDATE runs SET status = 'aborted', finished = ?2 WHERE run_id = ?1",
                                  -1, &st, NULL) == SQLITE_OK)
            {
              sqlite3_bind_int64 (st, 1, self->run_id);
              sqlite3_bind_text (st, 2, now, -1, SQLITE_STATIC);
              if (sqlite3_step (st) != SQLITE_DONE)
                g_warning ("%s: cannot mark run %" G_GINT64_FORMAT " as aborted: %s", self->path, self->run_id,
                           sqlite3_errmsg (self->db));
            }
          sqlite3_finalize (st);
          if (self->batches > 0)
            g_warning ("stage '%s': %s keeps %" G_GINT64_FORMAT " batches of the failed run %" G_GINT64_FORMAT
                       " (its documents have runs.status 'aborted')", self->stage_id, self->path, self->batches,
                       self->run_id);
        }
    }
  close_db (self);
  if (self->lock_fd >= 0)
    close (self->lock_fd);   /* after sqlite3_close: closing drops this process's POSIX locks on the file */
  g_clear_pointer (&self->names, g_hash_table_unref);
  if (self->name_key != NULL)
    g_string_free (self->name_key, TRUE);
  g_free (self->path);
  g_free (self->stage_id);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExportSqlite, export_sqlite_free)

static gpointer
export_sqlite_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(ExportSqlite) self = g_new0 (ExportSqlite, 1);
  self->lock_fd = -1;
  self->stage_id = g_strdup (galley_stage_context_get_id (ctx));
  self->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->name_key = g_string_new (NULL);
  self->do_mkdir = galley_options_get_bool (opts, "mkdir");
  self->do_fsync = galley_options_get_bool (opts, "fsync");
  self->batch_size = galley_options_get_int (opts, "batch-size");
  self->busy_timeout = galley_options_get_duration (opts, "busy-timeout");
  const char *fts = galley_options_get_enum (opts, "fts");
  for (self->fts = FTS_FULL; self->fts < FTS_OFF && !g_str_equal (fts, fts_names[self->fts]); self->fts++)
    ;
  const char *path = galley_options_get_string (opts, "path");
  if (*path == '\0' || g_str_equal (path, "-"))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "path: give a database file name (standard output is not possible)");
      return NULL;
    }
  self->path = galley_output_expand_path (path, galley_stage_context_get_run_id (ctx), error);
  /* a database is a regular file: a FIFO or device is refused, a symbolic
   * link to a database is followed */
  if (self->path == NULL
      || !galley_output_check_target (ctx, self->path, self->do_mkdir ? GALLEY_OUTPUT_MKDIR : GALLEY_OUTPUT_FLAGS_NONE,
                                      GALLEY_OUTPUT_STREAMS_NEVER, NULL, error))
    return NULL;
  if (g_file_test (self->path, G_FILE_TEST_EXISTS))
    {
      /* Refuse a newer or foreign database now (also under `galley check`);
       * write nothing. */
      if (access (self->path, R_OK | W_OK) != 0)
        {
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "path: cannot write %s: %s",
                       self->path, g_strerror (errno));
          return NULL;
        }
      GError *local = NULL;
      gboolean ok = open_db (self, SQLITE_OPEN_READONLY, &local) && check_schema (self, FALSE, &local);
      int xrc = self->db != NULL ? sqlite3_extended_errcode (self->db) : SQLITE_OK;
      close_db (self);
      /* A run killed while it wrote left a journal that only a writer
       * can roll back: the check is made when the run opens the database
       * for writing, after the rollback. */
      if (!ok && (xrc == SQLITE_READONLY_ROLLBACK || xrc == SQLITE_READONLY_RECOVERY))
        g_clear_error (&local);
      else if (!ok)
        {
          g_propagate_error (error, local);
          return NULL;
        }
    }
  return g_steal_pointer (&self);
}

/* Takes the writer lock, waiting up to busy-timeout. */
static gboolean
lock_file (ExportSqlite *self, GError **error)
{
  int fd = open (self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    return galley_output_set_io_error (error, errno, errno == EACCES || errno == EROFS || errno == ENOENT ? "cannot create" : "cannot open",
                            self->path);
  gint64 deadline = g_get_monotonic_time () + self->busy_timeout;
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
                         "%s is being written by another run (waited %.1f s, see busy-timeout); try again when it has finished",
                         self->path, self->busy_timeout / 1e6);
          else
            galley_output_set_io_error (error, e, "cannot lock", self->path);
          return FALSE;
        }
      g_usleep (50 * 1000);
    }
  self->lock_fd = fd;
  return TRUE;
}

static gboolean
open_for_writing (ExportSqlite *self, GError **error)
{
  if ((self->do_mkdir && !galley_output_make_parent (self->path, error)) || !lock_file (self, error))
    return FALSE;
  /* checked before anything is set: a database refused (another
   * program's, or a newer schema) is left as it was */
  if (!open_db (self, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error) || !check_schema (self, FALSE, error))
    return FALSE;
  /* Larger pages for a new database: a 2-3 KB text fits in a 16 KB page
   * instead of spilling into an overflow page, and fewer pages go through
   * the WAL (about 20 % less time and space). Ignored for an existing one. */
  if (!exec (self, "PRAGMA page_size = 16384", error))
    return FALSE;
  if (!exec (self, "PRAGMA journal_mode = WAL", error)
      || !exec (self, self->do_fsync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", error)
      || !exec (self, "PRAGMA cache_size = -65536", error)
      || !exec (self, "PRAGMA temp_store = MEMORY", error))
    return FALSE;

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  self->in_txn = TRUE;
  if (!check_schema (self, TRUE, error) || !sync_fts (self, error))
    return FALSE;


  /* We hold the writer lock, so a run still marked running is dead. */
  g_autofree char *now = now_iso8601 ();
  g_autofree char *sql = sqlite3_mprintf ("UPDATE runs SET status = 'aborted' WHERE status = 'running';"
                                          "INSERT INTO runs (started, status, stage) VALUES (%Q, 'running', %Q)",
                                          now, self->stage_id);
  gboolean ok = exec (self, sql, error);
  sqlite3_free (g_steal_pointer (&sql));
  if (!ok)
    return FALSE;
  self->run_id = sqlite3_last_insert_rowid (self->db);
  if (!exec (self, "COMMIT", error))
    return FALSE;
  self->in_txn = FALSE;
  for (guint i = 0; i < N_STATEMENTS; i++)
    {
      if (self->fts == FTS_OFF && (i == ST_FTS_INSERT || i == ST_FTS_DELETE))
        continue;
      int rc = sqlite3_prepare_v3 (self->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &self->st[i], NULL);
      if (rc != SQLITE_OK)
        return db_error (self, error, rc, "cannot prepare a statement");
    }
  return TRUE;
}

/* ---- writing ----------------------------------------------------------- */

/* What process() writes for one document, made by prepare() on a worker
 * thread: every string is valid UTF-8 without NUL (repaired copies where
 * needed), JSON already serialised, entities flattened. Strings point into
 * the document, which nothing changes between prepare() and process(), or
 * into @owned. */
typedef struct {
  const char *s;   /* NULL: SQL NULL */
  int         len;
} Str;

enum { COL_ID, COL_SOURCE, COL_TITLE, COL_AUTHOR, COL_DATE, COL_DAY, COL_URL, COL_LANG, COL_TEXT, COL_META,
       COL_FIELDS, COL_ENCODING, COL_CONTENT_TYPE, N_COLS };

typedef struct {
  Str    type, text, canonical, role;
  gint64 start, end;
} EntityRow;

typedef struct {
  Str        col[N_COLS];
  EntityRow *entities;
  guint      n_entities;
  gboolean   has_cluster;
  Str        cluster, duplicate_of;
  gboolean   has_similarity;
  double     similarity;
  GPtrArray *owned;       /* repaired strings and JSON texts; NULL until needed */
} DocRow;

static void
doc_row_free (gpointer data)
{
  DocRow *row = data;
  g_free (row->entities);
  if (row->owned != NULL)
    g_ptr_array_unref (row->owned);
  g_free (row);
}

static char *
doc_row_own (DocRow *row, char *s)
{
  if (row->owned == NULL)
    row->owned = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (row->owned, s);
  return s;
}

/* A string that may hold NULs or invalid UTF-8 (metadata, annotation
 * attributes): as it is, or a copy with U+FFFD for each bad byte. */
static Str
clean_str (DocRow *row, const char *s, gsize len)
{
  if (s == NULL)
    return (Str) { NULL, 0 };
  const char *end;
  if (len > G_MAXINT / 3)
    len = G_MAXINT / 3;
  if (galley_utf8_validate (s, len, &end))
    return (Str) { s, (int) len };
  GString *out = g_string_sized_new (len + 8);
  while (len > 0 && !galley_utf8_validate (s, len, &end))
    {
      g_string_append_len (out, s, end - s);
      g_string_append (out, "\xEF\xBF\xBD");
      len -= (end - s) + 1;
      s = end + 1;
    }
  g_string_append_len (out, s, len);
  Str r = { NULL, (int) out->len };
  r.s = doc_row_own (row, g_string_free (out, FALSE));
  return r;
}

static Str
json_str (DocRow *row, json_object *v)
{
  const char *json = json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  char *copy = doc_row_own (row, g_strdup (json));
  return (Str) { copy, (int) strlen (copy) };
}

/* meta[key]: a string as it is; a number or a list (several authors) as
 * its JSON text; NULL when missing or null. */
static Str
meta_str (DocRow *row, json_object *meta, const char *key)
{
  json_object *v = NULL;
  if (!json_object_object_get_ex (meta, key, &v) || v == NULL)
    return (Str) { NULL, 0 };
  if (json_object_is_type (v, json_type_string))
    return clean_str (row, json_object_get_string (v), json_object_get_string_len (v));
  return json_str (row, v);
}

/* The calendar day of meta.date when it starts with YYYY-MM-DD. */
static Str
day_str (json_object *meta)
{
  json_object *v = NULL;
  const char *d;
  if (json_object_object_get_ex (meta, "date", &v) && json_object_is_type (v, json_type_string)
      && json_object_get_string_len (v) >= 10 && (d = json_object_get_string (v)) != NULL
      && g_ascii_isdigit (d[0]) && g_ascii_isdigit (d[1]) && g_ascii_isdigit (d[2]) && g_ascii_isdigit (d[3])
      && d[4] == '-' && g_ascii_isdigit (d[5]) && g_ascii_isdigit (d[6]) && d[7] == '-'
      && g_ascii_isdigit (d[8]) && g_ascii_isdigit (d[9]) && (d[10] == '\0' || !g_ascii_isdigit (d[10])))
    return (Str) { d, 10 };
  return (Str) { NULL, 0 };
}

/* Runs on worker threads: reads nothing of the state but constants. */
static GalleyVerdict
export_sqlite_prepare (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  DocRow *row = g_new0 (DocRow, 1);
  json_object *meta = galley_document_get_meta (doc);
  json_object *fields = galley_document_get_fields (doc);
  const char *id = galley_document_get_id (doc);
  const char *source = galley_document_get_source (doc);
  gsize text_len;
  const char *text = galley_document_get_text (doc, &text_len);   /* valid UTF-8 without NUL */
  row->col[COL_ID] = clean_str (row, id, strlen (id));
  row->col[COL_SOURCE] = clean_str (row, source, source ? strlen (source) : 0);
  row->col[COL_TITLE] = meta_str (row, meta, "title");
  row->col[COL_AUTHOR] = meta_str (row, meta, "author");
  row->col[COL_DATE] = meta_str (row, meta, "date");
  row->col[COL_DAY] = day_str (meta);
  row->col[COL_URL] = meta_str (row, meta, "url");
  row->col[COL_LANG] = meta_str (row, meta, "lang");
  row->col[COL_TEXT] = (Str) { text, (int) MIN (text_len, (gsize) G_MAXINT) };
  if (json_object_object_length (meta) > 0)
    row->col[COL_META] = json_str (row, meta);
  if (json_object_object_length (fields) > 0)
    row->col[COL_FIELDS] = json_str (row, fields);
  const char *enc = galley_document_get_encoding (doc);
  if (enc != NULL)
    row->col[COL_ENCODING] = clean_str (row, enc, strlen (enc));
  GalleyContentType ct = galley_document_get_content_type (doc);
  if (ct != GALLEY_CONTENT_UNKNOWN)
    {
      const char *cts = galley_content_type_to_string (ct);
      row->col[COL_CONTENT_TYPE] = (Str) { cts, (int) strlen (cts) };
    }

  guint n = galley_document_get_n_annotations (doc);
  row->entities = n > 0 ? g_new (EntityRow, n) : NULL;
  for (guint i = 0; i < n; i++)
    {
      const GalleyAnnotation *a = galley_document_get_annotation (doc, i);
      if (a->layer == NULL || !g_str_equal (a->layer, "entities") || a->type == NULL || a->text == NULL)
        continue;
      EntityRow *e = &row->entities[row->n_entities++];
      json_object *role = NULL;
      e->type = clean_str (row, a->type, strlen (a->type));
      e->text = (Str) { a->text, (int) strlen (a->text) };   /* copied from the text: valid UTF-8 */
      e->canonical = a->canonical != NULL && *a->canonical ? clean_str (row, a->canonical, strlen (a->canonical)) : e->text;
      e->start = a->start;
      e->end = a->end;
      if (a->attrs != NULL && json_object_object_get_ex (a->attrs, "role", &role)
          && json_object_is_type (role, json_type_string))
        e->role = clean_str (row, json_object_get_string (role), json_object_get_string_len (role));
      else
        e->role = (Str) { NULL, 0 };
    }

  json_object *dedup = NULL, *cluster = NULL, *dup_of = NULL, *sim = NULL;
  if (json_object_object_get_ex (fields, "dedup", &dedup) && json_object_is_type (dedup, json_type_object)
      && json_object_object_get_ex (dedup, "cluster", &cluster) && !json_object_is_type (cluster, json_type_null))
    {
      row->has_cluster = TRUE;
      if (json_object_is_type (cluster, json_type_string))
        row->cluster = clean_str (row, json_object_get_string (cluster), json_object_get_string_len (cluster));
      else
        row->cluster = json_str (row, cluster);
      if (json_object_object_get_ex (dedup, "duplicate_of", &dup_of) && json_object_is_type (dup_of, json_type_string))
        row->duplicate_of = clean_str (row, json_object_get_string (dup_of), json_object_get_string_len (dup_of));
      if (json_object_object_get_ex (dedup, "similarity", &sim)
          && (json_object_is_type (sim, json_type_double) || json_object_is_type (sim, json_type_int)))
        {
          row->has_similarity = TRUE;
          row->similarity = json_object_get_double (sim);
        }
    }
  galley_document_set_stage_data (doc, ctx, row, doc_row_free);
  return GALLEY_VERDICT_KEEP;
}

static void
bind_str (sqlite3_stmt *st, int col, Str s)
{
  if (s.s == NULL)
    sqlite3_bind_null (st, col);
  else
    sqlite3_bind_text (st, col, s.s, s.len, SQLITE_STATIC);
}

static gboolean
step_done (ExportSqlite *self, sqlite3_stmt *st, GError **error)
{
  int rc = sqlite3_step (st);
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return db_error (self, error, rc, "cannot write");
  return TRUE;
}

static gboolean
commit_batch (ExportSqlite *self, gboolean last, GError **error)
{
  sqlite3_stmt *st = self->st[ST_RUN_COUNT];
  sqlite3_bind_int64 (st, 1, self->run_id);
  sqlite3_bind_int64 (st, 2, self->docs);
  if (!step_done (self, st, error))
    return FALSE;
  if (last)
    {
      g_autofree char *now = now_iso8601 ();
      g_autofree char *sql = sqlite3_mprintf ("UPDATE runs SET status = 'committed', finished = %Q WHERE run_id = %lld",
                                              now, (long long) self->run_id);
      gboolean ok = exec (self, sql, error);
      sqlite3_free (g_steal_pointer (&sql));
      if (!ok)
        return FALSE;
    }
  if (!exec (self, "COMMIT", error))
    return FALSE;
  self->in_txn = FALSE;
  self->in_batch = 0;
  self->batches++;
  return TRUE;
}

static sqlite3_stmt *
entity_statement (ExportSqlite *self, guint k, GError **error)
{
  if (self->entity_st[k] != NULL)
    return self->entity_st[k];
  g_autoptr(GString) sql = g_string_new ("INSERT OR IGNORE INTO mentions (doc_id, seq, name_id, text, char_start,"
                                         " char_end, role) VALUES ");
  for (guint j = 0; j < k; j++)
    g_string_append (sql, j == 0 ? "(?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?)");
  int rc = sqlite3_prepare_v3 (self->db, sql->str, -1, SQLITE_PREPARE_PERSISTENT, &self->entity_st[k], NULL);
  if (rc != SQLITE_OK)
    {
      db_error (self, error, rc, "cannot prepare a statement");
      return NULL;
    }
  return self->entity_st[k];
}

/* The names row of (@type, @canonical), made when new. */
static gboolean
name_id (ExportSqlite *self, Str type, Str canonical, gint64 *id, GError **error)
{
  /* the key: the type's length + 1 in one byte, the type, the name (no
   * separator a type could contain); a type of 255 bytes or more is not
   * cached */
  gboolean cache = type.len < 255;
  g_string_truncate (self->name_key, 0);
  g_string_append_c (self->name_key, (char) (type.len + 1));
  g_string_append_len (self->name_key, type.s, type.len);
  g_string_append_len (self->name_key, canonical.s, canonical.len);
  gint64 *cached = cache ? g_hash_table_lookup (self->names, self->name_key->str) : NULL;
  if (cached != NULL)
    {
      *id = *cached;
      return TRUE;
    }
  sqlite3_stmt *st = self->st[ST_NAME_FIND];
  bind_str (st, 1, type);
  bind_str (st, 2, canonical);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *id = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  if (rc == SQLITE_DONE)
    {
      st = self->st[ST_NAME_INSERT];
      bind_str (st, 1, type);
      bind_str (st, 2, canonical);
      if (!step_done (self, st, error))
        return FALSE;
      *id = sqlite3_last_insert_rowid (self->db);
    }
  else if (rc != SQLITE_ROW)
    return db_error (self, error, rc, "cannot read a name");
  if (!cache)
    return TRUE;
  if (g_hash_table_size (self->names) >= MAX_CACHED_NAMES)
    g_hash_table_remove_all (self->names);
  g_hash_table_insert (self->names, g_strdup (self->name_key->str), g_memdup2 (id, sizeof *id));
  return TRUE;
}

/* Writes one document. Triggers are off on this connection (they would
 * make SQLite wrap every statement in a savepoint, and FTS5 writes its
 * pending index data at each savepoint): the index entries and child rows
 * are written here, as the triggers would for other programs. */
static gboolean
write_document (ExportSqlite *self, const DocRow *row, GError **error)
{
  sqlite3_stmt *st = self->st[ST_FIND];
  gint64 doc_id = 0;
  bind_str (st, 1, row->col[COL_ID]);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      /* sent again: take the old text out of the index first */
      doc_id = sqlite3_column_int64 (st, 0);
      if (self->fts != FTS_OFF)
        {
          sqlite3_stmt *del = self->st[ST_FTS_DELETE];
          sqlite3_bind_int64 (del, 1, doc_id);
          sqlite3_bind_value (del, 2, sqlite3_column_value (st, 1));
          sqlite3_bind_value (del, 3, sqlite3_column_value (st, 2));
          rc = sqlite3_step (del);
          sqlite3_reset (del);
          if (rc != SQLITE_DONE)
            {
              sqlite3_reset (st);
              return db_error (self, error, rc, "cannot update the full-text index");
            }
        }
      rc = SQLITE_DONE;
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return db_error (self, error, rc, "cannot read a document");

  st = self->st[doc_id > 0 ? ST_UPDATE_DOC : ST_INSERT_DOC];
  for (int c = 0; c < N_COLS; c++)
    bind_str (st, c + 1, row->col[c]);
  sqlite3_bind_int64 (st, N_COLS + 1, self->run_id);
  if (doc_id > 0)
    sqlite3_bind_int64 (st, N_COLS + 2, doc_id);
  if (!step_done (self, st, error))
    return FALSE;
  gboolean is_new = doc_id == 0;
  if (is_new)
    doc_id = sqlite3_last_insert_rowid (self->db);

  if (self->fts != FTS_OFF)
    {
      st = self->st[ST_FTS_INSERT];
      sqlite3_bind_int64 (st, 1, doc_id);
      bind_str (st, 2, row->col[COL_TITLE]);
      bind_str (st, 3, row->col[COL_TEXT]);
      if (!step_done (self, st, error))
        return FALSE;
    }

  /* A new row has no entity or duplicate rows yet (deleting a document
   * deletes them, see the documents_ad trigger). */
  if (!is_new)
    {
      st = self->st[ST_DEL_ENTITIES];
      sqlite3_bind_int64 (st, 1, doc_id);
      if (!step_done (self, st, error))
        return FALSE;
      st = self->st[ST_DEL_DUP];
      sqlite3_bind_int64 (st, 1, doc_id);
      if (!step_done (self, st, error))
        return FALSE;
    }
  for (guint i = 0; i < row->n_entities; i += ENTITY_ROWS)
    {
      guint k = MIN (row->n_entities - i, ENTITY_ROWS);
      if (!(st = entity_statement (self, k, error)))
        return FALSE;
      for (guint j = 0; j < k; j++)
        {
          const EntityRow *e = &row->entities[i + j];
          int p = j * ENTITY_COLS;
          gint64 name = 0;
          if (!name_id (self, e->type, e->canonical, &name, error))
            {
              sqlite3_reset (st);
              return FALSE;
            }
          sqlite3_bind_int64 (st, p + 1, doc_id);
          sqlite3_bind_int64 (st, p + 2, i + j);
          sqlite3_bind_int64 (st, p + 3, name);
          bind_str (st, p + 4, e->text);
          sqlite3_bind_int64 (st, p + 5, e->start);
          sqlite3_bind_int64 (st, p + 6, e->end);
          bind_str (st, p + 7, e->role);
        }
      if (!step_done (self, st, error))
        return FALSE;
    }
  self->entities += row->n_entities;

  if (row->has_cluster)
    {
      st = self->st[ST_DUP];
      sqlite3_bind_int64 (st, 1, doc_id);
      bind_str (st, 2, row->cluster);
      bind_str (st, 3, row->duplicate_of);
      if (row->has_similarity)
        sqlite3_bind_double (st, 4, row->similarity);
      else
        sqlite3_bind_null (st, 4);
      if (!step_done (self, st, error))
        return FALSE;
    }
  return TRUE;
}

static GalleyVerdict
export_sqlite_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  ExportSqlite *self = state;
  if (self->db == NULL && !open_for_writing (self, error))
    return GALLEY_VERDICT_ERROR;
  if (!self->in_txn)
    {
      if (!exec (self, "BEGIN IMMEDIATE", error))
        return GALLEY_VERDICT_ERROR;
      self->in_txn = TRUE;
    }
  DocRow *row = galley_document_get_stage_data (doc, ctx);
  if (row == NULL)
    {
      /* an older core that does not call prepare() */
      if (export_sqlite_prepare (self, doc, ctx, error) != GALLEY_VERDICT_KEEP)
        return GALLEY_VERDICT_ERROR;
      row = galley_document_get_stage_data (doc, ctx);
    }
  if (!write_document (self, row, error))
    {
      /* names made in a transaction that SQLite may have rolled back */
      g_hash_table_remove_all (self->names);
      return GALLEY_VERDICT_ERROR;
    }
  galley_document_set_stage_data (doc, ctx, NULL, NULL);
  self->docs++;
  if (++self->in_batch >= self->batch_size && !commit_batch (self, FALSE, error))
    return GALLEY_VERDICT_ERROR;
  return GALLEY_VERDICT_KEEP;
}

static gboolean
export_sqlite_finish (gpointer state, GalleyStageContext *ctx, GError **error)
{
  ExportSqlite *self = state;
  if (self->db == NULL && !open_for_writing (self, error))
    return FALSE;
  if (!self->in_txn)
    {
      if (!exec (self, "BEGIN IMMEDIATE", error))
        return FALSE;
      self->in_txn = TRUE;
    }
  if (!commit_batch (self, TRUE, error))
    return FALSE;
  self->finished = TRUE;
  galley_stage_count (ctx, "entity-rows", self->entities);
  galley_stage_count (ctx, "transactions", self->batches);
  g_info ("stage '%s': wrote %" G_GINT64_FORMAT " documents (run %" G_GINT64_FORMAT ") to %s",
          self->stage_id, self->docs, self->run_id, self->path);
  return TRUE;
}

static const GalleyStageInfo export_sqlite_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "export-sqlite", "Write documents, entity mentions and duplicate clusters to SQLite, with a full-text index", "1.1.0",
  GALLEY_KIND_SINK, GALLEY_STAGE_FLAGS_NONE,
  export_sqlite_options, export_sqlite_init, export_sqlite_process, NULL, export_sqlite_finish, export_sqlite_free,
  export_sqlite_prepare,
};
GALLEY_STAGE_DEFINE (export_sqlite_info)
