/* matcher.c — Aho-Corasick over ASCII-folded bytes (see matcher.h). */
#include "entities/matcher.h"

#include "common/common.h"

#include <stdlib.h>
#include <string.h>

/* While patterns are added, children are linked lists; matcher_build() turns
 * them into one sorted edge array (edge_from[s] .. edge_from[s + 1]). */
struct node {
    int32_t first_child, next_sibling; /* build-time lists, -1 = none */
    int32_t fail;                      /* longest proper suffix that is a state */
    int32_t dict;                      /* nearest state on the fail chain with a value */
    int32_t value;                     /* payload, -1 = no pattern ends here */
    int32_t depth;                     /* length of the state's string */
    uint8_t byte;                      /* the edge into this state */
};

struct matcher {
    struct node *nodes;
    size_t n, cap, n_patterns;
    uint32_t *edge_from; /* [n + 1] after build */
    uint8_t *edge_byte;
    int32_t *edge_to;
    int32_t root_next[256];
    int built;
};

/* Lower case, and a hyphen reads as a space ("Coca-Cola" finds "Coca Cola"). */
static inline uint8_t fold(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c == '-' ? ' ' : c;
}

static int32_t node_new(struct matcher *m, uint8_t byte, int32_t depth)
{
    m->nodes = xgrow(m->nodes, m->n, &m->cap, sizeof *m->nodes, 1024);
    m->nodes[m->n] = (struct node){-1, -1, 0, -1, -1, depth, byte};
    return (int32_t)m->n++;
}

struct matcher *matcher_new(void)
{
    struct matcher *m = xcalloc(1, sizeof *m);
    node_new(m, 0, 0);
    return m;
}

void matcher_free(struct matcher *m)
{
    if (!m)
        return;
    free(m->nodes);
    free(m->edge_from);
    free(m->edge_byte);
    free(m->edge_to);
    free(m);
}

static int32_t child_linked(const struct matcher *m, int32_t s, uint8_t b)
{
    for (int32_t c = m->nodes[s].first_child; c >= 0; c = m->nodes[c].next_sibling)
        if (m->nodes[c].byte == b)
            return c;
    return -1;
}

int matcher_add(struct matcher *m, const char *p, size_t len, int32_t value)
{
    int32_t s = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = fold((uint8_t)p[i]);
        int32_t c = child_linked(m, s, b);
        if (c < 0) {
            c = node_new(m, b, (int32_t)i + 1);
            m->nodes[c].next_sibling = m->nodes[s].first_child;
            m->nodes[s].first_child = c;
        }
        s = c;
    }
    if (s == 0 || m->nodes[s].value >= 0)
        return 1;
    m->nodes[s].value = value;
    m->n_patterns++;
    return 0;
}

static int byte_cmp(const void *a, const void *b)
{
    const int32_t *x = a, *y = b;
    return (int)x[0] - (int)y[0];
}

/* Lays every state's children out as one sorted run of edges. */
static void build_edges(struct matcher *m)
{
    m->edge_from = xcalloc(m->n + 1, sizeof *m->edge_from);
    m->edge_byte = xmalloc(m->n ? m->n : 1);
    m->edge_to = xmalloc((m->n ? m->n : 1) * sizeof *m->edge_to);
    int32_t (*tmp)[2] = xmalloc(256 * sizeof *tmp);
    uint32_t k = 0;
    for (size_t s = 0; s < m->n; s++) {
        m->edge_from[s] = k;
        int n = 0;
        for (int32_t c = m->nodes[s].first_child; c >= 0; c = m->nodes[c].next_sibling)
            tmp[n][0] = m->nodes[c].byte, tmp[n++][1] = c;
        qsort(tmp, (size_t)n, sizeof *tmp, byte_cmp);
        for (int i = 0; i < n; i++, k++)
            m->edge_byte[k] = (uint8_t)tmp[i][0], m->edge_to[k] = tmp[i][1];
    }
    m->edge_from[m->n] = k;
    free(tmp);
}

static int32_t child(const struct matcher *m, int32_t s, uint8_t b)
{
    if (s == 0)
        return m->root_next[b];
    uint32_t lo = m->edge_from[s], hi = m->edge_from[s + 1];
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (m->edge_byte[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->edge_from[s + 1] && m->edge_byte[lo] == b ? m->edge_to[lo] : -1;
}

/* The state reached from s on byte b, following failure links. */
static int32_t step(const struct matcher *m, int32_t s, uint8_t b)
{
    for (;;) {
        int32_t c = child(m, s, b);
        if (c >= 0)
            return c;
        if (s == 0)
            return 0;
        s = m->nodes[s].fail;
    }
}

void matcher_build(struct matcher *m)
{
    build_edges(m);
    for (int b = 0; b < 256; b++)
        m->root_next[b] = -1;
    for (uint32_t e = m->edge_from[0]; e < m->edge_from[1]; e++)
        m->root_next[m->edge_byte[e]] = m->edge_to[e];
    /* breadth first: a state's fail target is shallower, so already final */
    int32_t *queue = xmalloc(m->n * sizeof *queue);
    size_t head = 0, tail = 0;
    queue[tail++] = 0;
    while (head < tail) {
        int32_t s = queue[head++];
        for (uint32_t e = m->edge_from[s]; e < m->edge_from[s + 1]; e++) {
            int32_t c = m->edge_to[e];
            struct node *cn = &m->nodes[c];
            cn->fail = s == 0 ? 0 : step(m, m->nodes[s].fail, m->edge_byte[e]);
            const struct node *f = &m->nodes[cn->fail];
            cn->dict = cn->fail == 0 ? -1 : f->value >= 0 ? cn->fail : f->dict;
            queue[tail++] = c;
        }
    }
    free(queue);
    m->built = 1;
}

size_t matcher_patterns(const struct matcher *m)
{
    return m->n_patterns;
}

size_t matcher_states(const struct matcher *m)
{
    return m->n;
}

int matcher_scan(const struct matcher *m, const char *text, size_t len, matcher_hit_fn fn,
                 void *ctx)
{
    if (!m->built)
        return 0;
    int32_t s = 0;
    for (size_t i = 0; i < len; i++) {
        s = step(m, s, fold((uint8_t)text[i]));
        int32_t o = m->nodes[s].value >= 0 ? s : m->nodes[s].dict;
        for (; o > 0; o = m->nodes[o].dict) {
            const struct node *n = &m->nodes[o];
            int rc = fn(ctx, i + 1 - (size_t)n->depth, i + 1, n->value);
            if (rc)
                return rc;
        }
    }
    return 0;
}
