/*
 * recognize.h — the entities one document mentions, found in one pass.
 *
 * What counts as a mention (entities/directory.h says where names come from):
 *
 *   cashtag   "$TSLA", "$BRK.B" ("$" + 1-6 letters, optional ".X"/"-X" class;
 *             not "$100"). A cashtag outside the directory is still an
 *             entity, named by its symbol ("$BTC").
 *   exchange  a ticker after an exchange and a colon: "(NASDAQ: NOW)",
 *             "NYSE:ALL", "OTC: EGRNF". Every ticker, ordinary words included.
 *   ticker    a bare ticker in capitals (2-5 letters) that is no ordinary word
 *             ("NVDA", not "ALL", "NOW", "IT", "A"); none in a mostly
 *             capitalised text (an all-caps headline's words are not tickers).
 *   feed      a ticker the feed supplied for the item (its <category>).
 *   name      a company name or derived alias, with word boundaries on both
 *             sides and an upper-case (or digit) first letter: "Apple" but not
 *             "apple". A name marked ambiguous ("Apple", "Target", "Visa")
 *             needs a business word in its sentence (shares, stock, earnings,
 *             revenue, CEO, analysts, Inc, ... see recognize.c) or another
 *             entity mention there: "Apple pie" is not Apple.
 *   alias     a name from the user's [entity] sections (never ambiguous).
 *
 * Overlapping candidates resolve to the longest, then the leftmost ("Bank of
 * America" over "America"). The scan of a field is one pass of the
 * Aho-Corasick matcher plus one pass for $, ':' and capitals.
 */
#ifndef FINSENT_RECOGNIZE_H
#define FINSENT_RECOGNIZE_H

#include "entities/directory.h"

#include <stddef.h>
#include <stdint.h>

enum mention_how { HOW_CASHTAG, HOW_EXCHANGE, HOW_TICKER, HOW_FEED, HOW_NAME, HOW_ALIAS };
enum mention_field { FIELD_TITLE, FIELD_TEXT, FIELD_FEED };

struct mention {
    int32_t entity;  /* index into the directory, or -1: symbol outside it */
    char symbol[16]; /* entity -1: the symbol, upper case ("BTC") */
    uint8_t field;   /* enum mention_field */
    uint8_t how;     /* enum mention_how */
    uint32_t start;  /* byte offset in the field (0 for FIELD_FEED) */
    uint32_t len;    /* bytes */
};

struct mention_list {
    struct mention *v;
    size_t n, cap;
};

/* Appends to out the mentions of title, text (either may be NULL) and the
 * feed's tickers (comma-separated, "NASDAQ:NVDA" or "NVDA"; may be NULL), in
 * field then text order. */
void entities_recognize(const struct entity_dir *d, const char *title, const char *text,
                        const char *feed_tickers, struct mention_list *out);

void mention_list_free(struct mention_list *l);

/* "cashtag", "exchange", "ticker", "feed", "name", "alias". */
const char *mention_how_name(int how);
/* "title", "text", "feed". */
const char *mention_field_name(int field);

/* The display name of a mention's entity: the directory name, or "$SYMBOL". */
void mention_entity_name(const struct entity_dir *d, const struct mention *m, char *out,
                         size_t size);

#endif
