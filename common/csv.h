/*
 * csv.h — RFC 4180 CSV: a reader over an in-memory buffer and a field writer.
 *
 * Reader: quoted fields may hold commas, doubled quotes and newlines; CRLF and LF
 * record endings are both accepted.
 *
 *   struct csv_reader r;
 *   csv_reader_init(&r, text, len);
 *   while (csv_read_record(&r, &rec, &err) > 0) { rec.fields[i] ... }
 *   csv_record_free(&rec);
 */
#ifndef FINSENT_CSV_H
#define FINSENT_CSV_H

#include "common/common.h"
#include "common/strbuf.h"

#include <stdio.h>

struct csv_reader {
    const char *p, *end;
    int line; /* line where the current record starts (1-based) */
};

struct csv_record {
    char **fields; /* fields[i] is NUL-terminated and owned by the record */
    int n_fields;
    int cap;
};

void csv_reader_init(struct csv_reader *r, const char *text, size_t len);

/* Reads the next record into rec (reusing its memory). Returns 1 when a record
 * was read, 0 at end of input, -1 on a malformed record (err says line). */
int csv_read_record(struct csv_reader *r, struct csv_record *rec, struct fs_error *err);

void csv_record_free(struct csv_record *rec);

/* Appends one field, quoted when it contains a comma, quote, CR or LF. */
void csv_append_field(struct strbuf *sb, const char *field);

/* Writes a whole record (fields joined by ',', ended by CRLF as RFC 4180 says). */
void csv_append_record(struct strbuf *sb, const char *const *fields, int n);

#endif
