/*
 * fuzz_proxyhdr.c - the PROXY protocol header parser (core/proxyhdr.c) as
 * the server drives it: bytes arrive `needed` at a time; whatever the input,
 * a needed count never reaches past a header that is then accepted, an
 * accepted header took exactly the bytes read, and nothing crashes.
 */
#include "core/err.h"
#include "core/proxyhdr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_proxyhdr h;
	size_t have = 0, used = 0, need = 0;
	int r;

	/* All at once: any answer but a crash will do. */
	(void)sp_proxyhdr_parse(data, size, &h, &used, &need);
	/* Stepwise, as the server reads. */
	for (;;) {
		r = sp_proxyhdr_parse(data, have, &h, &used, &need);
		if (r != SP_ERR_SHORT)
			break;
		if (need == 0 || need > SP_PROXYHDR_MAX)
			abort();
		if (have + need > size)
			return 0;             /* the input ran out first */
		have += need;
	}
	if (r == SP_OK && used != have)
		abort();                      /* read past the header, or short of it */
	if (r == SP_OK && !h.local && (h.src.len == 0 || h.dst.len == 0))
		abort();
	return 0;
}
