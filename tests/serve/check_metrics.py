#!/usr/bin/env python3
"""Checks `vpcep-warden serve`'s /metrics with Prometheus' own text parser.

Usage: python3 tests/serve/check_metrics.py http://127.0.0.1:PORT/metrics [--timeout SECONDS]

Waits (up to the timeout, 60 s by default) until the server has run a tick,
then parses the exposition with prometheus_client's OpenMetrics parser (strict:
it refuses what Prometheus would refuse) and checks every family the README
names: its type, its labels (`target` on every series about the estate), and
that the numbers are those of the tick against tests/lambda/estate.json (one
allowed connection accepted, one stranger left pending, one failed endpoint
deleted). Prints
"N passed, M failed" and exits non-zero on any failure.
Requires: pip install prometheus-client
"""

import sys
import time
import urllib.request

try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
except ImportError as missing:  # say how to fix it rather than a traceback
    sys.exit(f"prometheus_client is not installed ({missing}): pip install prometheus-client")

GAUGES = ["vpcep_warden_quota_used", "vpcep_warden_quota_limit", "vpcep_warden_pending_connections",
          "vpcep_warden_last_tick_timestamp_seconds"]
# The parser names a counter family without its `_total` suffix.
PER_TARGET = ["vpcep_warden_approved", "vpcep_warden_rejected", "vpcep_warden_deleted", "vpcep_warden_errors"]
COUNTERS = PER_TARGET + ["vpcep_warden_api_calls", "vpcep_warden_runs", "vpcep_warden_ticks",
                         "vpcep_warden_ticks_skipped", "vpcep_warden_ticks_joined"]


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.headers.get("Content-Type", ""), answer.read().decode("utf-8")


def value(families, name, sample=None, **labels):
    for s in families[name].samples:
        if s.name == (sample or name) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    url = sys.argv[1]
    timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 60.0
    deadline = time.monotonic() + timeout
    while True:
        content_type, text = fetch(url)
        families = {f.name: f for f in text_string_to_metric_families(text)}
        ticks = value(families, "vpcep_warden_ticks", "vpcep_warden_ticks_total") if "vpcep_warden_ticks" in families else None
        if ticks and ticks >= 1:
            break
        if time.monotonic() > deadline:
            sys.exit(f"no tick within {timeout} s; last /metrics:\n{text}")
        time.sleep(0.2)

    passed = failed = 0

    def check(name, cond, detail=""):
        nonlocal passed, failed
        if cond:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {detail}")

    check("content type is OpenMetrics 1.0.0", content_type.startswith("application/openmetrics-text; version=1.0.0"),
          content_type)
    for name in GAUGES:
        check(f"{name} is a gauge", name in families and families[name].type == "gauge",
              families.get(name) and families[name].type)
    for name in COUNTERS:
        check(f"{name}_total is a counter", name in families and families[name].type == "counter",
              families.get(name) and families[name].type)
    if failed:
        print(text)
        print(f"{passed} passed, {failed} failed")
        return 1

    quota_types = {s.labels.get("type") for s in families["vpcep_warden_quota_used"].samples}
    check("quotas are labelled by type", "endpoint" in quota_types and "endpoint_service" in quota_types, quota_types)
    unlabelled = [f"{name} {s.labels}" for name in PER_TARGET + ["vpcep_warden_quota_used", "vpcep_warden_quota_limit",
                  "vpcep_warden_pending_connections"] for s in families[name].samples if not s.labels.get("target")]
    check("every series about the estate names its target", not unlabelled, unlabelled)
    check("quota limits are read", (value(families, "vpcep_warden_quota_limit", type="endpoint") or 0) > 0)
    total = lambda name: value(families, name, name + "_total")
    check("the allowed connection was approved", total("vpcep_warden_approved") == 1, total("vpcep_warden_approved"))
    check("the failed endpoint was deleted", total("vpcep_warden_deleted") == 1, total("vpcep_warden_deleted"))
    check("nothing was rejected", total("vpcep_warden_rejected") == 0, total("vpcep_warden_rejected"))
    check("no errors", total("vpcep_warden_errors") == 0, total("vpcep_warden_errors"))
    check("API calls are counted", (total("vpcep_warden_api_calls") or 0) > 0, total("vpcep_warden_api_calls"))
    check("the stranger is left pending", value(families, "vpcep_warden_pending_connections") == 1,
          value(families, "vpcep_warden_pending_connections"))
    last = value(families, "vpcep_warden_last_tick_timestamp_seconds") or 0
    check("the last tick is recent", abs(time.time() - last) < 300, last)
    if failed:
        print(text)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
