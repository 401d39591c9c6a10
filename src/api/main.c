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
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/db.h"
#include "api/export.h"
#include "api/ops.h"
#include "api/panel.h"
#include "api/pwhash.h"
#include "api/site.h"
#include "api/users.h"
#include "core/err.h"
#include "core/log.h"
#include "core/net.h"
#include "core/notify.h"
#include "core/tls.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smartproxy-api --config api.yaml [--port-file FILE]\n"
	    "       smartproxy-api --config api.yaml --import site.yaml [--replace] [--progress]\n"
	    "       smartproxy-api --config api.yaml --export site.yaml\n"
	    "       smartproxy-api --config api.yaml --check\n"
	    "       smartproxy-api --check-site site.yaml\n"
	    "       smartproxy-api --hash-token < token-file\n"
	    "       smartproxy-api --config api.yaml --add-user NAME --role ROLE < password-file\n"
	    "  -c, --config FILE     api.yaml (listen address, TLS, database, tokens)\n"
	    "  -p, --port-file FILE  write the bound port to FILE once listening\n"
	    "  -i, --import FILE     merge the site file FILE into the data model\n"
	    "  -R, --replace         with --import: replace instead, after a backup\n"
	    "  -g, --progress        with --import: report progress\n"
	    "  -e, --export FILE     write the whole configuration as a site file\n"
	    "      --check           validate api.yaml and exit\n"
	    "  -s, --check-site FILE validate the site file FILE and exit\n"
	    "  -H, --hash-token      print the SHA-256 of the token read on stdin\n"
	    "  -u, --add-user NAME   add (or change) the panel user NAME, its password\n"
	    "                        the first line of stdin (10 to 256 characters)\n"
	    "  -r, --role ROLE       with --add-user: admin (changes) or read (looks)\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n");
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

/* --add-user: the password is read from stdin, never from the command
 * line (ps would show it), hashed, and stored with the role. */
static int
cmd_add_user(const struct sp_api_conf *conf, const char *name,
    const char *rolename)
{
	char buf[SP_USER_PW_MAX + 3], hash[SP_PWHASH_TEXT_MAX];
	char err[SP_BOOTSTRAP_ERR_MAX];
	struct sp_store *st = NULL;
	enum sp_role role;
	size_t len;
	int r;

	if (sp_user_name_valid(name) != 0) {
		fprintf(stderr, "smartproxy-api: a user name is 1 to %d of "
		    "A-Z a-z 0-9 . _ @ -\n", SP_USER_NAME_MAX);
		return 2;
	}
	if (rolename != NULL && strcmp(rolename, "admin") == 0)
		role = SP_ROLE_ADMIN;
	else if (rolename != NULL && strcmp(rolename, "read") == 0)
		role = SP_ROLE_READ;
	else {
		fprintf(stderr, "smartproxy-api: --add-user needs --role admin "
		    "or --role read\n");
		return 2;
	}
	if (fgets(buf, sizeof(buf), stdin) == NULL) {
		fprintf(stderr, "smartproxy-api: no password on stdin\n");
		return 2;
	}
	len = strcspn(buf, "\r\n");
	if (sp_user_password_valid(buf, len) != 0) {
		explicit_bzero(buf, sizeof(buf));
		fprintf(stderr, "smartproxy-api: a password is %d to %d "
		    "printable ASCII characters\n", SP_USER_PW_MIN,
		    SP_USER_PW_MAX);
		return 2;
	}
	r = sp_pwhash_make(buf, len, 0, hash, sizeof(hash));
	explicit_bzero(buf, sizeof(buf));
	if (r != 0) {
		fprintf(stderr, "smartproxy-api: cannot hash: %s\n",
		    sp_strerror(r));
		return 1;
	}
	if ((r = sp_store_open(conf->database, &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "smartproxy-api: %s\n", err);
		return 1;
	}
	r = sp_store_user_set(st, name, role, hash);
	if (r != 0)
		fprintf(stderr, "smartproxy-api: cannot store the user: %s\n",
		    sp_store_errmsg(st));
	else
		printf("panel user %s stored with role %s\n", name,
		    sp_role_name(role));
	sp_store_close(st);
	return r == 0 ? 0 : 1;
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
		if (l->key_pem == NULL) {
			/* key: inside - only the chain is here to check. */
			char kid[SP_KEY_ID_HEX];

			if (sp_cert_key_id_pem(l->chain_pem, kid) != 0) {
				fprintf(stderr, "%s: key 'listeners[%zu].tls': certificate is not valid PEM X.509\n",
				    path, i);
				return -1;
			}
			continue;
		}
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

/* Progress of a long site file on a terminal: one line, rewritten. */
static void
import_progress(void *arg, const char *section, size_t done, size_t total)
{
	int *shown = arg;

	if (total < 20 || (done % 10 != 0 && done != total))
		return;
	fprintf(stderr, "\rreading %s: %zu of %zu", section, done, total);
	if (done == total)
		fputc('\n', stderr);
	*shown = 1;
}

/*
 * The backup a --replace writes first, named by the time, never over an
 * older one. SQLite: a copy of the database file next to it. PostgreSQL
 * has no file to put it next to and no server-side copy we may write: the
 * backup is an export (site file and PEM directory) next to the imported
 * site file. It holds everything a replace changes (the configuration
 * tables; audit records, events and online blocks are never touched) and
 * imports back with --import --replace.
 */
static int
backup_first(struct sp_store *st, const char *db, const char *site,
    char *out, size_t outlen)
{
	struct sp_export_stats es;
	bool pg = sp_db_engine_of(db) == SP_DB_PG;
	char err[512], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int i, r = SP_ERR_EXISTS;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < 100 && r != 0; i++) {
		if (i == 0)
			snprintf(out, outlen, "%s.backup-%s%s", pg ? site : db,
			    stamp, pg ? ".yaml" : "");
		else
			snprintf(out, outlen, "%s.backup-%s-%d%s", pg ? site : db,
			    stamp, i, pg ? ".yaml" : "");
		if (access(out, F_OK) == 0)
			continue;
		r = pg ? sp_export_write(st, out, &es, err, sizeof(err)) :
		    sp_store_backup(st, out, err, sizeof(err));
		if (r != 0) {
			fprintf(stderr, "smartproxy-api: %s; nothing imported\n",
			    err);
			return r;
		}
	}
	return r;
}

static void
print_tally(const char *name, const struct sp_store_tally *t)
{
	printf(" %s %u new, %u updated;", name, t->created, t->updated);
}

static int
cmd_import(const struct sp_api_conf *conf, const char *path, bool replace,
    bool progress)
{
	struct sp_store *st = NULL;
	struct sp_store_import_stats stats;
	struct sp_site_opts opts;
	struct sp_site site;
	char err[SP_BOOTSTRAP_ERR_MAX], bak[4200];
	int64_t rev;
	int r, shown = 0;

	memset(&opts, 0, sizeof(opts));
	if (progress || isatty(STDERR_FILENO)) {
		opts.progress = import_progress;
		opts.progress_arg = &shown;
	}
	if (sp_site_load(path, &opts, &site, err, sizeof(err)) != 0) {
		if (shown)
			fputc('\n', stderr);
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
	if (replace && (r = backup_first(st, conf->database, path, bak,
	    sizeof(bak))) != 0)
		goto out;
	if (replace)
		printf("backup of the database before the replace: %s\n", bak);
	r = sp_store_import(st, &site, replace, &stats, &rev);
	if (r != 0) {
		fprintf(stderr, "smartproxy-api: import failed: %s\n",
		    sp_store_errmsg(st));
		goto out;
	}
	printf("imported %s as revision %lld (%s):", path, (long long)rev,
	    replace ? "replaced" : "merged");
	print_tally("listeners", &stats.listeners);
	print_tally("partners", &stats.partners);
	print_tally("routes", &stats.routes);
	printf(" rules %u new, %u already there\n", stats.rules.created,
	    stats.rules.updated);
out:
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
cmd_export(const struct sp_api_conf *conf, const char *path)
{
	struct sp_export_stats stats;
	struct sp_store *st = NULL;
	char err[SP_BOOTSTRAP_ERR_MAX];
	int r;

	if ((r = sp_store_open(conf->database, &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "smartproxy-api: %s\n", err);
		return 1;
	}
	r = sp_export_write(st, path, &stats, err, sizeof(err));
	sp_store_close(st);
	if (r != 0) {
		fprintf(stderr, "smartproxy-api: export failed: %s\n", err);
		return 1;
	}
	printf("exported %u listeners, %u partners, %u routes, %u rules to %s "
	    "(%u PEM files in %s.d/)\n", stats.listeners, stats.partners,
	    stats.routes, stats.rules, path, stats.files, path);
	return 0;
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
	    api_guard_start(&a, err, sizeof(err)) != 0 ||
	    api_panel_start(&a, err, sizeof(err)) != 0 ||
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
	if (sp_notify_open() != 0)
		sp_log(SP_LOG_WARN, "api", "NOTIFY_SOCKET: %s", strerror(errno));
	sp_notify("READY=1");
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		reload(&a);
	sp_log(SP_LOG_NOTICE, "api", "stopping (signal %d)", sig);
	sp_notify("STOPPING=1");
	rc = 0;
out:
	api_watcher_stop(&a);
	pthread_mutex_lock(&a.mu);
	a.stopping = true;
	pthread_cond_broadcast(&a.cv);
	pthread_mutex_unlock(&a.mu);
	api_http_stop(&a);
	api_guard_stop(&a);
	api_panel_stop(&a);
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
		{ "replace", no_argument, NULL, 'R' },
		{ "progress", no_argument, NULL, 'g' },
		{ "export", required_argument, NULL, 'e' },
		{ "check", no_argument, NULL, 'C' },
		{ "check-site", required_argument, NULL, 's' },
		{ "hash-token", no_argument, NULL, 'H' },
		{ "add-user", required_argument, NULL, 'u' },
		{ "role", required_argument, NULL, 'r' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL, *port_file = NULL, *import = NULL,
	    *check_site = NULL, *export = NULL, *add_user = NULL, *role = NULL;
	bool replace = false, progress = false;
	struct sp_api_conf conf;
	char err[SP_BOOTSTRAP_ERR_MAX];
	int ch, check = 0, hash = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:p:i:Rge:Cs:Hu:r:Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'p': port_file = optarg; break;
		case 'i': import = optarg; break;
		case 'R': replace = true; break;
		case 'g': progress = true; break;
		case 'e': export = optarg; break;
		case 'C': check = 1; break;
		case 's': check_site = optarg; break;
		case 'H': hash = 1; break;
		case 'u': add_user = optarg; break;
		case 'r': role = optarg; break;
		case 'V': printf("smartproxy-api %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (replace && import == NULL) ||
	    (import != NULL && export != NULL) ||
	    (role != NULL && add_user == NULL)) {
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
	if (add_user != NULL)
		rc = cmd_add_user(&conf, add_user, role);
	else if (import != NULL)
		rc = cmd_import(&conf, import, replace, progress);
	else if (export != NULL)
		rc = cmd_export(&conf, export);
	else if (sp_log_configure(&conf.logging) != 0) {
		fprintf(stderr, "smartproxy-api: invalid logging configuration\n");
		rc = 2;
	} else
		rc = run(&conf, port_file);
	sp_log_reset();
	sp_api_conf_free(&conf);
	return rc;
}
