#include "gateway/web/mhd_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"

#define EF_MHD_FILE "libmicrohttpd.so.12"

#define EF_MHD_SYMBOLS(X)                                                                         \
    X(start_daemon, MHD_start_daemon)                                                             \
    X(stop_daemon, MHD_stop_daemon)                                                               \
    X(queue_response, MHD_queue_response)                                                         \
    X(create_response_from_buffer, MHD_create_response_from_buffer)                               \
    X(create_response_from_callback, MHD_create_response_from_callback)                           \
    X(destroy_response, MHD_destroy_response)                                                     \
    X(add_response_header, MHD_add_response_header)                                               \
    X(lookup_connection_value, MHD_lookup_connection_value)                                       \
    X(suspend_connection, MHD_suspend_connection)                                                 \
    X(resume_connection, MHD_resume_connection)

/* A field whose type differs from the library's declaration would be called
 * with the wrong arguments; _Generic refers to no symbol at run time. */
#define EF_MHD_CHECK(field, sym)                                                                  \
    _Static_assert(_Generic(&sym, __typeof__(((struct ef_mhd *)0)->field): 1, default: 0),       \
                   "struct ef_mhd: " #field " is not of the type of " #sym);
EF_MHD_SYMBOLS(EF_MHD_CHECK)
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers fit in void *");

#define EF_MHD_ROW(field, sym) {#sym, offsetof(struct ef_mhd, field)},
static const struct {
    const char *name;
    size_t offset;
} symbols[] = {EF_MHD_SYMBOLS(EF_MHD_ROW)};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool loaded;
static struct ef_mhd fn;

static bool load(void)
{
    void *h = dlopen(EF_MHD_FILE, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        ef_err("http: cannot load %s (Debian package libmicrohttpd12): %s", EF_MHD_FILE,
               e ? e : "unknown error");
        return false;
    }
    struct ef_mhd t;
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        dlerror();
        void *f = dlsym(h, symbols[i].name);
        if (!f) {
            const char *e = dlerror();
            ef_err("http: %s has no %s: %s", EF_MHD_FILE, symbols[i].name, e ? e : "null");
            return false;
        }
        memcpy((char *)&t + symbols[i].offset, &f, sizeof f);
    }
    fn = t;
    loaded = true;
    return true;
}

const struct ef_mhd *ef_mhd_get(void)
{
    pthread_mutex_lock(&lock);
    bool ok = loaded || load();
    pthread_mutex_unlock(&lock);
    return ok ? &fn : NULL;
}
