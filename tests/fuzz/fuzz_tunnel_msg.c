/*
 * fuzz_tunnel_msg.c - tunnel message framing and JSON parsing as both ends
 * see it: any bytes, taken message by message until the framer needs more or
 * refuses; every accepted message must re-encode and parse back equal.
 * A "live" message (the server's answer to the client's heartbeat) also
 * goes through the check the client runs on it (sp_body_live), whose clean
 * copy must pass the same check again unchanged.
 */
#include "api/bodies.h"
#include "core/buf.h"
#include "core/err.h"
#include "tunnel/msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
