/* test-export-sqlite.c: the export-sqlite sink: tables, full-text index,
 * upserts, runs, the five queries of docs/export.md against a real export,
 * bad content, and bad databases (newer schema, foreign, locked, full
 * disk, missing directory) with their exit codes. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

static GalleyHarness *
harness (const char *dir, GError **error, ...)
{
  g_autoptr(GPtrArray) opts = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (opts, g_strdup_printf ("path=%s/out.sqlite", dir));
  g_ptr_array_add (opts, g_strdup ("fsync=false"));
  va_list ap;
  va_start (ap, error);
  for (const char *s = va_arg (ap, const char *); s != NULL; s = va_arg (ap, const char *))
    g_ptr_array_add (opts, g_strdup (s));
  va_end (ap);
  g_ptr_array_add (opts, NULL);
  return galley_harness_new ("export-sqlite", (const char *const *) opts->pdata, error);
}

static void
push (GalleyHarness *h, GalleyDocument *doc)
{
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_no_error (error);
}

static void
finish (GalleyHarness *h)
{
  g_autoptr(GError) error = NULL;
  g_assert_true (galley_harness_finish (h, &error));
  g_assert_no_error (error);
}

/* Adds an entity span over the first occurrence of @surface (ASCII before
 * it, so bytes are code points). */
static void
add_entity (GalleyDocument *doc, const char *type, const char *surface, const char *canonical, const char *role)
{
  const char *text = galley_document_get_text (doc, NULL);
  const char *at = strstr (text, surface);
  g_assert_nonnull (at);
  gint64 start = g_utf8_pointer_to_offset (text, at);
  GalleyAnnotation *a = galley_document_add_annotation (doc, "entities", type, start,
                                                        start + g_utf8_strlen (surface, -1), canonical);
  g_assert_nonnull (a);
  if (role != NULL)
    {
      a->attrs = json_object_new_object ();
      json_object_object_add (a->attrs, "role", json_object_new_string (role));
    }
}

static void
set_dedup (GalleyDocument *doc, const char *cluster, const char *dup_of, double sim)
{
  json_object *d = json_object_new_object ();
  json_object_object_add (d, "cluster", json_object_new_string (cluster));
  if (dup_of != NULL)
    {
      json_object_object_add (d, "duplicate_of", json_object_new_string (dup_of));
      json_object_object_add (d, "similarity", json_object_new_double (sim));
    }
  galley_document_set_field (doc, "dedup", d);
}

static GalleyDocument *
news (const char *id, const char *date, const char *title, const char *text)
{
  GalleyDocument *doc = galley_document_new (id, "test");
  galley_document_set_text (doc, text, -1);
  if (date != NULL)
    galley_document_set_meta_string (doc, "date", date);
  if (title != NULL)
    galley_document_set_meta_string (doc, "title", title);
  return doc;
}

/* Five articles: a port strike (with a near copy), a minister's visit, a
 * football match and one with no date. */
static void
export_corpus (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (dir, &error, "batch-size=2", NULL);
  g_assert_no_error (error);

  g_autoptr(GalleyDocument) a = news ("a", "2024-03-04T08:00:00Z", "Dock workers strike in Velmora",
                                      "Dock workers at the Port of Velmora walked out. Union leader Zoë Brandt said the strike would go on.");
  add_entity (a, "ORG", "Port of Velmora", "Port of Velmora", NULL);
  add_entity (a, "PER", "Zoë Brandt", "Zoe Brandt", "speaker");
  add_entity (a, "LOC", "Velmora", NULL, NULL);
  set_dedup (a, "a", NULL, 0);
  push (h, a);

  g_autoptr(GalleyDocument) b = news ("b", "2024-03-04", "Strike at Velmora port",
                                      "Workers at the Port of Velmora are on strike, Brandt said.");
  add_entity (b, "ORG", "Port of Velmora", NULL, NULL);
  add_entity (b, "PER", "Brandt", "Zoe Brandt", NULL);
  set_dedup (b, "a", "a", 0.62);
  push (h, b);

  g_autoptr(GalleyDocument) c = news ("c", "2024-03-05", "Minister visits the harbour",
                                      "Minister Ana Ruiz met Zoë Brandt at the harbour of Velmora.");
  add_entity (c, "PER", "Ana Ruiz", "Ana Ruiz", NULL);
  add_entity (c, "PER", "Zoë Brandt", "Zoe Brandt", NULL);
  add_entity (c, "LOC", "Velmora", NULL, NULL);
  set_dedup (c, "c", NULL, 0);
  push (h, c);

  g_autoptr(GalleyDocument) d = news ("d", "5 March 2024", "Cup final", "Velmora beat Ostrava two nil in the cup final.");
  add_entity (d, "ORG", "Velmora", "FC Velmora", NULL);
  push (h, d);

  g_autoptr(GalleyDocument) e = news ("e", NULL, NULL, "An article without a date or title about the weather.");
  push (h, e);
  finish (h);
}

static sqlite3 *
open_db (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "out.sqlite", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  return db;
}

/* Rows of @sql as "col|col\n" lines; named parameters from @params
 * ("name", "value", ..., NULL). */
static char *
query (sqlite3 *db, const char *sql, ...)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  va_list ap;
  va_start (ap, sql);
  for (const char *name = va_arg (ap, const char *); name != NULL; name = va_arg (ap, const char *))
    {
      const char *value = va_arg (ap, const char *);
      int idx = sqlite3_bind_parameter_index (st, name);
      if (idx > 0)
        sqlite3_bind_text (st, idx, value, -1, SQLITE_TRANSIENT);
    }
  va_end (ap);
  GString *out = g_string_new (NULL);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (st); i++)
        {
          if (i > 0)
            g_string_append_c (out, '|');
          const char *v = (const char *) sqlite3_column_text (st, i);
          g_string_append (out, v ? v : "NULL");
        }
      g_string_append_c (out, '\n');
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  sqlite3_finalize (st);
  return g_string_free (out, FALSE);
}

static void
test_fts5_available (void)
{
  g_assert_true (sqlite3_compileoption_used ("ENABLE_FTS5"));
}

static void
test_tables (Fixture *f, gconstpointer data)
{
  export_corpus (f->dir);
  sqlite3 *db = open_db (f->dir);
  g_autofree char *docs = query (db, "SELECT id, title, day, run_id FROM documents ORDER BY id", NULL);
  g_assert_cmpstr (docs, ==,
                   "a|Dock workers strike in Velmora|2024-03-04|1\n"
                   "b|Strike at Velmora port|2024-03-04|1\n"
                   "c|Minister visits the harbour|2024-03-05|1\n"
                   "d|Cup final|NULL|1\n"
                   "e|NULL|NULL|1\n");
  g_autofree char *ents = query (db, "SELECT id, seq, type, e.text, canonical, char_start, char_end, coalesce(role, '')"
                                     " FROM entities e JOIN documents USING (doc_id) WHERE id = 'a' ORDER BY seq", NULL);
  g_assert_cmpstr (ents, ==,
                   "a|0|ORG|Port of Velmora|Port of Velmora|20|35|\n"
                   "a|1|PER|Zoë Brandt|Zoe Brandt|61|71|speaker\n"
                   "a|2|LOC|Velmora|Velmora|28|35|\n");
  g_autofree char *dups = query (db, "SELECT id, cluster, coalesce(duplicate_of, '-'), coalesce(similarity, '-')"
                                     " FROM duplicates JOIN documents USING (doc_id) ORDER BY id", NULL);
  g_assert_cmpstr (dups, ==, "a|a|-|-\nb|a|a|0.62\nc|c|-|-\n");
  g_autofree char *runs = query (db, "SELECT run_id, status, documents, stage, finished IS NOT NULL FROM runs", NULL);
  g_assert_cmpstr (runs, ==, "1|committed|5|export-sqlite|1\n");
  g_autofree char *meta = query (db, "SELECT meta, fields FROM documents WHERE id = 'b'", NULL);
  g_assert_cmpstr (meta, ==, "{\"date\":\"2024-03-04\",\"title\":\"Strike at Velmora port\"}|"
                             "{\"dedup\":{\"cluster\":\"a\",\"duplicate_of\":\"a\",\"similarity\":0.62}}\n");
  g_autofree char *version = query (db, "PRAGMA user_version", NULL);
  g_assert_cmpstr (version, ==, "2\n");
  g_autofree char *mode = query (db, "PRAGMA journal_mode", NULL);
  g_assert_cmpstr (mode, ==, "wal\n");
  g_autofree char *fts = query (db, "SELECT rowid FROM documents_fts WHERE documents_fts MATCH 'zoe' ORDER BY rowid", NULL);
  g_assert_cmpstr (fts, ==, "1\n3\n");   /* diacritics folded */
  sqlite3_close (db);
}

static void
test_upsert_and_runs (Fixture *f, gconstpointer data)
{
  export_corpus (f->dir);
  {
    /* run 2 sends b again, changed: no more duplicate, other text, no entities */
    g_autoptr(GError) error = NULL;
    g_autoptr(GalleyHarness) h = harness (f->dir, &error, NULL);
    g_autoptr(GalleyDocument) b = news ("b", "2024-03-06", "Strike over", "The strike is over, the harbour reopens.");
    push (h, b);
    finish (h);
  }
  sqlite3 *db = open_db (f->dir);
  g_autofree char *counts = query (db, "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM entities),"
                                       " (SELECT count(*) FROM duplicates), (SELECT count(*) FROM documents_fts)", NULL);
  g_assert_cmpstr (counts, ==, "5|7|2|5\n");
  g_autofree char *b = query (db, "SELECT doc_id, title, day, run_id FROM documents WHERE id = 'b'", NULL);
  g_assert_cmpstr (b, ==, "2|Strike over|2024-03-06|2\n");
  g_autofree char *old = query (db, "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'brandt'", NULL);
  g_assert_cmpstr (old, ==, "2\n");   /* a and c; b's old text is gone from the index */
  g_autofree char *now = query (db, "SELECT rowid FROM documents_fts WHERE documents_fts MATCH 'reopens'", NULL);
  g_assert_cmpstr (now, ==, "2\n");
  g_autofree char *runs = query (db, "SELECT run_id, status, documents FROM runs ORDER BY run_id", NULL);
  g_assert_cmpstr (runs, ==, "1|committed|5\n2|committed|1\n");
  /* the index matches the stored texts after the replacement */
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  /* deleting a document takes its entities, duplicate row and index entry along */
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM documents WHERE id = 'a'", NULL, NULL, NULL), ==, SQLITE_OK);
  g_autofree char *left = query (db, "SELECT (SELECT count(*) FROM entities), (SELECT count(*) FROM duplicates),"
                                     " (SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'dock')", NULL);
  g_assert_cmpstr (left, ==, "4|1|0\n");
  sqlite3_close (db);
}

static void
test_aborted_run (Fixture *f, gconstpointer data)
{
  {
    /* batch-size=2: two batches are committed, the fifth document is not;
     * the run never finishes */
    g_autoptr(GError) error = NULL;
    g_autoptr(GalleyHarness) h = harness (f->dir, &error, "batch-size=2", NULL);
    for (int i = 0; i < 5; i++)
      {
        g_autofree char *id = g_strdup_printf ("doc%d", i);
        g_autoptr(GalleyDocument) doc = news (id, "2024-01-01", id, "text");
        push (h, doc);
      }
    g_test_expect_message ("galley-export-sqlite", G_LOG_LEVEL_WARNING, "*keeps 2 batches of the failed run 1*");
  }
  g_test_assert_expected_messages ();
  sqlite3 *db = open_db (f->dir);
  g_autofree char *rows = query (db, "SELECT d.id, r.status FROM documents d JOIN runs r USING (run_id) ORDER BY d.id", NULL);
  g_assert_cmpstr (rows, ==, "doc0|aborted\ndoc1|aborted\ndoc2|aborted\ndoc3|aborted\n");
  sqlite3_close (db);

  /* the next run gets all five again (its source state was not committed):
   * each is there once, written by the committed run */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GalleyHarness) h = harness (f->dir, &error, "batch-size=2", NULL);
    for (int i = 0; i < 5; i++)
      {
        g_autofree char *id = g_strdup_printf ("doc%d", i);
        g_autoptr(GalleyDocument) doc = news (id, "2024-01-01", id, "text");
        push (h, doc);
      }
    finish (h);
  }
  db = open_db (f->dir);
  g_autofree char *again = query (db, "SELECT d.id, r.status FROM documents d JOIN runs r USING (run_id) ORDER BY d.id", NULL);
  g_assert_cmpstr (again, ==, "doc0|committed\ndoc1|committed\ndoc2|committed\ndoc3|committed\ndoc4|committed\n");
  g_autofree char *stale = query (db, "SELECT count(*) FROM documents WHERE run_id IN"
                                      " (SELECT run_id FROM runs WHERE status != 'committed')", NULL);
  g_assert_cmpstr (stale, ==, "0\n");
  sqlite3_close (db);
}

/* A writer killed in the middle of a transaction, before the database was
 * in WAL mode (a new file), leaves a journal that a read-only connection
 * cannot roll back. The next run rolls it back and writes. */
static void
test_killed_writer_journal (Fixture *f, gconstpointer data)
{
  if (g_test_subprocess ())
    {
      /* the writer: a transaction is left open, and the connection is
       * never closed; the process ends as if killed */
      sqlite3 *db = NULL;
      g_assert_cmpint (sqlite3_open (g_getenv ("GALLEY_TEST_KILLED_DB"), &db), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_exec (db, "PRAGMA cache_size = 10; BEGIN; CREATE TABLE half (x); WITH RECURSIVE"
                                         " n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)"
                                         " INSERT INTO half SELECT printf('%200d', i) FROM n;", NULL, NULL, NULL),
                       ==, SQLITE_OK);
      /* no exit handlers either: the leak checker would report the open
       * connection */
      galley_test_rmdir (f->dir);
      _exit (0);
    }
  g_autofree char *path = g_build_filename (f->dir, "out.sqlite", NULL);
  /* in a process of its own, started afresh (a forked child would stay
   * under valgrind, which counts the connection left open as a leak) */
  g_setenv ("GALLEY_TEST_KILLED_DB", path, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("GALLEY_TEST_KILLED_DB");
  g_test_trap_assert_passed ();
  g_autofree char *journal = g_strconcat (path, "-journal", NULL);
  g_assert_true (g_file_test (journal, G_FILE_TEST_EXISTS));

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GalleyHarness) h = harness (f->dir, &error, NULL);
    g_assert_no_error (error);
    g_assert_nonnull (h);
    g_autoptr(GalleyDocument) doc = news ("after", "2024-01-01", "After the kill", "text");
    push (h, doc);
    finish (h);
  }
  sqlite3 *db = open_db (f->dir);
  g_autofree char *rows = query (db, "SELECT id FROM documents", NULL);
  g_assert_cmpstr (rows, ==, "after\n");
  /* the killed transaction was rolled back: its table is gone */
  g_autofree char *half = query (db, "SELECT count(*) FROM sqlite_schema WHERE name = 'half'", NULL);
  g_assert_cmpstr (half, ==, "0\n");
  sqlite3_close (db);
}

/* The ```sql blocks of docs/export.md that start with "-- query:". */
static GPtrArray *
doc_queries (void)
{
  g_autofree char *path = galley_test_srcpath ("docs", "export.md", NULL);
  g_autofree char *md = NULL;
  g_assert_true (g_file_get_contents (path, &md, NULL, NULL));
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  const char *p = md;
  while ((p = strstr (p, "```sql\n-- query:")) != NULL)
    {
      p += strlen ("```sql\n");
      const char *end = strstr (p, "```");
      g_assert_nonnull (end);
      g_ptr_array_add (out, g_strndup (p, end - p));
      p = end;
    }
  return out;
}

static void
test_documented_queries (Fixture *f, gconstpointer data)
{
  export_corpus (f->dir);
  sqlite3 *db = open_db (f->dir);
  g_autoptr(GPtrArray) queries = doc_queries ();
  g_assert_cmpuint (queries->len, ==, 5);
  static const char *const expected[] = {
    /* full-text search for :q = 'strike' */
    "b|[Strike] at Velmora port|Workers at the Port of Velmora are on [strike], Brandt said.\n"
    "a|Dock workers [strike] in Velmora|…Union leader Zoë Brandt said the [strike] would go on.\n",
    /* articles mentioning :type PER :name Zoe Brandt */
    "c|Minister visits the harbour|2024-03-05|1\n"
    "a|Dock workers strike in Velmora|2024-03-04T08:00:00Z|1\n"
    "b|Strike at Velmora port|2024-03-04|1\n",
    /* clusters of duplicates */
    "a|2|a b\n",
    /* co-occurrence */
    "LOC:Velmora|PER:Zoe Brandt|2\n"
    "ORG:Port of Velmora|PER:Zoe Brandt|2\n"
    "LOC:Velmora|ORG:Port of Velmora|1\n"
    "LOC:Velmora|PER:Ana Ruiz|1\n"
    "PER:Ana Ruiz|PER:Zoe Brandt|1\n",
    /* documents per day */
    "2024-03-04|2\n2024-03-05|1\n",
  };
  for (guint i = 0; i < queries->len; i++)
    {
      const char *sql = g_ptr_array_index (queries, i);
      g_autofree char *rows = query (db, sql, ":q", "strike", ":name", "Zoe Brandt", ":type", "PER", NULL);
      if (g_strcmp0 (rows, expected[i]) != 0)
        g_error ("query %u:\n%s\ngave\n%swanted\n%s", i + 1, sql, rows, expected[i]);
    }
  sqlite3_close (db);
}

static void
test_bad_content (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (f->dir, &error, NULL);
  g_autoptr(GalleyDocument) a = galley_document_new ("nul", NULL);
  galley_document_set_text (a, "", 0);
  json_object_object_add (galley_document_get_meta (a), "title", json_object_new_string_len ("a\0b", 3));
  json_object_object_add (galley_document_get_meta (a), "author", json_object_new_string_len ("x\xff", 2));
  push (h, a);
  /* raw bytes with NULs and invalid UTF-8: the text is repaired by the core */
  g_autoptr(GalleyDocument) b = galley_document_new ("raw", NULL);
  g_autoptr(GBytes) raw = g_bytes_new_static ("ab\0c\xC3", 5);
  galley_document_set_raw (b, raw);
  push (h, b);
  /* 4 MB of text, one id with quotes and SQL in it */
  g_autoptr(GString) big = g_string_new (NULL);
  while (big->len < 4 * 1024 * 1024)
    g_string_append (big, "zebra crossing ");
  g_autoptr(GalleyDocument) c = galley_document_new ("x'); DROP TABLE documents; --", NULL);
  galley_document_set_text (c, big->str, big->len);
  push (h, c);
  finish (h);

  sqlite3 *db = open_db (f->dir);
  g_autofree char *rows = query (db, "SELECT id, title, author, length(text) FROM documents ORDER BY doc_id", NULL);
  g_autofree char *want = g_strdup_printf ("nul|a\xEF\xBF\xBD" "b|x\xEF\xBF\xBD|0\nraw|NULL|NULL|5\n"
                                           "x'); DROP TABLE documents; --|NULL|NULL|%u\n", (guint) big->len);
  g_assert_cmpstr (rows, ==, want);
  g_autofree char *raw_text = query (db, "SELECT hex(text) FROM documents WHERE id = 'raw'", NULL);
  g_assert_cmpstr (raw_text, ==, "6162EFBFBD63EFBFBD\n");
  g_autofree char *fts = query (db, "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'zebra'", NULL);
  g_assert_cmpstr (fts, ==, "1\n");
  sqlite3_close (db);
}

/* Names are told apart by type and canonical name whatever characters
 * they hold: a control character in a type does not make two names one. */
static void
test_names_kept_apart (Fixture *f, gconstpointer data)
{
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GalleyHarness) h = harness (f->dir, &error, NULL);
    g_assert_no_error (error);
    g_autoptr(GalleyDocument) doc = news ("n", NULL, NULL, "Ada met Bo and Cy.");
    add_entity (doc, "A\x1f" "B", "Ada", "C", NULL);
    add_entity (doc, "A", "Bo", "B\x1f" "C", NULL);
    add_entity (doc, "PER", "Cy", "C", NULL);
    push (h, doc);
    finish (h);
  }
  sqlite3 *db = open_db (f->dir);
  g_autofree char *rows = query (db, "SELECT seq, hex(type), hex(canonical) FROM entities ORDER BY seq", NULL);
  g_assert_cmpstr (rows, ==, "0|411F42|43\n1|41|421F43\n2|504552|43\n");
  g_autofree char *names = query (db, "SELECT count(*) FROM names", NULL);
  g_assert_cmpstr (names, ==, "3\n");
  sqlite3_close (db);
}

/* A database of schema version 1 (entity rows with their canonical name
 * in each row, as the first version of the sink wrote them) is migrated
 * in the next run's first transaction: its mentions keep their names, each
 * name is stored once, and the delete trigger follows the new tables. */
static void
test_migrate_from_v1 (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "out.sqlite", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  const char *v1 =
    "PRAGMA application_id = 1197558905; PRAGMA user_version = 1; PRAGMA journal_mode = WAL;"
    "CREATE TABLE runs (run_id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL"
    "  CHECK (status IN ('running', 'committed', 'aborted')), stage TEXT, documents INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE documents (doc_id INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT, title TEXT,"
    "  author TEXT, date TEXT, day TEXT, url TEXT, lang TEXT, text TEXT NOT NULL, meta TEXT, fields TEXT,"
    "  encoding TEXT, content_type TEXT, run_id INTEGER NOT NULL REFERENCES runs (run_id));"
    "CREATE INDEX documents_day ON documents (day); CREATE INDEX documents_run ON documents (run_id);"
    "CREATE TABLE entities (doc_id INTEGER NOT NULL REFERENCES documents (doc_id), seq INTEGER NOT NULL,"
    "  type TEXT NOT NULL, text TEXT NOT NULL, canonical TEXT NOT NULL, char_start INTEGER NOT NULL,"
    "  char_end INTEGER NOT NULL, role TEXT, PRIMARY KEY (doc_id, seq)) WITHOUT ROWID;"
    "CREATE INDEX entities_canonical ON entities (canonical, type);"
    "CREATE TABLE duplicates (doc_id INTEGER PRIMARY KEY REFERENCES documents (doc_id), cluster TEXT NOT NULL,"
    "  duplicate_of TEXT, similarity REAL);"
    "CREATE INDEX duplicates_cluster ON duplicates (cluster);"
    "CREATE VIRTUAL TABLE documents_fts USING fts5 (title, text, content='documents', content_rowid='doc_id',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER documents_ad AFTER DELETE ON documents BEGIN"
    "  INSERT INTO documents_fts (documents_fts, rowid, title, text) VALUES ('delete', old.doc_id, old.title, old.text);"
    "  DELETE FROM entities WHERE doc_id = old.doc_id; DELETE FROM duplicates WHERE doc_id = old.doc_id; END;"
    "INSERT INTO runs VALUES (1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 'committed', 'out', 1);"
    "INSERT INTO documents (doc_id, id, title, text, run_id) VALUES (1, 'old', 'Talks', 'Kiev talks: Zelensky met Erdogan.', 1);"
    "INSERT INTO documents_fts (rowid, title, text) VALUES (1, 'Talks', 'Kiev talks: Zelensky met Erdogan.');"
    "INSERT INTO entities VALUES (1, 0, 'LOC', 'Kiev', 'Kyiv', 0, 4, NULL),"
    "  (1, 1, 'PER', 'Zelensky', 'Volodymyr Zelensky', 12, 20, 'President'),"
    "  (1, 2, 'PER', 'Erdogan', 'Recep Tayyip Erdogan', 25, 32, NULL);";
  g_assert_cmpint (sqlite3_exec (db, v1, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GalleyHarness) h = harness (f->dir, &error, NULL);
    g_assert_no_error (error);
    g_autoptr(GalleyDocument) doc = news ("new", NULL, "Kyiv", "In Kyiv, Volodymyr Zelensky spoke.");
    add_entity (doc, "LOC", "Kyiv", "Kyiv", NULL);
    add_entity (doc, "PER", "Volodymyr Zelensky", "Volodymyr Zelensky", NULL);
    push (h, doc);
    finish (h);
  }
  db = open_db (f->dir);
  g_autofree char *version = query (db, "PRAGMA user_version", NULL);
  g_assert_cmpstr (version, ==, "2\n");
  g_autofree char *rows = query (db, "SELECT id, seq, type, e.text, canonical, char_start, char_end, role"
                                     " FROM entities e JOIN documents USING (doc_id) ORDER BY id, seq", NULL);
  g_assert_cmpstr (rows, ==, "new|0|LOC|Kyiv|Kyiv|3|7|NULL\n"
                             "new|1|PER|Volodymyr Zelensky|Volodymyr Zelensky|9|27|NULL\n"
                             "old|0|LOC|Kiev|Kyiv|0|4|NULL\n"
                             "old|1|PER|Zelensky|Volodymyr Zelensky|12|20|President\n"
                             "old|2|PER|Erdogan|Recep Tayyip Erdogan|25|32|NULL\n");
  /* each (type, canonical) once; a name found by it leads to both articles */
  g_autofree char *names = query (db, "SELECT count(*) FROM names", NULL);
  g_assert_cmpstr (names, ==, "3\n");
  g_autofree char *both = query (db, "SELECT group_concat(id, ',') FROM (SELECT DISTINCT id FROM entities"
                                     " JOIN documents USING (doc_id) WHERE canonical = 'Kyiv' ORDER BY id)", NULL);
  g_assert_cmpstr (both, ==, "new,old\n");
  /* the old trigger named the entities table, now a view: deleting works */
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM documents WHERE id = 'old'", NULL, NULL, NULL), ==, SQLITE_OK);
  g_autofree char *left = query (db, "SELECT (SELECT count(*) FROM mentions),"
                                     " (SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'erdogan')", NULL);
  g_assert_cmpstr (left, ==, "2|0\n");
  sqlite3_close (db);
}

static void
test_newer_schema (Fixture *f, gconstpointer data)
{
  export_corpus (f->dir);
  sqlite3 *db = open_db (f->dir);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  g_autofree char *path = g_build_filename (f->dir, "out.sqlite", NULL);
  GStatBuf before, after;
  g_assert_cmpint (g_stat (path, &before), ==, 0);

  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (f->dir, &error, NULL);
  g_assert_null (h);
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "schema version 99, newer than the 2"));

  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;out\nstats=\nrejects=\n\n[stage in]\nplugin=stdin\n\n"
                     "[stage out]\nplugin=export-sqlite\npath=out.sqlite\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, "text", "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 78);
  g_assert_nonnull (strstr (r->err, "newer than"));
  g_autoptr(RunResult) c = galley_test_run (f->dir, NULL, "check", "t.pipeline", NULL);
  g_assert_cmpint (c->status, ==, 78);
  g_assert_cmpint (g_stat (path, &after), ==, 0);
  g_assert_cmpint (before.st_mtime, ==, after.st_mtime);
  g_assert_cmpint (before.st_size, ==, after.st_size);
}

static void
test_foreign_database (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "out.sqlite", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE documents (x)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  g_autoptr(GError) error = NULL;
  g_assert_null (harness (f->dir, &error, NULL));
  g_assert_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE);
  g_assert_nonnull (strstr (error->message, "another program"));
  g_clear_error (&error);

  /* not a database at all */
  galley_test_write (f->dir, "out.sqlite", "just some text, not a database file at all......................"
                     "................................................................................", -1);
  g_assert_null (harness (f->dir, &error, NULL));
  g_assert_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, "not a usable SQLite database"));
}

static void
test_locked (Fixture *f, gconstpointer data)
{
  export_corpus (f->dir);
  /* another program holds a write transaction */
  sqlite3 *other = open_db (f->dir);
  g_assert_cmpint (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (f->dir, &error, "busy-timeout=0.2s", NULL);
  g_assert_no_error (error);
  g_autoptr(GalleyDocument) doc = news ("x", NULL, NULL, "text");
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_ERROR);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "locked by another connection"));
  g_clear_pointer (&h, galley_harness_free);

  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;out\nstats=\nrejects=\n\n[stage in]\nplugin=stdin\n\n"
                     "[stage out]\nplugin=export-sqlite\npath=out.sqlite\nbusy-timeout=0.2s\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, "text", "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 75);
  g_assert_cmpint (sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (other);

  /* another galley run writing the same file */
  g_autofree char *path = g_build_filename (f->dir, "out.sqlite", NULL);
  int fd = open (path, O_RDONLY);
  g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);
  g_autoptr(RunResult) r2 = galley_test_run (f->dir, "text", "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (r2->status, ==, 75);
  g_assert_nonnull (strstr (r2->err, "being written by another run"));
  close (fd);

  /* free again: the runs above left nothing behind but aborted runs */
  g_autoptr(RunResult) r3 = galley_test_run (f->dir, "text", "run", "-q", "t.pipeline", NULL);
  g_assert_cmpint (r3->status, ==, 0);
  sqlite3 *db = open_db (f->dir);
  g_autofree char *runs = query (db, "SELECT status, count(*) FROM runs GROUP BY status ORDER BY status", NULL);
  g_assert_cmpstr (runs, ==, "committed|2\n");
  sqlite3_close (db);
}

static void
fill_disk (const char *dir)
{
  signal (SIGXFSZ, SIG_IGN);
  g_autofree char *path = g_build_filename (dir, "out.sqlite", NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  struct rlimit rl = { st.st_size + 256 * 1024, st.st_size + 256 * 1024 };
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = harness (dir, &error, "batch-size=10", NULL);
  g_assert_no_error (error);
  g_autoptr(GString) big = g_string_new (NULL);
  for (int i = 0; i < 400; i++)
    g_string_append_printf (big, "word%d ", i);
  GalleyVerdict v = GALLEY_VERDICT_KEEP;
  for (int i = 0; i < 5000 && v == GALLEY_VERDICT_KEEP; i++)
    {
      g_autofree char *id = g_strdup_printf ("fill%d", i);
      g_autoptr(GalleyDocument) doc = news (id, "2024-02-02", id, big->str);
      v = galley_harness_process (h, doc, &error);
    }
  if (v == GALLEY_VERDICT_KEEP)
    galley_harness_finish (h, &error);
  g_assert_nonnull (error);
  g_printerr ("%s\n", error->message);
  g_clear_pointer (&h, galley_harness_free);   /* what the runner does after a failure */
  exit (galley_error_to_exit_code (error));
}

static void
test_disk_full (Fixture *f, gconstpointer data)
{
  if (g_test_subprocess ())
    {
      fill_disk (g_getenv ("EXPORT_TEST_DIR"));
      return;
    }
  export_corpus (f->dir);
  g_setenv ("EXPORT_TEST_DIR", f->dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*out.sqlite*");
  sqlite3 *db = open_db (f->dir);
  g_autofree char *ok = query (db, "PRAGMA integrity_check", NULL);
  g_assert_cmpstr (ok, ==, "ok\n");
  /* everything exported before is there */
  g_autofree char *first = query (db, "SELECT group_concat(id, ' ') FROM (SELECT id FROM documents"
                                      " WHERE run_id = 1 ORDER BY id)", NULL);
  g_assert_cmpstr (first, ==, "a b c d e\n");
  g_autofree char *runs = query (db, "SELECT run_id, status FROM runs ORDER BY run_id", NULL);
  g_assert_true (g_str_has_prefix (runs, "1|committed\n2|"));
  g_assert_null (strstr (runs, "2|committed"));
  sqlite3_close (db);
}

static void
test_options_and_dirs (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = { "batch-size=0", "batch-size=2000000", "busy-timeout=-1s", "path=-", "path=" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_null (harness (f->dir, &error, bad[i], NULL));
      g_assert_true (error->domain == GALLEY_CONFIG_ERROR);
    }
  g_autoptr(GError) error = NULL;
  g_autofree char *opt = g_strdup_printf ("path=%s/missing/out.sqlite", f->dir);
  const char *opts[] = { opt, "mkdir=false", NULL };
  g_assert_null (galley_harness_new ("export-sqlite", opts, &error));
  g_assert_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE);
  g_clear_error (&error);
  /* mkdir=true creates it; an empty run still records itself */
  const char *opts2[] = { opt, "fsync=false", NULL };
  g_autoptr(GalleyHarness) h = galley_harness_new ("export-sqlite", opts2, &error);
  g_assert_no_error (error);
  finish (h);
  g_autofree char *dir = g_build_filename (f->dir, "missing", NULL);
  sqlite3 *db = open_db (dir);
  g_autofree char *runs = query (db, "SELECT status, documents FROM runs", NULL);
  g_assert_cmpstr (runs, ==, "committed|0\n");
  sqlite3_close (db);
  if (geteuid () == 0)
    return;   /* root ignores file permissions */
  g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
  g_autofree char *opt3 = g_strdup_printf ("path=%s/missing/y.sqlite", f->dir);
  const char *opts3[] = { opt3, NULL };
  g_assert_null (galley_harness_new ("export-sqlite", opts3, &error));
  g_assert_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE);
  g_chmod (dir, 0755);
}

/* SQLITE_OK when @q is a valid search in this index, else the error. */
static int
match_rc (sqlite3 *db, const char *q)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (db, "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH ?1", -1, &st, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, q, -1, SQLITE_STATIC);
      rc = sqlite3_step (st) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode (db);
    }
  sqlite3_finalize (st);
  return rc;
}

static void
export_one (const char *dir, const char *id, const char *text, const char *fts)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *opt = g_strconcat ("fts=", fts, NULL);
  g_autoptr(GalleyHarness) h = harness (dir, &error, opt, NULL);
  g_assert_no_error (error);
  g_autoptr(GalleyDocument) doc = news (id, "2024-04-01", "Later", text);
  add_entity (doc, "PER", "Ana Ruiz", NULL, NULL);
  push (h, doc);
  finish (h);
}

static void
test_fts_modes (Fixture *f, gconstpointer data)
{
  export_corpus (f->dir);
  sqlite3 *db = open_db (f->dir);
  g_autofree char *phrase = query (db, "SELECT rowid FROM documents_fts WHERE documents_fts MATCH '\"strike would\"'", NULL);
  g_assert_cmpstr (phrase, ==, "1\n");
  sqlite3_close (db);

  /* fts=none on an existing database: the index is rebuilt without positions */
  g_test_expect_message ("galley-export-sqlite", G_LOG_LEVEL_MESSAGE, "*from fts=full to fts=none for 5 documents*");
  export_one (f->dir, "f", "Ana Ruiz opened the new strike fund.", "none");
  g_test_assert_expected_messages ();
  db = open_db (f->dir);
  g_autofree char *words = query (db, "SELECT group_concat(id, ' ') FROM (SELECT d.id FROM documents_fts"
                                      " JOIN documents d ON d.doc_id = documents_fts.rowid"
                                      " WHERE documents_fts MATCH 'strike' ORDER BY d.id)", NULL);
  g_assert_cmpstr (words, ==, "a b f\n");
  g_assert_cmpint (match_rc (db, "\"strike would\""), !=, SQLITE_OK);   /* phrases need fts=full */
  g_assert_cmpint (match_rc (db, "title:strike"), !=, SQLITE_OK);       /* columns need fts=column */
  sqlite3_close (db);

  /* fts=column: column filters, no phrases */
  g_test_expect_message ("galley-export-sqlite", G_LOG_LEVEL_MESSAGE, "*from fts=none to fts=column*");
  export_one (f->dir, "f", "Ana Ruiz closed the strike fund.", "column");
  g_test_assert_expected_messages ();
  db = open_db (f->dir);
  g_autofree char *title = query (db, "SELECT rowid FROM documents_fts WHERE documents_fts MATCH 'title:strike' ORDER BY rowid",
                                  NULL);
  g_assert_cmpstr (title, ==, "1\n2\n");
  g_assert_cmpint (match_rc (db, "\"strike fund\""), !=, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (db);

  /* fts=off drops the index; deleting a document still takes its rows along */
  g_test_expect_message ("galley-export-sqlite", G_LOG_LEVEL_MESSAGE, "*from fts=column to fts=off*");
  export_one (f->dir, "g", "Ana Ruiz: no index for this one.", "off");
  g_test_assert_expected_messages ();
  db = open_db (f->dir);
  g_autofree char *tables = query (db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'documents_fts%'", NULL);
  g_assert_cmpstr (tables, ==, "0\n");
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM documents WHERE id = 'f'", NULL, NULL, NULL), ==, SQLITE_OK);
  g_autofree char *ents = query (db, "SELECT count(*) FROM entities JOIN documents USING (doc_id)", NULL);
  g_autofree char *all = query (db, "SELECT count(*) FROM entities", NULL);
  g_assert_cmpstr (ents, ==, all);
  sqlite3_close (db);

  /* back to full: everything is searchable again, phrases too */
  g_test_expect_message ("galley-export-sqlite", G_LOG_LEVEL_MESSAGE, "*from fts=off to fts=full for 6 documents*");
  export_one (f->dir, "h", "Ana Ruiz: the harbour strike fund is empty.", "full");
  g_test_assert_expected_messages ();
  db = open_db (f->dir);
  g_autofree char *again = query (db, "SELECT group_concat(id, ' ') FROM (SELECT d.id FROM documents_fts"
                                      " JOIN documents d ON d.doc_id = documents_fts.rowid"
                                      " WHERE documents_fts MATCH '\"strike fund\" OR index' ORDER BY d.id)", NULL);
  g_assert_cmpstr (again, ==, "g h\n");
  /* other programs that write documents keep the index in step through the triggers */
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO documents (id, title, text, run_id) VALUES ('z', 'Zeppelin', 'A zeppelin"
                                     " over the bay.', 1); UPDATE documents SET text = 'A balloon over the bay.'"
                                     " WHERE id = 'g'", NULL, NULL, NULL), ==, SQLITE_OK);
  g_autofree char *other = query (db, "SELECT group_concat(id, ' ') FROM (SELECT d.id FROM documents_fts"
                                      " JOIN documents d ON d.doc_id = documents_fts.rowid"
                                      " WHERE documents_fts MATCH 'zeppelin OR balloon OR index' ORDER BY d.id)", NULL);
  g_assert_cmpstr (other, ==, "g z\n");
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (db);

  g_autoptr(GError) error = NULL;
  g_assert_null (harness (f->dir, &error, "fts=yes", NULL));
  g_assert_true (error->domain == GALLEY_CONFIG_ERROR);
}

/* A real run with two threads: prepare() runs on the workers, the rows
 * still come out complete and in input order. */
static void
test_threads (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) in = g_string_new (NULL);
  for (int i = 0; i < 500; i++)
    g_string_append_printf (in, "{\"id\":\"n%03d\",\"title\":\"T\\u00e9 %d\",\"date\":\"2024-05-%02d\","
                                "\"text\":\"Report %d about the harbour strike, number %d.\"}\n",
                            i, i, i % 28 + 1, i, i);
  galley_test_write (f->dir, "in.jsonl", in->str, in->len);
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;out\nstats=\nrejects=\nthreads=2\n\n[stage in]\nplugin=jsonl\npath=in.jsonl\n\n"
                     "[stage out]\nplugin=export-sqlite\npath=out.sqlite\nfsync=false\nbatch-size=64\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "run", "-q", "-j", "2", "t.pipeline", NULL);
  g_assert_cmpint (r->status, ==, 0);
  sqlite3 *db = open_db (f->dir);
  g_autofree char *rows = query (db, "SELECT count(*), sum(doc_id = CAST(substr(id, 2) AS INTEGER) + 1),"
                                     " sum(title = 'Té ' || CAST(substr(id, 2) AS INTEGER)), count(DISTINCT day),"
                                     " sum(meta LIKE '{%}') FROM documents", NULL);
  g_assert_cmpstr (rows, ==, "500|500|500|28|500\n");
  g_autofree char *hits = query (db, "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH '\"harbour strike\"'", NULL);
  g_assert_cmpstr (hits, ==, "500\n");
  sqlite3_close (db);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/export-sqlite/fts5-available", test_fts5_available);
  ADD ("/export-sqlite/tables", test_tables);
  ADD ("/export-sqlite/upsert-and-runs", test_upsert_and_runs);
  ADD ("/export-sqlite/aborted-run", test_aborted_run);
  ADD ("/export-sqlite/killed-writer-journal", test_killed_writer_journal);
  ADD ("/export-sqlite/documented-queries", test_documented_queries);
  ADD ("/export-sqlite/bad-content", test_bad_content);
  ADD ("/export-sqlite/newer-schema", test_newer_schema);
  ADD ("/export-sqlite/migrate-from-v1", test_migrate_from_v1);
  ADD ("/export-sqlite/names-kept-apart", test_names_kept_apart);
  ADD ("/export-sqlite/foreign-database", test_foreign_database);
  ADD ("/export-sqlite/locked", test_locked);
  ADD ("/export-sqlite/disk-full", test_disk_full);
  ADD ("/export-sqlite/options-and-dirs", test_options_and_dirs);
  ADD ("/export-sqlite/fts-modes", test_fts_modes);
  ADD ("/export-sqlite/threads", test_threads);
  return g_test_run ();
}
