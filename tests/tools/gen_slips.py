#!/usr/bin/env python3
"""Generate a transcribed suggestion-box batch (民情意见箱) as CSV for gf-suggestbox.

Usage:
    gen_slips.py --grids deploy/sample/qingnianlu.json --count N
                 [--seed S] [--broken K] [--variant] [--expect FILE]

Writes the CSV to stdout and a one-line summary to stderr:
    total=ROWS good=N broken=K broken_lines=L1,L2,... boxes=B openings=O routable=R unroutable=U

The batch: 4 boxes, each in one L2 grid (village or community), opened 3 times (weekly,
Mondays), N good slips spread over the 12 openings, numbered 1.. within each opening.
Texts are letters written by residents (reusing the hotline generator's complaint
templates), some with ASCII commas, double quotes and line breaks (so quoted fields
with doubled quotes and newlines occur); about 20% of the rows give the opening time
in UTC ("...Z") instead of +08:00 -- the same instant, so the same opening.
Exactly round(0.7 N) good slips carry an address from the address table of an L3 grid
under the box's L2 grid (they must be routed there); the rest carry none or an
address not in the table (they must end up unroutable).

K broken rows (default 5) are placed at fixed pseudo-random positions, one of each
kind in turn: a row with a field missing, an empty slip_no, a bad opened_at, a text
of 4,001 characters, an unterminated quote (mid-file: the rows after it must still
be read).  Their line numbers (where each row starts) are in the summary.

--variant writes the same slips differently: another column order, every opening time
in UTC, slip numbers zero-padded ("007"), LF line ends and a UTF-8 byte order mark.
Importing it after the plain file must find every slip a duplicate.
--expect FILE writes one line per good slip, sorted:
    <source_ref>\\t<opened_at ms>\\t<expected grid, or - when unroutable>\\t<text as JSON>

Output is a pure function of (grids file contents, count, seed, broken, variant).
Python 3 standard library only.
"""

import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_hotline  # noqa: E402  (templates: PROBLEMS, WHERE, SURNAMES, ...)

DEFAULT_SEED = 1
COLUMNS = ["box_id", "opened_at", "slip_no", "text", "name", "phone", "address"]
VARIANT_COLUMNS = ["slip_no", "text", "box_id", "address", "phone", "name", "opened_at"]
CST = dt.timezone(dt.timedelta(hours=8))
FIRST_MONDAY = dt.datetime(2026, 11, 2, tzinfo=CST)
OPENING_TIMES = [(9, 0), (9, 30), (14, 0), (16, 30)]

SALUTATIONS = ["", "", "尊敬的网格员：\n", "社区领导：\n", "网格长您好：\n", "您好！\n", "致社区：\n"]
CLOSINGS = ["", "", "望采纳。", "谢谢！", "\n——一位老住户", "\n——住在附近的居民", "盼回复。", "此致\n敬礼"]
# ASCII punctuation a transcriber typed as written: commas and double quotes matter to CSV.
ASIDES = [
    '物业说"过两天就修", 结果一个月了还没动静。',
    '邻居们都说"找网格员没用", 我不信, 所以写了这张条子。',
    "上次反映过一次, 到现在还没有消息。",
    '门口贴着"正在维修"的牌子, 可一直没人来。',
]
UNKNOWN_ADDRESSES = gen_hotline.UNKNOWN_ADDRESSES
BAD_TIMES = ["2026年11月9日上午", "2026/11/09 09:00", "11-09 9:00", "2026-11-31T09:00:00+08:00"]
BROKEN_KINDS = ["fields", "slip_no", "opened_at", "too_long", "quote"]


class Raw(str):
    """A cell written verbatim (no quoting): for deliberately broken rows."""


def compose(rng, cats, weights):
    cat = rng.choices(cats, weights)[0]
    body = gen_hotline._fill(rng, cat, rng.choice(gen_hotline.PROBLEMS[cat]))
    text = rng.choice(SALUTATIONS) + body + "，" + rng.choice(gen_hotline.REQUESTS)
    if rng.random() < 0.3:
        text = text.rstrip("，") + ("" if text.endswith(("。", "！")) else "。") + rng.choice(ASIDES)
    text = text.rstrip("，")
    if not text.endswith(("。", "！", "？")):
        text += "。"
    return text + rng.choice(CLOSINGS)


def cell_line(cells, terminator):
    out = io.StringIO()
    w = csv.writer(out, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL)
    plain = [c if not isinstance(c, Raw) else "\0%d\0" % i for i, c in enumerate(cells)]
    w.writerow(plain)
    line = out.getvalue()
    for i, c in enumerate(cells):
        if isinstance(c, Raw):
            line = line.replace("\0%d\0" % i, c)
    return line


def generate(data, count, seed=DEFAULT_SEED, broken=5, variant=False):
    rng = random.Random(seed)
    l2 = sorted(g["code"] for g in data["grids"] if g["level"] == 2)
    children = {}
    for g in data["grids"]:
        if g["level"] == 3:
            children.setdefault(g["parent"], []).append(g["code"])
    addr_by_grid = {}
    for a in data["addresses"]:
        addr_by_grid.setdefault(a["grid"], []).append(a["address"])
    known = {a["address"] for a in data["addresses"]}
    unknown = [a for a in UNKNOWN_ADDRESSES if a not in known]
    cats = [c for c, _ in gen_hotline.CATEGORY_WEIGHTS]
    weights = [w for _, w in gen_hotline.CATEGORY_WEIGHTS]

    boxes = []
    for n, code in enumerate(sorted(rng.sample(l2, 4)), 1):
        boxes.append(("%s-XB%d" % (code, n), code))
    openings = []
    for box, code in boxes:
        for week in range(3):
            h, m = rng.choice(OPENING_TIMES)
            openings.append((box, code, FIRST_MONDAY + dt.timedelta(days=7 * week, hours=h, minutes=m)))
    per = [0] * len(openings)
    for _ in range(count):
        per[rng.randrange(len(openings))] += 1
    routable = set(rng.sample(range(count), round(count * 0.7)))

    # Good slips, in box / opening / slip order.
    slips = []
    for (box, code, when), k in zip(openings, per):
        for no in range(1, k + 1):
            i = len(slips)
            s = {"box_id": box, "when": when, "slip_no": no, "text": compose(rng, cats, weights)}
            r = rng.random()
            if r < 0.45:
                s["name"] = rng.choice(gen_hotline.SURNAMES) + rng.choice(gen_hotline.TITLES)
                s["phone"] = "139%08d" % rng.randrange(10 ** 8)
            elif r < 0.6:
                s["name"] = rng.choice(gen_hotline.SURNAMES) + rng.choice(gen_hotline.TITLES)
            if i in routable:
                grid = rng.choice([g for g in children[code] if addr_by_grid.get(g)])
                s["address"], s["grid"] = rng.choice(addr_by_grid[grid]), grid
            elif rng.random() < 0.6:
                s["address"], s["grid"] = rng.choice(unknown), None
            else:
                s["grid"] = None
            s["utc"] = rng.random() < 0.2
            slips.append(s)

    # Broken rows: positions among the good ones, kinds in turn; they take slip numbers
    # after the good ones of their opening, so none could pass for a good slip.
    positions = sorted(rng.sample(range(1, count), broken)) if broken else []
    next_no = {}
    for s in slips:
        next_no[(s["box_id"], s["when"])] = s["slip_no"]
    bad = {}
    for j, pos in enumerate(positions):
        kind = BROKEN_KINDS[j % len(BROKEN_KINDS)]
        base = slips[pos]
        key = (base["box_id"], base["when"])
        next_no[key] += 1
        b = {"box_id": base["box_id"], "when": base["when"], "slip_no": next_no[key],
             "text": compose(rng, cats, weights), "name": "", "phone": "", "address": "",
             "utc": False, "kind": kind}
        if kind == "slip_no":
            b["slip_no"] = ""
        elif kind == "opened_at":
            b["bad_time"] = rng.choice(BAD_TIMES)
        elif kind == "too_long":
            letter = "我们小区的问题很多，一条一条说。" + "楼道里堆满了杂物，消防通道被占用，晚上路灯不亮，老人出门很不方便。" * 200
            b["text"] = letter[:4001]
        elif kind == "quote":
            # The transcriber forgot the closing quote; no line break before it.
            b["text"] = Raw('"' + b["text"].replace("\n", "").replace('"', "") + ", 请尽快处理")
        bad[pos] = b
        # Whatever follows an unterminated quote must still be read: make sure the next
        # good row is quoted, with text that starts with an ordinary character.
        if kind == "quote":
            slips[pos]["text"] = "门口的路灯坏了, " + slips[pos]["text"].lstrip('"\n,')

    columns = VARIANT_COLUMNS if variant else COLUMNS
    term = "\n" if variant else "\r\n"

    def cells(s):
        if "bad_time" in s:
            opened = s["bad_time"]
        elif variant or s["utc"]:
            opened = s["when"].astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            opened = s["when"].isoformat(timespec="seconds")
        slip = s["slip_no"]
        slip = ("%03d" % slip if variant else str(slip)) if slip != "" else ""
        values = {"box_id": s["box_id"], "opened_at": opened, "slip_no": slip, "text": s["text"],
                  "name": s.get("name", ""), "phone": s.get("phone", ""),
                  "address": s.get("address", "")}
        row = [values[c] for c in columns]
        if s.get("kind") == "fields":
            row.pop(columns.index("phone"))
        return row

    out = [("\ufeff" if variant else "") + cell_line(columns, term)]
    line = 1 + out[0].count("\n")
    broken_lines = []
    for i, s in enumerate(slips):
        if i in bad:
            broken_lines.append(line)
            text = cell_line(cells(bad[i]), term)
            out.append(text)
            line += text.count("\n")
        text = cell_line(cells(s), term)
        out.append(text)
        line += text.count("\n")

    expect = []
    for s in slips:
        ms = int(s["when"].timestamp() * 1000)
        expect.append("%s/%d/%d\t%d\t%s\t%s" % (s["box_id"], ms, s["slip_no"], ms, s["grid"] or "-",
                                               json.dumps(s["text"], ensure_ascii=False)))
    summary = "total=%d good=%d broken=%d broken_lines=%s boxes=%d openings=%d routable=%d unroutable=%d" % (
        count + broken, count, broken, ",".join(map(str, broken_lines)), len(boxes), len(openings),
        len(routable), count - len(routable))
    return "".join(out), sorted(expect), summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grids", required=True, help="grids file, e.g. deploy/sample/qingnianlu.json")
    ap.add_argument("--count", type=int, required=True, help="number of good slips")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    ap.add_argument("--broken", type=int, default=5, help="number of broken rows (default %(default)s)")
    ap.add_argument("--variant", action="store_true", help="same slips, written differently")
    ap.add_argument("--expect", help="write the expected cases (source_ref, ms, grid) here")
    a = ap.parse_args(argv)
    if a.count < 2 or a.broken < 0 or a.broken >= a.count:
        ap.error("need --count >= 2 and 0 <= --broken < --count")
    with open(a.grids, encoding="utf-8") as f:
        data = json.load(f)
    text, expect, summary = generate(data, a.count, a.seed, a.broken, a.variant)
    sys.stdout.buffer.write(text.encode("utf-8"))
    if a.expect:
        with open(a.expect, "w", encoding="utf-8") as f:
            f.write("".join(e + "\n" for e in expect))
    print(summary, file=sys.stderr)


if __name__ == "__main__":
    main()
