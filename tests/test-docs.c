/* test-docs.c: the documentation keeps up with the code: every plugin that
 * `galley inspect` lists is in the man page and has a section in the
 * pipeline reference naming each of its options, and every [pipeline] key
 * is in both; the sample pipelines of the user guide and the README pass
 * `galley check`, and the guide's is pipelines/default.pipeline. */
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static char *
read_doc (const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("GALLEY_SOURCE_ROOT"), "docs", name, NULL);
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (path, &text, NULL, &error))
    g_error ("%s: %s", path, error->message);
  return text;
}

/* The man page with roff's "\-" read as "-". */
static char *
read_man_page (void)
{
  g_autofree char *raw = read_doc ("galley.1");
  g_auto(GStrv) parts = g_strsplit (raw, "\\-", -1);
  return g_strjoinv ("-", parts);
}

/* A name set in bold (.B NAME, .BR NAME ..., .BI NAME, .RB ( NAME) at the start of a line. */
static gboolean
man_has_bold (const char *man, const char *name)
{
  const char *macros[] = { ".B ", ".BR ", ".BI ", ".RB ( " };
  for (guint i = 0; i < G_N_ELEMENTS (macros); i++)
    {
      g_autofree char *needle = g_strconcat ("\n", macros[i], name, NULL);
      for (const char *p = strstr (man, needle); p != NULL; p = strstr (p + 1, needle))
        {
          char after = p[strlen (needle)];
          if (after == '\n' || after == ' ' || after == ',' || after == ')')
            return TRUE;
        }
    }
  return FALSE;
}

/* The text of the reference's section "### `NAME` (...)", up to the next
 * heading, or NULL. */
static char *
reference_section (const char *ref, const char *name)
{
  g_autofree char *heading = g_strdup_printf ("\n### `%s` (", name);
  const char *start = strstr (ref, heading);
  if (start == NULL)
    return NULL;
  const char *end = strstr (start + 1, "\n## ");
  const char *next = strstr (start + 1, "\n### ");
  if (next != NULL && (end == NULL || next < end))
    end = next;
  return end ? g_strndup (start, end - start) : g_strdup (start);
}

static void
test_plugins_documented (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "inspect", "--json", NULL);
  g_autoptr(json_object) plugins = json_tokener_parse (r->out);
  g_assert_nonnull (plugins);
  g_autofree char *man = read_man_page ();
  g_autofree char *ref = read_doc ("pipeline-reference.md");
  /* the plugins built here, not the test plugins on the search path */
  g_autofree char *built = g_build_filename (g_getenv ("G_TEST_BUILDDIR"), "..", "plugins", NULL);
  g_autofree char *built_dir = g_canonicalize_filename (built, NULL);
  g_autoptr(GString) missing = g_string_new (NULL);
  guint n = 0;
  for (gsize i = 0; i < json_object_array_length (plugins); i++)
    {
      json_object *p = json_object_array_get_idx (plugins, i), *options = NULL;
      const char *name = galley_test_get_string (p, "name");
      if (!g_str_has_prefix (galley_test_get_string (p, "file"), built_dir))
        continue;
      n++;
      if (!man_has_bold (man, name))
        g_string_append_printf (missing, "galley.1 does not name plugin %s (as .B %s)\n", name, name);
      g_autofree char *section = reference_section (ref, name);
      if (section == NULL)
        {
          g_string_append_printf (missing, "pipeline-reference.md has no section ### `%s` (KIND)\n", name);
          continue;
        }
      g_assert_true (json_object_object_get_ex (p, "options", &options));
      for (gsize k = 0; k < json_object_array_length (options); k++)
        {
          const char *opt = galley_test_get_string (json_object_array_get_idx (options, k), "name");
          g_autofree char *row = g_strdup_printf ("| `%s` |", opt);
          if (strstr (section, row) == NULL)
            g_string_append_printf (missing, "pipeline-reference.md, section %s: no row for option %s\n", name, opt);
        }
    }
  g_assert_cmpuint (n, >=, 10);
  if (missing->len > 0)
    g_error ("the documentation is behind the plugins:\n%s", missing->str);
}

static void
test_pipeline_keys_documented (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline", "[pipeline]\nstages=in\n[stage in]\nplugin=stdin\n", -1);
  g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", "p.pipeline", "--set", "pipeline.no-such-key=1",
                                            NULL);
  g_assert_cmpint (r->status, ==, 78);
  const char *start = strstr (r->err, "(allowed: ");
  g_assert_nonnull (start);
  start += strlen ("(allowed: ");
  const char *end = strchr (start, ')');
  g_assert_nonnull (end);
  g_autofree char *list = g_strndup (start, end - start);
  g_auto(GStrv) keys = g_strsplit (list, ", ", -1);
  g_autofree char *man = read_man_page ();
  g_autofree char *ref = read_doc ("pipeline-reference.md");
  g_autoptr(GString) missing = g_string_new (NULL);
  g_assert_cmpuint (g_strv_length (keys), >=, 8);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autofree char *row = g_strdup_printf ("| `%s` |", keys[i]);
      if (strstr (ref, row) == NULL)
        g_string_append_printf (missing, "pipeline-reference.md: no row for [pipeline] %s\n", keys[i]);
      if (!man_has_bold (man, keys[i]))
        g_string_append_printf (missing, "galley.1 does not name [pipeline] key %s\n", keys[i]);
    }
  if (missing->len > 0)
    g_error ("the documentation is behind the [pipeline] keys:\n%s", missing->str);
}

/* The ```ini blocks of @text holding a [pipeline] section, in order. */
static GPtrArray *
ini_blocks (const char *text)
{
  GPtrArray *blocks = g_ptr_array_new_with_free_func (g_free);
  for (const char *p = strstr (text, "```ini\n"); p != NULL; p = strstr (p, "```ini\n"))
    {
      p += strlen ("```ini\n");
      const char *end = strstr (p, "```");
      g_assert_nonnull (end);
      /* the closing fence may be indented, as in a list */
      while (end > p && end[-1] == ' ')
        end--;
      g_autofree char *block = g_strndup (p, end - p);
      if (strstr (block, "[pipeline]") != NULL)
        g_ptr_array_add (blocks, g_steal_pointer (&block));
      p = end + 3;
    }
  return blocks;
}

/* A sample may name the reader's own directories (/srv/news/...): an
 * absolute paths= becomes the bundled articles, an absolute path= a file
 * under out/. */
static char *
localise_paths (const char *block)
{
  g_auto(GStrv) lines = g_strsplit (block, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "paths=/"))
        {
          g_free (lines[i]);
          lines[i] = g_strdup ("paths=examples/articles");
        }
      else if (g_str_has_prefix (lines[i], "path=/"))
        {
          g_autofree char *base = g_path_get_basename (lines[i] + strlen ("path="));
          g_free (lines[i]);
          lines[i] = g_strconcat ("path=out/", base, NULL);
        }
    }
  return g_strjoinv ("\n", lines);
}

static void
check_samples (Fixture *f, const char *doc, const char *text, guint *n)
{
  g_autoptr(GPtrArray) blocks = ini_blocks (text);
  for (guint i = 0; i < blocks->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%u.pipeline", doc, i + 1);
      g_autofree char *local = localise_paths (g_ptr_array_index (blocks, i));
      galley_test_write (f->dir, name, local, -1);
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "check", name, NULL);
      if (r->status != 0)
        g_error ("%s: sample pipeline %u fails `galley check` (exit %d):\n%s\n%s", doc, i + 1, r->status, r->err,
                 local);
      (*n)++;
    }
}

static void
test_sample_pipelines (Fixture *f, gconstpointer data)
{
  /* the samples are written to be run from the project root */
  g_autofree char *examples = galley_test_srcpath ("examples", NULL);
  g_autofree char *link = g_build_filename (f->dir, "examples", NULL);
  g_assert_cmpint (symlink (examples, link), ==, 0);
  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  g_assert_cmpint (g_mkdir (out, 0755), ==, 0);

  g_autofree char *guide = read_doc ("user-guide.md");
  g_autofree char *readme_path = galley_test_srcpath ("README.md", NULL);
  g_autofree char *readme = NULL;
  g_assert_true (g_file_get_contents (readme_path, &readme, NULL, NULL));
  guint n = 0;
  check_samples (f, "user-guide.md", guide, &n);
  check_samples (f, "README.md", readme, &n);
  g_assert_cmpuint (n, >=, 2);

  /* the guide's first sample is the default pipeline without its head
   * comment: the same stages (strip and entities among them), the same
   * options */
  g_autoptr(GPtrArray) blocks = ini_blocks (guide);
  g_autofree char *default_path = galley_test_srcpath ("pipelines", "default.pipeline", NULL);
  g_autofree char *def = NULL;
  g_assert_true (g_file_get_contents (default_path, &def, NULL, NULL));
  const char *sample = g_ptr_array_index (blocks, 0);
  if (!g_str_has_suffix (def, sample))
    g_error ("user-guide.md: the first sample pipeline is not the end of pipelines/default.pipeline:\n%s", sample);
  g_assert_nonnull (strstr (sample, "plugin=strip\n"));
  g_assert_nonnull (strstr (sample, "plugin=entities\n"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/docs/plugins", test_plugins_documented);
  ADD ("/docs/pipeline-keys", test_pipeline_keys_documented);
  ADD ("/docs/sample-pipelines", test_sample_pipelines);
  return g_test_run ();
}
