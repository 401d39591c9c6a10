/*
 * log_drive - the core logger's file target driven by a clock the test
 * sets, for tests/integration/log_fail2ban.sh: a real day change, real files
 * and the current-file link, read by a real fail2ban-server.
 *
 *   log_drive DIR PREFIX KEEP_DAYS COMMANDS
 *
 * COMMANDS is a file (a test's background job has /dev/null as stdin), one
 * command per line:
 *   clock SECONDS   the logger's clock is now this Unix time (0: real time)
 *   warn TEXT       one WARN record of category "security" (as the partner
 *                   module writes them)
 *   wait PATH       block until PATH exists (at most 600 s), so the test
 *                   can act between two steps
 * Exit 0 at the end of the file, 1 on a bad command or a wait that ran out.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"

static time_t fixed; /* 0: real time */

static void
drive_clock(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	if (fixed != 0)
		ts->tv_sec = fixed;
}

static int
wait_for(const char *path)
{
	int i;

	for (i = 0; i < 6000; i++) {
		if (access(path, F_OK) == 0)
			return 0;
		usleep(100000);
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct sp_log_target_conf t;
	struct sp_log_conf c;
	char line[1024];
	int configured = 0;
	size_t n;
	FILE *cmds;

	if (argc != 5 || (cmds = fopen(argv[4], "r")) == NULL) {
		fprintf(stderr, "usage: log_drive DIR PREFIX KEEP_DAYS COMMANDS\n");
		return 2;
	}
	memset(&t, 0, sizeof(t));
	t.type = SP_LOG_TARGET_FILE;
	t.level = SP_LOG_INHERIT;
	t.format = SP_LOG_INHERIT;
	t.dir = argv[1];
	t.prefix = argv[2];
	t.keep_days = atoi(argv[3]);
	c.level = SP_LOG_INFO;
	c.format = SP_LOG_FORMAT_TEXT;
	c.targets = &t;
	c.ntargets = 1;
	while (fgets(line, sizeof(line), cmds) != NULL) {
		n = strcspn(line, "\n");
		line[n] = '\0';
		if (strncmp(line, "clock ", 6) == 0) {
			fixed = (time_t)strtoll(line + 6, NULL, 10);
			sp_log_set_clock(drive_clock);
			/* The first clock opens the file, as a daemon's start does;
			 * later ones only move time on. */
			if (!configured && sp_log_configure(&c) != SP_OK) {
				fclose(cmds);
				return 1;
			}
			configured = 1;
		} else if (strncmp(line, "warn ", 5) == 0) {
			sp_log_emit(SP_LOG_WARN, "security", "partner_refuse", NULL,
			    "%s", line + 5);
		} else if (strncmp(line, "wait ", 5) == 0) {
			if (wait_for(line + 5) != 0) {
				fprintf(stderr, "log_drive: %s never appeared\n", line + 5);
				fclose(cmds);
				return 1;
			}
		} else {
			fprintf(stderr, "log_drive: bad command '%s'\n", line);
			fclose(cmds);
			return 1;
		}
	}
	fclose(cmds);
	sp_log_reset();
	return 0;
}
