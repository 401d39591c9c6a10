/* nofile.c - raise the open-files limit at start; see nofile.h. */
#include "nofile.h"
#include "err.h"
#include "log.h"

#include <errno.h>
#include <string.h>

#include <sys/resource.h>

/* *before and *after get the soft limit; SP_ERR_SYSTEM with errno set. */
static int
nofile_raise(unsigned long long *before, unsigned long long *after)
{
	struct rlimit rl, want;

	*before = *after = 0;
	if (prlimit(0, RLIMIT_NOFILE, NULL, &rl) != 0)
		return SP_ERR_SYSTEM;
	*before = *after = rl.rlim_cur == RLIM_INFINITY ? ~0ull : (unsigned long long)rl.rlim_cur;
	want = rl;
	if (want.rlim_max == RLIM_INFINITY || want.rlim_max > SP_NOFILE_CAP)
		want.rlim_cur = SP_NOFILE_CAP;
	else
		want.rlim_cur = want.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && want.rlim_cur <= rl.rlim_cur)
		return SP_OK;
	if (prlimit(0, RLIMIT_NOFILE, &want, NULL) != 0)
		return SP_ERR_SYSTEM;
	*after = (unsigned long long)want.rlim_cur;
	return SP_OK;
}

unsigned long long
sp_nofile_start(void)
{
	unsigned long long before, after;

	if (nofile_raise(&before, &after) != SP_OK) {
		sp_log(SP_LOG_WARN, "core", "open files: the limit stays %llu: prlimit: %s",
		    before, strerror(errno));
	} else if (after != before) {
		sp_log(SP_LOG_INFO, "core", "open files: limit raised from %llu to %llu", before, after);
	} else {
		sp_log(SP_LOG_INFO, "core", "open files: limit %llu", after);
	}
	return after;
}
