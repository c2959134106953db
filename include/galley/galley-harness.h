/* galley-harness.h: run one stage in-process, outside any pipeline, for a
 * plugin's unit tests. See docs/plugin-guide.md, "Testing".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#ifndef GALLEY_INSIDE
# define GALLEY_INSIDE
# define GALLEY_HARNESS_H_DEFINED_INSIDE
#endif

#include <galley/galley-stage.h>

G_BEGIN_DECLS

typedef struct _GalleyHarness GalleyHarness;

/* Loads @plugin and runs its init() with @options ("key=value" strings,
 * NULL-terminated; may be NULL), as a pipeline would. @plugin is a name,
 * looked up like `galley run` does (GALLEY_PLUGIN_PATH first), or the path
 * of a module file (`build/galley-NAME.so`). Errors are those of the
 * loader (GALLEY_PLUGIN_ERROR), of the options (GALLEY_CONFIG_ERROR, as in
 * a pipeline file) and of init(). */
GALLEY_API GalleyHarness *galley_harness_new     (const char *plugin, const char *const *options, GError **error);
/* Passes @doc (borrowed) through the stage: prepare() if it has one, then
 * process(). Returns the verdict; with GALLEY_VERDICT_ERROR, *error says why. */
GALLEY_API GalleyVerdict  galley_harness_process (GalleyHarness *h, GalleyDocument *doc, GError **error);
/* Sources: the next document (the caller owns it), or FALSE at the end
 * (*error set when the source stopped on a failure). Inputs rejected
 * with galley_stage_reject() are written to stderr. */
GALLEY_API gboolean       galley_harness_next    (GalleyHarness *h, GalleyDocument **out, GError **error);
/* What the stage reported so far: inputs skipped or documents dropped for
 * @reason, the custom counter @name (galley_stage_count()), inputs
 * rejected (galley_stage_reject()). */
GALLEY_API gint64         galley_harness_get_skipped  (GalleyHarness *h, const char *reason);
GALLEY_API gint64         galley_harness_get_counter  (GalleyHarness *h, const char *name);
GALLEY_API gint64         galley_harness_get_rejected (GalleyHarness *h);
/* The reason the last document was dropped ("too-short"), or NULL. */
GALLEY_API const char    *galley_harness_get_drop_reason (GalleyHarness *h);
/* Calls the stage's finish(), as at the end of a successful run. */
GALLEY_API gboolean       galley_harness_finish  (GalleyHarness *h, GError **error);
/* Calls free() and releases @h. */
GALLEY_API void           galley_harness_free    (GalleyHarness *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleyHarness, galley_harness_free)

G_END_DECLS

#ifdef GALLEY_HARNESS_H_DEFINED_INSIDE
# undef GALLEY_INSIDE
# undef GALLEY_HARNESS_H_DEFINED_INSIDE
#endif
