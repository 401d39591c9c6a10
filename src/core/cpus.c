/* cpus.c - CPUs this process may use; see cpus.h. */
#include "cpus.h"

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* CPUs in the affinity mask; 0 when it cannot be read. The kernel refuses a
 * mask smaller than its own (EINVAL), hence the growing sizes. */
static unsigned
affinity_count(void)
{
	size_t ncpu;

	for (ncpu = 1024; ncpu <= 65536; ncpu *= 2) {
		cpu_set_t *set = CPU_ALLOC(ncpu);
		size_t size = CPU_ALLOC_SIZE(ncpu);
		int n = 0;

		if (set == NULL)
			return 0;
		CPU_ZERO_S(size, set);
		if (sched_getaffinity(0, size, set) == 0)
			n = CPU_COUNT_S(size, set);
		CPU_FREE(set);
		if (n > 0)
			return (unsigned)n;
	}
	return 0;
}

/* One cpu.max ("QUOTA PERIOD" or "max PERIOD"): CPUs rounded up, 0 for none. */
static unsigned
quota_of(const char *path)
{
	char quota[32];
	unsigned long long q, p;
	char *end;
	FILE *f;
	int n;

	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fscanf(f, "%31s %llu", quota, &p);
	fclose(f);
	if (n != 2 || p == 0 || strcmp(quota, "max") == 0)
		return 0;
	q = strtoull(quota, &end, 10);
	if (*end != '\0' || quota[0] < '0' || quota[0] > '9' || q == 0)
		return 0;
	q = (q + p - 1) / p;
	return q > UINT_MAX ? UINT_MAX : (unsigned)q;
}

unsigned
sp_cpus_quota(const char *proc_cgroup, const char *cgroup_root)
{
	char line[PATH_MAX], dir[PATH_MAX], file[PATH_MAX + 16];
	unsigned best = 0, q;
	char *path = NULL, *slash;
	FILE *f;

	if ((f = fopen(proc_cgroup, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::/", 4) == 0) {
			line[strcspn(line, "\n")] = '\0';
			path = line + 3;
			break;
		}
	}
	fclose(f);
	/* A cgroup v1 system has no "0::" line; ".." would leave the root. */
	if (path == NULL || strstr(path, "/..") != NULL ||
	    snprintf(dir, sizeof(dir), "%s%s", cgroup_root, path) >= (int)sizeof(dir))
		return 0;
	for (;;) {
		size_t len = strlen(dir);

		while (len > 1 && dir[len - 1] == '/')
			dir[--len] = '\0';
		(void)snprintf(file, sizeof(file), "%s/cpu.max", dir);
		if ((q = quota_of(file)) > 0 && (best == 0 || q < best))
			best = q;
		if (strlen(dir) <= strlen(cgroup_root) ||
		    (slash = strrchr(dir, '/')) == NULL || slash == dir)
			break;
		*slash = '\0';
	}
	return best;
}

unsigned
sp_cpus_usable(void)
{
	unsigned n = affinity_count(), q;

	if (n == 0) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);
		n = online > 0 ? (unsigned)online : 1;
	}
	q = sp_cpus_quota("/proc/self/cgroup", "/sys/fs/cgroup");
	if (q > 0 && q < n)
		n = q;
	return n;
}
