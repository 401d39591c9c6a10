/*
 * fuzz_dmz_surface.c - libFuzzer target for the client's check of what the
 * server in the DMZ asks it to send to the backend (src/api/surface.c,
 * sp_surface_dmz_check): the path and the body both come from a host
 * assumed compromised.
 *
 * Input: the first octet picks the kind (modulo 3: none, post, ask), then
 * the path up to the first newline, then the body. Besides the sanitizers,
 * what is checked: a request that passes names exactly one of the DMZ lines
 * for its kind (no prefix, suffix, query or "..") and its body is one
 * strict JSON object; a refusal always says why.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/surface.h"
#include "core/err.h"

static void
fail(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_dmz_surface: %s: %.300s\n", what, text);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sp_dmz_kind kind;
	const uint8_t *nl;
	char *path, *body, err[256], why[160];
	json_object *o = NULL;
	size_t plen;
	bool ok_path;
	int r;

	if (size < 1)
		return 0;
	kind = (enum sp_dmz_kind)(data[0] % 3);
	data++;
	size--;
	nl = memchr(data, '\n', size);
	plen = nl ? (size_t)(nl - data) : size;
	/* The tunnel hands over NUL-terminated strings; so do we. */
	if ((path = strndup((const char *)data, plen)) == NULL ||
	    (body = strndup(nl ? (const char *)nl + 1 : "",
	    nl ? size - plen - 1 : 0)) == NULL)
		abort();
	err[0] = '\0';
	r = sp_surface_dmz_check(kind, path, body, err, sizeof(err));
	if (r == SP_OK) {
		ok_path = (kind == SP_DMZ_POST && (strcmp(path, "v1/events") == 0 ||
		    strcmp(path, "v1/sessions") == 0)) ||
		    (kind == SP_DMZ_ASK && strcmp(path, "v1/decisions/ssid") == 0);
		if (!ok_path)
			fail("passed a path off the surface", path);
		if (sp_body_parse(body, strlen(body), &o, why, sizeof(why)) != 0)
			fail("passed a body that does not parse", body);
		json_object_put(o);
	} else if (r != SP_ERR_NOMEM && err[0] == '\0')
		fail("refusal without a reason", path);
	free(path);
	free(body);
	return 0;
}
