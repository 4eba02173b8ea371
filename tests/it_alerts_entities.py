#!/usr/bin/env python3
"""Alerts on entities end to end: texts planted in a database (with the
classifier's verdicts, as no model runs here) go through the real recogniser
(`finsent entities scan`), the real trends stage (`finsent trends`) and
`finsent alerts run`. A run of negative texts about one company fires exactly
one entity alert, shown by dunst on a private D-Bus session and mailed to an
aiosmtpd server, while the texts' topic stays under its own threshold (no topic
alert); a silence of the entity (`alerts silence '$TSLA'`) mutes it; unknown
entity or watchlist names in a rule stop the command with file and line (exit 4).

Prints one line per case (PASS/FAIL/SKIP); exits non-zero on any failure.
"""
import email
import email.policy
import json
import os
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers"))
from alerts_fixture import (SmtpServer, add_doc, check, desktop_session, finsent,  # noqa: E402
                            new_db, run_cases)

NOW = "2026-03-01T11:55:00Z"
COMPANY = 2  # Company | Product News
SPIKE_HOUR = 11


def plant(con):
    """Eleven calm hours and one spike hour of topic Company | Product News:
    each hour 30 to 33 texts about no company, 3 to 5 of them negative; two
    neutral texts about Tesla an hour, then eight negative ones (from source
    'wire', with links and attended words) and one about $NVDA. The topic's
    spike hour holds 12 negatives in 42 texts (29%): under min_negative_share
    0.3, so no topic spike."""
    con.execute("INSERT INTO sources(name, url, kind) VALUES ('wire', 'http://wire.example', "
                "'feed')")
    for h in range(SPIKE_HOUR + 1):
        hour = "2026-03-01T%02d:" % h
        for i in range(30 + h % 4):
            add_doc(con, COMPANY, hour + "%02d:00" % (i + 1),
                    "Retail demand report number %d %d." % (h, i),
                    -0.8 if i < 3 + h % 3 and h != SPIKE_HOUR or i < 3 else 0.5,
                    title="Market note %d-%d" % (h, i))
        if h < SPIKE_HOUR:
            for i in range(2):
                add_doc(con, COMPANY, hour + "%02d:30" % (i + 40), "Tesla opens a showroom.",
                        0.4, title="Tesla showroom %d-%d" % (h, i))
            continue
        # the hour's most negative text is about another company: never quoted for Tesla
        add_doc(con, COMPANY, hour + "50:00", "Chip shortage hits $NVDA hard.", -0.99,
                title="Chipmaker warns", url="https://news.example.com/nvda")
        for i in range(8):
            doc = add_doc(con, COMPANY, hour + "%02d:30" % (i + 40),
                          "Tesla recalls cars after battery fires.", -0.95 + 0.05 * i,
                          title="Tesla recall widens %d" % i,
                          url="https://news.example.com/tesla/%d" % i,
                          attended=["recall", "fires"])
            con.execute("UPDATE documents SET source_id = 1 WHERE id = ?", (doc,))
    con.commit()


def prepare(name, conf):
    """A work directory with f.conf and the planted texts read by the
    recogniser and counted by the trends stage."""
    work = tempfile.mkdtemp(prefix="finsent-it-entity-%s-" % name)
    cpath, db = os.path.join(work, "f.conf"), os.path.join(work, "f.db")
    with open(cpath, "w") as f:
        f.write(conf)
    plant(new_db(db, cpath))
    for args in (["entities", "scan"], ["trends", "--bucket", "hour"]):
        r = finsent(args, db, cpath, now=NOW)
        check(r.returncode == 0, "%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return work, cpath, db


def smtp_conf(port):
    return ("[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = finsent@example.com\n"
            "to = risk@example.com\ntls = none\n" % port)


RULES = ("[watchlist fleet]\nentities = Tesla, $NVDA\n"
         "[alert names]\nwatchlist = fleet\nmin_docs = 5\nnotify = desktop,email\n"
         "[alert topics]\ntopics = all\nnotify = desktop,email\n")


def case_one_entity_alert_by_desktop_and_email_no_topic_alert(made):
    with SmtpServer(tempfile.mkdtemp(prefix="finsent-it-entity-mail-")) as srv:
        made.append(srv.directory)
        work, cpath, db = prepare("fire", smtp_conf(srv.port) + RULES)
        made.append(work)
        rc, err, shown = desktop_session(work, NOW)
        msgs = srv.messages()
    check(rc == "0", "alerts run: exit %s: %s" % (rc, err))
    con = sqlite3.connect(db)
    topic = con.execute("SELECT n_docs, n_negative, spike FROM buckets WHERE granularity = "
                        "'hour' AND topic = ? ORDER BY bucket_start DESC LIMIT 1",
                        (COMPANY,)).fetchone()
    check(topic == (42, 12, 0), "the topic's own spike hour: %r" % (topic,))
    alerts = con.execute("SELECT a.rule, a.topic, e.name, a.state FROM alerts a "
                         "LEFT JOIN entities e ON e.id = a.entity_id").fetchall()
    check(alerts == [("names", -3, "Tesla", "firing")], "alerts: %r" % alerts)
    check(len(shown) == 1, "want one desktop notification, got %r" % shown)
    check("Tesla turning negative" in shown[0]["summary"], "summary %r" % shown[0]["summary"])
    check("Tesla: 100% negative (8/8)" in shown[0]["body"], "body %r" % shown[0]["body"])
    check(len(msgs) == 1, "want one email, got %d" % len(msgs))
    mail = email.message_from_bytes(msgs[0][0], policy=email.policy.default)
    check("Tesla turning negative" in mail["Subject"], "subject %r" % mail["Subject"])
    text = mail.get_body(("plain",)).get_content()
    for want in ("CRITICAL  Tesla \u2014 negative sentiment spike",
                 "Window:    2026-03-01 11:00", "8 of 8 texts negative", "Usually:   0.0%",
                 "1. [-0.95] Tesla recall widens 0", "source: wire",
                 "https://news.example.com/tesla/0", "attended to: recall, fires",
                 "alerts ack 1", "alerts silence Tesla --for 6h"):
        check(want in text, "email lacks %r:\n%s" % (want, text))
    check("Market note" not in text and "Chipmaker" not in text,
          "a text not about Tesla is quoted:\n%s" % text)
    r = finsent(["alerts", "list", "--json"], db, cpath, now=NOW)
    listed = json.loads(r.stdout)
    check(len(listed) == 1 and listed[0]["entity"] == "Tesla" and listed[0]["topic"] is None,
          "alerts list: %r" % listed)


def case_silenced_entity_notifies_nobody(made):
    with SmtpServer(tempfile.mkdtemp(prefix="finsent-it-entity-mail-")) as srv:
        made.append(srv.directory)
        conf = smtp_conf(srv.port) + RULES.replace("desktop,email", "email")
        work, cpath, db = prepare("silence", conf)
        made.append(work)
        r = finsent(["alerts", "silence", "$TSLA", "--for", "6h", "--comment", "recall known"],
                    db, cpath, now=NOW)
        check(r.returncode == 0 and r.stdout.startswith("silence 1: Tesla silenced until"),
              "silence: exit %d: %s %s" % (r.returncode, r.stdout, r.stderr))
        r = finsent(["alerts", "silences", "--json"], db, cpath, now=NOW)
        silences = json.loads(r.stdout)
        check(len(silences) == 1 and silences[0]["entity"] == "Tesla"
              and silences[0]["comment"] == "recall known", "silences: %r" % silences)
        r = finsent(["alerts", "run"], db, cpath, now=NOW)
        check(r.returncode == 0, "alerts run: exit %d: %s" % (r.returncode, r.stderr))
        check("1 fired" in r.stdout and "1 silenced" in r.stdout, r.stdout)
        msgs = srv.messages()
    check(msgs == [], "a silenced entity was mailed: %r" % [m[0][:200] for m in msgs])
    r = finsent(["alerts", "list", "--json"], db, cpath, now=NOW)
    listed = json.loads(r.stdout)
    check(len(listed) == 1 and listed[0]["entity"] == "Tesla" and listed[0]["silenced_by"] == 1,
          "alerts list: %r" % listed)
    r = finsent(["alerts", "silence", "Frobnicator Widgets", "--for", "1h"], db, cpath, now=NOW)
    check(r.returncode == 2 and "entity" in r.stderr, "unknown entity: %d %s" % (r.returncode,
                                                                                r.stderr))


def case_one_cycle_loads_the_directory_once(made):
    """The scan, the rules' entity check and the alerts all use the directory
    of one cycle: it is read once (it costs about 175 ms)."""
    work, cpath, db = prepare("once", RULES)
    made.append(work)
    r = finsent(["--verbose", "run", "--dry-run"], db, cpath, now=NOW)
    loads = r.stderr.count("entities: directory loaded")
    check(r.returncode == 0 and loads == 1, "exit %d, %d loads: %s" % (r.returncode, loads,
                                                                       r.stderr[-400:]))


def case_unknown_entity_or_watchlist_in_a_rule_is_refused(made):
    work = tempfile.mkdtemp(prefix="finsent-it-entity-bad-")
    made.append(work)
    db, cpath = os.path.join(work, "f.db"), os.path.join(work, "f.conf")
    new_db(db, os.devnull)
    for conf, line, name in (
            ("[alert a]\nentities = Tesla, Frobnicator Widgets\n", 2, "Frobnicator Widgets"),
            ("[alert a]\nmin_docs = 5\nwatchlist = nope\n", 3, "nope")):
        with open(cpath, "w") as f:
            f.write(conf)
        for args in (["alerts", "run"], ["run", "--dry-run"], ["alerts", "list"], ["trends"]):
            r = finsent(args, db, cpath, now=NOW)
            check(r.returncode == 4, "%s: exit %d, want 4: %s" % (args, r.returncode, r.stderr))
            check("%s:%d:" % (cpath, line) in r.stderr and name in r.stderr,
                  "%s: %r" % (args, r.stderr))


def main():
    made = []
    return run_cases("alerts_entities", globals(), made, made)


if __name__ == "__main__":
    sys.exit(main())
