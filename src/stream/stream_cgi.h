/* stream_cgi.h -- sseq-stream started as a plain CGI program (no FastCGI
 * socket): one request from the environment, the event stream written to
 * stdout without FastCGI framing, until stdout fails or SIGTERM. */
#ifndef SSEQ_STREAM_CGI_H
#define SSEQ_STREAM_CGI_H

#include "conf/config.h"
#include "mercure/jwt_auth.h"

/* Serves the one request (key: the subscriber key, NULL if none);
 * returns the process exit status (0 also for
 * error responses and a client that went away). */
int stream_cgi_run(const struct config *cfg, const struct jwt_auth_key *key);

#endif
