/* check_cluster_sentinel.c -- Check suite "cluster_sentinel": what a
 * sentinel answers to get-master-addr-by-name and what a node answers to
 * ROLE, as RESP text read by hiredis, against what sseq takes from them
 * (Redis is not trusted), and the replicas a master's ROLE lists.
 * Table-driven. */
#include "cluster/cluster_sentinel.h"

#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <string.h>
#include "unit_run.h"

/* A get-master-addr-by-name reply and what it must give. */
static const struct addr_row {
    const char *resp;
    int rc;
    const char *host;
    int port;
} addr_rows[] = {
    { "*2\r\n$8\r\n10.0.0.5\r\n$4\r\n6379\r\n", 0, "10.0.0.5", 6379 },
    { "*2\r\n$7\r\nfe80::1\r\n$5\r\n65535\r\n", 0, "fe80::1", 65535 },
    { "*2\r\n$9\r\nredis-1.b\r\n$1\r\n1\r\n", 0, "redis-1.b", 1 },
    { "*-1\r\n", -ENOENT, NULL, 0 },
    { "$-1\r\n", -ENOENT, NULL, 0 },
    { "*1\r\n$1\r\nh\r\n", -EPROTO, NULL, 0 },
    { "*3\r\n$1\r\nh\r\n$1\r\n1\r\n$1\r\n1\r\n", -EPROTO, NULL, 0 },
    { "*2\r\n$1\r\nh\r\n$1\r\n0\r\n", -EPROTO, NULL, 0 },
    { "*2\r\n$1\r\nh\r\n$5\r\n65536\r\n", -EPROTO, NULL, 0 },
    { "*2\r\n$1\r\nh\r\n$2\r\n-1\r\n", -EPROTO, NULL, 0 },
    { "*2\r\n$1\r\nh\r\n:6379\r\n", -EPROTO, NULL, 0 },
    { "*2\r\n$0\r\n\r\n$4\r\n6379\r\n", -EPROTO, NULL, 0 },
    { "*2\r\n$3\r\nh h\r\n$4\r\n6379\r\n", -EPROTO, NULL, 0 },
    { "*2\r\n$3\r\nh\0h\r\n$4\r\n6379\r\n", -EPROTO, NULL, 0 },
    { "*2\r\n$3\r\nh/x\r\n$4\r\n6379\r\n", -EPROTO, NULL, 0 },
    { "*2\r\n$1\r\nh\r\n$9\r\n000006379\r\n", -EPROTO, NULL, 0 },
    { "+OK\r\n", -EPROTO, NULL, 0 },
};

/* A ROLE reply and the replicas it lists if a master's (-1: not). */
static const struct role_row {
    const char *resp;
    int replicas;
} role_rows[] = {
    { "*3\r\n$6\r\nmaster\r\n:3129659\r\n*0\r\n", 0 },
    { "*3\r\n$6\r\nmaster\r\n:3129659\r\n*2\r\n"
      "*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9001\r\n$7\r\n3129242\r\n"
      "*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9002\r\n$7\r\n3129543\r\n",
      2 },
    { "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:9839\r\n"
      "$9\r\nconnected\r\n:3167038\r\n", -1 },
    { "*2\r\n$8\r\nsentinel\r\n*0\r\n", -1 },
    { "*0\r\n", -1 },
    { "$6\r\nmaster\r\n", -1 },
    { "*1\r\n:1\r\n", -1 },
    { "*2\r\n$6\r\nmaster\r\n:1\r\n", -1 },
    { "*3\r\n$6\r\nmaster\r\n:1\r\n:2\r\n", -1 },
};

/* An error reply of a sentinel, what it means, and a part of the reason
 * (NULL: none; Redis's own text is shown). */
static const struct err_row {
    const char *resp;
    int rc;
    const char *why;
} err_rows[] = {
    { "+OK\r\n", 0, NULL },
    { "-NOAUTH Authentication required.\r\n", -EACCES,
      "?sentinel_password=" },
    { "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
      -EACCES, "refused the URL's sentinel_password" },
    { "-ERR invalid password\r\n", -EACCES, "refused" },
    { "-ERR AUTH <password> called without any password configured for "
      "the default user. Are you sure your configuration is correct?\r\n",
      -EACCES, "has none (requirepass)" },
    { "-ERR No such master with that name\r\n", -EIO, NULL },
};

static redisReader *rd;

/* Reads one reply of RESP text (n bytes). */
static redisReply *resp_read(const char *text, size_t n)
{
    void *reply = NULL;

    rd = redisReaderCreate();
    ck_assert_int_eq(redisReaderFeed(rd, text, n), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(rd, &reply), REDIS_OK);
    ck_assert_ptr_nonnull(reply);
    return reply;
}

/* The RESP text's length: rows may hold a NUL inside a bulk string, so
 * the length is up to the last "\r\n" the row's own length allows. */
static size_t resp_len(const char *text)
{
    size_t n = strlen(text);

    if (strncmp(text, "*2\r\n$3\r\nh", 9) == 0 && text[9] == '\0')
        n = sizeof("*2\r\n$3\r\nh\0h\r\n$4\r\n6379\r\n") - 1;
    return n;
}

START_TEST(test_addr)
{
    const struct addr_row *t = &addr_rows[_i];
    redisReply *r = resp_read(t->resp, resp_len(t->resp));
    struct cluster_addr a = { "unchanged", 7 };
    const char *why = NULL;
    int rc = cluster_sentinel_addr(r, &a, &why);

    ck_assert_msg(rc == t->rc, "row %d: rc %d, want %d", _i, rc, t->rc);
    if (rc == 0) {
        ck_assert_str_eq(a.host, t->host);
        ck_assert_int_eq(a.port, t->port);
    } else {
        ck_assert_msg(why != NULL && why[0] != '\0', "a refusal says why");
        ck_assert_str_eq(a.host, "unchanged");
    }
    freeReplyObject(r);
    redisReaderFree(rd);
}
END_TEST

START_TEST(test_role)
{
    const struct role_row *t = &role_rows[_i];
    redisReply *r = resp_read(t->resp, strlen(t->resp));

    ck_assert_msg(cluster_sentinel_master_replicas(r) == t->replicas,
                  "row %d: %d replicas, want %d", _i,
                  cluster_sentinel_master_replicas(r), t->replicas);
    freeReplyObject(r);
    redisReaderFree(rd);
}
END_TEST

START_TEST(test_error)
{
    const struct err_row *t = &err_rows[_i];
    redisReply *r = resp_read(t->resp, strlen(t->resp));
    const char *why = "unset";
    int rc = cluster_sentinel_error(r, &why);

    ck_assert_msg(rc == t->rc, "row %d: %d, want %d", _i, rc, t->rc);
    if (t->rc == -EIO)
        ck_assert_msg(why == NULL, "row %d: Redis's own text", _i);
    else if (t->why != NULL)
        ck_assert_msg(why != NULL && strstr(why, t->why) != NULL,
                      "row %d: reason \"%s\" says \"%s\"", _i,
                      why ? why : "(null)", t->why);
    freeReplyObject(r);
    redisReaderFree(rd);
}
END_TEST

START_TEST(test_ask_none_answers)
{
    struct cluster_url u = { .n_sentinels = 1, .master = "m" };
    struct cluster_addr a;
    char why[256];

    strcpy(u.sentinel[0].host, "127.0.0.1");
    u.sentinel[0].port = 1;     /* nothing listens on port 1 */
    ck_assert_int_eq(cluster_sentinel_ask(&u, 500, &a, why, sizeof(why)),
                     -ENOTCONN);
    ck_assert_msg(strstr(why, "sentinel 127.0.0.1:1") != NULL,
                  "the reason names the sentinel: %s", why);
}
END_TEST

static Suite *cluster_sentinel_suite(void)
{
    Suite *s = suite_create("cluster_sentinel");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");

    tcase_add_loop_test(core, test_addr, 0,
                        (int)(sizeof(addr_rows) / sizeof(addr_rows[0])));
    tcase_add_loop_test(core, test_role, 0,
                        (int)(sizeof(role_rows) / sizeof(role_rows[0])));
    suite_add_tcase(s, core);
    tcase_add_loop_test(errors, test_error, 0,
                        (int)(sizeof(err_rows) / sizeof(err_rows[0])));
    tcase_add_test(errors, test_ask_none_answers);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(cluster_sentinel_suite());
}
