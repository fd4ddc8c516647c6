#!/usr/bin/env bash
# Starts (or stops) the database servers the sink integration tests talk to, on
# loopback ports, with all state under DIR:
#   scripts/test_servers.sh start DIR   -> DIR/endpoints.env (AF_CLICKHOUSE_URL, AF_DYNAMODB_URL, ...)
#   scripts/test_servers.sh stop DIR
# ClickHouse: Debian's clickhouse-server (installed with apt-get when missing).
# DynamoDB: moto_server when on PATH, else dynalite 3 from npm under DIR/npm.
# A server that cannot be installed or started is reported and left out of
# endpoints.env (its tests then skip); this script always exits 0.
set -u

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 0
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
env_file="$dir/endpoints.env"

free_port() {
  local py
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null 2>&1; then
      "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' && return 0
    fi
  done
  echo $((20000 + RANDOM % 20000))
}

wait_http() {  # URL SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
    sleep 0.1
  done
  return 1
}

stop_pid_file() {
  local f=$1
  [[ -f "$f" ]] || return 0
  local pid
  pid=$(cat "$f")
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

clickhouse_bin() {
  if command -v clickhouse-server >/dev/null 2>&1; then command -v clickhouse-server; return 0; fi
  [[ -x /usr/sbin/clickhouse-server ]] && { echo /usr/sbin/clickhouse-server; return 0; }
  [[ -x /usr/bin/clickhouse-server ]] && { echo /usr/bin/clickhouse-server; return 0; }
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
  local bin
  if ! bin=$(clickhouse_bin); then
    echo "test_servers: clickhouse-server not found, installing it with apt-get"
    if ! apt-get install -y clickhouse-server >"$dir/clickhouse-apt.log" 2>&1; then
      echo "test_servers: apt-get install clickhouse-server failed (see $dir/clickhouse-apt.log); ClickHouse tests will skip"
      return 0
    fi
    bin=$(clickhouse_bin) || { echo "test_servers: clickhouse-server still missing; ClickHouse tests will skip"; return 0; }
  fi
  local d="$dir/clickhouse"
  write_clickhouse_config "$d"
  local http tcp
  http=$(free_port)
  tcp=$(free_port)
  mkdir -p "$d/data"
  "$bin" --config-file="$d/config.xml" -- --http_port="$http" --tcp_port="$tcp" --path="$d/data/" \
    >"$d/server.log" 2>&1 &
  echo $! >"$d/pid"
  if ! wait_http "http://127.0.0.1:$http/ping" 30; then
    echo "test_servers: clickhouse-server did not answer on port $http (log: $d/server.log); ClickHouse tests will skip"
    tail -5 "$d/server.log"
    stop_pid_file "$d/pid"
    return 0
  fi
  {
    echo "AF_CLICKHOUSE_URL=http://127.0.0.1:$http"
    echo "AF_CLICKHOUSE_SERVER=$bin"
    echo "AF_CLICKHOUSE_CONFIG=$d/config.xml"
  } >>"$env_file"
  echo "test_servers: ClickHouse on http://127.0.0.1:$http"
}

dynamodb_cmd() {  # prints the emulator command line without host/port, or fails
  if command -v moto_server >/dev/null 2>&1; then
    echo "moto_server"
    return 0
  fi
  local cli="$dir/npm/node_modules/dynalite/cli.js"
  if [[ ! -f "$cli" ]]; then
    command -v npm >/dev/null 2>&1 || return 1
    echo "test_servers: moto_server absent, installing dynalite@3 with npm" >&2
    npm install --silent --prefix "$dir/npm" dynalite@3 >"$dir/dynalite-npm.log" 2>&1 || return 1
  fi
  [[ -f "$cli" ]] || return 1
  echo "node $cli --createTableMs 0"
}

start_dynamodb() {
  local base
  if ! base=$(dynamodb_cmd); then
    echo "test_servers: no DynamoDB emulator (moto_server absent, npm install dynalite@3 failed: see $dir/dynalite-npm.log); DynamoDB tests will skip"
    return 0
  fi
  local d="$dir/dynamodb" port
  mkdir -p "$d"
  port=$(free_port)
  if [[ "$base" == moto_server ]]; then
    moto_server -H 127.0.0.1 -p "$port" >"$d/server.log" 2>&1 &
  else
    $base --host 127.0.0.1 --port "$port" >"$d/server.log" 2>&1 &
  fi
  echo $! >"$d/pid"
  if ! wait_http "http://127.0.0.1:$port/" 30; then
    echo "test_servers: DynamoDB emulator did not answer on port $port (log: $d/server.log); DynamoDB tests will skip"
    tail -5 "$d/server.log"
    stop_pid_file "$d/pid"
    return 0
  fi
  {
    echo "AF_DYNAMODB_URL=http://127.0.0.1:$port"
    echo "AF_DYNAMODB_SERVER=$base"
  } >>"$env_file"
  echo "test_servers: DynamoDB emulator ($base) on http://127.0.0.1:$port"
}

case "$cmd" in
  start)
    bash "$0" stop "$dir" >/dev/null 2>&1
    echo "AF_TEST_SERVERS_DIR=$dir" >"$env_file"
    start_clickhouse
    start_dynamodb
    ;;
  stop)
    stop_pid_file "$dir/clickhouse/pid"
    stop_pid_file "$dir/dynamodb/pid"
    rm -f "$env_file"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    ;;
esac
exit 0
