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
 * Ownership: nothing is kept here; the counts live in struct server
 * (nsessions, nunverified) and in each session (unverified flag), kept by
 * session.c.
 */
#include "server/server.h"
#include "server/session.h"
#include "core/err.h"
#include "core/log.h"

#include <string.h>

int
admit_incoming(struct server *srv, const struct rtconf *rt, const char *addr)
{
	const struct session *o;
	unsigned n = 0, nu = 0;

	/* Connections still waiting for their PROXY header (proxywait.c) hold
	 * a slot as much as a session does, and nobody is verified there. */
	if (srv->nsessions + srv->npwait >= rt->max_sessions) {
		sp_log(SP_LOG_WARN, "session", "refused %s: %u sessions is the limit", addr,
		    rt->max_sessions);
		return SP_ERR_LIMIT;
	}
	/* Per address: one walk over the sessions (bounded by max_sessions). */
	for (o = srv->sessions; o != NULL; o = o->next) {
		if (o->outgoing || strcmp(o->peer, addr) != 0)
			continue;
		n++;
		nu += o->unverified;
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
