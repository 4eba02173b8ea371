/* test_alerts.c — rules, message text, email encoding, the alert state machine and
 * the outbox. Email goes to 127.0.0.1:1 (refused at once), so every notification
 * stays in the outbox where the tests count it; nothing reaches a desktop. */
#include "alerts/alerts.h"
#include "alerts/email.h"
#include "alerts/message.h"
#include "alerts/mime.h"
#include "alerts/outbox.h"
#include "alerts/rules.h"
#include "alerts/webhook.h"
#include "common/config.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "crawler/text.h"
#include "db/db.h"
#include "db/db_alerts.h"
#include "db/db_entities.h"
#include "entities/directory.h"
#include "tests/check.h"
#include "trends/trends.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define T0 1772368200  /* 2026-03-01T12:30:00Z */
#define H12 1772366400 /* 2026-03-01T12:00:00Z */

static const char smtp_refused[] = "[smtp]\nurl = smtp://127.0.0.1:1\nfrom = f@example.com\n"
                                   "to = o@example.com\ntls = none\ntimeout = 5s\n";

static struct config *conf(const char *text)
{
    struct config *cfg = NULL;
    struct fs_error err;
    if (config_parse(&cfg, "t.conf", text, &err) < 0) {
        printf("  config: %s\n", err.msg);
        return NULL;
    }
    return cfg;
}

/* Directories made by temp_db(), removed by remove_temp_dirs() at the end. */
static char temp_dirs[32][32];
static int n_temp_dirs;

static void remove_temp_dirs(void)
{
    static const char *const files[] = {"a.db", "a.db-wal", "a.db-shm"};
    for (int i = 0; i < n_temp_dirs; i++) {
        for (size_t k = 0; k < FS_ARRAY_LEN(files); k++) {
            struct strbuf path = STRBUF_INIT;
            sb_appendf(&path, "%s/%s", temp_dirs[i], files[k]);
            unlink(path.buf);
            sb_free(&path);
        }
        rmdir(temp_dirs[i]);
    }
}

static sqlite3 *temp_db(void)
{
    char dir[] = "/tmp/finsent-alerts-XXXXXX";
    if (!mkdtemp(dir))
        return NULL;
    if (n_temp_dirs < (int)FS_ARRAY_LEN(temp_dirs))
        str_copy(temp_dirs[n_temp_dirs++], sizeof temp_dirs[0], dir);
    struct strbuf p = STRBUF_INIT;
    sb_appendf(&p, "%s/a.db", dir);
    sqlite3 *db = NULL;
    struct fs_error err;
    if (db_open(&db, p.buf, &err) < 0)
        printf("  db: %s\n", err.msg);
    sb_free(&p);
    return db;
}

/* A row of buckets (sql: the INSERT with ?1 the series) as trends/ writes it. */
static void insert_bucket(sqlite3 *db, const char *sql, int64_t series, int64_t start, int n,
                          int neg, double z)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_bind_int64(st, 1, series);
    sqlite3_bind_int64(st, 2, start);
    sqlite3_bind_int(st, 3, n);
    sqlite3_bind_int(st, 4, neg);
    sqlite3_bind_double(st, 5, z);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

static void bucket(sqlite3 *db, int topic, int64_t start, int n, int neg, double z)
{
    insert_bucket(db,
                  "INSERT OR REPLACE INTO buckets(granularity, topic, bucket_start, n_docs, "
                  "n_negative, baseline_mean, baseline_std, share_baseline, share_std, "
                  "z_score, spike, history) VALUES ('hour', ?1, ?2, ?3, ?4, 3.0, 1.5, 0.2, "
                  "0.05, ?5, ?5 >= 3 AND ?3 >= 5 AND ?4 >= 0.3 * ?3, 10)",
                  topic, start, n, neg, z);
}

static long long count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Runs the stage; returns alerts_run's result and fills st. */
static int run_at(sqlite3 *db, struct config *cfg, int64_t now, struct alerts_stats *st)
{
    struct fs_error err;
    int rc = alerts_run(db, cfg, NULL, now, 0, st, &err);
    if (rc < 0)
        printf("  alerts_run: %s\n", err.msg);
    alerts_stats_free(st);
    return rc;
}

/* [smtp] (refused) and more sections. */
static struct config *smtp_conf(const char *sections)
{
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s%s", smtp_refused, sections);
    struct config *cfg = conf(sb.buf);
    sb_free(&sb);
    return cfg;
}

/* rule: more keys of [alert r] (a key may appear once: min_docs replaces 10) */
static struct config *rule_conf(const char *rule)
{
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s[alert r]\ntopics = Energy | Oil\n%snotify = email\n%s", smtp_refused,
               strstr(rule, "min_docs") ? "" : "min_docs = 10\n", rule);
    struct config *cfg = conf(sb.buf);
    sb_free(&sb);
    return cfg;
}

/* ---- rules ----------------------------------------------------------------------- */

static void test_rules_parse_topics_and_defaults(void)
{
    struct config *cfg = conf("[trends]\nz_threshold = 3.5\nwarmup = 4\n"
                              "[alert a]\ntopics = energy | oil, 14 , overall\nnotify = "
                              "desktop,email\n[alert b]\ngranularity = day\nrepeat = 2h\n"
                              "resolved = yes\nz_threshold = 2.5\n");
    CHECK(cfg);
    struct alert_rule *r;
    int n;
    struct fs_error err;
    CHECK_MSG(alert_rules_load(cfg, &r, &n, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(r[0].name, "a");
    CHECK_INT_EQ(r[0].n_topics, 3);
    CHECK(r[0].topics[0] == 6 && r[0].topics[1] == 14 && r[0].topics[2] == ALERT_TOPIC_OVERALL);
    CHECK_INT_EQ(r[0].granularity_seconds, 3600);
    CHECK_INT_EQ(r[0].repeat, 6 * 3600);
    CHECK_NEAR(r[0].z_threshold, 3.5, 1e-9); /* [trends] default */
    struct spike_params sp;
    CHECK(trends_config_load(cfg, &sp, &err) == 0);
    CHECK_INT_EQ(r[0].min_docs, sp.min_docs);
    CHECK_NEAR(r[0].min_negative_share, sp.min_negative_share, 1e-12);
    CHECK_INT_EQ(r[0].warmup, 4);
    CHECK_INT_EQ(r[0].notify, ALERT_CH_DESKTOP); /* no [smtp] url: email is off */
    CHECK_NEAR(r[1].z_threshold, 2.5, 1e-9);     /* looser than [trends] is allowed */
    CHECK_INT_EQ(r[1].n_topics, 20);
    CHECK_STR_EQ(r[1].granularity, "day");
    CHECK_INT_EQ(r[1].repeat, 7200);
    CHECK_INT_EQ(r[1].notify_resolved, 1);
    free(r);
    config_free(cfg);
    char buf[32];
    CHECK_STR_EQ(alert_topic_name(13, buf, sizeof buf), "M&A | Investments");
    CHECK_INT_EQ(alert_topic_parse("m&a | investments"), 13);
    CHECK_INT_EQ(alert_topic_parse("20"), -2);
}

static void test_rules_default_rule(void)
{
    struct config *cfg = conf(smtp_refused);
    struct alert_rule *r;
    int n;
    struct fs_error err;
    CHECK_MSG(alert_rules_load(cfg, &r, &n, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(r[0].name, "default");
    CHECK_INT_EQ(r[0].n_topics, 20);
    CHECK_INT_EQ(r[0].notify, ALERT_CH_DESKTOP | ALERT_CH_EMAIL);
    free(r);
    config_free(cfg);
}

static void test_rules_bad_values_name_file_and_line(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"[alert a]\ngranularity = week\n", "t.conf:2: [alert a] granularity"},
        {"[alert a]\n\ntopics = Energy, Sports\n",
         "t.conf:3: [alert a] topics: unknown topic 'Sports'"},
        {"[alert a]\nquiet_hours = 25-03\n", "t.conf:2: [alert a] quiet_hours"},
        {"[alert a]\nnotify = pager\n", "t.conf:2: [alert a] notify"},
        /* unknown keys: the schema's (tests/test_config_check.c) */
        {"[alert a]\nexamples = 9\n", "t.conf:2: [alert a] examples"},
        {"[alert a]\nmin_negative_share = 1.5\n", "t.conf:2: [alert a] min_negative_share"},
        {"[alert a]\nrepeat = soon\n", "t.conf:2: [alert a] repeat"},
        {"[alert a]\nmin_docs = 0\n", "t.conf:2: [alert a] min_docs: 0 is outside [1,"},
        {"[trends]\nwarmup = many\n[alert a]\n", "t.conf:2: [trends] warmup"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(bad); i++) {
        struct config *cfg = conf(bad[i].text);
        CHECK(cfg);
        struct alert_rule *r = NULL;
        int n;
        struct fs_error err = {""};
        CHECK_MSG(alert_rules_load(cfg, &r, &n, &err) < 0, "accepted: %s", bad[i].text);
        CHECK_MSG(strncmp(err.msg, bad[i].want, strlen(bad[i].want)) == 0, "'%s' lacks '%s'",
                  err.msg, bad[i].want);
        config_free(cfg);
    }
}

static void test_smtp_config_checks(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"[smtp]\nurl = http://x\nfrom = a@b\nto = c@d\n", "t.conf:2: [smtp] url"},
        {"[smtp]\nurl = smtp://u:p@x\nfrom = a@b\nto = c@d\n", "t.conf:2: [smtp] url: credentials"},
        {"[smtp]\nurl = smtp://x\nfrom = nobody\nto = c@d\n", "t.conf:3: [smtp] from"},
        {"[smtp]\nurl = smtp://x\nfrom = a@b\nto = c@d, bad\n", "t.conf:4: [smtp] to"},
        {"[smtp]\nurl = smtp://x\nfrom = a@b\nto = c@d\ntls = maybe\n", "t.conf:5: [smtp] tls"},
        {"[smtp]\nurl = smtp://x\nfrom = a@b\nto = c@d\npassword = x\n",
         "t.conf:5: [smtp] password"},
        {"[smtp]\nurl = smtps://x\nfrom = a@b\nto = c@d\ntls = none\n", "t.conf:5: [smtp] tls"},
        {"[smtp]\nurl = smtp://x\nfrom = a@b\nto = c@d\nusername = u\n"
         "password_env = FINSENT_TEST_SURELY_UNSET\n",
         "t.conf:6: [smtp] password_env: environment variable FINSENT_TEST_SURELY_UNSET"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(bad); i++) {
        struct config *cfg = conf(bad[i].text);
        struct smtp_config sc;
        struct fs_error err = {""};
        CHECK_MSG(smtp_config_load(cfg, &sc, &err) < 0, "accepted: %s", bad[i].text);
        CHECK_MSG(strncmp(err.msg, bad[i].want, strlen(bad[i].want)) == 0, "'%s' lacks '%s'",
                  err.msg, bad[i].want);
        config_free(cfg);
    }
}

static void test_quiet_hours_local_time(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    struct alert_rule r = {.quiet_start = 22, .quiet_end = 7};
    int64_t until = 0;
    CHECK(alert_rule_quiet(&r, T0 + 11 * 3600, &until) == 1);  /* 23:30 */
    CHECK_INT_EQ(until, H12 + 19 * 3600);                      /* next day 07:00 */
    CHECK(alert_rule_quiet(&r, H12 + 15 * 3600, &until) == 1); /* 03:00 next day */
    CHECK_INT_EQ(until, H12 + 19 * 3600);
    CHECK(alert_rule_quiet(&r, T0, &until) == 0); /* 12:30 */
    struct alert_rule day = {.quiet_start = 1, .quiet_end = 5};
    CHECK(alert_rule_quiet(&day, H12 - 11 * 3600, &until) == 1); /* 01:00 */
    CHECK(alert_rule_quiet(&day, H12 - 7 * 3600, &until) == 0);  /* 05:00 */
    struct alert_rule none = {.quiet_start = -1, .quiet_end = -1};
    CHECK(alert_rule_quiet(&none, T0, &until) == 0);
}

/* ---- message text ------------------------------------------------------------------ */

static void test_clean_text_utf8_controls_escaping(void)
{
    struct strbuf sb = STRBUF_INIT;
    text_append_clean(&sb, "a\r\nBcc: x\t\x01 \xff\xc3(", 1, 0);
    CHECK_STR_EQ(sb.buf, "a Bcc: x \xEF\xBF\xBD\xEF\xBF\xBD(");
    sb_reset(&sb);
    text_append_clean(&sb, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 1, 8); /* 5 x é */
    CHECK_STR_EQ(sb.buf, "\xC3\xA9\xC3\xA9\xE2\x80\xA6");                     /* éé… */
    sb_reset(&sb);
    text_append_html(&sb, "<a href=\"x\">'&'</a>", 1, 0);
    CHECK_STR_EQ(sb.buf, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    sb_reset(&sb);
    text_append_attended(&sb, "[\"crash\", {\"word\": \"plunge\", \"weight\": 0.3}, 7]");
    CHECK_STR_EQ(sb.buf, "crash, plunge");
    sb_reset(&sb);
    text_append_attended(&sb, "not json");
    CHECK_STR_EQ(sb.buf, "");
    sb_free(&sb);
}

static void test_compose_grouped_message(void)
{
    struct alert_rule rule = {.name = "r", .z_threshold = 3, .critical_z = 5};
    struct alert_item items[2];
    memset(items, 0, sizeof items);
    for (int i = 0; i < 2; i++) {
        items[i].rule = &rule;
        items[i].alert.topic = i ? 14 : 6;
        items[i].alert.bucket_start = H12;
        items[i].alert.bucket_end = H12 + 3600;
        items[i].alert.n_docs = 20;
        items[i].alert.n_negative = 15;
        items[i].alert.z_score = i ? 4.0 : 6.0;
        items[i].alert.baseline_share = 0.2;
        items[i].alert.baseline_share_std = NAN;
        items[i].alert.baseline_count = 3.14;
        items[i].alert.baseline_count_std = NAN;
        str_copy(items[i].alert.granularity, 8, "hour");
        str_copy(items[i].alert.severity, 12, i ? "warning" : "critical");
    }
    char title[] = "<script>x</script>\r\nInjected: yes";
    items[0].examples[0] =
        (struct alert_example){.document_id = 1, .title = title, .text = (char *)"t",
                               .url = (char *)"javascript:x", .score = -0.9};
    items[0].n_examples = 1;
    struct alert_message m;
    alert_message_compose(items, 2, &m);
    CHECK_STR_EQ(m.subject, "[finsent] CRITICAL: negative sentiment in 2 topics: Energy | Oil, "
                            "Macro");
    CHECK_STR_EQ(m.urgency, "critical");
    CHECK(strstr(m.text, "15 of 20 texts negative (75.0%)\n"));
    CHECK(strstr(m.text, "Usually:   20.0% negative, 3.1 negative texts per hour\n"));
    CHECK(strstr(m.text, "<script>x</script> Injected: yes"));
    CHECK(!strstr(m.html, "<script>") && strstr(m.html, "&lt;script&gt;"));
    CHECK(!strstr(m.html, "href=\"javascript")); /* only http(s) links become links */
    CHECK(strstr(m.desktop_body, "Macro: 75% negative (15/20), z 4.0"));
    alert_message_free(&m);
    items[0].event = ALERT_EV_RESOLVED;
    alert_message_compose(items, 1, &m);
    CHECK_STR_EQ(m.subject, "[finsent] resolved: Energy | Oil back to normal");
    CHECK_STR_EQ(m.urgency, "low");
    alert_message_free(&m);
}

/* ---- email encoding ------------------------------------------------------------------ */

static int b64_value(char c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(a, c);
    return p && c ? (int)(p - a) : -1;
}

static void b64_decode_append(struct strbuf *out, const char *s, size_t n)
{
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        acc = (acc << 6) | (unsigned)b64_value(s[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sb_append_char(out, (char)((acc >> bits) & 0xFF));
        }
    }
}

static void test_subject_rfc2047_folded(void)
{
    const char *subject = "Ölpreis \xF0\x9F\x93\x89 stürzt\r\nBcc: evil@x — 価格が急落した、"
                          "市場は混乱している。これは長い件名のテストです。";
    struct strbuf out = STRBUF_INIT, decoded = STRBUF_INIT, clean = STRBUF_INIT;
    mime_encode_subject(&out, subject);
    text_append_clean(&clean, subject, 1, 400);
    CHECK(strncmp(out.buf, "Subject: =?UTF-8?B?", 19) == 0);
    CHECK(out.len > 2 && strcmp(out.buf + out.len - 2, "\r\n") == 0);
    const char *p = out.buf;
    int lines = 0;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        CHECK(eol);
        CHECK_MSG(eol - p <= 78, "line of %d chars", (int)(eol - p));
        CHECK(!memchr(p, '\n', (size_t)(eol - p)) && !memchr(p, '\r', (size_t)(eol - p)));
        if (lines++)
            CHECK(strncmp(p, " =?UTF-8?B?", 11) == 0);
        const char *w = strstr(p, "=?UTF-8?B?") + 10, *end = strstr(w, "?=");
        CHECK(end && end < eol);
        size_t before = decoded.len;
        b64_decode_append(&decoded, w, (size_t)(end - w));
        CHECK(((unsigned char)decoded.buf[before] & 0xC0) != 0x80); /* no split character */
        p = eol + 2;
    }
    CHECK(lines > 2);
    CHECK_STR_EQ(decoded.buf, clean.buf);
    sb_free(&out);
    sb_free(&decoded);
    sb_free(&clean);
}

/* Every encoded-word of a subject full of 4-byte characters (emoji) decodes to
 * whole UTF-8 characters, whatever ASCII shifts them (k = 0..3 bytes). */
static void test_subject_never_splits_4_byte_characters(void)
{
    for (int k = 0; k < 4; k++) {
        struct strbuf subject = STRBUF_INIT, out = STRBUF_INIT, all = STRBUF_INIT;
        sb_appendf(&subject, "%.*s", k, "abc");
        for (int i = 0; i < 30; i++)
            sb_append(&subject, i % 3 ? "\xF0\x9F\x93\x89" : "\xF0\x9F\x9A\x80x");
        mime_encode_subject(&out, subject.buf);
        int words = 0;
        for (const char *w = strstr(out.buf, "=?UTF-8?B?"); w; w = strstr(w, "=?UTF-8?B?")) {
            w += 10;
            const char *end = strstr(w, "?=");
            CHECK(end);
            struct strbuf one = STRBUF_INIT;
            b64_decode_append(&one, w, (size_t)(end - w));
            CHECK_MSG(text_utf8_valid(one.buf, one.len), "k %d: word %d splits a character", k,
                      words);
            sb_append_n(&all, one.buf, one.len);
            sb_free(&one);
            words++;
        }
        CHECK(words > 3);
        CHECK_STR_EQ(all.buf, subject.buf);
        sb_free(&subject);
        sb_free(&out);
        sb_free(&all);
    }
}

static void test_email_date_and_crlf(void)
{
    char date[64];
    mime_format_date(1772366405, date, sizeof date);
    CHECK_STR_EQ(date, "Sun, 01 Mar 2026 12:00:05 +0000");
    /* a time gmtime_r cannot convert (e.g. a damaged outbox row) left struct tm
     * uninitialised and indexed the day and month names with it */
    memset(date, 0, sizeof date);
    mime_format_date(INT64_MAX, date, sizeof date);
    CHECK_STR_EQ(date, "Thu, 01 Jan 1970 00:00:00 +0000");
    mime_format_date(INT64_MIN, date, sizeof date);
    CHECK_STR_EQ(date, "Thu, 01 Jan 1970 00:00:00 +0000");
    mime_format_date(-100000000000LL, date, sizeof date); /* year -1199 */
    CHECK_STR_EQ(date, "Thu, 01 Jan 1970 00:00:00 +0000");
    struct config *cfg = conf(smtp_refused);
    struct smtp_config sc;
    struct fs_error err;
    CHECK_MSG(smtp_config_load(cfg, &sc, &err) == 0, "%s", err.msg);
    char mid[200];
    email_make_message_id(&sc, "seed", T0, mid, sizeof mid);
    CHECK(mid[0] == '<' && strstr(mid, "@example.com>"));
    struct email_msg m = {"s", "line one\nline two\n", "<p>x</p>\n", mid, T0};
    struct strbuf out = STRBUF_INIT;
    email_build_headers(&sc, &m, &out);
    for (size_t i = 0; i < out.len; i++)
        if (out.buf[i] == '\n')
            CHECK_MSG(i > 0 && out.buf[i - 1] == '\r', "bare LF at %zu", i);
    CHECK(strstr(out.buf, "Date: Sun, 01 Mar 2026 12:30:00 +0000\r\n"));
    sb_free(&out);
    smtp_config_free(&sc);
    config_free(cfg);
}

/* ---- state machine ------------------------------------------------------------------ */

static void test_fire_repeat_and_ack(void)
{
    sqlite3 *db = temp_db();
    struct config *cfg = rule_conf("repeat = 1h\n");
    CHECK(db && cfg);
    struct alerts_stats st;
    bucket(db, 6, H12, 20, 15, 6.0);
    CHECK_INT_EQ(run_at(db, cfg, T0, &st), 1); /* delivery refused: partial */
    CHECK_INT_EQ(st.fired, 1);
    CHECK_INT_EQ(st.failed, 1);
    CHECK(strstr(st.warning, "127.0.0.1:1"));
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox WHERE channel = 'email'"), 1);
    run_at(db, cfg, T0 + 1800, &st);
    CHECK_INT_EQ(st.fired + st.repeated, 0);
    run_at(db, cfg, T0 + 3600, &st);
    CHECK_INT_EQ(st.repeated, 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox"), 2);
    struct fs_error err;
    CHECK_INT_EQ(alerts_ack(db, 1, T0 + 3700, &err), 1);
    CHECK_INT_EQ(alerts_ack(db, 99, T0, &err), 0);
    bucket(db, 6, H12 + 3600, 20, 15, 6.0);
    run_at(db, cfg, T0 + 7300, &st);
    CHECK_INT_EQ(st.repeated, 0);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts WHERE state = 'firing'"), 1);
    config_free(cfg);
    db_close(db);
}

static void test_silence_then_notify_when_it_ends(void)
{
    sqlite3 *db = temp_db();
    struct config *cfg = rule_conf("");
    struct fs_error err;
    struct alerts_stats st;
    bucket(db, 6, H12, 20, 15, 6.0);
    int64_t id = 0;
    CHECK(alerts_silence(db, 6, 0, T0, 3600, "maintenance", &id, &err) == 0);
    CHECK_INT_EQ(id, 1);
    run_at(db, cfg, T0, &st);
    CHECK_INT_EQ(st.suppressed, 1);
    CHECK_INT_EQ(st.fired, 1);
    CHECK_INT_EQ(st.queued, 0);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts WHERE state = 'firing'"), 1);
    run_at(db, cfg, T0 + 3600, &st); /* silence over: first notification */
    CHECK_INT_EQ(st.fired + st.repeated, 0);
    CHECK_INT_EQ(st.queued, 1);
    CHECK(count(db, "SELECT count(*) FROM outbox WHERE subject LIKE '%CRITICAL: Energy%'") == 1);
    CHECK(alerts_silence(db, SILENCE_EVERY_TOPIC, 0, T0, 60, NULL, &id, &err) == 0);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM silences"), 2); /* one object for all */
    CHECK_INT_EQ(db_silence_active(db, 14, 0, T0 + 30, &id, &err), 1);
    CHECK_INT_EQ(id, 2);
    CHECK_INT_EQ(alerts_unsilence(db, 2, T0 + 40, &err), 1);
    CHECK_INT_EQ(alerts_unsilence(db, 2, T0 + 41, &err), 0); /* lifted already */
    CHECK_INT_EQ(db_silence_active(db, 14, 0, T0 + 50, NULL, &err), 0);
    config_free(cfg);
    db_close(db);
}

static void test_pending_for_and_thresholds(void)
{
    sqlite3 *db = temp_db();
    struct config *cfg = rule_conf("for = 1h\nmin_negative_share = 0.5\n");
    struct alerts_stats st;
    bucket(db, 6, H12, 20, 15, 6.0);
    bucket(db, 14, H12, 20, 15, 6.0); /* Macro: not in the rule */
    run_at(db, cfg, T0, &st);
    CHECK_INT_EQ(st.pending, 1);
    CHECK_INT_EQ(st.queued, 0);
    run_at(db, cfg, T0 + 3599, &st);
    CHECK_INT_EQ(st.pending, 1);
    run_at(db, cfg, T0 + 3600, &st);
    CHECK_INT_EQ(st.fired, 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts"), 1);
    config_free(cfg);
    db_close(db);
    /* too few documents, too small a negative share, z below threshold */
    db = temp_db();
    cfg = rule_conf("min_negative_share = 0.5\n");
    bucket(db, 6, H12, 9, 9, 9.0);
    run_at(db, cfg, T0, &st);
    bucket(db, 6, H12, 20, 9, 9.0);
    run_at(db, cfg, T0, &st);
    bucket(db, 6, H12, 20, 15, 2.9);
    run_at(db, cfg, T0, &st);
    /* high z, but the series is still warming up ([trends] warmup = 6) */
    bucket(db, 6, H12, 20, 15, 9.0);
    sqlite3_exec(db, "UPDATE buckets SET history = 5", NULL, NULL, NULL);
    run_at(db, cfg, T0, &st);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts"), 0);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM buckets WHERE evaluated = 1"), 1);
    config_free(cfg);
    db_close(db);
}

static void test_escalation_resolution_and_orphans(void)
{
    sqlite3 *db = temp_db();
    struct config *cfg = rule_conf("resolved = yes\n");
    struct alerts_stats st;
    bucket(db, 6, H12, 20, 15, 4.0);
    run_at(db, cfg, T0, &st);
    CHECK_INT_EQ(st.fired, 1);
    bucket(db, 6, H12, 20, 18, 7.0);
    run_at(db, cfg, T0 + 600, &st);
    CHECK_INT_EQ(st.repeated, 1); /* warning -> critical notifies at once */
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts WHERE severity = 'critical'"), 1);
    bucket(db, 6, H12, 20, 18, 4.0); /* back to warning level, then critical again */
    run_at(db, cfg, T0 + 1200, &st);
    bucket(db, 6, H12, 20, 18, 7.0);
    run_at(db, cfg, T0 + 1800, &st);
    CHECK_INT_EQ(st.repeated, 0);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox"), 2);
    bucket(db, 6, H12 + 3600, 20, 2, 0.0);
    run_at(db, cfg, H12 + 2 * 3600 + 60, &st); /* 12:00 bucket left the window */
    CHECK_INT_EQ(st.resolved, 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts WHERE state = 'resolved'"), 1);
    config_free(cfg);
    /* a rule removed from the config: its open alert is resolved without a message */
    bucket(db, 6, H12 + 4 * 3600, 20, 15, 6.0);
    cfg = rule_conf("");
    run_at(db, cfg, H12 + 4 * 3600 + 60, &st);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts WHERE state = 'firing'"), 1);
    config_free(cfg);
    struct strbuf other = STRBUF_INIT;
    sb_appendf(&other, "%s[alert other]\ntopics = Macro\nnotify = email\n", smtp_refused);
    cfg = conf(other.buf);
    sb_free(&other);
    run_at(db, cfg, H12 + 4 * 3600 + 120, &st);
    CHECK_INT_EQ(st.resolved, 1);
    CHECK_INT_EQ(st.queued, 0); /* silently */
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts WHERE state != 'resolved'"), 0);
    config_free(cfg);
    /* the same rule name with another granularity starts a new episode */
    cfg = rule_conf("");
    run_at(db, cfg, H12 + 4 * 3600 + 180, &st);
    CHECK_INT_EQ(st.fired, 1);
    config_free(cfg);
    cfg = rule_conf("granularity = day\n");
    sqlite3_exec(db,
                 "INSERT INTO buckets(granularity, topic, bucket_start, n_docs, n_negative, "
                 "z_score, spike, history) VALUES ('day', 6, 1772323200, 50, 40, 6, 1, 10)",
                 NULL, NULL, NULL);
    run_at(db, cfg, H12 + 4 * 3600 + 240, &st);
    CHECK_INT_EQ(st.resolved, 1);
    CHECK_INT_EQ(st.fired, 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts WHERE state = 'firing' AND "
                           "granularity = 'day'"),
                 1);
    config_free(cfg);
    db_close(db);
}

static void test_dry_run_changes_nothing(void)
{
    sqlite3 *db = temp_db();
    struct config *cfg = rule_conf("");
    bucket(db, 6, H12, 20, 15, 6.0);
    struct alerts_stats st;
    struct fs_error err;
    CHECK_INT_EQ(alerts_run(db, cfg, NULL, T0, 1, &st, &err), 0);
    CHECK(st.preview && strstr(st.preview, "would send email"));
    alerts_stats_free(&st);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts"), 0);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox"), 0);
    config_free(cfg);
    db_close(db);
}

static void test_outbox_backoff_and_desktop_expiry(void)
{
    CHECK_INT_EQ(outbox_backoff(1), 60);
    CHECK_INT_EQ(outbox_backoff(2), 120);
    CHECK_INT_EQ(outbox_backoff(6), 1920);
    CHECK_INT_EQ(outbox_backoff(7), 3600);
    CHECK_INT_EQ(outbox_backoff(1000), 3600);
    sqlite3 *db = temp_db();
    struct fs_error err;
    struct outbox_row r = {0};
    str_copy(r.channel, sizeof r.channel, "desktop");
    str_copy(r.urgency, sizeof r.urgency, "normal");
    r.alert_ids = (char *)"[]";
    r.subject = r.body_text = (char *)"x";
    r.message_id = (char *)"<x@y>";
    r.created_at = T0;
    CHECK(db_outbox_insert(db, &r, &err) == 0);
    struct outbox_result res;
    CHECK(outbox_deliver_due(db, NULL, T0 + OUTBOX_DESKTOP_MAX_AGE + 1, &res, &err) == 0);
    CHECK_INT_EQ(res.expired, 1);
    CHECK_INT_EQ(res.failed + res.sent, 0);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox WHERE state = 'expired'"), 1);
    /* an email with no [smtp] stays queued with a reason and a later attempt time */
    str_copy(r.channel, sizeof r.channel, "email");
    CHECK(db_outbox_insert(db, &r, &err) == 0);
    CHECK(outbox_deliver_due(db, NULL, T0, &res, &err) == 0);
    CHECK_INT_EQ(res.failed, 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox WHERE state = 'queued' AND attempts = 1 "
                           "AND next_attempt_at = 1772368260"),
                 1);
    /* a row claimed by another process is not due for this one */
    CHECK(db_outbox_insert(db, &r, &err) == 0);
    CHECK_INT_EQ(db_outbox_claim(db, r.id, T0, T0 + OUTBOX_LEASE, &err), 1);
    CHECK_INT_EQ(db_outbox_claim(db, r.id, T0, T0 + OUTBOX_LEASE, &err), 0);
    CHECK(outbox_deliver_due(db, NULL, T0 + 30, &res, &err) == 0);
    CHECK_INT_EQ(res.failed + res.sent + res.expired, 0);
    db_close(db);
}

static void test_broken_smtp_still_records_and_queues(void)
{
    sqlite3 *db = temp_db();
    struct config *cfg = conf("[smtp]\nurl = smtp://127.0.0.1:1\nfrom = f@example.com\n"
                              "to = o@example.com\ntls = none\nusername = u\n"
                              "password_env = FINSENT_TEST_SURELY_UNSET\n"
                              "[alert r]\ntopics = Energy | Oil\nnotify = email\n");
    bucket(db, 6, H12, 20, 15, 6.0);
    struct alerts_stats st;
    struct fs_error err;
    CHECK_INT_EQ(alerts_run(db, cfg, NULL, T0, 0, &st, &err), 1);
    CHECK_MSG(strstr(st.warning, "t.conf:7: [smtp] password_env"), "%s", st.warning);
    alerts_stats_free(&st);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts WHERE state = 'firing'"), 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox WHERE state = 'queued'"), 1);
    CHECK(alerts_config_check(cfg, &err) < 0); /* the command layer refuses it up front */
    config_free(cfg);
    db_close(db);
}

/* Documents of one hour of topic 6: n texts, neg of them negative. */
static void hour_of_docs(sqlite3 *db, int64_t hour_start, int n, int neg, int *next_id)
{
    for (int i = 0; i < n; i++) {
        int id = (*next_id)++, negative = i < neg;
        char sql[512];
        snprintf(sql, sizeof sql,
                 "INSERT INTO documents(id, url, dedupe_hash, title, text, kind, published_at, "
                 "fetched_at) VALUES (%d, 'https://example.com/%d', 'h%d', 'headline %d', 't', "
                 "'article', %lld, %lld);"
                 "INSERT INTO classifications VALUES (%d, 'm', 6, '[]', %d, '[]', %s, "
                 "'[\"w%d\"]', 0);",
                 id, id, id, id, (long long)(hour_start + 60 * i), (long long)(hour_start + 60 * i),
                 id, negative ? 0 : 2, negative ? "-0.8" : "0.6", id);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
}

/* The real trends stage fills the buckets; the alert fires once on the spike hour. */
static void test_with_real_trends_stage(void)
{
    sqlite3 *db = temp_db();
    struct config *cfg = rule_conf("min_docs = 5\n");
    struct fs_error err;
    struct alerts_stats st;
    int next_id = 1, emails = 0;
    const int64_t start = H12 - 12 * 3600, spike_hour = 10;
    for (int h = 0; h <= spike_hour + 3; h++) {
        int64_t hs = start + h * 3600;
        if (h < spike_hour)
            hour_of_docs(db, hs, 8, 1 + h % 2, &next_id);
        else if (h == spike_hour)
            hour_of_docs(db, hs, 14, 13, &next_id);
        int64_t now = hs + 50 * 60;
        CHECK_MSG(trends_update(db, cfg, now, NULL, &err) == 0, "%s", err.msg);
        CHECK(alerts_run(db, cfg, NULL, now, 0, &st, &err) >= 0);
        alerts_stats_free(&st);
        int64_t total = count(db, "SELECT count(*) FROM outbox");
        CHECK_MSG(total == (h >= spike_hour), "hour %d: %lld notifications", h, (long long)total);
        emails = (int)total;
    }
    CHECK_INT_EQ(emails, 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts WHERE state = 'resolved' AND topic = 6"),
                 1);
    CHECK(
        count(db, "SELECT count(*) FROM outbox WHERE body_text LIKE '%13 of 14 texts negative%'") ==
        1);
    config_free(cfg);
    db_close(db);
}

/* ---- entities -------------------------------------------------------------------- */

/* A directory of three companies (the SEC list's format) for the entity rules. */
static const char sec_json[] =
    "{\"fields\":[\"cik\",\"name\",\"ticker\",\"exchange\"],\"data\":["
    "[1318605,\"Tesla, Inc.\",\"TSLA\",\"Nasdaq\"],[1045810,\"NVIDIA CORP\",\"NVDA\",\"Nasdaq\"],"
    "[320193,\"Apple Inc.\",\"AAPL\",\"Nasdaq\"]]}";

static int collect_item(void *ctx, const char *item)
{
    sb_appendf(ctx, "%s|", item);
    return 0;
}

static void test_rules_parse_entities_and_watchlists(void)
{
    struct config *cfg = conf("[watchlist fleet]\nentities = Tesla, $AAPL\n"
                              "[alert e]\nentities = Tesla , $NVDA\nwatchlist = fleet\n"
                              "[alert t]\ntopics = Macro\nentities = China Evergrande\n"
                              "[entity Evergrande]\naliases = China Evergrande\n");
    CHECK(cfg);
    struct alert_rule *r;
    int n;
    struct fs_error err;
    CHECK_MSG(alert_rules_load(cfg, &r, &n, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(r[0].n_topics, 0); /* entities only: no topic unless named */
    CHECK_INT_EQ(r[1].n_topics, 1);
    struct strbuf items = STRBUF_INIT;
    alert_rule_entities_each(&r[0], collect_item, &items);
    CHECK_STR_EQ(items.buf, "Tesla|$NVDA|Tesla|$AAPL|");
    CHECK_INT_EQ(alert_rules_watch_entities(r, n), 1);
    struct entity_dir *d;
    CHECK_MSG(entity_dir_build(sec_json, "", cfg, &d, &err) == 0, "%s", err.msg);
    CHECK_MSG(alert_rules_check_entities(cfg, d, &err) == 0, "%s", err.msg);
    sb_free(&items);
    free(r);
    config_free(cfg);
    /* the built-in rule watches topics only */
    cfg = conf("");
    CHECK(alert_rules_load(cfg, &r, &n, &err) == 0);
    CHECK_INT_EQ(alert_rules_watch_entities(r, n), 0);
    free(r);
    config_free(cfg);
    /* unknown names, watchlists and empty lists name file and line */
    cfg = conf("[alert e]\nentities = Tesla, Frobnicator Widgets\n");
    CHECK(alert_rules_load(cfg, &r, &n, &err) == 0);
    free(r);
    CHECK(alert_rules_check_entities(cfg, d, &err) < 0);
    CHECK_MSG(strstr(err.msg, "t.conf:2:") && strstr(err.msg, "Frobnicator"), "%s", err.msg);
    config_free(cfg);
    cfg = conf("[alert e]\nwatchlist = nope\n");
    CHECK(alert_rules_load(cfg, &r, &n, &err) < 0);
    CHECK_MSG(strstr(err.msg, "t.conf:2:") && strstr(err.msg, "nope"), "%s", err.msg);
    config_free(cfg);
    cfg = conf("[alert e]\ntopics = Macro\nentities = ,\n");
    CHECK(alert_rules_load(cfg, &r, &n, &err) < 0);
    CHECK_MSG(strstr(err.msg, "t.conf:3:") && strstr(err.msg, "no entity"), "%s", err.msg);
    config_free(cfg);
    entity_dir_free(d);
}

static int64_t entity_row(sqlite3 *db, const char *key, const char *name)
{
    int64_t id = 0;
    struct fs_error err;
    if (db_entity_id(db, key, name, NULL, &id, &err) < 0)
        printf("  entity: %s\n", err.msg);
    return id;
}

static void entity_bucket(sqlite3 *db, int64_t entity, int64_t start, int n, int neg, double z)
{
    insert_bucket(db,
                  "INSERT OR REPLACE INTO entity_buckets(granularity, entity_id, bucket_start, "
                  "n_docs, n_negative, baseline_mean, baseline_std, share_baseline, share_std, "
                  "z_score, spike, history) VALUES ('hour', ?1, ?2, ?3, ?4, 0.5, 0.5, 0.1, "
                  "0.05, ?5, ?5 >= 3, 10)",
                  entity, start, n, neg, z);
}

/* A document of topic 6 that the classifier found mildly positive, and
 * entity's own sentiment in it (score, attended words). */
static void entity_text(sqlite3 *db, int id, int64_t entity, int64_t t, const char *score,
                        const char *word)
{
    char sql[768];
    snprintf(sql, sizeof sql,
             "INSERT INTO documents(id, url, dedupe_hash, title, text, kind, published_at, "
             "fetched_at) VALUES (%d, 'https://example.com/%d', 'e%d', 'company story %d', 't', "
             "'article', %lld, %lld);"
             "INSERT INTO classifications VALUES (%d, 'm', 6, '[]', 2, '[]', 0.3, '[\"doc\"]', 0);"
             "INSERT INTO entity_sentiments(document_id, entity_id, sentiment, sentiment_probs, "
             "score, attended, basis) VALUES (%d, %lld, 0, '[]', %s, '[\"%s\"]', 'sentences');",
             id, id, id, id, (long long)t, (long long)t, id, id, (long long)entity, score, word);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Tesla and NVIDIA both spike; the rule watches Tesla: one alert, about Tesla,
 * quoting Tesla's own sentiment in the texts that mention it. */
static void test_entity_alert_fires_for_its_entity_only(void)
{
    sqlite3 *db = temp_db();
    struct config *cfg = smtp_conf("[alert co]\nentities = Tesla\nmin_docs = 5\nnotify = email\n");
    struct entity_dir *d = NULL;
    struct fs_error err;
    CHECK(db && cfg && entity_dir_build(sec_json, "", cfg, &d, &err) == 0);
    int64_t tesla = entity_row(db, "sec:1318605", "Tesla");
    int64_t nvda = entity_row(db, "sec:1045810", "NVIDIA");
    entity_bucket(db, tesla, H12, 8, 7, 6.0);
    entity_bucket(db, nvda, H12, 8, 7, 6.0);
    bucket(db, 6, H12, 20, 15, 6.0); /* the topic spikes too, but the rule names no topic */
    entity_text(db, 1, tesla, H12 + 60, "-0.91", "recall");
    entity_text(db, 2, tesla, H12 + 120, "-0.40", "probe");
    entity_text(db, 3, nvda, H12 + 180, "-0.99", "chips");
    struct alerts_stats st;
    CHECK(alerts_run(db, cfg, d, T0, 0, &st, &err) >= 0);
    alerts_stats_free(&st);
    CHECK_INT_EQ(st.fired, 1);
    CHECK_INT_EQ(st.evaluated, 1);
    struct strbuf q = STRBUF_INIT;
    sb_appendf(&q, "SELECT count(*) FROM alerts WHERE entity_id = %lld AND topic = %d",
               (long long)tesla, ALERT_TOPIC_ENTITY);
    CHECK_INT_EQ(count(db, q.buf), 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM alerts"), 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox WHERE subject LIKE "
                           "'%Tesla turning negative%story 1%'"),
                 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox WHERE body_text LIKE '%[-0.91]%recall%"
                           "[-0.40]%' AND body_text NOT LIKE '%chips%' AND body_text LIKE "
                           "'%alerts silence Tesla --for 6h%'"),
                 1);
    struct alert_row a;
    CHECK_INT_EQ(db_alert_open_get(db, "co", ALERT_TOPIC_ENTITY, tesla, &a, &err), 1);
    CHECK_STR_EQ(a.entity, "Tesla");
    /* a webhook labels it by its entity, not by a topic */
    struct alert_rule rule = {.name = "co", .z_threshold = 4, .critical_z = 5};
    struct alert_item it = {.rule = &rule, .alert = a, .event = ALERT_EV_FIRING};
    struct webhook_config w = {.name = "w", .format = WEBHOOK_ALERTMANAGER};
    char *body = webhook_payload(&w, &it, 1, "s", "t");
    CHECK_MSG(body && strstr(body, "\"entity\":\"Tesla\"") && !strstr(body, "\"topic\""), "%s",
              body ? body : "(null)");
    free(body);
    CHECK_INT_EQ(db_alert_open_get(db, "co", ALERT_TOPIC_ENTITY, nvda, &a, &err), 0);
    sb_free(&q);
    entity_dir_free(d);
    config_free(cfg);
    db_close(db);
}

/* A silence of an entity mutes its alerts, not a topic's nor another entity's. */
static void test_entity_silence(void)
{
    sqlite3 *db = temp_db();
    struct config *cfg = smtp_conf("[alert co]\ntopics = Energy | Oil\nentities = Tesla, $NVDA\n"
                                   "min_docs = 5\nnotify = email\n");
    struct entity_dir *d = NULL;
    struct fs_error err;
    CHECK(db && cfg && entity_dir_build(sec_json, "", cfg, &d, &err) == 0);
    int64_t tesla = entity_row(db, "sec:1318605", "Tesla");
    int64_t nvda = entity_row(db, "sec:1045810", "NVIDIA");
    int64_t id = 0;
    CHECK(alerts_silence(db, 6, tesla, T0, 3600, "recall news", &id, &err) == 0);
    CHECK_INT_EQ(db_silence_active(db, ALERT_TOPIC_ENTITY, tesla, T0 + 30, NULL, &err), 1);
    CHECK_INT_EQ(db_silence_active(db, ALERT_TOPIC_ENTITY, nvda, T0 + 30, NULL, &err), 0);
    CHECK_INT_EQ(db_silence_active(db, 6, 0, T0 + 30, NULL, &err), 0);
    entity_bucket(db, tesla, H12, 8, 7, 6.0);
    struct alerts_stats st;
    CHECK(alerts_run(db, cfg, d, T0, 0, &st, &err) >= 0);
    alerts_stats_free(&st);
    CHECK_INT_EQ(st.fired, 1);
    CHECK_INT_EQ(st.suppressed, 1);
    CHECK_INT_EQ(st.queued, 0);
    entity_bucket(db, nvda, H12, 8, 7, 6.0); /* another entity is not muted */
    CHECK(alerts_run(db, cfg, d, T0 + 60, 0, &st, &err) >= 0);
    alerts_stats_free(&st);
    CHECK_INT_EQ(st.fired, 1);
    CHECK_INT_EQ(st.queued, 1);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox WHERE subject LIKE '%NVIDIA%'"), 1);
    CHECK(alerts_run(db, cfg, d, T0 + 3600, 0, &st, &err) >= 0); /* over: notified now */
    alerts_stats_free(&st);
    CHECK_INT_EQ(count(db, "SELECT count(*) FROM outbox WHERE subject LIKE '%Tesla%'"), 1);
    struct silence_row *rows;
    int n;
    CHECK(db_silences_list(db, T0, 1, &rows, &n, &err) == 0);
    CHECK(n == 1 && rows[0].entity_id == tesla && rows[0].topic == ALERT_TOPIC_ENTITY &&
          !strcmp(rows[0].entity, "Tesla"));
    free(rows);
    /* a rule that stops watching an entity resolves its open alert */
    config_free(cfg);
    cfg = conf("[alert co]\nentities = $NVDA\nmin_docs = 5\nnotify = none\n");
    CHECK(alerts_run(db, cfg, d, T0 + 3700, 0, &st, &err) >= 0);
    alerts_stats_free(&st);
    struct alert_row a;
    CHECK_INT_EQ(db_alert_open_get(db, "co", ALERT_TOPIC_ENTITY, tesla, &a, &err), 0);
    CHECK_INT_EQ(db_alert_open_get(db, "co", ALERT_TOPIC_ENTITY, nvda, &a, &err), 1);
    entity_dir_free(d);
    config_free(cfg);
    db_close(db);
}

int main(void)
{
    /* nothing in these tests may reach a real desktop */
    unsetenv("DBUS_SESSION_BUS_ADDRESS");
    unsetenv("XDG_RUNTIME_DIR");
    RUN(test_rules_parse_topics_and_defaults);
    RUN(test_rules_default_rule);
    RUN(test_rules_bad_values_name_file_and_line);
    RUN(test_smtp_config_checks);
    RUN(test_quiet_hours_local_time);
    RUN(test_clean_text_utf8_controls_escaping);
    RUN(test_compose_grouped_message);
    RUN(test_subject_rfc2047_folded);
    RUN(test_subject_never_splits_4_byte_characters);
    RUN(test_email_date_and_crlf);
    RUN(test_fire_repeat_and_ack);
    RUN(test_silence_then_notify_when_it_ends);
    RUN(test_pending_for_and_thresholds);
    RUN(test_escalation_resolution_and_orphans);
    RUN(test_dry_run_changes_nothing);
    RUN(test_outbox_backoff_and_desktop_expiry);
    RUN(test_broken_smtp_still_records_and_queues);
    RUN(test_with_real_trends_stage);
    RUN(test_rules_parse_entities_and_watchlists);
    RUN(test_entity_alert_fires_for_its_entity_only);
    RUN(test_entity_silence);
    remove_temp_dirs();
    return check_summary();
}
