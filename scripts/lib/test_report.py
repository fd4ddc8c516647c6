#!/usr/bin/python3
"""Summarises the GoogleTest XML reports under a folder (GTEST_OUTPUT=xml:DIR/).

    scripts/lib/test_report.py DIR

Prints one line per skipped or failed test case with its message, then
`test: N passed, N failed, N skipped`. Exit status 1 when a case failed or no
report was found, else 0."""
import pathlib
import sys
import xml.etree.ElementTree as ET


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    files = sorted(root.rglob("*.xml"))
    passed = failed = skipped = 0
    lines = []
    for f in files:
        try:
            tree = ET.parse(f)
        except ET.ParseError as e:
            lines.append(f"test: unreadable report {f}: {e}")
            failed += 1
            continue
        where = f"{f.parent.name}/{f.stem}"
        for case in tree.iter("testcase"):
            name = f"{case.get('classname')}.{case.get('name')}"
            failure = case.find("failure")
            if failure is not None:
                failed += 1
                first = (failure.get("message") or "").splitlines()[:1]
                lines.append(f"test: FAILED  {where}: {name}: {first[0] if first else ''}")
            elif case.get("result") == "skipped" or case.find("skipped") is not None:
                skipped += 1
                node = case.find("skipped")
                msg = (node.get("message") if node is not None else "") or ""
                msg = " ".join(msg.split())
                lines.append(f"test: skipped {where}: {name}: {msg}")
            elif case.get("status") == "run":
                passed += 1
    if not files:
        lines.append(f"test: no test reports under {root}")
    print("\n".join(lines + [f"test: {passed} passed, {failed} failed, {skipped} skipped"]))
    return 1 if failed or not files else 0


if __name__ == "__main__":
    sys.exit(main())
