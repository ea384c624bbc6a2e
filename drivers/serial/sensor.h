/* A serial line sensor ([serial:NAME]): one thread that owns one port, frames
 * its byte stream into lines, parses them (nmea, kv or csv) and hands samples
 * to the gateway's sink.
 *
 * Streaming sensors (no query): the latest value of every name seen during
 * an interval is published as one sample every interval_ms. The sample's ts
 * is the wall-clock time at which the newest line that went into it arrived.
 * Values not seen during the interval are left out (a GPS that lost its fix
 * stops giving lat/lon, and its last position must not be repeated as new).
 * An interval without any valid line is a failed poll (poll_result answered
 * = false); choose interval_ms no shorter than the sensor's own period.
 *
 * Queried sensors: every interval_ms the pending input is discarded (a late
 * answer to the previous query must not answer this one), the query bytes are
 * written, and the first line that parses with EF_PARSE_OK within timeout_ms
 * is published (ts = its arrival). No such line: a timeout and a failed poll.
 * If timeout_ms outlasts interval_ms, the next query waits for the answer or
 * the timeout, and the query slots missed meanwhile count as skipped.
 *
 * Configured points ([point:NAME.X]) give their point in each reading and, if
 * they set scale or offset, turn the value into EF_VAL_DOUBLE raw*scale +
 * offset. Values with no configured point are published as parsed.
 *
 * A port that cannot be opened or vanishes (hang-up, EIO, read end of file) is
 * closed and opened again after 0.5 s, doubling up to 30 s; the back-off
 * restarts once a valid line arrives. Meanwhile every interval is a failed poll.
 *
 * Counters (counters[source_index]): polls, polls_failed, requests (queries
 * written), timeouts, errors (port losses, write errors, skipped kv pairs or
 * csv fields), lines_rejected (bad checksum, wrong field count, a control byte
 * anywhere in a line, no valid kv pair), lines_overlong, readings (values delivered), skipped,
 * reopens (successful opens after the first one, i.e. recoveries).
 *
 * The source's source_index is cfg->ndevices + serial_index; alive_ms is
 * refreshed at least every second. */
#ifndef EF_SERIAL_SENSOR_H
#define EF_SERIAL_SENSOR_H

#include "drivers/source.h"

/* Creates (does not start) the sensor for cfg->serials[serial_index]. CFG,
 * SINK->ctx and COUNTERS (an array indexed by source_index) must outlive the
 * source; SINK is copied. Returns NULL on failure (logged). Free with
 * ef_source_destroy() after ef_source_stop(). */
struct ef_source *ef_serial_sensor_new(const struct ef_config *cfg, size_t serial_index,
                                       const struct ef_sink *sink,
                                       struct ef_dev_counters *counters);

#endif
