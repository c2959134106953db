#!/bin/sh
# bench/shard-bench.sh [BUILD_DIR]: a sharded run (N=2) against one plain run.
#
# 1. Generates BENCH_DOCS (default 200,000) synthetic documents with
#    ../shared/bench/dedup/make_neardup.py --mode synth into BENCH_DIR
#    (default /tmp/galley-shard-bench), unless they are there already.
# 2. Runs jsonl -> dedup (mode=drop) -> export-jsonl once as a plain run,
#    then as the steps of the shard protocol with N=2: the two map steps
#    side by side, the bucket steps two at a time, the cluster step, the
#    two filter steps side by side, the merge. Every process runs with one
#    worker thread (threads=1), so that the plain run and each step use one
#    core and the figures compare work, not parallelism.
# 3. Prints the wall time of each step and in total, the CPU time (user +
#    system) summed over the steps, the protocol's overhead against the
#    plain run (CPU and wall), the peak RSS of the cluster step next to the
#    documents that have candidates (the ones it holds in memory), and
#    checks that the merged output equals the plain run's.
#
# Targets: CPU overhead under 10%; cluster RSS proportional to the
# documents with candidates, not to the corpus.
#
# Environment: BENCH_DOCS, BENCH_DIR, BENCH_KEEP=1 (keep the generated
# data), DEDUP_DATA (the shared folder). Needs about 2.5 GB in BENCH_DIR
# per million documents (input, stored documents, output twice).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
data=${DEDUP_DATA:-$root/../shared/bench/dedup}
docs=${BENCH_DOCS:-200000}
dir=${BENCH_DIR:-/tmp/galley-shard-bench}
keep=${BENCH_KEEP:-0}
galley=$build/galley

input=$dir/synth-$docs.jsonl
work=$dir/work
mkdir -p "$dir"
cleanup() {
  rm -rf "$work" "$dir/out.jsonl" "$dir/plain.jsonl" "$dir/run.pipeline" "$dir"/time-*
  if [ "$keep" != 1 ]; then rm -f "$input" "$input.manifest.json"; rmdir "$dir" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

if [ ! -s "$input" ]; then
  if [ ! -f "$data/make_neardup.py" ]; then
    echo "shard-bench: $data/make_neardup.py not found; set DEDUP_DATA (skipped)" >&2
    exit 0
  fi
  echo "shard-bench: generating $docs documents into $input ..." >&2
  python3 "$data/make_neardup.py" --corpus "$data/corpus/bbc-news-2225.jsonl" --mode synth \
    --n-docs "$docs" --seed 7 --out "$input" >/dev/null
fi

cat > "$dir/run.pipeline" <<PIPE
[pipeline]
stages=feed;dedup;output
stats=
rejects=
threads=1

[stage feed]
plugin=jsonl
path=$input
meta-fields=
keep-other-fields=false
content-type=text

[stage dedup]
plugin=dedup
mode=drop

[stage output]
plugin=export-jsonl
path=$dir/out.jsonl
fsync=false
PIPE

# timed NAME COMMAND...: runs it under /usr/bin/time into time-NAME
timed() {
  name=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$dir/time-$name" "$@"
}
now() { date +%s.%N; }
elapsed() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }

p=$dir/run.pipeline
echo "shard-bench: plain run of $docs documents ..." >&2
timed plain "$galley" run -q "$p"
mv "$dir/out.jsonl" "$dir/plain.jsonl"

rm -rf "$work"
t0=$(now)
timed map-0 "$galley" run -q "$p" --shard 0/2 --work "$work" &
timed map-1 "$galley" run -q "$p" --shard 1/2 --work "$work" &
wait
t1=$(now)
bands=$("$galley" dedup bands "$p")
b=0
while [ "$b" -lt "$bands" ]; do
  timed "bucket-$b" "$galley" dedup bucket "$p" --band "$b" --work "$work" &
  if [ $((b + 1)) -lt "$bands" ]; then
    timed "bucket-$((b + 1))" "$galley" dedup bucket "$p" --band $((b + 1)) --work "$work" &
  fi
  wait
  b=$((b + 2))
done
t2=$(now)
timed cluster "$galley" dedup cluster "$p" --work "$work"
t3=$(now)
timed filter-0 "$galley" dedup filter "$p" --shard 0/2 --work "$work" -q &
timed filter-1 "$galley" dedup filter "$p" --shard 1/2 --work "$work" -q &
wait
t4=$(now)
timed merge "$galley" shard merge "$p" --work "$work"
t5=$(now)

if cmp -s "$dir/out.jsonl" "$dir/plain.jsonl"; then same=identical; else same=DIFFERENT; fi
# records of dedup/clusters: the documents that share a key with another
clusters=$(stat -c %s "$work/dedup/clusters")
involved=$(( (clusters - 32) / 24 ))
work_bytes=$(du -sb "$work" | cut -f1)

python3 - "$dir" "$docs" "$bands" "$involved" "$same" "$work_bytes" \
  "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")" "$(elapsed "$t2" "$t3")" "$(elapsed "$t3" "$t4")" \
  "$(elapsed "$t4" "$t5")" <<'PY'
import glob, os, sys
d, docs, bands, involved, same, work_bytes = sys.argv[1:7]
walls = dict(zip(["map", "bucket", "cluster", "filter", "merge"], map(float, sys.argv[7:12])))
def read(name):
    e, u, s, m = open(os.path.join(d, "time-" + name)).read().split()
    return float(e), float(u) + float(s), int(m)
pw, pc, prss = read("plain")
cpu = {}
for f in glob.glob(os.path.join(d, "time-*")):
    name = os.path.basename(f)[5:]
    if name == "plain":
        continue
    step = name.split("-")[0]
    cpu[step] = cpu.get(step, 0.0) + read(name)[1]
_, _, crss = read("cluster")
total_wall = sum(walls.values())
total_cpu = sum(cpu.values())
docs = int(docs)
print("plain run:  %d documents, wall %.2f s, CPU %.2f s, peak RSS %.0f MB" % (docs, pw, pc, prss / 1024))
print("N=2 steps (wall, side by side / CPU summed over the processes):")
for step in ["map", "bucket", "cluster", "filter", "merge"]:
    extra = " (%s bands, 2 at a time)" % bands if step == "bucket" else ""
    print("  %-8s wall %7.2f s  CPU %7.2f s%s" % (step, walls[step], cpu.get(step, 0.0), extra))
print("  total    wall %7.2f s  CPU %7.2f s" % (total_wall, total_cpu))
print("overhead vs the plain run: CPU %+.1f%%, wall %+.1f%% (2 processes at a time on %d cores)"
      % (100 * (total_cpu - pc) / pc, 100 * (total_wall - pw) / pw, os.cpu_count()))
print("cluster step: peak RSS %.1f MB for %s documents with candidates (%.1f%% of the corpus; %.0f B each)"
      % (crss / 1024, involved, 100 * int(involved) / docs, crss * 1024 / max(int(involved), 1)))
print("work directory: %.0f MB (%.0f B/document); merged output %s to the plain run's"
      % (int(work_bytes) / 1e6, int(work_bytes) / docs, same))
PY
[ "$same" = identical ]
