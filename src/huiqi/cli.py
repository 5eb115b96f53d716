"""The ``huiqi`` command line: a thin layer over the library.

Examples::

    huiqi demo
    huiqi evaluate examples/profiles/suzhou-software-firm.yaml --as-of 2024-06-30 --include-drafts
    huiqi evaluate examples/profiles/suzhou-software-firm.yaml --format json --as-of 2024-06-30 -d suzhou-software-cluster
    huiqi evaluate examples/profiles/suzhou-software-firm.yaml --reading capital_base=registered --explain

Dates: ``evaluate`` judges a profile as of today unless ``--as-of`` says otherwise (the period is the year
before); the example profiles hold data up to 2023, so every example passes ``--as-of 2024-06-30``, which is
also ``demo``'s default (``EXAMPLES_AS_OF``). The output says which date and period were used, and when a
profile's yearly data stop before the period.
    huiqi policies list
    huiqi policies show guangzhou-software
    huiqi facts --format json
    huiqi validate
    huiqi cases
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from huiqi import beijing
from huiqi.cli_zh import ChineseGroup
from huiqi.errors import HuiqiError, PolicyError
from huiqi.locations import default_examples_dir, default_policies_dir
from huiqi.terminal import output_console, write_json

if TYPE_CHECKING:
    from huiqi.facts.catalogue import Catalogue
    from huiqi.policy.base import PolicyBase

app = typer.Typer(
    help="惠企 huiqi — 产业扶持政策的可执行规则、计算与解释。",
    cls=ChineseGroup,  # the framework's own words (Usage, Options, errors) in Chinese, for every command
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policies_app = typer.Typer(help="查看政策库：文件与条款。", no_args_is_help=True)
app.add_typer(policies_app, name="policies")
population_app = typer.Typer(help="人口（主体登记库）数据：生成样例登记库。", no_args_is_help=True)
app.add_typer(population_app, name="population")

# A terminal gives its width, as does $COLUMNS; piped output without either is laid out 160 wide.
console = output_console(soft_wrap=False)
err = Console(stderr=True, soft_wrap=True)


#: The example profiles hold yearly data up to 2023: the date the demo and every example evaluate them on.
EXAMPLES_AS_OF = "2024-06-30"


class Format(StrEnum):
    table = "table"
    json = "json"


class FactsFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


PoliciesOption = Annotated[
    Path | None, typer.Option("--policies", help="政策库目录（默认：项目的 policies/ 或 $HUIQI_POLICIES）")
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="输出格式：table 或 json")]


def _fail(exc: HuiqiError) -> None:
    where = f"{exc.where}: " if exc.where else ""
    err.print(f"[bold red]错误[/]：{where}{exc.message}", markup=True, highlight=False)
    raise typer.Exit(2)


def _catalogue(policies: Path | None) -> Catalogue:
    """The fact catalogue of the policy base; a folder without ``_facts/`` is an error, not an empty list."""
    from huiqi.errors import PolicyError
    from huiqi.facts.catalogue import Catalogue

    folder = (policies or default_policies_dir()) / "_facts"
    if not folder.is_dir():
        raise PolicyError(f"找不到事实目录 {folder}：--policies 应为政策库目录（含 _facts/ 和各文件目录）")
    return Catalogue.load(folder)


def _base(policies: Path | None, *, strict: bool = True) -> PolicyBase:
    from huiqi.policy.base import PolicyBase

    return PolicyBase.load(policies or default_policies_dir(), strict=strict)


def _emit_json(data: Any) -> None:
    write_json(data)


def _parse_readings(values: list[str]) -> dict[str, str]:
    readings = {}
    for item in values:
        if "=" not in item:
            raise typer.BadParameter(f"口径应写成 NAME=VALUE，如 capital_base=registered，得到 {item!r}")
        key, value = item.split("=", 1)
        readings[key.strip()] = value.strip()
    return readings


def _parse_date(text: str | None) -> dt.date:
    if text is None:
        return beijing.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"日期格式应为 YYYY-MM-DD，如 2024-06-30，得到 {text!r}") from None


@app.command()
def evaluate(
    profile: Annotated[Path, typer.Argument(help="主体档案（YAML 或 JSON）")],
    format: FormatOption = Format.table,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="评价日 YYYY-MM-DD（默认今天；样例档案的数据截至2023年度，用 2024-06-30）"),
    ] = None,
    period: Annotated[int | None, typer.Option("--period", help="评价年度（默认评价日的上一年）")] = None,
    quarter: Annotated[
        str | None, typer.Option("--quarter", help="评价季度，如 2024Q2（按季度兑现的规则；同时设定评价年度）")
    ] = None,
    document: Annotated[list[str], typer.Option("--document", "-d", help="只评估这些文件（可重复）")] = [],  # noqa: B006
    reading: Annotated[list[str], typer.Option("--reading", "-r", help="切换口径 NAME=VALUE（可重复）")] = [],  # noqa: B006
    include_drafts: Annotated[bool, typer.Option("--include-drafts", help="包括征求意见稿")] = False,
    include_expired: Annotated[bool, typer.Option("--include-expired", help="包括已失效或未生效的文件")] = False,
    any_jurisdiction: Annotated[bool, typer.Option("--any-jurisdiction", help="忽略属地（比较各地政策时用）")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="表格中也列出不适用的规则")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="表格后附每条规则的完整解释")] = False,
    policies: PoliciesOption = None,
) -> None:
    """评估一个主体可享受的政策：每条规则的结果、金额（或上限）、条件明细与原文。

    例：huiqi evaluate examples/profiles/suzhou-software-firm.yaml --as-of 2024-06-30 --include-drafts --explain

    例：huiqi evaluate examples/profiles/guangzhou-software-firm.yaml --as-of 2024-06-30 -d guangzhou-software --format json
    """
    from huiqi.engine.evaluate import Engine, Options
    from huiqi.engine.profile import load_profile_file, parse_quarter
    from huiqi.present import evaluation_table

    try:
        base = _base(policies)
        engine = Engine(base)
        entity = load_profile_file(profile, base.catalogue)
        assessed_quarter = None
        if quarter is not None:
            period, assessed_quarter = parse_quarter(quarter, where="--quarter")
        options = Options(
            as_of=_parse_date(as_of),
            period=period,
            quarter=assessed_quarter,
            documents=tuple(document),
            readings=_parse_readings(reading),
            include_drafts=include_drafts,
            include_expired=include_expired,
            any_jurisdiction=any_jurisdiction,
        )
        result = engine.evaluate(entity, options)
    except HuiqiError as exc:
        _fail(exc)
        return
    note = _dates_note(entity.facts, result.as_of, result.period, today=as_of is None)
    if format is Format.json:
        if note:
            err.print(f"[dim]{note}[/]", highlight=False)
        _emit_json(result.to_json())
    else:
        if note:
            console.print(f"[dim]{note}[/]", highlight=False)
        console.print(evaluation_table(result, show_all=show_all, explain=explain))


def _dates_note(facts: dict[str, Any], as_of: dt.date, period: int, *, today: bool) -> str | None:
    """Where the evaluation date came from, and a warning when the profile's yearly data stop before the period."""
    parts = []
    if today:
        parts.append(f"未指定 --as-of：评价日为今天（{as_of.isoformat()}），评价年度为其上一年（{period}）。")
    years = [year for value in facts.values() if isinstance(value, dict) for year in value if isinstance(year, int)]
    latest = max(years, default=None)
    if latest is not None and latest < period:
        parts.append(
            f"档案的年度数据最晚为{latest}年度，早于评价年度{period}：按年度计算的条件会显示为需补充信息；"
            f"按{latest}年度评价请加 --as-of {latest + 1}-06-30。"
        )
    return "\n".join(parts) or None


@app.command()
def demo(
    policies: PoliciesOption = None,
    as_of: Annotated[
        str, typer.Option("--as-of", help="评价日（默认 2024-06-30：样例档案的数据截至2023年度）")
    ] = EXAMPLES_AS_OF,
) -> None:
    """演示：用随附的样例主体（huiqi examples）评估全部文件（含征求意见稿和已失效文件），打印结果表。

    例：huiqi demo --as-of 2024-06-30
    """
    from huiqi.engine.evaluate import Engine, Options
    from huiqi.engine.profile import load_profile_file
    from huiqi.present import evaluation_table

    try:
        base = _base(policies)
        engine = Engine(base)
        folder = default_examples_dir() / "profiles"
        paths = sorted(folder.glob("*.yaml"))
        if not paths:
            raise HuiqiError(f"没有找到样例档案：{folder}")
        for path in paths:
            entity = load_profile_file(path, base.catalogue)
            result = engine.evaluate(
                entity, Options(as_of=_parse_date(as_of), include_drafts=True, include_expired=True)
            )
            console.rule(f"[bold]{path.name}")
            console.print(evaluation_table(result))
    except HuiqiError as exc:
        _fail(exc)


@app.command()
def examples(
    copy: Annotated[
        Path | None, typer.Option("--copy", help="把全部样例复制到此目录（已有的同名文件不覆盖），以便修改")
    ] = None,
) -> None:
    """列出随 huiqi 提供的样例文件（主体档案、改革方案、预算）的完整路径。

    例：huiqi examples --copy 样例
    """
    folder = default_examples_dir()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in {".yaml", ".yml", ".json", ".txt"})
    if not files:
        _fail(HuiqiError(f"没有找到样例目录 {folder}：安装包可能不完整，请重新安装 huiqi"))
    if copy is None:
        for path in files:
            console.print(f"{path.parent.name}/{path.name}  {path}", highlight=False, soft_wrap=True)
        return
    kept = []
    for path in files:
        target = copy / path.relative_to(folder)
        if target.exists():
            kept.append(str(target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    console.print(f"[green]✔[/] 已复制 {len(files) - len(kept)} 个样例到 {copy}", highlight=False)
    if kept:
        console.print(f"未覆盖已有文件：{'、'.join(kept)}", highlight=False, soft_wrap=True)


@policies_app.command("list")
def policies_list(format: FormatOption = Format.table, policies: PoliciesOption = None) -> None:
    """列出政策库中的全部文件。  例：huiqi policies list --format json"""
    from huiqi.present import policies_table

    try:
        base = _base(policies)
    except HuiqiError as exc:
        _fail(exc)
        return
    if format is Format.json:
        from huiqi.policy.status import status_fields

        today = beijing.today()  # the declared status, and the status today (the engine's rule)
        _emit_json([{**d.policy.document.model_dump(mode="json"), **status_fields(d.policy.document, today)}
                    for d in base.documents.values()])  # fmt: skip
    else:
        console.print(policies_table(base))


@policies_app.command("show")
def policies_show(
    document_id: Annotated[str, typer.Argument(help="文件编号，见 huiqi policies list")],
    format: FormatOption = Format.table,
    policies: PoliciesOption = None,
) -> None:
    """显示一个文件的全部条款、类型、牵头单位和规则，以及文件规定的申报程序。  例：huiqi policies show zhejiang-software-bases"""
    from huiqi.present import procedure_table, provisions_table

    try:
        base = _base(policies)
        document = base.document(document_id)
    except HuiqiError as exc:
        _fail(exc)
        return
    if format is Format.json:
        _emit_json(document.policy.model_dump(mode="json"))
    else:
        console.print(provisions_table(base, document_id))
        for procedure in document.policy.procedures:
            console.print(procedure_table(procedure))


@policies_app.command("diff")
def policies_diff(
    document_id: Annotated[str, typer.Argument(help="文件编号，见 huiqi policies list")],
    from_version: Annotated[str | None, typer.Option("--from", help="原版本名（默认：现行版本之前的版本）")] = None,
    to_version: Annotated[str | None, typer.Option("--to", help="新版本名（默认：现行版本）")] = None,
    format: FormatOption = Format.table,
    policies: PoliciesOption = None,
) -> None:
    """列出文件两个版本之间的改动：文件信息、条款、规则、条件与金额。  文件须有 versions/ 下的旧版本（docs/authoring.md 第12节）；--from、--to 为版本名。"""
    from huiqi.policy.versions import diff_versions

    try:
        base = _base(policies)
        versions = base.versions_of(document_id)
        if len(versions) < 2 and from_version is None:
            raise PolicyError(f"文件 {document_id} 只有一个版本（没有 versions/ 目录），没有可比较的修订")
        new = base.document_version(document_id, to_version) if to_version else versions[-1]
        if from_version:
            old = base.document_version(document_id, from_version)
        else:
            index = versions.index(new)
            if index == 0:
                raise PolicyError(f"版本 {base.version_label(new)} 是最早的版本：请用 --from 指定要比较的版本")
            old = versions[index - 1]
    except HuiqiError as exc:
        _fail(exc)
        return
    changes = diff_versions(old, new)
    labels = (base.version_label(old), base.version_label(new))
    if format is Format.json:
        _emit_json({"document": document_id, "from": labels[0], "to": labels[1],
                    "changes": [c.to_json() for c in changes]})  # fmt: skip
        return
    console.print(f"{document_id}：{labels[0]} → {labels[1]}，{len(changes)} 处改动", highlight=False)
    for change in changes:
        console.print(f"  [{change.kind}] {change.where}：{change.text}", highlight=False, markup=False)


@policies_app.command("spans")
def policies_spans(
    document_id: Annotated[str | None, typer.Argument(help="文件编号（目录名）；省略则检查全部文件")] = None,
    write: Annotated[
        bool, typer.Option("--write", "-w", help="把找到的位置写入 policy.yaml（只改 span 的数字，保留注释与顺序）")
    ] = False,
    policies: PoliciesOption = None,
) -> None:
    """按引文在 source.txt 中的位置填写或修正 span；找不到的引文列出最接近的原文及不同之处。

    例：huiqi policies spans suzhou-software-cluster --write
    """
    from huiqi.errors import PolicyError
    from huiqi.policy.spans import plan, report_lines
    from huiqi.policy.spans import write as write_spans

    root = policies or default_policies_dir()
    if not root.is_dir():
        _fail(PolicyError(f"政策库目录 {root} 不存在或不是目录：--policies 应为政策库目录（含各文件的子目录）"))
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    if not any((folder / "policy.yaml").is_file() for folder in folders):
        _fail(PolicyError(f"{root} 中没有政策文件（<编号>/policy.yaml）：--policies 应为政策库目录"))
    if document_id is not None:
        if document_id not in {f.name for f in folders}:
            _fail(PolicyError(f"没有编号为 {document_id!r} 的文件；现有：{'、'.join(f.name for f in folders)}"))
        folders = [root / document_id]
    changes = problems = total = 0
    try:
        for folder in folders:
            report = plan(folder)
            for line in report_lines(report):
                console.print(line, highlight=False, markup=False)
            total += len(report.items)
            problems += len(report.problems)
            changes += write_spans(report) if write and report.changes else len(report.changes)
    except HuiqiError as exc:
        _fail(exc)
    if write and changes:
        console.print(f"已写入 {changes} 处 span")
    elif changes:
        console.print(f"{changes} 处 span 需要填写或修正：加 --write 写入 policy.yaml")
    if problems:
        console.print(f"{problems} 处引文在原文中找不到：请按上面列出的不同之处修改引文", highlight=False)
    if not changes and not problems:
        console.print(f"✔ 全部 {total} 处引文的 span 正确", highlight=False)
    if problems or (changes and not write):
        raise typer.Exit(1)


@app.command()
def facts(
    format: Annotated[
        FactsFormat, typer.Option("--format", "-f", help="输出格式：table、json 或 markdown")
    ] = FactsFormat.table,
    entity: Annotated[str | None, typer.Option("--entity", help="只列出某类主体的事实，如 enterprise")] = None,
    policies: PoliciesOption = None,
) -> None:
    """列出事实目录：键、中文名、类型、单位、期间、所属主体与定义。  例：huiqi facts --format json"""
    from huiqi.facts.catalogue import Catalogue
    from huiqi.present import facts_markdown, facts_table

    try:
        catalogue = _catalogue(policies)
    except HuiqiError as exc:
        _fail(exc)
        return
    chosen = [f for f in catalogue if entity is None or entity in {e.value for e in f.entity}]
    if format is FactsFormat.json:
        _emit_json([f.model_dump(mode="json", exclude={"source_file"}) for f in chosen])
    elif format is FactsFormat.markdown:
        sys.stdout.write(facts_markdown(chosen))
    else:
        console.print(facts_table(Catalogue({f.key: f for f in chosen})))


@app.command()
def validate(policies: PoliciesOption = None) -> None:
    """检查全部政策文件：结构、引文与原文一致、全文覆盖、表达式类型；错误以 文件:行 报告。"""
    try:
        base = _base(policies, strict=False)
    except HuiqiError as exc:
        _fail(exc)
        return
    if base.errors:
        for error in base.errors:
            where = f"{error.where}: " if error.where else ""
            err.print(f"[red]✘[/] {where}{error.message}", highlight=False)
        err.print(f"[bold red]{len(base.errors)} 处错误[/]")
        raise typer.Exit(1)
    provisions = sum(len(d.policy.provisions) for d in base.documents.values())
    rules = sum(len(p.rules) for d in base.documents.values() for p in d.policy.provisions)
    console.print(
        f"[green]✔[/] {len(base.documents)} 个文件、{provisions} 个条款、{rules} 条规则、{len(base.catalogue)} 项事实，全部通过检查"
    )


@app.command()
def cases(
    document: Annotated[str | None, typer.Option("--document", "-d", help="只运行一个文件的案例")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="列出每个案例")] = False,
    policies: PoliciesOption = None,
    generate: Annotated[
        str | None, typer.Option("--generate", help="为该文件按规则门槛生成待确认的案例（YAML 输出到标准输出）")
    ] = None,
) -> None:
    """运行各政策目录下 cases/*.yaml 中的案例，对比状态与金额。  例：huiqi cases -d guangzhou-software"""
    if generate is not None:
        from huiqi.cli_extract import print_generated_cases

        print_generated_cases(generate, policies)
        return
    from huiqi.cases import run_all
    from huiqi.engine.evaluate import Engine

    try:
        base = _base(policies, strict=False)
        for broken in sorted(base.broken):
            err.print(f"[yellow]跳过 {broken}：政策文件有错误，请先运行 huiqi validate[/]")
        for problem in base.errors:  # a document that did not load at all has no cases to run: say so
            where = f"{problem.where}: " if problem.where else ""
            err.print(f"[red]✘[/] {where}{problem.message}", highlight=False)
        engine = Engine(base)
        outcomes = run_all(engine, document)
    except HuiqiError as exc:
        _fail(exc)
        return
    failed = [o for o in outcomes if not o.passed]
    for outcome in outcomes:
        if verbose or not outcome.passed:
            mark = "[green]✔[/]" if outcome.passed else "[red]✘[/]"
            console.print(f"{mark} {outcome.where} {outcome.name}", highlight=False)
            for failure in outcome.failures:
                console.print(f"    {failure}", highlight=False)
    console.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    if failed or base.errors:
        raise typer.Exit(1)


@population_app.command("generate")
def population_generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录（写入 entities/history/ledger.parquet）")] = Path(
        "out/population"
    ),
    n: Annotated[int, typer.Option("--n", min=1, help="主体数量")] = 10_000,
    years: Annotated[int, typer.Option("--years", min=1, max=30, help="历史年数（截至评价年度）")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="随机种子（相同种子生成相同数据）")] = 1,
    period: Annotated[int, typer.Option("--period", help="评价年度（历史的最后一年）")] = 2023,
    policies: PoliciesOption = None,
) -> None:
    """生成合成的主体登记库（企业、园区、人才等及多年历史、奖励台账），分布见 docs/population.md。

    例：huiqi population generate --n 10000 --years 5 --seed 42 --out out/population
    """
    from rich.progress import Progress

    from huiqi.engine.evaluate import Engine
    from huiqi.population.generate import generate
    from huiqi.userfiles import prepare_output_dir

    try:
        engine = Engine(_base(policies))
        prepare_output_dir(out)
    except HuiqiError as exc:
        _fail(exc)
        return
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("生成中", total=n)
        counts = generate(engine, out, n=n, years=years, seed=seed, period=period,
                          progress=lambda done: progress.advance(task, done))  # fmt: skip
    console.print(
        f"[green]✔[/] {out}：{counts['entities']} 个主体、{counts['history']} 行年度历史、{counts['ledger']} 条台账记录"
    )


@population_app.command("import")
def population_import(
    entities: Annotated[
        Path,
        typer.Option(
            "--entities",
            help="主体表（.csv UTF-8/GBK、.xlsx 或 .xls），列：主体编号、主体类型、所在地区、事实的中文名或键，可带单位如 实缴注册资本（万元）",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录（写入 entities/history/ledger.parquet）")],
    history: Annotated[
        Path | None, typer.Option("--history", help="年度历史表：主体编号、年度、按年度的事实（中文名或键）")
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger", help="奖励台账：主体编号、规则、期间、金额、档次（或 entity_id、rule、period、amount、tier）"
        ),
    ] = None,
    money_unit: Annotated[str, typer.Option("--money-unit", help="未写单位的金额按此单位：元、万元或亿元")] = "元",
    policies: PoliciesOption = None,
) -> None:
    """把 CSV 或 Excel 登记表逐格检查后转换为人口数据（Parquet），供 huiqi simulate 使用。

    例：huiqi population import --entities examples/registry/企业.csv --history examples/registry/年度.csv --out out/registry
    """
    from huiqi.population.importer import import_population

    try:
        catalogue = _catalogue(policies)
        counts = import_population(
            catalogue, entities=entities, history=history, ledger=ledger, out=out, money_unit=money_unit
        )
    except HuiqiError as exc:
        _fail(exc)
        return
    console.print(
        f"[green]✔[/] {out}：{counts['entities']} 个主体、{counts['history']} 行年度历史、{counts['ledger']} 条台账记录"
    )


def main() -> None:  # pragma: no cover - console entry point
    app()


from huiqi.cli_platform import register_platform  # noqa: E402 - the platform's commands join the app last

register_platform(app)

from huiqi.cli_population import register_population  # noqa: E402 - the population commands join the app last

register_population(app)

from huiqi.cli_ask import register_ask  # noqa: E402 - the interactive calculator joins the app last

register_ask(app)

from huiqi.cli_extract import register_extract  # noqa: E402 - policy drafting from a text joins the app last

register_extract(app)
