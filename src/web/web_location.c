/*
 * web_location.c - the location step of the report form (I2) and what
 * comes with it: the "nearby open requests" list (W5: "is this yours?
 * follow it instead") and the map's settings.
 *
 * Everything works from the server's HTML alone. The address field is
 * the way to say where, and is enough (for screen-reader users, without
 * JavaScript, without a map). The exact point is two plain fields, lat and
 * long, Open311's own names, which intake checks as it checks an API
 * client's. site.js adds to that, when it runs: the "use my current
 * location" button (the browser asks permission first), a map to put a pin
 * on where config.json names a tile source, and the nearby requests as
 * soon as there is a point, fetched from the public Open311 search. The
 * texts it shows come from here, as data- attributes translated by web_t,
 * so they are in the page's language and in the .po catalogs.
 *
 * Without JavaScript the review page lists the same nearby requests,
 * read here from the store with the same query the Open311 search runs.
 * Only public request fields are ever shown (number, date, description,
 * address): a public search cannot return personal data.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/geo.h"
#include "core/intake.h"
#include "core/query.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/utf8.h"
#include "web/web_int.h"

/* "Nearby": within this many metres, the newest few. The same numbers are
 * in site.js's Open311 search. */
#define NEARBY_RADIUS_M 200.0
#define NEARBY_MAX 5
/* Bytes of a description shown in the list (cut on a character). */
#define EXCERPT_MAX 140

/* ---- the map's settings ---- */

static bool host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.';
}

err_code web_map_origin(const char *tiles, char *origin, size_t size, err_t *err)
{
    if (tiles == NULL || strlen(tiles) > WEB_MAP_TILES_MAX)
        return err_set(err, ERR_INVALID, "map: tiles is a URL of at most %d bytes",
                       WEB_MAP_TILES_MAX);
    bool https = strncmp(tiles, "https://", 8) == 0;
    if (!https && strncmp(tiles, "http://", 7) != 0)
        return err_set(err, ERR_INVALID, "map: tiles must start with https://");
    const char *host = tiles + (https ? 8 : 7);
    size_t hlen = 0;
    while (host_char(host[hlen]))
        hlen++;
    const char *p = host + hlen;
    if (*p == ':') {
        /* A port: 1-65535. */
        long port = 0;
        size_t digits = 0;
        for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
            port = port * 10 + (*p - '0');
        if (digits == 0 || digits > 5 || port < 1 || port > 65535)
            return err_set(err, ERR_INVALID, "map: the port in tiles must be 1-65535");
    }
    /* No user name (@), no IPv6 literal, no query on the host: a plain
     * origin is what the CSP names, and nothing else. */
    if (hlen == 0 || host[0] == '.' || host[0] == '-' || *p != '/')
        return err_set(err, ERR_INVALID,
                       "map: tiles must be scheme://host[:port]/path, with a host name or an "
                       "IPv4 address");
    /* Plain http only to this machine: tests serve tiles locally. */
    bool local = (hlen == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
                 (hlen == 9 && strncasecmp(host, "localhost", 9) == 0);
    if (!https && !local)
        return err_set(err, ERR_INVALID,
                       "map: tiles must use https:// (http:// only for 127.0.0.1 or localhost)");
    int z = 0, x = 0, y = 0;
    for (const char *q = p; *q != '\0'; q++) {
        if (*q == '{') {
            if (strncmp(q, "{z}", 3) == 0)
                z++;
            else if (strncmp(q, "{x}", 3) == 0)
                x++;
            else if (strncmp(q, "{y}", 3) == 0)
                y++;
            else
                return err_set(err, ERR_INVALID,
                               "map: tiles may hold only the placeholders {z}, {x} and {y}");
            q += 2;
            continue;
        }
        unsigned char ch = (unsigned char)*q;
        if (ch < 0x21 || ch > 0x7e || strchr("\"'<>\\`^|}", ch) != NULL)
            return err_set(err, ERR_INVALID,
                           "map: tiles holds a character a URL must not (a space, a quote, "
                           "<, >, a backslash, a brace...)");
    }
    if (z != 1 || x != 1 || y != 1)
        return err_set(err, ERR_INVALID, "map: tiles must hold {z}, {x} and {y}, once each");
    size_t olen = (size_t)(p - tiles);
    if (olen >= size)
        return err_set(err, ERR_INVALID, "map: the origin of tiles is too long");
    memcpy(origin, tiles, olen);
    origin[olen] = '\0';
    return ERR_OK;
}

/* One line of printable text (UTF-8 beyond ASCII is fine: jansson checked it). */
static bool one_line(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

err_code web_map_check(const web_map *m, err_t *err)
{
    char origin[WEB_MAP_TILES_MAX + 1];
    err_code rc = web_map_origin(m->tiles, origin, sizeof origin, err);
    if (rc != ERR_OK)
        return rc;
    if (m->attribution != NULL &&
        (m->attribution[0] == '\0' || strlen(m->attribution) > WEB_MAP_TEXT_MAX ||
         !one_line(m->attribution)))
        return err_set(err, ERR_INVALID, "map: attribution is one line of 1-%d bytes",
                       WEB_MAP_TEXT_MAX);
    /* The exit notice (/leaving) takes http(s) URLs without spaces, quotes
     * or angle brackets: the same rule here, so the link always works. */
    const char *u = m->attribution_url;
    if (u != NULL && (strlen(u) > WEB_MAP_URL_MAX ||
                      (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) ||
                      strpbrk(u, " <>\"\\`") != NULL || !one_line(u)))
        return err_set(err, ERR_INVALID,
                       "map: attribution_url is an http(s) URL of at most %d bytes, without "
                       "spaces, quotes or angle brackets",
                       WEB_MAP_URL_MAX);
    if (u != NULL && m->attribution == NULL)
        return err_set(err, ERR_INVALID, "map: attribution_url needs an attribution to link");
    if (!geo_valid(m->lat, m->lon))
        return err_set(err, ERR_INVALID,
                       "map: lat must be in [-90, 90] and long in [-180, 180] (WGS84 degrees)");
    if (m->zoom < WEB_MAP_MIN_ZOOM || m->zoom > WEB_MAP_MAX_ZOOM)
        return err_set(err, ERR_INVALID, "map: zoom must be %d-%d", WEB_MAP_MIN_ZOOM,
                       WEB_MAP_MAX_ZOOM);
    return ERR_OK;
}

/* ---- the form ---- */

/* data-NAME="translated text" on the element being opened, for site.js. */
static void data_text(web_ctx *c, buf_t *b, const char *name, const char *msgid)
{
    html_fmt(b, " data-%R=\"%s\"", name, web_t(c, msgid));
}

static void data_number(buf_t *b, const char *name, double v)
{
    char num[40];
    snprintf(num, sizeof num, "%.6f", v);
    html_fmt(b, " data-%R=\"%s\"", name, num);
}

/* One of the two fields of the exact point: labelled, described by the
 * group's hint, marked when intake refused it. */
static void point_input(web_ctx *c, buf_t *b, const char *name, const char *label,
                        const kv_list *v)
{
    web_field_label(c, b, name, label, false, "", false);
    html_fmt(b,
             "<input id=\"%s\" name=\"%s\" type=\"text\" inputmode=\"decimal\" "
             "autocomplete=\"off\" spellcheck=\"false\" maxlength=\"32\" value=\"%s\"",
             name, name, v ? kv_get(v, name) : NULL);
    web_field_aria(c, b, name, "point-hint");
    html_fmt(b, "></div>");
}

void web_location_fieldset(web_ctx *c, buf_t *b, const service *sv, const kv_list *v)
{
    const web_map *map = c->app->map;
    html_fmt(b, "<fieldset class=\"location\" data-service=\"%s\"", sv->code);
    data_text(c, b, "msg-locate", I18N_("Use my current location"));
    data_text(c, b, "msg-locating", I18N_("Finding your location\u2026"));
    data_text(c, b, "msg-located", I18N_("Your location is now the exact point below."));
    data_text(c, b, "msg-denied",
              I18N_("Your browser did not share your location. You can type the address "
                    "instead."));
    data_text(c, b, "msg-unavailable",
              I18N_("Your location could not be found just now. You can type the address "
                    "instead."));
    data_text(c, b, "msg-nearby", I18N_("Open requests nearby"));
    data_text(c, b, "msg-nearby-hint",
              I18N_("Is this yours? Follow it instead of sending a new report."));
    data_text(c, b, "msg-request", I18N_("Request"));
    if (map != NULL) {
        html_fmt(b, " data-tiles=\"%s\"", map->tiles);
        data_number(b, "lat", map->lat);
        data_number(b, "long", map->lon);
        html_fmt(b, " data-zoom=\"%d\"", map->zoom);
        data_text(c, b, "msg-map", I18N_("Map: put a pin where the problem is"));
        data_text(c, b, "msg-map-help",
                  I18N_("Drag the map or use the arrow keys to move it. Click or tap the place "
                        "of the problem, or press Enter to put the pin at the centre. You can "
                        "type the address instead."));
        data_text(c, b, "msg-zoom-in", I18N_("Zoom in"));
        data_text(c, b, "msg-zoom-out", I18N_("Zoom out"));
        data_text(c, b, "msg-pinned", I18N_("Pin placed: the exact point below is filled in."));
    }
    html_fmt(b, "><legend>%s</legend>", web_t(c, I18N_("Where is the problem?")));
    web_text_input(c, b, "address", "address_string", web_t(c, I18N_("Address or place")),
                   web_t(c, I18N_("A street address, or a corner: \"5th Ave and W 14th St\".")),
                   "text", "street-address", v, true, 500);
    /* The map itself needs the script; the server gives it its place and
     * the tiles' attribution (linked through the exit notice, P10). */
    if (map != NULL) {
        html_fmt(b, "<div class=\"map-box\" hidden>");
        if (map->attribution != NULL && map->attribution_url != NULL)
            html_fmt(b, "<p class=\"map-attribution\"><a href=\"/leaving?to=%u\">%s</a></p>",
                     map->attribution_url, map->attribution);
        else if (map->attribution != NULL)
            html_fmt(b, "<p class=\"map-attribution\">%s</p>", map->attribution);
        html_fmt(b, "</div>");
    }
    html_fmt(b,
             "<fieldset class=\"field point\"><legend>%s</legend><p class=\"hint\" "
             "id=\"point-hint\">%s</p><div class=\"pair\">",
             web_t(c, I18N_("Exact point (optional)")),
             web_t(c, I18N_("Latitude and longitude in decimal degrees, like 40.7128 and "
                            "-74.0060. The address is enough. Like the address, the point is "
                            "shown publicly with the request.")));
    point_input(c, b, "lat", web_t(c, I18N_("Latitude")), v);
    point_input(c, b, "long", web_t(c, I18N_("Longitude")), v);
    html_fmt(b, "</div></fieldset></fieldset>");
}

/* ---- refusals ---- */

bool web_location_problem(web_ctx *c, const kv_list *v, const char *msg, const char **text,
                          const char **field)
{
    /* Intake's messages about the point name lat or long first. */
    bool about_lat = strncmp(msg, "lat ", 4) == 0;
    if (!about_lat && strncmp(msg, "long ", 5) != 0)
        return false;
    const char *lat = v ? kv_get(v, "lat") : NULL;
    bool has_lat = lat != NULL && *lat != '\0';
    double a = 0;
    bool lat_ok = has_lat && intake_parse_number(lat, &a);
    if (strstr(msg, "given together") != NULL) {
        *field = has_lat ? "long" : "lat";
        *text = web_t(c, I18N_("Give both the latitude and the longitude of the point, or "
                               "neither."));
    } else if (strstr(msg, "decimal numbers") != NULL) {
        *field = lat_ok ? "long" : "lat";
        *text = web_t(c, I18N_("The latitude and the longitude are decimal numbers, like "
                               "40.7128 and -74.0060."));
    } else if (strstr(msg, "[-90, 90]") != NULL) {
        *field = lat_ok && a >= -90.0 && a <= 90.0 ? "long" : "lat";
        *text = web_t(c, I18N_("The latitude must be between -90 and 90, and the longitude "
                               "between -180 and 180."));
    } else {
        *field = about_lat ? "lat" : "long";
        *text = web_t(c, I18N_("Check the exact point, or leave it empty."));
    }
    return true;
}

/* ---- the review page ---- */

/* The start of a description, cut on a character, with an ellipsis when
 * cut; from the request's pool. */
static const char *excerpt(web_ctx *c, const char *s)
{
    size_t n = strlen(s);
    size_t k = utf8_clip(s, n, EXCERPT_MAX);
    if (k == n)
        return s;
    buf_t t = BUF_INIT;
    buf_append(&t, s, k);
    buf_puts(&t, "\u2026");
    char *out = buf_failed(&t) ? NULL : pool_strdup(http_pool(c->req), t.data);
    buf_free(&t);
    return out ? out : "";
}

/* The open requests of sv near (lat, lon), as the Open311 search
 * service_code=CODE&lat=..&long=..&radius=200&status=open gives them
 * (the last 90 days, newest first), the first NEARBY_MAX. Nothing when
 * there are none, or when the store cannot say: the list helps, it must
 * not stop a report. */
static void nearby(web_ctx *c, buf_t *b, const service *sv, double lat, double lon)
{
    err_t err;
    sr_query q;
    srq_init(&q, c->app->now());
    q.end = DT_MAX; /* as o311_params: a request filed a moment ago on a node a second ahead */
    const char *codes[1] = {sv->code};
    q.service_codes = codes;
    q.nservice_codes = 1;
    q.status_mask = SRQ_OPEN311_OPEN;
    q.page_size = NEARBY_MAX;
    store_t *s = NULL;
    service_request *srs = NULL;
    size_t n = 0;
    if (srq_set_radius(&q, lat, lon, NEARBY_RADIUS_M, &err) != ERR_OK ||
        (s = web_reader(c, &err)) == NULL ||
        store_request_search(s, &q, http_pool(c->req), &srs, &n, &err) != ERR_OK) {
        log_warn("web: the open requests nearby could not be read: %s", err.msg);
        return;
    }
    if (n == 0)
        return;
    html_fmt(b, "<dt>%s</dt><dd class=\"nearby\"><p>%s</p><ul>",
             web_t(c, I18N_("Open requests nearby")),
             web_t(c, I18N_("Is this yours? Follow it instead of sending a new report.")));
    for (size_t i = 0; i < n; i++) {
        const service_request *sr = &srs[i];
        html_fmt(b, "<li><a href=\"/requests/%L\">%s %L</a><span class=\"when\">", sr->id,
                 web_t(c, I18N_("Request")), sr->id);
        web_put_time(c, b, sr->requested_at);
        html_fmt(b, "</span>");
        if (sr->description != NULL && sr->description[0] != '\0')
            html_fmt(b, "<span class=\"what\">%s</span>", excerpt(c, sr->description));
        if (sr->address != NULL && sr->address[0] != '\0')
            html_fmt(b, "<span class=\"where\">%s</span>", sr->address);
        html_fmt(b, "</li>");
    }
    html_fmt(b, "</ul></dd>");
}

void web_location_review(web_ctx *c, buf_t *b, const service *sv, const kv_list *v)
{
    const char *address = kv_get(v, "address_string");
    if (address != NULL && address[0] != '\0')
        html_fmt(b, "<dt>%s</dt><dd>%s</dd>", web_t(c, I18N_("Location")), address);
    const char *lat = kv_get(v, "lat"), *lon = kv_get(v, "long");
    double a, o;
    if (lat == NULL || lon == NULL || !intake_parse_number(lat, &a) ||
        !intake_parse_number(lon, &o) || !geo_valid(a, o))
        return;
    html_fmt(b, "<dt>%s</dt><dd>%s, %s</dd>", web_t(c, I18N_("Exact point")), lat, lon);
    nearby(c, b, sv, a, o);
}
