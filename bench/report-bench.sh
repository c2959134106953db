#!/bin/sh
# bench/report-bench.sh [BUILD_DIR]: what the run report costs, and how
# long `galley explain` takes for one article.
#
# 1. The BBC corpus (shared/bench/dedup/corpus/bbc-news-2225.jsonl, 2,225
#    real articles) repeated REPEAT times with new ids (each copy's first
#    line numbered, so copies are near and not exact duplicates) goes
#    through jsonl -> repair -> strip -> dedup -> entities -> export-jsonl,
#    without and with report=, the two alternated RUNS times each; the
#    median wall time of each and the difference are printed.
# 2. With REPORT_BENCH_PROFILE=1 (needs perf), one more run with report=
#    under `perf record` (cpu-clock, 199 Hz, DWARF call chains): the share
#    of its CPU samples spent in what exists only for the report (the
#    trace, dedup's sentence fingerprints and passages, writing the
#    report). Timings of whole runs on a shared machine vary by more than
#    the 2 % this is about; the profile does not.
# 3. `galley explain pipelines/default.pipeline --input ARTICLE` is timed
#    EXPLAIN_RUNS times on one sample article; the median is printed.
#
# Environment:
#   REPORT_BENCH_REPEAT=10   copies of the corpus (10: 22,250 documents, 54 MB)
#   REPORT_BENCH_RUNS=3      runs of each kind (0: none, for the profile alone)
#   REPORT_BENCH_THREADS=    galley --threads (default: the number of cores)
#   REPORT_BENCH_PROFILE=0   1: the profiled run of step 2
#   EXPLAIN_RUNS=11
#   BENCH_CORPUS=../shared/bench/dedup/corpus/bbc-news-2225.jsonl
#   BENCH_DATA=/tmp/galley-report-bench   corpus, outputs and reports
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
galley=$build/galley
corpus_src=${BENCH_CORPUS:-$root/../shared/bench/dedup/corpus/bbc-news-2225.jsonl}
repeat=${REPORT_BENCH_REPEAT:-10}
runs=${REPORT_BENCH_RUNS:-3}
threads=${REPORT_BENCH_THREADS:-}
explain_runs=${EXPLAIN_RUNS:-11}
data=${BENCH_DATA:-/tmp/galley-report-bench}

[ -f "$corpus_src" ] || { echo "report-bench: no corpus at $corpus_src (BENCH_CORPUS=)" >&2; exit 66; }
mkdir -p "$data"
corpus=$data/bbc-x$repeat.jsonl
if [ ! -s "$corpus" ]; then
  python3 - "$corpus_src" "$corpus" "$repeat" <<'PY'
import json, os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]
with open(dst + ".tmp", "w", encoding="utf-8") as out:
    for k in range(n):
        for r in rows:
            r2 = dict(r)
            r2["id"] = "%s-r%d" % (r["id"], k)
            if k > 0:
                title, _, rest = r["text"].partition("\n")
                r2["text"] = "%s (copy %d)\n%s" % (title, k, rest)
            out.write(json.dumps(r2, ensure_ascii=False) + "\n")
os.rename(dst + ".tmp", dst)
PY
fi
docs=$(wc -l < "$corpus")

cat > "$data/bench.pipeline" <<PIPELINE
[pipeline]
stages=in;repair;strip;dedup;entities;out
stats=$data/run.stats.json
rejects=$data/run.rejects.jsonl

[stage in]
plugin=jsonl
path=$corpus

[stage repair]
plugin=repair

[stage strip]
plugin=strip

[stage dedup]
plugin=dedup
mode=annotate

[stage entities]
plugin=entities

[stage out]
plugin=export-jsonl
path=$data/out.jsonl
PIPELINE

# Runs galley; prints the CPU seconds it used (user + system, all
# threads: less sensitive than wall time to other jobs on the machine)
# and the wall seconds from its stats file.
run() {
  python3 - "$galley" "$data/run.stats.json" "$@" <<'PY'
import json, resource, subprocess, sys
subprocess.run(sys.argv[3:], check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %s" % (r.ru_utime + r.ru_stime, json.load(open(sys.argv[2]))["seconds"]))
PY
}
median() {
  sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "report-bench: $docs documents ($(du -m "$corpus" | cut -f1) MB), $runs runs each, load $(uptime | sed 's/.*load average: //')"
: > "$data/off"
: > "$data/on"
i=0
while [ "$i" -lt "$runs" ]; do
  t=$(run "$galley" run "$data/bench.pipeline" -q ${threads:+--threads "$threads"})
  echo "$t" >> "$data/off"; echo "  without report: ${t% *} s CPU, ${t#* } s wall"
  t=$(run "$galley" run "$data/bench.pipeline" -q ${threads:+--threads "$threads"} --set "pipeline.report=$data/report.html")
  echo "$t" >> "$data/on"; echo "  with report:    ${t% *} s CPU, ${t#* } s wall"
  i=$((i + 1))
done
if [ "$runs" -gt 0 ]; then
  for col in 1 2; do
    off=$(cut -d' ' -f$col < "$data/off" | median)
    on=$(cut -d' ' -f$col < "$data/on" | median)
    echo "report-bench: median $( [ $col = 1 ] && echo CPU || echo wall) time without $off s, with $on s:" \
         "$(awk -v a="$off" -v b="$on" 'BEGIN { printf "%+.2f%%", (b - a) / a * 100 }')"
  done
  echo "report-bench: report $(du -k "$data/report.html" | cut -f1) KiB, load $(uptime | sed 's/.*load average: //')"
fi

if [ "${REPORT_BENCH_PROFILE:-0}" = 1 ]; then
  perf record -q -F 199 -e cpu-clock --call-graph dwarf,16384 -o "$data/perf.data" -- \
    "$galley" run "$data/bench.pipeline" -q ${threads:+--threads "$threads"} --set "pipeline.report=$data/report.html"
  perf script -i "$data/perf.data" -F comm,ip,sym 2> /dev/null | python3 -c '
import sys
# what runs only because of report= (static helpers are inlined into these
# or appear under them in the call chain)
ONLY = ("galley_trace_begin", "galley_trace_end", "galley_trace_step_note", "galley_trace_stage_to_json",
        "galley_runner_add_samples", "galley_runner_write_report", "galley_report_write", "galley_report_html",
        "dedup_passage_fingerprints", "dedup_passage_find", "keep_fingerprints", "note_passage")
total = hit = 0
frames = []
def flush():
    global total, hit
    if frames:
        total += 1
        hit += any(f in ONLY for f in frames)
for line in sys.stdin:
    if not line.strip():
        flush(); frames = []
    elif line.startswith((" ", "\t")):
        parts = line.split()
        if len(parts) >= 2:
            frames.append(parts[1].split("+")[0])
flush()
print("report-bench: profiled run with report: %d CPU samples, %d (%.2f%%) in the trace, passages and report"
      % (total, hit, 100.0 * hit / max(total, 1)))
'
  rm -f "$data/perf.data"
fi

article=$root/examples/articles/05-chip-factory-mojibake-cp1252.txt
: > "$data/explain"
i=0
while [ "$i" -lt "$explain_runs" ]; do
  t0=$(date +%s%N)
  (cd "$root" && "$galley" explain pipelines/default.pipeline --input "$article" > /dev/null)
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) >> "$data/explain"
  i=$((i + 1))
done
echo "report-bench: explain one article on pipelines/default.pipeline: median $(median < "$data/explain") ms of $explain_runs runs"
rm -f "$data/out.jsonl"
