/*
 * desktop.h — desktop notifications through libnotify (the freedesktop.org
 * notification service on the D-Bus session bus).
 *
 * Everything libnotify needs (notify_init ... notify_uninit) happens inside one
 * call: there is no global state to set up or tear down around it.
 */
#ifndef FINSENT_ALERTS_DESKTOP_H
#define FINSENT_ALERTS_DESKTOP_H

#include "common/common.h"

/* Shows one notification. summary and body are plain UTF-8 text (the body is
 * escaped when the daemon interprets markup); urgency is "critical", "normal" or
 * "low". Returns 0 when the notification daemon accepted it, -1 with err when
 * there is no session bus or no daemon answered (err says which). */
int desktop_notify(const char *summary, const char *body, const char *urgency,
                   struct fs_error *err);

#endif
