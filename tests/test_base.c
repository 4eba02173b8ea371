/*
 * test_base.c — base models on disk (classify/base.h), the pieces of fetching
 * that need no server (classify/base_fetch.h) and SHA-256 (common/sha256.h).
 * Fetching itself is tested against a real server in tests/it_base.py.
 */
#include "check.h"
#include "classify/base.h"
#include "classify/base_fetch.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void hex_of(const char *s, size_t n, char out[SHA256_HEX_LEN + 1])
{
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, s, n);
    sha256_final_hex(&h, out);
}

/* FIPS 180-4 examples and a multi-block message fed in odd pieces. */
static void test_sha256_vectors(void)
{
    char hex[SHA256_HEX_LEN + 1];
    hex_of("", 0, hex);
    CHECK_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    CHECK_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), hex);
    CHECK_STR_EQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    struct sha256 h;
    sha256_init(&h);
    char a[1000];
    memset(a, 'a', sizeof a);
    for (size_t done = 0, step = 1; done < 1000000; done += step, step = step % 997 + 1)
        sha256_update(&h, a, done + step > 1000000 ? 1000000 - done : step);
    sha256_final_hex(&h, hex);
    CHECK_STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    CHECK(sha256_is_hex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112CD0"));
    CHECK(!sha256_is_hex("cdc76e5c"));
}

static void test_name_valid(void)
{
    CHECK(base_name_valid("ProsusAI/finbert"));
    CHECK(base_name_valid("bert-base-uncased"));
    CHECK(base_name_valid("sentence-transformers/all-MiniLM-L6-v2"));
    CHECK(base_name_valid("a.b_c/d-e.f"));
    const char *bad[] = {"",        "..",           "../x", "a/../b", "/abs",  "a//b",   "a/",
                         ".hidden", "a/.partial-x", "a b",  "a\\b",   "a/b?c", "a/b%2F", "~user"};
    for (size_t i = 0; i < FS_ARRAY_LEN(bad); i++)
        CHECK_MSG(!base_name_valid(bad[i]), "'%s' accepted", bad[i]);
}

static void test_etag_sha256(void)
{
    char out[SHA256_HEX_LEN + 1];
    const char *sha = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
    char quoted[80];
    snprintf(quoted, sizeof quoted, " W/\"%s\"\r\n", sha);
    CHECK(base_etag_sha256(quoted, out));
    CHECK_STR_EQ(out, sha);
    CHECK(
        base_etag_sha256("53AA51172D142C89D9012CCE15AE4D6CC0CA6895895114379CACB4FAB128D9DB", out));
    CHECK_STR_EQ(out, sha);
    CHECK(!base_etag_sha256("\"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678\"", out)); /* git sha1 */
    CHECK(!base_etag_sha256("\"0123456789abcdef0123456789abcdef-12\"", out));      /* S3 md5 */
    CHECK(!base_etag_sha256("", out));
}

/* ---- safetensors framing ---------------------------------------------------------- */

static char tmpdir[64];

static char *tmp_path(const char *name)
{
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s/%s", tmpdir, name);
    return sb_detach(&sb);
}

/* Writes an 8-byte length, the header text and data_len zero bytes; len_delta
 * skews the stated header length. */
static char *write_st(const char *header, size_t data_len, int64_t len_delta)
{
    char *p = tmp_path("w.safetensors");
    FILE *f = fopen(p, "wb");
    uint64_t n = (uint64_t)((int64_t)strlen(header) + len_delta);
    for (int i = 0; i < 8; i++)
        fputc((int)(n >> (8 * i) & 0xff), f);
    fputs(header, f);
    for (size_t i = 0; i < data_len; i++)
        fputc(0, f);
    fclose(f);
    return p;
}

static int check_st(const char *header, size_t data_len, int64_t len_delta, struct base_weights *w,
                    struct fs_error *err)
{
    char *p = write_st(header, data_len, len_delta);
    int rc = base_check_safetensors(p, w, err);
    free(p);
    return rc;
}

#define EMB "\"embeddings.word_embeddings.weight\""

static void test_safetensors_framing(void)
{
    struct base_weights w;
    struct fs_error err;
    const char *good = "{\"__metadata__\":{\"format\":\"pt\"}," EMB
                       ":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]},"
                       "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[24,28]},"
                       "\"c\":{\"dtype\":\"F4_NEW\",\"shape\":[5],\"data_offsets\":[28,31]}}  ";
    CHECK_MSG(check_st(good, 31, 0, &w, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(w.n_tensors, 3);
    CHECK_INT_EQ(w.emb_rows, 3);
    CHECK_INT_EQ(w.emb_cols, 2);

    CHECK(check_st(good, 30, 0, &w, &err) < 0); /* truncated */
    CHECK(strstr(err.msg, "truncated"));
    CHECK(check_st(good, 32, 0, &w, &err) < 0);    /* trailing bytes */
    CHECK(check_st(good, 31, 1000, &w, &err) < 0); /* header length past the end */
    CHECK(strstr(err.msg, "does not fit"));
    CHECK(check_st(good, 31, -3, &w, &err) < 0); /* header cut: not JSON */
    CHECK(check_st("[1,2]", 0, 0, &w, &err) < 0);
    CHECK(check_st("{}", 0, 0, &w, &err) < 0); /* no tensors */
    const char *overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                          "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    CHECK(check_st(overlap, 12, 0, &w, &err) < 0);
    const char *hole = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
    CHECK(check_st(hole, 12, 0, &w, &err) < 0);
    const char *shape = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
    CHECK(check_st(shape, 8, 0, &w, &err) < 0);
    const char *neg = "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}";
    CHECK(check_st(neg, 4, 0, &w, &err) < 0);
    const char *dup = "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                      "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}";
    CHECK(check_st(dup, 2, 0, &w, &err) < 0);
    const char *huge = "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
                       "\"data_offsets\":[0,0]}}";
    CHECK(check_st(huge, 0, 0, &w, &err) < 0);
}

/* ---- a base directory and the listing ---------------------------------------------- */

static void put(const char *dir, const char *file, const char *text)
{
    struct strbuf p = STRBUF_INIT;
    sb_appendf(&p, "%s/%s", dir, file);
    struct fs_error err;
    path_mkdir_parent(p.buf, &err);
    file_write_atomic(p.buf, text, strlen(text), &err);
    sb_free(&p);
}

static void copy_file(const char *from, const char *dir, const char *file)
{
    char *text;
    size_t len;
    struct fs_error err;
    if (file_read_all(from, 1 << 20, &text, &len, &err) < 0)
        return;
    struct strbuf p = STRBUF_INIT;
    sb_appendf(&p, "%s/%s", dir, file);
    file_write_atomic(p.buf, text, len, &err);
    sb_free(&p);
    free(text);
}

/* A tiny base: vocab 3, hidden 2, one layer (only the embeddings in the weights). */
static void make_base(const char *dir, const char *model_type)
{
    struct strbuf cfg = STRBUF_INIT;
    sb_appendf(&cfg,
               "{\"model_type\": \"%s\", \"num_hidden_layers\": 1, \"hidden_size\": 2, "
               "\"num_attention_heads\": 1, \"intermediate_size\": 4, \"vocab_size\": 3, "
               "\"max_position_embeddings\": 8}",
               model_type);
    put(dir, "config.json", cfg.buf);
    sb_free(&cfg);
    put(dir, "vocab.txt", "[PAD]\n[UNK]\nhello\n");
    put(dir, "tokenizer_config.json",
        "{\"do_lower_case\": true, \"model_max_length\": "
        "1000000000000000019884624838656}");
    char *st =
        write_st("{" EMB ":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}}", 24, 0);
    copy_file(st, dir, "model.safetensors");
    free(st);
}

static void test_inspect_and_list(void)
{
    char *root = tmp_path("data/finsent/base");
    char *good = tmp_path("data/finsent/base/org/good"), *flat = tmp_path("data/finsent/base/flat");
    char *bad = tmp_path("data/finsent/base/org/roberta"),
         *partial = tmp_path("data/finsent/base/org/.partial-abc");
    char *data = tmp_path("data");
    setenv("XDG_DATA_HOME", data, 1);
    char *r = base_root();
    CHECK_STR_EQ(r, root);
    free(r);
    make_base(good, "bert");
    make_base(flat, "bert");
    make_base(bad, "roberta");
    make_base(partial, "bert");
    put(good, "SHA256SUMS",
        "0000000000000000000000000000000000000000000000000000000000000000  config.json\n"
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  model.safetensors\n");

    struct base_info info;
    struct fs_error err;
    CHECK_MSG(base_inspect(good, &info, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(info.layers, 1);
    CHECK_INT_EQ(info.hidden, 2);
    CHECK_INT_EQ(info.n_tensors, 1);
    CHECK_STR_EQ(info.weights_sha256,
                 "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db");
    base_info_free(&info);

    struct base_info *list;
    size_t n;
    CHECK(base_list(&list, &n, &err) == 0);
    CHECK_INT_EQ(n, 3); /* the .partial directory is not a base */
    CHECK_STR_EQ(list[0].name, "flat");
    CHECK_STR_EQ(list[1].name, "org/good");
    CHECK_STR_EQ(list[2].name, "org/roberta");
    CHECK(!list[0].problem && !list[1].problem);
    CHECK(list[2].problem && !strncmp(list[2].problem, "config.json: model_type is 'roberta'", 36));
    CHECK(list[0].weights_sha256[0] == '\0');
    base_list_free(list, n);

    char *dir = base_resolve("org/good", &err);
    CHECK_STR_EQ(dir, good);
    free(dir);
    CHECK(base_resolve("org/../org/good", &err) == NULL);
    CHECK(base_resolve("org/missing", &err) == NULL && strstr(err.msg, "base fetch org/missing"));

    setenv("XDG_DATA_HOME", "/nonexistent-finsent-test", 1);
    CHECK(base_list(&list, &n, &err) == 0 && n == 0); /* no root: nothing installed */
    base_list_free(list, n);
    free(root);
    free(good);
    free(flat);
    free(bad);
    free(partial);
    free(data);
}

static void test_inspect_rejects(void)
{
    char *dir = tmp_path("reject");
    struct base_info info;
    struct fs_error err;
    make_base(dir, "bert");
    put(dir, "vocab.txt", "a\nb\nc\nd\n"); /* more entries than vocab_size */
    CHECK(base_inspect(dir, &info, &err) < 0 && strstr(err.msg, "vocab.txt"));
    base_info_free(&info);
    make_base(dir, "bert");
    put(dir, "config.json",
        "{\"model_type\": \"bert\", \"num_hidden_layers\": 1, \"hidden_size\": 4, "
        "\"num_attention_heads\": 1, \"intermediate_size\": 4, \"vocab_size\": 3, "
        "\"max_position_embeddings\": 8}"); /* embeddings are [3, 2] */
    CHECK(base_inspect(dir, &info, &err) < 0 && strstr(err.msg, "word-embedding"));
    base_info_free(&info);
    make_base(dir, "bert");
    put(dir, "config.json", "{\"model_type\": \"bert\"}");
    CHECK(base_inspect(dir, &info, &err) < 0 && strstr(err.msg, "num_hidden_layers"));
    base_info_free(&info);
    make_base(dir, "bert");
    put(dir, "tokenizer_config.json", "not json");
    CHECK(base_inspect(dir, &info, &err) < 0 && strstr(err.msg, "tokenizer_config.json"));
    base_info_free(&info);
    free(dir);
}

static void test_fetch_refuses_before_any_request(void)
{
    struct base_fetch_opts o = {.endpoint = "http://127.0.0.1:1"};
    struct base_fetch_result res;
    struct fs_error err;
    CHECK(base_fetch("../etc", &o, &res, &err) < 0 && res.fail == BASE_FETCH_USAGE);
    base_fetch_result_free(&res);
    o.endpoint = "ftp://user:secret@example.org";
    CHECK(base_fetch("org/name", &o, &res, &err) < 0 && res.fail == BASE_FETCH_USAGE);
    CHECK(!strstr(err.msg, "secret"));
    base_fetch_result_free(&res);
    o.endpoint = "http://127.0.0.1:1";
    o.revision = "../../x";
    CHECK(base_fetch("org/name", &o, &res, &err) < 0 && res.fail == BASE_FETCH_USAGE);
    base_fetch_result_free(&res);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/finsent-base-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("FAIL test_base: mkdtemp\n");
        return 1;
    }
    RUN(test_sha256_vectors);
    RUN(test_name_valid);
    RUN(test_etag_sha256);
    RUN(test_safetensors_framing);
    RUN(test_inspect_and_list);
    RUN(test_inspect_rejects);
    RUN(test_fetch_refuses_before_any_request);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
    return check_summary();
}
