#!/usr/bin/env python3
"""Integration test of `finsent embed` against Hugging Face transformers on the
real all-MiniLM-L6-v2 base (installed by `make base-model`):

- last hidden states of every token of a few hundred real texts (bundled
  validation sets and long crawled paragraphs) within 1e-4 (max abs);
- sentence embeddings (mean over the attention mask, L2-normalised, as
  sentence-transformers computes them) within 1e-5, and the batched path equal
  to the one-text path;
- a random BERT of another shape (BertForSequenceClassification: "bert."
  prefix, pooler, classifier) through the same command;
- broken bases (missing, another model_type, truncated weights, no vocabulary)
  exit with status 7 and one line.
Needs transformers (the .venv of `make deps`); a missing base or package fails.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

BIN = os.environ.get("FINSENT_BIN", "./finsent")
BASE = os.environ.get("FINSENT_MINILM") or os.path.join(
    os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"),
    "finsent/base/sentence-transformers/all-MiniLM-L6-v2")
MAX_LEN = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Report  # noqa: E402

report = Report()


def texts_for_test():
    out = []
    for task, n in [("sentiment", 120), ("topic", 120)]:
        path = f"data/twitter_financial_news_{task}/validation.csv"
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        out += [" ".join(r["text"].split()) for r in rows[:n]]
    # long texts: paragraphs of the saved article pages, joined past 256 tokens
    pages = "tests/fixtures/pages"
    long_text = []
    for name in sorted(os.listdir(pages))[:6]:
        with open(os.path.join(pages, name), encoding="utf-8", errors="replace") as f:
            words = f.read().split()
        long_text.append(" ".join(words[200:600]))
    return out + long_text


def run_embed(base, texts, *opts):
    p = subprocess.run([BIN, "embed", "--base", base, *opts], input="\n".join(texts) + "\n",
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"finsent embed exited {p.returncode}: {p.stderr.strip()}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def reference(base, texts, max_len):
    tok = BertTokenizerFast.from_pretrained(base)
    model = BertModel.from_pretrained(base, add_pooling_layer=False).eval()
    enc = tok(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    with torch.no_grad():
        states = []
        for i in range(0, len(texts), 32):
            states.append(model(input_ids=enc["input_ids"][i:i + 32],
                                attention_mask=enc["attention_mask"][i:i + 32]).last_hidden_state)
    h = torch.cat(states)
    mask = enc["attention_mask"].unsqueeze(-1).float()
    emb = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    emb = torch.nn.functional.normalize(emb, p=2, dim=1)
    return enc, h, emb


def compare(label, base, texts, max_len):
    got = run_embed(base, texts, "--tokens", "--max-len", str(max_len))
    enc, h, emb = reference(base, texts, max_len)
    ids_ok = worst_h = worst_e = 0.0
    n_tok = 0
    for i, g in enumerate(got):
        n = int(enc["attention_mask"][i].sum())
        ref_ids = enc["input_ids"][i][:n].tolist()
        ids_ok += g["ids"] == ref_ids
        if g["ids"] != ref_ids:
            continue
        s = torch.tensor(g["states"])
        worst_h = max(worst_h, (s - h[i, :n]).abs().max().item())
        worst_e = max(worst_e, (torch.tensor(g["embedding"]) - emb[i]).abs().max().item())
        n_tok += n
    report(ids_ok == len(texts), f"{label}:token ids",
           f"{int(ids_ok)}/{len(texts)} texts identical")
    report(worst_h <= 1e-4, f"{label}:hidden states of {n_tok} tokens in {len(texts)} texts "
           f"(max abs diff {worst_h:.2e})", "over 1e-4")
    report(worst_e <= 1e-5, f"{label}:sentence embeddings (max abs diff {worst_e:.2e})",
           "over 1e-5")
    return got


def test_minilm():
    if not os.path.isfile(os.path.join(BASE, "model.safetensors")):
        report(False, "minilm", f"no base at {BASE} (run make base-model)")
        return
    texts = texts_for_test()
    one = compare("minilm", BASE, texts, MAX_LEN)
    batched = run_embed(BASE, texts, "--json", "--max-len", str(MAX_LEN))
    worst = max(max(abs(a - b) for a, b in zip(x["embedding"], y["embedding"]))
                for x, y in zip(one, batched))
    report(worst <= 1e-5 and [b["text"] for b in batched] == texts,
           f"minilm:batched embeddings equal one-by-one (max abs diff {worst:.2e})")
    # the default length comes from sentence_bert_config.json when the base has one
    plain = subprocess.run([BIN, "embed", "--base", BASE, "Bond yields rise"],
                           capture_output=True, text=True, timeout=120)
    report(plain.returncode == 0 and len(plain.stdout.split()) == 384, "minilm:plain output",
           plain.stderr.strip())
    # bytes that are not UTF-8 on stdin: one JSON line each, the text repaired
    for opt in ("--json", "--tokens"):
        p = subprocess.run([BIN, "embed", "--base", BASE, opt], input=b"\xff\xfe bad\nok\n",
                           capture_output=True, timeout=120)
        lines = p.stdout.decode("utf-8").splitlines() if p.returncode == 0 else []
        report(len(lines) == 2 and json.loads(lines[0])["text"] == "\ufffd\ufffd bad",
               f"minilm:invalid UTF-8 on stdin ({opt})", f"status {p.returncode} {p.stderr[-200:]}")


def test_random_prefixed(tmp):
    torch.manual_seed(3)
    cfg = BertConfig(vocab_size=30522, hidden_size=40, num_hidden_layers=3, num_attention_heads=5,
                     intermediate_size=72, max_position_embeddings=64, num_labels=3)
    m = BertForSequenceClassification(cfg).eval()
    d = os.path.join(tmp, "random-bert")
    m.save_pretrained(d, safe_serialization=True)
    for f in ["vocab.txt", "tokenizer_config.json"]:
        shutil.copy(os.path.join(BASE, f), d)
    compare("random-bert", d, texts_for_test()[:40], 64)


def broken_base(tmp, name, mutate):
    d = os.path.join(tmp, name)
    shutil.copytree(BASE, d)
    mutate(d)
    p = subprocess.run([BIN, "embed", "--base", d, "text"], capture_output=True, text=True,
                       timeout=120)
    lines = p.stderr.strip().splitlines()
    report(p.returncode == 7 and len(lines) == 1, f"broken:{name} exits 7 with one line",
           f"status {p.returncode}, stderr {p.stderr!r}")
    print(f"  {name}: {lines[0] if lines else ''}")


def set_model_type(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    cfg["model_type"] = "roberta"
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)


def truncate_weights(d):
    p = os.path.join(d, "model.safetensors")
    with open(p, "r+b") as f:
        f.truncate(os.path.getsize(p) // 2)


def test_broken(tmp):
    p = subprocess.run([BIN, "embed", "--base", "no-such/model", "x"], capture_output=True,
                       text=True, timeout=60)
    report(p.returncode == 7 and "not installed" in p.stderr, "broken:missing base exits 7",
           p.stderr.strip())
    broken_base(tmp, "model-type", set_model_type)
    broken_base(tmp, "truncated", truncate_weights)
    broken_base(tmp, "no-vocab", lambda d: os.remove(os.path.join(d, "vocab.txt")))


def main():
    tmp = tempfile.mkdtemp(prefix="finsent-embed-")
    try:
        test_minilm()
        if os.path.isdir(BASE):
            test_random_prefixed(tmp)
            test_broken(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
