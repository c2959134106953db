#!/bin/sh
# bench/entities/bbc.sh [BUILD_DIR [RUNS]]: the entities stage inside a
# pipeline on news articles: the 2,225 BBC articles of the near-duplicate
# benchmark (../shared/bench/dedup/corpus/bbc-news-2225.jsonl, read in
# place), jsonl -> entities -> export-jsonl, one worker thread. For each
# run prints the stage's seconds (from the stats file), tokens/s (tokens
# counted as \w+|[^\w\s] in the text), docs/s, the process's peak RSS and
# CPU seconds. BBC_OUT=FILE keeps the output of the last run (to compare
# two builds with diff).
#
# Environment: GALLEY_SHARED (default: the repository's ../shared).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
. "$(dirname "$0")/paths.sh"
runs=${2:-3}
corpus=$(cd "$shared" 2>/dev/null && pwd -P)/bench/dedup/corpus/bbc-news-2225.jsonl
[ -f "$corpus" ] || { echo "bbc.sh: $corpus not found, nothing to measure" >&2; exit 0; }
[ -x "$build/galley" ] || { echo "bbc.sh: $build/galley not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/bbc.pipeline" <<PIPE
[pipeline]
description=Benchmark: the entities stage on the BBC articles
stages=in;entities;output
threads=1

[stage in]
plugin=jsonl
path=$corpus

[stage entities]
plugin=entities

[stage output]
plugin=export-jsonl
path=$tmp/out.jsonl
fsync=false
PIPE
tokens=$(python3 -c '
import json, re, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    n += len(re.findall(r"\w+|[^\w\s]", json.loads(line)["text"]))
print(n)' "$corpus")
echo "entities stage, BBC articles ($tokens tokens), one thread:"
i=0
while [ $i -lt "$runs" ]; do
  i=$((i + 1))
  rm -f "$tmp/out.jsonl"
  /usr/bin/env time -f '%M %U %S' -o "$tmp/time" \
    "$build/galley" run "$tmp/bbc.pipeline" --plugin-dir "$build/plugins" --stats "$tmp/stats.json" >/dev/null
  python3 - "$tmp/stats.json" "$tmp/time" "$tokens" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
rss, user, sys_ = open(sys.argv[2]).read().split()[-3:]
tokens = int(sys.argv[3])
e = [s for s in st["stages"] if s["id"] == "entities"][0]
sec = e["seconds"]
print("  stage %.3f s  %.3f M tokens/s  %.0f docs/s  peak RSS %.1f MB  process CPU %.2f s"
      % (sec, tokens / sec / 1e6, e["in"] / sec, int(rss) / 1024, float(user) + float(sys_)))
PY
done
if [ -n "${BBC_OUT:-}" ]; then cp "$tmp/out.jsonl" "$BBC_OUT"; fi
