#!/usr/bin/env bash
# Publisher throughput and memory, as ratios against limits measured in the same run:
#   - the machine's SHA-256 throughput (every byte is read and hashed once),
#   - Kafka's own producer perf tool (ProducerPerformance) against the same broker,
#   - kcat producing every file of the same folder as one message each (zstd,
#     idempotent) to the same broker: the same bytes, without planning or batching,
#   - for the sizes in REPUBLISH_SIZES (default 10000): an unchanged re-publish with
#     every file claim-checked through MinIO beside an all-inline publish of the same
#     folder (the listing of what the bucket holds is what keeps that cheap).
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
benches/peers.sh >/dev/null
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
echo "| files | bytes | wall s | files/s | MB/s | MB/s ÷ sha256 | MB/s ÷ kafka perf | kcat wall s | kcat wall ÷ ours | max RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
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
  # kcat: each file one message, the same broker, zstd, idempotent
  ktopic=bench-kcat-$n-$RANDOM$RANDOM
  kstart=$(date +%s.%N)
  (cd "$corpus" && find . -type f -print0 | xargs -0 kcat -P -b "$KAFKA_BROKERS" -t "$ktopic" \
    -X compression.codec=zstd -X enable.idempotence=true -X message.max.bytes=2000000 >/dev/null 2>&1) || true
  kend=$(date +%s.%N)
  awk -v n="$n" -v b="$bytes" -v s="$start" -v e="$end" -v sha="$sha" -v k="$kafka_mb" -v rss="$rss_kb" -v ks="$kstart" -v ke="$kend" 'BEGIN {
    w = e - s; mb = b / w / 1e6; kw = ke - ks;
    printf "| %d | %d | %.2f | %.0f | %.1f | %.3f | %.3f | %.2f | %.2f | %.0f |\n", n, b, w, n / w, mb, mb / sha, mb / k, kw, kw / w, rss / 1024 }'
done

echo
echo "| files | inline publish s | object storage, first s | object storage, unchanged s | unchanged ÷ inline | objects listed |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in ${REPUBLISH_SIZES:-10000}; do
  corpus=$(benches/corpus.sh "$n") || continue
  project=bench-republish-$n-$RANDOM$RANDOM
  timed() { # timed <report> <flags...>: wall seconds of one publish
    local report=$1 s e; shift
    s=$(date +%s.%N)
    "$bin/tributary-publisher" publish --repo "$corpus" --project "$project" --topic "bench-republish-$n" \
      --progress off --report-json "$@" >"$report" 2>/dev/null || true
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'
  }
  inline=$(timed "$work/republish-inline-$n.json" --content-strategy inline --storage-provider none)
  first=$(timed "$work/republish-first-$n.json" --content-strategy object-storage --storage-provider minio)
  again=$(timed "$work/republish-again-$n.json" --content-strategy object-storage --storage-provider minio)
  listed=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('listed', '?'))" "$work/republish-again-$n.json" 2>/dev/null || echo '?')
  awk -v n="$n" -v i="$inline" -v f="$first" -v a="$again" -v l="$listed" 'BEGIN {
    printf "| %d | %.2f | %.2f | %.2f | %.2f | %s |\n", n, i, f, a, a / i, l }'
done
echo
echo "reports: $work/report-*.json (files by strategy, batches, skipped)"
