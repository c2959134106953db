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

#include <galley/galley-input.h>

/* inlined: 11 million fewer instructions per 50,000 small files than
 * through the shared library */
#define XXH_INLINE_ALL
#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
/* from libxxhash (xxh_x86dispatch.h, which XXH_INLINE_ALL would make static) */
extern XXH64_hash_t XXH3_64bits_dispatch (const void *input, size_t len);
#endif

/* The content hash of a file (XXH3, 64 bits). Inputs longer than 240
 * bytes go through libxxhash's dispatcher on x86, which uses AVX2 or
 * AVX-512 when the CPU has them (the inlined code is SSE2 only): about
 * half the instructions for a 420-byte article. Same value either way. */
static inline guint64
content_hash (GBytes *bytes)
{
  gsize len = 0;
  const void *data = g_bytes_get_data (bytes, &len);
#if defined(__x86_64__) || defined(__i386__)
  if (len > 240)
    return XXH3_64bits_dispatch (data, len);
#endif
  return XXH3_64bits (data, len);
}

/* The document id of the file at @path: the path itself when it is valid
 * UTF-8 without a backslash (NULL is returned then), else a copy in which
 * each byte that is not part of valid UTF-8 is written \xHH (two upper-case
 * hex digits) and each backslash \\, so two names never give one id and
 * the name can be read back from the id. */
static char *
path_to_id (const char *path)
{
  gsize len = strlen (path);
  if (galley_utf8_validate (path, len, NULL) && memchr (path, '\\', len) == NULL)
    return NULL;
  GString *id = g_string_sized_new (len + 8);
  const char *p = path, *end = path + len;
  while (p < end)
    {
      const char *valid_end = NULL;
      galley_utf8_validate (p, end - p, &valid_end);
      for (const char *q = p; q < valid_end; q++)
        {
          if (*q == '\\')
            g_string_append (id, "\\\\");
          else
            g_string_append_c (id, *q);
        }
      p = valid_end;
      if (p < end)
        {
          g_string_append_printf (id, "\\x%02X", (guint) (guchar) *p);
          p++;
        }
    }
  return g_string_free (id, FALSE);
}

static const GalleyOptionSpec files_options[] = {
  { "paths", GALLEY_OPT_STRV, NULL, "Files, directories (read recursively) and glob patterns, ';'-separated", NULL },
  { "recursive", GALLEY_OPT_BOOL, "true", "Descend into subdirectories of a directory", NULL },
  { "include", GALLEY_OPT_STRV, "*", "File name patterns to read inside directories", NULL },
  { "exclude", GALLEY_OPT_STRV, ".*;*~", "File name patterns to skip inside directories (hidden and backup files)", NULL },
  { "quick-dirs", GALLEY_OPT_BOOL, "false", "With a state directory: skip a directory without subdirectories whose modification time has not changed since the last run, without looking at its files (adding, removing or renaming a file changes it; rewriting a file in place does not)", NULL },
  { "max-size", GALLEY_OPT_SIZE, "256MiB", "Larger files are skipped with reason too-large", NULL },
  { "read-ahead", GALLEY_OPT_INT, "64", "Files of a directory a helper thread reads ahead of the walk (open, read, close and, with a state directory, the content hash); 0: the walk reads each file itself", NULL, .min = "0", .max = "65536" },
  { "content-type", GALLEY_OPT_ENUM, "auto", "Sniff text vs HTML, or force one", "auto|text|html" },
  { "id", GALLEY_OPT_ENUM, "path", "Document id: the path as read (a paths= entry and the way down from it), the path relative to the paths= entry (a file named there: its name), or the file name alone", "path|relative|name" },
  { NULL }
};

typedef enum {
  ID_PATH,       /* the path as read */
  ID_RELATIVE,   /* below the paths= entry */
  ID_NAME,       /* the file name */
} IdMode;

/* A path named in paths= (or matched by a glob there). */
typedef struct {
  char     *path;
  gint64    size;   /* a regular file's size, or -1 */
} Entry;

static Entry *
entry_new (char *path)
{
  Entry *e = g_new (Entry, 1);
  e->path = path;
  e->size = -1;
  return e;
}

static void
entry_free (gpointer data)
{
  Entry *e = data;
  g_free (e->path);
  g_free (e);
}

/* A directory being walked. Its entries are kept compactly (names packed
 * in one buffer, about 30 bytes an entry), so even a spool directory with
 * millions of files costs tens of megabytes, not hundreds. Files in it are
 * opened relative to its descriptor (openat), which saves the kernel a walk
 * of the whole path per file. */
typedef struct {
  guint32 offset;   /* of the name in Frame.names */
  guint8  d_type;   /* from readdir(); DT_UNKNOWN: stat() it */
} Item;

/* With a state directory, each file of a directory is looked up in the
 * ledger and, if known, stat()ed: a run that finds nothing new is mostly
 * these calls. A helper thread does them from the directory's last file
 * backwards while the walk does them from the first forwards; each file is
 * claimed by whoever gets to it first, and they meet in the middle. */
enum { CLAIM_NONE, CLAIM_WALK, CLAIM_HELPER, CLAIM_HELPER_DONE, CLAIM_WALK_AHEAD };

typedef struct {
  gint64           size;
  struct timespec  mtim;
  gint             claim;   /* CLAIM_*, atomic */
  guint8           known;   /* the ledger knows the file: seen holds its record */
  guint8           stated;  /* size and mtim are set (else stat it again to report why) */
  GalleyInputState seen;
} Prefetch;

typedef struct _StatTask StatTask;

/* A file the read-ahead helper read for the walk: what read_file() says. */
typedef struct {
  gint        item;     /* atomic: the item whose result this is; -1: none yet */
  GBytes     *bytes;
  const char *skip;
  gboolean    changed;
  struct stat st;
  GError     *error;
  guint64     hash;
} Ahead;

typedef struct _ReadTask ReadTask;

typedef struct {
  char    *path;
  int      fd;
  GString *names;
  GArray  *items;   /* Item, sorted by name */
  Prefetch *prefetch; /* per item, or NULL */
  StatTask *task;     /* the helper's share, while it runs */
  /* read-ahead: files the helper reads before the walk gets to them. Each
   * is claimed by the helper or the walk, whoever comes first; the helper
   * works between READ_AHEAD_GAP and n_ahead items ahead of the one the
   * walk is at (consumed), so that the walk reads the files right in
   * front of it itself instead of waiting for the helper to finish them */
  Ahead   *ahead;       /* n_ahead slots, item i in ahead[i % n_ahead] */
  guint    n_ahead;
  gint    *claims;      /* per item, atomic: CLAIM_NONE, CLAIM_WALK (reads it when it gets there),
                         * CLAIM_HELPER or CLAIM_WALK_AHEAD (read into its slot) */
  gint     consumed;    /* atomic */
  gint     ahead_kib;   /* atomic: size of the files read into slots and not taken yet */
  gint     stop_reading; /* atomic: the walk went into a subdirectory, or the frame goes */
  ReadTask *read_task;
  guint    next;
  gboolean record;  /* quick-dirs: remember it once all its files are handled */
  GalleyInputState state;
} Frame;

static void task_finish (StatTask *task);
static void read_task_finish (Frame *f);

static void
frame_free (gpointer data)
{
  Frame *f = data;
  if (f->task != NULL)
    task_finish (f->task);   /* before the descriptor and names go */
  read_task_finish (f);
  for (guint i = 0; i < f->n_ahead; i++)
    {
      g_clear_pointer (&f->ahead[i].bytes, g_bytes_unref);
      g_clear_error (&f->ahead[i].error);
    }
  g_free (f->ahead);
  g_free (f->claims);
  if (f->fd >= 0)
    close (f->fd);
  g_free (f->path);
  g_string_free (f->names, TRUE);
  g_array_unref (f->items);
  g_free (f->prefetch);
  g_free (f);
}

typedef struct {
  GQueue          *pending;     /* Entry*: paths from paths= still to visit, in order */
  GPtrArray       *stack;       /* Frame*: directories being walked, innermost last */
  GPtrArray       *include;     /* GPatternSpec* */
  GPtrArray       *exclude;
  gboolean         recursive;
  guint64          max_size;
  GalleyContentType content_type;
  GHashTable      *seen_dirs;   /* "dev:ino" of visited directories */
  gboolean         incremental; /* the run has a state directory */
  gboolean         quick_dirs;
  GThreadPool     *stat_pool;   /* the helper for Prefetch, or NULL */
  GThreadPool     *read_pool;   /* the read-ahead helper, or NULL */
  guint            read_ahead;
  gboolean         mostly_known; /* of the last directory's files */
  GalleyStageContext *ctx;
  gint64           unchanged;   /* inputs an earlier run read, skipped */
  /* shard mode: files reaching the read step are numbered in walk order;
   * a first pass counts them, the second reads [first, end) */
  gboolean         counting;
  gboolean         ranged;
  gboolean         last_shard;
  gint64           pos, first, end;
  IdMode           id_mode;
  gsize            root_len;    /* id=relative: length of the paths= entry being walked */
  /* progress: with only regular files in paths=, their total size is told
   * to the core; each counts as read when the walk moves past it */
  guint64          input_size;  /* 0: not known (a directory in paths=) */
  gboolean         size_told;
  guint64          top_unread;  /* size of the paths= file being read */
} Files;

/* Whether a skipped or rejected path found now is this step's to report:
 * not in the counting pass, and in the read pass only between this
 * shard's first file and the next shard's (after the last file: the last
 * shard), so that every shard's stats together count each path once. */
static gboolean
reports_here (const Files *self)
{
  if (!self->ranged)
    return TRUE;
  if (self->counting)
    return FALSE;
  return self->pos >= self->first && (self->pos < self->end || self->last_shard);
}

static void
files_free (gpointer data)
{
  Files *self = data;
  if (self == NULL)
    return;
  if (self->pending)
    g_queue_free_full (self->pending, entry_free);
  g_clear_pointer (&self->stack, g_ptr_array_unref);   /* waits for the helper's tasks */
  if (self->stat_pool != NULL)
    g_thread_pool_free (self->stat_pool, TRUE, TRUE);
  if (self->read_pool != NULL)
    g_thread_pool_free (self->read_pool, TRUE, TRUE);
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

/* The part of @path that id= makes the document id (borrowed). */
static const char *
document_id (const Files *self, const char *path, gboolean top)
{
  const char *slash = strrchr (path, '/');
  const char *name = slash != NULL ? slash + 1 : path;
  if (self->id_mode == ID_NAME || (self->id_mode == ID_RELATIVE && top))
    return name;
  if (self->id_mode == ID_RELATIVE)
    {
      const char *rel = path + MIN (self->root_len, strlen (path));
      while (*rel == '/')
        rel++;
      return *rel != '\0' ? rel : name;
    }
  return path;
}

static gpointer
files_init (GalleyStageContext *ctx, const GalleyOptions *opts, GError **error)
{
  g_autoptr(Files) self = g_new0 (Files, 1);
  self->pending = g_queue_new ();
  self->stack = g_ptr_array_new_with_free_func (frame_free);
  self->recursive = galley_options_get_bool (opts, "recursive");
  self->max_size = galley_options_get_size (opts, "max-size");
  self->include = compile_patterns (galley_options_get_strv (opts, "include"));
  self->exclude = compile_patterns (galley_options_get_strv (opts, "exclude"));
  self->seen_dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->incremental = galley_stage_is_incremental (ctx);
  self->quick_dirs = galley_options_get_bool (opts, "quick-dirs");
  self->read_ahead = (guint) galley_options_get_int (opts, "read-ahead");
  const char *ct = galley_options_get_enum (opts, "content-type");
  self->content_type = g_str_equal (ct, "text") ? GALLEY_CONTENT_TEXT
                     : g_str_equal (ct, "html") ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_UNKNOWN;
  const char *id = galley_options_get_enum (opts, "id");
  self->id_mode = g_str_equal (id, "relative") ? ID_RELATIVE : g_str_equal (id, "name") ? ID_NAME : ID_PATH;

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
            {
              Entry *e = entry_new (g_strdup (g.gl_pathv[j]));
              struct stat st;
              if (stat (e->path, &st) == 0 && S_ISREG (st.st_mode))
                e->size = st.st_size;
              g_queue_push_tail (self->pending, e);
            }
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
      Entry *e = entry_new (g_strdup (paths[i]));
      if (S_ISREG (st.st_mode))
        e->size = st.st_size;
      g_queue_push_tail (self->pending, e);
    }
  for (GList *l = self->pending->head; l != NULL; l = l->next)
    {
      const Entry *e = l->data;
      if (e->size < 0)
        {
          self->input_size = 0;
          break;
        }
      self->input_size += (guint64) e->size;
    }
  return g_steal_pointer (&self);
}

static int
compare_items (gconstpointer a, gconstpointer b, gpointer names)
{
  return strcmp ((const char *) names + ((const Item *) a)->offset, (const char *) names + ((const Item *) b)->offset);
}

/* The end of a helper's task, which the walk waits for. */
typedef struct {
  GMutex lock;
  GCond  cond;
  gint   done;   /* atomic: the walk may look without waiting */
} TaskEnd;

static void
task_end_init (TaskEnd *end)
{
  g_mutex_init (&end->lock);
  g_cond_init (&end->cond);
  end->done = FALSE;
}

/* The helper is done with the task (the last thing it does with it). */
static void
task_end_signal (TaskEnd *end)
{
  g_mutex_lock (&end->lock);
  g_atomic_int_set (&end->done, TRUE);
  g_cond_signal (&end->cond);
  g_mutex_unlock (&end->lock);
}

static void
task_end_wait_clear (TaskEnd *end)
{
  g_mutex_lock (&end->lock);
  while (!g_atomic_int_get (&end->done))
    g_cond_wait (&end->cond, &end->lock);
  g_mutex_unlock (&end->lock);
  g_mutex_clear (&end->lock);
  g_cond_clear (&end->cond);
}

struct _StatTask {
  Frame              *frame;
  gboolean            speculative;  /* started before the lookups: stats every file */
  TaskEnd             end;
};

/* Stats file @i of @f if the ledger knows it (or if @anyway). */
static void
prefetch_item (Frame *f, guint i, gboolean anyway)
{
  const Item *item = &g_array_index (f->items, Item, i);
  Prefetch *p = &f->prefetch[i];
  if (!anyway && !p->known)
    return;
  struct stat st;
  if (fstatat (f->fd, f->names->str + item->offset, &st, 0) == 0 && S_ISREG (st.st_mode))
    {
      p->size = st.st_size;
      p->mtim = st.st_mtim;
      p->stated = TRUE;
    }
}

static void
stat_worker (gpointer data, gpointer user_data)
{
  (void) user_data;
  StatTask *task = data;
  Frame *f = task->frame;
  for (guint i = f->items->len; i-- > 0;)
    {
      /* speculating, the helper does not read what the lookups write */
      if (g_array_index (f->items, Item, i).d_type != DT_REG || (!task->speculative && !f->prefetch[i].known))
        continue;
      if (!g_atomic_int_compare_and_exchange (&f->prefetch[i].claim, CLAIM_NONE, CLAIM_HELPER))
        break;   /* the walk got here: the rest is its */
      prefetch_item (f, i, task->speculative);
      g_atomic_int_set (&f->prefetch[i].claim, CLAIM_HELPER_DONE);
    }
  task_end_signal (&task->end);
}

static void
task_finish (StatTask *task)
{
  task_end_wait_clear (&task->end);
  task->frame->task = NULL;
  g_free (task);
}

#define PREFETCH_MIN 64   /* fewer files: not worth waking the helper */

static void
start_task (Files *self, Frame *f, gboolean speculative)
{
  if (self->stat_pool == NULL)
    self->stat_pool = g_thread_pool_new (stat_worker, NULL, 1, FALSE, NULL);
  if (self->stat_pool == NULL)
    return;
  StatTask *task = g_new0 (StatTask, 1);
  task->frame = f;
  task->speculative = speculative;
  task_end_init (&task->end);
  f->task = task;
  g_thread_pool_push (self->stat_pool, task, NULL);
}

/* Looks the files of @f up in the ledger; the helper starts on the
 * stat() calls if there are many known ones: at once, before the
 * lookups, when most files of the directory before were known (a run
 * finding little new), else after them for the known files only (a first
 * run stats nothing more than it must). */
static void
prefetch_dir (Files *self, GalleyStageContext *ctx, Frame *f)
{
  guint n = f->items->len, known = 0, regular = 0;
  f->prefetch = g_new0 (Prefetch, n);
  gboolean helper = n >= PREFETCH_MIN && g_get_num_processors () > 1;
  gboolean speculative = helper && self->mostly_known;
  if (speculative)
    start_task (self, f, TRUE);
  GString *path = g_string_new (f->path);
  if (strcmp (f->path, "/") != 0)
    g_string_append_c (path, '/');
  gsize dir_len = path->len;
  for (guint i = 0; i < n; i++)
    {
      const Item *item = &g_array_index (f->items, Item, i);
      if (item->d_type != DT_REG)
        continue;
      g_string_truncate (path, dir_len);
      g_string_append (path, f->names->str + item->offset);
      Prefetch *p = &f->prefetch[i];
      p->known = galley_stage_input_lookup (ctx, path->str, &p->seen);
      known += p->known;
      regular++;
    }
  g_string_free (path, TRUE);
  if (regular > 0)
    self->mostly_known = known * 2 >= regular;
  if (!speculative && helper && known >= PREFETCH_MIN)
    start_task (self, f, FALSE);
}

/* What the walk knows of file @i of @f once this returns. */
static const Prefetch *
prefetch_get (Frame *f, guint i)
{
  Prefetch *p = &f->prefetch[i];
  if (g_atomic_int_compare_and_exchange (&p->claim, CLAIM_NONE, CLAIM_WALK))
    {
      prefetch_item (f, i, FALSE);
      return p;
    }
  /* the helper has it: a stat() away at most */
  while (g_atomic_int_get (&p->claim) != CLAIM_HELPER_DONE && g_atomic_int_get (&p->claim) != CLAIM_WALK)
    g_thread_yield ();
  return p;
}

/* ---- read-ahead ---- */

static GBytes *read_file (int dirfd, const char *path, guint64 max_size, const char **skip, gboolean *changed,
                          struct stat *out_st, gboolean check_changed, GError **error);

struct _ReadTask {
  Files   *files;
  Frame   *frame;
  TaskEnd  end;
};

#define READ_AHEAD_MIN 16   /* files in a directory for the helper to read ahead */
#define READ_AHEAD_GAP 2    /* the next file(s) after the walk's: the walk's */
#define READ_AHEAD_KIB (64 * 1024)   /* no more read ahead while the slots hold this much */

/* Whether the walk reads item @i of @f as a new file (so the helper may
 * read it first): a listed regular file that passes the patterns and,
 * with a state directory, is not in the ledger. files_walk() reads
 * exactly these through read_ahead_take(). */
static gboolean
read_ahead_wanted (Files *self, Frame *f, guint i)
{
  const Item *item = &g_array_index (f->items, Item, i);
  const char *name = f->names->str + item->offset;
  return item->d_type == DT_REG && (f->prefetch == NULL || !f->prefetch[i].known)
         && !matches_any (self->exclude, name) && matches_any (self->include, name);
}

/* Reads item @j of @f into its slot (claimed by the caller). */
static void
read_into_slot (Files *self, Frame *f, gint j)
{
  Ahead *a = &f->ahead[j % f->n_ahead];
  g_clear_pointer (&a->bytes, g_bytes_unref);
  g_clear_error (&a->error);
  const Item *item = &g_array_index (f->items, Item, j);
  a->bytes = read_file (f->fd, f->names->str + item->offset, self->max_size, &a->skip, &a->changed, &a->st,
                        self->incremental, &a->error);
  if (self->incremental && a->bytes != NULL && !a->changed)
    a->hash = content_hash (a->bytes);
  if (a->bytes != NULL)
    g_atomic_int_add (&f->ahead_kib, (gint) ((g_bytes_get_size (a->bytes) + 1023) / 1024));
  g_atomic_int_set (&a->item, j);
}

static void
read_worker (gpointer data, gpointer user_data)
{
  (void) user_data;
  ReadTask *task = data;
  Files *self = task->files;
  Frame *f = task->frame;
  gint n = (gint) f->items->len;
  for (gint j = 0; j < n && !g_atomic_int_get (&f->stop_reading); j++)
    {
      gint at = g_atomic_int_get (&f->consumed);
      if (j < at + READ_AHEAD_GAP)
        j = at + READ_AHEAD_GAP;   /* the walk caught up: on ahead of it */
      if (j >= n)
        break;
      if (j >= at + (gint) f->n_ahead || g_atomic_int_get (&f->ahead_kib) >= READ_AHEAD_KIB)
        {
          g_usleep (50);   /* far enough ahead of the walk, or enough held */
          j--;
          continue;
        }
      if (read_ahead_wanted (self, f, j) && g_atomic_int_compare_and_exchange (&f->claims[j], CLAIM_NONE, CLAIM_HELPER))
        read_into_slot (self, f, j);
    }
  task_end_signal (&task->end);
}

/* Stops @f's read-ahead and waits for the helper to let go of it. */
static void
read_task_finish (Frame *f)
{
  ReadTask *task = f->read_task;
  if (task == NULL)
    return;
  g_atomic_int_set (&f->stop_reading, TRUE);
  task_end_wait_clear (&task->end);
  f->read_task = NULL;
  g_free (task);
}

/* Starts the helper reading @f's new files ahead of the walk, if there
 * are enough of them. */
static void
read_ahead_start (Files *self, Frame *f)
{
  if (self->read_ahead == 0 || self->ranged || g_get_num_processors () < 2)
    return;
  guint wanted = 0;
  for (guint i = 0; i < f->items->len && wanted < READ_AHEAD_MIN; i++)
    wanted += read_ahead_wanted (self, f, i);
  if (wanted < READ_AHEAD_MIN)
    return;
  if (self->read_pool == NULL)
    self->read_pool = g_thread_pool_new (read_worker, NULL, 1, FALSE, NULL);
  if (self->read_pool == NULL)
    return;
  f->n_ahead = self->read_ahead;
  f->ahead = g_new0 (Ahead, f->n_ahead);
  f->claims = g_new0 (gint, f->items->len);
  for (guint i = 0; i < f->n_ahead; i++)
    f->ahead[i].item = -1;
  ReadTask *task = g_new0 (ReadTask, 1);
  task->files = self;
  task->frame = f;
  task_end_init (&task->end);
  f->read_task = task;
  g_thread_pool_push (self->read_pool, task, NULL);
}

/* Item @i of @f, a file read_ahead_wanted() says yes to: takes the
 * helper's result if it read the file (also after the helper stopped),
 * else claims and reads it here. */
static GBytes *
read_ahead_take (Files *self, Frame *f, guint i, const char **skip, gboolean *changed, struct stat *rst,
                 guint64 *hash, gboolean *hashed, GError **error)
{
  *hashed = FALSE;
  Ahead *a = &f->ahead[i % f->n_ahead];
  if (!g_atomic_int_compare_and_exchange (&f->claims[i], CLAIM_NONE, CLAIM_WALK))
    {
      /* the helper has it (a read away at most) or the walk read it ahead
       * already; waiting for the helper, the walk reads the next files
       * nobody took yet into their slots instead of idling */
      gint n = (gint) f->items->len, end = MIN (n, (gint) i + (gint) f->n_ahead);
      while (g_atomic_int_get (&a->item) != (gint) i && f->read_task != NULL && !g_atomic_int_get (&f->read_task->end.done))
        {
          gint j = g_atomic_int_get (&f->ahead_kib) < READ_AHEAD_KIB ? (gint) i + 1 : end;
          while (j < end && (g_atomic_int_get (&f->claims[j]) != CLAIM_NONE || !read_ahead_wanted (self, f, j)
                             || !g_atomic_int_compare_and_exchange (&f->claims[j], CLAIM_NONE, CLAIM_WALK_AHEAD)))
            j++;
          if (j < end)
            read_into_slot (self, f, j);
          else
            g_thread_yield ();
        }
      if (g_atomic_int_get (&a->item) == (gint) i)
        {
          *skip = a->skip;
          *changed = a->changed;
          *rst = a->st;
          if (a->error != NULL)
            g_propagate_error (error, g_steal_pointer (&a->error));
          *hash = a->hash;
          *hashed = self->incremental && a->bytes != NULL && !a->changed;
          if (a->bytes != NULL)
            g_atomic_int_add (&f->ahead_kib, -(gint) ((g_bytes_get_size (a->bytes) + 1023) / 1024));
          return g_steal_pointer (&a->bytes);
        }
    }
  const Item *item = &g_array_index (f->items, Item, i);
  return read_file (f->fd, f->names->str + item->offset, self->max_size, skip, changed, rst, self->incremental, error);
}

/* Lists directory @path, sorted, as the new innermost frame. */
static gboolean
expand_dir (Files *self, GalleyStageContext *ctx, const char *path, const struct stat *st)
{
  g_autofree char *key = g_strdup_printf ("%ju:%ju", (uintmax_t) st->st_dev, (uintmax_t) st->st_ino);
  if (!g_hash_table_add (self->seen_dirs, g_steal_pointer (&key)))
    {
      if (reports_here (self))
        galley_stage_skip (ctx, path, "directory-loop");
      return TRUE;
    }
  int dfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int list_fd = dfd >= 0 ? dup (dfd) : -1;
  DIR *dir = list_fd >= 0 ? fdopendir (list_fd) : NULL;
  if (dir == NULL)
    {
      int e = errno;
      if (list_fd >= 0)
        close (list_fd);
      if (dfd >= 0)
        close (dfd);
      g_autoptr(GError) error = g_error_new (GALLEY_SOURCE_ERROR,
                                             e == ENOENT || e == EACCES ? GALLEY_SOURCE_ERROR_NO_INPUT
                                             : GALLEY_SOURCE_ERROR_READ,
                                             "cannot open directory: %s", g_strerror (e));
      return !reports_here (self) || galley_stage_reject (ctx, path, 0, NULL, 0, error);
    }
  Frame *f = g_new0 (Frame, 1);
  f->fd = dfd;
  f->names = g_string_new (NULL);
  f->items = g_array_new (FALSE, FALSE, sizeof (Item));
  gsize plen = strlen (path);
  f->path = plen > 1 && path[plen - 1] == '/' ? g_strndup (path, plen - 1) : g_strdup (path);
  if (self->incremental && self->quick_dirs)
    {
      /* the time is taken before listing: a file added meanwhile makes
       * the next run look again */
      f->state.size = st->st_ino;
      f->state.mtime = (gint64) st->st_mtim.tv_sec * G_USEC_PER_SEC + st->st_mtim.tv_nsec / 1000;
      f->state.offset = f->state.lines = -1;
      f->record = TRUE;
      g_autofree char *dkey = g_strconcat (f->path, "/", NULL);
      GalleyInputState seen;
      if (galley_stage_input_lookup (ctx, dkey, &seen) && seen.size == f->state.size && seen.mtime == f->state.mtime)
        {
          galley_stage_count (ctx, "unchanged-directories", 1);
          closedir (dir);
          frame_free (f);
          return TRUE;
        }
    }
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      if (g_str_equal (de->d_name, ".") || g_str_equal (de->d_name, ".."))
        continue;
      if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN || de->d_type == DT_LNK)
        f->record = FALSE;   /* what is below may change without touching it */
      Item item = { (guint32) f->names->len, de->d_type };
      g_string_append_len (f->names, de->d_name, strlen (de->d_name) + 1);
      g_array_append_val (f->items, item);
    }
  closedir (dir);
  g_array_sort_with_data (f->items, compare_items, f->names->str);
  if (self->incremental)
    prefetch_dir (self, ctx, f);
  /* the directory the walk leaves for this one: its helper stops (the
   * walk reads the rest of it itself) */
  if (self->stack->len > 0)
    read_task_finish (g_ptr_array_index (self->stack, self->stack->len - 1));
  read_ahead_start (self, f);
  g_ptr_array_add (self->stack, f);
  return TRUE;
}

/* What files_next() looks at next. */
typedef struct {
  char     *path;
  gboolean  top;          /* named in paths= */
  guint8    d_type;
  int       dirfd;        /* AT_FDCWD, or the directory it was listed in */
  gsize     name_offset;  /* path + name_offset is relative to dirfd */
  const Prefetch *prefetch; /* what the listing found out already, or NULL */
  Frame    *frame;        /* the directory it was listed in (still on the stack), or NULL */
  guint     index;        /* its item there */
} Next;

static gboolean
pop_next (Files *self, Next *next)
{
  while (self->stack->len > 0)
    {
      Frame *f = g_ptr_array_index (self->stack, self->stack->len - 1);
      while (f->next < f->items->len)
        {
          const Item *item = &g_array_index (f->items, Item, f->next++);
          const char *name = f->names->str + item->offset;
          if (f->ahead != NULL)
            g_atomic_int_set (&f->consumed, (gint) f->next - 1);
          const Prefetch *pre = f->prefetch != NULL && item->d_type == DT_REG ? prefetch_get (f, f->next - 1) : NULL;
          /* the common case of a run that finds little new: a known file
           * with its recorded size and time, passed over without building
           * its path (files_walk() decides the same way; the patterns are
           * not asked again: the file passed them when it was recorded, and
           * a file excluded since is not read either way) */
          if (pre != NULL && pre->known && pre->stated && (guint64) pre->size <= self->max_size
              && pre->size == pre->seen.size
              && (gint64) pre->mtim.tv_sec * G_USEC_PER_SEC + pre->mtim.tv_nsec / 1000 == pre->seen.mtime)
            {
              self->unchanged++;
              continue;
            }
          next->path = g_strconcat (f->path, strcmp (f->path, "/") ? "/" : "", name, NULL);
          next->top = FALSE;
          next->d_type = item->d_type;
          next->dirfd = f->fd;
          next->name_offset = strlen (next->path) - strlen (name);
          next->prefetch = pre;
          next->frame = f;
          next->index = f->next - 1;
          return TRUE;
        }
      if (f->record)
        {
          g_autofree char *dkey = g_strconcat (f->path, "/", NULL);
          galley_stage_input_done (self->ctx, dkey, &f->state);
        }
      g_ptr_array_remove_index (self->stack, self->stack->len - 1);
    }
  if (self->top_unread > 0)
    galley_stage_context_add_input_read (self->ctx, self->top_unread);
  self->top_unread = 0;
  Entry *e = g_queue_pop_head (self->pending);
  if (e == NULL)
    return FALSE;
  self->top_unread = (guint64) MAX (e->size, 0);
  next->path = g_steal_pointer (&e->path);
  next->top = TRUE;
  next->d_type = DT_UNKNOWN;
  next->dirfd = AT_FDCWD;
  next->name_offset = 0;
  next->prefetch = NULL;
  next->frame = NULL;
  next->index = 0;
  entry_free (e);
  return TRUE;
}

/* Returns the content, or NULL with *skip set to a skip reason, or NULL
 * with *error set. */
static GBytes *
read_file (int dirfd, const char *path, guint64 max_size, const char **skip, gboolean *changed,
           struct stat *out_st, gboolean check_changed, GError **error)
{
  *skip = NULL;
  *changed = FALSE;
  memset (out_st, 0, sizeof *out_st);
  int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat lst;
  if (fd < 0 && errno == ENOENT && fstatat (dirfd, path, &lst, AT_SYMLINK_NOFOLLOW) != 0)
    {
      *skip = "vanished";   /* gone, not a dangling link */
      return NULL;
    }
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
  *out_st = st;
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
  /* with a state directory: a writer still at work? The file grew or
   * shrank while we read it (the buffer has room for one byte more than
   * fstat() announced, so growth shows without another system call) */
  *changed = check_changed && (gsize) st.st_size != len;
  close (fd);
  buf[len] = 0;
  return g_bytes_new_take (buf, len);
}

static gboolean files_walk (Files *self, GalleyDocument **out, GalleyStageContext *ctx, GError **error);

/* A file of directory @f (or NULL: named in paths=) that this run leaves
 * for the next one (changed while read, unreadable): with quick-dirs the
 * directory is not recorded either, or the next run would pass it over
 * (its time does not change when a file in it grows). */
static void
not_recorded (Frame *f)
{
  if (f != NULL)
    f->record = FALSE;
}

static gboolean
files_next (gpointer state, GalleyDocument **out, GalleyStageContext *ctx, GError **error)
{
  Files *self = state;
  *out = NULL;
  if (!self->size_told)
    {
      /* a step of a sharded run reads a part of it */
      self->size_told = TRUE;
      if (self->input_size > 0 && !galley_stage_context_get_shard (ctx, NULL, NULL))
        galley_stage_context_set_input_size (ctx, self->input_size);
    }
  if (!self->ranged && galley_stage_context_get_shard (ctx, NULL, NULL))
    {
      /* count the whole sorted walk once, then walk again for this shard's range */
      self->ranged = TRUE;
      g_autoptr(GPtrArray) saved = g_ptr_array_new_with_free_func (g_free);
      for (GList *l = self->pending->head; l != NULL; l = l->next)
        g_ptr_array_add (saved, g_strdup (((Entry *) l->data)->path));
      self->counting = TRUE;
      self->pos = 0;
      gboolean more = files_walk (self, out, ctx, error);
      self->counting = FALSE;
      if (more || (error != NULL && *error != NULL) || galley_stage_is_cancelled (ctx))
        return FALSE;
      galley_stage_shard_range (ctx, self->pos, &self->first, &self->end);
      guint index = 0, count = 1;
      galley_stage_context_get_shard (ctx, &index, &count);
      self->last_shard = index + 1 == count;
      self->pos = 0;
      g_ptr_array_set_size (self->stack, 0);
      g_hash_table_remove_all (self->seen_dirs);
      for (guint i = 0; i < saved->len; i++)
        g_queue_push_tail (self->pending, entry_new (g_strdup (g_ptr_array_index (saved, i))));
    }
  return files_walk (self, out, ctx, error);
}

static gboolean
files_walk (Files *self, GalleyDocument **out, GalleyStageContext *ctx, GError **error)
{
  *out = NULL;
  self->ctx = ctx;
  for (;;)
    {
      if (galley_stage_is_cancelled (ctx))
        return FALSE;
      Next next;
      if (!pop_next (self, &next))
        {
          if (self->unchanged > 0)
            galley_stage_count (ctx, "unchanged-inputs", self->unchanged);
          self->unchanged = 0;
          return FALSE;
        }
      gboolean top = next.top;
      /* a regular file found in a directory listing needs no stat():
       * read_file() checks type and size on the open descriptor */
      g_autofree char *path = next.path;
      /* with a state directory, a listed file the ledger does not know is
       * new: no stat() either (size and time come from the descriptor) */
      GalleyInputState seen = { 0 }, now = { 0 };
      gboolean known = FALSE;
      /* with a state directory every listed regular file was looked up
       * when its directory was listed */
      const Prefetch *pre = next.prefetch;
      if (pre != NULL && pre->known)
        {
          known = TRUE;
          seen = pre->seen;
        }
      gboolean listed_file = !top && next.d_type == DT_REG && !known;
      struct stat st;
      if (listed_file)
        st.st_mode = S_IFREG, st.st_size = 0;
      else if (known && pre != NULL && pre->stated)
        st.st_mode = S_IFREG, st.st_size = pre->size, st.st_mtim = pre->mtim;
      else if (fstatat (next.dirfd, path + next.name_offset, &st, 0) != 0)
        {
          int e = errno;
          struct stat lst;
          if (e == ENOENT && !top && fstatat (next.dirfd, path + next.name_offset, &lst, AT_SYMLINK_NOFOLLOW) != 0)
            {
              if (reports_here (self))
                galley_stage_skip (ctx, path, "vanished");   /* listed, then deleted */
              continue;
            }
          g_autoptr(GError) local = g_error_new (GALLEY_SOURCE_ERROR,
                                                 e == ENOENT || e == EACCES ? GALLEY_SOURCE_ERROR_NO_INPUT
                                                 : GALLEY_SOURCE_ERROR_READ, "%s", g_strerror (e));
          not_recorded (next.frame);
          if (reports_here (self) && !galley_stage_reject (ctx, path, 0, NULL, 0, local))
            return FALSE;
          continue;
        }
      if (S_ISDIR (st.st_mode))
        {
          /* id=relative: the ids of what is below start after this */
          if (top)
            {
              self->root_len = strlen (path);
              while (self->root_len > 0 && path[self->root_len - 1] == '/')
                self->root_len--;
            }
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
          if (reports_here (self))
            galley_stage_skip (ctx, path, "not-a-regular-file");
          continue;
        }
      g_autofree char *base = g_path_get_basename (path);
      if (!top && (matches_any (self->exclude, base) || !matches_any (self->include, base)))
        continue;
      if ((guint64) st.st_size > self->max_size)
        {
          if (!reports_here (self))
            continue;
          g_warning ("stage '%s': %s: %" G_GINT64_FORMAT " bytes is over max-size; skipped",
                     galley_stage_context_get_id (ctx), path, (gint64) st.st_size);
          galley_stage_skip (ctx, path, "too-large");
          continue;
        }
      /* with a state directory: unchanged size and time means seen */
      if (self->incremental && !listed_file)
        {
          now.size = st.st_size;
          now.mtime = (gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
          now.offset = now.lines = -1;
          if (top || next.d_type != DT_REG)
            known = galley_stage_input_lookup (ctx, path, &seen);
          if (known && seen.size == now.size && seen.mtime == now.mtime)
            {
              self->unchanged++;
              continue;
            }
        }
      if (self->ranged)
        {
          gint64 pos = self->pos++;
          if (self->counting || pos < self->first)
            continue;
          if (pos >= self->end)
            return FALSE;
        }
      g_autoptr(GError) local = NULL;
      const char *skip = NULL;
      /* the frame of next.dirfd is still on the stack: it is popped only
       * when the next entry is asked for */
      gboolean changed = FALSE, hashed = FALSE;
      struct stat rst;
      guint64 hash = 0;
      g_autoptr(GBytes) bytes = listed_file && next.frame != NULL && next.frame->ahead != NULL
        ? read_ahead_take (self, next.frame, next.index, &skip, &changed, &rst, &hash, &hashed, &local)
        : read_file (next.dirfd, path + next.name_offset, self->max_size, &skip, &changed, &rst, self->incremental,
                     &local);
      if (self->incremental && listed_file && (bytes != NULL || skip != NULL))
        {
          now.size = rst.st_size;
          now.mtime = (gint64) rst.st_mtim.tv_sec * G_USEC_PER_SEC + rst.st_mtim.tv_nsec / 1000;
          now.offset = now.lines = -1;
        }
      if (bytes == NULL && skip != NULL && g_str_equal (skip, "vanished"))
        {
          /* listed, then moved away or deleted before we got to it */
          galley_stage_skip (ctx, path, skip);
          continue;
        }
      if (bytes != NULL && changed)
        {
          /* not recorded: the next run reads it once it is complete */
          not_recorded (next.frame);
          galley_stage_skip (ctx, path, "changed-while-reading");
          continue;
        }
      if (self->incremental && bytes != NULL)
        {
          now.hash = hashed ? hash : content_hash (bytes);
          if (known && seen.hash == now.hash)
            {
              /* touched, same content: remember the new time only */
              galley_stage_input_done (ctx, path, &now);
              self->unchanged++;
              continue;
            }
        }
      if (self->incremental && (bytes != NULL || skip != NULL))
        galley_stage_input_done (ctx, path, &now);
      if (bytes == NULL && skip != NULL)
        {
          if (g_str_equal (skip, "too-large"))
            g_warning ("stage '%s': %s: over max-size; skipped", galley_stage_context_get_id (ctx), path);
          galley_stage_skip (ctx, path, skip);
          continue;
        }
      if (bytes == NULL)
        {
          not_recorded (next.frame);   /* tried again next run */
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
      GalleyInputKind kind = galley_input_sniff (data, len, path, &bom);
      if (kind == GALLEY_INPUT_KIND_BINARY)
        {
          g_debug ("stage '%s': %s looks binary; skipped", galley_stage_context_get_id (ctx), path);
          galley_stage_skip (ctx, path, "binary-file");
          continue;
        }
      if (len == 0)
        galley_stage_count (ctx, "empty-files", 1);
      const char *id = document_id (self, path, top);
      g_autofree char *escaped = path_to_id (id);
      GalleyDocument *doc = galley_document_new (escaped ? escaped : id, path);
      galley_document_set_raw (doc, bytes);
      if (bom != NULL)
        galley_document_set_declared_encoding (doc, bom);
      if (self->content_type != GALLEY_CONTENT_UNKNOWN)
        galley_document_set_content_type (doc, self->content_type);
      else
        galley_document_set_content_type (doc, kind == GALLEY_INPUT_KIND_HTML ? GALLEY_CONTENT_HTML : GALLEY_CONTENT_TEXT);
      *out = doc;
      return TRUE;
    }
}

/* Shard mode: each shard reads its range of the complete sorted walk. */
static const GalleyShardInfo files_shard = { .caps = GALLEY_SHARD_SPLITS_INPUT };

static const GalleyStageInfo files_info = {
  GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR,
  "files", "Read article files, directories and globs (gzip aware, binary files skipped)", "1.0.0",
  GALLEY_KIND_SOURCE, GALLEY_STAGE_FLAGS_NONE,
  files_options, files_init, NULL, files_next, NULL, files_free,
  .shard = &files_shard,
};
GALLEY_STAGE_DEFINE (files_info)
