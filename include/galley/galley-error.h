/* galley-error.h: error domains used across the library and by plugins.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-macros.h>

G_BEGIN_DECLS

/**
 * GALLEY_CONFIG_ERROR:
 *
 * Errors in pipeline files, `--set` overrides and option values. The runner
 * exits with status 78 (EX_CONFIG) for them.
 */
#define GALLEY_CONFIG_ERROR (galley_config_error_quark ())
typedef enum {
  GALLEY_CONFIG_ERROR_PARSE,          /* the file is not a valid key file      */
  GALLEY_CONFIG_ERROR_UNKNOWN_KEY,    /* a key no option table declares        */
  GALLEY_CONFIG_ERROR_DUPLICATE,      /* a key or group given twice            */
  GALLEY_CONFIG_ERROR_MISSING,        /* a required key or group is absent     */
  GALLEY_CONFIG_ERROR_INVALID_VALUE,  /* a value of the wrong type or range    */
  GALLEY_CONFIG_ERROR_FAILED,
} GalleyConfigError;
GALLEY_API GQuark galley_config_error_quark (void);

/**
 * GALLEY_PLUGIN_ERROR:
 *
 * Errors while finding, loading and checking plugin modules (exit status 78).
 */
#define GALLEY_PLUGIN_ERROR (galley_plugin_error_quark ())
typedef enum {
  GALLEY_PLUGIN_ERROR_NOT_FOUND,      /* no galley-NAME module in the search path */
  GALLEY_PLUGIN_ERROR_LOAD,           /* the dynamic loader refused the file      */
  GALLEY_PLUGIN_ERROR_SYMBOL,         /* galley_stage_query is missing            */
  GALLEY_PLUGIN_ERROR_ABI,            /* built for another stage ABI              */
  GALLEY_PLUGIN_ERROR_NAME,           /* descriptor name does not match the file  */
  GALLEY_PLUGIN_ERROR_INVALID,        /* descriptor incomplete or inconsistent    */
  GALLEY_PLUGIN_ERROR_FAILED,
} GalleyPluginError;
GALLEY_API GQuark galley_plugin_error_quark (void);

/**
 * GALLEY_DOCUMENT_ERROR:
 *
 * A stage could not handle one document because of its content. The
 * stage's `on-error` policy decides whether the run goes on (exit 65 when
 * it stops the run).
 */
#define GALLEY_DOCUMENT_ERROR (galley_document_error_quark ())
typedef enum {
  GALLEY_DOCUMENT_ERROR_INVALID,      /* malformed input record or content */
  GALLEY_DOCUMENT_ERROR_FAILED,
} GalleyDocumentError;
GALLEY_API GQuark galley_document_error_quark (void);

/**
 * GALLEY_SOURCE_ERROR:
 *
 * Problems with input. `NO_INPUT` (missing or unreadable) maps to exit
 * status 66 (EX_NOINPUT), `READ` to 74 (EX_IOERR).
 */
#define GALLEY_SOURCE_ERROR (galley_source_error_quark ())
typedef enum {
  GALLEY_SOURCE_ERROR_NO_INPUT,       /* a named input path does not exist */
  GALLEY_SOURCE_ERROR_READ,           /* an input could not be read        */
  GALLEY_SOURCE_ERROR_FAILED,
} GalleySourceError;
GALLEY_API GQuark galley_source_error_quark (void);

/**
 * GALLEY_OUTPUT_ERROR:
 *
 * Sinks: output that cannot be created (exit 73, EX_CANTCREAT) or written
 * (exit 74, EX_IOERR).
 */
#define GALLEY_OUTPUT_ERROR (galley_output_error_quark ())
typedef enum {
  GALLEY_OUTPUT_ERROR_CREATE,         /* cannot create the output file or its directory */
  GALLEY_OUTPUT_ERROR_WRITE,          /* writing, syncing or renaming failed           */
  GALLEY_OUTPUT_ERROR_FAILED,
} GalleyOutputError;
GALLEY_API GQuark galley_output_error_quark (void);

G_END_DECLS
