/* test-plan.c: `galley plan slurm`. The printed script is run by bash
 * against a fake sbatch that records every submission, so the chain's
 * structure (steps, arrays, dependencies, options) is checked without Slurm. */
#include "galley-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static const char dedup_pipeline[] =
  "[pipeline]\n"
  "stages=articles;dedup;output\n"
  "stats=\n"
  "[stage articles]\n"
  "plugin=files\n"
  "paths=in\n"
  "[stage dedup]\n"
  "plugin=dedup\n"
  "mode=drop\n"
  "[stage output]\n"
  "plugin=export-jsonl\n"
  "path=out.jsonl\n";

static const char plain_pipeline[] =
  "[pipeline]\n"
  "stages=articles;output\n"
  "stats=\n"
  "[stage articles]\n"
  "plugin=files\n"
  "paths=in\n"
  "[stage output]\n"
  "plugin=export-jsonl\n"
  "path=out.jsonl\n";

/* Logs each call as "call N", its arguments as "arg A" and the job script
 * read from stdin as "job LINE"; prints a job id the way --parsable does
 * on a federated cluster ("ID;CLUSTER"). Fails on call FAKE_SBATCH_FAIL_AT. */
static const char fake_sbatch[] =
  "#!/bin/sh\n"
  "log=\"$FAKE_SBATCH_LOG\"\n"
  "n=$(( $(cat \"$log.count\" 2>/dev/null || echo 0) + 1 ))\n"
  "echo \"$n\" > \"$log.count\"\n"
  "if [ \"$n\" = \"${FAKE_SBATCH_FAIL_AT:-0}\" ]; then echo 'sbatch: error: Batch job submission failed' >&2; exit 1; fi\n"
  "{ echo \"call $n\"; for a in \"$@\"; do echo \"arg $a\"; done; sed 's/^/job /'; } >> \"$log\"\n"
  "echo \"$((1000 + n));ci\"\n";

typedef struct {
  char  *args;     /* "arg" lines joined by '\n' */
  char  *job;      /* the job script */
} Submission;

static void
submission_free (gpointer p)
{
  Submission *s = p;
  g_free (s->args);
  g_free (s->job);
  g_free (s);
}

/* Writes the fake sbatch into @dir/bin and runs `bash @script [@arg]` with it
 * first in PATH; returns the submissions in order. */
static GPtrArray *
run_script (const char *dir, const char *script, const char *arg, int fail_at, int *status, char **out)
{
  g_autofree char *bin = g_build_filename (dir, "bin", NULL);
  g_autofree char *sbatch = g_build_filename (bin, "sbatch", NULL);
  g_autofree char *log = g_build_filename (dir, "sbatch.log", NULL);
  g_autofree char *count = g_strconcat (log, ".count", NULL);
  g_autofree char *script_path = g_build_filename (dir, "chain.sh", NULL);
  galley_test_write (dir, "bin/sbatch", fake_sbatch, -1);
  g_assert_cmpint (g_chmod (sbatch, 0755), ==, 0);
  galley_test_write (dir, "chain.sh", script, -1);
  g_unlink (log);
  g_unlink (count);

  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *path = g_strconcat (bin, ":", g_getenv ("PATH"), NULL);
  g_subprocess_launcher_setenv (launcher, "PATH", path, TRUE);
  g_subprocess_launcher_setenv (launcher, "FAKE_SBATCH_LOG", log, TRUE);
  g_autofree char *fail = g_strdup_printf ("%d", fail_at);
  g_subprocess_launcher_setenv (launcher, "FAKE_SBATCH_FAIL_AT", fail, TRUE);
  g_subprocess_launcher_set_cwd (launcher, dir);
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "bash", script_path, arg, NULL };
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_autofree char *stdout_text = NULL, *stderr_text = NULL;
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &stdout_text, &stderr_text, &error);
  g_assert_no_error (error);
  *status = g_subprocess_get_exit_status (proc);
  if (g_test_verbose ())
    g_printerr ("script exited %d\n%s", *status, stderr_text);
  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);

  GPtrArray *subs = g_ptr_array_new_with_free_func (submission_free);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (log, &text, NULL, NULL))
    return subs;
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GString *args = NULL, *job = NULL;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "call "))
        {
          if (args != NULL)
            {
              Submission *s = g_new0 (Submission, 1);
              s->args = g_string_free (args, FALSE);
              s->job = g_string_free (job, FALSE);
              g_ptr_array_add (subs, s);
            }
          args = g_string_new (NULL);
          job = g_string_new (NULL);
        }
      else if (g_str_has_prefix (lines[i], "arg "))
        g_string_append_printf (args, "%s\n", lines[i] + 4);
      else if (g_str_has_prefix (lines[i], "job "))
        g_string_append_printf (job, "%s\n", lines[i] + 4);
    }
  if (args != NULL)
    {
      Submission *s = g_new0 (Submission, 1);
      s->args = g_string_free (args, FALSE);
      s->job = g_string_free (job, FALSE);
      g_ptr_array_add (subs, s);
    }
  return subs;
}

static gboolean
has_arg (const Submission *s, const char *arg)
{
  g_autofree char *line = g_strconcat ("\n", arg, "\n", NULL);
  g_autofree char *all = g_strconcat ("\n", s->args, NULL);
  return strstr (all, line) != NULL;
}

static gboolean
has_arg_prefix (const Submission *s, const char *prefix)
{
  g_autofree char *line = g_strconcat ("\n", prefix, NULL);
  g_autofree char *all = g_strconcat ("\n", s->args, NULL);
  return strstr (all, line) != NULL;
}

static char *
plan_ok (const char *dir, const char *const *args)
{
  g_autoptr(RunResult) r = galley_test_runv (dir, NULL, args);
  if (r->status != 0)
    g_printerr ("%s", r->err);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_true (g_str_has_prefix (r->out, "#!/bin/bash\n"));
  return g_steal_pointer (&r->out);
}

static void
test_dedup_chain (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline", dedup_pipeline, -1);
  const char *args[] = { "plan", "slurm", "p.pipeline", "--shards", "3", "--bands", "4", NULL };
  g_autofree char *script = plan_ok (f->dir, args);
  g_autofree char *pipeline = g_build_filename (f->dir, "p.pipeline", NULL);
  g_autofree char *work = g_build_filename (f->dir, "p.work", NULL);
  g_autofree char *exe = g_canonicalize_filename (g_getenv ("GALLEY_EXE"), NULL);

  int status = -1;
  g_autofree char *out = NULL;
  g_autoptr(GPtrArray) subs = run_script (f->dir, script, NULL, 0, &status, &out);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (subs->len, ==, 5);
  /* the last job's id, without the cluster name */
  g_assert_cmpstr (out, ==, "1005\n");

  const char *steps[] = { "map", "bucket", "cluster", "filter", "merge" };
  /* 4 bands in 3 bucket tasks (at most one per shard) */
  const char *arrays[] = { "--array=0-2", "--array=0-2", NULL, "--array=0-2", NULL };
  for (guint i = 0; i < subs->len; i++)
    {
      const Submission *s = g_ptr_array_index (subs, i);
      g_autofree char *name = g_strdup_printf ("--job-name=galley-%s", steps[i]);
      g_assert_true (has_arg (s, "--parsable"));
      g_assert_true (has_arg (s, "--kill-on-invalid-dep=yes"));
      g_assert_true (has_arg (s, name));
      g_assert_true (has_arg_prefix (s, "--chdir=/"));
      if (arrays[i] != NULL)
        g_assert_true (has_arg (s, arrays[i]));
      else
        g_assert_false (has_arg_prefix (s, "--array="));
      if (i == 0)
        g_assert_false (has_arg_prefix (s, "--dependency="));
      else
        {
          g_autofree char *dep = g_strdup_printf ("--dependency=afterok:%u", 1000 + i);
          g_assert_true (has_arg (s, dep));
        }
      /* no option the plan was not given */
      g_assert_false (has_arg_prefix (s, "--partition="));
      g_assert_false (has_arg_prefix (s, "--time="));
      g_assert_false (has_arg_prefix (s, "--mem="));
      g_assert_true (g_str_has_prefix (s->job, "#!/bin/bash\n"));
      g_assert_nonnull (strstr (s->job, exe));
      g_assert_nonnull (strstr (s->job, pipeline));
      g_assert_nonnull (strstr (s->job, work));
    }
  const Submission *map = g_ptr_array_index (subs, 0);
  g_assert_nonnull (strstr (map->job, " run '"));
  g_assert_nonnull (strstr (map->job, "--shard \"$SLURM_ARRAY_TASK_ID/3\""));
  const Submission *bucket = g_ptr_array_index (subs, 1);
  g_assert_nonnull (strstr (bucket->job, " dedup bucket '"));
  g_assert_nonnull (strstr (bucket->job, "for ((band = SLURM_ARRAY_TASK_ID; band < 4; band += 3)); do\n"));
  g_assert_nonnull (strstr (bucket->job, "--band \"$band\""));
  g_assert_nonnull (strstr (bucket->job, " || exit\ndone\n"));
  const Submission *cluster = g_ptr_array_index (subs, 2);
  g_assert_nonnull (strstr (cluster->job, " dedup cluster '"));
  const Submission *filter = g_ptr_array_index (subs, 3);
  g_assert_nonnull (strstr (filter->job, " dedup filter '"));
  g_assert_nonnull (strstr (filter->job, "--shard \"$SLURM_ARRAY_TASK_ID/3\""));
  const Submission *merge = g_ptr_array_index (subs, 4);
  g_assert_nonnull (strstr (merge->job, " shard merge '"));
  /* logs go to the work directory, which the script creates */
  g_autofree char *logs = g_build_filename (work, "logs", NULL);
  g_assert_true (g_file_test (logs, G_FILE_TEST_IS_DIR));
}

static void
test_plain_chain (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline", plain_pipeline, -1);
  const char *args[] = { "plan", "slurm", "p.pipeline", "--shards", "1", "--work", "w d",
                         "--partition", "batch", "--time", "1-02:30:00", "--mem", "4G", NULL };
  g_autofree char *script = plan_ok (f->dir, args);
  g_assert_null (strstr (script, "bucket"));
  int status = -1;
  g_autoptr(GPtrArray) subs = run_script (f->dir, script, NULL, 0, &status, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (subs->len, ==, 2);
  const Submission *map = g_ptr_array_index (subs, 0), *merge = g_ptr_array_index (subs, 1);
  g_assert_true (has_arg (map, "--job-name=galley-map"));
  g_assert_true (has_arg (map, "--array=0-0"));
  g_assert_true (has_arg (merge, "--job-name=galley-merge"));
  g_assert_true (has_arg (merge, "--dependency=afterok:1001"));
  for (guint i = 0; i < subs->len; i++)
    {
      const Submission *s = g_ptr_array_index (subs, i);
      g_assert_true (has_arg (s, "--kill-on-invalid-dep=yes"));
      g_assert_true (has_arg (s, "--partition=batch"));
      g_assert_true (has_arg (s, "--time=1-02:30:00"));
      g_assert_true (has_arg (s, "--mem=4G"));
    }
  /* a work directory with a space is quoted in the job script */
  g_assert_nonnull (strstr (map->job, "/w d'\n"));
  g_autofree char *logs = g_build_filename (f->dir, "w d", "logs", NULL);
  g_assert_true (g_file_test (logs, G_FILE_TEST_IS_DIR));
}

static void
test_cluster_mem (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline", dedup_pipeline, -1);
  const char *args[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--bands", "2",
                         "--mem", "2G", "--cluster-mem", "64G", NULL };
  g_autofree char *script = plan_ok (f->dir, args);
  int status = -1;
  g_autoptr(GPtrArray) subs = run_script (f->dir, script, NULL, 0, &status, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (subs->len, ==, 5);
  for (guint i = 0; i < subs->len; i++)
    {
      const Submission *s = g_ptr_array_index (subs, i);
      g_assert_true (has_arg (s, "--mem=2G"));
      if (i != 2)
        g_assert_false (has_arg (s, "--mem=64G"));
    }
  /* sbatch takes the last --mem: the cluster job's comes after the common one */
  const Submission *cluster = g_ptr_array_index (subs, 2);
  g_assert_true (has_arg (cluster, "--job-name=galley-cluster"));
  const char *common = strstr (cluster->args, "--mem=2G\n");
  const char *own = strstr (cluster->args, "--mem=64G\n");
  g_assert_nonnull (common);
  g_assert_nonnull (own);
  g_assert_true (own > common);
}

static void
touch_marker (const char *dir, const char *name)
{
  g_autofree char *rel = g_strconcat ("p.work/markers/", name, NULL);
  galley_test_write (dir, rel, "{}\n", -1);
}

static void
test_resume (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline", dedup_pipeline, -1);
  const char *args[] = { "plan", "slurm", "p.pipeline", "--shards", "3", "--bands", "2", NULL };
  g_autofree char *script = plan_ok (f->dir, args);
  /* a chain that failed in filter task 1 */
  const char *done[] = { "map-0.done", "map-1.done", "map-2.done", "bucket-0.done", "bucket-1.done",
                         "cluster.done", "filter-0.done", "filter-2.done" };
  for (guint i = 0; i < G_N_ELEMENTS (done); i++)
    touch_marker (f->dir, done[i]);
  int status = -1;
  g_autofree char *out = NULL;
  g_autoptr(GPtrArray) subs = run_script (f->dir, script, "--resume", 0, &status, &out);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (subs->len, ==, 2);
  const Submission *filter = g_ptr_array_index (subs, 0), *merge = g_ptr_array_index (subs, 1);
  g_assert_true (has_arg (filter, "--job-name=galley-filter"));
  g_assert_true (has_arg (filter, "--array=1"));
  g_assert_false (has_arg_prefix (filter, "--dependency="));
  g_assert_true (has_arg (merge, "--job-name=galley-merge"));
  g_assert_true (has_arg (merge, "--dependency=afterok:1001"));
  g_assert_cmpstr (out, ==, "1002\n");

  /* without --resume, everything again */
  g_clear_pointer (&subs, g_ptr_array_unref);
  subs = run_script (f->dir, script, NULL, 0, &status, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (subs->len, ==, 5);

  /* a finished chain: nothing to submit */
  touch_marker (f->dir, "filter-1.done");
  touch_marker (f->dir, "merge.done");
  g_clear_pointer (&subs, g_ptr_array_unref);
  g_clear_pointer (&out, g_free);
  subs = run_script (f->dir, script, "--resume", 0, &status, &out);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (subs->len, ==, 0);
  g_assert_cmpstr (out, ==, "");

  /* an unknown argument */
  g_clear_pointer (&subs, g_ptr_array_unref);
  subs = run_script (f->dir, script, "--bogus", 0, &status, NULL);
  g_assert_cmpint (status, ==, 64);
  g_assert_cmpuint (subs->len, ==, 0);
}

/* Bucket tasks run several bands: --resume submits a task again unless
 * every one of its bands has its marker. */
static void
test_resume_bucket_bands (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline", dedup_pipeline, -1);
  const char *args[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--bands", "5", NULL };
  g_autofree char *script = plan_ok (f->dir, args);
  g_assert_nonnull (strstr (script, "bucket (5 bands in 2 tasks)"));
  /* task 0 has bands 0, 2, 4 (all done), task 1 bands 1 and 3 (3 missing) */
  const char *done[] = { "map-0.done", "map-1.done", "bucket-0.done", "bucket-1.done", "bucket-2.done",
                         "bucket-4.done" };
  for (guint i = 0; i < G_N_ELEMENTS (done); i++)
    touch_marker (f->dir, done[i]);
  int status = -1;
  g_autoptr(GPtrArray) subs = run_script (f->dir, script, "--resume", 0, &status, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (subs->len, ==, 4);
  const Submission *bucket = g_ptr_array_index (subs, 0);
  g_assert_true (has_arg (bucket, "--job-name=galley-bucket"));
  g_assert_true (has_arg (bucket, "--array=1"));
  g_assert_nonnull (strstr (bucket->job, "band < 5; band += 2"));

  /* every band done: the bucket step is left out */
  touch_marker (f->dir, "bucket-3.done");
  g_clear_pointer (&subs, g_ptr_array_unref);
  subs = run_script (f->dir, script, "--resume", 0, &status, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (subs->len, ==, 3);
  g_assert_true (has_arg (g_ptr_array_index (subs, 0), "--job-name=galley-cluster"));
}

static void
test_sbatch_failure_stops (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline", dedup_pipeline, -1);
  const char *args[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--bands", "2", NULL };
  g_autofree char *script = plan_ok (f->dir, args);
  int status = -1;
  g_autofree char *out = NULL;
  g_autoptr(GPtrArray) subs = run_script (f->dir, script, NULL, 2, &status, &out);
  g_assert_cmpint (status, !=, 0);
  /* the map array went in, the bucket submission failed, nothing after it */
  g_assert_cmpuint (subs->len, ==, 1);
  g_assert_cmpstr (out, ==, "");
}

static void
test_bands_from_dedup (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline", dedup_pipeline, -1);
  g_autoptr(RunResult) bands = galley_test_run (f->dir, NULL, "dedup", "bands", "p.pipeline", NULL);
  if (bands->status != 0)
    {
      g_test_skip ("no 'galley dedup bands' command in this build");
      return;
    }
  const char *args[] = { "plan", "slurm", "p.pipeline", "--shards", "2", NULL };
  g_autofree char *script = plan_ok (f->dir, args);
  g_autofree char *line = g_strdup_printf ("\nbands=%s", g_strstrip (bands->out));
  g_assert_nonnull (strstr (script, line));
}

static void
expect_fail (const char *dir, int code, const char *err_pattern, const char *const *args)
{
  g_autoptr(RunResult) r = galley_test_runv (dir, NULL, args);
  g_assert_cmpint (r->status, ==, code);
  g_assert_cmpstr (r->out ? r->out : "", ==, "");
  if (!g_pattern_match_simple (err_pattern, r->err))
    g_error ("stderr '%s' does not match '%s'", r->err, err_pattern);
}

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "p.pipeline", plain_pipeline, -1);
  const char *const no_shards[] = { "plan", "slurm", "p.pipeline", NULL };
  expect_fail (f->dir, 64, "*--shards N is required*", no_shards);
  const char *const zero[] = { "plan", "slurm", "p.pipeline", "--shards", "0", NULL };
  expect_fail (f->dir, 64, "*--shards N is required*", zero);
  const char *const negative[] = { "plan", "slurm", "p.pipeline", "--shards", "-3", NULL };
  expect_fail (f->dir, 64, "*--shards must be between 1 and*", negative);
  const char *const word[] = { "plan", "slurm", "p.pipeline", "--shards", "many", NULL };
  expect_fail (f->dir, 64, "*many*", word);
  const char *const huge[] = { "plan", "slurm", "p.pipeline", "--shards", "99999999999999999999", NULL };
  expect_fail (f->dir, 64, "*", huge);
  const char *const bands[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--bands", "-1", NULL };
  expect_fail (f->dir, 64, "*--bands must be*", bands);
  const char *const time_limit[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--time", "1 hour", NULL };
  expect_fail (f->dir, 64, "*--time: '1 hour' is not a Slurm time*", time_limit);
  const char *const mem[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--mem", "4G; rm -rf /", NULL };
  expect_fail (f->dir, 64, "*--mem:*is not a Slurm size*", mem);
  const char *const cluster_mem[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--cluster-mem", "lots", NULL };
  expect_fail (f->dir, 64, "*--cluster-mem: 'lots'*", cluster_mem);
  const char *const partition[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--partition", "a'b", NULL };
  expect_fail (f->dir, 64, "*--partition:*", partition);
  const char *const no_file[] = { "plan", "slurm", "--shards", "2", NULL };
  expect_fail (f->dir, 64, "*missing pipeline FILE*", no_file);
  const char *const two_files[] = { "plan", "slurm", "p.pipeline", "q.pipeline", "--shards", "2", NULL };
  expect_fail (f->dir, 64, "*expected one pipeline FILE, got 2*", two_files);
  const char *const unknown[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--submit", NULL };
  expect_fail (f->dir, 64, "*--submit*", unknown);
  const char *const scheduler[] = { "plan", "pbs", "p.pipeline", NULL };
  expect_fail (f->dir, 64, "*unknown scheduler 'pbs'*", scheduler);
  const char *const bare[] = { "plan", NULL };
  expect_fail (f->dir, 64, "*galley plan slurm FILE*", bare);
  const char *const newline[] = { "plan", "slurm", "p.pipeline", "--shards", "2", "--work", "a\nb", NULL };
  expect_fail (f->dir, 64, "*line break*", newline);

  /* pipelines that do not load: missing, empty, binary, invalid UTF-8 */
  const char *const missing[] = { "plan", "slurm", "nope.pipeline", "--shards", "2", NULL };
  g_autoptr(RunResult) r = galley_test_runv (f->dir, NULL, missing);
  g_assert_cmpint (r->status, !=, 0);
  g_assert_cmpstr (r->out ? r->out : "", ==, "");
  g_assert_nonnull (strstr (r->err, "nope.pipeline"));
  static const char *const bad_contents[] = { "", "\0\0\0\x01\x02", "[pipeline]\nstages=\xff\xfe\n", "[stage x]\nplugin=files\n" };
  static const gssize bad_lengths[] = { 0, 5, -1, -1 };
  for (guint i = 0; i < G_N_ELEMENTS (bad_contents); i++)
    {
      galley_test_write (f->dir, "bad.pipeline", bad_contents[i], bad_lengths[i]);
      const char *const bad[] = { "plan", "slurm", "bad.pipeline", "--shards", "2", NULL };
      g_autoptr(RunResult) b = galley_test_runv (f->dir, NULL, bad);
      g_assert_cmpint (b->status, ==, 78);
      g_assert_cmpstr (b->out ? b->out : "", ==, "");
    }

  /* the help is not an error */
  const char *const help[] = { "plan", "--help", NULL };
  g_autoptr(RunResult) h = galley_test_runv (f->dir, NULL, help);
  g_assert_cmpint (h->status, ==, 0);
  g_assert_nonnull (strstr (h->out, "galley plan slurm FILE --shards N"));
  const char *const slurm_help[] = { "plan", "slurm", "--help", NULL };
  g_autoptr(RunResult) sh = galley_test_runv (f->dir, NULL, slurm_help);
  g_assert_cmpint (sh->status, ==, 0);
  g_assert_nonnull (strstr (sh->out, "--kill-on-invalid-dep=yes"));
  g_assert_nonnull (strstr (sh->out, "--partition"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/plan/slurm/dedup-chain", test_dedup_chain);
  ADD ("/plan/slurm/plain-chain", test_plain_chain);
  ADD ("/plan/slurm/cluster-mem", test_cluster_mem);
  ADD ("/plan/slurm/resume", test_resume);
  ADD ("/plan/slurm/resume-bucket-bands", test_resume_bucket_bands);
  ADD ("/plan/slurm/sbatch-failure", test_sbatch_failure_stops);
  ADD ("/plan/slurm/bands-from-dedup", test_bands_from_dedup);
  ADD ("/plan/slurm/bad-input", test_bad_input);
  return g_test_run ();
}
