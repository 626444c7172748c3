/* check_sse.c -- the "sse" suite: the encoder keeps the WHATWG
 * "Server-sent events" rules (line splitting on LF, CRLF and CR, empty
 * data, id / event / retry / comment lines, no BOM), sse_event_size is
 * exact, sse_validate_field refuses what could inject fields, and the
 * "channel:" lines of tag=channel leave out a name that could.
 *
 * Besides byte-exact expectations, encoded events are decoded with a small
 * model of the browser's parser (the spec's algorithm) and compared with
 * what was sent. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sse.h"
#include "unit_run.h"

#define LIT(s) (s), (sizeof(s) - 1)
#define GUARD 16                /* sentinel bytes after each output */

/* Check records every passing ck_assert (a write(2) each); hot loops
 * assert through this instead, which only reports failures. */
#define REQUIRE(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

/* Encodes ev into a fresh buffer, checking the size contract and that
 * nothing is written past it; returns the NUL-terminated output. */
static char *encode(const struct sse_event *ev, size_t *len)
{
    size_t n = sse_event_size(ev), w;
    char *out = malloc(n + GUARD + 1);

    ck_assert_ptr_nonnull(out);
    memset(out, 0x5a, n + GUARD);
    w = sse_encode_event(out, ev);
    REQUIRE(w == n, "encode must write exactly sse_event_size bytes "
                  "(size %zu, wrote %zu)", n, w);
    for (size_t i = 0; i < GUARD; i++)
        REQUIRE(out[n + i] == 0x5a, "encode must not write past "
                      "sse_event_size");
    out[n] = '\0';
    if (len)
        *len = n;
    return out;
}

/* Checks that ev encodes to exactly want. */
static void expect(const struct sse_event *ev, const char *want,
                   const char *what)
{
    size_t n;
    char *got = encode(ev, &n);

    ck_assert_msg(n == strlen(want) && memcmp(got, want, n) == 0,
                  "%s must encode as \"%s\", got \"%s\"", what, want, got);
    free(got);
}

/* What a browser's EventSource dispatches for one event. */
struct decoded {
    char data[1 << 16];
    size_t data_len;
    char event[256];
    char id[64];
    int events;                 /* number of dispatched events */
};

/* Applies one "field: value" line (spec: "Processing a field"). */
static void decode_field(struct decoded *d, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    size_t flen = colon ? (size_t)(colon - line) : n;
    const char *v = colon ? colon + 1 : line + n;
    size_t vlen = (size_t)(line + n - v);

    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    if (flen == 4 && memcmp(line, "data", 4) == 0) {
        REQUIRE(d->data_len + vlen + 1 <= sizeof d->data,
                "the decoder model must not overflow");
        memcpy(d->data + d->data_len, v, vlen);
        d->data_len += vlen;
        d->data[d->data_len++] = '\n';
    } else if (flen == 5 && memcmp(line, "event", 5) == 0) {
        REQUIRE(vlen < sizeof d->event,
                "the decoder model must not overflow");
        memcpy(d->event, v, vlen);
        d->event[vlen] = '\0';
    } else if (flen == 2 && memcmp(line, "id", 2) == 0) {
        REQUIRE(vlen < sizeof d->id,
                "the decoder model must not overflow");
        memcpy(d->id, v, vlen);
        d->id[vlen] = '\0';
    }
}

/* Decodes one event stream as a browser does; stops at the first
 * dispatched event. */
static void decode(const char *s, size_t n, struct decoded *d)
{
    size_t i = 0;

    d->data_len = 0;
    d->event[0] = d->id[0] = '\0';
    d->events = 0;
    while (i < n && d->events == 0) {
        size_t j = i;

        while (j < n && s[j] != '\r' && s[j] != '\n')
            j++;
        REQUIRE(j < n, "every line must end with a line break");
        if (j == i) {
            d->events++;
            if (d->data_len)
                d->data_len--;          /* drop the last "\n" */
        } else if (s[i] != ':') {
            decode_field(d, s + i, j - i);
        }
        i = j + 1;
        if (s[j] == '\r' && i < n && s[i] == '\n')
            i++;
    }
    REQUIRE(i == n, "one event must be exactly one dispatch");
}

/* The data a browser must see for raw: every CRLF and CR becomes LF. */
static size_t normalize(const char *raw, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (raw[i] == '\r') {
            out[o++] = '\n';
            if (i + 1 < n && raw[i + 1] == '\n')
                i++;
        } else {
            out[o++] = raw[i];
        }
    }
    return o;
}

/* ---- core ---- */

START_TEST(test_simple_data)
{
    struct sse_event ev = { .data = "hello", .data_len = 5 };

    expect(&ev, "data: hello\n\n", "plain data");
}
END_TEST

START_TEST(test_id_and_event)
{
    struct sse_event ev = { .id = 1700000000000001ull, .event = "chat",
                            .event_len = 4, .data = "hi", .data_len = 2 };

    expect(&ev, "id: 1700000000000001\nevent: chat\ndata: hi\n\n",
           "id + event + data");
    ev.id = 0;
    expect(&ev, "event: chat\ndata: hi\n\n", "id 0 (no id line)");
    ev.id = 7;
    ev.event_len = 0;
    expect(&ev, "id: 7\ndata: hi\n\n", "no event type");
}
END_TEST

/* tag=channel: a "channel:" line for the channel and each alternate. */
START_TEST(test_channel_lines)
{
    struct sse_event ev = { .id = 9, .event = "t", .event_len = 1,
                            .data = "x", .data_len = 1,
                            .channel = "chat.a", .channel_len = 6 };

    expect(&ev, "id: 9\nevent: t\nchannel: chat.a\ndata: x\n\n",
           "a channel line after the event line");
    ev.alt = "b\0urn:c\0";
    ev.alt_len = 9;
    expect(&ev, "id: 9\nevent: t\nchannel: chat.a\nchannel: b\n"
           "channel: urn:c\ndata: x\n\n", "one line per alternate");
    ev.channel_len = 0;
    expect(&ev, "id: 9\nevent: t\ndata: x\n\n",
           "no channel: no channel lines (alternates ignored)");
}
END_TEST

START_TEST(test_lf_lines)
{
    struct sse_event ev = { .data = "a\nb\nc", .data_len = 5 };

    expect(&ev, "data: a\ndata: b\ndata: c\n\n", "LF-separated lines");
}
END_TEST

START_TEST(test_crlf_lines)
{
    struct sse_event ev = { .data = "a\r\nb\r\nc", .data_len = 7 };

    expect(&ev, "data: a\ndata: b\ndata: c\n\n",
           "CRLF-separated lines (one break each)");
}
END_TEST

START_TEST(test_cr_lines)
{
    struct sse_event ev = { .data = "a\rb\rc", .data_len = 5 };

    expect(&ev, "data: a\ndata: b\ndata: c\n\n", "CR-separated lines");
}
END_TEST

START_TEST(test_mixed_breaks)
{
    struct sse_event ev = { 0 };

    ev.data = "a\n\rb";
    ev.data_len = 4;
    expect(&ev, "data: a\ndata:\ndata: b\n\n",
           "LF then CR (two breaks, not one)");
    ev.data = "a\r\r\nb";
    ev.data_len = 5;
    expect(&ev, "data: a\ndata:\ndata: b\n\n", "CR then CRLF");
}
END_TEST

START_TEST(test_trailing_newline)
{
    struct sse_event ev = { .data = "a\n", .data_len = 2 };

    expect(&ev, "data: a\ndata:\n\n",
           "\"a\\n\" (the lines \"a\" and \"\")");
    ev.data = "a\r\n";
    ev.data_len = 3;
    expect(&ev, "data: a\ndata:\n\n", "\"a\\r\\n\"");
    ev.data = "a\r";
    ev.data_len = 2;
    expect(&ev, "data: a\ndata:\n\n", "\"a\\r\"");
}
END_TEST

START_TEST(test_empty_data)
{
    struct sse_event ev = { .data = "", .data_len = 0 };

    expect(&ev, "data:\n\n", "empty data (one data: line)");
    ev.data = NULL;
    expect(&ev, "data:\n\n", "NULL data of length 0");
    ev.data = "\n";
    ev.data_len = 1;
    expect(&ev, "data:\ndata:\n\n", "a lone LF (two empty lines)");
}
END_TEST

START_TEST(test_leading_space_kept)
{
    struct sse_event ev = { .data = " x\n  y", .data_len = 6 };
    struct decoded d;
    size_t n;
    char *out;

    expect(&ev, "data:  x\ndata:   y\n\n",
           "lines starting with spaces (prefix keeps them)");
    out = encode(&ev, &n);
    decode(out, n, &d);
    ck_assert_msg(d.data_len == 6 && memcmp(d.data, " x\n  y", 6) == 0,
                  "a browser must see the leading spaces");
    free(out);
}
END_TEST

START_TEST(test_field_like_data)
{
    struct sse_event ev = { 0 };
    struct decoded d;
    size_t n;
    char *out;

    ev.data = "x\nevent: evil\nid: 666\n\ndata: y";
    ev.data_len = strlen(ev.data);
    out = encode(&ev, &n);
    decode(out, n, &d);
    ck_assert_msg(d.events == 1 && d.event[0] == '\0' && d.id[0] == '\0',
                  "field lines inside data must stay data (one event, no "
                  "event type, no id)");
    ck_assert_msg(d.data_len == ev.data_len &&
                  memcmp(d.data, ev.data, d.data_len) == 0,
                  "the data must arrive unchanged");
    free(out);
}
END_TEST

/* A text id (the hub's publisher id) replaces the number; a text id
 * that would break its line falls back to the number; retry has its
 * line after the id. */
START_TEST(test_id_text_and_retry)
{
    struct sse_event ev = { .id = 7, .id_text = "urn:x:1",
                            .id_text_len = 7, .retry_ms = 2500,
                            .data = "d", .data_len = 1 };

    expect(&ev, "id: urn:x:1\nretry: 2500\ndata: d\n\n",
           "a text id with retry");
    ev.id_text = "a\nid: 9";
    ev.id_text_len = 7;
    expect(&ev, "id: 7\nretry: 2500\ndata: d\n\n",
           "a text id with LF (falls back to the number)");
    ev.id_text = NULL;
    ev.id_text_len = 0;
    ev.retry_ms = 0;
    expect(&ev, "id: 7\ndata: d\n\n", "no retry");
}
END_TEST

START_TEST(test_retry)
{
    char out[32];
    size_t n;

    n = sse_encode_retry(out, 3000);
    ck_assert_msg(n == 13 && memcmp(out, "retry: 3000\n\n", n) == 0,
                  "retry must encode as \"retry: 3000\\n\\n\"");
    n = sse_encode_retry(out, 0);
    ck_assert_msg(n == 10 && memcmp(out, "retry: 0\n\n", n) == 0,
                  "retry 0 must encode as \"retry: 0\\n\\n\"");
}
END_TEST

START_TEST(test_validate_ok)
{
    ck_assert_msg(sse_validate_field(LIT("message")) == 0,
                  "\"message\" must be a valid event type");
    ck_assert_msg(sse_validate_field(LIT("user:joined")) == 0,
                  "a colon must be allowed in an event type");
    ck_assert_msg(sse_validate_field(LIT("caf\xc3\xa9 \xe2\x82\xac")) == 0,
                  "UTF-8 and spaces must be allowed in an event type");
}
END_TEST

/* No byte-order mark is ever emitted: not at the start of an event, not
 * in comments or retry lines. */
START_TEST(test_no_bom)
{
    struct sse_event ev = { .id = 1, .event = "e", .event_len = 1,
                            .data = "x", .data_len = 1 };
    char buf[64];
    char *out = encode(&ev, NULL);

    ck_assert_msg(strstr(out, "\xef\xbb\xbf") == NULL,
                  "an event must contain no BOM");
    ck_assert_msg(out[0] == 'i', "an event must start with its first field");
    free(out);
    ck_assert_msg(strcmp(SSE_HEARTBEAT, ":\n\n") == 0,
                  "the heartbeat must be an empty comment");
    sse_encode_retry(buf, 1);
    ck_assert_msg(buf[0] == 'r', "retry must start with \"retry\"");
}
END_TEST

/* ---- limits ---- */

START_TEST(test_validate_limits)
{
    char max[SSE_EVENT_MAX + 1];

    memset(max, 'e', sizeof max);
    ck_assert_msg(sse_validate_field(max, SSE_EVENT_MAX) == 0,
                  "an event type of SSE_EVENT_MAX bytes must be valid");
    ck_assert_msg(sse_validate_field(max, SSE_EVENT_MAX + 1) == -EINVAL,
                  "an event type of SSE_EVENT_MAX + 1 bytes must be refused");
    ck_assert_msg(sse_validate_field(LIT("x")) == 0,
                  "a one-byte event type must be valid");
}
END_TEST

START_TEST(test_id_limits)
{
    struct sse_event ev = { .id = UINT64_MAX, .data = "d", .data_len = 1 };

    expect(&ev, "id: 18446744073709551615\ndata: d\n\n", "id UINT64_MAX");
    ev.id = 1;
    expect(&ev, "id: 1\ndata: d\n\n", "id 1");
    ev.id = 10;
    expect(&ev, "id: 10\ndata: d\n\n", "id 10");
}
END_TEST

START_TEST(test_retry_limits)
{
    char out[32];
    size_t n = sse_encode_retry(out, 4294967295u);

    ck_assert_msg(n == 19 && memcmp(out, "retry: 4294967295\n\n", n) == 0,
                  "UINT_MAX retry must fit in 32 bytes as digits only");
}
END_TEST

START_TEST(test_large_data)
{
    size_t len = 1 << 20;
    char *data = malloc(len), *out;
    struct sse_event ev = { .data = data, .data_len = len };
    size_t n;

    ck_assert_ptr_nonnull(data);
    memset(data, 'x', len);
    out = encode(&ev, &n);
    ck_assert_msg(n == len + 8, "1 MiB of data without breaks must be one "
                  "data: line (len + 8 bytes)");
    free(out);
    memset(data, '\r', len);
    out = encode(&ev, &n);
    ck_assert_msg(n == (len + 1) * 6 + 1, "1 MiB of CRs must be len + 1 "
                  "empty data: lines");
    free(out);
    free(data);
}
END_TEST

/* Many random events, with data rich in CR, LF and CRLF: the size is
 * exact, nothing is written past it, and a browser gets back the data
 * (breaks normalised to LF), the event type and the id. */
START_TEST(test_size_exact_random)
{
    static const char alphabet[] = "\r\n\r\n\ra b:\xc3\xa9";
    char data[512], want[512], event[SSE_EVENT_MAX], id[32];
    struct decoded *d = malloc(sizeof *d);

    ck_assert_ptr_nonnull(d);
    srand(4242);
    for (int iter = 0; iter < 20000; iter++) {
        struct sse_event ev = { 0 };
        size_t n, wn;
        char *out;

        ev.data_len = (size_t)rand() % (iter % 10 == 0 ? 4 : sizeof data);
        for (size_t i = 0; i < ev.data_len; i++)
            data[i] = alphabet[(size_t)rand() % (sizeof alphabet - 1)];
        ev.data = data;
        ev.id = (rand() & 1) ? ((uint64_t)rand() << 31 | (uint64_t)rand())
                              : 0;
        ev.event_len = (size_t)rand() % 3 ? 0 :
                       1 + (size_t)rand() % SSE_EVENT_MAX;
        memset(event, 'e', sizeof event);
        ev.event = event;
        out = encode(&ev, &n);
        decode(out, n, d);
        wn = normalize(data, ev.data_len, want);
        REQUIRE(d->data_len == wn && memcmp(d->data, want, wn) == 0,
                      "a browser must get the data back (iteration %d)",
                      iter);
        REQUIRE(strlen(d->event) == ev.event_len,
                      "a browser must get the event type back");
        snprintf(id, sizeof id, "%llu", (unsigned long long)ev.id);
        REQUIRE(strcmp(d->id, ev.id ? id : "") == 0,
                      "a browser must get the id back");
        free(out);
    }
    free(d);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_validate_refuses)
{
    static const struct { const char *s; size_t n; const char *why; } bad[] = {
        { LIT("a\nb"), "LF" },
        { LIT("a\rb"), "CR" },
        { LIT("a\r\nevent: x"), "CRLF" },
        { LIT("\n"), "a lone LF" },
        { LIT("ab\n"), "a trailing LF" },
        { "a\0b", 3, "NUL" },
        { LIT("\xc3"), "truncated UTF-8" },
        { LIT("\xc0\xba"), "overlong UTF-8" },
        { LIT("\xed\xa0\x80"), "a UTF-16 surrogate" },
        { LIT("\xff"), "byte FF" },
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(sse_validate_field(bad[i].s, bad[i].n) == -EINVAL,
                      "an event type or id with %s must be refused",
                      bad[i].why);
    ck_assert_msg(sse_validate_field("", 0) == -EINVAL,
                  "an empty event type must be refused");
    ck_assert_msg(sse_validate_field(NULL, 0) == -EINVAL,
                  "a NULL event type must be refused");
}
END_TEST

/* A name with CR, LF or NUL (a Mercure topic may have them; a channel
 * name never: config_channel_valid) is left out, never split. */
START_TEST(test_channel_cannot_inject)
{
    static const struct { const char *s; size_t n; } bad[] = {
        { LIT("a\ndata: evil") }, { LIT("a\rid: 1") }, { LIT("a\r\n") },
        { "a\0b", 3 }, { LIT("\n") },
    };
    struct sse_event ev = { .id = 3, .data = "x", .data_len = 1,
                            .alt = "ok\0", .alt_len = 3 };
    struct decoded d;
    size_t n;
    char *got;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ev.channel = bad[i].s;
        ev.channel_len = bad[i].n;
        ck_assert_msg(!sse_channel_ok(ev.channel, ev.channel_len),
                      "channel name %zu must be refused", i);
        got = encode(&ev, &n);
        ck_assert_msg(strcmp(got, "id: 3\nchannel: ok\ndata: x\n\n") == 0,
                      "a bad channel name %zu must be left out, got \"%s\"",
                      i, got);
        decode(got, n, &d);
        ck_assert_msg(strcmp(d.id, "3") == 0 && d.data_len == 1 &&
                      d.data[0] == 'x' && d.events == 1,
                      "the event must decode unchanged");
        free(got);
    }
    ck_assert_msg(sse_channel_ok(LIT("chat.room-1:x")) &&
                  !sse_channel_ok(LIT("")),
                  "a plain name passes, an empty one does not");
}
END_TEST

static Suite *sse_suite(void)
{
    Suite *s = suite_create("sse");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_test(core, test_simple_data);
    tcase_add_test(core, test_id_and_event);
    tcase_add_test(core, test_channel_lines);
    tcase_add_test(core, test_lf_lines);
    tcase_add_test(core, test_crlf_lines);
    tcase_add_test(core, test_cr_lines);
    tcase_add_test(core, test_mixed_breaks);
    tcase_add_test(core, test_trailing_newline);
    tcase_add_test(core, test_empty_data);
    tcase_add_test(core, test_leading_space_kept);
    tcase_add_test(core, test_field_like_data);
    tcase_add_test(core, test_retry);
    tcase_add_test(core, test_id_text_and_retry);
    tcase_add_test(core, test_validate_ok);
    tcase_add_test(core, test_no_bom);
    suite_add_tcase(s, core);
    tcase_add_test(limits, test_validate_limits);
    tcase_add_test(limits, test_id_limits);
    tcase_add_test(limits, test_retry_limits);
    tcase_add_test(limits, test_large_data);
    tcase_add_test(limits, test_size_exact_random);
    tcase_set_timeout(limits, 60);
    suite_add_tcase(s, limits);
    tcase_add_test(errors, test_validate_refuses);
    tcase_add_test(errors, test_channel_cannot_inject);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(sse_suite());
}
