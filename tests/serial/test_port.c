/* The port layer on real ptys: symlinks resolved, ptys go through termios,
 * an idle port is not a vanished one, a closed master is reported as gone,
 * and non-terminals are refused with a message. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "drivers/serial/port.h"

static int open_master(char *slave, size_t len)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, slave, len) != 0)
        return -1;
    return m;
}

static void config_for(struct ef_serial *cfg, const char *path)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->path, sizeof cfg->path, "%s", path);
    cfg->baud = 115200;
    cfg->parity = 'E';
    cfg->data_bits = 7;
    cfg->stop_bits = 2;
}

static void test_pty_through_symlink(void)
{
    char slave[128], dir[] = "/tmp/ef-port-XXXXXX", link[160];
    int m = open_master(slave, sizeof slave);
    CHECK(m >= 0);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(link, sizeof link, "%s/gps", dir);
    CHECK(symlink(slave, link) == 0);
    CHECK(ef_port_is_pty(slave));
    CHECK(!ef_port_is_pty("/dev/null"));

    struct ef_serial cfg;
    config_for(&cfg, link);
    struct ef_port *p = NULL;
    char err[256] = "";
    CHECK_MSG(ef_port_open(&cfg, &p, err, sizeof err) == 0, "%s", err);
    if (!p)
        return;
    CHECK(ef_port_backend(p) == EF_PORT_TERMIOS);

    /* Idle: a timeout, and a read that says "nothing", not "gone". */
    char buf[64];
    CHECK(ef_port_wait(p, -1, 20) == EF_PORT_TIMEOUT);
    CHECK(ef_port_read(p, buf, sizeof buf) == 0);

    /* Bytes both ways. */
    CHECK(write(m, "T=1\r\n", 5) == 5);
    CHECK(ef_port_wait(p, -1, 2000) == EF_PORT_READABLE);
    CHECK(ef_port_read(p, buf, sizeof buf) == 5 && memcmp(buf, "T=1\r\n", 5) == 0);
    CHECK(ef_port_read(p, buf, sizeof buf) == 0);
    CHECK(ef_port_write(p, "R\r", 2, 1000) == 0);
    CHECK(read(m, buf, sizeof buf) == 2 && memcmp(buf, "R\r", 2) == 0);

    /* A wake descriptor interrupts the wait. */
    int wake[2];
    CHECK(pipe(wake) == 0);
    CHECK(write(wake[1], "x", 1) == 1);
    CHECK(ef_port_wait(p, wake[0], 5000) == EF_PORT_WOKEN);
    close(wake[0]);
    close(wake[1]);

    /* The other side goes away: reported as gone (EIO), not as silence. */
    close(m);
    CHECK(ef_port_wait(p, -1, 2000) == EF_PORT_READABLE);
    errno = 0;
    CHECK(ef_port_read(p, buf, sizeof buf) == -1 && errno == EIO);
    ef_port_close(p);
    unlink(link);
    rmdir(dir);
}

static void test_refused(void)
{
    struct ef_serial cfg;
    struct ef_port *p = NULL;
    char err[256] = "";
    config_for(&cfg, "/dev/null");
    CHECK(ef_port_open(&cfg, &p, err, sizeof err) == -1 && p == NULL);
    CHECK_MSG(strstr(err, "/dev/null") != NULL, "%s", err);
    config_for(&cfg, "/nonexistent/ttyUSB9");
    CHECK(ef_port_open(&cfg, &p, err, sizeof err) == -1 && p == NULL);
    CHECK_MSG(strstr(err, "No such file") != NULL, "%s", err);
}

int main(void)
{
    test_pty_through_symlink();
    test_refused();
    return CHECK_DONE();
}
