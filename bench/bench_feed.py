#!/usr/bin/env python3
"""bench_feed.py — Python feedparser over the same feed fixtures as
bench/bench_feed.c, in the same run, and the ratio of the two throughputs.

Runs from the repository root (bench/run.sh does). Uses the C figure from
$B/bench/bench_feed --mbps (B defaults to build). Prints figures only."""
import os
import subprocess
import sys
import time

try:
    import feedparser
except ImportError:  # e.g. a pyenv python: Debian's python3-feedparser lives in /usr/bin/python3
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("bench_feed.py: feedparser not installed (apt-get install python3-feedparser)")
    sys.exit(0)

FEED_DIR = "tests/fixtures/feeds"
EXTS = (".xml", ".rdf", ".atom", ".json")


def load():
    docs = []
    for name in sorted(os.listdir(FEED_DIR)):
        if name.endswith(EXTS):
            with open(os.path.join(FEED_DIR, name), "rb") as f:
                docs.append(f.read())
    return docs


def python_mbps(docs):
    total = sum(len(d) for d in docs)
    items = sum(len(feedparser.parse(d).entries) for d in docs)  # warm-up
    passes, start = 0, time.monotonic()
    while True:
        for d in docs:
            feedparser.parse(d)
        passes += 1
        elapsed = time.monotonic() - start
        if elapsed >= 1.0:
            break
    return total * passes / elapsed / 1e6, len(docs), items, passes, elapsed


def c_mbps():
    exe = os.path.join(os.environ.get("B", "build"), "bench", "bench_feed")
    try:
        out = subprocess.run([exe, "--mbps"], capture_output=True, text=True, check=True)
        return float(out.stdout.strip())
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None


def main():
    docs = load()
    py, n, items, passes, elapsed = python_mbps(docs)
    print("feedparser %s: %.2f MB/s (%d files, %d items per pass, %d passes in %.2f s)"
          % (feedparser.__version__, py, n, items, passes, elapsed))
    c = c_mbps()
    if c is None:
        print("feed_parse (C): not built (make bench builds build/bench/bench_feed)")
        return
    print("feed_parse (C): %.1f MB/s; ratio C / feedparser = %.1fx (target >= 20x)" % (c, c / py))


if __name__ == "__main__":
    main()
