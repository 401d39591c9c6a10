/*
 * metrics.c - GET /metrics: Prometheus text format (version 0.0.4) for a
 * `read` token (docs/api.md 5.9, docs/operations.md 13).
 *
 * The DMZ opens no port for it: the proxy's numbers come with the client's
 * heartbeat (the last stored status report, checked by sp_body_live on the
 * way in), the event-script runs and the revision are the api's own. The
 * counters are the proxy's since it started: a restart of the server sets
 * them back to zero, which Prometheus treats as a counter reset. Series of
 * the server's live gauges are left out while the proxy is stale or
 * disconnected: a number it no longer reports is not shown as current.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ops.h"
#include "api/store_ops.h"
#include "core/err.h"
#include "core/log.h"

#define CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: the names passed sp_body_live's charset; keep it so. */
static void
label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++)
		fputc((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		    (*v >= '0' && *v <= '9') || *v == '_' || *v == '-' || *v == '.' ?
		    *v : '_', f);
}

static int64_t
num(json_object *o, const char *key)
{
	json_object *v;

	return o != NULL && json_object_object_get_ex(o, key, &v) && v != NULL &&
	    json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

static json_object *
member(json_object *o, const char *key)
{
	json_object *v;

	return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* One sample per name of a counter table, label `lname`. */
static void
table(FILE *f, const char *metric, const char *lname, json_object *t,
    const char *extra)
{
	if (t == NULL || !json_object_is_type(t, json_type_object))
		return;
	json_object_object_foreach(t, k, v) {
		fprintf(f, "%s{%s%s=\"", metric, extra != NULL ? extra : "", lname);
		label(f, k);
		fprintf(f, "\"} %" PRId64 "\n", v != NULL ? json_object_get_int64(v) : 0);
	}
}

static void
latency(FILE *f, json_object *h)
{
	json_object *le = member(h, "buckets_ms"), *cnt = member(h, "counts");
	size_t i, n;

	family(f, "smartproxy_backend_request_duration_seconds", "histogram",
	    "Duration of the client's requests to the backend (POSTs and questions; not the config long poll)");
	n = le != NULL && cnt != NULL && json_object_is_type(le, json_type_array) &&
	    json_object_is_type(cnt, json_type_array) ? json_object_array_length(le) : 0;
	if (cnt != NULL && json_object_is_type(cnt, json_type_array) &&
	    json_object_array_length(cnt) < n)
		n = json_object_array_length(cnt);
	for (i = 0; i < n; i++)
		fprintf(f, "smartproxy_backend_request_duration_seconds_bucket{le=\"%g\"} %" PRId64 "\n",
		    (double)json_object_get_int64(json_object_array_get_idx(le, i)) / 1000.0,
		    json_object_get_int64(json_object_array_get_idx(cnt, i)));
	fprintf(f, "smartproxy_backend_request_duration_seconds_bucket{le=\"+Inf\"} %" PRId64 "\n",
	    num(h, "count"));
	fprintf(f, "smartproxy_backend_request_duration_seconds_sum %g\n",
	    (double)num(h, "sum_ms") / 1000.0);
	fprintf(f, "smartproxy_backend_request_duration_seconds_count %" PRId64 "\n",
	    num(h, "count"));
}

static void
render(FILE *f, struct api *a, json_object *st, int64_t rev)
{
	json_object *status = member(st, "status"), *live = member(status, "live"),
	    *c = member(live, "counters"), *cl = member(status, "client"),
	    *sec = member(c, "security_events"), *v;
	bool stale = st != NULL && (v = member(st, "stale")) != NULL && json_object_get_boolean(v);
	bool connected = (v = member(status, "connected")) != NULL && json_object_get_boolean(v);
	bool current = status != NULL && !stale && connected;
	uint64_t runs[API_RUN_OUTCOMES];
	size_t i;

	family(f, "smartproxy_config_revision", "gauge", "Configuration revision of the backend");
	fprintf(f, "smartproxy_config_revision %" PRId64 "\n", rev);
	family(f, "smartproxy_proxy_reports", "gauge", "1 when a proxy status report is stored");
	fprintf(f, "smartproxy_proxy_reports %d\n", status != NULL);
	family(f, "smartproxy_proxy_stale", "gauge",
	    "1 when the proxy's last heartbeat is older than three periods");
	fprintf(f, "smartproxy_proxy_stale %d\n", stale);
	if ((v = member(st, "age_ms")) != NULL) {
		family(f, "smartproxy_proxy_report_age_seconds", "gauge", "Age of the last status report");
		fprintf(f, "smartproxy_proxy_report_age_seconds %g\n",
		    (double)json_object_get_int64(v) / 1000.0);
	}
	family(f, "smartproxy_tunnel_up", "gauge",
	    "1 when the client reports its control connection to the server up, and is not stale");
	fprintf(f, "smartproxy_tunnel_up %d\n", current);
	family(f, "smartproxy_tunnel_reconnects_total", "counter",
	    "Control connections the client brought up after its first");
	fprintf(f, "smartproxy_tunnel_reconnects_total %" PRId64 "\n",
	    num(cl, "tunnel_connects") > 0 ? num(cl, "tunnel_connects") - 1 : 0);
	if (current && (v = member(status, "revision_applied")) != NULL) {
		family(f, "smartproxy_config_revision_applied", "gauge",
		    "Configuration revision the server applied");
		fprintf(f, "smartproxy_config_revision_applied %" PRId64 "\n",
		    json_object_get_int64(v));
	}
	if (current && c != NULL) {
		family(f, "smartproxy_sessions_active", "gauge", "Sessions open in the server");
		fprintf(f, "smartproxy_sessions_active %" PRId64 "\n", num(c, "sessions_active"));
	}
	family(f, "smartproxy_sessions_started_total", "counter", "Sessions the server accepted or called");
	fprintf(f, "smartproxy_sessions_started_total %" PRId64 "\n", num(c, "sessions_started"));
	family(f, "smartproxy_sessions_ended_total", "counter", "Sessions ended, by end reason");
	table(f, "smartproxy_sessions_ended_total", "result", member(c, "sessions_ended"), NULL);
	family(f, "smartproxy_bytes_total", "counter", "Bytes relayed, by direction");
	fprintf(f, "smartproxy_bytes_total{direction=\"from_partner\"} %" PRId64 "\n",
	    num(c, "bytes_from_partner"));
	fprintf(f, "smartproxy_bytes_total{direction=\"to_partner\"} %" PRId64 "\n",
	    num(c, "bytes_to_partner"));
	family(f, "smartproxy_files_total", "counter",
	    "Files transferred (EFPA) in ended sessions, by direction");
	table(f, "smartproxy_files_total", "direction", member(c, "files"), NULL);
	family(f, "smartproxy_files_failed_total", "counter",
	    "Files refused or cut off in ended sessions, by direction");
	table(f, "smartproxy_files_failed_total", "direction", member(c, "files_failed"), NULL);
	family(f, "smartproxy_refusals_total", "counter",
	    "Refusals: ESID codes the proxy sent (kind esid), security events (kind security)");
	table(f, "smartproxy_refusals_total", "reason", member(c, "esid_sent"), "kind=\"esid\",");
	table(f, "smartproxy_refusals_total", "reason", sec, "kind=\"security\",");
	family(f, "smartproxy_tls_handshake_failures_total", "counter", "Failed TLS handshakes of partners");
	fprintf(f, "smartproxy_tls_handshake_failures_total %" PRId64 "\n",
	    num(sec, "tls_handshake_failed"));
	family(f, "smartproxy_brake_blocks_total", "counter",
	    "Connections the partner module's brake refused (rate_limited)");
	fprintf(f, "smartproxy_brake_blocks_total %" PRId64 "\n", num(sec, "rate_limited"));
	latency(f, member(cl, "backend_requests"));
	family(f, "smartproxy_backend_request_failures_total", "counter",
	    "Client requests to the backend without a 2xx answer");
	fprintf(f, "smartproxy_backend_request_failures_total %" PRId64 "\n",
	    num(cl, "backend_failures"));
	api_ops_runs(a, runs);
	family(f, "smartproxy_event_script_runs_total", "counter",
	    "Event-script runs finished in this smartproxy-api process, by outcome");
	for (i = 0; i < API_RUN_OUTCOMES; i++)
		fprintf(f, "smartproxy_event_script_runs_total{outcome=\"%s\"} %" PRIu64 "\n",
		    api_run_outcome_names[i], runs[i]);
}

void
api_h_metrics(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *st = NULL;
	char *text = NULL;
	size_t len = 0;
	int64_t rev;
	FILE *f;
	int r;

	pthread_mutex_lock(&a->dbmu);
	r = sp_store_status_get(a->st, &st);
	pthread_mutex_unlock(&a->dbmu);
	if (r != 0) {
		internal(out, "status", r);
		return;
	}
	(void)api_live_judge(a, st);
	pthread_mutex_lock(&a->mu);
	rev = a->rev;
	pthread_mutex_unlock(&a->mu);
	if ((f = open_memstream(&text, &len)) == NULL) {
		json_object_put(st);
		internal(out, "metrics", SP_ERR_NOMEM);
		return;
	}
	render(f, a, st, rev);
	fclose(f);
	json_object_put(st);
	out->status = 200;
	out->raw = text;
	out->ctype = CT_PROMETHEUS;
}
