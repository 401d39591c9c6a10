/* check_cpus.c - core/cpus.h: `loops: auto` follows the CPUs this process may
 * use (affinity mask, cgroup v2 quota), not the machine's. */
#include "core/cpus.h"

#include <check.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static void
put(const char *rel, const char *text)
{
	char path[256], dir[256], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = dir + strlen(root) + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		(void)mkdir(dir, 0700);
		*slash = '/';
	}
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static unsigned
quota(void)
{
	char proc[128], cg[128];

	snprintf(proc, sizeof(proc), "%s/proc-cgroup", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	return sp_cpus_quota(proc, cg);
}

static void
setup(void)
{
	snprintf(root, sizeof(root), "/tmp/check_cpus.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

/* docker --cpus=1.5 in a cgroup namespace: the process is at "/". */
START_TEST(quota_at_the_namespace_root_rounds_up)
{
	put("proc-cgroup", "0::/\n");
	put("cg/cpu.max", "150000 100000\n");
	ck_assert_uint_eq(quota(), 2);
	put("cg/cpu.max", "100000 100000\n");
	ck_assert_uint_eq(quota(), 1);
	put("cg/cpu.max", "1000 100000\n");    /* 1 % of a CPU: still one */
	ck_assert_uint_eq(quota(), 1);
}
END_TEST

/* systemd's CPUQuota= on the slice, none on the service: the lowest on the
 * way up counts, "max" levels and missing files do not. */
START_TEST(lowest_quota_on_the_way_up)
{
	put("proc-cgroup", "1:name=systemd:/x\n0::/system.slice/smartproxy-server.service\n");
	put("cg/system.slice/smartproxy-server.service/cpu.max", "max 100000\n");
	put("cg/system.slice/cpu.max", "300000 100000\n");
	put("cg/cpu.max", "800000 100000\n");
	ck_assert_uint_eq(quota(), 3);
	put("cg/system.slice/smartproxy-server.service/cpu.max", "250000 50000\n");
	ck_assert_uint_eq(quota(), 3);
	put("cg/cpu.max", "200000 100000\n");
	ck_assert_uint_eq(quota(), 2);
}
END_TEST

START_TEST(no_quota)
{
	put("proc-cgroup", "0::/a/b\n");
	ck_assert_uint_eq(quota(), 0);                 /* no cpu.max at all */
	put("cg/a/b/cpu.max", "max 100000\n");
	ck_assert_uint_eq(quota(), 0);
	put("proc-cgroup", "4:cpu,cpuacct:/a\n");       /* cgroup v1 only */
	put("cg/a/cpu.max", "100000 100000\n");
	ck_assert_uint_eq(quota(), 0);
	ck_assert_uint_eq(sp_cpus_quota("/nonexistent/cgroup", "/nonexistent"), 0);
}
END_TEST

START_TEST(malformed_files_are_no_quota)
{
	static const char *bad[] = {
		"", "100000\n", "abc 100000\n", "-5 100000\n", "100000 0\n", "0 100000\n",
		"100000 x\n", "12x 100000\n",
	};
	size_t i;

	put("proc-cgroup", "0::/s\n");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put("cg/s/cpu.max", bad[i]);
		ck_assert_msg(quota() == 0, "cpu.max \"%s\" gave %u", bad[i], quota());
	}
	put("proc-cgroup", "0::/../../etc\n");
	ck_assert_uint_eq(quota(), 0);
}
END_TEST

/* taskset -c 0 (or CPUAffinity=0): one CPU, whatever the machine has. */
START_TEST(affinity_mask_counts)
{
	cpu_set_t all, one;
	int first = -1, i;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	for (i = 0; i < CPU_SETSIZE && first < 0; i++)
		if (CPU_ISSET(i, &all))
			first = i;
	ck_assert_int_ge(first, 0);
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	ck_assert_uint_eq(sp_cpus_usable(), 1);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(all), &all), 0);
	ck_assert_uint_ge(sp_cpus_usable(), 1);
	ck_assert_uint_le(sp_cpus_usable(), (unsigned)CPU_COUNT(&all));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cpus");
	TCase *tc = tcase_create("cpus");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, quota_at_the_namespace_root_rounds_up);
	tcase_add_test(tc, lowest_quota_on_the_way_up);
	tcase_add_test(tc, no_quota);
	tcase_add_test(tc, malformed_files_are_no_quota);
	tcase_add_test(tc, affinity_mask_counts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
