"""One simulation run from start to files: what ``huiqi simulate`` and the 模拟测算 page both call.

The steps: open the population, settle the scenario, pick the documents (those named, the reform's, the
compared ones, or those in force on the evaluation day), evaluate (twice for a reform), add a budget
allocation, write every output into ``out`` (``outputs.write_report``). Progress is reported through
``progress``: called once with the number of steps, it gives back the function called after each document
evaluated (the command line draws a bar with it, the page shows the stage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from huiqi.compile.facts import facts_read
from huiqi.engine.evaluate import Engine
from huiqi.policy.base import PolicyBase

from .budget import Budget, budget_report
from .compare import compare_report
from .delta import reform_report
from .dimensions import DIMENSION_FACTS
from .outputs import write_report
from .reform import Reform, apply_reform
from .report import Report
from .session import PopulationSession, Progress
from .simulate import document_titles, left_out, resolve_scenario, select_documents
from .simulate import simulate as run_simulation

#: Given the number of steps, a context in which the step function reports each document evaluated.
ProgressFactory = Callable[[int], AbstractContextManager[Progress]]


@dataclass
class Plan:
    """What to run (the options of ``huiqi simulate``)."""

    population: Path
    documents: list[str] = field(default_factory=list)
    as_of: dt.date | None = None
    period: int | None = None
    quarter: int | None = None  # the assessed quarter (rules paid by quarter)
    readings: dict[str, str] = field(default_factory=dict)
    include_drafts: bool = False
    include_expired: bool = False
    any_jurisdiction: bool = False
    reform: Reform | None = None
    compare: list[str] | None = None
    budgets: list[Budget] | None = None
    spark_master: str | None = None
    #: evaluate with the compiled kernel (``huiqi.kernel``) where it compiles a document, SQL elsewhere
    kernel: bool = False
    memory_limit: str | None = None
    #: how the notes name the population (default: its folder), e.g. 上传的登记表 企业.csv
    population_label: str | None = None


def run_plan(
    plan: Plan, base: PolicyBase, engine: Engine, out: Path, *, progress: ProgressFactory | None = None
) -> tuple[Report, list[Path]]:
    """Run ``plan`` with the policy base ``base`` (and its ``engine``) and write the report into ``out``;
    returns the report and the files written. Errors are ``HuiqiError`` with a Chinese message."""
    reform_engine = Engine(apply_reform(base, plan.reform)) if plan.reform is not None else None
    facts = needed_facts(engine, reform_engine, plan.budgets)
    with PopulationSession(plan.population, engine, spark_master=plan.spark_master, memory_limit=plan.memory_limit,
                           facts=facts, kernel=plan.kernel) as session:  # fmt: skip
        scenario = resolve_scenario(session, engine, as_of=plan.as_of, period=plan.period, readings=plan.readings,
                                    any_jurisdiction=plan.any_jurisdiction or plan.compare is not None,
                                    quarter=plan.quarter)  # fmt: skip
        if plan.compare is not None:
            documents = select_documents(engine, plan.compare)
        elif plan.reform is not None:
            documents = select_documents(engine, plan.documents or plan.reform.documents)
        else:  # nothing named: the documents in force on the scenario's day, as evaluate does
            documents = select_documents(engine, plan.documents, on=scenario.as_of,
                                         include_drafts=plan.include_drafts,
                                         include_expired=plan.include_expired)  # fmt: skip
        named = plan.documents or plan.compare or plan.reform
        skipped = [] if named else left_out(engine, documents, scenario.as_of)
        runs = 2 if plan.reform is not None else 1
        steps = progress(len(documents) * runs) if progress is not None else nullcontext(_ignore)
        with steps as step:
            if plan.reform is not None and reform_engine is not None:
                _, budget_run, report = reform_report(session, engine, reform_engine, plan.reform, documents,
                                                      scenario, progress=step)  # fmt: skip
            elif plan.compare is not None:
                budget_run, report = compare_report(session, engine, documents, scenario, progress=step)
            else:
                budget_run, report = run_simulation(session, engine, documents, scenario, progress=step)
        if skipped:  # said with the documents, in the console and in every report file
            at = next((i + 1 for i, line in enumerate(report.notes) if line.startswith("文件：")), len(report.notes))
            report.notes[at:at] = [f"未纳入 {line}" for line in skipped]
        if plan.budgets is not None:
            report.extend(budget_report(session, budget_run, plan.budgets, base.catalogue,
                                        titles=document_titles(engine)))  # fmt: skip
        if plan.population_label is not None:
            report.notes = [line.replace(str(plan.population), plan.population_label) for line in report.notes]
        files = write_report(report, out, session.connection)
    return report, files


def needed_facts(engine: Engine, reform_engine: Engine | None, budgets: list[Budget] | None) -> set[str]:
    """The facts a run can read: those of every document (of the reformed base too), the ones the summaries
    break results down by (size band from revenue, industry) and a budget's ranking key. Only these columns
    are loaded from the population files."""
    engines = [engine] if reform_engine is None else [engine, reform_engine]
    facts = set().union(*(facts_read(e.documents.values(), e.catalogue) for e in engines))
    facts |= set(DIMENSION_FACTS)
    facts |= {budget.rank_by for budget in budgets or [] if budget.rank_by in engine.catalogue}
    return facts


def _ignore(document: str) -> None:
    return None
