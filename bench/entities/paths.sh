# Sourced by the scripts of bench/entities (after "set -eu"): the paths
# they share. here: this folder; root: the source tree; build: the
# script's first argument (default build), made absolute; shared: the
# benchmark data (GALLEY_SHARED, default the tree's ../shared); ner: its
# NER sets.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
shared=${GALLEY_SHARED:-$root/../shared}
ner=$shared/bench/ner
