/* The floor under the gateway's CPU per reading: the same Modbus and MQTT
 * traffic as bench/gateway's "steady" workload, made by the two libraries
 * the gateway uses with nothing of the gateway around them: no decoding,
 * no JSON encoding, no queue, no publisher thread. One thread polls every
 * unit in turn, one read request per unit per cycle, and (mode "both" or
 * "mqtt") publishes a prepared payload of the gateway's size per poll at
 * QoS 0 straight from that thread.
 *
 *   bench_floor MODE SIM_PORT BROKER_PORT UNITS POINTS INTERVAL_MS SECONDS
 *     MODE: modbus (reads only), mqtt (publishes only, same pacing), both
 *
 * After a 3 s warm-up it measures SECONDS and prints one line: readings,
 * CPU time of the process (CLOCK_PROCESS_CPUTIME_ID, all threads, paho's
 * included) per reading, and context switches per poll. bench.py "floor"
 * runs it next to the gateway on the same simulator and broker. */
#include <MQTTAsync.h>
#include <modbus.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* VmRSS of this process in KiB, or -1. */
static long vm_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static volatile int connected; /* set by paho's callback thread */

static void on_connect(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    __atomic_store_n(&connected, 1, __ATOMIC_RELEASE);
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    fprintf(stderr, "connect failed: %d\n", r ? r->code : -1);
    exit(1);
}

/* A payload shaped like the gateway's for POINTS uint16 points. */
static size_t make_payload(char *buf, size_t cap, int points)
{
    size_t n = (size_t)snprintf(buf, cap, "{\"ts\":1764170000000,\"values\":{\"counter\":123");
    for (int i = 1; i < points && n + 32 < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, ",\"r%d\":%d", i, 100 + i);
    n += (size_t)snprintf(buf + n, cap - n, "}}");
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s modbus|mqtt|both SIM_PORT BROKER_PORT UNITS POINTS "
                        "INTERVAL_MS SECONDS\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    bool do_mb = strcmp(mode, "mqtt") != 0, do_mq = strcmp(mode, "modbus") != 0;
    int sim_port = atoi(argv[2]), broker_port = atoi(argv[3]);
    int units = atoi(argv[4]), points = atoi(argv[5]), interval_ms = atoi(argv[6]);
    double seconds = atof(argv[7]);
    if (units < 1 || points < 1 || points > 125 || interval_ms < 1 || seconds <= 0)
        return 2;

    modbus_t *mb = NULL;
    if (do_mb) {
        mb = modbus_new_tcp("127.0.0.1", sim_port);
        if (!mb || modbus_connect(mb) != 0) {
            fprintf(stderr, "modbus connect: %s\n", modbus_strerror(errno));
            return 1;
        }
        modbus_set_response_timeout(mb, 0, 500000);
    }

    MQTTAsync cl = NULL;
    char payload[4096];
    size_t plen = make_payload(payload, sizeof payload, points);
    char topics[64][64];
    if (do_mq) {
        MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
        char uri[64];
        snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", broker_port);
        if (MQTTAsync_create(&cl, uri, "bench-floor", MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
            MQTTASYNC_SUCCESS)
            return 1;
        MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
        co.keepAliveInterval = 30;
        co.cleansession = 1;
        co.onSuccess = on_connect;
        co.onFailure = on_connect_failed;
        if (MQTTAsync_connect(cl, &co) != MQTTASYNC_SUCCESS)
            return 1;
        while (!__atomic_load_n(&connected, __ATOMIC_ACQUIRE))
            usleep(1000);
        for (int u = 0; u < units && u < 64; u++)
            snprintf(topics[u], sizeof topics[u], "edgeferry/floor/telemetry/d%d", u + 1);
    }

    uint16_t regs[125];
    int64_t start = now_ns(CLOCK_MONOTONIC), next = start;
    int64_t warm_end = start + 3000000000LL, end = warm_end + (int64_t)(seconds * 1e9);
    int64_t cpu0 = 0, readings = 0, failures = 0;
    long sw0 = 0;
    bool measuring = false;
    for (;;) {
        int64_t t = now_ns(CLOCK_MONOTONIC);
        if (!measuring && t >= warm_end) {
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            sw0 = ru.ru_nvcsw + ru.ru_nivcsw;
            cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
            readings = 0;
            measuring = true;
        }
        if (t >= end)
            break;
        for (int u = 0; u < units; u++) {
            if (do_mb) {
                modbus_set_slave(mb, u + 1);
                if (modbus_read_registers(mb, 0, points, regs) != points) {
                    failures++;
                    continue;
                }
            }
            if (do_mq) {
                MQTTAsync_message m = MQTTAsync_message_initializer;
                m.payload = payload;
                m.payloadlen = (int)plen;
                m.qos = 0;
                MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
                if (MQTTAsync_sendMessage(cl, topics[u % 64], &m, &ro) != MQTTASYNC_SUCCESS)
                    failures++;
            }
            readings += points;
        }
        next += (int64_t)interval_ms * 1000000;
        struct timespec ts = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
    int64_t cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long sw = ru.ru_nvcsw + ru.ru_nivcsw - sw0;
    int64_t polls = readings / points;
    printf("floor %-6s %lld readings in %.1f s; CPU per reading %.3f us; %.2f context switches "
           "per poll; %lld failures; VmRSS %ld KiB\n",
           mode, (long long)readings, seconds, (double)cpu / 1e3 / (double)(readings ? readings : 1),
           (double)sw / (double)(polls ? polls : 1), (long long)failures, vm_rss_kib());
    if (cl) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 500;
        MQTTAsync_disconnect(cl, &d);
        usleep(200000);
        MQTTAsync_destroy(&cl);
    }
    if (mb) {
        modbus_close(mb);
        modbus_free(mb);
    }
    return failures ? 1 : 0;
}
