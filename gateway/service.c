/* The service manager's notification protocol, spoken directly: one datagram
 * "KEY=VALUE" to the AF_UNIX socket named by $NOTIFY_SOCKET (a leading '@'
 * means the abstract namespace), and the watchdog period from
 * $WATCHDOG_USEC (for this process only when $WATCHDOG_PID names it).
 * Written out instead of linking libsystemd, which would bring six more
 * libraries and about 1 MiB of resident memory for three calls. */
#include "gateway/service.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void notify(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !path[0])
        return;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
        return;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                                  (path[0] == '@' ? 0 : 1));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    ssize_t n;
    do {
        n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    } while (n < 0 && errno == EINTR);
    close(fd);
}

void ef_service_ready(void) { notify("READY=1"); }

void ef_service_reloading(void) { notify("RELOADING=1"); }

void ef_service_stopping(void) { notify("STOPPING=1"); }

uint64_t ef_service_watchdog_interval_us(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    if (!usec || !usec[0])
        return 0;
    const char *pid = getenv("WATCHDOG_PID");
    if (pid && pid[0] && strtol(pid, NULL, 10) != (long)getpid())
        return 0; /* meant for another process (e.g. a parent shell) */
    char *end;
    unsigned long long v = strtoull(usec, &end, 10);
    if (*end || v == 0)
        return 0;
    return (uint64_t)v / 2;
}

void ef_service_watchdog_ping(void) { notify("WATCHDOG=1"); }
