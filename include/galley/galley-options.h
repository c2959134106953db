/* galley-options.h: the option table a plugin declares and the parsed values
 * it receives in init().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-macros.h>

G_BEGIN_DECLS

/**
 * GalleyOptType:
 * @GALLEY_OPT_STRING: any UTF-8 string
 * @GALLEY_OPT_INT: a signed 64-bit integer (`-12`, `4096`)
 * @GALLEY_OPT_DOUBLE: a floating point number (`0.8`, `1e-3`)
 * @GALLEY_OPT_BOOL: `true|false|yes|no|on|off|1|0`
 * @GALLEY_OPT_STRV: a `;`-separated list (`a;b;c`), whitespace around items trimmed
 * @GALLEY_OPT_SIZE: a byte size with optional unit (`512`, `64k`, `16MiB`, `2G`), units are powers of 1024
 * @GALLEY_OPT_DURATION: a time span with unit (`30s`, `15m`, `12h`, `30d`, `1w`); a bare number is seconds
 * @GALLEY_OPT_ENUM: one of the `|`-separated words in the spec's `choices`
 */
typedef enum {
  GALLEY_OPT_STRING,
  GALLEY_OPT_INT,
  GALLEY_OPT_DOUBLE,
  GALLEY_OPT_BOOL,
  GALLEY_OPT_STRV,
  GALLEY_OPT_SIZE,
  GALLEY_OPT_DURATION,
  GALLEY_OPT_ENUM,
} GalleyOptType;

/**
 * GalleyOptionSpec:
 * @name: kebab-case key used in pipeline files
 * @type: how the value is parsed
 * @default_value: the default, written as a user would write it; %NULL
 *   makes the option required. "" means "empty" for strings and lists.
 * @help: one line, shown by `galley inspect PLUGIN`
 * @choices: for %GALLEY_OPT_ENUM, the allowed words separated by `|`
 * @min: (nullable): since ABI 1.3, the smallest value allowed, written
 *   like a value of the option (`1`, `0.5`, `4k`, `1s`); %NULL: no lower bound
 * @max: (nullable): since ABI 1.3, the largest value allowed; %NULL: no
 *   upper bound
 *
 * One row of a plugin's option table. The table ends with a row whose
 * @name is %NULL.
 *
 * @min and @max are for %GALLEY_OPT_INT, %GALLEY_OPT_DOUBLE,
 * %GALLEY_OPT_SIZE and %GALLEY_OPT_DURATION only. Both bounds are
 * inclusive. The core refuses a value outside them where it reads it (the
 * pipeline file, `--set`), naming the file and line, so init() gets only
 * values in range; a default outside its own range, or a bound that does
 * not parse, makes the plugin fail to load. Set them by name after the
 * positional fields:
 * |[
 *   { "top", GALLEY_OPT_INT, "10", "Most mentioned names kept", NULL, .min = "0", .max = "1000" },
 * ]|
 *
 * Plugins built for ABI 1.0 to 1.2 have rows without @min, @max and
 * @reserved; the core reads their tables in that layout.
 */
typedef struct {
  const char    *name;
  GalleyOptType  type;
  const char    *default_value;
  const char    *help;
  const char    *choices;
  /* since ABI 1.3 */
  const char    *min;
  const char    *max;
  /*< private >*/
  gpointer       reserved[4];           /* new fields land here (minor bump) */
} GalleyOptionSpec;

/**
 * GalleyOptions:
 *
 * The validated option values of one stage, as given to init(). Every
 * option in the table has a value (the user's or the default). Getters
 * must be called with the type the table declares; asking for an option the
 * table does not declare is a programming error (g_critical).
 */
typedef struct _GalleyOptions GalleyOptions;

GALLEY_API const char         *galley_options_get_string   (const GalleyOptions *opts, const char *name);
GALLEY_API gint64              galley_options_get_int      (const GalleyOptions *opts, const char *name);
GALLEY_API double              galley_options_get_double   (const GalleyOptions *opts, const char *name);
GALLEY_API gboolean            galley_options_get_bool     (const GalleyOptions *opts, const char *name);
GALLEY_API const char * const *galley_options_get_strv     (const GalleyOptions *opts, const char *name);
GALLEY_API guint64             galley_options_get_size     (const GalleyOptions *opts, const char *name);
/* Returns microseconds (a GTimeSpan). */
GALLEY_API GTimeSpan           galley_options_get_duration (const GalleyOptions *opts, const char *name);
GALLEY_API const char         *galley_options_get_enum     (const GalleyOptions *opts, const char *name);
/* TRUE when the pipeline file or a --set override gave the option. */
GALLEY_API gboolean            galley_options_is_set       (const GalleyOptions *opts, const char *name);

/* Parsers used by the core; plugins may use them for their own values. */
GALLEY_API gboolean galley_parse_size     (const char *text, guint64 *out, GError **error);
GALLEY_API gboolean galley_parse_duration (const char *text, GTimeSpan *out, GError **error);
GALLEY_API gboolean galley_parse_bool     (const char *text, gboolean *out, GError **error);

G_END_DECLS
