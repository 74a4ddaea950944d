#!/usr/bin/env bash
# Consumer throughput and cache-tier latencies, per content strategy, cold and warm,
# on a corpus of real files (the 10k-file corpus of publish.sh), beside the limits and
# peers measured in the same run: the machine's SHA-256 speed (every byte is verified),
# and tokei + universal-ctags over the same folder (lines and symbols, the two things
# the consumer's analysis is compared with; best of three, page cache warm). The
# analysis cache is measured by consuming each strategy's topic a second time with the
# first run's caches (`*-analysis-cached`): every file was seen before, so none is
# fetched or analysed (inline bytes still arrive with their events).
#
# For each phase: publish the corpus with one strategy to a fresh topic, then time a
# release consumer (fresh group) until it has been idle for 3 s; the idle wait is
# subtracted. Per-file resolve/analyse latencies come from the documents' `timing`.
#
#   benches/consume.sh [FILES]     default 10000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n=${1:-10000}

deploy/local/services up >/dev/null
eval "$(deploy/local/services env)"
tools=$(benches/peers.sh)
cargo build --release --quiet -p tributary-publisher -p tributary-consumer -p tributary-benches
bin=${CARGO_TARGET_DIR:-target}/release

work=${TRIBUTARY_BENCH_DIR:-$HOME/.cache/tributary/bench}
corpus=$work/corpus-$n
[[ -f $corpus/.complete ]] || benches/publish.sh "$n" >/dev/null
bytes=$(find "$corpus" -type f -not -name .complete -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$corpus" -type f -not -name .complete | wc -l)
sha=$("$bin/sha256-speed" | awk '{print $2}')

# a git repository of the corpus, served by the git daemon
git_url=$(benches/corpus-git.sh "$n")

run_id=$RANDOM$RANDOM
caches=$work/consume-caches-$run_id
publish() { # publish <topic> <flags...>
  local topic=$1; shift
  "$bin/tributary-publisher" publish --project "bench-$n" --topic "$topic" --progress off "$@" >/dev/null 2>&1
}
consume() { # consume <label> <topic> <cache-suffix> <flags...>
  local label=$1 topic=$2 suffix=$3; shift 3
  local out=bench-out-$label-$run_id stats start end rss
  stats=$(mktemp)
  start=$(date +%s.%N)
  /usr/bin/time -f %M -o "$stats" "$bin/tributary-consumer" run --input-topic "$topic" --output-topic "$out" \
    --dlq-topic "bench-dlq-$run_id" --group "bench-$label-$run_id" --exit-when-idle 3s --summary-wait 0s \
    --cache-dir "$caches/content$suffix" --git-cache-dir "$caches/git$suffix" \
    --analysis-cache-dir "$caches/analysis$suffix" "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  rss=$(tail -1 "$stats"); rm -f "$stats"
  local timings
  timings=$("$bin/topic-timings" "$KAFKA_BROKERS" "$out")
  awk -v l="$label" -v b="$bytes" -v f="$files" -v s="$start" -v e="$end" -v sha="$sha" -v rss="$rss" -v t="$timings" -v peers="$peers" 'BEGIN {
    w = e - s - 3; if (w < 0.001) w = 0.001; split(t, kv, /[ =]/);
    for (i = 1; i < length(kv); i += 2) m[kv[i]] = kv[i+1];
    printf "| %s | %d | %.2f | %.2f | %.0f | %.1f | %.3f | %s | %s | %s | %.0f |\n", l, m["docs"], w, w / peers, f / w, b / w / 1e6, b / w / 1e6 / sha,
      m["resolve_p50_us"], m["resolve_p99_us"], m["analyse_p50_us"], rss / 1024 }'
}

best() { # best <command...>: the best of three wall-clock seconds
  local b=999999 s e
  for _ in 1 2 3; do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    b=$(awk -v b="$b" -v s="$s" -v e="$e" 'BEGIN { t = e - s; print (t < b) ? t : b }')
  done
  echo "$b"
}
# the corpus keeps its files under dot folders (.cargo): tokei skips those unless told
tokei_s=$(best "$tools/bin/tokei" --hidden "$corpus")
ctags_s=$(best ctags -R -f /dev/null "$corpus")
peers=$(awk -v a="$tokei_s" -v b="$ctags_s" 'BEGIN { print a + b }')

t_inline=bench-in-inline-$run_id; t_object=bench-in-object-$run_id; t_git=bench-in-git-$run_id
publish "$t_inline" --repo "$corpus" --content-strategy inline
publish "$t_object" --repo "$corpus" --content-strategy object-storage
publish "$t_git" --repo "$git_url" --content-strategy git-reference --storage-provider none

echo "corpus: $files files, $bytes bytes; sha256 ${sha} MB/s; memory cache 256 MiB, disk cache 10 GB (defaults)"
echo "peers on the same folder: tokei ${tokei_s} s + universal-ctags ${ctags_s} s = ${peers} s"
echo
echo "| phase | docs | wall s | wall ÷ (tokei + ctags) | files/s | MB/s | MB/s ÷ sha256 | resolve p50 µs | resolve p99 µs | analyse p50 µs | max RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
# Each strategy gets its own caches: the corpus is the same bytes, and a checksum hit
# from another phase would make a cold phase warm.
consume inline "$t_inline" -inline
# the same topic again with the first run's analysis cache: nothing is analysed twice
consume inline-analysis-cached "$t_inline" -inline
consume object-cold "$t_object" -object
# again with the first run's caches: every file seen before, nothing fetched
consume object-analysis-cached "$t_object" -object
# same disk cache, new process: memory is cold; analysis cache off (this phase measures
# the disk tier, not the analysis cache)
consume object-warm-disk "$t_object" -object --analysis-cache-max-size-gb 0
consume git-cold "$t_git" -git --cache-max-size-gb 0 --memory-cache-mb 0
consume git-analysis-cached "$t_git" -git --cache-max-size-gb 0 --memory-cache-mb 0
# warm git: the clone cache has the commit; content caches off so reads come from git
consume git-warm "$t_git" -git --cache-max-size-gb 0 --memory-cache-mb 0 --analysis-cache-max-size-gb 0
rm -rf "$caches"
