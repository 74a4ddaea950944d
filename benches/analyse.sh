#!/usr/bin/env bash
# Analysis throughput on real code nobody here wrote — the machine's Python standard
# library, /usr/include, Go's sources and /usr/share/doc (license and copyright files)
# — beside tokei and universal-ctags run on the same folders in the same session (best
# of three wall-clock runs each; the page cache is warm). tokei counts lines and ctags
# lists symbols: together, the two things the consumer's analysis is compared with.
# Tributary also detects languages with Linguist's rules, parses nine languages with
# tree-sitter for symbols, imports and complexity, matches licenses and scans for
# secrets.
#
#   benches/analyse.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tools=$(benches/peers.sh)
cargo build --release --quiet -p tributary-benches --bin analyse-corpus
bin=${CARGO_TARGET_DIR:-target}/release

dirs=("$(python3 -c "import sysconfig; print(sysconfig.get_paths()['stdlib'])")" /usr/include "$(go env GOROOT)/src" /usr/share/doc)

best() { # best <command...>: the best of three wall-clock seconds
  local b=999999
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    b=$(echo "$b $s $e" | awk '{t=$3-$2; print (t<$1)?t:$1}')
  done
  echo "$b"
}

ours=$("$bin/analyse-corpus" "${dirs[@]}")
echo "$ours"
files=$(awk '/^files /{print $2}' <<<"$ours")
bytes=$(awk '/^bytes /{print $2}' <<<"$ours")
secs=$(awk '/^analyse_secs /{print $2}' <<<"$ours")
lines_secs=$(awk '/^lines_only_secs /{print $2}' <<<"$ours")
parse_secs=$(awk '/^parse_only_secs /{print $2}' <<<"$ours")
estimate_secs=$(awk '/^analyse_estimated_tokens_secs /{print $2}' <<<"$ours")
both_secs=$(awk '/^analyse_both_encodings_secs /{print $2}' <<<"$ours")
tokei_secs=$(best "$tools/bin/tokei" "${dirs[@]}")
ctags_secs=$(best ctags -R -f /dev/null "${dirs[@]}")
awk -v f="$files" -v b="$bytes" -v o="$secs" -v l="$lines_secs" -v p="$parse_secs" -v e="$estimate_secs" -v w="$both_secs" -v t="$tokei_secs" -v c="$ctags_secs" 'BEGIN {
  printf "tributary analyse: %d files, %.0f MB in %.2f s = %.0f files/s, %.1f MB/s (tokens under o200k_base, the default)\n", f, b/1e6, o, f/o, b/1e6/o
  printf "  tokens estimated (--token-encodings none): %.2f s = %.1f MB/s; o200k_base costs %.2fx that\n", e, b/1e6/e, o/e
  printf "  o200k_base and cl100k_base:                %.2f s = %.1f MB/s; %.2fx the estimate\n", w, b/1e6/w, w/e
  printf "tokei (CLI):       %.2f s\n", t
  printf "ctags (CLI):       %.2f s\n", c
  printf "tokei + ctags:     %.2f s   -> tributary takes %.2fx their wall time\n", t + c, o / (t + c)
  printf "tokei library, line counting alone in the same harness: %.2f s (the full analysis costs %.1fx that)\n", l, o/l
  printf "language detection + tree-sitter parse alone: %.2f s = %.1f MB/s, %.2fx tokei + ctags (the floor while symbols come from a real parse)\n", p, b/1e6/p, p / (t + c)
}'
