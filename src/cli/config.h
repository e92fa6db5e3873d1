/*
 * config.h - the one configuration of a Civic311 installation, read once
 * from DIR/config.json at start, checked, and passed down. Nothing reads
 * the file or the environment behind its back.
 */
#ifndef CIVIC_CONFIG_H
#define CIVIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "http/server.h"
#include "notify/notify.h"
#include "privacy/retention.h"
#include "open311/o311_write.h"
#include "util/err.h"
#include "util/pool.h"
#include "web/web.h"

typedef struct {
    pool_t *pool;            /* owns every string below */
    const char *data_dir;
    const char *db_path;     /* DIR/civic311.db */
    const char *jurisdiction_id;
    const char *listen;      /* default for serve --listen */
    const char *time_zone;   /* the city's, for the website's times: "UTC" (default) or
                                a tz database name ("America/New_York") */
    o311_discovery discovery;
    unsigned threads;
    unsigned connection_timeout;
    unsigned max_connections;
    unsigned max_connections_per_ip;
    size_t max_body;
    size_t max_upload;       /* the report form's body, with its photo */
    unsigned batch_interval; /* seconds between batch publications */

    /* privacy (issue 3) */
    const char *keys_file;         /* the key file: never inside a backup */
    retention_schedule retention;  /* per data class (P6) */
    unsigned retention_interval;   /* seconds between retention runs in serve */
    unsigned checkpoint_interval;  /* seconds between signed audit checkpoints */

    /* the staff console (issue 5) */
    unsigned staff_idle_minutes;   /* a signed-in console ends after this long unused (15) */

    /* the report form's map (issue 4): only where a tile source is set */
    bool has_map;
    web_map map;

    /* routing by area (W2, issue 5): the city's district boundaries, a
     * GeoJSON file (docs/districts.md); NULL routes by service only */
    const char *districts_file;
    /* notifications (issue 5, W6): public_url, smtp, outbox */
    const char *public_url; /* the site's address, for links in emails; NULL = none */
    notify_config notify;
} civic_config;

/* The key file's default place, relative to DIR. */
#define CONFIG_KEYS_FILE "keys/civic311.keys"

/* Reads DIR/config.json. Unknown keys are errors (a typo must not pass
 * silently). The caller frees with config_free. */
err_code config_load(const char *dir, civic_config *out, err_t *err);
void config_free(civic_config *c);

/* Writes a new DIR/config.json (mode 0600), failing if one exists. The
 * demo lists a production and a test endpoint, as real cities do. */
err_code config_write_new(const char *dir, const char *jurisdiction_id, const char *public_url,
                          bool demo, err_t *err);

#endif
