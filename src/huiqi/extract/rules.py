"""Draft rules from the values of each provision, and the facts their conditions need.

A draft rule holds what the numbers say: the thresholds found before the benefit in the same sentence,
the amount, rate, ceiling or tiers, 一次性 and 连续N年. Conditions the text states in words (a kind of
enterprise, an accreditation) are not guessed: the rule's note tells the reviewer to add them.
"""

from __future__ import annotations

import re
from typing import Any

from huiqi.extract.core import DraftProvision, Extraction, ProposedFact, fact_for
from huiqi.extract.patterns import Tiers, Value

_EXPR_COUNT_UNITS = ("人", "家", "年", "个", "项", "天", "月")
_TYPE_OF_KIND = {"money": ("money", "元"), "rate": ("rate", None), "count": ("count", None)}
_SENTENCE = re.compile(r"[^。；;]+[。；;]?")


def literal(value: Value) -> str:
    """The expression literal of a figure (``1000万元``, ``50%``, ``50人``)."""
    label = value.label.lstrip("<>=")
    if value.kind == "count":
        number, unit = re.match(r"^([0-9.]+)(.*)$", label).groups()  # type: ignore[union-attr]
        return f"{number}{unit}" if unit in _EXPR_COUNT_UNITS else number
    return label


class _Facts:
    def __init__(self, extraction: Extraction, catalogue: Any, prefix: str) -> None:
        self.extraction = extraction
        self.catalogue = catalogue
        self.prefix = prefix

    def key_for(
        self, name: str | None, kind: str, unit: str, entity: str, quote: str, *, values: list[str] | None = None
    ) -> str:
        mapped = fact_for(name)
        if name and re.search(r"增幅|增长|增速|比例|占比|比重|倍", name):
            mapped = None  # a growth rate or share of the fact, not the fact itself
        if mapped and self.catalogue is not None and mapped in self.catalogue:
            fact = self.catalogue[mapped]
            type_name = fact.type_name or str(fact.type)
            compatible = {"money": ("money",), "count": ("count", "number"), "rate": ("rate",)}.get(kind, ())
            if entity in [str(e) for e in fact.entity] and type_name in compatible:
                self.extraction.fact_uses[mapped] = name or mapped
                return mapped
        ftype, funit = _TYPE_OF_KIND.get(kind, ("count", None))
        if values:
            ftype = "enum"
        if kind == "count":
            funit = unit or None
        label = name or f"待命名的{ {'money': '金额', 'rate': '比例', 'count': '数量'}.get(kind, '事实') }"
        for fact in self.extraction.facts:
            if fact.name == label and fact.type == ftype and entity in fact.entity:
                return fact.key
        key = f"{self.prefix}_f{len(self.extraction.facts) + 1}"
        proposed = ProposedFact(key, label, ftype, funit, [entity], quote)
        if values:
            proposed.unit = None
            proposed.values = values
        self.extraction.facts.append(proposed)
        return key


def draft_rules(extraction: Extraction, catalogue: Any = None, *, prefix: str = "draft") -> None:
    if catalogue is None:
        try:
            from huiqi.facts.catalogue import Catalogue
            from huiqi.locations import default_policies_dir

            catalogue = Catalogue.load(default_policies_dir() / "_facts", [])
        except Exception:  # no catalogue: every fact is proposed
            catalogue = None
    facts = _Facts(extraction, catalogue, prefix)
    for provision in extraction.provisions:
        provision.rules = []
        if provision.kind not in ("computable", "ceiling_only", "case_by_case"):
            continue
        for sentence in _SENTENCE.finditer(provision.quote):
            _sentence_rules(provision, sentence, facts)


def _sentence_rules(provision: DraftProvision, sentence: re.Match[str], facts: _Facts) -> None:
    s0 = provision.span[0] + sentence.start()
    s1 = provision.span[0] + sentence.end()
    inside = [v for v in provision.values if s0 <= v.span[0] < s1]
    gives = [v for v in inside if v.field in ("amount", "cap", "rate")]
    if not gives:
        return
    quote = sentence.group(0).strip()
    if not quote:
        return
    start = s0 + sentence.group(0).index(quote)
    entity = provision.beneficiary or "enterprise"
    first_give = min(v.span[0] for v in gives)
    thresholds = [v for v in inside if v.field == "threshold" and v.span[0] < first_give]
    tiers = next((t for t in provision.tiers if s0 <= t.span[0] < s1 and len(t.pairs) >= 2 and not t.review), None)
    notes = [
        "extract 草稿，待审核：条件只含句中的数值门槛；主体类别、认定、地域等文字条件请审核后补充。",
        "找到依据：" + "；".join(f"“{v.text}”→{v.label}（{v.pattern}）" for v in inside if v.field != "flag"),
    ]
    flags = [v.label for v in inside if v.field == "flag"]
    rule: dict[str, Any] = {
        "id": f"r{len(provision.rules) + 1}",
        "label": f"{provision.heading or quote[:20]}（草稿）",
        "quote": quote,
        "span": [start, start + len(quote)],
        "applies_to": entity,
        "recipient": entity,
    }
    tiered_values: set[int] = set()
    if tiers is not None:
        tier_thresholds = {id(w) for pair in tiers.pairs for w in pair.when}
        common = [t for t in thresholds if id(t) not in tier_thresholds]
        conditions = _conditions(common, entity, facts, quote)
        if conditions:
            rule["conditions"] = conditions
        enum_key = None
        if any(pair.category for pair in tiers.pairs):
            categories = [pair.category or "" for pair in tiers.pairs]
            enum_key = facts.key_for(
                f"级别/类别（{'、'.join(categories)}）", "text", "", entity, quote, values=categories
            )
        tier_list = []
        for index, pair in enumerate(tiers.pairs, 1):
            if pair.category is not None and enum_key:
                when: Any = f"{enum_key} == '{pair.category}'"
            else:
                when = _conditions(pair.when, entity, facts, quote) or "true"
            amount = pair.amount
            tiered_values.add(id(amount))
            figure = literal(amount)
            if amount.field == "rate":  # 分别按实际投资额的1.5%、1.8%、2%: the tier's amount is base × rate
                base_name = _rate_base(quote, tiers.pairs[0].amount, start)
                figure = f"{facts.key_for(base_name or '计算基数', 'money', '元', entity, quote)} * {figure}"
            tier_list.append({"id": f"t{index}", "when": when, "amount": figure})
        mode = "top_up" if "进档补差" in flags else "highest"
        rule["benefit"] = {"form": "tiers", "mode": mode, "tiers": tier_list}
        outside = [v for v in gives if id(v) not in tiered_values and v.field == "cap"]
        if outside and tiers.pairs[0].amount.field == "rate":
            rule["benefit"]["ceiling"] = literal(outside[0])
        elif outside:
            rule["caps"] = [_total_cap(outside[0], quote, start)]
        if all(p.amount.field == "cap" for p in tiers.pairs):
            rule["benefit"]["is_ceiling"] = True
        notes.append(f"分档：{tiers.pattern}")
    else:
        conditions = _conditions(thresholds, entity, facts, quote)
        if conditions:
            rule["conditions"] = conditions
        rates = [v for v in gives if v.field == "rate"]
        amounts = [v for v in gives if v.field == "amount"]
        caps = [v for v in gives if v.field == "cap"]
        if rates:
            rate = rates[0]
            base_name = _rate_base(quote, rate, start)
            base = facts.key_for(base_name or "计算基数", "money", "元", entity, quote)
            benefit: dict[str, Any] = {"form": "rate", "base": base, "rate": literal(rate)}
            if caps:
                benefit["ceiling"] = literal(caps[0])
            if rate.note and "上限" in rate.note:
                benefit["is_ceiling"] = True
            rule["benefit"] = benefit
            if len(rates) > 1 or len(caps) > 1 or amounts:
                notes.append("句中有多个比例/金额，只取第一个比例与上限：请核对")
        elif amounts:
            benefit = {"form": "fixed", "amount": literal(amounts[0])}
            totals = [c for c in caps if _is_total(c, quote, start)]
            if totals:
                rule["caps"] = [_total_cap(totals[0], quote, start)]
            rule["benefit"] = benefit
            if len(amounts) > 1:
                notes.append(f"句中有 {len(amounts)} 个金额，未能配对：只取第一个，请核对")
            if amounts[0].note:
                notes.append(amounts[0].note)
        else:
            rule["benefit"] = {"form": "fixed", "amount": literal(caps[0]), "is_ceiling": True}
            if len(caps) > 1:
                notes.append(f"句中有 {len(caps)} 个上限，只取第一个，请核对")
    if "一次性" in flags:
        rule["once"] = True
    durations = [v for v in inside if v.field == "duration"]
    if durations and not rule.get("once") and re.search(r"连续|不超过|最长", quote):
        years = re.match(r"^([0-9]+)年$", durations[0].label)
        if years:
            rule["duration"] = {"max_years": int(years.group(1))}
    if provision.kind == "case_by_case" and "benefit" in rule and rule["benefit"]["form"] == "fixed":
        rule["benefit"]["is_ceiling"] = True
    if flags:
        notes.append("标志：" + "、".join(dict.fromkeys(flags)))
    rule["note"] = "\n".join(notes)
    provision.rules.append(rule)
    if tiers is None and amounts_only(gives):
        for cap in [c for c in gives if c.field == "cap" and not _is_total(c, quote, start)]:
            provision.rules.append(
                {
                    **{k: v for k, v in rule.items() if k not in ("benefit", "caps", "once", "duration", "note")},
                    "id": f"r{len(provision.rules) + 1}",
                    "benefit": {"form": "fixed", "amount": literal(cap), "is_ceiling": True},
                    "note": notes[0]
                    + f"\n找到依据：“{cap.text}”→上限 {cap.label}（{cap.pattern}）；与同句的金额分属不同情形，请核对条件",
                }
            )


def amounts_only(gives: list[Value]) -> bool:
    """A sentence whose benefit figures are fixed amounts and ceilings (no rate)."""
    return any(v.field == "amount" for v in gives) and not any(v.field == "rate" for v in gives)


_TOTAL = re.compile(r"(累计|总额|合计|每年|年度|单个企业|每家企业|每个企业)[^，。；]*$")


def _is_total(cap: Value, quote: str, start: int) -> bool:
    """A ceiling on the total (累计最高…, 奖补总额最高…, 每年最高…), not a benefit of its own."""
    before = quote[: cap.span[0] - start]
    clause = re.split(r"[，。；,;]", before)[-1]
    return bool(_TOTAL.search(clause))


def _total_cap(cap: Value, quote: str, start: int) -> dict[str, Any]:
    clause = re.split(r"[，。；,;]", quote[: cap.span[0] - start])[-1]
    scope = "per_year" if re.search(r"每年|年度", clause) else "cumulative"
    return {"scope": scope, "amount": literal(cap)}


def _conditions(thresholds: list[Value], entity: str, facts: _Facts, quote: str) -> dict[str, Any] | None:
    """``all`` of the thresholds; several thresholds on one fact in one direction (分别在2亿元、1亿元、5000万元
    及以上, by category) are alternatives: ``any`` of them, for the reviewer to tie to their categories."""
    leaves: list[tuple[str, str, dict[str, Any]]] = []
    for value in thresholds:
        if not value.op:
            continue
        key = facts.key_for(value.subject, value.kind, value.unit, entity, quote)
        label = f"{value.subject or ''}{_OP_WORDS[value.op]}{value.label.lstrip('<>=')}"
        leaves.append((key, value.op[0], {"expr": f"{key} {value.op} {literal(value)}", "label": label}))
    if not leaves:
        return None
    members: list[Any] = []
    done: set[tuple[str, str]] = set()
    for key, direction, _ in leaves:
        group = [lf for k, d, lf in leaves if (k, d) == (key, direction)]
        if (key, direction) in done:
            continue
        done.add((key, direction))
        members.append(group[0] if len(group) == 1 else {"any": group})
    return {"all": members}


_OP_WORDS = {">=": "不低于", ">": "超过", "<=": "不超过", "<": "低于"}


def _rate_base(quote: str, rate: Value, start: int) -> str | None:
    """The base of a rate: 按注册资本的5% → 注册资本; 按项目投资额的30% → 项目投资额."""
    before = quote[: rate.span[0] - start]
    at = max(before.rfind("按照"), before.rfind("按"))
    if at < 0:
        return None
    tail = re.sub(r"^(?:照|其)", "", before[at + 1 :])
    tail = re.sub(r"(?:的比例|比例|的)$", "", tail.strip())
    tail = re.sub(r"^(?:实际发生的|实际|年度|当年)", "", tail) if len(tail) > 6 else tail
    if 2 <= len(tail) <= 16 and not re.search(r"[，。；,]", tail):
        return tail
    return None


def tiers_of(provision: DraftProvision) -> list[Tiers]:
    return provision.tiers
