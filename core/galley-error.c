/* galley-error.c: error domains and their exit codes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"

#include <gio/gio.h>

G_DEFINE_QUARK (galley-config-error-quark, galley_config_error)
G_DEFINE_QUARK (galley-plugin-error-quark, galley_plugin_error)
G_DEFINE_QUARK (galley-document-error-quark, galley_document_error)
G_DEFINE_QUARK (galley-source-error-quark, galley_source_error)
G_DEFINE_QUARK (galley-output-error-quark, galley_output_error)

int
galley_error_to_exit_code (const GError *error)
{
  if (error == NULL)
    return GALLEY_EXIT_OK;
  if (error->domain == GALLEY_CONFIG_ERROR || error->domain == GALLEY_PLUGIN_ERROR)
    return GALLEY_EXIT_CONFIG;
  if (error->domain == GALLEY_DOCUMENT_ERROR)
    return GALLEY_EXIT_DATAERR;
  if (error->domain == GALLEY_SOURCE_ERROR)
    return error->code == GALLEY_SOURCE_ERROR_NO_INPUT ? GALLEY_EXIT_NOINPUT : GALLEY_EXIT_IOERR;
  if (error->domain == GALLEY_OUTPUT_ERROR)
    return error->code == GALLEY_OUTPUT_ERROR_CREATE ? GALLEY_EXIT_CANTCREAT : GALLEY_EXIT_IOERR;
  if (error->domain == G_FILE_ERROR)
    {
      switch (error->code)
        {
        case G_FILE_ERROR_NOENT:
          return GALLEY_EXIT_NOINPUT;
        case G_FILE_ERROR_ACCES:
        case G_FILE_ERROR_ROFS:
        case G_FILE_ERROR_EXIST:
        case G_FILE_ERROR_ISDIR:
          return GALLEY_EXIT_CANTCREAT;
        default:
          return GALLEY_EXIT_IOERR;
        }
    }
  if (error->domain == G_IO_ERROR)
    {
      switch (error->code)
        {
        case G_IO_ERROR_NOT_FOUND:
          return GALLEY_EXIT_NOINPUT;
        case G_IO_ERROR_BUSY:
          return GALLEY_EXIT_TEMPFAIL;   /* a lock is held: try again later */
        case G_IO_ERROR_PERMISSION_DENIED:
        case G_IO_ERROR_READ_ONLY:
        case G_IO_ERROR_EXISTS:
          return GALLEY_EXIT_CANTCREAT;
        default:
          return GALLEY_EXIT_IOERR;
        }
    }
  return GALLEY_EXIT_SOFTWARE;
}
