#!/usr/bin/python3
"""it_alerts_failures — every failure class of `finsent alerts` gives exactly one
line on stderr, the exit code of README's table, and loses nothing stored."""
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Suite, finsent, tempdir  # noqa: E402

EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL, EXIT_CONFIG, EXIT_DB = 1, 2, 3, 4, 6

t = Suite()
work = tempdir()
NO_BUS = {k: v for k, v in os.environ.items()
          if k not in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "DISPLAY")}


def write(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


CONF = write("ok.conf", "[alert energy]\ntopics = Energy | Oil\nnotify = desktop\n")


def alerts(*args, db="a.db", conf=CONF, env=None):
    return finsent(["--config", conf, "--db", os.path.join(work, db), "--now",
                    "2026-03-01T12:00:00Z", "alerts"] + list(args), env=env or NO_BUS)


def one_stderr_line(c, r, code, needle, what):
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    c.check(r.returncode == code, f"{what}: exit {r.returncode}, want {code}: {r.stderr!r}")
    c.check(len(lines) == 1, f"{what}: {len(lines)} stderr lines: {r.stderr!r}")
    c.check(needle.lower() in lines[0].lower(), f"{what}: {needle!r} not in {lines[0]!r}")


def silences(db="a.db"):
    con = sqlite3.connect(os.path.join(work, db))
    try:
        return con.execute("SELECT topic, until FROM silences ORDER BY topic").fetchall()
    finally:
        con.close()


with t.case("setup: a silence is stored") as c:
    r = alerts("silence", "Energy | Oil", "--for", "6h")
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    stored = silences()
    c.check(len(stored) == 1, f"silences {stored}")

with t.case("bad command lines: one line, exit 2, nothing changed") as c:
    for args, needle in ((["bogus"], "bogus"),
                         (["list", "--x"], "--x"),
                         (["run", "--x"], "--x"),
                         (["ack"], "usage"),
                         (["ack", "x"], "'x'"),
                         (["silence"], "usage"),
                         (["silence", "Nope", "--for", "1h"], "Nope"),
                         (["silence", "0", "--for", "soon"], "soon"),
                         # about 190 billion years: once a signed overflow (UBSan)
                         (["silence", "0", "--for", "9999999999999999w"], "duration"),
                         (["test", "extra"], "usage")):
        one_stderr_line(c, alerts(*args), EXIT_USAGE, needle, " ".join(args))
    c.check(silences() == stored, f"silences changed: {silences()}")

with t.case("ack of an unknown alert: one line, exit 1") as c:
    one_stderr_line(c, alerts("ack", "999"), EXIT_FAILURE, "999", "ack 999")

with t.case("configuration errors: one line naming file:line, exit 4") as c:
    bad = write("bad.conf", "[alert energy]\ntopics = Energy | Oil\nz_threshold = high\n")
    one_stderr_line(c, alerts("run", conf=bad), EXIT_CONFIG, f"{bad}:3:", "bad value")
    syn = write("syn.conf", "[alert energy]\nthis line has no equals sign\n")
    one_stderr_line(c, alerts("run", conf=syn), EXIT_CONFIG, f"{syn}:2:", "syntax")
    one_stderr_line(c, alerts("run", conf=os.path.join(work, "nope.conf")), EXIT_CONFIG,
                    "nope.conf", "missing --config")
    pw = write("pw.conf", "[alert e]\ntopics = 0\n[smtp]\nurl = smtp://127.0.0.1:25\n"
                          "from = a@b.c\nto = d@e.f\nusername = u\npassword = hunter2\n")
    r = alerts("test", conf=pw)
    one_stderr_line(c, r, EXIT_CONFIG, f"{pw}:8:", "password in the config")
    c.check("hunter2" not in r.stderr + r.stdout, "the password was echoed")
    c.check(silences() == stored, f"silences changed: {silences()}")

with t.case("corrupt database: one line, exit 6, file untouched") as c:
    path = write("corrupt.db", "this is not a database\n" * 10)
    for args in (["list"], ["run"], ["ack", "1"], ["silence", "0", "--for", "1h"]):
        one_stderr_line(c, alerts(*args, db="corrupt.db"), EXIT_DB, "corrupt.db", args[0])
    with open(path) as f:
        c.check(f.read() == "this is not a database\n" * 10, "corrupt.db was changed")

with t.case("read-only file system: one line, exit 6, what was stored is kept") as c:
    mnt = os.path.join(work, "ro")
    os.makedirs(mnt, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                                           capture_output=True).returncode != 0:
        c.skip("needs root to mount a tmpfs")
    try:
        db = "ro/r.db"
        r = alerts("silence", "0", "--for", "2h", db=db)
        c.check(r.returncode == 0, f"setup: exit {r.returncode}: {r.stderr}")
        before = silences(db)
        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        for args in (["list"], ["run"], ["silence", "1", "--for", "1h"]):
            one_stderr_line(c, alerts(*args, db=db), EXIT_DB, "read-only", args[0])
        subprocess.run(["mount", "-o", "remount,rw", mnt], check=True)
        c.check(silences(db) == before, f"silences changed: {silences(db)}")
    finally:
        subprocess.run(["umount", mnt])

with t.case("alerts test with every channel failing: one warning line, exit 3") as c:
    conf = write("both.conf", "[alert e]\ntopics = 0\nnotify = desktop,email\n[smtp]\n"
                              "url = smtp://127.0.0.1:1\ntls = none\nfrom = a@b.c\nto = d@e.f\n")
    r = alerts("test", conf=conf)
    one_stderr_line(c, r, EXIT_PARTIAL, "warning", "alerts test")
    c.check("desktop: FAILED" in r.stdout and "email: FAILED" in r.stdout,
            f"report: {r.stdout!r}")

sys.exit(t.finish())
