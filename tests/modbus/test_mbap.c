/* Modbus TCP read and write requests and the checks of their replies (mbap.h): every
 * field of a reply that libmodbus 3.1.6 does not look at is checked here,
 * byte by byte. */
#include <string.h>

#include "check.h"
#include "drivers/modbus/mbap.h"

/* A correct reply to REQ with DATA (N bytes); returns its length. */
static size_t reply(const uint8_t *req, const uint8_t *data, uint8_t n, uint8_t *out)
{
    memcpy(out, req, 8); /* tid, protocol, unit, function */
    out[4] = 0;
    out[5] = (uint8_t)(3 + n);
    out[8] = n;
    memcpy(out + 9, data, n);
    return 9u + n;
}

static void request_bytes_are_exact(void)
{
    uint8_t req[EF_MBAP_READ_REQ_LEN];
    ef_mbap_read_request(req, 0x1234, 17, 3, 0x0102, 125);
    static const uint8_t want[] = {0x12, 0x34, 0, 0, 0, 6, 17, 3, 0x01, 0x02, 0, 125};
    CHECK(memcmp(req, want, sizeof want) == 0);
}

static void a_correct_reply_passes_and_yields_its_registers(void)
{
    uint8_t req[EF_MBAP_READ_REQ_LEN], rsp[300], exc = 0;
    ef_mbap_read_request(req, 7, 1, 3, 10, 2);
    static const uint8_t data[] = {0xCF, 0xC7, 0xD4, 0x31};
    size_t n = reply(req, data, 4, rsp);
    CHECK(ef_mbap_check_reply(req, rsp, n, true, &exc) == EF_MBAP_OK);
    uint16_t regs[2];
    ef_mbap_regs(rsp, 2, regs);
    CHECK_EQ_U(regs[0], 0xCFC7);
    CHECK_EQ_U(regs[1], 0xD431);
}

static void bits_come_least_significant_first(void)
{
    uint8_t req[EF_MBAP_READ_REQ_LEN], rsp[300], exc = 0;
    ef_mbap_read_request(req, 1, 1, 1, 0, 10);
    static const uint8_t data[] = {0x49, 0x02}; /* bits 0, 3, 6, 9 */
    size_t n = reply(req, data, 2, rsp);
    CHECK(ef_mbap_check_reply(req, rsp, n, true, &exc) == EF_MBAP_OK);
    uint8_t bits[10];
    ef_mbap_bits(rsp, 10, bits);
    for (unsigned i = 0; i < 10; i++)
        CHECK_EQ_U(bits[i], i % 3 == 0);
    /* 10 bits are 2 bytes: one byte is a short reply. */
    n = reply(req, data, 1, rsp);
    CHECK(ef_mbap_check_reply(req, rsp, n, true, &exc) == EF_MBAP_BAD_PDU);
}

static void another_unit_is_refused_unless_the_check_is_off(void)
{
    uint8_t req[EF_MBAP_READ_REQ_LEN], rsp[300], exc = 0;
    ef_mbap_read_request(req, 9, 1, 4, 0, 1);
    static const uint8_t data[] = {0, 2};
    size_t n = reply(req, data, 2, rsp);
    rsp[6] = 2; /* behind a TCP-to-RTU gateway: the other device's data */
    CHECK(ef_mbap_check_reply(req, rsp, n, true, &exc) == EF_MBAP_WRONG_UNIT);
    CHECK(ef_mbap_check_reply(req, rsp, n, false, &exc) == EF_MBAP_OK);
    rsp[6] = 255; /* a device with a fixed id */
    CHECK(ef_mbap_check_reply(req, rsp, n, true, &exc) == EF_MBAP_WRONG_UNIT);
    CHECK(ef_mbap_check_reply(req, rsp, n, false, &exc) == EF_MBAP_OK);
}

static void a_bad_header_is_refused(void)
{
    uint8_t req[EF_MBAP_READ_REQ_LEN], rsp[300], exc = 0;
    ef_mbap_read_request(req, 0x0102, 1, 3, 0, 1);
    static const uint8_t data[] = {0, 1};
    size_t n = reply(req, data, 2, rsp);
    struct {
        int at;
        uint8_t v;
    } faults[] = {
        {4, 0x01}, /* MBAP length 0x0105 */
        {5, 4},    /* one byte short */
        {5, 6},    /* one byte long */
        {0, 0x00}, /* another transaction */
        {1, 0x03},
        {3, 0x01}, /* protocol id 1 (libmodbus 3.1.6 lets it through) */
        {2, 0x01},
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        uint8_t bad[300];
        memcpy(bad, rsp, n);
        bad[faults[i].at] = faults[i].v;
        CHECK(ef_mbap_check_reply(req, bad, n, true, &exc) == EF_MBAP_BAD_HEADER);
        CHECK(ef_mbap_check_reply(req, bad, n, false, &exc) == EF_MBAP_BAD_HEADER);
    }
    uint8_t ffff[300];
    memcpy(ffff, rsp, n);
    ffff[4] = ffff[5] = 0xFF; /* what some devices send: libmodbus ignores it */
    CHECK(ef_mbap_check_reply(req, ffff, n, true, &exc) == EF_MBAP_BAD_HEADER);
    for (size_t len = 0; len < 9; len++)
        CHECK(ef_mbap_check_reply(req, rsp, len, true, &exc) == EF_MBAP_BAD_HEADER);
}

static void a_reply_to_another_question_is_refused(void)
{
    uint8_t req[EF_MBAP_READ_REQ_LEN], rsp[300], exc = 0;
    ef_mbap_read_request(req, 5, 1, 3, 0, 2);
    static const uint8_t data[] = {0, 1, 0, 2, 0, 3};
    size_t n = reply(req, data, 4, rsp);
    rsp[7] = 4; /* input registers for a holding read */
    CHECK(ef_mbap_check_reply(req, rsp, n, true, &exc) == EF_MBAP_BAD_PDU);
    n = reply(req, data, 6, rsp); /* three registers for two */
    CHECK(ef_mbap_check_reply(req, rsp, n, true, &exc) == EF_MBAP_BAD_PDU);
    n = reply(req, data, 4, rsp);
    rsp[8] = 2; /* byte count not what the frame holds */
    CHECK(ef_mbap_check_reply(req, rsp, n, true, &exc) == EF_MBAP_BAD_PDU);
}

static void exceptions_give_their_code(void)
{
    uint8_t req[EF_MBAP_READ_REQ_LEN], rsp[16], exc = 0;
    ef_mbap_read_request(req, 3, 1, 3, 1000, 1);
    static const uint8_t ex[] = {0, 3, 0, 0, 0, 3, 1, 0x83, 2};
    memcpy(rsp, ex, sizeof ex);
    CHECK(ef_mbap_check_reply(req, rsp, sizeof ex, true, &exc) == EF_MBAP_EXCEPTION);
    CHECK_EQ_U(exc, 2);
    rsp[7] = 0x84; /* an exception to another function */
    CHECK(ef_mbap_check_reply(req, rsp, sizeof ex, true, &exc) == EF_MBAP_BAD_PDU);
    rsp[7] = 0x83;
    rsp[6] = 9;
    CHECK(ef_mbap_check_reply(req, rsp, sizeof ex, true, &exc) == EF_MBAP_WRONG_UNIT);
}

static void write_requests_are_exact(void)
{
    uint8_t req[EF_MBAP_WRITE_REQ_MAX];
    uint16_t on = 0xFF00, mask[2] = {0xFFFD, 0x0002}, regs[2] = {0x41AC, 0x0000};
    CHECK_EQ_U(ef_mbap_write_request(req, 7, 1, 5, 3, &on, 1), 12);
    static const uint8_t fc5[] = {0, 7, 0, 0, 0, 6, 1, 5, 0, 3, 0xFF, 0};
    CHECK(memcmp(req, fc5, sizeof fc5) == 0);
    CHECK_EQ_U(ef_mbap_write_request(req, 8, 2, 22, 12, mask, 2), 14);
    static const uint8_t fc22[] = {0, 8, 0, 0, 0, 8, 2, 22, 0, 12, 0xFF, 0xFD, 0, 2};
    CHECK(memcmp(req, fc22, sizeof fc22) == 0);
    CHECK_EQ_U(ef_mbap_write_request(req, 9, 1, 16, 310, regs, 2), 17);
    static const uint8_t fc16[] = {0, 9, 0, 0, 0, 11, 1, 16, 0x01, 0x36, 0, 2, 4,
                                   0x41, 0xAC, 0, 0};
    CHECK(memcmp(req, fc16, sizeof fc16) == 0);
}

static void write_replies_must_echo_the_request(void)
{
    uint8_t req[EF_MBAP_WRITE_REQ_MAX], rsp[32], exc = 0;
    uint16_t v = 7, regs[2] = {1, 2};
    size_t n = ef_mbap_write_request(req, 3, 1, 6, 300, &v, 1);
    memcpy(rsp, req, n);
    CHECK(ef_mbap_check_write_reply(req, n, rsp, n, true, &exc) == EF_MBAP_OK);
    rsp[11] = 8; /* another value written */
    CHECK(ef_mbap_check_write_reply(req, n, rsp, n, true, &exc) == EF_MBAP_BAD_PDU);
    memcpy(rsp, req, n);
    rsp[6] = 2;
    CHECK(ef_mbap_check_write_reply(req, n, rsp, n, true, &exc) == EF_MBAP_WRONG_UNIT);
    CHECK(ef_mbap_check_write_reply(req, n, rsp, n, false, &exc) == EF_MBAP_OK);
    /* FC16: function, address and count come back, not the data. */
    n = ef_mbap_write_request(req, 4, 1, 16, 310, regs, 2);
    memcpy(rsp, req, 12);
    rsp[5] = 6;
    CHECK(ef_mbap_check_write_reply(req, n, rsp, 12, true, &exc) == EF_MBAP_OK);
    rsp[11] = 1; /* one register taken of two */
    CHECK(ef_mbap_check_write_reply(req, n, rsp, 12, true, &exc) == EF_MBAP_BAD_PDU);
    uint8_t e[9] = {0, 4, 0, 0, 0, 3, 1, 0x90, 2};
    CHECK(ef_mbap_check_write_reply(req, n, e, 9, true, &exc) == EF_MBAP_EXCEPTION && exc == 2);
}

int main(void)
{
    write_requests_are_exact();
    write_replies_must_echo_the_request();
    request_bytes_are_exact();
    a_correct_reply_passes_and_yields_its_registers();
    bits_come_least_significant_first();
    another_unit_is_refused_unless_the_check_is_off();
    a_bad_header_is_refused();
    a_reply_to_another_question_is_refused();
    exceptions_give_their_code();
    CHECK_DONE();
}
