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
 * "low". Returns 0 when the notification daemon accepted it; -1 with err when no
 * daemon answered on the session bus (worth retrying: the user may log in, the
 * daemon may start); DESKTOP_NO_BUS with err when there is no session bus to
 * talk to at all (DBUS_SESSION_BUS_ADDRESS unset and no $XDG_RUNTIME_DIR/bus, as
 * under cron): retrying from the same environment cannot help. */
enum { DESKTOP_NO_BUS = -2 };

int desktop_notify(const char *summary, const char *body, const char *urgency,
                   struct fs_error *err);

#endif
