/*
 * o2_drive.h - the OFTP2 module driven through the real chain engine
 * (src/server/chain.c) with a recording sink, for
 * tests/unit/check_oftp2_module.c and tests/fuzz/fuzz_oftp2_module.c.
 *
 * The chain is [oftp2, tail]: the module under test, then a recording tail
 * module that counts what the module forwards, answers every delivery with a
 * verdict the test chooses (held and resumed later on SP_HOLD) and forwards
 * bytes on to the sink. The sink appends what reaches a leg to wire[leg],
 * records the end the engine reports (after every on_close ran: ending is
 * deferred, as in the server) and keeps module timers for the test to fire.
 * Log, security and event lines come from the engine's host table through
 * its tap (struct sp_chain_env).
 *
 * One session at a time, one process-wide recorder (struct o2h), reset with
 * o2h_reset(). Ownership: o2h owns the chain, the wire buffers and the
 * pending facts; o2h_reset() and o2h_free() release them.
 */
#ifndef SP_TEST_O2_DRIVE_H
#define SP_TEST_O2_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smartproxy/module.h>

#include "server/chain.h"

#define O2H_LINES 1024
#define O2H_LINE 320
#define O2H_FACTS 16
#define O2H_TIMERS 8
#define O2H_DELIVERED 64

struct o2h_bytes {
	uint8_t *p;
	size_t n;
	size_t cap;
};

struct o2h {
	const struct sp_module *mod;
	void *mctx;
	enum sp_mode mode;             /* the chain entry's mode (o2h_init) */
	struct sp_chain c;             /* the session, once o2h_open ran */
	void *modcfg[2];
	void *cfg;                     /* what host->config() returns */
	struct sp_limits limits;       /* the revision's limits (0: none) */
	unsigned refusal;              /* a later module's refusal code */
	bool opened, closed;
	char close_reason[64];

	struct o2h_bytes wire[2];      /* by struct sp_leg: what reached the leg */
	size_t forwards[2];            /* forwards that reached the tail, by leg */
	bool ended;                    /* the engine ended the session */
	char end_reason[64];
	char end_text[O2H_LINE];

	/* delivery */
	enum sp_verdict answer;        /* verdict for every delivery ... */
	int answer_type;               /* ... of this command type (0: any) */
	size_t ndelivered;
	int delivered[O2H_DELIVERED];  /* types in order */
	enum sp_dir delivered_dir[O2H_DELIVERED];
	const struct sp_message *pending;
	size_t resumes;                /* holds of on_data the module lifted */

	/* timers by id */
	bool timer_armed[O2H_TIMERS];
	uint64_t timer_delay[O2H_TIMERS];

	char *fact_key[O2H_FACTS], *fact_val[O2H_FACTS];
	size_t nfacts;

	size_t nlog, nsecurity, nevent;
	char log[O2H_LINES][O2H_LINE];
	char security[O2H_LINES][O2H_LINE];
	bool verbose;                  /* also print every line to stderr */
};

extern struct o2h o2h;

/* Forget everything (frees buffers, facts, the session context). */
void o2h_reset(void);
void o2h_free(void);
/* Process level: init the module (options none). 0 or the init result. */
int o2h_init(const struct sp_module *mod, enum sp_mode mode);
void o2h_fini(void);
/* Open a session: the chain with the pending facts, on_open. */
enum sp_verdict o2h_open(int outgoing);
enum sp_verdict o2h_tls(void);
enum sp_verdict o2h_data(enum sp_dir dir, const void *p, size_t n);
enum sp_verdict o2h_timer(unsigned id);
/* Finish a held delivery with verdict v (the tail resumes; on_delivered). */
void o2h_finish_delivery(enum sp_verdict v);
/* The core's own session end (sp_chain_end), if not ended yet. */
void o2h_close(const char *reason);
/* Lines containing needle: index or -1. */
int o2h_log_find(const char *needle);
int o2h_security_find(const char *needle);
/* Wire helpers: does leg's stream contain the octets? */
bool o2h_wire_has(enum sp_leg leg, const void *p, size_t n);
void o2h_wire_clear(void);
/* A string fact, set on the chain at o2h_open (or at once if open). */
int o2h_fact_set(const char *key, const char *val);
/* The typed facts the module noted (valid until o2h_reset). */
const struct sp_chain_notes *o2h_notes(void);

#endif
