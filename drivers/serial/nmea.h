/* NMEA 0183 sentences from GPS receivers. Pure: no I/O.
 *
 * Accepts "$TTSSS,f1,f2,...*HH" (leading and trailing spaces/tabs ignored)
 * where TT is any two-letter talker (GP, GN, GL, GA, BD, GB, QZ, ...) and HH
 * the XOR of the bytes between '$' and '*' in hex (either case).
 *
 * Returns EF_PARSE_REJECT for a line that is not a sentence, whose checksum
 * is missing or wrong, or that holds a control byte (ef_line_clean); EF_PARSE_IGNORED for valid sentences other than GGA
 * and RMC; EF_PARSE_OK for GGA and RMC, with these values when present:
 *   GGA: fix (fix quality, EF_VAL_INT), sats (EF_VAL_INT), and, when fix > 0,
 *        lat, lon (signed decimal degrees: S and W negative), alt (metres
 *        above mean sea level), all EF_VAL_DOUBLE.
 *   RMC: when status is 'A' (valid): lat, lon, speed_kn (knots), course
 *        (degrees true). A 'V' (void) RMC gives no values.
 * An empty field gives no value (a receiver without fix sends empty fields,
 * which must not read as 0 N 0 E). A malformed coordinate gives no value.
 * Coordinates are rounded to 1e-9 degree (0.1 mm), so 4807.038 N is exactly
 * the double nearest 48.1173. */
#ifndef EF_SERIAL_NMEA_H
#define EF_SERIAL_NMEA_H

#include "drivers/serial/parse.h"

int ef_nmea_parse(const char *line, size_t len, struct ef_parsed *out);

/* Checksum of the bytes between '$' and '*' (for the simulator and tests). */
unsigned ef_nmea_checksum(const char *body, size_t len);

#endif
