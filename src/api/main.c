/*
 * main.c - smartproxy-api: command line, start-up and shutdown of the
 * reference backend (docs/api.md section 6). The work is elsewhere: site.c
 * (site file), store.c/render.c (SQLite), http.c/handlers.c (HTTPS),
 * watch.c (revision watcher).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/ops.h"
#include "api/pwhash.h"
#include "api/site.h"
#include "core/err.h"
#include "core/log.h"
#include "core/net.h"
#include "core/tls.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smartproxy-api --config api.yaml [--port-file FILE]\n"
	    "       smartproxy-api --config api.yaml --import site.yaml\n"
	    "       smartproxy-api --config api.yaml --check\n"
	    "       smartproxy-api --check-site site.yaml\n"
	    "       smartproxy-api --hash-token < token-file\n");
}

static char *
read_small(const char *path, char *err, size_t errlen)
{
	char *buf;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size > 256 * 1024) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    fd < 0 ? strerror(errno) : "not a small regular file");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return buf;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int
write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return SP_ERR_SYSTEM;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return SP_ERR_SYSTEM;
	return SP_OK;
}

static int
cmd_hash_token(void)
{
	char buf[SP_TOKEN_MAX + 3], hex[65];
	size_t len;

	if (fgets(buf, sizeof(buf), stdin) == NULL) {
		fprintf(stderr, "smartproxy-api: no token on stdin\n");
		return 2;
	}
	len = strcspn(buf, "\r\n");
	if (!sp_api_token_valid(buf, len)) {
		fprintf(stderr, "smartproxy-api: a token is %d to %d printable "
		    "characters without spaces\n", SP_TOKEN_MIN, SP_TOKEN_MAX);
		return 2;
	}
	sp_sha256_hex(buf, len, hex);
	explicit_bzero(buf, sizeof(buf));
	printf("%s\n", hex);
	return 0;
}

/*
 * The site reader checks files are PEM; here GnuTLS checks that each
 * certificate chain and key really load and belong together, so a broken
 * pair is refused at import and not first in the DMZ.
 */
static int
check_credentials(const char *path, const struct sp_site *site)
{
	struct sp_identity id;
	char err[256];
	size_t i;

	for (i = 0; i < site->nlisteners; i++) {
		const struct sp_site_listener *l = &site->listeners[i];

		if (!l->tls)
			continue;
		memset(&id, 0, sizeof(id));
		if (sp_identity_from_pem(l->chain_pem, l->key_pem, &id, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "%s: key 'listeners[%zu].tls': %s\n", path,
			    i, err);
			return -1;
		}
		sp_identity_free(&id);
	}
	for (i = 0; i < site->nroutes; i++) {
		const struct sp_site_route *rt = &site->routes[i];

		if (rt->client_chain == NULL)
			continue;
		memset(&id, 0, sizeof(id));
		if (sp_identity_from_pem(rt->client_chain, rt->client_key, &id,
		    err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: key 'routes[%zu].tls': %s\n", path, i,
			    err);
			return -1;
		}
		sp_identity_free(&id);
	}
	return 0;
}

static int
cmd_check_site(const char *path)
{
	struct sp_site site;
	char err[SP_BOOTSTRAP_ERR_MAX];

	if (sp_site_load(path, NULL, &site, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (check_credentials(path, &site) != 0) {
		sp_site_free(&site);
		return 2;
	}
	sp_site_free(&site);
	printf("ok\n");
	return 0;
}

static int
cmd_import(const struct sp_api_conf *conf, const char *path)
{
	struct sp_store *st = NULL;
	struct sp_site site;
	char err[SP_BOOTSTRAP_ERR_MAX];
	int64_t rev;
	int r;

	if (sp_site_load(path, NULL, &site, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (check_credentials(path, &site) != 0) {
		sp_site_free(&site);
		return 2;
	}
	if ((r = sp_store_open(conf->database, &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "smartproxy-api: %s\n", err);
		sp_site_free(&site);
		return 1;
	}
	r = sp_store_import(st, &site, &rev);
	if (r != 0)
		fprintf(stderr, "smartproxy-api: import failed: %s\n",
		    sp_store_errmsg(st));
	else
		printf("imported %s as revision %lld\n", path, (long long)rev);
	sp_store_close(st);
	sp_site_free(&site);
	return r == 0 ? 0 : 1;
}

/*
 * SIGHUP: the token files again (all or nothing: a bad file keeps every
 * token read before) and the log files reopened (logrotate); the process
 * goes on in any case.
 */
static void
reload(struct api *a)
{
	struct sp_api_tokens fresh, *r;
	char err[512];
	int nlog = sp_log_reopen();
	const char *lf = nlog < 0 ? " FAILED (see stderr)" : "";

	if (nlog < 0)
		nlog = -nlog;
	if (sp_api_tokens_load(a->conf, &fresh, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "api", "SIGHUP: tokens not reloaded, the %zu read before "
		    "stay: %s; %d log file(s) reopened%s", a->tokens.n, err, nlog, lf);
		return;
	}
	if ((r = realloc(a->retired, (a->nretired + 1) * sizeof(*r))) == NULL) {
		sp_api_tokens_free(&fresh);
		sp_log(SP_LOG_ERR, "api", "SIGHUP: tokens not reloaded: out of memory");
		return;
	}
	a->retired = r;
	pthread_mutex_lock(&a->tokmu);
	a->retired[a->nretired++] = a->tokens;
	a->tokens = fresh;
	pthread_mutex_unlock(&a->tokmu);
	sp_log(SP_LOG_NOTICE, "api", "SIGHUP: %zu token(s) reloaded; %d log file(s) reopened%s",
	    fresh.n, nlog, lf);
}

static int
run(const struct sp_api_conf *conf, const char *port_file)
{
	struct api a;
	struct sp_addr addr, bound;
	char err[512], *cert = NULL, *key = NULL;
	sigset_t sigs;
	int fd = -1, sig = 0, rc = 1;

	memset(&a, 0, sizeof(a));
	a.conf = conf;
	pthread_mutex_init(&a.mu, NULL);
	pthread_cond_init(&a.cv, NULL);
	pthread_mutex_init(&a.dbmu, NULL);
	pthread_mutex_init(&a.tokmu, NULL);

	/* Threads inherit this mask: only the main thread takes signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (sp_api_tokens_load(conf, &a.tokens, err, sizeof(err)) != 0 ||
	    sp_store_open(conf->database, &a.st, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "config", "%s", err);
		goto out;
	}
	if (api_refresh(&a, a.st, true) != 0) {
		sp_log(SP_LOG_ERR, "config", "cannot render the configuration: "
		    "%s", sp_store_errmsg(a.st));
		goto out;
	}
	if ((cert = read_small(conf->tls.certificate, err, sizeof(err))) == NULL ||
	    (key = read_small(conf->tls.key, err, sizeof(err))) == NULL) {
		sp_log(SP_LOG_ERR, "config", "%s", err);
		goto out;
	}
	if (sp_addr_parse(conf->listen, &addr) != 0 ||
	    sp_listen(&addr, 64, &fd) != 0 || sp_sock_local(fd, &bound) != 0) {
		sp_log(SP_LOG_ERR, "api", "cannot listen on %s: %s", conf->listen,
		    strerror(errno));
		goto out;
	}
	if (api_watcher_start(&a, err, sizeof(err)) != 0 ||
	    api_ops_start(&a, err, sizeof(err)) != 0 ||
	    api_http_start(&a, fd, cert, key, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "api", "%s", err);
		close(fd);
		goto out;
	}
	if (port_file != NULL &&
	    write_port_file(port_file, sp_addr_port(&bound)) != 0) {
		sp_log(SP_LOG_ERR, "api", "cannot write %s: %s", port_file,
		    strerror(errno));
		goto out;
	}
	sp_log(SP_LOG_NOTICE, "api", "listening on port %u, revision %lld",
	    sp_addr_port(&bound), (long long)a.rev);
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		reload(&a);
	sp_log(SP_LOG_NOTICE, "api", "stopping (signal %d)", sig);
	rc = 0;
out:
	api_watcher_stop(&a);
	pthread_mutex_lock(&a.mu);
	a.stopping = true;
	pthread_cond_broadcast(&a.cv);
	pthread_mutex_unlock(&a.mu);
	api_http_stop(&a);
	api_ops_stop(&a);
	sp_store_close(a.st);
	sp_api_tokens_free(&a.tokens);
	while (a.nretired > 0)
		sp_api_tokens_free(&a.retired[--a.nretired]);
	free(a.retired);
	pthread_mutex_destroy(&a.tokmu);
	free(cert);
	free_secret(key);
	free_secret(a.doc);
	pthread_mutex_destroy(&a.dbmu);
	pthread_cond_destroy(&a.cv);
	pthread_mutex_destroy(&a.mu);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "import", required_argument, NULL, 'i' },
		{ "check", no_argument, NULL, 'C' },
		{ "check-site", required_argument, NULL, 's' },
		{ "hash-token", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL, *port_file = NULL, *import = NULL,
	    *check_site = NULL;
	struct sp_api_conf conf;
	char err[SP_BOOTSTRAP_ERR_MAX];
	int ch, check = 0, hash = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:p:i:Cs:Hh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'p': port_file = optarg; break;
		case 'i': import = optarg; break;
		case 'C': check = 1; break;
		case 's': check_site = optarg; break;
		case 'H': hash = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (hash)
		return cmd_hash_token();
	if (check_site != NULL)
		return cmd_check_site(check_site);
	if (config == NULL) {
		usage(stderr);
		return 2;
	}
	if (check)
		return sp_bootstrap_check(config, &sp_api_schema);
	if (sp_api_conf_load(config, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (import != NULL)
		rc = cmd_import(&conf, import);
	else if (sp_log_configure(&conf.logging) != 0) {
		fprintf(stderr, "smartproxy-api: invalid logging configuration\n");
		rc = 2;
	} else
		rc = run(&conf, port_file);
	sp_log_reset();
	sp_api_conf_free(&conf);
	return rc;
}
