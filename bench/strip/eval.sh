#!/bin/sh
# Article-body F1 of the strip stage's HTML mode on the boilerplate benchmark
# (../shared/bench/boilerplate: 181 news pages with gold bodies).
#
# Usage: bench/strip/eval.sh [--pipeline|--readability] [BUILD_DIR] [-- extractor options]
#   default        runs BUILD_DIR/bench/strip-html-speed --predict (the extractor
#                  alone, what to use while tuning)
#   --pipeline     runs the real stage: files -> strip -> export-jsonl, then
#                  converts the records to the scorer's layout
#   --readability  the extractor alone on ../shared/bench/boilerplate-readability
#                  (130 pages; the reference is Readability.js's output, not a
#                  gold standard: use it to find empty outputs and wrong
#                  containers, not to tune)
# The shared data folder is $GALLEY_SHARED, by default ../shared next to the
# repository; the evaluation is skipped when it is absent.
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
mode=direct
if [ "${1:-}" = "--pipeline" ]; then
  mode=pipeline
  shift
elif [ "${1:-}" = "--readability" ]; then
  mode=readability
  shift
fi
build=${1:-build}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
case "$build" in /*) ;; *) build="$repo/$build" ;; esac
shared=${GALLEY_SHARED:-$repo/../shared}
data="$shared/bench/boilerplate"
if [ ! -f "$data/ground-truth.json" ] || [ ! -d "$data/html" ]; then
  echo "strip eval: $data not found, skipped"
  exit 0
fi

out="$build/bench/strip-eval"
mkdir -p "$out"
pred="$out/predictions-$mode.json"

if [ "$mode" = readability ]; then
  rdata="$shared/bench/boilerplate-readability"
  if [ ! -f "$rdata/reference-text.json" ] || [ ! -d "$rdata/pages" ]; then
    echo "strip eval: $rdata not found, skipped"
    exit 0
  fi
  # the pages are PAGE/source.html: link them as PAGE.html
  rm -rf "$out/readability-pages"
  mkdir -p "$out/readability-pages"
  for d in "$rdata"/pages/*/; do
    ln -s "$d/source.html" "$out/readability-pages/$(basename "$d").html"
  done
  "$build/bench/strip-html-speed" --predict "$pred" "$@" "$out/readability-pages"
  python3 - "$pred" <<'PY'
import json, sys
pred = json.load(open(sys.argv[1], encoding="utf-8"))
empty = sorted(k for k, v in pred.items() if not v["articleBody"].strip())
print(f"pages {len(pred)}  empty {len(empty)} {' '.join(empty)}")
PY
  python3 "$data/score.py" --gold "$rdata/reference-text.json" "$pred" --missing-as-empty --per-page "$out/pages-$mode.tsv"
  echo "per-page scores: $out/pages-$mode.tsv"
  python3 "$repo/bench/strip/meta-agreement.py" "$rdata/reference-metadata.json" "$pred"
  exit 0
fi

if [ "$mode" = direct ]; then
  "$build/bench/strip-html-speed" --predict "$pred" "$@" "$data/html"
else
  cat > "$out/eval.pipeline" <<PIPE
[pipeline]
stages=pages;strip;out
stats=$out/eval.stats.json
rejects=

[stage pages]
plugin=files
paths=$data/html
include=*.html.gz
content-type=html

[stage strip]
plugin=strip
min-length=0

[stage out]
plugin=export-jsonl
path=$out/eval.jsonl
fsync=false
PIPE
  GALLEY_PLUGIN_PATH=${GALLEY_PLUGIN_PATH:-$build/plugins} "$build/galley" run -q "$out/eval.pipeline"
  python3 - "$out/eval.jsonl" "$data/ground-truth.json" "$pred" <<'PY'
import json, os, re, sys
records, gold_path, pred_path = sys.argv[1:4]
gold = json.load(open(gold_path, encoding="utf-8"))
pred = {key: {"articleBody": ""} for key in gold}
with open(records, encoding="utf-8") as f:
    for line in f:
        rec = json.loads(line)
        key = re.sub(r"\.html(\.gz)?$", "", os.path.basename(str(rec.get("id", ""))))
        if key in pred:
            pred[key]["articleBody"] = rec.get("text") or ""
json.dump(pred, open(pred_path, "w", encoding="utf-8"), ensure_ascii=False)
empty = sum(1 for v in pred.values() if not v["articleBody"].strip())
print(f"pages {len(pred)}  empty {empty}")
PY
fi
python3 "$data/score.py" --gold "$data/ground-truth.json" "$pred" --per-page "$out/pages-$mode.tsv"
echo "per-page scores: $out/pages-$mode.tsv"
