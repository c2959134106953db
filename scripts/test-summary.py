#!/usr/bin/env python3
"""Counts the individual test cases of the last `meson test` run in each
build directory given and prints the closing line
`N passed, N failed[, N skipped]`.

Each galley test program speaks TAP, so every g_test case is one `ok` or
`not ok` line in meson's test log. A program that failed without a failing
case (a crash before its plan, a leak report at exit) counts as one more
failure."""
import json
import sys
from pathlib import Path


def count(log):
    passed = failed = skipped = 0
    for line in log.read_text().splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        ok = not_ok = skip = 0
        for row in (entry.get("stdout") or "").splitlines():
            row = row.strip()
            if row == "ok" or row.startswith("ok "):
                if "# SKIP" in row:
                    skip += 1
                else:
                    ok += 1
            elif row.startswith("not ok"):
                if "# TODO" in row:
                    skip += 1
                else:
                    not_ok += 1
        result = entry.get("result", "")
        if ok + not_ok + skip == 0:
            if result == "OK":
                ok = 1
            elif result == "SKIP":
                skip = 1
            else:
                not_ok = 1
        elif result not in ("OK", "SKIP", "EXPECTEDFAIL") and not_ok == 0:
            not_ok = 1
        passed += ok
        failed += not_ok
        skipped += skip
    return passed, failed, skipped


def main():
    # each argument is a build directory or a meson test log (testlog-SETUP.json)
    args = [Path(a) for a in sys.argv[1:]] or [Path("build")]
    passed = failed = skipped = 0
    for arg in args:
        log = arg if arg.is_file() else arg / "meson-logs" / "testlog.json"
        if not log.exists():
            print(f"test-summary: no test log {log}", file=sys.stderr)
            failed += 1
            continue
        p, f, s = count(log)
        passed, failed, skipped = passed + p, failed + f, skipped + s
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)


if __name__ == "__main__":
    main()
