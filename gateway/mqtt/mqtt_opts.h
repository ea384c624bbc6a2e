/* Turning [mqtt] into paho's option structs: the uri paho understands, TLS
 * options, the password read from password_file, the will. Kept apart from
 * the publisher's state machine so the mapping reads in one place. */
#ifndef EF_MQTT_OPTS_H
#define EF_MQTT_OPTS_H

#include <MQTTAsync.h>
#include <stdbool.h>

#include "config/config.h"

/* How long paho waits for a connection, handshakes and CONNACK included. */
#define EF_MQTT_CONNECT_TIMEOUT_S 10

/* One broker of [mqtt] uri. */
struct ef_mqtt_uri {
    char text[EF_STR_MAX];    /* as configured, for messages */
    char uri[EF_STR_MAX + 8]; /* for paho: mqtt:// -> tcp://, mqtts:// -> ssl:// */
    bool tls;
    bool websocket;
};

struct ef_mqtt_opts {
    const struct ef_mqtt *m; /* borrowed; outlives the options */
    struct ef_mqtt_uri uris[EF_MQTT_URIS_MAX]; /* in the order they are tried */
    size_t nuris;
    bool tls; /* one of them is a TLS uri: paho's TLS build serves them all */
    char *password; /* from password_file; wiped and freed by _free */
    MQTTAsync_SSLOptions ssl;
    MQTTAsync_willOptions will;
};

/* Returns 0, or -1 (logged) when the password file cannot be read. */
int ef_mqtt_opts_init(struct ef_mqtt_opts *o, const struct ef_mqtt *m);
void ef_mqtt_opts_free(struct ef_mqtt_opts *o);

/* Fills connect options for broker I of O (version, keepalive, clean
 * session, will on STATUS_TOPIC, TLS, credentials, no automatic reconnect,
 * no paho buffering). The pointers stored refer into O, which must outlive
 * the connect call. */
void ef_mqtt_fill_connect(struct ef_mqtt_opts *o, size_t i, MQTTAsync_connectOptions *co,
                          const char *status_topic);

/* Logs a warning at every TLS connect (broker I) when certificate checks are off. */
void ef_mqtt_warn_insecure(const struct ef_mqtt_opts *o, size_t i);

/* A human sentence for a failed connect: paho code, MQTT 5 reason code,
 * paho's message. Returns a pointer to a thread-local buffer. */
const char *ef_mqtt_describe_failure(int code, int reason, const char *msg);

/* Like ef_mqtt_describe_failure, but for a TLS connection (to broker I) that failed
 * without a reason (paho code -1) it finds the reason itself: one TCP
 * connect and TLS handshake of its own to the broker (at most ~4.5 s),
 * with the same CA, client certificate and host name, giving e.g. "the
 * broker's certificate has expired", "... signed by an unknown CA", "...
 * not valid for host name H", "the broker requires a client certificate",
 * "cannot reach H port P: Connection refused". Blocks while it probes:
 * call it once per change of failure, not per retry. Thread-local result.
 * OpenSSL is not linked: the first probe loads libssl.so.3 with dlopen;
 * if that fails (logged), the sentence of ef_mqtt_describe_failure.
 * A connect that timed out (any scheme) is probed the same way: when the
 * probe gets through, the sentence says that no CONNACK came. */
const char *ef_mqtt_describe_connect_failure(const struct ef_mqtt_opts *o, size_t i, int code,
                                             int reason, const char *msg);

#endif
