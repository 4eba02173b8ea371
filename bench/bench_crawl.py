#!/usr/bin/env python3
"""Benchmark: `finsent crawl` of 200 feed sources served by the local test server.

Prints wall time, peak RSS of the finsent process (getrusage of the child) and
documents stored, for a first crawl (everything new) and a second one (everything
known: dedupe path). Figures are printed, never asserted. Targets: < 5 s, < 50 MB.

    python3 bench/bench_crawl.py [--sources 200] [--items 20] [--concurrency 8]
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("FINSENT_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("FINSENT_BIN") or os.path.join(ROOT, "finsent")
SERVER = os.path.join(ROOT, "tests", "servers", "http_server.py")


def run_measured(cmd):
    """Runs cmd; returns (exit status, wall seconds, peak RSS in MiB, CPU seconds) of
    that child."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        try:
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    return (os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024.0,
            usage.ru_utime + usage.ru_stime)


def write_config(tmp, name, port, args, n_sources, n_items, follow):
    conf = os.path.join(tmp, name + ".conf")
    with open(conf, "w") as f:
        # one local host: per_host = concurrency so the global limit is what is measured
        f.write("[crawler]\nconcurrency = %d\nper_host = %d\ndelay_ms = 0\n\n"
                % (args.concurrency, args.concurrency))
        for n in range(n_sources):
            f.write("[source gen-%d]\nurl = http://127.0.0.1:%d/gen/feed/%d?items=%d\n"
                    "follow_links = %s\n\n" % (n, port, n, n_items, "yes" if follow else "no"))
    return conf, os.path.join(tmp, name + ".db")


def measure(label, conf, db, now):
    cmd = [BIN, "--db", db, "--config", conf, "--now",
           time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "crawl"]
    rc, wall, rss, cpu = run_measured(cmd)
    n_docs = sqlite3.connect(db).execute("SELECT count(*) FROM documents").fetchone()[0]
    print("  %-28s wall %.2f s   finsent CPU %.2f s   peak RSS %.1f MiB   documents %d   "
          "exit %d" % (label, wall, cpu, rss, n_docs, rc))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    if not os.path.exists(BIN):
        print("bench_crawl: %s not built" % BIN)
        return 1
    tmp = tempfile.mkdtemp(prefix="finsent-bench-crawl-")
    srv = subprocess.Popen([sys.executable, SERVER, "--watch-stdin"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    try:
        port = int(srv.stdout.readline())
        print("crawl of %d sources x %d items, concurrency %d, one local HTTP server"
              % (args.sources, args.items, args.concurrency))
        conf, db = write_config(tmp, "bench", port, args, args.sources, args.items, False)
        now = int(time.time())
        for label, t in (("first crawl (all new)", now), ("second crawl (all known)", now + 7200)):
            measure(label, conf, db, t)
        n_follow = max(1, args.sources // 4)
        conf, db = write_config(tmp, "follow", port, args, n_follow, 10, True)
        measure("follow_links: %d x 10 pages" % n_follow, conf, db, now)
        print("  targets (first crawl): wall < 5 s, peak RSS < 50 MiB; the Python test server"
              " is usually the bottleneck: compare wall with finsent CPU")
    finally:
        srv.stdin.close()
        srv.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
