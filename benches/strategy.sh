#!/usr/bin/env bash
# The learned content strategy against the fixed rules, on a recorded history: the
# corpus (10k files nobody here wrote) is published and consumed twice on the local
# services — every file through object storage (MinIO), every file by git reference
# (the git daemon) — each consumer with cold caches; each file's resolve time, as its
# consumer recorded it in its document, is that strategy's cost for it. Then
# `strategy-replay` replays the files above an inline limit in order under the rules
# (object storage), under the learned model (starting empty, learning as it goes) and
# under hindsight, and prints the expected cost (price-table dollars plus delay at
# delay_usd_per_second) and the consumers' total fetch time of each.
#
#   benches/strategy.sh [FILES] [INLINE_LIMIT_BYTES]      default 10000 8192
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n=${1:-10000}
limit=${2:-8192}

deploy/local/services up >/dev/null
eval "$(deploy/local/services env)"
cargo build --release --quiet -p tributary-publisher -p tributary-consumer -p tributary-benches
bin=${CARGO_TARGET_DIR:-target}/release
corpus=$(benches/corpus.sh "$n")
git_url=$(benches/corpus-git.sh "$n")
run_id=$RANDOM$RANDOM
caches=$(mktemp -d)
trap 'rm -rf "$caches"' EXIT

record() { # record <label> <publish flags...>: publish, then consume with cold caches
  local label=$1; shift
  "$bin/tributary-publisher" publish --project "strategy-$n" --topic "bench-strategy-in-$label-$run_id" \
    --progress off "$@" >/dev/null 2>&1
  "$bin/tributary-consumer" run --input-topic "bench-strategy-in-$label-$run_id" \
    --output-topic "bench-strategy-out-$label-$run_id" --dlq-topic "bench-strategy-dlq-$run_id" \
    --group "bench-strategy-$label-$run_id" --exit-when-idle 3s --summary-wait 0s \
    --cache-dir "$caches/$label/content" --git-cache-dir "$caches/$label/git" \
    --analysis-cache-dir "$caches/$label/analysis" --git-allowed-schemes git >/dev/null 2>&1
}
record object --repo "$corpus" --content-strategy object-storage
record git --repo "$git_url" --content-strategy git-reference --storage-provider none
"$bin/strategy-replay" "$KAFKA_BROKERS" "bench-strategy-out-object-$run_id" "bench-strategy-out-git-$run_id" "$limit"
