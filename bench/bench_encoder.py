#!/usr/bin/env python3
"""bench_encoder.py — forward throughput of all-MiniLM-L6-v2 sentence embeddings:
finsent's own C encoder beside PyTorch transformers and ONNX Runtime (prints, never
asserts).

All three embed the 6,505 bundled validation texts (data/twitter_financial_news_
{sentiment,topic}/validation.csv, column text, newlines made spaces) with max length
128 on the same CPU threads (os.cpu_count()), in the same batches: texts sorted by
token count (then input order), each batch as many as fit 4,096 tokens (rows x the
batch's longest) and at most 512 rows, as classify/parallel.c plans them. Each gives
mean-pooled, L2-normalised embeddings; the script prints how far each is from torch's,
so the race is known to be a fair one.

  finsent   FINSENT embed --base DIR --json --max-len 128 --device cpu < texts,
            timed whole (process start, model load, tokenising, batches on one
            thread per core, JSON out); its load is the same command on one text,
            and "encode" = whole - load. Again under OPENBLAS_CORETYPE=Prescott
            (the kernel OpenBLAS falls back to on a CPU it does not know) unless
            the environment already sets OPENBLAS_CORETYPE, which is left alone.
  torch     BertModel (no pooler) + BertTokenizerFast from DIR, eval, no_grad,
            torch.set_num_threads(cores); tokenising timed with the batches.
  onnxrt    the model exported once by torch.onnx.export (opset 14, dynamic batch
            and sequence axes; timed apart, not counted) into a temporary
            directory with the fast tokenizer's tokenizer.json; InferenceSession
            with intra_op = cores, inter_op = 1, ORT_ENABLE_ALL; the same
            tokeniser (the 'tokenizers' library alone: no torch in the process).

torch and onnxrt each live in a child process of this script (--mode) that loads
once, then makes a pass over the texts whenever told to; finsent is a new process
per pass. The passes go in rounds (finsent, Prescott, torch, onnxrt; the next round
in reverse order) so that a machine shared with other work slows each engine alike;
each engine's best pass counts. Peak RSS is each process's own, read the same way
for all (os.wait4's rusage). "incl. load" is one process doing one pass: finsent's
best whole run; a child's start-to-ready time plus its best pass (a first pass in
a process costs these engines little more than a later one).

The machine's load average is printed; "cores" (CPU seconds / wall seconds of a
pass) shows how much of the machine an engine got, and "cpu ms" per text is the
figure least moved by other work (though ORT's and OpenBLAS's spinning threads add
to theirs).

  bench/bench_encoder.py [--base DIR] [--finsent PATH] [--passes N] [--max-len N]
                         [--every N]   (every Nth text: a quick look)

Needs the reference environment (.venv: transformers, torch, onnxruntime; made by
'make deps') and re-executes itself there when started by another python; needs
the base (make base-model) and a built finsent (default: $B/finsent, else
./finsent). torch.onnx.export in torch 1.13 writes the model without the 'onnx'
package.
"""
import argparse
import csv
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VENV = os.path.join(ROOT, ".venv")
BASE_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DATA = ["data/twitter_financial_news_sentiment/validation.csv",
        "data/twitter_financial_news_topic/validation.csv"]
BATCH_TOKENS = 4096  # classify/sentence.c SENT_BATCH_TOKENS
BATCH_ROWS = 512  # classify/parallel.c batch_rows()
PARITY_TOL = 1e-4
NEEDS = ("numpy", "torch", "transformers", "tokenizers", "onnxruntime")


def into_venv():
    """Re-executes under .venv's python when a needed package is missing here."""
    if all(importlib.util.find_spec(m) for m in NEEDS):
        return
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV) and os.access(py, os.X_OK):
        os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])
    missing = [m for m in NEEDS if not importlib.util.find_spec(m)]
    print(f"bench_encoder: {', '.join(missing)} missing in {sys.executable} and no "
          f"{py} (make deps); nothing measured")
    sys.exit(0)


def default_base():
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    return os.path.join(data, "finsent", "base", BASE_NAME)


def default_finsent():
    b = os.path.join(ROOT, os.environ.get("B", "build"), "finsent")
    return b if os.access(b, os.X_OK) else os.path.join(ROOT, "finsent")


def load_texts():
    texts = []
    for rel in DATA:
        with open(os.path.join(ROOT, rel), newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                texts.append(" ".join(row["text"].replace("\r", "\n").split("\n")))
    return texts


def plan_batches(lens, budget=BATCH_TOKENS, max_rows=BATCH_ROWS):
    """Lists of text indices, as len_batches_make() in classify/parallel.c plans them."""
    order = sorted(range(len(lens)), key=lambda i: (lens[i], i))
    batches, at = [], 0
    while at < len(order):
        k = 0
        while at + k < len(order) and k < max_rows:
            if (k + 1) * lens[order[at + k]] > budget and k > 0:
                break
            k += 1
        batches.append(order[at:at + k])
        at += k
    return batches


def padded(ids, rows):
    """The batch's ids and attention mask, [B, T] int64, T its longest row."""
    import numpy as np
    T = len(ids[rows[-1]])
    x = np.zeros((len(rows), T), dtype=np.int64)
    mask = np.zeros((len(rows), T), dtype=np.int64)
    for r, i in enumerate(rows):
        x[r, :len(ids[i])] = ids[i]
        mask[r, :len(ids[i])] = 1
    return x, mask


# ---- children: one engine each, in its own process -----------------------------------


def child_export(a):
    """Writes a.onnx and tokenizer.json beside it (the fast tokenizer's own pipeline)."""
    import torch
    from transformers import BertModel, BertTokenizerFast
    BertTokenizerFast.from_pretrained(a.base).backend_tokenizer.save(
        os.path.join(os.path.dirname(a.onnx), "tokenizer.json"))
    model = BertModel.from_pretrained(a.base, add_pooling_layer=False).eval()
    x = torch.ones(2, 16, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    t = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(model, (x, x, torch.zeros_like(x)), a.onnx, input_names=names,
                          output_names=["last_hidden_state"], opset_version=14,
                          do_constant_folding=True,
                          dynamic_axes={n: {0: "batch", 1: "seq"}
                                        for n in names + ["last_hidden_state"]})
    return {"export_s": time.perf_counter() - t, "onnx_mib": os.path.getsize(a.onnx) / 2**20}


def torch_encoder(a, cores):
    """Returns (texts -> ids, run(x, mask) -> float32 [B, C] pooled and normalised)."""
    import torch
    from transformers import BertModel, BertTokenizerFast
    torch.set_num_threads(cores)
    tok = BertTokenizerFast.from_pretrained(a.base)
    model = BertModel.from_pretrained(a.base, add_pooling_layer=False).eval()

    def encode(texts):
        return tok(texts, truncation=True, max_length=a.max_len, return_attention_mask=False,
                   return_token_type_ids=False)["input_ids"]

    def run(x, mask):
        with torch.no_grad():
            m = torch.from_numpy(mask)
            h = model(input_ids=torch.from_numpy(x), attention_mask=m,
                      token_type_ids=torch.zeros_like(m)).last_hidden_state
            m = m.unsqueeze(-1).to(h.dtype)
            e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(e, p=2, dim=1).numpy()
    return encode, run


def ort_encoder(a, cores):
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(os.path.dirname(a.onnx), "tokenizer.json"))
    tok.enable_truncation(max_length=a.max_len)
    tok.no_padding()
    so = ort.SessionOptions()
    so.intra_op_num_threads = cores
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(a.onnx, so, providers=["CPUExecutionProvider"])

    def encode(texts):
        return [e.ids for e in tok.encode_batch(texts)]

    def run(x, mask):
        h = sess.run(["last_hidden_state"], {"input_ids": x, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(x)})[0]
        m = mask[:, :, None].astype(np.float32)
        e = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    return encode, run


def one_pass(texts, encode, run):
    import numpy as np
    t, c = time.perf_counter(), time.process_time()
    ids = encode(texts)
    tok_s = time.perf_counter() - t
    batches = plan_batches([len(i) for i in ids])
    out = None
    for rows in batches:
        e = run(*padded(ids, rows))
        if out is None:
            out = np.zeros((len(texts), e.shape[1]), dtype=np.float32)
        out[rows] = e
    return out, {"s": time.perf_counter() - t, "cpu_s": time.process_time() - c, "tok_s": tok_s,
                 "batches": len(batches), "tokens": sum(len(i) for i in ids),
                 "padded": sum(len(r) * len(ids[r[-1]]) for r in batches)}


def child_main(a):
    """export: writes the model and exits. torch, ort: loads, says ready, then makes a
    pass over a.texts for every 'pass' line on stdin; at EOF saves the last pass's
    embeddings to a.out."""
    if a.mode == "export":
        print(json.dumps(child_export(a)))
        return
    import numpy as np
    t0 = time.perf_counter()
    cores = os.cpu_count() or 1
    encode, run = (torch_encoder if a.mode == "torch" else ort_encoder)(a, cores)
    with open(a.texts, encoding="utf-8") as f:
        texts = f.read().split("\n")[:-1]
    print(json.dumps({"load_s": time.perf_counter() - t0,
                      "torch_imported": "torch" in sys.modules}), flush=True)
    out = None
    for line in sys.stdin:
        if line.strip() == "pass":
            out, r = one_pass(texts, encode, run)
            print(json.dumps(r), flush=True)
    if out is not None:
        np.save(a.out, out)


# ---- the parent: runs and reads every engine ------------------------------------------


def rusage_wait(p):
    """Waits for p; returns (CPU s, peak RSS MiB) of that process alone."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def run_measured(cmd, stdin_path, stdout_path, env=None):
    """Runs cmd; returns (exit code, wall s, cpu s, peak RSS MiB, stderr text)."""
    with open(stdin_path, "rb") as fi, open(stdout_path, "wb") as fo, \
            tempfile.TemporaryFile() as fe:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=fi, stdout=fo, stderr=fe, env=env, cwd=ROOT)
        cpu, rss = rusage_wait(p)
        wall = time.perf_counter() - t
        fe.seek(0)
        err = fe.read().decode("utf-8", "replace")
    return p.returncode, wall, cpu, rss, err


def fail(what, rc, err):
    tail = err.strip().splitlines()[-3:]
    raise SystemExit(f"bench_encoder: {what} failed (exit {rc}): {' | '.join(tail)}")


class Finsent:
    """`finsent embed` as a new process per pass, with or without an environment."""

    def __init__(self, a, tmp, texts_path, label, env=None):
        self.a, self.texts_path, self.label, self.env = a, texts_path, label, env
        self.cmd = [a.finsent, "embed", "--base", a.base, "--json", "--max-len",
                    str(a.max_len), "--device", "cpu"]
        self.one = os.path.join(tmp, "one.txt")
        with open(self.one, "w", encoding="utf-8") as f:
            f.write("Stocks rally as the Fed holds rates\n")
        self.out = os.path.join(tmp, ("prescott" if env else "finsent") + ".jsonl")
        self.full, self.load, self.rss = [], [], 0.0
        r = subprocess.run([a.finsent, "--verbose", "embed", "--base", a.base, "--device", "cpu",
                            "x"], env=env, capture_output=True, text=True)
        self.kernel = next((ln.split("blas: ", 1)[1] for ln in r.stderr.splitlines()
                            if "blas: " in ln), "kernel not reported")

    def one_pass(self):
        rc, wall, cpu, _, err = run_measured(self.cmd, self.one, os.devnull, self.env)
        if rc:
            fail(f"{self.label} (one text)", rc, err)
        self.load.append((wall, cpu))
        rc, wall, cpu, rss, err = run_measured(self.cmd, self.texts_path, self.out, self.env)
        if rc:
            fail(self.label, rc, err)
        self.full.append((wall, cpu))
        self.rss = max(self.rss, rss)

    def result(self):
        import numpy as np
        with open(self.out, encoding="utf-8") as f:
            emb = np.asarray([json.loads(line)["embedding"] for line in f], dtype=np.float32)
        w, c = min(self.full)
        lw, lc = min(self.load)
        return {"engine": self.label, "enc_s": w - lw, "e2e_s": w, "load_s": lw,
                "cores": (c - lc) / max(w - lw, 1e-9), "rss": self.rss,
                "all_s": [x[0] for x in self.full]}, emb


class Child:
    """A torch or onnxrt child (child_main): started, loaded, then told pass by pass."""

    def __init__(self, a, tmp, texts_path, mode, label, onnx=None):
        self.label, self.npy = label, os.path.join(tmp, mode + ".npy")
        cmd = [sys.executable, os.path.abspath(__file__), "--mode", mode, "--base", a.base,
               "--texts", texts_path, "--out", self.npy, "--max-len", str(a.max_len)]
        cmd += ["--onnx", onnx] if onnx else []
        self.err = tempfile.TemporaryFile()
        t = time.perf_counter()
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, text=True, cwd=ROOT,
                                  env=dict(os.environ, TRANSFORMERS_VERBOSITY="error"))
        self.info = self.reply("load")
        self.ready_s = time.perf_counter() - t
        self.passes = []

    def reply(self, what):
        line = self.p.stdout.readline()
        if not line:
            self.p.wait()
            self.err.seek(0)
            fail(f"{self.label} ({what})", self.p.returncode,
                 self.err.read().decode("utf-8", "replace"))
        return json.loads(line)

    def one_pass(self):
        self.p.stdin.write("pass\n")
        self.p.stdin.flush()
        self.passes.append(self.reply("pass"))

    def result(self):
        import numpy as np
        self.p.stdin.close()
        self.p.stdout.read()
        _, rss = rusage_wait(self.p)
        if self.p.returncode:
            self.err.seek(0)
            fail(self.label, self.p.returncode, self.err.read().decode("utf-8", "replace"))
        best = min(self.passes, key=lambda p: p["s"])
        return dict(best, engine=self.label, enc_s=best["s"],
                    e2e_s=self.ready_s + best["s"], load_s=self.ready_s,
                    cores=best["cpu_s"] / best["s"], rss=rss,
                    all_s=[p["s"] for p in self.passes],
                    torch_imported=self.info["torch_imported"]), np.load(self.npy)


def export_onnx(a, tmp):
    path = os.path.join(tmp, "minilm.onnx")
    cmd = [sys.executable, os.path.abspath(__file__), "--mode", "export", "--base", a.base,
           "--onnx", path]
    res = os.path.join(tmp, "export.json")
    env = dict(os.environ, TRANSFORMERS_VERBOSITY="error")
    rc, wall, _, _, err = run_measured(cmd, os.devnull, res, env)
    if rc:
        fail("torch.onnx.export", rc, err)
    with open(res, encoding="utf-8") as f:
        r = json.load(f)
    r["wall_s"] = wall
    return path, r


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def git_state():
    def git(*args):
        r = subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else ""
    head = git("rev-parse", "--short", "HEAD") or "?"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "classify", "common",
                "cli")
    return head + (" + uncommitted changes in classify/, common/ or cli/" if dirty else "")


def load_line():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def secs(xs):
    return ", ".join("%.2f" % s for s in xs)


def print_table(rows, n):
    ref = rows[0]
    print(f"  {'engine':<20} {'texts/s':>7} {'ms/text':>7} {'cores':>5} {'cpu ms':>6} "
          f"{'incl.load':>9} {'load s':>6} {'RSS MiB':>7}   finsent/this: wall   cpu  load")
    for r in rows:
        cpu = r["enc_s"] * r["cores"]
        ratio = "" if r is ref else "%19.2fx %4.2fx %4.2fx" % (
            r["enc_s"] / ref["enc_s"], cpu / (ref["enc_s"] * ref["cores"]),
            r["e2e_s"] / ref["e2e_s"])
        print(f"  {r['engine']:<20} {n / r['enc_s']:7.0f} {1e3 * r['enc_s'] / n:7.2f} "
              f"{r['cores']:5.2f} {1e3 * cpu / n:6.2f} {n / r['e2e_s']:9.0f} {r['load_s']:6.2f} "
              f"{r['rss']:7.0f} {ratio}")
    print("  texts/s, ms/text: encode only (tokenising, batches, pooling; finsent also its "
          "JSON out), best pass;\n"
          "  cores: CPU s / wall s of that pass (%d = the machine to itself); cpu ms: CPU "
          "time per text;\n"
          "  incl.load: texts/s of one whole process doing one pass; finsent/this: finsent's "
          "speed over\n"
          "  this engine's by encode wall time, encode CPU time, whole process (>1: finsent "
          "faster)" % (os.cpu_count() or 1))


def parent_main(a):
    import numpy as np
    if not os.path.isfile(os.path.join(a.base, "model.safetensors")):
        print(f"bench_encoder: no base at {a.base} (make base-model); nothing measured")
        return
    if not os.access(a.finsent, os.X_OK):
        print(f"bench_encoder: no finsent binary at {a.finsent} (make); nothing measured")
        return
    texts = load_texts()[::a.every]
    n = len(texts)
    preset = os.environ.get("OPENBLAS_CORETYPE")
    print(f"{n} texts, max length {a.max_len}, batches <= {BATCH_TOKENS} tokens, "
          f"{os.cpu_count()} cores ({cpu_name()}), best of {a.passes} rounds; "
          f"{load_line()} at start")
    with tempfile.TemporaryDirectory(prefix="bench_encoder.") as tmp:
        texts_path = os.path.join(tmp, "texts.txt")
        with open(texts_path, "w", encoding="utf-8") as f:
            f.writelines(t + "\n" for t in texts)
        engines = [Finsent(a, tmp, texts_path, "finsent")]
        if not preset:
            engines.append(Finsent(a, tmp, texts_path, "finsent (Prescott)",
                                   dict(os.environ, OPENBLAS_CORETYPE="Prescott")))
        onnx, ex = export_onnx(a, tmp)
        engines.append(Child(a, tmp, texts_path, "torch", "torch (transformers)"))
        engines.append(Child(a, tmp, texts_path, "ort", "onnxruntime", onnx))
        for r in range(a.passes):
            for e in engines if r % 2 == 0 else engines[::-1]:
                e.one_pass()
        results = [e.result() for e in engines]
        fin, tor, onx = engines[0], engines[-2], engines[-1]
    rows = [r for r, _ in results]
    emb = {r["engine"]: e for r, e in results}
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(a.finsent)))
    print(f"{load_line()} at end; the finsent binary was built {built}, the tree is now at "
          f"{git_state()}")
    print(f"finsent: {' '.join(fin.cmd)} < texts\n  whole runs {secs(rows[0]['all_s'])} s, "
          f"one-text runs {secs(x[0] for x in fin.load)} s; {fin.kernel}")
    if preset:
        print(f"  OPENBLAS_CORETYPE={preset} is set in this environment: left as is, no "
              f"Prescott run")
    else:
        print(f"  Prescott runs {secs(rows[1]['all_s'])} s; {engines[1].kernel}")
    t, o = rows[-2], rows[-1]
    print(f"torch: passes {secs(t['all_s'])} s; {t['tokens']} tokens ({t['padded']} padded) in "
          f"{t['batches']} batches; tokenising {1e3 * t['tok_s']:.0f} ms of the best pass")
    print(f"onnxruntime: export {ex['export_s']:.1f} s once ({ex['onnx_mib']:.0f} MiB, opset "
          f"14; not counted); passes {secs(o['all_s'])} s; {o['tokens']} tokens; tokenising "
          f"{1e3 * o['tok_s']:.0f} ms; torch in its process: "
          f"{'yes' if o['torch_imported'] else 'no'}")
    print_table(rows, n)
    ref = emb[t["engine"]]
    print(f"parity vs torch, largest |difference| of an embedding component "
          f"(tolerance {PARITY_TOL:g}):")
    for name, e in emb.items():
        if e is ref:
            continue
        same = e.shape == ref.shape
        d = float(np.abs(e - ref).max()) if same else float("inf")
        cos = float((e * ref).sum(1).min()) if same else 0.0
        print(f"  {name:<20} {d:.2e}  lowest cosine {cos:.7f}  "
              f"{'ok' if d < PARITY_TOL else 'DIFFERENT'}")


def main():
    into_venv()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default=default_base())
    p.add_argument("--finsent", default=default_finsent())
    p.add_argument("--passes", type=int, default=2, help="rounds; the best pass counts")
    p.add_argument("--max-len", type=int, default=128)
    p.add_argument("--every", type=int, default=1,
                   help="every Nth text only (a quick look; the figures are for 1)")
    p.add_argument("--mode", choices=["export", "torch", "ort"], help=argparse.SUPPRESS)
    p.add_argument("--texts", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--onnx", help=argparse.SUPPRESS)
    a = p.parse_args()
    a.passes = max(a.passes, 1)
    a.every = max(a.every, 1)
    if a.mode:
        child_main(a)
    else:
        a.finsent = os.path.abspath(a.finsent)
        parent_main(a)


if __name__ == "__main__":
    main()
