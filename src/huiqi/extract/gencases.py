"""Cases at every threshold of a rule: at the threshold, just past it on the failing side, at the cap and
above it. For a draft the expectations come from the text's figures; for an existing policy
(``huiqi cases --generate DOC``) the profiles are built the same way and the engine's present answer is
written as the expectation, marked for a person to confirm against the text."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from huiqi.extract.numerals import format_money
from huiqi.money import MONEY_UNITS

_LEAF = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(>=|<=|>|<|==)\s*(.+?)\s*$")
AS_OF = "2025-06-30"


def parse_literal(text: str) -> tuple[str, Fraction, str] | None:
    """(kind, value, unit) of a literal: money in fen, a rate as a fraction, a count."""
    text = text.strip()
    try:
        return _parse_literal(text)
    except (ValueError, ZeroDivisionError):
        return None


def _parse_literal(text: str) -> tuple[str, Fraction, str] | None:
    for unit in ("亿元", "万元", "元"):
        if text.endswith(unit):
            try:
                return "money", Fraction(text.removesuffix(unit)) * MONEY_UNITS[unit], "元"
            except ValueError:
                return None
    if text.endswith("%"):
        return "rate", Fraction(text[:-1]) / 100, "%"
    if text.endswith("‰"):
        return "rate", Fraction(text[:-1]) / 1000, "%"
    m = re.match(r"^([0-9.]+)(人|家|年|个|项|天|月)?$", text)
    if m:
        return "count", Fraction(m.group(1)), m.group(2) or ""
    return None


def write_value(kind: str, value: Fraction, unit: str) -> Any:
    if kind == "money":
        fen = int(value)
        return (
            format_money(fen)
            if fen % 100 == 0
            else f"{Fraction(fen, 100).numerator / Fraction(fen, 100).denominator:.2f}元"
        )
    if kind == "rate":
        pct = value * 100
        return f"{float(pct):g}%"
    return int(value) if value.denominator == 1 else float(value)


_STEP = {"money": Fraction(1), "count": Fraction(1), "rate": Fraction(1, 1000)}


def leaves(condition: Any) -> list[tuple[str, str, str, str]]:
    """(fact, op, literal, label) of each comparison in an ``all`` condition of a draft rule."""
    out: list[tuple[str, str, str, str]] = []
    if isinstance(condition, dict) and "all" in condition:
        for member in condition["all"]:
            if isinstance(member, dict) and "any" in member:  # alternatives: the easiest one stands for them
                options = leaves({"all": member["any"]})
                parsed = [(o, parse_literal(o[2])) for o in options]
                usable = [(o, lit) for o, lit in parsed if lit is not None]
                if usable:
                    low = min(usable, key=lambda item: item[1][1] if item[0][1].startswith(">") else -item[1][1])
                    out.append(low[0])
                continue
            expr = member["expr"] if isinstance(member, dict) else member
            m = _LEAF.match(str(expr))
            if m:
                label = member.get("label", expr) if isinstance(member, dict) else expr
                out.append((str(m.group(1)), str(m.group(2)), str(m.group(3)), str(label)))
    return out


def _at(op: str, kind: str, value: Fraction) -> Fraction:
    """The value that just meets ``op value`` (at it for >=/<=, one step past for >/<)."""
    step = _STEP[kind]
    return value + step if op == ">" else value - step if op == "<" else value


def _fails(op: str, kind: str, value: Fraction) -> Fraction:
    """The value just on the failing side."""
    step = _STEP[kind]
    return {">=": value - step, ">": value, "<=": value + step, "<": value}[op]


def draft_cases(policy: dict[str, Any], juris: dict[str, str], extraction: Any = None) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    nation = juris["region"] == "全国"
    # a profile needs a place: for a national document any place in China is inside it
    region = ["北京市"] if nation else [juris["region"]]
    for provision in policy["provisions"]:
        for rule in provision.get("rules", []):
            cases += _rule_cases(provision["id"], rule, region)
    if nation:
        for case in cases:
            case["any_jurisdiction"] = True
    return cases


def _profile(entity: str, region: list[str], facts: dict[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = {"entity_type": entity}
    if region:
        profile["region"] = region
    profile["facts"] = facts
    return profile


def _rule_cases(pid: str, rule: dict[str, Any], region: list[str]) -> list[dict[str, Any]]:
    ref = f"{pid}/{rule['id']}"
    entity = rule["applies_to"] if isinstance(rule["applies_to"], str) else rule["applies_to"][0]
    benefit = rule["benefit"]
    conds = leaves(rule.get("conditions"))
    parsed = [(fact, op, parse_literal(lit), label) for fact, op, lit, label in conds]
    if any(p is None for _, _, p, _ in parsed):
        return []
    base: dict[str, Any] = {}
    for fact, op, (kind, value, unit), _ in parsed:  # type: ignore[misc]
        base[fact] = write_value(kind, _at(op, kind, value), unit)
    out: list[dict[str, Any]] = []
    ceiling_only = bool(benefit.get("is_ceiling"))

    def expect(status: str, amount: Fraction | None = None, tier: str | None = None) -> dict[str, Any]:
        e: dict[str, Any] = {"rule": ref, "status": status}
        if amount is not None:
            e["amount"] = format_money(int(amount))
        if tier:
            e["tier"] = tier
        if ceiling_only and status == "eligible":
            e["amount_kind"] = "ceiling"
        return e

    form = benefit["form"]
    if form == "tiers":
        tiers = benefit["tiers"]
        for tier in tiers:
            facts = dict(base)
            when = tier["when"]
            if isinstance(when, str):
                m = re.match(r"^([a-z][a-z0-9_]*) == '(.*)'$", when)
                if not m:
                    continue
                facts[m.group(1)] = m.group(2)
            else:
                for fact, op, lit, _ in leaves(when):
                    lit_parsed = parse_literal(lit)
                    if lit_parsed is None:
                        continue
                    facts[fact] = write_value(lit_parsed[0], _at(op, lit_parsed[0], lit_parsed[1]), lit_parsed[2])
            tier_amount = parse_literal(str(tier["amount"]))
            tier_product = re.match(r"^([a-z][a-z0-9_]*) \* (.+)$", str(tier["amount"]))
            if tier_product and parse_literal(tier_product.group(2)):
                rate = parse_literal(tier_product.group(2))
                assert rate is not None
                base_fen = Fraction(1_000_000_000)  # 1000万元
                facts.setdefault(tier_product.group(1), write_value("money", base_fen, "元"))
                base.setdefault(
                    tier_product.group(1), facts[tier_product.group(1)]
                )  # the case below the first tier too
                known = parse_literal(str(facts[tier_product.group(1)]))
                base_fen = known[1] if known and known[0] == "money" else base_fen
                tier_figure = base_fen * rate[1]
                tier_cap = parse_literal(str(benefit.get("ceiling"))) if benefit.get("ceiling") else None
                if tier_cap is not None:
                    tier_figure = min(tier_figure, tier_cap[1])
                tier_amount = ("money", tier_figure, "元") if tier_figure.denominator == 1 else None
            out.append(
                {
                    "name": f"{ref} 恰好达到第{tier['id'][1:]}档：{_describe(facts)}",
                    "as_of": AS_OF,
                    "profile": _profile(entity, region, facts),
                    "expect": [
                        expect(
                            "eligible",
                            tier_amount[1] if tier_amount and tier_amount[0] == "money" else None,
                            tier["id"],
                        )
                    ],
                }
            )
        first = tiers[0]["when"]
        if isinstance(first, dict):
            lowest = leaves(first)
            # just short of the first tier misses them all only on a ladder of lower bounds; tiers that start
            # with an upper bound (销售收入小于5000万元(含)、5000万元至2亿元(含)、2亿元以上) cover every value
            if lowest and all(op in (">=", ">") for _, op, _, _ in lowest):
                facts = dict(base)
                for fact, op, lit, _ in leaves(first):
                    lit_parsed = parse_literal(lit)
                    if lit_parsed:
                        facts[fact] = write_value(lit_parsed[0], _at(op, lit_parsed[0], lit_parsed[1]), lit_parsed[2])
                fact, op, lit, label = lowest[0]
                lit_parsed = parse_literal(lit)
                # the other tiers' facts, when they compare another fact, are given just short too: the case
                # then misses every tier (not a tier left unknown)
                for other in tiers[1:]:
                    for o_fact, o_op, o_lit, _ in leaves(other["when"]) if isinstance(other["when"], dict) else []:
                        o_parsed = parse_literal(o_lit)
                        if o_fact not in facts and o_parsed:
                            facts[o_fact] = write_value(
                                o_parsed[0], _fails(o_op, o_parsed[0], o_parsed[1]), o_parsed[2]
                            )
                if lit_parsed:
                    facts[fact] = write_value(lit_parsed[0], _fails(op, lit_parsed[0], lit_parsed[1]), lit_parsed[2])
                    out.append(
                        {
                            "name": f"{ref} 差一点未达第1档（{label}）：不符合",
                            "as_of": AS_OF,
                            "profile": _profile(entity, region, facts),
                            "expect": [expect("not_eligible")],
                        }
                    )
        return out
    figure: Fraction | None
    figure = None
    if form == "fixed":
        fixed = parse_literal(str(benefit["amount"]))
        figure = fixed[1] if fixed and fixed[0] == "money" else None
    facts = dict(base)
    if form == "rate":
        rate = parse_literal(str(benefit["rate"]))
        cap = parse_literal(str(benefit.get("ceiling"))) if benefit.get("ceiling") else None
        if rate is None or rate[0] != "rate" or rate[1] == 0:
            return out
        base_key = benefit["base"]
        known = parse_literal(str(facts[base_key])) if base_key in facts else None
        if known is not None and known[0] == "money":
            base_fen = known[1]
        else:
            base_fen = Fraction(int(cap[1] / rate[1]) // 100 * 100) if cap else Fraction(100_000_000)
            facts[base_key] = write_value("money", base_fen, "元")
        product = base_fen * rate[1]
        if cap:
            product = min(product, cap[1])
        figure = product if product.denominator == 1 else None
    out.append(
        {
            "name": f"{ref} 恰好达到全部门槛：{_describe(facts) or '无数值门槛'}",
            "as_of": AS_OF,
            "profile": _profile(entity, region, facts),
            "expect": [expect("eligible", figure)],
        }
    )
    for fact, op, (kind, value, unit), label in parsed:  # type: ignore[misc]
        below = dict(facts)
        below[fact] = write_value(kind, _fails(op, kind, value), unit)
        out.append(
            {
                "name": f"{ref} 差一点未达门槛（{label}）：{fact} = {below[fact]}，不符合",
                "as_of": AS_OF,
                "profile": _profile(entity, region, below),
                "expect": [expect("not_eligible")],
            }
        )
    if form == "rate" and benefit.get("ceiling"):
        ceiling = parse_literal(str(benefit["ceiling"]))
        rate = parse_literal(str(benefit["rate"]))
        if ceiling and rate and rate[1]:
            at_cap = Fraction(int(ceiling[1] / rate[1]))
            for label, multiple in (("恰好达到上限", 1), ("按比例超过上限：取上限", 2)):
                base_fen = at_cap * multiple
                if not all(
                    _holds(op, base_fen, lit[1]) for fact, op, lit, _ in parsed if lit and fact == benefit["base"]
                ):
                    continue
                capped = dict(facts)
                capped[benefit["base"]] = write_value("money", base_fen, "元")
                out.append(
                    {
                        "name": f"{ref} {label} {benefit['ceiling']}：{benefit['base']} = {capped[benefit['base']]}",
                        "as_of": AS_OF,
                        "profile": _profile(entity, region, capped),
                        "expect": [expect("eligible", ceiling[1])],
                    }
                )
    return out


def _holds(op: str, value: Fraction, threshold: Fraction) -> bool:
    return {">=": value >= threshold, ">": value > threshold, "<=": value <= threshold, "<": value < threshold}.get(
        op, True
    )


def _describe(facts: dict[str, Any]) -> str:
    return "，".join(f"{k} = {v}" for k, v in facts.items())


_ANY_LEAF = re.compile(
    r"\b([a-z][a-z0-9_]*)\s*(>=|<=|>|<)\s*([0-9][0-9.]*(?:亿元|万元|元|%|‰|人|家|年|个|项|天|月)?)(?![0-9a-z_(])"
)
_EQ_TEXT = re.compile(r"\b([a-z][a-z0-9_]*)\s*==\s*'([^']*)'")
_IN_SET = re.compile(r"'([^']*)'\s+in\s+([a-z][a-z0-9_]*)")
_NOT = re.compile(r"\bnot\s+([a-z][a-z0-9_]*)\b")
_NAME = re.compile(r"\b([a-z][a-z0-9_]*)\b")


def generate_for_document(engine: Any, document_id: str) -> list[dict[str, Any]]:
    """Cases at every numeric threshold of an existing policy's rules: all conditions met at the threshold,
    then each threshold just missed. The expectation written is the engine's answer today, for a person to
    confirm against the text (``huiqi cases --generate DOC``)."""
    from huiqi.cases import Case, _evaluate
    from huiqi.policy.models import condition_texts

    document = engine.base.document(document_id)
    catalogue = engine.catalogue
    juris = document.policy.document.jurisdiction
    region = [juris.region] if juris.level != "nation" else ["北京市"]
    out: list[dict[str, Any]] = []
    for provision in document.policy.provisions:
        for rule in provision.rules:
            texts = condition_texts(rule.conditions)
            for tier in (rule.benefit.tiers or [])[:1]:
                texts += condition_texts(tier.when)
            definitions = {d.name: str(d.expr) for d in document.policy.definitions}
            for _ in range(3):  # names of the document's definitions, expanded (a definition may use another)
                texts += [definitions.pop(n) for t in list(texts) for n in _NAME.findall(t) if n in definitions]
            leaves = [(f, op, lit) for text in texts for f, op, lit in _ANY_LEAF.findall(text) if f in catalogue]
            if not leaves:
                continue
            entity = rule.applies_to if isinstance(rule.applies_to, str) else rule.applies_to[0]
            facts: dict[str, Any] = {}
            for text in texts:
                negated = set(_NOT.findall(text))
                for name in _NAME.findall(text):
                    fact = catalogue.get(name)
                    if fact is not None and (fact.type_name or str(fact.type)) == "bool" and name not in facts:
                        facts[name] = name not in negated
                for name, value in _EQ_TEXT.findall(text):
                    if name in catalogue:
                        facts[name] = value
                for value, name in _IN_SET.findall(text):
                    if name in catalogue:
                        facts.setdefault(name, [])
                        if isinstance(facts[name], list):
                            facts[name].append(value)
            parsed = []
            for fact, op, lit in leaves:
                literal = parse_literal(lit)
                if literal is None or literal[1] == 0:
                    continue
                parsed.append((fact, op, literal))
                facts[fact] = write_value(literal[0], _at(op, literal[0], literal[1]), literal[2])
            ref = f"{provision.id}/{rule.id}"
            scenarios = [(f"{ref} 恰好达到全部门槛", dict(facts))]
            for fact, op, literal in parsed:
                below = dict(facts)
                below[fact] = write_value(literal[0], _fails(op, literal[0], literal[1]), literal[2])
                scenarios.append((f"{ref} 差一点未达门槛：{fact} {op} {lit_text(literal)}，取 {below[fact]}", below))
            for name, scenario_facts in scenarios:
                raw: dict[str, Any] = {"as_of": AS_OF, "profile": _profile(entity, region, scenario_facts)}
                if juris.level == "nation":
                    raw["any_jurisdiction"] = True
                case = Case(document_id, document.folder / "cases" / "generated.yaml", 1, name, raw)
                try:
                    result = _evaluate(engine, case, raw, raw["profile"], None, AS_OF)
                    actual = result.rule(f"{document_id}:{ref}")
                except Exception as exc:  # a profile the generator could not complete: say so
                    out.append({"name": f"{name}（待确认：生成的档案无法评估：{exc}）", **raw, "expect": []})
                    continue
                expect: dict[str, Any] = {"rule": ref, "status": actual.status.value}
                if actual.amount_fen is not None:
                    expect["amount"] = format_money(actual.amount_fen)
                out.append(
                    {"name": f"{name}（待确认：预期取自当前计算结果，{actual.reason[:40]}）", **raw, "expect": [expect]}
                )
    return out


def lit_text(literal: tuple[str, Fraction, str]) -> str:
    value = write_value(*literal)
    return str(value)
