/*
 * config.c - reading and writing DIR/config.json with jansson.
 */
#include "cli/config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/datetime.h"

#define CONFIG_FILE "config.json"

static const char *cfg_str(pool_t *p, json_t *obj, const char *key, const char *dflt,
                           bool *bad)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return dflt;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    const char *s = pool_strdup(p, json_string_value(v));
    if (s == NULL)
        *bad = true;
    return s;
}

static unsigned long long cfg_uint(json_t *obj, const char *key, unsigned long long dflt,
                                   unsigned long long max, bool *bad)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return dflt;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) > max) {
        *bad = true;
        return dflt;
    }
    return (unsigned long long)json_integer_value(v);
}

/* Every key of obj must be one of allowed (NULL-terminated). */
static const char *cfg_unknown_key(json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        (void)v;
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, key) == 0;
        if (!ok)
            return key;
    }
    return NULL;
}

static err_code cfg_discovery(civic_config *c, json_t *d, err_t *err)
{
    static const char *const keys[] = {"changeset", "contact", "key_service", "endpoints", NULL};
    static const char *const ekeys[] = {"type", "url", "specification", "changeset", NULL};
    bool bad = false;
    if (!json_is_object(d) || cfg_unknown_key(d, keys) != NULL)
        return err_set(err, ERR_INVALID, "config: discovery must be an object with %s",
                       "changeset, contact, key_service, endpoints");
    c->discovery.changeset = cfg_str(c->pool, d, "changeset", NULL, &bad);
    c->discovery.contact = cfg_str(c->pool, d, "contact", NULL, &bad);
    c->discovery.key_service = cfg_str(c->pool, d, "key_service", NULL, &bad);
    json_t *eps = json_object_get(d, "endpoints");
    if (bad || !json_is_array(eps) || json_array_size(eps) == 0 || json_array_size(eps) > 16)
        return err_set(err, ERR_INVALID, "config: discovery needs 1-16 endpoints and string "
                                         "changeset, contact, key_service");
    size_t n = json_array_size(eps);
    o311_endpoint *e = pool_calloc(c->pool, n, sizeof *e);
    if (e == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *ep = json_array_get(eps, i);
        if (!json_is_object(ep) || cfg_unknown_key(ep, ekeys) != NULL)
            return err_set(err, ERR_INVALID, "config: discovery endpoint %zu has unknown keys",
                           i + 1);
        e[i].type = cfg_str(c->pool, ep, "type", "production", &bad);
        e[i].url = cfg_str(c->pool, ep, "url", NULL, &bad);
        e[i].specification =
            cfg_str(c->pool, ep, "specification", "http://wiki.open311.org/GeoReport_v2", &bad);
        e[i].changeset = cfg_str(c->pool, ep, "changeset", c->discovery.changeset, &bad);
        if (bad || e[i].url == NULL)
            return err_set(err, ERR_INVALID, "config: discovery endpoint %zu needs a url",
                           i + 1);
    }
    c->discovery.endpoints = e;
    c->discovery.nendpoints = n;
    return ERR_OK;
}

static err_code cfg_http(civic_config *c, json_t *h, err_t *err)
{
    static const char *const keys[] = {"threads",
                                       "connection_timeout_seconds",
                                       "max_connections",
                                       "max_connections_per_ip",
                                       "max_body_bytes",
                                       "max_upload_bytes",
                                       NULL};
    bool bad = false;
    if (h == NULL)
        h = json_object();
    else
        json_incref(h);
    const char *unknown = json_is_object(h) ? cfg_unknown_key(h, keys) : "(not an object)";
    if (unknown == NULL) {
        c->threads = (unsigned)cfg_uint(h, "threads", 0, 256, &bad);
        c->connection_timeout =
            (unsigned)cfg_uint(h, "connection_timeout_seconds", 30, 3600, &bad);
        c->max_connections = (unsigned)cfg_uint(h, "max_connections", 8192, 100000, &bad);
        c->max_connections_per_ip =
            (unsigned)cfg_uint(h, "max_connections_per_ip", 128, 100000, &bad);
        c->max_body = (size_t)cfg_uint(h, "max_body_bytes", 1 << 20, 1ULL << 30, &bad);
        /* A photo of at most 10 MiB (media/photo.h) and the form around it. */
        size_t upload = c->max_body > (11u << 20) ? c->max_body : 11u << 20;
        c->max_upload = (size_t)cfg_uint(h, "max_upload_bytes", upload, 1ULL << 30, &bad);
    }
    json_decref(h);
    if (unknown != NULL)
        return err_set(err, ERR_INVALID, "config: http has an unknown key");
    if (bad || c->connection_timeout == 0 || c->max_connections == 0 || c->max_body < 1024 ||
        c->max_upload < c->max_body)
        return err_set(err, ERR_INVALID,
                       "config: http limits must be whole numbers in range (timeout >= 1 s, "
                       "max_body_bytes >= 1024, max_upload_bytes >= max_body_bytes)");
    return ERR_OK;
}

/*
 * "privacy": {"keys_file": "keys/civic311.keys",
 *             "retention_days": {"contact": 90, "account": 90, "media": 90,
 *                                "device": 30, "recording": 14},
 *             "retention_interval_seconds": 3600,
 *             "audit_checkpoint_interval_seconds": 10}
 * A retention period of -1 keeps that class (for a city whose records law
 * demands it); the recording period may not exceed the policy's 14 days.
 */
static const char *path_join(pool_t *p, const char *dir, const char *name);

static err_code cfg_privacy(civic_config *c, json_t *pv, err_t *err)
{
    static const char *const keys[] = {"keys_file", "retention_days",
                                       "retention_interval_seconds",
                                       "audit_checkpoint_interval_seconds", NULL};
    retention_defaults(&c->retention);
    c->retention_interval = 3600;
    c->checkpoint_interval = 10;
    const char *keys_file = CONFIG_KEYS_FILE;
    if (pv != NULL) {
        bool bad = false;
        if (!json_is_object(pv) || cfg_unknown_key(pv, keys) != NULL)
            return err_set(err, ERR_INVALID, "config: privacy must be an object with keys_file, "
                                             "retention_days, retention_interval_seconds, "
                                             "audit_checkpoint_interval_seconds");
        keys_file = cfg_str(c->pool, pv, "keys_file", CONFIG_KEYS_FILE, &bad);
        c->retention_interval =
            (unsigned)cfg_uint(pv, "retention_interval_seconds", 3600, 7 * 86400, &bad);
        c->checkpoint_interval =
            (unsigned)cfg_uint(pv, "audit_checkpoint_interval_seconds", 10, 3600, &bad);
        if (bad || keys_file == NULL || keys_file[0] == '\0' || c->retention_interval == 0 ||
            c->checkpoint_interval == 0)
            return err_set(err, ERR_INVALID,
                           "config: privacy.keys_file is a path; the intervals are whole "
                           "seconds (retention 1-604800, checkpoints 1-3600)");
        json_t *days = json_object_get(pv, "retention_days");
        if (days != NULL && !json_is_object(days))
            return err_set(err, ERR_INVALID, "config: privacy.retention_days is an object");
        const char *name;
        json_t *v;
        json_object_foreach(days, name, v)
        {
            data_class dc;
            if (!sr_data_class_parse(name, &dc))
                return err_set(err, ERR_INVALID,
                               "config: privacy.retention_days has an unknown class \"%.40s\" "
                               "(contact, device, account, media, recording)",
                               name);
            json_int_t d = json_is_integer(v) ? json_integer_value(v) : -2;
            if (d < -1 || d > 36500 || (dc == DC_RECORDING && (d < 0 || d > 14)))
                return err_set(err, ERR_INVALID,
                               "config: privacy.retention_days.%s must be a whole number of "
                               "days (-1 keeps; recordings 0-14, as the policy says)",
                               name);
            c->retention.period[dc] = d < 0 ? RETENTION_KEEP : (int64_t)d * RETENTION_DAY;
        }
    }
    c->keys_file = keys_file[0] == '/' ? keys_file : path_join(c->pool, c->data_dir, keys_file);
    if (c->keys_file == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    return ERR_OK;
}

/*
 * "map": {"tiles": "https://tile.example.org/{z}/{x}/{y}.png",
 *         "attribution": "(c) OpenStreetMap contributors",
 *         "attribution_url": "https://www.openstreetmap.org/copyright",
 *         "lat": 40.7128, "long": -74.0060, "zoom": 15}
 * Optional: without it the report form has no map. tiles, lat and long are
 * required; web_map_check says what a tile template may be.
 */
static err_code cfg_map(civic_config *c, json_t *m, err_t *err)
{
    static const char *const keys[] = {"tiles", "attribution", "attribution_url", "lat",
                                       "long", "zoom", NULL};
    if (m == NULL)
        return ERR_OK;
    const char *unknown = json_is_object(m) ? cfg_unknown_key(m, keys) : "(not an object)";
    if (unknown != NULL)
        return err_set(err, ERR_INVALID,
                       "config: map is an object with tiles, attribution, attribution_url, "
                       "lat, long, zoom; \"%.40s\" is not one of them",
                       unknown);
    bool bad = false;
    json_t *lat = json_object_get(m, "lat"), *lon = json_object_get(m, "long");
    c->map.tiles = cfg_str(c->pool, m, "tiles", NULL, &bad);
    c->map.attribution = cfg_str(c->pool, m, "attribution", NULL, &bad);
    c->map.attribution_url = cfg_str(c->pool, m, "attribution_url", NULL, &bad);
    c->map.zoom = (int)cfg_uint(m, "zoom", 15, WEB_MAP_MAX_ZOOM, &bad);
    if (bad || c->map.tiles == NULL || !json_is_number(lat) || !json_is_number(lon))
        return err_set(err, ERR_INVALID,
                       "config: map needs tiles (text), lat and long (numbers); attribution "
                       "and attribution_url are text, zoom a whole number %d-%d",
                       WEB_MAP_MIN_ZOOM, WEB_MAP_MAX_ZOOM);
    c->map.lat = json_number_value(lat);
    c->map.lon = json_number_value(lon);
    err_code rc = web_map_check(&c->map, err);
    if (rc != ERR_OK)
        return rc;
    c->has_map = true;
    return ERR_OK;
}

/*
 * "public_url": "https://311.city.example" (for links in emails),
 * "smtp": {"url": "smtps://relay.city.example:465", "from": "311@city.example",
 *          "username": "civic311", "password_file": "/etc/civic311/smtp-password"},
 * "outbox": {"retry_first_seconds": 60, "retry_max_seconds": 21600, "max_attempts": 10,
 *            "lease_seconds": 300, "poll_seconds": 5, "timeout_seconds": 30}
 * All optional. Without smtp, emails wait in the outbox and fail in time.
 * The password is read from its own file (mode 0600, outside backups of
 * config.json), never from config.json.
 */
static bool url_ok(const char *u, const char *const *schemes)
{
    bool scheme = false;
    for (; *schemes != NULL && !scheme; schemes++)
        scheme = strncmp(u, *schemes, strlen(*schemes)) == 0 && u[strlen(*schemes)] != '\0';
    for (const unsigned char *p = (const unsigned char *)u; scheme && *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return false;
    return scheme && strlen(u) < 1000;
}

static err_code cfg_secret_file(civic_config *c, const char *path, const char **out, err_t *err)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return err_set(err, ERR_IO, "config: smtp.password_file cannot be read: %s",
                       strerror(errno));
    char line[512];
    size_t n = fread(line, 1, sizeof line - 1, f);
    bool bad = ferror(f) != 0 || n == sizeof line - 1;
    fclose(f);
    line[n] = '\0';
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (bad || n == 0 || strlen(line) != n)
        return err_set(err, ERR_INVALID, "config: smtp.password_file must hold one line of "
                                         "1-500 bytes");
    *out = pool_strdup(c->pool, line);
    sodium_memzero(line, sizeof line);
    return *out != NULL ? ERR_OK : err_set(err, ERR_NOMEM, "out of memory");
}

static const char *path_join(pool_t *p, const char *dir, const char *name);

static err_code cfg_notify(civic_config *c, json_t *root, err_t *err)
{
    static const char *const skeys[] = {"url", "from", "username", "password_file", NULL};
    static const char *const okeys[] = {"retry_first_seconds", "retry_max_seconds",
                                        "max_attempts",        "lease_seconds",
                                        "poll_seconds",        "timeout_seconds",
                                        NULL};
    static const char *const web_schemes[] = {"https://", "http://", NULL};
    static const char *const smtp_schemes[] = {"smtp://", "smtps://", NULL};
    notify_config *n = &c->notify;
    notify_config_default(n);
    bool bad = false;
    c->public_url = cfg_str(c->pool, root, "public_url", NULL, &bad);
    if (bad || (c->public_url != NULL && !url_ok(c->public_url, web_schemes)))
        return err_set(err, ERR_INVALID, "config: public_url is the site's http(s):// address");
    n->public_url = c->public_url;
    json_t *smtp = json_object_get(root, "smtp");
    if (smtp != NULL) {
        if (!json_is_object(smtp) || cfg_unknown_key(smtp, skeys) != NULL)
            return err_set(err, ERR_INVALID, "config: smtp is an object with url, from, "
                                             "username, password_file");
        n->smtp_url = cfg_str(c->pool, smtp, "url", NULL, &bad);
        n->smtp_from = cfg_str(c->pool, smtp, "from", NULL, &bad);
        n->smtp_username = cfg_str(c->pool, smtp, "username", NULL, &bad);
        const char *pw = cfg_str(c->pool, smtp, "password_file", NULL, &bad);
        const char *at = n->smtp_from != NULL ? strchr(n->smtp_from, '@') : NULL;
        if (bad || n->smtp_url == NULL || !url_ok(n->smtp_url, smtp_schemes) || at == NULL ||
            at == n->smtp_from || at[1] == '\0' || strpbrk(n->smtp_from, " <>\r\n\",") != NULL ||
            (n->smtp_username == NULL) != (pw == NULL))
            return err_set(err, ERR_INVALID,
                           "config: smtp needs url (smtp:// or smtps://) and from (an address); "
                           "username and password_file go together");
        if (pw != NULL) {
            const char *path = pw[0] == '/' ? pw : path_join(c->pool, c->data_dir, pw);
            err_code rc = path != NULL ? cfg_secret_file(c, path, &n->smtp_password, err)
                                       : err_set(err, ERR_NOMEM, "out of memory");
            if (rc != ERR_OK)
                return rc;
        }
    }
    json_t *ob = json_object_get(root, "outbox");
    if (ob != NULL) {
        if (!json_is_object(ob) || cfg_unknown_key(ob, okeys) != NULL)
            return err_set(err, ERR_INVALID, "config: outbox has an unknown key");
        n->retry_first = (int64_t)cfg_uint(ob, "retry_first_seconds", 60, 86400, &bad);
        n->retry_max = (int64_t)cfg_uint(ob, "retry_max_seconds", 21600, 7 * 86400, &bad);
        n->max_attempts = (int)cfg_uint(ob, "max_attempts", 10, 100, &bad);
        n->lease = (int64_t)cfg_uint(ob, "lease_seconds", 300, 86400, &bad);
        n->poll_interval = (unsigned)cfg_uint(ob, "poll_seconds", 5, 3600, &bad);
        n->timeout = (unsigned)cfg_uint(ob, "timeout_seconds", 30, 600, &bad);
        if (bad || n->retry_first == 0 || n->retry_max < n->retry_first ||
            n->max_attempts == 0 || n->lease == 0 || n->poll_interval == 0 || n->timeout == 0 ||
            n->lease <= (int64_t)n->timeout)
            return err_set(err, ERR_INVALID,
                           "config: outbox values are whole seconds above 0, retry_max_seconds "
                           "at least retry_first_seconds, lease_seconds above timeout_seconds");
    }
    return ERR_OK;
}

static const char *path_join(pool_t *p, const char *dir, const char *name)
{
    buf_t b = BUF_INIT;
    buf_printf(&b, "%s/%s", dir, name);
    char *s = buf_failed(&b) ? NULL : pool_strdup(p, b.data);
    buf_free(&b);
    return s;
}

static err_code config_read(const char *dir, civic_config *c, err_t *err);

/* A zone of the tz database: "UTC", or a name like "America/New_York"
 * (letters, digits, '_', '-', '+', and '/' between parts, no "..") whose
 * file tzdata installs. Checked here so that a typo stops the server at
 * start instead of showing every time in UTC unannounced (glibc falls back
 * to UTC for a zone it cannot find). */
static bool time_zone_ok(const char *tz)
{
    if (tz == NULL || *tz == '\0' || strlen(tz) > 64 || *tz == '/' || strstr(tz, "..") != NULL)
        return false;
    for (const char *p = tz; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '+' || *p == '/'))
            return false;
    if (strcmp(tz, "UTC") == 0)
        return true;
    char path[128];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    return access(path, R_OK) == 0;
}

err_code config_load(const char *dir, civic_config *c, err_t *err)
{
    err_code rc = config_read(dir, c, err);
    if (rc != ERR_OK)
        config_free(c); /* the caller has nothing to free after a failure */
    return rc;
}

static err_code config_read(const char *dir, civic_config *c, err_t *err)
{
    static const char *const keys[] = {"jurisdiction_id", "listen", "discovery", "http",
                                       "batch_interval_seconds", "privacy", "map",
                                       "time_zone", "districts", "staff_idle_minutes",
                                       "public_url", "smtp", "outbox", NULL};
    memset(c, 0, sizeof *c);
    c->pool = pool_new();
    if (c->pool == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");
    c->data_dir = pool_strdup(c->pool, dir);
    c->db_path = path_join(c->pool, dir, "civic311.db");
    const char *file = path_join(c->pool, dir, CONFIG_FILE);
    if (c->data_dir == NULL || c->db_path == NULL || file == NULL)
        return err_set(err, ERR_NOMEM, "out of memory");

    json_error_t jerr;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        if (access(file, F_OK) != 0)
            return err_set(err, ERR_NOT_FOUND,
                           "%s has no %s: create a store with `civic311 init --data %s`", dir,
                           CONFIG_FILE, dir);
        return err_set(err, ERR_INVALID, "%s line %d: %s", file, jerr.line, jerr.text);
    }
    err_code rc = ERR_OK;
    bool bad = false;
    const char *unknown = json_is_object(root) ? cfg_unknown_key(root, keys) : "(root)";
    if (unknown != NULL) {
        rc = err_set(err, ERR_INVALID, "config: unknown key \"%.40s\"", unknown);
        goto done;
    }
    c->jurisdiction_id = cfg_str(c->pool, root, "jurisdiction_id", NULL, &bad);
    c->listen = cfg_str(c->pool, root, "listen", "127.0.0.1:8311", &bad);
    c->batch_interval =
        (unsigned)cfg_uint(root, "batch_interval_seconds", 5, 86400, &bad);
    if (bad || c->jurisdiction_id == NULL || c->jurisdiction_id[0] == '\0' ||
        c->batch_interval == 0) {
        rc = err_set(err, ERR_INVALID,
                     "config: jurisdiction_id (text) is required; listen is text; "
                     "batch_interval_seconds is 1-86400");
        goto done;
    }
    /* The console's idle limit: at most 12 hours, the sessions' cap
     * anyway (privacy/staff.h). */
    c->staff_idle_minutes = (unsigned)cfg_uint(root, "staff_idle_minutes", 15, 720, &bad);
    if (bad || c->staff_idle_minutes == 0) {
        rc = err_set(err, ERR_INVALID, "config: staff_idle_minutes is 1-720");
        goto done;
    }
    bool tz_bad = false;
    c->time_zone = cfg_str(c->pool, root, "time_zone", "UTC", &tz_bad);
    if (tz_bad || !time_zone_ok(c->time_zone)) {
        rc = err_set(err, ERR_INVALID,
                     "config: time_zone must name a zone of the tz database, such as "
                     "\"America/New_York\" (Debian's tzdata, under /usr/share/zoneinfo)");
        goto done;
    }
    /* "districts": "districts.geojson", relative to DIR unless absolute.
     * Only the path here: the file is read and checked against the catalog
     * (which config cannot see) by the commands that route, through
     * cli_load_routes, and a broken file stops them there. */
    bool d_bad = false;
    const char *districts = cfg_str(c->pool, root, "districts", NULL, &d_bad);
    if (d_bad || (districts != NULL && districts[0] == '\0')) {
        rc = err_set(err, ERR_INVALID, "config: districts is the path of a GeoJSON file "
                                       "(relative to the data directory)");
        goto done;
    }
    if (districts != NULL) {
        c->districts_file =
            districts[0] == '/' ? districts : path_join(c->pool, c->data_dir, districts);
        if (c->districts_file == NULL) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    if ((rc = cfg_discovery(c, json_object_get(root, "discovery"), err)) != ERR_OK ||
        (rc = cfg_http(c, json_object_get(root, "http"), err)) != ERR_OK ||
        (rc = cfg_privacy(c, json_object_get(root, "privacy"), err)) != ERR_OK ||
        (rc = cfg_map(c, json_object_get(root, "map"), err)) != ERR_OK ||
        (rc = cfg_notify(c, root, err)) != ERR_OK)
        goto done;
done:
    json_decref(root);
    return rc;
}

void config_free(civic_config *c)
{
    pool_free(c->pool);
    c->pool = NULL;
}

static json_t *cfg_endpoint(const char *type, const char *url, const char *changeset)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "type", type, "url", url, "specification",
                     "http://wiki.open311.org/GeoReport_v2", "changeset", changeset);
}

err_code config_write_new(const char *dir, const char *jurisdiction_id, const char *public_url,
                          bool demo, err_t *err)
{
    char changeset[DT_BUFSZ];
    dt_format((int64_t)time(NULL), changeset);
    buf_t prod = BUF_INIT, test = BUF_INIT, file = BUF_INIT;
    buf_printf(&prod, "%s/open311/v2", public_url);
    buf_printf(&test, "%s/open311/v2", public_url);
    buf_printf(&file, "%s/%s", dir, CONFIG_FILE);
    err_code rc = ERR_OK;
    json_t *eps = json_array(), *root = NULL;
    if (buf_failed(&prod) || buf_failed(&test) || buf_failed(&file) || eps == NULL) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto done;
    }
    json_array_append_new(eps, cfg_endpoint("production", prod.data, changeset));
    if (demo) {
        /* A city's test endpoint usually sits beside production; the demo
         * serves both from one process, so they share a URL here. */
        json_array_append_new(eps, cfg_endpoint("test", test.data, changeset));
    }
    root = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s, s:O}, s:{s:i, s:i, s:i, s:i, s:i}, s:i, "
        "s:{s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:i, s:i}}",
        "jurisdiction_id", jurisdiction_id, "listen", "127.0.0.1:8311", "discovery", "changeset",
        changeset, "contact", "311 Online team, 311-api@city.example (replace with yours)",
        "key_service", "Ask the 311 Online team for an api_key", "endpoints", eps, "http",
        "threads", 0, "connection_timeout_seconds", 30, "max_connections", 8192,
        "max_connections_per_ip", 128, "max_body_bytes", 1 << 20, "batch_interval_seconds", 5,
        "privacy", "keys_file", CONFIG_KEYS_FILE, "retention_days", "contact", 90, "account", 90,
        "media", 90, "device", 30, "recording", 14, "retention_interval_seconds", 3600,
        "audit_checkpoint_interval_seconds", 10);
    if (root == NULL) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto done;
    }
    int fd = open(file.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(err, errno == EEXIST ? ERR_CONFLICT : ERR_IO, "cannot create %s: %s",
                     file.data, strerror(errno));
        goto done;
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    size_t len = text ? strlen(text) : 0;
    bool ok = text != NULL && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
              fsync(fd) == 0;
    free(text);
    if (close(fd) != 0 || !ok)
        rc = err_set(err, ERR_IO, "cannot write %s", file.data);
done:
    json_decref(eps);
    json_decref(root);
    buf_free(&prod);
    buf_free(&test);
    buf_free(&file);
    return rc;
}
