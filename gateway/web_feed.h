/* Between the running gateway and its web view (gateway/web/): the
 * snapshot the main thread builds every second, and what a reload does to
 * the server. */
#ifndef EF_WEB_FEED_H
#define EF_WEB_FEED_H

#include "gateway/stats.h"
#include "gateway/web/web.h"

/* Copies every device's state out of CORE (each device's lock held only for
 * its copy) and the figures of IN, and publishes them to W. */
void ef_web_feed(struct ef_web *w, const struct ef_config *cfg, struct ef_core *core,
                 const struct ef_stats_input *in);

/* Starts, stops or restarts *W for CFG: restarted when the listen address
 * or the password file's content changed, left running otherwise. */
void ef_web_feed_apply(struct ef_web **w, const struct ef_http *cfg);

#endif
