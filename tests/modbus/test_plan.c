/* Poll plan: merging within max_gap and max_regs, overlaps sharing a read,
 * kinds kept apart, protocol limits, splitting on holes, the --check text. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drivers/modbus/plan.h"

static struct ef_point P(const char *name, enum ef_reg_kind k, unsigned addr,
                         enum ef_value_type t)
{
    struct ef_point p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    p.has_register = true;
    p.kind = k;
    p.address = (uint16_t)addr;
    p.type = t;
    p.bit = -1;
    p.scale = 1;
    return p;
}

static struct ef_bus bus_with(int max_gap, int max_regs)
{
    struct ef_bus b;
    memset(&b, 0, sizeof b);
    b.max_gap = max_gap;
    b.max_regs = max_regs;
    return b;
}

static void test_points_within_max_gap_merge_into_one_read(void)
{
    struct ef_point pts[] = {
        P("c", EF_REG_HOLDING, 9, EF_T_UINT16),
        P("a", EF_REG_HOLDING, 0, EF_T_FLOAT32),
        P("b", EF_REG_HOLDING, 4, EF_T_UINT16), /* gap 2..3: 2 regs */
    };
    struct ef_bus bus = bus_with(4, 125);
    struct ef_plan plan;
    CHECK(ef_plan_build(&plan, pts, 3, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 1);
    CHECK_EQ_U(plan.reads[0].start, 0);
    CHECK_EQ_U(plan.reads[0].count, 10);
    CHECK_EQ_U(plan.reads[0].n, 3);
    /* Sorted by address, with offsets from the read's start. */
    CHECK_EQ_U(plan.order[0], 1);
    CHECK_EQ_U(plan.order[1], 2);
    CHECK_EQ_U(plan.order[2], 0);
    CHECK_EQ_U(ef_plan_offset(&plan, &plan.reads[0], 1), 4);
    CHECK_EQ_U(ef_plan_offset(&plan, &plan.reads[0], 2), 9);
    ef_plan_free(&plan);
}

static void test_gap_wider_than_max_gap_starts_a_new_read(void)
{
    struct ef_point pts[] = {
        P("a", EF_REG_HOLDING, 0, EF_T_UINT16),
        P("b", EF_REG_HOLDING, 6, EF_T_UINT16), /* 5 unused: 1..5 */
        P("c", EF_REG_HOLDING, 11, EF_T_UINT16), /* 4 unused: 7..10 */
    };
    struct ef_bus bus = bus_with(4, 125);
    struct ef_plan plan;
    CHECK(ef_plan_build(&plan, pts, 3, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 2);
    CHECK_EQ_U(plan.reads[0].start, 0);
    CHECK_EQ_U(plan.reads[0].count, 1);
    CHECK_EQ_U(plan.reads[1].start, 6);
    CHECK_EQ_U(plan.reads[1].count, 6);
    ef_plan_free(&plan);
    /* max_gap 0 still merges adjacent registers. */
    bus = bus_with(0, 125);
    struct ef_point adj[] = {P("a", EF_REG_INPUT, 0, EF_T_UINT32),
                             P("b", EF_REG_INPUT, 2, EF_T_UINT16),
                             P("c", EF_REG_INPUT, 4, EF_T_UINT16)};
    CHECK(ef_plan_build(&plan, adj, 3, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 2);
    CHECK_EQ_U(plan.reads[0].count, 3);
    ef_plan_free(&plan);
}

static void test_max_regs_bounds_a_read(void)
{
    struct ef_point pts[] = {
        P("a", EF_REG_HOLDING, 0, EF_T_UINT16),
        P("b", EF_REG_HOLDING, 8, EF_T_FLOAT32), /* would end at 10 > 9 */
    };
    struct ef_bus bus = bus_with(10, 9);
    struct ef_plan plan;
    CHECK(ef_plan_build(&plan, pts, 2, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 2);
    ef_plan_free(&plan);
    bus = bus_with(10, 10);
    CHECK(ef_plan_build(&plan, pts, 2, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 1);
    CHECK_EQ_U(plan.reads[0].count, 10);
    ef_plan_free(&plan);
}

static void test_register_reads_never_exceed_125(void)
{
    enum { N = 300 };
    struct ef_point *pts = calloc(N, sizeof *pts);
    for (unsigned i = 0; i < N; i++)
        pts[i] = P("r", EF_REG_INPUT, i, EF_T_UINT16);
    struct ef_bus bus = bus_with(10, 2000); /* too big: clamped to 125 */
    struct ef_plan plan;
    CHECK(ef_plan_build(&plan, pts, N, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 3);
    CHECK_EQ_U(plan.reads[0].count, 125);
    CHECK_EQ_U(plan.reads[1].start, 125);
    CHECK_EQ_U(plan.reads[1].count, 125);
    CHECK_EQ_U(plan.reads[2].count, 50);
    ef_plan_free(&plan);
    free(pts);
}

static void test_bit_reads_never_exceed_2000(void)
{
    enum { N = 4500 };
    struct ef_point *pts = calloc(N, sizeof *pts);
    for (unsigned i = 0; i < N; i++)
        pts[i] = P("c", EF_REG_COIL, i, EF_T_BOOL);
    struct ef_bus bus = bus_with(10, 125);
    struct ef_plan plan;
    CHECK(ef_plan_build(&plan, pts, N, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 3);
    CHECK_EQ_U(plan.reads[0].count, 2000);
    CHECK_EQ_U(plan.reads[1].start, 2000);
    CHECK_EQ_U(plan.reads[2].count, 500);
    ef_plan_free(&plan);
    /* A smaller max_regs limits bits by the same bytes: 16 bits per register. */
    bus = bus_with(10, 10);
    CHECK(ef_plan_build(&plan, pts, 400, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 3);
    CHECK_EQ_U(plan.reads[0].count, 160);
    ef_plan_free(&plan);
    free(pts);
}

static void test_overlapping_points_share_a_read(void)
{
    struct ef_point pts[] = {
        P("whole", EF_REG_HOLDING, 5, EF_T_UINT16),
        P("flag", EF_REG_HOLDING, 5, EF_T_BOOL),
        P("f", EF_REG_HOLDING, 20, EF_T_FLOAT32),
        P("lo", EF_REG_HOLDING, 21, EF_T_UINT16), /* inside the float32 */
    };
    pts[1].bit = 3;
    struct ef_bus bus = bus_with(0, 125);
    struct ef_plan plan;
    CHECK(ef_plan_build(&plan, pts, 4, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 2);
    CHECK_EQ_U(plan.reads[0].start, 5);
    CHECK_EQ_U(plan.reads[0].count, 1);
    CHECK_EQ_U(plan.reads[0].n, 2);
    CHECK_EQ_U(plan.reads[1].start, 20);
    CHECK_EQ_U(plan.reads[1].count, 2);
    CHECK_EQ_U(plan.reads[1].n, 2);
    CHECK_EQ_U(ef_plan_offset(&plan, &plan.reads[1], plan.reads[1].first + 1), 1);
    /* An overlapping group cannot be split. */
    CHECK(ef_plan_split(&plan, 1) == 0);
    CHECK_EQ_U(plan.nreads, 2);
    ef_plan_free(&plan);
}

static void test_overlap_group_crossing_max_regs_moves_to_its_own_read(void)
{
    struct ef_point pts[] = {
        P("a", EF_REG_HOLDING, 0, EF_T_UINT16),
        P("b", EF_REG_HOLDING, 120, EF_T_FLOAT64), /* 120..123 fits with a */
        P("c", EF_REG_HOLDING, 122, EF_T_FLOAT64), /* overlaps b, ends at 125 */
    };
    struct ef_bus bus = bus_with(200, 125);
    struct ef_plan plan;
    CHECK(ef_plan_build(&plan, pts, 3, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 2);
    CHECK_EQ_U(plan.reads[0].start, 0);
    CHECK_EQ_U(plan.reads[0].count, 1);
    CHECK_EQ_U(plan.reads[1].start, 120);
    CHECK_EQ_U(plan.reads[1].count, 6);
    CHECK_EQ_U(plan.reads[1].n, 2);
    ef_plan_free(&plan);
}

static void test_register_kinds_are_read_separately(void)
{
    struct ef_point pts[] = {
        P("h", EF_REG_HOLDING, 0, EF_T_UINT16), P("i", EF_REG_INPUT, 1, EF_T_UINT16),
        P("c", EF_REG_COIL, 0, EF_T_BOOL),      P("d", EF_REG_DISCRETE, 0, EF_T_BOOL),
        P("c2", EF_REG_COIL, 7, EF_T_BOOL),     P("h2", EF_REG_HOLDING, 1, EF_T_UINT16),
    };
    struct ef_bus bus = bus_with(10, 125);
    struct ef_plan plan;
    CHECK(ef_plan_build(&plan, pts, 6, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 4);
    CHECK(plan.reads[0].kind == EF_REG_COIL && plan.reads[0].count == 8);
    CHECK(plan.reads[1].kind == EF_REG_DISCRETE && plan.reads[1].count == 1);
    CHECK(plan.reads[2].kind == EF_REG_INPUT && plan.reads[2].start == 1);
    CHECK(plan.reads[3].kind == EF_REG_HOLDING && plan.reads[3].count == 2);
    CHECK_EQ_U(ef_plan_requests(&plan), 4);
    ef_plan_free(&plan);
}

static void test_split_halves_a_read_until_single_groups(void)
{
    struct ef_point pts[8];
    for (unsigned i = 0; i < 8; i++)
        pts[i] = P("p", EF_REG_HOLDING, i * 3, EF_T_UINT16);
    struct ef_bus bus = bus_with(10, 125);
    struct ef_plan plan;
    CHECK(ef_plan_build(&plan, pts, 8, &bus) == 0);
    CHECK_EQ_U(plan.nreads, 1);
    CHECK_EQ_U(plan.reads[0].count, 22);
    CHECK(ef_plan_split(&plan, 0) == 1);
    CHECK_EQ_U(plan.nreads, 2);
    CHECK_EQ_U(plan.reads[0].start, 0);
    CHECK_EQ_U(plan.reads[0].count, 10); /* points 0,3,6,9 */
    CHECK_EQ_U(plan.reads[1].start, 12);
    CHECK_EQ_U(plan.reads[1].count, 10); /* points 12..21 */
    CHECK(ef_plan_split(&plan, 1) == 1);
    CHECK_EQ_U(plan.nreads, 3);
    CHECK_EQ_U(plan.reads[1].start, 12);
    CHECK_EQ_U(plan.reads[1].count, 4);
    CHECK_EQ_U(plan.reads[2].start, 18);
    CHECK(ef_plan_split(&plan, 1) == 1);
    CHECK(ef_plan_split(&plan, 1) == 0); /* single point: nothing left to split */
    CHECK_EQ_U(plan.nreads, 4);
    plan.reads[1].hole = true;
    CHECK_EQ_U(ef_plan_requests(&plan), 3);
    /* Every point is still served exactly once. */
    size_t served = 0;
    for (size_t i = 0; i < plan.nreads; i++)
        served += plan.reads[i].n;
    CHECK_EQ_U(served, 8);
    ef_plan_free(&plan);
}

static void test_print_lists_reads_and_point_names(void)
{
    struct ef_point pts[] = {
        P("voltage", EF_REG_HOLDING, 0, EF_T_FLOAT32),
        P("current", EF_REG_HOLDING, 8, EF_T_UINT16),
        P("relay", EF_REG_COIL, 3, EF_T_BOOL),
    };
    struct ef_bus bus = bus_with(10, 125);
    struct ef_device dev;
    memset(&dev, 0, sizeof dev);
    dev.points = pts;
    dev.npoints = 3;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(ef_plan_print_device(&dev, &bus, f) == 2);
    fclose(f);
    CHECK(strcmp(buf, "    read coil 3..3 (1 bit): relay\n"
                      "    read holding 0..8 (9 regs): voltage current\n") == 0);
    if (buf)
        fputs(buf, stderr);
    free(buf);
}

int main(void)
{
    test_points_within_max_gap_merge_into_one_read();
    test_gap_wider_than_max_gap_starts_a_new_read();
    test_max_regs_bounds_a_read();
    test_register_reads_never_exceed_125();
    test_bit_reads_never_exceed_2000();
    test_overlapping_points_share_a_read();
    test_overlap_group_crossing_max_regs_moves_to_its_own_read();
    test_register_kinds_are_read_separately();
    test_split_halves_a_read_until_single_groups();
    test_print_lists_reads_and_point_names();
    CHECK_DONE();
}
