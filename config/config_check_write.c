/* Rules of the keys that let MQTT commands write to devices: which points
 * may be writable, their limits, and how a device writes one register. Kept
 * apart from config_check.c so the write path's rules read in one place. */
#include <string.h>

#include "config/config_build.h"

void ef_check_point_write(struct ef_build *b, struct ef_item *it, bool serial)
{
    struct ef_point_build *pb = it->data;
    struct ef_point *p = &pb->p;
    p->has_write_min = ef_item_has(it, "write_min");
    p->has_write_max = ef_item_has(it, "write_max");
    if (!p->writable) {
        /* Limits without writable would look like protection that does nothing. */
        if (p->has_write_min)
            ef_build_key_error(b, it, "write_min", "needs writable = true");
        if (p->has_write_max)
            ef_build_key_error(b, it, "write_max", "needs writable = true");
        return;
    }
    if (serial) {
        ef_build_key_error(b, it, "writable", "serial sensors are not writable");
        return;
    }
    if (!p->has_register)
        return; /* the missing register is reported already */
    if (p->kind != EF_REG_HOLDING && p->kind != EF_REG_COIL) {
        ef_build_key_error(b, it, "writable",
                           "only holding registers (or a bit of one) and coils can be written; "
                           "this point is %s:%u",
                           ef_reg_kind_name(p->kind), (unsigned)p->address);
        return;
    }
    if (p->type == EF_T_STRING) {
        ef_build_key_error(b, it, "writable", "strings are read-only");
        return;
    }
    if (p->type == EF_T_BOOL) {
        if (p->has_write_min)
            ef_build_key_error(b, it, "write_min", "does not apply to a bool point");
        if (p->has_write_max)
            ef_build_key_error(b, it, "write_max", "does not apply to a bool point");
        return;
    }
    if (p->has_write_min && p->has_write_max && p->write_min > p->write_max)
        ef_build_key_error(b, it, "write_min", "must not be above write_max (%g)", p->write_max);
}

void ef_check_device_write(struct ef_build *b, struct ef_item *it)
{
    struct ef_device_build *d = it->data;
    if (ef_item_has(it, "write_single") || !ef_item_ok(it, EF_SEC_DEVICE, "template"))
        return;
    struct ef_item *t = ef_build_find(b, EF_SEC_TEMPLATE, d->d.template_name);
    if (t && ef_item_ok(t, EF_SEC_TEMPLATE, "write_single"))
        d->d.write_single = (enum ef_write_single)((struct ef_template_build *)t->data)->write_single;
}
