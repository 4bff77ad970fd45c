#!/usr/bin/env python3
"""Optimisation levels against each other: a dry-run tick on the large estate
(100 services x 1,000 connections, 10,000 endpoints, emulator at 20 ms a
request, the default log level), five rounds alternating the builds;
medians of the whole process's wall time, CPU time (user + sys) and peak RSS.

Build each first, in its own target directory, then name them LEVEL=DIR:

    CARGO_TARGET_DIR=/tmp/tgt-s CARGO_PROFILE_RELEASE_OPT_LEVEL=s cargo build --release --workspace
    CARGO_TARGET_DIR=/tmp/tgt-z CARGO_PROFILE_RELEASE_OPT_LEVEL=z cargo build --release --workspace
    python3 bench/opt_level.py s=/tmp/tgt-s z=/tmp/tgt-z

(`cargo lambda build --release --no-default-features` in each gives the
bootstrap sizes.)"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import run as bench  # noqa: E402


def main():
    dirs = dict(arg.split("=", 1) for arg in sys.argv[1:])
    if len(dirs) < 2:
        sys.exit("usage: opt_level.py LEVEL=TARGET_DIR LEVEL=TARGET_DIR ...")
    bench.EMULATOR = os.path.join(next(iter(dirs.values())), "release/vpcep-emulator")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scenario.json")
        with open(path, "w") as f:
            json.dump(bench.scenario(100, 1000, 10000), f)
        proc, url = bench.start_emulator(path, 20)
        env = bench.warden_env(url)
        env["WARDEN_DRY_RUN"] = "true"
        rows = {}
        try:
            for _ in range(5):
                for level, d in dirs.items():
                    out = subprocess.run([bench.TIME, "-f", "%e %U %S %M",
                                          os.path.join(d, "release/vpcep-warden"), "tick"],
                                         env=env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, text=True)
                    wall, user, sys_, rss = out.stderr.strip().splitlines()[-1].split()
                    rows.setdefault(level, []).append(
                        (float(wall), float(user) + float(sys_), int(rss) / 1024))
        finally:
            proc.kill()
    for level, r in rows.items():
        print(f'opt-level {level}: wall {statistics.median(x[0] for x in r):.2f} s, '
              f'cpu {statistics.median(x[1] for x in r):.2f} s, '
              f'peak RSS {statistics.median(x[2] for x in r):.1f} MB (medians of {len(r)})')


if __name__ == "__main__":
    main()
