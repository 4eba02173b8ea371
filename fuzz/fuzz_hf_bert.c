/* fuzz_hf_bert.c — libFuzzer target for the pretrained-checkpoint reader
 * (classify/hf_bert.h): the input is a config.json and a model.safetensors
 * image (the first two bytes give the config's length). The config must be
 * accepted or refused with a reason; when accepted and small, the safetensors
 * image is parsed and its tensors read into a model of that configuration.
 * Nothing may crash, read out of bounds or leak. */
#define FUZZ_WITH_BACKEND
#include "classify/hf_bert.h"
#include "classify/safetensors.h"
#include "common/util.h"
#include "fuzz/fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t clen = (size_t)data[0] | (size_t)data[1] << 8;
    if (clen > size - 2)
        clen = size - 2;
    const char *cfg_text = (const char *)data + 2;
    struct model_config cfg;
    struct fs_error err;
    if (hf_bert_parse_config(cfg_text, clen, NULL, &cfg, &err) < 0)
        return 0;
    struct model *m;
    /* keep the fuzzer fast: only small configurations get a model */
    if ((size_t)cfg.vocab * cfg.width > 1u << 20 || cfg.layers > 4 || cfg.ffn > 1024 ||
        cfg.max_len > 1024 || model_create(&cfg, fuzz_cpu, 1, &m, &err) < 0)
        return 0;
    size_t slen = size - 2 - clen;
    unsigned char *img = xmalloc(slen + 1);
    memcpy(img, data + 2 + clen, slen);
    struct st_file f;
    if (st_parse(img, slen, &f, &err) == 0) /* st_parse owns img */
        hf_bert_load_tensors(&f, m, &err);
    st_free(&f);
    model_free(m);
    return 0;
}
