/* fcgi_server.h -- the FastCGI runtime of sseq-stream and sseq-publish:
 * one epoll thread per process that accepts on the listening socket, reads
 * every connection's request to completion under a deadline
 * (fastcgi.read_timeout), and hands complete requests to the program.
 *
 * Key invariant (no starvation): nothing a client sends, or does not send,
 * can hold the loop. Reads are non-blocking; a connection whose request is
 * not complete within read_timeout is closed; at most max_pending
 * incomplete connections are held (the oldest is dropped for a new one),
 * so idle, half-sent and never-ending requests cost a bounded amount of
 * memory and descriptors while valid requests keep being served.
 *
 * Kept connections (FCGI_KEEP_CONN, nginx's fastcgi_keep_conn on): after
 * the answer the connection waits, with no deadline, for the next request;
 * any number of them cost no thread.
 *
 * Stopping (fcgi_server_stop, any thread): the listening socket leaves the
 * loop (the process accepts no more; the socket itself stays open for the
 * processes that replace this one), requests in progress are answered,
 * idle kept connections are closed, and fcgi_server_run returns when no
 * connection is left. */
#ifndef SSEQ_FCGI_SERVER_H
#define SSEQ_FCGI_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct fcgi_server;
struct fcgi_request;            /* a complete request (opaque) */

struct fcgi_server_limits {
    unsigned read_timeout_ms;   /* params and body complete within it */
    unsigned max_pending;       /* incomplete connections held at most */
    size_t params_max;          /* bytes of params */
    size_t body_drain_max;      /* body bytes read (kept or discarded) */
};

struct fcgi_server_ops {
    /* Params are complete: how many body bytes to keep (the rest is read
     * and counted, not kept). */
    size_t (*body_limit)(struct fcgi_request *r, void *ctx);
    /* The request is complete: answer it (fcgi_request_reply) or take its
     * connection (fcgi_request_detach) before returning. */
    void (*handle)(struct fcgi_request *r, void *ctx);
    /* Signals SIGTERM, SIGINT, SIGHUP, when the server reads them (NULL:
     * it reads none; the caller blocks and reads them). */
    void (*on_signal)(int signo, void *ctx);
    /* The server answered a request itself with this error status (408:
     * its body did not come in time), for the refusal counters (NULL:
     * not told). */
    void (*on_refusal)(int status, void *ctx);
    void *ctx;
};

/* Creates a server on listen_fd (made non-blocking). With ops->on_signal,
 * it reads SIGTERM/SIGINT/SIGHUP from a signalfd (the caller blocks them
 * in every thread first). -errno. */
int fcgi_server_create(int listen_fd, const struct fcgi_server_limits *lim,
                       const struct fcgi_server_ops *ops,
                       struct fcgi_server **out);

/* Runs the loop until stopped and every connection is gone. 0, or -errno
 * if epoll fails. */
int fcgi_server_run(struct fcgi_server *s);

/* Stops accepting and ends the loop once the connections are done. Any
 * thread, any number of times. */
void fcgi_server_stop(struct fcgi_server *s);

/* New limits (any thread; applied at the next loop turn). */
void fcgi_server_set_limits(struct fcgi_server *s,
                            const struct fcgi_server_limits *lim);

/* Connections closed because their request was not complete in time, or
 * to make room (since start). */
unsigned long fcgi_server_dropped(const struct fcgi_server *s);

void fcgi_server_destroy(struct fcgi_server *s);

/* ---- a complete request (valid inside ops->handle only) ---- */

/* The value of param name (e.g. "QUERY_STRING"), or NULL. */
const char *fcgi_request_param(const struct fcgi_request *r,
                               const char *name);

/* The body: its first bytes, up to the limit body_limit gave; *seen is
 * the whole body's length (more than *len when it was over the limit). */
const char *fcgi_request_body(const struct fcgi_request *r, size_t *len,
                              size_t *seen);

/* Answers with a complete CGI response (head, blank line, body): STDOUT
 * records, END_REQUEST; the connection is then kept (FCGI_KEEP_CONN) or
 * closed. 0, or -errno (the connection is then closed). */
int fcgi_request_reply(struct fcgi_request *r, const char *cgi, size_t len);

/* Takes the connection out of the server: returns its descriptor (the
 * caller writes STDOUT records and END_REQUEST itself, and closes it) and
 * sets *request_id. */
int fcgi_request_detach(struct fcgi_request *r, unsigned *request_id);

#endif
