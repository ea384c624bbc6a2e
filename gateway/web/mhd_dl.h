/* libmicrohttpd, loaded at run time.
 *
 * The gateway does not link libmicrohttpd: a gateway without [http] maps
 * neither it nor the GnuTLS it pulls in (docs/performance.md). The header is
 * used for its types only; every call goes through a struct ef_mhd. */
#ifndef EF_MHD_DL_H
#define EF_MHD_DL_H

#include <microhttpd.h>

/* The MHD_* functions the web view calls, under their names without the
 * prefix. Types are libmicrohttpd's own (checked at compile time). */
struct ef_mhd {
    struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, ...);
    void (*stop_daemon)(struct MHD_Daemon *daemon);
    enum MHD_Result (*queue_response)(struct MHD_Connection *connection,
                                      unsigned int status_code, struct MHD_Response *response);
    struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer,
                                                        enum MHD_ResponseMemoryMode mode);
    struct MHD_Response *(*create_response_from_callback)(uint64_t size, size_t block_size,
                                                          MHD_ContentReaderCallback crc,
                                                          void *crc_cls,
                                                          MHD_ContentReaderFreeCallback crfc);
    void (*destroy_response)(struct MHD_Response *response);
    enum MHD_Result (*add_response_header)(struct MHD_Response *response, const char *header,
                                           const char *content);
    const char *(*lookup_connection_value)(struct MHD_Connection *connection,
                                           enum MHD_ValueKind kind, const char *key);
    void (*suspend_connection)(struct MHD_Connection *connection);
    void (*resume_connection)(struct MHD_Connection *connection);
};

/* libmicrohttpd.so.12, loaded on first use and never unloaded (its thread
 * may outlive a stopped server by nothing, but a restarted one reuses it).
 * Thread-safe. NULL when it cannot be loaded (logged, with dlerror()). */
const struct ef_mhd *ef_mhd_get(void);

#endif
