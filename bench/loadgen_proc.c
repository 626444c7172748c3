/* loadgen_proc.c -- CPU time and resident memory of server processes
 * read from /proc: a group is a list of PIDs, and every process below one
 * of them (nginx's workers, spawn-fcgi's children) counts too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     /* memmem, strcasestr, asprintf */
#endif
#include "loadgen.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LG_PROC_MAX 4096

/* One process as /proc/PID/stat tells it. */
struct lg_proc {
    pid_t pid, ppid;
    uint64_t ticks;                     /* utime + stime */
    uint64_t rss_pages;
};

int lg_proc_parse(const char *text, struct lg_proc_group *g)
{
    const char *eq = strchr(text, '='), *p;
    char *end;

    memset(g, 0, sizeof(*g));
    if (!eq || eq == text || (size_t)(eq - text) >= sizeof(g->name))
        return -EINVAL;
    memcpy(g->name, text, (size_t)(eq - text));
    for (p = eq + 1; *p; p = *end ? end + 1 : end) {
        long v = strtol(p, &end, 10);

        if (end == p || v <= 0 || (*end && *end != ',') ||
            g->npid >= LG_PROC_PIDS)
            return -EINVAL;
        g->pid[g->npid++] = (pid_t)v;
    }
    return g->npid ? 0 : -EINVAL;
}

/* Reads /proc/PID/stat into pr; 0 or -errno (the process is gone). */
static int lg_proc_read(pid_t pid, struct lg_proc *pr)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    long ppid = 0, rss = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -errno;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                     "%lu %lu %*d %*d %*d %*d %*d %*d %*u %*u %ld",
                     &ppid, &ut, &st, &rss) != 4)
        return -EPROTO;
    pr->pid = pid;
    pr->ppid = (pid_t)ppid;
    pr->ticks = ut + st;
    pr->rss_pages = (uint64_t)rss;
    return 0;
}

/* Fills all[] with every process; returns how many. */
static size_t lg_proc_scan(struct lg_proc *all, size_t cap)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    size_t n = 0;

    if (!d)
        return 0;
    while (n < cap && (de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);

        if (*end || pid <= 0)
            continue;
        if (lg_proc_read((pid_t)pid, &all[n]) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* true if pid is in g or below a member of g. */
static bool lg_proc_in(const struct lg_proc_group *g,
                       const struct lg_proc *all, size_t n, pid_t pid)
{
    unsigned depth, i;

    for (depth = 0; depth < 16 && pid > 1; depth++) {
        size_t j;

        for (i = 0; i < g->npid; i++)
            if (g->pid[i] == pid)
                return true;
        for (j = 0; j < n && all[j].pid != pid; j++)
            ;
        if (j == n)
            return false;
        pid = all[j].ppid;
    }
    return false;
}

void lg_proc_sample(const struct lg_proc_group *g, struct lg_proc_sample *s)
{
    static struct lg_proc all[LG_PROC_MAX];
    long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    uint64_t ticks = 0, pages = 0;
    size_t n = lg_proc_scan(all, LG_PROC_MAX), i;

    memset(s, 0, sizeof(*s));
    for (i = 0; i < n; i++) {
        if (!lg_proc_in(g, all, n, all[i].pid))
            continue;
        ticks += all[i].ticks;
        pages += all[i].rss_pages;
        s->procs++;
    }
    s->cpu_s = (double)ticks / (double)(hz > 0 ? hz : 100);
    s->rss_kib = pages * (uint64_t)(page > 0 ? page : 4096) / 1024;
}
