"""finsent's BERT encoder against Hugging Face transformers (the reference).

  hf_parity.py make DIR
      Writes small random BERT checkpoints that the C test loads:
        DIR/prefixed  BertForSequenceClassification (tensors "bert.*", a pooler,
                      a classifier), F32, width 48, 6 heads, 2 layers, ffn 80
        DIR/bare      BertModel without pooler (as sentence-transformers saves
                      it), F16 weights, width 32, 2 heads, 3 layers, ffn 48
        DIR/bf16      the prefixed model's weights as BF16
  hf_parity.py compare CASE_DIR
      CASE_DIR holds the checkpoint, batch.safetensors (ids, lengths, task,
      label as F32), c_out.safetensors (finsent's hidden states, logits, loss,
      heads "head.weight"/"head.bias" and gradients "grad.<hf name>"). Runs
      BertModel on the same batch (eval mode: no dropout), the same heads on the
      [CLS] row with label-smoothed cross-entropy (0.1), and compares: hidden
      states of real tokens (max abs diff <= 1e-4), loss, gradients of every
      encoder tensor (relative to the tensor's largest, <= 1e-3).
Prints PASS/FAIL lines; exit 0 when all pass.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertForSequenceClassification, BertModel

SMOOTH = 0.1


def make(root):
    torch.manual_seed(7)
    os.makedirs(root, exist_ok=True)
    cfg = BertConfig(vocab_size=120, hidden_size=48, num_hidden_layers=2, num_attention_heads=6,
                     intermediate_size=80, max_position_embeddings=40, type_vocab_size=2,
                     num_labels=3)
    m = BertForSequenceClassification(cfg).eval()
    with torch.no_grad():  # larger than the init, so that every path carries signal
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    m.save_pretrained(os.path.join(root, "prefixed"), safe_serialization=True)
    sd = {k: v.to(torch.bfloat16).contiguous() for k, v in m.state_dict().items()}
    os.makedirs(os.path.join(root, "bf16"), exist_ok=True)
    save_file(sd, os.path.join(root, "bf16", "model.safetensors"), metadata={"format": "pt"})
    cfg.to_json_file(os.path.join(root, "bf16", "config.json"))
    cfg2 = BertConfig(vocab_size=90, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                      intermediate_size=48, max_position_embeddings=24, type_vocab_size=1,
                      layer_norm_eps=1e-7)
    b = BertModel(cfg2, add_pooling_layer=False).eval()
    with torch.no_grad():
        for p in b.parameters():
            p.add_(0.05 * torch.randn_like(p))
    b.half().save_pretrained(os.path.join(root, "bare"), safe_serialization=True)
    print("made", root)


def read_f32(path):
    return {k: v.float() for k, v in load_file(path).items()}


def smoothed_ce(logits, label):
    n = logits.shape[-1]
    logp = torch.log_softmax(logits, -1)
    target = torch.full_like(logp, SMOOTH / n)
    target[label] += 1.0 - SMOOTH
    return -(target * logp).sum()


def compare(case):
    ok = True
    name = os.path.basename(case.rstrip("/"))
    batch = read_f32(os.path.join(case, "batch.safetensors"))
    c = read_f32(os.path.join(case, "c_out.safetensors"))
    model = BertModel.from_pretrained(case, add_pooling_layer=False, torch_dtype=torch.float32)
    model.eval()
    ids = batch["ids"].long()
    lengths = batch["lengths"].long()
    B, T = ids.shape
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    out = model(input_ids=ids, attention_mask=mask).last_hidden_state
    real = mask.bool()
    hd = (out - c["hidden"].view(B, T, -1))[real].abs().max().item()
    line = f"{name}:hidden states of {int(real.sum())} tokens (max abs diff {hd:.2e})"
    print(("PASS " if hd <= 1e-4 else "FAIL ") + line)
    ok &= hd <= 1e-4
    w, bias = c["head.weight"], c["head.bias"]
    logits = out[:, 0, :] @ w.T + bias
    sizes = [int(s) for s in c["sizes"].tolist()]
    offs = np.cumsum([0] + sizes)
    total, n = 0.0, 0
    for i in range(B):
        t, y = int(batch["task"][i]), int(batch["label"][i])
        if t < 0:
            continue
        total = total + smoothed_ce(logits[i, offs[t]:offs[t + 1]], y)
        n += 1
    loss = total / n
    loss.backward()
    ld = abs(loss.item() - c["loss"].item())
    print(("PASS " if ld <= 1e-4 else "FAIL ") + f"{name}:loss ({loss.item():.6f} vs {c['loss'].item():.6f})")
    ok &= ld <= 1e-4
    worst, where, count = 0.0, "", 0
    for pname, p in model.named_parameters():
        key = "grad." + pname
        if key not in c:
            print(f"FAIL {name}:gradient of {pname} missing from finsent's output")
            ok = False
            continue
        ref = p.grad if p.grad is not None else torch.zeros_like(p)
        scale = max(ref.abs().max().item(), 1e-6)
        d = (ref - c[key].view_as(ref)).abs().max().item() / scale
        count += 1
        if d > worst:
            worst, where = d, pname
    good = worst <= 1e-3
    print(("PASS " if good else "FAIL ") + f"{name}:gradients of {count} tensors (worst relative diff {worst:.2e} in {where})")
    return ok and good


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "compare":
        return 0 if compare(sys.argv[2]) else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
