/*
 * lookup.h — entities as a user names them in the configuration or on the
 * command line: a watchlist's or an alert rule's `entities = Tesla, $NVDA,
 * Evergrande`, or `finsent alerts silence Tesla`.
 *
 * An item is a name or alias the directory knows ("Tesla", "China
 * Evergrande"), an [entity NAME] section, "$TICKER" of a company in the
 * directory, or "$SYMBOL" of a cashtag outside it (the recogniser's own
 * entity for it, entities/recognize.h). It resolves to the key, name and
 * ticker the recogniser stores the entity under (table entities), so an item
 * and the mentions found in texts meet on one row.
 */
#ifndef FINSENT_ENTITY_LOOKUP_H
#define FINSENT_ENTITY_LOOKUP_H

#include "common/common.h"
#include "common/config.h"
#include "entities/directory.h"

#include <stddef.h>

/* An entity as stored in table entities. */
struct entity_ref {
    char key[128];   /* "sec:1318605", "cfg:Evergrande", "sym:BTC" */
    char name[128];  /* "Tesla", "Evergrande", "$BTC" */
    char ticker[24]; /* "TSLA", "" when none */
};

/* Resolves item (see above) into *out. Returns 0, or -1 when the directory
 * does not know it. */
int entity_lookup(const struct entity_dir *d, const char *item, struct entity_ref *out);

/* Calls fn(ctx, item) for each item of a comma-separated list (NULL: none),
 * trimmed of blanks; empty items and items of 256 bytes or more are skipped.
 * Returns what fn returned first when non-zero, else 0. */
int entity_list_each(const char *list, int (*fn)(void *ctx, const char *item), void *ctx);

/* Checks every item of `entities = ...` in section of cfg (a watchlist, an
 * alert rule; none when the key is absent) against d. Returns 0, or -1 with
 * "FILE:LINE: [section] entities: unknown entity 'X' ..." in err. */
int entity_list_check(const struct config *cfg, const char *section, const struct entity_dir *d,
                      struct fs_error *err);

#endif
