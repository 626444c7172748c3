/* check_cluster_entry.c -- Check suite "cluster_entry": the bridge's path
 * from a Redis stream entry (RESP, read by hiredis's reader as XREAD's
 * reply is) to a queue record. Row by row: which entries are messages,
 * which are bad and why (a forged event type, a CR LF publisher id, an id
 * not <n>-0 or past the range), and that a bad entry's record cannot
 * enter a real queue even through queue_append_at directly. */
#include "cluster/cluster_entry.h"

#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "queue/queue_msg.h"
#include "unit_run.h"

#define CE_FIELDS_MAX 16

/* One entry: its id, its fields (name, value pairs; NULL ends), what
 * cluster_entry_parse returns and what its reason says. */
struct ce_row {
    const char *id;
    const char *f[CE_FIELDS_MAX];
    int want;
    const char *why;            /* in e->why for -EINVAL */
};

static const struct ce_row ce_rows[] = {
    { "100-0", { "c", "chat", "d", "hi", "t", "1" }, 0, NULL },
    { "101-0", { "c", "https://e.com/b/1", "d", "x", "e", "up", "i",
                 "urn:uuid:1", "r", "2500", "p", "1", "zz", "later" },
      0, NULL },
    { "102-0", { "c", "chat", "d", "x", "e",
                 "message\ndata: {\"forged\":1}\nid: 1\n\nevent: message" },
      -EINVAL, "bad event type \"message\\x0adata" },
    { "103-0", { "c", "chat", "d", "x", "i", "a\r\nSet-Cookie: x=1" },
      -EINVAL, "bad id \"a\\x0d\\x0aSet-Cookie" },
    { "104-0", { "c", "chat", "d", "x", "i", "12345" }, -EINVAL, "bad id" },
    { "104-5", { "c", "chat", "d", "x" }, -EINVAL, "id 104-5 is not" },
    { "18446744073709551615-0", { "c", "chat", "d", "x" }, -EINVAL,
      "id 18446744073709551615-0 is not" },
    { "9223372036854775808-0", { "c", "chat", "d", "x" }, -EINVAL,
      "is not one sseq writes" },
    { "0-1", { "c", "chat", "d", "x" }, -EINVAL, "is not one sseq" },
    { "105-0", { "x", "y" }, -EINVAL, "not an sseq message" },
    { "106-0", { "c", "a\nb", "d", "x" }, -EINVAL, "bad channel" },
    { "107-0", { "c", "chat", "d", "\xff" }, -EINVAL, "bad data" },
    { "108-0", { "c", "chat", "d", "x", "r", "99999999999" }, -EINVAL,
      "bad field r" },
    { "109-0", { "c", "chat", "d", "x", "a", "no-nul" }, -EINVAL,
      "bad field a" },
};

static redisReader *ce_reader;

/* Builds row r's XREAD entry as RESP and reads it back with hiredis. */
static redisReply *ce_reply(const struct ce_row *r)
{
    char buf[1024];
    size_t n, o;
    void *reply = NULL;

    for (n = 0; n < CE_FIELDS_MAX && r->f[n] != NULL; n++)
        ;
    o = (size_t)snprintf(buf, sizeof(buf), "*2\r\n$%zu\r\n%s\r\n*%zu\r\n",
                         strlen(r->id), r->id, n);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "$%zu\r\n%s\r\n",
                              strlen(r->f[i]), r->f[i]);
    ck_assert_msg(o < sizeof(buf), "row fits the buffer");
    ce_reader = redisReaderCreate();
    ck_assert_int_eq(redisReaderFeed(ce_reader, buf, o), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(ce_reader, &reply), REDIS_OK);
    ck_assert_ptr_nonnull(reply);
    return reply;
}

START_TEST(test_rows)
{
    const struct ce_row *r = &ce_rows[_i];
    redisReply *reply = ce_reply(r);
    struct cluster_entry e;
    int rc = cluster_entry_parse(reply, &e);

    ck_assert_msg(rc == r->want, "entry %s: want %d, got %d (%s)", r->id,
                  r->want, rc, e.why);
    ck_assert_msg(e.bad == (rc != 0), "entry %s: bad iff refused", r->id);
    if (r->why != NULL)
        ck_assert_msg(strstr(e.why, r->why) != NULL,
                      "entry %s: reason \"%s\" should say \"%s\"", r->id,
                      e.why, r->why);
    if (rc == 0)
        ck_assert_msg(queue_msg_check(&e.msg, NULL) == 0,
                      "entry %s: a message passes the queue's rule", r->id);
    freeReplyObject(reply);
    redisReaderFree(ce_reader);
}
END_TEST

START_TEST(test_mercure_fields)
{
    redisReply *reply = ce_reply(&ce_rows[1]);
    struct cluster_entry e;

    ck_assert_int_eq(cluster_entry_parse(reply, &e), 0);
    ck_assert_uint_eq(e.id, 101);
    ck_assert_uint_eq(e.msg.retry_ms, 2500);
    ck_assert_uint_eq(e.msg.flags, QUEUE_MSG_PRIVATE);
    ck_assert_msg(e.msg.pub_id_len == 10 &&
                  memcmp(e.msg.pub_id, "urn:uuid:1", 10) == 0,
                  "the publisher id is read");
    freeReplyObject(reply);
    redisReaderFree(ce_reader);
}
END_TEST

/* What a bad entry carries cannot enter a real queue, even if a caller
 * skipped cluster_entry_parse's verdict: queue_append_at applies the
 * same rule. A good one goes in at its id. */
START_TEST(test_queue_refuses_bad_records)
{
    struct queue_params p = { .size = 1u << 20, .mode = 0600 };
    struct queue *q;
    struct queue_stats st;
    struct cluster_entry e;
    char name[64];
    uint64_t oldest, next;
    int i;

    snprintf(name, sizeof(name), "/sseq-test-ce-%d", (int)getpid());
    ck_assert_int_eq(queue_create(name, &p, 1, &q), 0);
    queue_bounds(q, &oldest, &next);
    for (i = 2; i <= 4; i++) {
        redisReply *reply = ce_reply(&ce_rows[i]);

        ck_assert_int_eq(cluster_entry_parse(reply, &e), -EINVAL);
        ck_assert_msg(queue_append_at(q, &e.msg, next) == -EINVAL,
                      "row %d's record should be refused by the queue", i);
        freeReplyObject(reply);
        redisReaderFree(ce_reader);
    }
    queue_get_stats(q, &st);
    ck_assert_msg(st.appends == 0, "nothing entered the queue");
    {
        redisReply *reply = ce_reply(&ce_rows[0]);

        ck_assert_int_eq(cluster_entry_parse(reply, &e), 0);
        ck_assert_int_eq(queue_append_at(q, &e.msg, next + 1), 0);
        freeReplyObject(reply);
        redisReaderFree(ce_reader);
    }
    queue_close(q);
    queue_unlink(name);
}
END_TEST

static Suite *cluster_entry_suite(void)
{
    Suite *s = suite_create("cluster_entry");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");

    tcase_add_loop_test(core, test_rows, 0,
                        (int)(sizeof(ce_rows) / sizeof(ce_rows[0])));
    tcase_add_test(core, test_mercure_fields);
    tcase_add_test(errors, test_queue_refuses_bad_records);
    suite_add_tcase(s, core);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(cluster_entry_suite());
}
