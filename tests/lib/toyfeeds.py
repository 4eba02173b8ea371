"""toyfeeds — a small, fully synthetic financial-news world for end-to-end tests.

Texts are built from a topic phrase and a sentiment phrase, so that a tiny model
trained in seconds (make_training_csvs) can tell both apart, and feed snapshots
(rss) can make one topic turn negative at a chosen hour.
"""
import csv
import random
from email.utils import format_datetime
from datetime import datetime, timezone
from xml.sax.saxutils import escape

TOPICS = {
    "Energy | Oil": ["crude oil", "brent crude", "opec output", "oil refiners", "natural gas",
                     "shale drillers"],
    "Company | Product News": ["apple unveils iphone", "tesla launches truck",
                               "microsoft ships software", "nike opens store",
                               "boeing delivers jets", "intel releases chip"],
    "Fed | Central Banks": ["federal reserve", "fed chair powell", "central bank rates",
                            "ecb policy makers", "fomc minutes", "bank of england"],
}
SENTIMENTS = {
    "negative": ["plunge sharply", "crash amid fears", "slump to lows", "tumble on losses",
                 "sink after warning", "collapse on weak demand"],
    "neutral": ["scheduled for tuesday", "report released today", "meeting set next week",
                "data published monday", "statement due thursday", "figures out friday"],
    "positive": ["soar to record", "rally strongly", "jump on gains", "surge higher",
                 "climb on strong demand", "beat expectations"],
}


def text(topic, sentiment, rng, serial=None):
    """A headline; serial makes it unique (the crawler dedupes equal content)."""
    if serial is None:
        serial = rng.randint(1, 9999)
    return f"{rng.choice(TOPICS[topic])} {rng.choice(SENTIMENTS[sentiment])} (story {serial})"


def make_training_csvs(topic_path, sentiment_path, n=600, seed=7):
    rng = random.Random(seed)
    with open(topic_path, "w", newline="") as ft, open(sentiment_path, "w", newline="") as fs:
        wt, ws = csv.writer(ft), csv.writer(fs)
        wt.writerow(["text", "label"])
        ws.writerow(["text", "label"])
        for _ in range(n):
            topic = rng.choice(list(TOPICS))
            sent = rng.choice(list(SENTIMENTS))
            wt.writerow([text(topic, sent, rng), topic])
            topic = rng.choice(list(TOPICS))
            sent = rng.choice(list(SENTIMENTS))
            ws.writerow([text(topic, sent, rng), sent])


def rss(title, link, items):
    """items: list of dicts with guid, title, link, description, published (epoch)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<rss version="2.0"><channel>',
           f"<title>{escape(title)}</title><link>{escape(link)}</link>",
           "<description>synthetic test feed</description>"]
    for it in items:
        when = format_datetime(datetime.fromtimestamp(it["published"], timezone.utc),
                               usegmt=True)
        out.append("<item>"
                   f"<title>{escape(it['title'])}</title>"
                   f"<link>{escape(it['link'])}</link>"
                   f"<guid isPermaLink=\"false\">{escape(it['guid'])}</guid>"
                   f"<description>{escape(it['description'])}</description>"
                   f"<pubDate>{when}</pubDate>"
                   "</item>")
    out.append("</channel></rss>")
    return "\n".join(out)
