/* check_http_refusals.c -- the "http_refusals" suite: every error status
 * of http_status's table has one refusal counter (index and code round
 * trip), other codes none; counting, and the counts reaching the queue
 * slot that `sseq stats --prometheus` reads. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics/http_refusals.h"
#include "unit_run.h"

/* A code and the refusal index it must have. */
struct index_case {
    int code, index;
};

static const struct index_case indexes[] = {
    { 400, 0 }, { 401, 1 }, { 403, 2 }, { 404, 3 }, { 405, 4 },
    { 406, 5 }, { 408, 6 }, { 411, 7 }, { 413, 8 }, { 415, 9 },
    { 429, 10 }, { 500, 11 }, { 501, 12 }, { 503, 13 },
    { 200, -1 }, { 202, -1 }, { 204, -1 }, { 399, -1 }, { 402, -1 },
    { 504, -1 }, { 0, -1 }, { -400, -1 },
};

START_TEST(test_index)
{
    const struct index_case *c = &indexes[_i];
    int i = http_status_refusal_index(c->code);

    ck_assert_msg(i == c->index, "%d should have refusal index %d, got %d",
                  c->code, c->index, i);
    if (i >= 0)
        ck_assert_msg(http_status_refusal_code(i) == c->code,
                      "index %d should map back to %d", i, c->code);
}
END_TEST

START_TEST(test_table)
{
    int i;

    for (i = 0; i < HTTP_STATUS_REFUSALS; i++) {
        int code = http_status_refusal_code(i);

        ck_assert_msg(code >= 400 && http_status_refusal_index(code) == i,
                      "index %d should be an error status, got %d", i, code);
        ck_assert_msg(strcmp(http_status_reason(code), "Unknown") != 0,
                      "%d should be in the status table", code);
    }
    ck_assert_msg(http_status_refusal_code(HTTP_STATUS_REFUSALS) == 0 &&
                  http_status_refusal_code(-1) == 0,
                  "HTTP_STATUS_REFUSALS should be every error status");
}
END_TEST

START_TEST(test_count)
{
    struct http_refusals r = { 0 };

    ck_assert_int_eq(http_refusals_add(&r, 405), 4);
    ck_assert_int_eq(http_refusals_add(&r, 405), 4);
    ck_assert_int_eq(http_refusals_add(&r, 503), 13);
    ck_assert_int_eq(http_refusals_add(&r, 200), -1);
    ck_assert_int_eq(http_refusals_add(&r, 299), -1);
    ck_assert_uint_eq(http_refusals_get(&r, 405), 2);
    ck_assert_uint_eq(http_refusals_get(&r, 503), 1);
    ck_assert_uint_eq(http_refusals_get(&r, 400), 0);
    ck_assert_uint_eq(http_refusals_get(&r, 200), 0);
}
END_TEST

START_TEST(test_publish)
{
    struct queue_params p = { .size = 1 << 20, .mode = 0600 };
    struct queue_proc_info info[QUEUE_PROC_SLOTS];
    struct http_refusals r = { 0 };
    struct queue *q;
    char name[64];
    int rc;

    snprintf(name, sizeof(name), "/sseq-test-refusals-%d", (int)getpid());
    rc = queue_create(name, &p, 1, &q);
    ck_assert_msg(rc == 0, "queue_create(%s): %d", name, rc);
    http_refusals_add(&r, 401);
    http_refusals_publish(&r, NULL);
    http_refusals_publish(&r, q);      /* no slot claimed: nothing */
    ck_assert_int_ge(queue_proc_claim(q, "publish"), 0);
    ck_assert_int_eq(queue_proc_list(q, info, QUEUE_PROC_SLOTS), 1);
    ck_assert_uint_eq(info[0].refused[1], 0);
    http_refusals_add(&r, 401);
    http_refusals_add(&r, 413);
    http_refusals_publish(&r, q);
    ck_assert_int_eq(queue_proc_list(q, info, QUEUE_PROC_SLOTS), 1);
    ck_assert_msg(info[0].refused[http_status_refusal_index(401)] == 2 &&
                  info[0].refused[http_status_refusal_index(413)] == 1 &&
                  info[0].refused[0] == 0,
                  "the slot should hold 2 x 401 and 1 x 413");
    queue_close(q);
    queue_unlink(name);
}
END_TEST

static Suite *http_refusals_suite(void)
{
    Suite *s = suite_create("http_refusals");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");

    tcase_add_test(core, test_count);
    tcase_add_test(core, test_publish);
    tcase_add_test(limits, test_table);
    tcase_add_loop_test(limits, test_index, 0,
                        (int)(sizeof(indexes) / sizeof(indexes[0])));
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return unit_run(http_refusals_suite());
}
