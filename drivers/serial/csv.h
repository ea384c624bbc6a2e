/* Comma-separated instrument lines, e.g. "21.5,40.2,,7" read with
 * fields = temp,hum,wind,count. Pure: no I/O.
 *
 * The line must have exactly NFIELDS comma-separated fields and no control
 * byte (ef_line_clean), else EF_PARSE_REJECT. Spaces and tabs around a field are ignored. Field i gives
 * the value named FIELDS[i]: a number (EF_VAL_INT for integers, EF_VAL_DOUBLE
 * otherwise) or true/false. An empty field gives no value; a field that is
 * neither gives no value and is counted in out->skipped (the rest of the line
 * is still good). Returns EF_PARSE_OK otherwise. */
#ifndef EF_SERIAL_CSV_H
#define EF_SERIAL_CSV_H

#include "drivers/serial/parse.h"

int ef_csv_parse(const char *line, size_t len, const char (*fields)[EF_NAME_MAX + 1],
                 size_t nfields, struct ef_parsed *out);

#endif
