/*
 * relay.h - the one relay loop: bytes read from a connection go to a sink
 * while the sink has room. The server's session legs (through the module
 * chain) and the client's pipes (straight to the other connection) both
 * relay with it.
 *
 * A pump reads up to SP_RELAY_CHUNK octets per round from as many TLS records
 * or recv() calls as are there (one pass down the module chain and one write
 * for several records), hands them to the sink and goes on while the sink
 * keeps at least `low` octets of room. It stops after SP_RELAY_ROUNDS rounds
 * so that one busy connection cannot starve the others: the level-triggered
 * fd, or the connection's deferred READABLE for records GnuTLS holds, brings
 * the reader back.
 *
 * Backpressure is the caller's: after SP_RELAY_FULL (and whenever the sink
 * drains, SP_CONN_DRAINED on its connection) it turns reading on or off with
 * sp_relay_want_read(). The pump neither closes nor ends anything; it says
 * why it stopped and the owner acts.
 */
#ifndef SP_RELAY_H
#define SP_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#define SP_RELAY_CHUNK (64u * 1024)
#define SP_RELAY_ROUNDS 8

struct sp_relay_sink {
	/* Octets the sink takes now; 0 while it takes none (a module holds
	 * the direction, the owner is ending). */
	size_t (*room)(void *arg);
	/* Take p[0..n). false: stop pumping now (the owner ended or paused;
	 * the pump touches nothing of it afterwards). */
	bool (*put)(void *arg, const uint8_t *p, size_t n);
	void *arg;
	size_t low;     /* read only while room() >= low */
};

enum sp_relay_stop {
	SP_RELAY_YIELD,   /* rounds used up; more may be waiting */
	SP_RELAY_FULL,    /* the sink is short of room: read no more until it drains */
	SP_RELAY_EMPTY,   /* nothing more to read now */
	SP_RELAY_STOPPED, /* put() said stop */
	SP_RELAY_EOF,     /* the peer closed (from->unclean_eof says how) */
	SP_RELAY_FAILED   /* a read failed: from->err and from->errtext say why */
};

enum sp_relay_stop sp_relay_pump(struct sp_conn *from, const struct sp_relay_sink *sink);

/* Read from `from` only while the sink has room (and `allowed`). */
void sp_relay_want_read(struct sp_conn *from, const struct sp_relay_sink *sink, bool allowed);

#endif
