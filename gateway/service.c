#include "gateway/service.h"

#include <systemd/sd-daemon.h>

void ef_service_ready(void) { sd_notify(0, "READY=1"); }

void ef_service_reloading(void) { sd_notify(0, "RELOADING=1"); }

void ef_service_stopping(void) { sd_notify(0, "STOPPING=1"); }

void ef_service_status(const char *text) { sd_notifyf(0, "STATUS=%s", text); }

uint64_t ef_service_watchdog_interval_us(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0)
        return usec / 2;
    return 0;
}

void ef_service_watchdog_ping(void) { sd_notify(0, "WATCHDOG=1"); }
