/* config_check.c — finsent's configuration schema and the up-front check. */
#include "cli/config_check.h"

#include "alerts/email.h"
#include "alerts/rules.h"
#include "alerts/webhook.h"
#include "classify/classify.h"
#include "crawler/source.h"
#include "entities/directory.h"
#include "trends/trends.h"

#include <stdlib.h>
#include <string.h>

static const char *const finsent_keys[] = {"contact", "database", NULL};
static const char *const model_keys[] = {"path", "device", "hub", "base", NULL};
static const char *const run_keys[] = {"lock_wait", NULL};
static const char *const watchlist_keys[] = {"entities", NULL};
static const char *const report_keys[] = {"path", NULL};

static const struct config_schema_section schema[] = {
    {"finsent", 0, finsent_keys},          {"crawler", 0, crawler_config_keys},
    {"source", 1, source_config_keys},     {"model", 0, model_keys},
    {"trends", 0, trends_config_keys},     {"alert", 1, alert_rule_config_keys},
    {"smtp", 0, smtp_config_keys},         {"run", 0, run_keys},
    {"entity", 1, entity_config_keys},     {"watchlist", 1, watchlist_keys},
    {"webhook", 1, webhook_config_keys},   {"report", 0, report_keys},
    {"classify", 0, classify_config_keys},
};

int config_device_valid(const char *device)
{
    return !strcmp(device, "auto") || !strcmp(device, "cpu") || !strcmp(device, "cuda");
}

static int check_crawler(const struct config *cfg, struct fs_error *err)
{
    struct crawler_settings cs;
    if (crawler_settings_load(cfg, &cs, err) < 0)
        return -1;
    struct source_config *sources = NULL;
    size_t n = 0;
    int rc = source_list_load(cfg, cs.interval, &sources, &n, err);
    crawler_settings_free(&cs);
    source_list_free(sources, n);
    return rc;
}

static int check_alerts(const struct config *cfg, struct fs_error *err)
{
    struct alert_rule *rules;
    int n;
    if (alert_rules_load(cfg, &rules, &n, err) < 0)
        return -1;
    free(rules);
    struct webhook_config *w;
    if (webhooks_load(cfg, &w, &n, 0, err) < 0)
        return -1;
    webhooks_free(w, n);
    return smtp_config_check(cfg, err);
}

static int check_model_and_run(const struct config *cfg, struct fs_error *err)
{
    const char *device = config_get(cfg, "model", "device");
    if (device && !config_device_valid(device))
        return config_error(cfg, "model", "device", err, "'%s' is not auto, cpu or cuda", device);
    struct classify_settings cs;
    if (classify_config_load(cfg, &cs, err) < 0)
        return -1;
    int64_t wait;
    return config_get_duration(cfg, "run", "lock_wait", 60, &wait, err);
}

int config_check_all(struct config *cfg, struct fs_error *err)
{
    if (config_check_schema(cfg, schema, FS_ARRAY_LEN(schema), err) < 0)
        return -1;
    struct spike_params sp;
    if (check_crawler(cfg, err) < 0 || trends_config_load(cfg, &sp, err) < 0 ||
        check_alerts(cfg, err) < 0 || check_model_and_run(cfg, err) < 0)
        return -1;
    return 0;
}
