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
 *
 * Threads: everything here runs on the session's loop (sloop.h); the
 * control plane's side of a session (admission, counts, the tunnel, the
 * backend) is in handoff.c on the main loop, and the two talk by message
 * only. A session knows itself by id on both sides.
 */
#include "server/session.h"
#include "server/sloop.h"
#include "server/stats.h"
#include "core/loop.h"
#include "core/err.h"
#include "core/log.h"
#include "core/relay.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void leg_cb(struct sp_conn *c, enum sp_conn_event ev, void *arg);
static void mtimers_free(struct session *s);
static const struct sp_chain_sink session_sink;
static void session_end(struct session *s, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const char *
session_fact(struct session *s, const char *key)
{
	return sp_chain_fact(&s->chain, key);
}

static const char *
fact(struct session *s, const char *key)
{
	return sp_chain_fact(&s->chain, key);
}

static int
fact_set(struct session *s, const char *key, const char *value)
{
	return sp_chain_fact_set(&s->chain, key, value);
}

/* ---- timers ---- */

static void
arm(struct session *s, enum session_timer what, unsigned ms)
{
	s->timer_what = what;
	sp_timer_start(s->loop, &s->timer, ms);
}

static void
disarm(struct session *s)
{
	s->timer_what = T_NONE;
	sp_timer_stop(s->loop, &s->timer);
}

/* ---- lifetime ---- */

static void
reap(struct sp_loop *loop, struct sp_defer *d, void *arg)
{
	struct session *s = arg;
	size_t i;

	(void)loop;
	(void)d;
	for (i = 0; i < 2; i++)
		free(s->leg[i]);
	sp_chain_free(&s->chain);
	sp_buf_free(&s->early_inside);
	sp_buf_free(&s->from_inside);
	free(s);
}

/*
 * Gone from its loop. `end` (NULL: nothing to report, the control plane
 * already knows) goes to the main loop with the session's counts, its audit
 * record and its reference to the revision.
 */
static void
destroy(struct session *s, struct xmsg *end)
{
	struct sloop *sl = s->sl;
	size_t i;

	if (s->state == S_DEAD)
		return;
	s->state = S_DEAD;
	disarm(s);
	sp_timer_stop(s->loop, &s->limit_timer);
	mtimers_free(s);
	for (i = 0; i < 2; i++)
		if (s->leg[i] != NULL)
			sp_conn_close(s->leg[i]);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		sl->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	sl->nsessions--;
	(void)sp_hmap_del(&sl->ids, &s->id, sizeof(s->id));
	if (end == NULL)
		end = xmsg_new(s->srv, handoff_msg_ended);
	if (end != NULL) {
		end->sid = s->id;
		end->rt = s->rt;        /* the reference goes to main */
		xmsg_to_main(s->srv, end);
	} else {
		rtconf_unref(s->rt);    /* atomic; its last free goes to main */
	}
	s->rt = NULL;
	sp_defer_queue(s->loop, &s->reap);
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
    const struct sp_conn *in, struct xmsg *end)
{
	const struct sp_chain_notes *nt = sp_chain_notes(&s->chain);
	json_object *doc = json_object_new_object(), *files = json_object_new_array(), *devs;
	char t[32], code[4];
	size_t i;

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
	iso_time(sp_wall_ms(), t, sizeof(t));
	json_object_object_add(doc, "ended", json_object_new_string(t));
	json_object_object_add(doc, "bytes_from_partner", json_object_new_int64(o ? (int64_t)o->bytes_in : 0));
	json_object_object_add(doc, "bytes_to_partner", json_object_new_int64(o ? (int64_t)o->bytes_out : 0));
	json_object_object_add(doc, "end_reason", json_object_new_string(s->reason));
	json_object_object_add(doc, "end_text", json_object_new_string(s->reason_text));
	/* The ESID that ended the session, when a protocol module saw one:
	 * its code and who sent it (partner, inside or the proxy itself). */
	if (nt->has_end) {
		snprintf(code, sizeof(code), "%02u", nt->end.code % 100);
		json_object_object_add(doc, "esid", json_object_new_string(code));
		json_object_object_add(doc, "esid_from",
		    json_object_new_string(sp_chain_end_by_name(nt->end.by)));
	}
	/* The files a protocol module noted (typed, host->note_file). */
	for (i = 0; i < nt->nfiles; i++)
		json_object_array_add(files, stats_file_json(&nt->files[i], false));
	json_object_object_add(doc, "files", files);
	/* The OFTP2 deviations admitted (rule tokens), for partners diagnose. */
	if (nt->ndeviations > 0) {
		devs = json_object_new_array();
		for (i = 0; i < nt->ndeviations; i++)
			json_object_array_add(devs, json_object_new_string(nt->deviations[i]));
		json_object_object_add(doc, "oftp2_deviations", devs);
	}
	(void)in;
	/* Posted by the main loop, which owns the bridge (handoff.c). */
	if (end != NULL)
		end->s2 = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
}

/* What the statistics count of an ended session (handoff.c reads it). */
static void
summarise(struct session *s, struct xmsg *end)
{
	const struct sp_chain_notes *nt = sp_chain_notes(&s->chain);
	const struct sp_conn *o = s->leg[SP_LEG_OUTSIDE];
	size_t i;

	end->s1 = strdup(s->reason);
	end->u[SUM_BYTES_FROM] = o != NULL ? o->bytes_in : 0;
	end->u[SUM_BYTES_TO] = o != NULL ? o->bytes_out : 0;
	/* A refusal is an ESID the proxy sent, not one a side sent. */
	end->u[SUM_ESID] = nt->has_end && nt->end.by == SP_END_BY_PROXY ?
	    nt->end.code % 100 + 1 : 0;
	for (i = 0; i < nt->nfiles; i++) {
		const struct sp_chain_file *f = &nt->files[i];
		bool from = f->dir == SP_FILE_FROM_PARTNER;

		/* Only a positive end-to-end answer makes a file done. */
		if (strcmp(f->result, "EFPA") == 0)
			end->u[from ? SUM_FILES_FROM : SUM_FILES_TO]++;
		else
			end->u[from ? SUM_FAILED_FROM : SUM_FAILED_TO]++;
	}
}

static void
audit(struct session *s, struct xmsg *end)
{
	const struct sp_conn *o = s->leg[SP_LEG_OUTSIDE], *in = s->leg[SP_LEG_INSIDE];
	char bin[24], bout[24], dur[24], esid[4];
	const char *partner = fact(s, "partner");

	snprintf(bin, sizeof(bin), "%llu", (unsigned long long)(o ? o->bytes_in : 0));
	snprintf(bout, sizeof(bout), "%llu", (unsigned long long)(in ? in->bytes_in : 0));
	snprintf(dur, sizeof(dur), "%lld", (long long)(sp_wall_ms() - s->started_ms));
	snprintf(esid, sizeof(esid), "%02u", sp_chain_notes(&s->chain)->end.code % 100);
	{
		const struct sp_chain_notes *nt = sp_chain_notes(&s->chain);
		const char *from = nt->has_end ? sp_chain_end_by_name(nt->end.by) : NULL;
		struct sp_log_field f[] = {
			{ "session", s->idtext }, { "src", s->peer },
			{ s->outgoing ? "route" : "listener", s->via },
			{ "partner", partner ? partner : "" },
			{ "tls", fact(s, "tls.version") ? fact(s, "tls.version") : "" },
			{ "cipher", fact(s, "tls.cipher") ? fact(s, "tls.cipher") : "" },
			{ "bytes_from_outside", bin }, { "bytes_from_inside", bout },
			{ "duration_ms", dur }, { "reason", s->reason },
			/* Cut off here when no ESID was seen. */
			{ nt->has_end ? "esid" : NULL, esid }, { "esid_from", from },
			{ NULL, NULL }
		};
		sp_logkv(SP_LOG_INFO, "session", f, "session %s ended: %s%s%s", s->idtext, s->reason,
		    s->reason_text[0] ? ": " : "", s->reason_text);
	}
	post_audit(s, partner, o, in, end);
}

static void
maybe_done(struct session *s)
{
	struct xmsg *end;

	if (s->state == S_ENDING && s->leg_done[0] && s->leg_done[1]) {
		if ((end = xmsg_new(s->srv, handoff_msg_ended)) != NULL)
			summarise(s, end);
		audit(s, end);
		destroy(s, end);
	}
}

/*
 * The chain has run every on_close (chain.c): say goodbye on both legs and
 * wait for them to finish, at most the linger time.
 */
static void
sink_end(void *arg, const char *reason, const char *text)
{
	struct session *s = arg;
	size_t i;

	if (s->state == S_ENDING || s->state == S_DEAD)
		return;
	s->state = S_ENDING;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	snprintf(s->reason_text, sizeof(s->reason_text), "%s", text);
	disarm(s);
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

/* End the session: at once, or when the chain's current call returns. */
static void
session_end(struct session *s, const char *reason, const char *fmt, ...)
{
	char text[sizeof(s->reason_text)];
	va_list ap;

	if (s->state == S_ENDING || s->state == S_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sp_chain_end(&s->chain, reason, text);
}

void
sessions_end_loop(struct sloop *sl, const char *reason, const char *text)
{
	struct session *s = sl->sessions, *next;

	for (; s != NULL; s = next) {
		next = s->next;
		session_end(s, reason, "%s", text);
	}
}

/* ---- data path ---- */

static size_t
dest_room(struct session *s, enum sp_dir dir)
{
	struct sp_conn *c = s->leg[sp_dest_leg(dir)];

	if (c != NULL)
		return sp_conn_out_room(c);
	if (dir == SP_TO_INSIDE)
		return sp_buf_room(&s->early_inside);
	return 0;
}

static void
request_inside(struct session *s)
{
	struct xmsg *x;

	if (s->inside_requested || s->state == S_ENDING || s->state == S_DEAD)
		return;
	s->inside_requested = true;
	/* The main loop counts it verified and asks the client for a data
	 * connection; without a client it answers with session_inside_failed. */
	if ((x = xmsg_new(s->srv, handoff_msg_request_inside)) == NULL ||
	    (!s->outgoing && (x->s1 = strdup(s->rt->listeners[s->lidx].name)) == NULL) ||
	    (x->s2 = strdup(s->peer)) == NULL) {
		xmsg_free(x);
		session_end(s, "internal", "out of memory");
		return;
	}
	x->sid = s->id;
	xmsg_to_main(s->srv, x);
	arm(s, T_INSIDE, s->rt->inside_connect_ms);
}

/* The sink's write (chain.h): a full buffer is the engine's to end on. */
static int
sink_write(void *arg, enum sp_leg leg, const void *p, size_t n)
{
	struct session *s = arg;
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
	if (r == SP_OK && leg == SP_LEG_INSIDE && c == NULL)
		request_inside(s);
	return r;
}

/* One direction of a session as a relay sink: what a leg reads enters the
 * module chain; it takes nothing while a module holds the direction. */
struct way {
	struct session *s;
	enum sp_dir dir;
};

static size_t
way_room(void *arg)
{
	struct way *w = arg;

	if (w->s->state != S_RELAY || sp_chain_held(&w->s->chain, w->dir))
		return 0;
	return dest_room(w->s, w->dir);
}

static bool
way_put(void *arg, const uint8_t *p, size_t n)
{
	struct way *w = arg;

	w->s->last_active = sp_loop_now(w->s->loop);
	sp_chain_data(&w->s->chain, w->dir, p, n);
	return w->s->state == S_RELAY;
}

/* Turn reading of `leg` on or off as holds and the other leg's room allow. */
static void
update_reading(struct session *s, enum sp_leg leg)
{
	struct way w = { s, sp_dir_from_leg(leg) };
	struct sp_relay_sink k = { way_room, way_put, &w, SESSION_OUT_MAX / 2 };

	if (s->leg[leg] == NULL || s->leg_done[leg])
		return;
	sp_relay_want_read(s->leg[leg], &k, true);
}

static void
leg_readable(struct session *s, enum sp_leg leg)
{
	struct way w = { s, sp_dir_from_leg(leg) };
	struct sp_relay_sink k = { way_room, way_put, &w, SESSION_OUT_MAX / 2 };

	switch (sp_relay_pump(s->leg[leg], &k)) {
	case SP_RELAY_FULL:
		update_reading(s, leg);
		break;
	case SP_RELAY_EOF:
		/* Not closed here: session_end says goodbye on this leg too
		 * (a TLS peer expects our close_notify back). */
		session_end(s, leg == SP_LEG_OUTSIDE ? "outside_closed" : "inside_closed",
		    "%s closed the connection%s",
		    leg == SP_LEG_OUTSIDE ? "partner" : "inside",
		    s->leg[leg]->unclean_eof ? " without TLS close_notify" : "");
		break;
	case SP_RELAY_FAILED:
		s->leg_done[leg] = true;
		session_end(s, "io_error", "%s leg: %s",
		    leg == SP_LEG_OUTSIDE ? "outside" : "inside", s->leg[leg]->errtext);
		sp_conn_close(s->leg[leg]);
		break;
	case SP_RELAY_YIELD:
	case SP_RELAY_EMPTY:
	case SP_RELAY_STOPPED:
		break;
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
		sp_chain_data(&s->chain, SP_TO_OUTSIDE, sp_buf_ptr(&b), sp_buf_len(&b));
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

	disarm(s);
	memset(&tls, 0, sizeof(tls));
	tls.size = sizeof(tls);
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
	if (!sp_chain_tls(&s->chain, &tls))
		return;
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
			session_end(s, c->err == SP_CONN_ERR_HANDSHAKE ?
			    "tls_failed" : "partner_unreachable", "%s", c->errtext);
			break;
		}
		if (s->state == S_TLS && leg == SP_LEG_OUTSIDE) {
			/* The line existing OFTP2 fail2ban filters already match. */
			sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "tls_handshake_failed" },
			    { "src", s->peer }, { "session", s->idtext }),
			    "TLS error %d during connect try from %s: %s", c->code, s->peer, c->errtext);
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

/* A session of this loop, by id, or NULL (it ended). */
static struct session *
session_find(struct sloop *sl, uint64_t id)
{
	return sp_hmap_get(&sl->ids, &id, sizeof(id));
}

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

/*
 * The session `x` announces (id and revision reference from main), on its
 * loop, in the loop's list. NULL if out of memory: the caller tells main.
 */
static struct session *
session_new(struct sloop *sl, struct xmsg *x)
{
	struct server *srv = sl->srv;
	struct rtconf *rt = x->rt;
	struct session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (sp_chain_init(&s->chain, srv->chain, srv->nchain, rt->modcfg,
	    &session_sink, s, s->idtext, s->peer) != 0) {
		free(s);
		return NULL;
	}
	s->srv = srv;
	s->sl = sl;
	s->loop = sl->loop;
	s->id = x->sid;
	if (sp_hmap_put(&sl->ids, &s->id, sizeof(s->id), s) != SP_OK) {
		sp_chain_free(&s->chain);
		free(s);
		return NULL;
	}
	s->rt = x->rt;       /* the message's reference is the session's now */
	x->rt = NULL;
	snprintf(s->idtext, sizeof(s->idtext), "%llu", (unsigned long long)s->id);
	s->started_ms = sp_wall_ms();
	s->state = S_TLS;
	sp_buf_init(&s->early_inside, SESSION_OUT_MAX);
	sp_buf_init(&s->from_inside, SESSION_OUT_MAX);
	sp_timer_init(&s->timer, session_timer, s);
	sp_defer_init(&s->reap, reap, s);
	s->next = sl->sessions;
	if (s->next != NULL)
		s->next->prev = s;
	sl->sessions = s;
	sl->nsessions++;
	s->gated = sp_chain_gated(&s->chain);
	fact_set(s, "session.id", s->idtext);
	/* The revision's limits, for modules that enforce them themselves
	 * (the OFTP2 module ends with ESID 09 before the core's backstop). */
	sp_chain_set_limits(&s->chain, rt->ssid_ms, rt->idle_ms, rt->session_max_ms);
	s->last_active = s->started_mono = sp_loop_now(s->loop);
	sp_timer_init(&s->limit_timer, limit_check, s);
	sp_timer_start(s->loop, &s->limit_timer, BACKSTOP_SLACK_MS + (rt->idle_ms < rt->session_max_ms ?
	    rt->idle_ms : rt->session_max_ms));
	return s;
}

/* A session that could not be made on its loop: main forgets it. */
static void
never_started(struct sloop *sl, struct xmsg *x, const char *why)
{
	sp_log(SP_LOG_WARN, "session", "session %llu not started: %s",
	    (unsigned long long)x->sid, why);
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	if (x->conn != NULL) {
		sp_conn_close(x->conn);
		free(x->conn);
		x->conn = NULL;
	}
	sp_buf_free(&x->buf);
	free(x->s1);
	x->s1 = strdup("internal");
	x->m.cb = handoff_msg_ended;
	xmsg_to_main(sl->srv, x);      /* with its revision reference */
}

/*
 * An incoming session (handoff.c admitted it on main): x carries its id,
 * the revision, the listener index, the accepted fd and the peer address
 * (the one a PROXY header carried when s1, the balancer, is set).
 */
void
session_msg_incoming(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;
	struct sloop *sl = x->sl;
	struct rtconf *rt = x->rt;
	size_t lidx = x->idx;
	const struct rt_listener *l = &rt->listeners[lidx];
	const char *balancer = x->s1;
	struct session *s;
	struct sp_addr local;
	struct sp_peer info;
	gnutls_session_t tls;
	int fd = x->fd;

	(void)loop;
	if (cancelled || (s = session_new(sl, x)) == NULL) {
		never_started(sl, x, cancelled ? "the server is stopping" : "out of memory");
		return;
	}
	x->fd = -1;
	s->lidx = lidx;
	s->via = l->name;
	sp_addr_host(&x->addr, s->peer, sizeof(s->peer));
	s->peer_port = sp_addr_port(&x->addr);
	if (sp_sock_local(fd, &local) == 0) {
		sp_addr_host(&local, s->local, sizeof(s->local));
		s->local_port = sp_addr_port(&local);
	}
	fact_set(s, "peer.addr", s->peer);
	fact_set(s, "listener", l->name);
	if (balancer != NULL)
		fact_set(s, "peer.balancer", balancer);
	if ((s->leg[SP_LEG_OUTSIDE] = calloc(1, sizeof(struct sp_conn))) == NULL)
		close(fd);   /* no connection to own it */
	if (s->leg[SP_LEG_OUTSIDE] == NULL ||
	    sp_conn_init(s->leg[SP_LEG_OUTSIDE], s->loop, fd, false, SESSION_OUT_MAX, leg_cb, s) != 0) {
		/* sp_conn_init closed fd: the leg is a closed connection. */
		s->leg_done[SP_LEG_OUTSIDE] = s->leg_done[SP_LEG_INSIDE] = true;
		s->state = S_ENDING;
		snprintf(s->reason, sizeof(s->reason), "internal");
		xmsg_free(x);
		destroy(s, NULL);
		return;
	}
	sp_log(SP_LOG_INFO, "session", "session %s: connection from %s:%u on %s%s%s", s->idtext,
	    s->peer, s->peer_port, l->name, balancer != NULL ? " through balancer " : "",
	    balancer != NULL ? balancer : "");
	xmsg_free(x);
	balancer = NULL;

	/* on_open: before a single TLS byte is processed. */
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.addr = s->peer;
	info.port = s->peer_port;
	info.local_addr = s->local;
	info.local_port = s->local_port;
	info.route = l->name;
	if (!sp_chain_open(&s->chain, &info))
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
		if (sl->hs == NULL) {
			gnutls_deinit(tls);
			session_end(s, "internal", "no handshake threads for a keyless listener");
			return;
		}
		/* The step that signs waits for the client: on a handshake thread. */
		sp_conn_offload_handshake(s->leg[SP_LEG_OUTSIDE], sl->hs,
		    hold_rt, release_rt, rt);
	}
	sp_conn_start_tls(s->leg[SP_LEG_OUTSIDE], tls);
	arm(s, T_HANDSHAKE, rt->handshake_ms);
}

/*
 * An outgoing call (handoff.c let it through on main): x carries its id,
 * the revision, the route index, the client's data connection (detached
 * from the main loop) and the bytes that came right behind its hello.
 */
void
session_msg_outgoing(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;
	struct sloop *sl = x->sl;
	struct rtconf *rt = x->rt;
	size_t ri = x->idx;
	struct sp_conn *c = x->conn;
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

	(void)loop;
	if (cancelled || (s = session_new(sl, x)) == NULL) {
		never_started(sl, x, cancelled ? "the server is stopping" : "out of memory");
		return;
	}
	x->conn = NULL;
	s->outgoing = true;
	s->ridx = ri;
	s->via = rr->name;
	s->leg[SP_LEG_INSIDE] = c;
	if (sp_conn_attach(c, s->loop, leg_cb, s) != 0) {
		s->leg_done[SP_LEG_INSIDE] = true;
		sp_conn_close(c);
		xmsg_free(x);
		session_end(s, "internal", "cannot take over the inside connection");
		return;
	}
	sp_conn_set_out_max(c, SESSION_OUT_MAX);
	sp_conn_want_read(c, false);
	sp_addr_host(&rr->partner, s->peer, sizeof(s->peer));
	s->peer_port = sp_addr_port(&rr->partner);
	if (from != NULL)
		sp_addr_host(from, src, sizeof(src));
	fact_set(s, "peer.addr", s->peer);
	fact_set(s, "route", rr->name);
	fact_set(s, "route.partner", rr->partner_id);
	if (sp_buf_len(&x->buf) > 0)
		(void)sp_buf_put(&s->from_inside, sp_buf_ptr(&x->buf), sp_buf_len(&x->buf));
	xmsg_free(x);
	sp_log(SP_LOG_INFO, "session", "session %s: outgoing on route %s to %s%s%s", s->idtext, rr->name,
	    rr->partner_text, src[0] ? " from " : "", src);

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.addr = s->peer;
	info.port = s->peer_port;
	info.local_addr = src;
	info.outgoing = 1;
	info.route = rr->name;
	if (!sp_chain_open(&s->chain, &info))
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
	if ((s->leg[SP_LEG_OUTSIDE] = calloc(1, sizeof(struct sp_conn))) == NULL)
		close(fd);   /* no connection to own it */
	if (s->leg[SP_LEG_OUTSIDE] == NULL ||
	    sp_conn_init(s->leg[SP_LEG_OUTSIDE], s->loop, fd, inprog, SESSION_OUT_MAX, leg_cb, s) != 0) {
		/* sp_conn_init closed fd: the leg is a closed connection. */
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

/*
 * The client's data connection for session x->sid (detached from the main
 * loop), with the bytes behind its hello: it becomes the inside leg, if the
 * session waits for one, i.e. asked for it (request_inside). One the
 * session did not ask for is refused: the modules that gate the inside have
 * not agreed yet, and main would keep counting the session unverified (its
 * request is what moves it out of the unverified limits) for its whole life.
 */
void
session_msg_attach(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;
	struct session *s = cancelled ? NULL : session_find(x->sl, x->sid);
	struct sp_conn *c = x->conn;
	struct sp_buf *early = &x->buf;
	bool waits = s != NULL && s->leg[SP_LEG_INSIDE] == NULL && s->state == S_RELAY;

	(void)loop;
	if (!waits || !s->inside_requested) {
		if (!cancelled)
			sp_log(waits ? SP_LOG_WARN : SP_LOG_INFO, "tunnel", "data connection for "
			    "session %llu, which %s: closed", (unsigned long long)x->sid,
			    waits ? "did not ask for one" : "no longer waits for one");
		xmsg_free(x);   /* closes c */
		return;
	}
	x->conn = NULL;
	if (sp_conn_attach(c, s->loop, leg_cb, s) != 0) {
		sp_conn_close(c);
		free(c);
		xmsg_free(x);
		session_end(s, "internal", "cannot take over the inside connection");
		return;
	}
	s->leg[SP_LEG_INSIDE] = c;
	/* A tunnel connection is born with room for control messages; as a
	 * leg it gets the session's bound, which backpressure relies on. */
	sp_conn_set_out_max(c, SESSION_OUT_MAX);
	if (s->timer_what == T_INSIDE)
		disarm(s);
	sp_log(SP_LOG_DEBUG, "session", "session %s: inside leg attached", s->idtext);
	if (sp_buf_len(&s->early_inside) > 0) {
		if (sp_conn_write(c, sp_buf_ptr(&s->early_inside), sp_buf_len(&s->early_inside)) != 0) {
			xmsg_free(x);
			session_end(s, "overflow", "inside leg buffer");
			return;
		}
	}
	sp_buf_free(&s->early_inside);
	/* Bytes the inside sent right behind the data hello. */
	if (sp_buf_len(early) > 0)
		sp_chain_data(&s->chain, SP_TO_OUTSIDE, sp_buf_ptr(early), sp_buf_len(early));
	xmsg_free(x);
	if (s->state != S_RELAY)
		return;
	update_reading(s, SP_LEG_INSIDE);
	update_reading(s, SP_LEG_OUTSIDE);
}

/* The client could not reach the inside for x->sid (reason s1, text s2),
 * or the main loop had no client to ask. */
void
session_msg_inside_failed(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;
	struct session *s = cancelled ? NULL : session_find(x->sl, x->sid);

	(void)loop;
	if (s != NULL)
		session_end(s, x->s1, "%s", x->s2 != NULL ? x->s2 : "");
	xmsg_free(x);
}

/* Every session of this loop ends (s1 reason, s2 text): drain, stop. */
void
session_msg_end_all(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;

	(void)loop;
	if (!cancelled)
		sessions_end_loop(x->sl, x->s1, x->s2);
	xmsg_free(x);
}

/* A live snapshot (handoff.c): this loop's sessions into x->arg (a JSON
 * array, at most x->n entries) and their bytes into u[0], u[1]; back to main. */
void
session_msg_live(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;
	struct session *s;
	size_t n = 0;

	(void)loop;
	for (s = cancelled ? NULL : x->sl->sessions; s != NULL; s = s->next) {
		const struct sp_conn *o = s->leg[SP_LEG_OUTSIDE];

		x->u[0] += o != NULL ? o->bytes_in : 0;
		x->u[1] += o != NULL ? o->bytes_out : 0;
		if (n++ < x->n)
			json_object_array_add(x->arg, stats_live_session(s));
	}
	x->u[2] = n;
	sp_msg_init(&x->m, handoff_msg_live_done);
	if (cancelled)
		handoff_msg_live_done(loop, &x->m, true);   /* on main already */
	else
		xmsg_to_main(x->srv, x);
}

/* ---- the chain's sink (chain.h) ---- */

static void
sink_reading(void *arg, enum sp_dir dir)
{
	update_reading(arg, sp_src_leg(dir));
}

static uint64_t
sink_bytes_out(void *arg, enum sp_leg leg)
{
	struct session *s = arg;

	return s->leg[leg] != NULL ? s->leg[leg]->bytes_out : 0;
}

static void
sink_tls_alert(void *arg, enum sp_leg leg, unsigned alert)
{
	struct session *s = arg;
	struct sp_conn *c;

	/* Only marked: the alert goes out when the session ends the leg. */
	if ((c = s->leg[leg]) != NULL && c->tls != NULL)
		c->close_alert = alert;
}

struct async_job {
	struct sloop *sl;
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
	struct session *s = cancelled ? NULL : session_find(j->sl, j->sid);

	if (s == NULL) {
		j->done(NULL, j->arg);
	} else {
		j->done(sp_chain_enter(&s->chain, j->idx), j->arg);
		sp_chain_leave(&s->chain);
	}
	free(j);
}

static int
sink_run_async(void *arg, size_t idx, void (*work)(void *), void (*done)(struct sp_msess *, void *),
    void *warg)
{
	struct session *s = arg;
	struct async_job *j;
	int r;

	if (s->sl->workers == NULL || (j = calloc(1, sizeof(*j))) == NULL)
		return SP_ERR_NOMEM;
	j->sl = s->sl;
	j->sid = s->id;
	j->idx = idx;
	j->work = work;
	j->done = done;
	j->arg = warg;
	if ((r = sp_workers_submit(j->sl->workers, async_work, async_done, j)) != 0)
		free(j);
	return r;
}

static int
sink_backend_ask(void *arg, size_t idx, const char *path, const char *json, unsigned timeout_ms,
    void (*answer)(struct sp_msess *, void *, int, const char *), void *aarg)
{
	struct session *s = arg;
	struct xmsg *x;

	/* Asked by the main loop, which owns the bridge; the answer comes back
	 * here by session id (session_msg_answer). */
	if (!bridge_path_valid(path))
		return SP_ERR_INVALID;
	if ((x = xmsg_new(s->srv, handoff_msg_ask)) == NULL || (x->s1 = strdup(path)) == NULL ||
	    (x->s2 = strdup(json)) == NULL) {
		xmsg_free(x);
		return SP_ERR_NOMEM;
	}
	x->sl = s->sl;
	x->sid = s->id;
	x->idx = idx;
	x->n = timeout_ms;
	x->answer = answer;
	x->arg = aarg;
	xmsg_to_main(s->srv, x);
	return SP_OK;
}

/* The backend's answer (status, body s1) to a module's question, or -1 when
 * none came. The session may have ended: the module is told (NULL). */
void
session_msg_answer(struct sp_loop *loop, struct sp_msg *m, bool cancelled)
{
	struct xmsg *x = (struct xmsg *)m;
	struct session *s = cancelled ? NULL : session_find(x->sl, x->sid);

	(void)loop;
	if (s == NULL) {
		x->answer(NULL, x->arg, cancelled ? -1 : x->status, cancelled ? NULL : x->s1);
	} else {
		/* Through the chain: what the module ends there ends after it. */
		x->answer(sp_chain_enter(&s->chain, x->idx), x->arg, x->status, x->s1);
		sp_chain_leave(&s->chain);
	}
	xmsg_free(x);
}

/* Module timers: one-shot, per module and id, on the session's loop. */
struct mtimer {
	struct sp_timer t;
	struct session *s;
	size_t idx;
	unsigned id;
	struct mtimer *next;
};

#define MTIMERS_MAX 8   /* per module and session */

static void
mtimer_fire(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct mtimer *mt = arg;

	(void)loop;
	(void)t;
	(void)sp_chain_timer(&mt->s->chain, mt->idx, mt->id);
}

static int
sink_timer_set(void *arg, size_t idx, unsigned id, uint64_t delay_ms)
{
	struct session *s = arg;
	struct mtimer *t;
	unsigned n = 0;

	for (t = s->mtimers; t != NULL; t = t->next) {
		if (t->idx != idx)
			continue;
		if (t->id == id)
			return sp_timer_start(s->loop, &t->t, delay_ms);
		n++;
	}
	if (n >= MTIMERS_MAX)
		return SP_ERR_LIMIT;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SP_ERR_NOMEM;
	t->s = s;
	t->idx = idx;
	t->id = id;
	sp_timer_init(&t->t, mtimer_fire, t);
	t->next = s->mtimers;
	s->mtimers = t;
	return sp_timer_start(s->loop, &t->t, delay_ms);
}

static void
sink_timer_cancel(void *arg, size_t idx, unsigned id)
{
	struct session *s = arg;
	struct mtimer *t;

	for (t = s->mtimers; t != NULL; t = t->next)
		if (t->idx == idx && t->id == id)
			sp_timer_stop(s->loop, &t->t);
}

static void
mtimers_free(struct session *s)
{
	struct mtimer *t, *next;

	for (t = s->mtimers; t != NULL; t = next) {
		next = t->next;
		sp_timer_stop(s->loop, &t->t);
		free(t);
	}
	s->mtimers = NULL;
}

static const struct sp_chain_sink session_sink = {
	.timer_set = sink_timer_set,
	.timer_cancel = sink_timer_cancel,
	.write = sink_write,
	.end = sink_end,
	.reading = sink_reading,
	.bytes_out = sink_bytes_out,
	.tls_alert = sink_tls_alert,
	.run_async = sink_run_async,
	.backend_ask = sink_backend_ask,
};
