#!/usr/bin/env python3
"""The bundled news sets (data/news_train, data/news_check) through
scripts/news_check_stats.py, and the training-data loading of `finsent train`:

- both sets pass the script's checks (labels, lengths, duplicates, topics, the
  three files agreeing), and no training sentence nearly repeats a check sentence
  (--apart-from);
- the script fails on a planted near-duplicate across the two sets and on an
  unknown label, so the checks above can fail;
- `finsent train` adds the news sentences (one example per task) by default and
  leaves them out with --news-data none (the "training on N examples" line);
  given both --sentiment-data and --topic-data it reads no bundled file, and news
  only from --news-data.
"""
import csv
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import BIN as FINSENT, Report  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
STATS = os.path.join(ROOT, "scripts", "news_check_stats.py")


def stats(*args):
    return subprocess.run([sys.executable, STATS, *args], capture_output=True, text=True)


def copy_set(src, dst):
    shutil.copytree(src, dst)
    with open(os.path.join(dst, "all.csv"), newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def rewrite(d, rows):
    with open(os.path.join(d, "all.csv"), "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return stats("--dir", d, "--write-splits")


def train_count(*extra):
    """The example count `finsent train` announces (the run is stopped there)."""
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.Popen([FINSENT, "train", "--base", "none", "--width", "8", "--layers", "1",
                              "--heads", "1", "--ffn", "8", "--vocab", "64", "--epochs", "1",
                              "--ngram-bits", "0", "--out", os.path.join(tmp, "m.safetensors"),
                              *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=dict(os.environ, FINSENT_DATA=os.path.join(ROOT, "data"),
                                      XDG_DATA_HOME=tmp, XDG_CONFIG_HOME=tmp))
        seen = []
        for line in p.stdout:
            seen.append(line.strip())
            if line.startswith("training on "):
                p.kill()
                p.wait()
                p.stdout.close()
                return int(line.split()[2])
        p.wait()
        return " / ".join(seen[-3:])


def n_label(path, column, value):
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for r in csv.DictReader(f) if r[column] == value)


def n_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return len(list(csv.reader(f))) - 1


def main():
    report = Report()
    news_train = os.path.join(ROOT, "data", "news_train")
    news_check = os.path.join(ROOT, "data", "news_check")
    r = stats("--dir", news_check)
    report(r.returncode == 0, "news_check passes its checks", r.stderr[-400:])
    for name in ("news_train", "news_extra"):
        r = stats("--dir", os.path.join(ROOT, "data", name), "--apart-from", news_check)
        report(r.returncode == 0, name + " passes its checks and stays apart from news_check",
               r.stderr[-400:])

    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "planted")
        rows = copy_set(news_train, d)
        with open(os.path.join(news_check, "all.csv"), newline="", encoding="utf-8") as f:
            check_row = list(csv.reader(f))[5]
        rewrite(d, rows + [[check_row[0] + " on Monday", check_row[1], check_row[2]]])
        r = stats("--dir", d, "--apart-from", news_check)
        report(r.returncode == 1 and "is close to" in r.stderr,
               "a check sentence planted in the training set is caught", r.stderr[-300:])
        d2 = os.path.join(tmp, "badlabel")
        rows = copy_set(news_train, d2)
        rows[3][1] = "bearish-ish"
        rewrite(d2, rows)
        r = stats("--dir", d2)
        report(r.returncode == 1 and "unknown sentiment" in r.stderr,
               "an unknown label is caught", r.stderr[-300:])

    tweets = sum(n_rows(os.path.join(ROOT, "data", f"twitter_financial_news_{t}", "train.csv"))
                 for t in ("topic", "sentiment"))
    news = n_rows(os.path.join(news_train, "all.csv"))
    sent = os.path.join(ROOT, "data", "twitter_financial_news_sentiment", "train.csv")
    negative = n_label(sent, "label", "0")  # 0 is Bearish in the tweets' files
    news_negative = n_label(os.path.join(news_train, "all.csv"), "sentiment", "negative")
    got = train_count("--negative-repeat", "1")
    report(got == tweets + 2 * news, "train adds the news sentences once per task",
           f"{got} examples, expected {tweets} + 2 x {news}")
    got = train_count("--news-data", "none", "--negative-repeat", "1")
    report(got == tweets, "train --news-data none leaves them out", f"{got}, expected {tweets}")
    got = train_count("--news-data", "none", "--negative-repeat", "3")
    report(got == tweets + 2 * negative, "train --negative-repeat 3 adds two copies of each "
           "negative sentiment row", f"{got}, expected {tweets} + 2 x {negative}")
    got = train_count()
    want = tweets + 2 * news + negative + news_negative
    report(got == want, "by default each negative sentiment row counts twice",
           f"{got}, expected {want}")
    with tempfile.TemporaryDirectory() as tmp:
        own = {}
        for task, label in (("sentiment", "2"), ("topic", "5")):
            own[task] = os.path.join(tmp, task + ".csv")
            with open(own[task], "w", encoding="utf-8") as f:
                f.write("text,label\n" + "".join(f"{task} row {i},{label}\n" for i in range(7)))
        mine = ["--sentiment-data", own["sentiment"], "--topic-data", own["topic"]]
        got = train_count(*mine)
        report(got == 14, "given both training sets, train reads no bundled news",
               f"{got}, expected 14")
        got = train_count(*mine, "--news-data", os.path.join(news_train, "all.csv"),
                          "--negative-repeat", "1")
        report(got == 14 + 2 * news, "given both training sets, --news-data still adds news",
               f"{got}, expected 14 + 2 x {news}")
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
