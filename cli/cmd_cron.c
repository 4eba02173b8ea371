/*
 * cmd_cron.c — `finsent cron [--every DURATION]`: a crontab entry and a
 * systemd service plus timer that run one cycle every DURATION, for this
 * machine's binary, config and database.
 *
 * DURATION is minutes ("45") or a duration ("90m", "2h", "1d"): a whole number
 * of minutes that divides a day, so that the runs are evenly spaced around the
 * clock, midnight included. Cron's "*" "/N" only restarts at every hour ("*" "/45"
 * runs at :00 and :45), so a period that does not divide an hour becomes one
 * line per minute of the hour it runs at, each with its hours:
 *
 *   --every 45    0 0-23/3, 45 0-23/3, 30 1-23/3, 15 2-23/3   (00:00, 00:45, 01:30, ...)
 *   --every 2h    0 0-23/2
 *
 * and the timer gets the same times as OnCalendar= lines. When a rule notifies
 * the desktop, the crontab line sets DBUS_SESSION_BUS_ADDRESS (cron's
 * environment has no session bus; systemd's user manager has one).
 */
#include "alerts/rules.h"
#include "cli/cli.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY_MINUTES 1440

static const char cron_usage[] =
    "usage: finsent cron [--every DURATION]\n"
    "Prints a crontab entry and a systemd service and timer that run one cycle every\n"
    "DURATION (default 15 minutes): minutes (\"45\") or 90m, 2h, 1d; it must divide a\n"
    "day (e.g. 5, 10, 15, 20, 30, 45, 60, 90 minutes; 2h, 3h, 4h, 6h, 8h, 12h; 1d).\n"
    "With desktop alerts configured the crontab line sets DBUS_SESSION_BUS_ADDRESS.\n";

/* One line of the schedule: at minute `minute` of the hours first, first + step,
 * ... up to 23. */
struct cron_slot {
    int minute, first_hour, hour_step;
};

static int gcd(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The slots of "every n minutes from midnight" (n divides a day): the pattern
 * repeats every lcm(n, 60) minutes, so each minute of the hour it runs at comes
 * back every lcm / 60 hours. Returns the number of slots (at most 60). */
static int cron_slots(int n, struct cron_slot *slots)
{
    int period = n / gcd(n, 60) * 60; /* lcm(n, 60): divides 1440 when n does */
    int k = 0;
    for (int t = 0; t < period; t += n)
        slots[k++] = (struct cron_slot){t % 60, t / 60, period / 60};
    return k;
}

/* "--every" as whole minutes dividing a day; 0 on success, else an exit code. */
static int parse_every(const char *every, int *minutes)
{
    int64_t seconds;
    char *end;
    long plain = strtol(every, &end, 10);
    if (end != every && *end == '\0') /* a bare number is minutes */
        seconds = plain >= 0 && plain <= DAY_MINUTES ? (int64_t)plain * 60 : -1;
    else if (duration_parse(every, &seconds) < 0)
        return cli_fail(FS_EXIT_USAGE, "cron: --every '%s' is not a duration (45, 90m, 2h, 1d)",
                        every);
    if (seconds < 60 || seconds > DAY_MINUTES * 60 || seconds % 60 != 0)
        return cli_fail(FS_EXIT_USAGE, "cron: --every must be whole minutes from 1m to 1d");
    int n = (int)(seconds / 60);
    if (DAY_MINUTES % n != 0) {
        int lo = n, hi = n;
        while (DAY_MINUTES % lo)
            lo--;
        while (DAY_MINUTES % hi)
            hi++;
        return cli_fail(FS_EXIT_USAGE,
                        "cron: --every %d minutes cannot repeat evenly each day (runs would "
                        "bunch at midnight); choose a period that divides 24h, e.g. %d or %d "
                        "minutes",
                        n, lo, hi);
    }
    *minutes = n;
    return 0;
}

static void format_period(int n, char *buf, size_t size)
{
    if (n == DAY_MINUTES)
        snprintf(buf, size, "day");
    else if (n % 60 == 0)
        snprintf(buf, size, "%d hour%s", n / 60, n == 60 ? "" : "s");
    else
        snprintf(buf, size, "%d minutes", n);
}

/* The crontab's time fields for slot s ("*" "/15 * * * *" when n divides an hour). */
static void cron_fields(int n, const struct cron_slot *s, struct strbuf *sb)
{
    if (n < 60 && 60 % n == 0)
        sb_appendf(sb, "*/%d * * * *", n);
    else if (s->hour_step == 1)
        sb_appendf(sb, "%d * * * *", s->minute);
    else if (s->hour_step == 24)
        sb_appendf(sb, "%d %d * * *", s->minute, s->first_hour);
    else
        sb_appendf(sb, "%d %d-23/%d * * *", s->minute, s->first_hour, s->hour_step);
}

static void calendar_spec(int n, const struct cron_slot *s, struct strbuf *sb)
{
    if (n < 60 && 60 % n == 0)
        sb_appendf(sb, "*-*-* *:00/%d:00", n);
    else if (s->hour_step == 1)
        sb_appendf(sb, "*-*-* *:%02d:00", s->minute);
    else if (s->hour_step == 24)
        sb_appendf(sb, "*-*-* %02d:%02d:00", s->first_hour, s->minute);
    else
        sb_appendf(sb, "*-*-* %02d/%d:%02d:00", s->first_hour, s->hour_step, s->minute);
}

static char *self_path(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return xstrdup("finsent");
    buf[n] = '\0';
    return xstrdup(buf);
}

static char *absolute(const char *path)
{
    char buf[PATH_MAX];
    if (path[0] == '/' || !getcwd(buf, sizeof buf))
        return xstrdup(path);
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s/%s", buf, path);
    return sb_detach(&sb);
}

/* 1 when some rule notifies the desktop (the built-in rule does). */
static int desktop_alerts(const struct config *cfg)
{
    struct alert_rule *rules;
    int n;
    struct fs_error err;
    if (alert_rules_load(cfg, &rules, &n, &err) < 0)
        return 0; /* cannot happen: cli_config() checked the rules */
    unsigned channels = 0;
    for (int i = 0; i < n; i++)
        channels |= rules[i].notify;
    free(rules);
    return (channels & ALERT_CH_DESKTOP) != 0;
}

static void print_crontab(int n, const struct cron_slot *slots, int n_slots, const char *command,
                          int dbus)
{
    char period[32];
    format_period(n, period, sizeof period);
    printf("# crontab -e: one cycle every %s, quiet unless something to say\n", period);
    if (dbus)
        printf("# (desktop alerts need the session bus, which cron does not provide)\n");
    int lines = n < 60 && 60 % n == 0 ? 1 : n_slots;
    for (int i = 0; i < lines; i++) {
        struct strbuf sb = STRBUF_INIT;
        cron_fields(n, &slots[i], &sb);
        if (dbus)
            printf("%s DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/%u/bus %s\n", sb.buf,
                   (unsigned)getuid(), command);
        else
            printf("%s %s\n", sb.buf, command);
        sb_free(&sb);
    }
    printf("\n");
}

static void print_systemd(int n, const struct cron_slot *slots, int n_slots, const char *command)
{
    char period[32];
    format_period(n, period, sizeof period);
    printf("# ~/.config/systemd/user/finsent.service\n"
           "[Unit]\nDescription=finsent: one crawl/classify/trends/alerts cycle\n\n"
           "[Service]\nType=oneshot\nExecStart=%s\nNice=10\n\n",
           command);
    printf("# ~/.config/systemd/user/finsent.timer\n"
           "[Unit]\nDescription=run finsent every %s\n\n[Timer]\n",
           period);
    int lines = n < 60 && 60 % n == 0 ? 1 : n_slots;
    for (int i = 0; i < lines; i++) {
        struct strbuf sb = STRBUF_INIT;
        calendar_spec(n, &slots[i], &sb);
        printf("OnCalendar=%s\n", sb.buf);
        sb_free(&sb);
    }
    printf("Persistent=true\nRandomizedDelaySec=%d\n\n"
           "[Install]\nWantedBy=timers.target\n\n"
           "# then: systemctl --user daemon-reload && systemctl --user enable --now "
           "finsent.timer\n",
           n < 4 ? 15 * n : 60);
}

int cmd_cron(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *every = "15";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            fputs(cron_usage, stdout);
            return FS_EXIT_OK;
        }
        int r = cli_opt_value(argc, argv, &i, "--every", &every);
        if (r < 0)
            return FS_EXIT_USAGE;
        if (r == 0)
            return cli_fail(FS_EXIT_USAGE, "cron: unknown option '%s' (see --help)", argv[i]);
    }
    int minutes = 0, rc;
    if ((rc = parse_every(every, &minutes)) != 0 || (rc = cli_config(ctx)) != 0 ||
        (rc = cli_db_path(ctx)) != 0)
        return rc;
    struct cron_slot slots[60];
    int n_slots = cron_slots(minutes, slots);
    char *exe = self_path(), *conf = absolute(ctx->config_path), *db = absolute(ctx->db_path);
    struct strbuf command = STRBUF_INIT;
    sb_appendf(&command, "%s --config %s --db %s --quiet run", exe, conf, db);
    print_crontab(minutes, slots, n_slots, command.buf, desktop_alerts(ctx->cfg));
    print_systemd(minutes, slots, n_slots, command.buf);
    sb_free(&command);
    free(exe);
    free(conf);
    free(db);
    return FS_EXIT_OK;
}
