/* edgeferry: command line, start-up, the main loop (signals, timers,
 * watchdog) and orderly shutdown. */
#include <getopt.h>
#include <stdio.h>

#include "common/log.h"
#include "config/config.h"
#include "gateway/check.h"
#include "gateway/gateway.h"
#include "gateway/selftest.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define DEFAULT_CONFIG "/etc/edgeferry/edgeferry.ini"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: edgeferry [-c FILE | --config FILE] [--check | --test] [--version] [--help]\n"
            "\n"
            "Polls Modbus devices and serial sensors and delivers their readings to an\n"
            "MQTT broker, storing them on disk while the broker is out of reach.\n"
            "\n"
            "  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
            "      --check        validate the file, print the poll plan and exit:\n"
            "                     0 if valid, 2 if not; opens no device, broker or queue\n"
            "      --test         poll every device and sensor once, print a table of\n"
            "                     values (raw registers or errors) and exit: 0 if every\n"
            "                     device answered, 1 if not; opens no broker or queue\n"
            "      --version      print the version and exit\n"
            "  -h, --help         print this help and exit\n"
            "\n"
            "Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the configuration.\n"
            "Exit codes: 0 clean stop, 1 runtime failure, 2 usage or configuration error.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check", no_argument, NULL, 'k'},
                                         {"test", no_argument, NULL, 't'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = DEFAULT_CONFIG;
    bool check = false, test = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'k':
            check = true;
            break;
        case 't':
            test = true;
            break;
        case 'V':
            printf("edgeferry %s\n", EF_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "edgeferry: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }

    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    if (ef_config_load(path, &cfg, &errs) != 0) {
        ef_config_errors_print(errs, stderr);
        fprintf(stderr, "edgeferry: %zu error%s in %s\n", errs->count, errs->count == 1 ? "" : "s",
                path);
        ef_config_errors_free(errs);
        return EXIT_USAGE;
    }
    if (check) {
        int rc = ef_check_print(cfg, stdout);
        ef_config_free(cfg);
        return rc == 0 ? 0 : EXIT_RUNTIME;
    }
    ef_log_set_level((enum ef_log_level)cfg->gateway.log_level);
    if (test) {
        int rc = ef_selftest_run(cfg, stdout);
        ef_config_free(cfg);
        return rc == 0 ? 0 : EXIT_RUNTIME;
    }
    int rc = ef_gateway_run(cfg, path);
    return rc == 0 ? 0 : EXIT_RUNTIME;
}
