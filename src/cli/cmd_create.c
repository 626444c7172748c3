/* cmd_create.c -- `sseq create`: make the queue the config describes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "queue/queue_access.h"
#include "base/util.h"

static const char cmd_create_help[] =
    "usage: sseq create [--size BYTES] [--force [--while-running] |\n"
    "                   --if-missing]\n"
    "Creates the queue named by the config's queue.path (a POSIX shared\n"
    "memory name like /sseq, or a file path) with queue.size bytes and\n"
    "queue.mode, owned by queue.owner and queue.group (as root, by default\n"
    "www-data, the user sseq-spawn runs the programs as). Refuses to\n"
    "replace an existing queue unless --force, and\n"
    "refuses --force while processes use the queue (a process that\n"
    "keeps the old one would publish or listen where no one is).\n"
    "  --size BYTES      size instead of queue.size (K, M, G suffixes)\n"
    "  --force           replace an existing queue (its messages are lost)\n"
    "  --while-running   with --force: replace it even while processes use\n"
    "                    it; sseq-stream and sseq-publish notice within a\n"
    "                    second and restart their workers onto the new one\n"
    "                    (streams end, browsers reconnect); other users of\n"
    "                    the queue (sseq tail, CGI) must be restarted\n"
    "  --if-missing      create it only when it is missing; a queue that\n"
    "                    opens is left as it is (exit 0), one that does not\n"
    "                    (damaged, an older layout, an untrusted owner) is\n"
    "                    named with the reason (exit 1). What sseq-spawn and\n"
    "                    the systemd units run before a program starts\n";

/* Whether live processes use the queue at path; prints them and the safe
 * way to replace it. An unreadable queue (not one, another layout) has no
 * process table to ask: false. */
static bool cmd_create_in_use(const char *path)
{
    struct queue_proc_info procs[QUEUE_PROC_SLOTS];
    struct queue *q;
    int n;

    if (queue_open(path, &q) < 0)
        return false;
    n = queue_proc_list(q, procs, QUEUE_PROC_SLOTS);
    queue_close(q);
    if (n <= 0)
        return false;
    cli_fail("%s is in use by %d process%s: replacing it now would leave "
             "them on the old queue, and what is published to the new one "
             "would reach no one", path, n, n == 1 ? "" : "es");
    for (int i = 0; i < n; i++)
        fprintf(stderr, "  pid %d (%s)\n", (int)procs[i].pid, procs[i].role);
    fputs("Add --while-running to replace it anyway: sseq-stream and "
          "sseq-publish notice\nthe new queue within a second and restart "
          "their workers onto it (streams end\nand browsers reconnect); "
          "restart any other user of it (sseq tail, a CGI)\nyourself. Or "
          "stop them first, run `sseq create --force`, and start them.\n",
          stderr);
    return true;
}

/* For --if-missing: 1 when the queue exists and opens (left as it is,
 * said on stdout), 0 when it is missing, -1 (reported with queue_open's
 * reason) when it exists but does not open. */
static int cmd_create_exists(const struct cli *cli)
{
    struct queue *q;
    int rc = queue_open(cli->cfg.queue_path, &q);

    if (rc == -ENOENT)
        return 0;
    if (rc < 0) {
        cli_fail("%s", queue_error());
        return -1;
    }
    queue_close(q);
    printf("%s: exists and opens: left as it is\n", cli->cfg.queue_path);
    return 1;
}

/* Serialises `sseq create --if-missing` runs on one config (sseq-stream
 * and sseq-publish start together): an exclusive flock on the config
 * file. The descriptor to close when done, or -1 when there is no file
 * to lock (built-in defaults) or it cannot be opened: then unlocked. */
static int cmd_create_lock(const struct cli *cli)
{
    int fd;

    if (cli->cfg.file == NULL)
        return -1;
    fd = open(cli->cfg.file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Resolves who gets the queue: 1 with *uid and *gid to apply, 0 for nobody,
 * -ENOENT (reported) for a configured user or group that does not exist.
 * A missing default user (no www-data) is only a warning. */
static int cmd_create_target(const struct cli *cli, uid_t *uid, gid_t *gid)
{
    const char *what;
    int rc = queue_access_target(cli->cfg.queue_owner, cli->cfg.queue_group,
                                 geteuid(), uid, gid, &what);

    if (rc != -ENOENT)
        return rc;
    if (cli->cfg.queue_owner[0] == '\0' && strcmp(what,
            QUEUE_ACCESS_DEFAULT_USER) == 0) {
        fprintf(stderr, "sseq: warning: no user %s: the queue stays owned by "
                "root; set queue.owner to the user the programs run as\n",
                what);
        return 0;
    }
    cli_fail("%s: queue.owner/queue.group: no user or group '%s'",
             cli->cfg.file ? cli->cfg.file : "config", what);
    return -ENOENT;
}

/* Prints what was made: path, backing file, owner, group, mode, size. */
static void cmd_create_report(const struct cli *cli, struct queue *q)
{
    struct queue_stats st;
    char file[4096];
    struct stat sb;

    queue_get_stats(q, &st);
    printf("created %s", cli->cfg.queue_path);
    if (queue_access_file(cli->cfg.queue_path, file, sizeof file) == 0 &&
        stat(file, &sb) == 0) {
        struct passwd *pw = getpwuid(sb.st_uid);
        struct group *gr = getgrgid(sb.st_gid);

        printf(" (%s, %s:%s %04o)", file, pw ? pw->pw_name : "?",
               gr ? gr->gr_name : "?", (unsigned)(sb.st_mode & 07777));
    }
    printf(": %llu bytes, first id %llu\n", (unsigned long long)st.file_size,
           (unsigned long long)st.next_id);
}

/* Creates the queue with p (replacing one with force; in use only with
 * running), gives it to its owner and reports it. CLI_OK or CLI_FAIL. */
static int cmd_create_make(struct cli *cli, const struct queue_params *p,
                           int force, int running)
{
    struct queue *q;
    uid_t uid;
    gid_t gid;
    int rc, own;

    if (force && !running && cmd_create_in_use(cli->cfg.queue_path))
        return CLI_FAIL;
    own = cmd_create_target(cli, &uid, &gid);
    if (own < 0)
        return CLI_FAIL;
    rc = queue_create(cli->cfg.queue_path, p, force, &q);
    if (rc == -EEXIST)
        return cli_fail("%s: exists; use --force to replace it",
                        cli->cfg.queue_path);
    if (rc < 0)
        return cli_fail("%s", queue_error());
    if (own > 0) {
        rc = queue_access_chown(cli->cfg.queue_path, uid, gid);
        if (rc < 0) {
            queue_close(q);
            return cli_fail("%s: fchown to %ld:%ld: %s", cli->cfg.queue_path,
                            (long)(int)uid, (long)(int)gid, strerror(-rc));
        }
    }
    cmd_create_report(cli, q);
    queue_close(q);
    return CLI_OK;
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "size", required_argument, NULL, 's' },
        { "force", no_argument, NULL, 'f' },
        { "while-running", no_argument, NULL, 'w' },
        { "if-missing", no_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct queue_params p = {
        .size = cli->cfg.queue_size,
        .mode = cli->cfg.queue_mode,
        .max_age = cli->cfg.max_age,
    };
    int force = 0, running = 0, missing = 0, c, rc, lock;

    while ((c = getopt_long(argc, argv, "+s:fwmh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (util_parse_size(optarg, &p.size) < 0)
                return cli_usage_error("create", "bad size '%s'", optarg);
            break;
        case 'f': force = 1; break;
        case 'w': running = 1; break;
        case 'm': missing = 1; break;
        case 'h': fputs(cmd_create_help, stdout); return CLI_OK;
        default: return cli_usage_error("create", "bad option");
        }
    }
    if (optind < argc)
        return cli_usage_error("create", "unexpected '%s'", argv[optind]);
    if (running && !force)
        return cli_usage_error("create", "--while-running needs --force");
    if (missing && force)
        return cli_usage_error("create", "--if-missing and --force "
                               "contradict: choose one");
    if (!missing)
        return cmd_create_make(cli, &p, force, running);
    lock = cmd_create_lock(cli);
    rc = cmd_create_exists(cli);
    if (rc == 0)
        rc = cmd_create_make(cli, &p, 0, 0);
    else
        rc = rc > 0 ? CLI_OK : CLI_FAIL;
    if (lock >= 0)
        close(lock);
    return rc;
}
