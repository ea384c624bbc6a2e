/* Modbus requests per poll for the devices of a configuration (default:
 * config/demo.ini), after coalescing, versus one request per point.
 * Usage: bench_modbus_requests [FILE.ini] */
#include <stdio.h>

#include "config/config.h"
#include "drivers/modbus/plan.h"

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : EF_DEMO_INI;
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    if (ef_config_load(path, &cfg, &errs) < 0) {
        ef_config_errors_print(errs, stderr);
        ef_config_errors_free(errs);
        return 2;
    }
    size_t total_req = 0, total_pts = 0;
    for (size_t i = 0; i < cfg->ndevices; i++) {
        const struct ef_device *d = &cfg->devices[i];
        struct ef_plan plan;
        if (ef_plan_build_device(&plan, d, &cfg->buses[d->bus]) < 0)
            return 1;
        size_t req = ef_plan_requests(&plan);
        printf("requests: device %-10s %2zu points -> %2zu requests per poll\n", d->name,
               d->npoints, req);
        total_req += req;
        total_pts += d->npoints;
        ef_plan_free(&plan);
    }
    printf("requests: %s: %zu requests per round of polls vs %zu with one request per "
           "point (%.0f%% fewer)\n",
           path, total_req, total_pts,
           total_pts ? 100.0 * (double)(total_pts - total_req) / (double)total_pts : 0.0);
    ef_config_free(cfg);
    return 0;
}
