#!/usr/bin/env python3
"""dev_split.py — hold a development split out of the tweet training sets, so that
training choices (epochs, learning rate, ...) are made without the validation sets.

    scripts/dev_split.py --out DIR [--data data] [--tenths 1]

For each task (sentiment, topic) it writes DIR/TASK_train.csv and DIR/TASK_dev.csv
from data/twitter_financial_news_TASK/train.csv: a row goes to dev when the first
byte of the sha256 of its text, mod 10, is below --tenths (so about a tenth by
default, the same rows on every machine, and a text repeated in the file never
lands on both sides). Train on the rest with
    finsent train --sentiment-data DIR/sentiment_train.csv --topic-data DIR/topic_train.csv \\
                  --sentiment-val DIR/sentiment_dev.csv --topic-val DIR/topic_dev.csv
and read the dev figures with finsent eval --data DIR/TASK_dev.csv.
"""
import argparse
import csv
import hashlib
import os


def is_dev(text, tenths):
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 10 < tenths


def split_task(data, task, out, tenths):
    src = os.path.join(data, f"twitter_financial_news_{task}", "train.csv")
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    parts = {"train": [r for r in rows if not is_dev(r[0], tenths)],
             "dev": [r for r in rows if is_dev(r[0], tenths)]}
    for name, part in parts.items():
        with open(os.path.join(out, f"{task}_{name}.csv"), "w", newline="",
                  encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(part)
    print(f"{task}: {len(parts['train'])} train, {len(parts['dev'])} dev")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default="data")
    ap.add_argument("--tenths", type=int, default=1, choices=range(1, 10))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for task in ("sentiment", "topic"):
        split_task(a.data, task, a.out, a.tenths)


if __name__ == "__main__":
    main()
