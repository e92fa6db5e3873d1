/*
 * i18n_builtin.h - the shape of the table of catalogs embedded in the
 * binary, shared by its writer and its one reader so that both name the
 * same type: scripts/embed-po generates build/gen/i18n_po.c (which
 * includes this header and defines the table) and web/i18n.c reads it in
 * i18n_set_builtin(). Nothing else should use it.
 */
#ifndef CIVIC_WEB_I18N_BUILTIN_H
#define CIVIC_WEB_I18N_BUILTIN_H

#include <stddef.h>

/* One po/LANG.po: its language tag (the file's name), its bytes (followed
 * by a NUL that *len does not count) and the address of their length. */
struct i18n_builtin_po {
    const char *lang;
    const char *data;
    const size_t *len;
};

/* Every embedded catalog, in file-name order, ended by a NULL lang. */
extern const struct i18n_builtin_po i18n_builtin_po[];

#endif
