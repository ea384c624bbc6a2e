#include "gateway/mqtt/paho_nudge.h"

#include "common/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The sleeps to look for, by the numbers of the architecture built for
 * (arm64: 115 and 101; armhf: 407, 265 and 162, glibc trying the 64-bit
 * time call first). */
#if !defined(SYS_clock_nanosleep) && !defined(SYS_clock_nanosleep_time64) && !defined(SYS_nanosleep)
#error "no nanosleep system call known for this architecture"
#endif

#define NUDGE_SIGNAL SIGURG /* ignored by default; nobody else sends it here */

static bool available; /* written once, under pthread_once */

static void on_nudge(int sig) { (void)sig; }

static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_nudge;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the point is to end the sleep */
    sigaction(NUDGE_SIGNAL, &sa, NULL);
}

/* Reads /proc/self/task/TID/NAME into BUF (first line, no newline). */
static bool read_task_file(const char *tid, const char *name, char *buf, size_t n)
{
    char path[300]; /* a d_name is at most 255 bytes */
    snprintf(path, sizeof path, "/proc/self/task/%s/%s", tid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t got = read(fd, buf, n - 1);
    close(fd);
    if (got <= 0)
        return false;
    buf[got] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return true;
}

/* The first field of /proc/.../syscall is the number of the system call
 * the thread is blocked in ("running" when it is not blocked). */
static bool syscall_nr(const char *tid, long *nr)
{
    char buf[128];
    if (!read_task_file(tid, "syscall", buf, sizeof buf))
        return false;
    char *end;
    *nr = strtol(buf, &end, 10);
    return end != buf;
}

static bool in_nanosleep(const char *tid)
{
    long nr;
    if (!syscall_nr(tid, &nr))
        return false;
#ifdef SYS_clock_nanosleep
    if (nr == SYS_clock_nanosleep)
        return true;
#endif
#ifdef SYS_clock_nanosleep_time64
    if (nr == SYS_clock_nanosleep_time64)
        return true;
#endif
#ifdef SYS_nanosleep
    if (nr == SYS_nanosleep)
        return true;
#endif
    return false;
}

/* A thread reading its own syscall file is inside that read(), so the file
 * must say SYS_read; under qemu-user it gives the host's number for it. */
static void init(void)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%ld", (long)gettid());
    long nr;
    available = syscall_nr(tid, &nr) && nr == SYS_read;
    if (available)
        install_handler();
    else
        ef_debug("paho start-up nudge off: /proc does not show this process's system calls "
                 "by their own numbers (qemu-user?); a connect may start up to 100 ms late");
}

bool ef_paho_nudge_available(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init);
    return available;
}

int ef_paho_nudge_receiver(void)
{
    DIR *d = ef_paho_nudge_available() ? opendir("/proc/self/task") : NULL;
    if (!d)
        return 0;
    int n = 0;
    pid_t pid = getpid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char comm[32];
        if (e->d_name[0] == '.' || !read_task_file(e->d_name, "comm", comm, sizeof comm))
            continue;
        if (strcmp(comm, "MQTTAsync_rcv") != 0 || !in_nanosleep(e->d_name))
            continue;
        if (syscall(SYS_tgkill, pid, atoi(e->d_name), NUDGE_SIGNAL) == 0)
            n++;
    }
    closedir(d);
    return n;
}
