#!/usr/bin/env python3
"""The webhook channel against a local HTTP receiver: the Alertmanager v4 payload
and Slack's {"text"}, the bearer token (from the environment or an owner-only
file), retries with backoff after 500s exactly once, a refused payload expired, a
receiver that hangs.

Prints one line per case (PASS/FAIL/SKIP); exits non-zero on any failure.
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers"))
from alerts_fixture import run_cases, add_bucket, add_doc, check, finsent, new_db  # noqa: E402
from webhook_receiver import WebhookReceiver  # noqa: E402

ENERGY = 6
NOW = "2026-03-01T12:30:00Z"
TOKEN = "tok-9f8e7d-SECRET"


class Env:
    made = []

    def __init__(self, name, url, extra="", rule_extra=""):
        self.dir = tempfile.mkdtemp(prefix="finsent-it-webhook-%s-" % name)
        Env.made.append(self.dir)
        self.db = os.path.join(self.dir, "f.db")
        self.conf = os.path.join(self.dir, "f.conf")
        with open(self.conf, "w") as f:
            f.write("[alert energy]\ntopics = Energy | Oil\nmin_docs = 10\nnotify = webhook\n"
                    "%s\n[webhook ops]\nurl = %s\n%s\n" % (rule_extra, url, extra))
        self.con = new_db(self.db, self.conf)

    def run(self, *args, now=NOW, env=None):
        e = dict(os.environ, FS_HOOK_TOKEN=TOKEN)
        e.update(env or {})
        return finsent(list(args), self.db, self.conf, now=now, env=e)

    def rows(self):
        return self.con.execute("SELECT channel, target, state, attempts, last_error FROM outbox "
                                "ORDER BY id").fetchall()


def spike(e, start="2026-03-01T12:00:00Z"):
    add_bucket(e.con, ENERGY, start, 20, 15, 6.5)
    add_doc(e.con, ENERGY, "2026-03-01T12:05:00Z", "body", -0.95, title="Pipeline <leak> & fire",
            url="https://news.example.com/pipeline")


def case_alertmanager_payload_and_token():
    with WebhookReceiver() as rx:
        e = Env("am", rx.url, "token_env = FS_HOOK_TOKEN\n", "resolved = yes")
        spike(e)
        r = e.run("alerts", "run")
        check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        add_bucket(e.con, ENERGY, "2026-03-01T14:00:00Z", 20, 2, 0.1)
        r = e.run("alerts", "run", now="2026-03-01T14:30:00Z")
        check(r.returncode == 0, "resolve: exit %d: %s" % (r.returncode, r.stderr))
        reqs = list(rx.requests)
    check(len(reqs) == 2, "want firing + resolved POSTs, got %d" % len(reqs))
    h = reqs[0]["headers"]
    check(h.get("Authorization") == "Bearer " + TOKEN, "Authorization %r" % h.get("Authorization"))
    check(h.get("Content-Type") == "application/json", "Content-Type %r" % h.get("Content-Type"))
    check(h.get("Idempotency-Key"), "no Idempotency-Key")
    p = reqs[0]["json"]
    for key in ("version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
                "commonLabels", "commonAnnotations", "externalURL", "alerts"):
        check(key in p, "payload lacks %s: %r" % (key, p))
    check(p["version"] == "4" and p["status"] == "firing" and p["receiver"] == "ops", "%r" % p)
    a = p["alerts"][0]
    check(a["status"] == "firing", "alert status %r" % a["status"])
    check(a["labels"]["alertname"] == "FinsentNegativeSentiment"
          and a["labels"]["topic"] == "Energy | Oil" and a["labels"]["rule"] == "energy"
          and a["labels"]["severity"] == "critical" and a["labels"]["alert_id"] == "1",
          "labels %r" % a["labels"])
    check(a["startsAt"] == NOW and a["endsAt"] == "0001-01-01T00:00:00Z", "times %r" % a)
    check(a["generatorURL"] == "https://news.example.com/pipeline", "generatorURL %r"
          % a["generatorURL"])
    ann = a["annotations"]
    check("15 of 20 texts negative" in ann["summary"], "summary %r" % ann["summary"])
    check("Pipeline <leak> & fire" in ann["description"], "description %r" % ann["description"])
    check(ann["ack"].endswith("alerts ack 1") and "--db " + e.db in ann["ack"],
          "ack %r" % ann["ack"])
    check(all(isinstance(v, str) for v in list(ann.values()) + list(a["labels"].values())),
          "labels and annotations must be strings")
    q = reqs[1]["json"]
    check(q["status"] == "resolved" and q["alerts"][0]["status"] == "resolved"
          and q["alerts"][0]["endsAt"] == "2026-03-01T14:30:00Z", "resolved %r" % q)
    stored = b"".join(open(os.path.join(e.dir, f), "rb").read() for f in os.listdir(e.dir)
                      if f.startswith("f.db"))
    check(TOKEN.encode() not in stored, "the token is in the database")


def case_slack_format():
    with WebhookReceiver() as rx:
        e = Env("slack", rx.url, "format = slack\n")
        spike(e)
        r = e.run("alerts", "run")
        reqs = list(rx.requests)
    check(r.returncode == 0, r.stderr)
    check(len(reqs) == 1 and list(reqs[0]["json"]) == ["text"], "payload %r" % reqs)
    text = reqs[0]["json"]["text"]
    check("Energy | Oil" in text and "Pipeline &lt;leak&gt; &amp; fire" in text, text)
    check("Authorization" not in reqs[0]["headers"], "a token was sent without one configured")


def case_retries_after_500_exactly_once():
    with WebhookReceiver(plan=[500, 503]) as rx:
        e = Env("retry", rx.url)
        spike(e)
        r = e.run("alerts", "run")
        check(r.returncode == 3, "500: exit %d, want 3" % r.returncode)
        warn = [ln for ln in r.stderr.splitlines() if ln.strip()]
        check(len(warn) == 1 and "HTTP 500" in warn[0], "one warning line: %r" % r.stderr)
        check("s3cr3t-path" not in r.stderr, "the url's path leaked: %r" % r.stderr)
        check(e.rows()[0][2:4] == ("queued", 1), "row %r" % (e.rows(),))
        e.run("alerts", "run", now="2026-03-01T12:30:30Z")  # backoff: not due yet
        check(len(rx.requests) == 1, "retried before the backoff: %d" % len(rx.requests))
        r = e.run("alerts", "run", now="2026-03-01T12:31:00Z")
        check(r.returncode == 3 and len(rx.requests) == 2, "second try (503)")
        r = e.run("alerts", "run", now="2026-03-01T12:33:00Z")
        check(r.returncode == 0, "third try: exit %d: %s" % (r.returncode, r.stderr))
        for later in ("2026-03-01T12:40:00Z", "2026-03-01T13:40:00Z"):
            e.run("alerts", "run", now=later)
        reqs = list(rx.requests)
    check(len(reqs) == 3, "POSTed %d times, want 3 (two failures, one success)" % len(reqs))
    check(len({q["body"] for q in reqs}) == 1, "a retry sent another body")
    check(len({q["headers"]["Idempotency-Key"] for q in reqs}) == 1, "Idempotency-Key changed")
    check(e.rows()[0][2:4] == ("sent", 3), "row %r" % (e.rows(),))


def case_refused_payload_is_not_retried():
    with WebhookReceiver(plan=[400]) as rx:
        e = Env("refused", rx.url)
        spike(e)
        r = e.run("alerts", "run")
        e.run("alerts", "run", now="2026-03-01T13:30:00Z")
        n = len(rx.requests)
    check(r.returncode == 3 and "HTTP 400" in r.stderr, "exit %d: %s" % (r.returncode, r.stderr))
    check(n == 1, "a 400 was retried (%d POSTs)" % n)
    check(e.rows()[0][2] == "expired", "row %r" % (e.rows(),))


def case_hanging_receiver_times_out_then_delivers():
    with WebhookReceiver(plan=[("hang", 8)]) as rx:
        e = Env("hang", rx.url, "timeout = 2s\n")
        spike(e)
        t = time.monotonic()
        r = e.run("alerts", "run")
        took = time.monotonic() - t
        check(r.returncode == 3, "exit %d, want 3" % r.returncode)
        check(took < 6, "finsent waited %.1f s for a hanging receiver (timeout 2 s)" % took)
        check("webhook ops" in r.stderr and "imed out" in r.stderr, r.stderr)
        check(e.rows()[0][2:4] == ("queued", 1), "row %r" % (e.rows(),))
        r = e.run("alerts", "run", now="2026-03-01T12:32:00Z")
        check(r.returncode == 0, "retry: exit %d: %s" % (r.returncode, r.stderr))
        n = len(rx.requests)
    check(n == 2, "POSTs %d" % n)
    check(e.rows()[0][2] == "sent", "row %r" % (e.rows(),))


def case_alerts_test_posts_to_every_webhook():
    with WebhookReceiver(plan=[200, 500]) as rx:
        e = Env("test", rx.url, "token_env = FS_HOOK_TOKEN\n")
        with open(e.conf, "a") as f:
            f.write("[webhook chat]\nurl = %s\nformat = slack\n" % rx.url)
        r = e.run("alerts", "test")
        reqs = list(rx.requests)
    check("webhook ops: sent" in r.stdout and "webhook chat: FAILED" in r.stdout
          and "HTTP 500" in r.stdout, r.stdout)
    check(r.returncode == 3, "exit %d, want 3 (one channel failed)" % r.returncode)
    check(len(reqs) == 2 and reqs[0]["json"]["version"] == "4"
          and reqs[0]["json"]["alerts"][0]["labels"]["rule"] == "test"
          and "test notification" in reqs[1]["json"]["text"], "payloads %r" % reqs)


def case_config_checks():
    e = Env("conf", "ftp://example.com/x")
    r = e.run("alerts", "run")
    check(r.returncode == 4 and "[webhook ops] url" in r.stderr, r.stderr)
    e = Env("conf2", "http://127.0.0.1:1/x", "token_file = %s\n" % os.path.join("/tmp", "nope"))
    tok = os.path.join(e.dir, "tok")
    with open(tok, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(tok, 0o644)
    with open(e.conf, "a") as f:
        f.write("")
    conf = open(e.conf).read().replace("/tmp/nope", tok)
    with open(e.conf, "w") as f:
        f.write(conf)
    r = e.run("alerts", "run")
    check(r.returncode == 4 and "chmod 600" in r.stderr and TOKEN not in r.stderr, r.stderr)
    os.chmod(tok, 0o600)
    with WebhookReceiver() as rx:
        with open(e.conf, "w") as f:
            f.write(conf.replace("http://127.0.0.1:1/x", rx.url))
        spike(e)
        r = e.run("alerts", "run")
        reqs = list(rx.requests)
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check(reqs and reqs[0]["headers"].get("Authorization") == "Bearer " + TOKEN, "file token")
    e = Env("conf3", "http://127.0.0.1:1/x")
    with open(e.conf, "w") as f:
        f.write("[alert a]\nnotify = webhook\n")
    r = e.run("alerts", "run")
    check(r.returncode == 4 and "[webhook NAME]" in r.stderr, r.stderr)


def main():
    return run_cases("alerts_webhook", globals(), Env.made)


if __name__ == "__main__":
    sys.exit(main())
