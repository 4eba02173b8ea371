/* test_config_check.c — the configuration schema and up-front check
 * (cli/config_check.h, common/config.h) and the config `finsent init` writes
 * (cli/default_config.h): its commented defaults must be the code's. */
#include "alerts/email.h"
#include "alerts/rules.h"
#include "classify/classify.h"
#include "classify/dataset.h"
#include "cli/config_check.h"
#include "cli/default_config.h"
#include "common/config.h"
#include "common/strbuf.h"
#include "crawler/source.h"
#include "tests/check.h"
#include "trends/trends.h"

#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Parses and checks text as "t.conf"; returns 0 or -1 with err set. */
static int check_text(const char *text, struct fs_error *err)
{
    struct config *cfg;
    if (config_parse(&cfg, "t.conf", text, err) < 0)
        return -1;
    int rc = config_check_all(cfg, err);
    config_free(cfg);
    return rc;
}

/* Each of the typos fails with its line and, for a near miss, the key
 * that was meant. */
static void test_typos_fail_with_line_and_suggestion(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[finsent]\ncontact = a@b.c\n[bogus]\nx = 1\n", "t.conf:3: [bogus]: unknown section"},
        {"[trends]\nz_treshold = 3\n", "t.conf:2: [trends] z_treshold: unknown key; did you mean "
                                       "'z_threshold'?"},
        {"[crawler]\nconcurency = 3\n", "t.conf:2: [crawler] concurency: unknown key; did you "
                                        "mean 'concurrency'?"},
        {"[source a]\nurl = http://x.test/\nknd = feed\n", "t.conf:3: [source a] knd: unknown key; "
                                                           "did you mean 'kind'?"},
        {"[source a]\nurl = http://x.test/\nfollow_link = yes\n",
         "t.conf:3: [source a] follow_link: unknown key; did you mean 'follow_links'?"},
        {"[crawler]\nper_host = 1\n\nper_host = 2\n",
         "t.conf:4: [crawler] per_host: given twice (first at line 2)"},
        {"[source ]\nurl = http://x.test/\n", "t.conf:1: [source]: needs a name"},
        {"[source a]\nurl = http://x.test/a\n[source a]\nurl = http://x.test/b\n",
         "t.conf:3: [source a] appears twice (first at line 1)"},
        {"[crawlr]\n", "t.conf:1: [crawlr]: unknown section; did you mean [crawler]?"},
        {"[alrt x]\n", "did you mean [alert x]?"},
        {"[model x]\n", "t.conf:1: [model x]: takes no name"},
        {"[smtp]\nurl = smtp://m.test\nfrom = a@b.c\nto = d@e.f\npasword_env = P\n",
         "t.conf:5: [smtp] pasword_env: unknown key; did you mean 'password_env'?"},
        {"[run]\nwait = 5\n", "t.conf:2: [run] wait: unknown key (known: lock_wait)"},
        {"[source a]\nkind = feed\n", "t.conf:1: [source a] url: missing"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(cases); i++) {
        struct fs_error err = {{0}};
        CHECK_MSG(check_text(cases[i].text, &err) < 0, "accepted: %s", cases[i].text);
        CHECK_MSG(strstr(err.msg, cases[i].want), "%s: got '%s', want '%s'", cases[i].text, err.msg,
                  cases[i].want);
    }
}

/* Values that used to fail only later (at crawl time, in the classify stage, in
 * `run` only) fail when the configuration is read. */
static void test_values_checked_up_front(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"[source c]\nurl = http://x.test/\nkind = comments\ncomment_selector = //div[\n",
         "t.conf:4: [source c] comment_selector: '//div[' is not an XPath"},
        {"[model]\ndevice = tpu\n", "t.conf:2: [model] device: 'tpu' is not auto, cpu or cuda"},
        {"[alert x]\ntopics = Macro, nope\n", "t.conf:2: [alert x] topics: unknown topic 'nope'"},
        {"[alert x]\ntopics = stock\n", "'stock' could be 'Stock Commentary', 'Stock Movement'"},
        {"[smtp]\nurl = smtp://m.test\nfrom = a@b.c\n", "[smtp] url: email needs 'to'"},
        {"[classify]\nentity_sentiment = yes\n",
         "t.conf:2: [classify] entity_sentiment: 'yes' is not sentences or document"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(bad); i++) {
        struct fs_error err = {{0}};
        CHECK_MSG(check_text(bad[i].text, &err) < 0, "accepted: %s", bad[i].text);
        CHECK_MSG(strstr(err.msg, bad[i].want), "got '%s', want '%s'", err.msg, bad[i].want);
    }
    struct fs_error err = {{0}};
    /* the password is read where email is sent, not wherever the config is read */
    CHECK_MSG(check_text("[smtp]\nurl = smtp://m.test\nfrom = a@b.c\nto = d@e.f\nusername = u\n"
                         "password_env = FINSENT_TEST_UNSET_VARIABLE\n",
                         &err) == 0,
              "%s", err.msg);
    CHECK_MSG(check_text("[alert x]\ntopics = overall, all\n", &err) == 0, "%s", err.msg);
}

static void test_topics_all_in_a_list_and_prefixes(void)
{
    struct config *cfg;
    struct fs_error err;
    CHECK(config_parse(&cfg, "t.conf",
                       "[alert x]\ntopics = overall, all\n[alert y]\ntopics = energy, OIL, fed\n",
                       &err) == 0);
    struct alert_rule *rules;
    int n;
    CHECK_MSG(alert_rules_load(cfg, &rules, &n, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(rules[0].n_topics, ALERT_N_TOPICS + 1);
    CHECK_INT_EQ(rules[0].topics[0], ALERT_TOPIC_OVERALL);
    CHECK_INT_EQ(rules[1].n_topics, 2); /* energy and oil are one topic */
    CHECK_STR_EQ(task_label_name(TASK_TOPIC, rules[1].topics[0]), "Energy | Oil");
    CHECK_STR_EQ(task_label_name(TASK_TOPIC, rules[1].topics[1]), "Fed | Central Banks");
    free(rules);
    config_free(cfg);
    char m[256] = "";
    CHECK_INT_EQ(topic_lookup("markets", m, sizeof m), 15); /* exact beats "Markets ..." */
    CHECK_INT_EQ(topic_lookup("m&a", m, sizeof m), 13);
    CHECK_INT_EQ(topic_lookup("stock", m, sizeof m), -2);
    CHECK_STR_EQ(m, "'Stock Commentary', 'Stock Movement'");
    CHECK_INT_EQ(topic_lookup("bitcoin", m, sizeof m), -1);
}

/* Reading a key the schema does not declare is a bug the first test finds. */
static void test_undeclared_read_aborts(void)
{
    struct config *cfg;
    struct fs_error err;
    CHECK(config_parse(&cfg, "t.conf", "[crawler]\nper_host = 1\n", &err) == 0);
    CHECK(config_check_all(cfg, &err) == 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(2);
        (void)config_get(cfg, "crawler", "undeclared_key");
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    CHECK(config_get(cfg, "crawler", "per_host") != NULL);
    config_free(cfg);
}

/* The generated file with every "# key = value" line uncommented. *n_keys gets
 * how many were. */
static char *uncomment_defaults(const char *text, int *n_keys)
{
    regex_t re;
    regcomp(&re, "^# ([a-z_]+) = (.+)$", REG_EXTENDED);
    struct strbuf sb = STRBUF_INIT;
    *n_keys = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        if (regexec(&re, line, 0, NULL, 0) == 0) {
            sb_appendf(&sb, "%s\n", line + 2);
            (*n_keys)++;
        } else {
            sb_appendf(&sb, "%s\n", line);
        }
        p += len + (nl ? 1 : 0);
    }
    regfree(&re);
    return sb_detach(&sb);
}

static void crawler_eq(const struct config *a, const struct config *b)
{
    struct crawler_settings x, y;
    struct fs_error err;
    CHECK(crawler_settings_load(a, &x, &err) == 0);
    CHECK_MSG(crawler_settings_load(b, &y, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(x.concurrency, y.concurrency);
    CHECK_INT_EQ(x.per_host, y.per_host);
    CHECK_INT_EQ(x.delay_ms, y.delay_ms);
    CHECK_INT_EQ(x.connect_timeout_ms, y.connect_timeout_ms);
    CHECK_INT_EQ(x.timeout_ms, y.timeout_ms);
    CHECK_INT_EQ(x.max_body, y.max_body);
    CHECK_INT_EQ(x.interval, y.interval);
    CHECK_INT_EQ(x.backoff_min, y.backoff_min);
    CHECK_INT_EQ(x.backoff_max, y.backoff_max);
    CHECK_INT_EQ(x.max_follow_links, y.max_follow_links);
    CHECK_INT_EQ(x.max_title_chars, y.max_title_chars);
    CHECK_INT_EQ(x.max_text_chars, y.max_text_chars);
    CHECK_INT_EQ(x.max_documents_per_page, y.max_documents_per_page);
    CHECK_INT_EQ(x.deadline_ms, y.deadline_ms);
    CHECK_STR_EQ(x.user_agent, y.user_agent);
    crawler_settings_free(&x);
    crawler_settings_free(&y);
}

static void trends_and_rules_eq(const struct config *a, const struct config *b)
{
    struct spike_params x, y;
    struct fs_error err;
    CHECK(trends_config_load(a, &x, &err) == 0 && trends_config_load(b, &y, &err) == 0);
    CHECK(x.alpha == y.alpha && x.min_negative_share == y.min_negative_share);
    CHECK_MSG(x.z_threshold == y.z_threshold, "z_threshold: code %g, shown %g", x.z_threshold,
              y.z_threshold);
    CHECK_INT_EQ(x.min_docs, y.min_docs);
    CHECK_INT_EQ(x.warmup, y.warmup);
    struct alert_rule *ra, *rb;
    int na, nb;
    CHECK(alert_rules_load(a, &ra, &na, &err) == 0);
    CHECK(alert_rules_load(b, &rb, &nb, &err) == 0);
    CHECK_INT_EQ(na, nb);
    for (int i = 0; i < na; i++)
        CHECK_MSG(memcmp(&ra[i], &rb[i], sizeof ra[i]) == 0, "rule %s differs", ra[i].name);
    free(ra);
    free(rb);
}

static void others_eq(const struct config *a, const struct config *b)
{
    const char *d = config_get(b, "model", "device");
    CHECK_STR_EQ(d ? d : "(absent)", "auto"); /* cli_model_device()'s default */
    struct classify_settings ka, kb;
    struct fs_error kerr;
    CHECK(config_get(b, "classify", "entity_sentiment") != NULL);
    CHECK(classify_config_load(a, &ka, &kerr) == 0 && classify_config_load(b, &kb, &kerr) == 0);
    CHECK_INT_EQ(ka.entity_sentences, kb.entity_sentences);
    CHECK_INT_EQ(ka.entity_sentences, 1);
    int64_t wa, wb;
    struct fs_error err;
    CHECK(config_get_duration(a, "run", "lock_wait", 60, &wa, &err) == 0);
    CHECK(config_get_duration(b, "run", "lock_wait", -1, &wb, &err) == 0 && wa == wb);
    /* with email on, tls and timeout are what the code assumes without them */
    const char *mail = "[smtp]\nurl = smtp://m.test\nfrom = a@b.c\nto = d@e.f\n";
    const char *shown = config_get(b, "smtp", "tls");
    const char *shown_to = config_get(b, "smtp", "timeout");
    CHECK(shown && shown_to);
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%stls = %s\ntimeout = %s\n", mail, shown, shown_to);
    struct config *ca, *cb;
    CHECK(config_parse(&ca, "a", mail, &err) == 0 && config_parse(&cb, "b", sb.buf, &err) == 0);
    sb_free(&sb);
    struct smtp_config sa, sbc;
    CHECK(smtp_config_load(ca, &sa, &err) == 0 && smtp_config_load(cb, &sbc, &err) == 0);
    CHECK_INT_EQ(sa.tls, sbc.tls);
    CHECK_INT_EQ(sa.timeout, sbc.timeout);
    smtp_config_free(&sa);
    smtp_config_free(&sbc);
    config_free(ca);
    config_free(cb);
}

/* `finsent init`'s file passes the check, and uncommenting its "# key = value"
 * lines changes nothing: each shows the code's default. */
static void test_generated_config_defaults_are_the_codes(void)
{
    struct config *a, *b;
    struct fs_error err;
    CHECK_MSG(config_parse(&a, "init.conf", default_config_text, &err) == 0, "%s", err.msg);
    CHECK_MSG(config_check_all(a, &err) == 0, "%s", err.msg);
    int n_keys;
    char *text = uncomment_defaults(default_config_text, &n_keys);
    CHECK_MSG(n_keys >= 20, "only %d commented defaults found", n_keys);
    CHECK_MSG(config_parse(&b, "uncommented.conf", text, &err) == 0, "%s", err.msg);
    free(text);
    CHECK_MSG(config_check_all(b, &err) == 0, "%s", err.msg);
    crawler_eq(a, b);
    trends_and_rules_eq(a, b);
    others_eq(a, b);
    config_free(a);
    config_free(b);
}

int main(void)
{
    RUN(test_typos_fail_with_line_and_suggestion);
    RUN(test_values_checked_up_front);
    RUN(test_topics_all_in_a_list_and_prefixes);
    RUN(test_undeclared_read_aborts);
    RUN(test_generated_config_defaults_are_the_codes);
    return check_summary();
}
