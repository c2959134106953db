#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for a fixed number of inputs
# from a fixed seed, on its corpus tests/fuzz/corpus-NAME (read only: new
# inputs go to a scratch copy in the build dir), so a run is repeatable.
# Fails when any target crashes, leaks or fails a check; the input that
# did is left in BUILD/fuzz-crashes/.
#
# Usage: scripts/fuzz.sh BUILD_DIR RUNS [TARGET...]
set -u
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/fuzz.sh BUILD_DIR RUNS [TARGET...]}
runs=${2:?usage: scripts/fuzz.sh BUILD_DIR RUNS [TARGET...]}
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(repair pipeline records strip-html ledger segment shard stats)
fi

# the largest input worth trying, per target
max_len() {
  case $1 in
    strip-html) echo 65536 ;;
    segment) echo 4096 ;;
    *) echo 8192 ;;
  esac
}

mkdir -p "$build/fuzz-crashes"
failed=()
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/fuzz-$t
  scratch=$build/fuzz-corpus-$t
  rm -rf "$scratch" && mkdir -p "$scratch"
  echo "== fuzz-$t: $runs inputs"
  start=$(date +%s)
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     "$exe" -seed=1 -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 -runs="$runs" \
       -print_final_stats=1 -artifact_prefix="$build/fuzz-crashes/$t-" \
       "$scratch" "tests/fuzz/corpus-$t" >"$build/fuzz-$t.log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec)|DONE' "$build/fuzz-$t.log" | tail -n 3
    echo "fuzz-$t: ok in $(( $(date +%s) - start )) s"
  else
    tail -n 40 "$build/fuzz-$t.log"
    echo "fuzz-$t: FAILED (log: $build/fuzz-$t.log)"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran $runs inputs without a failure"
