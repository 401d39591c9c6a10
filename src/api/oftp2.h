/*
 * oftp2.h - the OFTP2 module's per-partner switches and `diagnose` in
 * smartproxy-api (docs/api.md, docs/oftp2-module.md).
 *
 * Switches live where the module reads them: the `oftp2` row of the store's
 * modules table, `partners[]` of that section, one entry per ODETTE ID (no
 * schema change; the site file's `modules: oftp2:` writes the same row).
 * Setting them is one write transaction and one revision.
 *
 * Diagnose reads the session audit records (table sessions): a session the
 * oftp2 module refused ends with a text naming the partner's code (`code=`)
 * and the one switch that would have admitted it (`admit=`); an admitted
 * session lists the deviations it let through (`oftp2_deviations`).
 *
 * Callers hold a->dbmu around the store calls. Returned json-c objects are
 * the caller's (json_object_put).
 */
#ifndef SP_API_OFTP2_H
#define SP_API_OFTP2_H

#include <json-c/json.h>

#include "api/api.h"
#include "api/store.h"

/* NULL if `key` may be set per partner, else why not (static). The keys are
 * those modules/oftp2/config.c accepts in partners[]; the module refuses a
 * whole revision with an unknown one, so the API refuses it first. */
const char *sp_oftp2_switch_problem(const char *key);

/* Merge `set` (key -> true/false, or null to fall back to the global value)
 * into the partner's entry; *entry gets the entry as stored. */
int sp_store_oftp2_switches_set(struct sp_store *st, const char *odette_id,
    json_object *set, json_object **entry, int64_t *rev);
/* The partner's entry ({"odette_id": ...} when it has none). */
int sp_store_oftp2_switches_get(struct sp_store *st, const char *odette_id,
    json_object **entry);
/* From the newest `scan` sessions: the partner's refusals and deviations. */
int sp_store_oftp2_diagnose(struct sp_store *st, const char *odette_id,
    int scan, json_object **out);

/* Endpoints (route table in handlers.c). */
void api_h_oftp2_get(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_oftp2_set(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_diagnose(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);

#endif
