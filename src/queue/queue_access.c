/* queue_access.c -- the queue file's owner, group and mode against the
 * user that must open it (see queue_access.h). */
#include "ac_config.h"          /* _GNU_SOURCE: getgrouplist */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/queue_access.h"

#include "base/log.h"
#include "queue/queue.h"

#define QUEUE_ACCESS_SHM_DIR "/dev/shm"

int queue_access_file(const char *path, char *buf, size_t len)
{
    bool shm = path[0] == '/' && strchr(path + 1, '/') == NULL;
    int n = snprintf(buf, len, "%s%s", shm ? QUEUE_ACCESS_SHM_DIR : "",
                     path);

    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool queue_access_allows_mode(const struct stat *st,
                              const struct queue_access_who *who, int want)
{
    mode_t need = 0, shift;

    if (who->uid == 0)
        return true;
    if (st->st_uid == who->uid)
        shift = 6;
    else {
        bool member = st->st_gid == who->gid;

        for (int i = 0; i < who->ngroups && !member; i++)
            member = who->groups[i] == st->st_gid;
        shift = member ? 3 : 0;
    }
    if (want & R_OK)
        need |= S_IROTH << shift;
    if (want & W_OK)
        need |= S_IWOTH << shift;
    return (st->st_mode & need) == need;
}

bool queue_access_allows(const struct stat *st,
                         const struct queue_access_who *who)
{
    return queue_access_allows_mode(st, who, R_OK | W_OK);
}

/* Parses str as a decimal id; false if it is not one. */
static bool queue_access_number(const char *str, unsigned long *v)
{
    char *end;

    if (str[0] < '0' || str[0] > '9')
        return false;
    errno = 0;
    *v = strtoul(str, &end, 10);
    return errno == 0 && *end == '\0';
}

/* Fills who's groups from the group database (the primary at least). */
static void queue_access_groups(struct queue_access_who *who)
{
    int n = (int)(sizeof who->groups / sizeof who->groups[0]);

    if (getgrouplist(who->name, who->gid, who->groups, &n) < 0) {
        who->groups[0] = who->gid;
        n = 1;
    }
    who->ngroups = n;
}

int queue_access_lookup(const char *user, struct queue_access_who *who)
{
    struct passwd *pw;
    unsigned long id;

    memset(who, 0, sizeof *who);
    pw = queue_access_number(user, &id) ? getpwuid((uid_t)id)
                                        : getpwnam(user);
    if (pw == NULL)
        return -ENOENT;
    who->uid = pw->pw_uid;
    who->gid = pw->pw_gid;
    snprintf(who->name, sizeof who->name, "%s", pw->pw_name);
    queue_access_groups(who);
    return 0;
}

int queue_access_self(struct queue_access_who *who)
{
    struct passwd *pw = getpwuid(geteuid());
    int n;

    memset(who, 0, sizeof *who);
    who->uid = geteuid();
    who->gid = getegid();
    if (pw != NULL)
        snprintf(who->name, sizeof who->name, "%s", pw->pw_name);
    else
        snprintf(who->name, sizeof who->name, "%lu",
                 (unsigned long)who->uid);
    n = getgroups((int)(sizeof who->groups / sizeof who->groups[0]) - 1,
                  who->groups);
    who->ngroups = n < 0 ? 0 : n;
    who->groups[who->ngroups++] = who->gid;
    return 0;
}

/* Resolves a group name or number to *gid; -ENOENT if there is none. */
static int queue_access_group(const char *name, gid_t *gid)
{
    struct group *gr;
    unsigned long id;

    if (queue_access_number(name, &id)) {
        *gid = (gid_t)id;
        return 0;
    }
    gr = getgrnam(name);
    if (gr == NULL)
        return -ENOENT;
    *gid = gr->gr_gid;
    return 0;
}

int queue_access_target(const char *owner, const char *group, uid_t euid,
                        uid_t *uid, gid_t *gid, const char **what)
{
    struct queue_access_who who;

    *uid = (uid_t)-1;
    *gid = (gid_t)-1;
    *what = NULL;
    if (owner[0] == '\0' && euid == 0)
        owner = QUEUE_ACCESS_DEFAULT_USER;
    if (owner[0] != '\0') {
        if (queue_access_lookup(owner, &who) < 0) {
            *what = owner;
            return -ENOENT;
        }
        *uid = who.uid;
        *gid = who.gid;
    }
    if (group[0] != '\0' && queue_access_group(group, gid) < 0) {
        *what = group;
        return -ENOENT;
    }
    return *uid != (uid_t)-1 || *gid != (gid_t)-1;
}

enum queue_access_owner queue_access_owner_check(const struct stat *st,
                                                 uid_t euid, uid_t trusted)
{
    if (st->st_mode & S_IWOTH)
        return QUEUE_ACCESS_OTHERS_WRITE;
    if (st->st_uid == 0 || st->st_uid == euid ||
        (trusted != (uid_t)-1 && st->st_uid == trusted))
        return QUEUE_ACCESS_OWNER_OK;
    return QUEUE_ACCESS_FOREIGN;
}

const char *queue_access_user_name(uid_t uid, char *buf, size_t len)
{
    struct passwd pw, *res = NULL;
    char tmp[1024];

    if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res != NULL)
        snprintf(buf, len, "%s", res->pw_name);
    else
        snprintf(buf, len, "%lu", (unsigned long)uid);
    return buf;
}

int queue_access_chown(const char *path, uid_t uid, gid_t gid)
{
    char file[4096];
    int fd, rc = 0;

    if (queue_access_file(path, file, sizeof file) < 0)
        return -ENAMETOOLONG;
    fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fchown(fd, uid, gid) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

static const char *queue_access_group_name(gid_t gid, char *buf, size_t len)
{
    struct group *gr = getgrgid(gid);

    if (gr != NULL)
        snprintf(buf, len, "%s", gr->gr_name);
    else
        snprintf(buf, len, "%lu", (unsigned long)gid);
    return buf;
}

const char *queue_access_explain(const char *path, int err,
                                 const struct queue_access_who *who,
                                 const char *as, char *buf, size_t len)
{
    char file[4096], u[64], g[64];
    struct stat st;

    err = err < 0 ? -err : err;
    if (queue_access_file(path, file, sizeof file) < 0)
        snprintf(file, sizeof file, "%s", path);
    if (err == ENOENT) {
        snprintf(buf, len, "queue %s does not exist: run `sseq create` "
                 "(as root it gives the queue to queue.owner, default %s)",
                 file, QUEUE_ACCESS_DEFAULT_USER);
        return buf;
    }
    if ((err != EACCES && err != EPERM) || stat(file, &st) < 0) {
        snprintf(buf, len, "queue %s: %s", file, strerror(err));
        return buf;
    }
    snprintf(buf, len, "queue %s is %s:%s %04o and %s %s "
             "(uid %lu): set queue.owner = \"%s\" (or queue.group and "
             "queue.mode = \"0660\") and run `sseq create --force`, or "
             "chown %s %s", file,
             queue_access_user_name(st.st_uid, u, sizeof u),
             queue_access_group_name(st.st_gid, g, sizeof g),
             (unsigned)(st.st_mode & 07777), as, who->name,
             (unsigned long)who->uid, who->name, who->name, file);
    return buf;
}

const char *queue_access_explain_self(const char *path, int err, char *buf,
                                      size_t len)
{
    struct queue_access_who who;

    queue_access_self(&who);
    return queue_access_explain(path, err, &who, "this process runs as",
                                buf, len);
}

void queue_access_log_open(const char *path, int rc, int *last)
{
    char why[512];

    if (rc == *last)
        return;
    *last = rc;
    if (rc == 0) {
        log_info("queue %s opened", path);
        return;
    }
    log_error("%s", queue_error());
    if (rc == -EACCES || rc == -ENOENT)     /* -EPERM: an untrusted owner
                                               or mode, queue_error() says */
        log_error("%s", queue_access_explain_self(path, -rc, why,
                                                  sizeof(why)));
}
