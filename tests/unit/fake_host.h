/*
 * fake_host.h - a struct sp_host for tests that drive modules without a
 * relay core: every call is recorded (log and security lines as text,
 * forwarded bytes) so a test can assert on what a module did.
 *
 * Sessions: a test makes a struct fake_sess per simulated session; its
 * address is the `struct sp_msess *` the module sees, and `sctx` is a zeroed
 * buffer of the module's session_ctx_size (freed by fake_sess_free()).
 *
 * Not thread-safe; one recorder per process, reset with fake_host_reset().
 */
#ifndef SP_TEST_FAKE_HOST_H
#define SP_TEST_FAKE_HOST_H

#include <stddef.h>

#include <smartproxy/module.h>

#define FAKE_LINES_MAX 64
#define FAKE_LINE_MAX 256

struct fake_record {
	size_t nlog;
	char log[FAKE_LINES_MAX][FAKE_LINE_MAX];      /* "<level> <text>" */
	size_t nsecurity;
	char security[FAKE_LINES_MAX][FAKE_LINE_MAX]; /* "<session> <event>: <text>" */
	size_t nforward;
	enum sp_dir forward_dir;
	char forwarded[FAKE_LINE_MAX];                /* last forward's bytes, NUL-terminated */
};

struct fake_sess {
	int id;
	void *sctx;
};

extern const struct sp_host fake_host;
extern struct fake_record fake_rec;

void fake_host_reset(void);
/* Index of the first log line containing `needle`, or -1. */
int fake_log_find(const char *needle);

/* 0 or -1 (out of memory). */
int fake_sess_init(struct fake_sess *s, int id, const struct sp_module *desc);
void fake_sess_free(struct fake_sess *s);
static inline struct sp_msess *fake_ms(struct fake_sess *s) { return (struct sp_msess *)s; }

#endif
