/*
 * directory.h — the companies finsent recognises: the SEC's EDGAR list bundled
 * in data/entities/ plus the user's [entity NAME] sections, and the patterns
 * (names, aliases, tickers) the recogniser looks for.
 *
 * From the SEC list (one row per ticker; rows with one CIK are one company):
 *
 *   - the company's name as people write it, derived from the registered one
 *     (entity_name_derive()): everything after a comma and "/DE/"-style state
 *     marks dropped, then trailing legal and generic suffixes (Inc, Corp,
 *     Corporation, Co, Company, Ltd, Limited, PLC, LLC, LP, N.V., S.A., AG, SE,
 *     Holdings, "COM" as in "AMAZON COM INC", "& Co", a lone letter as in
 *     "NOVO NORDISK A S") and a leading "The"; an all-capitals word becomes
 *     capitalised unless it looks like an abbreviation ("AMAZON COM INC" ->
 *     "Amazon", "Tesla, Inc." -> "Tesla", "BANK OF AMERICA CORP" -> "Bank of
 *     America", "CVS HEALTH" -> "CVS Health"); a name equal to its ticker
 *     keeps the ticker's capitals ("ASML");
 *   - the first word of a multi-word name alone ("Exxon", "Berkshire", "Meta")
 *     when it has at least 4 letters, is no ordinary word and starts no other
 *     company's name;
 *   - every ticker (BRK-B also as BRK.B).
 *
 * Ordinary words are those of data/entities/common_words.txt (what the bundled
 * training texts write in lower case) and extra_words.txt. A one-word name that
 * is an ordinary word ("Target", "Apple", "Visa"), or of at most 3 letters, is
 * marked ambiguous: the recogniser takes it only in a sentence with a business
 * word. A ticker that is an ordinary word or a single letter ("ALL", "NOW",
 * "IT", "A") is never taken bare, only as a cashtag or after an exchange.
 *
 * The user's entities come first and take precedence over the SEC's for any
 * alias or ticker they share:
 *
 *   [entity Evergrande]
 *   aliases = Evergrande, China Evergrande, 3333.HK
 *   tickers = EGRNF          # optional: matched as $EGRNF, "OTC: EGRNF" or bare
 *
 * The section name is the entity's name and also one of its aliases. An alias
 * is matched in any case with an upper-case or digit first letter; an alias of
 * 2 to 5 capitals ("EGRNF") is a ticker.
 */
#ifndef FINSENT_ENTITY_DIRECTORY_H
#define FINSENT_ENTITY_DIRECTORY_H

#include "common/common.h"
#include "common/config.h"
#include "entities/matcher.h"

#include <stddef.h>
#include <stdint.h>

enum entity_origin { ENTITY_SEC = 0, ENTITY_CONFIG = 1 };

/* The keys of an [entity NAME] section (for the configuration schema). */
extern const char *const entity_config_keys[];

struct entity {
    char *key;    /* stable identity: "sec:320193" (CIK), "cfg:Evergrande" */
    char *name;   /* display name: "Apple", "Evergrande" */
    char *ticker; /* first ticker, or NULL */
    int origin;
};

/* A name pattern's flags. */
enum {
    PAT_AMBIGUOUS = 1, /* needs a business word in its sentence */
    PAT_ALIAS = 2,     /* from the user's config */
};

struct entity_pattern {
    int32_t entity;
    uint8_t flags;
};

struct entity_ticker {
    char *symbol; /* upper case, class separator '-': "BRK-B" */
    int32_t entity;
    int ordinary; /* an ordinary word or one letter: never bare */
};

struct entity_dir {
    struct entity *ents;
    size_t n_ents;
    struct matcher *names; /* payload: index into pats */
    struct entity_pattern *pats;
    size_t n_pats;
    struct entity_ticker *tickers; /* sorted by symbol */
    size_t n_tickers;
    char **words; /* ordinary words, sorted */
    size_t n_words;
};

/* Loads data_dir/entities/ (the SEC list and the word lists) and cfg's
 * [entity NAME] sections (cfg may be NULL). A bad [entity] section fails with
 * "file:line: ..." (the caller exits 4); a missing or damaged data file with
 * its path. Free with entity_dir_free(). */
int entity_dir_load(const char *data_dir, const struct config *cfg, struct entity_dir **out,
                    struct fs_error *err);

/* The same from explicit texts (tests): SEC JSON text (may be NULL), word list
 * text (one word a line, '#' comments; may be NULL). */
int entity_dir_build(const char *sec_json, const char *words, const struct config *cfg,
                     struct entity_dir **out, struct fs_error *err);

void entity_dir_free(struct entity_dir *d);

/* The name people write for a registered name, into out (size bytes): rules
 * above. Returns the length (0 when nothing is left). */
size_t entity_name_derive(const char *registered, char *out, size_t size);

/* 1 when w (n bytes, any case) is an ordinary word. */
int entity_dir_is_word(const struct entity_dir *d, const char *w, size_t n);

/* The entity with ticker sym (n bytes, any case; '.' read as '-'), or -1.
 * *ordinary is set to the ticker's ordinary flag when found (may be NULL). */
int32_t entity_dir_ticker(const struct entity_dir *d, const char *sym, size_t n, int *ordinary);

/* The entity whose name (any case) is name, or whose ticker is name without a
 * leading '$'; -1 when none. */
int32_t entity_dir_find(const struct entity_dir *d, const char *name);

#endif
