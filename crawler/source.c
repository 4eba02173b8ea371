/* source.c — reading the crawler's sections of the configuration file. */
#include "crawler/source.h"

#include "common/strbuf.h"
#include "common/util.h"
#include "crawler/fetch.h"

#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

#ifndef FINSENT_VERSION
#define FINSENT_VERSION "dev"
#endif

static const char *const kind_names[] = {"feed", "article", "comments"};

/* Every key crawler_settings_load() and load_one() read (common/config.h). */
const char *const crawler_config_keys[] = {"concurrency",
                                           "per_host",
                                           "delay_ms",
                                           "connect_timeout",
                                           "timeout",
                                           "timeout_ms",
                                           "max_body_bytes",
                                           "interval",
                                           "backoff_min",
                                           "backoff_max",
                                           "max_follow_links",
                                           "user_agent",
                                           "max_title_chars",
                                           "max_text_chars",
                                           "max_documents_per_page",
                                           "deadline",
                                           NULL};
const char *const source_config_keys[] = {"url",      "kind", "follow_links", "comment_selector",
                                          "interval", NULL};

const char *source_kind_name(enum source_kind kind)
{
    return (unsigned)kind < FS_ARRAY_LEN(kind_names) ? kind_names[kind] : "?";
}

int source_kind_parse(const char *name, enum source_kind *kind)
{
    for (size_t i = 0; i < FS_ARRAY_LEN(kind_names); i++)
        if (name && !strcasecmp(name, kind_names[i])) {
            *kind = (enum source_kind)i;
            return 0;
        }
    return -1;
}

int64_t source_backoff_delay(int consecutive_errors, int64_t min, int64_t max)
{
    if (min < 1)
        min = 1;
    if (max < min)
        max = min;
    int64_t d = min;
    for (int i = 1; i < consecutive_errors && d < max; i++)
        d = d > max / 2 ? max : d * 2;
    return d < max ? d : max;
}

static char *build_user_agent(const char *token, const char *contact)
{
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s/%s", token && *token ? token : "finsent", FINSENT_VERSION);
    if (contact && *contact)
        sb_appendf(&sb, " (+%s)", contact);
    else
        sb_append(&sb, " (+https://github.com/finsent)");
    char *ua = sb_detach(&sb);
    str_strip_controls(ua);
    return ua;
}

int crawler_settings_load(const struct config *cfg, struct crawler_settings *out,
                          struct fs_error *err)
{
    memset(out, 0, sizeof *out);
    const char *sec = "crawler";
    int64_t conc, per_host, delay, cto, to, to_ms, max_body, max_follow, max_docs, deadline;
    if (config_get_int(cfg, sec, "concurrency", 8, 1, 256, &conc, err) < 0 ||
        config_get_int(cfg, sec, "per_host", 2, 1, 64, &per_host, err) < 0 ||
        config_get_int(cfg, sec, "delay_ms", 500, 0, 600000, &delay, err) < 0 ||
        config_get_duration(cfg, sec, "connect_timeout", 10, &cto, err) < 0 ||
        config_get_duration(cfg, sec, "timeout", 30, &to, err) < 0 ||
        config_get_int(cfg, sec, "timeout_ms", to * 1000, 1, 3600000, &to_ms, err) < 0 ||
        config_get_int(cfg, sec, "max_body_bytes", (int64_t)FETCH_DEFAULT_MAX_BODY, 1024,
                       (int64_t)1 << 31, &max_body, err) < 0 ||
        config_get_duration(cfg, sec, "interval", 30 * 60, &out->interval, err) < 0 ||
        config_get_duration(cfg, sec, "backoff_min", 15 * 60, &out->backoff_min, err) < 0 ||
        config_get_duration(cfg, sec, "backoff_max", 24 * 3600, &out->backoff_max, err) < 0 ||
        config_get_int(cfg, sec, "max_follow_links", 50, 1, 100000, &max_follow, err) < 0 ||
        config_get_int(cfg, sec, "max_title_chars", 500, 16, 1000000, &out->max_title_chars, err) <
            0 ||
        config_get_int(cfg, sec, "max_text_chars", 100000, 256, 100000000, &out->max_text_chars,
                       err) < 0 ||
        config_get_int(cfg, sec, "max_documents_per_page", 1000, 1, 1000000, &max_docs, err) < 0 ||
        config_get_duration(cfg, sec, "deadline", 10 * 60, &deadline, err) < 0)
        return -1;
    if (deadline < 1)
        return config_error(cfg, sec, "deadline", err, "must be at least 1s");
    if (cto < 1 || cto > 3600)
        return config_error(cfg, sec, "connect_timeout", err, "must be between 1s and 1h");
    if (to_ms < 1)
        return config_error(cfg, sec, "timeout", err, "must be at least 1s");
    if (out->backoff_min < 1)
        return config_error(cfg, sec, "backoff_min", err, "must be at least 1s");
    if (out->backoff_max < out->backoff_min)
        return config_error(cfg, sec, "backoff_max", err, "is smaller than backoff_min");
    out->concurrency = (int)conc;
    out->per_host = (int)per_host;
    out->delay_ms = (int)delay;
    out->connect_timeout_ms = cto * 1000;
    out->timeout_ms = to_ms;
    out->max_body = max_body;
    out->max_follow_links = (int)max_follow;
    out->max_documents_per_page = (int)max_docs;
    out->deadline_ms = deadline * 1000;
    out->user_agent =
        build_user_agent(config_get(cfg, sec, "user_agent"), config_get(cfg, "finsent", "contact"));
    return 0;
}

void crawler_settings_free(struct crawler_settings *s)
{
    free(s->user_agent);
    s->user_agent = NULL;
}

struct xpath_error {
    char msg[160];
};

static void xpath_capture(void *ctx, xmlErrorPtr e)
{
    struct xpath_error *x = ctx;
    if (!x->msg[0] && e && e->message)
        str_copy(x->msg, sizeof x->msg, e->message);
}

/* Compiles the comment XPath once, so that a typo stops the command at once
 * instead of failing every crawl of the page. libxml2's message is captured,
 * not printed. */
static int check_xpath(const struct config *cfg, const char *section, const char *xpath,
                       struct fs_error *err)
{
    struct xpath_error xe = {{0}};
    xmlStructuredErrorFunc old = xmlStructuredError;
    void *old_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(&xe, xpath_capture);
    xmlXPathCompExprPtr comp = xmlXPathCompile((const xmlChar *)xpath);
    xmlSetStructuredErrorFunc(old_ctx, old);
    if (comp) {
        xmlXPathFreeCompExpr(comp);
        return 0;
    }
    str_strip_controls(xe.msg);
    size_t n = strlen(xe.msg);
    while (n > 0 && xe.msg[n - 1] == ' ')
        xe.msg[--n] = '\0';
    return config_error(cfg, section, "comment_selector", err, "'%s' is not an XPath: %s", xpath,
                        xe.msg[0] ? xe.msg : "syntax error");
}

static int load_one(const struct config *cfg, const char *section, int64_t default_interval,
                    struct source_config *src, struct fs_error *err)
{
    memset(src, 0, sizeof *src);
    const char *name = section + strlen("source ");
    if (!*name)
        return config_error(cfg, section, "url", err, "a source needs a name ([source NAME])");
    const char *url = config_get(cfg, section, "url");
    if (!url || !*url)
        return config_error(cfg, section, "url", err, "missing (every source needs one)");
    char *origin = fetch_url_origin(url);
    if (!origin)
        return config_error(cfg, section, "url", err,
                            "'%s' is not an http:// or https:// URL with a host", url);
    free(origin);
    enum source_kind kind = SOURCE_FEED;
    const char *k = config_get(cfg, section, "kind");
    if (k && source_kind_parse(k, &kind) < 0)
        return config_error(cfg, section, "kind", err, "'%s' is not one of feed, article, comments",
                            k);
    int follow;
    int64_t interval;
    if (config_get_bool(cfg, section, "follow_links", 0, &follow, err) < 0 ||
        config_get_duration(cfg, section, "interval", default_interval, &interval, err) < 0)
        return -1;
    if (follow && kind != SOURCE_FEED)
        return config_error(cfg, section, "follow_links", err, "only applies to kind = feed");
    const char *sel = config_get(cfg, section, "comment_selector");
    if (sel && *sel && check_xpath(cfg, section, sel, err) < 0)
        return -1;
    if (sel && *sel && kind != SOURCE_COMMENTS)
        return config_error(cfg, section, "comment_selector", err,
                            "only applies to kind = comments");
    src->name = xstrdup(name);
    src->url = xstrdup(url);
    src->kind = kind;
    src->comment_selector = sel && *sel ? xstrdup(sel) : NULL;
    src->follow_links = follow;
    src->interval = interval;
    return 0;
}

int source_list_load(const struct config *cfg, int64_t default_interval, struct source_config **out,
                     size_t *n, struct fs_error *err)
{
    int count = config_section_count(cfg, "source ");
    struct source_config *list = xcalloc(count > 0 ? (size_t)count : 1, sizeof *list);
    size_t got = 0;
    for (int i = 0; i < count; i++) {
        const char *section = config_section_at(cfg, "source ", i);
        if (load_one(cfg, section, default_interval, &list[got], err) < 0) {
            source_list_free(list, got);
            return -1;
        }
        for (size_t j = 0; j < got; j++)
            if (!strcmp(list[j].name, list[got].name)) {
                fs_error_set(err, "%s: [%s] appears twice", config_path(cfg), section);
                source_list_free(list, got + 1);
                return -1;
            }
        got++;
    }
    *out = list;
    *n = got;
    return 0;
}

void source_list_free(struct source_config *list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++) {
        free(list[i].name);
        free(list[i].url);
        free(list[i].comment_selector);
    }
    free(list);
}
