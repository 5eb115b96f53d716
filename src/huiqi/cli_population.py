"""``huiqi simulate``: policies over a whole population — costs, reforms, comparisons and budgets.

Registered on the main ``huiqi`` app by ``register_population`` (the last lines of ``huiqi/cli.py``).
A thin layer over ``huiqi.population``: it reads the options, shows a progress bar (one step per
document evaluated), prints the headline tables and writes every output file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from huiqi.errors import HuiqiError
from huiqi.locations import default_policies_dir
from huiqi.terminal import output_console

# pyarrow, DuckDB and the engine are imported inside the command: `huiqi --help` never loads them.

console = output_console(soft_wrap=False)  # the width evaluate's tables use (huiqi.terminal)
err = Console(stderr=True, soft_wrap=True)

CONSOLE_ROWS = 40


def _fail(exc: HuiqiError) -> None:
    where = f"{exc.where}: " if exc.where else ""
    err.print(f"[bold red]错误[/]：{where}{exc.message}", highlight=False)
    raise typer.Exit(2)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[str], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("评估中", total=total)

        def step(document: str) -> None:
            progress.update(task, advance=1, description=f"已评估 {document}")

        yield step


def _print_report(report: object, out: Path, files: list[Path]) -> None:
    import pyarrow as pa
    from rich.table import Table as RichTable

    from huiqi.population.labels import column_label, display
    from huiqi.population.report import Report

    assert isinstance(report, Report)
    console.print(f"[bold]{report.title}[/]", highlight=False)
    for line in report.notes:
        console.print(f"  {line}", highlight=False)
    for table in report.tables:
        if not table.console:
            continue
        view = RichTable(title=table.title, title_justify="left", show_lines=False)
        for name in table.console:
            numeric = name.endswith("_fen") or pa.types.is_integer(table.data.schema.field(name).type)
            view.add_column(column_label(name), justify="right" if numeric else "left")
        rows = table.data.to_pylist()
        for row in rows[:CONSOLE_ROWS]:
            view.add_row(*(display(name, row[name]) for name in table.console))
        console.print(view)
        if len(rows) > CONSOLE_ROWS:
            console.print(f"  （共 {len(rows)} 行，完整表格见 {table.name}.csv）", highlight=False)
    charts = sum(1 for f in files if f.suffix == ".png")
    console.print(
        f"[green]✔[/] 已写入 {out}：summary.xlsx、report.html、{len(files) - charts - 2} 个 Parquet/CSV 文件、{charts} 张图",
        highlight=False,
    )


def simulate(
    population: Annotated[
        Path, typer.Option("--population", "-p", help="人口数据目录（entities/history/ledger.parquet）")
    ],
    document: Annotated[list[str], typer.Option("--document", "-d", help="只评估这些文件（可重复）")] = [],  # noqa: B006
    as_of: Annotated[str | None, typer.Option("--as-of", help="评价日 YYYY-MM-DD（默认评价年度次年6月30日）")] = None,
    period: Annotated[
        int | None, typer.Option("--period", help="评价年度（默认评价日的上一年，或历史数据的最后一年）")
    ] = None,
    quarter: Annotated[
        str | None, typer.Option("--quarter", help="评价季度，如 2024Q2（按季度兑现的政策；同时设定评价年度）")
    ] = None,
    reading: Annotated[list[str], typer.Option("--reading", "-r", help="切换口径 NAME=VALUE（可重复）")] = [],  # noqa: B006
    include_drafts: Annotated[
        bool, typer.Option("--include-drafts", help="包括征求意见稿（未用 -d、--compare 或 --reform 指定文件时）")
    ] = False,
    include_expired: Annotated[
        bool, typer.Option("--include-expired", help="包括已失效或未生效的文件（同上）")
    ] = False,
    any_jurisdiction: Annotated[bool, typer.Option("--any-jurisdiction", help="忽略属地")] = False,
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录")] = Path("out/simulation"),
    reform: Annotated[
        Path | None, typer.Option("--reform", help="改革方案 YAML：与现行政策逐条款对比（默认只评估方案涉及的文件）")
    ] = None,
    compare: Annotated[str | None, typer.Option("--compare", help="并列比较这些文件（逗号分隔，忽略属地）")] = None,
    budget: Annotated[Path | None, typer.Option("--budget", help="预算 YAML：需求、超额与分配")] = None,
    policies: Annotated[
        Path | None, typer.Option("--policies", help="政策库目录（默认：项目的 policies/ 或 $HUIQI_POLICIES）")
    ] = None,
    engine_name: Annotated[
        str,
        typer.Option(
            "--engine",
            help="规则计算引擎：duckdb（进程内，默认）、spark（汇总仍由 DuckDB 完成）或 kernel（编译内核，需 numba；"
            "不能编译的文件仍由 DuckDB 计算，报告中注明）",
        ),
    ] = "duckdb",
    spark_master: Annotated[
        str, typer.Option("--spark-master", help="Spark master：local[2]（本机）或集群地址 spark://host:7077")
    ] = "local[2]",
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="DuckDB 内存上限，如 4GB；超出部分写入临时目录而不中断"
            "（编译内核 kernel 另需约 1GB，存放每次 25 万个主体的输入）",
        ),
    ] = None,
) -> None:
    """在一个主体总体上模拟政策：受益主体数、资金（确定金额与上限）、按规模/区县/行业的分布；可做改革对比、多文件比较和预算分配。
    结果写为 Parquet、CSV、Excel、PNG 图和一页 HTML 报告（金额以整数分计算；表格、Excel 和图以万元显示，CSV 为精确到分的元）。

    例：huiqi simulate --population out/population --out out/simulation

    例：huiqi simulate -p out/population --reform examples/reforms/suzhou-threshold.yaml

    例：huiqi simulate -p out/population --compare suzhou-software-cluster,guangzhou-software,xinjiang-2017-software

    例：huiqi simulate -p out/population -d suzhou-software-cluster --budget examples/budgets/suzhou.yaml
    """
    from huiqi.cli import _parse_date, _parse_readings
    from huiqi.engine.evaluate import Engine
    from huiqi.policy.base import PolicyBase
    from huiqi.population.budget import load_budgets
    from huiqi.population.pipeline import Plan, run_plan
    from huiqi.population.reform import load_reform
    from huiqi.userfiles import prepare_output_dir

    if reform is not None and compare is not None:
        raise typer.BadParameter("--reform 与 --compare 不能同时使用", param_hint="--compare")
    if engine_name not in ("duckdb", "spark", "kernel"):
        raise typer.BadParameter(f"未知的引擎 {engine_name!r}：可选 duckdb、spark 或 kernel", param_hint="--engine")
    readings = _parse_readings(reading)
    try:
        assessed_quarter = None
        if quarter is not None:
            from huiqi.engine.profile import parse_quarter

            period, assessed_quarter = parse_quarter(quarter, where="--quarter")
        base = PolicyBase.load(policies or default_policies_dir())
        day = _parse_date(as_of) if as_of else dt.date(period + 1, 6, 30) if period is not None else None
        if day is not None:  # an amended document: the version in force on the scenario's day (authoring.md §12)
            base = base.as_of(day)
        engine = Engine(base)
        plan = Plan(
            population, documents=list(document), as_of=_parse_date(as_of) if as_of else None, period=period,
            quarter=assessed_quarter, readings=readings, include_drafts=include_drafts, include_expired=include_expired,
            any_jurisdiction=any_jurisdiction, reform=load_reform(reform) if reform is not None else None,
            compare=[d.strip() for d in compare.split(",") if d.strip()] if compare is not None else None,
            budgets=load_budgets(budget) if budget is not None else None,
            spark_master=spark_master if engine_name == "spark" else None, memory_limit=memory_limit,
            kernel=engine_name == "kernel",
        )  # fmt: skip
        prepare_output_dir(out)  # before the run: a file in the way is said at once
        report, files = run_plan(plan, base, engine, out, progress=_progress)
    except HuiqiError as exc:
        _fail(exc)
        return
    _print_report(report, out, files)


def register_population(app: typer.Typer) -> None:
    """Add ``simulate`` to the main app."""
    app.command("simulate")(simulate)
