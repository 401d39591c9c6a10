/*
 * cidr.h - numeric networks ("192.0.2.0/24", "2001:db8::/32", a bare address
 * is a /32 or /128) and whether a socket address lies in one. An IPv4-mapped
 * IPv6 address ("::ffff:192.0.2.7", what a dual-stack socket reports) counts
 * as the IPv4 address it carries. Nothing is allocated.
 */
#ifndef SP_CIDR_H
#define SP_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/net.h"

struct sp_cidr {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

/* SP_ERR_INVALID unless `text` is a numeric network as above. */
int sp_cidr_parse(const char *text, struct sp_cidr *out);
bool sp_cidr_match(const struct sp_cidr *n, const struct sp_addr *a);
bool sp_cidr_match_any(const struct sp_cidr *v, size_t n, const struct sp_addr *a);

#endif
