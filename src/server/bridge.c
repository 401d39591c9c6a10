/*
 * bridge.c - what crosses from the server to the backend: modules' log
 * filters (on_log) hooked into the logger, and documents for the backend
 * (host->backend_post, session audit records) sent through the client.
 *
 * While no client is connected, documents wait in a bounded outbox (oldest
 * first); past the bound the newest are dropped and counted, and the count is
 * reported to the backend as an event once the tunnel is back, so a loss is
 * never silent.
 */
#include "server/server.h"
#include "server/session.h"
#include "core/err.h"
#include "core/log.h"
#include "tunnel/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OUTBOX_MAX_DOCS 1000
#define OUTBOX_MAX_BYTES (4u * 1024 * 1024)
#define FIELDS_MAX 16

struct outdoc {
	struct outdoc *next;
	char *path;
	char *json;
	size_t size;
};

static struct {
	struct outdoc *head, *tail;
	size_t ndocs, bytes;
	unsigned long dropped;
} outbox;

static json_object *
post_msg(const char *path, const char *json)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "type", json_object_new_string("backend_post"));
	json_object_object_add(m, "path", json_object_new_string(path));
	json_object_object_add(m, "body", json_object_new_string(json));
	return m;
}

bool
bridge_path_valid(const char *path)
{
	/* "v1/events": no scheme, no host, no "..", no query tricks. */
	return strncmp(path, "v1/", 3) == 0 && strlen(path) < 128 &&
	    strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789/_-") == strlen(path) &&
	    strstr(path, "//") == NULL;
}

int
bridge_post(struct server *srv, const char *path, const char *json)
{
	struct outdoc *d;
	size_t size;

	if (!bridge_path_valid(path))
		return SP_ERR_INVALID;
	if (srv->control != NULL) {
		tunnel_send(srv, post_msg(path, json));
		return SP_OK;
	}
	size = strlen(json) + strlen(path);
	if (outbox.ndocs >= OUTBOX_MAX_DOCS || outbox.bytes + size > OUTBOX_MAX_BYTES) {
		outbox.dropped++;
		return SP_ERR_LIMIT;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL || (d->path = strdup(path)) == NULL ||
	    (d->json = strdup(json)) == NULL) {
		if (d != NULL) {
			free(d->path);
			free(d);
		}
		outbox.dropped++;
		return SP_ERR_NOMEM;
	}
	d->size = size;
	if (outbox.tail != NULL)
		outbox.tail->next = d;
	else
		outbox.head = d;
	outbox.tail = d;
	outbox.ndocs++;
	outbox.bytes += size;
	return SP_OK;
}

void
bridge_flush(struct server *srv)
{
	struct outdoc *d;
	size_t sent = 0;

	while (srv->control != NULL && (d = outbox.head) != NULL) {
		outbox.head = d->next;
		if (outbox.head == NULL)
			outbox.tail = NULL;
		outbox.ndocs--;
		outbox.bytes -= d->size;
		tunnel_send(srv, post_msg(d->path, d->json));
		free(d->path);
		free(d->json);
		free(d);
		sent++;
	}
	if (sent > 0)
		sp_log(SP_LOG_INFO, "tunnel", "delivered %zu queued document(s) to the backend", sent);
	if (srv->control != NULL && outbox.dropped > 0) {
		char body[256];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		sp_log(SP_LOG_ERR, "tunnel", "%lu document(s) for the backend were lost while the tunnel was down",
		    outbox.dropped);
		snprintf(body, sizeof(body),
		    "{\"type\":\"events_lost\",\"severity\":\"crit\",\"time\":\"%04d-%02d-%02dT%02d:%02d:%02dZ\","
		    "\"count\":%lu,\"message\":\"%lu event(s) could not be queued while the tunnel was down\"}",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    outbox.dropped, outbox.dropped);
		outbox.dropped = 0;
		tunnel_send(srv, post_msg("v1/events", body));
	}
}

static void
bridge_free(void)
{
	while (outbox.head != NULL) {
		struct outdoc *d = outbox.head;
		outbox.head = d->next;
		free(d->path);
		free(d->json);
		free(d);
	}
	memset(&outbox, 0, sizeof(outbox));
}

/* ---- questions to the backend (host->backend_ask) ---- */

struct ask {
	struct ask *next, *prev;
	struct server *srv;
	struct sloop *sl;           /* the session's loop */
	uint64_t id;
	uint64_t sid;
	size_t idx;
	void (*answer)(struct sp_msess *, void *, int, const char *);
	void *arg;
	struct sp_timer timer;
};

/* Open questions: a list to fail them all, a table to find an answer's
 * question (a flood of verifications keeps thousands open at once). */
static struct ask *asks;
static struct sp_hmap ask_ids;
static uint64_t next_ask;

static int
ask_link(struct ask *a)
{
	int r;

	if ((r = sp_hmap_put(&ask_ids, &a->id, sizeof(a->id), a)) != SP_OK)
		return r;
	a->prev = NULL;
	a->next = asks;
	if (asks != NULL)
		asks->prev = a;
	asks = a;
	return SP_OK;
}

static void
ask_unlink(struct ask *a)
{
	(void)sp_hmap_del(&ask_ids, &a->id, sizeof(a->id));
	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		asks = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	a->next = a->prev = NULL;
	sp_timer_stop(a->srv->loop, &a->timer);
	if (asks == NULL)
		sp_hmap_free(&ask_ids);
}

/* Hand the answer to the session's loop, which gives it to the module if
 * the session is still there (session_msg_answer). */
static void
ask_deliver(struct ask *a, int status, const char *body)
{
	struct xmsg *x = NULL;

	if (a->srv->loops_gone || (x = xmsg_new(a->srv, session_msg_answer)) == NULL ||
	    (body != NULL && (x->s1 = strdup(body)) == NULL)) {
		/* No loop to run it on (stopping) or no memory: the module
		 * hears that its session is gone. */
		xmsg_free(x);
		a->answer(NULL, a->arg, -1, NULL);
		free(a);
		return;
	}
	x->sid = a->sid;
	x->idx = a->idx;
	x->status = status;
	x->answer = a->answer;
	x->arg = a->arg;
	xmsg_to_loop(a->sl, x);
	free(a);
}

static void
ask_timeout(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	struct ask *a = arg;

	ask_unlink(a);
	sp_log(SP_LOG_WARN, "backend", "question %llu to the backend not answered in time: refused",
	    (unsigned long long)a->id);
	ask_deliver(a, -1, NULL);
}

void
bridge_ask(struct server *srv, struct sloop *sl, uint64_t sid, size_t idx, const char *path,
    const char *json, unsigned timeout_ms,
    void (*answer)(struct sp_msess *, void *, int, const char *), void *arg)
{
	struct ask *a;
	json_object *m;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		answer(NULL, arg, -1, NULL);
		return;
	}
	a->srv = srv;
	a->sl = sl;
	a->id = ++next_ask;
	a->sid = sid;
	a->idx = idx;
	a->answer = answer;
	a->arg = arg;
	/* No client: refused at once, as the backend's silence would be. */
	if (!bridge_path_valid(path) || srv->control == NULL || ask_link(a) != SP_OK) {
		ask_deliver(a, -1, NULL);
		return;
	}
	sp_timer_init(&a->timer, ask_timeout, a);
	sp_timer_start(srv->loop, &a->timer, timeout_ms);
	m = json_object_new_object();
	json_object_object_add(m, "type", json_object_new_string("ask"));
	json_object_object_add(m, "id", json_object_new_int64((int64_t)a->id));
	json_object_object_add(m, "path", json_object_new_string(path));
	json_object_object_add(m, "body", json_object_new_string(json));
	tunnel_send(srv, m);
}

void
bridge_answer(struct server *srv, json_object *msg)
{
	uint64_t id = (uint64_t)sp_json_int(msg, "id", 0);
	struct ask *a;

	if ((a = sp_hmap_get(&ask_ids, &id, sizeof(id))) == NULL)
		return; /* late: its timeout already answered */
	ask_unlink(a);
	ask_deliver(a, (int)sp_json_int(msg, "status", -1), sp_json_str(msg, "body", NULL));
}

/* The tunnel is gone: every open question is answered "no answer" (fail closed). */
void
bridge_fail_asks(struct server *srv)
{
	while (asks != NULL) {
		struct ask *a = asks;

		ask_unlink(a);
		ask_deliver(a, -1, NULL);
	}
}

/* ---- modules' on_log as a log filter ---- */

static void
module_log_filter(struct sp_log_record *rec, void *arg)
{
	struct server *srv = arg;
	const char *fields[2 * FIELDS_MAX + 1];
	struct sp_log_entry e;
	size_t i, n = 0;

	memset(&e, 0, sizeof(e));
	e.level = (enum sp_level)rec->level;
	e.category = rec->category;
	e.function = rec->func;
	e.message = rec->msg;
	e.escalate = rec->escalate;
	memcpy(e.tag, rec->tag, sizeof(e.tag) < sizeof(rec->tag) ? sizeof(e.tag) : sizeof(rec->tag));
	e.tag[sizeof(e.tag) - 1] = '\0';
	for (i = 0; rec->fields != NULL && rec->fields[i].key != NULL && n < FIELDS_MAX; i++, n++) {
		fields[2 * n] = rec->fields[i].key;
		fields[2 * n + 1] = rec->fields[i].value ? rec->fields[i].value : "";
	}
	fields[2 * n] = NULL;
	e.fields = fields;
	e.time_ms = (int64_t)rec->ts.tv_sec * 1000 + rec->ts.tv_nsec / 1000000;
	for (i = 0; i < srv->nchain; i++) {
		const struct chain_entry *ce = &srv->chain[i];
		if (ce->m->on_log != NULL)
			ce->m->on_log(ce->mctx, &e);
	}
	if ((int)e.level < rec->level)
		rec->level = (int)e.level;
	rec->escalate = e.escalate && rec->level == SP_LOG_CRIT;
	sp_log_record_set_tag(rec, e.tag);
}

int
bridge_start(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nchain; i++)
		if (srv->chain[i].m->on_log != NULL)
			return sp_log_filter_add(module_log_filter, srv);
	return SP_OK;
}

void
bridge_stop(struct server *srv)
{
	(void)sp_log_filter_remove(module_log_filter, srv);
	bridge_fail_asks(srv);
	bridge_free();
}
