/* Names the calling thread "PREFIX-NAME" (cut to the kernel's 15 bytes), so
 * `top -H`, `ps -L` and /proc/PID/task/TID/comm tell the bus, sensor and
 * publisher threads apart, e.g. when one of them hangs or spins. */
#ifndef EF_THREAD_H
#define EF_THREAD_H

#include <pthread.h>
#include <stddef.h>

static inline void ef_thread_name(const char *prefix, const char *name)
{
    char buf[16];
    size_t n = 0;
    for (const char *s = prefix; *s && n < sizeof buf - 1; s++)
        buf[n++] = *s;
    if (name && n < sizeof buf - 1)
        buf[n++] = '-';
    for (const char *s = name ? name : ""; *s && n < sizeof buf - 1; s++)
        buf[n++] = *s;
    buf[n] = '\0';
    pthread_setname_np(pthread_self(), buf);
}

#endif
