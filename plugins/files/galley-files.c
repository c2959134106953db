/* galley-files.c: source that reads article files, directories and globs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-stage.h>

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/galley-input.h"

static const GalleyOptionSpec files_options[] = {
  { "paths", GALLEY_OPT_STRV, NULL, "Files, directories (read recursively) and glob patterns, ';'-separated", NULL },
  { "recursive", GALLEY_OPT_BOOL, "true", "Descend into subdirectories of a directory", NULL },
  { "include", GALLEY_OPT_STRV, "*", "File name patterns to read inside directories", NULL },
  { "exclude", GALLEY_OPT_STRV, ".*;*~", "File name patterns to skip inside directories (hidden and backup files)", NULL },
  { "max-size", GALLEY_OPT_SIZE, "256MiB", "Larger files are skipped with reason too-large", NULL },
  { "content-type", GALLEY_OPT_ENUM, "auto", "Sniff text vs HTML, or force one", "auto|text|html" },
  { NULL }
};

/* An open directory whose listed entries are still pending: files in it
 * are opened relative to it (openat), which saves the kernel a walk of the
 * whole path per file. */
typedef struct {
  gint ref;
  int  fd;
} DirRef;

static DirRef *
dir_ref (DirRef *d)
{
  if (d != NULL)
    d->ref++;
  return d;
}

static void
dir_unref (DirRef *d)
{
  if (d != NULL && --d->ref == 0)
    {
      close (d->fd);
      g_free (d);
    }
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DirRef, dir_unref)

typedef struct {
  char     *path;
  gboolean  top;                /* named in paths=, not found in a directory */
  guint8    d_type;             /* from readdir(); DT_UNKNOWN: stat() it */
  DirRef   *dir;                /* the directory it was listed in, or NULL */
  gsize     name_offset;        /* path + name_offset: name within dir */
} Entry;

static Entry *
entry_new (char *path, gboolean top)
{
  Entry *e = g_new (Entry, 1);
  e->path = path;
  e->top = top;
  e->d_type = DT_UNKNOWN;
  e->dir = NULL;
  e->name_offset = 0;
  return e;
}

static void
entry_free (gpointer data)
{
  Entry *e = data;
  g_free (e->path);
  dir_unref (e->dir);
  g_free (e);
}

typedef struct {
  GQueue          *pending;     /* Entry* still to visit, in order */
  GPtrArray       *include;     /* GPatternSpec* */
  GPtrArray       *exclude;
  gboolean         recursive;
  guint64          max_size;
  GalleyContentType content_type;
  GHashTable      *seen_dirs;   /* "dev:ino" of visited directories */
} Files;

static void
files_free (gpointer data)
{
  Files *self = data;
  if (self == NULL)
    return;
  if (self->pending)
    g_queue_free_full (self->pending, entry_free);
  g_clear_pointer (&self->include, g_ptr_array_unref);
  g_clear_pointer (&self->exclude, g_ptr_array_unref);
  g_clear_pointer (&self->seen_dirs, g_hash_table_unref);
  g_free (self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Files, files_free)

static gboolean
is_glob (const char *path)
{
  return strpbrk (path, "*?[") != NULL;
}

static GPtrArray *
compile_patterns (const char *const *patterns)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_pattern_spec_free);
  for (guint i = 0; patterns[i] != NULL; i++)
    g_ptr_array_add (out, g_pattern_spec_new (patterns[i]));
  return out;
}

static gboolean
matches_any (GPtrArray *patterns, const char *name)
{
  for (guint i = 0; i < patterns->len; i++)
    if (g_pattern_spec_match_string (g_ptr_array_index (patterns, i), name))
      return TRUE;
  return FALSE;
}

static gpointer
files_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Files) self = g_new0 (Files, 1);
  self->pending = g_queue_new ();
  self->recursive = galley_options_get_bool (opts, "recursive");
  self->max_size = galley_options_get_size (opts, "max-size");
  self->include = compile_patterns (galley_options_get_strv (opts, "include"));
  self->exclude = compile_patterns (galley_options_get_strv (opts, "exclude"));
  self->seen_dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *ct = galley_options_get_enum (opts, "content-type");
  self->content_type = g_str_equal (ct, "text") ? GALLEY_CONTENT_TEXT
                     : g_str_equal (ct, "html") ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_UNKNOWN;

  const char *const *paths = galley_options_get_strv (opts, "paths");
  if (paths[0] == NULL)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "paths: empty; name at least one file, directory or glob");
      return NULL;
    }
  for (guint i = 0; paths[i] != NULL; i++)
    {
      if (is_glob (paths[i]))
        {
          glob_t g = { 0 };
          int rc = glob (paths[i], 0, NULL, &g);
          if (rc == GLOB_NOMATCH)
            g_warning ("stage '%s': pattern %s matches no file", galley_stage_context_get_id (ctx), paths[i]);
          else if (rc != 0)
            {
              g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ,
                           "paths: cannot expand pattern %s", paths[i]);
              globfree (&g);
              return NULL;
            }
          for (gsize j = 0; j < g.gl_pathc; j++)
            g_queue_push_tail (self->pending, entry_new (g_strdup (g.gl_pathv[j]), TRUE));
          globfree (&g);
          continue;
        }
      struct stat st;
      if (stat (paths[i], &st) != 0)
        {
          int e = errno;
          g_set_error (error, GALLEY_SOURCE_ERROR,
                       e == ENOENT || e == ENOTDIR || e == EACCES ? GALLEY_SOURCE_ERROR_NO_INPUT
                       : GALLEY_SOURCE_ERROR_READ,
                       "paths: %s: %s", paths[i], g_strerror (e));
          return NULL;
        }
      g_queue_push_tail (self->pending, entry_new (g_strdup (paths[i]), TRUE));
    }
  return g_steal_pointer (&self);
}

typedef struct {
  char   *name;
  guint8  d_type;
} DirName;

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (((const DirName *) a)->name, ((const DirName *) b)->name);
}

/* Queues the entries of directory @path, sorted, ahead of what is pending. */
static gboolean
expand_dir (Files *self, GalleyStageContext *ctx, const char *path, const struct stat *st)
{
  g_autofree char *key = g_strdup_printf ("%ju:%ju", (uintmax_t) st->st_dev, (uintmax_t) st->st_ino);
  if (!g_hash_table_add (self->seen_dirs, g_steal_pointer (&key)))
    {
      galley_stage_skip (ctx, path, "directory-loop");
      return TRUE;
    }
  int dfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = dfd >= 0 ? opendir (path) : NULL;
  if (dir == NULL)
    {
      int e = errno;
      if (dfd >= 0)
        close (dfd);
      g_autoptr(GError) error = g_error_new (GALLEY_SOURCE_ERROR,
                                             e == ENOENT || e == EACCES ? GALLEY_SOURCE_ERROR_NO_INPUT
                                             : GALLEY_SOURCE_ERROR_READ,
                                             "cannot open directory: %s", g_strerror (e));
      return galley_stage_reject (ctx, path, 0, NULL, 0, error);
    }
  g_autoptr(GArray) names = g_array_new (FALSE, FALSE, sizeof (DirName));
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      if (g_str_equal (de->d_name, ".") || g_str_equal (de->d_name, ".."))
        continue;
      DirName dn = { g_strdup (de->d_name), de->d_type };
      g_array_append_val (names, dn);
    }
  closedir (dir);
  g_array_sort (names, compare_names);
  DirRef *dref = g_new (DirRef, 1);
  dref->ref = 1;
  dref->fd = dfd;
  gsize plen = strlen (path);
  gboolean slash = plen > 0 && path[plen - 1] == '/';
  for (guint i = names->len; i > 0; i--)
    {
      DirName *dn = &g_array_index (names, DirName, i - 1);
      Entry *e = entry_new (g_strconcat (path, slash ? "" : "/", dn->name, NULL), FALSE);
      e->d_type = dn->d_type;
      e->dir = dir_ref (dref);
      e->name_offset = plen + (slash ? 0 : 1);
      g_free (dn->name);
      g_queue_push_head (self->pending, e);
    }
  dir_unref (dref);
  return TRUE;
}

/* Returns the content, or NULL with *skip set to a skip reason, or NULL
 * with *error set. */
static GBytes *
read_file (int dirfd, const char *path, guint64 max_size, const char **skip, GError **error)
{
  *skip = NULL;
  int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_SOURCE_ERROR, e == ENOENT || e == EACCES ? GALLEY_SOURCE_ERROR_NO_INPUT
                   : GALLEY_SOURCE_ERROR_READ, "cannot open: %s", g_strerror (e));
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) != 0)
    {
      int e = errno;
      close (fd);
      g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ, "cannot stat: %s", g_strerror (e));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || (guint64) st.st_size > max_size)
    {
      close (fd);
      *skip = S_ISREG (st.st_mode) ? "too-large" : "not-a-regular-file";
      return NULL;
    }
  /* one extra byte so a file of the announced size ends with one more read */
  gsize cap = st.st_size > 0 ? (gsize) st.st_size + 1 : 4096;
  gsize len = 0;
  guint8 *buf = g_malloc (cap + 1);
  for (;;)
    {
      if (len == cap)
        {
          if (len > max_size)
            {
              close (fd);
              g_free (buf);
              g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ,
                           "grew past max-size (%" G_GUINT64_FORMAT " bytes) while being read", max_size);
              return NULL;
            }
          cap *= 2;
          buf = g_realloc (buf, cap + 1);
        }
      ssize_t n = read (fd, buf + len, cap - len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          int e = errno;
          close (fd);
          g_free (buf);
          g_set_error (error, GALLEY_SOURCE_ERROR, GALLEY_SOURCE_ERROR_READ, "read failed: %s", g_strerror (e));
          return NULL;
        }
      if (n == 0)
        break;
      len += n;
      /* a regular file that filled less than the buffer is at its end:
       * save the read() that would return 0 */
      if (S_ISREG (st.st_mode) && len < cap)
        break;
    }
  close (fd);
  buf[len] = 0;
  return g_bytes_new_take (buf, len);
}

static gboolean
files_next (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error)
{
  Files *self = state;
  *out = NULL;
  for (;;)
    {
      if (galley_stage_is_cancelled (ctx))
        return FALSE;
      Entry *entry = g_queue_pop_head (self->pending);
      if (entry == NULL)
        return FALSE;
      gboolean top = entry->top;
      /* a regular file found in a directory listing needs no stat():
       * read_file() checks type and size on the open descriptor */
      gboolean listed_file = !top && entry->d_type == DT_REG;
      g_autofree char *path = g_steal_pointer (&entry->path);
      g_autoptr(DirRef) dref = dir_ref (entry->dir);
      gsize name_offset = entry->name_offset;
      entry_free (entry);
      struct stat st;
      if (listed_file)
        st.st_mode = S_IFREG, st.st_size = 0;
      else if (stat (path, &st) != 0)
        {
          int e = errno;
          g_autoptr(GError) local = g_error_new (GALLEY_SOURCE_ERROR,
                                                 e == ENOENT || e == EACCES ? GALLEY_SOURCE_ERROR_NO_INPUT
                                                 : GALLEY_SOURCE_ERROR_READ, "%s", g_strerror (e));
          if (!galley_stage_reject (ctx, path, 0, NULL, 0, local))
            return FALSE;
          continue;
        }
      if (S_ISDIR (st.st_mode))
        {
          /* the paths themselves are always entered; subdirectories only when recursive */
          g_autofree char *base = g_path_get_basename (path);
          if (!top && (!self->recursive || matches_any (self->exclude, base)))
            continue;
          if (!expand_dir (self, ctx, path, &st))
            return FALSE;
          continue;
        }
      if (!S_ISREG (st.st_mode))
        {
          galley_stage_skip (ctx, path, "not-a-regular-file");
          continue;
        }
      g_autofree char *base = g_path_get_basename (path);
      if (!top && (matches_any (self->exclude, base) || !matches_any (self->include, base)))
        continue;
      if ((guint64) st.st_size > self->max_size)
        {
          g_warning ("stage '%s': %s: %" G_GINT64_FORMAT " bytes is over max-size; skipped",
                     galley_stage_context_get_id (ctx), path, (gint64) st.st_size);
          galley_stage_skip (ctx, path, "too-large");
          continue;
        }
      g_autoptr(GError) local = NULL;
      const char *skip = NULL;
      g_autoptr(GBytes) bytes = dref != NULL
        ? read_file (dref->fd, path + name_offset, self->max_size, &skip, &local)
        : read_file (AT_FDCWD, path, self->max_size, &skip, &local);
      g_clear_pointer (&dref, dir_unref);
      if (bytes == NULL && skip != NULL)
        {
          if (g_str_equal (skip, "too-large"))
            g_warning ("stage '%s': %s: over max-size; skipped", galley_stage_context_get_id (ctx), path);
          galley_stage_skip (ctx, path, skip);
          continue;
        }
      if (bytes == NULL)
        {
          if (!galley_stage_reject (ctx, path, 0, NULL, 0, local))
            return FALSE;
          continue;
        }
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      if (galley_input_is_gzip (data, len))
        {
          GBytes *plain = galley_input_gunzip (data, len, self->max_size, &local);
          if (plain == NULL)
            {
              if (!galley_stage_reject (ctx, path, 0, NULL, 0, local))
                return FALSE;
              continue;
            }
          g_bytes_unref (bytes);
          bytes = plain;
          data = g_bytes_get_data (bytes, &len);
        }
      const char *bom = NULL;
      InputKind kind = galley_input_sniff (data, len, path, &bom);
      if (kind == INPUT_KIND_BINARY)
        {
          g_debug ("stage '%s': %s looks binary; skipped", galley_stage_context_get_id (ctx), path);
          galley_stage_skip (ctx, path, "binary-file");
          continue;
        }
      if (len == 0)
        galley_stage_count (ctx, "empty-files", 1);
      GalleyDocument *doc = galley_document_new (path, path);
      galley_document_set_raw (doc, bytes);
      if (bom != NULL)
        galley_document_set_declared_encoding (doc, bom);
      if (self->content_type != GALLEY_CONTENT_UNKNOWN)
        galley_document_set_content_type (doc, self->content_type);
      else
        galley_document_set_content_type (doc, kind == INPUT_KIND_HTML ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_TEXT);
      *out = doc;
      return TRUE;
    }
}

static const GalleyStageInfo files_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "files", "Read article files, directories and globs (gzip aware, binary files skipped)", "1.0.0",
  GALLEY_KIND_SOURCE, GALLEY_STAGE_FLAGS_NONE,
  files_options, files_init, NULL, files_next, NULL, files_free,
};
GALLEY_STAGE_DEFINE (files_info)
