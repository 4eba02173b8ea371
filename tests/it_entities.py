#!/usr/bin/python3
"""it_entities — entity recognition end to end: a feed served by a real HTTP
server on 127.0.0.1 is crawled; `finsent entities scan` stores one row per
mention (entity, field, offset, how found), with the feed's own ticker
categories, the user's [entity] sections first and the traps left alone;
`finsent entities` lists them; a bad [entity] section is a config error.
Sentiment per entity: with a tiny model trained here in seconds on the
synthetic world of tests/lib/toyfeeds.py, `finsent classify` gives an article
that is negative about one company and neutral about another both verdicts."""
import functools
import http.server
import json
import os
import shutil
import sqlite3
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Suite, finsent, one_line, tempdir  # noqa: E402

t = Suite()
work = tempdir()
site = os.path.join(work, "site")
os.makedirs(site)

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Markets</title><link>http://example.com/</link>
<description>test</description>
<item><title>Apple shares slide after iPhone sales miss</title>
<link>http://example.com/a1</link><guid>a1</guid>
<pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate>
<description>Apple cut its forecast. $MSFT held up better.</description>
<category domain="https://example.com/ns/tickers">NASDAQ:AAPL</category>
<category>Technology</category></item>
<item><title>Baking corner</title><link>http://example.com/a2</link><guid>a2</guid>
<pubDate>Tue, 03 Mar 2026 10:05:00 GMT</pubDate>
<description>She baked an Apple pie and ate all of it. Now it is gone.</description></item>
<item><title>Insurer raises rates</title><link>http://example.com/a3</link><guid>a3</guid>
<pubDate>Tue, 03 Mar 2026 10:10:00 GMT</pubDate>
<description>Allstate (NYSE: ALL) raised rates. China Evergrande missed a bond payment.</description>
<category type="symbol">ALL</category></item>
</channel></rss>
"""
with open(os.path.join(site, "feed.xml"), "w") as f:
    f.write(FEED)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                      functools.partial(QuietHandler, directory=site))
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]


def write_conf(name, extra=""):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("[finsent]\ncontact = test@example.com\n"
                f"[crawler]\ndelay_ms = 0\n[source markets]\nurl = http://127.0.0.1:{port}/feed.xml\n"
                "kind = feed\n[entity Evergrande]\naliases = Evergrande, China Evergrande, 3333.HK\n"
                + extra)
    return path


conf = write_conf("e.conf")
db = os.path.join(work, "e.db")
NOW = ["--now", "2026-03-03T11:00:00Z"]


def mentions():
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT d.guid, e.name, m.field, m.start, m.len, m.how FROM mentions m"
        " JOIN documents d ON d.id = m.document_id JOIN entities e ON e.id = m.entity_id"
        " ORDER BY d.guid, m.field DESC, m.start").fetchall()
    con.close()
    return rows


with t.case("crawl stores the feed's ticker categories with the document") as c:
    r = finsent(["--config", conf, "--db", db] + NOW + ["crawl"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    con = sqlite3.connect(db)
    tick = dict(con.execute("SELECT guid, tickers FROM documents").fetchall())
    con.close()
    c.check(tick == {"a1": "NASDAQ:AAPL", "a2": None, "a3": "ALL"}, f"tickers: {tick}")

with t.case("scan stores one row per mention: entity, field, offset, how") as c:
    r = finsent(["--config", conf, "--db", db] + NOW + ["entities", "scan"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    got = mentions()
    want = [
        ("a1", "Apple", "title", 0, 5, "name"),
        ("a1", "Apple", "text", 0, 5, "name"),
        ("a1", "Microsoft", "text", 24, 5, "cashtag"),
        ("a1", "Apple", "feed", 0, 0, "feed"),
        ("a3", "Allstate", "text", 0, 8, "name"),
        ("a3", "Allstate", "text", 16, 3, "exchange"),
        ("a3", "Evergrande", "text", 35, 16, "alias"),
        ("a3", "Allstate", "feed", 0, 0, "feed"),
    ]
    c.check(got == want, "mentions:\n  " + "\n  ".join(map(str, got)))

with t.case("the traps (Apple pie, all of it, Now) give no mention; a second scan adds nothing") as c:
    r = finsent(["--config", conf, "--db", db] + NOW + ["entities", "scan"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    c.check(not any(m[0] == "a2" for m in mentions()), f"{mentions()}")
    c.check(len(mentions()) == 8, f"{len(mentions())} mentions after a second scan")

with t.case("`finsent entities match --json` shows what the recogniser finds in a text") as c:
    r = finsent(["--config", conf, "entities", "match", "--json",
                 "China Evergrande and Apple (NASDAQ: AAPL) fell; apple pie"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    got = [(m["entity"], m["how"], m["text"]) for m in json.loads(r.stdout)["mentions"]]
    c.check(got == [("Evergrande", "alias", "China Evergrande"), ("Apple", "name", "Apple"),
                    ("Apple", "exchange", "AAPL")], f"{got}")

with t.case("rescan reads everything again with a changed [entity] section") as c:
    conf2 = write_conf("e2.conf", "[entity Fruit]\naliases = Apple pie\n")
    r = finsent(["--config", conf2, "--db", db] + NOW + ["entities", "rescan"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    c.check(("a2", "Fruit", "text", 13, 9, "alias") in mentions(), f"{mentions()}")

with t.case("a bad [entity] key is a config error naming file and line (exit 4)") as c:
    bad = write_conf("bad.conf", "[entity X]\nalias = X Corp\n")
    r = finsent(["--config", bad, "--db", db] + NOW + ["entities", "scan"])
    c.check(r.returncode == 4, f"exit {r.returncode}: {r.stderr}")
    c.check(f"{bad}:" in one_line(r.stderr) and "alias" in r.stderr, f"{r.stderr}")

with t.case("`finsent entities eval` on the labelled set reports precision and recall") as c:
    fixture = os.path.join(os.environ.get("FINSENT_ROOT", "."), "tests/fixtures/entities.conf")
    data = os.path.join(os.environ.get("FINSENT_ROOT", "."), "data/entities/labelled.csv")
    r = finsent(["--config", fixture, "entities", "eval", "--data", data, "--json"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    e = json.loads(r.stdout)
    c.check(e["n"] >= 200 and e["precision"] >= 0.97 and e["recall"] >= 0.93, f"{e}")

# ---- sentiment per entity ---------------------------------------------------------

import toyfeeds  # noqa: E402

ARTICLE = ("Tesla launches truck plunge sharply (story 11). Tesla launches truck crash amid "
           "fears (story 12). Nike opens store scheduled for tuesday (story 13). Nike opens "
           "store meeting set next week (story 14).")
FEED2 = toyfeeds.rss("Toy", "http://example.com/", [
    {"guid": "long", "title": "Markets today", "link": "http://example.com/long",
     "description": ARTICLE, "published": 1772532000},
    {"guid": "short", "title": "Boeing delivers jets slump to lows (story 15)",
     "link": "http://example.com/short", "description": "", "published": 1772532000},
])
with open(os.path.join(site, "feed2.xml"), "w") as f:
    f.write(FEED2)
model = os.path.join(work, "toy.safetensors")
db2 = os.path.join(work, "s.db")
conf2 = os.path.join(work, "s.conf")
with open(conf2, "w") as f:
    f.write("[finsent]\ncontact = test@example.com\n[crawler]\ndelay_ms = 0\n"
            f"[source toy]\nurl = http://127.0.0.1:{port}/feed2.xml\nkind = feed\n"
            f"[model]\npath = {model}\n")


def entity_rows(path=None):
    con = sqlite3.connect(path or db2)
    rows = con.execute(
        "SELECT d.guid, e.name, s.sentiment, s.score, s.basis, s.attended"
        " FROM entity_sentiments s JOIN documents d ON d.id = s.document_id"
        " JOIN entities e ON e.id = s.entity_id ORDER BY d.guid, e.name").fetchall()
    doc = {g: (sent, score) for g, sent, score in con.execute(
        "SELECT d.guid, c.sentiment, c.score FROM classifications c"
        " JOIN documents d ON d.id = c.document_id")}
    con.close()
    return {(g, n): (sent, score, basis, json.loads(att or "[]"))
            for g, n, sent, score, basis, att in rows}, doc


trained = False
with t.case("a tiny model learns the synthetic world") as c:
    topic_csv, sent_csv = os.path.join(work, "topic.csv"), os.path.join(work, "sent.csv")
    toyfeeds.make_training_csvs(topic_csv, sent_csv)
    r = finsent(["train", "--topic-data", topic_csv, "--sentiment-data", sent_csv, "--out",
                 model, "--epochs", "20", "--width", "32", "--layers", "1", "--heads", "2",
                 "--vocab", "400", "--max-len", "32", "--seed", "1"], timeout=600)
    c.check(r.returncode == 0, f"train failed ({r.returncode}): {r.stderr[-500:]}")
    trained = True

with t.case("an article negative about one company and neutral about another says so") as c:
    if not trained:
        c.skip("no model")
    r = finsent(["--config", conf2, "--db", db2] + NOW + ["crawl"])
    c.check(r.returncode == 0, f"crawl: exit {r.returncode}: {r.stderr}")
    r = finsent(["--config", conf2, "--db", db2] + NOW + ["classify"])
    c.check(r.returncode == 0, f"classify: exit {r.returncode}: {r.stderr}")
    rows, doc = entity_rows()
    tesla, nike = rows.get(("long", "Tesla")), rows.get(("long", "Nike"))
    c.check(tesla and nike, f"entity sentiments: {rows}")
    c.check(tesla[2] == "sentences" and nike[2] == "sentences", f"{tesla} {nike}")
    c.check(tesla[0] == 0 and nike[0] == 1, f"Tesla {tesla}, Nike {nike} (document {doc})")
    c.check(tesla[1] < nike[1] - 0.2, f"scores: Tesla {tesla[1]}, Nike {nike[1]}")
    c.check(tesla[3] and nike[3], f"attended words kept: {tesla[3]} {nike[3]}")

with t.case("a document that speaks of one company only gives it the document's sentiment") as c:
    if not trained:
        c.skip("no model")
    rows, doc = entity_rows()
    boeing = rows.get(("short", "Boeing"))
    c.check(boeing is not None, f"{rows}")
    c.check(boeing[2] == "document" and (boeing[0], round(boeing[1], 4)) ==
            (doc["short"][0], round(doc["short"][1], 4)), f"{boeing} vs {doc['short']}")

with t.case("a rescan keeps the readings of entities whose mentions are the same") as c:
    if not trained:
        c.skip("no model")
    before, _ = entity_rows()
    r = finsent(["--config", conf2, "--db", db2] + NOW + ["entities", "rescan"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    after, _ = entity_rows()
    c.check(after == before, f"before {before}\nafter {after}")
    c.check(after[("long", "Tesla")][2] == "sentences", f"{after}")

with t.case("an entity whose mentions changed is read from its sentences at the next classify") as c:
    if not trained:
        c.skip("no model")
    before, _ = entity_rows()
    db4 = os.path.join(work, "reread.db")
    shutil.copy(db2, db4)
    conf4 = os.path.join(work, "reread.conf")
    with open(conf4, "w") as f:  # Nike's mentions become "Nike opens", an [entity] of its own
        f.write(open(conf2).read() + "[entity Nike]\naliases = Nike opens\n")
    r = finsent(["--config", conf4, "--db", db4] + NOW + ["entities", "rescan"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    mid, doc = entity_rows(db4)
    c.check(mid.get(("long", "Nike"), (None, None, None))[:3] == (doc["long"][0], doc["long"][1],
            "document"), f"after the rescan: {mid}")
    c.check(mid[("long", "Tesla")] == before[("long", "Tesla")], f"{mid}")
    r = finsent(["--config", conf4, "--db", db4] + NOW + ["classify"])
    c.check(r.returncode == 0, f"classify: exit {r.returncode}: {r.stderr}")
    c.check("1 entities read from their sentences, 1 documents read again" in r.stdout,
            f"{r.stdout}")
    after, _ = entity_rows(db4)
    nike, old = after.get(("long", "Nike")), before[("long", "Nike")]
    c.check(nike and nike[2] == "sentences" and nike[0] == old[0] and
            abs(nike[1] - old[1]) < 1e-4 and nike[3] == old[3], f"Nike {nike}, was {old}")
    left = sqlite3.connect(db4).execute("SELECT count(*) FROM entity_sentiments_pending")
    c.check(left.fetchone()[0] == 0, "the queue is not empty")

with t.case("[classify] entity_sentiment = document gives every entity the document's "
            "sentiment; a bad value is a config error naming the line") as c:
    if not trained:
        c.skip("no model")
    db5 = os.path.join(work, "off.db")
    conf5 = os.path.join(work, "off.conf")
    with open(conf5, "w") as f:
        f.write(open(conf2).read() + "[classify]\nentity_sentiment = document\n")
    r = finsent(["--config", conf5, "--db", db5] + NOW + ["crawl"])
    c.check(r.returncode == 0, f"crawl: exit {r.returncode}: {r.stderr}")
    r = finsent(["--config", conf5, "--db", db5] + NOW + ["classify"])
    c.check(r.returncode == 0, f"classify: exit {r.returncode}: {r.stderr}")
    rows, doc = entity_rows(db5)
    c.check(set(rows) == {("long", "Tesla"), ("long", "Nike"), ("short", "Boeing")}, f"{rows}")
    c.check(all(v[2] == "document" and v[0] == doc[g][0] for (g, _), v in rows.items()),
            f"{rows} {doc}")
    bad = os.path.join(work, "offbad.conf")
    with open(bad, "w") as f:
        f.write(open(conf2).read() + "[classify]\nentity_sentiment = off\n")
    r = finsent(["--config", bad, "--db", db5] + NOW + ["classify"])
    n_line = open(bad).read().count("\n")
    c.check(r.returncode == 4 and f"{bad}:{n_line}:" in one_line(r.stderr) and
            "'off' is not sentences or document" in r.stderr, f"exit {r.returncode}: {r.stderr}")

# ---- watchlists, the listing, the CSV export -----------------------------------------

conf3 = os.path.join(work, "w.conf")
with open(conf3, "w") as f:
    f.write(open(conf2).read() + "[watchlist fleet]\nentities = Tesla, $BA\n")

with t.case("`finsent entities` lists volume and negative share; --watchlist keeps its own") as c:
    if not trained:
        c.skip("no model")
    r = finsent(["--config", conf3, "--db", db2] + NOW + ["entities", "--json"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    rows = {e["entity"]: e for e in json.loads(r.stdout)}
    c.check(set(rows) == {"Tesla", "Nike", "Boeing"}, f"{rows}")
    c.check(all(e["documents"] == 1 for e in rows.values()), f"{rows}")
    c.check(rows["Boeing"]["negative_share"] in (0.0, 1.0), f"{rows['Boeing']}")
    c.check(len(rows["Tesla"]["daily_negative_share"]) == 30, f"{rows['Tesla']}")
    r = finsent(["--config", conf3, "--db", db2] + NOW + ["entities", "--watchlist", "fleet"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    names = [l.split()[0] for l in r.stdout.splitlines()[1:]]
    c.check(sorted(names) == ["Boeing", "Tesla"], f"{r.stdout}")

with t.case("export trends --by entity writes the documented header and RFC 4180 rows") as c:
    if not trained:
        c.skip("no model")
    out = os.path.join(work, "entities.csv")
    r = finsent(["--config", conf3, "--db", db2] + NOW +
                ["export", "trends", "--by", "entity", "--format", "csv", "-o", out])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    data = open(out, newline="").read()
    lines = data.split("\r\n")
    c.check(lines[0] == "entity,bucket_start,n_docs,n_negative,n_neutral,n_positive,"
            "mean_score,negative_share,z_score,spike", f"header: {lines[0]!r}")
    import csv as csvmod
    recs = list(csvmod.DictReader(data.splitlines()))
    c.check(sorted({r_["entity"] for r_ in recs}) == ["Boeing", "Nike", "Tesla"], f"{recs}")
    c.check(all(r_["bucket_start"] == "2026-03-03T00:00:00Z" and r_["n_docs"] == "1"
                for r_ in recs), f"{recs}")
    r = finsent(["--config", conf3, "--db", db2] + NOW +
                ["export", "trends", "--by", "entity", "--watchlist", "fleet", "--format", "csv"])
    c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    c.check(sorted({l.split(",")[0] for l in r.stdout.splitlines()[1:]}) == ["Boeing", "Tesla"],
            f"{r.stdout}")

with t.case("a watchlist naming an unknown entity is a config error (exit 4); an unknown "
            "watchlist a usage error (exit 2)") as c:
    bad = os.path.join(work, "wbad.conf")
    with open(bad, "w") as f:
        f.write("[watchlist w]\nentities = Tesla, Frobnicator Widgets\n")
    r = finsent(["--config", bad, "--db", db2] + NOW + ["entities"])
    c.check(r.returncode == 4, f"exit {r.returncode}: {r.stderr}")
    c.check(f"{bad}:2:" in one_line(r.stderr) and "Frobnicator" in r.stderr, f"{r.stderr}")
    r = finsent(["--config", conf3, "--db", db2] + NOW + ["entities", "--watchlist", "nope"])
    c.check(r.returncode == 2, f"exit {r.returncode}: {r.stderr}")

srv.shutdown()
sys.exit(t.finish())
