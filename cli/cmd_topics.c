/*
 * cmd_topics.c — `finsent topics [--json]`: the 20 topic names and their ids.
 *
 * Rules (topics =), silences and --topic take a name in any case, a unique
 * prefix of it or of one of its " | " parts ("energy", "oil"), or the id.
 */
#include "classify/dataset.h"
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char topics_usage[] =
    "usage: finsent topics [--json]\n"
    "Lists the topic ids and names. Rules, 'alerts silence' and --topic take a name\n"
    "in any case or a unique prefix of it or of one of its ' | ' parts (\"energy\",\n"
    "\"oil\"), or the id; rules and silences also take 'overall' and 'all'.\n";

static int print_json(void)
{
    json_t *arr = json_array();
    for (int i = 0; i < N_TOPICS; i++)
        json_array_append_new(
            arr, json_pack("{s:i, s:s}", "id", i, "name", task_label_name(TASK_TOPIC, i)));
    char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(arr);
    if (!text)
        return cli_fail(FS_EXIT_FAILURE, "topics: cannot format JSON");
    puts(text);
    free(text);
    return FS_EXIT_OK;
}

int cmd_topics(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            fputs(topics_usage, stdout);
            return FS_EXIT_OK;
        }
        if (strcmp(argv[i], "--json") != 0)
            return cli_fail(FS_EXIT_USAGE, "topics: unknown argument '%s' (see --help)", argv[i]);
        json = 1;
    }
    if (json)
        return print_json();
    for (int i = 0; i < N_TOPICS; i++)
        printf("%2d  %s\n", i, task_label_name(TASK_TOPIC, i));
    return FS_EXIT_OK;
}
