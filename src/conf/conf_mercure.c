/* conf_mercure.c -- the Mercure hub's settings (mercure.*): the keys
 * publishers' and subscribers' JWTs are verified with, each pinned to one
 * algorithm, the issuer and resource identifier Mercure 1.0 access
 * tokens must name (set both or neither), the cookies, anonymous
 * subscribers, topic length, credentialed CORS origins, the pattern
 * selectors' cost budgets, the hub's URL (relative URL patterns and
 * topics are resolved against it; mercure.resource when unset: see
 * config_hub_url). After reading, each key is loaded
 * (inline or from its file) into cfg->mercure_pub / mercure_sub and
 * checked against its algorithm; an HMAC secret must also be no
 * placeholder and hard to guess
 * (config_token.c). Keys are secrets: never printed, quoted or logged. */
#include "ac_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config_int.h"
#include "conf/config_token.h"
#include "mercure/jwt_auth.h"
#include "mercure/uri_template.h"
#include "mercure/url_parts.h"

#define CONF_COOKIE_MAX 128     /* bytes of mercure.cookie_name */
#define CONF_ISSUER_MAX 2048    /* bytes of mercure.issuer, .resource */

static const char conf_mercure_def_none[] = "";
static const char conf_mercure_def_alg[] = "HS256";
static const char conf_mercure_def_cookie[] = "mercureAuthorization";
static const char conf_mercure_def_access_cookie[] =
    "__Secure-mercure_access_token";

/* An inline key: a secret or PEM text ("" = none). */
static const char *conf_mercure_key_check(const char *str, char *buf,
                                          size_t len)
{
    if (strlen(str) <= JWT_AUTH_KEY_MAX)
        return NULL;
    snprintf(buf, len, "must be at most %d bytes", JWT_AUTH_KEY_MAX);
    return buf;
}

static const char *conf_mercure_alg_check(const char *str, char *buf,
                                          size_t len)
{
    enum jwt_auth_alg alg;

    (void)buf;
    (void)len;
    if (jwt_auth_alg_parse(str, &alg) == 0)
        return NULL;
    return "must be \"HS256\", \"HS384\", \"HS512\", \"RS256\", \"RS384\", "
           "\"RS512\", \"ES256\", \"ES384\" or \"ES512\"";
}

/* A cookie name: an RFC 6265 token (visible ASCII but separators). */
static const char *conf_mercure_cookie_check(const char *str, char *buf,
                                             size_t len)
{
    size_t n = strlen(str);

    for (size_t i = 0; i < n; i++)
        if (str[i] <= 0x20 || str[i] >= 0x7f ||
            strchr("()<>@,;:\\\"/[]?={}", str[i]) != NULL)
            n = 0;
    if (n != 0 && n <= CONF_COOKIE_MAX)
        return NULL;
    snprintf(buf, len, "must be a cookie name of 1 to %d visible ASCII "
             "characters without ()<>@,;:\\\"/[]?={}", CONF_COOKIE_MAX);
    return buf;
}

/* An issuer identifier: "" (none), or visible ASCII / UTF-8 text without
 * controls or spaces (compared byte for byte with a token's iss). */
static const char *conf_mercure_issuer_check(const char *str, char *buf,
                                             size_t len)
{
    size_t n = strlen(str), i;

    for (i = 0; i < n; i++)
        if ((unsigned char)str[i] <= 0x20 || str[i] == 0x7f)
            break;
    if (i == n && n <= CONF_ISSUER_MAX)
        return NULL;
    snprintf(buf, len, "must be an identifier such as "
             "\"https://example.com\" (at most %d bytes, no spaces or "
             "control characters)", CONF_ISSUER_MAX);
    return buf;
}

/* The hub's resource identifier: "" (none), or an absolute http(s) URL
 * without query or fragment (RFC 9728 derives the metadata URL from
 * it), e.g. "https://example.com/.well-known/mercure". */
static const char *conf_mercure_resource_check(const char *str, char *buf,
                                               size_t len)
{
    const char *host = strncmp(str, "https://", 8) == 0 ? str + 8
                     : strncmp(str, "http://", 7) == 0 ? str + 7 : NULL;

    if (str[0] == '\0')
        return NULL;
    if (host != NULL && host[0] != '\0' && host[0] != '/' &&
        strpbrk(str, "?#\"\\") == NULL &&
        conf_mercure_issuer_check(str, buf, len) == NULL)
        return NULL;
    return "must be the hub's URL, such as "
           "\"https://example.com/.well-known/mercure\" (http or https, no "
           "query, no fragment, no spaces or quotes)";
}

/* The hub's URL: "" (from each request) or an absolute URL with a host. */
static const char *conf_mercure_hub_url_check(const char *str, char *buf,
                                              size_t len)
{
    struct url_parts u;
    bool ok;

    (void)buf;
    (void)len;
    if (str[0] == '\0')
        return NULL;
    if (url_parts_parse(&u, str, strlen(str), NULL) < 0)
        return "must be an absolute URL, e.g. "
               "\"https://example.com/.well-known/mercure\"";
    ok = u.len[URL_HOSTNAME] > 0;
    url_parts_free(&u);
    return ok ? NULL : "must be a URL with a host, e.g. "
                       "\"https://example.com/.well-known/mercure\"";
}

/* An origin trusted with credentials: never "*" (browsers refuse it). */
static const char *conf_mercure_cred_origin_check(const char *str,
                                                  char *buf, size_t len)
{
    if (strcmp(str, "*") == 0)
        return "must be an exact origin: \"*\" cannot carry credentials";
    return config_check_origin(str, buf, len);
}

static const struct config_item conf_mercure_items[] = {
    CONFIG_STR("mercure.publisher_jwt_key", config_type_secret,
               mercure_pub_key, conf_mercure_def_none,
               conf_mercure_key_check),
    CONFIG_STR("mercure.publisher_jwt_key_file", config_type_string,
               mercure_pub_key_file, conf_mercure_def_none,
               config_check_path),
    CONFIG_STR("mercure.publisher_jwt_alg", config_type_string,
               mercure_pub_alg, conf_mercure_def_alg,
               conf_mercure_alg_check),
    CONFIG_STR("mercure.subscriber_jwt_key", config_type_secret,
               mercure_sub_key, conf_mercure_def_none,
               conf_mercure_key_check),
    CONFIG_STR("mercure.subscriber_jwt_key_file", config_type_string,
               mercure_sub_key_file, conf_mercure_def_none,
               config_check_path),
    CONFIG_STR("mercure.subscriber_jwt_alg", config_type_string,
               mercure_sub_alg, conf_mercure_def_alg,
               conf_mercure_alg_check),
    CONFIG_STR("mercure.cookie_name", config_type_string,
               mercure_cookie_name, conf_mercure_def_cookie,
               conf_mercure_cookie_check),
    CONFIG_STR("mercure.issuer", config_type_string, mercure_issuer,
               conf_mercure_def_none, conf_mercure_issuer_check),
    CONFIG_STR("mercure.resource", config_type_string, mercure_resource,
               conf_mercure_def_none, conf_mercure_resource_check),
    CONFIG_STR("mercure.access_cookie_name", config_type_string,
               mercure_access_cookie, conf_mercure_def_access_cookie,
               conf_mercure_cookie_check),
    CONFIG_NUM("mercure.anonymous", config_type_bool, mercure_anonymous, 0,
               1, 1),
    CONFIG_NUM("mercure.topic_max", config_type_uint, mercure_topic_max, 1,
               URI_TEMPLATE_SUBJECT_MAX, 1024),
    CONFIG_LIST("mercure.cors_credentials_origins", config_type_strings,
                mercure_cred_origins, n_mercure_cred_origins,
                conf_mercure_cred_origin_check),
    CONFIG_NUM("mercure.static_tokens_on_hub", config_type_bool,
               mercure_static_on_hub, 0, 1, 0),
    CONFIG_NUM("mercure.protocol_v0", config_type_bool, mercure_protocol_v0,
               0, 1, 1),
    CONFIG_NUM("mercure.subscriptions", config_type_bool,
               mercure_subscriptions, 0, 1, 0),
    CONFIG_NUM("mercure.selector_cost_max", config_type_uint,
               mercure_selector_cost_max, 1, 1000000, 64),
    CONFIG_NUM("mercure.stream_pattern_cost", config_type_uint,
               mercure_stream_pattern_cost, 1, 100000000, 512),
    CONFIG_NUM("mercure.anonymous_pattern_cost", config_type_uint,
               mercure_anon_pattern_cost, 1, 100000000, 32),
    CONFIG_NUM("mercure.process_pattern_cost", config_type_uint,
               mercure_process_pattern_cost, 1, 1000000000, 4096),
    CONFIG_STR("mercure.hub_url", config_type_string, mercure_hub_url,
               conf_mercure_def_none, conf_mercure_hub_url_check),
};

/* The settings of one key and where its material goes. */
static const struct conf_mercure_key {
    const char *key, *file, *alg;       /* setting names */
    size_t key_off, file_off, alg_off, out_off;
} conf_mercure_keys[] = {
    { "mercure.publisher_jwt_key", "mercure.publisher_jwt_key_file",
      "mercure.publisher_jwt_alg", offsetof(struct config, mercure_pub_key),
      offsetof(struct config, mercure_pub_key_file),
      offsetof(struct config, mercure_pub_alg),
      offsetof(struct config, mercure_pub) },
    { "mercure.subscriber_jwt_key", "mercure.subscriber_jwt_key_file",
      "mercure.subscriber_jwt_alg", offsetof(struct config, mercure_sub_key),
      offsetof(struct config, mercure_sub_key_file),
      offsetof(struct config, mercure_sub_alg),
      offsetof(struct config, mercure_sub) },
};

/* Reads a key file (at most JWT_AUTH_KEY_MAX bytes) into *out, *len;
 * -errno, -EFBIG when longer. */
static int conf_mercure_read_key_file(const char *path, unsigned char **out,
                                      size_t *len)
{
    FILE *fp = fopen(path, "rbe");
    unsigned char *buf;
    size_t n;
    int rc;

    if (fp == NULL)
        return -errno;
    buf = malloc(JWT_AUTH_KEY_MAX + 1);
    if (buf == NULL) {
        fclose(fp);
        return -ENOMEM;
    }
    n = fread(buf, 1, JWT_AUTH_KEY_MAX + 1, fp);
    rc = ferror(fp) ? -EIO : n > JWT_AUTH_KEY_MAX ? -EFBIG : 0;
    fclose(fp);
    if (rc < 0) {
        explicit_bzero(buf, n);
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Loads one key: from its file or inline text, checked against its
 * algorithm (an HMAC secret also against config_token_key_check), into
 * the derived field. -EINVAL (reported) on a bad key. */
static int conf_mercure_load_key(struct config_load *ld,
                                 const struct conf_mercure_key *r)
{
    const char *key = *(char **)((char *)ld->cfg + r->key_off);
    const char *file = *(char **)((char *)ld->cfg + r->file_off);
    const char *alg = *(char **)((char *)ld->cfg + r->alg_off);
    struct config_jwt_key *out = (void *)((char *)ld->cfg + r->out_off);
    const char *why, *setting = file[0] ? r->file : r->key;
    enum jwt_auth_alg a = JWT_AUTH_HS256;
    int rc;

    if (key[0] != '\0' && file[0] != '\0')
        return config_fail_at(ld, r->file, "set %s or %s, not both",
                              r->key, r->file);
    if (key[0] == '\0' && file[0] == '\0')
        return 0;
    (void)jwt_auth_alg_parse(alg, &a);          /* checked when parsed */
    out->alg = (int)a;
    if (file[0] != '\0') {
        rc = conf_mercure_read_key_file(file, &out->key, &out->len);
        if (rc < 0)
            return config_fail_at(ld, r->file, "cannot read \"%s\": %s",
                                  file, strerror(-rc));
    } else {
        out->len = strlen(key);
        out->key = (unsigned char *)strdup(key);
        if (out->key == NULL)
            return config_fail_at(ld, r->key, "out of memory");
    }
    if (jwt_auth_key_check(a, out->key, out->len, &why) < 0)
        return config_fail_at(ld, setting, "%s (%s is %s)", why, r->alg,
                              alg);
    why = a <= JWT_AUTH_HS512 ?                 /* an HMAC secret */
          config_token_key_check(out->key, out->len) : NULL;
    if (why != NULL)
        return config_fail_at(ld, setting, "%s", why);
    return 0;
}

/* Loads every key; reports the first bad one. The 1.0 profile needs
 * both the issuer and the resource. Active subscriptions are appended
 * by sseq-stream itself, which cluster mode forbids. */
static int conf_mercure_check(struct config_load *ld)
{
    size_t n = sizeof conf_mercure_keys / sizeof conf_mercure_keys[0];
    bool iss = ld->cfg->mercure_issuer[0] != '\0';
    bool res = ld->cfg->mercure_resource[0] != '\0';

    if (iss != res)
        return config_fail_at(ld, iss ? "mercure.issuer" : "mercure.resource",
                              "Mercure 1.0 access tokens need both "
                              "mercure.issuer and mercure.resource: set "
                              "%s too, or neither",
                              iss ? "mercure.resource" : "mercure.issuer");
    if (ld->cfg->mercure_subscriptions && ld->cfg->cluster_redis[0] != '\0')
        return config_fail_at(ld, "mercure.subscriptions", "not available "
                              "in cluster mode yet (cluster.redis is set):"
                              " the hosts' subscription updates would not"
                              " reach each other");
    for (size_t i = 0; i < n; i++)
        if (conf_mercure_load_key(ld, &conf_mercure_keys[i]) < 0)
            return -EINVAL;
    return 0;
}

/* Wipes and frees a loaded key. */
static void conf_mercure_key_free(struct config_jwt_key *k)
{
    if (k->key != NULL)
        explicit_bzero(k->key, k->len);
    free(k->key);
    memset(k, 0, sizeof(*k));
}

static void conf_mercure_release(struct config *cfg)
{
    conf_mercure_key_free(&cfg->mercure_pub);
    conf_mercure_key_free(&cfg->mercure_sub);
}

const struct config_module conf_mercure_module =
    CONFIG_MODULE(conf_mercure_items, NULL, conf_mercure_check,
                  conf_mercure_release);

const char *config_hub_url(const struct config *cfg)
{
    if (cfg->mercure_hub_url != NULL && cfg->mercure_hub_url[0] != '\0')
        return cfg->mercure_hub_url;
    if (cfg->mercure_resource != NULL && cfg->mercure_resource[0] != '\0')
        return cfg->mercure_resource;
    return NULL;
}
