#!/usr/bin/env bash
# Publisher throughput and memory, as ratios against limits measured in the same run:
#   - the machine's SHA-256 throughput (every byte is read and hashed once),
#   - Kafka's own producer perf tool (ProducerPerformance) against the same broker.
# Corpus: regular files (<= 1 MiB) nobody here wrote — crate sources from the cargo
# registry, /usr/include, the Python standard library, /usr/share — copied into folders
# of 1k, 10k and 100k files. Prints a Markdown table.
#
#   benches/publish.sh [SIZES...]     default: 1000 10000 100000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sizes=("${@:-1000 10000 100000}")
read -r -a sizes <<<"${sizes[*]}"

deploy/local/services up >/dev/null
eval "$(deploy/local/services env)"
cargo build --release --quiet -p tributary-publisher -p tributary-benches
bin=${CARGO_TARGET_DIR:-target}/release

work=${TRIBUTARY_BENCH_DIR:-$HOME/.cache/tributary/bench}
mkdir -p "$work"

sha=$("$bin/sha256-speed" | awk '{print $2}')

# Kafka's own producer at a comparable record size (mean event size of a run ~ 800 kB
# batches; use 100 kB records x 2000 = 200 MB, zstd, acks=all, idempotent).
perf_topic=bench-perf-$RANDOM$RANDOM
perf=$(java -cp "$TRIBUTARY_KAFKA_LIBS/*" -Dlog4j2.level=ERROR org.apache.kafka.tools.ProducerPerformance \
  --topic "$perf_topic" --num-records 2000 --record-size 100000 --throughput -1 \
  --producer-props bootstrap.servers="$KAFKA_BROKERS" acks=all enable.idempotence=true compression.type=zstd linger.ms=50 \
  2>/dev/null | tail -1)
kafka_mb=$(sed -E 's/.*\(([0-9.]+) MB\/sec\).*/\1/' <<<"$perf")

echo "machine: $(nproc) cores; sha256: ${sha} MB/s; kafka ProducerPerformance: ${kafka_mb} MB/s (${perf%%,*})"
echo
echo "| files | bytes | wall s | files/s | MB/s | MB/s ÷ sha256 | MB/s ÷ kafka perf | max RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
  corpus=$(benches/corpus.sh "$n") || { echo "| $n | (not enough files found) |"; continue; }
  bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  topic=bench-publish-$n-$RANDOM$RANDOM
  stats=$(mktemp)
  start=$(date +%s.%N)
  /usr/bin/time -f %M -o "$stats" "$bin/tributary-publisher" publish --repo "$corpus" \
    --project "bench-$n" --topic "$topic" --storage-provider minio --progress off --report-json >"$work/report-$n.json" 2>"$work/log-$n.txt" || true
  end=$(date +%s.%N)
  rss_kb=$(tail -1 "$stats"); rm -f "$stats"
  awk -v n="$n" -v b="$bytes" -v s="$start" -v e="$end" -v sha="$sha" -v k="$kafka_mb" -v rss="$rss_kb" 'BEGIN {
    w = e - s; mb = b / w / 1e6;
    printf "| %d | %d | %.2f | %.0f | %.1f | %.3f | %.3f | %.0f |\n", n, b, w, n / w, mb, mb / sha, mb / k, rss / 1024 }'
done
echo
echo "reports: $work/report-*.json (files by strategy, batches, skipped)"
