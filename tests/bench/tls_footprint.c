/* tls_footprint: what OpenSSL itself costs per TLS connection on this machine, apart from
 * any server (tests/bench/servers.sh prints it next to the servers' figures):
 *  - memory: the heap an idle server connection keeps after a full TLS 1.3 handshake and
 *    one small exchange, with SSL_MODE_RELEASE_BUFFERS and its record buffers freed (as
 *    izypop3 runs it): the floor under any OpenSSL server's idle TLS connection;
 *  - CPU: server and client time for one full handshake (ECDHE X25519, ECDSA P-256), so a
 *    reader can tell how long N logins over TLS must take on N cores at the least.
 *
 * usage: tls_footprint CERT.pem KEY.pem [connections, default 2000]
 * Prints one JSON line. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: tls_footprint CERT.pem KEY.pem [connections]\n");
        return 2;
    }
    const int n = argc > 3 ? atoi(argv[3]) : 2000;
    SSL_CTX *server = SSL_CTX_new(TLS_server_method()), *client = SSL_CTX_new(TLS_client_method());
    if (SSL_CTX_use_certificate_chain_file(server, argv[1]) != 1 ||
        SSL_CTX_use_PrivateKey_file(server, argv[2], SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "tls_footprint: cannot use %s and %s\n", argv[1], argv[2]);
        return 1;
    }
    SSL_CTX_set_mode(server, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_num_tickets(server, 1);
    SSL **kept = calloc((size_t)n, sizeof *kept);
    double server_cpu = 0, client_cpu = 0;
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
        fcntl(sv[0], F_SETFL, O_NONBLOCK);
        fcntl(sv[1], F_SETFL, O_NONBLOCK);
        SSL *s = SSL_new(server), *c = SSL_new(client);
        SSL_set_fd(s, sv[0]);
        SSL_set_fd(c, sv[1]);
        SSL_set_accept_state(s);
        SSL_set_connect_state(c);
        int done_s = 0, done_c = 0;
        for (int step = 0; step < 50 && !(done_s && done_c); step++) {
            double t = thread_cpu();
            if (!done_c) done_c = SSL_do_handshake(c) == 1;
            client_cpu += thread_cpu() - t;
            t = thread_cpu();
            if (!done_s) done_s = SSL_do_handshake(s) == 1;
            server_cpu += thread_cpu() - t;
        }
        if (!done_s || !done_c) {
            fprintf(stderr, "tls_footprint: a handshake did not complete\n");
            return 1;
        }
        char b[64];
        SSL_write(c, "USER u\r\n", 8);
        SSL_read(s, b, sizeof b);
        SSL_write(s, "+OK\r\n", 5);
        SSL_read(c, b, sizeof b);
        SSL_read(s, b, sizeof b); /* nothing more: the server waits, as an idle one does */
        SSL_free_buffers(s);
        SSL_free(c);
        close(sv[1]);
        kept[i] = s;
    }
    struct mallinfo2 after = mallinfo2();
    printf("{\"connections\": %d, \"serverKibPerConnection\": %.1f, "
           "\"serverHandshakeMs\": %.3f, \"clientHandshakeMs\": %.3f}\n",
           n, (double)(after.uordblks - before.uordblks) / n / 1024.0, server_cpu * 1000 / n,
           client_cpu * 1000 / n);
    return 0;
}
