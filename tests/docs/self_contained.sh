#!/bin/bash
# A clone is complete: no file points at notes outside the repository or at a machine's absolute
# path, and every relative link in the Markdown files names a file or folder that exists.
# Usage: self_contained.sh SRC
set -u
SRC=$1
cd "$SRC" || exit 1
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "SKIP: $SRC is not a git work tree (the test reads the tracked files)"; exit 77
fi
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# 1. Pointers outside: a path that climbs out of the repository into shared notes, or the
#    names of the development notes this project once cited (spelled in pieces so that this
#    file does not match itself).
outside='\.\./''shared|shared''/docs|cp-''semantics\.md|anc''hors\.md|simgrid-''notes\.md'
hits=$(git ls-files -z | xargs -0 grep -nIE "$outside" -- 2>/dev/null)
[ -z "$hits" ] || fail "files point outside the repository:"$'\n'"$hits"

# 2. No absolute path of a development or GPU machine (under work, root or home) outside the
#    recorded runs: measurement files, their logs and check tables keep the command line they ran
#    (`argv`, provenance that nothing reads), everything a reader follows stays relative.
machine='(^|[^A-Za-z0-9_$}.-])/(work|root|home)/'
hits=$(git ls-files -z -- ':!:*/results/*' ':!:*.log' | xargs -0 grep -nIE "$machine" -- 2>/dev/null)
[ -z "$hits" ] || fail "files name a machine's absolute path:"$'\n'"$hits"

# 3. Relative Markdown links resolve: [text](path) or [text](path#anchor), not URLs.
while IFS= read -r md; do
  dir=$(dirname "$md")
  while IFS= read -r target; do
    path=${target%%#*}
    [ -z "$path" ] && continue
    case $path in http://*|https://*|mailto:*) continue ;; esac
    [ -e "$dir/$path" ] || fail "$md links to $target, which does not exist"
  done < <(grep -oE '\]\([^) ]+\)' "$md" | sed -E 's/^\]\((.*)\)$/\1/')
done < <(git ls-files '*.md')

[ $failures -eq 0 ] && echo "OK: no pointers outside; every relative Markdown link resolves"
exit $((failures > 0))
