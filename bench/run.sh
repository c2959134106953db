#!/bin/sh
# bench/run.sh [BUILD_DIR]: throughput benchmark of the files -> export-jsonl
# pipeline (read article files, check UTF-8, JSON-escape, write JSON Lines).
#
# For each corpus size it generates bench/data/corpus-SIZE (synthetic ~3 KB
# articles, see bench/gen-corpus.c) unless a complete one is there, runs the
# pipeline once to warm the page cache (dropping the cache needs root), then
# measures BENCH_RUNS runs and reports the median by MB/s. The output JSONL
# is deleted after every run.
#
# Environment:
#   BENCH_SIZES="256 1024"  corpus sizes in MiB
#   BENCH_SEED=1            generator seed
#   BENCH_RUNS=3            measured runs per size (after one warm-up run)
#   BENCH_THREADS=          galley --threads (default: the number of cores)
#   BENCH_FSYNC=0           1: fsync the output before the run counts as done
#   BENCH_DATA=bench/data   where corpora and the temporary output go
#   BENCH_IDLE_WAIT=60      before each run wait up to this many seconds for
#                           the CPUs to be >= 90% idle (0: do not wait)
#   BENCH_TARGET_MBS=300    the requirement checked at the end: at least this
#   BENCH_TARGET_RSS_MB=100 many MB/s and less than this peak RSS
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac

sizes=${BENCH_SIZES:-256 1024}
seed=${BENCH_SEED:-1}
runs=${BENCH_RUNS:-3}
threads=${BENCH_THREADS:-}
fsync=${BENCH_FSYNC:-0}
data=${BENCH_DATA:-$root/bench/data}
idle_wait=${BENCH_IDLE_WAIT:-60}
target_mbs=${BENCH_TARGET_MBS:-300}
target_rss=${BENCH_TARGET_RSS_MB:-100}
pipeline=$here/files-to-jsonl.pipeline

die() { echo "bench: $*" >&2; exit 1; }

for s in $sizes; do
  case $s in ''|*[!0-9]*) die "BENCH_SIZES: '$s' is not a whole number of MiB" ;; esac
  [ "$s" -gt 0 ] || die "BENCH_SIZES: sizes must be > 0"
done
case $runs in ''|*[!0-9]*|0) die "BENCH_RUNS: expected a number >= 1, got '$runs'" ;; esac
case $threads in *[!0-9]*) die "BENCH_THREADS: expected a number, got '$threads'" ;; esac
case $idle_wait in ''|*[!0-9]*) die "BENCH_IDLE_WAIT: expected seconds, got '$idle_wait'" ;; esac
case $target_mbs$target_rss in *[!0-9]*) die "BENCH_TARGET_MBS, BENCH_TARGET_RSS_MB: expected whole numbers" ;; esac
case $fsync in 0) fsync_opt=false ;; 1) fsync_opt=true ;; *) die "BENCH_FSYNC: expected 0 or 1" ;; esac
command -v python3 >/dev/null || die "python3 is needed to read the stats JSON"

[ -f "$build/build.ninja" ] || die "$build is not a configured build directory (run 'make build' first)"
meson compile -C "$build" >/dev/null || die "meson compile -C $build failed"
galley=$build/galley
gen=$build/bench/gen-corpus
{ [ -x "$galley" ] && [ -x "$gen" ]; } || die "missing $galley or $gen after the build"

mkdir -p "$data"
data=$(cd "$data" && pwd)
out=$data/files-to-jsonl.out.jsonl
stats=$data/files-to-jsonl.stats.json
rejects=$data/files-to-jsonl.rejects.jsonl
results=$data/results.txt
cleanup() { rm -f "$out" "$data"/.files-to-jsonl.out.jsonl.tmp-*; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# ---- corpora ---------------------------------------------------------------

corpus_ok() {  # DIR SIZE: a complete corpus of this generator, size and seed?
  [ -f "$1/.corpus" ] &&
    grep -qx "generator=1" "$1/.corpus" &&
    grep -qx "size_mb=$2" "$1/.corpus" &&
    grep -qx "seed=$seed" "$1/.corpus"
}

# Disk: the corpora still to generate, plus the output of the largest run
# (about 1.07 x its corpus: JSON escaping and the id/source fields), plus 10%.
need_kb=0
max_size=0
for s in $sizes; do
  corpus_ok "$data/corpus-$s" "$s" || need_kb=$((need_kb + s * 1024 + s * 1024 / 8))  # + inode/block slack
  [ "$s" -gt "$max_size" ] && max_size=$s
done
need_kb=$(( (need_kb + max_size * 1024 * 12 / 10) * 11 / 10 ))
avail_kb=$(df -Pk "$data" | awk 'NR == 2 { print $4 }')
echo "bench: disk: $((avail_kb / 1024)) MiB free in $data, need about $((need_kb / 1024)) MiB"
[ "$avail_kb" -gt "$need_kb" ] || die "not enough free space in $data (set BENCH_DATA or BENCH_SIZES)"

for s in $sizes; do
  dir=$data/corpus-$s
  corpus_ok "$dir" "$s" && continue
  echo "bench: generating $dir ($s MiB, seed $seed)"
  rm -rf "$dir" "$dir.tmp"
  "$gen" "$dir.tmp" "$s" "$seed"
  mv "$dir.tmp" "$dir"
done

# ---- runs --------------------------------------------------------------------

# Prints "seconds docs bytes mb_s docs_s rss_kb threads out_bytes source_s sink_s"
# of a stats file (source_s, sink_s: busy seconds of the files and export-jsonl stages).
read_stats() {
  python3 - "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
if s.get("exit_code", 0) != 0:
    sys.exit("run failed: %s" % s.get("error", "exit code %s" % s["exit_code"]))
sink = next(st for st in s["stages"] if st["kind"] == "sink")
source = next(st for st in s["stages"] if st["kind"] == "source")
print(s["seconds"], s["documents_in"], s["bytes_in"], s["mb_per_second"], s["docs_per_second"],
      s["peak_rss_kb"], s["threads"], sink.get("counters", {}).get("bytes-written", 0),
      source["seconds"], sink["seconds"])
EOF
}

# Percentage of idle CPU time over one second (100 if /proc/stat is missing).
idle_pct() {
  [ -r /proc/stat ] || { echo 100; return; }
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  echo "$a $b" | awk '{ busy = $3 - $1; idle = $4 - $2; print (busy + idle) ? int(100 * idle / (busy + idle)) : 100 }'
}

# The machine is shared (builds, tests): wait for it to be quiet, and say so
# on stderr when it never was.
busy_runs=0
wait_idle() {
  [ "$idle_wait" -gt 0 ] || return 0
  waited=0
  while :; do
    pct=$(idle_pct)
    [ "$pct" -ge 90 ] && return 0
    waited=$((waited + 1))
    if [ "$waited" -ge "$idle_wait" ]; then
      echo "bench: warning: CPUs only $pct% idle after ${idle_wait}s; this run competes with other work" >&2
      busy_runs=$((busy_runs + 1))
      return 0
    fi
  done
}

run_once() {  # CORPUS_DIR -> stats line on stdout
  rm -f "$stats"
  set -- "$galley" run "$pipeline" -q --no-progress \
    --set "corpus.paths=$1" --set "output.path=$out" --set "output.fsync=$fsync_opt" \
    --stats "$stats" --rejects "$rejects"
  [ -n "$threads" ] && set -- "$@" --threads "$threads"
  (cd "$root" && "$@") || die "galley failed (exit $?): $*"
  line=$(read_stats "$stats") || die "cannot read $stats"
  rm -f "$out"
  echo "$line"
}

cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), ${cpu:-unknown CPU}, $cores cores"
echo "bench: galley $("$galley" --version | sed 's/^galley //'), build $build"
echo "bench: pipeline $pipeline (files -> export-jsonl, fsync=$fsync_opt)"
echo "bench: each size: 1 warm-up run (page cache filled; it is not dropped, that needs root),"
echo "bench: then $runs measured run(s); the row shows the median run by MB/s"
echo "bench: MB = 10^6 bytes of input; RSS = peak resident set of the galley process;"
echo "bench: src s / sink s = busy seconds of the files source and the export-jsonl sink"
echo

: > "$results"
printf '%-9s %8s %8s %8s %8s %9s %8s %8s %8s %8s %8s\n' \
  "corpus" "MB" "docs" "seconds" "MB/s" "docs/s" "RSS MB" "threads" "out MB" "src s" "sink s"
for s in $sizes; do
  dir=$data/corpus-$s
  # write back the dirty pages of the generator and earlier runs first, so
  # the kernel's flusher threads do not compete for the cores during a run
  sync
  warm=$(run_once "$dir")   # warm-up: fills the page cache with the corpus
  all=""
  i=0
  while [ "$i" -lt "$runs" ]; do
    sync
    wait_idle
    all="$all$(run_once "$dir")
"
    i=$((i + 1))
  done
  # median by MB/s (the upper median for an even count)
  line=$(printf '%s' "$all" | sort -k4,4g | sed -n "$((runs / 2 + 1))p")
  spread=$(printf '%s' "$all" | awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $4 }')
  warm_mbs=$(echo "$warm" | awk '{ printf "%.1f", $4 }')
  # shellcheck disable=SC2086 # split the fields
  set -- $line
  printf '%-9s %8.1f %8d %8.2f %8.1f %9.0f %8.1f %8d %8.1f %8.2f %8.2f\n' \
    "${s}MiB" "$(echo "$3" | awk '{ print $1 / 1e6 }')" "$2" "$1" "$4" "$5" \
    "$(echo "$6" | awk '{ print $1 / 1024 }')" "$7" "$(echo "$8" | awk '{ print $1 / 1e6 }')" "$9" "${10}"
  echo "          (MB/s: warm-up $warm_mbs; measured: $spread)"
  files=$(sed -n 's/^files=//p' "$dir/.corpus")
  [ "$2" = "$files" ] || echo "bench: warning: read $2 documents, the corpus has $files files" >&2
  echo "$s $line" >> "$results"
done

echo
awk -v mbs="$target_mbs" -v rss="$target_rss" '
  { ok = $5 >= mbs && $7 / 1024 < rss
    printf "bench: target >= %s MB/s and RSS < %s MB: %s for %sMiB (%.0f MB/s, %.1f MB)\n",
           mbs, rss, ok ? "met" : "NOT met", $1, $5, $7 / 1024 }' "$results"
[ "$busy_runs" -eq 0 ] || echo "bench: warning: $busy_runs run(s) shared the CPUs with other work; figures are low"

# One line to copy: per size MB/s, docs/s, peak RSS.
summary=$(awk -v cores="$cores" '
  { printf "%s%sMiB: %.0f MB/s %.0f docs/s %.1f MB RSS", (NR > 1 ? "; " : ""), $1, $5, $6, $7 / 1024; t = $8 }
  END { printf "; threads %s, %s cores\n", t, cores }' "$results")
rm -f "$results"
echo "bench: files->jsonl $summary"
