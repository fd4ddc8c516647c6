#!/usr/bin/env bash
# A test of scripts/test_servers.sh: start-up, the endpoints file and stop, in a
# folder whose path contains spaces, so that every value written contains them.
# Also: a hostile endpoints file is read as data (nothing in it runs), and a
# server that cannot be installed fails `start` with its log.
# Needs what the test command installs (clickhouse-server, node + npm).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
script="$repo/scripts/test_servers.sh"
. "$repo/scripts/lib/endpoints.sh"

work=$(mktemp -d)
dir="$work/servers with spaces"
fails=0
check() {  # DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
cleanup() {
  bash "$script" stop "$dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# 1. Start-up: both servers, status and endpoints written.
timeout 900 bash "$script" start "$dir" >"$work/start.log" 2>&1
rc=$?
cat "$work/start.log"
check "start exits 0" test "$rc" -eq 0
check "status: ClickHouse started" test "$(endpoints_get "$dir/status" CLICKHOUSE)" = started
check "status: NATS started" test "$(endpoints_get "$dir/status" NATS)" = started
dynamo_status=$(endpoints_get "$dir/status" DYNAMODB)
if [[ "$dynamo_status" == unavailable* ]]; then
  echo "note: $dynamo_status; the DynamoDB checks are left out"
else
  check "status: DynamoDB started" test "$dynamo_status" = started
fi
check "status: tinyproxy started" test "$(endpoints_get "$dir/status" TINYPROXY)" = started

# 2. The endpoints file read as key/value pairs: values with spaces intact, nothing run.
(
  fails=0
  endpoints_export "$dir/endpoints.env" || exit 1
  check "AF_TEST_SERVERS_DIR keeps its spaces" test "$AF_TEST_SERVERS_DIR" = "$dir"
  check "AF_CLICKHOUSE_CONFIG keeps its spaces" test "$AF_CLICKHOUSE_CONFIG" = "$dir/clickhouse/config.xml"
  check "ClickHouse answers at AF_CLICKHOUSE_URL" curl -sf --max-time 5 -o /dev/null "$AF_CLICKHOUSE_URL/ping"
  check "AF_TEST_NATS_URL is a loopback nats:// URL" bash -c '[[ "$AF_TEST_NATS_URL" =~ ^nats://127\.0\.0\.1:[0-9]+$ ]]'
  check "nats-server accepts connections at AF_TEST_NATS_URL" \
    timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/${AF_TEST_NATS_URL##*:}" && head -c 4 <&3 | grep -q INFO'
  if [[ "$dynamo_status" == started ]]; then
    check "AF_DYNAMODB_SERVER is the whole command line" \
      bash -c '[[ "$AF_DYNAMODB_SERVER" == node\ *dynalite/cli.js\ --createTableMs\ 0 ]]'
    check "dynalite answers at AF_DYNAMODB_URL" curl -s --max-time 5 -o /dev/null "$AF_DYNAMODB_URL/"
  fi
  # The proxies: a CONNECT tunnel to ClickHouse through the open one and the
  # authenticating one; the refusing one tunnels to port 443 only.
  check "tinyproxy tunnels to ClickHouse" curl -sf --max-time 5 -p -x "$AF_TINYPROXY_URL" -o /dev/null "$AF_CLICKHOUSE_URL/ping"
  check "tinyproxy (auth) tunnels with the credentials" \
    curl -sf --max-time 5 -p -x "$AF_TINYPROXY_AUTH_URL" -o /dev/null "$AF_CLICKHOUSE_URL/ping"
  check "tinyproxy (auth) refuses without them" bash -c \
    '! curl -sf --max-time 5 -p -x "http://${AF_TINYPROXY_AUTH_URL#*@}" -o /dev/null "$AF_CLICKHOUSE_URL/ping"'
  check "tinyproxy (refusing) refuses the port" bash -c \
    '! curl -sf --max-time 5 -p -x "$AF_TINYPROXY_REFUSING_URL" -o /dev/null "$AF_CLICKHOUSE_URL/ping"'
  check "the CONNECTs are in the log" grep -q "CONNECT 127.0.0.1:" "$AF_TINYPROXY_LOG"
  exit $fails
) || fails=$((fails + 1))

# The `env` command's output, evaluated, gives the same values.
(
  eval "$(bash "$script" env "$dir")" &&
    [[ "$AF_CLICKHOUSE_CONFIG" == "$dir/clickhouse/config.xml" && "$AF_TEST_SERVERS_DIR" == "$dir" ]]
) && echo "ok: env command round-trips" || { echo "FAIL: env command round-trips"; fails=$((fails + 1)); }

# 3. A hostile file: command substitutions, separators and a bare command stay text.
hostile="$work/hostile.env"
marker="$work/ran"
cat >"$hostile" <<HOSTILE
AF_A=\$(touch $marker.a)
AF_B=x; touch $marker.b
AF_C=\`touch $marker.c\`
AF_D=node -e "require('fs').writeFileSync('$marker.d','')"

# a comment
HOSTILE
(
  timeout 10 bash -c '. "$1"; endpoints_export "$2" && [[ "$AF_A" == "\$(touch $3.a)" && "$AF_B" == "x; touch $3.b" ]]' \
    _ "$repo/scripts/lib/endpoints.sh" "$hostile" "$marker"
) && echo "ok: hostile values read literally" || { echo "FAIL: hostile values read literally"; fails=$((fails + 1)); }
check "nothing in the hostile file ran" bash -c "! ls '$marker'.* >/dev/null 2>&1"
printf 'AF_OK=1\nnot a pair\n' >"$work/bad.env"
msg=$(endpoints_export "$work/bad.env" 2>&1)
check "a malformed line is refused with its file:line" \
  test "$msg" = "endpoints: $work/bad.env:2: not a KEY=VALUE line: not a pair"

# 4. Stop: processes gone, ports closed, files removed.
ch_pid=$(cat "$dir/clickhouse/pid" 2>/dev/null)
dy_pid=$(cat "$dir/dynamodb/pid" 2>/dev/null)
nats_pid=$(cat "$dir/nats/pid" 2>/dev/null)
ch_url=$(endpoints_get "$dir/endpoints.env" AF_CLICKHOUSE_URL)
bash "$script" stop "$dir"
check "ClickHouse process gone" bash -c "! kill -0 '${ch_pid:-0}' 2>/dev/null"
check "nats-server process gone" bash -c "! kill -0 '${nats_pid:-0}' 2>/dev/null"
[[ -n "$dy_pid" ]] && check "dynalite process gone" bash -c "! kill -0 '$dy_pid' 2>/dev/null"
check "ClickHouse port closed" bash -c "! curl -s --max-time 2 -o /dev/null '$ch_url/ping'"
check "endpoints.env removed" test ! -e "$dir/endpoints.env"

# 5. A server that cannot be installed fails start, names itself and shows its log.
if [[ "$dynamo_status" == started ]]; then
  AF_TOOLS_DIR=/dev/null/no-such-dir timeout 300 bash "$script" start "$dir" >"$work/fail.log" 2>&1
  rc=$?
  check "start exits 1 when dynalite cannot be installed" test "$rc" -eq 1
  check "the failure names the server" grep -q "^test_servers: dynamodb: npm install dynalite@.* failed (log: " "$work/fail.log"
  check "status records the failure" bash -c "grep -q '^DYNAMODB=failed ' '$dir/status'"
  bash "$script" stop "$dir" >/dev/null 2>&1
fi

echo "test_servers_test: $fails failed"
[[ $fails -eq 0 ]]
