/* test_feed.c — feed_parse over real fixtures, crafted hostile inputs, and a
 * comparison with Python feedparser (Debian python3-feedparser). */
#include "common/strbuf.h"
#include "common/util.h"
#include "crawler/feed.h"
#include "tests/check.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const REAL_FEEDS[] = {
    "feeds/biorxiv_plant_biology_rss1.rdf",       "feeds/bitcoin_peryaudo_rss2_named_rdf.rdf",
    "feeds/bloomberg_news_sitemap_2026.xml",      "feeds/cnbc_finance_2019.xml",
    "feeds/google_news_reuters_markets_2026.xml", "feeds/nyt_business_2026.xml",
    "feeds/reddit_investing_2021.atom",           "feeds/reddit_stockmarket_2021.atom",
    "feeds/reddit_wallstreetbets_2021.atom",      "feeds/wsj_world_news_2021.xml"};

/* Parses tests/fixtures/<rel>; returns feed_parse's result. */
static int parse_fixture(const char *rel, const char *charset, struct feed *f, struct fs_error *err)
{
    char path[512], *buf;
    size_t len;
    snprintf(path, sizeof path, "tests/fixtures/%s", rel);
    if (file_read_all(path, 1 << 24, &buf, &len, err) < 0) {
        memset(f, 0, sizeof *f);
        return -2;
    }
    int rc = feed_parse(buf, len, charset, NULL, f, err);
    free(buf);
    return rc;
}

static int item_titled(const struct feed *f, const char *title)
{
    for (size_t i = 0; i < f->n_items; i++)
        if (f->items[i].title && strcmp(f->items[i].title, title) == 0)
            return 1;
    return 0;
}

/* Every text field is valid UTF-8 without markup or raw entities. */
static int items_clean(const struct feed *f)
{
    for (size_t i = 0; i < f->n_items; i++) {
        const char *t = f->items[i].text;
        if (!t || strstr(t, "<p>") || strstr(t, "<a ") || strstr(t, "&#32;") ||
            strstr(t, "&amp;") || strstr(t, "&lt;") || strstr(t, "&nbsp;"))
            return 0;
    }
    return 1;
}

/* ---- real fixtures ---------------------------------------------------------- */

static void test_cnbc_rss2(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("feeds/cnbc_finance_2019.xml", NULL, &f, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(f.format, FEED_RSS2);
    CHECK_INT_EQ(f.n_items, 30);
    CHECK_INT_EQ(f.ttl_minutes, 60);
    CHECK_STR_EQ(f.title, "Finance");
    CHECK_STR_EQ(
        f.items[0].title,
        "Morgan Stanley: The S&P 500 will fail to break out for a third time in 18 months");
    CHECK_STR_EQ(f.items[0].url, "https://www.cnbc.com/2019/07/29/"
                                 "morgan-stanley-the-sp-500-will-fail-to-break-out-for-a-third-"
                                 "time-in-18-months.html");
    CHECK_INT_EQ(f.items[0].published_at, 1564408500); /* Mon, 29 Jul 2019 13:55 GMT */
    CHECK(strstr(f.items[0].text, "all-time high") != NULL);
    CHECK(items_clean(&f));
    feed_free(&f);
}

static void test_google_news_rss2(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("feeds/google_news_reuters_markets_2026.xml", NULL, &f, &err) == 0,
              "%s", err.msg);
    CHECK_INT_EQ(f.n_items, 100);
    CHECK_STR_EQ(f.items[0].title,
                 "Canada's labor market dips sharply in February, unemployment rate up - Reuters");
    /* the description is escaped HTML (<a href=...>title</a> <font>Reuters</font>) */
    CHECK_STR_EQ(f.items[0].text,
                 "Canada's labor market dips sharply in February, unemployment rate up Reuters");
    CHECK(f.items[0].published_at > 0);
    CHECK(items_clean(&f));
    feed_free(&f);
}

static void test_nyt_rss2(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("feeds/nyt_business_2026.xml", NULL, &f, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(f.n_items, 50);
    CHECK_STR_EQ(f.title, "NYT > Business");
    CHECK_STR_EQ(f.items[0].title,
                 "Oil Prices Surge Above $100 a Barrel for the First Time in Almost Four Years");
    CHECK_STR_EQ(f.items[0].author, "Rebecca F. Elliott and Joe Rennison"); /* dc:creator */
    CHECK(f.items[0].guid && strstr(f.items[0].guid, "nytimes.com"));
    CHECK(items_clean(&f));
    feed_free(&f);
}

static void test_wsj_rss2(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("feeds/wsj_world_news_2021.xml", NULL, &f, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(f.n_items, 6);
    CHECK_STR_EQ(f.items[0].title, "Deal Maker for Venezuela's Maduro Regime Extradited to U.S.");
    /* content:encoded is empty on every item: the description is used */
    CHECK(strstr(f.items[0].text, "Alex Saab") != NULL);
    CHECK(strstr(f.items[0].text, "Venezuela\xE2\x80\x99s") != NULL);
    feed_free(&f);
}

static void check_reddit(const char *rel, size_t n, const char *title0)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture(rel, NULL, &f, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(f.format, FEED_ATOM);
    CHECK_INT_EQ(f.n_items, n);
    CHECK_STR_EQ(f.items[0].title, title0);
    CHECK(f.items[0].author && strncmp(f.items[0].author, "/u/", 3) == 0);
    CHECK(f.items[0].guid && strncmp(f.items[0].guid, "t3_", 3) == 0);
    CHECK(f.items[0].published_at > 1500000000);
    CHECK(items_clean(&f));
    CHECK(strstr(f.items[1].text, "submitted by /u/") != NULL);
    feed_free(&f);
}

static void test_reddit_atom(void)
{
    check_reddit("feeds/reddit_wallstreetbets_2021.atom", 26,
                 "Weekend Discussion Thread for the Weekend of February 12, 2021");
    if (check_failed_now)
        return;
    check_reddit("feeds/reddit_investing_2021.atom", 27,
                 "Formal posting guidelines for political topics and what constitutes "
                 "investment vs corporate news. **READ BEFORE COMMENTING IN THIS SUB PLEASE**");
    if (check_failed_now)
        return;
    check_reddit("feeds/reddit_stockmarket_2021.atom", 25, "I might be a little jealous");
}

static void test_biorxiv_rss1(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("feeds/biorxiv_plant_biology_rss1.rdf", NULL, &f, &err) == 0, "%s",
              err.msg);
    CHECK_INT_EQ(f.format, FEED_RSS1);
    CHECK_INT_EQ(f.n_items, 30);
    CHECK_STR_EQ(f.items[1].title, "Natural variation in the Arabidopsis AGO2 gene is associated "
                                   "with susceptibility to potato virus X");
    CHECK_STR_EQ(f.items[1].url, "http://biorxiv.org/cgi/content/short/746628v1?rss=1");
    CHECK_STR_EQ(f.items[1].guid, "http://biorxiv.org/cgi/content/short/746628v1?rss=1");
    CHECK_INT_EQ(f.items[1].published_at, 1566604800); /* dc:date 2019-08-24 */
    feed_free(&f);
}

static void test_peryaudo_rss2_named_rdf(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("feeds/bitcoin_peryaudo_rss2_named_rdf.rdf", NULL, &f, &err) == 0, "%s",
              err.msg);
    CHECK_INT_EQ(f.format, FEED_RSS2); /* named .rdf, content decides */
    CHECK_INT_EQ(f.n_items, 5);
    CHECK_STR_EQ(f.title, "ビットコインの仕組み");
    CHECK_STR_EQ(f.items[0].title, "トップ");
    CHECK(item_titled(&f, "トランザクション展性とは"));
    feed_free(&f);
}

static void test_bloomberg_news_sitemap(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("feeds/bloomberg_news_sitemap_2026.xml", NULL, &f, &err) == 0, "%s",
              err.msg);
    CHECK_INT_EQ(f.format, FEED_SITEMAP);
    CHECK_INT_EQ(f.n_items, 16);
    CHECK_STR_EQ(f.title, "Bloomberg");
    CHECK_STR_EQ(f.items[0].title,
                 "Trump Wants Countries to Send Warships, UAE Port Suspends, More");
    CHECK(f.items[0].url && strncmp(f.items[0].url, "https://www.bloomberg.com/", 26) == 0);
    CHECK(f.items[0].published_at > 1773000000);
    CHECK_STR_EQ(f.items[0].text, "");
    feed_free(&f);
}

/* Cuts every real feed at 16 points: each prefix must fail cleanly or parse. */
static void test_truncated_real_feeds_never_crash(void)
{
    for (size_t k = 0; k < FS_ARRAY_LEN(REAL_FEEDS); k++) {
        char path[512], *buf;
        size_t len;
        struct fs_error err;
        snprintf(path, sizeof path, "tests/fixtures/%s", REAL_FEEDS[k]);
        CHECK(file_read_all(path, 1 << 24, &buf, &len, &err) == 0);
        for (int cut = 1; cut < 16; cut++) {
            struct feed f;
            size_t n = len * (size_t)cut / 16;
            if (feed_parse(buf, n, NULL, NULL, &f, &err) == 0)
                feed_free(&f);
            else
                CHECK_MSG(strchr(err.msg, '\n') == NULL && err.msg[0], "bad error line");
        }
        free(buf);
    }
}

/* ---- crafted hostile / edge inputs ------------------------------------------ */

static void test_xxe_not_loaded(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("crafted/xxe_file.xml", NULL, &f, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(f.n_items, 1);
    CHECK(!strstr(f.items[0].title, "root:") && !strstr(f.items[0].text, "root:"));
    CHECK_STR_EQ(f.items[0].title, "Leak here");
    feed_free(&f);
    int rc = parse_fixture("crafted/xxe_parameter.xml", NULL, &f, &err);
    if (rc == 0) {
        for (size_t i = 0; i < f.n_items; i++)
            CHECK(!f.items[i].title || !strstr(f.items[i].title, "root:"));
        feed_free(&f);
    }
}

static void test_billion_laughs_fails_fast(void)
{
    struct feed f;
    struct fs_error err;
    int rc = parse_fixture("crafted/billion_laughs.xml", NULL, &f, &err);
    if (rc == 0) { /* acceptable only if nothing was expanded */
        CHECK(f.n_items <= 1);
        CHECK(!f.items[0].title || strlen(f.items[0].title) < 1000);
        feed_free(&f);
    } else {
        CHECK(strstr(err.msg, "entity") != NULL);
    }
    rc = parse_fixture("crafted/quadratic_blowup.xml", NULL, &f, &err);
    if (rc == 0) {
        CHECK(strlen(f.items[0].text) < 100000);
        feed_free(&f);
    }
}

static void check_fails(const char *rel, const char *needle)
{
    struct feed f;
    struct fs_error err;
    err.msg[0] = '\0';
    CHECK_MSG(parse_fixture(rel, NULL, &f, &err) == -1, "%s parsed", rel);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "%s: \"%s\" lacks \"%s\"", rel, err.msg, needle);
    CHECK(strchr(err.msg, '\n') == NULL);
    CHECK(f.n_items == 0 && f.items == NULL);
}

static void test_bad_documents_give_one_line(void)
{
    check_fails("crafted/malformed.xml", "malformed XML at line 3");
    check_fails("crafted/truncated.xml", "malformed XML");
    check_fails("crafted/empty.xml", "empty body");
    check_fails("crafted/whitespace_only.xml", "empty body");
    check_fails("crafted/html_served_as_feed.xml", "not a feed: the body is an HTML page");
    check_fails("crafted/html_no_doctype_as_feed.xml", "not a feed: the body is an HTML page");
    check_fails("crafted/not_a_feed.xml", "root element <config>");
    check_fails("crafted/jsonfeed_invalid.json", "malformed JSON at line 1");
    check_fails("crafted/json_not_feed.json", "not a feed");
    check_fails("../../README.md", "not a feed");
}

static void test_libxml_prints_nothing(void)
{
    fflush(stderr);
    char tmpl[] = "/tmp/finsent-feed-stderr.XXXXXX";
    int fd = mkstemp(tmpl);
    CHECK(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    struct feed f;
    struct fs_error err;
    parse_fixture("crafted/malformed.xml", NULL, &f, &err);
    parse_fixture("crafted/billion_laughs.xml", NULL, &f, &err);
    if (parse_fixture("crafted/xxe_file.xml", NULL, &f, &err) == 0)
        feed_free(&f);
    parse_fixture("crafted/html_no_doctype_as_feed.xml", NULL, &f, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(tmpl);
    CHECK_INT_EQ(size, 0);
}

static void test_charsets(void)
{
    struct feed f;
    struct fs_error err;
    /* latin-1 bytes declared as UTF-8: repaired with U+FFFD, never invalid */
    CHECK(parse_fixture("crafted/wrong_charset_latin1_as_utf8.xml", NULL, &f, &err) == 0);
    CHECK_STR_EQ(f.items[0].title, "Caf\xEF\xBF\xBD cr\xEF\xBF\xBDme prices up");
    feed_free(&f);
    /* the HTTP charset wins over the document's declaration */
    CHECK(parse_fixture("crafted/wrong_charset_latin1_as_utf8.xml", "ISO-8859-1", &f, &err) == 0);
    CHECK_STR_EQ(f.items[0].title, "Café crème prices up");
    CHECK_STR_EQ(f.items[0].text, "Naïve «quote»");
    feed_free(&f);
    /* declared ISO-8859-1 (read as windows-1252, as browsers do) */
    CHECK(parse_fixture("crafted/latin1_declared.xml", NULL, &f, &err) == 0);
    CHECK_STR_EQ(f.title, "Société Générale");
    CHECK_STR_EQ(f.items[0].title, "Café crème “quoted” £ 5");
    CHECK_STR_EQ(f.items[0].text, "München & Zürich");
    CHECK_INT_EQ(f.ttl_minutes, 30);
    CHECK_INT_EQ(f.items[0].published_at, 1773131400);
    feed_free(&f);
    CHECK(parse_fixture("crafted/utf16le_bom.xml", NULL, &f, &err) == 0);
    CHECK_STR_EQ(f.items[0].title, "Yen ¥ and euro €");
    feed_free(&f);
    /* an unknown charset name falls back to UTF-8 */
    CHECK(parse_fixture("feeds/cnbc_finance_2019.xml", "x-no-such-charset", &f, &err) == 0);
    CHECK_INT_EQ(f.n_items, 30);
    feed_free(&f);
}

static void test_sloppy_feeds(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("crafted/rss_undeclared_entities.xml", NULL, &f, &err) == 0, "%s",
              err.msg);
    CHECK_STR_EQ(f.title, "Sloppy Feed");
    CHECK_STR_EQ(f.items[0].title, "Société Générale & BNP gain — 3%");
    CHECK_STR_EQ(f.items[0].text, "Shares up today");
    CHECK_STR_EQ(f.items[0].guid, "sg-1");
    CHECK_STR_EQ(f.items[0].url, "https://example.com/s"); /* isPermaLink=false: not a link */
    CHECK_INT_EQ(f.items[0].published_at, 1773136800);     /* dc:date */
    feed_free(&f);
    CHECK_MSG(parse_fixture("crafted/rss_control_chars.xml", NULL, &f, &err) == 0, "%s", err.msg);
    CHECK_STR_EQ(f.items[0].title, "Bell and vtab");
    CHECK_STR_EQ(f.items[0].url, "https://example.com/ctl");
    CHECK_STR_EQ(f.items[0].text, "nul byte");
    feed_free(&f);
}

static void test_atom_base_and_text_types(void)
{
    struct feed f;
    struct fs_error err;
    CHECK_MSG(parse_fixture("crafted/atom_xml_base.atom", NULL, &f, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(f.n_items, 2);
    CHECK_STR_EQ(f.title, "Markets <Live>");
    CHECK_STR_EQ(f.items[0].title, "Oil jumps 5%");
    CHECK_STR_EQ(f.items[0].url, "https://news.example.com/story/1?utm_source=rss#top");
    CHECK_STR_EQ(f.items[0].text, "Brent rose sharply. Second paragraph.");
    CHECK_STR_EQ(f.items[0].author, "Feed Author");
    CHECK_INT_EQ(f.items[0].published_at, 1773144000);
    CHECK_STR_EQ(f.items[1].title, "Plain <b> title");
    CHECK_STR_EQ(f.items[1].url, "https://other.example.com/x/item2");
    CHECK_STR_EQ(f.items[1].text, "Escaped html&more");
    CHECK_STR_EQ(f.items[1].author, "Own Author");
    CHECK_INT_EQ(f.items[1].published_at, 1773039600); /* published, not updated */
    feed_free(&f);
}

/* Issue 14: one &#0; or \u0000 in an item rejected the whole feed. The
 * character is dropped; every item is kept. */
static void test_forbidden_characters_dropped_not_the_feed(void)
{
    static const char rss[] =
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>"
        "<item><title>Nul&#0;here</title><guid>a</guid><description>x&#x1;y &amp; z</description></item>"
        "<item><title>Caf&#233; &nbsp;ok&#xFFFE;</title><guid>b</guid></item>"
        "<item><title>Third</title><guid>c</guid></item></channel></rss>";
    struct feed f;
    struct fs_error err;
    CHECK_MSG(feed_parse(rss, strlen(rss), NULL, NULL, &f, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(f.n_items, 3);
    CHECK_STR_EQ(f.items[0].title, "Nulhere");
    CHECK_STR_EQ(f.items[0].text, "xy & z");
    CHECK_STR_EQ(f.items[1].title, "Caf\xc3\xa9 ok");
    feed_free(&f);
    static const char json[] =
        "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": ["
        "{\"id\": \"1\", \"title\": \"Nul\\u0000here\", \"content_text\": \"a\\u0000b\"},"
        "{\"id\": \"2\", \"title\": \"Second\", \"content_html\": \"<p>c\\u0000d</p>\"}]}";
    CHECK_MSG(feed_parse(json, strlen(json), NULL, NULL, &f, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(f.n_items, 2);
    CHECK_STR_EQ(f.items[0].title, "Nulhere");
    CHECK_STR_EQ(f.items[0].text, "ab");
    CHECK_STR_EQ(f.items[1].text, "cd");
    feed_free(&f);
}

static void test_json_feed(void)
{
    struct feed f;
    struct fs_error err;
    char *buf;
    size_t len;
    CHECK(file_read_all(FIXTURE("crafted/jsonfeed_valid.json"), 1 << 20, &buf, &len, &err) == 0);
    int rc = feed_parse(buf, len, NULL, "https://example.org/feed.json", &f, &err);
    free(buf);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_INT_EQ(f.format, FEED_JSON);
    CHECK_STR_EQ(f.title, "Markets JSON");
    CHECK_INT_EQ(f.n_items, 3); /* the non-object entry is skipped */
    CHECK_STR_EQ(f.items[0].title, "Stocks rally on rate hopes");
    CHECK_STR_EQ(f.items[0].url, "https://example.org/news/a1");
    CHECK_STR_EQ(f.items[0].text, "The S&P 500 rose 1.2%.");
    CHECK_INT_EQ(f.items[0].published_at, 1773171000);
    CHECK_STR_EQ(f.items[0].author, "Desk");
    CHECK_STR_EQ(f.items[1].guid, "42");
    CHECK_STR_EQ(f.items[1].url, "https://other.example/b");
    CHECK_STR_EQ(f.items[1].author, "Ann Lee");
    CHECK_STR_EQ(f.items[2].title, "Café \xF0\x9F\x93\x88");
    CHECK_STR_EQ(f.items[2].text, "Only a summary");
    feed_free(&f);
}

static void test_rss1_minimal_and_names(void)
{
    struct feed f;
    struct fs_error err;
    CHECK(parse_fixture("crafted/rss1_minimal.rdf", NULL, &f, &err) == 0);
    CHECK_INT_EQ(f.format, FEED_RSS1);
    CHECK_STR_EQ(f.items[0].author, "Kim");
    CHECK_STR_EQ(feed_format_name(f.format), "rss1");
    feed_free(&f);
    CHECK_STR_EQ(feed_format_name(FEED_SITEMAP), "sitemap");
    CHECK_STR_EQ(feed_format_name(FEED_UNKNOWN), "unknown");
}

static void test_relative_links_resolved(void)
{
    const char *doc = "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title>"
                      "<link>../news/1.html</link></item></channel></rss>";
    struct feed f;
    struct fs_error err;
    CHECK(feed_parse(doc, strlen(doc), NULL, "https://ex.com/feeds/rss.xml", &f, &err) == 0);
    CHECK_STR_EQ(f.items[0].url, "https://ex.com/news/1.html");
    feed_free(&f);
}

/* ---- comparison with feedparser --------------------------------------------- */

static const char *python_with_feedparser(void)
{
    static const char *const cands[] = {"/usr/bin/python3", "python3"};
    for (size_t i = 0; i < FS_ARRAY_LEN(cands); i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -c 'import feedparser' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0)
            return cands[i];
    }
    return NULL;
}

/* feedparser's entries for every path in paths (argv of one python run), as a
 * JSON object {path: [[title, link, published epoch or 0], ...]}; titles stripped of markup,
 * unescaped and whitespace-collapsed as ours are. */
static json_t *feedparser_entries(const char *python, const char *const *paths, size_t n)
{
    struct strbuf cmd = STRBUF_INIT;
    sb_appendf(
        &cmd,
        "%s -c 'import sys, json, re, html, calendar, feedparser\n"
        "d = lambda e: e.get(\"published_parsed\") or e.get(\"updated_parsed\")\n"
        "t = lambda e: calendar.timegm(d(e)) if d(e) else 0\n"
        "n = lambda s: \" \".join(html.unescape(re.sub(r\"<[^>]*>\", \" \", s or \"\")).split())\n"
        "print(json.dumps({p: [[n(e.get(\"title\")), e.get(\"link\") or \"\", t(e)]"
        " for e in feedparser.parse(p).entries] for p in sys.argv[1:]}))'",
        python);
    for (size_t i = 0; i < n; i++)
        sb_appendf(&cmd, " 'tests/fixtures/%s'", paths[i]);
    FILE *p = popen(cmd.buf, "r");
    sb_free(&cmd);
    if (!p)
        return NULL;
    json_t *j = json_loadf(p, 0, NULL);
    pclose(p);
    return j;
}

/* Exact equality; NULL counts as "" (feedparser gives "" for a missing field). */
static int same_text(const char *ours, const char *theirs)
{
    return strcmp(ours ? ours : "", theirs ? theirs : "") == 0;
}

static void test_agrees_with_feedparser(void)
{
    const char *python = python_with_feedparser();
    if (!python)
        SKIP_MISSING("python3 with feedparser (Debian python3-feedparser)");
    size_t total = 0, titles_ok = 0, links_ok = 0, dates_ok = 0, counts_ok = 0, files = 0;
    json_t *all = feedparser_entries(python, REAL_FEEDS, FS_ARRAY_LEN(REAL_FEEDS));
    CHECK_MSG(json_is_object(all), "feedparser run failed");
    for (size_t k = 0; k < FS_ARRAY_LEN(REAL_FEEDS); k++) {
        if (strstr(REAL_FEEDS[k], "sitemap"))
            continue; /* feedparser does not read sitemaps (0 entries); we do */
        char path[512];
        snprintf(path, sizeof path, "tests/fixtures/%s", REAL_FEEDS[k]);
        json_t *ref = json_object_get(all, path);
        if (!json_is_array(ref))
            json_decref(all);
        CHECK_MSG(json_is_array(ref), "feedparser gave nothing for %s", path);
        struct feed f;
        struct fs_error err;
        int rc = parse_fixture(REAL_FEEDS[k], NULL, &f, &err);
        if (rc < 0)
            json_decref(all);
        CHECK_MSG(rc == 0, "%s: %s", path, err.msg);
        size_t n = json_array_size(ref), t_ok = 0, l_ok = 0, d_ok = 0;
        files++;
        counts_ok += n == f.n_items;
        for (size_t i = 0; i < n && i < f.n_items; i++) {
            json_t *e = json_array_get(ref, i);
            t_ok += same_text(f.items[i].title, json_string_value(json_array_get(e, 0)));
            l_ok += same_text(f.items[i].url, json_string_value(json_array_get(e, 1)));
            d_ok += f.items[i].published_at == json_integer_value(json_array_get(e, 2));
            if (!same_text(f.items[i].title, json_string_value(json_array_get(e, 0))))
                printf("  # title differs in %s[%zu]: ours \"%s\" feedparser \"%s\"\n",
                       REAL_FEEDS[k], i, f.items[i].title, json_string_value(json_array_get(e, 0)));
        }
        printf("  # %-45s items %zu/%zu titles %zu/%zu links %zu/%zu dates %zu/%zu\n",
               REAL_FEEDS[k], f.n_items, n, t_ok, n, l_ok, n, d_ok, n);
        total += n, titles_ok += t_ok, links_ok += l_ok, dates_ok += d_ok;
        feed_free(&f);
    }
    json_decref(all);
    printf("  # feedparser agreement: item counts %zu/%zu feeds, titles %zu/%zu, links %zu/%zu, "
           "dates %zu/%zu\n",
           counts_ok, files, titles_ok, total, links_ok, total, dates_ok, total);
    CHECK_INT_EQ(counts_ok, files);
    CHECK_INT_EQ(titles_ok, total);
    CHECK_INT_EQ(links_ok, total);
    CHECK_INT_EQ(dates_ok, total);
}

/* A JSON Feed whose bad escape is followed by a newline: jansson quotes the
 * input in its message, which must still be one line (found by fuzz_feed). */
static void test_json_feed_error_is_one_line(void)
{
    static const char bad[] = "{\"version\": \"https://jsonfeed.org/version/1.1\",\n"
                              " \"items\": [{\"content_html\": \"x\\\n\"}]}";
    struct feed f;
    struct fs_error err;
    CHECK(feed_parse(bad, sizeof bad - 1, NULL, "https://example.org/f.json", &f, &err) < 0);
    CHECK_MSG(err.msg[0] && !strchr(err.msg, '\n'), "message: %s", err.msg);
}

int main(void)
{
    RUN(test_cnbc_rss2);
    RUN(test_google_news_rss2);
    RUN(test_nyt_rss2);
    RUN(test_wsj_rss2);
    RUN(test_reddit_atom);
    RUN(test_biorxiv_rss1);
    RUN(test_peryaudo_rss2_named_rdf);
    RUN(test_bloomberg_news_sitemap);
    RUN(test_truncated_real_feeds_never_crash);
    RUN(test_xxe_not_loaded);
    RUN(test_billion_laughs_fails_fast);
    RUN(test_bad_documents_give_one_line);
    RUN(test_libxml_prints_nothing);
    RUN(test_charsets);
    RUN(test_sloppy_feeds);
    RUN(test_atom_base_and_text_types);
    RUN(test_json_feed);
    RUN(test_forbidden_characters_dropped_not_the_feed);
    RUN(test_json_feed_error_is_one_line);
    RUN(test_rss1_minimal_and_names);
    RUN(test_relative_links_resolved);
    RUN(test_agrees_with_feedparser);
    return check_summary();
}
