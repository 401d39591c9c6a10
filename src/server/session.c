/*
 * session.c - the relay core: a partner session's two legs, the module chain
 * between them, and the host function table modules call back into.
 *
 * Data path: bytes read from a leg enter the chain at the first module with an
 * on_data hook; each module forwards what it accepts (host->forward) to the
 * next one, and the last forward writes to the other leg. A leg is read only
 * while the other leg's output buffer has at least half its room free
 * (backpressure), so memory per session is bounded by SESSION_OUT_MAX per leg
 * plus what the modules themselves hold.
 *
 * The inside leg does not exist until the client has dialled a data
 * connection for the session, which the server asks for only when the first
 * byte must go inside (if a module gates the inside) or right after the TLS
 * handshake (if none does). Nothing reaches the inside before every module
 * that looks at it agreed.
 */
#include "server/session.h"
#include "server/stats.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Static_assert((int)SP_LEVEL_CRIT == (int)SP_LOG_CRIT && (int)SP_LEVEL_DEBUG == (int)SP_LOG_DEBUG,
    "module.h and log.h levels must agree");

struct mtimer {
	struct sp_timer t;
	unsigned id;
	struct sp_msess *ms;
	struct mtimer *next;
};

#define MTIMERS_MAX 8

static void leg_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg);
static void session_end(struct session *s, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void chain_data(struct session *s, enum sp_dir dir, size_t from,
    const uint8_t *p, size_t n);

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum sp_leg
dest_leg(enum sp_dir dir)
{
	return dir == SP_TO_INSIDE ? SP_LEG_INSIDE : SP_LEG_OUTSIDE;
}

static enum sp_leg
src_leg(enum sp_dir dir)
{
	return dir == SP_TO_INSIDE ? SP_LEG_OUTSIDE : SP_LEG_INSIDE;
}

const char *
session_fact(struct session *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nfacts; i++)
		if (strcmp(s->facts[i].key, key) == 0)
			return s->facts[i].value;
	return NULL;
}

static const char *
fact(struct session *s, const char *key)
{
	return session_fact(s, key);
}

static int
fact_set(struct session *s, const char *key, const char *value)
{
	size_t i;
	char *v;

	if ((v = strdup(value)) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < s->nfacts; i++) {
		if (strcmp(s->facts[i].key, key) == 0) {
			free(s->facts[i].value);
			s->facts[i].value = v;
			return SP_OK;
		}
	}
	if (s->nfacts == SESSION_FACTS_MAX || (s->facts[i].key = strdup(key)) == NULL) {
		free(v);
		return SP_ERR_LIMIT;
	}
	s->facts[i].value = v;
	s->nfacts++;
	return SP_OK;
}

/* ---- timers ---- */

static void
arm(struct session *s, enum session_timer what, unsigned ms)
{
	s->timer_what = what;
	sp_timer_start(s->srv->loop, &s->timer, ms);
}

static void
disarm(struct session *s)
{
	s->timer_what = T_NONE;
	sp_timer_stop(s->srv->loop, &s->timer);
}

/* ---- lifetime ---- */

/* The chain let the session through to the inside (or it ends): it leaves
 * the limits of unverified sessions (admit.c). */
static void
verified(struct session *s)
{
	if (s->unverified) {
		s->unverified = false;
		s->srv->nunverified--;
		if (s->addr_counted)
			admit_verified(s->srv, s->peer);
	}
}

static void
reap(struct sp_loop *loop, struct sp_defer *d, void *arg)
{
	struct session *s = arg;
	size_t i;

	for (i = 0; i < 2; i++)
		free(s->leg[i]);
	for (i = 0; i < s->srv->nchain; i++)
		free(s->ms[i].sctx);
	free(s->ms);
	for (i = 0; i < s->nfacts; i++) {
		free(s->facts[i].key);
		free(s->facts[i].value);
	}
	sp_buf_free(&s->early_inside);
	sp_buf_free(&s->from_inside);
	rtconf_unref(s->rt);
	free(s);
}

static void
destroy(struct session *s)
{
	struct server *srv = s->srv;
	size_t i;

	if (s->state == S_DEAD)
		return;
	s->state = S_DEAD;
	disarm(s);
	sp_timer_stop(srv->loop, &s->limit_timer);
	for (i = 0; i < srv->nchain; i++) {
		struct mtimer *t = s->ms[i].timers, *next;
		for (; t != NULL; t = next) {
			next = t->next;
			sp_timer_stop(srv->loop, &t->t);
			free(t);
		}
		s->ms[i].timers = NULL;
	}
	for (i = 0; i < 2; i++)
		if (s->leg[i] != NULL)
			sp_conn_close(s->leg[i]);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	srv->nsessions--;
	(void)sp_hmap_del(&srv->session_ids, &s->id, sizeof(s->id));
	verified(s);     /* leaves the count, whatever it was */
	if (s->addr_counted)
		admit_leave(srv, s->peer);
	s->addr_counted = false;
	sp_defer_queue(srv->loop, &s->reap);
}

static void
iso_time(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The session's audit record for the backend (docs/api.md, v1/sessions). */
static void
post_audit(struct session *s, const char *partner, const struct sp_conn *o,
    const struct sp_conn *in)
{
	json_object *doc = json_object_new_object(), *files = NULL;
	const char *ftext = fact(s, "oftp2.files");
	char t[32];

	json_object_object_add(doc, "session", json_object_new_string(s->idtext));
	json_object_object_add(doc, "direction", json_object_new_string(s->outgoing ? "outgoing" : "incoming"));
	json_object_object_add(doc, s->outgoing ? "route" : "listener", json_object_new_string(s->via));
	json_object_object_add(doc, "partner", partner ? json_object_new_string(partner) : NULL);
	json_object_object_add(doc, "source_address", json_object_new_string(s->peer));
	json_object_object_add(doc, "tls_version", fact(s, "tls.version") ?
	    json_object_new_string(fact(s, "tls.version")) : NULL);
	json_object_object_add(doc, "tls_cipher", fact(s, "tls.cipher") ?
	    json_object_new_string(fact(s, "tls.cipher")) : NULL);
	iso_time(s->started_ms, t, sizeof(t));
	json_object_object_add(doc, "started", json_object_new_string(t));
	iso_time(wall_ms(), t, sizeof(t));
	json_object_object_add(doc, "ended", json_object_new_string(t));
	json_object_object_add(doc, "bytes_from_partner", json_object_new_int64(o ? (int64_t)o->bytes_in : 0));
	json_object_object_add(doc, "bytes_to_partner", json_object_new_int64(o ? (int64_t)o->bytes_out : 0));
	json_object_object_add(doc, "end_reason", json_object_new_string(s->reason));
	json_object_object_add(doc, "end_text", json_object_new_string(s->reason_text));
	/* The ESID that ended the session, when a protocol module saw one:
	 * its code and who sent it (partner, inside or the proxy itself). */
	if (fact(s, "oftp2.end_esid") != NULL && fact(s, "oftp2.end_esid_from") != NULL) {
		json_object_object_add(doc, "esid", json_object_new_string(fact(s, "oftp2.end_esid")));
		json_object_object_add(doc, "esid_from",
		    json_object_new_string(fact(s, "oftp2.end_esid_from")));
	}
	/* The OFTP2 module keeps the files it saw as a JSON array fact. */
	if (ftext != NULL)
		files = json_tokener_parse(ftext);
	if (files == NULL || !json_object_is_type(files, json_type_array)) {
		json_object_put(files);
		files = json_object_new_array();
	}
	json_object_object_add(doc, "files", files);
	/* The OFTP2 deviations admitted (rule tokens), for partners diagnose. */
	if ((ftext = fact(s, "oftp2.deviations")) != NULL &&
	    (files = json_tokener_parse(ftext)) != NULL) {
		if (json_object_is_type(files, json_type_array))
			json_object_object_add(doc, "oftp2_deviations", files);
		else
			json_object_put(files);
	}
	(void)in;
	(void)bridge_post(s->srv, "v1/sessions", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
}

static void
audit(struct session *s)
{
	const struct sp_conn *o = s->leg[SP_LEG_OUTSIDE], *in = s->leg[SP_LEG_INSIDE];
	char bin[24], bout[24], dur[24];
	const char *partner = fact(s, "partner");

	snprintf(bin, sizeof(bin), "%llu", (unsigned long long)(o ? o->bytes_in : 0));
	snprintf(bout, sizeof(bout), "%llu", (unsigned long long)(in ? in->bytes_in : 0));
	snprintf(dur, sizeof(dur), "%lld", (long long)(wall_ms() - s->started_ms));
	{
		const char *esid = fact(s, "oftp2.end_esid"), *from = fact(s, "oftp2.end_esid_from");
		struct sp_log_field f[] = {
			{ "session", s->idtext }, { "src", s->peer },
			{ s->outgoing ? "route" : "listener", s->via },
			{ "partner", partner ? partner : "" },
			{ "tls", fact(s, "tls.version") ? fact(s, "tls.version") : "" },
			{ "cipher", fact(s, "tls.cipher") ? fact(s, "tls.cipher") : "" },
			{ "bytes_from_outside", bin }, { "bytes_from_inside", bout },
			{ "duration_ms", dur }, { "reason", s->reason },
			/* Cut off here when no ESID was seen. */
			{ esid && from ? "esid" : NULL, esid }, { "esid_from", from },
			{ NULL, NULL }
		};
		sp_logkv(SP_LOG_INFO, "session", f, "session %s ended: %s%s%s", s->idtext, s->reason,
		    s->reason_text[0] ? ": " : "", s->reason_text);
	}
	post_audit(s, partner, o, in);
}

static void
maybe_done(struct session *s)
{
	if (s->state == S_ENDING && s->leg_done[0] && s->leg_done[1]) {
		audit(s);
		stats_session_ended(s->srv, s);
		destroy(s);
	}
}

static void
session_end(struct session *s, const char *reason, const char *fmt, ...)
{
	struct sp_close info;
	va_list ap;
	size_t i;

	if (s->state == S_ENDING || s->state == S_DEAD)
		return;
	s->state = S_ENDING;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(s->reason_text, sizeof(s->reason_text), fmt, ap);
	va_end(ap);
	disarm(s);
	memset(&info, 0, sizeof(info));
	info.reason = s->reason;
	info.text = s->reason_text;
	info.bytes_to_inside = s->leg[SP_LEG_INSIDE] ? s->leg[SP_LEG_INSIDE]->bytes_out : 0;
	info.bytes_to_outside = s->leg[SP_LEG_OUTSIDE] ? s->leg[SP_LEG_OUTSIDE]->bytes_out : 0;
	info.started_ms = s->started_ms;
	info.ended_ms = wall_ms();
	/* Modules may still send a last word (ESID) here: legs are up. */
	for (i = 0; i < s->srv->nchain; i++) {
		const struct chain_entry *ce = &s->srv->chain[i];
		if (s->ms[i].opened && ce->m->on_close != NULL)
			ce->m->on_close(ce->mctx, &s->ms[i], s->ms[i].sctx, &info);
		s->ms[i].opened = false;
	}
	for (i = 0; i < 2; i++) {
		if (s->leg[i] == NULL || s->leg_done[i]) {
			s->leg_done[i] = true;
			continue;
		}
		sp_conn_want_read(s->leg[i], false);
		sp_conn_shutdown(s->leg[i]);
	}
	if (s->state == S_ENDING)
		arm(s, T_LINGER, s->rt->linger_ms);
	maybe_done(s);
}

void
sessions_end_all(struct server *srv, const char *reason)
{
	struct session *s = srv->sessions, *next;

	for (; s != NULL; s = next) {
		next = s->next;
		session_end(s, reason, "the server is stopping");
	}
}

/* ---- verdicts ---- */

/* Apply a hook's verdict; returns true when the session goes on. */
static bool
verdict(struct session *s, size_t idx, const char *hook, enum sp_verdict v)
{
	const struct chain_entry *ce = &s->srv->chain[idx];

	switch (v) {
	case SP_CONTINUE:
	case SP_HOLD:
		return s->state != S_ENDING && s->state != S_DEAD;
	case SP_REJECT:
	case SP_ABORT:
		if (ce->mode == SP_MODE_DETECT) {
			sp_log(SP_LOG_WARN, ce->name, "session %s: detect mode: %s would have %s the session",
			    s->idtext, hook, v == SP_REJECT ? "rejected" : "aborted");
			return true;
		}
		session_end(s, v == SP_REJECT ? "rejected" : "aborted", "by module %s in %s",
		    ce->name, hook);
		return false;
	case SP_FAIL:
	default:
		session_end(s, "module_failure", "module %s failed in %s", ce->name, hook);
		return false;
	}
}

/* ---- data path ---- */

static size_t
dest_room(struct session *s, enum sp_dir dir)
{
	struct sp_conn *c = s->leg[dest_leg(dir)];

	if (c != NULL)
		return sp_conn_out_room(c);
	if (dir == SP_TO_INSIDE)
		return sp_buf_room(&s->early_inside);
	return 0;
}

static void
request_inside(struct session *s)
{
	if (s->inside_requested || s->state == S_ENDING || s->state == S_DEAD)
		return;
	s->inside_requested = true;
	verified(s);
	if (tunnel_request_inside(s->srv, s) != 0) {
		session_end(s, "no_client", "no tunnel client to reach the inside");
		return;
	}
	arm(s, T_INSIDE, s->rt->inside_connect_ms);
}

static int
write_leg(struct session *s, enum sp_leg leg, const void *p, size_t n)
{
	struct sp_conn *c = s->leg[leg];
	int r;

	if (s->state == S_DEAD || (leg == SP_LEG_INSIDE && s->leg_done[leg]) ||
	    (c != NULL && s->leg_done[leg]))
		return SP_ERR_CLOSED;
	if (c != NULL)
		r = sp_conn_write(c, p, n);
	else if (leg == SP_LEG_INSIDE)
		r = sp_buf_put(&s->early_inside, p, n);
	else
		r = SP_ERR_CLOSED;
	if (r == SP_ERR_LIMIT)
		session_end(s, "overflow", "a module sent more than the %s leg buffers",
		    leg == SP_LEG_INSIDE ? "inside" : "outside");
	if (r == SP_OK && leg == SP_LEG_INSIDE && c == NULL)
		request_inside(s);
	return r;
}

static void
chain_data(struct session *s, enum sp_dir dir, size_t from, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = from; i < s->srv->nchain; i++) {
		const struct chain_entry *ce = &s->srv->chain[i];
		enum sp_verdict v;

		if (ce->m->on_data == NULL)
			continue;
		v = ce->m->on_data(ce->mctx, &s->ms[i], s->ms[i].sctx, dir, p, n);
		if (v == SP_HOLD && s->state == S_RELAY) {
			s->ms[i].held[dir] = true;
			if (s->leg[src_leg(dir)] != NULL)
				sp_conn_want_read(s->leg[src_leg(dir)], false);
		}
		verdict(s, i, "on_data", v);
		return;
	}
	if (s->state == S_RELAY || s->state == S_TLS)
		(void)write_leg(s, dest_leg(dir), p, n);
}

static bool
held(struct session *s, enum sp_dir dir)
{
	size_t i;

	for (i = 0; i < s->srv->nchain; i++)
		if (s->ms[i].held[dir])
			return true;
	return false;
}

/* Turn reading of `leg` on or off as holds and the other leg's room allow. */
static void
update_reading(struct session *s, enum sp_leg leg)
{
	enum sp_dir dir = leg == SP_LEG_OUTSIDE ? SP_TO_INSIDE : SP_TO_OUTSIDE;
	bool on;

	if (s->leg[leg] == NULL || s->leg_done[leg])
		return;
	on = s->state == S_RELAY && !held(s, dir) &&
	    dest_room(s, dir) >= SESSION_OUT_MAX / 2;
	sp_conn_want_read(s->leg[leg], on);
}

static void
leg_readable(struct session *s, enum sp_leg leg)
{
	enum sp_dir dir = leg == SP_LEG_OUTSIDE ? SP_TO_INSIDE : SP_TO_OUTSIDE;
	uint8_t buf[SESSION_READ_CHUNK];
	size_t got, have;
	int r = SP_OK, rounds;

	/* Bounded per wake so one busy session cannot starve the others; the
	 * level-triggered fd (or the TLS pending defer) brings us back. */
	for (rounds = 0; rounds < 8 && s->state == S_RELAY; rounds++) {
		if (held(s, dir) || dest_room(s, dir) < SESSION_OUT_MAX / 2) {
			update_reading(s, leg);
			return;
		}
		/* Fill the chunk from as many TLS records as are there: one
		 * pass down the chain and one record out instead of several. */
		for (have = 0; have < sizeof(buf); have += got) {
			r = sp_conn_read(s->leg[leg], buf + have, sizeof(buf) - have, &got);
			if (r != SP_OK)
				break;
		}
		if (have > 0) {
			s->last_active = sp_loop_now(s->srv->loop);
			chain_data(s, dir, 0, buf, have);
			if (s->state != S_RELAY)
				return;
		}
		if (r == SP_OK)
			continue;
		if (r == SP_ERR_AGAIN)
			return;
		if (r == SP_ERR_CLOSED) {
			/* Not closed here: session_end says goodbye on this leg too
			 * (a TLS peer expects our close_notify back). */
			session_end(s, leg == SP_LEG_OUTSIDE ? "outside_closed" : "inside_closed",
			    "%s closed the connection%s",
			    leg == SP_LEG_OUTSIDE ? "partner" : "inside",
			    s->leg[leg]->unclean_eof ? " without TLS close_notify" : "");
			return;
		}
		s->leg_done[leg] = true;
		session_end(s, "io_error", "%s leg: %s",
		    leg == SP_LEG_OUTSIDE ? "outside" : "inside", s->leg[leg]->errtext);
		sp_conn_close(s->leg[leg]);
		return;
	}
}

/* ---- connected: facts, on_tls, relay ---- */

static void
start_relay(struct session *s)
{
	s->state = S_RELAY;
	if (s->outgoing && sp_buf_len(&s->from_inside) > 0) {
		struct sp_buf b = s->from_inside;

		sp_buf_init(&s->from_inside, 0);
		chain_data(s, SP_TO_OUTSIDE, 0, sp_buf_ptr(&b), sp_buf_len(&b));
		sp_buf_free(&b);
		if (s->state != S_RELAY)
			return;
	}
	if (!s->gated && !s->outgoing)
		request_inside(s);
	update_reading(s, SP_LEG_OUTSIDE);
	update_reading(s, SP_LEG_INSIDE);
}

static bool
pinned(const struct rt_route *rr, const char *sha)
{
	bool ok = false;
	size_t i;

	for (i = 0; i < rr->npins; i++)
		ok |= sp_key_id_equal(rr->pins[i], sha);
	return ok;
}

/* The partner's leaf certificate (DER), or NULL. */
static const gnutls_datum_t *
peer_leaf(struct session *s)
{
	unsigned int n = 0;
	const gnutls_datum_t *c = gnutls_certificate_get_peers(s->leg[SP_LEG_OUTSIDE]->tls, &n);

	return c != NULL && n > 0 ? &c[0] : NULL;
}

/* Outgoing: the partner's server certificate is revoked. Its own security
 * line (not partner_untrusted: the partner is known) and the TLS alert. */
static void
partner_revoked(struct session *s)
{
	const gnutls_datum_t *leaf = peer_leaf(s);
	char serial[130] = "?", issuer[SP_CRL_ISSUER_MAX] = "?";

	if (leaf != NULL)
		sp_crl_cert_names(leaf->data, leaf->size, serial, sizeof(serial), issuer,
		    sizeof(issuer));
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "certificate_revoked" },
	    { "dst", s->peer }, { "route", s->via }, { "session", s->idtext }),
	    "certificate_revoked from %s: outgoing session %s on route %s: server "
	    "certificate serial=%s issuer=\"%s\" is revoked by the route's CRL", s->peer,
	    s->idtext, s->via, serial, issuer);
	s->leg[SP_LEG_OUTSIDE]->close_alert = GNUTLS_A_CERTIFICATE_REVOKED;
}

/* Outgoing: the CRL that covers the partner's certificate is current, or the
 * route's policy is fail_open (then a warning). */
static bool
crl_current(struct session *s, char *why, size_t n)
{
	const struct rt_route *rr = &s->rt->routes[s->ridx];
	const gnutls_datum_t *leaf = peer_leaf(s);
	const struct sp_crl_info *ci;
	char when[21];

	if (leaf == NULL || (ci = sp_crl_for_cert(&rr->crl, leaf->data, leaf->size)) == NULL ||
	    !sp_crl_expired(ci, time(NULL)))
		return true;
	sp_crl_time(ci->next_update, when);
	if (rr->crl_fail_open) {
		sp_log(SP_LOG_WARN, "session", "session %s: route %s: the CRL of %s is past its "
		    "nextUpdate %s; crl_expired fail_open: partner certificate accepted without "
		    "a current CRL", s->idtext, s->via, ci->issuer, when);
		return true;
	}
	/* why is bounded by the caller; a long issuer name is cut. */
	snprintf(why, n, "the CRL of %.160s is past its nextUpdate %s; crl_expired "
	    "fail_closed", ci->issuer, when);
	return false;
}

/* Outgoing: is the partner's certificate the one the route trusts? Every
 * configured check must pass: the CA chain and, if pins are set, a pin. */
static bool
partner_trusted(struct session *s, const char *sha, char *why, size_t n)
{
	const struct rt_route *rr = &s->rt->routes[s->ridx];
	unsigned int status = 0;
	int vr;

	if (rr->has_ca) {
		vr = gnutls_certificate_verify_peers2(s->leg[SP_LEG_OUTSIDE]->tls, &status);
		if (vr == 0 && (status & GNUTLS_CERT_REVOKED)) {
			partner_revoked(s);
			snprintf(why, n, "certificate revoked by the route's CRL");
			return false;
		}
		if (vr == 0 && status == 0 && !crl_current(s, why, n))
			return false;
		if (vr != 0 || status != 0) {
			gnutls_datum_t out = { NULL, 0 };

			if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
				snprintf(why, n, "%s", (const char *)out.data);
				gnutls_free(out.data);
			} else {
				snprintf(why, n, "certificate chain not verified");
			}
			return false;
		}
	}
	if (rr->npins > 0 && (sha[0] == '\0' || !pinned(rr, sha))) {
		snprintf(why, n, "certificate %s matches no pin", sha[0] ? sha : "(none)");
		return false;
	}
	return true;
}

/* The outside leg is up (TLS done, or TCP for a plain leg). */
static void
established(struct session *s)
{
	struct sp_conn *o = s->leg[SP_LEG_OUTSIDE];
	const gnutls_datum_t *certs;
	unsigned int ncerts = 0;
	struct sp_tls tls;
	char sha[SP_KEY_ID_HEX] = "", why[256], subject[512];
	size_t i;

	disarm(s);
	memset(&tls, 0, sizeof(tls));
	if (o->tls != NULL) {
		tls.version = sp_tls_version(o->tls);
		tls.cipher = sp_tls_cipher(o->tls);
		certs = gnutls_certificate_get_peers(o->tls, &ncerts);
		if (certs != NULL && ncerts > 0) {
			tls.peer_cert_der = certs[0].data;
			tls.peer_cert_len = certs[0].size;
			if (sp_cert_sha256_der(certs[0].data, certs[0].size, sha) == 0)
				tls.peer_cert_sha256 = sha;
			if (sp_cert_subject_der(certs[0].data, certs[0].size, subject, sizeof(subject)) == 0) {
				tls.peer_subject = subject;
				fact_set(s, "tls.peer_subject", subject);
			}
		}
		fact_set(s, "tls.version", tls.version);
		fact_set(s, "tls.cipher", tls.cipher);
		if (tls.peer_cert_sha256 != NULL)
			fact_set(s, "tls.peer_cert_sha256", sha);
		sp_log(SP_LOG_INFO, "session", "session %s: TLS %s %s with %s", s->idtext, tls.version,
		    tls.cipher, s->peer);
		if (s->outgoing && !partner_trusted(s, sha, why, sizeof(why))) {
			/* A revoked certificate had its own line already. */
			if (o->close_alert == GNUTLS_A_CERTIFICATE_REVOKED) {
				session_end(s, "certificate_revoked", "%s", why);
				return;
			}
			sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "partner_untrusted" },
			    { "dst", s->peer }, { "route", s->via }, { "session", s->idtext }),
			    "outgoing session %s on route %s: partner %s not trusted: %s", s->idtext,
			    s->via, s->peer, why);
			session_end(s, "partner_untrusted", "%s", why);
			return;
		}
	} else {
		/* A plain leg: modules still get their on_tls, with no TLS facts. */
		tls.version = "none";
		tls.cipher = "none";
	}
	s->state = S_RELAY;
	for (i = 0; i < s->srv->nchain; i++) {
		const struct chain_entry *ce = &s->srv->chain[i];
		if (ce->m->on_tls == NULL)
			continue;
		if (!verdict(s, i, "on_tls", ce->m->on_tls(ce->mctx, &s->ms[i], s->ms[i].sctx, &tls)))
			return;
	}
	start_relay(s);
}

static void
session_timer(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct session *s = arg;
	enum session_timer what = s->timer_what;

	s->timer_what = T_NONE;
	switch (what) {
	case T_HANDSHAKE:
		if (s->outgoing) {
			sp_log(SP_LOG_WARN, "session", "outgoing session %s on route %s: partner %s did not answer in %u ms",
			    s->idtext, s->via, s->peer, s->rt->handshake_ms);
			s->leg_done[SP_LEG_OUTSIDE] = true;
			sp_conn_close(s->leg[SP_LEG_OUTSIDE]);
			session_end(s, "partner_timeout", "partner did not answer in time");
			break;
		}
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "tls_handshake_failed" },
		    { "src", s->peer }, { "session", s->idtext }),
		    "TLS error timeout during connect try from %s: handshake not completed in %u ms",
		    s->peer, s->rt->handshake_ms);
		s->leg_done[SP_LEG_OUTSIDE] = true;
		sp_conn_close(s->leg[SP_LEG_OUTSIDE]);
		session_end(s, "handshake_timeout", "TLS handshake not completed");
		break;
	case T_INSIDE:
		session_end(s, "inside_timeout", "no data connection from the client in %u ms",
		    s->rt->inside_connect_ms);
		break;
	case T_LINGER:
		s->leg_done[0] = s->leg_done[1] = true;
		maybe_done(s);
		break;
	case T_NONE:
		break;
	}
}

static void
leg_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg)
{
	struct session *s = arg;
	enum sp_leg leg = c == s->leg[SP_LEG_OUTSIDE] ? SP_LEG_OUTSIDE : SP_LEG_INSIDE;

	switch (ev) {
	case SP_CONN_READY:
		if (leg == SP_LEG_OUTSIDE && s->state == S_TLS)
			established(s);
		break;
	case SP_CONN_READABLE:
		leg_readable(s, leg);
		break;
	case SP_CONN_DRAINED:
		/* Room on this leg: the other leg may read again. */
		update_reading(s, leg == SP_LEG_OUTSIDE ? SP_LEG_INSIDE : SP_LEG_OUTSIDE);
		break;
	case SP_CONN_FINISHED:
		s->leg_done[leg] = true;
		sp_conn_close(c);
		maybe_done(s);
		break;
	case SP_CONN_ERROR:
		s->leg_done[leg] = true;
		if (s->state == S_TLS && leg == SP_LEG_OUTSIDE && s->outgoing) {
			sp_log(SP_LOG_WARN, "session", "outgoing session %s on route %s: cannot reach partner %s: %s",
			    s->idtext, s->via, s->peer, c->errtext);
			sp_conn_close(c);
			session_end(s, c->tls != NULL && strncmp(c->errtext, "handshake", 9) == 0 ?
			    "tls_failed" : "partner_unreachable", "%s", c->errtext);
			break;
		}
		if (s->state == S_TLS && leg == SP_LEG_OUTSIDE) {
			/* The line existing OFTP2 fail2ban filters already match. */
			sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "tls_handshake_failed" },
			    { "src", s->peer }, { "session", s->idtext }),
			    "TLS error %d during connect try from %s: %s", c->err, s->peer, c->errtext);
			sp_conn_close(c);
			session_end(s, "tls_failed", "%s", c->errtext);
			break;
		}
		sp_conn_close(c);
		session_end(s, "io_error", "%s leg: %s", leg == SP_LEG_OUTSIDE ? "outside" : "inside",
		    c->errtext);
		maybe_done(s);
		break;
	}
}

/* ---- entry points from listener and tunnel ---- */

/* A keyless handshake step outliving its session keeps the revision (and so
 * its credentials) alive until it returns. */
static void *
hold_rt(void *arg)
{
	return rtconf_ref(arg);
}

static void
release_rt(void *arg)
{
	rtconf_unref(arg);
}

struct session *
session_find(struct server *srv, uint64_t id)
{
	return sp_hmap_get(&srv->session_ids, &id, sizeof(id));
}

/* A new session under revision rt, in the server's list. NULL if out of memory. */
/*
 * The core's own idle and whole-session limits: a backstop for any chain (a
 * protocol module may end the session earlier, with its own words), checked
 * lazily: the timer fires at the earliest deadline and looks at the clock.
 */
#define BACKSTOP_SLACK_MS 1000

static void
limit_check(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct session *s = arg;
	uint64_t now = sp_loop_now(loop);
	uint64_t idle_at = s->last_active + s->rt->idle_ms + BACKSTOP_SLACK_MS;
	uint64_t max_at = s->started_mono + s->rt->session_max_ms + BACKSTOP_SLACK_MS;

	if (s->state == S_ENDING || s->state == S_DEAD)
		return;
	if (now >= max_at) {
		session_end(s, "session_max", "session longer than %llu ms", s->rt->session_max_ms);
		return;
	}
	if (now >= idle_at) {
		session_end(s, "idle_timeout", "no byte in either direction for %u ms", s->rt->idle_ms);
		return;
	}
	sp_timer_start(loop, t, (idle_at < max_at ? idle_at : max_at) - now);
}

static struct session *
session_new(struct server *srv, struct rtconf *rt)
{
	struct session *s;
	char num[24];
	size_t i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->ms = calloc(srv->nchain ? srv->nchain : 1, sizeof(*s->ms))) == NULL) {
		free(s);
		return NULL;
	}
	s->srv = srv;
	s->id = ++srv->next_session;
	if (sp_hmap_put(&srv->session_ids, &s->id, sizeof(s->id), s) != SP_OK) {
		free(s->ms);
		free(s);
		return NULL;
	}
	s->rt = rtconf_ref(rt);
	snprintf(s->idtext, sizeof(s->idtext), "%llu", (unsigned long long)s->id);
	s->started_ms = wall_ms();
	s->state = S_TLS;
	sp_buf_init(&s->early_inside, SESSION_OUT_MAX);
	sp_buf_init(&s->from_inside, SESSION_OUT_MAX);
	sp_timer_init(&s->timer, session_timer, s);
	sp_defer_init(&s->reap, reap, s);
	s->next = srv->sessions;
	if (s->next != NULL)
		s->next->prev = s;
	srv->sessions = s;
	srv->nsessions++;
	stats_session_started(srv);
	for (i = 0; i < srv->nchain; i++) {
		s->ms[i].s = s;
		s->ms[i].idx = i;
		if (srv->chain[i].m->flags & SP_MODULE_F_GATES_INSIDE)
			s->gated = true;
	}
	fact_set(s, "session.id", s->idtext);
	/* The revision's limits, for modules that enforce them themselves
	 * (the OFTP2 module ends with ESID 09 before the core's backstop). */
	snprintf(num, sizeof(num), "%u", rt->ssid_ms);
	fact_set(s, "limits.ssid_timeout_ms", num);
	snprintf(num, sizeof(num), "%u", rt->idle_ms);
	fact_set(s, "limits.idle_timeout_ms", num);
	snprintf(num, sizeof(num), "%llu", rt->session_max_ms);
	fact_set(s, "limits.session_max_ms", num);
	s->last_active = s->started_mono = sp_loop_now(srv->loop);
	sp_timer_init(&s->limit_timer, limit_check, s);
	sp_timer_start(srv->loop, &s->limit_timer, BACKSTOP_SLACK_MS + (rt->idle_ms < rt->session_max_ms ?
	    rt->idle_ms : rt->session_max_ms));
	return s;
}

/* Contexts and on_open for every module; false when the session ended. */
static bool
open_modules(struct session *s, const struct sp_peer *info)
{
	size_t i;

	for (i = 0; i < s->srv->nchain; i++) {
		const struct chain_entry *ce = &s->srv->chain[i];

		if (ce->m->session_ctx_size > 0 &&
		    (s->ms[i].sctx = calloc(1, ce->m->session_ctx_size)) == NULL) {
			session_end(s, "internal", "out of memory");
			return false;
		}
	}
	for (i = 0; i < s->srv->nchain; i++) {
		const struct chain_entry *ce = &s->srv->chain[i];
		enum sp_verdict v = SP_CONTINUE;

		if (ce->m->on_open != NULL)
			v = ce->m->on_open(ce->mctx, &s->ms[i], s->ms[i].sctx, info);
		s->ms[i].opened = true;
		if (!verdict(s, i, "on_open", v))
			return false;
	}
	return true;
}

void
session_accept_from(struct server *srv, struct rtconf *rt, size_t lidx, int fd,
    const struct sp_addr *peer, const char *balancer)
{
	const struct rt_listener *l = &rt->listeners[lidx];
	struct session *s;
	struct sp_addr local;
	struct sp_peer info;
	gnutls_session_t tls;

	/*
	 * Admission (admit.c) with the partner's address: behind a balancer
	 * this is the one the PROXY header carried, so per-address limits
	 * count partners, not the balancer (proxywait.c calls this once the
	 * header is read).
	 */
	{
		char a[SP_ADDR_TEXT];

		sp_addr_host(peer, a, sizeof(a));
		if (admit_incoming(srv, rt, a) != 0) {
			close(fd);
			return;
		}
		if (admit_enter(srv, a) != 0) {
			close(fd);
			return;
		}
	}
	if ((s = session_new(srv, rt)) == NULL) {
		char a[SP_ADDR_TEXT];

		sp_addr_host(peer, a, sizeof(a));
		admit_verified(srv, a);
		admit_leave(srv, a);
		close(fd);
		return;
	}
	s->lidx = lidx;
	s->via = l->name;
	s->unverified = true;
	srv->nunverified++;
	sp_addr_host(peer, s->peer, sizeof(s->peer));
	s->addr_counted = true;
	s->peer_port = sp_addr_port(peer);
	if (sp_sock_local(fd, &local) == 0) {
		sp_addr_host(&local, s->local, sizeof(s->local));
		s->local_port = sp_addr_port(&local);
	}
	fact_set(s, "peer.addr", s->peer);
	fact_set(s, "listener", l->name);
	if (balancer != NULL)
		fact_set(s, "peer.balancer", balancer);
	if ((s->leg[SP_LEG_OUTSIDE] = calloc(1, sizeof(struct sp_conn))) == NULL ||
	    sp_conn_init(s->leg[SP_LEG_OUTSIDE], srv->loop, fd, false, SESSION_OUT_MAX, leg_cb, s) != 0) {
		close(fd);
		if (s->leg[SP_LEG_OUTSIDE] != NULL)
			s->leg[SP_LEG_OUTSIDE]->fd = -1;
		s->leg_done[SP_LEG_OUTSIDE] = s->leg_done[SP_LEG_INSIDE] = true;
		s->state = S_ENDING;
		snprintf(s->reason, sizeof(s->reason), "internal");
		destroy(s);
		return;
	}
	sp_log(SP_LOG_INFO, "session", "session %s: connection from %s:%u on %s%s%s", s->idtext,
	    s->peer, s->peer_port, l->name, balancer != NULL ? " through balancer " : "",
	    balancer != NULL ? balancer : "");

	/* on_open: before a single TLS byte is processed. */
	memset(&info, 0, sizeof(info));
	info.addr = s->peer;
	info.port = s->peer_port;
	info.local_addr = s->local;
	info.local_port = s->local_port;
	info.route = l->name;
	if (!open_modules(s, &info))
		return;
	if (l->plain) {
		established(s);
		return;
	}
	if (sp_tls_new_server(l->tls.creds,
	    l->require_client_cert ? GNUTLS_CERT_REQUIRE :
	    l->request_client_cert ? GNUTLS_CERT_REQUEST : GNUTLS_CERT_IGNORE, &tls) != 0) {
		session_end(s, "internal", "cannot create a TLS session");
		return;
	}
	if (l->keyless) {
		if (keyless_workers(srv) == NULL) {
			gnutls_deinit(tls);
			session_end(s, "internal", "no handshake threads for a keyless listener");
			return;
		}
		/* The step that signs waits for the client: on a handshake thread. */
		sp_conn_offload_handshake(s->leg[SP_LEG_OUTSIDE], keyless_workers(srv),
		    hold_rt, release_rt, rt);
	}
	sp_conn_start_tls(s->leg[SP_LEG_OUTSIDE], tls);
	arm(s, T_HANDSHAKE, rt->handshake_ms);
}

void
session_accept(struct plistener *pl, int fd, const struct sp_addr *peer)
{
	session_accept_from(pl->srv, pl->rt, pl->idx, fd, peer, NULL);
}

void
session_outgoing(struct server *srv, struct rtconf *rt, size_t ri, struct sp_conn *c,
    struct sp_buf *early)
{
	const struct rt_route *rr = &rt->routes[ri];
	const struct sp_addr *from = rr->source.len > 0 ? &rr->source :
	    rt->default_source.len > 0 ? &rt->default_source : NULL;
	struct session *s;
	struct sp_peer info;
	struct sp_addr local;
	gnutls_session_t tls;
	char src[SP_ADDR_TEXT] = "";
	bool inprog;
	int fd;

	if (srv->draining) {
		sp_log(SP_LOG_NOTICE, "session", "outgoing call on route %s refused: the server is stopping",
		    rr->name);
		sp_conn_close(c);
		free(c);
		return;
	}
	if (srv->nsessions >= rt->max_sessions || (s = session_new(srv, rt)) == NULL) {
		sp_log(SP_LOG_WARN, "session", "outgoing call on route %s refused: %u sessions is the limit",
		    rr->name, rt->max_sessions);
		sp_conn_close(c);
		free(c);
		return;
	}
	s->outgoing = true;
	s->ridx = ri;
	s->via = rr->name;
	s->leg[SP_LEG_INSIDE] = c;
	c->cb = leg_cb;
	c->arg = s;
	sp_conn_set_out_max(c, SESSION_OUT_MAX);
	sp_conn_want_read(c, false);
	sp_addr_host(&rr->partner, s->peer, sizeof(s->peer));
	s->peer_port = sp_addr_port(&rr->partner);
	if (from != NULL)
		sp_addr_host(from, src, sizeof(src));
	fact_set(s, "peer.addr", s->peer);
	fact_set(s, "route", rr->name);
	fact_set(s, "route.partner", rr->partner_id);
	if (early != NULL && sp_buf_len(early) > 0)
		(void)sp_buf_put(&s->from_inside, sp_buf_ptr(early), sp_buf_len(early));
	sp_log(SP_LOG_INFO, "session", "session %s: outgoing on route %s to %s%s%s", s->idtext, rr->name,
	    rr->partner_text, src[0] ? " from " : "", src);

	memset(&info, 0, sizeof(info));
	info.addr = s->peer;
	info.port = s->peer_port;
	info.local_addr = src;
	info.outgoing = 1;
	info.route = rr->name;
	if (!open_modules(s, &info))
		return;
	if (sp_connect(&rr->partner, from, &fd, &inprog) != 0) {
		char why[160];

		snprintf(why, sizeof(why), "%s %s: %s", from != NULL ? "from" : "to",
		    from != NULL ? src : rr->partner_text, strerror(errno));
		sp_log(SP_LOG_WARN, "session", "outgoing session %s on route %s: cannot connect to %s: %s",
		    s->idtext, rr->name, rr->partner_text, why);
		s->leg_done[SP_LEG_OUTSIDE] = true;
		session_end(s, "partner_unreachable", "%s", why);
		return;
	}
	if ((s->leg[SP_LEG_OUTSIDE] = calloc(1, sizeof(struct sp_conn))) == NULL ||
	    sp_conn_init(s->leg[SP_LEG_OUTSIDE], srv->loop, fd, inprog, SESSION_OUT_MAX, leg_cb, s) != 0) {
		close(fd);
		if (s->leg[SP_LEG_OUTSIDE] != NULL)
			s->leg[SP_LEG_OUTSIDE]->fd = -1;
		s->leg_done[SP_LEG_OUTSIDE] = true;
		session_end(s, "internal", "cannot set up the partner connection");
		return;
	}
	if (sp_sock_local(fd, &local) == 0) {
		sp_addr_host(&local, s->local, sizeof(s->local));
		s->local_port = sp_addr_port(&local);
	}
	if (!rr->plain) {
		if (sp_tls_new_client(rr->creds, NULL, &tls) != 0) {
			session_end(s, "internal", "cannot create a TLS session");
			return;
		}
		sp_conn_start_tls(s->leg[SP_LEG_OUTSIDE], tls);
	}
	if (!inprog && rr->plain) {
		established(s);
		return;
	}
	arm(s, T_HANDSHAKE, rt->handshake_ms);
}

void
session_attach_inside(struct session *s, struct sp_conn *c, struct sp_buf *early)
{
	struct sp_conn *in = s->leg[SP_LEG_INSIDE];

	if (in != NULL || s->state != S_RELAY) {
		sp_conn_close(c);
		free(c);
		return;
	}
	s->leg[SP_LEG_INSIDE] = c;
	c->cb = leg_cb;
	c->arg = s;
	/* A tunnel connection is born with room for control messages; as a
	 * leg it gets the session's bound, which backpressure relies on. */
	sp_conn_set_out_max(c, SESSION_OUT_MAX);
	if (s->timer_what == T_INSIDE)
		disarm(s);
	sp_log(SP_LOG_DEBUG, "session", "session %s: inside leg attached", s->idtext);
	if (sp_buf_len(&s->early_inside) > 0) {
		if (sp_conn_write(c, sp_buf_ptr(&s->early_inside), sp_buf_len(&s->early_inside)) != 0) {
			session_end(s, "overflow", "inside leg buffer");
			return;
		}
	}
	sp_buf_free(&s->early_inside);
	/* Bytes the inside sent right behind the data hello. */
	if (early != NULL && sp_buf_len(early) > 0)
		chain_data(s, SP_TO_OUTSIDE, 0, sp_buf_ptr(early), sp_buf_len(early));
	if (s->state != S_RELAY)
		return;
	update_reading(s, SP_LEG_INSIDE);
	update_reading(s, SP_LEG_OUTSIDE);
}

void
session_inside_failed(struct session *s, const char *why)
{
	session_end(s, "inside_unreachable", "%s", why);
}

/* ---- the host function table ---- */

static void
h_log(struct sp_msess *ms, enum sp_level level, const char *fmt, ...)
{
	va_list ap;
	const char *cat = "module";

	va_start(ap, fmt);
	if (ms != NULL) {
		cat = ms->s->srv->chain[ms->idx].name;
		sp_log_emitv((int)level, cat, cat,
		    SP_LOG_KV({ "session", ms->s->idtext }, { "src", ms->s->peer }), fmt, ap);
	} else {
		sp_log_emitv((int)level, cat, cat, NULL, fmt, ap);
	}
	va_end(ap);
}

static void
h_security_from(const char *src, const char *event, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", event }, { "src", src ? src : "" }),
	    "%s from %s: %s", event, src ? src : "?", detail);
}

static void
h_security(struct sp_msess *ms, const char *event, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	const char *partner;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (ms == NULL) {
		h_security_from(NULL, event, "%s", detail);
		return;
	}
	partner = fact(ms->s, "partner");
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", event }, { "src", ms->s->peer },
	    { "partner", partner ? partner : "" }, { "session", ms->s->idtext },
	    { "module", ms->s->srv->chain[ms->idx].name }),
	    "%s from %s: %s", event, ms->s->peer, detail);
}

static int
h_forward(struct sp_msess *ms, enum sp_dir dir, const void *p, size_t n)
{
	struct session *s = ms->s;

	if (s->state != S_RELAY)
		return SP_ERR_CLOSED;
	chain_data(s, dir, ms->idx + 1, p, n);
	return s->state == S_RELAY ? SP_OK : SP_ERR_CLOSED;
}

static int
h_send(struct sp_msess *ms, enum sp_leg leg, const void *p, size_t n)
{
	return write_leg(ms->s, leg, p, n);
}

static enum sp_verdict
deliver_from(struct session *s, size_t start, const struct sp_message *msg, uint64_t cookie,
    size_t origin)
{
	size_t j;

	for (j = start; j < s->srv->nchain; j++) {
		const struct chain_entry *ce = &s->srv->chain[j];
		enum sp_verdict v;

		if (ce->m->on_message == NULL)
			continue;
		v = ce->m->on_message(ce->mctx, &s->ms[j], s->ms[j].sctx, msg);
		if (s->state == S_ENDING || s->state == S_DEAD)
			return SP_ABORT;
		if ((v == SP_REJECT || v == SP_ABORT) && ce->mode == SP_MODE_DETECT) {
			sp_log(SP_LOG_WARN, ce->name, "session %s: detect mode: would have refused a message",
			    s->idtext);
			continue;
		}
		if (v == SP_HOLD) {
			s->delivery.active = true;
			s->delivery.origin = origin;
			s->delivery.holder = j;
			s->delivery.msg = msg;
			s->delivery.cookie = cookie;
			return SP_HOLD;
		}
		if (v != SP_CONTINUE)
			return v;
	}
	return SP_CONTINUE;
}

static enum sp_verdict
h_deliver(struct sp_msess *ms, const struct sp_message *msg, uint64_t cookie)
{
	struct session *s = ms->s;

	if (s->delivery.active)
		return SP_FAIL;
	return deliver_from(s, ms->idx + 1, msg, cookie, ms->idx);
}

static void
h_resume(struct sp_msess *ms, enum sp_verdict v)
{
	struct session *s = ms->s;
	int d;

	if (s->state != S_RELAY)
		return;
	if (s->delivery.active && s->delivery.holder == ms->idx) {
		size_t origin = s->delivery.origin;
		const struct chain_entry *oe = &s->srv->chain[origin];
		uint64_t cookie = s->delivery.cookie;

		s->delivery.active = false;
		if (v == SP_CONTINUE)
			v = deliver_from(s, ms->idx + 1, s->delivery.msg, cookie, origin);
		if (v == SP_HOLD || s->state != S_RELAY)
			return;
		if (oe->m->on_delivered != NULL)
			oe->m->on_delivered(oe->mctx, &s->ms[origin], s->ms[origin].sctx, cookie, v);
		return;
	}
	for (d = 0; d < 2; d++) {
		if (!ms->held[d])
			continue;
		ms->held[d] = false;
		if (!verdict(s, ms->idx, "resume", v))
			return;
		update_reading(s, src_leg((enum sp_dir)d));
	}
}

static void
h_end(struct sp_msess *ms, const char *reason, const char *text)
{
	session_end(ms->s, reason ? reason : "module", "%s", text ? text : "");
}

static void
mtimer_fire(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct mtimer *mt = arg;
	struct sp_msess *ms = mt->ms;
	struct session *s = ms->s;
	const struct chain_entry *ce = &s->srv->chain[ms->idx];

	if (s->state != S_RELAY && s->state != S_TLS)
		return;
	if (ce->m->on_timer != NULL)
		verdict(s, ms->idx, "on_timer", ce->m->on_timer(ce->mctx, ms, ms->sctx, mt->id));
}

static int
h_timer_set(struct sp_msess *ms, unsigned id, uint64_t delay_ms)
{
	struct mtimer *t;
	unsigned n = 0;

	for (t = ms->timers; t != NULL; t = t->next, n++)
		if (t->id == id)
			return sp_timer_start(ms->s->srv->loop, &t->t, delay_ms);
	if (n >= MTIMERS_MAX)
		return SP_ERR_LIMIT;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SP_ERR_NOMEM;
	t->id = id;
	t->ms = ms;
	sp_timer_init(&t->t, mtimer_fire, t);
	t->next = ms->timers;
	ms->timers = t;
	return sp_timer_start(ms->s->srv->loop, &t->t, delay_ms);
}

static void
h_timer_cancel(struct sp_msess *ms, unsigned id)
{
	struct mtimer *t;

	for (t = ms->timers; t != NULL; t = t->next)
		if (t->id == id)
			sp_timer_stop(ms->s->srv->loop, &t->t);
}

static const char *
h_fact_get(struct sp_msess *ms, const char *key)
{
	return fact(ms->s, key);
}

static int
h_fact_set(struct sp_msess *ms, const char *key, const char *value)
{
	return fact_set(ms->s, key, value);
}

static void *
h_config(struct sp_msess *ms)
{
	return ms->s->rt->modcfg ? ms->s->rt->modcfg[ms->idx] : NULL;
}

static void
h_event(struct sp_msess *ms, enum sp_level sev, const char *type, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sp_log_emitv((int)sev, "event", type,
	    ms ? SP_LOG_KV({ "event", type }, { "session", ms->s->idtext }, { "src", ms->s->peer })
	       : SP_LOG_KV({ "event", type }), fmt, ap);
	va_end(ap);
}

struct async_job {
	struct server *srv;
	uint64_t sid;
	size_t idx;
	void (*work)(void *);
	void (*done)(struct sp_msess *, void *);
	void *arg;
};

static void
async_work(void *p)
{
	struct async_job *j = p;

	j->work(j->arg);
}

static void
async_done(void *p, bool cancelled)
{
	struct async_job *j = p;
	/* Look the session up again: it may have ended while the work ran. */
	struct session *s = cancelled ? NULL : session_find(j->srv, j->sid);
	struct sp_msess *ms = s != NULL && s->state == S_RELAY ? &s->ms[j->idx] : NULL;

	j->done(ms, j->arg);
	free(j);
}

static int
h_run_async(struct sp_msess *ms, void (*work)(void *), void (*done)(struct sp_msess *, void *),
    void *arg)
{
	struct async_job *j;
	int r;

	if (ms->s->srv->workers == NULL || (j = calloc(1, sizeof(*j))) == NULL)
		return SP_ERR_NOMEM;
	j->srv = ms->s->srv;
	j->sid = ms->s->id;
	j->idx = ms->idx;
	j->work = work;
	j->done = done;
	j->arg = arg;
	if ((r = sp_workers_submit(j->srv->workers, async_work, async_done, j)) != 0)
		free(j);
	return r;
}

static int
h_backend_post(struct sp_msess *ms, const char *path, const char *json)
{
	return bridge_post(ms != NULL ? ms->s->srv : server_self, path, json);
}

static int
h_backend_ask(struct sp_msess *ms, const char *path, const char *json, unsigned timeout_ms,
    void (*answer)(struct sp_msess *, void *, int, const char *), void *arg)
{
	if (ms == NULL)
		return SP_ERR_INVALID;
	return bridge_ask(ms->s->srv, ms->s, ms->idx, path, json, timeout_ms, answer, arg);
}

static void
h_tls_alert(struct sp_msess *ms, enum sp_leg leg, unsigned alert)
{
	struct sp_conn *c;

	if (ms == NULL || (leg != SP_LEG_OUTSIDE && leg != SP_LEG_INSIDE) || alert > 255)
		return;
	/* Only marked: the alert goes out when the session ends the leg. */
	if ((c = ms->s->leg[leg]) != NULL && c->tls != NULL)
		c->close_alert = alert;
}

const struct sp_host server_host = {
	.abi_major = SP_MODULE_ABI_MAJOR,
	.abi_minor = SP_MODULE_ABI_MINOR,
	.struct_size = sizeof(struct sp_host),
	.log = h_log,
	.security = h_security,
	.forward = h_forward,
	.send = h_send,
	.deliver = h_deliver,
	.resume = h_resume,
	.end = h_end,
	.timer_set = h_timer_set,
	.timer_cancel = h_timer_cancel,
	.fact_get = h_fact_get,
	.fact_set = h_fact_set,
	.config = h_config,
	.event = h_event,
	.run_async = h_run_async,
	.backend_post = h_backend_post,
	.backend_ask = h_backend_ask,
	.security_from = h_security_from,
	.tls_alert = h_tls_alert,
};
