/* fuzz_stream_req.c -- libFuzzer target: sseq-stream's request parser
 * (src/stream/stream_req.c) on /events and on the Mercure hub, with the
 * resume logic (last_event_id=, lastEventID=, the Last-Event-ID header).
 * The input is four fields split at NUL: REQUEST_METHOD, DOCUMENT_URI,
 * QUERY_STRING, HTTP_LAST_EVENT_ID (a missing field is absent).
 * Properties: no crash or sanitizer report; a refusal is 400 or 405 with
 * a one-line reason; on success every channel lies in names, is
 * NUL-terminated and holds no CR, LF or NUL (a match_urlpattern=
 * selector is LF, hub URL, LF, pattern: the two parts hold none); a hub
 * resume id holds no
 * CR, LF or NUL and fits its buffer; and the 200 head that echoes it as
 * Last-Event-ID is header lines only ("Name: value\r\n", then a blank
 * line): no input adds a header or a body. */
#include "ac_config.h"

#include <string.h>

#include "fuzz.h"
#include "conf/config.h"
#include "stream/stream_match.h"
#include "stream/stream_req.h"

#define FIELDS 4

static const char *const field_names[FIELDS] = {
    "REQUEST_METHOD", "DOCUMENT_URI", "QUERY_STRING", "HTTP_LAST_EVENT_ID",
};

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_ASSERT(config_defaults(&cfg) == 0, "config_defaults");
    return 0;
}

/* The param getter: field i of the split input, or NULL. */
static const char *fuzz_get(const char *name, void *ctx)
{
    char **field = ctx;

    for (int i = 0; i < FIELDS; i++)
        if (strcmp(name, field_names[i]) == 0)
            return field[i];
    return NULL;
}

/* true if s[0..n) holds CR, LF or NUL. */
static int fuzz_has_break(const char *s, size_t n)
{
    return memchr(s, '\r', n) || memchr(s, '\n', n) || memchr(s, '\0', n);
}

/* Checks that head is "Name: value\r\n" lines and a blank line, nothing
 * after it. */
static void fuzz_check_head(const char *head, size_t n)
{
    const char *p = head, *end = head + n;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));

        FUZZ_ASSERT(eol != NULL && eol > p && eol[-1] == '\r',
                    "every head line ends in CR LF");
        if (eol - p == 1) {
            FUZZ_ASSERT(eol + 1 == end, "nothing after the blank line");
            return;
        }
        FUZZ_ASSERT(memchr(p, ':', (size_t)(eol - p)) != NULL &&
                    memchr(p, '\r', (size_t)(eol - 1 - p)) == NULL,
                    "a head line is one header");
        p = eol + 1;
    }
    FUZZ_ASSERT(0, "the head ends in a blank line");
}

/* Checks channel i of r: a URL pattern selector is LF, hub URL, LF,
 * pattern (stream_match_urlpattern_name), every other one a plain name;
 * the text parts hold no CR, LF or NUL. */
static void fuzz_check_channel(const struct stream_req *r, unsigned i)
{
    const char *name = r->names + r->off[i], *sep;
    size_t len = r->len[i];

    if (r->dialect[i] != STREAM_REQ_V1_URLPATTERN) {
        FUZZ_ASSERT(!fuzz_has_break(name, len),
                    "a channel holds no CR, LF or NUL");
        return;
    }
    FUZZ_ASSERT(stream_match_is_urlpattern(name, len),
                "a URL pattern selector is LF, hub URL, LF, pattern");
    sep = memchr(name + 1, STREAM_MATCH_URLPATTERN, len - 1);
    FUZZ_ASSERT(!fuzz_has_break(name + 1, (size_t)(sep - name - 1)) &&
                !fuzz_has_break(sep + 1, (size_t)(name + len - sep - 1)),
                "a URL pattern's hub URL and pattern hold no CR, LF or NUL");
}

static void fuzz_check_req(const struct stream_req *r)
{
    char head[8192];
    struct stream_req_resp resp = { 0 };
    size_t n;

    FUZZ_ASSERT(r->n_channels <= STREAM_REQ_CHANNELS_MAX, "channel count");
    for (unsigned i = 0; i < r->n_channels; i++) {
        FUZZ_ASSERT((size_t)r->off[i] + r->len[i] < sizeof r->names &&
                    r->names[r->off[i] + r->len[i]] == '\0',
                    "a channel lies in names, NUL-terminated");
        fuzz_check_channel(r, i);
    }
    if (r->hub && r->has_resume && r->resume_len > 0) {
        FUZZ_ASSERT(r->resume_len <= STREAM_REQ_RESUME_MAX &&
                    !fuzz_has_break(r->resume, r->resume_len),
                    "a resume id fits and holds no CR, LF or NUL");
        resp.last_event_id = r->resume;
    }
    n = stream_req_head(head, sizeof head, &resp);
    FUZZ_ASSERT(n > 0, "the head fits");
    fuzz_check_head(head, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stream_req r;
    char *copy = malloc(size + 1), *field[FIELDS] = { NULL };
    const char *reason = NULL;
    size_t at = 0;
    int rc;

    FUZZ_ASSERT(copy != NULL, "malloc");
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (int i = 0; i < FIELDS && at <= size; i++) {
        field[i] = copy + at;
        at += strlen(copy + at) + 1;
    }
    rc = stream_req_parse(&r, &cfg, fuzz_get, field, &reason);
    if (rc == 0)
        fuzz_check_req(&r);
    else
        FUZZ_ASSERT((rc == 400 || rc == 405) && reason != NULL &&
                    reason[0] != '\0' && strchr(reason, '\n') == NULL &&
                    strchr(reason, '\r') == NULL,
                    "a refusal is 400 or 405 with a one-line reason");
    free(copy);
    return 0;
}
