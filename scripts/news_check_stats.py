#!/usr/bin/env python3
"""Validates finsent's news check set (data/news_check/) and prints its label
distribution.

    scripts/news_check_stats.py                 validate, print the tables (Markdown)
    scripts/news_check_stats.py --write-splits  first rewrite sentiment.csv and
                                                topic.csv from the master all.csv
    scripts/news_check_stats.py --dir DIR       another folder with the same files
    scripts/news_check_stats.py --dir data/news_train --apart-from data/news_check
                                                also: no sentence of DIR is a
                                                near-duplicate of one in the other
                                                folder (word-set Jaccard >= 0.6)

all.csv (text,sentiment,topic) is the master copy; sentiment.csv and topic.csv
(text,label) hold the same sentences in the same order. Checks: the headers; every
label is a valid name (negative/neutral/positive; the 20 topic names exactly as
finsent spells them, compared with data/twitter_financial_news_topic/LABELS when
that file exists); texts are non-empty, 6 to 40 words, unique (also after folding
case, punctuation and spacing) and not near-duplicates (word-set Jaccard >= 0.7);
every topic has at least 5 sentences; the three files agree row by row.
Exit status 0 when every check passes, 1 otherwise (the problems go to stderr).

This set is a regression check only: never train on it, never use it to choose
hyperparameters (data/news_check/SOURCE.md).
"""
import argparse
import csv
import os
import re
import sys
from collections import Counter

SENTIMENTS = ["negative", "neutral", "positive"]
TOPICS = [
    "Analyst Update", "Fed | Central Banks", "Company | Product News",
    "Treasuries | Corporate Debt", "Dividend", "Earnings", "Energy | Oil", "Financials",
    "Currencies", "General News | Opinion", "Gold | Metals | Materials", "IPO",
    "Legal | Regulation", "M&A | Investments", "Macro", "Markets", "Politics",
    "Personnel Change", "Stock Commentary", "Stock Movement",
]
MIN_WORDS, MAX_WORDS = 6, 40
MIN_PER_TOPIC = 5
NEAR_DUP_JACCARD = 0.7
APART_JACCARD = 0.6  # training sentences stay this far from the check set

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def read_csv(path, header):
    """Rows of path as lists; an error string when the header differs."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != header:
        return None, "%s: header %r, expected %r" % (path, rows[0] if rows else None, header)
    bad = [i + 2 for i, r in enumerate(rows[1:]) if len(r) != len(header)]
    if bad:
        return None, "%s: rows with a wrong number of fields at lines %s" % (path, bad[:10])
    return rows[1:], None


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def fold(text):
    return " ".join(re.sub(r"[^\w$%€£]+", " ", text.lower()).split())


def words(text):
    return set(fold(text).split())


def check_topic_names(problems):
    labels = os.path.join(ROOT, "data", "twitter_financial_news_topic", "LABELS")
    if not os.path.exists(labels):
        return
    with open(labels, encoding="utf-8") as f:
        names = [line.rstrip("\n").split("\t", 1)[1] for line in f if "\t" in line]
    if names != TOPICS:
        problems.append("%s lists other topic names than this script" % labels)


def validate(d, problems):
    master, err = read_csv(os.path.join(d, "all.csv"), ["text", "sentiment", "topic"])
    if err:
        problems.append(err)
        return None
    texts = [r[0] for r in master]
    for i, (text, sent, topic) in enumerate(master):
        line = i + 2
        if sent not in SENTIMENTS:
            problems.append("all.csv:%d: unknown sentiment %r" % (line, sent))
        if topic not in TOPICS:
            problems.append("all.csv:%d: unknown topic %r" % (line, topic))
        if text != text.strip() or not text:
            problems.append("all.csv:%d: empty text or surrounding blanks" % line)
        n = len(text.split())
        if not MIN_WORDS <= n <= MAX_WORDS:
            problems.append("all.csv:%d: %d words (allowed %d-%d)" % (line, n, MIN_WORDS, MAX_WORDS))
    seen = {}
    for i, text in enumerate(texts):
        k = fold(text)
        if k in seen:
            problems.append("all.csv:%d: duplicates line %d" % (i + 2, seen[k] + 2))
        else:
            seen[k] = i
    sets = [words(t) for t in texts]
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            a, b = sets[i], sets[j]
            jac = len(a & b) / max(1, len(a | b))
            if jac >= NEAR_DUP_JACCARD and fold(texts[i]) != fold(texts[j]):
                problems.append("all.csv:%d and %d: near-duplicates (Jaccard %.2f)" % (i + 2, j + 2, jac))
    per_topic = Counter(r[2] for r in master)
    for t in TOPICS:
        if per_topic[t] < MIN_PER_TOPIC:
            problems.append("topic %r has %d sentences (at least %d wanted)" % (t, per_topic[t], MIN_PER_TOPIC))

    for name, col in (("sentiment.csv", 1), ("topic.csv", 2)):
        rows, err = read_csv(os.path.join(d, name), ["text", "label"])
        if err:
            problems.append(err)
            continue
        if len(rows) != len(master):
            problems.append("%s: %d rows, all.csv has %d" % (name, len(rows), len(master)))
        for i, (r, m) in enumerate(zip(rows, master)):
            if r[0] != m[0] or r[1] != m[col]:
                problems.append("%s:%d: differs from all.csv" % (name, i + 2))
    return master


def check_apart(master, other_dir, problems):
    """Problems for rows of master that nearly repeat a row of other_dir/all.csv."""
    other, err = read_csv(os.path.join(other_dir, "all.csv"), ["text", "sentiment", "topic"])
    if err:
        problems.append(err)
        return
    others = [words(r[0]) for r in other]
    for i, r in enumerate(master):
        a = words(r[0])
        for j, b in enumerate(others):
            jac = len(a & b) / max(1, len(a | b))
            if jac >= APART_JACCARD:
                problems.append("all.csv:%d is close to %s/all.csv:%d (Jaccard %.2f)"
                                % (i + 2, other_dir, j + 2, jac))


def tables(master):
    n = len(master)
    out = []
    sent = Counter(r[1] for r in master)
    out.append("%d sentences.\n" % n)
    out.append("| sentiment | count | share |")
    out.append("|---|---:|---:|")
    for s in SENTIMENTS:
        out.append("| %s | %d | %.1f%% |" % (s, sent[s], 100.0 * sent[s] / n))
    out.append("")
    cross = Counter((r[2], r[1]) for r in master)
    out.append("| id | topic | negative | neutral | positive | total |")
    out.append("|---:|---|---:|---:|---:|---:|")
    for i, t in enumerate(TOPICS):
        c = [cross[(t, s)] for s in SENTIMENTS]
        out.append("| %d | %s | %d | %d | %d | %d |" % (i, t.replace("|", "\\|"), c[0], c[1], c[2], sum(c)))
    out.append("| | **total** | %d | %d | %d | %d |" % (sent["negative"], sent["neutral"], sent["positive"], n))
    lengths = sorted(len(r[0].split()) for r in master)
    out.append("")
    out.append("Words per sentence: min %d, median %d, max %d." % (lengths[0], lengths[len(lengths) // 2], lengths[-1]))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=os.path.join(ROOT, "data", "news_check"))
    ap.add_argument("--apart-from", metavar="DIR",
                    help="also fail when a sentence nearly repeats one of DIR/all.csv")
    ap.add_argument("--write-splits", action="store_true",
                    help="rewrite sentiment.csv and topic.csv from all.csv first")
    args = ap.parse_args()

    if args.write_splits:
        master, err = read_csv(os.path.join(args.dir, "all.csv"), ["text", "sentiment", "topic"])
        if err:
            print(err, file=sys.stderr)
            return 1
        write_csv(os.path.join(args.dir, "sentiment.csv"), ["text", "label"], [(r[0], r[1]) for r in master])
        write_csv(os.path.join(args.dir, "topic.csv"), ["text", "label"], [(r[0], r[2]) for r in master])

    problems = []
    check_topic_names(problems)
    master = validate(args.dir, problems)
    if master and args.apart_from:
        check_apart(master, args.apart_from, problems)
    if master:
        print(tables(master))
    for p in problems:
        print("news_check: " + p, file=sys.stderr)
    if problems:
        print("news_check: %d problem(s)" % len(problems), file=sys.stderr)
        return 1
    print("\nnews_check: all checks passed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
