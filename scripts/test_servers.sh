#!/usr/bin/env bash
# Starts (or stops) the servers the integration tests talk to, on loopback ports,
# with all state under DIR:
#
#   scripts/test_servers.sh start DIR   starts them; writes DIR/endpoints.env and DIR/status
#   scripts/test_servers.sh stop DIR    stops them, removes DIR/endpoints.env
#   scripts/test_servers.sh env DIR     prints `export KEY=VALUE` lines, shell-quoted,
#                                       for eval "$(scripts/test_servers.sh env DIR)"
#
# The servers are the same on every machine, whatever else it has installed:
#   ClickHouse: Debian's clickhouse-server (scripts/deps.sh test installs it);
#   DynamoDB:   dynalite 3 from the npm registry, installed once under
#               $AF_TOOLS_DIR (default: build/tools in the repository).
#   NATS:       Debian's nats-server, one JetStream node (AF_TEST_NATS_URL; the
#               3-node cluster of the fault tests is scripts/nats_cluster.sh).
#   proxies:    Debian's tinyproxy, three instances (open, with basic auth, and
#               one that tunnels only to port 443 and so refuses the tests'
#               ports), for the proxy tests (AF_TINYPROXY_*).
#
# DIR/endpoints.env holds KEY=VALUE lines whose values are literal text (they
# contain spaces: a server's command line, a folder's path). Read it with
# scripts/lib/endpoints.sh or the `env` command; never source it.
# DIR/status has one line per server: `CLICKHOUSE=started`, `DYNAMODB=failed ...`
# or `DYNAMODB=unavailable: REASON` (only when the npm registry cannot be reached).
#
# Exit status of start: 0 when every server started or is unavailable for a
# reason outside this machine (then its tests skip and the test command says so);
# 1 when a server that could be had failed to install or start (its log is shown).
# Every wait is bounded: installs by AF_INSTALL_TIMEOUT (default 600 s), each
# server's start-up by AF_SERVER_START_TIMEOUT (default 30 s).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib/endpoints.sh"

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop|env DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
env_file="$dir/endpoints.env"
status_file="$dir/status"
tools_dir=${AF_TOOLS_DIR:-$repo/build/tools}
install_timeout=${AF_INSTALL_TIMEOUT:-600}
start_timeout=${AF_SERVER_START_TIMEOUT:-30}
dynalite_version=3.2.2

log() { echo "test_servers: $*"; }

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {  # URL SECONDS
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  return 1
}

stop_pid_file() {
  local f=$1 pid
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

# fail_server NAME LOG MESSAGE: records the failure and shows the log's tail.
fail_server() {
  log "$1: $3 (log: $2)"
  [[ -f "$2" ]] && tail -n 20 "$2" | sed "s/^/  $1| /"
  endpoints_put "$status_file" "$(tr a-z A-Z <<<"$1")" "failed $3"
}

clickhouse_bin() {
  local b
  for b in "$(command -v clickhouse-server 2>/dev/null)" /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
    [[ -n "$b" && -x "$b" ]] && { echo "$b"; return 0; }
  done
  return 1
}

# Writes the two-file config into $1 (a directory); ports and data path are
# given on the command line so that tests can start more instances from it.
write_clickhouse_config() {
  local d=$1
  mkdir -p "$d"
  cat >"$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>8123</http_port>
  <tcp_port>9000</tcp_port>
  <path>$d/data/</path>
  <tmp_path>$d/data/tmp/</tmp_path>
  <mark_cache_size>5368709120</mark_cache_size>
  <users_config>$d/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
</yandex>
XML
  cat >"$d/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
XML
}

start_clickhouse() {
  local d="$dir/clickhouse" bin http tcp
  mkdir -p "$d/data"
  if ! bin=$(clickhouse_bin); then
    log "clickhouse-server not found, installing it with apt-get"
    if ! timeout "$install_timeout" apt-get install -y -qq clickhouse-server >"$d/apt.log" 2>&1 || ! bin=$(clickhouse_bin); then
      fail_server clickhouse "$d/apt.log" "apt-get install clickhouse-server failed"
      return 1
    fi
  fi
  write_clickhouse_config "$d"
  http=$(free_port) && tcp=$(free_port) || { fail_server clickhouse /dev/null "no free port"; return 1; }
  "$bin" --config-file="$d/config.xml" -- --http_port="$http" --tcp_port="$tcp" --path="$d/data/" \
    >"$d/server.log" 2>&1 &
  echo $! >"$d/pid"
  if ! wait_http "http://127.0.0.1:$http/ping" "$start_timeout"; then
    stop_pid_file "$d/pid"
    fail_server clickhouse "$d/server.log" "clickhouse-server did not answer on port $http within ${start_timeout} s"
    return 1
  fi
  endpoints_put "$env_file" AF_CLICKHOUSE_URL "http://127.0.0.1:$http"
  endpoints_put "$env_file" AF_CLICKHOUSE_SERVER "$bin"
  endpoints_put "$env_file" AF_CLICKHOUSE_CONFIG "$d/config.xml"
  endpoints_put "$status_file" CLICKHOUSE started
  log "ClickHouse on http://127.0.0.1:$http"
}

# Installs dynalite under $tools_dir once; prints its cli.js.
install_dynalite() {
  local prefix="$tools_dir/dynalite-$dynalite_version" cli
  cli="$prefix/node_modules/dynalite/cli.js"
  if [[ ! -f "$cli" ]]; then
    mkdir -p "$prefix"
    log "installing dynalite@$dynalite_version from the npm registry into $prefix" >&2
    timeout "$install_timeout" npm install --no-audit --no-fund --silent --prefix "$prefix" \
      "dynalite@$dynalite_version" >"$dir/dynamodb/npm.log" 2>&1 || return 1
  fi
  [[ -f "$cli" ]] && echo "$cli"
}

start_dynamodb() {
  local d="$dir/dynamodb" cli port
  mkdir -p "$d"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    fail_server dynamodb /dev/null "node or npm is missing (scripts/deps.sh installs them)"
    return 1
  fi
  if ! cli=$(install_dynalite); then
    if ! timeout 30 npm ping >"$d/npm-ping.log" 2>&1; then
      log "dynamodb: the npm registry cannot be reached; the DynamoDB tests will be skipped"
      endpoints_put "$status_file" DYNAMODB "unavailable: the npm registry cannot be reached (dynalite)"
      return 0
    fi
    fail_server dynamodb "$d/npm.log" "npm install dynalite@$dynalite_version failed"
    return 1
  fi
  port=$(free_port) || { fail_server dynamodb /dev/null "no free port"; return 1; }
  node "$cli" --host 127.0.0.1 --port "$port" --createTableMs 0 >"$d/server.log" 2>&1 &
  echo $! >"$d/pid"
  if ! wait_http "http://127.0.0.1:$port/" "$start_timeout"; then
    stop_pid_file "$d/pid"
    fail_server dynamodb "$d/server.log" "dynalite did not answer on port $port within ${start_timeout} s"
    return 1
  fi
  endpoints_put "$env_file" AF_DYNAMODB_URL "http://127.0.0.1:$port"
  endpoints_put "$env_file" AF_DYNAMODB_SERVER "node $cli --createTableMs 0"
  endpoints_put "$status_file" DYNAMODB started
  log "DynamoDB emulator (dynalite $dynalite_version) on http://127.0.0.1:$port"
}

# --- NATS: one JetStream node (the bus tests; docs/scale-out.md) ---
start_nats() {
  local d="$dir/nats" bin port deadline
  mkdir -p "$d/store"
  if ! bin=$(command -v nats-server 2>/dev/null); then
    fail_server nats /dev/null "nats-server is missing (scripts/deps.sh test installs it)"
    return 1
  fi
  rm -f "$d"/*.ports
  "$bin" -a 127.0.0.1 -p -1 --ports_file_dir "$d" -js -sd "$d/store" >"$d/server.log" 2>&1 &
  echo $! >"$d/pid"
  # The server writes <name>_<pid>.ports once it listens: {"nats":["nats://127.0.0.1:P"],...}.
  deadline=$((SECONDS + start_timeout))
  port=
  while ((SECONDS < deadline)) && [[ -z "$port" ]]; do
    port=$(sed -n 's/.*"nats":\["nats:\/\/127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$d"/*.ports 2>/dev/null | head -n 1)
    [[ -z "$port" ]] && sleep 0.05
  done
  if [[ -z "$port" ]]; then
    stop_pid_file "$d/pid"
    fail_server nats "$d/server.log" "nats-server did not report its port within ${start_timeout} s"
    return 1
  fi
  endpoints_put "$env_file" AF_TEST_NATS_URL "nats://127.0.0.1:$port"
  endpoints_put "$env_file" AF_TEST_NATS_SERVER "$bin"
  endpoints_put "$status_file" NATS started
  log "NATS JetStream on nats://127.0.0.1:$port"
}
# --- end NATS ---
# --- tinyproxy: the HTTP CONNECT proxies of the proxy tests ------------------
# Three instances, each with its own generated config and log (LogLevel Connect
# records every CONNECT, which the tests read):
#   AF_TINYPROXY_URL          open to 127.0.0.1, any port (no ConnectPort line)
#   AF_TINYPROXY_AUTH_URL     the same behind basic auth; the URL carries the
#                             credentials (AF_TINYPROXY_AUTH_USER/_PASSWORD too)
#   AF_TINYPROXY_REFUSING_URL tunnels only to port 443: CONNECT elsewhere is 403
# and AF_TINYPROXY_LOG, AF_TINYPROXY_AUTH_LOG, AF_TINYPROXY_REFUSING_LOG.
tinyproxy_user=alice
tinyproxy_password=s3cret-pw

# write_tinyproxy_config FILE PORT LOG [EXTRA LINE...]
write_tinyproxy_config() {
  local file=$1 port=$2 logfile=$3
  shift 3
  {
    echo "Port $port"
    echo "Listen 127.0.0.1"
    echo "Allow 127.0.0.1"
    echo "LogFile \"$logfile\""
    echo "LogLevel Connect"
    echo "MaxClients 64"
    echo "Timeout 120"
    local line
    for line in "$@"; do echo "$line"; done
  } >"$file"
}

wait_tcp() {  # PORT SECONDS
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# start_one_tinyproxy NAME KEY [EXTRA LINE...]: NAME is the folder, KEY the
# endpoints' infix ("" for the open one).
start_one_tinyproxy() {
  local name=$1 key=$2 d port
  shift 2
  d="$dir/tinyproxy/$name"
  mkdir -p "$d"
  port=$(free_port) || { fail_server tinyproxy /dev/null "no free port"; return 1; }
  : >"$d/tinyproxy.log"
  write_tinyproxy_config "$d/tinyproxy.conf" "$port" "$d/tinyproxy.log" "$@"
  tinyproxy -d -c "$d/tinyproxy.conf" >"$d/stdout.log" 2>&1 &
  echo $! >"$d/pid"
  if ! wait_tcp "$port" "$start_timeout"; then
    stop_pid_file "$d/pid"
    fail_server tinyproxy "$d/stdout.log" "tinyproxy ($name) did not listen on port $port within ${start_timeout} s"
    return 1
  fi
  local url="http://127.0.0.1:$port"
  [[ "$name" == auth ]] && url="http://$tinyproxy_user:$tinyproxy_password@127.0.0.1:$port"
  endpoints_put "$env_file" "AF_TINYPROXY${key}_URL" "$url"
  endpoints_put "$env_file" "AF_TINYPROXY${key}_LOG" "$d/tinyproxy.log"
  log "tinyproxy ($name) on http://127.0.0.1:$port"
}

start_tinyproxy() {
  if ! command -v tinyproxy >/dev/null 2>&1; then
    fail_server tinyproxy /dev/null "tinyproxy is missing (scripts/deps.sh test installs it)"
    return 1
  fi
  start_one_tinyproxy open "" || return 1
  start_one_tinyproxy auth _AUTH "BasicAuth $tinyproxy_user $tinyproxy_password" || return 1
  start_one_tinyproxy refusing _REFUSING "ConnectPort 443" || return 1
  endpoints_put "$env_file" AF_TINYPROXY_AUTH_USER "$tinyproxy_user"
  endpoints_put "$env_file" AF_TINYPROXY_AUTH_PASSWORD "$tinyproxy_password"
  endpoints_put "$status_file" TINYPROXY started
}

stop_tinyproxy() {
  local name
  for name in open auth refusing; do stop_pid_file "$dir/tinyproxy/$name/pid"; done
}
# --- end tinyproxy -------------------------------------------------------------

stop_all() {
  stop_pid_file "$dir/clickhouse/pid"
  stop_pid_file "$dir/dynamodb/pid"
  stop_pid_file "$dir/nats/pid"
  stop_tinyproxy
  rm -f "$env_file" "$status_file"
}

case "$cmd" in
  start)
    stop_all
    : >"$env_file"
    : >"$status_file"
    endpoints_put "$env_file" AF_TEST_SERVERS_DIR "$dir"
    rc=0
    start_clickhouse || rc=1
    start_dynamodb || rc=1
    start_nats || rc=1
    start_tinyproxy || rc=1
    exit $rc
    ;;
  stop)
    stop_all
    ;;
  env)
    [[ -f "$env_file" ]] || { echo "$0: no $env_file (run start first)" >&2; exit 1; }
    (
      endpoints_export "$env_file" || exit 1
      while IFS= read -r line; do
        [[ -z "$line" || "$line" == \#* ]] && continue
        key=${line%%=*}
        printf 'export %s=%q\n' "$key" "${!key}"
      done <"$env_file"
    )
    ;;
  *)
    echo "usage: $0 start|stop|env DIR" >&2
    exit 2
    ;;
esac
