"""What changed between two versions of a document: its metadata, provisions, rules and amounts.

``huiqi policies diff DOC [--from V1 --to V2]`` prints these changes (docs/authoring.md "Versions").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huiqi.policy.base import LoadedDocument
from huiqi.policy.models import KIND_LABELS, Provision, Rule, condition_texts
from huiqi.policy.textdiff import differences as text_differences

#: document fields compared, with their labels
_DOCUMENT_FIELDS = {
    "title": "标题", "doc_number": "文号", "status": "状态", "issue_date": "印发日期", "effective_from": "施行日期",
    "effective_to": "有效期至", "validity": "有效期（原文）", "issuers": "发文单位",
}  # fmt: skip


@dataclass(frozen=True)
class Change:
    """One change: what kind (新增 / 删除 / 修改), where (document, a provision, a rule), and how."""

    kind: str
    where: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "text": self.text}


def _words(value: Any) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "（无）"
    return str(getattr(value, "value", value))


def _benefit(rule: Rule) -> dict[str, str]:
    """The figures of a rule that decide its amount, each in words (what ``diff`` compares)."""
    b = rule.benefit
    out: dict[str, str] = {"金额形式": b.form}
    for name, label in (("amount", "金额"), ("base", "基数"), ("rate", "比例"), ("ceiling", "最高限额"),
                        ("mode", "档次方式"), ("index", "年度序号")):  # fmt: skip
        value = getattr(b, name)
        if value is not None:
            out[label] = str(value)
    for tier in b.tiers or []:
        out[f"档次 {tier.id}"] = f"{'；'.join(condition_texts(tier.when))} → {tier.amount}"
    for step in b.steps or []:
        out[f"第{step.years[0]}–{step.years[1]}年"] = str(step.rate)
    flags = [label for name, label in (("is_ceiling", "上限"), ("is_floor", "下限"), ("review", "审核确定"))
             if getattr(b, name)]  # fmt: skip
    if flags:
        out["金额性质"] = "、".join(flags)
    for index, cap in enumerate(rule.caps):
        out[f"上限 {index + 1}"] = f"{cap.scope} {cap.amount}（{cap.over}）"
    if rule.once:
        out["一次性"] = "是"
    if rule.duration is not None:
        out["支持年限"] = f"不超过{rule.duration.max_years}年"
    for index, instalment in enumerate(rule.instalments):
        waits = f"，须满足：{'；'.join(condition_texts(instalment.conditions))}" if instalment.conditions else ""
        later = f"，第{instalment.year}个后续年度" if instalment.year else ""
        out[f"分期 {index + 1}"] = f"{instalment.label} {instalment.share}{later}{waits}"
    return out


def _rule_changes(ref: str, old: Rule, new: Rule) -> list[Change]:
    changes: list[Change] = []
    if old.label != new.label:
        changes.append(Change("修改", f"规则 {ref}", f"名称：{old.label} → {new.label}"))
    old_conditions, new_conditions = condition_texts(old.conditions), condition_texts(new.conditions)
    for text in old_conditions:
        if text not in new_conditions:
            changes.append(Change("修改", f"规则 {ref}", f"删除条件：{text}"))
    for text in new_conditions:
        if text not in old_conditions:
            changes.append(Change("修改", f"规则 {ref}", f"新增条件：{text}"))
    before, after = _benefit(old), _benefit(new)
    for key in [*before, *(k for k in after if k not in before)]:
        if before.get(key) != after.get(key):
            changes.append(
                Change("修改", f"规则 {ref}", f"{key}：{before.get(key, '（无）')} → {after.get(key, '（无）')}")
            )
    if old.applies_to != new.applies_to:
        changes.append(Change("修改", f"规则 {ref}", f"适用主体：{_words(old.applies_to)} → {_words(new.applies_to)}"))
    return changes


def _provision_changes(old: Provision, new: Provision) -> list[Change]:
    where = f"条款 {new.id}"
    changes: list[Change] = []
    if old.kind != new.kind:
        changes.append(Change("修改", where, f"类型：{KIND_LABELS[old.kind.value]} → {KIND_LABELS[new.kind.value]}"))
    if old.quote != new.quote:
        found = text_differences(old.quote, new.quote, expected_name="原条文", actual_name="新条文")
        changes.append(Change("修改", where, "条文：" + ("；".join(found[:5]) or "有改动")))
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    for rule_id, rule in old_rules.items():
        if rule_id not in new_rules:
            changes.append(Change("删除", f"规则 {new.id}/{rule_id}", rule.label))
    for rule_id, rule in new_rules.items():
        ref = f"{new.id}/{rule_id}"
        if rule_id not in old_rules:
            amounts = "；".join(f"{k}：{v}" for k, v in _benefit(rule).items())
            changes.append(Change("新增", f"规则 {ref}", f"{rule.label}（{amounts}）"))
        else:
            changes += _rule_changes(ref, old_rules[rule_id], rule)
    return changes


def diff_versions(old: LoadedDocument, new: LoadedDocument) -> list[Change]:
    """Every change from ``old`` to ``new``, in the new version's order."""
    changes: list[Change] = []
    a, b = old.policy.document, new.policy.document
    for name, label in _DOCUMENT_FIELDS.items():
        before, after = getattr(a, name), getattr(b, name)
        if before != after:
            changes.append(Change("修改", "文件", f"{label}：{_words(before)} → {_words(after)}"))
    old_provisions = {p.id: p for p in old.policy.provisions}
    new_provisions = {p.id: p for p in new.policy.provisions}
    for provision_id, provision in old_provisions.items():
        if provision_id not in new_provisions:
            changes.append(Change("删除", f"条款 {provision_id}", provision.heading or provision.quote[:40]))
    for provision_id, provision in new_provisions.items():
        if provision_id not in old_provisions:
            rules = "；".join(f"规则 {provision_id}/{r.id}：{r.label}" for r in provision.rules)
            text = (provision.heading or provision.quote[:40]) + (f"（{rules}）" if rules else "")
            changes.append(Change("新增", f"条款 {provision_id}", text))
        else:
            changes += _provision_changes(old_provisions[provision_id], provision)
    old_readings = {r.key: r for r in old.policy.readings}
    for reading in new.policy.readings:
        if reading.key not in old_readings:
            changes.append(Change("新增", f"口径 {reading.key}", reading.question))
        elif old_readings[reading.key].default != reading.default:
            changes.append(Change("修改", f"口径 {reading.key}",
                                  f"默认：{old_readings[reading.key].default} → {reading.default}"))  # fmt: skip
    for key in old_readings:
        if key not in {r.key for r in new.policy.readings}:
            changes.append(Change("删除", f"口径 {key}", old_readings[key].question))
    return changes
