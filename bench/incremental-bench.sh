#!/bin/sh
# bench/incremental-bench.sh [BUILD_DIR]: cost of the state directory.
#
# 1. Makes a spool of BENCH_FILES (default 1,000,000) small article files
#    in BENCH_DIR (default /tmp/galley-incr-bench), 1,000 per directory,
#    unless it is there already.
# 2. Runs files -> export-jsonl over it with a fresh state-dir (the first,
#    full run), then again with nothing new: the no-op run must return in
#    under 2 s (issue target).
# 3. Adds BENCH_NEW (default 1,000) files and runs again.
# 4. Compares the JSONL sink's throughput with and without a state
#    directory over the same first run (target: at most 5% slower).
#
# Environment: BENCH_FILES, BENCH_NEW, BENCH_DIR, BENCH_KEEP=1 keeps the
# spool between runs (it takes a while to make: about 4 GB of inodes and
# blocks for a million files).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
files=${BENCH_FILES:-1000000}
new=${BENCH_NEW:-1000}
dir=${BENCH_DIR:-/tmp/galley-incr-bench}
keep=${BENCH_KEEP:-0}
galley=$build/galley
export GALLEY_PLUGIN_PATH=$build/plugins

spool=$dir/spool-$files
cleanup() {
  rm -rf "$dir/state" "$dir/out" "$dir"/*.pipeline "$dir"/*.stats.json "$spool/new"
  if [ "$keep" != 1 ]; then rm -rf "$spool"; rmdir "$dir" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM
mkdir -p "$dir"

if [ ! -f "$spool/.complete" ]; then
  echo "incremental-bench: making $files files in $spool ..." >&2
  rm -rf "$spool"
  python3 - "$spool" "$files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
words = "the harbour council ferry market night train library roof school island budget".split()
for i in range(n):
    d = os.path.join(root, "%04d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "%07d.txt" % i), "w") as f:
        f.write("Article %d. " % i + " ".join(words[(i + k) % len(words)] for k in range(60)) + ".\n")
PY
  touch "$spool/.complete"
fi

pipeline() {  # NAME STATE_LINE [QUICK_DIRS]
  quick=${3:-false}
  cat > "$dir/$1.pipeline" <<PIPE
[pipeline]
stages=in;out
stats=$dir/$1.stats.json
rejects=
$2

[stage in]
plugin=files
paths=$spool
exclude=.*
quick-dirs=$quick

[stage out]
plugin=export-jsonl
path=$dir/out/$1-{run}.jsonl
fsync=false
PIPE
}

seconds() { python3 -c "import json,sys; print('%.2f' % json.load(open(sys.argv[1]))['seconds'])" "$1"; }
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
wall() {  # prints wall seconds of the command
  python3 - "$@" <<'PY'
import subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[1:])
print("%.2f" % (time.monotonic() - t))
sys.exit(r.returncode)
PY
}

rm -rf "$dir/state" "$dir/out"
pipeline plain ""
pipeline incr "state-dir=$dir/state"
pipeline quick "state-dir=$dir/state" true

"$galley" run -q "$dir/plain.pipeline"      # warm the page cache
rm -rf "$dir/out"
t_plain=$(wall "$galley" run -q "$dir/plain.pipeline")
rm -rf "$dir/out"
t_first=$(wall "$galley" run -q "$dir/incr.pipeline")
docs=$(field "$dir/incr.stats.json" documents_in)
t_noop=$(wall "$galley" run -q "$dir/incr.pipeline")
noop_in=$(field "$dir/incr.stats.json" documents_in)
rss_noop=$(field "$dir/incr.stats.json" peak_rss_kb)
rm -rf "$dir/state"
"$galley" run -q "$dir/quick.pipeline"
t_qnoop=$(wall "$galley" run -q "$dir/quick.pipeline")
qnoop_in=$(field "$dir/quick.stats.json" documents_in)
mkdir -p "$spool/new"
i=0
while [ $i -lt "$new" ]; do echo "Fresh article $i for the next run." > "$spool/new/n$i.txt"; i=$((i + 1)); done
t_new=$(wall "$galley" run -q "$dir/incr.pipeline")
new_in=$(field "$dir/incr.stats.json" documents_in)
echo "Fresh article for the quick run." > "$spool/new/q.txt"
t_qnew=$(wall "$galley" run -q "$dir/quick.pipeline")
qnew_in=$(field "$dir/quick.stats.json" documents_in)

# A JSON Lines feed of the same number of documents: the state costs one
# ledger row per file, not per document.
feed=$dir/feed-$files.jsonl
if [ ! -s "$feed" ]; then
  python3 - "$feed" "$files" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
words = "the harbour council ferry market night train library roof school island budget".split()
with open(path, "w") as f:
    for i in range(n):
        text = "Article %d. " % i + " ".join(words[(i + k) % len(words)] for k in range(60)) + "."
        f.write(json.dumps({"id": "a%07d" % i, "text": text}) + "\n")
PY
fi
jpipeline() {  # NAME STATE_LINE
  cat > "$dir/$1.pipeline" <<PIPE
[pipeline]
stages=in;out
stats=$dir/$1.stats.json
rejects=
$2

[stage in]
plugin=jsonl
path=$feed

[stage out]
plugin=export-jsonl
path=$dir/out/$1-{run}.jsonl
fsync=false
PIPE
}
jpipeline jplain ""
jpipeline jstate "state-dir=$dir/jstate"
rm -rf "$dir/jstate" "$dir/out"
"$galley" run -q "$dir/jplain.pipeline"; rm -rf "$dir/out"
tj_plain=$(wall "$galley" run -q "$dir/jplain.pipeline"); rm -rf "$dir/out"
tj_state=$(wall "$galley" run -q "$dir/jstate.pipeline"); rm -rf "$dir/out"
tj_noop=$(wall "$galley" run -q "$dir/jstate.pipeline")
rm -rf "$dir/jstate" "$feed"

overhead=$(python3 -c "print('%.1f' % (100.0 * ($t_first - $t_plain) / $t_plain))")
echo
echo "incremental runs over $files files (wall time, 2 cores)"
echo "  first run, no state-dir:        $t_plain s"
echo "  first run, with state-dir:      $t_first s ($docs documents; +$overhead % for the ledger)"
echo "  no-op run (nothing new):        $t_noop s ($noop_in documents read, peak RSS $((rss_noop / 1024)) MB)"
echo "  run with $new new files:        $t_new s ($new_in documents read)"
echo "  no-op run, quick-dirs=true:     $t_qnoop s ($qnoop_in documents read)"
echo "  quick-dirs=true, 1 new file:    $t_qnew s ($qnew_in documents read)"
jover=$(python3 -c "print('%.1f' % (100.0 * ($tj_state - $tj_plain) / $tj_plain))")
echo "  JSONL feed of $files documents: plain $tj_plain s, with state-dir $tj_state s ($jover %), no-op $tj_noop s"
python3 - "$t_noop" "$overhead" "$t_qnoop" "$jover" <<'PY'
import sys
noop, over, qnoop, jover = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print("  target no-op < 2 s:            %s (quick-dirs: %s)" % ("met" if noop < 2 else "NOT met", "met" if qnoop < 2 else "NOT met"))
print("  target sink slowed <= 5 %%:     JSONL feed %s; file per document %s"
      % ("met" if jover <= 5 else "NOT met", "met" if over <= 5 else "NOT met"))
PY
