/*
 * fuzz_site.c - libFuzzer target for the site-file reader of smartproxy-api
 * (src/api/site.c): parse and validate one site file from memory. Files it
 * names are not read from disk: every path yields one fixed PEM blob (both
 * a certificate and a key marker), or an error for names starting "bad".
 * PBKDF2 runs with one iteration so inputs stay fast.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/site.h"

static const char PEM[] =
	"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";

static int
fake_read(const char *path, char **out, char *why, size_t whylen)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strncmp(base, "bad", 3) == 0) {
		snprintf(why, whylen, "cannot open %s", path);
		return -5;
	}
	if ((*out = strdup(PEM)) == NULL)
		return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_site_opts opts = { .basedir = "/site", .read_file = fake_read,
		.pbkdf2_iterations = 1 };
	struct sp_site site;
	char err[512];

	if (sp_site_parse("fuzz.yaml", data, size, &opts, &site, err,
	    sizeof(err)) == 0)
		sp_site_free(&site);
	return 0;
}
