/* csv.c — RFC 4180 reading and writing. */
#include "common/csv.h"

#include <stdlib.h>
#include <string.h>

void csv_reader_init(struct csv_reader *r, const char *text, size_t len)
{
    r->p = text;
    r->end = text + len;
    r->line = 1;
    /* skip a UTF-8 byte order mark */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r->p += 3;
}

static void rec_push(struct csv_record *rec, struct strbuf *field)
{
    size_t cap = (size_t)rec->cap;
    rec->fields = xgrow(rec->fields, (size_t)rec->n_fields, &cap, sizeof *rec->fields, 8);
    rec->cap = (int)cap;
    rec->fields[rec->n_fields++] = sb_detach(field);
}

static void rec_clear(struct csv_record *rec)
{
    for (int i = 0; i < rec->n_fields; i++)
        free(rec->fields[i]);
    rec->n_fields = 0;
}

void csv_record_free(struct csv_record *rec)
{
    rec_clear(rec);
    free(rec->fields);
    rec->fields = NULL;
    rec->cap = 0;
}

/* Reads a quoted field starting after the opening quote. */
static int read_quoted(struct csv_reader *r, struct strbuf *field, int start_line,
                       struct fs_error *err)
{
    while (r->p < r->end) {
        char c = *r->p++;
        if (c == '"') {
            if (r->p < r->end && *r->p == '"') {
                sb_append_char(field, '"');
                r->p++;
                continue;
            }
            return 0;
        }
        if (c == '\n')
            r->line++;
        sb_append_char(field, c);
    }
    return fs_error_set(err, "line %d: unterminated quoted field", start_line);
}

int csv_read_record(struct csv_reader *r, struct csv_record *rec, struct fs_error *err)
{
    rec_clear(rec);
    /* skip blank lines between records */
    while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) {
        if (*r->p == '\n')
            r->line++;
        r->p++;
    }
    if (r->p >= r->end)
        return 0;
    int start_line = r->line;
    struct strbuf field = STRBUF_INIT;
    for (;;) {
        if (r->p < r->end && *r->p == '"') {
            r->p++;
            if (read_quoted(r, &field, start_line, err) < 0) {
                sb_free(&field);
                return -1;
            }
        }
        /* an unquoted field (or text after a closing quote) runs to the delimiter;
         * stray quotes inside it are kept as text */
        while (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r')
            sb_append_char(&field, *r->p++);
        rec_push(rec, &field);
        if (r->p >= r->end)
            break;
        char c = *r->p++;
        if (c == ',')
            continue;
        if (c == '\r' && r->p < r->end && *r->p == '\n')
            r->p++;
        r->line++;
        break;
    }
    sb_free(&field);
    return 1;
}

void csv_append_field(struct strbuf *sb, const char *field)
{
    if (!field)
        field = "";
    if (!strpbrk(field, ",\"\r\n")) {
        sb_append(sb, field);
        return;
    }
    sb_append_char(sb, '"');
    for (const char *p = field; *p; p++) {
        if (*p == '"')
            sb_append_char(sb, '"');
        sb_append_char(sb, *p);
    }
    sb_append_char(sb, '"');
}

void csv_append_record(struct strbuf *sb, const char *const *fields, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            sb_append_char(sb, ',');
        csv_append_field(sb, fields[i]);
    }
    sb_append(sb, "\r\n");
}
