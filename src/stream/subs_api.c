/* subs_api.c -- the subscription API (see subs_api.h for the policy). */
#include "ac_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stream/subs_api.h"
#include "stream/subs_file.h"
#include "stream/stream_auth.h"
#include "mercure/mercure_prm.h"
#include "mercure/subscription_path.h"
#include "base/json_out.h"
#include "runtime/http_cors.h"
#include "proto/http_status.h"

#define SUBS_API_ENDPOINT "subscriptions"
#define SUBS_API_PATH_MAX 16384     /* bytes of a request path read */

/* What one request asks and may see. */
struct subs_api_req {
    const char *path;               /* raw, no query */
    size_t path_len;
    struct subscription_path sp;
    bool v1;                        /* 1.0 documents */
    struct stream_auth auth;
    char last[24];                  /* the cursor */
    char buf[SUBS_API_PATH_MAX + 2];    /* sp's decoded segments */
};

bool subs_api_wanted(stream_req_get_fn get, void *ctx)
{
    const char *ep = get("SSEQ_ENDPOINT", ctx);

    return ep != NULL && strcmp(ep, SUBS_API_ENDPOINT) == 0;
}

/* Sets *reason to why; returns status. */
static int subs_api_no(const char **reason, const char *why, int status)
{
    *reason = why;
    return status;
}

/* Reads method, setting, path and token: 0, or the status with reason. */
static int subs_api_check(const struct config *cfg,
                          const struct jwt_auth_key *key, struct queue *q,
                          stream_req_get_fn get, void *ctx,
                          struct subs_api_req *r, const char **reason)
{
    const char *m = get("REQUEST_METHOD", ctx);
    const char *uri = get("REQUEST_URI", ctx);
    int rc;

    if (m == NULL || (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0))
        return subs_api_no(reason, "method not allowed: use GET", 405);
    if (!cfg->mercure_subscriptions)
        return subs_api_no(reason, "active subscriptions are off on this "
                           "hub (mercure.subscriptions)", 404);
    if (q == NULL)
        return subs_api_no(reason, "queue unavailable", 503);
    r->path = uri ? uri : "";
    r->path_len = strcspn(r->path, "?#");
    if (r->path_len > SUBS_API_PATH_MAX)
        return subs_api_no(reason, "path too long", 404);
    rc = subscription_path_parse(r->path, r->path_len, &r->sp, r->buf,
                                 sizeof(r->buf));
    if (rc == -EINVAL)
        return subs_api_no(reason, "bad percent-encoding in the path", 400);
    if (rc < 0)
        return subs_api_no(reason, "no such subscription path", 404);
    r->v1 = subscription_path_v1(&r->sp, !cfg->mercure_protocol_v0);
    rc = stream_auth_check(cfg, key, get, ctx, time(NULL), &r->auth, reason);
    if (rc != 0)
        return rc;
    r->v1 = r->v1 || r->auth.claims.access_token;
    if (!r->auth.token)
        return subs_api_no(reason, "a token is required: its "
                           "mercure.subscribe (v0.x) or a subscribe grant "
                           "of its authorization_details (1.0) must match "
                           "the requested URL", 401);
    if (!jwt_claims_can_subscribe(&r->auth.claims, r->path, r->path_len,
                                  NULL)) {
        r->auth.error = "insufficient_scope";
        return subs_api_no(reason, r->auth.claims.access_token ?
                           "no subscribe grant of the token's "
                           "authorization_details matches the requested URL"
                           : "the token's mercure.subscribe does not match "
                           "the requested URL", 403);
    }
    return 0;
}

/* Whether r's token may subscribe to s's update topic. */
static bool subs_api_visible(struct subs_api_req *r,
                             const struct subscription *s)
{
    char stack[1024], *t = stack;
    size_t n = subscription_topic(NULL, 0, s);
    bool ok;

    if (n > sizeof(stack) && (t = malloc(n)) == NULL)
        return false;
    subscription_topic(t, n, s);
    ok = jwt_claims_can_subscribe(&r->auth.claims, t, n, NULL);
    if (t != stack)
        free(t);
    return ok;
}

/* Writes subscription s's document to f (for a single one, a top
 * document: with "@context" and "lastEventID" in v0.x). */
static void subs_api_doc(FILE *f, struct subs_api_req *r,
                         const struct subscription *s, bool top)
{
    bool v0top = top && s->dialect == SUBSCRIPTION_V0;
    unsigned flags = v0top ? SUBSCRIPTION_DOC_CONTEXT : 0;
    size_t n = subscription_doc(NULL, 0, s, true, flags,
                                v0top ? r->last : NULL);
    char *d = malloc(n);

    if (d == NULL) {
        fputs("null", f);           /* fclose reports ENOMEM anyway */
        return;
    }
    subscription_doc(d, n, s, true, flags, v0top ? r->last : NULL);
    fwrite(d, 1, n, f);
    free(d);
}

/* Writes the documents of snapshot sn that r selects and may see;
 * *found counts them. */
static void subs_api_docs(FILE *f, struct subs_api_req *r,
                          const struct subs_file_snap *sn, size_t *found)
{
    bool one = r->sp.subscriber != NULL;

    for (size_t i = 0; i < sn->n; i++) {
        const struct subscription *s = &sn->subs[i];

        if (!subscription_path_selects(&r->sp, s) || !subs_api_visible(r, s))
            continue;
        if (one && *found > 0)
            continue;
        if (!one && *found > 0)
            fputc(',', f);
        subs_api_doc(f, r, s, one);
        (*found)++;
    }
}

/* Writes the body: a collection, or the single subscription. *found:
 * how many documents it holds. */
static void subs_api_body(FILE *f, struct subs_api_req *r, struct queue *q,
                          size_t *found)
{
    struct queue_proc_info info[QUEUE_PROC_SLOTS];
    int n = queue_proc_list(q, info, QUEUE_PROC_SLOTS);
    bool one = r->sp.subscriber != NULL;

    if (!one) {
        fputs(r->v1 ? "{" : "{\"@context\":\"" SUBSCRIPTION_CONTEXT "\",",
              f);
        fputs("\"id\":", f);
        json_write_string(f, r->path, r->path_len);
        fprintf(f, r->v1 ? ",\"type\":\"subscriptions\"," :
                ",\"type\":\"Subscriptions\",\"lastEventID\":\"%s\",",
                r->last);
        fputs("\"subscriptions\":[", f);
    }
    for (int i = 0; i < n; i++) {
        struct subs_file_snap sn;

        if (strcmp(info[i].role, "stream") != 0 ||
            subs_file_read(queue_file_path(q), info[i].slot, info[i].pid,
                           info[i].started_us, &sn) < 0)
            continue;
        subs_api_docs(f, r, &sn, found);
        subs_file_snap_free(&sn);
    }
    if (!one)
        fputs("]}", f);
}

/* The head of a 200 into f. */
static void subs_api_head(FILE *f, const struct config *cfg,
                          struct subs_api_req *r, const char *origin,
                          size_t blen)
{
    struct http_cors c;
    char cors[1024];

    http_cors_decide(cfg, origin, &c);
    fprintf(f, "Status: 200 OK\r\nContent-Type: %s\r\n"
            "Link: <" MERCURE_HUB_PATH ">; rel=\"mercure\"; "
            "last-event-id=\"%s\"; type=\"mercure\"; "
            "content-type=\"application/json\"\r\n"
            "Cache-Control: private, no-cache\r\nContent-Length: %zu\r\n",
            r->v1 ? "application/json" : "application/ld+json", r->last,
            blen);
    if (http_cors_format(cors, sizeof(cors), &c) > 0)
        fprintf(f, "%sAccess-Control-Expose-Headers: Link\r\n", cors);
    fputs("\r\n", f);
}

/* The newest id of q as the cursor, or "earliest". */
static void subs_api_cursor(struct queue *q, char *out, size_t cap)
{
    uint64_t oldest, next;

    queue_bounds(q, &oldest, &next);
    if (next > oldest)
        snprintf(out, cap, "%" PRIu64, next - 1);
    else
        snprintf(out, cap, "earliest");
}

/* The 200 (or the 404 of a single subscription not found). */
static int subs_api_answer(const struct config *cfg, struct queue *q,
                           stream_req_get_fn get, void *ctx,
                           struct subs_api_req *r, char **out, size_t *len,
                           int *status, const char **reason)
{
    char *body = NULL;
    size_t blen = 0, found = 0;
    FILE *f = open_memstream(&body, &blen);
    const char *m = get("REQUEST_METHOD", ctx);
    int rc = 0;

    if (f == NULL)
        return -ENOMEM;
    subs_api_cursor(q, r->last, sizeof(r->last));  /* before the files */
    subs_api_body(f, r, q, &found);
    if (fclose(f) != 0)
        rc = -ENOMEM;
    if (rc == 0 && r->sp.subscriber != NULL && found == 0) {
        free(body);
        *reason = "no such subscription (or not one the token may see)";
        return 404;
    }
    f = rc == 0 ? open_memstream(out, len) : NULL;
    if (f != NULL) {
        subs_api_head(f, cfg, r, get("HTTP_ORIGIN", ctx), blen);
        if (strcmp(m, "HEAD") != 0)
            fwrite(body, 1, blen, f);
        rc = fclose(f) != 0 ? -ENOMEM : 0;
    } else {
        rc = -ENOMEM;
    }
    free(body);
    *status = 200;
    return rc;
}

/* An error response for status into a malloc'd *out; a 1.0 request
 * (1.0 path or access token) gets stream_auth_challenge's
 * WWW-Authenticate. */
static int subs_api_error(const struct config *cfg, stream_req_get_fn get,
                          void *ctx, struct subs_api_req *r, int status,
                          const char *reason, char **out, size_t *len)
{
    struct stream_req_resp resp = { 0 };
    char buf[HTTP_STATUS_RESPONSE_MAX];
    char challenge[MERCURE_PRM_CHALLENGE_MAX];

    r->auth.v1 = r->v1 || r->auth.claims.access_token;
    resp.challenge = stream_auth_challenge(cfg, &r->auth, status, challenge,
                                           sizeof(challenge));
    http_cors_decide(cfg, get("HTTP_ORIGIN", ctx), &resp.cors);
    *len = stream_req_error(buf, sizeof(buf), status, reason, 1, &resp);
    *out = malloc(*len + 1);
    if (*out == NULL)
        return -ENOMEM;
    memcpy(*out, buf, *len);
    (*out)[*len] = '\0';
    return 0;
}

int subs_api_respond(const struct config *cfg, const struct jwt_auth_key *key,
                     struct queue *q, stream_req_get_fn get, void *ctx,
                     char **out, size_t *len, int *status,
                     const char **reason)
{
    struct subs_api_req *r = calloc(1, sizeof(*r));
    int s, rc = 0;

    if (r == NULL)
        return -ENOMEM;
    *reason = "subscriptions";
    s = subs_api_check(cfg, key, q, get, ctx, r, reason);
    if (s == 0)
        s = subs_api_answer(cfg, q, get, ctx, r, out, len, status, reason);
    if (s < 0)
        rc = s;
    else if (s != 0) {
        *status = s;
        rc = subs_api_error(cfg, get, ctx, r, s, *reason, out, len);
    }
    jwt_claims_free(&r->auth.claims);
    free(r);
    return rc;
}
