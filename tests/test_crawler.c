/* test_crawler.c — backoff and scheduling math, robots.txt rules, source config,
 * fetch helpers, and storing with dedupe into a temporary database. (Fetching
 * against a real server is tests/it_crawl.py.) */
#include "common/config.h"
#include "common/util.h"
#include "crawler/crawler.h"
#include "crawler/fetch.h"
#include "crawler/robots.h"
#include "crawler/source.h"
#include "db/db.h"
#include "db/db_crawl.h"
#include "tests/check.h"

#include <stdlib.h>
#include <unistd.h>

static char *temp_db(void)
{
    char dir[] = "/tmp/finsent-crawler-XXXXXX";
    if (!mkdtemp(dir))
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s/t.db", dir);
    return sb_detach(&sb);
}

static int64_t count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    struct fs_error err;
    if (db_prepare(db, &st, sql, &err) < 0)
        return -1;
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

/* ---- scheduling ---------------------------------------------------------- */

static void test_backoff_doubles_to_cap(void)
{
    CHECK_INT_EQ(source_backoff_delay(1, 900, 86400), 900);
    CHECK_INT_EQ(source_backoff_delay(2, 900, 86400), 1800);
    CHECK_INT_EQ(source_backoff_delay(3, 900, 86400), 3600);
    CHECK_INT_EQ(source_backoff_delay(7, 900, 86400), 57600);
    CHECK_INT_EQ(source_backoff_delay(8, 900, 86400), 86400);
    CHECK_INT_EQ(source_backoff_delay(1000000, 900, 86400), 86400);
    CHECK_INT_EQ(source_backoff_delay(0, 900, 86400), 900);
    /* never 0, even with a silly configuration */
    CHECK(source_backoff_delay(5, 0, 0) >= 1);
}

static void test_next_fetch_interval_ttl_retry_after(void)
{
    int64_t now = 1800000000;
    /* success: interval, or the feed's ttl when longer (capped at a day) */
    CHECK_INT_EQ(crawler_next_fetch(now, 1, 1800, 0, 0, 900, 86400, 0), now + 1800);
    CHECK_INT_EQ(crawler_next_fetch(now, 1, 1800, 7200, 0, 900, 86400, 0), now + 7200);
    CHECK_INT_EQ(crawler_next_fetch(now, 1, 1800, 600, 0, 900, 86400, 0), now + 1800);
    CHECK_INT_EQ(crawler_next_fetch(now, 1, 1800, 10 * 86400, 0, 900, 86400, 0), now + 86400);
    /* failure: backoff, or Retry-After when later (capped at 7 days) */
    CHECK_INT_EQ(crawler_next_fetch(now, 0, 1800, 0, 1, 900, 86400, 0), now + 900);
    CHECK_INT_EQ(crawler_next_fetch(now, 0, 1800, 0, 3, 900, 86400, 0), now + 3600);
    CHECK_INT_EQ(crawler_next_fetch(now, 0, 1800, 0, 1, 900, 86400, now + 7200), now + 7200);
    CHECK_INT_EQ(crawler_next_fetch(now, 0, 1800, 0, 3, 900, 86400, now + 60), now + 3600);
    CHECK_INT_EQ(crawler_next_fetch(now, 0, 1800, 0, 1, 900, 86400, now + 365 * 86400),
                 now + 7 * 86400);
}

static void test_retry_after_parsing(void)
{
    int64_t now = 784111777, at;
    CHECK(fetch_parse_retry_after("120", now, &at) == 0);
    CHECK_INT_EQ(at, now + 120);
    CHECK(fetch_parse_retry_after(" 0 ", now, &at) == 0);
    CHECK_INT_EQ(at, now);
    CHECK(fetch_parse_retry_after("Sun, 06 Nov 1994 09:49:37 GMT", now, &at) == 0);
    CHECK_INT_EQ(at, now + 3600);
    /* a date in the past means now */
    CHECK(fetch_parse_retry_after("Sun, 06 Nov 1994 07:49:37 GMT", now, &at) == 0);
    CHECK_INT_EQ(at, now);
    CHECK(fetch_parse_retry_after("99999999999999999999999999", now, &at) == 0);
    CHECK(at > now);
    CHECK(fetch_parse_retry_after("soon", now, &at) < 0);
    CHECK(fetch_parse_retry_after("12abc", now, &at) < 0);
    CHECK(fetch_parse_retry_after(NULL, now, &at) < 0);
}

/* ---- URL and header helpers ---------------------------------------------- */

static void test_url_origin_and_path(void)
{
    char *o = fetch_url_origin("HTTP://Example.COM:80/a/b?x=1#frag");
    CHECK_STR_EQ(o, "http://example.com");
    free(o);
    o = fetch_url_origin("https://example.com:8443/");
    CHECK_STR_EQ(o, "https://example.com:8443");
    free(o);
    CHECK(fetch_url_origin("ftp://example.com/x") == NULL);
    CHECK(fetch_url_origin("file:///etc/passwd") == NULL);
    CHECK(fetch_url_origin("not a url") == NULL);
    char *h = fetch_url_host("https://News.Example.COM:8443/x");
    CHECK_STR_EQ(h, "news.example.com");
    free(h);
    CHECK(fetch_url_host("ftp://example.com/") == NULL);
    char *p = fetch_url_path("http://example.com/a/b?x=1#frag");
    CHECK_STR_EQ(p, "/a/b?x=1");
    free(p);
    p = fetch_url_path("http://example.com");
    CHECK_STR_EQ(p, "/");
    free(p);
}

static void test_content_type_charset(void)
{
    char *c = fetch_content_type_charset("text/xml; charset=ISO-8859-1");
    CHECK_STR_EQ(c, "ISO-8859-1");
    free(c);
    c = fetch_content_type_charset("text/html;Charset=\"utf-8\"; foo=bar");
    CHECK_STR_EQ(c, "utf-8");
    free(c);
    CHECK(fetch_content_type_charset("application/rss+xml") == NULL);
    CHECK(fetch_content_type_charset("text/html; charset=") == NULL);
    CHECK(fetch_content_type_charset(NULL) == NULL);
}

/* ---- robots.txt ---------------------------------------------------------- */

static void test_robots_star_group_and_longest_match(void)
{
    const char *txt = "# comment\nUser-agent: *\nDisallow: /private/\nAllow: /private/ok\n"
                      "Disallow: /*.pdf$\nDisallow: /search*q=\n\nUser-agent: otherbot\n"
                      "Disallow: /\n";
    struct robots *r = robots_parse(txt, strlen(txt), NULL);
    CHECK(robots_allowed(r, "/"));
    CHECK(robots_allowed(r, "/news/feed.xml"));
    CHECK(!robots_allowed(r, "/private/x"));
    CHECK(robots_allowed(r, "/private/ok/page"));
    CHECK(!robots_allowed(r, "/files/report.pdf"));
    CHECK(robots_allowed(r, "/files/report.pdf?download=1"));
    CHECK(!robots_allowed(r, "/search/x?q=1"));
    CHECK(robots_allowed(r, "/search"));
    CHECK(robots_allowed(r, "/robots.txt"));
    robots_free(r);
}

static void test_robots_own_group_wins(void)
{
    const char *txt = "User-agent: *\nDisallow: /\n\n"
                      "User-agent: googlebot\nUser-agent: FinSent\nDisallow: /nofinsent\n"
                      "Crawl-delay: 2.5\n";
    struct robots *r = robots_parse(txt, strlen(txt), "finsent");
    CHECK(robots_allowed(r, "/news"));
    CHECK(!robots_allowed(r, "/nofinsent/a"));
    CHECK_INT_EQ(robots_crawl_delay_ms(r), 2500);
    robots_free(r);
    /* another bot's name only: the * group applies */
    r = robots_parse(txt, strlen(txt), "otherbot");
    CHECK(!robots_allowed(r, "/news"));
    robots_free(r);
}

static void test_robots_edge_cases(void)
{
    /* empty Disallow allows all; equal-length Allow beats Disallow */
    const char *txt = "User-agent: *\r\nDisallow:\r\nDisallow: /page\r\nAllow: /page\r\n";
    struct robots *r = robots_parse(txt, strlen(txt), NULL);
    CHECK(robots_allowed(r, "/page"));
    CHECK(robots_allowed(r, "/other"));
    robots_free(r);
    /* ... whichever comes first (the later of two equal rules must not win) */
    static const char *const ties[] = {"User-agent: *\nAllow: /page\nDisallow: /page\n",
                                       "User-agent: *\nAllow: /a/*.htm\nDisallow: /a/b.htm\n",
                                       "User-agent: *\nDisallow: /a/b.htm\nAllow: /a/*.htm\n"};
    for (size_t i = 0; i < sizeof ties / sizeof *ties; i++) {
        r = robots_parse(ties[i], strlen(ties[i]), NULL);
        CHECK_MSG(robots_allowed(r, i ? "/a/b.htm" : "/page"), "tie %zu disallowed", i);
        robots_free(r);
    }
    /* nothing, garbage, binary: allow all, never crash */
    r = robots_parse(NULL, 0, NULL);
    CHECK(robots_allowed(r, "/x"));
    robots_free(r);
    const char junk[] = "\x00\xff:::\nUser-agent\nDisallow /x\n:\n";
    r = robots_parse(junk, sizeof junk - 1, NULL);
    CHECK(robots_allowed(r, "/x"));
    robots_free(r);
    CHECK(robots_allowed(NULL, "/anything"));
    r = robots_disallow_all();
    CHECK(!robots_allowed(r, "/"));
    CHECK(robots_allowed(r, "/robots.txt"));
    robots_free(r);
    /* pathological wildcards stay fast */
    const char *many = "User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*b$\n";
    r = robots_parse(many, strlen(many), NULL);
    char path[2000];
    path[0] = '/';
    memset(path + 1, 'a', sizeof path - 2);
    path[sizeof path - 1] = '\0';
    CHECK(robots_allowed(r, path));
    robots_free(r);
}

/* Random robots.txt built from the tokens that matter (fixed seed): parsing and
 * matching never crash, read out of bounds (SAN build) or hang. */
static void test_robots_random_input(void)
{
    static const char *const tokens[] = {"User-agent:",
                                         "user-agent: finsent",
                                         "User-agent: *",
                                         "Disallow:",
                                         "Allow:",
                                         "Crawl-delay:",
                                         " /",
                                         "/a",
                                         "*",
                                         "$",
                                         "/*",
                                         "*$",
                                         "#",
                                         "\n",
                                         "\r\n",
                                         "\r",
                                         ":",
                                         " ",
                                         "\t",
                                         "\xff",
                                         "9999999999999",
                                         "-1",
                                         "0.001",
                                         "/a*b$",
                                         "?q=1"};
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    struct strbuf sb = STRBUF_INIT;
    for (int round = 0; round < 3000; round++) {
        sb_reset(&sb);
        int n = (int)(state % 60);
        for (int i = 0; i < n; i++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            sb_append(&sb, tokens[(state >> 33) % FS_ARRAY_LEN(tokens)]);
        }
        struct robots *r = robots_parse(sb.buf, sb.len, NULL);
        CHECK(r != NULL);
        const char *paths[] = {"/", "/a", "/ab", "/a/b?q=1", "/$", ""};
        for (size_t k = 0; k < FS_ARRAY_LEN(paths); k++) {
            int allowed = robots_allowed(r, paths[k]);
            CHECK(allowed == 0 || allowed == 1);
        }
        CHECK(robots_crawl_delay_ms(r) >= 0);
        robots_free(r);
        state ^= (uint64_t)round * 0x2545F4914F6CDD1DULL;
    }
    sb_free(&sb);
}

/* ---- configuration ------------------------------------------------------- */

static void test_source_config_parsing(void)
{
    const char *text = "[finsent]\ncontact = ops@example.com\n"
                       "[crawler]\nconcurrency = 4\ndelay_ms = 0\ntimeout_ms = 1500\n"
                       "[source feed-a]\nurl = https://example.com/feed.xml\n"
                       "[source page]\nurl = http://example.com/a\nkind = article\n"
                       "interval = 2h\n"
                       "[source talk]\nurl = http://example.com/t\nkind = comments\n"
                       "comment_selector = //div[@class='c']\n"
                       "[source deep]\nurl = http://example.com/f\nfollow_links = yes\n";
    struct config *cfg;
    struct fs_error err;
    CHECK(config_parse(&cfg, "c.conf", text, &err) == 0);
    struct crawler_settings s;
    CHECK_MSG(crawler_settings_load(cfg, &s, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(s.concurrency, 4);
    CHECK_INT_EQ(s.per_host, 2);
    CHECK_INT_EQ(s.delay_ms, 0);
    CHECK_INT_EQ(s.timeout_ms, 1500);
    CHECK_INT_EQ(s.connect_timeout_ms, 10000);
    CHECK_INT_EQ(s.max_body, 15 << 20);
    CHECK_INT_EQ(s.max_follow_links, 50);
    CHECK_INT_EQ(s.max_title_chars, 500);
    CHECK_INT_EQ(s.max_text_chars, 100000);
    CHECK_INT_EQ(s.max_documents_per_page, 1000);
    CHECK_INT_EQ(s.deadline_ms, 600000);
    CHECK_INT_EQ(s.backoff_min, 900);
    CHECK_INT_EQ(s.backoff_max, 86400);
    CHECK(strstr(s.user_agent, "finsent/") == s.user_agent);
    CHECK(strstr(s.user_agent, "ops@example.com") != NULL);
    struct source_config *src;
    size_t n;
    CHECK_MSG(source_list_load(cfg, s.interval, &src, &n, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(n, 4);
    CHECK_STR_EQ(src[0].name, "feed-a");
    CHECK_INT_EQ(src[0].kind, SOURCE_FEED);
    CHECK_INT_EQ(src[0].interval, s.interval);
    CHECK_INT_EQ(src[1].kind, SOURCE_ARTICLE);
    CHECK_INT_EQ(src[1].interval, 7200);
    CHECK_INT_EQ(src[2].kind, SOURCE_COMMENTS);
    CHECK_STR_EQ(src[2].comment_selector, "//div[@class='c']");
    CHECK_INT_EQ(src[3].follow_links, 1);
    source_list_free(src, n);
    crawler_settings_free(&s);
    config_free(cfg);
}

static void expect_config_error(const char *text, const char *needle)
{
    struct config *cfg;
    struct fs_error err;
    if (config_parse(&cfg, "bad.conf", text, &err) < 0) {
        printf("  config did not parse: %s\n", err.msg);
        check_failed_now = 1;
        return;
    }
    struct crawler_settings s;
    struct source_config *src = NULL;
    size_t n = 0;
    int rc = crawler_settings_load(cfg, &s, &err);
    if (rc == 0) {
        rc = source_list_load(cfg, s.interval, &src, &n, &err);
        crawler_settings_free(&s);
    }
    if (rc == 0) {
        source_list_free(src, n);
        printf("  accepted: %s\n", text);
        check_failed_now = 1;
    } else if (!strstr(err.msg, needle)) {
        printf("  error '%s' lacks '%s'\n", err.msg, needle);
        check_failed_now = 1;
    }
    config_free(cfg);
}

static void test_source_config_errors(void)
{
    expect_config_error("[source a]\nkind = feed\n", "bad.conf:1: [source a] url: missing");
    expect_config_error("[source a]\nurl = ftp://example.com/x\n", "bad.conf:2:");
    expect_config_error("[source a]\nurl = file:///etc/passwd\n", "http");
    expect_config_error("[source a]\nurl = http://x.com/\nkind = podcast\n", "bad.conf:3:");
    expect_config_error("[source a]\nurl = http://x.com/\nkind = article\nfollow_links = yes\n",
                        "only applies");
    expect_config_error("[source a]\nurl = http://x.com/\nfollow_links = maybe\n", "yes/no");
    expect_config_error("[source a]\nurl = http://x.com/\ninterval = soon\n", "duration");
    expect_config_error("[crawler]\nconcurrency = 0\n", "bad.conf:2:");
    expect_config_error("[crawler]\nper_host = lots\n", "not an integer");
    expect_config_error("[crawler]\nmax_follow_links = 0\n", "bad.conf:2:");
    expect_config_error("[crawler]\nbackoff_min = 1h\nbackoff_max = 1m\n", "backoff_max");
}

/* ---- storage ------------------------------------------------------------- */

static void test_store_dedupe_across_sources(void)
{
    char *path = temp_db();
    sqlite3 *db;
    struct fs_error err;
    CHECK_MSG(db_open(&db, path, &err) == 0, "%s", err.msg);
    struct db_crawl *dc = db_crawl_open(db);
    int64_t a, b;
    struct db_source_def da = {"a", "http://x/a", "feed", NULL, 0};
    struct db_source_def db_ = {"b", "http://x/b", "feed", NULL, 1};
    CHECK(db_crawl_source_upsert(dc, &da, &a, &err) == 0);
    CHECK(db_crawl_source_upsert(dc, &db_, &b, &err) == 0);
    CHECK(a != b);
    const char *k1[] = {"g:guid-1", "u:http://x/1", "h:aaaa"};
    const char *k2[] = {"g:guid-2", "u:http://x/1", "h:bbbb"}; /* same URL */
    const char *k3[] = {"u:http://x/3", "h:aaaa"};             /* same content */
    const char *k4[] = {"g:guid-4", "u:http://x/4", "h:cccc"};
    struct db_document d = {.source_id = a,
                            .url = "http://x/1",
                            .guid = "guid-1",
                            .dedupe_hash = "aaaa",
                            .title = "T",
                            .text = "body",
                            .kind = "article",
                            .fetched_at = 100};
    int64_t id1, id;
    CHECK(db_begin(db, &err) == 0);
    CHECK_INT_EQ(db_crawl_document_insert(dc, &d, k1, 3, &id1, &err), 1);
    d.source_id = b;
    CHECK_INT_EQ(db_crawl_document_insert(dc, &d, k1, 3, &id, &err), 0);
    CHECK_INT_EQ(id, id1);
    CHECK_INT_EQ(db_crawl_document_insert(dc, &d, k2, 3, &id, &err), 0);
    CHECK_INT_EQ(db_crawl_document_insert(dc, &d, k3, 2, &id, &err), 0);
    CHECK_INT_EQ(id, id1);
    CHECK_INT_EQ(db_crawl_document_insert(dc, &d, k4, 3, &id, &err), 1);
    CHECK(id != id1);
    /* a comment under the first document */
    struct db_document c = {.source_id = b,
                            .dedupe_hash = "dddd",
                            .text = "great",
                            .kind = "comment",
                            .parent_id = id1,
                            .fetched_at = 100};
    const char *kc[] = {"h:dddd"};
    CHECK_INT_EQ(db_crawl_document_insert(dc, &c, kc, 1, &id, &err), 1);
    CHECK(db_commit(db, &err) == 0);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM documents"), 3);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM dedupe_keys"), 7);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM documents WHERE kind = 'comment' AND "
                                "parent_id IS NOT NULL"),
                 1);
    int64_t seen_id = 0;
    const char *probe[] = {"g:nope", "h:cccc"};
    CHECK_INT_EQ(db_crawl_seen(dc, probe, 2, &seen_id, &err), 1);
    const char *probe2[] = {"g:nope"};
    CHECK_INT_EQ(db_crawl_seen(dc, probe2, 1, &seen_id, &err), 0);
    db_crawl_close(dc);
    db_close(db);
    free(path);
}

static void test_source_state_and_url_change(void)
{
    char *path = temp_db();
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    struct db_crawl *dc = db_crawl_open(db);
    int64_t id, id2;
    struct db_source_def def = {"a", "http://x/a", "feed", NULL, 0};
    CHECK(db_crawl_source_upsert(dc, &def, &id, &err) == 0);
    struct db_source_update u = {.id = id,
                                 .etag = "\"e1\"",
                                 .last_modified = "Mon",
                                 .last_status = 200,
                                 .ttl_seconds = 600,
                                 .last_fetch_at = 1000,
                                 .next_fetch_at = 5000};
    CHECK(db_crawl_source_update(dc, &u, &err) == 0);
    struct db_source_state st;
    CHECK(db_crawl_source_state(dc, id, &st, &err) == 0);
    CHECK_STR_EQ(st.etag, "\"e1\"");
    CHECK_INT_EQ(st.next_fetch_at, 5000);
    CHECK_INT_EQ(st.ttl_seconds, 600);
    db_source_state_free(&st);
    /* a failure keeps the validators and counts errors */
    struct db_source_update f = {.id = id,
                                 .keep_validators = 1,
                                 .last_status = 500,
                                 .last_error = "HTTP 500",
                                 .consecutive_errors = 2,
                                 .last_fetch_at = 2000,
                                 .next_fetch_at = 9000};
    CHECK(db_crawl_source_update(dc, &f, &err) == 0);
    CHECK(db_crawl_source_state(dc, id, &st, &err) == 0);
    CHECK_STR_EQ(st.etag, "\"e1\"");
    CHECK_INT_EQ(st.consecutive_errors, 2);
    CHECK_INT_EQ(st.next_fetch_at, 9000);
    db_source_state_free(&st);
    /* same definition again: same id, state kept */
    CHECK(db_crawl_source_upsert(dc, &def, &id2, &err) == 0);
    CHECK_INT_EQ(id2, id);
    CHECK(db_crawl_source_state(dc, id, &st, &err) == 0);
    CHECK_INT_EQ(st.next_fetch_at, 9000);
    db_source_state_free(&st);
    /* a new URL forgets validators and is due at once */
    def.url = "http://x/other";
    CHECK(db_crawl_source_upsert(dc, &def, &id2, &err) == 0);
    CHECK_INT_EQ(id2, id);
    CHECK(db_crawl_source_state(dc, id, &st, &err) == 0);
    CHECK(st.etag == NULL);
    CHECK_INT_EQ(st.next_fetch_at, 0);
    CHECK_INT_EQ(st.consecutive_errors, 0);
    db_source_state_free(&st);
    db_crawl_close(dc);
    db_close(db);
    free(path);
}

static void test_robots_cache_and_crawl_log(void)
{
    char *path = temp_db();
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    struct db_crawl *dc = db_crawl_open(db);
    char *body = NULL;
    CHECK_INT_EQ(db_crawl_robots_get(dc, "http://x", 100, &body, &err), 0);
    CHECK(db_crawl_robots_put(dc, "http://x", "User-agent: *\n", 100, 200, &err) == 0);
    CHECK_INT_EQ(db_crawl_robots_get(dc, "http://x", 150, &body, &err), 1);
    CHECK_STR_EQ(body, "User-agent: *\n");
    free(body);
    CHECK_INT_EQ(db_crawl_robots_get(dc, "http://x", 200, &body, &err), 0); /* expired */
    CHECK(db_crawl_robots_put(dc, "http://y", NULL, 100, 200, &err) == 0);
    CHECK_INT_EQ(db_crawl_robots_get(dc, "http://y", 150, &body, &err), 1);
    CHECK(body == NULL);
    struct db_crawl_log_row row = {.url = "http://x/f",
                                   .started_at = 5,
                                   .outcome = "failed",
                                   .http_status = 500,
                                   .error = "HTTP 500"};
    CHECK(db_crawl_log_add(dc, &row, &err) == 0);
    row.outcome = "bogus";
    CHECK(db_crawl_log_add(dc, &row, &err) < 0); /* the CHECK constraint holds */
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM crawl_log"), 1);
    db_crawl_close(dc);
    db_close(db);
    free(path);
}

/* ---- crawler_run without a server ---------------------------------------- */

static void test_crawler_run_unreachable_source_backs_off(void)
{
    char *path = temp_db();
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    /* port 1 on loopback: connection refused at once */
    const char *text = "[crawler]\ndelay_ms = 0\nconnect_timeout = 2\ntimeout = 2\n"
                       "[source dead]\nurl = http://127.0.0.1:1/feed.xml\n";
    struct config *cfg;
    CHECK(config_parse(&cfg, "t.conf", text, &err) == 0);
    struct crawl_options opts = {.quiet = 1};
    struct crawl_results res;
    int64_t now = 1800000000;
    int status = crawler_run(db, cfg, now, &opts, &res, &err);
    CHECK_INT_EQ(status, FS_EXIT_PARTIAL);
    CHECK_INT_EQ(res.n, 1);
    CHECK_INT_EQ(res.sources[0].outcome, CRAWL_FAILED);
    CHECK_MSG(res.sources[0].error && strstr(res.sources[0].error, "robots.txt unavailable"),
              "error: %s", res.sources[0].error);
    CHECK_INT_EQ(res.sources[0].next_fetch_at, now + 900);
    crawl_results_free(&res);
    /* not due yet: skipped, nothing fetched */
    status = crawler_run(db, cfg, now + 60, &opts, &res, &err);
    CHECK_INT_EQ(status, FS_EXIT_OK);
    CHECK_INT_EQ(res.sources[0].outcome, CRAWL_SKIPPED);
    crawl_results_free(&res);
    /* second failure doubles the delay */
    status = crawler_run(db, cfg, now + 900, &opts, &res, &err);
    CHECK_INT_EQ(status, FS_EXIT_PARTIAL);
    CHECK_INT_EQ(res.sources[0].next_fetch_at, now + 900 + 1800);
    crawl_results_free(&res);
    CHECK_INT_EQ(count_rows(db, "SELECT consecutive_errors FROM sources WHERE name = 'dead'"), 2);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM crawl_log WHERE outcome = 'failed'"), 2);
    /* an unknown --source is a usage error */
    opts.only_source = "nope";
    CHECK_INT_EQ(crawler_run(db, cfg, now, &opts, &res, &err), FS_EXIT_USAGE);
    CHECK(strstr(err.msg, "nope") != NULL);
    config_free(cfg);
    /* a bad config is a config error */
    CHECK(config_parse(&cfg, "t.conf", "[source x]\nkind = feed\n", &err) == 0);
    opts.only_source = NULL;
    CHECK_INT_EQ(crawler_run(db, cfg, now, &opts, &res, &err), FS_EXIT_CONFIG);
    CHECK_INT_EQ(res.n, 0);
    config_free(cfg);
    db_close(db);
    free(path);
}

int main(void)
{
    RUN(test_backoff_doubles_to_cap);
    RUN(test_next_fetch_interval_ttl_retry_after);
    RUN(test_retry_after_parsing);
    RUN(test_url_origin_and_path);
    RUN(test_content_type_charset);
    RUN(test_robots_star_group_and_longest_match);
    RUN(test_robots_own_group_wins);
    RUN(test_robots_edge_cases);
    RUN(test_robots_random_input);
    RUN(test_source_config_parsing);
    RUN(test_source_config_errors);
    RUN(test_store_dedupe_across_sources);
    RUN(test_source_state_and_url_change);
    RUN(test_robots_cache_and_crawl_log);
    RUN(test_crawler_run_unreachable_source_backs_off);
    return check_summary();
}
