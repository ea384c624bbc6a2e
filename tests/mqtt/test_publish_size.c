/* ef_mqtt_publish_size counts a PUBLISH packet as MQTT's Maximum Packet
 * Size does (fixed header, remaining length, topic, packet id, MQTT 5
 * properties length, payload), including where the remaining length needs
 * a second and a third byte; ef_pub_connack_limit finds property 0x27. */
#include <stdio.h>

#include "gateway/mqtt/publisher_priv.h"

#include "expect.h"

static void size_is(size_t topic, size_t payload, int qos, int version, size_t want)
{
    size_t got = ef_mqtt_publish_size(topic, payload, qos, version);
    EXPECT(got == want, "topic %zu payload %zu qos %d v%d: %zu bytes, want %zu", topic, payload,
           qos, version, got, want);
}

int main(void)
{
    /* "a/b", 10 bytes: 1 + 1 + (2 + 3 + 10) */
    size_is(3, 10, 0, 4, 17);
    size_is(3, 10, 1, 4, 19); /* + packet id */
    size_is(3, 10, 2, 4, 19);
    size_is(3, 10, 1, 5, 20); /* + properties length (0) */
    /* remaining length 127 fits one byte, 128 needs two */
    size_is(0, 125, 0, 4, 129);
    size_is(0, 126, 0, 4, 131);
    /* 16383 two bytes, 16384 three */
    size_is(0, 16381, 0, 4, 16386);
    size_is(0, 16382, 0, 4, 16388);

    MQTTProperty arr[2] = {{.identifier = MQTTPROPERTY_CODE_TOPIC_ALIAS_MAXIMUM},
                           {.identifier = MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE}};
    arr[0].value.integer2 = 10;
    arr[1].value.integer4 = 2000;
    MQTTProperties props = {.count = 2, .max_count = 2, .array = arr};
    EXPECT(ef_pub_connack_limit(&props) == 2000, "limit %zu", ef_pub_connack_limit(&props));
    props.count = 1;
    EXPECT(ef_pub_connack_limit(&props) == 0, "no limit said: %zu", ef_pub_connack_limit(&props));
    EXPECT(ef_pub_connack_limit(NULL) == 0, "no properties");

    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures != 0;
}
