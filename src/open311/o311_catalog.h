/*
 * o311_catalog.h - reading and writing a service catalog as Open311
 * documents, so a city can bring its catalog from another Open311 server
 * (`civic311 services import`) and take ours away (`services export`).
 *
 * Read: a GET services document (JSON array or <services>), a service
 * definition (JSON object or <service_definition>, with or without the
 * <attributes> wrapper), or our bundle (below), in JSON or XML, detected by
 * content. Real-world deviations are accepted where the meaning is clear:
 * namespaced roots, xsi:nil and empty elements as null, "true"/"false" in
 * any case, numbers as strings, `is_array` attributes.
 *
 * The bundle (what export writes, JSON):
 *   { "agencies": [ {"code": "DOT", "name": "Department of Transportation"} ],
 *     "services": [ <Open311 service> + "agency_code", "sla_hours",
 *                   "service_notice" ],
 *     "service_definitions": [ <Open311 service definition> ] }
 * Clients that only know Open311 ignore the extra keys.
 */
#ifndef CIVIC_O311_CATALOG_H
#define CIVIC_O311_CATALOG_H

#include <stddef.h>

#include "core/catalog.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct {
    size_t services;    /* services added or replaced */
    size_t definitions; /* service definitions applied */
    size_t agencies;
    size_t metadata_without_definition; /* metadata=true, no definition seen */
} o311_import_stats;

/*
 * Reads one document (data[0..n)) into c: services are added or replaced
 * by code; a definition replaces the attributes of a service already in c
 * (ERR_NOT_FOUND if there is none: import the services list first).
 * On error c is unchanged, and err says what and where (element or index,
 * never a value). stats is added to on success (zero it before the first
 * document), so importing several files gives totals; on error it is left
 * as it was.
 */
err_code o311_catalog_read(catalog *c, const char *data, size_t n, o311_import_stats *stats,
                           err_t *err);

/* Writes the bundle for c (JSON, pretty-printed, stable order). */
void o311_catalog_write_bundle(buf_t *b, const catalog *c);

#endif
