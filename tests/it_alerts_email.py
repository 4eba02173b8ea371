#!/usr/bin/env python3
"""Alert email end to end: finsent against a real SMTP server (aiosmtpd) on
127.0.0.1, the stored messages parsed with Python's email package.

Prints one line per case (PASS/FAIL/SKIP); exits non-zero on any failure.
"""
import base64
import email
import email.policy
import email.utils
import os
import re
import sqlite3
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers"))
from alerts_fixture import (run_cases, SmtpServer, add_bucket, add_doc, check, finsent,  # noqa: E402
                            free_port, make_cert, new_db, ts)

NOW = "2026-03-01T12:30:00Z"
HEADLINE = "Ölpreis stürzt ab\r\nBcc: evil@example.org <b>📉</b>"
EXPECTED_SUBJECT = ("[finsent] CRITICAL: Energy | Oil turning negative (z 6.5): "
                    "“Ölpreis stürzt ab Bcc: evil@example.org <b>📉</b>”")
ENERGY, MACRO, FED = 6, 14, 1


class Env:
    """One case's directory: config, database, mail spool (removed when all pass)."""

    made = []

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix="finsent-it-alerts-%s-" % name)
        Env.made.append(self.dir)
        self.db = os.path.join(self.dir, "f.db")
        self.conf = os.path.join(self.dir, "f.conf")
        self.mail = os.path.join(self.dir, "mail")

    def write_conf(self, port, rule="", smtp="tls = none\n", scheme="smtp"):
        with open(self.conf, "w") as f:
            f.write("[smtp]\nurl = %s://127.0.0.1:%d\nfrom = finsent <alerts@example.com>\n"
                    "to = ops@example.com, Risk Desk <risk@example.com>\n%s\n"
                    % (scheme, port, smtp))
            f.write(rule or "[alert energy]\ntopics = Energy | Oil, Macro, Fed | Central Banks\n"
                            "min_docs = 10\nz_threshold = 3\nnotify = email\n")
        self.con = new_db(self.db, self.conf)

    def run(self, *args, now=NOW, env=None):
        return finsent(list(args), self.db, self.conf, now=now, env=env)

    def count(self, sql):
        return sqlite3.connect(self.db).execute(sql).fetchone()[0]


def spike(env, topic, start="2026-03-01T12:00:00Z", z=6.5, n=20, neg=15):
    add_bucket(env.con, topic, start, n, neg, z)


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def parts(msg):
    return {p.get_content_type(): p for p in msg.walk() if not p.is_multipart()}


def case_headers_mime_and_escaping():
    e = Env("mime")
    with SmtpServer(e.mail) as srv:
        e.write_conf(srv.port)
        spike(e, ENERGY)
        add_doc(e.con, ENERGY, "2026-03-01T12:05:00Z", "body one", -0.97, title=HEADLINE,
                url="https://example.com/oil?a=1&b=2", attended=["stürzt", "<crash>"])
        for i, score in enumerate([-0.2, -0.8, -0.6, 0.5, -0.7]):
            add_doc(e.con, ENERGY, "2026-03-01T12:%02d:00Z" % (10 + i), "energy text %d" % i,
                    score, url="https://example.com/e%d" % i, attended=["w%d" % i])
        add_doc(e.con, ENERGY, "2026-03-01T11:59:59Z", "outside the window", -1.0)
        add_doc(e.con, MACRO, "2026-03-01T12:06:00Z", "other topic", -1.0)
        r = e.run("alerts", "run")
        check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        msgs = srv.messages()
    check(len(msgs) == 1, "expected 1 message, got %d" % len(msgs))
    raw, envelope = msgs[0]
    check(sorted(envelope["rcpt_tos"]) == ["ops@example.com", "risk@example.com"],
          "envelope recipients %r" % envelope["rcpt_tos"])
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        # libcurl writes the body's Content-Type with its 40-character boundary on one
        # line (about 85 characters: within RFC 5322's hard limit of 998); finsent's
        # own headers keep to the recommended 78
        limit = 998 if line.startswith(b"Content-Type: multipart/") else 78
        check(len(line) <= limit, "header line longer than %d: %r" % (limit, line))
        check(all(b < 0x80 for b in line), "non-ASCII byte in header: %r" % line)
    msg = parse(raw)
    check(msg["Bcc"] is None, "a Bcc header was injected")
    check(str(msg["Subject"]) == EXPECTED_SUBJECT, "subject %r" % str(msg["Subject"]))
    check("=?UTF-8?" in head.decode(), "subject not RFC 2047 encoded")
    check(email.utils.parsedate_to_datetime(msg["Date"]).timestamp() == ts(NOW),
          "Date %s" % msg["Date"])
    check(re.fullmatch(r"<[^<>@\s]+@example\.com>", msg["Message-ID"]), "Message-ID %s"
          % msg["Message-ID"])
    check(msg["MIME-Version"] == "1.0", "MIME-Version")
    check("alerts@example.com" in msg["From"] and "risk@example.com" in msg["To"], "From/To")
    check(msg.get_content_type() == "multipart/alternative", msg.get_content_type())
    p = parts(msg)
    check(set(p) == {"text/plain", "text/html"}, "parts %r" % list(p))
    for part in p.values():
        check(part.get_content_charset() == "utf-8", "charset %s" % part.get_content_charset())
        check(part["Content-Transfer-Encoding"] in ("base64", "quoted-printable"), "CTE")
    text, html = p["text/plain"].get_content(), p["text/html"].get_content()
    for want in ("Energy | Oil", "2026-03-01 12:00 – 13:00 UTC", "15 of 20 texts negative (75.0%)",
                 "20.0% ± 5.0% negative, 3.0 ± 1.5 negative texts per hour", "6.50", "https://example.com/oil?a=1&b=2", "stürzt, <crash>"):
        check(want in text, "text part lacks %r" % want)
    # five most negative texts of the window, lowest score first
    order = re.findall(r"^\s+\d\. \[([-+]\d\.\d\d)\]", text, re.M)
    check(order == ["-0.97", "-0.80", "-0.70", "-0.60", "-0.20"], "examples %r" % order)
    check("outside the window" not in text and "other topic" not in text, "wrong examples")
    check("<b>📉</b>" not in html and "&lt;b&gt;📉&lt;/b&gt;" in html, "headline not escaped")
    check("&lt;crash&gt;" in html and "<crash>" not in html, "attended word not escaped")
    check('href="https://example.com/oil?a=1&amp;b=2"' in html, "link not escaped in href")


def case_sources_and_copy_pasteable_commands():
    e = Env("cmds")
    # a directory whose name a shell would split or unquote: the commands must quote it
    odd = os.path.join(e.dir, "risk desk's data")
    os.mkdir(odd)
    e.db = os.path.join(odd, "f.db")
    with SmtpServer(e.mail) as srv:
        e.write_conf(srv.port)
        src = e.con.execute("INSERT INTO sources(name, url, kind) VALUES ('reuters-energy', "
                            "'https://feeds.example.com/energy', 'feed')").lastrowid
        spike(e, ENERGY)
        art = add_doc(e.con, ENERGY, "2026-03-01T12:05:00Z", "body", -0.9, title="Refinery fire",
                      url="https://example.com/refinery")
        com = add_doc(e.con, ENERGY, "2026-03-01T12:06:00Z", "Terrible for holders", -0.8)
        e.con.execute("UPDATE documents SET source_id = ? WHERE id = ?", (src, art))
        e.con.execute("UPDATE documents SET parent_id = ?, kind = 'comment' WHERE id = ?",
                      (art, com))
        e.con.commit()
        r = e.run("alerts", "run")
        check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        msgs = srv.messages()
    check(len(msgs) == 1, "messages %d" % len(msgs))
    p = parts(parse(msgs[0][0]))
    text, html = p["text/plain"].get_content(), p["text/html"].get_content()
    check(text.count("source: reuters-energy") == 2, "sources (article and its comment): %s"
          % text)
    check("(reuters-energy)" in html, "html lacks the source")
    ack = re.search(r"^  Acknowledge: (.+)$", text, re.M)
    check(ack and "--db" in ack.group(1) and "--config" in ack.group(1), "ack line: %s" % text)
    r = subprocess.run(["sh", "-c", ack.group(1).strip()], capture_output=True, text=True)
    check(r.returncode == 0 and "alert 1 acknowledged" in r.stdout, "pasted ack: %d %s %s"
          % (r.returncode, r.stdout, r.stderr))
    check(e.count("SELECT count(*) FROM alerts WHERE acked_at IS NOT NULL") == 1, "not acked")
    sil = re.search(r"^  (\S.* alerts silence .+)$", text, re.M)
    check(sil, "no silence command: %s" % text)
    r = subprocess.run(["sh", "-c", sil.group(1).strip()], capture_output=True, text=True)
    check(r.returncode == 0 and "Energy | Oil silenced" in r.stdout, "pasted silence: %s %s"
          % (r.stdout, r.stderr))
    check("alerts ack 1</code>" in html, "html lacks the ack command")


def case_grouping_three_topics_one_email():
    e = Env("group")
    with SmtpServer(e.mail) as srv:
        e.write_conf(srv.port, rule="[alert all]\ntopics = all\nmin_docs = 10\nnotify = email\n")
        for topic in (ENERGY, MACRO, FED):
            spike(e, topic)
            add_doc(e.con, topic, "2026-03-01T12:10:00Z", "bad news %d" % topic, -0.9)
        spike(e, 7, z=1.0)  # Financials: below threshold
        r = e.run("alerts", "run")
        check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        msgs = srv.messages()
    check(len(msgs) == 1, "expected 1 grouped message, got %d" % len(msgs))
    msg = parse(msgs[0][0])
    check("3 topics" in str(msg["Subject"]), "subject %r" % str(msg["Subject"]))
    text = parts(msg)["text/plain"].get_content()
    for name in ("Energy | Oil", "Macro", "Fed | Central Banks"):
        check(name in text, "grouped text lacks %s" % name)
    check("Financials" not in text, "a calm topic was reported")
    check(e.count("SELECT count(*) FROM alerts WHERE state = 'firing'") == 3, "3 firing alerts")


def case_repeat_interval_and_restart():
    e = Env("repeat")
    with SmtpServer(e.mail) as srv:
        e.write_conf(srv.port, rule="[alert energy]\ntopics = Energy | Oil\nmin_docs = 10\n"
                                    "repeat = 6h\nnotify = email\n")
        spike(e, ENERGY)
        check(e.run("alerts", "run").returncode == 0, "first run")
        check(e.run("alerts", "run").returncode == 0, "same time again (a restart)")
        check(len(srv.messages()) == 1, "restart re-sent: %d" % len(srv.messages()))
        e.run("alerts", "run", now="2026-03-01T13:30:00Z")
        check(len(srv.messages()) == 1, "repeated before the interval")
        spike(e, ENERGY, start="2026-03-01T18:00:00Z", z=7.0)
        r = e.run("alerts", "run", now="2026-03-01T18:30:00Z")
        check(r.returncode == 0, r.stderr)
        e.run("alerts", "run", now="2026-03-01T18:40:00Z")
        msgs = srv.messages()
    check(len(msgs) == 2, "expected a repeat after 6h, got %d messages" % len(msgs))
    text = parts(parse(msgs[1][0]))["text/plain"].get_content()
    check("still firing" in text, "repeat not marked as such")
    check(e.count("SELECT count(*) FROM alerts") == 1, "a new alert instead of the same one")


def case_resolved_notification():
    e = Env("resolved")
    with SmtpServer(e.mail) as srv:
        e.write_conf(srv.port, rule="[alert energy]\ntopics = Energy | Oil\nmin_docs = 10\n"
                                    "resolved = yes\nnotify = email\n")
        spike(e, ENERGY)
        e.run("alerts", "run")
        add_bucket(e.con, ENERGY, "2026-03-01T14:00:00Z", 20, 4, 0.1)
        r = e.run("alerts", "run", now="2026-03-01T14:30:00Z")
        check(r.returncode == 0, r.stderr)
        msgs = srv.messages()
    check(len(msgs) == 2, "expected fired + resolved, got %d" % len(msgs))
    subject = str(parse(msgs[1][0])["Subject"])
    check(subject == "[finsent] resolved: Energy | Oil back to normal", subject)
    check(e.count("SELECT count(*) FROM alerts WHERE state = 'resolved'") == 1, "state")


def case_server_down_then_up_exactly_once():
    e = Env("down")
    port = free_port()
    e.write_conf(port)
    spike(e, ENERGY)
    r = e.run("alerts", "run")
    check(r.returncode == 3, "server down: exit %d, want 3 (partial)" % r.returncode)
    warnings = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    check(len(warnings) == 1, "want one warning line, got %r" % r.stderr)
    check(e.count("SELECT count(*) FROM outbox WHERE state = 'queued' AND attempts = 1") == 1,
          "not kept in the outbox")
    with SmtpServer(e.mail, port=port) as srv:
        r = e.run("alerts", "run", now="2026-03-01T12:35:00Z")
        check(r.returncode == 0, "retry: exit %d: %s" % (r.returncode, r.stderr))
        e.run("alerts", "run", now="2026-03-01T12:40:00Z")
        e.run("alerts", "run", now="2026-03-01T13:40:00Z")
        msgs = srv.messages()
    check(len(msgs) == 1, "delivered %d times, want exactly once" % len(msgs))
    check(e.count("SELECT count(*) FROM outbox WHERE state = 'sent'") == 1, "not marked sent")
    check(email.utils.parsedate_to_datetime(parse(msgs[0][0])["Date"]).timestamp() == ts(NOW),
          "Date should be the time the alert was queued")


def case_tls_required_without_starttls_stays_queued():
    e = Env("tls")
    with SmtpServer(e.mail) as srv:
        e.write_conf(srv.port, smtp="tls = required\n")
        spike(e, ENERGY)
        r = e.run("alerts", "run")
        msgs = srv.messages()
    check(r.returncode == 3, "exit %d, want 3" % r.returncode)
    check("STARTTLS" in r.stderr, "no clear reason: %r" % r.stderr)
    check(len(msgs) == 0, "sent in clear text despite tls = required")
    row = sqlite3.connect(e.db).execute("SELECT state, last_error FROM outbox").fetchone()
    check(row[0] == "queued" and "STARTTLS" in row[1], "outbox row %r" % (row,))


def case_starttls_and_smtps_with_a_trusted_ca():
    e = Env("tlsok")
    cert, key = make_cert(e.dir)
    with SmtpServer(e.mail, starttls=(cert, key)) as srv:
        e.write_conf(srv.port, smtp="tls = required\nca_file = %s\n" % cert)
        spike(e, ENERGY)
        r = e.run("alerts", "run")
        msgs = srv.messages()
    check(r.returncode == 0, "STARTTLS: exit %d: %s" % (r.returncode, r.stderr))
    check(len(msgs) == 1 and msgs[0][1]["tls"], "not delivered over STARTTLS")
    e2 = Env("smtps")
    with SmtpServer(e2.mail, smtps=(cert, key)) as srv:
        e2.write_conf(srv.port, smtp="ca_file = %s\n" % cert, scheme="smtps")
        spike(e2, ENERGY)
        r = e2.run("alerts", "run")
        msgs = srv.messages()
    check(r.returncode == 0, "smtps: exit %d: %s" % (r.returncode, r.stderr))
    check(len(msgs) == 1 and msgs[0][1]["tls"], "not delivered over smtps")


def case_untrusted_certificate_is_refused():
    e = Env("tlsbad")
    cert, key = make_cert(e.dir)
    with SmtpServer(e.mail, starttls=(cert, key)) as srv:
        e.write_conf(srv.port, smtp="tls = required\n")  # system CAs only
        spike(e, ENERGY)
        r = e.run("alerts", "run")
        msgs = srv.messages()
    check(r.returncode == 3, "self-signed certificate accepted (exit %d)" % r.returncode)
    check(not msgs, "mail delivered over an unverified connection")
    check(e.count("SELECT count(*) FROM outbox WHERE state = 'queued'") == 1, "not kept")


def case_password_never_leaks():
    e = Env("secret")
    password = "s3cretPW-Xy"
    with SmtpServer(e.mail, auth="finsent:" + password) as srv:
        e.write_conf(srv.port, smtp="tls = none\nusername = finsent\npassword_env = FS_TEST_PW\n")
        spike(e, ENERGY)
        env = dict(os.environ, FS_TEST_PW=password)
        r = finsent(["--verbose", "alerts", "run"], e.db, e.conf, now=NOW, env=env)
        msgs = srv.messages()
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check(len(msgs) == 1 and msgs[0][1]["auth_login"] == "finsent", "not authenticated")
    check("AUTH" in r.stderr and "[redacted]" in r.stderr, "verbose trace missing")
    forms = [password, base64.b64encode(password.encode()).decode(),
             base64.b64encode(b"\0finsent\0" + password.encode()).decode()]
    stored = b"".join(open(os.path.join(e.dir, f), "rb").read() for f in os.listdir(e.dir)
                      if f.startswith("f.db"))
    for form in forms:
        check(form not in r.stdout + r.stderr, "password (%s) in output" % form[:3])
        check(form.encode() not in stored, "password in the database")


def case_password_file_must_be_private():
    e = Env("pwfile")
    pw = os.path.join(e.dir, "pw")
    with open(pw, "w") as f:
        f.write("hunter2-secret\n")
    os.chmod(pw, 0o644)
    with SmtpServer(e.mail, auth="finsent:hunter2-secret") as srv:
        e.write_conf(srv.port, smtp="tls = none\nusername = finsent\npassword_file = %s\n" % pw)
        r = e.run("alerts", "test")
        check(r.returncode == 4, "group-readable file accepted (exit %d)" % r.returncode)
        check(re.search(r"f\.conf:\d+: .*password_file.*chmod 600", r.stderr), r.stderr)
        check("hunter2" not in r.stderr, "password in the error")
        os.chmod(pw, stat.S_IRUSR | stat.S_IWUSR)
        r = e.run("alerts", "test")
        check(r.returncode == 0 and "email: sent" in r.stdout, r.stdout + r.stderr)
        check(len(srv.messages()) == 1, "test email not received")


def case_bad_config_names_file_and_line():
    e = Env("badconf")
    e.write_conf(1, rule="[alert x]\ntopics = Energy | Oil\nz_threshold = lots\n")
    r = e.run("alerts", "run")
    check(r.returncode == 4, "exit %d" % r.returncode)
    check(re.search(r"f\.conf:9: \[alert x\] z_threshold", r.stderr), r.stderr)
    e.write_conf(1, rule="[alert x]\ntopics = Energy, Sports\n")
    r = e.run("alerts", "run")
    check(r.returncode == 4 and "f.conf:8:" in r.stderr and "'Sports'" in r.stderr, r.stderr)


def case_dry_run_sends_and_changes_nothing():
    e = Env("dry")
    with SmtpServer(e.mail) as srv:
        e.write_conf(srv.port)
        spike(e, ENERGY)
        add_doc(e.con, ENERGY, "2026-03-01T12:05:00Z", "text", -0.9, title="Oil slumps")
        r = e.run("alerts", "run", "--dry-run")
        msgs = srv.messages()
    check(r.returncode == 0, r.stderr)
    check("would send email" in r.stdout and "Oil slumps" in r.stdout, r.stdout)
    check(not msgs, "dry run sent mail")
    check(e.count("SELECT count(*) FROM alerts") == 0, "dry run recorded an alert")
    check(e.count("SELECT count(*) FROM outbox") == 0, "dry run queued a notification")


def main():
    return run_cases("alerts_email", globals(), Env.made)


if __name__ == "__main__":
    sys.exit(main())
