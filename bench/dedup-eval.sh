#!/bin/sh
# bench/dedup-eval.sh [BUILD_DIR] [--set STAGE.KEY=VALUE ...]: quality of the
# dedup stage on the labelled near-duplicate set.
#
# Feeds only "id" and "text" of ../shared/bench/dedup/neardup-5k.jsonl
# through jsonl -> dedup (mode=annotate, no state-dir) -> export-jsonl and
# scores the dedup.cluster of every record with score.py: pair precision,
# recall, F1, adjusted Rand index and recall per variant kind. Extra
# arguments go to `galley run` (e.g. --set dedup.threshold=0.5).
# DEDUP_PIPELINE=default puts the default pipeline's stages before dedup
# (repair, then strip, with their default options), as `make run` has them.
#
# Environment:
#   DEDUP_DATA=../shared/bench/dedup   where neardup-5k.jsonl and score.py are
#   DEDUP_OUT=/tmp/galley-dedup-eval   scratch directory (removed at the end)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$root/build
case ${1:-} in --*|'') ;; *) build=$1; shift ;; esac
case $build in /*) ;; *) build=$root/$build ;; esac
data=${DEDUP_DATA:-$root/../shared/bench/dedup}
if [ ! -d "$data" ] || [ ! -f "$data/neardup-5k.jsonl" ] || [ ! -f "$data/score.py" ]; then
  echo "dedup-eval: $data/neardup-5k.jsonl not found; set DEDUP_DATA to the shared bench/dedup folder" >&2
  exit 66
fi
out=${DEDUP_OUT:-/tmp/galley-dedup-eval.$$}
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT INT TERM

before=""
before_groups=""
if [ "${DEDUP_PIPELINE:-stage}" = default ]; then
  before="repair;strip;"
  before_groups="[stage repair]
plugin=repair

[stage strip]
plugin=strip

"
fi

cat > "$out/eval.pipeline" <<PIPE
[pipeline]
description=dedup on neardup-5k, annotate mode
stages=feed;${before}dedup;output
stats=$out/stats.json
rejects=$out/rejects.jsonl

[stage feed]
plugin=jsonl
path=$data/neardup-5k.jsonl
meta-fields=
keep-other-fields=false
content-type=text

$before_groups
[stage dedup]
plugin=dedup
mode=annotate

[stage output]
plugin=export-jsonl
path=$out/pred.jsonl
fsync=false
PIPE

"$build/galley" run -q "$out/eval.pipeline" "$@"
python3 "$data/score.py" "$data/neardup-5k.jsonl" "$out/pred.jsonl"
python3 - "$out/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
d = [x for x in s["stages"] if x["plugin"] == "dedup"][0]
c = d.get("counters", {})
print("dedup stage: %d docs in %.3f s (%.0f docs/s); exact %d, near %d, repeated paragraphs %d, candidates %d"
      % (d["in"], d["seconds"], d["in"] / max(d["seconds"], 1e-9), c.get("exact-duplicates", 0),
         c.get("near-duplicates", 0), c.get("repeated-paragraphs", 0), c.get("candidates", 0)))
PY
