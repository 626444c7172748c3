/* unit_run.h -- the main() every Check suite shares: run one suite (print
 * level from CK_VERBOSITY, default normal), exit 1 if any test failed. */
#ifndef SSEQ_UNIT_RUN_H
#define SSEQ_UNIT_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int unit_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
