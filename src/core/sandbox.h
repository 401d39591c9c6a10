/*
 * sandbox.h - the seccomp-BPF system call filter of the DMZ process.
 *
 * smartproxy-server parses hostile bytes; once it has loaded its modules,
 * opened its sockets and dropped its privileges, it installs this filter on
 * every thread (SECCOMP_FILTER_FLAG_TSYNC) and can never remove it. The
 * filter is an allowlist of what the running server needs (epoll, sockets,
 * memory, futexes, time, randomness, log files and syslog); see
 * docs/threat-model.md for what it defends against and what it does not.
 *
 * Three kinds of answers:
 *   - allowed: the call runs;
 *   - forbidden: calls an attacker wants and the server never makes (execve,
 *     ptrace, fork and non-thread clone, mount, namespaces, module loading,
 *     id changes, sockets other than TCP over IPv4/IPv6 and Unix sockets,
 *     foreign architectures): the process is killed with SIGSYS, in every
 *     mode;
 *   - anything else: the mode's default action, SECCOMP_RET_KILL_PROCESS in
 *     enforce mode, SECCOMP_RET_LOG (allowed, recorded by the kernel's audit
 *     log, `dmesg` or auditd: "type=1326 ... syscall=N") in log mode, which
 *     is for operators bringing up a new platform.
 *
 * Built with a sanitizer runtime (-fsanitize=address: __SANITIZE_ADDRESS__),
 * the filter also allows what that runtime needs, notably LeakSanitizer's
 * exit-time check, which clones a tracer process that ptraces our threads.
 * prctl() stays limited to the four options that check uses, so a test build
 * still dies on any other (a thread naming itself once the filter is on).
 * Such a build is for tests only; sp_sandbox_relaxed() says so at run time.
 *
 * Nothing is allocated; no state is kept.
 */
#ifndef SP_SANDBOX_H
#define SP_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum sp_sandbox_mode {
	SP_SANDBOX_OFF = 0,     /* no filter (no_new_privs is not set either) */
	SP_SANDBOX_LOG = 1,     /* unlisted calls logged, forbidden ones kill */
	SP_SANDBOX_ENFORCE = 2  /* unlisted and forbidden calls kill */
};

/*
 * Set no_new_privs and install the filter on all threads of the process.
 * Irreversible. On failure (kernel without seccomp, without
 * SECCOMP_RET_KILL_PROCESS or SECCOMP_RET_LOG, a thread that cannot be
 * synchronised) returns SP_ERR_SYSTEM with a line in err; nothing is
 * installed then. SP_SANDBOX_OFF does nothing and returns SP_OK.
 */
int sp_sandbox_apply(enum sp_sandbox_mode mode, char *err, size_t errlen);

/* "off", "log", "enforce" (static). */
const char *sp_sandbox_mode_name(enum sp_sandbox_mode mode);

/* True when this build widened the filter for a sanitizer runtime. */
bool sp_sandbox_relaxed(void);

#endif
