/*
 * stats.h - the server's counters and the live snapshot it sends the client
 * on the client's heartbeat ("live_get" -> "live", docs/api.md 5.3).
 *
 * The counters only ever grow while the process runs (Prometheus counters;
 * a restart starts them at zero again, which Prometheus takes as a reset).
 * Named counters (end reasons, ESID codes, security events, file
 * directions) keep at most STATS_NAMES_MAX distinct names each; further
 * names are counted under "other", so a flood of odd names cannot grow
 * the table or the snapshot.
 *
 * Threads: the counters are the main loop's (a session's end arrives
 * there by message, handoff.c), except the security-event counter, which
 * the logger feeds from every thread under its own lock.
 *
 * Ownership: struct server_stats belongs to struct server (srv->stats),
 * made by stats_start() and freed by stats_stop(). stats_live() hands the
 * caller a new json_object to put.
 */
#ifndef SP_SERVER_STATS_H
#define SP_SERVER_STATS_H

#include <stdint.h>
#include <json-c/json.h>

#include "server/server.h"

#define STATS_NAMES_MAX 32
#define STATS_NAME_LEN 32
#define STATS_LIVE_MAX 200      /* sessions listed in one snapshot */

struct stats_named {
	char name[STATS_NAMES_MAX][STATS_NAME_LEN];
	uint64_t n[STATS_NAMES_MAX];
	size_t len;
};

struct server_stats {
	uint64_t started;            /* sessions accepted or called */
	struct stats_named ended;    /* by end reason */
	struct stats_named esid;     /* by ESID code the proxy sent ("04"):
	                                facts oftp2.end_esid(_from) = "proxy" */
	struct stats_named security; /* by security event name */
	struct stats_named files;    /* done (EFPA), by direction (from/to_partner) */
	struct stats_named files_failed;  /* refused or cut off, by direction */
	uint64_t bytes_from_partner; /* of ended sessions */
	uint64_t bytes_to_partner;
};

/* Register the security-line counter (a log filter). Before bridge_start,
 * so records are counted before a filter module lowers them. */
int stats_start(struct server *srv);
void stats_stop(struct server *srv);
void stats_session_started(struct server *srv);
/* Count a session that ended (once, on main): its end reason and its
 * counts (indexed by enum session_sum, session.h). */
void stats_session_ended(struct server *srv, const char *reason, const uint64_t *sum);
/* The "live" message: the live sessions the loops listed (`list`, taken;
 * at most STATS_LIVE_MAX), their bytes so far, and the counters. */
json_object *stats_live(struct server *srv, json_object *list, uint64_t bin, uint64_t bout);
/* A file of a session as JSON: the live view's (live) or the audit record's. */
json_object *stats_file_json(const struct sp_chain_file *f, bool live);

#endif
