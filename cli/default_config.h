/*
 * default_config.h — the commented configuration `finsent init` writes.
 */
#ifndef FINSENT_DEFAULT_CONFIG_H
#define FINSENT_DEFAULT_CONFIG_H

/* The whole file as one string (see cli/default_config.c). */
extern const char default_config_text[];

#endif
