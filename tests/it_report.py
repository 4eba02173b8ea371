#!/usr/bin/env python3
"""it_report.py - `finsent trends`, `export` and `report` end to end.

Builds a database with the real binary (schema), fills documents and
classifications with sqlite3 (30 days of hourly news for four topics, one bad
day planted in Earnings and one bad hour in "Fed | Central Banks", headlines
holding <script>, quotes, ampersands, commas and newlines), then checks:
  - the terminal table (topic filter by name, spikes marked);
  - the trends CSV (exact header, CRLF, spike rows) and the documents CSV
    (hostile titles round-trip through Python's csv module), -o atomic writes;
  - the HTML report, on a copy with more planted: a topic that spikes on the
    last day but one (Stock Movement, the highest topic id), a topic with two
    documents (Financials), headlines about Tesla, Nvidia and Apple (one
    hostile) read by `finsent entities scan`, and a [watchlist Megacaps]:
    self-contained (no http(s) loads, no <script>), escaped, and rendered by
    headless Chromium. The DOM after rendering: three charts per series, one
    quantity each with its own labelled axis (0%..100%, -1..+1, documents), each
    point where its own axis puts the value its tooltip states;
    topics in order of risk (the spiking topic first); the sparse topic as a
    compact row; recent headlines for a topic without a spike; <title>
    tooltips with each bucket's counts on every point and bar; the watchlist's
    section naming its entities (and, without a watchlist, the most-mentioned
    entities). The screenshot: the page's key colours where they belong (the
    spike badge and its highlighted row near the top, the charts' series).
Prints PASS/FAIL/SKIP lines; exits non-zero on any failure.
"""
import csv
import io
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

ROOT = os.environ.get("FINSENT_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("FINSENT_BIN", os.path.join(ROOT, "finsent"))
T0 = 1772323200  # 2026-03-01T00:00:00Z
HOUR, DAY = 3600, 86400
NOW = "2026-03-31T00:30:00Z"
HOSTILE = [
    '<script>alert("pwned")</script> Fed cuts, markets "panic" & slide',
    "Rates, rates\nand more rates: O'Neil says \"sell\"",
    "Bank run fears & <b>bold</b> claims",
]

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Report, missing_line  # noqa: E402

report = Report()


def finsent(db, *args, check=True):
    cmd = [BIN, "--db", db, "--now", NOW, *args]
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.decode()}")
    return p


class Docs:
    """Inserts classified documents (the columns the trends stage reads)."""

    def __init__(self, db, seed):
        self.con = sqlite3.connect(db)
        self.rng = random.Random(seed)
        self.doc_id = self.con.execute("SELECT coalesce(max(id), 0) FROM documents").fetchone()[0]

    def add(self, t, topic, sentiment, title=None, url=None, published=True, score=None):
        rng = self.rng
        self.doc_id += 1
        doc_id = self.doc_id
        if score is None:
            score = {0: -0.6 - rng.random() * 0.39, 1: rng.random() * 0.2 - 0.1,
                     2: 0.5 + rng.random() * 0.4}[sentiment]
        self.con.execute("INSERT INTO documents(id, source_id, url, dedupe_hash, title, text, "
                         "kind, published_at, fetched_at) VALUES (?, 1, ?, ?, ?, ?, 'article', "
                         "?, ?)",
                         (doc_id, url or f"https://example.com/news/{doc_id}", f"h{doc_id}",
                          title or f"Headline {doc_id}", f"Body of {doc_id}",
                          t if published else None, t + 300))
        self.con.execute("INSERT INTO classifications(document_id, model_id, topic, topic_probs, "
                         "sentiment, sentiment_probs, score, classified_at) "
                         "VALUES (?, 'it', ?, '[]', ?, '[]', ?, ?)",
                         (doc_id, topic, sentiment, score, t + 600))
        return doc_id

    def close(self):
        self.con.commit()
        self.con.close()


def fill(db):
    docs = Docs(db, 5)
    rng = docs.rng
    docs.con.execute("INSERT INTO sources(id, name, url, kind) VALUES (1, 'wire & co', "
                     "'https://example.com/feed', 'feed')")
    hostile_ids = []
    for h in range(30 * 24):
        t = T0 + h * HOUR
        day = h // 24
        for topic in (1, 5, 14, 15):
            n = 3 + rng.randrange(3)
            p_neg = 0.2
            if topic == 5 and day == 20:
                p_neg = 0.9
                n += 3
            for _ in range(n):
                s = 0 if rng.random() < p_neg else rng.choice((1, 2))
                docs.add(t + rng.randrange(HOUR), topic, s, published=rng.random() > 0.1)
    # the bad hour: day 25, 14:00, Fed
    t = T0 + 25 * DAY + 14 * HOUR
    for i in range(30):
        title = HOSTILE[i % 3] if i < 3 else None
        url = "javascript:alert(1)" if i == 1 else None
        d = docs.add(t + i * 60, 1, 0 if i < 27 else 1, title, url,
                     score=-0.995 if title else None)
        if title:
            hostile_ids.append(d)
    docs.close()
    return hostile_ids


SPIKING, SPARSE, CALM = 19, 7, 14  # Stock Movement, Financials, Macro
TESLA_HOSTILE = '<script>alert("tsla")</script> Tesla "recall" & <i>fire</i> probe'


def fill_report(db):
    """What the report's ranking, compact rows and entity sections need."""
    docs = Docs(db, 7)
    rng = docs.rng
    for h in range(30 * 24):  # a topic as busy as the others, very bad on 2026-03-30
        bad = h // 24 == 29
        for _ in range(3 + rng.randrange(3) + (4 if bad else 0)):
            s = 0 if rng.random() < (0.95 if bad else 0.15) else rng.choice((1, 2))
            docs.add(T0 + h * HOUR + rng.randrange(HOUR), SPIKING, s)
    docs.add(T0 + 28 * DAY + 9 * HOUR, SPARSE, 0, "Small lender warns on deposits")
    docs.add(T0 + 28 * DAY + 10 * HOUR, SPARSE, 1, "Financials quiet")
    for i in range(24):  # Tesla: bad news over the last days (topic Markets)
        title = TESLA_HOSTILE if i == 0 else f"Tesla shares drop as recall widens, part {i}"
        docs.add(T0 + (26 + i % 4) * DAY + (i + 1) * 1800, 15, 1 if i % 4 == 3 else 0, title,
                 score=-0.99 if i == 0 else None)
    for i in range(10):
        docs.add(T0 + (10 + i) * DAY + 3600, 15, 2, f"Nvidia beats estimates again, note {i}")
    for i in range(40):
        docs.add(T0 + i * 18 * HOUR, 14, rng.choice((0, 1, 2)), f"Apple supplier update {i}")
    docs.close()


def test_table(db):
    out = finsent(db, "trends", "--topic", "fed | central banks", "--bucket", "hour",
                  "--since", "2026-03-26", "--until", "2026-03-27").stdout.decode()
    lines = out.splitlines()
    ok = len(lines) == 4 and lines[2].startswith("Fed | Central Banks") and "^" in lines[3]
    ok = ok and "last 2026-03-26 14:00" in lines[2]
    report(ok, "trends_table_topic_by_name", repr(out))
    out = finsent(db, "trends", "--since", "2026-03-01", "--until", "2026-03-31").stdout.decode()
    names = [line[:28].strip() for line in out.splitlines()[2:] if not line.startswith(" ")]
    ok = names == ["all", "Fed | Central Banks", "Earnings", "Macro", "Markets"]
    report(ok, "trends_table_all_topics", repr(out))
    p = finsent(db, "trends", "--topic", "Sports", check=False)
    report(p.returncode == 2 and b"Sports" in p.stderr, "trends_unknown_topic_is_usage_error",
           f"exit {p.returncode}")


def test_csv(db, tmp, hostile_ids):
    p = finsent(db, "export", "trends", "--format", "csv", "--bucket", "hour", "--all")
    raw = p.stdout.decode()
    header = raw.split("\r\n", 1)[0]
    ok = header == ("topic,bucket_start,n_docs,n_negative,n_neutral,n_positive,mean_score,"
                    "negative_share,z_score,spike")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    spikes = [(r["topic"], r["bucket_start"]) for r in rows if r["spike"] == "1"]
    topic_spikes = [s for s in spikes if s[0] != "all"]
    ok = ok and topic_spikes == [("Fed | Central Banks", "2026-03-26T14:00:00Z")]
    ok = ok and raw.count("\r\n") == len(rows) + 1
    report(ok, "export_trends_csv_hour", f"header {header!r}, spikes {spikes}")
    raw = finsent(db, "export", "trends", "--format", "csv", "--topic", "earnings",
                  "--all").stdout
    rows = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    spikes = [(r["topic"], r["bucket_start"]) for r in rows if r["spike"] == "1"]
    ok = len(rows) == 30 and spikes == [("Earnings", "2026-03-21T00:00:00Z")]
    report(ok, "export_trends_csv_day", f"{len(rows)} rows, spikes {spikes}")

    out = os.path.join(tmp, "docs.csv")
    finsent(db, "export", "documents", "--format", "csv", "-o", out, "--topic", "1",
            "--since", "2026-03-26T14:00:00Z", "--until", "2026-03-26T15:00:00Z")
    with open(out, newline="", encoding="utf-8") as f:
        docs = list(csv.DictReader(f))
    titles = {int(d["id"]): d["title"] for d in docs}
    ok = all(titles.get(i) in HOSTILE for i in hostile_ids)
    ok = ok and sorted(titles[i] for i in hostile_ids) == sorted(HOSTILE)
    ok = ok and all(d["topic"] == "Fed | Central Banks" for d in docs)
    report(ok, "export_documents_csv_round_trip", f"{len(docs)} rows")
    leftovers = [n for n in os.listdir(tmp) if n.startswith("docs.csv") and n != "docs.csv"]
    report(not leftovers, "export_writes_atomically", f"left {leftovers}")


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium(tmp, url, *args):
    exe = find_chromium()
    profile = tempfile.mkdtemp(dir=tmp)
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", *args, url]
    return subprocess.run(cmd, capture_output=True, timeout=120)


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.texts = [], []

    def cls(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        return "".join(self.texts) + "".join(c.text() for c in self.children)

    def find_all(self, tag=None, cls=None, **attrs):
        out = []
        for c in self.children:
            if ((tag is None or c.tag == tag) and (cls is None or cls in c.cls())
                    and all(c.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())):
                out.append(c)
            out.extend(c.find_all(tag, cls, **attrs))
        return out

    def find(self, *args, **kwargs):
        found = self.find_all(*args, **kwargs)
        return found[0] if found else None


class DomBuilder(HTMLParser):
    """The element tree of an HTML document (Chromium's --dump-dom output)."""
    VOID = {"meta", "link", "br", "img", "input", "hr", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in self.VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.texts.append(data)


def parse_dom(html):
    b = DomBuilder()
    b.feed(html)
    return b.root


TOOLTIP = re.compile(r"^\d{4}-\d\d-\d\d(?: \d\d:\d\d)? UTC: (\d+) documents, (\d+) negative, "
                     r"(\d+) neutral, (\d+) positive; negative share (\d+)%; mean score "
                     r"[+-]\d\.\d\d(?: \(spike, z -?\d+\.\d\))?$")
QUANTITIES = ["negative-share", "mean-score", "documents"]
TICKS = {"negative-share": ["0%", "25%", "50%", "75%", "100%"],
         "mean-score": ["\u22121", "\u22120.5", "0", "+0.5", "+1"]}
AXIS_TITLES = ["negative share", "mean score", "documents"]


def check_charts(root):
    """Every series: three charts, one quantity each, each with its axis."""
    sections = root.find_all("section", cls="series")
    for sec in sections:
        svgs = sec.find_all("svg", cls="chart")
        if [s.attrs.get("data-quantity") for s in svgs] != QUANTITIES:
            return f"{sec.attrs.get('id')}: charts {[s.attrs.get('data-quantity') for s in svgs]}"
        titles = [[t.text() for t in s.find_all("text", cls="axis-title")] for s in svgs]
        if titles != [[t] for t in AXIS_TITLES]:
            return f"{sec.attrs.get('id')}: axis titles {titles}"
        for s in svgs[:2]:
            ticks = [t.text() for t in s.find_all("text", cls="tick")]
            if ticks != TICKS[s.attrs["data-quantity"]]:
                return f"{sec.attrs.get('id')}: {s.attrs['data-quantity']} ticks {ticks}"
    return "" if sections else "no series"


SCORE_IN_TOOLTIP = re.compile(r"mean score ([+-]\d\.\d\d)")


def tick_y(svg, label):
    """The y of the gridline labelled `label` (its label sits 3.5 units lower)."""
    for t in svg.find_all("text", cls="tick"):
        if t.text() == label:
            return float(t.attrs["y"]) - 3.5
    return None


def check_scales(root):
    """Each point sits where its own axis says its tooltip's value is."""
    n = 0
    for svg in root.find_all("svg", cls="chart"):
        q = svg.attrs.get("data-quantity")
        if q == "documents":
            continue
        lo, hi = (tick_y(svg, "0%"), tick_y(svg, "100%")) if q == "negative-share" else \
            (tick_y(svg, "\u22121"), tick_y(svg, "+1"))
        for pt in svg.find_all("circle", cls="pt"):
            tip = pt.find("title").text() if pt.find("title") else ""
            m = TOOLTIP.match(tip)
            if not m or lo is None or hi is None:
                return f"{q}: no scale or tooltip ({tip!r})"
            if q == "negative-share":
                v, tol = int(m.group(5)) / 100, 0.006
            else:
                v, tol = (float(SCORE_IN_TOOLTIP.search(tip).group(1)) + 1) / 2, 0.003
            want = lo + (hi - lo) * v
            if abs(float(pt.attrs["cy"]) - want) > tol * abs(hi - lo) + 0.02:
                return f"{q}: point at y {pt.attrs['cy']}, its value {v:.3f} is at {want:.2f}"
            n += 1
    return "" if n else "no points"


def check_tooltips(root):
    """Each point and bar has a <title> with its bucket's counts, which add up."""
    n_pts = n_bars = 0
    for sec in root.find_all("section", cls="series"):
        pts = sec.find_all("circle", cls="pt")
        bars = sec.find_all("g", cls="bar")
        if not bars or len(pts) != 2 * len(bars):
            return f"{sec.attrs.get('id')}: {len(pts)} points, {len(bars)} bars"
        for el in pts + bars + sec.find_all("circle", cls="spike-marker"):
            title = el.find("title")
            m = TOOLTIP.match(title.text() if title else "")
            if not m:
                return f"{sec.attrs.get('id')}: tooltip {title.text() if title else None!r}"
            docs, neg, neu, pos, share = map(int, m.groups())
            if neg + neu + pos != docs or abs(share - 100 * neg / docs) > 0.51:
                return f"counts do not add up: {title.text()!r}"
        n_pts, n_bars = n_pts + len(pts), n_bars + len(bars)
    return "" if n_bars else "no bars"


def section_ids(group):
    return [s.attrs.get("id") for s in group.find_all("section", cls="series")
            if "overall" not in s.cls()]


def test_report_dom(root, name="report"):
    checks = []
    topics = root.find("section", id="topics")
    ids = section_ids(topics) if topics else []
    shares = []
    ranks = [s.attrs.get("data-rank") for s in topics.find_all("section", cls="series")
             if "overall" not in s.cls()] if topics else []
    ok = bool(ids) and ids[0] == f"topic-{SPIKING}"
    ok = ok and ranks == [str(i + 1) for i in range(len(ranks))]
    rows = [r for r in topics.find("table", cls="summary").find_all("tr") if r.find("td")] \
        if topics else []
    ok = ok and [r.find("a").attrs["href"] for r in rows[:len(ids)]] == ["#" + i for i in ids]
    ok = ok and rows[0].find("span", cls="spike") is not None
    # after the spiking topic: the window's negative share, highest first
    shares = [int(r.find_all("td")[4].text().rstrip("%")) for r in rows[1:len(ids)]]
    ok = ok and shares == sorted(shares, reverse=True)
    checks.append((ok, "report_topics_ordered_by_risk", f"order {ids}, shares {shares}"))
    why = check_charts(root)
    checks.append((not why, "report_one_quantity_per_chart", why))
    why = check_scales(root)
    checks.append((not why, "report_points_on_their_own_scale", why))
    why = check_tooltips(root)
    checks.append((not why, "report_tooltips_with_counts", why))
    row = root.find("tr", cls="sparse-row", id=f"topic-{SPARSE}")
    ok = row is not None and f"topic-{SPARSE}" not in ids and not row.find("svg")
    ok = ok and "Small lender warns on deposits" in row.text()
    checks.append((ok, "report_sparse_topic_compact_row", f"row {row is not None}, ids {ids}"))
    calm = root.find("section", id=f"topic-{CALM}")
    items = calm.find("ol", cls="recent").find_all("li") if calm and calm.find("ol", cls="recent") else []
    ok = calm is not None and not calm.find("ul", cls="spikes") and len(items) == 5
    ok = ok and all(li.find("a") and li.find("a").attrs["href"].startswith("https://example.com/")
                    and "wire & co" in li.text() for li in items)
    checks.append((ok, "report_headlines_without_spike", f"{len(items)} headlines"))
    wl = root.find("section", cls="watchlist")
    ents = wl.find("p", cls="watch-entities").text() if wl and wl.find("p", cls="watch-entities") else ""
    tesla = [s for s in wl.find_all("section", cls="entity") if "Tesla" in s.find("h3").text()] if wl else []
    ok = wl is not None and wl.attrs.get("data-watchlist") == "Megacaps"
    ok = ok and "Tesla" in ents and "Nvidia" in ents and len(tesla) == 1
    ok = ok and "Megacaps" in wl.find("h2").text()
    ok = ok and any("Nvidia" in r.text() for r in wl.find_all("tr", cls="sparse-row"))
    hostile = tesla[0].find("ol", cls="recent").find_all("li") if tesla and tesla[0].find("ol", cls="recent") else []
    ok = ok and any(TESLA_HOSTILE in li.text() for li in hostile)
    checks.append((ok, "report_watchlist_section", f"entities {ents!r}, {len(tesla)} Tesla"))
    planted = root.find_all("script") + [e for e in root.find_all("i") + root.find_all("b")
                                         if e.text() in ("fire", "bold")]
    checks.append((not planted, "report_hostile_markup_stays_text", f"{len(planted)} elements"))
    for ok, case, why in checks:
        report(ok, f"{case}" if name == "report" else f"{name}_{case}", why)


def png_pixels(path):
    """(width, height, rows of RGB bytes) of a PNG (8-bit RGB/RGBA, non-interlaced)."""
    import struct
    import zlib
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append({bytes(line[x:x + 3]) for x in range(0, stride, bpp)})
        prev = line
    return w, h, rows


def colours_in(rows, y0, y1):
    out = set()
    for r in rows[y0:y1]:
        out |= r
    return out


RGB = {name: bytes.fromhex(v) for name, v in (
    ("negative", "c62828"), ("neutral", "b0b0b0"), ("positive", "2e7d32"),
    ("score", "1f5fbf"), ("spike_row", "fdecea"))}


def test_screenshot(tmp, url):
    """The page's key elements, by their colours where they must be."""
    png = os.path.join(tmp, "report.png")
    p = chromium(tmp, url, f"--screenshot={png}", "--window-size=1200,2400",
                 "--hide-scrollbars")
    ok = p.returncode == 0 and os.path.exists(png) and os.path.getsize(png) > 20000
    if not ok:
        report(False, "report_screenshot_layout", f"exit {p.returncode}")
        return
    keep = os.environ.get("FINSENT_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(png, keep)
    w, h, rows = png_pixels(png)
    top = colours_in(rows, 0, 450)  # the title and the ranked summary table
    rest = colours_in(rows, 450, h)  # the first series: charts and headlines
    missing = [n for n in ("negative", "spike_row") if RGB[n] not in top]
    missing += [n for n in ("negative", "neutral", "positive", "score") if RGB[n] not in rest]
    report(not missing and len(top | rest) >= 12, "report_screenshot_layout",
           f"{w}x{h}, missing {missing}, {len(top | rest)} colours")


def report_conf(tmp, watchlist):
    path = os.path.join(tmp, "w.conf" if watchlist else "plain.conf")
    with open(path, "w") as f:
        f.write("[watchlist Megacaps]\nentities = Tesla, Nvidia\n" if watchlist else "")
    return path


def test_report(db, tmp):
    rdb = os.path.join(tmp, "report.db")
    shutil.copy(db, rdb)
    fill_report(rdb)
    wconf, plain = report_conf(tmp, True), report_conf(tmp, False)
    finsent(rdb, "--config", plain, "entities", "scan")
    html_path = os.path.join(tmp, "report.html")
    finsent(rdb, "--config", wconf, "report", "--html", html_path)
    html = open(html_path, encoding="utf-8").read()
    n_sections = html.count('<section class="series')
    # 5 topics + all + Tesla; Financials and Nvidia (nothing lately) are table rows
    ok = n_sections == 7 and html.count("<svg") == 3 * n_sections
    report(ok, "report_three_charts_per_series", f"{n_sections} sections, {html.count('<svg')} svg")
    # the hostile headlines belong to the Fed's bad hour: an hourly report lists them
    hour_path = os.path.join(tmp, "hour.html")
    finsent(rdb, "--config", wconf, "report", "--html", hour_path, "--bucket", "hour", "--topic",
            "Fed | Central Banks", "--since", "2026-03-25", "--until", "2026-03-27")
    hour_html = open(hour_path, encoding="utf-8").read()
    ok = hour_html.count("<svg") == 3 and hour_html.count('class="spike-marker"') == 1
    ok = ok and 'class="group watchlist"' not in hour_html
    report(ok, "report_hourly_one_topic", f"{hour_html.count('<svg')} svg")
    day_html, html = html, html + hour_html
    lowered = html.lower()
    ok = "<script" not in lowered and "javascript:" not in lowered
    ok = ok and 'src="http' not in lowered and "@import" not in lowered
    why = "unsafe markup" if not ok else ""
    for needle in ("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;", "O&#39;Neil",
                   "wire &amp; co", "&lt;b&gt;bold&lt;/b&gt;",
                   "&lt;script&gt;alert(&quot;tsla&quot;)&lt;/script&gt;"):
        if needle not in html:
            ok, why = False, f"missing {needle}"
    report(ok, "report_self_contained_and_escaped", why)
    n_markers = day_html.count('class="spike-marker"')
    report(n_markers >= 3, "report_spike_markers", f"{n_markers}")
    plain_path = os.path.join(tmp, "plain.html")
    finsent(rdb, "--config", plain, "report", "--html", plain_path)
    plain_root = parse_dom(open(plain_path, encoding="utf-8").read())
    group = plain_root.find("section", id="entities")
    names = [s.find("h3").text() for s in group.find_all("section", cls="entity")] if group else []
    ok = group is not None and not plain_root.find("section", cls="watchlist")
    ok = ok and any("Tesla" in n for n in names) and any("Apple" in n for n in names)
    report(ok, "report_most_mentioned_entities_without_watchlist", f"{names}")

    if not find_chromium():
        print(missing_line("report_renders_in_chromium", "chromium"), flush=True)
        return
    url = "file://" + html_path
    p = chromium(tmp, url, "--dump-dom")
    dom = p.stdout.decode("utf-8", "replace")
    root = parse_dom(dom)
    ok = p.returncode == 0 and len(root.find_all("svg")) == 3 * n_sections
    ok = ok and len(root.find_all("circle", cls="spike-marker")) == n_markers
    report(ok, "report_dom_in_chromium", f"exit {p.returncode}, {len(root.find_all('svg'))} svg")
    test_report_dom(root)
    test_screenshot(tmp, url)


def main():
    tmp = tempfile.mkdtemp(prefix="finsent-it-report-")
    try:
        db = os.path.join(tmp, "it.db")
        finsent(db, "trends", "--no-update")  # creates the schema
        hostile_ids = fill(db)
        test_table(db)
        test_csv(db, tmp, hostile_ids)
        test_report(db, tmp)
    except Exception as e:  # one clear line instead of a traceback
        report(False, "it_report", str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
