/* MQTT topic filters as the broker applies them (MQTT 3.1.1 section 4.7):
 * the publisher hands an arrived message to the first subscription whose
 * filter matches, so a wrong match would send a command to the wrong part. */
#include <stdio.h>

#include "gateway/mqtt/publisher.h"

static int failures;

static void expect(const char *filter, const char *topic, bool want)
{
    bool got = ef_mqtt_topic_matches(filter, topic);
    if (got != want) {
        printf("FAIL: filter '%s' topic '%s': got %d, want %d\n", filter, topic, got, want);
        failures++;
    }
}

int main(void)
{
    expect("a/b", "a/b", true);
    expect("a/b", "a/bc", false);
    expect("a/bc", "a/b", false);
    expect("a/b", "a/b/c", false);
    expect("a/b/c", "a/b", false);
    expect("a/+", "a/b", true);
    expect("a/+", "a/", true); /* an empty level is a level */
    expect("a/+", "a", false);
    expect("a/+", "a/b/c", false);
    expect("a/+/c", "a/b/c", true);
    expect("a/+/c", "a/b/d", false);
    expect("a/+/+", "a/b/c", true);
    expect("+/+", "/b", true);
    expect("a/#", "a", true); /* # also matches the parent level */
    expect("a/#", "a/b/c", true);
    expect("a/#", "ab", false);
    expect("#", "a/b", true);
    expect("edgeferry/g1/set/+", "edgeferry/g1/set/meter", true);
    expect("edgeferry/g1/set/+", "edgeferry/g1/set/meter/sp", false);
    expect("edgeferry/g1/set/+/+", "edgeferry/g1/set/meter/sp", true);
    expect("edgeferry/g1/set/+/+", "edgeferry/g1/set/meter", false);
    expect("homeassistant/status", "homeassistant/status", true);
    expect("spBv1.0/STATE/+", "spBv1.0/STATE/host1", true);
    if (failures)
        return 1;
    printf("topic filters: all cases match as MQTT says\n");
    return 0;
}
