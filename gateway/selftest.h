/* --test: polls every Modbus device and reads every serial sensor once and
 * prints a table (device, point, value, unit, raw registers or the error).
 * Opens no broker connection and no queue. */
#ifndef EF_SELFTEST_H
#define EF_SELFTEST_H

#include <stdio.h>

#include "config/config.h"

/* Returns 0 when every device and sensor answered, 1 otherwise. */
int ef_selftest_run(const struct ef_config *cfg, FILE *out);

#endif
