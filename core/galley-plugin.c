/* galley-plugin.c: finding, loading and checking stage plugins with libltdl.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"

#include <dlfcn.h>
#include <ltdl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef GALLEY_PLUGINDIR
# error "GALLEY_PLUGINDIR must be defined by the build"
#endif

#define PLUGIN_PREFIX "galley-"
#define PLUGIN_SUFFIX ".so"

static GMutex      plugin_lock;
static GPtrArray  *extra_dirs;       /* from --plugin-dir */
static GHashTable *loaded;           /* path -> GalleyPlugin*, never freed */

void
galley_plugin_add_search_dir (const char *dir)
{
  g_return_if_fail (dir != NULL);
  g_mutex_lock (&plugin_lock);
  if (extra_dirs == NULL)
    extra_dirs = g_ptr_array_new ();
  g_ptr_array_add (extra_dirs, g_canonicalize_filename (dir, NULL));
  g_mutex_unlock (&plugin_lock);
}

/* TRUE when the running executable sits in the build tree. */
static gboolean
running_uninstalled (void)
{
#ifdef GALLEY_BUILD_ROOT
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe == NULL)
    return FALSE;
  g_autofree char *dir = g_path_get_dirname (exe);
  g_autofree char *root = g_canonicalize_filename (GALLEY_BUILD_ROOT, NULL);
  /* the runner (build/galley) or a test program (build/tests/...) */
  g_autofree char *tests = g_build_filename (root, "tests", NULL);
  return g_str_equal (dir, root) || g_str_equal (dir, tests);
#else
  return FALSE;
#endif
}

static void
add_path_list (GPtrArray *out, const char *list)
{
  g_auto(GStrv) parts = g_strsplit (list, G_SEARCHPATH_SEPARATOR_S, -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0')
      g_ptr_array_add (out, g_canonicalize_filename (parts[i], NULL));
}

char **
galley_plugin_get_search_path (void)
{
  GPtrArray *out = g_ptr_array_new ();
  g_mutex_lock (&plugin_lock);
  for (guint i = 0; extra_dirs != NULL && i < extra_dirs->len; i++)
    g_ptr_array_add (out, g_strdup (g_ptr_array_index (extra_dirs, i)));
  g_mutex_unlock (&plugin_lock);
  const char *env = g_getenv ("GALLEY_PLUGIN_PATH");
  if (env != NULL)
    add_path_list (out, env);
#ifdef GALLEY_BUILD_PLUGINDIR
  if (running_uninstalled ())
    g_ptr_array_add (out, g_strdup (GALLEY_BUILD_PLUGINDIR));
#endif
  const char *system = g_getenv ("GALLEY_PLUGIN_SYSTEM_PATH");
  if (system != NULL)
    add_path_list (out, system);
  else
    g_ptr_array_add (out, g_strdup (GALLEY_PLUGINDIR));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

const char *
galley_stage_kind_to_string (GalleyStageKind kind)
{
  switch (kind)
    {
    case GALLEY_KIND_SOURCE:
      return "source";
    case GALLEY_KIND_STAGE:
      return "stage";
    case GALLEY_KIND_SINK:
      return "sink";
    default:
      return "unknown";
    }
}

static gboolean
is_kebab (const char *s)
{
  if (s == NULL || !g_ascii_islower (*s))
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || (*p == '-' && p[1] != '\0' && p[1] != '-')))
      return FALSE;
  return TRUE;
}

static gboolean
check_abi (const GalleyStageInfo *info, const char *path, GError **error)
{
  if (info->abi_major != GALLEY_STAGE_ABI_MAJOR)
    {
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_ABI,
                   "%s: built for stage ABI %u.%u, this galley provides %d.%d; "
                   "rebuild the plugin against the galley-1 headers of this version",
                   path, info->abi_major, info->abi_minor, GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR);
      return FALSE;
    }
  if (info->abi_minor > GALLEY_STAGE_ABI_MINOR)
    {
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_ABI,
                   "%s: needs stage ABI %u.%u, newer than this galley's %d.%d; "
                   "upgrade galley or rebuild the plugin against these headers",
                   path, info->abi_major, info->abi_minor, GALLEY_STAGE_ABI_MAJOR, GALLEY_STAGE_ABI_MINOR);
      return FALSE;
    }
  return TRUE;
}

/* Checks a descriptor in the current layout (galley_stage_info_upgrade()). */
/* The shard declarations (ABI 1.3) a sharded run relies on. */
static gboolean
check_shard_info (const GalleyStageInfo *info, const char *path, GError **error)
{
  const GalleyShardInfo *shard = galley_stage_info_get_shard (info);
  if (shard == NULL || shard->steps == NULL)
    return TRUE;
  const char *why = NULL;
  if (info->kind != GALLEY_KIND_STAGE)
    why = "only a stage (not a source or a sink) declares barrier steps";
  else if (info->command == NULL)
    why = "barrier steps run as the plugin's command; set the descriptor's command";
  for (guint i = 0; why == NULL && shard->steps[i].command != NULL; i++)
    {
      const GalleyShardBarrierStep *step = &shard->steps[i];
      if (*step->command == '\0' || g_str_equal (step->command, "filter") || strchr (step->command, ' ') != NULL)
        why = "a barrier step's command is a word other than 'filter' (which the core runs)";
      else if (step->kind == GALLEY_SHARD_STEP_PER_PART && (step->part_option == NULL || shard->count_parts == NULL))
        why = "a step run per part needs its part_option and the shard info's count_parts()";
      else if (step->kind > GALLEY_SHARD_STEP_PER_PART)
        why = "a barrier step's kind is ONCE, PER_SHARD or PER_PART";
    }
  if (why == NULL)
    return TRUE;
  g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID, "%s: %s", path, why);
  return FALSE;
}

static gboolean
check_info (const GalleyStageInfo *info, const char *path, const char *expected_name, GError **error)
{
  if (!check_abi (info, path, error))
    return FALSE;
  if (info->name == NULL || info->description == NULL || info->version == NULL)
    {
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID,
                   "%s: the descriptor lacks a name, description or version; set all three in its GalleyStageInfo",
                   path);
      return FALSE;
    }
  if (expected_name != NULL && !g_str_equal (info->name, expected_name))
    {
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_NAME,
                   "%s: declares the name '%s' but the file is for '%s'; rename the file to "
                   PLUGIN_PREFIX "%s" PLUGIN_SUFFIX " or change the descriptor's name",
                   path, info->name, expected_name, info->name);
      return FALSE;
    }
  switch (info->kind)
    {
    case GALLEY_KIND_SOURCE:
      if (info->next == NULL)
        {
          g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID,
                       "%s: a source must set the next() callback", path);
          return FALSE;
        }
      break;
    case GALLEY_KIND_STAGE:
    case GALLEY_KIND_SINK:
      if (info->process == NULL)
        {
          g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID,
                       "%s: a %s must set the process() callback", path, galley_stage_kind_to_string (info->kind));
          return FALSE;
        }
      break;
    default:
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID,
                   "%s: unknown kind %d (expected source, stage or sink)", path, info->kind);
      return FALSE;
    }
  if (info->init == NULL)
    {
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID,
                   "%s: the init() callback is missing", path);
      return FALSE;
    }
  g_autoptr(GError) defaults_error = NULL;
  if (!galley_option_specs_check_defaults (info->options, &defaults_error))
    {
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID, "%s: %s; fix the option table",
                   path, defaults_error->message);
      return FALSE;
    }
  for (const GalleyOptionSpec *s = info->options; s != NULL && s->name != NULL; s++)
    {
      if (!is_kebab (s->name) || g_str_equal (s->name, "plugin") || g_str_equal (s->name, "on-error"))
        {
          g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID,
                       "%s: option name '%s' must be kebab-case and not a core key (plugin, on-error)",
                       path, s->name);
          return FALSE;
        }
      if ((guint) s->type > GALLEY_OPT_ENUM || (s->type == GALLEY_OPT_ENUM && s->choices == NULL))
        {
          g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID,
                       "%s: option '%s' has an unknown type or an enum without choices", path, s->name);
          return FALSE;
        }
    }
  return TRUE;
}

static void
ltdl_init_once (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      lt_dlinit ();
      g_once_init_leave (&done, 1);
    }
}

const GalleyPlugin *
galley_plugin_load_file (const char *path, const char *expected_name, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  ltdl_init_once ();

  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  g_mutex_lock (&plugin_lock);
  if (loaded == NULL)
    loaded = g_hash_table_new (g_str_hash, g_str_equal);
  GalleyPlugin *plugin = g_hash_table_lookup (loaded, canonical);
  g_mutex_unlock (&plugin_lock);
  if (plugin != NULL)
    {
      if (expected_name != NULL && !g_str_equal (plugin->name, expected_name))
        return check_info (plugin->info, path, expected_name, error) ? plugin : NULL;
      return plugin;
    }

  lt_dladvise advise;
  lt_dladvise_init (&advise);
  lt_dladvise_local (&advise);
  lt_dlhandle handle = lt_dlopenadvise (canonical, advise);
  lt_dladvise_destroy (&advise);
  if (handle == NULL)
    {
      /* libltdl reports most failures as "file not found"; ask the system
       * loader for the real reason (wrong architecture, missing library) */
      const char *reason = lt_dlerror ();
      void *probe = dlopen (canonical, RTLD_NOW | RTLD_LOCAL);
      const char *detail = probe == NULL ? dlerror () : NULL;
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_LOAD,
                   "%s: cannot load: %s; check that it is a shared module built for this system "
                   "and that the libraries it links are installed", path, detail ? detail : reason);
      if (probe != NULL)
        dlclose (probe);
      return NULL;
    }
  GalleyStageQueryFunc query = (GalleyStageQueryFunc) lt_dlsym (handle, GALLEY_STAGE_QUERY_SYMBOL);
  if (query == NULL)
    {
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_SYMBOL,
                   "%s: no symbol " GALLEY_STAGE_QUERY_SYMBOL "(); it is not a galley plugin, "
                   "or it was built without GALLEY_STAGE_DEFINE() or with hidden visibility", path);
      lt_dlclose (handle);
      return NULL;
    }
  const GalleyStageInfo *raw = query ();
  if (raw == NULL)
    {
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_INVALID,
                   "%s: " GALLEY_STAGE_QUERY_SYMBOL "() returned NULL; it must return its GalleyStageInfo", path);
      lt_dlclose (handle);
      return NULL;
    }
  /* the ABI says how to read the rest (an older option table layout) */
  if (!check_abi (raw, path, error))
    {
      lt_dlclose (handle);
      return NULL;
    }
  const GalleyStageInfo *info = galley_stage_info_upgrade (raw);
  if (!check_info (info, path, expected_name, error) || !check_shard_info (info, path, error))
    {
      galley_stage_info_upgrade_free (info, raw);
      lt_dlclose (handle);
      return NULL;
    }
  /* Modules stay loaded until the process exits. */
  plugin = g_new0 (GalleyPlugin, 1);
  plugin->name = g_strdup (info->name);
  plugin->path = g_steal_pointer (&canonical);
  plugin->info = info;
  /* the command: in the descriptor since ABI 1.3; a module that exports
   * it as a symbol of its own (GALLEY_COMMAND_DEFINE, before 1.3) still
   * has it */
  plugin->command = info->abi_minor >= 3 ? info->command : NULL;
  if (plugin->command == NULL)
    plugin->command = (GalleyCommandFunc) lt_dlsym (handle, GALLEY_COMMAND_SYMBOL);
  g_mutex_lock (&plugin_lock);
  g_hash_table_insert (loaded, plugin->path, plugin);
  g_mutex_unlock (&plugin_lock);
  return plugin;
}

/* Looks for galley-NAME.so in @dir and in @dir/NAME/ (the build tree layout). */
static char *
find_in_dir (const char *dir, const char *name)
{
  g_autofree char *file = g_strconcat (PLUGIN_PREFIX, name, PLUGIN_SUFFIX, NULL);
  char *path = g_build_filename (dir, file, NULL);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free (path);
  path = g_build_filename (dir, name, file, NULL);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free (path);
  return NULL;
}

static gboolean
is_valid_plugin_name (const char *name)
{
  return is_kebab (name);
}

const GalleyPlugin *
galley_plugin_load (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  if (!is_valid_plugin_name (name))
    {
      g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_NOT_FOUND,
                   "'%s' is not a plugin name (lower-case letters, digits and '-')", name);
      return NULL;
    }
  g_auto(GStrv) dirs = galley_plugin_get_search_path ();
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *path = find_in_dir (dirs[i], name);
      if (path != NULL)
        return galley_plugin_load_file (path, name, error);
    }
  g_auto(GStrv) available = galley_plugin_list_available ();
  g_autofree char *list = g_strjoinv (", ", available);
  g_autofree char *searched = g_strjoinv (G_SEARCHPATH_SEPARATOR_S, dirs);
  const char *like = galley_suggest (name, (const char *const *) available);
  g_autofree char *hint = like ? g_strdup_printf (" (did you mean '%s'?)", like) : g_strdup ("");
  g_set_error (error, GALLEY_PLUGIN_ERROR, GALLEY_PLUGIN_ERROR_NOT_FOUND,
               "unknown plugin '%s'%s: no " PLUGIN_PREFIX "%s" PLUGIN_SUFFIX " in %s (available: %s); "
               "use --plugin-dir or GALLEY_PLUGIN_PATH for plugins elsewhere",
               name, hint, name, *searched ? searched : "(empty search path)", *list ? list : "none");
  return NULL;
}

/* Adds the NAME of each galley-NAME.so in @dir to @names; with @only, just
 * that NAME (in a subdirectory: the loader looks for DIR/NAME/galley-NAME.so
 * only, so a module of another name there is not one it would load). */
static void
collect_names (const char *dir, GHashTable *names, const char *only)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *entry;
  if (d == NULL)
    return;
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      if (g_str_has_prefix (entry, PLUGIN_PREFIX) && g_str_has_suffix (entry, PLUGIN_SUFFIX))
        {
          char *name = g_strndup (entry + strlen (PLUGIN_PREFIX),
                                  strlen (entry) - strlen (PLUGIN_PREFIX) - strlen (PLUGIN_SUFFIX));
          if (is_valid_plugin_name (name) && (only == NULL || g_str_equal (name, only)))
            g_hash_table_add (names, name);
          else
            g_free (name);
        }
      else if (only == NULL && is_valid_plugin_name (entry))
        {
          g_autofree char *sub = g_build_filename (dir, entry, NULL);
          if (g_file_test (sub, G_FILE_TEST_IS_DIR))
            collect_names (sub, names, entry);
        }
    }
}

static int
compare_strp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
galley_plugin_list_available (void)
{
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) dirs = galley_plugin_get_search_path ();
  for (guint i = 0; dirs[i] != NULL; i++)
    collect_names (dirs[i], names, NULL);
  guint n = 0;
  char **out = (char **) g_hash_table_get_keys_as_array (names, &n);
  g_hash_table_steal_all (names);
  qsort (out, n, sizeof (char *), compare_strp);
  return out;
}
