#!/bin/sh
# check-cron-quickstart.sh SOURCE_ROOT GALLEY_EXE
#
# Runs the quick start of docs/cron.md, command by command as printed, in a
# fresh git checkout of the source tree's tracked files, and checks that
# the runs export what the comments say and that `git status` is clean
# afterwards (state and outputs are ignored, nothing tracked is changed).
set -eu

root=$1
galley=$2
doc=$root/docs/cron.md

command -v git >/dev/null 2>&1 || { echo "1..0 # SKIP git not installed"; exit 77; }
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 || { echo "1..0 # SKIP not a git checkout"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }

# the tracked files as they are now, committed into a throw-away repository
work=$tmp/tree
mkdir "$work"
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$work" 2>/dev/null) || true
[ -f "$work/pipelines/cron-news.pipeline" ] || fail "copy of the source tree has no pipelines/cron-news.pipeline"
cd "$work"
git init -q .
git add -A
git -c user.name=test -c user.email=test@example.invalid commit -q -m tree

# the first sh block after the sentence that introduces the quick start
awk '/cron-news.pipeline` is a complete example/ { found = 1 }
     found && /^```sh$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$doc" > "$tmp/quickstart.sh"
[ -s "$tmp/quickstart.sh" ] || fail "$doc: no quick start (a \`\`\`sh block after 'cron-news.pipeline\` is a complete example')"
grep -q '^galley run pipelines/cron-news.pipeline' "$tmp/quickstart.sh" \
  || fail "$doc: the quick start does not run pipelines/cron-news.pipeline"

n=0
while IFS= read -r line; do
  case $line in
    ''|'#'*) continue ;;
  esac
  n=$((n + 1))
  cmd=${line%%#*}
  case $cmd in
    galley\ *) cmd="\"$galley\" ${cmd#galley }" ;;
  esac
  echo "# quick start step $n: $line"
  sh -c "$cmd" 2>"$tmp/err" || { cat "$tmp/err" >&2; fail "$doc: quick start step $n failed: $line"; }
done < "$tmp/quickstart.sh"

# what the comments promise: 4 documents, nothing, then the one new article
lines () { cat "$@" 2>/dev/null | wc -l; }
[ "$(ls out/news-*.jsonl | wc -l)" -eq 2 ] || fail "expected two output files (first and third run), found: $(ls out)"
first=$(ls out/news-*.jsonl | head -n 1)
last=$(ls out/news-*.jsonl | tail -n 1)
[ "$(lines "$first")" -eq 4 ] || fail "$first: expected the 4 sample documents, got $(lines "$first")"
[ "$(lines "$last")" -eq 1 ] || fail "$last: expected only the new article, got $(lines "$last")"

status=$(git status --porcelain)
[ -z "$status" ] || fail "the quick start of $doc leaves the git tree dirty:
$status"
echo "ok - the quick start of docs/cron.md exports 4, 0, 1 documents and leaves git status clean"
