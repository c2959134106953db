#!/bin/sh
# bench/entities/train.sh [BUILD_DIR [DATA_DIR]]: regenerates the entities
# stage's model (model.bin) and the lists entities-train builds
# (lowercase.txt; dictionary.txt, wordnet.tsv and geonames.tsv when their
# sources are installed: scripts/install-deps.sh --entity-lists) in DATA_DIR
# (default: the source tree's data/entities). The tagger is trained
# NER_MODELS times (default 6), with NER_SEED 0, 1, ... (another draw and
# order of the examples each), on UNER English EWT, WikiGold, GUM and the
# hand-written and generated sentences; model.bin is the mean of their
# weights (entities-train --average). Deterministic: the same sources give
# the same files byte for byte.
#
# Environment: GALLEY_SHARED (default: the repository's ../shared), NER_MODELS,
#              NER_SEED_BASE (first seed, default 0), and the NER_* knobs of
#              entities-train (docs/entities.md).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
. "$(dirname "$0")/paths.sh"
data=${2:-$root/data/entities}
train=$build/plugins/entities/entities-train
models=${NER_MODELS:-6}
base=${NER_SEED_BASE:-0}
[ -x "$train" ] || { echo "train.sh: $train not built (ninja -C $build)" >&2; exit 1; }
for f in "$ner/uner-en-ewt/en_ewt-ud-dev.iob2" "$ner/train-extra/wikigold/wikigold.conll.txt" "$ner/train-extra/gum"; do
  [ -e "$f" ] || { echo "train.sh: $f not found" >&2; exit 66; }
done
export NER_WIKIGOLD="$ner/train-extra/wikigold/wikigold.conll.txt" NER_GUM="$ner/train-extra/gum"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the first model also rewrites the lists in DATA_DIR; the others train on
# copies of it
NER_SEED=$base "$train" "$data" "$ner/uner-en-ewt" "$root/data/entities/train-extra.txt" 2> "$tmp/log0" \
  || { cat "$tmp/log0" >&2; exit 1; }
grep -v '^epoch' "$tmp/log0" >&2
cp "$data/model.bin" "$tmp/model0.bin"
set -- "$tmp/model0.bin"
k=1
while [ "$k" -lt "$models" ]; do
  mkdir "$tmp/d$k"
  cp -r "$data/." "$tmp/d$k/"
  NER_SEED=$((base + k)) "$train" "$tmp/d$k" "$ner/uner-en-ewt" "$root/data/entities/train-extra.txt" 2> "$tmp/log$k" \
    || { cat "$tmp/log$k" >&2; exit 1; }
  cp "$tmp/d$k/model.bin" "$tmp/model$k.bin"
  rm -rf "$tmp/d$k"
  set -- "$@" "$tmp/model$k.bin"
  k=$((k + 1))
done
if [ "$models" -gt 1 ]; then
  "$train" --average "$data/model.bin" "$@"
fi
