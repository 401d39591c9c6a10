/*
 * oftp2/fields.h - internal to the OFTP2 codec: the field rules of ref §2
 * (X, 9, T, SIO, dates) shared by parser and builder, and error reporting.
 * Nothing here allocates; problem strings are static.
 */
#ifndef SP_OFTP2_FIELDS_H
#define SP_OFTP2_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oftp2/codec.h"

/* Kinds of X(n) field for oftp2_x_problem(). */
#define OFTP2_X_PLAIN     0u         /* left-justified, no embedded spaces */
#define OFTP2_X_SIO       1u         /* ISO 6523 code: sub-field rules, inner
                                        spaces allowed (ref §2.1) */
#define OFTP2_X_REQUIRED  (1u << 4)  /* flag: must not be all spaces */

/* Fill err (if not NULL) and return rc. Text is "<CMD>.<field>: <fmt...>",
 * or "<CMD>: ..." without a field. */
int oftp2_err_set(struct oftp2_err *err, int rc, uint8_t esid, uint8_t cmd,
    const char *field, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* Quote n foreign octets for a message: "AB\x01" style, truncated with "..."
 * to fit cap (cap >= 8). */
void oftp2_quote(char *dst, size_t cap, const uint8_t *p, size_t n);

/* NULL when the n octets are a valid X(n) field of that kind. */
const char *oftp2_x_problem(const uint8_t *p, size_t n, unsigned kind,
    unsigned tol);
/* NULL and *v set when the n octets are a valid 9(n) field. */
const char *oftp2_num_problem(const uint8_t *p, size_t n, unsigned tol,
    uint64_t *v);
/* NULL when the octets are well-formed UTF-8; *bad = offset of the error. */
const char *oftp2_utf8_problem(const uint8_t *p, size_t n, size_t *bad);
/* CCYYMMDD and HHMMSScccc as numbers (ref §3 SFIDDATE/SFIDTIME). */
const char *oftp2_date_problem(uint64_t date);
const char *oftp2_time_problem(uint64_t time, unsigned tol);

#endif
