/* queue_lazy.c -- the queue opened on first use (see queue_lazy.h). */
#include "runtime/queue_lazy.h"
#include "queue/queue_access.h"

int queue_lazy_open(const char *path, struct queue **q, int *last_rc)
{
    int rc;

    if (*q != NULL)
        return 0;
    rc = queue_open(path, q);
    queue_access_log_open(path, rc, last_rc);
    if (rc < 0) {
        *q = NULL;
        return rc;
    }
    return 1;
}
