/* galley-export-csv.c: sink that writes one CSV row per document.
 *
 * Rows follow RFC 4180: fields holding the delimiter, a double quote, CR
 * or LF are quoted, quotes are doubled, records end with CRLF. Cells are
 * valid UTF-8: invalid bytes and NULs (possible in metadata) become U+FFFD.
 *
 * Replace mode (the default) writes a temporary file that is fsynced and
 * renamed over the target in finish() (through a symbolic link, the file
 * it points to; a FIFO or character device is written through, except
 * with a state directory or in a sharded run). Append mode writes at the end of the
 * target and records the committed length in a small file beside it
 * (.NAME.committed), replaced atomically in finish(); a run that dies
 * leaves a tail past that length, which the next run cuts off before it
 * appends. See docs/export.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-output.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLUSH_AT (1 << 20)
#define COMMITTED_MAGIC "galley-export-csv committed-length "

static const GalleyOptionSpec export_csv_options[] = {
  { "path", GALLEY_OPT_STRING, NULL, "Output file; strftime patterns (%Y-%m-%d) and {run} (the run's number, after the highest existing file's) expand at start; - writes standard output", NULL },
  { "columns", GALLEY_OPT_STRV, "id;source;meta.title;meta.date;text",
    "Columns in order: id, source, text, encoding, content_type, meta.KEY, entities, entities.TYPE, a field of an earlier stage (dedup.cluster), or field.NAME", NULL },
  { "header", GALLEY_OPT_BOOL, "true", "Write a header row with the column names (in append mode only into an empty file)", NULL },
  { "delimiter", GALLEY_OPT_STRING, ",", "Field delimiter: one ASCII character, or 'tab'", NULL },
  { "newline", GALLEY_OPT_ENUM, "crlf", "Record terminator: crlf (RFC 4180) or lf", "crlf|lf" },
  { "quote", GALLEY_OPT_ENUM, "needed", "Quote fields only when needed, or all fields", "needed|all" },
  { "list-separator", GALLEY_OPT_STRING, ";", "Joins several values in one cell (entity names, arrays)", NULL },
  { "bom", GALLEY_OPT_BOOL, "false", "Start a new file with a UTF-8 byte order mark (for spreadsheet programs)", NULL },
  { "append", GALLEY_OPT_BOOL, "false", "Append to the file instead of replacing it; an unfinished earlier run's tail is cut off", NULL },
  { "mkdir", GALLEY_OPT_BOOL, "true", "Create missing parent directories", NULL },
  { "fsync", GALLEY_OPT_BOOL, "true", "fsync the file and its directory before reporting success", NULL },
  { NULL }
};

typedef enum {
  COL_ID,
  COL_SOURCE,
  COL_TEXT,
  COL_ENCODING,
  COL_CONTENT_TYPE,
  COL_META,          /* meta.KEY[.KEY...] */
  COL_ENTITIES,      /* all entities as TYPE:name */
  COL_ENTITY_TYPE,   /* entities.TYPE: names of that type */
  COL_FIELD,         /* plugin field path: dedup.cluster */
} ColumnKind;

typedef struct {
  ColumnKind  kind;
  char       *name;   /* as given, for the header */
  char      **path;   /* keys below meta or the field bag; the type for COL_ENTITY_TYPE */
} Column;

typedef struct {
  char       *path;          /* expanded target, NULL for stdout */
  GalleyOutputFile *out;     /* replace mode, while writing to a file */
  char       *committed_path;/* append mode: .NAME.committed beside the target */
  int         fd;
  gboolean    do_fsync;
  gboolean    do_mkdir;
  gboolean    append;
  gboolean    incremental;   /* the run has a state directory */
  gboolean    header;
  gboolean    bom;
  gboolean    quote_all;
  char        delimiter;
  const char *newline;
  char       *list_sep;
  GArray     *columns;       /* Column */
  GString    *buf;
  GString    *cell;
  GHashTable *seen;          /* scratch: names already in the cell */
  gboolean    opened;
  gboolean    finished;
  off_t       committed;     /* append mode: length known good */
  gint64      rows;
  gint64      bytes;
  gint64      repaired;      /* cells with invalid UTF-8 or NUL replaced */
} ExportCsv;

static void
column_clear (gpointer data)
{
  Column *c = data;
  g_free (c->name);
  g_strfreev (c->path);
}

static void
export_csv_free (gpointer data)
{
  ExportCsv *self = data;
  if (self == NULL)
    return;
  if (self->out != NULL)
    {
      /* not finished: the target keeps its previous content */
      g_clear_pointer (&self->out, galley_output_file_free);
    }
  else if (self->append && self->fd >= 0)
    {
      if (!self->finished && ftruncate (self->fd, self->committed) != 0)
        g_warning ("%s: cannot cut off the rows of this failed run: %s", self->path, g_strerror (errno));
      close (self->fd);   /* also drops the lock */
    }
  g_free (self->path);
  g_free (self->committed_path);
  g_free (self->list_sep);
  if (self->columns)
    g_array_unref (self->columns);
  if (self->buf)
    g_string_free (self->buf, TRUE);
  if (self->cell)
    g_string_free (self->cell, TRUE);
  if (self->seen)
    g_hash_table_unref (self->seen);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExportCsv, export_csv_free)

/* The entity types of the entities layer (docs/entities.md). */
static const char *const entity_types[] = { "PER", "ORG", "LOC", "DATE", "MONEY", "PERCENT", NULL };

#define COLUMNS_ALLOWED "id, source, text, encoding, content_type, meta.KEY, entities, " \
                        "entities.TYPE (PER, ORG, LOC, DATE, MONEY, PERCENT), a field of an earlier stage " \
                        "named after it (dedup.cluster), or field.NAME for any other field"

/* Sets a configuration error for column @name: @what, then the columns
 * there are, then @hint if any. */
static gboolean
column_error (GError **error, const char *name, const char *what, const char *hint)
{
  g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
               "columns: '%s' %s; columns are " COLUMNS_ALLOWED "%s%s%s", name, what,
               hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
  return FALSE;
}

/* An entity type one of whose spellings starts the other (PERSON, PER). */
static const char *
similar_entity_type (const char *type)
{
  for (guint i = 0; entity_types[i] != NULL; i++)
    {
      gsize a = strlen (type), b = strlen (entity_types[i]);
      if (g_ascii_strncasecmp (type, entity_types[i], MIN (a, b)) == 0)
        return entity_types[i];
    }
  return NULL;
}

/* @upstream: galley_stage_context_list_upstream(), or NULL when not known
 * (fields are then taken on trust). */
static gboolean
parse_columns (ExportCsv *self, const char *const *spec, const char *const *upstream, GError **error)
{
  self->columns = g_array_new (FALSE, TRUE, sizeof (Column));
  g_array_set_clear_func (self->columns, column_clear);
  static const struct { const char *name; ColumnKind kind; } fixed[] = {
    { "id", COL_ID }, { "source", COL_SOURCE }, { "text", COL_TEXT },
    { "encoding", COL_ENCODING }, { "content_type", COL_CONTENT_TYPE }, { "entities", COL_ENTITIES },
  };
  for (guint i = 0; spec != NULL && spec[i] != NULL; i++)
    {
      const char *name = spec[i];
      Column c = { COL_FIELD, NULL, NULL };
      gboolean known = FALSE;
      if (*name == '\0')
        continue;
      for (guint k = 0; k < G_N_ELEMENTS (fixed); k++)
        if (g_str_equal (name, fixed[k].name))
          {
            c.kind = fixed[k].kind;
            known = TRUE;
          }
      if (!known)
        {
          g_auto(GStrv) parts = g_strsplit (name, ".", -1);
          for (guint k = 0; parts[k] != NULL; k++)
            if (*parts[k] == '\0')
              return column_error (error, name, "has an empty part", NULL);
          if (g_str_equal (parts[0], "meta") || g_str_equal (parts[0], "entities") || g_str_equal (parts[0], "field"))
            {
              if (parts[1] == NULL)
                {
                  g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                               "columns: '%s' needs a key (%s)", name,
                               g_str_equal (parts[0], "field") ? "field.url" : "meta.title");
                  return FALSE;
                }
              if (g_str_equal (parts[0], "entities") && parts[2] != NULL)
                {
                  g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                               "columns: '%s': write entities.TYPE, e.g. entities.PER", name);
                  return FALSE;
                }
              if (g_str_equal (parts[0], "entities") && !g_strv_contains (entity_types, parts[1]))
                {
                  const char *like = similar_entity_type (parts[1]);
                  g_autofree char *hint = like ? g_strconcat ("entities.", like, NULL) : NULL;
                  return column_error (error, name, "names no entity type", hint);
                }
              c.kind = g_str_equal (parts[0], "meta") ? COL_META
                       : g_str_equal (parts[0], "entities") ? COL_ENTITY_TYPE : COL_FIELD;
              c.path = g_strdupv (parts + 1);
            }
          else if (upstream != NULL && !g_strv_contains (upstream, parts[0]))
            {
              /* a field named after no earlier stage: most likely a
               * metadata key (title) or a typo */
              g_autofree char *hint = g_strconcat ("meta.", name, "' or 'field.", name, NULL);
              return column_error (error, name, "is no column and names no earlier stage", hint);
            }
          else
            c.path = g_steal_pointer (&parts);
        }
      c.name = g_strdup (name);
      g_array_append_val (self->columns, c);
    }
  if (self->columns->len == 0)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "columns: empty");
      return FALSE;
    }
  return TRUE;
}

static gpointer
export_csv_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(ExportCsv) self = g_new0 (ExportCsv, 1);
  self->fd = -1;
  self->do_fsync = galley_options_get_bool (opts, "fsync");
  self->do_mkdir = galley_options_get_bool (opts, "mkdir");
  self->append = galley_options_get_bool (opts, "append");
  self->incremental = galley_stage_is_incremental (ctx);
  self->header = galley_options_get_bool (opts, "header");
  self->bom = galley_options_get_bool (opts, "bom");
  self->quote_all = g_str_equal (galley_options_get_enum (opts, "quote"), "all");
  self->newline = g_str_equal (galley_options_get_enum (opts, "newline"), "lf") ? "\n" : "\r\n";
  self->list_sep = g_strdup (galley_options_get_string (opts, "list-separator"));
  self->buf = g_string_sized_new (FLUSH_AT + 64 * 1024);
  self->cell = g_string_new (NULL);
  self->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  const char *delim = galley_options_get_string (opts, "delimiter");
  if (g_str_equal (delim, "tab"))
    delim = "\t";
  if (strlen (delim) != 1 || (guchar) delim[0] >= 0x80 || delim[0] == '"' || delim[0] == '\r' || delim[0] == '\n')
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "delimiter: expected one ASCII character other than a quote or line break, or 'tab'; got '%s'", delim);
      return NULL;
    }
  self->delimiter = delim[0];
  if (!g_utf8_validate (self->list_sep, -1, NULL))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "list-separator: not valid UTF-8");
      return NULL;
    }
  g_auto(GStrv) upstream = galley_stage_context_list_upstream (ctx);
  if (!parse_columns (self, galley_options_get_strv (opts, "columns"), (const char *const *) upstream, error))
    return NULL;

  const char *path = galley_options_get_string (opts, "path");
  if (*path == '\0')
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "path: empty; give a file name or - for standard output");
      return NULL;
    }
  if (g_str_equal (path, "-"))
    {
      if (self->append)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                       "append: standard output (path=-) cannot be appended to; give a file name");
          return NULL;
        }
      self->fd = STDOUT_FILENO;
      return g_steal_pointer (&self);
    }
  self->path = galley_output_expand_path (path, galley_stage_context_get_run_id (ctx), error);
  if (self->path == NULL
      || !galley_output_check_target (ctx, self->path, self->do_mkdir ? GALLEY_OUTPUT_MKDIR : GALLEY_OUTPUT_FLAGS_NONE,
                                      self->append ? GALLEY_OUTPUT_STREAMS_NO_APPEND
                                      : GALLEY_OUTPUT_STREAMS_UNLESS_COMMITTED, NULL, error))
    return NULL;
  /* a file appended to, or numbered by run, is one state directory's */
  if (self->append || strstr (path, "{run}") != NULL)
    {
      g_autofree char *family = galley_output_expand_family (path, error);
      if (family == NULL || !galley_stage_claim_file (ctx, family, error))
        return NULL;
    }
  if (self->append)
    {
      g_autofree char *dir = g_path_get_dirname (self->path);
      g_autofree char *base = g_path_get_basename (self->path);
      self->committed_path = g_strdup_printf ("%s/.%s.committed", dir, base);
      if (g_file_test (self->path, G_FILE_TEST_EXISTS) && access (self->path, W_OK) != 0)
        {
          g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "path: cannot append to %s: %s",
                       self->path, g_strerror (errno));
          return NULL;
        }
    }
  return g_steal_pointer (&self);
}

/* ---- output file ------------------------------------------------------- */

/* Replace mode: a temporary file beside the target, or the stream itself. */
static gboolean
open_output (ExportCsv *self, GError **error)
{
  self->out = galley_output_file_open (self->path, self->do_mkdir ? GALLEY_OUTPUT_MKDIR : GALLEY_OUTPUT_FLAGS_NONE,
                                       error);
  if (self->out == NULL)
    return FALSE;
  self->fd = galley_output_file_get_fd (self->out);
  return TRUE;
}

/* The file being written, for messages. */
static const char *
written_path (ExportCsv *self)
{
  if (self->out != NULL)
    return galley_output_file_get_tmp_path (self->out) ? galley_output_file_get_tmp_path (self->out)
                                                       : galley_output_file_get_target (self->out);
  return self->path ? self->path : "standard output";
}

/* Replaces the committed-length file atomically. */
static gboolean
write_committed (ExportCsv *self, off_t length, GError **error)
{
  g_autofree char *content = g_strdup_printf (COMMITTED_MAGIC "%" G_GINT64_FORMAT "\n", (gint64) length);
  g_autofree char *tmp = g_strconcat (self->committed_path, ".tmp", NULL);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    return galley_output_set_io_error (error, errno, "cannot create", tmp);
  gsize len = strlen (content);
  if (write (fd, content, len) != (ssize_t) len || (self->do_fsync && fsync (fd) != 0))
    {
      int e = errno ? errno : EIO;
      close (fd);
      g_unlink (tmp);
      return galley_output_set_io_error (error, e, "cannot write", tmp);
    }
  close (fd);
  if (g_rename (tmp, self->committed_path) != 0)
    {
      int e = errno;
      g_unlink (tmp);
      return galley_output_set_io_error (error, e, "cannot rename temporary file to", self->committed_path);
    }
  if (self->do_fsync)
    galley_output_fsync_parent (self->committed_path);
  return TRUE;
}

/* Reads the committed length; FALSE when there is no (usable) record. */
static gboolean
read_committed (ExportCsv *self, off_t *length)
{
  g_autofree char *content = NULL;
  if (!g_file_get_contents (self->committed_path, &content, NULL, NULL))
    return FALSE;
  if (!g_str_has_prefix (content, COMMITTED_MAGIC))
    {
      g_warning ("%s: not a galley committed-length file; ignoring it", self->committed_path);
      return FALSE;
    }
  char *end = NULL;
  guint64 v = g_ascii_strtoull (content + strlen (COMMITTED_MAGIC), &end, 10);
  if (end == content + strlen (COMMITTED_MAGIC) || (*end != '\n' && *end != '\0') || v > G_MAXINT64)
    {
      g_warning ("%s: unreadable length; ignoring it", self->committed_path);
      return FALSE;
    }
  *length = (off_t) v;
  return TRUE;
}

static gboolean
open_append (ExportCsv *self, GalleyStageContext *ctx, GError **error)
{
  if (self->do_mkdir && !galley_output_make_parent (self->path, error))
    return FALSE;
  int fd = open (self->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    return galley_output_set_io_error (error, errno, errno == ENOENT || errno == EACCES || errno == EROFS ? "cannot create" : "cannot open",
                            self->path);
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int e = errno;
      close (fd);
      if (e == EWOULDBLOCK)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                     "%s is being appended to by another run; try again when it has finished", self->path);
      else
        galley_output_set_io_error (error, e, "cannot lock", self->path);
      return FALSE;
    }
  self->fd = fd;
  struct stat st;
  if (fstat (fd, &st) != 0)
    return galley_output_set_io_error (error, errno, "cannot stat", self->path);
  off_t committed = st.st_size;
  gint64 ledger = self->incremental ? galley_stage_committed_length (ctx, self->path) : -1;
  gboolean known = ledger >= 0;
  if (known)
    committed = (off_t) ledger;
  else if (!self->incremental)
    known = read_committed (self, &committed);
  if (known)
    {
      if (st.st_size > committed)
        {
          g_warning ("stage '%s': %s: removing %" G_GINT64_FORMAT " bytes written by an unfinished earlier run",
                     galley_stage_context_get_id (ctx), self->path, (gint64) (st.st_size - committed));
          if (ftruncate (fd, committed) != 0)
            return galley_output_set_io_error (error, errno, "cannot truncate", self->path);
          galley_stage_count (ctx, "bytes-truncated", st.st_size - committed);
        }
      else if (st.st_size < committed)
        {
          g_warning ("stage '%s': %s is shorter than its last committed length (changed by hand?); appending at its end",
                     galley_stage_context_get_id (ctx), self->path);
          committed = st.st_size;
        }
    }
  /* Record the starting point before writing anything, so that even a first
   * run that dies can be cut back (the run ledger does this itself). */
  if (!self->incremental && !write_committed (self, committed, error))
    return FALSE;
  self->committed = committed;
  if (lseek (fd, committed, SEEK_SET) < 0)
    return galley_output_set_io_error (error, errno, "cannot seek in", self->path);
  return TRUE;
}

static gboolean
flush_buffer (ExportCsv *self, GError **error)
{
  const char *p = self->buf->str;
  gsize left = self->buf->len;
  while (left > 0)
    {
      ssize_t n = write (self->fd, p, left);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return galley_output_set_io_error (error, errno, "cannot write", written_path (self));
        }
      p += n;
      left -= n;
    }
  self->bytes += self->buf->len;
  g_string_truncate (self->buf, 0);
  return TRUE;
}

/* ---- rows -------------------------------------------------------------- */

/* Appends @len bytes of @s to the cell, with invalid UTF-8 and NUL bytes as
 * U+FFFD. */
static void
cell_append (ExportCsv *self, const char *s, gsize len)
{
  const char *end;
  while (len > 0 && !galley_utf8_validate (s, len, &end))
    {
      g_string_append_len (self->cell, s, end - s);
      g_string_append (self->cell, "\xEF\xBF\xBD");
      len -= (end - s);
      s = end;
      /* skip one bad byte (a NUL or a byte that starts no valid sequence) */
      s++;
      len--;
      self->repaired++;
    }
  g_string_append_len (self->cell, s, len);
}

static void cell_append_json (ExportCsv *self, json_object *v, gboolean top);

static void
cell_append_json (ExportCsv *self, json_object *v, gboolean top)
{
  switch (json_object_get_type (v))
    {
    case json_type_null:
      break;
    case json_type_string:
      cell_append (self, json_object_get_string (v), json_object_get_string_len (v));
      break;
    case json_type_boolean:
      g_string_append (self->cell, json_object_get_boolean (v) ? "true" : "false");
      break;
    case json_type_int:
      g_string_append_printf (self->cell, "%" G_GINT64_FORMAT, (gint64) json_object_get_int64 (v));
      break;
    case json_type_array:
      if (top)
        {
          size_t n = json_object_array_length (v);
          for (size_t i = 0; i < n; i++)
            {
              if (i > 0)
                g_string_append (self->cell, self->list_sep);
              cell_append_json (self, json_object_array_get_idx (v, i), FALSE);
            }
          break;
        }
      G_GNUC_FALLTHROUGH;
    case json_type_double:
    case json_type_object:
    default:
      {
        const char *s = json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        cell_append (self, s, strlen (s));
      }
      break;
    }
}

static json_object *
lookup_path (json_object *obj, char **path)
{
  for (guint i = 0; path[i] != NULL && obj != NULL; i++)
    {
      json_object *child = NULL;
      if (!json_object_is_type (obj, json_type_object) || !json_object_object_get_ex (obj, path[i], &child))
        return NULL;
      obj = child;
    }
  return obj;
}

/* Entity names of @type (all types when NULL), canonical form first, each
 * once, in order of first mention. */
static void
cell_append_entities (ExportCsv *self, GalleyDocument *doc, const char *type)
{
  guint n = galley_document_get_n_annotations (doc);
  g_hash_table_remove_all (self->seen);
  gboolean first = TRUE;
  for (guint i = 0; i < n; i++)
    {
      const GalleyAnnotation *a = galley_document_get_annotation (doc, i);
      if (a->layer == NULL || !g_str_equal (a->layer, "entities") || a->type == NULL)
        continue;
      if (type != NULL && !g_str_equal (a->type, type))
        continue;
      const char *name = a->canonical != NULL && *a->canonical ? a->canonical : a->text;
      if (name == NULL)
        continue;
      char *key = type == NULL ? g_strconcat (a->type, ":", name, NULL) : g_strdup (name);
      if (!g_hash_table_add (self->seen, key))
        continue;
      if (!first)
        g_string_append (self->cell, self->list_sep);
      first = FALSE;
      if (type == NULL)
        {
          g_string_append (self->cell, a->type);
          g_string_append_c (self->cell, ':');
        }
      cell_append (self, name, strlen (name));
    }
}

static void
write_cell (ExportCsv *self, const char *s, gsize len)
{
  gboolean quote = self->quote_all;
  for (gsize i = 0; i < len && !quote; i++)
    if (s[i] == '"' || s[i] == '\n' || s[i] == '\r' || s[i] == self->delimiter)
      quote = TRUE;
  if (!quote)
    {
      g_string_append_len (self->buf, s, len);
      return;
    }
  g_string_append_c (self->buf, '"');
  const char *p = s, *end = s + len;
  const char *q;
  while ((q = memchr (p, '"', end - p)) != NULL)
    {
      g_string_append_len (self->buf, p, q - p + 1);
      g_string_append_c (self->buf, '"');
      p = q + 1;
    }
  g_string_append_len (self->buf, p, end - p);
  g_string_append_c (self->buf, '"');
}

static void
write_header (ExportCsv *self)
{
  if (self->bom)
    g_string_append (self->buf, "\xEF\xBB\xBF");
  if (!self->header)
    return;
  for (guint i = 0; i < self->columns->len; i++)
    {
      const Column *c = &g_array_index (self->columns, Column, i);
      if (i > 0)
        g_string_append_c (self->buf, self->delimiter);
      write_cell (self, c->name, strlen (c->name));
    }
  g_string_append (self->buf, self->newline);
}

static gboolean
ensure_open (ExportCsv *self, GalleyStageContext *ctx, GError **error)
{
  if (self->opened)
    return TRUE;
  if (self->path != NULL)
    {
      if (self->append ? !open_append (self, ctx, error) : !open_output (self, error))
        return FALSE;
    }
  self->opened = TRUE;
  if (!self->append || self->committed == 0)
    write_header (self);
  return TRUE;
}

static GalleyVerdict
export_csv_process (gpointer state, GalleyDocument *doc, GalleyStageContext *ctx, GError **error)
{
  ExportCsv *self = state;
  if (!ensure_open (self, ctx, error))
    return GALLEY_VERDICT_ERROR;
  for (guint i = 0; i < self->columns->len; i++)
    {
      const Column *c = &g_array_index (self->columns, Column, i);
      const char *s = NULL;
      gsize len = 0;
      g_string_truncate (self->cell, 0);
      switch (c->kind)
        {
        case COL_ID:
          s = galley_document_get_id (doc);
          break;
        case COL_SOURCE:
          s = galley_document_get_source (doc);
          break;
        case COL_TEXT:
          s = galley_document_get_text (doc, &len);   /* valid UTF-8 without NUL */
          break;
        case COL_ENCODING:
          s = galley_document_get_encoding (doc);
          break;
        case COL_CONTENT_TYPE:
          if (galley_document_get_content_type (doc) != GALLEY_CONTENT_UNKNOWN)
            s = galley_content_type_to_string (galley_document_get_content_type (doc));
          break;
        case COL_META:
          cell_append_json (self, lookup_path (galley_document_get_meta (doc), c->path), TRUE);
          break;
        case COL_ENTITIES:
          cell_append_entities (self, doc, NULL);
          break;
        case COL_ENTITY_TYPE:
          cell_append_entities (self, doc, c->path[0]);
          break;
        case COL_FIELD:
          cell_append_json (self, lookup_path (galley_document_get_fields (doc), c->path), TRUE);
          break;
        }
      if (s != NULL && c->kind != COL_TEXT)
        {
          cell_append (self, s, strlen (s));
          s = NULL;
        }
      if (i > 0)
        g_string_append_c (self->buf, self->delimiter);
      if (s != NULL)
        write_cell (self, s, len);
      else
        write_cell (self, self->cell->str, self->cell->len);
    }
  g_string_append (self->buf, self->newline);
  self->rows++;
  if (self->buf->len >= FLUSH_AT && !flush_buffer (self, error))
    return GALLEY_VERDICT_ERROR;
  return GALLEY_VERDICT_KEEP;
}

static gboolean
export_csv_finish (gpointer state, GalleyStageContext *ctx, GError **error)
{
  ExportCsv *self = state;
  if (!ensure_open (self, ctx, error) || !flush_buffer (self, error))
    return FALSE;
  galley_stage_count (ctx, "rows", self->rows);
  galley_stage_count (ctx, "bytes-written", self->bytes);
  if (self->repaired > 0)
    galley_stage_count (ctx, "cells-repaired", self->repaired);
  if (self->path == NULL)
    return TRUE;
  if (self->append)
    {
      if (self->do_fsync && fsync (self->fd) != 0)
        return galley_output_set_io_error (error, errno, "cannot fsync", self->path);
      /* the commit: the new length is recorded, in the run ledger with the
       * sources' state when the run has a state directory */
      if (self->incremental)
        galley_stage_set_committed_length (ctx, self->path, self->committed + self->bytes);
      else if (!write_committed (self, self->committed + self->bytes, error))
        return FALSE;
      self->committed += self->bytes;
      self->finished = TRUE;
    }
  else
    {
      self->fd = -1;
      if (!galley_output_file_close (self->out, self->do_fsync, error))
        return FALSE;
      /* renamed now, or after the run commits when it has a state
       * directory; a stream has nothing to rename */
      const char *tmp = galley_output_file_get_tmp_path (self->out);
      if (tmp != NULL)
        {
          if (!galley_stage_commit_file (ctx, tmp, galley_output_file_get_target (self->out), error))
            return FALSE;
          galley_output_file_release_tmp (self->out);
        }
    }
  g_info ("stage '%s': wrote %" G_GINT64_FORMAT " rows to %s", galley_stage_context_get_id (ctx), self->rows, self->path);
  return TRUE;
}

/* ---- shard mode ---- */

static gboolean
export_csv_shard_check (const GalleyOptions *opts, GError **error)
{
  if (g_str_equal (galley_options_get_string (opts, "path"), "-"))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "writes standard output; give it a file");
      return FALSE;
    }
  if (galley_options_get_bool (opts, "append"))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "appends; the merge step replaces its target");
      return FALSE;
    }
  return TRUE;
}

/* Every part starts with the byte order mark and the header row (when
 * the options ask for them); only the first part keeps them. */
static gssize
export_csv_part_header (const GalleyOptions *opts, const char *part, GError **error)
{
  gsize prefix = galley_options_get_bool (opts, "bom") ? 3 : 0;
  if (!galley_options_get_bool (opts, "header"))
    return prefix;
  int fd = open (part, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      galley_output_set_io_error (error, errno, "cannot open", part);
      return -1;
    }
  /* the header row ends at the first line break after the mark */
  char buf[16 * 1024];
  gsize pos = 0;
  for (;;)
    {
      ssize_t n = pread (fd, buf, sizeof buf, pos);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          close (fd);
          galley_output_set_io_error (error, e, "cannot read", part);
          return -1;
        }
      if (n == 0)
        break;
      gsize from = pos < prefix ? MIN (prefix - pos, (gsize) n) : 0;
      const char *nl = memchr (buf + from, '\n', n - from);
      if (nl != NULL)
        {
          close (fd);
          return pos + (nl - buf) + 1;
        }
      pos += n;
    }
  close (fd);
  return pos;   /* a part that is all header */
}

static gboolean
export_csv_merge_syncs (const GalleyOptions *opts)
{
  return galley_options_get_bool (opts, "fsync");
}

static const GalleyShardInfo export_csv_shard = {
  .caps = GALLEY_SHARD_MERGES_PARTS,
  .check = export_csv_shard_check,
  .part_header = export_csv_part_header,
  .merge_syncs = export_csv_merge_syncs,
};

static const GalleyStageInfo export_csv_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "export-csv", "Write one CSV row per document (RFC 4180), replacing the file atomically or appending", "1.0.0",
  GALLEY_KIND_SINK, GALLEY_STAGE_FLAGS_NONE,
  export_csv_options, export_csv_init, export_csv_process, NULL, export_csv_finish, export_csv_free,
  .shard = &export_csv_shard,
};
GALLEY_STAGE_DEFINE (export_csv_info)
