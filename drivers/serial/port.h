/* A serial port, whatever is behind it: one interface, two backends.
 *
 * Backend rule (ef_port_open): the configured path is resolved with
 * realpath() first, so /dev/serial/by-id/... symlinks and the tests' pty
 * links work. If the resolved device is a pseudo-terminal slave (a character
 * device with a Unix98 pty major number, 136..143, or a path under /dev/pts/)
 * it is opened with plain termios, because libserialport 0.1.1 cannot open
 * ptys. Otherwise libserialport opens and configures it; if libserialport does
 * not know the port (sp_get_port_by_name fails) termios is used as well.
 * Line settings (baud, parity, data and stop bits; no flow control, raw mode)
 * come from the config in both cases.
 *
 * I/O is ours in both backends: non-blocking read()/write() on the file
 * descriptor with poll(). This is on purpose: after an unplug read() returns
 * 0 or fails with EIO, and a raw tty also returns 0 for "no data", which
 * libserialport's read calls cannot tell apart and spin on. Here poll()
 * decides: POLLHUP/POLLERR, or "readable" followed by no data, means the port
 * is gone; ef_port_read() then returns -1 and the caller closes the port and
 * reopens it later.
 *
 * Not thread-safe: one port belongs to one sensor thread. Logs nothing;
 * errors are returned with a message in the caller's buffer. */
#ifndef EF_SERIAL_PORT_H
#define EF_SERIAL_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

struct ef_port;

enum ef_port_backend { EF_PORT_LIBSERIALPORT, EF_PORT_TERMIOS };

enum ef_port_event {
    EF_PORT_TIMEOUT = 0,
    EF_PORT_READABLE = 1, /* call ef_port_read(): data, or the news that it is gone */
    EF_PORT_WOKEN = 2,    /* wake_fd became readable (stop request) */
};

/* Opens CFG->path with CFG's line settings. Returns 0 and sets *out (free it
 * with ef_port_close), or -1 with a message in ERR. */
int ef_port_open(const struct ef_serial *cfg, struct ef_port **out, char *err, size_t errlen);

/* Closes the device and frees P (NULL is fine). */
void ef_port_close(struct ef_port *p);

enum ef_port_backend ef_port_backend(const struct ef_port *p);
const char *ef_port_backend_name(enum ef_port_backend b);

/* Waits up to TIMEOUT_MS (>= 0) for input on P or for WAKE_FD (-1: none).
 * Returns an enum ef_port_event. */
int ef_port_wait(struct ef_port *p, int wake_fd, int timeout_ms);

/* Reads what is available without blocking. Returns the number of bytes
 * (> 0), 0 when nothing is available now, or -1 when the port is gone (hang
 * up, EIO, end of file); errno is then set (EIO for a hang-up). */
ssize_t ef_port_read(struct ef_port *p, void *buf, size_t cap);

/* Writes all LEN bytes within TIMEOUT_MS. Returns 0, or -1 with errno
 * (ETIMEDOUT when the line did not drain, others when the port is gone). */
int ef_port_write(struct ef_port *p, const void *buf, size_t len, int timeout_ms);

/* True when the resolved path RESOLVED names a pseudo-terminal slave. */
bool ef_port_is_pty(const char *resolved);

#endif
