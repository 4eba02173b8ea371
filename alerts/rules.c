/* rules.c — [alert NAME] sections into struct alert_rule; topic names. */
#include "alerts/rules.h"

#include "common/strbuf.h"
#include "common/util.h"
#include "entities/lookup.h"
#include "trends/trends.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *alert_topic_name(int topic, char *buf, size_t size)
{
    if (topic == ALERT_TOPIC_OVERALL)
        return "All topics";
    if (topic >= 0 && topic < ALERT_N_TOPICS)
        return task_label_name(TASK_TOPIC, topic);
    snprintf(buf, size, "topic %d", topic);
    return buf;
}

int alert_topic_parse(const char *s)
{
    if (!strcasecmp(s, "overall") || !strcmp(s, "-1"))
        return ALERT_TOPIC_OVERALL;
    char *end;
    long v = strtol(s, &end, 10);
    if (end != s && *end == '\0')
        return v >= 0 && v < ALERT_N_TOPICS ? (int)v : -2;
    int t = topic_lookup(s, NULL, 0);
    return t >= 0 ? t : -2;
}

const char *const alert_rule_config_keys[] = {
    "topics",     "granularity", "z_threshold", "min_docs",    "min_negative_share",
    "critical_z", "for",         "repeat",      "quiet_hours", "notify",
    "resolved",   "examples",    "entities",    "watchlist",   NULL};

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static void add_topic(struct alert_rule *r, int t)
{
    for (int i = 0; i < r->n_topics; i++)
        if (r->topics[i] == t)
            return;
    if (r->n_topics < (int)FS_ARRAY_LEN(r->topics))
        r->topics[r->n_topics++] = t;
}

/* "all" (each topic on its own) may stand alone or in a list: "overall, all".
 * Without `topics`, a rule watches all topics unless it watches entities. */
static int parse_topics(const struct config *cfg, const char *sec, struct alert_rule *r,
                        struct fs_error *err)
{
    const char *v = config_get(cfg, sec, "topics");
    r->n_topics = 0;
    if (!v && (r->entities || r->watchlist_entities))
        return 0;
    char *copy = xstrdup(v ? v : "all"), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *name = trim(tok);
        if (!strcasecmp(name, "all")) {
            for (int i = 0; i < ALERT_N_TOPICS; i++)
                add_topic(r, i);
            continue;
        }
        int t = alert_topic_parse(name);
        if (t == -2) {
            char why[FS_ERROR_MAX / 2];
            topic_lookup_error(name, why, sizeof why);
            config_error(cfg, sec, "topics", err, "%s; or an id 0..19, 'overall' or 'all'", why);
            free(copy);
            return -1;
        }
        add_topic(r, t);
    }
    free(copy);
    if (r->n_topics == 0)
        return config_error(cfg, sec, "topics", err, "no topic given");
    return 0;
}

static int count_item(void *ctx, const char *item)
{
    (void)item;
    ++*(int *)ctx;
    return 0;
}

/* `entities` (at least one item) and `watchlist` (an existing [watchlist W]). */
static int parse_entities(const struct config *cfg, const char *sec, struct alert_rule *r,
                          struct fs_error *err)
{
    r->entities = config_get(cfg, sec, "entities");
    int n = 0;
    if (r->entities && (entity_list_each(r->entities, count_item, &n), n == 0))
        return config_error(cfg, sec, "entities", err, "no entity given");
    const char *w = config_get(cfg, sec, "watchlist");
    if (!w)
        return 0;
    char wsec[300];
    snprintf(wsec, sizeof wsec, "watchlist %s", w);
    r->watchlist_entities = config_get(cfg, wsec, "entities");
    if (!r->watchlist_entities)
        return config_error(cfg, sec, "watchlist", err, "no [watchlist %s] with entities = ...", w);
    return 0;
}

static int parse_notify(const struct config *cfg, const char *sec, struct alert_rule *r,
                        struct fs_error *err)
{
    const char *smtp_url = config_get(cfg, "smtp", "url");
    const char *v = config_get(cfg, sec, "notify");
    if (!v) {
        r->notify = ALERT_CH_DESKTOP | (smtp_url ? ALERT_CH_EMAIL : 0);
        return 0;
    }
    r->notify = 0;
    char *copy = xstrdup(v), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *ch = trim(tok);
        if (!strcasecmp(ch, "desktop")) {
            r->notify |= ALERT_CH_DESKTOP;
        } else if (!strcasecmp(ch, "email")) {
            r->notify |= ALERT_CH_EMAIL;
        } else if (!strcasecmp(ch, "webhook")) {
            r->notify |= ALERT_CH_WEBHOOK;
        } else if (!strcasecmp(ch, "none")) {
            continue;
        } else {
            config_error(cfg, sec, "notify", err,
                         "unknown channel '%s' (desktop, email, webhook, none)", ch);
            free(copy);
            return -1;
        }
    }
    free(copy);
    if ((r->notify & ALERT_CH_WEBHOOK) && config_section_count(cfg, "webhook ") == 0)
        return config_error(cfg, sec, "notify", err,
                            "webhook needs a [webhook NAME] section with a url");
    if (!smtp_url)
        r->notify &= ~(unsigned)ALERT_CH_EMAIL; /* email is off until [smtp] url is set */
    return 0;
}

static int parse_hour(const char *s, const char **end)
{
    if (!isdigit((unsigned char)s[0]))
        return -1;
    int h = s[0] - '0';
    s++;
    if (isdigit((unsigned char)s[0]))
        h = h * 10 + (*s++ - '0');
    if (s[0] == ':' && s[1] == '0' && s[2] == '0')
        s += 3;
    *end = s;
    return h <= 24 ? h % 24 : -1;
}

static int parse_quiet(const struct config *cfg, const char *sec, struct alert_rule *r,
                       struct fs_error *err)
{
    const char *v = config_get(cfg, sec, "quiet_hours");
    r->quiet_start = r->quiet_end = -1;
    if (!v || !*v || !strcasecmp(v, "none"))
        return 0;
    const char *p = v;
    int a = parse_hour(p, &p);
    if (a >= 0 && *p == '-') {
        int b = parse_hour(p + 1, &p);
        if (b >= 0 && *p == '\0' && a != b) {
            r->quiet_start = a;
            r->quiet_end = b;
            return 0;
        }
    }
    return config_error(cfg, sec, "quiet_hours", err,
                        "'%s' is not an hour range such as 22-07 (local time)", v);
}

static int parse_rule(const struct config *cfg, const char *sec, const char *name,
                      struct alert_rule *r, struct fs_error *err)
{
    memset(r, 0, sizeof *r);
    if (strlen(name) >= sizeof r->name)
        return fs_error_set(err, "%s: [%s]: rule name longer than %zu bytes", config_path(cfg), sec,
                            sizeof r->name - 1);
    str_copy(r->name, sizeof r->name, name);
    if (parse_entities(cfg, sec, r, err) < 0 || parse_topics(cfg, sec, r, err) < 0)
        return -1;
    const char *g = config_get(cfg, sec, "granularity");
    if (!g || !strcmp(g, "hour")) {
        r->granularity = "hour";
        r->granularity_seconds = 3600;
    } else if (!strcmp(g, "day")) {
        r->granularity = "day";
        r->granularity_seconds = 86400;
    } else {
        return config_error(cfg, sec, "granularity", err, "'%s' is not hour or day", g);
    }
    int64_t examples;
    struct spike_params sp; /* the rule's defaults are the [trends] thresholds */
    if (trends_config_load(cfg, &sp, err) < 0)
        return -1;
    r->warmup = sp.warmup;
    if (config_get_double(cfg, sec, "z_threshold", sp.z_threshold, 0.0, 1000.0, &r->z_threshold,
                          err) < 0 ||
        config_get_int(cfg, sec, "min_docs", sp.min_docs, 1, 1000000000, &r->min_docs, err) < 0 ||
        config_get_double(cfg, sec, "min_negative_share", sp.min_negative_share, 0.0, 1.0,
                          &r->min_negative_share, err) < 0 ||
        config_get_double(cfg, sec, "critical_z", 5.0, 0.0, 1000.0, &r->critical_z, err) < 0 ||
        config_get_duration(cfg, sec, "for", 0, &r->pending_for, err) < 0 ||
        config_get_duration(cfg, sec, "repeat", 6 * 3600, &r->repeat, err) < 0 ||
        config_get_bool(cfg, sec, "resolved", 0, &r->notify_resolved, err) < 0 ||
        config_get_int(cfg, sec, "examples", 5, 3, 5, &examples, err) < 0)
        return -1;
    if (r->repeat < 60)
        return config_error(cfg, sec, "repeat", err, "must be at least 60s");
    r->examples = (int)examples;
    return parse_quiet(cfg, sec, r, err) < 0 ? -1 : parse_notify(cfg, sec, r, err);
}

int alert_rules_load(const struct config *cfg, struct alert_rule **out, int *n,
                     struct fs_error *err)
{
    int count = config_section_count(cfg, "alert ");
    struct alert_rule *rules = xcalloc(count > 0 ? (size_t)count : 1, sizeof *rules);
    if (count == 0) {
        /* the built-in rule reads the (absent) section "alert default": all defaults */
        if (parse_rule(cfg, "alert default", "default", &rules[0], err) < 0) {
            free(rules);
            return -1;
        }
        *out = rules;
        *n = 1;
        return 0;
    }
    for (int i = 0; i < count; i++) {
        const char *sec = config_section_at(cfg, "alert ", i);
        if (parse_rule(cfg, sec, sec + strlen("alert "), &rules[i], err) < 0) {
            free(rules);
            return -1;
        }
    }
    *out = rules;
    *n = count;
    return 0;
}

int alert_rule_entities_each(const struct alert_rule *rule, int (*fn)(void *ctx, const char *item),
                             void *ctx)
{
    int rc = entity_list_each(rule->entities, fn, ctx);
    return rc ? rc : entity_list_each(rule->watchlist_entities, fn, ctx);
}

int alert_rules_watch_entities(const struct alert_rule *rules, int n)
{
    for (int i = 0; i < n; i++)
        if (rules[i].entities || rules[i].watchlist_entities)
            return 1;
    return 0;
}

int alert_rules_check_entities(const struct config *cfg, const struct entity_dir *d,
                               struct fs_error *err)
{
    int n = cfg ? config_section_count(cfg, "alert ") : 0;
    for (int i = 0; i < n; i++) {
        if (entity_list_check(cfg, config_section_at(cfg, "alert ", i), d, err) < 0)
            return -1;
    }
    return 0;
}

int alert_rule_quiet(const struct alert_rule *rule, int64_t now, int64_t *until)
{
    if (rule->quiet_start < 0)
        return 0;
    time_t t = (time_t)now;
    struct tm tm;
    localtime_r(&t, &tm);
    int h = tm.tm_hour, a = rule->quiet_start, b = rule->quiet_end;
    int quiet = a < b ? (h >= a && h < b) : (h >= a || h < b);
    if (!quiet)
        return 0;
    struct tm end = tm;
    end.tm_hour = b;
    end.tm_min = end.tm_sec = 0;
    end.tm_isdst = -1;
    int64_t u = (int64_t)mktime(&end);
    if (u <= now) {
        end = tm;
        end.tm_mday += 1;
        end.tm_hour = b;
        end.tm_min = end.tm_sec = 0;
        end.tm_isdst = -1;
        u = (int64_t)mktime(&end);
    }
    *until = u;
    return 1;
}
