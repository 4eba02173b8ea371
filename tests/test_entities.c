/* test_entities.c — entities/: matcher, name derivation, recognition rules,
 * config precedence, and precision/recall on data/entities/labelled.csv. */
#include "check.h"

#include "common/util.h"
#include "db/db.h"
#include "db/db_entities.h"
#include "entities/evaluate.h"
#include "entities/recognize.h"
#include "entities/scan.h"

#include <stdlib.h>
#include <string.h>

static struct entity_dir *g_dir; /* the bundled directory + tests/fixtures/entities.conf */

/* ---- matcher ---- */

struct hits {
    char buf[1024];
};

static int collect(void *ctx, size_t start, size_t end, int32_t value)
{
    struct hits *h = ctx;
    size_t n = strlen(h->buf);
    snprintf(h->buf + n, sizeof h->buf - n, "%zu-%zu:%d ", start, end, (int)value);
    return 0;
}

static void test_matcher_overlapping_patterns(void)
{
    struct matcher *m = matcher_new();
    CHECK(matcher_add(m, "he", 2, 1) == 0);
    CHECK(matcher_add(m, "she", 3, 2) == 0);
    CHECK(matcher_add(m, "his", 3, 3) == 0);
    CHECK(matcher_add(m, "hers", 4, 4) == 0);
    CHECK(matcher_add(m, "HE", 2, 9) == 1); /* folded duplicate: the first is kept */
    matcher_build(m);
    struct hits h = {{0}};
    matcher_scan(m, "uSHErs", 6, collect, &h);
    CHECK_STR_EQ(h.buf, "1-4:2 2-4:1 2-6:4 ");
    matcher_free(m);
}

/* Every occurrence a naive search finds, the matcher finds, on random text. */
static const char *const naive_pats[] = {"ab", "abc", "bca", "c", "aab", "cab", "bb", "abcab"};

struct count_ctx {
    size_t n;
    const char *text;
    int bad;
};

static int count_hit(void *ctx, size_t start, size_t end, int32_t value)
{
    struct count_ctx *c = ctx;
    const char *p = naive_pats[value];
    c->n++;
    if (strlen(p) != end - start || strncmp(c->text + start, p, end - start) != 0)
        c->bad = 1;
    return 0;
}

static void test_matcher_agrees_with_naive_search(void)
{
    struct matcher *m = matcher_new();
    for (size_t i = 0; i < FS_ARRAY_LEN(naive_pats); i++)
        matcher_add(m, naive_pats[i], strlen(naive_pats[i]), (int32_t)i);
    matcher_build(m);
    unsigned seed = 12345;
    char text[400];
    for (size_t i = 0; i < sizeof text - 1; i++) {
        seed = seed * 1103515245u + 12345u;
        text[i] = "abc"[(seed >> 16) % 3];
    }
    text[sizeof text - 1] = '\0';
    size_t n_expected = 0;
    for (size_t i = 0; text[i]; i++)
        for (size_t p = 0; p < FS_ARRAY_LEN(naive_pats); p++)
            n_expected += strncmp(text + i, naive_pats[p], strlen(naive_pats[p])) == 0;
    struct count_ctx c = {0, text, 0};
    matcher_scan(m, text, strlen(text), count_hit, &c);
    CHECK(!c.bad);
    CHECK_INT_EQ(c.n, n_expected);
    matcher_free(m);
}

/* ---- names ---- */

static void test_names_people_write(void)
{
    static const char *const cases[][2] = {
        {"Apple Inc.", "Apple"},
        {"AMAZON COM INC", "Amazon"},
        {"Tesla, Inc.", "Tesla"},
        {"EXXON MOBIL CORP", "Exxon Mobil"},
        {"BANK OF AMERICA CORP /DE/", "Bank of America"},
        {"CVS HEALTH Corp", "CVS Health"},
        {"AT&T INC.", "AT&T"},
        {"NOVO NORDISK A S", "Novo Nordisk"},
        {"Booking Holdings Inc.", "Booking"},
        {"DELTA AIR LINES, INC.", "Delta Air Lines"},
        {"JPMORGAN CHASE & CO", "Jpmorgan Chase"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(cases); i++) {
        char out[128];
        entity_name_derive(cases[i][0], out, sizeof out);
        CHECK_STR_EQ(out, cases[i][1]);
    }
}

/* ---- recognition ---- */

/* The entities of text as "name/how name/how ...". */
static void recognise(const char *title, const char *text, const char *feed, char *out,
                      size_t size)
{
    struct mention_list l = {0};
    entities_recognize(g_dir, title, text, feed, &l);
    out[0] = '\0';
    for (size_t i = 0; i < l.n; i++) {
        char name[128];
        mention_entity_name(g_dir, &l.v[i], name, sizeof name);
        size_t n = strlen(out);
        snprintf(out + n, size - n, "%s%s/%s", n ? " " : "", name, mention_how_name(l.v[i].how));
    }
    mention_list_free(&l);
}

#define CHECK_RECOGNISED(text, expected)                                                   \
    do {                                                                                   \
        char got_[512];                                                                    \
        recognise(NULL, text, NULL, got_, sizeof got_);                                    \
        CHECK_MSG(strcmp(got_, expected) == 0, "%s: got \"%s\", want \"%s\"", text, got_, \
                  expected);                                                               \
    } while (0)

static void test_traps_are_no_entities(void)
{
    CHECK_RECOGNISED("She baked an Apple pie for the fair.", "");
    CHECK_RECOGNISED("We sold all of it. ALL of it.", "");
    CHECK_RECOGNISED("Now is the time. IT spending grows. A rally.", "");
    CHECK_RECOGNISED("He ate an apple; apple shares fell.", "");
    CHECK_RECOGNISED("Fires in the Amazon rainforest spread.", "");
    CHECK_RECOGNISED("FED HOLDS RATES STEADY, SIGNALS TWO CUTS", "");
    CHECK_RECOGNISED("The price was $100 at the close.", "");
    CHECK_RECOGNISED("Texas lawmakers passed a new budget.", "");
}

static void test_ticker_rules(void)
{
    CHECK_RECOGNISED("Allstate (NYSE: ALL) raised rates.", "Allstate/name Allstate/exchange");
    CHECK_RECOGNISED("ServiceNow (NYSE:NOW) beat.", "ServiceNow/name ServiceNow/exchange");
    CHECK_RECOGNISED("Analysts like $ALL and $NOW.", "Allstate/cashtag ServiceNow/cashtag");
    CHECK_RECOGNISED("$BRK.B and NVDA rose.", "Berkshire Hathaway/cashtag Nvidia/ticker");
    CHECK_RECOGNISED("$BTC fell.", "$BTC/cashtag");
    CHECK_RECOGNISED("APPLE SHARES FALL ON WEAK CHINA DEMAND", "Apple/name");
}

static void test_ambiguous_names_need_business_context(void)
{
    CHECK_RECOGNISED("Apple shares fell 3%.", "Apple/name");
    CHECK_RECOGNISED("Target cut its outlook.", "Target/name");
    CHECK_RECOGNISED("Target practice starts at nine.", "");
    CHECK_RECOGNISED("Visa and Mastercard face a lawsuit.", "Visa/name Mastercard/name");
    CHECK_RECOGNISED("Visa and Mastercard were there.", "Visa/name Mastercard/name");
    CHECK_RECOGNISED("She needs a Visa stamp.", "");
}

static void test_longest_name_wins(void)
{
    CHECK_RECOGNISED("Bank of America set aside more.", "Bank of America/name");
    CHECK_RECOGNISED("Coca-Cola raised prices.", "Coca Cola/name");
    CHECK_RECOGNISED("Goldman Sachs said so.", "Goldman Sachs Group/name");
}

static void test_config_entities_take_precedence(void)
{
    CHECK_RECOGNISED("China Evergrande missed a payment; 3333.HK fell.",
                     "Evergrande/alias Evergrande/alias");
    CHECK_RECOGNISED("$DIS fell; Disney cut jobs.", "Disney/cashtag Disney/alias");
}

static void test_fields_and_feed_tickers(void)
{
    char got[512];
    recognise("Tesla recalls cars", "The recall covers 2 million Teslas.", "NASDAQ:NVDA, XYZQ",
              got, sizeof got);
    CHECK_STR_EQ(got, "Tesla/name Nvidia/feed $XYZQ/feed");
    struct mention_list l = {0};
    entities_recognize(g_dir, "About Apple shares", "Nvidia shares rose.", NULL, &l);
    CHECK_INT_EQ(l.n, 2);
    CHECK(l.v[0].field == FIELD_TITLE && l.v[0].start == 6 && l.v[0].len == 5);
    CHECK(l.v[1].field == FIELD_TEXT && l.v[1].start == 0 && l.v[1].len == 6);
    mention_list_free(&l);
}

static void test_config_errors_name_the_line(void)
{
    struct config *cfg;
    struct fs_error err;
    CHECK(config_parse(&cfg, "x.conf", "[entity Foo]\nalias = Foo\n", &err) == 0);
    struct entity_dir *d;
    CHECK(entity_dir_build(NULL, "", cfg, &d, &err) < 0);
    CHECK_MSG(strstr(err.msg, "x.conf:2:") != NULL, "%s", err.msg);
    config_free(cfg);
}

/* ---- the labelled set ---- */

static void print_miss(void *ctx, const char *text, const char *pred, const char *gold)
{
    (void)ctx;
    printf("  miss: %s  predicted [%s] labelled [%s]\n", text, pred, gold);
}

static void test_labelled_set_precision_recall(void)
{
    char *csv;
    size_t len;
    struct fs_error err;
    CHECK_MSG(file_read_all("data/entities/labelled.csv", 1 << 24, &csv, &len, &err) == 0, "%s",
              err.msg);
    struct entity_eval e;
    int rc = entities_evaluate(g_dir, csv, len, &e, print_miss, NULL, &err);
    free(csv);
    CHECK_MSG(rc == 0, "%s", err.msg);
    printf("  labelled set: %zu texts, precision %.3f, recall %.3f, F1 %.3f\n", e.n_texts,
           e.precision, e.recall, e.f1);
    CHECK(e.n_texts >= 200);
    CHECK_MSG(e.precision >= 0.97, "precision %.3f < 0.97", e.precision);
    CHECK_MSG(e.recall >= 0.93, "recall %.3f < 0.93", e.recall);
}

/* ---- reading stored documents again (entities/scan.h) ---- */

static struct entity_dir *dir_of(const char *conf)
{
    struct config *cfg;
    struct entity_dir *d = NULL;
    struct fs_error err;
    if (config_parse(&cfg, "t.conf", conf, &err) == 0) {
        if (entity_dir_build(NULL, NULL, cfg, &d, &err) < 0)
            d = NULL;
        config_free(cfg);
    }
    return d;
}

/* `finsent entities rescan` with directory d: every document read again. */
static int rescan(sqlite3 *db, const char *conf)
{
    struct entity_dir *d = dir_of(conf);
    struct entity_scan_stats st;
    struct fs_error err;
    int rc = d && db_entities_reset(db, &err) == 0 &&
                     entities_scan_pending(db, d, 200, 0, &st, &err) == 0
                 ? 0
                 : -1;
    entity_dir_free(d);
    return rc;
}

/* One text column of one row (a constant query), "" when none. */
static void query_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
    sqlite3_stmt *st;
    struct fs_error err;
    out[0] = '\0';
    if (db_prepare(db, &st, sql, &err) < 0)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static const char readings_sql[] =
    "SELECT group_concat(name || ':' || basis || ':' || sentiment, ' ') FROM (SELECT e.name, "
    "s.basis, s.sentiment FROM entity_sentiments s JOIN entities e ON e.id = s.entity_id "
    "ORDER BY e.name)";
static const char queue_sql[] = "SELECT group_concat(e.name, ' ') FROM entity_sentiments_pending q "
                                "JOIN entities e ON e.id = q.entity_id";

/* Issue 13 item 2: a rescan keeps each entity's reading where its mentions are
 * the same; an entity whose mentions changed takes the document's sentiment and
 * is queued for its sentences to be read; one no longer mentioned loses its own. */
static void test_rescan_keeps_entity_readings(void)
{
    char dir[] = "/tmp/finsent-test-entities-XXXXXX", path[96], got[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/e.db", dir);
    sqlite3 *db;
    struct fs_error err;
    CHECK_MSG(db_open(&db, path, &err) == 0, "%s", err.msg);
    const char *both = "[entity Acme]\n[entity Zeta]\n";
    CHECK(db_exec(db,
                  "INSERT INTO documents(id, dedupe_hash, text, kind, fetched_at) VALUES (1, 'h',"
                  " 'Acme shares fell sharply. Zeta opened a store. Markets were calm.',"
                  " 'article', 100)",
                  &err) == 0);
    CHECK(rescan(db, both) == 0);
    /* classified: the document neutral, Acme negative and Zeta neutral by their sentences */
    CHECK(db_exec(db,
                  "INSERT INTO classifications(document_id, model_id, topic, topic_probs, "
                  "sentiment, sentiment_probs, score, classified_at) VALUES (1, 'm', 0, '[]', 1, "
                  "'[0.1,0.8,0.1]', 0, 150);"
                  "INSERT INTO entity_sentiments(document_id, entity_id, sentiment, "
                  "sentiment_probs, score, basis) SELECT 1, id, CASE name WHEN 'Acme' THEN 0 "
                  "ELSE 2 END, '[]', 0, 'sentences' FROM entities",
                  &err) == 0);
    CHECK(rescan(db, both) == 0);
    query_text(db, readings_sql, got, sizeof got);
    CHECK_STR_EQ(got, "Acme:sentences:0 Zeta:sentences:2");
    query_text(db, queue_sql, got, sizeof got);
    CHECK_STR_EQ(got, "");
    /* Zeta's mention grows to "Zeta opened": the document's sentiment, queued */
    CHECK(rescan(db, "[entity Acme]\n[entity Zeta]\naliases = Zeta opened\n") == 0);
    query_text(db, readings_sql, got, sizeof got);
    CHECK_STR_EQ(got, "Acme:sentences:0 Zeta:document:1");
    query_text(db, queue_sql, got, sizeof got);
    CHECK_STR_EQ(got, "Zeta");
    /* Zeta no longer an entity: its reading and its place in the queue go */
    CHECK(rescan(db, "[entity Acme]\n") == 0);
    query_text(db, readings_sql, got, sizeof got);
    CHECK_STR_EQ(got, "Acme:sentences:0");
    query_text(db, queue_sql, got, sizeof got);
    CHECK_STR_EQ(got, "");
    query_text(db, "SELECT group_concat(start || '+' || len, ' ') FROM mentions", got, sizeof got);
    CHECK_STR_EQ(got, "0+4");
    db_close(db);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    struct config *cfg;
    struct fs_error err;
    if (config_load(&cfg, FIXTURE("entities.conf"), &err) < 0 ||
        entity_dir_load("data", cfg, &g_dir, &err) < 0) {
        printf("FAIL test_entities: %s\n", err.msg);
        return 1;
    }
    config_free(cfg);
    RUN(test_matcher_overlapping_patterns);
    RUN(test_matcher_agrees_with_naive_search);
    RUN(test_names_people_write);
    RUN(test_traps_are_no_entities);
    RUN(test_ticker_rules);
    RUN(test_ambiguous_names_need_business_context);
    RUN(test_longest_name_wins);
    RUN(test_config_entities_take_precedence);
    RUN(test_fields_and_feed_tickers);
    RUN(test_config_errors_name_the_line);
    RUN(test_labelled_set_precision_recall);
    RUN(test_rescan_keeps_entity_readings);
    entity_dir_free(g_dir);
    return check_summary();
}
