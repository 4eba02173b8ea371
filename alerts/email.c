/* email.c — [smtp] configuration, MIME message building, SMTP delivery via libcurl. */
#include "alerts/email.h"

#include "alerts/mime.h"
#include "alerts/secret.h"
#include "alerts/text.h"
#include "common/log.h"
#include "common/util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- configuration ------------------------------------------------------------- */

void smtp_config_free(struct smtp_config *sc)
{
    free(sc->url);
    free(sc->from);
    free(sc->from_addr);
    for (int i = 0; i < sc->n_to; i++) {
        free(sc->to[i]);
        free(sc->to_addr[i]);
    }
    free(sc->to);
    free(sc->to_addr);
    free(sc->username);
    free(sc->ca_file);
    secret_free(sc->password);
    memset(sc, 0, sizeof *sc);
}

static char *trim_copy(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

/* Checks a bare address: printable ASCII, no spaces or <>, one '@' with text both sides. */
static int addr_valid(const char *a)
{
    const char *at = strchr(a, '@');
    if (!at || at == a || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (const char *p = a; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F || *p == '<' || *p == '>' || *p == ',' || *p == '"')
            return 0;
    return 1;
}

/* "Name <a@b>" or "a@b" -> header form (as given) and bare address. ASCII only, so
 * nothing can break out of the header. Returns 0 or -1. */
static int parse_mailbox(const char *s, char **header, char **addr)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
            return -1;
    const char *lt = strchr(s, '<');
    char *bare;
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (!gt || gt[1] != '\0' || strchr(s, '"') || memchr(s, '>', (size_t)(lt - s)))
            return -1;
        bare = xstrndup(lt + 1, (size_t)(gt - lt - 1));
    } else {
        bare = xstrdup(s);
    }
    if (!addr_valid(bare)) {
        free(bare);
        return -1;
    }
    *header = xstrdup(s);
    *addr = bare;
    return 0;
}

static int load_recipients(const struct config *cfg, struct smtp_config *sc, struct fs_error *err)
{
    const char *v = config_get(cfg, "smtp", "to");
    if (!v || !*v)
        return config_error(cfg, "smtp", "url", err,
                            "email needs 'to' (a comma list of addresses)");
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *one = trim_copy(p, n);
        if (*one) {
            sc->to = xrealloc(sc->to, (size_t)(sc->n_to + 1) * sizeof *sc->to);
            sc->to_addr = xrealloc(sc->to_addr, (size_t)(sc->n_to + 1) * sizeof *sc->to_addr);
            if (parse_mailbox(one, &sc->to[sc->n_to], &sc->to_addr[sc->n_to]) < 0) {
                config_error(cfg, "smtp", "to", err, "'%s' is not an address", one);
                free(one);
                return -1;
            }
            sc->n_to++;
        }
        free(one);
        p += n + (comma ? 1 : 0);
    }
    if (sc->n_to == 0)
        return config_error(cfg, "smtp", "to", err, "no address given");
    return 0;
}

/* With read_secret = 0 only the keys are checked: the variable or file may exist
 * only where the alerts run (cron's environment), not where the config is read. */
static int load_password(const struct config *cfg, struct smtp_config *sc, int read_secret,
                         struct fs_error *err)
{
    if (config_get(cfg, "smtp", "password"))
        return config_error(cfg, "smtp", "password", err,
                            "passwords are not kept in the config; use password_env = NAME "
                            "or password_file = PATH");
    const char *env = config_get(cfg, "smtp", "password_env");
    const char *file = config_get(cfg, "smtp", "password_file");
    if (env && file)
        return config_error(cfg, "smtp", "password_file", err,
                            "give password_env or password_file, not both");
    if ((env || file) && !sc->username)
        return config_error(cfg, "smtp", env ? "password_env" : "password_file", err,
                            "a password needs a username");
    if (!read_secret)
        return 0;
    if (secret_load(cfg, "smtp", "password_env", "password_file", &sc->password, err) < 0)
        return -1;
    return 0;
}

static int load_url_and_tls(const struct config *cfg, struct smtp_config *sc, struct fs_error *err)
{
    const char *url = config_get(cfg, "smtp", "url");
    int smtps = str_starts_with_ci(url, "smtps://");
    if (!smtps && !str_starts_with_ci(url, "smtp://"))
        return config_error(cfg, "smtp", "url", err, "must start with smtp:// or smtps://");
    const char *auth = url + (smtps ? 8 : 7);
    size_t host_len = strcspn(auth, "/?#");
    if (memchr(auth, '@', host_len))
        return config_error(cfg, "smtp", "url", err,
                            "credentials do not belong in the url; use username and "
                            "password_env or password_file");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7F)
            return config_error(cfg, "smtp", "url", err, "contains a space or control character");
    sc->url = xstrdup(url);
    const char *tls = config_get(cfg, "smtp", "tls");
    if (!tls || !strcasecmp(tls, "required"))
        sc->tls = SMTP_TLS_REQUIRED;
    else if (!strcasecmp(tls, "optional"))
        sc->tls = SMTP_TLS_OPTIONAL;
    else if (!strcasecmp(tls, "none"))
        sc->tls = SMTP_TLS_NONE;
    else
        return config_error(cfg, "smtp", "tls", err, "'%s' is not required, optional or none", tls);
    if (smtps && sc->tls == SMTP_TLS_NONE)
        return config_error(cfg, "smtp", "tls", err, "smtps:// always uses TLS; remove tls = none");
    return 0;
}

const char *const smtp_config_keys[] = {"url",           "from",     "to",  "username",
                                        "password_env",  "password", "tls", "ca_file",
                                        "password_file", "timeout",  NULL};

static int smtp_config_read(const struct config *cfg, struct smtp_config *out, int read_secret,
                            struct fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!config_get(cfg, "smtp", "url"))
        return 0;
    struct smtp_config sc = {0};
    const char *from = config_get(cfg, "smtp", "from");
    const char *user = config_get(cfg, "smtp", "username");
    int rc = -1;
    if (load_url_and_tls(cfg, &sc, err) < 0)
        goto out;
    if (!from) {
        config_error(cfg, "smtp", "url", err, "email needs 'from' (the sender address)");
        goto out;
    }
    if (parse_mailbox(from, &sc.from, &sc.from_addr) < 0) {
        config_error(cfg, "smtp", "from", err, "'%s' is not an address (ASCII, a@b or Name <a@b>)",
                     from);
        goto out;
    }
    if (load_recipients(cfg, &sc, err) < 0)
        goto out;
    if (user) {
        if (!*user || strpbrk(user, "\r\n")) {
            config_error(cfg, "smtp", "username", err, "empty or contains a line break");
            goto out;
        }
        sc.username = xstrdup(user);
    }
    const char *ca = config_get(cfg, "smtp", "ca_file");
    if (ca) {
        if (access(ca, R_OK) != 0) {
            config_error(cfg, "smtp", "ca_file", err, "%s: %s", ca, strerror(errno));
            goto out;
        }
        sc.ca_file = xstrdup(ca);
    }
    if (load_password(cfg, &sc, read_secret, err) < 0 ||
        config_get_duration(cfg, "smtp", "timeout", 30, &sc.timeout, err) < 0)
        goto out;
    if (sc.timeout <= 0)
        sc.timeout = 30;
    *out = sc;
    return 0;
out:
    smtp_config_free(&sc);
    return rc;
}

int smtp_config_load(const struct config *cfg, struct smtp_config *out, struct fs_error *err)
{
    return smtp_config_read(cfg, out, 1, err);
}

int smtp_config_check(const struct config *cfg, struct fs_error *err)
{
    struct smtp_config sc;
    if (smtp_config_read(cfg, &sc, 0, err) < 0)
        return -1;
    smtp_config_free(&sc);
    return 0;
}

/* ---- building ------------------------------------------------------------------ */

void email_make_message_id(const struct smtp_config *sc, const char *seed, int64_t now, char *buf,
                           size_t size)
{
    char hex[33];
    struct strbuf material = STRBUF_INIT;
    sb_appendf(&material, "%lld|%ld|%s", (long long)now, (long)getpid(), seed);
    hash128_hex(material.buf, material.len, hex);
    sb_free(&material);
    const char *domain = "finsent.localhost";
    if (sc && sc->from_addr)
        domain = strchr(sc->from_addr, '@') + 1;
    snprintf(buf, size, "<%s@%s>", hex, domain);
}

void email_build_headers(const struct smtp_config *sc, const struct email_msg *m,
                         struct strbuf *out)
{
    struct mime_msg mm = {sc->from,   (const char *const *)sc->to, sc->n_to, m->subject,
                          m->message_id, m->date};
    mime_build_headers(&mm, out);
}

/* ---- sending ------------------------------------------------------------------- */

/* The header section as libcurl wants it: one list entry per header, a folded
 * header's continuation lines kept in its entry ("Subject: =?..?=\r\n =?..?="). */
static struct curl_slist *header_list(const char *head)
{
    struct curl_slist *list = NULL;
    struct strbuf one = STRBUF_INIT;
    for (const char *p = head; *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (p[0] != ' ' && one.len) {
            list = curl_slist_append(list, one.buf);
            sb_reset(&one);
        }
        if (one.len)
            sb_append(&one, "\r\n");
        sb_append_n(&one, p, n);
        p += n + (eol ? 2 : 0);
    }
    if (one.len)
        list = curl_slist_append(list, one.buf);
    sb_free(&one);
    return list;
}

/* text with CRLF line ends, as a MIME part's data must have them. */
static void to_crlf(struct strbuf *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            sb_append_char(out, '\r');
        sb_append_char(out, *p);
    }
}

static void add_text_part(curl_mime *mime, const char *type, const char *text)
{
    struct strbuf crlf = STRBUF_INIT;
    to_crlf(&crlf, text);
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_data(part, crlf.buf, crlf.len); /* libcurl copies the data */
    curl_mime_type(part, type);
    curl_mime_encoder(part, "quoted-printable");
    sb_free(&crlf);
}

/* The body: text/plain, or a multipart/alternative of text/plain and text/html. */
static curl_mime *build_body(CURL *h, const struct email_msg *m)
{
    curl_mime *mime = curl_mime_init(h);
    add_text_part(mime, "text/plain; charset=UTF-8", m->text);
    if (m->html)
        add_text_part(mime, "text/html; charset=UTF-8", m->html);
    return mime;
}

/* Verbose trace through log_debug, with the AUTH exchange redacted: from the
 * client's "AUTH" command until the server's next final reply, every client line
 * is shown as "[redacted]" (AUTH PLAIN carries the password on that line; AUTH
 * LOGIN sends user and password on the lines after it). */
struct trace {
    int in_auth;
};

static void trace_line(struct trace *t, curl_infotype type, const char *line, size_t n)
{
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    if (type == CURLINFO_HEADER_OUT) {
        if (n >= 4 && !strncasecmp(line, "AUTH", 4))
            t->in_auth = 1;
        if (t->in_auth) {
            log_debug("smtp > [redacted]");
            return;
        }
    }
    if (type == CURLINFO_HEADER_IN && t->in_auth && n >= 3 && line[0] != '3')
        t->in_auth = 0;
    char copy[512];
    size_t k = n < sizeof copy - 1 ? n : sizeof copy - 1;
    memcpy(copy, line, k);
    copy[k] = '\0';
    str_strip_controls(copy);
    log_debug("smtp %c %s",
              type == CURLINFO_HEADER_OUT  ? '>'
              : type == CURLINFO_HEADER_IN ? '<'
                                           : '*',
              copy);
}

static int trace_cb(CURL *h, curl_infotype type, char *data, size_t size, void *userp)
{
    (void)h;
    if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
        return 0; /* message bodies are not traced */
    const char *p = data, *end = data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
        trace_line(userp, type, p, n);
        p += n;
    }
    return 0;
}

int email_send(const struct smtp_config *sc, const struct email_msg *m, struct fs_error *err)
{
    CURL *h = curl_easy_init();
    if (!h)
        return fs_error_set(err, "email: cannot initialise libcurl");
    struct curl_slist *rcpt = NULL;
    for (int i = 0; i < sc->n_to; i++)
        rcpt = curl_slist_append(rcpt, sc->to_addr[i]);
    struct strbuf head = STRBUF_INIT;
    email_build_headers(sc, m, &head);
    if (m->html) /* the top level is the alternative itself, not a "mixed" around it */
        sb_append(&head, "Content-Type: multipart/alternative\r\n");
    struct curl_slist *headers = header_list(head.buf);
    sb_free(&head);
    curl_mime *body = build_body(h, m);
    struct trace tr = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    static const long use_ssl[] = {CURLUSESSL_ALL, CURLUSESSL_TRY, CURLUSESSL_NONE};
    curl_easy_setopt(h, CURLOPT_URL, sc->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl[sc->tls]);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, sc->from_addr);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)sc->timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(sc->timeout < 15 ? sc->timeout : 15));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (sc->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, sc->ca_file);
    if (sc->username)
        curl_easy_setopt(h, CURLOPT_USERNAME, sc->username);
    if (sc->password)
        curl_easy_setopt(h, CURLOPT_PASSWORD, sc->password);
    if (log_get_level() >= LOG_DEBUG) {
        curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, trace_cb);
        curl_easy_setopt(h, CURLOPT_DEBUGDATA, &tr);
        curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    }
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    curl_mime_free(body);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK)
        return 0;
    str_strip_controls(errbuf);
    if (rc == CURLE_USE_SSL_FAILED)
        return fs_error_set(err,
                            "email: %s does not offer STARTTLS and [smtp] tls = required "
                            "(set tls = optional or none to allow plain text)",
                            sc->url);
    return fs_error_set(err, "email: %s: %s%s%s (SMTP %ld)", sc->url, curl_easy_strerror(rc),
                        errbuf[0] ? ": " : "", errbuf, code);
}
