/*
 * partner.c - the partner verification module: only known partners, from
 * their allowed addresses, with their certificates and passwords, reach the
 * inside. Each refusal is one security line (docs/logging.md) that fail2ban
 * and intrusion detection act on, and counts towards the per-address brake.
 *
 * Stages, each deciding as early as it can:
 *   on_open  (before TLS)  braked address, or no active partner allows it
 *                          (an inactive partner's own address: its own
 *                          line, not one fail2ban bans on);
 *   on_tls                 no partner allowed from here accepts this client
 *                          certificate situation;
 *   on_message, the SSID   code known, enabled, within its validity window,
 *                          address and certificate its own (ESID 03), then
 *                          the password (PBKDF2 on a worker thread; ESID 04),
 *                          then its session limit (ESID 08), then, when
 *                          `online` is configured, the backend's decision
 *                          (host->backend_ask; no answer in time: ESID 08).
 * The cheap checks of the SSID come before the password on purpose: a guesser
 * from the wrong address or with the wrong certificate learns nothing about
 * the password and costs no PBKDF2. The brake also counts a handshake that
 * failed or never finished, an SSID that never came and a protocol violation
 * before acceptance, and each password check from the moment it starts
 * (brake.c). Outgoing sessions (we called the partner): the answering SSID must name the route's partner (fact "route.partner").
 *
 * Refusing an SSID: fact "oftp2.esid_reason" = "03" / "04" / "08" and
 * SP_REJECT; the OFTP2 module sends that ESID. Accepting: fact "partner" =
 * the ODETTE ID.
 *
 * Ownership: struct pm_mod (module context) owns the brake and session-count
 * tables; struct pm_sess (session context, the core's memory) owns a copy of
 * the client certificate, freed in on_close. A password job (struct pm_job)
 * is owned by the run_async machinery from queueing until pm_job_done(),
 * which frees it whether or not the session still exists. An online
 * question (struct pm_ask) likewise belongs to the backend_ask machinery
 * until pm_ask_answer() frees it.
 */
#include <smartproxy/module.h>
#include <smartproxy/oftp2.h>

#include "partner.h"

#include "api/pwhash.h"
#include "core/crl.h"
#include "core/err.h"

#include <gnutls/gnutls.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pm_mod {
	const struct sp_host *host;
	enum sp_mode mode;
	struct pm_brake brake;
	struct pm_counts counts;
	struct pm_pwcache pwcache;
};

struct pm_sess {
	char addr[PM_ADDR_MAX];
	int family;
	uint8_t addrb[16];
	bool outgoing;
	bool tls_seen;
	bool hold;              /* a password job runs for this session */
	bool accepted;
	bool counted;           /* holds a slot in pm_mod.counts */
	char partner[PM_ID_MAX + 1];
	char listener[64];      /* incoming: the listener's name */
	uint8_t *cert;          /* leaf DER copy, or NULL */
	size_t certlen;
	char cert_sha[65];
};

struct pm_job {
	struct pm_mod *mod;
	struct pm_sess *sess;   /* valid only when done() gets a session */
	char id[PM_ID_MAX + 1];
	char addr[PM_ADDR_MAX];
	char *hash;
	char password[OFTP2_PSWD_LEN + 1];
	struct pm_brake_conf brake;
	unsigned max_sessions;
	int result;             /* of sp_pwhash_verify */
	bool cached;            /* result came from the password cache */
	bool begun;             /* holds a place in the brake (pm_brake_begin) */
};

struct pm_ask {
	struct pm_mod *mod;
	struct pm_sess *sess;   /* valid only when the answer gets a session */
	char id[PM_ID_MAX + 1];
	char addr[PM_ADDR_MAX];
	unsigned timeout_ms;
};

/* ---- clocks ---- */

static time_t
wall_now(void)
{
	return time(NULL);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

time_t (*pm_wall_now)(void) = wall_now;
uint64_t (*pm_mono_ms)(void) = mono_ms;

/* ---- helpers ---- */

static bool
in_window(const struct pm_partner *p, time_t now)
{
	return (!p->has_from || now >= p->valid_from) &&
	    (!p->has_until || now < p->valid_until);
}

static bool
active(const struct pm_partner *p, time_t now)
{
	return p->enabled && in_window(p, now);
}

/*
 * Why an inactive partner is inactive, for the log: "is disabled", "is not
 * valid before T", "is not valid since T".
 */
static void
inactive_why(const struct pm_partner *p, time_t now, char *out, size_t outlen)
{
	struct tm tm;
	char when[32];
	time_t t;

	if (!p->enabled) {
		snprintf(out, outlen, "is disabled");
		return;
	}
	t = p->has_from && now < p->valid_from ? p->valid_from : p->valid_until;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(out, outlen, "is not valid %s %s", p->has_from &&
	    now < p->valid_from ? "before" : "since", when);
}

static bool
detect(const struct pm_mod *m)
{
	return m->mode == SP_MODE_DETECT;
}

static const char *
detect_note(const struct pm_mod *m)
{
	return detect(m) ? " (detect mode: let through)" : "";
}

static bool
has_backend_post(const struct sp_host *h)
{
	return h->struct_size >= offsetof(struct sp_host, backend_post) +
	    sizeof(h->backend_post) && h->backend_post != NULL;
}

/*
 * Tell the backend a block started (POST v1/blocks, docs/api.md 5.6), so
 * operators see the blocks in force without reading the DMZ's log. Fire and
 * forget: the rate_limited line stays the record.
 */
static void
report_block(struct pm_mod *m, struct sp_msess *ms, const struct pm_brake_conf *bc,
    const char *addr)
{
	time_t until = pm_wall_now() + (time_t)(bc->block_ms / 1000);
	char when[32], doc[256];
	struct tm tm;

	if (!has_backend_post(m->host))
		return;
	gmtime_r(&until, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* addr is numeric (pm_addr_parse accepted it): no escaping needed. */
	snprintf(doc, sizeof(doc), "{\"address\":\"%s\",\"blocked_until\":\"%s\","
	    "\"failures\":%u,\"window_ms\":%u,\"block_ms\":%u}", addr, when,
	    bc->max_failures, bc->window_ms, bc->block_ms);
	(void)m->host->backend_post(ms, "v1/blocks", doc);
}

/* Count a failure for the brake; log and report the moment a block starts. */
static void
brake_fail(struct pm_mod *m, struct sp_msess *ms, const struct pm_brake_conf *bc,
    const char *addr)
{
	unsigned n;

	if (!pm_brake_fail(&m->brake, bc, addr, pm_mono_ms(), &n))
		return;
	if (ms != NULL)
		m->host->security(ms, "rate_limited", "%u failures within %u s: "
		    "address blocked for %u s", bc->max_failures, bc->window_ms / 1000,
		    bc->block_ms / 1000);
	report_block(m, ms, bc, addr);
}

/*
 * Refuse the partner's SSID: security line, brake (when `brake`), ESID
 * reason. `token` and the detail are the documented line of docs/logging.md.
 */
__attribute__((format(printf, 6, 0)))
static enum sp_verdict
refuse_ssid_v(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const char *esid, const char *token, const char *fmt, bool brake,
    va_list ap)
{
	const struct pm_config *cfg = m->host->config(ms);
	char detail[400];

	vsnprintf(detail, sizeof(detail), fmt, ap);
	m->host->security(ms, token, "%s; ESID %s%s", detail, esid, detect_note(m));
	if (brake && cfg != NULL && strcmp(esid, "08") != 0 && !s->outgoing)
		brake_fail(m, ms, &cfg->brake, s->addr);
	if (detect(m))
		return SP_CONTINUE;
	/* The OFTP2 module says it on the wire (host->refusal_get). */
	m->host->refusal_set(ms, (unsigned)strtoul(esid, NULL, 10));
	return SP_REJECT;
}

__attribute__((format(printf, 6, 7)))
static enum sp_verdict
refuse_ssid(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const char *esid, const char *token, const char *fmt, ...)
{
	enum sp_verdict v;
	va_list ap;

	va_start(ap, fmt);
	v = refuse_ssid_v(m, ms, s, esid, token, fmt, true, ap);
	va_end(ap);
	return v;
}

/* A password check that held a place in the brake ends. */
static void
brake_end(struct pm_mod *m, struct sp_msess *ms, struct pm_job *j, bool failed)
{
	unsigned n;

	if (!j->begun)
		return;
	j->begun = false;
	if (!pm_brake_end(&m->brake, &j->brake, j->addr, pm_mono_ms(), failed, &n))
		return;
	if (ms != NULL)
		m->host->security(ms, "rate_limited", "%u failures within %u s: "
		    "address blocked for %u s", j->brake.max_failures,
		    j->brake.window_ms / 1000, j->brake.block_ms / 1000);
	report_block(m, ms, &j->brake, j->addr);
}

/* A refusal whose failure the caller counts itself. */
__attribute__((format(printf, 6, 7)))
static enum sp_verdict
refuse_counted(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const char *esid, const char *token, const char *fmt, ...)
{
	enum sp_verdict v;
	va_list ap;

	va_start(ap, fmt);
	v = refuse_ssid_v(m, ms, s, esid, token, fmt, false, ap);
	va_end(ap);
	return v;
}

/*
 * The backend's refusals do not feed the brake: the partner has proved its
 * password by then, so braking its address would slow no guesser, only the
 * partner (and a backend outage would block every partner that called).
 */
__attribute__((format(printf, 6, 7)))
static enum sp_verdict
refuse_online(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const char *esid, const char *token, const char *fmt, ...)
{
	enum sp_verdict v;
	va_list ap;

	va_start(ap, fmt);
	v = refuse_ssid_v(m, ms, s, esid, token, fmt, false, ap);
	va_end(ap);
	return v;
}

static enum sp_verdict
accept_partner(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const char *id)
{
	snprintf(s->partner, sizeof(s->partner), "%s", id);
	s->accepted = true;
	if (m->host->fact_set(ms, "partner", id) != 0)
		return SP_FAIL;
	m->host->log(ms, SP_LEVEL_INFO, "partner %s accepted%s%s", id,
	    s->cert != NULL ? ", client certificate sha256=" : "",
	    s->cert != NULL ? s->cert_sha : "");
	return SP_CONTINUE;
}

/* ---- process level ---- */

static int
pm_init(const struct sp_host *host, const struct sp_module_args *args,
    void **mctx)
{
	struct pm_mod *m;

	if (args->options[0] != NULL) {
		host->log(NULL, SP_LEVEL_ERR, "%s: unknown option '%s' (this module "
		    "takes its settings from the runtime configuration)", args->name,
		    args->options[0]);
		return -EINVAL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	m->host = host;
	m->mode = args->mode;
	if (pm_brake_init(&m->brake) != 0) {
		free(m);
		return -ENOMEM;
	}
	if (pm_counts_init(&m->counts) != 0) {
		pm_brake_fini(&m->brake);
		free(m);
		return -ENOMEM;
	}
	if (pm_pwcache_init(&m->pwcache) != 0) {
		pm_counts_fini(&m->counts);
		pm_brake_fini(&m->brake);
		free(m);
		return -ENOMEM;
	}
	*mctx = m;
	return 0;
}

static void
pm_fini(void *mctx)
{
	struct pm_mod *m = mctx;

	pm_pwcache_fini(&m->pwcache);
	pm_counts_fini(&m->counts);
	pm_brake_fini(&m->brake);
	free(m);
}

static int
pm_cfg_parse(void *mctx, const char *json, void **cfg, char *err, size_t errlen)
{
	struct pm_config *c;
	int r;

	if ((r = pm_config_parse(json, &c, err, errlen)) != 0)
		return r;
	*cfg = c;
	return 0;
}

static void
pm_cfg_free(void *mctx, void *cfg)
{
	pm_config_free(cfg);
}

/* ---- stage 1: the source address, before TLS ---- */

static enum sp_verdict
pm_open(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_peer *peer)
{
	struct pm_mod *m = mctx;
	struct pm_sess *s = sctx;
	const struct pm_config *cfg = m->host->config(ms);
	time_t now = pm_wall_now();
	uint64_t left;
	size_t i;

	s->outgoing = peer->outgoing != 0;
	if (strlen(peer->addr) >= sizeof(s->addr) ||
	    pm_addr_parse(peer->addr, &s->family, s->addrb) != 0) {
		m->host->log(ms, SP_LEVEL_ERR, "cannot read the peer address");
		return SP_FAIL;
	}
	strcpy(s->addr, peer->addr);
	snprintf(s->listener, sizeof(s->listener), "%s", peer->route ? peer->route : "");
	if (s->outgoing)
		return SP_CONTINUE;     /* we chose whom to call */
	if ((left = pm_brake_blocked(&m->brake, s->addr, pm_mono_ms())) > 0) {
		m->host->security(ms, "rate_limited", "address blocked for another %llu s "
		    "after repeated failures; connection closed before TLS%s",
		    (unsigned long long)(left + 999) / 1000, detect_note(m));
		return detect(m) ? SP_CONTINUE : SP_REJECT;
	}
	for (i = 0; cfg != NULL && i < cfg->npartners; i++)
		if (active(&cfg->partners[i], now) &&
		    pm_partner_allows(&cfg->partners[i], s->family, s->addrb))
			return SP_CONTINUE;
	/*
	 * A disabled or expired partner calling from its own address is no
	 * attacker: its own line, which the fail2ban filter does not match,
	 * so switching a partner off does not get its address banned.
	 */
	for (i = 0; cfg != NULL && i < cfg->npartners; i++)
		if (pm_partner_allows(&cfg->partners[i], s->family, s->addrb)) {
			char why[80];

			inactive_why(&cfg->partners[i], now, why, sizeof(why));
			m->host->security(ms, "partner_inactive", "partner %s %s "
			    "and this is its address; connection closed before "
			    "TLS%s", cfg->partners[i].id, why, detect_note(m));
			return detect(m) ? SP_CONTINUE : SP_REJECT;
		}
	m->host->security(ms, "address_not_allowed", "no enabled partner allows this "
	    "address; connection closed before TLS%s", detect_note(m));
	return detect(m) ? SP_CONTINUE : SP_REJECT;
}

/* ---- stage 2: the client certificate ---- */

static bool
has_tls_alert(const struct sp_host *h)
{
	return h->struct_size >= offsetof(struct sp_host, tls_alert) +
	    sizeof(h->tls_alert) && h->tls_alert != NULL;
}

/* A CRL past its nextUpdate, and the partner's policy lets the session on. */
static void
crl_stale_warn(struct pm_mod *m, struct sp_msess *ms, const struct pm_partner *p,
    const struct sp_crl_info *ci)
{
	char when[21];

	sp_crl_time(ci->next_update, when);
	m->host->log(ms, SP_LEVEL_WARN, "partner %s: the CRL of %s is past its nextUpdate "
	    "%s; crl_expired fail_open: certificate accepted without a current CRL",
	    p->id, ci->issuer, when);
}

static enum sp_verdict
refuse_revoked(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const struct pm_partner *p)
{
	char serial[130], issuer[SP_CRL_ISSUER_MAX];

	sp_crl_cert_names(s->cert, s->certlen, serial, sizeof(serial), issuer,
	    sizeof(issuer));
	m->host->security(ms, "certificate_revoked", "client certificate serial=%s "
	    "issuer=\"%s\" sha256=%s is revoked by the CRL of partner %s%s", serial,
	    issuer, s->cert_sha, p->id, detect_note(m));
	if (detect(m))
		return SP_CONTINUE;
	if (has_tls_alert(m->host))
		m->host->tls_alert(ms, SP_LEG_OUTSIDE, GNUTLS_A_CERTIFICATE_REVOKED);
	return SP_REJECT;
}

static enum sp_verdict
refuse_crl_expired(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const struct pm_partner *p, const struct sp_crl_info *ci)
{
	char when[21];

	sp_crl_time(ci->next_update, when);
	m->host->security(ms, "crl_expired", "client certificate sha256=%s of partner %s: "
	    "the CRL of %s is past its nextUpdate %s; crl_expired fail_closed%s",
	    s->cert_sha, p->id, ci->issuer, when, detect_note(m));
	if (detect(m))
		return SP_CONTINUE;
	if (has_tls_alert(m->host))
		m->host->tls_alert(ms, SP_LEG_OUTSIDE, GNUTLS_A_CERTIFICATE_UNKNOWN);
	return SP_REJECT;
}

static enum sp_verdict
pm_tls(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_tls *tls)
{
	struct pm_mod *m = mctx;
	struct pm_sess *s = sctx;
	const struct pm_config *cfg = m->host->config(ms);
	const struct pm_partner *revoked = NULL, *expired = NULL;
	const struct sp_crl_info *expired_ci = NULL;
	time_t now = pm_wall_now();
	size_t i;

	s->tls_seen = true;
	if (s->outgoing)
		return SP_CONTINUE;     /* the core verified the partner's certificate */
	if (tls->peer_cert_der != NULL && tls->peer_cert_len > 0) {
		if (tls->peer_cert_len > PM_CERT_MAX) {
			m->host->security(ms, "certificate_refused", "client certificate of "
			    "%zu octets, more than %u%s", tls->peer_cert_len, PM_CERT_MAX,
			    detect_note(m));
			return detect(m) ? SP_CONTINUE : SP_REJECT;
		}
		if ((s->cert = malloc(tls->peer_cert_len)) == NULL)
			return SP_FAIL;
		memcpy(s->cert, tls->peer_cert_der, tls->peer_cert_len);
		s->certlen = tls->peer_cert_len;
		if (tls->peer_cert_sha256 != NULL && strlen(tls->peer_cert_sha256) == 64)
			memcpy(s->cert_sha, tls->peer_cert_sha256, 65);
		else if (sp_sha256_hex(s->cert, s->certlen, s->cert_sha) != 0)
			return SP_FAIL;
	}
	for (i = 0; cfg != NULL && i < cfg->npartners; i++) {
		const struct pm_partner *p = &cfg->partners[i];
		const struct sp_crl_info *ci;
		enum pm_cert_verdict cv;

		if (!active(p, now) || !pm_partner_allows(p, s->family, s->addrb))
			continue;
		cv = pm_cert_check(p, s->cert, s->certlen, s->cert_sha, &ci);
		if (cv == PM_CERT_OK) {
			if (ci != NULL)
				crl_stale_warn(m, ms, p, ci);
			return SP_CONTINUE;
		}
		if (cv == PM_CERT_REVOKED)
			revoked = p;
		else if (cv == PM_CERT_CRL_EXPIRED)
			expired = p, expired_ci = ci;
	}
	/* A known partner's certificate, refused for revocation: its own line,
	 * no brake (no attacker; fail2ban ignores it), and the TLS alert says
	 * why instead of a bare close. */
	if (revoked != NULL)
		return refuse_revoked(m, ms, s, revoked);
	if (expired != NULL)
		return refuse_crl_expired(m, ms, s, expired, expired_ci);
	/* Before any OFTP2 byte: no ESID to send, the connection just closes. */
	m->host->security(ms, "certificate_refused", "%s%s%s%s; no partner allowed from "
	    "this address accepts it%s",
	    s->cert ? "client certificate sha256=" : "no client certificate",
	    s->cert ? s->cert_sha : "",
	    s->cert && tls->peer_subject ? " subject=" : "",
	    s->cert && tls->peer_subject ? tls->peer_subject : "", detect_note(m));
	if (cfg != NULL)
		brake_fail(m, ms, &cfg->brake, s->addr);
	return detect(m) ? SP_CONTINUE : SP_REJECT;
}

/* ---- stage 3: the SSID ---- */

/* Worker thread: no host calls, nothing shared but the job. */
static void
pm_job_work(void *arg)
{
	struct pm_job *j = arg;

	j->result = sp_pwhash_verify(j->password, strlen(j->password), j->hash);
}

static void
pm_job_free(struct pm_job *j)
{
	if (j->hash != NULL) {
		memset(j->hash, 0, strlen(j->hash));
		free(j->hash);
	}
	memset(j->password, 0, sizeof(j->password));
	free(j);
}

/* ---- stage 4: the backend's decision (optional) ---- */

static bool
has_backend_ask(const struct sp_host *h)
{
	return h->struct_size >= offsetof(struct sp_host, backend_ask) +
	    sizeof(h->backend_ask) && h->backend_ask != NULL;
}

/* On the session's thread, exactly once; ms NULL if the session ended. */
static void
pm_ask_answer(struct sp_msess *ms, void *arg, int status, const char *body)
{
	struct pm_ask *a = arg;
	struct pm_mod *m = a->mod;
	enum pm_online_verdict ov;
	enum sp_verdict v;
	char esid[3], detail[200];

	ov = pm_online_read(status, body, esid, detail, sizeof(detail));
	if (ms == NULL) {
		/* Nothing left to decide; its slot went with on_close. */
		m->host->log(NULL, SP_LEVEL_INFO, "online decision for partner %s from "
		    "%s came after the session ended: %s", a->id, a->addr, detail);
		free(a);
		return;
	}
	a->sess->hold = false;
	if (ov == PM_ONLINE_ALLOW) {
		m->host->log(ms, SP_LEVEL_INFO, "partner %s %s", a->id, detail);
		v = accept_partner(m, ms, a->sess, a->id);
	} else if (ov == PM_ONLINE_REFUSE)
		v = refuse_online(m, ms, a->sess, esid, "online_refused", "partner %s "
		    "%s", a->id, detail);
	else
		v = refuse_online(m, ms, a->sess, "08", "online_unavailable", "partner "
		    "%s not decided: %s (online timeout %u ms); failing closed", a->id,
		    detail, a->timeout_ms);
	free(a);
	m->host->resume(ms, v);
}

/*
 * Every local check passed: ask the backend, hold the SSID until it answers.
 * Anything that keeps the question from going out refuses (fail closed).
 */
static enum sp_verdict
ask_online(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const struct pm_online_conf *on, const char *id)
{
	struct pm_ask *a;
	char *q;
	int r;

	if (!has_backend_ask(m->host))
		return refuse_online(m, ms, s, "08", "online_unavailable", "partner %s "
		    "not decided: this server cannot ask the backend; failing closed",
		    id);
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SP_FAIL;
	if ((q = pm_online_question(id, s->addr, s->cert != NULL ? s->cert_sha : NULL,
	    s->listener[0] ? s->listener : NULL,
	    m->host->fact_get(ms, "session.id"))) == NULL) {
		free(a);
		return SP_FAIL;
	}
	a->mod = m;
	a->sess = s;
	snprintf(a->id, sizeof(a->id), "%s", id);
	memcpy(a->addr, s->addr, sizeof(a->addr));
	a->timeout_ms = on->timeout_ms;
	s->hold = true;
	r = m->host->backend_ask(ms, on->path, q, on->timeout_ms, pm_ask_answer, a);
	free(q);
	if (r == 0)
		return SP_HOLD;
	s->hold = false;
	free(a);
	return refuse_online(m, ms, s, "08", "online_unavailable", "partner %s not "
	    "decided: the question could not be sent to the backend (%d); failing "
	    "closed", id, r);
}

/* After the password: its verdict, then the session limit, then online. */
static enum sp_verdict
pm_job_finish(struct pm_job *j, struct sp_msess *ms)
{
	struct pm_mod *m = j->mod;
	struct pm_sess *s = j->sess;
	const struct pm_config *cfg;
	unsigned open_now;
	int r;

	s->hold = false;
	if (j->result == SP_ERR_DENIED && j->begun) {
		/* Its own line first, then the block it may start. */
		enum sp_verdict v = refuse_counted(m, ms, s, "04", "bad_password",
		    "wrong password for partner %s", j->id);
		brake_end(m, ms, j, true);
		return v;
	}
	if (j->result == SP_ERR_DENIED)
		return refuse_ssid(m, ms, s, "04", "bad_password",
		    "wrong password for partner %s", j->id);
	brake_end(m, ms, j, false);
	if (j->result != SP_OK) {
		m->host->log(ms, SP_LEVEL_ERR, "cannot verify the password of %s: %d",
		    j->id, j->result);
		return SP_FAIL;
	}
	if (!j->cached)
		pm_pwcache_put(&m->pwcache, j->id, j->hash, j->password, pm_mono_ms());
	r = pm_counts_take(&m->counts, j->id, j->max_sessions, &open_now);
	if (r == SP_ERR_LIMIT)
		return refuse_ssid(m, ms, s, "08", "session_limit",
		    "partner %s has %u sessions open, max_sessions %u", j->id, open_now,
		    j->max_sessions);
	if (r != SP_OK)
		return SP_FAIL;
	/* The slot is released under this name in on_close, whatever comes. */
	s->counted = true;
	snprintf(s->partner, sizeof(s->partner), "%s", j->id);
	if ((cfg = m->host->config(ms)) != NULL && cfg->online.on)
		return ask_online(m, ms, s, &cfg->online, j->id);
	return accept_partner(m, ms, s, j->id);
}

static void
pm_job_done(struct sp_msess *ms, void *arg)
{
	struct pm_job *j = arg;
	const struct sp_host *host;
	enum sp_verdict v;

	if (ms == NULL) {
		/* The partner hung up while we hashed: a wrong guess still counts,
		 * or closing right after the SSID would dodge the brake. */
		if (j->result == SP_ERR_DENIED) {
			if (j->begun)
				brake_end(j->mod, NULL, j, true);
			else
				brake_fail(j->mod, NULL, &j->brake, j->addr);
			j->mod->host->log(NULL, SP_LEVEL_WARN, "bad_password from %s for "
			    "partner %s (session already closed)", j->addr, j->id);
		} else
			brake_end(j->mod, NULL, j, false);
		pm_job_free(j);
		return;
	}
	v = pm_job_finish(j, ms);
	host = j->mod->host;
	pm_job_free(j);
	if (v != SP_HOLD)       /* else the backend's answer resumes */
		host->resume(ms, v);
}

static bool
has_run_async(const struct sp_host *h)
{
	return h->struct_size >= offsetof(struct sp_host, run_async) + sizeof(h->run_async) &&
	    h->run_async != NULL;
}

static enum sp_verdict
check_incoming(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const struct oftp2_ssid *ssid)
{
	const struct pm_config *cfg = m->host->config(ms);
	const struct pm_partner *p = pm_config_find(cfg, ssid->code);
	time_t now = pm_wall_now();
	enum pm_cert_verdict cv;
	struct pm_job *j;
	enum sp_verdict v;
	uint64_t left;

	/* SSIDs of sessions opened before the address was blocked: no PBKDF2
	 * for them, and no new count (the block runs already). */
	if (cfg != NULL && (left = pm_brake_blocked(&m->brake, s->addr, pm_mono_ms())) > 0)
		return refuse_counted(m, ms, s, "08", "rate_limited", "address blocked "
		    "for another %llu s after repeated failures",
		    (unsigned long long)(left + 999) / 1000);
	if (p == NULL)
		return refuse_ssid(m, ms, s, "03", "unknown_partner",
		    "SSID code '%s' is not a configured partner", ssid->code);
	if (!p->enabled)
		return refuse_ssid(m, ms, s, "03", "partner_disabled",
		    "partner %s is disabled", p->id);
	if (!in_window(p, now)) {
		struct tm tm;
		char when[32];
		time_t t = p->has_from && now < p->valid_from ? p->valid_from : p->valid_until;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		return refuse_ssid(m, ms, s, "03", "partner_not_valid",
		    "partner %s is not valid %s %s", p->id,
		    p->has_from && now < p->valid_from ? "before" : "since", when);
	}
	if (!pm_partner_allows(p, s->family, s->addrb))
		return refuse_ssid(m, ms, s, "03", "address_not_allowed",
		    "partner %s does not allow this address", p->id);
	if ((cv = pm_cert_check(p, s->cert, s->certlen, s->cert_sha, NULL)) != PM_CERT_OK) {
		/* on_tls refused these already unless in detect mode. */
		if (cv == PM_CERT_REVOKED)
			return refuse_online(m, ms, s, "03", "certificate_revoked",
			    "client certificate sha256=%s is revoked by the CRL of partner %s",
			    s->cert_sha, p->id);
		if (cv == PM_CERT_CRL_EXPIRED)
			return refuse_online(m, ms, s, "03", "crl_expired",
			    "client certificate sha256=%s of partner %s: its CRL is past "
			    "its nextUpdate; crl_expired fail_closed", s->cert_sha, p->id);
		if (cv == PM_CERT_MISSING)
			return refuse_ssid(m, ms, s, "03", "certificate_refused",
			    "partner %s requires a client certificate, none was presented",
			    p->id);
		if (cv == PM_CERT_UNBOUND)
			return refuse_ssid(m, ms, s, "03", "certificate_refused",
			    "client certificate sha256=%s from a CA of partner %s does "
			    "not name it (bind %s)", s->cert_sha, p->id,
			    pm_bind_name(p->bind));
		return refuse_ssid(m, ms, s, "03", "certificate_refused",
		    "client certificate sha256=%s matches no pin and no CA of partner %s",
		    s->cert_sha, p->id);
	}

	if ((j = calloc(1, sizeof(*j))) == NULL || (j->hash = strdup(p->password_hash)) == NULL) {
		free(j);
		return SP_FAIL;
	}
	j->mod = m;
	j->sess = s;
	memcpy(j->id, p->id, sizeof(j->id));
	memcpy(j->addr, s->addr, sizeof(j->addr));
	memcpy(j->password, ssid->password, sizeof(j->password));
	j->password[OFTP2_PSWD_LEN] = '\0';
	j->brake = cfg->brake;
	j->max_sessions = p->max_sessions;
	/* The same partner with the same password lately: no second PBKDF2. */
	if (pm_pwcache_hit(&m->pwcache, j->id, j->hash, j->password, pm_mono_ms())) {
		j->cached = true;
		j->result = SP_OK;
		v = pm_job_finish(j, ms);
		pm_job_free(j);
		return v;
	}
	/* The check counts from now: an answer comes only after PBKDF2, and
	 * guesses sent all at once would otherwise all be checked before the
	 * first failure counted. With max_failures failed or in flight, no
	 * more checks: refused unchecked, and that counts too. */
	if (!pm_brake_begin(&m->brake, &cfg->brake, s->addr, pm_mono_ms())) {
		pm_job_free(j);
		v = refuse_counted(m, ms, s, "08", "rate_limited", "%u password checks "
		    "failed or running within %u s, max_failures %u; not checked",
		    cfg->brake.max_failures, cfg->brake.window_ms / 1000,
		    cfg->brake.max_failures);
		if (!s->outgoing)
			brake_fail(m, ms, &cfg->brake, s->addr);
		return v;
	}
	j->begun = true;
	if (has_run_async(m->host)) {
		s->hold = true;
		if (m->host->run_async(ms, pm_job_work, pm_job_done, j) == 0)
			return SP_HOLD;
		s->hold = false;
		brake_end(m, ms, j, false);
		pm_job_free(j);
		m->host->log(ms, SP_LEVEL_WARN, "no worker free to check the password "
		    "of %s; ESID 08", ssid->code);
		if (detect(m))
			return SP_CONTINUE;
		m->host->refusal_set(ms, OFTP2_ESID_NO_RESOURCES);
		return SP_REJECT;
	}
	/* A host without workers (ABI 1.0 cores): hash on the loop. */
	pm_job_work(j);
	v = pm_job_finish(j, ms);
	pm_job_free(j);
	return v;
}

static enum sp_verdict
check_outgoing(struct pm_mod *m, struct sp_msess *ms, struct pm_sess *s,
    const struct oftp2_ssid *ssid)
{
	const char *want = m->host->fact_get(ms, "route.partner");
	const char *route = m->host->fact_get(ms, "route");

	if (want == NULL)
		return refuse_ssid(m, ms, s, "03", "wrong_partner", "outgoing session "
		    "without a route partner; the SSID names '%s'", ssid->code);
	if (strcmp(want, ssid->code) != 0)
		return refuse_ssid(m, ms, s, "03", "wrong_partner", "route %s expects "
		    "partner %s, the SSID names '%s'", route ? route : "?", want,
		    ssid->code);
	return accept_partner(m, ms, s, ssid->code);
}

static enum sp_verdict
pm_message(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_message *msg)
{
	struct pm_mod *m = mctx;
	struct pm_sess *s = sctx;
	const struct oftp2_cmd *cmd = msg->parsed;

	if (strcmp(msg->protocol, "oftp2") != 0 || msg->type != OFTP2_SSID)
		return SP_CONTINUE;
	/* `parsed` is a struct of <smartproxy/oftp2.h>: only of our major. */
	if (msg->parsed_version >> 16 != SP_OFTP2_H_MAJOR)
		return SP_FAIL;
	/* Our own side's SSID (the inside server answering, or calling out). */
	if (msg->dir != SP_TO_INSIDE)
		return SP_CONTINUE;
	if (cmd == NULL || cmd->code != OFTP2_SSID || s->hold)
		return SP_FAIL;
	if (s->accepted) {
		/* The OFTP2 module's state machine refuses a second SSID; never let
		 * one change who the session is. */
		if (strcmp(s->partner, cmd->u.ssid.code) == 0)
			return SP_CONTINUE;
		return refuse_ssid(m, ms, s, "03", "unknown_partner", "second SSID names "
		    "'%s' after %s was accepted", cmd->u.ssid.code, s->partner);
	}
	if (s->outgoing)
		return check_outgoing(m, ms, s, &cmd->u.ssid);
	return check_incoming(m, ms, s, &cmd->u.ssid);
}

/*
 * Ends before a partner was accepted that count as failed attempts: a
 * handshake that failed or never finished, and, once TLS is up, an SSID that
 * never came (the OFTP2 module's "timeout", or the core's backstops when no
 * protocol module times it) or a protocol violation ("protocol"). Without
 * them, connections that finish TLS and then stay silent or send garbage
 * cost an attacker nothing.
 */
static bool
preauth_failure(const struct pm_sess *s, const char *reason)
{
	/* counted: the password was right, only the backend's word is missing. */
	if (s->accepted || s->counted)
		return false;
	if (!s->tls_seen)
		return strcmp(reason, "tls_failed") == 0 ||
		    strcmp(reason, "handshake_timeout") == 0;
	return strcmp(reason, "timeout") == 0 || strcmp(reason, "protocol") == 0 ||
	    strcmp(reason, "idle_timeout") == 0 || strcmp(reason, "session_max") == 0;
}

static void
pm_close(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_close *info)
{
	struct pm_mod *m = mctx;
	struct pm_sess *s = sctx;
	const struct pm_config *cfg;

	if (!s->outgoing && info->reason != NULL && preauth_failure(s, info->reason) &&
	    (cfg = m->host->config(ms)) != NULL)
		brake_fail(m, ms, &cfg->brake, s->addr);
	if (s->counted) {
		pm_counts_release(&m->counts, s->partner);
		s->counted = false;
	}
	free(s->cert);
	s->cert = NULL;
}

__attribute__((visibility("default")))
const struct sp_module sp_module_v1 = {
	SP_MODULE_HEADER,
	.name = "partner",
	.version = "1.0",
	.session_ctx_size = sizeof(struct pm_sess),
	.init = pm_init,
	.fini = pm_fini,
	.config_parse = pm_cfg_parse,
	.config_free = pm_cfg_free,
	.on_open = pm_open,
	.on_tls = pm_tls,
	.on_message = pm_message,
	.on_close = pm_close,
};
