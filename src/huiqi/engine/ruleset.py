"""Compile a loaded document's rules into evaluators (done once per policy base)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from huiqi.expr import ast
from huiqi.expr.ast import Type
from huiqi.expr.check import LEDGER_FUNCTIONS
from huiqi.expr.parser import parse
from huiqi.facts.catalogue import Catalogue
from huiqi.policy.base import LoadedDocument, PolicyBase
from huiqi.policy.models import Benefit, Exclusion, Provision, Reading, Rule, condition_texts

from .compiler import CompileScope, Fn, compile_item_scope, compile_node
from .conditions import CompiledCondition, compile_condition
from .crossdup import Conflict, attach_conflicts
from .results import Status


@dataclass(frozen=True, slots=True)
class CompiledTier:
    """One tier: its condition and amount."""

    id: str
    label: str
    when: CompiledCondition
    amount: Fn


@dataclass(frozen=True, slots=True)
class CompiledBenefit:
    """The compiled figures of a benefit."""

    form: str
    mode: str | None
    review: bool
    amount: Fn | None = None
    base: Fn | None = None
    base_label: str = ""
    rate: Fn | None = None
    ceiling: Fn | None = None
    index: Fn | None = None
    index_label: str = ""
    tiers: tuple[CompiledTier, ...] = ()
    steps: tuple[tuple[int, int, Fn], ...] = ()
    #: a fixed/formula amount that reads names: its expression and (name, reader, type) of each name, so the
    #: explanation can show the steps with the values substituted ("新增就业人数 × 3万元 = 7 × 3万元 = 21万元")
    amount_node: ast.Node | None = None
    amount_names: tuple[tuple[str, Fn, Type | None], ...] = ()
    #: per_item: the list fact, which items count, and each item's cap (the first whose condition holds)
    items: str | None = None
    items_label: str = ""
    where: CompiledCondition | None = None
    item_caps: tuple[tuple[CompiledCondition, Fn, str], ...] = ()
    amount_label: str = ""


@dataclass(frozen=True, slots=True)
class CompiledInstalment:
    """One part of a payment schedule: its share, name, budget-year offset and what it waits on."""

    share: Fn
    label: str
    year: int = 0
    condition: CompiledCondition | None = None
    reports_submitted: bool = False

    def waits_on(self) -> list[str]:
        """What this part waits on, in words: its condition, and the reports due before it."""
        return ([self.condition.label] if self.condition is not None else []) + (
            ["到期的绩效报告均已提交"] if self.reports_submitted else []
        )


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to evaluate."""

    ref: str
    provision_ref: str
    document: LoadedDocument
    provision: Provision
    rule: Rule
    condition: CompiledCondition | None
    benefit: CompiledBenefit
    caps: tuple[tuple[str, str, Fn], ...]
    instalments: tuple[CompiledInstalment, ...]
    is_ceiling: bool
    readings: tuple[str, ...]
    catalogue: Catalogue
    money_type: Type = Type.MONEY
    #: (key, question, default, {option value: label}) of each reading the rule depends on
    reading_meta: tuple[tuple[str, str, str, dict[str, str]], ...] = ()
    applies_to: tuple[str, ...] = ()
    #: ("<document>:<reading key>", option) pairs the rule exists under
    when_reading: tuple[tuple[str, str], ...] = ()
    #: the ledger key: the rule's own reference, or the rule it shares payments with (``ledger_as``)
    ledger_ref: str = ""
    #: "<provision>/<rule>": the rule within its document (what an exclusion group names)
    key: str = ""
    #: what every result of the rule starts with, in ``RuleResult``'s order: document, provision, rule, label,
    #: quote, span, status (not eligible until decided), reason, amount, is_ceiling, is_floor, recipient, payer
    result_fields: tuple[
        str, str, str, str, str, tuple[int, int], Status, str, int | None, bool, bool, str | None, str | None
    ] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rule = self.rule
        recipient = rule.recipient or (self.applies_to[0] if self.applies_to else None)
        fields = (self.document.id, self.provision.id, rule.id, rule.label, rule.quote, rule.span, Status.NOT_ELIGIBLE,
                  "", None, self.is_ceiling, rule.benefit.is_floor, recipient, rule.payer)  # fmt: skip
        object.__setattr__(self, "result_fields", fields)


@dataclass
class CompiledDocument:
    """All compiled rules of one document, in the document's order."""

    loaded: LoadedDocument
    rules: list[CompiledRule] = field(default_factory=list)
    readings: dict[str, Reading] = field(default_factory=dict)
    exclusions: list[Exclusion] = field(default_factory=list)
    #: rule reference → awards under other documents that rule it out (``huiqi.engine.crossdup``)
    conflicts: dict[str, list[Conflict]] = field(default_factory=dict)
    #: ``<provision>/<rule>`` → the rule's ledger reference (the non-duplication choice reads what was paid)
    ledger_refs: dict[str, str] = field(default_factory=dict)
    #: the document's readings as ``<document>:<key>``, sorted: what its results depend on besides the facts
    reading_refs: tuple[str, ...] = ()


def compile_document(document: LoadedDocument, catalogue: Catalogue) -> CompiledDocument:
    """Compile every rule of a document."""
    scope = CompileScope(
        catalogue=catalogue,
        document=document.id,
        definitions=dict(document.scope.definitions),
        reading_names=dict(document.scope.reading_names),
        labels=dict(document.scope.labels),
    )
    compiled = CompiledDocument(
        loaded=document,
        readings={r.key: r for r in document.policy.readings},
        exclusions=list(document.policy.exclusions),
    )
    ceilings = bool(
        document.policy.document.budget_semantics and document.policy.document.budget_semantics.amounts_are_ceilings
    )
    for provision in document.policy.provisions:
        for rule in provision.rules:
            compiled.rules.append(_compile_rule(document, provision, rule, scope, catalogue, ceilings))
    compiled.ledger_refs = {f"{r.provision.id}/{r.rule.id}": r.ledger_ref for r in compiled.rules}
    compiled.reading_refs = tuple(sorted(f"{document.id}:{key}" for key in compiled.readings))
    return compiled


def compile_base(base: PolicyBase) -> dict[str, CompiledDocument]:
    """Compile every document of a policy base, with the conflicts between documents (不得重复享受)."""
    compiled = {
        doc_id: compile_document(doc, base.catalogue)
        for doc_id, doc in base.documents.items()
        if doc_id not in base.broken
    }
    attach_conflicts(compiled)
    return compiled


def _fn(text: str | int | None, scope: CompileScope) -> Fn | None:
    return None if text is None else compile_node(parse(str(text)), scope)


def _compile_rule(
    document: LoadedDocument,
    provision: Provision,
    rule: Rule,
    scope: CompileScope,
    catalogue: Catalogue,
    ceilings: bool,
) -> CompiledRule:
    benefit = rule.benefit
    tiers = tuple(
        CompiledTier(
            id=tier.id,
            label=tier.label or tier.id,
            when=compile_condition(tier.when, scope),
            amount=compile_node(parse(str(tier.amount)), scope),
        )
        for tier in benefit.tiers or []
    )
    steps = tuple(
        (step.years[0], step.years[1], compile_node(parse(str(step.rate)), scope)) for step in benefit.steps or []
    )
    per_item: dict[str, Any] = {}
    amount_scope = scope
    if benefit.form == "per_item" and benefit.items:
        fact = catalogue[benefit.items]
        amount_scope = compile_item_scope(scope, fact)
        per_item = {
            "items": fact.key,
            "items_label": fact.name,
            "where": None if benefit.where is None else compile_condition(benefit.where, amount_scope),
            "item_caps": tuple(
                (
                    compile_condition(c.when, amount_scope),
                    compile_node(parse(str(c.amount)), amount_scope),
                    str(c.amount),
                )
                for c in benefit.item_caps or []
            ),
        }
    compiled_benefit = CompiledBenefit(
        form=benefit.form,
        mode=benefit.mode,
        # form none without an explicit `review` means "officials decide the amount"; `review: false` on
        # form none marks a pure eligibility rule (e.g. 创建条件: eligible to apply, no money attached).
        review=benefit.review if "review" in benefit.model_fields_set else benefit.form == "none",
        amount=_fn(benefit.amount, amount_scope),
        base=_fn(benefit.base, scope),
        base_label=_label(benefit.base, scope),
        rate=_fn(benefit.rate, scope),
        ceiling=_fn(benefit.ceiling, scope),
        index=_fn(benefit.index, scope),
        index_label=_label(benefit.index, scope),
        tiers=tiers,
        steps=steps,
        **_amount_steps(benefit.amount if benefit.form in ("fixed", "formula", "per_item") else None, amount_scope),
        **per_item,
    )
    caps = tuple((cap.scope, cap.over, compile_node(parse(str(cap.amount)), scope)) for cap in rule.caps)
    instalments = tuple(
        CompiledInstalment(
            share=compile_node(parse(str(i.share)), scope),
            label=i.label,
            year=i.year,
            condition=None if i.conditions is None else compile_condition(i.conditions, scope),
            reports_submitted=i.reports_submitted,
        )
        for i in rule.instalments
    )
    ref = f"{document.id}:{provision.id}/{rule.id}"
    readings = tuple(sorted(set(rule.when_reading) | _readings_used(rule, scope)))
    by_key = {r.key: r for r in document.policy.readings}
    reading_meta = tuple(
        (key, by_key[key].question, by_key[key].default, {o.value: o.label for o in by_key[key].options})
        for key in readings
    )
    return CompiledRule(
        ref=ref,
        provision_ref=f"{document.id}:{provision.id}",
        document=document,
        provision=provision,
        rule=rule,
        condition=None if rule.conditions is None else compile_condition(rule.conditions, scope),
        benefit=compiled_benefit,
        caps=caps,
        instalments=instalments,
        is_ceiling=amount_is_ceiling(benefit, review=compiled_benefit.review, document_ceilings=ceilings),
        readings=readings,
        catalogue=catalogue,
        reading_meta=reading_meta,
        ledger_ref=f"{document.id}:{rule.ledger_as}" if rule.ledger_as else ref,
        when_reading=tuple((f"{document.id}:{k}", v) for k, v in rule.when_reading.items()),
        applies_to=(rule.applies_to,) if isinstance(rule.applies_to, str) else tuple(rule.applies_to),
        key=f"{provision.id}/{rule.id}",
    )


def _amount_steps(text: str | int | None, scope: CompileScope) -> dict[str, Any]:
    if text is None:
        return {}
    node = parse(str(text))
    names = [name for name in dict.fromkeys(ast.names(node)) if name not in ("period", "as_of")]
    calls = [c for c in _zero_arg_calls(node) if c.func in LEDGER_FUNCTIONS]
    if not names and not calls:
        return {}
    readers = tuple((name, scope.compile_name(name), scope.type_of(name)) for name in names) + tuple(
        (f"{c.func}()", compile_node(c, scope), Type.MONEY) for c in calls
    )
    return {"amount_node": node, "amount_names": readers, "amount_label": _label(str(text), scope)}


def _zero_arg_calls(node: ast.Node) -> list[ast.Call]:
    """The calls without arguments in an expression (the ledger values ``paid_in_year()`` …)."""
    found: list[ast.Call] = []

    def walk(n: Any) -> None:
        if isinstance(n, ast.Call) and not n.args:
            found.append(n)
        for value in getattr(n, "__dataclass_fields__", {}):
            child = getattr(n, value)
            for item in child if isinstance(child, tuple) else (child,):
                if isinstance(item, ast.Node):
                    walk(item)

    walk(node)
    return found


def amount_is_ceiling(benefit: Benefit, *, review: bool, document_ceilings: bool) -> bool:
    """Whether the amount a rule gives is only an upper bound (最高可达), not money the text fixes (确定金额).

    The one definition every output follows (docs/evaluation.md "Certain amounts and ceilings"):

    - the figure itself is a bound — "给予最高100万元", "按投入最高50%" (``is_ceiling: true``);
    - the document says all its amounts are bounds — "奖补比例和限额均为上限" (``budget_semantics``);
    - officials fix the amount (``review``): any figure shown is the most they may give.

    A rate with a cap — "按注册资本的5%，给予最高100万元" (``form: rate`` with ``ceiling``) — is *certain*:
    the rate fixes the amount and the cap only bounds it, also when the cap binds.
    """
    return benefit.is_ceiling or review or document_ceilings


def _label(text: str | None, scope: CompileScope) -> str:
    if text is None:
        return ""
    from huiqi.expr.render import render

    return render(parse(text), scope.label)


def _readings_used(rule: Rule, scope: CompileScope) -> set[str]:
    texts: list[str] = []
    benefit = rule.benefit
    for value in (benefit.amount, benefit.base, benefit.rate, benefit.ceiling, benefit.index):
        if value is not None:
            texts.append(str(value))
    for tier in benefit.tiers or []:
        texts.append(str(tier.amount))
        texts.extend(condition_texts(tier.when))
    if rule.conditions is not None:
        texts.extend(condition_texts(rule.conditions))
    seen: set[str] = set()
    found: set[str] = set()
    pending = [name for text in texts for name in ast.names(parse(text))]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in scope.reading_names:
            key, options = scope.reading_names[name]
            found.add(key)
            for node in options.values():
                pending.extend(ast.names(node))
        elif name in scope.definitions:
            pending.extend(ast.names(scope.definitions[name]))
    return found


def format_rate(rate: Fraction) -> str:
    """A rate as the text writes it: 5%, 2‰, or a fraction.

    >>> format_rate(Fraction(1, 500))
    '2‰'
    >>> format_rate(Fraction(9, 10))
    '90%'
    """
    percent = rate * 100
    if percent.denominator == 1:
        return f"{percent.numerator}%"
    permille = rate * 1000
    if permille.denominator == 1:
        return f"{permille.numerator}‰"
    return f"{rate.numerator}/{rate.denominator}"
