/*
 * metrics.c - GET /metrics: Prometheus text format (version 0.0.4) for a
 * `read` token (docs/api.md 5.9, docs/operations.md 13).
 *
 * The DMZ opens no port for it: the proxy's numbers come with the client's
 * heartbeat (the last stored status report, checked by sp_body_live on the
 * way in), the event-script runs and the revision are the api's own. With
 * several DMZ nodes every series of the proxy carries the label `node`
 * (the token its client reports with), one sample per node's last report. The
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

/* One DMZ node as the metrics see it: its last report, judged. */
struct mnode {
	char lab[160];              /* `node="<name>"`, sanitised */
	json_object *status, *c, *cl, *sec, *age;
	bool stale, current;
};

static void
mnode_of(struct mnode *m, json_object *n)
{
	json_object *v, *live;
	const char *name = (v = member(n, "node")) != NULL ?
	    json_object_get_string(v) : "";
	size_t i, o;

	o = (size_t)snprintf(m->lab, sizeof(m->lab), "node=\"");
	for (i = 0; name[i] != '\0' && o + 3 < sizeof(m->lab); i++)
		m->lab[o++] = (name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' &&
		    name[i] <= '9') || name[i] == '_' || name[i] == '-' ||
		    name[i] == '.' ? name[i] : '_';
	m->lab[o++] = '"';
	m->lab[o] = '\0';
	m->status = member(n, "status");
	live = member(m->status, "live");
	m->c = member(live, "counters");
	m->cl = member(m->status, "client");
	m->sec = member(m->c, "security_events");
	m->age = member(n, "age_ms");
	m->stale = (v = member(n, "stale")) != NULL && json_object_get_boolean(v);
	m->current = m->status != NULL && !m->stale &&
	    (v = member(m->status, "connected")) != NULL && json_object_get_boolean(v);
}

static void
latency(FILE *f, const struct mnode *m, size_t n)
{
	size_t i, j, k;

	family(f, "smartproxy_backend_request_duration_seconds", "histogram",
	    "Duration of the client's requests to the backend (POSTs and questions; not the config long poll)");
	for (j = 0; j < n; j++) {
		json_object *h = member(m[j].cl, "backend_requests"),
		    *le = member(h, "buckets_ms"), *cnt = member(h, "counts");

		k = le != NULL && cnt != NULL && json_object_is_type(le, json_type_array) &&
		    json_object_is_type(cnt, json_type_array) ? json_object_array_length(le) : 0;
		if (cnt != NULL && json_object_is_type(cnt, json_type_array) &&
		    json_object_array_length(cnt) < k)
			k = json_object_array_length(cnt);
		for (i = 0; i < k; i++)
			fprintf(f, "smartproxy_backend_request_duration_seconds_bucket{%s,le=\"%g\"} %" PRId64 "\n",
			    m[j].lab,
			    (double)json_object_get_int64(json_object_array_get_idx(le, i)) / 1000.0,
			    json_object_get_int64(json_object_array_get_idx(cnt, i)));
		fprintf(f, "smartproxy_backend_request_duration_seconds_bucket{%s,le=\"+Inf\"} %" PRId64 "\n",
		    m[j].lab, num(h, "count"));
		fprintf(f, "smartproxy_backend_request_duration_seconds_sum{%s} %g\n",
		    m[j].lab, (double)num(h, "sum_ms") / 1000.0);
		fprintf(f, "smartproxy_backend_request_duration_seconds_count{%s} %" PRId64 "\n",
		    m[j].lab, num(h, "count"));
	}
}

/* One sample per node of a plain number of `o` (the node's counters,
 * client or security table as `pick` chooses). */
enum pick { P_COUNTERS, P_CLIENT, P_SECURITY };

static void
per_node(FILE *f, const char *metric, const struct mnode *m, size_t n,
    enum pick p, const char *key)
{
	size_t j;

	for (j = 0; j < n; j++)
		fprintf(f, "%s{%s} %" PRId64 "\n", metric, m[j].lab, num(p ==
		    P_COUNTERS ? m[j].c : p == P_CLIENT ? m[j].cl : m[j].sec, key));
}

static void
render(FILE *f, struct api *a, json_object *nodes, int64_t rev)
{
	size_t n = json_object_array_length(nodes), j, k;
	struct mnode *m = calloc(n > 0 ? n : 1, sizeof(*m));
	uint64_t runs[API_RUN_OUTCOMES];
	char extra[200];
	json_object *v;
	size_t i;

	if (m == NULL)
		n = 0;
	for (j = 0; j < n; j++)
		mnode_of(&m[j], json_object_array_get_idx(nodes, j));
	family(f, "smartproxy_config_revision", "gauge", "Configuration revision of the backend");
	fprintf(f, "smartproxy_config_revision %" PRId64 "\n", rev);
	family(f, "smartproxy_proxy_reports", "gauge",
	    "DMZ nodes whose status report is stored (their clients' tokens)");
	fprintf(f, "smartproxy_proxy_reports %zu\n", n);
	family(f, "smartproxy_proxy_stale", "gauge",
	    "1 when the node's last heartbeat is older than three periods");
	for (j = 0; j < n; j++)
		fprintf(f, "smartproxy_proxy_stale{%s} %d\n", m[j].lab, m[j].stale);
	for (j = k = 0; j < n; j++)
		k += m[j].age != NULL;
	if (k > 0)
		family(f, "smartproxy_proxy_report_age_seconds", "gauge",
		    "Age of the node's last status report");
	for (j = 0; j < n; j++)
		if (m[j].age != NULL)
			fprintf(f, "smartproxy_proxy_report_age_seconds{%s} %g\n", m[j].lab,
			    (double)json_object_get_int64(m[j].age) / 1000.0);
	family(f, "smartproxy_tunnel_up", "gauge",
	    "1 when the node's client reports its control connection up, and is not stale");
	for (j = 0; j < n; j++)
		fprintf(f, "smartproxy_tunnel_up{%s} %d\n", m[j].lab, m[j].current);
	family(f, "smartproxy_tunnel_reconnects_total", "counter",
	    "Control connections the node's client brought up after its first");
	for (j = 0; j < n; j++)
		fprintf(f, "smartproxy_tunnel_reconnects_total{%s} %" PRId64 "\n", m[j].lab,
		    num(m[j].cl, "tunnel_connects") > 0 ? num(m[j].cl, "tunnel_connects") - 1 : 0);
	/* Live gauges only of nodes that vouch for them now. */
	for (j = k = 0; j < n; j++)
		k += m[j].current && member(m[j].status, "revision_applied") != NULL;
	if (k > 0)
		family(f, "smartproxy_config_revision_applied", "gauge",
		    "Configuration revision the node's server applied");
	for (j = 0; j < n; j++)
		if (m[j].current && (v = member(m[j].status, "revision_applied")) != NULL)
			fprintf(f, "smartproxy_config_revision_applied{%s} %" PRId64 "\n",
			    m[j].lab, json_object_get_int64(v));
	for (j = k = 0; j < n; j++)
		k += m[j].current && m[j].c != NULL;
	if (k > 0)
		family(f, "smartproxy_sessions_active", "gauge", "Sessions open in the node's server");
	for (j = 0; j < n; j++)
		if (m[j].current && m[j].c != NULL)
			fprintf(f, "smartproxy_sessions_active{%s} %" PRId64 "\n", m[j].lab,
			    num(m[j].c, "sessions_active"));
	family(f, "smartproxy_sessions_started_total", "counter", "Sessions the server accepted or called");
	per_node(f, "smartproxy_sessions_started_total", m, n, P_COUNTERS, "sessions_started");
	family(f, "smartproxy_sessions_ended_total", "counter", "Sessions ended, by end reason");
	for (j = 0; j < n; j++) {
		snprintf(extra, sizeof(extra), "%s,", m[j].lab);
		table(f, "smartproxy_sessions_ended_total", "result",
		    member(m[j].c, "sessions_ended"), extra);
	}
	family(f, "smartproxy_bytes_total", "counter", "Bytes relayed, by direction");
	for (j = 0; j < n; j++) {
		fprintf(f, "smartproxy_bytes_total{%s,direction=\"from_partner\"} %" PRId64 "\n",
		    m[j].lab, num(m[j].c, "bytes_from_partner"));
		fprintf(f, "smartproxy_bytes_total{%s,direction=\"to_partner\"} %" PRId64 "\n",
		    m[j].lab, num(m[j].c, "bytes_to_partner"));
	}
	family(f, "smartproxy_files_total", "counter",
	    "Files transferred (EFPA) in ended sessions, by direction");
	for (j = 0; j < n; j++) {
		snprintf(extra, sizeof(extra), "%s,", m[j].lab);
		table(f, "smartproxy_files_total", "direction", member(m[j].c, "files"), extra);
	}
	family(f, "smartproxy_files_failed_total", "counter",
	    "Files refused or cut off in ended sessions, by direction");
	for (j = 0; j < n; j++) {
		snprintf(extra, sizeof(extra), "%s,", m[j].lab);
		table(f, "smartproxy_files_failed_total", "direction",
		    member(m[j].c, "files_failed"), extra);
	}
	family(f, "smartproxy_refusals_total", "counter",
	    "Refusals: ESID codes the proxy sent (kind esid), security events (kind security)");
	for (j = 0; j < n; j++) {
		snprintf(extra, sizeof(extra), "%s,kind=\"esid\",", m[j].lab);
		table(f, "smartproxy_refusals_total", "reason", member(m[j].c, "esid_sent"), extra);
		snprintf(extra, sizeof(extra), "%s,kind=\"security\",", m[j].lab);
		table(f, "smartproxy_refusals_total", "reason", m[j].sec, extra);
	}
	family(f, "smartproxy_tls_handshake_failures_total", "counter", "Failed TLS handshakes of partners");
	per_node(f, "smartproxy_tls_handshake_failures_total", m, n, P_SECURITY, "tls_handshake_failed");
	family(f, "smartproxy_brake_blocks_total", "counter",
	    "Connections the partner module's brake refused (rate_limited)");
	per_node(f, "smartproxy_brake_blocks_total", m, n, P_SECURITY, "rate_limited");
	latency(f, m, n);
	family(f, "smartproxy_backend_request_failures_total", "counter",
	    "Client requests to the backend without a 2xx answer");
	per_node(f, "smartproxy_backend_request_failures_total", m, n, P_CLIENT, "backend_failures");
	api_ops_runs(a, runs);
	family(f, "smartproxy_event_script_runs_total", "counter",
	    "Event-script runs finished in this smartproxy-api process, by outcome");
	for (i = 0; i < API_RUN_OUTCOMES; i++)
		fprintf(f, "smartproxy_event_script_runs_total{outcome=\"%s\"} %" PRIu64 "\n",
		    api_run_outcome_names[i], runs[i]);
	free(m);
}

void
api_h_metrics(struct api *a, struct MHD_Connection *c, struct api_req *rq,
    const char *arg, struct api_reply *out)
{
	json_object *nodes = NULL;
	char *text = NULL;
	size_t len = 0;
	int64_t rev;
	FILE *f;
	int r;

	if ((r = api_live_nodes(a, &nodes)) != 0) {
		internal(out, "status", r);
		return;
	}
	pthread_mutex_lock(&a->mu);
	rev = a->rev;
	pthread_mutex_unlock(&a->mu);
	if ((f = open_memstream(&text, &len)) == NULL) {
		json_object_put(nodes);
		internal(out, "metrics", SP_ERR_NOMEM);
		return;
	}
	render(f, a, nodes, rev);
	fclose(f);
	json_object_put(nodes);
	out->status = 200;
	out->raw = text;
	out->ctype = CT_PROMETHEUS;
}
