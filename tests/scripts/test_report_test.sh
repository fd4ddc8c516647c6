#!/usr/bin/env bash
# A test of scripts/lib/test_report.py, the test command's summary: passed,
# failed and skipped GoogleTest cases are counted from the XML reports, each
# skip is listed with its reason, and a failure or a missing report fails it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
report="$here/../../scripts/lib/test_report.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
expect() {  # DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then echo "ok: $1"; else printf 'FAIL: %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"; fails=$((fails + 1)); fi
}

mkdir -p "$work/a/asan"
cat >"$work/a/asan/dynamodb_sink_test.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="0" disabled="0" errors="0" name="AllTests">
  <testsuite name="DynamoDbSink" tests="3" failures="0" disabled="0" skipped="1" errors="0">
    <testcase name="Writes" status="run" result="completed" classname="DynamoDbSink" />
    <testcase name="Retries" status="run" result="completed" classname="DynamoDbSink" />
    <testcase name="Outage" status="run" result="skipped" classname="DynamoDbSink">
      <skipped message="tests/x.cpp:221&#x0A;AF_DYNAMODB_URL is not set"><![CDATA[AF_DYNAMODB_URL is not set]]></skipped>
    </testcase>
  </testsuite>
</testsuites>
XML
out=$(/usr/bin/python3 "$report" "$work/a")
rc=$?
expect "a skip is counted" "test: 2 passed, 0 failed, 1 skipped" "$(tail -n 1 <<<"$out")"
expect "a skip is listed with its reason" \
  "test: skipped asan/dynamodb_sink_test: DynamoDbSink.Outage: tests/x.cpp:221 AF_DYNAMODB_URL is not set" \
  "$(head -n 1 <<<"$out")"
expect "skips alone exit 0 (the test command decides)" 0 "$rc"

mkdir -p "$work/b"
cat >"$work/b/t.xml" <<'XML'
<testsuites><testsuite name="S"><testcase name="A" status="run" result="completed" classname="S">
<failure message="x.cpp:3&#x0A;Expected equality"/></testcase></testsuite></testsuites>
XML
out=$(/usr/bin/python3 "$report" "$work/b")
rc=$?
expect "a failure is counted" "test: 0 passed, 1 failed, 0 skipped" "$(tail -n 1 <<<"$out")"
expect "a failure exits 1" 1 "$rc"

mkdir -p "$work/c"
/usr/bin/python3 "$report" "$work/c" >/dev/null
expect "no report at all exits 1" 1 "$?"

echo "test_report_test: $fails failed"
[[ $fails -eq 0 ]]
