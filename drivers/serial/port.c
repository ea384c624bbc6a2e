#include "drivers/serial/port.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "common/clock.h"

struct ef_port {
    enum ef_port_backend backend;
    int fd;
    struct sp_port *sp; /* libserialport backend only; owns fd */
    bool hangup;        /* the last poll() reported POLLHUP/POLLERR */
    bool ready;         /* the last poll() said readable and nothing was read since */
};

const char *ef_port_backend_name(enum ef_port_backend b)
{
    return b == EF_PORT_LIBSERIALPORT ? "libserialport" : "termios";
}

enum ef_port_backend ef_port_backend(const struct ef_port *p) { return p->backend; }

bool ef_port_is_pty(const char *resolved)
{
    if (strncmp(resolved, "/dev/pts/", 9) == 0)
        return true;
    struct stat st;
    if (stat(resolved, &st) != 0 || !S_ISCHR(st.st_mode))
        return false;
    unsigned maj = major(st.st_rdev);
    return maj >= 136 && maj <= 143; /* UNIX98_PTY_SLAVE_MAJOR .. + 7 */
}

static speed_t termios_speed(int baud)
{
    static const struct {
        int baud;
        speed_t speed;
    } rates[] = {{1200, B1200},     {2400, B2400},     {4800, B4800},     {9600, B9600},
                 {19200, B19200},   {38400, B38400},   {57600, B57600},   {115200, B115200},
                 {230400, B230400}, {460800, B460800}, {921600, B921600}};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        if (rates[i].baud == baud)
            return rates[i].speed;
    }
    return B9600;
}

static int open_termios(const char *path, const struct ef_serial *cfg, struct ef_port *p,
                        char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        snprintf(err, errlen, "%s: not a terminal: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    cfmakeraw(&t);
    cfsetispeed(&t, termios_speed(cfg->baud));
    cfsetospeed(&t, termios_speed(cfg->baud));
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag |= cfg->data_bits == 5 ? CS5 : cfg->data_bits == 6 ? CS6 : cfg->data_bits == 7 ? CS7 : CS8;
    if (cfg->parity == 'E' || cfg->parity == 'O')
        t.c_cflag |= PARENB;
    if (cfg->parity == 'O')
        t.c_cflag |= PARODD;
    if (cfg->stop_bits == 2)
        t.c_cflag |= CSTOPB;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
        snprintf(err, errlen, "%s: cannot set line settings: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    tcflush(fd, TCIOFLUSH); /* what queued up while nobody listened is stale */
    p->backend = EF_PORT_TERMIOS;
    p->fd = fd;
    return 0;
}

static int sp_fail(struct ef_port *p, const char *path, const char *what, char *err,
                   size_t errlen)
{
    char *msg = sp_last_error_message();
    snprintf(err, errlen, "%s: %s: %s", path, what, msg ? msg : "unknown error");
    sp_free_error_message(msg);
    sp_close(p->sp);
    sp_free_port(p->sp);
    p->sp = NULL;
    return -1;
}

static int open_libserialport(const struct ef_serial *cfg, struct ef_port *p, char *err,
                              size_t errlen, const char *path)
{
    if (sp_open(p->sp, SP_MODE_READ_WRITE) != SP_OK) {
        char *msg = sp_last_error_message();
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot open");
        sp_free_error_message(msg);
        sp_free_port(p->sp);
        p->sp = NULL;
        return -1;
    }
    enum sp_parity parity = cfg->parity == 'E'   ? SP_PARITY_EVEN
                            : cfg->parity == 'O' ? SP_PARITY_ODD
                                                 : SP_PARITY_NONE;
    if (sp_set_baudrate(p->sp, cfg->baud) != SP_OK || sp_set_bits(p->sp, cfg->data_bits) != SP_OK ||
        sp_set_parity(p->sp, parity) != SP_OK || sp_set_stopbits(p->sp, cfg->stop_bits) != SP_OK ||
        sp_set_flowcontrol(p->sp, SP_FLOWCONTROL_NONE) != SP_OK)
        return sp_fail(p, path, "cannot set line settings", err, errlen);
    int fd = -1;
    if (sp_get_port_handle(p->sp, &fd) != SP_OK || fd < 0)
        return sp_fail(p, path, "no file descriptor", err, errlen);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
        return sp_fail(p, path, "cannot make non-blocking", err, errlen);
    sp_flush(p->sp, SP_BUF_BOTH);
    p->backend = EF_PORT_LIBSERIALPORT;
    p->fd = fd;
    return 0;
}

int ef_port_open(const struct ef_serial *cfg, struct ef_port **out, char *err, size_t errlen)
{
    char resolved[PATH_MAX];
    if (!realpath(cfg->path, resolved)) {
        snprintf(err, errlen, "%s: %s", cfg->path, strerror(errno));
        return -1;
    }
    struct ef_port *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->fd = -1;
    int rc;
    if (!ef_port_is_pty(resolved) && sp_get_port_by_name(resolved, &p->sp) == SP_OK)
        rc = open_libserialport(cfg, p, err, errlen, resolved);
    else
        rc = open_termios(resolved, cfg, p, err, errlen);
    if (rc != 0) {
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void ef_port_close(struct ef_port *p)
{
    if (!p)
        return;
    if (p->sp) {
        sp_close(p->sp);
        sp_free_port(p->sp);
    } else if (p->fd >= 0) {
        close(p->fd);
    }
    free(p);
}

int ef_port_wait(struct ef_port *p, int wake_fd, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = p->fd, .events = POLLIN}, {.fd = wake_fd, .events = POLLIN}};
    int n = poll(fds, wake_fd >= 0 ? 2 : 1, timeout_ms);
    if (n <= 0)
        return EF_PORT_TIMEOUT; /* EINTR counts as a short timeout */
    if (wake_fd >= 0 && fds[1].revents)
        return EF_PORT_WOKEN;
    if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
        p->hangup = true;
    p->ready = fds[0].revents != 0;
    return p->ready ? EF_PORT_READABLE : EF_PORT_TIMEOUT;
}

/* A raw tty with VMIN = VTIME = 0 answers read() with 0 both for "no data"
 * and after an unplug, O_NONBLOCK or not. Only poll() tells them apart: a
 * hang-up flag, or "readable" followed by nothing to read, means gone. */
ssize_t ef_port_read(struct ef_port *p, void *buf, size_t cap)
{
    ssize_t n = read(p->fd, buf, cap);
    if (n > 0) {
        p->ready = false;
        return n;
    }
    if (n < 0 && errno == EINTR)
        return 0;
    if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!p->hangup && !p->ready)
            return 0;
        errno = EIO;
    }
    return -1;
}

int ef_port_write(struct ef_port *p, const void *buf, size_t len, int timeout_ms)
{
    const unsigned char *b = buf;
    int64_t deadline = ef_mono_ms() + timeout_ms;
    while (len > 0) {
        ssize_t n = write(p->fd, b, len);
        if (n > 0) {
            b += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        int64_t left = deadline - ef_mono_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
        if (poll(&pfd, 1, (int)left) > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))) {
            errno = EIO;
            return -1;
        }
    }
    return 0;
}
