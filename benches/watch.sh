#!/usr/bin/env bash
# Continuous indexing: the cost of an incremental run beside a full run of the same
# 10,000-file repository, and push-to-intelligence latency (webhook sent -> the changed
# file's document on the output topic) with a consumer running, p50/p99 over N pushes.
#
#   benches/watch.sh [PUSHES]     default 30
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pushes=${1:-30}
n=10000

deploy/local/services up >/dev/null
eval "$(deploy/local/services env)"
cargo build --release --quiet -p tributary-publisher -p tributary-consumer -p tributary-benches
bin=${CARGO_TARGET_DIR:-target}/release
work=${TRIBUTARY_BENCH_DIR:-$HOME/.cache/tributary/bench}
[[ -d $TRIBUTARY_GIT_ROOT/bench-$n.git ]] || benches/consume.sh "$n" >/dev/null

id=$RANDOM$RANDOM
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; rm -rf "${TRIBUTARY_GIT_ROOT:?}/watch-bench-$id.git"; }
trap cleanup EXIT

# a served repository with the 10k-file corpus, and a working clone that pushes to it
git clone -q --bare "$TRIBUTARY_GIT_ROOT/bench-$n.git" "$TRIBUTARY_GIT_ROOT/watch-bench-$id.git"
git clone -q "$TRIBUTARY_GIT_ROOT/watch-bench-$id.git" "$tmp/work"
git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null || true
url="$TRIBUTARY_GIT_DAEMON_URL/watch-bench-$id.git"
files=$(git -C "$tmp/work" ls-files | wc -l)

secret=bench-secret-$id
printf '%s' "$secret" >"$tmp/secret"
port=$((20000 + RANDOM % 20000))
cat >"$tmp/watch.toml" <<TOML
poll_interval_secs = 0
[webhooks]
gitea_secret = "file:$tmp/secret"
[[repository]]
project = "watch-bench-$id"
url = "$url"
branches = ["main"]
TOML

in=watch-bench-in-$id out=watch-bench-out-$id
"$bin/tributary-consumer" run --input-topic "$in" --output-topic "$out" --dlq-topic "watch-bench-dlq-$id" \
  --group "watch-bench-$id" --cache-dir "$tmp/cache" --git-cache-dir "$tmp/git" --summary-wait 0s >"$tmp/consumer.log" 2>&1 &
pids+=($!)

cursor() { sed -n 's/.*"main": "\([0-9a-f]*\)".*/\1/p' "$tmp/state/cursors.json" 2>/dev/null || true; }
head=$(git -C "$tmp/work" rev-parse HEAD)
start=$(date +%s.%N)
"$bin/tributary-publisher" watch --watch-file "$tmp/watch.toml" --state-dir "$tmp/state" --topic "$in" \
  --listen "127.0.0.1:$port" --log-format json >"$tmp/watch.log" 2>&1 &
pids+=($!)
until [[ $(cursor) == "$head" ]]; do sleep 0.05; done
full=$(echo "$(date +%s.%N) $start" | awk '{print $1 - $2}')

# incremental runs: one changed file each, timed webhook -> cursor advanced
incr=()
for i in 1 2 3 4 5; do
  echo "change $i" >>"$tmp/work/README.bench.txt"
  git -C "$tmp/work" add README.bench.txt
  git -C "$tmp/work" -c user.name=bench -c user.email=bench@tributary.invalid commit -q -m "change $i"
  git -C "$tmp/work" push -q origin HEAD:main
  head=$(git -C "$tmp/work" rev-parse HEAD)
  body="{\"ref\":\"refs/heads/main\",\"repository\":{\"clone_url\":\"$url\"}}"
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
  t0=$(date +%s.%N)
  curl -sS -o /dev/null -H "X-Gitea-Signature: $sig" -H "X-Gitea-Delivery: incr-$id-$i" --data-binary "$body" "http://127.0.0.1:$port/hooks/gitea"
  until [[ $(cursor) == "$head" ]]; do sleep 0.01; done
  incr+=("$(echo "$(date +%s.%N) $t0" | awk '{print $1 - $2}')")
done
incr_p50=$(printf '%s\n' "${incr[@]}" | sort -n | sed -n 3p)

echo "full run $full s; incremental runs ${incr[*]} s" >&2
lat=$("$bin/push-latency" "$KAFKA_BROKERS" "$out" "$tmp/work" "http://127.0.0.1:$port/hooks/gitea" "$secret" "$url" "watch-bench-$id" "$pushes") || {
  echo "push-latency failed; consumer and watcher logs:" >&2
  tail -n 20 "$tmp/consumer.log" "$tmp/watch.log" >&2
  exit 1
}
echo "repository: $files files"
echo "full run (first index, webhook-less catch-up): $(printf '%.2f' "$full") s"
echo "incremental run, 1 file changed (webhook -> cursor advanced), median of 5: $(printf '%.3f' "$incr_p50") s"
awk -v f="$full" -v i="$incr_p50" 'BEGIN { printf "incremental / full: %.4f (%.0fx cheaper)\n", i / f, f / i }'
echo "push -> document on the output topic, consumer running:"
echo "$lat"
