/* feed.c — RSS 2.0, RSS 1.0, Atom, JSON Feed and news sitemaps into feed items.
 *
 * One function per format (feed_parse_rss2, feed_parse_rss1, feed_parse_atom,
 * feed_parse_sitemap, feed_parse_json); feed_parse() decodes the charset,
 * detects the format and dispatches. */
#include "crawler/feed.h"

#include "common/strbuf.h"
#include "common/util.h"
#include "crawler/text.h"
#include "crawler/url.h"

#include <ctype.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_ATOM03 "http://purl.org/atom/ns#"
#define NS_RSS1 "http://purl.org/rss/1.0/"
#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_NEWS "http://www.google.com/schemas/sitemap-news/0.9"

/* Matches any namespace in el_is(). */
#define NS_ANY ((const char *)1)

struct feed_ctx {
    struct feed *feed;
    size_t cap;
    const char *base_url;
    xmlDocPtr doc;
};

/* ---- small XML helpers ------------------------------------------------------ */

/* 1 when n is an element called name in namespace ns (NULL: no namespace). */
static int el_is(const xmlNode *n, const char *ns, const char *name)
{
    if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
        return 0;
    if (ns == NS_ANY)
        return 1;
    if (!ns)
        return n->ns == NULL;
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

static xmlNode *child_el(const xmlNode *n, const char *ns, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (el_is(c, ns, name))
            return c;
    return NULL;
}

/* Inline XHTML (Atom type="xhtml") separates paragraphs by elements only. */
static int is_block_name(const char *name)
{
    static const char *const blocks[] = {"p",  "div", "br", "li", "h1",         "h2",  "h3", "h4",
                                         "h5", "h6",  "tr", "td", "blockquote", "pre", NULL};
    for (const char *const *b = blocks; *b; b++)
        if (strcmp(name, *b) == 0)
            return 1;
    return 0;
}

/* Appends the text of n and its descendants. Entity references are skipped on
 * purpose: their expansion is where XXE and entity bombs live. */
static void append_node_text(struct strbuf *sb, const xmlNode *n, int depth)
{
    if (depth > 256)
        return;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content)
                sb_append(sb, (const char *)c->content);
        } else if (c->type == XML_ELEMENT_NODE) {
            if (is_block_name((const char *)c->name))
                sb_append_char(sb, ' ');
            append_node_text(sb, c, depth + 1);
        }
    }
}

/* Raw text of n (NULL when n is NULL). Caller frees. */
static char *node_text(const xmlNode *n)
{
    if (!n)
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    append_node_text(&sb, n, 0);
    return sb_detach(&sb);
}

/* Drops an empty string: returns NULL (and frees s) when s is NULL or "". */
static char *null_if_empty(char *s)
{
    if (s && !*s) {
        free(s);
        return NULL;
    }
    return s;
}

/* Whitespace-normalised plain text of n, NULL when absent or empty. */
static char *plain_text(const xmlNode *n)
{
    char *s = node_text(n);
    return s ? null_if_empty(text_normalize_ws_str(s)) : NULL;
}

/* Text of n read as an HTML fragment (entities decoded, tags removed). */
static char *html_text(const xmlNode *n)
{
    char *raw = node_text(n);
    if (!raw)
        return NULL;
    char *t = text_html_to_text(raw, strlen(raw));
    free(raw);
    return null_if_empty(t);
}

static char *attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

static int64_t node_time(const xmlNode *n)
{
    char *s = plain_text(n);
    int64_t t = 0;
    if (s && time_parse_any(s, &t) < 0)
        t = 0;
    free(s);
    return t;
}

/* Resolves a link against base (the feed URL or an xml:base). Takes raw. */
static char *resolve_link(char *raw, const char *base)
{
    if (!raw)
        return NULL;
    text_normalize_ws_str(raw);
    if (!*raw) {
        free(raw);
        return NULL;
    }
    char *abs = url_resolve(base, raw);
    if (!abs)
        return raw; /* relative without a base: keep what the feed says */
    free(raw);
    return abs;
}

static struct feed_item *add_item(struct feed_ctx *fc)
{
    struct feed *f = fc->feed;
    if (f->n_items == fc->cap) {
        fc->cap = fc->cap ? fc->cap * 2 : 16;
        f->items = xrealloc(f->items, fc->cap * sizeof *f->items);
    }
    struct feed_item *it = &f->items[f->n_items++];
    memset(it, 0, sizeof *it);
    return it;
}

/* Text for an item: the richer content when it has text, else the summary. */
static char *pick_text(char *content, char *summary)
{
    if (content && *content) {
        free(summary);
        return content;
    }
    free(content);
    return summary ? summary : xstrdup("");
}

/* ---- tickers in categories ---------------------------------------------------- */

static int names_tickers(const char *s)
{
    static const char *const words[] = {"ticker", "symbol", "stock", "exchange"};
    for (size_t i = 0; s && i < FS_ARRAY_LEN(words); i++)
        if (strcasestr(s, words[i]))
            return 1;
    return 0;
}

/* "NASDAQ:NVDA", "NYSE: BRK.B": letters, a colon, a symbol, nothing else. */
static int exchange_symbol(const char *s)
{
    const char *c = strchr(s, ':');
    if (!c || c == s)
        return 0;
    for (const char *p = s; p < c; p++)
        if (!isalpha((unsigned char)*p))
            return 0;
    c++;
    while (*c == ' ')
        c++;
    size_t n = 0;
    for (; c[n]; n++)
        if (!isalnum((unsigned char)c[n]) && c[n] != '.' && c[n] != '-')
            return 0;
    return n > 0 && n <= 10;
}

/* Appends the category's value to *tickers when it is a ticker. */
static void category_ticker(struct strbuf *tickers, const xmlNode *c, const char *value_attr)
{
    char *scheme = attr(c, "domain"), *scheme2 = attr(c, "scheme"), *type = attr(c, "type");
    char *v = value_attr ? attr(c, value_attr) : plain_text(c);
    if (v) {
        text_normalize_ws_str(v);
        int is = names_tickers(scheme) || names_tickers(scheme2) ||
                 (type && strcasecmp(type, "symbol") == 0) || exchange_symbol(v);
        if (is && *v && strlen(v) <= 24 && !strchr(v, ','))
            sb_appendf(tickers, "%s%s", tickers->len ? "," : "", v);
    }
    free(scheme), free(scheme2), free(type), free(v);
}

/* Every ticker category of item n (RSS: text, Atom: term). NULL when none. */
static char *item_tickers(const xmlNode *n, const char *ns, const char *value_attr)
{
    struct strbuf sb = STRBUF_INIT;
    for (const xmlNode *c = n->children; c; c = c->next)
        if (el_is(c, ns, "category"))
            category_ticker(&sb, c, value_attr);
    if (!sb.len) {
        sb_free(&sb);
        return NULL;
    }
    return sb_detach(&sb);
}

/* ---- RSS 2.0 ---------------------------------------------------------------- */

static void rss2_item(struct feed_ctx *fc, const xmlNode *n)
{
    struct feed_item *it = add_item(fc);
    it->title = html_text(child_el(n, NULL, "title"));
    it->url = resolve_link(node_text(child_el(n, NULL, "link")), fc->base_url);
    const xmlNode *g = child_el(n, NULL, "guid");
    it->guid = plain_text(g);
    if (!it->url && it->guid && url_is_http_or_https(it->guid)) {
        char *perma = attr(g, "isPermaLink");
        if (!perma || strcasecmp(perma, "false") != 0)
            it->url = xstrdup(it->guid);
        free(perma);
    }
    it->text = pick_text(html_text(child_el(n, NS_CONTENT, "encoded")),
                         html_text(child_el(n, NULL, "description")));
    it->author = plain_text(child_el(n, NULL, "author"));
    if (!it->author)
        it->author = plain_text(child_el(n, NS_DC, "creator"));
    const xmlNode *d = child_el(n, NULL, "pubDate");
    it->published_at = node_time(d ? d : child_el(n, NS_DC, "date"));
    it->tickers = item_tickers(n, NULL, NULL);
}

static int parse_ttl(const xmlNode *n)
{
    char *s = plain_text(n);
    if (!s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    int ok = end != s && *end == '\0' && v >= 0 && v <= 525600; /* one year */
    free(s);
    return ok ? (int)v : -1;
}

static int feed_parse_rss2(struct feed_ctx *fc, const xmlNode *root, struct fs_error *err)
{
    const xmlNode *ch = child_el(root, NULL, "channel");
    if (!ch)
        return fs_error_set(err, "not a feed: <rss> without <channel>");
    fc->feed->format = FEED_RSS2;
    fc->feed->title = html_text(child_el(ch, NULL, "title"));
    fc->feed->ttl_minutes = parse_ttl(child_el(ch, NULL, "ttl"));
    for (const xmlNode *c = ch->children; c; c = c->next)
        if (el_is(c, NULL, "item"))
            rss2_item(fc, c);
    /* RSS 0.91-style documents sometimes put items beside the channel */
    for (const xmlNode *c = root->children; c; c = c->next)
        if (el_is(c, NULL, "item"))
            rss2_item(fc, c);
    return 0;
}

/* ---- RSS 1.0 (RDF) ---------------------------------------------------------- */

static void rss1_item(struct feed_ctx *fc, const xmlNode *n, const char *ns)
{
    struct feed_item *it = add_item(fc);
    xmlChar *about = xmlGetNsProp(n, (const xmlChar *)"about", (const xmlChar *)NS_RDF);
    if (about) {
        it->guid = null_if_empty(text_normalize_ws_str(xstrdup((const char *)about)));
        xmlFree(about);
    }
    it->title = html_text(child_el(n, ns, "title"));
    it->url = resolve_link(node_text(child_el(n, ns, "link")), fc->base_url);
    it->text = pick_text(html_text(child_el(n, NS_CONTENT, "encoded")),
                         html_text(child_el(n, ns, "description")));
    it->author = plain_text(child_el(n, NS_DC, "creator"));
    it->published_at = node_time(child_el(n, NS_DC, "date"));
}

static int feed_parse_rss1(struct feed_ctx *fc, const xmlNode *root, struct fs_error *err)
{
    /* Items and channel live in the RSS 1.0 namespace (or, in RSS 0.90, its own). */
    const xmlNode *ch = child_el(root, NS_ANY, "channel");
    if (!ch)
        return fs_error_set(err, "not a feed: <rdf:RDF> without <channel>");
    const char *ns = ch->ns ? (const char *)ch->ns->href : NULL;
    fc->feed->format = FEED_RSS1;
    fc->feed->title = html_text(child_el(ch, ns, "title"));
    for (const xmlNode *c = root->children; c; c = c->next)
        if (el_is(c, ns, "item"))
            rss1_item(fc, c, ns);
    return 0;
}

/* ---- Atom ------------------------------------------------------------------- */

/* An Atom text construct: type="html" is escaped markup, "xhtml" inline markup,
 * anything else plain text. */
static char *atom_text(const xmlNode *n)
{
    if (!n)
        return NULL;
    char *type = attr(n, "type");
    char *s;
    if (type && (strcasecmp(type, "html") == 0 || strcasecmp(type, "text/html") == 0))
        s = html_text(n);
    else
        s = plain_text(n);
    free(type);
    return s;
}

static char *atom_link(struct feed_ctx *fc, const xmlNode *entry, const char *ns)
{
    const xmlNode *best = NULL;
    for (const xmlNode *c = entry->children; c; c = c->next) {
        if (!el_is(c, ns, "link"))
            continue;
        char *rel = attr(c, "rel");
        int alternate = !rel || strcmp(rel, "alternate") == 0;
        free(rel);
        if (alternate) {
            best = c;
            break;
        }
    }
    char *href = best ? attr(best, "href") : NULL;
    if (!href)
        return NULL;
    xmlChar *base = xmlNodeGetBase(fc->doc, best);
    char *abs_base = base ? url_resolve(fc->base_url, (const char *)base) : NULL;
    char *link = resolve_link(href, abs_base ? abs_base : fc->base_url);
    free(abs_base);
    xmlFree(base);
    return link;
}

static char *atom_author(const xmlNode *n, const char *ns)
{
    const xmlNode *a = child_el(n, ns, "author");
    return a ? plain_text(child_el(a, ns, "name")) : NULL;
}

static void atom_entry(struct feed_ctx *fc, const xmlNode *n, const char *ns,
                       const char *feed_author)
{
    struct feed_item *it = add_item(fc);
    it->guid = plain_text(child_el(n, ns, "id"));
    it->title = atom_text(child_el(n, ns, "title"));
    it->url = atom_link(fc, n, ns);
    it->text =
        pick_text(atom_text(child_el(n, ns, "content")), atom_text(child_el(n, ns, "summary")));
    it->author = atom_author(n, ns);
    if (!it->author && feed_author)
        it->author = xstrdup(feed_author);
    static const char *const dates[] = {"published", "updated", "issued", "modified"};
    for (size_t i = 0; i < FS_ARRAY_LEN(dates) && !it->published_at; i++)
        it->published_at = node_time(child_el(n, ns, dates[i]));
    it->tickers = item_tickers(n, ns, "term");
}

static int feed_parse_atom(struct feed_ctx *fc, const xmlNode *root, struct fs_error *err)
{
    (void)err;
    const char *ns = root->ns ? (const char *)root->ns->href : NULL;
    fc->feed->format = FEED_ATOM;
    fc->feed->title = atom_text(child_el(root, ns, "title"));
    char *feed_author = atom_author(root, ns);
    for (const xmlNode *c = root->children; c; c = c->next)
        if (el_is(c, ns, "entry"))
            atom_entry(fc, c, ns, feed_author);
    free(feed_author);
    return 0;
}

/* ---- Google News sitemap ---------------------------------------------------- */

static void sitemap_url(struct feed_ctx *fc, const xmlNode *n, const char *ns)
{
    char *loc = resolve_link(node_text(child_el(n, ns, "loc")), fc->base_url);
    if (!loc)
        return;
    struct feed_item *it = add_item(fc);
    it->url = loc;
    it->text = xstrdup("");
    const xmlNode *news = child_el(n, NS_NEWS, "news");
    if (!news)
        return;
    it->title = html_text(child_el(news, NS_NEWS, "title"));
    it->published_at = node_time(child_el(news, NS_NEWS, "publication_date"));
    if (!fc->feed->title) {
        const xmlNode *pub = child_el(news, NS_NEWS, "publication");
        fc->feed->title = plain_text(child_el(pub, NS_NEWS, "name"));
    }
}

static int feed_parse_sitemap(struct feed_ctx *fc, const xmlNode *root, struct fs_error *err)
{
    (void)err;
    const char *ns = root->ns ? (const char *)root->ns->href : NULL;
    fc->feed->format = FEED_SITEMAP;
    for (const xmlNode *c = root->children; c; c = c->next)
        if (el_is(c, ns, "url"))
            sitemap_url(fc, c, ns);
    return 0;
}

/* ---- JSON Feed -------------------------------------------------------------- */

/* A copy of a JSON string without the NULs "\u0000" may put in it (the feed is
 * read with JSON_ALLOW_NUL: one such character must not cost the whole feed),
 * or NULL when v is not a string. */
static char *json_string_copy(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return NULL;
    size_t n = json_string_length(v), k = 0;
    char *out = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\0')
            out[k++] = s[i];
    out[k] = '\0';
    return out;
}

static char *json_str(const json_t *obj, const char *key)
{
    char *s = json_string_copy(json_object_get(obj, key));
    return s ? null_if_empty(text_normalize_ws_str(s)) : NULL;
}

static char *json_html(const json_t *obj, const char *key)
{
    char *s = json_string_copy(json_object_get(obj, key));
    if (!s)
        return NULL;
    char *text = text_html_to_text(s, strlen(s));
    free(s);
    return null_if_empty(text);
}

static char *json_author(const json_t *obj)
{
    const json_t *authors = json_object_get(obj, "authors");
    if (json_is_array(authors) && json_array_size(authors) > 0)
        return json_str(json_array_get(authors, 0), "name");
    return json_str(json_object_get(obj, "author"), "name");
}

static char *json_id(const json_t *item)
{
    const json_t *id = json_object_get(item, "id");
    if (json_is_integer(id)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(id));
        return xstrdup(buf);
    }
    return json_str(item, "id");
}

static int64_t json_time(const json_t *item)
{
    int64_t t = 0;
    static const char *const keys[] = {"date_published", "date_modified"};
    for (size_t i = 0; i < FS_ARRAY_LEN(keys); i++) {
        const char *s = json_string_value(json_object_get(item, keys[i]));
        if (s && time_parse_any(s, &t) == 0)
            return t;
    }
    return 0;
}

static void json_item(struct feed_ctx *fc, const json_t *o, const char *feed_author)
{
    if (!json_is_object(o))
        return;
    struct feed_item *it = add_item(fc);
    it->guid = json_id(o);
    char *url = json_str(o, "url");
    it->url = resolve_link(url ? url : json_str(o, "external_url"), fc->base_url);
    it->title = json_str(o, "title");
    char *text = json_str(o, "content_text");
    if (!text)
        text = json_html(o, "content_html");
    it->text = pick_text(text, json_str(o, "summary"));
    it->author = json_author(o);
    if (!it->author && feed_author)
        it->author = xstrdup(feed_author);
    it->published_at = json_time(o);
}

static int feed_parse_json(struct feed_ctx *fc, const char *buf, size_t len, struct fs_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        str_strip_controls(jerr.text); /* jansson quotes the bad input: keep one line */
        return fs_error_set(err, "malformed JSON at line %d: %s", jerr.line, jerr.text);
    }
    const char *version = json_string_value(json_object_get(root, "version"));
    const json_t *items = json_object_get(root, "items");
    if (!version || !strstr(version, "jsonfeed.org/version/") || !json_is_array(items)) {
        json_decref(root);
        return fs_error_set(err, "not a feed: JSON without a JSON Feed version and items");
    }
    fc->feed->format = FEED_JSON;
    fc->feed->title = json_str(root, "title");
    char *feed_author = json_author(root);
    for (size_t i = 0; i < json_array_size(items); i++)
        json_item(fc, json_array_get(items, i), feed_author);
    free(feed_author);
    json_decref(root);
    return 0;
}

/* ---- XML parsing and dispatch ----------------------------------------------- */

static int prefix_has(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (p[i] == '<' && strncasecmp(p + i, needle, k) == 0)
            return 1;
    return 0;
}

/* 1 when the body is an HTML page: it starts like one, or (anywhere != 0, for
 * a body that failed to parse as XML) its first 4 KiB hold an <html> tag and
 * no feed root element. */
static int looks_like_html(const char *p, size_t len, int anywhere)
{
    if (str_starts_with_ci(p, "<!doctype html") || str_starts_with_ci(p, "<html"))
        return 1;
    if (!anywhere)
        return 0;
    size_t n = len < 4096 ? len : 4096;
    static const char *const roots[] = {"<rss", "<feed", "<rdf:rdf", "<urlset"};
    for (size_t i = 0; i < FS_ARRAY_LEN(roots); i++)
        if (prefix_has(p, n, roots[i]))
            return 0;
    return prefix_has(p, n, "<html");
}

/* Rewrites HTML named entities (&nbsp; &eacute; ...) as numeric references, so
 * that a feed which uses them without a DTD can still be read. */
static char *entities_to_numeric(const char *s, size_t len, size_t *out_len)
{
    struct strbuf sb = STRBUF_INIT;
    size_t i = 0, run = 0;
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        if (!amp)
            break;
        i = (size_t)(amp - s) + 1;
        size_t j = i;
        while (j < len && j - i < 10 && isalnum((unsigned char)s[j]))
            j++;
        if (j == i || j >= len || s[j] != ';')
            continue;
        char name[16];
        memcpy(name, s + i, j - i);
        name[j - i] = '\0';
        const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
        if (!e || strcmp(name, "amp") == 0 || strcmp(name, "lt") == 0 || strcmp(name, "gt") == 0 ||
            strcmp(name, "quot") == 0)
            continue;
        sb_append_n(&sb, s + run, i - 1 - run);
        sb_appendf(&sb, "&#%u;", e->value);
        run = i = j + 1;
    }
    sb_append_n(&sb, s + run, len - run);
    *out_len = sb.len;
    return sb_detach(&sb);
}

/* 1 when c may appear in an XML 1.0 document (the Char production). */
static int xml_char_ok(unsigned long c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* The length of a character reference ("&#0;", "&#x1F;") at s[0..len) whose
 * value XML forbids, or 0 when s does not start with one. */
static size_t bad_charref_len(const char *s, size_t len)
{
    if (len < 4 || s[0] != '&' || s[1] != '#')
        return 0;
    int hex = s[2] == 'x' || s[2] == 'X';
    size_t i = hex ? 3 : 2, start = i;
    unsigned long v = 0;
    for (; i < len && i - start < 12 && (hex ? isxdigit((unsigned char)s[i])
                                             : isdigit((unsigned char)s[i])); i++) {
        int d = isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10);
        v = v * (hex ? 16 : 10) + (unsigned long)d;
    }
    if (i == start || i >= len || s[i] != ';')
        return 0;
    return xml_char_ok(v) ? 0 : i + 1;
}

/* Drops the character references to characters XML forbids (&#0;, &#x1;, ...):
 * one such character must not cost the whole feed. */
static char *drop_invalid_charrefs(const char *s, size_t len, size_t *out_len)
{
    struct strbuf sb = STRBUF_INIT;
    size_t run = 0, i = 0;
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        if (!amp)
            break;
        i = (size_t)(amp - s);
        size_t bad = bad_charref_len(s + i, len - i);
        if (!bad) {
            i++;
            continue;
        }
        sb_append_n(&sb, s + run, i - run);
        run = i = i + bad;
    }
    sb_append_n(&sb, s + run, len - run);
    *out_len = sb.len;
    return sb_detach(&sb);
}

static void xml_error_line(xmlParserCtxtPtr ctxt, struct fs_error *err)
{
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    if (!e || !e->message) {
        fs_error_set(err, "malformed XML");
        return;
    }
    char msg[256];
    str_copy(msg, sizeof msg, e->message);
    str_strip_controls(msg);
    text_normalize_ws_str(msg);
    fs_error_set(err, "malformed XML at line %d: %s", e->line, msg);
}

static xmlDocPtr xml_read(const char *buf, size_t len, const char *url, int *code,
                          struct fs_error *err)
{
    if (len > (size_t)0x7fffffff) {
        fs_error_set(err, "document too large");
        return NULL;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        fs_error_set(err, "cannot create an XML parser");
        return NULL;
    }
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC |
               XML_PARSE_COMPACT | XML_PARSE_NOCDATA;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, url, "UTF-8", opts);
    if (!doc || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        *code = e ? e->code : 0;
        xml_error_line(ctxt, err);
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

/* xml_read(), retried after each repair the error calls for: HTML entity names
 * without a DTD become numeric references, references to characters XML
 * forbids are dropped (both may be needed, one after the other). */
static xmlDocPtr xml_read_repairing(const char *buf, size_t len, const char *url,
                                   struct fs_error *err)
{
    int code = 0;
    xmlDocPtr doc = xml_read(buf, len, url, &code, err);
    char *fixed = NULL;
    for (int tries = 0; !doc && tries < 2; tries++) {
        size_t n2;
        char *next;
        if (code == XML_ERR_UNDECLARED_ENTITY)
            next = entities_to_numeric(buf, len, &n2);
        else if (code == XML_ERR_INVALID_CHAR)
            next = drop_invalid_charrefs(buf, len, &n2);
        else
            break;
        free(fixed);
        fixed = next;
        buf = fixed;
        len = n2;
        doc = xml_read(buf, len, url, &code, err);
    }
    free(fixed);
    return doc;
}

static int dispatch_root(struct feed_ctx *fc, const xmlNode *root, struct fs_error *err)
{
    const char *name = (const char *)root->name;
    if (el_is(root, NS_ANY, "rss"))
        return feed_parse_rss2(fc, root, err);
    if (el_is(root, NS_RDF, "RDF"))
        return feed_parse_rss1(fc, root, err);
    if (el_is(root, NULL, "feed") || el_is(root, NS_ATOM, "feed") || el_is(root, NS_ATOM03, "feed"))
        return feed_parse_atom(fc, root, err);
    if (el_is(root, NS_ANY, "urlset"))
        return feed_parse_sitemap(fc, root, err);
    if (strcasecmp(name, "html") == 0)
        return fs_error_set(err, "not a feed: the body is an HTML page");
    return fs_error_set(err, "not a feed: XML document with root element <%.60s>", name);
}

static int feed_parse_xml(struct feed_ctx *fc, const char *buf, size_t len, struct fs_error *err)
{
    if (looks_like_html(buf, len, 0))
        return fs_error_set(err, "not a feed: the body is an HTML page");
    xmlDocPtr doc = xml_read_repairing(buf, len, fc->base_url, err);
    if (!doc && looks_like_html(buf, len, 1))
        return fs_error_set(err, "not a feed: the body is an HTML page");
    if (!doc)
        return -1;
    xmlNode *root = xmlDocGetRootElement(doc);
    fc->doc = doc;
    int rc = root ? dispatch_root(fc, root, err) : fs_error_set(err, "not a feed: no root element");
    fc->doc = NULL;
    xmlFreeDoc(doc);
    return rc;
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p;
}

int feed_parse(const char *body, size_t len, const char *charset, const char *base_url,
               struct feed *out, struct fs_error *err)
{
    memset(out, 0, sizeof *out);
    out->ttl_minutes = -1;
    struct strbuf utf8 = STRBUF_INIT;
    text_decode_document(&utf8, body, len, charset, 0);
    const char *p = skip_space(utf8.buf, utf8.buf + utf8.len);
    size_t n = (size_t)(utf8.buf + utf8.len - p);
    struct feed_ctx fc = {.feed = out, .base_url = base_url};
    int rc;
    if (n == 0)
        rc = fs_error_set(err, "not a feed: empty body");
    else if (*p == '{')
        rc = feed_parse_json(&fc, p, n, err);
    else if (*p == '<')
        rc = feed_parse_xml(&fc, p, n, err);
    else
        rc = fs_error_set(err, "not a feed: the body is neither XML nor JSON");
    sb_free(&utf8);
    if (rc < 0)
        feed_free(out);
    return rc;
}

/* ---- release and names ------------------------------------------------------ */

static void feed_item_clear(struct feed_item *it)
{
    free(it->guid);
    free(it->url);
    free(it->title);
    free(it->text);
    free(it->author);
    free(it->tickers);
}

void feed_free(struct feed *feed)
{
    if (!feed)
        return;
    for (size_t i = 0; i < feed->n_items; i++)
        feed_item_clear(&feed->items[i]);
    free(feed->items);
    free(feed->title);
    memset(feed, 0, sizeof *feed);
    feed->ttl_minutes = -1;
}

const char *feed_format_name(enum feed_format format)
{
    switch (format) {
    case FEED_RSS2:
        return "rss2";
    case FEED_RSS1:
        return "rss1";
    case FEED_ATOM:
        return "atom";
    case FEED_JSON:
        return "json";
    case FEED_SITEMAP:
        return "sitemap";
    default:
        return "unknown";
    }
}
