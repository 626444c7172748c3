/* url_parts.h -- a URL (absolute, or relative to a base URL) split into
 * the eight components URL patterns match: protocol, username, password,
 * hostname, port, pathname, search, hash; canonical as the WHATWG URL
 * Standard's basic URL parser makes them, for what Mercure topics use.
 *
 * What it does: scheme lowercased; special schemes (http, https, ws,
 * wss, ftp, file) take an authority, backslashes as slashes, a default
 * port dropped, hosts percent-decoded and lowercased (ASCII), a path
 * whose "." and ".." segments (and %2e forms) are resolved, "/" when
 * empty; other schemes an opaque path, or an authority and path when
 * "//" follows the colon; relative references resolved against the
 * base (RFC 3986 section 5 as the WHATWG parser does it); each component
 * percent-encoded with its WHATWG encode set (userinfo, path, query,
 * special-query, fragment, C0 control); a port of digits up to 65535.
 * Refused (-EINVAL): no scheme and no base, a relative reference against
 * an opaque-path base (but "#..."), a special URL without a host, a
 * forbidden host code point, a bad port, an unterminated IPv6 literal.
 * Not done: IDNA (a non-ASCII hostname stays as UTF-8, lowercased in
 * its ASCII bytes), IPv4 number forms (0x7f.1 stays as written), IPv6
 * compression (the literal is lowercased, not rewritten). */
#ifndef SSEQ_URL_PARTS_H
#define SSEQ_URL_PARTS_H

#include <stdbool.h>
#include <stddef.h>

enum url_part {
    URL_PROTOCOL = 0,
    URL_USERNAME,
    URL_PASSWORD,
    URL_HOSTNAME,
    URL_PORT,
    URL_PATHNAME,
    URL_SEARCH,
    URL_HASH,
    URL_PARTS
};

/* A parsed URL: component i is v[i][0..len[i]), NUL-terminated, in buf. */
struct url_parts {
    const char *v[URL_PARTS];
    size_t len[URL_PARTS];
    bool opaque_path;           /* scheme:path without an authority */
    char *buf;                  /* malloc'd: the components */
};

/* The WHATWG percent-encode sets a component is written with. */
enum url_encode_set {
    URL_ENCODE_C0 = 0,          /* C0 controls and non-ASCII */
    URL_ENCODE_FRAGMENT,        /* + space " < > ` */
    URL_ENCODE_QUERY,           /* C0 + space " # < > */
    URL_ENCODE_SPECIAL_QUERY,   /* query + ' */
    URL_ENCODE_PATH,            /* query + ? ` { } */
    URL_ENCODE_USERINFO,        /* path + / : ; = @ [ \ ] ^ | */
};

/* Parses s[0..len) against base (NULL: none) into u (url_parts_free it
 * on success). 0, -EINVAL (not a URL, see above) or -ENOMEM. */
int url_parts_parse(struct url_parts *u, const char *s, size_t len,
                    const struct url_parts *base);

void url_parts_free(struct url_parts *u);

/* Whether scheme s[0..len) (lowercase) is special. */
bool url_parts_special(const char *s, size_t len);

/* The default port of special scheme s[0..len) ("80"), or NULL. */
const char *url_parts_default_port(const char *s, size_t len);

/* Writes s[0..len) percent-encoded with set into out (room for 3 x len
 * bytes); its length. A '%' is kept as it is. */
size_t url_parts_encode(char *out, const char *s, size_t len,
                        enum url_encode_set set);

/* Writes special-URL path s[0..len) canonical into out[0..cap) (cap at
 * least 3 x len + 3): backslashes as slashes, "." and ".." segments
 * resolved, path-encoded, "/" when empty; NUL-terminated; its length. */
size_t url_parts_path_encode(char *out, size_t cap, const char *s,
                             size_t len);

#endif
