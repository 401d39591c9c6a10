/*
 * blocks.h - the blocks in force, in one list (GET /v1/blocks,
 * smartproxyctl blocks): the brake's address blocks the proxy reports, and
 * the online blocks set through the API (decide.h).
 *
 * The data path for the brake: when the partner module's brake starts a
 * block it posts {"address", "blocked_until", "failures", "window_ms",
 * "block_ms"} to v1/blocks with host->backend_post (tunnel, client, like
 * the session audit records). smartproxy-api keeps the latest report per
 * address in the table brake_blocks (created on first use, like
 * online_blocks; not configuration: no revision, imports never touch it)
 * and lists those whose blocked_until is still ahead. A block the proxy
 * could not report (tunnel down longer than its outbox) is missing here;
 * the proxy's own rate_limited line is the record of truth.
 *
 * Callers hold a->dbmu around the store calls. Ownership: json-c objects
 * handed out belong to the caller.
 */
#ifndef SP_API_BLOCKS_H
#define SP_API_BLOCKS_H

#include <stdint.h>

#include "api/api.h"
#include "api/store.h"

int sp_store_brake_block_add(struct sp_store *st, const char *address,
    const char *blocked_until, int64_t failures, int64_t window_ms,
    int64_t block_ms, const char *reported_by);
/* Blocks whose blocked_until is after `now`, soonest end first; expired
 * rows are deleted on the way. */
int sp_store_brake_blocks(struct sp_store *st, const char *now,
    json_object **arr);

void api_h_blocks_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);
void api_h_blocks_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out);

#endif
