/* gen-corpus.c: writes a synthetic corpus of news-like articles for the
 * benchmarks.
 *
 *   gen-corpus DIR SIZE_MB [SEED]
 *
 * Writes plain-text articles of 1.5-4.5 KB (about 3 KB on average) into
 * DIR/0000/000000.txt, DIR/0000/000001.txt, ... with at most 1000 files per
 * subdirectory, until SIZE_MB MiB (SIZE_MB * 1048576 bytes) are written.
 * The text is built from the word lists below: headlines, a dateline,
 * paragraphs, quotes in ASCII and typographic quotation marks, dashes,
 * non-ASCII UTF-8 (Zürich, São Paulo, €, °C), the odd tab-separated table
 * and Windows path with backslashes, so that JSON escaping is exercised.
 *
 * The output depends only on SIZE_MB and SEED (default 1): article i is
 * generated from its own random stream seeded from (SEED, i). When done,
 * DIR/.corpus (hidden, skipped by the files plugin's default exclude) records
 * the parameters and totals; its presence marks a complete corpus.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GEN_VERSION     1
#define FILES_PER_DIR   1000
#define MIN_ARTICLE     1536
#define MAX_ARTICLE     4608
/* build_article overshoots its target by up to ~350 bytes */
#define MAX_TARGET      (MAX_ARTICLE - 320)
#define BUF_SIZE        (MAX_ARTICLE + 2048)

/* ---- random numbers: splitmix64 seeding, xoshiro256** stream ------------- */

typedef struct { guint64 s[4]; } Rng;

static guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void
rng_seed (Rng *r, guint64 seed, guint64 stream)
{
  guint64 x = seed * 0xD1B54A32D192ED03ull ^ stream;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64 (&x);
}

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static inline guint64
rng_next (Rng *r)
{
  guint64 *s = r->s;
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

/* Uniform in [0, n), n small. */
static inline guint32
rng_below (Rng *r, guint32 n)
{
  return (guint32) (((rng_next (r) >> 32) * (guint64) n) >> 32);
}

/* TRUE with probability pct/100. */
static inline gboolean
rng_pct (Rng *r, guint32 pct)
{
  return rng_below (r, 100) < pct;
}

/* ---- word lists ------------------------------------------------------------- */

#define PICK(r, list) ((list)[rng_below ((r), G_N_ELEMENTS (list))])

static const char *const first_names[] = {
  "Anna", "José", "Zoë", "Łukasz", "Mariam", "Thomas", "Ingrid", "Kwame", "Sofía", "Henrik",
  "Aiko", "Björn", "Chloé", "Dmitri", "Elif", "François", "Grace", "Hamid", "Irène", "Jonas",
  "Katarzyna", "Luis", "Mei", "Nikolai", "Olga", "Pedro", "Renée", "Søren", "Tomás", "Ursula",
  "Valentina", "Wei", "Yusuf", "Zainab", "Ahmed", "Beatriz", "Carlos", "Dagmar", "Emeka", "Fatima",
};

static const char *const surnames[] = {
  "Müller", "García", "Nowak", "O'Brien", "Rossi", "Dubois", "Kowalski", "Nakamura", "Okafor", "Jensen",
  "Schröder", "Fernández", "Andersson", "Papadopoulos", "Yılmaz", "Novák", "Haddad", "Costa", "Lindqvist", "Moreau",
  "Wójcik", "Ivanova", "Smith", "Brennan", "de la Cruz", "van der Berg", "Østergaard", "Mendoza", "Abubakar", "Chen",
  "Kovačević", "Horváth", "Ramírez", "Åberg", "Sato", "Kaur", "Mensah", "Bianchi", "Lefèvre", "Petrov",
};

static const char *const places[] = {
  "Zürich", "São Paulo", "Kraków", "Malmö", "Genève", "Reykjavík", "Düsseldorf", "Córdoba", "Besançon", "Łódź",
  "Lyon", "Rotterdam", "Nairobi", "Lagos", "Osaka", "Toronto", "Dublin", "Porto", "Bilbao", "Gdańsk",
  "Tromsø", "İzmir", "Plzeň", "Timișoara", "Brașov", "Coimbra", "Aarhus", "Linköping", "Hamburg", "Marseille",
  "Bogotá", "Montréal", "Québec", "Medellín", "Antwerp", "Thessaloniki", "Valparaíso", "Cluj-Napoca", "Turku", "Graz",
};

static const char *const orgs[] = {
  "the city council", "the central bank", "the port authority", "the transport ministry", "the football federation",
  "the national statistics office", "the health ministry", "the regional parliament", "the chamber of commerce",
  "the electricity regulator", "the teachers' union", "the water board", "the university hospital",
  "the competition authority", "the environment agency", "the rail operator", "the airport company",
  "the housing association", "the farmers' cooperative", "the European Commission", "the supreme court",
  "the finance ministry", "the fire brigade", "the museum foundation", "the weather service",
};

static const char *const roles[] = {
  "a spokeswoman for", "a spokesman for", "the director of", "an economist at", "a senior official at",
  "the chairwoman of", "the chairman of", "a lawyer representing", "an analyst who advises", "the head of",
  "a board member of", "the deputy mayor responsible for", "a researcher at", "the treasurer of",
};

static const char *const nouns[] = {
  "budget", "strike", "harbour", "election", "flood", "bridge", "contract", "tariff", "forecast", "merger",
  "council", "report", "inquiry", "shipment", "festival", "stadium", "railway", "vaccine", "pension", "tax",
  "reform", "protest", "museum", "school", "hospital", "factory", "supply chain", "court ruling", "ceasefire", "heatwave",
  "drought", "harvest", "referendum", "coalition", "deficit", "loan", "subsidy", "audit", "tender", "timetable",
  "runway", "tunnel", "reservoir", "power plant", "wind farm", "housing project", "bus network", "tram line", "ferry", "shipyard",
  "price index", "interest rate", "exchange rate", "wage deal", "minimum wage", "rent cap", "emissions target", "safety review",
  "recount", "ballot", "verdict", "appeal", "transfer fee", "season", "championship", "exhibition", "collection", "archive",
};

static const char *const adjectives[] = {
  "new", "controversial", "long-awaited", "delayed", "unexpected", "regional", "national", "temporary", "record",
  "modest", "sharp", "gradual", "disputed", "revised", "preliminary", "final", "costly", "ambitious", "cautious",
  "public", "private", "municipal", "cross-border", "seasonal", "emergency", "annual", "quarterly", "historic",
  "fragile", "decisive", "provisional", "unprecedented", "widely expected", "closely watched", "hard-fought",
};

static const char *const verbs_past[] = {
  "approved", "rejected", "postponed", "announced", "criticised", "welcomed", "delayed", "expanded", "cut",
  "suspended", "extended", "challenged", "confirmed", "reviewed", "defended", "questioned", "signed", "blocked",
  "launched", "cancelled", "revised", "backed", "opposed", "doubled", "halved", "unveiled", "investigated",
};

static const char *const verbs_base[] = {
  "raise", "lower", "delay", "improve", "reduce", "protect", "replace", "review", "expand", "finance",
  "reopen", "close", "modernise", "simplify", "strengthen", "limit", "support", "rebuild", "monitor", "extend",
};

static const char *const time_phrases[] = {
  "on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "over the weekend", "last week",
  "earlier this month", "late on Sunday", "this morning", "after midnight", "in a statement on Thursday",
  "at a press conference", "during a heated session", "in an interview",
};

static const char *const connectors[] = {
  "However,", "Meanwhile,", "In addition,", "At the same time,", "According to officials,", "Critics said that",
  "Supporters argued that", "Earlier,", "For now,", "Still,", "Separately,", "By contrast,", "As a result,",
};

static const char *const quote_clauses[] = {
  "We cannot wait another year", "This is a turning point for the region", "Nobody expected the numbers to be this bad",
  "The decision was taken far too quickly", "We will appeal", "It is a fair compromise for everyone involved",
  "Our members are exhausted", "The figures speak for themselves", "We have to be realistic about the costs",
  "This is not the end of the story", "People deserve a clear answer", "The plan is simply not affordable",
  "We are confident the work will finish on time", "Frankly, it's a mess", "There is no plan B",
};

static const char *const units[] = {
  "million euros", "billion euros", "million francs", "percent", "kilometres", "tonnes", "passengers a day",
  "households", "jobs", "hectares", "megawatts",
};

static const char *const months[] = {
  "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
  "November", "December",
};

static const char *const headline_verbs[] = {
  "Approves", "Rejects", "Delays", "Unveils", "Cuts", "Backs", "Suspends", "Expands", "Questions", "Defends",
};

static const char *const headline_nouns[] = {
  "Budget", "Strike Deal", "Harbour Plan", "Rail Merger", "Flood Defences", "Wage Deal", "Stadium Loan",
  "Tram Line", "Heatwave Measures", "Museum Reopening", "Election Recount", "Chip Factory", "Peace Talks",
  "Housing Project", "Energy Tariff", "Transfer Fee", "Water Rationing", "Airport Expansion",
};

static const char *const headline_subjects[] = {
  "Council", "Court", "Regulator", "Ministry", "Union", "Parliament", "Board", "Federation", "Commission", "Port Authority",
};

/* ---- article builder ---------------------------------------------------------- */

typedef struct {
  char  *p;       /* write position */
  char  *start;
} Buf;

static inline void
put (Buf *b, const char *s)
{
  size_t n = strlen (s);
  memcpy (b->p, s, n);
  b->p += n;
}

static inline void
put_c (Buf *b, char c)
{
  *b->p++ = c;
}

static inline void
put_uint (Buf *b, guint v)
{
  char tmp[16];
  int n = 0;
  do
    tmp[n++] = (char) ('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0)
    *b->p++ = tmp[--n];
}

static inline size_t
buf_len (const Buf *b)
{
  return (size_t) (b->p - b->start);
}

static void
put_person (Rng *r, Buf *b)
{
  put (b, PICK (r, first_names));
  put_c (b, ' ');
  put (b, PICK (r, surnames));
}

static void
put_noun_phrase (Rng *r, Buf *b)
{
  put (b, "the ");
  if (rng_pct (r, 60))
    {
      put (b, PICK (r, adjectives));
      put_c (b, ' ');
    }
  put (b, PICK (r, nouns));
}

/* Lower-case clause without final punctuation. */
static void
put_clause (Rng *r, Buf *b)
{
  switch (rng_below (r, 5))
    {
    case 0:
      put (b, PICK (r, orgs));
      put_c (b, ' ');
      put (b, PICK (r, verbs_past));
      put_c (b, ' ');
      put_noun_phrase (r, b);
      put_c (b, ' ');
      put (b, PICK (r, time_phrases));
      break;
    case 1:
      put_noun_phrase (r, b);
      put (b, " in ");
      put (b, PICK (r, places));
      put (b, " could ");
      put (b, PICK (r, verbs_base));
      put_c (b, ' ');
      put_noun_phrase (r, b);
      break;
    case 2:
      put (b, "the cost of ");
      put_noun_phrase (r, b);
      put (b, " rose to ");
      put_uint (b, 1 + rng_below (r, 900));
      put_c (b, '.');
      put_uint (b, rng_below (r, 10));
      put_c (b, ' ');
      put (b, PICK (r, units));
      break;
    case 3:
      put (b, "officials in ");
      put (b, PICK (r, places));
      put (b, " said ");
      put_noun_phrase (r, b);
      put (b, " would ");
      put (b, PICK (r, verbs_base));
      put_c (b, ' ');
      put_noun_phrase (r, b);
      put (b, " by ");
      put (b, PICK (r, months));
      break;
    default:
      put_person (r, b);
      put (b, ", ");
      put (b, PICK (r, roles));
      put_c (b, ' ');
      put (b, PICK (r, orgs));
      put (b, ", ");
      put (b, PICK (r, verbs_past));
      put_c (b, ' ');
      put_noun_phrase (r, b);
      break;
    }
}

/* Capitalises the ASCII letter at @at if there is one. */
static void
capitalise (char *at)
{
  if (*at >= 'a' && *at <= 'z')
    *at = (char) (*at - 'a' + 'A');
}

static void
put_sentence (Rng *r, Buf *b)
{
  char *begin = b->p;
  guint kind = rng_below (r, 100);
  if (kind < 10)
    {
      /* typographic quotes */
      put (b, "“");
      put (b, PICK (r, quote_clauses));
      put (b, ",” said ");
      put_person (r, b);
      put (b, ", ");
      put (b, PICK (r, roles));
      put_c (b, ' ');
      put (b, PICK (r, orgs));
      put_c (b, '.');
    }
  else if (kind < 18)
    {
      /* ASCII double quotes: escaped in JSON */
      put_c (b, '"');
      put (b, PICK (r, quote_clauses));
      put (b, ",\" ");
      put_person (r, b);
      put (b, " told reporters ");
      put (b, PICK (r, time_phrases));
      put_c (b, '.');
    }
  else if (kind < 30)
    {
      /* em dash aside */
      put_clause (r, b);
      put (b, " — ");
      put_clause (r, b);
      put (b, " — ");
      put (b, rng_pct (r, 50) ? "although details remained unclear." : "a move few had predicted.");
    }
  else if (kind < 36)
    {
      /* en dash ranges, degrees, euro sign */
      put (b, "Temperatures of ");
      put_uint (b, 28 + rng_below (r, 8));
      put (b, "–");
      put_uint (b, 36 + rng_below (r, 8));
      put (b, " °C are forecast for ");
      put (b, PICK (r, places));
      put (b, ", and the emergency fund of €");
      put_uint (b, 1 + rng_below (r, 99));
      put (b, " million may not be enough.");
    }
  else if (kind < 38)
    {
      /* backslashes */
      put (b, "The draft, saved as C:\\Council\\");
      put_uint (b, 2015 + rng_below (r, 10));
      put_c (b, '\\');
      put (b, PICK (r, headline_nouns));
      put (b, ".docx, was leaked to reporters.");
    }
  else if (kind < 55)
    {
      put (b, PICK (r, connectors));
      put_c (b, ' ');
      put_clause (r, b);
      put_c (b, '.');
    }
  else
    {
      put_clause (r, b);
      put (b, rng_pct (r, 10) ? "?" : ".");
    }
  capitalise (begin);
}

static void
put_table (Rng *r, Buf *b)
{
  put (b, "Region\tQ1\tQ2\tChange\n");
  guint rows = 2 + rng_below (r, 3);
  for (guint i = 0; i < rows; i++)
    {
      guint q1 = 100 + rng_below (r, 900), q2 = 100 + rng_below (r, 900);
      put (b, PICK (r, places));
      put_c (b, '\t');
      put_uint (b, q1);
      put_c (b, '\t');
      put_uint (b, q2);
      put_c (b, '\t');
      put (b, q2 >= q1 ? "+" : "−");   /* U+2212 minus sign */
      put_uint (b, q2 >= q1 ? q2 - q1 : q1 - q2);
      put_c (b, '\n');
    }
}

/* Writes one article of about @target bytes; returns its length. */
static size_t
build_article (Rng *r, char *out, size_t target)
{
  Buf b = { out, out };
  /* headline */
  put (&b, PICK (r, places));
  put_c (&b, ' ');
  put (&b, PICK (r, headline_subjects));
  put_c (&b, ' ');
  put (&b, PICK (r, headline_verbs));
  put_c (&b, ' ');
  put (&b, PICK (r, headline_nouns));
  put (&b, "\n\n");
  /* byline and dateline */
  put (&b, "By ");
  put_person (r, &b);
  put (&b, "\n\n");
  put (&b, PICK (r, places));
  put (&b, ", ");
  put_uint (&b, 1 + rng_below (r, 28));
  put_c (&b, ' ');
  put (&b, PICK (r, months));
  put (&b, " — ");

  gboolean first_par = TRUE;
  /* the closing line adds at least 40 bytes, so the article reaches @target */
  while (buf_len (&b) + 40 < target)
    {
      if (!first_par)
        {
          if (rng_pct (r, 4))
            {
              put_table (r, &b);
              put_c (&b, '\n');
              continue;
            }
          if (rng_pct (r, 5))
            put_c (&b, '\t');   /* indented paragraph */
        }
      guint sentences = 2 + rng_below (r, 4);
      for (guint s = 0; s < sentences && buf_len (&b) + 40 < target; s++)
        {
          if (s > 0)
            put_c (&b, ' ');
          put_sentence (r, &b);
        }
      put (&b, "\n\n");
      first_par = FALSE;
    }
  put (&b, "(Reporting by ");
  put_person (r, &b);
  put (&b, "; editing by ");
  put_person (r, &b);
  put (&b, ")\n");
  return buf_len (&b);
}

/* ---- files -------------------------------------------------------------------- */

static void
die (const char *fmt, ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

static void
die (const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  fputs ("gen-corpus: ", stderr);
  vfprintf (stderr, fmt, args);
  fputc ('\n', stderr);
  va_end (args);
  exit (1);
}

static void
write_file (const char *path, const char *data, size_t len)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    die ("cannot create %s: %s", path, g_strerror (errno));
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          die ("cannot write %s: %s", path, g_strerror (errno));
        }
      data += n;
      len -= (size_t) n;
    }
  if (close (fd) != 0)
    die ("cannot close %s: %s", path, g_strerror (errno));
}

static gboolean
parse_u64 (const char *s, guint64 max, guint64 *out)
{
  char *end = NULL;
  errno = 0;
  guint64 v = g_ascii_strtoull (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

int
main (int argc, char **argv)
{
  if (argc < 3 || argc > 4)
    {
      fprintf (stderr, "usage: gen-corpus DIR SIZE_MB [SEED]\n"
                       "Writes SIZE_MB MiB of synthetic 1.5-4.5 KB news articles into DIR/NNNN/NNNNNN.txt\n"
                       "(at most %d files per subdirectory), deterministic from SEED (default 1).\n",
               FILES_PER_DIR);
      return 2;
    }
  const char *dir = argv[1];
  guint64 size_mb, seed = 1;
  if (!parse_u64 (argv[2], 1024 * 1024, &size_mb) || size_mb == 0)
    die ("SIZE_MB: expected a whole number of MiB between 1 and 1048576, got '%s'", argv[2]);
  if (argc == 4 && !parse_u64 (argv[3], G_MAXUINT64, &seed))
    die ("SEED: expected a non-negative integer, got '%s'", argv[3]);
  guint64 target = size_mb * 1024 * 1024;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    die ("cannot create %s: %s", dir, g_strerror (errno));
  g_autofree char *marker = g_build_filename (dir, ".corpus", NULL);
  if (unlink (marker) != 0 && errno != ENOENT)
    die ("cannot remove %s: %s", marker, g_strerror (errno));

  gint64 t0 = g_get_monotonic_time ();
  char *buf = g_malloc (BUF_SIZE);
  size_t dir_len = strlen (dir);
  char *path = g_malloc (dir_len + 32);
  memcpy (path, dir, dir_len);
  guint64 written = 0, files = 0;
  size_t min_len = G_MAXSIZE, max_len = 0;
  while (written < target)
    {
      if (files % FILES_PER_DIR == 0)
        {
          snprintf (path + dir_len, 32, "/%04" G_GUINT64_FORMAT, files / FILES_PER_DIR);
          if (mkdir (path, 0755) != 0 && errno != EEXIST)
            die ("cannot create %s: %s", path, g_strerror (errno));
        }
      Rng r;
      rng_seed (&r, seed, files);
      size_t want = MIN_ARTICLE + rng_below (&r, MAX_TARGET - MIN_ARTICLE + 1);
      size_t len = build_article (&r, buf, want);
      g_assert (len < BUF_SIZE);
      snprintf (path + dir_len, 32, "/%04" G_GUINT64_FORMAT "/%06" G_GUINT64_FORMAT ".txt",
                files / FILES_PER_DIR, files);
      write_file (path, buf, len);
      written += len;
      files++;
      min_len = MIN (min_len, len);
      max_len = MAX (max_len, len);
    }
  double secs = (g_get_monotonic_time () - t0) / 1e6;

  g_autofree char *info = g_strdup_printf (
    "generator=%d\nsize_mb=%" G_GUINT64_FORMAT "\nseed=%" G_GUINT64_FORMAT "\nfiles=%" G_GUINT64_FORMAT
    "\nbytes=%" G_GUINT64_FORMAT "\nmin_bytes=%zu\nmax_bytes=%zu\n",
    GEN_VERSION, size_mb, seed, files, written, min_len, max_len);
  write_file (marker, info, strlen (info));
  printf ("gen-corpus: %s: %" G_GUINT64_FORMAT " files, %" G_GUINT64_FORMAT " bytes (%.1f MB, "
          "%zu-%zu bytes each, mean %.0f) in %.1f s\n",
          dir, files, written, written / 1e6, min_len, max_len, (double) written / files, secs);
  g_free (path);
  g_free (buf);
  return 0;
}
