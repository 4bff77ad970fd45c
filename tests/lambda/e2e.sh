#!/usr/bin/env bash
# The real Lambda path end to end: `cargo lambda watch` serves the function
# through the Lambda runtime API; `cargo lambda invoke` sends a schedule, an
# HTTP and an SQS event; the function works against an emulator started here.
# Needs cargo-lambda (pip install cargo-lambda). Prints "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

cargo build --quiet -p vpcep-emulator
cp tests/lambda/estate.json "$tmp/estate.json"
./target/debug/vpcep-emulator --listen 127.0.0.1:0 --scenario "$tmp/estate.json" > "$tmp/emulator.out" 2> "$tmp/emulator.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening on ' "$tmp/emulator.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$tmp/emulator.out" | head -n1)
[ -n "$base" ] || { echo "the emulator did not start"; cat "$tmp/emulator.err"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/env" <<ENV
HUAWEICLOUD_SDK_AK=E2EPROVIDERAK0000001
HUAWEICLOUD_SDK_SK=e2e-provider-secret-key-00000000000000000
HUAWEICLOUD_SDK_PROJECT_ID=0e2e0000000000000000000000000001
WARDEN_VPCEP_ENDPOINT=$base
WARDEN_ALLOWED_DOMAINS=0a11owed0000000000000000000000a1
WARDEN_WEBHOOK_SECRET=e2e-webhook-secret
RUST_LOG=info
ENV
cargo lambda watch --quiet --bin vpcep-warden --invoke-port "$port" --env-file "$tmp/env" > "$tmp/watch.log" 2>&1 &
pids+=($!)

invoke() { cargo lambda invoke vpcep-warden --invoke-port "$port" --data-file "$1" --output-format json 2>&1; }
# The first invocation waits for the build.
for _ in $(seq 600); do
  if out=$(invoke tests/lambda/schedule-quota.json) && grep -q '"quotas"' <<<"$out"; then break; fi
  sleep 1
done

python3 tests/lambda/sign_http.py events/apigw-http-v2.json e2e-webhook-secret tests/lambda/notice.json > "$tmp/http.json"
schedule=$(invoke events/eventbridge-schedule.json || true)
http=$(invoke "$tmp/http.json" || true)
sqs=$(invoke tests/lambda/sqs-one-bad.json || true)

python3 - "$schedule" "$http" "$sqs" <<'PY'
import json, sys
schedule, http, sqs = sys.argv[1:4]
passed = failed = 0
def check(name, cond, detail):
    global passed, failed
    if cond:
        passed += 1; print(f"ok   {name}")
    else:
        failed += 1; print(f"FAIL {name}: {detail}")
def load(s):
    try: return json.loads(s)
    except ValueError: return None
r = load(schedule)
check("schedule: approves the allowlisted connection, leaves the stranger", r is not None
      and [e["endpoint_id"] for e in r["approved"]] == ["e2e00000-0000-4000-8000-000000000001"]
      and [e["endpoint_id"] for e in r["left_pending"]] == ["e2e00000-0000-4000-8000-000000000002"], schedule)
check("schedule: deletes the old failed endpoint", r is not None
      and [e["endpoint_id"] for e in r["deleted"]] == ["e2e00000-0000-4000-8000-0000000000f1"], schedule)
h = load(http)
body = load(h["body"]) if h else None
check("http: 200 with the report", h is not None and h.get("statusCode") == 200 and body is not None
      and body["trigger"] == "connection", http)
q = load(sqs)
check("sqs: exactly the failed record is listed", q == {"batchItemFailures": [{"itemIdentifier": "msg-bad"}]}, sqs)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
