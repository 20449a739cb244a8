/* pop3_floor: the least CPU a POP3 server can spend on the benchmark's session, to show
 * where the machine's limit is (tests/bench/servers.sh). NOT a server: any USER/PASS is
 * accepted, nothing is locked or checked, replies are minimal. One thread, epoll, blocking
 * nothing: per RETR it opens the Maildir file, reads it, converts LF to CRLF with
 * dot-stuffing and sends status line, body and terminator with one send(). What it costs
 * per session is almost all kernel time: TCP on loopback, accept, open and read.
 *
 * usage: pop3_floor PORT MAILDIR_BASE   (mail of user U in MAILDIR_BASE/U/cur)
 * Prints "ready" when listening. Handles messages up to 1 MiB and replies that fit the
 * socket buffer, which is what the 4 KB session needs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { max_messages = 64, max_file = 1 << 20 };

struct client {
    int fd;
    char in[1024];
    int in_len;
    char user[128];
    int count;
    char names[max_messages][256];
};

static const char *base;
static char out[2 * max_file + 4096];
static int out_len;
static char file[max_file];

static void put(const char *s) {
    size_t n = strlen(s);
    memcpy(out + out_len, s, n);
    out_len += (int)n;
}

static void list_maildrop(struct client *c) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s/cur", base, c->user);
    c->count = 0;
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) && c->count < max_messages)
        if (e->d_name[0] != '.') snprintf(c->names[c->count++], 256, "%s", e->d_name);
    closedir(d);
}

static void retr(struct client *c, int n) {
    if (n < 1 || n > c->count) { put("-ERR no such message\r\n"); return; }
    char path[768];
    snprintf(path, sizeof path, "%s/%s/cur/%s", base, c->user, c->names[n - 1]);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t len = f < 0 ? -1 : read(f, file, sizeof file);
    if (f >= 0) close(f);
    if (len < 0) { put("-ERR cannot read\r\n"); return; }
    put("+OK\r\n");
    int line_start = 1;
    for (ssize_t i = 0; i < len; i++) {
        if (line_start && file[i] == '.') out[out_len++] = '.';
        line_start = file[i] == '\n';
        if (line_start && (i == 0 || file[i - 1] != '\r')) out[out_len++] = '\r';
        out[out_len++] = file[i];
    }
    put(".\r\n");
}

/* One command line; 1 when the session ends. */
static int command(struct client *c, char *l) {
    char reply[64];
    if (!strncmp(l, "USER ", 5)) {
        snprintf(c->user, sizeof c->user, "%s", l + 5);
        if (strchr(c->user, '/') || c->user[0] == '.') c->user[0] = 0;
        put("+OK\r\n");
    } else if (!strncmp(l, "PASS ", 5)) {
        list_maildrop(c);
        put("+OK\r\n");
    } else if (!strcmp(l, "STAT")) {
        snprintf(reply, sizeof reply, "+OK %d 0\r\n", c->count);
        put(reply);
    } else if (!strncmp(l, "RETR ", 5)) {
        retr(c, atoi(l + 5));
    } else if (!strcmp(l, "QUIT")) {
        put("+OK\r\n");
        return 1;
    } else {
        put("-ERR\r\n");
    }
    return 0;
}

static void drop(int ep, struct client *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

static void readable(int ep, struct client *c) {
    ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - 1 - (size_t)c->in_len, 0);
    if (r < 0 && errno == EAGAIN) return;
    if (r <= 0) { drop(ep, c); return; }
    c->in_len += (int)r;
    out_len = 0;
    int quit = 0;
    char *s = c->in, *end = c->in + c->in_len, *nl;
    while (!quit && (nl = memchr(s, '\n', (size_t)(end - s)))) {
        *nl = 0;
        if (nl > s && nl[-1] == '\r') nl[-1] = 0;
        quit = command(c, s);
        s = nl + 1;
    }
    memmove(c->in, s, (size_t)(end - s));
    c->in_len = (int)(end - s);
    if (c->in_len == (int)sizeof c->in - 1) c->in_len = 0; /* an endless line: dropped */
    if (out_len) send(c->fd, out, (size_t)out_len, MSG_NOSIGNAL);
    if (quit) drop(ep, c);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: pop3_floor PORT MAILDIR_BASE\n"); return 2; }
    base = argv[2];
    int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) { perror("pop3_floor"); return 1; }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    printf("ready\n");
    fflush(stdout);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; i++) {
            struct client *c = events[i].data.ptr;
            if (c) { readable(ep, c); continue; }
            int fd;
            while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                c = calloc(1, sizeof *c);
                c->fd = fd;
                struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                send(fd, "+OK ready\r\n", 11, MSG_NOSIGNAL);
            }
        }
    }
}
