/* The Sparkplug B node (gateway/sparkplug/) as the publisher's session
 * (gateway/mqtt/publisher.h): the two rooms do not know each other; this
 * file translates between them. */
#ifndef EF_SPARKPLUG_GLUE_H
#define EF_SPARKPLUG_GLUE_H

#include "gateway/mqtt/publisher.h"
#include "gateway/sparkplug/sp_node.h"

/* The session hooks of node N (which must outlive the publisher). */
void ef_sparkplug_dialect(struct ef_sp_node *n, struct ef_pub_dialect *out);

/* Layers node N on publisher P (before it starts): the hooks, and the
 * subscriptions to STATE, NCMD and DCMD. Returns 0 or -1 (logged). */
int ef_sparkplug_attach(struct ef_sp_node *n, struct ef_publisher *p);

#endif
