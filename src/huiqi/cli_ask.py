"""``huiqi ask``: the policy calculator in a terminal — one question at a time, only what decides.

Registered on the main ``huiqi`` app by ``register_ask`` (the last lines of ``huiqi/cli.py``). The logic is
``huiqi.engine.questions`` (the same as the web calculator and ``POST /api/v1/questions``); this module only
reads answers from the keyboard and prints.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from huiqi import beijing
from huiqi.errors import HuiqiError
from huiqi.terminal import output_console, write_json

if TYPE_CHECKING:
    from huiqi.engine.questions import Question, Step

# The engine is imported inside the command: `huiqi --help` never loads it.

console = output_console(soft_wrap=True, highlight=False)  # the results table is as wide as evaluate's
err = Console(stderr=True, soft_wrap=True, highlight=False)

BACK = frozenset({"返回", "上一题", "b", "back"})
QUIT = frozenset({"结束", "退出", "q", "quit"})


def _fail(exc: HuiqiError) -> None:
    where = f"{exc.where}: " if exc.where else ""
    err.print(f"[bold red]错误[/]：{where}{exc.message}")
    raise typer.Exit(2)


def hint(question: Question) -> str:
    """What the answer should look like, in Chinese."""
    kind = question.kind
    if kind == "money":
        return "金额带单位，如 1200万元、1.35亿元、300元"
    if kind == "bool":
        return "是 / 否"
    if kind == "date":
        return "日期 YYYY-MM-DD，如 2022-03-15"
    if kind == "number":
        return f"数值{f'（{question.fact.unit}）' if question.fact.unit else ''}"
    if kind == "choice":
        return "选一项：" + "  ".join(f"{i}) {c}" for i, c in enumerate(question.choices, 1))
    if kind == "choices":
        return "可多选，用、分隔（或填编号 1、3）；都没有填 无：" + "  ".join(
            f"{i}) {c}" for i, c in enumerate(question.choices, 1)
        )
    return "文字"


def read_choice(question: Question, text: str) -> Any:
    """Numbers typed for choices become the choices' values (``2`` → ``省级``); other text stays as typed."""
    if question.kind not in ("choice", "choices") or not question.choices:
        return text
    parts = [p.strip() for p in text.replace("，", "、").replace(",", "、").split("、") if p.strip()]
    picked = [
        question.choices[int(p) - 1] if p.isdigit() and 1 <= int(p) <= len(question.choices) else p for p in parts
    ]
    return picked[0] if question.kind == "choice" and len(picked) == 1 else "、".join(picked)


def _show_question(number: int, question: Question) -> None:
    console.rule(f"[bold]问题 {number}")
    console.print(f"[bold]{question.label}[/]  [dim]{question.fact.definition}[/]")
    console.print(f"[cyan]为什么问：{question.why}[/]")
    console.print(f"[dim]回答：{hint(question)}；不知道请填 不清楚；返回 上一题；结束 看结果[/]")


def register_ask(app: typer.Typer) -> None:
    """Add ``huiqi ask`` to the main app."""

    @app.command()
    def ask(
        entity: Annotated[
            str, typer.Option("--entity", "-e", help="主体类型：enterprise、talent、park_operator 等")
        ] = ("enterprise"),
        region: Annotated[
            str | None, typer.Option("--region", help="所在地区，用空格或·分隔，如 “江苏省 苏州市”（不给则询问）")
        ] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="评价日 YYYY-MM-DD（默认今天）")] = None,
        document: Annotated[list[str], typer.Option("--document", "-d", help="只按这些文件提问（可重复）")] = [],  # noqa: B006
        include_drafts: Annotated[
            bool, typer.Option("--include-drafts/--no-drafts", help="包括征求意见稿（默认包括，结果注明仅供参考）")
        ] = True,
        include_expired: Annotated[bool, typer.Option("--include-expired", help="包括已失效或未生效的文件")] = False,
        any_jurisdiction: Annotated[
            bool, typer.Option("--any-jurisdiction", help="忽略属地（比较各地政策时用）")
        ] = False,
        save: Annotated[
            Path | None, typer.Option("--save", help="把回答存为主体档案（YAML），可再用 huiqi evaluate 评估")
        ] = None,
        format: Annotated[str, typer.Option("--format", "-f", help="结束时的输出：table 或 json")] = "table",
        policies: Annotated[Path | None, typer.Option("--policies", help="政策库目录")] = None,
    ) -> None:
        """政策计算器（交互）：逐个回答最能决定结果的问题，直到任何回答都不会再改变结果。

        每个问题说明它决定哪些条款；不知道的填“不清楚”（该条保持“需补充信息”，绝不按0计）；
        输入“返回”改上一题，“结束”随时查看结果。

        例：huiqi ask --region "江苏省 苏州市" --as-of 2024-06-30 --save 我的档案.yaml
        """
        import yaml

        from huiqi.engine.evaluate import Engine, Options
        from huiqi.engine.questions import Questionnaire, profile_json
        from huiqi.errors import ProfileError
        from huiqi.locations import default_policies_dir
        from huiqi.policy.base import PolicyBase
        from huiqi.present import evaluation_table
        from huiqi.regions import canonical_region

        if format not in ("table", "json"):
            raise typer.BadParameter(f"输出格式应为 table 或 json，得到 {format!r}", param_hint="--format")
        try:
            day = dt.date.fromisoformat(as_of) if as_of else beijing.today()
        except ValueError:
            raise typer.BadParameter(f"日期格式应为 YYYY-MM-DD，如 2024-06-30，得到 {as_of!r}") from None
        try:
            base = PolicyBase.load(policies or default_policies_dir())
            calculator = Questionnaire(Engine(base))
            options = Options(as_of=day, documents=tuple(document), include_drafts=include_drafts,
                              include_expired=include_expired, any_jurisdiction=any_jurisdiction)  # fmt: skip
            calculator.step(entity, (), {}, options)  # checks the entity type and documents before any question
        except HuiqiError as exc:
            _fail(exc)
            return
        if region is None:
            region = _prompt("所在地区（如 江苏省 苏州市；不清楚直接回车）").strip()
        places = tuple(p for p in region.replace("·", " ").replace("，", " ").replace(",", " ").split() if p)
        try:  # official names (江苏 → 江苏省); a typo is said now, not answered with 无适用规则
            places = canonical_region(places, where="--region", error=ProfileError)
        except HuiqiError as exc:
            _fail(exc)
            return
        answers: dict[str, Any] = {}
        order: list[str] = []
        step: Step | None = None
        while True:
            step = calculator.step(entity, places, answers, options)
            if step.question is None:
                console.print(f"[green]✔ 已无可改变结果的问题[/]（共回答 {len(answers)} 个问题）")
                break
            question = step.question
            _show_question(len(order) + 1, question)
            text = _prompt("回答").strip()
            if text in QUIT:
                console.print(f"[yellow]提前结束：还有 {len(step.open)} 个问题可能改变结果[/]")
                break
            if text in BACK:
                if order:
                    answers.pop(order.pop())
                continue
            if not text:
                console.print("[yellow]请填写回答，或填 不清楚[/]")
                continue
            value = read_choice(question, text)
            try:
                calculator.parse_answers(entity, {question.key: value})
            except HuiqiError as exc:
                console.print(f"[red]✘ {exc.message}[/]，请重新填写")
                continue
            answers[question.key] = value
            order.append(question.key)
        assert step is not None
        if save is not None:
            profile = profile_json(step.profile, base.catalogue)
            try:
                save.write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False), encoding="utf-8")
            except OSError as exc:  # a folder of that name, no permission, a missing folder
                reason = {IsADirectoryError: "这是一个目录", PermissionError: "没有写入权限",
                          FileNotFoundError: "所在目录不存在"}.get(type(exc), exc.strerror or str(exc))  # fmt: skip
                message = f"无法保存档案（{reason}）：请给出一个可写的文件名，如 我的档案.yaml"
                _fail(ProfileError(message, where=str(save)))
                return
            console.print(f"[green]✔ 回答已存为档案 {save}[/]（huiqi evaluate {save} 可再次评估）")
        if format == "json":
            write_json(step.to_json())
        else:
            console.print(evaluation_table(step.evaluation, explain=False))


def _prompt(label: str) -> str:
    console.print(f"{label}：", end="")
    line = sys.stdin.readline()
    if not line:  # end of input: stop asking
        return "结束"
    return line.rstrip("\n")
