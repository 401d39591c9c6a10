/* relay.c - the one relay loop; see relay.h for the contract. */
#include "relay.h"
#include "err.h"

enum sp_relay_stop
sp_relay_pump(struct sp_conn *from, const struct sp_relay_sink *sink)
{
	uint8_t buf[SP_RELAY_CHUNK];
	size_t got, have;
	int r, rounds;

	for (rounds = 0; rounds < SP_RELAY_ROUNDS; rounds++) {
		if (sink->room(sink->arg) < sink->low)
			return SP_RELAY_FULL;
		r = SP_OK;
		for (have = 0; have < sizeof(buf); have += got) {
			r = sp_conn_read(from, buf + have, sizeof(buf) - have, &got);
			if (r != SP_OK)
				break;
		}
		if (have > 0 && !sink->put(sink->arg, buf, have))
			return SP_RELAY_STOPPED;
		if (r == SP_OK)
			continue;
		if (r == SP_ERR_AGAIN)
			return SP_RELAY_EMPTY;
		return r == SP_ERR_CLOSED ? SP_RELAY_EOF : SP_RELAY_FAILED;
	}
	return SP_RELAY_YIELD;
}

void
sp_relay_want_read(struct sp_conn *from, const struct sp_relay_sink *sink, bool allowed)
{
	sp_conn_want_read(from, allowed && sink->room(sink->arg) >= sink->low);
}
