/*
 * cidr.c - numeric networks and address membership (cidr.h). The partner
 * module keeps its own copy (modules link nothing of the core).
 */
#include "core/cidr.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int
sp_cidr_parse(const char *s, struct sp_cidr *out)
{
	char host[48];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max, prefix, i;

	if (hlen == 0 || hlen >= sizeof(host))
		return SP_ERR_INVALID;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else
		return SP_ERR_INVALID;
	prefix = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		size_t n = strlen(p);

		if (n < 1 || n > 3 || (n > 1 && p[0] == '0'))
			return SP_ERR_INVALID;
		for (prefix = 0, i = 0; i < n; i++) {
			if (p[i] < '0' || p[i] > '9')
				return SP_ERR_INVALID;
			prefix = prefix * 10 + (unsigned)(p[i] - '0');
		}
		if (prefix > max)
			return SP_ERR_INVALID;
	}
	out->prefix = prefix;
	return SP_OK;
}

bool
sp_cidr_match(const struct sp_cidr *n, const struct sp_addr *a)
{
	const uint8_t *ip;
	unsigned full = n->prefix / 8, rest = n->prefix % 8;
	int family;

	if (a->ss.ss_family == AF_INET) {
		family = AF_INET;
		ip = (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
	} else if (a->ss.ss_family == AF_INET6) {
		ip = (const uint8_t *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
		family = AF_INET6;
		if (memcmp(ip, v4mapped, sizeof(v4mapped)) == 0) {
			family = AF_INET;
			ip += 12;
		}
	} else
		return false;
	if (n->family != family || memcmp(n->addr, ip, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((n->addr[full] ^ ip[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool
sp_cidr_match_any(const struct sp_cidr *v, size_t n, const struct sp_addr *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sp_cidr_match(&v[i], a))
			return true;
	return false;
}
