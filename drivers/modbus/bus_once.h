/* One poll of every device of a bus, synchronously and without a thread,
 * for `edgeferry --test`: each point's value together with the registers
 * it was decoded from, or the error of its read. */
#ifndef EF_MODBUS_BUS_ONCE_H
#define EF_MODBUS_BUS_ONCE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/source.h"

struct ef_mb_once_row {
    const struct ef_device *dev;
    const struct ef_point *point;
    bool ok;
    struct ef_value value;  /* when ok */
    uint16_t raw[4];        /* the point's registers as read (coils: 0 or 1) */
    unsigned nraw;
    const char *error;      /* when !ok: why (libmodbus's words) */
};

/* Called once per point, in each device's configuration order, then once
 * per device with POINT == NULL and OK telling whether it answered. */
typedef void ef_mb_once_fn(void *ctx, const struct ef_mb_once_row *row);

/* Opens cfg->buses[BUS_INDEX], polls each of its devices once (with the
 * bus's timeout and retries), closes it. Returns how many of its devices
 * answered no read at all. */
int ef_modbus_poll_once(const struct ef_config *cfg, size_t bus_index, ef_mb_once_fn *fn,
                        void *ctx);

#endif
