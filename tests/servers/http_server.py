#!/usr/bin/env python3
"""A real HTTP server on 127.0.0.1 for finsent's crawler tests (standard library only).

    python3 tests/servers/http_server.py [--root DIR] [--port N] [--watch-stdin]

Prints the port it listens on (one line, just the number) on stdout, then serves
until killed (or, with --watch-stdin, until its stdin is closed: a test that dies
takes the server with it).

What it serves:
  /<path>                  files under --root (default tests/fixtures), with ETag and
                           Last-Modified; If-None-Match / If-Modified-Since -> 304.
                           Add ?noetag to a URL to get the file without validators,
                           ?lmonly to get (and honour) Last-Modified only.
  /robots.txt              ROOT/robots.txt when present, else "Disallow: /private/"
  /private/<path>          like /<path>, but disallowed by the default robots.txt
  /gen/feed/N?items=K      a generated RSS 2.0 feed, K items (default 20) unique to N,
                           each linking to /gen/article/N/I (&broken: to a 404 instead;
                           &ttl=M: with <ttl>M</ttl>)
  /gen/article/N/I         a generated HTML article page
  /gen/comments/N          a generated article page with 5 reader comments
  /gen/...?sleep=S         the same, answered after S seconds (at most 5)
  /__stats                 JSON: request counts per path, conditional requests, 304s
                           sent, user agents seen, most ?sleep requests in flight at
                           once (max_active), start times of requests (starts)
  /__reset                 clears those statistics
  /hostile/...             crafted hostile answers (see HOSTILE below)
"""
import argparse
import email.utils
import gzip
import hashlib
import json
import mimetypes
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_ROBOTS = b"User-agent: *\nDisallow: /private/\n"

RSS_HEAD = '<?xml version="1.0" encoding="{enc}"?>\n<rss version="2.0"><channel>' \
           '<title>{title}</title><link>http://example.invalid/</link>' \
           '<description>test</description>{extra}\n'
RSS_ITEM = '<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>' \
           '<pubDate>{date}</pubDate><description>{text}</description></item>\n'
RSS_TAIL = '</channel></rss>\n'

XXE_FEED = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>xxe</title>
<item><title>XXE attempt &xxe;</title><link>http://example.invalid/xxe</link>
<guid>xxe-1</guid><description>external entity &xxe; here</description></item>
</channel></rss>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>lolz</title>
<item><title>Laughs &lol9;</title><guid>lol-1</guid><description>&lol9;</description></item>
</channel></rss>
"""

MALFORMED_FEED = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>broken</title>' \
                 b'<item><title>Unclosed <b>tag</title><description>never ends'

NOT_FEED_HTML = b"<!DOCTYPE html><html><head><title>Not a feed</title></head>" \
                b"<body><h1>Welcome</h1><p>This is an ordinary web page served with a feed " \
                b"content type.</p></body></html>"


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


def gen_feed(n, items, host, extra="", link_path="/gen/article"):
    out = [RSS_HEAD.format(enc="UTF-8", title="Generated feed %d" % n, extra=extra)]
    for i in range(items):
        out.append(RSS_ITEM.format(
            title="Generated feed %d item %d: shares of Company%d rise" % (n, i, n * 1000 + i),
            link="http://%s%s/%d/%d" % (host, link_path, n, i),
            guid="gen-%d-%d" % (n, i),
            date=http_date(1700000000 + n * 3600 + i * 60),
            text="Summary %d/%d: analysts expect growth at Company%d." % (n, i, n * 1000 + i)))
    out.append(RSS_TAIL)
    return "".join(out).encode()


def gen_article(n, i):
    paras = "".join(
        "<p>Full article %d/%d paragraph %d. Company%d reported quarterly earnings that beat "
        "expectations, and investors reacted with strong buying across the sector.</p>"
        % (n, i, k, n * 1000 + i) for k in range(4))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Article %d/%d</title>"
            "</head><body><nav><a href='/'>Home</a></nav><article><h1>Article %d/%d</h1>%s"
            "</article><footer>Copyright</footer></body></html>" % (n, i, n, i, paras)).encode()


def gen_comments(n):
    comments = "".join(
        "<div class='comment' id='c%d-%d'><span class='author'>user%d</span>"
        "<p>Comment %d on page %d: I think the stock will %s.</p></div>"
        % (n, k, k, k, n, "fall" if k % 2 else "rise") for k in range(5))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Discussion %d</title>"
            "</head><body><article><h1>Discussion %d</h1><p>Markets moved sharply today as "
            "traders weighed new inflation data and central bank remarks on rates.</p>"
            "<p>Analysts were divided on what comes next for equities.</p></article>"
            "<section id='comments'>%s</section></body></html>" % (n, n, comments)).encode()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.conditional = {}
        self.not_modified = {}
        self.user_agents = set()
        self.active = 0
        self.max_active = 0
        self.starts = []  # (monotonic time, path) of every request

    def start(self, path):
        with self.lock:
            self.starts.append((time.monotonic(), path))

    def sleep(self, seconds):
        """Sleeps, counting the requests sleeping at once. The answer is written
        after leaving the count, so a client cannot start its next request while
        this one still counts (that would overstate concurrency)."""
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(seconds)
        with self.lock:
            self.active -= 1

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.conditional.clear()
            self.not_modified.clear()
            self.user_agents.clear()
            self.max_active = self.active
            self.starts = []

    def count(self, table, key):
        with self.lock:
            table[key] = table.get(key, 0) + 1

    def as_json(self):
        with self.lock:
            t0 = self.starts[0][0] if self.starts else 0.0
            return json.dumps({"requests": self.requests, "conditional": self.conditional,
                               "not_modified": self.not_modified,
                               "user_agents": sorted(self.user_agents),
                               "max_active": self.max_active,
                               "starts": [[round(t - t0, 4), p] for t, p in self.starts]}
                              ).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "finsent-test-server"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("http_server: " + (fmt % args) + "\n")

    # -- helpers --------------------------------------------------------------------

    def send_body(self, status, body, ctype="text/plain; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def stream(self, status, ctype, chunks, content_length=None, delay=0.0):
        """Writes chunks without buffering; stops quietly when the client goes away."""
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Connection", "close")
        if content_length is not None:
            self.send_header("Content-Length", str(content_length))
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
                if delay:
                    time.sleep(delay)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    def redirect(self, location, status=302):
        self.send_body(status, b"moved\n", headers=[("Location", location)])

    def host(self):
        return self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_port

    # -- dispatch -------------------------------------------------------------------

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path.startswith("/__"):
            return self.serve_control()
        self.server.stats.start(self.path)
        self.handle_get()

    def serve_control(self):
        stats = self.server.stats
        if self.path == "/__reset":
            stats.reset()
            return self.send_body(200, b"reset\n")
        if self.path == "/__stats":
            return self.send_body(200, stats.as_json(), "application/json")
        return self.send_body(404, b"not found\n")

    def handle_get(self):
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        stats = self.server.stats
        stats.count(stats.requests, self.path)
        with stats.lock:
            stats.user_agents.add(self.headers.get("User-Agent", ""))
        if self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"):
            stats.count(stats.conditional, self.path)
        try:
            if path == "/robots.txt":
                return self.serve_robots()
            if path.startswith("/hostile/"):
                return self.serve_hostile(path[len("/hostile/"):], query)
            if path.startswith("/gen/"):
                return self.serve_generated(path[len("/gen/"):], query)
            if path.startswith("/private/"):
                path = path[len("/private"):]
            return self.serve_file(path, query)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def serve_robots(self):
        p = os.path.join(self.server.root, "robots.txt")
        body = DEFAULT_ROBOTS
        if os.path.isfile(p):
            with open(p, "rb") as f:
                body = f.read()
        self.send_body(200, body)

    def serve_file(self, path, query):
        rel = os.path.normpath(path.lstrip("/"))
        full = os.path.join(self.server.root, rel)
        if rel.startswith("..") or os.path.isabs(rel) or not os.path.isfile(full):
            return self.send_body(404, b"not found\n")
        with open(full, "rb") as f:
            body = f.read()
        ctype = guess_type(full)
        if "noetag" in query:
            return self.send_body(200, body, ctype)
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        mtime = int(os.path.getmtime(full))
        inm = None if "lmonly" in query else self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        fresh = False
        if inm is not None:
            fresh = etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        elif ims is not None:
            try:
                fresh = email.utils.parsedate_to_datetime(ims).timestamp() >= mtime
            except (TypeError, ValueError):
                fresh = False
        validators = [("ETag", etag), ("Last-Modified", http_date(mtime))]
        if "lmonly" in query:
            validators = validators[1:]
        if fresh:
            self.server.stats.count(self.server.stats.not_modified, self.path)
            self.send_response(304)
            for k, v in validators:
                self.send_header(k, v)
            self.end_headers()
            return
        self.send_body(200, body, ctype, validators)

    def serve_generated(self, rest, query):
        bits = rest.split("/")
        try:
            if "sleep" in query:
                self.server.stats.sleep(min(float(query["sleep"][0]), 5.0))
            if bits[0] == "feed" and len(bits) == 2:
                items = int(query.get("items", ["20"])[0])
                ttl = query.get("ttl", [None])[0]
                extra = "<ttl>%d</ttl>" % int(ttl) if ttl else ""
                links = "/hostile/404" if "broken" in query else "/gen/article"
                return self.send_body(200, gen_feed(int(bits[1]), items, self.host(), extra,
                                                    links),
                                      "application/rss+xml; charset=utf-8")
            if bits[0] == "article" and len(bits) == 3:
                return self.send_body(200, gen_article(int(bits[1]), int(bits[2])),
                                      "text/html; charset=utf-8")
            if bits[0] == "comments" and len(bits) == 2:
                return self.send_body(200, gen_comments(int(bits[1])),
                                      "text/html; charset=utf-8")
        except ValueError:
            pass
        self.send_body(404, b"not found\n")

    # -- hostile cases --------------------------------------------------------------

    def serve_hostile(self, name, query):
        handler = HOSTILE.get(name)
        if handler is None:
            return self.send_body(404, b"no such hostile case\n")
        handler(self, query)


def h_big(self, query):
    """50 MB without Content-Length: the client must cut it at its own limit."""
    chunk = (b"<p>" + b"x" * 65530 + b"</p>\n")[:65536]
    self.stream(200, "text/html; charset=utf-8", (chunk for _ in range(800)))


def h_big_cl(self, query):
    """50 MB with an honest Content-Length."""
    chunk = b"y" * 65536
    self.stream(200, "application/rss+xml", (chunk for _ in range(800)),
                content_length=800 * 65536)


def h_slow(self, query):
    """Headers at once, then one byte every 0.2 s (for at most about 30 s)."""
    body = b"<rss version='2.0'><channel><title>slow</title>" + b" " * 150
    self.stream(200, "application/rss+xml", (body[i:i + 1] for i in range(len(body))),
                content_length=len(body), delay=0.2)


def h_redirect_loop(self, query):
    self.redirect("/hostile/redirect-loop-b")


def h_redirect_loop_b(self, query):
    self.redirect("/hostile/redirect-loop")


def h_redirect_file(self, query):
    self.redirect("file:///etc/passwd")


def h_redirect_ftp(self, query):
    self.redirect("ftp://127.0.0.1/pub/feed.xml")


def h_redirect_ok(self, query):
    self.redirect("/gen/feed/900?items=3", status=301)


def h_redirect_private(self, query):
    self.redirect("/private/gen/feed/901?items=2")


def h_429(self, query):
    self.send_body(429, b"slow down\n", headers=[("Retry-After", "7200")])


def h_429_date(self, query):
    when = http_date(time.time() + 3 * 3600)
    self.send_body(429, b"slow down\n", headers=[("Retry-After", when)])


def h_503(self, query):
    self.send_body(503, b"maintenance\n", headers=[("Retry-After", "600")])


def h_404(self, query):
    self.send_body(404, b"not found\n")


def h_500(self, query):
    self.send_body(500, b"internal error\n")


def h_empty(self, query):
    self.send_body(200, b"", "application/rss+xml")


def h_html_as_feed(self, query):
    self.send_body(200, NOT_FEED_HTML, "application/rss+xml; charset=utf-8")


def h_malformed(self, query):
    self.send_body(200, MALFORMED_FEED, "application/rss+xml")


def h_xxe(self, query):
    self.send_body(200, XXE_FEED, "application/rss+xml")


def h_xxe_net(self, query):
    """External DTD and entity on this server: a parser that loads them shows up as
    requests for /xxe-probe/... in /__stats."""
    host = self.host()
    body = ('<?xml version="1.0"?>\n'
            '<!DOCTYPE rss SYSTEM "http://%s/xxe-probe/dtd" [\n'
            '<!ENTITY remote SYSTEM "http://%s/xxe-probe/entity">]>\n'
            '<rss version="2.0"><channel><title>net</title><item><title>Remote &remote;</title>'
            '<guid>xxe-net-1</guid><description>remote entity &remote; here</description>'
            '</item></channel></rss>\n' % (host, host)).encode()
    self.send_body(200, body, "application/rss+xml")


def h_billion(self, query):
    self.send_body(200, BILLION_LAUGHS, "application/rss+xml")


def latin1_feed(declared, n):
    head = RSS_HEAD.format(enc=declared, title="Charset test", extra="")
    item = RSS_ITEM.format(title="Caf\u00e9 soci\u00e9t\u00e9 g\u00e9n\u00e9rale: r\u00e9sultats %d" % n,
                           link="http://example.invalid/charset/%d" % n, guid="charset-%d" % n,
                           date=http_date(1700000000),
                           text="Le march\u00e9 a progress\u00e9 de 2 \u00e0 3 %.")
    return (head + item + RSS_TAIL).encode("latin-1")


def h_wrong_charset(self, query):
    """Latin-1 bytes, while both the header and the XML declaration claim UTF-8."""
    self.send_body(200, latin1_feed("UTF-8", 1), "application/rss+xml; charset=utf-8")


def h_header_charset(self, query):
    """Latin-1 bytes declared only by the HTTP header (the XML says nothing useful)."""
    body = latin1_feed("ISO-8859-1", 2).replace(b' encoding="ISO-8859-1"', b"")
    self.send_body(200, body, "application/rss+xml; charset=iso-8859-1")


def h_gzip(self, query):
    body = gzip.compress(gen_feed(901, 4, self.host()))
    self.send_body(200, body, "application/rss+xml", headers=[("Content-Encoding", "gzip")])


def h_truncated_gzip(self, query):
    full = gzip.compress(gen_feed(902, 40, self.host()))
    body = full[:len(full) // 2]
    self.send_body(200, body, "application/rss+xml", headers=[("Content-Encoding", "gzip")])


_BOMB = []


def h_gzip_bomb(self, query):
    """About 50 KB on the wire that decode to 50 MB: the limit applies to decoded bytes."""
    if not _BOMB:
        _BOMB.append(gzip.compress(b"<rss>" + b" " * (50 << 20), compresslevel=9))
    self.send_body(200, _BOMB[0], "application/rss+xml", headers=[("Content-Encoding", "gzip")])


def h_ttl(self, query):
    self.send_body(200, gen_feed(903, 2, self.host(), "<ttl>180</ttl>"),
                   "application/rss+xml; charset=utf-8")


HOSTILE = {
    "big": h_big, "big-cl": h_big_cl, "slow": h_slow,
    "redirect-loop": h_redirect_loop, "redirect-loop-b": h_redirect_loop_b,
    "redirect-file": h_redirect_file, "redirect-ftp": h_redirect_ftp,
    "redirect-ok": h_redirect_ok, "redirect-private": h_redirect_private,
    "429": h_429, "429-date": h_429_date, "503": h_503, "404": h_404, "500": h_500,
    "empty": h_empty, "html-as-feed": h_html_as_feed, "malformed": h_malformed,
    "xxe": h_xxe, "xxe-net": h_xxe_net, "billion": h_billion,
    "wrong-charset": h_wrong_charset, "header-charset": h_header_charset,
    "gzip": h_gzip, "truncated-gzip": h_truncated_gzip, "gzip-bomb": h_gzip_bomb,
    "ttl": h_ttl,
}


def guess_type(path):
    ext = os.path.splitext(path)[1].lower()
    known = {".xml": "application/xml", ".rdf": "application/rdf+xml",
             ".atom": "application/atom+xml", ".rss": "application/rss+xml",
             ".json": "application/feed+json", ".html": "text/html", ".htm": "text/html",
             ".txt": "text/plain"}
    return known.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # clients that hang up early (a cut body, a timeout) are part of the tests
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(here, "..", "fixtures"))
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--watch-stdin", action="store_true",
                    help="exit when stdin is closed")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.root = os.path.abspath(args.root)
    srv.stats = Stats()
    srv.verbose = args.verbose
    print(srv.server_port, flush=True)
    if args.watch_stdin:
        def watch():
            sys.stdin.read()
            srv.shutdown()
        threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    srv.server_close()


if __name__ == "__main__":
    main()
