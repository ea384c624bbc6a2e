/* Fuzz target: the configuration loader on arbitrary text.
 *
 * The input becomes a NUL-terminated string given to ef_config_load_string().
 * Whatever the text, the loader must return exactly one of a config or an
 * error list, every error must carry a line inside the text, and a config
 * that loads must be one the rest of the gateway can use: its Modbus devices
 * get a poll plan, which is built, printed and freed here too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "drivers/modbus/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull(void)
{
    static FILE *f;
    if (!f)
        f = fopen("/dev/null", "w");
    return f;
}

static void use_config(const struct ef_config *cfg)
{
    for (size_t i = 0; i < cfg->ndevices; i++) {
        const struct ef_device *d = &cfg->devices[i];
        if (d->bus >= cfg->nbuses)
            abort();
        if (ef_plan_print_device(d, &cfg->buses[d->bus], devnull()) < 0)
            abort();
    }
    for (size_t i = 0; i < cfg->nserials; i++)
        if (cfg->serials[i].query_len > EF_QUERY_MAX)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';

    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    int rc = ef_config_load_string("fuzz.ini", text, &cfg, &errs);
    if (rc == 0) {
        if (!cfg || errs)
            abort();
        use_config(cfg);
        ef_config_free(cfg);
    } else {
        if (rc != -1 || cfg || !errs || errs->count == 0)
            abort();
        for (size_t i = 0; i < errs->count; i++)
            if (errs->items[i].line < 0 || (size_t)errs->items[i].line > lines ||
                strnlen(errs->items[i].message, sizeof errs->items[i].message) ==
                    sizeof errs->items[i].message)
                abort();
        ef_config_errors_print(errs, devnull());
        ef_config_errors_free(errs);
    }
    free(text);
    return 0;
}
