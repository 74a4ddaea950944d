#!/usr/bin/env bash
# Consumer memory under sustained load: one release consumer (memory cache of
# --memory-cache-mb, default 64 MiB) while a 100k-file corpus nobody here wrote (the
# publish.sh corpus: cargo registry, /usr/include, the Python standard library,
# /usr/share) is republished inline, run after run, for SOAK_SECS (default 900). RSS is
# sampled every 10 s from /proc; the report gives RSS over time, the peak, the drift
# after warm-up (from the 5-minute mark to the end) and the bound the consumer should
# hold: memory-cache budget + 128 MiB.
#
#   benches/soak.sh [SOAK_SECS] [MEMORY_CACHE_MB]
#
# The consumer runs with its defaults, the analysis cache included (its own folder,
# empty at the start): from the second pass of the corpus on, files are cache hits.
# SOAK_CONSUMER_ARGS adds flags to the consumer (e.g. "--analysis-cache-max-size-gb 0"
# to analyse every file every time, or "--partition-queue 1");
# SOAK_FEATURES builds with cargo features (e.g. "tributary-consumer/heap-profiling",
# then _RJEM_MALLOC_CONF=prof:true,lg_prof_interval:33,prof_prefix:/tmp/jeprof/c
# dumps heap profiles for jeprof).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs=${1:-900}
cache_mb=${2:-64}

deploy/local/services up >/dev/null
eval "$(deploy/local/services env)"
cargo build --release --quiet -p tributary-publisher -p tributary-consumer ${SOAK_FEATURES:+--features "$SOAK_FEATURES"}
bin=${CARGO_TARGET_DIR:-target}/release

work=${TRIBUTARY_BENCH_DIR:-$HOME/.cache/tributary/bench}
mkdir -p "$work"
corpus=$(benches/corpus.sh 100000)
files=$(find "$corpus" -type f ! -name .complete | wc -l)

run=soak-$RANDOM$RANDOM
topic=$run-in
samples=$work/$run-rss.csv
"$bin/tributary-consumer" --log-format json run --input-topic "$topic" --output-topic "$run-out" --dlq-topic "$run-dlq" \
  --group "$run" --storage-provider none --memory-cache-mb "$cache_mb" --summary-wait 0 \
  --cache-dir "$work/$run-cache" --git-cache-dir "$work/$run-git" --analysis-cache-dir "$work/$run-analysis" \
  ${SOAK_CONSUMER_ARGS:-} >"$work/$run-consumer.log" 2>&1 &
consumer=$!
# the soak's topics hold gigabytes: delete them when done (the disk is shared)
cleanup() {
  kill "$consumer" 2>/dev/null || true
  rm -rf "$work/$run-cache" "$work/$run-git" "$work/$run-analysis"
  java -cp "$TRIBUTARY_KAFKA_LIBS/*" -Dlog4j2.level=ERROR org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$KAFKA_BROKERS" --delete --topic "$run-.*" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# sampler: seconds since start, RSS in KiB
(
  start=$(date +%s)
  while kill -0 "$consumer" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$consumer/status" 2>/dev/null || echo 0)
    echo "$(( $(date +%s) - start )),$rss"
    sleep 10
  done
) >"$samples" &
sampler=$!

end=$(( $(date +%s) + secs ))
runs=0
while (( $(date +%s) < end )); do
  "$bin/tributary-publisher" publish --repo "$corpus" --project "$run-$runs" --topic "$topic" \
    --content-strategy inline --storage-provider none --progress off >/dev/null 2>&1 || true
  runs=$((runs + 1))
  # keep the consumer busy without an ever-growing backlog: one run per 60 s at most
  sleep 30
done
kill -TERM "$consumer" 2>/dev/null || true
wait "$consumer" 2>/dev/null || true
kill "$sampler" 2>/dev/null || true
docs=$(grep -o '"documents":[0-9]*' "$work/$run-consumer.log" | tail -1 | cut -d: -f2)

echo "soak: ${secs}s, $runs runs of $files files published, ${docs:-?} documents; memory cache ${cache_mb} MiB"
echo
echo "| minute | RSS MiB |"
echo "|---:|---:|"
awk -F, '$1 % 60 < 10 { printf "| %d | %.0f |\n", $1 / 60, $2 / 1024 }' "$samples"
echo
# drift: the mean of the two minutes after warm-up (5 min) against the mean of the last
# two minutes of load (single samples swing by ±10 MiB with the work in flight; samples
# taken while the consumer shuts down are left out)
awk -F, -v budget="$cache_mb" -v secs="$secs" '
  $1 > secs { next }
  { if ($2 > peak) peak = $2 }
  $1 >= 300 && $1 < 420 { w += $2; nw++ }
  $1 >= secs - 120 { l += $2; nl++ }
  END {
    warm = nw ? w / nw : 0; last = nl ? l / nl : 0
    drift = warm ? (last - warm) / warm * 100 : 0
    printf "peak %.0f MiB; mean after warm-up (minutes 5-7) %.0f MiB -> last two minutes %.0f MiB: drift %+.1f %%\n", peak / 1024, warm / 1024, last / 1024, drift
    printf "bound (memory cache + 128 MiB): %d MiB -> %s\n", budget + 128, (peak / 1024 <= budget + 128 ? "held" : "NOT held")
  }' "$samples"
echo "samples: $samples"
