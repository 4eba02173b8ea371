#!/usr/bin/env python3
"""Writes data/entities/common_words.txt: the words that the bundled training
texts write in lower case at least twice (URLs and cashtags left out).

finsent's entity recogniser treats these as ordinary English words: a ticker
equal to one ("ALL", "NOW", "IT", "ON") is taken only as a cashtag or after an
exchange ("NYSE: ALL"), and a one-word company name equal to one ("Target")
needs a business word in its sentence. Rerun after the training data changes:
    python3 scripts/entity_words.py
"""
import collections
import csv
import glob
import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FILES = sorted(glob.glob(os.path.join(ROOT, "data/twitter_financial_news_*/*.csv")))
FILES.append(os.path.join(ROOT, "data/news_train/all.csv"))
WORD = re.compile(r"(?<![$\w])[a-z]+(?!\w)")


def main():
    counts = collections.Counter()
    for path in FILES:
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.reader(f):
                if row:
                    counts.update(WORD.findall(re.sub(r"https?://\S+", " ", row[0])))
    words = sorted(w for w, n in counts.items() if n >= 2)
    out = os.path.join(ROOT, "data/entities/common_words.txt")
    with open(out, "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in words))
    print(f"{out}: {len(words)} words")


if __name__ == "__main__":
    main()
