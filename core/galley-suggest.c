/* galley-suggest.c: "did you mean ...?" for a misspelt key, plugin or
 * command: the nearest candidate by edit distance.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-private.h"

#include <string.h>

/* Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of two neighbours each cost 1 (ASCII case ignored). */
static guint
edit_distance (const char *a, const char *b)
{
  gsize n = strlen (a), m = strlen (b);
  g_autofree guint *d = g_new (guint, (n + 1) * (m + 1));
#define D(i, j) d[(i) * (m + 1) + (j)]
  for (gsize i = 0; i <= n; i++)
    D (i, 0) = i;
  for (gsize j = 0; j <= m; j++)
    D (0, j) = j;
  for (gsize i = 1; i <= n; i++)
    for (gsize j = 1; j <= m; j++)
      {
        guint cost = g_ascii_tolower (a[i - 1]) != g_ascii_tolower (b[j - 1]);
        guint best = MIN (MIN (D (i - 1, j) + 1, D (i, j - 1) + 1), D (i - 1, j - 1) + cost);
        if (i > 1 && j > 1 && g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 2])
            && g_ascii_tolower (a[i - 2]) == g_ascii_tolower (b[j - 1]))
          best = MIN (best, D (i - 2, j - 2) + 1);
        D (i, j) = best;
      }
  guint result = D (n, m);
#undef D
  return result;
}

const char *
galley_suggest (const char *word, const char *const *candidates)
{
  g_return_val_if_fail (word != NULL, NULL);
  /* a third of the word, at least 1 and at most 3 edits: "treshold" finds
   * threshold, "x" finds nothing but a one-letter name */
  guint limit = CLAMP (strlen (word) / 3, 1, 3);
  const char *best = NULL;
  guint best_distance = G_MAXUINT;
  for (guint i = 0; candidates != NULL && candidates[i] != NULL; i++)
    {
      if (g_str_equal (word, candidates[i]))
        continue;
      guint dist = edit_distance (word, candidates[i]);
      if (dist <= limit && dist < best_distance)
        {
          best = candidates[i];
          best_distance = dist;
        }
    }
  if (best != NULL || strlen (word) < 3)
    return best;
  /* else one a part of the other: "stats-file" finds stats, "metrics"
   * finds metrics-file */
  gsize best_len = 0;
  for (guint i = 0; candidates != NULL && candidates[i] != NULL; i++)
    {
      const char *c = candidates[i];
      gsize len = strlen (c);
      if (len >= 3 && !g_str_equal (word, c) && (g_str_has_prefix (word, c) || g_str_has_prefix (c, word)) && len > best_len)
        {
          best = c;
          best_len = len;
        }
    }
  return best;
}

char *
galley_suggest_hint (const char *word, const char *const *candidates)
{
  const char *best = galley_suggest (word, candidates);
  return best != NULL ? g_strdup_printf ("; did you mean '%s'?", best) : g_strdup ("");
}
