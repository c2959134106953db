#!/usr/bin/env python3
"""Generate the held-out evaluation set of the repair stage.

    python3 bench/repair/make-heldout.py

reads bench/repair/sentences/*.txt (correct UTF-8 sentences, one per line,
written for this project) and writes

    bench/repair/heldout.jsonl            every case, one JSON object a line
    tests/data/repair/heldout-sample.jsonl the first case of each kind (small,
                                           for unit tests)

Each record: {"id", "kind", "lang", "original" (the garbled text the stage
gets), "expected" (the correct text)}, and for the lossy "sloppy" kinds also
"expected_lossy": the correct text with each character whose UTF-8 bytes
were lost replaced by one U+FFFD (what a repair that does not guess can at
best give back; ftfy's convention).

Kinds (NAME is the code page the UTF-8 bytes were wrongly decoded with):
  utf8-as-NAME            strict decode, NAME in cp1252, latin1 (C1 controls
                          kept), cp1250, cp1251, cp1253, cp1254, cp1257,
                          iso8859-2, mac-roman, cp437, cp874
  utf8-as-NAME-sloppy-replace   undefined bytes became U+FFFD
  utf8-as-NAME-sloppy-drop      undefined bytes were dropped
                          (only made where the strict decode fails, i.e.
                          where the sentence hits an undefined byte; to keep
                          the file small, -replace for the odd-numbered
                          sentences of a file, -drop for the even ones)
  utf8-as-cp1252-sloppy-c1      undefined bytes became the C1 control of the
                          same number (what browsers' windows-1252 does)
  utf8-as-cp1252-twice    garbled with cp1252, and the result again
  utf8-as-cp1251-then-cp1252    garbled with cp1251, then with cp1252
  utf8-as-tis620-lossy    UTF-8 decoded as TIS-620, C1 controls and undefined
                          bytes dropped: quotes and dashes (E2 80 90..9F)
                          become a lone U+0E42 (seed 001); the ellipsis
                          (E2 80 A6) becomes U+0E42 U+0E06. Only sentences
                          whose non-ASCII characters are all U+2000..U+203F.
  utf8-as-tis620-lossy-letters  the same for sentences whose letters lose a
                          continuation byte (80-9F): Ł, ğ, Cyrillic А-П and
                          р-я, Greek ρ-ω...; the lead byte stays as a Thai
                          letter. expected_lossy has U+FFFD for each such
                          letter. Also made from sentences/lost-letters.txt
                          (LANG<TAB>sentence, written for these cases; each
                          is a clean case too).
  utf8-as-tis620-lossy-mixed    the same for sentences that also have other
                          Latin letters (they become Thai-letter mojibake
                          without losing bytes); only sentences where nothing
                          but the E2 80 xx punctuation loses bytes.
  mixed                   a paragraph of 5 lines of one language where 1 or
                          2 lines are garbled by a path typical for it
  clean                   every sentence unchanged, and every paragraph
                          unchanged: must come back byte-identical

A (sentence, path) pair is skipped when the garbling changes nothing (pure
ASCII) or the strict decode fails (undefined byte; the sloppy kinds cover
those). Deterministic: no clock, no unseeded randomness; the same sentences
give the same file byte for byte.

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SENTENCES = os.path.join(HERE, "sentences")
OUT = os.path.join(HERE, "heldout.jsonl")
SAMPLE = os.path.join(ROOT, "tests", "data", "repair", "heldout-sample.jsonl")

# File stems in output order. "punct": curly quotes, apostrophes, dashes,
# ellipsis, euro sign, emoji (English). "tricky": correct text that looks like
# mojibake (Ã, ×, Â, Ð, ±, Romanian, Baltic, Serbian/Bulgarian Cyrillic ...).
LANGS = ["en", "fr", "de", "es", "pt", "it", "pl", "cs", "tr", "ru", "uk",
         "el", "vi", "th", "punct", "tricky"]

# kind name -> Python codec
CODEPAGES = [
    ("cp1252", "cp1252"),
    ("latin1", "latin-1"),
    ("cp1250", "cp1250"),
    ("cp1251", "cp1251"),
    ("cp1253", "cp1253"),
    ("cp1254", "cp1254"),
    ("cp1257", "cp1257"),
    ("iso8859-2", "iso8859_2"),
    ("mac-roman", "mac_roman"),
    ("cp437", "cp437"),
    ("cp874", "cp874"),
]
CODEC = dict(CODEPAGES)


def undefined_bytes(codec):
    out = set()
    for b in range(256):
        try:
            bytes([b]).decode(codec)
        except UnicodeDecodeError:
            out.add(b)
    return frozenset(out)


UNDEFINED = {name: undefined_bytes(codec) for name, codec in CODEPAGES}
SLOPPY = [name for name, _ in CODEPAGES if UNDEFINED[name]]


def garble(text, name, errors="strict"):
    """UTF-8 bytes of text decoded as code page NAME."""
    return text.encode("utf-8").decode(CODEC[name], errors)


def garble_c1(text, name):
    """Decode; an undefined byte becomes the code point of the same number."""
    raw = text.encode("utf-8")
    table = {}
    for b in range(256):
        try:
            table[b] = bytes([b]).decode(CODEC[name])
        except UnicodeDecodeError:
            table[b] = chr(b)
    return "".join(table[b] for b in raw)


def lossy_expected(text, name):
    """Each character with an undefined byte in its UTF-8 becomes U+FFFD."""
    und = UNDEFINED[name]
    return "".join("\ufffd" if any(b in und for b in ch.encode("utf-8")) else ch
                   for ch in text)


def tis620_lossy(text):
    """UTF-8 read as TIS-620; C1 controls and undefined bytes dropped."""
    t = text.encode("utf-8").decode("tis_620", "ignore")
    return "".join(ch for ch in t if not 0x80 <= ord(ch) <= 0x9F)


def is_e280(ch):
    return 0x2000 <= ord(ch) <= 0x203F


def tis620_kind(text):
    """Which TIS-620 lossy kind applies to text, or None."""
    non_ascii = [ch for ch in text if ord(ch) > 0x7F]
    if not any(is_e280(ch) for ch in non_ascii):
        return None
    if all(is_e280(ch) for ch in non_ascii):
        return "utf8-as-tis620-lossy"
    # other characters must survive TIS-620 without losing a byte
    for ch in non_ascii:
        if is_e280(ch):
            continue
        if ch == "\u0e42" or 0x0E00 <= ord(ch) <= 0x0E7F:
            return None  # real Thai: not this kind
        b = ch.encode("utf-8")
        d = b.decode("tis_620", "ignore")
        if len(d) != len(b) or any(0x80 <= ord(c) <= 0x9F for c in d):
            return None
    return "utf8-as-tis620-lossy-mixed"


def single_cases(text, n):
    """(kind, garbled, expected_lossy or None) for sentence number n."""
    out = []
    for name, _ in CODEPAGES:
        try:
            g = garble(text, name)
        except UnicodeDecodeError:
            g = None
        if g is not None:
            if g != text:
                out.append(("utf8-as-" + name, g, None))
            continue
        # the strict decode failed: the sloppy variants apply
        lossy = lossy_expected(text, name)
        if n % 2:  # odd sentences: U+FFFD, even ones: dropped (keeps the file small)
            out.append(("utf8-as-%s-sloppy-replace" % name, garble(text, name, "replace"), lossy))
        else:
            out.append(("utf8-as-%s-sloppy-drop" % name, garble(text, name, "ignore"), lossy))
        if name == "cp1252":
            out.append(("utf8-as-cp1252-sloppy-c1", garble_c1(text, name), None))
    for kind, first, second in (("utf8-as-cp1252-twice", "cp1252", "cp1252"),
                                ("utf8-as-cp1251-then-cp1252", "cp1251", "cp1252")):
        try:
            g = garble(garble(text, first), second)
        except UnicodeDecodeError:
            continue
        if g != text:
            out.append((kind, g, None))
    kind = tis620_kind(text)
    if kind:
        out.append((kind, tis620_lossy(text), None))
    letters = tis620_letters(text)
    if letters:
        out.append(letters)
    return out


def loses_tis620_byte(ch):
    """TRUE when a TIS-620 decoder that drops 80-9F loses a byte of ch."""
    b = ch.encode("utf-8")
    return len(b) > 1 and any(0x80 <= x <= 0xA0 for x in b[1:])


def tis620_letters(text):
    """The utf8-as-tis620-lossy-letters case of text, or None: letters
    (not E2 80 xx punctuation) lose a continuation byte. expected_lossy
    has U+FFFD for each letter that did."""
    if any(0x0E00 <= ord(ch) <= 0x0E7F for ch in text):
        return None
    lost = [ch for ch in text if not is_e280(ch) and loses_tis620_byte(ch)]
    if not lost:
        return None
    lossy = "".join("\ufffd" if not is_e280(ch) and loses_tis620_byte(ch) else ch for ch in text)
    return ("utf8-as-tis620-lossy-letters", tis620_lossy(text), lossy)


# Paths typical for each language, tried in order, for the mixed paragraphs.
MIXED_PATHS = {
    "en": ["cp1252", "tis620", "mac-roman"],
    "punct": ["cp1252", "tis620", "latin1"],
    "fr": ["cp1252", "latin1", "mac-roman", "cp1252-twice"],
    "de": ["cp1252", "mac-roman", "latin1", "cp1252-twice"],
    "es": ["cp1252", "latin1", "cp437"],
    "pt": ["cp1252", "latin1", "cp1252-twice"],
    "it": ["cp1252", "latin1", "mac-roman"],
    "pl": ["cp1250", "iso8859-2", "cp1252"],
    "cs": ["cp1250", "iso8859-2", "cp1252"],
    "tr": ["cp1254", "cp1252"],
    "ru": ["cp1251", "cp1252", "cp1251-then-cp1252"],
    "uk": ["cp1251", "cp1252", "cp1251-then-cp1252"],
    "el": ["cp1253", "cp1252", "latin1"],
    "vi": ["cp1252", "latin1"],
    "th": ["cp874", "cp1252", "latin1"],
    "tricky": ["cp1252", "latin1"],
}


def garble_path(text, path):
    if path == "tis620":
        return tis620_lossy(text) if tis620_kind(text) else None
    try:
        if path == "cp1252-twice":
            return garble(garble(text, "cp1252"), "cp1252")
        if path == "cp1251-then-cp1252":
            return garble(garble(text, "cp1251"), "cp1252")
        return garble(text, path)
    except UnicodeDecodeError:
        return None


def paragraphs(lang, sentences):
    """(clean paragraph, garbled paragraph, paths used) x 4, deterministic."""
    rng = random.Random("galley-repair-heldout:" + lang)
    out = []
    for _ in range(4):
        lines = rng.sample(sentences, 5)
        candidates = [i for i, s in enumerate(lines) if any(ord(c) > 0x7F for c in s)]
        if not candidates:
            continue
        n = 1 if len(candidates) == 1 else rng.choice([1, 2])
        targets = sorted(rng.sample(candidates, n))
        garbled = list(lines)
        used = []
        for i in targets:
            paths = MIXED_PATHS[lang][:]
            rng.shuffle(paths)
            for path in paths:
                g = garble_path(lines[i], path)
                if g is not None and g != lines[i]:
                    garbled[i] = g
                    used.append(path)
                    break
        if used:
            out.append(("\n".join(lines), "\n".join(garbled), used))
    return out


def read_sentences(lang):
    path = os.path.join(SENTENCES, lang + ".txt")
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f]
    lines = [l for l in lines if l.strip()]
    for l in lines:
        if "\r" in l or "\x00" in l:
            sys.exit("%s: CR or NUL in a sentence" % path)
    return lines


def read_lost_letters():
    path = os.path.join(SENTENCES, "lost-letters.txt")
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip():
                lang, text = line.split("\t", 1)
                out.append((lang, text))
    return out


def main():
    records = []
    for lang in LANGS:
        sentences = read_sentences(lang)
        for n, s in enumerate(sentences, 1):
            records.append({"id": "clean:%s:%03d" % (lang, n), "kind": "clean",
                            "lang": lang, "original": s, "expected": s})
        for n, s in enumerate(sentences, 1):
            for kind, garbled, lossy in single_cases(s, n):
                r = {"id": "%s:%s:%03d" % (kind, lang, n), "kind": kind, "lang": lang,
                     "original": garbled, "expected": s}
                if lossy is not None and lossy != s:
                    r["expected_lossy"] = lossy
                records.append(r)
        for n, (clean, garbled, used) in enumerate(paragraphs(lang, sentences), 1):
            records.append({"id": "clean:%s:para%d" % (lang, n), "kind": "clean",
                            "lang": lang, "original": clean, "expected": clean})
            records.append({"id": "mixed:%s:para%d" % (lang, n), "kind": "mixed",
                            "lang": lang, "original": garbled, "expected": clean,
                            "paths": used})

    # sentences written for the letters TIS-620 loses (LANG<TAB>sentence)
    for n, (lang, s) in enumerate(read_lost_letters(), 1):
        records.append({"id": "clean:%s:lost%03d" % (lang, n), "kind": "clean",
                        "lang": lang, "original": s, "expected": s})
        for kind, garbled, lossy in [tis620_letters(s) or (None, None, None), (tis620_kind(s), tis620_lossy(s), None)]:
            if kind is None:
                continue
            r = {"id": "%s:%s:lost%03d" % (kind, lang, n), "kind": kind, "lang": lang,
                 "original": garbled, "expected": s}
            if lossy is not None and lossy != s:
                r["expected_lossy"] = lossy
            records.append(r)

    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for r in records:
        assert r["kind"] == "clean" or r["original"] != r["expected"], r["id"]

    def dump(path, recs):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for r in recs:
                # ensure_ascii=False keeps the file readable; json escapes the
                # C0 controls, and C1 controls are written as raw UTF-8.
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")

    dump(OUT, records)
    seen = set()
    sample = []
    for r in records:
        if r["kind"] not in seen:
            seen.add(r["kind"])
            sample.append(r)
    dump(SAMPLE, sample)

    kinds = {}
    for r in records:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    size = os.path.getsize(OUT)
    print("make-heldout: %d records, %d kinds, %.2f MB -> %s" %
          (len(records), len(kinds), size / 1e6, os.path.relpath(OUT, ROOT)))
    for k in sorted(kinds):
        print("  %-36s %5d" % (k, kinds[k]))
    print("make-heldout: %d sample records -> %s" % (len(sample), os.path.relpath(SAMPLE, ROOT)))


if __name__ == "__main__":
    main()
