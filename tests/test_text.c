/* test_text.c — charsets, UTF-8 repair, entities, whitespace, tag stripping
 * (crawler/text.c), URL resolution and normalisation (crawler/url.c) and dedupe
 * keys (crawler/dedupe.c). */
#include "crawler/dedupe.h"
#include "crawler/text.h"
#include "crawler/url.h"
#include "tests/check.h"

#include <stdlib.h>
#include <string.h>

/* Runs f over s and returns a new string. */
static char *repaired(const char *s, size_t len)
{
    struct strbuf sb = STRBUF_INIT;
    text_utf8_repair(&sb, s, len);
    return sb_detach(&sb);
}

static char *converted(const char *s, size_t len, const char *charset)
{
    struct strbuf sb = STRBUF_INIT;
    text_to_utf8(&sb, s, len, charset);
    return sb_detach(&sb);
}

static char *decoded(const char *s)
{
    struct strbuf sb = STRBUF_INIT;
    text_decode_entities(&sb, s, strlen(s));
    return sb_detach(&sb);
}

#define CHECK_OWNED_STR_EQ(expr, want)                                                             \
    do {                                                                                           \
        char *got_ = (expr);                                                                       \
        int ok_ = got_ && strcmp(got_, (want)) == 0;                                               \
        if (!ok_)                                                                                  \
            printf("  got \"%s\"\n", got_ ? got_ : "(null)");                                      \
        free(got_);                                                                                \
        CHECK_MSG(ok_, "%s != \"%s\"", #expr, (want));                                             \
    } while (0)

static void test_utf8_repair(void)
{
    CHECK_OWNED_STR_EQ(repaired("plain", 5), "plain");
    CHECK_OWNED_STR_EQ(repaired("caf\xe9!", 5), "caf\xEF\xBF\xBD!");         /* latin-1 */
    CHECK_OWNED_STR_EQ(repaired("\xC0\xAF", 2), "\xEF\xBF\xBD\xEF\xBF\xBD"); /* overlong */
    CHECK_OWNED_STR_EQ(repaired("\xED\xA0\x80", 3), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_OWNED_STR_EQ(repaired("ab\xE2\x82", 4), "ab\xEF\xBF\xBD\xEF\xBF\xBD"); /* truncated */
    CHECK_OWNED_STR_EQ(repaired("\xF0\x9F\x93\x88 ok", 7), "\xF0\x9F\x93\x88 ok");
    CHECK_OWNED_STR_EQ(repaired("a\0b\x07"
                                "c\td",
                                7),
                       "a b c\td");
    CHECK(text_utf8_valid("\xE2\x82\xAC", 3));
    CHECK(!text_utf8_valid("\xE2\x82", 2));
    CHECK(!text_utf8_valid("\xF5\x80\x80\x80", 4));
}

static void test_charset_conversion(void)
{
    CHECK_OWNED_STR_EQ(converted("caf\xe9 \x93q\x94 \x80", 10, "iso-8859-1"),
                       "café “q” €"); /* read as windows-1252 */
    CHECK_OWNED_STR_EQ(converted("\xA4", 1, "ISO-8859-15"), "€");
    CHECK_OWNED_STR_EQ(converted("\x82\xA0", 2, "shift_jis"), "あ");
    CHECK_OWNED_STR_EQ(converted("\xEF\xBB\xBFhi", 5, "utf-8"), "hi"); /* BOM dropped */
    CHECK_OWNED_STR_EQ(converted("h\0i\0", 4, "utf-16le"), "hi");
    CHECK_OWNED_STR_EQ(converted("a\x81"
                                 "b",
                                 3, "windows-1252"),
                       "a\xEF\xBF\xBD"
                       "b");
    struct strbuf sb = STRBUF_INIT;
    CHECK_INT_EQ(text_to_utf8(&sb, "x", 1, "no-such-charset"), 1);
    CHECK_STR_EQ(sb.buf, "x");
    sb_free(&sb);
}

static void test_charset_sniffing(void)
{
    const char *xml = "<?xml version='1.0' encoding='ISO-8859-1'?><rss/>";
    char *cs = text_sniff_charset(xml, strlen(xml), 0);
    CHECK_STR_EQ(cs, "iso-8859-1");
    free(cs);
    const char *meta1 = "<html><head><meta charset='utf-8'></head>";
    CHECK_OWNED_STR_EQ(text_sniff_charset(meta1, strlen(meta1), 1), "utf-8");
    const char *meta2 = "<html><head><META HTTP-EQUIV=\"Content-Type\" "
                        "CONTENT=\"text/html; charset=Windows-1251\">";
    CHECK_OWNED_STR_EQ(text_sniff_charset(meta2, strlen(meta2), 1), "windows-1251");
    CHECK(text_sniff_charset(meta2, strlen(meta2), 0) == NULL); /* not for XML */
    CHECK_OWNED_STR_EQ(text_sniff_charset("\xFF\xFE<\0", 4, 0), "utf-16le");
    CHECK(text_sniff_charset("<html><p>charset=utf-8</p>", 26, 1) == NULL);
}

static char *document(const char *s, size_t len, const char *http, int html)
{
    struct strbuf sb = STRBUF_INIT;
    text_decode_document(&sb, s, len, http, html);
    return sb_detach(&sb);
}

static void test_document_charset_order(void)
{
    /* a BOM beats the HTTP header */
    CHECK_OWNED_STR_EQ(document("\xEF\xBB\xBF"
                                "caf\xC3\xA9",
                                8, "iso-8859-1", 0),
                       "café");
    /* the HTTP header beats the declaration */
    const char *x = "<?xml version='1.0' encoding='utf-8'?><a>caf\xe9</a>";
    CHECK_OWNED_STR_EQ(document(x, strlen(x), "latin1", 0),
                       "<?xml version='1.0' encoding='utf-8'?><a>café</a>");
    /* an unknown HTTP charset falls back to the declaration */
    const char *y = "<?xml version='1.0' encoding='iso-8859-1'?><a>caf\xe9</a>";
    CHECK_OWNED_STR_EQ(document(y, strlen(y), "x-unknown", 0),
                       "<?xml version='1.0' encoding='iso-8859-1'?><a>café</a>");
    /* <meta> counts for HTML only */
    const char *h = "<meta charset=iso-8859-1><p>caf\xe9";
    CHECK_OWNED_STR_EQ(document(h, strlen(h), NULL, 1), "<meta charset=iso-8859-1><p>café");
    CHECK_OWNED_STR_EQ(document(h, strlen(h), NULL, 0),
                       "<meta charset=iso-8859-1><p>caf\xEF\xBF\xBD");
}

static void test_entities(void)
{
    CHECK_OWNED_STR_EQ(decoded("AT&amp;T &lt;b&gt; &quot;x&quot; &apos;y&apos;"),
                       "AT&T <b> \"x\" 'y'");
    CHECK_OWNED_STR_EQ(decoded("caf&eacute;&nbsp;&euro;5 &mdash; &hellip;"), "café\xC2\xA0€5 — …");
    CHECK_OWNED_STR_EQ(decoded("&#32;&#x41;&#X42;&#146;&#xD800;&#0;"),
                       " AB’\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_OWNED_STR_EQ(decoded("S&P 500 & &unknown; &amp &#;"), "S&P 500 & &unknown; &amp &#;");
    CHECK_OWNED_STR_EQ(decoded("&#99999999999;"), "\xEF\xBF\xBD");
}

static void test_whitespace(void)
{
    char s[] = "  a \t\r\n b\xC2\xA0\xC2\xA0"
               "c\xE3\x80\x80"
               "d\xE2\x80\x89 ";
    CHECK_STR_EQ(text_normalize_ws_str(s), "a b c d");
    char e[] = " \n\t ";
    CHECK_STR_EQ(text_normalize_ws_str(e), "");
    char jp[] = "ビット コイン";
    CHECK_STR_EQ(text_normalize_ws_str(jp), "ビット コイン");
}

static void test_html_to_text(void)
{
    const char *h = "<div><p>Stocks <b>rose</b>&nbsp;1%.</p><script>var x = '<p>';</script>"
                    "<!-- hidden <p>comment</p> --><p>Bonds&#32;fell</p><style>p{}</style>"
                    "a < b, c<br>d</div>";
    CHECK_OWNED_STR_EQ(text_html_to_text(h, strlen(h)), "Stocks rose 1%. Bonds fell a < b, c d");
    const char *reddit = "<!-- SC_OFF --><div class=\"md\"><p>Hi</p></div><!-- SC_ON --> "
                         "&#32; submitted by &#32; <a href=\"https://x/u/a\"> /u/a </a>";
    CHECK_OWNED_STR_EQ(text_html_to_text(reddit, strlen(reddit)), "Hi submitted by /u/a");
    CHECK_OWNED_STR_EQ(text_html_to_text("<a href='x>y'>link</a>", 22), "link");
    CHECK_OWNED_STR_EQ(text_html_to_text("<p>unterminated <b", 18), "unterminated");
    CHECK_OWNED_STR_EQ(text_html_to_text("<script>never closed", 20), "");
    CHECK_OWNED_STR_EQ(text_html_to_text("", 0), "");
}

static void test_casefold(void)
{
    char s[] = "ÉCOLE Straße ΑΘΗΝΑ МОСКВА ЁЖ ABC";
    text_casefold(s);
    CHECK_STR_EQ(s, "école straße αθηνα москва ёж abc");
}

static void test_url_resolve_rfc3986(void)
{
    /* RFC 3986 section 5.4.1 and 5.4.2 */
    const char *base = "http://a/b/c/d;p?q";
    static const char *const cases[][2] = {
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {";x", "http://a/b/c/;x"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(cases); i++) {
        char *got = url_resolve(base, cases[i][0]);
        int ok = got && strcmp(got, cases[i][1]) == 0;
        if (!ok)
            printf("  resolve(\"%s\") = \"%s\", want \"%s\"\n", cases[i][0], got ? got : "(null)",
                   cases[i][1]);
        free(got);
        CHECK(ok);
    }
    CHECK_OWNED_STR_EQ(url_resolve("https://ex.com", "news"), "https://ex.com/news");
    CHECK_OWNED_STR_EQ(url_resolve(NULL, "  https://ex.com/a \n"), "https://ex.com/a");
    CHECK(url_resolve(NULL, "a/b") == NULL);
    CHECK(url_resolve("not absolute", "a/b") == NULL);
}

static void test_url_normalize(void)
{
    CHECK_OWNED_STR_EQ(
        url_normalize("HTTP://Example.COM:80/a/./b/../c?utm_source=rss&id=5&UTM_medium=x#frag"),
        "http://example.com/a/c?id=5");
    CHECK_OWNED_STR_EQ(url_normalize("https://ex.com:443"), "https://ex.com/");
    CHECK_OWNED_STR_EQ(url_normalize("https://ex.com:8443/P?utm_campaign=z"),
                       "https://ex.com:8443/P");
    CHECK_OWNED_STR_EQ(url_normalize("https://User@Ex.com/x?a=1&&b=2"),
                       "https://User@ex.com/x?a=1&b=2");
    CHECK_OWNED_STR_EQ(url_normalize("http://[::1]:80/"), "http://[::1]/");
    CHECK(url_normalize("/relative/path") == NULL);
    CHECK(url_normalize("mailto:x@y") == NULL);
    CHECK(url_normalize(NULL) == NULL);
}

static void test_url_is_http(void)
{
    CHECK(url_is_http_or_https("http://a.b/"));
    CHECK(url_is_http_or_https("HTTPS://a.b"));
    CHECK(!url_is_http_or_https("ftp://a.b/"));
    CHECK(!url_is_http_or_https("file:///etc/passwd"));
    CHECK(!url_is_http_or_https("https:///path"));
    CHECK(!url_is_http_or_https("javascript:alert(1)"));
    CHECK(!url_is_http_or_https(NULL));
}

static void test_dedupe_hash(void)
{
    char a[33], b[33], c[33];
    dedupe_content_hash("Stocks Rally", "The S&P  500\nrose.", a);
    dedupe_content_hash("  stocks rally ", "the s&p 500 rose.", b);
    dedupe_content_hash("Stocks Rally", "The S&P 500 fell.", c);
    CHECK_INT_EQ(strlen(a), 32);
    CHECK_STR_EQ(a, b);
    CHECK(strcmp(a, c) != 0);
    dedupe_content_hash("ÉCOLE", NULL, a);
    dedupe_content_hash("école", "", b);
    CHECK_STR_EQ(a, b);
    /* title and text do not run together */
    dedupe_content_hash("ab", "c", a);
    dedupe_content_hash("a", "bc", b);
    CHECK(strcmp(a, b) != 0);
}

static void test_dedupe_keys(void)
{
    static const char body[] = "one two three four five six seven eight nine ten eleven twelve "
                               "thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
                               "twenty";
    struct feed_item it = {.guid = "t3_abc",
                           .url = "HTTPS://www.Reddit.com/r/x/?utm_source=rss#c",
                           .title = "Title",
                           .text = (char *)body};
    char *keys[DEDUPE_MAX_KEYS];
    size_t n = dedupe_keys(&it, 12, keys);
    CHECK_INT_EQ(n, 3);
    CHECK_STR_EQ(keys[0], "g:12:t3_abc"); /* a guid is unique within its source */
    CHECK_STR_EQ(keys[1], "u:https://www.reddit.com/r/x/");
    CHECK(strncmp(keys[2], "h:", 2) == 0 && strlen(keys[2]) == 34);
    dedupe_keys_free(keys, n);
    struct feed_item permalink = {.guid = "https://example.com/story/1"};
    n = dedupe_keys(&permalink, 12, keys);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(keys[0], "g:https://example.com/story/1"); /* a URL matches across sources */
    dedupe_keys_free(keys, n);
    struct feed_item bare = {.guid = " ", .url = "relative", .title = NULL, .text = ""};
    CHECK_INT_EQ(dedupe_keys(&bare, 1, keys), 0);
    /* a title alone, or a short summary, does not identify a story */
    struct feed_item title_only = {.guid = "x-1", .title = "Stocks close", .text = "Stocks close"};
    n = dedupe_keys(&title_only, 1, keys);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(keys[0], "g:1:x-1");
    dedupe_keys_free(keys, n);
    /* ... but it is the identity of an item without guid or URL */
    struct feed_item anonymous = {.title = "Stocks close"};
    n = dedupe_keys(&anonymous, 1, keys);
    CHECK(n == 1 && keys[0][0] == 'h');
    dedupe_keys_free(keys, n);
    struct feed_item only_text = {.text = (char *)body};
    n = dedupe_keys(&only_text, 1, keys);
    CHECK_INT_EQ(n, 1);
    CHECK(keys[0][0] == 'h');
    dedupe_keys_free(keys, n);
}

/* Measuring the pieces of a text and joining the measures gives the length
 * that normalising the whole text leaves, wherever the text is cut between
 * characters (crawler/html.c measures a page's elements so). */
static void test_ws_measure_joins(void)
{
    static const char *const atoms[] = {
        "a", ",", " ", "\t\n", "\xC2\xA0", "\xE2\x80\x83", "\xC3\xA9", "xy", "",
    };
    uint64_t seed = 7;
    for (int round = 0; round < 2000; round++) {
        struct strbuf whole = STRBUF_INIT;
        struct text_ws_len joined = {0};
        int pieces = (int)(seed % 6);
        for (int p = 0; p < pieces; p++) {
            struct strbuf piece = STRBUF_INIT;
            for (int k = (int)((seed >> 8) % 5); k > 0; k--) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                sb_append(&piece, atoms[(seed >> 33) % FS_ARRAY_LEN(atoms)]);
            }
            struct text_ws_len m;
            text_ws_measure(piece.buf, piece.len, &m);
            text_ws_join(&joined, &m);
            sb_append_n(&whole, piece.buf, piece.len);
            sb_free(&piece);
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        }
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        char *norm = text_normalize_ws_str(xstrdup(whole.buf));
        CHECK_MSG(text_ws_normalized_len(&joined) == strlen(norm), "'%s': %zu, measured %zu",
                  whole.buf, strlen(norm), text_ws_normalized_len(&joined));
        free(norm);
        sb_free(&whole);
    }
}

int main(void)
{
    RUN(test_ws_measure_joins);
    RUN(test_utf8_repair);
    RUN(test_charset_conversion);
    RUN(test_charset_sniffing);
    RUN(test_document_charset_order);
    RUN(test_entities);
    RUN(test_whitespace);
    RUN(test_html_to_text);
    RUN(test_casefold);
    RUN(test_url_resolve_rfc3986);
    RUN(test_url_normalize);
    RUN(test_url_is_http);
    RUN(test_dedupe_hash);
    RUN(test_dedupe_keys);
    return check_summary();
}
