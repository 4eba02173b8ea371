#!/usr/bin/env python3
"""Alert history and silences through the command line: every firing keeps its own
record (the spike that fired it, its texts), resolution and acknowledgement are
events added to it; `alerts list [--all] [--json]` and `alerts show ID [--json]`.

Prints one line per case (PASS/FAIL/SKIP); exits non-zero on any failure.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers"))
from alerts_fixture import run_cases, add_bucket, add_doc, check, finsent, new_db  # noqa: E402

ENERGY, MACRO = 6, 14
RULE = ("[alert energy]\ntopics = Energy | Oil, Macro\nmin_docs = 3\nresolved = yes\n"
        "notify = email\n[smtp]\nurl = smtp://127.0.0.1:1\nfrom = f@example.com\n"
        "to = o@example.com\ntls = none\ntimeout = 5s\n")


class Env:
    made = []

    def __init__(self, name, conf=RULE):
        self.dir = tempfile.mkdtemp(prefix="finsent-it-history-%s-" % name)
        Env.made.append(self.dir)
        self.db = os.path.join(self.dir, "f.db")
        self.conf = os.path.join(self.dir, "f.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.con = new_db(self.db, self.conf)

    def run(self, *args, now="2026-03-01T00:30:00Z"):
        return finsent(list(args), self.db, self.conf, now=now)

    def json(self, *args, now="2026-03-01T00:30:00Z"):
        r = self.run(*args, now=now)
        check(r.returncode == 0, "%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
        return json.loads(r.stdout)


def fire_and_resolve(e):
    """The issue's case: a spike at 00:00 (8/8, z 5.44) resolved by the 02:00 bucket
    (0/3, z -0.94)."""
    add_bucket(e.con, ENERGY, "2026-03-01T00:00:00Z", 8, 8, 5.44)
    add_doc(e.con, ENERGY, "2026-03-01T00:10:00Z", "body", -0.91, title="Refinery fire halts output",
            url="https://news.example.com/refinery")
    add_doc(e.con, ENERGY, "2026-03-01T00:20:00Z", "Oil slides as stocks swell", -0.55)
    e.run("alerts", "run")
    add_bucket(e.con, ENERGY, "2026-03-01T02:00:00Z", 3, 0, -0.94)
    e.run("alerts", "run", now="2026-03-01T02:30:00Z")


def case_resolved_alert_keeps_its_spike():
    e = Env("keep")
    fire_and_resolve(e)
    alerts = e.json("alerts", "list", "--all", "--json")
    check(len(alerts) == 1, "want one alert, got %d" % len(alerts))
    a = alerts[0]
    check(a["state"] == "resolved", "state %s" % a["state"])
    s = a["spike"]
    check(s["window_start"] == "2026-03-01T00:00:00Z", "window %s" % s["window_start"])
    check((s["n_negative"], s["n_docs"]) == (8, 8), "counts %r" % s)
    check(abs(s["z_score"] - 5.44) < 1e-9, "z %r" % s["z_score"])
    check(a["fired_at"] == "2026-03-01T00:30:00Z", "fired_at %s" % a["fired_at"])
    check(a["resolved_at"] == "2026-03-01T02:30:00Z", "resolved_at %s" % a["resolved_at"])
    text = e.run("alerts", "list", "--all", now="2026-03-01T02:30:00Z").stdout
    check("2026-03-01T00:00" in text and "5.44" in text and "8/8" in text, text)


def case_show_has_events_and_texts():
    e = Env("show")
    fire_and_resolve(e)
    r = e.run("alerts", "ack", "1", now="2026-03-01T03:00:00Z")
    check(r.returncode == 0, r.stderr)
    e.run("alerts", "ack", "1", now="2026-03-01T03:10:00Z")  # a second ack adds nothing
    rec = e.json("alerts", "show", "1", "--json")
    kinds = [ev["kind"] for ev in rec["events"]]
    check(kinds == ["firing", "resolved", "acked"], "events %r" % kinds)
    firing, resolved, acked = rec["events"]
    check(firing["observed"]["window_start"] == "2026-03-01T00:00:00Z", "firing %r" % firing)
    check(firing["notified"], "the firing was not marked notified")
    heads = [t["headline"] for t in firing["texts"]]
    check(heads == ["Refinery fire halts output", "Oil slides as stocks swell"], "texts %r"
          % heads)
    check(firing["texts"][0]["url"] == "https://news.example.com/refinery", "url")
    obs = resolved["observed"]
    check(obs["window_start"] == "2026-03-01T02:00:00Z" and obs["n_docs"] == 3
          and abs(obs["z_score"] + 0.94) < 1e-9, "resolution %r" % obs)
    check(acked["at"] == "2026-03-01T03:00:00Z" and acked["observed"] is None, "ack %r" % acked)
    check(rec["spike"]["z_score"] == firing["observed"]["z_score"], "record lost its spike")
    text = e.run("alerts", "show", "1").stdout
    for want in ("alert 1: Energy | Oil", "firing", "resolved", "Refinery fire halts output",
                 "https://news.example.com/refinery", "z 5.44", "z -0.94"):
        check(want in text, "show lacks %r:\n%s" % (want, text))
    r = e.run("alerts", "show", "9")
    check(r.returncode == 1 and "no alert 9" in r.stderr, "missing alert: %d %s"
          % (r.returncode, r.stderr))


def case_each_firing_its_own_record():
    e = Env("again")
    fire_and_resolve(e)
    add_bucket(e.con, ENERGY, "2026-03-01T05:00:00Z", 10, 9, 6.1)
    e.run("alerts", "run", now="2026-03-01T05:30:00Z")
    alerts = e.json("alerts", "list", "--all", "--json")
    check([a["id"] for a in alerts] == [2, 1], "ids %r" % [a["id"] for a in alerts])
    check(alerts[0]["state"] == "firing" and alerts[0]["spike"]["n_docs"] == 10, "new %r"
          % alerts[0])
    check(alerts[1]["spike"]["n_docs"] == 8 and alerts[1]["state"] == "resolved",
          "old record changed: %r" % alerts[1])
    open_only = e.json("alerts", "list", "--json")
    check([a["id"] for a in open_only] == [2], "open %r" % open_only)


def case_repeat_is_an_event_the_spike_stays():
    e = Env("repeat", RULE.replace("resolved = yes", "repeat = 1h"))
    add_bucket(e.con, ENERGY, "2026-03-01T00:00:00Z", 10, 8, 4.0)
    e.run("alerts", "run")
    add_bucket(e.con, ENERGY, "2026-03-01T01:00:00Z", 12, 11, 7.5)  # escalates
    e.run("alerts", "run", now="2026-03-01T01:30:00Z")
    rec = e.json("alerts", "show", "1", "--json")
    check([ev["kind"] for ev in rec["events"]] == ["firing", "escalated"], "events %r"
          % [ev["kind"] for ev in rec["events"]])
    check(rec["spike"]["window_start"] == "2026-03-01T00:00:00Z", "spike moved: %r"
          % rec["spike"])
    check(rec["severity"] == "critical", "severity %s" % rec["severity"])
    check(rec["events"][1]["observed"]["n_docs"] == 12, "escalation %r" % rec["events"][1])


def case_silence_list_lift_and_expiry():
    e = Env("silence")
    r = e.run("alerts", "silence", "Energy | Oil", "--for", "1h", "--comment", "OPEC meeting",
              now="2026-03-01T00:00:00Z")
    check(r.returncode == 0 and r.stdout.startswith("silence 1: Energy | Oil silenced until "
                                                    "2026-03-01T01:00:00Z"), r.stdout + r.stderr)
    s = e.json("alerts", "silences", "--json", now="2026-03-01T00:10:00Z")
    check(len(s) == 1 and s[0]["id"] == 1 and s[0]["state"] == "active"
          and s[0]["comment"] == "OPEC meeting" and s[0]["until"] == "2026-03-01T01:00:00Z",
          "silences %r" % s)
    add_bucket(e.con, ENERGY, "2026-03-01T00:00:00Z", 8, 8, 5.44)
    e.run("alerts", "run")
    outbox = lambda: e.con.execute("SELECT count(*) FROM outbox").fetchone()[0]  # noqa: E731
    check(outbox() == 0, "a silenced alert was queued")
    a = e.json("alerts", "list", "--json")
    check(len(a) == 1 and a[0]["silenced_by"] == 1, "list %r" % a)
    text = e.run("alerts", "list").stdout
    check("SILENCED" in text and "#1" in text, text)
    # an hour later the silence has ended by itself: listed as expired, the alert notified
    later = "2026-03-01T01:05:00Z"
    check("no active silences" in e.run("alerts", "silences", now=later).stdout, "still active")
    s = e.json("alerts", "silences", "--all", "--json", now=later)
    check([x["state"] for x in s] == ["expired"], "states %r" % s)
    check(e.json("alerts", "list", "--json", now=later)[0]["silenced_by"] is None, "silenced")
    e.run("alerts", "run", now=later)
    check(outbox() == 1, "not notified after the silence ended")
    # a silence of every topic, lifted early
    r = e.run("alerts", "silence", "all", "--for", "2h", now=later)
    check(r.returncode == 0 and r.stdout.startswith("silence 2: every topic"), r.stdout)
    check(e.json("alerts", "list", "--json", now=later)[0]["silenced_by"] == 2, "all")
    r = e.run("alerts", "unsilence", "2", now="2026-03-01T01:10:00Z")
    check(r.returncode == 0 and "silence 2 lifted" in r.stdout, r.stdout + r.stderr)
    r = e.run("alerts", "unsilence", "2", now="2026-03-01T01:11:00Z")
    check(r.returncode == 1 and "no active silence 2" in r.stderr, r.stderr)
    s = e.json("alerts", "silences", "--all", "--json", now="2026-03-01T01:12:00Z")
    check([(x["id"], x["state"]) for x in s] == [(2, "lifted"), (1, "expired")], "%r" % s)
    check(e.json("alerts", "list", "--json", now="2026-03-01T01:12:00Z")[0]["silenced_by"]
          is None, "a lifted silence still mutes")
    r = e.run("alerts", "unsilence", "x")
    check(r.returncode == 2, "bad id: exit %d" % r.returncode)


def main():
    return run_cases("alerts_history", globals(), Env.made)


if __name__ == "__main__":
    sys.exit(main())
