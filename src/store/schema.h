/*
 * schema.h - the database schema, versioned in one place.
 *
 * Every change to the schema is a new migration appended to the list in
 * schema.c; a migration once released is never edited. The schema_version
 * table holds one row per migration applied, so a database's version is
 * the largest one there. The backends apply the missing migrations in
 * order, inside one transaction (store_migrate).
 *
 * The SQL is written once for both SQLite and PostgreSQL 15. Where the two
 * dialects cannot agree (an auto-assigned 64-bit key, a byte string), the
 * text is built from a macro per dialect in schema.c, side by side.
 */
#ifndef CIVIC_SCHEMA_H
#define CIVIC_SCHEMA_H

#include <stddef.h>

typedef enum {
    SCHEMA_SQLITE = 0,
    SCHEMA_POSTGRES,
} schema_dialect;

#define SCHEMA_DIALECT_COUNT 2

typedef struct {
    int version;                           /* 1, 2, 3, ... with no gaps */
    const char *what;                      /* one line for humans and logs */
    const char *sql[SCHEMA_DIALECT_COUNT]; /* statements separated by ';' */
} schema_migration;

extern const schema_migration SCHEMA_MIGRATIONS[];
extern const size_t SCHEMA_MIGRATION_COUNT;

/* Creates the version table if it is missing; runs before reading it. */
extern const char SCHEMA_VERSION_TABLE_SQL[];

/* The version the newest migration brings a database to. */
int schema_latest(void);

#endif
