/* Opening, closing and re-opening a bus's line (serial port, TCP
 * connection, or our own TCP socket carrying RTU frames). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "drivers/modbus/bus_priv.h"

/* Connects a TCP socket to HOST:PORT within TIMEOUT_MS. Returns the fd or
 * -1 with errno set. */
static int tcp_connect(const char *host, int port, int timeout_ms)
{
    char svc[16];
    snprintf(svc, sizeof svc, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, svc, &hints, &res);
    if (gai != 0) {
        errno = EHOSTUNREACH;
        return -1;
    }
    int fd = -1;
    int err = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            rc = poll(&pfd, 1, timeout_ms);
            int soerr = ETIMEDOUT;
            socklen_t len = sizeof soerr;
            if (rc == 1)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            rc = soerr ? -1 : 0;
            errno = soerr;
        }
        if (rc == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = err;
        return -1;
    }
    /* libmodbus waits with select() itself; it wants a blocking socket. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void configure(struct ef_mb_bus *b)
{
    const struct ef_bus *bus = b->bus;
    modbus_set_debug(b->ctx, FALSE); /* libmodbus would print to stdout */
    /* LINK recovery retries forever on a pulled adapter: errors are ours. */
    modbus_set_error_recovery(b->ctx, MODBUS_ERROR_RECOVERY_NONE);
    modbus_set_response_timeout(b->ctx, (uint32_t)(bus->timeout_ms / 1000),
                                (uint32_t)(bus->timeout_ms % 1000) * 1000);
}

static int open_rtu(struct ef_mb_bus *b)
{
    const struct ef_bus *bus = b->bus;
    b->ctx = modbus_new_rtu(bus->path, bus->baud, bus->parity, bus->data_bits, bus->stop_bits);
    if (!b->ctx)
        return -1;
    configure(b);
    if (modbus_connect(b->ctx) < 0)
        return -1;
    if (bus->rs485 && modbus_rtu_set_serial_mode(b->ctx, MODBUS_RTU_RS485) < 0)
        ef_warn("bus %s: rs485 = true but %s refuses RS-485 mode (%s); running without "
                "kernel direction control (the adapter must switch by itself)",
                bus->name, bus->path, modbus_strerror(errno));
    return 0;
}

static int open_tcp(struct ef_mb_bus *b)
{
    char svc[16];
    snprintf(svc, sizeof svc, "%d", b->bus->port);
    b->ctx = modbus_new_tcp_pi(b->bus->host, svc);
    if (!b->ctx)
        return -1;
    configure(b);
    return modbus_connect(b->ctx);
}

static int open_rtu_over_tcp(struct ef_mb_bus *b)
{
    const struct ef_bus *bus = b->bus;
    b->sock = tcp_connect(bus->host, bus->port, bus->timeout_ms);
    if (b->sock < 0)
        return -1;
    /* The RTU context is never connected: its device name is unused and
     * its framing and CRC run over our socket. */
    b->ctx = modbus_new_rtu("rtu-over-tcp", 9600, 'N', 8, 1);
    if (!b->ctx)
        return -1;
    configure(b);
    return modbus_set_socket(b->ctx, b->sock);
}

/* Opens the closed line; on failure logs (first of a streak), closes
 * with back-off and returns -1. */
static int open_line(struct ef_mb_bus *b)
{
    int rc;
    switch (b->bus->type) {
    case EF_BUS_RTU:
        rc = open_rtu(b);
        break;
    case EF_BUS_TCP:
        rc = open_tcp(b);
        break;
    default:
        rc = open_rtu_over_tcp(b);
        break;
    }
    if (rc < 0) {
        int err = errno;
        if (!b->open_failing)
            ef_warn("bus %s: cannot open %s: %s (retrying with back-off)", b->bus->name,
                    b->bus->type == EF_BUS_RTU ? b->bus->path : b->bus->host,
                    modbus_strerror(err));
        else
            ef_debug("bus %s: open failed again: %s", b->bus->name, modbus_strerror(err));
        b->open_failing = true;
        ef_mb_conn_close(b, true);
        return -1;
    }
    b->open_failing = false;
    atomic_store(&b->line_down, false);
    b->last_io_us = 0;
    return 0;
}

int ef_mb_conn_ensure(struct ef_mb_bus *b, struct ef_dev_counters *dev_counters)
{
    if (b->ctx)
        return 0;
    if (ef_mono_ms() < b->reopen_at_ms)
        return -1;
    if (open_line(b) < 0)
        return -1;
    if (b->ever_opened) {
        atomic_fetch_add_explicit(&dev_counters->reopens, 1, memory_order_relaxed);
        ef_info("bus %s: line re-opened", b->bus->name);
    }
    b->ever_opened = true;
    return 0;
}

int ef_mb_conn_reopen(struct ef_mb_bus *b, struct ef_dev_counters *dev_counters)
{
    ef_mb_conn_close(b, false);
    if (open_line(b) < 0)
        return -1;
    /* Devices that hang up after every answer do it all day: no info line. */
    atomic_fetch_add_explicit(&dev_counters->reopens, 1, memory_order_relaxed);
    ef_debug("bus %s: connection closed by the device; reconnected", b->bus->name);
    return 0;
}

bool ef_mb_conn_hung_up(struct ef_mb_bus *b)
{
    if (!b->ctx || b->bus->type == EF_BUS_RTU)
        return false;
    struct pollfd p = {.fd = modbus_get_socket(b->ctx), .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
        return true;
    ef_mb_conn_flush(b); /* a late answer must not be taken for the next one */
    return false;
}

void ef_mb_conn_close(struct ef_mb_bus *b, bool backoff)
{
    if (b->ctx) {
        if (b->sock >= 0)
            modbus_set_socket(b->ctx, -1); /* the RTU backend would tcsetattr it */
        else
            modbus_close(b->ctx);
        modbus_free(b->ctx);
        b->ctx = NULL;
    }
    if (b->sock >= 0) {
        close(b->sock);
        b->sock = -1;
    }
    if (backoff) {
        atomic_store(&b->line_down, true); /* writes are refused until it reopens */
        b->reopen_at_ms = ef_mono_ms() + b->backoff_ms;
        b->backoff_ms = b->backoff_ms * 2 > EF_MB_BACKOFF_MAX_MS ? EF_MB_BACKOFF_MAX_MS
                                                                : b->backoff_ms * 2;
    }
}

void ef_mb_conn_flush(struct ef_mb_bus *b)
{
    if (!b->ctx)
        return;
    if (b->sock < 0) {
        modbus_flush(b->ctx);
        return;
    }
    /* modbus_flush on an RTU context is tcflush(), which a socket ignores. */
    char junk[256];
    while (recv(b->sock, junk, sizeof junk, MSG_DONTWAIT) > 0)
        ;
}
