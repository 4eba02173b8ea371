#!/usr/bin/python3
"""bench_cycle — one `finsent run` over 200 local sources with 5,000 new items,
crawl to alerts: wall time and peak RSS per stage (from run's own stage log).
Targets on the CPU here: under 30 s and under 300 MB in all. Prints, never asserts.

Uses the default model (FINSENT_MODEL, else $XDG_DATA_HOME/finsent/model.safetensors);
without one it says so and stops.
"""
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
from fstest import BIN, tempdir  # noqa: E402
import toyfeeds  # noqa: E402
import random  # noqa: E402

N_SOURCES, ITEMS_PER_SOURCE = 200, 25
data_home = os.environ.get("XDG_DATA_HOME", os.path.expanduser("~/.local/share"))
model = os.environ.get("FINSENT_MODEL", os.path.join(data_home, "finsent", "model.safetensors"))
if not os.path.exists(model):
    print(f"bench_cycle: skipped: no model at {model} (run 'make run' or 'finsent train')")
    sys.exit(0)

work = tempdir("finsent-bench-cycle-")
site = os.path.join(work, "site")
os.makedirs(site)
rng = random.Random(1)
now = 1772323200 + 12 * 3600
for s in range(N_SOURCES):
    items = []
    for k in range(ITEMS_PER_SOURCE):
        topic = rng.choice(list(toyfeeds.TOPICS))
        text = toyfeeds.text(topic, rng.choice(list(toyfeeds.SENTIMENTS)), rng, serial=f"{s}-{k}")
        items.append({"guid": f"s{s}-{k}", "title": text, "link": f"http://x.example/{s}/{k}",
                      "description": text, "published": now - rng.randint(0, 6 * 3600)})
    with open(os.path.join(site, f"feed{s}.xml"), "w") as f:
        f.write(toyfeeds.rss(f"feed {s}", f"http://x.example/{s}", items))


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]
conf = os.path.join(work, "finsent.conf")
with open(conf, "w") as f:
    f.write(f"[finsent]\ncontact = bench@example.com\n[crawler]\nconcurrency = 8\ndelay_ms = 0\n"
            f"[model]\npath = {model}\ndevice = cpu\n")
    for s in range(N_SOURCES):
        f.write(f"[source feed{s}]\nurl = http://127.0.0.1:{port}/feed{s}.xml\nkind = feed\n")

t0 = time.monotonic()
r = subprocess.run(["/usr/bin/time", "-f", "%M", BIN, "--config", conf, "--db",
                    os.path.join(work, "bench.db"), "--now",
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "run"],
                   capture_output=True, text=True)
wall = time.monotonic() - t0
srv.shutdown()
import sqlite3  # noqa: E402
con = sqlite3.connect(os.path.join(work, "bench.db"))
(n_docs,) = con.execute("SELECT count(*) FROM documents").fetchone()
(n_cls,) = con.execute("SELECT count(*) FROM classifications").fetchone()
(n_buckets,) = con.execute("SELECT count(*) FROM buckets").fetchone()
con.close()
print(f"{N_SOURCES} sources, {N_SOURCES * ITEMS_PER_SOURCE} items served, exit status {r.returncode}: "
      f"{n_docs} documents stored, {n_cls} classified, {n_buckets} trend buckets")
for m in re.finditer(r"info: (\w+): done in ([\d.]+)s \(peak RSS so far ([\d.]+) MB\)", r.stderr):
    print(f"  {m.group(1):<9} {float(m.group(2)):7.2f} s   peak RSS so far {m.group(3)} MB")
peak_kb = r.stderr.strip().splitlines()[-1]
print(f"  total     {wall:7.2f} s   peak RSS {int(peak_kb) / 1024:.1f} MB "
      f"(targets: 30 s, 300 MB)")
shutil.rmtree(work, ignore_errors=True)
