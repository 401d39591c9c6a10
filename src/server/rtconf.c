/*
 * rtconf.c - the runtime configuration revision the backend sends through the
 * client: validated whole before anything of it is used (a revision with one
 * bad field is refused and the previous one stays), then shared by reference
 * with the sessions that start under it. Field names: docs/api.md.
 */
#include "server/server.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define MAX_LISTENERS 32
#define MAX_ROUTES 256
#define MAX_PINS 16
#define MAX_TRUSTED 64

struct rtconf *
rtconf_ref(struct rtconf *rt)
{
	__atomic_add_fetch(&rt->refs, 1, __ATOMIC_RELAXED);
	return rt;
}

static void rtconf_free(struct rtconf *rt);

static void
free_on_main(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	(void)loop;
	(void)cancelled;
	rtconf_free((struct rtconf *)((char *)m - offsetof(struct rtconf, gone)));
}

/*
 * Sessions take and drop their references on their own loops. The last
 * one frees the revision on the main thread, so that modules' config_free
 * and the credentials' release happen where the configuration was made.
 */
void
rtconf_unref(struct rtconf *rt)
{
	if (rt == NULL || __atomic_sub_fetch(&rt->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (sp_loop_current() != rt->srv->loop) {
		sp_msg_init(&rt->gone, free_on_main);
		sp_loop_post(rt->srv->loop, &rt->gone);
		return;
	}
	rtconf_free(rt);
}

static void
rtconf_free(struct rtconf *rt)
{
	size_t i;

	for (i = 0; i < rt->nlisteners; i++) {
		free(rt->listeners[i].name);
		free(rt->listeners[i].trusted);
		sp_identity_free(&rt->listeners[i].tls);
	}
	free(rt->listeners);
	for (i = 0; i < rt->nroutes; i++) {
		free(rt->routes[i].name);
		free(rt->routes[i].partner_id);
		free(rt->routes[i].pins);
		sp_crl_set_free(&rt->routes[i].crl);
		if (rt->routes[i].creds != NULL)
			gnutls_certificate_free_credentials(rt->routes[i].creds);
	}
	free(rt->routes);
	if (rt->modcfg != NULL) {
		for (i = 0; i < rt->srv->nchain; i++) {
			const struct chain_entry *ce = &rt->srv->chain[i];
			if (rt->modcfg[i] != NULL && ce->m->config_free != NULL)
				ce->m->config_free(ce->mctx, rt->modcfg[i]);
		}
		free(rt->modcfg);
	}
	free(rt);
}

static int
get_uint(json_object *o, const char *key, unsigned def, unsigned min, unsigned max,
    unsigned *out, const char *path, char *err, size_t errlen)
{
	json_object *v;
	long long x;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		*out = def;
		return SP_OK;
	}
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "%s.%s: expected an integer", path, key);
		return SP_ERR_CONFIG;
	}
	x = json_object_get_int64(v);
	if (x < min || x > max) {
		snprintf(err, errlen, "%s.%s: %lld is outside %u..%u", path, key, x, min, max);
		return SP_ERR_CONFIG;
	}
	*out = (unsigned)x;
	return SP_OK;
}

/* "proxy_protocol": null (absent) or {"trusted": ["CIDR", ...]} (1..MAX_TRUSTED). */
static int
parse_proxy_protocol(json_object *o, const char *path, struct rt_listener *l, char *err,
    size_t errlen)
{
	json_object *pp, *tr, *v;
	size_t i, n;

	if (!json_object_object_get_ex(o, "proxy_protocol", &pp) ||
	    json_object_is_type(pp, json_type_null))
		return SP_OK;
	if (!json_object_is_type(pp, json_type_object) ||
	    (tr = sp_json_get(pp, "trusted", json_type_array)) == NULL ||
	    (n = json_object_array_length(tr)) < 1 || n > MAX_TRUSTED) {
		snprintf(err, errlen, "%s.proxy_protocol: expected {\"trusted\": [1 to %d networks]} or null",
		    path, MAX_TRUSTED);
		return SP_ERR_CONFIG;
	}
	if ((l->trusted = calloc(n, sizeof(*l->trusted))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(tr, i);
		if (!json_object_is_type(v, json_type_string) ||
		    sp_cidr_parse(json_object_get_string(v), &l->trusted[i]) != 0) {
			snprintf(err, errlen, "%s.proxy_protocol.trusted[%zu]: expected a numeric network "
			    "(192.0.2.0/24, 2001:db8::/32 or an address)", path, i);
			return SP_ERR_CONFIG;
		}
	}
	l->ntrusted = n;
	l->proxy_protocol = true;
	return SP_OK;
}

/* Bootstrap partner_host: this node's own address, the revision's port. */
static int
rebind_host(struct rt_listener *l, const char *host, char *err, size_t errlen)
{
	uint16_t port = sp_addr_port(&l->addr);

	if (sp_addr_parse_host(host, &l->addr) != 0) {
		snprintf(err, errlen, "partner_host: '%s' is not a numeric address", host);
		return SP_ERR_CONFIG;
	}
	sp_addr_set_port(&l->addr, port);
	sp_addr_format(&l->addr, l->addr_text, sizeof(l->addr_text));
	return SP_OK;
}

static int
parse_listener(struct server *srv, json_object *o, size_t i, struct rt_listener *l, char *err,
    size_t errlen)
{
	char path[32], e2[200];
	const char *name, *addr, *chain, *key, *where;
	json_object *tls;
	int r;

	snprintf(path, sizeof(path), "listeners[%zu]", i);
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "%s: expected an object", path);
		return SP_ERR_CONFIG;
	}
	name = sp_json_str(o, "name", NULL);
	if (name == NULL || name[0] == '\0' || strlen(name) > 64) {
		snprintf(err, errlen, "%s.name: expected a name of 1 to 64 characters", path);
		return SP_ERR_CONFIG;
	}
	addr = sp_json_str(o, "address", NULL);
	if (addr == NULL || sp_addr_parse(addr, &l->addr) != 0) {
		snprintf(err, errlen, "%s.address: expected a numeric host:port", path);
		return SP_ERR_CONFIG;
	}
	sp_addr_format(&l->addr, l->addr_text, sizeof(l->addr_text));
	/* "tls": null is a plain TCP listener (OFTP2 on port 3305 style). */
	if (json_object_object_get_ex(o, "tls", &tls) && json_object_is_type(tls, json_type_null)) {
		l->plain = true;
	} else {
		tls = sp_json_get(o, "tls", json_type_object);
		chain = sp_json_str(tls, "certificate_chain", NULL);
		key = sp_json_str(tls, "private_key", NULL);
		where = sp_json_str(tls, "key", NULL);
		if (where != NULL && strcmp(where, "inside") != 0) {
			snprintf(err, errlen, "%s.tls.key: only \"inside\" (the client signs)", path);
			return SP_ERR_CONFIG;
		}
		if (where != NULL && key != NULL) {
			snprintf(err, errlen, "%s.tls: key inside and a private_key exclude each other", path);
			return SP_ERR_CONFIG;
		}
		if (tls == NULL || chain == NULL || (key == NULL && where == NULL)) {
			snprintf(err, errlen, "%s.tls: needs certificate_chain and private_key (PEM) or key: inside, or null", path);
			return SP_ERR_CONFIG;
		}
		if (where != NULL) {
			/* The key stays with the client: a handle that asks it to sign. */
			if (sp_cert_key_id_pem(chain, l->tls.key_id) != 0 ||
			    (l->tls.cert_pem = strdup(chain)) == NULL) {
				snprintf(err, errlen, "%s.tls.certificate_chain: not PEM X.509", path);
				return SP_ERR_CONFIG;
			}
			if ((r = keyless_creds(srv, name, chain, &l->tls.creds, e2, sizeof(e2))) != 0) {
				snprintf(err, errlen, "%s.tls: %s", path, e2);
				return r;
			}
			l->keyless = true;
		} else if ((r = sp_identity_from_pem(chain, key, &l->tls, e2, sizeof(e2))) != 0) {
			snprintf(err, errlen, "%s.tls: %s", path, e2);
			return SP_ERR_CONFIG;
		}
		l->require_client_cert = json_object_get_boolean(
		    sp_json_get(tls, "require_client_cert", json_type_boolean));
		l->request_client_cert = json_object_get_boolean(
		    sp_json_get(tls, "request_client_cert", json_type_boolean));
	}
	if ((r = parse_proxy_protocol(o, path, l, err, errlen)) != 0)
		return r;
	if ((l->name = strdup(name)) == NULL)
		return SP_ERR_NOMEM;
	return SP_OK;
}

static bool
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/* tls.crl and tls.crl_expired of a route: the partner's server certificate
 * can be revoked too. The CRLs go into the credentials GnuTLS verifies the
 * peer with; their nextUpdate stays with the route for the policy. */
static int
route_crl(json_object *tls, const char *ca, struct rt_route *rr, const char *path,
    char *err, size_t errlen)
{
	const char *crl = sp_json_str(tls, "crl", NULL);
	const char *policy = sp_json_str(tls, "crl_expired", "fail_closed");
	char why[160];
	int r;

	if (strcmp(policy, "fail_open") == 0)
		rr->crl_fail_open = true;
	else if (strcmp(policy, "fail_closed") != 0) {
		snprintf(err, errlen, "%s.tls.crl_expired: expected fail_closed or fail_open", path);
		return SP_ERR_CONFIG;
	}
	if (crl == NULL)
		return SP_OK;
	if (ca == NULL) {
		snprintf(err, errlen, "%s.tls.crl: needs a ca_bundle", path);
		return SP_ERR_CONFIG;
	}
	if ((r = sp_crl_load(ca, crl, &rr->crl, why, sizeof(why))) != SP_OK) {
		snprintf(err, errlen, "%s.tls.%s", path, why);
		return r;
	}
	/* GnuTLS copies them. */
	if (gnutls_certificate_set_x509_crl(rr->creds, rr->crl.crls, (int)rr->crl.n) < 0) {
		snprintf(err, errlen, "%s.tls.crl: not taken by the credentials", path);
		return SP_ERR_CONFIG;
	}
	return SP_OK;
}

static int
parse_route(json_object *o, size_t i, struct rt_route *rr, char *err, size_t errlen)
{
	char path[32];
	const char *name, *pid, *addr, *src, *ca, *chain, *key;
	json_object *tls, *pins, *v;
	size_t j;
	int g, r;

	snprintf(path, sizeof(path), "routes[%zu]", i);
	name = sp_json_str(o, "name", NULL);
	if (name == NULL || name[0] == '\0' || strlen(name) > 64) {
		snprintf(err, errlen, "%s.name: expected a name of 1 to 64 characters", path);
		return SP_ERR_CONFIG;
	}
	pid = sp_json_str(o, "partner_odette_id", NULL);
	if (pid == NULL || pid[0] == '\0' || strlen(pid) > 25) {
		snprintf(err, errlen, "%s.partner_odette_id: expected an ODETTE ID", path);
		return SP_ERR_CONFIG;
	}
	addr = sp_json_str(o, "partner_address", NULL);
	if (addr == NULL || sp_addr_parse(addr, &rr->partner) != 0) {
		snprintf(err, errlen, "%s.partner_address: expected a numeric host:port", path);
		return SP_ERR_CONFIG;
	}
	sp_addr_format(&rr->partner, rr->partner_text, sizeof(rr->partner_text));
	src = sp_json_str(o, "source_address", NULL);
	if (src != NULL && sp_addr_parse_host(src, &rr->source) != 0) {
		snprintf(err, errlen, "%s.source_address: expected a numeric address without port", path);
		return SP_ERR_CONFIG;
	}
	if (src != NULL && rr->source.ss.ss_family != rr->partner.ss.ss_family) {
		snprintf(err, errlen, "%s.source_address: not of the partner address's family", path);
		return SP_ERR_CONFIG;
	}
	if ((rr->name = strdup(name)) == NULL || (rr->partner_id = strdup(pid)) == NULL)
		return SP_ERR_NOMEM;
	if (json_object_object_get_ex(o, "tls", &tls) && json_object_is_type(tls, json_type_null)) {
		rr->plain = true;
		return SP_OK;
	}
	if ((tls = sp_json_get(o, "tls", json_type_object)) == NULL) {
		snprintf(err, errlen, "%s.tls: expected an object or null", path);
		return SP_ERR_CONFIG;
	}
	if (gnutls_certificate_allocate_credentials(&rr->creds) != 0)
		return SP_ERR_NOMEM;
	ca = sp_json_str(tls, "ca_bundle", NULL);
	if (ca != NULL) {
		gnutls_datum_t d = { (unsigned char *)(uintptr_t)ca, (unsigned)strlen(ca) };
		if (gnutls_certificate_set_x509_trust_mem(rr->creds, &d, GNUTLS_X509_FMT_PEM) <= 0) {
			snprintf(err, errlen, "%s.tls.ca_bundle: no PEM certificate in it", path);
			return SP_ERR_CONFIG;
		}
		rr->has_ca = true;
	}
	if ((r = route_crl(tls, ca, rr, path, err, errlen)) != SP_OK)
		return r;
	pins = sp_json_get(tls, "pins", json_type_array);
	if (pins != NULL && json_object_array_length(pins) > 0) {
		rr->npins = json_object_array_length(pins);
		if (rr->npins > MAX_PINS) {
			snprintf(err, errlen, "%s.tls.pins: more than %d", path, MAX_PINS);
			return SP_ERR_CONFIG;
		}
		if ((rr->pins = calloc(rr->npins, sizeof(*rr->pins))) == NULL)
			return SP_ERR_NOMEM;
		for (j = 0; j < rr->npins; j++) {
			v = json_object_array_get_idx(pins, j);
			if (!json_object_is_type(v, json_type_string) ||
			    json_object_get_string_len(v) != 64 || !is_hex64(json_object_get_string(v))) {
				snprintf(err, errlen, "%s.tls.pins[%zu]: expected 64 lowercase hex digits", path, j);
				return SP_ERR_CONFIG;
			}
			memcpy(rr->pins[j], json_object_get_string(v), SP_KEY_ID_HEX);
		}
	}
	if (!rr->has_ca && rr->npins == 0) {
		snprintf(err, errlen, "%s.tls: needs ca_bundle or pins to verify the partner", path);
		return SP_ERR_CONFIG;
	}
	chain = sp_json_str(tls, "client_certificate_chain", NULL);
	key = sp_json_str(tls, "client_private_key", NULL);
	if ((chain == NULL) != (key == NULL)) {
		snprintf(err, errlen, "%s.tls: client_certificate_chain and client_private_key go together", path);
		return SP_ERR_CONFIG;
	}
	if (chain != NULL) {
		gnutls_datum_t c = { (unsigned char *)(uintptr_t)chain, (unsigned)strlen(chain) };
		gnutls_datum_t k = { (unsigned char *)(uintptr_t)key, (unsigned)strlen(key) };
		if ((g = gnutls_certificate_set_x509_key_mem(rr->creds, &c, &k, GNUTLS_X509_FMT_PEM)) < 0) {
			snprintf(err, errlen, "%s.tls: client certificate and key do not load: %s", path,
			    gnutls_strerror(g));
			return SP_ERR_CONFIG;
		}
	}
	return SP_OK;
}

int
rtconf_parse(struct server *srv, json_object *doc, struct rtconf **out, char *err,
    size_t errlen)
{
	struct rtconf *rt;
	json_object *ls, *limits, *mods;
	size_t i, j;
	int r = SP_ERR_CONFIG;

	*out = NULL;
	if ((rt = calloc(1, sizeof(*rt))) == NULL)
		return SP_ERR_NOMEM;
	rt->refs = 1;
	rt->srv = srv;
	if (sp_json_get(doc, "revision", json_type_int) == NULL ||
	    (rt->revision = sp_json_int(doc, "revision", -1)) < 0) {
		snprintf(err, errlen, "revision: expected a non-negative integer");
		goto fail;
	}
	if ((ls = sp_json_get(doc, "listeners", json_type_array)) == NULL) {
		snprintf(err, errlen, "listeners: expected an array");
		goto fail;
	}
	if (json_object_array_length(ls) > MAX_LISTENERS) {
		snprintf(err, errlen, "listeners: more than %d", MAX_LISTENERS);
		goto fail;
	}
	rt->nlisteners = json_object_array_length(ls);
	if (rt->nlisteners > 0 &&
	    (rt->listeners = calloc(rt->nlisteners, sizeof(*rt->listeners))) == NULL) {
		r = SP_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < rt->nlisteners; i++) {
		if ((r = parse_listener(srv, json_object_array_get_idx(ls, i), i, &rt->listeners[i],
		    err, errlen)) != 0)
			goto fail;
		if (srv->conf.partner_host != NULL &&
		    (r = rebind_host(&rt->listeners[i], srv->conf.partner_host, err, errlen)) != 0)
			goto fail;
		for (j = 0; j < i; j++) {
			if (strcmp(rt->listeners[j].name, rt->listeners[i].name) == 0) {
				snprintf(err, errlen, "listeners[%zu].name: '%s' is used twice", i,
				    rt->listeners[i].name);
				r = SP_ERR_CONFIG;
				goto fail;
			}
		}
	}
	{
		json_object *og = sp_json_get(doc, "outgoing", json_type_object);
		const char *src = sp_json_str(og, "source_address", NULL);

		if (src != NULL && sp_addr_parse_host(src, &rt->default_source) != 0) {
			snprintf(err, errlen, "outgoing.source_address: expected a numeric address without port");
			r = SP_ERR_CONFIG;
			goto fail;
		}
	}
	ls = sp_json_get(doc, "routes", json_type_array);
	if (ls != NULL && json_object_array_length(ls) > MAX_ROUTES) {
		snprintf(err, errlen, "routes: more than %d", MAX_ROUTES);
		r = SP_ERR_CONFIG;
		goto fail;
	}
	rt->nroutes = ls != NULL ? json_object_array_length(ls) : 0;
	if (rt->nroutes > 0 && (rt->routes = calloc(rt->nroutes, sizeof(*rt->routes))) == NULL) {
		r = SP_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < rt->nroutes; i++) {
		json_object *ro = json_object_array_get_idx(ls, i);

		if (!json_object_is_type(ro, json_type_object)) {
			snprintf(err, errlen, "routes[%zu]: expected an object", i);
			r = SP_ERR_CONFIG;
			goto fail;
		}
		if ((r = parse_route(ro, i, &rt->routes[i], err, errlen)) != 0)
			goto fail;
		for (j = 0; j < i; j++) {
			if (strcmp(rt->routes[j].name, rt->routes[i].name) == 0) {
				snprintf(err, errlen, "routes[%zu].name: '%s' is used twice", i, rt->routes[i].name);
				r = SP_ERR_CONFIG;
				goto fail;
			}
		}
	}
	limits = sp_json_get(doc, "limits", json_type_object);
	if ((r = get_uint(limits, "max_sessions", 1000, 1, 100000, &rt->max_sessions, "limits", err, errlen)) != 0 ||
	    (r = get_uint(limits, "max_sessions_per_address", 20, 1, 100000, &rt->max_per_address, "limits", err, errlen)) != 0 ||
	    (r = get_uint(limits, "max_unverified", 128, 1, 100000, &rt->max_unverified, "limits", err, errlen)) != 0 ||
	    (r = get_uint(limits, "max_unverified_per_address", 8, 1, 100000, &rt->max_unverified_per_address, "limits", err, errlen)) != 0 ||
	    (r = get_uint(limits, "handshake_timeout_ms", 10000, 100, 600000, &rt->handshake_ms, "limits", err, errlen)) != 0 ||
	    (r = get_uint(limits, "ssid_timeout_ms", 30000, 100, 600000, &rt->ssid_ms, "limits", err, errlen)) != 0 ||
	    (r = get_uint(limits, "idle_timeout_ms", 300000, 1000, 86400000, &rt->idle_ms, "limits", err, errlen)) != 0 ||
	    (r = get_uint(limits, "inside_connect_timeout_ms", 10000, 100, 600000, &rt->inside_connect_ms, "limits", err, errlen)) != 0 ||
	    (r = get_uint(limits, "linger_ms", 5000, 0, 600000, &rt->linger_ms, "limits", err, errlen)) != 0)
		goto fail;
	{
		unsigned max_s;

		if ((r = get_uint(limits, "session_max_ms", 86400000, 1000, 604800000u, &max_s,
		    "limits", err, errlen)) != 0)
			goto fail;
		rt->session_max_ms = max_s;
	}
	/* Each module gets its own section and may refuse the whole revision. */
	mods = sp_json_get(doc, "modules", json_type_object);
	if (srv->nchain > 0 && (rt->modcfg = calloc(srv->nchain, sizeof(void *))) == NULL) {
		r = SP_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < srv->nchain; i++) {
		const struct chain_entry *ce = &srv->chain[i];
		json_object *sec = NULL;
		char merr[256] = "";

		if (ce->m->config_parse == NULL)
			continue;
		if (mods != NULL)
			json_object_object_get_ex(mods, ce->name, &sec);
		if (ce->m->config_parse(ce->mctx, sec ? json_object_to_json_string_ext(sec,
		    JSON_C_TO_STRING_PLAIN) : "null", &rt->modcfg[i], merr, sizeof(merr)) != 0) {
			snprintf(err, errlen, "modules.%s: %s", ce->name, merr[0] ? merr : "refused");
			r = SP_ERR_CONFIG;
			goto fail;
		}
	}
	*out = rt;
	return SP_OK;
fail:
	rtconf_unref(rt);
	return r;
}
