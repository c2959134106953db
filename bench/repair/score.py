#!/usr/bin/env python3
"""Inputs and scoring of the repair evaluation (bench/repair/eval.sh).

    score.py input-ftfy DIR OUT.jsonl        ftfy's cases -> {"id","text"}
    score.py input-heldout HELDOUT OUT.jsonl held-out set -> {"id","text"}
    score.py input-seed SEED OUT.jsonl       one seed file -> one record
    score.py report [--ftfy DIR --ftfy-out OUT.jsonl]
                    [--heldout HELDOUT --heldout-out OUT.jsonl]
                    [--seed SEED --seed-expected FILE --seed-out OUT.jsonl]
                    [--rejects FILE ...] --failures FILE [--label TEXT] [--check]

OUT.jsonl of `report` are galley's export-jsonl files; records are matched
to the cases by id. A case without an output record (rejected, dropped)
counts as failed. Python 3 standard library only.

Scoring of ftfy's cases (../shared/bench/mojibake/*.json, Apache-2.0 data,
read in place, never copied): the expected text is `fixed-encoding` when
present, else `fixed`.
  exact     output == expected
  cosmetic  equal after the same cosmetic normalisation of both sides:
            html.unescape when the text has no '<', fullwidth forms
            U+FF01..U+FF5E and ligatures U+FB00..U+FB06 to NFKC (also the
            Latin digraphs U+0132, U+0133, U+0149, U+01C4..U+01CC,
            U+01F1..U+01F3, as `fixed` does), curly quotes (U+201C..U+201F,
            U+2018..U+201B, U+02BC) straightened, then NFC.
            `fixed` includes these steps of ftfy; galley keeps curly quotes
            by default.
  either    cosmetic match against `fixed-encoding` or against `fixed`
            (in-the-wild "10Î&frac14;s": its fixed-encoding keeps the
            entity, its fixed decodes it and then the mojibake). This is
            the pass criterion: ftfy's own outputs pass all 151 "pass"
            cases by it, and `--check` and the failure list use it.
negative.json cases must come back unchanged: `changed` counts outputs that
differ from the input, `must` those of them whose own expected text differs
from the input (negative:025, U+0085 -> U+2026).

Scoring of the held-out set: exact match with `expected` per kind; for the
sloppy kinds `lossy-ok` also accepts `expected_lossy` (lost characters as
U+FFFD). `kept` counts outputs identical to the garbled input (the stage did
nothing), `wrong` the rest. For kind `clean`, `changed` is the number of
outputs that are not byte-identical to the input (target 0).

Seed 001: counts U+0E42 before and after and prints the lines that still
have one or that differ from the expected text. The expected text is the
seed with its lone U+0E42 replaced, in order, by the characters listed in
tests/data/repair/seed-001.expected (the seed's text is not copied).

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import argparse
import collections
import difflib
import glob
import hashlib
import html
import json
import os
import sys
import unicodedata

FTFY_FILES = ["in-the-wild", "synthetic", "negative", "language-names", "known-failures"]
THAI_O = "\u0e42"  # THAI CHARACTER SARA O, what E2 of E2 80 xx becomes in TIS-620


# ---- helpers -----------------------------------------------------------------

def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            # ensure_ascii=True: the input file is pure ASCII, so no raw C1
            # control, U+2028 or U+0085 can confuse a line reader
            f.write(json.dumps(r, ensure_ascii=True, separators=(",", ":")) + "\n")


def read_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError as e:
                    sys.exit("score: %s:%d: not JSON: %s" % (path, n, e))
    return out


def read_output(path):
    """galley's export-jsonl file -> {id: record}; missing file -> {}."""
    if not path or not os.path.exists(path):
        return {}
    out = {}
    for r in read_jsonl(path):
        out[r["id"]] = r
    return out


def load_ftfy(directory):
    cases = []
    for stem in FTFY_FILES:
        path = os.path.join(directory, stem + ".json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for i, c in enumerate(data):
            cases.append(dict(c, id="%s:%03d" % (stem, i), file=stem))
    extra = sorted(set(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(directory, "*.json")))
                   - set(FTFY_FILES))
    if extra:
        print("score: note: %s: files not scored: %s" % (directory, ", ".join(extra)), file=sys.stderr)
    return cases


UNCURL = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
                        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                        "\u02bc": "'"})


def nfkc_cosmetic(c):
    """Fullwidth forms, and the Latin ligatures and digraphs (ﬁ, Ĳ, ŉ, ǆ, ǌ,
    ǳ ...) that ftfy's `fixed` takes apart (in-the-wild:042, :043)."""
    o = ord(c)
    return (0xFF01 <= o <= 0xFF5E or 0xFB00 <= o <= 0xFB06 or o in (0x0132, 0x0133, 0x0149)
            or 0x01C4 <= o <= 0x01CC or 0x01F1 <= o <= 0x01F3)


def restored_beyond(got, exp):
    """got equals exp except that each U+FFFD of exp is one other character."""
    if len(got) != len(exp):
        return False
    return all(g == e or (e == "\ufffd" and g != "\ufffd") for g, e in zip(got, exp))


def cosmetic(s):
    if "<" not in s:
        s = html.unescape(s)
    s = "".join(unicodedata.normalize("NFKC", c) if nfkc_cosmetic(c) else c for c in s)
    s = s.translate(UNCURL)
    return unicodedata.normalize("NFC", s)


def show(s, limit=600):
    """Text for a person: control characters, U+FFFD-like invisibles escaped."""
    if s is None:
        return "<no output record>"
    out = []
    for c in s:
        o = ord(c)
        if c == "\n":
            out.append("\\n\n      ")
        elif o < 0x20 or 0x7F <= o <= 0x9F or o in (0x2028, 0x2029, 0xFEFF, 0x200B, 0x00AD):
            out.append("\\x%02x" % o if o <= 0xFF else "\\u%04x" % o)
        else:
            out.append(c)
    t = "".join(out)
    return t if len(t) <= limit else t[:limit] + "... (%d characters)" % len(s)


def pct(a, b):
    return "%5.1f%%" % (100.0 * a / b) if b else "    -"


# ---- inputs ------------------------------------------------------------------

def cmd_input_ftfy(args):
    cases = load_ftfy(args.dir)
    if not cases:
        sys.exit("score: no ftfy case files in %s" % args.dir)
    write_jsonl(args.out, [{"id": c["id"], "text": c["original"]} for c in cases])
    nul = sum("\x00" in c["original"] for c in cases)
    c1 = sum(any(0x80 <= ord(ch) <= 0x9F for ch in c["original"]) for c in cases)
    c0 = sum(any(ord(ch) < 0x20 and ch not in "\t\n" for ch in c["original"]) for c in cases)
    print("score: %d ftfy cases -> %s (inputs with C1 controls: %d, other C0 controls: %d, NUL: %d)"
          % (len(cases), args.out, c1, c0, nul))


def cmd_input_heldout(args):
    recs = read_jsonl(args.heldout)
    write_jsonl(args.out, [{"id": r["id"], "text": r["original"]} for r in recs])
    print("score: %d held-out cases -> %s" % (len(recs), args.out))


def cmd_input_seed(args):
    with open(args.seed, "rb") as f:
        raw = f.read()
    write_jsonl(args.out, [{"id": "seed:" + os.path.basename(args.seed), "text": raw.decode("utf-8")}])
    print("score: seed %s (%d bytes, %d x U+0E42) -> %s"
          % (os.path.basename(args.seed), len(raw), raw.decode("utf-8").count(THAI_O), args.out))


# ---- report ------------------------------------------------------------------

def report_ftfy(args, fail, summary):
    cases = load_ftfy(args.ftfy)
    out = read_output(args.ftfy_out)
    per = collections.OrderedDict((f, collections.Counter()) for f in FTFY_FILES)
    totals = {"pass": collections.Counter(), "fail": collections.Counter()}
    failures = []
    for c in cases:
        exp = c.get("fixed-encoding", c["fixed"])
        rec = out.get(c["id"])
        got = rec["text"] if rec else None
        k = per[c["file"]]
        t = totals[c["expect"]]
        exact = got == exp
        cos = got is not None and cosmetic(got) == cosmetic(exp)
        either = cos or (got is not None and cosmetic(got) == cosmetic(c["fixed"]))
        # the reference keeps U+FFFD where a byte was lost; a repair that
        # restores a character there from context passes, and is counted
        beyond = (not either and got is not None and "\ufffd" in exp
                  and restored_beyond(cosmetic(got), cosmetic(exp)))
        either = either or beyond
        for counter in (k, t):
            counter["beyond"] += beyond
            counter["n"] += 1
            counter["exact"] += exact
            counter["cosmetic"] += cos
            counter["either"] += either
            counter["missing"] += got is None
        if c["file"] == "negative":
            k["changed"] += got != c["original"]
            k["must"] += got != c["original"] and cosmetic(c["fixed"]) != cosmetic(c["original"])
        if not either:
            failures.append((c, exp, got, rec))

    print()
    print("ftfy reference cases (%s)" % args.ftfy)
    print("  %-16s %5s %7s %9s %7s %8s %8s" % ("file", "cases", "exact", "cosmetic", "either", "missing", "changed"))
    for f, k in per.items():
        if not k["n"]:
            continue
        print("  %-16s %5d %7d %9d %7d %8d %8s" % (f, k["n"], k["exact"], k["cosmetic"], k["either"],
                                                  k["missing"], k["changed"] if f == "negative" else "-"))
    for e in ("pass", "fail"):
        t = totals[e]
        print("  expect=%-8s %5d %7d %9d %7d %8d" % (e, t["n"], t["exact"], t["cosmetic"], t["either"], t["missing"]))
    print("  (changed: negative.json outputs that differ from their input, %d of them where the"
          " expected text differs from the input too: negative:025 expects U+0085 -> U+2026)"
          % per["negative"]["must"])
    summary.append(("ftfy expect=pass (151): passed (either)",
                    "%d of %d (exact %d, cosmetic %d)" % (totals["pass"]["either"], totals["pass"]["n"],
                                                          totals["pass"]["exact"], totals["pass"]["cosmetic"])))
    summary.append(("  of which restored where ftfy keeps U+FFFD",
                    "%d" % (totals["pass"]["beyond"] + totals["fail"]["beyond"])))
    summary.append(("ftfy expect=fail (10): passed (either)",
                    "%d of %d (exact %d, cosmetic %d)" % (totals["fail"]["either"], totals["fail"]["n"],
                                                          totals["fail"]["exact"], totals["fail"]["cosmetic"])))
    summary.append(("ftfy negative.json changed",
                    "%d of %d (%d where the expected text is changed too)"
                    % (per["negative"]["changed"], per["negative"]["n"], per["negative"]["must"])))
    if totals["pass"]["either"] < totals["pass"]["n"]:
        args.unmet.append("ftfy expect=pass: %d of %d pass modulo cosmetics"
                          % (totals["pass"]["either"], totals["pass"]["n"]))

    fail.write("==== ftfy reference cases: %d failing modulo cosmetics (either) ====\n\n" % len(failures))
    for c, exp, got, rec in failures:
        fail.write("[%s] expect=%s  %s\n" % (c["id"], c["expect"], c["label"]))
        fail.write("  input:    %s\n" % show(c["original"]))
        fail.write("  expected: %s\n" % show(exp))
        if "fixed-encoding" in c and c["fixed"] != exp:
            fail.write("  (fixed):  %s\n" % show(c["fixed"]))
        fail.write("  got:      %s\n" % show(got))
        if rec and rec.get("repairs"):
            fail.write("  repairs:  %s\n" % json.dumps(rec["repairs"], ensure_ascii=False))
        fail.write("\n")


CODEPAGE_ORDER = ["cp1252", "latin1", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257",
                  "iso8859-2", "mac-roman", "cp437", "cp874"]


def family(kind):
    """Group of a held-out kind, for the summary."""
    if kind == "clean" or kind == "mixed":
        return kind
    if "sloppy" in kind:
        return "sloppy"
    if kind.endswith("-twice") or "-then-" in kind:
        return "double"
    if kind.endswith("tis620-lossy-letters"):
        return "tis620-letters"
    if "tis620" in kind:
        return "tis620-lossy"
    return "single"


def kind_order(kind):
    fam = ["single", "sloppy", "double", "tis620-lossy", "tis620-letters", "mixed", "clean"].index(family(kind))
    rest = kind[len("utf8-as-"):] if kind.startswith("utf8-as-") else kind
    cp = next((i for i, c in enumerate(CODEPAGE_ORDER) if rest == c or rest.startswith(c + "-")),
              len(CODEPAGE_ORDER))
    return (fam, cp, kind)


def report_heldout(args, fail, summary, per_kind_limit=15):
    recs = read_jsonl(args.heldout)
    out = read_output(args.heldout_out)
    kinds = collections.OrderedDict()
    langs = collections.OrderedDict()
    failures = collections.OrderedDict()
    for r in recs:
        rec = out.get(r["id"])
        got = rec["text"] if rec else None
        k = kinds.setdefault(r["kind"], collections.Counter())
        k["n"] += 1
        exact = got == r["expected"]
        k["exact"] += exact
        k["missing"] += got is None
        if r["kind"] == "clean":
            k["changed"] += got != r["original"]
            lk = langs.setdefault(r["lang"], collections.Counter())
            lk["clean"] += 1
            lk["clean-changed"] += got != r["original"]
        else:
            lossy = "expected_lossy" in r
            k["lossy"] += lossy
            k["lossy-ok"] += exact or (lossy and got == r["expected_lossy"])
            k["kept"] += got == r["original"]
            lk = langs.setdefault(r["lang"], collections.Counter())
            lk["garbled"] += 1
            lk["fixed"] += exact
        if not exact:
            failures.setdefault(r["kind"], []).append((r, got, rec))

    print()
    print("held-out set (%s)" % args.heldout)
    print("  %-32s %5s %6s %7s %9s %6s %6s %7s" % ("kind", "cases", "exact", "rate", "lossy-ok", "kept", "wrong", "missing"))
    g = collections.Counter()
    fams = collections.OrderedDict()
    for kind in sorted(kinds, key=kind_order):
        k = kinds[kind]
        if kind == "clean":
            continue
        f = fams.setdefault(family(kind), collections.Counter())
        f["n"] += k["n"]
        f["exact"] += k["exact"]
        f["lossy-ok"] += k["lossy-ok"]
        wrong = k["n"] - k["exact"] - k["kept"] - k["missing"]
        print("  %-32s %5d %6d %7s %9s %6d %6d %7d" % (
            kind, k["n"], k["exact"], pct(k["exact"], k["n"]),
            ("%d" % k["lossy-ok"]) if k["lossy"] else "-", k["kept"], wrong, k["missing"]))
        for key in ("n", "exact", "kept", "missing", "lossy-ok"):
            g[key] += k[key]
    print("  %-32s %5d %6d %7s %9d %6d %6d %7d" % ("all garbled", g["n"], g["exact"], pct(g["exact"], g["n"]),
                                                  g["lossy-ok"], g["kept"], g["n"] - g["exact"] - g["kept"] - g["missing"], g["missing"]))
    c = kinds.get("clean", collections.Counter())
    print("  %-32s %5d %6d %7s %9s %6s %6s %7d   changed: %d (target 0)" % (
        "clean", c["n"], c["exact"], pct(c["exact"], c["n"]), "-", "-", "-", c["missing"], c["changed"]))
    print("  (kept: output == garbled input; wrong: changed, not right; lossy-ok: exact, or the U+FFFD form for sloppy kinds)")
    print("  per language: garbled fixed / garbled, clean changed / clean")
    print("   " + "  ".join("%s %d/%d %d/%d" % (l, v["fixed"], v["garbled"], v["clean-changed"], v["clean"])
                            for l, v in langs.items()))
    summary.append(("held-out garbled: exact repairs", "%d of %d (%s)" % (g["exact"], g["n"], pct(g["exact"], g["n"]).strip())))
    for fam, f in fams.items():
        summary.append(("  %s" % fam, "%d of %d (%s)%s" % (
            f["exact"], f["n"], pct(f["exact"], f["n"]).strip(),
            "; exact or U+FFFD form: %d (%s)" % (f["lossy-ok"], pct(f["lossy-ok"], f["n"]).strip())
            if fam in ("sloppy", "tis620-letters") else "")))
    summary.append(("held-out clean: changed (target 0)", "%d of %d" % (c["changed"], c["n"])))
    if c["changed"]:
        args.unmet.append("held-out: %d clean texts changed" % c["changed"])

    nfail = sum(len(v) for v in failures.values())
    fail.write("==== held-out set: %d cases not exactly repaired (at most %d shown per kind; all clean ones) ====\n\n"
               % (nfail, per_kind_limit))
    for kind in (["clean"] if "clean" in failures else []) + [k for k in failures if k != "clean"]:
        lst = failures[kind]
        fail.write("---- %s: %d ----\n" % (kind, len(lst)))
        for r, got, rec in (lst if kind == "clean" else lst[:per_kind_limit]):
            fail.write("[%s]\n" % r["id"])
            fail.write("  input:    %s\n" % show(r["original"]))
            fail.write("  expected: %s\n" % show(r["expected"]))
            if "expected_lossy" in r:
                fail.write("  or lossy: %s\n" % show(r["expected_lossy"]))
            fail.write("  got:      %s\n" % show(got))
            if rec and rec.get("repairs"):
                fail.write("  repairs:  %s\n" % json.dumps(rec["repairs"], ensure_ascii=False))
        fail.write("\n")


def read_seed_expected(path):
    sha, chars = None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("sha256 "):
                sha = line.split()[1]
            elif line.startswith("U+"):
                chars.append(chr(int(line.split()[0][2:], 16)))
    return sha, chars


def seed_expected_text(text, chars):
    """Replace the lone U+0E42 (not followed by a Thai letter) in order."""
    out, it = [], iter(chars)
    for i, c in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if c == THAI_O and not ("\u0e01" <= nxt <= "\u0e7f"):
            out.append(next(it, c))
        else:
            out.append(c)
    return "".join(out)


def report_seed(args, fail, summary):
    with open(args.seed, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    sha, chars = read_seed_expected(args.seed_expected)
    name = os.path.basename(args.seed)
    print()
    print("seed %s" % name)
    if sha and hashlib.sha256(raw).hexdigest() != sha:
        print("  the seed's sha256 differs from %s: not scored" % args.seed_expected)
        summary.append(("seed 001: characters restored", "not scored (seed changed)"))
        return
    expected = seed_expected_text(text, chars)
    out = read_output(args.seed_out)
    rec = out.get("seed:" + name)
    got = rec["text"] if rec else None
    before = text.count(THAI_O)
    after = got.count(THAI_O) if got is not None else before
    # characters restored: positions of the damaged characters that hold the
    # expected character in the output (aligned by a diff when lengths differ)
    damaged = [i for i, (a, b) in enumerate(zip(text, expected)) if a != b]
    restored = 0
    if got is not None:
        if len(got) == len(expected):
            restored = sum(got[i] == expected[i] for i in damaged)
        else:
            sm = difflib.SequenceMatcher(None, expected, got, autojunk=False)
            ok = set()
            for a, b, size in sm.get_matching_blocks():
                ok.update(range(a, a + size))
            restored = sum(i in ok for i in damaged)
    print("  U+0E42 before: %d, after: %d; damaged characters restored: %d of %d; whole text %s"
          % (before, after, restored, len(damaged), "identical to expected" if got == expected else "differs"))
    summary.append(("seed 001: characters restored", "%d of %d (U+0E42 %d -> %d)" % (restored, len(damaged), before, after)))
    if got != expected:
        args.unmet.append("seed 001: %d of %d characters restored, text %s"
                          % (restored, len(damaged), "differs" if got is not None else "missing"))
    fail.write("==== seed %s: %d of %d damaged characters restored, U+0E42 %d -> %d ====\n\n"
               % (name, restored, len(damaged), before, after))
    if got is None:
        fail.write("  <no output record>\n\n")
        print("  <no output record>")
        return
    exp_lines, got_lines = expected.split("\n"), got.split("\n")
    shown = 0
    for n in range(max(len(exp_lines), len(got_lines))):
        e = exp_lines[n] if n < len(exp_lines) else None
        g = got_lines[n] if n < len(got_lines) else None
        if e != g or (g and THAI_O in g):
            shown += 1
            for w in (sys.stdout, fail):
                w.write("  line %d\n    expected: %s\n    got:      %s\n" % (n + 1, show(e, 10000), show(g, 10000)))
    if not shown:
        print("  every line as expected")
    fail.write("\n")


def cmd_report(args):
    summary = []
    args.unmet = []
    os.makedirs(os.path.dirname(os.path.abspath(args.failures)), exist_ok=True)
    with open(args.failures, "w", encoding="utf-8") as fail:
        fail.write("# bench/repair/eval.sh: cases the repair stage did not get right (%s)\n"
                   "# Control characters are shown escaped (\\x85, \\u2028); a line break as \\n.\n\n"
                   % (args.label or "repair"))
        if args.ftfy:
            report_ftfy(args, fail, summary)
        if args.heldout:
            report_heldout(args, fail, summary)
        if args.seed:
            report_seed(args, fail, summary)
    rejects = 0
    for r in args.rejects or []:
        if os.path.exists(r):
            with open(r, encoding="utf-8", errors="replace") as f:
                rejects += sum(1 for line in f if line.strip())
    summary.append(("rejected records", "%d" % rejects))
    print()
    print("summary (%s)" % (args.label or "repair"))
    w = max(len(a) for a, _ in summary)
    for a, b in summary:
        print("  %-*s  %s" % (w, a, b))
    print("  failing cases: %s" % args.failures)
    if args.check:
        if args.unmet:
            print("check: targets NOT met:")
            for u in args.unmet:
                print("  " + u)
            sys.exit(1)
        print("check: targets met")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("input-ftfy")
    p.add_argument("dir")
    p.add_argument("out")
    p.set_defaults(func=cmd_input_ftfy)
    p = sub.add_parser("input-heldout")
    p.add_argument("heldout")
    p.add_argument("out")
    p.set_defaults(func=cmd_input_heldout)
    p = sub.add_parser("input-seed")
    p.add_argument("seed")
    p.add_argument("out")
    p.set_defaults(func=cmd_input_seed)
    p = sub.add_parser("report")
    p.add_argument("--ftfy")
    p.add_argument("--ftfy-out")
    p.add_argument("--heldout")
    p.add_argument("--heldout-out")
    p.add_argument("--seed")
    p.add_argument("--seed-expected")
    p.add_argument("--seed-out")
    p.add_argument("--rejects", action="append")
    p.add_argument("--failures", required=True)
    p.add_argument("--label")
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless all ftfy 'pass' cases pass modulo cosmetics, no clean"
                        " text changed and seed 001 is restored")
    p.set_defaults(func=cmd_report)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
