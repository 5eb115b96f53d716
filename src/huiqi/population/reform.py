"""Reforms: change a rule's parameters (a threshold, a rate, a cap, a tier) without editing the policy.

A reform file (YAML) lists overrides, applied in order to a deep copy of the loaded policy data; each
changed document is rebuilt and checked exactly as ``huiqi validate`` checks a policy file, so an
override that breaks a rule (an unknown path, an expression that no longer type-checks) is refused with
an error naming the override::

    name: 新设企业门槛降至800万元            # optional
    overrides:
      - rule: suzhou-software-cluster:2/new-firm
        replace: {"2000万元": "800万元"}        # text substitution inside the rule's expressions
      - rule: suzhou-software-cluster:1/capital
        set: {benefit.rate: 6%, benefit.ceiling: 150万元}
      - rule: suzhou-software-cluster:2/new-firm
        set: {benefit.tiers.t1.amount: 250万元}  # tiers addressed by id, other lists by index
      - definition: suzhou-software-cluster:first_award_thresholds_met
        replace: {"1000万元": "800万元"}

``replace`` matches whole numbers only (``2000万元`` does not match inside ``12000万元``) and must match at
least once. ``set`` paths are dotted: mapping keys, list indexes (``caps.0.amount``) or ids (``tiers.t1``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from huiqi.errors import HuiqiError, PolicyError
from huiqi.policy.base import LoadedDocument, PolicyBase, check_document, document_scope
from huiqi.policy.models import PolicyFile
from huiqi.policy.yamlio import line_of, load_yaml, strip_lines


class ReformError(PolicyError):
    """A reform file is malformed, or one of its overrides cannot be applied."""


#: benefit fields holding expressions (conditions are walked separately)
_BENEFIT_EXPRESSIONS = ("amount", "base", "rate", "ceiling", "index")


@dataclass(frozen=True)
class Override:
    """One change: a rule (``document:provision/rule``) or a definition (``document:name``)."""

    target: str
    kind: str  # rule | definition
    replace: tuple[tuple[str, str], ...] = ()
    set: tuple[tuple[str, Any], ...] = ()
    where: str = ""

    @property
    def document(self) -> str:
        return self.target.split(":", 1)[0]

    def describe(self) -> str:
        name = "规则" if self.kind == "rule" else "定义"
        return f"改革项（{name} {self.target}，{self.where}）"


@dataclass
class Reform:
    """A reform file: a name and its overrides, in order."""

    name: str
    overrides: list[Override] = field(default_factory=list)

    @property
    def documents(self) -> list[str]:
        return list(dict.fromkeys(o.document for o in self.overrides))


def load_reform(path: Path) -> Reform:
    """Read and check the shape of a reform file (the overrides are checked when applied)."""
    if not path.exists():
        raise ReformError(f"找不到改革方案文件 {path}", where="--reform")
    raw = load_yaml(path)
    items = raw.get("overrides") if isinstance(raw, dict) else raw
    name = str(raw.get("name") or path.stem) if isinstance(raw, dict) else path.stem
    if not isinstance(items, list) or not items:
        raise ReformError(
            "改革方案应有 overrides: 列表（每项含 rule 或 definition，以及 replace 或 set）", where=f"{path}:1"
        )
    overrides = []
    for index, item in enumerate(items):
        line = line_of(raw, ("overrides", index) if isinstance(raw, dict) else (index,)) or 1
        where = f"{path}:{line}"
        if not isinstance(item, dict):
            raise ReformError(f"第{index + 1}项应为映射（rule/definition 与 replace/set）", where=where)
        clean = strip_lines(item)
        unknown = set(clean) - {"rule", "definition", "replace", "set", "note"}
        if unknown:
            raise ReformError(
                f"第{index + 1}项含未知键 {sorted(unknown)}：可用 rule、definition、replace、set、note", where=where
            )
        targets = [k for k in ("rule", "definition") if k in clean]
        if len(targets) != 1:
            raise ReformError(f"第{index + 1}项应恰好指定 rule 或 definition 之一", where=where)
        kind = targets[0]
        target = str(clean[kind])
        pattern = r"^[a-z0-9-]+:[^/:]+/[^/:]+$" if kind == "rule" else r"^[a-z0-9-]+:[a-z][a-z0-9_]*$"
        if not re.match(pattern, target):
            form = "文件:条款/规则，如 suzhou-software-cluster:2/new-firm" if kind == "rule" else "文件:定义名"
            raise ReformError(f"第{index + 1}项的 {kind} {target!r} 格式应为 {form}", where=where)
        replace, assign = clean.get("replace") or {}, clean.get("set") or {}
        if not isinstance(replace, dict) or not isinstance(assign, dict) or not (replace or assign):
            raise ReformError(f"第{index + 1}项应有 replace: {{原文本: 新文本}} 或 set: {{路径: 值}}", where=where)
        overrides.append(
            Override(
                target=target,
                kind=kind,
                where=where,
                replace=tuple((str(k), str(v)) for k, v in replace.items()),
                set=tuple((str(k), v) for k, v in assign.items()),
            )
        )
    return Reform(name=name, overrides=overrides)


def apply_reform(base: PolicyBase, reform: Reform) -> PolicyBase:
    """A new policy base with the reform applied (documents not named by it are shared, unchanged)."""
    documents = dict(base.documents)
    data: dict[str, dict[str, Any]] = {}
    for override in reform.overrides:
        original = base.documents.get(override.document)
        if original is None or override.document in base.broken:
            known = "、".join(d for d in base.documents if d not in base.broken)
            raise ReformError(
                f"{override.describe()}：没有编号为 {override.document!r} 的文件；现有：{known}", where=override.where
            )
        raw = data.setdefault(override.document, copy.deepcopy(strip_lines(original.raw)))
        _apply(raw, override)
        documents[override.document] = _rebuild(original, raw, base, override)
    return PolicyBase(root=base.root, catalogue=base.catalogue, documents=documents, errors=[],
                      broken=set(base.broken))  # fmt: skip


def _apply(raw: dict[str, Any], override: Override) -> None:
    target = _find_target(raw, override)
    for old, new in override.replace:
        if _replace_in(target, override.kind, old, new) == 0:
            raise ReformError(
                f"{override.describe()}：表达式中找不到 {old!r}（replace 按完整数字匹配）", where=override.where
            )
    for path, value in override.set:
        _set_path(target, path, value, override)


def _find_target(raw: dict[str, Any], override: Override) -> dict[str, Any]:
    document, rest = override.target.split(":", 1)
    if override.kind == "definition":
        for definition in raw.get("definitions") or []:
            if definition.get("name") == rest:
                return definition  # type: ignore[no-any-return]
        names = "、".join(d.get("name", "") for d in raw.get("definitions") or []) or "（无）"
        raise ReformError(
            f"{override.describe()}：文件 {document} 没有定义 {rest!r}；现有：{names}", where=override.where
        )
    provision_id, rule_id = rest.split("/", 1)
    for provision in raw.get("provisions") or []:
        if str(provision.get("id")) != provision_id:
            continue
        for rule in provision.get("rules") or []:
            if str(rule.get("id")) == rule_id:
                return rule  # type: ignore[no-any-return]
        rules = "、".join(str(r.get("id")) for r in provision.get("rules") or []) or "（无）"
        raise ReformError(
            f"{override.describe()}：条款 {provision_id} 没有规则 {rule_id!r}；现有：{rules}", where=override.where
        )
    raise ReformError(f"{override.describe()}：文件 {document} 没有条款 {provision_id!r}", where=override.where)


def _substitute(text: Any, old: str, new: str) -> tuple[Any, int]:
    if not isinstance(text, str | int) or isinstance(text, bool):
        return text, 0
    before = r"(?<![0-9.])" if old[:1].isdigit() else ""
    after = r"(?![0-9.])" if old[-1:].isdigit() else ""
    result, count = re.subn(before + re.escape(old) + after, lambda _: new, str(text))
    return (result if count else text), count


def _replace_in(target: dict[str, Any], kind: str, old: str, new: str) -> int:
    """Substitute inside every expression of a rule (or a definition's ``expr``); returns the count."""
    if kind == "definition":
        target["expr"], count = _substitute(target.get("expr"), old, new)
        return count
    count = _replace_condition(target, "conditions", old, new)
    benefit = target.get("benefit") or {}
    for name in _BENEFIT_EXPRESSIONS:
        if name in benefit:
            benefit[name], found = _substitute(benefit[name], old, new)
            count += found
    for tier in benefit.get("tiers") or []:
        count += _replace_condition(tier, "when", old, new)
        tier["amount"], found = _substitute(tier.get("amount"), old, new)
        count += found
    for step in benefit.get("steps") or []:
        step["rate"], found = _substitute(step.get("rate"), old, new)
        count += found
    for key, field_name in (("caps", "amount"), ("instalments", "share")):
        for item in target.get(key) or []:
            item[field_name], found = _substitute(item.get(field_name), old, new)
            count += found
    return count


def _replace_condition(holder: dict[str, Any] | list[Any], key: Any, old: str, new: str) -> int:
    value = holder[key] if isinstance(holder, list) or key in holder else None
    if isinstance(value, str | int) and not isinstance(value, bool):
        holder[key], count = _substitute(value, old, new)
        return int(count)
    if isinstance(value, dict):
        count = 0
        if "expr" in value:
            count += _replace_condition(value, "expr", old, new)
        for group in ("all", "any"):
            for index in range(len(value.get(group) or [])):
                count += _replace_condition(value[group], index, old, new)
        if "not" in value:
            count += _replace_condition(value, "not", old, new)
        return count
    return 0


def _set_path(target: dict[str, Any], path: str, value: Any, override: Override) -> None:
    steps = path.split(".")
    current: Any = target
    for depth, step in enumerate(steps):
        last = depth == len(steps) - 1
        so_far = ".".join(steps[: depth + 1])
        if isinstance(current, dict):
            if last:
                current[step] = value
                return
            if step not in current or current[step] is None:
                raise ReformError(f"{override.describe()}：路径 {path} 不存在（没有 {so_far}）", where=override.where)
            current = current[step]
        elif isinstance(current, list):
            index = _list_index(current, step)
            if index is None:
                ids = "、".join(str(i.get("id")) for i in current if isinstance(i, dict) and "id" in i)
                hint = f"；可用编号：{ids}" if ids else f"；可用下标 0–{len(current) - 1}"
                raise ReformError(f"{override.describe()}：路径 {path} 不存在（{so_far}）{hint}", where=override.where)
            if last:
                current[index] = value
                return
            current = current[index]
        else:
            raise ReformError(
                f"{override.describe()}：路径 {path} 不存在（{so_far} 不是映射或列表）", where=override.where
            )


def _list_index(items: list[Any], step: str) -> int | None:
    for index, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("id")) == step:
            return index
    if step.isdigit() and int(step) < len(items):
        return int(step)
    return None


def _rebuild(original: LoadedDocument, raw: dict[str, Any], base: PolicyBase, override: Override) -> LoadedDocument:
    """A LoadedDocument from changed data, checked like a policy file; errors name the override."""
    try:
        policy = PolicyFile(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise ReformError(
            f"{override.describe()}：修改后字段 {place} 无效：{first['msg']}", where=override.where
        ) from None
    try:
        scope = document_scope(policy, base.catalogue)
    except HuiqiError as exc:
        raise ReformError(f"{override.describe()}：修改后的表达式无效：{exc.message}", where=override.where) from None
    # the original raw keeps its line numbers, so a problem is also placed in the policy file
    document = LoadedDocument(
        folder=original.folder, policy=policy, source=original.source, raw=original.raw, scope=scope
    )
    problems = check_document(document, base.catalogue)
    if problems:
        first_problem = problems[0]
        place = f"（{first_problem.where}）" if first_problem.where else ""
        raise ReformError(
            f"{override.describe()}：修改后规则不能通过检查：{first_problem.message}{place}", where=override.where
        )
    return document
