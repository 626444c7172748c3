#!/usr/bin/env bash
# scripts/cluster.sh -- what a stack (scripts/stack.sh) needs to join a
# cluster through Redis: the cluster group of sseq.conf and the bridge.
# Does nothing unless SSEQ_REDIS is set, e.g.
#   SSEQ_REDIS=redis://127.0.0.1:6379/0 ./scripts/demo
#
# Sourced (bash), it defines:
#   sseq_cluster_conf            prints the `cluster = {...};` lines for
#                                sseq.conf (nothing without SSEQ_REDIS)
#   sseq_cluster_start DIR BUILDDIR   starts sseq-bridge for the stack in
#                                DIR (after its queue exists) with the
#                                shipped sseq-bridge-start; waits until it
#                                is connected; its log is DIR/bridge.log
#   sseq_cluster_stop DIR        stops that bridge by its pid file
#
# Settings, from the environment (default):
#   SSEQ_REDIS             redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or
#                          unix:///path (unset: no cluster)
#   SSEQ_REDIS_PREFIX      cluster.prefix, the Redis key prefix (sseq)
#   SSEQ_REDIS_RETENTION   cluster.retention, stream entries kept (1000000)

# Prints the cluster group for sseq.conf.
sseq_cluster_conf() {
    [ -n "${SSEQ_REDIS:-}" ] || return 0
    printf 'cluster = {\n  redis = "%s";\n  prefix = "%s";\n' \
        "$SSEQ_REDIS" "${SSEQ_REDIS_PREFIX:-sseq}"
    printf '  retention = %s;\n};\n' "${SSEQ_REDIS_RETENTION:-1000000}"
}

# Starts the bridge of the stack in DIR $1 with build dir $2's programs.
sseq_cluster_start() {
    local dir=${1:?DIR} build=${2:?BUILDDIR} i
    [ -n "${SSEQ_REDIS:-}" ] || return 0
    sseq_cluster_stop "$dir"
    RUNDIR=$dir CONF=$dir/sseq.conf PROGRAM=$build/src/sseq-bridge \
        LOG=$dir/bridge.log SSEQ_SPAWN_KEEP_USER=1 \
        "$build/fcgi-conf/spawn-fcgi/sseq-bridge-start" ||
        { echo "sseq: sseq-bridge-start failed" >&2; return 1; }
    for ((i = 0; i < 100; i++)); do
        "$build/src/sseq" -c "$dir/sseq.conf" stats --json 2>/dev/null |
            grep -q '"connected":true' && return 0
        sleep 0.1
    done
    echo "sseq: sseq-bridge did not connect to Redis (see" \
         "$dir/bridge.log):" >&2
    tail -n 3 "$dir/bridge.log" >&2
    return 1
}

# Stops the bridge of the stack in DIR $1 (SIGTERM, then SIGKILL).
sseq_cluster_stop() {
    local dir=${1:?DIR} pid cmd i
    [ -r "$dir/bridge.pid" ] || return 0
    pid=$(cat "$dir/bridge.pid")
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")
    if [[ $cmd == *sseq-bridge*"$dir/sseq.conf"* ]]; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 50; i++)); do
            [ -e "/proc/$pid" ] || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$dir/bridge.pid"
}
