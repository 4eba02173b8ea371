/* bench_feed.c — feed_parse throughput in MB/s over every feed fixture
 * (tests/fixtures/feeds), repeated for about one second. Prints figures only.
 *
 *   build/bench/bench_feed           human-readable line
 *   build/bench/bench_feed --mbps    just the MB/s figure (used by bench_feed.py)
 */
#include "common/util.h"
#include "crawler/feed.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_DIR "tests/fixtures/feeds"
#define MAX_FILES 64

struct corpus {
    char *buf[MAX_FILES];
    size_t len[MAX_FILES];
    int n;
    size_t bytes;
};

static int is_feed_file(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcmp(dot, ".xml") == 0 || strcmp(dot, ".rdf") == 0 ||
                   strcmp(dot, ".atom") == 0 || strcmp(dot, ".json") == 0);
}

static int corpus_load(struct corpus *c)
{
    DIR *d = opendir(FEED_DIR);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && c->n < MAX_FILES) {
        if (!is_feed_file(e->d_name))
            continue;
        char path[512];
        struct fs_error err;
        snprintf(path, sizeof path, "%s/%s", FEED_DIR, e->d_name);
        if (file_read_all(path, 1 << 26, &c->buf[c->n], &c->len[c->n], &err) == 0)
            c->bytes += c->len[c->n++];
    }
    closedir(d);
    return c->n ? 0 : -1;
}

/* One pass over every file; returns the number of items parsed. */
static size_t parse_all(const struct corpus *c)
{
    size_t items = 0;
    for (int i = 0; i < c->n; i++) {
        struct feed f;
        struct fs_error err;
        if (feed_parse(c->buf[i], c->len[i], NULL, NULL, &f, &err) == 0) {
            items += f.n_items;
            feed_free(&f);
        }
    }
    return items;
}

int main(int argc, char **argv)
{
    int mbps_only = argc > 1 && strcmp(argv[1], "--mbps") == 0;
    struct corpus c = {0};
    if (corpus_load(&c) < 0) {
        fprintf(stderr, "bench_feed: no feeds in %s (run from the repository root)\n", FEED_DIR);
        return 1;
    }
    size_t items = parse_all(&c); /* warm-up */
    int passes = 0;
    double start = time_monotonic(), elapsed;
    do {
        parse_all(&c);
        passes++;
        elapsed = time_monotonic() - start;
    } while (elapsed < 1.0);
    double mbps = (double)c.bytes * passes / elapsed / 1e6;
    if (mbps_only)
        printf("%.2f\n", mbps);
    else
        printf("feed_parse: %.1f MB/s (%d files, %.0f KB, %zu items per pass, %d passes in "
               "%.2f s)\n",
               mbps, c.n, c.bytes / 1e3, items, passes, elapsed);
    for (int i = 0; i < c.n; i++)
        free(c.buf[i]);
    return 0;
}
