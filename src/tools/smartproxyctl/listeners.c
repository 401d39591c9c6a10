/*
 * listeners.c - smartproxyctl listeners (the certificates partners are
 * served, rotated without a restart: docs/operations.md 7) and blocks (what
 * is blocked now: the brake's address blocks and the online blocks).
 */
#include "config.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tools/smartproxyctl/ctl.h"

/* ---- listeners ---- */

static void
listener_row(json_object *l)
{
	json_object *tls;

	if (!json_object_object_get_ex(l, "tls", &tls))
		tls = NULL;
	printf("%-20s %-24s %-6s %-8s %s\n", s_of(l, "name"), s_of(l, "address"),
	    tls ? "tls" : "plain", tls ? s_of(tls, "require_client_cert") : "-",
	    tls ? s_of(tls, "certificate_sha256") : "-");
}

static void
listeners_head(void)
{
	printf("%-20s %-24s %-6s %-8s %s\n", "NAME", "ADDRESS", "TLS",
	    "REQ.CERT", "CERTIFICATE SHA-256");
}

static void
listeners_table(json_object *ans)
{
	json_object *a = list_of(ans, "listeners");
	size_t i;

	listeners_head();
	for (i = 0; i < len_of(a); i++)
		listener_row(json_object_array_get_idx(a, i));
}

static void
listener_table(json_object *ans)
{
	listeners_head();
	listener_row(ans);
}

/* listeners set-certificate NAME --chain FILE --key FILE|--key-inside: the
 * certificate rotates; new sessions get it once the proxy applied the
 * revision. --key-inside makes the listener keyless: smartproxy-client holds
 * the key and signs the handshakes (docs/operations.md 14), the body carries
 * "key": "inside" and no key leaves this host. */
static int
listeners_set_cert(const struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "chain", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "key-inside", no_argument, NULL, 'i' },
		{ "require-client-cert", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct ctl_name names[] = {
		{ "certificate_chain", "--chain" }, { "private_key", "--key" },
		{ "key", "--key-inside" },
		{ "require_client_cert", "--require-client-cert" },
		{ NULL, NULL }
	};
	json_object *body = json_object_new_object();
	const char *chainf = NULL, *keyf = NULL;
	char *chain = NULL, *key = NULL, *name, path[256];
	int ch, rc = CTL_USAGE, inside = 0;

	reset_getopt();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': chainf = optarg; break;
		case 'k': keyf = optarg; break;
		case 'i': inside = 1; break;
		case 'r':
			if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0) {
				ctl_usage_error("--require-client-cert needs yes or no");
				goto out;
			}
			json_object_object_add(body, "require_client_cert",
			    json_object_new_boolean(strcmp(optarg, "yes") == 0));
			break;
		default:
			ctl_usage_error("listeners set-certificate: unknown or "
			    "incomplete option");
			goto out;
		}
	}
	if (keyf != NULL && inside) {
		ctl_usage_error("--key and --key-inside exclude each other");
		goto out;
	}
	if (optind + 1 != argc || chainf == NULL || (keyf == NULL && !inside)) {
		ctl_usage_error("usage: listeners set-certificate NAME --chain FILE "
		    "--key FILE|--key-inside [--require-client-cert yes|no]");
		goto out;
	}
	if ((chain = read_pem("--chain", chainf)) == NULL ||
	    (!inside && (key = read_pem("--key", keyf)) == NULL)) {
		rc = CTL_USAGE;
		goto out;
	}
	json_object_object_add(body, "certificate_chain",
	    json_object_new_string(chain));
	if (inside)
		json_object_object_add(body, "key", json_object_new_string("inside"));
	else
		json_object_object_add(body, "private_key",
		    json_object_new_string(key));
	if ((name = curl_easy_escape(NULL, argv[optind], 0)) == NULL)
		goto out;
	snprintf(path, sizeof(path), "v1/listeners/%s/tls", name);
	curl_free(name);
	rc = show_named(c, names, "PUT", path, body, listener_table, NULL);
out:
	free(chain);
	free_secret(key);
	/* The key's copy in the body (json-c does not wipe what it frees). */
	{
		json_object *k;

		if (json_object_object_get_ex(body, "private_key", &k) && k != NULL)
			explicit_bzero((char *)(uintptr_t)json_object_get_string(k),
			    (size_t)json_object_get_string_len(k));
	}
	json_object_put(body);
	return rc;
}

int
ctl_cmd_listeners(const struct ctl *c, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return show(c, "GET", "v1/listeners", NULL, listeners_table);
	if (argc >= 2 && strcmp(argv[1], "set-certificate") == 0)
		return listeners_set_cert(c, argc - 1, argv + 1);
	ctl_usage_error("usage: listeners list | set-certificate NAME --chain FILE "
	    "--key FILE|--key-inside");
	return CTL_USAGE;
}

/* ---- blocks ---- */

static void
blocks_table(json_object *ans)
{
	json_object *b = list_of(ans, "brake"), *o = list_of(ans, "online");
	size_t i;

	printf("%-7s %-40s %-20s %s\n", "KIND", "ADDRESS / PARTNER", "UNTIL",
	    "DETAIL");
	for (i = 0; i < len_of(b); i++) {
		json_object *e = json_object_array_get_idx(b, i);

		printf("%-7s %-40s %-20s %s failures, reported %s\n", "brake",
		    s_of(e, "address"), s_of(e, "blocked_until"),
		    s_of(e, "failures"), s_of(e, "reported"));
	}
	for (i = 0; i < len_of(o); i++) {
		json_object *e = json_object_array_get_idx(o, i);

		printf("%-7s %-40s %-20s ESID %s, since %s\n", "online",
		    s_of(e, "odette_id"), "(lifted by hand)", s_of(e, "esid_reason"),
		    s_of(e, "since"));
	}
}

int
ctl_cmd_blocks(const struct ctl *c, int argc, char **argv)
{
	if (argc != 1) {
		ctl_usage_error("usage: blocks");
		return CTL_USAGE;
	}
	return show(c, "GET", "v1/blocks", NULL, blocks_table);
}
