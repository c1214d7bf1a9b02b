#!/usr/bin/env python3
"""Zip size and cold-start init time of each Lambda function binary.

    python3 scripts/lambda-figures.py BIN_DIR [--runs N] [--runner CMD]

BIN_DIR holds the release binaries (`ingest`, `mm4-out`, ...), e.g.
$CARGO_TARGET_DIR/lambda/ after `cargo build --profile lambda -p mmsc-functions`, or
cargo-lambda's output (`<BIN_DIR>/<name>/bootstrap`, e.g. `target/lambda/` after
`cargo lambda build --arm64 --profile lambda -p mmsc-functions`).

--runner runs each binary through a command, e.g. arm64 binaries on an x86_64 machine:
`--runner "qemu-aarch64 -L /usr/aarch64-linux-gnu"` (Debian: qemu-user,
libc6-arm64-cross). Under emulation the init time shows the binary starts and reaches
the Runtime API; it is not the time on Graviton.

For each function:
* zip: the binary stored as `bootstrap` in a deflated zip, as Lambda's
  provided.al2023 runtime wants it (written to BIN_DIR/<name>.zip);
* init: time from process start to its first `GET /2018-06-01/runtime/invocation/next`
  on a local Lambda Runtime API served here (the function has read its configuration
  from MMSC_CONFIG and built its AWS clients by then: the real cold-start work, minus
  the network). Median, min and max of N runs.
"""

import argparse
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

FUNCTIONS = ["ingest", "mm4-out", "mm1-notify", "mm7-out", "expire"]

CONFIG = """
[mmsc]
domain = "mms.example.net"
local_numbers = ["+4477009*"]

[aws]
bucket = "mmsc-content"
table = "mmsc-state"
queue_prefix = "mmsc-"
queue_url_prefix = "https://sqs.us-east-1.amazonaws.com/123456789012/"

[[partners]]
name = "partner"
domain = "mms.partner.example"
smtp_host = "127.0.0.1:2626"
allowed_networks = ["192.0.2.0/24"]
"""


class Probe(http.server.BaseHTTPRequestHandler):
    first_poll = None
    event = threading.Event()

    def do_GET(self):  # noqa: N802
        if self.path.endswith("/runtime/invocation/next") and Probe.first_poll is None:
            Probe.first_poll = time.perf_counter()
            Probe.event.set()
        # Hold the long poll like the real Runtime API until the test ends.
        time.sleep(5)

    def log_message(self, *args):
        pass


def init_time(binary, config_path, runner):
    Probe.first_poll = None
    Probe.event.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Probe)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": os.path.basename(binary),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_LAMBDA_LOG_GROUP_NAME": "local",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "MMSC_CONFIG": config_path,
    }
    start = time.perf_counter()
    proc = subprocess.Popen(runner + [binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok = Probe.event.wait(10)
    proc.kill()
    _, err = proc.communicate()
    server.shutdown()
    server.server_close()
    if not ok:
        sys.exit(f"{binary} never polled the runtime API: {err.decode(errors='replace')}")
    return (Probe.first_poll - start) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--runner", default="", help="command to run each binary with (qemu-aarch64 ...)")
    args = ap.parse_args()
    runner = args.runner.split()
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(CONFIG)
        config_path = f.name
    print(f"{'function':<12} {'binary':>10} {'zip':>10}   init ms (median / min / max of {args.runs})")
    for name in FUNCTIONS:
        binary = os.path.join(args.bin_dir, name)
        if os.path.isdir(binary):
            binary = os.path.join(binary, "bootstrap")
        zpath = os.path.join(args.bin_dir, f"{name}.zip")
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(binary, "rb") as b:
                z.writestr(info, b.read())
        times = [init_time(binary, config_path, runner) for _ in range(args.runs)]
        print(
            f"{name:<12} {os.path.getsize(binary) / 1e6:>8.2f}MB {os.path.getsize(zpath) / 1e6:>8.2f}MB"
            f"   {statistics.median(times):6.1f} / {min(times):6.1f} / {max(times):6.1f}"
        )
    os.unlink(config_path)


if __name__ == "__main__":
    main()
