#!/usr/bin/env bash
# `vpcep-warden serve` end to end: the built binary ticks on its schedule
# against the emulator binary, /metrics is checked with Prometheus' own parser
# (check_metrics.py), /healthz answers, an unsigned POST is refused 401, and
# SIGTERM stops the server with exit code 0.
# Needs: pip install prometheus-client. Prints "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

cargo build --quiet -p vpcep-emulator -p vpcep-warden
cp tests/lambda/estate.json "$tmp/estate.json"
./target/debug/vpcep-emulator --listen 127.0.0.1:0 --scenario "$tmp/estate.json" > "$tmp/emulator.out" 2> "$tmp/emulator.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening on ' "$tmp/emulator.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$tmp/emulator.out" | head -n1)
[ -n "$base" ] || { echo "the emulator did not start"; cat "$tmp/emulator.err"; exit 1; }

env -i PATH="$PATH" \
  HUAWEICLOUD_SDK_AK=E2EPROVIDERAK0000001 \
  HUAWEICLOUD_SDK_SK=e2e-provider-secret-key-00000000000000000 \
  HUAWEICLOUD_SDK_PROJECT_ID=0e2e0000000000000000000000000001 \
  WARDEN_VPCEP_ENDPOINT="$base" \
  WARDEN_ALLOWED_DOMAINS=0a11owed0000000000000000000000a1 \
  WARDEN_WEBHOOK_SECRET=e2e-webhook-secret \
  ./target/debug/vpcep-warden serve --listen 127.0.0.1:0 --every 1h 2> "$tmp/serve.err" &
server=$!
pids+=($server)
for _ in $(seq 100); do grep -q '^listening on ' "$tmp/serve.err" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$tmp/serve.err" | head -n1)
[ -n "$url" ] || { echo "the server did not start"; cat "$tmp/serve.err"; exit 1; }

passed=0 failed=0
check() { if [ "$2" = "$3" ]; then passed=$((passed+1)); echo "ok   $1"; else failed=$((failed+1)); echo "FAIL $1: got $2, expected $3"; fi; }

python3 tests/serve/check_metrics.py "$url/metrics" && check "/metrics parses and shows the tick" 0 0 \
  || check "/metrics parses and shows the tick" 1 0
check "/healthz answers ok" "$(curl -s "$url/healthz")" ok
check "an unsigned POST is refused" \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" -d '{"service_id":"e2e5e000-0000-4000-8000-000000000001"}')" 401
kill -TERM "$server"
code=0; wait "$server" || code=$?
check "SIGTERM stops the server with exit code 0" "$code" 0
[ "$failed" = 0 ] || cat "$tmp/serve.err"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
