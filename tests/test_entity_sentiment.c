/* test_entity_sentiment.c — classify/entity_sentiment.h: the parts of a
 * document that speak of each entity, and the readings they need. */
#include "check.h"

#include "classify/entity_sentiment.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The parts of one document of text with mentions m[0..n) (all in the text). */
static size_t parts_of(const char *text, const struct doc_mention *m, size_t n,
                       struct entity_part **parts)
{
    size_t n_parts = 0, cap = 0;
    *parts = NULL;
    entity_parts_of(0, NULL, text, m, n, parts, &n_parts, &cap);
    return n_parts;
}

static void test_each_entity_gets_its_sentences(void)
{
    const char *text = "Acme fell sharply. Zeta opened a store. Acme and Zeta signed a deal.";
    struct doc_mention m[] = {{1, 1, 0, 4}, {2, 1, 19, 4}, {1, 1, 40, 4}, {2, 1, 49, 4}};
    struct entity_part *p;
    size_t n = parts_of(text, m, 4, &p);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(p[0].context, "Acme fell sharply.\nAcme and Zeta signed a deal.");
    CHECK_STR_EQ(p[1].context, "Zeta opened a store.\nAcme and Zeta signed a deal.");
    size_t reading[2], first[2];
    CHECK_INT_EQ(entity_parts_readings(p, n, reading, first), 2);
    CHECK(reading[0] == 0 && reading[1] == 1 && first[0] == 0 && first[1] == 1);
    entity_parts_free(p, n);
}

/* Issue 13 item 3: entities named in the same sentences only share one reading;
 * a context that only starts alike does not. */
static void test_same_sentences_share_one_reading(void)
{
    const char *text = "Acme, Zeta and Kite fell. Markets were calm. Acme hired.";
    struct doc_mention m[] = {{1, 1, 0, 4}, {2, 1, 6, 4}, {3, 1, 15, 4}, {1, 1, 45, 4}};
    struct entity_part *p;
    size_t n = parts_of(text, m, 4, &p);
    CHECK_INT_EQ(n, 3);
    CHECK_STR_EQ(p[0].context, "Acme, Zeta and Kite fell.\nAcme hired.");
    size_t reading[3], first[3];
    CHECK_INT_EQ(entity_parts_readings(p, n, reading, first), 2);
    CHECK(reading[0] == 0 && reading[1] == 1 && reading[2] == 1);
    CHECK(first[0] == 0 && first[1] == 1);
    CHECK_STR_EQ(p[first[1]].context, "Acme, Zeta and Kite fell.");
    entity_parts_free(p, n);
}

/* An entity named in every sentence takes the document's reading: no context. */
static void test_whole_document_needs_no_reading(void)
{
    const char *text = "Acme fell. Acme cut jobs.";
    struct doc_mention m[] = {{1, 1, 0, 4}, {1, 1, 11, 4}};
    struct entity_part *p;
    size_t n = parts_of(text, m, 2, &p);
    CHECK_INT_EQ(n, 1);
    CHECK(p[0].context == NULL);
    size_t reading[1], first[1];
    CHECK_INT_EQ(entity_parts_readings(p, n, reading, first), 0);
    CHECK(reading[0] == SIZE_MAX);
    entity_parts_free(p, n);
}

int main(void)
{
    RUN(test_each_entity_gets_its_sentences);
    RUN(test_same_sentences_share_one_reading);
    RUN(test_whole_document_needs_no_reading);
    return check_summary();
}
