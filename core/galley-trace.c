/* galley-trace.c: what a stage did to a few documents.
 *
 * Each stage keeps a sample: the documents with the smallest hash of
 * their id among those the stage dropped, failed or wrote a note on, then
 * among those it changed (a bottom-k sample, so the same documents
 * whatever the thread count or batch size). Before a stage runs on a
 * document that could still enter the sample as a changed one, the
 * document is snapshot (text, meta and field members, annotation count,
 * repairs); after it, what changed is written down as one JSON step (see
 * docs/plugin-guide.md, "What a stage did"). A document that could only
 * enter as dropped, failed or noted gets a light step: no snapshot until
 * the stage asks galley_stage_is_tracing() or drops it. Every other
 * document costs a hash and a compare.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "galley-trace.h"
#include "galley-runner-private.h"

#include <string.h>
#include <xxhash.h>

/* Texts longer than this are cut in a step (the report shows them cut). */
#define MAX_TEXT (256 * 1024)

_Thread_local GalleyTraceStep *galley_trace_current;

typedef struct {
  char        *key;
  json_object *value;  /* a reference */
} Member;

struct _GalleyTraceStep {
  GalleyDocument     *doc;
  GalleyStageContext *ctx;
  guint               stage;
  guint               rank;     /* 0: dropped, failed or noted; 1: changed */
  gboolean            light;    /* no snapshot yet: it can only enter with rank 0 */
  guint64             hash;
  char               *id;       /* once kept */
  char               *before;
  GArray             *meta;     /* Member */
  GArray             *fields;   /* Member */
  guint               n_annotations;
  json_object        *repairs;  /* before, or NULL */
  json_object        *notes;    /* array, or NULL */
  json_object        *json;     /* the step once kept */
};

typedef struct {
  GMutex     lock;
  guint64    bound;   /* hashes at or above it cannot enter at all; atomic */
  guint64    bound1;  /* ... cannot enter as only changed (rank 1); atomic */
  GPtrArray *steps;   /* GalleyTraceStep*, sorted by hash */
} Sample;

struct _GalleyTrace {
  guint    n_stages;
  guint    samples;
  gboolean all;
  Sample  *stages;
};

static void
member_clear (gpointer data)
{
  Member *m = data;
  g_free (m->key);
  json_object_put (m->value);
}

static GArray *
members_snapshot (json_object *obj)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (Member));
  g_array_set_clear_func (a, member_clear);
  json_object_object_foreach (obj, key, value)
    {
      Member m = { g_strdup (key), json_object_get (value) };
      g_array_append_val (a, m);
    }
  return a;
}

/* The members of @now that were not in @before or are not equal to it. */
static json_object *
members_changed (GArray *before, json_object *now)
{
  json_object *changed = NULL;
  json_object_object_foreach (now, key, value)
    {
      gboolean same = FALSE;
      for (guint i = 0; i < before->len && !same; i++)
        {
          Member *m = &g_array_index (before, Member, i);
          if (g_str_equal (m->key, key))
            same = m->value == value || json_object_equal (m->value, value);
        }
      if (same)
        continue;
      if (changed == NULL)
        changed = json_object_new_object ();
      json_object_object_add (changed, key, json_object_get (value));
    }
  return changed;
}

/* The keys of @before that @now lacks. */
static json_object *
members_removed (GArray *before, json_object *now)
{
  json_object *removed = NULL;
  for (guint i = 0; i < before->len; i++)
    {
      Member *m = &g_array_index (before, Member, i);
      if (json_object_object_get_ex (now, m->key, NULL))
        continue;
      if (removed == NULL)
        removed = json_object_new_array ();
      json_object_array_add (removed, json_object_new_string (m->key));
    }
  return removed;
}

static void
step_free (GalleyTraceStep *s)
{
  if (s == NULL)
    return;
  g_free (s->before);
  g_free (s->id);
  g_clear_pointer (&s->meta, g_array_unref);
  g_clear_pointer (&s->fields, g_array_unref);
  g_clear_pointer (&s->repairs, json_object_put);
  g_clear_pointer (&s->notes, json_object_put);
  g_clear_pointer (&s->json, json_object_put);
  g_free (s);
}

GalleyTrace *
galley_trace_new (guint n_stages, guint samples, gboolean all)
{
  GalleyTrace *t = g_new0 (GalleyTrace, 1);
  t->n_stages = n_stages;
  t->samples = samples;
  t->all = all;
  t->stages = g_new0 (Sample, n_stages);
  for (guint i = 0; i < n_stages; i++)
    {
      g_mutex_init (&t->stages[i].lock);
      t->stages[i].bound = samples > 0 || all ? G_MAXUINT64 : 0;
      t->stages[i].bound1 = t->stages[i].bound;
      t->stages[i].steps = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);
    }
  return t;
}

void
galley_trace_free (GalleyTrace *t)
{
  if (t == NULL)
    return;
  for (guint i = 0; i < t->n_stages; i++)
    {
      g_mutex_clear (&t->stages[i].lock);
      g_ptr_array_unref (t->stages[i].steps);
    }
  g_free (t->stages);
  g_free (t);
}

static char *
text_copy (const char *text, gsize len, gboolean *cut)
{
  if (len <= MAX_TEXT)
    return g_strndup (text, len);
  /* cut at a character boundary */
  const char *end = g_utf8_find_prev_char (text, text + MAX_TEXT + 1);
  *cut = TRUE;
  return g_strndup (text, end != NULL ? (gsize) (end - text) : 0);
}

/* The document as the stage gets it. */
static void
snapshot (GalleyTraceStep *s, GalleyDocument *doc)
{
  gboolean cut = FALSE;
  s->light = FALSE;
  if (galley_document_has_text (doc))
    {
      gsize len = 0;
      const char *text = galley_document_get_text (doc, &len);
      s->before = text_copy (text, len, &cut);
    }
  else
    {
      /* asking for the text would decide it (as UTF-8) before the stage
       * that decodes it: show the raw bytes, invalid sequences replaced */
      GBytes *raw = galley_document_get_raw (doc);
      gsize len = 0;
      const char *data = raw != NULL ? g_bytes_get_data (raw, &len) : "";
      g_autofree char *valid = g_utf8_make_valid (data != NULL ? data : "", len);
      s->before = text_copy (valid, strlen (valid), &cut);
    }
  s->meta = members_snapshot (galley_document_get_meta (doc));
  s->fields = members_snapshot (galley_document_get_fields (doc));
  s->n_annotations = galley_document_get_n_annotations (doc);
  s->repairs = galley_document_repairs_to_json (doc);
}

GalleyTraceStep *
galley_trace_begin (GalleyTrace *t, guint stage, GalleyStageContext *ctx, GalleyDocument *doc)
{
  if (t == NULL || stage >= t->n_stages || (!t->all && ctx->info->kind != GALLEY_KIND_STAGE))
    return NULL;
  const char *id = galley_document_get_id (doc);
  guint64 hash = XXH3_64bits (id, strlen (id));
  Sample *sample = &t->stages[stage];
  if (!t->all && hash >= __atomic_load_n (&sample->bound, __ATOMIC_RELAXED))
    return NULL;
  GalleyTraceStep *s = g_new0 (GalleyTraceStep, 1);
  s->doc = doc;
  s->ctx = ctx;
  s->stage = stage;
  s->hash = hash;
  if (!t->all && hash >= __atomic_load_n (&sample->bound1, __ATOMIC_RELAXED))
    s->light = TRUE;
  else
    snapshot (s, doc);
  galley_trace_current = s;
  return s;
}

gboolean
galley_trace_step_wants (GalleyTraceStep *s, GalleyDocument *doc)
{
  if (s == NULL || s->doc != doc)
    return FALSE;
  if (s->light)
    snapshot (s, doc);
  return TRUE;
}

void
galley_trace_step_note (GalleyTraceStep *s, const char *kind, json_object *detail)
{
  json_object *note = detail != NULL && json_object_is_type (detail, json_type_object) ? detail : json_object_new_object ();
  if (note != detail && detail != NULL)
    {
      json_object_object_add (note, "value", detail);
    }
  json_object_object_add (note, "kind", json_object_new_string (kind));
  if (s->notes == NULL)
    s->notes = json_object_new_array ();
  json_object_array_add (s->notes, note);
}

GalleyDocument *
galley_trace_step_get_document (GalleyTraceStep *s)
{
  return s->doc;
}

static json_object *
annotation_to_json (const GalleyAnnotation *a)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "layer", json_object_new_string (a->layer ? a->layer : GALLEY_LAYER_ENTITIES));
  json_object_object_add (o, "type", json_object_new_string (a->type ? a->type : ""));
  json_object_object_add (o, "start", json_object_new_int64 (a->start));
  json_object_object_add (o, "end", json_object_new_int64 (a->end));
  if (a->canonical != NULL)
    json_object_object_add (o, "canonical", json_object_new_string (a->canonical));
  return o;
}

/* Repairs added by the stage: kind -> count added. */
static json_object *
repairs_added (json_object *before, GalleyDocument *doc)
{
  g_autoptr(json_object) now = galley_document_repairs_to_json (doc);
  if (now == NULL)
    return NULL;
  json_object *added = NULL;
  for (gsize i = 0; i < json_object_array_length (now); i++)
    {
      json_object *r = json_object_array_get_idx (now, i), *k = NULL, *c = NULL;
      if (!json_object_object_get_ex (r, "kind", &k) || !json_object_object_get_ex (r, "count", &c))
        continue;
      gint64 was = 0;
      for (gsize j = 0; before != NULL && j < json_object_array_length (before); j++)
        {
          json_object *b = json_object_array_get_idx (before, j), *bk = NULL, *bc = NULL;
          if (json_object_object_get_ex (b, "kind", &bk) && json_object_object_get_ex (b, "count", &bc)
              && g_str_equal (json_object_get_string (bk), json_object_get_string (k)))
            was = json_object_get_int64 (bc);
        }
      gint64 delta = json_object_get_int64 (c) - was;
      if (delta == 0)
        continue;
      if (added == NULL)
        added = json_object_new_object ();
      json_object_object_add (added, json_object_get_string (k), json_object_new_int64 (delta));
    }
  return added;
}

/* The step as JSON, or NULL when the stage left the document as it was. */
static json_object *
step_to_json (GalleyTraceStep *s, GalleyDocument *doc, GalleyVerdict verdict, const char *reason,
              const GError *error, gboolean always)
{
  json_object *o = json_object_new_object ();
  gboolean did = verdict != GALLEY_VERDICT_KEEP || s->notes != NULL;
  json_object_object_add (o, "id", json_object_new_string (galley_document_get_id (doc)));
  const char *source = galley_document_get_source (doc);
  if (source != NULL)
    json_object_object_add (o, "source", json_object_new_string (source));
  json_object_object_add (o, "verdict", json_object_new_string (verdict == GALLEY_VERDICT_KEEP ? "kept"
                                                                : verdict == GALLEY_VERDICT_DROP ? "dropped" : "failed"));
  if (verdict == GALLEY_VERDICT_DROP && reason != NULL)
    json_object_object_add (o, "reason", json_object_new_string (reason));
  if (verdict == GALLEY_VERDICT_ERROR && error != NULL)
    json_object_object_add (o, "error", json_object_new_string (error->message));
  json_object_object_add (o, "before", json_object_new_string (s->before));
  /* a document whose text no stage decided yet is left so */
  if (verdict != GALLEY_VERDICT_ERROR && galley_document_has_text (doc))
    {
      gsize len = 0;
      const char *text = galley_document_get_text (doc, &len);
      gboolean cut = FALSE;
      if (len != strlen (s->before) || memcmp (text, s->before, len) != 0)
        {
          g_autofree char *after = text_copy (text, len, &cut);
          if (!cut || strlen (after) != strlen (s->before))
            {
              json_object_object_add (o, "after", json_object_new_string (after));
              did = TRUE;
            }
        }
      struct { const char *name; json_object *value; } parts[] = {
        { "meta", members_changed (s->meta, galley_document_get_meta (doc)) },
        { "meta_removed", members_removed (s->meta, galley_document_get_meta (doc)) },
        { "fields", members_changed (s->fields, galley_document_get_fields (doc)) },
        { "repairs", repairs_added (s->repairs, doc) },
      };
      for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
        if (parts[i].value != NULL)
          {
            json_object_object_add (o, parts[i].name, parts[i].value);
            did = TRUE;
          }
      guint n = galley_document_get_n_annotations (doc);
      if (n != s->n_annotations || (n > 0 && json_object_object_get_ex (o, "after", NULL)))
        {
          json_object *spans = json_object_new_array ();
          for (guint i = 0; i < n; i++)
            json_object_array_add (spans, annotation_to_json (galley_document_get_annotation (doc, i)));
          json_object_object_add (o, "annotations", spans);
          json_object_object_add (o, "annotations_before", json_object_new_int64 (s->n_annotations));
          did = TRUE;
        }
      /* what the annotations cover is in the text after the stage */
      if (n > 0 && !json_object_object_get_ex (o, "after", NULL))
        json_object_object_add (o, "after", json_object_new_string (text));
    }
  if (s->notes != NULL)
    json_object_object_add (o, "notes", json_object_get (s->notes));
  if (!did && !always)
    {
      json_object_put (o);
      return NULL;
    }
  return o;
}

static gint
compare_hash (gconstpointer a, gconstpointer b)
{
  const GalleyTraceStep *x = *(GalleyTraceStep *const *) a, *y = *(GalleyTraceStep *const *) b;
  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return x->hash < y->hash ? -1 : x->hash > y->hash ? 1 : g_strcmp0 (x->id, y->id);
}

void
galley_trace_end (GalleyTrace *t, GalleyTraceStep *s, GalleyDocument *doc, GalleyVerdict verdict, const char *reason,
                  const GError *error)
{
  if (s == NULL)
    return;
  galley_trace_current = NULL;
  guint stage = s->stage;
  Sample *sample = &t->stages[stage];
  s->rank = verdict != GALLEY_VERDICT_KEEP || s->notes != NULL ? 0 : 1;
  /* what cannot enter the sample is not written down */
  if (!t->all && s->rank == 1 && (s->light || s->hash >= __atomic_load_n (&sample->bound1, __ATOMIC_RELAXED)))
    {
      step_free (s);
      return;
    }
  if (s->light)
    snapshot (s, doc);   /* dropped or failed: the text is as the stage left it */
  s->json = step_to_json (s, doc, verdict, reason, error, t->all);
  if (s->json == NULL)
    {
      step_free (s);
      return;
    }
  /* the snapshot is no longer needed; the document may be freed soon */
  g_clear_pointer (&s->before, g_free);
  g_clear_pointer (&s->meta, g_array_unref);
  g_clear_pointer (&s->fields, g_array_unref);
  g_clear_pointer (&s->repairs, json_object_put);
  g_mutex_lock (&sample->lock);
  /* the document may be freed before the sample is read */
  s->id = g_strdup (galley_document_get_id (doc));
  s->doc = NULL;
  g_ptr_array_add (sample->steps, s);
  if (!t->all)
    {
      g_ptr_array_sort (sample->steps, compare_hash);
      while (sample->steps->len > t->samples)
        g_ptr_array_remove_index (sample->steps, sample->steps->len - 1);
      /* once the sample is full, a changed document enters only with a
       * smaller hash than its last changed one, and not at all when it
       * holds dropped, failed or noted ones only; these then enter only
       * with a smaller hash than the last */
      GalleyTraceStep *last = sample->steps->len == t->samples ? g_ptr_array_index (sample->steps, t->samples - 1) : NULL;
      if (last != NULL)
        {
          __atomic_store_n (&sample->bound1, last->rank == 1 ? last->hash : 0, __ATOMIC_RELAXED);
          if (last->rank == 0)
            __atomic_store_n (&sample->bound, last->hash, __ATOMIC_RELAXED);
        }
    }
  g_mutex_unlock (&sample->lock);
}

json_object *
galley_trace_stage_to_json (GalleyTrace *t, guint stage)
{
  json_object *arr = json_object_new_array ();
  if (t == NULL || stage >= t->n_stages)
    return arr;
  Sample *sample = &t->stages[stage];
  g_mutex_lock (&sample->lock);
  for (guint i = 0; i < sample->steps->len; i++)
    {
      GalleyTraceStep *s = g_ptr_array_index (sample->steps, i);
      json_object_array_add (arr, json_object_get (s->json));
    }
  g_mutex_unlock (&sample->lock);
  return arr;
}
