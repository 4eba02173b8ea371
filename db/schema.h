/*
 * schema.h — the list of schema migrations. Migration i (0-based) brings the
 * database from user_version i to i+1. Append, never edit a released migration.
 */
#ifndef FINSENT_SCHEMA_H
#define FINSENT_SCHEMA_H

extern const char *const db_migrations[];
extern const int db_migration_count;

#endif
