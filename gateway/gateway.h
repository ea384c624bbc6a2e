/* The running gateway: queue, publisher, core and sources, the main loop
 * (signals, queue housekeeping, stats, watchdog) and SIGHUP reload. */
#ifndef EF_GATEWAY_H
#define EF_GATEWAY_H

#include "config/config.h"

/* Runs until SIGTERM/SIGINT. Takes ownership of CFG; PATH is re-read on
 * SIGHUP. Returns 0 after a clean stop, -1 after a runtime failure. */
int ef_gateway_run(struct ef_config *cfg, const char *path);

#endif
