/*
 * module.c - the OFTP2 verification module: descriptor, process state and
 * the session hooks. Nothing but valid OFTP2 crosses the proxy: every byte of
 * both directions is framed, parsed and checked against the session's state
 * (stream.c, state.c) before it is forwarded; a violation ends the session
 * with the ESID the wire reference names (report.c).
 *
 * Roles: in an incoming session the partner is the Initiator; the proxy
 * greets it with its own SSRM, hands its SSID to the later modules (the
 * partner module decides who may call) and only then forwards it inside,
 * which opens the inside leg (SP_MODULE_F_GATES_INSIDE); the inside server's
 * SSRM is swallowed. An outgoing session is the mirror: the inside server is
 * the Initiator and gets the proxy's SSRM, the partner's SSRM is swallowed and
 * the inside's SSID goes out once the partner's SSRM is in.
 *
 * Bootstrap entry:   - name: oftp2            (no options; mode: detect allowed)
 * Runtime section:   modules.oftp2 (config.c, docs/oftp2-module.md)
 *
 * Ownership: struct o2_mod from init to fini; each struct o2_config from
 * config_parse to config_free; struct o2_sess is the core's session context
 * (see o2.h for the buffers it points to and when they are freed).
 */
#include "o2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static int
o2_init(const struct sp_host *host, const struct sp_module_args *args,
    void **mctx)
{
	struct o2_mod *m;

	if (args->options != NULL && args->options[0] != NULL) {
		host->log(NULL, SP_LEVEL_ERR, "%s: unknown option '%s' (this module "
		    "takes none; its settings are in modules.oftp2 of the runtime "
		    "configuration)", args->name, args->options[0]);
		return -EINVAL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	m->host = host;
	m->mode = args->mode;
	o2_config_defaults(&m->defaults);
	host->log(NULL, SP_LEVEL_INFO, "%s: OFTP2 verification%s", args->name,
	    m->mode == SP_MODE_DETECT ? " in detect mode (violations are logged, "
	    "not enforced)" : "");
	*mctx = m;
	return 0;
}

static void
o2_fini(void *mctx)
{
	free(mctx);
}

static int
o2_config_parse(void *mctx, const char *json, void **cfg, char *err,
    size_t errlen)
{
	struct o2_config *c;
	int r;

	(void)mctx;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SP_ERR_NOMEM;
	if ((r = o2_config_parse_json(json, c, err, errlen)) != 0) {
		free(c);
		return r;
	}
	*cfg = c;
	return 0;
}

static void
o2_config_free(void *mctx, void *cfg)
{
	(void)mctx;
	if (cfg != NULL) {
		o2_config_release(cfg);
		free(cfg);
	}
}

/* ---- session ---- */

static void
release(struct o2_sess *s)
{
	sp_buf_free(&s->in[O2_OUT]);
	sp_buf_free(&s->in[O2_IN]);
	free(s->held.raw);
	s->held.raw = NULL;
	s->have_held = false;
}

/* Send the proxy's SSRM to the initiator and start waiting for its SSID. */
static enum sp_verdict
greet(struct o2_sess *s)
{
	const struct sp_host *h = s->mod->host;

	if (s->phase != PH_GREET || s->dead)
		return SP_CONTINUE;
	h->timer_cancel(s->ms, O2_T_SSRM);
	if (s->outgoing)
		s->leg_up[s->rsp] = true;   /* the partner answered our call */
	if (o2_send_ssrm(s, s->ini) != 0) {
		s->dead = true;
		h->end(s->ms, "io_error", "oftp2: cannot send SSRM");
		return SP_ABORT;
	}
	s->phase = PH_SSID_I;
	h->timer_set(s->ms, O2_T_SSID, s->ssid_ms);
	h->timer_set(s->ms, O2_T_IDLE, s->idle_ms);
	return SP_CONTINUE;
}

/*
 * A timeout: the module's section when it sets one, else the revision's
 * limit the core publishes (host->limits), else the built-in default.
 */
static uint64_t
effective_ms(uint64_t limit, bool set, uint64_t configured)
{
	return !set && limit >= 100 ? limit : configured;
}

static enum sp_verdict
o2_open(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_peer *peer)
{
	struct o2_mod *m = mctx;
	struct o2_sess *s = sctx;
	const struct sp_host *h = m->host;
	const struct sp_limits *lim;
	const char *partner;
	bool check;

	s->mod = m;
	s->ms = ms;
	s->cfg = h->config(ms);
	if (s->cfg == NULL)
		s->cfg = &m->defaults;
	lim = h->limits(ms);
	s->ssid_ms = effective_ms(lim->ssid_timeout_ms, s->cfg->ssid_set,
	    s->cfg->ssid_timeout_ms);
	s->idle_ms = effective_ms(lim->idle_timeout_ms, s->cfg->idle_set,
	    s->cfg->idle_timeout_ms);
	s->max_ms = effective_ms(lim->session_max_ms, s->cfg->max_set,
	    s->cfg->session_max_ms);
	s->outgoing = peer->outgoing != 0;
	s->ini = s->outgoing ? O2_IN : O2_OUT;
	s->rsp = o2_other(s->ini);
	/* Outgoing: the route names the partner before it speaks. */
	partner = s->outgoing ? h->fact_get(ms, "route.partner") : NULL;
	if (s->outgoing && partner == NULL)
		partner = h->fact_get(ms, "partner");
	s->tol = o2_config_tol(s->cfg, partner, &check, &s->detect);
	s->check_counts = check;
	s->tol_final = partner != NULL;
	s->phase = PH_GREET;
	sp_buf_init(&s->in[O2_OUT], O2_IN_MAX);
	sp_buf_init(&s->in[O2_IN], O2_IN_MAX);
	h->timer_set(ms, O2_T_SESSION, s->max_ms);
	/* on_tls greets the initiator once the outside leg is up. A relay
	 * core that calls no on_tls for a plain listener gets the greeting
	 * from this timer right after the hook (for TLS, a greeting queued
	 * during the handshake goes out encrypted once it completes).
	 * Outgoing, the inside waits for the partner: on_tls only. */
	if (!s->outgoing)
		h->timer_set(ms, O2_T_SSRM, 0);
	return SP_CONTINUE;
}

static enum sp_verdict
o2_tls(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_tls *tls)
{
	struct o2_sess *s = sctx;
	enum sp_verdict v;

	(void)mctx;
	(void)ms;
	(void)tls;
	v = greet(s);
	return v;
}

static enum sp_verdict
o2_data(void *mctx, struct sp_msess *ms, void *sctx, enum sp_dir dir,
    const uint8_t *p, size_t n)
{
	struct o2_sess *s = sctx;
	enum sp_verdict v;

	(void)mctx;
	if (s->dead || s->closed)
		return SP_CONTINUE;
	s->mod->host->timer_set(ms, O2_T_IDLE, s->idle_ms);
	v = o2_stream_feed(s, dir == SP_TO_INSIDE ? O2_OUT : O2_IN, p, n);
	if (v == SP_HOLD)
		s->data_held[dir] = true;
	return v;
}

static void
o2_delivered(void *mctx, struct sp_msess *ms, void *sctx, uint64_t cookie,
    enum sp_verdict verdict)
{
	struct o2_sess *s = sctx;
	enum sp_verdict v;

	(void)mctx;
	if (!s->paused || cookie != s->cookie || s->dead || s->closed)
		return;
	v = o2_stream_held_done(s, verdict);
	if (v == SP_CONTINUE && !s->dead && !s->closed)
		v = o2_stream_drain(s);
	if (v == SP_CONTINUE && !s->dead && !s->closed && !s->paused &&
	    (s->data_held[0] || s->data_held[1])) {
		s->data_held[0] = s->data_held[1] = false;
		s->mod->host->resume(ms, SP_CONTINUE);
	}
}

static enum sp_verdict
o2_timer(void *mctx, struct sp_msess *ms, void *sctx, unsigned id)
{
	struct o2_sess *s = sctx;
	enum sp_verdict v = SP_CONTINUE;
	char what[96];

	(void)mctx;
	(void)ms;
	if (s->dead || s->closed || s->passthrough)
		return SP_CONTINUE;
	switch (id) {
	case O2_T_SSRM:
		v = greet(s);
		break;
	case O2_T_SSID:
		snprintf(what, sizeof(what), "no SSID within %llu ms",
		    (unsigned long long)s->ssid_ms);
		v = o2_timeout(s, what);
		break;
	case O2_T_IDLE:
		snprintf(what, sizeof(what), "no octet in either direction for "
		    "%llu ms", (unsigned long long)s->idle_ms);
		v = o2_timeout(s, what);
		break;
	case O2_T_SESSION:
		snprintf(what, sizeof(what), "session longer than %llu ms",
		    (unsigned long long)s->max_ms);
		v = o2_timeout(s, what);
		break;
	default:
		break;
	}
	return v;
}

/*
 * The core ends a session the module did not end (a leg lost, the proxy
 * stopping, its own backstop timers): which ESID the sides still there get
 * instead of a bare close (docs/oftp2-module.md §1, "How a session ends").
 * 0: none, the reason is
 * another module's policy (it says its own last word) or not known here.
 */
static unsigned
last_word(const char *reason, bool to[2])
{
	static const char *const inside_lost[] = { "inside_closed",
		"inside_unreachable", "inside_timeout", "no_client", NULL };
	static const char *const any_lost[] = { "io_error", "overflow",
		"internal", NULL };
	size_t i;

	to[O2_OUT] = to[O2_IN] = true;
	if (reason == NULL)
		return 0;
	/* The server stops without waiting for this session (drain over, or a
	 * second SIGTERM): both sides hear why. */
	if (strcmp(reason, "shutdown") == 0)
		return OFTP2_ESID_EMERGENCY;
	if (strcmp(reason, "idle_timeout") == 0 || strcmp(reason, "session_max") == 0)
		return OFTP2_ESID_TIMEOUT;
	for (i = 0; inside_lost[i] != NULL; i++)
		if (strcmp(reason, inside_lost[i]) == 0) {
			to[O2_IN] = false;
			return OFTP2_ESID_NO_RESOURCES;
		}
	if (strcmp(reason, "outside_closed") == 0) {
		to[O2_OUT] = false;
		return OFTP2_ESID_NO_RESOURCES;
	}
	for (i = 0; any_lost[i] != NULL; i++)
		if (strcmp(reason, any_lost[i]) == 0)
			return OFTP2_ESID_NO_RESOURCES;
	return 0;
}

static void
o2_close(void *mctx, struct sp_msess *ms, void *sctx, const struct sp_close *info)
{
	struct o2_sess *s = sctx;
	unsigned esid;
	bool to[2], sent[2] = { false, false };

	(void)mctx;
	(void)ms;
	if (s->mod == NULL)
		return;   /* on_open never ran far enough to set up */
	if (s->file.active && !s->dead) {
		char res[64];
		snprintf(res, sizeof(res), "aborted (session %s)",
		    info != NULL && info->reason != NULL ? info->reason : "ended");
		o2_log_file(s, res);
	}
	/* Legs are still up here: whoever is left hears why (not in detect
	 * mode's passthrough, where the module no longer speaks). */
	if (!s->dead && !s->passthrough && s->phase != PH_END &&
	    (esid = last_word(info != NULL ? info->reason : NULL, to)) != 0) {
		sent[O2_OUT] = to[O2_OUT] && o2_send_esid(s, O2_OUT, esid) == 0;
		sent[O2_IN] = to[O2_IN] && o2_send_esid(s, O2_IN, esid) == 0;
		if (sent[O2_OUT] || sent[O2_IN]) {
			o2_note_end(s, esid, "proxy");
			s->mod->host->log(ms, SP_LEVEL_INFO, "session ended by the "
			    "proxy (%s): ESID %02u to the %s", info->reason, esid,
			    sent[O2_OUT] && sent[O2_IN] ? "partner and the inside" :
			    sent[O2_OUT] ? "partner" : "inside");
		}
		s->phase = PH_END;
	}
	s->closed = true;
	s->dead = true;
	/* The core runs on_close only after every hook of ours returned
	 * (module.h): nothing of ours is on the stack any more. */
	release(s);
}

__attribute__((visibility("default")))
const struct sp_module sp_module_v1 = {
	SP_MODULE_HEADER,
	.name = "oftp2",
	.version = "1.0",
	.flags = SP_MODULE_F_GATES_INSIDE,
	.session_ctx_size = sizeof(struct o2_sess),
	.init = o2_init,
	.fini = o2_fini,
	.config_parse = o2_config_parse,
	.config_free = o2_config_free,
	.on_open = o2_open,
	.on_tls = o2_tls,
	.on_data = o2_data,
	.on_delivered = o2_delivered,
	.on_timer = o2_timer,
	.on_close = o2_close,
};
