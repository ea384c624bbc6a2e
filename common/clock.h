/* Time helpers. Wall-clock milliseconds are for timestamps only ("ts" in
 * payloads); every timeout and schedule uses the monotonic clock, because a
 * Raspberry Pi has no RTC and NTP steps the wall clock after boot. */
#ifndef EF_CLOCK_H
#define EF_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t ef_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t ef_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t ef_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleeps for ms milliseconds (restarting after signals). */
void ef_sleep_ms(int64_t ms);

#endif
