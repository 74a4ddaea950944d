#!/usr/bin/env bash
# Serves the N-file corpus (benches/corpus.sh) as a git repository through the local git
# daemon, made on first use and kept; prints its URL.
#
#   benches/corpus-git.sh N        (after: eval "$(deploy/local/services env)")
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n=$1
work=${TRIBUTARY_BENCH_DIR:-$HOME/.cache/tributary/bench}
corpus=$(benches/corpus.sh "$n")
repo=$work/corpus-$n-git
if [[ ! -d $TRIBUTARY_GIT_ROOT/bench-$n.git ]]; then
  rm -rf "$repo" && cp -r "$corpus" "$repo" && rm -f "$repo/.complete"
  git -C "$repo" init -q && git -C "$repo" add -A -f
  git -C "$repo" -c user.name=bench -c user.email=bench@tributary.invalid commit -q -m corpus
  git clone -q --bare "$repo" "$TRIBUTARY_GIT_ROOT/bench-$n.git"
fi
echo "$TRIBUTARY_GIT_DAEMON_URL/bench-$n.git"
