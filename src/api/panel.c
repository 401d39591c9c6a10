/*
 * panel.c - logins, logouts and the cookie check with its CSRF token of the
 * admin panel (panel.h). The table of logins is panel_sessions.c, the
 * brake login_brake.c, the files panel_files.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "api/ops.h"
#include "api/login_brake.h"
#include "api/panel.h"
#include "api/panel_sessions.h"
#include "api/pwhash.h"
#include "api/users.h"
#include "core/err.h"
#include "core/log.h"

#ifndef SP_PANEL_DIR
#define SP_PANEL_DIR "/usr/local/share/smartproxy/panel"
#endif

/* A login ends after this long whatever it does. */
#define SESSION_MAX_AGE (12 * 3600)

struct api_panel {
	pthread_mutex_t mu;
	struct sp_panel_sessions sess;  /* CLOCK_MONOTONIC seconds */
	struct sp_login_brake brake;
	struct api_panel_files *files;  /* panel_files.c */
	unsigned idle;
	/* A hash of a random password: unknown users cost one PBKDF2 too, so
	 * the time of a refusal does not tell which names exist. */
	char dummy[SP_PWHASH_TEXT_MAX];
};

static time_t
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int
api_panel_start(struct api *a, char *err, size_t errlen)
{
	const char *dir = a->conf->panel.directory ?
	    a->conf->panel.directory : SP_PANEL_DIR;
	struct api_panel *p;
	uint8_t rnd[32];
	char hex[65];
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return SP_ERR_NOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	p->idle = (unsigned)a->conf->panel.idle_timeout;
	p->sess.idle = p->idle;
	p->sess.max_age = SESSION_MAX_AGE;
	a->panel = p;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, rnd, sizeof(rnd)) != 0) {
		snprintf(err, errlen, "no random numbers");
		return SP_ERR_TLS;
	}
	sp_hex_encode(rnd, sizeof(rnd), hex);
	if ((r = sp_pwhash_make(hex, 64, a->pbkdf2_iterations, p->dummy,
	    sizeof(p->dummy))) != 0) {
		snprintf(err, errlen, "panel: cannot hash: %s", sp_strerror(r));
		return r;
	}
	if ((p->files = api_panel_files_load(dir)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return SP_ERR_NOMEM;
	}
	return SP_OK;
}

const struct api_panel_files *
api_panel_files(const struct api *a)
{
	return a->panel != NULL ? a->panel->files : NULL;
}

void
api_panel_stop(struct api *a)
{
	struct api_panel *p = a->panel;

	if (p == NULL)
		return;
	api_panel_files_free(p->files);
	explicit_bzero(&p->sess, sizeof(p->sess));
	pthread_mutex_destroy(&p->mu);
	free(p);
	a->panel = NULL;
}

/* ---- helpers ---- */

static void
client_address(struct MHD_Connection *c, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, outlen, "?");
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, out, (socklen_t)outlen);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, out, (socklen_t)outlen);
}

/* The login of the request's cookie (p->mu held), or NULL. */
static struct sp_panel_session *
find_session(struct api_panel *p, struct MHD_Connection *c, bool *had_cookie)
{
	const char *hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_COOKIE);
	struct sp_panel_session *s;
	char sid[SP_PANEL_SID_LEN + 2];
	int r;

	*had_cookie = false;
	if ((r = sp_panel_cookie(hdr, SP_PANEL_COOKIE, sid, sizeof(sid))) ==
	    SP_ERR_NOT_FOUND)
		return NULL;
	*had_cookie = true;
	s = r == 0 ? sp_panel_session_find(&p->sess, sid, now_mono()) : NULL;
	explicit_bzero(sid, sizeof(sid));
	return s;
}

/* Does the request carry the session's CSRF token, and (when the browser
 * names one) come from our own origin? */
static bool
csrf_ok(struct MHD_Connection *c, const struct sp_panel_session *s)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-CSRF-Token");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	char want[300];

	if (origin != NULL) {
		snprintf(want, sizeof(want), "https://%s", host ? host : "");
		if (host == NULL || strcmp(origin, want) != 0)
			return false;
	}
	return sp_panel_session_csrf_ok(s, tok);
}

static bool
changes(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

int
api_panel_auth(struct api *a, struct MHD_Connection *c, const char *method,
    struct api_req *rq, struct api_reply *rp)
{
	struct api_panel *p = a->panel;
	struct sp_panel_session *s;
	char addr[64];
	bool had;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->mu);
	s = find_session(p, c, &had);
	if (s == NULL) {
		pthread_mutex_unlock(&p->mu);
		if (!had)
			return 0;
		api_error(rp, 401, "unauthorized", "not logged in (or the "
		    "login expired)");
		return -1;
	}
	if (changes(method) && !csrf_ok(c, s)) {
		snprintf(rq->who, sizeof(rq->who), "panel:%s", s->user);
		pthread_mutex_unlock(&p->mu);
		client_address(c, addr, sizeof(addr));
		sp_log(SP_LOG_WARN, "security", "panel_csrf_refused %s by %s "
		    "from %s: no valid CSRF token or a foreign Origin "
		    "event=panel_csrf_refused src=%s", method, rq->who, addr,
		    addr);
		rq->token = rq->who;
		api_error(rp, 403, "csrf", "a change through the panel needs "
		    "the session's X-CSRF-Token from the panel's own origin");
		return -1;
	}
	snprintf(rq->who, sizeof(rq->who), "panel:%s", s->user);
	rq->role = s->role;
	rq->token = rq->who;
	pthread_mutex_unlock(&p->mu);
	return 1;
}

/* ---- endpoints ---- */

static json_object *
session_doc(const struct api_panel *p, const struct sp_panel_session *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "user", json_object_new_string(s->user));
	json_object_object_add(o, "role",
	    json_object_new_string(sp_role_name(s->role)));
	json_object_object_add(o, "csrf", json_object_new_string(s->csrf));
	json_object_object_add(o, "idle_timeout",
	    json_object_new_int((int)p->idle));
	return o;
}

void
api_h_panel_login(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	struct api_panel *p = a->panel;
	struct sp_panel_session *s;
	const char *user, *pw;
	char err[160], hash[SP_PWHASH_TEXT_MAX], addr[64];
	char ka[SP_LOGIN_KEY_MAX], ku[SP_LOGIN_KEY_MAX];
	char sid[SP_PANEL_SID_LEN + 1];
	enum sp_role role = 0;
	json_object *o;
	unsigned wait;
	time_t now;
	int r, found;

	if ((o = body_object(c, rq, out)) == NULL)
		return;
	if (body_verdict(sp_panel_login_body(o, &user, &pw, err, sizeof(err)),
	    err, out) != 0)
		goto done;
	client_address(c, addr, sizeof(addr));
	snprintf(ka, sizeof(ka), "a:%s", addr);
	snprintf(ku, sizeof(ku), "u:%s", user);
	now = now_mono();
	pthread_mutex_lock(&p->mu);
	wait = sp_login_brake_wait(&p->brake, ka, now);
	if (wait == 0)
		wait = sp_login_brake_wait(&p->brake, ku, now);
	pthread_mutex_unlock(&p->mu);
	if (wait > 0) {
		sp_log(SP_LOG_WARN, "security", "panel_login_braked user %s from "
		    "%s: too many failed logins, next try in %u s "
		    "event=panel_login_braked src=%s", user, addr, wait, addr);
		api_error(out, 429, "too_many_requests", "too many failed "
		    "logins: try again in %u seconds", wait);
		out->retry_after = wait;
		goto done;
	}
	pthread_mutex_lock(&a->dbmu);
	r = sp_store_user_get(a->st, user, &role, hash, sizeof(hash));
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0 && r != SP_ERR_NOT_FOUND) {
		internal(out, "panel user", r);
		goto done;
	}
	found = r == 0;
	/* Outside every lock: a PBKDF2 takes a while. */
	r = sp_pwhash_verify(pw, strlen(pw), found ? hash : p->dummy);
	pthread_mutex_lock(&p->mu);
	if (r != 0 || !found) {
		sp_login_brake_fail(&p->brake, ka, now);
		sp_login_brake_fail(&p->brake, ku, now);
		pthread_mutex_unlock(&p->mu);
		sp_log(SP_LOG_WARN, "security", "panel_login_failed user %s from "
		    "%s: %s event=panel_login_failed src=%s", user, addr,
		    found ? "wrong password" : "no such user", addr);
		api_error(out, 401, "unauthorized", "wrong user or password");
		goto done;
	}
	sp_login_brake_clear(&p->brake, ka, now);
	sp_login_brake_clear(&p->brake, ku, now);
	if ((r = sp_panel_session_new(&p->sess, user, role, now_mono(),
	    sid, &s)) != 0) {
		pthread_mutex_unlock(&p->mu);
		internal(out, "panel session", r);
		goto done;
	}
	out->body = session_doc(p, s);
	pthread_mutex_unlock(&p->mu);
	/* No Max-Age: the browser forgets it when it closes; the api
	 * forgets it after idle_timeout. */
	snprintf(out->cookie, sizeof(out->cookie), "%s=%s; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict", SP_PANEL_COOKIE, sid);
	explicit_bzero(sid, sizeof(sid));
	out->status = 200;
	/* Only now is the request alice's (the request log names it). */
	snprintf(rq->who, sizeof(rq->who), "panel:%s", user);
	rq->token = rq->who;
	sp_log(SP_LOG_NOTICE, "api", "panel: %s logged in from %s (role %s)",
	    user, addr, sp_role_name(role));
done:
	explicit_bzero(hash, sizeof(hash));
	json_object_put(o);
}

void
api_h_panel_logout(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	struct api_panel *p = a->panel;
	struct sp_panel_session *s;
	bool had;

	pthread_mutex_lock(&p->mu);
	s = find_session(p, c, &had);
	if (s != NULL && !csrf_ok(c, s)) {
		pthread_mutex_unlock(&p->mu);
		api_error(out, 403, "csrf", "logging out needs the session's "
		    "X-CSRF-Token");
		return;
	}
	if (s != NULL) {
		snprintf(rq->who, sizeof(rq->who), "panel:%s", s->user);
		rq->token = rq->who;
		sp_log(SP_LOG_NOTICE, "api", "panel: %s logged out", s->user);
		sp_panel_session_end(s);
	}
	pthread_mutex_unlock(&p->mu);
	snprintf(out->cookie, sizeof(out->cookie), "%s=; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=0", SP_PANEL_COOKIE);
	out->status = 204;
}

void
api_h_panel_session(struct api *a, struct MHD_Connection *c,
    struct api_req *rq, const char *arg, struct api_reply *out)
{
	struct api_panel *p = a->panel;
	struct sp_panel_session *s;
	bool had;

	pthread_mutex_lock(&p->mu);
	if ((s = find_session(p, c, &had)) == NULL) {
		pthread_mutex_unlock(&p->mu);
		api_error(out, 401, "unauthorized", "not logged in");
		return;
	}
	snprintf(rq->who, sizeof(rq->who), "panel:%s", s->user);
	rq->token = rq->who;
	out->body = session_doc(p, s);
	out->status = 200;
	pthread_mutex_unlock(&p->mu);
}
