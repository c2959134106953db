/* galley-diff.c: a character diff of two texts (Myers' O(ND) algorithm,
 * after taking off the common prefix and suffix).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-diff.h"

typedef struct {
  GalleyDiffOp op;
  glong        from, to;
} Edit;

/* Hands the code points [from, to) of @u to @func as UTF-8. */
static void
emit (GalleyDiffOp op, const gunichar *u, glong from, glong to, GString *buf, GalleyDiffFunc func, gpointer data)
{
  if (from >= to)
    return;
  g_string_truncate (buf, 0);
  for (glong i = from; i < to; i++)
    g_string_append_unichar (buf, u[i]);
  func (op, buf->str, buf->len, data);
}

gboolean
galley_diff (const char *before, const char *after, glong max_edits, GalleyDiffFunc func, gpointer data)
{
  glong n = 0, m = 0;
  g_autofree gunichar *a = g_utf8_to_ucs4_fast (before, -1, &n);
  g_autofree gunichar *b = g_utf8_to_ucs4_fast (after, -1, &m);
  glong pre = 0;
  while (pre < n && pre < m && a[pre] == b[pre])
    pre++;
  glong suf = 0;
  while (suf < n - pre && suf < m - pre && a[n - 1 - suf] == b[m - 1 - suf])
    suf++;
  const gunichar *x = a + pre, *y = b + pre;
  glong N = n - pre - suf, M = m - pre - suf;
  /* it takes at least |N - M| edits */
  if (ABS (N - M) > max_edits)
    return FALSE;
  glong max_d = MIN (N + M, max_edits);
  /* trace[d][k + d]: the furthest x on diagonal k (x - y) after d edits */
  g_autoptr(GPtrArray) trace = g_ptr_array_new_with_free_func (g_free);
  glong found = -1;
  glong *prev = NULL;
  for (glong d = 0; d <= max_d && found < 0; d++)
    {
      glong *v = g_new (glong, 2 * d + 1);
      for (glong k = -d; k <= d; k += 2)
        {
          glong xx;
          if (d == 0)
            xx = 0;
          else if (k == -d || (k != d && prev[k - 1 + (d - 1)] < prev[k + 1 + (d - 1)]))
            xx = prev[k + 1 + (d - 1)];      /* down: an insertion */
          else
            xx = prev[k - 1 + (d - 1)] + 1;  /* right: a deletion */
          glong yy = xx - k;
          while (xx < N && yy < M && x[xx] == y[yy])
            xx++, yy++;
          v[k + d] = xx;
          if (xx >= N && yy >= M && found < 0)
            found = d;
        }
      g_ptr_array_add (trace, v);
      prev = v;
    }
  if (found < 0)
    return FALSE;

  /* walk back from the end: a snake, then the edit before it */
  g_autoptr(GArray) edits = g_array_new (FALSE, FALSE, sizeof (Edit));
  glong xx = N, yy = M;
  for (glong d = found; d > 0; d--)
    {
      const glong *pv = g_ptr_array_index (trace, d - 1);
      glong k = xx - yy;
      gboolean down = k == -d || (k != d && pv[k - 1 + (d - 1)] < pv[k + 1 + (d - 1)]);
      glong pk = down ? k + 1 : k - 1;
      glong px = pv[pk + (d - 1)], py = px - pk;
      Edit snake = { GALLEY_DIFF_EQUAL, down ? px : px + 1, xx };
      g_array_append_val (edits, snake);
      Edit e = down ? (Edit) { GALLEY_DIFF_INSERT, py, py + 1 } : (Edit) { GALLEY_DIFF_DELETE, px, px + 1 };
      g_array_append_val (edits, e);
      xx = px, yy = py;
    }
  Edit head = { GALLEY_DIFF_EQUAL, 0, xx };
  g_array_append_val (edits, head);

  g_autoptr(GString) buf = g_string_new (NULL);
  emit (GALLEY_DIFF_EQUAL, a, 0, pre, buf, func, data);
  /* neighbouring edits of one kind make one run */
  GalleyDiffOp run_op = GALLEY_DIFF_EQUAL;
  glong run_from = 0, run_to = 0;
  for (guint i = edits->len; i > 0; i--)
    {
      const Edit *e = &g_array_index (edits, Edit, i - 1);
      if (e->from >= e->to)
        continue;
      if (e->op == run_op && e->from == run_to)
        {
          run_to = e->to;
          continue;
        }
      emit (run_op, run_op == GALLEY_DIFF_INSERT ? y : x, run_from, run_to, buf, func, data);
      run_op = e->op, run_from = e->from, run_to = e->to;
    }
  emit (run_op, run_op == GALLEY_DIFF_INSERT ? y : x, run_from, run_to, buf, func, data);
  emit (GALLEY_DIFF_EQUAL, a, n - suf, n, buf, func, data);
  return TRUE;
}
