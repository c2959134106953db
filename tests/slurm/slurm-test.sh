#!/usr/bin/env bash
# tests/slurm/slurm-test.sh BUILD_DIR
#
# Runs the shard protocol on a real one-node Slurm cluster on loopback:
# munged, slurmctld and slurmd start in the foreground from a private
# temporary directory (configuration, key, socket, spool, logs; nothing
# under /etc) and are stopped by PID on exit. On a small generated corpus
# with planted duplicates, the chain printed by `galley plan slurm` must
# finish COMPLETED with output byte-identical to a plain `galley run` and
# without the planted duplicates; a chain whose map task 1 fails must end
# with its downstream jobs CANCELLED (not pending forever), and the same
# chain resumed with --resume must then complete.
#
# Needs root and the Debian packages slurm-wlm and munge
# (scripts/install-deps.sh --slurm); skips otherwise. Prints TAP, and
# writes the result as a meson test log line to
# BUILD_DIR/meson-logs/testlog-slurm.json for scripts/test-summary.py.
# Exit status: 0 when nothing failed. SLURM_TEST_KEEP=1 keeps the
# temporary directory.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/galley" ]; then
  echo "usage: $0 BUILD_DIR (a build directory with a built galley)" >&2
  exit 64
fi
build=$(cd "$1" && pwd)
galley=$build/galley
export GALLEY_PLUGIN_PATH=$build/plugins
export GALLEY_PLUGIN_SYSTEM_PATH=
rm -f "$build/meson-logs/testlog-slurm.json"

# ---- TAP ---------------------------------------------------------------------

tap=""
n=0
failures=0
say() { echo "$1"; tap+="$1"$'\n'; }
ok() { n=$((n + 1)); say "ok $n - $1"; }
not_ok() { n=$((n + 1)); failures=$((failures + 1)); say "not ok $n - $1"; }
skip() { n=$((n + 1)); say "ok $n - $1 # SKIP $2"; }
check() { # check NAME COMMAND...: one test case
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}

write_log() {
  mkdir -p "$build/meson-logs"
  say "1..$n"
  local result=OK
  [ "$failures" -eq 0 ] || result=FAIL
  python3 -c 'import json, sys; print(json.dumps({"name": "slurm", "result": sys.argv[1], "stdout": sys.stdin.read()}))' \
    "$result" <<<"$tap" > "$build/meson-logs/testlog-slurm.json"
}

skip_all() {
  local reason=$1 i
  for i in cluster-starts chain-completed cluster-mem-applied output-identical duplicates-gone failure-cancels-chain resume-completes; do
    skip "$i" "$reason"
  done
  write_log
  exit 0
}

if [ "$(id -u)" -ne 0 ]; then
  skip_all "needs root (slurmd runs jobs as root here)"
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/slurm/slurm-cluster.sh
. "$here/slurm-cluster.sh"
missing=$(slurm_tools_missing) && skip_all "$missing not installed (scripts/install-deps.sh --slurm)"
export PATH=$PATH:/usr/sbin

# ---- a private cluster -----------------------------------------------------------

tmp=$(mktemp -d /tmp/galley-slurm-XXXXXX)
cleanup() {
  slurm_cluster_stop
  if [ "${SLURM_TEST_KEEP:-0}" = 1 ]; then
    echo "# kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
# stopped by a time limit: one failure, and the log still written
trap 'not_ok "stopped before the end (signal)"; write_log; exit 130' INT TERM

idle=0
if slurm_cluster_start "$tmp"; then
  idle=1
fi
if [ "$idle" = 1 ]; then
  ok "cluster-starts"
else
  not_ok "cluster-starts"
  tail -n 20 "$tmp"/*.out "$tmp"/*.log 2>/dev/null | sed 's/^/# /'
  for i in chain-completed cluster-mem-applied output-identical duplicates-gone failure-cancels-chain resume-completes; do
    skip "$i" "the cluster did not start"
  done
  write_log
  exit 1
fi

# ---- helpers ---------------------------------------------------------------------

job_field() { slurm_job_field "$@"; }
wait_job() { slurm_wait_job "$@"; }
queue_empty() { slurm_queue_empty; }

# ---- a corpus with planted duplicates ------------------------------------------

corpus=$tmp/corpus
mkdir -p "$corpus/in"
# 43 articles of made-up words from a fixed seed, then 4 exact copies and
# 3 copies with one sentence added. Copies sort after their originals, so
# the originals are the ones kept.
awk -v dir="$corpus/in" 'BEGIN {
  split("harbour council river budget school train bridge market farmers museum winter storm " \
        "election mayor hospital nurses library festival orchestra stadium league coach tram " \
        "ferry village valley mountain forest bakery factory workers union strike tariff " \
        "ministry court judge tenants housing rent theatre painter novel poet archive road " \
        "tunnel airport pilots harvest vineyard fishermen coast lighthouse island parliament " \
        "senate budget deficit pension students exam teachers canal lock barge quay cargo " \
        "warehouse crane engineers solar turbine grid outage drought reservoir flood levee", w, " ")
  nw = length(w)
  split("said on Monday that|announced|will review|reported|warned that|agreed to fund|" \
        "postponed|confirmed|rejected|welcomed", v, "|")
  nv = length(v)
  seed = 20240611
  for (d = 1; d <= 43; d++) {
    file = sprintf("%s/doc-%02d.txt", dir, d)
    for (p = 0; p < 3; p++) {
      para = ""
      for (s = 0; s < 5; s++) {
        seed = (seed * 1103515245 + 12345) % 2147483648
        len = 8 + seed % 7
        sent = ""
        for (k = 0; k < len; k++) {
          seed = (seed * 1103515245 + 12345) % 2147483648
          word = w[1 + int(seed / 65536) % nw]
          if (k == 2) {
            seed = (seed * 1103515245 + 12345) % 2147483648
            word = v[1 + int(seed / 65536) % nv]
          }
          sent = sent (k ? " " : "") word
        }
        para = para (s ? " " : "") toupper(substr(sent, 1, 1)) substr(sent, 2) "."
      }
      printf "%s\n\n", para > file
    }
    close(file)
  }
}'
n_docs=43
for d in 03 11 20 37; do
  cp "$corpus/in/doc-$d.txt" "$corpus/in/dup-$d.txt"
done
for d in 05 25 40; do
  { cat "$corpus/in/doc-$d.txt"; echo "Updated at noon with a statement from the harbour office."; } > "$corpus/in/near-$d.txt"
done

cat > "$corpus/news.pipeline" <<'EOF'
[pipeline]
stages=articles;dedup;output
stats=

[stage articles]
plugin=files
paths=in

[stage dedup]
plugin=dedup
mode=drop

[stage output]
plugin=export-jsonl
path=out/news.jsonl
EOF

cd "$corpus" || exit 1
if ! timeout 120 "$galley" run news.pipeline -q >"$tmp/plain.err" 2>&1; then
  sed 's/^/# /' "$tmp/plain.err"
fi
mv out/news.jsonl "$tmp/plain.jsonl" 2>/dev/null

# the protocol commands this test drives (`galley dedup X --help` answers
# for any X, so ask for what only the protocol has)
protocol=1
if ! timeout 20 "$galley" run --help 2>/dev/null | grep -q -- '--shard' \
   || ! timeout 20 "$galley" dedup bands news.pipeline >/dev/null 2>&1 \
   || ! timeout 20 "$galley" shard merge --help >/dev/null 2>&1; then
  protocol=0
  say "# the shard protocol (run --shard, dedup bands, shard merge) is missing in this build"
fi
if [ "$protocol" = 0 ]; then
  for i in chain-completed cluster-mem-applied output-identical duplicates-gone failure-cancels-chain resume-completes; do
    skip "$i" "the shard protocol commands are not in this build"
  done
  write_log
  [ "$failures" -eq 0 ]
  exit
fi

# ---- the chain ---------------------------------------------------------------------

dump_logs() { # the job logs of a work directory, as TAP comments
  tail -n 5 "$1"/logs/*.log 2>/dev/null | sed 's/^/# /'
}

timeout 60 "$galley" plan slurm news.pipeline --shards 3 --work "$tmp/work" \
  --partition galleyci --time 10 --mem 256M --cluster-mem 300M > "$tmp/chain.sh" 2>"$tmp/plan.err"
started=$SECONDS
final=$(timeout 60 bash "$tmp/chain.sh" 2>"$tmp/submit.err")
state=$( [ -n "$final" ] && wait_job "$final" 240 || echo NOT-SUBMITTED)
say "# final job $final: $state, $((SECONDS - started)) s after submission"
if [ "$state" = COMPLETED ] && queue_empty; then
  ok "chain-completed"
else
  not_ok "chain-completed"
  sed 's/^/# /' "$tmp/plan.err" "$tmp/submit.err"
  dump_logs "$tmp/work"
fi
# the cluster job's own --mem comes after the common one, and wins
cluster_mem=$(timeout 10 scontrol -o show job 2>/dev/null | grep ' JobName=galley-cluster ' | head -n 1 \
  | tr ' ' '\n' | sed -n 's/^MinMemoryNode=//p')
say "# cluster job memory: $cluster_mem"
check "cluster-mem-applied" test "$cluster_mem" = 300M
check "output-identical" cmp -s "$tmp/plain.jsonl" out/news.jsonl

duplicates_gone() {
  local kept
  [ -s out/news.jsonl ] || return 1
  kept=$(grep -c '' out/news.jsonl)
  [ "$kept" -eq "$n_docs" ] || { say "# $kept documents kept, $n_docs expected"; return 1; }
  ! grep -qE '"id":"in/(dup|near)-' out/news.jsonl
}
check "duplicates-gone" duplicates_gone

# ---- a failing map task cancels the rest, --resume finishes the chain --------------

# A galley that fails in map task 1 while the file fail-map-1 exists.
cat > "$tmp/galley-faulty" <<EOF
#!/bin/sh
if [ "\$1" = run ] && [ "\${SLURM_ARRAY_TASK_ID:-}" = 1 ] && [ -e "$tmp/fail-map-1" ]; then
  echo "injected failure in map task 1" >&2
  exit 70
fi
exec "$galley" "\$@"
EOF
chmod 0755 "$tmp/galley-faulty"
touch "$tmp/fail-map-1"
rm -f out/news.jsonl

timeout 60 "$galley" plan slurm news.pipeline --shards 3 --work "$tmp/work2" --galley "$tmp/galley-faulty" \
  --time 10 --mem 256M > "$tmp/chain2.sh" 2>"$tmp/plan2.err"
final=$(timeout 60 bash "$tmp/chain2.sh" 2>"$tmp/submit2.err")
state=$( [ -n "$final" ] && wait_job "$final" 240 || echo NOT-SUBMITTED)
reason=$( [ -n "$final" ] && job_field "$final" Reason)
say "# final job $final: $state ($reason)"
if [ "$state" = CANCELLED ] && [ "$reason" = DependencyNeverSatisfied ] && queue_empty \
   && [ ! -e out/news.jsonl ] && [ ! -e "$tmp/work2/markers/merge.done" ]; then
  ok "failure-cancels-chain"
else
  not_ok "failure-cancels-chain"
  sed 's/^/# /' "$tmp/plan2.err" "$tmp/submit2.err"
  timeout 10 squeue 2>&1 | sed 's/^/# /'
  dump_logs "$tmp/work2"
fi

rm -f "$tmp/fail-map-1"
final=$(timeout 60 bash "$tmp/chain2.sh" --resume 2>"$tmp/submit3.err")
state=$( [ -n "$final" ] && wait_job "$final" 240 || echo NOT-SUBMITTED)
say "# resumed chain, final job $final: $state"
if [ "$state" = COMPLETED ] && queue_empty && grep -q '^galley: map: job' "$tmp/submit3.err" \
   && cmp -s "$tmp/plain.jsonl" out/news.jsonl; then
  ok "resume-completes"
else
  not_ok "resume-completes"
  sed 's/^/# /' "$tmp/submit3.err"
  dump_logs "$tmp/work2"
fi

write_log
[ "$failures" -eq 0 ]
