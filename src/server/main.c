/*
 * main.c - smartproxy-server, the DMZ half of smartproxy.
 *
 * Starts from the bootstrap file alone: it creates or loads its identity,
 * loads the modules, listens on the tunnel port and waits for a paired
 * client. Partner listeners exist only while a client is connected and has
 * delivered a configuration revision. See docs/architecture.md.
 */
#include "server/server.h"
#include "server/session.h"
#include "server/stats.h"
#include "core/err.h"
#include "core/log.h"
#include "core/module.h"
#include "core/nofile.h"
#include "core/notify.h"
#include "core/signals.h"
#include "core/sandbox.h"
#include "tunnel/msg.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CONF SP_SYSCONFDIR "/smartproxy/server.yaml"
#define DEFAULT_PAIRING "/etc/smartproxy/pairing"

/* The one server of this process, for host calls made without a session. */
struct server *server_self;

/* host->backend_post for the chain engine: through this server's tunnel. */
/* host->backend_post: the bridge is the main loop's; from a session loop
 * (or a worker) the document goes there by message. */
static int
post_backend(const char *path, const char *json)
{
	struct xmsg *x;

	if (server_on_main(server_self))
		return bridge_post(server_self, path, json);
	if (!bridge_path_valid(path))
		return SP_ERR_INVALID;
	if ((x = xmsg_new(server_self, handoff_msg_post)) == NULL ||
	    (x->s1 = strdup(path)) == NULL || (x->s2 = strdup(json)) == NULL) {
		xmsg_free(x);
		return SP_ERR_NOMEM;
	}
	xmsg_to_main(server_self, x);
	return SP_OK;
}

static const struct sp_chain_env chain_env = { .backend_post = post_backend };

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smartproxy-server [-c FILE] [-l PAIRING] [-L] [--check]\n"
	    "  -c, --config FILE   bootstrap file (default " DEFAULT_CONF ")\n"
	    "  -l, --pairing FILE  clients allowed to connect (default: bootstrap pairing_file,\n"
	    "                      else " DEFAULT_PAIRING ")\n"
	    "  -L, --proxy-id      print this server's Proxy ID and exit\n"
	    "      --check         validate the bootstrap file and exit\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          print this help and exit\n");
}

/* Summaries of security-line floods are due when their window ends, even
 * if nothing else is logged then (core/log.h, sp_log_tick). */
#define LOG_TICK_MS 1000

static void
on_log_tick(struct sp_loop *loop, struct sp_timer *t, void *arg)
{
	sp_log_tick();
	sp_timer_start(loop, t, LOG_TICK_MS);
}

static int
ensure_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", path, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state_dir %s: not a directory", path);
		return SP_ERR_SYSTEM;
	}
	return SP_OK;
}

static int
load_chain(struct server *srv, struct sp_module_set **set, char *err, size_t errlen)
{
	struct sp_module_spec *specs;
	size_t i;
	int r;

	*set = NULL;
	if (srv->conf.nmodules == 0)
		return SP_OK;
	if ((specs = calloc(srv->conf.nmodules, sizeof(*specs))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < srv->conf.nmodules; i++) {
		specs[i].name = srv->conf.modules[i].name;
		specs[i].path = srv->conf.modules[i].path;
		specs[i].mode = (enum sp_mode)srv->conf.modules[i].mode;
		specs[i].options = (const char *const *)srv->conf.modules[i].options;
	}
	r = sp_modules_load(specs, srv->conf.nmodules, SP_MODULEDIR, srv->host, set, err, errlen);
	free(specs);
	if (r != 0)
		return r;
	if ((srv->chain = calloc((*set)->count, sizeof(*srv->chain))) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < (*set)->count; i++) {
		srv->chain[i].m = (*set)->mods[i].desc;
		srv->chain[i].mctx = (*set)->mods[i].mctx;
		srv->chain[i].mode = (*set)->mods[i].mode;
		srv->chain[i].name = (*set)->mods[i].name;
		sp_log(SP_LOG_INFO, "module", "module %zu: %s %s from %s", i + 1, srv->chain[i].name,
		    srv->chain[i].m->version ? srv->chain[i].m->version : "", (*set)->mods[i].path);
	}
	srv->nchain = (*set)->count;
	return SP_OK;
}

/* Become the unprivileged user (and enter the chroot) once all files are open. */
static int
drop_privileges(struct server *srv, char *err, size_t errlen)
{
	struct passwd *pw;

	if ((pw = getpwnam(srv->conf.user)) == NULL) {
		snprintf(err, errlen, "user: no such user '%s' (create it, or name another)", srv->conf.user);
		return SP_ERR_CONFIG;
	}
	if (pw->pw_uid == geteuid() && srv->conf.chroot == NULL) {
		if (pw->pw_uid == 0)
			sp_log(SP_LOG_WARN, "core", "running as root: name an unprivileged 'user' in the bootstrap file");
		return SP_OK;
	}
	if (srv->conf.chroot != NULL && (chroot(srv->conf.chroot) != 0 || chdir("/") != 0)) {
		snprintf(err, errlen, "chroot %s: %s", srv->conf.chroot, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot become user %s: %s", srv->conf.user, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "privileges could be regained after dropping them");
		return SP_ERR_SYSTEM;
	}
	sp_log(SP_LOG_INFO, "core", "running as %s%s%s", srv->conf.user,
	    srv->conf.chroot ? " in " : "", srv->conf.chroot ? srv->conf.chroot : "");
	return SP_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pairing", required_argument, NULL, 'l' },
		{ "proxy-id", no_argument, NULL, 'L' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct server srv;
	struct sp_module_set *set = NULL;
	struct server_sig sig;
	struct sp_timer log_tick;
	const char *conf_path = DEFAULT_CONF, *pairing = NULL;
	bool print_id = false, check = false, created;
	char err[1024];
	unsigned nloops;
	sigset_t mask;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "c:l:LVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'l': pairing = optarg; break;
		case 'L': print_id = true; break;
		case 'C': check = true; break;
		case 'V': printf("smartproxy-server %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	sp_signals_block(&mask, true);
	if (check)
		return sp_bootstrap_check(conf_path, &sp_server_schema);

	memset(&srv, 0, sizeof(srv));
	server_self = &srv;
	srv.tunnel_fd = -1;
	srv.pairing_dirfd = -1;
	memset(&sig, 0, sizeof(sig));
	srv.host = &sp_chain_host;
	sp_chain_set_env(&chain_env);
	srv.conf_path = conf_path;
	/* Checked before any socket opens: a start that would fail later (no
	 * user, no chroot, a missing module) fails here, as --check does. */
	if ((print_id ? sp_server_conf_load(conf_path, &srv.conf, err, sizeof(err)) :
	    sp_bootstrap_load_checked(conf_path, &sp_server_schema, &srv.conf, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	/* Before the chroot: the socket is reached by path (core/notify.h). */
	if (!print_id && sp_notify_open() != 0)
		fprintf(stderr, "smartproxy-server: NOTIFY_SOCKET: %s\n", strerror(errno));
	if (pairing == NULL)
		pairing = srv.conf.pairing_file ? srv.conf.pairing_file : DEFAULT_PAIRING;
	if (sp_log_configure(&srv.conf.logging) != 0) {
		fprintf(stderr, "%s: logging cannot be set up\n", conf_path);
		sp_server_conf_free(&srv.conf);
		return 2;
	}
	if (sp_tls_init() != 0 || ensure_dir(srv.conf.state_dir, err, sizeof(err)) != 0 ||
	    sp_identity_load_or_create(srv.conf.state_dir, "server", &srv.id, &created, err,
	        sizeof(err)) != 0) {
		fprintf(stderr, "smartproxy-server: %s\n", err);
		goto out;
	}
	if (print_id) {
		printf("Proxy ID: %s\n", srv.id.key_id);
		rc = 0;
		goto out;
	}
	srv.nofile = sp_nofile_start();
	if (created)
		sp_log(SP_LOG_NOTICE, "core", "created identity key in %s; Proxy ID %s",
		    srv.conf.state_dir, srv.id.key_id);
	if (pairing_load(&srv, pairing, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "core", "%s", err);
		rc = 2;
		goto out;
	}
	if (srv.npairing == 0)
		sp_log(SP_LOG_WARN, "core", "pairing file %s lists no client: nobody can connect", pairing);
	if (sp_loop_new(&srv.loop) != 0)
		goto out;
	/* This thread runs the main loop (server_on_main) from here on. */
	(void)sp_loop_once(srv.loop, 0);
	/* Keyless listeners (src/server/keyless.c): their handshake threads
	 * are the main loop's only when it carries the sessions itself. */
	nloops = sloops_count(srv.conf.loops);
	if (keyless_start(&srv, nloops == 1) != 0)
		goto out;
	if (load_chain(&srv, &set, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "module", "%s", err);
		rc = 2;
		goto out;
	}
	/* Before the bridge: security lines are counted before a filter
	 * module lowers them. */
	if (stats_start(&srv) != 0 || bridge_start(&srv) != 0)
		goto out;
	/* The session loops (sloop.h): threads before the sandbox, which
	 * covers them too (it is applied to every thread). */
	if (sloops_start(&srv, nloops) != 0)
		goto out;
	if (tunnel_start(&srv, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "core", "%s", err);
		goto out;
	}
	if (server_signals_start(&srv, &mask, &sig) != 0)
		goto out;
	if (drop_privileges(&srv, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "core", "%s", err);
		goto out;
	}
	/* Last: from here on the filter decides (src/core/sandbox.h). */
	if (sp_sandbox_apply((enum sp_sandbox_mode)srv.conf.seccomp, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "core", "%s", err);
		goto out;
	}
	sp_log(srv.conf.seccomp == SP_SANDBOX_ENFORCE ? SP_LOG_INFO : SP_LOG_WARN, "core",
	    "seccomp filter: %s%s", sp_sandbox_mode_name((enum sp_sandbox_mode)srv.conf.seccomp),
	    sp_sandbox_relaxed() ? " (widened for the sanitizer runtime: a test build)" : "");
	/* Ready only now: the tunnel port listens and the sandbox holds. */
	sp_notify("READY=1");
	sp_notify_status("waiting for a paired client on the tunnel port");
	sp_timer_init(&log_tick, on_log_tick, NULL);
	sp_timer_start(srv.loop, &log_tick, LOG_TICK_MS);
	rc = sp_loop_run(srv.loop) == 0 ? 0 : 1;
	sp_timer_stop(srv.loop, &log_tick);
	sp_notify("STOPPING=1");
	srv.stopping = true;
	srv.draining = true;    /* a revision still arriving opens no listener */
	sessions_end_all(&srv, "shutdown");
	listeners_close(&srv);
	/* The control connection stays: the ends below post the sessions'
	 * audit records to the backend through it. */
	tunnel_quiesce(&srv);
	/* Let deferred frees and goodbyes run; their ends come back here. */
	for (c = 0; c < 50 && srv.nsessions > 0; c++)
		sp_loop_once(srv.loop, 20);
	sp_loop_once(srv.loop, 0);
out:
	server_signals_stop(&sig);
	/* Questions still open are refused while the loops can hear it. */
	bridge_fail_asks(&srv);
	/* A session loop joins its handshake threads: none may be waiting
	 * for a signature then, which only this thread could send (it would
	 * hold both joins for the sign time limit). */
	keyless_refuse(&srv);
	/* Every loop ends what is left, its thread is joined; then the ends
	 * they sent are counted here. */
	sloops_stop(&srv);
	if (srv.loop != NULL)
		sp_loop_once(srv.loop, 0);
	/* What those ends sent the backend leaves on the control connection
	 * (bounded), which closes only then, with the rest of the tunnel. */
	for (c = 0; c < 50 && tunnel_flushing(&srv); c++)
		sp_loop_once(srv.loop, 20);
	tunnel_stop(&srv);
	if (srv.loop != NULL)
		sp_loop_once(srv.loop, 0);
	sessions_trim_stop();
	keyless_stop(&srv);
	/* The last thread is gone: what its handshakes let go of (with
	 * `loops: 1` an abandoned handshake releases its revision there, and
	 * a last release is freed here by message) runs now, while the
	 * modules whose config_free it calls are still loaded. */
	if (srv.loop != NULL)
		sp_loop_once(srv.loop, 0);
	bridge_stop(&srv);
	stats_stop(&srv);
	for (c = 0; c < (int)srv.nchain; c++)
		if (srv.chain[c].m->config_apply != NULL)
			srv.chain[c].m->config_apply(srv.chain[c].mctx, NULL);
	rtconf_unref(srv.rt);
	/* Empty by now (every session left them); only the buckets remain. */
	sp_hmap_free(&srv.session_ids);
	sp_hmap_free(&srv.addr_counts);
	free(srv.chain);
	sp_modules_unload(set);
	pairing_close(&srv);
	sp_identity_free(&srv.id);
	sp_loop_free(srv.loop);
	sp_server_conf_free(&srv.conf);
	sp_tls_deinit();
	return rc;
}
