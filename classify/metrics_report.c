/* metrics_report.c — printing an evaluation as a text table and as JSON. */
#include "classify/metrics_report.h"

#include <stdio.h>
#include <string.h>

#define NAME_WIDTH 28 /* the label column of the per-class table */

static void label_of(const char *const *names, int c, char *buf, size_t size)
{
    if (names && names[c])
        snprintf(buf, size, "%s", names[c]);
    else
        snprintf(buf, size, "%d", c);
}

static void per_class_table(struct strbuf *sb, const struct metrics *m, const char *const *names)
{
    char name[128];
    sb_appendf(sb, "%-*s %9s %7s %7s %8s\n", NAME_WIDTH, "label", "precision", "recall", "f1",
               "support");
    double sp = 0, sr = 0;
    int present = 0;
    for (int c = 0; c < m->n_classes; c++) {
        label_of(names, c, name, sizeof name);
        sb_appendf(sb, "%-*.*s %9.4f %7.4f %7.4f %8zu\n", NAME_WIDTH, NAME_WIDTH, name,
                   m->precision[c], m->recall[c], m->f1[c], m->support[c]);
        /* macro averages over the same classes as macro-F1: seen in truth or predictions */
        int predicted = 0;
        for (int t = 0; t < m->n_classes && !predicted; t++)
            predicted = m->confusion[(size_t)t * (size_t)m->n_classes + (size_t)c] != 0;
        if (m->support[c] || predicted) {
            present++;
            sp += m->precision[c];
            sr += m->recall[c];
        }
    }
    sb_appendf(sb, "%-*s %9.4f %7.4f %7.4f %8zu\n", NAME_WIDTH, "macro avg",
               present ? sp / present : 0.0, present ? sr / present : 0.0, m->macro_f1, m->n);
}

static void confusion_table(struct strbuf *sb, const struct metrics *m, const char *const *names)
{
    char name[128];
    size_t k = (size_t)m->n_classes, widest = 3;
    for (size_t i = 0; i < k * k; i++) {
        size_t w = (size_t)snprintf(NULL, 0, "%zu", m->confusion[i]);
        widest = w > widest ? w : widest;
    }
    int cw = (int)widest + 1;
    /* columns are headed by class ids: names do not fit above a number */
    sb_append(sb, "confusion (rows = true, columns = predicted class id)\n");
    sb_appendf(sb, "%-*s", NAME_WIDTH + 4, "");
    for (int c = 0; c < m->n_classes; c++)
        sb_appendf(sb, "%*d", cw, c);
    sb_append_char(sb, '\n');
    for (int t = 0; t < m->n_classes; t++) {
        label_of(names, t, name, sizeof name);
        sb_appendf(sb, "%3d %-*.*s", t, NAME_WIDTH, NAME_WIDTH, name);
        for (int c = 0; c < m->n_classes; c++)
            sb_appendf(sb, "%*zu", cw, m->confusion[(size_t)t * k + (size_t)c]);
        sb_append_char(sb, '\n');
    }
}

void metrics_report_text(struct strbuf *sb, const struct metrics *m, const char *const *names)
{
    sb_appendf(sb, "n %zu  accuracy %.4f  macro-F1 %.4f\n\n", m->n, m->accuracy, m->macro_f1);
    per_class_table(sb, m, names);
    sb_append_char(sb, '\n');
    confusion_table(sb, m, names);
}

json_t *metrics_report_json(const struct metrics *m, const char *const *names)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)m->n));
    json_object_set_new(o, "accuracy", json_real(m->accuracy));
    json_object_set_new(o, "macro_f1", json_real(m->macro_f1));
    json_t *labels = json_array(), *per_class = json_array(), *confusion = json_array();
    size_t k = (size_t)m->n_classes;
    for (int c = 0; c < m->n_classes; c++) {
        char name[128];
        label_of(names, c, name, sizeof name);
        json_array_append_new(labels, json_string(name));
        json_t *pc = json_object();
        json_object_set_new(pc, "label", json_string(name));
        json_object_set_new(pc, "id", json_integer(c));
        json_object_set_new(pc, "precision", json_real(m->precision[c]));
        json_object_set_new(pc, "recall", json_real(m->recall[c]));
        json_object_set_new(pc, "f1", json_real(m->f1[c]));
        json_object_set_new(pc, "support", json_integer((json_int_t)m->support[c]));
        json_array_append_new(per_class, pc);
        json_t *row = json_array();
        for (size_t p = 0; p < k; p++)
            json_array_append_new(row, json_integer((json_int_t)m->confusion[(size_t)c * k + p]));
        json_array_append_new(confusion, row);
    }
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "per_class", per_class);
    json_object_set_new(o, "confusion", confusion);
    return o;
}
