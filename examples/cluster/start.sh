#!/usr/bin/env bash
# Starts a Redis, three chat instances clustered through it, and nginx in front of them, all on loopback:
#   line clients: nc 127.0.0.1 7008       browsers: http://127.0.0.1:8008/
# Each instance also listens on its own ports (7101-7103 for lines, 8101-8103 for the web, 9101-9103 for
# metrics). Ctrl-C stops everything. With "bench" as argument it runs `bench http` through the balancer
# against the chat page instead of waiting, then stops.
# Needs: redis-server (Debian: redis-server), nginx with its stream module (Debian: nginx-light and
# libnginx-mod-stream), and the examples jar (built here when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=examples/target/server-framework-examples.jar
REDIS_PORT=${REDIS_PORT:-6390}
[ -f "$JAR" ] || mvn -B -q -DskipTests package
RUN=$(mktemp -d /tmp/sf-cluster.XXXXXX)
pids=()
cleanup() {
  [ -f "$RUN/nginx.pid" ] && kill "$(cat "$RUN/nginx.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped; logs in $RUN"
}
trap cleanup EXIT

wait_for_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1; see the logs in $RUN" >&2
  exit 1
}

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$RUN/redis.log" 2>&1 &
pids+=($!)
wait_for_port "$REDIS_PORT"
for i in 1 2 3; do
  java -jar "$JAR" chat --port "710$i" --http-port "810$i" --metrics-port "910$i" --bind 127.0.0.1 \
    --redis "redis://127.0.0.1:$REDIS_PORT" >"$RUN/chat-$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do wait_for_port "710$i"; wait_for_port "810$i"; done
sed -e "s|@RUN_DIR@|$RUN|g" -e "s|@LINE_PORT@|7008|g" -e "s|@WEB_PORT@|8008|g" \
    -e "s|@LINE_PORT_\([123]\)@|710\1|g" -e "s|@WEB_PORT_\([123]\)@|810\1|g" \
    examples/cluster/nginx.conf >"$RUN/nginx.conf"
nginx -p "$RUN" -c "$RUN/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_for_port 7008
wait_for_port 8008
echo "Redis on 127.0.0.1:$REDIS_PORT; chat instances on 7101-7103 / 8101-8103; nginx on 7008 (lines) and 8008 (web)"
echo "logs in $RUN"
if [ "${1:-}" = bench ]; then
  java -jar "$JAR" bench http --target http://127.0.0.1:8008/ -c 1,32 --modes keepalive -d 10s --warmup 5s \
    --out "$RUN/bench" --no-progress
else
  echo "Ctrl-C stops everything"
  wait
fi
