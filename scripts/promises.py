"""List each promise of the policy (P1-P24) with the tests that prove it.

A test covers a promise when its name carries the id (``test_p13_...``) or its
docstring names it (``P13``). The promises are read from ``docs/promises.md``.
This reports and exits 0; it does not fail the build yet.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMISE_ROW = re.compile(r"^\|\s*(P\d+)\s*\|\s*[^|]*\|\s*([^|]+)\|")
NAME_ID = re.compile(r"(?:^|_)p(\d{1,2})(?=_|$)")
DOC_ID = re.compile(r"\bP(\d{1,2})\b")


def promises() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "docs" / "promises.md").read_text(encoding="utf-8").splitlines():
        match = PROMISE_ROW.match(line)
        if match:
            found[match[1]] = match[2].strip()
    return found


def tests_by_promise() -> dict[str, list[str]]:
    covered: dict[str, list[str]] = {}
    for path in sorted(ROOT.glob("vern/**/test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.ClassDef):
                continue
            if not node.name.lower().startswith("test"):
                continue
            ids = {f"P{n}" for n in NAME_ID.findall(node.name.lower())}
            ids |= {f"P{n}" for n in DOC_ID.findall(ast.get_docstring(node) or "")}
            for promise_id in ids:
                covered.setdefault(promise_id, []).append(f"{path.relative_to(ROOT)}::{node.name}")
    return covered


def main() -> int:
    table = promises()
    covered = tests_by_promise()
    missing = [pid for pid in table if pid not in covered]
    width = max(len(pid) for pid in table)
    for pid, text in table.items():
        tests = covered.get(pid, [])
        mark = f"{len(tests):>3} test{'s' if len(tests) != 1 else ' '}" if tests else "  - none "
        print(f"{pid:<{width}}  {mark}  {text[:90]}")
        for test in tests:
            print(f"{'':<{width}}             {test}")
    have = len(table) - len(missing)
    print(f"\n{have} of {len(table)} promises have a test; without one: {', '.join(missing) or 'none'}")
    unknown = sorted(set(covered) - set(table))
    if unknown:
        print(f"tests name promises that docs/promises.md does not have: {', '.join(unknown)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
