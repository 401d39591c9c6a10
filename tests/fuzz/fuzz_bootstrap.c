/*
 * fuzz_bootstrap.c - the bootstrap reader on arbitrary bytes: YAML parsing
 * with its limits, then validation and decoding against both programs'
 * schemas, then freeing. Every input must give SP_OK or an error line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bootstrap.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one(const struct sp_bs_schema *schema, const uint8_t *data, size_t size)
{
	char err[SP_BOOTSTRAP_ERR_MAX];
	void *obj;
	int r;

	if ((obj = malloc(schema->size)) == NULL)
		return;
	r = sp_bootstrap_parse("fuzz.yaml", data, size, schema, obj, err,
	    sizeof(err));
	/* An error always comes with its line, and success with none. */
	if (r != SP_OK && strncmp(err, "fuzz.yaml", 9) != 0)
		abort();
	sp_bootstrap_free(schema, obj);
	free(obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(&sp_server_schema, data, size);
	one(&sp_client_schema, data, size);
	return 0;
}
