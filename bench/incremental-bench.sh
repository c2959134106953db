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
wall() {  # prints "WALL CPU" seconds of the command (CPU: user + system of it and its threads)
  python3 - "$@" <<'PY'
import os, subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[1:])
c = os.times()
print("%.2f %.2f" % (time.monotonic() - t, c.children_user + c.children_system))
sys.exit(r.returncode)
PY
}
w() { echo "$1" | cut -d' ' -f1; }   # wall part
c() { echo "$1" | cut -d' ' -f2; }   # CPU part
median() { python3 -c "import sys; v=sorted(float(x) for x in sys.argv[1:]); print('%.2f' % v[len(v)//2])" "$@"; }

rm -rf "$dir/state" "$dir/out"
pipeline plain ""
pipeline incr "state-dir=$dir/state"
pipeline quick "state-dir=$dir/state" true

"$galley" run -q "$dir/plain.pipeline"      # warm the page cache
# first runs with and without the state, in pairs, BENCH_PAIRS times
# (default 5), the order swapped from one pair to the next (a run is
# slower right after some runs than after others): compared are the
# medians, and the median of the pairs' own differences (the machine may
# be shared, and its speed drifts)
pairs=${BENCH_PAIRS:-5}
pw=; pc=; fw=; fc=; dw=; dc=
plain_run() { rm -rf "$dir/out"; r=$(wall "$galley" run -q "$dir/plain.pipeline"); pw="$pw $(w "$r")"; pc="$pc $(c "$r")"; }
incr_run() { rm -rf "$dir/out" "$dir/state"; r=$(wall "$galley" run -q "$dir/incr.pipeline"); fw="$fw $(w "$r")"; fc="$fc $(c "$r")"; }
rep=0
while [ $rep -lt "$pairs" ]; do
  if [ $((rep % 2)) = 0 ]; then plain_run; incr_run; else incr_run; plain_run; fi
  dw="$dw $(python3 -c "import sys; print(100 * (float(sys.argv[2]) / float(sys.argv[1]) - 1))" $(echo $pw | awk '{print $NF}') $(echo $fw | awk '{print $NF}'))"
  dc="$dc $(python3 -c "import sys; print(100 * (float(sys.argv[2]) / float(sys.argv[1]) - 1))" $(echo $pc | awk '{print $NF}') $(echo $fc | awk '{print $NF}'))"
  rep=$((rep + 1))
done
t_plain=$(median $pw); c_plain=$(median $pc); t_first=$(median $fw); c_first=$(median $fc)
pair_w=$(median $dw); pair_c=$(median $dc)
docs=$(field "$dir/incr.stats.json" documents_in)
nw=; nc=
for rep in 1 2 3; do
  r=$(wall "$galley" run -q "$dir/incr.pipeline"); nw="$nw $(w "$r")"; nc="$nc $(c "$r")"
done
t_noop=$(median $nw); c_noop=$(median $nc)
noop_in=$(field "$dir/incr.stats.json" documents_in)
rss_noop=$(field "$dir/incr.stats.json" peak_rss_kb)
rm -rf "$dir/state"
"$galley" run -q "$dir/quick.pipeline"
t_qnoop=$(w "$(wall "$galley" run -q "$dir/quick.pipeline")")
qnoop_in=$(field "$dir/quick.stats.json" documents_in)
mkdir -p "$spool/new"
i=0
while [ $i -lt "$new" ]; do echo "Fresh article $i for the next run." > "$spool/new/n$i.txt"; i=$((i + 1)); done
t_new=$(w "$(wall "$galley" run -q "$dir/incr.pipeline")")
new_in=$(field "$dir/incr.stats.json" documents_in)
echo "Fresh article for the quick run." > "$spool/new/q.txt"
t_qnew=$(w "$(wall "$galley" run -q "$dir/quick.pipeline")")
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
jpw=; jpc=; jsw=; jsc=
for rep in 1 2 3; do
  r=$(wall "$galley" run -q "$dir/jplain.pipeline"); jpw="$jpw $(w "$r")"; jpc="$jpc $(c "$r")"; rm -rf "$dir/out"
  r=$(wall "$galley" run -q "$dir/jstate.pipeline"); jsw="$jsw $(w "$r")"; jsc="$jsc $(c "$r")"; rm -rf "$dir/out" "$dir/jstate"
done
tj_plain=$(median $jpw); cj_plain=$(median $jpc); tj_state=$(median $jsw); cj_state=$(median $jsc)
jdocs_plain=$(field "$dir/jplain.stats.json" documents_out); jdocs_state=$(field "$dir/jstate.stats.json" documents_out)
"$galley" run -q "$dir/jstate.pipeline"; rm -rf "$dir/out"
tj_noop=$(w "$(wall "$galley" run -q "$dir/jstate.pipeline")")
rm -rf "$dir/jstate" "$feed"

pct() { python3 -c "import sys; print('%+.1f' % (100.0 * (float(sys.argv[2]) - float(sys.argv[1])) / float(sys.argv[1])))" "$1" "$2"; }
overhead=$(pct "$t_plain" "$t_first"); coverhead=$(pct "$c_plain" "$c_first")
jover=$(pct "$tj_plain" "$tj_state"); cjover=$(pct "$cj_plain" "$cj_state")
echo
echo "incremental runs over $files files (medians of $pairs pairs, no-op: of 3; wall / CPU = user + system seconds)"
echo "  first run, no state-dir:        $t_plain s / $c_plain s"
echo "  first run, with state-dir:      $t_first s / $c_first s ($docs documents; $overhead % wall, $coverhead % CPU)"
echo "  the same, pair by pair:         median $(printf '%+.1f' "$pair_w") % wall, $(printf '%+.1f' "$pair_c") % CPU (pairs: wall$(for x in $dw; do printf ' %+.1f' "$x"; done) %)"
echo "  no-op run (nothing new):        $t_noop s / $c_noop s ($noop_in documents read, peak RSS $((rss_noop / 1024)) MB)"
echo "  run with $new new files:        $t_new s ($new_in documents read)"
echo "  no-op run, quick-dirs=true:     $t_qnoop s ($qnoop_in documents read)"
echo "  quick-dirs=true, 1 new file:    $t_qnew s ($qnew_in documents read)"
echo "  JSONL feed of $files documents: plain $tj_plain s / $cj_plain s, with state-dir $tj_state s / $cj_state s ($jover % wall, $cjover % CPU), no-op $tj_noop s"
echo "                                  (documents written: plain $jdocs_plain, with state-dir $jdocs_state)"
python3 - "$t_noop" "$pair_w" "$pair_c" "$t_qnoop" "$jover" "$cjover" <<'PY'
import sys
noop, over, cover, qnoop, jover, cjover = (float(x) for x in sys.argv[1:])
print("  target no-op < 2 s:            %s (quick-dirs: %s)" % ("met" if noop < 2 else "NOT met", "met" if qnoop < 2 else "NOT met"))
print("  target sink slowed <= 5 %%:     file per document (pair medians): %s (wall), %s (CPU); JSONL feed: %s (wall), %s (CPU)"
      % tuple("met" if v <= 5 else "NOT met" for v in (over, cover, jover, cjover)))
PY
