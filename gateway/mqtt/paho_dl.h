/* paho's MQTTAsync API, loaded at run time.
 *
 * paho comes in two builds with the same API: libpaho-mqtt3a (no TLS) and
 * libpaho-mqtt3as (TLS, links libssl and libcrypto). The gateway links
 * neither: it loads the one its [mqtt] uri needs, so a plain tcp:// or ws://
 * link never maps OpenSSL (about 2 MiB of RSS: docs/performance.md).
 * MQTTAsync.h is used for its types only; every call goes through a
 * struct ef_paho. */
#ifndef EF_PAHO_DL_H
#define EF_PAHO_DL_H

#include <MQTTAsync.h>
#include <stdbool.h>

/* The MQTTAsync_* functions the gateway calls, under paho's names without
 * the prefix. Types are paho's own (checked at compile time). */
struct ef_paho {
    const char *library; /* the file given to dlopen, for messages */
    int (*createWithOptions)(MQTTAsync *handle, const char *serverURI, const char *clientId,
                             int persistence_type, void *persistence_context,
                             MQTTAsync_createOptions *options);
    int (*setCallbacks)(MQTTAsync handle, void *context, MQTTAsync_connectionLost *cl,
                        MQTTAsync_messageArrived *ma, MQTTAsync_deliveryComplete *dc);
    int (*connect)(MQTTAsync handle, const MQTTAsync_connectOptions *options);
    int (*sendMessage)(MQTTAsync handle, const char *destinationName,
                       const MQTTAsync_message *msg, MQTTAsync_responseOptions *response);
    int (*waitForCompletion)(MQTTAsync handle, MQTTAsync_token token, unsigned long timeout);
    int (*disconnect)(MQTTAsync handle, const MQTTAsync_disconnectOptions *options);
    int (*isConnected)(MQTTAsync handle);
    void (*destroy)(MQTTAsync *handle);
    void (*free)(void *ptr);
    void (*freeMessage)(MQTTAsync_message **msg);
    void (*setTraceLevel)(enum MQTTASYNC_TRACE_LEVELS level);
    void (*global_init)(MQTTAsync_init_options *inits);
    const char *(*reasonCodeString)(enum MQTTReasonCodes value); /* MQTTReasonCode_toString */
    int (*subscribeMany)(MQTTAsync handle, int count, char *const *topic, const int *qos,
                         MQTTAsync_responseOptions *response);
    MQTTProperty *(*getProperty)(MQTTProperties *props, enum MQTTPropertyCodes propid);
    int (*addProperty)(MQTTProperties *props, const MQTTProperty *prop);
    void (*freeProperties)(MQTTProperties *properties);
};

/* The paho build for a connection: libpaho-mqtt3as.so.1 when TLS is true
 * (ssl://, mqtts://, wss://), libpaho-mqtt3a.so.1 otherwise (tcp://,
 * mqtt://, ws://). Loaded on first use (RTLD_NOW | RTLD_LOCAL: the two builds
 * are independent copies and may both be loaded, e.g. after a reload from
 * tcp:// to ssl://), set up once before any other call (no OpenSSL set-up by
 * paho, trace at errors), never unloaded: the table stays valid for the life
 * of the process. Thread-safe. Returns NULL when the library cannot be
 * loaded (logged, naming the library and dlerror()); a later call tries
 * again. */
const struct ef_paho *ef_paho_get(bool tls);

/* MQTTReasonCode_toString of a paho build already loaded, or NULL when none
 * is (never loads one). */
const char *ef_paho_reason_string(int reason);

#endif
