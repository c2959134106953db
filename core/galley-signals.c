/* galley-signals.c: the runner's signal handlers. SIGTERM and SIGINT
 * stop the sources (a second one ends the process), SIGUSR1 asks for a
 * progress snapshot, and a crash names the stage it happened in.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-runner-private.h"

#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t snapshot_requested;
static volatile sig_atomic_t stop_requested;

static void
crash_handler (int sig)
{
  GalleyStageContext *ctx = galley_runner_current_stage;
  static const char generic[] = "galley: crashed outside any stage\n";
  if (ctx != NULL && ctx->crash_message != NULL)
    {
      ssize_t ignored = write (STDERR_FILENO, ctx->crash_message, strlen (ctx->crash_message));
      (void) ignored;
    }
  else
    {
      ssize_t ignored = write (STDERR_FILENO, generic, sizeof generic - 1);
      (void) ignored;
    }
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
snapshot_handler (int sig)
{
  (void) sig;
  snapshot_requested = 1;
}

static void
stop_handler (int sig)
{
  stop_requested = sig;
}

void
galley_runner_install_signal_handlers (void)
{
  struct sigaction sa = { 0 };
  sa.sa_handler = crash_handler;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGSEGV, &sa, NULL);
  sigaction (SIGBUS, &sa, NULL);
  sigaction (SIGFPE, &sa, NULL);
  sigaction (SIGILL, &sa, NULL);
  sigaction (SIGABRT, &sa, NULL);
  struct sigaction su = { 0 };
  su.sa_handler = snapshot_handler;
  su.sa_flags = SA_RESTART;
  sigemptyset (&su.sa_mask);
  sigaction (SIGUSR1, &su, NULL);
  galley_runner_catch_stop_signals ();
}

/* SIGTERM/SIGINT: read no more input, finish and commit what is in
 * flight; a second one ends the process at once. `galley run` calls this
 * first thing, so that a stop during start-up (loading the plugins,
 * waiting for the lock) is a clean stop too; installing it again keeps a
 * signal already received. */
void
galley_runner_catch_stop_signals (void)
{
  struct sigaction old;
  if (stop_requested || (sigaction (SIGTERM, NULL, &old) == 0 && old.sa_handler == stop_handler))
    return;   /* a second signal must still end the process */
  struct sigaction st = { 0 };
  st.sa_handler = stop_handler;
  st.sa_flags = SA_RESTART | SA_RESETHAND;
  sigemptyset (&st.sa_mask);
  sigaction (SIGTERM, &st, NULL);
  sigaction (SIGINT, &st, NULL);
}

int
galley_runner_stop_signal (void)
{
  return stop_requested;
}

gboolean
galley_runner_take_snapshot_request (void)
{
  if (!snapshot_requested)
    return FALSE;
  snapshot_requested = 0;
  return TRUE;
}
