#!/usr/bin/python3
"""finsent's n-gram features (classify/ngram.h) recomputed with scikit-learn.

  sklearn_ngram.py DIR
      DIR holds config.json ({"bits": B}), train.jsonl (one {"text"} per line:
      the texts the idf was fitted on) and check.jsonl (one {"text", "index",
      "value"} per line: finsent's feature vector of that text). Builds the same
      features with HashingVectorizer (word 1-2 grams, char_wb 2-5 grams) and
      TfidfTransformer (sublinear tf, smooth idf, char min_df 2, each block
      L2-normalised) and compares every vector: same indices, values within 1e-5.
      Texts with bytes outside ASCII may differ (finsent treats every such byte
      as a word character; Python's \\w knows Unicode letters) and are counted
      apart. Prints PASS/FAIL lines; exit 0 pass, 1 fail, 77 sklearn missing.
"""
import json
import re
import sys

try:
    import numpy as np
    from scipy.sparse import diags
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
except ImportError as e:
    print(f"SKIP sklearn_ngram: {e}")
    sys.exit(77)

URL = re.compile(r"(?i)\b(?:https?://|www\.|t\.co/)\S+")
ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def preprocess(text):
    return URL.sub(" ", text).translate(ASCII_UPPER)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def blocks(bits):
    n = 2 ** bits
    word = HashingVectorizer(n_features=n, ngram_range=(1, 2), preprocessor=preprocess,
                             token_pattern=r"\b\w+\b|[<>$%+\-]", alternate_sign=False,
                             norm=None)
    char = HashingVectorizer(n_features=n, analyzer="char_wb", ngram_range=(2, 5),
                             preprocessor=preprocess, alternate_sign=False, norm=None)
    return [(word, 1), (char, 2)]


def features(bits, train, check):
    """Row i: dict index -> value of check[i], as finsent lays the blocks out."""
    rows = [dict() for _ in check]
    for b, (vec, min_df) in enumerate(blocks(bits)):
        counts = vec.transform(train)
        df = np.asarray((counts > 0).sum(axis=0)).ravel()
        keep = diags((df >= min_df).astype(np.float64))
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts @ keep)
        x = tfidf.transform(vec.transform(check) @ keep).tocsr()
        for i in range(x.shape[0]):
            lo, hi = x.indptr[i], x.indptr[i + 1]
            for j, v in zip(x.indices[lo:hi], x.data[lo:hi]):
                if v != 0.0:
                    rows[i][int(j) + b * 2 ** bits] = float(v)
    return rows


def main():
    d = sys.argv[1]
    bits = json.load(open(f"{d}/config.json"))["bits"]
    train = [r["text"] for r in read_jsonl(f"{d}/train.jsonl")]
    check = read_jsonl(f"{d}/check.jsonl")
    ref = features(bits, train, [r["text"] for r in check])
    ok = bad = other = 0
    for r, want in zip(check, ref):
        got = dict(zip(r["index"], r["value"]))
        same = got.keys() == want.keys() and all(abs(got[k] - want[k]) <= 1e-5 for k in got)
        if same:
            ok += 1
        elif not r["text"].isascii():
            other += 1
        else:
            bad += 1
            if bad <= 3:
                extra = sorted(set(got) ^ set(want))[:5]
                worst = max((abs(got[k] - want[k]) for k in got.keys() & want.keys()), default=0)
                print(f"  differs: {r['text'][:80]!r} indices only on one side: {extra}, "
                      f"largest value difference {worst:.3g}")
    print(f"  {ok} vectors equal, {bad} ASCII texts differ, {other} non-ASCII texts differ")
    if bad or ok == 0:
        print("FAIL sklearn_ngram: finsent's features differ from scikit-learn's")
        return 1
    print("PASS sklearn_ngram")
    return 0


if __name__ == "__main__":
    sys.exit(main())
