/*
 * partner_host.h - a recording host table for the partner module's
 * tests: like fake_host.h, plus what the partner module needs of a host
 * (session facts, the session's configuration, resume, run_async with jobs a
 * test runs when it chooses, sessions that end while a job runs).
 *
 * A struct pmh_sess is one simulated session; its address is the
 * `struct sp_msess *` the module sees. Not thread-safe; one recorder per
 * process, reset with pmh_reset(). Ownership: the test owns its sessions
 * (pmh_sess_init / pmh_sess_free); queued jobs belong to the queue until
 * pmh_run_jobs() hands them to the module's done(), and questions to the
 * backend (backend_ask) until pmh_answer_asks() hands them to answer().
 */
#ifndef SP_TEST_PARTNER_HOST_H
#define SP_TEST_PARTNER_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include <smartproxy/module.h>

#define PMH_LINES_MAX 64
#define PMH_LINE_MAX 512
#define PMH_FACTS_MAX 16

struct pmh_sess {
	int id;
	void *sctx;
	void *config;           /* what host->config() returns */
	bool ended;             /* run_async's done() then gets NULL */
	struct { char key[64]; char value[128]; } facts[PMH_FACTS_MAX];
	size_t nfacts;
	int nresume;
	enum sp_verdict resumed;
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

extern const struct sp_host pmh_host;       /* with run_async */
extern const struct sp_host pmh_host_sync;  /* run_async NULL, like ABI 1.0 cores */
extern struct pmh_record pmh_rec;
extern bool pmh_async_refuse;               /* run_async returns -1 */
extern bool pmh_ask_refuse;                 /* backend_ask returns -1 */

/* A question a module asked with backend_ask, kept until answered. */
struct pmh_ask {
	struct pmh_sess *s;
	char path[256];
	char json[2048];
	unsigned timeout_ms;
	void (*answer)(struct sp_msess *, void *, int, const char *);
	void *arg;
};

void pmh_reset(void);
int pmh_sess_init(struct pmh_sess *s, int id, size_t ctx_size, void *config);
void pmh_sess_free(struct pmh_sess *s);
static inline struct sp_msess *pmh_ms(struct pmh_sess *s) { return (struct sp_msess *)s; }
const char *pmh_fact(struct pmh_sess *s, const char *key);
void pmh_fact_put(struct pmh_sess *s, const char *key, const char *value);
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
