/* test_common.c — strbuf, time parsing, config, CSV, hashing. */
#include "common/config.h"
#include "common/csv.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "tests/check.h"

#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_strbuf_grows_and_trims(void)
{
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 1000; i++)
        sb_appendf(&sb, "%d,", i);
    CHECK(sb.len > 3000);
    CHECK(strncmp(sb.buf, "0,1,2,", 6) == 0);
    sb_reset(&sb);
    sb_append(&sb, "  \t padded text \n");
    sb_trim(&sb);
    CHECK_STR_EQ(sb.buf, "padded text");
    char *s = sb_detach(&sb);
    CHECK_STR_EQ(s, "padded text");
    CHECK_STR_EQ(sb.buf, "");
    free(s);
    sb_free(&sb);
}

static void test_time_iso8601(void)
{
    int64_t t;
    CHECK(time_parse_iso8601("2026-03-01T12:00:05Z", &t) == 0);
    CHECK_INT_EQ(t, 1772366405);
    CHECK(time_parse_iso8601("2026-03-01T14:00:05+02:00", &t) == 0);
    CHECK_INT_EQ(t, 1772366405);
    CHECK(time_parse_iso8601("2026-03-01T12:00:05.123Z", &t) == 0);
    CHECK_INT_EQ(t, 1772366405);
    CHECK(time_parse_iso8601("2026-03-01", &t) == 0);
    CHECK_INT_EQ(t, 1772323200);
    CHECK(time_parse_iso8601("2026-13-01", &t) < 0);
    CHECK(time_parse_iso8601("yesterday", &t) < 0);
    char buf[32];
    CHECK_STR_EQ(time_format_iso8601(1772366405, buf, sizeof buf), "2026-03-01T12:00:05Z");
    /* beyond what gmtime_r converts: struct tm stayed uninitialised */
    memset(buf, 'x', sizeof buf);
    CHECK_STR_EQ(time_format_iso8601(INT64_MAX, buf, sizeof buf), "(invalid time)");
    char small[8];
    CHECK_STR_EQ(time_format_iso8601(1772366405, small, sizeof small), "(invali");
}

static void test_time_rejects_impossible_days(void)
{
    int64_t t;
    CHECK(time_parse_iso8601("2026-02-30", &t) < 0);
    CHECK(time_parse_iso8601("2026-02-29T00:00:00Z", &t) < 0);
    CHECK(time_parse_iso8601("2026-04-31T10:00Z", &t) < 0);
    CHECK(time_parse_rfc822("Mon, 30 Feb 2026 10:00:00 GMT", &t) < 0);
    CHECK(time_parse_iso8601("2028-02-29", &t) == 0); /* leap years */
    CHECK(time_parse_iso8601("2000-02-29", &t) == 0);
    CHECK(time_parse_iso8601("1900-02-29", &t) < 0);
    CHECK(time_parse_iso8601("2026-12-31T23:59:59Z", &t) == 0);
}

static void test_time_rfc822(void)
{
    int64_t t;
    CHECK(time_parse_rfc822("Mon, 29 Jul 2019 13:55 GMT", &t) == 0);
    CHECK_INT_EQ(t, 1564408500);
    CHECK(time_parse_rfc822("Sun, 06 Nov 1994 08:49:37 +0000", &t) == 0);
    CHECK_INT_EQ(t, 784111777);
    CHECK(time_parse_rfc822("Sun, 06 Nov 1994 03:49:37 EST", &t) == 0);
    CHECK_INT_EQ(t, 784111777);
    CHECK(time_parse_rfc822("Sunday, 06-Nov-94 08:49:37 GMT", &t) == 0);
    CHECK_INT_EQ(t, 784111777);
    CHECK(time_parse_rfc822("not a date", &t) < 0);
    CHECK(time_parse_any("2026-03-01T12:00:05Z", &t) == 0);
}

static void test_duration(void)
{
    int64_t s;
    CHECK(duration_parse("90", &s) == 0 && s == 90);
    CHECK(duration_parse("15m", &s) == 0 && s == 900);
    CHECK(duration_parse("2h", &s) == 0 && s == 7200);
    CHECK(duration_parse("1d", &s) == 0 && s == 86400);
    CHECK(duration_parse("1x", &s) < 0);
    CHECK(duration_parse("-5", &s) < 0);
    /* found by UBSan: v * mult overflowed int64 */
    CHECK(duration_parse("9999999999999999d", &s) < 0);
    CHECK(duration_parse("99999999999999999w", &s) < 0);
    CHECK(duration_parse("9223372036854775807", &s) < 0);
    CHECK(duration_parse("5200w", &s) == 0 && s == 5200 * 7 * 86400LL);
}

/* Crawled URLs reach log lines: a JSON Feed link with ESC [2J cleared the
 * terminal of whoever read 'finsent crawl' output. */
/* An error quoting untrusted bytes stays one line (the model-file fuzz target
 * found a JSON parser error that quoted a newline from the file). */
static void test_error_is_one_line(void)
{
    struct fs_error err;
    CHECK(fs_error_set(&err, "header is not valid JSON (near '%s')", "\"a\\\n\r\tb\x7f") == -1);
    CHECK_STR_EQ(err.msg, "header is not valid JSON (near '\"a\\   b ')");
    CHECK(fs_error_prefix(&err, "%s", "/tmp/x\ny") == -1);
    CHECK(strncmp(err.msg, "/tmp/x y: header", 16) == 0);
}

static void test_log_line_has_no_controls(void)
{
    char path[] = "/tmp/finsent-test-log.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    log_msg(LOG_ERROR,
            "url http://x/\x1b[2J\x1b[31mred\r\nfinsent: error: fake \xC2\x9B"
            "1m %s",
            "caf\xC3\xA9");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[512] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    CHECK(n > 0);
    CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1); /* exactly one line */
    CHECK(strchr(buf, '\x1b') == NULL && strchr(buf, '\r') == NULL);
    CHECK(strstr(buf, "\xC2\x9B") == NULL);
    CHECK(strstr(buf, "caf\xC3\xA9") != NULL); /* UTF-8 text is kept */
    CHECK(strncmp(buf, "finsent: error: url http://x/ [2J [31mred", 40) == 0);
}

static void test_config_parses_sections_and_types(void)
{
    const char *text = "# comment\n[finsent]\ncontact = ops@example.com\n\n"
                       "[source  reuters]\nurl = \"https://example.com/feed\"\nkind = feed\n"
                       "[source wsj]\nurl = https://example.com/wsj\n"
                       "[crawler]\nconcurrency = 8\nfollow = yes\nttl = 2h\n";
    struct config *cfg;
    struct fs_error err;
    CHECK(config_parse(&cfg, "t.conf", text, &err) == 0);
    CHECK_STR_EQ(config_get(cfg, "finsent", "contact"), "ops@example.com");
    CHECK_STR_EQ(config_get(cfg, "source reuters", "url"), "https://example.com/feed");
    CHECK_INT_EQ(config_section_count(cfg, "source "), 2);
    CHECK_STR_EQ(config_section_at(cfg, "source ", 1), "source wsj");
    int64_t n;
    int b;
    CHECK(config_get_int(cfg, "crawler", "concurrency", 1, 1, 64, &n, &err) == 0 && n == 8);
    CHECK(config_get_int(cfg, "crawler", "missing", 3, 1, 64, &n, &err) == 0 && n == 3);
    CHECK(config_get_bool(cfg, "crawler", "follow", 0, &b, &err) == 0 && b == 1);
    CHECK(config_get_duration(cfg, "crawler", "ttl", 0, &n, &err) == 0 && n == 7200);
    CHECK(config_get_int(cfg, "crawler", "concurrency", 1, 1, 4, &n, &err) < 0);
    CHECK_MSG(strstr(err.msg, "t.conf:11:") != NULL, "error names file and line: %s", err.msg);
    config_free(cfg);
}

static void test_config_reports_bad_line(void)
{
    struct config *cfg = NULL;
    struct fs_error err;
    CHECK(config_parse(&cfg, "bad.conf", "[a]\nx = 1\nthis line is wrong\n", &err) < 0);
    CHECK_MSG(strstr(err.msg, "bad.conf:3:") != NULL, "got: %s", err.msg);
    CHECK(config_parse(&cfg, "bad.conf", "x = 1\n", &err) < 0);
    CHECK(config_parse(&cfg, "bad.conf", "[unclosed\n", &err) < 0);
    CHECK_MSG(strstr(err.msg, "bad.conf:1:") != NULL, "got: %s", err.msg);
    /* section names were cut at 255 bytes: two long [source ...] names that
     * differ only after that became one section */
    struct strbuf text = STRBUF_INIT;
    sb_append(&text, "[source ");
    for (int i = 0; i < 300; i++)
        sb_append_char(&text, 'a');
    sb_append(&text, "]\nurl = http://example.com/\n");
    CHECK(config_parse(&cfg, "long.conf", text.buf, &err) < 0);
    CHECK_MSG(strstr(err.msg, "long.conf:1: section name longer than 255") != NULL, "got: %s",
              err.msg);
    sb_free(&text);
}

static void test_csv_round_trip(void)
{
    const char *fields[] = {"plain", "with, comma", "with \"quotes\"", "multi\nline", ""};
    struct strbuf sb = STRBUF_INIT;
    csv_append_record(&sb, fields, 5);
    csv_append_record(&sb, fields, 2);
    struct csv_reader r;
    struct csv_record rec = {0};
    struct fs_error err;
    csv_reader_init(&r, sb.buf, sb.len);
    CHECK(csv_read_record(&r, &rec, &err) == 1);
    CHECK_INT_EQ(rec.n_fields, 5);
    for (int i = 0; i < 5; i++)
        CHECK_STR_EQ(rec.fields[i], fields[i]);
    CHECK(csv_read_record(&r, &rec, &err) == 1);
    CHECK_INT_EQ(rec.n_fields, 2);
    CHECK(csv_read_record(&r, &rec, &err) == 0);
    csv_record_free(&rec);
    sb_free(&sb);
}

static void test_csv_rejects_unterminated_quote(void)
{
    const char *text = "text,label\n\"never closed,1\n";
    struct csv_reader r;
    struct csv_record rec = {0};
    struct fs_error err;
    csv_reader_init(&r, text, strlen(text));
    CHECK(csv_read_record(&r, &rec, &err) == 1);
    CHECK(csv_read_record(&r, &rec, &err) < 0);
    CHECK_MSG(strstr(err.msg, "line 2") != NULL, "got: %s", err.msg);
    csv_record_free(&rec);
}

static void test_hash_is_stable_and_distinct(void)
{
    char a[33], b[33], c[33];
    hash128_hex("hello", 5, a);
    hash128_hex("hello", 5, b);
    hash128_hex("hellp", 5, c);
    CHECK_STR_EQ(a, b);
    CHECK(strcmp(a, c) != 0);
    CHECK_INT_EQ(strlen(a), 32);
}

static void test_file_write_atomic_and_strip(void)
{
    char path[] = "/tmp/finsent-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    struct fs_error err;
    CHECK(file_write_atomic(path, "abc", 3, &err) == 0);
    char *data;
    size_t len;
    CHECK(file_read_all(path, 100, &data, &len, &err) == 0);
    CHECK_STR_EQ(data, "abc");
    free(data);
    CHECK(file_read_all(path, 2, &data, &len, &err) < 0);
    unlink(path);
    char hdr[] = "Subject\r\nBcc: x";
    str_strip_controls(hdr);
    CHECK(strchr(hdr, '\r') == NULL && strchr(hdr, '\n') == NULL);
}

static void test_url_prefix(void)
{
    CHECK_INT_EQ(str_url_prefix("https://x.io", 12), 8);
    CHECK_INT_EQ(str_url_prefix("HTTP://x.io", 11), 7);
    CHECK_INT_EQ(str_url_prefix("www.x.io", 8), 4);
    CHECK_INT_EQ(str_url_prefix("t.co/abc", 8), 5);
    CHECK_INT_EQ(str_url_prefix("http://", 7), 7); /* the prefix alone still counts */
    CHECK_INT_EQ(str_url_prefix("https://x.io", 5), 0); /* cut short by n */
    CHECK_INT_EQ(str_url_prefix("httpx://x.io", 12), 0);
    CHECK_INT_EQ(str_url_prefix("ww.x.io", 7), 0);
}

static void test_lock_excludes_other_process_and_dies_with_it(void)
{
    char path[] = "/tmp/finsent-lock-XXXXXX";
    int tmp = mkstemp(path);
    CHECK(tmp >= 0);
    close(tmp);
    struct fs_error err;
    int fd;
    CHECK(lock_acquire(path, 0, &fd, &err) == 0);
    pid_t child = fork();
    if (child == 0) {
        int cfd;
        _exit(lock_acquire(path, 0, &cfd, &err) == 1 ? 0 : 1);
    }
    int status;
    waitpid(child, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second locker must be refused");
    lock_release(fd);
    /* a holder killed with SIGKILL leaves no stale lock */
    child = fork();
    if (child == 0) {
        int cfd;
        lock_acquire(path, 0, &cfd, &err);
        pause();
        _exit(0);
    }
    usleep(100000);
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    CHECK(lock_acquire(path, 2, &fd, &err) == 0);
    lock_release(fd);
    unlink(path);
}

int main(void)
{
    RUN(test_strbuf_grows_and_trims);
    RUN(test_time_iso8601);
    RUN(test_time_rfc822);
    RUN(test_time_rejects_impossible_days);
    RUN(test_duration);
    RUN(test_error_is_one_line);
    RUN(test_log_line_has_no_controls);
    RUN(test_config_parses_sections_and_types);
    RUN(test_config_reports_bad_line);
    RUN(test_csv_round_trip);
    RUN(test_csv_rejects_unterminated_quote);
    RUN(test_hash_is_stable_and_distinct);
    RUN(test_file_write_atomic_and_strip);
    RUN(test_url_prefix);
    RUN(test_lock_excludes_other_process_and_dies_with_it);
    return check_summary();
}
