/* desktop.c — one desktop notification through libnotify. */
#include "alerts/desktop.h"

#include "alerts/message.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <libnotify/notify.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* GLib would otherwise try to autolaunch a bus through X11 (dbus-launch), leaving
 * a stray daemon behind; with no address and no $XDG_RUNTIME_DIR/bus socket there
 * is simply no session to notify. */
static int session_bus_present(void)
{
    const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
    if (addr && *addr)
        return 1;
    const char *run = getenv("XDG_RUNTIME_DIR");
    if (!run || !*run)
        return 0;
    struct strbuf path = STRBUF_INIT;
    sb_appendf(&path, "%s/bus", run);
    struct stat st;
    int ok = stat(path.buf, &st) == 0 && S_ISSOCK(st.st_mode);
    sb_free(&path);
    return ok;
}

static int server_has_markup(void)
{
    GList *caps = notify_get_server_caps();
    int markup = 0;
    for (GList *c = caps; c; c = c->next)
        markup |= c->data && strcmp(c->data, "body-markup") == 0;
    g_list_free_full(caps, g_free);
    return markup;
}

static NotifyUrgency urgency_of(const char *urgency)
{
    if (urgency && !strcmp(urgency, "critical"))
        return NOTIFY_URGENCY_CRITICAL;
    if (urgency && !strcmp(urgency, "low"))
        return NOTIFY_URGENCY_LOW;
    return NOTIFY_URGENCY_NORMAL;
}

int desktop_notify(const char *summary, const char *body, const char *urgency, struct fs_error *err)
{
    if (!session_bus_present()) {
        fs_error_set(err, "desktop: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set); "
                          "notification not shown");
        return DESKTOP_NO_BUS;
    }
    if (!notify_init("finsent"))
        return fs_error_set(err, "desktop: cannot initialise libnotify");
    struct strbuf text = STRBUF_INIT;
    if (server_has_markup())
        text_append_html(&text, body, 0, 2000);
    else
        text_append_clean(&text, body, 0, 2000);
    struct strbuf title = STRBUF_INIT;
    text_append_clean(&title, summary, 1, 200);
    NotifyNotification *n = notify_notification_new(title.buf, text.buf, "dialog-warning");
    notify_notification_set_urgency(n, urgency_of(urgency));
    notify_notification_set_category(n, "finsent.alert");
    GError *gerr = NULL;
    int ok = notify_notification_show(n, &gerr);
    if (!ok) {
        char msg[256];
        str_copy(msg, sizeof msg, gerr && gerr->message ? gerr->message : "unknown error");
        str_strip_controls(msg);
        fs_error_set(err,
                     "desktop: no notification daemon answered (%s); notification not "
                     "shown",
                     msg);
    }
    if (gerr)
        g_error_free(gerr);
    g_object_unref(G_OBJECT(n));
    sb_free(&text);
    sb_free(&title);
    notify_uninit();
    return ok ? 0 : -1;
}
