/* Home Assistant discovery in the running gateway: the configs of the
 * current configuration (gateway/north/homeassistant.h), plus removals for
 * what earlier configurations of this process published and the current
 * one no longer has, handed to the publisher as its session set. */
#ifndef EF_DISCOVERY_H
#define EF_DISCOVERY_H

#include "config/config.h"
#include "gateway/mqtt/publisher.h"
#include "gateway/north/homeassistant.h"

/* Rebuilds *SET for CFG (keeping removals of what it had) and gives it to
 * PUB, triggered by "online" on <discovery_prefix>/status. Returns 0, or
 * -1 when out of memory (logged; the publisher keeps its previous set). */
int ef_discovery_update(struct ef_ha_set *set, const struct ef_config *cfg,
                        struct ef_publisher *pub);

#endif
