/*
 * proxyhdr.h - the PROXY protocol header (HAProxy's, versions 1 and 2) that a
 * load balancer puts in front of a relayed TCP connection to carry the
 * original source and destination addresses.
 *
 * The parser reads bytes from the network through struct sp_rd and answers
 * like a Suricata parser: complete (how many bytes the header took), invalid,
 * or incomplete with how many more bytes it needs at least. `needed` never
 * reaches past the end of the header, so a caller that reads exactly
 * `needed` bytes from the socket each time never swallows a byte of what
 * follows (the TLS ClientHello). Nothing is allocated.
 */
#ifndef SP_PROXYHDR_H
#define SP_PROXYHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/net.h"

/* Version 1: one text line of at most 107 bytes with its CRLF. */
#define SP_PROXYHDR_V1_MAX 107
/* Version 2: 16 fixed bytes and at most this many of addresses and TLVs. */
#define SP_PROXYHDR_V2_BODY_MAX 1024
#define SP_PROXYHDR_MAX (16 + SP_PROXYHDR_V2_BODY_MAX)

struct sp_proxyhdr {
	unsigned version;       /* 1 or 2 */
	/*
	 * true for a v2 LOCAL command (the balancer's own health check) and a
	 * v1 "UNKNOWN" line: no addresses are carried, the connection's own
	 * apply. src and dst are then zero (len 0).
	 */
	bool local;
	struct sp_addr src;     /* the partner, with its port */
	struct sp_addr dst;     /* the address it called on the balancer */
};

/*
 * Parse the header at the start of p[0..len).
 *   SP_OK:           complete; *consumed is its length in bytes.
 *   SP_ERR_SHORT:    incomplete; *needed (>= 1) more bytes at least, all of
 *                    them still part of the header.
 *   SP_ERR_PROTOCOL: not a PROXY header, or a malformed one (also: a v2
 *                    PROXY command for a family other than TCP over IPv4 or
 *                    IPv6).
 *   SP_ERR_LIMIT:    a v2 header longer than SP_PROXYHDR_MAX.
 * *out is written only on SP_OK.
 */
int sp_proxyhdr_parse(const uint8_t *p, size_t len, struct sp_proxyhdr *out,
    size_t *consumed, size_t *needed);

#endif
