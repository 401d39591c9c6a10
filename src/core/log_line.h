/*
 * log_line.h - render one log record as one bounded text or JSON line.
 *
 * Pure formatting, no I/O: log.c calls it once per format a record needs and
 * hands the result to the targets in one write(2). The formats are specified
 * in docs/logging.md. Untrusted bytes in messages and field values (a
 * partner's ODETTE ID, a peer's address) cannot forge a second line: control
 * characters are escaped in both formats and JSON output is always valid
 * UTF-8 (invalid bytes become U+FFFD; in text they become \xHH).
 *
 * The caller owns `out`; nothing is allocated.
 */
#ifndef SP_LOG_LINE_H
#define SP_LOG_LINE_H

#include <stddef.h>

#include "core/log.h"

/* Leave out the timestamp (syslog adds its own). */
#define SP_LOG_LINE_NO_TIME 0x1

/*
 * Write the line for `rec` in `format` into out[outsz], newline-terminated
 * and NUL-terminated; returns its length without the NUL. outsz must be at
 * least 64; a line that would not fit in outsz - 1 bytes is cut and marked
 * ("[truncated]" in text, "truncated":true in JSON, which stays valid).
 */
size_t sp_log_line_format(const struct sp_log_record *rec, int format,
    unsigned flags, char *out, size_t outsz);

/* Format "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into out[25]. */
void sp_log_line_time(const struct timespec *ts, char out[25]);

#endif
