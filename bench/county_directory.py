#!/usr/bin/env python3
"""A synthetic county directory for bench/escalation_bench.sh's county
scenario: N sub-districts (default 15) shaped like the sample
deploy/sample/qingnianlu.json (one L1 grid, 12 L2 and 111 L3 grids, their
people and addresses), each a copy of it under its own root code S01..SNN,
names and addresses prefixed with the sub-district's own name, phone
numbers made distinct.  Usage: county_directory.py SAMPLE.json N > OUT.json
(`gridctl grids import OUT.json` reads it as it reads the sample)."""
import json
import sys

sample = json.load(open(sys.argv[1]))
n = int(sys.argv[2]) if len(sys.argv) > 2 else 15
root = next(g["code"] for g in sample["grids"] if g["level"] == 1)
root_name = next(g["name"] for g in sample["grids"] if g["level"] == 1)


def recode(code, k):
    return "S%02d" % k + code[len(root):] if code and code.startswith(root) else code


out = {"categories": sample["categories"], "grids": [], "people": [], "addresses": []}
for k in range(1, n + 1):
    name = "第%d街道" % k

    def rename(text):
        return text.replace(root_name, name) if isinstance(text, str) else text

    for g in sample["grids"]:
        g2 = dict(g, code=recode(g["code"], k), parent=recode(g["parent"], k), name=rename(g["name"]))
        if g["level"] == 1:
            g2["name"] = name
        out["grids"].append(g2)
    for i, p in enumerate(sample["people"]):
        p2 = dict(p, id=p["id"].replace(root, "S%02d" % k, 1), grid=recode(p["grid"], k))
        if p.get("roles"):
            p2["roles"] = [dict(r, grid=recode(r.get("grid"), k)) for r in p["roles"]]
        if p.get("phone"):
            p2["phone"] = "139%02d%06d" % (k, i)
        out["people"].append(p2)
    for a in sample["addresses"]:
        out["addresses"].append(dict(a, address=name + a["address"].replace(root_name, "", 1),
                                     grid=recode(a["grid"], k)))
json.dump(out, sys.stdout, ensure_ascii=False, indent=0)
