"""From a normalised policy text to an extraction: document type and metadata, provisions with their
quotes, spans and units, the values in each, draft rules and the facts they need."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from huiqi.extract.numerals import format_money
from huiqi.extract.patterns import Tiers, Value, beneficiary, find_tiers, find_values
from huiqi.extract.reading import Received
from huiqi.extract.script import simplified
from huiqi.extract.segment import Block, classify, metadata, segment, units_of

#: Subjects (what a threshold compares) mapped to catalogue facts, most specific first.
FACT_MAP: list[tuple[str, str]] = [
    ("实缴注册资本", "paid_in_capital"),
    ("实缴资本", "paid_in_capital"),
    ("注册资本", "registered_capital"),
    ("软件业务收入", "software_revenue"),
    ("主营业务收入", "revenue"),
    ("营业收入", "revenue"),
    ("营收", "revenue"),
    ("社保", "social_insurance_staff"),
]


@dataclass
class ProposedFact:
    key: str
    name: str
    type: str
    unit: str | None
    entity: list[str]
    quote: str
    values: list[str] | None = None


@dataclass
class DraftProvision:
    id: str
    number: str | None
    section: str | None
    heading: str | None
    kind: str
    quote: str
    span: tuple[int, int]
    lead_unit: str | None = None
    co_units: list[str] = field(default_factory=list)
    units_quote: str | None = None
    beneficiary: str | None = None
    beneficiary_word: str | None = None
    values: list[Value] = field(default_factory=list)
    tiers: list[Tiers] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    kind_why: str = ""


@dataclass
class Extraction:
    received: Received
    document_kind: str  # policy | reply | notice | news
    document_type: str
    type_confidence: float
    type_why: str
    meta: dict[str, Any]
    provisions: list[DraftProvision]
    omitted: list[tuple[int, int, str]]
    facts: list[ProposedFact] = field(default_factory=list)
    fact_uses: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.received.text

    @property
    def is_policy(self) -> bool:
        return self.document_kind == "policy"


_CN_ORDER = "一二三四五六七八九十"


def _component(block: Block) -> str:
    if block.style == "cn":
        return (block.number or "").rstrip("、．.").strip()
    return str(block.value)


def _path(block: Block) -> list[str]:
    path: list[str] = []
    node: Block | None = block if block.style is not None else block.parent
    while node is not None:
        path.insert(0, _component(node))
        node = node.parent
    if path and block.part:
        path.insert(0, f"附件{block.part}")
    return path


def _ids(blocks: list[Block]) -> list[str]:
    paths = [_path(block) for block in blocks]
    parts = {block.part for block in blocks if block.style is not None}
    if len(parts) <= 1:  # one part (a notice's single attachment, or no attachment): no prefix
        paths = [p[1:] if p and p[0].startswith("附件") else p for p in paths]
    numbered = [p for p in paths if p]
    lasts = [p[-1] for p in numbered]
    short = len(set(lasts)) == len(lasts) and all(len(p) <= 2 for p in numbered)
    ids: list[str] = []
    seen: set[str] = set()
    para = 0
    for path in paths:
        if not path:
            para += 1
            candidate = f"p{para}" if not numbered else ("preamble" if not ids else f"para{para}")
        else:
            candidate = path[-1] if short else ".".join(path)
        base, n = candidate, 2
        while candidate in seen:
            candidate, n = f"{base}-{n}", n + 1
        seen.add(candidate)
        ids.append(candidate)
    return ids


def extract(received: Received, *, doc_id: str = "draft") -> Extraction:
    """The extraction of a received text; ``doc_id`` names the proposed facts (``<doc_id>_f1`` …).

    A text in traditional script is read through ``huiqi.extract.script.simplified`` (one character for one):
    the patterns run on the simplified reading, and every quote is then taken back from the text as received
    at the same span."""
    plain = simplified(received.text)
    if plain == received.text:
        return _extract(received, doc_id)
    extraction = _extract(dataclasses.replace(received, text=plain), doc_id)
    return _as_received(extraction, received)


def _as_received(extraction: Extraction, received: Received) -> Extraction:
    """An extraction made on the simplified reading, with its quotes taken from the text as received."""
    text, plain = received.text, extraction.received.text

    def as_received(node: Any) -> Any:  # every quote of the metadata (non-duplication, budget clauses …)
        if isinstance(node, dict):
            return {k: (_same_place(v, plain, text) if k == "quote" else as_received(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [as_received(v) for v in node]
        return node

    extraction.meta = as_received(extraction.meta)
    extraction.received = received
    extraction.meta["script_note"] = "原文含繁体字：按简体字识别数值与条款，引文保留原文"
    for provision in extraction.provisions:
        a, b = provision.span
        provision.quote = text[a:b]
        if provision.units_quote:  # a part of the quote: the same characters of the quote as received
            index = simplified(provision.quote).find(provision.units_quote)
            if index >= 0:
                provision.units_quote = provision.quote[index : index + len(provision.units_quote)]
        for value in provision.values:
            value.text = text[value.span[0] : value.span[1]]
        for rule in provision.rules:
            span = rule.get("span")
            if isinstance(span, list) and len(span) == 2:
                rule["quote"] = text[int(span[0]) : int(span[1])]
    return extraction


def _same_place(quote: Any, plain: str, text: str) -> Any:
    """The characters of ``text`` where ``quote`` stands in its simplified reading ``plain``."""
    if not isinstance(quote, str) or not quote:
        return quote
    index = plain.find(quote)
    return text[index : index + len(quote)] if index >= 0 else quote


def _extract(received: Received, doc_id: str) -> Extraction:
    text = received.text
    first_lines = "".join(text.split("\n")[:6])
    kind, doc_type, confidence, why = classify(text, first_lines)
    segmented, raw_meta = segment(text, not_policy=kind != "policy")
    meta = metadata(text, raw_meta)
    kind, doc_type, confidence, why = classify(text, str(meta["title"]))
    provisions: list[DraftProvision] = []
    ids = _ids(segmented.provisions)
    for block, pid in zip(segmented.provisions, ids, strict=True):
        provisions.append(_provision(block, pid, text, kind))
    omitted = list(segmented.others)
    for heading in segmented.headings:
        omitted.append((heading.start, heading.end, "章节标题（记入所属条款的 section）"))
    extraction = Extraction(received, kind, doc_type, confidence, why, meta, provisions, sorted(omitted))
    if kind == "policy":
        from huiqi.extract.rules import draft_rules

        prefix = re.sub(r"[^a-z0-9]+", "_", doc_id.lower()).strip("_")
        draft_rules(extraction, prefix=prefix if re.match(r"^[a-z]", prefix) else f"d_{prefix}")
    return extraction


def _provision(block: Block, pid: str, text: str, doc_kind: str) -> DraftProvision:
    quote = text[block.start : block.end]
    section = block.parent.text.split("\n")[0].strip() if block.parent is not None else None
    body = quote[len(block.number or "") :].lstrip()
    hm = re.match(r"^([^。；：:，,\n]{2,24})[。：:]", body)
    heading = hm.group(1) if hm else None
    provision = DraftProvision(pid, block.number, section, heading, "qualitative", quote, (block.start, block.end))
    lead, co, units_quote = units_of(quote)
    provision.lead_unit, provision.co_units, provision.units_quote = lead, co, units_quote
    provision.values = find_values(quote, block.start)
    provision.tiers = find_tiers(quote, provision.values, block.start)
    provision.kind, provision.kind_why = _kind(quote, provision.values, doc_kind)
    if provision.kind in ("computable", "ceiling_only", "case_by_case"):
        who = beneficiary(quote)
        if who:
            provision.beneficiary, provision.beneficiary_word = who
        else:  # no entity word: most support goes to enterprises; the rule's note says to check
            provision.beneficiary = "enterprise"
            provision.review.append("原文未写明受益主体：按企业起草")
    for value in provision.values:
        if value.review:
            provision.review.append(f"{value.text}：{value.note or value.pattern}")
    for tiers in provision.tiers:
        if tiers.review and tiers.note:
            provision.review.append(tiers.note)
    return provision


def _kind(quote: str, values: list[Value], doc_kind: str) -> tuple[str, str]:
    if doc_kind != "policy":
        return "informative", "文件不是政策（答复、通知或新闻）：所述事实与统计不是规则"
    fields = {v.field for v in values}
    if "amount" in fields or "rate" in fields:
        if re.search(r"一事一议|特事特办", quote):
            return "case_by_case", "有金额，且写明一事一议"
        return "computable", "写明金额或比例"
    if "cap" in fields:
        return "ceiling_only", "只写明上限（最高/不超过），实际金额由主管部门确定"
    head = re.sub(
        r"^\s*(?:第[一二三四五六七八九十百零〇0-9]+条|[（(]?[一二三四五六七八九十0-9]+[)）、.．]?)\s*", "", quote
    )
    if re.search(r"^[（(](目的|依据|目的和依据|定义|适用范围|解释|施行|有效期)[）)]", head) or re.search(
        r"(制定本(办法|规定|措施|细则|方案|意见|政策)|现(将|印发)[^。]{0,60}印发给你们|现印发给你们|提出如下意见|政策依据|官方原文)",
        quote,
    ):
        return "meta", "文件的目的、依据、定义或印发说明"
    if re.search(
        r"一事一议|特事特办|予以(重点)?支持|(给予|予以)[^。；，]{0,12}(支持|奖励|补助|补贴|资助|扶持|贴息)", quote
    ):
        return "case_by_case", "给予支持但未写金额（一事一议/可给予）"
    if re.search(
        r"负责解释|施行|有效期|废止|不得重复|不重复享受|本(政策|措施|办法|细则|文件)所(称|指)|从其规定", quote
    ):
        return "meta", "施行、解释、有效期、定义或不重复享受"
    if re.search(r"申报|评审|审核|拨付|公示|申请|验收|兑现|资金来源|资金由", quote) and not re.search(
        r"鼓励|支持", quote[:40]
    ):
        return "procedure", "申报、审核、拨付等程序"
    if re.search(r"(应当|必须|不得)", quote):
        return "obligation", "规定义务（应当、必须、不得）"
    return "qualitative", "方向性、鼓励性表述，没有可计算的给予"


def fact_for(subject: str | None) -> str | None:
    if not subject:
        return None
    for word, key in FACT_MAP:
        if word in subject:
            return key
    return None


def money_label(fen: int) -> str:
    return format_money(fen)
