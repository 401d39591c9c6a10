/*
 * proxyhdr.c - PROXY protocol v1 and v2 headers (proxyhdr.h), after
 * HAProxy's "proxy-protocol.txt". Every byte is read through struct sp_rd.
 */
#include "core/proxyhdr.h"
#include "core/buf.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char v1sig[] = "PROXY ";

/* The shortest header of either version: "PROXY UNKNOWN\r\n". */
#define MIN_HEADER 15

static void
set_v4(struct sp_addr *a, const uint8_t ip[4], uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

	memset(a, 0, sizeof(*a));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, ip, 4);
	sin->sin_port = htons(port);
	a->len = sizeof(*sin);
}

static void
set_v6(struct sp_addr *a, const uint8_t ip[16], uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, ip, 16);
	sin6->sin6_port = htons(port);
	a->len = sizeof(*sin6);
}

/* ---- version 2 ---- */

static int
parse_v2(struct sp_rd *r, struct sp_proxyhdr *out, size_t *consumed, size_t *needed)
{
	const uint8_t *ip_src, *ip_dst;
	uint8_t vc, fam;
	uint16_t blen, sport, dport;
	size_t total;
	int e;

	if (sp_rd_left(r) < 16) {
		*needed = 16 - sp_rd_left(r);
		return SP_ERR_SHORT;
	}
	if ((e = sp_rd_skip(r, sizeof(v2sig))) != 0 || (e = sp_rd_u8(r, &vc)) != 0 ||
	    (e = sp_rd_u8(r, &fam)) != 0 || (e = sp_rd_u16be(r, &blen)) != 0)
		return e;
	if ((vc >> 4) != 2 || (vc & 0x0f) > 1)
		return SP_ERR_PROTOCOL;
	if (blen > SP_PROXYHDR_V2_BODY_MAX)
		return SP_ERR_LIMIT;
	total = 16 + (size_t)blen;
	if (sp_rd_left(r) < blen) {
		*needed = blen - sp_rd_left(r);
		return SP_ERR_SHORT;
	}
	memset(out, 0, sizeof(*out));
	out->version = 2;
	if ((vc & 0x0f) == 0) {
		/* LOCAL: the balancer speaking for itself; the body is ignored. */
		out->local = true;
	} else if (fam == 0x11) {          /* TCP over IPv4 */
		if ((e = sp_rd_bytes(r, 4, &ip_src)) != 0 || (e = sp_rd_bytes(r, 4, &ip_dst)) != 0 ||
		    (e = sp_rd_u16be(r, &sport)) != 0 || (e = sp_rd_u16be(r, &dport)) != 0)
			return SP_ERR_PROTOCOL;   /* body shorter than its addresses */
		set_v4(&out->src, ip_src, sport);
		set_v4(&out->dst, ip_dst, dport);
	} else if (fam == 0x21) {          /* TCP over IPv6 */
		if ((e = sp_rd_bytes(r, 16, &ip_src)) != 0 || (e = sp_rd_bytes(r, 16, &ip_dst)) != 0 ||
		    (e = sp_rd_u16be(r, &sport)) != 0 || (e = sp_rd_u16be(r, &dport)) != 0)
			return SP_ERR_PROTOCOL;
		set_v6(&out->src, ip_src, sport);
		set_v6(&out->dst, ip_dst, dport);
	} else {
		/* UNSPEC, UDP, UNIX: nothing an OFTP2 partner can come from. */
		return SP_ERR_PROTOCOL;
	}
	/* The TLVs that may follow the addresses are not needed: skipped. */
	*consumed = total;
	return SP_OK;
}

/* ---- version 1 ---- */

/* Next space-terminated field of the line [pos, end) into buf. */
static int
v1_field(struct sp_rd *r, size_t end, char *buf, size_t n, bool last)
{
	const uint8_t *c;
	size_t i = 0;

	for (;;) {
		if (sp_rd_pos(r) >= end)
			return last && i > 0 ? SP_OK : SP_ERR_PROTOCOL;
		if (sp_rd_bytes(r, 1, &c) != 0)
			return SP_ERR_PROTOCOL;
		if (*c == ' ')
			return !last && i > 0 ? SP_OK : SP_ERR_PROTOCOL;
		if (i + 1 >= n)
			return SP_ERR_PROTOCOL;
		buf[i++] = (char)*c;
		buf[i] = '\0';
	}
}

static int
v1_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t i, n = strlen(s);

	if (n < 1 || n > 5 || (n > 1 && s[0] == '0'))
		return SP_ERR_PROTOCOL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SP_ERR_PROTOCOL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return SP_ERR_PROTOCOL;
	*port = (uint16_t)v;
	return SP_OK;
}

static int
parse_v1(struct sp_rd *r, struct sp_proxyhdr *out, size_t *consumed, size_t *needed)
{
	char proto[8], src[48], dst[48], sp[8], dp[8];
	uint8_t ip_src[16], ip_dst[16];
	uint16_t sport, dport;
	const uint8_t *line;
	size_t have = sp_rd_left(r), scan, i, end;
	int fam;

	scan = have < SP_PROXYHDR_V1_MAX ? have : SP_PROXYHDR_V1_MAX;
	if (sp_rd_bytes(r, scan, &line) != 0)
		return SP_ERR_PROTOCOL;
	for (i = 0; i < scan; i++) {
		if (line[i] == '\n')
			return SP_ERR_PROTOCOL;   /* an LF without its CR */
		if (line[i] != '\r')
			continue;
		if (i + 1 == scan)
			break;                    /* the LF is still to come */
		if (line[i + 1] != '\n')
			return SP_ERR_PROTOCOL;
		end = i;
		goto found;
	}
	if (scan == SP_PROXYHDR_V1_MAX)
		return SP_ERR_PROTOCOL;           /* no CRLF in 107 bytes */
	/*
	 * No CRLF yet: two more bytes at least, or one if the CR is here. Both
	 * are header bytes, so reading them cannot take the next protocol's.
	 */
	*needed = scan > 0 && line[scan - 1] == '\r' ? 1 : 2;
	if (scan < MIN_HEADER && MIN_HEADER - scan > *needed)
		*needed = MIN_HEADER - scan;
	return SP_ERR_SHORT;
found:
	sp_rd_init(r, line, end);
	if (sp_rd_skip(r, sizeof(v1sig) - 1) != 0)
		return SP_ERR_PROTOCOL;
	memset(out, 0, sizeof(*out));
	out->version = 1;
	if (end - sp_rd_pos(r) >= 7 && memcmp(line + sp_rd_pos(r), "UNKNOWN", 7) == 0) {
		/* The rest of the line, if any, is to be ignored (the spec says so). */
		if (end - sp_rd_pos(r) > 7 && line[sp_rd_pos(r) + 7] != ' ')
			return SP_ERR_PROTOCOL;
		out->local = true;
		*consumed = end + 2;
		return SP_OK;
	}
	if (v1_field(r, end, proto, sizeof(proto), false) != 0 ||
	    v1_field(r, end, src, sizeof(src), false) != 0 ||
	    v1_field(r, end, dst, sizeof(dst), false) != 0 ||
	    v1_field(r, end, sp, sizeof(sp), false) != 0 ||
	    v1_field(r, end, dp, sizeof(dp), true) != 0)
		return SP_ERR_PROTOCOL;
	if (strcmp(proto, "TCP4") == 0)
		fam = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		fam = AF_INET6;
	else
		return SP_ERR_PROTOCOL;
	if (inet_pton(fam, src, ip_src) != 1 || inet_pton(fam, dst, ip_dst) != 1 ||
	    v1_port(sp, &sport) != 0 || v1_port(dp, &dport) != 0)
		return SP_ERR_PROTOCOL;
	if (fam == AF_INET) {
		set_v4(&out->src, ip_src, sport);
		set_v4(&out->dst, ip_dst, dport);
	} else {
		set_v6(&out->src, ip_src, sport);
		set_v6(&out->dst, ip_dst, dport);
	}
	*consumed = end + 2;
	return SP_OK;
}

int
sp_proxyhdr_parse(const uint8_t *p, size_t len, struct sp_proxyhdr *out,
    size_t *consumed, size_t *needed)
{
	struct sp_rd r;
	size_t n;

	sp_rd_init(&r, p, len);
	/* Decide on the bytes there are: a ClientHello is refused at once. */
	n = len < sizeof(v2sig) ? len : sizeof(v2sig);
	if (n > 0 && memcmp(p, v2sig, n) == 0) {
		if (len < sizeof(v2sig)) {
			*needed = 16 - len;
			return SP_ERR_SHORT;
		}
		return parse_v2(&r, out, consumed, needed);
	}
	n = len < sizeof(v1sig) - 1 ? len : sizeof(v1sig) - 1;
	if (n > 0 && memcmp(p, v1sig, n) == 0) {
		if (len < MIN_HEADER) {
			*needed = MIN_HEADER - len;
			return SP_ERR_SHORT;
		}
		return parse_v1(&r, out, consumed, needed);
	}
	if (len == 0) {
		*needed = MIN_HEADER;
		return SP_ERR_SHORT;
	}
	return SP_ERR_PROTOCOL;
}
