#!/bin/sh
# bench/entities/wikigold-cv.sh [BUILD_DIR]: cross-validation of the
# entities model on WikiGold (../shared/bench/ner/train-extra/wikigold,
# read in place). The 145 articles (each ended by a -DOCSTART- line) fall
# into five folds by article index mod 5. For each fold a model is trained
# as the shipped one (EWT + data/entities/train-extra.txt + GUM + the
# WikiGold articles of the other four folds, default settings; one seed,
# not the mean of six) into a temporary
# copy of data/entities, and the held-out fold is tagged (tokens joined by
# spaces in, offsets out, as eval.sh does) and scored: PER/ORG/LOC, exact
# spans, MISC removed from the gold (score.py). One model trained without
# WikiGold (EWT + train-extra.txt + GUM) is scored on the same folds.
# Prints per fold and overall (the folds' counts summed) P/R/F1 per type,
# and the mean of the folds' micro F1. Nothing is written to data/entities.
#
# Environment: GALLEY_SHARED (default: the repository's ../shared),
#              WGCV_FOLDS="0 1 2 3 4" (the folds to run).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
. "$(dirname "$0")/paths.sh"
wikigold=$ner/train-extra/wikigold/wikigold.conll.txt
tag=$build/plugins/entities/entities-tag
train=$build/plugins/entities/entities-train
folds=${WGCV_FOLDS:-0 1 2 3 4}
for x in "$tag" "$train"; do
  [ -x "$x" ] || { echo "wikigold-cv.sh: $x not built (ninja -C $build)" >&2; exit 1; }
done
for f in "$ner/score.py" "$wikigold" "$ner/uner-en-ewt/en_ewt-ud-dev.iob2"; do
  [ -f "$f" ] || { echo "wikigold-cv.sh: $f not found, nothing to measure" >&2; exit 0; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the folds: wg-train-K (other articles) and wg-test-K (held out)
python3 - "$wikigold" "$tmp" <<'EOF'
import sys
path, out = sys.argv[1], sys.argv[2]
articles, cur = [], []
with open(path, encoding='utf-8') as f:
    for line in f:
        cur.append(line)
        if line.startswith('-DOCSTART-'):
            articles.append(cur)
            cur = []
if any(l.strip() for l in cur):
    articles.append(cur)
for k in range(5):
    with open('%s/wg-train-%d' % (out, k), 'w', encoding='utf-8') as tr, \
         open('%s/wg-test-%d' % (out, k), 'w', encoding='utf-8') as te:
        for i, a in enumerate(articles):
            (te if i % 5 == k else tr).write(''.join(a))
            if i % 5 == k:
                te.write('\n')
print('WikiGold: %d articles' % len(articles))
EOF

train_model() { # dir wikigold-file-or-empty
  cp -r "$root/data/entities" "$1"
  start=$(date +%s)
  NER_WIKIGOLD=$2 NER_GUM=$ner/train-extra/gum "$train" "$1" "$ner/uner-en-ewt" "$root/data/entities/train-extra.txt" \
    > "$1.log" 2>&1 || { cat "$1.log" >&2; exit 1; }
  echo "trained $(basename "$1") in $(( $(date +%s) - start )) s"
}

score_fold() { # model-dir fold name
  gold=$tmp/wg-test-$2
  python3 "$ner/score.py" "$gold" --dump-gold-jsonl "$tmp/gold-$2.jsonl" >/dev/null
  "$tag" "$1" < "$tmp/gold-$2.jsonl" > "$tmp/$3.pred.jsonl"
  python3 "$ner/score.py" "$gold" "$tmp/$3.pred.jsonl" --types PER,ORG,LOC \
    --ignore-types MISC --json "$tmp/$3.json" >/dev/null
}

train_model "$tmp/model-without" ""
for k in $folds; do
  train_model "$tmp/model-with-$k" "$tmp/wg-train-$k"
  score_fold "$tmp/model-with-$k" "$k" "with-$k"
  score_fold "$tmp/model-without" "$k" "without-$k"
done

python3 - "$tmp" $folds <<'EOF'
import json, sys
tmp, folds = sys.argv[1], sys.argv[2:]
types = ('PER', 'ORG', 'LOC')

def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return 100 * p, 100 * r, 100 * (2 * p * r / (p + r) if p + r else 0.0)

def cell(c):
    return '%5.1f %5.1f %5.1f' % prf(*c)

for variant in ('with', 'without'):
    print('== %s WikiGold in training (P R F1)' % variant)
    print('%-7s %-17s %-17s %-17s %-17s %s' % ('fold', 'PER', 'ORG', 'LOC', 'micro', 'gold'))
    total = {t: [0, 0, 0] for t in types + ('micro',)}
    f1s = []
    for k in folds:
        res = json.load(open('%s/%s-%s.json' % (tmp, variant, k)))
        row = {}
        for t in types:
            d = res['per_type'].get(t, {'tp': 0, 'fp': 0, 'fn': 0})
            row[t] = (d['tp'], d['fp'], d['fn'])
        m = res['micro']
        row['micro'] = (m['tp'], m['fp'], m['fn'])
        for t, c in row.items():
            for i in range(3):
                total[t][i] += c[i]
        f1s.append(prf(*row['micro'])[2])
        print('%-7s %s %s' % (k, ' '.join('%-17s' % cell(row[t]) for t in types + ('micro',)),
                              m['gold']))
    print('%-7s %s %s' % ('all', ' '.join('%-17s' % cell(total[t]) for t in types + ('micro',)),
                          total['micro'][0] + total['micro'][2]))
    print('mean of the folds\' micro F1: %.2f' % (sum(f1s) / len(f1s)))
EOF
