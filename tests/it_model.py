#!/usr/bin/env python3
"""Integration test of the model commands through ./finsent: a tiny model is
trained in seconds on a separable toy task, then eval, predict and classify
(round trip through the database) are checked; the same seed gives the same
file; missing and corrupt model files exit with status 7 and one clear line."""
import csv
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ.get("FINSENT_BIN", "./finsent")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Report  # noqa: E402

report = Report()

POS = ["soars", "beats estimates", "upgraded to buy", "record profit", "rallies"]
NEG = ["plunges", "misses estimates", "downgraded to sell", "files for bankruptcy", "slumps"]
NEU = ["to report results on tuesday", "schedules annual meeting", "announces conference call"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne"]
# topic ids of the bundled set: 6 Energy | Oil, 1 Fed | Central Banks, 5 Earnings
TOPICS = {6: ["oil", "crude", "opec", "barrel"], 1: ["fed", "powell", "rate hike", "fomc"],
          5: ["earnings", "quarterly results", "eps", "revenue"]}


def run(*args, check=False):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300)
    return p


def write_sets(d, rng):
    sent, topic = [], []
    for _ in range(300):
        c = rng.choice(COMPANIES)
        lab = rng.choice([0, 1, 2])  # bundled ids: 0 Bearish, 1 Bullish, 2 Neutral
        phrase = rng.choice({0: NEG, 1: POS, 2: NEU}[lab])
        sent.append((f"${c[:4].upper()} {c} {phrase}", lab))
    for _ in range(300):
        lab = rng.choice(list(TOPICS))
        w = rng.choice(TOPICS[lab])
        topic.append((f"{rng.choice(COMPANIES)} says {w} outlook changes", lab))
    paths = {}
    for name, rows in [("sent", sent), ("topic", topic)]:
        paths[name] = os.path.join(d, f"{name}.csv")
        with open(paths[name], "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["text", "label"])
            w.writerows(rows)
    return paths


def train(d, paths, out, seed="1", epochs="12", ngram_bits="12"):
    return run("--db", os.path.join(d, "train.db"), "train", "--out", out, "--epochs", epochs,
               "--seed", seed, "--ngram-bits", ngram_bits, "--width", "16", "--layers", "1", "--heads", "2", "--ffn", "32",
               "--vocab", "300", "--max-len", "16", "--batch", "16", "--lr", "3e-3",
               "--device", "cpu", "--sentiment-data", paths["sent"], "--topic-data",
               paths["topic"], "--sentiment-val", paths["sent"], "--topic-val", paths["topic"])


def main():
    d = tempfile.mkdtemp(prefix="finsent-it-model-")
    rng = random.Random(7)
    paths = write_sets(d, rng)
    model = os.path.join(d, "model.safetensors")

    p = train(d, paths, model)
    report(p.returncode == 0 and os.path.exists(model), "train_tiny",
           f"exit {p.returncode}: {p.stderr.strip()[-300:]}")
    if p.returncode != 0:
        return
    report("validation sentiment" in p.stdout, "train_prints_validation", p.stdout[-300:])
    train_out = p.stdout
    # stdout is not a terminal: one progress line per epoch (and per minute), time left
    epoch_lines = [l for l in p.stdout.splitlines() if l.startswith("train: epoch ")]
    report(len(epoch_lines) >= 12 and all(l.endswith("s left") for l in epoch_lines) and
           "train: epoch 12/12," in p.stdout, "train_logs_progress_without_terminal",
           repr(epoch_lines[:3]))

    for task in ["sentiment", "topic"]:
        p = run("eval", "--task", task, "--data", paths["sent" if task == "sentiment" else "topic"],
                "--model", model, "--json")
        try:
            res = json.loads(p.stdout)
            ok = res["n"] == 300 and res["accuracy"] >= 0.9 and "macro_f1" in res
            why = f"accuracy {res['accuracy']:.3f} macro_f1 {res['macro_f1']:.3f}"
        except (ValueError, KeyError) as e:
            ok, why = False, f"exit {p.returncode}, {e}: {p.stdout[:200]} {p.stderr[:200]}"
        report(ok, f"eval_json_{task}_learns_toy_task", why)
    p = run("eval", "--task", "sentiment", "--data", paths["sent"], "--model", model)
    report(p.returncode == 0 and "accuracy" in p.stdout and "confusion" in p.stdout,
           "eval_text_report", p.stdout[:300] + p.stderr[:200])
    report("(n-gram alone)" in p.stdout or "(n-gram alone)" in train_out,
           "train_prints_each_path", train_out[-400:])
    accs = {}
    for part in ["both", "encoder", "ngram"]:
        p = run("eval", "--task", "topic", "--data", paths["topic"], "--model", model, "--json",
                "--parts", part)
        try:
            accs[part] = json.loads(p.stdout)["accuracy"]
        except (ValueError, KeyError):
            accs[part] = None
    report(all(a is not None and a >= 0.9 for a in accs.values()), "eval_parts", str(accs))
    p = run("eval", "--task", "topic", "--data", paths["topic"], "--model", model, "--parts", "x")
    report(p.returncode == 2 and "--parts" in p.stderr, "eval_parts_unknown_exit_2", p.stderr)

    # a model without the n-gram path: loads, evaluates, refuses --parts ngram
    bare = os.path.join(d, "bare.safetensors")
    p = train(d, paths, bare, epochs="2", ngram_bits="0")
    q = run("eval", "--task", "topic", "--data", paths["topic"], "--model", bare, "--json")
    r = run("eval", "--task", "topic", "--data", paths["topic"], "--model", bare, "--parts", "ngram")
    report(p.returncode == 0 and q.returncode == 0 and "n-gram alone" not in p.stdout and
           r.returncode == 2 and "no n-gram path" in r.stderr and
           os.path.getsize(bare) < os.path.getsize(model) / 4, "train_without_ngram_path",
           f"{p.returncode} {q.returncode} {r.returncode} {r.stderr.strip()}")

    p = run("predict", "--json", "--model", model, "$ACME Acme record profit",
            "$HOOL Hooli files for bankruptcy")
    try:
        lines = [json.loads(l) for l in p.stdout.splitlines()]
        ok = (len(lines) == 2 and lines[0]["sentiment"] == "positive" and
              lines[1]["sentiment"] == "negative" and lines[0]["score"] > 0 > lines[1]["score"]
              and isinstance(lines[0]["attended"], list) and len(lines[0]["attended"]) > 0)
        why = json.dumps(lines)[:400]
    except (ValueError, KeyError) as e:
        ok, why = False, f"{e}: {p.stdout[:200]} {p.stderr[:200]}"
    report(ok, "predict_json", why)
    p = run("predict", "--model", model, "Initech misses estimates")
    report(p.returncode == 0 and "sentiment: negative" in p.stdout and "\033[" not in p.stdout,
           "predict_text_no_ansi_when_piped", p.stdout[:300])
    # texts from standard input, one per line: the same JSON lines as from arguments
    args_out = run("predict", "--json", "--model", model, "$ACME Acme record profit",
                            "$HOOL Hooli files for bankruptcy").stdout
    p = subprocess.run([BIN, "predict", "--json", "--model", model], capture_output=True,
                       text=True, timeout=300,
                       input="$ACME Acme record profit\n$HOOL Hooli files for bankruptcy\n")
    report(p.returncode == 0 and p.stdout == args_out and len(p.stdout.splitlines()) == 2,
           "predict_reads_stdin", f"rc {p.returncode} {p.stderr.strip()[:200]} {p.stdout[:300]}")

    # classify: round trip through the database
    db = os.path.join(d, "docs.db")
    p = run("--db", db, "classify", "--model", model)
    report(p.returncode == 0, "classify_empty_db", p.stderr[:200])
    con = sqlite3.connect(db)
    texts = [("Acme soars", "Acme rallies after record profit"),
             (None, "Globex plunges as it misses estimates"),
             ("Hooli says powell outlook changes", "Hooli says fomc outlook changes")]
    for i, (title, text) in enumerate(texts):
        con.execute("INSERT INTO documents (dedupe_hash, title, text, kind, fetched_at) "
                    "VALUES (?, ?, ?, 'article', 0)", (f"h{i}", title, text))
    con.commit()
    p = run("--db", db, "--now", "2026-03-01T12:00:00Z", "classify", "--model", model)
    rows = con.execute("SELECT document_id, model_id, topic, topic_probs, sentiment, "
                       "sentiment_probs, score, attended, classified_at FROM classifications "
                       "ORDER BY document_id").fetchall()
    ev = json.loads(run("eval", "--task", "topic", "--data", paths["topic"], "--model", model,
                        "--json").stdout)
    ok = p.returncode == 0 and len(rows) == 3
    why = f"exit {p.returncode} {p.stderr[:200]} rows {rows}"
    if ok:
        r0, r1, r2 = rows
        ok = (r0[4] == 2 and r1[4] == 0 and r2[2] == 1 and r0[1] == ev["model_id"] and
              all(r[8] == 1772366400 for r in rows) and
              all(-1 <= r[6] <= 1 for r in rows) and
              abs(sum(json.loads(r0[3])) - 1) < 0.01 and len(json.loads(r0[5])) == 3 and
              isinstance(json.loads(r0[7]), list))
    report(ok, "classify_stores_classifications", why[:500])
    p = run("--db", db, "classify", "--model", model)
    n = con.execute("SELECT count(*) FROM classifications").fetchone()[0]
    report(p.returncode == 0 and n == 3 and "classified 0" in p.stdout,
           "classify_second_run_has_nothing_to_do", p.stdout[:200])
    con.close()

    # determinism: same seed -> identical file; another seed -> different weights
    m2, m3 = os.path.join(d, "m2.safetensors"), os.path.join(d, "m3.safetensors")
    train(d, paths, m2, epochs="2")
    train(d, paths, m3, epochs="2")
    m4 = os.path.join(d, "m4.safetensors")
    train(d, paths, m4, seed="2", epochs="2")
    same = open(m2, "rb").read() == open(m3, "rb").read()
    report(same and open(m2, "rb").read() != open(m4, "rb").read(), "same_seed_same_weights")

    # missing and corrupt models: exit 7, one line, says what to do
    p = run("predict", "--model", os.path.join(d, "none.safetensors"), "x")
    report(p.returncode == 7 and "finsent train" in p.stderr and
           len(p.stderr.strip().splitlines()) == 1, "missing_model_exit_7", p.stderr)
    data = open(model, "rb").read()
    bad = os.path.join(d, "bad.safetensors")
    for name, blob in [("truncated", data[:len(data) // 2]),
                       ("random", bytes(random.Random(1).randrange(256) for _ in range(4096))),
                       ("flipped_header_length", bytes([data[0] ^ 0x10]) + data[1:]),
                       ("corrupted_weights", data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])]:
        with open(bad, "wb") as f:
            f.write(blob)
        for cmd in (["predict", "--model", bad, "x"], ["--db", db, "classify", "--model", bad]):
            p = run(*cmd)
            ok = (p.returncode == 7 and len(p.stderr.strip().splitlines()) == 1 and
                  "finsent train" in p.stderr)
            report(ok, f"corrupt_model_{name}_{cmd[0].strip('-')}",
                   f"exit {p.returncode}: {p.stderr.strip()}")
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.exit(report.exit_code())
