/*
 * log_burst.h - security lines from one source, summarised after the first
 * few in a window: a flood from one address writes SP_LOG_BURST_FIRST lines
 * of each event (enough for fail2ban's jail to act, contrib/fail2ban), then
 * one line "N more from ADDR in 10 s: EVENT" when the window ends, instead of
 * a line per attempt that would fill the disk and drown everything else.
 *
 * Windows are per source and event: the rare line that says a block started
 * is not lost among a flood of refusals of another kind from the same
 * address. A window starts with its first line and lasts SP_LOG_BURST_WINDOW_MS;
 * the next line after it starts a new one. At most SP_LOG_BURST_SOURCES
 * sources are tracked at once; beyond that lines are written unsummarised
 * (never lost). Times are the logger's clock, in milliseconds.
 *
 * Threads: the logger's (log.h): no locks. Ownership: the table is allocated
 * on first use and freed by sp_log_burst_reset().
 */
#ifndef SP_LOG_BURST_H
#define SP_LOG_BURST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_LOG_BURST_FIRST 20
#define SP_LOG_BURST_WINDOW_MS 10000u
#define SP_LOG_BURST_SOURCES 4096u

/* A security line from src at now_ms: true to write it, false when it is
 * only counted for the window's summary. */
bool sp_log_burst_admit(const char *src, const char *event, int64_t now_ms);

typedef void sp_log_burst_report_fn(const char *src, const char *event,
    unsigned suppressed, unsigned window_s, void *arg);

/* End the windows over by now_ms (or from the future: a clock set back);
 * report each that counted lines. Returns the number reported. */
size_t sp_log_burst_expire(int64_t now_ms, sp_log_burst_report_fn *report, void *arg);

/* Forget every window without reporting; free the table. */
void sp_log_burst_reset(void);

#endif
