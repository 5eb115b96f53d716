"""The patterns that find values in a provision: amounts, rates, thresholds, ceilings, durations, year
ranges, flags, tiers (分别 pairing) and the beneficiary.

Every value names the pattern that found it (``pattern``), its offsets in the text (``span``) and a
confidence; a value the patterns cannot place is marked ``review`` rather than guessed.

Inclusiveness follows 民法典 第1259条: 以上、以下、以内、届满 include the figure; 不满、超过 exclude it.
A ceiling (最高, 不超过 after a benefit word) is an upper bound on the benefit and never a threshold.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from fractions import Fraction

from huiqi.extract.numerals import NUMBER, format_count, format_money, format_rate, money_fen, to_number


@dataclass
class Value:
    """One value found in a text."""

    field: str  # amount | rate | threshold | cap | duration | year_range | flag | other
    text: str
    span: tuple[int, int]
    label: str  # canonical: 100万元, 5%, >=1000万元, 3年, 首次
    pattern: str
    confidence: float
    kind: str = ""  # money | rate | count | year
    number: Fraction | None = None
    fen: int | None = None
    unit: str = ""
    op: str | None = None  # threshold: >= > <= <
    subject: str | None = None  # threshold: the Chinese name of what is compared (营业收入)
    review: bool = False
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "field": self.field,
            "value": self.label,
            "quote": self.text,
            "span": list(self.span),
            "pattern": self.pattern,
            "confidence": self.confidence,
        }
        if self.subject:
            out["subject"] = self.subject
        if self.review:
            out["review"] = True
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class TierPair:
    when: list[Value]
    amount: Value
    category: str | None = None


@dataclass
class Tiers:
    pattern: str
    pairs: list[TierPair] = field(default_factory=list)
    review: bool = False
    note: str | None = None
    span: tuple[int, int] = (0, 0)


_MONEY = re.compile(rf"({NUMBER})\s*(亿元|万元|元|万(?=[。；，,;、）)]|$))")
_PERCENT = re.compile(rf"({NUMBER})\s*([%％‰])")
_RATIO = re.compile(r"1\s*[:：]\s*([0-9]+(?:\.[0-9]+)?)\s*的?\s*(?:比例|配套)")
_CN_RATE = re.compile(r"(百分之|千分之)([零〇一二两三四五六七八九十百点.0-9]+)")
_COUNT = re.compile(
    rf"({NUMBER})\s*(个月|人次|平方米|万人|周岁|岁|人|家|个|项|名|位|年|件|台|套|亩|户|次|倍|篇|款|所|批)"
)
_YEAR_RANGE = re.compile(r"((?:19|20)[0-9]{2})\s*(?:年)?\s*[-—–~～至到]\s*((?:19|20)[0-9]{2})\s*年")

_RANGE = re.compile(
    rf"({NUMBER})\s*(亿元|万元|元)?\s*([（(](?:含|不含)[）)])?\s*[—\-－~～至到]\s*({NUMBER})\s*(亿元|万元|元)\s*([（(](?:含|不含)[）)])?\s*(之间|以下|以内)?"
)


def _range_values(text: str, m: re.Match[str], offset: int) -> tuple[Value | None, Value | None]:
    """营业收入在5000万元(含)—1亿元之间: a lower and an upper threshold. An upper bound the text does not mark
    is exclusive when the same figure starts a tier elsewhere (1亿元(含)以上), else inclusive and reviewed."""
    try:
        low_fen = money_fen(m.group(1), m.group(2) or m.group(5))
        high_fen = money_fen(m.group(4), m.group(5))
    except ValueError:
        return None, None
    if low_fen >= high_fen:
        return None, None
    _, clause = _clause_prefix(text, m.start())
    near = _nearest(clause)
    if (near is not None and near[1] == "benefit" and len(clause) - near[2] <= 2) or _BENEFIT_AFTER.match(
        text[m.end() : m.end() + 12]
    ):  # 给予30-50万元奖励: the amount lies in the range, the official fixes it; its top is a ceiling
        span = (offset + m.start(), offset + m.end())
        why = "金额区间：给予X—Y元，实际金额由主管部门在区间内确定"
        floor = Value("other", m.group(0), span, format_money(low_fen), f"{why}（下限）", 0.8, kind="money",
                      number=Fraction(low_fen, 100), fen=low_fen, unit="元")  # fmt: skip
        top = Value("cap", m.group(0), span, format_money(high_fen), f"{why}（上限，不是门槛）", 0.8, kind="money",
                    number=Fraction(high_fen, 100), fen=high_fen, unit="元", note=f"最低{format_money(low_fen)}")  # fmt: skip
        return floor, top
    low_op = ">" if m.group(3) and "不含" in m.group(3) else ">="
    low_text = m.group(1) + (m.group(2) or m.group(5))
    if not m.group(3) and re.search(re.escape(low_text) + r"\s*[（(]含[）)]", text[: m.start()]):
        low_op = ">"  # 小于5000万元(含)、5000万元至2亿元(含): the text put 5000万元 in the tier below
    review = False
    if m.group(6):
        high_op = "<" if "不含" in m.group(6) else "<="
        why = f"上界注明“{m.group(6)}”"
    else:
        high_text = m.group(4) + m.group(5)
        if re.search(re.escape(high_text) + r"\s*(?:[（(]含[）)]|及)以上", text):
            high_op, why = "<", f"上界未注明；文中另有“{high_text}（含）以上”，故不含"
        else:
            high_op, why, review = "<=", "上界未注明含否：按含本数起草，请核对", True
    _, prefix = _clause_prefix(text, m.start())
    subject = _subject(re.sub(r"(?:分别)?在$", "", prefix), len(re.sub(r"(?:分别)?在$", "", prefix)))
    span = (offset + m.start(), offset + m.end())
    low = Value(
        "threshold",
        m.group(0),
        span,
        f"{low_op}{format_money(low_fen)}",
        "区间：X（含）—Y之间的下界",
        0.85,
        kind="money",
        number=Fraction(low_fen, 100),
        fen=low_fen,
        unit="元",
        op=low_op,
        subject=subject,
    )
    high = Value(
        "threshold",
        m.group(0),
        span,
        f"{high_op}{format_money(high_fen)}",
        f"区间上界：{why}",
        0.6 if review else 0.8,
        kind="money",
        number=Fraction(high_fen, 100),
        fen=high_fen,
        unit="元",
        op=high_op,
        subject=subject,
        review=review,
        note=why if review else None,
    )
    return low, high


#: Comparators with their operator, longest first (民法典 第1259条).
_PREFIX_OPS: list[tuple[str, str]] = [
    ("最高不超过", "cap"),
    ("累计不超过", "cap"),
    ("不超过", "<="),
    ("不高于", "<="),
    ("不大于", "<="),
    ("不多于", "<="),
    ("不低于", ">="),
    ("不少于", ">="),
    ("不小于", ">="),
    ("不满", "<"),
    ("不足", "<"),
    ("未达到", "<"),
    ("未满", "<"),
    ("达到", ">="),
    ("超过", ">"),
    ("高于", ">"),
    ("大于", ">"),
    ("多于", ">"),
    ("低于", "<"),
    ("少于", "<"),
    ("小于", "<"),
    ("满", ">="),
    ("达", ">="),
    ("最高可达", "cap"),
    ("最高达到", "cap"),
    ("最多可达", "cap"),
    ("最高达", "cap"),
    ("可达", "cap"),
    ("最高", "cap"),
    ("最多", "cap"),
    ("上限为", "cap"),
    ("上限", "cap"),
    ("封顶", "cap"),
]
_SUFFIX_OPS: list[tuple[str, str]] = [
    ("（含）以上", ">="),
    ("(含)以上", ">="),
    ("及以上", ">="),
    ("以上", ">="),
    ("（含）以下", "<="),
    ("以下", "<="),
    ("以内", "<="),
    ("之内", "<="),
    ("内", "<="),
    ("封顶", "cap"),
]
_BENEFIT_WORDS = (
    "给予",
    "予以",
    "给与",
    "可获得",
    "奖励",
    "补助",
    "补贴",
    "资助",
    "奖补",
    "贴息",
    "扶持",
    "支持",
    "补偿",
    "一次性",
)
_BENEFIT_AFTER = re.compile(
    r"^[\s的]*(?:的)?(?:一次性)?(?:安家|购房|租房|房屋|住房|生活|现金|配套|专项|科研|创业|人才)?"
    r"(?:奖励|补助|补贴|资助|奖补|贴息|扶持|支持|的?资金|经费|补偿|奖金|研发|事后|安家费)"
)
_RATE_MARK = ("按", "比例", "按照")
_CLAUSE_BREAK = re.compile(r"[，。；：,;:！？\n]")

FLAGS: list[tuple[str, str]] = [
    ("首次", "首次"),
    ("一次性", "一次性"),
    ("进档补差", "进档补差"),
    ("连续(?=[0-9一二三四五六七八九十两]|支持|资助|给予|奖励|补助|扶持)", "连续"),
    ("事后", "事后"),
    ("一事一议", "一事一议"),
    ("比照", "比照"),
    ("与[^，。；,;]{0,8}同等(?:额度|标准)|同比例(?:奖励|配套|支持|补助)|同等额度", "比照"),
    ("按差额|差额(?:奖励|补助|补足)|补足差额", "进档补差"),
    ("择优", "择优"),
    ("累计", "累计"),
]


def _clause_prefix(text: str, start: int) -> tuple[int, str]:
    """The text from the clause start (after the last ，。；：) up to ``start``."""
    begin = start
    while begin > 0 and not _CLAUSE_BREAK.match(text[begin - 1]):
        begin -= 1
    return begin, text[begin:start]


def _nearest(prefix: str) -> tuple[str, str, int] | None:
    """The keyword closest before the figure: a comparator, a ceiling word, a benefit word or 按 (rate)."""
    best: tuple[str, str, int] | None = None
    candidates: list[tuple[str, str]] = list(_PREFIX_OPS) + [(w, "benefit") for w in _BENEFIT_WORDS]
    candidates += [(w, "rate") for w in _RATE_MARK]
    for word, role in candidates:
        at = prefix.rfind(word)
        if at < 0:
            continue
        end = at + len(word)
        # the longest keyword ending furthest right wins (不超过 over 超过)
        if best is None or end > best[2] or (end == best[2] and len(word) > len(best[0])):
            best = (word, role, end)
    return best


def _suffix_op(text: str, end: int) -> tuple[str, str] | None:
    rest = (
        _PAREN.sub("", text[end : end + 120], count=1) if re.match(r"^\s*[（(](?!含[）)])", text[end:]) else text[end:]
    )
    rest = re.sub(r"^\s*(?:期|个)?(?=[（(]含[）)]|及以上|以上|以下|以内)", "", rest[:8])
    rest = re.sub(r"^[（(]含[）)](?=以上|以下)", "（含）", rest)
    for word, op in _SUFFIX_OPS:
        if rest.startswith(word):
            if word == "内" and not rest.startswith("内"):
                continue
            return word, op
    return None


_SUBJECT_STOP = re.compile(r"[对且并和及与、的为在后或其中，。；：,;:\s（）()“”《》]")


def _subject(prefix: str, keyword_at: int) -> str | None:
    """The noun phrase right before the comparator (实缴注册资本 in 实缴注册资本不低于1000万元)."""
    before = prefix[:keyword_at]
    out = ""
    for ch in reversed(before):
        if _SUBJECT_STOP.match(ch) or len(out) >= 12:
            break
        out = ch + out
    out = re.sub(r"^(?:企业|单位|项目|上年度|年度|当年|年)", "", out) if len(out) > 4 else out
    out = re.sub(r"(?:同时|首次|均|累计|分别|年均|合计)+$", "", out)
    return out or None


def find_values(text: str, offset: int = 0) -> list[Value]:
    """Every amount, rate, threshold, ceiling, duration, year range and flag in ``text``; spans are
    ``offset`` + position in ``text``."""
    values: list[Value] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in _YEAR_RANGE.finditer(text):
        values.append(
            Value(
                "year_range",
                m.group(0),
                (offset + m.start(), offset + m.end()),
                f"{m.group(1)}-{m.group(2)}",
                "年份区间：YYYY—YYYY年",
                0.95,
                kind="year",
            )
        )
        taken.append(m.span())
    for m in _RANGE.finditer(text):
        low, high = _range_values(text, m, offset)
        if low is not None and high is not None and free(*m.span()):
            values += [low, high]
            taken.append(m.span())
    mentions: list[tuple[re.Match[str], str]] = []
    for m in _MONEY.finditer(text):
        mentions.append((m, "money"))
    for m in _PERCENT.finditer(text):
        mentions.append((m, "rate"))
    for m in _CN_RATE.finditer(text):
        mentions.append((m, "cn_rate"))
    for m in _RATIO.finditer(text):
        mentions.append((m, "ratio"))
    for m in _COUNT.finditer(text):
        mentions.append((m, "count"))
    mentions.sort(key=lambda item: item[0].start())
    for m, kind in mentions:
        if not free(*m.span()):
            continue
        value = _classify(text, m, kind, offset)
        if value is not None:
            values.append(value)
            taken.append(m.span())
    _continue_enumerations(values, text, offset)
    for word, label in FLAGS:
        for m in re.finditer(word, text):
            values.append(
                Value("flag", m.group(0), (offset + m.start(), offset + m.end()), label, f"标志词“{label}”", 0.9)
            )
    _inherit_subjects(values, text, offset)
    values.sort(key=lambda v: v.span)
    return values


def _classify(text: str, m: re.Match[str], kind: str, offset: int) -> Value | None:
    span = (offset + m.start(), offset + m.end())
    if kind == "ratio":  # 按照1:0.1的比例给予配套奖励: a tenth of the grant it matches
        try:
            number = to_number(m.group(1))
        except ValueError:
            return None
        return Value("rate", m.group(0), span, format_rate(number), "比例：按照1:X的比例（配套）", 0.8,
                     kind="rate", number=number, unit="%")  # fmt: skip
    if kind == "money":
        try:
            fen = money_fen(m.group(1), m.group(2))
        except ValueError:
            return None
        label, number, unit = format_money(fen), Fraction(fen, 100), "元"
        vkind = "money"
    elif kind in ("rate", "cn_rate"):
        try:
            if kind == "rate":
                number = to_number(m.group(1)) / (1000 if m.group(2) == "‰" else 100)
            else:
                digits = m.group(2).replace("点", ".")
                whole, _, frac = digits.partition(".")
                base = to_number(whole) + (Fraction(f"0.{frac}") if frac else 0)
                number = base / (100 if m.group(1) == "百分之" else 1000)
        except ValueError:
            return None
        fen, label, unit, vkind = None, format_rate(number), "%", "rate"
    else:
        try:
            number = to_number(m.group(1))
        except ValueError:
            return None
        unit = m.group(2)
        if unit == "年" and 1900 <= number <= 2100:
            return None  # a calendar year (2023年), not a count
        if unit == "年" and (
            text[m.end() : m.end() + 1] == "度"
            or text[m.start() - 1 : m.start()] in ("上", "下", "前", "每", "同", "当", "本")
        ):
            return None  # 上一年度, 每一年: not a duration
        if unit == "次" and text[m.end() : m.end() + 1] == "性":
            return None  # 一次性 is a flag, not a count
        if unit == "万人":
            number, unit = number * 10_000, "人"
        fen, label, vkind = None, format_count(number, unit), "count"
    clause_start, prefix = _clause_prefix(text, m.start())
    near = _nearest(prefix)
    suffix = _suffix_op(text, m.end())
    after = text[m.end() : m.end() + 12]
    benefit_before = any(w in prefix for w in _BENEFIT_WORDS)
    benefit_after = bool(_BENEFIT_AFTER.match(after))
    role = near[1] if near else None
    gap = len(prefix) - near[2] if near else 99
    if near is not None and re.fullmatch(
        rf"(?:\s*{NUMBER}\s*(?:亿元|万元|元|%|％)?\s*[（(]?含?[）)]?\s*[、和及或]\s*)+", prefix[near[2] :]
    ):
        gap = 0  # 不超过150万元、100万元: a later item of an enumeration stands where the first one stands
    if near is not None and role == "benefit":
        head = prefix[: near[2] - len(near[0])]
        cap_word = next((w for w, r in _PREFIX_OPS if r == "cap" and head.endswith(w)), None)
        if cap_word is None:
            cap_word = next((w for w in ("最高", "最多", "不超过") if w in head[-6:]), None)
        if cap_word is not None:  # 最高给予100万元、最高奖补2000万元: the benefit word sits between
            near = (cap_word, "cap", near[2])
            role = "cap"
    sentence_start = max(text.rfind(ch, 0, m.start()) for ch in "。；;\n") + 1
    sentence_head = text[sentence_start : m.start()]
    statistic = re.search(r"占.{0,12}(比重|总数|的)", sentence_head) and not re.search(
        r"不低于|不少于|达到|超过|以上|不高于|不超过", sentence_head
    )  # 占比不低于50%的机构 is a condition, 占全市的比重 a statistic
    if (re.search(r"到\s*20[0-9]{2}\s*年|力争|目标|预计|累计投入", sentence_head) or statistic) and not any(
        w in sentence_head for w in ("给予", "奖励", "补助", "补贴")
    ):
        return Value(
            "other",
            m.group(0),
            span,
            label,
            "目标或统计（到X年、力争、占…比重）：不是规则",
            0.8,
            kind=vkind,
            number=number,
            fen=fen,
            unit=unit,
        )
    if vkind == "rate" and text[m.start() - 1 : m.start()] == "各":  # 市财政和区财政按照各50%比例: a split
        return Value("other", m.group(0), span, label, "分担比例（各X%）：出资方之间的分担，不是给予的比例", 0.7,
                     kind=vkind, number=number, unit=unit)  # fmt: skip
    if vkind == "count" and re.search(r"(?:排名|名列|居|位列|位居)?前$", prefix) and unit in ("位", "名"):
        return Value("threshold", m.group(0), span, f"<={label}", "名次：前N位/名（含本数）", 0.8, kind=vkind,
                     number=number, unit=unit, op="<=", subject="名次")  # fmt: skip
    if (
        vkind == "rate"
        and "按" in prefix
        and near is not None
        and near[0] in ("不超过", "不高于", "最高不超过")
        and re.match(r"^\s*(?:的比例)?\s*(?:给予|予以|补助|补贴|奖励|资助)", text[m.end() : m.end() + 8])
    ):  # 按不超过代偿额的10%给予风险补贴: the rate of the benefit, at most
        return Value("rate", m.group(0), span, label, f"比例上限：按“{near[0]}”…X%给予", 0.8, kind=vkind,
                     number=number, unit=unit, note="比例为上限（不超过）")  # fmt: skip
    stripped_clause = prefix.lstrip()
    if (
        role in ("<=", "cap")
        and near is not None
        and stripped_clause.startswith(near[0])
        and any(w in text[sentence_start:clause_start] for w in _BENEFIT_WORDS)
        and vkind == "money"
    ):  # 按投入2%给予奖励，不超过50万元: a clause of its own after the benefit bounds it
        return Value(
            "cap",
            m.group(0),
            span,
            label,
            f"上限：给予之后另起一句“{near[0]}”（上限，不是门槛）",
            0.85,
            kind=vkind,
            number=number,
            fen=fen,
            unit=unit,
        )
    value = Value("other", m.group(0), span, label, "", 0.5, kind=vkind, number=number, fen=fen, unit=unit)
    # Durations: 连续N年, N年内, 不超过N年 in a benefit, 期限N年
    since = re.search(r"(毕业|成立|注册|设立|创办|入选|认定|引进)(?:后)?$", prefix)
    if vkind == "count" and unit in ("年", "个月") and since and suffix and suffix[1] in ("<=", "<"):
        value.field, value.op, value.label = "threshold", suffix[1], f"{suffix[1]}{label}"
        value.pattern = f"门槛：{since.group(1)}N年{suffix[0]}（时间条件，不是支持期限）"
        value.confidence, value.subject = 0.8, f"{since.group(1)}年限"
        return value
    if (
        vkind == "count"
        and unit in ("年", "个月")
        and (
            re.search(r"(连续|期限|最长|支持期|有效期|为期|每年|累计|周期)$", prefix[-4:] if prefix else "")
            or (suffix and suffix[0] in ("内", "以内", "之内"))
            or (role in ("cap", "<=") and benefit_before)
        )
    ):
        value.field, value.pattern, value.confidence = "duration", "期限：连续/不超过/以内 N年", 0.85
        value.label = f"{label}"
        return value
    if suffix and suffix[1] == ">=" and suffix[0] == "以上":
        figure = re.escape(m.group(0))
        if re.search(figure + r"\s*[（(]含[）)]", text[sentence_start : m.start()]):
            suffix = ("以上", ">")  # 5000万元至2亿元(含)、2亿元以上: the text put 2亿元 in the tier below
    if suffix and suffix[1] != "cap" and not (role == "benefit" and gap <= 2):
        value.field, value.op = "threshold", suffix[1]
        value.label = f"{suffix[1]}{label}"
        value.pattern = f"门槛：数额后接“{suffix[0]}”（{_op_words(suffix[1])}）"
        value.confidence = 0.9
        if near and near[1] in (">=", ">", "<=", "<"):
            value.subject = _subject(prefix, len(prefix) - (len(prefix) - near[2]) - len(near[0]))
        else:
            value.subject = _subject(prefix, len(prefix))
        if near and near[1] in (">=", ">", "<=", "<") and near[1] != suffix[1] and gap <= 2:
            value.review, value.note = True, f"前有“{near[0]}”、后有“{suffix[0]}”，包含与否请核对"
            value.confidence = 0.6
        return value
    if near is not None and role == "cap" and gap <= 8:
        value.field = "cap" if vkind == "money" else ("rate" if vkind == "rate" else "threshold")
        if value.field == "threshold":
            value.op, value.label = "<=", f"<={label}"
        value.pattern = (
            f"上限：“{near[0]}”在前（上限，不是门槛）" if value.field != "threshold" else f"门槛：“{near[0]}”（≤）"
        )
        value.confidence = 0.9
        if value.field == "rate":
            value.note = "比例为上限（最高）"
        return value
    if (
        role == "<="
        and near
        and near[0] in ("不超过", "不高于", "不大于")
        and (benefit_before or benefit_after)
        and gap <= 4
    ):
        if vkind == "money":
            value.field, value.pattern, value.confidence = "cap", f"上限：给予/补助…“{near[0]}”（上限，不是门槛）", 0.85
            return value
        if vkind == "rate":
            value.field, value.pattern, value.confidence = "rate", f"比例上限：“{near[0]}”", 0.8
            value.note = "比例为上限（不超过）"
            return value
    if (
        role in (">=", ">", "<=", "<")
        and gap <= 6
        and vkind == "count"
        and re.search(r"评选|遴选|择优|每年支持|认定|培育", prefix)
    ):
        value.pattern = "名额（评选不多于N个）：不是申请人的门槛"
        return value
    if role in (">=", ">", "<=", "<") and gap <= 6 and near is not None:
        subject = _subject(prefix, near[2] - len(near[0])) or ""
        if re.search(r"(资金|基金|经费|预算|规模)$", subject):
            value.pattern = "资金规模（安排…资金不少于X）：不是门槛"
            return value
    if role in (">", "<") and gap <= 6 and re.match(r"^\s*[（(]含[）)]", text[m.end() : m.end() + 4]):
        role = role + "="  # 小于5000万元(含): the text includes the figure
    if role in (">=", ">", "<=", "<") and gap <= 6:
        value.field, value.op = "threshold", role
        value.label = f"{role}{label}"
        value.pattern = f"门槛：“{near[0]}”在前（{_op_words(role)}）" if near else ""
        value.confidence = 0.9 if gap <= 1 else 0.75
        value.subject = _subject(prefix, near[2] - len(near[0])) if near else None
        return value
    if vkind == "rate" and (role in ("rate", "benefit") or benefit_after or text[m.start() - 1 : m.start()] == "的"):
        value.field, value.pattern, value.confidence = "rate", "比例：按…X%给予/X%的补助", 0.85 if role else 0.7
        return value
    if vkind == "money" and (role == "benefit" or benefit_after):
        value.field = "amount"
        value.pattern = "金额：给予/奖励…X元" if role == "benefit" else "金额：X元的奖励/补助"
        value.confidence = 0.9 if (role == "benefit" and gap <= 8) or benefit_after else 0.7
        if re.search(r"(每|按每)[\u4e00-\u9fff]{0,3}$", prefix[-4:]) or re.match(r"^/", after):
            value.note = "单价（每…），金额随数量变化"
        return value
    if vkind in ("money", "rate") and benefit_before and gap > 8:
        value.field, value.review = ("amount" if vkind == "money" else "rate"), True
        value.pattern = "金额/比例：句中有给予/奖励，但未紧邻"
        value.confidence = 0.5
        value.note = "是否为给予的金额，请核对"
        return value
    value.pattern = "数值：不是金额、比例、门槛或上限（统计、规模、目标等），不生成规则"
    value.confidence = 0.6
    return value


_ENUM_BETWEEN = re.compile(r"^\s*(?:[（(]含[）)])?\s*(?:、|和|及|或|至|到|、或)\s*$")
_PAREN = re.compile(r"[（(][^（）()]*[）)]")


def _continue_enumerations(values: list[Value], text: str, offset: int) -> None:
    """An unplaced figure right after a placed one of the same kind, joined by 、/和/或, is the next item of
    the same enumeration (达到1亿元、5亿元、10亿元)."""
    ordered = sorted(values, key=lambda v: v.span)
    for value, after in reversed(list(itertools.pairwise(ordered))):  # 2亿元(…)、1亿元(…)、5000万元(…)及以上
        if value.field != "other" or after.field != "threshold" or after.kind != value.kind:
            continue
        between = _PAREN.sub("", text[value.span[1] - offset : after.span[0] - offset])
        if not _ENUM_BETWEEN.match(between) or not after.pattern.startswith(("门槛：数额后接", "列举：与后一项")):
            continue
        value.field, value.op, value.subject = "threshold", after.op, after.subject
        value.label = f"{after.op}{value.label}"
        value.pattern = f"列举：与后一项（{after.label}）同类，共用其后的“以上/以下”"
        value.confidence = min(after.confidence, 0.8)
    for prev, value in itertools.pairwise(ordered):
        if value.field != "other" or prev.field in ("other", "flag", "year_range"):
            continue
        between = _PAREN.sub("", text[prev.span[1] - offset : value.span[0] - offset])
        if not _ENUM_BETWEEN.match(between):
            continue
        if prev.kind != value.kind and not (
            prev.field == "threshold" and value.field == "other" and value.kind != "rate"
        ):
            continue
        value.field, value.op, value.subject = prev.field, prev.op, prev.subject
        if value.field == "threshold" and value.op:
            value.label = f"{value.op}{value.label.lstrip('<>=')}"
        value.pattern = f"列举：与前一项（{prev.label}）同类，以“{between.strip() or '、'}”相连"
        value.confidence = min(prev.confidence, 0.85)
        value.note = prev.note


def _op_words(op: str) -> str:
    return {">=": "含本数", ">": "不含本数", "<=": "含本数", "<": "不含本数"}[op]


def _inherit_subjects(values: list[Value], text: str, offset: int) -> None:
    """In an enumeration (达到1亿元、5亿元) later thresholds take the first one's subject and operator."""
    last: Value | None = None
    for value in sorted(values, key=lambda v: v.span):
        if value.field != "threshold":
            continue
        if last is not None and value.subject is None and last.kind == value.kind:
            between = text[last.span[1] - offset : value.span[0] - offset]
            if not _CLAUSE_BREAK.search(between):
                value.subject = last.subject
        last = value


_ENUM_SEP = re.compile(r"^\s*(?:、|和|及|或|与|，)\s*$")


def find_tiers(text: str, values: list[Value], offset: int = 0) -> list[Tiers]:
    """Enumerations paired in order: thresholds (or categories before 分别) with amounts, 分别 or not."""
    out: list[Tiers] = []
    for sentence in re.finditer(r"[^。；;]+", text):
        s0, s1 = offset + sentence.start(), offset + sentence.end()
        inside = [v for v in values if s0 <= v.span[0] < s1]
        thresholds = [v for v in inside if v.field == "threshold"]
        gives = [v for v in inside if v.field in ("amount", "cap", "rate")]
        lists = _runs(gives, text, offset)
        longest = max(lists, key=len) if lists else []
        if len(longest) < 2:
            continue
        tiers = Tiers(pattern="", span=(s0, s1))
        tlists = _runs(thresholds, text, offset)
        flat = [v for run in tlists for v in run if run[0].span[0] < longest[0].span[0]]
        # the thresholds to pair stand in one clause (a comma between them: conditions of one rule, not tiers)
        one_clause = not any(
            re.search(r"[，,；;]", _PAREN.sub("", text[a.span[1] - offset : b.span[0] - offset]))
            for a, b in itertools.pairwise(flat)
        )
        groups: list[list[Value]] = []  # a range (5000万元至2亿元(含)) is one tier's two bounds
        for value in flat:
            if groups and groups[-1][0].span == value.span:
                groups[-1].append(value)
            else:
                groups.append([value])
        if flat and one_clause and len(groups) == len(longest) and len(groups) != len(flat):
            tiers.pattern = "分档：门槛（区间）与金额按顺序一一对应" + (
                "（分别）" if "分别" in sentence.group(0) else ""
            )
            for group, amount in zip(groups, longest, strict=True):
                tiers.pairs.append(TierPair(when=group, amount=amount))
        elif flat and one_clause and len(flat) % len(longest) == 0:
            size = len(flat) // len(longest)
            tiers.pattern = "分档：门槛与金额按顺序一一对应" + ("（分别）" if "分别" in sentence.group(0) else "")
            for index, amount in enumerate(longest):
                tiers.pairs.append(TierPair(when=flat[index * size : (index + 1) * size], amount=amount))
        else:
            categories = _categories(sentence.group(0), len(longest))
            if categories:
                tiers.pattern = "分档：类别与金额按顺序一一对应（分别）"
                for category, amount in zip(categories, longest, strict=True):
                    tiers.pairs.append(TierPair(when=[], amount=amount, category=category))
            elif "分别" in sentence.group(0):
                tiers.pattern = "分别：找不到与金额个数相同的门槛或类别"
                tiers.review = True
                tiers.note = f"“分别”后有 {len(longest)} 个金额，前面的门槛/类别个数对不上，请人工配对"
                for amount in longest:
                    tiers.pairs.append(TierPair(when=[], amount=amount))
            else:
                continue
        out.append(tiers)
    return out


def _runs(values: list[Value], text: str, offset: int) -> list[list[Value]]:
    """Consecutive values of one kind separated only by 、/和/及/或 (and the words of a pair: 人和2000万元)."""
    runs: list[list[Value]] = []
    for value in sorted(values, key=lambda v: v.span):
        if runs:
            prev = runs[-1][-1]
            between = text[prev.span[1] - offset : value.span[0] - offset]
            if ((_ENUM_SEP.match(between) or between in ("", "、")) and prev.field == value.field) or (
                len(between) <= 2 and prev.field == value.field == "threshold"
            ):
                runs[-1].append(value)
                continue
        runs.append([value])
    return runs


_CATEGORY_LIST = re.compile(r"([\u4e00-\u9fff“”A-Za-z0-9]{1,12}(?:、[\u4e00-\u9fff“”A-Za-z0-9]{1,12})+)")


def _categories(sentence: str, count: int) -> list[str] | None:
    """The enumeration before 分别 with ``count`` items (国家级、省级 … 分别给予300万元、200万元; also joined by
    及/和: 规模以上工业、服务业企业名录库及限额以上商贸业企业名录)."""
    sentence = _PAREN.sub("", sentence)  # 省级智能制造示范工厂(含工业互联网标杆工厂、5G工厂): the note is not an item
    at = sentence.find("分别")
    if at < 0:
        return None
    for m in reversed(list(_CATEGORY_LIST.finditer(sentence[:at]))):
        items = m.group(1).split("、")
        if len(items) == count:
            items[0] = re.split(r"[的对为在]", items[0])[-1] or items[0]
            return items
    for part in reversed(re.split(r"[，,；;]", sentence[:at])):
        items = [i for i in re.split(r"、|及(?!以)|和", part) if i.strip()]
        if len(items) == count and all(len(i) <= 20 for i in items):
            items[0] = re.sub(r"^.*?(?:对|为)(?:首次)?(?:进入|认定为|评为|获评)?", "", items[0]) or items[0]
            items[-1] = re.sub(r"的(?:企业|单位|项目)?$", "", items[-1]) or items[-1]
            return [i.strip() for i in items]
        if "、" in part:
            break
    return None


_ENTITIES: list[tuple[str, str]] = [
    ("运营主体", "park_operator"),
    ("运营机构", "park_operator"),
    ("园区", "park_operator"),
    ("基地", "park_operator"),
    ("孵化器", "park_operator"),
    ("众创空间", "park_operator"),
    ("高校", "institution"),
    ("科研院所", "institution"),
    ("研究院", "institution"),
    ("新型研发机构", "institution"),
    ("医疗机构", "institution"),
    ("人才", "talent"),
    ("个人", "talent"),
    ("专家", "talent"),
    ("团队", "talent"),
    ("博士", "talent"),
    ("毕业生", "talent"),
    ("项目", "project"),
    ("企业", "enterprise"),
    ("公司", "enterprise"),
    ("单位", "enterprise"),
]


def beneficiary(text: str, before: int | None = None) -> tuple[str, str] | None:
    """The entity the benefit goes to: the last entity word before the first benefit word (or ``before``)."""
    if before is None:
        hits = [text.find(w) for w in ("给予", "奖励", "补助", "补贴", "资助") if text.find(w) >= 0]
        before = min(hits) if hits else len(text)
    after = text[before : before + 12]
    for word, entity in _ENTITIES:  # 一次性给予企业…, 给予产业园区运营主体…: named right after the verb
        if re.match(rf"^(?:给予|奖励|补助|补贴|资助)(?:产业)?{word}", after):
            return entity, word
    head = text[:before]
    best: tuple[int, str, str] | None = None
    for word, entity in _ENTITIES:
        at = head.rfind(word)
        if at >= 0 and (best is None or at + len(word) > best[0]):
            best = (at + len(word), word, entity)
    if best is None:
        return None
    return best[2], best[1]
