/*
 * bench/qd-client.c: a deliberately light NBD load, for bench/delay-ab.sh --client light. Keeps QD random
 * 4 KiB reads in flight on one connection (TCP, or a Unix socket when HOST is a path) and prints the reads per second, latency
 * percentiles and its own CPU per read. Unlike fio's nbd engine or nbdcopy (libnbd, 11-12 us of
 * CPU per read on the benchmark machines), it reads every reply that has arrived with one recv and
 * sends the reads that replace them with one send, so that the server, not the client, sets the
 * pace. Simple replies only (no structured replies are asked for); newstyle fixed handshake with
 * NBD_OPT_GO. Not a test client: the tests use clients written elsewhere.
 *
 *   cc -O2 -o qd-client bench/qd-client.c
 *   qd-client HOST PORT EXPORT QD WARMUP_S RUNTIME_S SEED   (HOST a path: a Unix socket, PORT unused)
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define REQUEST_MAGIC 0x25609513u
#define REPLY_MAGIC 0x67446698u
#define OPT_MAGIC 0x49484156454F5054ull /* "IHAVEOPT" */
#define REP_MAGIC 0x3e889045565a9ull
#define OPT_GO 7
#define REP_ACK 1
#define REP_INFO 3
#define MAX_QD 1024

static int sock;

static void die(const char *what) {
    fprintf(stderr, "qd-client: %s: %s\n", what, errno ? strerror(errno) : "protocol error");
    exit(1);
}

static void read_fully(void *buf, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = recv(sock, (char *) buf + got, n - got, 0);
        if (r <= 0) die("recv");
        got += (size_t) r;
    }
}

static void write_fully(const void *buf, size_t n) {
    for (size_t put = 0; put < n;) {
        ssize_t r = send(sock, (const char *) buf + put, n - put, MSG_NOSIGNAL);
        if (r <= 0) die("send");
        put += (size_t) r;
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* The export's size, after the newstyle fixed handshake and NBD_OPT_GO. */
static uint64_t handshake(const char *name) {
    char hello[18];
    read_fully(hello, sizeof hello);
    if (memcmp(hello, "NBDMAGIC", 8) != 0) die("not an NBD server");
    uint32_t flags = htobe32(1 | 2); /* FIXED_NEWSTYLE | NO_ZEROES */
    write_fully(&flags, 4);
    uint32_t len = (uint32_t) strlen(name);
    uint64_t opt_magic = htobe64(OPT_MAGIC);
    uint32_t opt = htobe32(OPT_GO), opt_len = htobe32(4 + len + 2), name_len = htobe32(len);
    uint16_t no_infos = 0;
    write_fully(&opt_magic, 8);
    write_fully(&opt, 4);
    write_fully(&opt_len, 4);
    write_fully(&name_len, 4);
    write_fully(name, len);
    write_fully(&no_infos, 2);
    uint64_t size = 0;
    for (;;) {
        struct __attribute__((packed)) { uint64_t magic; uint32_t opt, type, len; } rep;
        read_fully(&rep, sizeof rep);
        if (be64toh(rep.magic) != REP_MAGIC) die("bad option reply");
        uint32_t n = be32toh(rep.len), type = be32toh(rep.type);
        char data[1024];
        if (n > sizeof data) die("option reply too long");
        read_fully(data, n);
        if (type == REP_INFO && n >= 12 && data[0] == 0 && data[1] == 0) {
            memcpy(&size, data + 2, 8);
            size = be64toh(size);
        } else if (type == REP_ACK) {
            return size;
        } else if (type & 0x80000000u) {
            errno = 0;
            die("the server refused NBD_OPT_GO");
        }
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: qd-client HOST PORT EXPORT QD WARMUP_S RUNTIME_S SEED\n");
        return 2;
    }
    int qd = atoi(argv[4]);
    double warmup = atof(argv[5]), runtime = atof(argv[6]);
    uint64_t rng = strtoull(argv[7], NULL, 10) | 1;
    if (qd < 1 || qd > MAX_QD) {
        fprintf(stderr, "qd-client: QD must be 1 to %d\n", MAX_QD);
        return 2;
    }
    if (argv[1][0] == '/') {
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        if (strlen(argv[1]) >= sizeof un.sun_path) die("socket path too long");
        strcpy(un.sun_path, argv[1]);
        sock = socket(AF_UNIX, SOCK_STREAM, 0);
        if (sock < 0 || connect(sock, (struct sockaddr *) &un, sizeof un) != 0) die("connect");
    } else {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
        if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) die("getaddrinfo");
        sock = socket(ai->ai_family, SOCK_STREAM, 0);
        if (sock < 0 || connect(sock, ai->ai_addr, ai->ai_addrlen) != 0) die("connect");
        int one = 1;
        setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    uint64_t blocks = handshake(argv[3]) / BLOCK;
    if (blocks == 0) die("export smaller than one block");

    static double sent[MAX_QD];
    size_t cap = (size_t) 4 << 20, max_samples = 64 << 20 >> 3;
    double *lat = malloc(max_samples * sizeof *lat);
    char *in = malloc(cap);
    struct __attribute__((packed)) request { uint32_t magic; uint16_t flags, type; uint64_t handle, offset; uint32_t len; };
    struct request *out = malloc(MAX_QD * sizeof *out);
    size_t samples = 0, have = 0;
    int pending = 0;
    double start = now(), measure_from = start + warmup, end = measure_from + runtime, cpu0 = 0;
    int measuring = 0;
    for (int h = 0; h < qd; h++) { /* the first QD reads, in one send */
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        out[pending++] = (struct request){htobe32(REQUEST_MAGIC), 0, 0, (uint64_t) h,
                                          htobe64((rng % blocks) * BLOCK), htobe32(BLOCK)};
        sent[h] = now();
    }
    write_fully(out, pending * sizeof *out);
    int in_flight = pending;
    for (;;) {
        ssize_t r = recv(sock, in + have, cap - have, 0);
        if (r <= 0) die("recv");
        have += (size_t) r;
        double t = now();
        if (!measuring && t >= measure_from) {
            measuring = 1;
            cpu0 = cpu();
            samples = 0;
            start = t;
        }
        pending = 0;
        size_t at = 0;
        while (have - at >= 16) { /* every whole reply that has arrived */
            uint32_t magic, error;
            uint64_t h;
            memcpy(&magic, in + at, 4);
            memcpy(&error, in + at + 4, 4);
            memcpy(&h, in + at + 8, 8);
            if (be32toh(magic) != REPLY_MAGIC || h >= (uint64_t) qd) die("bad reply");
            if (error != 0) { /* an error reply has no data */
                fprintf(stderr, "qd-client: read failed: error %u\n", be32toh(error));
                return 1;
            }
            if (have - at < 16 + BLOCK) break;
            at += 16 + BLOCK;
            in_flight--;
            if (samples < max_samples) lat[samples++] = t - sent[h];
            if (t >= end) continue; /* the run is over: take back what is in flight, send no more */
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            out[pending++] = (struct request){htobe32(REQUEST_MAGIC), 0, 0, h,
                                              htobe64((rng % blocks) * BLOCK), htobe32(BLOCK)};
            sent[h] = t;
        }
        memmove(in, in + at, have - at);
        have -= at;
        if (pending > 0) write_fully(out, pending * sizeof *out);
        in_flight += pending;
        if (t >= end && in_flight == 0) break; /* NBD_CMD_DISC only once every reply is in */
    }
    double elapsed = now() - start, used = cpu() - cpu0;
    struct request disc = {htobe32(REQUEST_MAGIC), 0, htobe16(2), 0, 0, 0}; /* NBD_CMD_DISC */
    write_fully(&disc, sizeof disc);
    qsort(lat, samples, sizeof *lat, by_value);
    printf("reads/s %.0f p50 %.3f p99 %.3f p99.9 %.3f ms client_cpu_us_per_read %.2f reads %zu\n",
           samples / elapsed, lat[samples / 2] * 1e3, lat[(size_t) (samples * 0.99)] * 1e3,
           lat[(size_t) (samples * 0.999)] * 1e3, used * 1e6 / samples, samples);
    return 0;
}
