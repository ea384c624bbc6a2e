/* Poll plans per period: a point with its own interval is read only in the
 * polls it is due, points due together share reads, poll 0 reads all,
 * holes are learned per plan, and --check describes each plan. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drivers/modbus/plan_set.h"

static struct ef_point P(const char *name, unsigned addr, int interval_ms)
{
    struct ef_point p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    p.has_register = true;
    p.kind = EF_REG_HOLDING;
    p.address = (uint16_t)addr;
    p.type = EF_T_UINT16;
    p.bit = -1;
    p.scale = 1;
    p.interval_ms = interval_ms;
    return p;
}

static struct ef_device dev_of(struct ef_point *pts, size_t n, int interval_ms)
{
    struct ef_device d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "d");
    d.interval_ms = interval_ms;
    d.points = pts;
    d.npoints = n;
    d.max_regs = 125;
    d.max_gap = 10;
    return d;
}

static bool reads_point(const struct ef_plan *plan, const char *name)
{
    for (size_t k = 0; plan && k < plan->norder; k++)
        if (strcmp(plan->points[plan->order[k]].name, name) == 0)
            return true;
    return false;
}

static struct ef_bus bus0;

static void test_a_slow_point_is_read_only_in_its_polls(void)
{
    struct ef_point pts[] = {P("a", 0, 0), P("b", 1, 1000), P("c", 2, 3000), P("d", 10, 2000)};
    struct ef_device d = dev_of(pts, 4, 1000);
    struct ef_plan_set set;
    CHECK(ef_plan_set_build(&set, &d, &bus0) == 0);
    CHECK_EQ_U(set.nplans, 4); /* m = 6, 3, 2, 1 */
    for (uint64_t n = 0; n < 60; n++) {
        struct ef_plan *p = ef_plan_set_for(&set, n);
        CHECK(p != NULL);
        CHECK(reads_point(p, "a") && reads_point(p, "b"));
        CHECK(reads_point(p, "c") == (n % 3 == 0));
        CHECK(reads_point(p, "d") == (n % 2 == 0));
        CHECK(p == ef_plan_set_for(&set, n % 6)); /* the same plan object every period */
    }
    /* Due together, coalesced together: poll 0 is one read of 0..10; poll 1
     * reads only 0..1; poll 2 one read 0..10 without c; poll 3 reads 0..2. */
    struct ef_plan *p0 = ef_plan_set_for(&set, 0), *p1 = ef_plan_set_for(&set, 1);
    struct ef_plan *p2 = ef_plan_set_for(&set, 2), *p3 = ef_plan_set_for(&set, 3);
    CHECK(p0 == &set.plans[0] && p0->nreads == 1 && p0->reads[0].count == 11);
    CHECK(p1->nreads == 1 && p1->reads[0].start == 0 && p1->reads[0].count == 2);
    CHECK(p2->nreads == 1 && p2->reads[0].count == 11 && p2->reads[0].n == 3);
    CHECK(p3->nreads == 1 && p3->reads[0].count == 3);
    ef_plan_set_free(&set);
}

static void test_a_poll_with_nothing_due_has_no_plan(void)
{
    struct ef_point pts[] = {P("x", 0, 2000), P("y", 5, 4000)};
    struct ef_device d = dev_of(pts, 2, 1000);
    struct ef_plan_set set;
    CHECK(ef_plan_set_build(&set, &d, &bus0) == 0);
    CHECK_EQ_U(set.nplans, 2);
    for (uint64_t n = 0; n < 16; n++) {
        struct ef_plan *p = ef_plan_set_for(&set, n);
        CHECK((p != NULL) == (n % 2 == 0));
        CHECK(reads_point(p, "y") == (n % 4 == 0));
    }
    ef_plan_set_free(&set);
}

static void test_without_intervals_one_plan_as_before(void)
{
    struct ef_point pts[] = {P("a", 0, 0), P("b", 100, 0)};
    struct ef_device d = dev_of(pts, 2, 500);
    struct ef_plan_set set;
    CHECK(ef_plan_set_build(&set, &d, &bus0) == 0);
    CHECK_EQ_U(set.nplans, 1);
    CHECK_EQ_U(ef_plan_requests(&set.plans[0]), 2);
    CHECK(ef_plan_set_for(&set, 0) == ef_plan_set_for(&set, 12345));
    ef_plan_set_free(&set);
}

static void test_device_limits_override_the_bus(void)
{
    struct ef_point pts[30];
    for (unsigned i = 0; i < 30; i++) {
        char name[8];
        snprintf(name, sizeof name, "p%u", i);
        pts[i] = P(name, i, 0);
    }
    struct ef_device d = dev_of(pts, 30, 1000);
    struct ef_bus bus = {.max_regs = 125, .max_gap = 10};
    struct ef_plan_set set;
    d.max_regs = 10;
    CHECK(ef_plan_set_build(&set, &d, &bus) == 0);
    CHECK_EQ_U(ef_plan_requests(&set.plans[0]), 3);
    ef_plan_set_free(&set);
    d.max_regs = 125;
    CHECK(ef_plan_set_build(&set, &d, &bus) == 0);
    CHECK_EQ_U(ef_plan_requests(&set.plans[0]), 1);
    ef_plan_set_free(&set);
    d.max_regs = 0; /* not resolved (built by hand): the bus's */
    bus.max_regs = 15;
    CHECK(ef_plan_set_build(&set, &d, &bus) == 0);
    CHECK_EQ_U(ef_plan_requests(&set.plans[0]), 2);
    ef_plan_set_free(&set);
}

static void test_holes_are_learned_per_plan(void)
{
    struct ef_point pts[] = {P("a", 0, 0), P("b", 4, 0), P("c", 8, 2000)};
    struct ef_device d = dev_of(pts, 3, 1000);
    struct ef_plan_set set;
    CHECK(ef_plan_set_build(&set, &d, &bus0) == 0);
    struct ef_plan *odd = ef_plan_set_for(&set, 1), *even = ef_plan_set_for(&set, 0);
    CHECK(odd != even && odd->nreads == 1 && even->nreads == 1);
    CHECK(ef_plan_split(odd, 0) == 1); /* the device refused 0..4 in an odd poll */
    CHECK(ef_plan_set_for(&set, 3)->nreads == 2); /* kept for later odd polls */
    CHECK(ef_plan_set_for(&set, 4)->nreads == 1); /* the even plan finds out itself */
    odd->reads[1].hole = true;
    CHECK_EQ_U(ef_plan_requests(ef_plan_set_for(&set, 5)), 1);
    ef_plan_set_free(&set);
}

static void test_check_text_names_the_polls_of_each_plan(void)
{
    struct ef_point pts[] = {P("a", 0, 0), P("c", 2, 3000), P("d", 10, 2000)};
    struct ef_device d = dev_of(pts, 3, 1000);
    struct ef_plan_set set;
    CHECK(ef_plan_set_build(&set, &d, &bus0) == 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK_EQ_U(ef_plan_set_print(&set, f), 1);
    fclose(f);
    static const char *const want[] = {
        "    plan for polls 0, 6, 12, ... (multiples of 6): 1 request for 3 points\n"
        "    read holding 0..10 (11 regs): a c d\n",
        "    plan for polls 3, 9, 15, ... (multiples of 3, not of 2): 1 request for 2 points\n"
        "    read holding 0..2 (3 regs): a c\n",
        "    plan for polls 2, 4, 8, ... (multiples of 2, not of 3): 1 request for 2 points\n"
        "    read holding 0..10 (11 regs): a d\n",
        "    plan for polls 1, 5, 7, ... (not multiples of 3 or 2): 1 request for 1 point\n"
        "    read holding 0..0 (1 reg): a\n"};
    for (size_t i = 0; i < 4; i++)
        if (!strstr(text, want[i])) {
            fprintf(stderr, "missing:\n%s\nin:\n%s", want[i], text);
            check_failures++;
        }
    free(text);
    ef_plan_set_free(&set);
}

int main(void)
{
    test_a_slow_point_is_read_only_in_its_polls();
    test_a_poll_with_nothing_due_has_no_plan();
    test_without_intervals_one_plan_as_before();
    test_device_limits_override_the_bus();
    test_holes_are_learned_per_plan();
    test_check_text_names_the_polls_of_each_plan();
    CHECK_DONE();
}
