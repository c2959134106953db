#!/bin/sh
# bench/entities/speed.sh [BUILD_DIR]: one-thread speed of the entity
# engine (tokens/s) and the time to load the model and gazetteers, on the
# sample articles in examples/articles repeated 50 times.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
. "$(dirname "$0")/paths.sh"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
python3 - "$root/examples/articles" > "$tmp" <<'PY'
import json, os, sys
d = sys.argv[1]
docs = [open(os.path.join(d, f), encoding='utf-8', errors='replace').read()
        for f in sorted(os.listdir(d)) if f.endswith('.txt')]
for i in range(50):
    for k, t in enumerate(docs):
        print(json.dumps({'id': '%d-%d' % (i, k), 'text': t}))
PY
echo "entities (one thread, examples/articles x 50):"
"$build/plugins/entities/entities-tag" "${GALLEY_ENTITIES_DATA:-$root/data/entities}" --speed 5 < "$tmp"
