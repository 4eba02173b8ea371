#!/usr/bin/env python3
"""it_cli — what an operator trips over, through the real binary (issue 14,
configuration and command line):

  - a bad configuration (unknown section or key, near misses, repeats, a source
    without a name, an XPath that does not compile, an unknown device or topic)
    stops every command with FILE:LINE and exit 4 before anything is fetched;
  - every command answers -h, --help and `finsent help CMD`;
  - `finsent topics`, topic prefixes in rules, silences and --topic;
  - `finsent cron --every N` schedules that run every N minutes (checked by
    expanding the crontab fields and, with systemd-analyze, the timer's
    OnCalendar lines), DBUS_SESSION_BUS_ADDRESS when desktop alerts are on;
  - `--quiet crawl` prints failures only; every crawl outcome is one the README
    documents;
  - trends and export share one time-range rule; --json for trends, export and
    alerts list.
A real HTTP server (tests/servers/http_server.py) serves the crawl cases.
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import ROOT, Suite, finsent, have, one_line, tempdir  # noqa: E402

EXIT_USAGE, EXIT_PARTIAL, EXIT_CONFIG = 2, 3, 4
SERVER = os.path.join(ROOT, "tests", "servers", "http_server.py")
NOW = 1772368200  # 2026-03-01T12:30:00Z
DAY = 86400

t = Suite()
work = tempdir()


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def write(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class Server:
    def __init__(self, root):
        self.proc = subprocess.Popen([sys.executable, SERVER, "--root", root, "--watch-stdin"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.base = "http://127.0.0.1:%d" % int(self.proc.stdout.readline())

    def requests(self):
        import urllib.request
        with urllib.request.urlopen(self.base + "/__stats", timeout=5) as r:
            return sum(json.loads(r.read())["requests"].values())

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


root = os.path.join(work, "www")
os.makedirs(root)
with open(os.path.join(root, "feed.xml"), "w") as f:
    f.write('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>' +
            "".join("<item><title>Item %d</title><link>http://example.com/%d</link>"
                    "<guid>it-cli-%d</guid><description>text %d</description></item>"
                    % (i, i, i, i) for i in range(3)) + "</channel></rss>")
srv = Server(root)
GOOD = "[finsent]\ncontact = it-cli@example.com\n[crawler]\ndelay_ms = 0\n" \
       "[source ok]\nurl = %s/feed.xml?noetag\n" % srv.base

# ---- configuration: strict, FILE:LINE, exit 4, before anything runs ----------------------
BAD = [  # (config text, line, words the one-line message must hold)
    (GOOD + "[bogus]\nx = 1\n", 7, "[bogus]: unknown section"),
    (GOOD + "[trends]\nz_treshold = 3\n", 8, "did you mean 'z_threshold'"),
    (GOOD.replace("delay_ms = 0\n", "delay_ms = 0\nconcurency = 4\n"), 5,
     "did you mean 'concurrency'"),
    (GOOD + "knd = feed\n", 7, "did you mean 'kind'"),
    (GOOD + "follow_link = yes\n", 7, "did you mean 'follow_links'"),
    (GOOD + "url = %s/other.xml\n" % srv.base, 7, "given twice (first at line 6)"),
    (GOOD + "[source ]\nurl = %s/x.xml\n" % srv.base, 7, "[source]: needs a name"),
    (GOOD + "[source ok]\nurl = %s/y.xml\n" % srv.base, 7, "[source ok] appears twice"),
    (GOOD + "[source c]\nurl = %s/c.html\nkind = comments\ncomment_selector = //div[\n"
     % srv.base, 10, "is not an XPath"),
    (GOOD + "[alert a]\ntopics = Macro, nope\n", 8, "unknown topic 'nope'"),
    (GOOD + "[model]\ndevice = tpu\n", 8, "'tpu' is not auto, cpu or cuda"),
]

with t.case("bad config: every command exits 4 with FILE:LINE, nothing fetched") as c:
    for i, (text, line, words) in enumerate(BAD):
        conf = write("bad%d.conf" % i, text)
        before = srv.requests()
        for cmd in (["crawl"], ["run"], ["trends"], ["alerts", "list"], ["export", "trends"]):
            r = finsent(["--config", conf, "--db", os.path.join(work, "bad.db"), *cmd])
            msg = one_line(r.stderr)
            c.check(r.returncode == EXIT_CONFIG, "%r %s: exit %d, %s" % (words, cmd, r.returncode,
                                                                         r.stderr))
            c.check(msg.startswith("finsent: config: %s:%d: " % (conf, line)) and words in msg,
                    "%s: %r" % (cmd, msg))
            c.check(len(r.stderr.strip().splitlines()) == 1, "%s: %r" % (cmd, r.stderr))
        c.check(srv.requests() == before, "%r: fetched %d URLs" % (words, srv.requests() - before))

with t.case("good config and 'topics = overall, all' pass; init's config passes") as c:
    conf = write("good.conf", GOOD + "[alert a]\ntopics = overall, all\n"
                 "[alert b]\ntopics = energy, fed\n")
    for cmd in (["alerts", "list"], ["alerts", "run", "--dry-run"]):
        r = finsent(["--config", conf, "--db", os.path.join(work, "good.db"), *cmd])
        c.check(r.returncode == 0, "%s: exit %d: %s" % (cmd, r.returncode, r.stderr))
    init_conf = os.path.join(work, "init", "finsent.conf")
    r = finsent(["--config", init_conf, "init"])
    c.check(r.returncode == 0, r.stderr)
    r = finsent(["--config", init_conf, "--db", os.path.join(work, "init.db"), "trends"])
    c.check(r.returncode == 0, "init's config: exit %d: %s" % (r.returncode, r.stderr))

# ---- help ------------------------------------------------------------------------------
with t.case("every command answers -h, --help and 'finsent help CMD'") as c:
    r = finsent(["help"])
    commands = re.findall(r"^  (\w+) ", r.stdout, re.M)
    c.check(r.returncode == 0 and len(commands) >= 16 and "cron" in commands, r.stdout)
    broken = write("broken.conf", "[bogus]\n")  # help never reads the config
    for cmd in commands:
        if cmd == "help":
            continue
        for args in ([cmd, "-h"], [cmd, "--help"], ["help", cmd], [cmd, "--json", "-h"]):
            r = finsent(["--config", broken, *args])
            first = r.stdout.splitlines()[0] if r.stdout else ""
            c.check(r.returncode == 0 and first.startswith("usage: finsent %s" % cmd)
                    and not r.stderr, "%s: exit %d, %r %r" % (args, r.returncode, first,
                                                             r.stderr))
    r = finsent(["help", "nosuch"])
    c.check(r.returncode == EXIT_USAGE and "nosuch" in r.stderr, r.stderr)

# ---- topics ----------------------------------------------------------------------------
with t.case("finsent topics lists the 20 names; prefixes work, ambiguous ones say why") as c:
    r = finsent(["topics"])
    lines = r.stdout.splitlines()
    c.check(r.returncode == 0 and len(lines) == 20 and lines[6].split(None, 1) ==
            ["6", "Energy | Oil"], r.stdout)
    j = json.loads(finsent(["topics", "--json"]).stdout)
    c.check(len(j) == 20 and j[1] == {"id": 1, "name": "Fed | Central Banks"}, repr(j[:2]))
    db = os.path.join(work, "topics.db")
    r = finsent(["--db", db, "--config", write("t.conf", GOOD), "alerts", "silence", "energy",
                 "--for", "1h"])
    c.check(r.returncode == 0 and "Energy | Oil silenced" in r.stdout, r.stdout + r.stderr)
    r = finsent(["--db", db, "alerts", "silence", "stock", "--for", "1h"])
    c.check(r.returncode == EXIT_USAGE and "Stock Commentary" in r.stderr and
            "Stock Movement" in r.stderr, r.stderr)
    r = finsent(["--db", db, "--config", write("t.conf", GOOD), "trends", "--topic", "OIL"])
    c.check(r.returncode == 0, r.stderr)


# ---- cron ------------------------------------------------------------------------------
def cron_field(field, lo, hi):
    """The values a crontab field (*, N, */S, A-B/S, A-B) matches."""
    out = set()
    for part in field.split(","):
        rng, _, step = part.partition("/")
        step = int(step or 1)
        a, b = (lo, hi) if rng == "*" else (
            (int(rng.split("-")[0]), int(rng.split("-")[1])) if "-" in rng
            else (int(rng), int(rng) if not _ else hi))
        out |= set(range(a, b + 1, step))
    return out


def cron_minutes(lines):
    """Minutes of the day at which the crontab lines fire."""
    got = set()
    for line in lines:
        minute, hour = line.split()[:2]
        got |= {h * 60 + m for h in cron_field(hour, 0, 23) for m in cron_field(minute, 0, 59)}
    return got


def calendar_minutes(specs):
    """Minutes of the day of the timer's OnCalendar lines (systemd-analyze)."""
    got = set()
    for spec in specs:
        r = subprocess.run(["systemd-analyze", "calendar", "--iterations=100", spec],
                           capture_output=True, text=True)
        for h, m in re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ \S+ (\d\d):(\d\d):00", r.stdout):
            got.add(int(h) * 60 + int(m))
    return got


with t.case("cron --every N runs every N minutes around the clock (crontab and timer)") as c:
    conf = write("cron.conf", GOOD + "[alert a]\nnotify = none\n")
    for every, minutes in (("45", 45), ("15", 15), ("60", 60), ("90m", 90), ("2h", 120),
                           ("8h", 480), ("1d", 1440)):
        r = finsent(["--config", conf, "--db", os.path.join(work, "c.db"), "cron",
                     "--every", every])
        c.check(r.returncode == 0, "%s: exit %d %s" % (every, r.returncode, r.stderr))
        entries = [ln for ln in r.stdout.splitlines() if ln and ln[0] in "*0123456789"]
        want = set(range(0, 1440, minutes))
        c.check(cron_minutes(entries) == want, "%s: crontab %r fires at %r" % (
            every, entries, sorted(cron_minutes(entries))[:8]))
        c.check(all("--quiet run" in e and "DBUS" not in e for e in entries), repr(entries))
        specs = re.findall(r"^OnCalendar=(.*)$", r.stdout, re.M)
        if have("systemd-analyze"):
            got = calendar_minutes(specs)
            c.check(got == want, "%s: OnCalendar %r gives %r" % (every, specs, sorted(got)[:8]))
    for bad in ("7", "0", "25h", "soon"):
        r = finsent(["--config", conf, "cron", "--every", bad])
        c.check(r.returncode == EXIT_USAGE and len(r.stderr.splitlines()) == 1,
                "%s: exit %d %r" % (bad, r.returncode, r.stderr))

with t.case("cron: DBUS_SESSION_BUS_ADDRESS in the crontab line when a rule notifies the desktop") as c:
    conf = write("cron2.conf", GOOD)  # no [alert]: the built-in rule notifies the desktop
    r = finsent(["--config", conf, "--db", os.path.join(work, "c.db"), "cron"])
    entry = [ln for ln in r.stdout.splitlines() if ln.startswith("*/15 ")]
    c.check(len(entry) == 1 and "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/%d/bus " % os.getuid()
            in entry[0], r.stdout)

# ---- crawl: --quiet and the documented outcomes ---------------------------------------------
with open(os.path.join(ROOT, "README.md")) as f:
    readme = f.read()
section = readme.split("### Crawl outcomes", 1)[-1].split("\n#", 1)[0]
documented = set(re.findall(r"^\| `([a-z ]+)` \|", section, re.M))

with t.case("--quiet crawl prints failures only; every outcome is documented") as c:
    c.check(documented >= {"new", "nothing new", "unchanged", "not due", "disallowed", "failed"},
            "README documents %r" % documented)
    conf = write("crawl.conf", GOOD + "[source private]\nurl = %s/private/feed.xml\n"
                 "[source broken]\nurl = %s/hostile/500\n" % (srv.base, srv.base))
    db = os.path.join(work, "crawl.db")

    def crawl(*args, now=NOW, quiet=False):
        return finsent(["--config", conf, "--db", db, "--now", iso(now)] +
                       (["--quiet"] if quiet else []) + ["crawl", *args])
    r = crawl(quiet=True)
    c.check(r.returncode == EXIT_PARTIAL and r.stdout.splitlines() == [
        l for l in r.stdout.splitlines() if l.startswith("broken: failed: ")] and
        len(r.stdout.splitlines()) == 1, "exit %d, stdout %r" % (r.returncode, r.stdout))
    r = crawl("--force", now=NOW + 60)
    lines = dict(l.split(": ", 1) for l in r.stdout.splitlines())
    c.check(lines.get("ok") == "nothing new (3 items already stored)" and
            lines.get("private") == "disallowed by robots.txt" and
            lines.get("broken", "").startswith("failed: "), repr(lines))
    r = crawl(now=NOW + 120)
    lines = dict(l.split(": ", 1) for l in r.stdout.splitlines())
    c.check(lines.get("ok", "").startswith("not due until 2026-03-01T"), repr(lines))
    r = crawl("--json", "--force", now=NOW + 180)
    outcomes = {o["source"]: o["outcome"] for o in json.loads(r.stdout)}
    c.check(outcomes == {"ok": "nothing new", "private": "disallowed", "broken": "failed"},
            repr(outcomes))
    seen = set(outcomes.values()) | {"not due"}
    c.check(seen <= documented, "undocumented: %r" % (seen - documented))
    r = crawl("--json", quiet=True, now=NOW + 240)  # JSON was asked for: all of it
    c.check(len(json.loads(r.stdout)) == 3, r.stdout)

with t.case("--quiet: status lines of other commands are dropped too") as c:
    conf = os.path.join(work, "quiet", "finsent.conf")
    for args in (["init"], ["alerts", "silence", "macro", "--for", "1h"], ["alerts", "ack", "1"]):
        r = finsent(["--quiet", "--config", conf, "--db", os.path.join(work, "q.db"), *args])
        c.check(r.stdout == "" and (r.returncode == 0 or args[1:2] == ["ack"]),
                "%s: exit %d, %r" % (args, r.returncode, r.stdout))


# ---- trends and export: one range rule, --json ------------------------------------------
def fill(db):
    finsent(["--db", db, "--now", iso(NOW), "trends", "--no-update"])  # the schema
    con = sqlite3.connect(db)
    con.execute("INSERT INTO sources(id, name, url, kind) VALUES (1, 's', 'https://e.test/', "
                "'feed')")
    for i, age in enumerate((40 * DAY, 10 * DAY, 3600)):
        ts = NOW - age
        con.execute("INSERT INTO documents(id, source_id, url, dedupe_hash, title, text, kind, "
                    "published_at, fetched_at) VALUES (?, 1, ?, ?, ?, 'body', 'article', ?, ?)",
                    (i + 1, "https://e.test/%d" % i, "h%d" % i, "Title %d" % i, ts, ts))
        con.execute("INSERT INTO classifications(document_id, model_id, topic, topic_probs, "
                    "sentiment, sentiment_probs, score, classified_at) "
                    "VALUES (?, 'it', 6, '[]', 0, '[]', -0.5, ?)", (i + 1, ts))
    con.execute("INSERT INTO alerts(rule, topic, granularity, state, severity, bucket_start, "
                "bucket_end, z_score, negative_share, n_negative, n_docs, first_seen_at, "
                "fired_at, last_seen_at) VALUES ('r', 6, 'hour', 'firing', 'critical', ?, ?, "
                "5.5, 0.9, 9, 10, ?, ?, ?)", (NOW - 3600, NOW, NOW, NOW, NOW))
    con.commit()
    con.close()


db = os.path.join(work, "trends.db")
fill(db)


def run_json(*args):
    r = finsent(["--db", db, "--now", iso(NOW), *args])
    if r.returncode != 0:
        raise AssertionError("%s: exit %d: %s" % (args, r.returncode, r.stderr))
    return json.loads(r.stdout)


def csv_starts(*args):
    r = finsent(["--db", db, "--now", iso(NOW), "export", "trends", *args])
    return sorted({l.split(",")[1] for l in r.stdout.splitlines()[1:] if l.startswith("Energy")})


with t.case("trends and export trends cover the same range by default; --all: everything") as c:
    for bucket, want in (("day", 2), ("hour", 1)):
        tj = run_json("trends", "--json", "--bucket", bucket)
        t_starts = sorted(b["bucket_start"] for s in tj["series"] if s["topic"] == "Energy | Oil"
                          for b in s["buckets"])
        e_starts = csv_starts("--bucket", bucket)
        c.check(t_starts == e_starts and len(t_starts) == want,
                "%s: trends %r, export %r" % (bucket, t_starts, e_starts))
        c.check(tj["granularity"] == bucket and tj["until"] > iso(NOW) > tj["since"], repr(tj))
    c.check(len(csv_starts("--all")) == 3, repr(csv_starts("--all")))
    docs = run_json("export", "documents", "--json")
    c.check([d["title"] for d in docs] == ["Title 1", "Title 2"] or
            sorted(d["title"] for d in docs) == ["Title 1", "Title 2"], repr(docs))
    c.check(len(run_json("export", "documents", "--format", "json", "--all")) == 3, "--all")

with t.case("--json: export trends rows carry the CSV's columns; alerts list its spike") as c:
    rows = run_json("export", "trends", "--json", "--all")
    header = finsent(["--db", db, "--now", iso(NOW), "export", "trends"]).stdout.splitlines()[0]
    c.check(rows and all(list(r) == header.split(",") for r in rows), "%r vs %r" % (
        rows[:1], header))
    alerts = run_json("alerts", "list", "--all", "--json")
    a = alerts[0] if alerts else {}
    c.check(len(alerts) == 1 and a["state"] == "firing" and a["topic"] == "Energy | Oil" and
            a["spike"]["z_score"] == 5.5 and a["spike"]["n_docs"] == 10 and
            a["spike"]["window_start"] == iso(NOW - 3600), json.dumps(alerts))
    c.check(run_json("alerts", "list", "--json") == alerts, "open alerts differ")

srv.stop()
sys.exit(t.finish())
