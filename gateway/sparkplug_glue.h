/* The Sparkplug B node (gateway/sparkplug/) as the publisher's session
 * (gateway/mqtt/publisher.h): the two rooms do not know each other; this
 * file translates between them. */
#ifndef EF_SPARKPLUG_GLUE_H
#define EF_SPARKPLUG_GLUE_H

#include "gateway/commands.h"
#include "gateway/mqtt/publisher.h"
#include "gateway/sparkplug/sp_node.h"

/* The session hooks of node N (which must outlive the publisher). */
void ef_sparkplug_dialect(struct ef_sp_node *n, struct ef_pub_dialect *out);

/* Where DCMD writes go: the commands path, as commands on BASE/set/D. */
struct ef_sparkplug_writer {
    char base[EF_STR_MAX + EF_NAME_MAX + 2]; /* P/G */
    struct ef_commands *commands;
};
void ef_sparkplug_writer_init(struct ef_sparkplug_writer *w, const struct ef_config *cfg,
                              struct ef_commands *commands);

/* Layers node N on publisher P (before it starts): the hooks, the
 * subscriptions to STATE, NCMD and DCMD, and DCMD writes through WRITER
 * (which must outlive the node; NULL: DCMD is refused). Returns 0 or -1. */
int ef_sparkplug_attach(struct ef_sp_node *n, struct ef_publisher *p,
                        struct ef_sparkplug_writer *writer);

#endif
