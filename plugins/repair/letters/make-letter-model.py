#!/usr/bin/env python3
"""Builds the letter model of the repair stage: plugins/repair/repair-letters-data.c.

Usage: plugins/repair/letters/make-letter-model.py [--hunspell DIR] [--out FILE]

The model gives, for the lower-case letters of the Latin, Greek and
Cyrillic scripts, how likely a letter is after the one, two or three
before it inside a word (a word boundary counts as a symbol): pairs for
all letters, triples seen often enough, and four-letter sequences seen
often enough where they tell more than the triple. repair-lossy.c uses it to choose
what a letter that lost a byte was. It is counted from:

  - the word lists of the hunspell dictionaries Debian packages (every
    word form, the stems of each .dic file with the affixes of its .aff
    applied by unmunch; scripts/install-deps.sh installs the packages), only
    those whose licence allows shipping data derived from them with an
    LGPL-2.1-or-later library (see plugins/repair/letters/README.md);
  - own-text.txt beside this script, written for the project, for the
    languages no such dictionary covers.

Each language counts the same, whatever the size of its list. The output is
deterministic for the same inputs.

SPDX-License-Identifier: LGPL-2.1-or-later
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import unicodedata
from collections import Counter, defaultdict

# language -> dictionary file name (without .dic), all with a licence that
# allows it: LGPL-2.1 (uk, el, pl, pt, ro, da, sk), MPL-2.0 (tr, fr, hu)
DICTIONARIES = {
    "uk": "uk_UA",
    "el": "el_GR",
    "pl": "pl_PL",
    "tr": "tr_TR",
    "pt": "pt_PT",
    "ro": "ro_RO",
    "hu": "hu_HU",
    "fr": "fr",
    "da": "da_DK",
    "sk": "sk_SK",
}

BOUNDARY = 0
MAX_FORMS = 400000  # word forms taken per dictionary
MIN_TRIGRAM = 2.0  # weighted count below which a trigram is left to the bigram
MIN_QUADGRAM = 4.0  # the same for four letters
LAMBDA4 = 0.6
LAMBDA3, LAMBDA2, LAMBDA1 = 0.6, 0.3, 0.1
SCALE = 4  # stored as round(SCALE * log2 p), clamped to -127


def in_scripts(ch: str) -> bool:
    if not ch.isalpha():
        return False
    o = ord(ch)
    return o < 0x250 or 0x370 <= o < 0x400 or 0x400 <= o < 0x530


def dictionary_words(path: str) -> list[str]:
    """The word forms of a hunspell dictionary: its stems with their
    affixes applied (hunspell-tools' unmunch), at most MAX_FORMS of them
    taken evenly, so that inflected endings count, not only stems; and
    the stems themselves."""
    aff = path[:-4] + ".aff"
    encoding = "utf-8"
    with open(aff, "rb") as f:
        for raw in f:
            m = re.match(rb"SET\s+(\S+)", raw)
            if m:
                encoding = m.group(1).decode("ascii").lower().replace("iso8859", "iso-8859")
                break
    with open(path, "rb") as f:
        lines = f.read().decode(encoding, errors="replace").split("\n")
    stems = [re.split(r"[/\t ]", line.strip(), maxsplit=1)[0] for line in lines[1:]]
    stems = [w for w in stems if w]
    try:
        out = subprocess.run(["unmunch", path, aff], capture_output=True, check=True).stdout
    except OSError:
        raise SystemExit("make-letter-model: unmunch not found; run scripts/install-deps.sh as root (hunspell-tools)")
    except subprocess.CalledProcessError:
        out = b""   # unmunch cannot read every affix file (tr_TR): the stems alone
    forms = out.split(b"\n")
    step = max(1, len(forms) // MAX_FORMS)
    forms = [w.decode(encoding, errors="replace").strip() for w in forms[::step]]
    return stems + [w for w in forms if w]


def own_words(path: str):
    by_lang = defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or "\t" not in line:
                continue
            lang, text = line.rstrip("\n").split("\t", 1)
            by_lang[lang].extend(re.findall(r"\w+", text))
    return by_lang


def clean(word: str) -> str | None:
    word = unicodedata.normalize("NFC", word).lower()
    if not word or not all(in_scripts(c) for c in word):
        return None
    return word


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hunspell", default="/usr/share/hunspell")
    ap.add_argument("--out", default=os.path.join(here, "..", "repair-letters-data.c"))
    args = ap.parse_args()

    sources = {}
    for lang, name in DICTIONARIES.items():
        path = os.path.join(args.hunspell, name + ".dic")
        if not os.path.exists(path):
            raise SystemExit(f"make-letter-model: {path} not found; run scripts/install-deps.sh as root")
        sources[lang] = [w for w in (clean(x) for x in dictionary_words(path)) if w]
    for lang, words in own_words(os.path.join(here, "own-text.txt")).items():
        # own text is running text: every word counts, repeats included
        sources[lang + "-own"] = [w for w in (clean(x) for x in words) if w]

    uni, bi, tri, quad = Counter(), Counter(), Counter(), Counter()
    for lang in sorted(sources):
        words = sources[lang]
        total = sum(len(w) + 1 for w in words)
        weight = 1e6 / total
        for w in words:
            seq = [BOUNDARY, BOUNDARY, BOUNDARY] + [ord(c) for c in w] + [BOUNDARY]
            for i in range(3, len(seq)):
                z, a, b, c = seq[i - 3], seq[i - 2], seq[i - 1], seq[i]
                uni[c] += weight
                bi[(b, c)] += weight
                tri[(a, b, c)] += weight
                quad[(z, a, b, c)] += weight

    # the alphabet: letters seen often enough, the boundary first
    letters = sorted(c for c, n in uni.items() if c != BOUNDARY and n >= 5)
    symbols = [BOUNDARY] + letters
    index = {c: i for i, c in enumerate(symbols)}
    n_sym = len(symbols)
    total_uni = sum(uni[c] for c in symbols)
    ctx1 = Counter()
    for (b, c), n in bi.items():
        ctx1[b] += n
    ctx2 = Counter()
    for (a, b, c), n in tri.items():
        ctx2[(a, b)] += n

    def p_bigram(b, c):
        p1 = (uni[c] + 0.5) / (total_uni + 0.5 * n_sym)
        p2 = bi[(b, c)] / ctx1[b] if ctx1[b] > 0 else p1
        return (LAMBDA2 * p2 + LAMBDA1 * p1) / (LAMBDA2 + LAMBDA1)

    def q(p):
        return max(-127, min(0, round(SCALE * math.log2(p))))

    bigram = [[q(p_bigram(b, c)) for c in symbols] for b in symbols]
    trigrams = []
    for (a, b, c), n in tri.items():
        if n < MIN_TRIGRAM or a not in index or b not in index or c not in index:
            continue
        p3 = n / ctx2[(a, b)]
        p = LAMBDA3 * p3 + (1 - LAMBDA3) * p_bigram(b, c)
        key = (index[a] * n_sym + index[b]) * n_sym + index[c]
        trigrams.append((key, q(p)))
    trigrams.sort()
    tri_p = {}
    for (a, b, c), n in tri.items():
        if a in index and b in index and c in index:
            tri_p[(a, b, c)] = LAMBDA3 * n / ctx2[(a, b)] + (1 - LAMBDA3) * p_bigram(b, c)
    ctx3 = Counter()
    for (z, a, b, c), n in quad.items():
        ctx3[(z, a, b)] += n
    quadgrams = []
    for (z, a, b, c), n in quad.items():
        if n < MIN_QUADGRAM or z not in index or a not in index or b not in index or c not in index:
            continue
        p4 = n / ctx3[(z, a, b)]
        p3 = tri_p.get((a, b, c), (1 - LAMBDA3) * p_bigram(b, c))
        p = LAMBDA4 * p4 + (1 - LAMBDA4) * p3
        # only where the longer context tells more than the trigram does
        if abs(math.log2(p) - math.log2((1 - LAMBDA4) * p3)) < 1.0:
            continue
        key = ((index[z] * n_sym + index[a]) * n_sym + index[b]) * n_sym + index[c]
        quadgrams.append((key, q(p)))
    quadgrams.sort()
    backoff4 = q(1 - LAMBDA4)
    # the bigram estimate scaled as a trigram reads it
    backoff = q(1 - LAMBDA3)

    out = []
    out.append("/* repair-letters-data.c: the letter model of the repair stage.\n")
    out.append(" *\n * GENERATED by plugins/repair/letters/make-letter-model.py; do not edit.\n")
    out.append(" * Counted from the hunspell dictionaries " + ", ".join(sorted(DICTIONARIES.values())))
    out.append("\n * (see plugins/repair/letters/README.md for their licences) and own-text.txt.\n")
    out.append(" *\n * SPDX-License-Identifier: LGPL-2.1-or-later\n */\n")
    out.append('#include "repair-letters.h"\n\n')
    out.append(f"const guint repair_letters_n_symbols = {n_sym};\n")
    out.append(f"const int repair_letters_scale = {SCALE};\n")
    out.append(f"const int repair_letters_backoff = {backoff};\n\n")
    out.append("/* the lower-case letters, by symbol (0: a word boundary) */\n")
    out.append("const guint16 repair_letters_symbols[] = {\n")
    for i in range(0, n_sym, 12):
        out.append("  " + ", ".join(f"0x{c:04X}" for c in symbols[i:i + 12]) + ",\n")
    out.append("};\n\n")
    out.append("/* round(scale * log2 P(c | b)), [b * n_symbols + c] */\n")
    out.append("const gint8 repair_letters_bigram[] = {\n")
    flat = [v for row in bigram for v in row]
    for i in range(0, len(flat), 20):
        out.append("  " + ",".join(str(v) for v in flat[i:i + 20]) + ",\n")
    out.append("};\n\n")
    out.append(f"const guint repair_letters_n_trigrams = {len(trigrams)};\n")
    out.append("/* (a * n_symbols + b) * n_symbols + c, sorted */\n")
    out.append("const guint32 repair_letters_trigram_keys[] = {\n")
    for i in range(0, len(trigrams), 10):
        out.append("  " + ",".join(str(k) for k, _ in trigrams[i:i + 10]) + ",\n")
    out.append("};\n\n")
    out.append("/* round(scale * log2 P(c | a b)) */\n")
    out.append("const gint8 repair_letters_trigram_values[] = {\n")
    for i in range(0, len(trigrams), 24):
        out.append("  " + ",".join(str(v) for _, v in trigrams[i:i + 24]) + ",\n")
    out.append("};\n\n")
    out.append(f"const int repair_letters_backoff4 = {backoff4};\n")
    out.append(f"const guint repair_letters_n_quadgrams = {len(quadgrams)};\n")
    out.append("/* ((z * n_symbols + a) * n_symbols + b) * n_symbols + c, sorted */\n")
    out.append("const guint32 repair_letters_quadgram_keys[] = {\n")
    for i in range(0, len(quadgrams), 10):
        out.append("  " + ",".join(str(k) for k, _ in quadgrams[i:i + 10]) + ",\n")
    out.append("};\n\n")
    out.append("/* round(scale * log2 P(c | z a b)) */\n")
    out.append("const gint8 repair_letters_quadgram_values[] = {\n")
    for i in range(0, len(quadgrams), 24):
        out.append("  " + ",".join(str(v) for _, v in quadgrams[i:i + 24]) + ",\n")
    out.append("};\n")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("".join(out))
    print(f"make-letter-model: {n_sym} symbols, {len(trigrams)} trigrams, {len(quadgrams)} quadgrams -> {args.out}")


if __name__ == "__main__":
    main()
