/*
 * partner_drive.h - the partner module driven through the real chain engine
 * (src/server/chain.c) with a recording sink, for tests/unit/check_partner.c.
 *
 * A struct pmh_sess is one session: a chain [head, partner]. The head stands
 * for the OFTP2 module: it delivers the messages a test hands it
 * (pmh_message) and records the final verdict of a held delivery
 * (nresume, resumed). Jobs (run_async) and questions (backend_ask) wait in
 * queues until the test runs or answers them; they come back through the
 * engine (sp_chain_enter/leave), and with a NULL handle when their session
 * ended. Log and security lines come through the engine's tap, posts
 * through its env; the host table is the engine's own (pmh_host), or a copy
 * of it without run_async (pmh_host_sync) for the module's synchronous path.
 *
 * Not thread-safe; one recorder per process, reset with pmh_reset().
 * Ownership: the test owns its struct pmh_sess; pmh_open() builds its chain
 * and pmh_close() ends and frees it. Queued jobs belong to the queue until
 * pmh_run_jobs() hands them to the module's done(), and questions until
 * pmh_answer_asks() hands them to answer().
 */
#ifndef SP_TEST_PARTNER_DRIVE_H
#define SP_TEST_PARTNER_DRIVE_H

#include <stdbool.h>
#include <stddef.h>

#include <smartproxy/module.h>

#include "server/chain.h"

#define PMH_LINES_MAX 64
#define PMH_LINE_MAX 512
#define PMH_FACTS_MAX 16

struct pmh_sess {
	int id;
	char idtext[16];
	unsigned gen;           /* which opening of this struct (jobs check it) */
	bool open;
	bool ended;             /* run_async's done() then gets NULL */
	struct sp_chain c;
	void *modcfg[2];        /* what host->config() returns, by module */
	int nresume;            /* held deliveries finished ... */
	enum sp_verdict resumed;   /* ... and the last final verdict */
};

struct pmh_record {
	size_t nlog;
	char log[PMH_LINES_MAX][PMH_LINE_MAX];      /* "<level> <text>" */
	size_t nsecurity;
	char security[PMH_LINES_MAX][PMH_LINE_MAX]; /* "<session> <event>: <text>" */
	size_t njobs_queued;
	unsigned tls_alert;     /* the last alert marked for the outside leg */
	size_t nposts;                              /* backend_post calls */
	char post[PMH_LINES_MAX][PMH_LINE_MAX];     /* "<path> <json>" */
};

extern struct sp_host pmh_host;       /* the engine's table (after pmh_reset) */
extern struct sp_host pmh_host_sync;  /* the same without run_async */
extern struct pmh_record pmh_rec;
extern bool pmh_async_refuse;               /* run_async returns -1 */
extern bool pmh_ask_refuse;                 /* backend_ask returns -1 */

/* A question a module asked with backend_ask, kept until answered. */
struct pmh_ask {
	struct pmh_sess *s;
	unsigned gen;
	size_t idx;
	char path[256];
	char json[2048];
	unsigned timeout_ms;
	void (*answer)(struct sp_msess *, void *, int, const char *);
	void *arg;
};

void pmh_reset(void);
/* Open session `id` with module `mod` (its mctx, mode and configuration):
 * returns the module's on_open verdict. */
enum sp_verdict pmh_open(struct pmh_sess *s, int id, const struct sp_module *mod, void *mctx,
    enum sp_mode mode, void *config, const struct sp_peer *peer);
enum sp_verdict pmh_tls(struct pmh_sess *s, const struct sp_tls *tls);
/* The head delivers msg: the chain's verdict (SP_HOLD: held). */
enum sp_verdict pmh_message(struct pmh_sess *s, const struct sp_message *msg);
/* The core ends the session (every on_close), then frees the chain. */
void pmh_close(struct pmh_sess *s, const char *reason);
const char *pmh_fact(struct pmh_sess *s, const char *key);
void pmh_fact_put(struct pmh_sess *s, const char *key, const char *value);
/* The refusal code a module set (host->refusal_set), 0 if none. */
unsigned pmh_refusal(struct pmh_sess *s);
/* Run every queued job (work, then done); returns how many ran. */
size_t pmh_run_jobs(void);
/* Questions asked and not answered yet; the i-th of them. */
size_t pmh_asks_pending(void);
const struct pmh_ask *pmh_ask_get(size_t i);
/* Answer every pending question with status/body (NULL session for those
 * whose session ended); returns how many were answered. */
size_t pmh_answer_asks(int status, const char *body);
/* Index of the first security line containing `needle`, or -1. */
int pmh_security_find(const char *needle);
int pmh_log_find(const char *needle);

#endif
