/*
 * load.c - bench-load: the outside end of the benchmark chains (TLS client).
 *
 *   bench-load thru  --connect A --ca F --bytes N [--rounds R]
 *       per round one TLS session sends one frame of N octets (8-octet
 *       length first) and waits for bench-sink's 8-octet answer: the time
 *       runs from connect to that answer. Prints each round and the median.
 *   bench-load rate  --connect A --ca F --conns C --seconds S [--oftp2 ID:PW]
 *       C threads open full sessions back to back for S seconds: TCP, TLS
 *       handshake (no resumption), then a 64-octet frame and its answer, or
 *       with --oftp2 an OFTP2 start (SSRM, SSID both ways) and end (CD,
 *       ESID), then close. Prints completed sessions per second.
 *   bench-load handshake --connect A --ca F --conns C --seconds S
 *       C threads do full TLS handshakes (TCP connect to Finished, no
 *       resumption) back to back for S seconds, then close without a word.
 *       Prints handshakes per second and the median and 99th percentile of
 *       one handshake's time (with C = 1: the latency of an unloaded server).
 *   bench-load idle  --connect A --ca F --sessions N [--conns C] [--oftp2 ID:PW]
 *                    --hold-file F [--hold-max S]
 *       opens N sessions (each carried end to end: a frame answered, or the
 *       OFTP2 start done), prints "established K failed E", keeps them idle
 *       until F exists (at most S seconds), then closes them.
 *   bench-load flood --connect A --seconds S [--conns C] [--ca F] [--sources LIST]
 *                    [--rate R]
 *       bogus clients in rotation: connect and close; connect and send
 *       garbage; a TLS handshake then garbage inside TLS; a broken TLS
 *       record. LIST: comma-separated source addresses (e.g. 127.0.0.2).
 *       R: attempts per second over all threads (default: as fast as the
 *       target answers).
 *
 * Options common to all: --bind ADDR (source address of legitimate
 * sessions). Exit status 0 when the mode did what it says, 1 otherwise.
 * All sessions, threads and credentials are owned by main() and released
 * before it returns.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "core/buf.h"
#include "core/err.h"
#include "bench.h"

#define IO_TIMEOUT_S 30
#define MAX_THREADS 256
#define BLOCK (1 << 20)

struct opts {
	const char *mode, *connect, *ca, *bind, *oftp2, *hold_file, *sources;
	unsigned long long bytes;
	long rounds, conns, seconds, sessions, hold_max, rate;
};

static struct opts O;
static struct sockaddr_storage target;
static socklen_t target_len;
static gnutls_certificate_credentials_t cred;
static uint8_t ssid_i[65];
static uint8_t block[BLOCK];

/* ---- TLS and framing ------------------------------------------------- */

static int
tls_open(const char *source, int *fdp, gnutls_session_t *sp)
{
	gnutls_session_t s;
	int fd, r;

	if ((r = bench_connect(&target, target_len, source, IO_TIMEOUT_S, &fd)) != 0)
		return r;
	if (gnutls_init(&s, GNUTLS_CLIENT) < 0) {
		close(fd);
		return SP_ERR_NOMEM;
	}
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_session_set_verify_cert(s, "localhost", 0);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, IO_TIMEOUT_S * 1000);
	do
		r = gnutls_handshake(s);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		gnutls_deinit(s);
		close(fd);
		return SP_ERR_TLS;
	}
	*fdp = fd;
	*sp = s;
	return SP_OK;
}

static void
tls_close(int fd, gnutls_session_t s, int bye)
{
	if (bye)
		(void)gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	close(fd);
}

static int
tls_send(gnutls_session_t s, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = gnutls_record_send(s, b, n);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
			continue;
		if (w < 0)
			return SP_ERR_TLS;
		b += w;
		n -= (size_t)w;
	}
	return SP_OK;
}

static int
tls_recv(gnutls_session_t s, void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t g = gnutls_record_recv(s, b, n);
		if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED)
			continue;
		if (g == 0)
			return SP_ERR_CLOSED;
		if (g < 0)
			return SP_ERR_TLS;
		b += g;
		n -= (size_t)g;
	}
	return SP_OK;
}

/* One frame of N octets; wait for the sink's echo of the length. */
static int
frame_roundtrip(gnutls_session_t s, unsigned long long n)
{
	uint8_t head[8], ack[8];
	int r;

	for (int i = 0; i < 8; i++)
		head[i] = (uint8_t)(n >> (56 - 8 * i));
	if ((r = tls_send(s, head, 8)) != 0)
		return r;
	while (n > 0) {
		size_t part = n < BLOCK ? (size_t)n : BLOCK;
		if ((r = tls_send(s, block, part)) != 0)
			return r;
		n -= part;
	}
	if ((r = tls_recv(s, ack, 8)) != 0)
		return r;
	return memcmp(head, ack, 8) == 0 ? SP_OK : SP_ERR_PROTOCOL;
}

/* Read one STB; *cmd is the command octet. Bodies over 256 octets are refused. */
static int
stb_read(gnutls_session_t s, uint8_t *cmd)
{
	uint8_t sth[4], body[256];
	struct sp_rd rd;
	uint8_t ver;
	uint32_t len;
	int r;

	if ((r = tls_recv(s, sth, 4)) != 0)
		return r;
	sp_rd_init(&rd, sth, 4);
	if ((r = sp_rd_u8(&rd, &ver)) != 0 || (r = sp_rd_u24be(&rd, &len)) != 0)
		return r;
	if (ver != 0x10 || len < 5 || len - 4 > sizeof(body))
		return SP_ERR_PROTOCOL;
	if ((r = tls_recv(s, body, len - 4)) != 0)
		return r;
	*cmd = body[0];
	return SP_OK;
}

static int
oftp2_start(gnutls_session_t s)
{
	uint8_t cmd;
	int r;

	if ((r = stb_read(s, &cmd)) != 0)
		return r;
	if (cmd != 'I')
		return SP_ERR_PROTOCOL;
	if ((r = tls_send(s, ssid_i, sizeof(ssid_i))) != 0 || (r = stb_read(s, &cmd)) != 0)
		return r;
	return cmd == 'X' ? SP_OK : SP_ERR_DENIED;
}

static int
oftp2_end(gnutls_session_t s)
{
	static const uint8_t cd[] = { 0x10, 0, 0, 5, 'R' };
	uint8_t cmd;
	int r;

	if ((r = tls_send(s, cd, sizeof(cd))) != 0 || (r = stb_read(s, &cmd)) != 0)
		return r;
	return cmd == 'F' ? SP_OK : SP_ERR_PROTOCOL;
}

static int
build_ssid(const char *idpw)
{
	const char *colon = strchr(idpw, ':');
	char text[66];

	if (colon == NULL || colon - idpw > 25 || strlen(colon + 1) > 8)
		return SP_ERR_INVALID;
	snprintf(text, sizeof(text), "X5%-25.*s%-8s04096BNNN064N%12s\r",
	    (int)(colon - idpw), idpw, colon + 1, "");
	ssid_i[0] = 0x10;
	ssid_i[1] = 0;
	ssid_i[2] = 0;
	ssid_i[3] = 65;
	memcpy(ssid_i + 4, text, 61);
	return SP_OK;
}

/* ---- modes ----------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int
mode_thru(void)
{
	double rates[64];
	long n = O.rounds < 64 ? O.rounds : 64;

	for (long i = 0; i < n; i++) {
		gnutls_session_t s;
		int fd, r;
		double t0 = bench_now();
		if ((r = tls_open(O.bind, &fd, &s)) != 0) {
			fprintf(stderr, "bench-load: connect/TLS: %s\n", sp_strerror(r));
			return 1;
		}
		if (i == 0) {
			char *d = gnutls_session_get_desc(s);
			printf("tls %s\n", d != NULL ? d : "?");
			gnutls_free(d);
		}
		r = frame_roundtrip(s, O.bytes);
		double t = bench_now() - t0;
		tls_close(fd, s, 1);
		if (r != 0) {
			fprintf(stderr, "bench-load: round %ld: %s\n", i + 1, sp_strerror(r));
			return 1;
		}
		rates[i] = (double)O.bytes / 1048576.0 / t;
		printf("round %ld %.1f MiB/s\n", i + 1, rates[i]);
		fflush(stdout);
	}
	qsort(rates, (size_t)n, sizeof(double), cmp_double);
	printf("median %.1f\n", rates[n / 2]);
	return 0;
}

struct worker {
	pthread_t t;
	long ok, failed, target;
	int first_err;
	double deadline;
	const char *source;
	/* idle mode: the sessions this worker holds */
	int *fds;
	gnutls_session_t *sess;
};

static int
one_session(gnutls_session_t s)
{
	int r;

	if (O.oftp2 != NULL) {
		if ((r = oftp2_start(s)) != 0)
			return r;
		return oftp2_end(s);
	}
	return frame_roundtrip(s, 64);
}

static void *
rate_worker(void *arg)
{
	struct worker *w = arg;

	while (bench_now() < w->deadline) {
		gnutls_session_t s;
		int fd, r;
		if ((r = tls_open(O.bind, &fd, &s)) == 0) {
			r = one_session(s);
			tls_close(fd, s, r == 0);
		}
		if (r == 0)
			w->ok++;
		else {
			if (w->failed++ == 0)
				w->first_err = r;
			usleep(1000);
		}
	}
	return NULL;
}

static void *
idle_worker(void *arg)
{
	struct worker *w = arg;
	long streak = 0;

	while (w->ok + w->failed < w->target && streak < 50 && bench_now() < w->deadline) {
		gnutls_session_t s;
		int fd, r;
		if ((r = tls_open(O.bind, &fd, &s)) == 0) {
			r = O.oftp2 != NULL ? oftp2_start(s) : frame_roundtrip(s, 0);
			if (r != 0)
				tls_close(fd, s, 0);
		}
		if (r == 0) {
			w->fds[w->ok] = fd;
			w->sess[w->ok] = s;
			w->ok++;
			streak = 0;
		} else {
			if (w->failed++ == 0)
				w->first_err = r;
			streak++;
		}
	}
	return NULL;
}

static const char *
pick_source(long i, char *buf, size_t size)
{
	const char *p = O.sources;

	if (p == NULL)
		return NULL;
	long count = 1;
	for (const char *q = p; *q; q++)
		count += *q == ',';
	i %= count;
	while (i-- > 0)
		p = strchr(p, ',') + 1;
	size_t n = strcspn(p, ",");
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static void *
flood_worker(void *arg)
{
	static const uint8_t bad_record[] = { 0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0xff };
	struct worker *w = arg;
	double start = bench_now(), gap = O.rate > 0 ? (double)O.conns / (double)O.rate : 0;
	long i = 0;

	while (bench_now() < w->deadline) {
		int fd, r, kind = (int)(i % 4);
		/* Paced: attempt i of this thread is due at start + i * gap. */
		double due = start + (double)i++ * gap, now = bench_now();
		if (due > now)
			usleep((useconds_t)((due - now) * 1e6));
		gnutls_session_t s;
		if (kind == 2 && O.ca != NULL) {
			if ((r = tls_open(w->source, &fd, &s)) == 0) {
				(void)tls_send(s, block, 1024);
				tls_close(fd, s, 0);
				w->ok++;
			} else
				w->failed++;
			continue;
		}
		if ((r = bench_connect(&target, target_len, w->source, 5, &fd)) != 0) {
			w->failed++;
			usleep(1000);
			continue;
		}
		if (kind == 1)
			(void)!write(fd, "GET / HTTP/1.0\r\n\r\n", 18);
		else if (kind == 3 || kind == 2)
			(void)!write(fd, bad_record, sizeof(bad_record));
		close(fd);
		w->ok++;
	}
	return NULL;
}

static int
run_workers(void *(*fn)(void *), struct worker *w, long n)
{
	for (long i = 0; i < n; i++)
		if (pthread_create(&w[i].t, NULL, fn, &w[i]) != 0) {
			fprintf(stderr, "bench-load: pthread_create failed\n");
			for (long j = 0; j < i; j++)
				pthread_join(w[j].t, NULL);
			return SP_ERR_SYSTEM;
		}
	for (long i = 0; i < n; i++)
		pthread_join(w[i].t, NULL);
	return SP_OK;
}

static void
report_first_error(const struct worker *w, long n)
{
	for (long i = 0; i < n; i++)
		if (w[i].failed > 0) {
			fprintf(stderr, "bench-load: first failure: %s\n",
			    sp_strerror(w[i].first_err));
			return;
		}
}

static int
mode_rate(void)
{
	struct worker w[MAX_THREADS] = { 0 };
	long ok = 0, failed = 0;
	double t0 = bench_now();

	for (long i = 0; i < O.conns; i++)
		w[i].deadline = t0 + (double)O.seconds;
	if (run_workers(rate_worker, w, O.conns) != 0)
		return 1;
	double t = bench_now() - t0;
	for (long i = 0; i < O.conns; i++) {
		ok += w[i].ok;
		failed += w[i].failed;
	}
	report_first_error(w, O.conns);
	printf("sessions %ld failed %ld seconds %.2f rate %.1f\n", ok, failed, t,
	    (double)ok / t);
	return ok > 0 ? 0 : 1;
}

/* handshake mode: full TLS handshakes and nothing else, each one timed. */
#define HS_SAMPLES_MAX 400000

static double *hs_samples;
static long hs_nsamples;
static pthread_mutex_t hs_mu = PTHREAD_MUTEX_INITIALIZER;

static void *
handshake_worker(void *arg)
{
	struct worker *w = arg;

	while (bench_now() < w->deadline) {
		gnutls_session_t s;
		int fd, r;
		double t0 = bench_now();

		if ((r = tls_open(O.bind, &fd, &s)) == 0) {
			double dt = bench_now() - t0;

			tls_close(fd, s, 0);
			w->ok++;
			pthread_mutex_lock(&hs_mu);
			if (hs_nsamples < HS_SAMPLES_MAX)
				hs_samples[hs_nsamples++] = dt;
			pthread_mutex_unlock(&hs_mu);
		} else {
			if (w->failed++ == 0)
				w->first_err = r;
			usleep(1000);
		}
	}
	return NULL;
}

static int
mode_handshake(void)
{
	struct worker w[MAX_THREADS] = { 0 };
	long ok = 0, failed = 0;
	double t0 = bench_now(), t;

	if ((hs_samples = calloc(HS_SAMPLES_MAX, sizeof(double))) == NULL)
		return 1;
	for (long i = 0; i < O.conns; i++)
		w[i].deadline = t0 + (double)O.seconds;
	if (run_workers(handshake_worker, w, O.conns) != 0) {
		free(hs_samples);
		return 1;
	}
	t = bench_now() - t0;
	for (long i = 0; i < O.conns; i++) {
		ok += w[i].ok;
		failed += w[i].failed;
	}
	report_first_error(w, O.conns);
	qsort(hs_samples, (size_t)hs_nsamples, sizeof(double), cmp_double);
	printf("handshakes %ld failed %ld seconds %.2f rate %.1f p50_ms %.3f p99_ms %.3f\n",
	    ok, failed, t, (double)ok / t,
	    hs_nsamples ? hs_samples[hs_nsamples / 2] * 1e3 : 0.0,
	    hs_nsamples ? hs_samples[(hs_nsamples * 99) / 100] * 1e3 : 0.0);
	free(hs_samples);
	return ok > 0 ? 0 : 1;
}

static int
mode_idle(void)
{
	struct worker w[MAX_THREADS] = { 0 };
	long ok = 0, failed = 0, per = (O.sessions + O.conns - 1) / O.conns;
	double t0 = bench_now();
	int rc = 1;

	for (long i = 0; i < O.conns; i++) {
		w[i].target = per;
		w[i].deadline = t0 + (double)O.hold_max;
		w[i].fds = calloc((size_t)per, sizeof(int));
		w[i].sess = calloc((size_t)per, sizeof(gnutls_session_t));
		if (w[i].fds == NULL || w[i].sess == NULL)
			goto out;
	}
	if (run_workers(idle_worker, w, O.conns) != 0)
		goto out;
	for (long i = 0; i < O.conns; i++) {
		ok += w[i].ok;
		failed += w[i].failed;
	}
	report_first_error(w, O.conns);
	printf("established %ld failed %ld seconds %.2f\n", ok, failed, bench_now() - t0);
	fflush(stdout);
	while (access(O.hold_file, F_OK) != 0 && bench_now() < t0 + (double)O.hold_max)
		usleep(50000);
	rc = ok > 0 ? 0 : 1;
out:
	for (long i = 0; i < O.conns; i++) {
		for (long j = 0; j < w[i].ok; j++)
			tls_close(w[i].fds[j], w[i].sess[j], 0);
		free(w[i].fds);
		free(w[i].sess);
	}
	return rc;
}

static int
mode_flood(void)
{
	struct worker w[MAX_THREADS] = { 0 };
	char src[MAX_THREADS][64];
	long ok = 0, failed = 0;
	double t0 = bench_now();

	for (long i = 0; i < O.conns; i++) {
		w[i].deadline = t0 + (double)O.seconds;
		w[i].source = pick_source(i, src[i], sizeof(src[i]));
	}
	if (run_workers(flood_worker, w, O.conns) != 0)
		return 1;
	double t = bench_now() - t0;
	for (long i = 0; i < O.conns; i++) {
		ok += w[i].ok;
		failed += w[i].failed;
	}
	/* Its own CPU, so that bench/run can tell the generator's share of a
	 * loaded machine from the proxy's. */
	struct rusage ru;
	double cpu = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("bogus %ld refused %ld seconds %.2f per_s %.0f cpu_s %.2f\n", ok, failed, t,
	    (double)(ok + failed) / t, cpu);
	return 0;
}

/* ---- main ------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench-load thru|rate|handshake|idle|flood --connect HOST:PORT [--ca FILE]\n"
	    "       [--bytes N] [--rounds R] [--conns C] [--seconds S] [--sessions N]\n"
	    "       [--oftp2 ID:PW] [--hold-file F] [--hold-max S] [--bind ADDR]\n"
	    "       [--sources A,B,...] [--rate R]   (see the comment at the top of bench/load.c)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "ca", required_argument, NULL, 'a' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "conns", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "sessions", required_argument, NULL, 'N' },
		{ "oftp2", required_argument, NULL, 'o' },
		{ "hold-file", required_argument, NULL, 'h' },
		{ "hold-max", required_argument, NULL, 'H' },
		{ "bind", required_argument, NULL, 'B' },
		{ "sources", required_argument, NULL, 'S' },
		{ "rate", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int o, rc = 2;

	O.rounds = 3;
	O.conns = 4;
	O.seconds = 10;
	O.hold_max = 300;
	if (argc < 2)
		usage();
	O.mode = argv[1];
	optind = 2;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': O.connect = optarg; break;
		case 'a': O.ca = optarg; break;
		case 'b': O.bytes = strtoull(optarg, NULL, 10); break;
		case 'r': O.rounds = strtol(optarg, NULL, 10); break;
		case 'n': O.conns = strtol(optarg, NULL, 10); break;
		case 's': O.seconds = strtol(optarg, NULL, 10); break;
		case 'N': O.sessions = strtol(optarg, NULL, 10); break;
		case 'o': O.oftp2 = optarg; break;
		case 'h': O.hold_file = optarg; break;
		case 'H': O.hold_max = strtol(optarg, NULL, 10); break;
		case 'B': O.bind = optarg; break;
		case 'S': O.sources = optarg; break;
		case 'R': O.rate = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (O.connect == NULL || bench_addr(O.connect, &target, &target_len) != 0 ||
	    O.conns < 1 || O.conns > MAX_THREADS || O.rounds < 1 || O.seconds < 1)
		usage();
	if (O.oftp2 != NULL && build_ssid(O.oftp2) != 0)
		usage();
	if (strcmp(O.mode, "flood") != 0 && O.ca == NULL)
		usage();
	signal(SIGPIPE, SIG_IGN);
	/* Payload: a fixed pseudo-random pattern, incompressible enough. */
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < sizeof(block); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		block[i] = (uint8_t)x;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return 1;
	if (O.ca != NULL && gnutls_certificate_set_x509_trust_file(cred, O.ca,
	    GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "bench-load: cannot read CA file %s\n", O.ca);
		gnutls_certificate_free_credentials(cred);
		return 1;
	}
	if (strcmp(O.mode, "thru") == 0 && O.bytes > 0)
		rc = mode_thru();
	else if (strcmp(O.mode, "rate") == 0)
		rc = mode_rate();
	else if (strcmp(O.mode, "handshake") == 0)
		rc = mode_handshake();
	else if (strcmp(O.mode, "idle") == 0 && O.sessions > 0 && O.hold_file != NULL)
		rc = mode_idle();
	else if (strcmp(O.mode, "flood") == 0)
		rc = mode_flood();
	else
		usage();
	gnutls_certificate_free_credentials(cred);
	return rc;
}
