/* strip-lang.c: stopword lists for the prose signals of the strip stage.
 *
 * Each list holds common function words of one language (articles,
 * pronouns, prepositions, conjunctions, auxiliaries), lower case. Running
 * text has many of them and menus, link lists and captions have few, which
 * is what the extractors measure. The sets are built once, on first use,
 * and only read afterwards, so lookups are thread-safe.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "strip.h"

#include <string.h>

const char *const strip_lang_codes[] = { "en", "de", "fr", "es", "it", "pt", "nl", "ru", "uk", "pl", NULL };

/* Words separated by single spaces, one string per language, in the
 * order of strip_lang_codes. */
static const char *const lang_words[] = {
  /* en */
  "a an the and or but if then so than that this these those there here of in on at to for "
  "from by with about into over after before under between through during without within "
  "is are was were be been being am has have had do does did will would shall should can "
  "could may might must not no nor as it its it's he she his her him they them their we us "
  "our you your i me my who whom whose which what when where why how all any both each "
  "more most other some such only own same too very just also up out off again further "
  "once because while until since yet said says one two new",
  /* de */
  "der die das den dem des ein eine einer eines einem einen und oder aber wenn dann als "
  "auch nicht kein keine ist sind war waren wird werden wurde wurden hat haben hatte "
  "hatten sein ich du er sie es wir ihr mit von zu zum zur im in am an auf aus bei nach "
  "für über unter vor durch gegen ohne um bis seit dass daß noch nur schon sehr so wie "
  "was wer wo sich man auch mehr dieser diese dieses diesem diesen jetzt hier dort ob "
  "doch denn mal sein seine ihre ihren unser kann können muss soll sollen will",
  /* fr */
  "le la les l un une des du de d et ou mais donc car ni que qui quoi dont où ce cet "
  "cette ces il elle ils elles on nous vous je tu se sa son ses leur leurs mon ma mes "
  "est sont était étaient été être a ont avait avoir fait faire dans sur sous avec sans "
  "pour par entre chez vers depuis pendant avant après plus moins très bien aussi tout "
  "tous toute toutes comme ne pas n y en au aux si même encore déjà selon lors qu s c",
  /* es */
  "el la los las lo un una unos unas y e o u pero sino ni que quien quienes cual cuales "
  "cuando donde como de del al a en con sin por para sobre entre hasta desde hacia "
  "contra según durante es son era eran fue fueron ser sido estar está están estaba ha "
  "han había hay se su sus le les me te nos os mi mis tu tus este esta estos estas ese "
  "esa esos esas muy más menos también ya no sí si porque aunque todo todos toda todas "
  "otro otra otros otras dijo",
  /* it */
  "il lo la i gli le un uno una e ed o ma se che chi cui non di del della dei delle "
  "degli dello da dal dalla in nel nella nei con su sul sulla per tra fra a al alla ai "
  "è sono era erano stato stata essere ha hanno aveva avere questo questa questi queste "
  "quello quella come anche più meno molto ancora già poi dopo prima quando dove perché "
  "suo sua suoi sue loro noi voi lui lei si ci ne tutto tutti",
  /* pt */
  "o a os as um uma uns umas e ou mas nem que quem qual quais quando onde como de do da "
  "dos das em no na nos nas ao aos à às por pelo pela pelos pelas para com sem sobre "
  "entre até desde contra durante é são era eram foi foram ser sido estar está estão "
  "estava tem têm tinha ter há se seu sua seus suas lhe lhes me te nos meu minha este "
  "esta estes estas esse essa isso isto aquele aquela muito mais menos também já não "
  "sim porque embora todo todos toda todas outro outra disse ele ela eles elas",
  /* nl */
  "de het een en of maar dan als dat die dit deze zijn is was waren wordt worden werd "
  "werden heeft hebben had hadden ik jij je hij zij ze wij we u hun haar zijn ons onze "
  "van in op aan met voor door over naar bij uit tot om onder tegen zonder tussen na "
  "niet geen ook nog al wel zo er hier daar wat wie waar hoe omdat want toen nu meer "
  "zeer veel kan kunnen moet moeten zal zullen",
  /* ru */
  "и в во не на что как а но или же ли бы по к ко с со у о об от до из за для при без "
  "над под про через между это этот эта эти этого этой того тот та те он она оно они "
  "его ее её их ему ей им мы вы я ты мне нас вас был была было были быть есть будет "
  "который которая которые которых также тоже уже еще ещё только даже очень так там "
  "тут где когда если чтобы потому все всё весь вся свой своих своей может можно нет",
  /* uk */
  "і й та в у на не що як а але або чи би б по до з із зі від для при без над під про "
  "через між це цей ця ці цього цієї того той та ті він вона воно вони його її їх йому "
  "їй ним ми ви я ти мені нас вас був була було були бути є буде який яка які яких "
  "також теж вже ще тільки лише навіть дуже так там тут де коли якщо щоб тому все всі "
  "весь вся свій своїх своєї може можна немає",
  /* pl */
  "i w we z ze na do od dla po o u za przez przy bez nad pod przed między oraz lub albo "
  "ale a że czy jak jest są był była było były być będzie nie tak też już jeszcze tylko "
  "bardzo to ten ta te tego tej tym jego jej ich go mu im się on ona ono oni my wy ja ty "
  "który która które których co gdzie kiedy jeśli aby więc także",
};

G_STATIC_ASSERT (G_N_ELEMENTS (lang_words) == G_N_ELEMENTS (strip_lang_codes) - 1);

#define N_LANGS (G_N_ELEMENTS (lang_words))

/* All words of all languages in one table: word -> bit mask of languages. */
static gpointer
lang_table_build (gpointer data)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < N_LANGS; i++)
    {
      g_auto(GStrv) words = g_strsplit (lang_words[i], " ", -1);
      for (guint j = 0; words[j] != NULL; j++)
        {
          if (words[j][0] == '\0')
            continue;
          guint mask = GPOINTER_TO_UINT (g_hash_table_lookup (table, words[j]));
          g_hash_table_insert (table, g_strdup (words[j]), GUINT_TO_POINTER (mask | (1u << i)));
        }
    }
  return table;
}

static GHashTable *
lang_get_table (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, lang_table_build, NULL);
  return once.retval;
}

static int
lang_index (const char *lang)
{
  if (lang == NULL)
    return -1;
  for (guint i = 0; i < N_LANGS; i++)
    if (strcmp (strip_lang_codes[i], lang) == 0)
      return (int) i;
  return -1;
}

/* The language mask of a lower-case word, 0 when it is no stopword. */
static guint
lang_word_mask (GHashTable *table, const char *word, gsize len)
{
  char buf[32];
  if (len == 0 || len >= sizeof buf)
    return 0;
  memcpy (buf, word, len);
  buf[len] = '\0';
  return GPOINTER_TO_UINT (g_hash_table_lookup (table, buf));
}

gboolean
strip_lang_is_stopword (const char *lang, const char *word, gsize len)
{
  g_return_val_if_fail (word != NULL || len == 0, FALSE);
  int idx = lang_index (lang);
  if (idx < 0)
    return FALSE;
  return (lang_word_mask (lang_get_table (), word, len) & (1u << idx)) != 0;
}

/* Lower-cases the word at @p (@len bytes) into @buf; FALSE when too long. */
static gboolean
lang_lower_word (const char *p, gsize len, char *buf, gsize size, gsize *out_len)
{
  gsize o = 0;
  const char *end = p + len;
  while (p < end)
    {
      gunichar c = g_utf8_get_char (p);
      p = g_utf8_next_char (p);
      if (o + 6 >= size)
        return FALSE;
      o += g_unichar_to_utf8 (g_unichar_tolower (c), buf + o);
    }
  *out_len = o;
  return TRUE;
}

const char *
strip_lang_guess (const char *text, gsize len)
{
  g_return_val_if_fail (text != NULL || len == 0, "en");
  GHashTable *table = lang_get_table ();
  guint hits[N_LANGS] = { 0 };
  guint words = 0;
  const char *p = text, *end = text + len;

  while (p < end && words < 3000)
    {
      /* skip to the next letter */
      while (p < end)
        {
          if ((guchar) *p < 0x80)
            {
              if (g_ascii_isalpha (*p))
                break;
              p++;
              continue;
            }
          const char *next = g_utf8_find_next_char (p, end);
          gunichar c = g_utf8_get_char_validated (p, next ? next - p : end - p);
          if (c < (gunichar) -2 && g_unichar_isalpha (c))
            break;
          p = next ? next : end;
        }
      const char *start = p;
      while (p < end)
        {
          if ((guchar) *p < 0x80)
            {
              if (!g_ascii_isalpha (*p) && *p != '\'')
                break;
              p++;
              continue;
            }
          const char *next = g_utf8_find_next_char (p, end);
          gunichar c = g_utf8_get_char_validated (p, next ? next - p : end - p);
          if (c >= (gunichar) -2 || !g_unichar_isalpha (c))
            break;
          p = next ? next : end;
        }
      if (p == start)
        continue;
      words++;
      char buf[32];
      gsize blen;
      if (!lang_lower_word (start, p - start, buf, sizeof buf, &blen))
        continue;
      guint mask = lang_word_mask (table, buf, blen);
      for (guint i = 0; mask != 0 && i < N_LANGS; i++)
        if (mask & (1u << i))
          hits[i]++;
    }

  guint best = 0;
  for (guint i = 1; i < N_LANGS; i++)
    if (hits[i] > hits[best])
      best = i;
  guint second_hits = 0;
  for (guint i = 0; i < N_LANGS; i++)
    if (i != best && hits[i] > second_hits)
      second_hits = hits[i];
  /* Sure only with a few hits and a lead over the runner-up. */
  if (hits[best] < 3 || hits[best] <= second_hits)
    return "en";
  return strip_lang_codes[best];
}
