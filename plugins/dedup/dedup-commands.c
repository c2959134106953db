/* dedup-commands.c: `galley dedup COMMAND`: the maintenance of the index a
 * dedup stage keeps in its state-dir (stats, forget, compact), and the
 * command line of the steps of a sharded run (dedup-steps.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dedup-private.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char command_help[] =
  "Usage:\n"
  "  galley dedup stats [--json] STATE_DIR\n"
  "  galley dedup forget --older-than DURATION STATE_DIR\n"
  "  galley dedup compact STATE_DIR\n"
  "  galley dedup bands|bucket|cluster|filter FILE ... (sharded runs: galley dedup bands --help)\n"
  "  galley dedup index merge FILE --work DIR --state-dir STATE (galley dedup index --help)\n"
  "\n"
  "Maintain the index a dedup stage keeps in its state-dir.\n"
  "\n"
  "Commands:\n"
  "  stats      documents, clusters, band keys, runs, time span and size on disk\n"
  "  forget     remove documents indexed more than DURATION ago (30d, 12h, 1w):\n"
  "             later runs no longer treat their copies as duplicates\n"
  "  compact    merge the segment files into one, leaving out forgotten documents,\n"
  "             and rebuild the database file to give freed space back (VACUUM)\n"
  "\n"
  "Options:\n"
  "  --json             stats: print one JSON object\n"
  "  --older-than DUR   forget: the age limit\n"
  "  --wait DUR         forget, compact: wait this long for a running pipeline's lock (default 0)\n"
  "  -h, --help         show this help\n"
  "\n"
  "Exit status: 0 done, 64 usage, 66 no index in STATE_DIR, 65 damaged index,\n"
  "74 I/O error, 75 a pipeline holds the lock (try again later), 78 newer index format.\n";

static int
exit_code_for (const GError *error)
{
  if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_BUSY)
    return 75;
  if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_NOT_FOUND)
    return 66;
  if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_INVALID_DATA)
    return 65;
  if (error->domain == GALLEY_CONFIG_ERROR)
    return 78;
  if (error->domain == GALLEY_OUTPUT_ERROR && error->code == GALLEY_OUTPUT_ERROR_CREATE)
    return 73;
  return 74;
}

static int
command_fail (const char *prog, GError *error)
{
  fprintf (stderr, "%s: %s\n", prog, error->message);
  int code = exit_code_for (error);
  g_error_free (error);
  return code;
}

static int
usage_error (const char *prog, const char *msg)
{
  fprintf (stderr, "%s: %s\nRun '%s --help' for usage.\n", prog, msg, prog);
  return 64;
}

static const char index_help[] =
  "Usage:\n"
  "  galley dedup index merge FILE --work DIR --state-dir STATE\n"
  "\n"
  "Adds the documents of a finished sharded run (after 'galley dedup cluster') to\n"
  "the persistent index in STATE, as a plain run of FILE with state-dir=STATE would:\n"
  "later runs with that state-dir find duplicates of them. Merging the same run\n"
  "twice adds nothing. The signature options of FILE's dedup stage must match the\n"
  "index's.\n";

static int
index_command (const char *prog, int argc, char **argv)
{
  const char *file = NULL, *work = NULL, *state = NULL;
  gboolean merge = FALSE;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if ((g_str_equal (a, "--plugin-dir") || g_str_equal (a, "-P")) && i + 1 < argc)
        i++;
      else if ((g_str_equal (a, "--work") || g_str_equal (a, "--state-dir")) && i + 1 < argc)
        *(g_str_equal (a, "--work") ? &work : &state) = argv[++i];
      else if (g_str_has_prefix (a, "--work="))
        work = a + strlen ("--work=");
      else if (g_str_has_prefix (a, "--state-dir="))
        state = a + strlen ("--state-dir=");
      else if (g_str_equal (a, "-h") || g_str_equal (a, "--help"))
        {
          fputs (index_help, stdout);
          return 0;
        }
      else if (a[0] == '-')
        return usage_error (prog, "unknown option");
      else if (g_str_equal (a, "index"))
        continue;
      else if (!merge && g_str_equal (a, "merge"))
        merge = TRUE;
      else if (merge && file == NULL)
        file = a;
      else
        return usage_error (prog, merge ? "too many arguments" : "unknown index command (merge)");
    }
  if (!merge)
    return usage_error (prog, "missing the index command (merge)");
  if (file == NULL)
    return usage_error (prog, "missing the pipeline FILE");
  if (work == NULL || state == NULL || *state == '\0')
    return usage_error (prog, "index merge needs --work DIR and --state-dir STATE");
  GError *error = NULL;
  g_autoptr(GalleyShardStep) step = galley_shard_step_begin (file, work, "index-merge", "dedup", &error);
  if (step == NULL)
    return command_fail (prog, error);
  g_autoptr(Dedup) self = g_new0 (Dedup, 1);
  self->lock_fd = -1;
  if (!dedup_read_options (self, galley_shard_step_get_options (step), &error))
    return command_fail (prog, error);
  gboolean ok = TRUE;
  for (guint i = 0; i < galley_shard_step_get_shards (step) && ok; i++)
    {
      g_autofree char *need = g_strdup_printf ("map-%u", i);
      ok = galley_shard_step_need (step, need, &error);
    }
  for (guint b = 0; b < self->params.bands + 2 && ok; b++)
    {
      g_autofree char *need = g_strdup_printf ("bucket-%u", b);
      ok = galley_shard_step_need (step, need, &error);
    }
  ok = ok && galley_shard_step_need (step, "cluster", &error) && dedup_step_index_merge (step, self, state, &error)
       && galley_shard_step_done (step, NULL, &error);
  if (!ok)
    return command_fail (prog, error);
  return 0;
}

static const char shard_help[] =
  "Usage:\n"
  "  galley dedup bands FILE\n"
  "  galley dedup bucket FILE --band B --work DIR\n"
  "  galley dedup cluster FILE --work DIR\n"
  "  galley dedup filter FILE --shard I/N --work DIR\n"
  "\n"
  "Steps of a sharded run (docs/scale-out.md): bands prints how many bucket steps\n"
  "there are (B from 0 to that number - 1); bucket finds the documents of all\n"
  "shards that share key B; cluster decides, for the whole corpus, what the dedup\n"
  "stage of a single run would; filter applies it to shard I and runs the rest.\n";

static int
shard_command (const char *prog, const char *sub, int argc, char **argv)
{
  const char *file = NULL, *work = NULL, *band_text = NULL;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if ((g_str_equal (a, "--plugin-dir") || g_str_equal (a, "-P")) && i + 1 < argc)
        i++;
      else if ((g_str_equal (a, "--work") || g_str_equal (a, "--band")) && i + 1 < argc)
        *(g_str_equal (a, "--work") ? &work : &band_text) = argv[++i];
      else if (g_str_has_prefix (a, "--work="))
        work = a + strlen ("--work=");
      else if (g_str_has_prefix (a, "--band="))
        band_text = a + strlen ("--band=");
      else if (g_str_equal (a, "-h") || g_str_equal (a, "--help"))
        {
          fputs (shard_help, stdout);
          return 0;
        }
      else if (a[0] == '-')
        return usage_error (prog, "unknown option");
      else if (g_str_equal (a, sub))
        continue;
      else if (file == NULL)
        file = a;
      else
        return usage_error (prog, "too many arguments");
    }
  gboolean bands = g_str_equal (sub, "bands"), bucket = g_str_equal (sub, "bucket");
  if (file == NULL)
    return usage_error (prog, "missing the pipeline FILE");
  if (!bands && work == NULL)
    return usage_error (prog, "missing --work DIR");
  if (bucket && band_text == NULL)
    return usage_error (prog, "missing --band B");
  guint64 band = 0;
  if (band_text != NULL && !g_ascii_string_to_unsigned (band_text, 10, 0, MAX_BANDS + 1, &band, NULL))
    return usage_error (prog, "--band takes a number from 0 to the count 'galley dedup bands FILE' prints, minus 1");
  g_autofree char *step_name = bucket ? g_strdup_printf ("bucket-%u", (guint) band) : g_strdup (sub);
  GError *error = NULL;
  g_autoptr(GalleyShardStep) step = galley_shard_step_begin (file, bands ? NULL : work, step_name, "dedup", &error);
  if (step == NULL)
    return command_fail (prog, error);
  g_autoptr(Dedup) self = g_new0 (Dedup, 1);
  self->lock_fd = -1;
  if (!dedup_read_options (self, galley_shard_step_get_options (step), &error))
    return command_fail (prog, error);
  guint nb = self->params.bands + 2;
  if (bands)
    {
      printf ("%u\n", nb);
      return 0;
    }
  if (bucket && band >= nb)
    return usage_error (prog, "--band is past the last band (see 'galley dedup bands FILE')");
  gboolean ok = TRUE;
  if (bucket)
    {
      for (guint i = 0; i < galley_shard_step_get_shards (step) && ok; i++)
        {
          g_autofree char *need = g_strdup_printf ("map-%u", i);
          ok = galley_shard_step_need (step, need, &error);
        }
      ok = ok && dedup_step_bucket (step, self, band, &error);
    }
  else
    {
      for (guint i = 0; i < galley_shard_step_get_shards (step) && ok; i++)
        {
          g_autofree char *need = g_strdup_printf ("map-%u", i);
          ok = galley_shard_step_need (step, need, &error);
        }
      for (guint b = 0; b < nb && ok; b++)
        {
          g_autofree char *need = g_strdup_printf ("bucket-%u", b);
          ok = galley_shard_step_need (step, need, &error);
        }
      if (ok)
        {
          self->entries = g_array_sized_new (FALSE, FALSE, sizeof (Entry), 4096);
          self->ids = g_string_chunk_new (64 * 1024);
          self->sig_blocks = g_ptr_array_new_with_free_func (g_free);
          self->cand = g_array_new (FALSE, FALSE, sizeof (guint32));
          ok = dedup_step_cluster (step, self, &error);
        }
    }
  if (!ok)
    return command_fail (prog, error);
  return 0;
}

int
dedup_command (int argc, char **argv)
{
  const char *prog = argc > 0 ? argv[0] : "galley dedup";
  for (int i = 1; i < argc; i++)
    {
      if ((g_str_equal (argv[i], "--plugin-dir") || g_str_equal (argv[i], "-P")) && i + 1 < argc)
        {
          i++;
          continue;
        }
      if (argv[i][0] == '-')
        continue;
      if (g_str_equal (argv[i], "bands") || g_str_equal (argv[i], "bucket") || g_str_equal (argv[i], "cluster"))
        return shard_command (prog, argv[i], argc, argv);
      if (g_str_equal (argv[i], "index"))
        return index_command (prog, argc, argv);
      break;
    }
  const char *sub = NULL, *dir = NULL, *older = NULL, *wait = "0";
  gboolean json = FALSE;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (g_str_equal (a, "-h") || g_str_equal (a, "--help") || g_str_equal (a, "help"))
        {
          fputs (command_help, stdout);
          return 0;
        }
      if ((g_str_equal (a, "--plugin-dir") || g_str_equal (a, "-P")) && i + 1 < argc)
        i++;                                  /* the core's option */
      else if (g_str_equal (a, "--json"))
        json = TRUE;
      else if (g_str_equal (a, "--older-than") || g_str_equal (a, "--wait"))
        {
          if (i + 1 >= argc)
            return usage_error (prog, "missing value after option");
          *(g_str_equal (a, "--wait") ? &wait : &older) = argv[++i];
        }
      else if (g_str_has_prefix (a, "--older-than="))
        older = a + strlen ("--older-than=");
      else if (g_str_has_prefix (a, "--wait="))
        wait = a + strlen ("--wait=");
      else if (a[0] == '-')
        return usage_error (prog, "unknown option");
      else if (sub == NULL)
        sub = a;
      else if (dir == NULL)
        dir = a;
      else
        return usage_error (prog, "too many arguments");
    }
  if (sub == NULL)
    {
      fputs (command_help, stderr);
      return 64;
    }
  gboolean is_stats = g_str_equal (sub, "stats"), is_forget = g_str_equal (sub, "forget");
  gboolean is_compact = g_str_equal (sub, "compact");
  if (!is_stats && !is_forget && !is_compact)
    return usage_error (prog, "unknown command (stats, forget or compact)");
  if (dir == NULL)
    return usage_error (prog, "missing STATE_DIR");
  GError *error = NULL;
  GTimeSpan older_than = 0, wait_us = 0;
  if (is_forget && older == NULL)
    return usage_error (prog, "forget needs --older-than DURATION (e.g. 30d)");
  if (older != NULL && !galley_parse_duration (older, &older_than, &error))
    {
      g_prefix_error (&error, "--older-than: ");
      fprintf (stderr, "%s: %s\n", prog, error->message);
      g_error_free (error);
      return 64;
    }
  if (!galley_parse_duration (wait, &wait_us, &error))
    {
      fprintf (stderr, "%s: --wait: %s\n", prog, error->message);
      g_error_free (error);
      return 64;
    }
  g_autofree char *path = g_build_filename (dir, DEDUP_INDEX_FILE, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "%s: %s: no dedup index in this directory\n", prog, dir);
      return 66;
    }
  int lock_fd = -1;
  if (!is_stats && (lock_fd = dedup_lock_state_dir (dir, wait_us, &error)) < 0)
    return command_fail (prog, error);
  g_autoptr(DedupIndex) ix = dedup_index_open (dir, !is_stats, FALSE, NULL, &error);
  int code = 0;
  if (ix == NULL)
    code = command_fail (prog, error);
  else if (is_stats)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      if (dedup_index_stats (ix, out, json, &error))
        fputs (out->str, stdout);
      else
        code = command_fail (prog, error);
    }
  else if (is_forget)
    {
      gint64 docs = 0;
      gint64 before = g_get_real_time () / G_USEC_PER_SEC - older_than / G_USEC_PER_SEC;
      if (dedup_index_forget (ix, before, &docs, &error))
        printf ("forgot %" G_GINT64_FORMAT " documents seen before %s ago; run 'galley dedup compact %s' "
                "to give the space back\n", docs, older, dir);
      else
        code = command_fail (prog, error);
    }
  else
    {
      if (dedup_index_compact (ix, &error))
        printf ("compacted %s\n", path);
      else
        code = command_fail (prog, error);
    }
  g_clear_pointer (&ix, dedup_index_close);
  if (lock_fd >= 0)
    close (lock_fd);
  return code;
}

