/*
 * export.h - `smartproxy-api --export FILE`: the whole runtime configuration
 * of the store written back as a site file (docs/api.md 6.2) that imports
 * into a fresh database as the same state.
 *
 * The site file names PEM files instead of holding them, so the export
 * writes the certificates, keys and CA bundles into the directory
 * "FILE.d/" next to it and names them relatively. Passwords exist only as
 * hashes, so partners get `password_hash`. The file, the directory and
 * every PEM file are private (0600 / 0700): they hold private keys and
 * password hashes, like the database. Exporting again into the same FILE
 * first removes the PEM files an earlier export wrote there (names
 * listener-*, partner-*, route-* ending .pem; nothing else), so no key of a
 * removed listener stays behind.
 *
 * Each section of the document has one function in export.c
 * (export_listener, export_partner, export_route, export_rule,
 * export_limits, export_outgoing, export_modules): a field added to a
 * section of the site file is written by adding one line there.
 *
 * Ownership: nothing is handed out; the rendered document is freed here.
 */
#ifndef SP_API_EXPORT_H
#define SP_API_EXPORT_H

#include <stddef.h>

struct sp_store;

struct sp_export_stats {
	unsigned listeners, partners, routes, rules, files;
};

/* Write the site file `path` (replaced atomically) and its PEM directory. */
int sp_export_write(struct sp_store *st, const char *path,
    struct sp_export_stats *stats, char *err, size_t errlen);

#endif
