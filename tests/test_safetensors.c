/* test_safetensors.c — the safetensors writer and its strict loader, and the
 * model file on top of it: crafted broken files are all rejected with a reason. */
#include "classify/infer.h"
#include "classify/safetensors.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "tests/check.h"
#include "tests/cpu_backend.h"
#include "tests/tiny_classifier.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const float ta[6] = {1, 2, 3, 4, 5, 6}, tb[2] = {-1.5f, 0.25f};

static unsigned char *good_file(size_t *len)
{
    struct st_writer *w = st_writer_new();
    st_writer_add(w, "a", 2, (int64_t[]){2, 3}, ta);
    st_writer_add(w, "b", 1, (int64_t[]){2}, tb);
    st_writer_meta(w, "format", "test");
    unsigned char *buf;
    struct fs_error err;
    if (st_writer_build(w, &buf, len, &err) < 0)
        abort();
    st_writer_free(w);
    return buf;
}

/* A file made of a header text and n data bytes. */
static unsigned char *craft(const char *hdr, size_t data, size_t *len)
{
    size_t h = strlen(hdr);
    *len = 8 + h + data;
    unsigned char *b = xcalloc(*len, 1);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, hdr, h);
    return b;
}

/* Parses buf; returns 0 when accepted, else -1 with err filled. */
static int parse(unsigned char *buf, size_t len, struct fs_error *err)
{
    struct st_file f;
    int rc = st_parse(buf, len, &f, err);
    st_free(&f);
    return rc;
}

static void test_round_trip(void)
{
    size_t len;
    unsigned char *buf = good_file(&len);
    struct st_file f;
    struct fs_error err;
    CHECK_MSG(st_parse(buf, len, &f, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(f.n_tensors, 2);
    CHECK_STR_EQ(st_meta(&f, "format"), "test");
    const struct st_tensor *a = st_find(&f, "a");
    CHECK(a && a->ndim == 2 && a->shape[0] == 2 && a->shape[1] == 3);
    float out[6];
    st_read_f32(&f, a, out);
    CHECK(memcmp(out, ta, sizeof ta) == 0);
    CHECK((8 + (len - f.data_len - 8)) % 8 == 0); /* header padded to 8 bytes */
    st_free(&f);
}

#define REJECT(buf, len, needle)                                                                   \
    do {                                                                                           \
        struct fs_error e_;                                                                        \
        CHECK_MSG(parse(buf, len, &e_) < 0, "accepted: %s", #buf);                                 \
        CHECK_MSG(strstr(e_.msg, needle) != NULL, "message '%s' lacks '%s'", e_.msg, needle);      \
    } while (0)

static void test_truncated(void)
{
    size_t len;
    unsigned char *buf = good_file(&len);
    REJECT(buf, len - 4, "beyond the end");
    buf = good_file(&len);
    REJECT(buf, 5, "too short");
    buf = good_file(&len);
    REJECT(buf, 40, "header length");
}

static void test_bad_header_length(void)
{
    size_t len;
    unsigned char *buf = good_file(&len);
    buf[7] ^= 0x80; /* huge */
    REJECT(buf, len, "header length");
    buf = good_file(&len);
    buf[0] ^= 0x01; /* off by one: JSON cut or padded into data */
    struct fs_error err;
    CHECK(parse(buf, len, &err) < 0);
}

static void test_random_bytes(void)
{
    uint64_t s = 99;
    for (int rep = 0; rep < 50; rep++) {
        size_t len = 16 + rep * 7;
        unsigned char *buf = xmalloc(len);
        for (size_t i = 0; i < len; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[i] = (unsigned char)(s >> 56);
        }
        if (rep % 2) { /* plausible length, random header */
            memset(buf, 0, 8);
            buf[0] = (unsigned char)(len - 8);
        }
        struct fs_error err;
        CHECK(parse(buf, len, &err) < 0);
    }
}

static void test_crafted_headers(void)
{
    size_t len;
    unsigned char *b;
    b = craft("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, &len);
    REJECT(b, len, "unknown dtype F8_E4M3");
    b = craft("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, &len);
    REJECT(b, len, "does not match");
    b = craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
              12, &len);
    REJECT(b, len, "overlaps");
    b = craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, &len);
    REJECT(b, len, "does not match");
    b = craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
              16, &len);
    REJECT(b, len, "JSON");
    b = craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, &len);
    REJECT(b, len, "hole");
    b = craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, &len);
    REJECT(b, len, "after the last");
    b = craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, &len);
    REJECT(b, len, "bad shape");
    b = craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
              "\"data_offsets\":[0,8]}}",
              8, &len);
    REJECT(b, len, "shape");
    b = craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, &len);
    REJECT(b, len, "data_offsets");
    b = craft("{\"__metadata__\":{\"k\":5}}", 0, &len);
    REJECT(b, len, "not a string");
    b = craft("[1,2]", 0, &len);
    REJECT(b, len, "'{'");
}

/* ---- the model file --------------------------------------------------------------- */

static char *temp_model_path(void)
{
    char dir[] = "/tmp/finsent-st-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s/m.safetensors", dir);
    return sb_detach(&sb);
}

static int load_fails(const char *path, const char *needle)
{
    struct classifier *c;
    struct fs_error err;
    if (classifier_load(path, cpu(), &c, &err) == 0) {
        classifier_free(c);
        printf("  accepted %s\n", path);
        return 0;
    }
    if (!strstr(err.msg, needle)) {
        printf("  message '%s' lacks '%s'\n", err.msg, needle);
        return 0;
    }
    return 1;
}

/* F16, BF16 and F64 tensors read as F32; an I64 tensor parses but is not a float. */
static void test_half_precision(void)
{
    const char *hdr = "{\"h\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[0,12]},"
                      "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},"
                      "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[16,24]},"
                      "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[24,32]}}";
    size_t len;
    unsigned char *buf = craft(hdr, 32, &len);
    unsigned char *data = buf + len - 32;
    const uint16_t h[6] = {0x3C00, 0xC000, 0x0001, 0x7C00, 0x3555, 0x8000};
    const uint16_t bf[2] = {0x3F80, 0x4049};
    for (int i = 0; i < 6; i++)
        data[2 * i] = (unsigned char)(h[i] & 0xff), data[2 * i + 1] = (unsigned char)(h[i] >> 8);
    for (int i = 0; i < 2; i++)
        data[12 + 2 * i] = (unsigned char)(bf[i] & 0xff),
                      data[13 + 2 * i] = (unsigned char)(bf[i] >> 8);
    double dv = -0.125;
    memcpy(data + 16, &dv, 8);
    struct st_file f;
    struct fs_error err;
    CHECK_MSG(st_parse(buf, len, &f, &err) == 0, "%s", err.msg);
    float out[6];
    st_read_f32(&f, st_find(&f, "h"), out);
    CHECK(out[0] == 1.0f && out[1] == -2.0f);
    CHECK(out[2] == ldexpf(1.0f, -24)); /* the smallest subnormal */
    CHECK(isinf(out[3]) && out[3] > 0);
    CHECK_NEAR(out[4], 0.33325195, 1e-8);
    CHECK(out[5] == 0.0f && signbit(out[5]));
    st_read_f32(&f, st_find(&f, "b"), out);
    CHECK(out[0] == 1.0f && out[1] == 3.140625f);
    st_read_f32(&f, st_find(&f, "d"), out);
    CHECK(out[0] == -0.125f);
    CHECK(st_is_float(st_find(&f, "h")) && !st_is_float(st_find(&f, "i")));
    st_free(&f);
}

static void test_model_file_round_trip_and_corruption(void)
{
    struct classifier *c = tiny_classifier(8);
    char *path = temp_model_path();
    struct fs_error err;
    CHECK_MSG(classifier_save(c, path, &err) == 0, "%s", err.msg);
    struct classifier *d;
    CHECK_MSG(classifier_load(path, cpu(), &d, &err) == 0, "%s", err.msg);
    CHECK_STR_EQ(d->model_id, c->model_id);
    CHECK_INT_EQ(d->model->n_params, c->model->n_params);
    CHECK(!text_tok_url_fold(d->tok)); /* no text.urls key: URLs read as they are */
    classifier_free(d);

    /* URL folding is recorded and comes back; another marker is refused */
    text_tok_set_url_fold(c->tok, 1);
    CHECK_MSG(classifier_save(c, path, &err) == 0, "%s", err.msg);
    CHECK_MSG(classifier_load(path, cpu(), &d, &err) == 0, "%s", err.msg);
    CHECK(text_tok_url_fold(d->tok));
    classifier_free(d);
    char *buf;
    size_t len;
    CHECK(file_read_all(path, 1 << 26, &buf, &len, &err) == 0);
    static const char urls[] = "\"text.urls\":\"http\"";
    char *u = memmem(buf, len, urls, strlen(urls));
    CHECK(u != NULL);
    if (u) {
        u[strlen(urls) - 2] = 'x'; /* "htxp" */
        CHECK(file_write_atomic(path, buf, len, &err) == 0);
        CHECK(load_fails(path, "text.urls"));
    }
    free(buf);
    text_tok_set_url_fold(c->tok, 0);
    CHECK(classifier_save(c, path, &err) == 0);

    CHECK(file_read_all(path, 1 << 26, &buf, &len, &err) == 0);
    /* a flipped byte in the weights: model_id no longer matches */
    buf[len - 3] ^= 0x40;
    CHECK(file_write_atomic(path, buf, len, &err) == 0);
    CHECK(load_fails(path, "corrupted"));
    buf[len - 3] ^= 0x40;
    /* truncated */
    CHECK(file_write_atomic(path, buf, len - 100, &err) == 0);
    CHECK(load_fails(path, "truncated"));
    /* not a model: a plain safetensors file */
    size_t glen;
    unsigned char *g = good_file(&glen);
    CHECK(file_write_atomic(path, g, glen, &err) == 0);
    CHECK(load_fails(path, "not a finsent model"));
    free(g);
    /* missing file */
    CHECK(load_fails("/nonexistent/model.safetensors", "No such file"));
    free(buf);

    /* a file whose config promises another width than its tensors have */
    struct classifier *wide = tiny_classifier(12);
    CHECK(classifier_save(wide, path, &err) == 0);
    CHECK(file_read_all(path, 1 << 26, &buf, &len, &err) == 0);
    static const char needle[] = "\\\"width\\\":12";
    char *at = memmem(buf, len, needle, strlen(needle));
    CHECK(at != NULL);
    if (at) {
        at[11] = '0'; /* "width":10: the tensors are for 12 */
        CHECK(file_write_atomic(path, buf, len, &err) == 0);
        CHECK(load_fails(path, "wrong shape"));
        /* "width":96: far more parameters than the file holds are refused
         * before anything is allocated for them (a config of a few bytes could
         * ask for 16 GiB, past the model-file fuzz target's malloc limit) */
        at[10] = '9', at[11] = '6';
        CHECK(file_write_atomic(path, buf, len, &err) == 0);
        CHECK(load_fails(path, "the configuration needs"));
    }
    free(buf);
    classifier_free(wide);
    classifier_free(c);
    unlink(path);
    free(path);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_truncated);
    RUN(test_bad_header_length);
    RUN(test_random_bytes);
    RUN(test_crafted_headers);
    RUN(test_half_precision);
    RUN(test_model_file_round_trip_and_corruption);
    return check_summary();
}
