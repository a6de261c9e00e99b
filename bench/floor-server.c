/*
 * bench/floor-server.c: the least an NBD server can do to delay reads, for bench/delay-ab.sh's
 * `floor` server. One thread, one connection at a time: it reads every request that has arrived,
 * answers each read DELAY_US after it arrived (a timerfd at the earliest deadline, 1 ns timer
 * slack), the data straight from a read-only mapping of the image (one writev per wake-up, so
 * the kernel's copy into the socket is the only one), and nothing else: no
 * rules, no events, no journal, no allocation. Replies leave in the order the requests came. What
 * a client reaches against it is what the client and the machine allow; what it reaches against
 * a real server is at most that.
 *
 * Structured replies for reads if the client asks (as faultdisk and nbdkit give them;
 * FLOOR_SIMPLE=1 in the environment refuses them), simple ones otherwise and for everything else;
 * newstyle fixed handshake with NBD_OPT_GO (NBD_OPT_EXPORT_NAME too); writes (up to 1 MiB) are
 * read and acknowledged without being stored, other commands acknowledged. FLOOR_THREADS=2 splits
 * the work between two threads as faultdisk does (see serve_split; FLOOR_SPIN_US=N makes its
 * reader look for input N µs before it blocks; FLOOR_KSTAMP=1 counts its delays from when the
 * kernel received the request, SO_TIMESTAMPNS). Not a server to use: a yardstick.
 *
 *   cc -O2 -pthread -o floor-server bench/floor-server.c
 *   floor-server IMAGE DELAY_US PORT|SOCKET_PATH
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_MAGIC 0x25609513u
#define REPLY_MAGIC 0x67446698u
#define OPT_MAGIC 0x49484156454F5054ull /* "IHAVEOPT" */
#define REP_MAGIC 0x3e889045565a9ull
#define OPT_EXPORT_NAME 1
#define OPT_ABORT 2
#define OPT_INFO 6
#define OPT_GO 7
#define REP_ACK 1
#define REP_INFO 3
#define OPT_STRUCTURED_REPLY 8
#define REP_ERR_UNSUP 0x80000001u
#define STRUCTURED_MAGIC 0x668e33efu
#define REPLY_FLAG_DONE 1
#define REPLY_TYPE_OFFSET_DATA 1
#define REPLY_TYPE_ERROR 32769
#define CMD_READ 0
#define CMD_WRITE 1
#define CMD_DISC 2
#define MAX_PENDING 4096
#define MAX_LENGTH (32u << 20) /* the largest read */

struct pending {
    uint64_t cookie, offset, deadline_ns;
    uint32_t length, error;
    int read;
};

static const uint8_t *image;
static uint64_t image_size;
static uint64_t delay_ns;
static int offer_structured; /* unless FLOOR_SIMPLE is set: as the servers it stands beside */
static int structured; /* negotiated on this connection */
static struct pending queue[MAX_PENDING];
static unsigned head, count;
static uint8_t in[1 << 20];
static size_t in_len;
/* FLOOR_KSTAMP=1 (split only): when the kernel received the bytes of the last recv (SO_TIMESTAMPNS), on the monotonic clock; 0 when unknown. */
static uint64_t kernel_arrival;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int writev_all(int fd, struct iovec *v, int n);

static int write_all(int fd, const void *buf, size_t n) {
    struct iovec v = {(void *)buf, n};
    return writev_all(fd, &v, 1);
}

static int read_all(int fd, void *buf, size_t n) {
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0) {
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int option_reply(int fd, uint32_t option, uint32_t type, const void *data, uint32_t length) {
    uint8_t h[20];
    uint64_t magic = htobe64(REP_MAGIC);
    uint32_t o = htonl(option), t = htonl(type), l = htonl(length);
    memcpy(h, &magic, 8);
    memcpy(h + 8, &o, 4);
    memcpy(h + 12, &t, 4);
    memcpy(h + 16, &l, 4);
    return write_all(fd, h, sizeof h) || (length > 0 && write_all(fd, data, length)) ? -1 : 0;
}

/* The handshake: 0 once the client may send requests, -1 if it went away. */
static int handshake(int fd) {
    uint8_t hello[18];
    uint64_t magic = htobe64(0x4e42444d41474943ull), opt = htobe64(OPT_MAGIC);
    uint16_t flags = htons(1 | 2); /* fixed newstyle, no zeroes */
    uint16_t tflags = htons(1 | 4); /* has flags, send flush */
    memcpy(hello, &magic, 8);
    memcpy(hello + 8, &opt, 8);
    memcpy(hello + 16, &flags, 2);
    uint32_t client_flags;
    if (write_all(fd, hello, sizeof hello) || read_all(fd, &client_flags, 4)) {
        return -1;
    }
    for (;;) {
        uint8_t h[16];
        if (read_all(fd, h, sizeof h)) {
            return -1;
        }
        uint32_t option, length;
        memcpy(&option, h + 8, 4);
        memcpy(&length, h + 12, 4);
        option = ntohl(option);
        length = ntohl(length);
        if (length > 65536) {
            return -1;
        }
        uint8_t data[65536];
        if (read_all(fd, data, length)) {
            return -1;
        }
        uint64_t size = htobe64(image_size);
        if (option == OPT_EXPORT_NAME) {
            uint8_t reply[10];
            memcpy(reply, &size, 8);
            memcpy(reply + 8, &tflags, 2);
            return write_all(fd, reply, sizeof reply);
        }
        if (option == OPT_GO || option == OPT_INFO) {
            uint8_t info[12];
            uint16_t type = 0;
            memcpy(info, &type, 2);
            memcpy(info + 2, &size, 8);
            memcpy(info + 10, &tflags, 2);
            if (option_reply(fd, option, REP_INFO, info, sizeof info) || option_reply(fd, option, REP_ACK, NULL, 0)) {
                return -1;
            }
            if (option == OPT_GO) {
                return 0;
            }
            continue;
        }
        if (option == OPT_STRUCTURED_REPLY && offer_structured && length == 0) {
            structured = 1;
            if (option_reply(fd, option, REP_ACK, NULL, 0)) {
                return -1;
            }
            continue;
        }
        if (option_reply(fd, option, option == OPT_ABORT ? REP_ACK : REP_ERR_UNSUP, NULL, 0) || option == OPT_ABORT) {
            return -1;
        }
    }
}

static void arm(int timer) {
    struct itimerspec at = {0};
    if (count > 0) {
        uint64_t d = queue[head].deadline_ns;
        at.it_value.tv_sec = (time_t)(d / 1000000000u);
        at.it_value.tv_nsec = (long)(d % 1000000000u);
        if (at.it_value.tv_sec == 0 && at.it_value.tv_nsec == 0) {
            at.it_value.tv_nsec = 1;
        }
    }
    if (timerfd_settime(timer, TFD_TIMER_ABSTIME, &at, NULL)) {
        die("timerfd_settime");
    }
}

/* Writes iovecs in full (the socket is non-blocking: waits for room when it is full). */
static int writev_all(int fd, struct iovec *v, int n) {
    while (n > 0) {
        ssize_t w = writev(fd, v, n);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            poll(&pfd, 1, -1);
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        while (n > 0 && (size_t)w >= v->iov_len) {
            w -= (ssize_t)v->iov_len;
            v++;
            n--;
        }
        if (n > 0) {
            v->iov_base = (uint8_t *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    return 0;
}

#define MAX_IOV 1024
static struct iovec iov[MAX_IOV];
static uint8_t headers[MAX_IOV][32]; /* one per reply: a reply without data takes one iov entry */

/* Builds one reply's header; returns its length. */
static size_t header(uint8_t *h, const struct pending *p) {
    uint64_t cookie = p->cookie; /* opaque: echoed as the client sent it */
    if (structured && p->read) {
        /* One chunk, the last: the data with its offset, or the error. */
        uint32_t magic = htonl(STRUCTURED_MAGIC);
        uint16_t flags = htons(REPLY_FLAG_DONE);
        uint16_t type = htons(p->error ? REPLY_TYPE_ERROR : REPLY_TYPE_OFFSET_DATA);
        uint32_t length = htonl(p->error ? 6 : 8 + p->length);
        memcpy(h, &magic, 4);
        memcpy(h + 4, &flags, 2);
        memcpy(h + 6, &type, 2);
        memcpy(h + 8, &cookie, 8);
        memcpy(h + 16, &length, 4);
        if (p->error) {
            uint32_t error = htonl(p->error);
            memcpy(h + 20, &error, 4);
            memset(h + 24, 0, 2);
            return 26;
        }
        uint64_t offset = htobe64(p->offset);
        memcpy(h + 20, &offset, 8);
        return 28;
    }
    uint32_t magic = htonl(REPLY_MAGIC), error = htonl(p->error);
    memcpy(h, &magic, 4);
    memcpy(h + 4, &error, 4);
    memcpy(h + 8, &cookie, 8);
    return 16;
}

/*
 * Moves the replies due by {now} off the queue into iov (as many as MAX_IOV holds): a header for
 * each, and beside it the data straight from the image's mapping. Returns the entries used.
 */
static int collect_due(uint64_t now) {
    int n = 0, k = 0;
    while (count > 0 && queue[head].deadline_ns <= now && n + 2 <= MAX_IOV) {
        struct pending *p = &queue[head];
        uint8_t *h = headers[k++];
        iov[n++] = (struct iovec){h, header(h, p)};
        if (p->length > 0 && !p->error) {
            iov[n++] = (struct iovec){(void *)(image + p->offset), p->length};
        }
        head = (head + 1) % MAX_PENDING;
        count--;
    }
    return n;
}

/* Sends every reply that is due, one writev per MAX_IOV entries. */
static int reply_due(int fd) {
    uint64_t now = now_ns();
    for (int n; (n = collect_due(now)) > 0;) {
        if (writev_all(fd, iov, n)) {
            return -1;
        }
    }
    return 0;
}

static int enqueue(uint64_t cookie, uint64_t offset, uint32_t length, uint32_t error, uint64_t deadline, int read) {
    if (count == MAX_PENDING) {
        return -1;
    }
    queue[(head + count) % MAX_PENDING] = (struct pending){cookie, offset, deadline, length, error, read};
    count++;
    return 0;
}

/* Takes the complete requests in the input buffer; -1 when the client disconnects or errs. */
static int take_requests(void) {
    size_t at = 0;
    uint64_t arrived = now_ns();
    if (kernel_arrival != 0 && kernel_arrival < arrived) {
        arrived = kernel_arrival;
    }
    while (in_len - at >= 28) {
        const uint8_t *r = in + at;
        uint32_t magic, length;
        uint16_t type;
        uint64_t cookie, offset;
        memcpy(&magic, r, 4);
        memcpy(&type, r + 6, 2);
        memcpy(&cookie, r + 8, 8);
        memcpy(&offset, r + 16, 8);
        memcpy(&length, r + 24, 4);
        type = ntohs(type);
        offset = be64toh(offset);
        length = ntohl(length);
        if (ntohl(magic) != REQUEST_MAGIC || type == CMD_DISC || length > MAX_LENGTH) {
            return -1;
        }
        int bad = offset > image_size || length > image_size - offset;
        if (type == CMD_WRITE) {
            if (length > sizeof in - 28) {
                return -1; /* larger than the input buffer: not what this yardstick is for */
            }
            if (in_len - at - 28 < length) {
                break; /* the rest of the payload has not arrived */
            }
            at += 28 + length;
            if (enqueue(cookie, 0, 0, bad ? 22 : 0, arrived, 0)) {
                return -1;
            }
            continue;
        }
        at += 28;
        int read = type == CMD_READ;
        if (enqueue(cookie, read && !bad ? offset : 0, read && !bad ? length : 0, read && bad ? 22 : 0,
                    read ? arrived + delay_ns : arrived, read)) {
            return -1;
        }
    }
    memmove(in, in + at, in_len - at);
    in_len -= at;
    return 0;
}

/*
 * FLOOR_THREADS=2: the same work split as faultdisk splits it, to see what the split costs: this
 * thread blocks in recv and queues the requests, a second one sleeps until the earliest deadline
 * (1 ns slack) and sends what is due; the sleeper is woken only when the queue was empty.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queued = PTHREAD_COND_INITIALIZER;
static int ended;
static uint64_t spin_ns;

static void *delay_thread(void *arg) {
    int fd = *(int *)arg;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    pthread_mutex_lock(&lock);
    while (!ended) {
        if (count == 0) {
            pthread_cond_wait(&queued, &lock);
            continue;
        }
        uint64_t d = queue[head].deadline_ns;
        if (d > now_ns()) {
            pthread_mutex_unlock(&lock);
            struct timespec at = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
            pthread_mutex_lock(&lock);
            continue;
        }
        /* Collect what is due, then send it without the lock. */
        int n = collect_due(now_ns());
        pthread_mutex_unlock(&lock);
        int failed = writev_all(fd, iov, n);
        pthread_mutex_lock(&lock);
        if (failed) {
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

/*
 * recv that also gives when the kernel received the last of the bytes it returns (SO_TIMESTAMPNS,
 * the real-time clock), moved to the monotonic clock in kernel_arrival.
 */
static ssize_t recv_stamped(int fd, void *buf, size_t n, int flags) {
    struct iovec v = {buf, n};
    char control[CMSG_SPACE(sizeof(struct timespec))];
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t r = recvmsg(fd, &m, flags);
    kernel_arrival = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); r > 0 && c != NULL; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec k, real, mono;
            memcpy(&k, CMSG_DATA(c), sizeof k);
            clock_gettime(CLOCK_REALTIME, &real);
            clock_gettime(CLOCK_MONOTONIC, &mono);
            int64_t ago = ((int64_t)real.tv_sec - k.tv_sec) * 1000000000 + (real.tv_nsec - k.tv_nsec);
            uint64_t m_ns = (uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec;
            if (ago > 0 && (uint64_t)ago < m_ns) {
                kernel_arrival = m_ns - (uint64_t)ago;
            }
        }
    }
    return r;
}

static void serve_split(int fd) {
    pthread_t t;
    ended = 0;
    int kstamp = getenv("FLOOR_KSTAMP") != NULL && atoi(getenv("FLOOR_KSTAMP")) == 1;
    if (kstamp) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    }
    spin_ns = getenv("FLOOR_SPIN_US") ? strtoull(getenv("FLOOR_SPIN_US"), NULL, 10) * 1000u : 0;
    if (pthread_create(&t, NULL, delay_thread, &fd)) {
        die("pthread_create");
    }
    for (;;) {
        /* FLOOR_SPIN_US: look for input that long before blocking (as faultdisk's reader spin). */
        ssize_t r = -1;
        for (uint64_t until = now_ns() + spin_ns; spin_ns > 0 && now_ns() < until;) {
            r = kstamp ? recv_stamped(fd, in + in_len, sizeof in - in_len, MSG_DONTWAIT)
                       : recv(fd, in + in_len, sizeof in - in_len, MSG_DONTWAIT);
            if (r >= 0 || errno != EAGAIN) {
                break;
            }
        }
        if (r < 0 && (spin_ns == 0 || errno == EAGAIN)) {
            r = kstamp ? recv_stamped(fd, in + in_len, sizeof in - in_len, 0) : recv(fd, in + in_len, sizeof in - in_len, 0);
        }
        if (r <= 0) {
            break;
        }
        in_len += (size_t)r;
        pthread_mutex_lock(&lock);
        int was_empty = count == 0;
        int bad = take_requests();
        if (was_empty && count > 0) {
            pthread_cond_signal(&queued);
        }
        pthread_mutex_unlock(&lock);
        if (bad) {
            break;
        }
    }
    pthread_mutex_lock(&lock);
    ended = 1;
    pthread_cond_signal(&queued);
    pthread_mutex_unlock(&lock);
    shutdown(fd, SHUT_RDWR);
    pthread_join(t, NULL);
}

static void serve(int fd, int timer) {
    int one = 1;
    structured = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (handshake(fd)) {
        return;
    }
    head = count = 0;
    in_len = 0;
    if (getenv("FLOOR_THREADS") && atoi(getenv("FLOOR_THREADS")) == 2) {
        serve_split(fd);
        return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (;;) {
        struct pollfd p[2] = {{fd, POLLIN, 0}, {timer, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("poll");
        }
        if (p[0].revents) {
            ssize_t r = recv(fd, in + in_len, sizeof in - in_len, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                return;
            }
            if (r > 0) {
                int was_empty = count == 0;
                in_len += (size_t)r;
                if (take_requests()) {
                    return;
                }
                /* Unconstant deadlines (writes and flushes are due at once) may need the timer sooner. */
                if (reply_due(fd)) {
                    return;
                }
                if (was_empty || count > 0) {
                    arm(timer);
                }
            }
        }
        if (p[1].revents) {
            uint64_t expirations;
            if (read(timer, &expirations, sizeof expirations) < 0 && errno != EAGAIN) {
                die("timerfd read");
            }
            if (reply_due(fd)) {
                return;
            }
            arm(timer);
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: floor-server IMAGE DELAY_US PORT|SOCKET_PATH\n");
        return 2;
    }
    int image_fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (image_fd < 0 || fstat(image_fd, &st)) {
        die(argv[1]);
    }
    image_size = (uint64_t)st.st_size;
    image = mmap(NULL, image_size, PROT_READ, MAP_SHARED | MAP_POPULATE, image_fd, 0);
    if (image == MAP_FAILED) {
        die("mmap");
    }
    delay_ns = strtoull(argv[2], NULL, 10) * 1000u;
    offer_structured = getenv("FLOOR_SIMPLE") == NULL;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    if (timer < 0) {
        die("timerfd_create");
    }
    int listener;
    int one = 1;
    if (strchr(argv[3], '/')) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[3]);
        unlink(a.sun_path);
        listener = socket(AF_UNIX, SOCK_STREAM, 0);
        if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a)) {
            die("bind");
        }
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        listener = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a)) {
            die("bind");
        }
    }
    if (listen(listener, 16)) {
        die("listen");
    }
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        serve(fd, timer);
        close(fd);
    }
}
