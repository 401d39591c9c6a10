/*
 * fuzz_tunnel_msg.c - tunnel message framing and JSON parsing as both ends
 * see it: any bytes, taken message by message until the framer needs more or
 * refuses; every accepted message must re-encode and parse back equal.
 */
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
