#!/usr/bin/env python3
"""Writes classify/unicode_tables.h: the Unicode data classify/wordpiece.c needs to
reproduce Hugging Face's BERT normaliser and pre-tokeniser (tokenizers 0.20.3).

    scripts/gen_unicode_tables.py                 regenerate classify/unicode_tables.h
    scripts/gen_unicode_tables.py --check         exit 1 when the header is stale
    scripts/gen_unicode_tables.py --probe         print the TOKENIZERS_* overlay below,
                                                  derived from the installed tokenizers

Every table comes from Python's unicodedata (Unicode 14.0.0 in Python 3.11), then
an overlay pins the older tables that tokenizers is built with: its category
predicates (the unicode_categories crate) date from Unicode 8.0 and its NFD (the
unicode-normalization-alignments crate) from Unicode 9.0, so characters assigned or
re-categorised since then behave differently there. The overlay lists exactly those
code points; --probe re-derives it by asking tokenizers about every code point (it
needs the tokenizers package; run it with the reference venv's python), and the
header is only generated under the Unicode version the overlay was derived for.

Tables (all sorted, searched by binary search in wordpiece.c):
    uc_control   ranges BertNormalizer's clean_text drops (Cc Cf Co Cs, less TAB LF CR)
    uc_space     ranges clean_text turns into ' ' (TAB LF CR, Zs, U+2028, U+2029)
    uc_mn        ranges of nonspacing marks (Mn), removed after NFD by strip_accents
    uc_punct     ranges of non-ASCII punctuation (P*); ASCII is in wordpiece.c
    uc_ccc       ranges of canonical combining classes != 0 (NFD's reordering)
    uc_decomp    full canonical decomposition of each decomposable code point,
                 Hangul syllables excepted (computed in wordpiece.c)
    uc_lower     ranges of simple lowercase mappings (first, last, stride, delta);
                 U+0130, the only code point whose lowercase is two characters
                 (U+0069 U+0307), is special-cased in wordpiece.c
"""
import argparse
import os
import sys
import unicodedata

UNICODE_VERSION = "14.0.0"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "classify", "unicode_tables.h")
MAX_CP = 0x110000
HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3

# ---- overlay: where tokenizers 0.20.3 disagrees with unicodedata 14.0.0 (--probe) ----
# Each list holds inclusive (first, last) ranges.
# Cf code points tokenizers does not know (clean_text keeps them)
TOKENIZERS_CONTROL_OFF = [
    (0x890, 0x891), (0x8e2, 0x8e2), (0x110cd, 0x110cd), (0x13430, 0x13438),
]
# Mn code points tokenizers does not know (strip_accents keeps them)
TOKENIZERS_MN_OFF = [
    (0x7fd, 0x7fd), (0x898, 0x89f), (0x8ca, 0x8e1), (0x9fe, 0x9fe), (0xafa, 0xaff),
    (0xb55, 0xb55), (0xc04, 0xc04), (0xc3c, 0xc3c), (0xd00, 0xd00), (0xd3b, 0xd3c),
    (0xd81, 0xd81), (0xeba, 0xeba), (0x180f, 0x180f), (0x1885, 0x1886), (0x1abf, 0x1ace),
    (0x1df6, 0x1dfb), (0xa82c, 0xa82c), (0xa8c5, 0xa8c5), (0xa8ff, 0xa8ff), (0xa9bd, 0xa9bd),
    (0x10d24, 0x10d27), (0x10eab, 0x10eac), (0x10f46, 0x10f50), (0x10f82, 0x10f85), (0x11070, 0x11070),
    (0x11073, 0x11074), (0x110c2, 0x110c2), (0x111c9, 0x111c9), (0x111cf, 0x111cf), (0x1123e, 0x1123e),
    (0x1133b, 0x1133b), (0x11438, 0x1143f), (0x11442, 0x11444), (0x11446, 0x11446), (0x1145e, 0x1145e),
    (0x1182f, 0x11837), (0x11839, 0x1183a), (0x1193b, 0x1193c), (0x1193e, 0x1193e), (0x11943, 0x11943),
    (0x119d4, 0x119d7), (0x119da, 0x119db), (0x119e0, 0x119e0), (0x11a01, 0x11a0a), (0x11a33, 0x11a38),
    (0x11a3b, 0x11a3e), (0x11a47, 0x11a47), (0x11a51, 0x11a56), (0x11a59, 0x11a5b), (0x11a8a, 0x11a96),
    (0x11a98, 0x11a99), (0x11c30, 0x11c36), (0x11c38, 0x11c3d), (0x11c3f, 0x11c3f), (0x11c92, 0x11ca7),
    (0x11caa, 0x11cb0), (0x11cb2, 0x11cb3), (0x11cb5, 0x11cb6), (0x11d31, 0x11d36), (0x11d3a, 0x11d3a),
    (0x11d3c, 0x11d3d), (0x11d3f, 0x11d45), (0x11d47, 0x11d47), (0x11d90, 0x11d91), (0x11d95, 0x11d95),
    (0x11d97, 0x11d97), (0x11ef3, 0x11ef4), (0x16f4f, 0x16f4f), (0x16fe4, 0x16fe4), (0x1cf00, 0x1cf2d),
    (0x1cf30, 0x1cf46), (0x1e000, 0x1e006), (0x1e008, 0x1e018), (0x1e01b, 0x1e021), (0x1e023, 0x1e024),
    (0x1e026, 0x1e02a), (0x1e130, 0x1e136), (0x1e2ae, 0x1e2ae), (0x1e2ec, 0x1e2ef), (0x1e944, 0x1e94a),
]
# Mn in Unicode 8.0, Mc since
TOKENIZERS_MN_ON = [
    (0x1734, 0x1734),
]
# P* code points tokenizers does not know (not split off)
TOKENIZERS_PUNCT_OFF = [
    (0x61d, 0x61d), (0x9fd, 0x9fd), (0xa76, 0xa76), (0xc77, 0xc77), (0xc84, 0xc84),
    (0x1b7d, 0x1b7e), (0x2e43, 0x2e4f), (0x2e52, 0x2e5d), (0x10ead, 0x10ead), (0x10f55, 0x10f59),
    (0x10f86, 0x10f89), (0x1144b, 0x1144f), (0x1145a, 0x1145b), (0x1145d, 0x1145d), (0x11660, 0x1166c),
    (0x116b9, 0x116b9), (0x1183b, 0x1183b), (0x11944, 0x11946), (0x119e2, 0x119e2), (0x11a3f, 0x11a46),
    (0x11a9a, 0x11a9c), (0x11a9e, 0x11aa2), (0x11c41, 0x11c45), (0x11c70, 0x11c71), (0x11ef7, 0x11ef8),
    (0x11fff, 0x11fff), (0x12ff1, 0x12ff2), (0x16e97, 0x16e9a), (0x16fe2, 0x16fe2), (0x1e95e, 0x1e95f),
]
# Po in Unicode 8.0, So or Mn since
TOKENIZERS_PUNCT_ON = [
    (0x166d, 0x166d), (0x111c9, 0x111c9),
]
# code points whose canonical combining class tokenizers' NFD takes as 0
TOKENIZERS_CCC_ZERO = [
    (0x7fd, 0x7fd), (0x898, 0x89f), (0x8ca, 0x8d3), (0x9fe, 0x9fe), (0xc3c, 0xc3c),
    (0xd3b, 0xd3c), (0xeba, 0xeba), (0x1715, 0x1715), (0x1abf, 0x1ace), (0x1df6, 0x1dfa),
    (0xa82c, 0xa82c), (0x10d24, 0x10d27), (0x10eab, 0x10eac), (0x10f46, 0x10f50), (0x10f82, 0x10f85),
    (0x11070, 0x11070), (0x1133b, 0x1133b), (0x1145e, 0x1145e), (0x11839, 0x1183a), (0x1193d, 0x1193e),
    (0x11943, 0x11943), (0x119e0, 0x119e0), (0x11a34, 0x11a34), (0x11a47, 0x11a47), (0x11a99, 0x11a99),
    (0x11d42, 0x11d42), (0x11d44, 0x11d45), (0x11d97, 0x11d97), (0x16ff0, 0x16ff1), (0x1e130, 0x1e136),
    (0x1e2ae, 0x1e2ae), (0x1e2ec, 0x1e2ef),
]
# code points tokenizers' NFD leaves whole
TOKENIZERS_NFD_NONE = [
    (0x11938, 0x11938),
]
# ---- end of overlay -------------------------------------------------------------------


def chars():
    for cp in range(MAX_CP):
        if not 0xD800 <= cp <= 0xDFFF:
            yield cp


def in_ranges(cp, ranges):
    return any(a <= cp <= b for a, b in ranges)


def to_ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return [tuple(r) for r in out]


def apply_overlay(cps, off, on):
    s = {cp for cp in cps if not in_ranges(cp, off)}
    for a, b in on:
        s.update(range(a, b + 1))
    return s


# ---- what unicodedata says ----------------------------------------------------------
def py_control(cp):
    c = chr(cp)
    return c not in "\t\n\r" and unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs")


def py_space(cp):
    c = chr(cp)
    return c in "\t\n\r\u2028\u2029" or unicodedata.category(c) == "Zs"


def py_mn(cp):
    return unicodedata.category(chr(cp)) == "Mn"


def py_punct(cp):
    return cp >= 0x80 and unicodedata.category(chr(cp)).startswith("P")


def py_decomp(cp):
    if HANGUL_FIRST <= cp <= HANGUL_LAST:
        return None
    d = unicodedata.normalize("NFD", chr(cp))
    return None if d == chr(cp) else [ord(x) for x in d]


def py_lower(cp):
    return chr(cp).lower()


# ---- tables with the overlay applied -----------------------------------------------
def tables():
    cps = list(chars())
    control = apply_overlay([c for c in cps if py_control(c)], TOKENIZERS_CONTROL_OFF, [])
    space = {c for c in cps if py_space(c)}
    mn = apply_overlay([c for c in cps if py_mn(c)], TOKENIZERS_MN_OFF, TOKENIZERS_MN_ON)
    punct = apply_overlay([c for c in cps if py_punct(c)], TOKENIZERS_PUNCT_OFF, TOKENIZERS_PUNCT_ON)
    ccc = {}
    for c in cps:
        k = unicodedata.combining(chr(c))
        if k and not in_ranges(c, TOKENIZERS_CCC_ZERO):
            ccc[c] = k
    decomp = {}
    for c in cps:
        d = py_decomp(c)
        if d and not in_ranges(c, TOKENIZERS_NFD_NONE):
            decomp[c] = d
    lower = {}
    for c in cps:
        lo = py_lower(c)
        if lo == chr(c):
            continue
        if len(lo) != 1:
            if c != 0x130:
                sys.exit(f"gen_unicode_tables: U+{c:04X} lowercases to {len(lo)} characters")
            continue
        lower[c] = ord(lo)
    return control, space, mn, punct, ccc, decomp, lower


def lower_ranges(lower):
    """(first, last, stride, delta): every stride-th code point from first to last
    maps to itself + delta (stride 1 for blocks, 2 for alternating upper/lower)."""
    out = []
    for cp in sorted(lower):
        delta = lower[cp] - cp
        if out:
            first, last, stride, d = out[-1]
            if d == delta and stride == 0 and cp - last in (1, 2):
                out[-1] = (first, cp, cp - last, d)
                continue
            if d == delta and stride and cp - last == stride:
                out[-1] = (first, cp, stride, d)
                continue
        out.append((cp, cp, 0, delta))
    return [(a, b, s or 1, d) for a, b, s, d in out]


def ccc_ranges(ccc):
    out = []
    for cp in sorted(ccc):
        if out and out[-1][1] == cp - 1 and out[-1][2] == ccc[cp]:
            out[-1][1] = cp
        else:
            out.append([cp, cp, ccc[cp]])
    return out


def fmt_rows(rows, per_line):
    lines = []
    for i in range(0, len(rows), per_line):
        lines.append("    " + " ".join(rows[i:i + per_line]))
    return "\n".join(lines)


def render():
    control, space, mn, punct, ccc, decomp, lower = tables()
    out = []
    out.append("/*\n * unicode_tables.h — generated by scripts/gen_unicode_tables.py from Python's\n"
               f" * unicodedata (Unicode {UNICODE_VERSION}) with the overlay that pins tokenizers 0.20.3's\n"
               " * older tables. Do not edit; the script's docstring describes each table.\n"
               " * Included by classify/wordpiece.c only.\n */\n")
    out.append("#ifndef FINSENT_UNICODE_TABLES_H\n#define FINSENT_UNICODE_TABLES_H\n\n#include <stdint.h>\n")
    out.append("struct uc_range {\n    uint32_t first, last;\n};\n")
    out.append("struct uc_ccc_range {\n    uint32_t first, last, ccc;\n};\n")
    out.append("struct uc_lower_range {\n    uint32_t first, last, stride;\n    int32_t delta;\n};\n")
    out.append("struct uc_decomp {\n    uint32_t cp;\n    uint16_t offset, len; /* into uc_decomp_pool */\n};\n")

    def range_table(name, cps):
        rows = [f"{{0x{a:X}, 0x{b:X}}}," for a, b in to_ranges(cps)]
        out.append(f"static const struct uc_range {name}[] = {{\n{fmt_rows(rows, 4)}\n}};\n")

    range_table("uc_control", control)
    range_table("uc_space", space)
    range_table("uc_mn", mn)
    range_table("uc_punct", punct)
    rows = [f"{{0x{a:X}, 0x{b:X}, {k}}}," for a, b, k in ccc_ranges(ccc)]
    out.append(f"static const struct uc_ccc_range uc_ccc[] = {{\n{fmt_rows(rows, 4)}\n}};\n")
    rows = [f"{{0x{a:X}, 0x{b:X}, {s}, {d}}}," for a, b, s, d in lower_ranges(lower)]
    out.append(f"static const struct uc_lower_range uc_lower[] = {{\n{fmt_rows(rows, 3)}\n}};\n")
    pool, rows = [], []
    for cp in sorted(decomp):
        d = decomp[cp]
        rows.append(f"{{0x{cp:X}, {len(pool)}, {len(d)}}},")
        pool.extend(d)
    if len(pool) > 0xFFFF:
        sys.exit("gen_unicode_tables: decomposition pool too large for uint16_t offsets")
    out.append(f"static const struct uc_decomp uc_decomp[] = {{\n{fmt_rows(rows, 4)}\n}};\n")
    prow = [f"0x{x:X}," for x in pool]
    out.append(f"static const uint32_t uc_decomp_pool[] = {{\n{fmt_rows(prow, 8)}\n}};\n")
    out.append("#endif\n")
    return "\n".join(out)


# ---- --probe: the overlay from tokenizers itself -----------------------------------
def probe():
    from tokenizers import normalizers, pre_tokenizers

    N = normalizers.BertNormalizer
    clean = N(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = N(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    nfd = normalizers.NFD()
    pre = pre_tokenizers.BertPreTokenizer()
    lists = {k: [] for k in ("CONTROL_OFF", "CONTROL_ON", "MN_OFF", "MN_ON", "PUNCT_OFF",
                             "PUNCT_ON", "CCC_ZERO", "NFD_NONE", "SPACE", "LOWER")}
    for cp in chars():
        c = chr(cp)
        if cp in (0, 0xFFFD):
            continue
        got = clean.normalize_str(c)
        ref_control, ref_space = got == "", got == " "
        if ref_control != py_control(cp):
            lists["CONTROL_OFF" if py_control(cp) else "CONTROL_ON"].append(cp)
        if ref_space != py_space(cp):
            lists["SPACE"].append(cp)
        ref_d = nfd.normalize_str(c)
        py_d = py_decomp(cp)
        if py_d and ref_d == c:
            lists["NFD_NONE"].append(cp)
        elif ref_d != (c if not py_d else "".join(map(chr, py_d))) and not HANGUL_FIRST <= cp <= HANGUL_LAST:
            sys.exit(f"probe: NFD of U+{cp:04X} differs otherwise; extend the overlay")
        if ref_d == c:  # a mark is only ever filtered as itself, after NFD
            ref_mn = strip.normalize_str(c) == ""
            if ref_mn != py_mn(cp):
                lists["MN_OFF" if py_mn(cp) else "MN_ON"].append(cp)
        if cp >= 0x80 and not ref_space and not py_space(cp):
            ref_p = len(pre.pre_tokenize_str("a" + c + "b")) == 3
            if ref_p != py_punct(cp):
                lists["PUNCT_OFF" if py_punct(cp) else "PUNCT_ON"].append(cp)
        k = unicodedata.combining(c)
        if k:
            for s in ("a\u0345" + c, "a" + c + "\u0334"):  # ccc 240 before, ccc 1 after
                if nfd.normalize_str(s) != unicodedata.normalize("NFD", s):
                    if nfd.normalize_str(s) != s:
                        sys.exit(f"probe: ccc of U+{cp:04X} differs otherwise; extend the overlay")
                    lists["CCC_ZERO"].append(cp)
                    break
        if N(clean_text=False, handle_chinese_chars=False, strip_accents=False,
             lowercase=True).normalize_str(c) != (c.lower() if cp != 0x130 else "i\u0307"):
            lists["LOWER"].append(cp)
    for k in ("CONTROL_ON", "SPACE", "LOWER"):
        if lists[k]:
            sys.exit(f"probe: {k} differs at {[hex(x) for x in lists[k][:10]]}; extend the overlay")
    for k in ("CONTROL_OFF", "MN_OFF", "MN_ON", "PUNCT_OFF", "PUNCT_ON", "CCC_ZERO", "NFD_NONE"):
        rows = [f"(0x{a:x}, 0x{b:x})," for a, b in to_ranges(lists[k])]
        print(f"TOKENIZERS_{k} = [")
        for i in range(0, len(rows), 5):
            print("    " + " ".join(rows[i:i + 5]))
        print("]")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 when the header is stale")
    ap.add_argument("--probe", action="store_true", help="print the overlay derived from tokenizers")
    a = ap.parse_args()
    if unicodedata.unidata_version != UNICODE_VERSION:
        sys.exit(f"gen_unicode_tables: Python has Unicode {unicodedata.unidata_version}, the overlay "
                 f"was derived for {UNICODE_VERSION}: run --probe with tokenizers 0.20.3 installed, "
                 "paste its lists and update UNICODE_VERSION")
    if a.probe:
        probe()
        return
    text = render()
    if a.check:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit("gen_unicode_tables: classify/unicode_tables.h is stale (rerun the script)")
        print("gen_unicode_tables: classify/unicode_tables.h is up to date")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"gen_unicode_tables: wrote {os.path.normpath(OUT)} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
