#!/bin/sh
# bench/repair/eval.sh [BUILD_DIR] [GALLEY_RUN_ARGS...]: quality of the
# repair stage (bench/repair/README.md).
#
# Runs bench/repair/eval.pipeline (jsonl -> repair -> export-jsonl) on
#   1. ftfy's reference cases, ../shared/bench/mojibake/*.json (skipped with a
#      message when that directory is absent),
#   2. the held-out set bench/repair/heldout.jsonl (made by make-heldout.py),
#   3. seed 001, ../shared/seeds/001_133b301b955a36d9.txt (when present),
# and scores the outputs with bench/repair/score.py: a table per part and a
# summary at the end. The failing cases go to bench/repair/last-failures.txt.
#
# BUILD_DIR defaults to build. Arguments after it go to `galley run`, e.g.
#   bench/repair/eval.sh build --set repair.quotes=straight
#
# Environment:
#   REPAIR_STAGE=repair  the plugin of the stage `repair`; `none` leaves the
#                        stage out (identity run: checks the harness itself;
#                        negatives and clean texts must all pass, mojibake fail)
#   REPAIR_BUILD=1       0: do not run `meson compile -C BUILD_DIR` first
#   REPAIR_FTFY_DIR      default: ../shared/bench/mojibake beside the project
#   REPAIR_SEED          default: ../shared/seeds/001_133b301b955a36d9.txt
#   REPAIR_FAILURES      default: bench/repair/last-failures.txt
#   REPAIR_CHECK=0       1: exit 1 unless the targets are met (all 151 ftfy
#                        "pass" cases modulo cosmetics, 0 clean texts changed,
#                        15 of 15 characters of seed 001)
#
# Exit status: 0 when every galley run succeeded (and, with REPAIR_CHECK=1,
# the targets are met), 1 otherwise.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=build
if [ $# -gt 0 ]; then
  case $1 in -*) ;; *) build=$1; shift ;; esac
fi
case $build in /*) ;; *) build=$root/$build ;; esac

stage=${REPAIR_STAGE:-repair}
do_build=${REPAIR_BUILD:-1}
ftfy_dir=${REPAIR_FTFY_DIR:-$root/../shared/bench/mojibake}
seed=${REPAIR_SEED:-$root/../shared/seeds/001_133b301b955a36d9.txt}
failures=${REPAIR_FAILURES:-$here/last-failures.txt}
check=${REPAIR_CHECK:-0}
pipeline=$here/eval.pipeline
heldout=$here/heldout.jsonl
seed_expected=$root/tests/data/repair/seed-001.expected

die() { echo "eval: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is needed for the scorer"
[ -f "$build/build.ninja" ] || die "$build is not a configured build directory (run 'make build' first)"
if [ "$do_build" = 1 ]; then
  meson compile -C "$build" >/dev/null || die "meson compile -C $build failed"
fi
galley=$build/galley
[ -x "$galley" ] || die "no $galley"

# The stage: default plugin repair, another plugin, or none (identity).
case $stage in
  none)
    stage_args="--set pipeline.stages=input;output"
    label="identity run (REPAIR_STAGE=none, no repair stage)" ;;
  *[!A-Za-z0-9_-]*|'')
    die "REPAIR_STAGE: expected a plugin name or none, got '$stage'" ;;
  *)
    if ! "$galley" inspect "$stage" >/dev/null 2>&1; then
      "$galley" inspect "$stage" >&2 || true
      die "plugin '$stage' not found: build it, or run REPAIR_STAGE=none $0 to check the harness without it"
    fi
    stage_args="--set repair.plugin=$stage"
    label="stage repair, plugin $stage" ;;
esac
[ $# -gt 0 ] && label="$label, galley run $*"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/galley-repair-eval.XXXXXX")
case $tmp$root$ftfy_dir$seed$failures in
  *[[:space:]]*) rm -rf "$tmp"; die "paths with blanks are not supported: $tmp $root $ftfy_dir $seed $failures" ;;
esac
trap 'rm -rf "$tmp"' EXIT
trap 'rm -rf "$tmp"; exit 130' INT TERM

run_failed=0
# run_set NAME: $tmp/NAME.in.jsonl -> $tmp/NAME.out.jsonl
run_set() {
  name=$1
  shift
  # shellcheck disable=SC2086 # stage_args: one --set option (two words)
  if (cd "$root" && "$galley" run "$pipeline" -q --no-progress $stage_args \
        --set "input.path=$tmp/$name.in.jsonl" --set "output.path=$tmp/$name.out.jsonl" \
        --stats "$tmp/$name.stats.json" --rejects "$tmp/$name.rejects.jsonl" "$@") 2>"$tmp/$name.err"; then
    python3 - "$tmp/$name.stats.json" "$name" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print("eval: %-8s %5d in, %5d out, %d rejected, %.2f MB in %.3f s" % (
    sys.argv[2], s["documents_in"], s["documents_out"], s["rejects"], s["bytes_in"] / 1e6, s["seconds"]))
EOF
    if [ -s "$tmp/$name.err" ]; then sed 's/^/eval: /' "$tmp/$name.err" >&2; fi
  else
    rc=$?
    run_failed=1
    echo "eval: galley failed on the $name set (exit $rc); its cases count as failed:" >&2
    sed 's/^/eval: /' "$tmp/$name.err" >&2
  fi
  return 0
}

echo "eval: $label"
echo "eval: galley $("$galley" --version | sed 's/^galley //'), build $build"

report_args=""

# 1. ftfy's reference cases, read in place (Apache-2.0 test data of ftfy;
#    never copied into the project)
if [ -d "$ftfy_dir" ] && ls "$ftfy_dir"/*.json >/dev/null 2>&1; then
  ftfy_dir=$(cd "$ftfy_dir" && pwd)
  python3 "$here/score.py" input-ftfy "$ftfy_dir" "$tmp/ftfy.in.jsonl" | sed 's/^score/eval/'
  run_set ftfy "$@"
  report_args="$report_args --ftfy $ftfy_dir --ftfy-out $tmp/ftfy.out.jsonl --rejects $tmp/ftfy.rejects.jsonl"
else
  echo "eval: $ftfy_dir: no ftfy cases there; skipping the reference cases"
fi

# 2. the held-out set
if [ ! -f "$heldout" ]; then
  echo "eval: $heldout missing; generating it"
  python3 "$here/make-heldout.py" >/dev/null
fi
python3 "$here/score.py" input-heldout "$heldout" "$tmp/heldout.in.jsonl" | sed 's/^score/eval/'
run_set heldout "$@"
report_args="$report_args --heldout $heldout --heldout-out $tmp/heldout.out.jsonl --rejects $tmp/heldout.rejects.jsonl"

# 3. seed 001 (lossy TIS-620 punctuation)
if [ -f "$seed" ]; then
  python3 "$here/score.py" input-seed "$seed" "$tmp/seed.in.jsonl" | sed 's/^score/eval/'
  run_set seed "$@"
  report_args="$report_args --seed $seed --seed-expected $seed_expected --seed-out $tmp/seed.out.jsonl --rejects $tmp/seed.rejects.jsonl"
else
  echo "eval: $seed: not found; skipping seed 001"
fi

check_arg=""
[ "$check" = 1 ] && check_arg="--check"
# shellcheck disable=SC2086 # paths from mktemp and the tree, no blanks expected
python3 "$here/score.py" report $report_args --failures "$failures" --label "$label" $check_arg || run_failed=1
[ "$run_failed" = 0 ] || { echo "eval: a galley run or a check failed (see above)" >&2; exit 1; }
