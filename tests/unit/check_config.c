/* check_config.c -- the "config" suite: defaults, the shipped example file,
 * every setting's limits, and every kind of bad value reported as
 * "FILE:LINE: setting: reason"; path precedence (-c, $SSEQ_CONF, the
 * sysconfdir default); printing, channel names and CORS answers.
 *
 * Files are written to $TMPDIR (or /tmp) and removed by each test. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "conf/config_token.h"
#include "mercure/jwt_auth.h"
#include "base/log.h"
#include "unit_run.h"

#ifndef SRCDIR
#error "SRCDIR must name the source tree (see tests/unit/core.am)"
#endif
#define EXAMPLE SRCDIR "/fcgi-conf/sseq.conf.example"

/* A config file written for one test. */
struct tmpconf {
    char path[256];
};

/* Writes text to a fresh temporary file. */
static void conf_write(struct tmpconf *t, const char *text)
{
    const char *dir = getenv("TMPDIR");
    FILE *fp;
    int fd;

    snprintf(t->path, sizeof t->path, "%s/sseq-check-config-XXXXXX",
             dir && *dir ? dir : "/tmp");
    fd = mkstemp(t->path);
    ck_assert_msg(fd >= 0, "mkstemp must create a temporary file");
    fp = fdopen(fd, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_msg(fclose(fp) == 0, "the temporary file must be written");
}

/* Loads text; returns config_load's result with err filled. */
static int conf_load_text(const char *text, struct config *cfg, char *err,
                          size_t errlen, char *path, size_t pathlen)
{
    struct tmpconf t;
    int rc;

    conf_write(&t, text);
    rc = config_load(cfg, t.path, true, err, errlen);
    if (path)
        snprintf(path, pathlen, "%s", t.path);
    unlink(t.path);
    return rc;
}

/* Loads text expecting success; fails the test with the error if not. */
static void conf_ok(const char *text, struct config *cfg)
{
    char err[512];

    ck_assert_msg(conf_load_text(text, cfg, err, sizeof err, NULL, 0) == 0,
                  "\"%s\" must load, got: %s", text, err);
}

/* Loads text expecting "PATH:line: setting: " and reason in the error. */
static void conf_bad(const char *text, int line, const char *setting,
                     const char *reason)
{
    char err[512], path[256], prefix[400];
    struct config cfg;

    ck_assert_msg(conf_load_text(text, &cfg, err, sizeof err, path,
                                 sizeof path) == -1,
                  "\"%s\" must be refused", text);
    snprintf(prefix, sizeof prefix, "%s:%d: %s: ", path, line, setting);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
                  "\"%s\" must be reported as \"%s...\", got \"%s\"", text,
                  prefix, err);
    ck_assert_msg(reason == NULL || strstr(err, reason) != NULL,
                  "the error for \"%s\" must say \"%s\", got \"%s\"", text,
                  reason, err);
    ck_assert_msg(cfg.heartbeat == 15 && strcmp(cfg.queue_path, "/sseq") ==
                  0 && config_channel_valid(&cfg, "ok", 2),
                  "cfg must hold the defaults after an error");
    config_free(&cfg);
}

/* Checks every field against the built-in defaults. */
static void assert_defaults(const struct config *cfg, bool tokens_too)
{
    ck_assert_msg(strcmp(cfg->queue_path, "/sseq") == 0,
                  "queue.path must default to \"/sseq\"");
    ck_assert_msg(cfg->queue_size == 64u << 20,
                  "queue.size must default to 64M");
    ck_assert_msg(cfg->queue_mode == 0600, "queue.mode must default to 0600");
    ck_assert_msg(cfg->max_age == 0, "queue.max_age must default to 0");
    ck_assert_msg(cfg->queue_owner[0] == '\0' && cfg->queue_group[0] == '\0',
                  "queue.owner and queue.group must default to \"\"");
    ck_assert_msg(cfg->max_message_size == 65536,
                  "max_message_size must default to 65536");
    ck_assert_msg(cfg->heartbeat == 15, "heartbeat must default to 15");
    ck_assert_msg(cfg->retry_ms == 3000, "retry must default to 3000");
    ck_assert_msg(cfg->max_subscribers == 10000,
                  "max_subscribers must default to 10000");
    ck_assert_msg(cfg->client_buffer == 256u << 10,
                  "client_buffer must default to 256K");
    ck_assert_msg(cfg->backlog_max == 1000,
                  "backlog_max must default to 1000");
    ck_assert_msg(cfg->coalesce_us == 100000,
                  "coalesce_us must default to 100000");
    ck_assert_msg(!tokens_too || cfg->n_tokens == 0,
                  "there must be no token by default");
    ck_assert_msg(cfg->n_open_channels == 0,
                  "no channel may be open by default");
    ck_assert_msg(strcmp(cfg->channel_pattern, "^[A-Za-z0-9_.:-]{1,64}$")
                  == 0, "channel_pattern must have its documented default");
    ck_assert_msg(cfg->n_cors_origins == 0,
                  "no CORS origin may be allowed by default");
    ck_assert_msg(cfg->log_level == LOG_LEVEL_INFO,
                  "log_level must default to info");
}

/* ---- core ---- */

START_TEST(test_defaults)
{
    struct config cfg;

    ck_assert_msg(config_defaults(&cfg) == 0, "defaults must not fail");
    assert_defaults(&cfg, true);
    ck_assert_msg(cfg.file == NULL, "defaults come from no file");
    ck_assert_msg(config_channel_valid(&cfg, "chat.room-1:a_b", 15),
                  "the default pattern must allow A-Z a-z 0-9 _ . : -");
    ck_assert_msg(config_defaults(&cfg) == 0,
                  "defaults must be repeatable (they allocate nothing)");
    config_free(&cfg);
    config_free(&cfg);
}
END_TEST

START_TEST(test_example_loads)
{
    struct config cfg;
    char err[512];

    ck_assert_msg(config_load(&cfg, EXAMPLE, true, err, sizeof err) == 0,
                  "the example file must load, got: %s", err);
    assert_defaults(&cfg, false);
    ck_assert_msg(cfg.n_tokens == 0,
                  "the example must ship no working token (issue 11.3)");
    ck_assert_msg(strcmp(cfg.file, EXAMPLE) == 0,
                  "cfg.file must name the file read");
    config_free(&cfg);
}
END_TEST

START_TEST(test_every_setting)
{
    struct config cfg;

    conf_ok("queue: { path = \"/var/lib/sseq/q\"; size = \"1G\";\n"
            "  mode = \"0660\"; max_age = 3600; owner = \"www-data\";\n"
            "  group = \"1001\"; };\n"
            "max_message_size = \"1M\";\n"
            "stream: { heartbeat = 30; retry = 500; max_subscribers = 5;\n"
            "  client_buffer = 1048576; backlog_max = 0; coalesce_us = 0;\n"
            "};\n"
            "publish: { tokens = ( { token = \"k7Qm-2xVw9pLr4tZn\"; },\n"
            "  { token = \"9f2c4e7a1b8d3c6e==\";\n"
            "    channels = [\"a.*\", \"b\"]; } );\n"
            "  open_channels = [ \"chat.*\" ]; };\n"
            "channel_pattern = \"[a-z.]+\";\n"
            "cors_origins = [ \"https://example.com\", \"http://[::1]:80\" ];"
            "\nlog_level = \"debug\";\n", &cfg);
    ck_assert_msg(strcmp(cfg.queue_path, "/var/lib/sseq/q") == 0 &&
                  cfg.queue_size == 1u << 30 && cfg.queue_mode == 0660 &&
                  cfg.max_age == 3600 &&
                  strcmp(cfg.queue_owner, "www-data") == 0 &&
                  strcmp(cfg.queue_group, "1001") == 0,
                  "the queue group must be read");
    ck_assert_msg(cfg.max_message_size == 1u << 20,
                  "max_message_size \"1M\" must be 1048576");
    ck_assert_msg(cfg.heartbeat == 30 && cfg.retry_ms == 500 &&
                  cfg.max_subscribers == 5 && cfg.client_buffer == 1 << 20 &&
                  cfg.backlog_max == 0 && cfg.coalesce_us == 0,
                  "the stream group must be read");
    ck_assert_msg(cfg.n_tokens == 2 && cfg.tokens[0].n_channels == 0 &&
                  cfg.tokens[1].n_channels == 2 &&
                  strcmp(cfg.tokens[1].channels[1], "b") == 0,
                  "tokens and their channel globs must be read");
    ck_assert_msg(cfg.n_open_channels == 1 &&
                  strcmp(cfg.open_channels[0], "chat.*") == 0,
                  "open_channels must be read");
    ck_assert_msg(cfg.n_cors_origins == 2 && cfg.log_level ==
                  LOG_LEVEL_DEBUG, "cors_origins and log_level must be read");
    config_free(&cfg);
}
END_TEST

START_TEST(test_missing_file)
{
    struct config cfg;
    char err[512];

    ck_assert_msg(config_load(&cfg, "/nonexistent/sseq.conf", false, err,
                              sizeof err) == 0,
                  "a missing optional file must leave the defaults");
    assert_defaults(&cfg, true);
    ck_assert_msg(cfg.file == NULL, "no file was read");
    config_free(&cfg);
    ck_assert_msg(config_load(&cfg, "/nonexistent/sseq.conf", true, err,
                              sizeof err) == -1,
                  "a missing required file must be an error");
    ck_assert_msg(strncmp(err, "/nonexistent/sseq.conf: ", 24) == 0 &&
                  strstr(err, "No such file") != NULL,
                  "the error must name the file and the cause, got %s", err);
    config_free(&cfg);
}
END_TEST

START_TEST(test_path_precedence)
{
    unsetenv("SSEQ_CONF");
    ck_assert_msg(strcmp(config_path(NULL), SYSCONFDIR "/sseq.conf") == 0,
                  "without -c or $SSEQ_CONF the path must be "
                  "SYSCONFDIR/sseq.conf");
    setenv("SSEQ_CONF", "/env/sseq.conf", 1);
    ck_assert_msg(strcmp(config_path(NULL), "/env/sseq.conf") == 0,
                  "$SSEQ_CONF must be used without -c");
    ck_assert_msg(strcmp(config_path("/explicit.conf"), "/explicit.conf")
                  == 0, "-c must win over $SSEQ_CONF");
    setenv("SSEQ_CONF", "", 1);
    ck_assert_msg(strcmp(config_path(NULL), SYSCONFDIR "/sseq.conf") == 0,
                  "an empty $SSEQ_CONF must be ignored");
    unsetenv("SSEQ_CONF");
    ck_assert_msg(strcmp(config_path("/explicit.conf"), "/explicit.conf")
                  == 0, "-c must be used without $SSEQ_CONF");
}
END_TEST

/* $SSEQ_CONF and -c name files that are really read, in that order. */
START_TEST(test_path_precedence_load)
{
    struct tmpconf env, cli;
    struct config cfg;
    char err[512];

    conf_write(&env, "stream: { heartbeat = 20; };\n");
    conf_write(&cli, "stream: { heartbeat = 30; };\n");
    setenv("SSEQ_CONF", env.path, 1);
    ck_assert_msg(config_load(&cfg, config_path(NULL), true, err,
                              sizeof err) == 0 && cfg.heartbeat == 20,
                  "the file named by $SSEQ_CONF must be read: %s", err);
    config_free(&cfg);
    ck_assert_msg(config_load(&cfg, config_path(cli.path), true, err,
                              sizeof err) == 0 && cfg.heartbeat == 30,
                  "the file named by -c must be read over $SSEQ_CONF: %s",
                  err);
    config_free(&cfg);
    unsetenv("SSEQ_CONF");
    unlink(env.path);
    unlink(cli.path);
}
END_TEST

/* Prints cfg into a string (caller frees). */
static char *print_to_string(const struct config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(fp);
    config_print(cfg, fp);
    fclose(fp);
    return buf;
}

/* What config_print writes is a valid config giving the same values. */
START_TEST(test_print_roundtrip)
{
    struct config a, b;
    char *pa, *pb, *body;

    conf_ok("queue: { path = \"/x/q\\\"z\"; size = 3000000001L;\n"
            "  mode = \"660\"; };\n"
            "stream: { client_buffer = \"5M\"; retry = 100; };\n"
            "publish: { open_channels = [ \"a\", \"b*\" ]; };\n"
            "channel_pattern = \"(a|b)\\\\.c\";\n"
            "cors_origins = [ \"*\" ];\nlog_level = \"warn\";\n", &a);
    pa = print_to_string(&a);
    body = strchr(pa, '\n');
    ck_assert_ptr_nonnull(body);
    conf_ok(body, &b);
    pb = print_to_string(&b);
    ck_assert_msg(strcmp(strchr(pb, '\n'), body) == 0,
                  "printing a reloaded print must give the same text:\n"
                  "%s\n---\n%s", pa, pb);
    ck_assert_msg(b.queue_size == 3000000001u && b.queue_mode == 0660 &&
                  b.client_buffer == 5u << 20 && b.retry_ms == 100 &&
                  b.n_open_channels == 2 && b.log_level == LOG_LEVEL_WARN &&
                  strcmp(b.queue_path, "/x/q\"z") == 0 &&
                  config_channel_valid(&b, "b.c", 3),
                  "the printed config must carry every value");
    free(pa);
    free(pb);
    config_free(&a);
    config_free(&b);
}
END_TEST

START_TEST(test_print_masks_tokens)
{
    struct config cfg;
    char *out;

    conf_ok("publish: { tokens = ( { token = \"s3cr3t-t0ken-9f2a\"; "
            "channels = [ \"news\" ]; } ); };\n", &cfg);
    out = print_to_string(&cfg);
    ck_assert_msg(strstr(out, "s3cr3t") == NULL,
                  "config_print must never print a token");
    ck_assert_msg(strstr(out, "token = \"****\"") != NULL &&
                  strstr(out, "\"news\"") != NULL,
                  "config_print must show a masked token and its channels");
    ck_assert_msg(strstr(out, "heartbeat = 15;") != NULL &&
                  strstr(out, "size = \"64M\";") != NULL &&
                  strstr(out, "mode = \"0600\";") != NULL,
                  "config_print must print every effective setting");
    free(out);
    config_free(&cfg);
}
END_TEST

#define SECRET40 "7f3a9c21e4b85d60a1c9f2e7b3d84a56-40bytes"
#define FAKE_PEM "-----BEGIN PUBLIC KEY-----\n" \
                 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQg\n" \
                 "-----END PUBLIC KEY-----\n"

START_TEST(test_mercure_defaults)
{
    struct config cfg;

    ck_assert(config_defaults(&cfg) == 0);
    ck_assert_msg(cfg.mercure_pub.key == NULL && cfg.mercure_sub.key == NULL,
                  "no Mercure key by default");
    ck_assert_msg(strcmp(cfg.mercure_pub_alg, "HS256") == 0 &&
                  strcmp(cfg.mercure_sub_alg, "HS256") == 0,
                  "JWT algorithms default to HS256");
    ck_assert_msg(strcmp(cfg.mercure_cookie_name, "mercureAuthorization")
                  == 0, "the cookie is Mercure's mercureAuthorization");
    ck_assert_msg(cfg.mercure_anonymous, "anonymous subscribers are on");
    ck_assert_msg(cfg.mercure_topic_max == 1024, "topic_max is 1024");
    ck_assert_msg(!cfg.mercure_subscriptions,
                  "active subscriptions are off by default");
    ck_assert_msg(cfg.n_mercure_cred_origins == 0,
                  "no origin gets credentials by default");
    ck_assert_msg(cfg.mercure_issuer[0] == '\0' &&
                  cfg.mercure_resource[0] == '\0',
                  "Mercure 1.0 access tokens are off by default");
    ck_assert_msg(strcmp(cfg.mercure_access_cookie,
                         "__Secure-mercure_access_token") == 0,
                  "the 1.0 cookie is the spec's __Secure-mercure_access_token");
    config_free(&cfg);
}
END_TEST

START_TEST(test_mercure_keys)
{
    struct tmpconf kf;
    struct config cfg;
    char text[1024];
    char *out;

    conf_write(&kf, SECRET40);
    snprintf(text, sizeof text, "mercure: {\n"
             "  publisher_jwt_key_file = \"%s\";\n"
             "  publisher_jwt_alg = \"HS256\";\n"
             "  subscriber_jwt_key = \"%s\";\n"
             "  subscriber_jwt_alg = \"ES256\";\n"
             "  cookie_name = \"hubAuth\"; anonymous = false;\n"
             "  topic_max = 2048;\n"
             "  cors_credentials_origins = [ \"https://app.example\" ];\n"
             "  issuer = \"https://app.example\";\n"
             "  resource = \"https://hub.example/.well-known/mercure\";\n"
             "  access_cookie_name = \"hub_at\";\n"
             "};\n", kf.path, "-----BEGIN PUBLIC KEY-----\\n"
             "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQg\\n-----END PUBLIC KEY-----"
             "\\n");
    conf_ok(text, &cfg);
    unlink(kf.path);
    ck_assert_msg(cfg.mercure_pub.key != NULL &&
                  cfg.mercure_pub.len == strlen(SECRET40) &&
                  memcmp(cfg.mercure_pub.key, SECRET40, cfg.mercure_pub.len)
                  == 0 && cfg.mercure_pub.alg == JWT_AUTH_HS256,
                  "the publisher key is read from its file");
    ck_assert_msg(cfg.mercure_sub.key != NULL &&
                  cfg.mercure_sub.len == strlen(FAKE_PEM) &&
                  memcmp(cfg.mercure_sub.key, FAKE_PEM, cfg.mercure_sub.len)
                  == 0 && cfg.mercure_sub.alg == JWT_AUTH_ES256,
                  "the subscriber key is the inline PEM, escapes decoded");
    ck_assert_msg(strcmp(cfg.mercure_cookie_name, "hubAuth") == 0 &&
                  !cfg.mercure_anonymous && cfg.mercure_topic_max == 2048 &&
                  cfg.n_mercure_cred_origins == 1 &&
                  strcmp(cfg.mercure_cred_origins[0], "https://app.example")
                  == 0 && strcmp(cfg.mercure_issuer, "https://app.example")
                  == 0 && strcmp(cfg.mercure_resource,
                  "https://hub.example/.well-known/mercure") == 0 &&
                  strcmp(cfg.mercure_access_cookie, "hub_at") == 0,
                  "every mercure setting is read");
    out = print_to_string(&cfg);
    ck_assert_msg(strstr(out, "BEGIN PUBLIC KEY") == NULL &&
                  strstr(out, "subscriber_jwt_key = \"****\";") != NULL,
                  "config_print masks an inline key:\n%s", out);
    ck_assert_msg(strstr(out, kf.path) != NULL &&
                  strstr(out, "anonymous = false;") != NULL &&
                  strstr(out, "cookie_name = \"hubAuth\";") != NULL,
                  "config_print shows the key file path and the settings");
    free(out);
    config_free(&cfg);
    ck_assert_msg(cfg.mercure_pub.key == NULL && cfg.mercure_sub.key == NULL,
                  "config_free frees the loaded keys");
}
END_TEST

START_TEST(test_channel_valid)
{
    const char name[] = "chat!!!";
    struct config cfg;

    config_defaults(&cfg);
    ck_assert_msg(config_channel_valid(&cfg, name, 4),
                  "only len bytes of the name must be matched");
    ck_assert_msg(!config_channel_valid(&cfg, name, 5),
                  "'!' must not match the default pattern");
    ck_assert_msg(!config_channel_valid(&cfg, "a b", 3),
                  "a space must not match the default pattern");
    ck_assert_msg(!config_channel_valid(&cfg, "", 0),
                  "an empty name must be invalid");
    config_free(&cfg);
    conf_ok("channel_pattern = \"[a-z]+|x[0-9]\";\n", &cfg);
    ck_assert_msg(config_channel_valid(&cfg, "abc", 3) &&
                  config_channel_valid(&cfg, "x1", 2),
                  "each alternative must match a whole name");
    ck_assert_msg(!config_channel_valid(&cfg, "abc1", 4) &&
                  !config_channel_valid(&cfg, "1abc", 4) &&
                  !config_channel_valid(&cfg, "abcx1", 5),
                  "an unanchored pattern must still match the whole name");
    config_free(&cfg);
}
END_TEST

START_TEST(test_cors_allow)
{
    struct config cfg;
    const char *o = "https://a.example";

    config_defaults(&cfg);
    ck_assert_msg(config_cors_allow(&cfg, o) == NULL,
                  "no origin may be allowed by default");
    config_free(&cfg);
    conf_ok("cors_origins = [ \"https://a.example\", \"http://b:8080\" ];\n",
            &cfg);
    ck_assert_msg(config_cors_allow(&cfg, o) == o,
                  "a listed origin must be answered with itself");
    ck_assert_msg(config_cors_allow(&cfg, "https://a.example.evil") == NULL
                  && config_cors_allow(&cfg, "http://a.example") == NULL &&
                  config_cors_allow(&cfg, "https://a.exampl") == NULL,
                  "only an exact match may be allowed");
    ck_assert_msg(config_cors_allow(&cfg, NULL) == NULL,
                  "no Origin header means no CORS answer");
    config_free(&cfg);
    conf_ok("cors_origins = [ \"https://a.example\", \"*\" ];\n", &cfg);
    ck_assert_msg(strcmp(config_cors_allow(&cfg, "https://z"), "*") == 0 &&
                  strcmp(config_cors_allow(&cfg, o), "*") == 0,
                  "with \"*\" listed the answer must be \"*\"");
    config_free(&cfg);
}
END_TEST

/* ---- limits ---- */

/* One numeric setting, its group, its bounds, and other settings that let
 * both bounds pass the rules between settings. */
static const struct {
    const char *group, *name;
    unsigned long long min, max;
    const char *extra;
} num_limits[] = {
    { "queue", "size", 65536, 1ull << 40, "max_message_size = 1;" },
    { "queue", "max_age", 0, 316224000, "" },
    { NULL, "max_message_size", 1, 64u << 20,
      "queue: { size = \"1024G\"; }; stream: { client_buffer = \"1G\"; };" },
    { "stream", "heartbeat", 1, 3600, "" },
    { "stream", "retry", 100, 3600000, "" },
    { "stream", "max_subscribers", 1, 1000000, "" },
    { "stream", "client_buffer", 4096, 1u << 30, "max_message_size = 1;" },
    { "stream", "backlog_max", 0, 1000000, "" },
    { "stream", "coalesce_us", 0, 1000000, "" },
};

/* Writes "group: { name = v; };" (or "name = v;") on line 1, then the
 * row's other settings on line 2. */
static void num_text(char *buf, size_t len, size_t i, unsigned long long v)
{
    if (num_limits[i].group)
        snprintf(buf, len, "%s: { %s = %lluL; };\n%s\n",
                 num_limits[i].group, num_limits[i].name, v,
                 num_limits[i].extra);
    else
        snprintf(buf, len, "%s = %lluL;\n%s\n", num_limits[i].name, v,
                 num_limits[i].extra);
}

START_TEST(test_numeric_limits)
{
    for (size_t i = 0; i < sizeof num_limits / sizeof num_limits[0]; i++) {
        char text[256], setting[64];
        struct config cfg;

        num_text(text, sizeof text, i, num_limits[i].min);
        conf_ok(text, &cfg);
        config_free(&cfg);
        num_text(text, sizeof text, i, num_limits[i].max);
        conf_ok(text, &cfg);
        config_free(&cfg);
        snprintf(setting, sizeof setting, "%s%s%s",
                 num_limits[i].group ? num_limits[i].group : "",
                 num_limits[i].group ? "." : "", num_limits[i].name);
        num_text(text, sizeof text, i, num_limits[i].max + 1);
        conf_bad(text, 1, setting, "must be");
        if (num_limits[i].min == 0)
            continue;
        num_text(text, sizeof text, i, num_limits[i].min - 1);
        conf_bad(text, 1, setting, "must be");
    }
}
END_TEST

START_TEST(test_sizes)
{
    struct config cfg;

    conf_ok("stream: { client_buffer = \"64k\"; };\n", &cfg);
    ck_assert_msg(cfg.client_buffer == 65536, "\"64k\" must be 65536");
    config_free(&cfg);
    conf_ok("queue: { size = 4294967296L; };\n", &cfg);
    ck_assert_msg(cfg.queue_size == 4ull << 30,
                  "an integer with an L suffix must be read as 64-bit");
    config_free(&cfg);
    conf_ok("# size = 99999999999;\n/* 99999999999 */ queue: { size = "
            "\"64M\"; };\npublish: { open_channels = [ \"99999999999\" ];"
            " };\n", &cfg);
    ck_assert_msg(cfg.queue_size == 64u << 20, "big numbers in comments and "
                  "strings must be ignored");
    config_free(&cfg);
    conf_ok("queue: { size = \"2G\"; };\n", &cfg);
    ck_assert_msg(cfg.queue_size == 2ull << 30, "\"2G\" must be 2 GiB");
    config_free(&cfg);
}
END_TEST

START_TEST(test_token_limits)
{
    struct config cfg;
    char text[1024], tok[514];

    unsigned x = 12345;

    conf_ok("publish: { tokens = ( { token = \"26d1a4bee9e4057e\"; } ); "
            "};\n", &cfg);
    ck_assert_msg(cfg.n_tokens == 1, "a 16-character token must be valid");
    config_free(&cfg);
    for (int i = 0; i < 513; i++) {             /* a fixed random draw */
        x = x * 1103515245u + 12345u;
        tok[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[(x >> 16) % 36];
    }
    tok[512] = '\0';
    snprintf(text, sizeof text,
             "publish: { tokens = ( { token = \"%s\"; } ); };\n", tok);
    conf_ok(text, &cfg);
    config_free(&cfg);
    tok[512] = 'a';
    tok[513] = '\0';
    snprintf(text, sizeof text,
             "publish: { tokens = ( { token = \"%s\"; } ); };\n", tok);
    conf_bad(text, 1, "publish.tokens[0].token", "must be 16 to 512");
}
END_TEST

/* Tokens and HMAC keys: strong random ones (openssl rand -hex 16,
 * -base64 24, -base64 32) pass; runs, sequences, common words and
 * placeholders fail. */
static const struct {
    const char *secret;
    bool token_ok, key_ok;
} token_strength[] = {
    { "d82bbf479a9b4b973850669eded1fa9c", true, true },
    { "4a3070e3ec6ef0a567035b8da0ab4951", true, true },
    { "6ba450b905cab3a423bab053fca2ddb5", true, true },
    { "yQMOajt3rD0xqMRSjW3y9YIp5dB/3xm0", true, true },
    { "/DG99YCnmXz7Nufco3PxjE4qGtVUceCJ", true, true },
    { "JfsO6pZ+30xy7uoEtFZHKhy2OBOHuWW1", true, true },
    { "xEKP5VDd0SE8Dxi7m39+FiqzeMUKr7fRBabqQe+e0A8=", true, true },
    { "26d1a4bee9e4057e", true, true },         /* 64 random bits */
    { "1234567890123456", false, false },
    { "password1234567890", false, false },
    { "0123456789abcdef", false, false },
    { "abcdefgh-ijklmnop", false, false },
    { "qwertyuiopasdfghjkl", false, false },
    { "SecretSecretSecretSecret", false, false },
    { "aBcDeFgHiJkLmNoPqRsT", false, false },
    { "9876543210fedcba9876", false, false },
    { "deadbeefdeadbeefdeadbeef", false, false },
    { "Password1234567890!", false, false },
    { "P@ssw0rd-2024-P@ssw0rd", false, false },
    { "correcthorsebatterystaple", true, true },
    { "!ChangeThisMercureHubJWTSecretKey!", false, false },
    { "change-me: paste `openssl rand -base64 32`", false, false },
    { "another-secret-0c4e8a2f6b1d9e3c7a5f", false, true },
};

START_TEST(test_token_strength)
{
    for (size_t i = 0; i < sizeof token_strength / sizeof token_strength[0];
         i++) {
        const char *sec = token_strength[i].secret;
        const char *tw = config_token_check(sec);
        const char *kw = config_token_key_check(sec, strlen(sec));

        ck_assert_msg((tw == NULL) == token_strength[i].token_ok,
                      "token \"%s\" (%u bits) must be %s: %s", sec,
                      config_token_bits(sec, strlen(sec)),
                      token_strength[i].token_ok ? "accepted" : "refused",
                      tw ? tw : "accepted");
        ck_assert_msg((kw == NULL) == token_strength[i].key_ok,
                      "key \"%s\" must be %s", sec,
                      token_strength[i].key_ok ? "accepted" : "refused");
        ck_assert_msg(tw == NULL || strstr(tw, "sseq token") != NULL,
                      "a refused token must say how to make one: %s", tw);
        ck_assert_msg(kw == NULL || strstr(kw, "openssl rand") != NULL,
                      "a refused key must say how to make one: %s", kw);
    }
}
END_TEST

/* Uncommenting the example's publisher_jwt_key must not give a working
 * key: every program refuses it and says how to make one. */
START_TEST(test_example_key_refused)
{
    char text[16384], *line;
    FILE *fp = fopen(EXAMPLE, "r");
    size_t n;

    ck_assert_ptr_nonnull(fp);
    n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    line = strstr(text, "    publisher_jwt_key = \"\";\n");
    ck_assert_msg(line != NULL, "the example must set publisher_jwt_key");
    memmove(line, line + 27, strlen(line + 27) + 1);    /* drop it */
    line = strstr(text, "# publisher_jwt_key = \"");
    ck_assert_msg(line != NULL, "the example must show a publisher key");
    line[0] = ' ';                                      /* uncomment it */
    n = 1;
    for (const char *p = text; p < line; p++)
        n += *p == '\n';
    conf_bad(text, (int)n, "mercure.publisher_jwt_key", "openssl rand");
}
END_TEST

START_TEST(test_channel_limits)
{
    char name[257];
    struct config cfg;

    memset(name, 'a', sizeof name);
    conf_ok("channel_pattern = \"a*\";\n", &cfg);
    ck_assert_msg(config_channel_valid(&cfg, name, 255),
                  "a 255-byte name must be matched");
    ck_assert_msg(!config_channel_valid(&cfg, name, 256),
                  "a 256-byte name must be invalid whatever the pattern");
    ck_assert_msg(!config_channel_valid(&cfg, "a\0a", 3),
                  "a NUL in a name must be invalid");
    config_free(&cfg);
    conf_ok("channel_pattern = \".*\";\n", &cfg);
    ck_assert_msg(config_channel_valid(&cfg, "a:b c", 5),
                  "\".*\" must match any other name");
    ck_assert_msg(!config_channel_valid(&cfg, "a\nchannel: b", 12) &&
                  !config_channel_valid(&cfg, "a\rdata: b", 9) &&
                  !config_channel_valid(&cfg, "a\r\n", 3),
                  "a CR or LF in a name must be invalid whatever the "
                  "pattern (it would inject SSE fields on tag=channel)");
    config_free(&cfg);
    config_defaults(&cfg);
    ck_assert_msg(config_channel_valid(&cfg, name, 64) &&
                  !config_channel_valid(&cfg, name, 65),
                  "the default pattern must allow 1 to 64 bytes");
    config_free(&cfg);
}
END_TEST

/* ---- errors ---- */

/* Bad values: the file text, the line and setting reported, and a word
 * of the reason. */
static const struct {
    const char *text;
    int line;
    const char *setting, *reason;
} bad_values[] = {
    /* wrong types */
    { "\nstream: {\n  heartbeat = \"15\";\n};\n", 3, "stream.heartbeat",
      "must be an integer (got a string)" },
    { "max_message_size = 1.5;\n", 1, "max_message_size", "got a float" },
    { "queue: { path = 5; };\n", 1, "queue.path", "must be a string" },
    { "log_level = true;\n", 1, "log_level", "got a boolean" },
    { "stream = 5;\n", 1, "stream", "must be a group" },
    { "cors_origins = \"*\";\n", 1, "cors_origins", "must be an array" },
    { "cors_origins = [ 1 ];\n", 1, "cors_origins[0]", "must be a string" },
    { "queue: { owner = \"-x\"; };\n", 1, "queue.owner",
      "user or group name" },
    { "queue: { group = \"a b\"; };\n", 1, "queue.group",
      "user or group name" },
    { "queue: { owner = 33; };\n", 1, "queue.owner", "must be a string" },
    { "publish: { tokens = [ \"abcdefgh\" ]; };\n", 1, "publish.tokens",
      "must be a list" },
    { "publish: { tokens = ( \"abcdefgh\" ); };\n", 1, "publish.tokens[0]",
      "must be a group" },
    /* out of range */
    { "stream: { heartbeat = 0; };\n", 1, "stream.heartbeat",
      "between 1 and 3600" },
    { "stream: { heartbeat = 3601; };\n", 1, "stream.heartbeat", "3601" },
    { "queue: { max_age = -1; };\n", 1, "queue.max_age", "negative" },
    { "queue: { size = \"1K\"; };\n", 1, "queue.size",
      "between 64K and 1024G" },
    { "queue: { size = \"64MB\"; };\n", 1, "queue.size", "64MB" },
    { "stream: { client_buffer = \"\"; };\n", 1, "stream.client_buffer",
      "must be a size" },
    /* integers libconfig 1.5 would silently wrap to 32 bits */
    { "queue: { size = 4294967296; };\n", 1, "queue.size", "L suffix" },
    { "\nstream: { heartbeat = 4294967311; };\n", 2, "stream.heartbeat",
      "write 4294967311L" },
    { "stream: { heartbeat = 0xFFFFFFFF; };\n", 1, "stream.heartbeat",
      "L suffix" },
    { "queue: { max_age = -2147483649; };\n", 1, "queue.max_age",
      "L suffix" },
    /* unknown settings */
    { "queue: {\n  sise = 1;\n};\n", 2, "queue.sise", "unknown setting" },
    { "\n\nheartbeat = 15;\n", 3, "heartbeat", "unknown setting" },
    { "streams: { heartbeat = 15; };\n", 1, "streams", "unknown setting" },
    { "publish: { tokens = ( { token = \"k7Qm-2xVw9pLr4tZn\";\n"
      " chanels = [ \"a\" ];"
      " } ); };\n", 2, "publish.tokens[0].chanels", "unknown setting" },
    /* the queue */
    { "queue: { mode = \"0999\"; };\n", 1, "queue.mode", "octal" },
    { "queue: { mode = 0600; };\n", 1, "queue.mode", "octal string" },
    { "queue: { mode = \"01777\"; };\n", 1, "queue.mode", "0777" },
    { "queue: { mode = \"0666\"; };\n", 1, "queue.mode", "every user" },
    { "queue: { mode = \"0400\"; };\n", 1, "queue.mode", "owner" },
    { "queue: { mode = \"\"; };\n", 1, "queue.mode", "octal" },
    { "queue: { path = \"sseq\"; };\n", 1, "queue.path", "shared-memory" },
    { "queue: { path = \"/\"; };\n", 1, "queue.path", "shared-memory" },
    { "queue: { path = \"/var/lib/\"; };\n", 1, "queue.path", "file path" },
    { "queue: { path = \"var/lib/q\"; };\n", 1, "queue.path", "is relative" },
    { "queue: { path = \"./q\"; };\n", 1, "queue.path", "is relative" },
    /* channels and publishing */
    { "channel_pattern = \"a(b\";\n", 1, "channel_pattern",
      "bad regular expression" },
    { "channel_pattern = \"a)|(b\";\n", 1, "channel_pattern",
      "bad regular expression" },
    { "channel_pattern = \"\";\n", 1, "channel_pattern", "1 to 1024" },
    { "publish: {\n tokens = (\n { token = \"short\"; }\n );\n};\n", 3,
      "publish.tokens[0].token", "16 to 512" },
    { "publish: { tokens = ( { token = \"0123456789abcde\"; } ); };\n", 1,
      "publish.tokens[0].token", "sseq token" },
    { "publish: {\n tokens = (\n { token = \"change-me\"; }\n );\n};\n", 3,
      "publish.tokens[0].token", "placeholder copied from an example, "
      "not a secret: replace it with "
      "the output of `sseq token` (it contains \"change-me\")" },
    { "publish: { tokens = ( { token = \"please-CHANGE-ME-now-1234\"; } ); "
      "};\n", 1, "publish.tokens[0].token", "placeholder" },
    { "publish: { tokens = ( { token = \"your-token-goes-here\"; } ); };\n",
      1, "publish.tokens[0].token", "placeholder" },
    { "publish: { tokens = ( { token = \"aaaaaaaaaaaaaaaaaaaa\"; } ); };\n",
      1, "publish.tokens[0].token", "too few distinct" },
    { "publish: { tokens = ( { token = \"1212121212121212\"; } ); };\n",
      1, "publish.tokens[0].token", "too few distinct" },
    { "publish: { tokens = ( { token = \"has space\"; } ); };\n", 1,
      "publish.tokens[0].token", "A-Z" },
    { "publish: { tokens = ( { channels = [ \"a\" ]; } ); };\n", 1,
      "publish.tokens[0]", "no \"token\"" },
    { "publish: { tokens = ( { token = \"k7Qm-2xVw9pLr4tZn\"; "
      "channels = [ ]; } ); "
      "};\n", 1, "publish.tokens[0].channels", "at least one" },
    { "publish: { open_channels = [ \"\" ]; };\n", 1,
      "publish.open_channels[0]", "glob" },
    { "cors_origins = [ \"https://example.com/\" ];\n", 1, "cors_origins[0]",
      "no path" },
    { "cors_origins = [ \"example.com\" ];\n", 1, "cors_origins[0]",
      "origin" },
    { "cors_origins = [ \"https://Example.com\" ];\n", 1, "cors_origins[0]",
      "lowercase" },
    { "log_level = \"verbose\";\n", 1, "log_level", "verbose" },
    /* relations between settings */
    { "max_message_size = \"32M\";\n", 1, "max_message_size", "quarter" },
    { "\nqueue: { size = \"128K\"; };\n", 2, "queue.size",
      "4 times max_message_size" },
    { "stream: { client_buffer = \"16K\"; };\n", 1, "stream.client_buffer",
      "at least max_message_size" },
    /* the Mercure hub */
    { "mercure: { publisher_jwt_alg = \"none\"; };\n", 1,
      "mercure.publisher_jwt_alg", "must be \"HS256\"" },
    { "mercure: { subscriber_jwt_alg = \"hs256\"; };\n", 1,
      "mercure.subscriber_jwt_alg", "hs256" },
    { "mercure: {\n publisher_jwt_key = \"too-short\"; };\n", 2,
      "mercure.publisher_jwt_key", "shorter than 32 bytes" },
    { "mercure: { subscriber_jwt_alg = \"HS512\";\n subscriber_jwt_key = "
      "\"0123456789abcdef0123456789abcdef0123\"; };\n", 2,
      "mercure.subscriber_jwt_key", "HS512 secret shorter than 64" },
    { "mercure: {\n subscriber_jwt_key = \"-----BEGIN PUBLIC KEY-----\\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQg\\n-----END PUBLIC KEY-----\"; };\n",
      2, "mercure.subscriber_jwt_key", "must not be PEM" },
    { "mercure: { publisher_jwt_alg = \"RS256\";\n publisher_jwt_key = "
      "\"0123456789abcdef0123456789abcdef0123\"; };\n", 2,
      "mercure.publisher_jwt_key", "PEM public key" },
    { "mercure: { publisher_jwt_key = "
      "\"0123456789abcdef0123456789abcdef0123\";\n"
      " publisher_jwt_key_file = \"/etc/hostname\"; };\n", 2,
      "mercure.publisher_jwt_key_file", "not both" },
    { "mercure: { subscriber_jwt_key_file = \"/nonexistent/sseq.key\"; };\n",
      1, "mercure.subscriber_jwt_key_file", "cannot read" },
    { "mercure: { subscriber_jwt_key_file = \"keys/sub.pem\"; };\n", 1,
      "mercure.subscriber_jwt_key_file", "absolute" },
    { "mercure: { cookie_name = \"my cookie\"; };\n", 1,
      "mercure.cookie_name", "cookie name" },
    { "mercure: { cookie_name = \"\"; };\n", 1, "mercure.cookie_name",
      "cookie name" },
    { "mercure: { issuer = \"https://app\"; };\n", 1, "mercure.issuer",
      "set mercure.resource too" },
    { "mercure: { resource = \"https://hub/.well-known/mercure\"; };\n",
      1, "mercure.resource", "set mercure.issuer too" },
    { "mercure: { issuer = \"https://app\";\n resource = \"hub.example\";"
      " };\n", 2, "mercure.resource", "the hub's URL" },
    { "mercure: { issuer = \"x\";\n resource = \"https://h/m?x=1\"; };\n",
      2, "mercure.resource", "no query" },
    { "mercure: { issuer = \"my app\"; };\n", 1, "mercure.issuer",
      "no spaces" },
    { "mercure: { access_cookie_name = \"a;b\"; };\n", 1,
      "mercure.access_cookie_name", "cookie name" },
    { "mercure: { anonymous = 1; };\n", 1, "mercure.anonymous",
      "true or false" },
    { "mercure: { topic_max = 0; };\n", 1, "mercure.topic_max",
      "between 1 and 65536" },
    { "mercure: { cors_credentials_origins = [ \"*\" ]; };\n", 1,
      "mercure.cors_credentials_origins[0]", "credentials" },
    { "mercure: { cors_credentials_origins = [ \"https://a/b\" ]; };\n", 1,
      "mercure.cors_credentials_origins[0]", "no path" },
    { "cluster: { redis = \"redis://127.0.0.1:6379\"; };\n"
      "mercure: {\n subscriptions = true; };\n", 3,
      "mercure.subscriptions", "not available in cluster mode" },
    { "mercure: { jwt_key = \"x\"; };\n", 1, "mercure.jwt_key",
      "unknown setting" },
    /* a setting or group given twice is named (libconfig names none) */
    { "queue: { size = \"1M\"; };\n\nqueue: {\n path = \"/x\"; };\n", 3,
      "queue", "is set twice (duplicate setting name): set it once" },
    { "queue: { path = \"/a\";\n  size = \"1M\"; path = \"/b\"; };\n", 2,
      "queue.path", "set it once" },
    { "log_level = \"info\"; log_level = \"debug\";\n", 1, "log_level",
      "set twice" },
    { "stream: {\n heartbeat = 5;\n heartbeat\n = 6; };\n", 3,
      "stream.heartbeat", "set twice" },
    { "publish: { tokens = ( { token = \"d82bbf479a9b4b973850669eded1fa9c\";"
      " },\n { channels = [ \"a\", \"b\" ]; token = \"x\";\n token = "
      "\"y\"; } ); };\n", 3, "publish.tokens[1].token", "set twice" },
    /* a wrapped literal is reported against the setting it is the value
     * of, not another on its line */
    { "stream: { heartbeat = 5; retry = 99999999999; };\n", 1,
      "stream.retry", "too large for 32 bits" },
    /* a syntax error names the setting, or the group, on its line */
    { "queue: {\n  path = ;\n};\n", 2, "queue.path", "syntax error" },
    { "stream: {\n heartbeat = 5;\n\n}}\n", 4, "stream", "syntax error" },
};

START_TEST(test_bad_values)
{
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++)
        conf_bad(bad_values[i].text, bad_values[i].line,
                 bad_values[i].setting, bad_values[i].reason);
}
END_TEST

START_TEST(test_syntax_error)
{
    char err[512], path[256], prefix[300];
    struct config cfg;

    ck_assert_msg(conf_load_text("queue: {\n  path = ;\n};\n", &cfg, err,
                                 sizeof err, path, sizeof path) == -1,
                  "a syntax error must be refused");
    snprintf(prefix, sizeof prefix, "%s:2: ", path);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0 &&
                  strlen(err) > strlen(prefix),
                  "a syntax error must read \"%s<parser message>\", got "
                  "\"%s\"", prefix, err);
    config_free(&cfg);
    ck_assert_msg(conf_load_text("a = 1", &cfg, err, sizeof err, path,
                                 sizeof path) == -1,
                  "a setting without ';' must be refused");
    config_free(&cfg);
    ck_assert_msg(conf_load_text("queue: { path = \"/a\"; path = \"/b\"; };",
                                 &cfg, err, sizeof err, path,
                                 sizeof path) == -1,
                  "a setting given twice must be refused");
    config_free(&cfg);
}
END_TEST

START_TEST(test_not_a_file)
{
    struct config cfg;
    char err[512];

    ck_assert_msg(config_load(&cfg, "/", true, err, sizeof err) == -1,
                  "a directory must be refused");
    ck_assert_msg(strncmp(err, "/: ", 3) == 0,
                  "the error must name the path, got \"%s\"", err);
    config_free(&cfg);
}
END_TEST

/* config_hub_url: mercure.hub_url, else mercure.resource, else NULL
 * (each request's URL). */
static const struct {
    const char *hub_url, *resource, *want;
} hub_url_rows[] = {
    { "", "", NULL },
    { "https://a.example/hub", "", "https://a.example/hub" },
    { "", "https://r.example/.well-known/mercure",
      "https://r.example/.well-known/mercure" },
    { "https://a.example/hub", "https://r.example/.well-known/mercure",
      "https://a.example/hub" },
    { NULL, NULL, NULL },
};

START_TEST(test_hub_url)
{
    struct config c = { 0 };
    const char *got;

    for (size_t i = 0; i < sizeof(hub_url_rows) / sizeof(hub_url_rows[0]);
         i++) {
        c.mercure_hub_url = (char *)hub_url_rows[i].hub_url;
        c.mercure_resource = (char *)hub_url_rows[i].resource;
        got = config_hub_url(&c);
        ck_assert_msg(hub_url_rows[i].want == NULL ? got == NULL :
                      got != NULL && strcmp(got, hub_url_rows[i].want) == 0,
                      "row %zu: got %s, want %s", i, got ? got : "NULL",
                      hub_url_rows[i].want ? hub_url_rows[i].want : "NULL");
    }
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_test(core, test_defaults);
    tcase_add_test(core, test_example_loads);
    tcase_add_test(core, test_every_setting);
    tcase_add_test(core, test_missing_file);
    tcase_add_test(core, test_path_precedence);
    tcase_add_test(core, test_path_precedence_load);
    tcase_add_test(core, test_print_roundtrip);
    tcase_add_test(core, test_print_masks_tokens);
    tcase_add_test(core, test_channel_valid);
    tcase_add_test(core, test_cors_allow);
    tcase_add_test(core, test_hub_url);
    tcase_add_test(core, test_mercure_defaults);
    tcase_add_test(core, test_mercure_keys);
    suite_add_tcase(s, core);
    tcase_add_test(limits, test_numeric_limits);
    tcase_add_test(limits, test_sizes);
    tcase_add_test(limits, test_token_limits);
    tcase_add_test(limits, test_token_strength);
    tcase_add_test(limits, test_example_key_refused);
    tcase_add_test(limits, test_channel_limits);
    suite_add_tcase(s, limits);
    tcase_add_test(errors, test_bad_values);
    tcase_add_test(errors, test_syntax_error);
    tcase_add_test(errors, test_not_a_file);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return unit_run(config_suite());
}
