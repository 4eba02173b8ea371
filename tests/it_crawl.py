#!/usr/bin/env python3
"""Integration test of `finsent crawl` against a real HTTP server on 127.0.0.1.

Starts tests/servers/http_server.py over tests/fixtures, writes a config whose
sources point at the fixtures and at the server's hostile cases, runs
./finsent --db TMP --config TMP crawl, and checks the output, the exit status, the
database (sqlite3 module) and what the server saw. Prints PASS/FAIL/SKIP lines.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("FINSENT_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("FINSENT_BIN") or os.path.join(ROOT, "finsent")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SERVER = os.path.join(ROOT, "tests", "servers", "http_server.py")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Report, missing_line  # noqa: E402

report = Report()


def skip(name, why):
    print("SKIP %s: %s" % (name, why))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Server:
    def __init__(self, root=FIXTURES):
        self.proc = subprocess.Popen([sys.executable, SERVER, "--root", root, "--watch-stdin"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.port = int(self.proc.stdout.readline())
        self.base = "http://127.0.0.1:%d" % self.port

    def get(self, path):
        import urllib.request
        with urllib.request.urlopen(self.base + path, timeout=5) as r:
            return r.read()

    def stats(self):
        return json.loads(self.get("/__stats"))

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


FEED_FIXTURES = {
    # source name: fixture file (every feed fixture but the sitemap)
    "cnbc": "cnbc_finance_2019.xml",
    "google": "google_news_reuters_markets_2026.xml",
    "nyt": "nyt_business_2026.xml",
    "wsj": "wsj_world_news_2021.xml",
    "wsb": "reddit_wallstreetbets_2021.atom",
    "investing": "reddit_investing_2021.atom",
    "stockmarket": "reddit_stockmarket_2021.atom",
    "biorxiv": "biorxiv_plant_biology_rss1.rdf",
    "bitcoin": "bitcoin_peryaudo_rss2_named_rdf.rdf",
}

# source name: (hostile path, expected outcome(s), error text expected (regex) or None)
HOSTILE = {
    "h-big": ("big", {"failed"}, r"15 MiB limit"),
    "h-big-cl": ("big-cl", {"failed"}, r"15 MiB limit"),
    "h-slow": ("slow", {"failed"}, r"timed out"),
    "h-loop": ("redirect-loop", {"failed"}, r"too many redirects"),
    "h-file": ("redirect-file", {"failed"}, r"only http and https"),
    "h-ftp": ("redirect-ftp", {"failed"}, r"only http and https"),
    "h-429": ("429", {"failed"}, r"HTTP 429"),
    "h-429-date": ("429-date", {"failed"}, r"HTTP 429"),
    "h-503": ("503", {"failed"}, r"HTTP 503"),
    "h-404": ("404", {"failed"}, r"HTTP 404"),
    "h-500": ("500", {"failed"}, r"HTTP 500"),
    "h-empty": ("empty", {"failed"}, r"empty body"),
    "h-html": ("html-as-feed", {"failed"}, r"not a feed: the body is an HTML page"),
    "h-malformed": ("malformed", {"failed"}, r"malformed XML at line \d+: "),
    # the body inflates to a cut document (or the inflating itself fails)
    "h-truncgz": ("truncated-gzip", {"failed"},
                  r"malformed XML at line \d+: Premature end of data|gzip|decod"),
    "h-gzbomb": ("gzip-bomb", {"failed"}, r"15 MiB limit"),
    # external entities are never loaded: the item is stored without them
    "h-xxe": ("xxe", {"new"}, r"^new 1 "),
    "h-xxe-net": ("xxe-net", {"new"}, r"^new 1 "),
    "h-billion": ("billion", {"failed"}, r"malformed XML at line \d+: .*entity reference loop"),
    "h-wrongcs": ("wrong-charset", {"new"}, r"^new 1 "),
    "h-hdrcs": ("header-charset", {"new"}, r"^new 1 "),
    "h-gzip": ("gzip", {"new"}, r"^new 4 "),
    "h-ttl": ("ttl", {"new"}, r"^new 2 "),
    "h-redirect": ("redirect-ok", {"new"}, r"^new 3 "),
    # a redirect is checked against robots.txt like any URL: nothing under /private/
    "h-redirect-robots": ("redirect-private", {"disallowed"}, r"disallowed by robots.txt"),
}


# crafted fixtures that must fail, and with what (every other one is stored)
CRAFTED_FAILS = {
    "billion_laughs.xml": r"malformed XML at line 14: Detected an entity reference loop",
    "empty.xml": r"empty body",
    "html_empty_body.html": r"empty body",
    "html_no_doctype_as_feed.xml": r"not a feed: the body is an HTML page",
    "html_served_as_feed.xml": r"not a feed: the body is an HTML page",
    "json_not_feed.json": r"not a feed: JSON without a JSON Feed version",
    "jsonfeed_invalid.json": r"malformed JSON at line 1: ",
    "malformed.xml": r"malformed XML at line 3: Opening and ending tag mismatch",
    "not_a_feed.xml": r"not a feed: XML document with root element <config>",
    "truncated.xml": r"malformed XML at line 4: Premature end of data",
    "whitespace_only.xml": r"not a feed: empty body",
}

CRAFTED = sorted(f for f in os.listdir(os.path.join(FIXTURES, "crafted"))
                 if not f.startswith(".") and f != "SOURCE.md") \
    if os.path.isdir(os.path.join(FIXTURES, "crafted")) else []


def write_config(path, base):
    lines = ["[finsent]", "contact = crawl-test@example.com", "",
             "[crawler]", "concurrency = 8", "per_host = 4", "delay_ms = 0",
             "connect_timeout = 5", "timeout_ms = 3000", ""]

    def source(name, url, **kv):
        lines.append("[source %s]" % name)
        lines.append("url = %s" % url)
        for k, v in kv.items():
            lines.append("%s = %s" % (k, v))
        lines.append("")

    for name, fixture in FEED_FIXTURES.items():
        source(name, "%s/feeds/%s" % (base, fixture))
    # the same feed under another URL (no validators): every item is already known
    source("cnbc-copy", "%s/feeds/%s?noetag" % (base, FEED_FIXTURES["cnbc"]))
    source("lm-only", "%s/feeds/%s?lmonly" % (base, FEED_FIXTURES["wsj"]))
    source("private", "%s/private/feeds/%s" % (base, FEED_FIXTURES["wsj"]))
    source("gen-follow", "%s/gen/feed/1?items=3" % base, follow_links="yes")
    source("gen-broken", "%s/gen/feed/2?items=2&broken" % base, follow_links="yes")
    source("article", "%s/pages/bloomberg_jobs_states.html" % base, kind="article")
    source("fool-comments", "%s/pages/fool_top_stocks_2015_with_comments.html" % base,
           kind="comments")
    source("gen-comments", "%s/gen/comments/7" % base, kind="comments",
           comment_selector="//div[@class='comment']")
    source("abbr-comments", "%s/crafted/comments_abbr_nickname.html" % base, kind="comments")
    source("split-article", "%s/crafted/article_split_body.html" % base, kind="article")
    for name, (hostile, _, _) in HOSTILE.items():
        source(name, "%s/hostile/%s" % (base, hostile))
    for i, f in enumerate(CRAFTED):
        kind = "article" if f.endswith(".html") else "feed"
        source("crafted-%d" % i, "%s/crafted/%s?noetag" % (base, f), kind=kind)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def run(tmp, *args, now=None, name="t"):
    cmd = [BIN, "--db", os.path.join(tmp, name + ".db"),
           "--config", os.path.join(tmp, name + ".conf")]
    if now is not None:
        cmd += ["--now", iso(now)]
    cmd += ["crawl"] + list(args)
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    secs = time.time() - t0
    print("# %.1f s: finsent %s" % (secs, " ".join(cmd[5:])))
    return p.returncode, p.stdout, p.stderr, secs


def parse_lines(out):
    res = {}
    for line in out.splitlines():
        m = re.match(r"^([^:]+): (.*)$", line)
        if m:
            res[m.group(1)] = m.group(2)
    return res


FEEDPARSER_SCRIPT = """
import json, sys, feedparser
out = {}
for path in sys.argv[1:]:
    d = feedparser.parse(path)
    out[path] = [" ".join((e.get("title") or "").split()) for e in d.entries]
print(json.dumps(out))
"""


def feedparser_titles(paths):
    """{path: titles} as feedparser (Debian python3-feedparser) reads them, or None.
    The python3 on PATH may not be Debian's, so Debian's is tried too."""
    paths = list(paths)
    for py in (sys.executable, "/usr/bin/python3"):
        if not os.path.exists(py):
            continue
        p = subprocess.run([py, "-c", FEEDPARSER_SCRIPT] + paths, capture_output=True,
                           text=True)
        if p.returncode == 0:
            return json.loads(p.stdout)
    return None


def main():
    if not os.path.exists(BIN):
        print("FAIL it_crawl: %s not built" % BIN)
        return 1
    tmp = tempfile.mkdtemp(prefix="finsent-it-crawl-")
    srv = Server()
    try:
        return checks(tmp, srv)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def checks(tmp, srv):
    write_config(os.path.join(tmp, "t.conf"), srv.base)
    now = int(time.time())
    rc, out, err, secs = run(tmp, now=now)
    lines = parse_lines(out)
    db = sqlite3.connect(os.path.join(tmp, "t.db"))
    q = lambda sql, *a: db.execute(sql, a).fetchall()

    report(rc == 3, "exit status 3 when some sources fail", "got %d; stderr: %s" % (rc, err[-500:]))
    n_sources = len(FEED_FIXTURES) + 10 + len(HOSTILE) + len(CRAFTED)
    report(len(lines) == n_sources, "one line per source",
           "%d lines for %d sources:\n%s" % (len(lines), n_sources, out))

    # --- real fixtures: counts and titles ---------------------------------------
    fixture_path = lambda f: os.path.join(FIXTURES, "feeds", f)
    reference = feedparser_titles(fixture_path(f) for f in FEED_FIXTURES.values()) or {}
    for name, fixture in FEED_FIXTURES.items():
        line = lines.get(name, "")
        m = re.match(r"new (\d+) \(of (\d+) items\)", line)
        if not m:  # lost the race with cnbc-copy: all 30 stored by the other source
            m = re.match(r"nothing new \(()(\d+) items already stored\)", line)
        if not m:
            report(False, "fixture %s crawled" % name, "line: %r" % line)
            continue
        new, items = int(m.group(1) or 0), int(m.group(2))
        stored = q("SELECT d.title FROM documents d JOIN sources s ON s.id = d.source_id "
                   "WHERE s.name = ?", name)
        report(new == len(stored) and items > 0, "fixture %s: stored = reported new" % name,
               "new %d of %d, stored %d" % (new, items, len(stored)))
        ref = reference.get(fixture_path(fixture))
        if ref is None:
            print(missing_line("fixture %s titles" % name, "python3-feedparser"), flush=True)
            continue
        report(items == len(ref), "fixture %s: item count matches feedparser" % name,
               "finsent %d, feedparser %d" % (items, len(ref)))
        got = {" ".join((t or "").split()) for (t,) in stored}
        missing = [t for t in got if t and t not in set(ref)]
        report(not missing and len(got) >= min(len(set(ref)), new),
               "fixture %s: stored titles are feedparser's" % name,
               "not in feedparser: %r" % missing[:3])

    # --- dedupe across sources ---------------------------------------------------
    # cnbc and cnbc-copy are fetched concurrently: either may store the 30 items
    pair = sorted([lines.get("cnbc", ""), lines.get("cnbc-copy", "")])
    report(pair == ["new 30 (of 30 items)", "nothing new (30 items already stored)"],
           "same items via two sources stored once", repr(pair))
    n_cnbc = q("SELECT count(*) FROM documents d JOIN sources s ON s.id = d.source_id "
               "WHERE s.name IN ('cnbc', 'cnbc-copy')")[0][0]
    report(n_cnbc == 30, "cnbc items present once", "%d rows" % n_cnbc)

    # --- robots.txt --------------------------------------------------------------
    stats = srv.stats()
    private_hits = [p for p in stats["requests"] if p.startswith("/private/")]
    report(lines.get("private", "") == "disallowed by robots.txt"
           and not private_hits, "robots.txt Disallow obeyed",
           "line %r, requests %r" % (lines.get("private"), private_hits))
    uas = stats["user_agents"]
    report(any(u.startswith("finsent/") and "crawl-test@example.com" in u for u in uas),
           "User-Agent names finsent, version and contact", repr(uas))

    # --- follow links, articles, comments ----------------------------------------
    rows = q("SELECT d.text FROM documents d JOIN sources s ON s.id = d.source_id "
             "WHERE s.name = 'gen-follow'")
    report(len(rows) == 3 and all("Full article" in t for (t,) in rows),
           "follow_links stores the article text, not the summary",
           "%d rows: %r" % (len(rows), [t[:60] for (t,) in rows]))
    rows = q("SELECT d.text FROM documents d JOIN sources s ON s.id = d.source_id "
             "WHERE s.name = 'gen-broken'")
    links = q("SELECT l.outcome, l.http_status, l.error FROM crawl_log l JOIN sources s "
              "ON s.id = l.source_id WHERE s.name = 'gen-broken' AND l.url != s.url")
    report(lines.get("gen-broken", "").startswith("new 2") and len(rows) == 2
           and all(t.startswith("Summary") for (t,) in rows)
           and links == [("failed", 404, "HTTP 404")] * 2,
           "a followed link that fails keeps the summary and logs the failure",
           "line %r rows %r log %r" % (lines.get("gen-broken"), rows, links))
    rows = q("SELECT d.title, length(d.text) FROM documents d JOIN sources s "
             "ON s.id = d.source_id WHERE s.name = 'article'")
    report(lines.get("article", "").startswith("new 1") and len(rows) == 1 and rows[0][1] > 500,
           "article page stored with its text", "line %r rows %r" % (lines.get("article"), rows))
    for name, expect in (("gen-comments", 5), ("fool-comments", 25)):
        parent = q("SELECT d.id FROM documents d JOIN sources s ON s.id = d.source_id "
                   "WHERE s.name = ? AND d.kind = 'article'", name)
        comments = q("SELECT d.parent_id FROM documents d JOIN sources s "
                     "ON s.id = d.source_id WHERE s.name = ? AND d.kind = 'comment'", name)
        ok = len(parent) == 1 and len(comments) == expect and \
            all(p == parent[0][0] for (p,) in comments)
        report(ok, "%s: %d comments under the page's article" % (name, expect),
               "line %r, parent %r, %d comments, parents %r" %
               (lines.get(name), parent, len(comments), sorted({p for (p,) in comments})))

    # comment author and time beside the comment text (span.nickname, <abbr title=ISO>)
    rows = q("SELECT d.author, d.published_at, d.url FROM documents d JOIN sources s "
             "ON s.id = d.source_id WHERE s.name = 'abbr-comments' AND d.kind = 'comment' "
             "ORDER BY d.published_at")
    complete = [r for r in rows if r[0] and r[1]]
    report(len(rows) == 20 and len(complete) == 20 and rows[0][0] == "ValueHunter"
           and rows[0][1] == 1314239400 and rows[0][2].endswith("#ugc-3100"),
           "comments store their author and time (20 of 20)",
           "line %r, %d rows, %d complete, first %r" %
           (lines.get("abbr-comments"), len(rows), len(complete), rows[:1]))
    rows = q("SELECT d.text FROM documents d JOIN sources s ON s.id = d.source_id "
             "WHERE s.name = 'split-article'")
    parts = ("Harbor Point Bancorp reported", "Deposits grew 3.8 percent", "Still, the bank set aside")
    report(len(rows) == 1 and all(p in rows[0][0] for p in parts)
           and "Related coverage" not in rows[0][0],
           "an article body split by an ad and a related box is stored whole",
           "line %r rows %r" % (lines.get("split-article"), [r[0][:300] for r in rows]))

    # --- hostile cases -------------------------------------------------------------
    log = {name: row for (name, *row) in q(
        "SELECT s.name, l.outcome, l.error, l.http_status FROM crawl_log l "
        "JOIN sources s ON s.id = l.source_id WHERE l.url = s.url")}
    for name, (path, outcomes, pattern) in HOSTILE.items():
        line = lines.get(name, "")
        # "nothing new" is a fetch that parsed, as "new" is
        outcome = "new" if line.startswith("nothing new") else line.split(":")[0].split(" ")[0]
        ok = outcome in outcomes
        why = "line %r" % line
        if ok and pattern:
            ok = re.search(pattern, line) is not None
        row = log.get(name)
        if ok and "failed" == outcome:
            ok = row is not None and row[0] == "failed" and row[1]
            why += ", crawl_log %r" % (row,)
        report(ok, "hostile %s -> %s" % (path, "/".join(sorted(outcomes))), why)

    bad = []
    for i, f in enumerate(CRAFTED):
        line = lines.get("crafted-%d" % i, "")
        want = CRAFTED_FAILS.get(f)
        if want and not re.match(r"failed: .*" + want, line):
            bad.append((f, line, "want failed: " + want))
        if not want and not (re.match(r"new \d+ \(of [1-9]\d* items\)$", line) or
                             re.match(r"nothing new \(\d+ items? already stored\)$", line)):
            bad.append((f, line, "want items"))
    report(CRAFTED and not bad, "crafted fixtures (%d) each give their expected result line"
           % len(CRAFTED), repr(bad))

    leaked = q("SELECT count(*) FROM documents WHERE text LIKE '%root:%' OR title LIKE '%root:%'")
    report(leaked[0][0] == 0, "XXE: no local file content stored", "%d rows" % leaked[0][0])
    probes = [p for p in srv.stats()["requests"] if p.startswith("/xxe-probe")]
    report(not probes, "XXE: external DTD and entities never fetched", repr(probes))
    biggest = q("SELECT max(length(text)) FROM documents")[0][0] or 0
    report(biggest < 1_000_000, "billion laughs: no entity expansion stored", "%d chars" % biggest)
    titles = [t for (t,) in q("SELECT title FROM documents WHERE guid LIKE 'charset-%'")]
    report("Caf\u00e9 soci\u00e9t\u00e9 g\u00e9n\u00e9rale: r\u00e9sultats 2" in titles,
           "charset from the HTTP header decodes Latin-1", repr(titles))
    report(any(t.endswith("1") for t in titles), "wrong charset still stored as valid UTF-8",
           repr(titles))
    ttl = q("SELECT ttl_seconds, next_fetch_at FROM sources WHERE name = 'h-ttl'")[0]
    report(ttl == (10800, now + 10800), "feed <ttl> sets next_fetch_at", repr(ttl))
    nxt = dict(q("SELECT name, next_fetch_at - ? FROM sources WHERE name LIKE 'h-%'", now))
    report(nxt["h-429"] == 7200, "Retry-After seconds honoured", "next in %r s" % nxt["h-429"])
    report(abs(nxt["h-429-date"] - 3 * 3600) < 120, "Retry-After HTTP date honoured",
           "next in %r s" % nxt["h-429-date"])
    report(nxt["h-500"] == 900, "failure backs off 15 min", "next in %r s" % nxt["h-500"])
    report(nxt["h-503"] == 900, "503 Retry-After shorter than backoff keeps backoff",
           "next in %r s" % nxt["h-503"])

    before = q("SELECT count(*) FROM documents")[0][0]

    # --- second run, an hour later ---------------------------------------------------
    rc2, out2, err2, _ = run(tmp, "--json", now=now + 3600)
    try:
        res = {r["source"]: r for r in json.loads(out2)}
    except ValueError:
        report(False, "--json prints a JSON array", out2[:300])
        return 1
    keys_ok = all(set(r) == {"source", "outcome", "http_status", "items", "new", "error", "cut"}
                  for r in res.values())
    report(keys_ok and len(res) == n_sources, "--json prints one object per source",
           out2[:300])
    unchanged = [n for n in FEED_FIXTURES if res[n]["outcome"] == "unchanged"]
    report(len(unchanged) == len(FEED_FIXTURES) and res["cnbc"]["http_status"] == 304,
           "second run: 304 -> unchanged", "unchanged: %r" % unchanged)
    cnbc = q("SELECT ttl_seconds, next_fetch_at - ? FROM sources WHERE name = 'cnbc'", now)[0]
    report(cnbc == (3600, 3600 + 3600), "second run: <ttl> still honoured after a 304",
           "ttl, next in: %r" % (cnbc,))
    report(res["lm-only"]["outcome"] == "unchanged",
           "second run: If-Modified-Since alone gives unchanged", repr(res["lm-only"]))
    report(res["cnbc-copy"]["outcome"] == "nothing new" and res["cnbc-copy"]["new"] == 0,
           "second run: dedupe gives 0 new", repr(res["cnbc-copy"]))
    report(res["gen-follow"]["new"] == 0, "second run: followed items not stored again",
           repr(res["gen-follow"]))
    report(res["h-429"]["outcome"] == "not due" and "not due" in (res["h-429"]["error"] or ""),
           "second run: source under Retry-After not fetched", repr(res["h-429"]))
    stats = srv.stats()["requests"]
    report(stats.get("/robots.txt") == 1, "robots.txt fetched once and cached",
           "fetched %r times" % stats.get("/robots.txt"))
    report(stats.get("/gen/article/1/0") == 1, "known items' links not fetched again",
           "fetched %r times" % stats.get("/gen/article/1/0"))
    report(stats.get("/hostile/429") == 1, "429 source not retried before Retry-After",
           "fetched %r times" % stats.get("/hostile/429"))
    after = q("SELECT count(*) FROM documents")[0][0]
    report(after == before and rc2 == 3, "second run: nothing lost, nothing duplicated",
           "documents %d -> %d, exit %d" % (before, after, rc2))
    errs = q("SELECT consecutive_errors FROM sources WHERE name = 'h-500'")[0][0]
    report(errs == 2, "consecutive failures counted", "%d" % errs)

    # --- --source and exit status 0 ------------------------------------------------------
    rc3, out3, _, _ = run(tmp, "--source", "gen-follow", "--force", now=now + 7200)
    report(rc3 == 0 and out3.strip() == "gen-follow: nothing new (3 items already stored)",
           "--source crawls one source, exit 0 when it succeeds", "exit %d: %r" % (rc3, out3))
    rc4, _, err4, _ = run(tmp, "--source", "no-such-source", now=now + 7200)
    report(rc4 == 2 and "no-such-source" in err4, "unknown --source is a usage error",
           "exit %d: %r" % (rc4, err4))
    db.close()
    politeness(tmp, srv)
    big_robots(tmp)
    follow_cap(tmp)
    failure_classes(tmp)
    header_injection(tmp)
    return report.exit_code()


def crawl_cmd(conf, db, *args):
    p = subprocess.run([BIN, "--config", conf, "--db", db, "crawl"] + list(args),
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, [ln for ln in p.stderr.splitlines() if ln.strip()]


def one_line_report(name, got, code, needle):
    rc, out, lines = got
    report(rc == code and len(lines) == 1 and needle.lower() in lines[0].lower(), name,
           "exit %d (want %d), stderr %r" % (rc, code, lines))


def failure_classes(tmp):
    """Each failure class of `finsent crawl`: exactly one stderr line, README's
    exit code, and nothing already stored lost."""
    root = os.path.join(tmp, "fail-root")
    os.makedirs(root)
    with open(os.path.join(root, "small.xml"), "w") as f:
        f.write('<?xml version="1.0"?><rss version="2.0"><channel><title>s</title>'
                '<item><title>Kept</title><guid>kept-1</guid><description>stored first'
                '</description></item></channel></rss>')
    with open(os.path.join(root, "big.xml"), "w") as f:
        f.write('<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>')
        for i in range(3000):
            f.write("<item><title>Big %d</title><guid>big-%d</guid><description>%s"
                    "</description></item>" % (i, i, "lorem ipsum dolor sit amet " * 60))
        f.write("</channel></rss>")
    srv = Server(root)
    w = lambda name, text: open(os.path.join(tmp, name), "w").write(text) and \
        os.path.join(tmp, name)
    db = os.path.join(tmp, "fc.db")
    try:
        ok = w("fc.conf", "[source small]\nurl = %s/small.xml\n" % srv.base)
        one_line_report("crawl failure: unknown argument, one line, exit 2",
                        crawl_cmd(ok, db, "--bogus"), 2, "--bogus")
        one_line_report("crawl failure: unknown --source, one line, exit 2",
                        crawl_cmd(ok, db, "--source", "nope"), 2, "nope")
        one_line_report("crawl failure: missing --config, one line, exit 4",
                        crawl_cmd(os.path.join(tmp, "none.conf"), db), 4, "none.conf")
        for label, text, line in (("syntax", "[crawler]\nno equals sign\n", 2),
                                  ("bad value", "[crawler]\nconcurrency = many\n", 2),
                                  ("ftp source", "[source s]\nurl = ftp://x.example/f\n", 2)):
            bad = w("fcbad.conf", text)
            one_line_report("crawl failure: config %s names file:line, exit 4" % label,
                            crawl_cmd(bad, db), 4, "%s:%d:" % (bad, line))
        rc, out, lines = crawl_cmd(ok, db)
        report(rc == 0 and out.startswith("small: new 1"), "crawl failure: setup crawl",
               "exit %d %r %r" % (rc, out, lines))
        part = w("fcpart.conf", "[source small]\nurl = %s/small.xml\n"
                 "[source down]\nurl = http://127.0.0.1:1/feed.xml\n" % srv.base)
        rc, out, lines = crawl_cmd(part, db, "--force")
        report(rc == 3 and len(lines) == 1 and "1 of 2 sources failed" in lines[0]
               and "down: failed:" in out, "crawl failure: partial, one warning line, exit 3",
               "exit %d, stdout %r, stderr %r" % (rc, out, lines))
        # jansson refuses invalid UTF-8: the "source" key silently went missing
        l1 = os.path.join(tmp, "fcl1.conf")
        with open(l1, "wb") as f:
            f.write(b"[source caf\xe9]\nurl = http://127.0.0.1:1/feed.xml\n")
        p = subprocess.run([BIN, "--config", l1, "--db", db, "crawl", "--json"],
                           capture_output=True, timeout=60)
        try:
            rows = json.loads(p.stdout.decode("utf-8"))
        except ValueError:
            rows = None
        report(p.returncode == 3 and rows and rows[0].get("source") == "caf\ufffd" and
               rows[0].get("outcome") == "failed" and rows[0].get("error"),
               "crawl --json keeps a source name that is not UTF-8",
               "exit %d, stdout %r" % (p.returncode, p.stdout[:300]))
        corrupt = os.path.join(tmp, "fc-corrupt.db")
        with open(corrupt, "w") as f:
            f.write("not a database\n" * 10)
        one_line_report("crawl failure: corrupt database, one line, exit 6",
                        crawl_cmd(ok, corrupt), 6, "fc-corrupt.db")
        with open(corrupt) as f:
            report(f.read() == "not a database\n" * 10, "crawl failure: corrupt file untouched")
        if os.geteuid() != 0:
            skip("crawl failure: full disk and read-only file system", "needs root for tmpfs")
            return
        mnt = os.path.join(tmp, "fc-mnt")
        os.makedirs(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]).returncode:
            skip("crawl failure: full disk and read-only file system", "mount failed")
            return
        try:
            mdb = os.path.join(mnt, "m.db")
            crawl_cmd(ok, mdb)
            big = w("fcbig.conf", "[source small]\nurl = %s/small.xml\n"
                    "[source big]\nurl = %s/big.xml\n" % (srv.base, srv.base))
            one_line_report("crawl failure: full disk, one line, exit 8",
                            crawl_cmd(big, mdb, "--force"), 8, "full")
            con = sqlite3.connect(mdb)
            kept = con.execute("SELECT count(*) FROM documents WHERE title = 'Kept'").fetchone()
            check = con.execute("PRAGMA integrity_check").fetchone()
            con.close()
            report(kept == (1,) and check == ("ok",), "crawl failure: full disk keeps what was stored",
                   "kept %r, integrity %r" % (kept, check))
            subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
            one_line_report("crawl failure: read-only file system, one line, exit 6",
                            crawl_cmd(ok, mdb, "--force"), 6, "read-only")
        finally:
            subprocess.run(["umount", mnt])
    finally:
        srv.stop()


def header_injection(tmp):
    """Header values built from data cannot add a header line: the User-Agent
    from the configuration and the If-None-Match from a stored ETag."""
    import http.server
    import threading
    seen = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, [(k.lower(), v) for k, v in self.headers.items()]))
            if self.path == "/robots.txt":
                self.send_response(404)
                self.end_headers()
                return
            body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>r</title>'
                    b'<item><title>One</title><guid>one</guid><description>d</description>'
                    b'</item></channel></rss>')
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        conf = os.path.join(tmp, "hi.conf")
        db = os.path.join(tmp, "hi.db")
        with open(conf, "w") as f:
            f.write("[crawler]\nuser_agent = evil\rX-Injected: ua\n"
                    "[source s]\nurl = http://127.0.0.1:%d/feed.xml\n" % srv.server_address[1])
        rc1 = crawl_cmd(conf, db)[0]
        con = sqlite3.connect(db)
        con.execute("UPDATE sources SET etag = ?", ('"v1"\r\nX-Injected: etag',))
        con.commit()
        con.close()
        rc2 = crawl_cmd(conf, db, "--force")[0]
        feeds = [h for p, h in seen if p == "/feed.xml"]
        names = [k for h in feeds for k, _ in h]
        inm = [v for k, v in feeds[-1] if k == "if-none-match"] if feeds else []
        ua = [v for k, v in feeds[0] if k == "user-agent"] if feeds else []
        report(rc1 == 0 and rc2 == 0 and len(feeds) == 2 and "x-injected" not in names,
               "no header injection through User-Agent or a stored ETag",
               "exits %d %d, requests %r" % (rc1, rc2, feeds))
        report(len(inm) == 1 and "\r" not in inm[0] and "\n" not in inm[0] and
               len(ua) == 1 and ua[0].startswith("evil"),
               "stored ETag and User-Agent sent as one line each", "%r %r" % (inm, ua))
        # a JSON Feed may hold any control character; its link reached the log
        # line about a link that cannot be followed, escape sequences included
        feed = os.path.join(tmp, "esc-root")
        os.makedirs(feed)
        with open(os.path.join(feed, "feed.json"), "w") as f:
            json.dump({"version": "https://jsonfeed.org/version/1.1", "title": "esc",
                       "items": [{"id": "1", "content_text": "text",
                                  "url": "http://127.0.0.1:1/a\x1b[2J\x1b[31mred\u009b1m"}]}, f)
        fsrv = Server(feed)
        try:
            with open(conf, "w") as f:
                f.write("[crawler]\ndelay_ms = 0\n[source esc]\nurl = %s/feed.json\n"
                        "follow_links = yes\n" % fsrv.base)
            p = subprocess.run([BIN, "--config", conf, "--db", os.path.join(tmp, "esc.db"),
                                "crawl"], capture_output=True, text=True, timeout=60)
            report(p.returncode == 0 and "red" in p.stderr and
                   not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", p.stderr + p.stdout),
                   "control characters from a feed never reach the terminal",
                   "exit %d, stderr %r" % (p.returncode, p.stderr))
        finally:
            fsrv.stop()
    finally:
        srv.shutdown()


def follow_cap(tmp):
    """max_follow_links: new items beyond the cap wait for the next crawl, which
    must not be answered 304 meanwhile (validators are not kept until all are in)."""
    root = os.path.join(tmp, "follow-root")
    os.makedirs(root)
    srv = Server(root)
    try:
        items = "".join("<item><title>Capped %d</title><link>%s/gen/article/950/%d</link>"
                        "<guid>cap-%d</guid><description>summary %d</description></item>"
                        % (i, srv.base, i, i, i) for i in range(5))
        with open(os.path.join(root, "feed.xml"), "w") as f:
            f.write('<?xml version="1.0"?><rss version="2.0"><channel><title>cap</title>%s'
                    '</channel></rss>' % items)
        with open(os.path.join(tmp, "f.conf"), "w") as f:
            f.write("[crawler]\ndelay_ms = 0\nmax_follow_links = 3\n"
                    "[source cap]\nurl = %s/feed.xml\nfollow_links = yes\n" % srv.base)
        got = [run(tmp, "--force", name="f")[1].strip() for _ in range(3)]
        want = ["cap: new 3 (of 5 items)", "cap: new 2 (of 5 items)", "cap: unchanged"]
        db = sqlite3.connect(os.path.join(tmp, "f.db"))
        texts = [t for (t,) in db.execute("SELECT text FROM documents")]
        db.close()
        report(got == want and len(texts) == 5 and all("Full article" in t for t in texts),
               "max_follow_links defers the rest to the next crawl",
               "runs %r, %d documents" % (got, len(texts)))
    finally:
        srv.stop()


def big_robots(tmp):
    """A robots.txt over 512 KiB is read up to 512 KiB (RFC 9309), not rejected;
    its Crawl-delay spaces the requests to that host."""
    root = os.path.join(tmp, "robots-root")
    os.makedirs(root)
    with open(os.path.join(root, "robots.txt"), "w") as f:
        f.write("User-agent: *\nDisallow: /blocked/\nCrawl-delay: 0.3\n")
        f.write(("# padding padding padding padding padding padding padding\n") * 11000)
        f.write("Disallow: /gen/\n")  # beyond 512 KiB: ignored
    srv = Server(root)
    try:
        with open(os.path.join(tmp, "r.conf"), "w") as f:
            f.write("[crawler]\nper_host = 8\ndelay_ms = 0\n")
            for i in range(3):
                f.write("[source r%d]\nurl = %s/gen/feed/%d?items=1\n" % (i, srv.base, 700 + i))
            f.write("[source blocked]\nurl = %s/blocked/feed.xml\n" % srv.base)
        rc, out, err, _ = run(tmp, name="r")
        lines = parse_lines(out)
        ok = all(lines.get("r%d" % i, "").startswith("new 1") for i in range(3)) and \
            lines.get("blocked", "") == "disallowed by robots.txt"
        report(ok and rc == 0, "robots.txt over 512 KiB read up to the limit",
               "exit %d: %r %s" % (rc, out, err[-300:]))
        st = srv.stats()
        feeds = sorted(t for t, p in st["starts"] if p.startswith("/gen/"))
        gaps = [round(b - a, 3) for a, b in zip(feeds, feeds[1:])]
        print("# Crawl-delay 0.3: gaps between request starts %r s" % gaps)
        # the requests answer at once: without the delay the gaps are milliseconds
        report(len(gaps) == 2 and min(gaps) >= 0.27,
               "Crawl-delay 0.3 spaces the requests to the host by >= 0.27 s", repr(gaps))
    finally:
        srv.stop()


def politeness(tmp, srv):
    """Limits seen from the server: requests in flight at once never exceed
    per_host (one host here) nor concurrency."""
    cases = (("per_host", 8, 2, 0), ("concurrency", 3, 8, 0), ("delay", 8, 1, 300))
    for label, conc, per_host, delay in cases:
        with open(os.path.join(tmp, "p.conf"), "w") as f:
            f.write("[crawler]\nconcurrency = %d\nper_host = %d\ndelay_ms = %d\n"
                    % (conc, per_host, delay))
            # slow answers show the limits on requests in flight; the delay case
            # answers within 0.05 s, so that only the delay can space its requests
            for i in range(6 if delay == 0 else 3):
                f.write("[source p%d]\nurl = %s/gen/feed/%d?items=2&sleep=%s\n"
                        % (i, srv.base, 500 + i, "0.25" if delay == 0 else "0.05"))
        srv.get("/__reset")
        rc, out, err, _ = run(tmp, "--force", name="p")
        st = srv.stats()
        limit = min(conc, per_host)
        feeds = sorted(t for t, p in st["starts"] if p.startswith("/gen/"))
        if label == "delay":
            gaps = [round(b - a, 3) for a, b in zip(feeds, feeds[1:])]
            print("# delay_ms=%d, per_host=1: gaps between request starts %r s" % (delay, gaps))
            report(len(gaps) == 2 and min(gaps) >= 0.9 * delay / 1000,
                   "delay_ms=%d spaces the requests to one host by >= %.2f s"
                   % (delay, 0.9 * delay / 1000), repr(gaps))
        report(rc == 0 and 0 < st["max_active"] <= limit and len(feeds) == (6 if delay == 0 else 3),
               "politeness: at most %d in flight (%s)" % (limit, label),
               "exit %d, max in flight %d, %d feed requests; %s"
               % (rc, st["max_active"], len(feeds), err[-300:]))


if __name__ == "__main__":
    sys.exit(main())
