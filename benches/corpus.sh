#!/usr/bin/env bash
# Prints the path of a corpus folder of N regular files (<= 1 MiB) nobody here wrote —
# crate sources from the cargo registry, /usr/include, the Python standard library,
# /usr/share — made on first use under the bench folder and kept.
#
#   benches/corpus.sh N
set -euo pipefail
n=$1
work=${TRIBUTARY_BENCH_DIR:-$HOME/.cache/tributary/bench}
mkdir -p "$work"
list=$work/corpus.list
if [[ ! -s $list ]]; then
  roots=("$HOME/.cargo/registry/src" /usr/include)
  for p in /usr/lib/python3* "$HOME"/.pyenv/versions/*/lib/python3.*; do [[ -d $p ]] && roots+=("$p"); done
  roots+=(/usr/share)
  # head ends the pipeline early on purpose: ignore the SIGPIPE of find and grep
  { find "${roots[@]}" -type f -size -1024k -readable 2>/dev/null | grep -v -e '/\.git/' | head -n 100000 >"$list"; } || true
fi
if (( n > $(wc -l <"$list") )); then
  echo "only $(wc -l <"$list") files found for a corpus of $n" >&2
  exit 1
fi
corpus=$work/corpus-$n
if [[ ! -f $corpus/.complete ]]; then
  rm -rf "$corpus" && mkdir -p "$corpus"
  { head -n "$n" "$list" | sed 's|^/||' | tar -C / -cf - -T - 2>/dev/null | tar -C "$corpus" -xf -; } || true
  touch "$corpus/.complete"
fi
echo "$corpus"
