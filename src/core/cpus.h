/*
 * cpus.h - how many CPUs this process may use, for thread counts set to
 * `auto`.
 *
 * The machine's online CPUs are the wrong answer in a DMZ container or unit
 * given two CPUs of 64: it would start 64 session loops (and their pools) to
 * share two. What counts is the affinity mask (taskset, systemd's
 * CPUAffinity=, a container's cpuset), lowered by a cgroup v2 CPU quota
 * (cpu.max: `docker run --cpus`, systemd's CPUQuota=) rounded up; the
 * lowest quota on the way from the process's cgroup up to the root counts,
 * as the kernel enforces them all.
 *
 * Read the files before a chroot; nothing is kept. Thread-safe.
 */
#ifndef SP_CPUS_H
#define SP_CPUS_H

/* CPUs this process may use: at least 1. */
unsigned sp_cpus_usable(void);

/* The quota alone: the CPUs the cpu.max files under cgroup_root allow the
 * cgroup named in proc_cgroup (a file like /proc/self/cgroup, its "0::"
 * line), rounded up; 0 when there is no quota (no cgroup v2 line, "max",
 * files missing or unreadable, contents malformed). Other paths for tests. */
unsigned sp_cpus_quota(const char *proc_cgroup, const char *cgroup_root);

#endif
