#!/usr/bin/env bash
# Installs the Debian 12 packages the engine builds and tests with. Idempotent:
# packages already present are not fetched again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libboost-dev libssl-dev libsimdjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libcli11-dev libeigen3-dev libzip-dev zipcmp zipmerge ziptool zip unzip nlohmann-json3-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev openssl ccache
)

# npm fetches TA-Lib's sources (the feature tests' oracle) and, where moto is
# absent, a DynamoDB emulator. A machine whose Node.js already brings npm keeps it.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "deps: all ${#packages[@]} packages present"
fi
