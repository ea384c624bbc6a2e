/* --check: prints the resolved configuration and poll plan (buses, devices,
 * the Modbus requests each poll issues after coalescing, serial sensors,
 * topics). Touches no device, broker or queue. */
#ifndef EF_CHECK_H
#define EF_CHECK_H

#include <stdio.h>

#include "config/config.h"

/* Returns 0, or -1 if a plan could not be built (out of memory). */
int ef_check_print(const struct ef_config *cfg, FILE *out);

/* The [sparkplug] part (check_sparkplug.c): node topics, bdSeq, and every
 * device's metrics with the alias and datatype DBIRTH gives them. */
int ef_check_print_sparkplug(const struct ef_config *cfg, FILE *out);

#endif
