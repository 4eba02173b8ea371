#!/usr/bin/env python3
"""What sentiment per entity costs the classify stage.

Builds 120 articles of 6 sentences each from data/news_check/all.csv (news
sentences written for the project; many name companies, real or invented, and
"(NYSE: XYZ)" tickers), stores them as documents in two databases, reads their
mentions (`finsent entities scan`), removes the mentions from the second one,
then times `finsent classify` on both (best of 2, each on a fresh copy): the
difference is the per-entity pass (classifying the sentences that mention each
entity). The first database is classified a third time with the per-entity
pass off ([classify] entity_sentiment = document). Wall and CPU seconds (the
process's user + system, all threads: steadier on a shared machine). Prints
figures; asserts nothing.

    python3 bench/bench_entity_sentiment.py [--finsent ./finsent] [--model PATH]
"""
import argparse
import csv
import os
import resource
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


def classify_seconds(finsent, db, model, work, config=None):
    """Best (wall, cpu) of 2 runs of `finsent classify` on fresh copies of db."""
    best = None
    for _ in range(2):
        copy = os.path.join(work, "run.db")
        shutil.copy(db, copy)
        conf = ["--config", config] if config else []
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run([finsent] + conf + ["--db", copy, "classify", "--model", model],
                       check=True, capture_output=True)
        wall = time.monotonic() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime
        best = (wall, cpu) if best is None else (min(best[0], wall), min(best[1], cpu))
        con = sqlite3.connect(copy)
        parts = con.execute("SELECT basis, count(*) FROM entity_sentiments GROUP BY 1").fetchall()
        con.close()
        os.remove(copy)
    return best, dict(parts)


def line(what, n, t, base=None):
    rel = f", {100 * (t[1] / base[1] - 1):+.0f}% cpu" if base else ""
    return (f"{what}: {t[0]:.2f} s wall ({n / t[0]:.1f} docs/s), {t[1]:.2f} s cpu "
            f"({n / t[1]:.1f} docs per cpu-s){rel}")


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
    off = os.path.join(work, "off.conf")
    with open(off, "w") as f:
        f.write("[classify]\nentity_sentiment = document\n")
    t_without, _ = classify_seconds(a.finsent, without_m, a.model, work)
    t_with, parts = classify_seconds(a.finsent, with_m, a.model, work)
    try:
        t_off, parts_off = classify_seconds(a.finsent, with_m, a.model, work, off)
    except subprocess.CalledProcessError:  # a finsent before [classify]
        t_off = None
    n = len(texts)
    print(f"{n} articles of 6 sentences, {n_mentions} mentions; entity sentiments: {parts}")
    print(line("classify without mentions", n, t_without))
    print(line("classify, entity_sentiment = sentences (default)", n, t_with, t_without))
    if t_off:
        print(line(f"classify, entity_sentiment = document {parts_off}", n, t_off, t_without))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
