#!/usr/bin/env python3
"""Counts the individual test cases of the last `meson test` run and prints
the closing line `N passed, N failed[, N skipped]`.

Each galley test program speaks TAP, so every g_test case is one `ok` or
`not ok` line in meson's test log; a program that crashed before printing
its plan counts as one failure."""
import json
import sys
from pathlib import Path

build = Path(sys.argv[1] if len(sys.argv) > 1 else "build")
log = build / "meson-logs" / "testlog.json"
passed = failed = skipped = 0
if log.exists():
    for line in log.read_text().splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        out = entry.get("stdout") or ""
        cases = 0
        for row in out.splitlines():
            row = row.strip()
            if row.startswith("ok ") or row == "ok":
                cases += 1
                if "# SKIP" in row:
                    skipped += 1
                else:
                    passed += 1
            elif row.startswith("not ok"):
                cases += 1
                if "# TODO" in row:
                    skipped += 1
                else:
                    failed += 1
        if cases == 0:
            result = entry.get("result", "")
            if result == "OK":
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
        elif entry.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and failed == 0:
            failed += 1  # the program failed after its cases (e.g. a leak check)
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
