/* desktop.c — one desktop notification through libnotify. */
#include "alerts/desktop.h"

#include "alerts/message.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <fcntl.h>
#include <libnotify/notify.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

static NotifyUrgency urgency_of(const char *urgency)
{
    if (urgency && !strcmp(urgency, "critical"))
        return NOTIFY_URGENCY_CRITICAL;
    if (urgency && !strcmp(urgency, "low"))
        return NOTIFY_URGENCY_LOW;
    return NOTIFY_URGENCY_NORMAL;
}

/* What the helper waits for after showing a notification with an action. */
struct waiter {
    GMainLoop *loop;
    const char *url;
};

static void on_action(NotifyNotification *n, char *action, gpointer data)
{
    (void)n;
    (void)action;
    struct waiter *w = data;
    char *argv[] = {(char *)"xdg-open", (char *)w->url, NULL};
    g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                  NULL, NULL);
    g_main_loop_quit(w->loop);
}

static gboolean on_timeout(gpointer data)
{
    g_main_loop_quit(((struct waiter *)data)->loop);
    return G_SOURCE_REMOVE;
}

static void on_closed(NotifyNotification *n, gpointer data)
{
    (void)n;
    g_main_loop_quit(((struct waiter *)data)->loop);
}

static int server_has_cap(const char *cap)
{
    GList *caps = notify_get_server_caps();
    int found = 0;
    for (GList *c = caps; c; c = c->next)
        found |= c->data && strcmp(c->data, cap) == 0;
    g_list_free_full(caps, g_free);
    return found;
}

/* Shows the notification; with w (and a server that supports actions) its default
 * action opens w->url. *out: the notification, to unref. */
static int show(const char *summary, const char *body, const char *urgency, struct waiter *w,
                NotifyNotification **out, struct fs_error *err)
{
    if (!session_bus_present()) {
        fs_error_set(err, "desktop: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set); "
                          "notification not shown");
        return DESKTOP_NO_BUS;
    }
    if (!notify_init("finsent"))
        return fs_error_set(err, "desktop: cannot initialise libnotify");
    struct strbuf text = STRBUF_INIT, title = STRBUF_INIT;
    if (server_has_cap("body-markup"))
        text_append_html(&text, body, 0, 2000);
    else
        text_append_clean(&text, body, 0, 2000);
    text_append_clean(&title, summary, 1, 200);
    NotifyNotification *n = notify_notification_new(title.buf, text.buf, "dialog-warning");
    notify_notification_set_urgency(n, urgency_of(urgency));
    notify_notification_set_category(n, "finsent.alert");
    if (w && !server_has_cap("actions"))
        w->url = NULL; /* nothing to wait for */
    if (w && w->url) {
        notify_notification_add_action(n, "default", "Open", on_action, w, NULL);
        g_signal_connect(n, "closed", G_CALLBACK(on_closed), w);
    }
    GError *gerr = NULL;
    int ok = notify_notification_show(n, &gerr);
    if (!ok) {
        char msg[256];
        str_copy(msg, sizeof msg, gerr && gerr->message ? gerr->message : "unknown error");
        str_strip_controls(msg);
        fs_error_set(err, "desktop: no notification daemon answered (%s); notification not shown",
                     msg);
    }
    if (gerr)
        g_error_free(gerr);
    sb_free(&text);
    sb_free(&title);
    *out = n;
    return ok ? 0 : -1;
}

static int notify_here(const char *summary, const char *body, const char *urgency,
                       struct fs_error *err)
{
    NotifyNotification *n = NULL;
    int rc = show(summary, body, urgency, NULL, &n, err);
    if (n)
        g_object_unref(G_OBJECT(n));
    if (rc != DESKTOP_NO_BUS)
        notify_uninit();
    return rc;
}

int desktop_helper_main(int argc, char **argv)
{
    if (argc != 6)
        return 2;
    struct fs_error err = {""};
    struct waiter w = {g_main_loop_new(NULL, FALSE), argv[5]};
    NotifyNotification *n = NULL;
    int rc = show(argv[2], argv[3], argv[4], &w, &n, &err);
    printf("%s %s\n", rc == 0 ? "OK" : rc == DESKTOP_NO_BUS ? "NOBUS" : "ERR", err.msg);
    fflush(stdout);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, STDOUT_FILENO); /* the caller reads up to end of file */
        close(devnull);
    }
    if (rc == 0 && w.url) {
        g_timeout_add_seconds(DESKTOP_ACTION_WAIT, on_timeout, &w);
        g_main_loop_run(w.loop);
    }
    if (n)
        g_object_unref(G_OBJECT(n));
    g_main_loop_unref(w.loop);
    if (rc != DESKTOP_NO_BUS)
        notify_uninit();
    return rc == 0 ? 0 : 1;
}

/* Starts the helper detached (fork, fork, exec: the helper's parent exits at once,
 * so nothing is left to reap); *fd gets the read end of its stdout. Its stdin and
 * stderr are /dev/null: it outlives this process, and must not hold open a pipe
 * that whoever started finsent reads to its end (cron mailing the output, a test
 * capturing it). */
static int spawn_helper(char *const argv[], int *fd)
{
    int p[2];
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
        return -1;
    if (pipe2(p, O_CLOEXEC) < 0) {
        close(null);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* only async-signal-safe calls until exec: this process may have threads */
        if (fork() == 0) {
            setsid();
            dup2(null, STDIN_FILENO);
            dup2(p[1], STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            execv(argv[0], argv);
            _exit(127);
        }
        _exit(0);
    }
    close(null);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    waitpid(pid, NULL, 0);
    *fd = p[0];
    return 0;
}

/* The helper's one line ("OK", "NOBUS why", "ERR why"), read within 30 s. */
static int read_answer(int fd, struct fs_error *err)
{
    char line[FS_ERROR_MAX + 16];
    size_t len = 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    while (len < sizeof line - 1 && poll(&pfd, 1, 30000) > 0) {
        ssize_t n = read(fd, line + len, sizeof line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (memchr(line, '\n', len))
            break;
    }
    close(fd);
    line[len] = '\0';
    line[strcspn(line, "\n")] = '\0';
    if (!strncmp(line, "OK", 2))
        return 0;
    int no_bus = !strncmp(line, "NOBUS ", 6);
    if (no_bus || !strncmp(line, "ERR ", 4)) {
        fs_error_set(err, "%s", line + (no_bus ? 6 : 4));
        return no_bus ? DESKTOP_NO_BUS : -1;
    }
    return fs_error_set(err, "desktop: the notification helper did not answer");
}

int desktop_notify(const char *summary, const char *body, const char *urgency,
                   const char *open_url, struct fs_error *err)
{
    char exe[4096];
    ssize_t len = open_url && *open_url ? readlink("/proc/self/exe", exe, sizeof exe - 1) : -1;
    if (len <= 0 || !session_bus_present())
        return notify_here(summary, body, urgency, err);
    exe[len] = '\0';
    char *argv[] = {exe,          (char *)DESKTOP_HELPER_ARG, (char *)summary, (char *)body,
                    (char *)(urgency ? urgency : "normal"), (char *)open_url, NULL};
    int fd;
    if (spawn_helper(argv, &fd) < 0)
        return notify_here(summary, body, urgency, err);
    return read_answer(fd, err);
}
