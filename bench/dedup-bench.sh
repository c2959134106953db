#!/bin/sh
# bench/dedup-bench.sh [BUILD_DIR]: scale benchmark of the dedup stage.
#
# 1. Generates BENCH_DOCS (default 1,000,000) synthetic documents and
#    BENCH_NEW (default 100,000) more with another seed, with
#    ../shared/bench/dedup/make_neardup.py --mode synth, into BENCH_DIR
#    (default /tmp/galley-dedup-bench), unless they are there already.
# 2. Runs jsonl -> dedup (mode=drop, a fresh state-dir) -> export-jsonl on
#    the first set and reads the dedup stage's seconds from the stats JSON.
# 3. Runs the second set against the index of the first (incremental run).
# 4. Prints docs/s of the stage (from its seconds in the stats JSON: the
#    time in prepare() on the workers plus process(), summed over threads),
#    wall time and CPU time of the whole run, peak RSS, index bytes on disk
#    and per document. Targets: >= 50,000 docs/s, incremental run < 10 s,
#    <= 1 KB per document on disk and in RAM. Other work on the machine
#    inflates every figure but CPU time the least.
#
# Environment: BENCH_DOCS, BENCH_NEW, BENCH_DIR, BENCH_KEEP=1 (keep the
# generated data and the state directory), DEDUP_DATA (the shared folder).
# Needs about 2.6 GB in BENCH_DIR for one million documents.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
data=${DEDUP_DATA:-$root/../shared/bench/dedup}
docs=${BENCH_DOCS:-1000000}
new=${BENCH_NEW:-100000}
dir=${BENCH_DIR:-/tmp/galley-dedup-bench}
keep=${BENCH_KEEP:-0}

big=$dir/synth-$docs.jsonl
inc=$dir/synth-new-$new.jsonl
state=$dir/state
mkdir -p "$dir"
cleanup() {
  rm -f "$dir/out.jsonl" "$dir/run.pipeline" "$dir"/stats-*.json
  if [ "$keep" != 1 ]; then rm -rf "$state" "$big" "$inc" "$big.manifest.json" "$inc.manifest.json"; rmdir "$dir" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

gen() {  # N SEED OUT
  [ -s "$3" ] && return 0
  if [ ! -f "$data/make_neardup.py" ]; then
    echo "dedup-bench: $data/make_neardup.py not found; set DEDUP_DATA" >&2; exit 66
  fi
  echo "dedup-bench: generating $1 documents into $3 ..." >&2
  python3 "$data/make_neardup.py" --corpus "$data/corpus/bbc-news-2225.jsonl" --mode synth \
    --n-docs "$1" --seed "$2" --out "$3" >/dev/null
}
gen "$docs" 7 "$big"
gen "$new" 8 "$inc"

cat > "$dir/run.pipeline" <<PIPE
[pipeline]
stages=feed;dedup;output
rejects=

[stage feed]
plugin=jsonl
path=$big
meta-fields=
keep-other-fields=false
content-type=text

[stage dedup]
plugin=dedup
state-dir=$state

[stage output]
plugin=export-jsonl
path=$dir/out.jsonl
fsync=false
PIPE

run() {  # NAME INPUT
  /usr/bin/time -f "%e %M %U %S" -o "$dir/time-$1" "$build/galley" run -q "$dir/run.pipeline" \
    --set "feed.path=$2" --stats "$dir/stats-$1.json"
  python3 - "$1" "$dir/stats-$1.json" "$dir/time-$1" <<'PY'
import json, sys
name, stats, timef = sys.argv[1:]
s = json.load(open(stats))
wall, rss, user, sys_ = open(timef).read().split()
d = [x for x in s["stages"] if x["plugin"] == "dedup"][0]
other = sum(x["seconds"] for x in s["stages"] if x["plugin"] != "dedup")
c = d.get("counters", {})
n = d["in"]
# "seconds" of a stage is the time its callbacks ran, summed over threads:
# prepare() on the workers plus process() on the stage's thread.
print("%-11s %8d docs  dedup stage %7.2f s = %7.0f docs/s  run: wall %6.2f s = %7.0f docs/s, CPU %6.2f s "
      "(other stages %5.2f s)  peak RSS %5.0f MB (%4.0f B/doc)  exact %d near %d candidates %d"
      % (name, n, d["seconds"], n / max(d["seconds"], 1e-9), float(wall), n / max(float(wall), 1e-9),
         float(user) + float(sys_), other, int(rss) / 1024, int(rss) * 1024 / n,
         c.get("exact-duplicates", 0), c.get("near-duplicates", 0), c.get("candidates", 0)))
PY
  rm -f "$dir/time-$1"
}

rm -rf "$state"
run first "$big"
bytes=$(du -sb "$state" | cut -f1)
run incremental "$inc"
bytes2=$(du -sb "$state" | cut -f1)
echo "index on disk: $bytes bytes after the first run ($((bytes / docs)) B/doc), $bytes2 after both ($((bytes2 / (docs + new))) B/doc)"
"$build/galley" dedup stats "$state"
