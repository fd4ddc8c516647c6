#!/usr/bin/env bash
# The operator's files in deploy/ (issue 17 item 2): the Prometheus alert rules pass
# `promtool check rules` and their unit tests (`promtool test rules`), the Grafana
# dashboard is valid JSON, and the systemd unit passes `systemd-analyze verify` with
# its hardening scored by `systemd-analyze security --offline`. Which metrics the
# dashboard and the rules name is checked against a real scrape by
# tests/integration/signal/operations_test.cpp.
# A tool that is not installed skips its part with the reason; exit 77 (skipped)
# when none could run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
deploy="$repo/deploy"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
ran=0
check() {  # DESCRIPTION COMMAND...: the command must succeed and print nothing to stderr
  local what=$1
  shift
  ran=$((ran + 1))
  if "$@" >"$work/out" 2>"$work/err" && [ ! -s "$work/err" ]; then
    echo "ok: $what"
  else
    echo "FAIL: $what"
    cat "$work/out" "$work/err"
    fails=$((fails + 1))
  fi
}
skip() { echo "skip: $*"; }

if command -v promtool >/dev/null; then
  check "promtool check rules alerts.yml" promtool check rules "$deploy/prometheus/alerts.yml"
  check "promtool test rules alerts_test.yml" bash -c 'cd "$1" && promtool test rules alerts_test.yml' _ "$deploy/prometheus"
else
  skip "promtool is not installed (Debian: prometheus; scripts/deps.sh test): alert rules not checked"
fi

if command -v python3 >/dev/null; then
  check "alpha_forge.json is JSON with panels" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["panels"] and all(t["expr"] for p in d["panels"] for t in p.get("targets", [])), "no panels"
' "$deploy/grafana/alpha_forge.json"
else
  skip "python3 is not installed: the dashboard's JSON not checked"
fi

if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's program exists: the unit names the installed path,
  # so the copy under test points at a program that exists here. The rest is as shipped.
  unit="$work/alpha_forge@demo.service"
  sed 's|^ExecStart=/usr/local/bin/alpha_forge |ExecStart=/bin/true |' "$deploy/systemd/alpha_forge@.service" >"$unit"
  check "ExecStart runs the installed binary" grep -q '^ExecStart=/usr/local/bin/alpha_forge signal ' \
    "$deploy/systemd/alpha_forge@.service"
  check "systemd-analyze verify alpha_forge@.service" systemd-analyze verify "$unit"
  # The hardening, scored: "OK" is below 2.0 of 10 (a default unit scores 9.6).
  check "systemd-analyze security: exposure at most 2.0" \
    systemd-analyze security --offline=true --threshold=20 --no-pager "$unit"
  for key in "NoNewPrivileges=yes" "ProtectSystem=strict" "DynamicUser=yes" "StateDirectory=alpha_forge/%i" \
    "KillSignal=SIGTERM" "Restart=on-failure" "RestartPreventExitStatus=2"; do
    check "the unit sets $key" grep -qx "$key" "$deploy/systemd/alpha_forge@.service"
  done
else
  skip "systemd-analyze is not installed: the unit is not verified"
fi

echo "deploy_test: $ran checks, $fails failed"
[ "$ran" -eq 0 ] && exit 77
[ "$fails" -eq 0 ]
