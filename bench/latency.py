#!/usr/bin/env python3
"""How fast a provider approves a cross-account request on each path, and
what a short schedule costs on a quiet estate, measured against the emulator.

A provider learns of a request from another account in one of two ways (a
CTS trigger cannot see it: VPCEP records createEndpoint in the consumer's
account; see README "Triggers and what they see"):
  - a schedule: a tick sweeps every pending connection; the request waits
    for the next tick (on average half the period) and then for the tick;
  - a notice from the consumer (webhook, queue): the warden acts on it at
    once; the request waits for the notice's delivery and one approval.

For each it runs `vpcep-warden` as a separate process against the emulator
(20 ms per request, as a same-region API answers), with a pending request
from an allowlisted account seeded before each run, and takes the median of
RUNS wall times until the process has approved it and exited (start-up
included). It also counts the calls of a tick on a quiet estate (10 managed
services, nothing pending, nothing failed) and what a 1-minute timer and
`serve --every 30s` cost a day.

    cargo build --workspace && python3 bench/latency.py            # debug builds
    cargo build --release --workspace && python3 bench/latency.py --release
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = "0b0000000000000000000000000000p1"
AK, SK = "BENCHPROVIDERAK00001", "bench-provider-secret-key-000000000000000"
ALLOWED = "0a11owed0000000000000000000000a1"
SERVICES, LATENCY_MS, RUNS = 10, 20, 7
ENDPOINT = "e0000000-0000-4000-8000-000000000001"


def service_id(i):
    return f"5e{i:06d}-0000-4000-8000-000000000000"


def scenario(pending):
    services = []
    for i in range(SERVICES):
        connections = [{"endpoint_id": f"ac{i:06d}-0000-4000-8000-000000000000",
                        "domain_id": ALLOWED, "status": "accepted",
                        "created_at": "2026-01-01T00:00:00Z"}]
        if pending and i == 0:
            connections.append({"endpoint_id": ENDPOINT, "domain_id": ALLOWED,
                                "status": "pendingAcceptance", "created_at": "2026-01-01T00:00:00Z"})
        services.append({"id": service_id(i), "owner": "provider", "service_name": f"svc-{i}",
                         "approval_enabled": True, "connections": connections})
    return {"accounts": [{"name": "provider", "domain_id": "9d0000000000000000000000000000d1",
                          "project_id": PROJECT, "ak": AK, "sk": SK}],
            "quotas": {"endpoint": 150, "endpoint_service": 20}, "services": services}


def call(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as r:
        text = r.read()
        return json.loads(text) if text.strip() else None


def start_emulator(binary, path):
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--scenario", path,
                             "--latency-ms", str(LATENCY_MS)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"the emulator did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def run(warden, base, args, stdin=""):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARDEN_", "HUAWEICLOUD_"))}
    env.update({"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK, "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
                "WARDEN_VPCEP_ENDPOINT": base, "WARDEN_ALLOWED_DOMAINS": ALLOWED, "RUST_LOG": "warn"})
    start = time.monotonic()
    proc = subprocess.run([warden, *args], env=env, input=stdin, capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return wall * 1000, json.loads(proc.stdout)


def approved(base):
    state = call(f"{base}/__admin/state")
    for service in state["services"]:
        for c in service.get("connections", []):
            if c.get("endpoint_id", c.get("id")) == ENDPOINT:
                return c["status"] == "accepted"
    return False


def approval_ms(warden, base, args, stdin=""):
    """The median wall time of RUNS approvals, and the calls one made."""
    walls, calls = [], 0
    for _ in range(RUNS):
        call(f"{base}/__admin/scenario", scenario(pending=True))
        wall, report = run(warden, base, args, stdin)
        if not report.get("approved") or not approved(base):
            sys.exit(f"{' '.join(args)} did not approve the request: {report}")
        walls.append(wall)
        calls = report["api_calls"]
    return statistics.median(walls), calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--release", action="store_true", help="use target/release binaries")
    profile = "release" if parser.parse_args().release else "debug"
    warden = os.path.join(ROOT, "target", profile, "vpcep-warden")
    emulator = os.path.join(ROOT, "target", profile, "vpcep-emulator")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scenario.json")
        with open(path, "w") as f:
            json.dump(scenario(pending=False), f)
        proc, base = start_emulator(emulator, path)
        try:
            quiet = {}
            for jobs in ("approve", "approve,quota,gc"):
                call(f"{base}/__admin/scenario", scenario(pending=False))
                _, report = run(warden, base, ["tick", "--jobs", jobs])
                quiet[jobs] = report["api_calls"]
            tick_ms, tick_calls = approval_ms(warden, base, ["tick", "--jobs", "approve"])
            notice = json.dumps({"warden": "connection", "service_id": service_id(0),
                                 "endpoint_id": ENDPOINT})
            notice_ms, notice_calls = approval_ms(warden, base, ["invoke", "-"], notice)
        finally:
            proc.kill()
    result = {
        "profile": profile, "services": SERVICES, "latency_ms": LATENCY_MS, "runs": RUNS,
        "quiet_tick_calls": quiet,
        "calls_per_day": {"timer_1m": {j: n * 1440 for j, n in quiet.items()},
                          "serve_every_30s": {j: n * 2880 for j, n in quiet.items()}},
        "approve_tick_ms": round(tick_ms), "approve_tick_calls": tick_calls,
        "notice_ms": round(notice_ms), "notice_calls": notice_calls,
        "approval_latency_ms": {
            "timer_1m": {"mean": round(30_000 + tick_ms), "worst": round(60_000 + tick_ms)},
            "serve_every_30s": {"mean": round(15_000 + tick_ms), "worst": round(30_000 + tick_ms)},
            "timer_5m": {"mean": round(150_000 + tick_ms), "worst": round(300_000 + tick_ms)},
            "consumer_notice": {"after_delivery": round(notice_ms)},
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
