/*
 * admit.c - who may hold a session at accept, before a single TLS byte:
 * the server's and each address's session limits, and the same two for
 * sessions whose partner is not verified yet.
 *
 * Unverified sessions (incoming, the inside not asked for yet: TLS, SSRM,
 * SSID and its password check) are the cheap way to hold a slot: finishing a
 * handshake and staying silent costs an attacker one socket per slot until
 * the SSID timeout. They get their own, smaller limits (limits.max_unverified
 * and limits.max_unverified_per_address), so a fill of them leaves the rest of
 * max_sessions to verified partners, and it takes max_unverified /
 * max_unverified_per_address addresses to keep a new partner out at all
 * (docs/threat-model.md, "Pre-authentication floods").
 *
 * Behind a balancer (listener option proxy_protocol) this runs once the
 * PROXY header is read, with the address it carried: the per-address limits
 * are the partner's, never the balancer's (which would lock every partner
 * out at max_per_address). Before the header, proxywait.c only checks the
 * totals, counting connections still waiting for a header (srv->npwait).
 *
 * Every check is a lookup, not a walk over the sessions: a flood must not
 * make each accept cost more than the one before (issue 16).
 *
 * Ownership: the totals live in struct server (nsessions, nunverified) and
 * in each session (unverified flag), kept by session.c. The per-address
 * counts are here: srv->addr_counts maps an address to a struct addr_count
 * that this file allocates on a session's admit_enter() and frees when its
 * address's last session left.
 */
#include "server/server.h"
#include "core/err.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

/* Incoming sessions of one partner address, and how many of them unverified. */
struct addr_count {
	unsigned n, nu;
};

static struct addr_count *
counts(struct server *srv, const char *addr)
{
	return sp_hmap_get(&srv->addr_counts, addr, strlen(addr));
}

int
admit_incoming(struct server *srv, const struct rtconf *rt, const char *addr)
{
	const struct addr_count *c = counts(srv, addr);
	unsigned n = c != NULL ? c->n : 0, nu = c != NULL ? c->nu : 0;

	/* Connections still waiting for their PROXY header (proxywait.c) hold
	 * a slot as much as a session does, and nobody is verified there. */
	if (srv->nsessions + srv->npwait >= rt->max_sessions) {
		sp_log(SP_LOG_WARN, "session", "refused %s: %u sessions is the limit", addr,
		    rt->max_sessions);
		return SP_ERR_LIMIT;
	}
	if (n >= rt->max_per_address) {
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "address_limit" }, { "src", addr }),
		    "address_limit from %s: %u sessions from this address is the limit", addr,
		    rt->max_per_address);
		return SP_ERR_LIMIT;
	}
	if (nu >= rt->max_unverified_per_address) {
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "address_limit" }, { "src", addr }),
		    "address_limit from %s: %u sessions from this address without a verified "
		    "partner is the limit", addr, rt->max_unverified_per_address);
		return SP_ERR_LIMIT;
	}
	if (srv->nunverified + srv->npwait >= rt->max_unverified) {
		/* Not the caller's fault: no security line for fail2ban. */
		sp_log(SP_LOG_WARN, "session", "refused %s: %u sessions without a verified "
		    "partner is the limit", addr, rt->max_unverified);
		return SP_ERR_LIMIT;
	}
	return SP_OK;
}

int
admit_enter(struct server *srv, const char *addr)
{
	struct addr_count *c = counts(srv, addr);

	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return SP_ERR_NOMEM;
		if (sp_hmap_put(&srv->addr_counts, addr, strlen(addr), c) != SP_OK) {
			free(c);
			return SP_ERR_NOMEM;
		}
	}
	c->n++;
	c->nu++;
	return SP_OK;
}

void
admit_verified(struct server *srv, const char *addr)
{
	struct addr_count *c = counts(srv, addr);

	if (c != NULL && c->nu > 0)
		c->nu--;
}

void
admit_leave(struct server *srv, const char *addr)
{
	struct addr_count *c = counts(srv, addr);

	if (c == NULL)
		return;
	if (c->n > 0)
		c->n--;
	if (c->n == 0)
		free(sp_hmap_del(&srv->addr_counts, addr, strlen(addr)));
}
