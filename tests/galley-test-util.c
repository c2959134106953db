/* galley-test-util.c: helpers shared by the test programs. */
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

void
run_result_free (RunResult *r)
{
  if (r == NULL)
    return;
  g_free (r->out);
  g_free (r->err);
  g_free (r);
}

static RunResult *run_with_stdin_file (const char *cwd, const char *stdin_path, const char *const *args);

RunResult *
galley_test_runv (const char *cwd, const char *stdin_data, const char *const *args)
{
  /* stdin comes from a file, not a pipe: a galley that exits before
   * reading its input (a held lock, a config error) must not SIGPIPE us */
  g_autofree char *stdin_path = NULL;
  if (stdin_data != NULL)
    {
      g_autoptr(GError) werror = NULL;
      int fd = g_file_open_tmp ("galley-stdin-XXXXXX", &stdin_path, &werror);
      g_assert_no_error (werror);
      close (fd);
      g_file_set_contents (stdin_path, stdin_data, -1, &werror);
      g_assert_no_error (werror);
    }
  RunResult *r = run_with_stdin_file (cwd, stdin_path ? stdin_path : "/dev/null", args);
  if (stdin_path != NULL)
    g_unlink (stdin_path);
  return r;
}

RunResult *
galley_test_run_stdin_file (const char *cwd, const char *stdin_path, const char *first_arg, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;
  va_start (ap, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return run_with_stdin_file (cwd, stdin_path, (const char *const *) args->pdata);
}

static RunResult *
run_with_stdin_file (const char *cwd, const char *stdin_path, const char *const *args)
{
  const char *exe = g_getenv ("GALLEY_EXE");
  g_assert_nonnull (exe);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  /* under `meson test --setup valgrind` the runner itself is checked too */
  const char *wrapper = g_getenv ("GALLEY_TEST_WRAPPER");
  g_auto(GStrv) wrap = wrapper && *wrapper ? g_strsplit (wrapper, " ", -1) : NULL;
  for (guint i = 0; wrap != NULL && wrap[i] != NULL; i++)
    if (*wrap[i])
      g_ptr_array_add (argv, wrap[i]);
  g_ptr_array_add (argv, (gpointer) exe);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_stdin_file_path (launcher, stdin_path);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_autoptr(GBytes) out = NULL, err = NULL;
  g_subprocess_communicate (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  RunResult *r = g_new0 (RunResult, 1);
  if (g_subprocess_get_if_exited (proc))
    r->status = g_subprocess_get_exit_status (proc);
  else
    r->status = 128 + g_subprocess_get_term_sig (proc);
  r->out = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
  r->err = g_strndup (g_bytes_get_data (err, NULL), g_bytes_get_size (err));
  if (g_test_verbose ())
    g_printerr ("galley exited %d\n--- stderr ---\n%s--- end ---\n", r->status, r->err);
  return r;
}

RunResult *
galley_test_run (const char *cwd, const char *stdin_data, const char *first_arg, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;
  va_start (ap, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return galley_test_runv (cwd, stdin_data, (const char *const *) args->pdata);
}

char *
galley_test_mkdtemp (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("galley-test-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

void
galley_test_rmdir (const char *dir)
{
  /* tests make read-only directories; make them writable to remove them */
  if (g_file_test (dir, G_FILE_TEST_IS_DIR) && !g_file_test (dir, G_FILE_TEST_IS_SYMLINK))
    g_chmod (dir, 0755);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    {
      g_unlink (dir);
      return;
    }
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        {
          g_chmod (path, 0755);
          galley_test_rmdir (path);
        }
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

char *
galley_test_write_path (const char *dir, const char *name, const char *content, gssize len)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_autoptr(GError) error = NULL;
  g_file_set_contents (path, content, len, &error);
  g_assert_no_error (error);
  return path;
}

static void
json_put (gpointer obj)
{
  json_object_put (obj);
}

void
galley_test_write (const char *dir, const char *name, const char *content, gssize len)
{
  g_free (galley_test_write_path (dir, name, content, len));
}

GPtrArray *
galley_test_read_jsonl (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_true (g_utf8_validate_len (contents, len, NULL));
  GPtrArray *out = g_ptr_array_new_with_free_func (json_put);
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (*lines[i] == '\0')
        {
          g_assert_null (lines[i + 1]);   /* only the final newline */
          continue;
        }
      json_object *obj = json_tokener_parse (lines[i]);
      if (obj == NULL)
        g_test_fail_printf ("%s:%u: not JSON: %.80s", path, i + 1, lines[i]);
      g_assert_nonnull (obj);
      g_ptr_array_add (out, obj);
    }
  return out;
}

json_object *
galley_test_read_json (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  json_object *obj = json_object_from_file (path);
  g_assert_nonnull (obj);
  return obj;
}

const char *
galley_test_get_string (json_object *obj, const char *key)
{
  json_object *v = NULL;
  if (!json_object_object_get_ex (obj, key, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

char *
galley_test_srcpath (const char *first, ...)
{
  const char *root = g_getenv ("GALLEY_SOURCE_ROOT");
  g_assert_nonnull (root);
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();
  g_ptr_array_add (parts, (gpointer) root);
  va_list ap;
  va_start (ap, first);
  for (const char *p = first; p != NULL; p = va_arg (ap, const char *))
    g_ptr_array_add (parts, (gpointer) p);
  va_end (ap);
  g_ptr_array_add (parts, NULL);
  return g_build_filenamev ((char **) parts->pdata);
}

void
galley_test_fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = galley_test_mkdtemp ();
}

void
galley_test_fixture_teardown (Fixture *f, gconstpointer data)
{
  galley_test_rmdir (f->dir);
  g_free (f->dir);
}

static GString *captured_logs;
static GMutex   captured_lock;

static void
capture_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if ((level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE)) == 0)
    {
      g_log_default_handler (domain, level, message, data);
      return;
    }
  g_mutex_lock (&captured_lock);
  g_string_append_printf (captured_logs, "%s: %s\n", domain ? domain : "", message);
  g_mutex_unlock (&captured_lock);
}

void
galley_test_capture_logs (void)
{
  if (captured_logs == NULL)
    captured_logs = g_string_new (NULL);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_log_set_default_handler (capture_log, NULL);
}

char *
galley_test_take_logs (void)
{
  g_assert_nonnull (captured_logs);
  g_mutex_lock (&captured_lock);
  char *out = g_strdup (captured_logs->str);
  g_string_truncate (captured_logs, 0);
  g_mutex_unlock (&captured_lock);
  return out;
}

GHashTable *
galley_test_exported_ids (const char *dir, const char *prefix)
{
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_prefix (name, prefix) || !g_str_has_suffix (name, ".jsonl"))
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(GPtrArray) recs = galley_test_read_jsonl (path);
      for (guint i = 0; i < recs->len; i++)
        {
          const char *id = galley_test_get_string (g_ptr_array_index (recs, i), "id");
          guint n = GPOINTER_TO_UINT (g_hash_table_lookup (seen, id));
          g_hash_table_replace (seen, g_strdup (id), GUINT_TO_POINTER (n + 1));
        }
    }
  return seen;
}
