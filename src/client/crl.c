/*
 * crl.c - smartproxy-client keeps the CRLs of the configuration's CA bundles
 * current: it fetches each from its distribution points (tls.crl_urls from
 * the backend, and the CRL distribution points named in the bundle's own
 * certificates) over HTTP or HTTPS, every `crl.refresh` seconds and again
 * before the CRL's nextUpdate, checks that a CA of the bundle signed it, and
 * posts it to the backend (POST v1/crls, the client's own request), which
 * keeps the newest and serves it in the next revision. The DMZ never fetches
 * anything: the server gets CRLs only inside the configuration.
 *
 * It also watches the CRLs the configuration carries: one past its
 * nextUpdate raises the event `crl_expired` (POST v1/events) once per CRL.
 *
 * Ownership: struct crl_fetch belongs to the client (cl->crl), made by
 * crl_start() and freed by crl_stop(), which aborts fetches in flight. Each
 * source owns its copy of the bundle, its URL and its curl handle.
 */
#include "client/client.h"
#include "core/crl.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CRL_BODY_MAX (1024 * 1024)
#define CRL_SOURCES_MAX 256
#define CRL_REPORTED_MAX 256
#define CRL_TICK_MAX_S 60u

/* One distribution point of one CA bundle. */
struct crl_src {
	struct crl_src *next;
	char bundle_id[65];
	char *ca_pem;
	char *url;
	time_t due;                /* wall clock of the next fetch */
	unsigned failures;
	CURL *easy;                /* a fetch in flight, or NULL */
	struct sp_buf body;
	char *posted;              /* the last CRL (PEM) handed to the backend */
	bool seen;
};

struct crl_fetch {
	struct client *cl;
	struct crl_src *srcs;
	size_t nsrcs;
	struct sp_timer timer;
	unsigned refresh_s;
	char *reported[CRL_REPORTED_MAX]; /* "bundle issuer nextUpdate" evented */
	size_t nreported;
};

static void
src_free(struct crl_fetch *f, struct crl_src *s)
{
	if (s->easy != NULL) {
		backend_abort(f->cl, s->easy);
		curl_easy_cleanup(s->easy);
	}
	sp_buf_free(&s->body);
	free(s->ca_pem);
	free(s->url);
	free(s->posted);
	free(s);
}

/* ---- what the configuration names ---- */

static struct crl_src *
src_find(struct crl_fetch *f, const char *id, const char *url)
{
	struct crl_src *s;

	for (s = f->srcs; s != NULL; s = s->next)
		if (strcmp(s->bundle_id, id) == 0 && strcmp(s->url, url) == 0)
			return s;
	return NULL;
}

static void
src_want(struct crl_fetch *f, const char *ca, const char *id, const char *url)
{
	struct crl_src *s;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return;         /* ldap:// and the like: not ours to fetch */
	if ((s = src_find(f, id, url)) != NULL) {
		s->seen = true;
		return;
	}
	if (f->nsrcs >= CRL_SOURCES_MAX) {
		sp_log(SP_LOG_WARN, "crl", "more than %d CRL distribution points: %s ignored",
		    CRL_SOURCES_MAX, url);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->ca_pem = strdup(ca)) == NULL ||
	    (s->url = strdup(url)) == NULL) {
		if (s != NULL) {
			free(s->ca_pem);
			free(s);
		}
		return;
	}
	memcpy(s->bundle_id, id, sizeof(s->bundle_id));
	sp_buf_init(&s->body, CRL_BODY_MAX);
	s->seen = true;
	s->due = 0;             /* now */
	s->next = f->srcs;
	f->srcs = s;
	f->nsrcs++;
	sp_log(SP_LOG_INFO, "crl", "CRL distribution point %s for CA bundle %.16s", url, id);
}

/* The CRL distribution points the bundle's certificates name. */
static void
bundle_cdps(struct crl_fetch *f, const char *ca, const char *id)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)ca, (unsigned)strlen(ca) };
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i, seq, reason, crit;
	char buf[1025];
	size_t len;
	int r;

	if (gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0) < 0)
		return;
	for (i = 0; i < n; i++) {
		for (seq = 0; seq < 8; seq++) {
			len = sizeof(buf) - 1;
			r = gnutls_x509_crt_get_crl_dist_points(crts[i], seq, buf, &len,
			    &reason, &crit);
			if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
				break;
			if (r == GNUTLS_SAN_URI && len < sizeof(buf)) {
				buf[len] = '\0';
				if (strlen(buf) == len)
					src_want(f, ca, id, buf);
			}
		}
		gnutls_x509_crt_deinit(crts[i]);
	}
	gnutls_free(crts);
}

static void
report_expired(struct crl_fetch *f, const char *id, const struct sp_crl_info *ci,
    bool fail_open)
{
	json_object *ev;
	char key[SP_CRL_ISSUER_MAX + 100], when[21], msg[600];
	size_t i;

	sp_crl_time(ci->next_update, when);
	snprintf(key, sizeof(key), "%s %s %s", id, ci->issuer, when);
	for (i = 0; i < f->nreported; i++)
		if (strcmp(f->reported[i], key) == 0)
			return;
	if (f->nreported == CRL_REPORTED_MAX) {
		free(f->reported[0]);
		memmove(f->reported, f->reported + 1, (CRL_REPORTED_MAX - 1) * sizeof(char *));
		f->nreported--;
	}
	if ((f->reported[f->nreported] = strdup(key)) != NULL)
		f->nreported++;
	snprintf(msg, sizeof(msg), "the CRL of %s for CA bundle %.16s is past its nextUpdate "
	    "%s: certificates of that bundle are %s until a current CRL arrives", ci->issuer,
	    id, when, fail_open ? "accepted with a warning (crl_expired fail_open)" :
	    "refused (crl_expired fail_closed)");
	sp_log(SP_LOG_WARN, "crl", "%s", msg);
	if ((ev = json_object_new_object()) == NULL)
		return;
	json_object_object_add(ev, "type", json_object_new_string("crl_expired"));
	json_object_object_add(ev, "severity", json_object_new_string("crit"));
	json_object_object_add(ev, "message", json_object_new_string(msg));
	backend_own_post(f->cl, "v1/events", json_object_to_json_string_ext(ev,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), NULL, NULL);
	json_object_put(ev);
}

/* One tls object of the configuration: sources, and its CRLs' currency. */
static void
tls_seen(struct crl_fetch *f, json_object *tls, bool check_only)
{
	const char *ca, *crl, *policy;
	json_object *urls, *u;
	struct sp_crl_set set;
	char id[65], err[160];
	time_t now = time(NULL);
	size_t i;

	if (tls == NULL || !json_object_is_type(tls, json_type_object) ||
	    (ca = sp_json_str(tls, "ca_bundle", NULL)) == NULL)
		return;
	if (sp_cert_sha256_der((const unsigned char *)ca, strlen(ca), id) != 0)
		return;
	if (!check_only) {
		urls = sp_json_get(tls, "crl_urls", json_type_array);
		for (i = 0; urls != NULL && i < json_object_array_length(urls); i++) {
			u = json_object_array_get_idx(urls, i);
			if (json_object_is_type(u, json_type_string))
				src_want(f, ca, id, json_object_get_string(u));
		}
		bundle_cdps(f, ca, id);
	}
	if ((crl = sp_json_str(tls, "crl", NULL)) == NULL ||
	    sp_crl_load(ca, crl, &set, err, sizeof(err)) != SP_OK)
		return;
	policy = sp_json_str(tls, "crl_expired", "fail_closed");
	for (i = 0; i < set.n; i++)
		if (sp_crl_expired(&set.info[i], now))
			report_expired(f, id, &set.info[i], strcmp(policy, "fail_open") == 0);
	sp_crl_set_free(&set);
}

static void
walk_config(struct crl_fetch *f, bool check_only)
{
	json_object *cfg = f->cl->config, *a, *o;
	size_t i;

	if (cfg == NULL)
		return;
	if ((a = sp_json_get(cfg, "routes", json_type_array)) != NULL)
		for (i = 0; i < json_object_array_length(a); i++)
			if (json_object_object_get_ex(json_object_array_get_idx(a, i), "tls", &o))
				tls_seen(f, o, check_only);
	if ((o = sp_json_get(cfg, "modules", json_type_object)) != NULL &&
	    (o = sp_json_get(o, "partner", json_type_object)) != NULL &&
	    (a = sp_json_get(o, "partners", json_type_array)) != NULL)
		for (i = 0; i < json_object_array_length(a); i++)
			if (json_object_object_get_ex(json_object_array_get_idx(a, i), "tls", &o))
				tls_seen(f, o, check_only);
}

/* ---- fetching ---- */

static void schedule(struct crl_fetch *f);

static size_t
on_body(char *p, size_t size, size_t nmemb, void *userp)
{
	struct crl_src *s = userp;
	size_t n = size * nmemb;

	return sp_buf_put(&s->body, p, n) == 0 ? n : 0;
}

static void
retry(struct crl_fetch *f, struct crl_src *s)
{
	unsigned ms = client_backoff_ms(s->failures);

	if (s->failures < 16)
		s->failures++;
	if (ms / 1000 > f->refresh_s)
		ms = f->refresh_s * 1000;
	s->due = time(NULL) + (time_t)(ms / 1000 > 0 ? ms / 1000 : 1);
}

static void
stored(struct client *cl, long status, const char *body, void *arg)
{
	char *url = arg;

	(void)cl;
	if (status == 200)
		sp_log(SP_LOG_INFO, "crl", "CRL from %s handed to the backend: %s", url,
		    body != NULL ? body : "");
	else
		sp_log(SP_LOG_WARN, "crl", "the backend did not take the CRL from %s "
		    "(HTTP %ld): %.300s", url, status, body != NULL ? body : "");
	free(url);
}

static void
fetched(struct client *cl, void *easy, int res, void *arg)
{
	struct crl_fetch *f = cl->crl;
	struct crl_src *s = arg;
	struct sp_crl_set set;
	json_object *doc;
	long status = 0;
	char *pem = NULL, *url, err[200], when[21];
	time_t now = time(NULL), nu = -1;
	size_t i;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	s->easy = NULL;
	if (res != CURLE_OK || status != 200) {
		sp_log(SP_LOG_WARN, "crl", "fetching the CRL from %s failed: %s", s->url,
		    res != CURLE_OK ? curl_easy_strerror((CURLcode)res) : "HTTP status not 200");
		retry(f, s);
		goto out;
	}
	/* Distribution points usually serve DER (RFC 5280); PEM is taken too. */
	if (sp_crl_to_pem(sp_buf_ptr(&s->body), sp_buf_len(&s->body), &pem) != SP_OK) {
		sp_log(SP_LOG_WARN, "crl", "%s: not a CRL (PEM or DER)", s->url);
		retry(f, s);
		goto out;
	}
	/* Only a CRL a CA of the bundle signed goes anywhere. */
	if (sp_crl_load(s->ca_pem, pem, &set, err, sizeof(err)) != SP_OK) {
		sp_log(SP_LOG_WARN, "crl", "CRL from %s refused for CA bundle %.16s: %s",
		    s->url, s->bundle_id, err);
		retry(f, s);
		goto out;
	}
	for (i = 0; i < set.n; i++) {
		if (sp_crl_expired(&set.info[i], now)) {
			sp_crl_time(set.info[i].next_update, when);
			sp_log(SP_LOG_WARN, "crl", "CRL from %s (%s) is past its nextUpdate %s "
			    "already", s->url, set.info[i].issuer, when);
		} else if (set.info[i].next_update != -1 &&
		    (nu == -1 || set.info[i].next_update < nu)) {
			nu = set.info[i].next_update;
		}
	}
	sp_crl_set_free(&set);
	s->failures = 0;
	s->due = now + f->refresh_s;
	/* Again before nextUpdate: halfway there, at least a tick away. */
	if (nu != -1 && nu - now < (time_t)f->refresh_s) {
		time_t half = (nu - now) / 2, floor = f->refresh_s < CRL_TICK_MAX_S ?
		    f->refresh_s : CRL_TICK_MAX_S;
		s->due = now + (half > floor ? half : floor);
	}
	if (s->posted != NULL && strcmp(s->posted, pem) == 0) {
		sp_log(SP_LOG_DEBUG, "crl", "CRL from %s unchanged", s->url);
		goto out;
	}
	if ((doc = json_object_new_object()) == NULL || (url = strdup(s->url)) == NULL) {
		json_object_put(doc);
		goto out;
	}
	json_object_object_add(doc, "crl", json_object_new_string(pem));
	json_object_object_add(doc, "source", json_object_new_string(s->url));
	if (backend_own_post(cl, "v1/crls", json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), stored, url) == SP_OK) {
		free(s->posted);
		s->posted = pem;
		pem = NULL;
	} else {
		free(url);
		retry(f, s);
	}
	json_object_put(doc);
out:
	free(pem);
	sp_buf_reset(&s->body);
	schedule(f);
}

static void
fetch(struct crl_fetch *f, struct crl_src *s)
{
	const struct client *cl = f->cl;

	if ((s->easy = curl_easy_init()) == NULL) {
		retry(f, s);
		return;
	}
	sp_buf_reset(&s->body);
	curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
	curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(s->easy, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, (long)cl->conf.backend.timeout);
	curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cl->conf.crl.ca_file != NULL)
		curl_easy_setopt(s->easy, CURLOPT_CAINFO, cl->conf.crl.ca_file);
	curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "smartproxy-client/" PACKAGE_VERSION);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	sp_log(SP_LOG_DEBUG, "crl", "fetching the CRL from %s", s->url);
	if (backend_run(f->cl, s->easy, fetched, s) != SP_OK) {
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
		retry(f, s);
	}
}

/* Start what is due; check the configuration's CRLs; sleep until the next. */
static void
schedule(struct crl_fetch *f)
{
	struct crl_src *s;
	time_t now = time(NULL), next = now + (time_t)(f->refresh_s < CRL_TICK_MAX_S ?
	    f->refresh_s : CRL_TICK_MAX_S);

	for (s = f->srcs; s != NULL; s = s->next) {
		if (s->easy == NULL && s->due <= now)
			fetch(f, s);
		if (s->easy == NULL && s->due < next)
			next = s->due;
	}
	sp_timer_start(f->cl->loop, &f->timer,
	    (uint64_t)(next > now ? next - now : 1) * 1000u);
}

static void
tick(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct crl_fetch *f = arg;

	(void)loop;
	(void)t;
	walk_config(f, true);
	schedule(f);
}

void
crl_config_changed(struct client *cl)
{
	struct crl_fetch *f = cl->crl;
	struct crl_src **pp, *s;

	if (f == NULL)
		return;
	for (s = f->srcs; s != NULL; s = s->next)
		s->seen = false;
	walk_config(f, false);
	for (pp = &f->srcs; (s = *pp) != NULL;) {
		if (s->seen) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		f->nsrcs--;
		sp_log(SP_LOG_INFO, "crl", "CRL distribution point %s no longer configured", s->url);
		src_free(f, s);
	}
	schedule(f);
}

int
crl_start(struct client *cl)
{
	struct crl_fetch *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return SP_ERR_NOMEM;
	f->cl = cl;
	f->refresh_s = cl->conf.crl.refresh > 0 ? (unsigned)cl->conf.crl.refresh : 3600u;
	sp_timer_init(&f->timer, tick, f);
	cl->crl = f;
	return SP_OK;
}

void
crl_stop(struct client *cl)
{
	struct crl_fetch *f = cl->crl;
	struct crl_src *s;
	size_t i;

	if (f == NULL)
		return;
	sp_timer_stop(cl->loop, &f->timer);
	while ((s = f->srcs) != NULL) {
		f->srcs = s->next;
		src_free(f, s);
	}
	for (i = 0; i < f->nreported; i++)
		free(f->reported[i]);
	free(f);
	cl->crl = NULL;
}
