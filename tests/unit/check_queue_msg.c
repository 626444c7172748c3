/* check_queue_msg.c -- Check suite "queue_msg": the one rule of a valid
 * message (queue_msg.h), row by row: each field's limits, what may not
 * go on an SSE line, the publisher ids that would collide with queue ids
 * or the resume keyword, and the one-line reasons that name the culprit. */
#include "queue/queue_msg.h"

#include <check.h>
#include <errno.h>
#include <string.h>
#include "unit_run.h"

static char big[QUEUE_TOPIC_MAX + 2];

/* One row: a field's value and whether the rule accepts it. */
struct qm_row {
    enum queue_msg_field field;
    const char *val;            /* NULL: big[0..len) */
    size_t len;                 /* 0 with val: strlen(val) */
    int want;                   /* 0 or -EINVAL */
};

static const struct qm_row qm_rows[] = {
    { QUEUE_MSG_CHANNEL, "chat", 0, 0 },
    { QUEUE_MSG_CHANNEL, "https://example.com/books/1", 0, 0 },
    { QUEUE_MSG_CHANNEL, "caf\xc3\xa9", 0, 0 },
    { QUEUE_MSG_CHANNEL, NULL, QUEUE_TOPIC_MAX, 0 },
    { QUEUE_MSG_CHANNEL, NULL, QUEUE_TOPIC_MAX + 1, -EINVAL },
    { QUEUE_MSG_CHANNEL, "a\nchannel: b", 0, -EINVAL },
    { QUEUE_MSG_CHANNEL, "a\rb", 0, -EINVAL },
    { QUEUE_MSG_CHANNEL, "a\0b", 3, -EINVAL },
    { QUEUE_MSG_CHANNEL, "\xff", 0, -EINVAL },
    { QUEUE_MSG_EVENT, "update", 0, 0 },
    { QUEUE_MSG_EVENT, NULL, 128, 0 },
    { QUEUE_MSG_EVENT, NULL, 129, -EINVAL },
    { QUEUE_MSG_EVENT, "message\ndata: {\"forged\":1}\nid: 1\n\nevent: m",
      0, -EINVAL },
    { QUEUE_MSG_EVENT, "a\r", 0, -EINVAL },
    { QUEUE_MSG_EVENT, "a\0", 2, -EINVAL },
    { QUEUE_MSG_EVENT, "\xc3", 0, -EINVAL },
    { QUEUE_MSG_PUB_ID, "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
      0, 0 },
    { QUEUE_MSG_PUB_ID, "https://example.com/updates/7", 0, 0 },
    { QUEUE_MSG_PUB_ID, "a1", 0, 0 },
    { QUEUE_MSG_PUB_ID, "earliest2", 0, 0 },
    { QUEUE_MSG_PUB_ID, NULL, QUEUE_MSG_ID_MAX, 0 },
    { QUEUE_MSG_PUB_ID, NULL, QUEUE_MSG_ID_MAX + 1, -EINVAL },
    { QUEUE_MSG_PUB_ID, "#1", 0, -EINVAL },
    { QUEUE_MSG_PUB_ID, "12345", 0, -EINVAL },
    { QUEUE_MSG_PUB_ID, "0", 0, -EINVAL },
    { QUEUE_MSG_PUB_ID, "earliest", 0, -EINVAL },
    { QUEUE_MSG_PUB_ID, "a\r\nSet-Cookie: x=1", 0, -EINVAL },
    { QUEUE_MSG_PUB_ID, "a\0", 2, -EINVAL },
    { QUEUE_MSG_PUB_ID, "\xe2\x82", 0, -EINVAL },
    { QUEUE_MSG_DATA, "", 0, 0 },
    { QUEUE_MSG_DATA, "two\nlines\r\n", 0, 0 },
    { QUEUE_MSG_DATA, "\xf0\x9f\x98\x80", 0, 0 },
    { QUEUE_MSG_DATA, "\xc0\xaf", 0, -EINVAL },
    { QUEUE_MSG_DATA, "abcdefgh\xc3\xa9 after a word of ASCII", 0, 0 },
    { QUEUE_MSG_DATA, "abcdefghijklmnop\xff", 0, -EINVAL },
    { QUEUE_MSG_DATA, "abcdefg\xe2\x82\xac split across words", 0, 0 },
};

/* A message on "c" with row r's value in its field. */
static struct queue_msg qm_msg(const struct qm_row *r)
{
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .data = "d", .data_len = 1 };
    const char *v = r->val ? r->val : big;
    size_t len = r->val && r->len == 0 ? strlen(r->val) : r->len;

    if (r->field == QUEUE_MSG_CHANNEL)
        m.channel = v, m.channel_len = len;
    else if (r->field == QUEUE_MSG_EVENT)
        m.event = v, m.event_len = len;
    else if (r->field == QUEUE_MSG_PUB_ID)
        m.pub_id = v, m.pub_id_len = len;
    else
        m.data = v, m.data_len = len;
    return m;
}

START_TEST(test_rows)
{
    const struct qm_row *r = &qm_rows[_i];
    struct queue_msg m;
    struct queue_msg_fault f;
    int rc;

    memset(big, 'a', sizeof(big));
    m = qm_msg(r);
    rc = queue_msg_check(&m, &f);
    ck_assert_msg(rc == r->want, "row %d (field %d): want %d, got %d", _i,
                  (int)r->field, r->want, rc);
    ck_assert_msg(rc == 0 ? f.field == QUEUE_MSG_VALID : f.field == r->field,
                  "row %d: the fault should name field %d, got %d", _i,
                  (int)r->field, (int)f.field);
}
END_TEST

/* The per-field checks agree with the whole-message check. */
START_TEST(test_field_checks)
{
    const struct qm_row *r = &qm_rows[_i];
    const char *v = r->val ? r->val : big;
    size_t len = r->val && r->len == 0 ? strlen(r->val) : r->len;
    int rc;

    memset(big, 'a', sizeof(big));
    rc = r->field == QUEUE_MSG_CHANNEL ? queue_msg_topic_check(v, len) :
         r->field == QUEUE_MSG_EVENT ? queue_msg_event_check(v, len) :
         r->field == QUEUE_MSG_PUB_ID ? queue_msg_pub_id_check(v, len) :
         queue_msg_data_check(v, len);
    ck_assert_msg(rc == r->want, "row %d: field check wants %d, got %d", _i,
                  r->want, rc);
}
END_TEST

START_TEST(test_alternates)
{
    const char *alt[QUEUE_TOPICS_MAX + 1];
    size_t alt_len[QUEUE_TOPICS_MAX + 1], i;
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .alt = alt, .alt_len = alt_len };
    struct queue_msg_fault f;

    for (i = 0; i <= QUEUE_TOPICS_MAX; i++)
        alt[i] = "t", alt_len[i] = 1;
    m.n_alt = QUEUE_TOPICS_MAX;
    ck_assert_int_eq(queue_msg_check(&m, &f), 0);
    m.n_alt = QUEUE_TOPICS_MAX + 1;
    ck_assert_int_eq(queue_msg_check(&m, &f), -EINVAL);
    ck_assert_msg(f.field == QUEUE_MSG_ALT && f.alt == m.n_alt,
                  "33 alternates: the fault is their count");
    m.n_alt = 3;
    alt[2] = "x\ny";
    alt_len[2] = 3;
    ck_assert_int_eq(queue_msg_check(&m, &f), -EINVAL);
    ck_assert_msg(f.field == QUEUE_MSG_ALT && f.alt == 2,
                  "the fault should name alternate 2, got %zu", f.alt);
    m.n_alt = 0;
    m.flags = 4;
    ck_assert_int_eq(queue_msg_check(&m, &f), -EINVAL);
    ck_assert_int_eq(f.field, QUEUE_MSG_FLAGS);
}
END_TEST

/* The reason quotes the culprit without its raw CR LF, and the rule. */
START_TEST(test_describe)
{
    struct queue_msg m = { .channel = "c", .channel_len = 1,
                           .pub_id = "a\r\nSet-Cookie: x",
                           .pub_id_len = 16 };
    struct queue_msg_fault f;
    char why[400];

    ck_assert_int_eq(queue_msg_check(&m, &f), -EINVAL);
    queue_msg_describe(&m, &f, why, sizeof(why));
    ck_assert_msg(strstr(why, "bad id \"a\\x0d\\x0aSet-Cookie: x\"") == why,
                  "the reason should quote the id, got: %s", why);
    ck_assert_msg(strchr(why, '\r') == NULL && strchr(why, '\n') == NULL,
                  "the reason should be one line");
    ck_assert_msg(strstr(why, queue_msg_rule(QUEUE_MSG_PUB_ID)) != NULL,
                  "the reason should state the rule: %s", why);
}
END_TEST

static Suite *queue_msg_suite(void)
{
    Suite *s = suite_create("queue_msg");
    TCase *core = tcase_create("core"), *limits = tcase_create("limits");
    int n = (int)(sizeof(qm_rows) / sizeof(*qm_rows));

    tcase_add_loop_test(core, test_rows, 0, n);
    tcase_add_loop_test(core, test_field_checks, 0, n);
    tcase_add_test(limits, test_alternates);
    tcase_add_test(limits, test_describe);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return unit_run(queue_msg_suite());
}
