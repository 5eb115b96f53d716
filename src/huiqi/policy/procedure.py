"""The procedure as data: who applies and through whom, the review, quotas, 公示, reports, deadlines and funding.

A policy file's ``procedures:`` list states, for the provisions a call is opened under, the procedure the
text prescribes — every item with the words of the text it comes from (``quote``, inside the provision
named by ``provision``, or anywhere in ``source.txt`` without one). ``huiqi validate`` checks the block
(``check_procedures``); ``stated_call_fields`` turns it into the fields of a call (``CallSpec``), which
``huiqi.workflow.calls.open_call`` takes for every field the official leaves out and records every field
that differs from it (docs/authoring.md "Procedure", docs/platform.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from huiqi.errors import HuiqiError, PolicyError
from huiqi.regions import check_region_name

if TYPE_CHECKING:
    from huiqi.policy.models import PolicyFile

#: The review modes of the platform's calls (the same values as ``CallSpec.review_mode``).
REVIEW_MODES: dict[str, str] = {
    "none": "无需审查（提交即受理）",
    "formal": "形式审查",
    "expert": "专家评审",
    "competitive": "竞争性评审（按名额择优）",
}
DAY_KINDS: dict[str, str] = {"calendar": "自然日", "working": "工作日"}
LEVELS: dict[str, str] = {"nation": "国家", "province": "省级", "city": "市级", "county": "县级", "entity": "申报主体"}
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


def month_day_problem(item: str) -> str | None:
    """Why ``item`` is not a due date (MM-DD) that exists every year, or None.

    >>> month_day_problem("06-30") is None
    True
    >>> month_day_problem("6月底")
    "日期应写成 MM-DD，如 06-30，得到 '6月底'"
    """
    if not _MONTH_DAY.match(item):
        return f"日期应写成 MM-DD，如 06-30，得到 {item!r}"
    month, day = int(item[:2]), int(item[3:])
    if (month, day) == (2, 29):
        return "02-29 只有闰年才有，平年没有这一天：请改用 02-28 或 03-01"
    try:
        dt.date(2001, month, day)  # a common year: the date must exist in every year
    except ValueError:
        return f"{item} 不存在：{month}月没有{day}日"
    return None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Model):
    """An item stated by the text: the words it comes from, inside a provision (or anywhere in the text)."""

    provision: str | None = None
    quote: str = Field(min_length=1)


class Applicant(Cited):
    """Who applies (申报主体)."""

    entity: Literal["enterprise", "park_operator", "talent", "institution", "project", "local_government"]
    who: str = Field(min_length=1)


class RouteStep(Cited):
    """One step of the way an application travels (county → city → province)."""

    level: Literal["nation", "province", "city", "county", "entity"]
    unit: str = Field(min_length=1)
    action: str = Field(min_length=1)


class Review(Cited):
    """How applications are reviewed: one of the platform's review modes."""

    mode: Literal["none", "formal", "expert", "competitive"]
    by: str | None = None


class Quota(Cited):
    """名额: how many may be selected in a category in a year."""

    year: int = Field(ge=1990, le=2200)
    category: str = Field(min_length=1)
    count: int = Field(ge=1)
    rule: str | None = None  # "provision/rule" that pays this category


class Publicity(Cited):
    """公示: its length in calendar or working days (or the reading that decides which)."""

    days: int = Field(ge=0, le=60)
    day_kind: Literal["calendar", "working"] | None = None
    reading: str | None = None
    channel: str | None = None

    @model_validator(mode="after")
    def _kind_or_reading(self) -> Publicity:
        if self.day_kind is None and self.reading is None:
            raise ValueError("公示须写明 day_kind（calendar 自然日 / working 工作日），或用 reading 指定决定它的口径")
        if self.day_kind is not None and self.reading is not None:
            raise ValueError("day_kind 与 reading 只能写一个：口径已决定按自然日还是工作日计算，请删除 day_kind")
        return self


class Reports(Cited):
    """Reports due every year on these days (MM-DD), for ``years`` years when the text says."""

    due: list[str] = Field(min_length=1)
    years: int | None = Field(default=None, ge=1, le=10)

    @field_validator("due")
    @classmethod
    def _due(cls, value: list[str]) -> list[str]:
        for item in value:
            problem = month_day_problem(item)
            if problem:
                raise ValueError(f"报告截止日 {problem}")
        if len(set(value)) != len(value):
            raise ValueError("报告截止日不能重复")
        return sorted(value)


class Materials(Cited):
    """申报材料 the text requires."""

    items: list[str] = Field(min_length=1)

    @field_validator("items")
    @classmethod
    def _items(cls, value: list[str]) -> list[str]:
        names = [v.strip() for v in value]
        if any(not n or len(n) > 100 for n in names) or len(set(names)) != len(names):
            raise ValueError("材料名称不能为空、不能超过100字、不能重复")
        return names


class Deadline(Cited):
    """The closing day of a year's applications, when the text fixes one."""

    year: int = Field(ge=1990, le=2200)
    closes_on: dt.date


class FundingException(Cited):
    """A place whose applications another payer funds (宁波市申报的项目由宁波市财政落实资金)."""

    region: str = Field(min_length=1)
    payer: str = Field(min_length=1, max_length=100)


class Funding(Cited):
    """Who pays, and the exceptions."""

    payer: str = Field(min_length=1, max_length=100)
    exceptions: list[FundingException] = Field(default_factory=list)


class Procedure(_Model):
    """The procedure of a call opened under ``provisions``."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    label: str = Field(min_length=1)
    provisions: list[str] = Field(min_length=1)
    applicant: Applicant | None = None
    route: list[RouteStep] = Field(default_factory=list)
    review: Review | None = None
    quotas: list[Quota] = Field(default_factory=list)
    publicity: Publicity | None = None
    reports: Reports | None = None
    materials: Materials | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    funding: Funding | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Procedure:
        seen: set[tuple[int, str]] = set()
        for quota in self.quotas:
            if (quota.year, quota.category) in seen:
                raise ValueError(f"名额重复：{quota.year}年“{quota.category}”写了不止一次")
            seen.add((quota.year, quota.category))
        years = [d.year for d in self.deadlines]
        if len(set(years)) != len(years):
            raise ValueError("申报截止日重复：同一年度只能有一个截止日")
        if len(set(self.provisions)) != len(self.provisions):
            raise ValueError("provisions 中有重复的条款")
        return self

    # -- what it says -----------------------------------------------------------------------------------

    def quota_for(self, year: int) -> list[Quota]:
        return [q for q in self.quotas if q.year == year]

    def quota_years(self) -> list[int]:
        return sorted({q.year for q in self.quotas})


@dataclass(frozen=True)
class Stated:
    """A field of a call as the procedure states it, with its source."""

    field: str
    value: Any
    text: str  # the value in words (中文)
    provision: str | None
    quote: str


def day_kind_of(publicity: Publicity, readings: dict[str, str]) -> str:
    """The 公示 day kind: the named reading's value (from the call's readings, else the default)."""
    if publicity.day_kind is not None:
        return publicity.day_kind
    assert publicity.reading is not None
    return readings[publicity.reading]


def stated_call_fields(procedure: Procedure, *, period: int | None, readings: dict[str, str]) -> dict[str, Stated]:
    """The call fields the procedure fixes (``CallSpec`` names), for a call of ``period`` under ``readings``
    (``readings``: key → value for every reading of the document, defaults included)."""
    out: dict[str, Stated] = {}
    if procedure.review is not None:
        review = procedure.review
        out["review_mode"] = Stated("review_mode", review.mode, REVIEW_MODES[review.mode], review.provision,
                                    review.quote)  # fmt: skip
    if period is not None and procedure.quota_for(period):
        quotas = procedure.quota_for(period)
        total = sum(q.count for q in quotas)
        words = "、".join(f"{q.category}{q.count}个" for q in quotas)
        out["quota"] = Stated("quota", total, f"{period}年共{total}个（{words}）", quotas[0].provision,
                              "；".join(dict.fromkeys(q.quote for q in quotas)))  # fmt: skip
    if procedure.publicity is not None:
        publicity = procedure.publicity
        kind = day_kind_of(publicity, readings)
        via = f"，按口径 {publicity.reading}" if publicity.reading else ""
        out["publicity_days"] = Stated("publicity_days", publicity.days, f"{publicity.days}天", publicity.provision,
                                       publicity.quote)  # fmt: skip
        out["publicity_day_kind"] = Stated("publicity_day_kind", kind, f"{DAY_KINDS[kind]}{via}",
                                           publicity.provision, publicity.quote)  # fmt: skip
    if procedure.reports is not None:
        reports = procedure.reports
        out["report_due"] = Stated("report_due", list(reports.due), "每年 " + "、".join(reports.due), reports.provision,
                                   reports.quote)  # fmt: skip
        if reports.years is not None:
            out["report_years"] = Stated("report_years", reports.years, f"{reports.years}年", reports.provision,
                                         reports.quote)  # fmt: skip
    if procedure.materials is not None:
        materials = procedure.materials
        out["materials"] = Stated("materials", list(materials.items), "、".join(materials.items),
                                  materials.provision, materials.quote)  # fmt: skip
    if period is not None:
        for deadline in procedure.deadlines:
            if deadline.year == period:
                out["closes_on"] = Stated("closes_on", deadline.closes_on, deadline.closes_on.isoformat(),
                                          deadline.provision, deadline.quote)  # fmt: skip
    if procedure.funding is not None:
        funding = procedure.funding
        out["payer"] = Stated("payer", funding.payer, funding.payer, funding.provision, funding.quote)
    return out


def procedure_of(policy: PolicyFile, provisions: list[str]) -> Procedure | None:
    """The procedure that governs a call under ``provisions``: the one naming the first of them that any names."""
    for provision in provisions:
        for procedure in policy.procedures:
            if provision in procedure.provisions:
                return procedure
    return None


def procedure_json(procedure: Procedure) -> dict[str, Any]:
    """The procedure as plain JSON (what a call records it was opened against)."""
    return procedure.model_dump(mode="json", exclude_none=True)


def describe(procedure: Procedure) -> list[tuple[str, str, Cited | None]]:
    """The procedure in words, line by line: (heading, text, the cited item) — for `policies show` and the pages."""
    lines: list[tuple[str, str, Cited | None]] = []
    if procedure.applicant is not None:
        lines.append(("申报主体", procedure.applicant.who, procedure.applicant))
    for index, step in enumerate(procedure.route, start=1):
        lines.append((f"申报路径 {index}", f"{LEVELS[step.level]}·{step.unit}：{step.action}", step))
    if procedure.review is not None:
        by = f"（{procedure.review.by}）" if procedure.review.by else ""
        lines.append(("评审方式", REVIEW_MODES[procedure.review.mode] + by, procedure.review))
    for quota in procedure.quotas:
        pays = f"，对应规则 {quota.rule}" if quota.rule else ""
        lines.append(("名额", f"{quota.year}年 {quota.category} {quota.count}个{pays}", quota))
    if procedure.publicity is not None:
        p = procedure.publicity
        kind = DAY_KINDS[p.day_kind] if p.day_kind else f"按口径 {p.reading}"
        channel = f"，渠道：{p.channel}" if p.channel else ""
        lines.append(("公示", f"{p.days}天（{kind}）{channel}", p))
    if procedure.reports is not None:
        r = procedure.reports
        years = f"，共{r.years}年" if r.years else ""
        lines.append(("报告截止日", "每年 " + "、".join(r.due) + years, r))
    if procedure.materials is not None:
        lines.append(("申报材料", "、".join(procedure.materials.items), procedure.materials))
    for deadline in procedure.deadlines:
        lines.append(("申报截止日", f"{deadline.year}年度：{deadline.closes_on.isoformat()}", deadline))
    if procedure.funding is not None:
        f = procedure.funding
        lines.append(("资金来源", f.payer, f))
        for exception in f.exceptions:
            lines.append(("资金来源例外", f"{exception.region}申报的项目：{exception.payer}", exception))
    return lines


def check_procedures(
    policy: PolicyFile, source: str, where: Callable[..., str]
) -> list[HuiqiError]:  # fmt: skip
    """The checks that need the rest of the file: provisions and rules exist, quotes are in the text, the
    reading decides calendar or working days, regions are real, one procedure per provision."""
    errors: list[HuiqiError] = []
    provisions = {p.id: p for p in policy.provisions}
    rule_refs = {f"{p.id}/{r.id}" for p in policy.provisions for r in p.rules}
    readings = {r.key: r for r in policy.readings}
    governed: dict[str, str] = {}
    ids: set[str] = set()
    for index, procedure in enumerate(policy.procedures):
        path: tuple[str | int, ...] = ("procedures", index)
        if procedure.id in ids:
            errors.append(PolicyError(f"程序编号 {procedure.id!r} 重复", where=where(*path, "id")))
        ids.add(procedure.id)
        for p_index, provision_id in enumerate(procedure.provisions):
            ppath = (*path, "provisions", p_index)
            provision = provisions.get(provision_id)
            if provision is None:
                errors.append(PolicyError(f"程序所属条款 {provision_id!r} 不存在", where=where(*ppath)))
            elif not provision.rules:
                errors.append(
                    PolicyError(
                        f"条款 {provision_id} 没有规则，不能据以发布申报批次：provisions 应列出申报所依据的可计算条款"
                        "（程序本身所在的条款写在各项的 provision 中）",
                        where=where(*ppath),
                    )
                )
            elif provision_id in governed:
                errors.append(
                    PolicyError(
                        f"条款 {provision_id} 已属于程序 {governed[provision_id]!r}：一个条款只能有一个申报程序",
                        where=where(*ppath),
                    )
                )
            governed.setdefault(provision_id, procedure.id)
        for item, ipath in _cited(procedure, path):
            if item.provision is not None:
                provision = provisions.get(item.provision)
                if provision is None:
                    errors.append(PolicyError(f"provision 引用了不存在的条款 {item.provision!r}", where=where(*ipath)))
                elif item.quote not in provision.quote:
                    errors.append(
                        PolicyError(
                            f"quote 的引文在条款 {item.provision} 的引文中找不到：引文应逐字摘自该条款",
                            where=where(*ipath),
                        )
                    )
            elif item.quote not in source:
                errors.append(
                    PolicyError("quote 的引文在原文（source.txt）中找不到：引文应逐字摘自原文", where=where(*ipath))
                )
        for q_index, quota in enumerate(procedure.quotas):
            if quota.rule is not None:
                if quota.rule not in rule_refs:
                    errors.append(PolicyError(f"名额对应的规则 {quota.rule!r} 不存在（格式：条款编号/规则编号）",
                                              where=where(*path, "quotas", q_index)))  # fmt: skip
                elif quota.rule.split("/", 1)[0] not in procedure.provisions:
                    errors.append(PolicyError(f"名额对应的规则 {quota.rule} 不属于本程序的条款 "
                                              f"{'、'.join(procedure.provisions)}", where=where(*path, "quotas", q_index)))  # fmt: skip
        publicity = procedure.publicity
        if publicity is not None and publicity.reading is not None:
            reading = readings.get(publicity.reading)
            if reading is None:
                errors.append(PolicyError(f"公示的 reading 引用了不存在的口径 {publicity.reading!r}",
                                          where=where(*path, "publicity")))  # fmt: skip
            else:
                odd = [o.value for o in reading.options if o.value not in DAY_KINDS]
                if odd:
                    errors.append(
                        PolicyError(
                            f"口径 {reading.key} 的选项 {'、'.join(odd)} 不是 calendar（自然日）或 working（工作日）："
                            "决定公示天数计算方式的口径只能有这两个选项",
                            where=where(*path, "publicity"),
                        )
                    )
        if procedure.funding is not None:
            for e_index, exception in enumerate(procedure.funding.exceptions):
                problem = check_region_name(exception.region)
                if problem:
                    errors.append(PolicyError(problem, where=where(*path, "funding", "exceptions", e_index)))
    return errors


def _cited(procedure: Procedure, path: tuple[str | int, ...]) -> list[tuple[Cited, tuple[str | int, ...]]]:
    out: list[tuple[Cited, tuple[str | int, ...]]] = []
    for name in ("applicant", "review", "publicity", "reports", "materials", "funding"):
        item = getattr(procedure, name)
        if item is not None:
            out.append((item, (*path, name)))
    for name in ("route", "quotas", "deadlines"):
        out += [(item, (*path, name, i)) for i, item in enumerate(getattr(procedure, name))]
    if procedure.funding is not None:
        out += [(e, (*path, "funding", "exceptions", i)) for i, e in enumerate(procedure.funding.exceptions)]
    return out
