/* html.c — article text and reader comments from HTML pages.
 *
 * Article text: a readability-style heuristic. Paragraphs (<p>, <pre>, and
 * text-only <div>s) give points to their parent and grandparent containers;
 * a container's score is scaled down by its link density and nudged by its
 * class/id ("article", "content" up; "sidebar", "comment" down). The best
 * container's text is emitted paragraph by paragraph, skipping navigation,
 * scripts, asides, footers and comment blocks.
 *
 * Comments: a caller XPath, or a default that groups the elements whose class
 * or id mentions "comment" and takes the largest group of comment-sized units
 * (see pick_comment_group; a lone candidate counts only when it names an
 * author, so that "comments policy" notices are not taken for comments).
 * Next.js pages that carry their posts only in the
 * __NEXT_DATA__ JSON (Stocktwits) are read from that JSON. */
#include "crawler/html.h"

#include "common/strbuf.h"
#include "common/util.h"
#include "crawler/text.h"
#include "crawler/url.h"

#include <ctype.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 512

/* ---- parsing ---------------------------------------------------------------- */

static htmlDocPtr html_read(const char *body, size_t len, const char *charset, const char *url,
                            struct fs_error *err)
{
    struct strbuf utf8 = STRBUF_INIT;
    text_decode_document(&utf8, body, len, charset, 1);
    size_t i = 0;
    while (i < utf8.len && isspace((unsigned char)utf8.buf[i]))
        i++;
    if (i == utf8.len || utf8.len > (size_t)0x7fffffff) {
        sb_free(&utf8);
        fs_error_set(err, i == utf8.len ? "empty HTML page" : "HTML page too large");
        return NULL;
    }
    htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
    htmlDocPtr doc = NULL;
    if (ctxt) {
        int opts = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                   HTML_PARSE_NOWARNING | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT;
        doc = htmlCtxtReadMemory(ctxt, utf8.buf, (int)utf8.len, url, "UTF-8", opts);
        htmlFreeParserCtxt(ctxt);
    }
    sb_free(&utf8);
    if (!doc || !xmlDocGetRootElement(doc)) {
        xmlFreeDoc(doc);
        fs_error_set(err, "cannot parse the HTML page");
        return NULL;
    }
    return doc;
}

/* ---- node helpers ----------------------------------------------------------- */

static int is_el(const xmlNode *n)
{
    return n && n->type == XML_ELEMENT_NODE;
}

static int name_is(const xmlNode *n, const char *name)
{
    return is_el(n) && strcasecmp((const char *)n->name, name) == 0;
}

static int name_in(const xmlNode *n, const char *const *list)
{
    if (!is_el(n))
        return 0;
    for (; *list; list++)
        if (strcasecmp((const char *)n->name, *list) == 0)
            return 1;
    return 0;
}

static char *get_attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

/* Lowercased "class id" of n (never NULL). */
static char *class_and_id(const xmlNode *n)
{
    struct strbuf sb = STRBUF_INIT;
    static const char *const names[] = {"class", "id", "itemprop", NULL};
    for (const char *const *a = names; *a; a++) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *)*a);
        if (!v)
            continue;
        sb_append(&sb, (const char *)v);
        sb_append_char(&sb, ' ');
        xmlFree(v);
    }
    char *s = sb_detach(&sb);
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

static int contains_any(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strstr(s, *words))
            return 1;
    return 0;
}

static const char *const BLOCK_TAGS[] = {
    "p",   "div", "section", "article", "main",    "header",     "footer",     "aside",
    "nav", "ul",  "ol",      "li",      "dl",      "dt",         "dd",         "h1",
    "h2",  "h3",  "h4",      "h5",      "h6",      "blockquote", "pre",        "table",
    "tr",  "td",  "th",      "thead",   "tbody",   "figure",     "figcaption", "form",
    "hr",  "br",  "address", "center",  "details", "summary",    "fieldset",   NULL};

/* Elements whose content is never reader text. */
static const char *const JUNK_TAGS[] = {"script", "style",  "noscript", "iframe",   "svg",
                                        "canvas", "button", "select",   "textarea", "input",
                                        "nav",    "aside",  "footer",   "template", "object",
                                        "embed",  "head",   "label",    "menu",     NULL};

static const char *const NEGATIVE[] = {
    "comment",      "sidebar",     "footer",       "masthead",     "menu",      "navbar",
    "nav-",         "share",       "social",       "related",      "promo",     "advert",
    "sponsor",      "subscribe",   "newsletter",   "breadcrumb",   "popup",     "modal",
    "cookie",       "disqus",      "widget",       "outbrain",     "taboola",   "banner",
    "skyscraper",   "pagination",  "pager",        "rss",          "signup",    "login",
    "toolbar",      "tools",       "print",        "hidden",       "recommend", "trending",
    "most-popular", "mostpopular", "more-stories", "ad-container", "dfp",       NULL};

static const char *const POSITIVE[] = {"article", "body",  "content", "entry",  "main",
                                       "post",    "story", "text",    "hentry", NULL};

/* 1 when the "class id itemprop" words ci name something other than article
 * text. Judged per word: "related-content" or "article-tools" (a negative
 * word inside the word) is junk, although "content" and "article" are
 * positive; "story-body related" is not, "story-body" being purely positive. */
static int class_says_junk(const char *ci)
{
    int negative = 0, positive = 0;
    for (const char *p = ci; *p;) {
        size_t n = strcspn(p, " \t\n");
        char word[128];
        snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word ? n : sizeof word - 1), p);
        int neg = contains_any(word, NEGATIVE);
        negative |= neg;
        positive |= !neg && contains_any(word, POSITIVE);
        p += n;
        p += strspn(p, " \t\n");
    }
    return negative && !positive;
}

/* 1 when the subtree at n should not contribute article text. */
static int is_junk(const xmlNode *n)
{
    if (name_in(n, JUNK_TAGS))
        return 1;
    if (name_is(n, "body") || name_is(n, "html") || name_is(n, "a"))
        return 0;
    char *ci = class_and_id(n);
    int junk = *ci && class_says_junk(ci);
    if (!junk && strstr(ci, "comment") && !strstr(ci, "article"))
        junk = 1; /* comments are extracted separately, never mixed into the article */
    free(ci);
    if (!junk) {
        char *style = get_attr(n, "style");
        if (style) {
            junk = strstr(style, "display:none") || strstr(style, "display: none");
            free(style);
        }
    }
    return junk;
}

/* Text of the subtree at n, junk included (caller decides), not normalised.
 * *link_chars counts the bytes inside <a>. */
static void append_text(struct strbuf *sb, const xmlNode *n, int in_link, size_t *link_chars,
                        int depth)
{
    if (depth > MAX_DEPTH)
        return;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            size_t before = sb->len;
            if (c->content)
                sb_append(sb, (const char *)c->content);
            if (in_link && link_chars)
                *link_chars += sb->len - before;
        } else if (is_el(c) && !name_in(c, JUNK_TAGS)) {
            if (name_in(c, BLOCK_TAGS))
                sb_append_char(sb, ' ');
            append_text(sb, c, in_link || name_is(c, "a"), link_chars, depth + 1);
        }
    }
}

static char *node_plain(const xmlNode *n)
{
    struct strbuf sb = STRBUF_INIT;
    append_text(&sb, n, 0, NULL, 0);
    text_normalize_ws(&sb);
    char *s = sb_detach(&sb);
    if (!*s) {
        free(s);
        return NULL;
    }
    return s;
}

/* ---- metadata --------------------------------------------------------------- */

/* content= of the first <meta> whose name, property or itemprop is one of keys
 * (in the order of keys). */
static char *meta_content(const xmlNode *n, const char *key, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_el(c))
            continue;
        if (name_is(c, "meta")) {
            static const char *const attrs[] = {"name", "property", "itemprop"};
            for (size_t i = 0; i < FS_ARRAY_LEN(attrs); i++) {
                char *v = get_attr(c, attrs[i]);
                int hit = v && strcasecmp(v, key) == 0;
                free(v);
                if (!hit)
                    continue;
                char *content = get_attr(c, "content");
                if (content && *text_normalize_ws_str(content))
                    return content;
                free(content);
            }
            continue;
        }
        char *r = meta_content(c, key, depth + 1);
        if (r)
            return r;
    }
    return NULL;
}

static char *meta_first(const xmlNode *root, const char *const *keys)
{
    for (; *keys; keys++) {
        char *v = meta_content(root, *keys, 0);
        if (v)
            return v;
    }
    return NULL;
}

static const xmlNode *find_first(const xmlNode *n, const char *name, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_el(c))
            continue;
        if (name_is(c, name))
            return c;
        const xmlNode *r = find_first(c, name, depth + 1);
        if (r)
            return r;
    }
    return NULL;
}

static char *page_title(const xmlNode *root)
{
    static const char *const keys[] = {"og:title", "twitter:title", "headline", NULL};
    char *t = meta_first(root, keys);
    if (!t)
        t = node_plain(find_first(root, "title", 0) ? find_first(root, "title", 0) : root);
    if (!t || strlen(t) > 2000) {
        free(t);
        const xmlNode *h1 = find_first(root, "h1", 0);
        t = h1 ? node_plain(h1) : NULL;
    }
    return t;
}

static int64_t page_time(const xmlNode *root)
{
    static const char *const keys[] = {"article:published_time",
                                       "og:published_time",
                                       "datePublished",
                                       "pubdate",
                                       "publishdate",
                                       "DC.date.issued",
                                       "dc.date",
                                       "sailthru.date",
                                       "parsely-pub-date",
                                       "date",
                                       "article:modified_time",
                                       NULL};
    int64_t t = 0;
    char *v = meta_first(root, keys);
    if (!v) {
        const xmlNode *tm = find_first(root, "time", 0);
        v = tm ? get_attr(tm, "datetime") : NULL;
    }
    if (v && time_parse_any(text_normalize_ws_str(v), &t) < 0)
        t = 0;
    free(v);
    return t;
}

static char *page_author(const xmlNode *root)
{
    static const char *const keys[] = {
        "author", "article:author", "parsely-author", "sailthru.author", "byl", "dc.creator", NULL};
    char *a = meta_first(root, keys);
    if (a && url_is_http_or_https(a)) {
        free(a);
        a = NULL;
    }
    return a;
}

/* ---- article scoring -------------------------------------------------------- */

/* What the scoring needs of an element's text, as append_text() collects it
 * (junk tags left out, a space before each block), measured for every element
 * once, bottom up, before scoring. Scoring used to collect the text again for
 * every paragraph and every candidate, each time walking the whole subtree:
 * O(size x depth), 11 ms for a 7 KB page of 250 nested blocks, which held the
 * HTML fuzz target near 130 inputs/s. */
struct node_text {
    size_t text;  /* bytes of its text nodes */
    size_t raw;   /* those and the spaces put before blocks */
    size_t links; /* bytes of text inside <a> */
    size_t commas;
    struct text_ws_len norm; /* its length once whitespace is normalised */
};

/* One per measured element (its index + 1 kept in _private while scoring). */
struct candidate {
    xmlNode *node;
    struct node_text t;
    int scored; /* a candidate container: listed in scoring.order */
    double score;
};

struct scoring {
    struct candidate *c;
    size_t n, cap;
    size_t *order; /* the candidates, in the order they were first scored */
    size_t n_order, cap_order;
};

static double class_weight(const xmlNode *n)
{
    char *ci = class_and_id(n);
    double w = 0;
    if (contains_any(ci, POSITIVE))
        w += 25;
    if (contains_any(ci, NEGATIVE))
        w -= 25;
    free(ci);
    return w;
}

static double tag_weight(const xmlNode *n)
{
    static const char *const plus5[] = {"div", "article", "main", "section", NULL};
    static const char *const plus3[] = {"pre", "td", "blockquote", NULL};
    static const char *const minus3[] = {"address", "ol", "ul",   "dl", "dd",
                                         "dt",      "li", "form", NULL};
    static const char *const minus5[] = {"h1", "h2", "h3", "h4", "h5", "h6", "th", NULL};
    if (name_in(n, plus5))
        return 5;
    if (name_in(n, plus3))
        return 3;
    if (name_in(n, minus3))
        return -3;
    if (name_in(n, minus5))
        return -5;
    return 0;
}

static struct candidate *record_find(const struct scoring *s, const xmlNode *n)
{
    uintptr_t idx = (uintptr_t)n->_private;
    if (idx && idx <= s->n && s->c[idx - 1].node == n)
        return &s->c[idx - 1];
    return NULL;
}

static size_t record_add(struct scoring *s, xmlNode *n, const struct node_text *t)
{
    s->c = xgrow(s->c, s->n, &s->cap, sizeof *s->c, 64);
    s->c[s->n] = (struct candidate){n, *t, 0, 0.0};
    n->_private = (void *)(uintptr_t)++s->n;
    return s->n - 1;
}

/* Measures the subtree at n (every element in it gets its record); returns
 * the index of n's record. */
static size_t measure(struct scoring *s, xmlNode *n, int depth)
{
    static const struct text_ws_len space = {0, 0, 1, 1};
    struct node_text t = {0};
    for (xmlNode *c = depth > MAX_DEPTH ? NULL : n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            const char *p = c->content ? (const char *)c->content : "";
            size_t len = strlen(p);
            struct text_ws_len w;
            text_ws_measure(p, len, &w);
            text_ws_join(&t.norm, &w);
            t.text += len;
            t.raw += len;
            for (const char *q = strchr(p, ','); q; q = strchr(q + 1, ','))
                t.commas++;
        } else if (is_el(c) && !name_in(c, JUNK_TAGS)) {
            if (name_in(c, BLOCK_TAGS)) {
                text_ws_join(&t.norm, &space);
                t.raw++;
            }
            size_t j = measure(s, c, depth + 1); /* may move s->c */
            const struct node_text *ct = &s->c[j].t;
            t.text += ct->text;
            t.raw += ct->raw;
            t.links += name_is(c, "a") ? ct->text : ct->links;
            t.commas += ct->commas;
            text_ws_join(&t.norm, &ct->norm);
        }
    }
    return record_add(s, n, &t);
}

/* n's record, measured now if it has none yet. */
static struct candidate *record_of(struct scoring *s, xmlNode *n)
{
    struct candidate *r = record_find(s, n);
    if (r)
        return r;
    size_t i = measure(s, n, 0); /* may move s->c */
    return &s->c[i];
}

/* n's record as a scored candidate (scored from its tag and class on first use). */
static struct candidate *candidate_of(struct scoring *s, xmlNode *n)
{
    struct candidate *r = record_of(s, n);
    if (!r->scored) {
        r->scored = 1;
        r->score = tag_weight(n) + class_weight(n);
        s->order = xgrow(s->order, s->n_order, &s->cap_order, sizeof *s->order, 64);
        s->order[s->n_order++] = (size_t)(r - s->c);
    }
    return r;
}

static int has_block_child(const xmlNode *n)
{
    for (const xmlNode *c = n->children; c; c = c->next)
        if (name_in(c, BLOCK_TAGS) && !name_is(c, "br"))
            return 1;
    return 0;
}

static void score_paragraph(struct scoring *s, xmlNode *p)
{
    const struct node_text *t = &record_of(s, p)->t;
    size_t len = text_ws_normalized_len(&t->norm);
    if (len < 25)
        return;
    double pts = 1 + (double)t->commas;
    pts += len / 100 < 3 ? (double)(len / 100) : 3;
    xmlNode *up = p->parent;
    for (int level = 0; level < 3 && is_el(up); level++, up = up->parent)
        candidate_of(s, up)->score += level == 0 ? pts : pts / (level * 2);
}

static void score_tree(struct scoring *s, xmlNode *n, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (!is_el(c) || is_junk(c))
            continue;
        if (name_is(c, "p") || name_is(c, "pre") || (name_is(c, "div") && !has_block_child(c)))
            score_paragraph(s, c);
        score_tree(s, c, depth + 1);
    }
}

static double link_density(struct scoring *s, xmlNode *n)
{
    const struct node_text *t = &record_of(s, n)->t;
    return t->raw ? (double)t->links / (double)t->raw : 0;
}

/* The candidate record of n when it was scored, else NULL. */
static const struct candidate *candidate_find(const struct scoring *s, const xmlNode *n)
{
    const struct candidate *r = record_find(s, n);
    return r && r->scored ? r : NULL;
}

static double final_score(struct scoring *s, size_t i)
{
    return s->c[i].score * (1 - link_density(s, s->c[i].node));
}

static int same_class(const xmlNode *a, const xmlNode *b)
{
    char *ca = get_attr(a, "class"), *cb = get_attr(b, "class");
    int same = ca && cb && *ca && strcmp(ca, cb) == 0;
    free(ca);
    free(cb);
    return same;
}

/* A bare <p> beside the best container that reads as body text. */
static int sibling_paragraph(struct scoring *s, xmlNode *n)
{
    if (!name_is(n, "p"))
        return 0;
    char *t = node_plain(n);
    size_t len = t ? strlen(t) : 0;
    int sentence = len && (t[len - 1] == '.' || strstr(t, ". "));
    free(t);
    double links = link_density(s, n);
    return (len >= 80 && links < 0.25) || (len > 0 && links == 0 && sentence);
}

/* Whether sibling n of the best container (final score best_score) belongs to
 * the article too: a body split into several blocks by ads or related links
 * ("entry-content", ad, "entry-content", box, "entry-content") is kept whole.
 * A scored sibling counts from a fifth of the best score (at least 10), with a
 * bonus for sharing the best block's class. */
static int sibling_belongs(struct scoring *s, const xmlNode *best, double best_score, xmlNode *n)
{
    if (n == best)
        return 1;
    if (!is_el(n) || is_junk(n))
        return 0;
    double threshold = best_score * 0.2 > 10 ? best_score * 0.2 : 10;
    const struct candidate *c = candidate_find(s, n);
    if (c) {
        double score =
            final_score(s, (size_t)(c - s->c)) + (same_class(n, best) ? best_score * 0.2 : 0);
        if (score >= threshold)
            return 1;
    }
    return sibling_paragraph(s, n);
}

struct node_list {
    xmlNode **v;
    size_t n, cap;
};

static void node_list_add(struct node_list *l, xmlNode *n)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = n;
}

/* The article's blocks in document order: the best-scored container and those
 * of its siblings that belong with it (the body when nothing scores). */
static void article_blocks(xmlNode *body, struct node_list *out)
{
    struct scoring s = {0};
    xmlNode *top = body;
    while (is_el(top->parent))
        top = top->parent;
    measure(&s, top, 0);
    score_tree(&s, body, 0);
    xmlNode *best = NULL;
    double best_score = 0;
    for (size_t i = 0; i < s.n_order; i++) {
        double score = final_score(&s, s.order[i]);
        if (!best || score > best_score)
            best = s.c[s.order[i]].node, best_score = score;
    }
    if (!best || !is_el(best->parent)) {
        node_list_add(out, best ? best : body);
    } else {
        for (xmlNode *c = best->parent->children; c; c = c->next)
            if (sibling_belongs(&s, best, best_score, c))
                node_list_add(out, c);
    }
    for (size_t i = 0; i < s.n; i++)
        s.c[i].node->_private = NULL;
    free(s.c);
    free(s.order);
}

/* ---- paragraph output ------------------------------------------------------- */

struct para_out {
    struct strbuf text; /* paragraphs joined by "\n\n" */
    struct strbuf cur;  /* the paragraph being collected */
    size_t cur_links;   /* bytes of cur inside <a> */
};

static void para_flush(struct para_out *po)
{
    text_normalize_ws(&po->cur);
    int link_heavy = po->cur.len < 200 && po->cur_links * 10 > po->cur.len * 6;
    if (po->cur.len && !link_heavy) {
        if (po->text.len)
            sb_append(&po->text, "\n\n");
        sb_append_n(&po->text, po->cur.buf, po->cur.len);
    }
    sb_reset(&po->cur);
    po->cur_links = 0;
}

static void para_walk(struct para_out *po, const xmlNode *n, int in_link, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            size_t before = po->cur.len;
            if (c->content)
                sb_append(&po->cur, (const char *)c->content);
            if (in_link)
                po->cur_links += po->cur.len - before;
            continue;
        }
        if (!is_el(c) || is_junk(c))
            continue;
        int block = name_in(c, BLOCK_TAGS);
        if (block)
            para_flush(po);
        para_walk(po, c, in_link || name_is(c, "a"), depth + 1);
        if (block)
            para_flush(po);
    }
}

/* 1 when paragraph p (n bytes) reads as the start of the article: a long
 * paragraph, or one that ends like a sentence. */
static int opens_article(const char *p, size_t n)
{
    if (n >= 120)
        return 1;
    while (n && strchr("\"')]", p[n - 1]))
        n--;
    if (n >= 3 &&
        (memcmp(p + n - 3, "\xE2\x80\x9D", 3) == 0 || memcmp(p + n - 3, "\xE2\x80\x99", 3) == 0))
        n -= 3; /* closing curly quotes */
    if (n >= 3 && memcmp(p + n - 3, "\xE2\x80\xA6", 3) == 0)
        return 1; /* ellipsis */
    return n && strchr(".!?:", p[n - 1]);
}

/* Drops the short lines before the article's first sentence ("Related
 * Content", "AP - 53 mins ago", a byline, a repeated headline). A text with no
 * such sentence is kept whole. */
static void drop_leading_boilerplate(struct strbuf *text)
{
    size_t start = 0;
    while (start < text->len) {
        const char *p = text->buf + start;
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) : text->len - start;
        if (opens_article(p, n))
            break;
        if (!end)
            return; /* nothing reads as a sentence: keep everything */
        start += n + 2;
    }
    if (start && start < text->len) {
        memmove(text->buf, text->buf + start, text->len - start);
        sb_truncate(text, text->len - start);
    }
}

static char *article_text(const struct node_list *blocks)
{
    struct para_out po = {STRBUF_INIT, STRBUF_INIT, 0};
    for (size_t i = 0; i < blocks->n; i++) {
        para_flush(&po);
        para_walk(&po, blocks->v[i], 0, 0);
    }
    para_flush(&po);
    sb_free(&po.cur);
    drop_leading_boilerplate(&po.text);
    return sb_detach(&po.text);
}

int html_extract_article(const char *body, size_t len, const char *charset, const char *url,
                         struct html_article *out, struct fs_error *err)
{
    memset(out, 0, sizeof *out);
    htmlDocPtr doc = html_read(body, len, charset, url, err);
    if (!doc)
        return -1;
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *bnode = (xmlNode *)find_first(root, "body", 0);
    out->title = page_title(root);
    out->author = page_author(root);
    out->published_at = page_time(root);
    struct node_list blocks = {0};
    article_blocks(bnode ? bnode : root, &blocks);
    out->text = article_text(&blocks);
    free(blocks.v);
    xmlFreeDoc(doc);
    return 0;
}

void html_article_free(struct html_article *a)
{
    if (!a)
        return;
    free(a->title);
    free(a->text);
    free(a->author);
    memset(a, 0, sizeof *a);
}

/* ---- comments --------------------------------------------------------------- */

struct comment_list {
    struct feed_item *v;
    size_t n, cap;
};

static struct feed_item *comment_add(struct comment_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    memset(&l->v[l->n], 0, sizeof l->v[0]);
    return &l->v[l->n++];
}

/* Inside a comment, headers and footers hold the author and date: keep them. */
static const char *const UNIT_SKIP_TAGS[] = {"script",   "style", "noscript", "template",
                                             "iframe",   "svg",   "button",   "select",
                                             "textarea", "input", "form",     NULL};

/* Units are marked through _private while comments are extracted, so that a
 * reply nested inside a comment is not read twice. */
#define UNIT_MARK ((void *)1)

static void unit_text_walk(struct strbuf *sb, const xmlNode *n, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content)
                sb_append(sb, (const char *)c->content);
        } else if (is_el(c) && c->_private != UNIT_MARK && !name_in(c, UNIT_SKIP_TAGS)) {
            if (name_in(c, BLOCK_TAGS))
                sb_append_char(sb, ' ');
            unit_text_walk(sb, c, depth + 1);
        }
    }
}

static char *unit_text(const xmlNode *n)
{
    struct strbuf sb = STRBUF_INIT;
    unit_text_walk(&sb, n, 0);
    text_normalize_ws(&sb);
    char *s = sb_detach(&sb);
    if (!*s) {
        free(s);
        return NULL;
    }
    return s;
}

static int is_ancestor(const xmlNode *a, const xmlNode *n)
{
    for (const xmlNode *p = n->parent; p; p = p->parent)
        if (p == a)
            return 1;
    return 0;
}

/* Depth-first search inside a unit (not entering nested units) for the element
 * that best fits `want` words and avoids `avoid` words: the first one when
 * longest == 0, the one with the longest text otherwise. */
static const xmlNode *unit_find(const xmlNode *n, const char *const *want, const char *const *avoid,
                                int longest, size_t *best_len, const xmlNode *best, int depth)
{
    if (depth > MAX_DEPTH)
        return best;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_el(c) || c->_private == UNIT_MARK || name_in(c, UNIT_SKIP_TAGS))
            continue;
        char *ci = class_and_id(c);
        char *rel = get_attr(c, "rel");
        int hit = (contains_any(ci, want) || (rel && contains_any(rel, want))) &&
                  !contains_any(ci, avoid);
        free(ci);
        free(rel);
        if (hit) {
            char *t = unit_text(c);
            size_t len = t ? strlen(t) : 0;
            free(t);
            if (len && !longest)
                return c;
            /* a part inside the best so far that holds most of its text is the
             * more precise choice (the message inside "comment-body") */
            int inner = best && len * 2 >= *best_len && is_ancestor(best, c);
            if (len > *best_len || (len && inner))
                best = c, *best_len = len;
        }
        best = unit_find(c, want, avoid, longest, best_len, best, depth + 1);
        if (best && !longest)
            return best;
    }
    return best;
}

/* A link to a user profile: the usual way comment systems show an author. */
static const xmlNode *profile_link(const xmlNode *n, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    static const char *const hints[] = {"profile", "/user", "/u/", "member", "/people/", NULL};
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_el(c) || c->_private == UNIT_MARK)
            continue;
        if (name_is(c, "a")) {
            char *href = get_attr(c, "href");
            if (href)
                for (char *p = href; *p; p++)
                    *p = (char)tolower((unsigned char)*p);
            int hit = href && contains_any(href, hints);
            free(href);
            if (hit)
                return c;
        }
        const xmlNode *r = profile_link(c, depth + 1);
        if (r)
            return r;
    }
    return NULL;
}

static char *unit_author(const xmlNode *unit)
{
    static const char *const want[] = {"author",   "user",      "byline", "screenname",
                                       "nickname", "commenter", "poster", NULL};
    static const char *const avoid[] = {"avatar", "img", "photo", "pic", "body", "text", NULL};
    size_t len = 0;
    const xmlNode *a = unit_find(unit, want, avoid, 0, &len, NULL, 0);
    if (!a)
        a = profile_link(unit, 0);
    char *t = a ? unit_text(a) : NULL;
    if (t && strlen(t) > 100) {
        free(t);
        t = NULL;
    }
    return t;
}

static char *unit_body(const xmlNode *unit)
{
    static const char *const want[] = {"body", "text", "content", "message", "post", "entry", NULL};
    static const char *const avoid[] = {"head", "author", "meta",   "footer", "action", "reply",
                                        "vote", "user",   "avatar", "date",   NULL};
    size_t len = 0;
    const xmlNode *b = unit_find(unit, want, avoid, 1, &len, NULL, 0);
    return unit_text(b ? b : unit);
}

/* Reads "H:MM [AM|PM]" at p into *h / *mi. Returns 0 or -1. */
static int prose_clock(const char *p, int *h, int *mi)
{
    char *end;
    long hh = strtol(p, &end, 10);
    if (end == p || end - p > 2 || *end != ':' || !isdigit((unsigned char)end[1]) ||
        !isdigit((unsigned char)end[2]))
        return -1;
    long mm = strtol(end + 1, &end, 10);
    while (*end == ' ')
        end++;
    int pm = strncasecmp(end, "pm", 2) == 0 || strncasecmp(end, "p.m.", 4) == 0;
    int am = strncasecmp(end, "am", 2) == 0 || strncasecmp(end, "a.m.", 4) == 0;
    if ((am || pm) && (hh < 1 || hh > 12))
        return -1;
    if (pm && hh != 12)
        hh += 12;
    if (am && hh == 12)
        hh = 0;
    *h = (int)hh, *mi = (int)mm;
    return 0;
}

/* Finds "Month D, YYYY" (full or three-letter month), optionally followed by
 * "[,] [at] H:MM [AM|PM]", in free text such as "On December 23, 2014, at 10:41
 * PM, alice wrote:". The time is taken as UTC. Returns 0 and sets *out, or -1. */
static int find_prose_date(const char *s, int64_t *out)
{
    static const char *const months[] = {"january",   "february", "march",    "april",
                                         "may",       "june",     "july",     "august",
                                         "september", "october",  "november", "december"};
    for (const char *p = s; *p; p++) {
        if (!isalpha((unsigned char)*p) || (p > s && isalpha((unsigned char)p[-1])))
            continue;
        for (int m = 0; m < 12; m++) {
            size_t full = strlen(months[m]), n = 0;
            if (strncasecmp(p, months[m], full) == 0)
                n = full;
            else if (strncasecmp(p, months[m], 3) == 0 && !isalpha((unsigned char)p[3]))
                n = p[3] == '.' ? 4 : 3;
            if (!n)
                continue;
            char *end;
            const char *q = p + n;
            while (*q == ' ')
                q++;
            long d = strtol(q, &end, 10);
            if (end == q || end - q > 2 || *end != ',')
                continue;
            q = end + 1;
            while (*q == ' ')
                q++;
            long y = strtol(q, &end, 10);
            if (end - q != 4)
                continue;
            q = end;
            while (*q == ',' || *q == ' ')
                q++;
            if (strncasecmp(q, "at ", 3) == 0)
                q += 3;
            int h = 0, mi = 0;
            if (prose_clock(q, &h, &mi) < 0)
                h = mi = 0;
            char iso[40];
            snprintf(iso, sizeof iso, "%04ld-%02d-%02ldT%02d:%02d:00Z", y, m + 1, d, h, mi);
            if (time_parse_iso8601(iso, out) == 0)
                return 0;
        }
    }
    return -1;
}

/* Reads an epoch time in seconds (up to 10 digits) or milliseconds (13). */
static int parse_epoch(const char *v, int64_t *out)
{
    size_t n = strspn(v, "0123456789");
    if (v[n] || (n != 9 && n != 10 && n != 13))
        return -1;
    *out = strtoll(v, NULL, 10) / (n == 13 ? 1000 : 1);
    return 0;
}

/* The time an element states in its attributes: datetime= on any element;
 * title= (<abbr title="2011-08-25T02:30:00+0000">) or an epoch data-utime= /
 * data-timestamp= / data-time= on an <abbr> or an element whose class or id
 * mentions time or date. Returns 0 and sets *out, or -1. */
static int element_time(const xmlNode *n, int64_t *out)
{
    char *v = get_attr(n, "datetime");
    int ok = v && time_parse_any(v, out) == 0;
    free(v);
    if (ok)
        return 0;
    char *ci = class_and_id(n);
    int timeish = name_is(n, "abbr") || strstr(ci, "time") || strstr(ci, "date");
    free(ci);
    if (!timeish)
        return -1;
    static const char *const epoch_attrs[] = {"data-utime", "data-timestamp", "data-time", NULL};
    v = get_attr(n, "title");
    ok = v && time_parse_any(text_normalize_ws_str(v), out) == 0;
    free(v);
    for (const char *const *a = epoch_attrs; !ok && *a; a++) {
        v = get_attr(n, *a);
        ok = v && parse_epoch(v, out) == 0;
        free(v);
    }
    return ok ? 0 : -1;
}

/* The first element_time in the subtree at n, not entering nested units. */
static int find_element_time(const xmlNode *n, int64_t *out, int depth)
{
    if (depth > MAX_DEPTH)
        return -1;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_el(c) || c->_private == UNIT_MARK || name_in(c, UNIT_SKIP_TAGS))
            continue;
        if (element_time(c, out) == 0 || find_element_time(c, out, depth + 1) == 0)
            return 0;
    }
    return -1;
}

/* The time of a comment: one stated in the markup of the unit (or of the
 * scope around it), else a date written in prose in the part before the body
 * (the whole scope text when body is NULL). 0 when none. */
static int64_t unit_time(const xmlNode *unit, const char *body)
{
    int64_t t = 0;
    if (find_element_time(unit, &t, 0) == 0)
        return t;
    char *all = unit_text(unit);
    const char *at = all && body ? strstr(all, body) : all;
    if (at && body)
        all[at - all] = '\0';
    if (!all || find_prose_date(all, &t) < 0)
        t = 0;
    free(all);
    return t;
}

/* 1 when the subtree at n holds a unit other than `unit` (not looking inside
 * `unit` itself). */
static int holds_other_unit(const xmlNode *n, const xmlNode *unit, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_el(c) || c == unit)
            continue;
        if (c->_private == UNIT_MARK || holds_other_unit(c, unit, depth + 1))
            return 1;
    }
    return 0;
}

/* The whole comment around a unit that is only its text: the outermost of the
 * unit's three nearest ancestors that holds no other unit (so the nickname
 * and the time beside "comment-text" are found). The unit itself when its
 * parent already holds other comments. */
static const xmlNode *unit_scope(const xmlNode *unit)
{
    const xmlNode *scope = unit;
    for (int level = 0; level < 3; level++) {
        const xmlNode *up = scope->parent;
        if (!is_el(up) || name_is(up, "body") || name_is(up, "html") || up->_private == UNIT_MARK ||
            holds_other_unit(up, unit, 0))
            break;
        scope = up;
    }
    return scope;
}

static char *page_url_with(const char *url, const char *id)
{
    if (!url)
        return NULL;
    size_t n = strcspn(url, "#");
    struct strbuf sb = STRBUF_INIT;
    sb_append_n(&sb, url, n);
    if (id) {
        sb_append_char(&sb, '#');
        sb_append(&sb, id);
    }
    return sb_detach(&sb);
}

/* The id attribute of n, NULL when absent or blank. */
static char *unit_id(const xmlNode *n)
{
    char *id = get_attr(n, "id");
    if (id && !*text_normalize_ws_str(id)) {
        free(id);
        id = NULL;
    }
    return id;
}

static void comment_from_unit(struct comment_list *l, const xmlNode *unit, const char *url)
{
    char *text = unit_body(unit);
    if (!text)
        return;
    struct feed_item *it = comment_add(l);
    it->text = text;
    it->author = unit_author(unit);
    it->published_at = unit_time(unit, text);
    it->guid = unit_id(unit);
    const xmlNode *scope = NULL;
    if (!it->author || !it->published_at || !it->guid)
        scope = unit_scope(unit);
    if (scope && scope != unit) {
        /* the unit is only the text: the author, time and id are beside it */
        if (!it->author)
            it->author = unit_author(scope);
        if (!it->published_at)
            it->published_at = unit_time(scope, NULL);
        if (!it->guid)
            it->guid = unit_id(scope);
    }
    it->url = page_url_with(url, it->guid);
}

static void comments_from_nodes(struct comment_list *l, xmlNode **nodes, size_t n, const char *url)
{
    for (size_t i = 0; i < n; i++)
        nodes[i]->_private = UNIT_MARK;
    for (size_t i = 0; i < n; i++)
        comment_from_unit(l, nodes[i], url);
    for (size_t i = 0; i < n; i++)
        nodes[i]->_private = NULL;
}

/* ---- default comment selection ---------------------------------------------- */

struct group {
    char *sig;
    xmlNode **nodes;
    size_t n, cap;
    int depth; /* depth of the first member */
};

struct groups {
    struct group *g;
    size_t n, cap;
};

static int is_container_name(const char *ci)
{
    static const char *const words[] = {
        "count",  "form",   "respond", "button",     "reply-link", "toggle",     "icon",
        "policy", "closed", "login",   "list",       "area",       "section",    "container",
        "wrap",   "header", "title",   "nav",        "link",       "guidelines", "rules",
        "sort",   "load",   "more",    "pagination", NULL};
    if (contains_any(ci, words))
        return 1;
    /* a "comments" token names the block that holds all comments */
    const char *p = ci;
    while ((p = strstr(p, "comments")) != NULL) {
        int start = p == ci || !isalnum((unsigned char)p[-1]);
        int end = !isalnum((unsigned char)p[8]) && p[8] != '-' && p[8] != '_';
        if (start && end)
            return 1;
        p += 8;
    }
    return 0;
}

/* Appends the class tokens of cls that mention "comment" (so "comment even
 * depth-1" and "comment odd depth-2" share the signature "li.comment"). */
static void append_comment_tokens(struct strbuf *sb, const char *cls)
{
    const char *p = cls;
    while (*p) {
        while (*p && isspace((unsigned char)*p))
            p++;
        size_t n = 0;
        while (p[n] && !isspace((unsigned char)p[n]))
            n++;
        char tok[128];
        snprintf(tok, sizeof tok, "%.*s", (int)(n < 127 ? n : 127), p);
        if (strstr(tok, "comment")) {
            sb_append_char(sb, '.');
            sb_append(sb, tok);
        }
        p += n;
    }
}

/* "tag.comment-tokens" or "tag#id-without-digits" when n looks like part of a
 * comment, else NULL. */
static char *comment_signature(const xmlNode *n)
{
    char *cls = get_attr(n, "class"), *id = get_attr(n, "id");
    struct strbuf sb = STRBUF_INIT;
    for (char *p = cls; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (char *p = id; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (cls && strstr(cls, "comment") && !is_container_name(cls)) {
        sb_append(&sb, (const char *)n->name);
        append_comment_tokens(&sb, cls);
    } else if (id && strstr(id, "comment") && !is_container_name(id)) {
        sb_appendf(&sb, "%s#", (const char *)n->name);
        for (const char *p = id; *p; p++)
            if (!isdigit((unsigned char)*p))
                sb_append_char(&sb, *p);
    }
    free(cls);
    free(id);
    return sb.len ? sb_detach(&sb) : NULL;
}

static void group_add(struct groups *gs, char *sig, xmlNode *n, int depth)
{
    struct group *g = NULL;
    for (size_t i = 0; i < gs->n && !g; i++)
        if (strcmp(gs->g[i].sig, sig) == 0)
            g = &gs->g[i];
    if (g) {
        free(sig);
    } else {
        if (gs->n == gs->cap) {
            gs->cap = gs->cap ? gs->cap * 2 : 16;
            gs->g = xrealloc(gs->g, gs->cap * sizeof *gs->g);
        }
        g = &gs->g[gs->n++];
        memset(g, 0, sizeof *g);
        g->sig = sig;
        g->depth = depth;
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->nodes = xrealloc(g->nodes, g->cap * sizeof *g->nodes);
    }
    g->nodes[g->n++] = n;
}

static void collect_groups(struct groups *gs, xmlNode *n, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (!is_el(c) || name_in(c, JUNK_TAGS) || name_is(c, "a"))
            continue;
        char *sig = comment_signature(c);
        if (sig)
            group_add(gs, sig, c, depth);
        collect_groups(gs, c, depth + 1);
    }
}

/* Members of g that hold at least some text. */
static size_t group_with_text(const struct group *g)
{
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++) {
        char *t = unit_text(g->nodes[i]);
        k += t && strlen(t) >= 10;
        free(t);
    }
    return k;
}

static int lone_comment_has_author(const struct group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        char *a = unit_author(g->nodes[i]);
        free(a);
        if (a)
            return 1;
    }
    return 0;
}

/* The largest group of comment-like elements with text; among equals the
 * outermost (a whole comment rather than its head or body). */
static const struct group *pick_comment_group(const struct groups *gs)
{
    const struct group *best = NULL;
    size_t best_k = 0;
    for (size_t i = 0; i < gs->n; i++) {
        size_t k = group_with_text(&gs->g[i]);
        if (!k)
            continue;
        if (!best || k > best_k || (k == best_k && gs->g[i].depth < best->depth))
            best = &gs->g[i], best_k = k;
    }
    if (best && best_k == 1 && !lone_comment_has_author(best))
        return NULL; /* one block of text without an author is a notice, not a comment */
    return best;
}

static void groups_free(struct groups *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].sig);
        free(gs->g[i].nodes);
    }
    free(gs->g);
}

static void comments_default(struct comment_list *l, xmlNode *root, const char *url)
{
    struct groups gs = {0};
    collect_groups(&gs, root, 0);
    const struct group *g = pick_comment_group(&gs);
    if (g)
        comments_from_nodes(l, g->nodes, g->n, url);
    groups_free(&gs);
}

/* ---- XPath selection -------------------------------------------------------- */

static void xpath_silent(void *data, xmlErrorPtr e)
{
    (void)data;
    (void)e;
}

static int comments_xpath(struct comment_list *l, htmlDocPtr doc, const char *xpath,
                          const char *url, struct fs_error *err)
{
    xmlXPathContextPtr xc = xmlXPathNewContext(doc);
    if (!xc)
        return fs_error_set(err, "cannot create an XPath context");
    xc->error = xpath_silent;
    xc->opLimit = HTML_XPATH_MAX_OPS; /* libxml2 stops the evaluation past it */
    xmlXPathObjectPtr res = xmlXPathEvalExpression((const xmlChar *)xpath, xc);
    if (!res && xc->lastError.code == XML_XPATH_EXPRESSION_OK + XPATH_OP_LIMIT_EXCEEDED) {
        xmlXPathFreeContext(xc);
        return fs_error_set(err, "comment XPath \"%.100s\" too costly for this page: stopped "
                                 "after %lu steps",
                            xpath, (unsigned long)HTML_XPATH_MAX_OPS);
    }
    if (!res) {
        char msg[200];
        str_copy(msg, sizeof msg, xc->lastError.message ? xc->lastError.message : "error");
        str_strip_controls(msg);
        xmlXPathFreeContext(xc);
        return fs_error_set(err, "invalid comment XPath \"%.100s\": %s", xpath,
                            text_normalize_ws_str(msg));
    }
    xmlNodeSetPtr set = res->type == XPATH_NODESET ? res->nodesetval : NULL;
    size_t n = set ? (size_t)set->nodeNr : 0, k = 0;
    xmlNode **nodes = xcalloc(n ? n : 1, sizeof *nodes);
    for (size_t i = 0; i < n; i++)
        if (is_el(set->nodeTab[i]))
            nodes[k++] = set->nodeTab[i];
    comments_from_nodes(l, nodes, k, url);
    free(nodes);
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(xc);
    return 0;
}

/* ---- Next.js __NEXT_DATA__ posts -------------------------------------------- */

static int seen_guid(const struct comment_list *l, const char *guid)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].guid && strcmp(l->v[i].guid, guid) == 0)
            return 1;
    return 0;
}

/* A post: an object with a string "body", an "id" and a "user" object. */
static void json_post(struct comment_list *l, const json_t *o, const char *url)
{
    const char *body = json_string_value(json_object_get(o, "body"));
    const json_t *id = json_object_get(o, "id");
    const json_t *user = json_object_get(o, "user");
    if (!body || !json_is_object(user) || !(json_is_integer(id) || json_is_string(id)))
        return;
    char guid[64];
    if (json_is_integer(id))
        snprintf(guid, sizeof guid, "%lld", (long long)json_integer_value(id));
    else
        str_copy(guid, sizeof guid, json_string_value(id));
    char *text = text_html_to_text(body, strlen(body));
    if (!*text || seen_guid(l, guid)) {
        free(text);
        return;
    }
    struct feed_item *it = comment_add(l);
    it->guid = xstrdup(guid);
    it->text = text;
    it->url = page_url_with(url, guid);
    const char *name = json_string_value(json_object_get(user, "username"));
    it->author = name ? xstrdup(name) : NULL;
    const char *at = json_string_value(json_object_get(o, "created_at"));
    if (!at || time_parse_any(at, &it->published_at) < 0)
        it->published_at = 0;
}

static void json_walk(struct comment_list *l, const json_t *j, const char *url, int depth)
{
    if (depth > 64)
        return;
    if (json_is_object(j)) {
        json_post(l, j, url);
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)j, key, v) json_walk(l, v, url, depth + 1);
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            json_walk(l, json_array_get(j, i), url, depth + 1);
    }
}

static const xmlNode *find_by_id(const xmlNode *n, const char *id, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_el(c))
            continue;
        char *v = get_attr(c, "id");
        int hit = v && strcmp(v, id) == 0;
        free(v);
        if (hit)
            return c;
        const xmlNode *r = find_by_id(c, id, depth + 1);
        if (r)
            return r;
    }
    return NULL;
}

static void comments_next_data(struct comment_list *l, const xmlNode *root, const char *url)
{
    const xmlNode *s = find_by_id(root, "__NEXT_DATA__", 0);
    if (!s || !name_is(s, "script"))
        return;
    struct strbuf sb = STRBUF_INIT;
    for (const xmlNode *c = s->children; c; c = c->next)
        if (c->content)
            sb_append(&sb, (const char *)c->content);
    json_t *j = json_loadb(sb.buf, sb.len, 0, NULL);
    sb_free(&sb);
    if (j)
        json_walk(l, j, url, 0);
    json_decref(j);
}

int html_extract_comments(const char *body, size_t len, const char *charset, const char *url,
                          const char *xpath, struct feed_item **items, size_t *n_items,
                          struct fs_error *err)
{
    *items = NULL;
    *n_items = 0;
    htmlDocPtr doc = html_read(body, len, charset, url, err);
    if (!doc)
        return -1;
    xmlNode *root = xmlDocGetRootElement(doc);
    struct comment_list l = {0};
    int rc = 0;
    if (xpath && *xpath) {
        rc = comments_xpath(&l, doc, xpath, url, err);
    } else {
        comments_default(&l, root, url);
        if (l.n == 0)
            comments_next_data(&l, root, url);
    }
    xmlFreeDoc(doc);
    if (rc < 0) {
        html_comments_free(l.v, l.n);
        return -1;
    }
    *items = l.v;
    *n_items = l.n;
    return 0;
}

void html_comments_free(struct feed_item *items, size_t n_items)
{
    for (size_t i = 0; i < n_items; i++) {
        free(items[i].guid);
        free(items[i].url);
        free(items[i].title);
        free(items[i].text);
        free(items[i].author);
    }
    free(items);
}
