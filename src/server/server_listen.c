/* SPDX-License-Identifier: MIT
 *
 * The listening socket, shared by two protocols on one port, as InfluxDB 3 serves them:
 * HTTP/1.1 (the HTTP API, libmicrohttpd) and HTTP/2 over cleartext with prior knowledge
 * (gRPC: Arrow Flight queries, server_flight.c). silt accepts itself and looks at the first
 * bytes a client sends: the HTTP/2 connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" goes
 * to a Flight thread, anything else is handed to libmicrohttpd (MHD_add_connection: the
 * daemon runs without a listening socket of its own). A connection is decided as soon as its
 * bytes differ from the preface (HTTP/1.1's "POST"/"GET" differ at the first or second byte);
 * one that sends nothing for 5 s goes to libmicrohttpd, whose timeout then applies. Nothing
 * is read off the socket to decide (MSG_PEEK), so either server sees the whole stream.
 *
 * One thread accepts and decides: it waits (poll) on the listening socket, a wake-up pipe and
 * the undecided connections. */
#include "server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#define PREFACE         "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN     24
#define MAX_PENDING     256
#define PENDING_WAIT_NS (5 * NS_PER_S)

typedef struct pending {
    int fd;
    int64_t since_ns;
    struct sockaddr_storage addr;
    socklen_t addr_len;
} pending;

int server__listen_open(server *s, const struct sockaddr_storage *ss, socklen_t sl, silt_err *err) {
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return SILT_FAIL(err, SILT_EIO, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)ss, sl) < 0 || listen(fd, 1024) < 0) {
        int e = errno;
        close(fd);
        return SILT_FAIL(err, SILT_EIO, "cannot listen on %s: %s", s->d.conf->http_bind,
                         strerror(e));
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &bl) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    s->listen_fd = fd;
    return SILT_OK;
}

/* HTTP/1.1: libmicrohttpd owns the socket from here (and closes it on failure). */
static void to_http1(server *s, pending *p) {
    if (MHD_add_connection(s->mhd, p->fd, (const struct sockaddr *)&p->addr, p->addr_len) !=
        MHD_YES)
        log_debug("http", "connection refused by the HTTP server: %s", strerror(errno));
}

/* 1: the preface (HTTP/2), 0: something else (HTTP/1.1), -1: not yet known */
static int sniff(int fd) {
    char b[PREFACE_LEN];
    ssize_t n = recv(fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? -1 : 0;
    if (n == 0) return 0; /* closed before a byte: libmicrohttpd cleans up */
    if (memcmp(b, PREFACE, (size_t)n)) return 0;
    return n == PREFACE_LEN ? 1 : -1;
}

static void *accept_main(void *arg) {
    server *s = arg;
    pending *pend = xcalloc(MAX_PENDING, sizeof *pend);
    struct pollfd *pfd = xcalloc(MAX_PENDING + 2, sizeof *pfd);
    size_t n_pend = 0;
    for (;;) {
        pfd[0] = (struct pollfd){.fd = s->wake_pipe[0], .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
        for (size_t i = 0; i < n_pend; i++)
            pfd[2 + i] = (struct pollfd){.fd = pend[i].fd, .events = POLLIN | POLLRDHUP};
        int r = poll(pfd, 2 + n_pend, n_pend ? 250 : -1);
        if (r < 0 && errno != EINTR) {
            log_error("http", "poll on the listening socket: %s", strerror(errno));
            usleep(10000);
            continue;
        }
        if (pfd[0].revents) break; /* server_stop */
        int64_t now = time_mono_ns();
        /* decide the waiting connections first: their slots are reused below */
        size_t keep = 0;
        for (size_t i = 0; i < n_pend; i++) {
            pending *p = &pend[i];
            int kind = -1;
            if (pfd[2 + i].revents) kind = sniff(p->fd);
            if (kind < 0 && now - p->since_ns > PENDING_WAIT_NS) kind = 0;
            if (kind == 1) {
                fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) & ~O_NONBLOCK);
                server__flight_spawn(s, p->fd);
            } else if (kind == 0) {
                to_http1(s, p);
            } else {
                pend[keep++] = *p;
            }
        }
        n_pend = keep;
        if (!(pfd[1].revents & POLLIN)) continue;
        for (;;) {
            pending p = {.addr_len = sizeof p.addr};
            p.fd = accept4(s->listen_fd, (struct sockaddr *)&p.addr, &p.addr_len,
                           SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (p.fd < 0) {
                if (errno == EMFILE || errno == ENFILE)
                    log_warn("http", "accept: %s", strerror(errno));
                break;
            }
            p.since_ns = now;
            if (n_pend == MAX_PENDING) {
                /* too many silent connections: the oldest goes to libmicrohttpd undecided */
                to_http1(s, &pend[0]);
                memmove(pend, pend + 1, (MAX_PENDING - 1) * sizeof *pend);
                n_pend--;
            }
            pend[n_pend++] = p;
        }
    }
    for (size_t i = 0; i < n_pend; i++) close(pend[i].fd);
    free(pend);
    free(pfd);
    return NULL;
}

int server__listen_start(server *s, silt_err *err) {
    if (pipe2(s->wake_pipe, O_CLOEXEC) < 0)
        return SILT_FAIL(err, SILT_EIO, "pipe: %s", strerror(errno));
    int rc = pthread_create(&s->accept_thread, NULL, accept_main, s);
    if (rc) {
        close(s->wake_pipe[0]);
        close(s->wake_pipe[1]);
        return SILT_FAIL(err, SILT_EIO, "cannot start the accepting thread: %s", strerror(rc));
    }
    return SILT_OK;
}

void server__listen_stop(server *s) {
    if (s->wake_pipe[1] >= 0) {
        char c = 1;
        ssize_t w = write(s->wake_pipe[1], &c, 1);
        (void)w;
        pthread_join(s->accept_thread, NULL);
        close(s->wake_pipe[0]);
        close(s->wake_pipe[1]);
        s->wake_pipe[0] = s->wake_pipe[1] = -1;
    }
    if (s->listen_fd >= 0) close(s->listen_fd);
    s->listen_fd = -1;
}
