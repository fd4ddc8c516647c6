#!/usr/bin/env bash
# A 3-node NATS JetStream cluster on loopback, for the bus's fault tests and the
# demo (docs/scale-out.md). All state lives under DIR:
#
#   scripts/nats_cluster.sh start DIR          writes DIR/node{1,2,3}.conf, starts the three
#                                              nodes, waits until JetStream has a meta leader;
#                                              prints `nats://127.0.0.1:P1,...` (the --bus value)
#   scripts/nats_cluster.sh stop DIR           stops every node (SIGTERM, then SIGKILL)
#   scripts/nats_cluster.sh kill-node I DIR    kill -9 of node I (1..3): a crashed server
#   scripts/nats_cluster.sh stop-node I DIR    SIGTERM of node I: a clean shutdown
#   scripts/nats_cluster.sh start-node I DIR   starts node I again from its config and store
#   scripts/nats_cluster.sh urls DIR           prints the --bus value again
#
# Ports are chosen once, at `start`, and kept in DIR/ports (client, cluster per
# node), so a restarted node comes back where the clients expect it. Each node has
# its own store DIR/node<I>/store. Every wait is bounded by AF_SERVER_START_TIMEOUT
# (default 30 s).
set -u

cmd=${1:-}
case "$cmd" in
  kill-node | stop-node | start-node) node=${2:-}; dir=${3:-} ;;
  *) node=; dir=${2:-} ;;
esac
usage() {
  echo "usage: $0 start|stop|urls DIR | kill-node|stop-node|start-node I DIR" >&2
  exit 2
}
[[ -n "$cmd" && -n "$dir" ]] || usage
if [[ -n "$node" || "$cmd" == *-node ]] && [[ ! "$node" =~ ^[123]$ ]]; then usage; fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
start_timeout=${AF_SERVER_START_TIMEOUT:-30}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

client_port() { sed -n "${1}p" "$dir/ports" | cut -d' ' -f1; }
route_port() { sed -n "${1}p" "$dir/ports" | cut -d' ' -f2; }
monitor_port() { sed -n "${1}p" "$dir/ports" | cut -d' ' -f3; }

urls() {
  local out= i
  for i in 1 2 3; do out+="${out:+,}nats://127.0.0.1:$(client_port $i)"; done
  echo "$out"
}

write_config() {  # I
  local i=$1 j routes=
  for j in 1 2 3; do
    [[ $j == "$i" ]] && continue
    routes+="    nats-route://127.0.0.1:$(route_port $j)"$'\n'
  done
  mkdir -p "$dir/node$i/store"
  cat >"$dir/node$i.conf" <<CONF
server_name: af_node$i
listen: 127.0.0.1:$(client_port "$i")
http: 127.0.0.1:$(monitor_port "$i")
jetstream {
  store_dir: "$dir/node$i/store"
}
cluster {
  name: af_test_cluster
  listen: 127.0.0.1:$(route_port "$i")
  routes: [
$routes  ]
}
CONF
}

start_node() {  # I
  local i=$1 pid_file="$dir/node$1/pid"
  if [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "nats_cluster: node $i is already running (pid $(cat "$pid_file"))" >&2
    return 0
  fi
  nats-server -c "$dir/node$i.conf" >>"$dir/node$i/server.log" 2>&1 &
  echo $! >"$pid_file"
}

stop_node() {  # I SIGNAL
  local pid_file="$dir/node$1/pid" pid
  [[ -f "$pid_file" ]] || return 0
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$2" "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$pid_file"
}

# Waits until node I answers its monitoring /healthz with 200; bounded.
wait_node() {  # I
  local deadline=$((SECONDS + start_timeout))
  while ((SECONDS < deadline)); do
    curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$(monitor_port "$1")/healthz" && return 0
    sleep 0.1
  done
  echo "nats_cluster: node $1 not healthy within ${start_timeout} s (log: $dir/node$1/server.log)" >&2
  tail -n 20 "$dir/node$1/server.log" >&2
  return 1
}

case "$cmd" in
  start)
    for i in 1 2 3; do stop_node "$i" TERM; done
    : >"$dir/ports"
    for i in 1 2 3; do echo "$(free_port) $(free_port) $(free_port)" >>"$dir/ports"; done
    for i in 1 2 3; do write_config "$i"; done
    for i in 1 2 3; do start_node "$i"; done
    rc=0
    for i in 1 2 3; do wait_node "$i" || rc=1; done
    [[ $rc == 0 ]] && urls
    exit $rc
    ;;
  stop)
    for i in 1 2 3; do stop_node "$i" TERM; done
    ;;
  kill-node) stop_node "$node" KILL ;;
  stop-node) stop_node "$node" TERM ;;
  start-node)
    [[ -f "$dir/node$node.conf" ]] || { echo "nats_cluster: no $dir/node$node.conf (run start first)" >&2; exit 1; }
    start_node "$node"
    wait_node "$node"
    ;;
  urls)
    [[ -f "$dir/ports" ]] || { echo "nats_cluster: no $dir/ports (run start first)" >&2; exit 1; }
    urls
    ;;
  *) usage ;;
esac
