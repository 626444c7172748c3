# scripts/lib.sh -- what scripts/test, scripts/demo and bench/run share:
# installing missing Debian packages and building out of tree.
# Sourced, not run.

SSEQ_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages to build and run sseq with nginx + spawn-fcgi.
SSEQ_BUILD_PKGS="gcc make autoconf automake libtool pkg-config
    libfcgi-dev libfcgi-bin libconfig-dev check spawn-fcgi nginx
    python3 curl ca-certificates procps libjwt-dev libssl-dev
    libhiredis-dev openssl"
# What the test suite needs besides: the other web servers the shipped
# configs are tested with (tests/integration/test_other_servers.py), the
# Prometheus text parser (tests/integration/test_metrics.py), logrotate
# (tests/integration/test_install.py checks the snippet), and a real JWT
# library to mint test tokens, and the Redis the cluster tests start
# (tests/integration/test_cluster*.py), PHP and the Symfony Mercure
# component a PHP app publishes with (tests/integration/test_symfony.py).
SSEQ_CHECK_PKGS="apache2 lighttpd python3-prometheus-client logrotate
    python3-jwt python3-cryptography redis-server php-cli
    php-symfony-mercure"
# tests/integration/test_sentinel.py: Redis Sentinel, ip netns and veths.
SSEQ_CHECK_PKGS="$SSEQ_CHECK_PKGS redis-sentinel iproute2"
SSEQ_TEST_PKGS=$SSEQ_CHECK_PKGS
# clang and libFuzzer for the fuzz targets (fuzz/fuzz.am).
SSEQ_TEST_PKGS="$SSEQ_TEST_PKGS clang libclang-rt-14-dev"
# Building and checking the Debian package (scripts/deb-test); its chroot
# test (--chroot) also needs debootstrap.
SSEQ_DEB_PKGS="debhelper lintian fakeroot dpkg-dev debootstrap build-essential"
# scripts/test installs them with the rest, before its lanes run side by
# side (two apt-get at once would fight over dpkg's lock).
SSEQ_TEST_PKGS="$SSEQ_TEST_PKGS $SSEQ_DEB_PKGS"

# The build tools a git checkout needs besides the libraries configure
# names (configure.ac's AC_MSG_ERRORs say "install the Debian package X").
SSEQ_BUILD_TOOLS="gcc make autoconf automake libtool pkg-config"

# The guide a reader installs from: doc/install-from-source.md, or
# README.md before that page exists.
sseq_install_doc() {
    if [ -f "$SSEQ_TOP/doc/install-from-source.md" ]; then
        echo "$SSEQ_TOP/doc/install-from-source.md"
    else
        echo "$SSEQ_TOP/README.md"
    fi
}

# Prints, one a line, the packages of the first `apt-get install` command
# inside a fenced code block of file $1 (sseq_install_doc by default):
# continuation lines (ending in a backslash) joined, sudo and options
# dropped. Prints nothing when there is no such command.
sseq_doc_pkgs() {
    awk '
        /^[ \t]*```/ { fenced = !fenced; next }
        !fenced || done { next }
        cmd == "" && !/apt-get[ \t]+install/ { next }
        {
            line = $0; cont = sub(/\\[ \t]*$/, "", line)
            cmd = cmd " " line
            if (!cont) done = 1
        }
        END {
            sub(/.*apt-get[ \t]+install/, "", cmd)
            n = split(cmd, w, /[ \t]+/)
            for (i = 1; i <= n; i++)
                if (w[i] != "" && w[i] !~ /^-/) print w[i]
        }' "${1:-$(sseq_install_doc)}"
}

# Prints, one a line, the Debian packages configure.ac names in its
# errors (what ./configure stops without).
sseq_configure_pkgs() {
    grep -o 'install the Debian package [A-Za-z0-9.+-]*' \
        "$SSEQ_TOP/configure.ac" | awk '{print $NF}' | sort -u
}

# What `make check` runs before its integration tests: names in one line
# the packages of SSEQ_BUILD_PKGS and SSEQ_CHECK_PKGS (the servers the
# tests start, the Python modules they import) that are missing, and
# fails. Not on a system without dpkg (nothing to ask).
sseq_check_pkgs() {
    local missing
    command -v dpkg-query >/dev/null || return 0
    missing=$(sseq_missing_pkgs $SSEQ_BUILD_PKGS $SSEQ_CHECK_PKGS |
              tr '\n' ' ')
    [ -z "${missing// /}" ] && return 0
    echo "make check: the tests need Debian packages that are missing:" \
         "apt-get install ${missing% } (or run ./scripts/test as root," \
         "which installs them)" >&2
    return 1
}

# Prints the packages of "$@" that are not installed.
sseq_missing_pkgs() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
            grep -q '^install ok installed' || echo "$p"
    done
}

# Installs the missing packages among "$@" (apt-get, as root); without
# root, names them and fails.
sseq_install() {
    local missing
    missing=$(sseq_missing_pkgs "$@" | tr '\n' ' ')
    [ -z "${missing// /}" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "sseq: missing Debian packages: $missing" >&2
        echo "sseq: install them with: sudo apt-get install -y $missing" >&2
        return 1
    fi
    echo "== installing: $missing"
    if [ -z "${SSEQ_APT_UPDATED:-}" ]; then
        apt-get update -qq || return 1
        SSEQ_APT_UPDATED=1
    fi
    # Web servers must not start as system services on port 80 while we
    # install them: a policy-rc.d of our own forbids it for this install.
    local policy=/usr/sbin/policy-rc.d ours=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" &&
            ours=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $missing >/dev/null
    local rc=$?
    [ -n "$ours" ] && rm -f "$policy"
    [ "$rc" = 0 ] || { echo "sseq: apt-get install $missing failed" >&2; return 1; }
}

# Node.js and npm: Debian's packages, unless a node with npm is already
# there (a nodesource nodejs carries its own npm and conflicts with
# Debian's npm package).
sseq_install_node() {
    if command -v node >/dev/null && command -v npm >/dev/null; then
        return 0
    fi
    sseq_install nodejs npm
}

# Regenerates the build system when configure is missing or older than
# its inputs.
sseq_autoreconf() {
    local f
    if [ -x "$SSEQ_TOP/configure" ]; then
        f=$(find "$SSEQ_TOP/configure.ac" "$SSEQ_TOP/Makefile.am" \
                 "$SSEQ_TOP" -maxdepth 3 -name '*.am' -newer \
                 "$SSEQ_TOP/configure" 2>/dev/null | head -1)
        [ -z "$f" ] && ! [ "$SSEQ_TOP/configure.ac" -nt "$SSEQ_TOP/configure" ] && return 0
    fi
    (cd "$SSEQ_TOP" && mkdir -p m4 && autoreconf -fi >/dev/null)
}

# A build configured in the source tree itself
# (doc/install-from-source.md's `./configure && make`) makes every out-of-tree configure fail with
# "source directory already configured": this cleans it (make distclean,
# announced; what `make install` installed stays) so that scripts/demo,
# scripts/test and bench/run work whatever build came first.
sseq_unconfigure_top() {
    local dir=$1
    [ -f "$SSEQ_TOP/config.status" ] || return 0
    [ "$(cd "$dir" && pwd -P)" = "$(cd "$SSEQ_TOP" && pwd -P)" ] && return 0
    echo "== $SSEQ_TOP was configured in place (./configure there): running" \
        "make distclean in it so that builds under _build/ work" >&2
    make -C "$SSEQ_TOP" -s distclean >/dev/null 2>&1 ||
        rm -f "$SSEQ_TOP/config.status"
}

# Configures (if needed) and builds in $1 with configure options "${@:2}".
sseq_build() {
    local dir=$1; shift
    sseq_autoreconf || return 1
    mkdir -p "$dir"
    sseq_unconfigure_top "$dir" || return 1
    if [ ! -f "$dir/Makefile" ] || [ "$(cat "$dir/.sseq-opts" 2>/dev/null)" != "$*" ]; then
        (cd "$dir" && "$SSEQ_TOP/configure" -q "$@") || return 1
        echo "$*" >"$dir/.sseq-opts"
    fi
    make -C "$dir" -j"$(nproc)" -s >/dev/null || make -C "$dir" -s
}
