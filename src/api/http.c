/*
 * http.c - the HTTPS front of smartproxy-api: libmicrohttpd on GnuTLS,
 * connection limits (all, per address) and deadlines (guard.c), request
 * bodies collected up to SP_API_MAX_BODY (a larger declared length is
 * refused at once), bearer-token and role check (surface.h), and dispatch
 * through the route table (handlers.c). Every error leaves as the
 * JSON error document of docs/api.md section 2.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/panel.h"
#include "core/err.h"
#include "core/log.h"
#include "core/tls.h"

void
api_error(struct api_reply *out, unsigned status, const char *code,
    const char *fmt, ...)
{
	json_object *e, *o;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_put(out->body);
	out->status = status;
	out->body = NULL;
	if ((o = json_object_new_object()) == NULL ||
	    (e = json_object_new_object()) == NULL) {
		json_object_put(o);
		return;
	}
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	out->body = o;
}

/* Does `path` match `pattern`? The "*" segment is copied into arg. */
static int
match(const char *pattern, const char *path, char *arg, size_t argsz)
{
	size_t n;

	arg[0] = '\0';
	while (*pattern != '\0') {
		if (*pattern == '*') {
			n = strcspn(path, "/");
			if (n == 0 || n >= argsz)
				return 0;
			memcpy(arg, path, n);
			arg[n] = '\0';
			path += n;
			pattern++;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *path == '\0';
}

static enum MHD_Result
send_reply(struct MHD_Connection *c, struct api_reply *rp)
{
	struct MHD_Response *resp;
	const char *text = "";
	enum MHD_Result ret;

	if (rp->raw != NULL)
		text = rp->raw;
	else if (rp->body != NULL)
		text = json_object_to_json_string_ext(rp->body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_MUST_COPY);
	json_object_put(rp->body);
	rp->body = NULL;
	free(rp->raw);
	rp->raw = NULL;
	if (resp == NULL)
		return MHD_NO;
	if (rp->status != MHD_HTTP_NOT_MODIFIED && rp->status != 204)
		MHD_add_response_header(resp, "Content-Type",
		    rp->ctype ? rp->ctype : "application/json");
	if (rp->cookie[0] != '\0')
		MHD_add_response_header(resp, "Set-Cookie", rp->cookie);
	if (rp->retry_after > 0) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%u", rp->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	/* The panel's pages load nothing from another host and run no
	 * inline script; the JSON answers get the same headers for free. */
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'self'; script-src 'self'; style-src 'self'; "
	    "img-src 'self'; connect-src 'self'; object-src 'none'; "
	    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (rp->etag[0] != '\0')
		MHD_add_response_header(resp, "ETag", rp->etag);
	if (rp->allow[0] != '\0')
		MHD_add_response_header(resp, "Allow", rp->allow);
	if (rp->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, rp->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* 403 naming the token's role, also as a member for programs. */
static void
forbidden(struct api_reply *rp, const char *who, enum sp_role role,
    const char *method, const char *pattern)
{
	json_object *e;

	api_error(rp, MHD_HTTP_FORBIDDEN, "forbidden", "%s '%s' has role "
	    "'%s', which may not %s %s", strncmp(who, "panel:", 6) == 0 ?
	    "user" : "token", strncmp(who, "panel:", 6) == 0 ? who + 6 : who,
	    sp_role_name(role), method, pattern);
	if (rp->body != NULL && json_object_object_get_ex(rp->body, "error", &e))
		json_object_object_add(e, "role",
		    json_object_new_string(sp_role_name(role)));
}

static void
dispatch(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *method, const char *url, struct api_reply *rp)
{
	const struct api_route *rt, *hit = NULL;
	const struct sp_api_token *tok;
	char arg[128], allow[64] = "";
	const char *auth;
	int path_known = 0, r = 0;

	for (rt = api_routes; rt->pattern != NULL; rt++) {
		if (!match(rt->pattern, url, arg, sizeof(arg)))
			continue;
		path_known = 1;
		if (strlen(allow) + strlen(rt->method) + 3 < sizeof(allow)) {
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, rt->method);
		}
		if (strcmp(rt->method, method) == 0 && hit == NULL)
			hit = rt;
	}
	if (hit == NULL) {
		if (path_known) {
			api_error(rp, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method_not_allowed", "%s is not allowed here", method);
			snprintf(rp->allow, sizeof(rp->allow), "%s", allow);
		} else
			api_error(rp, MHD_HTTP_NOT_FOUND, "not_found",
			    "no such endpoint");
		return;
	}
	match(hit->pattern, url, arg, sizeof(arg));
	if (hit->auth) {
		auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_AUTHORIZATION);
		/* Without a token, a panel login may stand in for one. */
		if (auth == NULL &&
		    (r = api_panel_auth(a, c, method, rq, rp)) < 0)
			return;
		if (r == 0) {
			/* Tokens may be swapped by a SIGHUP reload meanwhile. */
			pthread_mutex_lock(&a->tokmu);
			tok = sp_api_tokens_check(&a->tokens, auth);
			pthread_mutex_unlock(&a->tokmu);
			if (tok == NULL) {
				api_error(rp, MHD_HTTP_UNAUTHORIZED,
				    "unauthorized", "missing or invalid bearer "
				    "token");
				return;
			}
			rq->token = tok->name;
			rq->role = tok->role;
		}
		/* The table in surface.c, not the handler, decides: an
		 * endpoint nobody listed there is admin-only. */
		if (!sp_surface_allows(rq->role, method, hit->pattern + 1)) {
			forbidden(rp, rq->token, rq->role, method, hit->pattern);
			return;
		}
	}
	if (rq->too_large) {
		api_error(rp, 413, "too_large",
		    "request body over %d bytes", SP_API_MAX_BODY);
		return;
	}
	hit->fn(a, c, rq, arg, rp);
}

/* Does the request declare a Content-Length over SP_API_MAX_BODY? */
static bool
declared_too_large(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n = 0;

	if (v == NULL)
		return false;
	for (; *v >= '0' && *v <= '9'; v++) {
		n = n * 10 + (unsigned)(*v - '0');
		if (n > SP_API_MAX_BODY)
			return true;
	}
	return false;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *rq = *con_cls;
	struct api_reply rp = { .status = 500 };

	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		sp_buf_init(&rq->body, SP_API_MAX_BODY);
		*con_cls = rq;
		/* A declared length over the bound is refused before a byte
		 * of the body is read (the connection then closes). */
		if (declared_too_large(c)) {
			api_error(&rp, 413, "too_large", "request body over %d "
			    "bytes", SP_API_MAX_BODY);
			api_guard_set(a, c, API_GUARD_NONE);
			sp_log(SP_LOG_INFO, "api", "%s %s -> 413 (declared "
			    "length)", method, url);
			return send_reply(c, &rp);
		}
		api_guard_set(a, c, API_GUARD_BODY);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!rq->too_large &&
		    sp_buf_put(&rq->body, upload_data, *upload_data_size) != 0) {
			rq->too_large = true;
			sp_buf_free(&rq->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	api_guard_set(a, c, API_GUARD_NONE);
	dispatch(a, c, rq, method, url, &rp);
	sp_log(rp.status >= 500 ? SP_LOG_ERR : SP_LOG_INFO, "api",
	    "%s %s -> %u%s%s", method, url, rp.status,
	    rq->token ? " token=" : "", rq->token ? rq->token : "");
	return send_reply(c, &rp);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api_req *rq = *con_cls;

	if (rq != NULL) {
		sp_buf_free(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
	/* Keep-alive: the next request's headers have their own deadline. */
	api_guard_set(cls, c, API_GUARD_HEADERS);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	sp_log(SP_LOG_NOTICE, "api", "libmicrohttpd: %s", msg);
}

int
api_http_start(struct api *a, int fd, const char *cert_pem,
    const char *key_pem, char *err, size_t errlen)
{
	const struct sp_api_limits *l = &a->conf->limits;

	a->mhd = MHD_start_daemon(MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	    MHD_USE_POLL, 0, NULL, NULL, on_request, a,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, key_pem,
	    MHD_OPTION_HTTPS_PRIORITIES, SP_TLS_PRIORITY,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)l->max_connections,
	    /* Below the global one, so one address cannot take them all. */
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)l->per_address,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)l->idle_timeout,
	    MHD_OPTION_NOTIFY_CONNECTION, api_guard_notify, a,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
	    MHD_OPTION_END);
	if (a->mhd == NULL) {
		snprintf(err, errlen, "cannot start the HTTPS server (bad "
		    "certificate or key?)");
		return SP_ERR_TLS;
	}
	return SP_OK;
}

void
api_http_stop(struct api *a)
{
	if (a->mhd != NULL) {
		MHD_stop_daemon(a->mhd);
		a->mhd = NULL;
	}
}
