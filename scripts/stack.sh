#!/usr/bin/env bash
# scripts/stack.sh -- one sseq stack under one private directory DIR:
# nginx (the shipped fcgi-conf/nginx/sseq.conf snippet, www/ as its root)
# on 127.0.0.1:PORT, spawn-fcgi -F N sseq-stream and sseq-publish on
# DIR/stream.sock and DIR/publish.sock, a private queue and DIR/sseq.conf.
# Everything is started in the background and stopped by the PIDs it wrote
# into DIR. Shared by scripts/demo, tests/browser/run and bench/run.
#
# Sourced (bash), it defines:
#   sseq_stack_start DIR PORT BUILDDIR   (stops a stack left in DIR first)
#   sseq_stack_stop DIR
#   sseq_stack_status DIR                (0: all runs, 1: part, 3: none)
#   sseq_stack_restart_stream DIR        (new sseq-stream processes with no
#                                         downtime: sseq-spawn restart)
#   sseq_stack_stop_stream DIR, sseq_stack_start_stream DIR (its halves)
#   sseq_stack_nginx_conf DIR PORT       (only writes DIR/nginx.conf, for
#                                         the integration tests)
# Run, it does the same: scripts/stack.sh start|stop|status|restart-stream|
# stop-stream|start-stream DIR [PORT BUILDDIR], nginx-conf DIR PORT.
#
# Settings, from the environment (default):
#   SSEQ_TOKEN                   publish token (random hex)
#   SSEQ_STACK_STREAM_PROCS      sseq-stream processes (2)
#   SSEQ_STACK_PUBLISH_PROCS     sseq-publish processes (1)
#   SSEQ_STACK_NGINX_WORKERS     nginx worker processes (1)
#   SSEQ_STACK_NGINX_CONNECTIONS worker_connections (24576: a stream holds
#                                two nginx connections, client and
#                                upstream, so 10,000 streams on one worker
#                                need 20,000 and some room)
#   SSEQ_STACK_ACCESS_LOG        "on" (DIR/access.log) or "off" (on)
#   SSEQ_STACK_NGINX_DAEMON      "on", or "off" for nginx in the
#                                foreground (a test's child) (on)
#   SSEQ_STACK_NGINX_USER        its workers' user (root when run as
#                                root, else the caller's)
#   SSEQ_STACK_NGINX_LOG_LEVEL   error_log level (warn)
#   SSEQ_STACK_NGINX_SNIPPETS    the directory of the sseq.conf and
#                                sseq-upstream.conf nginx includes
#                                (fcgi-conf/nginx; or an installed copy)
#   SSEQ_STACK_SOCKETS           the directory of stream.sock and
#                                publish.sock (DIR; /run/sseq: the
#                                upstream file is included as it is)
#   SSEQ_STACK_QUEUE             queue path (/sseq-stack-UID-<hash of DIR>)
#   SSEQ_STACK_QUEUE_SIZE        queue.size (16M)
#   SSEQ_STACK_MAX_MESSAGE_SIZE  max_message_size (65536)
#   SSEQ_STACK_OPEN_CHANNELS     publish.open_channels globs ("chat.*")
#   SSEQ_STACK_HEARTBEAT, _RETRY, _BACKLOG_MAX, _MAX_SUBSCRIBERS,
#   _CLIENT_BUFFER, _COALESCE_US stream.* (15, 1000, 1000, 10000, 256K, 100000)
#   SSEQ_STACK_LOG_LEVEL         log_level (info)
#   SSEQ_STACK_JWT_KEY           the Mercure hub's HS256 secret for
#                                publishers and subscribers (none: no
#                                mercure group); with it the chat's
#                                presence token is served at
#                                /chat/presence-token
#   SSEQ_STACK_SUBSCRIPTIONS     mercure.subscriptions with a JWT key
#                                (true: the chat shows who is online;
#                                false: no presence token either)
#   SSEQ_STACK_CONF_EXTRA        more top-level libconfig lines, as is
# Files in DIR: sseq.conf, nginx.conf, sseq-upstream.conf, stack.env (what
# was started), *.pid, stream.log, publish.log, error.log, access.log.

SSEQ_TOP=${SSEQ_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
. "$SSEQ_TOP/scripts/cluster.sh"

# nginx lives in /usr/sbin, which a normal user's PATH may lack.
case ":$PATH:" in
    *:/usr/sbin:*) ;;
    *) PATH=$PATH:/usr/sbin:/sbin ;;
esac

# Prints a one-line error naming the culprit and returns 1.
_stack_die() {
    echo "sseq: $*" >&2
    return 1
}

# Whether PID runs (not a zombie) and its command line mentions every one
# of "${@:2}" (so a reused PID is never taken for ours).
_stack_pid_is() {
    local pid=$1 cmd w
    shift
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    [ -n "$cmd" ] || return 1
    for w in "$@"; do
        [[ $cmd == *"$w"* ]] || return 1
    done
}

# Prints the PIDs listed in pid file $1 (one a line) that still run a
# program whose command line mentions "${@:2}".
_stack_pids() {
    local file=$1 pid
    shift
    [ -r "$file" ] || return 0
    while read -r pid || [ -n "$pid" ]; do
        _stack_pid_is "$pid" "$@" && echo "$pid"
    done <"$file"
}

# Sends SIGTERM to PIDs "${@:2}", waits up to $1 seconds, then SIGKILLs
# what is left.
_stack_kill() {
    local secs=$1 pid left i
    shift
    [ $# = 0 ] && return 0
    kill -TERM "$@" 2>/dev/null
    for ((i = 0; i < secs * 20; i++)); do
        left=""
        for pid in "$@"; do
            _stack_pid_is "$pid" && left+=" $pid"
        done
        [ -z "$left" ] && return 0
        sleep 0.05
    done
    echo "sseq: still running after SIGTERM, killing:$left" >&2
    kill -KILL $left 2>/dev/null
    sleep 0.1
}

# Whether something accepts connections on 127.0.0.1:$1.
_stack_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The default queue name of DIR: private to this user and directory.
_stack_queue_name() {
    local sum
    sum=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
    echo "/sseq-stack-$(id -u)-$sum"
}

# A random publish token (32 hex digits).
_stack_random_token() {
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

# Creates file $1 empty and readable by its owner only (0600): it is to
# hold the publish token or the JWT secret.
_stack_private_file() {
    rm -f "$1" && (umask 077 && : >"$1") ||
        { _stack_die "cannot create $1"; return 1; }
}

# Prints $1 as the inside of a libconfig string: \ and " escaped, and
# line breaks and tabs as \n and \t, so any value sseq takes can be
# written (a JWT key with " or \ in it).
_stack_conf_string() {
    local v=${1//\\/\\\\}
    v=${v//\"/\\\"}
    v=${v//$'\n'/\\n}
    v=${v//$'\t'/\\t}
    printf '%s' "$v"
}

# Writes DIR/sseq.conf (0600: it holds the token and the JWT secret) for
# queue $2 and token $3.
_stack_write_sseq_conf() {
    local dir=$1 queue=$2 token=$3 globs="" g
    for g in ${SSEQ_STACK_OPEN_CHANNELS-chat.*}; do
        globs+="${globs:+, }\"$g\""
    done
    _stack_private_file "$dir/sseq.conf" || return 1
    cat >>"$dir/sseq.conf" <<EOF
# sseq.conf -- written by scripts/stack.sh for the stack in $dir
queue: {
    path = "$queue";
    size = "${SSEQ_STACK_QUEUE_SIZE:-16M}";
    mode = "0600";
    max_age = 0;
};
max_message_size = ${SSEQ_STACK_MAX_MESSAGE_SIZE:-65536};
stream: {
    heartbeat = ${SSEQ_STACK_HEARTBEAT:-15};
    retry = ${SSEQ_STACK_RETRY:-1000};
    backlog_max = ${SSEQ_STACK_BACKLOG_MAX:-1000};
    max_subscribers = ${SSEQ_STACK_MAX_SUBSCRIBERS:-10000};
    client_buffer = "${SSEQ_STACK_CLIENT_BUFFER:-256K}";
    coalesce_us = ${SSEQ_STACK_COALESCE_US:-100000};
};
publish: {
    tokens = ( { token = "$token"; channels = [ "*" ]; } );
    open_channels = [ $globs ];
};
log_level = "${SSEQ_STACK_LOG_LEVEL:-info}";
$(sseq_cluster_conf)
${SSEQ_STACK_CONF_EXTRA:-}
EOF
    [ -n "${SSEQ_STACK_JWT_KEY:-}" ] || return 0
    local key
    key=$(_stack_conf_string "$SSEQ_STACK_JWT_KEY")
    cat >>"$dir/sseq.conf" <<EOF
mercure: {
    publisher_jwt_key = "$key";
    subscriber_jwt_key = "$key";
    subscriptions = ${SSEQ_STACK_SUBSCRIPTIONS:-true};
};
EOF
}

# base64url of stdin (RFC 7515: no padding).
_stack_b64url() {
    openssl base64 -A | tr '+/' '-_' | tr -d '='
}

# Prints an HS256 JWT of claims $2 (JSON) signed with secret $1, minted
# with openssl (never with sseq's own code, so the stack checks sseq).
sseq_stack_jwt() {
    local head body sig
    head=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | _stack_b64url)
    body=$(printf '%s' "$2" | _stack_b64url)
    sig=$(printf '%s' "$head.$body" |
          openssl dgst -sha256 -hmac "$1" -binary | _stack_b64url)
    [ -n "$sig" ] || { _stack_die "openssl could not sign a JWT: install" \
        "the Debian package openssl"; return 1; }
    echo "$head.$body.$sig"
}

# The chat room's presence token (www/chat.js): it may read the
# subscription API's collection and subscribe to the updates of the
# chat rooms' presence topics "chat.ROOM.who.NICK", nothing else. The
# demo hands it to every visitor; an app would mint one per user.
_stack_presence_jwt() {
    local subs=/.well-known/mercure/subscriptions
    sseq_stack_jwt "$SSEQ_STACK_JWT_KEY" "{\"mercure\":{\"subscribe\":\
[\"$subs\",\"$subs/chat.{room}.who.{nick}/{subscriber}\"]}}"
}

# The nginx location serving the presence token (none without a key or
# with SSEQ_STACK_SUBSCRIPTIONS=false: the chat then shows no presence).
_stack_presence_location() {
    local jwt
    [ -n "${SSEQ_STACK_JWT_KEY:-}" ] || return 0
    [ "${SSEQ_STACK_SUBSCRIPTIONS:-true}" = true ] || return 0
    jwt=$(_stack_presence_jwt) || return 1
    cat <<EOF
        location = /chat/presence-token {
            default_type text/plain;
            add_header Cache-Control no-store;
            return 200 "$jwt";
        }
EOF
}

# Writes DIR/nginx.conf: nginx on 127.0.0.1:$2 serving www/ and the
# shipped sseq snippet (the one nginx.conf of the integration tests,
# scripts/demo and tests/browser; see the settings at the top), with the
# shipped upstreams pointed at the sockets, and the copies of
# fastcgi_params and mime.types it includes.
sseq_stack_nginx_conf() {
    local dir=${1:?DIR} port=${2:?PORT} f upstream
    local conns=${SSEQ_STACK_NGINX_CONNECTIONS:-24576}
    local snippets=${SSEQ_STACK_NGINX_SNIPPETS:-$SSEQ_TOP/fcgi-conf/nginx}
    local sockets=${SSEQ_STACK_SOCKETS:-$dir} access="$dir/access.log"
    local user=${SSEQ_STACK_NGINX_USER-} presence
    [ -z "$user" ] && [ "$(id -u)" = 0 ] && user=root
    presence=$(_stack_presence_location) || return 1
    [ "${SSEQ_STACK_ACCESS_LOG:-on}" = off ] && access=off
    for f in fastcgi_params mime.types; do
        cp "/etc/nginx/$f" "$dir/$f" ||
            { _stack_die "/etc/nginx/$f missing: install nginx"; return 1; }
    done
    mkdir -p "$dir/tmp"
    # The shipped upstreams (keepalive, the hub's method map), with the
    # sockets in $sockets unless they are where the snippet says.
    upstream=$snippets/sseq-upstream.conf
    if [ "$sockets" != /run/sseq ]; then
        upstream=$dir/sseq-upstream.conf
        sed "s|/run/sseq/|$sockets/|g" "$snippets/sseq-upstream.conf" \
            >"$upstream" || { _stack_die "cannot write $upstream"
                              return 1; }
    fi
    cat >"$dir/nginx.conf" <<EOF
# nginx.conf -- written by scripts/stack.sh for the stack in $dir
daemon ${SSEQ_STACK_NGINX_DAEMON:-on};
master_process on;
worker_processes ${SSEQ_STACK_NGINX_WORKERS:-1};
${user:+user $user;}
pid $dir/nginx.pid;
error_log $dir/error.log ${SSEQ_STACK_NGINX_LOG_LEVEL:-warn};
worker_rlimit_nofile $((conns * 2 + 64));
events { worker_connections $conns; }
http {
    include $dir/mime.types;
    default_type application/octet-stream;
    access_log $access;
    client_body_temp_path $dir/tmp/body;
    fastcgi_temp_path $dir/tmp/fastcgi;
    proxy_temp_path $dir/tmp/proxy;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $upstream;
    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        root $SSEQ_TOP/www;
        index index.html;
$presence
        include $snippets/sseq.conf;
    }
}
EOF
}

# Waits up to $1 seconds for command "${@:2}" to succeed; fails after.
_stack_wait() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 20; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

# The last line a program wrote to log $1 (else spawn-fcgi's last line).
_stack_last_line() {
    local line
    line=$(grep -v '^spawn-fcgi: ' "$1" 2>/dev/null | tail -1)
    [ -n "$line" ] || line=$(tail -1 "$1" 2>/dev/null)
    echo "$line"
}

# The worker processes of the masters in pid file $1 (their children).
_stack_workers() {
    local pid
    for pid in $(_stack_pids "$@"); do
        cat "/proc/$pid/task/$pid/children" 2>/dev/null
    done | tr ' ' '\n' | grep -v '^$'
}

# Whether pid file $1 names a running master of "${@:3}" with $2 workers.
_stack_count_is() {
    local file=$1 n=$2
    shift 2
    [ "$(_stack_pids "$file" "$@" | wc -l)" = 1 ] &&
        [ "$(_stack_workers "$file" "$@" | wc -l)" = "$n" ]
}

# Starts BUILDDIR/src/sseq-$2 with $3 workers on DIR/$2.sock through the
# shipped script (BUILDDIR/fcgi-conf/spawn-fcgi/sseq-spawn, which runs
# spawn-fcgi); its log is DIR/$2.log.
_stack_spawn() {
    local dir=$1 role=$2 n=$3 bin="$4/src/sseq-$2"
    rm -f "$dir/$role.pid"
    RUNDIR=$dir CONF=$dir/sseq.conf PROCS=$n PROGRAM=$bin \
        LOG=$dir/$role.log SSEQ_SPAWN_KEEP_USER=1 SSEQ_CLI=$4/src/sseq \
        "$4/fcgi-conf/spawn-fcgi/sseq-spawn" "$role" >>"$dir/$role.log" 2>&1 ||
        { _stack_die "spawn-fcgi $bin failed:" \
          "$(_stack_last_line "$dir/$role.log") ($dir/$role.log)"; return 1; }
    _stack_wait 10 _stack_count_is "$dir/$role.pid" "$n" "sseq-$role" \
        "$dir/sseq.conf" || { _stack_die "sseq-$role did not start:" \
        "$(_stack_last_line "$dir/$role.log") ($dir/$role.log)"; return 1; }
}

# Starts nginx on DIR/nginx.conf and waits until 127.0.0.1:$2 answers.
_stack_nginx() {
    local dir=$1 port=$2 last
    if ! nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
            >>"$dir/nginx.out" 2>&1; then
        last=$(tail -1 "$dir/nginx.out")
        _stack_die "nginx did not start: ${last:-see $dir/error.log}"
        return 1
    fi
    _stack_wait 10 _stack_port_busy "$port" || { _stack_die "nginx does" \
        "not answer on 127.0.0.1:$port: $(tail -1 "$dir/error.log")"
        return 1; }
}

# Checks what a start needs: a port number that is free, the programs.
_stack_check() {
    local port=$1 build=$2 p
    [[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
        { _stack_die "bad port '$port': give a number 1-65535"; return 1; }
    for p in nginx spawn-fcgi; do
        command -v "$p" >/dev/null || { _stack_die "$p not found:" \
            "install the Debian package $p"; return 1; }
    done
    for p in sseq sseq-stream sseq-publish; do
        [ -x "$build/src/$p" ] || { _stack_die "$build/src/$p missing:" \
            "build it first (make -C $build)"; return 1; }
    done
    if _stack_port_busy "$port"; then
        _stack_die "port $port on 127.0.0.1 is in use: stop what listens" \
            "there or choose another port (e.g. SSEQ_PORT=$((port + 1)))"
        return 1
    fi
}

# (Re)creates the queue of DIR/sseq.conf with BUILDDIR's sseq.
_stack_create() {
    "$2/src/sseq" -c "$1/sseq.conf" create --force >"$1/create.log" 2>&1 ||
        { _stack_die "sseq create failed: $(tail -1 "$1/create.log")"
          return 1; }
}

# Records what DIR runs, for stop, status and restart-stream (0600: the
# token is among it).
_stack_write_env() {
    local dir=$1
    _stack_private_file "$dir/stack.env" || return 1
    {
        printf 'STACK_PORT=%q\n' "$2"
        printf 'STACK_BUILDDIR=%q\n' "$3"
        printf 'STACK_QUEUE=%q\n' "$4"
        printf 'STACK_TOKEN=%q\n' "$5"
        printf 'STACK_STREAM_PROCS=%q\n' "$6"
        printf 'STACK_PUBLISH_PROCS=%q\n' "$7"
    } >>"$dir/stack.env"
}

# Loads DIR/stack.env into STACK_* variables; fails when DIR has none.
_stack_load_env() {
    STACK_PORT="" STACK_BUILDDIR="" STACK_QUEUE="" STACK_TOKEN=""
    STACK_STREAM_PROCS=0 STACK_PUBLISH_PROCS=0
    [ -r "$1/stack.env" ] || return 1
    . "$1/stack.env"
}

# Starts the stack in DIR $1 on port $2 with the programs of build dir $3,
# after stopping one left there. Sets STACK_TOKEN, STACK_QUEUE. On failure
# stops what it started and returns 1 (the message names the culprit).
sseq_stack_start() {
    local dir=${1:?DIR} port=${2:?PORT} build=${3:?BUILDDIR} queue token
    local ns=${SSEQ_STACK_STREAM_PROCS:-2} np=${SSEQ_STACK_PUBLISH_PROCS:-1}
    mkdir -p "$dir" && dir=$(cd "$dir" && pwd) && build=$(cd "$build" && pwd) ||
        { _stack_die "cannot use directories $1 and $3"; return 1; }
    sseq_stack_stop "$dir" >/dev/null
    _stack_check "$port" "$build" || return 1
    queue=${SSEQ_STACK_QUEUE:-$(_stack_queue_name "$dir")}
    token=${SSEQ_TOKEN:-$(_stack_random_token)}
    [[ $token =~ ^[A-Za-z0-9._~+/-]{16,512}=*$ ]] || { _stack_die "bad" \
        "SSEQ_TOKEN: use 16-512 characters of A-Z a-z 0-9 - . _ ~ + /"
        return 1; }
    rm -f "$dir"/*.log "$dir/nginx.out"
    _stack_write_env "$dir" "$port" "$build" "$queue" "$token" "$ns" \
        "$np" || return 1
    if ! { _stack_write_sseq_conf "$dir" "$queue" "$token" &&
           sseq_stack_nginx_conf "$dir" "$port" &&
           _stack_create "$dir" "$build" &&
           _stack_spawn "$dir" stream "$ns" "$build" &&
           _stack_spawn "$dir" publish "$np" "$build" &&
           _stack_nginx "$dir" "$port" &&
           sseq_cluster_start "$dir" "$build"; }; then
        sseq_stack_stop "$dir" >/dev/null
        return 1
    fi
    STACK_TOKEN=$token STACK_QUEUE=$queue STACK_PORT=$port
}

# Stops what the stack in DIR runs (nginx, then sseq-publish and
# sseq-stream), by the PIDs in DIR, and removes its queue.
sseq_stack_stop() {
    local dir=${1:?DIR}
    dir=$(cd "$dir" 2>/dev/null && pwd) && _stack_load_env "$dir" ||
        { echo "sseq: nothing to stop in $1"; return 0; }
    _stack_kill 10 $(_stack_pids "$dir/nginx.pid" nginx "$dir/nginx.conf")
    _stack_kill 10 $(_stack_pids "$dir/publish.pid" sseq-publish \
                     "$dir/sseq.conf")
    _stack_kill 10 $(_stack_pids "$dir/stream.pid" sseq-stream \
                     "$dir/sseq.conf")
    sseq_cluster_stop "$dir"
    case $STACK_QUEUE in
        /*/*) ;;                                  # a file: kept
        /*) rm -f "/dev/shm$STACK_QUEUE" ;;       # POSIX shm object
    esac
    rm -f "$dir"/*.pid "$dir"/*.sock "$dir/stack.env"
    echo "sseq: stopped the stack in $dir"
}

# Loads the stack of DIR $1 into STACK_* and sets dir to its absolute
# path; fails with a message when DIR runs no stack.
_stack_find() {
    dir=$(cd "$1" 2>/dev/null && pwd) && _stack_load_env "$dir" ||
        { _stack_die "no stack in $1 (start it first)"; return 1; }
}

# SIGTERMs every sseq-stream of the stack in DIR and waits for them to
# exit (SIGKILL after 10 s).
sseq_stack_stop_stream() {
    local dir
    _stack_find "${1:?DIR}" || return 1
    _stack_kill 10 $(_stack_pids "$dir/stream.pid" sseq-stream \
                     "$dir/sseq.conf")
}

# Spawns the stack's sseq-stream processes (again).
sseq_stack_start_stream() {
    local dir
    _stack_find "${1:?DIR}" || return 1
    _stack_spawn "$dir" stream "$STACK_STREAM_PROCS" "$STACK_BUILDDIR"
}

# Replaces the sseq-stream processes of the stack in DIR with no
# downtime (sseq-spawn restart: the socket stays open, the new workers
# accept before the old ones end their streams).
sseq_stack_restart_stream() {
    local dir
    _stack_find "${1:?DIR}" || return 1
    RUNDIR=$dir CONF=$dir/sseq.conf PROGRAM=$STACK_BUILDDIR/src/sseq-stream \
        LOG=$dir/stream.log SSEQ_SPAWN_KEEP_USER=1 \
        SSEQ_CLI=$STACK_BUILDDIR/src/sseq \
        "$STACK_BUILDDIR/fcgi-conf/spawn-fcgi/sseq-spawn" restart stream
}

# Prints one line about role $2 ("nginx" or an sseq program) of DIR and
# counts it in running/wanted.
_stack_status_line() {
    local dir=$1 name=$2 file=$3 want=$4 pids
    shift 4
    local n
    pids=$(_stack_pids "$file" "$@" | tr '\n' ' ')
    [ "$name" != nginx ] && pids=$(_stack_workers "$file" "$@" | tr '\n' ' ')
    n=$(echo $pids | wc -w)
    wanted=$((wanted + want))
    running=$((running + n))
    if [ -n "$pids" ]; then
        printf '  %-13s %s of %s running, pid %s\n' "$name" "$n" "$want" \
            "${pids% }"
    else
        printf '  %-13s not running\n' "$name"
    fi
}

# Says what the stack in DIR runs. Returns 0 when all of it runs, 1 when
# part of it does, 3 when nothing does.
sseq_stack_status() {
    local dir running=0 wanted=0
    dir=$(cd "${1:?DIR}" 2>/dev/null && pwd) && _stack_load_env "$dir" ||
        { echo "sseq: nothing runs in $1 (not started)"; return 3; }
    echo "sseq stack in $dir: http://127.0.0.1:$STACK_PORT/," \
         "queue $STACK_QUEUE"
    _stack_status_line "$dir" nginx "$dir/nginx.pid" 1 \
        nginx "$dir/nginx.conf"
    _stack_status_line "$dir" sseq-stream "$dir/stream.pid" \
        "$STACK_STREAM_PROCS" sseq-stream "$dir/sseq.conf"
    _stack_status_line "$dir" sseq-publish "$dir/publish.pid" \
        "$STACK_PUBLISH_PROCS" sseq-publish "$dir/sseq.conf"
    [ "$running" = 0 ] && return 3
    [ "$running" -lt "$wanted" ] && return 1
    return 0
}

# Run as a command: scripts/stack.sh COMMAND DIR [PORT BUILDDIR].
_stack_main() {
    set -u
    case ${1:-} in
        start) sseq_stack_start "${2:?DIR}" "${3:?PORT}" "${4:?BUILDDIR}" ;;
        stop) sseq_stack_stop "${2:?DIR}" ;;
        status) sseq_stack_status "${2:?DIR}" ;;
        restart-stream) sseq_stack_restart_stream "${2:?DIR}" ;;
        stop-stream) sseq_stack_stop_stream "${2:?DIR}" ;;
        start-stream) sseq_stack_start_stream "${2:?DIR}" ;;
        nginx-conf) sseq_stack_nginx_conf "${2:?DIR}" "${3:?PORT}" ;;
        *) _stack_die "usage: $0 start DIR PORT BUILDDIR | stop DIR |" \
               "status DIR | restart-stream DIR | stop-stream DIR |" \
               "start-stream DIR | nginx-conf DIR PORT" ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    _stack_main "$@"
fi
