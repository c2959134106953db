/* test-repair.c: the repair stage on the damage it must undo and on the
 * text it must leave alone. All sample sentences are written for these
 * tests. */
#include "galley-private.h"
#include "galley-test-util.h"

#include <string.h>

static GalleyHarness *
harness (const char *first_option, ...)
{
  g_autoptr(GPtrArray) opts = g_ptr_array_new ();
  va_list ap;
  va_start (ap, first_option);
  for (const char *o = first_option; o != NULL; o = va_arg (ap, const char *))
    g_ptr_array_add (opts, (gpointer) o);
  va_end (ap);
  g_ptr_array_add (opts, NULL);
  g_autoptr(GError) error = NULL;
  GalleyHarness *h = galley_harness_new ("repair", (const char *const *) opts->pdata, &error);
  g_assert_no_error (error);
  return h;
}

/* Runs @raw (bytes) through repair; returns the text (free it). */
static char *
repair_bytes (GalleyHarness *h, const char *raw, gssize len, const char *declared,
              GalleyContentType type, GalleyDocument **doc_out)
{
  GalleyDocument *doc = galley_document_new ("t", NULL);
  g_autoptr(GBytes) bytes = g_bytes_new (raw, len < 0 ? strlen (raw) : (gsize) len);
  galley_document_set_raw (doc, bytes);
  galley_document_set_declared_encoding (doc, declared);
  galley_document_set_content_type (doc, type);
  g_autoptr(GError) error = NULL;
  g_assert_cmpint (galley_harness_process (h, doc, &error), ==, GALLEY_VERDICT_KEEP);
  g_assert_no_error (error);
  char *text = g_strdup (galley_document_get_text (doc, NULL));
  g_assert_true (g_utf8_validate (text, -1, NULL));
  if (doc_out != NULL)
    *doc_out = doc;
  else
    galley_document_free (doc);
  return text;
}

static char *
repair_text (GalleyHarness *h, const char *text)
{
  return repair_bytes (h, text, -1, NULL, GALLEY_CONTENT_TEXT, NULL);
}

/* Garbles UTF-8 the way a wrong decoder does: each byte read in @charset,
 * a byte the charset does not define read as Latin-1 (as browsers do). */
static char *
garble (const char *utf8, const char *charset)
{
  GString *out = g_string_new (NULL);
  for (const guchar *p = (const guchar *) utf8; *p; p++)
    {
      char byte = (char) *p;
      g_autofree char *one = g_convert (&byte, 1, "UTF-8", charset, NULL, NULL, NULL);
      if (one != NULL && *one != '\0')
        g_string_append (out, one);
      else
        g_string_append_unichar (out, *p);
    }
  return g_string_free (out, FALSE);
}

typedef struct {
  const char *name;
  const char *text;
  const char *charset;
} MojibakeCase;

static const MojibakeCase mojibake_cases[] = {
  { "cp1252-quotes", "The minister said “we will not sign” — and left.", "WINDOWS-1252" },
  { "cp1252-french", "Le député a présenté un rapport très détaillé à l’Assemblée.", "WINDOWS-1252" },
  { "cp1252-german", "Die Bürgermeisterin von Großwalden äußerte sich am Dienstag.", "WINDOWS-1252" },
  { "cp1252-euro", "The budget rose by €4.2 million to €310 million.", "WINDOWS-1252" },
  { "cp1251-russian", "Министр обороны провёл переговоры в Стамбуле.", "WINDOWS-1251" },
  { "cp1250-polish", "Rząd przedstawił w środę nowy plan budżetu.", "WINDOWS-1250" },
  { "cp1250-czech", "Vláda schválila návrh zákona o státním rozpočtu.", "WINDOWS-1250" },
  { "mac-roman", "Le gâteau était délicieux, a dit la cheffe.", "MACINTOSH" },
  { "cp1253-greek", "Η κυβέρνηση ανακοίνωσε νέα μέτρα.", "WINDOWS-1253" },
  { "cp1254-turkish", "İstanbul'daki görüşmeler çarşamba günü başlayacak.", "WINDOWS-1254" },
  { "cp1257-latvian", "Saeimā ievēlētās partijas vadītāja atbildēja.", "WINDOWS-1257" },
  { "cp437", "Čeština a slovenčina", "IBM437" },
};

static void
test_mojibake (gconstpointer data)
{
  const MojibakeCase *mc = data;
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *broken = garble (mc->text, mc->charset);
  g_assert_cmpstr (broken, !=, mc->text);
  GalleyDocument *doc = NULL;
  g_autofree char *fixed = repair_bytes (h, broken, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
  g_assert_cmpstr (fixed, ==, mc->text);
  g_assert_cmpint (galley_document_get_n_annotations (doc), ==, 0);
  g_autoptr(json_object) rec = galley_document_to_json (doc);
  json_object *repairs = NULL;
  g_assert_true (json_object_object_get_ex (rec, "repairs", &repairs));
  galley_document_free (doc);
}

static void
test_double_encoding (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *text = "The ministry’s résumé was “incomplete”.";
  g_autofree char *once = garble (text, "WINDOWS-1252");
  g_autofree char *twice = garble (once, "WINDOWS-1252");
  g_autofree char *fixed = repair_text (h, twice);
  g_assert_cmpstr (fixed, ==, text);
}

/* Mojibake lower-cased after the damage: most clusters are broken ("ã¢â"
 * has lost the capital Ã that made it a pair), so rebuilding bytes only
 * makes new noise; the line stays as it is. */
static void
test_broken_clusters_left (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char *const texts[] = {
    "Ærø — Ølstykke, “Æ’” —",
    "Ça s’écrit « Œuvre » à Zürich.",
  };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree char *once = garble (texts[i], "WINDOWS-1252");
      g_autofree char *twice = garble (once, "WINDOWS-1252");
      g_autofree char *lower = g_utf8_strdown (twice, -1);
      g_autofree char *out = repair_text (h, lower);
      g_assert_cmpstr (out, ==, lower);
      /* the same damage, not lower-cased, is still undone */
      g_autofree char *fixed = repair_text (h, twice);
      g_assert_cmpstr (fixed, ==, texts[i]);
    }
}

/* An intact dash that cp1252 would have turned into "â€“" says the line
 * was not decoded with cp1252: a single cluster in it is taken for a real
 * word. Two clusters, or the dash damaged too, are repaired. */
static void
test_intact_witness (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *one = repair_text (h, "Rapport annuel – GarÃ§on");
  g_assert_cmpstr (one, ==, "Rapport annuel – GarÃ§on");
  g_autofree char *dash = repair_text (h, "Rapport annuel â€“ GarÃ§on");
  g_assert_cmpstr (dash, ==, "Rapport annuel – Garçon");
  g_autofree char *two = repair_text (h, "Le rapport – MÃ©lanie et RenÃ© sont là");
  g_assert_cmpstr (two, ==, "Le rapport – Mélanie et René sont là");
}

/* A no-break space byte in the middle of a three-byte character that
 * became a plain space: "â € " is U+2800 (E2 A0 80) when the line is
 * surely cp1252 mojibake; "à € 10" in clean French stays. */
static void
test_nbsp_middle_byte (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *fixed = repair_text (h, "â € OlÃ¡, meu amigo! EstÃ¡ tudo bem?");
  g_assert_cmpstr (fixed, ==, "\u2800 Olá, meu amigo! Está tudo bem?");
  g_autofree char *clean = repair_text (h, "Le billet est vendu à € 10 à Paris.");
  g_assert_cmpstr (clean, ==, "Le billet est vendu à € 10 à Paris.");
}

/* C1 controls between lower-case letters that Windows-1252 would make a
 * symbol, or an apostrophe no contraction or elision explains, are Mac
 * Roman read as Latin-1; the others stay Windows-1252. */
static void
test_c1_mac_roman (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  GalleyDocument *doc = NULL;
  g_autofree char *out = repair_bytes (h, "Una idea b\xc2\x87sica, ella perd\xc2\x92" "a, l\xc2\x92" "autre don\xc2\x92t", -1,
                                       NULL, GALLEY_CONTENT_TEXT, &doc);
  g_assert_cmpstr (out, ==, "Una idea básica, ella perdía, l’autre don’t");
  g_assert_cmpint (galley_document_get_repair (doc, "c1-as-mac-roman"), ==, 2);
  g_assert_cmpint (galley_document_get_repair (doc, "c1-as-cp1252"), ==, 2);
  galley_document_free (doc);
  g_autofree char *dash = repair_text (h, "one\xc2\x97two and \xc2\x93quoted\xc2\x94");
  g_assert_cmpstr (dash, ==, "one—two and “quoted”");
}

/* "Â" + no-break space after a capital is a word ending in Â unless the
 * line shows cp1252 damage elsewhere; ¿ and ¡ before a letter are
 * punctuation, so "┬┐" (cp437 for ¿) is repaired. */
static void
test_capital_a_circumflex_and_inverted_marks (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *kept = repair_text (h, "PORTÂ\u00a0NORTE");
  g_assert_cmpstr (kept, ==, "PORTÂ\u00a0NORTE");
  g_autofree char *fixed = repair_text (h, "TITLEÂ\u00a0PAGE: the ministerâ€™s speech");
  g_assert_cmpstr (fixed, ==, "TITLE\u00a0PAGE: the minister’s speech");
  g_autofree char *garbled = garble ("¿Dónde está?", "IBM437");
  g_autofree char *spanish = repair_text (h, garbled);
  g_assert_cmpstr (spanish, ==, "¿Dónde está?");
}

static void
test_mixed_document_per_span (void)
{
  /* one broken line, one clean line with a foreign name and a ™ */
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *broken = garble ("Le député a présenté le rapport.", "WINDOWS-1252");
  g_autofree char *input = g_strdup_printf ("%s\nNICIODATĂ™ and São Paulo stay as they are.", broken);
  g_autofree char *fixed = repair_text (h, input);
  g_assert_cmpstr (fixed, ==, "Le député a présenté le rapport.\nNICIODATĂ™ and São Paulo stay as they are.");
}

/* Clean text in many scripts goes through byte-identical. */
static const char *const clean_texts[] = {
  "นายกรัฐมนตรีเดินทางไปโรงพยาบาลเมื่อวันพุธ",
  /* Thai glued to digits and Latin letters is still Thai */
  "ค่าเงินบาทอยู่ที่36.5บาทต่อดอลลาร์ ราคา iPhone15ในไทย",
  "ปี2567 นายกฯ เดินทางไปประชุม ASEANที่จาการ์ตา",
  "Президент провёл встречу с министрами в пятницу.",
  "Ο πρωθυπουργός μίλησε για την οικονομία.",
  "Thủ tướng đã gặp các bộ trưởng vào thứ Sáu.",
  "Cumhurbaşkanı İstanbul'da açıklama yaptı.",
  "Prezydent spotkał się z ministrami w piątek.",
  "O presidente reuniu-se com os ministros na sexta-feira, em São Paulo.",
  "Der Außenminister äußerte sich über die Straßenbahn.",
  "Ціни на хліб зросли на 12% у Києві.",
  "“Quoted” text — with dashes… and ‘single’ quotes, 5×£35, 10 Å—, AHÅ™, 2012—∞.",
  "Emoji stay: 🎉 ❤ ✔ ⚽ and 東京 and 한국어.",
};

static void
test_clean_text_untouched (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (clean_texts); i++)
    {
      GalleyDocument *doc = NULL;
      g_autofree char *out = repair_bytes (h, clean_texts[i], -1, NULL, GALLEY_CONTENT_TEXT, &doc);
      g_assert_cmpstr (out, ==, clean_texts[i]);
      g_assert_cmpint (galley_document_get_repair (doc, "mojibake:utf8-as-cp1252"), ==, 0);
      galley_document_free (doc);
    }
}

/* TIS-620 losses between words: a compound of three or more words takes
 * hyphens, a Turkish case ending after a name an apostrophe, a single
 * join between words stays a dash. */
static void
test_lossy_thai_compounds (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *out = repair_text (h, "a 30โyearโold man, a stateโofโtheโart plan, peaceโa real one; "
                                         "in Ankaraโnın and İstanbulโda");
  g_assert_cmpstr (out, ==, "a 30‐year‐old man, a state‐of‐the‐art plan, peace—a real one; "
                            "in Ankara’nın and İstanbul’da");
}

static void
test_lossy_thai (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *damaged =
      "โWe will not give up,โ the spokesmanโs aide said on Monday. Talksโwhich began in 2019โhave stalled.\n"
      "He called it โa first stepโ. The hospital โรงพยาบาล stays Thai. Wait for itโฆ and โข items; โฆษณา stays.\n"
      "เขา โต แล้ว";
  const char *expected =
      "“We will not give up,” the spokesman’s aide said on Monday. Talks—which began in 2019—have stalled.\n"
      "He called it “a first step”. The hospital โรงพยาบาล stays Thai. Wait for it… and • items; โฆษณา stays.\n"
      "เขา โต แล้ว";
  GalleyDocument *doc = NULL;
  g_autofree char *fixed = repair_bytes (h, damaged, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
  g_assert_cmpstr (fixed, ==, expected);
  g_assert_cmpint (galley_document_get_repair (doc, "lossy-quote-restored"), ==, 4);
  g_assert_cmpint (galley_document_get_repair (doc, "lossy-apostrophe-restored"), ==, 1);
  g_assert_cmpint (galley_document_get_repair (doc, "lossy-dash-restored"), ==, 2);
  galley_document_free (doc);
}

/* Seed 001 from the shared data, when it is there: all 15 restored. */
static void
test_seed_001 (void)
{
  g_autofree char *path = galley_test_srcpath ("..", "shared", "seeds", "001_133b301b955a36d9.txt", NULL);
  g_autofree char *contents = NULL;
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    {
      g_test_skip ("../shared/seeds is not here");
      return;
    }
  g_autoptr(GalleyHarness) h = harness (NULL);
  GalleyDocument *doc = NULL;
  g_autofree char *fixed = repair_bytes (h, contents, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
  g_assert_null (strstr (fixed, "\xE0\xB9\x82"));
  gint64 restored = galley_document_get_repair (doc, "lossy-quote-restored")
                    + galley_document_get_repair (doc, "lossy-apostrophe-restored")
                    + galley_document_get_repair (doc, "lossy-dash-restored");
  g_assert_cmpint (restored, ==, 15);
  g_assert_nonnull (strstr (fixed, "“Today I discussed"));
  g_assert_nonnull (strstr (fixed, "Russian side,” Zelenskyy"));
  g_assert_nonnull (strstr (fixed, "Putin’s aide"));
  g_assert_nonnull (strstr (fixed, "concessions—not including"));
  g_assert_nonnull (strstr (fixed, "in 2014—would"));
  g_assert_nonnull (strstr (fixed, "“denazifying” Ukraine"));
  galley_document_free (doc);
}

static void
test_decoding (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  /* declared charset, and bytes that agree */
  GalleyDocument *doc = NULL;
  g_autofree char *cyr = repair_bytes (h, "\xcc\xe8\xed\xe8\xf1\xf2\xf0 \xee\xe1\xee\xf0\xee\xed\xfb", -1,
                                       "windows-1251", GALLEY_CONTENT_TEXT, &doc);
  g_assert_cmpstr (cyr, ==, "Министр обороны");
  g_assert_cmpstr (galley_document_get_encoding (doc), ==, "windows-1251");
  g_assert_cmpint (galley_document_get_repair (doc, "decoded:windows-1251"), ==, 1);
  galley_document_free (doc);
  /* a BOM */
  g_autofree char *bom = repair_bytes (h, "\xff\xfeH\0i\0", 6, NULL, GALLEY_CONTENT_TEXT, NULL);
  g_assert_cmpstr (bom, ==, "Hi");
  /* UTF-16 without a BOM */
  g_autofree char *u16 = repair_bytes (h, "T\0a\0l\0k\0s\0 \0i\0n\0 \0K\0y\0i\0v\0", 26, NULL, GALLEY_CONTENT_TEXT, NULL);
  g_assert_cmpstr (u16, ==, "Talks in Kyiv");
  /* declared UTF-8 but really cp1251: the declaration loses */
  g_autofree char *wrong = repair_bytes (h, "\xcf\xf0\xe5\xe7\xe8\xe4\xe5\xed\xf2 \xe7\xe0\xff\xe2\xe8\xeb", -1,
                                         "utf-8", GALLEY_CONTENT_TEXT, &doc);
  g_assert_true (g_utf8_validate (wrong, -1, NULL));
  g_assert_cmpint (galley_document_get_repair (doc, "declared-charset-wrong"), ==, 1);
  galley_document_free (doc);
  /* an unknown charset name is counted and detection takes over */
  g_autofree char *unknown = repair_bytes (h, "caf\xe9", -1, "x-no-such-charset", GALLEY_CONTENT_TEXT, &doc);
  g_assert_true (g_utf8_validate (unknown, -1, NULL));
  g_assert_cmpint (galley_document_get_repair (doc, "unknown-charset"), ==, 1);
  galley_document_free (doc);
  /* the XML declaration */
  g_autofree char *xml = repair_bytes (h, "<?xml version=\"1.0\" encoding=\"iso-8859-2\"?><p>Kraj\xf3w \xb1</p>", -1,
                                       NULL, GALLEY_CONTENT_HTML, NULL);
  g_assert_nonnull (strstr (xml, "Krajów ą"));
  /* UTF-8 with one stray byte stays UTF-8: the byte becomes U+FFFD */
  g_autofree char *stray = repair_bytes (h, "“Zürich” \x9d and “Genève”", -1, NULL, GALLEY_CONTENT_TEXT, &doc);
  g_assert_cmpstr (stray, ==, "“Zürich” \xef\xbf\xbd and “Genève”");
  g_assert_cmpstr (galley_document_get_encoding (doc), ==, "utf-8");
  g_assert_cmpint (galley_document_get_repair (doc, "invalid-bytes"), ==, 1);
  galley_document_free (doc);
  /* valid UTF-8 starting with U+F8FF is not a BOM */
  g_autofree char *pua = repair_bytes (h, "\xef\xa3\xbf ok", -1, NULL, GALLEY_CONTENT_TEXT, &doc);
  g_assert_cmpstr (galley_document_get_encoding (doc), ==, "utf-8");
  galley_document_free (doc);
  /* <meta charset> in an HTML page */
  g_autofree char *html = repair_bytes (h, "<html><head><meta charset=\"iso-8859-1\"></head><body>Z\xfcrich</body></html>", -1,
                                        NULL, GALLEY_CONTENT_HTML, NULL);
  g_assert_nonnull (strstr (html, "Zürich"));
}

static void
test_bad_bytes (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  GalleyDocument *doc = NULL;
  /* empty */
  g_autofree char *empty = repair_bytes (h, "", 0, NULL, GALLEY_CONTENT_TEXT, NULL);
  g_assert_cmpstr (empty, ==, "");
  /* only invalid bytes: become U+FFFD, counted, never dropped */
  g_autofree char *junk = repair_bytes (h, "\xff\xfe\xff", 3, "utf-8", GALLEY_CONTENT_TEXT, &doc);
  g_assert_true (g_utf8_validate (junk, -1, NULL));
  galley_document_free (doc);
  /* NUL bytes */
  g_autofree char *nul = repair_bytes (h, "a\0b", 3, NULL, GALLEY_CONTENT_TEXT, &doc);
  g_assert_cmpstr (nul, ==, "a\xef\xbf\xbd" "b");
  galley_document_free (doc);
  /* a multi-byte sequence cut at the end */
  g_autofree char *cut = repair_bytes (h, "Zelensk\xc3", 8, NULL, GALLEY_CONTENT_TEXT, &doc);
  g_assert_true (g_str_has_prefix (cut, "Zelensk"));
  g_assert_true (g_utf8_validate (cut, -1, NULL));
  galley_document_free (doc);
  /* a lead byte past U+10FFFF among legacy bytes, declared UTF-8: the
   * stage's own text is valid (nothing left for the core to replace), and
   * a second run changes nothing */
  static const char past[] = "\xef\xbb\xbfOl\xc3\x83\xc2\xa1 \xa0\xf7\xa0\xa0\xa0\xa0 d\xc2\x92" "a";
  g_autofree char *once = repair_bytes (h, past, sizeof past - 1, "utf-8", GALLEY_CONTENT_HTML, &doc);
  g_assert_cmpint (galley_document_get_repair (doc, "invalid-utf8"), ==, 0);
  g_assert_cmpint (galley_document_get_repair (doc, "invalid-bytes"), >, 0);
  galley_document_free (doc);
  g_autofree char *twice = repair_bytes (h, once, -1, NULL, GALLEY_CONTENT_HTML, NULL);
  g_assert_cmpstr (once, ==, twice);
}

static void
test_html_entities_plain_text_only (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *deep = repair_bytes (h, "x &amp;amp;amp;lt; y", -1, NULL, GALLEY_CONTENT_TEXT, NULL);
  g_assert_cmpstr (deep, ==, "x < y");
  /* a stray BOM inside a reference: removed, then the reference decoded */
  g_autofree char *joined = repair_bytes (h, "R&amp;D &\xef\xbb\xbf" "amp; more", -1, NULL, GALLEY_CONTENT_TEXT, NULL);
  g_assert_cmpstr (joined, ==, "R&D & more");
  const char *in = "Ben &amp; Jerry&#8217;s caf&eacute; said &amp;quot;no&amp;quot;.";
  g_autofree char *text = repair_bytes (h, in, -1, NULL, GALLEY_CONTENT_TEXT, NULL);
  g_assert_cmpstr (text, ==, "Ben & Jerry’s café said \"no\".");
  g_autofree char *html = repair_bytes (h, in, -1, NULL, GALLEY_CONTENT_HTML, NULL);
  g_assert_cmpstr (html, ==, in);
  /* Greek named references among literal Greek letters */
  g_autofree char *greek = repair_text (h, "&laquo;\xce\x95\xce\xb9&rho;\xce\xb7&nu;\xce\xb5&upsilon;&tau;"
                                           "&iota;&kappa;\xce\xad&sigmaf;&raquo; &Omicron;&Chi;&Iota;");
  g_assert_cmpstr (greek, ==, "\xc2\xab\xce\x95\xce\xb9\xcf\x81\xce\xb7\xce\xbd\xce\xb5\xcf\x85\xcf\x84"
                              "\xce\xb9\xce\xba\xce\xad\xcf\x82\xc2\xbb \xce\x9f\xce\xa7\xce\x99");
}

static void
test_normalisation_options (void)
{
  g_autoptr(GalleyHarness) def = harness (NULL);
  g_autofree char *a = repair_text (def, "line one\r\nline\xe2\x80\x8b two \xef\xac\x81nal e\xcc\x81t\xc3\xa9\xc2\xa0ok");
  g_assert_cmpstr (a, ==, "line one\nline two final été\xc2\xa0ok");
  g_autoptr(GalleyHarness) opt = harness ("quotes=straight", "spaces=ascii", "controls=true", "nfc=false", NULL);
  g_autofree char *b = repair_text (opt, "“a”\xc2\xa0‘b’\x01\tc e\xcc\x81");
  g_assert_cmpstr (b, ==, "\"a\" 'b'\tc e\xcc\x81");
}

static void
test_idempotent (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (mojibake_cases); i++)
    {
      g_autofree char *broken = garble (mojibake_cases[i].text, mojibake_cases[i].charset);
      g_autofree char *once = repair_text (h, broken);
      g_autofree char *twice = repair_text (h, once);
      g_assert_cmpstr (once, ==, twice);
    }
  for (guint i = 0; i < G_N_ELEMENTS (clean_texts); i++)
    {
      g_autofree char *once = repair_text (h, clean_texts[i]);
      g_autofree char *twice = repair_text (h, once);
      g_assert_cmpstr (once, ==, twice);
    }
}

static void
test_dry_run_reports_only (void)
{
  g_autoptr(GalleyHarness) h = harness ("dry-run=true", NULL);
  g_autofree char *broken = garble ("Le député a présenté le rapport.", "WINDOWS-1252");
  GalleyDocument *doc = NULL;
  g_autofree char *out = repair_bytes (h, broken, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
  g_assert_cmpstr (out, ==, broken);
  g_assert_cmpint (galley_document_get_repair (doc, "mojibake:utf8-as-cp1252"), >, 0);
  galley_document_free (doc);
}

static void
test_bad_option (void)
{
  const char *opts[] = { "fallback-charset=no-such-charset", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GalleyHarness) h = galley_harness_new ("repair", opts, &error);
  g_assert_null (h);
  g_assert_error (error, GALLEY_CONFIG_ERROR, GALLEY_CONFIG_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "fallback-charset"));
}

static void
test_long_line (void)
{
  /* one line of mostly clean text with mojibake at both ends: 20 MB, or
   * 100 MB in the slow suite */
  g_autoptr(GalleyHarness) h = harness (NULL);
  GString *in = g_string_new ("caf\xc3\x83\xc2\xa9 ");
  gsize size = g_test_slow () ? 100u << 20 : 20u << 20;
  while (in->len < size)
    g_string_append (in, "plain words in a very long line ");
  g_string_append (in, "caf\xc3\x83\xc2\xa9");
  g_autofree char *out = repair_text (h, in->str);
  g_assert_true (g_str_has_prefix (out, "café plain"));
  g_assert_true (g_str_has_suffix (out, "line café"));
  g_string_free (in, TRUE);
}

/* Garbles UTF-8 through @charset as a lossy decoder does: a byte the
 * charset leaves undefined becomes U+FFFD (@drop FALSE) or is lost. */
static char *
garble_lossy (const char *utf8, const char *charset, gboolean drop)
{
  GString *out = g_string_new (NULL);
  for (const guchar *p = (const guchar *) utf8; *p; p++)
    {
      char byte = (char) *p;
      g_autofree char *one = g_convert (&byte, 1, "UTF-8", charset, NULL, NULL, NULL);
      if (one != NULL && *one != '\0')
        g_string_append (out, one);
      else if (!drop)
        g_string_append (out, "\xEF\xBF\xBD");
    }
  return g_string_free (out, FALSE);
}

static gint64
repair_count (GalleyDocument *doc, const char *kind)
{
  return galley_document_get_repair (doc, kind);
}

/* The byte cp1252 does not define, lost or replaced: the closing quote
 * (E2 80 9D) and the Polish Ł (C5 81) come back from their context. */
static void
test_lost_byte_restored (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char *const lines[] = {
    "He said \xe2\x80\x9cno changes\xe2\x80\x9d to the plan, and the talks ended.",
    "Reporting by \xc5\x81ukasz W\xc4\x85sik in \xc5\x81\xc3\xb3\x64\xc5\xba and Krak\xc3\xb3w.",
    "\xe2\x80\x9cWe are ready,\xe2\x80\x9d she said.",
    /* с and я lost at the end of a word, before a space: a Cyrillic
     * word, not an à whose no-break space became a space */
    "Переговори відбудуться в середу, заявив міністр.",
    "Они договорились встретиться снова.",
  };
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    for (int drop = 0; drop <= 1; drop++)
      {
        g_autofree char *bad = garble_lossy (lines[i], "WINDOWS-1252", drop);
        g_assert_cmpstr (bad, !=, lines[i]);
        GalleyDocument *doc = NULL;
        g_autofree char *out = repair_bytes (h, bad, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
        g_assert_cmpstr (out, ==, lines[i]);
        g_assert_cmpint (repair_count (doc, "lost-bytes-restored"), >=, 1);
        galley_document_free (doc);
      }
}

/* „ is E2 80 9E: cp1254 leaves 9E undefined, cp1252 does not, and both
 * read the rest of the line alike; the page whose losses explain the
 * U+FFFD is the one that restores it. */
static void
test_lost_byte_other_page (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char *const lines[] = {
    "„Wir werden die Grenzwerte nicht lockern“, sagte die Umweltministerin.",
    "„Nie zgodzimy się na takie warunki” – powiedział przewodniczący związku.",
  };
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autofree char *bad = garble_lossy (lines[i], "WINDOWS-1254", FALSE);
      g_assert_nonnull (strstr (bad, "\xef\xbf\xbd"));
      GalleyDocument *doc = NULL;
      g_autofree char *out = repair_bytes (h, bad, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
      g_assert_cmpstr (out, ==, lines[i]);
      g_assert_cmpint (repair_count (doc, "lost-bytes-undecided"), ==, 0);
      galley_document_free (doc);
    }
}

/* с, я and э all lost their last byte in cp1252. Inside a word the
 * letter model tells them apart (заявил, not засвил or заэвил); a word
 * of one letter, я or с, nothing does: U+FFFD stays and is counted,
 * never a guess. */
static void
test_lost_byte_tie_kept (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *line = "\xd0\x9e\xd0\xbd \xd0\xb7\xd0\xb0\xd1\x8f\xd0\xb2\xd0\xb8\xd0\xbb: \xd0\xbd\xd0\xb5\xd1\x82.";
  for (int drop = 0; drop <= 1; drop++)
    {
      g_autofree char *bad = garble_lossy (line, "WINDOWS-1252", drop);
      GalleyDocument *doc = NULL;
      g_autofree char *out = repair_bytes (h, bad, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
      g_assert_cmpstr (out, ==, line);
      g_assert_cmpint (repair_count (doc, "lost-bytes-restored"), ==, 1);
      g_assert_cmpint (repair_count (doc, "lost-bytes-undecided"), ==, 0);
      galley_document_free (doc);
    }
  /* "Это я." and "она сказала, что я приду.": я or с */
  static const char *const ties[][2] = {
    { "Это я.", "Это \xef\xbf\xbd." },
    { "Она сказала, что я приду.", "Она сказала, что \xef\xbf\xbd приду." },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ties); i++)
    {
      g_autofree char *bad = garble_lossy (ties[i][0], "WINDOWS-1252", FALSE);
      GalleyDocument *doc = NULL;
      g_autofree char *out = repair_bytes (h, bad, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
      g_assert_cmpstr (out, ==, ties[i][1]);
      g_assert_cmpint (repair_count (doc, "lost-bytes-undecided"), ==, 1);
      galley_document_free (doc);
    }
  /* with too little of the line garbled to be sure, no U+FFFD is made */
  g_autofree char *short_bad = garble_lossy ("\xd0\xbe\xd1\x81\xd0\xb0", "WINDOWS-1252", TRUE);
  g_autofree char *kept = repair_text (h, short_bad);
  g_assert_null (strstr (kept, "\xef\xbf\xbd"));
}

/* Whole lines garbled by one code page read back whole, in every script
 * of the line, and never into characters of a script the line does not
 * use. */
static void
test_whole_line_never_worse (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const struct { const char *charset; const char *line; } cases[] = {
    { "MACINTOSH", "\xd0\x9f\xd0\xb5\xd1\x80\xd0\xb5\xd0\xb3\xd0\xbe\xd0\xb2\xd0\xbe\xd1\x80\xd1\x8b \xd0\xb2 "
                   "\xd0\xa1\xd1\x82\xd0\xb0\xd0\xbc\xd0\xb1\xd1\x83\xd0\xbb\xd0\xb5 \xe2\x80\x94 \xe2\x80\x9cnothing\xe2\x80\x9d." },
    { "WINDOWS-1250", "Talks at T\xc3\xbcrkiye\xe2\x80\x99s palace with J\xc3\xbcrgen M\xc3\xbcller." },
    { "ISO-8859-2", "M\xc3\xa1m dost t\xc5\x99" "et\xc3\xadho tis\xc3\xad" "cilet\xc3\xad" },
    { "WINDOWS-1253", "\xce\x95\xce\xb9\xcf\x81\xce\xb7\xce\xbd\xce\xb5\xcf\x85\xcf\x84\xce\xb9\xce\xba\xce\xad\xcf\x82 "
                      "\xcf\x83\xcf\x85\xce\xbd\xce\xbf\xce\xbc\xce\xb9\xce\xbb\xce\xaf\xce\xb5\xcf\x82" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *bad = garble (cases[i].line, cases[i].charset);
      g_autofree char *out = repair_text (h, bad);
      for (const char *p = out; *p; p = g_utf8_next_char (p))
        g_assert_cmpint (g_unichar_get_script (g_utf8_get_char (p)), !=, G_UNICODE_SCRIPT_HAN);
      if (strcmp (cases[i].charset, "WINDOWS-1253") != 0)
        g_assert_cmpstr (out, ==, cases[i].line);
    }
}

/* Input that must come back as it was, or repaired without harm. */
static void
test_lossy_bad_input (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  /* nothing but U+FFFD */
  GString *fffd = g_string_new (NULL);
  for (int i = 0; i < 500; i++)
    g_string_append (fffd, i % 50 == 49 ? "\n" : "\xef\xbf\xbd");
  g_autofree char *out = repair_text (h, fffd->str);
  g_assert_cmpstr (out, ==, fffd->str);
  g_string_free (fffd, TRUE);
  /* U+FFFD inside genuine Thai, Chinese and Arabic text stays */
  static const char *const genuine[] = {
    "\xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xef\xbf\xbd\xe0\xb8\x94\xe0\xb8\xb5 \xe0\xb8\x84\xe0\xb8\xa3\xe0\xb8\xb1\xe0\xb8\x9a",
    "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbf\xbd\xe4\xb8\x96\xe7\x95\x8c",
    "\xd9\x85\xd8\xb1\xd8\xad\xef\xbf\xbd\xd8\xa8\xd8\xa7",
  };
  for (guint i = 0; i < G_N_ELEMENTS (genuine); i++)
    {
      g_autofree char *kept = repair_text (h, genuine[i]);
      g_assert_cmpstr (kept, ==, genuine[i]);
    }
  /* a garbled sequence cut at the end of the text */
  g_autofree char *cut = repair_text (h, "The talks ended.\xc3\xa2\xe2\x82\xac");
  g_assert_cmpstr (cut, ==, "The talks ended.\xe2\x80\x9d");
  g_autofree char *lead = repair_text (h, "The talks ended \xc3\x83");
  g_assert_cmpstr (lead, ==, "The talks ended \xc3\x83");
  /* scripts alternating every word, clean: unchanged */
  const char *mixed = "news \xd0\xbd\xd0\xbe\xd0\xb2\xd0\xbe\xd1\x81\xd1\x82\xd0\xb8 \xce\xbd\xce\xad\xce\xb1 "
                      "nouvelles \xd0\xbd\xd0\xbe\xd0\xb2\xd0\xb8\xd0\xbd\xd0\xb8 \xce\xb5\xce\xaf\xce\xb4\xce\xb7\xcf\x83\xce\xb7";
  g_autofree char *alt = repair_text (h, mixed);
  g_assert_cmpstr (alt, ==, mixed);
}

/* A line with one garbled character is read back when the rest of the
 * document shows the code page, even when that line comes first. */
static void
test_document_vouches_for_single_character (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *doc = "Talks resume Wednesday \xe2\x80\x93 Zelensky\n"
                    "\xe2\x80\x9cWe are ready,\xe2\x80\x9d he said on Monday \xe2\x80\x94 again.";
  g_autofree char *bad = garble (doc, "MACINTOSH");
  g_autofree char *out = repair_text (h, bad);
  g_assert_cmpstr (out, ==, doc);
  /* alone, the same title line is left to the word-by-word judgement */
  g_autofree char *title = garble ("Talks resume Wednesday \xe2\x80\x93 Zelensky", "MACINTOSH");
  g_autofree char *alone = repair_text (h, title);
  g_assert_true (g_utf8_validate (alone, -1, NULL));
}

/* Garbles @utf8 through @charset byte by byte: a byte the charset does
 * not define, or reads as a C1 control when @strip_c1, is replaced by
 * U+FFFD (@lost 1), dropped (@lost 2) or read as Latin-1 (@lost 0). */
static char *
garble_path (const char *utf8, const char *charset, int lost, gboolean strip_c1)
{
  GString *out = g_string_new (NULL);
  for (const guchar *p = (const guchar *) utf8; *p; p++)
    {
      char byte = (char) *p;
      g_autofree char *one = *p < 0x80 ? g_strndup (&byte, 1) : g_convert (&byte, 1, "UTF-8", charset, NULL, NULL, NULL);
      gboolean c1 = one != NULL && (guchar) one[0] == 0xC2 && (guchar) one[1] < 0xA0;
      if (one != NULL && *one != '\0' && !(strip_c1 && c1))
        g_string_append (out, one);
      else if (lost == 1)
        g_string_append (out, "\xEF\xBF\xBD");
      else if (lost == 0)
        g_string_append_unichar (out, *p);
    }
  return g_string_free (out, FALSE);
}

static gboolean
uses_script (const char *text, GUnicodeScript sc)
{
  for (const char *q = text; *q; q = g_utf8_next_char (q))
    if (g_unichar_get_script (g_utf8_get_char (q)) == sc)
      return TRUE;
  return FALSE;
}

/* TRUE when every character of @out is allowed, given the truth and the
 * damaged input: no control or invisible format character, and no script
 * that neither uses (a letter left as it came is not made worse). */
static gboolean
never_worse (const char *out, const char *truth, const char *input)
{
  for (const char *p = out; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      GUnicodeType t = g_unichar_type (c);
      if (c == 0xFFFD)
        continue;
      if (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT || t == G_UNICODE_PRIVATE_USE || t == G_UNICODE_UNASSIGNED)
        return c == '\n' || c == '\t';
      GUnicodeScript sc = g_unichar_get_script (c);
      if (sc == G_UNICODE_SCRIPT_COMMON || sc == G_UNICODE_SCRIPT_INHERITED || sc == G_UNICODE_SCRIPT_LATIN)
        continue;
      if (!uses_script (truth, sc) && !uses_script (input, sc))
        return FALSE;
    }
  return TRUE;
}

/* Every garbling path of news feeds, on sentences in nine languages: the
 * repair restores most lines exactly and never makes one worse. */
static void
test_every_path_never_worse (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char *const lines[] = {
    "\xe2\x80\x9cWe will not sign,\xe2\x80\x9d the minister\xe2\x80\x99s aide said \xe2\x80\x94 again.",
    "Die B\xc3\xbcrgermeisterin sagte: \xe2\x80\x9eWir schlie\xc3\x9f" "en die Br\xc3\xbc" "cke.\xe2\x80\x9c",
    "Le pr\xc3\xa9sident a d\xc3\xa9j\xc3\xa0 annonc\xc3\xa9 une r\xc3\xa9" "forme \xc2\xab tr\xc3\xa8s attendue \xc2\xbb.",
    "Pos\xc5\x82owie z \xc5\x81odzi g\xc5\x82osowali przeciw ustawie o \xc5\x9bmieciach.",
    "P\xc5\x99" "edseda vl\xc3\xa1" "dy \xc5\x99" "ekl, \xc5\xbe" "e da\xc5\x88" "e nezv\xc3\xbd\xc5\xa1\xc3\xad.",
    "Bakan İstanbul’da görüşmelerin sürdüğünü söyledi.",
    "\xd0\x9f\xd1\x80\xd0\xb5\xd0\xb7\xd0\xb8\xd0\xb4\xd0\xb5\xd0\xbd\xd1\x82 \xd0\xb7\xd0\xb0\xd1\x8f\xd0\xb2\xd0\xb8\xd0\xbb \xd0\xbe \xd0\xbf\xd0\xb5\xd1\x80\xd0\xb5\xd0\xb3\xd0\xbe\xd0\xb2\xd0\xbe\xd1\x80\xd0\xb0\xd1\x85.",
    "\xd0\x9c\xd1\x96\xd0\xbd\xd1\x96\xd1\x81\xd1\x82\xd1\x80 \xd1\x81\xd0\xba\xd0\xb0\xd0\xb7\xd0\xb0\xd0\xb2, \xd1\x89\xd0\xbe \xd1\x86\xd1\x96\xd0\xbd\xd0\xb8 \xd0\xb7\xd1\x80\xd0\xbe\xd1\x81\xd1\x82\xd1\x83\xd1\x82\xd1\x8c.",
    "\xce\x9f \xcf\x85\xcf\x80\xce\xbf\xcf\x85\xcf\x81\xce\xb3\xcf\x8c\xcf\x82 \xce\xb5\xce\xaf\xcf\x80\xce\xb5 \xcf\x8c\xcf\x84\xce\xb9 \xce\xbf\xce\xb9 \xcf\x83\xcf\x85\xce\xbd\xce\xbf\xce\xbc\xce\xb9\xce\xbb\xce\xaf\xce\xb5\xcf\x82 \xcf\x83\xcf\x85\xce\xbd\xce\xb5\xcf\x87\xce\xaf\xce\xb6\xce\xbf\xce\xbd\xcf\x84\xce\xb1\xce\xb9.",
    "Prices rose €1.2bn, or 3½% – the most since 2019…",
  };
  static const struct { const char *charset; int lost; gboolean strip_c1; gboolean twice; } paths[] = {
    { "WINDOWS-1252", 0, FALSE, FALSE }, { "WINDOWS-1252", 0, FALSE, TRUE }, { "ISO-8859-1", 0, FALSE, FALSE },
    { "WINDOWS-1250", 0, FALSE, FALSE }, { "WINDOWS-1251", 0, FALSE, FALSE }, { "WINDOWS-1254", 0, FALSE, FALSE },
    { "MACINTOSH", 0, FALSE, FALSE }, { "IBM437", 0, FALSE, FALSE }, { "WINDOWS-1252", 1, FALSE, FALSE },
    { "WINDOWS-1252", 2, FALSE, FALSE }, { "TIS-620", 2, TRUE, FALSE },
  };
  guint garbled = 0, exact = 0;
  for (guint k = 0; k < G_N_ELEMENTS (paths); k++)
    {
      GString *doc = g_string_new (NULL), *truth = g_string_new (NULL);
      g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
        {
          g_autofree char *bad = garble_path (lines[i], paths[k].charset, paths[k].lost, paths[k].strip_c1);
          if (paths[k].twice)
            {
              char *again = garble_path (bad, paths[k].charset, paths[k].lost, paths[k].strip_c1);
              g_free (bad);
              bad = again;
            }
          g_string_append_printf (doc, "%s%s", i > 0 ? "\n" : "", bad);
          g_ptr_array_add (inputs, g_strdup (bad));
          g_string_append_printf (truth, "%s%s", i > 0 ? "\n" : "", lines[i]);
        }
      g_autofree char *out = repair_text (h, doc->str);
      g_auto(GStrv) out_lines = g_strsplit (out, "\n", -1);
      g_assert_cmpuint (g_strv_length (out_lines), ==, G_N_ELEMENTS (lines));
      for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
        {
          if (!never_worse (out_lines[i], lines[i], g_ptr_array_index (inputs, i)))
            g_error ("%s path %u line %u made worse: %s", paths[k].charset, k, i, out_lines[i]);
          garbled++;
          exact += strcmp (out_lines[i], lines[i]) == 0;
        }
      g_string_free (doc, TRUE);
      g_string_free (truth, TRUE);
    }
  /* the lossy paths keep some U+FFFD and TIS-620 loses most of Greek and
   * Cyrillic, but most lines come back whole */
  g_test_message ("%u of %u lines restored exactly", exact, garbled);
  g_assert_cmpuint (exact * 10, >=, garbled * 7);
  /* and the clean lines, as they are */
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autofree char *same = repair_text (h, lines[i]);
      g_assert_cmpstr (same, ==, lines[i]);
    }
}

/* Letters whose UTF-8 continuation byte (80-9F) a TIS-620 decoder lost:
 * only the lead byte is left, as a Thai letter glued to the word, and the
 * letter is chosen from the word's letter statistics and the line. */
static void
test_lossy_thai_letters (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char *const lines[] = {
    "Mieszkańcy Łodzi głosowali przeciw ustawie.",
    "Władze Łodzi ogłosiły nowy plan.",
    "Le Conseil d’État a jugé jusqu’à minuit.",
    "Başbakan Ağrı'da öğrencilerle görüştü.",
    "Élodie Mercier a été élue à Besançon.",
    "Søren Østergaard bor i Ærøskøbing.",
    "Sterling traded at £0.87 and the euro at €1.17.",
  };
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autofree char *bad = garble_path (lines[i], "TIS-620", 2, TRUE);
      g_assert_cmpstr (bad, !=, lines[i]);
      GalleyDocument *doc = NULL;
      g_autofree char *out = repair_bytes (h, bad, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
      if (g_strcmp0 (out, lines[i]) != 0)
        g_error ("line %u: %s\n  expected %s\n  got      %s", i, bad, lines[i], out);
      galley_document_free (doc);
    }
  /* a Polish name alone on its line: "ลรณdลบ" is Łódź, not Ńódź or Śódź */
  g_autofree char *lodz = repair_text (h, "\xe0\xb8\xa5\xe0\xb8\xa3\xe0\xb8\x93" "d"
                                          "\xe0\xb8\xa5\xe0\xb8\x9a University");
  g_assert_cmpstr (lodz, ==, "\xc5\x81\xc3\xb3" "d\xc5\xba University");
}

/* A lone U+0E42 between two words: the hyphen of a compound (a word
 * that makes compounds, two names), a dash before the words that open
 * a clause; the non-breaking hyphen in text with narrow no-break spaces. */
static void
test_lossy_thai_two_word_compounds (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *out = repair_text (h, "a fullโscale war, prices steppedโup, the BidenโXi talks, "
                                         "concessionsโnot all of them, in 2014โwould");
  g_assert_cmpstr (out, ==, "a full‐scale war, prices stepped‐up, the Biden‐Xi talks, "
                            "concessions—not all of them, in 2014—would");
  /* "โฏ" is U+202F, a narrow no-break space that lost its middle byte */
  g_autofree char *nb = repair_text (h, "PresidentโฏSmith said a fullโscale war looms.");
  g_assert_cmpstr (nb, ==, "President\xe2\x80\xafSmith said a full\xe2\x80\x91scale war looms.");
}

/* The letter model keeps its answers in a cache per thread; a document
 * comes out the same in a thread that has repaired nothing yet as in one
 * that has repaired many (a context of four letters the model does not
 * know once read as an empty entry of the cache, free of cost, until
 * another context filled that entry). The bytes: Thai text and Latin
 * text that lost bytes to a TIS-620 decoder, from the fuzz corpus. */
static const char unknown_letters_doc[] =
    "Ur,de Hotel (\xe0\xb9\x82\xe0\xb8\xa3\xe0\xb8\x87\xe0\xb9\x81\xe0\xb8"
    "\xa3\xe0\xb8\xa1\xe0\xb8\xa3\xe0\xb8\xb4\xe0\xb8\xa1\xe0\xb8\x99\xe0\xb9"
    "\x89\xe0\xb8ic\x0a\x0aTal tofoessara, don\xc2\x92t\x0a\x81\x22i People"
    "\xe0\xb9\x82s Fro\xfe\xff@\xacO}}l\xc3\x8e\xffnt agreed on \xff\xff\xffO"
    "\xff\xc8\xe0Wednesday to perde\x86\x86\x86\x86\x86\x86\x86\x86\xe1";

static gpointer
repair_in_thread (gpointer data)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  return repair_bytes (h, data, sizeof unknown_letters_doc - 1, NULL, GALLEY_CONTENT_TEXT, NULL);
}

static void
test_lossy_same_in_any_thread (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  /* this thread repairs lines of many letters first (the letters s, r,
   * a, d in a row share their entry of the cache with four unknown ones) */
  static const char *const lines[] = {
    "Wczoraj śsradek i środa, a ściana stała.",
    "Η κυβέρνηση ανακοίνωσε νέα μέτρα για την οικονομία και την ενέργεια.",
    "Переговори відбудуться в середу, заявив міністр закордонних справ.",
    "Mieszkańcy Łodzi głosowali przeciw ustawie o podatkach.",
  };
  for (int round = 0; round < 50; round++)
    for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
      {
        g_autofree char *bad = garble_path (lines[i], "TIS-620", 2, TRUE);
        g_autofree char *out = repair_text (h, bad);
        g_assert_true (g_utf8_validate (out, -1, NULL));
      }
  g_autofree char *here = repair_bytes (h, unknown_letters_doc, sizeof unknown_letters_doc - 1, NULL,
                                        GALLEY_CONTENT_TEXT, NULL);
  GThread *thread = g_thread_new ("fresh", repair_in_thread, (gpointer) unknown_letters_doc);
  g_autofree char *fresh = g_thread_join (thread);
  g_assert_cmpstr (fresh, ==, here);
  /* and the document again in this thread */
  g_autofree char *again = repair_bytes (h, unknown_letters_doc, sizeof unknown_letters_doc - 1, NULL,
                                         GALLEY_CONTENT_TEXT, NULL);
  g_assert_cmpstr (again, ==, here);
}

/* Runs of thousands of Thai letters that could each be a letter that
 * lost a byte: no word for the letter model, judged on their points
 * alone (the model's search over such a run took minutes), and a second
 * run changes nothing. */
static void
test_lossy_thai_long_runs (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  GString *in = g_string_new (NULL);
  for (int i = 0; i < 5000; i++)
    g_string_append (in, "\xe0\xb8\xb0");   /* ะ, D0 in TIS-620 */
  g_string_append_c (in, ' ');
  for (int i = 0; i < 3000; i++)
    g_string_append (in, "\xe0\xb8\xa5x");   /* ลx: C5 and a Latin letter */
  g_string_append_c (in, '\n');
  for (int i = 0; i < 4000; i++)
    g_string_append (in, "\xe0\xb8\xae\xe0\xb8\xaf");   /* ฮฯ: CE CF */
  g_autofree char *text = g_string_free (in, FALSE);
  g_autofree char *once = repair_text (h, text);
  g_assert_true (g_utf8_validate (once, -1, NULL));
  g_autofree char *twice = repair_text (h, once);
  g_assert_cmpstr (twice, ==, once);
}

/* A whole line read back whose words are long: a token of more than 256
 * bytes around a lost quote byte (the line's penalty before and after
 * is weighed token by token), with and without the lost byte. */
static void
test_whole_line_long_word (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  GString *line = g_string_new ("He said \xe2\x80\x9c");
  for (int i = 0; i < 60; i++)
    g_string_append (line, "\xc3\xa9t\xc3\xa9");   /* été */
  g_string_append (line, "\xe2\x80\x9d and left for Cr\xc3\xa9teil.");
  for (int drop = 0; drop <= 1; drop++)
    {
      g_autofree char *bad = garble_lossy (line->str, "WINDOWS-1252", drop);
      g_assert_cmpstr (bad, !=, line->str);
      GalleyDocument *doc = NULL;
      g_autofree char *out = repair_bytes (h, bad, -1, NULL, GALLEY_CONTENT_TEXT, &doc);
      g_assert_cmpstr (out, ==, line->str);
      g_assert_cmpint (repair_count (doc, "lost-bytes-restored"), ==, 1);
      galley_document_free (doc);
    }
  /* the same long word intact, next to one garbled character: the line
   * reads back as one whole character only, and is weighed */
  g_autofree char *tail = garble ("\xe2\x80\x99s", "WINDOWS-1252");   /* ’s */
  g_autofree char *bad = g_strconcat ("The minister", tail, " word: ", line->str + strlen ("He said "), NULL);
  g_autofree char *want = g_strconcat ("The minister\xe2\x80\x99s word: ", line->str + strlen ("He said "), NULL);
  g_autofree char *out = repair_text (h, bad);
  g_assert_cmpstr (out, ==, want);
  g_string_free (line, TRUE);
}

/* Characters of four UTF-8 bytes read back whole (emoji), and a line
 * of nine scripts, each in a word of its own, which comes back whole:
 * a script that repeats is no stray reading, however many the line has. */
static void
test_whole_line_emoji_and_scripts (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  static const char *const lines[] = {
    "Great news \xf0\x9f\x98\x80 for all of us \xf0\x9f\x8e\x89 and \xf0\x9f\x87\xab\xf0\x9f\x87\xb7 too.",
    "Words: \xce\xbb\xcf\x8c\xce\xb3\xce\xbf\xcf\x82 \xd1\x81\xd0\xbb\xd0\xbe\xd0\xb2\xd0\xbe "
    "\xd7\x9e\xd7\x99\xd7\x9c\xd7\x94 \xd9\x83\xd9\x84\xd9\x85\xd8\xa9 "
    "\xe0\xa4\xb6\xe0\xa4\xac\xe0\xa5\x8d\xe0\xa4\xa6 \xe0\xb8\x84\xe0\xb8\xb3 "
    "\xe1\x83\xa1\xe1\x83\x98\xe1\x83\xa2\xe1\x83\xa7\xe1\x83\x95\xe1\x83\x90 "
    "\xd5\xa2\xd5\xa1\xd5\xbc \xeb\x8b\xa8\xec\x96\xb4 \xe2\x80\x94 in nine scripts.",
  };
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autofree char *bad = garble (lines[i], "WINDOWS-1252");
      g_assert_cmpstr (bad, !=, lines[i]);
      g_autofree char *out = repair_text (h, bad);
      if (g_strcmp0 (out, lines[i]) != 0)
        g_error ("line %u: %s\n  expected %s\n  got      %s", i, bad, lines[i], out);
    }
}

/* 10 MB of one garbled line: read back whole, in bounded time. */
static void
test_long_garbled_line (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  const char *word = "caf\xc3\xa9 \xe2\x80\x9cna\xc3\xafve\xe2\x80\x9d ";
  g_autofree char *bad_word = garble (word, "WINDOWS-1252");
  GString *in = g_string_new (NULL), *want = g_string_new (NULL);
  while (in->len < (10u << 20))
    {
      g_string_append (in, bad_word);
      g_string_append (want, word);
    }
  g_autofree char *out = repair_text (h, in->str);
  g_assert_cmpstr (out, ==, want->str);
  g_string_free (in, TRUE);
  g_string_free (want, TRUE);
}

/* NFC on a long page with a few decomposed letters, jamo and variation
 * selectors far apart, at its start and at its end: the result is NFC of
 * the whole text, and only those places change. */
static void
test_nfc_in_place (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  GString *page = g_string_new ("e\xcc\x81t\xc3\xa9 ");   /* e + U+0301 at the very start */
  for (int i = 0; i < 400; i++)
    {
      g_string_append (page, "Plain line of a page with caf\xc3\xa9 and \xe2\x80\x9cquotes\xe2\x80\x9d.\n");
      if (i % 97 == 5)
        g_string_append (page, "Cafe\xcc\x81 au lait, A\xcc\x8a and o\xcc\x88\xcc\xa3 (two marks out of order).\n");
      if (i % 131 == 7)
        g_string_append (page, "Hangul \xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab\xe1\x84\x80\xe1\x85\xb3\xe1\x86\xaf, "
                               "a heart \xe2\x9d\xa4\xef\xb8\x8f, Greek \xce\xb1\xcc\x81\xce\xb9\xcd\x82.\n");
    }
  g_string_append (page, "Last word: nai\xcc\x88ve");   /* a mark at the very end */
  g_autofree char *expected = g_utf8_normalize (page->str, page->len, G_NORMALIZE_NFC);
  g_assert_nonnull (expected);
  g_assert_cmpstr (expected, !=, page->str);
  g_autofree char *got = repair_text (h, page->str);
  g_assert_cmpstr (got, ==, expected);
  g_assert_true (g_str_has_prefix (got, "\xc3\xa9t\xc3\xa9 "));
  g_assert_true (g_str_has_suffix (got, "na\xc3\xafve"));
  g_assert_nonnull (strstr (got, "\xed\x95\x9c\xea\xb8\x80"));   /* the jamo composed */
  g_string_free (page, TRUE);
}

/* A line whose reading puts back the bytes of a character nothing
 * decides grows as it is judged (tests/data/repair/undecided-restored.bin,
 * from the fuzzer: ASan and valgrind read past the old reading). The
 * result is valid UTF-8 and a second repair leaves it as it is. */
static void
test_undecided_restored_grows (void)
{
  g_autoptr(GalleyHarness) h = harness (NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "repair", "undecided-restored.bin", NULL);
  g_autofree char *raw = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true (g_file_get_contents (path, &raw, &len, &error));
  g_autofree char *once = repair_bytes (h, raw, (gssize) len, "utf-8", GALLEY_CONTENT_HTML, NULL);
  g_autofree char *twice = repair_bytes (h, once, -1, NULL, GALLEY_CONTENT_HTML, NULL);
  g_assert_cmpstr (once, ==, twice);
  g_assert_nonnull (strstr (once, "breaks ground"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (mojibake_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/repair/mojibake/%s", mojibake_cases[i].name);
      g_test_add_data_func (path, &mojibake_cases[i], test_mojibake);
    }
  g_test_add_func ("/repair/double-encoding", test_double_encoding);
  g_test_add_func ("/repair/whole-line/long-word", test_whole_line_long_word);
  g_test_add_func ("/repair/whole-line/emoji-and-scripts", test_whole_line_emoji_and_scripts);
  g_test_add_func ("/repair/nfc-in-place", test_nfc_in_place);
  g_test_add_func ("/repair/undecided-restored-grows", test_undecided_restored_grows);
  g_test_add_func ("/repair/mixed-per-span", test_mixed_document_per_span);
  g_test_add_func ("/repair/broken-clusters-left", test_broken_clusters_left);
  g_test_add_func ("/repair/intact-witness", test_intact_witness);
  g_test_add_func ("/repair/nbsp-middle-byte", test_nbsp_middle_byte);
  g_test_add_func ("/repair/c1-mac-roman", test_c1_mac_roman);
  g_test_add_func ("/repair/capital-a-circumflex", test_capital_a_circumflex_and_inverted_marks);
  g_test_add_func ("/repair/clean-untouched", test_clean_text_untouched);
  g_test_add_func ("/repair/lossy-thai", test_lossy_thai);
  g_test_add_func ("/repair/lossy-thai/compounds", test_lossy_thai_compounds);
  g_test_add_func ("/repair/lossy-thai/two-word-compounds", test_lossy_thai_two_word_compounds);
  g_test_add_func ("/repair/lossy-thai/letters", test_lossy_thai_letters);
  g_test_add_func ("/repair/lossy-thai/long-runs", test_lossy_thai_long_runs);
  g_test_add_func ("/repair/lossy/same-in-any-thread", test_lossy_same_in_any_thread);
  g_test_add_func ("/repair/seed-001", test_seed_001);
  g_test_add_func ("/repair/decoding", test_decoding);
  g_test_add_func ("/repair/bad-bytes", test_bad_bytes);
  g_test_add_func ("/repair/html-entities", test_html_entities_plain_text_only);
  g_test_add_func ("/repair/normalisation", test_normalisation_options);
  g_test_add_func ("/repair/idempotent", test_idempotent);
  g_test_add_func ("/repair/dry-run", test_dry_run_reports_only);
  g_test_add_func ("/repair/bad-option", test_bad_option);
  g_test_add_func ("/repair/long-line", test_long_line);
  g_test_add_func ("/repair/lost-byte/restored", test_lost_byte_restored);
  g_test_add_func ("/repair/lost-byte/tie-kept", test_lost_byte_tie_kept);
  g_test_add_func ("/repair/lost-byte/other-page", test_lost_byte_other_page);
  g_test_add_func ("/repair/whole-line/never-worse", test_whole_line_never_worse);
  g_test_add_func ("/repair/every-path-never-worse", test_every_path_never_worse);
  g_test_add_func ("/repair/lost-byte/bad-input", test_lossy_bad_input);
  g_test_add_func ("/repair/whole-line/long", test_long_garbled_line);
  g_test_add_func ("/repair/whole-line/document-vouches", test_document_vouches_for_single_character);
  return g_test_run ();
}
