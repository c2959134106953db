#!/bin/sh
# Pages per second of the HTML chain: files (.html.gz) -> repair -> strip ->
# export-jsonl, on the 181 benchmark pages repeated to 3,000 (links in the
# build dir), with 2 threads: the best wall time of 3 runs, and the CPU time
# (user + system) of that run, which the load of other jobs on a shared
# machine changes less.
#
# Usage: bench/strip/speed.sh [BUILD_DIR] [PAGES] [THREADS]
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
pages=${2:-3000}
threads=${3:-2}
case "$build" in /*) ;; *) build="$repo/$build" ;; esac
shared=${GALLEY_SHARED:-$repo/../shared}
data="$shared/bench/boilerplate/html"
if [ ! -d "$data" ]; then
  echo "strip speed: $data not found, skipped"
  exit 0
fi
out="$build/bench/strip-speed"
rm -rf "$out/pages"
mkdir -p "$out/pages"
i=0
while [ "$i" -lt "$pages" ]; do
  for f in "$data"/*.html.gz; do
    [ "$i" -ge "$pages" ] && break
    ln -s "$f" "$out/pages/$(printf '%05d' "$i")-$(basename "$f")"
    i=$((i + 1))
  done
done
cat > "$out/speed.pipeline" <<PIPE
[pipeline]
stages=pages;repair;strip;out
threads=$threads
stats=$out/speed.stats.json
rejects=

[stage pages]
plugin=files
paths=$out/pages
include=*.html.gz
content-type=html

[stage repair]
plugin=repair

[stage strip]
plugin=strip
min-length=0

[stage out]
plugin=export-jsonl
path=$out/speed.jsonl
fsync=false
PIPE
best=
for run in 1 2 3; do
  rm -f "$out/speed.jsonl"
  GALLEY_PLUGIN_PATH=${GALLEY_PLUGIN_PATH:-$build/plugins} \
    /usr/bin/time -f "%e %U %S" -o "$out/time.txt" "$build/galley" run -q "$out/speed.pipeline"
  read -r t user sys < "$out/time.txt"
  echo "run $run: $t s wall, $user s user, $sys s system"
  if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
    best=$t
    cpu=$(echo "$user + $sys" | bc -l)
  fi
done
records=$(wc -l < "$out/speed.jsonl")
echo "pages $pages  records $records  threads $threads  best $best s wall" \
  "($(echo "$pages / $best" | bc -l | cut -d. -f1) pages/s), $cpu s CPU ($(echo "$pages / $cpu" | bc -l | cut -d. -f1) pages per CPU second)"
