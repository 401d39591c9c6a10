/*
 * commands.c - smartproxyctl's commands: partners, rules, sessions, events,
 * status, and the output helpers every command shares (ctl.h); listeners and
 * blocks are in listeners.c. Each builds one request, and prints either the API's JSON
 * (--json) or a table for people. Options follow the sub-command.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "tools/smartproxyctl/ctl.h"

bool ctl_json_mode;

/* One message on stderr (with `hint` after it) and, in --json mode, as JSON. */
static void
report(const char *hint, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "smartproxyctl: %s%s\n", msg, hint);
	if (ctl_json_mode)
		ctl_json_error("usage", msg, 0);
}

void
ctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("", fmt, ap);
	va_end(ap);
}

void
ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(" (smartproxyctl --help)", fmt, ap);
	va_end(ap);
}

int
ctl_time_arg(const char *in, char *out, size_t outlen)
{
	time_t t = time(NULL);
	struct tm tm;
	char *end;
	long long n;

	if (strcmp(in, "now") != 0 && in[0] != '+' && in[0] != '-') {
		if ((size_t)snprintf(out, outlen, "%s", in) >= outlen)
			return -1;
		return 0;   /* the API checks and normalises it */
	}
	if (in[0] == '+' || in[0] == '-') {
		n = strtoll(in + 1, &end, 10);
		if (end == in + 1 || n < 0 || n > 100000000LL || end[0] == '\0' ||
		    end[1] != '\0')
			return -1;
		switch (*end) {
		case 's': break;
		case 'm': n *= 60; break;
		case 'h': n *= 3600; break;
		case 'd': n *= 86400; break;
		default: return -1;
		}
		t += in[0] == '+' ? (time_t)n : -(time_t)n;
	}
	gmtime_r(&t, &tm);
	return strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0 ? 0 : -1;
}

const char *
s_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return "-";
	return json_object_get_string(v);
}

int
print_json(json_object *o)
{
	printf("%s\n", o != NULL ? json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE) : "{}");
	return CTL_OK;
}

/* The array member `key` of an answer (or an empty one). */
json_object *
list_of(json_object *o, const char *key)
{
	json_object *v;

	if (o != NULL && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_array))
		return v;
	return NULL;
}

size_t
len_of(json_object *a)
{
	return a != NULL ? json_object_array_length(a) : 0;
}

/*
 * Run a request and print the answer as JSON or through `table`; an answer
 * without a body (204) prints `done` for people and {} for scripts.
 */
int
show_named(const struct ctl *c, const struct ctl_name *names,
    const char *method, const char *path, json_object *body,
    void (*table)(json_object *), const char *done)
{
	json_object *ans = NULL;
	struct ctl cc = *c;
	int rc;

	cc.names = names;
	if ((rc = ctl_request(&cc, method, path, body, &ans)) == CTL_OK) {
		if (c->json)
			print_json(ans);
		else if (table != NULL)
			table(ans);
		else if (done != NULL)
			printf("%s\n", done);
	}
	json_object_put(ans);
	return rc;
}

int
show(const struct ctl *c, const char *method, const char *path, json_object *body,
    void (*table)(json_object *))
{
	return show_named(c, NULL, method, path, body, table, NULL);
}

/* getopt_long over a sub-command's arguments (argv[0] is its name). */
void
reset_getopt(void)
{
	optind = 0;   /* 0, not 1: glibc re-reads the option string's mode */
	opterr = 0;
}

/* ---- partners ---- */

/* The NETWORKS cell: the list, or "(none)" (a partner nobody reaches). */
static void
networks_cell(json_object *p, char *out, size_t outlen)
{
	json_object *nets = list_of(p, "allowed_networks");
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < len_of(nets) && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? "," : "",
		    json_object_get_string(json_object_array_get_idx(nets, i)));
	if (len_of(nets) == 0)
		snprintf(out, outlen, "(none)");
}

static void
partner_row(json_object *p, int netw)
{
	json_object *en;
	char nets[4096];

	networks_cell(p, nets, sizeof(nets));
	printf("%-25s %-8s %-20s %-20s %-*s  %s\n", s_of(p, "odette_id"),
	    json_object_object_get_ex(p, "enabled", &en) &&
	    json_object_get_boolean(en) ? "enabled" : "disabled",
	    s_of(p, "valid_from"), s_of(p, "valid_until"), netw, nets,
	    s_of(p, "description"));
}

/* NETWORKS is as wide as its widest cell, so DESCRIPTION lines up. */
static void
partner_rows(json_object **rows, size_t n)
{
	char nets[4096];
	size_t i;
	int w = (int)strlen("NETWORKS");

	for (i = 0; i < n; i++) {
		networks_cell(rows[i], nets, sizeof(nets));
		if ((int)strlen(nets) > w)
			w = (int)strlen(nets);
	}
	printf("%-25s %-8s %-20s %-20s %-*s  %s\n", "ODETTE ID", "STATE",
	    "VALID FROM", "VALID UNTIL", w, "NETWORKS", "DESCRIPTION");
	for (i = 0; i < n; i++)
		partner_row(rows[i], w);
}

static void
partners_table(json_object *ans)
{
	json_object *a = list_of(ans, "partners"), **rows;
	size_t i, n = len_of(a);

	if ((rows = calloc(n + 1, sizeof(*rows))) == NULL)
		return;
	for (i = 0; i < n; i++)
		rows[i] = json_object_array_get_idx(a, i);
	partner_rows(rows, n);
	free(rows);
}

static void
partner_table(json_object *ans)
{
	partner_rows(&ans, 1);
}

/* Field names of the partner endpoints as the options of add / change. */
static const struct ctl_name ADD_NAMES[] = {
	{ "allowed_networks", "--network" },
	{ "password", "--password-file" },
	{ "max_sessions", "--max-sessions" },
	{ "valid_from", "--valid-from" },
	{ "valid_until", "--valid-until" },
	{ "description", "--description" },
	{ "odette_id", "ODETTE_ID" },
	{ NULL, NULL }
};
static const struct ctl_name CHANGE_NAMES[] = {
	{ "allowed_networks", "--networks" },
	{ "password", "--password-file" },
	{ "max_sessions", "--max-sessions" },
	{ "valid_from", "--valid-from" },
	{ "valid_until", "--valid-until" },
	{ "description", "--description" },
	{ "tls.pins", "--pin" },
	{ "tls.require_client_cert", "--require-client-cert" },
	{ "tls.ca_bundle", "--ca-bundle" },
	{ "enabled", "--enable/--disable" },
	{ "odette_id", "ODETTE_ID" },
	{ NULL, NULL }
};

/* A PEM file's text (at most 256 KiB), or NULL with a message. */
char *
read_pem(const char *opt, const char *file)
{
	char *buf = NULL;
	size_t n = 0, cap = 256 * 1024;
	FILE *f = fopen(file, "r");

	if (f == NULL || (buf = malloc(cap + 1)) == NULL) {
		ctl_error("%s %s: cannot read", opt, file);
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	n = fread(buf, 1, cap + 1, f);
	fclose(f);
	if (n > cap) {
		ctl_error("%s %s: larger than 256 KiB", opt, file);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static char *
read_password(const char *file)
{
	char buf[64];
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char *pw = NULL;

	if (f == NULL)
		return NULL;
	if (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		pw = strdup(buf);
	}
	explicit_bzero(buf, sizeof(buf));
	if (f != stdin)
		fclose(f);
	return pw;
}

static int
partners_add(const struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "network", required_argument, NULL, 'n' },
		{ "description", required_argument, NULL, 'd' },
		{ "max-sessions", required_argument, NULL, 'm' },
		{ "disabled", no_argument, NULL, 'D' },
		{ "valid-from", required_argument, NULL, 'f' },
		{ "valid-until", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	json_object *body = json_object_new_object(), *nets = json_object_new_array();
	char *pw = NULL, t[64], *end;
	const char *pwfile = NULL;
	long ms;
	int ch, rc = CTL_USAGE;

	json_object_object_add(body, "allowed_networks", nets);
	reset_getopt();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': pwfile = optarg; break;
		case 'n': json_object_array_add(nets, json_object_new_string(optarg)); break;
		case 'd': json_object_object_add(body, "description", json_object_new_string(optarg)); break;
		case 'm':
			ms = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || ms < 0) {
				ctl_usage_error("--max-sessions needs a number");
				goto out;
			}
			json_object_object_add(body, "max_sessions", json_object_new_int64(ms));
			break;
		case 'D': json_object_object_add(body, "enabled", json_object_new_boolean(0)); break;
		case 'f':
		case 'u':
			if (ctl_time_arg(optarg, t, sizeof(t)) != 0) {
				ctl_usage_error("bad time '%s'", optarg);
				goto out;
			}
			json_object_object_add(body, ch == 'f' ? "valid_from" : "valid_until",
			    json_object_new_string(t));
			break;
		default:
			ctl_usage_error("partners add: unknown or incomplete option");
			goto out;
		}
	}
	if (optind + 1 != argc || pwfile == NULL) {
		ctl_usage_error("usage: partners add ODETTE_ID --password-file FILE|- "
		    "--network CIDR... [options]");
		goto out;
	}
	if (json_object_array_length(nets) == 0) {
		ctl_usage_error("partners add: give at least one --network CIDR "
		    "(a partner without a network could never connect)");
		goto out;
	}
	if ((pw = read_password(pwfile)) == NULL) {
		ctl_error("--password-file %s: cannot read a password", pwfile);
		goto out;
	}
	json_object_object_add(body, "odette_id", json_object_new_string(argv[optind]));
	json_object_object_add(body, "password", json_object_new_string(pw));
	rc = show_named(c, ADD_NAMES, "POST", "v1/partners", body,
	    partner_table, NULL);
out:
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	json_object_put(body);
	return rc;
}

/* A list option (--networks, --pin): comma-separated, "" or "none" empties. */
static int
list_arg(json_object *arr, const char *in)
{
	char *copy, *tok, *save = NULL;

	if (*in == '\0' || strcmp(in, "none") == 0)
		return 0;
	if ((copy = strdup(in)) == NULL)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		json_object_array_add(arr, json_object_new_string(tok));
	free(copy);
	return 0;
}

/*
 * partners change ID [options]: PUT /v1/partners/ID with only the fields
 * given; a time of "none" clears it.
 */
static int
partners_change(const struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "description", required_argument, NULL, 'd' },
		{ "networks", required_argument, NULL, 'n' },
		{ "max-sessions", required_argument, NULL, 'm' },
		{ "enable", no_argument, NULL, 'E' },
		{ "disable", no_argument, NULL, 'D' },
		{ "valid-from", required_argument, NULL, 'f' },
		{ "valid-until", required_argument, NULL, 'u' },
		{ "pin", required_argument, NULL, 'P' },
		{ "require-client-cert", required_argument, NULL, 'r' },
		{ "bind", required_argument, NULL, 'b' },
		{ "bind-dn", required_argument, NULL, 'B' },

		{ "ca-bundle", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	json_object *body = json_object_new_object(), *tls = NULL, *nets = NULL,
	    *pins = NULL;
	char *pem;
	char *pw = NULL, t[64], *end, *id, path[256];
	const char *pwfile = NULL;
	long ms;
	int ch, rc = CTL_USAGE;

	reset_getopt();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': pwfile = optarg; break;
		case 'd': json_object_object_add(body, "description", json_object_new_string(optarg)); break;
		case 'n':
			if (nets == NULL) {
				nets = json_object_new_array();
				json_object_object_add(body, "allowed_networks", nets);
			}
			if (list_arg(nets, optarg) != 0)
				goto out;
			break;
		case 'P':
			if (tls == NULL) {
				tls = json_object_new_object();
				json_object_object_add(body, "tls", tls);
			}
			if (pins == NULL) {
				pins = json_object_new_array();
				json_object_object_add(tls, "pins", pins);
			}
			if (list_arg(pins, optarg) != 0)
				goto out;
			break;
		case 'C':
			if (tls == NULL) {
				tls = json_object_new_object();
				json_object_object_add(body, "tls", tls);
			}
			if (strcmp(optarg, "none") == 0) {
				json_object_object_add(tls, "ca_bundle", NULL);
				break;
			}
			if ((pem = read_pem("--ca-bundle", optarg)) == NULL)
				goto out;
			json_object_object_add(tls, "ca_bundle",
			    json_object_new_string(pem));
			free(pem);
			break;
		case 'r':
			if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0) {
				ctl_usage_error("--require-client-cert needs yes or no");
				goto out;
			}
			if (tls == NULL) {
				tls = json_object_new_object();
				json_object_object_add(body, "tls", tls);
			}
			json_object_object_add(tls, "require_client_cert",
			    json_object_new_boolean(strcmp(optarg, "yes") == 0));
			break;
		case 'b':
		case 'B':
			/* What a CA-issued client certificate must name; the API
			 * checks the values (docs/api.md, tls.bind). */
			if (tls == NULL) {
				tls = json_object_new_object();
				json_object_object_add(body, "tls", tls);
			}
			json_object_object_add(tls, "bind",
			    json_object_new_string(ch == 'B' ? "dn" : optarg));
			if (ch == 'B')
				json_object_object_add(tls, "bind_dn",
				    json_object_new_string(optarg));
			break;
		case 'm':
			ms = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || ms < 0) {
				ctl_usage_error("--max-sessions needs a number");
				goto out;
			}
			json_object_object_add(body, "max_sessions", json_object_new_int64(ms));
			break;
		case 'E':
		case 'D':
			json_object_object_add(body, "enabled", json_object_new_boolean(ch == 'E'));
			break;
		case 'f':
		case 'u':
			if (strcmp(optarg, "none") == 0) {
				json_object_object_add(body, ch == 'f' ? "valid_from" :
				    "valid_until", NULL);
				break;
			}
			if (ctl_time_arg(optarg, t, sizeof(t)) != 0) {
				ctl_usage_error("bad time '%s' (a time, 'now', +N[smhd], "
				    "-N[smhd] or 'none')", optarg);
				goto out;
			}
			json_object_object_add(body, ch == 'f' ? "valid_from" : "valid_until",
			    json_object_new_string(t));
			break;
		default:
			ctl_usage_error("partners change: unknown or incomplete option");
			goto out;
		}
	}
	if (optind + 1 != argc) {
		ctl_usage_error("usage: partners change ODETTE_ID [--password-file FILE|-] "
		    "[--description TEXT] [--networks CIDR,...] [options]");
		goto out;
	}
	if (json_object_object_length(body) == 0 && pwfile == NULL) {
		ctl_usage_error("partners change: nothing to change");
		goto out;
	}
	if (pwfile != NULL) {
		if ((pw = read_password(pwfile)) == NULL) {
			ctl_error("--password-file %s: cannot read a password",
			    pwfile);
			goto out;
		}
		json_object_object_add(body, "password", json_object_new_string(pw));
	}
	if ((id = curl_easy_escape(NULL, argv[optind], 0)) == NULL)
		goto out;
	snprintf(path, sizeof(path), "v1/partners/%s", id);
	curl_free(id);
	rc = show_named(c, CHANGE_NAMES, "PUT", path, body, partner_table,
	    NULL);
out:
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	json_object_put(body);
	return rc;
}

/* partners block ID [--esid 03|04|08] / partners unblock ID. */
static int
partners_block(const struct ctl *c, int argc, char **argv, bool on)
{
	json_object *body = NULL;
	char path[256], done[128], *id;
	const char *esid = NULL;
	int rc;

	if (on && argc == 4 && strcmp(argv[2], "--esid") == 0)
		esid = argv[3];
	else if (argc != 2) {
		ctl_usage_error("usage: partners block ID [--esid 03|04|08] | "
		    "partners unblock ID");
		return CTL_USAGE;
	}
	if (esid != NULL && strcmp(esid, "03") != 0 && strcmp(esid, "04") != 0 &&
	    strcmp(esid, "08") != 0) {
		ctl_usage_error("--esid must be 03, 04 or 08");
		return CTL_USAGE;
	}
	if ((id = curl_easy_escape(NULL, argv[1], 0)) == NULL)
		return CTL_USAGE;
	snprintf(path, sizeof(path), "v1/partners/%s/online_block", id);
	curl_free(id);
	if (esid != NULL) {
		body = json_object_new_object();
		json_object_object_add(body, "esid_reason",
		    json_object_new_string(esid));
	}
	snprintf(done, sizeof(done), "partner %.64s %s", argv[1], on ?
	    "blocked" : "unblocked");
	rc = show_named(c, NULL, on ? "POST" : "DELETE", path, body, NULL, done);
	json_object_put(body);
	return rc;
}

int
ctl_cmd_partners(const struct ctl *c, int argc, char **argv)
{
	char path[256], *id;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "list") == 0 && argc == 2)
		return show(c, "GET", "v1/partners", NULL, partners_table);
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return partners_add(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "change") == 0)
		return partners_change(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "oftp2") == 0)
		return ctl_partners_oftp2(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "diagnose") == 0)
		return ctl_partners_diagnose(c, argc - 1, argv + 1);
	if (argc == 3 && (strcmp(argv[1], "disable") == 0 ||
	    strcmp(argv[1], "enable") == 0)) {
		if ((id = curl_easy_escape(NULL, argv[2], 0)) == NULL)
			return CTL_USAGE;
		snprintf(path, sizeof(path), "v1/partners/%s/%s", id, argv[1]);
		curl_free(id);
		rc = show(c, "POST", path, NULL, partner_table);
		return rc;
	}
	if (argc >= 3 && (strcmp(argv[1], "block") == 0 ||
	    strcmp(argv[1], "unblock") == 0))
		return partners_block(c, argc - 1, argv + 1,
		    strcmp(argv[1], "block") == 0);
	if (argc == 3 && strcmp(argv[1], "remove") == 0) {
		char done[128];

		if ((id = curl_easy_escape(NULL, argv[2], 0)) == NULL)
			return CTL_USAGE;
		snprintf(path, sizeof(path), "v1/partners/%s", id);
		curl_free(id);
		snprintf(done, sizeof(done), "partner %.64s removed", argv[2]);
		return show_named(c, NULL, "DELETE", path, NULL, NULL, done);
	}
	ctl_usage_error("usage: partners list | add ID ... | change ID ... | "
	    "disable ID | enable ID | remove ID | block ID | unblock ID | "
	    "oftp2 ID [KEY=on|off|default...] | diagnose ID [--limit N]");
	return CTL_USAGE;
}

/* ---- rules ---- */

static void
rule_row(json_object *r)
{
	printf("%-6s %-20s %-20s %-30s %s\n", s_of(r, "id"), s_of(r, "valid_from"),
	    s_of(r, "valid_until"), s_of(r, "match"), s_of(r, "description"));
}

static void
rules_table(json_object *ans)
{
	json_object *a = list_of(ans, "rules");
	size_t i;

	printf("%-6s %-20s %-20s %-30s %s\n", "ID", "VALID FROM", "VALID UNTIL",
	    "MATCH", "DESCRIPTION");
	for (i = 0; i < len_of(a); i++)
		rule_row(json_object_array_get_idx(a, i));
}

static void
rule_table(json_object *ans)
{
	rules_table(NULL);
	rule_row(ans);
}

static int
rules_add(const struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "match", required_argument, NULL, 'm' },
		{ "description", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "until", required_argument, NULL, 'u' },
		{ "forever", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct ctl_name names[] = {
		{ "match", "--match" }, { "description", "--description" },
		{ "valid_from", "--from" }, { "valid_until", "--until" },
		{ NULL, NULL }
	};
	json_object *body = json_object_new_object();
	char t[64];
	bool forever = false;
	int ch, rc = CTL_USAGE;

	reset_getopt();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': json_object_object_add(body, "match", json_object_new_string(optarg)); break;
		case 'd': json_object_object_add(body, "description", json_object_new_string(optarg)); break;
		case 'F': forever = true; break;
		case 'f':
		case 'u':
			if (ctl_time_arg(optarg, t, sizeof(t)) != 0) {
				ctl_usage_error("bad time '%s' (a time, 'now' or +N[smhd])", optarg);
				goto out;
			}
			json_object_object_add(body, ch == 'f' ? "valid_from" : "valid_until",
			    json_object_new_string(t));
			break;
		default:
			ctl_usage_error("rules add: unknown or incomplete option");
			goto out;
		}
	}
	if (optind != argc || !json_object_object_get_ex(body, "match", NULL) ||
	    !json_object_object_get_ex(body, "description", NULL)) {
		ctl_usage_error("usage: rules add --match TEXT --description TEXT "
		    "[--from T] --until T|--forever");
		goto out;
	}
	/* A rule without an end silences its text for good: say so. */
	if (forever == json_object_object_get_ex(body, "valid_until", NULL)) {
		ctl_usage_error(forever ? "rules add: --until and --forever "
		    "exclude each other" : "rules add: give --until T, or "
		    "--forever for a rule that never ends");
		goto out;
	}
	rc = show_named(c, names, "POST", "v1/rules", body, rule_table, NULL);
out:
	json_object_put(body);
	return rc;
}

int
ctl_cmd_rules(const struct ctl *c, int argc, char **argv)
{
	char path[64], done[64], *end;
	long long id;

	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return show(c, "GET", "v1/rules", NULL, rules_table);
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return rules_add(c, argc - 1, argv + 1);
	if (argc == 3 && strcmp(argv[1], "remove") == 0) {
		id = strtoll(argv[2], &end, 10);
		if (*argv[2] == '\0' || *end != '\0' || id <= 0) {
			ctl_usage_error("rules remove: '%s' is not a rule id", argv[2]);
			return CTL_USAGE;
		}
		snprintf(path, sizeof(path), "v1/rules/%lld", id);
		snprintf(done, sizeof(done), "rule %lld removed", id);
		return show_named(c, NULL, "DELETE", path, NULL, NULL, done);
	}
	ctl_usage_error("usage: rules list | add ... | remove ID");
	return CTL_USAGE;
}

/* ---- CRLs (docs/api.md 5.6) ---- */

static void
crls_table(json_object *ans)
{
	json_object *a = list_of(ans, "crls"), *r;
	size_t i;

	printf("%-16s %-20s %-20s %-6s %-30s %s\n", "CA BUNDLE", "THIS UPDATE",
	    "NEXT UPDATE", "NUMBER", "ISSUER", "SOURCE");
	for (i = 0; i < len_of(a); i++) {
		r = json_object_array_get_idx(a, i);
		printf("%-16.16s %-20s %-20s %-6s %-30s %s\n", s_of(r, "ca_bundle_sha256"),
		    s_of(r, "this_update"), s_of(r, "next_update"), s_of(r, "number"),
		    s_of(r, "issuer"), s_of(r, "source"));
	}
}

static void
crl_stored(json_object *ans)
{
	printf("%s (revision %s)\n", json_object_get_boolean(json_object_object_get(ans,
	    "stored")) ? "stored" : "not newer than the CRL kept", s_of(ans, "revision"));
}

/* A PEM CRL file as text (the API takes PEM); NULL if it is none. */
static char *
read_crl_file(const char *file)
{
	FILE *f = fopen(file, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *nb = cap > (1u << 20) ? NULL : realloc(buf, cap = n + 65536);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	fclose(f);
	if (buf == NULL)
		return NULL;
	buf[n] = '\0';
	if (strlen(buf) != n || strstr(buf, "-----BEGIN X509 CRL-----") == NULL) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
ctl_cmd_crls(const struct ctl *c, int argc, char **argv)
{
	json_object *body;
	char *pem;
	int rc;

	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return show(c, "GET", "v1/crls", NULL, crls_table);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "add") == 0) {
		if ((pem = read_crl_file(argv[2])) == NULL) {
			ctl_usage_error("crls add: %s is not a readable PEM CRL (at most 1 MiB)",
			    argv[2]);
			return CTL_USAGE;
		}
		body = json_object_new_object();
		json_object_object_add(body, "crl", json_object_new_string(pem));
		json_object_object_add(body, "source", json_object_new_string(argc == 4 ?
		    argv[3] : argv[2]));
		free(pem);
		rc = show(c, "POST", "v1/crls", body, crl_stored);
		json_object_put(body);
		return rc;
	}
	ctl_usage_error("usage: crls list | crls add FILE.pem [SOURCE]");
	return CTL_USAGE;
}

/* ---- sessions, events, status ---- */

static void
sessions_table(json_object *ans)
{
	json_object *a = list_of(ans, "sessions"), *files, *f;
	size_t i, j;

	printf("%-20s %-8s %-16s %-22s %12s %12s %-10s %s\n", "ENDED", "SESSION",
	    "PARTNER", "SOURCE", "FROM PARTNER", "TO PARTNER", "END", "FILES");
	for (i = 0; i < len_of(a); i++) {
		json_object *s = json_object_array_get_idx(a, i);

		json_object *esid = NULL;
		char end[96];

		/* The ESID that ended it and who sent it, e.g. "esid:04/inside". */
		if (json_object_object_get_ex(s, "esid", &esid) && esid != NULL)
			snprintf(end, sizeof(end), "%s:%s/%s", s_of(s, "end_reason"),
			    s_of(s, "esid"), s_of(s, "esid_from"));
		else
			snprintf(end, sizeof(end), "%s", s_of(s, "end_reason"));
		printf("%-20s %-8s %-16s %-22s %12s %12s %-10s ", s_of(s, "ended"),
		    s_of(s, "session"), s_of(s, "partner"), s_of(s, "source_address"),
		    s_of(s, "bytes_from_partner"), s_of(s, "bytes_to_partner"), end);
		files = list_of(s, "files");
		for (j = 0; j < len_of(files); j++) {
			f = json_object_array_get_idx(files, j);
			printf("%s%s(%s)", j ? "," : "", s_of(f, "name"), s_of(f, "size"));
		}
		printf("%s\n", len_of(files) ? "" : "-");
	}
}

/* Append "&key=value" (escaped) to a query. */
static int
query_add(char *q, size_t qlen, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	size_t n = strlen(q);
	int w;

	if (esc == NULL)
		return -1;
	w = snprintf(q + n, qlen - n, "%s%s=%s", strchr(q, '?') ? "&" : "?", key, esc);
	curl_free(esc);
	return w < 0 || (size_t)w >= qlen - n ? -1 : 0;
}

/* The shared options of the listing commands. */
static int
list_query(int argc, char **argv, bool partner, char *q, size_t qlen)
{
	static const struct option opts[] = {
		{ "partner", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	char t[64];
	int ch;

	reset_getopt();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (!partner)
				goto bad;
			if (query_add(q, qlen, "partner", optarg) != 0)
				return -1;
			break;
		case 's':
		case 'u':
			if (ch == 'u' && !partner)
				goto bad;
			if (ctl_time_arg(optarg, t, sizeof(t)) != 0)
				goto badtime;
			if (query_add(q, qlen, ch == 's' ? "since" : "until", t) != 0)
				return -1;
			break;
		case 'l':
			if (query_add(q, qlen, "limit", optarg) != 0)
				return -1;
			break;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	return 0;
badtime:
	ctl_usage_error("bad time '%s' (a time, 'now', +N[smhd] or -N[smhd])", optarg);
	return -1;
bad:
	ctl_usage_error("usage: sessions [--partner P] [--since T] [--until T] "
	    "[--limit N] | events [--since T] [--limit N]");
	return -1;
}

/* The live list (GET /v1/sessions/live): what runs now, with progress,
 * on every DMZ node; a node whose sessions are not known says why. */
static void
live_table(json_object *ans)
{
	json_object *a = list_of(ans, "sessions"), *nodes = list_of(ans, "nodes"),
	    *st, *f;
	size_t i;

	if (json_object_object_get_ex(ans, "stale", &st) && json_object_get_boolean(st))
		printf("proxy stale: no heartbeat for %s ms; no live sessions known\n",
		    s_of(ans, "age_ms"));
	else if (json_object_object_get_ex(ans, "connected", &st) && !json_object_get_boolean(st))
		printf("proxy not connected: no live sessions known\n");
	else
		for (i = 0; i < len_of(nodes); i++) {
			json_object *n = json_object_array_get_idx(nodes, i);

			if (json_object_object_get_ex(n, "stale", &st) && json_object_get_boolean(st))
				printf("node %s stale: no heartbeat for %s ms; its sessions are not known\n",
				    s_of(n, "node"), s_of(n, "age_ms"));
			else if (json_object_object_get_ex(n, "connected", &st) &&
			    !json_object_get_boolean(st))
				printf("node %s not connected: its sessions are not known\n",
				    s_of(n, "node"));
		}
	printf("%-12s %-8s %-8s %-20s %-16s %-22s %-14s %-20s %12s %12s %s\n", "NODE",
	    "SESSION", "DIR", "VIA", "PARTNER", "SOURCE", "STATE", "STARTED",
	    "FROM PARTNER", "TO PARTNER", "FILE");
	for (i = 0; i < len_of(a); i++) {
		json_object *s = json_object_array_get_idx(a, i);

		printf("%-12s %-8s %-8s %-20s %-16s %-22s %-14s %-20s %12s %12s ",
		    s_of(s, "node"), s_of(s, "session"),
		    s_of(s, "direction"), s_of(s, "via"), s_of(s, "partner"),
		    s_of(s, "source_address"), s_of(s, "state"), s_of(s, "started"),
		    s_of(s, "bytes_from_partner"), s_of(s, "bytes_to_partner"));
		if (json_object_object_get_ex(s, "file", &f) && f != NULL)
			printf("%s %s %s octets of %s KiB\n", s_of(f, "name"),
			    s_of(f, "direction"), s_of(f, "octets"), s_of(f, "size_kib"));
		else
			printf("-\n");
	}
}

int
ctl_cmd_sessions(const struct ctl *c, int argc, char **argv)
{
	char q[1024] = "v1/sessions";

	if (argc >= 2 && strcmp(argv[1], "--live") == 0) {
		if (argc != 2) {
			ctl_usage_error("usage: sessions --live (no other option)");
			return CTL_USAGE;
		}
		return show(c, "GET", "v1/sessions/live", NULL, live_table);
	}
	if (list_query(argc, argv, true, q, sizeof(q)) != 0)
		return CTL_USAGE;
	return show(c, "GET", q, NULL, sessions_table);
}

static void
events_table(json_object *ans)
{
	json_object *a = list_of(ans, "events");
	size_t i;

	printf("%-6s %-20s %-20s %-8s %6s %-14s %-12s %-16s %s\n", "ID", "TIME",
	    "TYPE", "SEVERITY", "COUNT", "SCRIPT", "NODE", "PARTNER", "MESSAGE");
	for (i = 0; i < len_of(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);

		printf("%-6s %-20s %-20s %-8s %6s %-14s %-12s %-16s %s\n", s_of(e, "id"),
		    s_of(e, "time"), s_of(e, "type"), s_of(e, "severity"),
		    s_of(e, "count"), s_of(e, "outcome"), s_of(e, "node"),
		    s_of(e, "partner"), s_of(e, "message"));
	}
}

int
ctl_cmd_events(const struct ctl *c, int argc, char **argv)
{
	char q[1024] = "v1/events";

	if (list_query(argc, argv, false, q, sizeof(q)) != 0)
		return CTL_USAGE;
	return show(c, "GET", q, NULL, events_table);
}

static void
status_table(json_object *ans)
{
	json_object *p, *st, *v;

	printf("backend revision:  %s\n", s_of(ans, "revision"));
	if (!json_object_object_get_ex(ans, "proxy", &p) || p == NULL) {
		printf("proxy:             no status reported yet\n");
		return;
	}
	if (!json_object_object_get_ex(p, "status", &st))
		st = NULL;
	printf("reported:          %s by %s (%s ms ago)\n", s_of(p, "received"),
	    s_of(p, "reported_by"), s_of(p, "age_ms"));
	/* A stale report no longer says how the proxy stands. */
	if (json_object_object_get_ex(p, "stale", &v) && json_object_get_boolean(v))
		printf("connected:         stale (no heartbeat for %s ms, heartbeat every %s ms)\n",
		    s_of(p, "age_ms"), s_of(st, "heartbeat_ms"));
	else
		printf("connected:         %s\n", s_of(st, "connected"));
	printf("server:            %s\n", s_of(st, "server"));
	printf("Proxy ID:          %s\n", s_of(st, "proxy_id"));
	printf("revision applied:  %s\n", s_of(st, "revision_applied"));
	if (json_object_object_get_ex(p, "stale", &v) && json_object_get_boolean(v))
		printf("sessions:          unknown (stale)\n");
	else
		printf("sessions:          %s\n", s_of(st, "sessions"));
	printf("heartbeat:         %s ms\n", s_of(st, "heartbeat_ms"));
	/* Several DMZ nodes: one line each, by the token its client reports with. */
	if (json_object_object_get_ex(ans, "nodes", &p) &&
	    json_object_is_type(p, json_type_array) && json_object_array_length(p) > 1) {
		size_t i;

		for (i = 0; i < json_object_array_length(p); i++) {
			json_object *n = json_object_array_get_idx(p, i);

			if (!json_object_object_get_ex(n, "status", &st))
				st = NULL;
			printf("node %-12s connected %s, server %s, revision %s, sessions %s, "
			    "reported %s, stale %s\n", s_of(n, "node"), s_of(st, "connected"),
			    s_of(st, "server"), s_of(st, "revision_applied"), s_of(st, "sessions"),
			    s_of(n, "received"), s_of(n, "stale"));
		}
	}
}

int
ctl_cmd_status(const struct ctl *c, int argc, char **argv)
{
	if (argc != 1) {
		ctl_usage_error("usage: status");
		return CTL_USAGE;
	}
	return show(c, "GET", "v1/status", NULL, status_table);
}
