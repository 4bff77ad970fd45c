#!/usr/bin/env python3
"""Benchmark of a tick over many targets (50 and 500): one warden identity,
that many customer accounts in one release emulator (20 ms latency per
request), each reached through an agency, each a small estate. Counts the
minimum calls the work needs (the sum of the per-target minima), runs
`vpcep-warden tick` as a whole process with a deployment's settings (default
log level; the gc cap raised to the estate's failed endpoints, as a
deployment of that size would, since the cap counts across targets),
measures its peak RSS, and writes the "Many targets" section of
BENCHMARKS.md (kept just before "Hostile answers").

    cargo build --release --workspace && python3 bench/targets.py
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import EMULATOR, ROOT, WARDEN, get, start_emulator  # noqa: E402

SIZES, SERVICES, PENDING_ALLOWED, PENDING_OTHER, ACCEPTED = (50, 500), 2, 2, 2, 6
ENDPOINTS, FAILED_OLD = 5, 1
LATENCY_MS, CONCURRENCY = 20, 16
WARDEN_DOMAIN = "9d0000000000000000000000000000d1"
WARDEN_PROJECT = "0b0000000000000000000000000000p1"
AK, SK = "BENCHWARDENAK0000001", "bench-warden-secret-key-0000000000000000"
ALLOWED = "0a11owed0000000000000000000000a1"
HEADING = "## Many targets"


def when(delta):
    return (datetime.now(timezone.utc) - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def hexid(prefix, i, width=32):
    return (prefix + f"{i:06x}").ljust(width, "0")[:width]


def scenario(count):
    accounts = [{"name": "warden", "domain_id": WARDEN_DOMAIN, "project_id": WARDEN_PROJECT,
                 "ak": AK, "sk": SK}]
    services, endpoints = [], []
    week_ago, two_days_ago = when(timedelta(days=7)), when(timedelta(days=2))
    for t in range(count):
        name = f"t{t:03d}"
        accounts.append({"name": name, "domain_id": hexid("c0", t), "project_id": hexid("b0", t),
                         "ak": f"BENCHAK{t:013d}", "sk": f"bench-secret-{t:027d}",
                         "agencies": [{"name": "warden", "trusted_domain_id": WARDEN_DOMAIN}]})
        for s in range(SERVICES):
            conns = []
            for c in range(PENDING_ALLOWED + PENDING_OTHER + ACCEPTED):
                status = "pendingAcceptance" if c < PENDING_ALLOWED + PENDING_OTHER else "accepted"
                domain = ALLOWED if c < PENDING_ALLOWED else hexid("d0", t * 100 + s * 10 + c)
                conns.append({"endpoint_id": f"e{t:03d}{s}{c:02d}-0000-4000-8000-000000000000",
                              "domain_id": domain, "status": status, "created_at": week_ago})
            services.append({"id": f"5e{t:03d}{s}00-0000-4000-8000-000000000000", "owner": name,
                             "service_name": f"svc-{name}-{s}", "approval_enabled": True,
                             "connections": conns})
        for e in range(ENDPOINTS):
            failed = e < FAILED_OLD
            endpoints.append({"id": f"f{t:03d}{e}000-0000-4000-8000-000000000000", "owner": name,
                              "status": "failed" if failed else "accepted",
                              "created_at": week_ago, "updated_at": two_days_ago if failed else week_ago})
    return {"accounts": accounts, "services": services, "endpoints": endpoints}


def minimum_per_target():
    """One agency hand-off; approve: the service list page, one pending page
    per service, one accept per allowlisted pending connection; quota: one
    read and one whitelist page per service (posture); gc: the endpoint list
    page, then a re-read and a delete per old failed endpoint."""
    return 1 + 1 + SERVICES + SERVICES * PENDING_ALLOWED + 1 + SERVICES + 1 + 2 * FAILED_OLD


def run_measured(args, env):
    """Runs `args`; returns (exit code, stdout, peak RSS in MB of that process alone)."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, stdout, usage.ru_maxrss / 1024


def run_once(count):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "targets.json")
        estate = scenario(count)
        with open(path, "w") as f:
            json.dump(estate, f)
        proc, base = start_emulator(path, LATENCY_MS)
        try:
            targets = [{"name": a["name"], "region": "cn-north-4", "project_id": a["project_id"],
                        "vpcep_endpoint": base, "domain_id": a["domain_id"], "agency": "warden"}
                       for a in estate["accounts"][1:]]
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("WARDEN_", "HUAWEICLOUD_")) and k != "RUST_LOG"}
            env.update({"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK,
                        "HUAWEICLOUD_SDK_DOMAIN_ID": WARDEN_DOMAIN, "WARDEN_IAM_ENDPOINT": base, "WARDEN_ALLOWED_DOMAINS": ALLOWED,
                        "WARDEN_TARGETS": json.dumps(targets),
                        "WARDEN_GC_MAX_DELETES": str(count * FAILED_OLD),
                        "WARDEN_MAX_CONCURRENCY": str(CONCURRENCY)})
            before = get(base + "/__admin/stats")["total"]
            start = time.monotonic()
            code, stdout, rss = run_measured([WARDEN, "tick"], env)
            wall = time.monotonic() - start
            calls = get(base + "/__admin/stats")["total"] - before
        finally:
            proc.kill()
            proc.wait()
    report = json.loads(stdout)
    n_min = count * minimum_per_target()
    floor = math.ceil(n_min / CONCURRENCY) * LATENCY_MS / 1000
    correct = (code == 0
               and len(report["approved"]) == count * SERVICES * PENDING_ALLOWED
               and len(report["deleted"]) == count * FAILED_OLD
               and len(report.get("targets", [])) == count)
    row = {"targets": count, "wall_s": wall, "calls": calls, "n_min": n_min,
           "floor_s": floor, "ratio": wall / floor, "rss_mb": rss, "correct": correct}
    print(json.dumps(row))
    return row


def main():
    rows = [run_once(n) for n in SIZES]
    lines = [HEADING, "",
             "Made by `python3 bench/targets.py` (release build, emulator with 20 ms latency per",
             f"request, `WARDEN_MAX_CONCURRENCY={CONCURRENCY}`, the default log level): one tick over",
             "each number of targets, each another account reached through an agency, each",
             f"{SERVICES} services x {PENDING_ALLOWED + PENDING_OTHER + ACCEPTED} connections "
             f"({PENDING_ALLOWED} pending from allowlisted accounts per service) and {ENDPOINTS} endpoints",
             f"({FAILED_OLD} failed long ago; `WARDEN_GC_MAX_DELETES` set to the estate's failed count, since",
             "the cap counts across every target of a run). The minimum per target is",
             f"{minimum_per_target()} calls: the agency hand-off, the service list, a pending page and a",
             "whitelist page per service, the accepts, the quota read, the endpoint list, and a re-read",
             "and a delete per old failed endpoint. Wall time is the whole `vpcep-warden tick` process",
             "(start, settings, every target, the report); peak RSS is that process's.", "",
             "| targets | wall s | API calls | minimum (sum of the targets') | floor s | time / floor | peak RSS MB | correct |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['targets']} | {r['wall_s']:.2f} | {r['calls']} | {r['n_min']} | {r['floor_s']:.2f} "
                     f"| {r['ratio']:.2f} | {r['rss_mb']:.1f} | {'yes' if r['correct'] else 'NO'} |")
    lines.append("")
    for r in rows:
        n = r["targets"]
        lines.append(f"- {'met' if r['calls'] <= r['n_min'] else 'NOT met'}: {n} targets, calls = the sum of "
                     f"the per-target minima ({r['calls']} of {r['n_min']})")
        lines.append(f"- {'met' if r['ratio'] <= 1.25 else 'NOT met'}: {n} targets, time within 1.25 x the floor "
                     f"({r['ratio']:.2f})")
    big = rows[-1]
    per_minute = big["targets"] / big["wall_s"] * 60
    lines.append(f"- one invocation works about {per_minute:,.0f} such targets a minute at this latency "
                 f"and concurrency ({big['targets']} in {big['wall_s']:.1f} s)")
    lines.append("")
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read()
    if HEADING in text:
        head, _, rest = text.partition("\n" + HEADING)
        rest = "\n## " + rest.split("\n## ", 1)[1] if "\n## " in rest else ""
    else:
        head, _, rest = text.partition("\n## Hostile answers")
        rest = "\n## Hostile answers" + rest if rest else ""
    with open(path, "w") as f:
        f.write(head.rstrip("\n") + "\n\n" + "\n".join(lines) + rest)


if __name__ == "__main__":
    main()
