/*
 * sandbox.c - builds and installs the seccomp-BPF filter of sandbox.h.
 *
 * Written with the raw <linux/filter.h> and <linux/seccomp.h> macros: the
 * program is small, and libseccomp would be one more library in the DMZ.
 * The program is assembled at run time into a stack array (it needs the
 * process id for the tgkill rule) by a tiny builder with local labels.
 *
 * Layout of the program:
 *   1. wrong architecture (or an x32 call on x86_64): kill;
 *   2. allowed calls, hottest first, each "JEQ nr; RET ALLOW" so that no
 *      jump is long; calls with argument rules are small blocks that end in
 *      ALLOW or the forbidden action and never fall through;
 *   3. forbidden calls: kill, whatever the mode;
 *   4. the mode's default action.
 * Argument rules look at the low 32 bits of an argument, which is all the
 * kernel reads for int arguments and for clone's flags.
 */
#include "config.h"

#include "core/sandbox.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) && !defined(__ILP32__)
#define SP_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && defined(__AARCH64EL__)
#define SP_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#define SP_AUDIT_ARCH 0   /* no filter written for it: apply refuses */
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sandbox.c reads the low word of arguments at the little-endian offset"
#endif

/* A sanitizer runtime needs more (see sandbox.h). */
#if defined(SP_SANDBOX_SANITIZER) || defined(__SANITIZE_ADDRESS__)
#define SP_RELAXED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SP_RELAXED 1
#endif
#endif
#ifndef SP_RELAXED
#define SP_RELAXED 0
#endif

#define MAX_INS 512
#define FALL (-1)     /* jump target: the next instruction */

#define ARG_LO(i) ((uint32_t)offsetof(struct seccomp_data, args[(i)]))

struct prog {
	struct sock_filter ins[MAX_INS];
	short jt_label[MAX_INS];   /* label of the target, or FALL */
	short jf_label[MAX_INS];
	int label_at[MAX_INS];     /* instruction a label marks, -1: not yet */
	unsigned n;
	int nlabels;
	bool broken;          /* too long, or a jump out of range */
};

static void
emit(struct prog *p, struct sock_filter f, int jt, int jf)
{
	if (p->n >= MAX_INS) {
		p->broken = true;
		return;
	}
	p->jt_label[p->n] = (short)jt;
	p->jf_label[p->n] = (short)jf;
	p->ins[p->n++] = f;
}

static int
label_new(struct prog *p)
{
	if (p->nlabels >= MAX_INS) {
		p->broken = true;
		return FALL;
	}
	p->label_at[p->nlabels] = -1;
	return p->nlabels++;
}

static void
label_here(struct prog *p, int label)
{
	if (label >= 0)
		p->label_at[label] = (int)p->n;
}

static void
ld(struct prog *p, uint32_t off)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off), FALL, FALL);
}

static void
and_k(struct prog *p, uint32_t k)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, k), FALL, FALL);
}

static void
ret(struct prog *p, uint32_t action)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action), FALL, FALL);
}

static void
jump(struct prog *p, uint16_t op, uint32_t k, int jt, int jf)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0), jt, jf);
}

/* Resolve labels into the 8-bit forward offsets BPF wants. */
static void
link_labels(struct prog *p)
{
	unsigned i;
	int d;

	for (i = 0; i < p->n && !p->broken; i++) {
		if (BPF_CLASS(p->ins[i].code) != BPF_JMP)
			continue;
		if (p->jt_label[i] != FALL) {
			d = p->label_at[(int)p->jt_label[i]] - (int)i - 1;
			if (p->label_at[(int)p->jt_label[i]] < 0 || d < 0 || d > 255)
				p->broken = true;
			p->ins[i].jt = (uint8_t)d;
		}
		if (p->jf_label[i] != FALL) {
			d = p->label_at[(int)p->jf_label[i]] - (int)i - 1;
			if (p->label_at[(int)p->jf_label[i]] < 0 || d < 0 || d > 255)
				p->broken = true;
			p->ins[i].jf = (uint8_t)d;
		}
	}
}

/* One call, one answer. */
static void
rule(struct prog *p, long nr, uint32_t action)
{
	int next = label_new(p);

	jump(p, BPF_JEQ, (uint32_t)nr, FALL, next);
	ret(p, action);
	label_here(p, next);
}

/*
 * A call whose argument `arg` must have none of the bits of `mask`:
 * otherwise `deny`. Used to keep memory from becoming executable.
 */
static void
rule_arg_clear(struct prog *p, long nr, int arg, uint32_t mask, uint32_t deny)
{
	int next = label_new(p), bad = label_new(p);

	jump(p, BPF_JEQ, (uint32_t)nr, FALL, next);
	ld(p, ARG_LO(arg));
	jump(p, BPF_JSET, mask, bad, FALL);
	ret(p, SECCOMP_RET_ALLOW);
	label_here(p, bad);
	ret(p, deny);
	label_here(p, next);
}

/* A call whose argument `arg` must be one of `vals`. */
static void
rule_arg_in(struct prog *p, long nr, int arg, const uint32_t *vals, size_t nvals,
    uint32_t deny)
{
	int next = label_new(p), ok = label_new(p);
	size_t i;

	jump(p, BPF_JEQ, (uint32_t)nr, FALL, next);
	ld(p, ARG_LO(arg));
	for (i = 0; i < nvals; i++)
		jump(p, BPF_JEQ, vals[i], ok, FALL);
	ret(p, deny);
	label_here(p, ok);
	ret(p, SECCOMP_RET_ALLOW);
	label_here(p, next);
}

/*
 * socket(): TCP over IPv4 and IPv6 (partners, tunnel, outgoing sessions) and
 * Unix sockets (syslog's reconnect). No packet, netlink or raw sockets.
 */
static void
rule_socket(struct prog *p, uint32_t deny)
{
	int next = label_new(p), inet = label_new(p), unix_ok = label_new(p);
	int allow = label_new(p), bad = label_new(p);

	jump(p, BPF_JEQ, (uint32_t)__NR_socket, FALL, next);
	ld(p, ARG_LO(0));
	jump(p, BPF_JEQ, AF_INET, inet, FALL);
	jump(p, BPF_JEQ, AF_INET6, inet, FALL);
	jump(p, BPF_JEQ, AF_UNIX, unix_ok, bad);
	label_here(p, inet);
	ld(p, ARG_LO(1));
	and_k(p, 0xf);                 /* SOCK_TYPE_MASK: drop NONBLOCK/CLOEXEC */
	jump(p, BPF_JEQ, SOCK_STREAM, allow, bad);
	label_here(p, unix_ok);
	ld(p, ARG_LO(1));
	and_k(p, 0xf);
	jump(p, BPF_JEQ, SOCK_STREAM, allow, FALL);
	jump(p, BPF_JEQ, SOCK_DGRAM, allow, bad);
	label_here(p, allow);
	ret(p, SECCOMP_RET_ALLOW);
	label_here(p, bad);
	ret(p, deny);
	label_here(p, next);
}

/*
 * clone(): threads only (pthread_create). A thread shares memory, signal
 * handlers and thread group; anything without those three is a new process.
 * Namespace flags are refused even on a thread. In a sanitizer build,
 * LeakSanitizer's tracer (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_UNTRACED) too.
 */
#define THREAD_FLAGS (CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)
#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
#define LSAN_TRACER_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED)

static void
rule_clone(struct prog *p, uint32_t deny)
{
	int next = label_new(p), bad = label_new(p), thread = label_new(p);
	int allow = label_new(p);

	jump(p, BPF_JEQ, (uint32_t)__NR_clone, FALL, next);
	ld(p, ARG_LO(0));
	jump(p, BPF_JSET, NS_FLAGS, bad, FALL);
#if SP_RELAXED
	jump(p, BPF_JEQ, LSAN_TRACER_FLAGS, allow, FALL);
#endif
	and_k(p, THREAD_FLAGS);
	jump(p, BPF_JEQ, THREAD_FLAGS, thread, bad);
	label_here(p, thread);
	label_here(p, allow);
	ret(p, SECCOMP_RET_ALLOW);
	label_here(p, bad);
	ret(p, deny);
	label_here(p, next);
}

/* Signals only to ourselves (abort() raises SIGABRT through tgkill). */
static void
rule_self_signal(struct prog *p, long nr, uint32_t pid, uint32_t deny)
{
	uint32_t self[1] = { pid };

	rule_arg_in(p, nr, 0, self, 1, deny);
}

static void
allowed_calls(struct prog *p, uint32_t deny, uint32_t pid)
{
	/* ioctls of the non-blocking socket code and stdio (isatty). */
	static const uint32_t ioctls[] = { FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TCGETS };
	static const long plain[] = {
		/* the event loop and its sockets, roughly by frequency */
#ifdef __NR_epoll_wait
		__NR_epoll_wait,
#endif
		__NR_epoll_pwait,
#ifdef __NR_epoll_pwait2
		__NR_epoll_pwait2,
#endif
		__NR_read, __NR_write, __NR_recvfrom, __NR_sendto, __NR_readv,
		__NR_writev, __NR_recvmsg, __NR_sendmsg, __NR_epoll_ctl,
		__NR_futex, __NR_clock_gettime, __NR_gettimeofday,
		__NR_close, __NR_accept4,
#ifdef __NR_accept
		__NR_accept,
#endif
		__NR_connect, __NR_bind, __NR_listen, __NR_shutdown,
		__NR_getsockname, __NR_getpeername, __NR_getsockopt,
		__NR_setsockopt, __NR_fcntl, __NR_getrandom,
		/* memory (malloc, GnuTLS, thread stacks at exit) */
		__NR_brk, __NR_munmap, __NR_mremap, __NR_madvise,
		/* descriptors made after the drop: loops, worker wake-ups */
		__NR_epoll_create1, __NR_eventfd2,
		/* daily log files through the directory fd, pairing reload;
		 * at the daily roll the current-file link is swapped and old
		 * days are removed (unlinkat below: files only) */
		__NR_openat, __NR_getdents64, __NR_symlinkat, __NR_renameat,
#ifdef __NR_renameat2
		__NR_renameat2,
#endif
#ifdef __NR_open
		__NR_open,
#endif
		__NR_fstat, __NR_newfstatat,
#ifdef __NR_statx
		__NR_statx,
#endif
		__NR_lseek,
		/* SIGHUP: a reopened log file takes the old descriptor's number */
		__NR_dup3,
		/* time, sleeping, threads, signals, exit */
		__NR_clock_getres, __NR_clock_nanosleep, __NR_nanosleep,
		__NR_sched_yield, __NR_set_robust_list, __NR_rseq,
		__NR_rt_sigprocmask, __NR_rt_sigaction, __NR_rt_sigreturn,
		__NR_restart_syscall, __NR_sigaltstack,
		__NR_getpid, __NR_gettid, __NR_getuid, __NR_geteuid,
		__NR_getgid, __NR_getegid, __NR_uname,
		__NR_exit, __NR_exit_group,
#if SP_RELAXED
		/* LeakSanitizer at exit: the tracer reads /proc/self/task and
		 * maps, attaches to each thread and reads its registers
		 * (its prctl()s: below, by option). */
		__NR_ptrace, __NR_wait4,
#ifdef __NR_getdents
		__NR_getdents,
#endif
		__NR_getppid, __NR_sched_getaffinity, __NR_readlinkat,
#ifdef __NR_readlink
		__NR_readlink,
#endif
		__NR_kill, __NR_tgkill, __NR_process_vm_readv,
#endif
	};
	size_t i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		rule(p, plain[i], SECCOMP_RET_ALLOW);
	rule_arg_clear(p, __NR_mmap, 2, PROT_EXEC, deny);
	rule_arg_clear(p, __NR_mprotect, 2, PROT_EXEC, deny);
	rule_arg_clear(p, __NR_unlinkat, 2, AT_REMOVEDIR, deny);
	rule_arg_in(p, __NR_ioctl, 1, ioctls, sizeof(ioctls) / sizeof(ioctls[0]), deny);
#if SP_RELAXED
	/* Only LeakSanitizer's own prctl()s (StopTheWorld makes the process
	 * dumpable and names its tracer; the tracer asks to die with us). Any
	 * other is refused as in a build without sanitizers, so that the tests
	 * still catch, say, a thread naming itself (PR_SET_NAME) after the
	 * filter is on. */
	{
		static const uint32_t lsan_prctl[] = {
			PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_PTRACER, PR_SET_PDEATHSIG
		};

		rule_arg_in(p, __NR_prctl, 0, lsan_prctl, sizeof(lsan_prctl) / sizeof(lsan_prctl[0]), deny);
	}
#endif
	rule_socket(p, SECCOMP_RET_KILL_PROCESS);
	rule_clone(p, SECCOMP_RET_KILL_PROCESS);
	rule_self_signal(p, __NR_tgkill, pid, deny);
	rule_self_signal(p, __NR_kill, pid, deny);
	/* glibc tries clone3 first; its flags are behind a pointer the filter
	 * cannot read, so send it back to clone. */
	rule(p, __NR_clone3, SECCOMP_RET_ERRNO | ENOSYS);
}

/* What an attacker wants and the server never does: kill in every mode. */
static void
forbidden_calls(struct prog *p)
{
	static const long never[] = {
		__NR_execve, __NR_execveat,
#ifdef __NR_fork
		__NR_fork,
#endif
#ifdef __NR_vfork
		__NR_vfork,
#endif
#if !SP_RELAXED
		__NR_ptrace, __NR_process_vm_readv,
#endif
		__NR_process_vm_writev,
		__NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot,
		__NR_unshare, __NR_setns,
#ifdef __NR_open_tree
		__NR_open_tree, __NR_move_mount, __NR_fsopen, __NR_fsmount,
#endif
		__NR_init_module, __NR_finit_module, __NR_delete_module,
		__NR_kexec_load, __NR_kexec_file_load, __NR_bpf,
		__NR_perf_event_open, __NR_userfaultfd, __NR_personality,
		__NR_keyctl, __NR_add_key, __NR_request_key,
		__NR_setuid, __NR_setgid, __NR_setreuid, __NR_setregid,
		__NR_setresuid, __NR_setresgid, __NR_setgroups,
		__NR_setfsuid, __NR_setfsgid, __NR_capset,
		__NR_socketpair, __NR_memfd_create, __NR_pkey_mprotect,
		__NR_seccomp,
	};
	size_t i;

	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		rule(p, never[i], SECCOMP_RET_KILL_PROCESS);
}

static void
build(struct prog *p, uint32_t dflt, uint32_t pid)
{
	int native;

	memset(p, 0, sizeof(*p));
	native = label_new(p);
	ld(p, offsetof(struct seccomp_data, arch));
	jump(p, BPF_JEQ, SP_AUDIT_ARCH, native, FALL);
	ret(p, SECCOMP_RET_KILL_PROCESS);
	label_here(p, native);
	ld(p, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	{
		int not_x32 = label_new(p);

		jump(p, BPF_JGE, 0x40000000u /* __X32_SYSCALL_BIT */, FALL, not_x32);
		ret(p, SECCOMP_RET_KILL_PROCESS);
		label_here(p, not_x32);
	}
#endif
	allowed_calls(p, dflt, pid);
	forbidden_calls(p);
	ret(p, dflt);
	link_labels(p);
}

const char *
sp_sandbox_mode_name(enum sp_sandbox_mode mode)
{
	switch (mode) {
	case SP_SANDBOX_OFF: return "off";
	case SP_SANDBOX_LOG: return "log";
	case SP_SANDBOX_ENFORCE: return "enforce";
	}
	return "?";
}

bool
sp_sandbox_relaxed(void)
{
	return SP_RELAXED;
}

static int
action_available(uint32_t action)
{
	return syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

int
sp_sandbox_apply(enum sp_sandbox_mode mode, char *err, size_t errlen)
{
	struct prog p;
	struct sock_fprog fprog;
	uint32_t dflt;
	long r;

	if (mode == SP_SANDBOX_OFF)
		return SP_OK;
	if (SP_AUDIT_ARCH == 0) {
		snprintf(err, errlen, "seccomp: no filter for this architecture (x86_64 and "
		    "aarch64 only); set 'seccomp: off' to run without one");
		return SP_ERR_SYSTEM;
	}
	dflt = mode == SP_SANDBOX_LOG ? SECCOMP_RET_LOG : SECCOMP_RET_KILL_PROCESS;
	if (!action_available(SECCOMP_RET_KILL_PROCESS) || !action_available(dflt)) {
		snprintf(err, errlen, "seccomp: the kernel lacks %s (Linux >= 4.14 needed): %s",
		    action_available(SECCOMP_RET_KILL_PROCESS) ? "SECCOMP_RET_LOG" :
		    "SECCOMP_RET_KILL_PROCESS", strerror(errno));
		return SP_ERR_SYSTEM;
	}
	build(&p, dflt, (uint32_t)getpid());
	if (p.broken) {
		snprintf(err, errlen, "seccomp: filter program does not assemble (%u instructions)", p.n);
		return SP_ERR_SYSTEM;
	}
	fprog.len = (unsigned short)p.n;
	fprog.filter = p.ins;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "seccomp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return SP_ERR_SYSTEM;
	}
	r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (r != 0) {
		if (r > 0)
			snprintf(err, errlen, "seccomp: thread %ld cannot take the filter", r);
		else
			snprintf(err, errlen, "seccomp: SECCOMP_SET_MODE_FILTER: %s", strerror(errno));
		return SP_ERR_SYSTEM;
	}
	return SP_OK;
}
