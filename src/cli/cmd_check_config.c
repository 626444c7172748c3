/* cmd_check_config.c -- `sseq check-config`: the config was loaded (and
 * validated) before any command runs; this prints what is in effect and
 * whether the user the programs run as can use the existing queue. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "queue/queue_access.h"

static const char cmd_check_config_help[] =
    "usage: sseq check-config\n"
    "Validates the config file and prints every effective setting (tokens\n"
    "masked). A bad value exits 1 with FILE:LINE: setting: reason.\n"
    "Then checks that the user the programs run as (queue.owner; as root,\n"
    "by default www-data) can read the config file and read and write the\n"
    "existing queue; exits 1 with the fix when it cannot. Prints the\n"
    "queue's owner, group and mode, and exits 1 with queue_open's reason\n"
    "when the programs would refuse it (writable by every user, or owned\n"
    "by someone but root, their user and queue.owner). A queue not\n"
    "created yet is only noted.\n";

/* Who the programs run as: queue.owner, else www-data when run as root,
 * else this user. -ENOENT (reported) if the user does not exist. */
static int check_config_who(const struct cli *cli,
                            struct queue_access_who *who)
{
    const char *user = cli->cfg.queue_owner;

    if (user[0] == '\0' && geteuid() == 0)
        user = QUEUE_ACCESS_DEFAULT_USER;
    if (user[0] == '\0')
        return queue_access_self(who);
    if (queue_access_lookup(user, who) < 0) {
        cli_fail("queue.owner: no user '%s'", user);
        return -ENOENT;
    }
    return 0;
}

/* Checks that who can read the config file (installed 0640: README's
 * chgrp step); prints the fix when not. */
static int check_config_file(const struct cli *cli,
                             const struct queue_access_who *who)
{
    struct stat st;
    struct passwd *pw;
    struct group *gr;

    if (cli->cfg.file == NULL || stat(cli->cfg.file, &st) < 0 ||
        queue_access_allows_mode(&st, who, R_OK))
        return CLI_OK;
    pw = getpwuid(st.st_uid);
    gr = getgrgid(st.st_gid);
    return cli_fail("%s is %s:%s %04o and the programs run as %s (uid %lu),"
                    " who cannot read it: chgrp %s %s", cli->cfg.file,
                    pw ? pw->pw_name : "?", gr ? gr->gr_name : "?",
                    (unsigned)(st.st_mode & 07777), who->name,
                    (unsigned long)who->uid, who->name, cli->cfg.file);
}

/* Prints the owner, group and mode of the queue file of st, then whether
 * the programs, running as who, trust it (queue_trust_check, the rule
 * queue_open applies). CLI_OK, or CLI_FAIL with queue_open's reason. */
static int check_config_owner(const struct cli *cli, const char *file,
                              const struct stat *st,
                              const struct queue_access_who *who)
{
    char owner[64];
    struct group *gr = getgrgid(st->st_gid);

    queue_access_user_name(st->st_uid, owner, sizeof owner);
    printf("# queue %s: owner %s, group %s, mode %04o\n", file, owner,
           gr ? gr->gr_name : "?", (unsigned)(st->st_mode & 07777));
    if (queue_trust_check(st, cli->cfg.queue_path, who->uid) < 0)
        return cli_fail("the programs (as %s) would refuse it: %s",
                        who->name, queue_error());
    printf("# queue %s: the programs (as %s) trust its owner: ok\n", file,
           who->name);
    return CLI_OK;
}

/* Checks the queue's file against who; prints the verdict. */
static int check_config_queue(const struct cli *cli)
{
    struct queue_access_who who;
    char file[4096], why[8192];
    struct stat st;

    if (check_config_who(cli, &who) < 0 ||
        check_config_file(cli, &who) != CLI_OK)
        return CLI_FAIL;
    if (queue_access_file(cli->cfg.queue_path, file, sizeof file) < 0)
        return cli_fail("queue.path: %s: too long", cli->cfg.queue_path);
    if (stat(file, &st) < 0) {
        printf("# queue %s: not created yet (`sseq create`)\n", file);
        return CLI_OK;
    }
    if (check_config_owner(cli, file, &st, &who) != CLI_OK)
        return CLI_FAIL;
    if (!queue_access_allows(&st, &who))
        return cli_fail("%s", queue_access_explain(cli->cfg.queue_path,
                                                   EACCES, &who,
                                                   "the programs run as",
                                                   why, sizeof why));
    printf("# queue %s: %s (uid %lu) can read and write it: ok\n", file,
           who.name, (unsigned long)who.uid);
    return CLI_OK;
}

int cmd_check_config(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(cmd_check_config_help, stdout);
        return CLI_OK;
    }
    if (argc > 1)
        return cli_usage_error("check-config", "unexpected '%s'", argv[1]);
    if (cli->cfg.file)
        printf("# %s: ok\n", cli->cfg.file);
    else
        printf("# no config file at %s: built-in defaults\n",
               config_path(cli->config_file));
    config_print(&cli->cfg, stdout);
    return check_config_queue(cli);
}
