"""Policy cases: the YAML examples next to each policy, run through the engine and compared.

A case names a profile, a date, readings, and the expected status and amount of rules or provisions
(docs/authoring.md §8). ``huiqi cases`` runs them all; the test suite runs them too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huiqi.engine.evaluate import Engine, Options
from huiqi.engine.profile import parse_profile
from huiqi.engine.results import Status
from huiqi.errors import HuiqiError, PolicyError
from huiqi.money import format_yuan, parse_money
from huiqi.policy.yamlio import line_of, load_yaml, strip_lines


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
    raw = strip_lines(case.raw)
    try:
        as_of = raw.get("as_of")
        as_of_date = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
        profile = parse_profile(raw.get("profile"), engine.catalogue, where="profile", document=case.document)
        readings = {str(k): str(v) for k, v in (raw.get("readings") or {}).items()}
        result = engine.evaluate(
            profile,
            Options(
                as_of=as_of_date,
                period=raw.get("period"),
                documents=(case.document,),
                readings={f"{case.document}:{k}": v for k, v in readings.items()},
                any_jurisdiction=bool(raw.get("any_jurisdiction", False)),
            ),
        )
    except (HuiqiError, ValueError, TypeError) as exc:
        outcome.failures.append(f"无法运行：{exc}")
        return outcome
    for expect in raw.get("expect") or []:
        outcome.failures.extend(_compare(case, result, expect))
    if not raw.get("expect"):
        outcome.failures.append("案例没有 expect")
    return outcome


def _compare(case: Case, result: Any, expect: dict[str, Any]) -> list[str]:
    if "rule" in expect:
        ref = f"{case.document}:{expect['rule']}"
        try:
            actual = result.rule(ref)
        except KeyError:
            return [f"规则 {expect['rule']} 不在结果中（编号错误，或当前口径下不存在）"]
        what = f"规则 {expect['rule']}"
    elif "provision" in expect:
        try:
            actual = result.provision(f"{case.document}:{expect['provision']}")
        except KeyError:
            return [f"条款 {expect['provision']} 不在结果中"]
        what = f"条款 {expect['provision']}"
    else:
        return ["expect 条目应含 rule 或 provision"]
    failures = []
    if "status" in expect:
        try:
            wanted = Status(expect["status"])
        except ValueError:
            return [f"{what}: 未知的状态 {expect['status']!r}"]
        if actual.status is not wanted:
            failures.append(f"{what}: 状态应为 {wanted.value}，实际为 {actual.status.value}（{actual.reason}）")
    if "amount" in expect:
        wanted_amount = None if expect["amount"] is None else parse_money(expect["amount"], where=what)
        if actual.amount_fen != wanted_amount:
            shown = None if actual.amount_fen is None else format_yuan(actual.amount_fen)
            wanted_shown = None if wanted_amount is None else format_yuan(wanted_amount)
            failures.append(
                f"{what}: 金额应为 {wanted_shown}，实际为 {shown}（{'；'.join(actual.calculation) if hasattr(actual, 'calculation') else ''}）"
            )
    if "is_ceiling" in expect and bool(expect["is_ceiling"]) != actual.is_ceiling:
        failures.append(f"{what}: is_ceiling 应为 {expect['is_ceiling']}，实际为 {actual.is_ceiling}")
    if "tier" in expect and hasattr(actual, "tier"):
        wanted_tier = expect["tier"] if isinstance(expect["tier"], list) else [expect["tier"]]
        if [str(t) for t in wanted_tier] != actual.tier:
            failures.append(f"{what}: 档次应为 {wanted_tier}，实际为 {actual.tier}")
    if "missing" in expect and hasattr(actual, "missing"):
        got = sorted({m.fact for m in actual.missing})
        if sorted(expect["missing"]) != got:
            failures.append(f"{what}: 缺失事实应为 {sorted(expect['missing'])}，实际为 {got}")
    return failures


def run_all(engine: Engine, document: str | None = None) -> list[CaseOutcome]:
    """Run every case (of one document, or all)."""
    return [run_case(engine, case) for case in load_cases(engine, document)]
