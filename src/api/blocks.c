/*
 * blocks.c - POST /v1/blocks (the partner module's brake reports a block)
 * and GET /v1/blocks (every block in force: brake and online). See blocks.h.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "api/blocks.h"
#include "api/bodies.h"
#include "api/decide.h"
#include "api/ops.h"
#include "core/err.h"
#include "core/log.h"

void
api_h_blocks_post(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	struct sp_body_block b;
	json_object *o;
	char err[160];
	int r;

	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (body_verdict(sp_body_block(o, &b, err, sizeof(err)), err, out) != 0) {
		json_object_put(o);
		return;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_brake_block_add(a->st, b.address, b.blocked_until,
	    b.failures, b.window_ms, b.block_ms, rq->token);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0)
		internal(out, "brake block", r);
	else {
		sp_log(SP_LOG_NOTICE, "block", "the proxy blocked %s until %s "
		    "(%lld failures; reported by %s)", b.address, b.blocked_until,
		    (long long)b.failures, rq->token);
		out->status = 204;
	}
	json_object_put(o);
}

void
api_h_blocks_list(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	json_object *brake = NULL, *online = NULL, *o;
	time_t t = time(NULL);
	struct tm tm;
	char now[21];
	int r;

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_brake_blocks(a->st, now, &brake);
	if (r == 0)
		r = sp_store_online_blocks(a->st, &online);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		json_object_put(brake);
		internal(out, "blocks", r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "brake", brake);
	json_object_object_add(o, "online", online);
	out->status = 200;
	out->body = o;
}
