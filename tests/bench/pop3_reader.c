/* pop3_reader: one POP3 client that fetches every message of a maildrop as fast as a
 * client can, so that a server's throughput for big messages is what gets measured
 * (tests/bench/servers.sh). It logs in with USER/PASS (over implicit TLS with --tls,
 * certificate not checked: it is a benchmark on loopback), sends STAT, then RETR 1..n
 * one at a time, and finds each terminator with memmem in 256 KiB reads: it neither
 * decodes nor keeps the bodies. Repeats the whole session --sessions times.
 *
 * usage: pop3_reader --port P [--tls] --user U --pass W [--sessions N]
 * Prints one JSON line: sessions, messages, octets (wire octets of the bodies, terminators
 * excluded), seconds, megabytesPerSecond (10^6 octets/s) and cpuSeconds (its own user +
 * system time). Exit 1 on any protocol or connection error, with a line on stderr. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static SSL *ssl;
static int fd;
static char buf[256 * 1024];
static size_t have, at; /* unread octets are buf[at, have) */

static void die(const char *what) {
    fprintf(stderr, "pop3_reader: %s\n", what);
    exit(1);
}

static size_t receive(void) {
    long n = ssl ? SSL_read(ssl, buf, sizeof buf) : recv(fd, buf, sizeof buf, 0);
    if (n <= 0) die("the server closed the connection");
    at = 0;
    have = (size_t)n;
    return have;
}

static void send_line(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if ((ssl ? SSL_write(ssl, line, n) : send(fd, line, (size_t)n, MSG_NOSIGNAL)) != n)
        die("cannot send a command");
}

/* One status line into `line`; dies on -ERR. */
static void status(char *line, size_t cap) {
    size_t len = 0;
    for (;;) {
        if (at == have) receive();
        char c = buf[at++];
        if (c == '\n') break;
        if (len + 1 < cap) line[len++] = c;
    }
    line[len] = 0;
    if (strncmp(line, "+OK", 3) != 0) {
        fprintf(stderr, "pop3_reader: the server said: %s\n", line);
        exit(1);
    }
}

/* A multi-line body up to its terminator: its octets before the final ".\r\n" (its last
 * line end included). The status line's CRLF counts as the line end before the first body
 * line, so an empty body is just ".\r\n". */
static unsigned long long body(void) {
    static const char term[] = "\r\n.\r\n";
    unsigned long long consumed = 0;  /* body octets and terminator, as read */
    char tail[4] = {'\r', '\n'};     /* the last octets before buf[at] */
    size_t tail_len = 2;
    for (;;) {
        if (at == have) receive();
        /* A terminator that began in the octets before this read. */
        char joined[9];
        const size_t k = have - at < 4 ? have - at : 4;
        memcpy(joined, tail, tail_len);
        memcpy(joined + tail_len, buf + at, k);
        char *hit = memmem(joined, tail_len + k, term, 5);
        size_t used = hit ? (size_t)(hit - joined) + 5 - tail_len : 0;
        if (!hit) {
            hit = memmem(buf + at, have - at, term, 5);
            if (hit) used = (size_t)(hit - (buf + at)) + 5;
        }
        if (hit) {
            at += used;
            return consumed + used - 3;
        }
        consumed += have - at;
        memcpy(joined + tail_len, buf + at, k);  /* the new tail: the last 4 octets seen */
        const size_t total = tail_len + k < 4 ? tail_len + k : 4;
        if (have - at >= 4) {
            memcpy(tail, buf + have - 4, 4);
        } else {
            memcpy(tail, joined + tail_len + k - total, total);
        }
        tail_len = total;
        at = have;
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int port = 0, tls = 0, sessions = 1;
    const char *user = NULL, *pass = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tls")) tls = 1;
        else if (!strcmp(argv[i], "--user") && i + 1 < argc) user = argv[++i];
        else if (!strcmp(argv[i], "--pass") && i + 1 < argc) pass = argv[++i];
        else if (!strcmp(argv[i], "--sessions") && i + 1 < argc) sessions = atoi(argv[++i]);
        else die("usage: pop3_reader --port P [--tls] --user U --pass W [--sessions N]");
    }
    if (!port || !user || !pass) die("usage: pop3_reader --port P [--tls] --user U --pass W [--sessions N]");
    SSL_CTX *ctx = tls ? SSL_CTX_new(TLS_client_method()) : NULL;
    /* Whole socket reads, not two per record: the reader must not be the limit. */
    if (ctx) SSL_CTX_set_read_ahead(ctx, 1);
    unsigned long long octets = 0, messages = 0;
    char line[1024];
    double started = now();
    for (int s = 0; s < sessions; s++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("cannot connect");
        have = at = 0;
        ssl = NULL;
        if (tls) {
            ssl = SSL_new(ctx);
            SSL_set_fd(ssl, fd);
            if (SSL_connect(ssl) != 1) die("the TLS handshake failed");
        }
        status(line, sizeof line);
        send_line("USER %s\r\n", user);
        status(line, sizeof line);
        send_line("PASS %s\r\n", pass);
        status(line, sizeof line);
        send_line("STAT\r\n");
        status(line, sizeof line);
        int count = atoi(line + 4);
        for (int m = 1; m <= count; m++) {
            send_line("RETR %d\r\n", m);
            status(line, sizeof line);
            octets += body();
            messages++;
        }
        send_line("QUIT\r\n");
        status(line, sizeof line);
        if (ssl) SSL_free(ssl);
        close(fd);
    }
    double seconds = now() - started;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("{\"sessions\": %d, \"messages\": %llu, \"octets\": %llu, \"seconds\": %.3f, "
           "\"megabytesPerSecond\": %.1f, \"cpuSeconds\": %.3f}\n",
           sessions, messages, octets, seconds, (double)octets / 1e6 / seconds, cpu);
    return 0;
}
