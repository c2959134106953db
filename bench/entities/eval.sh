#!/bin/sh
# bench/entities/eval.sh [BUILD_DIR]: entity quality of the entities stage's
# engine on the two NER benchmarks in ../shared/bench/ner (read in place):
#   CoNLL++ test  (PER/ORG/LOC; MISC removed from gold; exact spans)
#   UNER English PUD (all 1,000 sentences, raw text in, offsets out)
# Prints P/R/F1 per type and overall (score.py). Skips a set that is absent.
#
# Environment: GALLEY_SHARED (default: the repository's ../shared),
#              EVAL_SETS="conllpp-test uner-pud" (also conllpp-dev).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
. "$(dirname "$0")/paths.sh"
tag=$build/plugins/entities/entities-tag
data=${GALLEY_ENTITIES_DATA:-$root/data/entities}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$tag" ] || { echo "eval.sh: $tag not built (ninja -C $build)" >&2; exit 1; }
[ -f "$ner/score.py" ] || { echo "eval.sh: $ner not found, nothing to measure" >&2; exit 0; }

run_set() { # name gold-file extra-score-args...
  name=$1 gold=$2; shift 2
  [ -f "$gold" ] || { echo "== $name: $gold absent, skipped"; return 0; }
  python3 "$ner/score.py" "$gold" --dump-gold-jsonl "$tmp/$name.gold.jsonl" >/dev/null
  "$tag" "$data" < "$tmp/$name.gold.jsonl" > "$tmp/$name.pred.jsonl"
  echo "== $name"
  python3 "$ner/score.py" "$gold" "$tmp/$name.pred.jsonl" --types PER,ORG,LOC "$@"
}

for set in ${EVAL_SETS:-conllpp-test uner-pud}; do
  case $set in
    conllpp-test) run_set conllpp-test "$ner/conllpp/conllpp_test.txt" --ignore-types MISC ;;
    conllpp-dev) run_set conllpp-dev "$ner/conllpp/conllpp_dev.txt" --ignore-types MISC ;;
    uner-pud) run_set uner-pud "$ner/uner-en-pud/en_pud-ud-test.iob2" ;;
    *) echo "eval.sh: unknown set $set" >&2; exit 64 ;;
  esac
done
