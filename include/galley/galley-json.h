/* galley-json.h: json-c helpers and g_autoptr support for json-c types.
 *
 * json-c ownership in one line each:
 *   json_object_object_get_ex (obj, key, &val)  -> val is BORROWED
 *   json_object_object_add (obj, key, val)      -> STEALS val
 *   json_object_array_add (arr, val)            -> STEALS val
 *   json_object_get (val)                       -> adds a reference
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <galley/galley-macros.h>
#include <json-c/json.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (json_object, json_object_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (json_tokener, json_tokener_free)

/**
 * galley_json_escape_append:
 * @out: string to append to
 * @text: UTF-8 text (need not be NUL-terminated)
 * @len: length of @text in bytes
 *
 * Appends @text to @out as a quoted JSON string. Invalid UTF-8 sequences
 * are written as U+FFFD, so the output is always valid JSON.
 *
 * Returns: the number of invalid sequences that were replaced
 */
GALLEY_API gsize galley_json_escape_append (GString *out, const char *text, gsize len);

G_END_DECLS
