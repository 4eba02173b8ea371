/* lookup.c — entity names as users write them, to stored entities (lookup.h). */
#include "entities/lookup.h"

#include "common/util.h"
#include "entities/recognize.h"

#include <stdio.h>
#include <string.h>

static void ref_from_entity(const struct entity *e, struct entity_ref *out)
{
    str_copy(out->key, sizeof out->key, e->key);
    str_copy(out->name, sizeof out->name, e->name);
    str_copy(out->ticker, sizeof out->ticker, e->ticker ? e->ticker : "");
}

/* What the recogniser makes of item alone when it is one whole mention: an
 * alias, or a cashtag outside the directory. Returns 0 or -1. */
static int lookup_as_mention(const struct entity_dir *d, const char *item, struct entity_ref *out)
{
    struct mention_list l = {0};
    entities_recognize(d, NULL, item, NULL, &l);
    int rc = -1;
    if (l.n > 0 && l.v[0].start == 0 && l.v[0].len == strlen(item)) {
        if (l.v[0].entity >= 0) {
            ref_from_entity(&d->ents[l.v[0].entity], out);
        } else {
            snprintf(out->key, sizeof out->key, "sym:%s", l.v[0].symbol);
            snprintf(out->name, sizeof out->name, "$%s", l.v[0].symbol);
            str_copy(out->ticker, sizeof out->ticker, l.v[0].symbol);
        }
        rc = 0;
    }
    mention_list_free(&l);
    return rc;
}

int entity_lookup(const struct entity_dir *d, const char *item, struct entity_ref *out)
{
    memset(out, 0, sizeof *out);
    int32_t e = entity_dir_find(d, item);
    if (e >= 0) {
        ref_from_entity(&d->ents[e], out);
        return 0;
    }
    return lookup_as_mention(d, item, out);
}

int entity_list_each(const char *list, int (*fn)(void *ctx, const char *item), void *ctx)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        char item[256];
        size_t b = 0, e = n;
        while (b < e && (p[b] == ' ' || p[b] == '\t'))
            b++;
        while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        if (e > b && e - b < sizeof item) {
            memcpy(item, p + b, e - b);
            item[e - b] = '\0';
            int rc = fn(ctx, item);
            if (rc)
                return rc;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

struct list_check {
    const struct config *cfg;
    const struct entity_dir *d;
    const char *section;
    struct fs_error *err;
};

static int check_item(void *ctx, const char *item)
{
    struct list_check *c = ctx;
    struct entity_ref ref;
    if (entity_lookup(c->d, item, &ref) == 0)
        return 0;
    config_error(c->cfg, c->section, "entities", c->err,
                 "unknown entity '%s' (a company name, $TICKER or an [entity] section)", item);
    return -1;
}

int entity_list_check(const struct config *cfg, const char *section, const struct entity_dir *d,
                      struct fs_error *err)
{
    struct list_check c = {cfg, d, section, err};
    return entity_list_each(config_get(cfg, section, "entities"), check_item, &c) ? -1 : 0;
}
