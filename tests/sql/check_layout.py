#!/usr/bin/env python3
"""The database code's layout rules (docs/DESIGN.md, "Where the SQL lives").

  1. Every SQL function is created in exactly one file under deploy/sql/
     (versioned migrations create none; each repeatable file owns its own).
  2. No SQL text longer than MAX_LINES source lines remains in a C source:
     a run of adjacent C string literals whose text starts with an SQL
     keyword is one SQL text.
  3. Every repeatable file deploy/sql/repeatable/X.sql has its pgTAP suite
     tests/sql/X.sql.

Prints TAP lines (one per rule) and the offenders; exits 1 when one fails.
Usage: check_layout.py [ROOT]
"""
import os
import re
import sys

MAX_LINES = 10
ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
SQL_DIR = os.path.join(ROOT, "deploy", "sql")
C_DIRS = ["services", "common", "proto"]
SQL_START = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|COPY|DROP|GRANT|"
                       r"REVOKE|TRUNCATE|VALUES|DO|LOCK)\b", re.I)
FUNC = re.compile(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?:public\.)?([A-Za-z_][A-Za-z0-9_]*)",
                  re.I)


def strip_sql_comments(text):
    """SQL without -- comments (dollar-quoted bodies are kept as they are)."""
    return re.sub(r"--[^\n]*", "", text)


def sql_files():
    for dirpath, _, names in os.walk(SQL_DIR):
        for name in sorted(names):
            if name.endswith(".sql"):
                yield os.path.join(dirpath, name)


def c_string_runs(path):
    """(first line, last line, text) of each run of adjacent string literals."""
    src = open(path, encoding="utf-8").read()
    runs, i, n, line = [], 0, len(src), 1
    cur = None  # [first, last, parts]
    while i < n:
        ch = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += src.count("\n", i, j)
            i = j
            continue
        if ch == "'":
            j = i + 1
            while j < n and src[j] != "'":
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            continue
        if ch == '"':
            j, buf = i + 1, []
            while j < n and src[j] != '"':
                if src[j] == "\\":
                    buf.append(src[j:j + 2])
                    j += 2
                else:
                    buf.append(src[j])
                    j += 1
            if cur is None:
                cur = [line, line, []]
            cur[1] = line
            cur[2].append("".join(buf))
            i = j + 1
            continue
        if ch == "\n":
            line += 1
        elif not ch.isspace() and cur is not None:
            runs.append(cur)
            cur = None
        i += 1
    if cur is not None:
        runs.append(cur)
    return [(a, b, "".join(p)) for a, b, p in runs]


def main():
    failed = 0
    # 1. one file per function
    owners = {}
    for path in sql_files():
        text = strip_sql_comments(open(path, encoding="utf-8").read())
        for m in FUNC.finditer(text):
            owners.setdefault(m.group(1).lower(), []).append(os.path.relpath(path, ROOT))
    twice = {f: p for f, p in owners.items() if len(p) > 1}
    if twice:
        failed += 1
        print("not ok 1 - every SQL function is created in exactly one file")
        for f, p in sorted(twice.items()):
            print("#   %s: %s" % (f, ", ".join(p)))
    else:
        print("ok 1 - every SQL function is created in exactly one file (%d functions)" % len(owners))
    # 2. no long SQL in C
    long_ones = []
    for d in C_DIRS:
        for dirpath, _, names in os.walk(os.path.join(ROOT, d)):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    path = os.path.join(dirpath, name)
                    for first, last, text in c_string_runs(path):
                        if SQL_START.match(text) and last - first + 1 > MAX_LINES:
                            long_ones.append((os.path.relpath(path, ROOT), first, last - first + 1))
    if long_ones:
        failed += 1
        print("not ok 2 - no SQL text longer than %d lines in C sources" % MAX_LINES)
        for path, first, count in long_ones:
            print("#   %s:%d: %d lines" % (path, first, count))
    else:
        print("ok 2 - no SQL text longer than %d lines in C sources" % MAX_LINES)
    # 3. a suite per concept file
    rep = os.path.join(SQL_DIR, "repeatable")
    missing = [n for n in sorted(os.listdir(rep)) if n.endswith(".sql")
               and not os.path.exists(os.path.join(ROOT, "tests", "sql", n))]
    if missing:
        failed += 1
        print("not ok 3 - every repeatable file has a pgTAP suite in tests/sql/")
        for n in missing:
            print("#   deploy/sql/repeatable/%s: no tests/sql/%s" % (n, n))
    else:
        print("ok 3 - every repeatable file has a pgTAP suite in tests/sql/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
