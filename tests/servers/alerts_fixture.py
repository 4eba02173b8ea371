"""Helpers for the alerting integration tests: a finsent database filled directly
with SQL (buckets, documents, classifications), an SMTP server started and stopped
by the test, and finsent runs.

Used by tests/it_alerts_email.py, tests/it_alerts_desktop.py and
tests/it_alerts_entities.py (which also take the dunst session from here).
"""
import calendar
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import time

ROOT = os.environ.get("FINSENT_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BIN = os.environ.get("FINSENT_BIN", os.path.join(ROOT, "finsent"))
SMTP_SERVER = os.path.join(ROOT, "tests", "servers", "smtp_server.py")
# aiosmtpd is a Debian package: use Debian's interpreter even under pyenv
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"


def ts(iso):
    """'2026-03-01T12:00:00Z' -> epoch seconds."""
    return calendar.timegm(time.strptime(iso.rstrip("Z"), "%Y-%m-%dT%H:%M:%S"))


def finsent(args, db, config, now=None, env=None, timeout=60):
    cmd = [BIN, "--db", db, "--config", config]
    if now:
        cmd += ["--now", now]
    return subprocess.run(cmd + args, capture_output=True, text=True, env=env, timeout=timeout)


def new_db(path, config):
    """Creates and migrates the database through finsent itself (with no
    configuration: the tests' own may be broken on purpose)."""
    r = finsent(["alerts", "list"], path, os.devnull)
    if r.returncode != 0:
        raise RuntimeError("cannot create db: " + r.stderr)
    return sqlite3.connect(path)


def add_bucket(con, topic, start, n_docs, n_negative, z, granularity="hour", share=0.2,
               share_std=0.05, count=3.0, count_std=1.5, spike=None, history=10):
    """A row of table buckets as trends/ writes it (contract: trends/trends.h); spike
    defaults to the [trends] defaults' verdict (history >= 6, z >= 3, n_docs >= 10,
    share >= 0.3). The alerter reads history (warmup), z_score, n_docs, n_negative."""
    if spike is None:
        spike = history >= 6 and z >= 3 and n_docs >= 10 and n_negative >= 0.3 * n_docs
    con.execute(
        "INSERT OR REPLACE INTO buckets(granularity, topic, bucket_start, n_docs, n_negative, "
        "n_neutral, n_positive, baseline_mean, baseline_std, share_baseline, share_std, "
        "z_score, spike, final, history) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
        (granularity, topic, ts(start), n_docs, n_negative, n_docs - n_negative, count,
         count_std, share, share_std, z, 1 if spike else 0, history))
    con.commit()


def add_doc(con, topic, when, text, score, title=None, url=None, attended=()):
    cur = con.execute(
        "INSERT INTO documents(url, dedupe_hash, title, text, kind, published_at, fetched_at) "
        "VALUES (?, ?, ?, ?, 'article', ?, ?)",
        (url, "h%d-%s" % (time.monotonic_ns(), text[:8]), title, text, ts(when), ts(when)))
    doc = cur.lastrowid
    sentiment = 0 if score < -0.2 else 2 if score > 0.2 else 1
    con.execute(
        "INSERT INTO classifications(document_id, model_id, topic, topic_probs, sentiment, "
        "sentiment_probs, score, attended, classified_at) VALUES (?, 'test', ?, '[]', ?, '[]', "
        "?, ?, 0)", (doc, topic, sentiment, score, json.dumps(list(attended))))
    con.commit()
    return doc


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1: returns (cert, key) paths."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SmtpServer:
    """tests/servers/smtp_server.py as a context manager: .port, .messages()."""

    def __init__(self, directory, port=0, auth=None, starttls=None, smtps=None):
        self.directory = directory
        cmd = [SYSTEM_PYTHON, SMTP_SERVER, directory, "--port", str(port)]
        if auth:
            cmd += ["--auth", auth]
        if starttls:
            cmd += ["--starttls", *starttls]
        if smtps:
            cmd += ["--smtps", *smtps]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError("smtp_server.py did not start")
        self.port = int(line)

    def messages(self):
        """Stored messages (bytes) in arrival order, with their envelope dicts."""
        out = []
        for name in sorted(os.listdir(self.directory)):
            if name.endswith(".eml"):
                base = os.path.join(self.directory, name[:-4])
                with open(base + ".eml", "rb") as f, open(base + ".json") as g:
                    out.append((f.read(), json.load(g)))
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# dunst shows the urgency in the formatted message, which `dunstctl history` returns
DUNSTRC = """[global]
    markup = full
[urgency_low]
    format = "urgency=low|%s|%b"
    timeout = 0
[urgency_normal]
    format = "urgency=normal|%s|%b"
    timeout = 0
[urgency_critical]
    format = "urgency=critical|%s|%b"
    timeout = 0
"""

# Runs inside dbus-run-session: Xvfb, dunst, finsent, then the history as JSON.
DESKTOP_SESSION = r"""
set -u
cd "$WORK"
# wait_for CMD...: until CMD succeeds, at most 30 s (each wait ends as soon as it
# can: the limit is for a loaded machine, where Xvfb, dunst or a redraw are slow)
wait_for() { for _ in $(seq 600); do "$@" && return 0; sleep 0.05; done; return 1; }
at_least() { [ "$(dunstctl count "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
exec 3>"$WORK/display"
Xvfb -displayfd 3 -nolisten tcp -screen 0 800x600x24 >/dev/null 2>&1 &
xpid=$!
wait_for test -s "$WORK/display"
export DISPLAY=":$(cat "$WORK/display")"
dunst -config "$WORK/dunstrc" >/dev/null 2>&1 &
dpid=$!
owned() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null |
        grep -q true
}
wait_for owned
"$FINSENT_BIN" --db "$WORK/f.db" --config "$WORK/f.conf" --now "$NOW" alerts run \
    >"$WORK/out" 2>"$WORK/err"
echo $? >"$WORK/rc"
# dunst shows what it received on a later redraw; act and close only once it has
wait_for at_least displayed 1
shown=$(dunstctl count displayed 2>/dev/null || echo 0)
if [ "${ACTION:-0}" = 1 ]; then
    dunstctl action 0
    wait_for test -s "$WORK/opened"
fi
dunstctl close-all
wait_for at_least history "$shown"
dunstctl history >"$WORK/history.json"
kill "$dpid" "$xpid" 2>/dev/null
wait 2>/dev/null
exit 0
"""


def check_desktop_tools():
    """Raises MissingDependency unless desktop_session() can run."""
    missing = [t for t in ("dbus-run-session", "dbus-send", "Xvfb", "dunst", "dunstctl")
               if not shutil.which(t)]
    if missing:
        raise MissingDependency(", ".join(missing))


def desktop_session(work, now, action=False, env=None):
    """Runs `finsent alerts run` on WORK/f.db with WORK/f.conf at now inside a
    private D-Bus session with Xvfb and dunst (DUNSTRC); with action, invokes the
    notification's default action and waits for WORK/opened. env: more
    variables. Returns (finsent's exit status as text, its stderr, the
    notifications dunst showed as dicts of appname, summary, body, message...)."""
    check_desktop_tools()
    with open(os.path.join(work, "dunstrc"), "w") as f:
        f.write(DUNSTRC)
    run_env = {k: v for k, v in os.environ.items()
               if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY")}
    run_env.update(WORK=work, NOW=now, FINSENT_BIN=BIN, ACTION="1" if action else "0")
    run_env.update(env or {})
    subprocess.run(["dbus-run-session", "--", "bash", "-c", DESKTOP_SESSION], env=run_env,
                   timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(work, "rc")) as f:
        rc = f.read().strip()
    with open(os.path.join(work, "err")) as f:
        err = f.read()
    with open(os.path.join(work, "history.json")) as f:
        data = json.load(f)["data"]
    return rc, err, [{k: v["data"] for k, v in n.items()} for group in data for n in group]


class Cases:
    """Runs test functions, printing PASS/FAIL/SKIP lines; exit status at the end."""

    def __init__(self):
        self.failed = 0

    def run(self, name, fn, *args):
        try:
            fn(*args)
            print("PASS", name, flush=True)
        except MissingDependency as e:
            if os.environ.get("CI", "") in ("true", "1"):
                self.failed += 1
                print("FAIL %s: missing dependency: %s (CI=true: 'make deps' installs it)"
                      % (name, e), flush=True)
            else:
                print("SKIP %s: missing dependency: %s (make deps)" % (name, e), flush=True)
        except SkipCase as e:
            print("SKIP %s: %s" % (name, e), flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure as one line
            self.failed += 1
            msg = (str(e) or type(e).__name__).replace("\n", " | ")
            print("FAIL %s: %s" % (name, msg[:2000]), flush=True)

    def exit_code(self):
        return 1 if self.failed else 0


def run_cases(prefix, namespace, made, *args):
    """Runs every case_* function of namespace (a test module's globals()) in name
    order as PREFIX:NAME with args; when all passed, removes the directories
    listed in made (read after the cases ran). Returns the exit status."""
    cases = Cases()
    for name, fn in sorted((n, f) for n, f in namespace.items() if n.startswith("case_")):
        cases.run(prefix + ":" + name[len("case_"):], fn, *args)
    if not cases.failed:
        for d in made:
            shutil.rmtree(d, ignore_errors=True)
    return cases.exit_code()


class SkipCase(Exception):
    pass


class MissingDependency(SkipCase):
    """Something `make deps` installs is missing: a skip, a failure under CI=true."""


def check(cond, why):
    if not cond:
        raise AssertionError(why)
