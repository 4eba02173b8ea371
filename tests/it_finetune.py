#!/usr/bin/env python3
"""Integration test of fine-tuning through ./finsent, with small checkpoints the
test makes itself (nothing here trains for more than seconds):

- `finsent train --base DIR` fine-tunes a tiny random BERT (made with
  transformers, all-MiniLM-L6-v2's vocabulary) into a model file whose encoder
  keeps the checkpoint's tensor names: transformers' BertModel loaded from that
  file alone (its hf_config metadata and tensors) gives finsent's probabilities
  within 1e-4 (the few lines README.md documents);
- the file records the base's name and the sha256 of its weights, and the
  WordPiece vocabulary;
- a missing base exits 7; architecture options with a base exit 2; with no base
  installed, training falls back to finsent's own encoder with one line;
- long documents are read in windows: a negative paragraph at the end of a long
  article (saved fixture page) moves the document towards negative and names
  its words, wherever in the article the paragraph is.
"""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import torch
from safetensors import safe_open
from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import toyfeeds  # noqa: E402

BIN = os.environ.get("FINSENT_BIN", "./finsent")
MINILM = os.environ.get("FINSENT_MINILM") or os.path.join(
    os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"),
    "finsent/base/sentence-transformers/all-MiniLM-L6-v2")
from fstest import Report  # noqa: E402

report = Report()


def run(*args, env=None, timeout=600):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, env=e)


def make_base(d):
    torch.manual_seed(11)
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=256)
    BertForSequenceClassification(cfg).save_pretrained(d, safe_serialization=True)
    for f in ["vocab.txt", "tokenizer_config.json"]:
        shutil.copy(os.path.join(MINILM, f), d)


def reference_probs(model_path, base_dir, texts):
    """finsent's probabilities from the model file alone, with transformers."""
    with safe_open(model_path, "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    bert = BertModel(BertConfig(**json.loads(meta["hf_config"])), add_pooling_layer=False).eval()
    bert.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("bert.")},
                         strict=False)
    if meta.get("text.urls") == "http":  # URL folding (classify/text_tok.h)
        texts = [re.sub(r"(?<![A-Za-z0-9])(?:https?://|www\.|t\.co/)[!-~]*", "http", s,
                        flags=re.I | re.A) for s in texts]
    tok = BertTokenizerFast.from_pretrained(base_dir)
    enc = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        h = bert(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    pooled = (h * mask).sum(1) / mask.sum(1)  # config "pool": "mean"
    logits = pooled @ tensors["head.weight"].T + tensors["head.bias"]
    return torch.softmax(logits[:, :20], -1), torch.softmax(logits[:, 20:], -1), meta


def test_finetune(d, paths):
    base = os.path.join(d, "tiny-bert")
    make_base(base)
    model = os.path.join(d, "ft.safetensors")
    p = run("--db", os.path.join(d, "t.db"), "train", "--base", base, "--out", model,
            "--epochs", "20", "--lr", "3e-3", "--device", "cpu", "--fold-urls",
            "--sentiment-data", paths["sent"], "--topic-data", paths["topic"])
    report(p.returncode == 0 and "fine-tuning" in p.stdout, "finetune_tiny_base",
           p.stderr[-300:])
    if p.returncode != 0:
        return None
    texts = ["crude oil plunge sharply (story 5)", "federal reserve report released today",
             "apple unveils iphone soar to record", "Retailer files for Chapter 11 protection",
             "$AAPL up (https://t.co/AbC12xYz) via www.example.com/a?b=1 xhttp://no.te"]
    got = [json.loads(line) for line in run("predict", "--json", "--model", model, *texts)
           .stdout.splitlines()]
    tp, sp, meta = reference_probs(model, base, texts)
    worst = 0.0
    for i, g in enumerate(got):
        worst = max(worst, max(abs(a - b) for a, b in zip(g["topic_probs"].values(), tp[i])),
                    max(abs(a - b) for a, b in zip(g["sentiment_probs"].values(), sp[i])))
    report(len(got) == len(texts) and worst <= 1e-4,
           f"transformers reproduces the probabilities from the file (max abs diff {worst:.2e})")
    report(meta.get("text.urls") == "http", "--fold-urls is recorded in the file", str(meta.keys()))
    with safe_open(model, "pt") as f:
        ngram = [k for k in f.keys() if k.startswith("ngram.")]
    report(not ngram and "n-gram path" not in p.stdout,
           "a fine-tuned base has no n-gram path by default", str(ngram))
    sha = hashlib.sha256(open(os.path.join(base, "model.safetensors"), "rb").read()).hexdigest()
    info = json.loads(meta.get("base", "{}"))
    report(info.get("sha256") == sha and info.get("name", "").endswith("tiny-bert") and
           "tokenizer.wordpiece" in meta, "file_records_base_and_vocabulary", str(info))
    acc = json.loads(run("eval", "--task", "sentiment", "--data", paths["sent"], "--model", model,
                         "--json").stdout or "{}").get("accuracy", 0)
    report(acc > 0.9, f"finetuned tiny base learns the toy task (sentiment accuracy {acc:.3f})")
    bad = os.path.join(d, "bad.safetensors")
    data = open(model, "rb").read()
    open(bad, "wb").write(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    p = run("predict", "--model", bad, "x")
    report(p.returncode == 7 and len(p.stderr.strip().splitlines()) == 1,
           "corrupt_finetuned_model_exit_7", p.stderr.strip())
    return model


def test_base_errors(d, paths):
    common = ["--sentiment-data", paths["sent"], "--topic-data", paths["topic"], "--out",
              os.path.join(d, "x.safetensors")]
    p = run("train", "--base", os.path.join(d, "no-such-base"), *common)
    report(p.returncode == 7 and len(p.stderr.strip().splitlines()) == 1, "missing_base_exit_7",
           p.stderr.strip())
    p = run("train", "--base", MINILM, "--width", "16", *common)
    report(p.returncode == 2 and "--base none" in p.stderr, "architecture_with_base_exit_2",
           p.stderr.strip())
    empty = os.path.join(d, "empty-xdg")
    os.makedirs(empty, exist_ok=True)
    p = run("train", "--max-examples", "60", "--epochs", "1", "--ngram-bits", "0",
            "--max-len", "16", *common, env={"XDG_DATA_HOME": empty, "XDG_CONFIG_HOME": empty})
    report(p.returncode == 0 and p.stdout.count("no base model installed") == 1 and
           "from scratch" in p.stdout, "no_base_falls_back_to_scratch", p.stdout[:300] + p.stderr)


NEGATIVE = ("Separately, crude oil plunge sharply and crash amid fears; brent crude tumble on "
            "losses, shale drillers sink after warning and opec output collapse on weak demand.")


def article_words():
    with open("tests/fixtures/pages/bloomberg_jobs_states.html", encoding="utf-8",
              errors="replace") as f:
        html = f.read()
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    words = re.sub(r"<[^>]+>|&[a-z#0-9]+;", " ", text).split()
    return [w for w in words if w.isascii()][:700]


def test_long_documents(d, model):
    """model: the fine-tuned tiny base (windows of 256 WordPiece tokens)."""
    words = article_words()
    body = " ".join(words)
    docs = {"plain": body, "negative_at_end": body + " " + NEGATIVE,
            "negative_at_start": NEGATIVE + " " + body,
            "first_window_only": body + " " + NEGATIVE,
            "negative_heavy_end": " ".join(words[:300]) + (" " + NEGATIVE) * 4}
    db = os.path.join(d, "docs.db")
    run("--db", db, "classify", "--model", model)  # creates the schema
    con = sqlite3.connect(db)
    for i, (name, text) in enumerate(docs.items()):
        title = "Jobs report by state"
        if name == "first_window_only":  # what reading only the first window would see
            text = " ".join(words[:30])
        con.execute("INSERT INTO documents (dedupe_hash, title, text, kind, fetched_at) "
                    "VALUES (?, ?, ?, 'article', 0)", (f"h{i}", title, text))
    con.commit()
    p = run("--db", db, "classify", "--model", model)
    rows = con.execute("SELECT d.dedupe_hash, c.sentiment_probs, c.attended FROM documents d "
                       "JOIN classifications c ON c.document_id = d.id ORDER BY d.id").fetchall()
    con.close()
    neg = {name: json.loads(r[1])[0] for name, r in zip(docs, rows)}
    att = {name: json.loads(r[2]) for name, r in zip(docs, rows)}
    print(f"  p(negative): {', '.join(f'{k} {v:.3f}' for k, v in neg.items())}")
    print(f"  attended (negative at end): {att.get('negative_at_end')}")
    ok = len(rows) == 5 and neg["negative_at_end"] > neg["plain"] + 0.1
    report(ok, "long_document: a negative paragraph at the end changes the result", str(neg))
    # the attended words are those of a window that decides the sentiment: one
    # near the negative end, not one of the neutral first windows (which words
    # a tiny model attends to inside that window is its own affair)
    later = set(words[150:300]) | set(NEGATIVE.split()) | {"Jobs", "report", "by", "state"}
    first_only = set(words[:150]) - later
    heavy = att.get("negative_heavy_end", [])
    report(len(rows) == 5 and neg["negative_heavy_end"] > 0.5 and heavy and
           not any(w in first_only for w in heavy) and all(w in later for w in heavy),
           "long_document: a document turned negative by its end names that part's words",
           f"{neg.get('negative_heavy_end')} {heavy}")
    report(len(rows) == 5 and abs(neg["negative_at_end"] - neg["negative_at_start"]) < 0.1,
           "long_document: where the paragraph stands hardly matters", str(neg))


def main():
    d = tempfile.mkdtemp(prefix="finsent-finetune-")
    # nothing here may touch the user's own config, model or database
    os.environ["XDG_DATA_HOME"] = os.path.join(d, "xdg-data")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(d, "xdg-config")
    try:
        paths = {"topic": os.path.join(d, "topic.csv"), "sent": os.path.join(d, "sent.csv")}
        toyfeeds.make_training_csvs(paths["topic"], paths["sent"], n=400)
        if not os.path.isfile(os.path.join(MINILM, "vocab.txt")):
            report(False, "finetune", f"no base at {MINILM} (run make base-model)")
        else:
            model = test_finetune(d, paths)
            test_base_errors(d, paths)
            if model:
                test_long_documents(d, model)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
