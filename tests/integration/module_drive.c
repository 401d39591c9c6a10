/*
 * module_drive.c - loads a connlimit module built elsewhere (the out-of-tree
 * build of module_out_of_tree.sh) through the real loader and drives its
 * sessions through the real chain engine (tests/unit/mod_drive.h), to show
 * the limit holds.
 *
 *   module_drive PATH MAX
 *
 * Exit 0 and "ok" when the module behaved; 1 and one line saying what went
 * wrong otherwise; 2 on bad usage.
 */
#include "core/err.h"
#include "core/module.h"
#include "mod_drive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRIVE_MAX 64

static const struct sp_module *desc;
static void *mctx;

static enum sp_verdict
drive_open(struct md_sess *s, int id, const char *addr)
{
	struct sp_peer peer = { .size = sizeof(peer), .addr = addr, .port = (uint16_t)(40000 + id) };

	return md_open(s, id, desc, mctx, SP_MODE_ENFORCE, &peer);
}

static void
drive_close(struct md_sess *s)
{
	md_close(s, "normal");
}

#define EXPECT(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "module_drive: " __VA_ARGS__); \
		fputc('\n', stderr); \
		rc = 1; \
		goto out; \
	} \
} while (0)

int
main(int argc, char **argv)
{
	const char *opts[] = { "max_per_address", NULL, NULL };
	struct sp_module_spec spec = { .name = "connlimit", .options = opts };
	struct sp_module_set *set = NULL;
	struct md_sess s[DRIVE_MAX + 2], other, extra;
	char err[SP_MODULE_ERR_MAX];
	int max, i, open = 0, rc = 0;
	enum sp_verdict v;

	if (argc != 3 || (max = atoi(argv[2])) < 1 || max > DRIVE_MAX) {
		fprintf(stderr, "usage: module_drive PATH MAX (1..%d)\n", DRIVE_MAX);
		return 2;
	}
	spec.path = argv[1];
	opts[1] = argv[2];
	md_reset();
	if (sp_modules_load(&spec, 1, NULL, &md_host, &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "module_drive: %s\n", err);
		return 1;
	}
	desc = set->mods[0].desc;
	mctx = set->mods[0].mctx;
	memset(&other, 0, sizeof(other));
	memset(&extra, 0, sizeof(extra));

	for (i = 0; i < max; i++) {
		v = drive_open(&s[open++], i, "203.0.113.5");
		EXPECT(v == SP_CONTINUE, "session %d of %d refused (verdict %d)", i + 1, max, v);
	}
	EXPECT(md_rec.nsecurity == 0, "security event before the limit: %s",
	    md_rec.security[0]);
	v = drive_open(&extra, 100, "203.0.113.5");
	EXPECT(v == SP_REJECT, "session %d over the limit not rejected (verdict %d)", max + 1, v);
	EXPECT(md_rec.nsecurity == 1 &&
	    strncmp(md_rec.security[0], "100 rate_limited: ", 18) == 0,
	    "no rate_limited event for session 100 (%zu events)", md_rec.nsecurity);
	drive_close(&extra);
	v = drive_open(&other, 101, "2001:db8::5");
	EXPECT(v == SP_CONTINUE, "another address refused (verdict %d)", v);
	drive_close(&other);
	/* A closed session gives its slot back. */
	drive_close(&s[--open]);
	v = drive_open(&s[open++], 102, "203.0.113.5");
	EXPECT(v == SP_CONTINUE, "slot not given back on close (verdict %d)", v);
	printf("ok: %d sessions per address, session %d rejected\n", max, max + 1);
out:
	while (open > 0)
		drive_close(&s[--open]);
	md_close(&extra, "normal");
	md_close(&other, "normal");
	sp_modules_unload(set);
	return rc;
}
