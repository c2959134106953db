/* galley-runner.h: the galley command, for the `galley` executable and for
 * programs that embed it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#ifndef GALLEY_INSIDE
# define GALLEY_INSIDE
# define GALLEY_RUNNER_H_DEFINED_INSIDE
#endif

#include <galley/galley-macros.h>

G_BEGIN_DECLS

/* Runs `galley ARGS...` (argv[0] is the program name) and returns its exit
 * status (docs/user-guide.md, "Exit status"). Call it from main(): it sets
 * the process's locale, log handler and SIGTERM/SIGINT handling. */
GALLEY_API int galley_runner_main (int argc, char **argv);

G_END_DECLS

#ifdef GALLEY_RUNNER_H_DEFINED_INSIDE
# undef GALLEY_INSIDE
# undef GALLEY_RUNNER_H_DEFINED_INSIDE
#endif
