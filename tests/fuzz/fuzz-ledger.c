/* fuzz-ledger.c: the state ledger's packed input rows on arbitrary bytes.
 *
 * The ledger (core/galley-state.c) keeps, per stage and directory, the
 * inputs earlier runs read as a blob of entries in SQLite. This target
 * builds galley-state.c in and hands the bytes to group_parse(), the
 * decoding group_load() does after reading the blob (SQLite itself is not
 * fuzzed). What must hold: no crash, no leak; an accepted blob has its
 * names in strictly ascending order, each entry is found by its name, and
 * the entries encoded again decode to the same entries.
 */
#include "galley-state.c"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  return 0;
}

static LedgerGroup *
parse (const guint8 *data, gsize size, gboolean *ok)
{
  LedgerGroup *g = g_new0 (LedgerGroup, 1);
  g->stage = g_strdup ("input");
  g->dir = g_strdup ("");
  /* exactly @size bytes, so that a read past the end is caught */
  g->data = size ? g_memdup2 (data, size) : NULL;
  g->len = size;
  *ok = group_parse (g);
  return g;
}

static gboolean
same_state (const GalleyInputState *a, const GalleyInputState *b)
{
  return a->size == b->size && a->mtime == b->mtime && a->offset == b->offset && a->lines == b->lines
         && a->hash == b->hash;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  gboolean ok;
  LedgerGroup *g = parse (data, size, &ok);
  if (!ok)
    {
      group_free (g);
      return 0;
    }
  PartBuffer part = { 0 };
  for (guint i = 0; i < g->n; i++)
    {
      const char *name = entry_name (g, i);
      if (i > 0 && strcmp (entry_name (g, i - 1), name) >= 0)
        abort ();
      guint at;
      g->next = 0;
      if (!group_find (g, name, &at) || at != i)
        abort ();
      GalleyInputState s;
      entry_state (g, i, &s);
      append_entry (&part, name, &s);
    }
  gboolean ok2;
  LedgerGroup *again = parse (part.data, part.len, &ok2);
  if (!ok2 || again->n != g->n)
    {
      fprintf (stderr, "entries encoded again do not decode (%u of %u)\n", again->n, g->n);
      abort ();
    }
  for (guint i = 0; i < g->n; i++)
    {
      GalleyInputState a, b;
      entry_state (g, i, &a);
      entry_state (again, i, &b);
      if (strcmp (entry_name (g, i), entry_name (again, i)) != 0 || !same_state (&a, &b))
        abort ();
    }
  g_free (part.data);
  group_free (again);
  group_free (g);
  return 0;
}
