/* galley-json-number.h: integers beyond 64 bits keep their text.
 *
 * Compiled into libgalley and into the source plugins' helpers; not part
 * of the plugin ABI.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/* json-c clamps an integer literal beyond the 64-bit range to the nearest
 * 64-bit value, so 12345678901234567890123 and 98765432109876543210987
 * both become 18446744073709551615. Given @root, parsed from the @len
 * bytes at @text, this makes each such integer of @root print (and read
 * with json_object_get_string()) as its literal text again. Costs one scan
 * of @text for a run of 19 digits when there is none. */
G_GNUC_INTERNAL void galley_json_keep_big_integers (json_object *root, const char *text, gsize len);

G_END_DECLS
