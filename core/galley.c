/* galley.c: the galley executable; the command itself is in libgalley-1
 * (galley-main.c), so that plugins and the runner share one copy of the
 * core.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <galley/galley-runner.h>

int
main (int argc, char **argv)
{
  return galley_runner_main (argc, argv);
}
