/* modbus_sim: a Modbus slave for tests and benchmarks, on libmodbus's
 * server side (modbus_mapping_new, modbus_receive, modbus_reply,
 * modbus_reply_exception).
 *
 *   modbus_sim (--tcp PORT | --rtu PATH | --rtu-over-tcp PORT) [options]
 *     --unit N           answer as unit N (repeatable; default: unit 1)
 *     --dead-unit N      unit N exists but never answers (repeatable)
 *     --hole A-B         reads touching addresses A..B of any kind get
 *                        "illegal data address" (repeatable)
 *     --exception-at A   reads touching A get "slave device failure" (repeatable)
 *     --late-ms N        answer every request N ms late
 *     --late-every K     ... only every K-th request received (default 1)
 *     --slow-reads-ms N  answer every read (FC1-4) N ms late, writes at once:
 *                        a busy bus whose writes must overtake its polls
 *     --baud-pace BAUD   answer at the pace of an 8N1 line at BAUD: the
 *                        answer leaves (request + 3.5 + response) character
 *                        times after the request began to arrive
 *     --count-file PATH  rewritten after every request and connection
 *                        change: "total N", one "unit U N" line per unit
 *                        (requests received), "accepted N" and "closed N"
 *                        (connections accepted, and closed by the simulator),
 *                        then one line per write received, oldest first (the
 *                        first 256), answered or not:
 *                          write fc=5 unit=1 addr=3 coil=1
 *                          write fc=15 unit=1 addr=3 coils=1,0,1
 *                          write fc=6 unit=1 addr=300 regs=0x0007
 *                          write fc=16 unit=1 addr=310 regs=0x41ac,0x0000
 *                          write fc=22 unit=1 addr=12 and=0xfffd or=0x0002
 *     --log PATH         one line per request received, appended in order:
 *                        "read fc=3 unit=1 addr=0 count=10", or a write line
 *                        as above
 *   Writes (FC5, FC6, FC15, FC16, FC22 change the unit's map):
 *     --write-exception A:C  writes touching A get exception C (repeatable)
 *     --write-silent A   writes touching A are recorded but never answered
 *                        (repeatable)
 *                        and one "addr A N" line per --count-addr
 *     --count-addr A     count the requests whose range covers address A (any
 *                        kind, any unit; repeatable)
 *     --max-regs U:N     unit U answers register reads of more than N
 *                        registers with "illegal data value" (a small buffer)
 *   Devices that hang up (TCP and rtu-over-tcp):
 *     --close-idle-ms N  close a connection that has been idle N ms
 *     --close-after N    close a connection after its N-th answer (1: after
 *                        every answer)
 *   Wrong answers:
 *     --reply-unit N     answer with unit id N instead of the request's (as
 *                        a device with a fixed id, or a TCP-to-RTU gateway
 *                        mixing up its devices); RTU frames get a new CRC
 *     --reply-mbap-length N  (tcp) put N in the MBAP length field of every
 *                        answer, e.g. 65535
 * PORT 0 picks a free port and prints "port N" first. Once listening it
 * prints "ready" (one line, flushed); on SIGTERM/SIGINT it prints
 * "served N" and exits 0. Unknown unit ids get no answer, as on a real line.
 * RTU frames are read here (libmodbus's RTU receive only accepts one unit
 * id per context) and answered with modbus_reply on an RTU context whose
 * unit id is switched per request.
 *
 * Register map of every unit (holding and input registers hold the same):
 *   addr      content
 *   0         the unit id
 *   1         counter: requests received by this unit, this one included
 *   2         ramp: (ms since start / 100) mod 1000
 *   10        int16  -12345          (0xCFC7)
 *   11        uint16 54321           (0xD431)
 *   12        0xA5A5                 (bit points: bits 0,2,5,7,8,10,13,15 set)
 *   20..27    int32  -123456789      in ABCD@20 DCBA@22 BADC@24 CDAB@26
 *   30..37    uint32 3000000000      in ABCD@30 DCBA@32 BADC@34 CDAB@36
 *   40..47    float32 3.14159274     in ABCD@40 DCBA@42 BADC@44 CDAB@46
 *   50..65    int64  -1234567890123456789   ABCD@50 DCBA@54 BADC@58 CDAB@62
 *   70..85    uint64 17375808098319191535   ABCD@70 DCBA@74 BADC@78 CDAB@82
 *   90..105   float64 -2.718281828459045    ABCD@90 DCBA@94 BADC@98 CDAB@102
 *   110..117  "EDGEFERRY-01" high byte first, NUL-padded (string AB)
 *   120..127  "EDGEFERRY-01" low byte first, NUL-padded (string BA)
 *   130..133  "Zürich" in UTF-8, space-padded
 *   134..135  'O' 'K' 0xFF 0x00 (not UTF-8)
 *   200..999  the address itself
 *   1000..    none (illegal data address)
 * Coil n is on when n % 3 == 0; discrete input n is on when n is odd.
 * Orders as in drivers/modbus/decode.h (big-endian value bytes A B C D ...:
 * ABCD as is, DCBA all bytes reversed, BADC bytes swapped in each word,
 * CDAB word order reversed). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <modbus.h>

#include "sim_map.h"

#define MAX_UNITS 16
#define MAX_RANGES 16
#define MAX_CONNS 32
#define MAX_WRITES 256
#define WRITE_LINE 160

struct sim {
    struct sim_unit units[MAX_UNITS];
    int nunits;
    int holes[MAX_RANGES][2];
    int nholes;
    int exc_at[MAX_RANGES];
    int nexc;
    int count_addr[MAX_RANGES];
    unsigned long long addr_reads[MAX_RANGES];
    int ncount_addr;
    int max_regs[MAX_RANGES][2]; /* unit, most registers per read */
    int nmax_regs;
    int late_ms;
    int slow_reads_ms;
    int late_every;
    int pace_baud;
    const char *count_file;
    unsigned long long total;
    unsigned long long accepted, closed;
    int64_t start_ms;
    int close_idle_ms;  /* 0: never */
    int close_after;    /* answers per connection, 0: never */
    int reply_unit;     /* -1: the request's */
    int reply_mbap_len; /* -1: the true length */
    int mangle[2];      /* socketpair an answer is rewritten through */
    bool answered;      /* handle() sent an answer */
    int wexc[MAX_RANGES][2]; /* --write-exception address, code */
    int nwexc;
    int wsilent[MAX_RANGES];
    int nwsilent;
    char (*writes)[WRITE_LINE]; /* the first MAX_WRITES writes received */
    int nwrites;
    FILE *log;
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until_us(int64_t t)
{
    struct timespec ts = {t / 1000000, (long)(t % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !quit)
        ;
}

static void write_counts(const struct sim *s)
{
    if (!s->count_file)
        return;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->count_file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "total %llu\n", s->total);
    for (int i = 0; i < s->nunits; i++)
        fprintf(f, "unit %d %llu\n", s->units[i].id, s->units[i].requests);
    fprintf(f, "accepted %llu\nclosed %llu\n", s->accepted, s->closed);
    for (int i = 0; i < s->nwrites; i++)
        fprintf(f, "%s\n", s->writes[i]);
    for (int i = 0; i < s->ncount_addr; i++)
        fprintf(f, "addr %d %llu\n", s->count_addr[i], s->addr_reads[i]);
    fclose(f);
    rename(tmp, s->count_file); /* readers never see a half-written file */
}

static bool touches(int addr, int nb, int lo, int hi)
{
    return addr <= hi && addr + nb - 1 >= lo;
}

/* Response length on an RTU line, for pacing. */
static int rtu_response_len(int fc, int nb, int exception)
{
    if (exception)
        return 5;
    if (fc == 1 || fc == 2)
        return 5 + (nb + 7) / 8;
    if (fc == 3 || fc == 4)
        return 5 + 2 * nb;
    return fc == 22 ? 10 : 8;
}

static uint16_t crc16(const uint8_t *p, int n);

/* Sends the answer to REQ through the socketpair, rewrites its unit id or
 * MBAP length as asked, and passes it on to the peer. HDR: 7 for TCP, 1 for
 * RTU (whose CRC is recomputed). */
static void reply_mangled(struct sim *s, modbus_t *ctx, const uint8_t *req, int len, int hdr,
                          int exception, modbus_mapping_t *map)
{
    int peer = modbus_get_socket(ctx);
    modbus_set_socket(ctx, s->mangle[0]);
    if (exception)
        modbus_reply_exception(ctx, req, (unsigned)exception);
    else
        modbus_reply(ctx, req, len, map);
    modbus_set_socket(ctx, peer);
    uint8_t a[MODBUS_TCP_MAX_ADU_LENGTH + 8];
    ssize_t n = recv(s->mangle[1], a, sizeof a, MSG_DONTWAIT);
    if (n < hdr + 1)
        return;
    if (s->reply_unit >= 0)
        a[hdr - 1] = (uint8_t)s->reply_unit;
    if (hdr == 7 && s->reply_mbap_len >= 0) {
        a[4] = (uint8_t)(s->reply_mbap_len >> 8);
        a[5] = (uint8_t)s->reply_mbap_len;
    }
    if (hdr == 1) {
        uint16_t crc = crc16(a, (int)n - 2);
        a[n - 2] = (uint8_t)(crc & 0xFF);
        a[n - 1] = (uint8_t)(crc >> 8);
    }
    ssize_t w = send(peer, a, (size_t)n, MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) /* a pty */
        w = write(peer, a, (size_t)n);
    (void)w;
}

static bool is_write(int fc)
{
    return fc == 5 || fc == 6 || fc == 15 || fc == 16 || fc == 22;
}

/* Describes request Q (function at Q[0]) of UNIT as one log line. */
static void describe(char *out, size_t cap, const uint8_t *q, int unit)
{
    int fc = q[0];
    int addr = q[1] << 8 | q[2];
    int n = snprintf(out, cap, "%s fc=%d unit=%d addr=%d ", is_write(fc) ? "write" : "read",
                     fc, unit, addr);
    size_t len = n > 0 && (size_t)n < cap ? (size_t)n : cap - 1;
    int count = q[3] << 8 | q[4];
    if (fc == 5) {
        snprintf(out + len, cap - len, "coil=%d", q[3] == 0xFF);
    } else if (fc == 6) {
        snprintf(out + len, cap - len, "regs=0x%04x", q[3] << 8 | q[4]);
    } else if (fc == 22) {
        snprintf(out + len, cap - len, "and=0x%04x or=0x%04x", q[3] << 8 | q[4],
                 q[5] << 8 | q[6]);
    } else if (fc == 15 || fc == 16) {
        len += (size_t)snprintf(out + len, cap - len, fc == 15 ? "coils=" : "regs=");
        for (int i = 0; i < count && i < 16 && len < cap; i++) {
            if (fc == 15)
                len += (size_t)snprintf(out + len, cap - len, "%s%d", i ? "," : "",
                                        q[6 + i / 8] >> (i % 8) & 1);
            else
                len += (size_t)snprintf(out + len, cap - len, "%s0x%04x", i ? "," : "",
                                        q[6 + 2 * i] << 8 | q[7 + 2 * i]);
        }
    } else {
        snprintf(out + len, cap - len, "count=%d", count);
    }
}

/* Logs and records request REQ; returns the exception code a write gets
 * (0: none), or -1 when the write must not be answered. */
static int record(struct sim *s, const uint8_t *q, int unit, int nb)
{
    char line[WRITE_LINE];
    describe(line, sizeof line, q, unit);
    if (s->log) {
        fprintf(s->log, "%s\n", line);
        fflush(s->log);
    }
    if (!is_write(q[0]))
        return 0;
    if (s->nwrites < MAX_WRITES)
        memcpy(s->writes[s->nwrites++], line, sizeof line);
    int addr = q[1] << 8 | q[2];
    for (int i = 0; i < s->nwsilent; i++)
        if (touches(addr, nb, s->wsilent[i], s->wsilent[i]))
            return -1;
    for (int i = 0; i < s->nwexc; i++)
        if (touches(addr, nb, s->wexc[i][0], s->wexc[i][0]))
            return s->wexc[i][1];
    return 0;
}

/* Answers one request REQ (LEN bytes, unit id at REQ[HDR - 1]) on CTX.
 * T0_US: when its first byte arrived. */
static void handle(struct sim *s, modbus_t *ctx, const uint8_t *req, int len, int hdr,
                   int64_t t0_us)
{
    int unit = req[hdr - 1];
    struct sim_unit *u = NULL;
    for (int i = 0; i < s->nunits; i++)
        if (s->units[i].id == unit)
            u = &s->units[i];
    if (!u)
        return;
    int fc = req[hdr];
    int addr = (req[hdr + 1] << 8) | req[hdr + 2];
    int nb = (fc == 5 || fc == 6 || fc == 22) ? 1 : (req[hdr + 3] << 8) | req[hdr + 4];
    s->total++;
    u->requests++;
    for (int i = 0; i < s->ncount_addr; i++)
        s->addr_reads[i] += touches(addr, nb, s->count_addr[i], s->count_addr[i]);
    int exception = record(s, req + hdr, unit, nb);
    write_counts(s);
    if (u->dead || exception < 0)
        return;
    for (int i = 0; i < s->nmax_regs; i++)
        if (s->max_regs[i][0] == unit && (fc == 3 || fc == 4) && nb > s->max_regs[i][1])
            exception = MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    for (int i = 0; i < s->nholes && !exception; i++)
        if (touches(addr, nb, s->holes[i][0], s->holes[i][1]))
            exception = MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    for (int i = 0; i < s->nexc && !exception; i++)
        if (touches(addr, nb, s->exc_at[i], s->exc_at[i]))
            exception = MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE;
    sim_map_tick(u, (now_us() / 1000 - s->start_ms) / 100 % 1000);
    bool late = s->late_every <= 1 || s->total % (unsigned long long)s->late_every == 0;
    int64_t due = t0_us + (late ? (int64_t)s->late_ms * 1000 : 0);
    if (!is_write(fc))
        due += (int64_t)s->slow_reads_ms * 1000;
    if (s->pace_baud > 0) {
        int chars2 = 2 * len + 7 + 2 * rtu_response_len(fc, nb, exception); /* ×2: 3.5 */
        due += (int64_t)chars2 * 10 * 1000000 / 2 / s->pace_baud;
    }
    sleep_until_us(due);
    modbus_set_slave(ctx, unit);
    s->answered = true;
    if (s->mangle[0] >= 0)
        reply_mangled(s, ctx, req, len, hdr, exception, u->map);
    else if (exception)
        modbus_reply_exception(ctx, req, (unsigned)exception);
    else
        modbus_reply(ctx, req, len, u->map);
}

struct conn {
    int fd;
    uint8_t buf[600];
    int len;
    int64_t first_us; /* arrival of the first byte of the pending frame */
    int64_t last_us;  /* last request (or the accept) */
    int answers;
};

/* Expected RTU frame length from its first bytes, 0 if not known yet,
 * -1 if the function is not one we serve (junk: resynchronise). */
static int rtu_frame_len(const uint8_t *b, int n)
{
    if (n < 2)
        return 0;
    int fc = b[1];
    if (fc >= 1 && fc <= 6)
        return 8;
    if (fc == 22)
        return 10;
    if (fc == 15 || fc == 16)
        return n < 7 ? 0 : 9 + b[6];
    return -1;
}

static uint16_t crc16(const uint8_t *p, int n)
{
    uint16_t crc = 0xFFFF;
    for (int i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

/* Reads what is there; answers every complete frame. Returns -1 when the
 * peer is gone. */
static int rtu_input(struct sim *s, modbus_t *ctx, struct conn *c)
{
    ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - (size_t)c->len);
    if (r <= 0)
        return (r < 0 && errno == EINTR) ? 0 : -1;
    if (c->len == 0)
        c->first_us = now_us();
    c->len += (int)r;
    for (;;) {
        int want = rtu_frame_len(c->buf, c->len);
        if (want < 0 || want > (int)sizeof c->buf) {
            c->len = 0; /* junk */
            return 0;
        }
        if (want == 0 || c->len < want)
            return 0;
        uint16_t crc = crc16(c->buf, want - 2);
        if (c->buf[want - 2] == (crc & 0xFF) && c->buf[want - 1] == (crc >> 8)) {
            modbus_set_socket(ctx, c->fd);
            handle(s, ctx, c->buf, want, 1, c->first_us);
        }
        memmove(c->buf, c->buf + want, (size_t)(c->len - want));
        c->len -= want;
        c->first_us = now_us();
    }
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0) {
        perror("modbus_sim: listen");
        exit(1);
    }
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    if (port == 0)
        printf("port %d\n", ntohs(a.sin_port));
    return fd;
}

enum mode { MODE_TCP, MODE_RTU, MODE_RTU_OVER_TCP };

/* A connection the simulator itself ends (a device that hangs up). */
static void hang_up(struct sim *s, struct conn *conns, int *nconns, int *i)
{
    close(conns[*i].fd);
    conns[*i] = conns[--*nconns];
    (*i)--;
    s->closed++;
    write_counts(s);
}

/* Closes the connections idle for --close-idle-ms. */
static void close_idle(struct sim *s, struct conn *conns, int *nconns)
{
    int64_t now = now_us();
    for (int i = 0; s->close_idle_ms > 0 && i < *nconns; i++)
        if (now - conns[i].last_us >= (int64_t)s->close_idle_ms * 1000)
            hang_up(s, conns, nconns, &i);
}

/* Reads and answers what connection I has sent; -1 when the peer is gone. */
static int conn_input(struct sim *s, enum mode mode, modbus_t *ctx, struct conn *c)
{
    uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
    int rc;
    s->answered = false;
    c->last_us = now_us();
    if (mode == MODE_TCP) {
        modbus_set_socket(ctx, c->fd);
        rc = modbus_receive(ctx, q);
        if (rc > 0)
            handle(s, ctx, q, rc, 7, c->last_us);
    } else {
        rc = rtu_input(s, ctx, c);
    }
    c->answers += s->answered;
    return rc;
}

/* The select loop over the listening socket (if any) and the connections. */
static void serve(struct sim *s, enum mode mode, modbus_t *ctx, int lfd, struct conn *conns,
                  int nconns)
{
    while (!quit) {
        if (mode != MODE_RTU)
            close_idle(s, conns, &nconns);
        fd_set rd;
        FD_ZERO(&rd);
        int maxfd = lfd;
        if (lfd >= 0)
            FD_SET(lfd, &rd);
        for (int i = 0; i < nconns; i++) {
            FD_SET(conns[i].fd, &rd);
            if (conns[i].fd > maxfd)
                maxfd = conns[i].fd;
        }
        struct timeval tv = {0, s->close_idle_ms > 0 ? 10000 : 100000};
        if (select(maxfd + 1, &rd, NULL, NULL, &tv) <= 0)
            continue;
        if (lfd >= 0 && FD_ISSET(lfd, &rd)) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0 && nconns < MAX_CONNS) {
                conns[nconns++] = (struct conn){.fd = fd, .last_us = now_us()};
                s->accepted++;
                write_counts(s);
            } else if (fd >= 0) {
                close(fd);
            }
        }
        for (int i = 0; i < nconns; i++) {
            if (!FD_ISSET(conns[i].fd, &rd))
                continue;
            int rc = conn_input(s, mode, ctx, &conns[i]);
            if (rc < 0 && mode == MODE_RTU) {
                struct timespec pause = {0, 10000000}; /* pty peer gone: don't spin */
                nanosleep(&pause, NULL);
            } else if (rc < 0) {
                close(conns[i].fd);
                conns[i--] = conns[--nconns];
            } else if (mode != MODE_RTU && s->close_after > 0 &&
                       conns[i].answers >= s->close_after) {
                hang_up(s, conns, &nconns, &i);
            }
        }
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: modbus_sim (--tcp PORT | --rtu PATH | --rtu-over-tcp PORT) "
                    "[--unit N] [--dead-unit N] [--hole A-B] [--exception-at A] "
                    "[--late-ms N] [--late-every K] [--slow-reads-ms N] [--baud-pace BAUD] [--count-file PATH] "
                    "[--count-addr A] [--max-regs U:N] "
                    "[--close-idle-ms N] [--close-after N] [--reply-unit N] "
                    "[--reply-mbap-length N] [--log PATH] [--write-exception A:C] "
                    "[--write-silent A]\n");
    exit(2);
}

static void add_unit(struct sim *s, int id, bool dead)
{
    if (s->nunits == MAX_UNITS || id < 0 || id > 247)
        usage();
    if (sim_map_init(&s->units[s->nunits], id) < 0) {
        fprintf(stderr, "modbus_sim: out of memory\n");
        exit(1);
    }
    s->units[s->nunits++].dead = dead;
}

int main(int argc, char **argv)
{
    static struct sim s;
    enum mode mode = MODE_TCP;
    const char *where = NULL;
    s.reply_unit = s.reply_mbap_len = -1;
    s.mangle[0] = s.mangle[1] = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--tcp") || !strcmp(a, "--rtu") || !strcmp(a, "--rtu-over-tcp")) {
            mode = !strcmp(a, "--tcp") ? MODE_TCP : !strcmp(a, "--rtu") ? MODE_RTU
                                                                          : MODE_RTU_OVER_TCP;
            where = v;
        } else if (!strcmp(a, "--unit") || !strcmp(a, "--dead-unit")) {
            add_unit(&s, atoi(v), !strcmp(a, "--dead-unit"));
        } else if (!strcmp(a, "--hole") && s.nholes < MAX_RANGES) {
            if (sscanf(v, "%d-%d", &s.holes[s.nholes][0], &s.holes[s.nholes][1]) != 2)
                usage();
            s.nholes++;
        } else if (!strcmp(a, "--exception-at") && s.nexc < MAX_RANGES) {
            s.exc_at[s.nexc++] = atoi(v);
        } else if (!strcmp(a, "--count-addr") && s.ncount_addr < MAX_RANGES) {
            s.count_addr[s.ncount_addr++] = atoi(v);
        } else if (!strcmp(a, "--max-regs") && s.nmax_regs < MAX_RANGES) {
            if (sscanf(v, "%d:%d", &s.max_regs[s.nmax_regs][0], &s.max_regs[s.nmax_regs][1]) != 2)
                usage();
            s.nmax_regs++;
        } else if (!strcmp(a, "--late-ms")) {
            s.late_ms = atoi(v);
        } else if (!strcmp(a, "--slow-reads-ms")) {
            s.slow_reads_ms = atoi(v);
        } else if (!strcmp(a, "--late-every")) {
            s.late_every = atoi(v);
        } else if (!strcmp(a, "--baud-pace")) {
            s.pace_baud = atoi(v);
        } else if (!strcmp(a, "--count-file")) {
            s.count_file = v;
        } else if (!strcmp(a, "--close-idle-ms")) {
            s.close_idle_ms = atoi(v);
        } else if (!strcmp(a, "--close-after")) {
            s.close_after = atoi(v);
        } else if (!strcmp(a, "--reply-unit")) {
            s.reply_unit = atoi(v);
        } else if (!strcmp(a, "--reply-mbap-length")) {
            s.reply_mbap_len = atoi(v);
        } else if (!strcmp(a, "--log")) {
            if (!(s.log = fopen(v, "a"))) {
                perror("modbus_sim: --log");
                return 1;
            }
        } else if (!strcmp(a, "--write-exception") && s.nwexc < MAX_RANGES) {
            if (sscanf(v, "%d:%d", &s.wexc[s.nwexc][0], &s.wexc[s.nwexc][1]) != 2 ||
                s.wexc[s.nwexc][1] < 1 || s.wexc[s.nwexc][1] > 255)
                usage();
            s.nwexc++;
        } else if (!strcmp(a, "--write-silent") && s.nwsilent < MAX_RANGES) {
            s.wsilent[s.nwsilent++] = atoi(v);
        } else {
            usage();
        }
    }
    if (!where || s.reply_unit > 255 || s.reply_mbap_len > 65535 ||
        (s.reply_mbap_len >= 0 && mode != MODE_TCP))
        usage();
    if ((s.reply_unit >= 0 || s.reply_mbap_len >= 0) &&
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s.mangle) < 0) {
        perror("modbus_sim: socketpair");
        return 1;
    }
    if (s.nunits == 0)
        add_unit(&s, 1, false);
    s.writes = calloc(MAX_WRITES, sizeof *s.writes);
    if (!s.writes) {
        fprintf(stderr, "modbus_sim: out of memory\n");
        return 1;
    }
    s.start_ms = now_us() / 1000;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: select returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    write_counts(&s);

    static struct conn conns[MAX_CONNS];
    int nconns = 0;
    int lfd = -1;
    modbus_t *ctx;
    if (mode == MODE_TCP) {
        ctx = modbus_new_tcp("127.0.0.1", atoi(where));
        lfd = listen_on(atoi(where));
    } else if (mode == MODE_RTU_OVER_TCP) {
        ctx = modbus_new_rtu("rtu-over-tcp", 9600, 'N', 8, 1); /* never connected */
        lfd = listen_on(atoi(where));
    } else {
        ctx = modbus_new_rtu(where, 9600, 'N', 8, 1);
        if (!ctx || modbus_connect(ctx) < 0) {
            fprintf(stderr, "modbus_sim: cannot open %s: %s\n", where, modbus_strerror(errno));
            return 1;
        }
        conns[nconns++] = (struct conn){.fd = modbus_get_socket(ctx)};
    }
    if (!ctx)
        return 1;
    printf("ready\n");
    fflush(stdout);
    serve(&s, mode, ctx, lfd, conns, nconns);
    printf("served %llu\n", s.total);
    if (mode == MODE_RTU) {
        modbus_close(ctx);
    } else {
        for (int i = 0; i < nconns; i++)
            close(conns[i].fd);
        close(lfd);
    }
    modbus_free(ctx);
    for (int i = 0; i < s.nunits; i++)
        modbus_mapping_free(s.units[i].map);
    free(s.writes);
    if (s.log)
        fclose(s.log);
    return 0;
}
