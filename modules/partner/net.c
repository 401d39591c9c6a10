/*
 * net.c - numeric addresses and CIDR networks of `allowed_networks`, and the
 * question "does this partner allow this source address". IPv4-mapped IPv6
 * addresses ("::ffff:192.0.2.7", what a dual-stack listener reports) count
 * as the IPv4 address they carry. Nothing is allocated here.
 */
#include "partner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int
pm_addr_parse(const char *s, int *family, uint8_t addr[16])
{
	uint8_t b[16];

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, b) == 1) {
		*family = AF_INET;
		memcpy(addr, b, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0) {
			*family = AF_INET;
			memcpy(addr, b + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, b, 16);
		}
		return 0;
	}
	return -1;
}

int
pm_net_parse(const char *s, struct pm_net *out)
{
	char host[PM_ADDR_MAX];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max, prefix, i;

	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(out, 0, sizeof(*out));
	/* Networks are written as the family they mean: no mapped forms here. */
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else
		return -1;
	prefix = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		size_t n = strlen(p);
		if (n < 1 || n > 3 || (n > 1 && p[0] == '0'))
			return -1;
		for (prefix = 0, i = 0; i < n; i++) {
			if (p[i] < '0' || p[i] > '9')
				return -1;
			prefix = prefix * 10 + (unsigned)(p[i] - '0');
		}
		if (prefix > max)
			return -1;
	}
	out->prefix = prefix;
	return 0;
}

bool
pm_net_contains(const struct pm_net *n, int family, const uint8_t addr[16])
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != family)
		return false;
	if (memcmp(n->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((n->addr[full] ^ addr[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool
pm_partner_allows(const struct pm_partner *p, int family, const uint8_t addr[16])
{
	size_t i;

	for (i = 0; i < p->nnets; i++)
		if (pm_net_contains(&p->nets[i], family, addr))
			return true;
	return false;
}
