/*
 * fuzz_tunnel_msg.c - tunnel message framing and JSON parsing as both ends
 * see it: any bytes, taken message by message until the framer needs more or
 * refuses; every accepted message must re-encode and parse back equal.
 * Each message also goes through the keyless checks: the client's of a sign
 * request (from the DMZ: hostile) and the server's of a signature answer; a
 * request the client accepts must be a TLS digest and survive a round trip.
 * A "live" message (the server's answer to the client's heartbeat) also
 * goes through the check the client runs on it (sp_body_live), whose clean
 * copy must pass the same check again unchanged.
 */
#include "api/bodies.h"
#include "core/buf.h"
#include "core/err.h"
#include "tunnel/msg.h"
#include "tunnel/sign.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
keyless_checks(json_object *msg)
{
	struct sp_sign_req rq, rq2;
	uint8_t sig[SP_SIG_MAX];
	size_t len;
	long long id;
	const char *error;
	char why[160];
	json_object *again;

	if (sp_sign_req_parse(msg, &rq, why, sizeof(why)) == SP_OK) {
		if (rq.len == 0 || rq.len > SP_SIGN_DATA_MAX || rq.id <= 0 ||
		    sp_sign_digest_check(rq.algo, rq.data, rq.len) != SP_OK)
			abort();
		if ((again = sp_sign_req_new(rq.id, rq.listener, rq.algo, rq.data, rq.len)) == NULL)
			abort();
		if (sp_sign_req_parse(again, &rq2, why, sizeof(why)) != SP_OK || rq2.id != rq.id ||
		    rq2.algo != rq.algo || rq2.len != rq.len || memcmp(rq2.data, rq.data, rq.len) != 0 ||
		    strcmp(rq2.listener, rq.listener) != 0)
			abort();
		json_object_put(again);
	} else if (why[0] == '\0') {
		abort(); /* a refusal always says why: the client logs it */
	}
	if (sp_sign_resp_parse(msg, &id, sig, sizeof(sig), &len, &error) == SP_OK &&
	    (len == 0 || len > sizeof(sig) || id <= 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_buf in, again;
	json_object *msg, *back;
	int r, n = 0;

	sp_buf_init(&in, SP_TMSG_MAX + 4);
	if (sp_buf_put(&in, data, size) != 0) {
		sp_buf_free(&in);
		return 0;
	}
	while (n++ < 64 && (r = sp_tmsg_take(&in, &msg)) != SP_ERR_SHORT) {
		if (r == SP_ERR_LIMIT)
			break;
		if (r != SP_OK)
			continue; /* a bad message is consumed; the next may be fine */
		(void)sp_tmsg_type(msg);
		(void)sp_json_int(msg, "session", 0);
		(void)sp_json_str(msg, "role", "");
		keyless_checks(msg);
		if (strcmp(sp_tmsg_type(msg), "live") == 0) {
			json_object *clean = NULL, *again_clean = NULL;
			char err[200];

			if (sp_body_live(msg, &clean, err, sizeof(err)) == 0 &&
			    (sp_body_live(clean, &again_clean, err, sizeof(err)) != 0 ||
			    !json_object_equal(clean, again_clean)))
				abort();
			json_object_put(clean);
			json_object_put(again_clean);
		}
		sp_buf_init(&again, SP_TMSG_MAX + 4);
		if (sp_tmsg_encode(msg, &again) == 0) {
			if (sp_tmsg_take(&again, &back) != SP_OK || !json_object_equal(msg, back))
				abort();
			json_object_put(back);
		}
		sp_buf_free(&again);
		json_object_put(msg);
	}
	sp_buf_free(&in);
	return 0;
}
