/*
 * backend.c - the client's view of the backend API: long-poll
 * GET /v1/config over HTTPS with libcurl's multi interface driven by our
 * event loop, so a slow backend never blocks the tunnel.
 *
 * The newest revision that parses is kept in cl->config and pushed to the
 * server; a response that does not parse is refused whole and the previous
 * revision stays. Failures are logged with the reason and retried with
 * backoff. See docs/api.md for the contract.
 */
#include "client/client.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_S 25
#define TOKEN_MAX 512

/* A document the server asked us to POST to the backend. */
struct post {
	struct post *next;
	char *path;
	char *body;
	unsigned tries;
};

#define POSTS_MAX 2000
#define ASKS_MAX 32
#define ASK_BODY_MAX (64 * 1024)

/* A question the server put to the backend; answered as soon as it returns. */
struct ask {
	struct ask *next;
	struct backend *be;
	long long id;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	struct sp_buf reply;
};

/* A request of the client's own (CRL fetches and what it posts for them). */
struct job {
	struct job *next;
	CURL *easy;
	backend_job_done *done;
	void *arg;
};

/* A document the client itself posts (backend_own_post): its own token, its
 * own path, one attempt; not the server's queue. */
struct own {
	struct client *cl;
	char *path;
	char *body;
	struct curl_slist *headers;
	struct sp_buf reply;
	backend_own_done *done;
	void *arg;
};

struct backend {
	struct client *cl;
	struct job *jobs;
	CURLM *multi;
	CURL *easy;
	CURL *post_easy;              /* one POST in flight at a time, in order */
	struct curl_slist *post_headers;
	struct post *posts, *posts_tail;
	size_t nposts;
	bool posting;
	unsigned nasks;
	struct ask *asks;             /* in flight */
	struct sp_timer post_retry;
	char post_url[2048];
	char root[1024];              /* backend URL ending in '/' */
	struct curl_slist *headers;
	struct sp_timer curl_timer;
	struct sp_timer retry;
	struct sp_buf body;
	char etag[160];
	char token[TOKEN_MAX];
	char url[2048];
	unsigned failures;
	char errbuf[CURL_ERROR_SIZE];
};

static void fetch(struct backend *be);
static void backend_done(struct backend *be, CURLcode res);
static void post_done(struct backend *be, CURLcode res);
static void post_next(struct backend *be);
static void ask_done(struct backend *be, CURL *easy, CURLcode res);
static bool job_done(struct backend *be, CURL *easy, CURLcode res);

static void
on_fd(struct sp_loop *loop, int fd, unsigned events, void *arg)
{
	struct backend *be = arg;
	int running, flags = 0;
	CURLMsg *m;
	int left;

	if (events & SP_EV_READ)
		flags |= CURL_CSELECT_IN;
	if (events & SP_EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	if (events & SP_EV_ERROR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(be->multi, fd, flags, &running);
	while ((m = curl_multi_info_read(be->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		if (m->easy_handle == be->post_easy)
			post_done(be, m->data.result);
		else if (m->easy_handle == be->easy)
			backend_done(be, m->data.result);
		else if (!job_done(be, m->easy_handle, m->data.result))
			ask_done(be, m->easy_handle, m->data.result);
	}
}

static void
check_done(struct backend *be)
{
	on_fd(be->cl->loop, CURL_SOCKET_TIMEOUT, 0, be);
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct backend *be = userp;
	unsigned ev = 0;

	if (what == CURL_POLL_REMOVE) {
		sp_loop_del(be->cl->loop, s);
		curl_multi_assign(be->multi, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= SP_EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= SP_EV_WRITE;
	if (socketp == NULL) {
		if (sp_loop_add(be->cl->loop, s, ev, on_fd, be) != 0)
			return -1;
		curl_multi_assign(be->multi, s, be);
	} else {
		sp_loop_set(be->cl->loop, s, ev);
	}
	return 0;
}

static void
curl_timer_fire(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	check_done(arg);
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct backend *be = userp;

	if (timeout_ms < 0)
		sp_timer_stop(be->cl->loop, &be->curl_timer);
	else
		sp_timer_start(be->cl->loop, &be->curl_timer, (uint64_t)timeout_ms);
	return 0;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *userp)
{
	struct backend *be = userp;
	size_t n = size * nmemb;

	/* Returning less than n aborts the transfer: the body is too big. */
	return sp_buf_put(&be->body, p, n) == 0 ? n : 0;
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *userp)
{
	return size * nmemb;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *userp)
{
	struct backend *be = userp;
	size_t n = size * nmemb, len;

	if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		const char *v = p + 5;
		while (*v == ' ' || *v == '\t')
			v++;
		len = (size_t)(p + n - v);
		while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len < sizeof(be->etag)) {
			memcpy(be->etag, v, len);
			be->etag[len] = '\0';
		}
	}
	return n;
}

static void
retry_fire(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	fetch(arg);
}

static void
retry_later(struct backend *be)
{
	unsigned ms = client_backoff_ms(be->failures);

	if (be->failures < 16)
		be->failures++;
	sp_timer_start(be->cl->loop, &be->retry, ms);
}

static void
take_config(struct backend *be)
{
	struct client *cl = be->cl;
	json_tokener *tok;
	json_object *doc;
	long long rev;

	tok = json_tokener_new_ex(32);
	doc = tok ? json_tokener_parse_ex(tok, (const char *)sp_buf_ptr(&be->body),
	    (int)sp_buf_len(&be->body)) : NULL;
	if (doc == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(doc, json_type_object) ||
	    sp_json_get(doc, "revision", json_type_int) == NULL) {
		sp_log(SP_LOG_ERR, "config", "backend sent a configuration that is not a JSON object with a revision: refused%s",
		    cl->config ? "; the previous revision stays" : "");
		json_object_put(doc);
		if (tok != NULL)
			json_tokener_free(tok);
		be->etag[0] = '\0';
		retry_later(be);
		return;
	}
	json_tokener_free(tok);
	rev = sp_json_int(doc, "revision", -1);
	if (cl->config != NULL && rev == cl->revision) {
		json_object_put(doc);
	} else {
		json_object_put(cl->config);
		cl->config = doc;
		cl->revision = rev;
		sp_log(SP_LOG_NOTICE, "config", "backend revision %lld received", rev);
		routes_apply(cl, doc);
		crl_config_changed(cl);
		control_config_changed(cl);
	}
	be->failures = 0;
	fetch(be);
}

static void
backend_done(struct backend *be, CURLcode res)
{
	long status = 0;

	curl_easy_getinfo(be->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(be->multi, be->easy);
	if (res != CURLE_OK) {
		sp_log(SP_LOG_WARN, "backend", "GET %s failed: %s", be->url,
		    be->errbuf[0] ? be->errbuf : curl_easy_strerror(res));
		retry_later(be);
		return;
	}
	switch (status) {
	case 200:
		take_config(be);
		break;
	case 304:
		be->failures = 0;
		fetch(be);
		break;
	case 401:
	case 403:
		sp_log(SP_LOG_ERR, "backend", "backend refused our token (HTTP %ld): check backend.token_file (its role must be proxy)",
		    status);
		be->failures = 8;
		retry_later(be);
		break;
	default:
		sp_log(SP_LOG_WARN, "backend", "backend answered HTTP %ld", status);
		retry_later(be);
		break;
	}
}

/* The bearer header (and JSON content type for a body); the token copy on
 * the stack is wiped. */
static struct curl_slist *
auth_headers(const struct backend *be, bool json)
{
	char auth[TOKEN_MAX + 32];
	struct curl_slist *h;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", be->token);
	h = curl_slist_append(NULL, auth);
	explicit_bzero(auth, sizeof(auth));
	if (json && h != NULL)
		h = curl_slist_append(h, "Content-Type: application/json");
	return h;
}

/* What every request to the backend shares: HTTPS only, verified. */
static void
easy_common(const struct backend *be, CURL *easy, long timeout_s)
{
	const struct client *cl = be->cl;

	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cl->conf.backend.ca_file != NULL)
		curl_easy_setopt(easy, CURLOPT_CAINFO, cl->conf.backend.ca_file);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "smartproxy-client/" PACKAGE_VERSION);
}

/* Only API paths: the server in the DMZ must not steer us elsewhere. */
static bool
api_path_ok(const char *path)
{
	return strncmp(path, "v1/", 3) == 0 && strstr(path, "..") == NULL &&
	    strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789/_-") == strlen(path);
}

static void
fetch(struct backend *be)
{
	char inm[sizeof(be->etag) + 20];

	sp_buf_reset(&be->body);
	be->errbuf[0] = '\0';
	curl_slist_free_all(be->headers);
	be->headers = auth_headers(be, false);
	if (be->etag[0] != '\0' && be->cl->config != NULL) {
		snprintf(inm, sizeof(inm), "If-None-Match: %s", be->etag);
		be->headers = curl_slist_append(be->headers, inm);
	}
	curl_easy_setopt(be->easy, CURLOPT_HTTPHEADER, be->headers);
	curl_multi_add_handle(be->multi, be->easy);
}

static void
post_free(struct post *p)
{
	free(p->path);
	free(p->body);
	free(p);
}

static void
post_next(struct backend *be)
{
	struct post *p = be->posts;

	if (be->posting || p == NULL)
		return;
	snprintf(be->post_url, sizeof(be->post_url), "%s%s", be->root, p->path);
	curl_slist_free_all(be->post_headers);
	be->post_headers = auth_headers(be, true);
	curl_easy_setopt(be->post_easy, CURLOPT_URL, be->post_url);
	curl_easy_setopt(be->post_easy, CURLOPT_HTTPHEADER, be->post_headers);
	curl_easy_setopt(be->post_easy, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(be->post_easy, CURLOPT_POSTFIELDSIZE, (long)strlen(p->body));
	be->posting = true;
	curl_multi_add_handle(be->multi, be->post_easy);
}

static void
post_retry_fire(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	post_next(arg);
}

/* Request latency for the metrics; the config long poll waits on purpose
 * and is left out. */
static void
note_latency(struct backend *be, CURL *easy, bool ok)
{
	curl_off_t us = 0;

	if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &us) != CURLE_OK || us < 0)
		us = 0;
	backend_latency_note(be->cl, (uint64_t)us / 1000, ok);
}

static void
post_done(struct backend *be, CURLcode res)
{
	struct post *p = be->posts;
	long status = 0;

	curl_easy_getinfo(be->post_easy, CURLINFO_RESPONSE_CODE, &status);
	note_latency(be, be->post_easy, res == CURLE_OK && status >= 200 && status < 300);
	curl_multi_remove_handle(be->multi, be->post_easy);
	be->posting = false;
	if (p == NULL)
		return;
	if (res == CURLE_OK && status >= 200 && status < 300) {
		sp_log(SP_LOG_DEBUG, "backend", "POST %s -> %ld", p->path, status);
	} else if (res == CURLE_OK && status >= 400 && status < 500 && status != 429) {
		/* The backend will never take this one: retrying cannot help. */
		sp_log(SP_LOG_ERR, "backend", "POST %s refused (HTTP %ld): dropped", p->path, status);
	} else {
		p->tries++;
		sp_log(SP_LOG_WARN, "backend", "POST %s failed (%s); retry %u", p->path,
		    res != CURLE_OK ? curl_easy_strerror(res) : "server error", p->tries);
		sp_timer_start(be->cl->loop, &be->post_retry, client_backoff_ms(p->tries));
		return;
	}
	be->posts = p->next;
	if (be->posts == NULL)
		be->posts_tail = NULL;
	be->nposts--;
	post_free(p);
	post_next(be);
}

size_t
backend_pending(struct client *cl)
{
	return cl->be != NULL ? cl->be->nposts : 0;
}

void
backend_post(struct client *cl, const char *path, const char *body)
{
	struct backend *be = cl->be;
	struct post *p;

	if (be == NULL)
		return;
	if (!api_path_ok(path)) {
		sp_log(SP_LOG_WARN, "backend", "server asked to POST to '%.60s': refused", path);
		return;
	}
	/* Each status report replaces the previous one: while the backend is
	 * away, heartbeats must not pile up in front of events and audits.
	 * The head is left alone while in flight (curl reads its body). */
	if (strcmp(path, "v1/status") == 0) {
		for (p = be->posting && be->posts != NULL ? be->posts->next : be->posts;
		    p != NULL; p = p->next) {
			char *b;

			if (strcmp(p->path, path) != 0 || (b = strdup(body)) == NULL)
				continue;
			free(p->body);
			p->body = b;
			return;
		}
	}
	if (be->nposts >= POSTS_MAX) {
		sp_log(SP_LOG_ERR, "backend", "backend unreachable and %d documents waiting: dropped one for %s",
		    POSTS_MAX, path);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->path = strdup(path)) == NULL ||
	    (p->body = strdup(body)) == NULL) {
		if (p != NULL)
			post_free(p);
		return;
	}
	if (be->posts_tail != NULL)
		be->posts_tail->next = p;
	else
		be->posts = p;
	be->posts_tail = p;
	be->nposts++;
	post_next(be);
}

void
backend_answer(struct client *cl, long long id, long status, const char *body)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "type", json_object_new_string("answer"));
	json_object_object_add(m, "id", json_object_new_int64(id));
	json_object_object_add(m, "status", json_object_new_int((int)status));
	json_object_object_add(m, "body", body ? json_object_new_string(body) : NULL);
	control_send(cl, m);
}

static size_t
on_ask_body(char *p, size_t size, size_t nmemb, void *userp)
{
	struct ask *a = userp;
	size_t n = size * nmemb;

	return sp_buf_put(&a->reply, p, n) == 0 ? n : 0;
}

static void
ask_free(struct ask *a)
{
	struct ask **pp;

	for (pp = &a->be->asks; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	if (a->easy != NULL)
		curl_easy_cleanup(a->easy);
	curl_slist_free_all(a->headers);
	free(a->body);
	sp_buf_free(&a->reply);
	free(a);
}

static void
ask_done(struct backend *be, CURL *easy, CURLcode res)
{
	struct ask *a = NULL;
	long status = -1;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&a);
	curl_multi_remove_handle(be->multi, easy);
	if (a == NULL)
		return;
	be->nasks--;
	if (res == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	note_latency(be, easy, status >= 200 && status < 300);
	if (res == CURLE_OK) {
		/* Answer text for the module: NUL-terminated, bounded. */
		if (sp_buf_put_u8(&a->reply, 0) != 0)
			status = -1;
	} else {
		sp_log(SP_LOG_WARN, "backend", "question %lld to the backend failed: %s", a->id,
		    curl_easy_strerror(res));
	}
	backend_answer(be->cl, a->id, status, status >= 0 ? (const char *)sp_buf_ptr(&a->reply) : NULL);
	ask_free(a);
}

void
backend_ask(struct client *cl, long long id, const char *path, const char *body)
{
	struct backend *be = cl->be;
	struct ask *a;
	char url[2048];

	if (be == NULL || be->nasks >= ASKS_MAX || !api_path_ok(path) ||
	    (a = calloc(1, sizeof(*a))) == NULL) {
		backend_answer(cl, id, -1, NULL);
		return;
	}
	a->be = be;
	a->id = id;
	sp_buf_init(&a->reply, ASK_BODY_MAX);
	snprintf(url, sizeof(url), "%s%s", be->root, path);
	if ((a->body = strdup(body)) == NULL || (a->easy = curl_easy_init()) == NULL) {
		ask_free(a);
		backend_answer(cl, id, -1, NULL);
		return;
	}
	a->headers = auth_headers(be, true);
	easy_common(be, a->easy, (long)cl->conf.backend.timeout);
	curl_easy_setopt(a->easy, CURLOPT_URL, url);
	curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, a->headers);
	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, a->body);
	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(a->body));
	curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, on_ask_body);
	curl_easy_setopt(a->easy, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(a->easy, CURLOPT_PRIVATE, a);
	be->nasks++;
	a->next = be->asks;
	be->asks = a;
	curl_multi_add_handle(be->multi, a->easy);
}

/* ---- the client's own requests ---- */

static struct job *
job_take(struct backend *be, CURL *easy)
{
	struct job **pp, *j;

	for (pp = &be->jobs; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->easy == easy) {
			j = *pp;
			*pp = j->next;
			return j;
		}
	}
	return NULL;
}

static bool
job_done(struct backend *be, CURL *easy, CURLcode res)
{
	struct job *j = job_take(be, easy);

	if (j == NULL)
		return false;
	curl_multi_remove_handle(be->multi, easy);
	j->done(be->cl, easy, (int)res, j->arg);
	free(j);
	return true;
}

int
backend_run(struct client *cl, void *easy, backend_job_done *done, void *arg)
{
	struct backend *be = cl->be;
	struct job *j;

	if (be == NULL || (j = calloc(1, sizeof(*j))) == NULL)
		return SP_ERR_NOMEM;
	j->easy = easy;
	j->done = done;
	j->arg = arg;
	j->next = be->jobs;
	be->jobs = j;
	if (curl_multi_add_handle(be->multi, easy) != CURLM_OK) {
		be->jobs = j->next;
		free(j);
		return SP_ERR_SYSTEM;
	}
	return SP_OK;
}

void
backend_abort(struct client *cl, void *easy)
{
	struct backend *be = cl->be;
	struct job *j;

	if (be != NULL && (j = job_take(be, easy)) != NULL) {
		curl_multi_remove_handle(be->multi, easy);
		free(j);
	}
}

static size_t
on_own_body(char *p, size_t size, size_t nmemb, void *userp)
{
	struct own *o = userp;
	size_t n = size * nmemb;

	return sp_buf_put(&o->reply, p, n) == 0 ? n : 0;
}

static void
own_free(struct own *o)
{
	curl_slist_free_all(o->headers);
	free(o->path);
	free(o->body);
	sp_buf_free(&o->reply);
	free(o);
}

static void
own_done(struct client *cl, void *easy, int res, void *arg)
{
	struct own *o = arg;
	long status = -1;

	if (res == CURLE_OK) {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		if (sp_buf_put_u8(&o->reply, 0) != 0)
			status = -1;
	} else {
		sp_log(SP_LOG_WARN, "backend", "POST %s failed: %s", o->path,
		    curl_easy_strerror((CURLcode)res));
	}
	curl_easy_cleanup(easy);
	if (o->done != NULL)
		o->done(cl, status, status >= 0 ? (const char *)sp_buf_ptr(&o->reply) : NULL,
		    o->arg);
	own_free(o);
}

int
backend_own_post(struct client *cl, const char *path, const char *json,
    backend_own_done *done, void *arg)
{
	struct backend *be = cl->be;
	struct own *o;
	CURL *easy = NULL;
	char url[2048];

	if (be == NULL || !api_path_ok(path) || (o = calloc(1, sizeof(*o))) == NULL)
		return SP_ERR_INVALID;
	o->cl = cl;
	o->done = done;
	o->arg = arg;
	sp_buf_init(&o->reply, ASK_BODY_MAX);
	if ((o->path = strdup(path)) == NULL || (o->body = strdup(json)) == NULL ||
	    (o->headers = auth_headers(be, true)) == NULL ||
	    (easy = curl_easy_init()) == NULL) {
		own_free(o);
		return SP_ERR_NOMEM;
	}
	snprintf(url, sizeof(url), "%s%s", be->root, path);
	easy_common(be, easy, (long)cl->conf.backend.timeout);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, o->headers);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, o->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(o->body));
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_own_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, o);
	if (backend_run(cl, easy, own_done, o) != SP_OK) {
		curl_easy_cleanup(easy);
		own_free(o);
		return SP_ERR_NOMEM;
	}
	return SP_OK;
}

static int
read_token(const char *path, char *out, size_t n, char *err, size_t errlen)
{
	int fd;
	ssize_t got;
	size_t len;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "backend.token_file %s: %s", path, strerror(errno));
		return SP_ERR_CONFIG;
	}
	got = read(fd, out, n - 1);
	close(fd);
	if (got <= 0) {
		snprintf(err, errlen, "backend.token_file %s: empty", path);
		return SP_ERR_CONFIG;
	}
	out[got] = '\0';
	len = strcspn(out, "\r\n");
	out[len] = '\0';
	if (len == 0 || strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=") != len) {
		snprintf(err, errlen, "backend.token_file %s: not a bearer token", path);
		return SP_ERR_CONFIG;
	}
	return SP_OK;
}

int
backend_reload_token(struct client *cl, char *err, size_t errlen)
{
	struct backend *be = cl->be;
	char tok[TOKEN_MAX];
	int r;

	if (be == NULL)
		return SP_ERR_INVALID;
	if ((r = read_token(cl->conf.backend.token_file, tok, sizeof(tok), err, errlen)) == 0)
		memcpy(be->token, tok, sizeof(tok));
	explicit_bzero(tok, sizeof(tok));
	return r;
}

int
backend_start(struct client *cl, char *err, size_t errlen)
{
	struct backend *be;
	const char *url = cl->conf.backend.url;
	size_t ul = strlen(url);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return SP_ERR_SYSTEM;
	if ((be = calloc(1, sizeof(*be))) == NULL)
		return SP_ERR_NOMEM;
	be->cl = cl;
	cl->be = be;
	sp_buf_init(&be->body, SP_TMSG_MAX);
	sp_timer_init(&be->curl_timer, curl_timer_fire, be);
	sp_timer_init(&be->retry, retry_fire, be);
	if (read_token(cl->conf.backend.token_file, be->token, sizeof(be->token), err, errlen) != 0)
		return SP_ERR_CONFIG;
	if (ul + 2 > sizeof(be->root)) {
		snprintf(err, errlen, "backend.url: longer than %zu characters", sizeof(be->root) - 2);
		return SP_ERR_CONFIG;
	}
	snprintf(be->root, sizeof(be->root), "%s%s", url, ul > 0 && url[ul - 1] == '/' ? "" : "/");
	snprintf(be->url, sizeof(be->url), "%sv1/config?wait=%d", be->root, WAIT_S);
	sp_timer_init(&be->post_retry, post_retry_fire, be);
	if ((be->multi = curl_multi_init()) == NULL || (be->easy = curl_easy_init()) == NULL ||
	    (be->post_easy = curl_easy_init()) == NULL)
		return SP_ERR_NOMEM;
	curl_multi_setopt(be->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(be->multi, CURLMOPT_SOCKETDATA, be);
	curl_multi_setopt(be->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(be->multi, CURLMOPT_TIMERDATA, be);
	easy_common(be, be->easy, (long)(WAIT_S + cl->conf.backend.timeout));
	curl_easy_setopt(be->easy, CURLOPT_URL, be->url);
	curl_easy_setopt(be->easy, CURLOPT_CONNECTTIMEOUT, (long)cl->conf.backend.timeout);
	curl_easy_setopt(be->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(be->easy, CURLOPT_WRITEDATA, be);
	curl_easy_setopt(be->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(be->easy, CURLOPT_HEADERDATA, be);
	curl_easy_setopt(be->easy, CURLOPT_ERRORBUFFER, be->errbuf);
	easy_common(be, be->post_easy, (long)cl->conf.backend.timeout);
	curl_easy_setopt(be->post_easy, CURLOPT_WRITEFUNCTION, discard);
	fetch(be);
	return SP_OK;
}

void
backend_stop(struct client *cl)
{
	struct backend *be = cl->be;

	if (be == NULL)
		return;
	sp_timer_stop(cl->loop, &be->curl_timer);
	sp_timer_stop(cl->loop, &be->retry);
	sp_timer_stop(cl->loop, &be->post_retry);
	if (be->nposts > 0)
		sp_log(SP_LOG_WARN, "backend", "stopping with %zu document(s) not delivered to the backend",
		    be->nposts);
	while (be->posts != NULL) {
		struct post *p = be->posts;
		be->posts = p->next;
		post_free(p);
	}
	while (be->asks != NULL) {
		curl_multi_remove_handle(be->multi, be->asks->easy);
		ask_free(be->asks);
	}
	/* Owners of jobs stopped first (crl_stop); what is left is our own. */
	while (be->jobs != NULL) {
		struct job *j = be->jobs;

		be->jobs = j->next;
		curl_multi_remove_handle(be->multi, j->easy);
		if (j->done == own_done) {
			curl_easy_cleanup(j->easy);
			own_free(j->arg);
		}
		free(j);
	}
	if (be->multi != NULL && be->easy != NULL)
		curl_multi_remove_handle(be->multi, be->easy);
	if (be->multi != NULL && be->post_easy != NULL)
		curl_multi_remove_handle(be->multi, be->post_easy);
	if (be->easy != NULL)
		curl_easy_cleanup(be->easy);
	if (be->post_easy != NULL)
		curl_easy_cleanup(be->post_easy);
	curl_slist_free_all(be->post_headers);
	if (be->multi != NULL)
		curl_multi_cleanup(be->multi);
	curl_slist_free_all(be->headers);
	sp_buf_free(&be->body);
	explicit_bzero(be->token, sizeof(be->token));
	free(be);
	cl->be = NULL;
	curl_global_cleanup();
}
