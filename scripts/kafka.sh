#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller in one JVM) for local runs and tests,
# run straight from Maven Central jars: no Docker, no Kafka tarball.
#
#   scripts/kafka.sh fetch
#   scripts/kafka.sh start  [--port 9092] [--controller-port 9093] [--data-dir DIR] [--foreground]
#                           [--sasl-ssl-port P --keystore FILE.p12 --keystore-password PW
#                            --user NAME:PASSWORD ...]
#   scripts/kafka.sh stop   [--data-dir DIR]
#   scripts/kafka.sh status [--data-dir DIR]    # exit 0 ready, 1 running but not answering, 3 stopped
#
# With --sasl-ssl-port the broker also listens for SASL_SSL (as managed Kafka does): TLS with
# the PKCS12 --keystore (key and certificate chain), and each --user may authenticate with
# PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (SCRAM credentials are written at storage format,
# so users are fixed when the data dir is first used). Brokers talk among themselves and
# with the controller over PLAINTEXT, on 127.0.0.1 only.
#
# Env: WELLSTREAM_CACHE_DIR (jar cache, default $REPO/.cache), KAFKA_HEAP_OPTS, KAFKA_JVM_OPTS,
#      KAFKA_START_TIMEOUT (s, default 90), KAFKA_STOP_TIMEOUT (s, default 30).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
POM=$REPO/deploy/kafka/pom.xml
LOG4J_CONF=$REPO/deploy/kafka/log4j2.properties
VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")
CACHE=${WELLSTREAM_CACHE_DIR:-$REPO/.cache}/kafka-$VERSION
LIBS=$CACHE/libs

PORT=9092
CONTROLLER_PORT=9093
DATA=$REPO/.data/kafka
FOREGROUND=0
SASL_SSL_PORT=
KEYSTORE=
KEYSTORE_PASSWORD=
USERS=()

die() { echo "kafka.sh: $*" >&2; exit 1; }

parse_args() {
    while (($#)); do
        case $1 in
            --port) PORT=$2; shift 2 ;;
            --controller-port) CONTROLLER_PORT=$2; shift 2 ;;
            --data-dir) DATA=$2; shift 2 ;;
            --foreground) FOREGROUND=1; shift ;;
            --sasl-ssl-port) SASL_SSL_PORT=$2; shift 2 ;;
            --keystore) KEYSTORE=$(realpath -m "$2"); shift 2 ;;
            --keystore-password) KEYSTORE_PASSWORD=$2; shift 2 ;;
            --user) [[ $2 == ?*:?* ]] || die "--user wants NAME:PASSWORD"; USERS+=("$2"); shift 2 ;;
            *) die "unknown argument: $1" ;;
        esac
    done
    if [[ -n $SASL_SSL_PORT ]]; then
        [[ -f $KEYSTORE && -n $KEYSTORE_PASSWORD && ${#USERS[@]} -gt 0 ]] ||
            die "--sasl-ssl-port needs --keystore FILE, --keystore-password and --user NAME:PASSWORD"
    fi
    DATA=$(realpath -m "$DATA")  # absolute: it ends up in server.properties and the pid check
    PROPS=$DATA/server.properties
    PIDFILE=$DATA/kafka.pid
    LOGDIR=$DATA/logs
}

fetch() {
    # The marker holds the pom's hash: a changed pom or an interrupted fetch means re-fetch.
    local want
    want=$(sha256sum "$POM" | cut -d' ' -f1)
    mkdir -p "$CACHE"
    (
        flock 9  # parallel test sessions may fetch at once
        [[ -f $CACHE/fetched && $(<"$CACHE/fetched") == "$want" ]] && exit 0
        rm -rf "$LIBS" "$CACHE/fetched"
        echo "kafka.sh: fetching Kafka $VERSION jars into $LIBS" >&2
        mvn -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
            -DoutputDirectory="$LIBS" >"$CACHE/fetch.log" 2>&1 ||
            { tail -n 30 "$CACHE/fetch.log" >&2; die "jar fetch failed, see $CACHE/fetch.log"; }
        echo "$want" >"$CACHE/fetched"
    ) 9>"$CACHE/.lock"
}

# Zombies count as dead: an orphaned daemon is reaped by pid 1, which may take a while.
alive() { [[ $(ps -o stat= -p "$1" 2>/dev/null) == [^Z]* ]]; }

# Prints the pid of the broker owning $DATA, if alive (checked against the command line so
# a recycled pid from a stale pid file is not mistaken for the broker).
running_pid() {
    local pid
    [[ -f $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    [[ -n $pid ]] && ps -ww -o args= -p "$pid" 2>/dev/null | grep -qF "$PROPS" || return 1
    echo "$pid"
}

# Ready = the broker answers a Metadata request listing itself under our cluster id. An open
# port is not enough: the listener opens before the broker is unfenced (fenced brokers are
# left out of the answer), and the port might belong to some other broker.
# Plain-socket Metadata v4 (the oldest version Kafka 4 accepts), so no client library needed.
probe() {
    local cluster_id
    cluster_id=$(sed -n 's/^cluster.id=//p' "$DATA/data/meta.properties" 2>/dev/null)
    python3 - "$1" "$cluster_id" <<'EOF' 2>/dev/null
import socket, struct, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    # header v1 (api_key 3, version 4, correlation id, client id), no topics, no auto-create
    req = struct.pack(">hhih5sib", 3, 4, 1, 5, b"probe", 0, 0)
    s.sendall(struct.pack(">i", len(req)) + req)
    f = s.makefile("rb")
    buf = f.read(struct.unpack(">i", f.read(4))[0])
pos = 8  # skip correlation id, throttle time

def take(fmt):
    global pos
    (v,) = struct.unpack_from(fmt, buf, pos)
    pos += struct.calcsize(fmt)
    return v

def string():
    global pos
    n = take(">h")
    pos += max(n, 0)
    return buf[pos - n : pos].decode() if n >= 0 else None

brokers = take(">i")
for _ in range(brokers):
    take(">i"), string(), take(">i"), string()  # node id, host, port, rack
sys.exit(0 if brokers and string() == sys.argv[2] else 1)
EOF
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_props() {
    mkdir -p "$DATA/data" "$LOGDIR"
    # Static voter set (not --standalone/bootstrap.servers): the controller port is then
    # plain config, so a restart may use other ports on the same data dir.
    local secure="" secure_map=""
    if [[ -n $SASL_SSL_PORT ]]; then
        secure=",SASL_SSL://127.0.0.1:$SASL_SSL_PORT"
        secure_map=",SASL_SSL:SASL_SSL"
    fi
    cat >"$PROPS" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT$secure
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT$secure
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT$secure_map
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
    [[ -z $SASL_SSL_PORT ]] || write_sasl_ssl_props
}

# The SASL_SSL listener's TLS and users: PLAIN users are listed in its JAAS line, SCRAM
# users are stored in the cluster metadata (see format_args).
write_sasl_ssl_props() {
    local user plain="org.apache.kafka.common.security.plain.PlainLoginModule required"
    for user in "${USERS[@]}"; do plain+=" user_${user%%:*}=\"${user#*:}\""; done
    local scram="org.apache.kafka.common.security.scram.ScramLoginModule required;"
    chmod 600 "$PROPS"  # it holds the passwords
    cat >>"$PROPS" <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
ssl.keystore.type=PKCS12
ssl.keystore.location=$KEYSTORE
ssl.keystore.password=$KEYSTORE_PASSWORD
ssl.key.password=$KEYSTORE_PASSWORD
listener.name.sasl_ssl.plain.sasl.jaas.config=$plain;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=$scram
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$scram
EOF
}

# Storage-format arguments creating each user's SCRAM credentials, one per line.
format_args() {
    local user mechanism
    for user in "${USERS[@]}"; do
        for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
            printf '%s\n' --add-scram "$mechanism=[name=${user%%:*},password=${user#*:}]"
        done
    done
}

set_java() {
    # Small heap: Kafka lives off the page cache. SerialGC and no perf-data file keep
    # start-up and footprint low on a 2-core box.
    # shellcheck disable=SC2206  # the *_OPTS are meant to split into words
    JAVA=(java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
        -XX:+UseSerialGC -XX:-UsePerfData -Djava.awt.headless=true ${KAFKA_JVM_OPTS:-}
        -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$LOGDIR" -cp "$LIBS/*")
}

show_errors() {
    tail -n 5 "$LOGDIR/kafka.out" >&2 2>/dev/null || true
    grep -E -A2 '^\[.*\] (ERROR|FATAL)' "$LOGDIR/server.log" 2>/dev/null | tail -n 15 >&2 || true
}

start() {
    parse_args "$@"
    fetch
    local pid
    if pid=$(running_pid); then
        grep -qx "listeners=PLAINTEXT://127.0.0.1:$PORT,.*" "$PROPS" ||
            die "a broker (pid $pid) already runs on $DATA with other ports; stop it first"
        echo "kafka.sh: already running (pid $pid) on 127.0.0.1:$PORT" >&2
    else
        local p
        for p in "$PORT" "$CONTROLLER_PORT"; do
            ! port_busy "$p" || die "port $p is already in use (another broker? see: ss -ltnp)"
        done
        write_props
        set_java
        if [[ ! -f $DATA/data/meta.properties ]]; then
            # Random KRaft cluster id (22-char url-safe base64 of 16 bytes); Kafka avoids a
            # leading '-' so the id is never mistaken for a CLI flag.
            local id
            id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
            id=W${id:1}
            local scram=()
            mapfile -t scram < <(format_args)
            "${JAVA[@]}" kafka.tools.StorageTool format -t "$id" -c "$PROPS" "${scram[@]}" \
                >"$LOGDIR/format.out" 2>&1 || die "storage format failed: $LOGDIR/format.out"
        fi
        if ((FOREGROUND)); then
            echo $$ >"$PIDFILE"
            exec "${JAVA[@]}" kafka.Kafka "$PROPS"
        fi
        # setsid: the broker outlives this script and ignores the caller's Ctrl-C.
        # All fds are redirected so a caller capturing our output does not hang on the broker.
        # A background job of a non-interactive shell is no process-group leader, so setsid
        # execs in place and $! is the broker's own pid: no window where the pid file lags.
        setsid "${JAVA[@]}" kafka.Kafka "$PROPS" </dev/null >"$LOGDIR/kafka.out" 2>&1 &
        echo $! >"$PIDFILE"
    fi

    local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
    until probe "$PORT"; do
        if ! running_pid >/dev/null && { sleep 1; ! running_pid >/dev/null; }; then
            show_errors
            die "broker exited during start-up; see $LOGDIR/server.log and $LOGDIR/kafka.out"
        fi
        if ((SECONDS >= deadline)); then
            show_errors
            stop --data-dir "$DATA"  # start either yields a ready broker or leaves nothing behind
            die "broker not ready after ${KAFKA_START_TIMEOUT:-90}s; see $LOGDIR/server.log"
        fi
        sleep 0.25
    done
    echo "kafka.sh: ready on 127.0.0.1:$PORT (pid $(running_pid), data $DATA)" >&2
}

stop() {
    parse_args "$@"
    local pid
    if ! pid=$(running_pid); then
        rm -f "$PIDFILE"
        echo "kafka.sh: not running ($DATA)" >&2
        return 0
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + ${KAFKA_STOP_TIMEOUT:-30}))
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            echo "kafka.sh: pid $pid ignored SIGTERM, killing" >&2
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$PIDFILE"
    echo "kafka.sh: stopped (pid $pid)" >&2
}

status() {
    parse_args "$@"
    local pid port
    pid=$(running_pid) || { echo "stopped ($DATA)"; exit 3; }
    port=$(sed -n 's#^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*#\1#p' "$PROPS")
    if probe "$port"; then
        echo "ready: pid $pid, 127.0.0.1:$port, data $DATA"
    else
        echo "running but not answering: pid $pid, 127.0.0.1:$port, see $LOGDIR/server.log"
        exit 1
    fi
}

cmd=${1:-}
shift || true
case $cmd in
    fetch) fetch ;;
    start) start "$@" ;;
    stop) stop "$@" ;;
    status) status "$@" ;;
    *) die "usage: $0 fetch | start [--port P] [--controller-port C] [--data-dir D] [--foreground] [--sasl-ssl-port P --keystore F --keystore-password PW --user NAME:PW ...] | stop [--data-dir D] | status [--data-dir D]" ;;
esac
