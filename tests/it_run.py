#!/usr/bin/python3
"""it_run — `finsent run` robustness: config errors, lock, corrupt and read-only
databases, full disk, missing model. Each failure must be one clear line on
stderr and a distinct exit code (README: Exit codes)."""
import fcntl
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Suite, finsent, one_line, tempdir  # noqa: E402

EXIT_CONFIG, EXIT_LOCKED, EXIT_DB, EXIT_MODEL, EXIT_IO = 4, 5, 6, 7, 8

t = Suite()
work = tempdir()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def minimal_conf(extra=""):
    # no sources: the cycle has nothing to fetch; a model path that does not exist
    return write(os.path.join(work, "min.conf"),
                 "[finsent]\ncontact = test@example.com\n"
                 f"[model]\npath = {work}/no-such-model.safetensors\n" + extra)


with t.case("broken config line names file and line, exit 4") as c:
    conf = write(os.path.join(work, "broken.conf"),
                 "[finsent]\ncontact = a@b.c\nthis line has no equals sign\n")
    r = finsent(["--config", conf, "--db", os.path.join(work, "a.db"), "run"])
    c.check(r.returncode == EXIT_CONFIG, f"exit {r.returncode}, stderr: {r.stderr}")
    c.check(f"{conf}:3:" in one_line(r.stderr), f"stderr: {r.stderr}")

with t.case("bad config value names file and line, exit 4") as c:
    conf = write(os.path.join(work, "badval.conf"), "[run]\nlock_wait = soon\n")
    r = finsent(["--config", conf, "--db", os.path.join(work, "a.db"), "run"])
    c.check(r.returncode == EXIT_CONFIG, f"exit {r.returncode}, stderr: {r.stderr}")
    c.check(f"{conf}:2:" in one_line(r.stderr), f"stderr: {r.stderr}")

with t.case("a bad stage setting stops the run before crawling, exit 4") as c:
    for body, line in (("[alert x]\ngranularity = weekly\n", 2),
                       ("[finsent]\ncontact = a@b.c\n[source s]\nurl = ftp://example.com/f\n", 4),
                       ("[trends]\nalpha = 7\n", 2)):
        conf = write(os.path.join(work, "stage.conf"), body)
        r = finsent(["--config", conf, "--db", os.path.join(work, "stage.db"), "run"])
        c.check(r.returncode == EXIT_CONFIG, f"{body!r}: exit {r.returncode}, stderr: {r.stderr}")
        c.check(f"{conf}:{line}:" in one_line(r.stderr), f"{body!r}: stderr: {r.stderr}")
        c.check("crawl:" not in r.stderr, f"{body!r}: crawled anyway: {r.stderr}")

with t.case("missing --config file is a config error") as c:
    r = finsent(["--config", os.path.join(work, "nope.conf"), "--db",
                 os.path.join(work, "a.db"), "run"])
    c.check(r.returncode == EXIT_CONFIG, f"exit {r.returncode}, stderr: {r.stderr}")
    c.check("nope.conf" in one_line(r.stderr), f"stderr: {r.stderr}")

with t.case("overlapping run waits then exits 5") as c:
    db = os.path.join(work, "locked.db")
    with open(db + ".lock", "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        r = finsent(["--config", minimal_conf(), "--db", db, "run", "--lock-wait", "1s"])
    c.check(r.returncode == EXIT_LOCKED, f"exit {r.returncode}, stderr: {r.stderr}")
    c.check("another run" in one_line(r.stderr), f"stderr: {r.stderr}")

with t.case("corrupt database exits 6 naming the file") as c:
    db = write(os.path.join(work, "corrupt.db"), "garbage " * 4096)
    r = finsent(["--config", minimal_conf(), "--db", db, "run"])
    c.check(r.returncode == EXIT_DB, f"exit {r.returncode}, stderr: {r.stderr}")
    c.check("corrupt.db" in one_line(r.stderr), f"stderr: {r.stderr}")


with t.case("missing model: one line saying how to fix, exit 7, other stages still run") as c:
    r = finsent(["--config", minimal_conf(), "--db", os.path.join(work, "nomodel.db"), "run"])
    c.check(r.returncode == EXIT_MODEL, f"exit {r.returncode}, stderr: {r.stderr}")
    c.check("finsent train" in r.stderr and "no-such-model" in r.stderr, f"stderr: {r.stderr}")
    c.check("alerts" in r.stderr, f"later stages did not run: {r.stderr}")


with t.case("the config written by init is valid and names real https feeds") as c:
    conf = os.path.join(work, "init", "finsent.conf")
    r = finsent(["--config", conf, "init"])
    c.check(r.returncode == 0, f"init: {r.returncode} {r.stderr}")
    text = open(conf).read()
    urls = [l.split("=", 1)[1].strip() for l in text.splitlines() if l.startswith("url = https://")]
    c.check(len(urls) >= 8, f"only {len(urls)} feeds")
    r = finsent(["--config", conf, "init"])
    c.check(r.returncode != 0 and "already exists" in r.stderr, "init overwrote a config")
    # point every source at a closed local port: no traffic leaves this machine
    local = "\n".join("url = http://127.0.0.1:9/feed" if l.startswith("url = https://") else l
                      for l in text.splitlines())
    local = local.replace("[model]\n", "[model]\npath = /nonexistent/model.safetensors\n")
    write(conf, local + "\n")
    r = finsent(["--config", conf, "--db", os.path.join(work, "init.db"), "run"])
    c.check(r.returncode == EXIT_MODEL, f"exit {r.returncode}: {r.stderr[-800:]}")
    c.check(r.stderr.count("failed") >= len(urls), f"sources not reported: {r.stderr[-800:]}")


def mount_tmpfs(path, opts):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path],
                       capture_output=True, text=True)
    return r.returncode == 0


with t.case("read-only file system exits 6") as c:
    mnt = os.path.join(work, "ro")
    if os.geteuid() != 0 or not mount_tmpfs(mnt, "size=4m"):
        c.skip("needs root to mount a tmpfs")
    try:
        db = os.path.join(mnt, "ro.db")
        r = finsent(["--config", minimal_conf(), "--db", db, "run"])
        c.check(r.returncode == EXIT_MODEL, f"first run on a writable fs: {r.returncode} {r.stderr}")
        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        r = finsent(["--config", minimal_conf(), "--db", db, "run"])
        c.check(r.returncode == EXIT_DB, f"exit {r.returncode}, stderr: {r.stderr}")
        c.check("read-only" in one_line(r.stderr).lower(), f"stderr: {r.stderr}")
    finally:
        subprocess.run(["umount", mnt])

with t.case("full disk: one line, exit 8, what was stored is kept") as c:
    import functools
    import http.server
    import threading
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
    import toyfeeds
    mnt = os.path.join(work, "full")
    if os.geteuid() != 0 or not mount_tmpfs(mnt, "size=1m"):
        c.skip("needs root to mount a tmpfs")
    site = os.path.join(work, "bigsite")
    os.makedirs(site, exist_ok=True)
    items = [{"guid": f"g{i}", "title": f"headline number {i}", "link": f"http://x.example/{i}",
              "description": f"story {i} " + "lorem ipsum dolor sit amet " * 60,
              "published": 1772323200 + i} for i in range(3000)]
    with open(os.path.join(site, "big.xml"), "w") as f:
        f.write(toyfeeds.rss("big", "http://x.example", items))
    small = [{"guid": f"s{i}", "title": f"small story {i}", "link": f"http://y.example/{i}",
              "description": f"small story {i} text", "published": 1772323200 + i}
             for i in range(5)]
    with open(os.path.join(site, "small.xml"), "w") as f:
        f.write(toyfeeds.rss("small", "http://y.example", small))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                          functools.partial(Quiet, directory=site))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        port = srv.server_address[1]
        db = os.path.join(mnt, "full.db")
        # first the small feed alone: 5 documents stored while there is room
        conf = minimal_conf(f"[source small]\nurl = http://127.0.0.1:{port}/small.xml\n")
        r = finsent(["--config", conf, "--db", db, "crawl"])
        c.check(r.returncode == 0, f"small crawl: exit {r.returncode}, stderr: {r.stderr}")
        con = sqlite3.connect(db)
        before = con.execute("SELECT guid, title, text FROM documents ORDER BY guid").fetchall()
        con.close()
        c.check(len(before) == 5, f"{len(before)} documents before the disk fills")
        # then the big one fills the disk
        conf = minimal_conf(f"[source small]\nurl = http://127.0.0.1:{port}/small.xml\n"
                            f"[source big]\nurl = http://127.0.0.1:{port}/big.xml\nkind = feed\n")
        r = finsent(["--config", conf, "--db", db, "run"])
        c.check(r.returncode == EXIT_IO, f"exit {r.returncode}, stderr: {r.stderr[-800:]}")
        c.check("full" in one_line(r.stderr).lower(), f"stderr: {r.stderr[-800:]}")
        con = sqlite3.connect(db)
        (ok,) = con.execute("PRAGMA integrity_check").fetchone()
        c.check(ok == "ok", f"integrity_check after a full disk: {ok}")
        after = con.execute("SELECT guid, title, text FROM documents d JOIN sources s "
                            "ON s.id = d.source_id WHERE s.name = 'small' ORDER BY guid").fetchall()
        c.check(after == before, f"the 5 stored documents changed: {len(after)} left")
        con.close()
    finally:
        srv.shutdown()
        subprocess.run(["umount", mnt])

with t.case("cron --every takes whole minutes dividing a day only, exit 2") as c:
    db = os.path.join(work, "cron.db")
    r = finsent(["--db", db, "cron", "--every", "20"])
    c.check(r.returncode == 0 and "*/20 * * * *" in r.stdout, f"exit {r.returncode}: {r.stderr}")
    # atoi() took "15abc" as 15 and overflowed on long digit strings
    for bad in ("15abc", "99999999999999999999", "0", "7", "25h", "", "-5"):
        r = finsent(["--db", db, "cron", "--every", bad])
        c.check(r.returncode == 2, f"--every {bad!r}: exit {r.returncode}")
        c.check(len(r.stderr.splitlines()) == 1 and "--every" in r.stderr,
                f"--every {bad!r}: stderr {r.stderr!r}")

sys.exit(t.finish())
