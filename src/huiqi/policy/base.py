"""The policy base: every document folder under ``policies/``, loaded, checked and cross-referenced.

Loading never stops at the first problem: ``PolicyBase.load`` collects every error (file:line and what to
do) so ``huiqi validate`` can report them all; ``PolicyBase.load(strict=True)`` raises the first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from huiqi.errors import ExpressionError, HuiqiError, PolicyError
from huiqi.expr import ast
from huiqi.expr.ast import Type
from huiqi.expr.check import HISTORY_FUNCTIONS, infer
from huiqi.expr.parser import parse
from huiqi.facts.catalogue import ENTITY_LABELS, Catalogue
from huiqi.locations import default_policies_dir as default_policies_dir  # re-exported: its old home
from huiqi.locations import missing_base_message
from huiqi.policy import normalise
from huiqi.policy.messages import path_text, validation_errors
from huiqi.policy.models import Benefit, Condition, PolicyFile, Provision, Rule, condition_texts
from huiqi.policy.procedure import check_procedures
from huiqi.policy.scope import DocumentScope, item_scope
from huiqi.policy.spans import describe_missing_quote
from huiqi.policy.textdiff import first_difference
from huiqi.policy.yamlio import line_of, load_yaml, strip_lines
from huiqi.regions import check_jurisdiction
from huiqi.suggest import did_you_mean

_CJK = re.compile(r"[\u4e00-\u9fff]")
_SENTENCE_END = re.compile(r"[。；！？\n]")


@dataclass
class LoadedDocument:
    """One document: its parsed policy file, its texts and its type-checking scope."""

    folder: Path
    policy: PolicyFile
    source: str
    raw: dict[str, Any]
    scope: DocumentScope

    @property
    def id(self) -> str:
        return self.policy.document.id

    def provision(self, provision_id: str) -> Provision:
        for provision in self.policy.provisions:
            if provision.id == provision_id:
                return provision
        raise KeyError(provision_id)

    def where(self, *path: str | int) -> str:
        """``file:line`` of a path inside the policy file."""
        line = line_of(self.raw, path) or 1
        return f"{self.folder / 'policy.yaml'}:{line}"


@dataclass
class PolicyBase:
    """All documents and the fact catalogue."""

    root: Path
    catalogue: Catalogue
    documents: dict[str, LoadedDocument] = field(default_factory=dict)
    errors: list[HuiqiError] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)
    #: every version of an amended document, oldest first, the current one (``documents[id]``) last;
    #: only documents with a ``versions/`` folder are here (docs/authoring.md "Versions")
    versions: dict[str, list[LoadedDocument]] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path | None = None, *, strict: bool = True) -> PolicyBase:
        """Load and check every document folder of ``root``."""
        root = root or default_policies_dir()
        if not root.is_dir():
            raise PolicyError(missing_base_message(root))
        catalogue_errors: list[PolicyError] = []
        catalogue = Catalogue.load(root / "_facts", catalogue_errors)
        if strict and catalogue_errors:
            raise catalogue_errors[0]
        base = cls(root=root, catalogue=catalogue, errors=list(catalogue_errors))
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
            try:
                document = _load_document(folder, catalogue)
            except _Invalid as invalid:
                base.errors.extend(invalid.errors)
                continue
            except HuiqiError as exc:
                base.errors.append(exc)
                continue
            problems = check_document(document, catalogue)
            if problems:
                base.errors.extend(problems)
                base.broken.add(document.id)
            base.documents[document.id] = document
            if (folder / "versions").is_dir():
                earlier, version_errors = _load_versions(folder, document, catalogue)
                if version_errors:
                    base.errors.extend(version_errors)
                    base.broken.add(document.id)
                else:
                    base.versions[document.id] = [*earlier, document]
        if strict and base.errors:
            raise base.errors[0]
        return base

    def versions_of(self, document_id: str) -> list[LoadedDocument]:
        """Every version of a document, oldest first (one, the current, for a document never amended)."""
        return self.versions.get(document_id) or [self.document(document_id)]

    def version_label(self, document: LoadedDocument) -> str:
        return document.policy.document.version or "现行版本"

    def in_force(self, document_id: str, on: dt.date) -> LoadedDocument:
        """The version in force on a day: the latest that had started by then (the earliest before all)."""
        versions = self.versions_of(document_id)
        chosen = versions[0]
        for version in versions:
            start = version_start(version)
            if start is not None and start <= on:
                chosen = version
        return chosen

    def as_of(self, on: dt.date) -> PolicyBase:
        """The base with each amended document's version in force on a day in place of the current one: what
        the population engine compiles for a scenario dated before an amendment (``huiqi simulate --as-of``)."""
        if not self.versions:
            return self
        documents = {doc_id: self.in_force(doc_id, on) if doc_id in self.versions else loaded
                     for doc_id, loaded in self.documents.items()}  # fmt: skip
        return dataclasses.replace(self, documents=documents)

    def document_version(self, document_id: str, label: str) -> LoadedDocument:
        """A version by its name; an unknown name lists the known ones."""
        versions = self.versions_of(document_id)
        for version in versions:
            if self.version_label(version) == label:
                return version
        known = "、".join(self.version_label(v) for v in versions)
        raise PolicyError(f"文件 {document_id} 没有名为 {label!r} 的版本；现有版本：{known}")

    def document(self, document_id: str) -> LoadedDocument:
        """A document by id; an unknown id is an error that lists the known ones."""
        try:
            return self.documents[document_id]
        except KeyError:
            known = "、".join(self.documents)
            raise PolicyError(f"没有编号为 {document_id!r} 的文件；现有：{known}") from None


class _Invalid(Exception):
    """Every structural error of one policy file (reported together, not only the first)."""

    def __init__(self, errors: list[PolicyError]) -> None:
        super().__init__(errors[0].message if errors else "")
        self.errors = errors


def version_start(document: LoadedDocument) -> dt.date | None:
    """The first day a version applies: its ``effective_from``, else its issue date."""
    meta = document.policy.document
    return meta.effective_from or meta.issue_date


def _load_versions(
    folder: Path, current: LoadedDocument, catalogue: Catalogue
) -> tuple[list[LoadedDocument], list[HuiqiError]]:
    """The earlier versions kept in ``<document>/versions/<name>/`` (each a whole policy file and text), oldest
    first, checked like any document and against each other: names, start dates, what each amends."""
    errors: list[HuiqiError] = []
    earlier: list[LoadedDocument] = []
    for sub in sorted(p for p in (folder / "versions").iterdir() if p.is_dir()):
        try:
            version = _load_document(sub, catalogue, expected_id=current.id)
        except _Invalid as invalid:
            errors.extend(invalid.errors)
            continue
        except HuiqiError as exc:
            errors.append(exc)
            continue
        errors.extend(check_document(version, catalogue))
        if version.policy.document.version != sub.name:
            errors.append(PolicyError(f"document.version 应与版本目录名 {sub.name!r} 相同",
                                      where=version.where("document")))  # fmt: skip
        earlier.append(version)
    if current.policy.document.version is None:
        errors.append(
            PolicyError(
                "文件有 versions/ 目录（修订前的版本），现行版本也须写 document.version（版本名，如 2024年修订）"
                "和 document.amends（它修订的版本名）",
                where=current.where("document"),
            )
        )
        return [], errors
    every = [*earlier, current]
    for version in every:
        if version_start(version) is None:
            errors.append(PolicyError("有多个版本的文件，每个版本须写 effective_from（或 issue_date）：按它确定某日施行的版本",
                                      where=version.where("document")))  # fmt: skip
    if errors:
        return [], errors
    every.sort(key=lambda v: version_start(v) or dt.date.min)
    labels = [v.policy.document.version for v in every]
    if len(set(labels)) != len(labels):
        errors.append(PolicyError(f"版本名重复：{'、'.join(str(x) for x in labels)}", where=current.where("document")))
    for before, after in itertools.pairwise(every):
        start, meta = version_start(after), after.policy.document
        if start == version_start(before):
            errors.append(PolicyError(f"版本 {before.policy.document.version} 与 {meta.version} 的施行日期相同：无法确定哪个版本施行",
                                      where=after.where("document")))  # fmt: skip
        if meta.amends != before.policy.document.version:
            errors.append(
                PolicyError(
                    f"版本 {meta.version} 的 amends 应为它之前施行的版本 {before.policy.document.version!r}，"
                    f"得到 {meta.amends!r}",
                    where=after.where("document"),
                )
            )
        if (
            before.policy.document.effective_to is not None
            and start is not None
            and before.policy.document.effective_to >= start
        ):
            errors.append(
                PolicyError(
                    f"版本 {before.policy.document.version} 的 effective_to（{before.policy.document.effective_to}）"
                    f"应早于修订版本 {meta.version} 的施行日（{start}）",
                    where=before.where("document"),
                )
            )
    if every[-1] is not current:
        errors.append(PolicyError("文件目录中的 policy.yaml 应为最新施行的版本；更早的版本放在 versions/ 下",
                                  where=current.where("document")))  # fmt: skip
    return earlier, errors


def _load_document(folder: Path, catalogue: Catalogue, *, expected_id: str | None = None) -> LoadedDocument:
    path = folder / "policy.yaml"
    if not path.exists():
        raise PolicyError("缺少 policy.yaml", where=str(folder))
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise PolicyError("policy.yaml 的顶层应为映射（document、provisions …）", where=f"{path}:1")
    try:
        policy = PolicyFile(**strip_lines(raw))
    except ValidationError as exc:
        raise _Invalid(validation_errors(exc, raw, PolicyFile, str(path))) from None
    if policy.document.id != (expected_id or folder.name):
        raise PolicyError(f"document.id {policy.document.id!r} 应与目录名 {expected_id or folder.name!r} 相同",
                          where=f"{path}:1")  # fmt: skip
    source_path = folder / "source.txt"
    if not source_path.exists():
        raise PolicyError("缺少 source.txt（官方原文）", where=str(folder))
    source = source_path.read_text(encoding="utf-8")
    return LoadedDocument(folder=folder, policy=policy, source=source, raw=raw, scope=document_scope(policy, catalogue))


def document_scope(policy: PolicyFile, catalogue: Catalogue) -> DocumentScope:
    """The names a document's expressions may use: its definitions and its reading-defined names, parsed."""
    scope = DocumentScope(catalogue=catalogue, document=policy.document.id)
    for definition in policy.definitions:
        scope.definitions[definition.name] = _parse(definition.expr)
        scope.labels[definition.name] = definition.label.split("（", 1)[0]
    for reading in policy.readings:
        for option in reading.options:
            for name, text in option.define.items():
                scope.reading_names.setdefault(name, (reading.key, {}))[1][option.value] = _parse(text)
    return scope


def _parse(text: str | int) -> ast.Node:
    return parse(str(text))


def check_document(document: LoadedDocument, catalogue: Catalogue) -> list[HuiqiError]:
    """Every semantic check of one document; returns the problems found."""
    errors: list[HuiqiError] = []
    policy, source = document.policy, document.source
    original = document.folder / "original.txt"
    if original.exists():
        try:
            expected = normalise.apply(policy.document.source.normalisation, original.read_text(encoding="utf-8"))
        except KeyError as exc:
            errors.append(PolicyError(f"未知的规范化步骤 {exc.args[0]!r}", where=document.where("document", "source")))
        else:
            if expected != source:
                errors.append(
                    PolicyError(
                        "source.txt 与 original.txt 按记录的规范化步骤处理后的结果不一致，最早的不同在 source.txt "
                        + first_difference(expected, source).replace("应为", "按规范化步骤应为")
                        + "（规范化步骤见 docs/authoring.md §1）",
                        where=document.where("document", "source"),
                    )
                )
    jurisdiction = policy.document.jurisdiction
    problem = check_jurisdiction(jurisdiction.region, jurisdiction.level)  # GB/T 2260 names, as profiles use
    if problem:
        errors.append(PolicyError(problem, where=document.where("document", "jurisdiction")))
    for index, omitted in enumerate(policy.omitted):
        _check_span(errors, source, omitted.quote, omitted.span, document.where("omitted", index))
    provision_ids: set[str] = set()
    rule_refs: set[str] = set()
    for p_index, provision in enumerate(policy.provisions):
        where = document.where("provisions", p_index)
        if provision.id in provision_ids:
            errors.append(PolicyError(f"条款编号 {provision.id!r} 重复", where=where))
        provision_ids.add(provision.id)
        _check_span(errors, source, provision.quote, provision.span, where)
        rule_ids: set[str] = set()
        for r_index, rule in enumerate(provision.rules):
            rule_where = document.where("provisions", p_index, "rules", r_index)
            if rule.id in rule_ids:
                errors.append(PolicyError(f"规则编号 {rule.id!r} 在条款 {provision.id} 内重复", where=rule_where))
            rule_ids.add(rule.id)
            rule_refs.add(f"{provision.id}/{rule.id}")
            _check_span(errors, source, rule.quote, rule.span, rule_where)
            if not (provision.span[0] <= rule.span[0] and rule.span[1] <= provision.span[1]):
                errors.append(PolicyError("规则的引文应位于所属条款的引文范围内", where=rule_where))
            errors.extend(_check_rule(document, rule, ("provisions", p_index, "rules", r_index)))
            errors.extend(_check_entities(document, catalogue, provision, rule, rule_where))
    for d_index, definition in enumerate(policy.definitions):
        _check_expr(errors, document, definition.expr, None, ("definitions", d_index, "expr"))
        if definition.name in catalogue:
            errors.append(
                PolicyError(f"定义名 {definition.name!r} 与事实重名", where=document.where("definitions", d_index))
            )
    readings = {reading.key: reading for reading in policy.readings}
    for r_index, reading in enumerate(policy.readings):
        for o_index, option in enumerate(reading.options):
            for name, text in option.define.items():
                path = ("readings", r_index, "options", o_index, "define", name)
                _check_expr(errors, document, text, None, path)
                if name in catalogue:
                    errors.append(PolicyError(f"口径定义名 {name!r} 与事实重名", where=document.where(*path)))
        if reading.provision is not None and reading.provision not in provision_ids:
            errors.append(
                PolicyError(f"口径所属条款 {reading.provision!r} 不存在", where=document.where("readings", r_index))
            )
    for p_index, provision in enumerate(policy.provisions):
        for r_index, rule in enumerate(provision.rules):
            _check_when_reading(
                errors, readings, rule.when_reading, document.where("provisions", p_index, "rules", r_index)
            )
    for p_index, provision in enumerate(policy.provisions):
        for r_index, rule in enumerate(provision.rules):
            if rule.ledger_as is not None and rule.ledger_as not in rule_refs:
                errors.append(
                    PolicyError(
                        f"ledger_as 引用了不存在的规则 {rule.ledger_as!r}（格式：条款编号/规则编号）",
                        where=document.where("provisions", p_index, "rules", r_index),
                    )
                )
    for e_index, exclusion in enumerate(policy.exclusions):
        where = document.where("exclusions", e_index)
        for ref in exclusion.rules:
            if ref not in rule_refs:
                errors.append(PolicyError(f"互斥组引用了不存在的规则 {ref!r}（格式：条款编号/规则编号）", where=where))
        _check_when_reading(errors, readings, exclusion.when_reading, where)
    errors.extend(_check_cross_exclusions(document, readings))
    errors.extend(_check_quotes(document))
    errors.extend(check_procedures(policy, source, document.where))
    errors.extend(_check_coverage(document))
    return errors


def _check_quotes(document: LoadedDocument) -> list[HuiqiError]:
    """The quotes that have no span (non-duplication, budget, readings, definitions, units) must be in the text."""
    policy, source = document.policy, document.source
    quoted: list[tuple[str | None, str, tuple[str | int, ...]]] = []
    meta = policy.document
    if meta.non_duplication is not None:
        quoted.append((meta.non_duplication.quote, source, ("document", "non_duplication", "quote")))
    if meta.budget_semantics is not None:
        quoted.append((meta.budget_semantics.quote, source, ("document", "budget_semantics", "quote")))
    quoted += [(r.quote, source, ("readings", i, "quote")) for i, r in enumerate(policy.readings)]
    quoted += [(d.quote, source, ("definitions", i, "quote")) for i, d in enumerate(policy.definitions)]
    for p_index, provision in enumerate(policy.provisions):
        quoted.append((provision.units_quote, provision.quote, ("provisions", p_index, "units_quote")))
        for r_index, rule in enumerate(provision.rules):
            quoted.append((rule.units_quote, provision.quote, ("provisions", p_index, "rules", r_index, "units_quote")))
            quoted += [(part.quote, provision.quote, ("provisions", p_index, "rules", r_index, "instalments", i, "quote"))
                       for i, part in enumerate(rule.instalments)]  # fmt: skip
    errors: list[HuiqiError] = []
    for quote, text, path in quoted:
        if quote is not None and quote not in text:
            scope = "原文（source.txt）" if text is source else "所属条款的引文"
            errors.append(
                PolicyError(f"{path[-1]} 的引文在{scope}中找不到：引文应逐字摘自原文", where=document.where(*path))
            )
    return errors


def _check_cross_exclusions(document: LoadedDocument, readings: dict[str, Any]) -> list[HuiqiError]:
    """``non_duplication.excludes``: its readings exist, and under 同一事项 every rule that pays says its matter."""
    meta = document.policy.document
    errors: list[HuiqiError] = []
    if meta.non_duplication is None:
        return errors
    for index, exclusion in enumerate(meta.non_duplication.excludes):
        where = document.where("document", "non_duplication", "excludes", index)
        _check_when_reading(errors, readings, exclusion.when_reading, where)
        if exclusion.documents and meta.id in exclusion.documents:
            errors.append(PolicyError("excludes.documents 不应包含本文件自身", where=where))
        if exclusion.same_kind and not meta.kinds:
            errors.append(PolicyError("same_kind: true 需要本文件写明 document.kinds（同类政策的类别）", where=where))
    if any(e.same_matter for e in meta.non_duplication.excludes):
        for p_index, provision in enumerate(document.policy.provisions):
            for r_index, rule in enumerate(provision.rules):
                if rule.matter is None and (rule.benefit.form != "none" or rule.benefit.review):
                    errors.append(
                        PolicyError(
                            "本文件按同一事项判断不得重复享受（non_duplication.excludes），此规则须写 matter（事项，如 企业新落户）",
                            where=document.where("provisions", p_index, "rules", r_index),
                        )
                    )
    return errors


def _check_when_reading(errors: list[HuiqiError], readings: dict[str, Any], when: dict[str, str], where: str) -> None:
    for key, value in when.items():
        reading = readings.get(key)
        if reading is None:
            errors.append(PolicyError(f"when_reading 引用了不存在的口径 {key!r}", where=where))
        elif value not in [option.value for option in reading.options]:
            errors.append(PolicyError(f"口径 {key!r} 没有选项 {value!r}", where=where))


def _check_span(errors: list[HuiqiError], source: str, quote: str, span: tuple[int, int], where: str) -> None:
    start, end = span
    if not (0 <= start <= end <= len(source)) or source[start:end] != quote:
        found = source.find(quote)
        if found >= 0:
            hint = f"；该引文在原文中的位置是 [{found}, {found + len(quote)}]（运行 huiqi policies spans --write 自动修正）"
        else:
            hint = "；原文中找不到该引文，" + describe_missing_quote(source, quote)
        errors.append(PolicyError(f"引文与 source.txt[{start}:{end}] 不一致{hint}", where=where))


def _check_rule(document: LoadedDocument, rule: Rule, path: tuple[str | int, ...]) -> list[HuiqiError]:
    errors: list[HuiqiError] = []
    if rule.conditions is not None:
        _check_condition(errors, document, rule.conditions, (*path, "conditions"))
    benefit = rule.benefit
    bpath = (*path, "benefit")
    if benefit.form == "per_item":
        errors += _check_per_item(document, benefit, bpath)
    money_fields = {"amount": benefit.amount, "base": benefit.base, "ceiling": benefit.ceiling}
    if benefit.form == "per_item":
        money_fields = {}  # checked with the items' fields in scope
    for name, text in money_fields.items():
        if text is not None:
            _check_expr(errors, document, text, Type.MONEY, (*bpath, name))
    if benefit.rate is not None:
        _check_expr(errors, document, benefit.rate, Type.NUMBER, (*bpath, "rate"))
    if benefit.index is not None:
        _check_expr(errors, document, benefit.index, Type.NUMBER, (*bpath, "index"))
    for t_index, tier in enumerate(benefit.tiers or []):
        _check_condition(errors, document, tier.when, (*bpath, "tiers", t_index, "when"))
        _check_expr(errors, document, tier.amount, Type.MONEY, (*bpath, "tiers", t_index, "amount"))
    for s_index, step in enumerate(benefit.steps or []):
        _check_expr(errors, document, step.rate, Type.NUMBER, (*bpath, "steps", s_index, "rate"))
    for c_index, cap in enumerate(rule.caps):
        _check_expr(errors, document, cap.amount, Type.MONEY, (*path, "caps", c_index, "amount"))
    for i_index, instalment in enumerate(rule.instalments):
        _check_expr(errors, document, instalment.share, Type.NUMBER, (*path, "instalments", i_index, "share"))
        if instalment.conditions is not None:
            _check_condition(errors, document, instalment.conditions, (*path, "instalments", i_index, "conditions"))
    shares = [_constant(instalment.share) for instalment in rule.instalments]
    if shares and all(share is not None for share in shares) and sum(s for s in shares if s is not None) != 1:
        total = sum(s for s in shares if s is not None)
        errors.append(
            PolicyError(
                f"instalments 各期比例之和应为 100%，现为 {float(total) * 100:g}%（最后一期会被补足或扣减差额）",
                where=document.where(*path, "instalments"),
            )
        )
    tier_ids = [tier.id for tier in benefit.tiers or []]
    for t_index, tier_id in enumerate(tier_ids):
        if tier_id in tier_ids[:t_index]:
            errors.append(PolicyError(f"档次编号 {tier_id!r} 重复（台账按档次编号记录已领取的档次）",
                                      where=document.where(*bpath, "tiers", t_index)))  # fmt: skip
    return errors


def _check_per_item(document: LoadedDocument, benefit: Benefit, bpath: tuple[str | int, ...]) -> list[HuiqiError]:
    """A per_item benefit: ``items`` names a list fact; amount, where and item caps read ``item_<field>``."""
    errors: list[HuiqiError] = []
    fact = document.scope.catalogue.get(str(benefit.items))
    if fact is None or fact.type is not Type.ITEMS:
        lists = [f.key for f in document.scope.catalogue if f.type is Type.ITEMS]
        errors.append(
            PolicyError(
                f"items 应为列表类事实（type: items）的名称，得到 {benefit.items!r}；现有：{'、'.join(lists) or '（无）'}"
                + did_you_mean(str(benefit.items), lists),
                where=document.where(*bpath, "items"),
            )
        )
        return errors
    scope = item_scope(document.scope, fact)
    _check_expr(errors, document, benefit.amount, Type.MONEY, (*bpath, "amount"), scope)
    if benefit.ceiling is not None:
        _check_expr(errors, document, benefit.ceiling, Type.MONEY, (*bpath, "ceiling"))
    if benefit.where is not None:
        _check_condition(errors, document, benefit.where, (*bpath, "where"), scope)
    for index, cap in enumerate(benefit.item_caps or []):
        _check_condition(errors, document, cap.when, (*bpath, "item_caps", index, "when"), scope)
        _check_expr(errors, document, cap.amount, Type.MONEY, (*bpath, "item_caps", index, "amount"), scope)
    return errors


def _constant(text: str | int) -> Fraction | None:
    """The value of a constant numeric expression (50%, 1/3, 0.6), or None when it reads facts."""
    try:
        node = parse(str(text))
    except ExpressionError:
        return None

    def fold(node: ast.Node) -> Fraction | None:
        if isinstance(node, ast.Number):
            return node.value
        if isinstance(node, ast.BinOp) and node.op in "+-*/":
            left, right = fold(node.left), fold(node.right)
            if left is None or right is None or (node.op == "/" and right == 0):
                return None
            if node.op == "+":
                return left + right
            if node.op == "-":
                return left - right
            return left * right if node.op == "*" else left / right
        return None

    return fold(node)


def _check_entities(
    document: LoadedDocument, catalogue: Catalogue, provision: Provision, rule: Rule, where: str
) -> list[HuiqiError]:
    """Every fact a rule uses (through definitions and readings too) must exist for each ``applies_to`` type."""
    entities = [rule.applies_to] if isinstance(rule.applies_to, str) else list(rule.applies_to)
    errors: list[HuiqiError] = []
    for key in facts_used(rule, document.scope):
        fact = catalogue.get(key)
        if fact is None:
            continue
        lacking = [e for e in entities if e not in {f.value for f in fact.entity}]
        if lacking:
            owners = "、".join(ENTITY_LABELS[e.value] for e in fact.entity)
            wanted = "、".join(f"{ENTITY_LABELS[e]}（{e}）" for e in lacking)
            errors.append(
                PolicyError(
                    f"规则 {provision.id}/{rule.id} 适用于{wanted}，但它用到的事实 {key}（{fact.name}）只适用于{owners}："
                    f"这类主体的档案无法填写该事实。请在本文件的事实文件（policies/_facts/{document.id}.yaml）中用 "
                    f"extend: [{{key: {key}, entity: [{', '.join(lacking)}]}}] 扩展它，或改写规则",
                    where=where,
                )
            )
    return errors


def facts_used(rule: Rule, scope: DocumentScope) -> list[str]:
    """The catalogue facts a rule's expressions read, directly or through definitions and readings."""
    pending: list[str] = [rule.benefit.items] if rule.benefit.items else []
    for tree in _rule_trees(rule):
        pending.extend(ast.names(tree))
    return _facts_reached(pending, scope)


def facts_over_years(rule: Rule, scope: DocumentScope) -> list[str]:
    """The catalogue facts a rule can read at a year other than the assessed one: those under the first argument
    of a history function (``at``, ``max_before``, ``sum_years`` …), in the rule's own expressions or in the
    definitions and readings it reaches. Every other annual fact is read at the assessed year only (the compiled
    kernel reads only that year's history rows of them: ``huiqi.kernel.inputs.read_keyed``)."""
    found: list[str] = []
    walked: set[str] = set()
    stack: list[ast.Node] = list(_rule_trees(rule))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Call) and node.func in HISTORY_FUNCTIONS and node.args:
            found.extend(_facts_reached(ast.names(node.args[0]), scope))
        elif isinstance(node, ast.Name) and node.id not in walked:
            walked.add(node.id)  # a definition or reading may hold a history function of its own
            if node.id in scope.definitions:
                stack.append(scope.definitions[node.id])
            elif node.id in scope.reading_names:
                stack.extend(scope.reading_names[node.id][1].values())
        stack.extend(ast.children(node))
    return list(dict.fromkeys(found))


def _rule_trees(rule: Rule) -> list[ast.Node]:
    """Every expression of a rule parsed: conditions, benefit figures, tiers, steps, items, caps, instalments
    (an expression that does not parse is left out: the expression checks report it)."""
    texts = [*condition_texts(rule.conditions)]
    for instalment in rule.instalments:
        texts += condition_texts(instalment.conditions)
    benefit = rule.benefit
    texts += [
        str(v) for v in (benefit.amount, benefit.base, benefit.rate, benefit.ceiling, benefit.index) if v is not None
    ]
    for tier in benefit.tiers or []:
        texts += [str(tier.amount), *condition_texts(tier.when)]
    texts += [str(step.rate) for step in benefit.steps or []]
    texts += [str(cap.amount) for cap in rule.caps] + [str(i.share) for i in rule.instalments]
    texts += condition_texts(benefit.where)
    for item_cap in benefit.item_caps or []:
        texts += [str(item_cap.amount), *condition_texts(item_cap.when)]
    trees: list[ast.Node] = []
    for text in texts:
        try:
            trees.append(parse(text))
        except ExpressionError:
            continue  # reported by the expression checks
    return trees


def _facts_reached(names: list[str], scope: DocumentScope) -> list[str]:
    """The catalogue facts among ``names`` and those the definitions and readings among them read, in order."""
    pending = list(names)
    seen: set[str] = set()
    found: list[str] = []
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if name in scope.catalogue:
            found.append(name)
        elif name in scope.definitions:
            pending.extend(ast.names(scope.definitions[name]))
        elif name in scope.reading_names:
            for node in scope.reading_names[name][1].values():
                pending.extend(ast.names(node))
    return found


def _check_condition(
    errors: list[HuiqiError],
    document: LoadedDocument,
    condition: Condition,
    path: tuple[Any, ...],
    scope: DocumentScope | None = None,
) -> None:
    if isinstance(condition, str | bool | int):
        _check_expr(errors, document, condition, Type.BOOL, path, scope)
        return
    keys = set(condition) - {"__lines__", "label"}
    if keys == {"expr"}:
        _check_expr(errors, document, condition["expr"], Type.BOOL, (*path, "expr"), scope)
    elif keys == {"all"} or keys == {"any"}:
        (key,) = keys
        members = condition[key]
        if not isinstance(members, list) or not members:
            errors.append(PolicyError(f"{key}: 应为非空列表", where=document.where(*path)))
            return
        for index, member in enumerate(members):
            _check_condition(errors, document, member, (*path, key, index), scope)
    elif keys == {"not"}:
        _check_condition(errors, document, condition["not"], (*path, "not"), scope)
    else:
        errors.append(
            PolicyError(
                f"条件应为表达式字符串，或 {{expr, label}}、{{all: […]}}、{{any: […]}}、{{not: …}} 之一，得到键 {sorted(keys)}"
                + "".join(did_you_mean(str(k), ["expr", "label", "all", "any", "not"]) for k in sorted(keys)),
                where=document.where(*path),
            )
        )


def _check_expr(
    errors: list[HuiqiError],
    document: LoadedDocument,
    text: Any,
    wanted: Type | None,
    path: tuple[Any, ...],
    scope: DocumentScope | None = None,
) -> None:
    field = path_text(path)
    try:
        found = infer(parse(str(text).lower() if isinstance(text, bool) else str(text)), scope or document.scope)
    except ExpressionError as exc:
        errors.append(ExpressionError(f"{field}：{exc.message}（表达式：{text}）", where=document.where(*path)))
        return
    if wanted is not None and found is not wanted:
        errors.append(
            ExpressionError(
                f"{field}：表达式 {text!r} 的类型是 {found.value}，此处需要 {wanted.value}"
                + ("（金额请写单位，如 50万元）" if wanted is Type.MONEY else ""),
                where=document.where(*path),
            )
        )


def covered_mask(document: LoadedDocument) -> list[bool]:
    """For each character of the source, whether a provision or an omitted span covers it."""
    mask = [False] * len(document.source)
    spans = [p.span for p in document.policy.provisions] + [o.span for o in document.policy.omitted]
    for start, end in spans:
        for i in range(max(start, 0), min(end, len(mask))):
            mask[i] = True
    return mask


def uncovered_sentences(document: LoadedDocument) -> list[tuple[int, str]]:
    """Sentences of the source holding Chinese characters that no provision or omitted span covers."""
    mask = covered_mask(document)
    found: list[tuple[int, str]] = []
    start = 0
    source = document.source
    for match in [*_SENTENCE_END.finditer(source), None]:
        end = match.end() if match else len(source)
        piece = source[start:end]
        if any(_CJK.match(ch) and not mask[start + i] for i, ch in enumerate(piece)):
            found.append((start, piece.strip()))
        start = end
    return found


def _check_coverage(document: LoadedDocument) -> list[HuiqiError]:
    return [
        PolicyError(
            f"原文第{offset}字符起的句子未被任何条款或 omitted 覆盖：{text[:60]}",
            where=str(document.folder / "source.txt"),
        )
        for offset, text in uncovered_sentences(document)
    ]
