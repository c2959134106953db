#!/usr/bin/env python3
"""Agreement of the strip stage's metadata with a reference.

Usage: meta-agreement.py REFERENCE.json PREDICTIONS.json

REFERENCE: {page: {"title", "byline", "publishedTime", "siteName", "lang"}}
(the layout of Readability's expected-metadata.json); PREDICTIONS: the
output of `strip-html-speed --predict`, {page: {"articleBody", "meta"}}.

For each field, over the pages where the reference has a value: how many
the stage gives the same (case, white space and punctuation at the ends
ignored; a date compared by its day, a language by its primary subtag),
how many it gives otherwise, and how many it leaves out. A title or
byline that holds the reference's, or is held by it, counts as "close"
(a site name after the title, "By" before a name). The reference is one
tool's output, not a gold standard: disagreements are leads to look at.
"""
import json
import re
import sys

FIELDS = [
    # (reference key, stage key, how to compare)
    ("title", "title", "text"),
    ("byline", "author", "text"),
    ("publishedTime", "date", "day"),
    ("siteName", "site_name", "text"),
    ("lang", "language", "lang"),
]


def norm(s):
    s = re.sub(r"\s+", " ", s).strip().casefold()
    return s.strip(" .,;:|-\u2013\u2014\"'\u201c\u201d")


def compare(kind, ref, got):
    """'same', 'close' or 'other'."""
    if kind == "day":
        return "same" if got[:10] == ref[:10] else "other"
    if kind == "lang":
        return "same" if got.split("-")[0].lower() == ref.split("-")[0].lower() else "other"
    r, g = norm(ref), norm(got)
    if r == g:
        return "same"
    if r and g and (r in g or g in r):
        return "close"
    return "other"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: meta-agreement.py REFERENCE.json PREDICTIONS.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        ref = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        pred = json.load(f)
    print(f"{'metadata':<28}{'reference':>10}{'same':>8}{'close':>8}{'other':>8}{'missing':>9}")
    for ref_key, key, kind in FIELDS:
        counts = {"same": 0, "close": 0, "other": 0, "missing": 0}
        n = 0
        for page, meta in ref.items():
            want = meta.get(ref_key)
            if not isinstance(want, str) or not want.strip():
                continue
            n += 1
            got = (pred.get(page, {}).get("meta") or {}).get(key)
            if not isinstance(got, str) or not got.strip():
                counts["missing"] += 1
            else:
                counts[compare(kind, want, got)] += 1
        print(f"{ref_key + ' / ' + key:<28}{n:>10}{counts['same']:>8}{counts['close']:>8}"
              f"{counts['other']:>8}{counts['missing']:>9}")


if __name__ == "__main__":
    main()
