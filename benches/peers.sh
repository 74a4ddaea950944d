#!/usr/bin/env bash
# The peers the benchmarks measure Tributary beside, installed once (idempotent):
# tokei (cargo install, into the bench folder), universal-ctags, kcat and cloc (Debian).
# Prints the tools folder; tokei is at "$(benches/peers.sh)/bin/tokei".
#
#   tools=$(benches/peers.sh)
set -euo pipefail
work=${TRIBUTARY_BENCH_DIR:-$HOME/.cache/tributary/bench}
tools=$work/tools
mkdir -p "$tools"
[[ -x $tools/bin/tokei ]] || cargo install --quiet --locked tokei --root "$tools" >&2
missing=()
command -v ctags >/dev/null || missing+=(universal-ctags)
command -v kcat >/dev/null || missing+=(kcat)
command -v cloc >/dev/null || missing+=(cloc)
if ((${#missing[@]})); then
  sudo=(); [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "$tools"
