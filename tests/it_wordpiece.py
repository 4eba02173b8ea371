#!/usr/bin/env python3
"""Parity of `finsent tokenize` (classify/wordpiece.h) with Hugging Face's BERT
tokenizers on the all-MiniLM-L6-v2 base (installed by `make base-model`; env
FINSENT_MINILM overrides the path; a missing base FAILS):

- every text of the four bundled CSVs and texts of the crawl fixtures (feed titles
  and summaries through feedparser, paragraphs of the saved pages), at max_length
  512 and 128: ids must equal BertTokenizerFast's on every text (PASS only at
  100%); the slow BertTokenizer's disagreements are counted and shown as
  information (wordpiece.h explains them);
- synthetic hard cases (accents, CJK, emoji, controls, invalid UTF-8, NULs, long
  words, special tokens written in the text);
- the other four option sets of tokenizer_config.json (do_lower_case,
  strip_accents, tokenize_chinese_chars) on the synthetic texts and 2,000 CSV texts;
- every code point, under the five option sets, through a synthetic vocabulary that
  holds every character as a piece and as a "##" piece, so that the ids spell out
  the normalised text character by character; plus pairs of combining characters
  for NFD's canonical ordering;
- broken bases (missing dir, no vocab.txt, a vocabulary without [UNK], malformed
  tokenizer_config.json) exit with status 7 and one line.

Needs transformers and tokenizers (requirements-ref.txt): when the running Python
lacks them, the script re-runs itself under .venv/bin/python or /tmp/tv/bin/python.
"""
import csv
import glob
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata

ROOT = os.environ.get("FINSENT_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CANDIDATES = [os.path.join(ROOT, ".venv/bin/python"), "/tmp/tv/bin/python"]


def ensure_reference_python():
    try:
        import tokenizers  # noqa: F401
        import transformers  # noqa: F401
        return
    except ImportError:
        pass
    # (a venv's python is a link to the system one: the environment variable, not
    # the path, stops a second re-run)
    if not os.environ.get("FINSENT_IT_WORDPIECE_REEXEC"):
        os.environ["FINSENT_IT_WORDPIECE_REEXEC"] = "1"
        for py in CANDIDATES:
            if os.access(py, os.X_OK) and subprocess.run(
                    [py, "-c", "import transformers, tokenizers"], capture_output=True).returncode == 0:
                os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])
    print("FAIL it_wordpiece: no Python with transformers and tokenizers (run 'make deps')")
    sys.exit(1)


ensure_reference_python()

import transformers  # noqa: E402
from transformers import BertTokenizer, BertTokenizerFast  # noqa: E402

transformers.logging.set_verbosity_error()

BIN = os.environ.get("FINSENT_BIN", os.path.join(ROOT, "finsent"))
BASE = os.environ.get("FINSENT_MINILM") or os.path.join(
    os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"),
    "finsent/base/sentence-transformers/all-MiniLM-L6-v2")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Report  # noqa: E402

report = Report()
TEMP_DIRS = []


def temp_dir(tag):
    d = tempfile.mkdtemp(prefix=f"finsent-it-wordpiece-{tag}-")
    TEMP_DIRS.append(d)
    return d


def one_line(t):
    """Texts travel one per line: CR and LF become spaces (for both sides)."""
    return t.replace("\r", " ").replace("\n", " ")


def finsent_tokenize(base, texts, max_len, raw=False):
    """ids per text from `finsent tokenize --json` (texts: str, or bytes when raw)."""
    data = b"\n".join(t if raw else t.encode("utf-8") for t in texts) + b"\n"
    p = subprocess.run([BIN, "tokenize", "--base", base, "--json", "--max-len", str(max_len)],
                       input=data, capture_output=True, timeout=900)
    if p.returncode != 0:
        raise RuntimeError(f"finsent tokenize exited {p.returncode}: {p.stderr.decode()[-300:]}")
    out = [json.loads(line)["ids"] for line in p.stdout.decode("utf-8").split("\n") if line]
    if len(out) != len(texts):
        raise RuntimeError(f"finsent tokenize gave {len(out)} lines for {len(texts)} texts")
    return out


def hf_ids(tok, texts, max_len):
    return tok(list(texts), truncation=True, max_length=max_len)["input_ids"]


# ---- texts ------------------------------------------------------------------------------
def csv_texts():
    out = []
    for task in ("sentiment", "topic"):
        for split in ("train", "validation"):
            path = os.path.join(ROOT, f"data/twitter_financial_news_{task}/{split}.csv")
            with open(path, newline="", encoding="utf-8") as f:
                out += [one_line(r["text"]) for r in csv.DictReader(f)]
    return out


class Paragraphs(html.parser.HTMLParser):
    """Text of each <p>, <li>, <h1-3> and <title> element of a page."""

    BLOCKS = {"p", "li", "h1", "h2", "h3", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth, self.cur, self.out = 0, [], []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.BLOCKS and self.depth:
            self.depth -= 1
            if self.depth == 0:
                t = " ".join("".join(self.cur).split())
                if t:
                    self.out.append(t)
                self.cur = []

    def handle_data(self, data):
        if self.depth:
            self.cur.append(data)


def fixture_texts():
    import feedparser

    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/feeds/*"))):
        if path.endswith(".md"):
            continue
        d = feedparser.parse(path)
        for e in d.entries:
            for key in ("title", "summary"):
                if e.get(key):
                    out.append(one_line(e[key]))
            for c in e.get("content", []):
                out.append(one_line(c.get("value", "")))
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/pages/*.html"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            p = Paragraphs()
            p.feed(f.read())
            out += [one_line(t) for t in p.out]
            # the whole page's text too: long inputs that truncation must cut
            out.append(one_line(" ".join(p.out)))
    return [t for t in out if t]


SYNTHETIC = [
    "", " ", "\t", "Café naïve résumé façade Ångström", "CAFÉ NAÏVE", "Straße İstanbul ǅemal",
    "中文字符 and 日本語のテキスト 한국어 텍스트", "abc中def", "𠀀𪜀𫝀𫠠𫤠 U+2B820..2B91F",
    "emoji 🚀📈💰🤑🥰🫨 👨‍👩‍👧 🇺🇸", "tabs\tand\x0bvertical\x0cfeeds\x1fand\x7fdel\x85nel",
    "zero\u200bwidth\u200djoiner\ufeffbom soft\u00adhyphen", "line\u2028sep\u2029para",
    "nbsp\u00a0thin\u2009ideographic\u3000space", "quotes “curly” ‘single’ «guillemets» — dash … ellipsis",
    "$AAPL +5.3% @user #tag https://t.co/abc?x=1&y=2", "[CLS] [SEP] [PAD] [UNK] [MASK]",
    "x[SEP]y [cls] [Unk] [MASK", "[[SEP]] [SE[SEP]P] [[[MASK]]]", "##ing ##",
    "a" * 100, "a" * 101, "é" * 100, "é" * 101,
    "supercalifragilisticexpialidocious " * 3, "Σίσυφος ΣΊΣΥΦΟΣ ΌΣΟΣ", "ǈǉǊǋǌ ﬁﬂ ﬀ Ⅻ ①",
    "e\u0301\u0327 a\u0345\u0301 \u1100\u1161\u11a8", "\U0010ffff\U000e0001\ue000 private",
    "ﬃ ẞ ß ŉ ǰ ΐ", "\u0378\u0379 unassigned", "1,000.50 10:30 3/4 50% -5%", "a.b.c...d!!!e???",
    "Ⓐⓑ Ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "\u2e43\u2e44 \u166d \U000111c9 \u1734",
]
# bytes given to finsent as they are, decoded for HF as Python does (errors="replace")
RAW = [b"ok\xffbad \xc3\x28 \xe2\x82 end", b"nul\x00inside", b"\xed\xa0\x80surrogate",
       b"\xf4\x90\x80\x80above", b"\xc0\xafoverlong", b"trunc\xe4\xb8", b"\x80\x81\x82",
       b"caf\xc3\xa9 mixed \xfe\xfe ok"]


# ---- checks ------------------------------------------------------------------------------
def compare(name, base, texts, fast, slow, max_len, raw=False):
    t0 = time.monotonic()
    got = finsent_tokenize(base, texts, max_len, raw)
    t1 = time.monotonic()
    ref_texts = [t.decode("utf-8", "replace") for t in texts] if raw else texts
    want = hf_ids(fast, ref_texts, max_len)
    same = sum(g == w for g, w in zip(got, want))
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    print(f"  {name}: ids identical on {same}/{len(texts)} texts vs BertTokenizerFast "
          f"(max_length {max_len}; finsent {t1 - t0:.2f} s)")
    for i in bad[:5]:
        print(f"    text {i} {ref_texts[i][:120]!r}\n      finsent {got[i][:40]}\n      fast    {want[i][:40]}")
    if slow is not None:
        want_slow = hf_ids(slow, ref_texts, max_len)
        diff = [i for i, (g, w) in enumerate(zip(got, want_slow)) if g != w]
        print(f"  {name}: ids identical on {len(texts) - len(diff)}/{len(texts)} texts vs slow "
              "BertTokenizer (information; wordpiece.h explains the differences)")
        for i in diff[:5]:
            print(f"    slow differs on text {i}: {ref_texts[i][:100]!r}")
    report(same == len(texts), f"it_wordpiece:{name}_{max_len}",
           f"{len(texts) - same} of {len(texts)} texts differ from BertTokenizerFast")


def check_real_texts():
    fast = BertTokenizerFast.from_pretrained(BASE)
    slow = BertTokenizer.from_pretrained(BASE)
    sets = [("csv", csv_texts()), ("fixtures", fixture_texts()), ("synthetic", SYNTHETIC)]
    for max_len in (512, 128):
        for name, texts in sets:
            compare(name, BASE, texts, fast, slow if max_len == 512 else None, max_len)
        compare("invalid_utf8", BASE, RAW, fast, slow, max_len, raw=True)


# ---- every code point ----------------------------------------------------------------------
OPTION_SETS = [  # (do_lower_case, strip_accents, tokenize_chinese_chars)
    (True, None, True), (False, None, True), (True, False, True), (False, True, True),
    (True, None, False)]


def excluded(cp):
    """Characters a vocabulary line cannot hold (line ends, NUL) and surrogates."""
    return cp in (0, 0x0A, 0x0D) or 0xD800 <= cp <= 0xDFFF


def write_char_vocab(d):
    path = os.path.join(d, "vocab.txt")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(SPECIALS) + "\n")
        for cp in range(0x110000):
            if not excluded(cp):
                c = chr(cp)
                f.write(f"{c}\n##{c}\n")
    return path


def mark_pairs():
    """Pairs of combining characters whose order NFD's reordering may change and
    strip_accents does not hide (not Mn), with a few common marks."""
    sel = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF
           and unicodedata.combining(chr(cp)) and unicodedata.category(chr(cp)) != "Mn"]
    sel += [0x301, 0x316, 0x334, 0x345, 0x7FD, 0x1DF6, 0x1734, 0x11938]
    return [f"a{chr(x)}{chr(y)}b" for x in sel for y in sel]


def write_config(d, lower, strip, chinese):
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": lower, "strip_accents": strip, "tokenize_chinese_chars": chinese,
                   "tokenizer_class": "BertTokenizer"}, f)


def option_name(lower, strip, chinese):
    return f"lower{int(lower)}_strip{strip}_cjk{int(chinese)}"


def check_option_sets():
    """Each option set as BertTokenizerFast reads it from tokenizer_config.json, on
    the real vocabulary: the synthetic texts and the first 2,000 of the CSVs."""
    d = temp_dir("opt")
    texts = SYNTHETIC + csv_texts()[:2000]
    for lower, strip, chinese in OPTION_SETS[1:]:
        sub = os.path.join(d, option_name(lower, strip, chinese))
        os.makedirs(sub)
        os.symlink(os.path.join(BASE, "vocab.txt"), os.path.join(sub, "vocab.txt"))
        write_config(sub, lower, strip, chinese)
        compare(f"options_{option_name(lower, strip, chinese)}", sub, texts,
                BertTokenizerFast.from_pretrained(sub), None, 512)


def check_code_points():
    """The synthetic vocabulary is loaded once (converting 2.2M tokens takes ~12 s);
    the other option sets swap in the normaliser BertTokenizerFast builds from them
    (check_option_sets checks that reading on the real vocabulary)."""
    from tokenizers import normalizers

    d = temp_dir("cp")
    vocab = write_char_vocab(d)
    cps = [cp for cp in range(0x110000) if not excluded(cp)]
    per = 48
    texts = [" ".join(f"x{chr(cp)}y" for cp in cps[i:i + per]) for i in range(0, len(cps), per)]
    texts += mark_pairs()
    fast = None
    for lower, strip, chinese in OPTION_SETS:
        sub = os.path.join(d, option_name(lower, strip, chinese))
        os.makedirs(sub)
        os.symlink(vocab, os.path.join(sub, "vocab.txt"))
        write_config(sub, lower, strip, chinese)
        if fast is None:
            fast = BertTokenizerFast.from_pretrained(sub)
        else:
            fast.backend_tokenizer.normalizer = normalizers.BertNormalizer(
                clean_text=True, handle_chinese_chars=chinese, strip_accents=strip, lowercase=lower)
        compare(f"code_points_{option_name(lower, strip, chinese)}", sub, texts, fast, None, 4096)


# ---- broken bases ----------------------------------------------------------------------------
def check_broken_bases():
    d = temp_dir("bad")
    cases = {"no_vocab": {}, "no_unk": {"vocab.txt": "[PAD]\n[CLS]\n[SEP]\n[MASK]\na\n"},
             "bad_config": {"vocab.txt": "\n".join(SPECIALS) + "\n", "tokenizer_config.json": "{"},
             "bad_option": {"vocab.txt": "\n".join(SPECIALS) + "\n",
                            "tokenizer_config.json": '{"do_lower_case": "yes"}'},
             "bad_utf8": {"vocab.txt": b"\n".join(s.encode() for s in SPECIALS) + b"\n\xff\n"}}
    dirs = {"missing": os.path.join(d, "missing")}
    for name, files in cases.items():
        sub = os.path.join(d, name)
        os.makedirs(sub)
        for fn, content in files.items():
            with open(os.path.join(sub, fn), "wb") as f:
                f.write(content if isinstance(content, bytes) else content.encode())
        dirs[name] = sub
    for name, sub in dirs.items():
        p = subprocess.run([BIN, "tokenize", "--base", sub, "x"], capture_output=True, text=True)
        err = p.stderr.strip()
        report(p.returncode == 7 and err.count("\n") == 0 and err.startswith("finsent: "),
               f"it_wordpiece:broken_base_{name}", f"exit {p.returncode}, stderr {err!r}")


def main():
    if not os.path.isdir(BASE):
        report(False, "it_wordpiece:base", f"no base at {BASE} (run 'make base-model' or set FINSENT_MINILM)")
        return 1
    check_real_texts()
    check_option_sets()
    check_code_points()
    check_broken_bases()
    for d in TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
