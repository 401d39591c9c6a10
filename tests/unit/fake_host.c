/* fake_host.c - the recording host table of fake_host.h. */
#include "fake_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_record fake_rec;

__attribute__((format(printf, 4, 0)))
static void
record(char lines[][FAKE_LINE_MAX], size_t *n, const char *prefix,
    const char *fmt, va_list ap)
{
	char *line;
	size_t len;

	if (*n >= FAKE_LINES_MAX)
		return;
	line = lines[(*n)++];
	len = strlen(prefix) < FAKE_LINE_MAX - 1 ? strlen(prefix) : FAKE_LINE_MAX - 1;
	memcpy(line, prefix, len);
	vsnprintf(line + len, FAKE_LINE_MAX - len, fmt, ap);
}

static int
sess_id(struct sp_msess *ms)
{
	return ms != NULL ? ((struct fake_sess *)(void *)ms)->id : -1;
}

__attribute__((format(printf, 3, 4)))
static void
fake_log(struct sp_msess *ms, enum sp_level level, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "%d ", (int)level);
	va_start(ap, fmt);
	record(fake_rec.log, &fake_rec.nlog, prefix, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void
fake_security(struct sp_msess *ms, const char *event, const char *fmt, ...)
{
	char prefix[96];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "%d %.64s: ", sess_id(ms), event);
	va_start(ap, fmt);
	record(fake_rec.security, &fake_rec.nsecurity, prefix, fmt, ap);
	va_end(ap);
}

static int
fake_forward(struct sp_msess *ms, enum sp_dir dir, const void *p, size_t n)
{
	if (n >= sizeof(fake_rec.forwarded))
		return -1;
	fake_rec.nforward++;
	fake_rec.forward_dir = dir;
	memcpy(fake_rec.forwarded, p, n);
	fake_rec.forwarded[n] = '\0';
	return 0;
}

static int
fake_send(struct sp_msess *ms, enum sp_leg leg, const void *p, size_t n)
{
	return 0;
}

static enum sp_verdict
fake_deliver(struct sp_msess *ms, const struct sp_message *msg, uint64_t cookie)
{
	return SP_CONTINUE;
}

static void
fake_resume(struct sp_msess *ms, enum sp_verdict verdict)
{
}

static void
fake_end(struct sp_msess *ms, const char *reason, const char *text)
{
}

static int
fake_timer_set(struct sp_msess *ms, unsigned id, uint64_t delay_ms)
{
	return 0;
}

static void
fake_timer_cancel(struct sp_msess *ms, unsigned id)
{
}

static const char *
fake_fact_get(struct sp_msess *ms, const char *key)
{
	return NULL;
}

static int
fake_fact_set(struct sp_msess *ms, const char *key, const char *value)
{
	return 0;
}

static void *
fake_config(struct sp_msess *ms)
{
	return NULL;
}

__attribute__((format(printf, 4, 5)))
static void
fake_event(struct sp_msess *ms, enum sp_level severity, const char *type,
    const char *fmt, ...)
{
}

const struct sp_host fake_host = {
	.abi_major = SP_MODULE_ABI_MAJOR,
	.abi_minor = SP_MODULE_ABI_MINOR,
	.struct_size = sizeof(struct sp_host),
	.log = fake_log,
	.security = fake_security,
	.forward = fake_forward,
	.send = fake_send,
	.deliver = fake_deliver,
	.resume = fake_resume,
	.end = fake_end,
	.timer_set = fake_timer_set,
	.timer_cancel = fake_timer_cancel,
	.fact_get = fake_fact_get,
	.fact_set = fake_fact_set,
	.config = fake_config,
	.event = fake_event,
};

void
fake_host_reset(void)
{
	memset(&fake_rec, 0, sizeof(fake_rec));
}

int
fake_log_find(const char *needle)
{
	size_t i;

	for (i = 0; i < fake_rec.nlog; i++)
		if (strstr(fake_rec.log[i], needle) != NULL)
			return (int)i;
	return -1;
}

int
fake_sess_init(struct fake_sess *s, int id, const struct sp_module *desc)
{
	s->id = id;
	/* calloc(0) may return NULL legitimately; always give a byte. */
	s->sctx = calloc(1, desc->session_ctx_size > 0 ? desc->session_ctx_size : 1);
	return s->sctx != NULL ? 0 : -1;
}

void
fake_sess_free(struct fake_sess *s)
{
	free(s->sctx);
	s->sctx = NULL;
}
