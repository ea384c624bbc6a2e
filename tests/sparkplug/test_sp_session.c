/* The Sparkplug B session state machine (gateway/sparkplug/sp_session.c),
 * rule by rule. */
#include <string.h>

#include "../gateway/expect.h"
#include "gateway/sparkplug/sp_session.h"

static int case_bdseq_starts_at_0_goes_up_per_connect_and_wraps(void)
{
    struct ef_sps s;
    ef_sps_init(&s, false, -1);
    EXPECT(ef_sps_connecting(&s) == 0, "first CONNECT: bdSeq 0");
    EXPECT(ef_sps_connecting(&s) == 1, "second CONNECT: bdSeq 1");
    ef_sps_init(&s, false, 254); /* the state file said 254 */
    EXPECT(ef_sps_connecting(&s) == 255, "after 254: 255");
    EXPECT(ef_sps_connecting(&s) == 0, "after 255: 0");
    return 0;
}

static int case_nbirth_seq_0_then_every_message_next_seq_wrapping(void)
{
    struct ef_sps_dev dev[1] = {{.online = true, .has_values = true}};
    struct ef_sps s;
    ef_sps_init(&s, false, -1);
    ef_sps_set_devices(&s, dev, 1);
    size_t d = 99;
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_WAIT, "no births while down");
    ef_sps_connecting(&s);
    ef_sps_link(&s, true);
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_NBIRTH, "NBIRTH first");
    EXPECT(ef_sps_data(&s, 0) == EF_SPS_DATA_WAIT, "no data before NBIRTH");
    EXPECT(ef_sps_did_nbirth(&s, 1000) == 0, "NBIRTH seq 0");
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_DBIRTH && d == 0, "then DBIRTH");
    EXPECT(ef_sps_data(&s, 0) == EF_SPS_DATA_CONTROL_FIRST, "data waits for its DBIRTH");
    EXPECT(ef_sps_did_dbirth(&s, 0) == 1, "DBIRTH seq 1");
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_READY, "births done");
    EXPECT(ef_sps_data(&s, 0) == EF_SPS_DATA_SEND, "data flows");
    for (unsigned i = 2; i < 256 + 5; i++)
        EXPECT(ef_sps_take_seq(&s) == (uint8_t)i, "seq %u", i);
    /* rebirth: NBIRTH seq 0 again, same bdSeq */
    uint8_t bd = s.bdseq;
    ef_sps_request_rebirth(&s);
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_NBIRTH && ef_sps_did_nbirth(&s, 2000) == 0 &&
               s.bdseq == bd,
           "rebirth: NBIRTH seq 0 with the same bdSeq");
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_DBIRTH && ef_sps_did_dbirth(&s, 0) == 1,
           "rebirth: every DBIRTH again");
    return 0;
}

static int case_device_offline_ddeath_back_dbirth_and_unborn_data_dropped(void)
{
    struct ef_sps_dev dev[2] = {{.online = true, .has_values = true}, {0}};
    struct ef_sps s;
    ef_sps_init(&s, false, -1);
    ef_sps_set_devices(&s, dev, 2);
    ef_sps_connecting(&s);
    ef_sps_link(&s, true);
    size_t d;
    ef_sps_did_nbirth(&s, 0);
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_DBIRTH && d == 0, "device 0 born, 1 has no values");
    ef_sps_did_dbirth(&s, 0);
    EXPECT(ef_sps_data(&s, 1) == EF_SPS_DATA_DROP, "data of a device never seen online");
    dev[0].online = false;
    EXPECT(ef_sps_data(&s, 0) == EF_SPS_DATA_CONTROL_FIRST, "its DDEATH goes first");
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_DDEATH && d == 0, "DDEATH when offline");
    ef_sps_did_ddeath(&s, 0);
    EXPECT(ef_sps_data(&s, 0) == EF_SPS_DATA_DROP, "queued data after DDEATH");
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_READY, "one DDEATH only");
    dev[0].online = true;
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_DBIRTH && d == 0, "DBIRTH when it answers again");
    return 0;
}

static int case_primary_host_state_gates_births_and_ends_sessions(void)
{
    struct ef_sps s;
    ef_sps_init(&s, true, -1);
    ef_sps_connecting(&s);
    ef_sps_link(&s, true);
    size_t d;
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_WAIT, "no NBIRTH before the host's STATE");
    EXPECT(ef_sps_host_state(&s, false, 100), "offline taken");
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_WAIT, "not in a session: no disconnect");
    EXPECT(ef_sps_host_state(&s, true, 200), "online taken");
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_NBIRTH, "NBIRTH once online");
    ef_sps_did_nbirth(&s, 1000);
    EXPECT(!ef_sps_host_state(&s, false, 150), "an offline older than the online is ignored");
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_READY, "still in session");
    EXPECT(ef_sps_host_state(&s, false, 200), "offline as new as the online");
    EXPECT(ef_sps_next(&s, &d) == EF_SPS_DISCONNECT, "the session ends with a disconnect");
    EXPECT(ef_sps_historical(&s, 999) && !ef_sps_historical(&s, 1000),
           "data from before the NBIRTH is historical");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(void);
    } cases[] = {
        {"bdseq_starts_at_0_goes_up_per_connect_and_wraps",
         case_bdseq_starts_at_0_goes_up_per_connect_and_wraps},
        {"nbirth_seq_0_then_every_message_next_seq_wrapping",
         case_nbirth_seq_0_then_every_message_next_seq_wrapping},
        {"device_offline_ddeath_back_dbirth_and_unborn_data_dropped",
         case_device_offline_ddeath_back_dbirth_and_unborn_data_dropped},
        {"primary_host_state_gates_births_and_ends_sessions",
         case_primary_host_state_gates_births_and_ends_sessions},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (argc < 2 || strcmp(argv[1], cases[i].name) == 0)
            cases[i].fn();
    return failures ? 1 : 0;
}
