#include "gateway/mqtt/paho_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"

/* Every field of struct ef_paho and the symbol that fills it. */
#define EF_PAHO_SYMBOLS(X)                                                                        \
    X(createWithOptions, MQTTAsync_createWithOptions)                                             \
    X(setCallbacks, MQTTAsync_setCallbacks)                                                       \
    X(connect, MQTTAsync_connect)                                                                 \
    X(sendMessage, MQTTAsync_sendMessage)                                                         \
    X(waitForCompletion, MQTTAsync_waitForCompletion)                                             \
    X(disconnect, MQTTAsync_disconnect)                                                           \
    X(isConnected, MQTTAsync_isConnected)                                                         \
    X(destroy, MQTTAsync_destroy)                                                                 \
    X(free, MQTTAsync_free)                                                                       \
    X(freeMessage, MQTTAsync_freeMessage)                                                         \
    X(setTraceLevel, MQTTAsync_setTraceLevel)                                                     \
    X(global_init, MQTTAsync_global_init)                                                         \
    X(reasonCodeString, MQTTReasonCode_toString)                                                  \
    X(subscribeMany, MQTTAsync_subscribeMany)                                                     \
    X(getProperty, MQTTProperties_getProperty)                                                    \
    X(addProperty, MQTTProperties_add)                                                            \
    X(freeProperties, MQTTProperties_free)

/* A field whose type differs from paho's declaration would be called with
 * the wrong arguments. _Generic does not evaluate its operand, so this
 * check refers to no paho symbol. */
#define EF_PAHO_CHECK(field, sym)                                                                 \
    _Static_assert(_Generic(&sym, __typeof__(((struct ef_paho *)0)->field): 1, default: 0),      \
                   "struct ef_paho: " #field " is not of the type of " #sym);
EF_PAHO_SYMBOLS(EF_PAHO_CHECK)
/* dlsym returns an object pointer; POSIX makes it usable as a function's. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers fit in void *");

#define EF_PAHO_ROW(field, sym) {#sym, offsetof(struct ef_paho, field)},
static const struct {
    const char *name;
    size_t offset;
} symbols[] = {EF_PAHO_SYMBOLS(EF_PAHO_ROW)};

struct paho_lib {
    const char *file;
    const char *what; /* the uris it serves, for the error message */
    bool loaded;
    struct ef_paho fn;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* guards libs[] */
static struct paho_lib libs[2] = {
    {.file = "libpaho-mqtt3a.so.1", .what = "tcp://, mqtt:// and ws:// uris"},
    {.file = "libpaho-mqtt3as.so.1", .what = "ssl://, mqtts:// and wss:// uris"},
};

/* With lock held. The handle is never closed: clients created from it, and
 * paho's threads, live as long as the process may use them. */
static bool load(struct paho_lib *l)
{
    void *h = dlopen(l->file, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        ef_err("mqtt: cannot load %s, the MQTT client library for %s (Debian package "
               "libpaho-mqtt1.3): %s", l->file, l->what, e ? e : "unknown error");
        return false;
    }
    struct ef_paho t = {.library = l->file};
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        dlerror();
        void *f = dlsym(h, symbols[i].name);
        if (!f) {
            const char *e = dlerror();
            ef_err("mqtt: %s has no %s: %s", l->file, symbols[i].name, e ? e : "null symbol");
            /* Left loaded: unloading a half-used paho is not worth the risk. */
            return false;
        }
        memcpy((char *)&t + symbols[i].offset, &f, sizeof f);
    }
    /* Before any other call into this copy of paho: OpenSSL 3 initialises
     * itself on first use, so paho need not set it up (1.4 MiB of RSS), and
     * its trace ring, which nobody reads, is kept to errors (14 % of the
     * instructions per reading). */
    MQTTAsync_init_options io = MQTTAsync_init_options_initializer;
    io.do_openssl_init = 0;
    t.global_init(&io);
    t.setTraceLevel(MQTTASYNC_TRACE_ERROR);
    l->fn = t;
    l->loaded = true;
    ef_debug("mqtt: loaded %s", l->file);
    return true;
}

const struct ef_paho *ef_paho_get(bool tls)
{
    struct paho_lib *l = &libs[tls ? 1 : 0];
    pthread_mutex_lock(&lock);
    bool ok = l->loaded || load(l);
    pthread_mutex_unlock(&lock);
    return ok ? &l->fn : NULL;
}

const char *ef_paho_reason_string(int reason)
{
    const struct ef_paho *t = NULL;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < sizeof libs / sizeof libs[0] && !t; i++)
        if (libs[i].loaded)
            t = &libs[i].fn;
    pthread_mutex_unlock(&lock);
    return t ? t->reasonCodeString((enum MQTTReasonCodes)reason) : NULL;
}
