#!/usr/bin/env python3
"""Generate the gridflow sample data set for Qingnianlu sub-district (青年路街道).

Writes, next to this script:
  qingnianlu.json        categories, grid tree (1 L1, 12 L2, 111 L3), people, addresses
  hotline-sample.jsonl   60 call-centre records, identical to
                         tests/tools/gen_hotline.py --grids deploy/sample/qingnianlu.json --count 60 --seed 1
                                                    --start 2026-11-02T18:00:00+08:00

Deterministic (fixed seed), Python 3 standard library only.  All people are invented;
all phone numbers are fake (1380000xxxx for staff, 139xxxxxxxx for callers).
"""

import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # keep tests/tools free of __pycache__
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import gen_hotline  # noqa: E402

SEED = 20261102
HOTLINE_COUNT = 60
HOTLINE_SEED = 1
HOTLINE_START = "2026-11-02T18:00:00+08:00"  # evening, night and next morning

CATEGORIES = [
    ("sanitation", "环境卫生"), ("water", "供水排水"), ("power", "供电供暖"), ("road", "道路交通"),
    ("security", "治安安全"), ("dispute", "邻里纠纷"), ("welfare", "社会保障"), ("property", "物业房屋"),
    ("greening", "园林绿化"), ("other", "其他"),
]

# (L2 name, kind, address base).  kind: village -> groups (组) and house numbers;
# compound -> buildings (号楼) and units (单元); street -> courtyards (号院) and buildings.
L2 = [
    ("西街村", "village", "青年路街道西街村"),
    ("管道三公司社区", "compound", "管道三公司社区"),
    ("中洲官渡世纪花园社区", "compound", "中洲官渡世纪花园"),
    ("纸厂家属院", "compound", "纸厂家属院"),
    ("老县委家属院", "compound", "老县委家属院"),
    ("东街村", "village", "青年路街道东街村"),
    ("南关村", "village", "青年路街道南关村"),
    ("北关村", "village", "青年路街道北关村"),
    ("杨庄村", "village", "青年路街道杨庄村"),
    ("文化路社区", "street", "文化路"),
    ("建设路社区", "street", "建设路"),
    ("青年路社区", "street", "青年路"),
]
# 3 x 10 + 9 x 9 = 111 L3 grids
L3_PER_L2 = [10, 10, 9, 9, 9, 10, 9, 9, 9, 9, 9, 9]
assert len(L3_PER_L2) == len(L2) and sum(L3_PER_L2) == 111

CN_ORD = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]

COMMITMENTS = [
    "有求必应，24小时内回复", "小事不出网格，大事不出社区", "接诉即办，件件有回音",
    "民有所呼，我有所应", "24小时在线，一般问题当日办结", "群众的事无小事，马上就办",
    "上门服务，代办代跑，让群众少跑一趟", "问题不过夜，办结必回访", "随叫随到，办不好不撒手",
    "一次告知，限时办结，结果公开", "守好网格门，办好身边事", "电话24小时畅通，急事半小时到场",
]

SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志勇海燕春林亮波辉鹏飞慧晶晓东丹颖凤宇浩宁欣雪琳")


def build(rng):
    grids, people, addresses = [], [], []
    used_names, used_addr = set(), set()
    phones = list(range(10000))
    rng.shuffle(phones)
    phone_iter = iter(phones)

    def phone():
        return "1380000%04d" % next(phone_iter)

    def name():
        while True:
            n = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            # unique, and never the name of anyone mentioned in the source article
            if n not in used_names and not any(a in n or n in a for a in ARTICLE_NAMES):
                used_names.add(n)
                return n

    def commitment():
        return rng.choice(COMMITMENTS)

    def person(grid, n, role, position, with_commitment):
        p = {"id": "P-%s-%d" % (grid, n), "grid": grid, "role": role, "name": name(),
             "position": position, "phone": phone()}
        if with_commitment:
            p["commitment"] = commitment()
        people.append(p)

    def add_addr(a, grid):
        assert a not in used_addr, a
        used_addr.add(a)
        addresses.append({"address": a, "grid": grid})

    grids.append({"code": "QNL", "level": 1, "parent": None, "name": "青年路街道", "commitment": "民情24小时受理，件件有登记、有回音"})
    person("QNL", 1, "leader", "一级网格长/发展领航员", True)
    person("QNL", 2, "triage", "分流专员", True)

    l3_no = 0
    for i, ((l2name, kind, base), n3) in enumerate(zip(L2, L3_PER_L2), start=1):
        l2code = "QNL.%02d" % i
        grids.append({"code": l2code, "level": 2, "parent": "QNL", "name": l2name, "commitment": commitment()})
        person(l2code, 1, "leader", "二级网格长/问题协调员", True)
        building = 1
        for k in range(1, n3 + 1):
            l3_no += 1
            code = "%s.%03d" % (l2code, l3_no)
            n_addr = rng.randint(4, 6)
            if kind == "village":
                gname = "%s第%s网格" % (l2name, CN_ORD[k - 1])
                houses = sorted(rng.sample(range(1, 81), n_addr))
                addrs = ["%s%d组%d号" % (base, k, h) for h in houses]
            elif kind == "compound":
                nb = rng.randint(2, 4)
                first, last = building, building + nb - 1
                building += nb
                gname = "%s%d-%d号楼网格" % (base, first, last)
                combos = [(b, u) for b in range(first, last + 1) for u in (1, 2, 3)]
                picked = sorted(rng.sample(combos, n_addr))
                addrs = ["%s%d号楼%d单元" % (base, b, u) for b, u in picked]
            else:  # street: one courtyard per L3 grid
                yard = 2 * k + rng.randint(0, 1) + 10 * (k // 4)
                gname = "%s社区%d号院网格" % (base, yard)
                picked = sorted(rng.sample(range(1, 9), n_addr))
                addrs = ["%s%d号院%d号楼" % (base, yard, b) for b in picked]
            grids.append({"code": code, "level": 3, "parent": l2code, "name": gname, "commitment": commitment()})
            person(code, 1, "leader", "网格长", True)
            for m in range(rng.choice((2, 3))):
                person(code, 2 + m, "member", "网格员", False)
            for a in addrs:
                add_addr(a, code)
    assert l3_no == 111
    return {
        "categories": [{"code": c, "name": n} for c, n in CATEGORIES],
        "grids": grids,
        "people": people,
        "addresses": addresses,
    }


# The district units that send cadres down to the grids (下派干部).
HOME_UNITS = ["区民政局", "区住建局", "区城管局", "区卫健委", "区司法局", "区人社局", "区市场监管局"]


def add_roles(data):
    """The people side of issue 15, without touching anyone's own grid and
    role (and without the RNG: the rest of the data set stays as it was): in
    the L2 grids other than QNL.01 and QNL.07 (which the tests edit), each L3
    grid's second member is also a cadre sent down from a district unit
    (下派干部) serving that grid and the next one (一岗多责), its third member
    (where there is one) one of the three heads (三长), and its leader a
    mediator (调解员) of the 1680 method's teams.  `gridctl grids import`
    versions these rows (person_roles)."""
    l3 = [g["code"] for g in data["grids"] if g["level"] == 3]
    by_id = {p["id"]: p for p in data["people"]}
    for i, code in enumerate(l3):
        if code.startswith(("QNL.01.", "QNL.07.")):
            continue
        nxt = l3[i + 1] if i + 1 < len(l3) and l3[i + 1][:6] == code[:6] else None
        cadre = by_id.get("P-%s-2" % code)
        if cadre:
            unit = HOME_UNITS[i % len(HOME_UNITS)]
            cadre["roles"] = [{"grid": code, "role": "cadre", "home_unit": unit}]
            if nxt:
                cadre["roles"].append({"grid": nxt, "role": "cadre", "home_unit": unit})
        head = by_id.get("P-%s-3" % code)
        if head:
            head["roles"] = [{"grid": code, "role": "three_heads"}]
        by_id["P-%s-1" % code]["roles"] = [{"grid": code, "role": "team_member", "team": "mediators"}]


def dump_dataset(data):
    """One JSON object per line inside each array: valid JSON, readable, diff-friendly."""
    out = ["{"]
    keys = list(data)
    for ki, key in enumerate(keys):
        out.append(' "%s": [' % key)
        items = data[key]
        for ii, item in enumerate(items):
            out.append("  " + json.dumps(item, ensure_ascii=False) + ("," if ii < len(items) - 1 else ""))
        out.append(" ]" + ("," if ki < len(keys) - 1 else ""))
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    data = build(random.Random(SEED))
    add_roles(data)
    json.loads(dump_dataset(data))  # sanity
    path = os.path.join(HERE, "qingnianlu.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(dump_dataset(data))
    records, summary = gen_hotline.generate(data, HOTLINE_COUNT, seed=HOTLINE_SEED, start=HOTLINE_START)
    hpath = os.path.join(HERE, "hotline-sample.jsonl")
    with open(hpath, "w", encoding="utf-8") as f:
        for r in records:
            f.write(gen_hotline.dumps(r) + "\n")
    l3 = sum(1 for g in data["grids"] if g["level"] == 3)
    print("wrote %s: %d grids (%d L3), %d people, %d addresses" % (
        path, len(data["grids"]), l3, len(data["people"]), len(data["addresses"])), file=sys.stderr)
    print("wrote %s: %s" % (hpath, gen_hotline.summary_line(summary)), file=sys.stderr)


# Real people named in the source article; invented names must not match them.
ARTICLE_NAMES = ["孙令", "令文", "于国恩", "申永强", "张朝晖", "李淑娟", "邱志强", "柴晓红"]

if __name__ == "__main__":
    main()
