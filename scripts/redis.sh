#!/usr/bin/env bash
# Local Redis for dev runs and tests, without Docker.
#
#   scripts/redis.sh ensure                                  # apt-get install redis-server if missing
#   scripts/redis.sh start  [--port 6379] [--data-dir DIR]   # daemonized, bound to 127.0.0.1
#   scripts/redis.sh stop   [--data-dir DIR]
#   scripts/redis.sh status [--data-dir DIR]                 # exit 0 ready, 1 not answering, 3 stopped
#
# Env: REDIS_START_TIMEOUT (s, default 20), REDIS_STOP_TIMEOUT (s, default 20).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=6379
DATA=$REPO/.data/redis

die() { echo "redis.sh: $*" >&2; exit 1; }

parse_args() {
    while (($#)); do
        case $1 in
            --port) PORT=$2; shift 2 ;;
            --data-dir) DATA=$2; shift 2 ;;
            *) die "unknown argument: $1" ;;
        esac
    done
    DATA=$(realpath -m "$DATA")  # absolute: redis chdirs into --dir
    PIDFILE=$DATA/redis.pid
    LOG=$DATA/redis.log
}

ensure() {
    command -v redis-server >/dev/null && return 0
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    echo "redis.sh: installing redis-server with apt-get" >&2
    "${sudo[@]}" apt-get update -qq
    # On hosts with a live init system this also starts a system redis on 6379; our
    # instances are separate processes, so pick another --port there.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    command -v redis-server >/dev/null || die "redis-server still not on PATH after install"
}

# Zombies count as dead: an orphaned daemon is reaped by pid 1, which may take a while.
alive() { [[ $(ps -o stat= -p "$1" 2>/dev/null) == [^Z]* ]]; }

# Prints the pid of the redis owning $DATA, if alive (a stale pid file may point at a
# recycled pid, hence the command-line check).
running_pid() {
    local pid
    [[ -f $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    [[ -n $pid ]] && ps -ww -o args= -p "$pid" 2>/dev/null | grep -q '^redis-server' || return 1
    echo "$pid"
}

# redis-server retitles itself "redis-server 127.0.0.1:PORT"
running_port() { ps -ww -o args= -p "$1" | sed -n 's/.*:\([0-9]*\)$/\1/p'; }

ping() { [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

start() {
    parse_args "$@"
    command -v redis-server >/dev/null || die "redis-server not found; run: $0 ensure"
    local pid
    if pid=$(running_pid); then
        [[ $(running_port "$pid") == "$PORT" ]] ||
            die "a redis (pid $pid) already runs on $DATA with another port; stop it first"
        echo "redis.sh: already running (pid $pid)" >&2
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "port $PORT is already in use"
        rm -f "$PIDFILE"
        mkdir -p "$DATA"
        # No config file: defaults plus these flags (RDB snapshots land in the data dir).
        redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes \
            --pidfile "$PIDFILE" --logfile "$LOG" --dir "$DATA"
    fi
    local t0=$SECONDS
    until ping "$PORT"; do
        # the daemon writes its pid file just after forking: give it a moment
        if ((SECONDS - t0 >= 2)) && ! running_pid >/dev/null; then
            tail -n 10 "$LOG" >&2
            die "redis-server exited during start-up; see $LOG"
        fi
        if ((SECONDS - t0 >= ${REDIS_START_TIMEOUT:-20})); then
            tail -n 10 "$LOG" >&2
            stop --data-dir "$DATA"
            die "not ready after ${REDIS_START_TIMEOUT:-20}s; see $LOG"
        fi
        sleep 0.1
    done
    echo "redis.sh: ready on 127.0.0.1:$PORT (pid $(<"$PIDFILE"), data $DATA)" >&2
}

stop() {
    parse_args "$@"
    local pid
    if ! pid=$(running_pid); then
        rm -f "$PIDFILE"
        echo "redis.sh: not running ($DATA)" >&2
        return 0
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + ${REDIS_STOP_TIMEOUT:-20}))
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    rm -f "$PIDFILE"
    echo "redis.sh: stopped (pid $pid)" >&2
}

status() {
    parse_args "$@"
    local pid port
    pid=$(running_pid) || { echo "stopped ($DATA)"; exit 3; }
    port=$(running_port "$pid")
    if ping "$port"; then
        echo "ready: pid $pid, 127.0.0.1:$port, data $DATA"
    else
        echo "running but not answering: pid $pid, see $LOG"
        exit 1
    fi
}

cmd=${1:-}
shift || true
case $cmd in
    ensure) ensure ;;
    start) start "$@" ;;
    stop) stop "$@" ;;
    status) status "$@" ;;
    *) die "usage: $0 ensure | start [--port P] [--data-dir D] | stop [--data-dir D] | status [--data-dir D]" ;;
esac
