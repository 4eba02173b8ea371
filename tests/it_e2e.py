#!/usr/bin/python3
"""it_e2e — the whole service end to end, all on 127.0.0.1, over simulated time.

A local HTTP server serves feed snapshots hour by hour (`finsent run --now`); in
one hour the "Energy | Oil" topic turns negative. Asserted: exactly one alert
email at a local SMTP server (aiosmtpd) and one desktop notification (dunst under
Xvfb on a private D-Bus session), the CSV export shows the spike, a further run
with nothing new sends nothing, and runs killed with SIGKILL at random moments
are finished by the next run with PRAGMA integrity_check ok and no duplicates.
The classifier is a tiny model trained here in seconds on a synthetic world
(tests/lib/toyfeeds.py), so the test checks the service, not the default model.
"""
import csv
import email
import email.header
import email.policy
import functools
import http.server
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
from fstest import BIN, PYTHON, Suite, finsent, free_port, have, tempdir  # noqa: E402
import toyfeeds  # noqa: E402

# A private session bus for the desktop notifications: re-run under dbus-run-session.
if not os.environ.get("FINSENT_E2E_IN_DBUS") and have("dbus-run-session"):
    os.environ["FINSENT_E2E_IN_DBUS"] = "1"
    os.execvp("dbus-run-session", ["dbus-run-session", "--", PYTHON, os.path.abspath(__file__)])

T0 = 1772323200  # 2026-03-01T00:00:00Z
HOUR = 3600
SPIKE_HOUR = 12
t = Suite()
work = tempdir("finsent-e2e-")
site = os.path.join(work, "site")
os.makedirs(site)


# ---- real servers ------------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    slow = {}  # path -> seconds to wait before answering (the SIGKILL case)

    def log_message(self, *args):
        pass

    def do_GET(self):
        wait = self.slow.get(self.path.split("?")[0])
        if wait:
            time.sleep(wait)
        super().do_GET()


def start_http():
    handler = functools.partial(QuietHandler, directory=site)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]


class SmtpStore:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


def start_smtp():
    from aiosmtpd.controller import Controller
    store = SmtpStore()
    port = free_port()
    ctl = Controller(store, hostname="127.0.0.1", port=port)
    ctl.start()
    return ctl, store, port


def notifications_owned():
    r = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                        "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                        "string:org.freedesktop.Notifications"], capture_output=True, text=True)
    return "true" in r.stdout


def start_desktop():
    """Xvfb + dunst on the private bus; returns (procs, ok)."""
    if not (have("Xvfb") and have("dunst") and have("dbus-send")
            and os.environ.get("DBUS_SESSION_BUS_ADDRESS")):
        return [], False
    rfd, wfd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-nolisten", "tcp", "-screen", "0",
                             "800x600x24"], pass_fds=(wfd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(wfd)
    with os.fdopen(rfd) as r:
        display = r.readline().strip()  # Xvfb writes the display number once it is ready
    if not display:
        return [xvfb], False
    os.environ["DISPLAY"] = ":" + display
    dunst = subprocess.Popen(["dunst"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [xvfb, dunst], wait_until(notifications_owned)


def wait_until(cond, seconds=30.0):
    """Polls cond every 50 ms until it holds (True) or seconds pass (False): the
    limit is for a loaded machine, each wait ends as soon as it can."""
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def dunst_count(what):
    r = subprocess.run(["dunstctl", "count", what], capture_output=True, text=True)
    return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip().isdigit() else -1


def desktop_history():
    """Every notification shown so far (dunst lists closed ones in its history),
    once dunst has shown what it received (none left waiting) and closed it."""
    wait_until(lambda: dunst_count("waiting") == 0)
    before = dunst_count("history") + dunst_count("displayed")
    subprocess.run(["dunstctl", "close-all"], capture_output=True)
    wait_until(lambda: dunst_count("history") >= before)
    r = subprocess.run(["dunstctl", "history"], capture_output=True, text=True)
    if r.returncode != 0:
        return []
    data = json.loads(r.stdout)
    return data.get("data", [[]])[0]


# ---- the synthetic world -----------------------------------------------------------

rng = random.Random(42)
feeds = {"energy": [], "company": []}
FEED_TOPIC = {"energy": "Energy | Oil", "company": "Company | Product News"}


def add_items(name, hour, sentiments):
    for k, sent in enumerate(sentiments):
        n = len(feeds[name])
        text = toyfeeds.text(FEED_TOPIC[name], sent, rng, serial=f"{name[0]}{n}")
        feeds[name].append({
            "guid": f"{name}-{n}", "title": text,
            "link": f"http://news.example/{name}/{n}",
            "description": text, "published": T0 + hour * HOUR + k * 300,
        })


def publish(hour):
    """Writes every feed's snapshot. Last-Modified comes from the file's mtime with
    one-second resolution, so each snapshot gets its simulated time as mtime: a
    rewrite within the same wall-clock second must not look unmodified (304)."""
    stamp = T0 + hour * HOUR
    for name, items in feeds.items():
        xml = toyfeeds.rss(f"{name} news", f"http://news.example/{name}", items[-30:])
        tmp = os.path.join(site, name + ".xml.tmp")
        with open(tmp, "w") as f:
            f.write(xml)
        os.utime(tmp, (stamp, stamp))
        os.replace(tmp, os.path.join(site, name + ".xml"))


def steady(name, hour):
    add_items(name, hour, ["neutral", "neutral", "neutral", "positive", "positive", "negative"])


def write_config(path, http_port, smtp_port, model):
    srcs = "".join(f"[source {n}]\nurl = http://127.0.0.1:{http_port}/{n}.xml\nkind = feed\n\n"
                   for n in feeds)
    with open(path, "w") as f:
        f.write(f"""[finsent]
contact = e2e@example.com

[crawler]
concurrency = 4
delay_ms = 0

{srcs}[model]
path = {model}
device = cpu

[trends]
alpha = 0.3
z_threshold = 3
min_docs = 5

[alert negative-spike]
topics = Energy | Oil, Company | Product News
granularity = hour
z_threshold = 3
min_docs = 5
min_negative_share = 0.5
repeat = 6h
notify = desktop,email

[smtp]
url = smtp://127.0.0.1:{smtp_port}
from = finsent@example.com
to = risk@example.com
tls = none
""")


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def run_at(conf, db, hour, minute=50):
    return finsent(["--config", conf, "--db", db, "--now", iso(T0 + hour * HOUR + minute * 60),
                    "--quiet", "run"], timeout=600)


def subject(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return str(msg["Subject"])


# ---- the test ------------------------------------------------------------------------

http_srv, http_port = start_http()
smtp_ctl, smtp_store, smtp_port = start_smtp()
desktop_procs, desktop_ok = start_desktop()
model = os.path.join(work, "toy.safetensors")
conf = os.path.join(work, "finsent.conf")
db = os.path.join(work, "finsent.db")
write_config(conf, http_port, smtp_port, model)

try:
    with t.case("a tiny model learns the synthetic world") as c:
        topic_csv, sent_csv = os.path.join(work, "topic.csv"), os.path.join(work, "sent.csv")
        toyfeeds.make_training_csvs(topic_csv, sent_csv)
        r = finsent(["train", "--topic-data", topic_csv, "--sentiment-data", sent_csv,
                     "--out", model, "--epochs", "20", "--width", "32", "--layers", "1",
                     "--heads", "2", "--vocab", "400", "--max-len", "32", "--seed", "1"],
                    timeout=600)
        c.check(r.returncode == 0, f"train failed ({r.returncode}): {r.stderr[-500:]}")
        r = finsent(["predict", "--json", "--model", model, "brent crude plunge sharply"])
        c.check(r.returncode == 0, f"predict failed: {r.stderr}")
        out = json.loads(r.stdout)
        first = out[0] if isinstance(out, list) else out
        c.check(first["topic"] == "Energy | Oil" and first["sentiment"] == "negative",
                f"toy model did not learn: {r.stdout}")

    runs = []
    with t.case("hourly runs over simulated time complete") as c:
        for hour in range(SPIKE_HOUR + 3):
            if hour < SPIKE_HOUR:
                steady("energy", hour)
            elif hour == SPIKE_HOUR:
                add_items("energy", hour, ["negative"] * 12)
            if hour <= SPIKE_HOUR:
                steady("company", hour)
            publish(hour)
            r = run_at(conf, db, hour)
            runs.append(r)
            c.check(r.returncode == 0, f"run at hour {hour}: exit {r.returncode}: {r.stderr}")

    def run_log():
        """What the runs said about spikes and alerts, for a failure message."""
        lines = [f"h{h}: {l}" for h, r in enumerate(runs)
                 for l in (r.stdout + r.stderr).splitlines() if "alert" in l or "spike" in l]
        a = finsent(["--db", db, "--config", conf, "alerts", "list"])
        return "\n".join(lines[-20:]) + "\nalerts list:\n" + a.stdout + a.stderr

    with t.case("exactly one alert email, about Energy | Oil") as c:
        c.check(len(smtp_store.messages) == 1,
                f"{len(smtp_store.messages)} emails received\n{run_log()}")
        subj = subject(smtp_store.messages[0])
        c.check("Energy" in subj, f"subject: {subj}")

    with t.case("exactly one desktop notification") as c:
        if not desktop_ok:
            c.missing("a desktop session: Xvfb, dunst and D-Bus (xvfb, dunst, dbus-x11)")
        hist = desktop_history()
        c.check(len(hist) == 1, f"{len(hist)} notifications: {hist}")
        c.check("Energy" in json.dumps(hist[0]), f"notification: {hist[0]}")

    with t.case("a further run with nothing new sends nothing") as c:
        before_mail, before_desk = len(smtp_store.messages), len(desktop_history())
        r = run_at(conf, db, SPIKE_HOUR + 3)
        c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        c.check(len(smtp_store.messages) == before_mail, "an email was sent again")
        if desktop_ok:
            c.check(len(desktop_history()) == before_desk, "a notification was sent again")

    with t.case("CSV export shows the spike at the right hour") as c:
        r = finsent(["--db", db, "--config", conf, "export", "trends", "--format", "csv",
                     "--bucket", "hour", "--all"])
        c.check(r.returncode == 0, f"export failed: {r.stderr}")
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        spikes = [row for row in rows if row["spike"] in ("1", "true")]
        c.check(any(row["topic"] == "Energy | Oil" and
                    row["bucket_start"] == iso(T0 + SPIKE_HOUR * HOUR) for row in spikes),
                f"no Energy | Oil spike at hour {SPIKE_HOUR}: {spikes}")
        c.check(not any(row["topic"] == "Company | Product News" for row in spikes),
                f"steady topic spiked: {spikes}")

    with t.case("every document stored once and classified") as c:
        con = sqlite3.connect(db)
        n, distinct = con.execute("SELECT count(*), count(DISTINCT guid) FROM documents").fetchone()
        total = sum(len(v) for v in feeds.values())
        c.check(n == distinct == total, f"documents {n}, distinct {distinct}, published {total}")
        (unclassified,) = con.execute(
            "SELECT count(*) FROM documents d LEFT JOIN classifications c "
            "ON c.document_id = d.id WHERE c.document_id IS NULL").fetchone()
        c.check(unclassified == 0, f"{unclassified} documents not classified")
        con.close()

    with t.case("runs killed with SIGKILL are finished by the next run") as c:
        kdb = os.path.join(work, "killed.db")
        env = dict(os.environ)

        def kill_runs(delays):
            kills = 0
            for delay in delays:
                p = subprocess.Popen([BIN, "--config", conf, "--db", kdb, "--now",
                                      iso(T0 + (SPIKE_HOUR + 1) * HOUR), "--quiet", "run"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                time.sleep(delay)
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                kills += p.wait() == -signal.SIGKILL  # died of the signal, part-way
            return kills

        # first with one feed answering after 1.5 s: every run is still at work
        # when it is killed (energy may be stored, company cannot be)
        delays = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2]
        QuietHandler.slow = {"/company.xml": 1.5}
        try:
            sure = kill_runs(delays)
        finally:
            QuietHandler.slow = {}
        c.check(sure == len(delays), f"only {sure} of {len(delays)} runs were killed")
        con = sqlite3.connect(kdb)
        left = con.execute("SELECT count(*) FROM documents d JOIN sources s "
                           "ON s.id = d.source_id WHERE s.name = 'company'").fetchone()[0]
        con.close()
        c.check(left == 0, f"{left} company documents stored by runs killed before it answered")
        # then at the same moments with both feeds answering at once
        kills = sure + kill_runs(delays)
        r = run_at(conf, kdb, SPIKE_HOUR + 1)
        c.check(r.returncode == 0, f"final run: exit {r.returncode}: {r.stderr}")
        con = sqlite3.connect(kdb)
        (ok,) = con.execute("PRAGMA integrity_check").fetchone()
        c.check(ok == "ok", f"integrity_check: {ok}")
        n, distinct = con.execute("SELECT count(*), count(DISTINCT guid) FROM documents").fetchone()
        served = sum(min(30, len(v)) for v in feeds.values())
        c.check(n == distinct == served, f"documents {n}, distinct {distinct}, served {served}")
        (unclassified,) = con.execute(
            "SELECT count(*) FROM documents d LEFT JOIN classifications c "
            "ON c.document_id = d.id WHERE c.document_id IS NULL").fetchone()
        c.check(unclassified == 0, f"{unclassified} documents left unclassified")
        con.close()
        print(f"# killed {kills} runs part-way", flush=True)
finally:
    http_srv.shutdown()
    smtp_ctl.stop()
    for p in desktop_procs:
        p.terminate()
    if os.environ.get("FINSENT_KEEP"):
        print(f"# kept {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)

sys.exit(t.finish())
