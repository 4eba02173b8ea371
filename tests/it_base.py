#!/usr/bin/env python3
"""Integration test of `finsent base fetch` and `finsent base list` against a
real HTTP server on 127.0.0.1 laid out like the Hugging Face hub
(/{name}/resolve/{revision}/{file}).

The checkpoint is a tiny random BERT made here with transformers (BertConfig,
save_pretrained(safe_serialization=True), BertTokenizer's vocab.txt and
tokenizer_config.json). The server answers like the hub for the good case (a
302 to a /cdn/ URL carrying X-Linked-Etag = the LFS sha256 and X-Linked-Size)
and, by mode, breaks one thing: a body cut short under its Content-Length, a
body cut short without one, a garbage safetensors header, a wrong sha256, a 404,
a redirect to file://, a non-BERT config, no tokenizer_config.json. Each bad
case must fail with one line on stderr and the documented exit status, leave no
usable base and no temp directory, and leave a base installed before untouched.
Runs finsent with HF_ENDPOINT (or [model] hub) at the server and XDG_DATA_HOME
in a temp dir. Prints PASS/FAIL/SKIP lines.
"""
import hashlib
import http.server
import json
import os
import shutil
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from fstest import Suite, finsent, missing_line, one_line, tempdir  # noqa: E402

NAME = "tiny-org/tiny-bert"
FILES = ["config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors"]
VOCAB = 12000  # about 1.6 MB of weights: big enough for one progress line


def make_checkpoint(out):
    """A tiny random BERT in the hub's layout; returns None or why not."""
    try:
        import torch
        from transformers import BertConfig, BertModel, BertTokenizer
    except ImportError as e:
        return "transformers or torch (%s)" % e
    os.makedirs(out, exist_ok=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + ["w%d" % i for i in range(VOCAB - 5)]
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(words) + "\n")
    BertTokenizer(os.path.join(out, "vocab.txt")).save_pretrained(out)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64)
    BertModel(cfg).save_pretrained(out, safe_serialization=True)
    for extra in ("special_tokens_map.json",):
        p = os.path.join(out, extra)
        if os.path.exists(p):
            os.remove(p)
    return None


class Hub:
    """The server's state: the checkpoint, the mode, what it saw."""

    def __init__(self, ckpt):
        self.files = {f: open(os.path.join(ckpt, f), "rb").read() for f in FILES}
        self.sha = hashlib.sha256(self.files["model.safetensors"]).hexdigest()
        self.mode = "hub"
        self.requests = []
        self.auth = []


def make_handler(hub):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send_body(self, code, body, headers=()):
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def not_found(self):
            self.send_body(404, b"Entry not found")

        def do_GET(self):
            hub.requests.append(self.path)
            hub.auth.append(self.headers.get("Authorization"))
            if self.path.startswith("/cdn/"):
                return self.send_body(200, hub.files["model.safetensors"],
                                      [("ETag", '"0123456789abcdef0123456789abcdef"')])
            prefix = "/%s/resolve/" % NAME
            if not self.path.startswith(prefix):
                return self.not_found()
            rev, _, file = self.path[len(prefix):].partition("/")
            if rev != "main" or file not in FILES:
                return self.not_found()
            self.serve(file)

        def serve(self, file):
            body, mode = hub.files[file], hub.mode
            if file == "config.json" and mode == "notbert":
                cfg = json.loads(body)
                cfg["model_type"] = "roberta"
                return self.send_body(200, json.dumps(cfg).encode())
            if file == "tokenizer_config.json" and mode == "no-tokcfg":
                return self.not_found()
            if file != "model.safetensors":
                return self.send_body(200, body, [("ETag", '"%s"' % hashlib.sha1(body).hexdigest())])
            self.serve_weights(body, mode)

        def serve_weights(self, body, mode):
            if mode in ("hub", "notbert", "no-tokcfg"):  # like the hub: LFS redirect to a CDN
                self.send_response(302)
                self.send_header("Location", "/cdn/" + hub.sha)
                self.send_header("X-Linked-Etag", '"%s"' % hub.sha)
                self.send_header("X-Linked-Size", str(len(body)))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif mode == "plain":  # the sha256 as a plain ETag, no redirect
                self.send_body(200, body, [("ETag", '"%s"' % hub.sha)])
            elif mode == "truncated-cl":  # Content-Length says more than is sent
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
            elif mode == "truncated-close":  # no length: the close ends the body early
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
            elif mode == "corrupt":
                self.send_body(200, b"\xff" * 8 + b"garbage" + body[15:])
            elif mode == "badetag":
                self.send_body(200, body, [("X-Linked-Etag", '"%s"' % ("ab" * 32))])
            elif mode == "missing":
                self.not_found()
            elif mode == "file-redirect":
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.not_found()

    return Handler


def fetch_on_pty(args, env):
    """Runs finsent base fetch with stderr on a pseudo-terminal; returns what it drew."""
    import pty
    import subprocess
    from fstest import BIN
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN, "base", "fetch"] + args, env=env, stdout=subprocess.DEVNULL,
                         stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 4096)
        except OSError:
            break
        if not b:
            break
        chunks.append(b)
    p.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def sha_file(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def partials(data):
    org = os.path.join(data, "finsent", "base", NAME.split("/")[0])
    return [d for d in os.listdir(org) if d.startswith(".")] if os.path.isdir(org) else []


def main():
    t = Suite()
    work = tempdir("finsent-it-base-")
    ckpt = os.path.join(work, "ckpt")
    why = make_checkpoint(ckpt)
    if why:
        print(missing_line("base", why), flush=True)
        return 0
    hub = Hub(ckpt)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(hub))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = "http://127.0.0.1:%d" % server.server_address[1]
    data = os.path.join(work, "data")
    env = {"HF_ENDPOINT": endpoint, "XDG_DATA_HOME": data, "XDG_CONFIG_HOME": os.path.join(work, "cfg"),
           "HF_TOKEN": ""}
    dest = os.path.join(data, "finsent", "base", NAME)

    def fetch(*args, extra=None):
        e = dict(env)
        e.update(extra or {})
        return finsent(["base", "fetch"] + list(args), env=e, timeout=120)

    def base_list():
        r = finsent(["base", "list", "--json"], env=env)
        return r, (json.loads(r.stdout) if r.returncode == 0 else None)

    with t.case("base fetch: a hub-like server (LFS redirect, X-Linked-Etag) installs the four files") as c:
        r = fetch(NAME)
        c.check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        for f in FILES:
            c.check(sha_file(os.path.join(dest, f)) == hashlib.sha256(hub.files[f]).hexdigest(),
                    "%s differs from the server's" % f)
        c.check("matches the hub's" in r.stdout, "hash check not reported: %r" % r.stdout)
        c.check(any(p.startswith("/cdn/") for p in hub.requests), "redirect not followed")
        c.check(not partials(data), "temp directories left: %s" % partials(data))
        sums = open(os.path.join(dest, "SHA256SUMS")).read()
        c.check("%s  model.safetensors" % hub.sha in sums, "SHA256SUMS: %r" % sums)
        c.check(os.path.exists(os.path.join(dest, "SOURCE.md")), "no SOURCE.md")

    with t.case("base fetch: a quick download prints nothing on a non-terminal stderr") as c:
        c.check(r.stderr.strip() == "", "stderr: %r" % r.stderr)

    with t.case("base fetch: progress of the weights is redrawn in place on a terminal") as c:
        out = fetch_on_pty(["--force", NAME], dict(os.environ, **env))
        c.check("model.safetensors" in out and "(100%)" in out and "\r" in out and "\n" not in out,
                "terminal output: %r" % out)

    with t.case("base fetch: transformers loads the installed base, weights identical") as c:
        import torch
        from transformers import BertModel, BertTokenizer
        a = BertModel.from_pretrained(ckpt)
        b = BertModel.from_pretrained(dest)
        sa, sb = a.state_dict(), b.state_dict()
        c.check(sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa), "weights differ")
        c.check(BertTokenizer.from_pretrained(dest).tokenize("w12 w7") == ["w12", "w7"], "tokenizer")

    with t.case("base list: shows the base with its shape and weights sha256") as c:
        r, items = base_list()
        c.check(items is not None, "exit %d: %s" % (r.returncode, r.stderr))
        c.check(len(items) == 1 and items[0]["name"] == NAME, "items: %r" % items)
        it = items[0]
        c.check(it["ok"] and it["layers"] == 2 and it["hidden"] == 32 and it["sha256"] == hub.sha,
                "item: %r" % it)
        r = finsent(["base", "list"], env=env)
        c.check(r.returncode == 0 and NAME in r.stdout and "2x32" in r.stdout and hub.sha[:16] in r.stdout,
                "text: %r" % r.stdout)

    with t.case("base fetch: already installed fetches nothing") as c:
        n = len(hub.requests)
        r = fetch(NAME)
        c.check(r.returncode == 0 and "already installed" in r.stdout, "%d %r" % (r.returncode, r.stdout))
        c.check(len(hub.requests) == n, "requests made: %s" % hub.requests[n:])

    good = {f: sha_file(os.path.join(dest, f)) for f in FILES}
    bad_cases = [
        ("truncated-cl", 1, "body cut short under its Content-Length"),
        ("truncated-close", 7, "body cut short, no Content-Length"),
        ("corrupt", 7, "garbage safetensors header"),
        ("badetag", 7, "sha256 differs from X-Linked-Etag"),
        ("missing", 1, "404 for model.safetensors"),
        ("file-redirect", 1, "redirect to file://"),
        ("notbert", 7, "config.json model_type roberta"),
    ]
    for mode, code, what in bad_cases:
        with t.case("base fetch --force: %s fails (exit %d), installed base untouched" % (what, code)) as c:
            hub.mode = mode
            r = fetch("--force", NAME)
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            c.check(r.returncode == code, "exit %d, want %d: %s" % (r.returncode, code, r.stderr))
            c.check(len(lines) == 1 and lines[0].startswith("finsent: base fetch"),
                    "want one line, got: %r" % r.stderr)
            c.check({f: sha_file(os.path.join(dest, f)) for f in FILES} == good, "installed base changed")
            c.check(not partials(data), "temp directories left: %s" % partials(data))
            _, items = base_list()
            c.check(items and items[0]["ok"], "list after failure: %r" % items)
    hub.mode = "hub"

    fresh_data = os.path.join(work, "fresh")
    for mode, code, what in bad_cases[:4]:
        with t.case("base fetch: %s on a fresh install leaves no base" % what) as c:
            hub.mode = mode
            r = fetch(NAME, extra={"XDG_DATA_HOME": fresh_data})
            c.check(r.returncode == code, "exit %d: %s" % (r.returncode, r.stderr))
            c.check(not os.path.exists(os.path.join(fresh_data, "finsent", "base", NAME)), "a base was left")
            c.check(not partials(fresh_data), "temp directories left: %s" % partials(fresh_data))
            rl = finsent(["base", "list", "--json"], env=dict(env, XDG_DATA_HOME=fresh_data))
            c.check(rl.returncode == 0 and json.loads(rl.stdout) == [], "list: %r" % rl.stdout)
    hub.mode = "hub"

    with t.case("base fetch: a repository without tokenizer_config.json gets BertTokenizer's defaults") as c:
        hub.mode = "no-tokcfg"
        r = fetch(NAME, extra={"XDG_DATA_HOME": fresh_data})
        c.check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        p = os.path.join(fresh_data, "finsent", "base", NAME)
        tc = json.load(open(os.path.join(p, "tokenizer_config.json")))
        c.check(tc.get("do_lower_case") is True, "tokenizer_config: %r" % tc)
        c.check("tokenizer_config.json" in r.stderr, "no warning: %r" % r.stderr)
        c.check("BertTokenizer's defaults" in open(os.path.join(p, "SOURCE.md")).read(), "SOURCE.md")
        hub.mode = "hub"

    with t.case("base fetch: a plain 64-hex ETag is checked too (and --force replaces the base)") as c:
        hub.mode = "plain"
        r = fetch("--force", NAME)
        c.check(r.returncode == 0 and "matches the hub's" in r.stdout, "%d %r %r" % (r.returncode, r.stdout, r.stderr))
        c.check({f: sha_file(os.path.join(dest, f)) for f in FILES} == good, "files differ")
        c.check(not partials(data), "temp directories left: %s" % partials(data))
        hub.mode = "hub"

    for bad in ("../evil", "tiny-org/../../evil", "/etc/passwd", "tiny-org/.partial-x", "a//b"):
        with t.case("base fetch: name %r is refused (exit 2), nothing requested" % bad) as c:
            n = len(hub.requests)
            r = fetch(bad)
            c.check(r.returncode == 2, "exit %d: %s" % (r.returncode, r.stderr))
            c.check(len(one_line(r.stderr)) > 0 and len(r.stderr.strip().splitlines()) == 1, r.stderr)
            c.check(len(hub.requests) == n, "requests made: %s" % hub.requests[n:])

    with t.case("base fetch: an unknown revision is a one-line network failure (exit 1)") as c:
        r = fetch("--revision", "v9", "other/name", extra={"XDG_DATA_HOME": fresh_data})
        c.check(r.returncode == 1 and "HTTP 404" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                "%d %r" % (r.returncode, r.stderr))

    with t.case("base fetch: a file:// endpoint is refused (exit 2)") as c:
        r = fetch(NAME, extra={"HF_ENDPOINT": "file:///etc", "XDG_DATA_HOME": fresh_data})
        c.check(r.returncode == 2 and "http" in r.stderr, "%d %r" % (r.returncode, r.stderr))

    with t.case("base fetch: HF_TOKEN is never sent over plain http nor printed") as c:
        n = len(hub.requests)
        secret = "hf_SECRETtoken123"
        r = fetch("--force", NAME, extra={"HF_TOKEN": secret})
        c.check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        c.check(all(a is None for a in hub.auth[n:]), "Authorization sent: %r" % hub.auth[n:])
        c.check(secret not in r.stdout + r.stderr, "token printed")
        c.check("HF_TOKEN was not sent" in r.stderr, "no warning: %r" % r.stderr)
        for f in os.listdir(dest):
            c.check(secret.encode() not in open(os.path.join(dest, f), "rb").read(), "token in " + f)

    with t.case("base fetch: the hub from [model] hub in the config when HF_ENDPOINT is unset") as c:
        conf = os.path.join(work, "finsent.conf")
        with open(conf, "w") as f:
            f.write("[model]\nhub = %s\n" % endpoint)
        e = dict(os.environ, XDG_DATA_HOME=os.path.join(work, "viaconf"))
        e.pop("HF_ENDPOINT", None)
        import subprocess
        from fstest import BIN
        r = subprocess.run([BIN, "--config", conf, "base", "fetch", NAME], env=e, capture_output=True,
                           text=True, timeout=120)
        c.check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))

    with t.case("base list: a damaged base is listed with its reason") as c:
        with open(os.path.join(dest, "model.safetensors"), "r+b") as f:
            f.truncate(1000)
        r, items = base_list()
        c.check(items and not items[0]["ok"] and
                (items[0]["problem"] or "").startswith("model.safetensors: header length"), "%r" % items)
        r = fetch(NAME)  # not "already installed": a damaged base is fetched again
        c.check(r.returncode == 0 and sha_file(os.path.join(dest, "model.safetensors")) == hub.sha,
                "refetch: %d %r" % (r.returncode, r.stderr))

    with t.case("base fetch: removes what an interrupted fetch left a day ago, not a fresh one") as c:
        org = os.path.dirname(dest)
        old, new = os.path.join(org, ".partial-old123"), os.path.join(org, ".partial-new123")
        for d in (old, new):
            os.makedirs(d)
            with open(os.path.join(d, "model.safetensors"), "wb") as f:
                f.write(b"x" * 100)
        two_days_ago = os.path.getmtime(old) - 2 * 86400
        os.utime(old, (two_days_ago, two_days_ago))
        r = fetch("--force", NAME)
        c.check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        c.check(not os.path.exists(old) and os.path.exists(new), "left: %s" % partials(data))
        _, items = base_list()
        c.check([i["name"] for i in items] == [NAME], "list: %r" % items)

    server.shutdown()
    shutil.rmtree(work, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
