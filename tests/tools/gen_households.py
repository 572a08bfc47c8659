#!/usr/bin/env python3
"""Generate a fake household register for the sample grids (issue 15).

Writes the JSON `gridctl household import` reads ({"households": [...]}):
PER_GRID households in every L3 grid of the directory file, each with an
opaque id (hh-<hex>), an invented address on an invented lane (秘户巷), an
invented head (a compound surname: never a name of the sample directory),
a fake mobile (197xxxxxxxx: no real number range), up to two members, and
for about a third of them one or two special-group memberships (source
民政名单) starting in 2026.  With --secrets, also every planted name, phone
and address, one per line, for the privacy sweeps (grep -F -f).

Deterministic for a seed; Python 3 standard library only.

  gen_households.py --grids deploy/sample/qingnianlu.json --per-grid 3 --seed 7 \
      --out register.json [--secrets secrets.txt] [--csv register.csv]
"""

import argparse
import csv
import json
import random

SURNAMES = ["欧阳", "司马", "诸葛", "上官", "慕容", "东方", "皇甫", "尉迟", "公孙", "令狐"]
GIVEN = "秘瑾璇琰珂翊珩玥瑜琪璟瑶珏琛瑄"
RELATIONS = ["配偶", "子女", "父母", "孙子女"]
GROUPS = ["hardship", "petitioner", "bereaved", "left_behind", "dibao", "disabled"]


def build(grids, per_grid, rng):
    out, used = [], set()

    def name():
        while True:
            n = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            if n not in used:
                used.add(n)
                return n

    def phone():
        return "197%08d" % rng.randrange(10**8)

    for g in grids:
        for i in range(per_grid):
            h = {
                "id": "hh-%08x" % rng.getrandbits(32),
                "grid": g["code"],
                "address": "%s秘户巷%d号%d室" % (g["name"], rng.randrange(1, 300), rng.randrange(101, 1999)),
                "head_name": name(),
                "phone": phone(),
                "members": [{"name": name(), "relation": rng.choice(RELATIONS)}
                            for _ in range(rng.randrange(0, 3))],
            }
            if rng.random() < 0.35:
                h["groups"] = [{"group": grp, "from": "2026-%02d-%02d" % (rng.randrange(1, 11), rng.randrange(1, 28)),
                                "source": "民政名单"} for grp in rng.sample(GROUPS, rng.choice([1, 1, 2]))]
            out.append(h)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--grids", required=True, help="directory JSON (deploy/sample/qingnianlu.json)")
    ap.add_argument("--per-grid", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--secrets")
    ap.add_argument("--csv", help="also a flat CSV (id, grid, address, head_name, phone, groups)")
    a = ap.parse_args()
    with open(a.grids, encoding="utf-8") as f:
        grids = [g for g in json.load(f)["grids"] if g["level"] == 3]
    hh = build(grids, a.per_grid, random.Random(a.seed))
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump({"households": hh}, f, ensure_ascii=False, indent=1)
    if a.secrets:
        with open(a.secrets, "w", encoding="utf-8") as f:
            for h in hh:
                f.write("%s\n%s\n%s\n" % (h["head_name"], h["phone"], h["address"]))
                for m in h["members"]:
                    f.write(m["name"] + "\n")
    if a.csv:
        with open(a.csv, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "grid", "address", "head_name", "phone", "groups"])
            for h in hh:
                w.writerow([h["id"], h["grid"], h["address"], h["head_name"], h["phone"],
                            ";".join(x["group"] for x in h.get("groups", []))])


if __name__ == "__main__":
    main()
