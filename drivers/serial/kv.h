/* "name=value" instrument lines, e.g. "T=21.5 H=40;ok=true". Pure: no I/O.
 *
 * Pairs are separated by any run of spaces, tabs, commas or semicolons.
 * Names match [A-Za-z0-9_-]{1,64}; values are numbers (integers without '.'
 * or exponent become EF_VAL_INT, others EF_VAL_DOUBLE) or true/false.
 * "name=" (an empty value) gives no value and is not an error, like an empty
 * csv field. Any other pair (no '=', bad name, bad value) is skipped and
 * counted in out->skipped. If a name repeats, the last value wins.
 *
 * Returns EF_PARSE_OK when at least one pair was well formed (valued or
 * empty), EF_PARSE_REJECT when none was (a line of garbage) or when the line
 * holds a control byte anywhere (ef_line_clean): then nothing is taken. */
#ifndef EF_SERIAL_KV_H
#define EF_SERIAL_KV_H

#include "drivers/serial/parse.h"

int ef_kv_parse(const char *line, size_t len, struct ef_parsed *out);

#endif
