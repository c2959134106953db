/* galley-plugin-compat.c: reading the descriptors of plugins built for an
 * older minor of the stage ABI into the current layout.
 *
 * Within one major the descriptor keeps its size (new members take
 * reserved slots), but an option table is an array whose rows grew in 1.3
 * (min, max and reserved slots), so a 1.0-1.2 table has a smaller stride.
 * The loader copies such a descriptor and its table into the current
 * layout once, and the rest of the core sees only that.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"

/* One row of an option table in stage ABI 1.0 to 1.2. */
typedef struct {
  const char    *name;
  GalleyOptType  type;
  const char    *default_value;
  const char    *help;
  const char    *choices;
} OptionSpec_1_0;

/* The stage ABI minor from which option rows have the current layout. */
#define OPTION_ROWS_CURRENT_SINCE 3

static GalleyOptionSpec *
upgrade_options (const OptionSpec_1_0 *old)
{
  if (old == NULL)
    return NULL;
  gsize n = 0;
  while (old[n].name != NULL)
    n++;
  GalleyOptionSpec *specs = g_new0 (GalleyOptionSpec, n + 1);
  for (gsize i = 0; i < n; i++)
    {
      specs[i].name = old[i].name;
      specs[i].type = old[i].type;
      specs[i].default_value = old[i].default_value;
      specs[i].help = old[i].help;
      specs[i].choices = old[i].choices;
    }
  return specs;
}

const GalleyStageInfo *
galley_stage_info_upgrade (const GalleyStageInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  if (info->abi_minor >= OPTION_ROWS_CURRENT_SINCE)
    return info;
  /* Only the members the plugin's minor has: later ones stay NULL. */
  GalleyStageInfo *copy = g_new0 (GalleyStageInfo, 1);
  copy->abi_major = info->abi_major;
  copy->abi_minor = info->abi_minor;
  copy->name = info->name;
  copy->description = info->description;
  copy->version = info->version;
  copy->kind = info->kind;
  copy->flags = info->flags;
  copy->options = upgrade_options ((const OptionSpec_1_0 *) (gconstpointer) info->options);
  copy->init = info->init;
  copy->process = info->process;
  copy->next = info->next;
  copy->finish = info->finish;
  copy->free = info->free;
  if (info->abi_minor >= 1)
    copy->prepare = info->prepare;
  return copy;
}

void
galley_stage_info_upgrade_free (const GalleyStageInfo *upgraded, const GalleyStageInfo *original)
{
  if (upgraded == NULL || upgraded == original)
    return;
  g_free ((gpointer) upgraded->options);
  g_free ((gpointer) upgraded);
}
