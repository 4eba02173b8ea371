/*
 * email.h — alert email: the [smtp] configuration, building an RFC 5322 / MIME
 * message, and sending it over SMTP with libcurl.
 *
 *   [smtp]
 *   url          = smtp://mail.example.com:587   # or smtps://host:465
 *   from         = finsent <finsent@example.com>
 *   to           = ops@example.com, risk@example.com
 *   username     = finsent                       # optional
 *   password_env = FINSENT_SMTP_PASSWORD         # or password_file = PATH (mode 0600)
 *   tls          = required                      # required | optional | none
 *   timeout      = 30s
 *   ca_file      = /path/ca.pem                  # optional: trust this CA (else the system's)
 *
 * smtp:// upgrades with STARTTLS, which is required unless tls says otherwise;
 * smtps:// is TLS from the first byte. Credentials never go in the url. The
 * password is read when the configuration is loaded, kept only in struct
 * smtp_config (wiped by smtp_config_free), and never placed in an error, a log
 * line or curl's verbose output (AUTH exchanges are redacted).
 */
#ifndef FINSENT_ALERTS_EMAIL_H
#define FINSENT_ALERTS_EMAIL_H

#include "common/common.h"
#include "common/config.h"
#include "common/strbuf.h"

#include <stdint.h>

enum smtp_tls { SMTP_TLS_REQUIRED = 0, SMTP_TLS_OPTIONAL = 1, SMTP_TLS_NONE = 2 };

struct smtp_config {
    char *url;       /* NULL when email is not configured */
    char *from;      /* header form, e.g. "finsent <a@b>" */
    char *from_addr; /* bare address for MAIL FROM */
    char **to;       /* header forms */
    char **to_addr;  /* bare addresses for RCPT TO */
    int n_to;
    char *username; /* NULL = no AUTH */
    char *password; /* secret; NULL when none */
    enum smtp_tls tls;
    char *ca_file;   /* NULL = the system's CA store */
    int64_t timeout; /* seconds */
};

/* Reads [smtp]. With no url, returns 0 and leaves cfg->url NULL (email off). Bad or
 * missing values fail with "FILE:LINE: [smtp] key: reason"; a password_file readable
 * by group or others is refused. Free with smtp_config_free(). */
int smtp_config_load(const struct config *cfg, struct smtp_config *out, struct fs_error *err);
void smtp_config_free(struct smtp_config *sc);

/* Checks [smtp] as smtp_config_load() does without reading the password (its
 * environment variable or file need only exist where email is sent). */
int smtp_config_check(const struct config *cfg, struct fs_error *err);

/* The keys of [smtp] (NULL-terminated), for the configuration's schema. */
extern const char *const smtp_config_keys[];

/* One message to build. Strings are UTF-8; subject may hold anything (it is cleaned
 * and RFC 2047 encoded); text uses LF line ends. */
struct email_msg {
    const char *subject;
    const char *text;
    const char *html;       /* NULL = text/plain only */
    const char *message_id; /* "<...@...>" */
    int64_t date;
};

/* Appends the message's header section (mime.h) from sc's From and To to out:
 * what email_send() hands libcurl, which adds the MIME body. */
void email_build_headers(const struct smtp_config *sc, const struct email_msg *m,
                         struct strbuf *out);

/* Makes a Message-ID "<32 hex digits@domain>" from seed, now and the process id, with
 * the domain of the From address ("finsent.localhost" when sc is NULL). */
void email_make_message_id(const struct smtp_config *sc, const char *seed, int64_t now, char *buf,
                           size_t size);

/* Sends m to every recipient: the headers of email_build_headers() and a body
 * libcurl builds (curl_mime: multipart/alternative of text/plain and text/html,
 * UTF-8, quoted-printable). Returns 0 when the server accepted it, -1 with err
 * (never containing the password) otherwise. */
int email_send(const struct smtp_config *sc, const struct email_msg *m, struct fs_error *err);

#endif
