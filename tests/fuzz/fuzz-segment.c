/* fuzz-segment.c: dedup segment files on arbitrary bytes.
 *
 * The bytes are written to a file, opened with dedup_segment_open() (with
 * the signature size the header names when it is one the stage allows),
 * then every key and document the file holds is looked up and the segment
 * is merged into a new one, as compaction does. What must hold: no crash,
 * no leak, no GLib critical, no read outside the mapping; a failure sets
 * an error; a merged segment opens again with the same counts.
 */
#include "dedup-segment.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static char *dir, *path;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  /* tmpfs when there is one: the merge fsyncs its file */
  g_autofree char *tmpl = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR)
                          ? g_strdup ("/dev/shm/fuzz-segment-XXXXXX")
                          : g_build_filename (g_get_tmp_dir (), "fuzz-segment-XXXXXX", NULL);
  dir = g_mkdtemp (g_steal_pointer (&tmpl));
  if (dir == NULL)
    abort ();
  path = g_build_filename (dir, "in.seg", NULL);
  return 0;
}

static gboolean
keep_odd_or_all (guint32 doc, gpointer data)
{
  return GPOINTER_TO_INT (data) ? (doc & 1) != 0 : TRUE;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (!g_file_set_contents (path, (const char *) data, size, NULL))
    abort ();
  guint32 hk = 0;
  if (size >= 16)
    memcpy (&hk, data + 12, 4);
  guint k = hk >= 16 && hk <= 1024 ? hk : 16;
  g_autoptr(GError) error = NULL;
  DedupSegment *seg = dedup_segment_open (path, k, &error);
  if (seg == NULL)
    {
      if (error == NULL)
        abort ();
      return 0;
    }
  guint64 n_docs = dedup_segment_n_docs (seg), n_recs = dedup_segment_n_recs (seg);
  /* the keys and documents the file holds, and a few it does not */
  g_autoptr(GArray) found = g_array_new (FALSE, FALSE, sizeof (gint64));
  const guint8 *body = data + 64, *end = data + size;
  for (const guint8 *p = body; p + 8 <= end; p += 8)
    {
      guint64 key;
      memcpy (&key, p, 8);
      g_array_set_size (found, 0);
      dedup_segment_lookup (seg, key, found);
      dedup_segment_lookup (seg, key + 1, found);
      dedup_segment_lookup (seg, ~key, found);
    }
  for (const guint8 *p = body; p + 4 <= end; p += 4)
    {
      guint32 doc;
      memcpy (&doc, p, 4);
      const guint16 *sig;
      guint32 n_shingles;
      if (dedup_segment_doc (seg, doc, &sig, &n_shingles))
        {
          volatile guint16 first = sig[0], last = sig[k - 1];
          (void) first, (void) last;
        }
    }
  /* compaction: all documents, or the odd ones */
  gboolean odd = size > 0 && (data[size - 1] & 1);
  guint64 m_docs = 0, m_recs = 0;
  if (dedup_segment_merge (&seg, 1, k, dir, "merged.seg", keep_odd_or_all, GINT_TO_POINTER (odd), &m_docs, &m_recs,
                           &error))
    {
      g_autofree char *merged_path = g_build_filename (dir, "merged.seg", NULL);
      g_autoptr(GError) local = NULL;
      DedupSegment *merged = dedup_segment_open (merged_path, k, &local);
      if (merged == NULL)
        {
          fprintf (stderr, "merged segment does not open: %s\n", local->message);
          abort ();
        }
      if (dedup_segment_n_docs (merged) != m_docs || dedup_segment_n_recs (merged) != m_recs
          || (!odd && (m_docs != n_docs || m_recs != n_recs)))
        abort ();
      dedup_segment_close (merged);
      g_unlink (merged_path);
    }
  else if (error == NULL)
    abort ();
  dedup_segment_close (seg);
  return 0;
}
