#!/usr/bin/env python3
"""What sentiment per entity costs the classify stage.

Builds 120 articles of 6 sentences each from data/news_check/all.csv (news
sentences written for the project; many name companies, real or invented, and
"(NYSE: XYZ)" tickers), stores them as documents in two databases, reads their
mentions (`finsent entities scan`), removes the mentions from the second one,
then times `finsent classify` on both (best of 2, each on a fresh copy): the
difference is the per-entity pass (classifying the sentences that mention each
entity). Prints figures; asserts nothing.

    python3 bench/bench_entity_sentiment.py [--finsent ./finsent] [--model PATH]
"""
import argparse
import csv
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def articles(n=120, k=6):
    with open(os.path.join(ROOT, "data/news_check/all.csv"), newline="") as f:
        rows = [r[0] for r in list(csv.reader(f))[1:]]
    out = []
    for i in range(n):
        sents = [rows[(i * k + j) % len(rows)] for j in range(k)]
        out.append(" ".join(s if s.endswith(".") else s + "." for s in sents))
    return out


def make_db(path, finsent, texts):
    subprocess.run([finsent, "--db", path, "entities", "scan"], check=True,
                   capture_output=True)  # creates the schema
    con = sqlite3.connect(path)
    con.executemany("INSERT INTO documents(dedupe_hash, title, text, kind, fetched_at)"
                    " VALUES (?, ?, ?, 'article', 1772323200)",
                    [(f"h{i}", f"Market wrap {i}", t) for i, t in enumerate(texts)])
    con.commit()
    con.close()
    subprocess.run([finsent, "--db", path, "entities", "scan"], check=True,
                   capture_output=True)


def classify_seconds(finsent, db, model, work):
    best = None
    for _ in range(2):
        copy = os.path.join(work, "run.db")
        shutil.copy(db, copy)
        t0 = time.monotonic()
        subprocess.run([finsent, "--db", copy, "classify", "--model", model], check=True,
                       capture_output=True)
        s = time.monotonic() - t0
        best = s if best is None else min(best, s)
        con = sqlite3.connect(copy)
        parts = con.execute("SELECT basis, count(*) FROM entity_sentiments GROUP BY 1").fetchall()
        con.close()
        os.remove(copy)
    return best, dict(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--finsent", default=os.path.join(ROOT, "finsent"))
    ap.add_argument("--model", default=os.path.expanduser("~/.local/share/finsent/model.safetensors"))
    a = ap.parse_args()
    if not os.path.exists(a.model):
        print(f"skipped: no model at {a.model} (finsent train)")
        return
    work = tempfile.mkdtemp(prefix="finsent-bench-es-")
    texts = articles()
    with_m, without_m = os.path.join(work, "with.db"), os.path.join(work, "without.db")
    make_db(with_m, a.finsent, texts)
    make_db(without_m, a.finsent, texts)
    con = sqlite3.connect(without_m)
    con.execute("DELETE FROM mentions")
    con.commit()
    n_mentions = sqlite3.connect(with_m).execute("SELECT count(*) FROM mentions").fetchone()[0]
    con.close()
    t_without, _ = classify_seconds(a.finsent, without_m, a.model, work)
    t_with, parts = classify_seconds(a.finsent, with_m, a.model, work)
    print(f"{len(texts)} articles of 6 sentences, {n_mentions} mentions; entity sentiments: {parts}")
    print(f"classify without mentions: {t_without:.2f} s ({len(texts) / t_without:.1f} docs/s)")
    print(f"classify with sentiment per entity: {t_with:.2f} s ({len(texts) / t_with:.1f} docs/s),"
          f" {100 * (t_with / t_without - 1):+.0f}%")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
