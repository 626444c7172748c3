/* check_cluster_url.c -- Check suite "cluster_url": the cluster.redis URL
 * forms (TCP, IPv6, unix socket, Sentinel, credentials, database), the
 * refusals,
 * and the redacted form that hides the password. Table-driven. */
#include "proto/cluster_url.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include "unit_run.h"

/* One URL that parses and what it must give. */
static const struct url_ok {
    const char *url, *host, *path, *user, *password;
    int port;
    unsigned db;
} url_oks[] = {
    { "redis://127.0.0.1", "127.0.0.1", "", "", "", 6379, 0 },
    { "redis://localhost:6380/2", "localhost", "", "", "", 6380, 2 },
    { "redis://:s3cret@h:1", "h", "", "", "s3cret", 1, 0 },
    { "redis://app:p@ss/w@r.example:7000/15", "r.example", "", "app",
      "p@ss/w", 7000, 15 },
    { "redis://[::1]:6379", "::1", "", "", "", 6379, 0 },
    { "redis://[::1]", "::1", "", "", "", 6379, 0 },
    { "redis://h/", "h", "", "", "", 6379, 0 },
    { "unix:///run/redis/redis.sock", "", "/run/redis/redis.sock", "", "",
      6379, 0 },
    { "unix://:pw@/tmp/r.sock?db=3", "", "/tmp/r.sock", "", "pw", 6379, 3 },
    { "unix://u:pw@/tmp/r.sock", "", "/tmp/r.sock", "u", "pw", 6379, 0 },
    { "redis://:pa?ss@h", "h", "", "", "pa?ss", 6379, 0 },
    { "redis://u:a?b=c#d@h:2/1", "h", "", "u", "a?b=c#d", 2, 1 },
    { "unix://:se?cret@/tmp/r.sock?db=1", "", "/tmp/r.sock", "", "se?cret",
      6379, 1 },
    { "unix://:a@b@/tmp/r.sock", "", "/tmp/r.sock", "", "a@b", 6379, 0 },
};

/* A Sentinel URL that parses: its sentinels as "h:p,h:p", the master's
 * name, password and database, and the sentinels' password (NULL: ""). */
static const struct url_sent {
    const char *url, *list, *master, *password;
    unsigned db;
    const char *sentinel_password;
} url_sents[] = {
    { "redis+sentinel://h1/m", "h1:26379", "m", "", 0, NULL },
    { "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380,[::1]/my-master.1",
      "10.0.0.1:26379,10.0.0.2:26380,::1:26379", "my-master.1", "", 0,
      NULL },
    { "redis+sentinel://:p@ss,w@a:1,b:2/m/3", "a:1,b:2", "m", "p@ss,w", 3,
      NULL },
    { "redis+sentinel://1,2,3,4,5,6,7,8/m", "1:26379,2:26379,3:26379,"
      "4:26379,5:26379,6:26379,7:26379,8:26379", "m", "", 0, NULL },
    { "redis+sentinel://a,b/m?sentinel_password=s3", "a:26379,b:26379", "m",
      "", 0, "s3" },
    { "redis+sentinel://:mpw@a:1/m/2?sentinel_password=s@x/y?z", "a:1", "m",
      "mpw", 2, "s@x/y?z" },
    { "redis+sentinel://:p?sentinel_password=q@h/m?sentinel_password=r",
      "h:26379", "m", "p?sentinel_password=q", 0, "r" },
    { "redis+sentinel://h/m?sentinel_password=?sentinel_password=",
      "h:26379", "m", "", 0, "?sentinel_password=" },
};

static const char *const url_bads[] = {
    "", "http://h", "redis://", "redis://h:0", "redis://h:65536",
    "redis://h:x", "redis://h/db", "redis://pw@h", "redis://[::1",
    "redis://h h", "unix://", "unix://relative", "unix:///s?x=1",
    "redis://h:6379/70000",
    "redis+sentinel://h", "redis+sentinel://h/", "redis+sentinel:///m",
    "redis+sentinel://h,/m", "redis+sentinel://,h/m", "redis+sentinel://h:0/m",
    "redis+sentinel://h/m m", "redis+sentinel://h/m/x",
    "redis+sentinel://1,2,3,4,5,6,7,8,9/m",
    "redis+sentinel://h/12345678901234567890123456789012345678901234567890"
    "123456789012345",
    "redis+sentinel://h/m?sentinel_password=", "redis+sentinel://h/m?pw=x",
    "redis+sentinel://h/m/x?sentinel_password=y",
    "redis://h?sentinel_password=x",
};

/* A URL and its redacted form. */
static const struct url_red {
    const char *url, *shown;
} url_reds[] = {
    { "redis://h:1/0", "redis://h:1/0" },
    { "redis://:s3cret@h:1", "redis://:***@h:1" },
    { "redis://app:p@ss@h", "redis://app:***@h" },
    { "unix://:pw@/tmp/r.sock?db=3", "unix://:***@/tmp/r.sock?db=3" },
    { "redis://:pa?ss@h", "redis://:***@h" },
    { "redis://u:x?y@h:1/2", "redis://u:***@h:1/2" },
    { "unix://:se?cret@/tmp/r.sock?db=1", "unix://:***@/tmp/r.sock?db=1" },
    { "redis://hunter2@h", "redis://***@h" },
    { "redis://:pw@h:99999", "redis://:***@h:99999" },
    { "redis+sentinel://:pw@a:1,b/m/2", "redis+sentinel://:***@a:1,b/m/2" },
    { "redis+sentinel://a,b/m", "redis+sentinel://a,b/m" },
    { "redis+sentinel://:pw@a/m/1?sentinel_password=s@x/y",
      "redis+sentinel://:***@a/m/1?sentinel_password=***" },
    { "redis+sentinel://a/m?sentinel_password=top",
      "redis+sentinel://a/m?sentinel_password=***" },
    { "redis+sentinel://a/m m?sentinel_password=top",
      "redis+sentinel://***" },
};

START_TEST(test_url_ok)
{
    const struct url_ok *t = &url_oks[_i];
    struct cluster_url u;
    const char *why;
    int rc = cluster_url_parse(t->url, &u, &why);

    ck_assert_msg(rc == 0, "%s should parse, got: %s", t->url, why);
    ck_assert_str_eq(u.host, t->host);
    ck_assert_str_eq(u.path, t->path);
    ck_assert_str_eq(u.user, t->user);
    ck_assert_str_eq(u.password, t->password);
    ck_assert_int_eq(u.port, t->port);
    ck_assert_uint_eq(u.db, t->db);
}
END_TEST

START_TEST(test_url_sentinel)
{
    const struct url_sent *t = &url_sents[_i];
    struct cluster_url u;
    char list[512] = "";
    const char *why;
    unsigned k;

    ck_assert_msg(cluster_url_parse(t->url, &u, &why) == 0,
                  "%s should parse, got: %s", t->url, why);
    for (k = 0; k < u.n_sentinels; k++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list),
                 "%s%s:%d", k ? "," : "", u.sentinel[k].host,
                 u.sentinel[k].port);
    ck_assert_str_eq(list, t->list);
    ck_assert_str_eq(u.master, t->master);
    ck_assert_str_eq(u.password, t->password);
    ck_assert_uint_eq(u.db, t->db);
    ck_assert_str_eq(u.host, "");
    ck_assert_str_eq(u.sentinel_password,
                     t->sentinel_password ? t->sentinel_password : "");
}
END_TEST

START_TEST(test_url_bad)
{
    struct cluster_url u;
    const char *why = NULL;

    ck_assert_msg(cluster_url_parse(url_bads[_i], &u, &why) < 0,
                  "\"%s\" should be refused", url_bads[_i]);
    ck_assert_msg(why != NULL && why[0] != '\0', "a refusal gives a reason");
}
END_TEST

START_TEST(test_url_bad_hides_password)
{
    struct cluster_url u;
    const char *why;

    ck_assert(cluster_url_parse("redis://:hunter2@h:99999", &u, &why) < 0);
    ck_assert_msg(strstr(why, "hunter2") == NULL,
                  "the reason must not quote the password");
}
END_TEST

/* Neither password of a parsed Sentinel URL shows in its redacted form. */
START_TEST(test_url_redact_hides_sentinel)
{
    const struct url_sent *t = &url_sents[_i];
    char out[256];

    cluster_url_redact(t->url, out, sizeof(out));
    ck_assert_msg(t->password[0] == '\0' || strstr(out, t->password) == NULL,
                  "%s: master password shown in \"%s\"", t->url, out);
    ck_assert_msg(t->sentinel_password == NULL ||
                  strstr(out, "sentinel_password=***") != NULL,
                  "%s: sentinel password shown in \"%s\"", t->url, out);
}
END_TEST

/* Every password the parser reads is absent from the redacted form. */
START_TEST(test_url_redact_hides_parsed)
{
    const struct url_ok *t = &url_oks[_i];
    char out[256];

    cluster_url_redact(t->url, out, sizeof(out));
    if (t->password[0] != '\0')
        ck_assert_msg(strstr(out, t->password) == NULL &&
                      strstr(out, ":***@") != NULL,
                      "%s: password \"%s\" shown in \"%s\"", t->url,
                      t->password, out);
    else
        ck_assert_str_eq(out, t->url);
}
END_TEST

START_TEST(test_url_redact)
{
    char out[256];

    ck_assert_str_eq(cluster_url_redact(url_reds[_i].url, out, sizeof(out)),
                     url_reds[_i].shown);
}
END_TEST

static Suite *cluster_url_suite(void)
{
    Suite *s = suite_create("cluster_url");
    TCase *core = tcase_create("core"), *errors = tcase_create("errors");

    tcase_add_loop_test(core, test_url_ok, 0,
                        (int)(sizeof(url_oks) / sizeof(url_oks[0])));
    tcase_add_loop_test(core, test_url_redact_hides_parsed, 0,
                        (int)(sizeof(url_oks) / sizeof(url_oks[0])));
    tcase_add_loop_test(core, test_url_sentinel, 0,
                        (int)(sizeof(url_sents) / sizeof(url_sents[0])));
    tcase_add_loop_test(core, test_url_redact_hides_sentinel, 0,
                        (int)(sizeof(url_sents) / sizeof(url_sents[0])));
    tcase_add_loop_test(core, test_url_redact, 0,
                        (int)(sizeof(url_reds) / sizeof(url_reds[0])));
    suite_add_tcase(s, core);
    tcase_add_loop_test(errors, test_url_bad, 0,
                        (int)(sizeof(url_bads) / sizeof(url_bads[0])));
    tcase_add_test(errors, test_url_bad_hides_password);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(cluster_url_suite());
}
