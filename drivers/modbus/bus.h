/* A Modbus bus: one thread that owns one libmodbus context and polls every
 * device of one [bus:...] section in deadline order.
 *
 * Bus types:
 *   rtu           libmodbus RTU on a serial device (rs485 = true asks the
 *                 kernel for RS-485 direction control; if the driver refuses,
 *                 a warning is logged and the bus runs anyway).
 *   tcp           libmodbus TCP (host names and IPv6 through modbus_new_tcp_pi);
 *                 read requests are written by bus_tcp.c and each reply is
 *                 checked (unit id unless check_unit = false, MBAP header:
 *                 mbap.h) before it is decoded.
 *   rtu-over-tcp  RTU frames (unit id + CRC) over a TCP stream, as spoken by
 *                 serial-to-Ethernet converters. libmodbus 3.1.6 has no
 *                 backend for it: we connect the TCP socket ourselves and hand
 *                 it to an RTU context that is never modbus_connect()ed
 *                 (modbus_set_socket), so libmodbus does the RTU framing and
 *                 CRC over the socket. Connecting, reconnecting and flushing
 *                 that socket are done here.
 *
 * Behaviour per poll of a device: the reads of its poll plan (plan.h), with
 * the bus's retries, delay_ms between requests and, on RTU, at least 3.5
 * character times of silence between frames. Failed points are left out of
 * the sample and counted; see bus_poll.c for the error handling (among it:
 * a TCP connection the device closed is reopened and the request resent in
 * the same poll, counted in reopens). The sink is
 * called from the bus thread: sample() when at least one point was read,
 * then poll_result() after every poll.
 *
 * Writes (the source's write op, bus_write.c): a bounded queue of 8 per
 * bus, served before the next request, at most once, then read back; an
 * offline device or a disconnected bus is refused at once. They count in
 * the device's requests, errors and timeouts like reads.
 *
 * Ownership: the source borrows CFG, SINK's context and COUNTERS (an array
 * indexed like cfg->devices); all must outlive it. ef_source_destroy frees it
 * (after ef_source_stop if it was started). */
#ifndef EF_MODBUS_BUS_H
#define EF_MODBUS_BUS_H

#include <stddef.h>

#include "config/config.h"
#include "drivers/source.h"

/* Creates the source for cfg->buses[BUS_INDEX]; its devices are those of
 * cfg->devices whose `bus` is BUS_INDEX, and the sample's source_index is the
 * device's index in cfg->devices. Opens nothing until started.
 * Returns NULL when out of memory (logged). */
struct ef_source *ef_modbus_bus_new(const struct ef_config *cfg, size_t bus_index,
                                    const struct ef_sink *sink,
                                    struct ef_dev_counters *counters);

#endif
