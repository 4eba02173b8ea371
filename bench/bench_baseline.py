#!/usr/bin/env python3
"""bench_baseline.py — a classical baseline beside finsent's model (prints, never asserts).

For each task (sentiment, topic) trains word (1-2 gram) + character (2-5 gram, within
word boundaries) TF-IDF features with a linear SVM (scikit-learn, Debian python3-sklearn)
on data/<task>/train.csv plus the news sentences of data/news_train/all.csv (the
data `finsent train` learns from by default; --no-news-train leaves them out), with
each negative sentiment row twice as finsent does (--negative-repeat N), and
reports validation accuracy and macro-F1. When ./finsent
and a model exist (--model, $FINSENT_MODEL, or the default
$XDG_DATA_HOME/finsent/model.safetensors), also runs
  ./finsent eval --task T --data data/.../validation.csv --model M --json
and prints the model's figures beside the baseline's, then the accuracy of each of
its two paths alone (--parts encoder, --parts ngram). Each task also gets an "unseen"
row: validation without the texts that occur in train once lowercased and stripped of
URLs (recurring headlines; they inflate the topic figures by about 2 points).

  bench/bench_baseline.py              the table
  bench/bench_baseline.py --ablation   also: which of the tokenizer's normalisation
                                       choices help these features, and the same SVM
                                       on finsent's own token pieces (build/bench/
                                       bench_tokenizer --dump); slow (~10 fits)

The texts go through the baseline as they are (scikit-learn lowercases); the ablation
applies a Python copy of finsent's normaliser (classify/tokenizer.h) step by step.
"""
import argparse
import csv
import html
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TASKS = {
    "sentiment": "data/twitter_financial_news_sentiment",
    "topic": "data/twitter_financial_news_topic",
}


def load(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def baseline(train_x, train_y, valid_x, chars=True, pieces=False):
    """Fits and predicts. chars=False: word n-grams only; pieces=True: the texts are
    finsent token pieces separated by spaces (no further splitting)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    if pieces:
        word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                               tokenizer=str.split, token_pattern=None, lowercase=False)
    else:
        word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                               token_pattern=r"(?u)\b\w+\b|[<>$%+\-]")
    mats_t, mats_v = [word.fit_transform(train_x)], [word.transform(valid_x)]
    if chars:
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        mats_t.append(char.fit_transform(train_x))
        mats_v.append(char.transform(valid_x))
    xt, xv = hstack(mats_t).tocsr(), hstack(mats_v).tocsr()
    clf = LinearSVC(C=0.5)
    clf.fit(xt, train_y)
    return clf.predict(xv)


def scores(truth, pred):
    from sklearn.metrics import accuracy_score, f1_score

    return accuracy_score(truth, pred), f1_score(truth, pred, average="macro")


# ---- a Python copy of finsent's normaliser, step by step (for --ablation) -------------

URL = re.compile(r"(?i)\b(?:https?://|www\.|t\.co/)\S+")
USER = re.compile(r"@\w+")
TICKER = re.compile(r"\$([A-Za-z][A-Za-z0-9]*(?:[.-][A-Za-z]{1,2}\b)?)")
NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


def normalise(text, steps):
    if "entities" in steps:
        text = html.unescape(text)
    if "url" in steps:
        text = URL.sub(" xxurl ", text)
    if "user" in steps:
        text = USER.sub(" xxuser ", text)
    if "ticker+symbol" in steps:
        text = TICKER.sub(lambda m: " xxticker " + m.group(1) + " ", text)
    elif "ticker" in steps:
        text = TICKER.sub(" xxticker ", text)
    if "number" in steps:
        text = NUMBER.sub(" xxnum ", text)
    if "sign" in steps:
        # "+5%" -> "xxplus xxnum xxpct": signs and percent as words of their own
        text = re.sub(r"\+", " xxplus ", text)
        text = re.sub(r"(?<![A-Za-z])-(?=\s*(?:xxnum|\d))", " xxminus ", text)
        text = text.replace("%", " xxpct ")
    return text


ABLATION = [
    ("raw text", []),
    ("+ entities decoded", ["entities"]),
    ("+ URLs -> <url>", ["entities", "url"]),
    ("+ @user -> <user>", ["entities", "url", "user"]),
    ("+ $TICKER -> <ticker> only", ["entities", "url", "user", "ticker"]),
    ("+ $TICKER -> <ticker> symbol", ["entities", "url", "user", "ticker+symbol"]),
    ("+ numbers -> <num>", ["entities", "url", "user", "ticker+symbol", "number"]),
    ("+ sign and % kept as tokens", ["entities", "url", "user", "ticker+symbol", "number", "sign"]),
    ("finsent minus number marker", ["entities", "url", "user", "ticker+symbol", "sign"]),
]


def finsent_pieces(tool, options=()):
    """finsent's token pieces per task and split (bench_tokenizer --dump DIR 8000
    ticker_symbols number_marker), or None."""
    import tempfile

    if not os.access(tool, os.X_OK):
        return None
    with tempfile.TemporaryDirectory() as d:
        cmd = [tool, "--dump", d] + (["8000"] + [str(o) for o in options] if options else [])
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            return None
        out = {}
        for split in ("train", "validation"):
            with open(os.path.join(d, split + ".txt"), encoding="utf-8", errors="replace") as f:
                for line in f:
                    task, _, toks = line.rstrip("\n").partition("\t")
                    out.setdefault((task, split), []).append(toks)
        return out


def run_ablation(data, tool):
    print()
    print("normalisation ablation (same features and SVM; validation accuracy / macro-F1)")
    print(f"{'normalisation':34s} {'sent acc':>9s} {'sent F1':>8s} {'topic acc':>10s} {'topic F1':>9s}")
    for name, steps in ABLATION:
        row = []
        for task in ("sentiment", "topic"):
            tx, ty, vx, vy = data[task]
            pred = baseline([normalise(t, steps) for t in tx], ty, [normalise(t, steps) for t in vx])
            row.extend(scores(vy, pred))
        print(f"{name:34s} {row[0]:9.4f} {row[1]:8.4f} {row[2]:10.4f} {row[3]:9.4f}")
    # word n-grams alone: sklearn's words of the raw text vs finsent's token pieces
    # under each choice of tokenizer_options (ticker_symbols, number_marker)
    print()
    print("word 1-2 grams only (no char n-grams): raw words vs finsent's pieces (vocab 8000)")
    rows = [("raw text, sklearn words", None)]
    for opts, name in [((1, 1), "pieces: ticker+symbol, <num>"), ((0, 1), "pieces: ticker alone, <num>"),
                       ((1, 0), "pieces: ticker+symbol, digits"), ((0, 0), "pieces: ticker alone, digits")]:
        pieces = finsent_pieces(tool, opts)
        if not pieces:
            print(f"(finsent pieces skipped: no {tool})")
            break
        rows.append((name, pieces))
    for name, p in rows:
        row = []
        for task in ("sentiment", "topic"):
            tx, ty, vx, vy = data[task]
            if p:
                tx, vx = p[(task, "train")], p[(task, "validation")]
            pred = baseline(tx, ty, vx, chars=False, pieces=p is not None)
            row.extend(scores(vy, pred))
        print(f"{name:34s} {row[0]:9.4f} {row[1]:8.4f} {row[2]:10.4f} {row[3]:9.4f}")


# ---- finsent's own figures -------------------------------------------------------------

def default_model():
    if os.environ.get("FINSENT_MODEL"):
        return os.environ["FINSENT_MODEL"]
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data_home, "finsent", "model.safetensors")


def finsent_eval(binary, model, task, data_path, parts="both"):
    cmd = [binary, "eval", "--task", task, "--data", data_path, "--model", model, "--json",
           "--parts", parts]
    t0 = time.monotonic()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{e}"
    if out.returncode != 0:
        return None, (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1]
    try:
        obj = json.loads(out.stdout)
        return (float(obj["accuracy"]), float(obj["macro_f1"]), time.monotonic() - t0), None
    except (ValueError, KeyError, TypeError) as e:
        return None, f"unreadable --json output: {e}"


NEWS = "data/news_check"  # written for the project; a regression check, never tuned on
NEWS_TRAIN = "data/news_train/all.csv"  # written for the project as training data
SENT_IDS = {"negative": 0, "positive": 1, "neutral": 2}  # the bundled ids (Bearish, Bullish, Neutral)


def news_labels(task, names):
    if task == "sentiment":
        return [SENT_IDS[n] for n in names]
    ids = {}
    with open(os.path.join(TASKS["topic"], "LABELS"), encoding="utf-8") as f:
        for line in f:
            i, _, name = line.rstrip("\n").partition("\t")
            ids[name] = int(i)
    return [ids[n] for n in names]


def news_train_rows(task):
    """The news training sentences with the task's bundled label ids."""
    with open(NEWS_TRAIN, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], news_labels(task, [r[task] for r in rows])


def news_row(args, model, task, tx, ty):
    """The news check set: the baseline (trained on the same data as finsent) and finsent, with the
    recall of the negative class for sentiment."""
    path = os.path.join(NEWS, task + ".csv")
    if not os.path.exists(path):
        return
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    nx, ny = [r["text"] for r in rows], news_labels(task, [r["label"] for r in rows])
    pred = baseline(tx, ty, nx)
    acc, f1 = scores(ny, pred)
    extra = ""
    if task == "sentiment":
        neg = [p for p, t in zip(pred, ny) if t == 0]
        extra = f"  negative recall: baseline {sum(p == 0 for p in neg) / len(neg):.3f}"
    cols = f"{'-':>11s} {'-':>8s}"
    if model:
        out = subprocess.run([args.finsent, "eval", "--task", task, "--data", path, "--model",
                              model, "--json"], capture_output=True, text=True)
        if out.returncode == 0:
            r = json.loads(out.stdout)
            cols = f"{r['accuracy']:11.4f} {r['macro_f1']:8.4f}"
            if task == "sentiment":
                rec = [c["recall"] for c in r.get("per_class", []) if c.get("label") == "negative"]
                extra += f", finsent {rec[0]:.3f}" if rec else ""
    print(f"{task + ' news':17s} {len(ny):5d} | {acc:12.4f} {f1:8.4f} | {cols}{extra}", flush=True)


def dedup_key(text):
    """A text's identity for leakage: lowercase, URLs removed, blanks collapsed."""
    return " ".join(URL.sub(" ", text.lower()).split())


def write_csv(path, texts, labels):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["text", "label"])
        w.writerows(zip(texts, labels))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ablation", action="store_true", help="also measure the normalisation steps")
    ap.add_argument("--model", help="finsent model file (default: $FINSENT_MODEL or the XDG path)")
    ap.add_argument("--no-news-train", action="store_true",
                    help="train the baseline on the tweets alone")
    ap.add_argument("--negative-repeat", type=int, default=2,
                    help="negative sentiment rows count N times, as in finsent train (default 2)")
    ap.add_argument("--finsent", default=os.path.join(ROOT, "finsent"), help="finsent binary")
    args = ap.parse_args()
    os.chdir(ROOT)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print(f"bench_baseline: scikit-learn missing in {sys.executable} (Debian python3-sklearn "
              "is in /usr/bin/python3); nothing measured")
        return 0
    import tempfile

    data = {}
    for task, folder in TASKS.items():
        tx, ty = load(os.path.join(folder, "train.csv"))
        if not args.no_news_train and os.path.exists(NEWS_TRAIN):
            nx, ny = news_train_rows(task)
            tx, ty = tx + nx, ty + ny
        if task == "sentiment":
            extra = [(x, y) for x, y in zip(tx, ty) if y == SENT_IDS["negative"]]
            tx = tx + [x for x, _ in extra] * (args.negative_repeat - 1)
            ty = ty + [y for _, y in extra] * (args.negative_repeat - 1)
        vx, vy = load(os.path.join(folder, "validation.csv"))
        data[task] = (tx, ty, vx, vy)

    model = args.model or default_model()
    have_finsent = os.access(args.finsent, os.X_OK) and os.path.exists(model)
    print("validation figures: TF-IDF word 1-2 + char 2-5 grams, LinearSVC (the issue's")
    print("reference: about 0.84 sentiment / 0.86 topic accuracy) beside finsent's model.")
    print("'unseen' rows leave out validation texts that occur in train once lowercased and")
    print("stripped of URLs (the same headline posted twice; data/*/SOURCE.md)")
    if not have_finsent:
        why = "no ./finsent" if not os.access(args.finsent, os.X_OK) else f"no model at {model}"
        print(f"(finsent columns skipped: {why})")
    print()
    print(f"{'task':17s} {'n':>5s} | {'baseline acc':>12s} {'macro-F1':>8s} | "
          f"{'finsent acc':>11s} {'macro-F1':>8s} {'eval s':>6s} | {'encoder':>7s} {'n-gram':>6s}")
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        for task, (tx, ty, vx, vy) in data.items():
            t0 = time.monotonic()
            pred = baseline(tx, ty, vx)
            fit_s = time.monotonic() - t0
            seen = {dedup_key(t) for t in tx}
            keep = [i for i, t in enumerate(vx) if dedup_key(t) not in seen]
            unseen_csv = os.path.join(tmp, task + "_unseen.csv")
            write_csv(unseen_csv, [vx[i] for i in keep], [vy[i] for i in keep])
            subsets = [(task, vy, pred, os.path.join(TASKS[task], "validation.csv")),
                       (task + " unseen", [vy[i] for i in keep], [pred[i] for i in keep], unseen_csv)]
            for name, truth, p, path in subsets:
                acc, f1 = scores(truth, p)
                cols = f"{'-':>11s} {'-':>8s} {'-':>6s} | {'-':>7s} {'-':>6s}"
                if have_finsent:
                    res, err = finsent_eval(args.finsent, model, task, path)
                    if res:
                        alone = [finsent_eval(args.finsent, model, task, path, p)[0]
                                 for p in ("encoder", "ngram")]
                        alone = [f"{a[0]:.4f}" if a else "-" for a in alone]
                        cols = (f"{res[0]:11.4f} {res[1]:8.4f} {res[2]:6.1f} | "
                                f"{alone[0]:>7s} {alone[1]:>6s}")
                    else:
                        cols = f"{'error':>11s} {'':8s} {'':6s} |"
                        notes.append(f"finsent eval --task {task} ({name}): {err}")
                print(f"{name:17s} {len(truth):5d} | {acc:12.4f} {f1:8.4f} | {cols}", flush=True)
            notes.append(f"baseline fit + predict, {task}: {fit_s:.1f} s")
            news_row(args, model if have_finsent else None, task, tx, ty)
    for n in notes:
        print(n)
    if args.ablation:
        run_ablation(data, os.path.join(ROOT, os.environ.get("B", "build"), "bench", "bench_tokenizer"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
