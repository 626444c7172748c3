/* subscription.c -- the topic and document of a Mercure subscription
 * update (see subscription.h). Writers count what they would write and
 * store only what fits, so a caller sizes a buffer with cap 0 first. */
#include "ac_config.h"

#include <errno.h>
#include <string.h>

#include "mercure/subscription.h"
#include "base/json_out.h"

/* A bounded writer: n counts every byte, only those below cap land. */
struct sw {
    char *out;
    size_t cap, n;
};

/* Appends s[0..len). */
static void sw_put(struct sw *w, const char *s, size_t len)
{
    if (w->n < w->cap)
        memcpy(w->out + w->n, s, len < w->cap - w->n ? len : w->cap - w->n);
    w->n += len;
}

static void sw_str(struct sw *w, const char *s)
{
    sw_put(w, s, strlen(s));
}

/* Appends s[0..len) percent-encoded. */
static void sw_pct(struct sw *w, const char *s, size_t len)
{
    w->n += subscription_pct_encode(w->n < w->cap ? w->out + w->n : NULL,
                                    w->n < w->cap ? w->cap - w->n : 0,
                                    s, len);
}

/* Appends "s" as a JSON string (escaped, quoted). */
static void sw_json(struct sw *w, const char *s, size_t len)
{
    char buf[256];

    sw_put(w, "\"", 1);
    while (len > 0) {
        size_t chunk = len < sizeof(buf) / 6 ? len : sizeof(buf) / 6;

        sw_put(w, buf, json_escape(buf, s, chunk));
        s += chunk;
        len -= chunk;
    }
    sw_put(w, "\"", 1);
}

const char *subscription_match_name(enum subscription_match m)
{
    static const char *const names[SUBSCRIPTION_NMATCH] = {
        "exact", "urlpattern",
    };

    return (unsigned)m < SUBSCRIPTION_NMATCH ? names[m] : "exact";
}

int subscription_match_parse(const char *name, size_t len)
{
    for (int m = 0; m < SUBSCRIPTION_NMATCH; m++) {
        const char *n = subscription_match_name((enum subscription_match)m);

        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return m;
    }
    return -ENOENT;
}

/* Whether c is an RFC 3986 unreserved character. */
static bool subscription_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

size_t subscription_pct_encode(char *out, size_t cap, const char *s,
                               size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[3] = { (char)c, 0, 0 };
        size_t k = 1;

        if (!subscription_unreserved(c)) {
            e[0] = '%';
            e[1] = hex[c >> 4];
            e[2] = hex[c & 15];
            k = 3;
        }
        for (size_t j = 0; j < k; j++, n++)
            if (n < cap)
                out[n] = e[j];
    }
    return n;
}

void subscription_id(char out[SUBSCRIPTION_ID_MAX], const uint8_t rnd[16])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    char *p = out;

    memcpy(b, rnd, 16);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);     /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);     /* RFC 9562 variant */
    memcpy(p, "urn:uuid:", 9);
    p += 9;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

/* Writes the topic of s through w. */
static void subscription_topic_w(struct sw *w, const struct subscription *s)
{
    sw_str(w, SUBSCRIPTION_PATH "/");
    if (s->dialect == SUBSCRIPTION_V1) {
        sw_str(w, subscription_match_name(s->match));
        sw_put(w, "/", 1);
    }
    sw_pct(w, s->selector, s->selector_len);
    sw_put(w, "/", 1);
    sw_pct(w, s->subscriber, s->subscriber_len);
}

size_t subscription_topic(char *out, size_t cap, const struct subscription *s)
{
    struct sw w = { out, cap, 0 };

    subscription_topic_w(&w, s);
    return w.n;
}

size_t subscription_doc(char *out, size_t cap, const struct subscription *s,
                        bool active, unsigned flags,
                        const char *last_event_id)
{
    struct sw w = { out, cap, 0 };
    bool v1 = s->dialect == SUBSCRIPTION_V1;

    sw_put(&w, "{", 1);
    if (flags & SUBSCRIPTION_DOC_CONTEXT)
        sw_str(&w, "\"@context\":\"" SUBSCRIPTION_CONTEXT "\",");
    sw_str(&w, "\"id\":\"");
    subscription_topic_w(&w, s);    /* percent-encoded: nothing to escape */
    sw_str(&w, v1 ? "\",\"type\":\"subscription\",\"match_type\":\""
                  : "\",\"type\":\"Subscription\",\"topic\":");
    if (v1) {
        sw_str(&w, subscription_match_name(s->match));
        sw_str(&w, "\",\"match\":");
    }
    sw_json(&w, s->selector, s->selector_len);
    sw_str(&w, ",\"subscriber\":");
    sw_json(&w, s->subscriber, s->subscriber_len);
    sw_str(&w, active ? ",\"active\":true" : ",\"active\":false");
    if (s->payload != NULL) {
        sw_str(&w, ",\"payload\":");
        sw_put(&w, s->payload, s->payload_len);
    }
    if (last_event_id != NULL) {
        sw_str(&w, ",\"lastEventID\":");
        sw_json(&w, last_event_id, strlen(last_event_id));
    }
    sw_put(&w, "}", 1);
    return w.n;
}
