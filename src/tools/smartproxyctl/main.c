/*
 * main.c - smartproxyctl: where the backend is (options, environment, rc
 * file), the token, and dispatch to a command (commands.c).
 *
 * Settings, highest first: command-line options; the environment
 * (SMARTPROXYCTL_URL, SMARTPROXYCTL_TOKEN_FILE, SMARTPROXYCTL_CA); the rc
 * file ($SMARTPROXYCTL_RC, else ~/.smartproxyctlrc; lines "key = value" with
 * keys url, token_file, ca; '#' comments). The token itself is only ever
 * read from a file, never taken from the command line (ps shows it).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tools/smartproxyctl/ctl.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smartproxyctl [--url URL] [--token-file FILE] [--ca FILE] [--json]\n"
	    "                     [--progress] [--timeout S] COMMAND ...\n"
	    "       smartproxyctl --version | --help\n"
	    "commands (the token's role they need, docs/api.md 1.1):\n"
	    "  partners list                                              read\n"
	    "  partners add ODETTE_ID --password-file FILE|- --network CIDR [--network ...]\n"
	    "               [--description TEXT] [--max-sessions N] [--disabled]\n"
	    "               [--valid-from T] [--valid-until T]            admin\n"
	    "  partners change ODETTE_ID [--password-file FILE|-] [--description TEXT]\n"
	    "               [--networks CIDR,...|none] [--max-sessions N]\n"
	    "               [--enable|--disable] [--valid-from T|none] [--valid-until T|none]\n"
	    "               [--pin SHA256 ...|none] [--require-client-cert yes|no]\n"
	    "               [--bind cn|san|none | --bind-dn DN] [--ca-bundle FILE|none]  admin\n"
	    "  partners disable ODETTE_ID | partners enable ODETTE_ID     admin\n"
	    "  partners remove ODETTE_ID                                  admin\n"
	    "  partners block ODETTE_ID [--esid 03|04|08] | partners unblock ODETTE_ID  admin\n"
	    "  listeners list                                             read\n"
	    "  listeners set-certificate NAME --chain FILE --key FILE|--key-inside\n"
	    "               [--require-client-cert yes|no]                admin\n"
	    "  blocks      the brake's address blocks the proxy reported, online blocks  read\n"
	    "  rules list                                                 read\n"
	    "  rules add --match TEXT --description TEXT [--from T] --until T|--forever  admin\n"
	    "  rules remove ID                                            admin\n"
	    "  crls list                                                  read\n"
	    "  crls add FILE.pem [SOURCE]                                 admin\n"
	    "  sessions [--partner ODETTE_ID] [--since T] [--until T] [--limit N]  read\n"
	    "  sessions --live                                            read\n"
	    "  events [--since T] [--limit N]                             read\n"
	    "  status                                                     read\n"
	    "  (admin may do everything; read sees partners without password hashes;\n"
	    "   a proxy token, smartproxy-client's, may run none of these)\n"
	    "times T: YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DD, now, +N or -N with s m h d\n"
	    "settings: options > SMARTPROXYCTL_URL / _TOKEN_FILE / _CA > rc file\n"
	    "          ($SMARTPROXYCTL_RC or ~/.smartproxyctlrc: url, token_file, ca)\n"
	    "--json (before or after the command): the API's JSON on stdout, errors\n"
	    "          too as {\"error\": {\"code\", \"message\"}}\n"
	    "--progress: report every transfer on stderr (on a terminal: slow ones)\n"
	    "exit status:\n"
	    "  0  done\n"
	    "  1  the API refused or failed (HTTP 4xx/5xx; its message is printed)\n"
	    "  2  usage: a wrong command or option, nothing was sent\n"
	    "  3  the backend is unreachable (connection, TLS, timeout)\n");
}

static int
set(char **dst, const char *v)
{
	if (*dst != NULL || v == NULL || *v == '\0')
		return 0;
	return (*dst = strdup(v)) != NULL ? 0 : -1;
}

/* Settings from the rc file that options and environment left open. */
static int
read_rc(struct ctl *c)
{
	const char *path = getenv("SMARTPROXYCTL_RC"), *home = getenv("HOME");
	char def[4096], line[4096], *k, *v, *e;
	FILE *f;
	int n = 0;

	if (path == NULL) {
		if (home == NULL)
			return 0;
		snprintf(def, sizeof(def), "%s/.smartproxyctlrc", home);
		if ((f = fopen(def, "r")) == NULL)
			return 0;   /* no rc file: fine */
		path = def;
	} else if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "smartproxyctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		line[strcspn(line, "\r\n")] = '\0';
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		if (*k == '#' || *k == '\0')
			continue;
		if ((v = strchr(k, '=')) == NULL)
			goto bad;
		for (e = v; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		if (strcmp(k, "url") == 0)
			set(&c->url, v);
		else if (strcmp(k, "token_file") == 0)
			set(&c->token_file, v);
		else if (strcmp(k, "ca") == 0)
			set(&c->ca, v);
		else
			goto bad;
	}
	fclose(f);
	return 0;
bad:
	fprintf(stderr, "smartproxyctl: %s:%d: expected 'url|token_file|ca = value'\n",
	    path, n);
	fclose(f);
	return -1;
}

static int
read_token(struct ctl *c)
{
	char buf[300];
	FILE *f = fopen(c->token_file, "r");
	size_t n;

	if (f == NULL) {
		ctl_error("token file %s: %s", c->token_file, strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n < 16 || n > 256 || strchr(buf, ' ') != NULL) {
		ctl_error("token file %s: the first line must be a token of 16 to "
		    "256 characters", c->token_file);
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	c->token = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return c->token != NULL ? 0 : -1;
}

/* The API root with exactly one trailing '/'. */
static int
normalise_url(struct ctl *c)
{
	size_t n = strlen(c->url);
	char *u;

	if (strncmp(c->url, "https://", 8) != 0) {
		ctl_error("the URL must start with https://");
		return -1;
	}
	if (n > 0 && c->url[n - 1] == '/')
		return 0;
	if ((u = malloc(n + 2)) == NULL)
		return -1;
	memcpy(u, c->url, n);
	u[n] = '/';
	u[n + 1] = '\0';
	free(c->url);
	c->url = u;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token-file", required_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "progress", no_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl c;
	const char *cmd;
	char *end;
	int ch, rc = CTL_USAGE;

	memset(&c, 0, sizeof(c));
	c.timeout = 30;
	/* '+': options end at the command; the command parses its own. */
	while ((ch = getopt_long(argc, argv, "+Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': set(&c.url, optarg); break;
		case 't': set(&c.token_file, optarg); break;
		case 'c': set(&c.ca, optarg); break;
		case 'j': c.json = true; break;
		case 'P': c.progress = true; break;
		case 'T':
			c.timeout = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || c.timeout < 1 ||
			    c.timeout > 3600) {
				ctl_usage_error("--timeout must be 1 to 3600 seconds");
				goto out;
			}
			break;
		case 'V': printf("smartproxyctl %s\n", PACKAGE_VERSION); rc = CTL_OK; goto out;
		case 'h': usage(stdout); rc = CTL_OK; goto out;
		default: usage(stderr); goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
	/* --json also after the command (smartproxyctl partners list --json). */
	{
		int i, j;

		for (i = j = optind; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0) {
				c.json = true;
				continue;
			}
			argv[j++] = argv[i];
		}
		argc = j;
	}
	ctl_json_mode = c.json;
	c.tty = isatty(STDERR_FILENO) != 0;
	set(&c.url, getenv("SMARTPROXYCTL_URL"));
	set(&c.token_file, getenv("SMARTPROXYCTL_TOKEN_FILE"));
	set(&c.ca, getenv("SMARTPROXYCTL_CA"));
	if (read_rc(&c) != 0)
		goto out;
	if (c.url == NULL || c.token_file == NULL) {
		ctl_usage_error("no %s: give --%s, set SMARTPROXYCTL_%s or put it "
		    "in the rc file", c.url ? "token file" : "backend URL",
		    c.url ? "token-file" : "url", c.url ? "TOKEN_FILE" : "URL");
		goto out;
	}
	if (normalise_url(&c) != 0 || read_token(&c) != 0)
		goto out;
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		rc = CTL_UNREACHABLE;
		goto out;
	}
	if (strcmp(cmd, "partners") == 0)
		rc = ctl_cmd_partners(&c, argc, argv);
	else if (strcmp(cmd, "blocks") == 0)
		rc = ctl_cmd_blocks(&c, argc, argv);
	else if (strcmp(cmd, "listeners") == 0)
		rc = ctl_cmd_listeners(&c, argc, argv);
	else if (strcmp(cmd, "rules") == 0)
		rc = ctl_cmd_rules(&c, argc, argv);
	else if (strcmp(cmd, "crls") == 0)
		rc = ctl_cmd_crls(&c, argc, argv);
	else if (strcmp(cmd, "sessions") == 0)
		rc = ctl_cmd_sessions(&c, argc, argv);
	else if (strcmp(cmd, "events") == 0)
		rc = ctl_cmd_events(&c, argc, argv);
	else if (strcmp(cmd, "status") == 0)
		rc = ctl_cmd_status(&c, argc, argv);
	else
		ctl_usage_error("unknown command '%s'", cmd);
	curl_global_cleanup();
out:
	if (c.token != NULL) {
		explicit_bzero(c.token, strlen(c.token));
		free(c.token);
	}
	free(c.url);
	free(c.token_file);
	free(c.ca);
	return rc;
}
