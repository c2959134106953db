#!/bin/sh
# bench/repair/speed.sh [BUILD_DIR]: speed and lines restored of the repair
# stage on the mixed mojibake corpus, one core, in process.
#
# The corpus is what ../shared/bench/mojibake/make_corpus.py builds (the
# seed articles with lines in other scripts, 40% clean, the rest garbled
# as a whole by one path each); it is made once per size and seed under
# bench/data/. Prints MB/s and the share of garbled lines restored exactly
# per path, for the clean and the garbled documents, and for the mix.
#
# Environment:
#   REPAIR_CORPUS_MB=50     corpus size (10^6 bytes of input)
#   REPAIR_CORPUS_RNG=7     generator seed (measure on another one too)
#   REPAIR_MAKE_CORPUS=../shared/bench/mojibake/make_corpus.py
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
size=${REPAIR_CORPUS_MB:-50}
rng=${REPAIR_CORPUS_RNG:-7}
make_corpus=${REPAIR_MAKE_CORPUS:-$root/../shared/bench/mojibake/make_corpus.py}
data=$root/bench/data
prefix=$data/mojibake-$size-$rng

if [ ! -f "$make_corpus" ]; then
  echo "repair/speed.sh: $make_corpus not found; set REPAIR_MAKE_CORPUS" >&2
  exit 77
fi
mkdir -p "$data"
if [ ! -s "$prefix.docs.tsv" ]; then
  python3 "$make_corpus" --out "$prefix" --size-mb "$size" --clean-frac 0.4 --rng "$rng"
fi
echo "load: $(uptime)"
"$build/bench/repair-speed" "$prefix"
