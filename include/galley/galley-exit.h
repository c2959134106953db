/* galley-exit.h: galley's exit statuses, for plugin commands too.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-macros.h>

G_BEGIN_DECLS

/**
 * GalleyExitCode:
 * @GALLEY_EXIT_OK: success
 * @GALLEY_EXIT_USAGE: bad command line: unknown option, missing argument (EX_USAGE)
 * @GALLEY_EXIT_DATAERR: bad input data, a damaged file (EX_DATAERR)
 * @GALLEY_EXIT_NOINPUT: an input is missing or cannot be opened (EX_NOINPUT)
 * @GALLEY_EXIT_SOFTWARE: internal error, or a bug in a plugin (EX_SOFTWARE)
 * @GALLEY_EXIT_CANTCREAT: an output cannot be created (EX_CANTCREAT)
 * @GALLEY_EXIT_IOERR: reading or writing failed (EX_IOERR)
 * @GALLEY_EXIT_TEMPFAIL: a lock is held by another run: try again later (EX_TEMPFAIL)
 * @GALLEY_EXIT_CONFIG: configuration, including a plugin's ABI or name (EX_CONFIG)
 *
 * The sysexits(3) codes galley exits with, and that a plugin command
 * (GALLEY_COMMAND_DEFINE()) returns.
 */
typedef enum {
  GALLEY_EXIT_OK          = 0,
  GALLEY_EXIT_USAGE       = 64,
  GALLEY_EXIT_DATAERR     = 65,
  GALLEY_EXIT_NOINPUT     = 66,
  GALLEY_EXIT_SOFTWARE    = 70,
  GALLEY_EXIT_CANTCREAT   = 73,
  GALLEY_EXIT_IOERR       = 74,
  GALLEY_EXIT_TEMPFAIL    = 75,
  GALLEY_EXIT_CONFIG      = 78,
} GalleyExitCode;

/**
 * galley_error_to_exit_code:
 * @error: (nullable): an error, or NULL
 *
 * The exit status galley gives @error, from its domain and code (the
 * table in docs/plugin-guide.md, "Errors"): GALLEY_EXIT_OK for NULL.
 */
GALLEY_API int galley_error_to_exit_code (const GError *error);

G_END_DECLS
