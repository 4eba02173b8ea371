#!/usr/bin/python3
"""finsent's encoder rebuilt from torch.nn primitives, to check the C model.

  torch_parity.py DIR
      DIR holds model.safetensors (weights + config), batch.safetensors (ids,
      lengths, task, label as F32) and c_out.safetensors (the C model's logits,
      loss and gradients "grad.<name>"). Loads the same weights into the torch
      model, runs the same batch (padding masks, dropout off) and compares:
      logits max abs diff <= 1e-4, every gradient relative diff <= 1e-3.
      Prints PASS/FAIL lines; exit 0 pass, 1 fail, 77 torch missing.

  torch_parity.py --bench MODEL IDS [--threads N]
      Inference throughput of the torch model with MODEL's weights on the token
      ids in IDS (ids, lengths), in the same length-bucketed batches finsent
      uses. Prints one line: "torch docs/s X".

Weights are read with numpy from the safetensors layout (8-byte header length,
JSON header, raw little-endian F32), no safetensors package needed.
"""
import json
import math
import struct
import sys
import time

try:
    import numpy as np
except ImportError:  # checked again in main: SKIP
    np = None


def load_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = buf[8 + n:]
    out = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", name
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"]).copy()
    return out, meta


def build(torch, weights, cfg):
    """A torch module equal to classify/model.c, from nn primitives."""
    nn = torch.nn
    F = torch.nn.functional
    C, H, L = cfg["width"], cfg["heads"], cfg["layers"]
    D = C // H
    attention_pool = cfg["pool"] == "attention"

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(C, eps=1e-5)
            self.qkv = nn.Linear(C, 3 * C)
            self.out = nn.Linear(C, C)
            self.ln2 = nn.LayerNorm(C, eps=1e-5)
            self.ffn_in = nn.Linear(C, cfg["ffn"])
            self.ffn_out = nn.Linear(cfg["ffn"], C)
            self.gelu = nn.GELU()

        def forward(self, x, key_mask, query_mask):
            B, T, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q = q.view(B, T, H, D).transpose(1, 2)
            k = k.view(B, T, H, D).transpose(1, 2)
            v = v.view(B, T, H, D).transpose(1, 2)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
            s = s.masked_fill(~key_mask[:, None, None, :], float("-inf"))
            att = torch.softmax(s, dim=-1) * query_mask[:, None, :, None]
            y = (att @ v).transpose(1, 2).reshape(B, T, C)
            x = x + self.out(y)
            return x + self.ffn_out(self.gelu(self.ffn_in(self.ln2(x))))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(cfg["vocab"], C)
            self.pos = nn.Embedding(cfg["max_len"], C)
            self.blocks = nn.ModuleList([Block() for _ in range(L)])
            self.lnf = nn.LayerNorm(C, eps=1e-5)
            if attention_pool:
                self.pool_q = nn.Parameter(torch.zeros(C))
            self.head = nn.Linear(C, weights["head.weight"].shape[0])

        def forward(self, ids, lengths):
            B, T = ids.shape
            pos = torch.arange(T)
            mask = pos[None, :] < lengths[:, None]
            maskf = mask.float()
            x = self.tok(ids) + self.pos(pos)[None]
            for blk in self.blocks:
                x = blk(x, mask, maskf)
            x = self.lnf(x)
            if attention_pool:
                s = (x @ self.pool_q).masked_fill(~mask, float("-inf"))
                w = torch.softmax(s, dim=1)
                pooled = (w[:, :, None] * x).sum(1)
            else:
                pooled = x[:, 0]
            return self.head(pooled)

    m = Encoder()
    names = {"embed.tokens": m.tok.weight, "embed.positions": m.pos.weight,
             "final_ln.weight": m.lnf.weight, "final_ln.bias": m.lnf.bias,
             "head.weight": m.head.weight, "head.bias": m.head.bias}
    if attention_pool:
        names["pool.query"] = m.pool_q
    for l, blk in enumerate(m.blocks):
        for ours, p in [("ln1.weight", blk.ln1.weight), ("ln1.bias", blk.ln1.bias),
                        ("attn.qkv.weight", blk.qkv.weight), ("attn.qkv.bias", blk.qkv.bias),
                        ("attn.out.weight", blk.out.weight), ("attn.out.bias", blk.out.bias),
                        ("ln2.weight", blk.ln2.weight), ("ln2.bias", blk.ln2.bias),
                        ("ffn.in.weight", blk.ffn_in.weight), ("ffn.in.bias", blk.ffn_in.bias),
                        ("ffn.out.weight", blk.ffn_out.weight),
                        ("ffn.out.bias", blk.ffn_out.bias)]:
            names[f"layers.{l}.{ours}"] = p
    with torch.no_grad():
        for name, p in names.items():
            p.copy_(torch.from_numpy(weights[name]))
    encoder = {k for k in weights if not k.startswith("ngram.")}  # the n-gram path is not here
    assert set(names) == encoder, encoder ^ set(names)
    return m, names


def multitask_loss(torch, logits, task, label, sizes, eps):
    F = torch.nn.functional
    total, n = 0.0, 0
    off = [0]
    for s in sizes:
        off.append(off[-1] + s)
    for b in range(logits.shape[0]):
        t = int(task[b])
        if t < 0:
            continue
        sl = logits[b:b + 1, off[t]:off[t + 1]]
        total = total + F.cross_entropy(sl, torch.tensor([int(label[b])]), label_smoothing=eps)
        n += 1
    return total / max(n, 1)


def parity(d):
    try:
        import torch
        assert np is not None
    except (ImportError, AssertionError):
        print("SKIP torch_parity: python3-torch is not installed")
        return 77
    torch.manual_seed(0)
    weights, meta = load_safetensors(f"{d}/model.safetensors")
    cfg = json.loads(meta["config"])
    batch, _ = load_safetensors(f"{d}/batch.safetensors")
    c_out, _ = load_safetensors(f"{d}/c_out.safetensors")
    m, names = build(torch, weights, cfg)
    ids = torch.from_numpy(batch["ids"].astype(np.int64))
    lengths = torch.from_numpy(batch["lengths"].astype(np.int64))
    logits = m(ids, lengths)
    sizes = [int(x) for x in json.loads(meta["out_sizes"])]
    loss = multitask_loss(torch, logits, batch["task"], batch["label"], sizes,
                          float(meta["label_smoothing"]))
    loss.backward()
    ok = True
    diff = float(np.max(np.abs(logits.detach().numpy() - c_out["logits"])))
    print(f"{'PASS' if diff <= 1e-4 else 'FAIL'} torch_parity:logits (max abs diff {diff:.2e})")
    ok &= diff <= 1e-4
    ldiff = abs(float(loss) - float(c_out["loss"][0]))
    print(f"{'PASS' if ldiff <= 1e-4 else 'FAIL'} torch_parity:loss ({float(loss):.6f} vs "
          f"{float(c_out['loss'][0]):.6f})")
    ok &= ldiff <= 1e-4
    worst, worst_name = 0.0, ""
    for name, p in names.items():
        g_t = p.grad.numpy()
        g_c = c_out["grad." + name]
        denom = max(np.linalg.norm(g_t), 1e-8)
        rel = float(np.linalg.norm(g_c - g_t) / denom)
        if rel > worst:
            worst, worst_name = rel, name
    print(f"{'PASS' if worst <= 1e-3 else 'FAIL'} torch_parity:gradients (worst relative diff "
          f"{worst:.2e} in {worst_name})")
    ok &= worst <= 1e-3
    return 0 if ok else 1


def build_finetuned(torch, weights, meta):
    """A fine-tuned pretrained encoder (the file keeps the checkpoint's tensor
    names and a BERT config): transformers' BertModel, mean pooling, the heads."""
    from transformers import BertConfig, BertModel

    bert = BertModel(BertConfig(**json.loads(meta["hf_config"])), add_pooling_layer=False)
    bert.load_state_dict({k[5:]: torch.from_numpy(v.copy()) for k, v in weights.items()
                          if k.startswith("bert.")}, strict=False)
    bert.eval()
    w, b = torch.from_numpy(weights["head.weight"].copy()), torch.from_numpy(weights["head.bias"].copy())

    def run(x, lengths):
        mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).long()
        h = bert(input_ids=x, attention_mask=mask).last_hidden_state
        pooled = (h * mask[..., None]).sum(1) / lengths[:, None]
        return pooled @ w.T + b
    return run


def bench(model_path, ids_path, threads):
    import torch
    if threads:
        torch.set_num_threads(threads)
    weights, meta = load_safetensors(model_path)
    if "hf_config" in meta:
        m = build_finetuned(torch, weights, meta)
    else:
        m, _ = build(torch, weights, json.loads(meta["config"]))
        m.eval()
    data, _ = load_safetensors(ids_path)
    ids, lengths = data["ids"].astype(np.int64), data["lengths"].astype(np.int64)
    order = np.argsort(lengths, kind="stable")
    budget = 4096
    t0 = time.perf_counter()
    with torch.inference_mode():
        at = 0
        while at < len(order):
            k = 0
            while at + k < len(order) and k < 512:
                if (k + 1) * lengths[order[at + k]] > budget and k > 0:
                    break
                k += 1
            rows = order[at:at + k]
            T = int(lengths[rows[-1]])
            x = torch.from_numpy(ids[rows, :T])
            m(x, torch.from_numpy(lengths[rows])).softmax(-1)
            at += k
    dt = time.perf_counter() - t0
    print(f"torch docs/s {len(order) / dt:.1f} ({len(order)} docs, {dt:.2f} s, "
          f"{torch.get_num_threads()} threads)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--bench":
        th = int(sys.argv[5]) if len(sys.argv) >= 6 and sys.argv[4] == "--threads" else 0
        sys.exit(bench(sys.argv[2], sys.argv[3], th))
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(parity(sys.argv[1]))
