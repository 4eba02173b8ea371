#!/usr/bin/env python3
"""it_report.py - `finsent trends`, `export` and `report` end to end.

Builds a database with the real binary (schema), fills documents and
classifications with sqlite3 (30 days of hourly news for four topics, one bad
day planted in Earnings and one bad hour in "Fed | Central Banks", headlines
holding <script>, quotes, ampersands, commas and newlines), then checks:
  - the terminal table (topic filter by name, spikes marked);
  - the trends CSV (exact header, CRLF, spike rows) and the documents CSV
    (hostile titles round-trip through Python's csv module), -o atomic writes;
  - the HTML report: self-contained (no http(s) loads, no <script>), escaped,
    and rendered by headless Chromium (DOM: the <svg> count and spike markers;
    screenshot: not blank).
Prints PASS/FAIL/SKIP lines; exits non-zero on any failure.
"""
import csv
import io
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

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


def fill(db):
    con = sqlite3.connect(db)
    rng = random.Random(5)
    con.execute("INSERT INTO sources(id, name, url, kind) VALUES (1, 'wire & co', "
                "'https://example.com/feed', 'feed')")
    doc_id = 0
    hostile_ids = []

    def add(t, topic, sentiment, title=None, url=None, published=True, score=None):
        nonlocal doc_id
        doc_id += 1
        if score is None:
            score = {0: -0.6 - rng.random() * 0.39, 1: rng.random() * 0.2 - 0.1,
                     2: 0.5 + rng.random() * 0.4}[sentiment]
        con.execute("INSERT INTO documents(id, source_id, url, dedupe_hash, title, text, kind, "
                    "published_at, fetched_at) VALUES (?, 1, ?, ?, ?, ?, 'article', ?, ?)",
                    (doc_id, url or f"https://example.com/news/{doc_id}", f"h{doc_id}",
                     title or f"Headline {doc_id}", f"Body of {doc_id}",
                     t if published else None, t + 300))
        con.execute("INSERT INTO classifications(document_id, model_id, topic, topic_probs, "
                    "sentiment, sentiment_probs, score, classified_at) "
                    "VALUES (?, 'it', ?, '[]', ?, '[]', ?, ?)",
                    (doc_id, topic, sentiment, score, t + 600))
        return doc_id

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
                add(t + rng.randrange(HOUR), topic, s, published=rng.random() > 0.1)
    # the bad hour: day 25, 14:00, Fed
    t = T0 + 25 * DAY + 14 * HOUR
    for i in range(30):
        title = HOSTILE[i % 3] if i < 3 else None
        url = "javascript:alert(1)" if i == 1 else None
        d = add(t + i * 60, 1, 0 if i < 27 else 1, title, url, score=-0.995 if title else None)
        if title:
            hostile_ids.append(d)
    con.commit()
    con.close()
    return hostile_ids


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


def png_colours(path):
    """Distinct colours in a PNG (8-bit RGB/RGBA, non-interlaced), standard library only."""
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
    colours = set()
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
        if y % 4 == 0:
            for x in range(0, stride, bpp * 2):
                colours.add(bytes(line[x:x + 3]))
        prev = line
    return colours


def test_report(db, tmp):
    html_path = os.path.join(tmp, "report.html")
    finsent(db, "report", "--html", html_path)
    html = open(html_path, encoding="utf-8").read()
    n_sections = html.count('<section class="series"')
    ok = n_sections == 5 and html.count("<svg") == 5
    report(ok, "report_one_chart_per_series", f"{n_sections} sections")
    # the hostile headlines belong to the Fed's bad hour: an hourly report lists them
    hour_path = os.path.join(tmp, "hour.html")
    finsent(db, "report", "--html", hour_path, "--bucket", "hour", "--topic", "Fed | Central Banks",
            "--since", "2026-03-25", "--until", "2026-03-27")
    hour_html = open(hour_path, encoding="utf-8").read()
    ok = hour_html.count("<svg") == 1 and hour_html.count('class="spike-marker"') == 1
    report(ok, "report_hourly_one_topic", f"{hour_html.count('<svg')} svg")
    day_html, html = html, html + hour_html
    lowered = html.lower()
    ok = "<script" not in lowered and "javascript:" not in lowered
    ok = ok and 'src="http' not in lowered and "@import" not in lowered
    why = "unsafe markup" if not ok else ""
    for needle in ("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;", "O&#39;Neil",
                   "wire &amp; co", "&lt;b&gt;bold&lt;/b&gt;"):
        if needle not in html:
            ok, why = False, f"missing {needle}"
    report(ok, "report_self_contained_and_escaped", why)
    n_markers = day_html.count('class="spike-marker"')
    report(n_markers >= 2, "report_spike_markers", f"{n_markers}")

    if not find_chromium():
        print(missing_line("report_renders_in_chromium", "chromium"), flush=True)
        return
    url = "file://" + html_path
    p = chromium(tmp, url, "--dump-dom")
    dom = p.stdout.decode("utf-8", "replace")
    ok = p.returncode == 0 and dom.count("<svg") == 5
    ok = ok and dom.count('class="spike-marker"') == n_markers
    ok = ok and dom.count("<polyline") >= 10 and "<script" not in dom.lower()
    report(ok, "report_dom_in_chromium", f"exit {p.returncode}, {dom.count('<svg')} svg")
    png = os.path.join(tmp, "report.png")
    p = chromium(tmp, url, f"--screenshot={png}", "--window-size=1200,2000",
                 "--hide-scrollbars")
    ok = p.returncode == 0 and os.path.exists(png) and os.path.getsize(png) > 20000
    colours = png_colours(png) if ok else set()
    keep = os.environ.get("FINSENT_KEEP_SCREENSHOT")
    if keep and ok:
        shutil.copy(png, keep)
    report(ok and len(colours) >= 6, "report_screenshot_not_blank",
           f"exit {p.returncode}, {len(colours)} colours")


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
