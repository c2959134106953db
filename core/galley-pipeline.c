/* galley-pipeline.c: loading and validating pipeline files.
 *
 * A pipeline file is a GKeyFile. Everything is checked here, before any
 * plugin's init() runs and before the first document is read.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define PIPELINE_GROUP "pipeline"
#define STAGE_PREFIX   "stage "

static const char *const core_stage_keys[] = { "plugin", "on-error", NULL };

/* The [pipeline] group's own option table, validated like a plugin's. */
static const GalleyOptionSpec pipeline_options[] = {
  { "stages", GALLEY_OPT_STRV, NULL, "Stage ids in processing order: sources first, then stages and sinks" },
  { "description", GALLEY_OPT_STRING, "", "Free text shown by galley check" },
  { "threads", GALLEY_OPT_INT, "0", "Worker threads for thread-safe stages; 0 = number of cores" },
  { "batch-size", GALLEY_OPT_INT, "64", "Documents handed to a worker at a time (1-4096)" },
  { "stats", GALLEY_OPT_STRING, "%n.stats.json", "Stats JSON file written after the run; %n = pipeline name; empty = none" },
  { "rejects", GALLEY_OPT_STRING, "%n.rejects.jsonl", "JSONL file that receives failed inputs (appended); %n = pipeline name" },
  { "state-dir", GALLEY_OPT_STRING, "", "Directory of the run state: lock, inputs already read, pending commits, run history; empty = none" },
  { "metrics-file", GALLEY_OPT_STRING, "", "Prometheus textfile-collector file written after each run; %n = pipeline name; empty = none" },
  { "dropped", GALLEY_OPT_STRING, "", "JSONL file that receives every document a stage dropped, with the stage and reason, committed with the outputs; %n = pipeline name, strftime patterns and {run} as in export-jsonl; empty = none" },
  { "report", GALLEY_OPT_STRING, "", "HTML report of the run (one self-contained file); %n = pipeline name; empty = none" },
  { "report-samples", GALLEY_OPT_INT, "5", "Documents per stage the report shows, chosen by a hash of their id", NULL,
    .min = "0", .max = "1000" },
  { NULL }
};

typedef struct {
  const char *path;
  GHashTable *lines;   /* "group" or "group\x1fkey" -> line number */
} FileIndex;

static guint
index_line (const FileIndex *idx, const char *group, const char *key)
{
  g_autofree char *k = key ? g_strdup_printf ("%s\x1f%s", group, key) : g_strdup (group);
  return GPOINTER_TO_UINT (g_hash_table_lookup (idx->lines, k));
}

/* Prefixes "FILE:LINE: [group] key 'k': " to *error. */
static void
prefix_location (GError **error, const FileIndex *idx, const char *group, const char *key)
{
  guint line = group ? index_line (idx, group, key) : 0;
  if (line == 0 && group && key)
    line = index_line (idx, group, NULL);
  g_autofree char *where = line ? g_strdup_printf ("%s:%u", idx->path, line) : g_strdup (idx->path);
  if (group && key)
    g_prefix_error (error, "%s: [%s] %s: ", where, group, key);
  else if (group)
    g_prefix_error (error, "%s: [%s]: ", where, group);
  else
    g_prefix_error (error, "%s: ", where);
}

/* GKeyFile merges repeated groups and keeps the last of repeated keys;
 * both are mistakes in a pipeline file, so find them first. */
static gboolean
scan_file (const char *contents, FileIndex *idx, GError **error)
{
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  g_autofree char *group = NULL;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      guint lineno = i + 1;
      if (*line == '\0' || *line == '#')
        continue;
      if (*line == '[')
        {
          char *close = strchr (line, ']');
          if (close == NULL)
            {
              g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_PARSE,
                           "%s:%u: group header without ']'", idx->path, lineno);
              return FALSE;
            }
          /* what GKeyFile takes for a group: [NAME], nothing after the ']' */
          gboolean name_ok = close > line + 1 && close[1] == '\0';
          for (const char *c = line + 1; name_ok && c < close; c++)
            name_ok = *c != '[' && !g_ascii_iscntrl (*c);
          if (!name_ok)
            {
              g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_PARSE,
                           "%s:%u: expected a group header '[NAME]' (a non-empty name without '[' or ']', "
                           "nothing after the ']'), got '%s'", idx->path, lineno, line);
              return FALSE;
            }
          g_free (group);
          group = g_strndup (line + 1, close - line - 1);
          guint seen = index_line (idx, group, NULL);
          if (seen != 0)
            {
              g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_DUPLICATE,
                           "%s:%u: group [%s] repeated (first at line %u); merge the two groups",
                           idx->path, lineno, group, seen);
              return FALSE;
            }
          g_hash_table_insert (idx->lines, g_strdup (group), GUINT_TO_POINTER (lineno));
          continue;
        }
      char *eq = strchr (line, '=');
      if (eq == NULL)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_PARSE,
                       "%s:%u: expected 'key=value', '[group]' or a '#' comment, got '%s'",
                       idx->path, lineno, line);
          return FALSE;
        }
      if (group == NULL)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_PARSE,
                       "%s:%u: key outside any group; start the file with [pipeline]", idx->path, lineno);
          return FALSE;
        }
      g_autofree char *key = g_strstrip (g_strndup (line, eq - line));
      if (strchr (key, '[') != NULL || strchr (key, ']') != NULL || *key == '\0')
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_PARSE,
                       "%s:%u: [%s] '%s' is not a key name (localized keys are not supported)",
                       idx->path, lineno, group, key);
          return FALSE;
        }
      guint seen = index_line (idx, group, key);
      if (seen != 0)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_DUPLICATE,
                       "%s:%u: [%s] %s: key given twice (first at line %u)",
                       idx->path, lineno, group, key, seen);
          return FALSE;
        }
      g_hash_table_insert (idx->lines, g_strdup_printf ("%s\x1f%s", group, key), GUINT_TO_POINTER (lineno));
    }
  return TRUE;
}

static gboolean
is_valid_id (const char *id)
{
  if (id == NULL || *id == '\0' || strlen (id) > 64)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '-' || *p == '_'))
      return FALSE;
  return TRUE;
}

static void
stage_config_free (gpointer data)
{
  GalleyStageConfig *sc = data;
  g_free (sc->id);
  g_clear_pointer (&sc->options, galley_options_free);
  g_free (sc);
}

void
galley_pipeline_free (GalleyPipeline *pipeline)
{
  if (pipeline == NULL)
    return;
  g_free (pipeline->path);
  g_free (pipeline->name);
  g_free (pipeline->description);
  g_clear_pointer (&pipeline->stages, g_ptr_array_unref);
  g_free (pipeline->stats_path);
  g_free (pipeline->rejects_path);
  g_free (pipeline->state_dir);
  g_free (pipeline->metrics_path);
  g_free (pipeline->dropped_path);
  g_free (pipeline->report_path);
  g_free (pipeline);
}

typedef struct {
  char *id;
  char *key;
  char *value;
  char *group;   /* "stage ID" */
} Override;

static void
override_free (gpointer data)
{
  Override *o = data;
  g_free (o->id);
  g_free (o->key);
  g_free (o->value);
  g_free (o->group);
  g_free (o);
}

static GPtrArray *
parse_overrides (const char *const *overrides, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (override_free);
  for (guint i = 0; overrides != NULL && overrides[i] != NULL; i++)
    {
      const char *s = overrides[i];
      const char *dot = strchr (s, '.');
      const char *eq = strchr (s, '=');
      if (dot == NULL || eq == NULL || dot > eq || dot == s || eq == dot + 1)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_PARSE,
                       "--set %s: expected ID.KEY=VALUE, e.g. --set dedup.threshold=0.8", s);
          return NULL;
        }
      Override *o = g_new0 (Override, 1);
      o->id = g_strndup (s, dot - s);
      o->key = g_strstrip (g_strndup (dot + 1, eq - dot - 1));
      o->value = g_strdup (eq + 1);
      o->group = g_strconcat (STAGE_PREFIX, o->id, NULL);
      g_ptr_array_add (out, o);
    }
  return g_steal_pointer (&out);
}

/* Fills @opts from group @group of @kf and the matching overrides. */
static gboolean
fill_options (GalleyOptions *opts, const GalleyOptionSpec *specs, GKeyFile *kf, const char *group,
              const char *id, const char *const *core_keys, GPtrArray *overrides,
              const FileIndex *idx, GError **error)
{
  if (group != NULL && g_key_file_has_group (kf, group))
    {
      g_auto(GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);
      for (guint i = 0; keys[i] != NULL; i++)
        {
          if (core_keys != NULL && g_strv_contains (core_keys, keys[i]))
            continue;
          if (galley_option_spec_find (specs, keys[i]) == NULL)
            {
              g_autofree char *names = galley_option_specs_list_names (specs, core_keys);
              g_autofree char *hint = galley_option_specs_suggest (specs, core_keys, keys[i]);
              g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
                           "unknown key (allowed: %s)%s", names, hint);
              prefix_location (error, idx, group, keys[i]);
              return FALSE;
            }
          g_autoptr(GError) local = NULL;
          g_autofree char *value = g_key_file_get_string (kf, group, keys[i], &local);
          if (local != NULL)
            {
              /* e.g. a bad escape such as \q: GLib returns a value and an error */
              g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, "%s", local->message);
              prefix_location (error, idx, group, keys[i]);
              return FALSE;
            }
          if (!galley_options_set (opts, keys[i], value, &local))
            {
              /* galley_options_set prefixes the key name; keep only the reason */
              const char *msg = local->message;
              gsize klen = strlen (keys[i]);
              if (strncmp (msg, keys[i], klen) == 0 && msg[klen] == ':' && msg[klen + 1] == ' ')
                msg += klen + 2;
              g_set_error_literal (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE, msg);
              prefix_location (error, idx, group, keys[i]);
              return FALSE;
            }
        }
    }
  for (guint i = 0; overrides != NULL && i < overrides->len; i++)
    {
      Override *o = g_ptr_array_index (overrides, i);
      if (!g_str_equal (o->id, id) || (core_keys != NULL && g_strv_contains (core_keys, o->key)))
        continue;
      g_autoptr(GError) local = NULL;
      if (!galley_options_set (opts, o->key, o->value, &local))
        {
          const char *msg = local->message;
          gsize klen = strlen (o->key);
          if (strncmp (msg, o->key, klen) == 0 && msg[klen] == ':' && msg[klen + 1] == ' ')
            msg += klen + 2;
          g_set_error (error, GALLEY_CONFIG_ERROR, local->code, "--set %s.%s: %s", o->id, o->key, msg);
          return FALSE;
        }
    }
  if (!galley_options_finalize (opts, error))
    {
      if (group)
        prefix_location (error, idx, group, NULL);
      return FALSE;
    }
  return TRUE;
}

/* Core keys (plugin, on-error) of a stage: file value, then --set. */
static char *
get_core_key (GKeyFile *kf, const char *group, const char *id, const char *key, GPtrArray *overrides,
              gboolean *from_override)
{
  char *value = NULL;
  if (from_override)
    *from_override = FALSE;
  if (g_key_file_has_group (kf, group) && g_key_file_has_key (kf, group, key, NULL))
    {
      g_autoptr(GError) local = NULL;
      value = g_key_file_get_string (kf, group, key, &local);
      if (local != NULL)
        {
          /* a bad escape: keep the raw text, which then fails validation */
          g_free (value);
          value = g_key_file_get_value (kf, group, key, NULL);
        }
      value = g_strstrip (value);
    }
  for (guint i = 0; overrides != NULL && i < overrides->len; i++)
    {
      Override *o = g_ptr_array_index (overrides, i);
      if (g_str_equal (o->id, id) && g_str_equal (o->key, key))
        {
          g_free (value);
          value = g_strstrip (g_strdup (o->value));
          if (from_override)
            *from_override = TRUE;
        }
    }
  return value;
}

static char *
expand_name (const char *pattern, const char *name)
{
  GString *out = g_string_new (NULL);
  for (const char *p = pattern; *p; p++)
    {
      if (p[0] == '%' && p[1] == 'n')
        {
          g_string_append (out, name);
          p++;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* Reads all of standard input (a pipeline file is small). */
static gboolean
read_stdin (char **contents, gsize *length, GError **error)
{
  g_autoptr(GString) buf = g_string_new (NULL);
  char chunk[8192];
  for (;;)
    {
      ssize_t n = read (STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot read standard input: %s",
                       g_strerror (e));
          return FALSE;
        }
      if (n == 0)
        break;
      g_string_append_len (buf, chunk, n);
    }
  *length = buf->len;
  *contents = g_string_free (g_steal_pointer (&buf), FALSE);
  return TRUE;
}

GalleyPipeline *
galley_pipeline_load (const char *path, const char *const *overrides, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) read_error = NULL;
  /* `galley run -`: the pipeline comes on standard input */
  gboolean from_stdin = g_str_equal (path, "-");
  if (from_stdin)
    path = GALLEY_PIPELINE_STDIN_PATH;
  if (from_stdin ? !read_stdin (&contents, &length, &read_error)
                 : !g_file_get_contents (path, &contents, &length, &read_error))
    {
      g_set_error (error, GALLEY_SOURCE_ERROR,
                   read_error->code == G_FILE_ERROR_NOENT || read_error->code == G_FILE_ERROR_ACCES
                   || read_error->code == G_FILE_ERROR_ISDIR ? GALLEY_SOURCE_ERROR_NO_INPUT : GALLEY_SOURCE_ERROR_READ,
                   "%s", read_error->message);
      return NULL;
    }
  if (!g_utf8_validate_len (contents, length, NULL))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_PARSE,
                   "%s: not valid UTF-8 (or contains NUL bytes); pipeline files are UTF-8 text", path);
      return NULL;
    }

  g_autoptr(GHashTable) lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  FileIndex idx = { path, lines };
  if (!scan_file (contents, &idx, error))
    return NULL;

  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_key_file_set_list_separator (kf, ';');
  g_autoptr(GError) parse_error = NULL;
  if (!g_key_file_load_from_data (kf, contents, length, G_KEY_FILE_NONE, &parse_error))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_PARSE, "%s: %s", path, parse_error->message);
      return NULL;
    }

  g_autoptr(GPtrArray) ovr = parse_overrides (overrides, error);
  if (ovr == NULL)
    return NULL;

  if (!g_key_file_has_group (kf, PIPELINE_GROUP))
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_MISSING,
                   "%s: no [pipeline] group; add one with stages=SOURCE;...;SINK", path);
      return NULL;
    }
  g_autoptr(GalleyOptions) popts = galley_options_new (pipeline_options);
  if (!fill_options (popts, pipeline_options, kf, PIPELINE_GROUP, PIPELINE_GROUP, NULL, ovr, &idx, error))
    return NULL;

  g_autoptr(GalleyPipeline) pipeline = g_new0 (GalleyPipeline, 1);
  pipeline->path = g_strdup (path);
  g_autofree char *base = from_stdin ? g_strdup ("stdin") : g_path_get_basename (path);
  if (g_str_has_suffix (base, ".pipeline"))
    base[strlen (base) - strlen (".pipeline")] = '\0';
  pipeline->name = g_strdup (base);
  pipeline->description = g_strdup (galley_options_get_string (popts, "description"));
  pipeline->stages = g_ptr_array_new_with_free_func (stage_config_free);

  gint64 threads = galley_options_get_int (popts, "threads");
  gint64 batch = galley_options_get_int (popts, "batch-size");
  if (threads < 0 || threads > 1024)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "must be between 0 and 1024, got %" G_GINT64_FORMAT, threads);
      prefix_location (error, &idx, PIPELINE_GROUP, "threads");
      return NULL;
    }
  if (batch < 1 || batch > 4096)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                   "must be between 1 and 4096, got %" G_GINT64_FORMAT, batch);
      prefix_location (error, &idx, PIPELINE_GROUP, "batch-size");
      return NULL;
    }
  pipeline->threads = threads;
  pipeline->batch_size = batch;
  pipeline->stats_path = expand_name (galley_options_get_string (popts, "stats"), pipeline->name);
  pipeline->rejects_path = expand_name (galley_options_get_string (popts, "rejects"), pipeline->name);
  const char *state_dir = galley_options_get_string (popts, "state-dir");
  pipeline->state_dir = *state_dir ? g_strdup (state_dir) : NULL;
  const char *metrics = galley_options_get_string (popts, "metrics-file");
  pipeline->metrics_path = *metrics ? expand_name (metrics, pipeline->name) : NULL;
  const char *dropped = galley_options_get_string (popts, "dropped");
  pipeline->dropped_path = *dropped ? expand_name (dropped, pipeline->name) : NULL;
  const char *report = galley_options_get_string (popts, "report");
  pipeline->report_path = *report ? expand_name (report, pipeline->name) : NULL;
  pipeline->report_samples = (guint) galley_options_get_int (popts, "report-samples");

  const char *const *ids = galley_options_get_strv (popts, "stages");
  if (ids[0] == NULL)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_MISSING,
                   "empty; list at least a source, e.g. stages=input;output");
      prefix_location (error, &idx, PIPELINE_GROUP, "stages");
      return NULL;
    }

  gboolean stages_overridden = FALSE;
  for (guint i = 0; i < ovr->len; i++)
    {
      Override *o = g_ptr_array_index (ovr, i);
      if (g_str_equal (o->id, PIPELINE_GROUP) && g_str_equal (o->key, "stages"))
        stages_overridden = TRUE;
    }

  /* Every [stage X] group must be listed (unless --set pipeline.stages
   * leaves it out), and every group must be known. */
  g_auto(GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      if (g_str_equal (groups[i], PIPELINE_GROUP))
        continue;
      if (!g_str_has_prefix (groups[i], STAGE_PREFIX))
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
                       "unknown group; groups are [pipeline] and [stage ID]");
          prefix_location (error, &idx, groups[i], NULL);
          return NULL;
        }
      const char *id = groups[i] + strlen (STAGE_PREFIX);
      if (!g_strv_contains (ids, id) && stages_overridden)
        {
          /* --set pipeline.stages=... runs a part of the pipeline */
          g_warning ("%s: stage '%s' is left out by --set pipeline.stages", path, id);
          continue;
        }
      if (!g_strv_contains (ids, id))
        {
          g_autofree char *listed = g_strjoinv (";", (char **) ids);
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
                       "stage '%s' is not in [pipeline] stages=%s; add it there or remove the group",
                       id, listed);
          prefix_location (error, &idx, groups[i], NULL);
          return NULL;
        }
    }

  /* --set must name a stage of this pipeline. */
  for (guint i = 0; i < ovr->len; i++)
    {
      Override *o = g_ptr_array_index (ovr, i);
      if (!g_str_equal (o->id, PIPELINE_GROUP) && !g_strv_contains (ids, o->id) && stages_overridden
          && g_key_file_has_group (kf, o->group))
        {
          g_warning ("--set %s.%s: stage '%s' is left out by --set pipeline.stages; ignored", o->id, o->key, o->id);
          continue;
        }
      if (!g_str_equal (o->id, PIPELINE_GROUP) && !g_strv_contains (ids, o->id))
        {
          g_autofree char *listed = g_strjoinv (", ", (char **) ids);
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_UNKNOWN_KEY,
                       "--set %s.%s: no stage '%s' in %s (stages: %s)", o->id, o->key, o->id, path, listed);
          return NULL;
        }
    }

  gboolean seen_non_source = FALSE;
  for (guint i = 0; ids[i] != NULL; i++)
    {
      const char *id = ids[i];
      g_autofree char *group = g_strconcat (STAGE_PREFIX, id, NULL);
      if (!is_valid_id (id))
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                       "stage id '%s' must be 1-64 letters, digits, '-' or '_'", id);
          prefix_location (error, &idx, PIPELINE_GROUP, "stages");
          return NULL;
        }
      for (guint j = 0; j < i; j++)
        if (g_str_equal (ids[j], id))
          {
            g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_DUPLICATE,
                         "stage '%s' listed twice; give each stage its own id", id);
            prefix_location (error, &idx, PIPELINE_GROUP, "stages");
            return NULL;
          }

      g_autofree char *plugin_name = get_core_key (kf, group, id, "plugin", ovr, NULL);
      if (plugin_name == NULL)
        plugin_name = g_strdup (id);   /* [stage dedup] alone means plugin=dedup */
      g_autoptr(GError) local = NULL;
      const GalleyPlugin *plugin = galley_plugin_load (plugin_name, &local);
      if (plugin == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          if (!g_key_file_has_group (kf, group))
            {
              g_prefix_error (error, "no [%s] group, so plugin=%s was assumed: ", group, id);
              prefix_location (error, &idx, PIPELINE_GROUP, "stages");
            }
          else
            prefix_location (error, &idx, group, "plugin");
          return NULL;
        }

      GalleyOnError on_error = GALLEY_ON_ERROR_FAIL;
      gboolean on_error_overridden = FALSE;
      g_autofree char *on_error_s = get_core_key (kf, group, id, "on-error", ovr, &on_error_overridden);
      if (on_error_s != NULL)
        {
          if (g_str_equal (on_error_s, "fail"))
            on_error = GALLEY_ON_ERROR_FAIL;
          else if (g_str_equal (on_error_s, "skip"))
            on_error = GALLEY_ON_ERROR_SKIP;
          else
            {
              g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                           "expected fail or skip, got '%s'", on_error_s);
              if (on_error_overridden)
                g_prefix_error (error, "--set %s.on-error: ", id);
              else
                prefix_location (error, &idx, group, "on-error");
              return NULL;
            }
        }

      const GalleyStageInfo *info = plugin->info;
      if (info->kind == GALLEY_KIND_SOURCE && seen_non_source)
        {
          g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE,
                       "source '%s' comes after a stage or sink; list sources first", id);
          prefix_location (error, &idx, PIPELINE_GROUP, "stages");
          return NULL;
        }
      if (info->kind != GALLEY_KIND_SOURCE)
        seen_non_source = TRUE;

      g_autoptr(GalleyOptions) opts = galley_options_new (info->options);
      if (!fill_options (opts, info->options, kf, group, id, core_stage_keys, ovr, &idx, error))
        return NULL;

      GalleyStageConfig *sc = g_new0 (GalleyStageConfig, 1);
      sc->id = g_strdup (id);
      sc->plugin = plugin;
      sc->options = g_steal_pointer (&opts);
      sc->on_error = on_error;
      g_ptr_array_add (pipeline->stages, sc);
    }

  const GalleyStageConfig *first = g_ptr_array_index (pipeline->stages, 0);
  if (first->plugin->info->kind != GALLEY_KIND_SOURCE)
    {
      g_set_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_MISSING,
                   "the first stage '%s' is a %s; a pipeline starts with a source (files, jsonl, stdin)",
                   first->id, galley_stage_kind_to_string (first->plugin->info->kind));
      prefix_location (error, &idx, PIPELINE_GROUP, "stages");
      return NULL;
    }
  return g_steal_pointer (&pipeline);
}
