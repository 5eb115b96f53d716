"""Policy cases: the YAML examples next to each policy, run through the engine and compared.

A case names a profile, a date, readings, and the expected status and amount of rules or provisions
(docs/authoring.md §8). ``huiqi cases`` runs them all; the test suite runs them too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile, parse_quarter
from huiqi.engine.results import STATUS_LABELS, AmountKind, Status
from huiqi.errors import HuiqiError, PolicyError
from huiqi.expr import ast
from huiqi.expr.parser import parse
from huiqi.money import format_cn, format_yuan, parse_money
from huiqi.policy.yamlio import line_of, load_yaml, strip_lines
from huiqi.suggest import did_you_mean


@dataclass
class CaseOutcome:
    """The result of one case: its failures (empty when it passed)."""

    document: str
    file: str
    line: int
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class Case:
    """One case as written."""

    document: str
    file: Path
    line: int
    name: str
    raw: dict[str, Any]


def load_cases(engine: Engine, document: str | None = None) -> list[Case]:
    """Every case of every document (or of one)."""
    found: list[Case] = []
    root = engine.base.root
    for doc_id in sorted(engine.documents):
        if document is not None and doc_id != document:
            continue
        for path in sorted((root / doc_id / "cases").glob("*.yaml")):
            data = load_yaml(path)
            if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
                raise PolicyError("案例文件应有顶层键 cases: 列表", where=f"{path}:1")
            for index, raw in enumerate(data["cases"]):
                line = line_of(data, ("cases", index)) or 1
                name = str(raw.get("name", f"case {index + 1}")) if isinstance(raw, dict) else f"case {index + 1}"
                found.append(Case(doc_id, path, line, name, raw))
    return found


def run_case(engine: Engine, case: Case) -> CaseOutcome:
    """Run one case; every mismatch is one failure line."""
    outcome = CaseOutcome(case.document, str(case.file), case.line, case.name)
    if not isinstance(case.raw, dict):
        outcome.failures.append("案例应为映射（name、as_of、profile、expect …）")
        return outcome
    raw = strip_lines(case.raw)
    unknown = [key for key in raw if key not in CASE_FIELDS]
    for key in unknown:
        outcome.failures.append(
            f"未知的案例字段 {key!r}{did_you_mean(str(key), CASE_FIELDS)}（可用：{'、'.join(CASE_FIELDS)}）"
        )
    if "years" in raw or "quarters" in raw:
        outcome.failures.extend(_run_years(engine, case, raw))
        return outcome
    try:
        period, quarter = raw.get("period"), None
        if raw.get("quarter") is not None:
            period, quarter = parse_quarter(raw["quarter"], where="quarter")
        result = _evaluate(engine, case, raw, raw.get("profile"), period, raw.get("as_of"), quarter)
    except (HuiqiError, ValueError, TypeError) as exc:
        outcome.failures.append(f"无法运行：{exc}")
        return outcome
    for expect in raw.get("expect") or []:
        outcome.failures.extend(_compare(case, result, expect))
    if not raw.get("expect"):
        outcome.failures.append("案例没有 expect")
    return outcome


def _evaluate(
    engine: Engine,
    case: Case,
    raw: dict[str, Any],
    profile_raw: Any,
    period: Any,
    as_of: Any,
    quarter: int | None = None,
) -> Any:
    as_of_date = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    profile = parse_profile(profile_raw, engine.catalogue, where="profile", document=case.document)
    readings = {str(k): str(v) for k, v in (raw.get("readings") or {}).items()}
    return engine.evaluate(
        profile,
        Options(
            as_of=as_of_date,
            period=period,
            quarter=quarter,
            documents=(case.document,),
            readings={f"{case.document}:{k}": v for k, v in readings.items()},
            any_jurisdiction=bool(raw.get("any_jurisdiction", False)),
        ),
    )


def _run_years(engine: Engine, case: Case, raw: dict[str, Any]) -> list[str]:
    """A case over successive years: each year is evaluated, and what it awards joins the ledger of the next.

    Every eligible amount the text fixes (a certain amount or a floor) of the document's rules is taken as
    paid in its year; a ceiling or an amount left to officials is paid only as the year's ``paid`` entries
    say. A case can so follow 连续支持不超过N年, yearly and cumulative caps, 进档补差 and 一次性 over the years.
    """
    by_quarter = "quarters" in raw
    key = "quarters" if by_quarter else "years"
    years = raw[key]
    if not isinstance(years, list) or not years:
        return [f"{key} 应为非空列表：[{{{'quarter: 2024Q1' if by_quarter else 'period: 2022'}, expect: [...]}}, …]"]
    if "expect" in raw or "period" in raw or "as_of" in raw or "quarter" in raw:
        return [
            f"有 {key} 的案例把 {'quarter' if by_quarter else 'period'}、as_of 和 expect 写在每一项里，不要写在案例顶层"
        ]
    profile_raw = dict(raw.get("profile") or {})
    ledger = list(profile_raw.get("ledger") or [])
    ledger_of = {r.ref: r.ledger_ref for r in engine.documents[case.document].rules}
    failures: list[str] = []
    step = "quarter" if by_quarter else "period"
    for index, year in enumerate(years):
        if not isinstance(year, dict) or step not in year or not year.get("expect"):
            failures.append(f"{key} 第{index + 1}项应含 {step}（{'季度' if by_quarter else '年度'}）和 expect")
            continue
        unknown = sorted(set(year) - {step, "as_of", "expect", "paid"})
        if unknown:
            failures.append(f"{key} 第{index + 1}项含未知字段 {unknown}（可用 {step}、as_of、expect、paid）")
        quarter: int | None = None
        try:
            if by_quarter:
                period, quarter = parse_quarter(year["quarter"], where=f"{key}[{index}].quarter")
                # the month after the quarter ends: when a quarter's figures are in and it is assessed
                default_as_of = dt.date(period + (quarter == 4), 1 if quarter == 4 else quarter * 3 + 1, 28)
            else:
                period = int(year["period"])
                default_as_of = dt.date(period + 1, 6, 30)
        except (HuiqiError, ValueError, TypeError) as exc:
            failures.append(f"{key} 第{index + 1}项：{exc}")
            continue
        label = f"{period}年第{quarter}季度" if quarter else f"{period}年度"
        try:
            result = _evaluate(
                engine,
                case,
                raw,
                {**profile_raw, "ledger": ledger},
                period,
                year.get("as_of") or default_as_of,
                quarter,
            )
        except (HuiqiError, ValueError, TypeError) as exc:
            failures.append(f"{label}：无法运行：{exc}")
            continue
        for expect in year["expect"]:
            failures.extend(f"{label}：{failure}" for failure in _compare(case, result, expect))
        for rule in result.rules():
            certain = rule.amount_kind in (AmountKind.CERTAIN, AmountKind.FLOOR)
            if rule.document == case.document and rule.status is Status.ELIGIBLE and rule.amount_fen and certain:
                ref = ledger_of.get(rule.ref, rule.ref)
                entry: dict[str, Any] = {"rule": ref, "period": period, "amount": format_yuan(rule.amount_fen) + "元"}
                if quarter is not None:
                    entry["quarter"] = quarter
                for tier in rule.tier or [None]:
                    ledger.append({**entry, "tier": tier} if tier else entry)
                    entry = {**entry, "amount": "0元"}  # the amount once, the other tiers as markers
        paid = year.get("paid") or []
        if not isinstance(paid, list) or not all(isinstance(p, dict) and "rule" in p and "amount" in p for p in paid):
            failures.append(f"{label}：paid 应为列表：[{{rule: 条款/规则, amount: 300万元}}, …]")
            continue
        ledger.extend({"period": period, **({"quarter": quarter} if quarter else {}), **p} for p in paid)
    return failures


#: The keys of one case.
CASE_FIELDS: tuple[str, ...] = (
    "name", "as_of", "period", "quarter", "readings", "profile", "expect", "years", "quarters", "any_jurisdiction",
    "note",
)  # fmt: skip

#: What an ``expect`` entry may check, for a rule and for a provision (docs/authoring.md §8).
RULE_FIELDS: tuple[str, ...] = (
    "status", "amount", "amount_kind", "is_ceiling", "is_floor", "reason", "tier", "missing", "recipient",
    "payer", "instalments", "excluded_by", "defaults_used", "calculation", "readings", "suggestion",
)  # fmt: skip
PROVISION_FIELDS: tuple[str, ...] = ("status", "amount", "amount_kind", "is_ceiling", "is_floor", "reason", "lead_unit")


def _compare(case: Case, result: Any, expect: Any) -> list[str]:
    if not isinstance(expect, dict):
        return [f"expect 的每一项应为映射（rule 或 provision 加要检查的字段），得到 {expect!r}"]
    expect = {k: v for k, v in expect.items() if k != "__lines__"}
    if "rule" in expect:
        ref = f"{case.document}:{expect['rule']}"
        try:
            actual = result.rule(ref)
        except KeyError:
            return [f"规则 {expect['rule']} 不在结果中（编号错误，或当前口径下不存在）"]
        what, fields = f"规则 {expect['rule']}", RULE_FIELDS
    elif "provision" in expect:
        try:
            actual = result.provision(f"{case.document}:{expect['provision']}")
        except KeyError:
            return [f"条款 {expect['provision']} 不在结果中"]
        what, fields = f"条款 {expect['provision']}", PROVISION_FIELDS
    else:
        return ["expect 条目应含 rule 或 provision"]
    failures = []
    for key in expect:
        if key in ("rule", "provision"):
            continue
        if key not in fields:
            other = "规则" if key in RULE_FIELDS else None
            failures.append(
                f"{what}: 条款结果没有 {key} 字段（它属于{other}结果）"
                if other
                else f"{what}: 未知的期望字段 {key!r}{did_you_mean(str(key), fields)}（可用：{'、'.join(fields)}）"
            )
            continue
        try:
            failure = _CHECKS[key](actual, expect[key])
        except (HuiqiError, ValueError, TypeError) as exc:
            failure = f"期望值 {expect[key]!r} 无法识别：{exc}"
        if failure:
            failures.append(f"{what}: {failure}")
    return failures


def _money(value: Any) -> int | None:
    return None if value is None else parse_money(value)


def _shown_money(fen: int | None) -> str:
    return "无" if fen is None else format_cn(fen)


def _check_status(actual: Any, wanted: Any) -> str | None:
    try:
        status = Status(wanted)
    except ValueError:
        return f"未知的状态 {wanted!r}（可用：{'、'.join(s.value for s in Status)}）"
    if actual.status is not status:
        return f"状态应为 {status.value}（{STATUS_LABELS[status]}），实际为 {actual.status.value}（{actual.reason}）"
    return None


def _check_amount(actual: Any, wanted: Any) -> str | None:
    if actual.amount_fen == _money(wanted):
        return None
    steps = "；".join(getattr(actual, "calculation", []) or [])
    return f"金额应为 {_shown_money(_money(wanted))}，实际为 {_shown_money(actual.amount_fen)}" + (
        f"（计算：{steps}）" if steps else ""
    )


def _check_amount_kind(actual: Any, wanted: Any) -> str | None:
    labels = {None: "无金额", "certain": "确定金额", "ceiling": "上限（最高）", "floor": "下限（不低于）"}
    if wanted not in labels:
        return f"amount_kind 应为 certain、ceiling、floor 或 null，得到 {wanted!r}"
    found = None if actual.amount_kind is None else actual.amount_kind.value
    return None if found == wanted else f"金额性质应为{labels[wanted]}，实际为{labels[found]}"


def _flag(name: str, label: str) -> Any:
    def check(actual: Any, wanted: Any) -> str | None:
        if not isinstance(wanted, bool):
            return f"{name} 应写 true 或 false，得到 {wanted!r}"
        found = bool(getattr(actual, name))
        return None if found is wanted else f"{name}（{label}）应为 {str(wanted).lower()}，实际为 {str(found).lower()}"

    return check


def _equal(name: str, label: str) -> Any:
    def check(actual: Any, wanted: Any) -> str | None:
        found = getattr(actual, name)
        return None if found == wanted else f"{label}应为 {wanted!r}，实际为 {found!r}"

    return check


def _check_reason(actual: Any, wanted: Any) -> str | None:
    return None if str(wanted) in actual.reason else f"理由应含“{wanted}”，实际为“{actual.reason}”"


def _check_tier(actual: Any, wanted: Any) -> str | None:
    tiers = [str(t) for t in (wanted if isinstance(wanted, list) else [wanted])]
    return None if tiers == actual.tier else f"档次应为 {tiers}，实际为 {actual.tier}"


def _check_missing(actual: Any, wanted: Any) -> str | None:
    found = sorted({m.fact for m in actual.missing})
    expected = sorted(str(m) for m in (wanted or []))
    return None if expected == found else f"缺失事实应为 {expected}，实际为 {found}"


def _check_defaults(actual: Any, wanted: Any) -> str | None:
    expected = sorted(str(m) for m in (wanted or []))
    return (
        None
        if expected == sorted(actual.defaults_used)
        else f"使用默认值的事实应为 {expected}，实际为 {actual.defaults_used}"
    )


def _check_calculation(actual: Any, wanted: Any) -> str | None:
    texts = wanted if isinstance(wanted, list) else [wanted]
    absent = [str(t) for t in texts if not any(str(t) in line for line in actual.calculation)]
    if not absent:
        return None
    return f"计算过程应含 {'、'.join(f'“{t}”' for t in absent)}，实际为：{'；'.join(actual.calculation) or '（无）'}"


def _check_readings(actual: Any, wanted: Any) -> str | None:
    if not isinstance(wanted, dict):
        return f"readings 应为 {{口径: 选项}} 映射，得到 {wanted!r}"
    used = {r["key"]: r["value"] for r in actual.readings}
    wrong = {k: used.get(str(k)) for k, v in wanted.items() if k != "__lines__" and used.get(str(k)) != str(v)}
    return None if not wrong else f"所用口径应为 {dict(wanted)}，实际为 {used}"


def _check_suggestion(actual: Any, wanted: Any) -> str | None:
    found = actual.suggestion.text if actual.suggestion else None
    if wanted is None:
        return None if found is None else f"不应有达标提示，实际为“{found}”"
    if found is None:
        return f"达标提示应含“{wanted}”，实际没有提示"
    return None if str(wanted) in found else f"达标提示应含“{wanted}”，实际为“{found}”"


def _check_instalments(actual: Any, wanted: Any) -> str | None:
    """Each expected instalment: its amount, and its label and share when given, in order."""
    if not isinstance(wanted, list):
        return "instalments 应为列表：[{label: …, share: 60%, amount: 30万元}, …]"
    parts = actual.instalments
    over_years = len({p.get("year") for p in parts}) > 1  # the budget year is shown when the parts span years
    shown = (
        "；".join(
            (f"{p.get('year')}年度 " if over_years else "")
            + f"{p['label']} {p['share']} {format_cn(parse_money(p['amount'] + '元'))}"
            + (f"（须满足：{p['conditions']}）" if p.get("conditions") else "")
            for p in parts
        )
        or "（无）"
    )
    if len(wanted) != len(parts):
        return f"应分 {len(wanted)} 期拨付，实际为 {len(parts)} 期（{shown}）"
    problems = []
    for number, (want, part) in enumerate(zip(wanted, parts, strict=True), start=1):
        if not isinstance(want, dict):
            return f"instalments 第{number}期应为映射（label、share、amount），得到 {want!r}"
        unknown = sorted(set(want) - {"label", "share", "amount", "year", "conditions", "__lines__"})
        if unknown:
            problems.append(f"第{number}期含未知字段 {unknown}（可用 label、share、amount、year、conditions）")
        if "year" in want and str(want["year"]) != str(part.get("year")):
            problems.append(f"第{number}期应在 {want['year']} 年度拨付")
        if "conditions" in want and str(want["conditions"]) not in part.get("conditions", ""):
            problems.append(f"第{number}期的拨付条件应含“{want['conditions']}”")
        if "amount" in want and parse_money(want["amount"]) != parse_money(part["amount"] + "元"):
            problems.append(f"第{number}期金额应为 {format_cn(parse_money(want['amount']))}")
        if "label" in want and str(want["label"]) != part["label"]:
            problems.append(f"第{number}期名称应为“{want['label']}”")
        if "share" in want and _share(want["share"]) != _share(part["share"]):
            problems.append(f"第{number}期比例应为 {want['share']}")
    return None if not problems else "；".join(problems) + f"，实际为：{shown}"


def _share(text: Any) -> Fraction:
    node = parse(str(text))
    if not isinstance(node, ast.Number):
        raise ValueError(f"比例应为数，如 60% 或 0.6，得到 {text!r}")
    return node.value


_CHECKS: dict[str, Any] = {
    "status": _check_status,
    "amount": _check_amount,
    "amount_kind": _check_amount_kind,
    "is_ceiling": _flag("is_ceiling", "金额为上限"),
    "is_floor": _flag("is_floor", "金额为下限"),
    "reason": _check_reason,
    "tier": _check_tier,
    "missing": _check_missing,
    "recipient": _equal("recipient", "受益主体"),
    "payer": _equal("payer", "出资方"),
    "lead_unit": _equal("lead_unit", "牵头单位"),
    "excluded_by": _equal("excluded_by", "因互斥被排除（excluded_by）"),
    "defaults_used": _check_defaults,
    "calculation": _check_calculation,
    "readings": _check_readings,
    "suggestion": _check_suggestion,
    "instalments": _check_instalments,
}


def run_all(engine: Engine, document: str | None = None) -> list[CaseOutcome]:
    """Run every case (of one document, or all)."""
    return [run_case(engine, case) for case in load_cases(engine, document)]
