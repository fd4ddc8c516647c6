#!/usr/bin/env python3
"""Checks the module layering written in docs/architecture.md against the tree.

The table between the markers `<!-- layers:begin -->` and `<!-- layers:end -->` says,
per module, which modules it may depend on directly. For every module this checks:
  - each `#include "<module>/..."` in src/<module>/ names itself or an allowed module;
  - each `af::<module>` in the DEPS of src/<module>/CMakeLists.txt is allowed;
  - every module in src/ has a row, and every row a folder with a README.md;
  - the allowed graph has no cycle.
CMake's per-module include roots already make an include of an unlinked module fail
to compile; this adds what a transitive link would let through (a module including a
module it reaches only through another one). Prints one line per problem, exits 1 if
any. Usage: tools/check_layers.py [REPO_ROOT]
"""
import re
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
doc = root / "docs" / "architecture.md"
text = doc.read_text()
m = re.search(r"<!-- layers:begin -->(.*?)<!-- layers:end -->", text, re.S)
if not m:
    sys.exit(f"{doc}: no layers table (<!-- layers:begin --> ... <!-- layers:end -->)")
start_line = text[: m.start()].count("\n") + 1

allowed = {}
for offset, line in enumerate(m.group(1).splitlines()):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 2 or not cells[0].startswith("`"):
        continue
    module = cells[0].strip("`")
    deps = {d.strip().strip("`") for d in cells[1].split(",") if d.strip() and d.strip() != "-"}
    allowed[module] = (deps, start_line + offset)

problems = []
src = root / "src"
modules = sorted(p.name for p in src.iterdir() if p.is_dir())
for module in modules:
    if module not in allowed:
        problems.append(f"{doc}: module {module} has no row in the layers table")
for module, (deps, line) in allowed.items():
    if not (src / module / "README.md").exists():
        problems.append(f"{doc}:{line}: module {module}: src/{module}/README.md does not exist")
    for d in deps:
        if d not in allowed:
            problems.append(f"{doc}:{line}: module {module} may depend on {d}, which is not a module")

include_re = re.compile(r'^\s*#\s*include\s+"(\w+)/', re.M)
for module in modules:
    deps = allowed.get(module, (set(), 0))[0]
    for f in sorted((src / module).glob("*")):
        if f.suffix not in (".hpp", ".cpp", ".h"):
            continue
        for lineno, line in enumerate(f.read_text().splitlines(), 1):
            im = include_re.match(line)
            if not im:
                continue
            target = im.group(1)
            if target == module or target == "alpha_forge" or target not in allowed:
                continue
            if target not in deps:
                problems.append(f"{f.relative_to(root)}:{lineno}: {module} includes {target}/, "
                                f"not among its allowed dependencies ({', '.join(sorted(deps)) or 'none'})")
    cmake = src / module / "CMakeLists.txt"
    if cmake.exists():
        for lineno, line in enumerate(cmake.read_text().splitlines(), 1):
            for dep in re.findall(r"af::(\w+)", line):
                if dep in allowed and dep != module and dep not in deps:
                    problems.append(f"{cmake.relative_to(root)}:{lineno}: {module} links af::{dep}, "
                                    f"not among its allowed dependencies")

# No cycle in the allowed graph (a depth-first search with colours).
state = {}
def visit(node, path):
    state[node] = "open"
    for d in sorted(allowed.get(node, (set(), 0))[0]):
        if state.get(d) == "open":
            problems.append(f"{doc}: dependency cycle: {' -> '.join(path + [node, d])}")
        elif d not in state:
            visit(d, path + [node])
    state[node] = "done"
for module in sorted(allowed):
    if module not in state:
        visit(module, [])

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"layers: {len(allowed)} modules, every include and link within the table")
