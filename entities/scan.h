/*
 * scan.h — the recognition stage: every stored document the recogniser has not
 * read yet gets its mentions (table mentions, one row per mention: entity,
 * field, byte offset and length, how it was found), in batches committed one
 * at a time with documents.entities_at set, so a killed run keeps what it
 * stored and the next run reads the rest. `finsent run` runs it after the
 * crawl; `finsent classify` runs it first too, so that per-entity sentiment
 * has its mentions.
 *
 * A document read again (after `finsent entities rescan`) has its mentions
 * replaced. Each entity whose mentions came out the same keeps its sentiment
 * (table entity_sentiments), also one read from the sentences that mention it;
 * an entity no longer mentioned loses its own. In a classified document an
 * entity that is new or whose mentions changed takes the document's sentiment
 * and is queued (db_entity_reread_queue()) for the classify stage to read its
 * sentences.
 */
#ifndef FINSENT_ENTITY_SCAN_H
#define FINSENT_ENTITY_SCAN_H

#include "common/common.h"
#include "entities/directory.h"

#include <sqlite3.h>
#include <stdint.h>

struct entity_scan_stats {
    int64_t documents; /* read */
    int64_t mentions;  /* stored */
    double seconds;
};

/* Reads every pending document of db with directory d, stamping entities_at =
 * now. batch: documents per transaction (0: 512). Returns 0 or -1 (what was
 * committed before the failure stays). */
int entities_scan_pending(sqlite3 *db, const struct entity_dir *d, int64_t now, int batch,
                          struct entity_scan_stats *stats, struct fs_error *err);

#endif
