/*
 * config_check.h — the whole configuration checked once, before a command runs.
 *
 * Every section finsent knows is in one schema (the keys live beside the code
 * that reads them: crawler/source.h, trends/trends.h, alerts/rules.h,
 * alerts/email.h; [finsent], [model] and [run] here). A command that reads the
 * configuration first runs config_check_all(): an unknown section or key, a
 * repeat, a bad value, an unknown topic, an XPath that does not compile or a
 * device that does not exist stops it with "FILE:LINE: ..." (exit 4) before it
 * fetches, classifies or writes anything.
 */
#ifndef FINSENT_CONFIG_CHECK_H
#define FINSENT_CONFIG_CHECK_H

#include "common/common.h"
#include "common/config.h"

/* Attaches finsent's schema to cfg and checks every section, key and value
 * (without reading secrets: the SMTP password is read where email is sent).
 * Returns 0, or -1 with err set to one line naming file and line. */
int config_check_all(struct config *cfg, struct fs_error *err);

/* The compute devices [model] device and --device take. */
int config_device_valid(const char *device);

#endif
