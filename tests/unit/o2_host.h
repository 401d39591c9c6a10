/*
 * o2_host.h - a recording relay core for driving the OFTP2 module's hooks
 * (tests/unit/check_oftp2_module.c and tests/fuzz/fuzz_oftp2_module.c).
 *
 * Unlike tests/unit/fake_host.[ch] (loader tests), this host models the data
 * path: what the module forwards or sends is appended to the byte stream of
 * the leg it would reach (wire[SP_LEG_*]); deliveries are answered with a
 * verdict the test chooses and may be held and resumed later; host->end()
 * only marks, and the module's on_close runs when its hook has returned, as
 * the chain engine does (src/server/chain.h); timers and
 * facts are kept so a test can fire a timer or read a fact.
 *
 * One session at a time, one process-wide recorder (struct o2h), reset with
 * o2h_reset(). Ownership: o2h owns the wire buffers, the fact strings and the
 * session context; o2h_reset() and o2h_free() release them.
 */
#ifndef SP_TEST_O2_HOST_H
#define SP_TEST_O2_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smartproxy/module.h>

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
	void *sctx;
	void *cfg;                     /* what host->config() returns */
	bool opened, closed;
	char close_reason[64];

	struct o2h_bytes wire[2];      /* by struct sp_leg: what reached the leg */
	size_t forwards[2], sends[2];  /* calls, by leg */
	bool ended;
	char end_reason[64];
	char end_text[O2H_LINE];

	/* delivery */
	enum sp_verdict answer;        /* verdict for every delivery ... */
	int answer_type;               /* ... of this command type (0: any) */
	size_t ndelivered;
	int delivered[O2H_DELIVERED];  /* types in order */
	enum sp_dir delivered_dir[O2H_DELIVERED];
	const struct sp_message *pending;
	uint64_t pending_cookie;
	size_t resumes;

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
extern const struct sp_host o2h_host;

/* Forget everything (frees buffers, facts, the session context). */
void o2h_reset(void);
void o2h_free(void);
/* Process level: init the module (options none). 0 or the init result. */
int o2h_init(const struct sp_module *mod, enum sp_mode mode);
void o2h_fini(void);
/* Open a session: zeroed context, on_open. */
enum sp_verdict o2h_open(int outgoing);
enum sp_verdict o2h_tls(void);
enum sp_verdict o2h_data(enum sp_dir dir, const void *p, size_t n);
enum sp_verdict o2h_timer(unsigned id);
/* Finish a held delivery with verdict v (calls on_delivered). */
void o2h_finish_delivery(enum sp_verdict v);
/* The core's session end (on_close), if not ended yet. */
void o2h_close(const char *reason);
/* Lines containing needle: index or -1. */
int o2h_log_find(const char *needle);
int o2h_security_find(const char *needle);
/* Wire helpers: does leg's stream contain the octets? */
bool o2h_wire_has(enum sp_leg leg, const void *p, size_t n);
void o2h_wire_clear(void);
int o2h_fact_set(const char *key, const char *val);

#endif
