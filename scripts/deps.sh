#!/usr/bin/env bash
# Installs the Debian 12 packages the engine builds with; `deps.sh test` adds
# those the test command needs (the servers of the integration tests, the
# sanitizers' runtime, Python for helper scripts). Idempotent: packages already
# present are not fetched again. apt-get is bounded by AF_APT_TIMEOUT (default
# 1800 s) so that a stuck mirror fails the run instead of hanging it.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl ccache
  libboost-dev libssl-dev libsimdjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libcli11-dev libeigen3-dev libzip-dev libdeflate-dev zipcmp zipmerge ziptool zip unzip nlohmann-json3-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev openssl
  libpython3.11-dev  # sinks.python's embedded interpreter (src/python only)
  libnats-dev        # the NATS JetStream client (src/nats only)
)
if [ "${1:-}" = test ]; then
  # clang + its runtime: the libFuzzer run; clickhouse-server: the sink and source
  # tests; python3: helper scripts (a free port, reading the Python sink test's
  # SQLite); nodejs/npm: dynalite and TA-Lib; prometheus: promtool checks the
  # scrape and the alert rules; chromium: the status page's browser test;
  # nats-server: the JetStream node and cluster of the bus tests; tinyproxy: the
  # HTTP CONNECT proxy of the proxy tests; python3-torch: the seed examples' test
  # saves their checkpoints with torch.save, as the original's users do.
  packages+=(clang libclang-rt-14-dev clickhouse-server python3 prometheus chromium nats-server tinyproxy
             python3-torch)
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  limit=${AF_APT_TIMEOUT:-1800}
  $SUDO timeout "$limit" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO timeout "$limit" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "deps: all ${#packages[@]} packages present"
fi
