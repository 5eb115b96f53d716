"""``huiqi extract``: a draft policy folder from a new policy text, and the extractor's score on a gold set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from huiqi.errors import HuiqiError
from huiqi.terminal import output_console

console = output_console(soft_wrap=False)
err = Console(stderr=True, soft_wrap=True)


def register_extract(app: typer.Typer) -> None:
    register_publish(app)

    @app.command()
    def extract(
        file: Annotated[
            Path | None, typer.Argument(help="政策文本：.txt（UTF-8 或 GBK）、.docx 或带文字层的 PDF")
        ] = None,
        out: Annotated[
            Path, typer.Option("--out", "-o", help="草稿写入的目录（默认 drafts/；其中 _facts/ 为事实目录）")
        ] = Path("drafts"),
        doc_id: Annotated[
            str | None, typer.Option("--id", help="文件编号（小写字母、数字、短横线；默认取自文件名）")
        ] = None,
        score: Annotated[
            Path | None, typer.Option("--score", help="对金标准目录评分（每个子目录一份 gold.yaml 与 source.txt）")
        ] = None,
        policies: Annotated[
            Path | None, typer.Option("--policies", help="政策库目录（事实目录取自其 _facts/）")
        ] = None,
    ) -> None:
        """从政策原文生成待审核的政策草稿目录（条款、引文与位置、数值、草稿规则、所需事实、门槛案例）；
        --score 对金标准评分。

        例：huiqi extract examples/texts/沂水县技术改造扶持.txt --out drafts    （然后 huiqi validate --policies drafts）
        """
        from huiqi.locations import default_policies_dir

        if score is not None:
            from huiqi.extract.score import print_report, score_gold

            try:
                report = score_gold(score)
            except HuiqiError as exc:
                err.print(f"[red]✘[/] {exc.message}", highlight=False)
                raise typer.Exit(1) from None
            print_report(report, console)
            return
        if file is None:
            err.print("[red]✘[/] 请给出政策文件（或用 --score 金标准目录 评分）", highlight=False)
            raise typer.Exit(2)
        from huiqi.extract.core import extract as run_extract
        from huiqi.extract.draft import document_id, write_draft
        from huiqi.extract.reading import read_policy_file

        try:
            received = read_policy_file(file)
            identifier = doc_id or document_id(file, received.text)
            extraction = run_extract(received, doc_id=identifier)
            folder = write_draft(extraction, out, identifier, policies=policies or default_policies_dir())
        except HuiqiError as exc:
            where = f"{exc.where}: " if exc.where else ""
            err.print(f"[red]✘[/] {where}{exc.message}", highlight=False)
            raise typer.Exit(1) from None
        rules = sum(len(p.rules) for p in extraction.provisions)
        review = sum(1 for p in extraction.provisions if p.review)
        kind = {
            "policy": "政策",
            "reply": "建议答复（不是政策）",
            "notice": "通知（不是政策）",
            "news": "新闻（不是政策）",
        }
        console.print(
            f"[green]✔[/] {folder}：{kind[extraction.document_kind]}《{extraction.meta['title']}》", highlight=False
        )
        console.print(
            f"  {len(extraction.provisions)} 个条款、{rules} 条草稿规则、{len(extraction.facts)} 项新提出的事实；"
            f"{review} 个条款有待核对的数值（见 extraction.yaml）",
            highlight=False,
        )
        if extraction.received.steps:
            console.print("  规范化：" + "、".join(str(s["step"]) for s in extraction.received.steps), highlight=False)
        if extraction.document_kind != "policy":
            console.print(f"  {extraction.type_why}", highlight=False)
        console.print(
            f"  下一步：审核 {folder}/policy.yaml，然后 huiqi validate --policies {out} 与 huiqi cases --policies {out}"
        )


def register_publish(app: typer.Typer) -> None:
    @app.command()
    def publish(
        draft: Annotated[Path, typer.Argument(help="审核完毕的草稿目录（huiqi extract 写出的 <目录>/<文件编号>）")],
        reviewer: Annotated[str | None, typer.Option("--reviewer", help="审核人（必填）")] = None,
        approver: Annotated[str | None, typer.Option("--approver", help="批准人（必填，不同于审核人）")] = None,
        version_of: Annotated[
            str | None,
            typer.Option(
                "--version-of", help="作为政策库中已有文件的新版本发布（给出该文件编号，见 huiqi policies list）"
            ),
        ] = None,
        version_name: Annotated[
            str | None, typer.Option("--version-name", help="新版本名（默认：施行年份加“年修订”，如 2026年修订）")
        ] = None,
        effective_from: Annotated[
            str | None,
            typer.Option("--effective-from", help="新版本的施行日期 YYYY-MM-DD（默认：草稿 document.effective_from）"),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="与 --version-of 同用：只做全部检查并列出改动，不改动政策库")
        ] = False,
        policies: Annotated[
            Path | None, typer.Option("--policies", help="政策库目录（默认：项目的 policies/）")
        ] = None,
    ) -> None:
        """把审核完毕的草稿发布到政策库：须通过检查、案例全部通过、没有未审核的草稿标记；记录审核人与批准人。
        用法：huiqi publish 草稿目录 --reviewer 审核人 --approver 批准人（两人须不同；步骤见 docs/extract.md）；
        加 --version-of 文件编号 则作为该文件的新版本发布（旧版本移入 versions/，列出改动）。"""
        import datetime as dt

        from huiqi.extract.publish import publish as run_publish
        from huiqi.extract.publish import publish_version
        from huiqi.locations import default_policies_dir

        root = policies or default_policies_dir()
        if version_of is None and (version_name or effective_from or dry_run):
            err.print(
                "[red]✘[/] --version-name、--effective-from 与 --dry-run 只用于 --version-of（发布为新版本）",
                highlight=False,
            )
            raise typer.Exit(2)
        try:
            start = dt.date.fromisoformat(effective_from) if effective_from else None
        except ValueError:
            err.print(f"[red]✘[/] --effective-from 应为日期 YYYY-MM-DD，得到 {effective_from!r}", highlight=False)
            raise typer.Exit(2) from None
        try:
            if version_of is None:
                target = run_publish(draft, root, reviewer=reviewer or "", approver=approver or "")
            else:
                done = publish_version(draft, root, version_of, reviewer=reviewer or "", approver=approver or "",
                                       version_name=version_name, effective_from=start, dry_run=dry_run)  # fmt: skip
        except HuiqiError as exc:
            err.print(f"[red]✘[/] {exc.message}", highlight=False)
            raise typer.Exit(1) from None
        if version_of is None:
            console.print(
                f"[green]✔[/] 已发布到 {target}（审核：{reviewer}，批准：{approver}；记录见 PUBLISHED.yaml）",
                highlight=False,
            )
            return
        if done.dry_run:
            console.print(
                f"[green]✔[/] 检查通过（试运行，政策库未改动）：可发布为 {done.document} 的新版本 {done.new}"
                f"（自 {done.new_start} 施行；原版本 {done.old} 施行至 {done.old_end}）；{done.cases_run} 个案例通过",
                highlight=False,
            )
        else:
            console.print(
                f"[green]✔[/] 已发布为 {done.document} 的新版本 {done.new}（自 {done.new_start} 施行；审核：{reviewer}，"
                f"批准：{approver}；记录见 {done.folder}/PUBLISHED.yaml）",
                highlight=False,
            )
            console.print(
                f"  原版本 {done.old} 移入 {done.folder}/versions/{done.old}/（施行至 {done.old_end}）；"
                f"{done.cases_run} 个案例通过"
                + (f"（其中 {done.redated} 个草稿案例的评价日改为 {done.new_start}）" if done.redated else ""),
                highlight=False,
            )
        console.print(f"{done.document}：{done.old} → {done.new}，{len(done.changes)} 处改动", highlight=False)
        for change in done.changes:
            console.print(f"  [{change.kind}] {change.where}：{change.text}", highlight=False, markup=False)


def print_generated_cases(document: str, policies: Path | None) -> None:
    """``huiqi cases --generate DOC``: threshold cases of an existing policy, as YAML on standard output."""
    import sys

    from huiqi.engine.evaluate import Engine
    from huiqi.extract.draft import dump
    from huiqi.extract.gencases import generate_for_document
    from huiqi.policy.base import PolicyBase

    try:
        base = PolicyBase.load(policies, strict=False)
        cases = generate_for_document(Engine(base), document)
    except HuiqiError as exc:
        err.print(f"[red]✘[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    sys.stdout.write(
        f"# huiqi cases --generate {document}：按规则的数值门槛生成的案例（恰好达到、差一点未达）。\n"
        "# 预期取自当前的计算结果：请逐条对照原文确认或改正后，存为 cases/ 下的 .yaml 文件。\n"
    )
    sys.stdout.write(dump({"cases": cases}))
    err.print(f"{len(cases)} 个案例", highlight=False)
