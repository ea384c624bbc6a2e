/* [http]: the listen address and the rule that only a loopback address may
 * go without a password (anyone on the network could read the plant). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config/config_build.h"
#include "config/config_value.h"

int ef_cv_parse_listen(const struct ef_key *k, const char *text, void *field, char *err,
                       size_t errlen)
{
    (void)k;
    struct ef_listen *l = field;
    const char *colon = strrchr(text, ':');
    size_t hlen = colon ? (size_t)(colon - text) : 0;
    const char *host = text;
    if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
        host++;
        hlen -= 2;
        l->ipv6 = true;
    } else {
        l->ipv6 = false;
    }
    long long port;
    char why[64];
    if (!colon || hlen == 0 || hlen >= sizeof l->host || strlen(text) >= sizeof l->text ||
        ef_cv_int(colon + 1, 1, 65535, &port, why, sizeof why) != 0) {
        snprintf(err, errlen, "'%s' is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)",
                 text);
        return -1;
    }
    memcpy(l->host, host, hlen);
    l->host[hlen] = '\0';
    if (!l->ipv6 && strcmp(l->host, "localhost") == 0)
        snprintf(l->host, sizeof l->host, "127.0.0.1");
    unsigned char a[16];
    if (inet_pton(l->ipv6 ? AF_INET6 : AF_INET, l->host, a) != 1) {
        snprintf(err, errlen, "'%s' is not a numeric %s address%s", l->host,
                 l->ipv6 ? "IPv6" : "IPv4", l->ipv6 ? "" : " (IPv6 goes in brackets: [::1]:8080)");
        return -1;
    }
    static const unsigned char v6_loop[16] = {[15] = 1};
    l->loopback = l->ipv6 ? memcmp(a, v6_loop, 16) == 0 : a[0] == 127;
    l->port = (int)port;
    snprintf(l->text, sizeof l->text, "%s", text);
    return 0;
}

void ef_check_http(struct ef_build *b)
{
    if (b->n[EF_SEC_HTTP] == 0)
        return;
    struct ef_item *it = &b->items[EF_SEC_HTTP][0];
    struct ef_http *h = &b->cfg->http;
    h->enabled = ef_item_ok(it, EF_SEC_HTTP, "listen");
    if (h->enabled && !h->listen.loopback && !ef_item_has(it, "password_file"))
        ef_build_key_error(b, it, "listen",
                           "%s is not a loopback address: set password_file too, or listen on "
                           "127.0.0.1 or [::1]", h->listen.host);
}
