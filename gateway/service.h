/* systemd glue: readiness, stopping and watchdog notifications. Every call is
 * a no-op when the process was not started by systemd (no NOTIFY_SOCKET). */
#ifndef EF_SERVICE_H
#define EF_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

void ef_service_ready(void);
void ef_service_reloading(void);
void ef_service_stopping(void);

/* Microseconds between watchdog pings the service manager expects (half of
 * WatchdogSec), or 0 when no watchdog is configured. */
uint64_t ef_service_watchdog_interval_us(void);
void ef_service_watchdog_ping(void);

#endif
