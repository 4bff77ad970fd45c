#!/usr/bin/env python3
"""Peak memory of the warden against hostile answers, as a whole process.

A local server answers every list with one of the bodies below; the warden
(debug or release build, whichever `--binary` names; default the release
build) runs `tick --jobs gc` against it. Prints the figures and writes them
into the "Hostile answers" section of BENCHMARKS.md.

    cargo build --release && python3 bench/hostile.py
"""
import argparse
import http.server
import json
import os
import subprocess
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADING = "## Hostile answers"
CHUNK = b"x" * (1 << 20)

CASES = [
    ("a 1 GiB body, no Content-Length (chunked)", "chunked", 1024),
    ("a 1 GiB body announced by Content-Length", "length", 1024),
    ("endless pages: fresh ids, total_count 2^63", "endless", 0),
]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    case = "chunked"
    mib = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        try:
            if self.case == "endless":
                offset = int((self.path.split("offset=")[1:] or ["0"])[0].split("&")[0])
                page = [{"id": f"e-{i}", "status": "available"} for i in range(offset, offset + 1000)]
                body = json.dumps({"endpoints": page, "total_count": 2**63}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if self.case == "length":
                self.send_header("Content-Length", str(self.mib << 20))
                self.end_headers()
                for _ in range(self.mib):
                    self.wfile.write(CHUNK)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for _ in range(self.mib):
                    self.wfile.write(b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass


def run(binary, case, mib):
    Handler.case, Handler.mib = case, mib
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HUAWEICLOUD_SDK_AK": "BENCHAK0000000000001",
        "HUAWEICLOUD_SDK_SK": "bench-secret-key",
        "HUAWEICLOUD_SDK_PROJECT_ID": "0123456789abcdef0123456789abcdef",
        "WARDEN_VPCEP_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
        "WARDEN_MAX_RETRIES": "0",
    }
    proc = subprocess.Popen([binary, "tick", "--jobs", "gc"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    # wait4 gives this child's own peak RSS (ru_maxrss, KiB on Linux).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    server.shutdown()
    report = json.loads(stdout) if stdout.strip() else {}
    message = (report.get("errors") or [{}])[0].get("message", stderr.strip()[-200:])
    return usage.ru_maxrss / 1024, proc.returncode, message


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "vpcep-warden"))
    args = parser.parse_args()
    rows = []
    for name, case, mib in CASES:
        rss, code, message = run(args.binary, case, mib)
        rows.append((name, rss, code, message))
        print(f"{name}: peak RSS {rss:.1f} MB, exit {code}: {message}")
    lines = [HEADING, "",
             "Made by `python3 bench/hostile.py` (release build): `tick --jobs gc` against a local server",
             "answering every list with the body below; the whole process's peak RSS.", "",
             "| answer | peak RSS MB | exit | error in the report |", "|---|---|---|---|"]
    lines += [f"| {n} | {r:.1f} | {c} | {m.replace('|', '/')} |" for n, r, c, m in rows]
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read()
    head, _, rest = text.partition(HEADING)
    # Sections after this one (bench/artifacts.sh) are kept.
    after = rest.split("\n## ", 1)[1] if "\n## " in rest else ""
    with open(path, "w") as f:
        f.write(head.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n")
        if after:
            f.write("\n## " + after)


if __name__ == "__main__":
    main()
