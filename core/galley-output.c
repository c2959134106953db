/* galley-output.c: output files written by the rule of galley-output.h
 * (a regular file only over a regular file, streams written through).
 *
 * The process umask is never read or changed: the temporary file is
 * created with mode 0666 and the kernel takes the umask off, as it does
 * for any new file (the umask is process-wide: changing it on a worker
 * thread races with every file another thread creates).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-output.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40

struct _GalleyOutputFile {
  GalleyOutputKind kind;
  char            *target;
  char            *tmp_path;   /* NULL for a stream, or once released */
  int              fd;
};

const char *
galley_output_describe_mode (guint mode)
{
  if (S_ISREG (mode))
    return "a regular file";
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

static gboolean
create_error (GError **error, const char *path, const char *target, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

/* "PATH: what" or "PATH (a link to TARGET): what" */
static gboolean
create_error (GError **error, const char *path, const char *target, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (target != NULL && !g_str_equal (path, target))
    g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "%s (a link to %s): %s", path, target, what);
  else
    g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_CREATE, "%s: %s", path, what);
  return FALSE;
}

/* TRUE if @dir lies in /proc, whose links (/proc/self/fd/1) name open
 * files rather than paths. */
static gboolean
in_proc (const char *dir)
{
  char *real = realpath (dir, NULL);
  gboolean proc = real != NULL && (g_str_equal (real, "/proc") || g_str_has_prefix (real, "/proc/"));
  free (real);
  return proc;
}

/* Follows the links from @path to the name a rename must replace (a
 * regular file, or nothing yet). *through_proc is set when a link in
 * /proc was met: the file is then an open file of some process. */
static char *
follow_links (const char *path, gboolean *through_proc, GError **error)
{
  g_autofree char *cur = g_strdup (path);
  *through_proc = FALSE;
  for (guint i = 0; i < MAX_LINKS; i++)
    {
      struct stat st;
      if (lstat (cur, &st) != 0)
        {
          /* missing, or below a file: check_dir() says which */
          if (errno == ENOENT || errno == ENOTDIR)
            return g_steal_pointer (&cur);
          create_error (error, path, cur, "%s", g_strerror (errno));
          return NULL;
        }
      if (!S_ISLNK (st.st_mode))
        return g_steal_pointer (&cur);
      g_autofree char *dir = g_path_get_dirname (cur);
      if (in_proc (dir))
        {
          *through_proc = TRUE;
          return g_steal_pointer (&cur);
        }
      g_autoptr(GError) local = NULL;
      g_autofree char *link = g_file_read_link (cur, &local);
      if (link == NULL)
        {
          create_error (error, path, cur, "%s", local->message);
          return NULL;
        }
      char *next = g_path_is_absolute (link) ? g_steal_pointer (&link) : g_build_filename (dir, link, NULL);
      g_free (cur);
      cur = next;
    }
  create_error (error, path, NULL, "%s", g_strerror (ELOOP));
  return NULL;
}

/* The directory that will hold a new @target can take new files. */
static gboolean
check_dir (const char *path, const char *target, GalleyOutputFlags flags, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (target);
  g_autofree char *probe = g_strdup (dir);
  struct stat st;
  while (stat (probe, &st) != 0)
    {
      int e = errno;
      char *parent = g_path_get_dirname (probe);
      if (e != ENOENT || g_str_equal (parent, probe))
        {
          g_free (parent);
          return create_error (error, path, target, "directory %s: %s", probe, g_strerror (e));
        }
      if (!(flags & GALLEY_OUTPUT_MKDIR))
        {
          g_free (parent);
          return create_error (error, path, target, "directory %s does not exist", dir);
        }
      g_free (probe);
      probe = parent;
    }
  if (!S_ISDIR (st.st_mode))
    return create_error (error, path, target, "%s is not a directory", probe);
  if (access (probe, W_OK | X_OK) != 0)
    return create_error (error, path, target, "cannot create files in %s: %s", probe, g_strerror (errno));
  return TRUE;
}

gboolean
galley_output_check (const char *path, GalleyOutputFlags flags, GalleyOutputKind *kind, char **target,
                     GError **error)
{
  g_return_val_if_fail (path != NULL && *path != '\0', FALSE);
  GalleyOutputKind k;
  g_autofree char *final = NULL;
  struct stat st;
  if (stat (path, &st) == 0)
    {
      if (S_ISDIR (st.st_mode) || S_ISBLK (st.st_mode) || S_ISSOCK (st.st_mode))
        return create_error (error, path, NULL, "is %s; give a file, a character device or a FIFO",
                             galley_output_describe_mode (st.st_mode));
      if (S_ISREG (st.st_mode))
        {
          gboolean through_proc = FALSE;
          final = follow_links (path, &through_proc, error);
          if (final == NULL)
            return FALSE;
          /* /dev/stdout redirected to a file: write to the open file, do
           * not replace the file behind it */
          k = through_proc ? GALLEY_OUTPUT_KIND_STREAM : GALLEY_OUTPUT_KIND_REGULAR;
          if (through_proc)
            {
              g_free (final);
              final = g_strdup (path);
            }
        }
      else
        {
          k = GALLEY_OUTPUT_KIND_STREAM;
          final = g_strdup (path);
        }
      if (k == GALLEY_OUTPUT_KIND_STREAM && access (path, W_OK) != 0)
        return create_error (error, path, NULL, "cannot write to %s: %s", galley_output_describe_mode (st.st_mode),
                             g_strerror (errno));
    }
  else if (errno == ENOENT || errno == ENOTDIR)
    {
      gboolean through_proc = FALSE;
      final = follow_links (path, &through_proc, error);
      if (final == NULL)
        return FALSE;
      if (through_proc)
        return create_error (error, path, final, "names no open file");
      k = GALLEY_OUTPUT_KIND_NEW;
    }
  else
    return create_error (error, path, NULL, "%s", g_strerror (errno));

  if (k != GALLEY_OUTPUT_KIND_STREAM && !check_dir (path, final, flags, error))
    return FALSE;
  if (kind != NULL)
    *kind = k;
  if (target != NULL)
    *target = g_steal_pointer (&final);
  return TRUE;
}

static gboolean
io_error (GError **error, GalleyOutputError code, int e, const char *what, const char *path)
{
  g_set_error (error, GALLEY_OUTPUT_ERROR, code, "%s %s: %s", what, path, g_strerror (e));
  return FALSE;
}

GalleyOutputFile *
galley_output_file_open (const char *path, GalleyOutputFlags flags, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr(GalleyOutputFile) file = g_new0 (GalleyOutputFile, 1);
  file->fd = -1;
  if (!galley_output_check (path, flags, &file->kind, &file->target, error))
    return NULL;
  if (file->kind == GALLEY_OUTPUT_KIND_STREAM)
    {
      /* O_APPEND: a regular file behind /dev/stdout keeps what it has */
      file->fd = open (file->target, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
      if (file->fd < 0)
        {
          io_error (error, GALLEY_OUTPUT_ERROR_CREATE, errno, "cannot open", file->target);
          return NULL;
        }
      return g_steal_pointer (&file);
    }
  g_autofree char *dir = g_path_get_dirname (file->target);
  if ((flags & GALLEY_OUTPUT_MKDIR) && g_mkdir_with_parents (dir, 0777) != 0)
    {
      io_error (error, GALLEY_OUTPUT_ERROR_CREATE, errno, "cannot create directory", dir);
      return NULL;
    }
  g_autofree char *base = g_path_get_basename (file->target);
  g_autofree char *tmpl = g_strdup_printf ("%s/.%s.tmp-XXXXXX", dir, base);
  /* mode 0666 less the umask, as a plain create gives */
  file->fd = g_mkstemp_full (tmpl, O_WRONLY | O_CLOEXEC, 0666);
  if (file->fd < 0)
    {
      io_error (error, GALLEY_OUTPUT_ERROR_CREATE, errno, "cannot create", tmpl);
      return NULL;
    }
  file->tmp_path = g_steal_pointer (&tmpl);
  return g_steal_pointer (&file);
}

int
galley_output_file_get_fd (GalleyOutputFile *file)
{
  g_return_val_if_fail (file != NULL, -1);
  return file->fd;
}

GalleyOutputKind
galley_output_file_get_kind (GalleyOutputFile *file)
{
  g_return_val_if_fail (file != NULL, GALLEY_OUTPUT_KIND_NEW);
  return file->kind;
}

const char *
galley_output_file_get_target (GalleyOutputFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->target;
}

const char *
galley_output_file_get_tmp_path (GalleyOutputFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  return file->tmp_path;
}

static const char *
written_path (GalleyOutputFile *file)
{
  return file->tmp_path != NULL ? file->tmp_path : file->target;
}

gboolean
galley_output_file_write (GalleyOutputFile *file, const void *data, gsize len, GError **error)
{
  g_return_val_if_fail (file != NULL && file->fd >= 0, FALSE);
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = write (file->fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return io_error (error, GALLEY_OUTPUT_ERROR_WRITE, errno, "cannot write", written_path (file));
      p += n;
      len -= n;
    }
  return TRUE;
}

gboolean
galley_output_file_close (GalleyOutputFile *file, gboolean do_fsync, GError **error)
{
  g_return_val_if_fail (file != NULL, FALSE);
  if (file->fd < 0)
    return TRUE;
  int fd = file->fd;
  file->fd = -1;
  if (do_fsync && file->kind != GALLEY_OUTPUT_KIND_STREAM && fsync (fd) != 0)
    {
      int e = errno;
      close (fd);
      return io_error (error, GALLEY_OUTPUT_ERROR_WRITE, e, "cannot fsync", written_path (file));
    }
  if (close (fd) != 0 && errno != EINTR)
    return io_error (error, GALLEY_OUTPUT_ERROR_WRITE, errno, "cannot close", written_path (file));
  return TRUE;
}

gboolean
galley_output_file_commit (GalleyOutputFile *file, gboolean do_fsync, GError **error)
{
  g_return_val_if_fail (file != NULL, FALSE);
  if (!galley_output_file_close (file, do_fsync, error))
    return FALSE;
  if (file->tmp_path == NULL)
    return TRUE;
  if (g_rename (file->tmp_path, file->target) != 0)
    {
      int e = errno;
      g_set_error (error, GALLEY_OUTPUT_ERROR, GALLEY_OUTPUT_ERROR_WRITE, "cannot rename %s to %s: %s",
                   file->tmp_path, file->target, g_strerror (e));
      return FALSE;
    }
  g_clear_pointer (&file->tmp_path, g_free);
  if (do_fsync)
    {
      g_autofree char *dir = g_path_get_dirname (file->target);
      int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0)
        {
          fsync (dfd);
          close (dfd);
        }
    }
  return TRUE;
}

void
galley_output_file_release_tmp (GalleyOutputFile *file)
{
  g_return_if_fail (file != NULL);
  g_clear_pointer (&file->tmp_path, g_free);
}

void
galley_output_file_free (GalleyOutputFile *file)
{
  if (file == NULL)
    return;
  if (file->fd >= 0)
    close (file->fd);
  if (file->tmp_path != NULL)
    g_unlink (file->tmp_path);
  g_free (file->tmp_path);
  g_free (file->target);
  g_free (file);
}

gboolean
galley_output_set_contents (const char *path, const char *data, gssize len, GalleyOutputFlags flags,
                            GError **error)
{
  g_return_val_if_fail (path != NULL && data != NULL, FALSE);
  g_autoptr(GalleyOutputFile) file = galley_output_file_open (path, flags, error);
  if (file == NULL)
    return FALSE;
  return galley_output_file_write (file, data, len < 0 ? strlen (data) : (gsize) len, error)
         && galley_output_file_commit (file, TRUE, error);
}
