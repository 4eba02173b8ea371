#!/usr/bin/env python3
"""bench_alerts: time of the alerting stage with every topic spiking (one grouped
email to a local aiosmtpd), of a quiet run after it, and of a dry run; the size
of the email. Figures are printed, never asserted."""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "servers"))
from alerts_fixture import SmtpServer, add_bucket, add_doc, finsent, new_db  # noqa: E402

work = tempfile.mkdtemp(prefix="finsent-bench-alerts-")
db, conf = os.path.join(work, "f.db"), os.path.join(work, "f.conf")
try:
    with SmtpServer(os.path.join(work, "mail")) as srv:
        with open(conf, "w") as f:
            f.write("[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = f@example.com\nto = o@example.com\n"
                    "tls = none\n[alert all]\ntopics = all\nnotify = email\n" % srv.port)
        con = new_db(db, conf)
        for topic in range(20):
            add_bucket(con, topic, "2026-03-01T12:00:00Z", 50, 40, 6.0)
            for i in range(200):  # 4,000 documents in the window
                add_doc(con, topic, "2026-03-01T12:%02d:00Z" % (i % 60), "text %d %d" % (topic, i),
                        -0.99 + i / 250.0, url="https://example.com/%d/%d" % (topic, i),
                        attended=["w1", "w2", "w3"])
        for label, args, now in (("dry run, 20 topics spiking", ["--dry-run"], "12:30"),
                                 ("run, 20 alerts -> 1 email", [], "12:30"),
                                 ("run, nothing new", [], "12:40")):
            t = time.monotonic()
            r = finsent(["alerts", "run"] + args, db, conf, now="2026-03-01T%s:00Z" % now)
            print("%-32s %7.1f ms  (exit %d)" % (label, 1000 * (time.monotonic() - t),
                                                   r.returncode))
        msgs = srv.messages()
        print("emails received: %d, size of the grouped email: %d bytes"
              % (len(msgs), len(msgs[0][0]) if msgs else 0))
finally:
    shutil.rmtree(work, ignore_errors=True)
