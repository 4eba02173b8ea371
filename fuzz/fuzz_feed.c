/* fuzz_feed.c — libFuzzer target for feed_parse (all formats) and the dedupe
 * keys of whatever items come out. Built and run by scripts/fuzz.sh. */
#include "crawler/dedupe.h"
#include "crawler/feed.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The last byte picks the HTTP charset, so charset conversion is fuzzed too. */
    static const char *const charsets[] = {NULL, "utf-8", "iso-8859-1", "utf-16le", "shift_jis"};
    const char *charset = size ? charsets[data[size - 1] % 5] : NULL;
    struct feed f;
    struct fs_error err;
    if (feed_parse((const char *)data, size, charset, "https://example.com/dir/feed.xml", &f,
                   &err) < 0) {
        if (strchr(err.msg, '\n') || !err.msg[0])
            __builtin_trap(); /* errors must be one non-empty line */
        return 0;
    }
    for (size_t i = 0; i < f.n_items; i++) {
        char *keys[DEDUPE_MAX_KEYS];
        size_t n = dedupe_keys(&f.items[i], 1, keys);
        dedupe_keys_free(keys, n);
    }
    feed_free(&f);
    return 0;
}
