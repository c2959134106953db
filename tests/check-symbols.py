#!/usr/bin/env python3
"""check-symbols.py LIBRARY HEADER...: the functions libgalley-1 exports
are exactly those its installed headers declare with GALLEY_API (a type
declared with G_DECLARE_*_TYPE after GALLEY_API exports its _get_type).
Prints TAP: one test for what is exported without a declaration, one for
what is declared without being exported."""
import re
import subprocess
import sys

lib, headers = sys.argv[1], sys.argv[2:]

out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True, text=True).stdout
exported = {line.split()[-1] for line in out.splitlines()
            if len(line.split()) == 3 and line.split()[1] in "TtWiD" and not line.split()[-1].startswith("_")}
exported = {s for s in exported if s.startswith("galley_")}

declared = set()
for path in headers:
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)      # comments
    text = re.sub(r"\\\n", " ", text)                         # macro continuations
    for m in re.finditer(r"GALLEY_API\b([^;{]*?)\b(galley_\w+)\s*\(", text):
        if "#define" not in m.group(1):
            declared.add(m.group(2))
    for m in re.finditer(r"GALLEY_API\s+G_DECLARE_\w+_TYPE\s*\(\s*\w+\s*,\s*(\w+)", text):
        declared.add(m.group(1) + "_get_type")

print("1..2")
extra = sorted(exported - declared)
missing = sorted(declared - exported)
print(("ok" if not extra else "not ok") + " 1 - every exported function is declared in an installed header"
      + ("" if not extra else " # exported, not declared: " + " ".join(extra)))
print(("ok" if not missing else "not ok") + " 2 - every declared function is exported"
      + ("" if not missing else " # declared, not exported: " + " ".join(missing)))
print(f"# {len(exported)} exported, {len(declared)} declared")
sys.exit(1 if extra or missing else 0)
