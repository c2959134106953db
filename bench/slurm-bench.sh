#!/usr/bin/env bash
# bench/slurm-bench.sh [BUILD_DIR]: the shard protocol under a real Slurm
# cluster against one plain `galley run`.
#
# 1. Generates BENCH_DOCS (default 200,000) synthetic documents with
#    ../shared/bench/dedup/make_neardup.py --mode synth into BENCH_DIR
#    (default /tmp/galley-slurm-bench), unless they are there already.
# 2. Starts a private one-node Slurm cluster on loopback
#    (tests/slurm/slurm-cluster.sh: munged, slurmctld, slurmd from a
#    temporary directory, stopped by PID at the end; every core of the
#    machine, one CPU per job).
# 3. For each pipeline of BENCH_PIPELINES (default "dedup full"):
#      dedup  jsonl -> dedup (mode=drop) -> export-jsonl
#      full   jsonl -> repair -> strip -> dedup (mode=annotate) -> entities
#             -> export-jsonl (the stages of pipelines/default.pipeline)
#    a plain run, `galley run -j CORES` (one process using every core), then
#    the chain printed by `galley plan slurm --shards BENCH_SHARDS` (default
#    2), submitted and waited for. Every job runs galley under /usr/bin/time
#    (through --galley, a wrapper), with one worker thread (threads=1 in the
#    pipeline), so that N tasks side by side use N cores.
# 4. Checks that every job of the chain ended COMPLETED and that the merged
#    output is byte-identical to the plain run's, and prints the plain run's
#    wall and CPU time (user + system), the chain's wall time from submission
#    to the end of its last job, the CPU time summed over every job, per step
#    the wall time (first task's start to last task's end), CPU and peak RSS,
#    the time between steps (Slurm starting the next job), and the overhead
#    against the plain run.
#
# With BENCH_SERIAL=1 (the default for the dedup pipeline) the plain run is
# also timed with one worker thread, the CPU reference for jobs that have
# one thread each.
#
# Environment: BENCH_DOCS, BENCH_DIR, BENCH_SHARDS, BENCH_PIPELINES, BENCH_SERIAL,
# BENCH_KEEP=1 (keep the generated input), DEDUP_DATA (the shared folder).
# Needs root, munge and slurm-wlm (scripts/install-deps.sh --slurm; skips
# otherwise) and about 3 GB in BENCH_DIR per million documents.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
build=$(cd "$build" && pwd)
galley=$build/galley
data=${DEDUP_DATA:-$root/../shared/bench/dedup}
docs=${BENCH_DOCS:-200000}
dir=${BENCH_DIR:-/tmp/galley-slurm-bench}
shards=${BENCH_SHARDS:-2}
pipelines=${BENCH_PIPELINES:-dedup full}
keep=${BENCH_KEEP:-0}
cores=$(nproc)
export GALLEY_PLUGIN_PATH=$build/plugins
export GALLEY_PLUGIN_SYSTEM_PATH=

# shellcheck source=tests/slurm/slurm-cluster.sh
. "$root/tests/slurm/slurm-cluster.sh"
if [ "$(id -u)" -ne 0 ]; then
  echo "slurm-bench: needs root (slurmd runs the jobs as root here; skipped)" >&2
  exit 0
fi
if missing=$(slurm_tools_missing); then
  echo "slurm-bench: $missing not installed (scripts/install-deps.sh --slurm; skipped)" >&2
  exit 0
fi

input=$dir/synth-$docs.jsonl
mkdir -p "$dir"
cluster_dir=$(mktemp -d /tmp/galley-slurm-bench-cluster-XXXXXX)
cleanup() {
  set +e # stopping a daemon that has already exited is no error here
  slurm_cluster_stop
  rm -rf "$cluster_dir" "$dir/run"
  if [ "$keep" != 1 ]; then
    rm -f "$input" "$input.manifest.json"
    rmdir "$dir" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -s "$input" ]; then
  if [ ! -f "$data/make_neardup.py" ]; then
    echo "slurm-bench: $data/make_neardup.py not found; set DEDUP_DATA (skipped)" >&2
    exit 0
  fi
  echo "slurm-bench: generating $docs documents into $input ..." >&2
  python3 "$data/make_neardup.py" --corpus "$data/corpus/bbc-news-2225.jsonl" --mode synth \
    --n-docs "$docs" --seed 7 --out "$input" >/dev/null
fi

if ! slurm_cluster_start "$cluster_dir"; then
  echo "slurm-bench: the Slurm cluster did not start" >&2
  tail -n 20 "$cluster_dir"/*.out "$cluster_dir"/*.log >&2 2>/dev/null
  exit 1
fi

now() { date +%s.%N; }

# bench_one NAME: the plain run and the chain of pipeline NAME
bench_one() {
  local name=$1 run=$dir/run/$1 serial
  serial=${BENCH_SERIAL:-$( [ "$1" = dedup ] && echo 1 || echo 0)}
  rm -rf "$run"
  mkdir -p "$run/times"
  local p=$run/$name.pipeline
  {
    cat <<PIPE
[pipeline]
stages=$( [ "$name" = full ] && echo "feed;repair;strip;dedup;entities;output" || echo "feed;dedup;output")
stats=
rejects=
threads=1

[stage feed]
plugin=jsonl
path=$input
meta-fields=
keep-other-fields=false
content-type=text

PIPE
    if [ "$name" = full ]; then
      printf '[stage repair]\nplugin=repair\n\n[stage strip]\nplugin=strip\n\n'
      printf '[stage dedup]\nplugin=dedup\nmode=annotate\n\n[stage entities]\nplugin=entities\n'
      # a copy of the model taken now, and a fixed day for relative dates:
      # the plain run and the jobs must see the same data, even if the
      # source tree's data/entities changes meanwhile or midnight passes
      printf 'data-dir=%s\nreference-date=2026-01-01\n\n' "$run/entities-data"
    else
      printf '[stage dedup]\nplugin=dedup\nmode=drop\n\n'
    fi
    cat <<PIPE
[stage output]
plugin=export-jsonl
path=$run/out.jsonl
fsync=false
PIPE
  } > "$p"
  if [ "$name" = full ]; then
    cp -r "$root/data/entities" "$run/entities-data"
  fi

  echo "slurm-bench: $name: plain run of $docs documents (-j $cores) ..." >&2
  /usr/bin/time -f "%e %U %S %M" -o "$run/times/plain" "$galley" run -q -j "$cores" "$p"
  mv "$run/out.jsonl" "$run/plain.jsonl"
  if [ "$serial" = 1 ]; then
    echo "slurm-bench: $name: plain run with one worker thread (-j 1) ..." >&2
    /usr/bin/time -f "%e %U %S %M" -o "$run/times/serial" "$galley" run -q -j 1 "$p"
    cmp -s "$run/out.jsonl" "$run/plain.jsonl" || { echo "slurm-bench: -j 1 and -j $cores differ" >&2; return 1; }
    rm -f "$run/out.jsonl"
  fi

  # galley under /usr/bin/time, inside the jobs
  cat > "$run/galley-timed" <<EOF
#!/bin/sh
case \$1 in run) step=map ;; dedup|shard) step=\$2 ;; *) step=\$1 ;; esac
rec=$run/times/\$step-\${SLURM_ARRAY_TASK_ID:-0}-\$\$
start=\$(date +%s.%N)
/usr/bin/time -f "%e %U %S %M" -o "\$rec.time" '$galley' "\$@"
rc=\$?
echo "\$start \$(date +%s.%N) \${SLURM_JOB_ID:-}" > "\$rec.span"
exit \$rc
EOF
  chmod 0755 "$run/galley-timed"
  "$galley" plan slurm "$p" --shards "$shards" --work "$run/chain" --galley "$run/galley-timed" \
    --time 120 --mem 3G --cluster-mem 6G > "$run/chain.sh"

  echo "slurm-bench: $name: the chain (N=$shards) under Slurm ..." >&2
  local t0 final state t1 jobs job states bad=0
  t0=$(now)
  final=$(bash "$run/chain.sh" 2>"$run/submit.err")
  state=$(slurm_wait_job "$final" 36000 0.2)
  t1=$(now)
  jobs=$(sed -n 's/^galley: \([a-z]*\): job \([0-9]*\)$/\1=\2/p' "$run/submit.err")
  for job in $jobs; do
    states=$(timeout 10 scontrol -o show job "${job#*=}" | tr ' ' '\n' | sed -n 's/^JobState=//p')
    echo "  job ${job#*=} (${job%=*}): $(sort <<<"$states" | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')"
    if [ -z "$states" ] || grep -qv '^COMPLETED$' <<<"$states"; then bad=1; fi
  done
  if [ "$state" != COMPLETED ] || [ "$bad" = 1 ]; then
    echo "slurm-bench: $name: the chain did not complete (last job $final: $state)" >&2
    tail -n 5 "$run"/chain/logs/*.log >&2 2>/dev/null
    return 1
  fi
  local same=DIFFERENT
  cmp -s "$run/out.jsonl" "$run/plain.jsonl" && same=identical
  local involved=$(( ($(stat -c %s "$run/chain/dedup/clusters") - 32) / 24 ))

  python3 - "$run" "$name" "$docs" "$shards" "$cores" "$t0" "$t1" "$same" "$involved" <<'PY'
import glob, os, sys
run, name, docs, shards, cores, t0, t1, same, involved = sys.argv[1:]
docs, t0, t1, involved = int(docs), float(t0), float(t1), int(involved)
def read_time(path):
    e, u, s, m = open(path).read().split()
    return float(e), float(u) + float(s), int(m)
pw, pc, prss = read_time(os.path.join(run, "times", "plain"))
serial = os.path.join(run, "times", "serial")
sw, sc, srss = read_time(serial) if os.path.exists(serial) else (None, None, None)
steps = {}
for f in glob.glob(os.path.join(run, "times", "*.span")):
    step = os.path.basename(f).split("-")[0]
    if step not in ("map", "bucket", "cluster", "filter", "merge"):
        continue
    start, end = map(float, open(f).read().split()[:2])
    _, cpu, rss = read_time(f[:-5] + ".time")
    s = steps.setdefault(step, {"start": start, "end": end, "cpu": 0.0, "rss": 0, "runs": 0})
    s["start"], s["end"] = min(s["start"], start), max(s["end"], end)
    s["cpu"] += cpu
    s["rss"] = max(s["rss"], rss)
    s["runs"] += 1
order = [s for s in ["map", "bucket", "cluster", "filter", "merge"] if s in steps]
print("%s pipeline, %d documents, N=%s, %s cores" % (name, docs, shards, cores))
print("plain run (-j %s): wall %.2f s, CPU %.2f s, peak RSS %.0f MB" % (cores, pw, pc, prss / 1024))
if sw is not None:
    print("plain run (-j 1): wall %.2f s, CPU %.2f s, peak RSS %.0f MB" % (sw, sc, srss / 1024))
print("chain under Slurm, per step: galley processes run, wall from the first one's start to the last one's end, CPU summed:")
prev_end, in_jobs, gaps = t0, 0.0, 0.0
for st in order:
    s = steps[st]
    gap = s["start"] - prev_end
    gaps += gap
    wall = s["end"] - s["start"]
    in_jobs += wall
    print("  %-8s %3d runs  wall %7.2f s  CPU %7.2f s  peak RSS %6.0f MB  (started %.2f s after the %s)"
          % (st, s["runs"], wall, s["cpu"], s["rss"] / 1024, gap, "submission" if prev_end == t0 else "step before"))
    prev_end = s["end"]
total_cpu = sum(s["cpu"] for s in steps.values())
chain_wall = prev_end - t0
print("  total: wall %.2f s from submission to the end of the last job (%.2f s inside the jobs, %.2f s waiting "
      "for Slurm to start them; seen %.2f s by polling), CPU %.2f s" % (chain_wall, in_jobs, gaps, t1 - t0, total_cpu))
print("overhead vs the plain run (-j %s): CPU %+.1f%%, wall %+.1f%% (%+.1f%% inside the jobs)"
      % (cores, 100 * (total_cpu - pc) / pc, 100 * (chain_wall - pw) / pw, 100 * (in_jobs - pw) / pw))
if sc is not None:
    print("CPU overhead vs the plain run with one worker thread (as each job has): %+.1f%%" % (100 * (total_cpu - sc) / sc))
crss = steps["cluster"]["rss"] if "cluster" in steps else 0
print("cluster step: peak RSS %.1f MB for %d documents with candidates (%.1f%% of the corpus; %.0f B each)"
      % (crss / 1024, involved, 100 * involved / docs, crss * 1024 / max(involved, 1)))
print("merged output %s to the plain run's" % same)
PY
  [ "$same" = identical ]
}

status=0
for name in $pipelines; do
  case $name in dedup | full) ;; *) echo "slurm-bench: unknown pipeline $name (dedup, full)" >&2; exit 64 ;; esac
  bench_one "$name" || status=1
done
exit $status
