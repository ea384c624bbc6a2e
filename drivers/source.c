/* Source helpers that do not belong to one driver. */
#include "drivers/source.h"

#include <stdio.h>
#include <string.h>

int ef_source_write(struct ef_source *s, const struct ef_write_req *req,
                    struct ef_write_result *now)
{
    if (s->ops->write)
        return s->ops->write(s, req, now);
    memset(now, 0, sizeof *now);
    now->status = EF_WRITE_INVALID;
    snprintf(now->error, sizeof now->error, "%s cannot be written to", s->name);
    return -1;
}
