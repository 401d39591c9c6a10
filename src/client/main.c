/*
 * main.c - smartproxy-client, the inside half of smartproxy.
 *
 * Dials the server in the DMZ (never the other way round), keeps it supplied
 * with the backend's configuration and joins each verified session to the
 * inside OFTP2 server. See docs/architecture.md.
 */
#include "client/client.h"
#include "core/err.h"
#include "core/log.h"
#include "core/nofile.h"
#include "core/notify.h"
#include "core/signals.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CONF SP_SYSCONFDIR "/smartproxy/client.yaml"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smartproxy-client [-c FILE] [--pairing-line] [--check]\n"
	    "  -c, --config FILE   bootstrap file (default " DEFAULT_CONF ")\n"
	    "  -p, --pairing-line  print the line to add to the server's pairing file and exit\n"
	    "      --check         validate the bootstrap file and exit\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          print this help and exit\n");
}

static int
hostport(const struct sp_hostport *hp, struct sp_addr *a, char *text, size_t n)
{
	snprintf(text, n, "%s%s%s:%u", strchr(hp->host, ':') ? "[" : "", hp->host,
	    strchr(hp->host, ':') ? "]" : "", hp->port);
	return sp_addr_parse(text, a);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pairing-line", no_argument, NULL, 'p' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct client cl;
	const char *conf_path = DEFAULT_CONF;
	bool pairing_line = false, check = false, created;
	char err[1024], text[SP_ADDR_TEXT + 64], host[256];
	struct client_sig sig;
	sigset_t mask;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "c:pVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'p': pairing_line = true; break;
		case 'C': check = true; break;
		case 'V': printf("smartproxy-client %s\n", PACKAGE_VERSION); return 0;
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
		return sp_bootstrap_check(conf_path, &sp_client_schema);

	memset(&cl, 0, sizeof(cl));
	memset(&sig, 0, sizeof(sig));
	cl.conf_path = conf_path;
	/* Checked before any connection, as --check does. */
	if ((pairing_line ? sp_client_conf_load(conf_path, &cl.conf, err, sizeof(err)) :
	    sp_bootstrap_load_checked(conf_path, &sp_client_schema, &cl.conf, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (hostport(&cl.conf.server.address, &cl.server_addr, text, sizeof(text)) != 0) {
		fprintf(stderr, "%s: key 'server.address': %s is not a numeric address\n", conf_path, text);
		rc = 2;
		goto out;
	}
	sp_addr_format(&cl.server_addr, cl.server_text, sizeof(cl.server_text));
	if (hostport(&cl.conf.inside.address, &cl.inside_addr, text, sizeof(text)) != 0) {
		fprintf(stderr, "%s: key 'inside.address': %s is not a numeric address\n", conf_path, text);
		rc = 2;
		goto out;
	}
	if (sp_log_configure(&cl.conf.logging) != 0) {
		fprintf(stderr, "%s: logging cannot be set up\n", conf_path);
		rc = 2;
		goto out;
	}
	if (mkdir(cl.conf.state_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "smartproxy-client: state_dir %s: %s\n", cl.conf.state_dir, strerror(errno));
		goto out;
	}
	if (sp_tls_init() != 0 ||
	    sp_identity_load_or_create(cl.conf.state_dir, "client", &cl.id, &created, err, sizeof(err)) != 0) {
		fprintf(stderr, "smartproxy-client: %s\n", err);
		goto out;
	}
	if (pairing_line) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "client");
		host[sizeof(host) - 1] = '\0';
		printf("%s %s\n", cl.id.key_id, host);
		rc = 0;
		goto out;
	}
	(void)sp_nofile_start();
	if (created)
		sp_log(SP_LOG_NOTICE, "core", "created identity key in %s; add this line to the server's pairing file: %s",
		    cl.conf.state_dir, cl.id.key_id);
	if (keyless_load(&cl, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", conf_path, err);
		rc = 2;
		goto out;
	}
	if (sp_notify_open() != 0)
		sp_log(SP_LOG_WARN, "core", "NOTIFY_SOCKET: %s", strerror(errno));
	if (sp_loop_new(&cl.loop) != 0)
		goto out;
	if (client_signals_start(&cl, &mask, &sig) != 0)
		goto out;
	if (backend_start(&cl, err, sizeof(err)) != 0) {
		sp_log(SP_LOG_ERR, "backend", "%s", err);
		rc = 2;
		goto out;
	}
	dmz_start(&cl);
	if (crl_start(&cl) != 0)
		goto out;
	control_start(&cl);
	heartbeat_start(&cl);
	sp_log(SP_LOG_NOTICE, "core", "smartproxy-client %s: server %s, inside %s:%u", PACKAGE_VERSION,
	    cl.server_text, cl.conf.inside.address.host, cl.conf.inside.address.port);
	rc = sp_loop_run(cl.loop) == 0 ? 0 : 1;
	sp_notify("STOPPING=1");
	heartbeat_goodbye(&cl);
out:
	if (cl.loop != NULL) {
		routes_close(&cl);
		pipes_close_all(&cl);
		heartbeat_stop(&cl);
		control_stop(&cl);
		dmz_stop(&cl);
		crl_stop(&cl);
		backend_stop(&cl);
		sp_loop_once(cl.loop, 0);
		client_signals_stop(&sig);
		sp_loop_free(cl.loop);
	}
	json_object_put(cl.config);
	keyless_free(&cl);
	sp_identity_free(&cl.id);
	sp_client_conf_free(&cl.conf);
	sp_tls_deinit();
	return rc;
}
