/* Home Assistant discovery in the running gateway: the configs of the
 * current configuration (gateway/north/homeassistant.h), plus removals for
 * what earlier configurations of this process published and the current
 * one no longer has, handed to the publisher as its session set. */
#ifndef EF_DISCOVERY_H
#define EF_DISCOVERY_H

#include "config/config.h"
#include "gateway/mqtt/publisher.h"
#include "gateway/north/homeassistant.h"

/* Before ef_pub_start: with discovery on, PUB subscribes to
 * <discovery_prefix>/status and sends its session set again when Home
 * Assistant says "online" there. Returns 0 or -1 (logged). */
int ef_discovery_attach(const struct ef_config *cfg, struct ef_publisher *pub);

/* Rebuilds *SET for CFG (keeping removals of what it had) and gives it to
 * PUB as its session set. Returns 0, or -1 when out of memory (logged; the
 * publisher keeps its previous set). */
int ef_discovery_update(struct ef_ha_set *set, const struct ef_config *cfg,
                        struct ef_publisher *pub);

#endif
