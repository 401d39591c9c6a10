/*
 * decide.h - online decisions of smartproxy-api (docs/api.md section 5.5):
 * the partner module asks POST /v1/decisions/ssid through the client once its
 * own checks passed; the reference policy allows a partner that exists, is
 * enabled, is within its validity window and carries no online block. Blocks
 * are set and lifted through the API; they are not part of the runtime
 * configuration (a block takes effect at the next SSID, without a revision).
 *
 * Storage (store_decide.c): table online_blocks of the store's database,
 * keyed by ODETTE ID, created on first use and kept across site imports.
 * Callers hold a->dbmu around the store calls, as for every store call.
 */
#ifndef SP_API_DECIDE_H
#define SP_API_DECIDE_H

#include <stdbool.h>

#include "api/api.h"
#include "api/store.h"

/* *blocked and, when blocked, esid ("03", "04" or "08"). */
int sp_store_online_block_get(struct sp_store *st, const char *odette_id,
    bool *blocked, char esid[3]);
/* Set (esid given) or lift (esid NULL) the block of odette_id. */
int sp_store_online_block_set(struct sp_store *st, const char *odette_id,
    const char *esid);

/* Every block, oldest ID first (GET /v1/blocks, blocks.c). */
int sp_store_online_blocks(struct sp_store *st, json_object **arr);

/* Endpoints (route table in handlers.c). */
void api_h_decide_ssid(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_online_block(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_online_unblock(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);

#endif
