/* test-dedup-commands.c: the command line of `galley dedup COMMAND`: the
 * help of each command, and what a bad command line prints and exits. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

static void
assert_contains (const char *haystack, const char *needle, const char *what)
{
  if (haystack == NULL || strstr (haystack, needle) == NULL)
    g_error ("%s: expected to contain '%s', got:\n%s", what, needle, haystack ? haystack : "(nothing)");
}

static void
write_pipeline (Fixture *f)
{
  galley_test_write (f->dir, "t.pipeline",
                     "[pipeline]\nstages=in;dedup;out\nstats=\nrejects=\n\n"
                     "[stage in]\nplugin=stdin\nformat=jsonl\n\n"
                     "[stage dedup]\nplugin=dedup\n\n"
                     "[stage out]\nplugin=export-jsonl\npath=out.jsonl\n", -1);
}

/* `galley dedup --help`: one summary line per command. */
static void
test_help (Fixture *f, gconstpointer data)
{
  const char *lines[] = {
    "\n  stats ", "\n  forget ", "\n  compact ", "\n  bands ", "\n  bucket ", "\n  cluster ", "\n  filter ",
    "\n  index merge ", "galley dedup COMMAND --help",
  };
  const char *spellings[] = { "--help", "-h", "help" };
  for (guint s = 0; s < G_N_ELEMENTS (spellings); s++)
    {
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "dedup", spellings[s], NULL);
      g_assert_cmpint (r->status, ==, 0);
      for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
        assert_contains (r->out, lines[i], spellings[s]);
    }
}

typedef struct {
  const char *command;            /* with its first words: "index" */
  const char *usage;              /* after "galley dedup COMMAND [OPTION…] " */
  const char *options[4];         /* "--name", then a word of its description */
} CommandHelp;

static const CommandHelp command_helps[] = {
  { "stats", "STATE_DIR", { "--json", "JSON object" } },
  { "forget", "--older-than DURATION STATE_DIR", { "--older-than=DURATION", "indexed more than", "--wait=DURATION",
                                                   "lock" } },
  { "compact", "STATE_DIR", { "--wait=DURATION", "lock" } },
  { "bands", "FILE", { "--plugin-dir=DIR", "plugins" } },
  { "bucket", "FILE --band B --work DIR", { "--band=B", "galley dedup bands", "--work=DIR", "work directory" } },
  { "cluster", "FILE --work DIR", { "--work=DIR", "work directory" } },
  { "index", "merge FILE --work DIR --state-dir STATE", { "--state-dir=STATE", "index", "--work=DIR",
                                                          "work directory" } },
};

/* `galley dedup COMMAND --help`: the usage, a summary, each option
 * described, and the exit statuses; on stdout, exit 0. */
static void
test_command_help (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (command_helps); i++)
    {
      const CommandHelp *h = &command_helps[i];
      g_autoptr(RunResult) r = galley_test_run (f->dir, NULL, "dedup", h->command, "--help", NULL);
      g_assert_cmpint (r->status, ==, 0);
      g_autofree char *usage = g_strdup_printf ("galley dedup %s [OPTION…] %s", h->command, h->usage);
      assert_contains (r->out, usage, h->command);
      assert_contains (r->out, "Exit status: 0 done, 64 usage", h->command);
      assert_contains (r->out, "--plugin-dir=DIR", h->command);
      for (guint o = 0; o + 1 < G_N_ELEMENTS (h->options) && h->options[o] != NULL; o += 2)
        {
          /* the option's line carries its description */
          const char *line = strstr (r->out, h->options[o]);
          assert_contains (r->out, h->options[o], h->command);
          g_autofree char *text = g_strndup (line, strcspn (line, "\n"));
          assert_contains (text, h->options[o + 1], h->command);
        }
      g_assert_true (r->err == NULL || *r->err == '\0');
    }
}

typedef struct {
  const char *args[8];
  const char *prog;               /* the message starts "PROG: " */
  const char *message;
} BadUsage;

static const BadUsage bad_usages[] = {
  /* unknown options and missing option values, named */
  { { "stats", "--frob", "state" }, "galley dedup stats", "Unknown option --frob" },
  { { "compact", "state", "--json" }, "galley dedup compact", "Unknown option --json" },
  { { "cluster", "t.pipeline", "--work", "w", "--band", "1" }, "galley dedup cluster", "Unknown option --band" },
  { { "bands", "t.pipeline", "--work", "w" }, "galley dedup bands", "Unknown option --work" },
  { { "bucket", "t.pipeline", "--work", "w", "--band" }, "galley dedup bucket", "Missing argument for --band" },
  { { "forget", "state", "--older-than" }, "galley dedup forget", "Missing argument for --older-than" },
  { { "index", "merge", "t.pipeline", "--state-dir", "s", "--work" }, "galley dedup index",
    "Missing argument for --work" },
  /* missing and extra arguments */
  { { "stats" }, "galley dedup stats", "missing STATE_DIR" },
  { { "stats", "a", "b" }, "galley dedup stats", "unexpected argument 'b'" },
  { { "forget", "state" }, "galley dedup forget", "missing --older-than DURATION" },
  { { "forget", "--older-than", "soon", "state" }, "galley dedup forget", "--older-than: " },
  { { "compact", "--wait", "later", "state" }, "galley dedup compact", "--wait: " },
  { { "bands" }, "galley dedup bands", "missing the pipeline FILE" },
  { { "bands", "a.pipeline", "b.pipeline" }, "galley dedup bands", "unexpected argument 'b.pipeline'" },
  { { "bucket", "t.pipeline", "--band", "0" }, "galley dedup bucket", "missing --work DIR" },
  { { "bucket", "t.pipeline", "--work", "w" }, "galley dedup bucket", "missing --band B" },
  { { "bucket", "t.pipeline", "--band", "x", "--work", "w" }, "galley dedup bucket", "--band takes a number" },
  { { "bucket", "t.pipeline", "--band", "99", "--work", "w" }, "galley dedup bucket", "--band takes a number" },
  { { "cluster", "--work", "w" }, "galley dedup cluster", "missing the pipeline FILE" },
  { { "index" }, "galley dedup index", "missing the index command (merge)" },
  { { "index", "t.pipeline" }, "galley dedup index", "unknown index command 't.pipeline'" },
  { { "index", "merge", "t.pipeline", "--work", "w" }, "galley dedup index", "--state-dir STATE" },
  /* no command, or an unknown one */
  { { NULL }, "galley dedup", "missing the command" },
  { { "--json" }, "galley dedup", "missing the command" },
  { { "frob", "state" }, "galley dedup", "unknown command 'frob'" },
  { { "-P", "plugins", "filter", "t.pipeline" }, "galley dedup", "filter must come right after" },
};

/* A bad command line exits 64 with one message on stderr that names the
 * command and what is wrong, and prints nothing on stdout. */
static void
test_bad_usage (Fixture *f, gconstpointer data)
{
  write_pipeline (f);
  for (guint i = 0; i < G_N_ELEMENTS (bad_usages); i++)
    {
      const BadUsage *u = &bad_usages[i];
      const char *argv[G_N_ELEMENTS (u->args) + 2] = { "dedup" };
      for (guint a = 0; a < G_N_ELEMENTS (u->args) && u->args[a] != NULL; a++)
        argv[a + 1] = u->args[a];
      g_autofree char *what = g_strjoinv (" ", (char **) argv);
      g_test_message ("galley %s", what);
      g_autoptr(RunResult) r = galley_test_runv (f->dir, NULL, argv);
      if (r->status != 64)
        g_error ("galley %s: exit %d, expected 64; stderr:\n%s", what, r->status, r->err);
      g_autofree char *prefix = g_strdup_printf ("%s: ", u->prog);
      if (!g_str_has_prefix (r->err, prefix))
        g_error ("galley %s: stderr should start with '%s', got:\n%s", what, prefix, r->err);
      assert_contains (r->err, u->message, what);
      assert_contains (r->err, "--help", what);
      g_assert_true (r->out == NULL || *r->out == '\0');
    }
}

/* --plugin-dir is galley's: every command takes it, before or after the
 * command word. */
static void
test_plugin_dir (Fixture *f, gconstpointer data)
{
  g_autoptr(RunResult) a = galley_test_run (f->dir, NULL, "dedup", "-P", "nowhere", "stats", "state", NULL);
  g_assert_cmpint (a->status, ==, 66);
  assert_contains (a->err, "no dedup index", "-P before the command");
  g_autoptr(RunResult) b = galley_test_run (f->dir, NULL, "dedup", "stats", "state", "--plugin-dir=nowhere", NULL);
  g_assert_cmpint (b->status, ==, 66);
  write_pipeline (f);
  g_autoptr(RunResult) c = galley_test_run (f->dir, NULL, "dedup", "bands", "--plugin-dir", "nowhere", "t.pipeline",
                                            NULL);
  g_assert_cmpint (c->status, ==, 0);
  g_assert_cmpstr (c->out, ==, "34\n");   /* 32 bands, the lede, the exact hash */
}

/* Errors exit as in a run: a damaged index is bad data (65), a pipeline
 * that does not load a configuration error (78). */
static void
test_error_exit_codes (Fixture *f, gconstpointer data)
{
  galley_test_write (f->dir, "state/index.sqlite", "this is not a database, just some text in its place\n", -1);
  g_autoptr(RunResult) damaged = galley_test_run (f->dir, NULL, "dedup", "stats", "state", NULL);
  g_assert_cmpint (damaged->status, ==, 65);
  assert_contains (damaged->err, "galley dedup stats: ", "damaged index");
  galley_test_write (f->dir, "bad.pipeline", "[pipeline]\nstages=in;dedup\n\n[stage dedup]\nplugin=dedup\nfrob=1\n", -1);
  g_autoptr(RunResult) config = galley_test_run (f->dir, NULL, "dedup", "bands", "bad.pipeline", NULL);
  g_assert_cmpint (config->status, ==, 78);
  assert_contains (config->err, "galley dedup bands: ", "bad pipeline");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/dedup-commands/help", test_help);
  ADD ("/dedup-commands/command-help", test_command_help);
  ADD ("/dedup-commands/bad-usage", test_bad_usage);
  ADD ("/dedup-commands/plugin-dir", test_plugin_dir);
  ADD ("/dedup-commands/error-exit-codes", test_error_exit_codes);
  return g_test_run ();
}
