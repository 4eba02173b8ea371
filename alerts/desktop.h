/*
 * desktop.h — desktop notifications through libnotify (the freedesktop.org
 * notification service on the D-Bus session bus).
 *
 * Everything libnotify needs (notify_init ... notify_uninit) happens inside one
 * call (or in the helper process below): there is no global state to set up or
 * tear down around it.
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
                   const char *open_url, struct fs_error *err);

/* With open_url (an http(s) or file:// link, or NULL), the notification gets a
 * default action that opens it with xdg-open, where the notification server
 * supports actions ("actions" in its capabilities). An action is delivered only
 * to the process that showed the notification, and only while it listens, so
 * finsent (a one-shot run under cron) hands the notification to a detached
 * helper: itself, started as `finsent __desktop-notify SUMMARY BODY URGENCY URL`.
 * The helper shows it, reports the outcome on its stdout ("OK", "NOBUS why" or
 * "ERR why"; desktop_notify() waits for that line, at most 30 s), then waits for
 * the click or the notification's closing, at most DESKTOP_ACTION_WAIT seconds. */
#define DESKTOP_HELPER_ARG "__desktop-notify"
#define DESKTOP_ACTION_WAIT (12 * 3600)

/* main() of the helper: argv[1] is DESKTOP_HELPER_ARG. Returns the exit code. */
int desktop_helper_main(int argc, char **argv);

#endif
