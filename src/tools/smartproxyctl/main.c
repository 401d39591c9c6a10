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

#include <curl/curl.h>

#include "tools/smartproxyctl/ctl.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smartproxyctl [--url URL] [--token-file FILE] [--ca FILE] [--json]\n"
	    "                     [--timeout S] COMMAND ...\n"
	    "commands:\n"
	    "  partners list\n"
	    "  partners add ODETTE_ID --password-file FILE|- --network CIDR [--network ...]\n"
	    "               [--description TEXT] [--max-sessions N] [--disabled]\n"
	    "               [--valid-from T] [--valid-until T]\n"
	    "  partners change ODETTE_ID [--password-file FILE|-] [--description TEXT]\n"
	    "               [--networks CIDR,...|none] [--max-sessions N]\n"
	    "               [--enable|--disable] [--valid-from T|none] [--valid-until T|none]\n"
	    "               [--pin SHA256 ...|none] [--require-client-cert yes|no]\n"
	    "  partners disable ODETTE_ID | partners enable ODETTE_ID\n"
	    "  rules list\n"
	    "  rules add --match TEXT --description TEXT [--from T] [--until T]\n"
	    "  rules remove ID\n"
	    "  crls list | crls add FILE.pem [SOURCE]\n"
	    "  sessions [--partner ODETTE_ID] [--since T] [--until T] [--limit N]\n"
	    "  events [--since T] [--limit N]\n"
	    "  status\n"
	    "times T: YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DD, now, +N or -N with s m h d\n"
	    "settings: options > SMARTPROXYCTL_URL / _TOKEN_FILE / _CA > rc file\n"
	    "          ($SMARTPROXYCTL_RC or ~/.smartproxyctlrc: url, token_file, ca)\n"
	    "exit: 0 ok, 1 the API refused, 2 usage, 3 backend unreachable\n");
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
		fprintf(stderr, "smartproxyctl: token file %s: %s\n", c->token_file,
		    strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n < 16 || n > 256 || strchr(buf, ' ') != NULL) {
		fprintf(stderr, "smartproxyctl: token file %s: the first line must "
		    "be a token of 16 to 256 characters\n", c->token_file);
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
		fprintf(stderr, "smartproxyctl: the URL must start with https://\n");
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
		{ "timeout", required_argument, NULL, 'T' },
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
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': set(&c.url, optarg); break;
		case 't': set(&c.token_file, optarg); break;
		case 'c': set(&c.ca, optarg); break;
		case 'j': c.json = true; break;
		case 'T':
			c.timeout = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || c.timeout < 1 ||
			    c.timeout > 3600) {
				ctl_usage_error("--timeout must be 1 to 3600 seconds");
				goto out;
			}
			break;
		case 'h': usage(stdout); rc = CTL_OK; goto out;
		default: usage(stderr); goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
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
