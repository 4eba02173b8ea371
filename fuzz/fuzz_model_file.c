/* fuzz_model_file.c — libFuzzer target for finsent's own model file reader
 * (classifier_parse, what `finsent classify`/`predict` load --model with, see
 * classify/infer.h): the input is a whole model file image. It must be
 * accepted or refused with one line; an accepted model must classify a text
 * (labels in range, probabilities that sum to 1). Nothing may crash, read out
 * of bounds or leak.
 *
 * Seeds: three tiny model files that scripts/fuzz.sh writes with
 * fuzz/model_seeds.c. The CPU backend is created once; inputs are read up to
 * FILE_MAX bytes (scripts/fuzz.sh gives -max_len=16384 too): the seeds are
 * 3-6 KiB, and the loader allocates no more than the file's tensors hold. */
#define FUZZ_WITH_BACKEND
#include "classify/infer.h"
#include "common/util.h"
#include "fuzz/fuzz_util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX 16384

static void check_probs(const float *p, int n)
{
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        if (!(p[i] >= 0.0f && p[i] <= 1.0f))
            abort();
        sum += p[i];
    }
    if (fabsf(sum - 1.0f) > 1e-3f)
        abort();
}

/* One text through the loaded model. */
static void classify_checked(struct classifier *c)
{
    static const char text[] = "Fed raises rates; $AAPL stocks rally 5%";
    const char *texts[] = {text};
    size_t lens[] = {sizeof text - 1};
    struct prediction p;
    struct fs_error err;
    if (classifier_predict(c, texts, lens, 1, NULL, &p, &err) < 0)
        return;
    if (p.topic < 0 || p.topic >= N_TOPICS || p.sentiment < 0 || p.sentiment >= N_SENTIMENTS)
        abort();
    check_probs(p.topic_probs, N_TOPICS);
    check_probs(p.sentiment_probs, N_SENTIMENTS);
    prediction_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size = fuzz_cut(size, FILE_MAX);
    unsigned char *img = xmalloc(size + 1);
    memcpy(img, data, size);
    struct classifier *c;
    struct fs_error err;
    if (classifier_parse(img, size, fuzz_cpu, &c, &err) < 0) { /* takes img */
        if (!err.msg[0] || strchr(err.msg, '\n'))
            abort(); /* a refusal is one non-empty line */
        return 0;
    }
    classify_checked(c);
    classifier_free(c);
    return 0;
}
