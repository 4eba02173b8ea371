/*
 * robots.c — robots.txt parsing and path matching (RFC 9309).
 *
 * The file is a sequence of groups: one or more User-agent lines followed by
 * rules. We keep two rule sets while reading, one for groups naming us and one
 * for "*" groups, and choose at the end.
 */
#include "crawler/robots.h"

#include "common/common.h"
#include "common/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct robots_rule {
    char *pattern;
    int allow;
};

struct rule_set {
    struct robots_rule *rules;
    size_t n, cap;
    int crawl_delay_ms;
    int seen; /* a group for this set appeared */
};

struct robots {
    struct rule_set set;
    int disallow_all;
};

static void set_add(struct rule_set *s, const char *pattern, size_t n, int allow)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->rules = xrealloc(s->rules, s->cap * sizeof *s->rules);
    }
    s->rules[s->n++] = (struct robots_rule){xstrndup(pattern, n), allow};
}

static void set_free(struct rule_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->rules[i].pattern);
    free(s->rules);
    memset(s, 0, sizeof *s);
}

/* Does the User-agent value name our token? "finsent", "FinSent/1.0", "finsent*". */
static int agent_matches(const char *value, size_t n, const char *agent)
{
    size_t alen = strlen(agent);
    if (n < alen || strncasecmp(value, agent, alen) != 0)
        return 0;
    return n == alen || value[alen] == '/' || value[alen] == '*' || value[alen] == ' ';
}

struct parse_state {
    const char *agent;
    struct rule_set mine, star;
    int in_agents; /* the previous line was a User-agent line */
    int group_mine, group_star;
};

static void handle_line(struct parse_state *ps, const char *key, size_t klen, const char *val,
                        size_t vlen)
{
    if (klen == 10 && strncasecmp(key, "user-agent", 10) == 0) {
        if (!ps->in_agents)
            ps->group_mine = ps->group_star = 0;
        ps->in_agents = 1;
        if (vlen == 1 && val[0] == '*') {
            ps->group_star = 1;
            ps->star.seen = 1;
        } else if (agent_matches(val, vlen, ps->agent)) {
            ps->group_mine = 1;
            ps->mine.seen = 1;
        }
        return;
    }
    ps->in_agents = 0;
    struct rule_set *targets[2] = {ps->group_mine ? &ps->mine : NULL,
                                   ps->group_star ? &ps->star : NULL};
    int allow = klen == 5 && strncasecmp(key, "allow", 5) == 0;
    int disallow = klen == 8 && strncasecmp(key, "disallow", 8) == 0;
    int delay = klen == 11 && strncasecmp(key, "crawl-delay", 11) == 0;
    for (int i = 0; i < 2; i++) {
        struct rule_set *s = targets[i];
        if (!s)
            continue;
        if ((allow || disallow) && vlen > 0)
            set_add(s, val, vlen, allow);
        if (delay) {
            char buf[32];
            size_t n = vlen < sizeof buf - 1 ? vlen : sizeof buf - 1;
            memcpy(buf, val, n);
            buf[n] = '\0';
            double d = strtod(buf, NULL);
            if (d > 0 && d <= 3600)
                s->crawl_delay_ms = (int)(d * 1000.0);
        }
    }
}

static void parse_line(struct parse_state *ps, const char *line, size_t len)
{
    const char *hash = memchr(line, '#', len);
    if (hash)
        len = (size_t)(hash - line);
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    const char *key = line, *kend = colon;
    while (key < kend && isspace((unsigned char)*key))
        key++;
    while (kend > key && isspace((unsigned char)kend[-1]))
        kend--;
    const char *val = colon + 1, *vend = line + len;
    while (val < vend && isspace((unsigned char)*val))
        val++;
    while (vend > val && isspace((unsigned char)vend[-1]))
        vend--;
    handle_line(ps, key, (size_t)(kend - key), val, (size_t)(vend - val));
}

struct robots *robots_parse(const char *body, size_t len, const char *agent)
{
    struct parse_state ps;
    memset(&ps, 0, sizeof ps);
    ps.agent = agent ? agent : ROBOTS_AGENT;
    if (len > ROBOTS_MAX_BYTES)
        len = ROBOTS_MAX_BYTES;
    const char *p = body, *end = body ? body + len : NULL;
    while (p && p < end) {
        const char *nl = p;
        while (nl < end && *nl != '\n' && *nl != '\r')
            nl++;
        parse_line(&ps, p, (size_t)(nl - p));
        p = nl + 1;
    }
    struct robots *r = xcalloc(1, sizeof *r);
    if (ps.mine.seen) {
        r->set = ps.mine;
        set_free(&ps.star);
    } else {
        r->set = ps.star;
        set_free(&ps.mine);
    }
    return r;
}

struct robots *robots_disallow_all(void)
{
    struct robots *r = xcalloc(1, sizeof *r);
    r->disallow_all = 1;
    return r;
}

/* Matches pattern against the start of path: '*' any run, '$' at the end anchors.
 * Iterative with one backtrack point per '*', linear in practice. */
static int pattern_matches(const char *pat, const char *path)
{
    const char *star_p = NULL, *star_s = NULL;
    const char *p = pat, *s = path;
    for (;;) {
        if (*p == '$' && p[1] == '\0') {
            if (*s == '\0')
                return 1;
        } else if (*p == '\0') {
            return 1; /* prefix match */
        } else if (*p == '*') {
            star_p = ++p;
            star_s = s;
            continue;
        } else if (*s != '\0' && *p == *s) {
            p++;
            s++;
            continue;
        }
        if (!star_p || *star_s == '\0')
            return 0;
        p = star_p;
        s = ++star_s;
    }
}

int robots_allowed(const struct robots *r, const char *path)
{
    if (!r)
        return 1;
    if (!path || !*path)
        path = "/";
    if (!strcmp(path, "/robots.txt"))
        return 1;
    if (r->disallow_all)
        return 0;
    size_t best_len = 0;
    int best_allow = 1, found = 0;
    for (size_t i = 0; i < r->set.n; i++) {
        const struct robots_rule *rule = &r->set.rules[i];
        if (!pattern_matches(rule->pattern, path))
            continue;
        size_t n = strlen(rule->pattern);
        if (!found || n > best_len || (n == best_len && rule->allow && !best_allow)) {
            best_len = n;
            best_allow = rule->allow;
            found = 1;
        }
    }
    return best_allow;
}

int robots_crawl_delay_ms(const struct robots *r)
{
    return r ? r->set.crawl_delay_ms : 0;
}

void robots_free(struct robots *r)
{
    if (!r)
        return;
    set_free(&r->set);
    free(r);
}
