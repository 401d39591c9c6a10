/*
 * check_sandbox.c - the seccomp filter of core/sandbox.h, seen from outside.
 *
 * Every case forks a child that installs the filter (it is irreversible, so
 * never in the test process itself), does one thing and _exits; the parent
 * reads how the child ended. _exit keeps the sanitizer runtime's exit work
 * (LeakSanitizer) out of the children; the server's chain tests cover that.
 */
#include "config.h"

#include "core/err.h"
#include "core/log.h"
#include "core/sandbox.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_PACKET
#define AF_PACKET 17
#endif

/* Exit codes of a child that did not die: 0 fine, 1.. which step failed. */
typedef int child_fn(void);

static int
run_child(enum sp_sandbox_mode mode, child_fn *fn)
{
	char err[256];
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (sp_sandbox_apply(mode, err, sizeof(err)) != 0) {
			(void)!write(2, err, strlen(err));
			_exit(100);
		}
		_exit(fn());
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void
assert_exit0(int st)
{
	ck_assert_msg(WIFEXITED(st), "child killed by signal %d",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	ck_assert_msg(WEXITSTATUS(st) == 0, "child failed at step %d", WEXITSTATUS(st));
}

static void
assert_sigsys(int st)
{
	ck_assert_msg(WIFSIGNALED(st), "child was not killed (exit status %d)",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ck_assert_int_eq(WTERMSIG(st), SIGSYS);
}

/* "Seccomp:\t2" and "NoNewPrivs:\t1" in our own status. */
static int
status_field(const char *name)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, name)) == NULL)
		return -1;
	return atoi(p + strlen(name));
}

/* A directory made by the parent: the child's "log file" goes there. */
static char logdir[64];

static void *
thread_main(void *arg)
{
	return arg;
}

/* What the running server does: TCP on loopback, both families of clock,
 * randomness, memory, threads, a log file opened through a directory fd. */
static int
server_like(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct timespec ts;
	char buf[64];
	pthread_t th;
	void *res, *big;
	int l, c, s, u, dfd, fd;

	if (status_field("Seccomp:\t") != 2 || status_field("NoNewPrivs:\t") != 1)
		return 1;
	if ((l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return 2;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 4) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) != 0)
		return 3;
	if ((c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) != 0)
		return 4;
	do
		s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (s < 0 && errno == EAGAIN);
	if (s < 0 || send(c, "ping", 4, 0) != 4)
		return 5;
	do
		al = (socklen_t)recv(s, buf, sizeof(buf), 0);
	while ((int)al < 0 && errno == EAGAIN);
	if ((int)al != 4 || memcmp(buf, "ping", 4) != 0)
		return 6;
	if ((u = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 7;
	if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) < 0 && errno != EAFNOSUPPORT)
		return 8;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0 ||
	    clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 9;
	if (getrandom(buf, 32, 0) != 32)
		return 10;
	if ((big = malloc(8 << 20)) == NULL)
		return 11;
	memset(big, 1, 8 << 20);
	free(big);
	if (pthread_create(&th, NULL, thread_main, buf) != 0 ||
	    pthread_join(th, &res) != 0 || res != buf)
		return 12;
	/* as log.c does it: the directory fd was opened before (here: the
	 * path, which works as long as there is no chroot) */
	if ((dfd = open(logdir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 13;
	if ((fd = openat(dfd, "day.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0 ||
	    write(fd, "line\n", 5) != 5)
		return 14;
	close(fd);
	close(dfd);
	close(u);
	close(s);
	close(c);
	close(l);
	return 0;
}

static void
logdir_setup(void)
{
	snprintf(logdir, sizeof(logdir), "%s/sp-sandbox.XXXXXX",
	    getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 40 ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(logdir));
}

static void
logdir_teardown(void)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/day.log", logdir);
	unlink(path);
	rmdir(logdir);
}

START_TEST(allowed_calls_work)
{
	char path[96];
	struct stat sb;

	assert_exit0(run_child(SP_SANDBOX_ENFORCE, server_like));
	snprintf(path, sizeof(path), "%s/day.log", logdir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_size, 5);
}
END_TEST

static int
do_execve(void)
{
	char *argv[] = { (char *)"/bin/true", NULL };
	char *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return 1;
}

static int
do_packet_socket(void)
{
	socket(AF_PACKET, SOCK_RAW, 0);
	return 1;
}

static int
do_netlink_socket(void)
{
	socket(AF_NETLINK, SOCK_RAW, 0);
	return 1;
}

static int
do_raw_inet_socket(void)
{
	socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	return 1;
}

static int
do_udp_socket(void)
{
	socket(AF_INET, SOCK_DGRAM, 0);
	return 1;
}

static int
do_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return 1;
}

/* What a thread naming itself does (pthread_setname_np on itself). */
static int
do_prctl_set_name(void)
{
	syscall(SYS_prctl, PR_SET_NAME, (unsigned long)"sp-test", 0UL, 0UL, 0UL);
	return 1;
}

static int
do_ptrace(void)
{
	syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
	return 1;
}

static int
do_setuid(void)
{
	syscall(SYS_setuid, getuid());
	return 1;
}

static int
do_mount(void)
{
	syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, NULL);
	return 1;
}

static int
do_exec_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 2;
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return 1;
}

static int
do_kill_parent(void)
{
	/* signal 0 only probes; the call itself is what is refused */
	kill(getppid(), 0);
	return 1;
}

static int
do_x32_call(void)
{
#ifdef __x86_64__
	syscall(0x40000000L | SYS_getpid);
	return 1;
#else
	raise(SIGSYS);   /* nothing to test elsewhere; keep the case uniform */
	return 1;
#endif
}

/* The logger's daily roll as the running server meets it: configured
 * before the filter (as at startup), then midnight passes under it: a new
 * file, the current-file link swapped, an old day removed (keep_days). */
static time_t roll_now;

static void
roll_clock(struct timespec *ts)
{
	ts->tv_sec = roll_now;
	ts->tv_nsec = 0;
}

START_TEST(log_roll_under_filter)
{
	struct sp_log_target_conf t;
	struct sp_log_conf c;
	char path[128], target[64], err[256];
	ssize_t n;
	pid_t pid;
	int st, fd;

	snprintf(path, sizeof(path), "%s/srv-2026-01-01.log", logdir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		memset(&t, 0, sizeof(t));
		t.type = SP_LOG_TARGET_FILE;
		t.level = t.format = SP_LOG_INHERIT;
		t.dir = logdir;
		t.prefix = (char *)"srv";
		t.keep_days = 7;
		c.level = SP_LOG_INFO;
		c.format = SP_LOG_FORMAT_TEXT;
		c.targets = &t;
		c.ntargets = 1;
		roll_now = 1767225600 + 86400 - 1; /* 2026-01-01T23:59:59Z */
		sp_log_set_clock(roll_clock);
		if (sp_log_configure(&c) != SP_OK)
			_exit(1);
		if (sp_sandbox_apply(SP_SANDBOX_ENFORCE, err, sizeof(err)) != 0)
			_exit(2);
		roll_now += 7 * 86400 + 1;          /* 2026-01-09T00:00:00Z */
		sp_log(SP_LOG_INFO, "core", "after midnight");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	assert_exit0(st);
	snprintf(path, sizeof(path), "%s/srv.log", logdir);
	n = readlink(path, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, "srv-2026-01-09.log");
	snprintf(path, sizeof(path), "%s/srv-2026-01-01.log", logdir);
	ck_assert_int_eq(access(path, F_OK), -1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/srv-2026-01-09.log", logdir);
	ck_assert_int_eq(access(path, F_OK), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/srv.log", logdir);
	unlink(path);
}
END_TEST

/* An unlisted harmless call: umask. */
static int
do_umask(void)
{
	umask(022);
	return 0;
}

static const struct {
	const char *what;
	child_fn *fn;
	bool relaxed_allows;   /* a sanitizer build lets this one through */
} forbidden[] = {
	{ "execve /bin/true", do_execve, false },
	{ "socket(AF_PACKET)", do_packet_socket, false },
	{ "socket(AF_NETLINK)", do_netlink_socket, false },
	{ "socket(AF_INET, SOCK_RAW)", do_raw_inet_socket, false },
	{ "socket(AF_INET, SOCK_DGRAM)", do_udp_socket, false },
	{ "fork", do_fork, false },
	{ "ptrace", do_ptrace, true },
	/* Even in a sanitizer build: only LeakSanitizer's options pass. */
	{ "prctl(PR_SET_NAME)", do_prctl_set_name, false },
	{ "setuid", do_setuid, false },
	{ "mount", do_mount, false },
	{ "mprotect PROT_EXEC", do_exec_memory, false },
	{ "kill another process", do_kill_parent, true },
	{ "x32 system call", do_x32_call, false },
	{ "unlisted call (umask)", do_umask, false },
};

START_TEST(forbidden_call_kills)
{
	int st;

	if (forbidden[_i].relaxed_allows && sp_sandbox_relaxed())
		return;
	st = run_child(SP_SANDBOX_ENFORCE, forbidden[_i].fn);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "%s: child not killed by SIGSYS (status 0x%x)", forbidden[_i].what, st);
}
END_TEST

/* Log mode lets unlisted calls through; the forbidden list still kills. */
START_TEST(log_mode)
{
	assert_exit0(run_child(SP_SANDBOX_LOG, do_umask));
	assert_exit0(run_child(SP_SANDBOX_LOG, server_like));
	logdir_teardown();
	assert_sigsys(run_child(SP_SANDBOX_LOG, do_execve));
	assert_sigsys(run_child(SP_SANDBOX_LOG, do_packet_socket));
	assert_sigsys(run_child(SP_SANDBOX_LOG, do_fork));
}
END_TEST

static int
off_child(void)
{
	if (status_field("Seccomp:\t") != 0)
		return 1;
	umask(022);
	return 0;
}

START_TEST(off_mode)
{
	assert_exit0(run_child(SP_SANDBOX_OFF, off_child));
}
END_TEST

/* A thread that existed before the filter is filtered too (TSYNC). */
static int go_pipe[2];

static void *
late_exec(void *arg)
{
	char c;

	(void)arg;
	if (read(go_pipe[0], &c, 1) == 1)
		do_packet_socket();
	return NULL;
}

START_TEST(all_threads)
{
	char err[256];
	pthread_t th;
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (pipe(go_pipe) != 0 || pthread_create(&th, NULL, late_exec, NULL) != 0)
			_exit(2);
		if (sp_sandbox_apply(SP_SANDBOX_ENFORCE, err, sizeof(err)) != 0)
			_exit(3);
		if (write(go_pipe[1], "x", 1) != 1)
			_exit(4);
		pthread_join(th, NULL);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	assert_sigsys(st);
}
END_TEST

START_TEST(mode_names)
{
	ck_assert_str_eq(sp_sandbox_mode_name(SP_SANDBOX_OFF), "off");
	ck_assert_str_eq(sp_sandbox_mode_name(SP_SANDBOX_LOG), "log");
	ck_assert_str_eq(sp_sandbox_mode_name(SP_SANDBOX_ENFORCE), "enforce");
#if defined(__SANITIZE_ADDRESS__)
	ck_assert(sp_sandbox_relaxed());
#endif
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("filter");

	tcase_add_checked_fixture(tc, logdir_setup, logdir_teardown);

	tcase_add_test(tc, allowed_calls_work);
	tcase_add_test(tc, log_roll_under_filter);
	tcase_add_loop_test(tc, forbidden_call_kills, 0,
	    (int)(sizeof(forbidden) / sizeof(forbidden[0])));
	tcase_add_test(tc, log_mode);
	tcase_add_test(tc, off_mode);
	tcase_add_test(tc, all_threads);
	tcase_add_test(tc, mode_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sandbox_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
