#!/usr/bin/env python3
"""Desktop alerts end to end: a private D-Bus session (dbus-run-session) with Xvfb
and dunst, read back with `dunstctl history`; and the same alert with no session
bus at all (one warning, the alert recorded, the email still sent).

Prints one line per case (PASS/FAIL/SKIP); exits non-zero on any failure.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers"))
from alerts_fixture import (BIN, MissingDependency, run_cases, SmtpServer, add_bucket, add_doc,  # noqa: E402
                            check, check_desktop_tools, desktop_session, finsent, new_db, ts)

NOW = "2026-03-01T12:30:00Z"
ENERGY, MACRO = 6, 14

def make_env(name, conf):
    work = tempfile.mkdtemp(prefix="finsent-it-desktop-%s-" % name)
    with open(os.path.join(work, "f.conf"), "w") as f:
        f.write(conf)
    con = new_db(os.path.join(work, "f.db"), os.path.join(work, "f.conf"))
    return work, con


def spike_with_doc(con, topic, title):
    add_bucket(con, topic, "2026-03-01T12:00:00Z", 20, 15, 6.5)
    add_doc(con, topic, "2026-03-01T12:05:00Z", "text", -0.95, title=title,
            url="https://example.com/x")


def case_notification_arrives_with_urgency(keep):
    check_desktop_tools()
    work, con = make_env("dunst", "[alert energy]\ntopics = Energy | Oil, Macro\n"
                                  "min_docs = 10\nnotify = desktop\n")
    keep.append(work)
    spike_with_doc(con, ENERGY, "Oil <b>crashes</b> & OPEC shrugs")
    spike_with_doc(con, MACRO, "Recession fears grow")
    rc, err, entries = desktop_session(work, NOW)
    check(rc == "0", "finsent exit %s: %s" % (rc, err))
    check(len(entries) == 1, "want one grouped notification, got %d" % len(entries))
    n = entries[0]
    check(n["appname"] == "finsent", "appname %r" % n["appname"])
    check(n["summary"].startswith("[finsent] CRITICAL: negative sentiment in 2 topics"),
          "summary %r" % n["summary"])
    check("Energy | Oil: 75% negative (15/20), z 6.5" in n["body"], "body %r" % n["body"])
    check("Macro" in n["body"], "body lacks the second topic")
    # dunst interprets markup: the headline must arrive escaped, not as bold text
    check("&lt;b&gt;crashes&lt;/b&gt;" in n["body"], "markup not escaped: %r" % n["body"])
    check(n["message"].startswith("urgency=critical|"), "urgency: %r" % n["message"])
    state = sqlite3.connect(os.path.join(work, "f.db")).execute(
        "SELECT state, attempts FROM outbox").fetchall()
    check(state == [("sent", 1)], "outbox %r" % state)


def run_session_with_click(name, conf, keep):
    """One notification shown under dunst and its default action invoked
    (`dunstctl action 0`); a stand-in xdg-open on PATH records what it was asked
    to open. Returns (work dir, what was opened or None)."""
    check_desktop_tools()
    work, con = make_env(name, conf)
    keep.append(work)
    add_bucket(con, ENERGY, "2026-03-01T12:00:00Z", 20, 15, 6.5)
    add_doc(con, ENERGY, "2026-03-01T12:05:00Z", "text", -0.6, title="Oil dips",
            url="https://example.com/dips")
    add_doc(con, ENERGY, "2026-03-01T12:06:00Z", "text", -0.97, title="Refinery explodes",
            url="https://example.com/worst")
    bindir = os.path.join(work, "bin")
    os.mkdir(bindir)
    with open(os.path.join(bindir, "xdg-open"), "w") as f:
        f.write('#!/bin/sh\nprintf "%%s" "$1" > "%s/opened"\n' % work)
    os.chmod(os.path.join(bindir, "xdg-open"), 0o755)
    rc, err, _ = desktop_session(work, NOW, action=True,
                                 env={"PATH": bindir + os.pathsep + os.environ.get("PATH", "")})
    check(rc == "0", "finsent exit %s: %s" % (rc, err))
    opened = os.path.join(work, "opened")
    return work, open(opened).read() if os.path.exists(opened) else None


def case_default_action_opens_the_most_negative_article(keep):
    work, opened = run_session_with_click(
        "click", "[alert energy]\ntopics = Energy | Oil\nmin_docs = 10\nnotify = desktop\n",
        keep)
    check(opened == "https://example.com/worst", "opened %r" % opened)
    state = sqlite3.connect(os.path.join(work, "f.db")).execute(
        "SELECT state FROM outbox").fetchall()
    check(state == [("sent",)], "outbox %r" % state)


def case_default_action_opens_the_report_when_set(keep):
    work, opened = run_session_with_click(
        "report", "[report]\npath = /tmp/finsent-report.html\n[alert energy]\n"
                  "topics = Energy | Oil\nmin_docs = 10\nnotify = desktop\n", keep)
    check(opened == "file:///tmp/finsent-report.html", "opened %r" % opened)


def case_no_bus_one_warning_email_still_sent(keep):
    work = tempfile.mkdtemp(prefix="finsent-it-desktop-nobus-")
    keep.append(work)
    with SmtpServer(os.path.join(work, "mail")) as srv:
        conf = ("[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = finsent@example.com\n"
                "to = ops@example.com\ntls = none\n[alert energy]\ntopics = Energy | Oil\n"
                "min_docs = 10\nnotify = desktop,email\n" % srv.port)
        with open(os.path.join(work, "f.conf"), "w") as f:
            f.write(conf)
        con = new_db(os.path.join(work, "f.db"), os.path.join(work, "f.conf"))
        spike_with_doc(con, ENERGY, "Oil slumps")
        env = {k: v for k, v in os.environ.items()
               if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "XDG_RUNTIME_DIR",
                            "WAYLAND_DISPLAY")}
        r = finsent(["alerts", "run"], os.path.join(work, "f.db"), os.path.join(work, "f.conf"),
                    now=NOW, env=env)
        msgs = srv.messages()
    warnings = [ln for ln in r.stderr.splitlines() if ln.strip()]
    check(r.returncode == 3, "exit %d, want 3 (partial)" % r.returncode)
    check(len(warnings) == 1 and "warning" in warnings[0] and "D-Bus" in warnings[0],
          "want one clear warning, got %r" % r.stderr)
    check(len(msgs) == 1, "email not sent without a bus (%d)" % len(msgs))
    db = sqlite3.connect(os.path.join(work, "f.db"))
    check(db.execute("SELECT state FROM alerts").fetchall() == [("firing",)], "alert not kept")
    rows = db.execute("SELECT channel, state FROM outbox ORDER BY channel").fetchall()
    check(rows == [("desktop", "expired"), ("email", "sent")], "outbox %r" % rows)
    r = finsent(["alerts", "run"], os.path.join(work, "f.db"), os.path.join(work, "f.conf"),
                now="2026-03-01T12:45:00Z", env=env)
    check(r.returncode == 0 and not r.stderr.strip(), "warned again on the next run: %r" % r.stderr)


def case_bus_without_daemon_is_retried(keep):
    if not shutil.which("dbus-run-session"):
        raise MissingDependency("dbus-run-session")
    work, con = make_env("nodaemon", "[alert energy]\ntopics = Energy | Oil\nnotify = desktop\n")
    keep.append(work)
    spike_with_doc(con, ENERGY, "Oil slumps")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run(["dbus-run-session", "--", BIN, "--db", os.path.join(work, "f.db"),
                        "--config", os.path.join(work, "f.conf"), "--now", NOW, "alerts", "run"],
                       capture_output=True, text=True, env=env, timeout=120)
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("finsent:")]
    check(r.returncode == 3, "exit %d, want 3: %s" % (r.returncode, r.stderr))
    check(len(warnings) == 1 and "no notification daemon" in warnings[0], r.stderr)
    row = sqlite3.connect(os.path.join(work, "f.db")).execute(
        "SELECT state, attempts, next_attempt_at FROM outbox").fetchone()
    check(row == ("queued", 1, ts(NOW) + 60), "not kept for a retry: %r" % (row,))


def case_quiet_hours_hold_desktop_not_email(keep):
    work = tempfile.mkdtemp(prefix="finsent-it-desktop-quiet-")
    keep.append(work)
    with SmtpServer(os.path.join(work, "mail")) as srv:
        conf = ("[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = finsent@example.com\n"
                "to = ops@example.com\ntls = none\n[alert energy]\ntopics = Energy | Oil\n"
                "min_docs = 10\nnotify = desktop,email\nquiet_hours = 22-07\n" % srv.port)
        with open(os.path.join(work, "f.conf"), "w") as f:
            f.write(conf)
        db_path = os.path.join(work, "f.db")
        con = new_db(db_path, os.path.join(work, "f.conf"))
        add_bucket(con, ENERGY, "2026-03-01T23:00:00Z", 20, 15, 6.5)
        env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
        env["TZ"] = "UTC"
        r = finsent(["alerts", "run"], db_path, os.path.join(work, "f.conf"),
                    now="2026-03-01T23:30:00Z", env=env)
        msgs = srv.messages()
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check(len(msgs) == 1, "email must go during quiet hours")
    row = sqlite3.connect(db_path).execute(
        "SELECT state, attempts, next_attempt_at FROM outbox WHERE channel = 'desktop'").fetchone()
    check(row == ("queued", 0, ts("2026-03-02T07:00:00Z")), "desktop not held: %r" % (row,))


def main():
    keep = []
    return run_cases("alerts_desktop", globals(), keep, keep)


if __name__ == "__main__":
    sys.exit(main())
