#!/usr/bin/env python3
"""Generate synthetic hotline (call-centre) records for gridflow as JSON Lines.

Usage:
    gen_hotline.py --grids deploy/sample/qingnianlu.json --count N
                   [--seed S] [--prefix HL-X] [--start 2026-11-02T08:00:00+08:00]

Writes one JSON object per line to stdout and a one-line summary to stderr:
    total=N with_grid=A with_known_address=B unroutable=C

Routing mix (exact, not just expected, for every N):
  * with_grid          round(30% N): explicit "grid" (a valid L3 code); about half of
                       these also carry an "address" from the same grid's address table;
  * with_known_address the rest (~60% N): no "grid", "address" is an exact string from
                       the address table;
  * unroutable         round(10% N): no "grid", and either no "address" or an address
                       that is NOT in the table -- these must end up unroutable.
The three classes are disjoint and sum to N.  Keys without a value are omitted.

Output is a pure function of (grids file contents, count, seed, prefix, start).
Python 3 standard library only.
"""

import argparse
import datetime as dt
import json
import random
import sys

DEFAULT_SEED = 1
DEFAULT_START = "2026-11-02T08:00:00+08:00"

# category code -> relative weight
CATEGORY_WEIGHTS = [
    ("sanitation", 15), ("water", 14), ("power", 10), ("road", 10),
    ("security", 8), ("dispute", 10), ("welfare", 8), ("property", 13),
    ("greening", 6), ("other", 6),
]

OPENINGS = [
    "", "", "你好，", "您好，", "喂，我想反映个事，", "我是这里的住户，", "麻烦帮忙登记一下，",
    "我要反映一个问题，", "打扰了，", "我是老住户了，", "我替我家老人打的电话，",
]

# Templates: "{w}" is replaced by a location phrase for that category ({w} optional).
WHERE = {
    "sanitation": ["我们楼下", "小区东门口", "村口路边", "我们单元门口", "菜市场旁边", "垃圾站那里", "我家后面的空地上", "我家附近"],
    "water": ["我们楼", "我们单元", "我们这一片", "我们这个组", "我家附近", "小区里"],
    "power": ["我们楼", "我们单元", "我们这一片", "我们村", "我家门口那条路上", "小区里"],
    "road": ["小区门口", "村口", "学校门口", "我们这条街", "十字路口", "小区北门外"],
    "security": ["我们小区", "我们楼", "村东头", "停车棚", "我们这一片"],
    "dispute": ["我家楼上", "隔壁邻居", "对门邻居", "我们楼下那家", "同院的一户邻居"],
    "property": ["我们楼", "我们单元", "我们院", "小区"],
    "greening": ["小区里", "我们楼前", "路边", "小区花园", "院子里"],
    "other": ["小区里", "我们村", "我们楼", "附近"],
}

PROBLEMS = {
    "sanitation": [
        "{w}的垃圾堆了好几天没人清运，味道很大，还招苍蝇",
        "楼道里堆放了很多杂物，纸箱、旧家具都有，影响通行",
        "{w}有人乱倒建筑垃圾，把路堵了一半",
        "{w}的垃圾桶满了溢出来，到处是塑料袋",
        "{w}有商户把污水直接泼在路上，又脏又滑",
        "{w}的公共厕所很久没人打扫，进都进不去",
        "{w}有人焚烧垃圾，烟很呛",
        "{w}小广告贴得到处都是，墙上、电线杆上全是",
    ],
    "water": [
        "{w}停水了，也没有提前通知，做饭都没法做",
        "{w}下水道堵塞，污水都漫到路面上了",
        "{w}自来水发黄，有铁锈味，不敢喝",
        "{w}水压特别低，楼上几层基本没水",
        "{w}有根水管破了，一直往外冒水，浪费很严重",
        "{w}化粪池满了往外溢，臭得没法住人",
        "{w}雨水井盖没了，下雨积水很深，怕有人掉进去",
        "厨房下水返水，一楼好几家都淹了",
    ],
    "power": [
        "{w}路灯不亮，晚上黑漆漆的，老人孩子走路不安全",
        "{w}经常停电，一天停好几次，冰箱里东西都坏了",
        "{w}楼道灯坏了一直没人修",
        "{w}电线乱搭乱拉，挂得很低，怕出事",
        "暖气不热，家里才十几度，老人受不了",
        "{w}电压不稳，灯一闪一闪的，电器都不敢开",
        "有人在楼道里给电动车充电，电线从窗户拉下来，太危险了",
        "{w}的变压器嗡嗡响，晚上吵得睡不着",
    ],
    "road": [
        "{w}路面坑坑洼洼，下雨就积水，电动车摔了好几次",
        "{w}有人长期占道经营，车都过不去",
        "{w}有个井盖松了，车一压就响，怕翻过来",
        "{w}乱停车，把消防通道都堵住了",
        "{w}的红绿灯坏了，上下学的时候很乱",
        "{w}修路挖开的沟一直没回填，也没有警示牌",
        "{w}的减速带坏了，钉子露在外面",
        "大货车晚上从{w}经过，路都压坏了",
    ],
    "security": [
        "{w}最近电动车接连被偷，监控好像也是坏的",
        "晚上经常有陌生人在{w}转悠，大家很不放心",
        "单元门禁坏了，谁都能进来",
        "{w}有人聚众喝酒闹事，半夜还在吵",
        "有人上门推销保健品，专门骗老人",
        "{w}消防通道被堵，灭火器也过期了",
        "{w}围墙塌了一个口子，外面的人随便进出",
        "有住户在家里囤放液化气罐，怕出事故",
    ],
    "dispute": [
        "{w}每天晚上很晚还在蹦跳、拖椅子，噪音太大，孩子没法休息",
        "{w}在楼道里养狗，随地大小便，说了也不听",
        "{w}把空调外机装在我家窗户边上，热风直吹",
        "{w}占用公共楼道放东西，两家吵了好几次",
        "{w}装修天天一大早就开始砸墙，周末也不停",
        "{w}卫生间漏水渗到我家天花板，协商不下来",
        "和{w}因为宅基地边界有争议，两家闹得很僵",
        "{w}在院子里养鸡，味道很大，还吵",
    ],
    "welfare": [
        "想咨询一下低保怎么申请，需要准备哪些材料",
        "我母亲的重残补贴到现在还没发下来，想问问是什么情况",
        "家里老人八十多了，想问高龄补贴怎么办",
        "家里困难，孩子上学想申请资助，不知道找谁",
        "医保报销跑了好几趟都没办成",
        "我失业了，想问问有没有公益岗位或者技能培训",
        "我父亲退休时有一年工龄没认定上，想请网格帮忙问问",
        "我们邻居家是留守儿童，爷爷奶奶身体不好，想给他们申请帮扶",
    ],
    "property": [
        "{w}电梯三天两头坏，老人上下楼太难了",
        "屋顶漏水，一下雨家里就滴水，找物业一直不管",
        "{w}物业费收了，服务跟不上，卫生也没人搞",
        "{w}外墙皮脱落，砸到楼下的车了，太危险",
        "{w}是老旧楼院，没有物业，单元门、楼梯扶手都坏了",
        "物业私自把绿地改成停车位收费",
        "房产证办了好几年还办不下来",
        "{w}楼顶防水层坏了，顶层几户墙都发霉了",
    ],
    "greening": [
        "{w}有几棵树枯死了，风一刮树枝往下掉",
        "{w}树枝挡住了路灯和窗户，想请人修剪一下",
        "{w}有人把绿化带铲了种菜",
        "{w}草坪很久没人管，杂草长得比人还高",
        "{w}大树根把路面都拱起来了",
        "{w}的绿化带里有人倒垃圾",
        "{w}杨絮太多，能不能处理一下",
    ],
    "other": [
        "想问一下社区办居住证要带什么材料",
        "想表扬一下我们的网格员，帮了我们家大忙",
        "{w}有只流浪狗，怕咬到孩子",
        "想问问社区有没有老年人活动的地方",
        "{w}有户人家门口一直有人催债，贴了很多纸",
        "想建议{w}装几个健身器材",
        "快递都堆在楼门口，丢了好几次",
    ],
}

URGENT_PROBLEMS = {
    "water": [
        "{w}下水道挖断了，污水漫了一大片，几百户居民出不了门",
        "{w}主水管爆了，水已经冲到一楼住户家里",
    ],
    "power": [
        "{w}整栋楼停电了，家里老人要用制氧机，等不了",
        "{w}电线杆上的线掉下来了，还冒火花",
    ],
    "security": [
        "{w}闻到很大的煤气味，好像有人家里漏气了",
        "{w}有人打架，已经有人受伤了",
    ],
    "road": [
        "{w}的井盖没了，刚才有个骑电动车的掉进去了",
    ],
    "property": [
        "{w}楼道里着火冒烟了，有人被困在楼上",
    ],
    "welfare": [
        "我们楼一个独居老人好几天没出门了，敲门也没人应",
    ],
}

# categories whose complaints are questions/requests rather than conditions
NO_DURATION = {"welfare", "other"}

DURATIONS = [
    "", "", "已经三天了，", "好几天了，", "从昨天晚上开始，", "一个多星期了，",
    "这个月已经第三次了，", "快半个月了，",
]

REQUESTS = [
    "希望尽快派人处理。", "请网格员过来看看。", "麻烦尽快解决，谢谢。", "之前反映过一次，到现在还没解决。",
    "请给个答复。", "希望社区重视一下。", "处理好了请回个电话。", "大家意见都很大。", "谢谢！", "",
]

URGENT_REQUESTS = [
    "情况紧急，请马上派人！", "请赶紧来人，等不了了！", "已经很危险了，请立即处理！",
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯董萧程曹袁邓许傅沈曾彭吕"
TITLES = ["先生", "女士", "大爷", "阿姨", "师傅"]

UNKNOWN_ADDRESSES = [
    "中牟县城关镇建设路18号", "郑州市管城区紫荆山路3号", "中牟县广惠街道商都大道99号",
    "青年路街道附近", "不清楚门牌，在大桥边上", "郑州东站出站口", "中牟县白沙镇前进村",
    "县医院对面", "万胜路与解放路交叉口东北角", "开封市顺河区某小区", "中牟县韩寺镇集上",
    "北环路加油站后面",
]


def parse_time(s):
    t = dt.datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return t


def fmt_time(t):
    return t.isoformat(timespec="seconds")


def load_grids(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _exact_mix(rng, n):
    n_grid = round(n * 0.30)
    n_unr = round(n * 0.10)
    n_addr = n - n_grid - n_unr
    kinds = ["grid"] * n_grid + ["address"] * n_addr + ["unroutable"] * n_unr
    rng.shuffle(kinds)
    return kinds


def _fill(rng, cat, template):
    w = WHERE.get(cat) or ["这里"]
    return template.replace("{w}", rng.choice(w))


def _compose_text(rng, cat, urgent):
    if urgent:
        text = rng.choice(OPENINGS) + _fill(rng, cat, rng.choice(URGENT_PROBLEMS[cat])) + "，" + rng.choice(URGENT_REQUESTS)
    else:
        problem = rng.choice(PROBLEMS[cat])
        dur = "" if cat in NO_DURATION else rng.choice(DURATIONS)
        text = rng.choice(OPENINGS) + _fill(rng, cat, problem) + "，" + dur + rng.choice(REQUESTS)
        if rng.random() < 0.25:
            extra = rng.choice([p for p in PROBLEMS[cat] if p != problem])
            text = text.rstrip("，") + ("" if text.endswith(("。", "！")) else "。")
            text += "另外，" + _fill(rng, cat, extra) + "，也请一起看看。"
    text = text.replace("，，", "，").rstrip("，")
    if not text.endswith(("。", "！", "？")):
        text += "。"
    assert 10 <= len(text) <= 300, text
    return text


def generate(data, count, seed=DEFAULT_SEED, prefix=None, start=DEFAULT_START):
    """Return (records, summary_dict)."""
    rng = random.Random(seed)
    t = parse_time(start)
    if prefix is None:
        prefix = "HL-" + t.strftime("%Y%m%d")
    width = max(6, len(str(count)))

    l3 = sorted(g["code"] for g in data["grids"] if g["level"] == 3)
    if not l3:
        raise SystemExit("no level-3 grids in grids file")
    addr_by_grid = {}
    for a in data["addresses"]:
        addr_by_grid.setdefault(a["grid"], []).append(a["address"])
    known = {a["address"] for a in data["addresses"]}
    all_addresses = sorted(known)
    unknown = [a for a in UNKNOWN_ADDRESSES if a not in known]
    valid_cats = {c["code"] for c in data.get("categories", [])} or {c for c, _ in CATEGORY_WEIGHTS}
    cats = [c for c, _ in CATEGORY_WEIGHTS if c in valid_cats]
    weights = [w for c, w in CATEGORY_WEIGHTS if c in valid_cats]
    urgent_cats = [c for c in cats if c in URGENT_PROBLEMS]

    kinds = _exact_mix(rng, count)
    n_urgent = round(count * 0.05)
    urgent_idx = set(rng.sample(range(count), n_urgent)) if n_urgent else set()

    records = []
    summary = {"total": 0, "with_grid": 0, "with_known_address": 0, "unroutable": 0}
    for i in range(count):
        # time: strictly increasing; calls are sparser at night (23:00-06:59)
        if i > 0:
            gap = rng.randint(60, 1500)
            if t.hour >= 23 or t.hour < 7:
                gap *= 4
            t = t + dt.timedelta(seconds=gap)
        urgent = i in urgent_idx
        cat = rng.choice(urgent_cats) if urgent else rng.choices(cats, weights)[0]
        rec = {"call_id": "%s-%0*d" % (prefix, width, i + 1), "time": fmt_time(t)}
        r = rng.random()
        if r < 0.70:
            rec["caller"] = rng.choice(SURNAMES) + rng.choice(TITLES)
            rec["phone"] = "139%08d" % rng.randrange(10 ** 8)
        elif r < 0.80:
            rec["caller"] = rng.choice(SURNAMES) + rng.choice(TITLES)
        elif r < 0.88:
            rec["phone"] = "139%08d" % rng.randrange(10 ** 8)
        # else: anonymous, neither caller nor phone
        rec["text"] = _compose_text(rng, cat, urgent)
        kind = kinds[i]
        if kind == "grid":
            g = rng.choice(l3)
            if addr_by_grid.get(g) and rng.random() < 0.5:
                rec["address"] = rng.choice(addr_by_grid[g])
            rec["grid"] = g
            summary["with_grid"] += 1
        elif kind == "address":
            rec["address"] = rng.choice(all_addresses)
            summary["with_known_address"] += 1
        else:
            if unknown and rng.random() < 0.6:
                rec["address"] = rng.choice(unknown)
            summary["unroutable"] += 1
        rec["category"] = cat
        rec["urgent"] = urgent
        # canonical key order
        order = ["call_id", "time", "caller", "phone", "text", "address", "grid", "category", "urgent"]
        records.append({k: rec[k] for k in order if k in rec})
        summary["total"] += 1
    return records, summary


def summary_line(s):
    return "total=%d with_grid=%d with_known_address=%d unroutable=%d" % (
        s["total"], s["with_grid"], s["with_known_address"], s["unroutable"])


def dumps(rec):
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grids", required=True, help="grids file, e.g. deploy/sample/qingnianlu.json")
    ap.add_argument("--count", type=int, required=True, help="number of records")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    ap.add_argument("--prefix", default=None, help="call_id prefix (default HL-<start date YYYYMMDD>)")
    ap.add_argument("--start", default=DEFAULT_START, help="time of the first call, ISO 8601 (default %(default)s)")
    a = ap.parse_args(argv)
    if a.count < 0:
        ap.error("--count must be >= 0")
    records, summary = generate(load_grids(a.grids), a.count, a.seed, a.prefix, a.start)
    out = sys.stdout
    for rec in records:
        out.write(dumps(rec) + "\n")
    out.flush()
    print(summary_line(summary), file=sys.stderr)


if __name__ == "__main__":
    main()
