/*
 * http.c - smartproxyctl's one HTTPS request (see ctl.h): libcurl with the
 * bearer token, the configured CA, TLS 1.2 or newer, a bounded answer, and
 * the API's error document turned into one line on stderr.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tools/smartproxyctl/ctl.h"

#define ANSWER_MAX (16u * 1024 * 1024)

struct answer {
	char *p;
	size_t n;
	bool too_big;
	const struct ctl *c;
	double last;      /* seconds since the start of the last report */
	bool shown;       /* a progress line is on stderr */
	CURL *e;
};

/*
 * Progress of a long answer (a thousand audit records): on a terminal once
 * the transfer took half a second, at most five times a second; with
 * --progress always. On a terminal the line is rewritten in place and ended
 * by report_end; into a file each report is a line.
 */
static int
progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct answer *a = arg;
	double t = a->last;

	(void)dltotal;
	(void)ultotal;
	(void)ulnow;
	if (a->c->progress || a->c->tty) {
		curl_off_t us = 0;

		if (a->e != NULL &&
		    curl_easy_getinfo(a->e, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
			t = (double)us / 1e6;
		if ((a->c->progress || t >= 0.5) && t - a->last >= 0.2) {
			/* A terminal gets one line rewritten, a file lines. */
			fprintf(stderr, a->c->tty ? "\rsmartproxyctl: received "
			    "%lld KiB" : "smartproxyctl: received %lld KiB\n",
			    (long long)(dlnow / 1024));
			a->last = t;
			a->shown = true;
		}
	}
	return 0;
}

static void
report_end(struct answer *a)
{
	curl_off_t us = 0;

	if (!a->shown && !a->c->progress)
		return;
	if (a->e != NULL)
		curl_easy_getinfo(a->e, CURLINFO_TOTAL_TIME_T, &us);
	fprintf(stderr, "%ssmartproxyctl: received %zu bytes in %.1f s\n",
	    a->shown && a->c->tty ? "\r" : "", a->n, (double)us / 1e6);
}

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	char *np;

	if (a->n + n > ANSWER_MAX) {
		a->too_big = true;
		return 0;
	}
	if ((np = realloc(a->p, a->n + n + 1)) == NULL)
		return 0;
	a->p = np;
	memcpy(a->p + a->n, data, n);
	a->n += n;
	a->p[a->n] = '\0';
	return n;
}

void
ctl_json_error(const char *code, const char *msg, long status)
{
	json_object *doc = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	if (status > 0)
		json_object_object_add(e, "http_status",
		    json_object_new_int64(status));
	json_object_object_add(doc, "error", e);
	printf("%s\n", json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

/*
 * The API quotes fields ('allowed_networks[0]', 'tls.pins'); the operator
 * typed options. Each quoted field the command maps is written as its
 * option; everything else is left as it came.
 */
static void
name_options(const struct ctl_name *names, const char *in, char *out,
    size_t outlen)
{
	size_t o = 0, flen, i;
	const char *q, *end;

	while (*in != '\0' && o + 1 < outlen) {
		if (names != NULL && *in == '\'' && (end = strchr(in + 1, '\''))
		    != NULL) {
			q = in + 1;
			flen = strcspn(q, "[\'");
			for (i = 0; names[i].field != NULL; i++)
				if (strlen(names[i].field) == flen &&
				    strncmp(names[i].field, q, flen) == 0)
					break;
			if (names[i].field != NULL) {
				/* 'allowed_networks[0]': the first --network given. */
				o += (size_t)snprintf(out + o, outlen - o, "%s",
				    names[i].option);
				if (q[flen] == '[' && o < outlen)
					o += (size_t)snprintf(out + o, outlen - o,
					    " #%ld", strtol(q + flen + 1, NULL, 10) + 1);
				if (o >= outlen)
					o = outlen - 1;
				in = end + 1;
				continue;
			}
		}
		out[o++] = *in++;
	}
	out[o] = '\0';
}

static void
print_api_error(const struct ctl *c, long status, const char *text)
{
	char named[1024];
	json_object *doc = text ? json_tokener_parse(text) : NULL, *e, *v;
	const char *code = "", *msg = "";

	if (doc != NULL && json_object_object_get_ex(doc, "error", &e)) {
		if (json_object_object_get_ex(e, "code", &v))
			code = json_object_get_string(v);
		if (json_object_object_get_ex(e, "message", &v))
			msg = json_object_get_string(v);
	}
	name_options(c->names, msg, named, sizeof(named));
	if (*msg != '\0')
		fprintf(stderr, "smartproxyctl: %s (HTTP %ld %s)\n", named, status,
		    code);
	else
		fprintf(stderr, "smartproxyctl: the API answered HTTP %ld\n", status);
	if (c->json)
		ctl_json_error(*code ? code : "http", *msg ? named :
		    "the API answered with an error", status);
	json_object_put(doc);
}

int
ctl_request(const struct ctl *c, const char *method, const char *path,
    json_object *body, json_object **out)
{
	struct curl_slist *h = NULL;
	struct answer a = { NULL, 0, false, c, 0, false, NULL };
	char url[4096], auth[300];
	const char *text = NULL;
	long status = 0;
	CURLcode res;
	CURL *e;
	int rc = CTL_UNREACHABLE;

	*out = NULL;
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->url, path) >= sizeof(url) ||
	    (e = curl_easy_init()) == NULL) {
		fprintf(stderr, "smartproxyctl: cannot make the request\n");
		return CTL_UNREACHABLE;
	}
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	h = curl_slist_append(h, auth);
	explicit_bzero(auth, sizeof(auth));
	h = curl_slist_append(h, "Accept: application/json");
	if (body != NULL) {
		text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	} else if (strcmp(method, "POST") == 0) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "{}");
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &a);
	a.e = e;
	if (c->progress || c->tty) {
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, &a);
	}
	curl_easy_setopt(e, CURLOPT_TIMEOUT, c->timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, c->timeout < 10 ? c->timeout : 10L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca);
	res = curl_easy_perform(e);
	if (res == CURLE_OK)
		report_end(&a);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (res != CURLE_OK && !(res == CURLE_WRITE_ERROR && a.too_big)) {
		fprintf(stderr, "smartproxyctl: %s: %s\n", c->url, curl_easy_strerror(res));
		if (c->json)
			ctl_json_error("unreachable", curl_easy_strerror(res), 0);
	} else if (a.too_big) {
		fprintf(stderr, "smartproxyctl: the answer is larger than %u bytes\n",
		    ANSWER_MAX);
		rc = CTL_API;
	} else if (status < 200 || status >= 300) {
		print_api_error(c, status, a.p);
		rc = CTL_API;
	} else if (a.n > 0 && (*out = json_tokener_parse(a.p)) == NULL) {
		fprintf(stderr, "smartproxyctl: the API's answer is not JSON\n");
		rc = CTL_API;
	} else
		rc = CTL_OK;
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	free(a.p);
	return rc;
}
