/* [http]: the listen address forms, and the rule that a non-loopback
 * address needs a password_file, reported at the listen line. */
#include <string.h>

#include "test_config.h"

int ef_test_failures;

struct ef_config *load_ok(const char *text)
{
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    if (ef_config_load_string("t.ini", text, &cfg, &errs) != 0) {
        ef_config_errors_print(errs, stderr);
        ef_config_errors_free(errs);
        return NULL;
    }
    return cfg;
}

static void expect_error(const char *text, int line, const char *part)
{
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    int rc = ef_config_load_string("t.ini", text, &cfg, &errs);
    CHECK(rc == -1 && cfg == NULL && errs && errs->count >= 1);
    if (rc == -1 && errs && errs->count >= 1) {
        if (errs->items[0].line != line || !strstr(errs->items[0].message, part)) {
            fprintf(stderr, "expected line %d '%s', got line %d '%s'\n", line, part,
                    errs->items[0].line, errs->items[0].message);
            ef_test_failures++;
        }
    }
    ef_config_errors_free(errs);
    ef_config_free(cfg);
}

static void listen_forms(void)
{
    struct ef_config *c = load_ok(BASE);
    CHECK(c && !c->http.enabled);
    ef_config_free(c);

    c = load_ok(BASE "[http]\nlisten = 127.0.0.1:8080\n");
    CHECK(c && c->http.enabled && c->http.listen.port == 8080 && c->http.listen.loopback &&
          !c->http.listen.ipv6 && strcmp(c->http.listen.host, "127.0.0.1") == 0 &&
          c->http.password_file[0] == '\0');
    ef_config_free(c);

    c = load_ok(BASE "[http]\nlisten = [::1]:9\n");
    CHECK(c && c->http.listen.ipv6 && c->http.listen.loopback && c->http.listen.port == 9 &&
          strcmp(c->http.listen.host, "::1") == 0);
    ef_config_free(c);

    c = load_ok(BASE "[http]\nlisten = localhost:80\n");
    CHECK(c && c->http.listen.loopback && strcmp(c->http.listen.host, "127.0.0.1") == 0);
    ef_config_free(c);

    c = load_ok(BASE "[http]\nlisten = 0.0.0.0:8080\npassword_file = /etc/edgeferry/http\n");
    CHECK(c && c->http.enabled && !c->http.listen.loopback &&
          strcmp(c->http.password_file, "/etc/edgeferry/http") == 0);
    ef_config_free(c);
}

static void listen_errors(void)
{
    expect_error(BASE "[http]\nlisten = 0.0.0.0:8080\n", 6, "not a loopback address");
    expect_error(BASE "[http]\n\nlisten = [::]:8080\n", 7, "set password_file");
    expect_error(BASE "[http]\nlisten = 192.168.1.5:80\n", 6, "not a loopback address");
    expect_error(BASE "[http]\nlisten = 127.0.0.1\n", 6, "ADDRESS:PORT");
    expect_error(BASE "[http]\nlisten = 127.0.0.1:0\n", 6, "ADDRESS:PORT");
    expect_error(BASE "[http]\nlisten = :8080\n", 6, "ADDRESS:PORT");
    expect_error(BASE "[http]\nlisten = plc.local:8080\n", 6, "numeric IPv4");
    expect_error(BASE "[http]\nlisten = ::1:8080\n", 6, "numeric IPv4");
    expect_error(BASE "[http]\nlisten = 127.0.0.1:80\npassword_file = rel\n", 7, "absolute");
    expect_error(BASE "[http]\nlisten = 127.0.0.1:80\nlistn = x\n", 7, "did you mean 'listen'");
}

int main(void)
{
    listen_forms();
    listen_errors();
    if (ef_test_failures)
        fprintf(stderr, "%d failure(s)\n", ef_test_failures);
    return ef_test_failures ? 1 : 0;
}
