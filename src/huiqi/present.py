"""Rich renderings of evaluations, policies and facts for the terminal (zh-CN)."""

from __future__ import annotations

import datetime as dt

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from huiqi import beijing
from huiqi.engine.results import STATUS_LABELS, DocumentResult, Evaluation, RuleResult, Status, Totals, Trace
from huiqi.facts.catalogue import ENTITY_LABELS, Catalogue, Fact
from huiqi.policy.base import PolicyBase
from huiqi.policy.models import KIND_LABELS
from huiqi.policy.procedure import Procedure
from huiqi.policy.procedure import describe as describe_procedure
from huiqi.policy.status import document_status, status_reason

_STYLE = {
    Status.ELIGIBLE: "bold green",
    Status.NEEDS_REVIEW: "yellow",
    Status.NEEDS_INFORMATION: "cyan",
    Status.EXCLUDED: "magenta",
    Status.NOT_ELIGIBLE: "red",
    Status.NOT_APPLICABLE: "dim",
}


def amount_text(result: RuleResult) -> str:
    """The amount as a clerk reads it: "最高100万元" for a ceiling, "不低于…" for a floor (one definition:
    ``RuleResult.amount_kind``)."""
    return result.amount_text


def evaluation_table(evaluation: Evaluation, *, show_all: bool = False, explain: bool = False) -> Group:
    """One table per document: each rule's status, amount and reason; totals at the end."""
    parts: list[RenderableType] = []
    entity = evaluation.entity
    head = f"主体：{entity.get('name') or '（未命名）'}（{ENTITY_LABELS.get(entity['entity_type'], entity['entity_type'])}）"
    if entity.get("region"):
        head += f" · 地区：{'·'.join(entity['region'])}"
    head += f" · 评价日：{evaluation.as_of.isoformat()} · 评价年度：{evaluation.period}"
    parts.append(Text(head, style="bold"))
    quiet: list[str] = []
    shown_documents: list[DocumentResult] = []
    for document in evaluation.documents:
        table = Table(title=document.title, title_justify="left", show_lines=False, expand=True)
        table.add_column("条款", no_wrap=True)
        table.add_column("规则", overflow="fold")  # wrapped, never cut (Chinese has no spaces to wrap at)
        table.add_column("结果", no_wrap=True)
        table.add_column("金额", justify="right", no_wrap=True)
        table.add_column("说明", overflow="fold")
        shown = 0
        for provision in document.provisions:
            for rule in provision.rules:
                if not show_all and rule.status is Status.NOT_APPLICABLE:
                    continue
                shown += 1
                reason = rule.reason
                if rule.suggestion:
                    reason += f"\n→ {rule.suggestion.text}"
                if rule.readings:
                    reason += "\n口径：" + "；".join(f"{r['label']}" for r in rule.readings)
                table.add_row(
                    provision.provision,
                    rule.label,
                    Text(STATUS_LABELS[rule.status], style=_STYLE[rule.status]),
                    amount_text(rule),
                    reason,
                )
        if not shown:
            quiet.append(document.title)
            continue
        if document.flags:
            parts.append(Text("；".join(document.flags), style="yellow"))
        parts.append(table)
        shown_documents.append(document)
        parts.extend(_totals_text(document.totals))
        if explain:
            for provision in document.provisions:
                for rule in provision.rules:
                    if rule.status is not Status.NOT_APPLICABLE:
                        parts.append(rule_explanation(rule))
    if len(shown_documents) > 1:
        parts.append(Text(f"以上{len(shown_documents)}个文件共计：", style="bold"))
        parts.extend(_totals_text(sum((d.totals for d in shown_documents), Totals())))
    if quiet:
        parts.append(Text("无适用规则（主体类型或属地不符）：" + "；".join(quiet), style="dim"))
    for skip in evaluation.skipped:
        parts.append(Text(f"未评估 {skip['document']}：{skip['reason']}", style="dim"))
    return Group(*parts)


def _totals_text(totals: Totals) -> list[Text]:
    """Certain money and ceilings on lines of their own, never one sum."""
    styles = {"确定金额": "bold green", "最高可达": "bold yellow", "待审核定": "yellow", "符合资格": "green"}
    return [Text(line, style=styles.get(line[:4], "")) for line in totals.lines()]


def rule_explanation(result: RuleResult) -> Panel:
    """A panel with the quote, the condition tree, the calculation and the readings of one rule."""
    tree = Tree(
        Text(
            f"{result.ref} {result.label} — {STATUS_LABELS[result.status]} {amount_text(result)}",
            style=_STYLE[result.status],
        )
    )
    tree.add(Text(f"原文：{result.quote}", style="italic"))
    for trace in result.trace:
        _add_trace(tree, trace)
    for line in result.calculation:
        tree.add(f"计算：{line}")
    for reading in result.readings:
        tree.add(f"口径（{reading['key']}={reading['value']}）：{reading['label']}")
    for missing in result.missing:
        tree.add(Text(f"缺少：{missing.label()}", style="cyan"))
    if result.suggestion:
        tree.add(Text(f"建议：{result.suggestion.text}", style="green"))
    for key in result.defaults_used:
        tree.add(Text(f"默认值：{key} 未填写，按事实目录的默认值处理", style="yellow"))
    for part in result.instalments:
        waits = f"，须满足：{part['conditions']}" if part.get("conditions") else ""
        tree.add(f"分期：{part.get('year', '')}年度 {part['label']} {part['share']} {part['amount']}元{waits}")
    return Panel(tree, expand=True)


def _add_trace(parent: Tree, trace: Trace) -> None:
    mark = {True: "✔", False: "✘", None: "?"}[trace.result]
    style = {True: "green", False: "red", None: "cyan"}[trace.result]
    label = f"{mark} {trace.label}"
    if trace.kind == "any" and trace.result is False:
        label += "（均不满足）"
    if trace.inputs:
        label += "（" + "，".join(f"{i['label']}={i['value']}" for i in trace.input_rows()) + "）"
    node = parent.add(Text(label, style=style))
    for child in trace.children:
        _add_trace(node, child)


def policies_table(base: PolicyBase, on: dt.date | None = None) -> Table:
    """Every document with its status on ``on`` (today by default; ``huiqi.policy.status``, as the engine and
    the web pages compute it)."""
    on = on or beijing.today()
    table = Table(title=f"政策库（状态按 {on.isoformat()}）", expand=True)
    _columns(table, ("编号", "标题", "文号", "发文单位", "状态", "条款", "规则"), short={"条款", "规则"})
    for document in base.documents.values():
        meta = document.policy.document
        rules = sum(len(p.rules) for p in document.policy.provisions)
        status = document_status(meta, on).value
        reason = status_reason(meta, on)
        shown = status if reason.startswith(status) else f"{status}（{reason}）"
        table.add_row(meta.id, meta.title, meta.doc_number or "—", "、".join(meta.issuers), shown,
                      str(len(document.policy.provisions)), str(rules))  # fmt: skip
    return table


def provisions_table(base: PolicyBase, document_id: str) -> Table:
    document = base.document(document_id)
    table = Table(title=document.policy.document.title, expand=True, show_lines=True)
    _columns(table, ("条款", "类型", "牵头单位", "规则", "原文"), short={"条款", "类型"})
    for provision in document.policy.provisions:
        rules = "\n".join(f"{r.id}：{r.label}" for r in provision.rules) or "—"
        table.add_row(
            provision.id, KIND_LABELS[provision.kind.value], provision.lead_unit or "—", rules, provision.quote
        )
    return table


def procedure_table(procedure: Procedure) -> Table:
    """A document's stated procedure (``procedures:``): each item with the text it comes from."""
    table = Table(title=f"申报程序：{procedure.label}（适用条款 {'、'.join(procedure.provisions)}）", expand=True,
                  show_lines=True)  # fmt: skip
    _columns(table, ("项目", "规定", "原文"), short={"项目"})
    for heading, words, cited in describe_procedure(procedure):
        source = "" if cited is None else (f"条款 {cited.provision}：" if cited.provision else "") + f"“{cited.quote}”"
        table.add_row(heading, words, source)
    if procedure.note:
        table.caption = procedure.note
    return table


def facts_table(catalogue: Catalogue) -> Table:
    table = Table(title=f"事实目录（{len(catalogue)} 项）", expand=True)
    _columns(table, ("键", "中文名", "类型", "单位", "期间", "主体", "定义"), short={"类型", "单位", "期间"})
    for fact in catalogue:
        table.add_row(fact.key, fact.name, fact.type_name or fact.type.value, fact.unit or "—", fact.period.value,
                      "、".join(ENTITY_LABELS[e.value] for e in fact.entity), fact.definition)  # fmt: skip
    return table


def _columns(table: Table, names: tuple[str, ...], *, short: set[str]) -> None:
    """Columns whose text wraps (folded where there is no space, as in Chinese or a long fact key) and is
    never cut with "…"; the ``short`` codes (a type, a unit, a count) stay on one line."""
    for name in names:
        table.add_column(name, no_wrap=name in short, overflow="fold")


def print_to(console: Console, renderable: object) -> None:
    console.print(renderable)


def facts_markdown(facts: list[Fact]) -> str:
    """The fact catalogue as the Markdown page ``docs/facts.md`` (regenerated, never edited by hand)."""
    lines = [
        "# The fact catalogue (事实目录)",
        "",
        "Generated by `huiqi facts --format markdown > docs/facts.md`; a test fails when it is out of date.",
        "Money is entered with its unit (元/万元/亿元) and stored as integer fen. `annual` facts are",
        "`{year: value}` maps.",
        "",
        "| key | 中文名 | type | unit | period | entity | definition | file |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for fact in facts:
        entities = "、".join(ENTITY_LABELS[e.value] for e in fact.entity)
        definition = fact.definition.replace("|", "\\|").replace("\n", " ")
        if fact.values:
            definition += "（取值：" + "、".join(fact.values) + "）"
        if fact.default is not None:
            definition += f"（未填写时默认：{fact.default}）"
        lines.append(
            f"| `{fact.key}` | {fact.name} | {fact.type_name or fact.type.value} | {fact.unit or ''} | {fact.period.value} "
            f"| {entities} | {definition} | {'、'.join([fact.source_file, *fact.extended_in])} |"
        )
    return "\n".join(lines) + "\n"
